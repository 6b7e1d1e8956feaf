//===- cuda_runtime.h - CUDA's device code, emulated on the CPU -----------===//
//
// What kernels written in CUDA C++ use, as C++ for the emulated build: the
// function qualifiers, the thread indices, barriers, warp shuffles,
// atomics and vector types. `kernel<<<grid, block, shared, stream>>>(args)`
// is not C++: translate-launches.py rewrites it (and dynamic shared memory)
// before the C++ compiler sees the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef MP_EMULATED_CUDA_RUNTIME_H
#define MP_EMULATED_CUDA_RUNTIME_H

#include "cuda_runtime_api.h"

#include "../Device.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// Blocks run one at a time (last first), so a static is one block's shared
// memory.
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) alignas(n)

#endif // MP_EMULATED_CUDA_RUNTIME_H
