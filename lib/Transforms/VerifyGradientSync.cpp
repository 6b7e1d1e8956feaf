//===- VerifyGradientSync.cpp - prove every gradient is synchronised ------===//
//
// On a partitioned training step, re-derives from the arguments' shardings
// alone (not from anything propagation recorded) how every local value sits
// in its global value: which mesh axes split each dim, and over which axes
// it is a partial sum still to be added up. Collectives change that state
// by their definition; other ops by their sharding rules. Then every
// optimizer update must receive its gradient whole (partial over nothing:
// reduced over exactly the axes the parameter is replicated on or the batch
// is split on) and split exactly as its parameter. Applying a non-linear op
// to a partial sum, or reducing a value that is not partial, is reported
// too: either would compute something else than the global step.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-verify-gradient-sync"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_VERIFYGRADIENTSYNC
#include "mp/Transforms/Passes.h.inc"

namespace {

std::string formatAxes(ArrayRef<StringRef> axes) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(axes, os);
  os << "]";
  return text;
}

class GradientSyncChecker {
public:
  explicit GradientSyncChecker(FunctionOpInterface func) : func(func) {}
  LogicalResult run();

private:
  LogicalResult transfer(Operation *op);
  LogicalResult transferCollective(CollectiveOpInterface op);
  LogicalResult transferRule(Operation *op, const ShardingRule &rule);
  LogicalResult transferReshape(ReshapeOp op);
  LogicalResult checkUpdate(Operation *op);
  /// The parameter name of `value` if it is a parameter argument.
  StringRef getParamName(Value value) {
    auto arg = dyn_cast<BlockArgument>(value);
    if (!arg || arg.getOwner()->getParentOp() != func)
      return {};
    if (auto name = func.getArgAttrOfType<StringAttr>(
            arg.getArgNumber(), MPDialect::kParamAttrName))
      return name.getValue();
    return {};
  }

  /// Axes of size 1 split nothing and sum nothing: the partitioner emits no
  /// collective for them, so they are dropped before any comparison.
  SmallVector<StringRef> nonTrivial(ArrayRef<StringRef> axes) {
    if (!mesh)
      return SmallVector<StringRef>(axes);
    return llvm::filter_to_vector(
        axes, [&](StringRef axis) { return mesh.getAxisSize(axis) > 1; });
  }
  Layout nonTrivial(ShardingAttr sharding) {
    Layout layout = Layout::get(sharding);
    for (auto &dim : layout.dims)
      dim = nonTrivial(dim);
    layout.partial = nonTrivial(layout.partial);
    return layout;
  }

  FunctionOpInterface func;
  MeshAttr mesh;
  llvm::DenseMap<Value, Layout> layouts;
  /// Ids shifted into each rank's piece of a dim split over these axes.
  llvm::DenseMap<Value, SmallVector<StringRef>> localizedAxes;
};

LogicalResult GradientSyncChecker::transferCollective(CollectiveOpInterface op) {
  Layout layout = layouts.lookup(op.getInput());
  auto removePartial = [&](ArrayRef<StringRef> axes) -> LogicalResult {
    for (StringRef axis : axes) {
      if (!llvm::is_contained(layout.partial, axis))
        return op->emitError()
               << "sums over '" << axis
               << "' a value that is not a partial sum over it: every rank "
                  "already holds the whole value, so the result is scaled "
                  "by the group size";
      llvm::erase(layout.partial, axis);
    }
    return success();
  };
  auto popSplit = [&](int64_t dim, ArrayRef<StringRef> axes) -> LogicalResult {
    auto &have = layout.dims[dim];
    if (have.size() < axes.size() ||
        !llvm::equal(ArrayRef(have).take_back(axes.size()), axes))
      return op->emitError()
             << "gathers dim " << dim << " over " << formatAxes(axes)
             << " but that dim is split over " << formatAxes(have);
    have.resize(have.size() - axes.size());
    return success();
  };
  auto pushSplit = [&](int64_t dim, ArrayRef<StringRef> axes) -> LogicalResult {
    for (StringRef axis : axes) {
      if (layout.uses(axis))
        return op->emitError() << "splits dim " << dim << " over '" << axis
                               << "', which the value already uses";
      layout.dims[dim].push_back(axis);
    }
    return success();
  };
  // The collective's steps, in order, over its axes that split or sum.
  SmallVector<StringRef> axes = nonTrivial(getAxisNames(op.getAxes()));
  CollectiveSteps steps = op.getSteps();
  if ((steps.sums && failed(removePartial(axes))) ||
      (steps.gatherDim && failed(popSplit(*steps.gatherDim, axes))) ||
      (steps.sliceDim && failed(pushSplit(*steps.sliceDim, axes))))
    return failure();
  layouts[op.getResult()] = layout;
  return success();
}

