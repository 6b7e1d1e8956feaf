//===- CollectiveSteps.h - what a collective does to a value ----*- C++ -*-===//
//
// The answers of CollectiveOpInterface (MPInterfaces.td): the steps a
// collective takes on each group's value, and the runtime call that runs it.
//
//===----------------------------------------------------------------------===//

#ifndef MP_DIALECT_MP_IR_COLLECTIVESTEPS_H
#define MP_DIALECT_MP_IR_COLLECTIVESTEPS_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mp {

/// What a collective does to the value of each group of ranks, in order:
/// sum the members' values or concatenate them along `gatherDim` (in group
/// order), then leave member i the i-th piece of `sliceDim`.
struct CollectiveSteps {
  bool sums = false;
  std::optional<int64_t> gatherDim;
  std::optional<int64_t> sliceDim;

  /// True if data moves between ranks: all but a lone slice.
  bool communicates() const { return sums || gatherDim.has_value(); }
};

/// How mp_runtime.h runs a collective.
struct RuntimeCollectiveCall {
  /// The function, such as "mp_all_gather".
  llvm::StringRef function;
  /// In place on a buffer of `count` elements (mp_all_reduce), rather than
  /// from `in` to `out` given the local shape.
  bool inPlace = false;
  /// The dims the call takes after the shape, in its order.
  llvm::SmallVector<int64_t, 2> dims;
};

} // namespace mp

#endif // MP_DIALECT_MP_IR_COLLECTIVESTEPS_H
