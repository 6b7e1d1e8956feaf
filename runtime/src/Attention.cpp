//===- Attention.cpp - attention in chunks of query rows ------------------===//
//
// mp_attention_f32 and its gradient, on any backend, from the backend's
// batched GEMM, softmax and softmax gradient: each chunk of query rows
// computes its scores in a scratch buffer the compiler planned (its GEMMs'
// workspace after them), so no [batch, sq, sk] tensor is ever whole, and under
// a causal mask a chunk computes no score past its last row (nor, under a
// sliding window, before its first row's window). The kernels are
// those of the unfused ops, so the chunked step computes the unfused step's
// values, except for the order in which the chunks add into the key gradients;
// the softmax also writes each row's log-sum-exp, the forward pass's second
// output, which the chunked gradient does not need (it computes the
// probabilities again as the softmax does). ALiBi's bias is added to each
// chunk's scores from the chunk's first key on. A backend with an on-chip
// kernel for the call (CUDA in bf16 and tf32) runs that instead; its
// gradient
// takes the probabilities from the log-sum-exp, and keeps a float per row
// in the scratch. Given less scratch than it needs, a call allocates it.
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
  if (!(s.softcap >= 0) || !std::isfinite(s.softcap))
    return fail(ctx, call,
                "softcap must be finite and not negative (0: none), got %g",
                double(s.softcap));
  if (checkWindow(ctx, call, s.causal, s.window))
    return MP_ERROR;
  if (s.alibiHeads < 0 || (s.alibiHeads > 0 && s.batch % s.alibiHeads != 0))
    return fail(ctx, call, "alibi_heads %lld must be 0 or divide batch %lld",
                static_cast<long long>(s.alibiHeads),
                static_cast<long long>(s.batch));
  if (s.alibiHeads > 0 && s.softcap != 0)
    return fail(ctx, call, "takes alibi slopes or a softcap, not both");
  if (s.alibiBf16 && s.alibiHeads == 0)
    return fail(ctx, call, "alibi_bf16 without alibi slopes");
  if (checkBuffers(ctx, call,
                   {{"alibi_slopes", s.alibiSlopes,
                     s.batch * s.sq == 0 ? 0 : s.alibiHeads}}))
    return MP_ERROR;
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

/// Fails `call` on a tensor that is neither float32 nor bfloat16, and on
/// a bfloat16 one outside bf16 precision (its GEMMs round their operands
/// to bfloat16 there, so one held in bfloat16 reads the same values).
mp_status checkAttentionDtypes(mp_context *ctx, const char *call,
                               mp_precision precision,
                               std::initializer_list<mp_dtype> dtypes) {
  for (mp_dtype dtype : dtypes) {
    if (checkFloatStorage(ctx, call, dtype))
      return MP_ERROR;
    if (dtype == MP_DTYPE_BF16 && precision != MP_PRECISION_BF16)
      return fail(ctx, call, "takes bfloat16 tensors in bf16 precision only");
  }
  return MP_OK;
}

/// A GEMM operand: `data` in matrix 0, matrices of `size` elements, one
/// per query matrix, or (`perKey`) one per group of them (the keys, the
/// values and their gradients).
struct GemmOperand {
  TensorIn data;
  int64_t size;
  bool perKey = false;
};

GemmOperand floats(const float *data, int64_t size, bool perKey = false) {
  return {{MP_DTYPE_F32, data}, size, perKey};
}

/// The keys a chunk of query rows sees: `keys` from key `start`, as the
/// plan counts them (mp_attention_keys_seen).
struct KeyRange {
  int64_t start, keys;

  KeyRange(const AttentionShape &s, int64_t first, int64_t rows) {
    int64_t end;
    mp_attention_keys_seen(s.sq, s.sk, s.causal, s.window, first, rows, &start,
                           &end);
    keys = end - start;
  }
};

/// The GEMMs of one attention call: over every query matrix, as
/// mp_attention_gemm_of says, each in the workspace that follows the score
/// chunks in the call's scratch.
struct AttentionGemms {
  Backend &backend;
  mp_precision precision;
  const AttentionShape &s;
  Workspace workspace;

