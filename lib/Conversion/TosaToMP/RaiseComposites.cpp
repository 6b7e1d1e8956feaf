//===- RaiseComposites.cpp - mp-raise-tosa-composites ---------------------===//
//
// TOSA spells RMSNorm, softmax and the rotary embedding in primitives mp
// has no op for (rsqrt, reduce_max, reciprocal, slice, concat). Each is
// matched as a whole on the TOSA ops, where its spelling is fixed, and
// replaced by the one mp op that states it, before upstream's lowerings
// scatter it into linalg.generics (as IREE raises softmax before it
// fuses). A primitive left over is a located error naming the composites
// it is read in.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_RAISETOSACOMPOSITES
#include "mp/Conversion/Passes.h.inc"

namespace {

/// The value a float constant holds everywhere, as the shortest decimal
/// that rounds to it: what the exporter wrote (1e-5, not f32's
/// 9.99999974e-6).
std::optional<double> getSplat(Value value) {
  DenseFPElementsAttr dense;
  if (!matchPattern(value, m_Constant(&dense)) || !dense.isSplat())
    return std::nullopt;
  double exact = dense.getSplatValue<APFloat>().convertToDouble();
  if (!dense.getElementType().isF32())
    return exact;
  for (int digits = 1; digits < 9; ++digits) {
    char decimal[32];
    std::snprintf(decimal, sizeof(decimal), "%.*g", digits, exact);
    double shortest = std::strtod(decimal, nullptr);
    if (static_cast<float>(shortest) == static_cast<float>(exact))
      return shortest;
  }
  return exact;
}

bool isSplat(Value value, double expected, double tolerance = 0) {
  std::optional<double> splat = getSplat(value);
  return splat && std::fabs(*splat - expected) <=
                      tolerance * std::max(1.0, std::fabs(expected));
}

int64_t getRank(Value value) {
  return cast<RankedTensorType>(value.getType()).getRank();
}

/// The operands of a commutative binary op as (the one `first` accepts,
/// the other); none when neither order works.
template <typename Op>
std::optional<std::pair<Value, Value>>
matchEither(Op op, llvm::function_ref<bool(Value)> first) {
  if (!op)
    return std::nullopt;
  Value a = op.getInput1(), b = op.getInput2();
  if (first(a))
    return std::pair(a, b);
  if (first(b))
    return std::pair(b, a);
  return std::nullopt;
}

/// The input of a reduction of kind `Op` over the last axis of `value`.
template <typename Op> Value getLastAxisReduced(Value value) {
  auto reduce = value.getDefiningOp<Op>();
  if (!reduce ||
      static_cast<int64_t>(reduce.getAxis()) != getRank(reduce.getInput()) - 1)
    return {};
  return reduce.getInput();
}

/// `value` reshaped to `shape`: the tensor a tosa.reshape made it from
/// when that has the shape (the 1-D weight a `[1, 1, D]` broadcast operand
/// reshapes), else an mp.reshape, else itself.
Value getReshaped(PatternRewriter &rewriter, Location loc, Value value,
                  ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == shape)
    return value;
  if (auto reshape = value.getDefiningOp<tosa::ReshapeOp>();
      reshape &&
      cast<RankedTensorType>(reshape.getInput1().getType()).getShape() == shape)
    return reshape.getInput1();
  return ReshapeOp::create(rewriter, loc,
                           RankedTensorType::get(shape, type.getElementType()),
                           value);
}

