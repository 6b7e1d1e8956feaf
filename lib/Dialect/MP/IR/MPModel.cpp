//===- MPModel.cpp - the named values of a model function -----------------===//

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPDialect.h"

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
  ArrayRef<Type> resultTypes = func.getResultTypes();
  for (unsigned i = 0, e = resultTypes.size(); i < e; ++i)
    if (auto name =
            func.getResultAttrOfType<StringAttr>(i, MPDialect::kOutputAttrName))
      values.push_back({ModelRole::Output, name, i,
                        dyn_cast<RankedTensorType>(resultTypes[i])});
  return values;
}

} // namespace mp
