//===- Simplify.cpp - the idiomatic mp form of raised linalg --------------===//
//
// Raising is op by op; these patterns fold what frontends spell in several
// ops into the one mp op that states it, so plans and sharding rules see a
// linear where PyTorch had an nn.Linear.
//
//===----------------------------------------------------------------------===//

#include "LinalgToMP.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include <cmath>

using namespace mlir;

namespace mp::import {
namespace {

/// matmul(x, transpose(W)) with a 2-D W is x · Wᵀ: nn.Linear's weight.
struct LinearFromTransposedWeight : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto transpose = op.getRhs().getDefiningOp<TransposeOp>();
    if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
      return failure();
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getLhs(), transpose.getInput(),
                                          op.getPrecisionAttr());
    return success();
  }
};

/// A 2-D right operand broadcast over the batch, or given unit batch dims
/// (TOSA's rank-3 matmul), is the shared operand mp.matmul takes as it is.
struct MatmulOfBroadcastRhs : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
    int64_t batchRank = rhsType.getRank() - 2;
    Value shared;
    if (auto broadcast = op.getRhs().getDefiningOp<BroadcastOp>();
        broadcast &&
        llvm::equal(broadcast.getDims(), llvm::seq<int64_t>(0, batchRank)))
      shared = broadcast.getInput();
    if (auto reshape = op.getRhs().getDefiningOp<ReshapeOp>();
        reshape && batchRank > 0 &&
        llvm::all_of(rhsType.getShape().take_front(batchRank),
                     [](int64_t size) { return size == 1; }) &&
        cast<RankedTensorType>(reshape.getInput().getType()).getShape() ==
            rhsType.getShape().take_back(2))
      shared = reshape.getInput();
    if (!shared || cast<RankedTensorType>(shared.getType()).getRank() != 2)
      return failure();
    rewriter.replaceOpWithNewOp<MatmulOp>(op, op.getLhs(), shared,
                                          op.getPrecisionAttr());
    return success();
  }
};

/// x · sigmoid(x) is silu(x), as torch-mlir spells F.silu.
struct SiluFromSigmoid : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [x, other] : {std::pair(op.getLhs(), op.getRhs()),
                            std::pair(op.getRhs(), op.getLhs())}) {
      auto sigmoid = other.getDefiningOp<SigmoidOp>();
      if (sigmoid && sigmoid.getInput() == x) {
        rewriter.replaceOpWithNewOp<SiluOp>(op, x);
        return success();
      }
    }
    return failure();
  }
};

/// A sum scaled by one over its element count is a mean, also through the
/// reshape of a sum that keeps its reduced dims (keepdim=True).
struct MeanFromScaledSum : OpRewritePattern<ScaleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleOp op,
                                PatternRewriter &rewriter) const override {
    auto reshape = op.getInput().getDefiningOp<ReshapeOp>();
    auto sum = (reshape ? reshape.getInput() : op.getInput())
                   .getDefiningOp<SumOp>();
    if (!sum)
      return failure();
    auto type = cast<RankedTensorType>(sum.getInput().getType());
    double count = 1;
    for (int64_t dim : sum.getReducedDims())
      count *= type.getDimSize(dim);
    if (std::fabs(op.getFactor().convertToDouble() * count - 1) > 1e-6)
      return failure();
    Value mean = MeanOp::create(rewriter, op.getLoc(), sum.getInput(),
                                sum.getDimsAttr());
    if (reshape)
      mean = ReshapeOp::create(rewriter, op.getLoc(), op.getType(), mean);
    rewriter.replaceOp(op, mean);
    return success();
  }
};

/// A reshape of a reshape is one reshape; a reshape to the same type is
/// none.
struct FoldReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInput().getType() == op.getType()) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), inner.getInput());
    return success();
  }
};

/// linear(reshape(x)) where the reshape's last dim is a run of x's last
/// dims merged (TOSA's rank-3 matmul merges or adds leading dims; attention
/// merges heads into the model dim) is the linear of x with that run
/// merged, reshaped: x keeps its batch and sequence dims for sharding, and
/// the reshapes meet and fold.
struct LinearBeforeReshape : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto flatten = op.getInput().getDefiningOp<ReshapeOp>();
    if (!flatten)
      return failure();
    auto xType = cast<RankedTensorType>(flatten.getInput().getType());
    ArrayRef<int64_t> x = xType.getShape();
    int64_t features = flatten.getType().getShape().back();
    // The leading dims of x that stay: x's last dims multiply to features.
    int64_t kept = x.size(), product = 1;
    while (kept > 0 && product < features)
      product *= x[--kept];
    if (product != features || kept == 0)
      return failure();
    SmallVector<int64_t> merged(x.take_front(kept));
    merged.push_back(features);
    if (ArrayRef<int64_t>(merged) == flatten.getType().getShape())
      return failure(); // Already the linear of x with the run merged.

    Value input = flatten.getInput();
    if (merged.size() != x.size())
      input = ReshapeOp::create(
          rewriter, op.getLoc(),
          RankedTensorType::get(merged, xType.getElementType()), input);
    Value linear = LinearOp::create(rewriter, op.getLoc(), input,
                                    op.getWeight(), op.getPrecisionAttr());
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), linear);
    return success();
  }
};

/// matmul(reshape(a), reshape(b)) whose reshapes only merge equal batch
/// dims of a and b (TOSA's rank-3 matmul of per-head attention) is the
/// batched matmul of a and b, reshaped: the head dim stays a dim that
/// tensor parallelism splits.
struct MatmulBeforeReshapes : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto lhs = op.getLhs().getDefiningOp<ReshapeOp>();
    auto rhs = op.getRhs().getDefiningOp<ReshapeOp>();
    if (!lhs || !rhs)
      return failure();
    auto keepsMatrix = [](ReshapeOp reshape) {
      ArrayRef<int64_t> in =
          cast<RankedTensorType>(reshape.getInput().getType()).getShape();
      ArrayRef<int64_t> out = reshape.getType().getShape();
      return in.size() >= 2 && out.size() >= 2 &&
             in.take_back(2) == out.take_back(2);
    };
    ArrayRef<int64_t> a =
        cast<RankedTensorType>(lhs.getInput().getType()).getShape();
    ArrayRef<int64_t> b =
        cast<RankedTensorType>(rhs.getInput().getType()).getShape();
    if (!keepsMatrix(lhs) || !keepsMatrix(rhs) || a.size() != b.size() ||
        a.drop_back(2) != b.drop_back(2))
      return failure();
    Value matmul = MatmulOp::create(rewriter, op.getLoc(), lhs.getInput(),
                                    rhs.getInput(), op.getPrecisionAttr());
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), matmul);
    return success();
  }
};

} // namespace

void populateSimplifyPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearFromTransposedWeight, MatmulOfBroadcastRhs,
               SiluFromSigmoid, MeanFromScaledSum, FoldReshapes,
               LinearBeforeReshape, MatmulBeforeReshapes>(
      patterns.getContext());
}

} // namespace mp::import
