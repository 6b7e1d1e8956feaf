//===- CudaBackend.h - cuBLAS, NCCL and kernels on GPUs ---------*- C++ -*-===//
//
// A rank's GPU is picked by its index on its node. Two streams: the compute
// stream runs GEMMs, kernels and copies in call order; the communication
// stream runs NCCL, fenced by events on both sides of each collective (see
// runCollective). Scalars the step keeps in device memory (AdamW's step,
// loss seeds) are read by the kernels, never by the host.
//
// Collectives go over one of two transports, MP_CUDA_TRANSPORT in the
// environment (the same on every rank): `nccl` (the default), which needs a
// GPU per rank, or `mpi`, MpiCollectives staging device memory through
// pinned host buffers on the compute stream. `mpi` is a test path, not a
// fast one: it lets several ranks share a GPU (NCCL refuses them), so a
// multi-rank step runs whole on a machine with one GPU.
//
// Whole-step capture (Graph.cpp): the compute stream is captured into a CUDA
// graph, the communication stream joining it through the same events as
// eagerly, and the graph is replayed on the compute stream. Allocations made
// in the capture become the graph's own memory (stream-ordered allocation
// nodes), which it must free again.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_CUDA_CUDABACKEND_H
#define MP_RUNTIME_CUDA_CUDABACKEND_H

#include "../MpiCollectives.h"
#include "Kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mp::runtime {

mp_status checkCuda(mp_context *ctx, const char *call, cudaError_t status);
mp_status checkCublas(mp_context *ctx, const char *call, cublasStatus_t status);
mp_status checkNccl(mp_context *ctx, const char *call, ncclResult_t status);

class CudaBackend final : public Backend {
public:
  /// Waits for the compute stream, then reports what its kernels found
  /// (a DeviceFault) as the error of the call that launched them.
  mp_status synchronize() override;
  explicit CudaBackend(mp_context *ctx) : Backend(ctx) {}
  ~CudaBackend() override;

  /// Reads the transport, picks this rank's device, creates the streams,
  /// cuBLAS, and the NCCL world communicator or the MPI collectives.
  /// Collective over the world.
  mp_status start();

