//===- FuseAttention.cpp - attention's score chain into mp.attention ------===//
//
// A model's attention is written as PyTorch writes it without SDPA:
// matmul(q, kᵀ), a scale by 1/sqrt(head_dim), a (causal) softmax and a
// matmul with v. Each step between the GEMMs is a pass over a
// [batch, heads, sq, sk] tensor, and the training step keeps the
// probabilities for the backward pass. mp.attention computes the same
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

/// The value whose last two dims are swapped in `transposed`, written as a
/// transpose of what `transposed` transposes, or of `transposed` itself.
Value swapLastDims(OpBuilder &b, Location loc, Value transposed) {
  int64_t rank = cast<RankedTensorType>(transposed.getType()).getRank();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  Value source = transposed;
  if (auto transpose = transposed.getDefiningOp<TransposeOp>()) {
    perm = llvm::to_vector(transpose.getPermutation());
    source = transpose.getInput();
  }
  std::swap(perm[rank - 2], perm[rank - 1]);
  if (llvm::equal(perm, llvm::seq<int64_t>(0, rank)))
    return source;
  return TransposeOp::create(b, loc, source, b.getDenseI64ArrayAttr(perm));
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

  /// matmul(softmax(scale(matmul(q, kᵀ))), v) -> attention(q, k, v), when
  /// each intermediate has no other reader, the operands are batched
  /// float32 tensors of one rank and both GEMMs have one precision.
  void fuse(MatmulOp output) {
    auto softmax = output.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax || !softmax->hasOneUse() || output.getScale())
      return;
    Value scores = softmax.getInput();
    double factor = 1;
    if (auto scale = scores.getDefiningOp<ScaleOp>()) {
      if (!scale->hasOneUse())
        return;
      factor = scale.getFactor().convertToDouble();
      scores = scale.getInput();
    }
    auto product = scores.getDefiningOp<MatmulOp>();
    if (!product || !product->hasOneUse() ||
        product.getPrecisionAttr() != output.getPrecisionAttr())
      return;
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

    OpBuilder b(output);
    Location loc = output.getLoc();
    Value key = swapLastDims(b, loc, keyT);
    auto attention = AttentionOp::create(
        b, loc, query, key, value, b.getF64FloatAttr(factor),
        softmax.getCausalAttr(),
        chunkBytes > 0 ? b.getI64IntegerAttr(chunkBytes) : IntegerAttr(),
        output.getPrecisionAttr());
    output.getResult().replaceAllUsesWith(attention.getResult());
    Operation *scale = softmax.getInput().getDefiningOp();
    output->erase();
    softmax->erase();
    if (scale != product)
      scale->erase();
    product->erase();
    if (auto transpose = keyT.getDefiningOp<TransposeOp>();
        transpose && transpose->use_empty())
      transpose->erase();
  }
};

} // namespace
} // namespace mp
