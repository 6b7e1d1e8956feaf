//===- MPToRuntimePatterns.cpp - mp ops as calls of mp_runtime.h ----------===//
//
// One conversion pattern per op family. Each names its op for the runtime's
// errors (mp_context_set_op), calls the kernel or collective on the buffers
// RuntimeCallBuilder assigns, and replaces the op's results by those
// buffers. An op the runtime cannot run (an element type, a non-splat
// constant) is a located error.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCallBuilder.h"

#include "mp/Analysis/RuntimePrecision.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mp_runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace mp {
namespace {

int64_t getNumElements(Value value) {
  return cast<RankedTensorType>(value.getType()).getNumElements();
}

ArrayRef<int64_t> getShape(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// "mp.linear at ffn.mlir:12:8": how errors name the op that failed.
std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName();
  if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
    os << " at " << loc.getFilename().getValue() << ':' << loc.getLine() << ':'
       << loc.getColumn();
  return text;
}

/// Names `op` for the runtime's errors, emits its calls with `emitCalls`
/// and replaces its results by the buffers they were written to.
LogicalResult lowerToCalls(Operation *op, RuntimeCallBuilder &calls,
                           ConversionPatternRewriter &rewriter,
                           llvm::function_ref<LogicalResult()> emitCalls) {
  calls.setBuilder(rewriter, op->getLoc());
  calls.setOp(describe(op));
  if (failed(emitCalls()))
    return failure();
  SmallVector<Value> buffers = llvm::map_to_vector(
      op->getResults(), [&](Value result) { return calls.pointer(result); });
  rewriter.replaceOp(op, buffers);
  return success();
}

/// A pattern of this lowering: it shares the function's RuntimeCallBuilder.
template <typename OpT>
struct RuntimePattern : OpConversionPattern<OpT> {
  RuntimePattern(RuntimeCallBuilder &calls, MLIRContext *context)
      : OpConversionPattern<OpT>(context), calls(calls) {}

  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor,
                  ConversionPatternRewriter &rewriter) const final {
    return lowerToCalls(op, calls, rewriter, [&] { return emitCalls(op); });
  }
  virtual LogicalResult emitCalls(OpT op) const = 0;

protected:
  Value in(Operation *op, unsigned i) const {
    return calls.pointer(op->getOperand(i));
  }
  Value out(Operation *op, unsigned i = 0) const {
    return calls.pointer(op->getResult(i));
  }
  Value count(Operation *op) const {
    return calls.i64(getNumElements(op->getOperand(0)));
  }

  RuntimeCallBuilder &calls;
};

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

