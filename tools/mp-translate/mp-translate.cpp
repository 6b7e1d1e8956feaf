//===- mp-translate.cpp - a lowered step to an object and a C header ------===//
//
// Takes the output of `mp-opt ... --mp-lower-to-runtime` and writes what a
// user links: an object file (--emit-object, the default), LLVM IR
// (--emit-llvm) or the C header declaring the compiled functions and their
// tensors (--emit-header). The object defines, per function F, the entry F,
// `const mp_step F_step` (ABI version, name, manifest, entry) and a weak
// `mp_default_step`, which the stock trainer runs: the function named by
// --default-step, else the first that updates parameters (a training step),
// else the first.
//
//===----------------------------------------------------------------------===//

#include "StepManifest.h"
#include "mp_runtime.h"

#include "mp/Dialect/MP/IR/MPDialect.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace {

enum class Emit { Object, LLVM, Header };

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("<lowered .mlir>"),
                                     llvm::cl::init("-"));
llvm::cl::opt<std::string> outputFile("o", llvm::cl::desc("Output file"),
                                      llvm::cl::value_desc("file"),
                                      llvm::cl::init("-"));
llvm::cl::opt<Emit> emit(
    llvm::cl::desc("What to write:"), llvm::cl::init(Emit::Object),
    llvm::cl::values(clEnumValN(Emit::Object, "emit-object",
                                "An object file (default)"),
                     clEnumValN(Emit::LLVM, "emit-llvm", "LLVM IR, as text"),
                     clEnumValN(Emit::Header, "emit-header",
                                "A C header declaring the compiled steps")));

llvm::cl::opt<std::string> defaultStep(
    "default-step",
    llvm::cl::desc("The function mp_default_step points at (default: the "
                   "first training step)"),
    llvm::cl::value_desc("name"));

struct CompiledFunction {
  std::string name;
  mp::train::StepManifest manifest;
  std::string manifestText;
};

/// The lowered functions of `module` and their manifests.
FailureOr<std::vector<CompiledFunction>> collectFunctions(ModuleOp module) {
  std::vector<CompiledFunction> functions;
  for (auto func : module.getOps<func::FuncOp>()) {
    auto text =
        func->getAttrOfType<StringAttr>(mp::MPDialect::kManifestAttrName);
    if (!text)
      continue;
    CompiledFunction compiled{func.getName().str(), {}, text.str()};
    std::string error;
    if (!mp::train::parseManifest(compiled.manifestText, compiled.manifest,
                                  error))
      return func.emitError() << error;
    functions.push_back(std::move(compiled));
  }
  if (functions.empty())
    return module.emitError()
           << "no function lowered to runtime calls (run mp-opt "
              "--mp-lower-to-runtime first)";
  if (!defaultStep.empty() &&
      llvm::none_of(functions, [](const CompiledFunction &function) {
        return function.name == defaultStep;
      }))
    return module.emitError() << "--default-step: no lowered function named '"
                              << defaultStep << "'";
  return functions;
}

std::string joinShape(const std::vector<int64_t> &shape) {
  std::string text = "{";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.empty() ? "0}" : "}");
}

std::string quoteSplit(const std::vector<std::vector<std::string>> &split) {
  std::string text;
  for (size_t dim = 0; dim < split.size(); ++dim) {
    text += dim ? "|" : "";
    for (size_t i = 0; i < split[dim].size(); ++i)
      text += (i ? "," : "") + split[dim][i];
    if (split[dim].empty())
      text += "-";
  }
  return "\"" + text + "\"";
}

