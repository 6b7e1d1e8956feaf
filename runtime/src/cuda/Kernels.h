//===- Kernels.h - the CUDA backend's kernel launches -----------*- C++ -*-===//
//
// Host functions that launch the backend's kernels on a stream and return
// cudaGetLastError(); the .cu files define them, CudaBackend calls them.
// Tensor pointers are device memory; shapes and perms are host arrays.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_CUDA_KERNELS_H
#define MP_RUNTIME_CUDA_KERNELS_H

#include "../Backend.h"
#include "mp_runtime.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace mp::runtime::cuda {

/// A check on values in device memory that failed (a target outside the
/// classes, an AdamW step below 1). Kernels cannot fail a call, so the first
/// one to find such a value records it here, and the backend turns it into
/// the call's error at its next synchronization.
struct DeviceFault {
  enum Code : unsigned {
    kNone = 0,
    kCrossEntropyTarget,
    kCrossEntropyGradTarget,
    kAdamWStep,
    kEmbeddingId,
    kEmbeddingGradId,
    kGatherLastIndex,
    kScatterLastIndex,
  };
  unsigned code;
  /// Target, sample and classes for the cross entropy; id, index and vocab
  /// for the embeddings; index, row and columns for the picks along the
  /// last dim.
  long long values[3];
  /// AdamW's step.
  double step;
  /// The op the call ran in (mp_context_set_op's static string).
  const char *op;
};

static_assert(sizeof(DeviceFault) <= MP_CUDA_FAULT_RECORD_BYTES,
              "the fault record is reserved in mp_backend_reserved_bytes");

/// Partial sums that the loss kernels reduce through: one per block.
/// Blocks of the losses' first pass, each writing one partial sum.
constexpr int kMaxReductionBlocks = 1024;
/// Doubles in the compute stream's partial-sum buffer: the losses use
/// kMaxReductionBlocks of them, a split reduction one per output and chunk.
constexpr int64_t kReductionPartials = MP_CUDA_REDUCTION_PARTIALS;
static_assert(kMaxReductionBlocks <= kReductionPartials);

cudaError_t launchUnary(cudaStream_t stream, mp_unary_op op, int64_t n,
                        TensorIn in, TensorOut out, double scalar,
                        double upper);
cudaError_t launchBinary(cudaStream_t stream, mp_binary_op op, int64_t n,
                         TensorIn a, TensorIn b, TensorOut out);
cudaError_t launchSwigluGrad(cudaStream_t stream, int64_t n, TensorIn grad,
                             TensorIn gate, TensorIn up, TensorOut gateGrad,
                             TensorOut upGrad);
cudaError_t launchFill(cudaStream_t stream, int64_t n, float value, float *out);
/// mp_convert: float32 to bfloat16 (nearest even) or back.
cudaError_t launchConvert(cudaStream_t stream, mp_dtype from, mp_dtype to,
                          int64_t n, const void *in, void *out);
cudaError_t launchClipCoefficient(cudaStream_t stream, const float *squaredNorm,
                                  double maxNorm, float *out);
cudaError_t launchSgd(cudaStream_t stream, int64_t n, float *param,
                      const float *grad, float *momentumBuffer, double lr,
                      double momentum, double dampening, double weightDecay,
                      bool nesterov, const float *gradScale);
/// The optimizers read `step` and `gradScale` (null: 1) on the device.
cudaError_t launchAdamW(cudaStream_t stream, int64_t n, float *param,
                        const float *grad, float *expAvg, float *expAvgSq,
                        double lr, double beta1, double beta2, double eps,
                        double weightDecay, const float *step,
                        const float *gradScale, DeviceFault *fault,
                        const char *op);
/// AdamW whose gradient alpha · aᵀ · b it computes (mp_adamw_outer_f32).
cudaError_t launchAdamWOuter(cudaStream_t stream, bool bf16, int64_t k,
                             int64_t m, int64_t n, float alpha, const float *a,
                             const float *b, float *param, float *expAvg,
                             float *expAvgSq, double lr, double beta1,
                             double beta2, double eps, double weightDecay,
                             const float *step, DeviceFault *fault,
                             const char *op);
/// SGD whose gradient alpha · aᵀ · b it computes (mp_sgd_outer_f32).
cudaError_t launchSgdOuter(cudaStream_t stream, bool bf16, int64_t k, int64_t m,
                           int64_t n, float alpha, const float *a,
                           const float *b, float *param, float *momentumBuffer,
                           double lr, double momentum, double dampening,
                           double weightDecay, bool nesterov);
