//===- Partition.cpp - rewrite a sharded program into its per-rank form ---===//
//
// Every value already has a sharding (sharding propagation), and every op's
// operands are laid out as it needs them, so each op's local form is the op
// itself on local types. What remains is to turn each mp.annotate and
// mp.reshard into collectives, following one table per mesh axis:
//
//   partial    -> replicated   all_reduce
//   split d    -> replicated   all_gather on d
//   replicated -> split d      shard_slice on d (no communication)
//
// emitted naively (reductions, then slices of free axes, then gathers, then
// the remaining slices); mp-simplify-collectives then fuses the pairs that
// are cheaper together (all_reduce + shard_slice is a reduce_scatter,
// all_gather + shard_slice of another dim is an all_to_all).
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-partition"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_PARTITION
#include "mp/Transforms/Passes.h.inc"

namespace {

/// True if `sharding` of an op's first result splits a dim whose factor no
/// operand carries.
bool hasFreeSplit(const ShardingRule &rule, ShardingAttr sharding) {
  if (!sharding || rule.resultFactors.empty())
    return false;
  for (auto [dim, factor] : llvm::enumerate(rule.resultFactors.front())) {
    if (sharding.getDimAxes(dim).empty() || factor == ShardingRule::kNoFactor)
      continue;
    if (llvm::none_of(rule.operandFactors, [&](ArrayRef<int64_t> factors) {
          return llvm::is_contained(factors, factor);
        }))
      return true;
  }
  return false;
}

RankedTensorType getLocalType(Type globalType, ShardingAttr sharding,
                              MeshAttr mesh) {
  auto type = cast<RankedTensorType>(globalType);
  return RankedTensorType::get(sharding.getLocalShape(type.getShape(), mesh),
                               type.getElementType());
}

class Partitioner {
public:
  Partitioner(FunctionOpInterface func, FlatSymbolRefAttr meshName,
              MeshAttr mesh)
      : func(func), meshName(meshName), mesh(mesh) {}

  LogicalResult run();

private:
  LogicalResult collectShardings();
  /// Emits the collectives taking `value` (local) from `from` to `to`.
  FailureOr<Value> reshard(OpBuilder &builder, Location loc, Value value,
                           const Layout &from, const Layout &to,
                           StringAttr origin);
  /// Mean-like ops average over their local extent; rescale to the global.
  void rescaleAverages(Operation *op, ShardingRuleOpInterface iface,
                       ArrayRef<ShardingAttr> operandShardings);

  /// The axes a collective runs over: those of size 1 move nothing.
  SmallVector<StringRef> withoutTrivialAxes(ArrayRef<StringRef> axes) {
    return llvm::filter_to_vector(
        axes, [&](StringRef axis) { return mesh.getAxisSize(axis) > 1; });
  }
  ArrayAttr getAxesAttr(OpBuilder &builder, ArrayRef<StringRef> axes) {
    return builder.getStrArrayAttr(axes);
  }
  int64_t getGroupSize(ArrayRef<StringRef> axes) {
    int64_t size = 1;
    for (StringRef axis : axes)
      size *= mesh.getAxisSize(axis);
    return size;
  }

