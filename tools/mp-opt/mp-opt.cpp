//===- mp-opt.cpp - the mp optimizer driver -------------------------------===//
//
// mlir-opt for the mp dialect: parses a model, runs mp passes and upstream
// ones, prints the result.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Support/InputNesting.h"
#include "mp/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mp::registerMPPasses();
  mp::registerPipelines();
  mp::registerMPConversionPasses();
  mp::registerConversionPipelines();
  // Upstream's TOSA lowerings, runnable alone; mp-import-tosa chains them.
  mlir::registerTosaToLinalg();
  mlir::registerTosaToLinalgNamed();
  mlir::registerTosaToTensorPass();
  mlir::registerTosaToArithPass();

  mlir::DialectRegistry registry;
  registry.insert<mp::MPDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::LLVM::LLVMDialect,
                  // What mp-import and mp-import-tosa read.
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::ml_program::MLProgramDialect,
                  mlir::tensor::TensorDialect, mlir::tosa::TosaDialect>();
  mp::registerTosaVersionNote(registry);

  // The help lists upstream's passes too; mp's come first, in the order a
  // model goes through them.
  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      argc, argv,
      "mp optimizer driver\n\n"
      "mp's passes, in the order a model goes through them (each is listed "
      "with its\noptions below; docs/generated/MPPasses.md and "
      "MPConversionPasses.md):\n"
      "  --mp-import, --mp-import-tosa  a model from torch-mlir or TOSA\n"
      "  --mp-auto-plan=ranks=N,machine=M.json  or the plan predicted "
      "fastest\n"
      "  --mp-apply-plan=PLAN.json      the parallelization plan\n"
      "  --mp-loss-parallel             the logits stay split into the loss\n"
      "  --mp-split-norms               norms over a split dim stay split\n"
      "  --mp-fuse-attention            attention's scores never whole\n"
      "  --mp-summary                   the model summary\n"
      "  --mp-train-step                forward, backward, optimizer\n"
      "  --mp-spmd                      propagate, partition, simplify "
      "collectives\n"
      "  --mp-fold-gemm-scales          (in --mp-spmd) scales into GEMMs\n"
      "  --mp-group-fsdp                FSDP's collectives per parameter "
      "group\n"
      "  --mp-pipeline-tp-sums          tensor-parallel sums in row chunks\n"
      "  --mp-coalesce-reductions       small all_reduces as one call\n"
      "  --mp-schedule-collectives      collectives beside compute\n"
      "  --mp-verify-gradient-sync      prove every gradient synced\n"
      "  --mp-comm-report, --mp-memory-report  bytes sent and memory per "
      "rank\n"
      "  --mp-simulate=machine=M.json   the step's predicted time\n"
      "  --mp-lower-to-runtime          runtime calls, for mp-translate\n",
      registry);
  if (failed(mp::checkInputFileNesting(inputFile)))
    return 1;
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, inputFile, outputFile, registry));
}
