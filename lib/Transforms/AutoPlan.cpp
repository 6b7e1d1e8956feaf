//===- AutoPlan.cpp - mp-auto-plan: the fastest plan that fits ------------===//
//
// Enumerates plans for a device count, compiles the training step of each
// as a user's plan would be (apply, train step, partition), and ranks them
// by the step time predicted on a machine file (StepCost), after dropping
// those whose memory plan does not fit the budget. The chosen plan is
// written as a plan file and left on the module, so the passes after this
// one compile it as a hand-written one.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Analysis/StepCost.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Plan/PlanFile.h"
#include "mp/Plan/PlanResolution.h"
#include "mp/Transforms/ReportFile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/JSON.h"

#include <chrono>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_AUTOPLAN
#include "mp/Transforms/Passes.h.inc"

namespace {

constexpr StringLiteral kDataParallel = "data_parallel";
constexpr StringLiteral kTensorParallel = "tensor_parallel";

/// What tensor parallelism can do with each module of the model, the way
/// Megatron-LM lays out a transformer: a linear whose input is split over
/// the tensor-parallel axis (it follows a colwise linear through ops that
/// keep the split) is rowwise, every other linear colwise; a norm needs
/// its rows whole, so it ends a split (and may be sequence parallel); an
/// embedding table is split over the vocabulary (rowwise).
struct ModuleStyles {
  llvm::MapVector<StringRef, ParallelStyleKind> tensorParallel;
  SmallVector<StringRef> norms;
};

ModuleStyles getMegatronStyles(FunctionOpInterface model) {
  llvm::DenseMap<Value, StringRef> moduleOf;
  for (const ModelValue &value : getModelValues(model))
    if (value.role == ModelRole::Param)
      moduleOf[model.getArgument(value.index)] =
          getPlanModule(value).value_or(getPlanName(value));
  ModuleStyles styles;
  llvm::StringSet<> conflicting;
  auto assign = [&](StringRef module, ParallelStyleKind kind) {
    auto [it, inserted] = styles.tensorParallel.insert({module, kind});
    if (!inserted && it->second != kind)
      conflicting.insert(module);
  };
  llvm::DenseSet<Value> split;
  model.getFunctionBody().walk([&](Operation *op) {
    if (auto linear = dyn_cast<LinearOp>(op)) {
      StringRef module = moduleOf.lookup(linear.getWeight());
      bool rowwise = split.contains(linear.getInput());
      if (!module.empty())
        assign(module, rowwise ? ParallelStyleKind::rowwise
                               : ParallelStyleKind::colwise);
      if (!rowwise && !module.empty())
        split.insert(linear.getResult());
      return;
    }
    if (isa<RmsNormOp, LayerNormOp>(op)) {
      // A norm that names its module (one without parameters: OLMo's) is
      // styled by that name, as mp-apply-plan places it.
      auto named = op->getAttrOfType<StringAttr>(MPDialect::kModuleAttrName);
      StringRef module =
          named ? named.getValue() : moduleOf.lookup(op->getOperand(1));
      if (!module.empty() && !llvm::is_contained(styles.norms, module))
        styles.norms.push_back(module);
      return;
    }
    if (auto embedding = dyn_cast<EmbeddingOp>(op)) {
      if (StringRef module = moduleOf.lookup(embedding.getTable());
          !module.empty())
        assign(module, ParallelStyleKind::rowwise);
      return;
    }
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return split.contains(v); }))
      split.insert(op->result_begin(), op->result_end());
  });
  // A module read both ways stays whole.
  for (auto &[module, kind] : styles.tensorParallel)
    if (conflicting.contains(module))
      kind = ParallelStyleKind::replicate;
  return styles;
}

/// One way to run a compiled candidate: the passes after --mp-spmd (as
/// mp-opt flags) and what they give.
struct Schedule {
  SmallVector<StringRef> passList;
  std::string passes;
  StepPrediction prediction;
  int64_t peakBytes = 0;
};

