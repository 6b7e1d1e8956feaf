//===- FuseOptimizer.cpp - every optimizer update in one call -------------===//
//
// The training step updates each parameter where its gradient is ready, one
// mp_adamw_f32 or mp_sgd_f32 call (one kernel launch on CUDA) per
// parameter. PyTorch's fused optimizers update the whole tensor list in one
// launch. This pass moves every update whose results only the step returns
// to the end of the step, in program order, where they are adjacent; the
// lowering runs each run of adjacent updates of one kind with the same
// hyperparameters as one mp_adamw_multi_f32 or mp_sgd_multi_f32 call
// (MemoryPlan::optimizerRuns). The gradients then live until the end of
// the step, which the memory plan counts.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_FUSEOPTIMIZER
#include "mp/Transforms/Passes.h.inc"

namespace {

struct FuseOptimizerPass : impl::FuseOptimizerBase<FuseOptimizerPass> {
  void runOnOperation() override {
    getOperation().walk([&](FunctionOpInterface func) {
      if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
        return;
      Operation *terminator = func.getFunctionBody().front().getTerminator();
      SmallVector<Operation *> updates;
      func.walk([&](OptimizerOpInterface update) {
        if (llvm::all_of(update->getUsers(),
                         [&](Operation *user) { return user == terminator; }))
          updates.push_back(update);
      });
      for (Operation *update : updates)
        update->moveBefore(terminator);
    });
  }
};

} // namespace
} // namespace mp
