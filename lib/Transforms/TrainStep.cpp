//===- TrainStep.cpp - build the training step of a model -----------------===//
//
// From a model function whose first result is the scalar loss, builds
//
//   @<model>_train_step(params..., optimizer state..., [step], batch...)
//       -> (new params..., new state..., [step + 1], loss)
//
// on GLOBAL shapes: the forward pass (a copy of the model), the backward
// pass by reverse-mode automatic differentiation (each op's VJP rule, from
// AutodiffOpInterface), optional global-norm clipping, and the optimizer
// update. The step is then sharded and partitioned like any other function;
// the gradient synchronisation falls out of the shardings (a gradient is
// partial over the axes its parameter is replicated on or the batch is
// split on, and is reduced into the parameter's storage sharding).
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Plan/PlanResolution.h"
#include "mp/Transforms/Autodiff.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Debug.h"

#include <functional>

#define DEBUG_TYPE "mp-train-step"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_TRAINSTEP
#include "mp/Transforms/Passes.h.inc"

namespace {

/// Scales `grads` by one coefficient so that their global norm is at most
/// `maxNorm`, as torch.nn.utils.clip_grad_norm_.
LogicalResult clipGradients(OpBuilder &b, Location loc,
                            MutableArrayRef<Value> grads, double maxNorm,
                            func::FuncOp model) {
  auto scalarType = RankedTensorType::get({}, b.getF32Type());
  Value squaredNorm;
  for (Value grad : grads) {
    if (cast<RankedTensorType>(grad.getType()).getElementType() !=
        scalarType.getElementType())
      return model.emitError() << "gradient clipping needs f32 parameters";
    Value squares = SquaredNormOp::create(b, loc, grad);
    squaredNorm =
        squaredNorm ? AddOp::create(b, loc, squaredNorm, squares).getResult()
                    : squares;
  }
  Value coefficient = ClipCoefficientOp::create(b, loc, squaredNorm,
                                                b.getF64FloatAttr(maxNorm));
  for (Value &grad : grads) {
    auto type = cast<RankedTensorType>(grad.getType());
    SmallVector<int64_t> dims =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    Value spread = dims.empty()
                       ? coefficient
                       : BroadcastOp::create(b, loc, type, coefficient,
                                             b.getDenseI64ArrayAttr(dims))
                             .getResult();
    grad = MulOp::create(b, loc, grad, spread);
  }
  return success();
}

/// The forward pass's ops, in program order and as a set; every other op of
/// the step is the backward pass's (or the optimizer's).
struct ForwardPass {
  explicit ForwardPass(ArrayRef<Operation *> ops)
      : ops(ops), set(ops.begin(), ops.end()) {}
  bool contains(Operation *op) const { return set.contains(op); }

  ArrayRef<Operation *> ops;
  llvm::DenseSet<Operation *> set;
};

/// The backward pass's first reader of `value` (by program order), if any:
/// a reader that is not among the forward pass's ops.
Operation *getFirstBackwardUser(Value value, const ForwardPass &forward) {
  Operation *first = nullptr;
  for (Operation *user : value.getUsers())
    if (!forward.contains(user) && (!first || user->isBeforeInBlock(first)))
      first = user;
  return first;
}

/// Makes the backward pass's readers of `value` read `replacement`.
void replaceBackwardUses(Value value, Value replacement,
                         const ForwardPass &forward) {
  value.replaceUsesWithIf(replacement, [&](OpOperand &use) {
    return !forward.contains(use.getOwner());
  });
}

/// The FSDP group (getFsdpGroup; empty: the root module's) of the parameter
/// `value` is; none if it is no parameter of `step`.
std::optional<StringRef> getParameterGroup(func::FuncOp step, PlanAttr plan,
                                           Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  auto name = arg ? step.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      MPDialect::kParamAttrName)
                  : StringAttr();
  if (!name)
    return std::nullopt;
  return getFsdpGroup(name.getValue(), plan);
}

/// FSDP2's reshard_after_forward: each plan annotation of a parameter (its
/// FSDP use) made in the forward pass serves the forward only; the backward
/// uses a copy made just before its first backward use, which partitions
/// into a second all_gather there. As in FSDP2, the root module's
/// parameters (those of no numbered layer, getFsdpGroup) are kept: the
/// backward starts with them.
void regatherForBackward(func::FuncOp step, PlanAttr plan,
                         const ForwardPass &forward) {
  for (Operation *op : forward.ops) {
    auto annotate = dyn_cast<AnnotateOp>(op);
    if (!annotate || !annotate.isFromPlan())
      continue;
    std::optional<StringRef> group =
        getParameterGroup(step, plan, annotate.getInput());
    if (!group || group->empty())
      continue;
    Operation *first = getFirstBackwardUser(annotate.getResult(), forward);
    if (!first)
      continue;
    OpBuilder b(first);
    auto again = AnnotateOp::create(b, annotate.getLoc(), annotate.getInput(),
                                    annotate.getSharding(),
                                    annotate.getEntryAttr(), b.getUnitAttr());
    replaceBackwardUses(annotate.getResult(), again.getResult(), forward);
  }
}

