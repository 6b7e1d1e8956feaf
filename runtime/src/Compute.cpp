//===- Compute.cpp - the compute calls: validate, then dispatch -----------===//

#include "Context.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>

using namespace mp::runtime;

namespace {

mp_status checkRank(mp_context *ctx, const char *call, int rank) {
  if (rank < 0 || rank > kMaxRank)
    return fail(ctx, call, "rank %d is not in [0, %d]", rank, kMaxRank);
  return MP_OK;
}

bool isUnaryOp(mp_unary_op op) {
  switch (op) {
  case MP_UNARY_NEG:
  case MP_UNARY_EXP:
  case MP_UNARY_RELU:
  case MP_UNARY_STEP:
  case MP_UNARY_SIGMOID:
  case MP_UNARY_SILU:
  case MP_UNARY_GELU:
  case MP_UNARY_GELU_TANH:
  case MP_UNARY_SCALE:
  case MP_UNARY_TANH:
  case MP_UNARY_LOG:
  case MP_UNARY_RSQRT:
  case MP_UNARY_CLAMP:
  case MP_UNARY_CLAMP_MASK:
    return true;
  }
  return false;
}

bool isBinaryOp(mp_binary_op op) {
  switch (op) {
  case MP_BINARY_ADD:
  case MP_BINARY_SUB:
  case MP_BINARY_MUL:
  case MP_BINARY_DIV:
  case MP_BINARY_GELU_GRAD:
  case MP_BINARY_GELU_TANH_GRAD:
  case MP_BINARY_SILU_GRAD:
  case MP_BINARY_SWIGLU:
    return true;
  }
  return false;
}

/// Fails `call` on a negative or NaN epsilon.
mp_status checkEps(mp_context *ctx, const char *call, double eps) {
  if (!(eps >= 0))
    return fail(ctx, call, "eps must be 0 or more, got %g", eps);
  return MP_OK;
}

/// Fails `call` on an infinite or NaN weight offset.
mp_status checkWeightOffset(mp_context *ctx, const char *call, double offset) {
  if (!std::isfinite(offset))
    return fail(ctx, call, "weight_offset must be finite, got %g", offset);
  return MP_OK;
}

/// The sizes of an embedding call: n ids into a vocab x dim table, n x dim
/// rows, each product's bytes within int64.
mp_status checkEmbeddingSizes(mp_context *ctx, const char *call, int64_t n,
                              int64_t vocab, int64_t dim) {
  if (checkSizes(ctx, call, {{"n", n}, {"dim", dim}}) ||
      checkSizes(ctx, call, {{"vocab", vocab}, {"dim", dim}}) ||
      checkSizes(ctx, call, {{"n", n}}, sizeof(int64_t)))
    return MP_ERROR;
  return MP_OK;
}

} // namespace

