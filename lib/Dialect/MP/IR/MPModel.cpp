//===- MPModel.cpp - the named values of a model function -----------------===//

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace mp {

StringRef stringifyModelRole(ModelRole role) {
  switch (role) {
  case ModelRole::Param:
    return "parameter";
  case ModelRole::Input:
    return "input";
  case ModelRole::Target:
    return "target";
  case ModelRole::State:
    return "optimizer state";
  case ModelRole::Output:
    return "output";
  }
  llvm_unreachable("unknown model role");
}

Location ModelValue::getLoc(FunctionOpInterface func) const {
  if (!isResult() && !func.isExternal())
    return func.getArgument(index).getLoc();
  return func.getLoc();
}

ShardingAttr ModelValue::getSharding(FunctionOpInterface func) const {
  if (isResult())
    return func.getResultAttrOfType<ShardingAttr>(index,
                                                  MPDialect::kShardingAttrName);
  return func.getArgAttrOfType<ShardingAttr>(index,
                                             MPDialect::kShardingAttrName);
}

Value getNormWeightPassThrough(OpOperand &use) {
  Operation *user = use.getOwner();
  if (auto annotate = dyn_cast<AnnotateOp>(user))
    return annotate.getResult();
  if (auto add = dyn_cast<AddOp>(user)) {
    Value other = add->getOperand(1 - use.getOperandNumber());
    if (other != use.get() && matchPattern(other, m_Constant()))
      return add.getResult();
  }
  return {};
}

namespace {
/// The names of the parameters of `values` whose uses (looking through
/// annotations, and weight offsets where `throughWeightOffsets`) include
/// one `isUse` accepts.
llvm::StringSet<>
findParamsUsedAs(FunctionOpInterface func, ArrayRef<ModelValue> values,
                 llvm::function_ref<bool(OpOperand &)> isUse,
                 bool throughWeightOffsets) {
  llvm::StringSet<> found;
  if (func.isExternal())
    return found;
  for (const ModelValue &value : values) {
    if (value.role != ModelRole::Param)
      continue;
    SmallVector<Value> worklist{func.getArgument(value.index)};
    while (!worklist.empty()) {
      Value current = worklist.pop_back_val();
      for (OpOperand &use : current.getUses()) {
        if (isUse(use))
          found.insert(value.name.getValue());
        if (auto annotate = dyn_cast<AnnotateOp>(use.getOwner()))
          worklist.push_back(annotate.getResult());
        else if (Value sum = throughWeightOffsets
                                 ? getNormWeightPassThrough(use)
                                 : Value())
          worklist.push_back(sum);
      }
    }
  }
  return found;
}
} // namespace

SmallVector<ModelValue> getModelValues(FunctionOpInterface func) {
  static constexpr std::pair<StringLiteral, ModelRole> kArgRoles[] = {
      {MPDialect::kParamAttrName, ModelRole::Param},
      {MPDialect::kInputAttrName, ModelRole::Input},
      {MPDialect::kTargetAttrName, ModelRole::Target},
      {MPDialect::kStateAttrName, ModelRole::State}};
  SmallVector<ModelValue> values;
  ArrayRef<Type> argTypes = func.getArgumentTypes();
  for (unsigned i = 0, e = argTypes.size(); i < e; ++i)
    for (auto [attrName, role] : kArgRoles)
      if (auto name = func.getArgAttrOfType<StringAttr>(i, attrName))
        values.push_back(
            {role, name, i, dyn_cast<RankedTensorType>(argTypes[i])});
  llvm::StringSet<> tables = findParamsUsedAs(
      func, values,
      [](OpOperand &use) {
        auto embedding = dyn_cast<EmbeddingOp>(use.getOwner());
        return embedding && use.get() == embedding.getTable();
      },
      /*throughWeightOffsets=*/false);
  llvm::StringSet<> normWeights = findParamsUsedAs(
      func, values,
      [](OpOperand &use) {
        NormOperands norm = getNormOperands(use.getOwner());
        return norm.input &&
               (use.get() == norm.weight || use.get() == norm.bias);
      },
      /*throughWeightOffsets=*/true);
  // Optimizer state, named "<param>.<state>", is laid out as its parameter.
  for (ModelValue &value : values) {
    if (value.role != ModelRole::Param && value.role != ModelRole::State)
      continue;
    StringRef param = value.name.getValue();
    if (value.role == ModelRole::State)
      param = param.rsplit('.').first;
    value.isEmbeddingTable = tables.contains(param);
    value.isNormWeight = normWeights.contains(param);
  }
  ArrayRef<Type> resultTypes = func.getResultTypes();
  for (unsigned i = 0, e = resultTypes.size(); i < e; ++i)
    if (auto name =
            func.getResultAttrOfType<StringAttr>(i, MPDialect::kOutputAttrName))
      values.push_back({ModelRole::Output, name, i,
                        dyn_cast<RankedTensorType>(resultTypes[i])});
  return values;
}

/// The ops that read the integers of `value`, looking through ops that only
/// move them (a collective that sums them does not).
static SmallVector<Operation *> getIndexReaders(Value value) {
  SmallVector<Operation *> readers;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (Operation *user : current.getUsers()) {
      auto collective = dyn_cast<CollectiveOpInterface>(user);
      if (isa<AnnotateOp, ReshardOp, ReshapeOp, ZeroPaddingOp, ResizeOp, WaitOp,
              SliceOp, ConcatOp>(user) ||
          (collective && !collective.getSteps().sums))
        worklist.push_back(user->getResult(0));
      else
        readers.push_back(user);
    }
  }
  return readers;
}