/// Whether `op` lays out an argument of the step (a parameter's FSDP use,
/// regathered for the backward pass by regatherForBackward, never run again
/// as an activation is).
bool isArgumentAnnotation(Operation *op) {
  auto annotate = dyn_cast<AnnotateOp>(op);
  return annotate && isa<BlockArgument>(annotate.getInput());
}

/// Whether `op` widens a bfloat16 value to float32: a copy of a saved
/// activation for its readers (roundSavedActivations).
bool isWidening(Operation *op) {
  auto convert = dyn_cast_if_present<ConvertOp>(op);
  return convert && getElementTypeOrSelf(convert.getInput()).isBF16();
}

/// Whether `op` rounds a float32 value to bfloat16.
bool isNarrowing(Operation *op) {
  auto convert = dyn_cast<ConvertOp>(op);
  return convert && getElementTypeOrSelf(convert.getInput()).isF32() &&
         getElementTypeOrSelf(convert.getResult()).isBF16();
}

/// The layer (an FSDP group, getFsdpGroup) of each forward op in one: from
/// the first reader of a numbered layer's parameters to the next reader of
/// another group's, with the layout annotations (and saved activations'
/// float32 copies) that lead into it. Ops before the first layer are in
/// none.
llvm::DenseMap<Operation *, StringRef>
getForwardLayers(func::FuncOp step, PlanAttr plan, const ForwardPass &forward) {
  llvm::DenseMap<Operation *, StringRef> layerOf;
  StringRef current;
  for (Operation *op : forward.ops) {
    if (isArgumentAnnotation(op))
      continue;
    for (Value operand : op->getOperands()) {
      // A parameter, or its layout annotation.
      if (auto annotate = operand.getDefiningOp<AnnotateOp>())
        operand = annotate.getInput();
      if (std::optional<StringRef> group =
              getParameterGroup(step, plan, operand)) {
        current = *group;
        break;
      }
    }
    if (!current.empty())
      layerOf[op] = current;
  }
  // An annotation or a saved activation's float32 copy that only one layer
  // reads in the forward pass (sequence parallelism's layout of the layer's
  // input; the residual stream as it enters) is that layer's, not the one
  // before's.
  for (Operation *op : llvm::reverse(forward.ops)) {
    if (!(isa<AnnotateOp>(op) || isWidening(op)) || isArgumentAnnotation(op))
      continue;
    llvm::SmallSetVector<StringRef, 2> readers;
    for (Operation *user : op->getUsers())
      if (forward.contains(user))
        readers.insert(layerOf.lookup(user));
    if (readers.size() == 1 && !readers.front().empty())
      layerOf[op] = readers.front();
  }
  return layerOf;
}

/// saved-dtype=bf16: each float32 value (not a scalar) that the forward
/// pass computes on its way to a GEMM and that some recomputation policy
/// holds for the backward pass (one the backward pass reads, or one another
/// layer reads: what full recomputation runs a layer again from) is
/// rounded to bf16 where it is made, and all its readers read one float32
/// copy of the rounded value (widenForBackward gives the backward pass its
/// own). So the rounded values are the same under every policy. Values that
/// reach no GEMM in the forward pass (the logits and the loss's
/// computation, attention's log-sum-exp) stay float32, as PyTorch's loss and
/// FlashAttention keep them, and so do tables an op makes from its
/// attributes alone (ALiBi's slopes): no activation, and in bf16 a slope
/// would move its bias by up to 2^-9 of slope · key. Returns the forward
/// pass's ops with the
/// conversions, made before recomputation, which runs them again.
SmallVector<Operation *> roundSavedActivations(func::FuncOp step, PlanAttr plan,
                                               ArrayRef<Operation *> ops) {
  ForwardPass forward(ops);
  llvm::DenseMap<Operation *, StringRef> layerOf =
      getForwardLayers(step, plan, forward);
  auto isReadByAnotherLayer = [&](Value value) {
    StringRef layer = layerOf.lookup(value.getDefiningOp());
    return llvm::any_of(value.getUsers(), [&](Operation *user) {
      return forward.contains(user) && layerOf.lookup(user) != layer;
    });
  };
  llvm::DenseSet<Value> leadsToGemm;
  for (Operation *op : llvm::reverse(forward.ops))
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return forward.contains(user) &&
                   (isa<LinearOp, MatmulOp, AttentionOp>(user) ||
                    llvm::any_of(user->getResults(), [&](Value next) {
                      return leadsToGemm.contains(next);
                    }));
          }))
        leadsToGemm.insert(result);
  SmallVector<Operation *> rounded;
  for (Operation *op : forward.ops) {
    rounded.push_back(op);
    if (isArgumentAnnotation(op) || op->hasTrait<OpTrait::ConstantLike>() ||
        op->getNumOperands() == 0)
      continue;
    OpBuilder b(op->getContext());
    b.setInsertionPointAfter(op);
    for (Value result : op->getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type || type.getRank() == 0 || !type.getElementType().isF32() ||
          !leadsToGemm.contains(result) ||
          !(getFirstBackwardUser(result, forward) ||
            isReadByAnotherLayer(result)))
        continue;
      // A layout of a rounded value (sequence parallelism's of a layer's
      // input) lays out the bf16 value: one held copy, not two.
      if (auto annotate = dyn_cast<AnnotateOp>(op);
          annotate && isWidening(annotate.getInput().getDefiningOp())) {
        annotate.getInputMutable().assign(
            annotate.getInput().getDefiningOp()->getOperand(0));
        result.setType(annotate.getInput().getType());
        auto widened = ConvertOp::create(b, result.getLoc(), type, result);
        result.replaceAllUsesExcept(widened, widened);
        rounded.push_back(widened);
        continue;
      }
      auto narrow = ConvertOp::create(b, result.getLoc(),
                                      type.clone(b.getBF16Type()), result);
      auto widened = ConvertOp::create(b, result.getLoc(), type, narrow);
      result.replaceAllUsesExcept(widened, narrow);
      rounded.append({narrow, widened});
    }
  }
  return rounded;
}