/// torchtitan's RMSNorm, `x · rsqrt(mean(x²) + eps) · weight`, as
/// torch-mlir's TOSA spells it: x² a pow by 2 or a product, the mean a
/// reduce_sum over the last axis times 1/D.
struct RmsNormFromTosa : OpRewritePattern<tosa::MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::MulOp op,
                                PatternRewriter &rewriter) const override {
    Value x;
    double eps = 0;
    // (x · rsqrt(...)): binds x and eps.
    auto isNormalized = [&](Value value) {
      auto mul = value.getDefiningOp<tosa::MulOp>();
      return static_cast<bool>(matchEither(mul, [&](Value scale) {
        auto rsqrt = scale.getDefiningOp<tosa::RsqrtOp>();
        if (!rsqrt)
          return false;
        auto add = rsqrt.getInput1().getDefiningOp<tosa::AddOp>();
        auto epsAndMean =
            matchEither(add, [](Value v) { return getSplat(v).has_value(); });
        if (!epsAndMean)
          return false;
        eps = *getSplat(epsAndMean->first);
        auto meanMul = epsAndMean->second.getDefiningOp<tosa::MulOp>();
        auto invAndSum = matchEither(
            meanMul, [](Value v) { return getSplat(v).has_value(); });
        if (!invAndSum)
          return false;
        Value squared =
            getLastAxisReduced<tosa::ReduceSumOp>(invAndSum->second);
        if (!squared)
          return false;
        Value candidate =
            mul.getInput1() == scale ? mul.getInput2() : mul.getInput1();
        auto type = cast<RankedTensorType>(candidate.getType());
        if (!isSplat(invAndSum->first, 1.0 / type.getShape().back(), 1e-6))
          return false;
        bool isSquare = false;
        if (auto pow = squared.getDefiningOp<tosa::PowOp>())
          isSquare =
              pow.getInput1() == candidate && isSplat(pow.getInput2(), 2);
        if (auto square = squared.getDefiningOp<tosa::MulOp>())
          isSquare = square.getInput1() == candidate &&
                     square.getInput2() == candidate;
        if (!isSquare)
          return false;
        x = candidate;
        return true;
      }));
    };
    auto normalizedAndWeight = matchEither(op, isNormalized);
    if (!normalizedAndWeight)
      return failure();
    auto type = cast<RankedTensorType>(x.getType());
    auto weightType =
        cast<RankedTensorType>(normalizedAndWeight->second.getType());
    int64_t dim = type.getShape().back();
    if (weightType.getShape().back() != dim ||
        weightType.getNumElements() != dim || op.getType() != type)
      return failure();
    Value weight =
        getReshaped(rewriter, op.getLoc(), normalizedAndWeight->second, {dim});
    rewriter.replaceOpWithNewOp<RmsNormOp>(op, x, weight,
                                           rewriter.getF64FloatAttr(eps),
                                           rewriter.getF64FloatAttr(0));
    return success();
  }
};

/// Whether `attr` holds, on its last two dims [Q, K] (the others of size
/// 1), `keep` where k <= q + (K - Q) and `drop` elsewhere: a causal mask.
template <typename T>
bool isCausalTable(DenseElementsAttr attr, RankedTensorType scores,
                   llvm::function_ref<bool(T)> keep,
                   llvm::function_ref<bool(T)> drop) {
  auto type = cast<RankedTensorType>(attr.getType());
  int64_t rank = type.getRank();
  if (rank < 2 || rank != scores.getRank() ||
      type.getShape().take_back(2) != scores.getShape().take_back(2) ||
      type.getNumElements() !=
          type.getShape()[rank - 1] * type.getShape()[rank - 2])
    return false;
  int64_t queries = type.getShape()[rank - 2], keys = type.getShape()[rank - 1];
  SmallVector<T> values(attr.getValues<T>());
  for (int64_t q = 0; q < queries; ++q)
    for (int64_t k = 0; k < keys; ++k) {
      T value = values[q * keys + k];
      if (!(k <= q + (keys - queries) ? keep(value) : drop(value)))
        return false;
    }
  return true;
}

