//===- HostBackend.h - OpenBLAS, MPI and loops on the CPU -------*- C++ -*-===//

#ifndef MP_RUNTIME_HOST_HOSTBACKEND_H
#define MP_RUNTIME_HOST_HOSTBACKEND_H

#include "../MpiCollectives.h"

#include <algorithm>

#ifdef _OPENMP
#include <omp.h>
#endif
#include <unordered_map>
#include <vector>

namespace mp::runtime {

class HostBackend final : public Backend {
public:
  /// `staged`: collectives copy the tensors through host buffers with
  /// copyToHost and copyToBackend, as the CUDA backend's mpi transport does
  /// with device memory (MP_HOST_TRANSPORT=staged): that staging, checked
  /// without a GPU.
  HostBackend(mp_context *ctx, bool staged);
  ~HostBackend() override;

  void *allocate(size_t bytes) override;
  void release(void *ptr) override;
  mp_status copy(void *dst, const void *src, size_t bytes) override;
  mp_status convert(mp_dtype from, mp_dtype to, int64_t n, const void *in,
                    void *out) override;
  mp_status copyToBackend(void *dst, const void *src, size_t bytes) override;
  mp_status copyToHost(void *dst, const void *src, size_t bytes) override;
  mp_status copy2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch,
                   size_t widthBytes, size_t height) override;
  mp_status zero2D(void *dst, size_t pitch, size_t widthBytes,
                   size_t height) override;
  void *allocateHost(size_t bytes) override;
  void releaseHost(void *ptr) override;

  mp_status allReduce(const Group &group, mp_dtype dtype, void *data,
                      int64_t count) override;
  mp_status allGather(const Group &group, mp_dtype dtype, const void *in,
                      void *out, const DimView &view,
                      Workspace &scratch) override;
  mp_status reduceScatter(const Group &group, mp_dtype dtype, const void *in,
                          void *out, const DimView &view,
                          Workspace &scratch) override;
  mp_status allToAll(const Group &group, mp_dtype dtype, const void *in,
                     void *out, const DimView &split, const DimView &piece,
                     Workspace &scratch) override;
  mp_status shardSlice(const Group &group, const void *in, void *out,
                       const DimView &view) override;

  mp_status gemm(mp_precision precision, mp_dtype aType, mp_dtype bType,
                 bool transA, bool transB, int64_t batch, int64_t m, int64_t n,
                 int64_t k, float alpha, const void *a, int64_t strideA,
                 const void *b, int64_t strideB, float beta, mp_dtype cType,
                 void *c, int64_t strideC, Workspace &workspace) override;
  mp_status unary(mp_unary_op op, int64_t n, TensorIn in, TensorOut out,
                  double scalar, double upper) override;
  mp_status binary(mp_binary_op op, int64_t n, TensorIn a, TensorIn b,
                   TensorOut out) override;
  mp_status swigluGrad(int64_t n, TensorIn grad, TensorIn gate, TensorIn up,
                       TensorOut gateGrad, TensorOut upGrad) override;
  mp_status reduceSum(int rank, const int64_t *shape, uint32_t dimsMask,
                      double scale, const float *in, float *out) override;
  mp_status broadcast(int rank, const int64_t *outShape, uint32_t dimsMask,
                      const float *in, float *out) override;
  mp_status transpose(int rank, const int64_t *inShape, const int *perm,
                      TensorIn in, TensorOut out) override;
  mp_status mseLoss(int64_t n, const float *a, const float *b, double scale,
                    float *out) override;
  mp_status crossEntropy(int64_t rows, int64_t classes, const float *logits,
                         const int64_t *targets, IgnoredTarget ignored,
                         double scale, float *out) override;
  mp_status crossEntropyGrad(int64_t rows, int64_t classes, const float *logits,
                             const int64_t *targets, IgnoredTarget ignored,
                             const float *grad, double scale,
                             float *out) override;
  mp_status clipCoefficient(const float *squaredNorm, double maxNorm,
                            float *out) override;
  mp_status fill(int64_t n, float value, float *out) override;
  mp_status sgd(int64_t n, float *param, const float *grad,
                float *momentumBuffer, double lr, double momentum,
                double dampening, double weightDecay, bool nesterov,
                const float *gradScale) override;
  mp_status adamw(int64_t n, float *param, const float *grad, float *expAvg,
                  float *expAvgSq, double lr, double beta1, double beta2,
                  double eps, double weightDecay, const float *step,
                  const float *gradScale) override;
  mp_status adamwOuter(bool bf16, int64_t k, int64_t m, int64_t n, float alpha,
                       const float *a, const float *b, float *param,
                       float *expAvg, float *expAvgSq, double lr, double beta1,
                       double beta2, double eps, double weightDecay,
                       const float *step) override;
  mp_status sgdOuter(bool bf16, int64_t k, int64_t m, int64_t n, float alpha,
                     const float *a, const float *b, float *param,
                     float *momentumBuffer, double lr, double momentum,
                     double dampening, double weightDecay,
                     bool nesterov) override;

