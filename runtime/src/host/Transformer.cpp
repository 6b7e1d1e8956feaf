//===- Transformer.cpp - norms, softmax, rotary, embedding on the host ----===//
//
// Whole rows go to a thread, and each row's statistics are summed in double
// in order, so no result depends on the thread count (nor do the block
// maxima and the picks along the last dim, which are exact). The norms' weight
// gradients and the embedding's gradient split the columns among threads
// instead, each column summed over the rows in row order.
//
//===----------------------------------------------------------------------===//

#include "HostBackend.h"
#include "VectorExp.h"

#include "../Elementwise.h"
#include "../Transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace mp::runtime {

namespace {

double sumOfSquares(const float *row, int64_t length) {
  double sum = 0;
  for (int64_t j = 0; j < length; ++j)
    sum += double(row[j]) * double(row[j]);
  return sum;
}

/// out[j] = Σ_r term(r, j) for the columns j in [begin, end), in double and
/// in row order.
template <typename Term>
void sumColumns(int64_t rows, int64_t begin, int64_t end, Term term,
                float *out) {
  std::vector<double> sums(end - begin, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = begin; j < end; ++j)
      sums[j - begin] += term(r, j);
  for (int64_t j = begin; j < end; ++j)
    out[j] = float(sums[j - begin]);
}

/// Fails `call` with `format` (kBadIdFormat or kBadIndexFormat) on the
/// first of the `n` ids at or past `bound`.
mp_status checkIds(mp_context *ctx, const char *call, const char *format,
                   int64_t n, const int64_t *ids, int64_t bound) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] >= bound)
      return fail(ctx, call, format, static_cast<long long>(ids[i]),
                  static_cast<long long>(i), static_cast<long long>(bound));
  return MP_OK;
}

} // namespace

HostBackend::NormGradInputs
HostBackend::takeNormGradInputs(int64_t rows, int64_t dim, TensorIn x,
                                TensorIn grad, HostScratch &scratch) {
  auto *statistics =
      reinterpret_cast<double *>(scratch.take(getNormStatisticsBytes(rows)));
  auto widened = [&](TensorIn tensor) -> const float * {
    if (tensor.type != MP_DTYPE_BF16)
      return static_cast<const float *>(tensor.data);
    float *wide = scratch.floats(rows * dim);
    convert(MP_DTYPE_BF16, MP_DTYPE_F32, rows * dim, tensor.data, wide);
    return wide;
  };
  // A braced list runs in order: x's piece before grad's.
  return {statistics, widened(x), widened(grad)};
}

template <typename Body>
void HostBackend::mapRows(int64_t rows, int64_t length, TensorIn input,
                          TensorOut output, Body body) const {
  // A bfloat16 row is widened, and a bfloat16 output row rounded, through a
  // row of floats per thread, not a float32 copy of the tensor.
  bool widen = input.type == MP_DTYPE_BF16,
       round = output.type == MP_DTYPE_BF16;
  parallelRows(rows, length, [&](int64_t begin, int64_t end) {
    std::vector<float> inRow(widen ? length : 0), outRow(round ? length : 0);
    for (int64_t r = begin; r < end; ++r) {
      const float *row = static_cast<const float *>(input.data) + r * length;
      if (widen) {
        for (int64_t j = 0; j < length; ++j)
          inRow[j] = load1(input, r * length + j);
        row = inRow.data();
      }
      float *out = round ? outRow.data()
                         : static_cast<float *>(output.data) + r * length;
      body(r, row, out);
      if (round)
        for (int64_t j = 0; j < length; ++j)
          store1(output, r * length + j, out[j]);
    }
  });
}

mp_status HostBackend::rmsNorm(int64_t rows, int64_t dim, double eps,
                               TensorIn input, const float *weight,
                               double weightOffset, TensorOut output) {
  mapRows(rows, dim, input, output, [&](int64_t, const float *row, float *out) {
    double rstd = getInverseRoot(sumOfSquares(row, dim) / double(dim), eps);
    for (int64_t j = 0; j < dim; ++j)
      out[j] =
          float(double(row[j]) * rstd * (weightOffset + double(weight[j])));
  });
  return MP_OK;
}

