//===- Kernels.cpp - elementwise, reduction and loss kernels on the host --===//

#include "HostBackend.h"
#include "VectorExp.h"

#include "../Elementwise.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

namespace mp::runtime {

namespace {

/// Row-major strides.
std::vector<int64_t> stridesOf(int rank, const int64_t *shape) {
  std::vector<int64_t> strides(rank, 1);
  for (int d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// Per dim of `shape`, the stride of its coordinate in the row-major tensor
/// without the dims of `mask` (0 for those dims).
std::vector<int64_t> stridesWithoutDims(int rank, const int64_t *shape,
                                        uint32_t mask) {
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d)
    if (!(mask >> d & 1)) {
      strides[d] = stride;
      stride *= shape[d];
    }
  return strides;
}

int64_t countOf(int rank, const int64_t *shape) {
  int64_t count = 1;
  for (int d = 0; d < rank; ++d)
    count *= shape[d];
  return count;
}

/// Calls body(i, offset) for each element i of `shape` in row-major order,
/// with offset = Σ coord[d]·strides[d] kept up to date incrementally (no
/// division per element): the walk behind reductions, broadcasts and
/// transposes.
template <typename Body>
void forEachStrided(int rank, const int64_t *shape, const int64_t *strides,
                    Body body) {
  int64_t count = countOf(rank, shape);
  if (rank == 0) {
    if (count)
      body(0, 0);
    return;
  }
  int64_t inner = shape[rank - 1], innerStride = strides[rank - 1];
  if (inner == 0)
    return;
  std::vector<int64_t> coord(rank, 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < count; i += inner) {
    for (int64_t j = 0; j < inner; ++j)
      body(i + j, offset + j * innerStride);
    for (int d = rank - 2; d >= 0; --d) {
      offset += strides[d];
      if (++coord[d] < shape[d])
        break;
      offset -= strides[d] * shape[d];
      coord[d] = 0;
    }
  }
}

} // namespace

// One loop per op, so that the op's switch folds away inside the loop.
template <mp_unary_op Op>
void unaryLoop(int64_t begin, int64_t end, const float *in, float *out,
               double scalar, double upper) {
  for (int64_t i = begin; i < end; ++i)
    out[i] = applyUnary(Op, in[i], scalar, upper);
}

// exp, sigmoid and SiLU with the vectorized exp.
template <>
void unaryLoop<MP_UNARY_EXP>(int64_t begin, int64_t end, const float *in,
                             float *out, double, double) {
  applyExpUnary(MP_UNARY_EXP, in + begin, end - begin, out + begin);
}
template <>
void unaryLoop<MP_UNARY_SIGMOID>(int64_t begin, int64_t end, const float *in,
                                 float *out, double, double) {
  applyExpUnary(MP_UNARY_SIGMOID, in + begin, end - begin, out + begin);
}
template <>
void unaryLoop<MP_UNARY_SILU>(int64_t begin, int64_t end, const float *in,
                              float *out, double, double) {
  applyExpUnary(MP_UNARY_SILU, in + begin, end - begin, out + begin);
}

template <mp_binary_op Op>
void binaryLoop(int64_t begin, int64_t end, const float *a, const float *b,
                float *out) {
  for (int64_t i = begin; i < end; ++i)
    out[i] = applyBinary(Op, a[i], b[i]);
}

// SiLU's gradient and SwiGLU with the vectorized exp.
template <>
void binaryLoop<MP_BINARY_SILU_GRAD>(int64_t begin, int64_t end, const float *a,
                                     const float *b, float *out) {
  applySiluGrad(a + begin, b + begin, end - begin, out + begin);
}
template <>
void binaryLoop<MP_BINARY_SWIGLU>(int64_t begin, int64_t end, const float *a,
                                  const float *b, float *out) {
  applySwiglu(a + begin, b + begin, end - begin, out + begin);
}

namespace {
/// Elements per block of the float32 copies through which a kernel reads
/// bfloat16 inputs and writes bfloat16 outputs: small enough to stay in
/// the core's cache between the widening, the float32 loop and the rounding.
constexpr int64_t kStorageBlock = 1024;

/// Runs `loop(count, ins, outs)`, a float32 loop over `count` elements at
/// the given pointers, over elements [begin, end) of tensors held in
/// float32 or bfloat16: each bfloat16 input widened into a block of float32
/// on the stack, each bfloat16 output rounded from one, so that the result
/// is the float32 loop's between conversions bit for bit.
template <size_t Ins, size_t Outs, typename Loop>
void storageLoop(int64_t begin, int64_t end,
                 const std::array<TensorIn, Ins> &ins,
                 const std::array<TensorOut, Outs> &outs, Loop loop) {
  auto isBF16 = [](auto tensor) { return tensor.type == MP_DTYPE_BF16; };
  bool blocks = std::any_of(ins.begin(), ins.end(), isBF16) ||
                std::any_of(outs.begin(), outs.end(), isBF16);
  int64_t blockSize =
      blocks ? kStorageBlock : std::max<int64_t>(1, end - begin);
  for (int64_t start = begin; start < end; start += blockSize) {
    int64_t count = std::min(blockSize, end - start);
    float widened[Ins][kStorageBlock], unrounded[Outs][kStorageBlock];
    std::array<const float *, Ins> in;
    std::array<float *, Outs> out;
    for (size_t t = 0; t < Ins; ++t) {
      if (!isBF16(ins[t])) {
        in[t] = static_cast<const float *>(ins[t].data) + start;
        continue;
      }
      const uint16_t *bits = static_cast<const uint16_t *>(ins[t].data) + start;
      for (int64_t i = 0; i < count; ++i)
        widened[t][i] = fromBFloat16Bits(bits[i]);
      in[t] = widened[t];
    }
    for (size_t t = 0; t < Outs; ++t)
      out[t] = isBF16(outs[t]) ? unrounded[t]
                               : static_cast<float *>(outs[t].data) + start;
    loop(count, in, out);
    for (size_t t = 0; t < Outs; ++t) {
      if (!isBF16(outs[t]))
        continue;
      uint16_t *bits = static_cast<uint16_t *>(outs[t].data) + start;
      for (int64_t i = 0; i < count; ++i)
        bits[i] = toBFloat16Bits(unrounded[t][i]);
    }
  }
}
} // namespace

mp_status HostBackend::unary(mp_unary_op op, int64_t n, TensorIn in,
                             TensorOut out, double scalar, double upper) {
  constexpr void (*loops[])(int64_t, int64_t, const float *, float *, double,
                            double) = {
      unaryLoop<MP_UNARY_NEG>,     unaryLoop<MP_UNARY_EXP>,
      unaryLoop<MP_UNARY_RELU>,    unaryLoop<MP_UNARY_STEP>,
      unaryLoop<MP_UNARY_SIGMOID>, unaryLoop<MP_UNARY_SILU>,
      unaryLoop<MP_UNARY_GELU>,    unaryLoop<MP_UNARY_GELU_TANH>,
      unaryLoop<MP_UNARY_SCALE>,   unaryLoop<MP_UNARY_TANH>,
      unaryLoop<MP_UNARY_LOG>,     unaryLoop<MP_UNARY_RSQRT>,
      unaryLoop<MP_UNARY_CLAMP>,   unaryLoop<MP_UNARY_CLAMP_MASK>};
  static_assert(std::size(loops) == MP_UNARY_CLAMP_MASK + 1, "one loop per op");
  parallelFor(n, [&](int64_t begin, int64_t end) {
    storageLoop<1, 1>(begin, end, {in}, {out},
                      [&](int64_t count, auto ins, auto outs) {
                        loops[op](0, count, ins[0], outs[0], scalar, upper);
                      });
  });
  return MP_OK;
}

mp_status HostBackend::binary(mp_binary_op op, int64_t n, TensorIn a,
                              TensorIn b, TensorOut out) {
  constexpr void (*loops[])(int64_t, int64_t, const float *, const float *,
                            float *) = {
      binaryLoop<MP_BINARY_ADD>,       binaryLoop<MP_BINARY_SUB>,
      binaryLoop<MP_BINARY_MUL>,       binaryLoop<MP_BINARY_DIV>,
      binaryLoop<MP_BINARY_GELU_GRAD>, binaryLoop<MP_BINARY_GELU_TANH_GRAD>,
      binaryLoop<MP_BINARY_SILU_GRAD>, binaryLoop<MP_BINARY_SWIGLU>};
  static_assert(std::size(loops) == MP_BINARY_SWIGLU + 1, "one loop per op");
  parallelFor(n, [&](int64_t begin, int64_t end) {
    storageLoop<2, 1>(begin, end, {a, b}, {out},
                      [&](int64_t count, auto ins, auto outs) {
                        loops[op](0, count, ins[0], ins[1], outs[0]);
                      });
  });
  return MP_OK;
}

mp_status HostBackend::swigluGrad(int64_t n, TensorIn grad, TensorIn gate,
                                  TensorIn up, TensorOut gateGrad,
                                  TensorOut upGrad) {
  parallelFor(n, [&](int64_t begin, int64_t end) {
    storageLoop<3, 2>(begin, end, {grad, gate, up}, {gateGrad, upGrad},
                      [](int64_t count, auto ins, auto outs) {
                        applySwigluGrad(ins[0], ins[1], ins[2], count, outs[0],
                                        outs[1]);
                      });
  });
  return MP_OK;
}

mp_status HostBackend::reduceSum(int rank, const int64_t *shape,
                                 uint32_t dimsMask, double scale,
                                 const float *in, float *out) {
  // Accumulate in double, then scale.
  int64_t outCount = 1;
  for (int d = 0; d < rank; ++d)
    if (!(dimsMask >> d & 1))
      outCount *= shape[d];
  std::vector<double> sums(outCount, 0.0);
  // The dims summed, taken together, form one block of the row-major
  // tensor's dims (size-1 dims aside): it is [outer, summed, inner], summed
  // row by row into `inner` contiguous sums, in the order the generic walk
  // adds them (so the same bits), the outer rows in parallel.
  int64_t outer = 1, summed = 1, inner = 1;
  bool oneBlock = true;
  for (int d = 0, phase = 0; d < rank && oneBlock; ++d) {
    if (shape[d] == 1)
      continue;
    bool reduced = dimsMask >> d & 1;
    phase = reduced ? std::max(phase, 1) : (phase == 0 ? 0 : 2);
    if (reduced && phase == 2)
      oneBlock = false;
    (phase == 0 ? outer : phase == 1 ? summed : inner) *= shape[d];
  }
  if (oneBlock) {
    parallelRows(outer, summed * inner, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        double *rowSums = sums.data() + o * inner;
        const float *block = in + o * summed * inner;
        if (inner == 1) {
          // One sum: in a register, not stored back per element.
          double sum = 0;
          for (int64_t r = 0; r < summed; ++r)
            sum += block[r];
          rowSums[0] = sum;
          continue;
        }
        for (int64_t r = 0; r < summed; ++r)
          for (int64_t i = 0; i < inner; ++i)
            rowSums[i] += block[r * inner + i];
      }
    });
  } else {
    std::vector<int64_t> outStrides = stridesWithoutDims(rank, shape, dimsMask);
    forEachStrided(rank, shape, outStrides.data(),
                   [&](int64_t i, int64_t o) { sums[o] += in[i]; });
  }
  for (int64_t i = 0; i < outCount; ++i)
    out[i] = float(sums[i] * scale);
  return MP_OK;
}