/// The scores a causal mask is applied to: a select on a constant tril
/// (masked_fill of a registered bool buffer) or the sum with a constant
/// 0/-inf bias.
Value getCausallyMasked(Value value) {
  auto scores = cast<RankedTensorType>(value.getType());
  if (auto select = value.getDefiningOp<tosa::SelectOp>()) {
    DenseElementsAttr mask;
    std::optional<double> fill = getSplat(select.getInput3());
    if (matchPattern(select.getInput1(), m_Constant(&mask)) && fill &&
        std::isinf(*fill) && *fill < 0 &&
        isCausalTable<bool>(
            mask, scores, [](bool v) { return v; }, [](bool v) { return !v; }))
      return select.getInput2();
  }
  auto isCausalBias = [&](Value bias) {
    DenseFPElementsAttr table;
    return matchPattern(bias, m_Constant(&table)) &&
           isCausalTable<APFloat>(
               table, scores, [](APFloat v) { return v.isZero(); },
               [](APFloat v) { return v.isInfinity() && v.isNegative(); });
  };
  if (auto biasAndScores =
          matchEither(value.getDefiningOp<tosa::AddOp>(), isCausalBias))
    return biasAndScores->second;
  return {};
}

/// softmax over the last axis as torch-mlir's TOSA spells aten._softmax:
/// exp(x - max(x)) times the reciprocal of its sum.
struct SoftmaxFromTosa : OpRewritePattern<tosa::MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::MulOp op,
                                PatternRewriter &rewriter) const override {
    tosa::ExpOp exp;
    auto expAndInverse = matchEither(op, [&](Value value) {
      exp = value.getDefiningOp<tosa::ExpOp>();
      return static_cast<bool>(exp);
    });
    if (!expAndInverse)
      return failure();
    auto inverse = expAndInverse->second.getDefiningOp<tosa::ReciprocalOp>();
    if (!inverse || getLastAxisReduced<tosa::ReduceSumOp>(
                        inverse.getInput1()) != exp.getResult())
      return failure();
    auto shifted = exp.getInput1().getDefiningOp<tosa::SubOp>();
    if (!shifted || getLastAxisReduced<tosa::ReduceMaxOp>(
                        shifted.getInput2()) != shifted.getInput1())
      return failure();
    Value scores = shifted.getInput1();
    if (scores.getType() != op.getType())
      return failure();
    bool causal = false;
    if (Value unmasked = getCausallyMasked(scores)) {
      scores = unmasked;
      causal = true;
    }
    rewriter.replaceOpWithNewOp<SoftmaxOp>(op, scores, causal,
                                           /*window=*/IntegerAttr());
    return success();
  }
};

/// The start along the last dim of a slice that keeps one entry of it and
/// every entry of the others.
std::optional<int64_t> getLastDimSliceStart(tosa::SliceOp slice) {
  auto start = slice.getStart().getDefiningOp<tosa::ConstShapeOp>();
  auto size = slice.getSize().getDefiningOp<tosa::ConstShapeOp>();
  auto inputType = cast<RankedTensorType>(slice.getInput1().getType());
  if (!start || !size)
    return std::nullopt;
  SmallVector<int64_t> starts(start.getValues().getValues<int64_t>());
  SmallVector<int64_t> sizes(size.getValues().getValues<int64_t>());
  ArrayRef<int64_t> shape = inputType.getShape();
  for (int64_t dim = 0, rank = shape.size(); dim + 1 < rank; ++dim)
    if (starts[dim] != 0 || sizes[dim] != shape[dim])
      return std::nullopt;
  if (sizes.back() != 1)
    return std::nullopt;
  return starts.back();
}

