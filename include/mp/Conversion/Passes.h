//===- Passes.h - conversions into and out of mp ----------------*- C++ -*-===//

#ifndef MP_CONVERSION_PASSES_H
#define MP_CONVERSION_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mp {

#define GEN_PASS_DECL
#include "mp/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mp/Conversion/Passes.h.inc"

/// What --mp-expand-uneven-collectives does, for the lowering to run first.
void expandUnevenCollectives(mlir::Operation *root);

/// mp-import-tosa: upstream's TOSA lowerings, then mp-import.
void registerConversionPipelines();

/// Adds to the errors upstream's TOSA verifier gives pre-1.0 TOSA a note
/// naming the TOSA version mp reads.
void registerTosaVersionNote(mlir::DialectRegistry &registry);

} // namespace mp

#endif // MP_CONVERSION_PASSES_H
