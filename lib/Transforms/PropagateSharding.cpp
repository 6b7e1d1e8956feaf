//===- PropagateSharding.cpp - give every value a sharding ----------------===//
//
// Two phases over each function, both driven by the ops' sharding rules:
//
// 1. Dims: a worklist-free fixed point, forward and backward through the
//    function, in which the split axes of unpinned values only ever grow
//    (a value's axes on a dim extend to what its op's factors are assigned),
//    so it terminates. Pinned values (arguments with a sharding, mp.annotate
//    and mp.reshard results) never change.
// 2. Decisions: in program order, each op's factors are assigned once more,
//    partial sums are worked out (a split reduction factor makes the result
//    partial; partial operands pass through ops that are linear in them), and
//    an mp.reshard is inserted wherever an operand is not laid out as the op
//    needs it. Results that leave the function are never partial.
//
// Factor assignment resolves conflicts by priority (explicit annotation >
// plan > propagated), then by size (the larger tensor keeps its layout, so
// the smaller one moves), then by operand order: deterministic.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-propagate-sharding"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_PROPAGATESHARDING
#include "mp/Transforms/Passes.h.inc"

namespace {

/// Who decided a layout. The layouts a plan gives inside the model (the
/// input and output of a sequence-parallel norm, an output the step does
/// not return) rank below its arguments' (parameter styles, input splits):
/// in PyTorch a SequenceParallel module's output is redistributed by the
/// next module, ColwiseParallel gathering it for its weight.
enum class Priority { None, Propagated, PlanActivation, Plan, User };

struct ValueState {
  Layout layout;
  Priority priority = Priority::None;
  bool pinned = false;
  /// A weight a plan's colwise or rowwise style splits (or its FSDP use, or
  /// its transpose).
  bool styledWeight = false;
  /// Where each axis of the layout comes from: a parameter, an input or an
  /// annotation, named for the provenance of collectives.
  llvm::StringMap<std::string> origins;
};

/// The axes a factor is split over, and where each axis comes from.
struct FactorChoice {
  SmallVector<StringRef> axes;
  SmallVector<std::string> origins;
};

int64_t getBytes(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

class Propagator {
public:
  Propagator(FunctionOpInterface func, FlatSymbolRefAttr meshName,
             MeshAttr mesh, PlanAttr plan)
      : func(func), meshName(meshName), mesh(mesh), plan(plan) {}

  LogicalResult run();

private:
  void initialize();
  ValueState *getState(Value value) {
    auto it = states.find(value);
    return it == states.end() ? nullptr : &it->second;
  }
  std::string describeArgAxis(const ModelValue &value, StringRef axis);

  SmallVector<FactorChoice> assignFactors(Operation *op,
                                          const ShardingRule &rule);
  /// Phase 1: extends unpinned values of `op` toward its factor assignment.
  bool grow(Operation *op);
  bool growToward(Value value, ArrayRef<int64_t> factors,
                  ArrayRef<FactorChoice> choices);
  /// Phase 2: fixes the result layout of `op` and reshards its operands.
  LogicalResult decide(Operation *op);
  /// Fails, naming the plan entry, where `reshape` cannot carry the split of
  /// a colwise weight's output features (heads that do not divide over the
  /// tensor-parallel ranks), which would otherwise become a gather.
  LogicalResult checkReshapeKeepsStyles(ReshapeOp reshape,
                                        const ShardingRule &rule,
                                        ArrayRef<FactorChoice> choices);
  void decideReturn(Operation *returnOp);
  /// Makes operand `index` of `op` have `required`, through an mp.reshard.
  void reshardOperand(Operation *op, unsigned index, const Layout &required,
                      const llvm::StringMap<std::string> &requiredOrigins);

  FunctionOpInterface func;
  FlatSymbolRefAttr meshName;
  MeshAttr mesh;
  PlanAttr plan;
  llvm::DenseMap<Value, ValueState> states;
  /// Reshards already made, so that consumers needing one value in one
  /// layout share one.
  llvm::DenseMap<std::pair<Value, Attribute>, Value> reshards;
};

/// How an axis's origin names the style of the argument it comes from
/// (`'w1' (colwise)`); the reshape check reads it back.
std::string describeStyle(ParallelStyleKind kind) {
  return (" (" + stringifyParallelStyleKind(kind) + ")").str();
}

std::string Propagator::describeArgAxis(const ModelValue &value,
                                        StringRef axis) {
  std::string name = ("'" + value.name.getValue() + "'").str();
  if (plan && plan.getFsdpAxis() && axis == plan.getFsdpAxis().getValue() &&
      value.role == ModelRole::Param)
    return name + " (fsdp)";
  StringAttr batch = plan ? plan.getEffectiveBatchAxis() : StringAttr();
  if (batch && axis == batch.getValue() && value.role != ModelRole::Param)
    return name + " (batch)";
  if (auto entry = func.getArgAttrOfType<StringAttr>(
          value.index, MPDialect::kPlanEntryAttrName)) {
    if (plan)
      if (auto style = plan.getStyles().getAs<ParallelStyleAttr>(entry))
        return name + describeStyle(style.getKind());
    return name + " (plan entry '" + entry.getValue().str() + "')";
  }
  return name;
}

/// An axis an annotation keeps from its operand comes from where the operand
/// got it; only the axes it moves are its own doing (an FSDP use of a colwise
/// weight keeps the weight's tensor-parallel split: that axis is the
/// style's, not FSDP's).
void inheritKeptOrigins(ValueState &result, const ValueState &operand) {
  for (auto &entry : result.origins)
    if (operand.layout.uses(entry.getKey()))
      if (auto it = operand.origins.find(entry.getKey());
          it != operand.origins.end() && !it->second.empty())
        entry.second = it->second;
}

/// True if `annotate` pins an argument (a parameter's FSDP use), looking
/// through annotations.
bool annotatesArgument(AnnotateOp annotate) {
  Value value = annotate.getInput();
  while (auto inner = value.getDefiningOp<AnnotateOp>())
    value = inner.getInput();
  return isa<BlockArgument>(value);
}

void Propagator::initialize() {
  llvm::DenseMap<unsigned, ModelValue> named;
  for (const ModelValue &value : getModelValues(func))
    if (!value.isResult())
      named.try_emplace(value.index, value);

  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type)
      continue;
    ValueState &state = states[arg];
    ShardingAttr sharding = getValueSharding(arg);
    if (!sharding) {
      state.layout = Layout::getReplicated(type.getRank());
      continue;
    }
    state.layout = Layout::get(sharding);
    state.pinned = true;
    state.priority = Priority::Plan;
    if (auto entry = func.getArgAttrOfType<StringAttr>(
            arg.getArgNumber(), MPDialect::kPlanEntryAttrName))
      if (auto style = plan ? plan.getStyles().getAs<ParallelStyleAttr>(entry)
                            : ParallelStyleAttr())
        state.styledWeight = style.isWeightStyle();
    auto it = named.find(arg.getArgNumber());
    for (StringAttr axisName : mesh.getAxisNames())
      if (StringRef axis = axisName.getValue(); state.layout.uses(axis))
        state.origins[axis] =
            it != named.end()
                ? describeArgAxis(it->second, axis)
                : ("argument #" + Twine(arg.getArgNumber())).str();
  }