/// Gives the backward pass's readers of each saved activation's float32 copy
/// (roundSavedActivations) a copy of their own, made just before the first
/// of them: the forward pass's copy dies with its last forward reader, and
/// only the bf16 value is held between the passes.
void widenForBackward(const ForwardPass &forward) {
  for (Operation *op : forward.ops) {
    if (!isWidening(op))
      continue;
    Operation *first = getFirstBackwardUser(op->getResult(0), forward);
    if (!first)
      continue;
    OpBuilder b(first);
    replaceBackwardUses(op->getResult(0), b.clone(*op)->getResult(0), forward);
  }
}

/// Selective activation recomputation, the cheap part of torchtitan's
/// policy by op (getLayerRecomputable's `op` is that policy): a forward
/// value the backward pass reads, made by an op cheap to run again
/// (elementwise ops, norms, rotary embeddings, reshapes and layout
/// annotations) from values the backward pass holds anyway (arguments,
/// constants, parameters, and saved values not themselves recomputed), is
/// computed again instead of being held from the forward pass. GEMM and
/// attention outputs stay saved.
llvm::DenseSet<Operation *> getCheapRecomputable(const ForwardPass &forward) {
  auto isCheap = [](Operation *op) {
    return op->getNumResults() == 1 && op->getNumRegions() == 0 &&
           (op->hasTrait<OpTrait::Elementwise>() ||
            isa<AnnotateOp, ReshapeOp, RmsNormOp, LayerNormOp, RopeOp>(op));
  };
  // In forward order, so that an operand's fate is known before its users'.
  llvm::DenseSet<Operation *> recomputable;
  auto isRecomputable = [&](Value value) {
    return recomputable.contains(value.getDefiningOp());
  };
  auto isHeld = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (!def || def->hasTrait<OpTrait::ConstantLike>() ||
        isArgumentAnnotation(def))
      return true;
    return !isRecomputable(value) && getFirstBackwardUser(value, forward);
  };
  for (Operation *op : forward.ops)
    if (isCheap(op) && !isArgumentAnnotation(op) &&
        llvm::all_of(op->getOperands(), [&](Value operand) {
          return isHeld(operand) || isRecomputable(operand);
        }))
      recomputable.insert(op);
  return recomputable;
}

