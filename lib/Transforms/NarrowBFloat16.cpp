//===- NarrowBFloat16.cpp - move and hold bf16 where readers round to it --===//
//
// A bf16 GEMM reads its operands rounded to bfloat16. Rounding commutes
// with moving data, so a collective that only moves values (all_gather,
// all_to_all: no sums) whose every reader is a bf16 GEMM operand, directly
// or through transposes and reshapes, may round first and move half the
// bytes: convert(f32 -> bf16), then the collective on bf16. Where the
// GEMMs read the result through reshapes and transposed views only (no
// transpose computed), they read it as bfloat16, and the gathered value is
// held in half the bytes until its last reader (FSDP keeps a layer's
// gathered weights from the forward to the backward); otherwise it is
// widened back to f32 after the collective. Every GEMM reads exactly the
// values it read before: the rewrite changes bytes, never results. FSDP2
// gathers and holds its bf16 parameters the same way
// (MixedPrecisionPolicy(param_dtype=bfloat16)); here it is proved per
// collective, so a value that any other op reads keeps moving in f32.
//
// A step trained with reduce-dtype=bf16 (mp.reduce_dtype, FSDP2's
// reduce_dtype=bfloat16) also sums its gradients in bf16: each collective
// that sums a gradient on its way to an optimizer update gets its input
// converted to bf16 and its result back to f32. That one changes results
// (each sum is rounded), as it does in FSDP2, by the user's choice.
// tp-reduce-dtype=bf16 (mp.tp_reduce_dtype) does the same for the sums of
// bf16 GEMMs' results that are not gradients: tensor parallelism's partial
// products, which torchtitan and Megatron-LM sum in bf16 because their bf16
// forward pass computes them in bf16.
//
// mp-narrow-gemm-operands holds the same way what a step computes: a value
// whose every reader is a bf16 GEMM operand (a linear's input, read again
// by its weight-gradient GEMM; an input gradient read by the two backward
// GEMMs) is rounded where it is computed and kept in half the bytes.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/PartitionedSteps.h"
#include "mp/Transforms/Passes.h"

#include "mp/Analysis/MemoryPlan.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_NARROWCOLLECTIVES
#define GEN_PASS_DEF_NARROWGEMMOPERANDS
#include "mp/Transforms/Passes.h.inc"

