//===- VectorExp.cpp - exp over a row, in vector registers ----------------===//
//
// exp(x) = 2^k · exp(r): x·log2(e) rounded to an integer k by the 1.5·2^52
// trick, r = x - k·ln 2 in two parts (|r| <= ln 2 / 2), exp(r) by its
// Taylor series to degree 13 (the first term left out, r^14/14!, is below
// 4e-18 of it), and 2^k put into the exponent bits. No branch and no call,
// so the loop vectorizes (the runtime builds with -fno-trapping-math, which
// lets the compiler turn the clamps into selects); on x86-64 CPUs with
// AVX2 and FMA a second copy runs 4 lanes at a time (3.6x glibc's exp on
// the build machine, 2 lanes and no faster without them).
//
//===----------------------------------------------------------------------===//

#include "VectorExp.h"
#include "VectorClones.h"

#include "../Elementwise.h"

#include <cmath>

namespace mp::runtime {

namespace {

// Always inlined: a call in a loop keeps it from vectorizing, and GCC's
// growth limits stop inlining it into the later loops of this file.
[[gnu::always_inline]] inline double vectorExp(double x) {
  constexpr double kLog2e = 1.4426950408889634,
                   kLn2Hi = 6.93147180369123816490e-01,
                   kLn2Lo = 1.90821492927058770002e-10,
                   kRound = 6755399441055744.0; // 1.5·2^52
  double clamped = x < -708.0 ? -708.0 : x > 709.0 ? 709.0 : x;
  double shifted = clamped * kLog2e + kRound;
  double k = shifted - kRound;
  double r = (clamped - k * kLn2Hi) - k * kLn2Lo;
  // Horner over 1/j!, j = 13 down to 0.
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // shifted's low mantissa bits hold k (two's complement); 2^k's exponent
  // field is k + 1023.
  uint64_t bits = (__builtin_bit_cast(uint64_t, shifted) + 1023) << 52;
  double result = p * __builtin_bit_cast(double, bits);
  result = x > 709.0 ? INFINITY : result;
  result = x <= -708.0 ? 0.0 : result;
  return x == x ? result : x;
}

} // namespace

MP_VECTOR_CLONES
double getExps(const float *x, int64_t n, double shift, double *out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    out[i] = vectorExp(double(x[i]) - shift);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += out[i];
  return sum;
}

namespace {
// A loop per op: a switch around the loops keeps the compiler from
// vectorizing them.
MP_VECTOR_CLONES
void expLoop(const float *in, int64_t n, float *out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    out[i] = float(vectorExp(double(in[i])));
}

MP_VECTOR_CLONES
void sigmoidLoop(const float *in, int64_t n, float *out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    out[i] = float(1 / (1 + vectorExp(-double(in[i]))));
}

MP_VECTOR_CLONES
void siluLoop(const float *in, int64_t n, float *out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    double x = in[i];
    out[i] = float(x * (1 / (1 + vectorExp(-x))));
  }
}
} // namespace

MP_VECTOR_CLONES
void applySiluGrad(const float *grad, const float *in, int64_t n, float *out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    double x = in[i];
    out[i] = float(grad[i] * siluDerivative(x, 1 / (1 + vectorExp(-x))));
  }
}

MP_VECTOR_CLONES
void applySwiglu(const float *gate, const float *up, int64_t n, float *out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    out[i] = swiglu(gate[i], up[i], 1 / (1 + vectorExp(-double(gate[i]))));
}

MP_VECTOR_CLONES
void applySwigluGrad(const float *grad, const float *gate, const float *up,
                     int64_t n, float *gateGrad, float *upGrad) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    // Read before either store: the outputs may be inputs.
    float g = grad[i], x = gate[i], u = up[i];
    double s = 1 / (1 + vectorExp(-double(x)));
    gateGrad[i] = swigluGateGrad(g, x, u, s);
    upGrad[i] = swigluUpGrad(g, x, s);
  }
}

void applyExpUnary(mp_unary_op op, const float *in, int64_t n, float *out) {
  if (op == MP_UNARY_EXP)
    expLoop(in, n, out);
  else if (op == MP_UNARY_SIGMOID)
    sigmoidLoop(in, n, out);
  else
    siluLoop(in, n, out);
}

} // namespace mp::runtime
