//===- MPOps.h - mp dialect operations --------------------------*- C++ -*-===//

#ifndef MP_DIALECT_MP_IR_MPOPS_H
#define MP_DIALECT_MP_IR_MPOPS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mp/Dialect/MP/IR/MPAttrs.h"
#include "mp/Dialect/MP/IR/MPDialect.h"

#include "mp/Dialect/MP/IR/CollectiveSteps.h"
#include "mp/Dialect/MP/IR/ShardingRule.h"

namespace mp {
/// The mesh `meshName` refers to from `op`; the verifier has checked it.
MeshAttr lookupMesh(mlir::Operation *op, mlir::FlatSymbolRefAttr meshName);
/// The number of ranks in a group of `axes` of `mesh`.
int64_t getGroupSize(MeshAttr mesh, mlir::ArrayAttr axes);
/// Checks that `sharding`, which `op` gives a value of type `type`, names an
/// mp.mesh and fits the type on it.
mlir::LogicalResult verifyValueSharding(mlir::Operation *op,
                                        ShardingAttr sharding, mlir::Type type,
                                        mlir::SymbolTableCollection &table);
/// The mesh axis names a collective lists.
llvm::SmallVector<llvm::StringRef> getAxisNames(mlir::ArrayAttr axes);
/// The bytes of `op`'s statically shaped tensor operands and results: what
/// a kernel reading each operand once and writing each result once touches.
int64_t getOperandAndResultBytes(mlir::Operation *op);
/// A norm over the last dim (mp.rms_norm, mp.layer_norm): its input, and
/// the parameters a norm module holds, its weight and (layer_norm) its bias.
/// All null when `op` is neither.
struct NormOperands {
  mlir::OpOperand *input = nullptr;
  mlir::Value weight, bias;
};
NormOperands getNormOperands(mlir::Operation *op);
} // namespace mp

#include "mp/Dialect/MP/IR/MPInterfaces.h.inc"

#define GET_OP_CLASSES
#include "mp/Dialect/MP/IR/MPOps.h.inc"

#endif // MP_DIALECT_MP_IR_MPOPS_H