constexpr StringLiteral kGroupFsdp = "mp-group-fsdp";
constexpr StringLiteral kSchedule = "mp-schedule-collectives";
constexpr StringLiteral kScheduleTpOverlap =
    "mp-schedule-collectives=tp-overlap=true";

constexpr StringLiteral kNarrowGemmOperands = "mp-narrow-gemm-operands";
constexpr StringLiteral kPipelineTpSums = "mp-pipeline-tp-sums";
constexpr StringLiteral kFuseGemmAccumulate = "mp-fuse-gemm-accumulate";
constexpr StringLiteral kFuseConversions = "mp-fuse-conversions";
constexpr StringLiteral kCoalesceReductions = "mp-coalesce-reductions";

/// The schedules the search tries: none, then (with `schedules`) the
/// collectives beside compute, with tensor parallelism also with
/// tp-overlap and with its sums in row chunks (two), and with FSDP each of
/// those grouped, and grouped alone; with bf16 GEMMs, each of those also
/// after holding their operands in bf16; and each of those (none included)
/// also with GEMM products added into the sums they feed. With bf16 GEMMs
/// each ends by fusing the step's bf16 conversions into its kernels (the
/// same values, fewer bytes).
SmallVector<SmallVector<StringRef>> getSchedulePasses(bool schedules, bool fsdp,
                                                      bool tensorParallel,
                                                      bool bf16Gemms) {
  SmallVector<SmallVector<StringRef>> variants(1);
  if (!schedules)
    return variants;
  SmallVector<SmallVector<StringRef>> scheduled = {{kSchedule}};
  if (tensorParallel) {
    scheduled.push_back({kScheduleTpOverlap});
    scheduled.push_back({kPipelineTpSums, kSchedule});
  }
  llvm::append_range(variants, scheduled);
  if (fsdp) {
    variants.push_back({kGroupFsdp});
    for (ArrayRef<StringRef> schedule : scheduled) {
      SmallVector<StringRef> grouped = {kGroupFsdp};
      llvm::append_range(grouped, schedule);
      variants.push_back(std::move(grouped));
    }
  }
  if (bf16Gemms)
    for (size_t i = 0, e = variants.size(); i < e; ++i) {
      SmallVector<StringRef> narrowed = {kNarrowGemmOperands};
      llvm::append_range(narrowed, variants[i]);
      variants.push_back(std::move(narrowed));
    }
  for (size_t i = 0, e = variants.size(); i < e; ++i) {
    SmallVector<StringRef> accumulating = variants[i];
    accumulating.push_back(kFuseGemmAccumulate);
    variants.push_back(std::move(accumulating));
  }
  if (bf16Gemms)
    for (SmallVector<StringRef> &variant : variants)
      variant.push_back(kFuseConversions);
  return variants;
}

/// `passes` with the small all_reduces coalesced where
/// --mp-coalesce-reductions runs: after the passes that make the step's
/// collectives, before those that schedule or fuse them.
SmallVector<StringRef> withCoalescedReductions(ArrayRef<StringRef> passes) {
  const auto *at = llvm::find_if(passes, [](StringRef pass) {
    return pass.starts_with(kSchedule) || pass == kFuseGemmAccumulate ||
           pass == kFuseConversions;
  });
  SmallVector<StringRef> coalesced(passes.begin(), at);
  coalesced.push_back(kCoalesceReductions);
  coalesced.append(at, passes.end());
  return coalesced;
}

/// The pass a schedule's flag (without its dashes) names.
std::unique_ptr<Pass> createSchedulePass(StringRef flag) {
  if (flag == kGroupFsdp)
    return createGroupFsdp();
  if (flag == kNarrowGemmOperands)
    return createNarrowGemmOperands();
  if (flag == kPipelineTpSums)
    return createPipelineTpSums();
  if (flag == kFuseGemmAccumulate)
    return createFuseGemmAccumulate();
  if (flag == kFuseConversions)
    return createFuseConversions();
  if (flag == kCoalesceReductions)
    return createCoalesceReductions();
  ScheduleCollectivesOptions options;
  options.tpOverlap = flag == kScheduleTpOverlap;
  return createScheduleCollectives(options);
}

