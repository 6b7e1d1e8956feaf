//===- SimplifyCollectives.cpp - fuse and cancel collectives --------------===//

#include "mp/Transforms/PartitionedSteps.h"
#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/CheckedArithmetic.h"
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

/// Makes the collective `kept` serve where `replaced` (about to go) did: it
/// comes before `user` (moved up to just after its input's definition if
/// not) and its provenance names both.
void reuseCollective(PatternRewriter &rewriter, CollectiveOpInterface kept,
                     CollectiveOpInterface replaced, Operation *user) {
  if (!kept->isBeforeInBlock(user)) {
    Value input = kept.getInput();
    if (Operation *def = input.getDefiningOp())
      rewriter.moveOpAfter(kept, def);
    else
      rewriter.moveOpBefore(kept, &input.getParentBlock()->front());
  }
  rewriter.modifyOpInPlace(kept, [&] {
    kept->setAttr("origin", mergeOrigins(rewriter, kept.getOriginAttr(),
                                         replaced.getOriginAttr()));
  });
}

/// The all_reduce on `mesh` defining `input`, where it has no other reader.
AllReduceOp getSoleAllReduce(Value input, FlatSymbolRefAttr mesh) {
  auto reduce = input.getDefiningOp<AllReduceOp>();
  if (!reduce || !reduce->hasOneUse() || reduce.getMeshAttr() != mesh)
    return {};
  return reduce;
}

/// Makes `reader`, linear in what `reduce` sums, read that instead and sums
/// each of its results over `reduce`'s group: reduce moved past reader.
void moveReductionPast(PatternRewriter &rewriter, AllReduceOp reduce,
                       Operation *reader) {
  rewriter.modifyOpInPlace(reader, [&] {
    reader->replaceUsesOfWith(reduce.getResult(), reduce.getInput());
  });
  rewriter.setInsertionPointAfter(reader);
  for (Value result : reader->getResults()) {
    auto sum = AllReduceOp::create(rewriter, reduce.getLoc(), result,
                                   reduce.getMeshAttr(), reduce.getAxes(),
                                   reduce.getOriginAttr());
    rewriter.replaceAllUsesExcept(result, sum, sum);
  }
}

/// shard_slice(all_reduce(x, A), B ⊆ A, d) = all_reduce(reduce_scatter(x, B,
/// d), A \ B): the sum is scattered first, so the rest moves less data.
struct SliceOfAllReduce : OpRewritePattern<ShardSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ShardSliceOp slice,
                                PatternRewriter &rewriter) const override {
    AllReduceOp reduce =
        getSoleAllReduce(slice.getInput(), slice.getMeshAttr());
    if (!reduce)
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

/// reduce_scatter(all_reduce(x, A), B, d) = all_reduce(reduce_scatter(x, B,
/// d), A) for A and B apart (as they are in a valid step: a value whole over
/// B is not reduced over it again): the rest is reduced on the smaller
/// shard.
struct ScatterOfAllReduce : OpRewritePattern<ReduceScatterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceScatterOp scatter,
                                PatternRewriter &rewriter) const override {
    AllReduceOp reduce =
        getSoleAllReduce(scatter.getInput(), scatter.getMeshAttr());
    if (!reduce)
      return failure();
    SmallVector<StringRef> reduced = getAxisNames(reduce.getAxes());
    if (llvm::any_of(getAxisNames(scatter.getAxes()), [&](StringRef axis) {
          return llvm::is_contained(reduced, axis);
        }))
      return failure();
    LLVM_DEBUG(llvm::dbgs() << "[mp-simplify-collectives] reduce_scatter of "
                               "all_reduce at "
                            << scatter.getLoc() << "\n");
    moveReductionPast(rewriter, reduce, scatter);
    rewriter.eraseOp(reduce);
    return success();
  }
};

