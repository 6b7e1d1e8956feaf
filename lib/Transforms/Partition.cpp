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
// A dim split unevenly is padded on the ranks past its last value. Padding
// starts zero (arguments, the pieces collectives cut) but an op may make it
// anything (a bias added to padded rows), so an operand is masked back to
// zero (mp.zero_padding) before an op reduces over its padded dim, and a
// gradient before its optimizer update keeps parameters' padding zero.
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
  /// Emits the collectives taking `value` (local, of global shape
  /// `globalShape`) from `from` to `to`.
  FailureOr<Value> reshard(OpBuilder &builder, Location loc, Value value,
                           ArrayRef<int64_t> globalShape, const Layout &from,
                           const Layout &to, StringAttr origin);
  /// Mean-like ops average over their local extent; rescale to the global.
  void rescaleAverages(Operation *op, ArrayRef<Value> globalOperands);
  /// Masks the padding of the operands `op` reduces over, or that become
  /// parameters, where it may not be zero.
  LogicalResult zeroPaddingOfOperands(Operation *op);
  /// Records whether the results of a local op have zero padding, or
  /// finite padding.
  void inferZeroPadding(Operation *op);
  LogicalResult checkUnevenSupport(Operation *op);
  /// Shifts the ids an op looks up in a split dim into each rank's piece.
  void localizeIndexOperands(Operation *op);

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
  /// The local extent of a dim of `extent` split over `axes`.
  int64_t getExtent(int64_t extent, ArrayRef<StringRef> axes) {
    return getSplitExtent(extent, llvm::map_to_vector(axes, [&](StringRef a) {
                            return mesh.getAxisSize(a);
                          }));
  }
  /// True if dim `dim` of `value` (a value of the global program) is padded.
  bool isPadded(Value value, int64_t dim) {
    return globalShapes.lookup(value)[dim] %
               getGroupSize(shardings.lookup(value).getDimAxes(dim)) !=
           0;
  }
  bool hasZeroPadding(Value value) {
    ShardingAttr sharding = shardings.lookup(value);
    return !sharding || !sharding.isUneven(globalShapes.lookup(value), mesh) ||
           zeroPadded.contains(value);
  }
  bool hasFinitePadding(Value value) {
    return hasZeroPadding(value) || finitePadded.contains(value);
  }

  FunctionOpInterface func;
  FlatSymbolRefAttr meshName;
  MeshAttr mesh;
  /// Every value's sharding and global shape, read before the rewrite
  /// drops the attributes and changes the types.
  llvm::DenseMap<Value, ShardingAttr> shardings;
  llvm::DenseMap<Value, SmallVector<int64_t>> globalShapes;
  /// Split unevenly but known to have zero padding.
  llvm::DenseSet<Value> zeroPadded;
  /// Split unevenly, with padding not known zero but known finite: its
  /// product with a zero-padded value is zero-padded (0 · inf is NaN).
  llvm::DenseSet<Value> finitePadded;
  /// Values whose padding was masked, by the value masked.
  llvm::DenseMap<Value, Value> masked;
  /// Each op's sharding rule on its global types.
  llvm::DenseMap<Operation *, ShardingRule> rules;
};