struct ConstantLowering : RuntimePattern<arith::ConstantOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(arith::ConstantOp op) const override {
    auto dense = dyn_cast<SplatElementsAttr>(op.getValue());
    if (!dense || !dense.getElementType().isF32())
      return calls.reject(op.emitError(
          "the runtime lowering supports splat f32 constants only"));
    calls.call("mp_fill_f32",
               {calls.getContext(), calls.i64(getNumElements(op.getResult())),
                calls.f32(dense.getSplatValue<APFloat>().convertToDouble()),
                out(op)});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Elementwise: one mp_unary_f32 or mp_binary_f32 call; the kind of each op
// is its overload of getUnaryKind or getBinaryKind.
//===----------------------------------------------------------------------===//

mp_unary_op getUnaryKind(NegOp) { return MP_UNARY_NEG; }
mp_unary_op getUnaryKind(ExpOp) { return MP_UNARY_EXP; }
mp_unary_op getUnaryKind(ReluOp) { return MP_UNARY_RELU; }
mp_unary_op getUnaryKind(StepOp) { return MP_UNARY_STEP; }
mp_unary_op getUnaryKind(SigmoidOp) { return MP_UNARY_SIGMOID; }
mp_unary_op getUnaryKind(TanhOp) { return MP_UNARY_TANH; }
mp_unary_op getUnaryKind(LogOp) { return MP_UNARY_LOG; }
mp_unary_op getUnaryKind(RsqrtOp) { return MP_UNARY_RSQRT; }
mp_unary_op getUnaryKind(SiluOp) { return MP_UNARY_SILU; }
mp_unary_op getUnaryKind(GeluOp op) {
  return op.getApproximateTanh() ? MP_UNARY_GELU_TANH : MP_UNARY_GELU;
}
mp_unary_op getUnaryKind(ScaleOp) { return MP_UNARY_SCALE; }
mp_unary_op getUnaryKind(ClampOp) { return MP_UNARY_CLAMP; }
mp_unary_op getUnaryKind(ClampMaskOp) { return MP_UNARY_CLAMP_MASK; }

/// mp_unary_f32's `scalar` and `upper`: MP_UNARY_SCALE's factor,
/// MP_UNARY_RSQRT's eps, the clamps' bounds.
std::pair<double, double> getUnaryScalars(Operation *) { return {0, 0}; }
std::pair<double, double> getUnaryScalars(ScaleOp op) {
  return {op.getFactor().convertToDouble(), 0};
}
std::pair<double, double> getUnaryScalars(RsqrtOp op) {
  return {op.getEps().convertToDouble(), 0};
}
/// mp.clamp's and mp.clamp_mask's bounds.
template <typename ClampT>
auto getUnaryScalars(ClampT op)
    -> decltype(op.getMin(), std::pair<double, double>()) {
  return {op.getMin().convertToDouble(), op.getMax().convertToDouble()};
}

mp_binary_op getBinaryKind(AddOp) { return MP_BINARY_ADD; }
mp_binary_op getBinaryKind(SubOp) { return MP_BINARY_SUB; }
mp_binary_op getBinaryKind(MulOp) { return MP_BINARY_MUL; }
mp_binary_op getBinaryKind(DivOp) { return MP_BINARY_DIV; }
mp_binary_op getBinaryKind(SiluGradOp) { return MP_BINARY_SILU_GRAD; }
mp_binary_op getBinaryKind(SwigluOp) { return MP_BINARY_SWIGLU; }
mp_binary_op getBinaryKind(GeluGradOp op) {
  return op.getApproximateTanh() ? MP_BINARY_GELU_TANH_GRAD
                                 : MP_BINARY_GELU_GRAD;
}

template <typename OpT>
struct UnaryLowering : RuntimePattern<OpT> {
  using RuntimePattern<OpT>::RuntimePattern;
  LogicalResult emitCalls(OpT op) const override {
    RuntimeCallBuilder &calls = this->calls;
    auto [scalar, upper] = getUnaryScalars(op);
    calls.call("mp_unary_f32",
               {calls.getContext(), calls.i32(getUnaryKind(op)),
                this->count(op), calls.floatDtype(op->getOperand(0)),
                this->in(op, 0), calls.floatDtype(op->getResult(0)),
                this->out(op), calls.f64(scalar), calls.f64(upper)});
    return success();
  }
};

template <typename OpT>
struct BinaryLowering : RuntimePattern<OpT> {
  using RuntimePattern<OpT>::RuntimePattern;
  LogicalResult emitCalls(OpT op) const override {
    RuntimeCallBuilder &calls = this->calls;
    calls.call("mp_binary_f32",
               {calls.getContext(), calls.i32(getBinaryKind(op)),
                this->count(op), calls.floatDtype(op->getOperand(0)),
                this->in(op, 0), calls.floatDtype(op->getOperand(1)),
                this->in(op, 1), calls.floatDtype(op->getResult(0)),
                this->out(op)});
    return success();
  }
};

struct SwigluGradLowering : RuntimePattern<SwigluGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(SwigluGradOp op) const override {
    SmallVector<Value> args = {calls.getContext(), count(op)};
    for (unsigned i = 0; i < 3; ++i)
      args.append({calls.floatDtype(op->getOperand(i)), in(op, i)});
    for (unsigned i = 0; i < 2; ++i)
      args.append({calls.floatDtype(op->getResult(i)), out(op, i)});
    calls.call("mp_swiglu_grad_f32", args);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// GEMMs: an operand that is a transposed view is read through its input
// with the GEMM's transpose flag.
//===----------------------------------------------------------------------===//

/// A GEMM's beta: 1 when it adds its product into an accumulator, which
/// is first copied into the result's buffer unless the memory plan put the
/// result in the accumulator's.
float accumulateInto(Value result, Value accumulator,
                     RuntimeCallBuilder &calls) {
  if (!accumulator)
    return 0;
  calls.copy(result, accumulator);
  return 1;
}

/// The op's planned scratch (MemoryPlan::opScratch: a GEMM's workspace,
/// attention's score chunks and GEMM workspace, a norm gradient's
/// statistics, a collective's staging) and its bytes: a null pointer and 0
/// when it takes none.
std::array<Value, 2> getWorkspace(Operation *op, RuntimeCallBuilder &calls) {
  auto scratch = calls.getPlan().opScratch.find(op);
  if (scratch == calls.getPlan().opScratch.end())
    return {calls.nullPointer(), calls.i64(0)};
  return {calls.arenaAt(scratch->second.offset),
          calls.i64(scratch->second.bytes)};
}

struct LinearLowering : RuntimePattern<LinearOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(LinearOp op) const override {
    GemmCall gemm = *GemmCall::of(op, calls.getPlan().transposedViews);
    float beta = accumulateInto(op.getResult(), op.getAccumulator(), calls);
    auto [workspace, workspaceBytes] = getWorkspace(op, calls);
    calls.call(
        "mp_gemm_f32",
        {calls.getContext(), calls.i32(getRuntimePrecision(gemm.precision)),
         calls.floatDtype(op.getInput()), calls.floatDtype(op.getWeight()),
         calls.i32(gemm.transA), calls.i32(gemm.transB), calls.i64(gemm.m),
         calls.i64(gemm.n), calls.i64(gemm.k), calls.f32(1), in(op, 0),
         in(op, 1), calls.f32(beta), calls.floatDtype(op), out(op), workspace,
         workspaceBytes});
    return success();
  }
};

struct MatmulLowering : RuntimePattern<MatmulOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(MatmulOp op) const override {
    // A weight gradient computed by its update is computed there.
    if (calls.getPlan().gradientsInUpdate.contains(op.getResult()))
      return success();
    GemmCall gemm = *GemmCall::of(op, calls.getPlan().transposedViews);
    float beta = accumulateInto(op.getResult(), op.getAccumulator(), calls);
    auto [workspace, workspaceBytes] = getWorkspace(op, calls);
    calls.call("mp_gemm_batched_f32",
               {calls.getContext(),
                calls.i32(getRuntimePrecision(gemm.precision)),
                calls.floatDtype(op.getLhs()),
                calls.floatDtype(op.getRhs()),
                calls.i32(gemm.transA),
                calls.i32(gemm.transB),
                calls.i64(gemm.batch),
                calls.i64(gemm.m),
                calls.i64(gemm.n),
                calls.i64(gemm.k),
                calls.f32(op.getEffectiveScale()),
                in(op, 0),
                calls.i64(gemm.strideA),
                in(op, 1),
                calls.i64(gemm.strideB),
                calls.f32(beta),
                calls.floatDtype(op),
                out(op),
                calls.i64(gemm.strideC),
                workspace,
                workspaceBytes});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reductions, broadcasts and layout
//===----------------------------------------------------------------------===//

/// Dims as mp_runtime.h's bit mask.
uint32_t getDimsMask(ArrayRef<int64_t> dims) {
  uint32_t bits = 0;
  for (int64_t dim : dims)
    bits |= 1u << dim;
  return bits;
}

/// mp_reduce_sum_f32's scale: 1/count for a mean.
double getReductionScale(SumOp) { return 1.0; }
double getReductionScale(MeanOp op) {
  return double(getNumElements(op.getResult())) /
         double(getNumElements(op.getInput()));
}

template <typename OpT>
struct ReductionLowering : RuntimePattern<OpT> {
  using RuntimePattern<OpT>::RuntimePattern;
  LogicalResult emitCalls(OpT op) const override {
    RuntimeCallBuilder &calls = this->calls;
    SmallVector<int64_t> dims = op.getReducedDims();
    double scale = getReductionScale(op);
    Value input = op.getInput();
    calls.call("mp_reduce_sum_f32",
               {calls.getContext(), calls.i32(getShape(input).size()),
                calls.i64Array(getShape(input)),
                calls.i32(getDimsMask(dims)), calls.f64(scale),
                this->in(op, 0), this->out(op)});
    return success();
  }
};

struct BroadcastLowering : RuntimePattern<BroadcastOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(BroadcastOp op) const override {
    ArrayRef<int64_t> shape = getShape(op.getResult());
    calls.call("mp_broadcast_f32",
               {calls.getContext(), calls.i32(shape.size()),
                calls.i64Array(shape), calls.i32(getDimsMask(op.getDims())),
                in(op, 0), out(op)});
    return success();
  }
};

static_assert(MPDialect::kAsyncSlots == MP_ASYNC_SLOTS,
              "mp.async slots are the runtime's");

struct WaitLowering : RuntimePattern<WaitOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(WaitOp op) const override {
    Operation *collective = op.getValue().getDefiningOp();
    auto slot =
        collective->getAttrOfType<IntegerAttr>(MPDialect::kAsyncAttrName);
    // A group's first wait waits for the whole run and unpacks it.
    const MemoryPlan &plan = calls.getPlan();
    auto group = plan.groupOf.find(collective);
    if (group == plan.groupOf.end() || plan.groupFirstWait[group->second] == op)
      calls.call("mp_async_wait",
                 {calls.getContext(), calls.i32(slot.getInt())});
    // The memory plan gives the result its collective's buffer.
    calls.copy(op.getResult(), op.getValue());
    return success();
  }
};

