//===- ValueSharding.cpp - where a value's sharding is recorded -----------===//

#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;

namespace mp {

Layout Layout::get(ShardingAttr sharding) {
  Layout layout;
  for (int64_t dim = 0; dim < sharding.getRank(); ++dim)
    layout.dims.push_back(sharding.getDimAxes(dim));
  layout.partial = sharding.getPartialAxes();
  return layout;
}

ShardingAttr Layout::toAttr(FlatSymbolRefAttr mesh) const {
  return ShardingAttr::get(mesh, dims, partial);
}

bool Layout::uses(StringRef axis) const {
  if (llvm::is_contained(partial, axis))
    return true;
  return llvm::any_of(dims, [&](const SmallVector<StringRef> &axes) {
    return llvm::is_contained(axes, axis);
  });
}

ShardingAttr getValueSharding(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
    if (!func || arg.getOwner() != &func.getFunctionBody().front())
      return {};
    return func.getArgAttrOfType<ShardingAttr>(arg.getArgNumber(),
                                               MPDialect::kShardingAttrName);
  }
  Operation *op = value.getDefiningOp();
  if (auto annotate = dyn_cast<AnnotateOp>(op))
    return annotate.getSharding();
  if (auto reshard = dyn_cast<ReshardOp>(op))
    return reshard.getSharding();
  Attribute attr = op->getAttr(MPDialect::kShardingAttrName);
  if (auto shardings = dyn_cast_or_null<ArrayAttr>(attr))
    return dyn_cast<ShardingAttr>(
        shardings[cast<OpResult>(value).getResultNumber()]);
  return dyn_cast_or_null<ShardingAttr>(attr);
}

void setValueSharding(Value value, ShardingAttr sharding) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
    func.setArgAttr(arg.getArgNumber(), MPDialect::kShardingAttrName, sharding);
    return;
  }
  Operation *op = value.getDefiningOp();
  if (op->getNumResults() == 1) {
    op->setAttr(MPDialect::kShardingAttrName, sharding);
    return;
  }
  // Several results: one sharding each, in an array.
  SmallVector<Attribute> shardings(op->getNumResults(), sharding);
  if (auto existing =
          op->getAttrOfType<ArrayAttr>(MPDialect::kShardingAttrName))
    shardings.assign(existing.begin(), existing.end());
  shardings[cast<OpResult>(value).getResultNumber()] = sharding;
  op->setAttr(MPDialect::kShardingAttrName,
              ArrayAttr::get(op->getContext(), shardings));
}

SmallVector<int64_t> getGlobalShape(FunctionOpInterface func, unsigned index,
                                    bool isResult, MeshAttr mesh) {
  auto attr = [&](StringRef name) {
    return isResult ? func.getResultAttr(index, name)
                    : func.getArgAttr(index, name);
  };
  if (auto shape = dyn_cast_or_null<DenseI64ArrayAttr>(
          attr(MPDialect::kGlobalShapeAttrName)))
    return SmallVector<int64_t>(shape.asArrayRef());
  Type type =
      isResult ? func.getResultTypes()[index] : func.getArgumentTypes()[index];
  SmallVector<int64_t> shape(cast<RankedTensorType>(type).getShape());
  auto sharding =
      dyn_cast_or_null<ShardingAttr>(attr(MPDialect::kShardingAttrName));
  if (!sharding || !func->hasAttr(MPDialect::kPartitionedAttrName))
    return shape;
  // Even splits: the local extent times the pieces.
  if (!mesh)
    mesh = lookupMesh(func, sharding.getMesh());
  for (int64_t dim = 0; dim < sharding.getRank(); ++dim)
    for (StringRef axis : sharding.getDimAxes(dim))
      shape[dim] *= mesh.getAxisSize(axis);
  return shape;
}

} // namespace mp