/// The tensors of one multi-tensor optimizer launch, passed by value (as
/// PyTorch's multi_tensor_apply passes its tensor lists): tensor i holds
/// elements [begin[i], begin[i + 1]) of the launch's range; its state is
/// AdamW's two moments, or SGD's momentum buffer (null without momentum).
struct OptimizerTensors {
  static constexpr int kMax = MP_OPTIMIZER_TENSORS_PER_LAUNCH;
  int count = 0;
  float *param[kMax];
  const float *grad[kMax];
  float *state[2][kMax];
  int64_t begin[kMax + 1];
};
cudaError_t launchAdamWMulti(cudaStream_t stream,
                             const OptimizerTensors &tensors, double lr,
                             double beta1, double beta2, double eps,
                             double weightDecay, const float *step,
                             const float *gradScale, DeviceFault *fault,
                             const char *op);
cudaError_t launchSgdMulti(cudaStream_t stream, const OptimizerTensors &tensors,
                           double lr, double momentum, double dampening,
                           double weightDecay, bool nesterov,
                           const float *gradScale);

/// Reductions over many elements split them into chunks whose partial sums
/// go through `partials` (kReductionPartials doubles).
cudaError_t launchReduceSum(cudaStream_t stream, int rank, const int64_t *shape,
                            uint32_t dimsMask, double scale, const float *in,
                            float *out, double *partials);
cudaError_t launchBroadcast(cudaStream_t stream, int rank,
                            const int64_t *outShape, uint32_t dimsMask,
                            const float *in, float *out);
cudaError_t launchTranspose(cudaStream_t stream, int rank,
                            const int64_t *inShape, const int *perm,
                            TensorIn in, TensorOut out);
/// out[i][c][r] = in[i][r][c] for `batch` [rows][cols] matrices of
/// `elementBytes` (2, 4 or 8) elements, `inStride` elements apart in `in`
/// and packed in `out`, by tiles through shared memory.
cudaError_t launchTransposeMatrices(cudaStream_t stream, const void *in,
                                    void *out, int64_t batch, int64_t rows,
                                    int64_t cols, int64_t inStride,
                                    size_t elementBytes);
/// Copies [a][b][c] blocks of `elementBytes` (2, 4 or 8) elements to
/// [b][a][c]: packs the pieces of a dim piece after piece (a = outer,
/// b = pieces), or concatenates contiguous pieces along a dim (a = pieces,
/// b = outer).
cudaError_t launchSwapLeadingDims(cudaStream_t stream, const void *in,
                                  void *out, int64_t a, int64_t b, int64_t c,
                                  size_t elementBytes);
/// Backend::copyBatch's regions, in launches of at most this many, which
/// travel by value (as multi_tensor_apply's lists do).
constexpr int kCopyBatchRegions = 64;
cudaError_t launchCopyBatch(cudaStream_t stream, const CopyRegion *regions,
                            int count);
/// Copies piece `p` of `n` along the view's dim into a contiguous buffer.
cudaError_t launchCopyPiece(cudaStream_t stream, const DimView &view,
                            const void *in, void *out, int64_t p, int64_t n);

/// The losses write `partials` (kMaxReductionBlocks doubles) on the way.
cudaError_t launchMseLoss(cudaStream_t stream, int64_t n, const float *a,
                          const float *b, double scale, float *out,
                          double *partials);
cudaError_t launchCrossEntropy(cudaStream_t stream, int64_t rows,
                               int64_t classes, const float *logits,
                               const int64_t *targets, IgnoredTarget ignored,
                               double scale, float *out, double *partials,
                               DeviceFault *fault, const char *op);
cudaError_t launchCrossEntropyGrad(cudaStream_t stream, int64_t rows,
                                   int64_t classes, const float *logits,
                                   const int64_t *targets,
                                   IgnoredTarget ignored, const float *grad,
                                   double scale, float *out, DeviceFault *fault,
                                   const char *op);

/// The norms, the softmax and its gradient give a block to each row.
cudaError_t launchRmsNorm(cudaStream_t stream, int64_t rows, int64_t dim,
                          double eps, TensorIn x, const float *weight,
                          double weightOffset, TensorOut out);
cudaError_t launchLayerNorm(cudaStream_t stream, int64_t rows, int64_t dim,
                            double eps, TensorIn x, const float *weight,
                            const float *bias, TensorOut out);
/// The norms' gradients keep each row's mean and rstd in `stats` (2·rows
/// doubles of scratch) and sum the weight's (and the bias') gradient over
/// the rows through `partials` (kReductionPartials doubles). `dbias` is
/// null for RMSNorm, and LayerNorm's weightOffset 0.
cudaError_t launchNormGrad(cudaStream_t stream, bool centered, int64_t rows,
                           int64_t dim, double eps, TensorIn x,
                           const float *weight, double weightOffset,
                           TensorIn grad, float *dx, float *dweight,
                           float *dbias, double *stats, double *partials);