  func.getFunctionBody().walk([&](Operation *op) {
    for (Value result : op->getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type)
        continue;
      ValueState &state = states[result];
      state.layout = Layout::getReplicated(type.getRank());
      if (auto annotate = dyn_cast<AnnotateOp>(op)) {
        state.layout = Layout::get(annotate.getSharding());
        state.pinned = true;
        if (const ValueState *input = getState(annotate.getInput()))
          state.styledWeight = input->styledWeight;
        state.priority = !annotate.isFromPlan() ? Priority::User
                         : annotatesArgument(annotate)
                             ? Priority::Plan
                             : Priority::PlanActivation;
        std::string origin = annotate.getEntry()
                                 ? annotate.getEntry()->str()
                                 : std::string("explicit annotation");
        for (StringAttr axis : mesh.getAxisNames())
          if (state.layout.uses(axis.getValue()))
            state.origins[axis.getValue()] = origin;
        if (const ValueState *input = getState(annotate.getInput()))
          inheritKeptOrigins(state, *input);
      } else if (auto reshard = dyn_cast<ReshardOp>(op)) {
        state.layout = Layout::get(reshard.getSharding());
        state.pinned = true;
        state.priority = Priority::Propagated;
      }
    }
  });
}

SmallVector<FactorChoice> Propagator::assignFactors(Operation *op,
                                                    const ShardingRule &rule) {
  struct Candidate {
    int64_t factor;
    const ValueState *state;
    int64_t dim;
    int64_t bytes;
    /// The value's extent in `dim`.
    int64_t extent;
  };
  SmallVector<Candidate> candidates;
  auto collect = [&](Value value, ArrayRef<int64_t> factors) {
    const ValueState *state = getState(value);
    if (!state)
      return;
    for (auto [dim, factor] : llvm::enumerate(factors))
      if (factor != ShardingRule::kNoFactor && !state->layout.dims[dim].empty())
        candidates.push_back(
            {factor, state, static_cast<int64_t>(dim), getBytes(value),
             cast<RankedTensorType>(value.getType()).getDimSize(dim)});
  };
  for (auto [value, factors] :
       llvm::zip_equal(op->getOperands(), rule.operandFactors))
    collect(value, factors);
  for (auto [value, factors] :
       llvm::zip_equal(op->getResults(), rule.resultFactors))
    collect(value, factors);
  llvm::stable_sort(candidates, [](const Candidate &a, const Candidate &b) {
    if (a.state->priority != b.state->priority)
      return a.state->priority > b.state->priority;
    return a.bytes > b.bytes;
  });

  SmallVector<FactorChoice> choices(rule.getNumFactors());
  SmallVector<bool> decided(rule.getNumFactors(), false);
  llvm::StringSet<> used;
  for (const Candidate &candidate : candidates) {
    int64_t factor = candidate.factor;
    if (decided[factor] || rule.factorKinds[factor] == FactorKind::Replicated)
      continue;
    decided[factor] = true;
    int64_t shards = 1;
    // A dim split unevenly passes its split on to the same extent elsewhere,
    // never to a factor of another extent (a reshape's), which would pad
    // what is whole.
    bool sameExtent = candidate.extent == rule.factorSizes[factor] &&
                      !llvm::is_contained(rule.evenSplitFactors, factor);
    for (StringRef axis : candidate.state->layout.dims[candidate.dim]) {
      int64_t size = mesh.getAxisSize(axis);
      if (used.contains(axis) ||
          (!sameExtent && rule.factorSizes[factor] % (shards * size) != 0))
        break;
      shards *= size;
      used.insert(axis);
      choices[factor].axes.push_back(axis);
      choices[factor].origins.push_back(candidate.state->origins.lookup(axis));
    }
  }
  return choices;
}

