//===- mp-run.cpp - run mp programs on the reference interpreter ----------===//
//
//   mp-run FILE --entry=F [--seed=N] [--inputs=IN.safetensors] [--print]
//          [--save-results=OUT.safetensors]
//          [--reference=FILE2 [--reference-entry=G]] [--rtol=R] [--atol=A]
//   mp-run FILE --entry=F --gradcheck
//
// Arguments are drawn from a seeded generator as GLOBAL tensors (floats in
// [-1, 1), integer targets and ids in [0, classes or table rows),
// `*.exp_avg_sq` state in [0, 1), the `step` count 2), so a partitioned program
// and its global reference see the same data; --inputs takes the arguments a
// safetensors file names from it instead (data from another implementation).
// --reference compares every result with another function's; --gradcheck
// compares F's gradients, read off F_train_step built with
// `--mp-train-step="optimizer=sgd lr=1 weight-decay=0"` (new parameter =
// parameter - gradient), with central finite differences of F.
//
//===----------------------------------------------------------------------===//

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"
#include "mp/Execution/Interpreter.h"
#include "mp/Support/InputNesting.h"

#include "SafeTensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <map>

using namespace mlir;
using namespace mp;
namespace cl = llvm::cl;

/// mp-run's own options: --help lists these alone, not LLVM's.
static cl::OptionCategory mpRunCategory("mp-run options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required, cl::cat(mpRunCategory));
static cl::opt<std::string> entry("entry", cl::desc("Function to run"),
                                  cl::Required, cl::cat(mpRunCategory));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of the inputs"),
                              cl::init(1), cl::cat(mpRunCategory));
static cl::opt<bool> printResults("print", cl::desc("Print every result"),
                                  cl::cat(mpRunCategory));
static cl::opt<std::string>
    referenceFile("reference", cl::desc("Compare with a function of this file"),
                  cl::cat(mpRunCategory));
static cl::opt<std::string>
    referenceEntry("reference-entry",
                   cl::desc("The reference function (default: --entry)"),
                   cl::cat(mpRunCategory));
static cl::opt<std::string> inputsFile(
    "inputs",
    cl::desc("Take the arguments this safetensors file names (F32, F64, I32 "
             "or I64, by parameter or input name) from it instead"),
    cl::cat(mpRunCategory));
static cl::opt<std::string>
    resultsFile("save-results",
                cl::desc("Write the results to this safetensors file (F64, "
                         "named result0, result1, ...)"),
                cl::cat(mpRunCategory));
static cl::opt<double> relTolerance("rtol", cl::desc("Relative tolerance"),
                                    cl::init(1e-5), cl::cat(mpRunCategory));
static cl::opt<double> absTolerance("atol", cl::desc("Absolute tolerance"),
                                    cl::init(1e-6), cl::cat(mpRunCategory));
static cl::opt<bool>
    gradcheck("gradcheck",
              cl::desc("Check gradients against finite differences"),
              cl::cat(mpRunCategory));

namespace {

/// splitmix64: a tiny generator whose stream is the same everywhere.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) / double(1ULL << 53); }
};

std::vector<HostTensor> makeInputs(FunctionOpInterface func) {
  std::vector<HostTensor> args;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto argType = dyn_cast<RankedTensorType>(func.getArgumentTypes()[i]);
    if (!argType || !argType.hasStaticShape()) {
      args.emplace_back();
      continue;
    }
    int64_t bound = getIndexBound(func.getArgument(i)).value_or(10);
    HostTensor tensor =
        HostTensor::zeros(getGlobalShape(func, i, /*isResult=*/false));
    Random random{seed * 1000003ULL + i};
    auto type = cast<RankedTensorType>(func.getArgumentTypes()[i]);
    StringRef state;
    if (auto name =
            func.getArgAttrOfType<StringAttr>(i, MPDialect::kStateAttrName))
      state = name.getValue();
    for (double &v : tensor.data) {
      if (isa<IntegerType>(type.getElementType()))
        v = double(random.next() % uint64_t(bound));
      else if (state == "step")
        v = 2;
      else if (state.ends_with("exp_avg_sq"))
        v = random.uniform();
      else
        v = 2 * random.uniform() - 1;
    }
    args.push_back(std::move(tensor));
  }
  return args;
}