struct ConvertLowering : RuntimePattern<ConvertOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(ConvertOp op) const override {
    FailureOr<Value> from = calls.dtype(op, op.getInput());
    FailureOr<Value> to = calls.dtype(op, op.getResult());
    if (failed(from) || failed(to))
      return failure();
    calls.call("mp_convert",
               {calls.getContext(), *from, *to, count(op), in(op, 0), out(op)});
    return success();
  }
};

struct ReshapeLowering : RuntimePattern<ReshapeOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(ReshapeOp op) const override {
    calls.copy(op.getResult(), op.getOperand());
    return success();
  }
};

struct TransposeLowering : RuntimePattern<TransposeOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(TransposeOp op) const override {
    if (calls.getPlan().transposedViews.contains(op.getResult()))
      return success(); // Its GEMMs read the input transposed.
    SmallVector<int32_t> perm(op.getPermutation());
    calls.call("mp_transpose_f32",
               {calls.getContext(), calls.i32(perm.size()),
                calls.i64Array(getShape(op.getInput())), calls.i32Array(perm),
                calls.floatDtype(op.getInput()), in(op, 0),
                calls.floatDtype(op.getResult()), out(op)});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Rows and classes of a [..., C] logits tensor (rows counted, not divided
/// out: C may be 0).
std::pair<int64_t, int64_t> getRowsAndClasses(Value logits) {
  ArrayRef<int64_t> shape = getShape(logits);
  int64_t rows = 1;
  for (int64_t extent : shape.drop_back())
    rows *= extent;
  return {rows, shape.back()};
}

LogicalResult checkClassTargets(Operation *op, Value targets,
                                RuntimeCallBuilder &calls) {
  if (cast<RankedTensorType>(targets.getType()).getElementType().isInteger(64))
    return success();
  return calls.reject(op->emitError("the runtime takes i64 class targets"));
}

struct MseLossLowering : RuntimePattern<MseLossOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(MseLossOp op) const override {
    int64_t n = getNumElements(op.getOperand(0));
    double scale = op.getReduction() == Reduction::mean ? 1.0 / n : 1.0;
    calls.call("mp_mse_loss_f32", {calls.getContext(), calls.i64(n), in(op, 0),
                                   in(op, 1), calls.f64(scale), out(op)});
    return success();
  }
};

/// Σ x² is the sum loss of x against no target.
struct SquaredNormLowering : RuntimePattern<SquaredNormOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(SquaredNormOp op) const override {
    calls.call("mp_mse_loss_f32",
               {calls.getContext(), calls.i64(getNumElements(op.getInput())),
                in(op, 0), calls.nullPointer(), calls.f64(1.0), out(op)});
    return success();
  }
};

/// The runtime's nullable `ignore_index`: a one-entry host array or null.
Value ignoredTarget(RuntimeCallBuilder &calls,
                    std::optional<int64_t> ignoreIndex) {
  return ignoreIndex ? calls.i64Array({*ignoreIndex}) : calls.nullPointer();
}

struct CrossEntropyLowering : RuntimePattern<CrossEntropyOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(CrossEntropyOp op) const override {
    if (failed(checkClassTargets(op, op.getTarget(), calls)))
      return failure();
    auto [rows, classes] = getRowsAndClasses(op.getInput());
    int64_t numRows = getNumElements(op.getTarget());
    double scale = op.getReduction() == Reduction::mean ? 1.0 / numRows : 1.0;
    calls.call("mp_cross_entropy_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(classes),
                in(op, 0), in(op, 1), ignoredTarget(calls, op.getIgnoreIndex()),
                calls.f64(scale), out(op)});
    return success();
  }
};

struct CrossEntropyGradLowering : RuntimePattern<CrossEntropyGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(CrossEntropyGradOp op) const override {
    if (failed(checkClassTargets(op, op.getTarget(), calls)))
      return failure();
    auto [rows, classes] = getRowsAndClasses(op.getInput());
    calls.call("mp_cross_entropy_grad_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(classes),
                in(op, 0), in(op, 1), ignoredTarget(calls, op.getIgnoreIndex()),
                in(op, 2), calls.f64(op.getScale().convertToDouble()),
                out(op)});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Transformer layers
//===----------------------------------------------------------------------===//

LogicalResult checkIds(Operation *op, Value ids, RuntimeCallBuilder &calls) {
  if (cast<RankedTensorType>(ids.getType()).getElementType().isInteger(64))
    return success();
  return calls.reject(op->emitError("the runtime takes i64 ids"));
}

struct EmbeddingLowering : RuntimePattern<EmbeddingOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(EmbeddingOp op) const override {
    if (failed(checkIds(op, op.getIds(), calls)))
      return failure();
    ArrayRef<int64_t> table = getShape(op.getTable());
    calls.call("mp_embedding_f32",
               {calls.getContext(), calls.i64(getNumElements(op.getIds())),
                calls.i64(table[0]), calls.i64(table[1]), in(op, 0), in(op, 1),
                out(op)});
    return success();
  }
};

struct IotaLowering : RuntimePattern<IotaOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(IotaOp op) const override {
    if (failed(checkIds(op, op.getResult(), calls)))
      return failure();
    ArrayRef<int64_t> shape = getShape(op.getResult());
    int64_t dim = op.getDim();
    calls.call(
        "mp_iota_i64",
        {calls.getContext(),
         calls.i64(ShapedType::getNumElements(shape.take_front(dim))),
         calls.i64(shape[dim]),
         calls.i64(ShapedType::getNumElements(shape.drop_front(dim + 1))),
         calls.i64(op.getStart()), out(op)});
    return success();
  }
};

struct EmbeddingGradLowering : RuntimePattern<EmbeddingGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(EmbeddingGradOp op) const override {
    if (failed(checkIds(op, op.getIds(), calls)))
      return failure();
    ArrayRef<int64_t> table = getShape(op.getTable());
    calls.call("mp_embedding_grad_f32",
               {calls.getContext(), calls.i64(getNumElements(op.getIds())),
                calls.i64(table[0]), calls.i64(table[1]), in(op, 0), in(op, 1),
                out(op)});
    return success();
  }
};

