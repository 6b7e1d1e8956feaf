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

/// A reduction whose dims collapse to [outer, reduced, inner] (kept,
/// reduced, kept; size-1 dims dropped, neighbours of one kind merged):
/// out[o·inner + i] = scale · Σ_r in[(o·reduced + r)·inner + i]. The
/// reduced range is cut into `chunks` equal pieces so that every output
/// gets many threads when there are few outputs; each piece's sum goes to
/// partials[output·chunks + chunk], and a second pass adds them in chunk
/// order, so the result repeats bit for bit.
struct SplitReduction {
  int64_t outer = 1, reduced = 1, inner = 1;
  int64_t chunks = 1, chunkLength = 1;

  __host__ __device__ int64_t outputs() const { return outer * inner; }
  __device__ void range(int64_t chunk, int64_t &first, int64_t &last) const {
    first = chunk * chunkLength;
    last = min(reduced, first + chunkLength);
  }
};

/// Contiguous reduced elements (inner = 1): a block sums one chunk of one
/// output, its threads reading neighbouring elements.
__global__ void reduceRowsKernel(SplitReduction split, double scale,
                                 const float *in, float *out,
                                 double *partials) {
  int64_t pieces = split.outer * split.chunks;
  for (int64_t piece = blockIdx.x; piece < pieces; piece += gridDim.x) {
    int64_t o = piece / split.chunks, chunk = piece % split.chunks;
    int64_t first, last;
    split.range(chunk, first, last);
    const float *row = in + o * split.reduced;
    // Four elements per load where the chunk starts 16-byte aligned (chunk
    // lengths are multiples of 4): enough bytes in flight for bandwidth.
    int64_t vectorEnd =
        alignedForVectors(row + first) ? first + (last - first) / 4 * 4 : first;
    double sum = 0;
    for (int64_t r = first + 4 * threadIdx.x; r < vectorEnd;
         r += 4 * blockDim.x) {
      float4 x = *reinterpret_cast<const float4 *>(row + r);
      sum += x.x;
      sum += x.y;
      sum += x.z;
      sum += x.w;
    }
    for (int64_t r = vectorEnd + threadIdx.x; r < last; r += blockDim.x)
      sum += row[r];
    sum = blockSum(sum);
    if (threadIdx.x == 0) {
      if (split.chunks == 1)
        out[o] = float(sum * scale);
      else
        partials[piece] = sum;
    }
  }
}

/// Strided reduced elements (inner > 1): a thread sums one chunk of one
/// output, neighbouring threads reading neighbouring outputs.
__global__ void reduceColumnsKernel(SplitReduction split, double scale,
                                    const float *in, float *out,
                                    double *partials) {
  int64_t outputs = split.outputs();
  int64_t pieces = outputs * split.chunks;
  for (int64_t piece = gridStart(); piece < pieces; piece += gridStride()) {
    int64_t chunk = piece / outputs, output = piece % outputs;
    int64_t o = output / split.inner, i = output % split.inner;
    int64_t first, last;
    split.range(chunk, first, last);
    const float *column = in + o * split.reduced * split.inner + i;
    double sum = 0;
    // Independent loads, several in flight per thread.
#pragma unroll 4
    for (int64_t r = first; r < last; ++r)
      sum += column[r * split.inner];
    if (split.chunks == 1)
      out[output] = float(sum * scale);
    else
      partials[output * split.chunks + chunk] = sum;
  }
}

/// The second pass: out[o] = scale · Σ_chunk partials[o·chunks + chunk].
__global__ void finishChunksKernel(int64_t outputs, int64_t chunks,
                                   double scale, const double *partials,
                                   float *out) {
  for (int64_t o = gridStart(); o < outputs; o += gridStride()) {
    double sum = 0;
    for (int64_t c = 0; c < chunks; ++c)
      sum += partials[o * chunks + c];
    out[o] = float(sum * scale);
  }
}