/// Replaces the arguments `inputsFile` names by its tensors.
LogicalResult readInputs(FunctionOpInterface func,
                         std::vector<HostTensor> &args) {
  std::map<std::string, train::Tensor> tensors;
  std::string error;
  if (!train::readSafeTensors(inputsFile, tensors, error)) {
    llvm::errs() << "mp-run: --inputs: " << error << "\n";
    return failure();
  }
  llvm::StringMap<unsigned> byName;
  for (const ModelValue &value : getModelValues(func))
    if (!value.isResult())
      byName[value.name.getValue()] = value.index;
  for (const auto &[name, tensor] : tensors) {
    auto it = byName.find(name);
    if (it == byName.end()) {
      llvm::errs() << "mp-run: --inputs: '" << name << "' in " << inputsFile
                   << " names no argument of @" << func.getName() << "\n";
      return failure();
    }
    HostTensor &arg = args[it->second];
    if (ArrayRef<int64_t>(tensor.shape) != ArrayRef<int64_t>(arg.shape)) {
      llvm::errs() << "mp-run: --inputs: '" << name << "' is "
                   << train::shapeText(tensor.shape) << ", the argument "
                   << train::shapeText({arg.shape.begin(), arg.shape.end()})
                   << "\n";
      return failure();
    }
    auto fill = [&](auto element) {
      using T = decltype(element);
      for (size_t i = 0; i < arg.data.size(); ++i) {
        T value;
        std::memcpy(&value, tensor.bytes.data() + i * sizeof(T), sizeof(T));
        arg.data[i] = static_cast<double>(value);
      }
    };
    if (tensor.dtype == "F32")
      fill(float());
    else if (tensor.dtype == "F64")
      fill(double());
    else if (tensor.dtype == "I32")
      fill(int32_t());
    else if (tensor.dtype == "I64")
      fill(int64_t());
    else {
      llvm::errs() << "mp-run: --inputs: '" << name << "' is " << tensor.dtype
                   << ": mp-run reads F32, F64, I32 or I64\n";
      return failure();
    }
  }
  return success();
}

LogicalResult saveResults(const std::vector<HostTensor> &results) {
  std::vector<std::pair<std::string, train::Tensor>> tensors;
  for (auto [index, result] : llvm::enumerate(results)) {
    const char *bytes = reinterpret_cast<const char *>(result.data.data());
    tensors.emplace_back(
        "result" + std::to_string(index),
        train::Tensor{"F64",
                      {result.shape.begin(), result.shape.end()},
                      {bytes, bytes + result.data.size() * sizeof(double)}});
  }
  std::string error;
  if (train::writeSafeTensors(resultsFile, tensors, error))
    return success();
  llvm::errs() << "mp-run: --save-results: " << error << "\n";
  return failure();
}

void print(const std::vector<HostTensor> &results) {
  for (auto [index, result] : llvm::enumerate(results)) {
    llvm::outs() << "result #" << index << ": [";
    llvm::interleave(result.shape, llvm::outs(), "x");
    llvm::outs() << "]\n";
    int64_t row = result.shape.empty() ? 1 : result.shape.back();
    for (int64_t i = 0; i < result.getNumElements(); ++i)
      llvm::outs() << llvm::format("%.6e", result.data[i])
                   << ((i + 1) % std::max<int64_t>(row, 1) ? " " : "\n");
  }
}

FunctionOpInterface lookup(ModuleOp module, StringRef name) {
  return dyn_cast_or_null<FunctionOpInterface>(
      SymbolTable::lookupSymbolIn(module, name));
}

int compare(const std::vector<HostTensor> &got,
            const std::vector<HostTensor> &want) {
  if (got.size() != want.size()) {
    llvm::errs() << "mp-run: " << got.size() << " results, the reference has "
                 << want.size() << "\n";
    return 1;
  }
  double maxAbs = 0, maxRel = 0;
  for (size_t r = 0; r < got.size(); ++r) {
    if (got[r].shape != want[r].shape) {
      llvm::errs() << "mp-run: result #" << r << " has another shape than "
                   << "the reference's\n";
      return 1;
    }
    for (size_t i = 0; i < got[r].data.size(); ++i) {
      double a = got[r].data[i], b = want[r].data[i];
      double err = std::fabs(a - b);
      maxAbs = std::max(maxAbs, err);
      maxRel = std::max(maxRel, err / std::max(std::fabs(b), 1e-30));
      if (!(err <= absTolerance + relTolerance * std::fabs(b))) {
        llvm::errs() << "mp-run: mismatch in result #" << r << " at element "
                     << i << ": got " << llvm::format("%.9e", a)
                     << ", expected " << llvm::format("%.9e", b) << "\n";
        return 1;
      }
    }
  }
  llvm::outs() << "max abs error: " << llvm::format("%.3e", maxAbs)
               << ", max rel error: " << llvm::format("%.3e", maxRel)
               << " over " << got.size() << " results: match\n";
  return 0;
}

