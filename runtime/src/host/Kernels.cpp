//===- Kernels.cpp - elementwise, reduction and loss kernels on the host --===//

#include "HostBackend.h"

#include "../Elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace mp::runtime {

namespace {

/// Row-major strides.
std::vector<int64_t> stridesOf(int rank, const int64_t *shape) {
  std::vector<int64_t> strides(rank, 1);
  for (int d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// The row-major index, in the tensor without the dims of `mask`, of the
/// element at index `i` of a tensor of `shape`.
int64_t indexWithoutDims(int rank, const int64_t *shape,
                         const std::vector<int64_t> &strides, uint32_t mask,
                         int64_t i) {
  int64_t index = 0;
  for (int d = 0; d < rank; ++d) {
    int64_t coord = i / strides[d];
    i %= strides[d];
    if (!(mask >> d & 1))
      index = index * shape[d] + coord;
  }
  return index;
}

int64_t countOf(int rank, const int64_t *shape) {
  int64_t count = 1;
  for (int d = 0; d < rank; ++d)
    count *= shape[d];
  return count;
}

/// Per row: logsumexp, or the softmax into `softmax`.
mp_status softmaxRows(mp_context *ctx, const char *call, int64_t rows,
                      int64_t classes, const float *logits,
                      const int64_t *targets, double *lossSum, float *softmax) {
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] < 0 || targets[r] >= classes)
      return fail(ctx, call, kBadTargetFormat,
                  static_cast<long long>(targets[r]), static_cast<long long>(r),
                  static_cast<long long>(classes));
    const float *x = logits + r * classes;
    double top = *std::max_element(x, x + classes), sum = 0;
    for (int64_t c = 0; c < classes; ++c)
      sum += std::exp(double(x[c]) - top);
    if (lossSum)
      *lossSum += top + std::log(sum) - x[targets[r]];
    if (softmax)
      for (int64_t c = 0; c < classes; ++c)
        softmax[r * classes + c] = float(std::exp(double(x[c]) - top) / sum);
  }
  return MP_OK;
}

} // namespace

mp_status HostBackend::unary(mp_unary_op op, int64_t n, const float *in,
                             float *out, double scalar) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = applyUnary(op, in[i], scalar);
  return MP_OK;
}

mp_status HostBackend::binary(mp_binary_op op, int64_t n, const float *a,
                              const float *b, float *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = applyBinary(op, a[i], b[i]);
  return MP_OK;
}

mp_status HostBackend::reduceSum(int rank, const int64_t *shape,
                                 uint32_t dimsMask, double scale,
                                 const float *in, float *out) {
  // Accumulate in double, then scale.
  int64_t outCount = 1;
  for (int d = 0; d < rank; ++d)
    if (!(dimsMask >> d & 1))
      outCount *= shape[d];
  std::vector<double> sums(outCount, 0.0);
  std::vector<int64_t> strides = stridesOf(rank, shape);
  int64_t count = countOf(rank, shape);
  for (int64_t i = 0; i < count; ++i)
    sums[indexWithoutDims(rank, shape, strides, dimsMask, i)] += in[i];
  for (int64_t i = 0; i < outCount; ++i)
    out[i] = float(sums[i] * scale);
  return MP_OK;
}

mp_status HostBackend::broadcast(int rank, const int64_t *outShape,
                                 uint32_t dimsMask, const float *in,
                                 float *out) {
  std::vector<int64_t> strides = stridesOf(rank, outShape);
  int64_t count = countOf(rank, outShape);
  for (int64_t i = 0; i < count; ++i)
    out[i] = in[indexWithoutDims(rank, outShape, strides, dimsMask, i)];
  return MP_OK;
}

mp_status HostBackend::transpose(int rank, const int64_t *inShape,
                                 const int *perm, const float *in, float *out) {
  std::vector<int64_t> outShape(rank);
  for (int d = 0; d < rank; ++d)
    outShape[d] = inShape[perm[d]];
  std::vector<int64_t> inStrides = stridesOf(rank, inShape);
  std::vector<int64_t> outStrides = stridesOf(rank, outShape.data());
  int64_t count = countOf(rank, inShape);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, source = 0;
    for (int d = 0; d < rank; ++d) {
      int64_t coord = rest / outStrides[d];
      rest %= outStrides[d];
      source += coord * inStrides[perm[d]];
    }
    out[i] = in[source];
  }
  return MP_OK;
}

mp_status HostBackend::mseLoss(int64_t n, const float *a, const float *b,
                               double scale, float *out) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = double(a[i]) - double(b[i]);
    sum += d * d;
  }
  out[0] = float(sum * scale);
  return MP_OK;
}

mp_status HostBackend::crossEntropy(int64_t rows, int64_t classes,
                                    const float *logits, const int64_t *targets,
                                    double scale, float *out) {
  double sum = 0;
  if (softmaxRows(ctx, "mp_cross_entropy_f32", rows, classes, logits, targets,
                  &sum, nullptr))
    return MP_ERROR;
  out[0] = float(sum * scale);
  return MP_OK;
}

mp_status HostBackend::crossEntropyGrad(int64_t rows, int64_t classes,
                                        const float *logits,
                                        const int64_t *targets,
                                        const float *grad, double scale,
                                        float *out) {
  if (softmaxRows(ctx, "mp_cross_entropy_grad_f32", rows, classes, logits,
                  targets, nullptr, out))
    return MP_ERROR;
  double factor = double(grad[0]) * scale;
  for (int64_t r = 0; r < rows; ++r) {
    out[r * classes + targets[r]] -= 1;
    for (int64_t c = 0; c < classes; ++c)
      out[r * classes + c] = float(out[r * classes + c] * factor);
  }
  return MP_OK;
}

mp_status HostBackend::clipCoefficient(const float *squaredNorm, double maxNorm,
                                       float *out) {
  out[0] = computeClipCoefficient(squaredNorm[0], maxNorm);
  return MP_OK;
}

mp_status HostBackend::fill(int64_t n, float value, float *out) {
  std::fill(out, out + n, value);
  return MP_OK;
}

} // namespace mp::runtime