namespace {

/// True when `value` is read, and read only, as a factor of bf16 GEMMs
/// (never an accumulator, which stays float32), directly or through
/// transposes and reshapes (which move values as they are).
bool onlyFeedsBf16Gemms(Value value) {
  if (value.use_empty())
    return false;
  return llvm::all_of(value.getUses(), [](OpOperand &use) {
    Operation *user = use.getOwner();
    if (isa<TransposeOp, ReshapeOp>(user))
      return onlyFeedsBf16Gemms(user->getResult(0));
    return isGemmFactor(use) && getGemmPrecision(*user) == Precision::bf16;
  });
}

RankedTensorType withElementType(Value value, Type elementType) {
  return cast<RankedTensorType>(value.getType()).clone(elementType);
}

/// True when the bf16 GEMMs that read `value` (onlyFeedsBf16Gemms) can
/// read its bfloat16 values in place: through reshapes (copies) and
/// transposed views (isTransposedView), with no transpose computed.
bool readsInPlaceAsBFloat16(Value value) {
  return llvm::all_of(value.getUses(), [](OpOperand &use) {
    Operation *user = use.getOwner();
    if (isGemmFactor(use))
      return true;
    if (auto transpose = dyn_cast<TransposeOp>(user))
      return isTransposedView(transpose) &&
             readsInPlaceAsBFloat16(transpose.getResult());
    return isa<ReshapeOp>(user) && readsInPlaceAsBFloat16(user->getResult(0));
  });
}

/// True when `collective` takes and gives one f32 tensor and communicates:
/// one that may move (or sum) it as bf16 instead.
bool isNarrowable(CollectiveOpInterface collective) {
  Operation *op = collective;
  return collective.getSteps().communicates() && op->getNumOperands() == 1 &&
         op->getNumResults() == 1 &&
         getElementTypeOrSelf(op->getOperand(0)).isF32();
}

/// `value` rounded to bf16 right where it is defined.
Value roundedWhereDefined(OpBuilder &builder, Value value) {
  builder.setInsertionPointAfterValue(value);
  return ConvertOp::create(
      builder, value.getLoc(),
      withElementType(value, BFloat16Type::get(value.getContext())), value);
}

/// A copy of `collective`, before it, on the bf16 `narrowInput`: its bf16
/// result.
Value cloneOnBFloat16(OpBuilder &builder, Operation *collective,
                      Value narrowInput) {
  builder.setInsertionPoint(collective);
  Operation *narrowed = builder.clone(*collective);
  narrowed->setOperand(0, narrowInput);
  Value result = narrowed->getResult(0);
  result.setType(withElementType(result, getElementTypeOrSelf(narrowInput)));
  return result;
}

/// True when `value` is a gradient on its way to an optimizer update: it
/// reaches an update's gradient operand through elementwise ops (clipping's
/// scale), reshapes and collectives (a sum over one axis, then another).
/// `known` remembers the values answered, so each is walked once.
bool reachesGradientOperand(Value value, llvm::DenseMap<Value, bool> &known) {
  if (auto it = known.find(value); it != known.end())
    return it->second;
  bool reaches = llvm::any_of(value.getUses(), [&](OpOperand &use) {
    Operation *user = use.getOwner();
    if (auto update = dyn_cast<OptimizerOpInterface>(user))
      return &update.getGradMutable() == &use;
    return user->getNumResults() == 1 &&
           (user->hasTrait<OpTrait::Elementwise>() ||
            isa<ReshapeOp, CollectiveOpInterface>(user)) &&
           reachesGradientOperand(user->getResult(0), known);
  });
  known[value] = reaches;
  return reaches;
}

/// True when `value` is a bf16 GEMM's result, or a sum or reshape of such
/// (an add, a collective's sum over another axis): a partial product where
/// the ranks split the GEMM's contraction. `known` remembers the values
/// answered, so each is walked once.
bool isBf16PartialProduct(Value value, llvm::DenseMap<Value, bool> &known) {
  if (auto it = known.find(value); it != known.end())
    return it->second;
  auto isPartialProduct = [&](Value operand) {
    return isBf16PartialProduct(operand, known);
  };
  bool result = false;
  if (Operation *def = value.getDefiningOp()) {
    if (isa<AddOp>(def))
      result = llvm::all_of(def->getOperands(), isPartialProduct);
    else if (isa<ReshapeOp>(def))
      result = isPartialProduct(def->getOperand(0));
    // mp-simplify-collectives moves a sum past a norm's input gradient,
    // linear in it, to add two such gradients before one sum.
    else if (auto norm = dyn_cast<RmsNormGradOp>(def))
      result = isPartialProduct(norm.getGrad());
    else if (auto norm = dyn_cast<LayerNormGradOp>(def))
      result = isPartialProduct(norm.getGrad());
    else if (auto sum = dyn_cast<CollectiveOpInterface>(def))
      result = sum.getSteps().sums && isPartialProduct(sum.getInput());
    else
      result = getGemmPrecision(*def) == Precision::bf16;
  }
  known[value] = result;
  return result;
}

/// Makes the reshapes and transposed views between `value`, now bfloat16,
/// and its GEMMs bfloat16 too; the GEMMs' results stay float32.
void retypeReadersAsBFloat16(Value value) {
  for (Operation *user : value.getUsers()) {
    if (!isa<TransposeOp, ReshapeOp>(user))
      continue;
    Value result = user->getResult(0);
    result.setType(withElementType(result, getElementTypeOrSelf(value)));
    retypeReadersAsBFloat16(result);
  }
}

struct NarrowCollectivesPass
    : impl::NarrowCollectivesBase<NarrowCollectivesPass> {
  void runOnOperation() override {
    forEachPartitionedStep(getOperation(),
                           [&](FunctionOpInterface func) { narrow(func); });
  }

  void narrow(FunctionOpInterface func) {
    narrowMoves(func);
    auto isBf16 = [&](StringRef attrName) {
      auto type = func->getAttrOfType<TypeAttr>(attrName);
      return type && type.getValue().isBF16();
    };
    bool gradients = isBf16(MPDialect::kReduceDtypeAttrName);
    bool partialProducts = isBf16(MPDialect::kTpReduceDtypeAttrName);
    if (!gradients && !partialProducts)
      return;
    SmallVector<Operation *> sums;
    llvm::DenseMap<Value, bool> reachesGradient, partialProduct;
    func.walk([&](CollectiveOpInterface collective) {
      if (!collective.getSteps().sums || !isNarrowable(collective))
        return;
      if (reachesGradientOperand(collective->getResult(0), reachesGradient)
              ? gradients
              : partialProducts &&
                    isBf16PartialProduct(collective.getInput(), partialProduct))
        sums.push_back(collective);
    });
    narrowSums(sums);
  }

  /// Sums `sums` in bf16: each input rounded, each result widened back.
  void narrowSums(ArrayRef<Operation *> sums) {
    OpBuilder builder(&getContext());
    for (Operation *op : sums) {
      // Rounded where the summand is made, widened where the sum was, so
      // mp-schedule-collectives still finds the sum's input ready early and
      // its reader later: the sum keeps running beside other work.
      Value input = op->getOperand(0);
      // A sum of a sum (over one axis, then another) reads the first's bf16
      // result, not its widened copy.
      auto widened = input.getDefiningOp<ConvertOp>();
      Value narrowInput =
          widened && getElementTypeOrSelf(widened.getInput()).isBF16()
              ? widened.getInput()
              : roundedWhereDefined(builder, input);
      Value narrowResult = cloneOnBFloat16(builder, op, narrowInput);
      Value result = op->getResult(0);
      result.replaceAllUsesWith(ConvertOp::create(
          builder, op->getLoc(), result.getType(), narrowResult));
      op->erase();
      if (Operation *widened = input.getDefiningOp();
          widened && widened->use_empty())
        widened->erase();
    }
  }

  void narrowMoves(FunctionOpInterface func) {
    SmallVector<CollectiveOpInterface> movers;
    func.walk([&](CollectiveOpInterface collective) {
      if (!collective.getSteps().sums && isNarrowable(collective) &&
          onlyFeedsBf16Gemms(collective->getResult(0)))
        movers.push_back(collective);
    });
    // One rounded copy per value, made where the value is: a parameter's
    // forward gather and its backward regather share it, and mp-group-fsdp
    // finds every member's input ready at the group's first member.
    llvm::DenseMap<Value, Value> rounded;
    OpBuilder builder(&getContext());
    for (CollectiveOpInterface collective : movers) {
      Operation *op = collective;
      Value input = op->getOperand(0);
      Value &narrowInput = rounded[input];
      if (!narrowInput)
        narrowInput = roundedWhereDefined(builder, input);
      Value narrowResult = cloneOnBFloat16(builder, op, narrowInput);
      Value result = op->getResult(0);
      if (readsInPlaceAsBFloat16(result)) {
        result.replaceAllUsesWith(narrowResult);
        retypeReadersAsBFloat16(narrowResult);
      } else {
        result.replaceAllUsesWith(ConvertOp::create(
            builder, op->getLoc(), result.getType(), narrowResult));
      }
      op->erase();
    }
  }
};

/// True when `op` computes one float32 tensor that may be rounded where it
/// is made: not a constant, a conversion, a wait (the collective's value)
/// or a transposed view (no value of its own).
bool computesFloat32Value(Operation &op) {
  if (op.getNumResults() != 1 || op.hasTrait<OpTrait::ConstantLike>() ||
      isa<ConvertOp, WaitOp>(op))
    return false;
  if (auto transpose = dyn_cast<TransposeOp>(op);
      transpose && isTransposedView(transpose))
    return false;
  auto type = dyn_cast<RankedTensorType>(op.getResult(0).getType());
  return type && type.getElementType().isF32();
}

struct NarrowGemmOperandsPass
    : impl::NarrowGemmOperandsBase<NarrowGemmOperandsPass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    getOperation().walk([&](FunctionOpInterface func) {
      if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
        return;
      SmallVector<Value> held;
      SmallVector<ConvertOp> widenings;
      for (Operation &op : func.getFunctionBody().front()) {
        if (op.getNumResults() != 1 || !onlyFeedsBf16Gemms(op.getResult(0)) ||
            !readsInPlaceAsBFloat16(op.getResult(0)))
          continue;
        if (auto convert = dyn_cast<ConvertOp>(op);
            convert && getElementTypeOrSelf(convert.getInput()).isBF16())
          widenings.push_back(convert);
        else if (computesFloat32Value(op))
          held.push_back(op.getResult(0));
      }
      // Widening a bf16 value that the GEMMs round back: they read it as is.
      for (ConvertOp widening : widenings) {
        widening.getResult().replaceAllUsesWith(widening.getInput());
        retypeReadersAsBFloat16(widening.getInput());
        widening->erase();
      }
      for (Value value : held) {
        // A reshape of a value held before is bf16 already.
        if (!getElementTypeOrSelf(value).isF32())
          continue;
        Value narrow = roundedWhereDefined(builder, value);
        value.replaceAllUsesExcept(narrow, narrow.getDefiningOp());
        retypeReadersAsBFloat16(narrow);
      }
    });
  }
};

} // namespace
} // namespace mp
