//===- FuseAttention.cpp - attention's score chain into mp.attention ------===//
//
// A model's attention is written as PyTorch writes it without SDPA:
// matmul(q, kᵀ), a scale by 1/sqrt(head_dim), Gemma 2's soft cap or
// ALiBi's bias, a (causal) softmax and a matmul with v. Each step between the
// GEMMs is a pass over a [batch, heads, sq, sk] tensor, and the training step
// keeps the probabilities for the backward pass. mp.attention computes the same
// values chunk by chunk of query rows and its gradient computes the scores
// again, so neither the scores nor the probabilities are ever whole.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include <cmath>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_FUSEATTENTION
#include "mp/Transforms/Passes.h.inc"

namespace {

/// A value as a permutation of another: `value` = transpose(source, perm).
struct Permuted {
  Value source;
  SmallVector<int64_t> perm;

  /// `value` as the transpose that makes it, or as itself.
  static Permuted of(Value value) {
    if (auto transpose = value.getDefiningOp<TransposeOp>())
      return {transpose.getInput(),
              llvm::to_vector(transpose.getPermutation())};
    int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
    return {value, llvm::to_vector(llvm::seq<int64_t>(0, rank))};
  }

  /// Grouped-query attention's repeat_kv, undone: when the source is
  /// reshape(broadcast(x)), the broadcast repeating each head (dim j - 1
  /// of the reshape, which the permutation moves before the sequence) in a
  /// new dim j that the reshape merges into it, the source becomes x.
  /// Returns the repetition, 1 when there is none.
  int64_t unrepeatHeads() {
    auto reshape = source.getDefiningOp<ReshapeOp>();
    auto broadcast =
        reshape ? reshape.getInput().getDefiningOp<BroadcastOp>() : nullptr;
    if (!broadcast || broadcast.getDims().size() != 1)
      return 1;
    int64_t j = broadcast.getDims().front(), rank = perm.size();
    ArrayRef<int64_t> repeated = broadcast.getResult().getType().getShape();
    SmallVector<int64_t> merged(repeated);
    if (j < 1 || rank < 3 || perm[rank - 3] != j - 1)
      return 1;
    merged[j - 1] *= repeated[j];
    merged.erase(merged.begin() + j);
    if (ArrayRef<int64_t>(merged) != reshape.getResult().getType().getShape())
      return 1;
    source = broadcast.getInput();
    return repeated[j];
  }

  /// The value, built at `b`'s insertion point unless it is the source.
  Value build(OpBuilder &b, Location loc) const {
    if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
      return source;
    return TransposeOp::create(b, loc, source, b.getDenseI64ArrayAttr(perm));
  }
};

/// Erases `op`, a transpose, reshape or broadcast nothing reads any more,
/// and in turn the ones of those that only it read.
void eraseDeadLayoutChain(Operation *op) {
  while (op && isa<TransposeOp, ReshapeOp, BroadcastOp>(op) &&
         op->use_empty()) {
    Operation *input = op->getOperand(0).getDefiningOp();
    op->erase();
    op = input;
  }
}

/// Gemma 2's soft cap c · tanh(x / c), written as scale(tanh(scale(x, 1 /
/// c)), c) with each op read only by the next: returns c, moves `value`
/// to x and appends the three ops to `chain`; nothing where `value` is not
/// such a cap (the factors reciprocal to the rounding of their decimals,
/// c a positive, finite float32 as mp.attention takes it).
std::optional<double> matchSoftcap(Value &value,
                                   SmallVectorImpl<Operation *> &chain) {
  auto outer = value.getDefiningOp<ScaleOp>();
  auto tanh = outer ? outer.getInput().getDefiningOp<TanhOp>() : TanhOp();
  auto inner = tanh ? tanh.getInput().getDefiningOp<ScaleOp>() : ScaleOp();
  if (!inner || !outer->hasOneUse() || !tanh->hasOneUse() ||
      !inner->hasOneUse())
    return std::nullopt;
  double cap = outer.getFactor().convertToDouble();
  double inverse = inner.getFactor().convertToDouble();
  if (!(cap > 0) || !std::isfinite(float(cap)) ||
      std::abs(cap * inverse - 1) > 1e-12)
    return std::nullopt;
  value = inner.getInput();
  chain.append({outer, tanh, inner});
  return cap;
}

struct FuseAttentionPass : impl::FuseAttentionBase<FuseAttentionPass> {
  using FuseAttentionBase::FuseAttentionBase;

  void runOnOperation() override {
    if (chunkBytes < 0) {
      getOperation().emitError()
          << "mp-fuse-attention chunk-bytes must not be negative, got "
          << int64_t(chunkBytes);
      return signalPassFailure();
    }
    SmallVector<MatmulOp> candidates;
    getOperation().walk([&](MatmulOp matmul) { candidates.push_back(matmul); });
    for (MatmulOp matmul : candidates)
      fuse(matmul);
  }

