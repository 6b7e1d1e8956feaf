//===- Transformer.cu - norms, softmax, rotary, embedding -----------------===//
//
// The norms and the softmax give a block to each row and sum its
// statistics in double (blockSumAll, in a fixed order). The norms' weight
// gradients sum each column over chunks of rows into partial sums, which a
// second pass adds in chunk order, so every result here repeats bit for
// bit, except the embedding's gradient: rows that share an id are added
// with atomics, in whatever order they arrive. The block maxima take a
// block per (row, block) of x; the picks along the last dim a thread per
// row.
//
//===----------------------------------------------------------------------===//

#include "../Transformer.h"
#include "Launch.cuh"

#include <climits>
#include <cstdint>

namespace mp::runtime::cuda {

namespace {

/// Threads the columns of a norm's weight gradient aim for: rows are cut
/// into chunks until the columns times the chunks reach it.
constexpr int64_t kColumnThreads = int64_t(1) << 18;
/// The fewest rows a chunk sums.
constexpr int64_t kMinChunkRows = 32;
/// Blocks the rotary embedding aims for along its second grid dim.
constexpr int64_t kRopeBlocks = 2048;

/// Σ_j term(j) over j < length, in double, in every thread of the block.
template <typename Term> __device__ double rowSum(int64_t length, Term term) {
  double sum = 0;
  for (int64_t j = threadIdx.x; j < length; j += blockDim.x)
    sum += term(j);
  return blockSumAll(sum);
}

__global__ void rmsNormKernel(int64_t rows, int64_t dim, double eps, TensorIn x,
                              const float *weight, double weightOffset,
                              TensorOut out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    auto row = [&](int64_t j) { return double(load1(x, r * dim + j)); };
    double squares = rowSum(dim, [&](int64_t j) { return row(j) * row(j); });
    double rstd = getInverseRoot(squares / double(dim), eps);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      store1(out, r * dim + j,
             float(row(j) * rstd * (weightOffset + double(weight[j]))));
  }
}

__global__ void layerNormKernel(int64_t rows, int64_t dim, double eps,
                                TensorIn x, const float *weight,
                                const float *bias, TensorOut out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    auto row = [&](int64_t j) { return double(load1(x, r * dim + j)); };
    double mean = rowSum(dim, row) / double(dim);
    double squares = rowSum(
        dim, [&](int64_t j) { return (row(j) - mean) * (row(j) - mean); });
    double rstd = getInverseRoot(squares / double(dim), eps);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      store1(
          out, r * dim + j,
          float((row(j) - mean) * rstd * double(weight[j]) + double(bias[j])));
  }
}

/// stats[2r] = the row's mean (0 unless `centered`), stats[2r + 1] = its
/// rstd, so that x̂ = (x - mean) · rstd for both norms.
__global__ void normStatsKernel(bool centered, int64_t rows, int64_t dim,
                                double eps, TensorIn x, double *stats) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    auto row = [&](int64_t j) { return double(load1(x, r * dim + j)); };
    double mean = 0;
    if (centered)
      mean = rowSum(dim, row) / double(dim);
    double squares = rowSum(
        dim, [&](int64_t j) { return (row(j) - mean) * (row(j) - mean); });
    if (threadIdx.x == 0) {
      stats[2 * r] = mean;
      stats[2 * r + 1] = getInverseRoot(squares / double(dim), eps);
    }
  }
}

/// Column j's Σ grad · x̂ (and Σ grad when dbias is wanted) over the rows of
/// chunk blockIdx.y: into partials[chunk · dim + j] (the bias' after all
/// the weight's), or with no partials (one chunk) into dweight and dbias.
__global__ void normColumnsKernel(int64_t rows, int64_t dim, int64_t chunkRows,
                                  TensorIn x, TensorIn grad,
                                  const double *stats, double *partials,
                                  float *dweight, float *dbias) {
  int64_t chunk = blockIdx.y, chunks = gridDim.y;
  int64_t first = chunk * chunkRows;
  int64_t last = min(rows, first + chunkRows);
  for (int64_t j = gridStart(); j < dim; j += gridStride()) {
    double weightSum = 0, biasSum = 0;
    for (int64_t r = first; r < last; ++r) {
      double g = load1(grad, r * dim + j);
      weightSum +=
          g * (double(load1(x, r * dim + j)) - stats[2 * r]) * stats[2 * r + 1];
      biasSum += g;
    }
    if (partials) {
      partials[chunk * dim + j] = weightSum;
      if (dbias)
        partials[(chunks + chunk) * dim + j] = biasSum;
    } else {
      dweight[j] = float(weightSum);
      if (dbias)
        dbias[j] = float(biasSum);
    }
  }
}