/// With `lse`, each row's log-sum-exp too (Backend::softmax).
cudaError_t launchSoftmax(cudaStream_t stream, int64_t batch, int64_t sq,
                          int64_t sk, bool causal, int64_t window,
                          const float *x, float *out, float *lse,
                          int64_t lseStride);
cudaError_t launchSoftmaxGrad(cudaStream_t stream, int64_t rows, int64_t cols,
                              const float *y, const float *grad, float *dx);
/// Attention's soft cap and its gradient (Backend::softcap, softcapGrad).
cudaError_t launchSoftcap(cudaStream_t stream, int64_t n, float softcap,
                          float *x);
cudaError_t launchSoftcapGrad(cudaStream_t stream, int64_t batch, int64_t rows,
                              int64_t cols, float softcap, const float *p,
                              const float *lse, int64_t lseStride, float *ds);
cudaError_t launchRope(cudaStream_t stream, int64_t outer, int64_t seq,
                       int64_t heads, int64_t headDim,
                       const RopeFrequencies &frequencies, bool inverse,
                       TensorIn x, TensorOut out);
/// The embeddings find the first id at or past `vocab` through partials[0]
/// and record it in `fault`. The gradient adds into `out`, which must hold
/// zeros, with atomics.
cudaError_t launchEmbedding(cudaStream_t stream, int64_t n, int64_t vocab,
                            int64_t dim, const int64_t *ids, const float *table,
                            float *out, double *partials, DeviceFault *fault,
                            const char *op);
cudaError_t launchEmbeddingGrad(cudaStream_t stream, int64_t n, int64_t vocab,
                                int64_t dim, const int64_t *ids,
                                const float *grad, float *out, double *partials,
                                DeviceFault *fault, const char *op);
cudaError_t launchLocalizeIndex(cudaStream_t stream, int64_t n,
                                const int64_t *in, int64_t *out, int64_t offset,
                                int64_t valid);
cudaError_t launchIota(cudaStream_t stream, int64_t outer, int64_t extent,
                       int64_t inner, int64_t start, int64_t *out);
cudaError_t launchAlibiSlopes(cudaStream_t stream, int64_t heads,
                              double maxBias, float *out);
cudaError_t launchAlibi(cudaStream_t stream, int64_t outer, int64_t heads,
                        int64_t queries, int64_t keys, int64_t firstKey,
                        bool bf16Bias, const float *scores, const float *slopes,
                        float *out);
cudaError_t launchMaskBias(cudaStream_t stream, int64_t n, const int64_t *mask,
                           float fill, float *out);
cudaError_t launchTargetMask(cudaStream_t stream, int64_t n,
                             const int64_t *targets, int64_t ignoreIndex,
                             float *out);
/// A block per (row, block) of x; NaN kept, -inf for an empty block.
cudaError_t launchBlockMax(cudaStream_t stream, int64_t rows, int64_t cols,
                           int64_t blocks, const float *x, float *out);
/// A thread per row. They find the first index at or past `cols` through
/// partials[0] and record it in `fault`, as the embeddings do. The scatter
/// writes only the picked entries: `out` must hold zeros.
cudaError_t launchGatherLast(cudaStream_t stream, int64_t rows, int64_t cols,
                             const float *x, const int64_t *index, float *out,
                             double *partials, DeviceFault *fault,
                             const char *op);
cudaError_t launchScatterLast(cudaStream_t stream, int64_t rows, int64_t cols,
                              const int64_t *index, const float *grad,
                              float *out, double *partials, DeviceFault *fault,
                              const char *op);

/// The on-chip attention (FlashAttention.cu), in bf16 or tf32: `prepare`
/// raises its kernels' shared memory to the device's opt-in limit and
/// returns that limit; `fits` says whether a call's tiles in `precision`
/// fit under it. The gradient keeps batch·sq floats, each row's Σ grad ·
/// out, in `rowDots`. q, k, v and out are float32 or, in bf16, bfloat16.
cudaError_t prepareFlashAttention(int device, size_t *sharedLimit);
bool flashAttentionFits(mp_precision precision, const AttentionShape &shape,
                        size_t sharedLimit);
cudaError_t launchFlashAttention(cudaStream_t stream, mp_precision precision,
                                 const AttentionShape &shape, float scale,
                                 TensorIn q, TensorIn k, TensorIn v,
                                 TensorOut out, float *lse);
cudaError_t launchFlashAttentionGrad(cudaStream_t stream,
                                     mp_precision precision,
                                     const AttentionShape &shape, float scale,
                                     TensorIn q, TensorIn k, TensorIn v,
                                     TensorIn out, const float *lse,
                                     const float *grad, float *dq, float *dk,
                                     float *dv, float *rowDots);

} // namespace mp::runtime::cuda

#endif // MP_RUNTIME_CUDA_KERNELS_H
