//===- LossParallel.cpp - cross entropy that keeps the vocabulary split ---===//
//
// A cross entropy over vocab-split logits needs every rank's whole row only
// for its log-sum-exp and its target logit, both reductions over the
// vocabulary. Written as the ops they are made of (a block maximum as the
// stabilizing shift, exp, sum, log, gather_last), each with its own sharding
// rule, the logits stay split and only per-row values cross ranks; the
// backward pass follows from the ops' gradients.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-loss-parallel"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_LOSSPARALLEL
#include "mp/Transforms/Passes.h.inc"

namespace {

/// The mean or sum over every row of `losses` as the cross entropy reduces.
Value reduceLosses(OpBuilder &b, Location loc, Value losses,
                   Reduction reduction) {
  auto type = cast<RankedTensorType>(losses.getType());
  auto scalar = RankedTensorType::get({}, type.getElementType());
  if (reduction == Reduction::mean)
    return MeanOp::create(b, loc, scalar, losses, DenseI64ArrayAttr());
  return SumOp::create(b, loc, scalar, losses, DenseI64ArrayAttr());
}

Value rewrite(CrossEntropyOp op, int64_t blocks) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value logits = op.getInput();
  auto type = cast<RankedTensorType>(logits.getType());
  int64_t last = type.getRank() - 1;
  SmallVector<int64_t> rows(type.getShape().drop_back());
  auto withLast = [&](int64_t extent) {
    SmallVector<int64_t> shape(rows);
    shape.push_back(extent);
    return RankedTensorType::get(shape, type.getElementType());
  };
  auto rowType = RankedTensorType::get(rows, type.getElementType());
  Value blockMax = BlockMaxOp::create(b, loc, withLast(blocks), logits);
  Value rowMax = BlockMaxOp::create(b, loc, withLast(1), blockMax);
  Value shift = ReshapeOp::create(b, loc, rowType, rowMax);
  Value shifted = SubOp::create(
      b, loc, logits,
      BroadcastOp::create(b, loc, type, shift, b.getDenseI64ArrayAttr({last})));
  Value sumExp = SumOp::create(b, loc, rowType, ExpOp::create(b, loc, shifted),
                               b.getDenseI64ArrayAttr({last}));
  Value logSumExp = AddOp::create(b, loc, shift, LogOp::create(b, loc, sumExp));
  Value target = GatherLastOp::create(b, loc, logits, op.getTarget());
  Value losses = SubOp::create(b, loc, logSumExp, target);
  // A skipped sample's loss is weighed by 0 (its gradient follows): what it
  // picked (nothing for a negative index, a logit otherwise) is unused.
  if (std::optional<int64_t> ignoreIndex = op.getIgnoreIndex())
    losses = MulOp::create(
        b, loc, losses,
        TargetMaskOp::create(b, loc, rowType, op.getTarget(), *ignoreIndex));
  return reduceLosses(b, loc, losses, op.getReduction());
}

struct LossParallelPass : impl::LossParallelBase<LossParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t pieces = blocks;
    if (pieces <= 0) {
      auto plan = module->getAttrOfType<PlanAttr>(MPDialect::kPlanAttrName);
      if (!plan || !plan.getTpAxis()) {
        module.emitError() << "--mp-loss-parallel needs the plan's "
                              "tensor-parallel axis (apply a plan first) or "
                              "'blocks'";
        return signalPassFailure();
      }
      auto mesh =
          SymbolTable::lookupNearestSymbolFrom<MeshOp>(module, plan.getMesh());
      if (!mesh) {
        module.emitError() << "the plan's mesh " << plan.getMesh()
                           << " is not an mp.mesh of this module";
        return signalPassFailure();
      }
      pieces = mesh.getMesh().getAxisSize(plan.getTpAxis().getValue());
    }
    // Whole vocabularies have nothing to keep split.
    if (pieces == 1)
      return;
    module.walk([&](CrossEntropyOp op) {
      int64_t vocab = op.getInput().getType().getShape().back();
      if (vocab % pieces != 0) {
        LLVM_DEBUG(llvm::dbgs()
                   << "[mp-loss-parallel] left " << op << ": " << pieces
                   << " does not divide " << vocab << "\n");
        return;
      }
      // mp.gather_last refuses indices past the vocabulary.
      if (op.getIgnoreIndex() && *op.getIgnoreIndex() >= vocab) {
        LLVM_DEBUG(llvm::dbgs() << "[mp-loss-parallel] left " << op
                                << ": ignore_index is no class\n");
        return;
      }
      op.getResult().replaceAllUsesWith(rewrite(op, pieces));
      op.erase();
    });
  }
};

} // namespace
} // namespace mp