LogicalResult GradientSyncChecker::transferRule(Operation *op,
                                                const ShardingRule &rule) {
  // Factor axes from the operands; operands sharing a factor must agree.
  SmallVector<std::optional<SmallVector<StringRef>>> factorAxes(
      rule.getNumFactors());
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    const Layout &layout = layouts[operand];
    for (auto [dim, factor] : llvm::enumerate(rule.operandFactors[index])) {
      const auto &axes = layout.dims[dim];
      if (factor == ShardingRule::kNoFactor) {
        if (!axes.empty())
          return op->emitError()
                 << "operand #" << index << " dim " << dim << " is split over "
                 << formatAxes(axes) << " but the op needs it whole";
        continue;
      }
      if (rule.factorKinds[factor] == FactorKind::Replicated && !axes.empty())
        return op->emitError()
               << "operand #" << index << " dim " << dim << " is split over "
               << formatAxes(axes) << " but the op needs it whole";
      if (!factorAxes[factor]) {
        factorAxes[factor] = axes;
        continue;
      }
      if (*factorAxes[factor] != axes)
        return op->emitError()
               << "operands are split differently along one dim: "
               << formatAxes(*factorAxes[factor]) << " and "
               << formatAxes(axes);
    }
  }
  // Partial sums: which operand partials may pass, as in propagation. An
  // accumulator is checked against the product's afterwards.
  SmallVector<StringRef> partial;
  SmallVector<unsigned> factorOperands;
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    if (i != rule.accumulatorOperand)
      factorOperands.push_back(i);
  unsigned numOperands = factorOperands.size();
  llvm::SmallSetVector<StringRef, 4> partialAxes;
  for (unsigned i : factorOperands)
    for (StringRef axis : layouts[op->getOperand(i)].partial)
      partialAxes.insert(axis);
  for (StringRef axis : partialAxes) {
    SmallVector<unsigned> owners;
    for (unsigned i : factorOperands)
      if (llvm::is_contained(layouts[op->getOperand(i)].partial, axis))
        owners.push_back(i);
    bool passes = (rule.partial == PartialRule::Additive &&
                   owners.size() == numOperands) ||
                  (rule.partial == PartialRule::Multilinear &&
                   owners.size() == 1 && rule.linearOperands[owners.front()]);
    if (!passes)
      return op->emitError()
             << "applies '" << op->getName() << "' to a partial sum over '"
             << axis << "' that it is not linear in; reduce it first";
    partial.push_back(axis);
  }
  for (auto [factor, axes] : llvm::enumerate(factorAxes))
    if (axes && rule.factorKinds[factor] == FactorKind::Reduction)
      llvm::append_range(partial, *axes);
  if (rule.accumulatorOperand) {
    SmallVector<StringRef> accumulated =
        layouts[op->getOperand(*rule.accumulatorOperand)].partial;
    SmallVector<StringRef> product = partial;
    llvm::sort(accumulated);
    llvm::sort(product);
    if (accumulated != product)
      return op->emitError()
             << "adds a product that is a partial sum over "
             << formatAxes(product) << " into one over "
             << formatAxes(accumulated)
             << ": each rank would add a different share of each";
  }
  for (auto [result, factors] :
       llvm::zip_equal(op->getResults(), rule.resultFactors)) {
    // Factors no operand carries (a broadcast's new dims) are split as the
    // partitioner recorded; they never involve a sum. One the op needs
    // whole (mp.iota's counted dim) must not be recorded split.
    ShardingAttr recorded = getValueSharding(result);
    Layout layout;
    for (auto [dim, factor] : llvm::enumerate(factors)) {
      if (factor != ShardingRule::kNoFactor && factorAxes[factor]) {
        layout.dims.push_back(*factorAxes[factor]);
      } else if (factor != ShardingRule::kNoFactor && recorded) {
        SmallVector<StringRef> axes = nonTrivial(recorded.getDimAxes(dim));
        if (rule.factorKinds[factor] == FactorKind::Replicated &&
            !axes.empty())
          return op->emitError()
                 << "result dim " << dim << " is split over "
                 << formatAxes(axes) << " but the op computes it whole";
        layout.dims.push_back(axes);
      } else {
        layout.dims.emplace_back();
      }
    }
    layout.partial = partial;
    layouts[result] = layout;
  }
  // Ids into a split dim must be shifted into this rank's piece of it, by
  // exactly that split: looking up global ids in a local piece reads the
  // wrong rows.
  for (auto [operandIndex, factor] : rule.indexOperands) {
    SmallVector<StringRef> split;
    if (factorAxes[factor])
      split = *factorAxes[factor];
    for (auto [result, factors] :
         llvm::zip_equal(op->getResults(), rule.resultFactors))
      for (auto [dim, f] : llvm::enumerate(factors))
        if (f == factor)
          split = layouts[result].dims[dim];
    SmallVector<StringRef> localized =
        localizedAxes.lookup(op->getOperand(operandIndex));
    if (split != localized)
      return op->emitError()
             << "operand #" << operandIndex << " indexes a dim split over "
             << formatAxes(split) << " but is localized over "
             << formatAxes(localized);
  }
  return success();
}