/// True when `func` has a GEMM in bf16 (whose operands may be held in bf16).
bool hasBf16Gemms(Operation *func) {
  return func
      ->walk([](Operation *op) {
        return getGemmPrecision(*op) == Precision::bf16
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

constexpr StringLiteral kOverBudget = "over the memory budget";

struct Candidate {
  std::string name;
  int64_t dataParallel, tensorParallel;
  bool sequenceParallel, fsdp, reshardAfterForward;
  /// The activation recomputation its plan asks for: the least that fits
  /// (the policy, and the layers recomputed fully whatever it says).
  Recompute recompute = Recompute::none;
  int64_t recomputeFullLayers = 0;
  /// Whether its step runs the loss in chunks of tokens (mp-chunk-loss).
  bool chunkLoss = false;
  /// Its plan (buildPlan).
  PlanAttr plan;
  // Filled in by compiling it: every schedule tried, and the one it is
  // ranked by (the fastest that fits; the smallest when none fits).
  std::string status;
  std::vector<Schedule> schedules;
  std::string passes;
  StepPrediction prediction;
  int64_t peakBytes = 0;
  int rank = 0;
};

std::vector<Candidate> enumerateCandidates(int64_t ranks, bool hasNorms) {
  std::vector<Candidate> candidates;
  for (int64_t tp = 1; tp <= ranks; ++tp) {
    if (ranks % tp)
      continue;
    int64_t dp = ranks / tp;
    for (bool sp : {false, true}) {
      if (sp && (tp == 1 || !hasNorms))
        continue;
      for (int fsdpMode = 0; fsdpMode < 3; ++fsdpMode) {
        bool fsdp = fsdpMode > 0, raf = fsdpMode == 2;
        if (fsdp && dp == 1)
          continue;
        std::string name = "dp" + std::to_string(dp) + "_tp" +
                           std::to_string(tp) + (tp > 1 ? "_megatron" : "") +
                           (sp ? "_sp" : "") + (fsdp ? "_fsdp" : "") +
                           (raf ? "_reshard" : "");
        candidates.push_back({name, dp, tp, sp, fsdp, raf});
      }
    }
  }
  return candidates;
}

/// The mixed precision a plan records (PlanAttr's `precision`,
/// `reduce_dtype`, `tp_reduce_dtype`, `saved_dtype`); null where unset.
struct PlannedPrecision {
  PrecisionAttr precision;
  TypeAttr reduceDtype, tpReduceDtype, savedDtype;
};

/// The mixed-precision settings the train-step options give. Values and
/// pairs the training step refuses are left out: it reports them.
PlannedPrecision getPlannedPrecision(MLIRContext *context,
                                     StringRef trainStepOptions) {
  PlannedPrecision planned;
  SmallVector<StringRef> words;
  trainStepOptions.split(words, ' ', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef word : words) {
    auto [key, value] = word.split('=');
    if (key == "precision")
      if (std::optional<Precision> precision = symbolizePrecision(value))
        planned.precision = PrecisionAttr::get(context, *precision);
    for (auto [option, dtype] :
         {std::pair{"reduce-dtype", &planned.reduceDtype},
          std::pair{"tp-reduce-dtype", &planned.tpReduceDtype},
          std::pair{"saved-dtype", &planned.savedDtype}})
      if (key == option)
        *dtype = getPlanDtype(context, value);
  }
  if (planned.precision && planned.precision.getValue() != Precision::bf16)
    for (TypeAttr *dtype : {&planned.tpReduceDtype, &planned.savedDtype})
      if (*dtype && dtype->getValue().isBF16())
        *dtype = nullptr;
  return planned;
}

PlanAttr buildPlan(MLIRContext *context, const Candidate &candidate,
                   const ModuleStyles &styles,
                   const PlannedPrecision &precision) {
  SmallVector<NamedAttribute> entries;
  if (candidate.tensorParallel > 1) {
    for (auto &[module, kind] : styles.tensorParallel)
      entries.emplace_back(StringAttr::get(context, module),
                           ParallelStyleAttr::get(context, kind, std::nullopt,
                                                  nullptr, nullptr));
    if (candidate.sequenceParallel)
      for (StringRef module : styles.norms)
        entries.emplace_back(StringAttr::get(context, module),
                             ParallelStyleAttr::get(
                                 context, ParallelStyleKind::sequence_parallel,
                                 std::nullopt, nullptr, nullptr));
  }
  auto axis = [&](StringRef name) { return StringAttr::get(context, name); };
  return PlanAttr::get(
      context, FlatSymbolRefAttr::get(context, "mesh"), axis(kTensorParallel),
      candidate.fsdp ? axis(kDataParallel) : StringAttr(), axis(kDataParallel),
      DictionaryAttr::get(context, entries),
      /*fsdpGroups=*/ArrayAttr(),
      candidate.reshardAfterForward ? BoolAttr::get(context, true) : BoolAttr(),
      candidate.recompute == Recompute::none
          ? StringAttr()
          : StringAttr::get(context, stringifyRecompute(candidate.recompute)),
      candidate.recomputeFullLayers
          ? IntegerAttr::get(IntegerType::get(context, 64),
                             candidate.recomputeFullLayers)
          : IntegerAttr(),
      precision.precision, precision.reduceDtype, precision.tpReduceDtype,
      precision.savedDtype);
}

/// Lays `candidate`'s plan on `module` on a data_parallel x tensor_parallel
/// mesh.
void attachPlan(ModuleOp module, const Candidate &candidate) {
  MLIRContext *context = module.getContext();
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  SmallVector<StringAttr> names = {StringAttr::get(context, kDataParallel),
                                   StringAttr::get(context, kTensorParallel)};
  SmallVector<int64_t> sizes = {candidate.dataParallel,
                                candidate.tensorParallel};
  MeshOp::create(b, module.getLoc(), "mesh",
                 MeshAttr::get(context, names, sizes));
  module->setAttr(MPDialect::kPlanAttrName, candidate.plan);
}

/// The plan as a plan file (docs/getting-started.md), as a user writes one.
void writePlanFile(llvm::json::OStream &json, const Candidate &candidate) {
  json.object([&] {
    json.attributeObject("mesh", [&] {
      json.attributeArray("shape", [&] {
        json.value(candidate.dataParallel);
        json.value(candidate.tensorParallel);
      });
      json.attributeArray("names", [&] {
        json.value(kDataParallel);
        json.value(kTensorParallel);
      });
    });
    json.attribute("tensor_parallel", kTensorParallel);
    if (candidate.fsdp)
      json.attribute("fsdp", kDataParallel);
    json.attribute("batch", kDataParallel);
    if (candidate.reshardAfterForward)
      json.attribute("reshard_after_forward", true);
    if (candidate.recompute != Recompute::none)
      json.attribute("recompute", stringifyRecompute(candidate.recompute));
    if (candidate.recomputeFullLayers)
      json.attribute("recompute_full_layers", candidate.recomputeFullLayers);
    PlanAttr plan = candidate.plan;
    if (PrecisionAttr precision = plan.getPrecision())
      json.attribute("precision", stringifyPrecision(precision.getValue()));
    for (auto [key, dtype] :
         {std::pair{"reduce_dtype", plan.getReduceDtype()},
          std::pair{"tp_reduce_dtype", plan.getTpReduceDtype()},
          std::pair{"saved_dtype", plan.getSavedDtype()}})
      if (dtype)
        json.attribute(key, dtype.getValue().isBF16() ? "bf16" : "f32");
    json.attributeObject("plan", [&] {
      for (NamedAttribute entry : candidate.plan.getStyles())
        json.attribute(
            entry.getName().getValue(),
            stringifyParallelStyleKind(
                cast<ParallelStyleAttr>(entry.getValue()).getKind()));
    });
  });
}

/// The first error a failed compilation reported, on one line.
std::string firstLine(StringRef text) {
  return text.split('\n').first.trim().str();
}

struct AutoPlanPass : impl::AutoPlanBase<AutoPlanPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&]() { return module.emitError() << "mp-auto-plan: "; };
    if (ranks < 1) {
      fail() << "ranks must be 1 or more, got " << int64_t(ranks);
      return signalPassFailure();
    }
    if (machineFile.empty()) {
      fail() << "needs machine=FILE.json (bench/machines/ has examples)";
      return signalPassFailure();
    }
    if (module->hasAttr(MPDialect::kPlanAttrName) ||
        !module.getOps<MeshOp>().empty()) {
      fail() << "the module already has a plan or a mesh: mp-auto-plan "
                "chooses them";
      return signalPassFailure();
    }
    std::optional<uint64_t> budget = parseBytes(memory);
    if (!budget) {
      fail() << "memory must be a byte count (2147483648, 16GB, 512MiB), "
                "got '"
             << memory << "'";
      return signalPassFailure();
    }
    FailureOr<MachineModel> machine =
        MachineModel::read(machineFile, module.getLoc());
    if (failed(machine))
      return signalPassFailure();
    SmallVector<FunctionOpInterface> models;
    for (auto func : module.getOps<FunctionOpInterface>())
      if (!func.isExternal() && !getModelValues(func).empty() &&
          (entry.empty() || func.getName() == entry))
        models.push_back(func);
    FunctionOpInterface model = models.size() == 1 ? models.front() : nullptr;
    if (!model) {
      fail() << "needs exactly one model function"
             << (entry.empty() ? " (or entry=NAME)" : " named '" + entry + "'");
      return signalPassFailure();
    }

    auto start = std::chrono::steady_clock::now();
    styles = getMegatronStyles(model);
    std::vector<Candidate> candidates =
        enumerateCandidates(ranks, !styles.norms.empty());
    // Over a budget, a plan may fit by running its loss in chunks of tokens
    // (nearly free), then also by recomputing activations: the least
    // recomputation that fits is the fastest. An explicit policy in the
    // train-step options is the user's, and overrides any plan's.
    SmallVector<Recompute> policies = {Recompute::none};
    if (*budget && !setsRecompute(trainStepOptions))
      policies.append({Recompute::selective, Recompute::op, Recompute::full});
    // Each plan records the train-step options' mixed precision (which
    // override a plan's), so a plan file builds the step it was ranked by.
    PlannedPrecision precision =
        getPlannedPrecision(&getContext(), trainStepOptions);
    int64_t layers = countLayers(model);
    // A cross entropy, whole or as --mp-loss-parallel's per-row ops.
    bool crossEntropy =
        llvm::any_of(model.getFunctionBody().front(), [](Operation &op) {
          return isa<CrossEntropyOp, GatherLastOp>(op);
        });
    for (Candidate &candidate : candidates) {
      // When nothing fits, the attempt with the smallest peak (the least
      // recomputation among equals) is the candidate's.
      std::optional<Candidate> smallest;
      auto fits = [&](Recompute policy, int64_t fullLayers) {
        candidate.recompute = policy;
        candidate.recomputeFullLayers = fullLayers;
        candidate.plan = buildPlan(&getContext(), candidate, styles, precision);
        evaluate(module, model.getName(), candidate, *machine, *budget);
        if (candidate.status != kOverBudget)
          return true;
        if (!smallest || candidate.peakBytes < smallest->peakBytes)
          smallest = candidate;
        return false;
      };
      bool fitted = fits(Recompute::none, 0);
      candidate.chunkLoss = !fitted && crossEntropy;
      for (Recompute policy : fitted ? ArrayRef<Recompute>() : policies) {
        if (!fits(policy, 0))
          continue;
        // Where full recomputation fits and by op did not, the fewest layers
        // recomputed fully on top of op that fit, by bisection (the peak
        // falls, about, with each): less recomputation than every layer's.
        if (policy == Recompute::full && candidate.status == "ok") {
          Candidate fewest = candidate;
          int64_t fitting = layers, unfitting = 0;
          while (fitting - unfitting > 1) {
            int64_t middle = unfitting + (fitting - unfitting) / 2;
            if (fits(Recompute::op, middle) && candidate.status == "ok") {
              fitting = middle;
              fewest = candidate;
            } else {
              unfitting = middle;
            }
          }
          candidate = std::move(fewest);
        }
        // The loss whole where that fits too, and is not slower.
        if (candidate.chunkLoss && candidate.status == "ok") {
          Candidate chunked = candidate;
          candidate.chunkLoss = false;
          if (!fits(chunked.recompute, chunked.recomputeFullLayers) ||
              candidate.status != "ok" ||
              candidate.prediction.stepSeconds > chunked.prediction.stepSeconds)
            candidate = std::move(chunked);
        }
        // The attempts over the budget are not the candidate's.
        smallest.reset();
        break;
      }
      if (smallest)
        candidate = std::move(*smallest);
      if (candidate.chunkLoss)
        candidate.name += "_chunked_loss";
      if (candidate.recompute != Recompute::none)
        candidate.name +=
            "_recompute_" + stringifyRecompute(candidate.recompute).str();
      if (candidate.recomputeFullLayers)
        candidate.name +=
            "_full_layers_" + std::to_string(candidate.recomputeFullLayers);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    for (const Candidate &candidate : candidates)
      if (failed(candidate.prediction.verifyFinite([&] {
            return fail() << "machine file '" << machineFile << "' (candidate "
                          << candidate.name << "): ";
          })))
        return signalPassFailure();

    SmallVector<Candidate *> ranked;
    for (Candidate &candidate : candidates)
      if (candidate.status == "ok")
        ranked.push_back(&candidate);
    llvm::stable_sort(ranked, [](Candidate *l, Candidate *r) {
      return l->prediction.stepSeconds < r->prediction.stepSeconds;
    });
    for (auto [index, candidate] : llvm::enumerate(ranked))
      candidate->rank = index + 1;
    Candidate *chosen = ranked.empty() ? nullptr : ranked.front();
    if (!reportFile.empty() &&
        failed(writeReport(candidates, chosen, *machine, seconds)))
      return signalPassFailure();
    if (!chosen) {
      InFlightDiagnostic diag = fail() << "no plan for " << int64_t(ranks)
                                       << " ranks fits";
      if (*budget)
        diag << " the memory budget of " << *budget << " bytes per rank";
      for (const Candidate &candidate : candidates)
        diag.attachNote() << candidate.name << ": " << candidate.status
                          << (candidate.peakBytes
                                  ? " (" + std::to_string(candidate.peakBytes) +
                                        " bytes per rank)"
                                  : "");
      return signalPassFailure();
    }
    if (!planFile.empty()) {
      std::unique_ptr<llvm::ToolOutputFile> file =
          openReportFile(module, planFile, "plan file");
      if (!file)
        return signalPassFailure();
      llvm::json::OStream json(file->os(), /*IndentSize=*/2);
      writePlanFile(json, *chosen);
      file->os() << '\n';
      file->keep();
    }
    attachPlan(module, *chosen);
  }

  /// A byte count with an optional decimal (KB, MB, GB) or binary (KiB,
  /// MiB, GiB) suffix; 0 means no budget.
  static std::optional<uint64_t> parseBytes(StringRef text) {
    static constexpr std::pair<StringLiteral, uint64_t> kUnits[] = {
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"KB", 1000},
        {"MB", 1000000},
        {"GB", 1000000000},
        {"B", 1}};
    uint64_t unit = 1;
    for (auto [suffix, scale] : kUnits)
      if (text.consume_back(suffix)) {
        unit = scale;
        break;
      }
    uint64_t count;
    if (text.getAsInteger(10, count))
      return std::nullopt;
    return llvm::checkedMulUnsigned(count, unit);
  }

  /// Whether the train-step options name a recomputation policy or the
  /// layers recomputed fully.
  static bool setsRecompute(StringRef options) {
    SmallVector<StringRef> words;
    options.split(words, ' ', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
    return llvm::any_of(words, [](StringRef word) {
      return word.starts_with("recompute=") ||
             word.starts_with("recompute-full-layers=");
    });
  }

  /// The model's layers: its parameters' FSDP groups (by default the
  /// numbered layers), the root module's aside.
  static int64_t countLayers(FunctionOpInterface model) {
    llvm::StringSet<> groups;
    for (const ModelValue &value : getModelValues(model))
      if (value.role == ModelRole::Param)
        if (StringRef group = getFsdpGroup(value.name.getValue(), PlanAttr());
            !group.empty())
          groups.insert(group);
    return groups.size();
  }

  /// Compiles `candidate`'s training step on a copy of `module` and
  /// predicts its time and memory.
  void evaluate(ModuleOp module, StringRef modelName, Candidate &candidate,
                const MachineModel &machine, uint64_t budget) {
    candidate.schedules.clear();
    OwningOpRef<ModuleOp> copy = module.clone();
    attachPlan(*copy, candidate);
    std::string errors;
    // The candidate's errors are its status, not the user's.
    ScopedDiagnosticHandler capture(&getContext(), [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error && errors.empty())
        errors = diag.str();
      return success();
    });
    {
      PassManager pm(&getContext(), ModuleOp::getOperationName());
      pm.addPass(createApplyPlan());
      pm.addPass(createSplitNorms());
      std::unique_ptr<Pass> trainStep = createTrainStep();
      if (failed(trainStep->initializeOptions(trainStepOptions,
                                              [&](const Twine &message) {
                                                errors = message.str();
                                                return failure();
                                              }))) {
        candidate.status = "failed: train-step options: " + firstLine(errors);
        return;
      }
      pm.addPass(std::move(trainStep));
      buildSpmdPipeline(pm);
      if (candidate.chunkLoss)
        pm.addPass(createChunkLoss());
      if (failed(pm.run(*copy))) {
        candidate.status = "failed: " + firstLine(errors);
        return;
      }
    }
    std::string stepName = (modelName + "_train_step").str();
    Operation *compiledStep = SymbolTable::lookupSymbolIn(*copy, stepName);
    // A schedule that fails is not a choice; one at least must plan.
    auto trySchedule = [&](ArrayRef<StringRef> passes) {
      OwningOpRef<ModuleOp> scheduled = copy->clone();
      PassManager pm(&getContext(), ModuleOp::getOperationName());
      std::string flags = candidate.chunkLoss ? "--mp-chunk-loss" : "";
      for (StringRef pass : passes) {
        pm.addPass(createSchedulePass(pass));
        flags += (flags.empty() ? "--" : " --") + pass.str();
      }
      auto step = dyn_cast_or_null<FunctionOpInterface>(
          SymbolTable::lookupSymbolIn(*scheduled, stepName));
      FailureOr<MemoryPlan> plan =
          step && succeeded(pm.run(*scheduled))
              ? MemoryPlan::build(step, machine.getPlanTarget())
              : FailureOr<MemoryPlan>(failure());
      if (failed(plan))
        return false;
      candidate.schedules.push_back({llvm::to_vector(passes), flags,
                                     predictStep(step, *plan, machine),
                                     plan->persistentBytes + plan->arenaBytes});
      return true;
    };
    for (ArrayRef<StringRef> passes : getSchedulePasses(
             schedules, candidate.fsdp, candidate.tensorParallel > 1,
             compiledStep && hasBf16Gemms(compiledStep)))
      trySchedule(passes);
    if (candidate.schedules.empty()) {
      candidate.status = "failed: no partitioned @" + stepName;
      return;
    }
    auto fits = [&](const Schedule &schedule) {
      return !budget || uint64_t(schedule.peakBytes) <= budget;
    };
    // A schedule replaces an earlier one (fewer passes) only when it is
    // faster by more than rounding: on a machine where nothing overlaps,
    // scheduling predicts the same time in another summation order.
    auto faster = [](const Schedule &a, const Schedule &b) {
      return a.prediction.stepSeconds < b.prediction.stepSeconds * (1 - 1e-9);
    };
    auto findBest = [&] {
      const Schedule *best = nullptr;
      for (const Schedule &schedule : candidate.schedules)
        if (!best || (fits(schedule) && !fits(*best)) ||
            (fits(schedule) == fits(*best) &&
             (fits(schedule) ? faster(schedule, *best)
                             : schedule.peakBytes < best->peakBytes)))
          best = &schedule;
      return best;
    };
    // Coalescing only merges the calls of a schedule's small all_reduces:
    // tried on the best schedule alone (one more compile, not twice as
    // many), it replaces it where that is faster and fits.
    if (schedules)
      trySchedule(withCoalescedReductions(findBest()->passList));
    const Schedule *best = findBest();
    candidate.passes = best->passes;
    candidate.prediction = best->prediction;
    candidate.peakBytes = best->peakBytes;
    candidate.status = fits(*best) ? "ok" : kOverBudget;
  }

  LogicalResult writeReport(ArrayRef<Candidate> candidates,
                            const Candidate *chosen,
                            const MachineModel &machine, double seconds) {
    std::unique_ptr<llvm::ToolOutputFile> file =
        openReportFile(getOperation(), reportFile, "plan search report");
    if (!file)
      return failure();
    llvm::json::OStream json(file->os(), /*IndentSize=*/2);
    json.object([&] {
      json.attribute("ranks", int64_t(ranks));
      json.attribute("machine", machine.name);
      json.attribute("search_seconds", seconds);
      json.attribute("chosen", chosen ? StringRef(chosen->name) : StringRef());
      json.attributeArray("candidates", [&] {
        for (const Candidate &candidate : candidates)
          json.object([&] {
            json.attribute("name", candidate.name);
            json.attributeArray("mesh", [&] {
              json.value(candidate.dataParallel);
              json.value(candidate.tensorParallel);
            });
            json.attribute("status", candidate.status);
            if (candidate.rank)
              json.attribute("rank", candidate.rank);
            if (chosen && candidate.rank > 1)
              json.attribute("slower_than_chosen",
                             candidate.prediction.stepSeconds /
                                     chosen->prediction.stepSeconds -
                                 1);
            json.attributeBegin("plan");
            writePlanFile(json, candidate);
            json.attributeEnd();
            if (candidate.status.rfind("failed", 0) == 0)
              return;
            json.attribute("peak_bytes", candidate.peakBytes);
            json.attribute("bytes_per_rank",
                           candidate.prediction.bytesSentPerRank);
            json.attributeObject("predicted", [&] {
              writePrediction(json, candidate.prediction);
            });
            if (!schedules && candidate.passes.empty())
              return;
            json.attribute("passes", candidate.passes);
            if (!schedules)
              return;
            json.attributeArray("schedules", [&] {
              for (const Schedule &schedule : candidate.schedules)
                json.object([&] {
                  json.attribute("passes", schedule.passes);
                  json.attribute("step_seconds",
                                 schedule.prediction.stepSeconds);
                  json.attribute("peak_bytes", schedule.peakBytes);
                });
            });
          });
      });
    });
    file->os() << '\n';
    file->keep();
    return success();
  }

  /// What tensor parallelism does with each module (the model's).
  ModuleStyles styles;
};

} // namespace
} // namespace mp
