//===- Autodiff.h - reverse-mode differentiation of mp ops ------*- C++ -*-===//
//
// The reverse sweep of the training step, reusable on its own: gradients
// built from each op's vector-Jacobian rule (AutodiffOpInterface), in the
// dialect's own ops, on whatever shapes the program has.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRANSFORMS_AUTODIFF_H
#define MP_TRANSFORMS_AUTODIFF_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mp {

/// A constant tensor of `type` whose elements are all `value`.
mlir::Value buildSplat(mlir::OpBuilder &builder, mlir::Location loc,
                       mlir::RankedTensorType type, double value);

/// Builds, at `builder`'s insertion point, the gradients of `loss` with
/// respect to each of `wrt`, `loss`'s own gradient being `seed`. `program`
/// lists the ops that compute `loss`, in program order; they are visited in
/// reverse. A value of `wrt` that `loss` does not depend on gets a zero
/// gradient. An op on the way without a vector-Jacobian rule is an error at
/// that op.
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
buildGradients(mlir::OpBuilder &builder, mlir::Location loc,
               llvm::ArrayRef<mlir::Operation *> program, mlir::Value loss,
               mlir::Value seed, mlir::ValueRange wrt);

} // namespace mp

#endif // MP_TRANSFORMS_AUTODIFF_H
