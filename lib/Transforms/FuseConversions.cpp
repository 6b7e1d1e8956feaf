//===- FuseConversions.cpp - bf16 conversions into their kernels ----------===//
//
// A widening (mp.convert bf16 -> f32) is folded into its readers that take
// bf16 and a rounding (f32 -> bf16) into the op that made its input, where
// those compute in float32 and hold bf16 (mayReadBFloat16,
// mayWriteBFloat16: elementwise ops, transposes, the norms, bf16 GEMMs, bf16
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

/// True if `view` is a transposed view that its GEMMs all read in bf16. A
/// view copies nothing, so it may view a bf16 value only then (computing a
/// widening transpose would copy what the view does not).
bool isBFloat16View(TransposeOp view) {
  return isTransposedView(view) &&
         llvm::all_of(view->getUses(),
                      [](OpOperand &gemm) { return mayReadBFloat16(gemm); });
}

/// True for the ops that move a value's elements without arithmetic, one
/// operand in: a reshape, and a slice (row chunks' pieces).
bool movesElements(Operation *op) { return isa<ReshapeOp, SliceOp>(op); }

/// True if foldWidening folds a widening out of `use` entirely: its reader
/// takes bf16, rounds it back, or reshapes or slices it for readers that
/// all do (a concatenation of widenings is splitConcatOfWidenings').
bool foldsEntirely(OpOperand &use) {
  Operation *reader = use.getOwner();
  if (auto view = dyn_cast<TransposeOp>(reader); view && isTransposedView(view))
    return isBFloat16View(view);
  if (auto rounding = dyn_cast<ConvertOp>(reader))
    return isRounding(rounding);
  if (movesElements(reader))
    return llvm::all_of(reader->getUses(), foldsEntirely);
  return mayReadBFloat16(use);
}

/// Folds `widening` into its readers that take its bf16 input, erasing it
/// when none is left; true when the IR changed. A reshape or slice of it
/// moves the bf16 value and is widened after, for its own readers to fold.
bool foldWidening(ConvertOp widening, OpBuilder &builder) {
  Value narrow = widening.getInput();
  bool changed = false;
  for (OpOperand &use : llvm::make_early_inc_range(widening->getUses())) {
    Operation *reader = use.getOwner();
    if (auto view = dyn_cast<TransposeOp>(reader);
        view && isTransposedView(view)) {
      if (!isBFloat16View(view))
        continue;
      use.set(narrow);
      view.getResult().setType(view.getType().clone(builder.getBF16Type()));
    } else if (mayReadBFloat16(use)) {
      use.set(narrow);
    } else if (auto rounding = dyn_cast<ConvertOp>(reader);
               rounding && isRounding(rounding)) {
      rounding.replaceAllUsesWith(narrow);
      rounding->erase();
    } else if (movesElements(reader)) {
      builder.setInsertionPoint(reader);
      Operation *narrowMove = builder.clone(*reader);
      narrowMove->setOperand(0, narrow);
      Value moved = reader->getResult(0);
      auto wide = cast<RankedTensorType>(moved.getType());
      narrowMove->getResult(0).setType(wide.clone(builder.getBF16Type()));
      Value widened = ConvertOp::create(builder, reader->getLoc(), wide,
                                        narrowMove->getResult(0));
      moved.replaceAllUsesWith(widened);
      reader->erase();
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

/// True for a transpose that widens: a copy of bf16 elements into f32.
bool isWideningTranspose(TransposeOp transpose) {
  return isBFloat16(transpose.getInput()) &&
         getElementTypeOrSelf(transpose.getType()).isF32();
}

/// Splits a transpose that widens into a bf16 transpose and a widening
/// after it, where its readers all take bf16 or round it back (through
/// reshapes too: attention's output laid back out for the output
/// projection, saved for its weight gradient), so that they fold the
/// widening entirely: one bf16 copy where there were a widening copy and
/// a rounding. (With a reader left that needs f32 the widening would stay,
/// a second pass.)
void splitWideningTranspose(TransposeOp transpose, OpBuilder &builder) {
  Type wide = transpose.getType();
  transpose.getResult().setType(
      transpose.getType().clone(builder.getBF16Type()));
  builder.setInsertionPointAfter(transpose);
  auto widening = ConvertOp::create(builder, transpose.getLoc(), wide,
                                    transpose.getResult());
  transpose.getResult().replaceAllUsesExcept(widening, widening);
}

/// True for a concatenation of widenings whose readers all fold a widening
/// of it entirely: row chunks join the pieces of a bf16 value that each
/// chunk widened (a saved activation read by attention, a norm, ...).
bool isFoldableConcatOfWidenings(ConcatOp concat) {
  return llvm::all_of(concat.getInputs(),
                      [](Value input) {
                        auto convert = input.getDefiningOp<ConvertOp>();
                        return convert && isWidening(convert);
                      }) &&
         llvm::all_of(concat->getUses(), foldsEntirely);
}

/// Joins the bf16 pieces instead and widens the whole after, for its
/// readers to fold (the pieces' widenings go with their last reader).
void splitConcatOfWidenings(ConcatOp concat, OpBuilder &builder) {
  for (OpOperand &input : concat->getOpOperands()) {
    auto widening = input.get().getDefiningOp<ConvertOp>();
    input.set(widening.getInput());
    if (widening->use_empty())
      widening->erase();
  }
  Type wide = concat.getType();
  concat.getResult().setType(concat.getType().clone(builder.getBF16Type()));
  builder.setInsertionPointAfter(concat);
  auto widening =
      ConvertOp::create(builder, concat.getLoc(), wide, concat.getResult());
  concat.getResult().replaceAllUsesExcept(widening, widening);
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
      // folds, in case a fold enabled one before it or made a transpose
      // widen (a widening folded into it).
      for (bool changed = true; changed;) {
        changed = false;
        for (auto transpose :
             llvm::make_early_inc_range(body.getOps<TransposeOp>()))
          if (isWideningTranspose(transpose) &&
              llvm::all_of(transpose->getUses(), foldsEntirely)) {
            splitWideningTranspose(transpose, builder);
            changed = true;
          }
        for (auto concat : llvm::make_early_inc_range(body.getOps<ConcatOp>()))
          if (isFoldableConcatOfWidenings(concat)) {
            splitConcatOfWidenings(concat, builder);
            changed = true;
          }
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