/// Adds each column's partial sums in chunk order.
__global__ void finishColumnsKernel(int64_t dim, int64_t chunks,
                                    const double *partials, float *dweight,
                                    float *dbias) {
  for (int64_t j = gridStart(); j < dim; j += gridStride()) {
    double weightSum = 0, biasSum = 0;
    for (int64_t c = 0; c < chunks; ++c) {
      weightSum += partials[c * dim + j];
      if (dbias)
        biasSum += partials[(chunks + c) * dim + j];
    }
    dweight[j] = float(weightSum);
    if (dbias)
      dbias[j] = float(biasSum);
  }
}

/// dx = rstd · gw − x · rstd³ · (Σ_j gw_j x_j) / dim, gw = grad ·
/// (weightOffset + weight). Each thread reads its entries of x and grad
/// before it writes them in dx.
__global__ void rmsNormGradKernel(int64_t rows, int64_t dim, TensorIn x,
                                  const float *weight, double weightOffset,
                                  TensorIn grad, const double *stats,
                                  float *dx) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    auto xr = [&](int64_t j) { return double(load1(x, r * dim + j)); };
    auto gw = [&](int64_t j) {
      return double(load1(grad, r * dim + j)) *
             (weightOffset + double(weight[j]));
    };
    double dot = rowSum(dim, [&](int64_t j) { return gw(j) * xr(j); });
    double rstd = stats[2 * r + 1];
    double correction = rstd * rstd * rstd * dot / double(dim);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      dx[r * dim + j] = float(rstd * gw(j) - xr(j) * correction);
  }
}

/// dx = rstd · (gw − mean(gw) − x̂ · mean(gw · x̂)), gw = grad · weight.
/// Each thread reads its entries of x and grad before it writes them in dx.
__global__ void layerNormGradKernel(int64_t rows, int64_t dim, TensorIn x,
                                    const float *weight, TensorIn grad,
                                    const double *stats, float *dx) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    double mean = stats[2 * r], rstd = stats[2 * r + 1];
    auto centered = [&](int64_t j) {
      return double(load1(x, r * dim + j)) - mean;
    };
    auto gw = [&](int64_t j) {
      return double(load1(grad, r * dim + j)) * double(weight[j]);
    };
    double meanGw = rowSum(dim, gw) / double(dim);
    double meanGwXhat =
        rowSum(dim, [&](int64_t j) { return gw(j) * centered(j) * rstd; }) /
        double(dim);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      dx[r * dim + j] =
          float(rstd * (gw(j) - meanGw - centered(j) * rstd * meanGwXhat));
  }
}

/// Masked entries are not read; a row with none left is zeros, and its
/// log-sum-exp (written where `lse` is not null) -inf. Row r sees keys
/// [start, end): all, or under `causal` those up to its diagonal, from the
/// start of its `window` (0: none).
__global__ void softmaxKernel(int64_t rows, int64_t sq, int64_t sk, bool causal,
                              int64_t window, const float *x, float *out,
                              float *lse, int64_t lseStride) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *row = x + r * sk;
    int64_t end = causal ? getCausalLength(r % sq, sq, sk) : sk;
    int64_t start = getWindowStart(r % sq, sq, sk, window);
    bool seen = start < end;
    double top = -INFINITY, sum = 1;
    if (seen) {
      for (int64_t k = start + threadIdx.x; k < end; k += blockDim.x)
        top = fmax(top, double(row[k]));
      top = blockMaxAll(top);
      sum = rowSum(end - start, [&](int64_t k) {
        return exp(double(row[start + k]) - top);
      });
    }
    for (int64_t k = threadIdx.x; k < sk; k += blockDim.x)
      out[r * sk + k] =
          k >= start && k < end ? float(exp(double(row[k]) - top) / sum) : 0;
    if (lse && threadIdx.x == 0)
      lse[r / sq * lseStride + r % sq] =
          seen ? float(top + log(sum)) : -INFINITY;
  }
}

