//===- VJPRules.cpp - every op's vector-Jacobian product ------------------===//
//
// Reverse-mode rules, written on global shapes with ops of the dialect so
// that the backward pass is sharded by the same rules as the forward pass.
// Constants that depend on sizes (1/N of a mean) use GLOBAL sizes: the
// partitioned program then computes the same values on any piece.
//
//===----------------------------------------------------------------------===//

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace mp {
namespace {

RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Swaps the last two dims.
Value transposeLast2(OpBuilder &b, Location loc, Value value) {
  int64_t rank = rankedType(value).getRank();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 1], perm[rank - 2]);
  return TransposeOp::create(b, loc, value, b.getDenseI64ArrayAttr(perm));
}

/// Collapses all but the last dim: [a, b, ..., n] -> [a·b·..., n].
Value flattenLeading(OpBuilder &b, Location loc, Value value) {
  RankedTensorType type = rankedType(value);
  if (type.getRank() == 2)
    return value;
  int64_t rows = 1;
  for (int64_t extent : type.getShape().drop_back())
    rows *= extent;
  auto flat = RankedTensorType::get({rows, type.getShape().back()},
                                    type.getElementType());
  return ReshapeOp::create(b, loc, flat, value);
}

/// Repeats `value` along `dims` up to `type`.
Value broadcastTo(OpBuilder &b, Location loc, Value value,
                  RankedTensorType type, ArrayRef<int64_t> dims) {
  if (dims.empty())
    return value;
  return BroadcastOp::create(b, loc, type, value, b.getDenseI64ArrayAttr(dims));
}

SmallVector<int64_t> allDims(RankedTensorType type) {
  return llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
}

/// The number of elements over `dims` of `type`.
int64_t countOver(RankedTensorType type, ArrayRef<int64_t> dims) {
  int64_t count = 1;
  for (int64_t dim : dims)
    count *= type.getDimSize(dim);
  return count;
}

Value scaleBy(OpBuilder &b, Location loc, Value value, double factor) {
  if (factor == 1.0)
    return value;
  return ScaleOp::create(b, loc, value, b.getF64FloatAttr(factor));
}
} // namespace

void AnnotateOp::buildVJP(OpBuilder &, ValueRange grads,
                          SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(grads[0]);
}

void ReshardOp::buildVJP(OpBuilder &, ValueRange grads,
                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(grads[0]);
}

// y = x·Wᵀ (+ g): dx = dy·W, dW = dyᵀ·x summed over the batch dims, dg = dy.
void LinearOp::buildVJP(OpBuilder &b, ValueRange grads,
                        SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = grads[0];
  PrecisionAttr precision = getPrecisionAttr();
  Value weightT = transposeLast2(b, loc, getWeight());
  operandGrads.push_back(LinearOp::create(b, loc, dy, weightT, precision));
  Value dyT = transposeLast2(b, loc, flattenLeading(b, loc, dy));
  operandGrads.push_back(MatmulOp::create(
      b, loc, dyT, flattenLeading(b, loc, getInput()), precision));
  if (getAccumulator())
    operandGrads.push_back(dy);
}

// C = s·A·B (+ G): dA = s·dC·Bᵀ, dB = s·Aᵀ·dC (summed over the batch when B
// is shared), dG = dC.
void MatmulOp::buildVJP(OpBuilder &b, ValueRange grads,
                        SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dc = grads[0];
  PrecisionAttr precision = getPrecisionAttr();
  FloatAttr scale = getScaleAttr();
  operandGrads.push_back(MatmulOp::create(
      b, loc, dc, transposeLast2(b, loc, getRhs()), precision, scale));
  if (rankedType(getRhs()).getRank() == 2 &&
      rankedType(getLhs()).getRank() > 2) {
    Value lhsT = transposeLast2(b, loc, flattenLeading(b, loc, getLhs()));
    operandGrads.push_back(MatmulOp::create(
        b, loc, lhsT, flattenLeading(b, loc, dc), precision, scale));
  } else {
    operandGrads.push_back(MatmulOp::create(
        b, loc, transposeLast2(b, loc, getLhs()), dc, precision, scale));
  }
  if (getAccumulator())
    operandGrads.push_back(dc);
}

