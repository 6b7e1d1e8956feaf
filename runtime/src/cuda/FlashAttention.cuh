//===- FlashAttention.cuh - attention with its scores on chip --*- CUDA -*-===//
//
// mp_attention_f32 and its gradient in bf16 or tf32 on tensor cores, as
// FlashAttention-2 computes them: a block takes kRows query rows (16 per
// warp) and streams the keys and values through shared memory kKeys at a
// time, keeping each row's running maximum and sum, so no score reaches
// global memory; it writes each row's log-sum-exp beside the output. The
// gradient takes the probabilities as exp(t - lse) from it, t the scaled
// scores (soft-capped, capScore, or with ALiBi's bias, alibiBias, where the
// call says; Falcon's, alibiBiasBFloat16, before the scale), and
// D = Σ_j p_j·dp_j as Σ grad·out per row: the query gradients per block of
// queries (which also write D for the next kernel), then the key and value
// gradients per block of keys: each output is written by one block, so the
// results repeat bit for bit, with no atomics.
//
// The rounding is the composition's (Attention.cpp): q, k, v and the
// output gradient are rounded to the operands' type (bf16, or tf32 held in
// float; in bf16, q, k, v and the output may be held in bfloat16 already),
// products are summed in float, and the probabilities and the softmax gradient
// are rounded where a GEMM reads them. The forward pass rounds unnormalized
// probabilities and divides by the row's sum at the end, so it differs from the
// composition by rounding.
//
// The code is written against a few primitives its includer defines in
// namespace mp::runtime::flash before including it: MP_FLASH_DEVICE,
// `Bf16`, `toBf16` and `toTf32`, namespace `wmma` (nvcuda::wmma's fragments),
// threadInBlock(), syncBlock(), syncWarp() and shuffleXor(). nvcc's are
// in FlashAttention.cu; runtime/test/CudaEmulation.h runs the same code on
// CPU threads, which is how the suite checks it without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_CUDA_FLASHATTENTION_CUH
#define MP_RUNTIME_CUDA_FLASHATTENTION_CUH

#include "../Transformer.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <type_traits>

namespace mp::runtime::flash {

constexpr int kWarpSize = 32;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarpSize;
/// A tensor-core tile's side: each warp owns 16 rows of a block.
constexpr int kTile = 16;
/// Query rows per block, keys per pass.
constexpr int kRows = kWarps * kTile;
constexpr int kKeys = kWarps * kTile;
// A lane's share of a row (LaneRow) is half of either.
static_assert(kRows == kKeys, "scores are kRows x kKeys and transposed");
/// The largest head dims the kernels take (their tiles live in shared
/// memory); larger heads run the composition.
constexpr int64_t kMaxHeadDim = 128;

/// The tensor cores' view of the tiles' element type: bf16 operands in
/// 16x16x16 products, or float ones rounded to tf32 in 16x16x8 products.
template <typename T> struct TensorCore;
template <> struct TensorCore<Bf16> {
  using Element = Bf16;
  static constexpr int kDepth = 16;
};
template <> struct TensorCore<float> {
  using Element = wmma::precision::tf32;
  static constexpr int kDepth = 8;
};

/// `x` rounded to a tile's operand type.
MP_FLASH_DEVICE void storeOperand(Bf16 &to, float x) { to = toBf16(x); }
MP_FLASH_DEVICE void storeOperand(float &to, float x) { to = toTf32(x); }

/// `n` rounded up to a whole tile.
MP_HOST_DEVICE inline int padToTile(int64_t n) {
  return static_cast<int>((n + kTile - 1) / kTile * kTile);
}

/// The kernels' view of an attention call: its sizes, its scale and the
/// head dims padded to whole tiles.
struct FlashShape {
  AttentionShape sizes;
  float scale;
  int dPad, dvPad;

