//===- ApplyPlan.cpp - lay a parallelization plan onto a model ------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Transforms/BareOption.h"

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Plan/PlanFile.h"
#include "mp/Plan/PlanResolution.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-apply-plan"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_APPLYPLAN
#include "mp/Transforms/Passes.h.inc"

namespace {

/// What the plan decides for one named value, computed for the whole module
/// before anything is written so that a failing plan leaves the IR as it was.
struct Placement {
  FunctionOpInterface func;
  ModelValue value;
  ShardingAttr storage;
  std::optional<NamedAttribute> entry;
  /// sequence_parallel on a norm: the norms this weight scales, and the
  /// sharding of their input and output.
  SmallVector<std::pair<Operation *, ShardingAttr>> sequenceParallelNorms;
  /// A colwise or rowwise style's input_layouts and output_layouts: the
  /// inputs and outputs of the module's ops (its linear, its embedding) with
  /// the sharding declared for them.
  SmallVector<std::pair<OpOperand *, ShardingAttr>> declaredInputs;
  SmallVector<std::pair<Value, ShardingAttr>> declaredOutputs;
};

/// sequence_parallel on a norm named by its `mp.module` (placed by that name
/// only, whether or not it has parameters): its input and output sharding,
/// and the plan key.
struct NamedNormPlacement {
  Operation *norm;
  ShardingAttr sharding;
  StringAttr entry;
};

/// The sharding sequence_parallel `style` (plan key `key`) gives `norm`'s
/// input and output; an error at the norm where the dim it splits is not
/// one before the normalized one.
FailureOr<ShardingAttr> getSequenceParallelNormSharding(Operation *norm,
                                                        PlanAttr plan,
                                                        ParallelStyleAttr style,
                                                        StringRef key) {
  int64_t rank =
      cast<RankedTensorType>(getNormOperands(norm).input->get().getType())
          .getRank();
  int64_t dim = getSequenceDim(style, rank);
  if (dim < 0 || dim >= rank - 1)
    return norm->emitError()
           << "plan entry '" << key << "' (sequence_parallel) splits dim "
           << dim << " of this norm's rank-" << rank
           << " activations, which is not a dim before the normalized one";
  return getActivationSharding(plan, rank, dim);
}

/// SequenceParallel on a norm: its input and output split along the
/// sequence, pinned with the style's priority.
void annotateSequenceParallelNorm(Operation *norm, ShardingAttr sharding,
                                  StringAttr entry) {
  OpBuilder builder(norm);
  OpOperand *normInput = getNormOperands(norm).input;
  auto input = AnnotateOp::create(builder, norm->getLoc(), normInput->get(),
                                  sharding, entry);
  normInput->set(input);
  builder.setInsertionPointAfter(norm);
  Value result = norm->getResult(0);
  auto output =
      AnnotateOp::create(builder, norm->getLoc(), result, sharding, entry);
  result.replaceAllUsesExcept(output.getResult(), output);
}

/// The ops of `func` that use argument `index` as a module's weight (looking
/// through annotations): the linears it is the weight of and the embeddings
/// it is the table of, each with the operand its module's input is.
SmallVector<OpOperand *> findModuleInputsOf(FunctionOpInterface func,
                                            unsigned index) {
  SmallVector<OpOperand *> inputs;
  SmallVector<Value> worklist{func.getArgument(index)};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (OpOperand &use : current.getUses()) {
      Operation *user = use.getOwner();
      if (auto linear = dyn_cast<LinearOp>(user);
          linear && use.get() == linear.getWeight())
        inputs.push_back(&linear.getInputMutable());
      if (auto embedding = dyn_cast<EmbeddingOp>(user);
          embedding && use.get() == embedding.getTable())
        inputs.push_back(&embedding.getIdsMutable());
      if (auto annotate = dyn_cast<AnnotateOp>(user))
        worklist.push_back(annotate.getResult());
    }
  }
  return inputs;
}