__global__ void softmaxGradKernel(int64_t rows, int64_t cols, const float *y,
                                  const float *grad, float *dx) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *yr = y + r * cols, *gr = grad + r * cols;
    double dot =
        rowSum(cols, [&](int64_t k) { return double(gr[k]) * double(yr[k]); });
    for (int64_t k = threadIdx.x; k < cols; k += blockDim.x)
      dx[r * cols + k] = float(double(yr[k]) * (double(gr[k]) - dot));
  }
}

__global__ void softcapKernel(int64_t n, float softcap, float *x) {
  for (int64_t i = gridStart(); i < n; i += gridStride())
    x[i] = capScore(x[i], softcap);
}

__global__ void softcapGradKernel(int64_t batch, int64_t rows, int64_t cols,
                                  float softcap, const float *p,
                                  const float *lse, int64_t lseStride,
                                  float *ds) {
  for (int64_t i = gridStart(); i < batch * rows * cols; i += gridStride()) {
    int64_t r = i / cols;
    ds[i] =
        capGradient(ds[i], p[i], lse[r / rows * lseStride + r % rows], softcap);
  }
}

/// A thread per (position, pair) computes the rotation once and applies it
/// to the pair in every (outer, head) slice of its share (blockIdx.y); a
/// pair past the rotated entries is copied as it is. Neighbouring threads
/// take neighbouring pairs, so a warp reads and writes contiguous memory.
__global__ void ropeKernel(int64_t outer, int64_t seq, int64_t heads,
                           int64_t headDim, RopeFrequencies frequencies,
                           bool inverse, TensorIn x, TensorOut out) {
  int64_t pairs = headDim / 2, slices = outer * heads;
  for (int64_t t = gridStart(); t < seq * pairs; t += gridStride()) {
    int64_t p = t / pairs, i = t % pairs;
    bool rotated = 2 * i < frequencies.rotaryDims;
    float cosine = 1, sine = 0;
    if (rotated)
      getRopeRotation(p, i, frequencies, inverse, cosine, sine);
    for (int64_t slice = blockIdx.y; slice < slices; slice += gridDim.y) {
      int64_t o = slice / heads, h = slice % heads;
      int64_t at = ((o * seq + p) * heads + h) * headDim + 2 * i;
      float x0 = load1(x, at), x1 = load1(x, at + 1), y0 = x0, y1 = x1;
      if (rotated)
        rotatePair(x0, x1, cosine, sine, y0, y1);
      store1(out, at, y0);
      store1(out, at + 1, y1);
    }
  }
}

/// A block per id; a bad id's index goes to firstBad (atomicMin), and its
/// row is zeros.
__global__ void embeddingKernel(int64_t n, int64_t vocab, int64_t dim,
                                const int64_t *ids, const float *table,
                                float *out, unsigned long long *firstBad) {
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    int64_t id = ids[i];
    if (id >= vocab && threadIdx.x == 0)
      atomicMin(firstBad, static_cast<unsigned long long>(i));
    const float *row = id >= 0 && id < vocab ? table + id * dim : nullptr;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      out[i * dim + j] = row ? row[j] : 0.0f;
  }
}

__global__ void embeddingGradKernel(int64_t n, int64_t vocab, int64_t dim,
                                    const int64_t *ids, const float *grad,
                                    float *out, unsigned long long *firstBad) {
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    int64_t id = ids[i];
    if (id >= vocab && threadIdx.x == 0)
      atomicMin(firstBad, static_cast<unsigned long long>(i));
    if (id < 0 || id >= vocab)
      continue;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      atomicAdd(out + id * dim + j, grad[i * dim + j]);
  }
}