void AddOp::buildVJP(OpBuilder &, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.append({grads[0], grads[0]});
}

void SubOp::buildVJP(OpBuilder &b, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.append({grads[0], NegOp::create(b, getLoc(), grads[0])});
}

void MulOp::buildVJP(OpBuilder &b, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  operandGrads.append({MulOp::create(b, loc, grads[0], getRhs()),
                       MulOp::create(b, loc, grads[0], getLhs())});
}

// q = a/b: da = dq/b, db = -dq·q/b.
void DivOp::buildVJP(OpBuilder &b, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value da = DivOp::create(b, loc, grads[0], getRhs());
  Value db = NegOp::create(b, loc, MulOp::create(b, loc, da, getResult()));
  operandGrads.append({da, db});
}

void NegOp::buildVJP(OpBuilder &b, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(NegOp::create(b, getLoc(), grads[0]));
}

void ScaleOp::buildVJP(OpBuilder &b, ValueRange grads,
                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      ScaleOp::create(b, getLoc(), grads[0], getFactorAttr()));
}

// The conversion's derivative is 1: the gradient in the input's type.
void ConvertOp::buildVJP(OpBuilder &b, ValueRange grads,
                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      ConvertOp::create(b, getLoc(), getInput().getType(), grads[0]));
}

void ExpOp::buildVJP(OpBuilder &b, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(MulOp::create(b, getLoc(), grads[0], getResult()));
}

void ReluOp::buildVJP(OpBuilder &b, ValueRange grads,
                      SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  operandGrads.push_back(
      MulOp::create(b, loc, grads[0], StepOp::create(b, loc, getInput())));
}

void StepOp::buildVJP(OpBuilder &, ValueRange,
                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(Value());
}

// PyTorch's: the gradient passes where min <= x <= max, bounds included.
void ClampOp::buildVJP(OpBuilder &b, ValueRange grads,
                       SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value inside =
      ClampMaskOp::create(b, loc, getInput(), getMinAttr(), getMaxAttr());
  operandGrads.push_back(MulOp::create(b, loc, grads[0], inside));
}

void ClampMaskOp::buildVJP(OpBuilder &, ValueRange,
                           SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(Value());
}

// s' = s - s².
void SigmoidOp::buildVJP(OpBuilder &b, ValueRange grads,
                         SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value s = getResult();
  Value ds = SubOp::create(b, loc, s, MulOp::create(b, loc, s, s));
  operandGrads.push_back(MulOp::create(b, loc, grads[0], ds));
}

// y' = 1 - y², applied as g - (g·y)·y (no constant needed).
void TanhOp::buildVJP(OpBuilder &b, ValueRange grads,
                      SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value y = getResult();
  Value gy = MulOp::create(b, loc, grads[0], y);
  operandGrads.push_back(
      SubOp::create(b, loc, grads[0], MulOp::create(b, loc, gy, y)));
}

// y = (x + eps)^(-1/2): y' = -y³ / 2.
void RsqrtOp::buildVJP(OpBuilder &b, ValueRange grads,
                       SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value y = getResult();
  Value cube = MulOp::create(b, loc, MulOp::create(b, loc, y, y), y);
  operandGrads.push_back(ScaleOp::create(
      b, loc, MulOp::create(b, loc, grads[0], cube), b.getF64FloatAttr(-0.5)));
}

// y = x·s(x): y' = s·(1 + x·(1 - s)), one op (mp.silu_grad) from x.
void SiluOp::buildVJP(OpBuilder &b, ValueRange grads,
                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(SiluGradOp::create(b, getLoc(), grads[0], getInput()));
}

// silu(gate)·up: both gradients from one op, silu's value computed again.
void SwigluOp::buildVJP(OpBuilder &b, ValueRange grads,
                        SmallVectorImpl<Value> &operandGrads) {
  auto grad = SwigluGradOp::create(b, getLoc(), grads[0], getGate(), getUp());
  operandGrads.append({grad.getGateGrad(), grad.getUpGrad()});
}

void GeluOp::buildVJP(OpBuilder &b, ValueRange grads,
                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(GeluGradOp::create(b, getLoc(), grads[0], getInput(),
                                            getApproximateTanhAttr()));
}