extern "C" {

mp_status mp_gemm_f32(mp_context *ctx, mp_precision precision, mp_dtype a_type,
                      mp_dtype b_type, int trans_a, int trans_b, int64_t m,
                      int64_t n, int64_t k, float alpha, const void *a,
                      const void *b, float beta, mp_dtype c_type, void *c,
                      void *workspace, int64_t workspace_bytes) {
  return mp_gemm_batched_f32(ctx, precision, a_type, b_type, trans_a, trans_b,
                             1, m, n, k, alpha, a, 0, b, 0, beta, c_type, c, 0,
                             workspace, workspace_bytes);
}

mp_status mp_gemm_batched_f32(mp_context *ctx, mp_precision precision,
                              mp_dtype a_type, mp_dtype b_type, int trans_a,
                              int trans_b, int64_t batch, int64_t m, int64_t n,
                              int64_t k, float alpha, const void *a,
                              int64_t stride_a, const void *b, int64_t stride_b,
                              float beta, mp_dtype c_type, void *c,
                              int64_t stride_c, void *workspace,
                              int64_t workspace_bytes) {
  MP_RETURN_IF_FAILED(ctx);
  if (precision != MP_PRECISION_FP32 && precision != MP_PRECISION_TF32 &&
      precision != MP_PRECISION_BF16)
    return fail(ctx, "mp_gemm_f32", "unknown precision %d",
                static_cast<int>(precision));
  for (mp_dtype type : {a_type, b_type})
    if (type != MP_DTYPE_F32 &&
        (type != MP_DTYPE_BF16 || precision != MP_PRECISION_BF16))
      return fail(ctx, "mp_gemm_f32",
                  "takes float32 operands, and bfloat16 ones only in "
                  "MP_PRECISION_BF16, not dtype %d in precision %d",
                  static_cast<int>(type), static_cast<int>(precision));
  if (c_type != MP_DTYPE_F32 &&
      (c_type != MP_DTYPE_BF16 || precision != MP_PRECISION_BF16 || beta != 0))
    return fail(ctx, "mp_gemm_f32",
                "writes float32, and bfloat16 only in MP_PRECISION_BF16 with "
                "beta 0, not dtype %d in precision %d with beta %g",
                static_cast<int>(c_type), static_cast<int>(precision),
                static_cast<double>(beta));
  Workspace pieces;
  if (getWorkspace(ctx, "mp_gemm_f32", workspace, workspace_bytes, pieces))
    return MP_ERROR;
  if (batch < 0 || m < 0 || n < 0 || k < 0)
    return fail(ctx, "mp_gemm_f32", "negative dims %lld x %lld x %lld x %lld",
                static_cast<long long>(batch), static_cast<long long>(m),
                static_cast<long long>(n), static_cast<long long>(k));
  if (batch == 0 || m == 0 || n == 0)
    return MP_OK;
  // The elements of A, B and C the batch touches, which a bf16 GEMM copies
  // (rounded or widened): they must fit int64 bytes.
  for (auto [stride, rows, cols] :
       {std::tuple(stride_a, m, k), std::tuple(stride_b, k, n),
        std::tuple(stride_c, m, n)}) {
    int64_t elements, reach;
    if (stride < 0 || __builtin_mul_overflow(rows, cols, &elements) ||
        __builtin_mul_overflow(stride, batch - 1, &reach) ||
        __builtin_add_overflow(reach, elements, &elements) ||
        elements > INT64_MAX / int64_t(sizeof(float)))
      return fail(ctx, "mp_gemm_f32",
                  "a tensor's stride %lld and dims overflow int64 bytes",
                  static_cast<long long>(stride));
  }
  return ctx->backend->gemm(precision, a_type, b_type, trans_a, trans_b, batch,
                            m, n, k, alpha, a, stride_a, b, stride_b, beta,
                            c_type, c, stride_c, pieces);
}

namespace {
/// Fails `call` unless every tensor of an elementwise call is float32 or
/// bfloat16 and each output that is an input's buffer has that input's
/// dtype (a kernel reads each element before writing it, in place only
/// where the elements are the same size).
mp_status checkElementwiseTensors(mp_context *ctx, const char *call,
                                  std::initializer_list<TensorIn> ins,
                                  std::initializer_list<TensorOut> outs) {
  for (TensorIn in : ins)
    if (checkFloatStorage(ctx, call, in.type))
      return MP_ERROR;
  for (TensorOut out : outs) {
    if (checkFloatStorage(ctx, call, out.type))
      return MP_ERROR;
    for (TensorIn in : ins)
      if (in.data && in.data == out.data && in.type != out.type)
        return fail(ctx, call, "writes a dtype-%d output over a dtype-%d input",
                    static_cast<int>(out.type), static_cast<int>(in.type));
  }
  return MP_OK;
}

/// A norm's checks (mp_rms_norm_f32, mp_layer_norm_f32): its sizes, eps
/// and weight offset (LayerNorm's 0), x and out float32 or bfloat16 and
/// apart, and its buffers (with `hasBias`, LayerNorm's bias too).
mp_status checkNorm(mp_context *ctx, const char *call, int64_t rows,
                    int64_t dim, double eps, double weightOffset,
                    TensorIn input, const float *weight, bool hasBias,
                    const float *bias, TensorOut output) {
  if (checkSizes(ctx, call, {{"rows", rows}, {"dim", dim}}) ||
      checkEps(ctx, call, eps) || checkWeightOffset(ctx, call, weightOffset) ||
      checkElementwiseTensors(ctx, call, {input}, {output}) ||
      checkBuffers(ctx, call,
                   {{"x", input.data, rows * dim},
                    {"weight", weight, dim},
                    {"bias", bias, hasBias ? dim : 0},
                    {"out", output.data, rows * dim}}))
    return MP_ERROR;
  if (overlaps(input.data, rows * dim * int64_t(getDtypeSize(input.type)),
               output.data, rows * dim * int64_t(getDtypeSize(output.type))))
    return fail(ctx, call, "out overlaps x");
  return MP_OK;
}

/// A norm gradient's checks: its sizes, eps and weight offset, dx or
/// dweight wanted (not both left out; with `hasBias`, dbias with dweight),
/// x and grad float32 or bfloat16 and never dx's buffer where bfloat16, its
/// buffers (the weight for dx), then the scratch it was given into
/// `workspace`, once its own bytes (the larger, the host's:
/// mp_norm_grad_scratch_bytes) are known to fit int64.
mp_status checkNormGrad(mp_context *ctx, const char *call, int64_t rows,
                        int64_t dim, double eps, double weightOffset,
                        TensorIn input, const float *weight, TensorIn gradient,
                        float *dx, const float *dweight, bool hasBias,
                        const float *dbias, void *scratch, int64_t scratchBytes,
                        Workspace &workspace) {
  if (checkSizes(ctx, call, {{"rows", rows}, {"dim", dim}}) ||
      checkEps(ctx, call, eps) || checkWeightOffset(ctx, call, weightOffset))
    return MP_ERROR;
  if (!dx && !dweight)
    return fail(ctx, call, "dx and dweight are both null: nothing to compute");
  if (hasBias && !dweight != !dbias)
    return fail(ctx, call, "dweight and dbias are computed together");
  if (checkElementwiseTensors(ctx, call, {input, gradient},
                              {TensorOut{MP_DTYPE_F32, dx}}) ||
      checkBuffers(ctx, call,
                   {{"x", input.data, rows * dim},
                    {"weight", weight, dx ? dim : 0},
                    {"grad", gradient.data, rows * dim}}))
    return MP_ERROR;
  if (mp_norm_grad_scratch_bytes(MP_BACKEND_HOST, rows, dim, input.type,
                                 gradient.type) < 0)
    return fail(ctx, call, "the scratch's bytes overflow int64");
  return getWorkspace(ctx, call, scratch, scratchBytes, workspace);
}
} // namespace

mp_status mp_unary_f32(mp_context *ctx, mp_unary_op op, int64_t n,
                       mp_dtype in_type, const void *in, mp_dtype out_type,
                       void *out, double scalar, double upper) {
  MP_RETURN_IF_FAILED(ctx);
  if (!isUnaryOp(op))
    return fail(ctx, "mp_unary_f32", "unknown op %d", static_cast<int>(op));
  if ((op == MP_UNARY_CLAMP || op == MP_UNARY_CLAMP_MASK) && !(scalar <= upper))
    return fail(ctx, "mp_unary_f32", "clamp bounds [%g, %g] are not ordered",
                scalar, upper);
  TensorIn input{in_type, in};
  TensorOut output{out_type, out};
  if (checkCount(ctx, "mp_unary_f32", n) ||
      checkElementwiseTensors(ctx, "mp_unary_f32", {input}, {output}))
    return MP_ERROR;
  return ctx->backend->unary(op, n, input, output, scalar, upper);
}

mp_status mp_binary_f32(mp_context *ctx, mp_binary_op op, int64_t n,
                        mp_dtype a_type, const void *a, mp_dtype b_type,
                        const void *b, mp_dtype out_type, void *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (!isBinaryOp(op))
    return fail(ctx, "mp_binary_f32", "unknown op %d", static_cast<int>(op));
  TensorIn lhs{a_type, a}, rhs{b_type, b};
  TensorOut output{out_type, out};
  if (checkCount(ctx, "mp_binary_f32", n) ||
      checkElementwiseTensors(ctx, "mp_binary_f32", {lhs, rhs}, {output}))
    return MP_ERROR;
  return ctx->backend->binary(op, n, lhs, rhs, output);
}

mp_status mp_swiglu_grad_f32(mp_context *ctx, int64_t n, mp_dtype grad_type,
                             const void *grad, mp_dtype gate_type,
                             const void *gate, mp_dtype up_type, const void *up,
                             mp_dtype gate_grad_type, void *gate_grad,
                             mp_dtype up_grad_type, void *up_grad) {
  MP_RETURN_IF_FAILED(ctx);
  TensorIn gradIn{grad_type, grad}, gateIn{gate_type, gate}, upIn{up_type, up};
  TensorOut gateGrad{gate_grad_type, gate_grad}, upGrad{up_grad_type, up_grad};
  if (checkCount(ctx, "mp_swiglu_grad_f32", n) ||
      checkElementwiseTensors(ctx, "mp_swiglu_grad_f32", {gradIn, gateIn, upIn},
                              {gateGrad, upGrad}))
    return MP_ERROR;
  if (gate_grad == up_grad)
    return fail(ctx, "mp_swiglu_grad_f32",
                "gate_grad and up_grad are one buffer");
  return ctx->backend->swigluGrad(n, gradIn, gateIn, upIn, gateGrad, upGrad);
}

mp_status mp_reduce_sum_f32(mp_context *ctx, int rank, const int64_t *shape,
                            uint32_t dims_mask, double scale, const float *in,
                            float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkRank(ctx, "mp_reduce_sum_f32", rank))
    return MP_ERROR;
  return ctx->backend->reduceSum(rank, shape, dims_mask, scale, in, out);
}