/// all_reduce(all_reduce(x, A), B) = all_reduce(x, A ∪ B), in mesh order.
struct AllReduceOfAllReduce : OpRewritePattern<AllReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllReduceOp outer,
                                PatternRewriter &rewriter) const override {
    AllReduceOp inner = getSoleAllReduce(outer.getInput(), outer.getMeshAttr());
    if (!inner)
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

/// Whether `a` and `b` run the same collective over the same group on
/// operands of the same type: the same op but for its operand and
/// provenance.
bool isSameGroupCollective(Operation *a, Operation *b) {
  if (a->getName() != b->getName() ||
      a->getOperandTypes() != b->getOperandTypes() ||
      a->getResultTypes() != b->getResultTypes())
    return false;
  auto withoutOrigin = [](Operation *op) {
    NamedAttrList attrs(op->getAttrDictionary());
    attrs.erase("origin");
    return attrs.getDictionary(op->getContext());
  };
  return withoutOrigin(a) == withoutOrigin(b);
}

/// Whether `a` and `b` are the same collective of the same value.
bool isSameCollective(Operation *a, Operation *b) {
  return a->getOperands() == b->getOperands() && isSameGroupCollective(a, b);
}

/// A collective that repeats an earlier one on the same value (two consumers
/// that each needed the value whole) is that one: one reduction per value.
/// Only collectives that communicate (a shard_slice moves nothing).
struct RepeatedCollective : OpInterfaceRewritePattern<CollectiveOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(CollectiveOpInterface op,
                                PatternRewriter &rewriter) const override {
    // A regather (FSDP's reshard_after_forward) is apart on purpose.
    if (!op.getSteps().communicates() ||
        op->hasAttr(MPDialect::kRegatherAttrName))
      return failure();
    for (Operation *user : op.getInput().getUsers()) {
      if (user == op.getOperation() || user->getBlock() != op->getBlock() ||
          !user->isBeforeInBlock(op) || !isSameCollective(user, op))
        continue;
      auto earlier = cast<CollectiveOpInterface>(user);
      reuseCollective(rewriter, earlier, op, op);
      rewriter.replaceOp(op, earlier->getResults());
      return success();
    }
    return failure();
  }
};

/// Unary ops linear in their operand that keep its layout: a partial input
/// gives a result partial over the same axes and split the same way, and a
/// partial result can only come from a partial input.
bool isLayoutPreservingUnary(Operation *op) {
  return isa<NegOp, ScaleOp, TransposeOp, BroadcastOp>(op);
}
/// Ops through which a sum over ranks commutes: linear in each operand that
/// may be partial. A reshape regroups a rank's elements, the same on every
/// rank of a group its operand is partial over (none splits it).
bool isLinear(Operation *op) {
  return isLayoutPreservingUnary(op) || isa<MulOp, SumOp, ReshapeOp>(op);
}

bool isSameGroup(AllReduceOp a, AllReduceOp b) {
  return a.getMeshAttr() == b.getMeshAttr() && a.getAxes() == b.getAxes();
}

/// How far the searches below follow chains of ops.
constexpr int kMaxChain = 4;

/// Whether `value` is certainly a whole value over every axis of `group`
/// (not a partial sum over any of them): recorded so on a function
/// argument, a constant, a reduction over those axes, a non-linear op's
/// result (which a valid step only computes from whole values), or made of
/// such values by ops that keep partial sums partial. Conservative: false
/// when unsure.
bool isKnownWhole(Value value, AllReduceOp group, int depth = kMaxChain) {
  auto axes = getAxisNames(group.getAxes());
  auto wholeOver = [&](ArrayRef<StringRef> partial) {
    return llvm::none_of(axes, [&](StringRef axis) {
      return llvm::is_contained(partial, axis);
    });
  };
  if (isa<BlockArgument>(value)) {
    ShardingAttr sharding = getValueSharding(value);
    return sharding && wholeOver(Layout::get(sharding).partial);
  }
  Operation *op = value.getDefiningOp();
  if (op->hasTrait<OpTrait::ConstantLike>())
    return true;
  if (auto reduce = dyn_cast<AllReduceOp>(op)) {
    auto reduced = getAxisNames(reduce.getAxes());
    return llvm::all_of(axes, [&](StringRef axis) {
      return llvm::is_contained(reduced, axis);
    });
  }
  if (isa<ExpOp, ReluOp, SigmoidOp, TanhOp, RsqrtOp, SiluOp, GeluOp, StepOp,
          ClampOp, ClampMaskOp>(op))
    return true;
  if (depth == 0 ||
      !(isLayoutPreservingUnary(op) || isa<MulOp, AddOp, SubOp, DivOp>(op)))
    return false;
  return llvm::all_of(op->getOperands(), [&](Value operand) {
    return isKnownWhole(operand, group, depth - 1);
  });
}

