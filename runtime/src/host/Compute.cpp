//===- Compute.cpp - GEMM and optimizer updates on the host ---------------===//

#include "HostBackend.h"

#include "../Elementwise.h"

#include <cblas.h>

namespace mp::runtime {

namespace {

/// Columns [j, j + count) of row i of the weight gradient of
/// mp_adamw_outer_f32, alpha · aᵀ · b (a [k, m], b [k, n]), into `out`:
/// each element summed as outerProductElement sums it (fused multiply-adds
/// in row order from 0 of the operands it reads, then scaled as it
/// scales), the columns side by side so that the sums vectorize. Compiled for
/// FMA too and chosen at load: without it fmaf is a library call, which took
/// the batch-8 FFN step's three updates from 0.7 to 20 ms each.
__attribute__((target_clones("fma", "default"))) void
outerProductColumns(int64_t k, int64_t m, int64_t n, const float *a,
                    const float *b, int64_t i, int64_t j, int64_t count,
                    bool bf16, float alpha, float *out) {
  for (int64_t c = 0; c < count; ++c)
    out[c] = 0;
  for (int64_t r = 0; r < k; ++r) {
    float x = getOuterProductOperand(a[r * m + i], bf16);
    const float *row = b + r * n + j;
    for (int64_t c = 0; c < count; ++c)
      out[c] = ::fmaf(x, getOuterProductOperand(row[c], bf16), out[c]);
  }
  for (int64_t c = 0; c < count; ++c)
    out[c] = scaleOuterProduct(out[c], alpha);
}

} // namespace

const float *HostBackend::bFloat16Operand(mp_dtype type, const void *in,
                                          int64_t count, float *out) const {
  parallelFor(count, [&](int64_t begin, int64_t end) {
    if (type == MP_DTYPE_BF16)
      for (int64_t i = begin; i < end; ++i)
        out[i] = fromBFloat16Bits(static_cast<const uint16_t *>(in)[i]);
    else
      for (int64_t i = begin; i < end; ++i)
        out[i] =
            fromBFloat16Bits(toBFloat16Bits(static_cast<const float *>(in)[i]));
  });
  return out;
}

mp_status HostBackend::gemm(mp_precision precision, mp_dtype aType,
                            mp_dtype bType, bool transA, bool transB,
                            int64_t batch, int64_t m, int64_t n, int64_t k,
                            float alpha, const void *aData, int64_t strideA,
                            const void *bData, int64_t strideB, float beta,
                            mp_dtype cType, void *cData, int64_t strideC,
                            Workspace &workspace) {
  // bf16: the products of bfloat16 values are exact in float32, so an
  // SGEMM of float32 copies of them is bf16 multiplication with float32
  // sums. fp32 and tf32 are both float32 here.
  const float *a = static_cast<const float *>(aData);
  const float *b = static_cast<const float *>(bData);
  HostScratch scratch(ctx, workspace);
  if (precision == MP_PRECISION_BF16) {
    int64_t aCount = strideA * (batch - 1) + m * k;
    int64_t bCount = strideB * (batch - 1) + k * n;
    a = bFloat16Operand(aType, aData, aCount, scratch.floats(aCount));
    b = bFloat16Operand(bType, bData, bCount, scratch.floats(bCount));
  }
  // A bfloat16 C (beta 0) is the float32 product rounded: computed into a
  // float32 copy, then rounded into C.
  int64_t cCount = strideC * (batch - 1) + m * n;
  float *c = static_cast<float *>(cData);
  if (cType == MP_DTYPE_BF16)
    c = scratch.floats(cCount);
  // Row-major leading dims: of op(A) stored as A (m x k, or k x m when
  // transposed), likewise B.
  auto multiply = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                  transB ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                  a + i * strideA, transA ? m : k, b + i * strideB,
                  transB ? k : n, beta, c + i * strideC, n);
  };
  // A batch of at least a product per thread runs whole products on each
  // thread (OpenBLAS runs one on one thread inside a parallel region):
  // attention's products are small, and splitting each among the threads
  // cost their wake-up and join per call.
  if (batch >= threads)
    parallelRows(batch, m * n, multiply);
  else
    multiply(0, batch);
  // Each matrix of C is rounded, not what lies between them.
  if (cType == MP_DTYPE_BF16)
    for (int64_t i = 0; i < batch; ++i)
      convert(MP_DTYPE_F32, MP_DTYPE_BF16, m * n, c + i * strideC,
              static_cast<uint16_t *>(cData) + i * strideC);
  return MP_OK;
}

