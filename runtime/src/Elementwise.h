//===- Elementwise.h - per-element formulas of both backends ----*- C++ -*-===//
//
// The host loops and the CUDA kernels apply these same functions, so the
// two backends agree by construction on activations, their derivatives and
// the optimizer updates. Math is in double, as PyTorch's reference values.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_ELEMENTWISE_H
#define MP_RUNTIME_ELEMENTWISE_H

#include "mp_runtime.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define MP_HOST_DEVICE __host__ __device__
#else
#define MP_HOST_DEVICE
#endif

namespace mp::runtime {

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2Pi = 2.5066282746310002;
constexpr double kGeluCubic = 0.044715;

/// x rounded to bfloat16 (to nearest, ties to even): the top 16 bits of its
/// rounded bit pattern. A NaN stays a (quiet) NaN.
MP_HOST_DEVICE inline uint16_t toBFloat16Bits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits | 0x00400000u) >> 16);
  bits += 0x7fffu + (bits >> 16 & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

MP_HOST_DEVICE inline float fromBFloat16Bits(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float x;
  memcpy(&x, &wide, sizeof x);
  return x;
}

/// A tensor of a call that computes in float32 on float32 or bfloat16
/// elements (mp_unary_f32, mp_binary_f32, mp_rms_norm_f32,
/// mp_attention_f32, ...).
struct TensorIn {
  mp_dtype type;
  const void *data;
};
struct TensorOut {
  mp_dtype type;
  void *data;
};

// Their elements as floats: read widened, written rounded to nearest even.
// A tensor's dtype is the same for every thread of a kernel, so the
// branches on it do not diverge.

MP_HOST_DEVICE inline float load1(TensorIn tensor, int64_t i) {
  if (tensor.type == MP_DTYPE_BF16)
    return fromBFloat16Bits(static_cast<const uint16_t *>(tensor.data)[i]);
  return static_cast<const float *>(tensor.data)[i];
}

MP_HOST_DEVICE inline void store1(TensorOut tensor, int64_t i, float x) {
  if (tensor.type == MP_DTYPE_BF16)
    static_cast<uint16_t *>(tensor.data)[i] = toBFloat16Bits(x);
  else
    static_cast<float *>(tensor.data)[i] = x;
}

/// The tensor from element `i` on.
MP_HOST_DEVICE inline TensorIn offsetBy(TensorIn tensor, int64_t i) {
  size_t bytes = tensor.type == MP_DTYPE_BF16 ? 2 : 4;
  return {tensor.type, static_cast<const char *>(tensor.data) + i * bytes};
}
MP_HOST_DEVICE inline TensorOut offsetBy(TensorOut tensor, int64_t i) {
  size_t bytes = tensor.type == MP_DTYPE_BF16 ? 2 : 4;
  return {tensor.type, static_cast<char *>(tensor.data) + i * bytes};
}

MP_HOST_DEVICE inline double sigmoid(double x) { return 1 / (1 + ::exp(-x)); }

MP_HOST_DEVICE inline double gelu(double x, bool tanhForm) {
  if (tanhForm)
    return 0.5 * x * (1 + ::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
  return 0.5 * x * (1 + ::erf(x / kSqrt2));
}

MP_HOST_DEVICE inline double geluDerivative(double x, bool tanhForm) {
  if (tanhForm) {
    double t = ::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
    return 0.5 * (1 + t) +
           0.5 * x * (1 - t * t) * kSqrt2OverPi * (1 + 3 * kGeluCubic * x * x);
  }
  return 0.5 * (1 + ::erf(x / kSqrt2)) + x * ::exp(-0.5 * x * x) / kSqrt2Pi;
}

/// silu'(x) = s · (1 + x · (1 - s)) from s = sigmoid(x), as PyTorch's
/// silu_backward computes it. (The host's loops pass s from their own exp.)
MP_HOST_DEVICE inline double siluDerivative(double x, double s) {
  return s * (1 + x * (1 - s));
}

MP_HOST_DEVICE inline double siluDerivative(double x) {
  return siluDerivative(x, sigmoid(x));
}

/// silu(gate)·up from s = sigmoid(gate), rounded as mp.silu then mp.mul
/// round: silu's value to float, then the product.
MP_HOST_DEVICE inline float swiglu(float gate, float up, double s) {
  float silu = float(gate * s);
  return float(double(silu) * up);
}

/// swiglu's gradients from s = sigmoid(gate), rounded as mp.mul and
/// mp.silu_grad round them unfused: t = grad·up, then t·silu'(gate); and
/// grad times silu's rounded value. (Two values, not two outputs by
/// reference, which keep the host's loop from vectorizing.)
MP_HOST_DEVICE inline float swigluGateGrad(float grad, float gate, float up,
                                           double s) {
  float t = float(double(grad) * up);
  return float(double(t) * siluDerivative(gate, s));
}

MP_HOST_DEVICE inline float swigluUpGrad(float grad, float gate, double s) {
  float silu = float(gate * s);
  return float(double(grad) * silu);
}

/// op(x); the public call has checked that `op` is one of the enum's.
MP_HOST_DEVICE inline float applyUnary(mp_unary_op op, float in, double scalar,
                                       double upper) {
  double x = in;
  switch (op) {
  case MP_UNARY_NEG:
    return float(-x);
  case MP_UNARY_EXP:
    return float(::exp(x));
  case MP_UNARY_RELU:
    return float(x > 0 ? x : 0);
  case MP_UNARY_STEP:
    return x > 0 ? 1.0f : 0.0f;
  case MP_UNARY_SIGMOID:
    return float(sigmoid(x));
  case MP_UNARY_SILU:
    return float(x * sigmoid(x));
  case MP_UNARY_GELU:
    return float(gelu(x, false));
  case MP_UNARY_GELU_TANH:
    return float(gelu(x, true));
  case MP_UNARY_SCALE:
    return float(x * scalar);
  case MP_UNARY_TANH:
    return float(::tanh(x));
  case MP_UNARY_LOG:
    return float(::log(x));
  case MP_UNARY_RSQRT:
    return float(1 / ::sqrt(x + scalar));
  case MP_UNARY_CLAMP:
    return float(x < scalar ? scalar : (x > upper ? upper : x));
  case MP_UNARY_CLAMP_MASK:
    return x >= scalar && x <= upper ? 1.0f : 0.0f;
  }
  return 0;
}

/// a op b; the public call has checked that `op` is one of the enum's.
MP_HOST_DEVICE inline float applyBinary(mp_binary_op op, float a, float b) {
  double x = a, z = b;
  switch (op) {
  case MP_BINARY_ADD:
    return float(x + z);
  case MP_BINARY_SUB:
    return float(x - z);
  case MP_BINARY_MUL:
    return float(x * z);
  case MP_BINARY_DIV:
    return float(x / z);
  case MP_BINARY_GELU_GRAD:
    return float(x * geluDerivative(z, false));
  case MP_BINARY_GELU_TANH_GRAD:
    return float(x * geluDerivative(z, true));
  case MP_BINARY_SILU_GRAD:
    return float(x * siluDerivative(z));
  case MP_BINARY_SWIGLU:
    return swiglu(a, b, sigmoid(x));
  }
  return 0;
}

/// min(1, max_norm / (norm + 1e-6)); a NaN norm gives 1, as std::min does.
MP_HOST_DEVICE inline float computeClipCoefficient(float squaredNorm,
                                                   double maxNorm) {
  double coefficient = maxNorm / (::sqrt(double(squaredNorm)) + 1e-6);
  return float(coefficient < 1.0 ? coefficient : 1.0);
}

/// A gradient times the scale an update takes (mp_adamw_f32's grad_scale;
/// 1 without one, which multiplies exactly), rounded as MP_BINARY_MUL: the
/// double product of two floats is exact, so no contraction into an FMA
/// can change it.
MP_HOST_DEVICE inline float scaleGradient(float grad, float scale) {
  return float(double(grad) * double(scale));
}

/// torch.optim.SGD on one element (the buffer starts at zero).
MP_HOST_DEVICE inline void sgdUpdate(float &param, float grad,
                                     float *momentumBuffer, double lr,
                                     double momentum, double dampening,
                                     double weightDecay, bool nesterov) {
  double g = double(grad) + weightDecay * param;
  if (momentumBuffer) {
    double buf = momentum * *momentumBuffer + (1 - dampening) * g;
    *momentumBuffer = float(buf);
    g = nesterov ? g + momentum * buf : buf;
  }
  param = float(param - lr * g);
}

/// An operand of mp_adamw_outer_f32's gradient as its sums read it:
/// rounded to bfloat16 first with `bf16`.
MP_HOST_DEVICE inline float getOuterProductOperand(float x, bool bf16) {
  return bf16 ? fromBFloat16Bits(toBFloat16Bits(x)) : x;
}

/// That gradient's sum times alpha, in double, rounded once.
MP_HOST_DEVICE inline float scaleOuterProduct(float sum, float alpha) {
  return float(double(sum) * double(alpha));
}

/// Element (i, j) of alpha · aᵀ · b for a [k][m] and b [k][n]
/// (mp_adamw_outer_f32's gradient): the products summed in float in the
/// order of the rows by fused multiply-adds, which every backend computes
/// alike, the operands first rounded to bfloat16 with `bf16`; times alpha
/// in double, rounded once.
MP_HOST_DEVICE inline float outerProductElement(int64_t k, int64_t m, int64_t n,
                                                const float *a, const float *b,
                                                int64_t i, int64_t j, bool bf16,
                                                float alpha) {
  float sum = 0;
  for (int64_t r = 0; r < k; ++r)
    sum = ::fmaf(getOuterProductOperand(a[r * m + i], bf16),
                 getOuterProductOperand(b[r * n + j], bf16), sum);
  return scaleOuterProduct(sum, alpha);
}

/// What one torch.optim.AdamW step (single tensor, no amsgrad) applies to
/// every element: step size and bias corrections in double, moments in
/// float; the gradient first times `gradScale` (scaleGradient).
struct AdamWStep {
  float decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, stepSize;
  double biasCorrection2Sqrt, eps;
  float gradScale;

  MP_HOST_DEVICE AdamWStep(double lr, double beta1, double beta2, double eps,
                           double weightDecay, double step, float gradScale)
      : decay(float(1 - lr * weightDecay)), beta1(float(beta1)),
        oneMinusBeta1(float(1 - beta1)), beta2(float(beta2)),
        oneMinusBeta2(float(1 - beta2)),
        stepSize(float(lr / (1 - ::pow(beta1, step)))),
        biasCorrection2Sqrt(::sqrt(1 - ::pow(beta2, step))), eps(eps),
        gradScale(gradScale) {}

  MP_HOST_DEVICE void apply(float &param, float unscaledGrad, float &expAvg,
                            float &expAvgSq) const {
    float grad = scaleGradient(unscaledGrad, gradScale);
    float p = param * decay;
    expAvg = beta1 * expAvg + oneMinusBeta1 * grad;
    expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * grad * grad;
    float denom = float(double(::sqrtf(expAvgSq)) / biasCorrection2Sqrt + eps);
    param = p - stepSize * expAvg / denom;
  }
};

} // namespace mp::runtime

#endif // MP_RUNTIME_ELEMENTWISE_H