mp_status mp_broadcast_f32(mp_context *ctx, int rank, const int64_t *out_shape,
                           uint32_t dims_mask, const float *in, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkRank(ctx, "mp_broadcast_f32", rank))
    return MP_ERROR;
  return ctx->backend->broadcast(rank, out_shape, dims_mask, in, out);
}

mp_status mp_transpose_f32(mp_context *ctx, int rank, const int64_t *in_shape,
                           const int *perm, mp_dtype in_type, const void *in,
                           mp_dtype out_type, void *out) {
  MP_RETURN_IF_FAILED(ctx);
  TensorIn input{in_type, in};
  TensorOut output{out_type, out};
  if (checkRank(ctx, "mp_transpose_f32", rank) ||
      checkElementwiseTensors(ctx, "mp_transpose_f32", {input}, {output}))
    return MP_ERROR;
  if (in && in == out)
    return fail(ctx, "mp_transpose_f32", "writes its output over its input");
  uint64_t seen = 0;
  for (int d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= rank)
      return fail(ctx, "mp_transpose_f32", "perm[%d] = %d is out of range", d,
                  perm[d]);
    if (seen >> perm[d] & 1)
      return fail(ctx, "mp_transpose_f32", "perm[%d] = %d is listed twice", d,
                  perm[d]);
    seen |= uint64_t(1) << perm[d];
  }
  return ctx->backend->transpose(rank, in_shape, perm, input, output);
}