/// torchtitan's rotary embedding in real arithmetic (gpt-fast's
/// apply_rotary_emb): x [..., seq, heads, head_dim] viewed as pairs
/// [..., head_dim / 2, 2] of (a, b), each rotated by a cos/sin cache into
/// (a·cos − b·sin, b·cos + a·sin) and stacked back. The caches must be the
/// angles p · theta^(-2i / head_dim) of one theta, which is read from them.
struct RopeFromTosa : OpRewritePattern<tosa::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto concat = op.getInput1().getDefiningOp<tosa::ConcatOp>();
    auto outType = cast<RankedTensorType>(op.getType());
    int64_t rank = outType.getRank();
    if (!concat || concat.getInput1().size() != 2 || rank < 3 ||
        static_cast<int64_t>(concat.getAxis()) != rank)
      return failure();
    auto pairsType = cast<RankedTensorType>(concat.getType());
    int64_t headDim = outType.getShape().back();
    if (pairsType.getRank() != rank + 1 ||
        pairsType.getShape().take_front(rank - 1) !=
            outType.getShape().drop_back() ||
        pairsType.getShape().back() != 2 || headDim % 2)
      return failure();

    // Each half: the pairs' entry `index`, times a cache.
    Value input;
    DenseFPElementsAttr cosTable, sinTable;
    auto matchProduct = [&](Value value, int64_t index,
                            DenseFPElementsAttr &table) {
      auto mul = value.getDefiningOp<tosa::MulOp>();
      auto pairAndTable = matchEither(mul, [&](Value v) {
        auto slice = v.getDefiningOp<tosa::SliceOp>();
        return slice && getLastDimSliceStart(slice) == index;
      });
      if (!pairAndTable)
        return false;
      DenseFPElementsAttr found;
      if (!matchPattern(pairAndTable->second, m_Constant(&found)) ||
          (table && table != found))
        return false;
      table = found;
      auto pairs = pairAndTable->first.getDefiningOp<tosa::SliceOp>()
                       .getInput1()
                       .getDefiningOp<tosa::ReshapeOp>();
      if (!pairs || pairs.getInput1().getType() != outType ||
          (input && input != pairs.getInput1()))
        return false;
      input = pairs.getInput1();
      return true;
    };
    auto real = concat.getInput1()[0].getDefiningOp<tosa::SubOp>();
    auto imag = concat.getInput1()[1].getDefiningOp<tosa::AddOp>();
    if (!real || !imag || !matchProduct(real.getInput1(), 0, cosTable) ||
        !matchProduct(real.getInput2(), 1, sinTable))
      return failure();
    bool imagMatches = (matchProduct(imag.getInput1(), 1, cosTable) &&
                        matchProduct(imag.getInput2(), 0, sinTable)) ||
                       (matchProduct(imag.getInput1(), 0, sinTable) &&
                        matchProduct(imag.getInput2(), 1, cosTable));
    if (!imagMatches)
      return failure();
    std::optional<double> theta =
        getRopeTheta(cosTable, sinTable, outType.getShape()[rank - 3], headDim);
    if (!theta)
      return failure();
    rewriter.replaceOpWithNewOp<RopeOp>(op, input,
                                        rewriter.getF64FloatAttr(*theta),
                                        /*llama3_scaling=*/nullptr,
                                        /*linear_scaling=*/nullptr,
                                        /*rotary_dims=*/nullptr,
                                        /*longrope_factors=*/nullptr,
                                        /*attention_factor=*/nullptr);
    return success();
  }

  /// The theta of caches [.., seq, 1, head_dim / 2, 1] (unit dims aside),
  /// when every entry is its cos / sin within f32 rounding of the angle.
  static std::optional<double> getRopeTheta(DenseFPElementsAttr cosTable,
                                            DenseFPElementsAttr sinTable,
                                            int64_t seq, int64_t headDim) {
    int64_t half = headDim / 2;
    if (cosTable.getType() != sinTable.getType() ||
        cosTable.getNumElements() != seq * half)
      return std::nullopt;
    ArrayRef<int64_t> shape = cosTable.getType().getShape();
    int64_t rank = shape.size();
    if (shape[rank - 1] != 1 || shape[rank - 2] != half ||
        shape[rank - 3] != 1 || shape[rank - 4] != seq)
      return std::nullopt;
    SmallVector<double> cosines, sines;
    for (const APFloat &v : cosTable.getValues<APFloat>())
      cosines.push_back(v.convertToDouble());
    for (const APFloat &v : sinTable.getValues<APFloat>())
      sines.push_back(v.convertToDouble());
    // Pair 1's frequency theta^(-2 / head_dim), read at position 1; with
    // one pair the frequency is 1 whatever theta is.
    double theta = 10000;
    if (half > 1 && seq > 1) {
      double frequency = std::atan2(sines[half + 1], cosines[half + 1]);
      if (!(frequency > 0 && frequency < 1))
        return std::nullopt;
      theta = std::pow(frequency, -headDim / 2.0);
    }
    auto fits = [&](double theta) {
      for (int64_t p = 0; p < seq; ++p)
        for (int64_t i = 0; i < half; ++i) {
          double angle = p * std::pow(theta, -2.0 * i / headDim);
          // f32 caches computed in f32 (torchtitan) round the angle too.
          double tolerance = 1e-5 * std::max(1.0, angle);
          if (std::fabs(cosines[p * half + i] - std::cos(angle)) > tolerance ||
              std::fabs(sines[p * half + i] - std::sin(angle)) > tolerance)
            return false;
        }
      return true;
    };
    // Models give theta as an integer (10000, 500000); the f32 caches
    // read it only to a few digits.
    if (fits(std::round(theta)))
      return std::round(theta);
    if (fits(theta))
      return theta;
    return std::nullopt;
  }
};

