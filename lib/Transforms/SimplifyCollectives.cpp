//===- SimplifyCollectives.cpp - fuse and cancel collectives --------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/Debug.h"


#define DEBUG_TYPE "mp-simplify-collectives"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_SIMPLIFYCOLLECTIVES
#include "mp/Transforms/Passes.h.inc"

namespace {

/// The provenance of a collective made of two: both, when they differ.
StringAttr mergeOrigins(Builder &builder, StringAttr first, StringAttr second) {
  if (!first || first == second)
    return second;
  if (!second)
    return first;
  return builder.getStringAttr(first.getValue() + "; " + second.getValue());
}

/// shard_slice(all_reduce(x, A), B ⊆ A, d) = all_reduce(reduce_scatter(x, B,
/// d), A \ B): the sum is scattered first, so the rest moves less data.
struct SliceOfAllReduce : OpRewritePattern<ShardSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ShardSliceOp slice,
                                PatternRewriter &rewriter) const override {
    auto reduce = slice.getInput().getDefiningOp<AllReduceOp>();
    if (!reduce || !reduce->hasOneUse() ||
        reduce.getMeshAttr() != slice.getMeshAttr())
      return failure();
    SmallVector<StringRef> reduced = getAxisNames(reduce.getAxes());
    SmallVector<StringRef> sliced = getAxisNames(slice.getAxes());
    if (!llvm::all_of(sliced, [&](StringRef axis) {
          return llvm::is_contained(reduced, axis);
        }))
      return failure();
    StringAttr origin =
        mergeOrigins(rewriter, reduce.getOriginAttr(), slice.getOriginAttr());
    Value result = ReduceScatterOp::create(
        rewriter, slice.getLoc(), slice.getType(), reduce.getInput(),
        slice.getMeshAttr(), slice.getAxes(), slice.getDimAttr(), origin);
    SmallVector<StringRef> rest;
    for (StringRef axis : reduced)
      if (!llvm::is_contained(sliced, axis))
        rest.push_back(axis);
    if (!rest.empty())
      result = AllReduceOp::create(rewriter, slice.getLoc(), result,
                                   slice.getMeshAttr(),
                                   rewriter.getStrArrayAttr(rest), origin);
    LLVM_DEBUG(llvm::dbgs() << "[mp-simplify-collectives] slice of all_reduce "
                               "at "
                            << slice.getLoc() << " -> reduce_scatter\n");
    rewriter.replaceOp(slice, result);
    rewriter.eraseOp(reduce);
    return success();
  }
};

/// shard_slice(all_gather(x, A, i), A, j): nothing when i = j, else an
/// all_to_all moving the split from dim i to dim j.
struct SliceOfAllGather : OpRewritePattern<ShardSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ShardSliceOp slice,
                                PatternRewriter &rewriter) const override {
    auto gather = slice.getInput().getDefiningOp<AllGatherOp>();
    if (!gather || gather.getMeshAttr() != slice.getMeshAttr() ||
        gather.getAxes() != slice.getAxes())
      return failure();
    LLVM_DEBUG(llvm::dbgs() << "[mp-simplify-collectives] slice of all_gather "
                               "at "
                            << slice.getLoc() << "\n");
    if (gather.getDim() == slice.getDim()) {
      rewriter.replaceOp(slice, gather.getInput());
    } else {
      if (!gather->hasOneUse())
        return failure();
      rewriter.replaceOpWithNewOp<AllToAllOp>(
          slice, slice.getType(), gather.getInput(), slice.getMeshAttr(),
          slice.getAxes(), slice.getDimAttr(), gather.getDimAttr(),
          mergeOrigins(rewriter, gather.getOriginAttr(),
                       slice.getOriginAttr()));
    }
    if (gather->use_empty())
      rewriter.eraseOp(gather);
    return success();
  }
};

/// all_reduce(all_reduce(x, A), B) = all_reduce(x, A ∪ B), in mesh order.
struct AllReduceOfAllReduce : OpRewritePattern<AllReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllReduceOp outer,
                                PatternRewriter &rewriter) const override {
    auto inner = outer.getInput().getDefiningOp<AllReduceOp>();
    if (!inner || !inner->hasOneUse() ||
        inner.getMeshAttr() != outer.getMeshAttr())
      return failure();
    MeshAttr mesh = outer.lookupMesh();
    SmallVector<StringRef> axes = getAxisNames(inner.getAxes());
    for (StringRef axis : getAxisNames(outer.getAxes()))
      if (!llvm::is_contained(axes, axis))
        axes.push_back(axis);
    llvm::sort(axes, [&](StringRef a, StringRef b) {
      return *mesh.getAxisIndex(a) < *mesh.getAxisIndex(b);
    });
    LLVM_DEBUG(llvm::dbgs() << "[mp-simplify-collectives] all_reduce of "
                               "all_reduce at "
                            << outer.getLoc() << "\n");
    rewriter.replaceOpWithNewOp<AllReduceOp>(
        outer, inner.getInput(), outer.getMeshAttr(),
        rewriter.getStrArrayAttr(axes),
        mergeOrigins(rewriter, inner.getOriginAttr(), outer.getOriginAttr()));
    rewriter.eraseOp(inner);
    return success();
  }
};

/// reshard(reshard(x, S1), S2) = reshard(x, S2); a reshard to the sharding
/// its operand already has is nothing.
struct ReshardOfReshard : OpRewritePattern<ReshardOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshardOp outer,
                                PatternRewriter &rewriter) const override {
    if (getValueSharding(outer.getInput()) == outer.getSharding()) {
      rewriter.replaceOp(outer, outer.getInput());
      return success();
    }
    auto inner = outer.getInput().getDefiningOp<ReshardOp>();
    if (!inner || !inner->hasOneUse())
      return failure();
    rewriter.modifyOpInPlace(outer, [&] {
      outer.getInputMutable().assign(inner.getInput());
      outer.setOriginAttr(
          mergeOrigins(rewriter, inner.getOriginAttr(), outer.getOriginAttr()));
    });
    rewriter.eraseOp(inner);
    return success();
  }
};

struct SimplifyCollectivesPass
    : impl::SimplifyCollectivesBase<SimplifyCollectivesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SliceOfAllReduce, SliceOfAllGather, AllReduceOfAllReduce,
                 ReshardOfReshard>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace mp