struct RmsNormLowering : RuntimePattern<RmsNormOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(RmsNormOp op) const override {
    auto [rows, dim] = getRowsAndClasses(op.getInput());
    calls.call("mp_rms_norm_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(dim),
                calls.f64(op.getEps().convertToDouble()),
                calls.floatDtype(op.getInput()), in(op, 0), in(op, 1),
                calls.f64(op.getWeightOffset().convertToDouble()),
                calls.floatDtype(op), out(op)});
    return success();
  }
};

// One call computes either gradient; the other output is not written.
struct RmsNormGradLowering : RuntimePattern<RmsNormGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(RmsNormGradOp op) const override {
    auto [rows, dim] = getRowsAndClasses(op.getInput());
    auto [scratch, scratchBytes] = getWorkspace(op, calls);
    calls.call("mp_rms_norm_grad_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(dim),
                calls.f64(op.getEps().convertToDouble()),
                calls.floatDtype(op.getInput()), in(op, 0), in(op, 1),
                calls.f64(op.getWeightOffset().convertToDouble()),
                calls.floatDtype(op.getGrad()), in(op, 2), out(op),
                calls.nullPointer(), scratch, scratchBytes});
    return success();
  }
};

struct RmsNormWeightGradLowering : RuntimePattern<RmsNormWeightGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(RmsNormWeightGradOp op) const override {
    auto [rows, dim] = getRowsAndClasses(op.getInput());
    auto [scratch, scratchBytes] = getWorkspace(op, calls);
    calls.call("mp_rms_norm_grad_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(dim),
                calls.f64(op.getEps().convertToDouble()),
                calls.floatDtype(op.getInput()), in(op, 0), calls.nullPointer(),
                calls.f64(0), calls.floatDtype(op.getGrad()), in(op, 1),
                calls.nullPointer(), out(op), scratch, scratchBytes});
    return success();
  }
};

struct LayerNormLowering : RuntimePattern<LayerNormOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(LayerNormOp op) const override {
    auto [rows, dim] = getRowsAndClasses(op.getInput());
    calls.call("mp_layer_norm_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(dim),
                calls.f64(op.getEps().convertToDouble()),
                calls.floatDtype(op.getInput()), in(op, 0), in(op, 1),
                in(op, 2), calls.floatDtype(op), out(op)});
    return success();
  }
};

// As for RMSNorm: one call computes dx, or dweight and dbias together.
struct LayerNormGradLowering : RuntimePattern<LayerNormGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(LayerNormGradOp op) const override {
    auto [rows, dim] = getRowsAndClasses(op.getInput());
    auto [scratch, scratchBytes] = getWorkspace(op, calls);
    calls.call("mp_layer_norm_grad_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(dim),
                calls.f64(op.getEps().convertToDouble()),
                calls.floatDtype(op.getInput()), in(op, 0), in(op, 1),
                calls.floatDtype(op.getGrad()), in(op, 2), out(op),
                calls.nullPointer(), calls.nullPointer(), scratch,
                scratchBytes});
    return success();
  }
};

struct LayerNormWeightGradLowering : RuntimePattern<LayerNormWeightGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(LayerNormWeightGradOp op) const override {
    auto [rows, dim] = getRowsAndClasses(op.getInput());
    auto [scratch, scratchBytes] = getWorkspace(op, calls);
    calls.call("mp_layer_norm_grad_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(dim),
                calls.f64(op.getEps().convertToDouble()),
                calls.floatDtype(op.getInput()), in(op, 0), calls.nullPointer(),
                calls.floatDtype(op.getGrad()), in(op, 1), calls.nullPointer(),
                out(op, 0), out(op, 1), scratch, scratchBytes});
    return success();
  }
};

struct SoftmaxLowering : RuntimePattern<SoftmaxOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(SoftmaxOp op) const override {
    ArrayRef<int64_t> shape = getShape(op.getInput());
    int64_t keys = shape.back();
    int64_t queries = op.getCausal() ? shape[shape.size() - 2] : 1;
    int64_t batch = keys * queries == 0
                        ? 0
                        : getNumElements(op.getInput()) / (keys * queries);
    calls.call("mp_softmax_f32",
               {calls.getContext(), calls.i64(batch), calls.i64(queries),
                calls.i64(keys), calls.i32(op.getCausal()),
                calls.i64(op.getWindow().value_or(0)), in(op, 0), out(op)});
    return success();
  }
};

struct SoftmaxGradLowering : RuntimePattern<SoftmaxGradOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(SoftmaxGradOp op) const override {
    auto [rows, cols] = getRowsAndClasses(op.getSoftmax());
    calls.call("mp_softmax_grad_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(cols), in(op, 0),
                in(op, 1), out(op)});
    return success();
  }
};

/// mp_attention_f32 and mp_attention_grad_f32 share their leading
/// arguments: sizes, scale, soft cap (ABI 22; 0: none), mask and window
/// (ABI 19), chunk, ALiBi's heads and slopes (ABI 29; 0 and null: none)
/// and whether their bias is Falcon's (ABI 30), and the scratch the plan
/// gave the op with its bytes (ABI 14). q, k, v and the output come with
/// their dtypes (ABI 10), the other tensors are float32.
template <typename OpT> struct AttentionPattern : RuntimePattern<OpT> {
  using RuntimePattern<OpT>::RuntimePattern;
  using RuntimePattern<OpT>::calls;

  LogicalResult emitCalls(OpT op) const override {
    Value output;
    if constexpr (std::is_same_v<OpT, AttentionOp>)
      output = op.getResult();
    else
      output = op.getOutput();
    // The verifier and checkLowerable leave f32 tensors, and bf16 ones
    // among these in bf16 precision only.
    Value typed[] = {op.getQuery(), op.getKey(), op.getValue(), output};
    AttentionGeometry g = *getAttentionGeometry(op);
    SmallVector<Value> args = {
        calls.getContext(),
        calls.i32(getRuntimePrecision(op.getEffectivePrecision())),
        calls.i64(g.batch),
        calls.i64(g.group),
        calls.i64(g.queries),
        calls.i64(g.keys),
        calls.i64(g.headDim),
        calls.i64(g.valueDim),
        calls.f32(op.getScale().convertToDouble()),
        calls.f32(op.getSoftcap() ? op.getSoftcap()->convertToDouble() : 0),
        calls.i32(g.causal),
        calls.i64(g.window),
        calls.i64(g.chunkRows)};
    Value slopes = op.getAlibiSlopes();
    if (slopes)
      args.append({calls.i64(getShape(slopes)[0]), calls.pointer(slopes)});
    else
      args.append({calls.i64(0), calls.nullPointer()});
    args.push_back(calls.i32(op.getAlibiBf16()));
    for (Value value :
         llvm::concat<Value>(op->getOperands(), op->getResults())) {
      if (value == slopes)
        continue;
      if (llvm::is_contained(typed, value)) {
        FailureOr<Value> type = calls.dtype(op, value);
        if (failed(type))
          return failure();
        args.push_back(*type);
      }
      args.push_back(calls.pointer(value));
    }
    auto [scratch, scratchBytes] = getWorkspace(op, calls);
    args.append({scratch, scratchBytes});
    calls.call(isa<AttentionOp>(op) ? "mp_attention_f32"
                                    : "mp_attention_grad_f32",
               args);
    return success();
  }
};

