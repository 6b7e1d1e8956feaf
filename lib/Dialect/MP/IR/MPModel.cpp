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
/// The names of the parameters of `values` that an mp.embedding of `func`
/// looks rows up in (looking through annotations).
llvm::StringSet<> findEmbeddingTables(FunctionOpInterface func,
                                      ArrayRef<ModelValue> values) {
  llvm::StringSet<> tables;
  if (func.isExternal())
    return tables;
  for (const ModelValue &value : values) {
    if (value.role != ModelRole::Param)
      continue;
    SmallVector<Value> worklist{func.getArgument(value.index)};
    while (!worklist.empty()) {
      Value current = worklist.pop_back_val();
      for (OpOperand &use : current.getUses()) {
        if (auto embedding = dyn_cast<EmbeddingOp>(use.getOwner()))
          if (use.get() == embedding.getTable())
            tables.insert(value.name.getValue());
        if (auto annotate = dyn_cast<AnnotateOp>(use.getOwner()))
          worklist.push_back(annotate.getResult());
      }
    }
  }
  return tables;
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
  // Optimizer state, named "<param>.<state>", is laid out as its parameter.
  llvm::StringSet<> tables = findEmbeddingTables(func, values);
  for (ModelValue &value : values)
    value.isEmbeddingTable =
        (value.role == ModelRole::Param &&
         tables.contains(value.name.getValue())) ||
        (value.role == ModelRole::State &&
         tables.contains(value.name.getValue().rsplit('.').first));
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
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (Operation *user : current.getUsers()) {
      if (isa<CrossEntropyOp, CrossEntropyGradOp>(user))
        return shapeOf(user->getOperand(0)).back();
      if (auto embedding = dyn_cast<EmbeddingOp>(user))
        return shapeOf(embedding.getTable())[0];
      if (auto grad = dyn_cast<EmbeddingGradOp>(user))
        return shapeOf(grad.getTable())[0];
      if (auto localize = dyn_cast<LocalizeIndexOp>(user))
        return int64_t(localize.getExtent());
      auto collective = dyn_cast<CollectiveOpInterface>(user);
      if (isa<AnnotateOp, ReshardOp, ReshapeOp, ZeroPaddingOp, ResizeOp>(
              user) ||
          (collective && !collective.getSteps().sums))
        worklist.push_back(user->getResult(0));
    }
  }
  return std::nullopt;
}

} // namespace mp
