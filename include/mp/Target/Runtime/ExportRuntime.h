//===- ExportRuntime.h - lowered steps to an object and a header -*- C++ -*-===//
//
// The target end of the compiler: a module whose functions
// `--mp-lower-to-runtime` lowered becomes what a user links against the
// runtime. The object defines, per function F, the entry F, `const mp_step
// F_step` (ABI version, name, manifest, entry) and a weak `mp_default_step`;
// the C header declares them with tables of their tensors. mp-translate is
// the command-line face of this library.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TARGET_RUNTIME_EXPORTRUNTIME_H
#define MP_TARGET_RUNTIME_EXPORTRUNTIME_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace llvm {
class raw_pwrite_stream;
} // namespace llvm

namespace mp {

enum class RuntimeExportKind {
  /// A position-independent object file for the host.
  Object,
  /// The LLVM IR of that object, as text.
  LLVMIR,
  /// The C header declaring the compiled steps.
  Header,
};

/// Writes `module`'s lowered steps to `os` as `kind`. `mp_default_step`
/// points at the function named `defaultStep`, or (when empty) the first
/// function that updates parameters (a training step), else the first.
/// Errors are located diagnostics; the module may be rewritten (to the LLVM
/// dialect) on the way.
mlir::LogicalResult exportRuntimeSteps(mlir::ModuleOp module,
                                       RuntimeExportKind kind,
                                       llvm::StringRef defaultStep,
                                       llvm::raw_pwrite_stream &os);

} // namespace mp

#endif // MP_TARGET_RUNTIME_EXPORTRUNTIME_H