mp_status HostBackend::rmsNormGrad(int64_t rows, int64_t dim, double eps,
                                   TensorIn input, const float *weight,
                                   double weightOffset, TensorIn gradient,
                                   float *dx, float *dweight,
                                   Workspace &scratch) {
  // The rows' statistics are rstd only here.
  HostScratch memory(ctx, scratch);
  NormGradInputs inputs =
      takeNormGradInputs(rows, dim, input, gradient, memory);
  double *rstd = inputs.statistics;
  const float *x = inputs.x, *grad = inputs.grad;
  parallelRows(rows, dim, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      rstd[r] =
          getInverseRoot(sumOfSquares(x + r * dim, dim) / double(dim), eps);
  });
  // dweight before dx, which may be written over x or grad.
  if (dweight)
    parallelRows(dim, rows, [&](int64_t begin, int64_t end) {
      sumColumns(
          rows, begin, end,
          [&](int64_t r, int64_t j) {
            return double(grad[r * dim + j]) * double(x[r * dim + j]) * rstd[r];
          },
          dweight);
    });
  if (!dx)
    return MP_OK;
  parallelRows(rows, dim, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *xr = x + r * dim, *gr = grad + r * dim;
      auto scaled = [&](int64_t j) {
        return double(gr[j]) * (weightOffset + double(weight[j]));
      };
      double dot = 0;
      for (int64_t j = 0; j < dim; ++j)
        dot += scaled(j) * double(xr[j]);
      double s = rstd[r], correction = s * s * s * dot / double(dim);
      for (int64_t j = 0; j < dim; ++j)
        dx[r * dim + j] = float(s * scaled(j) - double(xr[j]) * correction);
    }
  });
  return MP_OK;
}

mp_status HostBackend::layerNorm(int64_t rows, int64_t dim, double eps,
                                 TensorIn input, const float *weight,
                                 const float *bias, TensorOut output) {
  mapRows(rows, dim, input, output, [&](int64_t, const float *row, float *out) {
    double sum = 0, squares = 0;
    for (int64_t j = 0; j < dim; ++j)
      sum += row[j];
    double mean = sum / double(dim);
    for (int64_t j = 0; j < dim; ++j)
      squares += (row[j] - mean) * (row[j] - mean);
    double rstd = getInverseRoot(squares / double(dim), eps);
    for (int64_t j = 0; j < dim; ++j)
      out[j] =
          float((row[j] - mean) * rstd * double(weight[j]) + double(bias[j]));
  });
  return MP_OK;
}

mp_status HostBackend::layerNormGrad(int64_t rows, int64_t dim, double eps,
                                     TensorIn input, const float *weight,
                                     TensorIn gradient, float *dx,
                                     float *dweight, float *dbias,
                                     Workspace &scratch) {
  HostScratch memory(ctx, scratch);
  NormGradInputs inputs =
      takeNormGradInputs(rows, dim, input, gradient, memory);
  double *mean = inputs.statistics, *rstd = mean + rows;
  const float *x = inputs.x, *grad = inputs.grad;
  parallelRows(rows, dim, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *row = x + r * dim;
      double sum = 0, squares = 0;
      for (int64_t j = 0; j < dim; ++j)
        sum += row[j];
      mean[r] = sum / double(dim);
      for (int64_t j = 0; j < dim; ++j)
        squares += (row[j] - mean[r]) * (row[j] - mean[r]);
      rstd[r] = getInverseRoot(squares / double(dim), eps);
    }
  });
  // dweight and dbias before dx, which may be written over x or grad.
  if (dweight)
    parallelRows(dim, rows, [&](int64_t begin, int64_t end) {
      sumColumns(
          rows, begin, end,
          [&](int64_t r, int64_t j) {
            return double(grad[r * dim + j]) * (x[r * dim + j] - mean[r]) *
                   rstd[r];
          },
          dweight);
      sumColumns(
          rows, begin, end,
          [&](int64_t r, int64_t j) { return double(grad[r * dim + j]); },
          dbias);
    });
  if (!dx)
    return MP_OK;
  parallelRows(rows, dim, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *xr = x + r * dim, *gr = grad + r * dim;
      double sumGw = 0, sumGwXhat = 0;
      for (int64_t j = 0; j < dim; ++j) {
        double gw = double(gr[j]) * double(weight[j]);
        sumGw += gw;
        sumGwXhat += gw * (xr[j] - mean[r]) * rstd[r];
      }
      double meanGw = sumGw / double(dim), meanGwXhat = sumGwXhat / double(dim);
      for (int64_t j = 0; j < dim; ++j) {
        double xhat = (xr[j] - mean[r]) * rstd[r];
        dx[r * dim + j] = float(rstd[r] * (double(gr[j]) * double(weight[j]) -
                                           meanGw - xhat * meanGwXhat));
      }
    }
  });
  return MP_OK;
}