void SumOp::buildVJP(OpBuilder &b, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(broadcastTo(b, getLoc(), grads[0],
                                     rankedType(getInput()), getReducedDims()));
}

void MeanOp::buildVJP(OpBuilder &b, ValueRange grads,
                      SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  RankedTensorType type = rankedType(getInput());
  SmallVector<int64_t> dims = getReducedDims();
  Value spread = broadcastTo(b, loc, grads[0], type, dims);
  operandGrads.push_back(
      scaleBy(b, loc, spread, 1.0 / double(countOver(type, dims))));
}

void ReshapeOp::buildVJP(OpBuilder &b, ValueRange grads,
                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      ReshapeOp::create(b, getLoc(), getInput().getType(), grads[0]));
}

void TransposeOp::buildVJP(OpBuilder &b, ValueRange grads,
                           SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [to, from] : llvm::enumerate(perm))
    inverse[from] = to;
  operandGrads.push_back(TransposeOp::create(b, getLoc(), grads[0],
                                             b.getDenseI64ArrayAttr(inverse)));
}

void BroadcastOp::buildVJP(OpBuilder &b, ValueRange grads,
                           SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(SumOp::create(b, getLoc(), grads[0], getDimsAttr()));
}

// l = Σ(a-b)² (/N): da = 2(a-b)·dl (/N), db = -da.
void MseLossOp::buildVJP(OpBuilder &b, ValueRange grads,
                         SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  RankedTensorType type = rankedType(getInput());
  Value diff = SubOp::create(b, loc, getInput(), getTarget());
  Value spread = broadcastTo(b, loc, grads[0], type, allDims(type));
  double factor = 2.0;
  if (getReduction() == Reduction::mean)
    factor /= double(type.getNumElements());
  Value da = scaleBy(b, loc, MulOp::create(b, loc, spread, diff), factor);
  operandGrads.append({da, NegOp::create(b, loc, da)});
}

void CrossEntropyOp::buildVJP(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &operandGrads) {
  RankedTensorType type = rankedType(getInput());
  double scale = 1.0;
  if (getReduction() == Reduction::mean)
    scale /= double(type.getNumElements() / type.getShape().back());
  operandGrads.push_back(CrossEntropyGradOp::create(
      b, getLoc(), type, getInput(), getTarget(), grads[0],
      b.getF64FloatAttr(scale), getIgnoreIndexAttr()));
  operandGrads.push_back(Value());
}

void EmbeddingOp::buildVJP(OpBuilder &b, ValueRange grads,
                           SmallVectorImpl<Value> &operandGrads) {
  Value grad = grads[0];
  if (std::optional<int64_t> paddingIdx = getPaddingIdx()) {
    // The padding row's lookups add nothing: their gradient rows are zeroed.
    Location loc = getLoc();
    auto gradType = rankedType(grad);
    auto maskType = RankedTensorType::get(rankedType(getIds()).getShape(),
                                          gradType.getElementType());
    Value kept = TargetMaskOp::create(b, loc, maskType, getIds(),
                                      b.getI64IntegerAttr(*paddingIdx));
    grad = MulOp::create(
        b, loc, grad,
        broadcastTo(b, loc, kept, gradType, {gradType.getRank() - 1}));
  }
  operandGrads.push_back(Value());
  operandGrads.push_back(EmbeddingGradOp::create(
      b, getLoc(), getTable().getType(), getIds(), grad, getTable()));
}

void RmsNormOp::buildVJP(OpBuilder &b, ValueRange grads,
                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(RmsNormGradOp::create(
      b, getLoc(), getInput().getType(), getInput(), getWeight(), grads[0],
      getEpsAttr(), getWeightOffsetAttr()));
  operandGrads.push_back(RmsNormWeightGradOp::create(b, getLoc(), getInput(),
                                                     grads[0], getEpsAttr()));
}

void LayerNormOp::buildVJP(OpBuilder &b, ValueRange grads,
                           SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      LayerNormGradOp::create(b, getLoc(), getInput().getType(), getInput(),
                              getWeight(), grads[0], getEpsAttr()));
  auto paramGrads = LayerNormWeightGradOp::create(b, getLoc(), getInput(),
                                                  grads[0], getEpsAttr());
  operandGrads.push_back(paramGrads.getWeightGrad());
  operandGrads.push_back(paramGrads.getBiasGrad());
}