  /// ALiBi's bias of mp.alibi_slopes's slopes on `scores`, its form
  /// bfloat16 (Falcon's) or not: the op pushed onto `chain` and `scores`
  /// moved to its input. Null where there is none, or one that cannot
  /// fuse (`fusable` false: learned slopes, or another reader).
  static Value matchAlibi(Value &scores, bool bf16Bias,
                          SmallVectorImpl<Operation *> &chain, bool &fusable) {
    auto alibi = scores.getDefiningOp<AlibiOp>();
    if (!alibi || alibi.getBf16Bias() != bf16Bias)
      return Value();
    if (!alibi->hasOneUse() ||
        !alibi.getSlopes().getDefiningOp<AlibiSlopesOp>()) {
      fusable = false;
      return Value();
    }
    scores = alibi.getScores();
    chain.push_back(alibi);
    return alibi.getSlopes();
  }

  /// matmul(softmax(cap(scale(matmul(q, kᵀ)))), v) -> attention(q, k, v),
  /// the scale and Gemma 2's soft cap optional (or in the cap's place
  /// ALiBi's bias with mp.alibi_slopes's slopes; Falcon's, in bfloat16,
  /// goes between the scores' GEMM and the scale), when each intermediate
  /// has no other reader, the operands are batched float32 tensors of one
  /// rank and both GEMMs have one precision.
  void fuse(MatmulOp output) {
    auto softmax = output.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax || !softmax->hasOneUse() || output.getScale())
      return;
    // The ops from the output GEMM down to the scores' GEMM, readers first.
    SmallVector<Operation *> chain = {output, softmax};
    Value scores = softmax.getInput();
    bool fusable = true;
    Value alibiSlopes = matchAlibi(scores, false, chain, fusable);
    if (!fusable)
      return;
    std::optional<double> softcap =
        alibiSlopes ? std::nullopt : matchSoftcap(scores, chain);
    double factor = 1;
    if (auto scale = scores.getDefiningOp<ScaleOp>()) {
      if (!scale->hasOneUse())
        return;
      factor = scale.getFactor().convertToDouble();
      scores = scale.getInput();
      chain.push_back(scale);
    }
    bool alibiBf16 = false;
    if (!alibiSlopes && !softcap) {
      alibiSlopes = matchAlibi(scores, true, chain, fusable);
      alibiBf16 = bool(alibiSlopes);
    }
    auto product = scores.getDefiningOp<MatmulOp>();
    if (!fusable || !product || !product->hasOneUse() ||
        product.getPrecisionAttr() != output.getPrecisionAttr() ||
        (alibiBf16 && product.getEffectiveScale() != 1))
      return;
    chain.push_back(product);
    factor *= product.getEffectiveScale();
    Value query = product.getLhs(), keyT = product.getRhs(),
          value = output.getRhs();
    int64_t rank = cast<RankedTensorType>(query.getType()).getRank();
    for (Value operand : {query, keyT, value}) {
      auto type = cast<RankedTensorType>(operand.getType());
      if (type.getRank() != rank || !type.getElementType().isF32())
        return;
    }
    float alpha = float(factor);
    if (!std::isfinite(alpha) || alpha == 0)
      return;

    // The key is kᵀ with its last two dims swapped back; keys and values
    // repeated per query head (repeat_kv) are read once per group instead.
    Permuted key = Permuted::of(keyT), values = Permuted::of(value);
    std::swap(key.perm[rank - 2], key.perm[rank - 1]);
    Permuted groupedKey = key, groupedValues = values;
    int64_t group = groupedKey.unrepeatHeads();
    if (group > 1 && groupedValues.unrepeatHeads() == group) {
      key = groupedKey;
      values = groupedValues;
    }

    OpBuilder b(output);
    Location loc = output.getLoc();
    Value keys = key.build(b, loc);
    Value valuesRead = values.build(b, loc);
    auto attention = AttentionOp::create(
        b, loc, query, keys, valuesRead, alibiSlopes,
        alibiBf16 ? b.getUnitAttr() : UnitAttr(), b.getF64FloatAttr(factor),
        softcap ? b.getF64FloatAttr(*softcap) : FloatAttr(),
        softmax.getCausalAttr(), softmax.getWindowAttr(),
        chunkBytes > 0 ? b.getI64IntegerAttr(chunkBytes) : IntegerAttr(),
        output.getPrecisionAttr());
    output.getResult().replaceAllUsesWith(attention.getResult());
    for (Operation *op : chain)
      op->erase();
    eraseDeadLayoutChain(keyT.getDefiningOp());
    eraseDeadLayoutChain(value.getDefiningOp());
  }
};

} // namespace
} // namespace mp