mp_status HostBackend::softmax(int64_t batch, int64_t sq, int64_t sk,
                               bool causal, int64_t window, const float *x,
                               float *out, float *lse, int64_t lseStride) {
  parallelRows(batch * sq, sk, [&](int64_t begin, int64_t end) {
    // Each exponential is computed once, vectorized, and kept for the
    // division: exp is most of a softmax's time here.
    std::vector<double> exps(sk);
    for (int64_t r = begin; r < end; ++r) {
      const float *row = x + r * sk;
      float *result = out + r * sk;
      // Masked entries are not read: they may hold anything. The row sees
      // keys [start, end).
      int64_t end = causal ? getCausalLength(r % sq, sq, sk) : sk;
      int64_t start = std::min(getWindowStart(r % sq, sq, sk, window), end);
      double rowLse = -INFINITY;
      if (start < end) {
        double top = *std::max_element(row + start, row + end),
               sum = getExps(row + start, end - start, top, exps.data());
        for (int64_t k = start; k < end; ++k)
          result[k] = float(exps[k - start] / sum);
        rowLse = top + std::log(sum);
      }
      std::fill(result, result + start, 0.0f);
      std::fill(result + end, result + sk, 0.0f);
      if (lse)
        lse[r / sq * lseStride + r % sq] = float(rowLse);
    }
  });
  return MP_OK;
}

mp_status HostBackend::softmaxGrad(int64_t rows, int64_t cols, const float *y,
                                   const float *grad, float *dx) {
  parallelRows(rows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *yr = y + r * cols, *gr = grad + r * cols;
      double dot = 0;
      for (int64_t k = 0; k < cols; ++k)
        dot += double(gr[k]) * double(yr[k]);
      // Each entry of grad is read before dx, which may be grad, is written.
      for (int64_t k = 0; k < cols; ++k)
        dx[r * cols + k] = float(double(yr[k]) * (double(gr[k]) - dot));
    }
  });
  return MP_OK;
}

mp_status HostBackend::softcap(int64_t n, float softcap, float *x) {
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      x[i] = capScore(x[i], softcap);
  });
  return MP_OK;
}

mp_status HostBackend::softcapGrad(int64_t batch, int64_t rows, int64_t cols,
                                   float softcap, const float *p,
                                   const float *lse, int64_t lseStride,
                                   float *ds) {
  parallelRows(batch * rows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float rowLse = lse[r / rows * lseStride + r % rows];
      for (int64_t k = r * cols; k < (r + 1) * cols; ++k)
        ds[k] = capGradient(ds[k], p[k], rowLse, softcap);
    }
  });
  return MP_OK;
}

mp_status HostBackend::rope(int64_t outer, int64_t seq, int64_t heads,
                            int64_t headDim, const RopeFrequencies &frequencies,
                            bool inverse, TensorIn x, TensorOut out) {
  // The rotations of every position and rotated pair, shared by the heads.
  int64_t pairs = frequencies.rotaryDims / 2;
  std::vector<float> cosines(seq * pairs), sines(seq * pairs);
  parallelRows(seq, pairs, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p)
      for (int64_t i = 0; i < pairs; ++i)
        getRopeRotation(p, i, frequencies, inverse, cosines[p * pairs + i],
                        sines[p * pairs + i]);
  });
  mapRows(outer * seq * heads, headDim, x, out,
          [&](int64_t r, const float *in, float *result) {
            int64_t p = r / heads % seq;
            for (int64_t i = 0; i < pairs; ++i)
              rotatePair(in[2 * i], in[2 * i + 1], cosines[p * pairs + i],
                         sines[p * pairs + i], result[2 * i],
                         result[2 * i + 1]);
            // The entries that do not rotate pass as they are.
            if (result != in)
              std::copy(in + 2 * pairs, in + headDim, result + 2 * pairs);
          });
  return MP_OK;
}

mp_status HostBackend::embedding(int64_t n, int64_t vocab, int64_t dim,
                                 const int64_t *ids, const float *table,
                                 float *out) {
  if (checkIds(ctx, "mp_embedding_f32", kBadIdFormat, n, ids, vocab))
    return MP_ERROR;
  parallelRows(n, dim, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (ids[i] >= 0)
        std::memcpy(out + i * dim, table + ids[i] * dim, dim * sizeof(float));
      else
        std::memset(out + i * dim, 0, dim * sizeof(float));
    }
  });
  return MP_OK;
}

