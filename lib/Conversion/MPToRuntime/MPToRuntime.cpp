//===- MPToRuntime.cpp - a step as calls of the runtime's C ABI -----------===//
//
// Rewrites each function of mp ops into one that calls mp_runtime.h: every
// tensor lives at a fixed place (the caller's argument buffers, or an offset
// in one arena sized and laid out by MemoryPlan), so the body is straight
// line code of runtime calls on pointers. Errors in the runtime are sticky,
// so the generated code needs no branches and returns the context's status.
//
// The pass owns what is per function: the checks, the memory plan, the
// arena (allocated on entry, freed on exit), the exit that writes results
// back, and the manifest. The ops themselves lower by the patterns of
// populateMPToRuntimePatterns.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"

#include "RuntimeCallBuilder.h"

#include "mp/Analysis/MemoryPlan.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "StepManifest.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-lower-to-runtime"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_LOWERTORUNTIME
#include "mp/Conversion/Passes.h.inc"

namespace {

bool hasTensors(Operation *op) {
  auto isTensor = [](Type type) { return isa<TensorType>(type); };
  return llvm::any_of(op->getOperandTypes(), isTensor) ||
         llvm::any_of(op->getResultTypes(), isTensor);
}

/// True if `op` moves values of any element type without computing on
/// them: a collective that does not sum, the wait for one, the padding
/// around an uneven one, or a pipelined sum's chunks (row copies and zeros).
bool onlyMoves(Operation *op) {
  if (isa<ZeroPaddingOp, ResizeOp, WaitOp, SliceOp, ConcatOp>(op))
    return true;
  auto collective = dyn_cast<CollectiveOpInterface>(op);
  return collective && !collective.getSteps().sums;
}

/// True if the runtime runs `op` on i64 integer ids or class targets: it
/// moves them, shifts them into a rank's slice, or counts positions.
bool runsOnIds(Operation *op) {
  return onlyMoves(op) || isa<LocalizeIndexOp, IotaOp>(op);
}

/// True if the runtime writes `result` in bf16 (mp-narrow-collectives): its
/// op moves bf16 values, sums them across ranks (reduce-dtype=bf16),
/// converts them, copies them (a reshape) or is a transposed view that a
/// bf16 GEMM reads them through; or it computes in float32 what it holds in
/// bf16 (mp-fuse-conversions: mayWriteBFloat16, transposes and attention
/// included). (bf16 GEMMs and attention read bf16 operands.)
bool handlesBFloat16(OpResult result, const MemoryPlan &plan) {
  Operation *op = result.getOwner();
  return onlyMoves(op) ||
         isa<CollectiveOpInterface, ConvertOp, ReshapeOp>(op) ||
         (isa<TransposeOp>(op) && plan.transposedViews.contains(result)) ||
         mayWriteBFloat16(result);
}

/// A parameter of a norm or its input gradient that is not float32, or
/// null: the runtime's norms read float32 weights and biases (beside a
/// bf16-held input too).
Value getNonF32NormParameter(Operation *op) {
  SmallVector<Value, 2> params;
  if (NormOperands norm = getNormOperands(op); norm.input)
    params = {norm.weight, norm.bias};
  else if (isa<RmsNormGradOp, LayerNormGradOp>(op))
    params = {op->getOperand(1)};
  for (Value param : params)
    if (param && !getElementTypeOrSelf(param).isF32())
      return param;
  return Value();
}

/// What the runtime cannot run, before anything is rewritten.
LogicalResult checkLowerable(func::FuncOp func, const MemoryPlan &plan) {
  // The runtime's kernels are f32; token ids and class targets are i64;
  // bf16 values are only converted and moved.
  for (Operation &op : func.getFunctionBody().front().without_terminator()) {
    if (Value param = getNonF32NormParameter(&op))
      return op.emitError() << "the runtime's norms take float32 parameters, "
                               "not "
                            << param.getType();
    for (OpResult result : op.getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type || !type.hasStaticShape() ||
          !(type.getElementType().isF32() ||
            (type.getElementType().isInteger(64) && runsOnIds(&op)) ||
            (type.getElementType().isBF16() && handlesBFloat16(result, plan))))
        return op.emitError() << "the runtime lowering takes static f32 "
                                 "tensors (and i64 ids and targets, bf16 "
                                 "conversions, collectives, transposes, "
                                 "elementwise kernels and bf16 GEMMs), not "
                              << result.getType();
    }
  }
  // Results written back into argument buffers are written at the exit,
  // after every read of the arguments.
  Operation *terminator = func.getFunctionBody().front().getTerminator();
  llvm::DenseSet<unsigned> written;
  for (auto [index, value] : llvm::enumerate(terminator->getOperands())) {
    int argNumber = plan.updatedArgument[index];
    if (argNumber < 0)
      continue;
    auto source = dyn_cast<BlockArgument>(value);
    if (source && written.count(source.getArgNumber()))
      return terminator->emitError()
             << "result #" << index << " reads argument #"
             << source.getArgNumber() << " after it was updated";
    written.insert(argNumber);
  }
  return success();
}

