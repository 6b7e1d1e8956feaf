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

class Backend {
public:
  explicit Backend(mp_context *ctx) : ctx(ctx) {}
  virtual ~Backend() = default;

  // Memory. `allocate` records a failure and returns null.
  virtual void *allocate(size_t bytes) = 0;
  virtual void release(void *ptr) = 0;
  virtual mp_status copy(void *dst, const void *src, size_t bytes) = 0;
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
  /// Waits for the work issued so far (the host's is done when issued).
  virtual mp_status synchronize() { return MP_OK; }

  // Collectives along a dim: `view` is the local tensor around it. For
  // all_to_all, `split` is the input around the split dim and `piece` one
  // received piece around the concat dim.
  virtual mp_status allReduce(const Group &group, mp_dtype dtype, void *data,
                              int64_t count) = 0;
  virtual mp_status allGather(const Group &group, mp_dtype dtype,
                              const void *in, void *out,
                              const DimView &view) = 0;
  virtual mp_status reduceScatter(const Group &group, mp_dtype dtype,
                                  const void *in, void *out,
                                  const DimView &view) = 0;
  virtual mp_status allToAll(const Group &group, mp_dtype dtype, const void *in,
                             void *out, const DimView &split,
                             const DimView &piece) = 0;
  virtual mp_status shardSlice(const Group &group, const void *in, void *out,
                               const DimView &view) = 0;

  // Compute, with the meaning of the mp_*_f32 calls of the same names.
  virtual mp_status gemm(bool transA, bool transB, int64_t batch, int64_t m,
                         int64_t n, int64_t k, float alpha, const float *a,
                         int64_t strideA, const float *b, int64_t strideB,
                         float beta, float *c, int64_t strideC) = 0;
  virtual mp_status unary(mp_unary_op op, int64_t n, const float *in,
                          float *out, double scalar) = 0;
  virtual mp_status binary(mp_binary_op op, int64_t n, const float *a,
                           const float *b, float *out) = 0;
  virtual mp_status reduceSum(int rank, const int64_t *shape, uint32_t dimsMask,
                              double scale, const float *in, float *out) = 0;
  virtual mp_status broadcast(int rank, const int64_t *outShape,
                              uint32_t dimsMask, const float *in,
                              float *out) = 0;
  virtual mp_status transpose(int rank, const int64_t *inShape, const int *perm,
                              const float *in, float *out) = 0;
  virtual mp_status mseLoss(int64_t n, const float *a, const float *b,
                            double scale, float *out) = 0;
  virtual mp_status crossEntropy(int64_t rows, int64_t classes,
                                 const float *logits, const int64_t *targets,
                                 double scale, float *out) = 0;
  virtual mp_status crossEntropyGrad(int64_t rows, int64_t classes,
                                     const float *logits,
                                     const int64_t *targets, const float *grad,
                                     double scale, float *out) = 0;
  virtual mp_status clipCoefficient(const float *squaredNorm, double maxNorm,
                                    float *out) = 0;
  virtual mp_status fill(int64_t n, float value, float *out) = 0;
  virtual mp_status sgd(int64_t n, float *param, const float *grad,
                        float *momentumBuffer, double lr, double momentum,
                        double dampening, double weightDecay,
                        bool nesterov) = 0;
  virtual mp_status adamw(int64_t n, float *param, const float *grad,
                          float *expAvg, float *expAvgSq, double lr,
                          double beta1, double beta2, double eps,
                          double weightDecay, const float *step) = 0;

protected:
  mp_context *ctx;
};

/// The backends: on failure they record the error in `ctx` and return null.
/// Creating the CUDA backend is collective over the world (NCCL's setup).
std::unique_ptr<Backend> createHostBackend(mp_context *ctx);
#ifdef MP_RUNTIME_HAS_CUDA
std::unique_ptr<Backend> createCudaBackend(mp_context *ctx);
#endif

} // namespace mp::runtime

#endif // MP_RUNTIME_BACKEND_H