LogicalResult Partitioner::collectShardings() {
  for (BlockArgument arg : func.getArguments()) {
    if (!isa<RankedTensorType>(arg.getType()))
      continue;
    shardings[arg] = getValueSharding(arg);
    globalShapes[arg] =
        SmallVector<int64_t>(cast<RankedTensorType>(arg.getType()).getShape());
    // The trainer and the interpreter pass arguments zero-padded.
    zeroPadded.insert(arg);
    if (!shardings[arg])
      return emitError(arg.getLoc())
             << "argument #" << arg.getArgNumber()
             << " has no sharding; run --mp-propagate-sharding before "
                "--mp-partition";
  }
  WalkResult walk = func.getFunctionBody().walk([&](Operation *op) {
    if (auto iface = dyn_cast<ShardingRuleOpInterface>(op))
      rules[op] = iface.getShardingRule();
    for (Value result : op->getResults()) {
      if (!isa<RankedTensorType>(result.getType()))
        continue;
      shardings[result] = getValueSharding(result);
      globalShapes[result] = SmallVector<int64_t>(
          cast<RankedTensorType>(result.getType()).getShape());
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
                                      Value value,
                                      ArrayRef<int64_t> globalShape,
                                      const Layout &from, const Layout &to,
                                      StringAttr origin) {
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
  // Axes that split a dim evenly act as one group; where they do not, each
  // splits the previous axis's padded piece, so each is its own collective.
  auto steps = [&](int64_t extent, ArrayRef<StringRef> axes) {
    SmallVector<SmallVector<StringRef>> groups;
    if (axes.empty())
      return groups;
    if (extent % getGroupSize(axes) == 0)
      groups.emplace_back(axes);
    else
      for (StringRef axis : axes)
        groups.push_back({axis});
    return groups;
  };
  SmallVector<bool> sliced(rank, false);
  auto slice = [&](int64_t dim) {
    SmallVector<StringRef> axes =
        withoutTrivialAxes(ArrayRef(to.dims[dim]).drop_front(common[dim]));
    for (ArrayRef<StringRef> group : steps(shape[dim], axes)) {
      RankedTensorType next = typeWithDim(dim, getExtent(shape[dim], group));
      value = ShardSliceOp::create(builder, loc, next, value, meshName,
                                   getAxesAttr(builder, group),
                                   builder.getI64IntegerAttr(dim), origin);
    }
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
    ArrayRef<StringRef> kept = ArrayRef(from.dims[dim]).take_front(common[dim]);
    SmallVector<StringRef> removed =
        withoutTrivialAxes(ArrayRef(from.dims[dim]).drop_front(common[dim]));
    if (removed.empty())
      continue;
    // Minor axes first, each gathering its pieces into the piece above.
    SmallVector<SmallVector<StringRef>> groups =
        steps(getExtent(globalShape[dim], kept), removed);
    SmallVector<StringRef> above(kept);
    above.append(removed);
    for (ArrayRef<StringRef> group : llvm::reverse(groups)) {
      above.truncate(above.size() - group.size());
      RankedTensorType next =
          typeWithDim(dim, getExtent(globalShape[dim], above));
      value = AllGatherOp::create(builder, loc, next, value, meshName,
                                  getAxesAttr(builder, group),
                                  builder.getI64IntegerAttr(dim), origin);
    }
  }
  for (int64_t dim = 0; dim < rank; ++dim)
    if (!sliced[dim])
      slice(dim);
  return value;
}

void Partitioner::rescaleAverages(Operation *op,
                                  ArrayRef<Value> globalOperands) {
  const ShardingRule &rule = rules[op];
  if (!rule.averages)
    return;
  // local extent / global extent of every split reduction factor (the
  // local extent counts padding, which is zero where a reduction reads it).
  double ratio = 1;
  SmallVector<bool> seen(rule.getNumFactors(), false);
  for (auto [factors, operand] :
       llvm::zip_equal(rule.operandFactors, globalOperands))
    for (auto [dim, factor] : llvm::enumerate(factors)) {
      if (factor == ShardingRule::kNoFactor || seen[factor] ||
          rule.factorKinds[factor] != FactorKind::Reduction)
        continue;
      seen[factor] = true;
      int64_t extent = globalShapes.lookup(operand)[dim];
      if (extent != 0)
        ratio *= double(getExtent(extent,
                                  shardings.lookup(operand).getDimAxes(dim))) /
                 double(extent);
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
  globalShapes[scale.getResult()] = globalShapes.lookup(result);
}

LogicalResult Partitioner::checkUnevenSupport(Operation *op) {
  auto uneven = [&](Value value) {
    ShardingAttr sharding = shardings.lookup(value);
    return sharding && sharding.isUneven(globalShapes.lookup(value), mesh);
  };
  if (auto loss = dyn_cast<CrossEntropyOp>(op)) {
    Value logits = loss.getInput();
    for (int64_t dim = 0; dim + 1 < loss.getInput().getType().getRank(); ++dim)
      if (uneven(logits) && isPadded(logits, dim))
        return op->emitError()
               << "cross_entropy over samples split unevenly (dim " << dim
               << " of " << globalShapes.lookup(logits)[dim]
               << ") is not supported: padded rows would count as samples";
  }
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    // A padded dim survives a reshape only as a dim of its own, with the
    // same extent and the same extent before it on both sides.
    auto keepsDim = [&](ArrayRef<int64_t> from, ArrayRef<int64_t> to,
                        int64_t dim) {
      int64_t before = 1;
      for (int64_t d = 0; d < dim; ++d)
        before *= from[d];
      int64_t toBefore = 1;
      for (int64_t extent : to) {
        if (toBefore == before && extent == from[dim])
          return true;
        toBefore *= extent;
      }
      return false;
    };
    for (Value value : {reshape.getInput(), reshape.getResult()}) {
      if (!uneven(value))
        continue;
      Value other = value == reshape.getInput() ? reshape.getResult()
                                                : reshape.getInput();
      SmallVector<int64_t> shape = globalShapes.lookup(value),
                           otherShape = globalShapes.lookup(other);
      for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim)
        if (isPadded(value, dim) && !keepsDim(shape, otherShape, dim))
          return op->emitError()
                 << "reshape regroups dim " << dim << " of extent "
                 << shape[dim]
                 << ", which is split unevenly; split it evenly or keep it "
                    "a dim of its own";
    }
  }
  return success();
}

LogicalResult Partitioner::zeroPaddingOfOperands(Operation *op) {
  auto ruleIt = rules.find(op);
  const ShardingRule *rule = ruleIt == rules.end() ? nullptr : &ruleIt->second;
  bool isUpdate = isa<OptimizerOpInterface>(op);
  for (OpOperand &operand : op->getOpOperands()) {
    Value value = operand.get();
    if (hasZeroPadding(value))
      continue;
    unsigned index = operand.getOperandNumber();
    SmallVector<int64_t> dims;
    for (int64_t dim = 0,
                 rank = cast<RankedTensorType>(value.getType()).getRank();
         dim < rank; ++dim) {
      if (!isPadded(value, dim))
        continue;
      int64_t factor =
          rule ? rule->operandFactors[index][dim] : ShardingRule::kNoFactor;
      bool reduces = factor != ShardingRule::kNoFactor &&
                     rule->factorKinds[factor] == FactorKind::Reduction;
      if (reduces || isUpdate)
        dims.push_back(dim);
    }
    if (dims.empty())
      continue;
    Value &zeroed = masked[value];
    if (!zeroed) {
      OpBuilder builder(op);
      zeroed = value;
      ShardingAttr sharding = shardings.lookup(value);
      for (int64_t dim : dims)
        zeroed = ZeroPaddingOp::create(
            builder, op->getLoc(), zeroed, meshName,
            getAxesAttr(builder, withoutTrivialAxes(sharding.getDimAxes(dim))),
            builder.getI64IntegerAttr(dim),
            builder.getI64IntegerAttr(globalShapes.lookup(value)[dim]));
      shardings[zeroed] = sharding;
      globalShapes[zeroed] = globalShapes.lookup(value);
      zeroPadded.insert(zeroed);
    }
    operand.set(zeroed);
  }
  return success();
}

/// Whether `op` computes finite results from finite operands, so that the
/// padding it computes from finite padding is finite. Not a division (x / 0
/// of zero padding), a logarithm, an exponential, rsqrt (of padding that
/// may be negative), or a norm without eps (a zero row's 1 / sqrt(0)).
static bool keepsFinite(Operation *op) {
  if (isa<RmsNormOp, RmsNormGradOp, RmsNormWeightGradOp, LayerNormOp,
          LayerNormGradOp, LayerNormWeightGradOp>(op))
    return op->getAttrOfType<FloatAttr>("eps").getValueAsDouble() > 0;
  return isa<NegOp, ReluOp, TanhOp, SigmoidOp, SiluOp, GeluOp, SwigluOp,
             ScaleOp, ClampOp, ConvertOp, TransposeOp, ReshapeOp, BroadcastOp,
             AddOp, SubOp, MulOp, LinearOp, MatmulOp, SumOp, MeanOp, SoftmaxOp,
             RopeOp, AlibiOp, EmbeddingOp, SiluGradOp, GeluGradOp, SwigluGradOp,
             SoftmaxGradOp, EmbeddingGradOp>(op);
}

void Partitioner::inferZeroPadding(Operation *op) {
  auto all = [&](auto has) { return llvm::all_of(op->getOperands(), has); };
  auto zero = [&](Value v) { return hasZeroPadding(v); };
  auto finite = [&](Value v) { return hasFinitePadding(v); };
  // f(0) = 0 elementwise, or a permutation of the operand.
  auto clamp = dyn_cast<ClampOp>(op);
  bool clampKeepsZero = clamp && clamp.getMin().convertToDouble() <= 0 &&
                        clamp.getMax().convertToDouble() >= 0;
  bool keepsZeros = isa<NegOp, ReluOp, TanhOp, SiluOp, GeluOp, ScaleOp,
                        TransposeOp, AddOp, SubOp>(op) ||
                            clampKeepsZero
                        ? all(zero)
                        : isa<MulOp>(op) &&
                              llvm::any_of(op->getOperands(), zero) &&
                              all(finite);
  for (Value result : op->getResults())
    if (keepsZeros)
      zeroPadded.insert(result);
    else if (keepsFinite(op) && all(finite))
      finitePadded.insert(result);
}

void Partitioner::localizeIndexOperands(Operation *op) {
  auto ruleIt = rules.find(op);
  if (ruleIt == rules.end())
    return;
  const ShardingRule &rule = ruleIt->second;
  // The axes a factor is split over, read off a dim that carries it.
  auto getFactorAxes = [&](int64_t factor) -> SmallVector<StringRef> {
    auto find =
        [&](ArrayRef<SmallVector<int64_t>> allFactors,
            ValueRange values) -> std::optional<SmallVector<StringRef>> {
      for (auto [factors, value] : llvm::zip_equal(allFactors, values))
        for (auto [dim, f] : llvm::enumerate(factors))
          if (f == factor)
            if (ShardingAttr sharding = shardings.lookup(value))
              return sharding.getDimAxes(dim);
      return std::nullopt;
    };
    if (auto axes = find(rule.operandFactors, op->getOperands()))
      return *axes;
    return find(rule.resultFactors, op->getResults())
        .value_or(SmallVector<StringRef>());
  };
  for (auto [operandIndex, factor] : rule.indexOperands) {
    SmallVector<StringRef> axes = withoutTrivialAxes(getFactorAxes(factor));
    if (axes.empty())
      continue;
    OpBuilder builder(op);
    OpOperand &ids = op->getOpOperand(operandIndex);
    auto localized = LocalizeIndexOp::create(
        builder, op->getLoc(), ids.get(), meshName, getAxesAttr(builder, axes),
        builder.getI64IntegerAttr(rule.factorSizes[factor]));
    shardings[localized] = shardings.lookup(ids.get());
    globalShapes[localized] = globalShapes.lookup(ids.get());
    ids.set(localized);
    // padding_idx names a row of the global table, which this rank's piece
    // need not hold; the gradient it masks is already in the step.
    if (auto embedding = dyn_cast<EmbeddingOp>(op))
      embedding.removePaddingIdxAttr();
  }
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
      FailureOr<Value> local = reshard(
          builder, op.getLoc(), input, globalShapes.lookup(input),
          Layout::get(shardings.lookup(input)), Layout::get(target), origin);
      if (failed(local))
        return failure();
      // A regather's collectives must stay apart from the forward's.
      if (auto annotate = dyn_cast<AnnotateOp>(op);
          annotate && annotate.getRegather())
        for (Value value = *local; value != input;
             value = value.getDefiningOp()->getOperand(0))
          if (isa<CollectiveOpInterface>(value.getDefiningOp()))
            value.getDefiningOp()->setAttr(MPDialect::kRegatherAttrName,
                                           UnitAttr::get(op.getContext()));
      op.getResult(0).replaceAllUsesWith(*local);
      // A reshard over size-1 axes only is the value itself, whose recorded
      // layout other reshards of it start from.
      if (*local != input) {
        shardings[*local] = target;
        globalShapes[*local] = globalShapes.lookup(input);
        // Collectives keep zero padding zero and pad with zeros.
        if (hasZeroPadding(input))
          zeroPadded.insert(*local);
        else if (hasFinitePadding(input))
          finitePadded.insert(*local);
      }
      op.erase();
      continue;
    }
    if (op.hasTrait<OpTrait::IsTerminator>())
      continue;
    if (failed(checkUnevenSupport(&op)) || failed(zeroPaddingOfOperands(&op)))
      return failure();
    localizeIndexOperands(&op);
    inferZeroPadding(&op);
    SmallVector<Value> globalOperands(op.getOperands());
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
        (iface && hasFreeSplit(rules[&op], shardings.lookup(op.getResult(0))));
    if (!keepsLayout)
      op.removeAttr(MPDialect::kShardingAttrName);
    if (iface)
      rescaleAverages(&op, globalOperands);
  }

  // What the padded local types no longer tell.
  auto recordGlobalShape = [&](Value value, auto setAttr) {
    ShardingAttr sharding = shardings.lookup(value);
    SmallVector<int64_t> shape = globalShapes.lookup(value);
    if (sharding && sharding.isUneven(shape, mesh))
      setAttr(DenseI64ArrayAttr::get(func.getContext(), shape));
  };
  for (BlockArgument arg : body.getArguments())
    recordGlobalShape(arg, [&](Attribute shape) {
      func.setArgAttr(arg.getArgNumber(), MPDialect::kGlobalShapeAttrName,
                      shape);
    });
  for (auto [index, result] :
       llvm::enumerate(body.getTerminator()->getOperands()))
    if (func.getResultAttr(index, MPDialect::kShardingAttrName))
      recordGlobalShape(result, [&](Attribute shape) {
        func.setResultAttr(index, MPDialect::kGlobalShapeAttrName, shape);
      });

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
