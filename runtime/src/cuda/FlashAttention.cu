//===- FlashAttention.cu - the on-chip attention kernels ------------------===//
//
// nvcc's primitives for FlashAttention.cuh (bf16 wmma fragments, warp
// shuffles, barriers), its four kernels and their launches: the forward
// pass, and the gradient's row statistics, query gradient and key and value
// gradients, each a block of kThreads threads per work item with its tiles
// in dynamic shared memory.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "Launch.cuh"

#include <cuda_bf16.h>
#include <mma.h>

namespace mp::runtime::flash {
#define MP_FLASH_DEVICE __device__ __forceinline__
using Bf16 = __nv_bfloat16;
namespace wmma = nvcuda::wmma;
__device__ __forceinline__ Bf16 toBf16(float x) {
  return __float2bfloat16_rn(x);
}
__device__ __forceinline__ int threadInBlock() { return threadIdx.x; }
__device__ __forceinline__ void syncBlock() { __syncthreads(); }
__device__ __forceinline__ void syncWarp() { __syncwarp(); }
__device__ __forceinline__ float shuffleXor(float value, int laneMask) {
  return __shfl_xor_sync(0xffffffffu, value, laneMask);
}
} // namespace mp::runtime::flash

#include "FlashAttention.cuh"

namespace mp::runtime::cuda {

namespace {

using flash::FlashShape;

__global__ void __launch_bounds__(flash::kThreads)
    flashForwardKernel(FlashShape s, const float *q, const float *k,
                       const float *v, float *out) {
  extern __shared__ __align__(128) unsigned char shared[];
  flash::attentionForward(s, q, k, v, out, shared, blockIdx.x, gridDim.x);
}

__global__ void __launch_bounds__(flash::kThreads)
    flashStatsKernel(FlashShape s, const float *q, const float *k,
                     const float *v, const float *grad, float *stats) {
  extern __shared__ __align__(128) unsigned char shared[];
  flash::attentionGradStats(s, q, k, v, grad, stats, shared, blockIdx.x,
                            gridDim.x);
}

__global__ void __launch_bounds__(flash::kThreads)
    flashQueryGradKernel(FlashShape s, const float *q, const float *k,
                         const float *v, const float *grad, const float *stats,
                         float *dq) {
  extern __shared__ __align__(128) unsigned char shared[];
  flash::attentionGradQuery(s, q, k, v, grad, stats, dq, shared, blockIdx.x,
                            gridDim.x);
}

__global__ void __launch_bounds__(flash::kThreads)
    flashKeyGradKernel(FlashShape s, const float *q, const float *k,
                       const float *v, const float *grad, const float *stats,
                       float *dk, float *dv) {
  extern __shared__ __align__(128) unsigned char shared[];
  flash::attentionGradKeys(s, q, k, v, grad, stats, dk, dv, shared, blockIdx.x,
                           gridDim.x);
}

/// A block per work item (the kernels loop over the rest).
unsigned blocksFor(int64_t items) { return gridFor(items, 1, INT32_MAX); }

} // namespace

cudaError_t prepareFlashAttention(int device, size_t *sharedLimit) {
  int limit = 0;
  cudaError_t status = cudaDeviceGetAttribute(
      &limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  for (const void *kernel :
       {reinterpret_cast<const void *>(flashForwardKernel),
        reinterpret_cast<const void *>(flashStatsKernel),
        reinterpret_cast<const void *>(flashQueryGradKernel),
        reinterpret_cast<const void *>(flashKeyGradKernel)})
    if (status == cudaSuccess)
      status = cudaFuncSetAttribute(
          kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit);
  *sharedLimit = status == cudaSuccess ? size_t(limit) : 0;
  return status;
}

bool flashAttentionFits(const AttentionShape &shape, size_t sharedLimit) {
  if (shape.headDim > flash::kMaxHeadDim || shape.valueDim > flash::kMaxHeadDim)
    return false;
  FlashShape s(shape, 1);
  size_t most = std::max(
      {flash::forwardSharedBytes(s), flash::statsSharedBytes(s),
       flash::gradSharedBytes(s, false), flash::gradSharedBytes(s, true)});
  return most <= sharedLimit;
}

cudaError_t launchFlashAttention(cudaStream_t stream,
                                 const AttentionShape &shape, float scale,
                                 const float *q, const float *k, const float *v,
                                 float *out) {
  FlashShape s(shape, scale);
  flashForwardKernel<<<blocksFor(s.queryBlocks() * shape.batch),
                       flash::kThreads, flash::forwardSharedBytes(s), stream>>>(
      s, q, k, v, out);
  return cudaGetLastError();
}

cudaError_t launchFlashAttentionGrad(cudaStream_t stream,
                                     const AttentionShape &shape, float scale,
                                     const float *q, const float *k,
                                     const float *v, const float *grad,
                                     float *dq, float *dk, float *dv,
                                     float *stats) {
  FlashShape s(shape, scale);
  unsigned queryBlocks = blocksFor(s.queryBlocks() * shape.batch);
  flashStatsKernel<<<queryBlocks, flash::kThreads, flash::statsSharedBytes(s),
                     stream>>>(s, q, k, v, grad, stats);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  flashQueryGradKernel<<<queryBlocks, flash::kThreads,
                         flash::gradSharedBytes(s, false), stream>>>(
      s, q, k, v, grad, stats, dq);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  flashKeyGradKernel<<<blocksFor(s.keyBlocks() * (shape.batch / shape.group)),
                       flash::kThreads, flash::gradSharedBytes(s, true),
                       stream>>>(s, q, k, v, grad, stats, dk, dv);
  return cudaGetLastError();
}

} // namespace mp::runtime::cuda
