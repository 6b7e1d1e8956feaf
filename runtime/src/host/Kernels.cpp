//===- Kernels.cpp - elementwise, reduction and loss kernels on the host --===//

#include "../Context.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace mp::runtime;

namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCubic = 0.044715;

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

double gelu(double x, bool tanhForm) {
  if (tanhForm)
    return 0.5 * x *
           (1 + std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

double geluDerivative(double x, bool tanhForm) {
  if (tanhForm) {
    double t = std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
    return 0.5 * (1 + t) +
           0.5 * x * (1 - t * t) * kSqrt2OverPi * (1 + 3 * kGeluCubic * x * x);
  }
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) +
         x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}

mp_status checkRank(mp_context *ctx, const char *call, int rank) {
  if (rank < 0 || rank > 32)
    return fail(ctx, call, "rank %d is not in [0, 32]", rank);
  return MP_OK;
}

/// Row-major strides.
std::vector<int64_t> stridesOf(int rank, const int64_t *shape) {
  std::vector<int64_t> strides(rank, 1);
  for (int d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// The row-major index, in the tensor without the dims of `mask`, of the
/// element at index `i` of a tensor of `shape`.
int64_t indexWithoutDims(int rank, const int64_t *shape,
                         const std::vector<int64_t> &strides, uint32_t mask,
                         int64_t i) {
  int64_t index = 0;
  for (int d = 0; d < rank; ++d) {
    int64_t coord = i / strides[d];
    i %= strides[d];
    if (!(mask >> d & 1))
      index = index * shape[d] + coord;
  }
  return index;
}

int64_t countOf(int rank, const int64_t *shape) {
  int64_t count = 1;
  for (int d = 0; d < rank; ++d)
    count *= shape[d];
  return count;
}

/// Per row: logsumexp, or the softmax into `softmax`.
mp_status softmaxRows(mp_context *ctx, const char *call, int64_t rows,
                      int64_t classes, const float *logits,
                      const int64_t *targets, double *lossSum, float *softmax) {
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] < 0 || targets[r] >= classes)
      return fail(ctx, call, "target %lld of sample %lld is not in [0, %lld)",
                  static_cast<long long>(targets[r]), static_cast<long long>(r),
                  static_cast<long long>(classes));
    const float *x = logits + r * classes;
    double top = *std::max_element(x, x + classes), sum = 0;
    for (int64_t c = 0; c < classes; ++c)
      sum += std::exp(double(x[c]) - top);
    if (lossSum)
      *lossSum += top + std::log(sum) - x[targets[r]];
    if (softmax)
      for (int64_t c = 0; c < classes; ++c)
        softmax[r * classes + c] = float(std::exp(double(x[c]) - top) / sum);
  }
  return MP_OK;
}

} // namespace

extern "C" {

mp_status mp_unary_f32(mp_context *ctx, mp_unary_op op, int64_t n,
                       const float *in, float *out, double scalar) {
  MP_RETURN_IF_FAILED(ctx);
  for (int64_t i = 0; i < n; ++i) {
    double x = in[i], y;
    switch (op) {
    case MP_UNARY_NEG:
      y = -x;
      break;
    case MP_UNARY_EXP:
      y = std::exp(x);
      break;
    case MP_UNARY_RELU:
      y = x > 0 ? x : 0;
      break;
    case MP_UNARY_STEP:
      y = x > 0 ? 1 : 0;
      break;
    case MP_UNARY_SIGMOID:
      y = sigmoid(x);
      break;
    case MP_UNARY_SILU:
      y = x * sigmoid(x);
      break;
    case MP_UNARY_GELU:
      y = gelu(x, false);
      break;
    case MP_UNARY_GELU_TANH:
      y = gelu(x, true);
      break;
    case MP_UNARY_SCALE:
      y = x * scalar;
      break;
    default:
      return fail(ctx, "mp_unary_f32", "unknown op %d", int(op));
    }
    out[i] = float(y);
  }
  return MP_OK;
}

mp_status mp_binary_f32(mp_context *ctx, mp_binary_op op, int64_t n,
                        const float *a, const float *b, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  for (int64_t i = 0; i < n; ++i) {
    double x = a[i], z = b[i], y;
    switch (op) {
    case MP_BINARY_ADD:
      y = x + z;
      break;
    case MP_BINARY_SUB:
      y = x - z;
      break;
    case MP_BINARY_MUL:
      y = x * z;
      break;
    case MP_BINARY_DIV:
      y = x / z;
      break;
    case MP_BINARY_GELU_GRAD:
      y = x * geluDerivative(z, false);
      break;
    case MP_BINARY_GELU_TANH_GRAD:
      y = x * geluDerivative(z, true);
      break;
    default:
      return fail(ctx, "mp_binary_f32", "unknown op %d", int(op));
    }
    out[i] = float(y);
  }
  return MP_OK;
}

mp_status mp_reduce_sum_f32(mp_context *ctx, int rank, const int64_t *shape,
                            uint32_t dims_mask, double scale, const float *in,
                            float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkRank(ctx, "mp_reduce_sum_f32", rank))
    return MP_ERROR;
  // Accumulate in double, then scale.
  int64_t outCount = 1;
  for (int d = 0; d < rank; ++d)
    if (!(dims_mask >> d & 1))
      outCount *= shape[d];
  std::vector<double> sums(outCount, 0.0);
  std::vector<int64_t> strides = stridesOf(rank, shape);
  int64_t count = countOf(rank, shape);
  for (int64_t i = 0; i < count; ++i)
    sums[indexWithoutDims(rank, shape, strides, dims_mask, i)] += in[i];
  for (int64_t i = 0; i < outCount; ++i)
    out[i] = float(sums[i] * scale);
  return MP_OK;
}