mp_status HostBackend::broadcast(int rank, const int64_t *outShape,
                                 uint32_t dimsMask, const float *in,
                                 float *out) {
  std::vector<int64_t> inStrides = stridesWithoutDims(rank, outShape, dimsMask);
  forEachStrided(rank, outShape, inStrides.data(),
                 [&](int64_t o, int64_t i) { out[o] = in[i]; });
  return MP_OK;
}

mp_status HostBackend::transpose(int rank, const int64_t *inShape,
                                 const int *perm, TensorIn in, TensorOut out) {
  std::vector<int64_t> outShape(rank);
  for (int d = 0; d < rank; ++d)
    outShape[d] = inShape[perm[d]];
  // Walk the output; each of its dims steps the input by the stride of
  // the input dim it came from.
  std::vector<int64_t> inStrides = stridesOf(rank, inShape);
  std::vector<int64_t> sourceStrides(rank);
  for (int d = 0; d < rank; ++d)
    sourceStrides[d] = inStrides[perm[d]];
  // One walk per pair of dtypes: a copy where they agree (bfloat16 bits as
  // they are), else each element widened or rounded.
  auto walk = [&](const auto *source, auto *result, auto convert) {
    forEachStrided(
        rank, outShape.data(), sourceStrides.data(),
        [&](int64_t o, int64_t i) { result[o] = convert(source[i]); });
  };
  auto same = [](auto x) { return x; };
  const auto *f32In = static_cast<const float *>(in.data);
  const auto *bf16In = static_cast<const uint16_t *>(in.data);
  auto *f32Out = static_cast<float *>(out.data);
  auto *bf16Out = static_cast<uint16_t *>(out.data);
  if (in.type == MP_DTYPE_BF16 && out.type == MP_DTYPE_BF16)
    walk(bf16In, bf16Out, same);
  else if (in.type == MP_DTYPE_BF16)
    walk(bf16In, f32Out, fromBFloat16Bits);
  else if (out.type == MP_DTYPE_BF16)
    walk(f32In, bf16Out, toBFloat16Bits);
  else
    walk(f32In, f32Out, same);
  return MP_OK;
}