/// Recomputation by layer. `full` is torchtitan's `ac_mode = "full"` (a
/// checkpoint around each transformer block): the forward ops of a layer
/// (from the first reader of a numbered layer's parameters, getFsdpGroup, to
/// the next reader of another group's, with the layout annotations that
/// lead into it) whose values only that layer reads in the forward pass are
/// run again in the backward pass, GEMMs and attention included. Between
/// the passes each layer holds only what flows into the next: its output,
/// the residual stream. `op` is torchtitan's selective policy by op
/// (`selective_ac_option = "op"`): the same, except that attention's
/// outputs and every other linear's (a layer's first, third, ...) are held.
/// The first `fullLayers` layers (in forward order) are recomputed fully
/// whatever the policy (Megatron-LM's block method); a layer whose policy
/// is `none` or `selective` is not recomputed here.
llvm::DenseSet<Operation *> getLayerRecomputable(func::FuncOp step,
                                                 PlanAttr plan,
                                                 const ForwardPass &forward,
                                                 Recompute policy,
                                                 int64_t fullLayers) {
  llvm::DenseMap<Operation *, StringRef> layerOf =
      getForwardLayers(step, plan, forward);
  llvm::DenseMap<StringRef, Recompute> layerPolicy;
  for (Operation *op : forward.ops)
    if (StringRef layer = layerOf.lookup(op); !layer.empty())
      layerPolicy.try_emplace(layer, int64_t(layerPolicy.size()) < fullLayers
                                         ? Recompute::full
                                         : policy);
  llvm::DenseSet<Operation *> recomputable;
  llvm::DenseMap<StringRef, int64_t> linearsSeen;
  auto isHeldByPolicy = [&](Operation *op, StringRef layer) {
    Recompute layerRecompute = layerPolicy.lookup(layer);
    if (layerRecompute == Recompute::none ||
        layerRecompute == Recompute::selective)
      return true;
    if (layerRecompute != Recompute::op)
      return false;
    // Attention's pieces (mp.matmul, unfused) stand for PyTorch's SDPA.
    if (isa<AttentionOp, MatmulOp>(op))
      return true;
    return isa<LinearOp>(op) && linearsSeen[layer]++ % 2 == 0;
  };
  for (Operation *op : forward.ops) {
    StringRef layer = layerOf.lookup(op);
    // A held value's rounding (saved-dtype=bf16) is held: the bf16 value.
    if (!layer.empty() && !isHeldByPolicy(op, layer) && isPure(op) &&
        op->getNumRegions() == 0 &&
        (!isNarrowing(op) ||
         recomputable.contains(op->getOperand(0).getDefiningOp())) &&
        llvm::all_of(op->getUsers(), [&](Operation *user) {
          auto readerLayer = layerOf.find(user);
          // A backward reader, or a forward one of the same layer.
          return readerLayer == layerOf.end()
                     ? !forward.contains(user) && !isa<func::ReturnOp>(user)
                     : readerLayer->second == layer;
        }))
      recomputable.insert(op);
  }
  return recomputable;
}

/// Runs the ops of `recomputable` again in the backward pass, each just
/// before the first backward use of its results (earliest first, so that a
/// later value's chain reuses what is run again before it; each op once),
/// from the values not recomputed, instead of holding their results from the
/// forward pass. The ops run again read the same floats and give the same
/// ones.
void recomputeForBackward(func::FuncOp step, const ForwardPass &forward,
                          const llvm::DenseSet<Operation *> &recomputable) {
  Operation *terminator = step.getBody().front().getTerminator();
  SmallVector<std::pair<Operation *, Value>> firstUses;
  for (Operation *op : forward.ops) {
    if (!recomputable.contains(op))
      continue;
    for (Value value : op->getResults())
      if (!llvm::is_contained(value.getUsers(), terminator))
        if (Operation *first = getFirstBackwardUser(value, forward))
          firstUses.push_back({first, value});
  }
  llvm::stable_sort(firstUses, [](const auto &a, const auto &b) {
    return a.first != b.first && a.first->isBeforeInBlock(b.first);
  });
  IRMapping recomputed;
  for (auto [first, value] : firstUses) {
    OpBuilder b(first);
    std::function<Value(Value)> recompute = [&](Value v) -> Value {
      Operation *def = v.getDefiningOp();
      if (!recomputable.contains(def))
        return v;
      // Recomputed before an earlier first use: before this one too.
      if (Value known = recomputed.lookupOrNull(v))
        return known;
      IRMapping operands;
      for (Value operand : def->getOperands())
        operands.map(operand, recompute(operand));
      Operation *again = b.clone(*def, operands);
      recomputed.map(def->getResults(), again->getResults());
      return recomputed.lookup(v);
    };
    replaceBackwardUses(value, recompute(value), forward);
  }
}

struct TrainStepPass : impl::TrainStepBase<TrainStepPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// The step's mixed precision: each option where given, else the plan's,
  /// else the option's default.
  struct MixedPrecision {
    Precision precision;
    bool reducesBFloat16, tpReducesBFloat16, savesBFloat16;
  };
  MixedPrecision mixedPrecision;

  LogicalResult checkOptions(Location loc, PlanAttr plan);
  FailureOr<func::FuncOp> buildStep(func::FuncOp model, SymbolTable &symbols);
  /// The state each parameter carries for the optimizer.
  SmallVector<StringRef> getStateNames() const {
    if (optimizer == "adamw")
      return {"exp_avg", "exp_avg_sq"};
    if (momentum != 0.0)
      return {"momentum_buffer"};
    return {};
  }
  /// The data-parallel size PyTorch divides summed gradients by.
  int64_t getDataParallelSize(func::FuncOp model);
};