/// The integer tensor `ids` was reshaped or cast from: torch-mlir casts
/// token ids to i32 and flattens them for tosa.gather.
Value getOriginalIds(Value ids) {
  while (true) {
    if (auto reshape = ids.getDefiningOp<tosa::ReshapeOp>())
      ids = reshape.getInput1();
    else if (auto cast = ids.getDefiningOp<tosa::CastOp>();
             cast &&
             isa<IntegerType>(getElementTypeOrSelf(cast.getInput().getType())))
      ids = cast.getInput();
    else
      return ids;
  }
}

/// nn.Embedding as torch-mlir's TOSA spells it: the [V, D] table reshaped
/// to [1, V, D], the ids (cast to i32) flattened to [1, N], tosa.gather;
/// the ids as the model holds them and the table become mp.embedding,
/// reshaped to the gather's result.
struct EmbeddingFromTosaGather : OpRewritePattern<tosa::GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::GatherOp op,
                                PatternRewriter &rewriter) const override {
    auto tableReshape = op.getValues().getDefiningOp<tosa::ReshapeOp>();
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!tableReshape || resultType.getDimSize(0) != 1)
      return failure();
    Value table = tableReshape.getInput1();
    Value ids = getOriginalIds(op.getIndices());
    auto tableType = cast<RankedTensorType>(table.getType());
    auto idsType = cast<RankedTensorType>(ids.getType());
    Type idType = idsType.getElementType();
    if (tableType.getRank() != 2 || !tableType.getElementType().isF32() ||
        !(idType.isSignlessInteger(32) || idType.isSignlessInteger(64)) ||
        idsType.getNumElements() != resultType.getDimSize(1))
      return failure();
    Value rows = EmbeddingOp::create(rewriter, op.getLoc(), ids, table,
                                     /*padding_idx=*/nullptr);
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, resultType, rows);
    return success();
  }
};

/// The integer mask a boolean condition reads, and whether the condition
/// is true where the mask keeps an entry: `mask != 0` (a cast to i1), or
/// `mask == 0` (tosa.equal with a zero), either negated.
std::optional<std::pair<Value, bool>> getMaskSource(Value condition) {
  if (auto negation = condition.getDefiningOp<tosa::LogicalNotOp>()) {
    auto source = getMaskSource(negation.getInput1());
    if (source)
      source->second = !source->second;
    return source;
  }
  auto isInteger = [](Value value) {
    return isa<IntegerType>(getElementTypeOrSelf(value.getType()));
  };
  if (auto cast = condition.getDefiningOp<tosa::CastOp>();
      cast && isInteger(cast.getInput()))
    return std::pair(cast.getInput(), true);
  auto isZero = [](Value value) {
    DenseIntElementsAttr zero;
    return matchPattern(value, m_Constant(&zero)) && zero.isSplat() &&
           zero.getSplatValue<APInt>().isZero();
  };
  if (auto equal = condition.getDefiningOp<tosa::EqualOp>()) {
    Value a = equal.getInput1(), b = equal.getInput2();
    if (isZero(b) && isInteger(a))
      return std::pair(a, false);
    if (isZero(a) && isInteger(b))
      return std::pair(b, false);
  }
  return std::nullopt;
}