/// `op` now computes from values reduced over `reduce`'s axes: a layout it
/// records (a reshape's, a broadcast's splitting its new dims: partitioning
/// drops the others') is no longer partial over them.
void dropReducedAxes(Operation *op, AllReduceOp reduce) {
  auto sharding = op->getAttrOfType<ShardingAttr>(MPDialect::kShardingAttrName);
  if (!sharding)
    return;
  SmallVector<StringRef> reduced = getAxisNames(reduce.getAxes());
  Layout layout = Layout::get(sharding);
  llvm::erase_if(layout.partial, [&](StringRef axis) {
    return llvm::is_contained(reduced, axis);
  });
  op->setAttr(MPDialect::kShardingAttrName, layout.toAttr(sharding.getMesh()));
}

/// An all_reduce of `value` itself over the group of `like`.
AllReduceOp findDirectReduction(Value value, AllReduceOp like) {
  for (Operation *user : value.getUsers())
    if (auto reduce = dyn_cast<AllReduceOp>(user);
        reduce && reduce != like && isSameGroup(reduce, like))
      return reduce;
  return {};
}

/// Whether a use of `value` other than `except` reaches an all_reduce over
/// the group of `like` through single-use linear ops.
bool reachesReduction(Value value, AllReduceOp like, Operation *except,
                      int depth) {
  for (Operation *user : value.getUsers()) {
    if (user == except)
      continue;
    if (auto reduce = dyn_cast<AllReduceOp>(user);
        reduce && reduce != like && isSameGroup(reduce, like))
      return true;
    if (depth > 0 && isLinear(user) && user->getNumResults() == 1 &&
        user->getResult(0).hasOneUse() &&
        reachesReduction(user->getResult(0), like, nullptr, depth - 1))
      return true;
  }
  return false;
}

/// all_reduce(f(x), A) = f(all_reduce(x, A)) for f a chain of linear ops
/// (products with whole values, negation, scaling, transposes, broadcasts,
/// reshapes, sums), applied when x is reduced over A for another consumer
/// too (a weight gradient reading the flattened input of a layer that reads
/// the rowwise embedding's output, reduced for the forward pass): one
/// reduction per partial value, whatever reaches its consumers. The backward
/// pass makes these: a partial gradient feeds an input gradient, a
/// transposed weight gradient and a norm's weight gradient, each of which
/// needed it whole.
///
/// Sound on a valid partitioned step, where x must be partial over A: known
/// from x's own all_reduce over A, or from this one when every op of f keeps
/// partial sums where they are (a unary op, or a product whose other operand
/// is known whole). A sum can also turn a value split over A into a partial
/// one, so a chain through a sum needs the former. And it never adds bytes:
/// a new reduction of x replaces one of f(x) only when no sum shrinks it.
struct ReducePartialOnce : OpRewritePattern<AllReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllReduceOp reduce,
                                PatternRewriter &rewriter) const override {
    SmallVector<Operation *> chain;
    return success(tryFrom(reduce.getInput(), chain, /*inferred=*/true,
                           reduce, rewriter));
  }

