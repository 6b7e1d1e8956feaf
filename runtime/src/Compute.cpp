//===- Compute.cpp - the compute calls: validate, then dispatch -----------===//

#include "Context.h"

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
    return true;
  }
  return false;
}

} // namespace

extern "C" {

mp_status mp_gemm_f32(mp_context *ctx, int trans_a, int trans_b, int64_t m,
                      int64_t n, int64_t k, float alpha, const float *a,
                      const float *b, float beta, float *c) {
  return mp_gemm_batched_f32(ctx, trans_a, trans_b, 1, m, n, k, alpha, a, 0, b,
                             0, beta, c, 0);
}

mp_status mp_gemm_batched_f32(mp_context *ctx, int trans_a, int trans_b,
                              int64_t batch, int64_t m, int64_t n, int64_t k,
                              float alpha, const float *a, int64_t stride_a,
                              const float *b, int64_t stride_b, float beta,
                              float *c, int64_t stride_c) {
  MP_RETURN_IF_FAILED(ctx);
  if (batch < 0 || m < 0 || n < 0 || k < 0)
    return fail(ctx, "mp_gemm_f32", "negative dims %lld x %lld x %lld x %lld",
                static_cast<long long>(batch), static_cast<long long>(m),
                static_cast<long long>(n), static_cast<long long>(k));
  if (batch == 0 || m == 0 || n == 0)
    return MP_OK;
  return ctx->backend->gemm(trans_a, trans_b, batch, m, n, k, alpha, a,
                            stride_a, b, stride_b, beta, c, stride_c);
}

mp_status mp_unary_f32(mp_context *ctx, mp_unary_op op, int64_t n,
                       const float *in, float *out, double scalar) {
  MP_RETURN_IF_FAILED(ctx);
  if (!isUnaryOp(op))
    return fail(ctx, "mp_unary_f32", "unknown op %d", static_cast<int>(op));
  if (checkCount(ctx, "mp_unary_f32", n))
    return MP_ERROR;
  return ctx->backend->unary(op, n, in, out, scalar);
}

mp_status mp_binary_f32(mp_context *ctx, mp_binary_op op, int64_t n,
                        const float *a, const float *b, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (!isBinaryOp(op))
    return fail(ctx, "mp_binary_f32", "unknown op %d", static_cast<int>(op));
  if (checkCount(ctx, "mp_binary_f32", n))
    return MP_ERROR;
  return ctx->backend->binary(op, n, a, b, out);
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
                           const int *perm, const float *in, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkRank(ctx, "mp_transpose_f32", rank))
    return MP_ERROR;
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
  return ctx->backend->transpose(rank, in_shape, perm, in, out);
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
                               double scale, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_cross_entropy_f32", rows) ||
      checkCount(ctx, "mp_cross_entropy_f32", classes))
    return MP_ERROR;
  return ctx->backend->crossEntropy(rows, classes, logits, targets, scale, out);
}

mp_status mp_cross_entropy_grad_f32(mp_context *ctx, int64_t rows,
                                    int64_t classes, const float *logits,
                                    const int64_t *targets, const float *grad,
                                    double scale, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_cross_entropy_grad_f32", rows) ||
      checkCount(ctx, "mp_cross_entropy_grad_f32", classes))
    return MP_ERROR;
  return ctx->backend->crossEntropyGrad(rows, classes, logits, targets, grad,
                                        scale, out);
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
                     int nesterov) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_sgd_f32", n))
    return MP_ERROR;
  return ctx->backend->sgd(n, param, grad, momentum_buffer, lr, momentum,
                           dampening, weight_decay, nesterov);
}

mp_status mp_adamw_f32(mp_context *ctx, int64_t n, float *param,
                       const float *grad, float *exp_avg, float *exp_avg_sq,
                       double lr, double beta1, double beta2, double eps,
                       double weight_decay, const float *step) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkCount(ctx, "mp_adamw_f32", n))
    return MP_ERROR;
  return ctx->backend->adamw(n, param, grad, exp_avg, exp_avg_sq, lr, beta1,
                             beta2, eps, weight_decay, step);
}

} // extern "C"
