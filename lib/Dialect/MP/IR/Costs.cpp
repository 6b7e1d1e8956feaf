//===- Costs.cpp - what an op costs to run (CostOpInterface) --------------===//

#include "mp/Dialect/MP/IR/MPOps.h"

using namespace mlir;

namespace mp {

int64_t getOperandAndResultBytes(Operation *op) {
  int64_t bytes = 0;
  for (Type type :
       llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        tensor && tensor.hasStaticShape())
      bytes += tensor.getNumElements() * tensor.getElementTypeBitWidth() / 8;
  return bytes;
}

namespace {
/// y = x·Wᵀ and batched matmuls alike: 2 FLOPs per output element and
/// contracted element, the contraction being the first operand's last dim.
int64_t getProductFlops(Value lhs, Value result) {
  return 2 * cast<RankedTensorType>(result.getType()).getNumElements() *
         cast<RankedTensorType>(lhs.getType()).getShape().back();
}
} // namespace

int64_t LinearOp::getGemmFlops() {
  return getProductFlops(getInput(), getResult());
}

int64_t MatmulOp::getGemmFlops() {
  return getProductFlops(getLhs(), getResult());
}

} // namespace mp
