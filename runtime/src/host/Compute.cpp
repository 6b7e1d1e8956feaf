//===- Compute.cpp - GEMM and optimizer updates on the host ---------------===//

#include "HostBackend.h"

#include "VectorClones.h"

#include "../Elementwise.h"

#include <cblas.h>

namespace mp::runtime {

namespace {

/// Columns [j, j + Lanes) of row i of an outer update's parameter
/// (mp_adamw_outer_f32, mp_sgd_outer_f32): each column's gradient alpha ·
/// aᵀ · b (a [k, m], b [k, n]) summed as outerProductElement sums it (fused
/// multiply-adds in row order from 0 of the operands it reads, then scaled
/// as it scales), the Lanes sums side by side in registers, then
/// update(element, gradient) for each. Inlined into each copy of
/// outerUpdateColumns.
template <bool BF16, int64_t Lanes, typename Update>
[[gnu::always_inline]] inline void
outerUpdateLanes(int64_t k, int64_t m, int64_t n, const float *a,
                 const float *b, int64_t i, int64_t j, float alpha,
                 const Update &update) {
  float grad[Lanes] = {};
  for (int64_t r = 0; r < k; ++r) {
    float x = getOuterProductOperand(a[r * m + i], BF16);
    const float *row = b + r * n + j;
#pragma omp simd
    for (int64_t l = 0; l < Lanes; ++l)
      grad[l] = ::fmaf(x, getOuterProductOperand(row[l], BF16), grad[l]);
  }
  // Without the pragma GCC left SGD's lanes scalar (1.15 ms per update of
  // the batch-8 FFN step against AdamW's 0.5).
#pragma omp simd
  for (int64_t l = 0; l < Lanes; ++l)
    update(i * n + j + l, scaleOuterProduct(grad[l], alpha));
}

/// Columns [j, j + count) of row i of an outer update's parameter, 16 at a
/// time. Compiled for AVX2 and AVX-512 too: without FMA, fmaf is a library
/// call (the batch-8 FFN step's three AdamW updates took 20 ms each).
/// `update` comes by value, its constants with it: through a reference they
/// could alias the floats it stores, and would be loaded again after each.
template <bool BF16, typename Update>
MP_VECTOR_CLONES void outerUpdateColumns(int64_t k, int64_t m, int64_t n,
                                         const float *a, const float *b,
                                         int64_t i, int64_t j, int64_t count,
                                         float alpha, Update update) {
  constexpr int64_t kLanes = 16;
  int64_t c = 0;
  for (; c + kLanes <= count; c += kLanes)
    outerUpdateLanes<BF16, kLanes>(k, m, n, a, b, i, j + c, alpha, update);
  for (; c < count; ++c)
    outerUpdateLanes<BF16, 1>(k, m, n, a, b, i, j + c, alpha, update);
}

/// The AdamW element update of mp_adamw_f32 and mp_adamw_outer_f32 (the
/// gradient times the step's scale).
struct AdamWElement {
  AdamWStep step;
  float *param, *expAvg, *expAvgSq;
  void operator()(int64_t e, float grad) const {
    step.apply(param[e], grad, expAvg[e], expAvgSq[e]);
  }
};

/// The SGD element update of mp_sgd_f32 and mp_sgd_outer_f32 (the gradient
/// times gradScale), with a momentum buffer or without: a choice made once
/// per call, not per element (a null test per element kept the loops from
/// vectorizing).
template <bool Momentum> struct SgdElement {
  float *param, *momentumBuffer;
  double lr, momentum, dampening, weightDecay;
  bool nesterov;
  float gradScale;
  void operator()(int64_t e, float grad) const {
    float *buffer = nullptr;
    if constexpr (Momentum) {
      if (!momentumBuffer)
        __builtin_unreachable();
      buffer = momentumBuffer + e;
    }
    sgdUpdate(param[e], scaleGradient(grad, gradScale), buffer, lr, momentum,
              dampening, weightDecay, nesterov);
  }
};

/// run(element) with the SGD element update for `momentumBuffer` (null:
/// none).
template <typename Run>
void withSgdElement(float *param, float *momentumBuffer, double lr,
                    double momentum, double dampening, double weightDecay,
                    bool nesterov, float gradScale, Run run) {
  if (momentumBuffer)
    run(SgdElement<true>{param, momentumBuffer, lr, momentum, dampening,
                         weightDecay, nesterov, gradScale});
  else
    run(SgdElement<false>{param, nullptr, lr, momentum, dampening, weightDecay,
                          nesterov, gradScale});
}

/// Elements [begin, end) of an update (AdamWElement, SgdElement) reading
/// its gradient from `grad`; `update` by value, as outerUpdateColumns
/// takes it.
template <typename Element>
MP_VECTOR_CLONES void updateRange(int64_t begin, int64_t end, const float *grad,
                                  Element update) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i)
    update(i, grad[i]);
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
  // OpenBLAS runs a product of a few rows on one thread (8x1024x1024: 0.37
  // ms on the 2-core AMD EPYC VMs, on one thread or two) and reads B at a
  // fifth of the copy rate; in blocks of 256 columns spread over the
  // threads it takes 0.19 ms. The blocks are fixed, not one per thread:
  // OpenBLAS's order of summation depends on the columns a call computes,
  // so C's bits depend on the shapes alone, not on the threads.
  constexpr int64_t kFewRows = 8, kColumnBlock = 256;
  int64_t blockColumns = m <= kFewRows ? std::min(n, kColumnBlock) : n;
  int64_t blocks = blockColumns > 0 ? (n + blockColumns - 1) / blockColumns : 0;
  auto multiplyBlock = [&](int64_t i, int64_t block) {
    int64_t first = block * blockColumns;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, m,
                std::min(blockColumns, n - first), k, alpha, a + i * strideA,
                transA ? m : k, b + i * strideB + (transB ? first * k : first),
                transB ? k : n, beta, c + i * strideC + first, n);
  };
  auto multiply = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      for (int64_t block = 0; block < blocks; ++block)
        multiplyBlock(i, block);
  };
  // A batch of at least a product per thread runs whole products on each
  // thread (OpenBLAS runs one on one thread inside a parallel region):
  // attention's products are small, and splitting each among the threads
  // cost their wake-up and join per call. Fewer products of a few rows
  // spread their blocks.
  if (batch >= threads)
    parallelRows(batch, m * n, multiply);
  else if (blocks > 1)
    parallelRows(blocks, blockColumns * k, [&](int64_t begin, int64_t end) {
      for (int64_t i = 0; i < batch; ++i)
        for (int64_t block = begin; block < end; ++block)
          multiplyBlock(i, block);
    });
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
  withSgdElement(param, momentumBuffer, lr, momentum, dampening, weightDecay,
                 nesterov, gradScale ? *gradScale : 1.0f, [&](auto element) {
                   parallelFor(n, [&](int64_t begin, int64_t end) {
                     updateRange(begin, end, grad, element);
                   });
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
    updateRange(begin, end, grad,
                AdamWElement{update, param, expAvg, expAvgSq});
  });
  return MP_OK;
}