/// The norms of `func` (mp.rms_norm, mp.layer_norm) that scale by argument
/// `index` (looking through annotations and weight offsets). A layer_norm's
/// bias belongs to the same module as its weight, whose placement annotates
/// the norm. A norm that names its module (`mp.module`) is placed by that
/// name instead.
SmallVector<Operation *> findNormsOf(FunctionOpInterface func, unsigned index) {
  SmallVector<Operation *> norms;
  SmallVector<Value> worklist{func.getArgument(index)};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (OpOperand &use : current.getUses()) {
      NormOperands norm = getNormOperands(use.getOwner());
      if (norm.input && use.get() == norm.weight &&
          !use.getOwner()->hasAttr(MPDialect::kModuleAttrName))
        norms.push_back(use.getOwner());
      if (Value result = getNormWeightPassThrough(use))
        worklist.push_back(result);
    }
  }
  return norms;
}

/// Appends to `diag` the names `key` may have been meant as (within a third
/// of its length in edits, as typo correction does), else everything the
/// model names.
void reportCloseNames(InFlightDiagnostic &diag, StringRef key,
                      ArrayRef<StringRef> names, ArrayRef<StringRef> modules) {
  unsigned maxDistance = (key.size() + 2) / 3;
  SmallVector<StringRef> close;
  for (StringRef candidate : llvm::concat<const StringRef>(modules, names))
    if (key.edit_distance(candidate, /*AllowReplacements=*/true, maxDistance) <=
        maxDistance)
      close.push_back(candidate);
  if (!close.empty()) {
    diag << "; close names: ";
    llvm::interleaveComma(close, diag);
    return;
  }
  if (!names.empty()) {
    diag << "; the model has: ";
    llvm::interleaveComma(names, diag);
  }
  if (!modules.empty()) {
    diag << "; modules: ";
    llvm::interleaveComma(modules, diag);
  }
}

struct ApplyPlanPass : impl::ApplyPlanBase<ApplyPlanPass> {
  using Base::Base;

  /// `--mp-apply-plan=FILE` abbreviates `--mp-apply-plan=plan-file=FILE`.
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    return Base::initializeOptions(expandBareOption(options, "plan-file"),
                                   errorHandler);
  }

  void runOnOperation() override;

private:
  /// The plan and its mesh: from the file if one is given (then written into
  /// the module), else from the module's mp.plan.
  FailureOr<std::pair<PlanAttr, MeshAttr>> loadPlan();
  LogicalResult placeFunction(FunctionOpInterface func, PlanAttr plan,
                              MeshAttr mesh,
                              SmallVectorImpl<Placement> &placements,
                              llvm::StringSet<> &usedKeys);
  /// The norms of `func` named by `mp.module` that a sequence_parallel
  /// entry styles; any other style on one is an error. Every such name
  /// joins `knownModules`, what a mistyped key could have meant.
  LogicalResult placeNamedNorms(FunctionOpInterface func, PlanAttr plan,
                                SmallVectorImpl<NamedNormPlacement> &placements,
                                llvm::StringSet<> &usedKeys,
                                llvm::SetVector<StringRef> &knownModules);
  /// The input_layouts and output_layouts of `value`'s weight `style`,
  /// located on its module's ops; errors name the plan `entry`.
  LogicalResult declareLayouts(FunctionOpInterface func, PlanAttr plan,
                               const ModelValue &value, ParallelStyleAttr style,
                               StringAttr entry, Placement &placement);
  void write(const Placement &placement, PlanAttr plan);

  /// The last annotation written into each function, so that annotations
  /// appear in argument order.
  llvm::DenseMap<Operation *, Operation *> lastAnnotation;
};