private:
  /// Looks for x above `value`, the chain below it collected bottom-up.
  /// `inferred`: `value` is known partial over A from the reduction itself.
  bool tryFrom(Value value, SmallVectorImpl<Operation *> &chain,
               bool inferred, AllReduceOp reduce,
               PatternRewriter &rewriter) const {
    Operation *op = value.getDefiningOp();
    if (!op || chain.size() >= kMaxChain || !isLinear(op) ||
        op->getBlock() != reduce->getBlock() || !value.hasOneUse())
      return false;
    chain.push_back(op);
    for (OpOperand &operand : op->getOpOperands()) {
      Value x = operand.get();
      if (!isa<FloatType>(getElementTypeOrSelf(x.getType())) ||
          llvm::count(op->getOperands(), x) > 1)
        continue;
      bool partial = inferred && !isa<SumOp>(op);
      if (partial && isa<MulOp>(op))
        partial = isKnownWhole(op->getOperand(1 - operand.getOperandNumber()),
                               reduce);
      AllReduceOp whole = findDirectReduction(x, reduce);
      if (whole || (partial && reachesReduction(x, reduce, op, kMaxChain))) {
        rewrite(x, whole, chain, reduce, rewriter);
        return true;
      }
      if (tryFrom(x, chain, partial, reduce, rewriter))
        return true;
    }
    chain.pop_back();
    return false;
  }

  void rewrite(Value x, AllReduceOp whole, ArrayRef<Operation *> chain,
               AllReduceOp reduce, PatternRewriter &rewriter) const {
    if (!whole) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointAfterValue(x);
      whole = AllReduceOp::create(rewriter, reduce.getLoc(), x,
                                  reduce.getMeshAttr(), reduce.getAxes(),
                                  reduce.getOriginAttr());
    } else {
      reuseCollective(rewriter, whole, reduce, reduce);
    }
    IRMapping mapping;
    mapping.map(x, whole.getResult());
    Operation *last = nullptr;
    for (Operation *op : llvm::reverse(chain)) {
      last = rewriter.clone(*op, mapping);
      dropReducedAxes(last, reduce);
    }
    rewriter.replaceOp(reduce, last->getResults());
  }
};

/// The single-use reduction (a collective that sums: all_reduce or
/// reduce_scatter) defining `value`, over the group of `like` if given.
Operation *getSummedReduction(Value value, Operation *like = nullptr) {
  auto reduce = value.getDefiningOp<CollectiveOpInterface>();
  if (!reduce || !reduce.getSteps().sums || !reduce->hasOneUse())
    return nullptr;
  if (like && !isSameGroupCollective(reduce, like))
    return nullptr;
  return reduce;
}

/// reduce(a) ± reduce(b) = reduce(a ± b) for all_reduce and reduce_scatter
/// over one group: partial sums combined are reduced once (q, k and v
/// gradients into the residual).
template <typename SumOp>
struct SumOfReductions : OpRewritePattern<SumOp> {
  using OpRewritePattern<SumOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(SumOp sum,
                                PatternRewriter &rewriter) const override {
    Operation *lhs = getSummedReduction(sum.getLhs());
    Operation *rhs = lhs ? getSummedReduction(sum.getRhs(), lhs) : nullptr;
    if (!rhs || lhs == rhs)
      return failure();
    Value combined = SumOp::create(rewriter, sum.getLoc(), lhs->getOperand(0),
                                   rhs->getOperand(0));
    Operation *reduce = rewriter.clone(*lhs);
    reduce->setOperand(0, combined);
    reduce->setAttr("origin",
                    mergeOrigins(rewriter,
                                 lhs->getAttrOfType<StringAttr>("origin"),
                                 rhs->getAttrOfType<StringAttr>("origin")));
    rewriter.replaceOp(sum, reduce->getResults());
    rewriter.eraseOp(lhs);
    rewriter.eraseOp(rhs);
    return success();
  }
};