/// Records the first bad id that the embedding kernels found (or bad index
/// that the picks along the last dim found), if any.
__global__ void recordBadIdKernel(const int64_t *ids, int64_t vocab,
                                  const unsigned long long *firstBad,
                                  unsigned code, DeviceFault *fault,
                                  const char *op) {
  unsigned long long index = *firstBad;
  if (index != ULLONG_MAX)
    recordFault(fault, code, ids[index], static_cast<long long>(index), vocab,
                0, op);
}

__global__ void localizeIndexKernel(int64_t n, const int64_t *in, int64_t *out,
                                    int64_t offset, int64_t valid) {
  for (int64_t i = gridStart(); i < n; i += gridStride())
    out[i] = localizeIndex(in[i], offset, valid);
}

__global__ void iotaKernel(int64_t n, int64_t extent, int64_t inner,
                           int64_t start, int64_t *out) {
  for (int64_t i = gridStart(); i < n; i += gridStride())
    out[i] = iotaAt(i, extent, inner, start);
}

__global__ void alibiSlopesKernel(int64_t heads, double maxBias,
                                  float *out) {
  for (int64_t h = gridStart(); h < heads; h += gridStride())
    out[h] = float(mp_alibi_slope(h, heads, maxBias));
}

__global__ void alibiKernel(int64_t n, int64_t heads, int64_t queries,
                            int64_t keys, int64_t firstKey, bool bf16Bias,
                            const float *scores, const float *slopes,
                            float *out) {
  for (int64_t i = gridStart(); i < n; i += gridStride()) {
    float slope = slopes[i / keys / queries % heads];
    int64_t key = firstKey + i % keys;
    out[i] = bf16Bias ? alibiBiasBFloat16(scores[i], slope, key)
                      : alibiBias(scores[i], slope, key);
  }
}

__global__ void maskBiasKernel(int64_t n, const int64_t *mask, float fill,
                               float *out) {
  for (int64_t i = gridStart(); i < n; i += gridStride())
    out[i] = maskBias(mask[i], fill);
}

__global__ void targetMaskKernel(int64_t n, const int64_t *targets,
                                 int64_t ignoreIndex, float *out) {
  for (int64_t i = gridStart(); i < n; i += gridStride())
    out[i] = targetMask(targets[i], ignoreIndex);
}