int checkGradients(ModuleOp module, FunctionOpInterface model) {
  std::string stepName = (model.getName() + "_train_step").str();
  FunctionOpInterface step = lookup(module, stepName);
  if (!step) {
    llvm::errs() << "mp-run: --gradcheck needs @" << stepName
                 << " (mp-opt --mp-train-step=\"optimizer=sgd lr=1 "
                    "weight-decay=0\")\n";
    return 1;
  }
  bool plainUnitSgd = true;
  step.walk([&](Operation *op) {
    if (auto sgd = dyn_cast<SgdOp>(op))
      plainUnitSgd &= sgd.getLr().convertToDouble() == 1.0 &&
                      sgd.getWeightDecay().convertToDouble() == 0.0;
    else if (isa<SgdMomentumOp, AdamWOp, ClipCoefficientOp>(op))
      plainUnitSgd = false;
  });
  if (!plainUnitSgd) {
    llvm::errs() << "mp-run: --gradcheck reads gradients off a plain SGD "
                    "step with lr=1 and weight-decay=0\n";
    return 1;
  }
  std::vector<HostTensor> args = makeInputs(model);
  // The step's arguments by name from the model's.
  llvm::StringMap<unsigned> byName;
  SmallVector<ModelValue> values = getModelValues(model);
  for (const ModelValue &value : values)
    if (!value.isResult())
      byName[value.name.getValue()] = value.index;
  std::vector<HostTensor> stepArgs;
  SmallVector<std::pair<unsigned, unsigned>> params; // step result, model arg
  for (const ModelValue &value : getModelValues(step)) {
    if (value.isResult())
      continue;
    stepArgs.push_back(args[byName.lookup(value.name.getValue())]);
    if (value.role == ModelRole::Param)
      params.push_back({params.size(), byName.lookup(value.name.getValue())});
  }
  FailureOr<std::vector<HostTensor>> updated = runFunction(step, stepArgs);
  if (failed(updated))
    return 1;
  auto loss = [&](const std::vector<HostTensor> &at) {
    FailureOr<std::vector<HostTensor>> out = runFunction(model, at);
    return succeeded(out) ? (*out)[0].data[0] : NAN;
  };
  double maxErr = 0;
  int64_t elements = 0;
  for (auto [result, argIndex] : params) {
    const HostTensor &before = args[argIndex];
    for (int64_t i = 0; i < before.getNumElements(); ++i) {
      double grad = before.data[i] - (*updated)[result].data[i];
      double h = 1e-6 * std::max(1.0, std::fabs(before.data[i]));
      std::vector<HostTensor> plus = args, minus = args;
      plus[argIndex].data[i] += h;
      minus[argIndex].data[i] -= h;
      double fd = (loss(plus) - loss(minus)) / (2 * h);
      double err = std::fabs(fd - grad);
      maxErr = std::max(maxErr, err);
      ++elements;
      if (!(err <= absTolerance + relTolerance * std::fabs(fd))) {
        llvm::errs() << "mp-run: gradient of argument #" << argIndex
                     << " element " << i << ": automatic "
                     << llvm::format("%.9e", grad) << ", finite difference "
                     << llvm::format("%.9e", fd) << "\n";
        return 1;
      }
    }
  }
  llvm::outs() << "gradcheck: " << params.size() << " parameters, " << elements
               << " elements, max abs error " << llvm::format("%.3e", maxErr)
               << ": match\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(mpRunCategory);
  cl::ParseCommandLineOptions(argc, argv, "mp reference interpreter\n");

  DialectRegistry registry;
  registry.insert<MPDialect, arith::ArithDialect, func::FuncDialect>();
  MLIRContext context(registry);
  auto parse = [&](StringRef path) -> OwningOpRef<ModuleOp> {
    if (failed(mp::checkInputFileNesting(path)))
      return {};
    return parseSourceFile<ModuleOp>(path, &context);
  };
  OwningOpRef<ModuleOp> module = parse(inputFile);
  if (!module)
    return 1;
  FunctionOpInterface func = lookup(*module, entry);
  if (!func) {
    llvm::errs() << "mp-run: no function @" << entry << " in " << inputFile
                 << "\n";
    return 1;
  }
  if (failed(checkInterpreterMemory(func)))
    return 1;
  if (gradcheck)
    return checkGradients(*module, func);

  std::vector<HostTensor> args = makeInputs(func);
  if (!inputsFile.empty() && failed(readInputs(func, args)))
    return 1;
  FailureOr<std::vector<HostTensor>> results = runFunction(func, args);
  if (failed(results))
    return 1;
  if (printResults)
    print(*results);
  if (!resultsFile.empty() && failed(saveResults(*results)))
    return 1;
  if (referenceFile.empty())
    return 0;

  OwningOpRef<ModuleOp> reference = parse(referenceFile);
  if (!reference)
    return 1;
  std::string otherName = referenceEntry.empty() ? entry : referenceEntry;
  FunctionOpInterface other = lookup(*reference, otherName);
  if (!other) {
    llvm::errs() << "mp-run: no function @" << otherName << " in "
                 << referenceFile << "\n";
    return 1;
  }
  if (other.getNumArguments() != func.getNumArguments()) {
    llvm::errs() << "mp-run: @" << otherName << " takes "
                 << other.getNumArguments() << " arguments, @" << entry
                 << " takes " << func.getNumArguments() << "\n";
    return 1;
  }
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (getGlobalShape(func, i, /*isResult=*/false) !=
        getGlobalShape(other, i, /*isResult=*/false)) {
      llvm::errs() << "mp-run: argument #" << i << " has another global "
                   << "shape in the reference\n";
      return 1;
    }
  FailureOr<std::vector<HostTensor>> expected = runFunction(other, args);
  if (failed(expected))
    return 1;
  return compare(*results, *expected);
}
