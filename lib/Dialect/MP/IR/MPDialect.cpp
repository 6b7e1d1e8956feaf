//===- MPDialect.cpp - the mp dialect -------------------------------------===//

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mp;

#include "mp/Dialect/MP/IR/MPDialect.cpp.inc"

void MPDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mp/Dialect/MP/IR/MPOps.cpp.inc"
      >();
  registerAttributes();
}

namespace {
/// The role attributes that name a function argument.
constexpr StringLiteral kRoleAttrNames[] = {
    MPDialect::kParamAttrName, MPDialect::kInputAttrName,
    MPDialect::kTargetAttrName, MPDialect::kStateAttrName};

bool isRoleAttr(StringRef name) {
  return llvm::is_contained(kRoleAttrNames, name);
}

/// The name an argument's role attribute gives it, if any.
StringAttr getArgName(FunctionOpInterface func, unsigned index) {
  for (StringRef role : kRoleAttrNames)
    if (auto name = func.getArgAttrOfType<StringAttr>(index, role))
      return name;
  return {};
}

/// Checks a plan entry's text (written into IR only) or, with
/// `isTensorName`, a name that generated files carry (isValidName).
LogicalResult verifyName(Operation *op, NamedAttribute attr, StringRef what,
                         bool isTensorName) {
  auto name = dyn_cast<StringAttr>(attr.getValue());
  if (!name || name.getValue().empty())
    return op->emitError() << "'" << attr.getName().getValue() << "' on "
                           << what << " must be a non-empty string";
  if (isTensorName && !isValidName(name.getValue()))
    return op->emitError() << "'" << attr.getName().getValue() << "' on "
                           << what << ": the name '" << name.getValue()
                           << "' is not " << kNameGrammar;
  return success();
}

/// Checks a `mp.sharding` attribute against the value type it describes.
LogicalResult verifyShardingFor(Operation *op, NamedAttribute attr, Type type,
                                StringRef what) {
  auto sharding = dyn_cast<ShardingAttr>(attr.getValue());
  if (!sharding)
    return op->emitError() << "'mp.sharding' on " << what
                           << " must be an #mp.sharding";
  auto mesh =
      SymbolTable::lookupNearestSymbolFrom<MeshOp>(op, sharding.getMesh());
  if (!mesh)
    return op->emitError() << "sharding of " << what << " refers to "
                           << sharding.getMesh() << ", which is not an mp.mesh";
  return sharding.verifyFor(
      [&] { return op->emitError() << "sharding of " << what << ": "; }, type,
      mesh.getMesh());
}

/// Checks a `mp.global_shape` attribute: the shape whose split by the
/// value's sharding (`sharding`, an attribute of the same value) is `type`.
LogicalResult verifyGlobalShapeFor(Operation *op, NamedAttribute attr,
                                   Type type, Attribute sharding,
                                   StringRef what) {
  auto shape = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
  auto tensorType = dyn_cast<RankedTensorType>(type);
  auto shardingAttr = dyn_cast_or_null<ShardingAttr>(sharding);
  if (!shape || !tensorType || !shardingAttr ||
      shape.size() != tensorType.getRank())
    return op->emitError() << "'mp.global_shape' on " << what
                           << " must be an array of its rank's extents, "
                              "beside its sharding";
  auto mesh =
      SymbolTable::lookupNearestSymbolFrom<MeshOp>(op, shardingAttr.getMesh());
  if (!mesh || shardingAttr.getRank() != tensorType.getRank())
    return success(); // The sharding's own verification reports it.
  if (llvm::any_of(shape.asArrayRef(), [](int64_t d) { return d < 0; }) ||
      ArrayRef(shardingAttr.getLocalShape(
          shape.asArrayRef(), mesh.getMesh())) != tensorType.getShape())
    return op->emitError() << "'mp.global_shape' of " << what
                           << " does not split into " << type;
  return success();
}
} // namespace