void writeHeader(llvm::raw_ostream &os,
                 const std::vector<CompiledFunction> &functions) {
  os << "/* Generated by mp-translate: the compiled steps of one module.\n"
        " * Link the object mp-translate --emit-object wrote with "
        "libmp_runtime. */\n"
        "#ifndef MP_COMPILED_STEPS_H\n#define MP_COMPILED_STEPS_H\n\n"
        "#include \"mp_runtime.h\"\n\n#ifdef __cplusplus\nextern \"C\" "
        "{\n#endif\n\n"
        "#ifndef MP_STEP_TENSOR_DEFINED\n#define MP_STEP_TENSOR_DEFINED\n"
        "/* One argument or output of a compiled step. `split` lists per dim "
        "the mesh\n * axes splitting it, major to minor, dims separated by "
        "'|' ('-': whole). */\n"
        "typedef struct mp_step_tensor {\n  const char *name;\n"
        "  const char *role; /* param, state, input, target, output */\n"
        "  const char *dtype;\n  int rank;\n  int64_t global_shape[8];\n"
        "  int64_t local_shape[8];\n  const char *split;\n} mp_step_tensor;\n"
        "#endif\n";
  for (const CompiledFunction &function : functions) {
    const mp::train::StepManifest &m = function.manifest;
    std::string upper = llvm::StringRef(function.name).upper();
    os << "\n/* " << function.name << ": ";
    if (m.mesh.empty())
      os << "unpartitioned (1 rank)";
    for (size_t i = 0; i < m.mesh.size(); ++i)
      os << (i ? " x " : "mesh ") << m.mesh[i].first << "=" << m.mesh[i].second;
    os << "; per rank " << m.persistentBytes << " bytes of arguments and an "
       << "arena of " << m.arenaBytes << " bytes.\n"
       << " * args[i] holds argument i's local shard; parameters and state "
          "are updated\n * in place. outputs[i] receives the i-th "
          "output. */\n";
    os << "mp_status " << function.name
       << "(mp_context *ctx, void *const *args, void *const *outputs);\n"
       << "extern const mp_step " << function.name << "_step;\n";
    os << "#define " << upper << "_NUM_ARGS " << m.args.size() << "\n#define "
       << upper << "_NUM_OUTPUTS " << m.numOutputs() << "\n";
    // The mesh to pass to mp_context_create; an unpartitioned step runs on
    // a one-rank mesh.
    std::vector<std::pair<std::string, int64_t>> mesh = m.mesh;
    if (mesh.empty())
      mesh.emplace_back("replica", 1);
    os << "#define " << upper << "_MESH_NUM_AXES " << mesh.size() << "\n"
       << "static const char *const " << function.name << "_mesh_axes[] = {";
    for (size_t i = 0; i < mesh.size(); ++i)
      os << (i ? ", " : "") << '"' << mesh[i].first << '"';
    os << "};\nstatic const int64_t " << function.name << "_mesh_sizes[] = {";
    for (size_t i = 0; i < mesh.size(); ++i)
      os << (i ? ", " : "") << mesh[i].second;
    os << "};\n";
    os << "static const mp_step_tensor " << function.name << "_args[] = {\n";
    for (const mp::train::ManifestTensor &arg : m.args)
      os << "  {\"" << arg.name << "\", \"" << arg.role << "\", \"" << arg.dtype
         << "\", " << arg.localShape.size() << ", "
         << joinShape(arg.globalShape) << ", " << joinShape(arg.localShape)
         << ", " << quoteSplit(arg.split) << "},\n";
    os << "};\n";
    if (m.numOutputs() == 0)
      continue;
    os << "static const mp_step_tensor " << function.name << "_outputs[] = {\n";
    for (const mp::train::ManifestTensor &result : m.results)
      if (result.role == "output")
        os << "  {\"" << result.name << "\", \"output\", \"" << result.dtype
           << "\", " << result.localShape.size() << ", "
           << joinShape(result.localShape) << ", "
           << joinShape(result.localShape) << ", " << quoteSplit(result.split)
           << "},\n";
    os << "};\n";
  }
  os << "\n#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n"
        "#endif /* MP_COMPILED_STEPS_H */\n";
}