FailureOr<std::pair<PlanAttr, MeshAttr>> ApplyPlanPass::loadPlan() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  auto existing = module->getAttrOfType<PlanAttr>(MPDialect::kPlanAttrName);
  if (planFile.empty()) {
    if (!existing)
      return module.emitError()
             << "no plan: give the module an 'mp.plan' attribute or pass a "
                "plan file (--mp-apply-plan=plan.json)";
    auto meshOp = SymbolTable::lookupNearestSymbolFrom<MeshOp>(
        module, existing.getMesh());
    if (!meshOp)
      return module.emitError() << "the plan's mesh " << existing.getMesh()
                                << " is not an mp.mesh of this module";
    return std::make_pair(existing, meshOp.getMesh());
  }
  if (existing)
    return module.emitError()
           << "the module already has a plan; apply a plan file to a model "
              "without one";

  // The mesh symbol gets a fresh name if "mesh" is taken.
  SymbolTable symbols(module);
  FailureOr<PlanFile> file = readPlanFile(ctx, planFile, "mesh");
  if (failed(file))
    return failure();
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto meshOp = MeshOp::create(
      builder, FileLineColLoc::get(ctx, planFile, 1, 1), "mesh", file->mesh);
  StringAttr meshName = symbols.insert(meshOp);
  PlanAttr plan = PlanAttr::get(
      ctx, FlatSymbolRefAttr::get(meshName), file->plan.getTpAxis(),
      file->plan.getFsdpAxis(), file->plan.getBatchAxis(),
      file->plan.getStyles(), file->plan.getFsdpGroups(),
      file->plan.getReshardAfterForward(), file->plan.getRecompute(),
      file->plan.getRecomputeFullLayers(), file->plan.getPrecision(),
      file->plan.getReduceDtype(), file->plan.getTpReduceDtype(),
      file->plan.getSavedDtype());
  module->setAttr(MPDialect::kPlanAttrName, plan);
  return std::make_pair(plan, file->mesh);
}

LogicalResult ApplyPlanPass::placeFunction(
    FunctionOpInterface func, PlanAttr plan, MeshAttr mesh,
    SmallVectorImpl<Placement> &placements, llvm::StringSet<> &usedKeys) {
  bool ok = true;
  for (const ModelValue &value : getModelValues(func)) {
    Location loc = value.getLoc(func);
    FailureOr<std::optional<NamedAttribute>> entry =
        findPlanEntry(plan, value, loc);
    if (failed(entry)) {
      ok = false;
      continue;
    }
    if (*entry)
      usedKeys.insert((*entry)->getName().getValue());
    // An explicit sharding outranks the plan.
    if (value.getSharding(func))
      continue;
    // Unstyled outputs are left to sharding propagation.
    if (value.isResult() && !*entry)
      continue;
    FailureOr<ShardingAttr> storage =
        getStorageSharding(plan, mesh, value, *entry, loc);
    if (failed(storage)) {
      ok = false;
      continue;
    }
    Placement placement{func, value, *storage, *entry, {}};
    auto style = *entry ? dyn_cast<ParallelStyleAttr>((*entry)->getValue())
                        : ParallelStyleAttr();
    if (value.role == ModelRole::Param && value.isNormWeight && style &&
        style.getKind() == ParallelStyleKind::sequence_parallel &&
        !func.isExternal()) {
      for (Operation *norm : findNormsOf(func, value.index)) {
        FailureOr<ShardingAttr> sharding = getSequenceParallelNormSharding(
            norm, plan, style, (*entry)->getName().getValue());
        if (failed(sharding)) {
          ok = false;
          continue;
        }
        placement.sequenceParallelNorms.emplace_back(norm, *sharding);
      }
    }
    if (value.role == ModelRole::Param && style && style.isWeightStyle() &&
        !func.isExternal() &&
        failed(declareLayouts(func, plan, value, style, (*entry)->getName(),
                              placement)))
      ok = false;
    placements.push_back(std::move(placement));
  }
  return success(ok);
}

