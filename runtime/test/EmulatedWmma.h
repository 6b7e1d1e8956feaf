//===- EmulatedWmma.h - tensor cores and bf16 on the CPU -------*- C++ -*-===//
//
// What the emulated kernels share, whichever way their threads run
// (CudaEmulation.h: a std::thread each; emulated-cuda/Device.h: fibers):
// bfloat16 and tf32 rounding as the GPU rounds, and nvcuda::wmma's
// fragments. wmma's fragments hold the whole tile in every lane (mma_sync
// multiplies in float, the tensor cores' products of bf16 and tf32 values
// being exact in float, and waits for every lane as the collective
// operation it is) and a store writes each element from one lane only, so a
// lane that reads another's stores without a __syncwarp between them races
// as on the GPU. Checks that a GPU would fault on (wmma's pointer alignment
// and leading dimensions) abort with a message.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_TEST_EMULATEDWMMA_H
#define MP_RUNTIME_TEST_EMULATEDWMMA_H

#include "Elementwise.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace mp::emulation {

/// bfloat16 as the GPU's __nv_bfloat16 holds it; rounded to nearest even
/// as __float2bfloat16_rn (and the host backend) round.
struct Bf16 {
  uint16_t bits;
};
inline Bf16 toBf16(float x) { return {runtime::toBFloat16Bits(x)}; }
inline float toFloat(Bf16 x) {
  uint32_t bits = uint32_t(x.bits) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}
inline float toFloat(float x) { return x; }
/// x rounded to tf32 (10 mantissa bits) to nearest, ties away from zero, as
/// wmma::__float_to_tf32 (cvt.rna) rounds.
inline float toTf32(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  if ((bits & 0x7f800000u) != 0x7f800000u)
    bits = (bits + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &bits, sizeof(bits));
  return x;
}

[[noreturn]] inline void fault(const char *what) {
  std::fprintf(stderr, "cuda emulation: %s\n", what);
  std::abort();
}

/// The running thread's index in its block, and __syncwarp: each engine
/// defines them.
int threadInBlock();
void syncWarp();

/// nvcuda::wmma's fragments and operations, for the shapes and types the
/// kernels use.
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
namespace precision {
/// Operands held as float, read as tf32 (the kernels round them first).
struct tf32 {};
} // namespace precision

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static constexpr int rows = std::is_same_v<Use, matrix_b> ? K : M;
  static constexpr int cols = std::is_same_v<Use, matrix_a> ? K : N;
  /// The whole tile, row-major, in every lane.
  float x[rows * cols];
};

inline void checkOperand(const void *pointer, unsigned ld, size_t element) {
  if (reinterpret_cast<uintptr_t>(pointer) % 32 != 0)
    fault("a wmma pointer is not 256-bit aligned");
  if (ld * element % 16 != 0)
    fault("a wmma leading dimension is not a multiple of 16 bytes");
}

/// An operand fragment of T loads from T, a tf32 one from float.
template <typename Use, int M, int N, int K, typename T, typename Layout,
          typename P>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout> &f, const P *p,
                      unsigned ld) {
  static_assert(!std::is_void_v<Layout>, "operands carry their layout");
  static_assert(
      std::is_same_v<
          P, std::conditional_t<std::is_same_v<T, precision::tf32>, float, T>>,
      "a fragment loads from its element type");
  checkOperand(p, ld, sizeof(P));
  using F = fragment<Use, M, N, K, T, Layout>;
  for (int i = 0; i < F::rows; ++i)
    for (int j = 0; j < F::cols; ++j)
      f.x[i * F::cols + j] = toFloat(
          std::is_same_v<Layout, row_major> ? p[i * ld + j] : p[j * ld + i]);
}

template <int M, int N, int K>
void load_matrix_sync(fragment<accumulator, M, N, K, float> &f, const float *p,
                      unsigned ld, layout_t layout) {
  checkOperand(p, ld, sizeof(float));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j)
      f.x[i * N + j] = layout == mem_row_major ? p[i * ld + j] : p[j * ld + i];
}

/// Each element from one lane, as the lanes' registers hold them.
template <int M, int N, int K>
void store_matrix_sync(float *p, const fragment<accumulator, M, N, K, float> &f,
                       unsigned ld, layout_t layout) {
  checkOperand(p, ld, sizeof(float));
  for (int e = threadInBlock() % 32; e < M * N; e += 32) {
    int i = e / N, j = e % N;
    (layout == mem_row_major ? p[i * ld + j] : p[j * ld + i]) = f.x[e];
  }
}

template <int M, int N, int K>
void fill_fragment(fragment<accumulator, M, N, K, float> &f, float value) {
  for (float &x : f.x)
    x = value;
}

template <int M, int N, int K, typename T, typename LayoutA, typename LayoutB>
void mma_sync(fragment<accumulator, M, N, K, float> &d,
              const fragment<matrix_a, M, N, K, T, LayoutA> &a,
              const fragment<matrix_b, M, N, K, T, LayoutB> &b,
              const fragment<accumulator, M, N, K, float> &c) {
  // A warp-collective operation: it starts once every lane has its
  // fragments (so no lane stores its result over a tile another lane is
  // still loading).
  syncWarp();
  float result[M * N];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float sum = c.x[i * N + j];
      for (int k = 0; k < K; ++k)
        sum += a.x[i * K + k] * b.x[k * N + j];
      result[i * N + j] = sum;
    }
  std::memcpy(d.x, result, sizeof(result));
}
} // namespace wmma

} // namespace mp::emulation

#endif // MP_RUNTIME_TEST_EMULATEDWMMA_H