  void *allocate(size_t bytes) override;
  void release(void *ptr) override;
  mp_status copy(void *dst, const void *src, size_t bytes) override;
  mp_status convert(mp_dtype from, mp_dtype to, int64_t n, const void *in,
                    void *out) override;
  mp_status waitAsync(int slot) override;
  mp_status copyToBackend(void *dst, const void *src, size_t bytes) override;
  mp_status copyToHost(void *dst, const void *src, size_t bytes) override;
  mp_status copy2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch,
                   size_t widthBytes, size_t height) override;
  mp_status zero2D(void *dst, size_t pitch, size_t widthBytes,
                   size_t height) override;
  mp_status copyBatch(const char *call,
                      const std::vector<CopyRegion> &regions) override;
  void *allocateHost(size_t bytes) override;
  void releaseHost(void *ptr) override;

  const char *graphUnavailable() const override;
  mp_status beginCapture() override;
  mp_status endCapture() override;
  mp_status replayGraph() override;

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
  mp_status sgdMulti(int count, float *const *params, const float *const *grads,
                     float *const *momentumBuffers, const int64_t *sizes,
                     double lr, double momentum, double dampening,
                     double weightDecay, bool nesterov,
                     const float *gradScale) override;
  mp_status adamwMulti(int count, float *const *params,
                       const float *const *grads, float *const *expAvgs,
                       float *const *expAvgSqs, const int64_t *sizes, double lr,
                       double beta1, double beta2, double eps,
                       double weightDecay, const float *step,
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
  /// bf16 and tf32 attention whose tiles fit in shared memory, unless
  /// MP_CUDA_ATTENTION=composed (the chunks through memory, to compare).
  bool hasOnChipAttention(mp_precision precision,
                          const AttentionShape &shape) const override;
  mp_status onChipAttention(mp_precision precision, const AttentionShape &shape,
                            float scale, TensorIn q, TensorIn k, TensorIn v,
                            TensorOut out, float *lse) override;
  mp_status onChipAttentionGrad(mp_precision precision,
                                const AttentionShape &shape, float scale,
                                TensorIn q, TensorIn k, TensorIn v,
                                TensorIn out, const float *lse,
                                const float *grad, float *dq, float *dk,
                                float *dv, float *rowDots) override;
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
  /// Both norms' gradients: per-row statistics in `scratch` (or scratch of
  /// the compute stream's own) around cuda::launchNormGrad.
  mp_status normGrad(const char *call, bool centered, int64_t rows, int64_t dim,
                     double eps, TensorIn x, const float *weight,
                     double weightOffset, TensorIn grad, float *dx,
                     float *dweight, float *dbias, Workspace &scratch);
  /// What start() does before the transport: everything a rank can fail
  /// at alone. Rank 0 also creates NCCL's id when `nccl`.
  mp_status startLocally(bool nccl, ncclUniqueId &id, cudaUUID_t &uuid);
  /// Fails on every rank unless all read the same transport (0 nccl, 1
  /// mpi): ranks on different ones would wait for each other forever.
  mp_status checkSameTransport(int transport);
  /// Fails on every rank if two ranks picked the same GPU (`uuid` is this
  /// rank's): NCCL would refuse them less clearly.
  mp_status checkOneRankPerDevice(const cudaUUID_t &uuid);
  /// The communicator of `group`, split from the world on first use; null
  /// with the error recorded if NCCL fails.
  ncclComm_t getCommunicator(const Group &group);
  /// Issues `issue(comm)` on the communication stream after the compute
  /// stream's work so far, and makes the compute stream's later work wait
  /// for it.
  template <typename Issue>
  mp_status runCollective(const Group &group, Issue issue);
  /// Makes the compute stream's later work wait for `done`.
  mp_status waitFor(cudaEvent_t done);
  /// Stream-ordered memory on `stream`, from the pool that keeps what it
  /// frees.
  void *allocateStreamOrdered(size_t bytes, cudaStream_t stream);
  /// Stream-ordered scratch of the backend's own (what a call was given no
  /// workspace for), counted in the context's live bytes until freed.
  void *allocateScratch(size_t bytes, cudaStream_t stream);
  mp_status freeScratch(void *ptr, cudaStream_t stream);
  /// `bytes` of a call's `workspace`, or where it has none left scratch of
  /// the backend's own on `stream` (`own` set: freeScratch it after use).
  void *takeScratch(Workspace &workspace, size_t bytes, cudaStream_t stream,
                    bool &own);
  /// Fails `call` if launching its kernel failed.
  mp_status checkLaunch(const char *call, cudaError_t status);

  int device = -1;
  /// The shared memory a block of the on-chip attention may take (0: none
  /// of its kernels run).
  size_t attentionSharedLimit = 0;
  /// False under NVIDIA_TF32_OVERRIDE=0, which makes cuBLAS compute tf32
  /// GEMMs in float: tf32 attention then composes from them too, and their
  /// NT layout needs no transposed operand.
  bool tf32OnTensorCores = true;
  /// MP_CUDA_NT_GEMM=transpose (the default): a tensor-core GEMM of
  /// cuBLAS's NT layout that its FLOPs bind writes out its first operand
  /// transposed and runs NN; direct: it runs NT.
  bool transposeNtOperand = true;
  cudaStream_t computeStream = nullptr, commStream = nullptr;
  cudaEvent_t computeReady = nullptr, commDone = nullptr;
  /// Recorded on the communication stream after an asynchronous
  /// collective, per slot (created at the slot's first use).
  cudaEvent_t asyncDone[MP_ASYNC_SLOTS] = {};
  cublasHandle_t cublas = nullptr;
  ncclComm_t world = nullptr;
  /// One communicator per ordered list of axes.
  std::map<std::vector<int>, ncclComm_t> communicators;
  /// The collectives under MP_CUDA_TRANSPORT=mpi, which then replace NCCL
  /// (null otherwise).
  std::unique_ptr<MpiCollectives> mpi;
  /// Device memory held for the context's life, one allocation of
  /// mp_backend_reserved_bytes(MP_BACKEND_CUDA), counted: cuBLAS's
  /// workspace; the losses', the split reductions' and the norm gradients'
  /// partial sums (kReductionPartials doubles, used on the compute stream
  /// only; the embeddings keep the index of their first bad id in the
  /// first); the kernels' fault record.
  char *reserved = nullptr;
  double *partials = nullptr;
  cuda::DeviceFault *fault = nullptr;
  /// Whole-step capture: whether the compute stream is capturing, what
  /// `allocate` handed out since the capture began (freed in it, or the
  /// capture is refused), and the last graph captured, instantiated.
  bool capturing = false;
  std::unordered_set<void *> graphAllocations;
  /// The bytes of each live scratch allocation.
  std::unordered_map<void *, size_t> scratchBytes;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t graphExec = nullptr;
  /// Destroys the graph, if any.
  void dropGraph();
};

} // namespace mp::runtime

#endif // MP_RUNTIME_CUDA_CUDABACKEND_H