LogicalResult MPDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                  unsigned argIndex,
                                                  NamedAttribute attr) {
  auto func = dyn_cast<FunctionOpInterface>(op);
  if (!func)
    return op->emitError() << "'" << attr.getName().getValue()
                           << "' is only valid on function arguments";
  std::string what = ("argument #" + Twine(argIndex)).str();
  StringRef attrName = attr.getName().getValue();
  Type type = func.getArgumentTypes()[argIndex];

  if (isRoleAttr(attrName)) {
    if (failed(verifyName(op, attr, what, /*isTensorName=*/true)))
      return failure();
    for (StringRef other : kRoleAttrNames)
      if (other != attrName && func.getArgAttr(argIndex, other))
        return op->emitError() << what << " has two roles, '" << attrName
                               << "' and '" << other << "'";
    if (!isa<RankedTensorType>(type))
      return op->emitError() << what << " named by '" << attrName
                             << "' must be a ranked tensor, not " << type;
    if (failed(verifyTensorSize(
            [&] { return op->emitError(); }, type,
            what + " ('" + cast<StringAttr>(attr.getValue()).getValue().str() +
                "')")))
      return failure();
    // Names are unique: checked once, at the last named argument (checking
    // each argument against the earlier ones is quadratic in their number,
    // thousands in a training step). A repeat is reported on its later
    // occurrence.
    unsigned lastNamed = func.getNumArguments();
    while (lastNamed > 0 && !getArgName(func, lastNamed - 1))
      --lastNamed;
    if (argIndex + 1 != lastNamed)
      return success();
    llvm::DenseMap<StringAttr, unsigned> firstArg;
    for (unsigned index = 0; index < lastNamed; ++index) {
      StringAttr name = getArgName(func, index);
      if (!name)
        continue;
      auto [it, inserted] = firstArg.try_emplace(name, index);
      if (!inserted)
        return op->emitError() << "argument #" << index << " repeats the name '"
                               << name.getValue() << "' of argument #"
                               << it->second << "; names must be unique";
    }
    return success();
  }
  if (attrName == kShardingAttrName)
    return verifyShardingFor(op, attr, type, what);
  if (attrName == kGlobalShapeAttrName)
    return verifyGlobalShapeFor(
        op, attr, type, func.getArgAttr(argIndex, kShardingAttrName), what);
  if (attrName == kPlanEntryAttrName)
    return verifyName(op, attr, what, /*isTensorName=*/false);
  return op->emitError() << "unknown mp argument attribute '" << attrName
                         << "'";
}

LogicalResult MPDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                     unsigned resultIndex,
                                                     NamedAttribute attr) {
  auto func = dyn_cast<FunctionOpInterface>(op);
  if (!func)
    return op->emitError() << "'" << attr.getName().getValue()
                           << "' is only valid on function results";
  std::string what = ("result #" + Twine(resultIndex)).str();
  StringRef attrName = attr.getName().getValue();
  if (attrName == kOutputAttrName || attrName == kPlanEntryAttrName)
    return verifyName(op, attr, what,
                      /*isTensorName=*/attrName == kOutputAttrName);
  if (attrName == kShardingAttrName)
    return verifyShardingFor(op, attr, func.getResultTypes()[resultIndex],
                             what);
  if (attrName == kGlobalShapeAttrName)
    return verifyGlobalShapeFor(
        op, attr, func.getResultTypes()[resultIndex],
        func.getResultAttr(resultIndex, kShardingAttrName), what);
  return op->emitError() << "unknown mp result attribute '" << attrName << "'";
}