mp_status mp_mse_loss_f32(mp_context *ctx, int64_t n, const float *a,
                          const float *b, double scale, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_mse_loss_f32", n))
    return MP_ERROR;
  return ctx->backend->mseLoss(n, a, b, scale, out);
}

mp_status mp_cross_entropy_f32(mp_context *ctx, int64_t rows, int64_t classes,
                               const float *logits, const int64_t *targets,
                               const int64_t *ignore_index, double scale,
                               float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_cross_entropy_f32", rows) ||
      checkCount(ctx, "mp_cross_entropy_f32", classes))
    return MP_ERROR;
  return ctx->backend->crossEntropy(rows, classes, logits, targets,
                                    IgnoredTarget::fromPointer(ignore_index),
                                    scale, out);
}

mp_status mp_cross_entropy_grad_f32(mp_context *ctx, int64_t rows,
                                    int64_t classes, const float *logits,
                                    const int64_t *targets,
                                    const int64_t *ignore_index,
                                    const float *grad, double scale,
                                    float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_cross_entropy_grad_f32", rows) ||
      checkCount(ctx, "mp_cross_entropy_grad_f32", classes))
    return MP_ERROR;
  return ctx->backend->crossEntropyGrad(
      rows, classes, logits, targets, IgnoredTarget::fromPointer(ignore_index),
      grad, scale, out);
}

mp_status mp_clip_coefficient_f32(mp_context *ctx, const float *squared_norm,
                                  double max_norm, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  return ctx->backend->clipCoefficient(squared_norm, max_norm, out);
}

mp_status mp_fill_f32(mp_context *ctx, int64_t n, float value, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_fill_f32", n))
    return MP_ERROR;
  return ctx->backend->fill(n, value, out);
}

mp_status mp_sgd_f32(mp_context *ctx, int64_t n, float *param,
                     const float *grad, float *momentum_buffer, double lr,
                     double momentum, double dampening, double weight_decay,
                     int nesterov, const float *grad_scale) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_sgd_f32", n))
    return MP_ERROR;
  return ctx->backend->sgd(n, param, grad, momentum_buffer, lr, momentum,
                           dampening, weight_decay, nesterov, grad_scale);
}

mp_status mp_adamw_f32(mp_context *ctx, int64_t n, float *param,
                       const float *grad, float *exp_avg, float *exp_avg_sq,
                       double lr, double beta1, double beta2, double eps,
                       double weight_decay, const float *step,
                       const float *grad_scale) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_adamw_f32", n))
    return MP_ERROR;
  return ctx->backend->adamw(n, param, grad, exp_avg, exp_avg_sq, lr, beta1,
                             beta2, eps, weight_decay, step, grad_scale);
}

namespace {
/// The checks mp_adamw_outer_f32 and mp_sgd_outer_f32 share: the precision,
/// the sizes and the tensors (`state`: the parameter's optimizer state).
mp_status checkOuterUpdate(
    mp_context *ctx, const char *call, mp_precision precision, int64_t k,
    int64_t m, int64_t n, const float *a, const float *b, const float *param,
    std::initializer_list<std::pair<const char *, const float *>> state) {
  if (precision != MP_PRECISION_FP32 && precision != MP_PRECISION_TF32 &&
      precision != MP_PRECISION_BF16)
    return fail(ctx, call, "unknown precision %d", static_cast<int>(precision));
  if (checkSizes(ctx, call, {{"m", m}, {"n", n}}) ||
      checkSizes(ctx, call, {{"k", k}, {"m", m}}) ||
      checkSizes(ctx, call, {{"k", k}, {"n", n}}) ||
      checkBuffers(ctx, call, {{"a", a, k * m}, {"b", b, k * n}}) ||
      checkBuffers(ctx, call, {{"param", param, m * n}}))
    return MP_ERROR;
  for (auto [name, tensor] : state)
    if (checkBuffers(ctx, call, {{name, tensor, m * n}}))
      return MP_ERROR;
  return MP_OK;
}
} // namespace