bool Propagator::growToward(Value value, ArrayRef<int64_t> factors,
                            ArrayRef<FactorChoice> choices) {
  ValueState *state = getState(value);
  if (!state || state->pinned)
    return false;
  bool changed = false;
  for (auto [dim, factor] : llvm::enumerate(factors)) {
    if (factor == ShardingRule::kNoFactor)
      continue;
    const FactorChoice &choice = choices[factor];
    SmallVector<StringRef> &have = state->layout.dims[dim];
    if (have.size() >= choice.axes.size() ||
        !llvm::equal(have, ArrayRef(choice.axes).take_front(have.size())))
      continue;
    for (size_t i = have.size(); i < choice.axes.size(); ++i) {
      StringRef axis = choice.axes[i];
      if (state->layout.uses(axis))
        break;
      have.push_back(axis);
      state->origins[axis] = choice.origins[i];
      changed = true;
    }
  }
  if (changed)
    state->priority = std::max(state->priority, Priority::Propagated);
  return changed;
}

bool Propagator::grow(Operation *op) {
  auto iface = dyn_cast<ShardingRuleOpInterface>(op);
  if (!iface)
    return false;
  ShardingRule rule = iface.getShardingRule();
  SmallVector<FactorChoice> choices = assignFactors(op, rule);
  bool changed = false;
  if (rule.pullsOperands)
    for (auto [value, factors] :
         llvm::zip_equal(op->getOperands(), rule.operandFactors))
      changed |= growToward(value, factors, choices);
  for (auto [value, factors] :
       llvm::zip_equal(op->getResults(), rule.resultFactors))
    changed |= growToward(value, factors, choices);
  // A styled weight's transpose (how the backward pass uses it) keeps the
  // weight's priority, so its style still outranks the activations it meets
  // there: under sequence parallelism the output gradient is gathered, as
  // in Megatron, not the weight.
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    ValueState *result = getState(transpose.getResult());
    const ValueState *input = getState(transpose.getInput());
    if (result && input && input->styledWeight && !result->pinned &&
        input->priority > result->priority) {
      result->priority = input->priority;
      result->styledWeight = true;
      changed = true;
    }
  }
  return changed;
}