template <typename Update>
void HostBackend::outerUpdate(bool bf16, int64_t k, int64_t m, int64_t n,
                              float alpha, const float *a, const float *b,
                              Update update) const {
  // Blocks of a row's columns, to spread a few rows over the threads.
  constexpr int64_t kColumns = 256;
  int64_t blocksPerRow = (n + kColumns - 1) / kColumns;
  parallelRows(m * blocksPerRow, kColumns, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      int64_t i = block / blocksPerRow, j = block % blocksPerRow * kColumns;
      int64_t count = std::min(kColumns, n - j);
      (bf16 ? outerUpdateColumns<true, Update>
            : outerUpdateColumns<false, Update>)(k, m, n, a, b, i, j, count,
                                                 alpha, update);
    }
  });
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
  outerUpdate(
      bf16, k, m, n, alpha, a, b,
      AdamWElement{AdamWStep(lr, beta1, beta2, eps, weightDecay, step, 1.0f),
                   param, expAvg, expAvgSq});
  return MP_OK;
}

mp_status HostBackend::sgdOuter(bool bf16, int64_t k, int64_t m, int64_t n,
                                float alpha, const float *a, const float *b,
                                float *param, float *momentumBuffer, double lr,
                                double momentum, double dampening,
                                double weightDecay, bool nesterov) {
  withSgdElement(param, momentumBuffer, lr, momentum, dampening, weightDecay,
                 nesterov, 1.0f, [&](auto element) {
                   outerUpdate(bf16, k, m, n, alpha, a, b, element);
                 });
  return MP_OK;
}

} // namespace mp::runtime
