//===- ExportRuntime.cpp - lowered steps to an object and a header --------===//
//
// Collects the lowered functions and their manifests, converts the module to
// LLVM with upstream passes, adds the step descriptors and emits an object
// for the host; or writes the C header (StepHeader.cpp).
//
//===----------------------------------------------------------------------===//

#include "mp/Target/Runtime/ExportRuntime.h"

#include "CompiledStep.h"

#include "mp/Dialect/MP/IR/MPDialect.h"

#include "mp_runtime.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace mp {
namespace {

/// Whether `name` can name the step's C function, its `<name>_step`
/// descriptor and its macros in the header: an identifier that is not one of
/// C's keywords.
bool isCIdentifier(StringRef name) {
  static constexpr StringLiteral kKeywords[] = {
      "auto",     "break",     "case",          "char",
      "const",    "continue",  "default",       "do",
      "double",   "else",      "enum",          "extern",
      "float",    "for",       "goto",          "if",
      "inline",   "int",       "long",          "register",
      "restrict", "return",    "short",         "signed",
      "sizeof",   "static",    "struct",        "switch",
      "typedef",  "union",     "unsigned",      "void",
      "volatile", "while",     "bool",          "true",
      "false",    "nullptr",   "alignas",       "alignof",
      "typeof",   "constexpr", "static_assert", "thread_local"};
  return !name.empty() && llvm::isAlpha(name[0]) &&
         llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; }) &&
         !llvm::is_contained(kKeywords, name);
}

/// The lowered functions of `module` and their manifests.
FailureOr<std::vector<CompiledStep>> collectSteps(ModuleOp module,
                                                  StringRef defaultStep) {
  std::vector<CompiledStep> steps;
  for (auto func : module.getOps<func::FuncOp>()) {
    auto text = func->getAttrOfType<StringAttr>(MPDialect::kManifestAttrName);
    if (!text)
      continue;
    if (!isCIdentifier(func.getName()))
      return func.emitError()
             << "a compiled step's name is a C identifier in the generated "
                "header ([A-Za-z][A-Za-z0-9_]*, not a C keyword), not '"
             << func.getName() << "'";
    CompiledStep compiled{func.getName().str(), {}, text.str()};
    std::string error;
    if (!train::parseManifest(compiled.manifestText, compiled.manifest, error))
      return func.emitError() << error;
    for (const train::ManifestTensor &tensor :
         llvm::concat<const train::ManifestTensor>(compiled.manifest.args,
                                                   compiled.manifest.results))
      if (tensor.globalShape.size() > kMaxHeaderRank)
        return func.emitError()
               << "'" << tensor.name << "' has rank "
               << tensor.globalShape.size() << "; the header's mp_step_tensor "
               << "holds shapes of rank " << kMaxHeaderRank << " at most";
    steps.push_back(std::move(compiled));
  }
  if (steps.empty())
    return module.emitError()
           << "no function lowered to runtime calls (run mp-opt "
              "--mp-lower-to-runtime first)";
  if (!defaultStep.empty() && llvm::none_of(steps, [&](const CompiledStep &s) {
        return s.name == defaultStep;
      }))
    return module.emitError() << "--default-step: no lowered function named '"
                              << defaultStep << "'";
  return steps;
}

/// Adds F_step and the weak mp_default_step to the translated module.
void addStepDescriptors(llvm::Module &module,
                        const std::vector<CompiledStep> &steps,
                        StringRef defaultStep) {
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
  auto isTrainingStep = [](const CompiledStep &step) {
    return llvm::any_of(step.manifest.results,
                        [](const train::ManifestTensor &result) {
                          return result.role == "update";
                        });
  };
  const CompiledStep *chosen = &steps.front();
  if (!defaultStep.empty())
    chosen = &*llvm::find_if(steps, [&](const CompiledStep &step) {
      return step.name == defaultStep;
    });
  else if (auto it = llvm::find_if(steps, isTrainingStep); it != steps.end())
    chosen = &*it;
  llvm::GlobalVariable *defaultDescriptor = nullptr;
  for (const CompiledStep &step : steps) {
    llvm::Function *entry = module.getFunction(step.name);
    auto *descriptor = llvm::ConstantStruct::get(
        stepType,
        {llvm::ConstantInt::get(i32Type, MP_RUNTIME_ABI_VERSION),
         stringGlobal(step.name, "__mp_name_" + step.name),
         stringGlobal(step.manifestText, "__mp_manifest_" + step.name),
         entry});
    auto *descriptorGlobal = new llvm::GlobalVariable(
        module, stepType, true, llvm::GlobalValue::ExternalLinkage, descriptor,
        step.name + "_step");
    if (&step == chosen)
      defaultDescriptor = descriptorGlobal;
  }
  new llvm::GlobalVariable(module, ptrType, true,
                           llvm::GlobalValue::WeakAnyLinkage, defaultDescriptor,
                           "mp_default_step");
}

/// Converts the lowered module to LLVM IR with upstream passes.
std::unique_ptr<llvm::Module> translateToLLVMIR(ModuleOp module,
                                                llvm::LLVMContext &context) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);
  // The manifests are kept aside, in the step descriptors.
  module->walk(
      [](func::FuncOp func) { func->removeAttr(MPDialect::kManifestAttrName); });
  PassManager pm(module->getContext());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (failed(pm.run(module)))
    return nullptr;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "mp-step");
  if (!llvmModule)
    module->emitError("cannot translate to LLVM IR");
  return llvmModule;
}

LogicalResult emitObject(ModuleOp at, llvm::Module &module,
                         llvm::raw_pwrite_stream &os) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return at.emitError() << "no target for the host: " << error;
  // Position independent, so the object links into executables and shared
  // libraries alike. A step is straight-line calls into the runtime, whose
  // kernels take the time: optimizing code generation buys nothing, and
  // its register allocation over thousands of calls in one function grows
  // quadratically with the model's depth (3.3 s at 32 Llama layers, 13 s
  // at 64; without it 0.47 s and 1.2 s).
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::None));
  module.setDataLayout(machine->createDataLayout());
  module.setTargetTriple(triple);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return at.emitError() << "the host target cannot emit objects";
  passes.run(module);
  return success();
}

} // namespace

LogicalResult exportRuntimeSteps(ModuleOp module, RuntimeExportKind kind,
                                 StringRef defaultStep,
                                 llvm::raw_pwrite_stream &os) {
  FailureOr<std::vector<CompiledStep>> steps =
      collectSteps(module, defaultStep);
  if (failed(steps))
    return failure();
  if (kind == RuntimeExportKind::Header) {
    writeStepHeader(os, *steps);
    return success();
  }
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule = translateToLLVMIR(module, context);
  if (!llvmModule)
    return failure();
  addStepDescriptors(*llvmModule, *steps, defaultStep);
  if (kind == RuntimeExportKind::LLVMIR) {
    llvmModule->print(os, nullptr);
    return success();
  }
  return emitObject(module, *llvmModule, os);
}

} // namespace mp
