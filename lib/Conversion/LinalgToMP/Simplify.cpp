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
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getLhs(),
                                          transpose.getInput());
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
    rewriter.replaceOpWithNewOp<MatmulOp>(op, op.getLhs(), shared);
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

/// reshape(linear(reshape(x))) that only merges and splits again the
/// leading dims of x is linear(x), which keeps x's batch and sequence dims
/// for sharding.
struct LinearThroughReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto linear = op.getInput().getDefiningOp<LinearOp>();
    if (!linear || !linear->hasOneUse())
      return failure();
    auto flatten = linear.getInput().getDefiningOp<ReshapeOp>();
    if (!flatten)
      return failure();
    ArrayRef<int64_t> x =
        cast<RankedTensorType>(flatten.getInput().getType()).getShape();
    ArrayRef<int64_t> flat = flatten.getType().getShape();
    ArrayRef<int64_t> out = op.getType().getShape();
    if (x.empty() || out.empty() || flat.back() != x.back() ||
        x.drop_back() != out.drop_back())
      return failure();
    rewriter.replaceOpWithNewOp<LinearOp>(op, flatten.getInput(),
                                          linear.getWeight());
    return success();
  }
};

} // namespace

void populateSimplifyPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearFromTransposedWeight, MatmulOfBroadcastRhs,
               SiluFromSigmoid, MeanFromScaledSum, FoldReshapes,
               LinearThroughReshapes>(patterns.getContext());
}

} // namespace mp::import
