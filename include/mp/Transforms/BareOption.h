//===- BareOption.h - a pass's main option given bare -----------*- C++ -*-===//
//
// `--mp-apply-plan=plan.json` for `--mp-apply-plan=plan-file=plan.json`: the
// passes whose one option is nearly always given override
// Pass::initializeOptions with expandBareOption, so the shorthand is the
// pass's own and works wherever the pass is named.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRANSFORMS_BAREOPTION_H
#define MP_TRANSFORMS_BAREOPTION_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <string>

namespace mp {

/// A pass's options string with a bare value (no `=`) taken as the value
/// of `option`; a `key=value` list, or nothing, stays as it is.
inline std::string expandBareOption(llvm::StringRef options,
                                    llvm::StringRef option) {
  if (options.empty() || options.contains('='))
    return options.str();
  return (option + "=" + options).str();
}

} // namespace mp

#endif // MP_TRANSFORMS_BAREOPTION_H