/// `masked_fill(mask == 0, -inf)` of a mask the model is given (an integer
/// input, HF's and gpt-fast's attention mask): the select becomes the sum
/// with mp.mask_bias of the mask, which TOSA's add broadcasts as the select
/// did. Constant masks are the softmax pattern's (causal).
struct MaskBiasFromTosaSelect : OpRewritePattern<tosa::SelectOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::SelectOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<std::pair<Value, bool>> source =
        getMaskSource(op.getInput1());
    if (!source)
      return failure();
    Value mask = getOriginalIds(source->first);
    auto maskType = cast<RankedTensorType>(mask.getType());
    Type element = maskType.getElementType();
    if (matchPattern(mask, m_Constant()) ||
        !(element.isSignlessInteger(32) || element.isSignlessInteger(64)))
      return failure();
    Value kept = source->second ? op.getInput2() : op.getInput3();
    std::optional<double> fill =
        getSplat(source->second ? op.getInput3() : op.getInput2());
    if (!fill || !std::isinf(*fill) || *fill > 0 ||
        kept.getType() != op.getType())
      return failure();
    auto conditionType = cast<RankedTensorType>(op.getInput1().getType());
    if (maskType.getNumElements() != conditionType.getNumElements())
      return failure();
    Value bias = MaskBiasOp::create(
        rewriter, op.getLoc(),
        RankedTensorType::get(maskType.getShape(), rewriter.getF32Type()), mask,
        rewriter.getF64FloatAttr(*fill));
    bias = getReshaped(rewriter, op.getLoc(), bias, conditionType.getShape());
    rewriter.replaceOpWithNewOp<tosa::AddOp>(op, op.getType(), kept, bias);
    return success();
  }
};

/// Where the primitives mp imports only as parts of a composite are read.
std::optional<StringRef> getCompositesReading(Operation *op) {
  constexpr StringLiteral norm =
      "RMSNorm (x * rsqrt(mean(x^2) + eps) * weight)";
  constexpr StringLiteral softmax =
      "softmax (exp(x - max(x)) * reciprocal(sum(exp(x - max(x)))), with "
      "an optional causal mask: a select on a constant tril or a constant "
      "0/-inf bias; or a mask the model is given, an integer input, as a "
      "select of -inf where it is 0)";
  constexpr StringLiteral embedding =
      "an embedding (rows of a reshaped [V, D] table gathered by integer "
      "ids)";
  constexpr StringLiteral rope =
      "the rotary embedding (pairs of the last dim rotated by constant "
      "cos/sin caches of one theta)";
  return llvm::TypeSwitch<Operation *, std::optional<StringRef>>(op)
      .Case<tosa::RsqrtOp, tosa::PowOp>([&](auto) { return norm; })
      .Case<tosa::ReduceMaxOp, tosa::ReciprocalOp, tosa::SelectOp>(
          [&](auto) { return softmax; })
      .Case<tosa::SliceOp, tosa::ConcatOp>([&](auto) { return rope; })
      .Case<tosa::GatherOp>([&](auto) { return embedding; })
      .Default([](Operation *) { return std::nullopt; });
}

struct RaiseTosaComposites
    : impl::RaiseTosaCompositesBase<RaiseTosaComposites> {
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet set(context);
    set.add<RmsNormFromTosa, SoftmaxFromTosa, RopeFromTosa,
            EmbeddingFromTosaGather, MaskBiasFromTosaSelect>(context);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (failed(applyPatternsGreedily(func, patterns)))
      return signalPassFailure();
    WalkResult result = func.walk([](Operation *op) {
      std::optional<StringRef> composites = getCompositesReading(op);
      if (!composites)
        return WalkResult::advance();
      op->emitError() << "cannot import '" << op->getName()
                      << "' on its own: mp reads it only as part of "
                      << *composites
                      << ", and this one is not part of such a pattern";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  FrozenRewritePatternSet patterns;
};

} // namespace
} // namespace mp
