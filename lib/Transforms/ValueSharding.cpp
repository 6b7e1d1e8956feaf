//===- ValueSharding.cpp - where a value's sharding is recorded -----------===//

#include "mp/Transforms/ValueSharding.h"

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
  return op->getAttrOfType<ShardingAttr>(MPDialect::kShardingAttrName);
}

void setValueSharding(Value value, ShardingAttr sharding) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
    func.setArgAttr(arg.getArgNumber(), MPDialect::kShardingAttrName,
                    sharding);
    return;
  }
  value.getDefiningOp()->setAttr(MPDialect::kShardingAttrName, sharding);
}

} // namespace mp
