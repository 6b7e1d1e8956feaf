//===- TosaToMP.cpp - mp-import-tosa: upstream's lowerings, then import ---===//
//
// TOSA is not read here: upstream MLIR lowers it to linalg-on-tensors, which
// mp-import reads like torch-mlir's output.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"

#include "mlir/Conversion/TosaToArith/TosaToArith.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Conversion/TosaToTensor/TosaToTensor.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace mp {
namespace {
struct ImportTosaOptions : PassPipelineOptions<ImportTosaOptions> {
  Option<std::string> loss{*this, "loss",
                           llvm::cl::desc("The loss mp-import appends: none, "
                                          "sum, mean, mse or cross_entropy"),
                           llvm::cl::init("none")};
  Option<std::string> weights{
      *this, "weights",
      llvm::cl::desc("The safetensors file mp-import writes the weights' "
                     "values to")};
  Option<std::string> ignoreIndex{
      *this, "ignore-index",
      llvm::cl::desc("With loss=cross_entropy: the target value the loss "
                     "skips (mp-import's ignore-index)")};
};

void buildImportTosaPipeline(OpPassManager &pm,
                             const ImportTosaOptions &options) {
  pm.addPass(createWidenToF32());
  OpPassManager &funcs = pm.nest<func::FuncOp>();
  funcs.addPass(createRaiseTosaComposites());
  funcs.addPass(tosa::createTosaToLinalgNamed());
  funcs.addPass(tosa::createTosaToLinalg());
  funcs.addPass(createTosaToTensorPass());
  funcs.addPass(createTosaToArithPass());
  pm.addPass(createImport(
      ImportOptions{options.loss, options.weights, options.ignoreIndex}));
}
} // namespace

void registerConversionPipelines() {
  PassPipelineRegistration<ImportTosaOptions>(
      "mp-import-tosa",
      "Imports TOSA: mp-widen-to-f32, mp-raise-tosa-composites, upstream's "
      "tosa-to-linalg-named, tosa-to-linalg, "
      "tosa-to-tensor and tosa-to-arith, then mp-import",
      buildImportTosaPipeline);
}

void registerTosaVersionNote(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, tosa::TosaDialect *) {
    context->getDiagEngine().registerHandler([](Diagnostic &diag) {
      // Errors upstream's verifier gives pre-1.0 spellings: operand counts
      // (v1.0 made shapes, zero points and multipliers operands) and
      // attributes it no longer has.
      std::string message = diag.str();
      StringRef text = message;
      if (diag.getSeverity() == DiagnosticSeverity::Error &&
          text.starts_with("'tosa.") &&
          (text.contains("operands, but found") || text.contains("attribute")))
        diag.attachNote() << "mp reads TOSA v1.0 (MLIR 20 and later); this "
                             "looks like an earlier TOSA spelling: export "
                             "the model again with a current frontend";
      return failure(); // Reported by the handlers below, note included.
    });
  });
}

} // namespace mp