mp_status mp_adamw_outer_f32(mp_context *ctx, mp_precision precision, int64_t k,
                             int64_t m, int64_t n, float alpha, const float *a,
                             const float *b, float *param, float *exp_avg,
                             float *exp_avg_sq, double lr, double beta1,
                             double beta2, double eps, double weight_decay,
                             const float *step) {
  MP_RETURN_IF_FAILED(ctx);
  const char *call = "mp_adamw_outer_f32";
  if (checkOuterUpdate(ctx, call, precision, k, m, n, a, b, param,
                       {{"exp_avg", exp_avg}, {"exp_avg_sq", exp_avg_sq}}) ||
      checkBuffers(ctx, call, {{"step", step, 1}}))
    return MP_ERROR;
  return ctx->backend->adamwOuter(precision == MP_PRECISION_BF16, k, m, n,
                                  alpha, a, b, param, exp_avg, exp_avg_sq, lr,
                                  beta1, beta2, eps, weight_decay, step);
}

mp_status mp_sgd_outer_f32(mp_context *ctx, mp_precision precision, int64_t k,
                           int64_t m, int64_t n, float alpha, const float *a,
                           const float *b, float *param, float *momentum_buffer,
                           double lr, double momentum, double dampening,
                           double weight_decay, int nesterov) {
  MP_RETURN_IF_FAILED(ctx);
  // A null momentum_buffer is SGD without momentum.
  if (checkOuterUpdate(ctx, "mp_sgd_outer_f32", precision, k, m, n, a, b, param,
                       {}))
    return MP_ERROR;
  return ctx->backend->sgdOuter(precision == MP_PRECISION_BF16, k, m, n, alpha,
                                a, b, param, momentum_buffer, lr, momentum,
                                dampening, weight_decay, nesterov != 0);
}

} // extern "C"

namespace {
/// One tensor of a multi-tensor update: its elements in each of its arrays
/// (null where an array is optional and absent).
struct TensorListArray {
  const char *name;
  const void *const *tensors;
};

/// Validates a multi-tensor update: `count` tensors of sizes[i] elements,
/// whose bytes fit int64, in every array given, and all their elements
/// together fit int64 (the CUDA kernels index one range over them).
mp_status checkTensorList(mp_context *ctx, const char *call, int count,
                          const int64_t *sizes,
                          std::initializer_list<TensorListArray> arrays) {
  if (count < 0 || (count > 0 && !sizes))
    return fail(ctx, call, "needs %d tensors and their sizes", count);
  for (const TensorListArray &array : arrays)
    if (count > 0 && !array.tensors)
      return fail(ctx, call, "needs the %s of %d tensors", array.name, count);
  int64_t total = 0;
  for (int i = 0; i < count; ++i) {
    if (checkSizes(ctx, call, {{"size", sizes[i]}}, sizeof(float)))
      return MP_ERROR;
    for (const TensorListArray &array : arrays)
      if (checkBuffers(ctx, call, {{array.name, array.tensors[i], sizes[i]}}))
        return MP_ERROR;
    if (__builtin_add_overflow(total, sizes[i], &total))
      return fail(ctx, call, "the tensors' sizes overflow int64");
  }
  return MP_OK;
}

template <typename T> const void *const *untyped(T *const *tensors) {
  return reinterpret_cast<const void *const *>(tensors);
}
} // namespace

extern "C" {

mp_status mp_adamw_multi_f32(mp_context *ctx, int count, float *const *params,
                             const float *const *grads, float *const *exp_avgs,
                             float *const *exp_avg_sqs, const int64_t *sizes,
                             double lr, double beta1, double beta2, double eps,
                             double weight_decay, const float *step,
                             const float *grad_scale) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkTensorList(ctx, "mp_adamw_multi_f32", count, sizes,
                      {{"param", untyped(params)},
                       {"grad", untyped(grads)},
                       {"exp_avg", untyped(exp_avgs)},
                       {"exp_avg_sq", untyped(exp_avg_sqs)}}))
    return MP_ERROR;
  return ctx->backend->adamwMulti(count, params, grads, exp_avgs, exp_avg_sqs,
                                  sizes, lr, beta1, beta2, eps, weight_decay,
                                  step, grad_scale);
}

mp_status mp_sgd_multi_f32(mp_context *ctx, int count, float *const *params,
                           const float *const *grads,
                           float *const *momentum_buffers, const int64_t *sizes,
                           double lr, double momentum, double dampening,
                           double weight_decay, int nesterov,
                           const float *grad_scale) {
  MP_RETURN_IF_FAILED(ctx);
  const char *call = "mp_sgd_multi_f32";
  if (momentum_buffers
          ? checkTensorList(ctx, call, count, sizes,
                            {{"param", untyped(params)},
                             {"grad", untyped(grads)},
                             {"momentum_buffer", untyped(momentum_buffers)}})
          : checkTensorList(
                ctx, call, count, sizes,
                {{"param", untyped(params)}, {"grad", untyped(grads)}}))
    return MP_ERROR;
  return ctx->backend->sgdMulti(count, params, grads, momentum_buffers, sizes,
                                lr, momentum, dampening, weight_decay, nesterov,
                                grad_scale);
}