/// What the trainer reads about the step: see docs/runtime-abi.md.
train::StepManifest buildManifest(func::FuncOp func, const MemoryPlan &plan,
                                  MeshAttr mesh) {
  train::StepManifest manifest;
  manifest.function = func.getName().str();
  if (mesh)
    for (auto [name, size] :
         llvm::zip(mesh.getAxisNames(), mesh.getAxisSizes()))
      manifest.mesh.emplace_back(name.getValue().str(), size);
  manifest.arenaBytes = plan.arenaBytes;
  manifest.persistentBytes = plan.persistentBytes;
  auto typeName = [](Type type) -> std::string {
    Type element = cast<RankedTensorType>(type).getElementType();
    if (element.isF32())
      return "f32";
    if (element.isF64())
      return "f64";
    return element.isInteger(32) ? "i32" : "i64";
  };
  auto split = [](ShardingAttr sharding, int64_t rank) {
    std::vector<std::vector<std::string>> axesPerDim(rank);
    if (sharding)
      for (int64_t dim = 0; dim < rank; ++dim)
        for (StringRef axis : sharding.getDimAxes(dim))
          axesPerDim[dim].push_back(axis.str());
    return axesPerDim;
  };
  SmallVector<ModelValue> values = getModelValues(func);
  llvm::DenseMap<unsigned, ModelValue> argValues, resultValues;
  for (const ModelValue &value : values)
    (value.isResult() ? resultValues : argValues)[value.index] = value;
  for (auto [index, arg] : llvm::enumerate(func.getArguments())) {
    auto it = argValues.find(index);
    train::ManifestTensor tensor;
    tensor.name = it != argValues.end() ? it->second.name.getValue().str()
                                        : ("arg" + Twine(index)).str();
    tensor.role = "input";
    if (it != argValues.end() && it->second.role == ModelRole::Param)
      tensor.role = "param";
    else if (it != argValues.end() && it->second.role == ModelRole::State)
      tensor.role = "state";
    else if (it != argValues.end() && it->second.role == ModelRole::Target)
      tensor.role = "target";
    auto type = cast<RankedTensorType>(arg.getType());
    tensor.dtype = typeName(type);
    tensor.localShape.assign(type.getShape().begin(), type.getShape().end());
    SmallVector<int64_t> globalShape =
        getGlobalShape(func, index, /*isResult=*/false, mesh);
    tensor.globalShape.assign(globalShape.begin(), globalShape.end());
    tensor.split = split(getValueSharding(arg), type.getRank());
    if (type.getElementType().isInteger() &&
        (tensor.role == "input" || tensor.role == "target"))
      if (std::optional<int64_t> bound = getIndexBound(arg)) {
        tensor.bound = *bound;
        tensor.ignored = getIgnoredIndex(arg);
      }
    manifest.args.push_back(std::move(tensor));
  }
  for (unsigned index = 0; index < func.getNumResults(); ++index) {
    auto it = resultValues.find(index);
    train::ManifestTensor tensor;
    tensor.name = it != resultValues.end() ? it->second.name.getValue().str()
                                           : ("result" + Twine(index)).str();
    if (plan.updatedArgument[index] >= 0) {
      tensor.role = "update";
      tensor.updates = plan.updatedArgument[index];
      manifest.results.push_back(std::move(tensor));
      continue;
    }
    auto type = cast<RankedTensorType>(func.getResultTypes()[index]);
    tensor.role = "output";
    tensor.dtype = typeName(type);
    tensor.localShape.assign(type.getShape().begin(), type.getShape().end());
    tensor.split = split(func.getResultAttrOfType<ShardingAttr>(
                             index, MPDialect::kShardingAttrName),
                         type.getRank());
    manifest.results.push_back(std::move(tensor));
  }
  return manifest;
}