void SoftmaxOp::buildVJP(OpBuilder &b, ValueRange grads,
                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      SoftmaxGradOp::create(b, getLoc(), getResult(), grads[0]));
}

// One op computes the three gradients, from the scores it computes again
// and the forward pass's results.
void AttentionOp::buildVJP(OpBuilder &b, ValueRange grads,
                           SmallVectorImpl<Value> &operandGrads) {
  auto gradients = AttentionGradOp::create(
      b, getLoc(), getQuery(), getKey(), getValue(), getResult(), getLse(),
      grads[0], getAlibiSlopes(), getAlibiBf16Attr(), getScaleAttr(),
      getSoftcapAttr(), getCausalAttr(), getWindowAttr(), getChunkBytesAttr(),
      getPrecisionAttr());
  operandGrads.append(gradients.getResults().begin(),
                      gradients.getResults().end());
  if (getAlibiSlopes())
    operandGrads.push_back(Value());
}

// The log-sum-exp is kept for the backward pass, not differentiated.
bool AttentionOp::hasResultGradient(unsigned index) { return index == 0; }

// ALiBi's slopes (operand 3) take none: learned slopes stay unfused
// (mp.alibi's rule gives them one).
bool AttentionOp::hasOperandGradient(unsigned index) { return index < 3; }

// A rotation's transpose is the opposite rotation (the attention factor
// scales both alike).
void RopeOp::buildVJP(OpBuilder &b, ValueRange grads,
                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(RopeOp::create(
      b, getLoc(), grads[0].getType(), grads[0], getThetaAttr(),
      getLlama3ScalingAttr(), getLinearScalingAttr(), getRotaryDimsAttr(),
      getLongropeFactorsAttr(), getAttentionFactorAttr(),
      getInverse() ? UnitAttr() : b.getUnitAttr()));
}

// d log(x) = dx / x.
void LogOp::buildVJP(OpBuilder &b, ValueRange grads,
                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(DivOp::create(b, getLoc(), grads[0], getInput()));
}

// A shift of the scores, linear in the slopes: the scores' gradient passes,
// and slope h's is the sum of its head's gradient times the keys' positions
// (the bias of unit slopes on zero scores). Slopes of mp.alibi_slopes need
// none: the step drops it. A bfloat16 bias's rounding has none to give.
bool AlibiOp::hasOperandGradient(unsigned index) {
  return index == 0 || !getBf16Bias();
}

void AlibiOp::buildVJP(OpBuilder &b, ValueRange grads,
                       SmallVectorImpl<Value> &operandGrads) {
  if (getBf16Bias()) {
    operandGrads.append({grads[0], Value()});
    return;
  }
  Location loc = getLoc();
  RankedTensorType scores = rankedType(getScores());
  RankedTensorType slopes = rankedType(getSlopes());
  auto splat = [&](RankedTensorType type, double value) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(
                    type, FloatAttr::get(type.getElementType(), value)));
  };
  Value positions = AlibiOp::create(b, loc, scores, splat(scores, 0),
                                    splat(slopes, 1));
  SmallVector<int64_t> otherDims = allDims(scores);
  otherDims.erase(otherDims.end() - 3);
  Value slopeGrads =
      SumOp::create(b, loc, MulOp::create(b, loc, grads[0], positions),
                    b.getDenseI64ArrayAttr(otherDims));
  operandGrads.append({grads[0], slopeGrads});
}

// Of an integer input: no gradient.
void MaskBiasOp::buildVJP(OpBuilder &, ValueRange,
                          SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(Value());
}

// Of an integer input: no gradient.
void TargetMaskOp::buildVJP(OpBuilder &, ValueRange,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(Value());
}

// A constant (the shift of a log-sum-exp): no gradient.
void BlockMaxOp::buildVJP(OpBuilder &, ValueRange,
                          SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(Value());
}

void GatherLastOp::buildVJP(OpBuilder &b, ValueRange grads,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(ScatterLastOp::create(
      b, getLoc(), getInput().getType(), getIndex(), grads[0], getInput()));
  operandGrads.push_back(Value());
}

} // namespace mp