LogicalResult TrainStepPass::checkOptions(Location loc, PlanAttr plan) {
  if (optimizer != "adamw" && optimizer != "sgd")
    return emitError(loc) << "unknown optimizer '" << optimizer
                          << "'; expected adamw or sgd";
  if (weightDecay == -1)
    weightDecay = optimizer == "adamw" ? 0.01 : 0.0;
  if (lr < 0 || weightDecay < 0 || eps < 0 || maxGradNorm < 0)
    return emitError(loc) << "lr, weight-decay, eps and max-grad-norm must "
                             "not be negative";
  if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1)
    return emitError(loc) << "beta1 and beta2 must be in [0, 1)";
  if (nesterov && (momentum <= 0 || dampening != 0))
    return emitError(loc)
           << "nesterov needs a positive momentum and zero dampening";
  if (!symbolizePrecision(precision))
    return emitError(loc) << "unknown precision '" << precision
                          << "'; expected fp32, tf32 or bf16";
  for (auto [option, dtype] : {std::pair{"reduce-dtype", &reduceDtype},
                               std::pair{"tp-reduce-dtype", &tpReduceDtype},
                               std::pair{"saved-dtype", &savedDtype}})
    if (*dtype != "f32" && *dtype != "bf16")
      return emitError(loc) << "unknown " << option << " '" << *dtype
                            << "'; expected f32 or bf16";
  // Each mixed-precision setting is the option's where given, else the
  // plan's; the pairs are checked as resolved, and an error names the
  // plan's half.
  auto fromPlan = [&](const Option<std::string> &option, Attribute planned) {
    return !option.hasValue() && planned;
  };
  auto isBFloat16 = [&](const Option<std::string> &option, TypeAttr planned) {
    return fromPlan(option, planned) ? planned.getValue().isBF16()
                                     : option == "bf16";
  };
  PrecisionAttr plannedPrecision = plan ? plan.getPrecision() : nullptr;
  TypeAttr plannedTpReduce = plan ? plan.getTpReduceDtype() : nullptr;
  TypeAttr plannedSaved = plan ? plan.getSavedDtype() : nullptr;
  mixedPrecision = {
      fromPlan(precision, plannedPrecision) ? plannedPrecision.getValue()
                                            : *symbolizePrecision(precision),
      isBFloat16(reduceDtype, plan ? plan.getReduceDtype() : nullptr),
      isBFloat16(tpReduceDtype, plannedTpReduce),
      isBFloat16(savedDtype, plannedSaved)};
  auto needsBFloat16 = [&](StringRef option, StringRef key, bool planned,
                           StringRef why) -> LogicalResult {
    InFlightDiagnostic diag = emitError(loc) << option << "=bf16";
    if (planned)
      diag << " (the plan's " << key << ")";
    diag << " needs precision=bf16 (" << why << "), got "
         << stringifyPrecision(mixedPrecision.precision);
    if (fromPlan(precision, plannedPrecision))
      diag << " (the plan's precision)";
    return diag;
  };
  if (mixedPrecision.precision != Precision::bf16) {
    if (mixedPrecision.tpReducesBFloat16)
      return needsBFloat16("tp-reduce-dtype", "tp_reduce_dtype",
                           fromPlan(tpReduceDtype, plannedTpReduce),
                           "it sums bf16 GEMMs' results");
    if (mixedPrecision.savesBFloat16)
      return needsBFloat16("saved-dtype", "saved_dtype",
                           fromPlan(savedDtype, plannedSaved),
                           "the activations of a bf16 forward pass");
  }
  if (recomputeFullLayers < 0)
    return emitError(loc) << "recompute-full-layers must not be negative, got "
                          << int64_t(recomputeFullLayers);
  if (!symbolizeRecompute(recompute))
    return emitError(loc) << "unknown recompute '" << recompute
                          << "'; expected none, selective, op or full";
  return success();
}

/// Gives every float32 GEMM of `step` without a precision of its own the
/// option's (the precisions are float32 arithmetics); tf32 is what a GEMM
/// without the attribute runs in, so it is left unset.
void setGemmPrecision(func::FuncOp step, Precision precision) {
  if (precision == Precision::tf32)
    return;
  auto attr = PrecisionAttr::get(step.getContext(), precision);
  step.walk([&](Operation *op) {
    llvm::TypeSwitch<Operation *>(op)
        .Case<LinearOp, MatmulOp, AttentionOp, AttentionGradOp>([&](auto gemm) {
          if (!gemm.getPrecision() &&
              getElementTypeOrSelf(op->getResult(0)).isF32())
            gemm.setPrecisionAttr(attr);
        });
  });
}

