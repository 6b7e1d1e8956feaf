//===- Backend.h - what a backend implements behind the C ABI ---*- C++ -*-===//
//
// The public mp_* calls check the sticky error, validate their arguments and
// resolve groups once (Context.cpp, Collectives.cpp, Compute.cpp), then call
// the context's backend, which may assume valid arguments. A backend reports
// its own failures through fail() with the name of the call that failed.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_BACKEND_H
#define MP_RUNTIME_BACKEND_H

#include "Transformer.h"
#include "mp_runtime.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mp::runtime {

/// The most dims of a tensor that reductions, broadcasts and transposes take:
/// dims_mask has one bit per dim.
constexpr int kMaxRank = 32;

/// Messages of checks on values that a backend reads from its own memory,
/// shared so that both backends word them alike.
constexpr const char *kBadTargetFormat =
    "target %lld of sample %lld is not in [0, %lld)";
constexpr const char *kBadStepFormat = "step must be 1 or more, got %g";
constexpr const char *kBadIdFormat =
    "id %lld at index %lld is not below the vocab size %lld";
constexpr const char *kBadIndexFormat =
    "index %lld of row %lld is not below the column count %lld";

/// The ranks a collective runs over, validated: those that differ from this
/// one only on `axes`.
struct Group {
  /// The axes in the order listed, which keys the backend's communicators.
  std::vector<int> axes;
  /// The same for every member of the group and different across groups.
  int color = 0;
  int size = 1;
  /// This rank's index: row-major over the listed axes, the first major.
  int index = 0;
};

/// One copy of a batch (Backend::copyBatch): `height` rows of `widthBytes`
/// bytes from `src` to `dst`, rows `srcPitch` and `dstPitch` bytes apart.
struct CopyRegion {
  void *dst;
  size_t dstPitch;
  const void *src;
  size_t srcPitch;
  size_t widthBytes;
  size_t height;
};

/// A tensor seen as [outer][extent][inner] around one dim.
struct DimView {
  int64_t outer = 1, extent = 1, inner = 1;
  size_t elementBytes = 0;

  DimView(const int64_t *shape, int rank, int dim, size_t elementBytes)
      : elementBytes(elementBytes) {
    for (int d = 0; d < rank; ++d) {
      if (d < dim)
        outer *= shape[d];
      else if (d == dim)
        extent = shape[d];
      else
        inner *= shape[d];
    }
  }
  int64_t count() const { return outer * extent * inner; }
  size_t rowBytes(int64_t rows) const { return rows * inner * elementBytes; }
};

/// Backend memory a call was given to work in (a GEMM's workspace,
/// attention's GEMMs', a collective's staging), handed out in pieces in the
/// order its size (mp_gemm_workspace_bytes, mp_collective_scratch_bytes)
/// counts them, each at a multiple of MP_GEMM_WORKSPACE_ALIGNMENT bytes from
/// its start.
struct Workspace {
  char *data = nullptr;
  int64_t bytes = 0;
  int64_t used = 0;

  /// The next `pieceBytes`, or null when they do not fit.
  void *take(int64_t pieceBytes) {
    constexpr int64_t alignment = MP_GEMM_WORKSPACE_ALIGNMENT;
    int64_t start = (used + alignment - 1) / alignment * alignment;
    if (!data || pieceBytes < 0 || start > bytes || pieceBytes > bytes - start)
      return nullptr;
    used = start + pieceBytes;
    return data + start;
  }
};

/// The first piece of a norm gradient's scratch (mp_norm_grad_scratch_bytes,
/// whose sum mp_rms_norm_grad_f32 and mp_layer_norm_grad_f32 have checked):
/// a mean and an inverse root in double per row, for at least one row.
inline int64_t getNormStatisticsBytes(int64_t rows) {
  return (rows > 1 ? rows : 1) * 2 * int64_t(sizeof(double));
}

class Backend {
public:
  explicit Backend(mp_context *ctx) : ctx(ctx) {}
  virtual ~Backend() = default;