/// maxKeepingNan over the warp, in every lane.
__device__ float warpMaxKeepingNan(float value) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    value = maxKeepingNan(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

/// maxKeepingNan over the block, in thread 0 (kThreads threads).
__device__ float blockMaxKeepingNan(float value) {
  __shared__ float warpMaxima[kThreads / kWarp];
  value = warpMaxKeepingNan(value);
  int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  if (lane == 0)
    warpMaxima[warp] = value;
  __syncthreads();
  if (warp == 0)
    value = warpMaxKeepingNan(lane < kThreads / kWarp ? warpMaxima[lane]
                                                      : -INFINITY);
  // Every thread is past warpMaxima before a next call writes it.
  __syncthreads();
  return value;
}

/// A block per segment of `width` entries (row r's block b is segment r ·
/// blocks + b); out has one entry per segment.
__global__ void blockMaxKernel(int64_t segments, int64_t width, const float *x,
                               float *out) {
  for (int64_t s = blockIdx.x; s < segments; s += gridDim.x) {
    const float *segment = x + s * width;
    float top = -INFINITY;
    for (int64_t j = threadIdx.x; j < width; j += blockDim.x)
      top = maxKeepingNan(top, segment[j]);
    top = blockMaxKeepingNan(top);
    if (threadIdx.x == 0)
      out[s] = top;
  }
}

/// A thread per row; a bad index's row goes to firstBad (atomicMin), and
/// its result is 0.
__global__ void gatherLastKernel(int64_t rows, int64_t cols, const float *x,
                                 const int64_t *index, float *out,
                                 unsigned long long *firstBad) {
  for (int64_t r = gridStart(); r < rows; r += gridStride()) {
    int64_t i = index[r];
    if (i >= cols)
      atomicMin(firstBad, static_cast<unsigned long long>(r));
    out[r] = i >= 0 && i < cols ? x[r * cols + i] : 0.0f;
  }
}

__global__ void scatterLastKernel(int64_t rows, int64_t cols,
                                  const int64_t *index, const float *grad,
                                  float *out, unsigned long long *firstBad) {
  for (int64_t r = gridStart(); r < rows; r += gridStride()) {
    int64_t i = index[r];
    if (i >= cols)
      atomicMin(firstBad, static_cast<unsigned long long>(r));
    else if (i >= 0)
      out[r * cols + i] = grad[r];
  }
}

/// partials[0] as the index of the first bad id, reset to none (all ones).
cudaError_t resetFirstBad(cudaStream_t stream, double *partials,
                          unsigned long long *&firstBad) {
  firstBad = reinterpret_cast<unsigned long long *>(partials);
  return cudaMemsetAsync(firstBad, 0xff, sizeof(*firstBad), stream);
}

/// The weight's (and bias's) gradient of a norm from its row statistics.
/// Chunks of rows give the columns more threads, as many as the partial
/// sums hold; with none held, one chunk writes the gradients itself.
cudaError_t launchNormColumns(cudaStream_t stream, int64_t rows, int64_t dim,
                              TensorIn x, TensorIn grad, const double *stats,
                              float *dweight, float *dbias, double *partials) {
  int64_t sums = dbias ? 2 : 1;
  int64_t fit = kReductionPartials / (sums * dim);
  int64_t chunks =
      std::max<int64_t>(1, std::min({fit, (kColumnThreads + dim - 1) / dim,
                                     (rows + kMinChunkRows - 1) / kMinChunkRows,
                                     int64_t(65535)}));
  int64_t chunkRows = (rows + chunks - 1) / chunks;
  double *columnPartials = fit > 0 ? partials : nullptr;
  dim3 grid(gridFor(dim), static_cast<unsigned>(chunks));
  normColumnsKernel<<<grid, kThreads, 0, stream>>>(
      rows, dim, chunkRows, x, grad, stats, columnPartials, dweight, dbias);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  if (columnPartials)
    finishColumnsKernel<<<gridFor(dim), kThreads, 0, stream>>>(
        dim, chunks, columnPartials, dweight, dbias);
  return cudaGetLastError();
}

} // namespace

cudaError_t launchRmsNorm(cudaStream_t stream, int64_t rows, int64_t dim,
                          double eps, TensorIn x, const float *weight,
                          double weightOffset, TensorOut out) {
  rmsNormKernel<<<gridFor(rows, 1), kThreads, 0, stream>>>(
      rows, dim, eps, x, weight, weightOffset, out);
  return cudaGetLastError();
}

cudaError_t launchLayerNorm(cudaStream_t stream, int64_t rows, int64_t dim,
                            double eps, TensorIn x, const float *weight,
                            const float *bias, TensorOut out) {
  layerNormKernel<<<gridFor(rows, 1), kThreads, 0, stream>>>(rows, dim, eps, x,
                                                             weight, bias, out);
  return cudaGetLastError();
}

cudaError_t launchNormGrad(cudaStream_t stream, bool centered, int64_t rows,
                           int64_t dim, double eps, TensorIn x,
                           const float *weight, double weightOffset,
                           TensorIn grad, float *dx, float *dweight,
                           float *dbias, double *stats, double *partials) {
  if (rows > 0) {
    normStatsKernel<<<gridFor(rows, 1), kThreads, 0, stream>>>(
        centered, rows, dim, eps, x, stats);
    if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
      return status;
  }
  // The weight's gradient before dx, which may be written over x or grad.
  if (dweight) {
    if (cudaError_t status = launchNormColumns(stream, rows, dim, x, grad,
                                               stats, dweight, dbias, partials);
        status != cudaSuccess)
      return status;
  }
  if (rows == 0 || !dx)
    return cudaSuccess;
  if (centered)
    layerNormGradKernel<<<gridFor(rows, 1), kThreads, 0, stream>>>(
        rows, dim, x, weight, grad, stats, dx);
  else
    rmsNormGradKernel<<<gridFor(rows, 1), kThreads, 0, stream>>>(
        rows, dim, x, weight, weightOffset, grad, stats, dx);
  return cudaGetLastError();
}

