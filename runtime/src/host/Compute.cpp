//===- Compute.cpp - GEMM and optimizer updates on the host ---------------===//

#include "HostBackend.h"

#include "../Elementwise.h"

#include <cblas.h>

namespace mp::runtime {

mp_status HostBackend::gemm(bool transA, bool transB, int64_t batch, int64_t m,
                            int64_t n, int64_t k, float alpha, const float *a,
                            int64_t strideA, const float *b, int64_t strideB,
                            float beta, float *c, int64_t strideC) {
  // Row-major leading dims: of op(A) stored as A (m x k, or k x m when
  // transposed), likewise B.
  for (int64_t i = 0; i < batch; ++i)
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a + i * strideA, transA ? m : k, b + i * strideB,
                transB ? k : n, beta, c + i * strideC, n);
  return MP_OK;
}

mp_status HostBackend::sgd(int64_t n, float *param, const float *grad,
                           float *momentumBuffer, double lr, double momentum,
                           double dampening, double weightDecay,
                           bool nesterov) {
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      sgdUpdate(param[i], grad[i],
                momentumBuffer ? momentumBuffer + i : nullptr, lr, momentum,
                dampening, weightDecay, nesterov);
  });
  return MP_OK;
}

mp_status HostBackend::adamw(int64_t n, float *param, const float *grad,
                             float *expAvg, float *expAvgSq, double lr,
                             double beta1, double beta2, double eps,
                             double weightDecay, const float *stepCount) {
  double step = *stepCount;
  if (!(step >= 1))
    return fail(ctx, "mp_adamw_f32", kBadStepFormat, step);
  AdamWStep update(lr, beta1, beta2, eps, weightDecay, step);
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      update.apply(param[i], grad[i], expAvg[i], expAvgSq[i]);
  });
  return MP_OK;
}

} // namespace mp::runtime