  // Memory. `allocate` records a failure and returns null.
  virtual void *allocate(size_t bytes) = 0;
  virtual void release(void *ptr) = 0;
  virtual mp_status copy(void *dst, const void *src, size_t bytes) = 0;
  /// mp_convert's pairs: float32 to bfloat16 and back.
  virtual mp_status convert(mp_dtype from, mp_dtype to, int64_t n,
                            const void *in, void *out) = 0;
  virtual mp_status copyToBackend(void *dst, const void *src, size_t bytes) = 0;
  virtual mp_status copyToHost(void *dst, const void *src, size_t bytes) = 0;
  /// Copies `height` rows of `widthBytes` bytes from `src` to `dst`, rows
  /// `srcPitch` and `dstPitch` bytes apart, not overlapping; zero2D zeros
  /// such rows. Widths and heights are not 0; pitches are at least widths.
  virtual mp_status copy2D(void *dst, size_t dstPitch, const void *src,
                           size_t srcPitch, size_t widthBytes,
                           size_t height) = 0;
  virtual mp_status zero2D(void *dst, size_t pitch, size_t widthBytes,
                           size_t height) = 0;
  /// The copies of a grouped collective's packing or unpacking, none
  /// overlapping another's destination (as copy2D's arguments each): one
  /// launch where a backend can (FSDP2 packs and unpacks its flat buffer in
  /// one kernel each too), else one copy2D each. `call` names the public
  /// call in errors.
  virtual mp_status copyBatch(const char * /*call*/,
                              const std::vector<CopyRegion> &regions) {
    for (const CopyRegion &r : regions)
      if (copy2D(r.dst, r.dstPitch, r.src, r.srcPitch, r.widthBytes, r.height))
        return MP_ERROR;
    return MP_OK;
  }
  /// Waits for the work issued so far (the host's is done when issued).
  virtual mp_status synchronize() { return MP_OK; }
  /// Makes later compute wait for the asynchronous collective in `slot`
  /// (mp_async_wait); a backend that runs collectives at the call has
  /// nothing to wait for.
  virtual mp_status waitAsync(int /*slot*/) { return MP_OK; }

  // Whole-step capture (mp_graph_*). graphUnavailable says why this
  // backend cannot capture (a static string), or is null when it can; the
  // public calls check it, so the others run only where it is null.
  // endCapture ends a capture even on a failed context, so that the
  // backend leaves capture mode, and then instantiates nothing.
  virtual const char *graphUnavailable() const {
    return "CUDA graphs need the cuda backend (this context runs on the "
           "host backend)";
  }
  virtual mp_status beginCapture() { return MP_ERROR; }
  virtual mp_status endCapture() { return MP_ERROR; }
  virtual mp_status replayGraph() { return MP_ERROR; }
  /// Host memory that copyToHost and copyToBackend move at full speed
  /// (pinned on CUDA), for staging collectives through MPI. `allocateHost`
  /// records a failure and returns null.
  virtual void *allocateHost(size_t bytes) = 0;
  virtual void releaseHost(void *ptr) = 0;

  // Collectives along a dim: `view` is the local tensor around it. For
  // all_to_all, `split` is the input around the split dim and `piece` one
  // received piece around the concat dim. `scratch` is the planned staging
  // (mp_collective_scratch_bytes).
  virtual mp_status allReduce(const Group &group, mp_dtype dtype, void *data,
                              int64_t count) = 0;
  virtual mp_status allGather(const Group &group, mp_dtype dtype,
                              const void *in, void *out, const DimView &view,
                              Workspace &scratch) = 0;
  virtual mp_status reduceScatter(const Group &group, mp_dtype dtype,
                                  const void *in, void *out,
                                  const DimView &view, Workspace &scratch) = 0;
  virtual mp_status allToAll(const Group &group, mp_dtype dtype, const void *in,
                             void *out, const DimView &split,
                             const DimView &piece, Workspace &scratch) = 0;
  virtual mp_status shardSlice(const Group &group, const void *in, void *out,
                               const DimView &view) = 0;

