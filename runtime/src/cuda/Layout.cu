//===- Layout.cu - reductions, broadcasts, transposes, piece copies -------===//
//
// Kernels that map indices between row-major tensors of different shapes.
// Shapes travel by value as an Indexer (at most kMaxRank dims).
//
//===----------------------------------------------------------------------===//

#include "Launch.cuh"

#include <cstdint>

namespace mp::runtime::cuda {

namespace {

/// Maps a row-major index over `sizes` to the sum of its coordinates times
/// `strides`: the offset of that element in another layout.
struct Indexer {
  int rank = 0;
  int64_t sizes[kMaxRank];
  int64_t strides[kMaxRank];

  void push(int64_t size, int64_t stride) {
    sizes[rank] = size;
    strides[rank] = stride;
    ++rank;
  }
  int64_t count() const {
    int64_t count = 1;
    for (int d = 0; d < rank; ++d)
      count *= sizes[d];
    return count;
  }
  __device__ int64_t offset(int64_t index) const {
    int64_t offset = 0;
    for (int d = rank - 1; d >= 0; --d) {
      offset += index % sizes[d] * strides[d];
      index /= sizes[d];
    }
    return offset;
  }
};

/// Row-major strides of `shape`.
void getStrides(int rank, const int64_t *shape, int64_t *strides) {
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
  }
}

/// Few elements per output: a thread sums each output on its own.
constexpr int64_t kMaxPerThreadReduction = 64;

__global__ void reduceSumPerThreadKernel(Indexer kept, Indexer reduced,
                                         int64_t outCount, int64_t reducedCount,
                                         double scale, const float *in,
                                         float *out) {
  for (int64_t o = gridStart(); o < outCount; o += gridStride()) {
    int64_t base = kept.offset(o);
    double sum = 0;
    for (int64_t r = 0; r < reducedCount; ++r)
      sum += in[base + reduced.offset(r)];
    out[o] = float(sum * scale);
  }
}

/// Many elements per output: a block sums each output.
__global__ void reduceSumPerBlockKernel(Indexer kept, Indexer reduced,
                                        int64_t outCount, int64_t reducedCount,
                                        double scale, const float *in,
                                        float *out) {
  for (int64_t o = blockIdx.x; o < outCount; o += gridDim.x) {
    int64_t base = kept.offset(o);
    double sum = 0;
    for (int64_t r = threadIdx.x; r < reducedCount; r += blockDim.x)
      sum += in[base + reduced.offset(r)];
    sum = blockSum(sum);
    if (threadIdx.x == 0)
      out[o] = float(sum * scale);
  }
}

/// out[i] = in[offset of i]: broadcasts and transposes.
__global__ void gatherKernel(Indexer source, int64_t count, const float *in,
                             float *out) {
  for (int64_t i = gridStart(); i < count; i += gridStride())
    out[i] = in[source.offset(i)];
}

template <typename T>
__global__ void swapLeadingDimsKernel(const T *in, T *out, int64_t a, int64_t b,
                                      int64_t c) {
  int64_t count = a * b * c;
  for (int64_t i = gridStart(); i < count; i += gridStride()) {
    int64_t ai = i / (b * c), bi = i / c % b, ci = i % c;
    out[(bi * a + ai) * c + ci] = in[i];
  }
}

/// out[o][r] = in[o][first + r] for rows of `rowElements` out of rows of
/// `inRowElements`.
template <typename T>
__global__ void copyPieceKernel(const T *in, T *out, int64_t outer,
                                int64_t inRowElements, int64_t rowElements,
                                int64_t first) {
  int64_t count = outer * rowElements;
  for (int64_t i = gridStart(); i < count; i += gridStride())
    out[i] = in[i / rowElements * inRowElements + first + i % rowElements];
}

} // namespace

