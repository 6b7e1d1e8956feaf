//===- Attention.cpp - attention in chunks of query rows ------------------===//
//
// mp_attention_f32 and its gradient, on any backend, from the backend's
// batched GEMM, softmax and softmax gradient: each chunk of query rows
// computes its scores in a scratch buffer the compiler planned, so no
// [batch, sq, sk] tensor is ever whole, and under a causal mask a chunk
// computes no score past its last row. The kernels are those of the
// unfused ops, so the chunked step computes the unfused step's values,
// except for the order in which the chunks add into the key gradients.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Transformer.h"

#include <algorithm>
#include <cmath>

using namespace mp::runtime;

namespace {

/// The sizes an attention call takes, checked once.
struct AttentionShape {
  int64_t batch, sq, sk, headDim, valueDim, chunk;
  bool causal;

  /// The rows of the chunk from row `first`.
  int64_t rowsFrom(int64_t first) const { return std::min(chunk, sq - first); }
  /// The keys the chunk of `rows` rows from row `first` sees: those of its
  /// last row under `causal`.
  int64_t keysSeen(int64_t first, int64_t rows) const {
    return causal ? getCausalLength(first + rows - 1, sq, sk) : sk;
  }
  /// Floats of one chunk's scores.
  int64_t scoreFloats() const { return batch * std::min(chunk, sq) * sk; }
};

mp_status checkAttention(mp_context *ctx, const char *call,
                         mp_precision precision, const AttentionShape &s,
                         float scale) {
  if (precision != MP_PRECISION_FP32 && precision != MP_PRECISION_TF32 &&
      precision != MP_PRECISION_BF16)
    return fail(ctx, call, "unknown precision %d", static_cast<int>(precision));
  if (s.chunk < 1)
    return fail(ctx, call, "chunk must be positive, got %lld",
                static_cast<long long>(s.chunk));
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

/// The chunk's probabilities softmax(scale · q · kᵀ), `rows` x `keys` per
/// batch entry, into `p`.
mp_status computeProbabilities(Backend &backend, mp_precision precision,
                               const AttentionShape &s, float scale,
                               int64_t first, int64_t rows, int64_t keys,
                               const float *q, const float *k, float *p) {
  if (backend.gemm(precision, MP_DTYPE_F32, MP_DTYPE_F32, false, true, s.batch,
                   rows, keys, s.headDim, scale, q + first * s.headDim,
                   s.sq * s.headDim, k, s.sk * s.headDim, 0, p, rows * keys))
    return MP_ERROR;
  // The chunk's last row sees all `keys`: the mask of a [rows, keys]
  // softmax is the chunk's rows' of the whole one. In place: each row is
  // read before it is written.
  return backend.softmax(s.batch, rows, keys, s.causal, p, p);
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
                           int64_t batch, int64_t sq, int64_t sk,
                           int64_t head_dim, int64_t value_dim, float scale,
                           int causal, int64_t chunk, const float *q,
                           const float *k, const float *v, float *out,
                           float *scratch) {
  const char *call = "mp_attention_f32";
  MP_RETURN_IF_FAILED(ctx);
  AttentionShape s{batch, sq, sk, head_dim, value_dim, chunk, causal != 0};
  if (checkAttention(ctx, call, precision, s, scale) ||
      checkBuffers(ctx, call,
                   {{"q", q, batch * sq * head_dim},
                    {"k", k, batch * sk * head_dim},
                    {"v", v, batch * sk * value_dim},
                    {"out", out, batch * sq * value_dim},
                    {"scratch", scratch, s.scoreFloats()}}))
    return MP_ERROR;
  if (batch * sq == 0)
    return MP_OK;
  Backend &backend = *ctx->backend;
  for (int64_t first = 0; first < sq; first += chunk) {
    int64_t rows = s.rowsFrom(first), keys = s.keysSeen(first, rows);
    if (keys == 0) {
      if (zeroRows(backend, s, out, first, rows, value_dim))
        return MP_ERROR;
      continue;
    }
    if (computeProbabilities(backend, precision, s, scale, first, rows, keys, q,
                             k, scratch) ||
        backend.gemm(precision, MP_DTYPE_F32, MP_DTYPE_F32, false, false, batch,
                     rows, value_dim, keys, 1, scratch, rows * keys, v,
                     sk * value_dim, 0, out + first * value_dim,
                     sq * value_dim))
      return MP_ERROR;
  }
  return MP_OK;
}

mp_status mp_attention_grad_f32(mp_context *ctx, mp_precision precision,
                                int64_t batch, int64_t sq, int64_t sk,
                                int64_t head_dim, int64_t value_dim,
                                float scale, int causal, int64_t chunk,
                                const float *q, const float *k, const float *v,
                                const float *grad, float *dq, float *dk,
                                float *dv, float *scratch) {
  const char *call = "mp_attention_grad_f32";
  MP_RETURN_IF_FAILED(ctx);
  AttentionShape s{batch, sq, sk, head_dim, value_dim, chunk, causal != 0};
  if (checkAttention(ctx, call, precision, s, scale) ||
      checkBuffers(ctx, call,
                   {{"q", q, batch * sq * head_dim},
                    {"k", k, batch * sk * head_dim},
                    {"v", v, batch * sk * value_dim},
                    {"grad", grad, batch * sq * value_dim},
                    {"dq", dq, batch * sq * head_dim},
                    {"dk", dk, batch * sk * head_dim},
                    {"dv", dv, batch * sk * value_dim},
                    {"scratch", scratch, 2 * s.scoreFloats()}}))
    return MP_ERROR;
  Backend &backend = *ctx->backend;
  // The chunks add into dk and dv.
  if (batch * sk > 0 && (backend.fill(batch * sk * head_dim, 0, dk) ||
                         backend.fill(batch * sk * value_dim, 0, dv)))
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
    if (computeProbabilities(backend, precision, s, scale, first, rows, keys, q,
                             k, p) ||
        backend.gemm(precision, MP_DTYPE_F32, MP_DTYPE_F32, false, true, batch,
                     rows, keys, value_dim, 1, gradRows, sq * value_dim, v,
                     sk * value_dim, 0, ds, rows * keys) ||
        backend.softmaxGrad(batch * rows, keys, p, ds, ds))
      return MP_ERROR;
    if (backend.gemm(precision, MP_DTYPE_F32, MP_DTYPE_F32, false, false, batch,
                     rows, head_dim, keys, scale, ds, rows * keys, k,
                     sk * head_dim, 0, dq + first * head_dim, sq * head_dim) ||
        backend.gemm(precision, MP_DTYPE_F32, MP_DTYPE_F32, true, false, batch,
                     keys, head_dim, rows, scale, ds, rows * keys, qRows,
                     sq * head_dim, 1, dk, sk * head_dim) ||
        backend.gemm(precision, MP_DTYPE_F32, MP_DTYPE_F32, true, false, batch,
                     keys, value_dim, rows, 1, p, rows * keys, gradRows,
                     sq * value_dim, 1, dv, sk * value_dim))
      return MP_ERROR;
  }
  return MP_OK;
}

} // extern "C"
