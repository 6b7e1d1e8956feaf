//===- VectorExp.h - exp over a row, in vector registers --------*- C++ -*-===//
//
// The host's softmax, cross entropy, sigmoid and SiLU spend most of their
// time in exp, and glibc's exp is a call per element. These compute them
// in loops the compiler vectorizes (VectorExp.cpp), with an exp within 1
// ulp of exp in double, so the floats they round to are std::exp's but for
// a rare tie (mp-runtime-test checks both).
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_HOST_VECTOREXP_H
#define MP_RUNTIME_HOST_VECTOREXP_H

#include "mp_runtime.h"

#include <cstdint>

namespace mp::runtime {

/// out[i] = exp(double(x[i]) - shift) for i < n: 0 where that argument is
/// at or below -708 (exp is then below 2.4e-308, which no float holds),
/// +inf above 709 (a little early: exp overflows at 709.78; the softmaxes'
/// arguments are at most 0), NaN for NaN. Each element is computed alone,
/// so its value does not depend on the row's length or on where it sits.
/// Returns their sum, added in order (the softmaxes' denominator).
double getExps(const float *x, int64_t n, double shift, double *out);

/// out[i] = op(in[i]) for i < n, op MP_UNARY_EXP, MP_UNARY_SIGMOID or
/// MP_UNARY_SILU, as Elementwise.h's applyUnary computes them (in double,
/// rounded to float) but for the exp. `in` may be `out`.
void applyExpUnary(mp_unary_op op, const float *in, int64_t n, float *out);

/// out[i] = grad[i] · silu'(in[i]) for i < n, as Elementwise.h's applyBinary
/// computes MP_BINARY_SILU_GRAD but for the exp. `out` may be `grad` or
/// `in`.
void applySiluGrad(const float *grad, const float *in, int64_t n, float *out);

/// MP_BINARY_SWIGLU and mp_swiglu_grad_f32 over n elements, as
/// Elementwise.h's swiglu and swigluGrad compute them but for the exp.
/// Each output may be one of the inputs.
void applySwiglu(const float *gate, const float *up, int64_t n, float *out);
void applySwigluGrad(const float *grad, const float *gate, const float *up,
                     int64_t n, float *gateGrad, float *upGrad);

} // namespace mp::runtime

#endif // MP_RUNTIME_HOST_VECTOREXP_H
