//===- Passes.h - every mp pass ---------------------------------*- C++ -*-===//

#ifndef MP_TRANSFORMS_PASSES_H
#define MP_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mp/Dialect/MP/IR/MPDialect.h"

namespace mp {

#define GEN_PASS_DECL
#include "mp/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mp/Transforms/Passes.h.inc"

/// mp-spmd: propagation, partitioning and collective simplification.
void buildSpmdPipeline(mlir::OpPassManager &pm);

/// Registers the named pipelines with mp-opt.
void registerPipelines();

} // namespace mp

#endif // MP_TRANSFORMS_PASSES_H
