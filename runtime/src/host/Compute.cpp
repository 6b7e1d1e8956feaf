//===- Compute.cpp - GEMM and optimizer updates on the host ---------------===//

#include "../Context.h"

#include <cblas.h>

#include <cmath>

using namespace mp::runtime;

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
  if (m == 0 || n == 0)
    return MP_OK;
  // Row-major leading dims: of op(A) stored as A (m x k, or k x m when
  // transposed), likewise B.
  for (int64_t i = 0; i < batch; ++i)
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a + i * stride_a, trans_a ? m : k, b + i * stride_b,
                trans_b ? k : n, beta, c + i * stride_c, n);
  return MP_OK;
}

mp_status mp_adamw_f32(mp_context *ctx, int64_t n, float *param,
                       const float *grad, float *exp_avg, float *exp_avg_sq,
                       double lr, double beta1, double beta2, double eps,
                       double weight_decay, const float *step_count) {
  MP_RETURN_IF_FAILED(ctx);
  double step = *step_count;
  if (!(step >= 1))
    return fail(ctx, "mp_adamw_f32", "step must be 1 or more, got %g", step);
  // As torch.optim.AdamW (single tensor, no amsgrad).
  double biasCorrection1 = 1 - std::pow(beta1, step);
  double biasCorrection2Sqrt = std::sqrt(1 - std::pow(beta2, step));
  double stepSize = lr / biasCorrection1;
  for (int64_t i = 0; i < n; ++i) {
    float p = param[i] * static_cast<float>(1 - lr * weight_decay);
    float g = grad[i];
    exp_avg[i] = static_cast<float>(beta1) * exp_avg[i] +
                 static_cast<float>(1 - beta1) * g;
    exp_avg_sq[i] = static_cast<float>(beta2) * exp_avg_sq[i] +
                    static_cast<float>(1 - beta2) * g * g;
    float denom = static_cast<float>(
        std::sqrt(exp_avg_sq[i]) / biasCorrection2Sqrt + eps);
    param[i] = p - static_cast<float>(stepSize) * exp_avg[i] / denom;
  }
  return MP_OK;
}

} // extern "C"
