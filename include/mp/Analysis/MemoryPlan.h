//===- MemoryPlan.h - a static per-rank memory plan -------------*- C++ -*-===//
//
// The buffers a partitioned function needs on each rank, laid out before it
// runs: arguments (parameters, optimizer state, the batch) are persistent;
// every value an op produces gets an offset in one arena, assigned in
// program order by first fit over the values live at that point, so buffers
// whose values are dead are reused. The arena's size is the per-rank peak
// of temporaries; the lowering to the runtime allocates exactly that.
//
//===----------------------------------------------------------------------===//

#ifndef MP_ANALYSIS_MEMORYPLAN_H
#define MP_ANALYSIS_MEMORYPLAN_H

#include "mlir/IR/Value.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseMap.h"

namespace mp {

struct MemoryPlan {
  /// Buffers start at multiples of this many bytes.
  static constexpr int64_t kAlignment = 64;

  struct Buffer {
    int64_t offset;
    int64_t bytes;
    /// Program positions (op indices) of the definition and the last use.
    int64_t begin, end;
  };

  /// Arena buffers by value.
  llvm::DenseMap<mlir::Value, Buffer> buffers;
  /// Bytes of the function's arguments on this rank.
  int64_t persistentBytes = 0;
  /// Size of the arena: the peak of simultaneously live temporaries.
  int64_t arenaBytes = 0;
  /// What the temporaries would take without reuse.
  int64_t unpooledBytes = 0;

  /// Plans `func` (one block; the types are the per-rank ones).
  static MemoryPlan build(mlir::FunctionOpInterface func);
};

} // namespace mp

#endif // MP_ANALYSIS_MEMORYPLAN_H