void Propagator::reshardOperand(
    Operation *op, unsigned index, const Layout &required,
    const llvm::StringMap<std::string> &requiredOrigins) {
  Value operand = op->getOperand(index);
  // A copy: inserting the reshard's state below may move the map's entries.
  const ValueState actual = *getState(operand);
  if (actual.layout == required)
    return;
  ShardingAttr target = required.toAttr(meshName);
  if (Value existing = reshards.lookup({operand, target})) {
    op->setOperand(index, existing);
    return;
  }
  // Provenance: where the axes that move come from.
  llvm::SetVector<StringRef> reasons;
  for (StringAttr axisAttr : mesh.getAxisNames()) {
    StringRef axis = axisAttr.getValue();
    bool wasPartial = llvm::is_contained(actual.layout.partial, axis);
    bool isPartial = llvm::is_contained(required.partial, axis);
    bool moves = wasPartial != isPartial;
    for (auto [have, want] : llvm::zip_equal(actual.layout.dims, required.dims))
      moves |= llvm::is_contained(have, axis) != llvm::is_contained(want, axis);
    if (!moves)
      continue;
    auto it = actual.origins.find(axis);
    if (it != actual.origins.end() && !it->second.empty())
      reasons.insert(it->second);
    else if (auto req = requiredOrigins.find(axis);
             req != requiredOrigins.end() && !req->second.empty())
      reasons.insert(req->second);
  }
  std::string origin;
  llvm::raw_string_ostream os(origin);
  llvm::interleaveComma(reasons, os);
  os << (reasons.empty() ? "" : " ") << "-> " << op->getName().getStringRef();
  // Name the parameter an update or a use is about.
  for (Value consumed : op->getOperands())
    if (auto arg = dyn_cast<BlockArgument>(consumed))
      if (auto name = func.getArgAttrOfType<StringAttr>(
              arg.getArgNumber(), MPDialect::kParamAttrName)) {
        os << " of '" << name.getValue() << "'";
        break;
      }

  LLVM_DEBUG(llvm::dbgs() << "[mp-propagate-sharding] reshard operand #"
                          << index << " of " << op->getName() << " to "
                          << target << ": " << origin << "\n");
  OpBuilder builder(op);
  auto reshard = ReshardOp::create(builder, op->getLoc(), operand, target,
                                   builder.getStringAttr(origin));
  op->setOperand(index, reshard.getResult());
  reshards[{operand, target}] = reshard.getResult();
  ValueState &state = states[reshard.getResult()];
  state.layout = required;
  state.pinned = true;
  state.priority = Priority::Propagated;
  state.origins = actual.origins;
  for (const auto &entry : requiredOrigins)
    state.origins.try_emplace(entry.getKey(), entry.getValue());
}