mp_status mp_rms_norm_f32(mp_context *ctx, int64_t rows, int64_t dim,
                          double eps, mp_dtype x_type, const void *x,
                          const float *weight, double weight_offset,
                          mp_dtype out_type, void *out) {
  const char *call = "mp_rms_norm_f32";
  MP_RETURN_IF_FAILED(ctx);
  TensorIn input{x_type, x};
  TensorOut output{out_type, out};
  if (checkNorm(ctx, call, rows, dim, eps, weight_offset, input, weight, false,
                nullptr, output))
    return MP_ERROR;
  if (rows == 0 || dim == 0)
    return MP_OK;
  return ctx->backend->rmsNorm(rows, dim, eps, input, weight, weight_offset,
                               output);
}

mp_status mp_rms_norm_grad_f32(mp_context *ctx, int64_t rows, int64_t dim,
                               double eps, mp_dtype x_type, const void *x,
                               const float *weight, double weight_offset,
                               mp_dtype grad_type, const void *grad, float *dx,
                               float *dweight, void *scratch,
                               int64_t scratch_bytes) {
  const char *call = "mp_rms_norm_grad_f32";
  MP_RETURN_IF_FAILED(ctx);
  TensorIn input{x_type, x}, gradient{grad_type, grad};
  Workspace workspace;
  if (checkNormGrad(ctx, call, rows, dim, eps, weight_offset, input, weight,
                    gradient, dx, dweight, false, nullptr, scratch,
                    scratch_bytes, workspace))
    return MP_ERROR;
  // With no rows, dweight is still written: zeros.
  if (dim == 0)
    return MP_OK;
  return ctx->backend->rmsNormGrad(rows, dim, eps, input, weight, weight_offset,
                                   gradient, dx, dweight, workspace);
}

mp_status mp_layer_norm_f32(mp_context *ctx, int64_t rows, int64_t dim,
                            double eps, mp_dtype x_type, const void *x,
                            const float *weight, const float *bias,
                            mp_dtype out_type, void *out) {
  const char *call = "mp_layer_norm_f32";
  MP_RETURN_IF_FAILED(ctx);
  TensorIn input{x_type, x};
  TensorOut output{out_type, out};
  if (checkNorm(ctx, call, rows, dim, eps, 0, input, weight, true, bias,
                output))
    return MP_ERROR;
  if (rows == 0 || dim == 0)
    return MP_OK;
  return ctx->backend->layerNorm(rows, dim, eps, input, weight, bias, output);
}

mp_status mp_layer_norm_grad_f32(mp_context *ctx, int64_t rows, int64_t dim,
                                 double eps, mp_dtype x_type, const void *x,
                                 const float *weight, mp_dtype grad_type,
                                 const void *grad, float *dx, float *dweight,
                                 float *dbias, void *scratch,
                                 int64_t scratch_bytes) {
  const char *call = "mp_layer_norm_grad_f32";
  MP_RETURN_IF_FAILED(ctx);
  TensorIn input{x_type, x}, gradient{grad_type, grad};
  Workspace workspace;
  if (checkNormGrad(ctx, call, rows, dim, eps, 0, input, weight, gradient, dx,
                    dweight, true, dbias, scratch, scratch_bytes, workspace))
    return MP_ERROR;
  if (dim == 0)
    return MP_OK;
  return ctx->backend->layerNormGrad(rows, dim, eps, input, weight, gradient,
                                     dx, dweight, dbias, workspace);
}

mp_status mp_softmax_f32(mp_context *ctx, int64_t batch, int64_t sq, int64_t sk,
                         int causal, int64_t window, const float *x,
                         float *out) {
  const char *call = "mp_softmax_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"batch", batch}, {"sq", sq}, {"sk", sk}}) ||
      checkBuffers(
          ctx, call,
          {{"x", x, batch * sq * sk}, {"out", out, batch * sq * sk}}) ||
      checkWindow(ctx, call, causal != 0, window))
    return MP_ERROR;
  if (batch * sq * sk == 0)
    return MP_OK;
  return ctx->backend->softmax(batch, sq, sk, causal != 0, window, x, out,
                               nullptr, 0);
}

mp_status mp_softmax_grad_f32(mp_context *ctx, int64_t rows, int64_t cols,
                              const float *y, const float *grad, float *dx) {
  const char *call = "mp_softmax_grad_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"rows", rows}, {"cols", cols}}) ||
      checkBuffers(ctx, call,
                   {{"y", y, rows * cols},
                    {"grad", grad, rows * cols},
                    {"dx", dx, rows * cols}}))
    return MP_ERROR;
  if (rows == 0 || cols == 0)
    return MP_OK;
  return ctx->backend->softmaxGrad(rows, cols, y, grad, dx);
}

