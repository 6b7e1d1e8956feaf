//===- Costs.cpp - what an op costs to run (CostOpInterface) --------------===//

#include "mp/Dialect/MP/IR/MPOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace mp {

int64_t getOperandAndResultBytes(Operation *op) {
  uint64_t bytes = 0;
  for (Type type :
       llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        tensor && tensor.hasStaticShape())
      bytes = llvm::SaturatingAdd(
          bytes, uint64_t(getTensorBytes(tensor).value_or(INT64_MAX)));
  return std::min<uint64_t>(bytes, INT64_MAX);
}

namespace {
/// y = x·Wᵀ and batched matmuls alike: 2 FLOPs per output element and
/// contracted element, the contraction being the first operand's last dim.
int64_t getProductFlops(Value lhs, Value result) {
  uint64_t flops = llvm::SaturatingMultiply(
      uint64_t(2 * cast<RankedTensorType>(result.getType()).getNumElements()),
      uint64_t(cast<RankedTensorType>(lhs.getType()).getShape().back()));
  return std::min<uint64_t>(flops, INT64_MAX);
}
} // namespace

int64_t LinearOp::getGemmFlops() {
  return getProductFlops(getInput(), getResult());
}

int64_t MatmulOp::getGemmFlops() {
  return getProductFlops(getLhs(), getResult());
}

} // namespace mp
