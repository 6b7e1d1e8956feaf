//===- Loss.cu - the losses and the cross entropy's gradient --------------===//
//
// Losses sum in double, as the host backend does: each block writes one
// partial sum, one more block adds them in a fixed order, so a loss repeats
// bit for bit from run to run. The cross entropy gives a warp to each row.
//
//===----------------------------------------------------------------------===//

#include "Launch.cuh"

#include <cstdint>

namespace mp::runtime::cuda {

namespace {

constexpr int kWarpsPerBlock = kThreads / kWarp;

/// out[0] = scale · Σ partials.
__global__ void finishSumKernel(const double *partials, int count, double scale,
                                float *out) {
  double sum = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x)
    sum += partials[i];
  sum = blockSum(sum);
  if (threadIdx.x == 0)
    out[0] = float(sum * scale);
}

cudaError_t finishSum(cudaStream_t stream, const double *partials, int count,
                      double scale, float *out) {
  finishSumKernel<<<1, kThreads, 0, stream>>>(partials, count, scale, out);
  return cudaGetLastError();
}

__global__ void squaredDistanceKernel(int64_t n, const float *a, const float *b,
                                      double *partials) {
  double sum = 0;
  for (int64_t i = gridStart(); i < n; i += gridStride()) {
    double d = double(a[i]) - (b ? double(b[i]) : 0.0);
    sum += d * d;
  }
  sum = blockSum(sum);
  if (threadIdx.x == 0)
    partials[blockIdx.x] = sum;
}

/// The row's max and Σ exp(x - max), in every lane of the warp.
__device__ void softmaxStatistics(const float *x, int64_t classes, int lane,
                                  double &top, double &sum) {
  top = -INFINITY;
  for (int64_t c = lane; c < classes; c += kWarp)
    top = fmax(top, double(x[c]));
  top = warpMax(top);
  sum = 0;
  for (int64_t c = lane; c < classes; c += kWarp)
    sum += exp(double(x[c]) - top);
  sum = warpSum(sum);
}

/// Whether `target` is a class; if not, records the fault (once per warp).
__device__ bool checkTarget(int64_t target, int64_t row, int64_t classes,
                            int lane, unsigned code, DeviceFault *fault,
                            const char *op) {
  if (target >= 0 && target < classes)
    return true;
  if (lane == 0)
    recordFault(fault, code, target, row, classes, 0, op);
  return false;
}

__global__ void crossEntropyKernel(int64_t rows, int64_t classes,
                                   const float *logits, const int64_t *targets,
                                   IgnoredTarget ignored, double *partials,
                                   DeviceFault *fault, const char *op) {
  int lane = threadIdx.x % kWarp;
  double loss = 0;
  for (int64_t row = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
       row < rows; row += int64_t(gridDim.x) * kWarpsPerBlock) {
    int64_t target = targets[row];
    if (ignored.skips(target))
      continue;
    if (!checkTarget(target, row, classes, lane,
                     DeviceFault::kCrossEntropyTarget, fault, op))
      continue;
    const float *x = logits + row * classes;
    double top, sum;
    softmaxStatistics(x, classes, lane, top, sum);
    if (lane == 0)
      loss += top + log(sum) - x[target];
  }
  loss = blockSum(loss);
  if (threadIdx.x == 0)
    partials[blockIdx.x] = loss;
}

__global__ void crossEntropyGradKernel(int64_t rows, int64_t classes,
                                       const float *logits,
                                       const int64_t *targets,
                                       IgnoredTarget ignored, const float *grad,
                                       double scale, float *out,
                                       DeviceFault *fault, const char *op) {
  int lane = threadIdx.x % kWarp;
  double factor = double(grad[0]) * scale;
  for (int64_t row = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
       row < rows; row += int64_t(gridDim.x) * kWarpsPerBlock) {
    int64_t target = targets[row];
    if (ignored.skips(target)) {
      for (int64_t c = lane; c < classes; c += kWarp)
        out[row * classes + c] = 0;
      continue;
    }
    if (!checkTarget(target, row, classes, lane,
                     DeviceFault::kCrossEntropyGradTarget, fault, op))
      continue;
    const float *x = logits + row * classes;
    double top, sum;
    softmaxStatistics(x, classes, lane, top, sum);
    for (int64_t c = lane; c < classes; c += kWarp) {
      // The host's order of roundings: softmax in float, minus one, scaled.
      float softmax = float(exp(double(x[c]) - top) / sum);
      if (c == target)
        softmax -= 1;
      out[row * classes + c] = float(softmax * factor);
    }
  }
}

} // namespace

cudaError_t launchMseLoss(cudaStream_t stream, int64_t n, const float *a,
                          const float *b, double scale, float *out,
                          double *partials) {
  unsigned blocks = gridFor(n, kThreads, kMaxReductionBlocks);
  squaredDistanceKernel<<<blocks, kThreads, 0, stream>>>(n, a, b, partials);
  cudaError_t status = cudaGetLastError();
  return status == cudaSuccess ? finishSum(stream, partials, blocks, scale, out)
                               : status;
}

cudaError_t launchCrossEntropy(cudaStream_t stream, int64_t rows,
                               int64_t classes, const float *logits,
                               const int64_t *targets, IgnoredTarget ignored,
                               double scale, float *out, double *partials,
                               DeviceFault *fault, const char *op) {
  unsigned blocks = gridFor(rows, kWarpsPerBlock, kMaxReductionBlocks);
  crossEntropyKernel<<<blocks, kThreads, 0, stream>>>(
      rows, classes, logits, targets, ignored, partials, fault, op);
  cudaError_t status = cudaGetLastError();
  return status == cudaSuccess ? finishSum(stream, partials, blocks, scale, out)
                               : status;
}

cudaError_t launchCrossEntropyGrad(cudaStream_t stream, int64_t rows,
                                   int64_t classes, const float *logits,
                                   const int64_t *targets,
                                   IgnoredTarget ignored, const float *grad,
                                   double scale, float *out, DeviceFault *fault,
                                   const char *op) {
  if (rows == 0)
    return cudaSuccess;
  crossEntropyGradKernel<<<gridFor(rows, kWarpsPerBlock), kThreads, 0,
                           stream>>>(rows, classes, logits, targets, ignored,
                                     grad, scale, out, fault, op);
  return cudaGetLastError();
}

} // namespace mp::runtime::cuda
