//===- FuseConversions.cpp - bf16 conversions into their kernels ----------===//
//
// A widening (mp.convert bf16 -> f32) is folded into its readers that take
// bf16 and a rounding (f32 -> bf16) into the op that made its input, where
// those compute in float32 and hold bf16 (mayReadBFloat16,
// mayWriteBFloat16: elementwise ops, transposes, RMSNorm, bf16 GEMMs, bf16
// attention).
// Widening is exact and the fused rounding is the conversion's, so values do
// not change; see Passes.td.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Analysis/MemoryPlan.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_FUSECONVERSIONS
#include "mp/Transforms/Passes.h.inc"

namespace {

bool isBFloat16(Value value) { return getElementTypeOrSelf(value).isBF16(); }

/// True for an mp.convert from bf16 to f32.
bool isWidening(ConvertOp convert) {
  return isBFloat16(convert.getInput()) &&
         getElementTypeOrSelf(convert.getResult()).isF32();
}

/// True for an mp.convert from f32 to bf16.
bool isRounding(ConvertOp convert) {
  return getElementTypeOrSelf(convert.getInput()).isF32() &&
         isBFloat16(convert.getResult());
}

/// Folds `widening` into its readers that take its bf16 input, erasing it
/// when none is left; true when the IR changed. A reshape of it reshapes the
/// bf16 value and is widened after, for its own readers to fold.
bool foldWidening(ConvertOp widening, OpBuilder &builder) {
  Value narrow = widening.getInput();
  bool changed = false;
  for (OpOperand &use : llvm::make_early_inc_range(widening->getUses())) {
    Operation *reader = use.getOwner();
    if (auto view = dyn_cast<TransposeOp>(reader);
        view && isTransposedView(view)) {
      // A view its GEMMs read through copies nothing: it views the bf16
      // value where they all take bf16, else it stays (computing it would
      // copy what the view does not).
      if (!llvm::all_of(view->getUses(),
                        [](OpOperand &gemm) { return mayReadBFloat16(gemm); }))
        continue;
      use.set(narrow);
      view.getResult().setType(view.getType().clone(builder.getBF16Type()));
    } else if (mayReadBFloat16(use)) {
      use.set(narrow);
    } else if (auto rounding = dyn_cast<ConvertOp>(reader);
               rounding && isRounding(rounding)) {
      rounding.replaceAllUsesWith(narrow);
      rounding->erase();
    } else if (auto reshape = dyn_cast<ReshapeOp>(reader)) {
      builder.setInsertionPoint(reshape);
      Operation *narrowReshape = builder.clone(*reshape);
      narrowReshape->setOperand(0, narrow);
      narrowReshape->getResult(0).setType(
          reshape.getType().clone(builder.getBF16Type()));
      Value widened =
          ConvertOp::create(builder, reshape.getLoc(), reshape.getType(),
                            narrowReshape->getResult(0));
      reshape.getResult().replaceAllUsesWith(widened);
      reshape->erase();
    } else {
      continue;
    }
    changed = true;
  }
  if (!widening->use_empty())
    return changed;
  widening->erase();
  return true;
}

/// Folds `rounding` into the op that made its input, when it is the
/// input's only reader and the op writes bf16 itself; true if it did.
bool foldRounding(ConvertOp rounding) {
  auto wide = dyn_cast<OpResult>(rounding.getInput());
  if (!wide || !wide.hasOneUse() || !mayWriteBFloat16(wide))
    return false;
  wide.setType(rounding.getType());
  rounding.replaceAllUsesWith(wide);
  rounding->erase();
  return true;
}

struct FuseConversionsPass : impl::FuseConversionsBase<FuseConversionsPass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    getOperation().walk([&](FunctionOpInterface func) {
      if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
        return;
      Block &body = func.getFunctionBody().front();
      // In program order. A fold erases the conversion and ops after it
      // (its readers), never the op before it, where the walk resumes; the
      // ops it makes come after it and are walked too. Again until nothing
      // folds, in case a fold enabled one before it.
      for (bool changed = true; changed;) {
        changed = false;
        for (Operation *op = &body.front(); op;) {
          auto convert = dyn_cast<ConvertOp>(op);
          Operation *before = op->getPrevNode();
          bool folded =
              convert && (isWidening(convert)
                              ? foldWidening(convert, builder)
                              : isRounding(convert) && foldRounding(convert));
          changed |= folded;
          op = !folded  ? op->getNextNode()
               : before ? before->getNextNode()
                        : &body.front();
        }
      }
    });
  }
};

} // namespace
} // namespace mp