  // Compute, with the meaning of the mp_*_f32 calls of the same names.
  /// A and B are float32 or (with MP_PRECISION_BF16) bfloat16, C float32
  /// or (MP_PRECISION_BF16, beta 0) bfloat16, as mp_gemm_batched_f32 has
  /// checked. What the GEMM converts or lays out goes to `workspace`, in
  /// mp_gemm_workspace_bytes's order, or where that is too small to the
  /// backend's own scratch, counted in the context's live bytes.
  virtual mp_status gemm(mp_precision precision, mp_dtype aType, mp_dtype bType,
                         bool transA, bool transB, int64_t batch, int64_t m,
                         int64_t n, int64_t k, float alpha, const void *a,
                         int64_t strideA, const void *b, int64_t strideB,
                         float beta, mp_dtype cType, void *c, int64_t strideC,
                         Workspace &workspace) = 0;
  virtual mp_status unary(mp_unary_op op, int64_t n, TensorIn in, TensorOut out,
                          double scalar, double upper) = 0;
  virtual mp_status binary(mp_binary_op op, int64_t n, TensorIn a, TensorIn b,
                           TensorOut out) = 0;
  virtual mp_status swigluGrad(int64_t n, TensorIn grad, TensorIn gate,
                               TensorIn up, TensorOut gateGrad,
                               TensorOut upGrad) = 0;
  virtual mp_status reduceSum(int rank, const int64_t *shape, uint32_t dimsMask,
                              double scale, const float *in, float *out) = 0;
  virtual mp_status broadcast(int rank, const int64_t *outShape,
                              uint32_t dimsMask, const float *in,
                              float *out) = 0;
  virtual mp_status transpose(int rank, const int64_t *inShape, const int *perm,
                              TensorIn in, TensorOut out) = 0;
  virtual mp_status mseLoss(int64_t n, const float *a, const float *b,
                            double scale, float *out) = 0;
  virtual mp_status crossEntropy(int64_t rows, int64_t classes,
                                 const float *logits, const int64_t *targets,
                                 IgnoredTarget ignored, double scale,
                                 float *out) = 0;
  virtual mp_status crossEntropyGrad(int64_t rows, int64_t classes,
                                     const float *logits,
                                     const int64_t *targets,
                                     IgnoredTarget ignored, const float *grad,
                                     double scale, float *out) = 0;
  virtual mp_status clipCoefficient(const float *squaredNorm, double maxNorm,
                                    float *out) = 0;
  virtual mp_status fill(int64_t n, float value, float *out) = 0;
  virtual mp_status sgd(int64_t n, float *param, const float *grad,
                        float *momentumBuffer, double lr, double momentum,
                        double dampening, double weightDecay, bool nesterov,
                        const float *gradScale) = 0;
  virtual mp_status adamw(int64_t n, float *param, const float *grad,
                          float *expAvg, float *expAvgSq, double lr,
                          double beta1, double beta2, double eps,
                          double weightDecay, const float *step,
                          const float *gradScale) = 0;
  /// mp_adamw_outer_f32: the gradient of element (i, j) is
  /// outerProductElement's, computed where the update reads it.
  virtual mp_status adamwOuter(bool bf16, int64_t k, int64_t m, int64_t n,
                               float alpha, const float *a, const float *b,
                               float *param, float *expAvg, float *expAvgSq,
                               double lr, double beta1, double beta2,
                               double eps, double weightDecay,
                               const float *step) = 0;
  /// mp_sgd_outer_f32: mp_sgd_f32's update of a gradient computed as
  /// adamwOuter computes it.
  virtual mp_status sgdOuter(bool bf16, int64_t k, int64_t m, int64_t n,
                             float alpha, const float *a, const float *b,
                             float *param, float *momentumBuffer, double lr,
                             double momentum, double dampening,
                             double weightDecay, bool nesterov) = 0;
  /// mp_adamw_multi_f32; by default one adamw per tensor (the host's loops
  /// gain nothing from one call).
  virtual mp_status adamwMulti(int count, float *const *params,
                               const float *const *grads, float *const *expAvgs,
                               float *const *expAvgSqs, const int64_t *sizes,
                               double lr, double beta1, double beta2,
                               double eps, double weightDecay,
                               const float *step, const float *gradScale) {
    for (int i = 0; i < count; ++i)
      if (adamw(sizes[i], params[i], grads[i], expAvgs[i], expAvgSqs[i], lr,
                beta1, beta2, eps, weightDecay, step, gradScale))
        return MP_ERROR;
    return MP_OK;
  }
  /// mp_sgd_multi_f32; by default one sgd per tensor.
  virtual mp_status sgdMulti(int count, float *const *params,
                             const float *const *grads,
                             float *const *momentumBuffers,
                             const int64_t *sizes, double lr, double momentum,
                             double dampening, double weightDecay,
                             bool nesterov, const float *gradScale) {
    for (int i = 0; i < count; ++i)
      if (sgd(sizes[i], params[i], grads[i],
              momentumBuffers ? momentumBuffers[i] : nullptr, lr, momentum,
              dampening, weightDecay, nesterov, gradScale))
        return MP_ERROR;
    return MP_OK;
  }