mp_status HostBackend::mseLoss(int64_t n, const float *a, const float *b,
                               double scale, float *out) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = double(a[i]) - (b ? double(b[i]) : 0.0);
    sum += d * d;
  }
  out[0] = float(sum * scale);
  return MP_OK;
}

mp_status HostBackend::crossEntropyRows(const char *call, int64_t rows,
                                        int64_t classes, const float *logits,
                                        const int64_t *targets,
                                        IgnoredTarget ignored, double *lossSum,
                                        float *grad, double gradFactor) {
  for (int64_t r = 0; r < rows; ++r)
    if (!ignored.skips(targets[r]) && (targets[r] < 0 || targets[r] >= classes))
      return fail(ctx, call, kBadTargetFormat,
                  static_cast<long long>(targets[r]), static_cast<long long>(r),
                  static_cast<long long>(classes));
  std::vector<double> rowLosses(lossSum ? rows : 0);
  parallelRows(rows, classes, [&](int64_t begin, int64_t end) {
    // Each exponential once, vectorized, kept for the division: exp is most
    // of the time here.
    std::vector<double> exps(classes);
    for (int64_t r = begin; r < end; ++r) {
      if (ignored.skips(targets[r])) {
        if (grad)
          std::fill(grad + r * classes, grad + (r + 1) * classes, 0.0f);
        continue;
      }
      const float *x = logits + r * classes;
      double top = *std::max_element(x, x + classes),
             sum = getExps(x, classes, top, exps.data());
      if (lossSum)
        rowLosses[r] = top + std::log(sum) - x[targets[r]];
      if (!grad)
        continue;
      for (int64_t c = 0; c < classes; ++c) {
        float p = float(exps[c] / sum);
        if (c == targets[r])
          p -= 1;
        grad[r * classes + c] = float(p * gradFactor);
      }
    }
  });
  for (double loss : rowLosses)
    *lossSum += loss;
  return MP_OK;
}

mp_status HostBackend::crossEntropy(int64_t rows, int64_t classes,
                                    const float *logits, const int64_t *targets,
                                    IgnoredTarget ignored, double scale,
                                    float *out) {
  double sum = 0;
  if (crossEntropyRows("mp_cross_entropy_f32", rows, classes, logits, targets,
                       ignored, &sum, nullptr, 0))
    return MP_ERROR;
  out[0] = float(sum * scale);
  return MP_OK;
}

mp_status HostBackend::crossEntropyGrad(
    int64_t rows, int64_t classes, const float *logits, const int64_t *targets,
    IgnoredTarget ignored, const float *grad, double scale, float *out) {
  return crossEntropyRows("mp_cross_entropy_grad_f32", rows, classes, logits,
                          targets, ignored, nullptr, out,
                          double(grad[0]) * scale);
}

mp_status HostBackend::clipCoefficient(const float *squaredNorm, double maxNorm,
                                       float *out) {
  out[0] = computeClipCoefficient(squaredNorm[0], maxNorm);
  return MP_OK;
}

mp_status HostBackend::fill(int64_t n, float value, float *out) {
  std::fill(out, out + n, value);
  return MP_OK;
}

} // namespace mp::runtime