struct RopeLowering : RuntimePattern<RopeOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(RopeOp op) const override {
    ArrayRef<int64_t> shape = getShape(op.getInput());
    size_t rank = shape.size();
    int64_t seq = shape[rank - 3], heads = shape[rank - 2],
            headDim = shape[rank - 1];
    int64_t inner = seq * heads * headDim;
    calls.call(
        "mp_rope_f32",
        {calls.getContext(),
         calls.i64(inner == 0 ? 0 : getNumElements(op.getInput()) / inner),
         calls.i64(seq), calls.i64(heads), calls.i64(headDim),
         calls.i64(op.getEffectiveRotaryDims()),
         calls.f64(op.getTheta().convertToDouble()),
         calls.f64Array(op.getLlama3Scaling().value_or(ArrayRef<double>())),
         calls.f64(op.getLinearScaling().convertToDouble()),
         calls.f64Array(op.getLongropeFactors().value_or(ArrayRef<double>())),
         calls.f64(op.getAttentionFactor().convertToDouble()),
         calls.i32(op.getInverse()), calls.floatDtype(op.getInput()), in(op, 0),
         calls.floatDtype(op), out(op)});
    return success();
  }
};

struct AlibiSlopesLowering : RuntimePattern<AlibiSlopesOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(AlibiSlopesOp op) const override {
    calls.call("mp_alibi_slopes_f32",
               {calls.getContext(), calls.i64(getNumElements(op.getResult())),
                calls.f64(op.getMaxBias().convertToDouble()), out(op)});
    return success();
  }
};

struct AlibiLowering : RuntimePattern<AlibiOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(AlibiOp op) const override {
    ArrayRef<int64_t> shape = getShape(op.getScores());
    size_t rank = shape.size();
    int64_t heads = shape[rank - 3], queries = shape[rank - 2],
            keys = shape[rank - 1];
    calls.call("mp_alibi_f32",
               {calls.getContext(),
                calls.i64(ShapedType::getNumElements(shape.drop_back(3))),
                calls.i64(heads), calls.i64(queries), calls.i64(keys),
                calls.i32(op.getBf16Bias()), in(op, 0), in(op, 1), out(op)});
    return success();
  }
};

struct MaskBiasLowering : RuntimePattern<MaskBiasOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(MaskBiasOp op) const override {
    if (failed(checkIds(op, op.getMask(), calls)))
      return failure();
    calls.call("mp_mask_bias_f32",
               {calls.getContext(), calls.i64(getNumElements(op.getMask())),
                in(op, 0), calls.f64(op.getFill().convertToDouble()), out(op)});
    return success();
  }
};

struct TargetMaskLowering : RuntimePattern<TargetMaskOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(TargetMaskOp op) const override {
    if (failed(checkIds(op, op.getTarget(), calls)))
      return failure();
    calls.call("mp_target_mask_f32",
               {calls.getContext(), calls.i64(getNumElements(op.getTarget())),
                in(op, 0), calls.i64(op.getIgnoreIndex()), out(op)});
    return success();
  }
};

struct BlockMaxLowering : RuntimePattern<BlockMaxOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(BlockMaxOp op) const override {
    auto [rows, cols] = getRowsAndClasses(op.getInput());
    calls.call("mp_block_max_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(cols),
                calls.i64(getShape(op.getResult()).back()), in(op, 0),
                out(op)});
    return success();
  }
};

struct GatherLastLowering : RuntimePattern<GatherLastOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(GatherLastOp op) const override {
    if (failed(checkIds(op, op.getIndex(), calls)))
      return failure();
    auto [rows, cols] = getRowsAndClasses(op.getInput());
    calls.call("mp_gather_last_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(cols), in(op, 0),
                in(op, 1), out(op)});
    return success();
  }
};

struct ScatterLastLowering : RuntimePattern<ScatterLastOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(ScatterLastOp op) const override {
    if (failed(checkIds(op, op.getIndex(), calls)))
      return failure();
    auto [rows, cols] = getRowsAndClasses(op.getLike());
    calls.call("mp_scatter_last_f32",
               {calls.getContext(), calls.i64(rows), calls.i64(cols), in(op, 0),
                in(op, 1), out(op)});
    return success();
  }
};

