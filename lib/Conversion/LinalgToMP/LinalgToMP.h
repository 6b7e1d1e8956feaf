//===- LinalgToMP.h - the pieces of mp-import -------------------*- C++ -*-===//
//
// Private to lib/Conversion/LinalgToMP: the pass (LinalgToMP.cpp) widens a
// bf16 or f16 model to f32 (WidenToF32.cpp) and raises op by op, generic bodies
// are classified in GenericToMP.cpp, the raised IR is tidied by patterns
// (Simplify.cpp), and the function becomes a model with named arguments
// and a loss (ModelSignature.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef MP_LIB_CONVERSION_LINALGTOMP_LINALGTOMP_H
#define MP_LIB_CONVERSION_LINALGTOMP_LINALGTOMP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mp::import {

/// Reads a model exported in bf16 or f16 as the f32 model it rounds: those
/// types become f32, literals widen exactly, and the conversions between
/// them and f32 are dropped. Fails, diagnosed, before changing anything for
/// what has no f32 reading (a bitcast of 16-bit floats, a blob of another
/// size than its type's).
mlir::LogicalResult widenToF32(mlir::ModuleOp module);

/// The scalar a tensor holds everywhere, when it is a splat constant or a
/// linalg.fill of a constant.
std::optional<double> getSplatValue(mlir::Value tensor);

/// Brings `value` (indexed by `map` in a loop nest of sizes `loopShape`)
/// to the loop shape: size-1 dims indexed by 0 are dropped, the others
/// ordered as the loops, missing loops broadcast. Fails, diagnosed at
/// `loc`, for maps that are not of that kind.
mlir::FailureOr<mlir::Value> alignToLoops(mlir::OpBuilder &b,
                                          mlir::Location loc,
                                          mlir::Value value,
                                          mlir::AffineMap map,
                                          llvm::ArrayRef<int64_t> loopShape);

/// The mp value that computes `op`'s result; diagnosed failure when its
/// body matches nothing mp has.
mlir::FailureOr<mlir::Value> raiseGeneric(mlir::OpBuilder &b,
                                          mlir::linalg::GenericOp op);

/// mp-level rewrites that give the raised IR its idiomatic form: linear
/// from matmul with a transposed weight, silu, mean, folded reshapes.
void populateSimplifyPatterns(mlir::RewritePatternSet &patterns);

/// The name a location gives its value (torch.export's placeholder names,
/// `loc("p_fc1_weight")`), if any.
std::optional<llvm::StringRef> getLocationName(mlir::Location loc);

/// Gives every argument a role and a name (mp.param / mp.input).
void nameArguments(mlir::func::FuncOp func);

/// Appends the named loss (sum, mean, mse, cross_entropy; none does
/// nothing); a cross entropy skips the targets equal to `ignoreIndex` (an
/// integer, or empty for none). Diagnosed failure for an unknown loss, an
/// ignore index that is no integer or goes with another loss, or a function
/// it cannot apply to.
mlir::LogicalResult appendLoss(mlir::func::FuncOp func, llvm::StringRef loss,
                               llvm::StringRef ignoreIndex);

} // namespace mp::import

#endif // MP_LIB_CONVERSION_LINALGTOMP_LINALGTOMP_H