/// (y + reduce(a)) + reduce(b) = y + reduce(a + b): partials added one by
/// one into a whole value meet, then SumOfReductions reduces them once.
struct ReassociateReductions : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp outer,
                                PatternRewriter &rewriter) const override {
    for (auto [inner, reduced] : {std::pair(outer.getLhs(), outer.getRhs()),
                                  std::pair(outer.getRhs(), outer.getLhs())}) {
      Operation *b = getSummedReduction(reduced);
      auto innerAdd = inner.getDefiningOp<AddOp>();
      if (!b || !innerAdd || !innerAdd->hasOneUse())
        continue;
      for (auto [y, partial] :
           {std::pair(innerAdd.getLhs(), innerAdd.getRhs()),
            std::pair(innerAdd.getRhs(), innerAdd.getLhs())}) {
        Operation *a = getSummedReduction(partial, b);
        if (!a || getSummedReduction(y, b))
          continue;
        Value sumOfReduced = AddOp::create(rewriter, outer.getLoc(),
                                           a->getResult(0), b->getResult(0));
        rewriter.replaceOpWithNewOp<AddOp>(outer, y, sumOfReduced);
        rewriter.eraseOp(innerAdd);
        return success();
      }
    }
    return failure();
  }
};

/// The rule of `op` if op(..., Σ x, ...) = Σ op(..., x, ...) on each rank
/// for x its operand `index`, a partial sum: `op` is linear in x and in no
/// other operand (so the others are whole in a valid step), has no
/// accumulator, and every factor of it is one of x's dims, none of which a
/// partial x is split on over its axes (an embedding gradient's vocabulary,
/// split where x is not, would add up other ranks' slices).
std::optional<ShardingRule> getRuleLinearOnlyIn(Operation *op, unsigned index) {
  auto iface = dyn_cast<ShardingRuleOpInterface>(op);
  if (!iface)
    return std::nullopt;
  ShardingRule rule = iface.getShardingRule();
  if (rule.partial != PartialRule::Multilinear || rule.accumulatorOperand)
    return std::nullopt;
  for (auto [operand, linear] : llvm::enumerate(rule.linearOperands))
    if (linear != (operand == index))
      return std::nullopt;
  for (int64_t factor = 0; factor < rule.getNumFactors(); ++factor)
    if (!llvm::is_contained(rule.operandFactors[index], factor))
      return std::nullopt;
  return rule;
}

/// The readers of `reduce`'s result that the reduction may move past.
struct LinearReaders {
  /// One that propagation reduced before on purpose (a norm's input
  /// gradient), its result of the reduction's type: moving past the ops
  /// propagation lets partial sums through would undo ReducePartialOnce.
  Operation *primary = nullptr;
  /// The others (a norm's weight gradients), whose smaller results are
  /// reduced instead.
  SmallVector<Operation *> others;
};

std::optional<LinearReaders> getLinearReaders(AllReduceOp reduce) {
  LinearReaders readers;
  std::optional<int64_t> reducedBytes = getTensorBytes(reduce.getType());
  std::optional<int64_t> otherBytes = 0;
  for (OpOperand &use : reduce->getUses()) {
    Operation *reader = use.getOwner();
    std::optional<ShardingRule> rule =
        getRuleLinearOnlyIn(reader, use.getOperandNumber());
    if (!rule || reader->getBlock() != reduce->getBlock() ||
        llvm::is_contained(readers.others, reader))
      return std::nullopt;
    if (!rule->propagatesPartials && !readers.primary &&
        reader->getNumResults() == 1 &&
        reader->getResult(0).getType() == reduce.getType()) {
      readers.primary = reader;
      continue;
    }
    for (Type type : reader->getResultTypes()) {
      auto shaped = dyn_cast<ShapedType>(type);
      std::optional<int64_t> bytes =
          shaped ? getTensorBytes(shaped) : std::nullopt;
      if (!bytes || !otherBytes)
        return std::nullopt;
      otherBytes = llvm::checkedAdd(*otherBytes, *bytes);
    }
    readers.others.push_back(reader);
  }
  if (!readers.primary || !reducedBytes || !otherBytes ||
      *otherBytes >= *reducedBytes)
    return std::nullopt;
  return readers;
}