  FunctionOpInterface func;
  FlatSymbolRefAttr meshName;
  MeshAttr mesh;
  /// Every value's sharding, read before the rewrite drops the attributes.
  llvm::DenseMap<Value, ShardingAttr> shardings;
};

LogicalResult Partitioner::collectShardings() {
  for (BlockArgument arg : func.getArguments()) {
    if (!isa<RankedTensorType>(arg.getType()))
      continue;
    shardings[arg] = getValueSharding(arg);
    if (!shardings[arg])
      return emitError(arg.getLoc())
             << "argument #" << arg.getArgNumber()
             << " has no sharding; run --mp-propagate-sharding before "
                "--mp-partition";
  }
  WalkResult walk = func.getFunctionBody().walk([&](Operation *op) {
    for (Value result : op->getResults()) {
      if (!isa<RankedTensorType>(result.getType()))
        continue;
      shardings[result] = getValueSharding(result);
      if (!shardings[result]) {
        op->emitError() << "has no sharding; run --mp-propagate-sharding "
                           "before --mp-partition";
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

FailureOr<Value> Partitioner::reshard(OpBuilder &builder, Location loc,
                                      Value value, const Layout &from,
                                      const Layout &to, StringAttr origin) {
  LLVM_DEBUG(llvm::dbgs() << "[mp-partition] reshard at " << loc << " from "
                          << from.toAttr(meshName) << " to "
                          << to.toAttr(meshName) << "\n");
  // Size-1 axes are nothing to be partial over.
  for (StringRef axis : withoutTrivialAxes(to.partial))
    if (!llvm::is_contained(from.partial, axis))
      return emitError(loc) << "cannot make a value partial over '" << axis
                            << "'; partial sums come from contractions";
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  auto typeWithDim = [&](int64_t dim, int64_t extent) {
    shape[dim] = extent;
    return RankedTensorType::get(shape, type.getElementType());
  };

  SmallVector<StringRef> reduced;
  for (StringRef axis : withoutTrivialAxes(from.partial))
    if (!llvm::is_contained(to.partial, axis))
      reduced.push_back(axis);
  if (!reduced.empty())
    value = AllReduceOp::create(builder, loc, value, meshName,
                                getAxesAttr(builder, reduced), origin);

  // Per dim, the axes past the common prefix are gathered away, then the
  // target's are sliced in.
  int64_t rank = type.getRank();
  SmallVector<size_t> common(rank);
  llvm::StringSet<> stillSplit;
  for (int64_t dim = 0; dim < rank; ++dim) {
    const auto &have = from.dims[dim], &want = to.dims[dim];
    while (common[dim] < have.size() && common[dim] < want.size() &&
           have[common[dim]] == want[common[dim]])
      ++common[dim];
    for (StringRef axis : have)
      stillSplit.insert(axis);
  }
  SmallVector<bool> sliced(rank, false);
  auto slice = [&](int64_t dim) {
    SmallVector<StringRef> axes =
        withoutTrivialAxes(ArrayRef(to.dims[dim]).drop_front(common[dim]));
    if (axes.empty())
      return;
    RankedTensorType next = typeWithDim(dim, shape[dim] / getGroupSize(axes));
    value = ShardSliceOp::create(builder, loc, next, value, meshName,
                                 getAxesAttr(builder, axes),
                                 builder.getI64IntegerAttr(dim), origin);
    sliced[dim] = true;
  };
  // Slicing first moves less data, where the axes are free and the dim has
  // nothing to gather.
  for (int64_t dim = 0; dim < rank; ++dim) {
    ArrayRef<StringRef> added = ArrayRef(to.dims[dim]).drop_front(common[dim]);
    if (from.dims[dim].size() == common[dim] &&
        llvm::none_of(
            added, [&](StringRef axis) { return stillSplit.contains(axis); }))
      slice(dim);
  }
  for (int64_t dim = 0; dim < rank; ++dim) {
    SmallVector<StringRef> removed =
        withoutTrivialAxes(ArrayRef(from.dims[dim]).drop_front(common[dim]));
    if (removed.empty())
      continue;
    RankedTensorType next =
        typeWithDim(dim, shape[dim] * getGroupSize(removed));
    value = AllGatherOp::create(builder, loc, next, value, meshName,
                                getAxesAttr(builder, removed),
                                builder.getI64IntegerAttr(dim), origin);
  }
  for (int64_t dim = 0; dim < rank; ++dim)
    if (!sliced[dim])
      slice(dim);
  return value;
}

void Partitioner::rescaleAverages(Operation *op, ShardingRuleOpInterface iface,
                                  ArrayRef<ShardingAttr> operandShardings) {
  ShardingRule rule = iface.getShardingRule();
  if (!rule.averages)
    return;
  // local extent / global extent of every split reduction factor.
  double ratio = 1;
  SmallVector<bool> seen(rule.getNumFactors(), false);
  for (auto [factors, sharding] :
       llvm::zip_equal(rule.operandFactors, operandShardings))
    for (auto [dim, factor] : llvm::enumerate(factors)) {
      if (factor == ShardingRule::kNoFactor || seen[factor] ||
          rule.factorKinds[factor] != FactorKind::Reduction)
        continue;
      seen[factor] = true;
      ratio /= getGroupSize(sharding.getDimAxes(dim));
    }
  if (ratio == 1)
    return;
  OpBuilder builder(op->getContext());
  builder.setInsertionPointAfter(op);
  Value result = op->getResult(0);
  auto scale = ScaleOp::create(builder, op->getLoc(), result,
                               builder.getF64FloatAttr(ratio));
  result.replaceAllUsesExcept(scale.getResult(), scale);
  shardings[scale.getResult()] = shardings.lookup(result);
}

LogicalResult Partitioner::run() {
  if (failed(collectShardings()))
    return failure();
  Block &body = func.getFunctionBody().front();
  for (BlockArgument arg : body.getArguments())
    if (ShardingAttr sharding = shardings.lookup(arg))
      arg.setType(getLocalType(arg.getType(), sharding, mesh));

  // Only the ops of the global program are rewritten, not the ones the
  // rewrite inserts.
  SmallVector<Operation *> globalOps =
      llvm::map_to_vector(body, [](Operation &op) { return &op; });
  for (Operation *opPtr : globalOps) {
    Operation &op = *opPtr;
    if (isa<AnnotateOp, ReshardOp>(op)) {
      Value input = op.getOperand(0);
      ShardingAttr target = shardings.lookup(op.getResult(0));
      StringAttr origin;
      if (auto annotate = dyn_cast<AnnotateOp>(op))
        origin = annotate.getEntryAttr()
                     ? annotate.getEntryAttr()
                     : StringAttr::get(op.getContext(), "explicit annotation");
      else
        origin = cast<ReshardOp>(op).getOriginAttr();
      OpBuilder builder(&op);
      FailureOr<Value> local = reshard(builder, op.getLoc(), input,
                                       Layout::get(shardings.lookup(input)),
                                       Layout::get(target), origin);
      if (failed(local))
        return failure();
      op.getResult(0).replaceAllUsesWith(*local);
      // A reshard over size-1 axes only is the value itself, whose recorded
      // layout other reshards of it start from.
      if (*local != input)
        shardings[*local] = target;
      op.erase();
      continue;
    }
    if (op.hasTrait<OpTrait::IsTerminator>())
      continue;
    SmallVector<ShardingAttr> operandShardings = llvm::map_to_vector(
        op.getOperands(), [&](Value v) { return shardings.lookup(v); });
    for (Value result : op.getResults())
      if (ShardingAttr sharding = shardings.lookup(result))
        result.setType(getLocalType(result.getType(), sharding, mesh));
    // A splat constant split like its consumers: the same splat, local.
    DenseElementsAttr constant;
    bool splitSplat = matchPattern(&op, m_Constant(&constant)) &&
                      constant.isSplat() &&
                      constant.getType() != op.getResult(0).getType();
    if (splitSplat)
      op.setAttr("value",
                 constant.resizeSplat(
                     cast<ShapedType>(op.getResult(0).getType())));
    auto iface = dyn_cast<ShardingRuleOpInterface>(op);
    // What the local program cannot show is kept: a result split along a
    // factor no operand has (the repeated dims of a broadcast, a split
    // splat constant), and the layout of a reshape, whose dims regroup
    // differently on local shapes.
    bool keepsLayout =
        splitSplat || isa<ReshapeOp>(op) ||
        (iface && hasFreeSplit(iface.getShardingRule(),
                               shardings.lookup(op.getResult(0))));
    if (!keepsLayout)
      op.removeAttr(MPDialect::kShardingAttrName);
    if (iface)
      rescaleAverages(&op, iface, operandShardings);
  }

  func.setType(FunctionType::get(func.getContext(), body.getArgumentTypes(),
                                 body.getTerminator()->getOperandTypes()));
  func->setAttr(MPDialect::kPartitionedAttrName,
                UnitAttr::get(func.getContext()));
  return success();
}

struct PartitionPass : impl::PartitionBase<PartitionPass> {
  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](FunctionOpInterface func) {
      if (func.isExternal() || func->hasAttr(MPDialect::kPartitionedAttrName))
        return;
      FlatSymbolRefAttr meshName;
      for (BlockArgument arg : func.getArguments())
        if (ShardingAttr sharding = getValueSharding(arg)) {
          meshName = sharding.getMesh();
          break;
        }
      if (!meshName)
        return;
      Partitioner partitioner(func, meshName, lookupMesh(func, meshName));
      ok &= succeeded(partitioner.run());
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
} // namespace mp