cudaError_t launchSoftmax(cudaStream_t stream, int64_t batch, int64_t sq,
                          int64_t sk, bool causal, int64_t window,
                          const float *x, float *out, float *lse,
                          int64_t lseStride) {
  softmaxKernel<<<gridFor(batch * sq, 1), kThreads, 0, stream>>>(
      batch * sq, sq, sk, causal, window, x, out, lse, lseStride);
  return cudaGetLastError();
}

cudaError_t launchSoftmaxGrad(cudaStream_t stream, int64_t rows, int64_t cols,
                              const float *y, const float *grad, float *dx) {
  softmaxGradKernel<<<gridFor(rows, 1), kThreads, 0, stream>>>(rows, cols, y,
                                                               grad, dx);
  return cudaGetLastError();
}

cudaError_t launchSoftcap(cudaStream_t stream, int64_t n, float softcap,
                          float *x) {
  softcapKernel<<<gridFor(n), kThreads, 0, stream>>>(n, softcap, x);
  return cudaGetLastError();
}

cudaError_t launchSoftcapGrad(cudaStream_t stream, int64_t batch, int64_t rows,
                              int64_t cols, float softcap, const float *p,
                              const float *lse, int64_t lseStride, float *ds) {
  softcapGradKernel<<<gridFor(batch * rows * cols), kThreads, 0, stream>>>(
      batch, rows, cols, softcap, p, lse, lseStride, ds);
  return cudaGetLastError();
}

cudaError_t launchRope(cudaStream_t stream, int64_t outer, int64_t seq,
                       int64_t heads, int64_t headDim,
                       const RopeFrequencies &frequencies, bool inverse,
                       TensorIn x, TensorOut out) {
  unsigned pairBlocks = gridFor(seq * (headDim / 2));
  int64_t slices = outer * heads;
  unsigned sliceBlocks = static_cast<unsigned>(std::max<int64_t>(
      1, std::min({slices, int64_t(65535), kRopeBlocks / pairBlocks})));
  ropeKernel<<<dim3(pairBlocks, sliceBlocks), kThreads, 0, stream>>>(
      outer, seq, heads, headDim, frequencies, inverse, x, out);
  return cudaGetLastError();
}

cudaError_t launchEmbedding(cudaStream_t stream, int64_t n, int64_t vocab,
                            int64_t dim, const int64_t *ids, const float *table,
                            float *out, double *partials, DeviceFault *fault,
                            const char *op) {
  unsigned long long *firstBad;
  if (cudaError_t status = resetFirstBad(stream, partials, firstBad);
      status != cudaSuccess)
    return status;
  embeddingKernel<<<gridFor(n, 1), kThreads, 0, stream>>>(n, vocab, dim, ids,
                                                          table, out, firstBad);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  recordBadIdKernel<<<1, 1, 0, stream>>>(ids, vocab, firstBad,
                                         DeviceFault::kEmbeddingId, fault, op);
  return cudaGetLastError();
}

cudaError_t launchEmbeddingGrad(cudaStream_t stream, int64_t n, int64_t vocab,
                                int64_t dim, const int64_t *ids,
                                const float *grad, float *out, double *partials,
                                DeviceFault *fault, const char *op) {
  if (n == 0)
    return cudaSuccess;
  unsigned long long *firstBad;
  if (cudaError_t status = resetFirstBad(stream, partials, firstBad);
      status != cudaSuccess)
    return status;
  embeddingGradKernel<<<gridFor(n, 1), kThreads, 0, stream>>>(
      n, vocab, dim, ids, grad, out, firstBad);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  recordBadIdKernel<<<1, 1, 0, stream>>>(
      ids, vocab, firstBad, DeviceFault::kEmbeddingGradId, fault, op);
  return cudaGetLastError();
}