mp_status mp_rope_f32(mp_context *ctx, int64_t outer, int64_t seq,
                      int64_t heads, int64_t head_dim, int64_t rotary_dims,
                      double theta, const mp_rope_scaling *llama3_scaling,
                      double linear_scaling, const double *longrope_factors,
                      double attention_factor, int inverse, mp_dtype x_type,
                      const void *x, mp_dtype out_type, void *out) {
  const char *call = "mp_rope_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call,
                 {{"outer", outer},
                  {"seq", seq},
                  {"heads", heads},
                  {"head_dim", head_dim}}))
    return MP_ERROR;
  if (head_dim % 2 != 0)
    return fail(ctx, call, "head_dim %lld is odd",
                static_cast<long long>(head_dim));
  if (!(theta > 0))
    return fail(ctx, call, "theta must be positive, got %g", theta);
  if (const char *problem =
          mp_rope_rotation_problem(head_dim, rotary_dims, linear_scaling,
                                   longrope_factors, attention_factor))
    return fail(ctx, call,
                "%s (rotary_dims %lld of head_dim %lld, "
                "linear_scaling %g, attention_factor %g)",
                problem, static_cast<long long>(rotary_dims),
                static_cast<long long>(head_dim), linear_scaling,
                attention_factor);
  RopeFrequencies frequencies{theta, rotary_dims};
  if (llama3_scaling) {
    frequencies.scaling = *llama3_scaling;
    if (const char *problem = mp_rope_scaling_problem(llama3_scaling))
      return fail(ctx, call, "llama3_scaling: %s", problem);
  }
  frequencies.linearScaling = linear_scaling;
  frequencies.attentionFactor = attention_factor;
  if (longrope_factors) {
    frequencies.hasLongropeFactors = true;
    std::copy(longrope_factors, longrope_factors + rotary_dims / 2,
              frequencies.longropeFactors);
  }
  int64_t count = outer * seq * heads * head_dim;
  TensorIn input{x_type, x};
  TensorOut output{out_type, out};
  if (checkElementwiseTensors(ctx, call, {input}, {output}) ||
      checkBuffers(ctx, call, {{"x", x, count}, {"out", out, count}}))
    return MP_ERROR;
  if (count == 0)
    return MP_OK;
  return ctx->backend->rope(outer, seq, heads, head_dim, frequencies,
                            inverse != 0, input, output);
}

mp_status mp_embedding_f32(mp_context *ctx, int64_t n, int64_t vocab,
                           int64_t dim, const int64_t *ids, const float *table,
                           float *out) {
  const char *call = "mp_embedding_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkEmbeddingSizes(ctx, call, n, vocab, dim) ||
      checkBuffers(ctx, call,
                   {{"ids", ids, n},
                    {"table", table, vocab * dim},
                    {"out", out, n * dim}}))
    return MP_ERROR;
  if (n == 0)
    return MP_OK;
  return ctx->backend->embedding(n, vocab, dim, ids, table, out);
}

mp_status mp_embedding_grad_f32(mp_context *ctx, int64_t n, int64_t vocab,
                                int64_t dim, const int64_t *ids,
                                const float *grad, float *out) {
  const char *call = "mp_embedding_grad_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkEmbeddingSizes(ctx, call, n, vocab, dim) ||
      checkBuffers(ctx, call,
                   {{"ids", ids, n},
                    {"grad", grad, n * dim},
                    {"out", out, vocab * dim}}))
    return MP_ERROR;
  // With no ids the table's gradient is still written: zeros.
  if (vocab * dim == 0 && n == 0)
    return MP_OK;
  return ctx->backend->embeddingGrad(n, vocab, dim, ids, grad, out);
}

mp_status mp_iota_i64(mp_context *ctx, int64_t outer, int64_t extent,
                      int64_t inner, int64_t start, int64_t *out) {
  const char *call = "mp_iota_i64";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call,
                 {{"outer", outer}, {"extent", extent}, {"inner", inner}},
                 sizeof(int64_t)))
    return MP_ERROR;
  // Negative ids mean "another rank's row" to the embedding.
  if (start < 0 || (extent > 0 && start > INT64_MAX - (extent - 1)))
    return fail(ctx, call,
                "start %lld is negative, or its last entry (extent %lld) "
                "overflows int64",
                static_cast<long long>(start), static_cast<long long>(extent));
  int64_t n = outer * extent * inner; // checkSizes bounds the product.
  if (checkBuffers(ctx, call, {{"out", out, n}}))
    return MP_ERROR;
  if (n == 0)
    return MP_OK;
  return ctx->backend->iota(outer, extent, inner, start, out);
}

mp_status mp_mask_bias_f32(mp_context *ctx, int64_t n, const int64_t *mask,
                           double fill, float *out) {
  const char *call = "mp_mask_bias_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"n", n}}, sizeof(int64_t)) ||
      checkBuffers(ctx, call, {{"mask", mask, n}, {"out", out, n}}))
    return MP_ERROR;
  if (n == 0)
    return MP_OK;
  return ctx->backend->maskBias(n, mask, static_cast<float>(fill), out);
}

mp_status mp_alibi_slopes_f32(mp_context *ctx, int64_t heads, double max_bias,
                              float *out) {
  const char *call = "mp_alibi_slopes_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"heads", heads}}) ||
      checkBuffers(ctx, call, {{"out", out, heads}}))
    return MP_ERROR;
  if (!(max_bias > 0) || !std::isfinite(max_bias))
    return fail(ctx, call, "max_bias must be positive and finite, got %g",
                max_bias);
  if (heads == 0)
    return MP_OK;
  return ctx->backend->alibiSlopes(heads, max_bias, out);
}

