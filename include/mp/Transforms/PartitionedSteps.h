//===- PartitionedSteps.h - Steps the late passes rewrite -------*- C++ -*-===//
//
// The passes that run after --mp-spmd (grouping, pipelining, coalescing,
// scheduling, narrowing, chunking) rewrite only the partitioned
// functions, and only those with one block: their straight-line order is
// the step's order of collectives.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRANSFORMS_PARTITIONEDSTEPS_H
#define MP_TRANSFORMS_PARTITIONEDSTEPS_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mp/Dialect/MP/IR/MPDialect.h"

namespace mp {

/// Calls `fn` on each partitioned single-block function under `root`, in
/// program order; all are found before the first call, so `fn` may
/// rewrite the function it is given.
inline void
forEachPartitionedStep(mlir::Operation *root,
                       llvm::function_ref<void(mlir::FunctionOpInterface)> fn) {
  llvm::SmallVector<mlir::FunctionOpInterface> steps;
  root->walk([&](mlir::FunctionOpInterface func) {
    if (!func.isExternal() && func.getFunctionBody().hasOneBlock() &&
        func->hasAttr(MPDialect::kPartitionedAttrName))
      steps.push_back(func);
  });
  for (mlir::FunctionOpInterface func : steps)
    fn(func);
}

/// Whether a late pass has placed or grouped `op` (`mp.async`,
/// `mp.coalesced`, `mp.fsdp_group`): another pass run after it must not
/// move it, regroup it or read its result early.
inline bool isPlacedByLatePass(mlir::Operation *op) {
  return op->hasAttr(MPDialect::kAsyncAttrName) ||
         op->hasAttr(MPDialect::kCoalescedAttrName) ||
         op->hasAttr(MPDialect::kFsdpGroupAttrName);
}

} // namespace mp

#endif // MP_TRANSFORMS_PARTITIONEDSTEPS_H
