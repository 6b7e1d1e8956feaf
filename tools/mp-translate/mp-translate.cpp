//===- mp-translate.cpp - a lowered step to an object and a C header ------===//
//
// Takes the output of `mp-opt ... --mp-lower-to-runtime` and writes what a
// user links: an object file (--emit-object, the default), LLVM IR
// (--emit-llvm) or the C header declaring the compiled functions and their
// tensors (--emit-header). The work is lib/Target/Runtime's
// (exportRuntimeSteps); `mp_default_step` points at the function named by
// --default-step, else the first that updates parameters (a training step),
// else the first.
//
//===----------------------------------------------------------------------===//

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Support/InputNesting.h"
#include "mp/Target/Runtime/ExportRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

namespace {

/// mp-translate's own options: --help lists these alone, not LLVM's.
llvm::cl::OptionCategory mpTranslateCategory("mp-translate options");

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("<lowered .mlir>"),
                                     llvm::cl::init("-"),
                                     llvm::cl::cat(mpTranslateCategory));
llvm::cl::opt<std::string> outputFile("o", llvm::cl::desc("Output file"),
                                      llvm::cl::value_desc("file"),
                                      llvm::cl::init("-"),
                                      llvm::cl::cat(mpTranslateCategory));
llvm::cl::opt<mp::RuntimeExportKind> emit(
    llvm::cl::desc("What to write:"),
    llvm::cl::init(mp::RuntimeExportKind::Object),
    llvm::cl::values(clEnumValN(mp::RuntimeExportKind::Object, "emit-object",
                                "An object file (default)"),
                     clEnumValN(mp::RuntimeExportKind::LLVMIR, "emit-llvm",
                                "LLVM IR, as text"),
                     clEnumValN(mp::RuntimeExportKind::Header, "emit-header",
                                "A C header declaring the compiled steps")),
    llvm::cl::cat(mpTranslateCategory));

llvm::cl::opt<std::string> defaultStep(
    "default-step",
    llvm::cl::desc("The function mp_default_step points at (default: the "
                   "first training step)"),
    llvm::cl::value_desc("name"), llvm::cl::cat(mpTranslateCategory));

LogicalResult translate() {
  DialectRegistry registry;
  registry.insert<mp::MPDialect, arith::ArithDialect, func::FuncDialect,
                  LLVM::LLVMDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Errors point at a location; the whole module after them is noise.
  context.printOpOnDiagnostic(false);

  llvm::SourceMgr sourceMgr;
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFile, &error);
  if (!input) {
    llvm::errs() << "mp-translate: " << error << "\n";
    return failure();
  }
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  if (failed(mp::checkInputNesting(sourceMgr)))
    return failure();
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return failure();

  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "mp-translate: " << error << "\n";
    return failure();
  }
  if (failed(mp::exportRuntimeSteps(*module, emit, defaultStep, output->os())))
    return failure();
  output->keep();
  return success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::HideUnrelatedOptions(mpTranslateCategory);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "mp-translate: a step lowered by mp-opt --mp-lower-to-runtime to an "
      "object file, LLVM IR or a C header\n");
  return failed(translate()) ? 1 : 0;
}
