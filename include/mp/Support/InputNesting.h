//===- InputNesting.h - bound the nesting of MLIR text before parsing -*- C++
//-*-===//
//
// MLIR's parser recurses once per nested bracket (`[[[...`, `tuple<tuple<`,
// regions), so a file nesting some ten thousand levels overflows the stack
// and the tool dies with SIGSEGV. The tools scan their input first and refuse
// nesting deeper than any model needs with a located error.
//
//===----------------------------------------------------------------------===//

#ifndef MP_SUPPORT_INPUTNESTING_H
#define MP_SUPPORT_INPUTNESTING_H

#include "mlir/Support/LLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

namespace mp {

/// Real models nest a few levels (a tensor constant's rank, a region or
/// two); the parser survives several thousand on a default stack.
constexpr unsigned kMaxInputNesting = 1000;

/// Checks that brackets in the MLIR text of `buffer` (the main buffer of
/// `sourceMgr`) nest at most kMaxInputNesting deep, outside strings and
/// comments; prints a located error through `sourceMgr` when not.
mlir::LogicalResult checkInputNesting(llvm::SourceMgr &sourceMgr);

/// The same for the file at `path` ("-" reads nothing and passes: standard
/// input cannot be read twice).
mlir::LogicalResult checkInputFileNesting(llvm::StringRef path);

} // namespace mp

#endif // MP_SUPPORT_INPUTNESTING_H