  mp_status rmsNorm(int64_t rows, int64_t dim, double eps, TensorIn x,
                    const float *weight, double weightOffset,
                    TensorOut out) override;
  mp_status rmsNormGrad(int64_t rows, int64_t dim, double eps, TensorIn x,
                        const float *weight, double weightOffset, TensorIn grad,
                        float *dx, float *dweight, Workspace &scratch) override;
  mp_status layerNorm(int64_t rows, int64_t dim, double eps, TensorIn x,
                      const float *weight, const float *bias,
                      TensorOut out) override;
  mp_status layerNormGrad(int64_t rows, int64_t dim, double eps, TensorIn x,
                          const float *weight, TensorIn grad, float *dx,
                          float *dweight, float *dbias,
                          Workspace &scratch) override;
  mp_status softmax(int64_t batch, int64_t sq, int64_t sk, bool causal,
                    int64_t window, const float *x, float *out, float *lse,
                    int64_t lseStride) override;
  mp_status softmaxGrad(int64_t rows, int64_t cols, const float *y,
                        const float *grad, float *dx) override;
  mp_status softcap(int64_t n, float softcap, float *x) override;
  mp_status softcapGrad(int64_t batch, int64_t rows, int64_t cols,
                        float softcap, const float *p, const float *lse,
                        int64_t lseStride, float *ds) override;
  mp_status rope(int64_t outer, int64_t seq, int64_t heads, int64_t headDim,
                 const RopeFrequencies &frequencies, bool inverse, TensorIn x,
                 TensorOut out) override;
  mp_status embedding(int64_t n, int64_t vocab, int64_t dim, const int64_t *ids,
                      const float *table, float *out) override;
  mp_status embeddingGrad(int64_t n, int64_t vocab, int64_t dim,
                          const int64_t *ids, const float *grad,
                          float *out) override;
  mp_status localizeIndex(int64_t n, const int64_t *in, int64_t *out,
                          int64_t offset, int64_t valid) override;
  mp_status iota(int64_t outer, int64_t extent, int64_t inner, int64_t start,
                 int64_t *out) override;
  mp_status alibiSlopes(int64_t heads, double maxBias, float *out) override;
  mp_status alibi(int64_t outer, int64_t heads, int64_t queries, int64_t keys,
                  int64_t firstKey, bool bf16Bias, const float *scores,
                  const float *slopes, float *out) override;
  mp_status maskBias(int64_t n, const int64_t *mask, float fill,
                     float *out) override;
  mp_status targetMask(int64_t n, const int64_t *targets, int64_t ignoreIndex,
                       float *out) override;
  mp_status blockMax(int64_t rows, int64_t cols, int64_t blocks, const float *x,
                     float *out) override;
  mp_status gatherLast(int64_t rows, int64_t cols, const float *x,
                       const int64_t *index, float *out) override;
  mp_status scatterLast(int64_t rows, int64_t cols, const int64_t *index,
                        const float *grad, float *out) override;

private:
  /// Below this many elements a kernel is faster on one thread.
  static constexpr int64_t kMinParallel = 1 << 16;
  /// Runs body(begin, end) over [0, n), split among the backend's threads
  /// when the range is large enough to pay for them.
  template <typename Body> void parallelFor(int64_t n, Body body) const;
  /// An outer update (adamwOuter, sgdOuter) over the [m, n] parameter:
  /// update(element, gradient) for each, the gradient alpha · aᵀ · b
  /// computed in blocks of a row's columns spread over the threads.
  template <typename Update>
  void outerUpdate(bool bf16, int64_t k, int64_t m, int64_t n, float alpha,
                   const float *a, const float *b, Update update) const;
  /// The same over `rows` rows of `rowLength` elements each, whole rows to
  /// a thread.
  template <typename Body>
  void parallelRows(int64_t rows, int64_t rowLength, Body body) const;
  /// Rows of `length` (a norm's, a head's rotation): body(r, row, out) for
  /// each row r of `input` into `output`, whole rows to a thread
  /// (Transformer.cpp).
  template <typename Body>
  void mapRows(int64_t rows, int64_t length, TensorIn input, TensorOut output,
               Body body) const;
  /// The cross entropy's rows, after checking every target: each row's
  /// softmax, into `lossSum` the sum of the rows' losses (in row order),
  /// or into `grad` (softmax - onehot(target)) · gradFactor. Rows in
  /// parallel, each exponential once.
  mp_status crossEntropyRows(const char *call, int64_t rows, int64_t classes,
                             const float *logits, const int64_t *targets,
                             IgnoredTarget ignored, double *lossSum,
                             float *grad, double gradFactor);