// A reshape regroups dims, differently on local shapes than on global ones,
// so its layout is the one the partitioner recorded; what can be checked is
// that it splits over the same axes as its operand and carries its partial
// sums.
LogicalResult GradientSyncChecker::transferReshape(ReshapeOp op) {
  const Layout &operand = layouts[op.getInput()];
  ShardingAttr recorded = getValueSharding(op.getResult());
  if (!recorded)
    return op.emitError() << "has no recorded sharding in a partitioned step";
  Layout result = nonTrivial(recorded);
  auto splitAxes = [](const Layout &layout) {
    SmallVector<StringRef> axes;
    for (const auto &dim : layout.dims)
      llvm::append_range(axes, dim);
    llvm::sort(axes);
    return axes;
  };
  if (splitAxes(operand) != splitAxes(result))
    return op.emitError() << "regroups a value split over "
                          << formatAxes(splitAxes(operand))
                          << " into one split over "
                          << formatAxes(splitAxes(result));
  result.partial = operand.partial;
  layouts[op.getResult()] = result;
  return success();
}

LogicalResult GradientSyncChecker::checkUpdate(Operation *op) {
  Value param = op->getOperand(0), grad = op->getOperand(1);
  StringRef name = getParamName(param);
  std::string what =
      name.empty() ? std::string("the updated value") : "'" + name.str() + "'";
  const Layout &gradLayout = layouts[grad];
  const Layout &paramLayout = layouts[param];
  if (!gradLayout.partial.empty())
    return op->emitError() << "the gradient of " << what
                           << " is never reduced over "
                           << formatAxes(gradLayout.partial)
                           << ": each rank would update with its own partial "
                              "sum";
  for (OpOperand &scale :
       cast<OptimizerOpInterface>(op).getGradScaleMutable()) {
    Layout scaleLayout = layouts.lookup(scale.get());
    if (!scaleLayout.partial.empty())
      return op->emitError()
             << "the gradient scale of " << what << " is never reduced over "
             << formatAxes(scaleLayout.partial)
             << ": each rank would scale by its own partial sum";
  }
  if (gradLayout.dims != paramLayout.dims) {
    InFlightDiagnostic diag = op->emitError()
                              << "the gradient of " << what
                              << " is not laid out as the parameter: ";
    for (auto [dim, have, want] :
         llvm::enumerate(gradLayout.dims, paramLayout.dims))
      if (have != want)
        diag << "dim " << dim << " is split over " << formatAxes(have)
             << " instead of " << formatAxes(want) << "; ";
    return diag;
  }
  return success();
}