struct ClipCoefficientLowering : RuntimePattern<ClipCoefficientOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(ClipCoefficientOp op) const override {
    calls.call("mp_clip_coefficient_f32",
               {calls.getContext(), in(op, 0),
                calls.f64(op.getMaxNorm().convertToDouble()), out(op)});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Optimizers: each update runs in place in the buffers of the values it
// replaces (its tied operands), with the op's overload of emitUpdate.
//===----------------------------------------------------------------------===//

/// The update's gradient scale (mp-fuse-optimizer), or null: none. The
/// members of a run share it.
Value gradScalePointer(OptimizerOpInterface update, RuntimeCallBuilder &calls) {
  MutableOperandRange scale = update.getGradScaleMutable();
  return scale.empty() ? calls.nullPointer() : calls.pointer(scale[0].get());
}

/// The arguments of SGD's calls after its tensors: lr, momentum, dampening,
/// weight decay and Nesterov's flag (without momentum: 0, 0 and 0).
SmallVector<Value, 5> getSgdSettings(SgdOp op, RuntimeCallBuilder &calls) {
  return {calls.f64(op.getLr().convertToDouble()), calls.f64(0), calls.f64(0),
          calls.f64(op.getWeightDecay().convertToDouble()), calls.i32(0)};
}

SmallVector<Value, 5> getSgdSettings(SgdMomentumOp op,
                                     RuntimeCallBuilder &calls) {
  return {calls.f64(op.getLr().convertToDouble()),
          calls.f64(op.getMomentum().convertToDouble()),
          calls.f64(op.getDampening().convertToDouble()),
          calls.f64(op.getWeightDecay().convertToDouble()),
          calls.i32(op.getNesterov())};
}

/// The momentum buffer an SGD update writes (none without momentum).
Value getMomentumBufferPointer(SgdOp, RuntimeCallBuilder &calls) {
  return calls.nullPointer();
}

Value getMomentumBufferPointer(SgdMomentumOp op, RuntimeCallBuilder &calls) {
  return calls.pointer(op.getNewMomentumBuffer());
}

template <typename SgdOpT>
void emitSgdUpdate(SgdOpT op, RuntimeCallBuilder &calls) {
  SmallVector<Value> arguments = {
      calls.getContext(), calls.i64(getNumElements(op.getParam())),
      calls.pointer(op.getNewParam()), calls.pointer(op.getGrad()),
      getMomentumBufferPointer(op, calls)};
  arguments.append(getSgdSettings(op, calls));
  arguments.push_back(gradScalePointer(op, calls));
  calls.call("mp_sgd_f32", arguments);
}

void emitUpdate(SgdOp op, RuntimeCallBuilder &calls) {
  emitSgdUpdate(op, calls);
}

void emitUpdate(SgdMomentumOp op, RuntimeCallBuilder &calls) {
  emitSgdUpdate(op, calls);
}

/// The arguments of AdamW's calls after the tensors: lr, betas, eps, weight
/// decay and the step, then what `extra` holds.
SmallVector<Value> withAdamWSettings(AdamWOp op, RuntimeCallBuilder &calls,
                                     ArrayRef<Value> leading,
                                     ArrayRef<Value> extra = {}) {
  SmallVector<Value> args(leading);
  args.append({calls.f64(op.getLr().convertToDouble()),
               calls.f64(op.getBeta1().convertToDouble()),
               calls.f64(op.getBeta2().convertToDouble()),
               calls.f64(op.getEps().convertToDouble()),
               calls.f64(op.getWeightDecay().convertToDouble()),
               calls.pointer(op.getStep())});
  llvm::append_range(args, extra);
  return args;
}

void emitUpdate(AdamWOp op, RuntimeCallBuilder &calls) {
  calls.call("mp_adamw_f32",
             withAdamWSettings(
                 op, calls,
                 {calls.getContext(), calls.i64(getNumElements(op.getParam())),
                  calls.pointer(op.getNewParam()), calls.pointer(op.getGrad()),
                  calls.pointer(op.getNewExpAvg()),
                  calls.pointer(op.getNewExpAvgSq())},
                 gradScalePointer(op, calls)));
}

/// An update computing its gradient (MemoryPlan::gradientsInUpdate): the
/// gradient's GEMM, aᵀ · b of its transposed view's input a [k, m] and b
/// [k, n], runs inside it. These are the call's context and the GEMM's
/// arguments.
SmallVector<Value> getOuterProduct(MatmulOp gradient,
                                   RuntimeCallBuilder &calls) {
  ArrayRef<int64_t> view = getShape(gradient.getLhs());
  return {calls.getContext(),
          calls.i32(getRuntimePrecision(gradient.getEffectivePrecision())),
          calls.i64(view[1]),
          calls.i64(view[0]),
          calls.i64(getShape(gradient.getRhs())[1]),
          calls.f32(gradient.getEffectiveScale()),
          calls.pointer(gradient.getLhs()),
          calls.pointer(gradient.getRhs())};
}

void emitOuterUpdate(AdamWOp op, MatmulOp gradient, RuntimeCallBuilder &calls) {
  SmallVector<Value> arguments = getOuterProduct(gradient, calls);
  arguments.append({calls.pointer(op.getNewParam()),
                    calls.pointer(op.getNewExpAvg()),
                    calls.pointer(op.getNewExpAvgSq())});
  calls.call("mp_adamw_outer_f32", withAdamWSettings(op, calls, arguments));
}

template <typename SgdOpT>
void emitSgdOuterUpdate(SgdOpT op, MatmulOp gradient,
                        RuntimeCallBuilder &calls) {
  SmallVector<Value> arguments = getOuterProduct(gradient, calls);
  arguments.append(
      {calls.pointer(op.getNewParam()), getMomentumBufferPointer(op, calls)});
  arguments.append(getSgdSettings(op, calls));
  calls.call("mp_sgd_outer_f32", arguments);
}

void emitOuterUpdate(SgdOp op, MatmulOp gradient, RuntimeCallBuilder &calls) {
  emitSgdOuterUpdate(op, gradient, calls);
}

void emitOuterUpdate(SgdMomentumOp op, MatmulOp gradient,
                     RuntimeCallBuilder &calls) {
  emitSgdOuterUpdate(op, gradient, calls);
}

/// A run of updates (MemoryPlan::optimizerRuns) as one multi-tensor call:
/// the pointers of each member's `tensor`, as an array of pointers.
template <typename OpT, typename Tensor>
Value pointersOf(ArrayRef<Operation *> run, RuntimeCallBuilder &calls,
                 Tensor tensor) {
  return calls.pointerArray(llvm::map_to_vector(run, [&](Operation *update) {
    return calls.pointer(tensor(cast<OpT>(update)));
  }));
}

Value sizesOf(ArrayRef<Operation *> run, RuntimeCallBuilder &calls) {
  return calls.i64Array(llvm::map_to_vector(run, [](Operation *update) {
    return getNumElements(update->getOperand(0));
  }));
}

void emitMultiUpdate(AdamWOp first, ArrayRef<Operation *> run,
                     RuntimeCallBuilder &calls) {
  calls.call("mp_adamw_multi_f32",
             withAdamWSettings(
                 first, calls,
                 {calls.getContext(), calls.i32(run.size()),
                  pointersOf<AdamWOp>(
                      run, calls, [](AdamWOp u) { return u.getNewParam(); }),
                  pointersOf<AdamWOp>(run, calls,
                                      [](AdamWOp u) { return u.getGrad(); }),
                  pointersOf<AdamWOp>(
                      run, calls, [](AdamWOp u) { return u.getNewExpAvg(); }),
                  pointersOf<AdamWOp>(
                      run, calls, [](AdamWOp u) { return u.getNewExpAvgSq(); }),
                  sizesOf(run, calls)},
                 gradScalePointer(first, calls)));
}

/// The momentum buffers of a run of SGD updates (none without momentum).
Value getMomentumBuffersPointer(SgdOp, ArrayRef<Operation *>,
                                RuntimeCallBuilder &calls) {
  return calls.nullPointer();
}

Value getMomentumBuffersPointer(SgdMomentumOp, ArrayRef<Operation *> run,
                                RuntimeCallBuilder &calls) {
  return pointersOf<SgdMomentumOp>(
      run, calls, [](SgdMomentumOp u) { return u.getNewMomentumBuffer(); });
}

template <typename SgdOpT>
void emitSgdMultiUpdate(SgdOpT first, ArrayRef<Operation *> run,
                        RuntimeCallBuilder &calls) {
  SmallVector<Value> arguments = {
      calls.getContext(),
      calls.i32(run.size()),
      pointersOf<SgdOpT>(run, calls, [](SgdOpT u) { return u.getNewParam(); }),
      pointersOf<SgdOpT>(run, calls, [](SgdOpT u) { return u.getGrad(); }),
      getMomentumBuffersPointer(first, run, calls),
      sizesOf(run, calls)};
  arguments.append(getSgdSettings(first, calls));
  arguments.push_back(gradScalePointer(first, calls));
  calls.call("mp_sgd_multi_f32", arguments);
}

void emitMultiUpdate(SgdOp first, ArrayRef<Operation *> run,
                     RuntimeCallBuilder &calls) {
  emitSgdMultiUpdate(first, run, calls);
}

void emitMultiUpdate(SgdMomentumOp first, ArrayRef<Operation *> run,
                     RuntimeCallBuilder &calls) {
  emitSgdMultiUpdate(first, run, calls);
}

template <typename OpT>
struct OptimizerLowering : RuntimePattern<OpT> {
  using RuntimePattern<OpT>::RuntimePattern;
  LogicalResult emitCalls(OpT op) const override {
    auto copyTied = [&](Operation *update) {
      auto tied = cast<OptimizerOpInterface>(update);
      for (OpResult result : update->getResults())
        this->calls.copy(result, update->getOperand(tied.getTiedOperandIndex(
                                     result.getResultNumber())));
    };
    const MemoryPlan &plan = this->calls.getPlan();
    ArrayRef<Operation *> run =
        plan.optimizerRuns[plan.optimizerRunOf.lookup(op)];
    if (run.size() == 1) {
      copyTied(op);
      if (plan.gradientsInUpdate.contains(op.getGrad())) {
        emitOuterUpdate(op, op.getGrad().template getDefiningOp<MatmulOp>(),
                        this->calls);
        return success();
      }
      emitUpdate(op, this->calls);
      return success();
    }
    // The whole run updates at its first member.
    if (run.front() != op)
      return success();
    for (Operation *member : run)
      copyTied(member);
    emitMultiUpdate(op, run, this->calls);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Collectives: the call each op names through CollectiveOpInterface.
//===----------------------------------------------------------------------===//

struct CollectiveLowering
    : OpInterfaceConversionPattern<CollectiveOpInterface> {
  CollectiveLowering(RuntimeCallBuilder &calls, MLIRContext *context)
      : OpInterfaceConversionPattern(context), calls(calls) {}

  LogicalResult
  matchAndRewrite(CollectiveOpInterface op, ArrayRef<Value>,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerToCalls(op, calls, rewriter, [&] { return emitCalls(op); });
  }

private:
  LogicalResult emitCalls(CollectiveOpInterface op) const {
    const MemoryPlan &plan = calls.getPlan();
    if (auto group = plan.groupOf.find(op); group != plan.groupOf.end()) {
      // The whole group runs as one call at its first member.
      ArrayRef<CollectiveOpInterface> members =
          plan.collectiveGroups[group->second];
      return members.front() == op ? emitGroupCall(members) : success();
    }
    Value in = op.getInput(), out = op.getResult();
    FailureOr<Value> axes = calls.axisList(op, op.getAxes());
    FailureOr<Value> type = calls.dtype(op, in);
    if (failed(axes) || failed(type))
      return failure();
    Value ctx = calls.getContext();
    Value numAxes = calls.i32(op.getAxes().size());
    RuntimeCollectiveCall runtimeCall = op.getRuntimeCall();
    if (runtimeCall.inPlace) {
      calls.copy(out, in);
      emitBeginAsync(op);
      calls.call(runtimeCall.function,
                 {ctx, *axes, numAxes, *type, calls.pointer(out),
                  calls.i64(getNumElements(out))});
      return success();
    }
    SmallVector<Value> dims = llvm::map_to_vector(
        runtimeCall.dims, [&](int64_t dim) { return calls.i32(dim); });
    SmallVector<Value> args = {ctx,
                               *axes,
                               numAxes,
                               *type,
                               calls.pointer(in),
                               calls.pointer(out),
                               calls.i32(getShape(in).size()),
                               calls.i64Array(getShape(in))};
    args.append(dims.begin(), dims.end());
    // Its planned staging (ABI 14), except mp_shard_slice's, which moves
    // nothing.
    if (runtimeCall.function != "mp_shard_slice") {
      auto [scratch, scratchBytes] = getWorkspace(op.getOperation(), calls);
      args.append({scratch, scratchBytes});
    }
    emitBeginAsync(op);
    calls.call(runtimeCall.function, args);
    return success();
  }

  /// An asynchronous collective names its slot right before its call.
  void emitBeginAsync(CollectiveOpInterface op) const {
    if (auto slot = op->getAttrOfType<IntegerAttr>(MPDialect::kAsyncAttrName))
      calls.call("mp_async_begin",
                 {calls.getContext(), calls.i32(slot.getInt())});
  }

  /// mp_all_gather_group, mp_reduce_scatter_group or mp_all_reduce_group
  /// over `members`, packed in the group's scratch buffer.
  LogicalResult emitGroupCall(ArrayRef<CollectiveOpInterface> members) const {
    CollectiveOpInterface leader = members.front();
    FailureOr<Value> axes = calls.axisList(leader, leader.getAxes());
    FailureOr<Value> type = calls.dtype(leader, leader.getInput());
    if (failed(axes) || failed(type))
      return failure();
    // An all_reduce group gives each tensor's element count, the others
    // each tensor's shape and dim.
    bool sums = isa<AllReduceOp>(leader);
    SmallVector<Value> ins, outs;
    SmallVector<int32_t> ranks, dims;
    SmallVector<int64_t> shapes, counts;
    for (CollectiveOpInterface member : members) {
      ins.push_back(calls.pointer(member.getInput()));
      outs.push_back(calls.pointer(member.getResult()));
      if (sums) {
        counts.push_back(getNumElements(member.getInput()));
        continue;
      }
      ArrayRef<int64_t> shape = getShape(member.getInput());
      ranks.push_back(shape.size());
      llvm::append_range(shapes, shape);
      dims.push_back(member.getRuntimeCall().dims.front());
    }
    const MemoryPlan &plan = calls.getPlan();
    emitBeginAsync(leader);
    SmallVector<Value> args = {calls.getContext(),
                               *axes,
                               calls.i32(leader.getAxes().size()),
                               *type,
                               calls.i32(members.size()),
                               calls.pointerArray(ins),
                               calls.pointerArray(outs)};
    if (sums)
      args.push_back(calls.i64Array(counts));
    else
      args.append({calls.i32Array(ranks), calls.i64Array(shapes),
                   calls.i32Array(dims)});
    args.push_back(
        calls.arenaAt(plan.groupScratchOffset[plan.groupOf.lookup(leader)]));
    StringRef function = sums                       ? "mp_all_reduce_group"
                         : isa<AllGatherOp>(leader) ? "mp_all_gather_group"
                                                    : "mp_reduce_scatter_group";
    calls.call(function, args);
    return success();
  }

  RuntimeCallBuilder &calls;
};

//===----------------------------------------------------------------------===//
// Padding of uneven splits
//===----------------------------------------------------------------------===//

struct ZeroPaddingLowering : RuntimePattern<ZeroPaddingOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(ZeroPaddingOp op) const override {
    FailureOr<Value> axes = calls.axisList(op, op.getAxes());
    FailureOr<Value> type = calls.dtype(op, op.getInput());
    if (failed(axes) || failed(type))
      return failure();
    calls.copy(op.getResult(), op.getInput());
    ArrayRef<int64_t> shape = getShape(op.getInput());
    calls.call("mp_zero_padding",
               {calls.getContext(), *axes, calls.i32(op.getAxes().size()),
                *type, out(op), calls.i32(shape.size()), calls.i64Array(shape),
                calls.i32(op.getDim()), calls.i64(op.getExtent())});
    return success();
  }
};

struct LocalizeIndexLowering : RuntimePattern<LocalizeIndexOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(LocalizeIndexOp op) const override {
    if (failed(checkIds(op, op.getInput(), calls)))
      return failure();
    FailureOr<Value> axes = calls.axisList(op, op.getAxes());
    if (failed(axes))
      return failure();
    calls.call("mp_localize_index",
               {calls.getContext(), *axes, calls.i32(op.getAxes().size()),
                count(op), in(op, 0), out(op), calls.i64(op.getExtent())});
    return success();
  }
};

struct ResizeLowering : RuntimePattern<ResizeOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(ResizeOp op) const override {
    FailureOr<Value> type = calls.dtype(op, op.getInput());
    if (failed(type))
      return failure();
    ArrayRef<int64_t> shape = getShape(op.getInput());
    calls.call("mp_resize_dim",
               {calls.getContext(), *type, in(op, 0), out(op),
                calls.i32(shape.size()), calls.i64Array(shape),
                calls.i32(op.getDim()),
                calls.i64(getShape(op.getResult())[op.getDim()])});
    return success();
  }
};

