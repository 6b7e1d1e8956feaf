//===- Launch.cuh - launch shapes and block reductions ---------*- CUDA -*-===//

#ifndef MP_RUNTIME_CUDA_LAUNCH_CUH
#define MP_RUNTIME_CUDA_LAUNCH_CUH

#include "../Elementwise.h"
#include "Kernels.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace mp::runtime::cuda {

constexpr int kThreads = 256;
constexpr int kWarp = 32;

/// Blocks for a grid-stride loop over `n` items, `perBlock` per block
/// pass; capped since the loop covers the rest. At least one block.
inline unsigned gridFor(int64_t n, int64_t perBlock = kThreads,
                        int64_t maxBlocks = 65536) {
  return static_cast<unsigned>(
      std::max<int64_t>(1, std::min(maxBlocks, (n + perBlock - 1) / perBlock)));
}

/// Whether every pointer is 16-byte aligned, so float4 loads may read them.
template <typename... Pointers>
__host__ __device__ inline bool alignedForVectors(const Pointers *...pointers) {
  return ((reinterpret_cast<uintptr_t>(pointers) % 16 == 0) && ...);
}

/// Elements 4v to 4v + 3.
__device__ inline float4 load4(TensorIn tensor, int64_t v) {
  if (tensor.type != MP_DTYPE_BF16)
    return static_cast<const float4 *>(tensor.data)[v];
  uint2 bits = static_cast<const uint2 *>(tensor.data)[v];
  return make_float4(
      fromBFloat16Bits(bits.x & 0xffffu), fromBFloat16Bits(bits.x >> 16),
      fromBFloat16Bits(bits.y & 0xffffu), fromBFloat16Bits(bits.y >> 16));
}

__device__ inline void store4(TensorOut tensor, int64_t v, float4 x) {
  if (tensor.type != MP_DTYPE_BF16) {
    static_cast<float4 *>(tensor.data)[v] = x;
    return;
  }
  auto pair = [](float low, float high) {
    return uint32_t(toBFloat16Bits(low)) | uint32_t(toBFloat16Bits(high)) << 16;
  };
  static_cast<uint2 *>(tensor.data)[v] =
      make_uint2(pair(x.x, x.y), pair(x.z, x.w));
}

/// The first index and the stride of this thread's grid-stride loop.
__device__ inline int64_t gridStart() {
  return int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t gridStride() {
  return int64_t(gridDim.x) * blockDim.x;
}

/// The sum over the warp, in every lane. Each step adds the same two values
/// in both lanes of a pair, so all lanes hold the same bits.
__device__ inline double warpSum(double value) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

/// The maximum over the warp, in every lane.
__device__ inline double warpMax(double value) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    value = fmax(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

/// The sum of `value` over the block, in thread 0 (kThreads threads); in a
/// fixed order, so results repeat from run to run.
__device__ inline double blockSum(double value) {
  __shared__ double warpSums[kThreads / kWarp];
  value = warpSum(value);
  int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  if (lane == 0)
    warpSums[warp] = value;
  __syncthreads();
  value = 0;
  if (warp == 0) {
    value = lane < kThreads / kWarp ? warpSums[lane] : 0;
    value = warpSum(value);
  }
  __syncthreads();
  return value;
}

/// The sum of `value` over the block, in every thread.
__device__ inline double blockSumAll(double value) {
  __shared__ double total;
  value = blockSum(value);
  if (threadIdx.x == 0)
    total = value;
  __syncthreads();
  value = total;
  // Every thread has read it before a next call writes it.
  __syncthreads();
  return value;
}

/// The maximum of `value` over the block, in every thread (kThreads
/// threads).
__device__ inline double blockMaxAll(double value) {
  __shared__ double warpMaxima[kThreads / kWarp];
  __shared__ double top;
  value = warpMax(value);
  int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  if (lane == 0)
    warpMaxima[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = warpMax(lane < kThreads / kWarp ? warpMaxima[lane] : -INFINITY);
    if (lane == 0)
      top = value;
  }
  __syncthreads();
  value = top;
  __syncthreads();
  return value;
}

/// Records `fault` unless one is recorded already.
__device__ inline void recordFault(DeviceFault *fault, unsigned code,
                                   long long v0, long long v1, long long v2,
                                   double step, const char *op) {
  if (atomicCAS(&fault->code, 0u, code) != 0u)
    return;
  fault->values[0] = v0;
  fault->values[1] = v1;
  fault->values[2] = v2;
  fault->step = step;
  fault->op = op;
}

} // namespace mp::runtime::cuda

#endif // MP_RUNTIME_CUDA_LAUNCH_CUH
