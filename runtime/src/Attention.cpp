//===- Attention.cpp - attention in chunks of query rows ------------------===//
//
// mp_attention_f32 and its gradient, on any backend, from the backend's
// batched GEMM, softmax and softmax gradient: each chunk of query rows
// computes its scores in a scratch buffer the compiler planned, so no
// [batch, sq, sk] tensor is ever whole, and under a causal mask a chunk
// computes no score past its last row. The kernels are those of the
// unfused ops, so the chunked step computes the unfused step's values,
// except for the order in which the chunks add into the key gradients; the
// softmax also writes each row's log-sum-exp, the forward pass's second
// output, which the chunked gradient does not need (it computes the
// probabilities again as the softmax does). A backend with an on-chip kernel
// for the call (CUDA in bf16 and tf32) runs that instead; its gradient
// takes the probabilities from the log-sum-exp, and keeps a float per row
// in the scratch.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Transformer.h"

#include <algorithm>
#include <cmath>

using namespace mp::runtime;

namespace {

mp_status checkAttention(mp_context *ctx, const char *call,
                         mp_precision precision, const AttentionShape &s,
                         float scale) {
  if (precision != MP_PRECISION_FP32 && precision != MP_PRECISION_TF32 &&
      precision != MP_PRECISION_BF16)
    return fail(ctx, call, "unknown precision %d", static_cast<int>(precision));
  if (s.chunk < 1)
    return fail(ctx, call, "chunk must be positive, got %lld",
                static_cast<long long>(s.chunk));
  if (s.group < 1 || s.batch % s.group != 0)
    return fail(ctx, call, "group %lld does not divide batch %lld",
                static_cast<long long>(s.group),
                static_cast<long long>(s.batch));
  if (s.headDim < 1 || s.valueDim < 1)
    return fail(ctx, call,
                "head_dim and value_dim must be positive, got %lld "
                "and %lld",
                static_cast<long long>(s.headDim),
                static_cast<long long>(s.valueDim));
  if (!std::isfinite(scale) || scale == 0)
    return fail(ctx, call, "scale must be finite and nonzero, got %g",
                double(scale));
  // Each tensor, and the gradient's two chunks of scores, fit int64 bytes.
  int64_t rows = std::min(s.chunk, s.sq);
  if (checkSizes(ctx, call,
                 {{"batch", s.batch}, {"sq", s.sq}, {"head_dim", s.headDim}}) ||
      checkSizes(
          ctx, call,
          {{"batch", s.batch}, {"sq", s.sq}, {"value_dim", s.valueDim}}) ||
      checkSizes(ctx, call,
                 {{"batch", s.batch}, {"sk", s.sk}, {"head_dim", s.headDim}}) ||
      checkSizes(
          ctx, call,
          {{"batch", s.batch}, {"sk", s.sk}, {"value_dim", s.valueDim}}) ||
      checkSizes(ctx, call,
                 {{"batch", s.batch}, {"rows", rows}, {"sk", s.sk}, {"2", 2}}))
    return MP_ERROR;
  return MP_OK;
}

/// A GEMM operand: `data` in matrix 0, matrices of `size` elements, one
/// per query matrix, or (`perKey`) one per group of them (the keys, the
/// values and their gradients).
struct GemmOperand {
  const float *data;
  int64_t size;
  bool perKey = false;
};

/// The batched GEMM of every query matrix: as `group` calls over the key
/// matrices, call r taking query matrices r, group + r, 2·group + r, ...
/// One call when every query matrix has its own keys, or when the query
/// operands are whole matrices (a chunk of every row): a group's are then
/// consecutive, one matrix of `group` times the rows (stacked along m, or
/// along k where A is transposed: the sum over the group).
mp_status groupedGemm(Backend &backend, mp_precision precision,
                      const AttentionShape &s, bool transA, bool transB,
                      int64_t m, int64_t n, int64_t k, float alpha,
                      GemmOperand a, GemmOperand b, float beta, GemmOperand c) {
  auto at = [&](const GemmOperand &x, int64_t r) {
    return x.data + (x.perKey ? 0 : r * x.size);
  };
  auto stride = [&](const GemmOperand &x) {
    return x.perKey ? x.size : s.group * x.size;
  };
  int64_t calls = s.group;
  if (s.group > 1 && !transA && !a.perKey && b.perKey && !c.perKey &&
      m * k == a.size && m * n == c.size) {
    m *= s.group;
    calls = 1;
  } else if (s.group > 1 && transA && !a.perKey && !b.perKey && c.perKey &&
             k * m == a.size && k * n == b.size) {
    k *= s.group;
    calls = 1;
  }
  for (int64_t r = 0; r < calls; ++r)
    if (backend.gemm(precision, MP_DTYPE_F32, MP_DTYPE_F32, transA, transB,
                     s.batch / s.group, m, n, k, alpha, at(a, r), stride(a),
                     at(b, r), stride(b), beta, MP_DTYPE_F32,
                     const_cast<float *>(at(c, r)), stride(c)))
      return MP_ERROR;
  return MP_OK;
}

/// The chunk's probabilities softmax(scale · q · kᵀ), `rows` x `keys` per
/// batch entry, into `p`, and with `lse` (the [batch, sq] log-sum-exp) the
/// rows' log-sum-exp.
mp_status computeProbabilities(Backend &backend, mp_precision precision,
                               const AttentionShape &s, float scale,
                               int64_t first, int64_t rows, int64_t keys,
                               const float *q, const float *k, float *p,
                               float *lse) {
  if (groupedGemm(backend, precision, s, false, true, rows, keys, s.headDim,
                  scale, {q + first * s.headDim, s.sq * s.headDim},
                  {k, s.sk * s.headDim, true}, 0, {p, rows * keys}))
    return MP_ERROR;
  // The chunk's last row sees all `keys`: the mask of a [rows, keys]
  // softmax is the chunk's rows' of the whole one. In place: each row is
  // read before it is written.
  return backend.softmax(s.batch, rows, keys, s.causal, p, p,
                         lse ? lse + first : nullptr, s.sq);
}

/// Zeros `rows` rows of `width` floats from row `first` in each of the
/// batch's [sq, width] matrices of `data`.
mp_status zeroRows(Backend &backend, const AttentionShape &s, float *data,
                   int64_t first, int64_t rows, int64_t width) {
  return backend.zero2D(data + first * width, s.sq * width * sizeof(float),
                        rows * width * sizeof(float), s.batch);
}

} // namespace