LogicalResult
Propagator::checkReshapeKeepsStyles(ReshapeOp reshape, const ShardingRule &rule,
                                    ArrayRef<FactorChoice> choices) {
  const ValueState *input = getState(reshape.getInput());
  ArrayRef<int64_t> shape = reshape.getInput().getType().getShape();
  for (auto [dim, axes] : llvm::enumerate(input->layout.dims)) {
    int64_t factor = rule.operandFactors[0][dim];
    ArrayRef<StringRef> kept;
    if (factor != ShardingRule::kNoFactor)
      kept = choices[factor].axes;
    int64_t ranks = 1;
    for (StringRef axis : axes) {
      ranks *= mesh.getAxisSize(axis);
      // Axes of size 1 split nothing.
      if (mesh.getAxisSize(axis) == 1 || llvm::is_contained(kept, axis))
        continue;
      std::string origin = input->origins.lookup(axis);
      // The output features of a colwise weight (a rowwise weight's split
      // leaves partial sums, whose reduction may split other dims).
      if (!StringRef(origin).ends_with(
              describeStyle(ParallelStyleKind::colwise)))
        continue;
      InFlightDiagnostic diag =
          reshape.emitError() << "cannot keep dim " << dim << " (" << shape[dim]
                              << " entries) split over '" << axis << "' into "
                              << ranks << " pieces as " << origin << " asks: ";
      if (factor == ShardingRule::kNoFactor)
        return diag << "the reshape to " << reshape.getResult().getType()
                    << " regroups it with other dims";
      return diag << "in " << reshape.getResult().getType() << " its leading "
                  << rule.factorSizes[factor]
                  << " entries (the heads) are a dim of their own, and "
                  << rule.factorSizes[factor] << " does not divide into "
                  << ranks << " pieces; make the heads a multiple of the "
                  << "tensor-parallel size";
    }
  }
  return success();
}

LogicalResult Propagator::decide(Operation *op) {
  if (isa<ReshardOp>(op))
    return success();
  if (auto annotate = dyn_cast<AnnotateOp>(op)) {
    // The operand's layout may have grown since initialize().
    inheritKeptOrigins(states[annotate.getResult()],
                       *getState(annotate.getInput()));
    return success();
  }
  auto iface = dyn_cast<ShardingRuleOpInterface>(op);
  if (!iface) {
    if (op->getNumRegions() != 0)
      return op->emitError() << "sharding propagation does not handle ops "
                                "with regions";
    // An op without a rule runs whole on every rank, and so gives whole
    // results; but a splat constant is its own piece anywhere, so it takes
    // the layout its consumers asked for.
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      if (auto type = dyn_cast<RankedTensorType>(op->getOperand(i).getType()))
        reshardOperand(op, i, Layout::getReplicated(type.getRank()), {});
    DenseElementsAttr constant;
    bool isSplat = matchPattern(op, m_Constant(&constant)) &&
                   constant.isSplat();
    for (Value result : op->getResults())
      if (ValueState *state = getState(result)) {
        if (!isSplat)
          state->layout = Layout::getReplicated(
              cast<RankedTensorType>(result.getType()).getRank());
        setValueSharding(result, state->layout.toAttr(meshName));
      }
    return success();
  }

  ShardingRule rule = iface.getShardingRule();
  SmallVector<FactorChoice> choices = assignFactors(op, rule);
  if (auto reshape = dyn_cast<ReshapeOp>(op))
    if (failed(checkReshapeKeepsStyles(reshape, rule, choices)))
      return failure();
  llvm::StringSet<> factorAxes;
  llvm::StringMap<std::string> choiceOrigins;
  for (const FactorChoice &choice : choices)
    for (auto [axis, origin] : llvm::zip_equal(choice.axes, choice.origins)) {
      factorAxes.insert(axis);
      choiceOrigins[axis] = origin;
    }

  // Which operand partial axes pass through to the result.
  unsigned numOperands = op->getNumOperands();
  SmallVector<SmallVector<StringRef>> keptPartial(numOperands);
  SmallVector<StringRef> resultPartial;
  llvm::StringMap<std::string> resultOrigins;
  auto isAxisFree = [&](StringRef axis) { return !factorAxes.contains(axis); };
  for (StringAttr axisAttr : mesh.getAxisNames()) {
    StringRef axis = axisAttr.getValue();
    SmallVector<unsigned> owners;
    for (unsigned i = 0; i < numOperands; ++i)
      if (llvm::is_contained(getState(op->getOperand(i))->layout.partial, axis))
        owners.push_back(i);
    if (owners.empty() || !isAxisFree(axis) || !rule.propagatesPartials)
      continue;
    bool passes = false;
    if (rule.partial == PartialRule::Additive)
      passes = owners.size() == numOperands;
    else if (rule.partial == PartialRule::Multilinear)
      passes = owners.size() == 1 && rule.linearOperands[owners.front()];
    if (!passes)
      continue;
    for (unsigned owner : owners)
      keptPartial[owner].push_back(axis);
    resultPartial.push_back(axis);
    // Partial sums added: named by the last, in a residual stream
    // (h + f(h)) the newest contribution, not the first layer's.
    resultOrigins[axis] =
        getState(op->getOperand(owners.back()))->origins.lookup(axis);
  }
  // A split reduction factor leaves each rank a partial sum.
  for (auto [factor, choice] : llvm::enumerate(choices))
    if (rule.factorKinds[factor] == FactorKind::Reduction)
      for (auto [axis, origin] : llvm::zip_equal(choice.axes, choice.origins)) {
        resultPartial.push_back(axis);
        resultOrigins[axis] = origin;
      }
  llvm::sort(resultPartial, [&](StringRef a, StringRef b) {
    return *mesh.getAxisIndex(a) < *mesh.getAxisIndex(b);
  });

  auto layoutFor = [&](ArrayRef<int64_t> factors) {
    Layout layout;
    for (int64_t factor : factors)
      layout.dims.push_back(factor == ShardingRule::kNoFactor
                                ? SmallVector<StringRef>()
                                : choices[factor].axes);
    return layout;
  };
  for (unsigned i = 0; i < numOperands; ++i) {
    Layout required = layoutFor(rule.operandFactors[i]);
    required.partial = keptPartial[i];
    reshardOperand(op, i, required, choiceOrigins);
  }
  for (auto [result, factors] :
       llvm::zip_equal(op->getResults(), rule.resultFactors)) {
    ValueState &state = states[result];
    state.layout = layoutFor(factors);
    state.layout.partial = resultPartial;
    state.origins = choiceOrigins;
    for (const auto &entry : resultOrigins)
      state.origins[entry.getKey()] = entry.getValue();
    ShardingAttr sharding = state.layout.toAttr(meshName);
    if (failed(sharding.verifyFor(
            [&] {
              return op->emitError()
                     << "cannot shard the result as " << sharding << ": ";
            },
            result.getType(), mesh)))
      return failure();
    setValueSharding(result, sharding);
  }
  return success();
}

