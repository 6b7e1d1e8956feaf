//===- Device.h - CUDA kernels as fibers on the CPU -------------*- C++ -*-===//
//
// The device side of the emulated CUDA platform: a launch runs its blocks
// one after another on the calling thread, each block's threads as fibers
// (ucontext) that switch only at a barrier (__syncthreads, __syncwarp, a
// warp shuffle), so a block of 256 threads costs a few hundred context
// switches, not 256 OS threads. A barrier that some thread of the block
// never reaches (divergent __syncthreads, a shuffle after some lanes
// returned) is reported and aborts, as the GPU would hang or misbehave.
// Dynamic shared memory starts as NaN bytes, so a read before a write shows
// in the results. Because fibers interleave only at barriers, a missing
// barrier can go unseen here: CudaEmulation.h's engine (a std::thread per
// CUDA thread, under ThreadSanitizer) checks the flash kernels for that.
//
//===----------------------------------------------------------------------===//

#ifndef MP_EMULATED_CUDA_DEVICE_H
#define MP_EMULATED_CUDA_DEVICE_H

#include "../EmulatedWmma.h"
#include "include/cuda_runtime_api.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <math.h>
#include <tuple>
#include <type_traits>
#include <utility>

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x = 1, unsigned y = 1, unsigned z = 1)
      : x(x), y(y), z(z) {}
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) uint2 {
  unsigned x, y;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) {
  return {x, y, z, w};
}
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }

/// The running thread's coordinates: set by the scheduler each time it
/// resumes a fiber.
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

namespace mp::emulation {

void syncBlock();
/// The bits `value` held in lane (this lane ^ laneMask) of this warp.
uint64_t exchangeInWarp(uint64_t value, int laneMask);
/// The running block's dynamic shared memory.
unsigned char *dynamicSharedMemory();

/// Queues `body` (every thread of every block runs it) on `stream`, or
/// records the launch's error (cudaGetLastError returns it) without
/// queueing anything. `kernel` identifies the function for its attributes.
void launchKernel(const void *kernel, dim3 grid, dim3 block, size_t sharedBytes,
                  cudaStream_t stream, std::function<void()> body);

/// `kernel<<<grid, block, sharedBytes, stream>>>(args...)`, as
/// translate-launches.py writes it: launch(kernel, grid, ...)(args...).
/// `body` calls the kernel on copies of the arguments made when the launch
/// is, as CUDA copies them; `kernel` is its address, for its attributes
/// (none for a template kernel whose arguments are deduced: its body is a
/// generic lambda, launchDeduced).
template <typename Body> struct Launch {
  const void *kernel;
  Body body;
  dim3 grid, block;
  size_t sharedBytes;
  cudaStream_t stream;
  template <typename... Args> void operator()(Args &&...args) const {
    std::tuple<std::decay_t<Args>...> values(std::forward<Args>(args)...);
    launchKernel(kernel, grid, block, sharedBytes, stream,
                 [body = body, values] { std::apply(body, values); });
  }
};
template <typename... Params>
Launch<void (*)(Params...)> launch(void (*kernel)(Params...), dim3 grid,
                                   dim3 block, size_t sharedBytes = 0,
                                   cudaStream_t stream = nullptr) {
  return {reinterpret_cast<const void *>(kernel),
          kernel,
          grid,
          block,
          sharedBytes,
          stream};
}
template <typename Body>
Launch<Body> launchDeduced(Body body, dim3 grid, dim3 block,
                           size_t sharedBytes = 0,
                           cudaStream_t stream = nullptr) {
  return {nullptr, body, grid, block, sharedBytes, stream};
}

} // namespace mp::emulation

// CUDA's integer min and max in device code.
using std::max;
using std::min;

inline void __syncthreads() { mp::emulation::syncBlock(); }
inline void __syncwarp(unsigned = 0xffffffffu) { mp::emulation::syncWarp(); }

template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int laneMask, int width = 32) {
  static_assert(sizeof(T) <= sizeof(uint64_t) &&
                std::is_trivially_copyable_v<T>);
  if (mask != 0xffffffffu || width != 32)
    mp::emulation::fault("__shfl_xor_sync: only whole warps are emulated");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = mp::emulation::exchangeInWarp(bits, laneMask);
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

// Fibers switch only at barriers, so each atomic runs whole.
template <typename T> T atomicAdd(T *address, T value) {
  T old = *address;
  *address = old + value;
  return old;
}
template <typename T> T atomicMin(T *address, T value) {
  T old = *address;
  *address = value < old ? value : old;
  return old;
}
inline unsigned atomicCAS(unsigned *address, unsigned compare, unsigned value) {
  unsigned old = *address;
  if (old == compare)
    *address = value;
  return old;
}

#endif // MP_EMULATED_CUDA_DEVICE_H