/// The function's exit: outputs to the caller's buffers, then the updates
/// the ops did not do in place into the argument buffers (after every read
/// of the arguments), the arena freed and the context's status returned.
struct ExitLowering : OpConversionPattern<func::ReturnOp> {
  ExitLowering(RuntimeCallBuilder &calls, Value outputs, StringRef function,
               MLIRContext *context)
      : OpConversionPattern(context), calls(calls), outputs(outputs),
        function(function.str()) {}

  LogicalResult
  matchAndRewrite(func::ReturnOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    calls.setBuilder(rewriter, op.getLoc());
    calls.setOp("writing the results of " + function);
    const MemoryPlan &plan = calls.getPlan();
    Value ctx = calls.getContext();
    int64_t numOutputs = 0;
    for (auto [index, value] : llvm::enumerate(op.getOperands())) {
      if (plan.updatedArgument[index] >= 0)
        continue;
      Value to = calls.loadPointer(outputs, numOutputs++);
      calls.call("mp_copy", {ctx, to, calls.pointer(value),
                             calls.i64(*getTensorBytes(
                                 cast<RankedTensorType>(value.getType())))});
    }
    for (auto [index, value] : llvm::enumerate(op.getOperands()))
      if (int argNumber = plan.updatedArgument[index]; argNumber >= 0)
        calls.copy(calls.getTensorArgument(argNumber), value);
    calls.freeArena();
    Value status =
        calls.callWithResult("mp_context_status", rewriter.getI32Type(), {ctx});
    rewriter.replaceOpWithNewOp<func::ReturnOp>(op, status);
    return success();
  }

  RuntimeCallBuilder &calls;
  Value outputs;
  std::string function;
};