/// Whether `value` is a summing reduction over the group of `like`, or
/// the result of a linear reader of one that ReductionPastLinearOp may make
/// one: read once, by the sum that meetsReduction looks at.
bool isOrMayBecomeReduction(Value value, AllReduceOp like) {
  if (getSummedReduction(value, like))
    return true;
  Operation *op = value.getDefiningOp();
  return op && value.hasOneUse() &&
         llvm::any_of(op->getOperands(), [&](Value operand) {
           auto reduce = operand.getDefiningOp<AllReduceOp>();
           if (!reduce || !isSameGroup(reduce, like))
             return false;
           std::optional<LinearReaders> readers = getLinearReaders(reduce);
           return readers && readers->primary == op;
         });
}

/// Whether `value`, were it reduced over the group of `like`, would meet
/// another such reduction in a sum that SumOfReductions, after
/// ReassociateReductions where the sum is a chain, makes one: `value ±
/// r`, `value + (y + r)` or `(y + value) + r`.
bool meetsReduction(Value value, AllReduceOp like) {
  if (!value.hasOneUse())
    return false;
  Operation *sum = *value.user_begin();
  if (!isa<AddOp, SubOp>(sum))
    return false;
  auto otherOperand = [](Operation *op, Value operand) {
    return op->getOperand(op->getOperand(0) == operand ? 1 : 0);
  };
  Value other = otherOperand(sum, value);
  if (isOrMayBecomeReduction(other, like))
    return true;
  if (!isa<AddOp>(sum))
    return false;
  if (auto inner = other.getDefiningOp<AddOp>();
      inner && inner->hasOneUse() &&
      llvm::any_of(inner->getOperands(), [&](Value operand) {
        return isOrMayBecomeReduction(operand, like);
      }))
    return true;
  if (!sum->hasOneUse())
    return false;
  auto outer = dyn_cast<AddOp>(*sum->user_begin());
  return outer &&
         isOrMayBecomeReduction(otherOperand(outer, sum->getResult(0)), like);
}

/// reduce(f(x), A) = f(reduce(x, A)) for every result of an op f linear in
/// its operand x alone, applied when x is reduced over A for another
/// consumer: f reads that reduction and its results need none. Propagation
/// lets partial sums through a norm's weight (and bias) gradient, whose
/// results are smaller than its output gradient, while the norm's input
/// gradient needs that output gradient reduced anyway (a model whose
/// feed-forward has biases, Gemma's sandwich norms): one reduction, not
/// two. ReductionPastLinearOp undoes this where a parallel block's norms
/// meet in a sum, and then erases the reduction of x, so the two never
/// alternate.
struct LinearReaderOfReduced : OpRewritePattern<AllReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllReduceOp reduce,
                                PatternRewriter &rewriter) const override {
    Operation *reader = reduce.getInput().getDefiningOp();
    if (!reader || reader->getBlock() != reduce->getBlock())
      return failure();
    SmallVector<AllReduceOp> reductions;
    for (Value result : reader->getResults()) {
      auto reduction = result.hasOneUse()
                           ? dyn_cast<AllReduceOp>(*result.user_begin())
                           : AllReduceOp();
      if (!reduction || !isSameGroup(reduction, reduce) ||
          isPlacedByLatePass(reduction))
        return failure();
      reductions.push_back(reduction);
    }
    for (OpOperand &operand : reader->getOpOperands()) {
      if (!getRuleLinearOnlyIn(reader, operand.getOperandNumber()))
        continue;
      AllReduceOp whole = findDirectReduction(operand.get(), reduce);
      if (!whole || isPlacedByLatePass(whole))
        continue;
      // A parallel block's norms meet in a sum: ReductionPastLinearOp moves
      // `whole` past its readers, and these reductions are what it makes.
      if (std::optional<LinearReaders> readers = getLinearReaders(whole);
          readers && meetsReduction(readers->primary->getResult(0), whole))
        continue;
      LLVM_DEBUG(llvm::dbgs()
                 << "[mp-simplify-collectives] " << reader->getName()
                 << " reads a reduction at " << reader->getLoc() << "\n");
      for (AllReduceOp reduction : reductions)
        reuseCollective(rewriter, whole, reduction, reader);
      rewriter.modifyOpInPlace(reader, [&] { operand.set(whole.getResult()); });
      for (AllReduceOp reduction : reductions)
        rewriter.replaceOp(reduction, reduction.getInput());
      return success();
    }
    return failure();
  }
};