/// Copies entries [inOffset, inOffset + its extent) of `dim` of `input`
/// over entries [outOffset, ...) of that dim of `result`.
LogicalResult copyDimRange(RuntimeCallBuilder &calls, Operation *op,
                           Value input, Value result, int64_t dim,
                           int64_t inOffset, int64_t outOffset, int64_t count) {
  FailureOr<Value> type = calls.dtype(op, input);
  if (failed(type))
    return failure();
  ArrayRef<int64_t> shape = getShape(input);
  calls.call("mp_copy_dim_range",
             {calls.getContext(), *type, calls.pointer(input),
              calls.pointer(result), calls.i32(shape.size()),
              calls.i64Array(shape), calls.i32(dim), calls.i64(inOffset),
              calls.i64(getShape(result)[dim]), calls.i64(outOffset),
              calls.i64(count)});
  return success();
}

struct SliceLowering : RuntimePattern<SliceOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(SliceOp op) const override {
    if (calls.getPlan().views.contains(op.getResult()))
      return success(); // A view of its input's buffer.
    return copyDimRange(calls, op, op.getInput(), op.getResult(), op.getDim(),
                        op.getOffset(), 0,
                        getShape(op.getResult())[op.getDim()]);
  }
};

struct ConcatLowering : RuntimePattern<ConcatOp> {
  using RuntimePattern::RuntimePattern;
  LogicalResult emitCalls(ConcatOp op) const override {
    if (calls.getPlan().views.contains(op.getResult()))
      return success(); // Its operands were computed in place.
    int64_t offset = 0;
    for (Value input : op.getInputs()) {
      int64_t extent = getShape(input)[op.getDim()];
      if (failed(copyDimRange(calls, op, input, op.getResult(), op.getDim(), 0,
                              offset, extent)))
        return failure();
      offset += extent;
    }
    return success();
  }
};

} // namespace