/// How many classes or rows `reader` indexes with its integer operand.
static std::optional<int64_t> getBoundAt(Operation *reader) {
  auto shapeOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  if (isa<CrossEntropyOp, CrossEntropyGradOp>(reader))
    return shapeOf(reader->getOperand(0)).back();
  if (auto embedding = dyn_cast<EmbeddingOp>(reader))
    return shapeOf(embedding.getTable())[0];
  if (auto grad = dyn_cast<EmbeddingGradOp>(reader))
    return shapeOf(grad.getTable())[0];
  if (auto gather = dyn_cast<GatherLastOp>(reader))
    return shapeOf(gather.getInput()).back();
  if (auto scatter = dyn_cast<ScatterLastOp>(reader))
    return shapeOf(scatter.getLike()).back();
  if (isa<MaskBiasOp>(reader)) // Keep (1) or drop (0).
    return int64_t(2);
  if (auto localize = dyn_cast<LocalizeIndexOp>(reader))
    return int64_t(localize.getExtent());
  return std::nullopt;
}

std::optional<int64_t> getIndexBound(Value value) {
  // Every reader must accept the values: the smallest bound.
  std::optional<int64_t> bound;
  for (Operation *reader : getIndexReaders(value))
    if (std::optional<int64_t> here = getBoundAt(reader))
      bound = bound ? std::min(*bound, *here) : *here;
  return bound;
}

std::optional<int64_t> getIgnoredIndex(Value value) {
  std::optional<int64_t> ignored;
  for (Operation *reader : getIndexReaders(value)) {
    // The losses and masks say which value is no sample. The loss's pieces
    // (--mp-loss-parallel's pick, its adjoint) take a negative index as
    // nothing, and the mask drops what they pick; any other reader (an
    // embedding, also through the shift into a rank's slice of its table)
    // takes the value as data.
    if (auto localize = dyn_cast<LocalizeIndexOp>(reader)) {
      if (llvm::any_of(getIndexReaders(localize.getResult()),
                       llvm::IsaPred<EmbeddingOp, EmbeddingGradOp>))
        return std::nullopt;
      continue;
    }
    if (isa<GatherLastOp, ScatterLastOp>(reader) ||
        (!getBoundAt(reader) && !isa<TargetMaskOp>(reader)))
      continue;
    std::optional<int64_t> here;
    if (auto loss = dyn_cast<CrossEntropyOp>(reader))
      here = loss.getIgnoreIndex();
    else if (auto grad = dyn_cast<CrossEntropyGradOp>(reader))
      here = grad.getIgnoreIndex();
    else if (auto mask = dyn_cast<TargetMaskOp>(reader))
      here = mask.getIgnoreIndex();
    if (!here || (ignored && ignored != here))
      return std::nullopt;
    ignored = here;
  }
  return ignored;
}

} // namespace mp
