//===- MPModel.cpp - the named values of a model function -----------------===//

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

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

namespace {
/// The names of the parameters of `values` whose uses (looking through
/// annotations) include one `isUse` accepts.
llvm::StringSet<>
findParamsUsedAs(FunctionOpInterface func, ArrayRef<ModelValue> values,
                 llvm::function_ref<bool(OpOperand &)> isUse) {
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
  llvm::StringSet<> tables = findParamsUsedAs(func, values, [](OpOperand &use) {
    auto embedding = dyn_cast<EmbeddingOp>(use.getOwner());
    return embedding && use.get() == embedding.getTable();
  });
  llvm::StringSet<> normWeights =
      findParamsUsedAs(func, values, [](OpOperand &use) {
        NormOperands norm = getNormOperands(use.getOwner());
        return norm.input &&
               (use.get() == norm.weight || use.get() == norm.bias);
      });
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

std::optional<int64_t> getIndexBound(Value value) {
  auto shapeOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  auto boundAt = [&](Operation *user) -> std::optional<int64_t> {
    if (isa<CrossEntropyOp, CrossEntropyGradOp>(user))
      return shapeOf(user->getOperand(0)).back();
    if (auto embedding = dyn_cast<EmbeddingOp>(user))
      return shapeOf(embedding.getTable())[0];
    if (auto grad = dyn_cast<EmbeddingGradOp>(user))
      return shapeOf(grad.getTable())[0];
    if (auto gather = dyn_cast<GatherLastOp>(user))
      return shapeOf(gather.getInput()).back();
    if (auto scatter = dyn_cast<ScatterLastOp>(user))
      return shapeOf(scatter.getLike()).back();
    if (isa<MaskBiasOp>(user)) // Keep (1) or drop (0).
      return int64_t(2);
    if (auto localize = dyn_cast<LocalizeIndexOp>(user))
      return int64_t(localize.getExtent());
    return std::nullopt;
  };
  // Every consumer must accept the values: the smallest bound.
  std::optional<int64_t> bound;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (Operation *user : current.getUsers()) {
      if (std::optional<int64_t> here = boundAt(user)) {
        bound = bound ? std::min(*bound, *here) : *here;
        continue;
      }
      auto collective = dyn_cast<CollectiveOpInterface>(user);
      if (isa<AnnotateOp, ReshardOp, ReshapeOp, ZeroPaddingOp, ResizeOp, WaitOp,
              SliceOp, ConcatOp>(user) ||
          (collective && !collective.getSteps().sums))
        worklist.push_back(user->getResult(0));
    }
  }
  return bound;
}

} // namespace mp