void Propagator::decideReturn(Operation *returnOp) {
  for (unsigned i = 0; i < returnOp->getNumOperands(); ++i) {
    ValueState *state = getState(returnOp->getOperand(i));
    if (!state)
      continue;
    Layout required = state->layout;
    required.partial.clear();
    llvm::StringMap<std::string> origins;
    if (auto sharding = func.getResultAttrOfType<ShardingAttr>(
            i, MPDialect::kShardingAttrName)) {
      required = Layout::get(sharding);
      for (StringAttr axis : mesh.getAxisNames())
        origins[axis.getValue()] = "result #" + std::to_string(i);
    }
    reshardOperand(returnOp, i, required, origins);
    func.setResultAttr(i, MPDialect::kShardingAttrName,
                       required.toAttr(meshName));
  }
}

LogicalResult Propagator::run() {
  // An accumulator must be partial exactly where its GEMM's product is,
  // which no layout choice here can make of a value that is not: such GEMMs
  // are formed on the partitioned step, whose sums are already placed.
  Block &body = func.getFunctionBody().front();
  for (Operation &op : body)
    if (auto iface = dyn_cast<ShardingRuleOpInterface>(op);
        iface && iface.getShardingRule().accumulatorOperand)
      return op.emitError()
             << "accumulates into an operand before shardings are "
                "propagated; mp-fuse-gemm-accumulate forms such GEMMs on the "
                "partitioned step";
  initialize();
  SmallVector<Operation *> ops = llvm::map_to_vector(
      body.getOperations(), [](Operation &op) { return &op; });

  // Phase 1. Each round grows at least one axis of one value, so the number
  // of rounds is bounded by values × axes.
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation *op : ops)
      changed |= grow(op);
    for (Operation *op : llvm::reverse(ops))
      changed |= grow(op);
    // Results with a sharding pull their producers toward it.
    Operation *terminator = body.getTerminator();
    for (auto [i, operand] : llvm::enumerate(terminator->getOperands()))
      if (auto sharding = func.getResultAttrOfType<ShardingAttr>(
              i, MPDialect::kShardingAttrName)) {
        ValueState *state = getState(operand);
        if (!state || state->pinned)
          continue;
        ShardingRule identity = ShardingRule::getElementwise(
            cast<RankedTensorType>(operand.getType()), 1,
            PartialRule::Additive);
        SmallVector<FactorChoice> choices(identity.getNumFactors());
        Layout target = Layout::get(sharding);
        for (auto [dim, axes] : llvm::enumerate(target.dims)) {
          choices[dim].axes = axes;
          choices[dim].origins.assign(axes.size(),
                                      "result #" + std::to_string(i));
        }
        changed |= growToward(operand, identity.resultFactors.front(), choices);
      }
  }

  // Phase 2.
  for (Operation *op : ops) {
    if (op->hasTrait<OpTrait::IsTerminator>()) {
      decideReturn(op);
      continue;
    }
    if (failed(decide(op)))
      return failure();
  }
  // Arguments without a sharding get the one propagation gave them, all at
  // once: setting one argument's attributes copies every argument's.
  SmallVector<DictionaryAttr> argAttrs;
  func.getAllArgAttrs(argAttrs);
  bool setAny = false;
  for (BlockArgument arg : func.getArguments())
    if (ValueState *state = getState(arg); state && !getValueSharding(arg)) {
      NamedAttrList attrs(argAttrs[arg.getArgNumber()]);
      attrs.set(MPDialect::kShardingAttrName, state->layout.toAttr(meshName));
      argAttrs[arg.getArgNumber()] = attrs.getDictionary(func.getContext());
      setAny = true;
    }
  if (setAny)
    func.setAllArgAttrs(argAttrs);
  return success();
}