extern "C" {

mp_status mp_attention_f32(mp_context *ctx, mp_precision precision,
                           int64_t batch, int64_t group, int64_t sq, int64_t sk,
                           int64_t head_dim, int64_t value_dim, float scale,
                           int causal, int64_t chunk, const float *q,
                           const float *k, const float *v, float *out,
                           float *lse, float *scratch) {
  const char *call = "mp_attention_f32";
  MP_RETURN_IF_FAILED(ctx);
  AttentionShape s{batch,    group,     sq,    sk,
                   head_dim, value_dim, chunk, causal != 0};
  if (checkAttention(ctx, call, precision, s, scale) ||
      checkBuffers(ctx, call,
                   {{"q", q, batch * sq * head_dim},
                    {"k", k, batch / group * sk * head_dim},
                    {"v", v, batch / group * sk * value_dim},
                    {"out", out, batch * sq * value_dim},
                    {"lse", lse, batch * sq},
                    {"scratch", scratch, s.scoreFloats()}}))
    return MP_ERROR;
  if (batch * sq == 0)
    return MP_OK;
  Backend &backend = *ctx->backend;
  if (sk > 0 && backend.hasOnChipAttention(precision, s))
    return backend.onChipAttention(precision, s, scale, q, k, v, out, lse);
  for (int64_t first = 0; first < sq; first += chunk) {
    int64_t rows = s.rowsFrom(first), keys = s.keysSeen(first, rows);
    if (keys == 0) {
      // A softmax over no key writes only the rows' log-sum-exp, -inf.
      if (zeroRows(backend, s, out, first, rows, value_dim) ||
          backend.softmax(batch, rows, 0, s.causal, nullptr, nullptr,
                          lse + first, sq))
        return MP_ERROR;
      continue;
    }
    if (computeProbabilities(backend, precision, s, scale, first, rows, keys, q,
                             k, scratch, lse) ||
        groupedGemm(backend, precision, s, false, false, rows, value_dim, keys,
                    1, {scratch, rows * keys}, {v, sk * value_dim, true}, 0,
                    {out + first * value_dim, sq * value_dim}))
      return MP_ERROR;
  }
  return MP_OK;
}

mp_status mp_attention_grad_f32(mp_context *ctx, mp_precision precision,
                                int64_t batch, int64_t group, int64_t sq,
                                int64_t sk, int64_t head_dim, int64_t value_dim,
                                float scale, int causal, int64_t chunk,
                                const float *q, const float *k, const float *v,
                                const float *out, const float *lse,
                                const float *grad, float *dq, float *dk,
                                float *dv, float *scratch) {
  const char *call = "mp_attention_grad_f32";
  MP_RETURN_IF_FAILED(ctx);
  AttentionShape s{batch,    group,     sq,    sk,
                   head_dim, value_dim, chunk, causal != 0};
  if (checkAttention(ctx, call, precision, s, scale))
    return MP_ERROR;
  int64_t keyMatrices = batch / group;
  if (checkBuffers(ctx, call,
                   {{"q", q, batch * sq * head_dim},
                    {"k", k, keyMatrices * sk * head_dim},
                    {"v", v, keyMatrices * sk * value_dim},
                    {"out", out, batch * sq * value_dim},
                    {"lse", lse, batch * sq},
                    {"grad", grad, batch * sq * value_dim},
                    {"dq", dq, batch * sq * head_dim},
                    {"dk", dk, keyMatrices * sk * head_dim},
                    {"dv", dv, keyMatrices * sk * value_dim},
                    {"scratch", scratch, 2 * s.scoreFloats()}}))
    return MP_ERROR;
  Backend &backend = *ctx->backend;
  // The on-chip kernels' float per row fits where the chunks' scores would.
  if (batch * sq > 0 && sk > 0 && sq <= 2 * std::min(chunk, sq) * sk &&
      backend.hasOnChipAttention(precision, s))
    return backend.onChipAttentionGrad(precision, s, scale, q, k, v, out, lse,
                                       grad, dq, dk, dv, scratch);
  // The chunks (and a group's query matrices) add into dk and dv.
  if (keyMatrices * sk > 0 &&
      (backend.fill(keyMatrices * sk * head_dim, 0, dk) ||
       backend.fill(keyMatrices * sk * value_dim, 0, dv)))
    return MP_ERROR;
  if (batch * sq == 0)
    return MP_OK;
  float *p = scratch, *ds = scratch + s.scoreFloats();
  for (int64_t first = 0; first < sq; first += chunk) {
    int64_t rows = s.rowsFrom(first), keys = s.keysSeen(first, rows);
    if (keys == 0) {
      if (zeroRows(backend, s, dq, first, rows, head_dim))
        return MP_ERROR;
      continue;
    }
    const float *qRows = q + first * head_dim,
                *gradRows = grad + first * value_dim;
    // ds = softmax_grad(p, grad · vᵀ), in place of grad · vᵀ.
    GemmOperand pChunk{p, rows * keys}, dsChunk{ds, rows * keys},
        qChunk{qRows, sq * head_dim}, gradChunk{gradRows, sq * value_dim};
    if (computeProbabilities(backend, precision, s, scale, first, rows, keys, q,
                             k, p, nullptr) ||
        groupedGemm(backend, precision, s, false, true, rows, keys, value_dim,
                    1, gradChunk, {v, sk * value_dim, true}, 0, dsChunk) ||
        backend.softmaxGrad(batch * rows, keys, p, ds, ds))
      return MP_ERROR;
    if (groupedGemm(backend, precision, s, false, false, rows, head_dim, keys,
                    scale, dsChunk, {k, sk * head_dim, true}, 0,
                    {dq + first * head_dim, sq * head_dim}) ||
        groupedGemm(backend, precision, s, true, false, keys, head_dim, rows,
                    scale, dsChunk, qChunk, 1, {dk, sk * head_dim, true}) ||
        groupedGemm(backend, precision, s, true, false, keys, value_dim, rows,
                    1, pChunk, gradChunk, 1, {dv, sk * value_dim, true}))
      return MP_ERROR;
  }
  return MP_OK;
}

} // extern "C"