  MP_HOST_DEVICE FlashShape(const AttentionShape &sizes, float scale)
      : sizes(sizes), scale(scale), dPad(padToTile(sizes.headDim)),
        dvPad(padToTile(sizes.valueDim)) {}
  /// The softmax's input for a score q·k of key `key` in a query matrix of
  /// ALiBi slope `slope` (read once per block: AttentionShape::alibiSlope):
  /// scaled, then capped or biased, or biased by Falcon's bias, then scaled
  /// (AttentionShape::logit).
  MP_HOST_DEVICE float logit(float score, float slope, int64_t key) const {
    return sizes.logit(score, scale, slope, key);
  }
  /// Whether query row `row` sees key `key`; none past the last row.
  MP_HOST_DEVICE bool sees(int64_t row, int64_t key) const {
    return row < sizes.sq && key < sizes.keysSeen(row, 1) &&
           key >= sizes.firstKeySeen(row);
  }
  /// The end of the keys some row of the block from row `first` sees.
  MP_HOST_DEVICE int64_t keysOfBlock(int64_t first) const {
    int64_t last = first + kRows < sizes.sq ? first + kRows : sizes.sq;
    return sizes.keysSeen(first, last - first);
  }
  /// The first row that sees key `key`: under `causal`, key <= row + sk - sq.
  MP_HOST_DEVICE int64_t firstRowSeeing(int64_t key) const {
    int64_t row = sizes.causal ? key - (sizes.sk - sizes.sq) : 0;
    return row < 0 ? 0 : row;
  }
  MP_HOST_DEVICE int64_t queryBlocks() const {
    return (sizes.sq + kRows - 1) / kRows;
  }
  MP_HOST_DEVICE int64_t keyBlocks() const {
    return (sizes.sk + kKeys - 1) / kKeys;
  }
};

/// Hands out pieces of a block's shared memory, 128-byte aligned (wmma
/// wants 32); with a null base it only counts the bytes, which is how the
/// host sizes each kernel's shared memory.
class SharedCarver {
public:
  MP_HOST_DEVICE explicit SharedCarver(unsigned char *base) : base(base) {}
  template <typename T> MP_HOST_DEVICE T *take(int64_t count) {
    used = (used + 127) / 128 * 128;
    T *piece = reinterpret_cast<T *>(base + used);
    used += static_cast<size_t>(count) * sizeof(T);
    return piece;
  }
  MP_HOST_DEVICE size_t bytes() const { return used; }

private:
  unsigned char *base;
  size_t used = 0;
};

/// The leading dims of a block's tiles (row-major, [rows][leading dim]):
/// each row is padded by 16 bytes, so that the rows a warp's fragment load
/// reads, a stride apart, start in different shared-memory banks instead
/// of the same one.
template <typename T> struct TileLayout {
  static constexpr int kSkew = 16 / int(sizeof(T)), kFloatSkew = 4;
  /// Operand tiles: of the head dim (q, k), of the value dim (v, grad) and
  /// of probabilities (kKeys wide, or kRows transposed).
  int d, dv;
  static constexpr int probs = kKeys + kSkew;
  /// Float tiles: scores, and the forward pass's output sums.
  static constexpr int scores = kKeys + kFloatSkew;
  int accDv;
  MP_HOST_DEVICE explicit TileLayout(const FlashShape &s)
      : d(s.dPad + kSkew), dv(s.dvPad + kSkew), accDv(s.dvPad + kFloatSkew) {}
};

/// Each kernel's shared memory, its operand tiles of T (Bf16, or float
/// holding tf32).
template <typename T> struct ForwardShared {
  TileLayout<T> ld;
  T *q, *k, *v, *probs;
  float *scores, *out, *rowMax, *rowSum;
  MP_HOST_DEVICE ForwardShared(SharedCarver &c, const FlashShape &s)
      : ld(s), q(c.take<T>(kRows * ld.d)), k(c.take<T>(kKeys * ld.d)),
        v(c.take<T>(kKeys * ld.dv)), probs(c.take<T>(kRows * ld.probs)),
        scores(c.take<float>(kRows * ld.scores)),
        out(c.take<float>(kRows * ld.accDv)), rowMax(c.take<float>(kRows)),
        rowSum(c.take<float>(kRows)) {}
};

/// The query gradient's (`scores` and `dprobs` per query row) and the key
/// and value gradients' (transposed: per key row) alike; their sums are
/// WarpAccumulators.
template <typename T> struct GradShared {
  TileLayout<T> ld;
  T *q, *grad, *k, *v, *probs, *dscores;
  float *scores, *dprobs, *rowLse, *rowDot;
  MP_HOST_DEVICE GradShared(SharedCarver &c, const FlashShape &s, bool keys)
      : ld(s), q(c.take<T>(kRows * ld.d)), grad(c.take<T>(kRows * ld.dv)),
        k(c.take<T>(kKeys * ld.d)), v(c.take<T>(kKeys * ld.dv)),
        probs(c.take<T>(keys ? kKeys * ld.probs : 0)),
        dscores(c.take<T>(kRows * ld.probs)),
        scores(c.take<float>(kRows * ld.scores)),
        dprobs(c.take<float>(kRows * ld.scores)), rowLse(c.take<float>(kRows)),
        rowDot(c.take<float>(kRows)) {}
};

/// Rows [first, first + tileRows) of a [rows, cols] float32 or bfloat16
/// matrix into the first `pad` columns of a [tileRows][ld] tile of
/// operands, zeros past the matrix's rows and columns.
template <typename T>
MP_FLASH_DEVICE void loadTile(T *tile, int tileRows, int pad, int ld,
                              TensorIn matrix, int64_t rows, int64_t cols,
                              int64_t first) {
  for (int i = threadInBlock(); i < tileRows * pad; i += kThreads) {
    int r = i / pad, c = i % pad;
    int64_t row = first + r;
    storeOperand(tile[r * ld + c],
                 row < rows && c < cols ? load1(matrix, row * cols + c) : 0.0f);
  }
}

/// Sets `n` floats of shared memory to `value`.
MP_FLASH_DEVICE void fillShared(float *data, int n, float value) {
  for (int i = threadInBlock(); i < n; i += kThreads)
    data[i] = value;
}

/// A warp's 16 rows of GEMM operands a (16 x depth, row-major, lda) in
/// tensor-core fragments; depth is whole tiles of at most kMaxHeadDim.
template <typename T> struct WarpOperandRows {
  static constexpr int kDepth = TensorCore<T>::kDepth;
  wmma::fragment<wmma::matrix_a, kTile, kTile, kDepth,
                 typename TensorCore<T>::Element, wmma::row_major>
      tiles[kMaxHeadDim / kDepth];
  int depth;
  MP_FLASH_DEVICE WarpOperandRows(const T *a, int lda, int depth)
      : depth(depth) {
    for (int t = 0; t < depth / kDepth; ++t)
      wmma::load_matrix_sync(tiles[t], a + t * kDepth, lda);
  }
};

/// A warp's 16 x 16 float accumulator tile for operands of T.
template <typename T>
using AccumulatorTile = wmma::fragment<wmma::accumulator, kTile, kTile,
                                       TensorCore<T>::kDepth, float>;

/// sum += a · b's columns [j, j + 16), where b is depth x n: b(i, j) at
/// b[i·ldb + j], or at b[j·ldb + i] when `transposedB` (b is then an
/// n x depth row-major tile, as the keys are for q·kᵀ).
template <bool transposedB, typename T>
MP_FLASH_DEVICE void multiplyTile(AccumulatorTile<T> &sum,
                                  const WarpOperandRows<T> &a, const T *b,
                                  int ldb, int j) {
  using LayoutB = typename std::conditional<transposedB, wmma::col_major,
                                            wmma::row_major>::type;
  constexpr int kDepth = TensorCore<T>::kDepth;
  for (int t = 0; t < a.depth / kDepth; ++t) {
    wmma::fragment<wmma::matrix_b, kTile, kTile, kDepth,
                   typename TensorCore<T>::Element, LayoutB>
        bTile;
    int i = t * kDepth;
    wmma::load_matrix_sync(
        bTile, transposedB ? b + j * ldb + i : b + i * ldb + j, ldb);
    wmma::mma_sync(sum, a.tiles[t], bTile, sum);
  }
}

/// One warp's c (16 x n, row-major, ldc, in shared memory) = (accumulate ?
/// c : 0) + a · b (multiplyTile's a and b); n is whole tiles of at most
/// kMaxHeadDim.
template <bool transposedB, typename T>
MP_FLASH_DEVICE void warpGemm(float *c, int ldc, int n, const T *a, int lda,
                              int depth, const T *b, int ldb, bool accumulate) {
  WarpOperandRows<T> rows(a, lda, depth);
  for (int j = 0; j < n; j += kTile) {
    AccumulatorTile<T> sum;
    if (accumulate)
      wmma::load_matrix_sync(sum, c + j, ldc, wmma::mem_row_major);
    else
      wmma::fill_fragment(sum, 0.0f);
    multiplyTile<transposedB>(sum, rows, b, ldb, j);
    wmma::store_matrix_sync(c + j, sum, ldc, wmma::mem_row_major);
  }
}

/// A warp's 16 rows of a sum `width` floats wide (whole tiles, at most
/// kMaxHeadDim) kept in accumulator fragments, not shared memory, across a
/// kernel's loop: the gradients' (FlashAttention-2 keeps them in
/// registers).
template <typename T> struct WarpAccumulator {
  AccumulatorTile<T> tiles[kMaxHeadDim / kTile];
  int width;
  MP_FLASH_DEVICE explicit WarpAccumulator(int width) : width(width) {
    for (int t = 0; t < width / kTile; ++t)
      wmma::fill_fragment(tiles[t], 0.0f);
  }
  /// += a · b, b depth x width (row-major, ldb).
  MP_FLASH_DEVICE void add(const T *a, int lda, int depth, const T *b,
                           int ldb) {
    WarpOperandRows<T> rows(a, lda, depth);
    for (int t = 0; t < width / kTile; ++t)
      multiplyTile<false>(tiles[t], rows, b, ldb, t * kTile);
  }
  /// Writes `scale` times the rows to rows first.. of a [rows, cols] matrix
  /// (those inside it) through `staging`, 16 x ldStaging floats of shared
  /// memory that only this warp uses, ldStaging at least 16.
  MP_FLASH_DEVICE void store(float *matrix, int64_t rows, int64_t cols,
                             int64_t first, float scale, float *staging,
                             int ldStaging) const {
    for (int t = 0; t < width / kTile; ++t) {
      wmma::store_matrix_sync(staging, tiles[t], ldStaging,
                              wmma::mem_row_major);
      syncWarp();
      for (int i = threadInBlock() % kWarpSize; i < kTile * kTile;
           i += kWarpSize) {
        int r = i / kTile;
        int64_t c = t * kTile + i % kTile;
        if (first + r < rows && c < cols)
          matrix[(first + r) * cols + c] =
              scale * staging[r * ldStaging + i % kTile];
      }
      // Every lane has read the tile before the next one lands.
      syncWarp();
    }
  }
};

/// A lane's share of its warp's 16 rows of kKeys columns: two lanes per
/// row, half the columns each.
struct LaneRow {
  int row, half, firstColumn;
  MP_FLASH_DEVICE LaneRow()
      : row(threadInBlock() % kWarpSize / 2), half(threadInBlock() % 2),
        firstColumn(half * (kKeys / 2)) {}
  MP_FLASH_DEVICE bool leads() const { return half == 0; }
};

/// A block of query rows: matrix `matrix`'s rows from `first`, and its
/// key matrix's keys and values (unless only its rows are read).
struct QueryBlock {
  int64_t matrix, first;
  TensorIn keys{}, values{};
};

/// Calls body(block) for each block of query rows this thread block takes
/// (a grid-stride loop over them), once the previous one is done with
/// shared memory.
template <typename Body>
MP_FLASH_DEVICE void forEachQueryBlock(const FlashShape &s, TensorIn k,
                                       TensorIn v, int64_t firstItem,
                                       int64_t itemStride, Body body) {
  const AttentionShape &z = s.sizes;
  int64_t blocks = s.queryBlocks();
  for (int64_t item = firstItem; item < blocks * z.batch; item += itemStride) {
    int64_t matrix = item / blocks, keyMatrix = matrix / z.group;
    syncBlock();
    body(QueryBlock{matrix, item % blocks * kRows,
                    offsetBy(k, keyMatrix * z.sk * z.headDim),
                    offsetBy(v, keyMatrix * z.sk * z.valueDim)});
  }
}

/// Streams the keys and values the block's rows see (from its first row's
/// window on) through `sh.k` and `sh.v`, calling body(key0) with each kKeys
/// of them loaded. The tiles `sh` filled before are ready too.
template <typename Shared, typename Body>
MP_FLASH_DEVICE void forEachKeyBlock(const FlashShape &s, const QueryBlock &b,
                                     Shared &sh, Body body) {
  const AttentionShape &z = s.sizes;
  // Every warp reads what other warps' threads filled.
  syncBlock();
  for (int64_t key0 = z.firstKeySeen(b.first); key0 < s.keysOfBlock(b.first);
       key0 += kKeys) {
    // Every warp is done with the previous keys.
    syncBlock();
    loadTile(sh.k, kKeys, s.dPad, sh.ld.d, b.keys, z.sk, z.headDim, key0);
    loadTile(sh.v, kKeys, s.dvPad, sh.ld.dv, b.values, z.sk, z.valueDim, key0);
    syncBlock();
    body(key0);
  }
}

/// This warp's rows of the scores q·kᵀ and, with `dprobs`, of grad·vᵀ.
template <bool dprobs, typename Shared>
MP_FLASH_DEVICE void warpScores(const FlashShape &s, Shared &sh, int warpRow) {
  warpGemm<true>(sh.scores + warpRow * sh.ld.scores, sh.ld.scores, kKeys,
                 sh.q + warpRow * sh.ld.d, sh.ld.d, s.dPad, sh.k, sh.ld.d,
                 false);
  if constexpr (dprobs)
    warpGemm<true>(sh.dprobs + warpRow * sh.ld.scores, sh.ld.scores, kKeys,
                   sh.grad + warpRow * sh.ld.dv, sh.ld.dv, s.dvPad, sh.v,
                   sh.ld.dv, false);
  syncWarp();
}

/// The largest logit of the lane's row (query row `row` of a query matrix
/// of ALiBi slope `slope`) among the keys from key0 that it sees, over both
/// of the row's lanes.
MP_FLASH_DEVICE float rowMaxOfKeys(const FlashShape &s, const LaneRow &lane,
                                   const float *scores, float slope,
                                   int64_t key0, int64_t row) {
  float top = -INFINITY;
  for (int j = lane.firstColumn; j < lane.firstColumn + kKeys / 2; ++j)
    if (s.sees(row, key0 + j))
      top = fmaxf(top, s.logit(scores[j], slope, key0 + j));
  return fmaxf(top, shuffleXor(top, 1));
}

/// exp(oldMax - newMax), the factor a row's running sums take when its
/// maximum grows; 1 while it has seen no key (its sums are zeros).
MP_FLASH_DEVICE float rescaleFactor(float oldMax, float newMax) {
  return newMax == -INFINITY ? 1 : expf(oldMax - newMax);
}

/// The forward pass: a block per kRows query rows of a query matrix.
template <typename T>
MP_FLASH_DEVICE void attentionForward(const FlashShape &s, TensorIn q,
                                      TensorIn k, TensorIn v, TensorOut out,
                                      float *lse, unsigned char *shared,
                                      int64_t firstItem, int64_t itemStride) {
  const AttentionShape &z = s.sizes;
  SharedCarver carver(shared);
  ForwardShared<T> sh(carver, s);
  int warpRow = threadInBlock() / kWarpSize * kTile;
  LaneRow lane;
  int row = warpRow + lane.row;
  forEachQueryBlock(s, k, v, firstItem, itemStride, [&](const QueryBlock &b) {
    loadTile(sh.q, kRows, s.dPad, sh.ld.d,
             offsetBy(q, b.matrix * z.sq * z.headDim), z.sq, z.headDim,
             b.first);
    fillShared(sh.out, kRows * sh.ld.accDv, 0);
    fillShared(sh.rowMax, kRows, -INFINITY);
    fillShared(sh.rowSum, kRows, 0);
    int64_t queryRow = b.first + row;
    float slope = z.alibiSlope(b.matrix);
    forEachKeyBlock(s, b, sh, [&](int64_t key0) {
      warpScores<false>(s, sh, warpRow);
      const float *scores = sh.scores + row * sh.ld.scores;
      float oldMax = sh.rowMax[row],
            newMax = fmaxf(
                oldMax, rowMaxOfKeys(s, lane, scores, slope, key0, queryRow)),
            sum = 0;
      for (int j = lane.firstColumn; j < lane.firstColumn + kKeys / 2; ++j) {
        float p = s.sees(queryRow, key0 + j)
                      ? expf(s.logit(scores[j], slope, key0 + j) - newMax)
                      : 0;
        sum += p;
        storeOperand(sh.probs[row * sh.ld.probs + j], p);
      }
      sum += shuffleXor(sum, 1);
      float rescale = rescaleFactor(oldMax, newMax);
      float *outRow = sh.out + row * sh.ld.accDv;
      for (int c = lane.half; c < s.dvPad; c += 2)
        outRow[c] *= rescale;
      // Both lanes of the row have read its maximum.
      syncWarp();
      if (lane.leads()) {
        sh.rowMax[row] = newMax;
        sh.rowSum[row] = sh.rowSum[row] * rescale + sum;
      }
      warpGemm<false>(sh.out + warpRow * sh.ld.accDv, sh.ld.accDv, s.dvPad,
                      sh.probs + warpRow * sh.ld.probs, sh.ld.probs, kKeys,
                      sh.v, sh.ld.dv, true);
    });
    syncWarp();
    for (int i = threadInBlock() % kWarpSize; i < kTile * z.valueDim;
         i += kWarpSize) {
      int r = warpRow + i / static_cast<int>(z.valueDim);
      int64_t c = i % z.valueDim;
      if (b.first + r >= z.sq)
        continue;
      float total = sh.rowSum[r];
      store1(out, (b.matrix * z.sq + b.first + r) * z.valueDim + c,
             total > 0 ? sh.out[r * sh.ld.accDv + c] / total : 0);
    }
    if (lane.leads() && b.first + row < z.sq) {
      float total = sh.rowSum[row];
      lse[b.matrix * z.sq + b.first + row] =
          total > 0 ? sh.rowMax[row] + logf(total) : -INFINITY;
    }
  });
}

/// Loads the block's query rows and their output gradients into `sh.q`
/// and `sh.grad`.
template <typename Shared>
MP_FLASH_DEVICE void loadQueriesAndGrads(const FlashShape &s, Shared &sh,
                                         TensorIn q, const float *grad,
                                         const QueryBlock &b) {
  const AttentionShape &z = s.sizes;
  loadTile(sh.q, kRows, s.dPad, sh.ld.d,
           offsetBy(q, b.matrix * z.sq * z.headDim), z.sq, z.headDim, b.first);
  loadTile(sh.grad, kRows, s.dvPad, sh.ld.dv,
           TensorIn{MP_DTYPE_F32, grad + b.matrix * z.sq * z.valueDim}, z.sq,
           z.valueDim, b.first);
}

/// p = exp(t - lse) for the logit t and ds = p·(dp - dot)·capSlope(t) (the
/// softmax's gradient through the cap) of the entries a lane
/// owns in its row of `scores`/`dprobs` (kKeys wide), rounded to operands
/// into the same places of `probs` (unless null) and `dscores`. Entry j is
/// (query row rowOf(j) of a query matrix of ALiBi slope `slope`, key
/// keyOf(j)); it is zero where the row does not see the key.
template <typename T, typename RowOf, typename KeyOf, typename LseOf,
          typename DotOf>
MP_FLASH_DEVICE void
softmaxGradEntries(const FlashShape &s, int row, const LaneRow &lane,
                   const float *scores, const float *dprobs, T *probs,
                   T *dscores, float slope, RowOf rowOf, KeyOf keyOf,
                   LseOf lseOf, DotOf dotOf) {
  for (int j = lane.firstColumn; j < lane.firstColumn + kKeys / 2; ++j) {
    int entry = row * TileLayout<T>::scores + j,
        operand = row * TileLayout<T>::probs + j;
    bool seen = s.sees(rowOf(j), keyOf(j));
    float logit = s.logit(scores[entry], slope, keyOf(j));
    float p = seen ? expf(logit - lseOf(j)) : 0;
    if (probs)
      storeOperand(probs[operand], p);
    storeOperand(dscores[operand], seen ? p * (dprobs[entry] - dotOf(j)) *
                                              capSlope(logit, s.sizes.softcap)
                                        : 0.0f);
  }
}

/// Σ grad·out over a row's `n` entries, over both of the row's lanes (each
/// adding every other entry).
MP_FLASH_DEVICE float rowDotOf(const LaneRow &lane, const float *gradRow,
                               TensorIn outRow, int64_t n) {
  float dot = 0;
  for (int64_t c = lane.half; c < n; c += 2)
    dot += gradRow[c] * load1(outRow, c);
  return dot + shuffleXor(dot, 1);
}

/// The query gradient: a block per kRows query rows, over the keys they
/// see. It writes each row's D = Σ grad·out (Σ_j p_j·dp_j) into `rowDots`
/// for attentionGradKeys.
template <typename T>
MP_FLASH_DEVICE void
attentionGradQuery(const FlashShape &s, TensorIn q, TensorIn k, TensorIn v,
                   TensorIn out, const float *lse, const float *grad, float *dq,
                   float *rowDots, unsigned char *shared, int64_t firstItem,
                   int64_t itemStride) {
  const AttentionShape &z = s.sizes;
  SharedCarver carver(shared);
  GradShared<T> sh(carver, s, false);
  int warpRow = threadInBlock() / kWarpSize * kTile;
  LaneRow lane;
  int row = warpRow + lane.row;
  forEachQueryBlock(s, k, v, firstItem, itemStride, [&](const QueryBlock &b) {
    loadQueriesAndGrads(s, sh, q, grad, b);
    WarpAccumulator<T> queryGrad(s.dPad);
    // Every lane takes part in the shuffle; a row past the last adds none.
    bool inside = b.first + row < z.sq;
    int64_t globalRow = inside ? b.matrix * z.sq + b.first + row : 0;
    float dot = rowDotOf(lane, grad + globalRow * z.valueDim,
                         offsetBy(out, globalRow * z.valueDim),
                         inside ? z.valueDim : 0);
    if (inside && lane.leads()) {
      sh.rowLse[row] = lse[globalRow];
      sh.rowDot[row] = rowDots[globalRow] = dot;
    }
    forEachKeyBlock(s, b, sh, [&](int64_t key0) {
      warpScores<true>(s, sh, warpRow);
      softmaxGradEntries(
          s, row, lane, sh.scores, sh.dprobs, static_cast<T *>(nullptr),
          sh.dscores, z.alibiSlope(b.matrix),
          [&](int) { return b.first + row; }, [&](int j) { return key0 + j; },
          [&](int) { return sh.rowLse[row]; },
          [&](int) { return sh.rowDot[row]; });
      syncWarp();
      queryGrad.add(sh.dscores + warpRow * sh.ld.probs, sh.ld.probs, kKeys,
                    sh.k, sh.ld.d);
    });
    // The warp's own rows of the scores tile stage its sums (it is done
    // with them).
    queryGrad.store(dq + b.matrix * z.sq * z.headDim, z.sq, z.headDim,
                    b.first + warpRow, s.scale,
                    sh.scores + warpRow * sh.ld.scores, sh.ld.scores);
  });
}

/// The key and value gradients: a block per kKeys keys of a key matrix,
/// over its group's query matrices and the rows that see them. Each warp
/// owns 16 keys, so the scores are held transposed: a row per key.
template <typename T>
MP_FLASH_DEVICE void
attentionGradKeys(const FlashShape &s, TensorIn q, TensorIn k, TensorIn v,
                  const float *lse, const float *grad, const float *rowDots,
                  float *dk, float *dv, unsigned char *shared,
                  int64_t firstItem, int64_t itemStride) {
  const AttentionShape &z = s.sizes;
  SharedCarver carver(shared);
  GradShared<T> sh(carver, s, true);
  int warpKey = threadInBlock() / kWarpSize * kTile;
  LaneRow lane;
  int key = warpKey + lane.row;
  int64_t blocks = s.keyBlocks(), keyMatrices = z.batch / z.group;
  for (int64_t item = firstItem; item < blocks * keyMatrices;
       item += itemStride) {
    int64_t keyMatrix = item / blocks, key0 = item % blocks * kKeys;
    syncBlock();
    loadTile(sh.k, kKeys, s.dPad, sh.ld.d,
             offsetBy(k, keyMatrix * z.sk * z.headDim), z.sk, z.headDim, key0);
    loadTile(sh.v, kKeys, s.dvPad, sh.ld.dv,
             offsetBy(v, keyMatrix * z.sk * z.valueDim), z.sk, z.valueDim,
             key0);
    WarpAccumulator<T> keyGrad(s.dPad), valueGrad(s.dvPad);
    // The rows that see the block's keys: under a window, none past its
    // last key's.
    int64_t firstBlock = s.firstRowSeeing(key0) / kRows * kRows,
            lastKey = (key0 + kKeys < z.sk ? key0 + kKeys : z.sk) - 1,
            rowsEnd = z.rowsSeeingEnd(lastKey);
    for (int64_t matrix = keyMatrix * z.group;
         matrix < (keyMatrix + 1) * z.group; ++matrix)
      for (int64_t first = firstBlock; first < rowsEnd; first += kRows) {
        syncBlock();
        float slope = z.alibiSlope(matrix);
        loadQueriesAndGrads(s, sh, q, grad, QueryBlock{matrix, first});
        for (int r = threadInBlock(); r < kRows; r += kThreads) {
          bool inside = first + r < z.sq;
          sh.rowLse[r] = inside ? lse[matrix * z.sq + first + r] : INFINITY;
          sh.rowDot[r] = inside ? rowDots[matrix * z.sq + first + r] : 0;
        }
        syncBlock();
        // scoresᵀ = k·qᵀ, dprobsᵀ = v·gradᵀ: this warp's keys' rows.
        warpGemm<true>(sh.scores + warpKey * sh.ld.scores, sh.ld.scores, kRows,
                       sh.k + warpKey * sh.ld.d, sh.ld.d, s.dPad, sh.q, sh.ld.d,
                       false);
        warpGemm<true>(sh.dprobs + warpKey * sh.ld.scores, sh.ld.scores, kRows,
                       sh.v + warpKey * sh.ld.dv, sh.ld.dv, s.dvPad, sh.grad,
                       sh.ld.dv, false);
        syncWarp();
        softmaxGradEntries(
            s, key, lane, sh.scores, sh.dprobs, sh.probs, sh.dscores, slope,
            [&](int j) { return first + j; }, [&](int) { return key0 + key; },
            [&](int j) { return sh.rowLse[j]; },
            [&](int j) { return sh.rowDot[j]; });
        syncWarp();
        // dv += pᵀ·grad, dk += dsᵀ·q (the scale at the end).
        valueGrad.add(sh.probs + warpKey * sh.ld.probs, sh.ld.probs, kRows,
                      sh.grad, sh.ld.dv);
        keyGrad.add(sh.dscores + warpKey * sh.ld.probs, sh.ld.probs, kRows,
                    sh.q, sh.ld.d);
      }
    // The warp's own rows of the scores tile stage its sums (it is done
    // with them).
    float *staging = sh.scores + warpKey * sh.ld.scores;
    keyGrad.store(dk + keyMatrix * z.sk * z.headDim, z.sk, z.headDim,
                  key0 + warpKey, s.scale, staging, sh.ld.scores);
    valueGrad.store(dv + keyMatrix * z.sk * z.valueDim, z.sk, z.valueDim,
                    key0 + warpKey, 1, staging, sh.ld.scores);
  }
}

/// Each kernel's shared memory bytes.
template <typename T> size_t forwardSharedBytes(const FlashShape &s) {
  SharedCarver c(nullptr);
  ForwardShared<T> sh(c, s);
  return c.bytes();
}
template <typename T> size_t gradSharedBytes(const FlashShape &s, bool keys) {
  SharedCarver c(nullptr);
  GradShared<T> sh(c, s, keys);
  return c.bytes();
}

} // namespace mp::runtime::flash

#endif // MP_RUNTIME_CUDA_FLASHATTENTION_CUH