LogicalResult
ApplyPlanPass::placeNamedNorms(FunctionOpInterface func, PlanAttr plan,
                               SmallVectorImpl<NamedNormPlacement> &placements,
                               llvm::StringSet<> &usedKeys,
                               llvm::SetVector<StringRef> &knownModules) {
  bool ok = true;
  func.walk([&](Operation *norm) {
    auto module = norm->getAttrOfType<StringAttr>(MPDialect::kModuleAttrName);
    if (!module)
      return;
    knownModules.insert(module.getValue());
    FailureOr<std::optional<NamedAttribute>> entry =
        findModuleEntry(plan, module.getValue(), norm->getLoc());
    if (failed(entry)) {
      ok = false;
      return;
    }
    if (!*entry)
      return;
    StringAttr key = (*entry)->getName();
    usedKeys.insert(key.getValue());
    auto style = dyn_cast<ParallelStyleAttr>((*entry)->getValue());
    if (!style || style.getKind() != ParallelStyleKind::sequence_parallel) {
      norm->emitError() << "plan entry '" << key.getValue()
                        << "' styles the norm of module '" << module.getValue()
                        << "' by its name, which only sequence_parallel does "
                           "(a norm's weight stays whole)";
      ok = false;
      return;
    }
    FailureOr<ShardingAttr> sharding =
        getSequenceParallelNormSharding(norm, plan, style, key.getValue());
    if (failed(sharding)) {
      ok = false;
      return;
    }
    placements.push_back({norm, *sharding, key});
  });
  return success(ok);
}

LogicalResult
ApplyPlanPass::declareLayouts(FunctionOpInterface func, PlanAttr plan,
                              const ModelValue &value, ParallelStyleAttr style,
                              StringAttr entry, Placement &placement) {
  if (!style.getInputLayouts() && !style.getOutputLayouts())
    return success();
  // The sharding of a rank-`rank` activation in layout `text`: split over
  // the batch axis on dim 0 as every activation, and over the
  // tensor-parallel axis on the layout's dim, if any.
  auto shardingFor = [&](Operation *op, StringAttr text,
                         int64_t rank) -> FailureOr<ShardingAttr> {
    std::optional<int64_t> dim =
        *ParallelStyleAttr::parseLayout(text.getValue());
    if (dim && (*dim < -rank || *dim >= rank))
      return op->emitError()
             << "plan entry '" << entry.getValue() << "': layout '"
             << text.getValue() << "' names no dim of this rank-" << rank
             << " activation";
    return getActivationSharding(plan, rank,
                                 dim ? (*dim + rank) % rank : int64_t(-1));
  };
  for (OpOperand *input : findModuleInputsOf(func, value.index)) {
    Operation *op = input->getOwner();
    if (StringAttr layout = style.getInputLayouts()) {
      FailureOr<ShardingAttr> sharding = shardingFor(
          op, layout, cast<RankedTensorType>(input->get().getType()).getRank());
      if (failed(sharding))
        return failure();
      placement.declaredInputs.emplace_back(input, *sharding);
    }
    if (StringAttr layout = style.getOutputLayouts()) {
      Value output = op->getResult(0);
      FailureOr<ShardingAttr> sharding = shardingFor(
          op, layout, cast<RankedTensorType>(output.getType()).getRank());
      if (failed(sharding))
        return failure();
      placement.declaredOutputs.emplace_back(output, *sharding);
    }
  }
  return success();
}

