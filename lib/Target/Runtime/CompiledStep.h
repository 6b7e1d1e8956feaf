//===- CompiledStep.h - a lowered function and its manifest -----*- C++ -*-===//

#ifndef MP_LIB_TARGET_RUNTIME_COMPILEDSTEP_H
#define MP_LIB_TARGET_RUNTIME_COMPILEDSTEP_H

#include "StepManifest.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mp {

/// The largest rank the header's mp_step_tensor shapes hold.
constexpr size_t kMaxHeaderRank = 8;

/// A function `--mp-lower-to-runtime` lowered, with its manifest as text
/// and parsed.
struct CompiledStep {
  std::string name;
  train::StepManifest manifest;
  std::string manifestText;
};

/// Writes the C header declaring `steps` (StepHeader.cpp).
void writeStepHeader(llvm::raw_ostream &os,
                     const std::vector<CompiledStep> &steps);

} // namespace mp

#endif // MP_LIB_TARGET_RUNTIME_COMPILEDSTEP_H