mp_status mp_broadcast_f32(mp_context *ctx, int rank, const int64_t *out_shape,
                           uint32_t dims_mask, const float *in, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkRank(ctx, "mp_broadcast_f32", rank))
    return MP_ERROR;
  std::vector<int64_t> strides = stridesOf(rank, out_shape);
  int64_t count = countOf(rank, out_shape);
  for (int64_t i = 0; i < count; ++i)
    out[i] = in[indexWithoutDims(rank, out_shape, strides, dims_mask, i)];
  return MP_OK;
}

mp_status mp_transpose_f32(mp_context *ctx, int rank, const int64_t *in_shape,
                           const int *perm, const float *in, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkRank(ctx, "mp_transpose_f32", rank))
    return MP_ERROR;
  std::vector<int64_t> outShape(rank);
  for (int d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= rank)
      return fail(ctx, "mp_transpose_f32", "perm[%d] = %d is out of range", d,
                  perm[d]);
    outShape[d] = in_shape[perm[d]];
  }
  std::vector<int64_t> inStrides = stridesOf(rank, in_shape);
  std::vector<int64_t> outStrides = stridesOf(rank, outShape.data());
  int64_t count = countOf(rank, in_shape);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, source = 0;
    for (int d = 0; d < rank; ++d) {
      int64_t coord = rest / outStrides[d];
      rest %= outStrides[d];
      source += coord * inStrides[perm[d]];
    }
    out[i] = in[source];
  }
  return MP_OK;
}

mp_status mp_mse_loss_f32(mp_context *ctx, int64_t n, const float *a,
                          const float *b, double scale, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = double(a[i]) - double(b[i]);
    sum += d * d;
  }
  out[0] = float(sum * scale);
  return MP_OK;
}

mp_status mp_cross_entropy_f32(mp_context *ctx, int64_t rows, int64_t classes,
                               const float *logits, const int64_t *targets,
                               double scale, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  double sum = 0;
  if (softmaxRows(ctx, "mp_cross_entropy_f32", rows, classes, logits, targets,
                  &sum, nullptr))
    return MP_ERROR;
  out[0] = float(sum * scale);
  return MP_OK;
}

mp_status mp_cross_entropy_grad_f32(mp_context *ctx, int64_t rows,
                                    int64_t classes, const float *logits,
                                    const int64_t *targets, const float *grad,
                                    double scale, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (softmaxRows(ctx, "mp_cross_entropy_grad_f32", rows, classes, logits,
                  targets, nullptr, out))
    return MP_ERROR;
  double factor = double(grad[0]) * scale;
  for (int64_t r = 0; r < rows; ++r) {
    out[r * classes + targets[r]] -= 1;
    for (int64_t c = 0; c < classes; ++c)
      out[r * classes + c] = float(out[r * classes + c] * factor);
  }
  return MP_OK;
}

mp_status mp_clip_coefficient_f32(mp_context *ctx, const float *squared_norm,
                                  double max_norm, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  out[0] = float(
      std::min(1.0, max_norm / (std::sqrt(double(squared_norm[0])) + 1e-6)));
  return MP_OK;
}

mp_status mp_copy(mp_context *ctx, void *dst, const void *src, int64_t bytes) {
  MP_RETURN_IF_FAILED(ctx);
  if (bytes < 0)
    return fail(ctx, "mp_copy", "negative size %lld",
                static_cast<long long>(bytes));
  if (dst != src)
    std::memmove(dst, src, static_cast<size_t>(bytes));
  return MP_OK;
}

mp_status mp_fill_f32(mp_context *ctx, int64_t n, float value, float *out) {
  MP_RETURN_IF_FAILED(ctx);
  std::fill(out, out + n, value);
  return MP_OK;
}

mp_status mp_sgd_f32(mp_context *ctx, int64_t n, float *param, const float *grad,
                     float *momentum_buffer, double lr, double momentum,
                     double dampening, double weight_decay, int nesterov) {
  MP_RETURN_IF_FAILED(ctx);
  for (int64_t i = 0; i < n; ++i) {
    double g = double(grad[i]) + weight_decay * param[i];
    if (momentum_buffer) {
      double buf = momentum * momentum_buffer[i] + (1 - dampening) * g;
      momentum_buffer[i] = float(buf);
      g = nesterov ? g + momentum * buf : buf;
    }
    param[i] = float(param[i] - lr * g);
  }
  return MP_OK;
}

} // extern "C"