  // Transformer layers, with the meaning of the mp_* calls of the same
  // names. Sizes are not negative and their products fit int64 bytes.
  /// Both norms' x and out float32 or bfloat16; their gradients' x and
  /// grad too (dx never a bfloat16 x's or grad's buffer).
  virtual mp_status rmsNorm(int64_t rows, int64_t dim, double eps, TensorIn x,
                            const float *weight, double weightOffset,
                            TensorOut out) = 0;
  /// The norms' gradients keep their statistics (and on the host widened
  /// bfloat16 inputs) in `scratch`, in mp_norm_grad_scratch_bytes's order,
  /// or where it is too small in the backend's own, counted.
  virtual mp_status rmsNormGrad(int64_t rows, int64_t dim, double eps,
                                TensorIn x, const float *weight,
                                double weightOffset, TensorIn grad, float *dx,
                                float *dweight, Workspace &scratch) = 0;
  virtual mp_status layerNorm(int64_t rows, int64_t dim, double eps, TensorIn x,
                              const float *weight, const float *bias,
                              TensorOut out) = 0;
  virtual mp_status layerNormGrad(int64_t rows, int64_t dim, double eps,
                                  TensorIn x, const float *weight,
                                  TensorIn grad, float *dx, float *dweight,
                                  float *dbias, Workspace &scratch) = 0;
  /// With `lse`, also each row's log-sum-exp (-inf for a row with no
  /// entry left), row i of matrix b at lse[b · lseStride + i]. sk may be 0
  /// (then only lse is written).
  /// A causal `window` > 0 masks keys before each row's last `window`
  /// (getWindowStart).
  virtual mp_status softmax(int64_t batch, int64_t sq, int64_t sk, bool causal,
                            int64_t window, const float *x, float *out,
                            float *lse, int64_t lseStride) = 0;
  virtual mp_status softmaxGrad(int64_t rows, int64_t cols, const float *y,
                                const float *grad, float *dx) = 0;
  /// Attention's soft cap of n scores in place: x = capScore(x, softcap).
  virtual mp_status softcap(int64_t n, float softcap, float *x) = 0;
  /// Its gradient: ds times capSlope(t, softcap) of the capped score
  /// t = log p + lse, 0 where p is; p and ds [batch, rows, cols], row i
  /// of matrix b's log-sum-exp at lse[b · lseStride + i].
  virtual mp_status softcapGrad(int64_t batch, int64_t rows, int64_t cols,
                                float softcap, const float *p, const float *lse,
                                int64_t lseStride, float *ds) = 0;
  /// x and out float32 or bfloat16, out x's buffer only where of its dtype.
  virtual mp_status rope(int64_t outer, int64_t seq, int64_t heads,
                         int64_t headDim, const RopeFrequencies &frequencies,
                         bool inverse, TensorIn x, TensorOut out) = 0;
  virtual mp_status embedding(int64_t n, int64_t vocab, int64_t dim,
                              const int64_t *ids, const float *table,
                              float *out) = 0;
  virtual mp_status embeddingGrad(int64_t n, int64_t vocab, int64_t dim,
                                  const int64_t *ids, const float *grad,
                                  float *out) = 0;
  /// out[i] = in[i] - offset where that is in [0, valid), else -1; the
  /// public call finds this rank's offset and valid count.
  virtual mp_status localizeIndex(int64_t n, const int64_t *in, int64_t *out,
                                  int64_t offset, int64_t valid) = 0;
  /// out[(o · extent + e) · inner + i] = start + e; none of the sizes is 0,
  /// start is 0 or more and start + extent - 1 fits int64.
  virtual mp_status iota(int64_t outer, int64_t extent, int64_t inner,
                         int64_t start, int64_t *out) = 0;
  /// out[h] = mp_alibi_slope(h, heads, maxBias) as a float; heads is not
  /// 0, maxBias positive and finite.
  virtual mp_status alibiSlopes(int64_t heads, double maxBias, float *out) = 0;
  /// out = alibiBias(scores, slopes[h], firstKey + k) over
  /// [outer][heads][queries][keys] (attention's chunks start at key
  /// firstKey), alibiBiasBFloat16's with bf16Bias; none of the sizes is 0,
  /// out may alias scores.
  virtual mp_status alibi(int64_t outer, int64_t heads, int64_t queries,
                          int64_t keys, int64_t firstKey, bool bf16Bias,
                          const float *scores, const float *slopes,
                          float *out) = 0;
  /// out[i] = maskBias(mask[i], fill); n is not 0.
  virtual mp_status maskBias(int64_t n, const int64_t *mask, float fill,
                             float *out) = 0;
  /// out[i] = targetMask(targets[i], ignoreIndex); n is not 0.
  virtual mp_status targetMask(int64_t n, const int64_t *targets,
                               int64_t ignoreIndex, float *out) = 0;
  /// The vocab-parallel cross entropy's pieces. Rows are not 0; blocks is
  /// 1 or more and divides cols; no output overlaps an input.
  virtual mp_status blockMax(int64_t rows, int64_t cols, int64_t blocks,
                             const float *x, float *out) = 0;
  virtual mp_status gatherLast(int64_t rows, int64_t cols, const float *x,
                               const int64_t *index, float *out) = 0;
  virtual mp_status scatterLast(int64_t rows, int64_t cols,
                                const int64_t *index, const float *grad,
                                float *out) = 0;

