//===- VectorClones.h - loops also built for AVX2 and AVX-512 -*- C++ -*-=====//
//
// The runtime builds for baseline x86-64 (SSE2: 4 floats or 2 doubles a
// register, no fused multiply-add, so fmaf is a library call). A function
// marked MP_VECTOR_CLONES is compiled again for x86-64-v3 (AVX2 and FMA: 8
// floats a register) and x86-64-v4 (AVX-512: 16), and the loader picks the
// copy the CPU runs (the batch-8 FFN step's AdamW updates: 0.77 ms each
// with AVX2, 0.51 with AVX-512 on the 2-core AMD EPYC VMs, bench/README.md).
// GCC fuses a multiply and the add of its product in those copies where
// the source does not (-ffp-contract=fast, its default), which changes
// bits: VectorExp.cpp's exp accepts that (every copy is within an ulp of
// exp in double); host/Compute.cpp, whose updates must equal mp_adamw_f32's
// bit for bit on every CPU, builds with -ffp-contract=off, its fused
// multiply-adds written as fmaf.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_HOST_VECTORCLONES_H
#define MP_RUNTIME_HOST_VECTORCLONES_H

#if defined(__x86_64__) && defined(__GNUC__)
#define MP_VECTOR_CLONES                                                       \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MP_VECTOR_CLONES
#endif

#endif // MP_RUNTIME_HOST_VECTORCLONES_H