mp_status HostBackend::embeddingGrad(int64_t n, int64_t vocab, int64_t dim,
                                     const int64_t *ids, const float *grad,
                                     float *out) {
  if (checkIds(ctx, "mp_embedding_grad_f32", kBadIdFormat, n, ids, vocab))
    return MP_ERROR;
  parallelFor(vocab * dim, [&](int64_t begin, int64_t end) {
    std::fill(out + begin, out + end, 0.0f);
  });
  // Columns to threads: the rows that share an id add up in the order of
  // their index whatever the thread count.
  parallelRows(dim, n, [&](int64_t begin, int64_t end) {
    for (int64_t i = 0; i < n; ++i)
      if (ids[i] >= 0)
        for (int64_t j = begin; j < end; ++j)
          out[ids[i] * dim + j] += grad[i * dim + j];
  });
  return MP_OK;
}

mp_status HostBackend::localizeIndex(int64_t n, const int64_t *in, int64_t *out,
                                     int64_t offset, int64_t valid) {
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = mp::runtime::localizeIndex(in[i], offset, valid);
  });
  return MP_OK;
}

mp_status HostBackend::iota(int64_t outer, int64_t extent, int64_t inner,
                            int64_t start, int64_t *out) {
  parallelFor(outer * extent * inner, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = mp::runtime::iotaAt(i, extent, inner, start);
  });
  return MP_OK;
}

mp_status HostBackend::alibiSlopes(int64_t heads, double maxBias, float *out) {
  for (int64_t h = 0; h < heads; ++h)
    out[h] = float(mp_alibi_slope(h, heads, maxBias));
  return MP_OK;
}

mp_status HostBackend::alibi(int64_t outer, int64_t heads, int64_t queries,
                             int64_t keys, int64_t firstKey, bool bf16Bias,
                             const float *scores, const float *slopes,
                             float *out) {
  // One task per row of keys.
  parallelFor(outer * heads * queries, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      float slope = slopes[row / queries % heads];
      for (int64_t k = 0; k < keys; ++k) {
        float score = scores[row * keys + k];
        out[row * keys + k] =
            bf16Bias ? alibiBiasBFloat16(score, slope, firstKey + k)
                     : alibiBias(score, slope, firstKey + k);
      }
    }
  });
  return MP_OK;
}

mp_status HostBackend::maskBias(int64_t n, const int64_t *mask, float fill,
                                float *out) {
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = mp::runtime::maskBias(mask[i], fill);
  });
  return MP_OK;
}

mp_status HostBackend::targetMask(int64_t n, const int64_t *targets,
                                  int64_t ignoreIndex, float *out) {
  parallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = mp::runtime::targetMask(targets[i], ignoreIndex);
  });
  return MP_OK;
}

mp_status HostBackend::blockMax(int64_t rows, int64_t cols, int64_t blocks,
                                const float *x, float *out) {
  int64_t width = cols / blocks;
  parallelRows(rows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t b = 0; b < blocks; ++b) {
        const float *block = x + r * cols + b * width;
        float top = -INFINITY;
        for (int64_t j = 0; j < width; ++j)
          top = maxKeepingNan(top, block[j]);
        out[r * blocks + b] = top;
      }
  });
  return MP_OK;
}

mp_status HostBackend::gatherLast(int64_t rows, int64_t cols, const float *x,
                                  const int64_t *index, float *out) {
  if (checkIds(ctx, "mp_gather_last_f32", kBadIndexFormat, rows, index, cols))
    return MP_ERROR;
  parallelFor(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      out[r] = index[r] >= 0 ? x[r * cols + index[r]] : 0.0f;
  });
  return MP_OK;
}

mp_status HostBackend::scatterLast(int64_t rows, int64_t cols,
                                   const int64_t *index, const float *grad,
                                   float *out) {
  if (checkIds(ctx, "mp_scatter_last_f32", kBadIndexFormat, rows, index, cols))
    return MP_ERROR;
  parallelRows(rows, cols, [&](int64_t begin, int64_t end) {
    std::fill(out + begin * cols, out + end * cols, 0.0f);
    for (int64_t r = begin; r < end; ++r)
      if (index[r] >= 0)
        out[r * cols + index[r]] = grad[r];
  });
  return MP_OK;
}

} // namespace mp::runtime