/// Adds F_step and the weak mp_default_step to the translated module.
void addStepDescriptors(llvm::Module &module,
                        const std::vector<CompiledFunction> &functions) {
  llvm::LLVMContext &context = module.getContext();
  auto *ptrType = llvm::PointerType::get(context, 0);
  auto *i32Type = llvm::Type::getInt32Ty(context);
  auto *stepType = llvm::StructType::get(i32Type, ptrType, ptrType, ptrType);
  auto stringGlobal = [&](llvm::StringRef text, const llvm::Twine &name) {
    auto *data = llvm::ConstantDataArray::getString(context, text);
    return new llvm::GlobalVariable(module, data->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, data,
                                    name);
  };
  auto isTrainingStep = [](const CompiledFunction &function) {
    return llvm::any_of(function.manifest.results,
                        [](const mp::train::ManifestTensor &result) {
                          return result.role == "update";
                        });
  };
  const CompiledFunction *chosen = &functions.front();
  if (!defaultStep.empty())
    chosen = &*llvm::find_if(functions, [](const CompiledFunction &function) {
      return function.name == defaultStep;
    });
  else if (auto it = llvm::find_if(functions, isTrainingStep);
           it != functions.end())
    chosen = &*it;
  llvm::GlobalVariable *defaultDescriptor = nullptr;
  for (const CompiledFunction &function : functions) {
    llvm::Function *entry = module.getFunction(function.name);
    auto *descriptor = llvm::ConstantStruct::get(
        stepType,
        {llvm::ConstantInt::get(i32Type, MP_RUNTIME_ABI_VERSION),
         stringGlobal(function.name, "__mp_name_" + function.name),
         stringGlobal(function.manifestText, "__mp_manifest_" + function.name),
         entry});
    auto *step = new llvm::GlobalVariable(module, stepType, true,
                                          llvm::GlobalValue::ExternalLinkage,
                                          descriptor, function.name + "_step");
    if (&function == chosen)
      defaultDescriptor = step;
  }
  new llvm::GlobalVariable(module, ptrType, true,
                           llvm::GlobalValue::WeakAnyLinkage, defaultDescriptor,
                           "mp_default_step");
}

LogicalResult emitObject(llvm::Module &module, llvm::raw_pwrite_stream &os) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    llvm::errs() << "mp-translate: " << error << "\n";
    return failure();
  }
  // Position independent, so the object links into executables and shared
  // libraries alike.
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_));
  module.setDataLayout(machine->createDataLayout());
  module.setTargetTriple(triple);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    llvm::errs() << "mp-translate: the target cannot emit objects\n";
    return failure();
  }
  passes.run(module);
  return success();
}

LogicalResult translate() {
  DialectRegistry registry;
  registry.insert<mp::MPDialect, arith::ArithDialect, func::FuncDialect,
                  LLVM::LLVMDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
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
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return failure();
  FailureOr<std::vector<CompiledFunction>> functions =
      collectFunctions(*module);
  if (failed(functions))
    return failure();

  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "mp-translate: " << error << "\n";
    return failure();
  }
  if (emit == Emit::Header) {
    writeHeader(output->os(), *functions);
    output->keep();
    return success();
  }

  // Upstream conversion to the LLVM dialect; the manifests are kept aside.
  module->walk([](func::FuncOp func) {
    func->removeAttr(mp::MPDialect::kManifestAttrName);
  });
  PassManager pm(&context);
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (failed(pm.run(*module)))
    return failure();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "mp-step");
  if (!llvmModule)
    return module->emitError("cannot translate to LLVM IR");
  addStepDescriptors(*llvmModule, *functions);

  if (emit == Emit::LLVM)
    llvmModule->print(output->os(), nullptr);
  else if (failed(emitObject(*llvmModule, output->os())))
    return failure();
  output->keep();
  return success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "mp-translate: a step lowered by mp-opt --mp-lower-to-runtime to an "
      "object file, LLVM IR or a C header\n");
  return failed(translate()) ? 1 : 0;
}
