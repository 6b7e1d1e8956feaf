//===- Autodiff.cpp - reverse-mode differentiation of mp ops --------------===//

#include "mp/Transforms/Autodiff.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-autodiff"

using namespace mlir;

namespace mp {

Value buildSplat(OpBuilder &builder, Location loc, RankedTensorType type,
                 double value) {
  auto element = cast<FloatType>(type.getElementType());
  return arith::ConstantOp::create(
      builder, loc,
      DenseElementsAttr::get(type, FloatAttr::get(element, value)));
}

FailureOr<SmallVector<Value>> buildGradients(OpBuilder &builder, Location loc,
                                             ArrayRef<Operation *> program,
                                             Value loss, Value seed,
                                             ValueRange wrt) {
  // Which values depend on one of `wrt`: only they need adjoints.
  llvm::DenseSet<Value> needsGrad(wrt.begin(), wrt.end());
  for (Operation *op : program)
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return needsGrad.contains(v); }))
      needsGrad.insert(op->result_begin(), op->result_end());

  llvm::DenseMap<Value, Value> adjoints;
  auto accumulate = [&](Value value, Value grad) {
    if (!grad || !needsGrad.contains(value))
      return;
    Value &adjoint = adjoints[value];
    adjoint = adjoint ? AddOp::create(builder, loc, adjoint, grad).getResult()
                      : grad;
  };
  accumulate(loss, seed);
  for (Operation *op : llvm::reverse(program)) {
    if (llvm::none_of(op->getResults(),
                      [&](Value v) { return adjoints.count(v); }))
      continue;
    auto iface = dyn_cast<AutodiffOpInterface>(op);
    if (!iface)
      return emitError(op->getLoc())
             << "cannot differentiate '" << op->getName()
             << "': it has no vector-Jacobian rule";
    // The rules build gradients of their operands' types; a bf16-held
    // float32 computation is what mp-fuse-conversions writes on the step.
    if (mixesBFloat16Storage(op))
      return emitError(op->getLoc())
             << "cannot differentiate '" << op->getName()
             << "' with float32 and bfloat16 tensors: models take one "
                "element type per op (mp-fuse-conversions holds bf16 on the "
                "built step)";
    LLVM_DEBUG(llvm::dbgs() << "[mp-autodiff] VJP of " << op->getName()
                            << "\n");
    SmallVector<Value> resultGrads;
    for (OpResult result : op->getResults()) {
      Value grad = adjoints.lookup(result);
      if (grad && !iface.hasResultGradient(result.getResultNumber()))
        return emitError(op->getLoc())
               << "cannot differentiate through result #"
               << result.getResultNumber() << " of '" << op->getName()
               << "': its vector-Jacobian rule has no gradient for it";
      resultGrads.push_back(
          grad ? grad
               : buildSplat(builder, loc,
                            cast<RankedTensorType>(result.getType()), 0));
    }
    for (OpOperand &operand : op->getOpOperands())
      if (needsGrad.contains(operand.get()) &&
          !iface.hasOperandGradient(operand.getOperandNumber()))
        return emitError(op->getLoc())
               << "cannot differentiate '" << op->getName()
               << "' with respect to operand #" << operand.getOperandNumber()
               << ": its vector-Jacobian rule has no gradient for it";
    SmallVector<Value> operandGrads;
    iface.buildVJP(builder, resultGrads, operandGrads);
    for (auto [operand, grad] :
         llvm::zip_equal(op->getOperands(), operandGrads))
      accumulate(operand, grad);
  }
  SmallVector<Value> grads;
  for (Value value : wrt) {
    Value grad = adjoints.lookup(value);
    grads.push_back(grad ? grad
                         : buildSplat(builder, loc,
                                      cast<RankedTensorType>(value.getType()),
                                      0));
  }
  return grads;
}

} // namespace mp
