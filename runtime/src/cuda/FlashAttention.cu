//===- FlashAttention.cu - the on-chip attention kernels ------------------===//
//
// nvcc's primitives for FlashAttention.cuh (wmma's bf16 and tf32
// fragments, warp shuffles, barriers), its three kernels and their
// launches: the forward pass, and the gradient's query gradient and key and
// value gradients, each a block of kThreads threads per work item
// with its tiles in dynamic shared memory, for each operand type.
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
__device__ __forceinline__ float toTf32(float x) {
  return wmma::__float_to_tf32(x);
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

template <typename T>
__global__ void __launch_bounds__(flash::kThreads)
    flashForwardKernel(FlashShape s, TensorIn q, TensorIn k, TensorIn v,
                       TensorOut out, float *lse) {
  extern __shared__ __align__(128) unsigned char shared[];
  flash::attentionForward<T>(s, q, k, v, out, lse, shared, blockIdx.x,
                             gridDim.x);
}

template <typename T>
__global__ void __launch_bounds__(flash::kThreads)
    flashQueryGradKernel(FlashShape s, TensorIn q, TensorIn k, TensorIn v,
                         TensorIn out, const float *lse, const float *grad,
                         float *dq, float *rowDots) {
  extern __shared__ __align__(128) unsigned char shared[];
  flash::attentionGradQuery<T>(s, q, k, v, out, lse, grad, dq, rowDots, shared,
                               blockIdx.x, gridDim.x);
}

template <typename T>
__global__ void __launch_bounds__(flash::kThreads)
    flashKeyGradKernel(FlashShape s, TensorIn q, TensorIn k, TensorIn v,
                       const float *lse, const float *grad,
                       const float *rowDots, float *dk, float *dv) {
  extern __shared__ __align__(128) unsigned char shared[];
  flash::attentionGradKeys<T>(s, q, k, v, lse, grad, rowDots, dk, dv, shared,
                              blockIdx.x, gridDim.x);
}

/// A block per work item (the kernels loop over the rest).
unsigned blocksFor(int64_t items) { return gridFor(items, 1, INT32_MAX); }

template <typename T> cudaError_t raiseSharedLimit(int limit) {
  cudaError_t status = cudaSuccess;
  for (const void *kernel :
       {reinterpret_cast<const void *>(flashForwardKernel<T>),
        reinterpret_cast<const void *>(flashQueryGradKernel<T>),
        reinterpret_cast<const void *>(flashKeyGradKernel<T>)})
    if (status == cudaSuccess)
      status = cudaFuncSetAttribute(
          kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit);
  return status;
}

template <typename T> size_t mostSharedBytes(const FlashShape &s) {
  return std::max({flash::forwardSharedBytes<T>(s),
                   flash::gradSharedBytes<T>(s, false),
                   flash::gradSharedBytes<T>(s, true)});
}

template <typename T>
cudaError_t launchForward(cudaStream_t stream, const FlashShape &s, TensorIn q,
                          TensorIn k, TensorIn v, TensorOut out, float *lse) {
  flashForwardKernel<T>
      <<<blocksFor(s.queryBlocks() * s.sizes.batch), flash::kThreads,
         flash::forwardSharedBytes<T>(s), stream>>>(s, q, k, v, out, lse);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launchGrad(cudaStream_t stream, const FlashShape &s, TensorIn q,
                       TensorIn k, TensorIn v, TensorIn out, const float *lse,
                       const float *grad, float *dq, float *dk, float *dv,
                       float *rowDots) {
  flashQueryGradKernel<T>
      <<<blocksFor(s.queryBlocks() * s.sizes.batch), flash::kThreads,
         flash::gradSharedBytes<T>(s, false), stream>>>(s, q, k, v, out, lse,
                                                        grad, dq, rowDots);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  flashKeyGradKernel<T>
      <<<blocksFor(s.keyBlocks() * (s.sizes.batch / s.sizes.group)),
         flash::kThreads, flash::gradSharedBytes<T>(s, true), stream>>>(
          s, q, k, v, lse, grad, rowDots, dk, dv);
  return cudaGetLastError();
}

} // namespace

cudaError_t prepareFlashAttention(int device, size_t *sharedLimit) {
  int limit = 0;
  cudaError_t status = cudaDeviceGetAttribute(
      &limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (status == cudaSuccess)
    status = raiseSharedLimit<flash::Bf16>(limit);
  if (status == cudaSuccess)
    status = raiseSharedLimit<float>(limit);
  *sharedLimit = status == cudaSuccess ? size_t(limit) : 0;
  return status;
}

bool flashAttentionFits(mp_precision precision, const AttentionShape &shape,
                        size_t sharedLimit) {
  if (shape.headDim > flash::kMaxHeadDim || shape.valueDim > flash::kMaxHeadDim)
    return false;
  FlashShape s(shape, 1);
  if (precision == MP_PRECISION_BF16)
    return mostSharedBytes<flash::Bf16>(s) <= sharedLimit;
  return precision == MP_PRECISION_TF32 &&
         mostSharedBytes<float>(s) <= sharedLimit;
}

cudaError_t launchFlashAttention(cudaStream_t stream, mp_precision precision,
                                 const AttentionShape &shape, float scale,
                                 TensorIn q, TensorIn k, TensorIn v,
                                 TensorOut out, float *lse) {
  FlashShape s(shape, scale);
  return precision == MP_PRECISION_BF16
             ? launchForward<flash::Bf16>(stream, s, q, k, v, out, lse)
             : launchForward<float>(stream, s, q, k, v, out, lse);
}

cudaError_t launchFlashAttentionGrad(cudaStream_t stream,
                                     mp_precision precision,
                                     const AttentionShape &shape, float scale,
                                     TensorIn q, TensorIn k, TensorIn v,
                                     TensorIn out, const float *lse,
                                     const float *grad, float *dq, float *dk,
                                     float *dv, float *rowDots) {
  FlashShape s(shape, scale);
  return precision == MP_PRECISION_BF16
             ? launchGrad<flash::Bf16>(stream, s, q, k, v, out, lse, grad, dq,
                                       dk, dv, rowDots)
             : launchGrad<float>(stream, s, q, k, v, out, lse, grad, dq, dk, dv,
                                 rowDots);
}

} // namespace mp::runtime::cuda