/// f(reduce(x)) = reduce(f(x)) for f linear in x (a norm's input gradient,
/// which propagation reduces before), applied where the reduction then
/// meets another in a sum: a parallel block's attention and MLP norms
/// (GPT-NeoX, Falcon-40B) read one input, and their input gradients'
/// partial sums are added and reduced once instead of each on its own.
/// Other readers of the reduction linear in it (the norms' weight
/// gradients) reduce their results instead, fewer bytes than it.
struct ReductionPastLinearOp : OpRewritePattern<AllReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllReduceOp reduce,
                                PatternRewriter &rewriter) const override {
    std::optional<LinearReaders> readers = getLinearReaders(reduce);
    if (!readers || !meetsReduction(readers->primary->getResult(0), reduce))
      return failure();
    LLVM_DEBUG(llvm::dbgs() << "[mp-simplify-collectives] all_reduce past "
                            << readers->primary->getName() << " at "
                            << readers->primary->getLoc() << "\n");
    SmallVector<Operation *> moved(readers->others);
    moved.push_back(readers->primary);
    for (Operation *reader : moved)
      moveReductionPast(rewriter, reduce, reader);
    rewriter.eraseOp(reduce);
    return success();
  }
};

/// all_gather(transpose(x), d) = transpose(all_gather(x, perm[d])) when x
/// is gathered that way anyway: one gather of a value, however its
/// consumers read it (sequence parallelism's backward pass gathers an
/// activation for one GEMM and its transpose for another).
struct GatherOfTranspose : OpRewritePattern<AllGatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllGatherOp gather,
                                PatternRewriter &rewriter) const override {
    auto transpose = gather.getInput().getDefiningOp<TransposeOp>();
    if (!transpose || !transpose->hasOneUse())
      return failure();
    int64_t sourceDim = transpose.getPermutation()[gather.getDim()];
    for (Operation *user : transpose.getInput().getUsers()) {
      auto other = dyn_cast<AllGatherOp>(user);
      if (!other || other->getBlock() != gather->getBlock() ||
          other.getMeshAttr() != gather.getMeshAttr() ||
          other.getAxes() != gather.getAxes() ||
          int64_t(other.getDim()) != sourceDim)
        continue;
      reuseCollective(rewriter, other, gather, gather);
      rewriter.replaceOpWithNewOp<TransposeOp>(gather, other.getResult(),
                                               transpose.getPermutation());
      rewriter.eraseOp(transpose);
      return success();
    }
    return failure();
  }
};

struct SimplifyCollectivesPass
    : impl::SimplifyCollectivesBase<SimplifyCollectivesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns
        .add<SliceOfAllReduce, SliceOfAllGather, ScatterOfAllReduce,
             AllReduceOfAllReduce, ReshardOfReshard, RepeatedCollective,
             ReducePartialOnce, SumOfReductions<AddOp>, SumOfReductions<SubOp>,
             ReassociateReductions, LinearReaderOfReduced,
             ReductionPastLinearOp, GatherOfTranspose>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace mp