int64_t TrainStepPass::getDataParallelSize(func::FuncOp model) {
  auto module = model->getParentOfType<ModuleOp>();
  auto plan = module->getAttrOfType<PlanAttr>(MPDialect::kPlanAttrName);
  if (!plan || !plan.getEffectiveBatchAxis())
    return 1;
  auto mesh =
      SymbolTable::lookupNearestSymbolFrom<MeshOp>(module, plan.getMesh());
  return mesh ? mesh.getMesh().getAxisSize(
                    plan.getEffectiveBatchAxis().getValue())
              : 1;
}

FailureOr<func::FuncOp> TrainStepPass::buildStep(func::FuncOp model,
                                                 SymbolTable &symbols) {
  MLIRContext *ctx = &getContext();
  Location loc = model.getLoc();
  if (model.getNumResults() == 0 ||
      !isa<RankedTensorType>(model.getResultTypes()[0]) ||
      cast<RankedTensorType>(model.getResultTypes()[0]).getRank() != 0 ||
      !isa<FloatType>(
          cast<RankedTensorType>(model.getResultTypes()[0]).getElementType()))
    return model.emitError()
           << "the training step needs the model's first result to be the "
              "scalar loss (a rank-0 float tensor), got "
           << model.getFunctionType();
  if (!model.getBody().hasOneBlock())
    return model.emitError() << "the training step needs a single-block model";

  SmallVector<ModelValue> params, batch;
  llvm::DenseSet<unsigned> withRole;
  for (const ModelValue &value : getModelValues(model)) {
    if (value.role == ModelRole::Param)
      params.push_back(value);
    else if (!value.isResult())
      batch.push_back(value);
    if (!value.isResult())
      withRole.insert(value.index);
  }
  for (BlockArgument arg : model.getArguments())
    if (!withRole.contains(arg.getArgNumber()))
      return emitError(arg.getLoc())
             << "argument #" << arg.getArgNumber()
             << " has no role; name it mp.param, mp.input or mp.target";

  // The signature: parameters, their state, the step count, the batch.
  SmallVector<StringRef> stateNames = getStateNames();
  bool countsSteps = optimizer == "adamw";
  SmallVector<Type> argTypes, resultTypes;
  SmallVector<DictionaryAttr> argAttrs, resultAttrs;
  Builder builder(ctx);
  auto named = [&](StringRef role, StringRef name,
                   ArrayRef<NamedAttribute> extra = {}) {
    SmallVector<NamedAttribute> attrs{
        builder.getNamedAttr(role, builder.getStringAttr(name))};
    llvm::append_range(attrs, extra);
    return builder.getDictionaryAttr(attrs);
  };
  auto storageAttrs = [&](const ModelValue &param) {
    SmallVector<NamedAttribute> attrs;
    for (StringRef attrName :
         {MPDialect::kShardingAttrName, MPDialect::kPlanEntryAttrName})
      if (Attribute attr = model.getArgAttr(param.index, attrName))
        attrs.push_back(builder.getNamedAttr(attrName, attr));
    return attrs;
  };
  for (const ModelValue &param : params) {
    argTypes.push_back(param.type);
    argAttrs.push_back(model.getArgAttrDict(param.index));
  }
  for (const ModelValue &param : params)
    for (StringRef state : stateNames) {
      argTypes.push_back(param.type);
      argAttrs.push_back(named(MPDialect::kStateAttrName,
                               (param.name.getValue() + "." + state).str(),
                               storageAttrs(param)));
    }
  auto scalarType = RankedTensorType::get({}, builder.getF32Type());
  if (countsSteps) {
    argTypes.push_back(scalarType);
    argAttrs.push_back(named(MPDialect::kStateAttrName, "step"));
  }
  for (const ModelValue &value : batch) {
    argTypes.push_back(value.type);
    argAttrs.push_back(model.getArgAttrDict(value.index));
  }
  resultTypes.append(argTypes.begin(),
                     argTypes.begin() +
                         params.size() * (1 + stateNames.size()) +
                         (countsSteps ? 1 : 0));
  for (const ModelValue &param : params)
    resultAttrs.push_back(named(MPDialect::kOutputAttrName,
                                param.name.getValue(), storageAttrs(param)));
  for (const ModelValue &param : params)
    for (StringRef state : stateNames)
      resultAttrs.push_back(named(MPDialect::kOutputAttrName,
                                  (param.name.getValue() + "." + state).str(),
                                  storageAttrs(param)));
  if (countsSteps)
    resultAttrs.push_back(named(MPDialect::kOutputAttrName, "step"));
  resultTypes.push_back(model.getResultTypes()[0]);
  resultAttrs.push_back(named(MPDialect::kOutputAttrName, "loss"));

  OpBuilder b(ctx);
  b.setInsertionPointAfter(model);
  auto step =
      func::FuncOp::create(b, loc, (model.getName() + "_train_step").str(),
                           FunctionType::get(ctx, argTypes, resultTypes));
  step.setAllArgAttrs(argAttrs);
  step.setAllResultAttrs(resultAttrs);
  Block *body = step.addEntryBlock();
  b.setInsertionPointToStart(body);

  // Forward: the model's body on the step's arguments.
  IRMapping mapping;
  unsigned next = 0;
  for (const ModelValue &param : params)
    mapping.map(model.getArgument(param.index), body->getArgument(next++));
  next += params.size() * stateNames.size();
  Value stepCount = countsSteps ? body->getArgument(next++) : Value();
  for (const ModelValue &value : batch)
    mapping.map(model.getArgument(value.index), body->getArgument(next++));
  // The model's results other than the loss are not the step's, but a plan
  // style on one (sequence_parallel on an output) still says how the value
  // is laid out: it stays, as an annotation with the style's priority.
  Operation *modelReturn = model.getBody().front().getTerminator();
  llvm::DenseMap<Value, std::pair<ShardingAttr, StringAttr>> styledResults;
  for (unsigned i = 1; i < modelReturn->getNumOperands(); ++i)
    if (auto sharding = model.getResultAttrOfType<ShardingAttr>(
            i, MPDialect::kShardingAttrName))
      styledResults.try_emplace(
          modelReturn->getOperand(i), sharding,
          model.getResultAttrOfType<StringAttr>(
              i, MPDialect::kPlanEntryAttrName));
  SmallVector<Operation *> forward;
  for (Operation &op : model.getBody().front().without_terminator()) {
    forward.push_back(b.clone(op, mapping));
    for (Value result : op.getResults()) {
      auto styled = styledResults.find(result);
      if (styled == styledResults.end())
        continue;
      auto [sharding, entry] = styled->second;
      auto annotate = AnnotateOp::create(b, result.getLoc(),
                                         mapping.lookup(result), sharding,
                                         entry);
      forward.push_back(annotate);
      mapping.map(result, annotate.getResult());
    }
  }
  Value loss = mapping.lookup(modelReturn->getOperand(0));

  // Backward: the gradients of the loss with respect to the parameters.
  // PyTorch's data parallelism averages the per-rank gradients of local
  // losses: for a sum loss that is the global gradient / dp size.
  double seed =
      pytorchDpAverage ? 1.0 / double(getDataParallelSize(model)) : 1.0;
  FailureOr<SmallVector<Value>> gradients = buildGradients(
      b, loc, forward, loss,
      buildSplat(b, loc, cast<RankedTensorType>(loss.getType()), seed),
      body->getArguments().take_front(params.size()));
  if (failed(gradients)) {
    step.erase();
    return failure();
  }
  SmallVector<Value> grads = std::move(*gradients);
  auto plan = model->getParentOfType<ModuleOp>()->getAttrOfType<PlanAttr>(
      MPDialect::kPlanAttrName);
  bool savesBFloat16 = mixedPrecision.savesBFloat16;
  if (savesBFloat16)
    forward = roundSavedActivations(step, plan, forward);
  ForwardPass forwardPass(forward);
  // Before the regathers: a recomputed op reads its weight as gathered
  // again for the backward pass. The pass options, when given, override the
  // plan's.
  Recompute policy = *symbolizeRecompute(recompute);
  if (!recompute.hasValue() && plan && plan.getRecompute())
    policy = *symbolizeRecompute(plan.getRecompute().getValue());
  int64_t fullLayers = recomputeFullLayers;
  if (!recomputeFullLayers.hasValue() && plan && plan.getRecomputeFullLayers())
    fullLayers = plan.getRecomputeFullLayers().getInt();
  llvm::DenseSet<Operation *> recomputable;
  if (policy == Recompute::selective)
    recomputable = getCheapRecomputable(forwardPass);
  bool policyByLayer = policy == Recompute::op || policy == Recompute::full;
  if (policyByLayer || fullLayers) {
    llvm::DenseSet<Operation *> byLayer =
        getLayerRecomputable(step, plan, forwardPass, policy, fullLayers);
    if (byLayer.empty()) {
      InFlightDiagnostic warning = emitWarning(model.getLoc());
      if (policyByLayer)
        warning << "recompute=" << stringifyRecompute(policy);
      else
        warning << "recompute-full-layers=" << fullLayers;
      warning << " found no layer to recompute: no parameter is in a "
                 "numbered layer ('layers.<n>.') or in one of the plan's "
                 "fsdp groups";
    }
    recomputable.insert(byLayer.begin(), byLayer.end());
  }
  recomputeForBackward(step, forwardPass, recomputable);
  if (savesBFloat16)
    widenForBackward(forwardPass);
  if (reshardAfterForward.hasValue() ? reshardAfterForward
                                     : getReshardAfterForward(plan))
    regatherForBackward(step, plan, forwardPass);
  // The global norm is a sum over each gradient's elements: taken on the
  // gradients laid out as their parameters are stored (FSDP's shards), each
  // partial gradient is reduce-scattered once and only a scalar is
  // all-reduced, instead of all-reducing whole gradients for the norm.
  auto isFsdpShard = [&](ShardingAttr storage) {
    return storage && plan && plan.getFsdpAxis() &&
           llvm::any_of(storage.getDims(), [&](Attribute axes) {
             return llvm::is_contained(cast<ArrayAttr>(axes).getValue(),
                                       plan.getFsdpAxis());
           });
  };
  if (maxGradNorm > 0)
    for (auto [index, grad] : llvm::enumerate(grads))
      if (auto storage = step.getArgAttrOfType<ShardingAttr>(
              index, MPDialect::kShardingAttrName);
          isFsdpShard(storage))
        grad = AnnotateOp::create(
            b, loc, grad, storage,
            b.getStringAttr("gradient of '" +
                            step.getArgAttrOfType<StringAttr>(
                                    index, MPDialect::kParamAttrName)
                                .getValue() +
                            "' as stored"));
  if (maxGradNorm > 0 &&
      failed(clipGradients(b, loc, grads, maxGradNorm, model))) {
    step.erase();
    return failure();
  }

  // The update.
  SmallVector<Value> newParams, newStates;
  Value newStep;
  if (countsSteps)
    newStep =
        AddOp::create(b, loc, stepCount, buildSplat(b, loc, scalarType, 1.0));
  for (unsigned i = 0; i < params.size(); ++i) {
    Value param = body->getArgument(i);
    auto stateArg = [&](unsigned k) {
      return body->getArgument(params.size() + i * stateNames.size() + k);
    };
    if (optimizer == "adamw") {
      auto update = AdamWOp::create(
          b, loc, param, grads[i], stateArg(0), stateArg(1), newStep,
          b.getF64FloatAttr(lr), b.getF64FloatAttr(beta1),
          b.getF64FloatAttr(beta2), b.getF64FloatAttr(eps),
          b.getF64FloatAttr(weightDecay), /*grad_scale=*/Value());
      newParams.push_back(update.getNewParam());
      newStates.append({update.getNewExpAvg(), update.getNewExpAvgSq()});
    } else if (momentum != 0.0) {
      auto update = SgdMomentumOp::create(
          b, loc, param, grads[i], stateArg(0), b.getF64FloatAttr(lr),
          b.getF64FloatAttr(momentum), b.getF64FloatAttr(dampening),
          b.getF64FloatAttr(weightDecay), nesterov ? b.getUnitAttr() : nullptr,
          /*grad_scale=*/Value());
      newParams.push_back(update.getNewParam());
      newStates.push_back(update.getNewMomentumBuffer());
    } else {
      newParams.push_back(SgdOp::create(b, loc, param, grads[i],
                                        b.getF64FloatAttr(lr),
                                        b.getF64FloatAttr(weightDecay),
                                        /*grad_scale=*/Value()));
    }
  }
  SmallVector<Value> results(newParams);
  llvm::append_range(results, newStates);
  if (countsSteps)
    results.push_back(newStep);
  results.push_back(loss);
  func::ReturnOp::create(b, loc, results);

  // VJPs also build gradients nobody needs (of the batch); drop them.
  IRRewriter rewriter(ctx);
  (void)runRegionDCE(rewriter, step.getBody());
  setGemmPrecision(step, mixedPrecision.precision);
  if (mixedPrecision.reducesBFloat16)
    step->setAttr(MPDialect::kReduceDtypeAttrName,
                  TypeAttr::get(BFloat16Type::get(ctx)));
  if (mixedPrecision.tpReducesBFloat16)
    step->setAttr(MPDialect::kTpReduceDtypeAttrName,
                  TypeAttr::get(BFloat16Type::get(ctx)));
  LLVM_DEBUG(llvm::dbgs() << "[mp-train-step] built @" << step.getName()
                          << ": " << params.size() << " parameters, "
                          << optimizer << "\n");
  symbols.insert(step);
  return step;
}

void TrainStepPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (failed(checkOptions(module.getLoc(), module->getAttrOfType<PlanAttr>(
                                               MPDialect::kPlanAttrName))))
    return signalPassFailure();
  SymbolTable symbols(module);
  SmallVector<func::FuncOp> models;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal() &&
        llvm::any_of(
            getModelValues(func),
            [](const ModelValue &v) { return v.role == ModelRole::Param; }) &&
        (entry.empty() || func.getName() == entry))
      models.push_back(func);
  if (models.empty()) {
    module.emitError() << "no model to train: a function with mp.param "
                          "arguments"
                       << (entry.empty() ? "" : " named '" + entry + "'");
    return signalPassFailure();
  }
  for (func::FuncOp model : models)
    if (failed(buildStep(model, symbols)))
      return signalPassFailure();
}

} // namespace
} // namespace mp