/// Replaces `func` by its lowered form.
LogicalResult lowerFunction(func::FuncOp func, SymbolTable &symbols,
                            const PlanTarget &planTarget) {
  if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
    return func.emitError("the runtime lowering takes single-block functions");
  // The manifest names the arguments' and results' element types for the
  // trainer.
  auto isManifestTensor = [](Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    Type element = tensor ? tensor.getElementType() : Type();
    return tensor && tensor.hasStaticShape() &&
           (element.isF32() || element.isF64() || element.isInteger(32) ||
            element.isInteger(64));
  };
  for (auto [index, type] : llvm::enumerate(func.getArgumentTypes()))
    if (!isManifestTensor(type))
      return emitError(func.getArgument(index).getLoc())
             << "the runtime lowering takes statically shaped tensors of "
                "f32, f64, i32 or i64 arguments, not "
             << type;
  for (auto [index, type] : llvm::enumerate(func.getResultTypes()))
    if (!isManifestTensor(type))
      return func.emitError()
             << "the runtime lowering returns statically shaped tensors of "
                "f32, f64, i32 or i64, not "
             << type << " (result #" << index << ")";
  MeshAttr mesh;
  for (BlockArgument arg : func.getArguments())
    if (ShardingAttr sharding = getValueSharding(arg);
        sharding && func->hasAttr(MPDialect::kPartitionedAttrName)) {
      mesh = lookupMesh(func, sharding.getMesh());
      break;
    }
  FailureOr<MemoryPlan> maybePlan = MemoryPlan::build(func, planTarget);
  if (failed(maybePlan))
    return failure();
  MemoryPlan &plan = *maybePlan;
  if (failed(checkLowerable(func, plan)))
    return failure();
  std::string manifest = train::printManifest(buildManifest(func, plan, mesh));
  LLVM_DEBUG(llvm::dbgs() << "lowering @" << func.getName() << ": arena "
                          << plan.arenaBytes << " bytes\n");

  // The lowered function, (ctx, args, outputs) -> mp_status, takes over the
  // body; its tensor arguments stay until the ops reading them are lowered.
  MLIRContext *context = func.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(context);
  OpBuilder builder(func);
  auto lowered = func::FuncOp::create(
      builder, func.getLoc(), func.getName(),
      builder.getFunctionType({ptrType, ptrType, ptrType},
                              builder.getI32Type()));
  lowered.getFunctionBody().takeBody(func.getFunctionBody());
  Block &entry = lowered.getFunctionBody().front();
  SmallVector<BlockArgument> tensorArgs(entry.getArguments());
  Location loc = func.getLoc();
  Value ctx = entry.insertArgument(0u, ptrType, loc);
  Value args = entry.insertArgument(1u, ptrType, loc);
  Value outputs = entry.insertArgument(2u, ptrType, loc);
  symbols.erase(func);
  symbols.insert(lowered);

  RuntimeCallBuilder calls(lowered, symbols, plan, mesh, ctx, tensorArgs);
  builder.setInsertionPointToStart(&entry);
  calls.setBuilder(builder, loc);
  calls.emitPrologue(args);

  ConversionTarget target(*context);
  target.addLegalDialect<LLVM::LLVMDialect>();
  target.addLegalOp<func::CallOp>();
  target.addDynamicallyLegalOp<arith::ConstantOp, func::ReturnOp>(
      [](Operation *op) { return !hasTensors(op); });
  RewritePatternSet patterns(context);
  populateMPToRuntimePatterns(calls, patterns);
  patterns.add<ExitLowering>(calls, outputs, lowered.getName(), context);
  ConversionConfig config;
  // Every op names itself to the runtime, so none may fold away.
  config.foldingMode = DialectConversionFoldingMode::Never;
  if (failed(applyPartialConversion(lowered, target, std::move(patterns),
                                    config)) ||
      calls.hasFailed())
    return failure();
  for (Operation &op : entry)
    if (hasTensors(&op))
      return op.emitError()
             << "cannot lower '" << op.getName()
             << "' to runtime calls (partition the function first)";

  entry.eraseArguments(3, tensorArgs.size());
  calls.hoistConstants();
  lowered->setAttr(MPDialect::kManifestAttrName,
                   StringAttr::get(context, manifest));
  return success();
}

struct LowerToRuntimePass : impl::LowerToRuntimeBase<LowerToRuntimePass> {
  using Base::Base;

  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    if (failed(Base::initializeOptions(options, errorHandler)))
      return failure();
    return parsePlanTarget(backend, cudaArchs, planTarget, errorHandler);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        funcs.push_back(func);
    expandUnevenCollectives(module);
    for (func::FuncOp func : funcs)
      if (failed(lowerFunction(func, symbols, planTarget)))
        return signalPassFailure();
    // The mesh and the plan were compiled into the functions.
    for (auto meshOp : llvm::make_early_inc_range(module.getOps<MeshOp>()))
      meshOp.erase();
    module->removeAttr(MPDialect::kPlanAttrName);
  }

  PlanTarget planTarget;
};

} // namespace
} // namespace mp