  /// The GEMM of a chunk of `rows` rows.
  mp_status run(int64_t rows, bool transA, bool transB, int64_t m, int64_t n,
                int64_t k, float alpha, GemmOperand a, GemmOperand b,
                float beta, GemmOperand c) const {
    mp_attention_gemm gemm = mp_attention_gemm_of(
        s.batch, s.group, rows == s.sq, transA, transB, m, n, k, a.size,
        a.perKey, b.size, b.perKey, c.size, c.perKey);
    auto at = [&](const GemmOperand &x, int64_t r) {
      return offsetBy(x.data, x.perKey ? 0 : r * x.size).data;
    };
    for (int64_t r = 0; r < gemm.calls; ++r) {
      // Each call has the whole workspace: they run one after the other.
      Workspace callWorkspace = workspace;
      if (backend.gemm(precision, a.data.type, b.data.type, transA, transB,
                       gemm.batch, gemm.m, gemm.n, gemm.k, alpha, at(a, r),
                       gemm.stride_a, at(b, r), gemm.stride_b, beta,
                       c.data.type, const_cast<void *>(at(c, r)), gemm.stride_c,
                       callWorkspace))
        return MP_ERROR;
    }
    return MP_OK;
  }

  /// The chunk's probabilities softmax(capScore(scale · q · kᵀ)) (or with
  /// ALiBi's bias of the keys' positions, Falcon's on q · kᵀ before the
  /// scale) over `keys` keys from key `start`,
  /// `rows` x `keys` per batch entry, into `p`, and with `lse` (the
  /// [batch, sq] log-sum-exp) the rows' log-sum-exp.
  mp_status probabilities(float scale, int64_t first, int64_t rows,
                          const KeyRange &range, TensorIn q, TensorIn k,
                          float *p, float *lse) const {
    // Falcon's bias goes on the unscaled scores: the scale after it.
    int64_t n = s.batch * rows * range.keys;
    if (run(rows, false, true, rows, range.keys, s.headDim,
            s.alibiBf16 ? 1 : scale,
            {offsetBy(q, first * s.headDim), s.sq * s.headDim},
            {offsetBy(k, range.start * s.headDim), s.sk * s.headDim, true}, 0,
            floats(p, rows * range.keys)) ||
        (s.softcap != 0 && backend.softcap(n, s.softcap, p)) ||
        (s.alibiHeads != 0 &&
         backend.alibi(s.batch / s.alibiHeads, s.alibiHeads, rows, range.keys,
                       range.start, s.alibiBf16, p, s.alibiSlopes, p)) ||
        (s.alibiBf16 && backend.unary(MP_UNARY_SCALE, n, {MP_DTYPE_F32, p},
                                      {MP_DTYPE_F32, p}, scale, 0)))
      return MP_ERROR;
    // The chunk's last row sees the last of its keys and its first row's
    // window starts at the first: the masks of a [rows, keys] softmax are
    // the chunk's rows' of the whole one. In place: each row is read before
    // it is written.
    return backend.softmax(s.batch, rows, range.keys, s.causal, s.window, p, p,
                           lse ? lse + first : nullptr, s.sq);
  }
};

/// The scratch a call works in: the memory it was given or, where that
/// holds less than it needs, memory of its own (mp_alloc's, counted in the
/// live and peak bytes), freed when the call returns.
class CallScratch {
public:
  /// Fails `call` on `bytes` at `given` that it cannot use.
  CallScratch(mp_context *ctx, const char *call, float *given, int64_t bytes)
      : ctx(ctx) {
    status = getWorkspace(ctx, call, given, bytes, this->given);
  }
  CallScratch(const CallScratch &) = delete;
  CallScratch &operator=(const CallScratch &) = delete;
  ~CallScratch() { mp_free(ctx, own); }

  /// `floats` floats at the start of the given memory, or of the call's
  /// own; the GEMMs' workspace is what follows them in the given memory
  /// from the next multiple of MP_GEMM_WORKSPACE_ALIGNMENT bytes
  /// (mp_attention_scratch_bytes's order), none where they are its own
  /// (each GEMM then takes its own). Null on failure, recorded.
  float *take(const char *call, int64_t floats, Workspace &workspace) {
    int64_t bytes = 0, start = 0;
    if (__builtin_mul_overflow(floats, int64_t(sizeof(float)), &bytes) ||
        !mp_gemm_workspace_add(&start, floats, sizeof(float))) {
      fail(ctx, call, "the scratch's bytes overflow int64");
      return nullptr;
    }
    workspace = {};
    if (bytes <= given.bytes) {
      if (start < given.bytes)
        workspace = {given.data + start, given.bytes - start};
      return reinterpret_cast<float *>(given.data);
    }
    own = mp_alloc(ctx, bytes);
    return static_cast<float *>(own);
  }