mp_status HostBackend::convert(mp_dtype from, mp_dtype to, int64_t n,
                               const void *in, void *out) {
  // mp_convert has checked the pair: float32 to bfloat16 or back.
  parallelFor(n, [&](int64_t begin, int64_t end) {
    if (from == MP_DTYPE_F32 && to == MP_DTYPE_BF16)
      for (int64_t i = begin; i < end; ++i)
        static_cast<uint16_t *>(out)[i] =
            toBFloat16Bits(static_cast<const float *>(in)[i]);
    else
      for (int64_t i = begin; i < end; ++i)
        static_cast<float *>(out)[i] =
            fromBFloat16Bits(static_cast<const uint16_t *>(in)[i]);
  });
  return MP_OK;
}

mp_status HostBackend::sgd(int64_t n, float *param, const float *grad,
                           float *momentumBuffer, double lr, double momentum,
                           double dampening, double weightDecay, bool nesterov,
                           const float *gradScale) {
  float scale = gradScale ? *gradScale : 1.0f;
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      sgdUpdate(param[i], scaleGradient(grad[i], scale),
                momentumBuffer ? momentumBuffer + i : nullptr, lr, momentum,
                dampening, weightDecay, nesterov);
  });
  return MP_OK;
}

mp_status HostBackend::adamw(int64_t n, float *param, const float *grad,
                             float *expAvg, float *expAvgSq, double lr,
                             double beta1, double beta2, double eps,
                             double weightDecay, const float *stepCount,
                             const float *gradScale) {
  double step = *stepCount;
  if (!(step >= 1))
    return fail(ctx, "mp_adamw_f32", kBadStepFormat, step);
  AdamWStep update(lr, beta1, beta2, eps, weightDecay, step,
                   gradScale ? *gradScale : 1.0f);
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      update.apply(param[i], grad[i], expAvg[i], expAvgSq[i]);
  });
  return MP_OK;
}

mp_status HostBackend::adamwOuter(bool bf16, int64_t k, int64_t m, int64_t n,
                                  float alpha, const float *a, const float *b,
                                  float *param, float *expAvg, float *expAvgSq,
                                  double lr, double beta1, double beta2,
                                  double eps, double weightDecay,
                                  const float *stepCount) {
  double step = *stepCount;
  if (!(step >= 1))
    return fail(ctx, "mp_adamw_outer_f32", kBadStepFormat, step);
  AdamWStep update(lr, beta1, beta2, eps, weightDecay, step, 1.0f);
  // Blocks of a row's columns: each block's gradient computed on the stack,
  // then its update.
  constexpr int64_t kColumns = 256;
  int64_t blocksPerRow = (n + kColumns - 1) / kColumns;
  parallelRows(m * blocksPerRow, kColumns, [&](int64_t begin, int64_t end) {
    float grad[kColumns];
    for (int64_t block = begin; block < end; ++block) {
      int64_t i = block / blocksPerRow, j = block % blocksPerRow * kColumns;
      int64_t count = std::min(kColumns, n - j);
      outerProductColumns(k, m, n, a, b, i, j, count, bf16, alpha, grad);
      int64_t first = i * n + j;
      for (int64_t c = 0; c < count; ++c)
        update.apply(param[first + c], grad[c], expAvg[first + c],
                     expAvgSq[first + c]);
    }
  });
  return MP_OK;
}

} // namespace mp::runtime