void ApplyPlanPass::write(const Placement &placement, PlanAttr plan) {
  FunctionOpInterface func = placement.func;
  const ModelValue &value = placement.value;
  if (value.isResult()) {
    func.setResultAttr(value.index, MPDialect::kShardingAttrName,
                       placement.storage);
    func.setResultAttr(value.index, MPDialect::kPlanEntryAttrName,
                       placement.entry->getName());
    return;
  }
  func.setArgAttr(value.index, MPDialect::kShardingAttrName, placement.storage);
  if (placement.entry)
    func.setArgAttr(value.index, MPDialect::kPlanEntryAttrName,
                    placement.entry->getName());

  if (value.role != ModelRole::Param || func.isExternal())
    return;
  // Declared layouts of the module's inputs and outputs, pinned with the
  // plan's priority for activations: what arrives, and what leaves.
  StringAttr entryName = placement.entry ? placement.entry->getName() : nullptr;
  for (auto [input, sharding] : placement.declaredInputs) {
    OpBuilder builder(input->getOwner());
    input->set(AnnotateOp::create(builder, input->getOwner()->getLoc(),
                                  input->get(), sharding, entryName));
  }
  for (auto [output, sharding] : placement.declaredOutputs) {
    OpBuilder builder = OpBuilder::atBlockEnd(output.getParentBlock());
    builder.setInsertionPointAfterValue(output);
    auto annotate = AnnotateOp::create(builder, output.getLoc(), output,
                                       sharding, entryName);
    output.replaceAllUsesExcept(annotate.getResult(), annotate);
  }
  for (auto [norm, sharding] : placement.sequenceParallelNorms)
    annotateSequenceParallelNorm(norm, sharding, placement.entry->getName());
  ShardingAttr use = getUseSharding(plan, placement.storage);
  if (use == placement.storage)
    return;
  // FSDP: pin the gathered sharding the parameter is used with; the step
  // from storage to use is FSDP2's all_gather before use.
  BlockArgument arg = func.getArgument(value.index);
  OpBuilder builder = OpBuilder::atBlockBegin(&func.getFunctionBody().front());
  Operation *&last = lastAnnotation[func];
  if (last)
    builder.setInsertionPointAfter(last);
  std::string entry =
      ("fsdp(" + plan.getFsdpAxis().getValue() + "): " + value.name.getValue())
          .str();
  LLVM_DEBUG(llvm::dbgs() << "[mp-apply-plan] " << entry << ": used as "
                          << use << "\n");
  // Located at the parameter's first use, the op whose need for the whole
  // parameter the gather serves (diagnostics and profiles point there).
  Operation *firstUser = nullptr;
  for (Operation *user : arg.getUsers())
    if (!firstUser || user->isBeforeInBlock(firstUser))
      firstUser = user;
  auto annotate = AnnotateOp::create(
      builder, firstUser ? firstUser->getLoc() : arg.getLoc(), arg, use,
      builder.getStringAttr(entry));
  arg.replaceAllUsesExcept(annotate.getResult(), annotate);
  last = annotate;
}

void ApplyPlanPass::runOnOperation() {
  ModuleOp module = getOperation();
  FailureOr<std::pair<PlanAttr, MeshAttr>> loaded = loadPlan();
  if (failed(loaded))
    return signalPassFailure();
  auto [plan, mesh] = *loaded;

  SmallVector<Placement, 0> placements;
  SmallVector<NamedNormPlacement> namedNorms;
  llvm::StringSet<> usedKeys;
  // What a key could have meant: every named value, the modules whose
  // `.weight` and `.bias` the parameters are, and the named norms'.
  llvm::SetVector<StringRef> knownNames, knownModules;
  bool ok = true;
  module.walk([&](FunctionOpInterface func) {
    for (const ModelValue &value : getModelValues(func)) {
      knownNames.insert(value.name.getValue());
      if (std::optional<StringRef> paramModule = getPlanModule(value))
        knownModules.insert(*paramModule);
    }
    ok &= succeeded(placeFunction(func, plan, mesh, placements, usedKeys));
    ok &= succeeded(
        placeNamedNorms(func, plan, namedNorms, usedKeys, knownModules));
  });
  // A plan key that styles nothing is almost always a typo. Keys are only
  // counted once every value resolved, so earlier errors do not cascade.
  for (NamedAttribute entry : plan.getStyles()) {
    StringRef key = entry.getName().getValue();
    if (!ok || usedKeys.contains(key))
      continue;
    Location loc = planFile.empty()
                       ? module.getLoc()
                       : locatePlanKey(&getContext(), planFile, key);
    InFlightDiagnostic diag =
        emitError(loc) << "plan entry '" << key
                       << "' matches no parameter, module, input or output";
    reportCloseNames(diag, key, knownNames.getArrayRef(),
                     knownModules.getArrayRef());
    ok = false;
  }
  if (!ok)
    return signalPassFailure();
  for (const Placement &placement : placements)
    write(placement, plan);
  for (const NamedNormPlacement &placement : namedNorms)
    annotateSequenceParallelNorm(placement.norm, placement.sharding,
                                 placement.entry);
}

} // namespace
} // namespace mp
