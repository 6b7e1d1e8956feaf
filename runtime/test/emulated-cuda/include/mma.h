//===- mma.h - nvcuda::wmma, emulated on the CPU --------------------------===//

#ifndef MP_EMULATED_CUDA_MMA_H
#define MP_EMULATED_CUDA_MMA_H

#include "../Device.h"

namespace nvcuda::wmma {
using namespace mp::emulation::wmma;
inline float __float_to_tf32(float x) { return mp::emulation::toTf32(x); }
} // namespace nvcuda::wmma

#endif // MP_EMULATED_CUDA_MMA_H