  /// Attention with its scores kept on chip (fused kernels) instead of
  /// mp_attention_f32's chunks through scratch memory, where the backend
  /// has such a kernel for `precision` and these sizes (none empty). The
  /// gradient keeps a float per query row in `rowDots` (batch·sq). q, k,
  /// v and out are float32 or (in bf16 precision) bfloat16.
  virtual bool hasOnChipAttention(mp_precision /*precision*/,
                                  const AttentionShape & /*shape*/) const {
    return false;
  }
  virtual mp_status onChipAttention(mp_precision /*precision*/,
                                    const AttentionShape & /*shape*/,
                                    float /*scale*/, TensorIn /*q*/,
                                    TensorIn /*k*/, TensorIn /*v*/,
                                    TensorOut /*out*/, float * /*lse*/) {
    return MP_ERROR;
  }
  virtual mp_status onChipAttentionGrad(
      mp_precision /*precision*/, const AttentionShape & /*shape*/,
      float /*scale*/, TensorIn /*q*/, TensorIn /*k*/, TensorIn /*v*/,
      TensorIn /*out*/, const float * /*lse*/, const float * /*grad*/,
      float * /*dq*/, float * /*dk*/, float * /*dv*/, float * /*rowDots*/) {
    return MP_ERROR;
  }

protected:
  mp_context *ctx;
};

/// The backends: on failure they record the error in `ctx` and return null.
/// Creating the CUDA backend is collective over the world (NCCL's setup).
/// Each reads its collective transport from the environment
/// (MP_HOST_TRANSPORT, MP_CUDA_TRANSPORT).
std::unique_ptr<Backend> createHostBackend(mp_context *ctx);
#ifdef MP_RUNTIME_HAS_CUDA
std::unique_ptr<Backend> createCudaBackend(mp_context *ctx);
#endif

} // namespace mp::runtime

#endif // MP_RUNTIME_BACKEND_H