void populateMPToRuntimePatterns(RuntimeCallBuilder &calls,
                                 RewritePatternSet &patterns) {
  patterns.add<
      ConstantLowering, UnaryLowering<NegOp>, UnaryLowering<ExpOp>,
      UnaryLowering<ReluOp>, UnaryLowering<StepOp>, UnaryLowering<SigmoidOp>,
      UnaryLowering<TanhOp>, UnaryLowering<RsqrtOp>, UnaryLowering<SiluOp>,
      UnaryLowering<GeluOp>, UnaryLowering<LogOp>, UnaryLowering<ScaleOp>,
      UnaryLowering<ClampOp>, UnaryLowering<ClampMaskOp>, BinaryLowering<AddOp>,
      BinaryLowering<SubOp>, BinaryLowering<MulOp>, BinaryLowering<DivOp>,
      BinaryLowering<GeluGradOp>, BinaryLowering<SiluGradOp>,
      BinaryLowering<SwigluOp>, SwigluGradLowering, LinearLowering,
      MatmulLowering, ReductionLowering<SumOp>, ReductionLowering<MeanOp>,
      BroadcastLowering, ConvertLowering, WaitLowering, ReshapeLowering,
      TransposeLowering, MseLossLowering, SquaredNormLowering,
      CrossEntropyLowering, CrossEntropyGradLowering, EmbeddingLowering,
      EmbeddingGradLowering, RmsNormLowering, RmsNormGradLowering,
      RmsNormWeightGradLowering, LayerNormLowering, LayerNormGradLowering,
      LayerNormWeightGradLowering, SoftmaxLowering, SoftmaxGradLowering,
      AttentionPattern<AttentionOp>, AttentionPattern<AttentionGradOp>,
      RopeLowering, AlibiSlopesLowering, AlibiLowering, MaskBiasLowering, TargetMaskLowering, BlockMaxLowering,
      GatherLastLowering, ScatterLastLowering, ClipCoefficientLowering,
      OptimizerLowering<SgdOp>, OptimizerLowering<SgdMomentumOp>,
      OptimizerLowering<AdamWOp>, CollectiveLowering, ZeroPaddingLowering,
      LocalizeIndexLowering, IotaLowering, ResizeLowering, SliceLowering,
      ConcatLowering>(calls, patterns.getContext());
}

} // namespace mp
