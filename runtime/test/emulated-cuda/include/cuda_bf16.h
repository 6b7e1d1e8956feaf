//===- cuda_bf16.h - __nv_bfloat16, emulated on the CPU -------------------===//

#ifndef MP_EMULATED_CUDA_BF16_H
#define MP_EMULATED_CUDA_BF16_H

#include "../Device.h"

using __nv_bfloat16 = mp::emulation::Bf16;
inline __nv_bfloat16 __float2bfloat16_rn(float x) {
  return mp::emulation::toBf16(x);
}

#endif // MP_EMULATED_CUDA_BF16_H
