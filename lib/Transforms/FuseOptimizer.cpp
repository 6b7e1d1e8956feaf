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
// First it folds the gradient's last producer into the update where that
// is a multiplication by one scalar (gradient clipping's coefficient): the
// update reads the unscaled gradient and the scalar, so the scaled copy is
// never written and read back.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_FUSEOPTIMIZER
#include "mp/Transforms/Passes.h.inc"

namespace {

/// The float32 scalar `factor` repeats, if it is one: a rank-0 tensor, a
/// broadcast of one, or a splat constant (rebuilt as a rank-0 constant
/// before `update`).
Value getScalarFactor(Value factor, Operation *update) {
  auto scalarType =
      RankedTensorType::get({}, Float32Type::get(update->getContext()));
  if (factor.getType() == scalarType)
    return factor;
  if (auto broadcast = factor.getDefiningOp<BroadcastOp>())
    return broadcast.getInput().getType() == scalarType ? broadcast.getInput()
                                                        : Value();
  DenseFPElementsAttr splat;
  if (!matchPattern(factor, m_Constant(&splat)) || !splat.isSplat() ||
      !splat.getElementType().isF32())
    return {};
  OpBuilder b(update);
  return arith::ConstantOp::create(
      b, factor.getLoc(),
      DenseElementsAttr::get(scalarType, splat.getSplatValue<APFloat>()));
}

/// Makes `update` multiply its gradient itself when the gradient is the
/// product of a tensor and a scalar that nothing else reads.
void foldGradientScale(OptimizerOpInterface update) {
  if (!update.getGradScaleMutable().empty())
    return;
  OpOperand &grad = update.getGradMutable();
  auto product = grad.get().getDefiningOp<MulOp>();
  if (!product || !product->hasOneUse())
    return;
  for (auto [tensor, factor] :
       {std::pair(product.getLhs(), product.getRhs()),
        std::pair(product.getRhs(), product.getLhs())}) {
    Value scale = getScalarFactor(factor, update);
    if (!scale)
      continue;
    grad.set(tensor);
    update.getGradScaleMutable().assign(scale);
    Operation *broadcast = factor.getDefiningOp<BroadcastOp>();
    product.erase();
    if (broadcast && broadcast->use_empty())
      broadcast->erase();
    return;
  }
}

struct FuseOptimizerPass : impl::FuseOptimizerBase<FuseOptimizerPass> {
  void runOnOperation() override {
    getOperation().walk([&](FunctionOpInterface func) {
      if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
        return;
      Operation *terminator = func.getFunctionBody().front().getTerminator();
      SmallVector<Operation *> updates;
      func.walk([&](OptimizerOpInterface update) {
        foldGradientScale(update);
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
