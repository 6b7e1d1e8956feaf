//===- PlanFile.h - read a parallelization plan from JSON -------*- C++ -*-===//

#ifndef MP_PLAN_PLANFILE_H
#define MP_PLAN_PLANFILE_H

#include "mp/Dialect/MP/IR/MPAttrs.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/LLVM.h"

namespace mp {

/// A plan read from a file: the mesh it names and the plan, whose `mesh`
/// refers to the symbol `meshName`.
struct PlanFile {
  MeshAttr mesh;
  PlanAttr plan;
};

/// Reads the JSON plan file at `path`:
///
///   {"mesh": {"shape": [2, 2], "names": ["data_parallel", "tensor_parallel"]},
///    "tensor_parallel": "tensor_parallel", "fsdp": "data_parallel",
///    "batch": "data_parallel",
///    "plan": {"w1": "colwise", "x": {"style": "sequence_parallel", "dim": 0}}}
///
/// Every problem is reported as a diagnostic located in the file (at the key
/// concerned where it can be found) and yields failure.
mlir::FailureOr<PlanFile> readPlanFile(mlir::MLIRContext *ctx,
                                       llvm::StringRef path,
                                       llvm::StringRef meshName);

/// The element type a mixed-precision dtype of a plan names ("f32" or
/// "bf16", as plan files and --mp-train-step's options spell it); null for
/// any other name.
mlir::TypeAttr getPlanDtype(mlir::MLIRContext *ctx, llvm::StringRef name);

/// The location of the JSON key `key` in the plan file at `path` (its first
/// occurrence), or of the file's start.
mlir::Location locatePlanKey(mlir::MLIRContext *ctx, llvm::StringRef path,
                             llvm::StringRef key);

} // namespace mp

#endif // MP_PLAN_PLANFILE_H