/// The mesh every sharding in `func` refers to; null if none does.
FailureOr<FlatSymbolRefAttr> findMesh(FunctionOpInterface func) {
  FlatSymbolRefAttr found;
  Location foundAt = func.getLoc();
  auto check = [&](ShardingAttr sharding, Location loc) -> LogicalResult {
    if (!sharding)
      return success();
    if (!found) {
      found = sharding.getMesh();
      foundAt = loc;
      return success();
    }
    if (found == sharding.getMesh())
      return success();
    InFlightDiagnostic diag = emitError(loc)
                              << "sharding on mesh " << sharding.getMesh()
                              << " in a function already sharded on mesh "
                              << found << "; use one mesh per function";
    diag.attachNote(foundAt) << "mesh " << found << " used here";
    return failure();
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (failed(check(func.getArgAttrOfType<ShardingAttr>(
                         i, MPDialect::kShardingAttrName),
                     func.getArgument(i).getLoc())))
      return failure();
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (failed(check(func.getResultAttrOfType<ShardingAttr>(
                         i, MPDialect::kShardingAttrName),
                     func.getLoc())))
      return failure();
  WalkResult walk = func.getFunctionBody().walk([&](Operation *op) {
    ShardingAttr sharding;
    if (auto annotate = dyn_cast<AnnotateOp>(op))
      sharding = annotate.getSharding();
    else if (auto reshard = dyn_cast<ReshardOp>(op))
      sharding = reshard.getSharding();
    return failed(check(sharding, op->getLoc())) ? WalkResult::interrupt()
                                                 : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return found;
}

struct PropagateShardingPass
    : impl::PropagateShardingBase<PropagateShardingPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto plan = module->getAttrOfType<PlanAttr>(MPDialect::kPlanAttrName);
    bool ok = true;
    module.walk([&](FunctionOpInterface func) {
      if (func.isExternal())
        return;
      if (!func.getFunctionBody().hasOneBlock()) {
        func.emitError() << "sharding propagation needs a single-block body";
        ok = false;
        return;
      }
      FailureOr<FlatSymbolRefAttr> meshName = findMesh(func);
      if (failed(meshName)) {
        ok = false;
        return;
      }
      if (!*meshName)
        return;
      MeshAttr mesh = lookupMesh(func, *meshName);
      Propagator propagator(func, *meshName, mesh,
                            plan && plan.getMesh() == *meshName ? plan
                                                                : PlanAttr());
      ok &= succeeded(propagator.run());
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
} // namespace mp