LogicalResult GradientSyncChecker::transfer(Operation *op) {
  if (auto collective = dyn_cast<CollectiveOpInterface>(op))
    return transferCollective(collective);
  if (isa<arith::ConstantOp>(op)) {
    // Whole on every rank, unless recorded split (a splat constant).
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    ShardingAttr recorded = getValueSharding(op->getResult(0));
    layouts[op->getResult(0)] = recorded
                                    ? nonTrivial(recorded)
                                    : Layout::getReplicated(type.getRank());
    return success();
  }
  if (auto reshape = dyn_cast<ReshapeOp>(op))
    return transferReshape(reshape);
  if (auto convert = dyn_cast<ConvertOp>(op)) {
    // mp-narrow-collectives' conversions: a partial sum converted to bf16
    // is reduced in bf16 (reduce-dtype), the same axes, each sum rounded.
    // A copy: inserting the result may move the map's entries.
    Layout layout = layouts.lookup(convert.getInput());
    layouts[convert.getResult()] = layout;
    return success();
  }
  if (auto zeroPadding = dyn_cast<ZeroPaddingOp>(op)) {
    // Padding holds no values: zeroing it changes no layout, but it must
    // be the padding of the split the value has.
    // A copy: inserting the result may move the map's entries.
    Layout layout = layouts.lookup(zeroPadding.getInput());
    if (layout.dims[zeroPadding.getDim()] !=
        getAxisNames(zeroPadding.getAxes()))
      return op->emitError()
             << "zeros the padding of a split over "
             << formatAxes(getAxisNames(zeroPadding.getAxes())) << " but dim "
             << zeroPadding.getDim() << " is split over "
             << formatAxes(layout.dims[zeroPadding.getDim()]);
    layouts[zeroPadding.getResult()] = layout;
    return success();
  }
  if (auto localize = dyn_cast<LocalizeIndexOp>(op)) {
    Layout layout = layouts.lookup(localize.getInput());
    layouts[localize.getResult()] = layout;
    localizedAxes[localize.getResult()] =
        nonTrivial(getAxisNames(localize.getAxes()));
    return success();
  }
  // A block of every rank's piece (mp.slice: --mp-pipeline-tp-sums,
  // --mp-chunk-loss) is, as a global tensor, the rows those blocks hold,
  // split as the input, and its ids localized as the input's; blocks with
  // one layout join into one value of it.
  if (auto slice = dyn_cast<SliceOp>(op)) {
    layouts[slice.getResult()] = layouts.lookup(slice.getInput());
    if (SmallVector<StringRef> localized =
            localizedAxes.lookup(slice.getInput());
        !localized.empty())
      localizedAxes[slice.getResult()] = localized;
    return success();
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    Layout layout = layouts.lookup(concat.getInputs().front());
    for (Value input : concat.getInputs().drop_front())
      if (layouts.lookup(input) != layout)
        return op->emitError() << "joins blocks that are split or partial "
                                  "differently";
    layouts[concat.getResult()] = layout;
    return success();
  }
  if (auto resize = dyn_cast<ResizeOp>(op)) {
    Layout layout = layouts.lookup(resize.getInput());
    layouts[resize.getResult()] = layout;
    return success();
  }
  if (auto wait = dyn_cast<WaitOp>(op)) {
    // The collective's result, once it is done.
    Layout layout = layouts.lookup(wait.getValue());
    layouts[wait.getResult()] = layout;
    return success();
  }
  auto iface = dyn_cast<ShardingRuleOpInterface>(op);
  if (!iface || isa<AnnotateOp, ReshardOp>(op))
    return op->emitError() << "cannot be checked in a partitioned step";
  if (isa<OptimizerOpInterface>(op) && failed(checkUpdate(op)))
    return failure();
  return transferRule(op, iface.getShardingRule());
}

LogicalResult GradientSyncChecker::run() {
  for (BlockArgument arg : func.getArguments())
    if (ShardingAttr sharding = getValueSharding(arg)) {
      mesh = lookupMesh(func, sharding.getMesh());
      break;
    }
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type)
      continue;
    ShardingAttr sharding = getValueSharding(arg);
    layouts[arg] = sharding ? nonTrivial(sharding)
                            : Layout::getReplicated(type.getRank());
  }
  bool ok = true;
  for (Operation &op : func.getFunctionBody().front()) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      for (auto [index, operand] : llvm::enumerate(op.getOperands())) {
        const Layout &layout = layouts[operand];
        auto sharding = func.getResultAttrOfType<ShardingAttr>(
            index, MPDialect::kShardingAttrName);
        if (!layout.partial.empty()) {
          op.emitError() << "result #" << index << " is returned as a partial "
                         << "sum over " << formatAxes(layout.partial);
          ok = false;
        } else if (sharding && nonTrivial(sharding).dims != layout.dims) {
          op.emitError() << "result #" << index
                         << " is not laid out as its sharding " << sharding;
          ok = false;
        }
      }
      continue;
    }
    // Stop at the first broken op: everything after it would be noise.
    if (failed(transfer(&op)))
      return failure();
  }
  return success(ok);
}

struct VerifyGradientSyncPass
    : impl::VerifyGradientSyncBase<VerifyGradientSyncPass> {
  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](FunctionOpInterface func) {
      if (!func->hasAttr(MPDialect::kPartitionedAttrName))
        return;
      LLVM_DEBUG(llvm::dbgs() << "[mp-verify-gradient-sync] checking @"
                              << func.getName() << "\n");
      ok &= succeeded(GradientSyncChecker(func).run());
    });
    if (!ok)
      signalPassFailure();
    markAllAnalysesPreserved();
  }
};

} // namespace
} // namespace mp