LogicalResult MPDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  StringRef attrName = attr.getName().getValue();
  if (attrName == kShardingAttrName) {
    if (op->getNumResults() == 1)
      return verifyShardingFor(op, attr, op->getResult(0).getType(), "result");
    auto shardings = dyn_cast<ArrayAttr>(attr.getValue());
    if (!shardings || shardings.size() != op->getNumResults())
      return op->emitError()
             << "'mp.sharding' on an op with " << op->getNumResults()
             << " results is an array of one sharding each";
    for (auto [index, sharding] : llvm::enumerate(shardings))
      if (failed(verifyShardingFor(op, NamedAttribute(attr.getName(), sharding),
                                   op->getResult(index).getType(),
                                   ("result #" + Twine(index)).str())))
        return failure();
    return success();
  }
  if (attrName == kModuleAttrName) {
    auto name = dyn_cast<StringAttr>(attr.getValue());
    if (!getNormOperands(op).input || !name || name.getValue().empty())
      return op->emitError() << "'mp.module' is the module name (a non-empty "
                                "string) of a norm";
    return success();
  }
  if (attrName == kPartitionedAttrName) {
    if (!isa<FunctionOpInterface>(op) || !isa<UnitAttr>(attr.getValue()))
      return op->emitError()
             << "'mp.partitioned' is a unit attribute of functions";
    return success();
  }
  if (attrName == kRegatherAttrName) {
    if (!isa<CollectiveOpInterface>(op) || !isa<UnitAttr>(attr.getValue()))
      return op->emitError()
             << "'mp.regather' is a unit attribute of collectives";
    return success();
  }
  if (attrName == kFsdpGroupAttrName) {
    if (!isa<AllGatherOp, ReduceScatterOp>(op) ||
        !isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'mp.fsdp_group' is a string attribute of "
                                "all_gathers and reduce_scatters";
    return success();
  }
  if (attrName == kCoalescedAttrName) {
    if (!isa<AllReduceOp>(op) || !isa<IntegerAttr>(attr.getValue()))
      return op->emitError()
             << "'mp.coalesced' is an integer attribute of all_reduces";
    return success();
  }
  if (attrName == kAsyncAttrName) {
    auto slot = dyn_cast<IntegerAttr>(attr.getValue());
    if (!isa<CollectiveOpInterface>(op) || op->getNumResults() != 1 || !slot ||
        slot.getInt() < 0 || slot.getInt() >= kAsyncSlots)
      return op->emitError() << "'mp.async' is the runtime slot (0 to "
                             << kAsyncSlots - 1 << ") of a collective";
    if (op->getResult(0).use_empty() ||
        !llvm::all_of(op->getUsers(), [&](Operation *user) {
          auto wait = dyn_cast<WaitOp>(user);
          return wait && wait.getValue() == op->getResult(0);
        }))
      return op->emitError()
             << "an asynchronous collective is read by its mp.wait only";
    return success();
  }
  if (attrName == kReduceDtypeAttrName || attrName == kTpReduceDtypeAttrName) {
    auto type = dyn_cast<TypeAttr>(attr.getValue());
    if (!isa<FunctionOpInterface>(op) || !type ||
        !(type.getValue().isF32() || type.getValue().isBF16()))
      return op->emitError()
             << "'" << attrName << "' is the type (f32 or bf16) a function's "
             << (attrName == kReduceDtypeAttrName
                     ? "gradients"
                     : "tensor-parallel partial results")
             << " are summed in";
    return success();
  }
  if (attrName == kManifestAttrName) {
    if (!isa<FunctionOpInterface>(op) || !isa<StringAttr>(attr.getValue()))
      return op->emitError()
             << "'mp.manifest' is a string attribute of functions";
    return success();
  }
  if (attrName != kPlanAttrName)
    return op->emitError() << "unknown mp attribute '" << attrName << "'";
  auto plan = dyn_cast<PlanAttr>(attr.getValue());
  if (!plan)
    return op->emitError() << "'mp.plan' must be an #mp.plan";
  if (!isa<ModuleOp>(op))
    return op->emitError() << "'mp.plan' belongs on the module";
  auto meshOp = SymbolTable::lookupNearestSymbolFrom<MeshOp>(
      op->getRegion(0).front().getParentOp(), plan.getMesh());
  if (!meshOp)
    return op->emitError() << "the plan's mesh " << plan.getMesh()
                           << " is not an mp.mesh of this module";
  return plan.verifyAxesIn([&] { return op->emitError(); }, meshOp.getMesh());
}