/// [outer, reduced, inner] when the reduced dims (mask) are one run after
/// dropping size-1 dims; false for any other pattern.
bool collapseToSplit(int rank, const int64_t *shape, uint32_t dimsMask,
                     SplitReduction &split) {
  // 0: before the reduced run, 1: inside it, 2: after it.
  int phase = 0;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 1)
      continue;
    bool reduced = dimsMask >> d & 1;
    if (reduced && phase == 2)
      return false;
    if (reduced)
      phase = 1;
    else if (phase == 1)
      phase = 2;
    (reduced ? split.reduced : phase == 0 ? split.outer : split.inner) *=
        shape[d];
  }
  return true;
}

/// Threads a pass should offer the GPU to keep every SM streaming memory:
/// fixed, not read off the device, so that a shape always gets the same
/// chunks and so the same rounding.
constexpr int64_t kTargetThreads = int64_t(1) << 19;
/// Fewest elements a thread or block chunk is worth.
constexpr int64_t kMinColumnChunk = 32;
constexpr int64_t kMinRowChunk = 16 * kThreads;

cudaError_t launchSplitReduction(cudaStream_t stream, SplitReduction split,
                                 double scale, const float *in, float *out,
                                 double *partials) {
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  int64_t outputs = split.outputs();
  bool rows = split.inner == 1;
  // Pieces of work wanted: blocks for rows, threads for columns.
  int64_t wanted = rows ? kTargetThreads / kThreads : kTargetThreads;
  int64_t chunks = std::max<int64_t>(1, ceilDiv(wanted, outputs));
  chunks = std::min(chunks, std::max<int64_t>(
                                1, split.reduced / (rows ? kMinRowChunk
                                                         : kMinColumnChunk)));
  chunks = std::min(chunks, std::max<int64_t>(1, kReductionPartials / outputs));
  split.chunkLength = ceilDiv(ceilDiv(split.reduced, chunks), 4) * 4;
  split.chunks = ceilDiv(split.reduced, split.chunkLength);
  int64_t pieces = outputs * split.chunks;
  if (rows)
    reduceRowsKernel<<<gridFor(pieces, 1), kThreads, 0, stream>>>(
        split, scale, in, out, partials);
  else
    reduceColumnsKernel<<<gridFor(pieces), kThreads, 0, stream>>>(
        split, scale, in, out, partials);
  if (split.chunks > 1)
    finishChunksKernel<<<gridFor(outputs), kThreads, 0, stream>>>(
        outputs, split.chunks, scale, partials, out);
  return cudaGetLastError();
}

/// out[i] = in[0]: a broadcast of one element.
__global__ void broadcastOneKernel(int64_t count, const float *in, float *out) {
  float value = in[0];
  int64_t vectorEnd = alignedForVectors(out) ? count / 4 * 4 : 0;
  for (int64_t v = gridStart(); v < vectorEnd / 4; v += gridStride())
    reinterpret_cast<float4 *>(out)[v] =
        make_float4(value, value, value, value);
  for (int64_t i = vectorEnd + gridStart(); i < count; i += gridStride())
    out[i] = value;
}