  /// Threads for elementwise kernels and optimizer updates: the cores of
  /// the node shared by the ranks on it, or MP_NUM_THREADS.
  int threads = 1;

  /// A bf16 GEMM's operand of `count` elements as the floats it holds: a
  /// bfloat16 one widened (exactly), a float32 one rounded to bfloat16,
  /// copied into `out`.
  const float *bFloat16Operand(mp_dtype type, const void *in, int64_t count,
                               float *out) const;

  /// A norm gradient's inputs in its scratch, in mp_norm_grad_scratch_bytes's
  /// order: each row's mean and rstd in double (`statistics`, 2 · rows),
  /// then x and grad as float32, a bfloat16 one widened (exactly).
  struct NormGradInputs {
    double *statistics;
    const float *x, *grad;
  };
  NormGradInputs takeNormGradInputs(int64_t rows, int64_t dim, TensorIn x,
                                    TensorIn grad, HostScratch &scratch);

  MpiCollectives collectives;
  /// Block sizes of the live allocations, and freed blocks kept for reuse:
  /// a step allocates and frees its arena every step, and a fresh large
  /// block would be page-faulted in again each time.
  std::unordered_map<void *, size_t> blockBytes;
  std::unordered_multimap<size_t, void *> freeBlocks;
};

template <typename Body>
void HostBackend::parallelFor(int64_t n, Body body) const {
#ifdef _OPENMP
  if (threads > 1 && n >= kMinParallel) {
#pragma omp parallel num_threads(threads)
    {
      int64_t part = omp_get_thread_num(), parts = omp_get_num_threads();
      body(n * part / parts, n * (part + 1) / parts);
    }
    return;
  }
#endif
  body(int64_t(0), n);
}

template <typename Body>
void HostBackend::parallelRows(int64_t rows, int64_t rowLength,
                               Body body) const {
#ifdef _OPENMP
  if (threads > 1 && rows > 1 && rows * rowLength >= kMinParallel) {
    int parts = static_cast<int>(std::min<int64_t>(threads, rows));
#pragma omp parallel num_threads(parts)
    {
      int64_t part = omp_get_thread_num(), count = omp_get_num_threads();
      body(rows * part / count, rows * (part + 1) / count);
    }
    return;
  }
#endif
  body(int64_t(0), rows);
}

} // namespace mp::runtime

#endif // MP_RUNTIME_HOST_HOSTBACKEND_H