cudaError_t launchReduceSum(cudaStream_t stream, int rank, const int64_t *shape,
                            uint32_t dimsMask, double scale, const float *in,
                            float *out) {
  int64_t strides[kMaxRank];
  getStrides(rank, shape, strides);
  Indexer kept, reduced;
  for (int d = 0; d < rank; ++d)
    (dimsMask >> d & 1 ? reduced : kept).push(shape[d], strides[d]);
  int64_t outCount = kept.count(), reducedCount = reduced.count();
  if (outCount == 0)
    return cudaSuccess;
  if (reducedCount <= kMaxPerThreadReduction)
    reduceSumPerThreadKernel<<<gridFor(outCount), kThreads, 0, stream>>>(
        kept, reduced, outCount, reducedCount, scale, in, out);
  else
    reduceSumPerBlockKernel<<<gridFor(outCount, 1), kThreads, 0, stream>>>(
        kept, reduced, outCount, reducedCount, scale, in, out);
  return cudaGetLastError();
}

cudaError_t launchBroadcast(cudaStream_t stream, int rank,
                            const int64_t *outShape, uint32_t dimsMask,
                            const float *in, float *out) {
  // The input is the output without the broadcast dims: those get stride 0.
  Indexer source;
  int64_t inStride = 1, inStrides[kMaxRank];
  for (int d = rank - 1; d >= 0; --d) {
    inStrides[d] = dimsMask >> d & 1 ? 0 : inStride;
    if (!(dimsMask >> d & 1))
      inStride *= outShape[d];
  }
  for (int d = 0; d < rank; ++d)
    source.push(outShape[d], inStrides[d]);
  int64_t count = source.count();
  if (count == 0)
    return cudaSuccess;
  gatherKernel<<<gridFor(count), kThreads, 0, stream>>>(source, count, in, out);
  return cudaGetLastError();
}

cudaError_t launchTranspose(cudaStream_t stream, int rank,
                            const int64_t *inShape, const int *perm,
                            const float *in, float *out) {
  int64_t inStrides[kMaxRank];
  getStrides(rank, inShape, inStrides);
  Indexer source;
  for (int d = 0; d < rank; ++d)
    source.push(inShape[perm[d]], inStrides[perm[d]]);
  int64_t count = source.count();
  if (count == 0)
    return cudaSuccess;
  gatherKernel<<<gridFor(count), kThreads, 0, stream>>>(source, count, in, out);
  return cudaGetLastError();
}

cudaError_t launchSwapLeadingDims(cudaStream_t stream, const void *in,
                                  void *out, int64_t a, int64_t b, int64_t c,
                                  size_t elementBytes) {
  int64_t count = a * b * c;
  if (count == 0)
    return cudaSuccess;
  if (elementBytes == 8)
    swapLeadingDimsKernel<<<gridFor(count), kThreads, 0, stream>>>(
        static_cast<const uint64_t *>(in), static_cast<uint64_t *>(out), a, b,
        c);
  else
    swapLeadingDimsKernel<<<gridFor(count), kThreads, 0, stream>>>(
        static_cast<const uint32_t *>(in), static_cast<uint32_t *>(out), a, b,
        c);
  return cudaGetLastError();
}

cudaError_t launchCopyPiece(cudaStream_t stream, const DimView &view,
                            const void *in, void *out, int64_t p, int64_t n) {
  int64_t rowElements = view.extent / n * view.inner;
  int64_t count = view.outer * rowElements;
  if (count == 0)
    return cudaSuccess;
  int64_t inRowElements = view.extent * view.inner;
  if (view.elementBytes == 8)
    copyPieceKernel<<<gridFor(count), kThreads, 0, stream>>>(
        static_cast<const uint64_t *>(in), static_cast<uint64_t *>(out),
        view.outer, inRowElements, rowElements, p * rowElements);
  else
    copyPieceKernel<<<gridFor(count), kThreads, 0, stream>>>(
        static_cast<const uint32_t *>(in), static_cast<uint32_t *>(out),
        view.outer, inRowElements, rowElements, p * rowElements);
  return cudaGetLastError();
}

} // namespace mp::runtime::cuda