/// out[i] = in[offset of i]: broadcasts and transposes (whose tensors may
/// be float32 or bfloat16: each element widened or rounded).
__global__ void gatherKernel(Indexer source, int64_t count, TensorIn in,
                             TensorOut out) {
  for (int64_t i = gridStart(); i < count; i += gridStride())
    store1(out, i, load1(in, source.offset(i)));
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

/// out[i][c][r] = in[i][r][c] for `batch` [rows][cols] matrices, `inStride`
/// elements apart in `in` and packed in `out`. A block moves 32x32 tiles
/// through shared memory, so that both its reads and its writes are whole
/// rows of a tile: an element-wise gather writes (or reads) one 4-byte
/// element of each 32-byte sector it touches.
constexpr int kTransposeTile = 32;
template <typename T>
__global__ void transposeMatricesKernel(const T *in, T *out, int64_t batch,
                                        int64_t rows, int64_t cols,
                                        int64_t inStride) {
  constexpr int kTile = kTransposeTile;
  __shared__ T tile[kTile][kTile + 1];
  int64_t rowTiles = (rows + kTile - 1) / kTile;
  int64_t colTiles = (cols + kTile - 1) / kTile;
  // The loops depend on the block only, so every thread reaches each
  // barrier.
  for (int64_t i = blockIdx.z; i < batch; i += gridDim.z)
    for (int64_t rowTile = blockIdx.y; rowTile < rowTiles; rowTile += gridDim.y)
      for (int64_t colTile = blockIdx.x; colTile < colTiles;
           colTile += gridDim.x) {
        const T *source = in + i * inStride;
        T *target = out + i * rows * cols;
        int64_t col = colTile * kTile + threadIdx.x;
        for (int r = threadIdx.y; r < kTile; r += blockDim.y) {
          int64_t row = rowTile * kTile + r;
          if (row < rows && col < cols)
            tile[r][threadIdx.x] = source[row * cols + col];
        }
        __syncthreads();
        int64_t row = rowTile * kTile + threadIdx.x;
        for (int c = threadIdx.y; c < kTile; c += blockDim.y) {
          int64_t targetRow = colTile * kTile + c;
          if (targetRow < cols && row < rows)
            target[targetRow * rows + row] = tile[threadIdx.x][c];
        }
        __syncthreads();
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

/// The regions of one launchCopyBatch launch: 3 KB of kernel parameters.
struct CopyBatch {
  CopyRegion regions[kCopyBatchRegions];
};

/// Copies `region` in units of T (which divide its addresses, pitches and
/// width), the grid's x dimension striding over its rows' units.
template <typename T> __device__ void copyRegion(const CopyRegion &region) {
  int64_t rowUnits = region.widthBytes / sizeof(T);
  int64_t count = rowUnits * static_cast<int64_t>(region.height);
  for (int64_t i = gridStart(); i < count; i += gridStride()) {
    int64_t row = i / rowUnits, unit = i % rowUnits;
    reinterpret_cast<T *>(static_cast<char *>(region.dst) +
                          row * region.dstPitch)[unit] =
        reinterpret_cast<const T *>(static_cast<const char *>(region.src) +
                                    row * region.srcPitch)[unit];
  }
}

/// Region blockIdx.y of the batch, in the widest unit that divides its
/// addresses, pitches and width (16 bytes for float32 tensors at the
/// arena's 64-byte alignment; 2 for a bf16 tensor at an odd offset).
__global__ void copyBatchKernel(CopyBatch batch) {
  const CopyRegion &region = batch.regions[blockIdx.y];
  uintptr_t bits = reinterpret_cast<uintptr_t>(region.dst) |
                   reinterpret_cast<uintptr_t>(region.src) | region.dstPitch |
                   region.srcPitch | region.widthBytes;
  if (bits % 16 == 0)
    copyRegion<uint4>(region);
  else if (bits % 8 == 0)
    copyRegion<uint64_t>(region);
  else if (bits % 4 == 0)
    copyRegion<uint32_t>(region);
  else if (bits % 2 == 0)
    copyRegion<uint16_t>(region);
  else
    copyRegion<uint8_t>(region);
}

} // namespace

cudaError_t launchCopyBatch(cudaStream_t stream, const CopyRegion *regions,
                            int count) {
  if (count <= 0)
    return cudaSuccess;
  CopyBatch batch;
  int64_t largest = 0;
  for (int i = 0; i < count; ++i) {
    batch.regions[i] = regions[i];
    largest =
        std::max<int64_t>(largest, regions[i].widthBytes * regions[i].height);
  }
  // Blocks for the largest region in 16-byte units; smaller regions' extra
  // blocks find nothing to copy.
  dim3 grid(gridFor((largest + 15) / 16, kThreads, 1024), count);
  copyBatchKernel<<<grid, kThreads, 0, stream>>>(batch);
  return cudaGetLastError();
}

cudaError_t launchReduceSum(cudaStream_t stream, int rank, const int64_t *shape,
                            uint32_t dimsMask, double scale, const float *in,
                            float *out, double *partials) {
  SplitReduction split;
  if (collapseToSplit(rank, shape, dimsMask, split) && split.outputs() > 0 &&
      split.reduced > kMaxPerThreadReduction)
    return launchSplitReduction(stream, split, scale, in, out, partials);
  // Interleaved reduced and kept dims, or few elements per output.
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
  if (inStride == 1)
    broadcastOneKernel<<<gridFor((count + 3) / 4), kThreads, 0, stream>>>(
        count, in, out);
  else
    gatherKernel<<<gridFor(count), kThreads, 0, stream>>>(
        source, count, TensorIn{MP_DTYPE_F32, in},
        TensorOut{MP_DTYPE_F32, out});
  return cudaGetLastError();
}

cudaError_t launchTranspose(cudaStream_t stream, int rank,
                            const int64_t *inShape, const int *perm,
                            TensorIn in, TensorOut out) {
  // A swap of the last two dims that keeps the dtype moves tiles.
  bool swapsLastTwo = rank >= 2 && perm[rank - 2] == rank - 1 &&
                      perm[rank - 1] == rank - 2 && in.type == out.type;
  int64_t batch = 1;
  for (int d = 0; d + 2 < rank; ++d) {
    swapsLastTwo &= perm[d] == d;
    batch *= inShape[d];
  }
  if (swapsLastTwo) {
    int64_t rows = inShape[rank - 2], cols = inShape[rank - 1];
    return launchTransposeMatrices(stream, in.data, out.data, batch, rows, cols,
                                   rows * cols,
                                   in.type == MP_DTYPE_BF16 ? 2 : 4);
  }
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

/// Calls `launch` with a value of the unsigned type of `elementBytes`
/// bytes (bfloat16's 2, float32's 4, or 8), the type the copy kernels move
/// elements as.
template <typename Launch>
cudaError_t withElementType(size_t elementBytes, Launch launch) {
  switch (elementBytes) {
  case 2:
    launch(uint16_t());
    break;
  case 4:
    launch(uint32_t());
    break;
  case 8:
    launch(uint64_t());
    break;
  default:
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t launchTransposeMatrices(cudaStream_t stream, const void *in,
                                    void *out, int64_t batch, int64_t rows,
                                    int64_t cols, int64_t inStride,
                                    size_t elementBytes) {
  if (batch == 0 || rows == 0 || cols == 0)
    return cudaSuccess;
  // Grid y and z are at most 65535; the kernel loops over what is left.
  auto blocks = [](int64_t n) {
    return static_cast<unsigned>(std::min<int64_t>(65535, n));
  };
  dim3 grid(blocks((cols + kTransposeTile - 1) / kTransposeTile),
            blocks((rows + kTransposeTile - 1) / kTransposeTile),
            blocks(batch));
  dim3 block(kTransposeTile, kThreads / kTransposeTile);
  return withElementType(elementBytes, [&](auto element) {
    using T = decltype(element);
    transposeMatricesKernel<<<grid, block, 0, stream>>>(
        static_cast<const T *>(in), static_cast<T *>(out), batch, rows, cols,
        inStride);
  });
}

cudaError_t launchSwapLeadingDims(cudaStream_t stream, const void *in,
                                  void *out, int64_t a, int64_t b, int64_t c,
                                  size_t elementBytes) {
  int64_t count = a * b * c;
  if (count == 0)
    return cudaSuccess;
  if (c == 1)
    return launchTransposeMatrices(stream, in, out, 1, a, b, a * b,
                                   elementBytes);
  return withElementType(elementBytes, [&](auto element) {
    using T = decltype(element);
    swapLeadingDimsKernel<<<gridFor(count), kThreads, 0, stream>>>(
        static_cast<const T *>(in), static_cast<T *>(out), a, b, c);
  });
}

cudaError_t launchCopyPiece(cudaStream_t stream, const DimView &view,
                            const void *in, void *out, int64_t p, int64_t n) {
  int64_t rowElements = view.extent / n * view.inner;
  int64_t count = view.outer * rowElements;
  if (count == 0)
    return cudaSuccess;
  int64_t inRowElements = view.extent * view.inner;
  return withElementType(view.elementBytes, [&](auto element) {
    using T = decltype(element);
    copyPieceKernel<<<gridFor(count), kThreads, 0, stream>>>(
        static_cast<const T *>(in), static_cast<T *>(out), view.outer,
        inRowElements, rowElements, p * rowElements);
  });
}

} // namespace mp::runtime::cuda