cudaError_t launchLocalizeIndex(cudaStream_t stream, int64_t n,
                                const int64_t *in, int64_t *out, int64_t offset,
                                int64_t valid) {
  localizeIndexKernel<<<gridFor(n), kThreads, 0, stream>>>(n, in, out, offset,
                                                           valid);
  return cudaGetLastError();
}

cudaError_t launchIota(cudaStream_t stream, int64_t outer, int64_t extent,
                       int64_t inner, int64_t start, int64_t *out) {
  int64_t n = outer * extent * inner;
  iotaKernel<<<gridFor(n), kThreads, 0, stream>>>(n, extent, inner, start,
                                                  out);
  return cudaGetLastError();
}

cudaError_t launchAlibiSlopes(cudaStream_t stream, int64_t heads,
                              double maxBias, float *out) {
  alibiSlopesKernel<<<gridFor(heads), kThreads, 0, stream>>>(heads, maxBias,
                                                             out);
  return cudaGetLastError();
}

cudaError_t launchAlibi(cudaStream_t stream, int64_t outer, int64_t heads,
                        int64_t queries, int64_t keys, int64_t firstKey,
                        bool bf16Bias, const float *scores, const float *slopes,
                        float *out) {
  int64_t n = outer * heads * queries * keys;
  alibiKernel<<<gridFor(n), kThreads, 0, stream>>>(
      n, heads, queries, keys, firstKey, bf16Bias, scores, slopes, out);
  return cudaGetLastError();
}

cudaError_t launchMaskBias(cudaStream_t stream, int64_t n, const int64_t *mask,
                           float fill, float *out) {
  maskBiasKernel<<<gridFor(n), kThreads, 0, stream>>>(n, mask, fill, out);
  return cudaGetLastError();
}

cudaError_t launchTargetMask(cudaStream_t stream, int64_t n,
                             const int64_t *targets, int64_t ignoreIndex,
                             float *out) {
  targetMaskKernel<<<gridFor(n), kThreads, 0, stream>>>(n, targets, ignoreIndex,
                                                        out);
  return cudaGetLastError();
}

cudaError_t launchBlockMax(cudaStream_t stream, int64_t rows, int64_t cols,
                           int64_t blocks, const float *x, float *out) {
  int64_t segments = rows * blocks;
  blockMaxKernel<<<gridFor(segments, 1), kThreads, 0, stream>>>(
      segments, cols / blocks, x, out);
  return cudaGetLastError();
}

cudaError_t launchGatherLast(cudaStream_t stream, int64_t rows, int64_t cols,
                             const float *x, const int64_t *index, float *out,
                             double *partials, DeviceFault *fault,
                             const char *op) {
  unsigned long long *firstBad;
  if (cudaError_t status = resetFirstBad(stream, partials, firstBad);
      status != cudaSuccess)
    return status;
  gatherLastKernel<<<gridFor(rows), kThreads, 0, stream>>>(rows, cols, x, index,
                                                           out, firstBad);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  recordBadIdKernel<<<1, 1, 0, stream>>>(
      index, cols, firstBad, DeviceFault::kGatherLastIndex, fault, op);
  return cudaGetLastError();
}

cudaError_t launchScatterLast(cudaStream_t stream, int64_t rows, int64_t cols,
                              const int64_t *index, const float *grad,
                              float *out, double *partials, DeviceFault *fault,
                              const char *op) {
  unsigned long long *firstBad;
  if (cudaError_t status = resetFirstBad(stream, partials, firstBad);
      status != cudaSuccess)
    return status;
  scatterLastKernel<<<gridFor(rows), kThreads, 0, stream>>>(
      rows, cols, index, grad, out, firstBad);
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    return status;
  recordBadIdKernel<<<1, 1, 0, stream>>>(
      index, cols, firstBad, DeviceFault::kScatterLastIndex, fault, op);
  return cudaGetLastError();
}

} // namespace mp::runtime::cuda