mp_status mp_alibi_f32(mp_context *ctx, int64_t outer, int64_t heads,
                       int64_t queries, int64_t keys, int32_t bf16_bias,
                       const float *scores, const float *slopes, float *out) {
  const char *call = "mp_alibi_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call,
                 {{"outer", outer},
                  {"heads", heads},
                  {"queries", queries},
                  {"keys", keys}}))
    return MP_ERROR;
  int64_t n = outer * heads * queries * keys; // checkSizes bounds it.
  if (checkBuffers(ctx, call,
                   {{"scores", scores, n},
                    {"slopes", slopes, n == 0 ? 0 : heads},
                    {"out", out, n}}))
    return MP_ERROR;
  if (n == 0)
    return MP_OK;
  return ctx->backend->alibi(outer, heads, queries, keys, 0, bf16_bias != 0,
                             scores, slopes, out);
}

mp_status mp_target_mask_f32(mp_context *ctx, int64_t n, const int64_t *targets,
                             int64_t ignore_index, float *out) {
  const char *call = "mp_target_mask_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"n", n}}, sizeof(int64_t)) ||
      checkBuffers(ctx, call, {{"targets", targets, n}, {"out", out, n}}))
    return MP_ERROR;
  if (n == 0)
    return MP_OK;
  return ctx->backend->targetMask(n, targets, ignore_index, out);
}

mp_status mp_block_max_f32(mp_context *ctx, int64_t rows, int64_t cols,
                           int64_t blocks, const float *x, float *out) {
  const char *call = "mp_block_max_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"rows", rows}, {"cols", cols}}) ||
      checkSizes(ctx, call, {{"rows", rows}, {"blocks", blocks}}))
    return MP_ERROR;
  if (blocks < 1)
    return fail(ctx, call, "blocks must be 1 or more, got %lld",
                static_cast<long long>(blocks));
  if (cols % blocks != 0)
    return fail(ctx, call, "cols %lld do not split into %lld equal blocks",
                static_cast<long long>(cols), static_cast<long long>(blocks));
  if (checkBuffers(ctx, call,
                   {{"x", x, rows * cols}, {"out", out, rows * blocks}}))
    return MP_ERROR;
  if (overlaps(x, rows * cols * int64_t(sizeof(float)), out,
               rows * blocks * int64_t(sizeof(float))))
    return fail(ctx, call, "out overlaps x");
  if (rows == 0)
    return MP_OK;
  return ctx->backend->blockMax(rows, cols, blocks, x, out);
}

mp_status mp_gather_last_f32(mp_context *ctx, int64_t rows, int64_t cols,
                             const float *x, const int64_t *index, float *out) {
  const char *call = "mp_gather_last_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"rows", rows}, {"cols", cols}}) ||
      checkSizes(ctx, call, {{"rows", rows}}, sizeof(int64_t)) ||
      checkBuffers(
          ctx, call,
          {{"x", x, rows * cols}, {"index", index, rows}, {"out", out, rows}}))
    return MP_ERROR;
  int64_t outBytes = rows * int64_t(sizeof(float));
  if (overlaps(out, outBytes, x, rows * cols * int64_t(sizeof(float))))
    return fail(ctx, call, "out overlaps x");
  if (overlaps(out, outBytes, index, rows * int64_t(sizeof(int64_t))))
    return fail(ctx, call, "out overlaps index");
  // With no columns every index must still be negative.
  if (rows == 0)
    return MP_OK;
  return ctx->backend->gatherLast(rows, cols, x, index, out);
}

mp_status mp_scatter_last_f32(mp_context *ctx, int64_t rows, int64_t cols,
                              const int64_t *index, const float *grad,
                              float *out) {
  const char *call = "mp_scatter_last_f32";
  MP_RETURN_IF_FAILED(ctx);
  if (checkSizes(ctx, call, {{"rows", rows}, {"cols", cols}}) ||
      checkSizes(ctx, call, {{"rows", rows}}, sizeof(int64_t)) ||
      checkBuffers(ctx, call,
                   {{"index", index, rows},
                    {"grad", grad, rows},
                    {"out", out, rows * cols}}))
    return MP_ERROR;
  int64_t outBytes = rows * cols * int64_t(sizeof(float));
  if (overlaps(out, outBytes, index, rows * int64_t(sizeof(int64_t))))
    return fail(ctx, call, "out overlaps index");
  if (overlaps(out, outBytes, grad, rows * int64_t(sizeof(float))))
    return fail(ctx, call, "out overlaps grad");
  // With no columns every index must still be negative.
  if (rows == 0)
    return MP_OK;
  return ctx->backend->scatterLast(rows, cols, index, grad, out);
}

} // extern "C"