  mp_status status = MP_OK;

private:
  mp_context *ctx;
  Workspace given;
  void *own = nullptr;
};

/// Zeros `rows` rows of `width` elements from row `first` in each of the
/// batch's [sq, width] matrices of `data`.
mp_status zeroRows(Backend &backend, const AttentionShape &s, TensorOut data,
                   int64_t first, int64_t rows, int64_t width) {
  size_t bytes = getDtypeSize(data.type);
  return backend.zero2D(offsetBy(data, first * width).data,
                        s.sq * width * bytes, rows * width * bytes, s.batch);
}

} // namespace

extern "C" {

mp_status mp_attention_f32(mp_context *ctx, mp_precision precision,
                           int64_t batch, int64_t group, int64_t sq, int64_t sk,
                           int64_t head_dim, int64_t value_dim, float scale,
                           float softcap, int causal, int64_t window,
                           int64_t chunk, int64_t alibi_heads,
                           const float *alibi_slopes, int alibi_bf16,
                           mp_dtype q_type, const void *q, mp_dtype k_type,
                           const void *k, mp_dtype v_type, const void *v,
                           mp_dtype out_type, void *out, float *lse,
                           float *scratch, int64_t scratch_bytes) {
  const char *call = "mp_attention_f32";
  MP_RETURN_IF_FAILED(ctx);
  AttentionShape s{batch,          group,     sq,          sk,
                   head_dim,       value_dim, chunk,       causal != 0,
                   window,         softcap,   alibi_heads, alibi_slopes,
                   alibi_bf16 != 0};
  if (checkAttention(ctx, call, precision, s, scale) ||
      checkAttentionDtypes(ctx, call, precision,
                           {q_type, k_type, v_type, out_type}) ||
      checkBuffers(ctx, call,
                   {{"q", q, batch * sq * head_dim},
                    {"k", k, batch / group * sk * head_dim},
                    {"v", v, batch / group * sk * value_dim},
                    {"out", out, batch * sq * value_dim},
                    {"lse", lse, batch * sq}}))
    return MP_ERROR;
  CallScratch callScratch(ctx, call, scratch, scratch_bytes);
  if (callScratch.status)
    return MP_ERROR;
  if (batch * sq == 0)
    return MP_OK;
  TensorIn query{q_type, q}, key{k_type, k}, value{v_type, v};
  TensorOut output{out_type, out};
  Backend &backend = *ctx->backend;
  if (sk > 0 && backend.hasOnChipAttention(precision, s))
    return backend.onChipAttention(precision, s, scale, query, key, value,
                                   output, lse);
  Workspace workspace;
  float *scores = callScratch.take(call, s.scoreFloats(), workspace);
  if (!scores && s.scoreFloats() > 0)
    return MP_ERROR;
  AttentionGemms gemms{backend, precision, s, workspace};
  for (int64_t first = 0; first < sq; first += chunk) {
    int64_t rows = s.rowsFrom(first);
    KeyRange range(s, first, rows);
    if (range.keys == 0) {
      // A softmax over no key writes only the rows' log-sum-exp, -inf.
      if (zeroRows(backend, s, output, first, rows, value_dim) ||
          backend.softmax(batch, rows, 0, s.causal, 0, nullptr, nullptr,
                          lse + first, sq))
        return MP_ERROR;
      continue;
    }
    GemmOperand outRows{{out_type, offsetBy(output, first * value_dim).data},
                        sq * value_dim};
    if (gemms.probabilities(scale, first, rows, range, query, key, scores,
                            lse) ||
        gemms.run(
            rows, false, false, rows, value_dim, range.keys, 1,
            floats(scores, rows * range.keys),
            {offsetBy(value, range.start * value_dim), sk * value_dim, true}, 0,
            outRows))
      return MP_ERROR;
  }
  return MP_OK;
}

mp_status mp_attention_grad_f32(
    mp_context *ctx, mp_precision precision, int64_t batch, int64_t group,
    int64_t sq, int64_t sk, int64_t head_dim, int64_t value_dim, float scale,
    float softcap, int causal, int64_t window, int64_t chunk,
    int64_t alibi_heads, const float *alibi_slopes, int alibi_bf16,
    mp_dtype q_type, const void *q, mp_dtype k_type, const void *k,
    mp_dtype v_type, const void *v, mp_dtype out_type, const void *out,
    const float *lse, const float *grad, float *dq, float *dk, float *dv,
    float *scratch, int64_t scratch_bytes) {
  const char *call = "mp_attention_grad_f32";
  MP_RETURN_IF_FAILED(ctx);
  AttentionShape s{batch,          group,     sq,          sk,
                   head_dim,       value_dim, chunk,       causal != 0,
                   window,         softcap,   alibi_heads, alibi_slopes,
                   alibi_bf16 != 0};
  if (checkAttention(ctx, call, precision, s, scale) ||
      checkAttentionDtypes(ctx, call, precision,
                           {q_type, k_type, v_type, out_type}))
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
                    {"dv", dv, keyMatrices * sk * value_dim}}))
    return MP_ERROR;
  CallScratch callScratch(ctx, call, scratch, scratch_bytes);
  if (callScratch.status)
    return MP_ERROR;
  TensorIn query{q_type, q}, key{k_type, k}, value{v_type, v},
      output{out_type, out};
  Backend &backend = *ctx->backend;
  Workspace workspace;
  if (batch * sq > 0 && sk > 0 && backend.hasOnChipAttention(precision, s)) {
    float *rowDots = callScratch.take(call, batch * sq, workspace);
    return rowDots ? backend.onChipAttentionGrad(precision, s, scale, query,
                                                 key, value, output, lse, grad,
                                                 dq, dk, dv, rowDots)
                   : MP_ERROR;
  }
  // The chunks (and a group's query matrices) add into dk and dv.
  if (keyMatrices * sk > 0 &&
      (backend.fill(keyMatrices * sk * head_dim, 0, dk) ||
       backend.fill(keyMatrices * sk * value_dim, 0, dv)))
    return MP_ERROR;
  if (batch * sq == 0)
    return MP_OK;
  float *p = callScratch.take(call, 2 * s.scoreFloats(), workspace);
  if (!p && s.scoreFloats() > 0)
    return MP_ERROR;
  float *ds = p + s.scoreFloats();
  AttentionGemms gemms{backend, precision, s, workspace};
  for (int64_t first = 0; first < sq; first += chunk) {
    int64_t rows = s.rowsFrom(first);
    KeyRange range(s, first, rows);
    int64_t keys = range.keys, start = range.start;
    if (keys == 0) {
      if (zeroRows(backend, s, {MP_DTYPE_F32, dq}, first, rows, head_dim))
        return MP_ERROR;
      continue;
    }
    // ds = softmax_grad(p, grad · vᵀ), in place of grad · vᵀ, through the
    // cap's slope; the chunk's keys, values and their gradients from key
    // `start`.
    GemmOperand pChunk = floats(p, rows * keys),
                dsChunk = floats(ds, rows * keys),
                qChunk{offsetBy(query, first * head_dim), sq * head_dim},
                gradChunk = floats(grad + first * value_dim, sq * value_dim),
                keyChunk{offsetBy(key, start * head_dim), sk * head_dim, true},
                valueChunk{offsetBy(value, start * value_dim), sk * value_dim,
                           true};
    if (gemms.probabilities(scale, first, rows, range, query, key, p,
                            nullptr) ||
        gemms.run(rows, false, true, rows, keys, value_dim, 1, gradChunk,
                  valueChunk, 0, dsChunk) ||
        backend.softmaxGrad(batch * rows, keys, p, ds, ds) ||
        (softcap != 0 && backend.softcapGrad(batch, rows, keys, softcap, p,
                                             lse + first, sq, ds)))
      return MP_ERROR;
    if (gemms.run(rows, false, false, rows, head_dim, keys, scale, dsChunk,
                  keyChunk, 0, floats(dq + first * head_dim, sq * head_dim)) ||
        gemms.run(rows, true, false, keys, head_dim, rows, scale, dsChunk,
                  qChunk, 1,
                  floats(dk + start * head_dim, sk * head_dim, true)) ||
        gemms.run(rows, true, false, keys, value_dim, rows, 1, pChunk,
                  gradChunk, 1,
                  floats(dv + start * value_dim, sk * value_dim, true)))
      return MP_ERROR;
  }
  return MP_OK;
}

} // extern "C"
