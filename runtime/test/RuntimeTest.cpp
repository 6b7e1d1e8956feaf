//===- RuntimeTest.cpp - the runtime's collectives and kernels, on ranks --===//
//
//   mpirun -n 4 mp-runtime-test [--backend host|cuda] [--transports T,...]
//       data_parallel=2 tensor_parallel=2
//
// Every rank builds the same global tensors, takes its pieces, runs each
// collective over every group of axes and along every dim, and compares
// with what the global tensor says the result must be. Inputs and results
// go through mp_copy_to_backend and mp_copy_to_host, so the same checks run
// on either backend. The collective checks run once per transport listed
// (the backend's MP_HOST_TRANSPORT or MP_CUDA_TRANSPORT; by default all of
// them: mpi,staged on the host, nccl,mpi on CUDA), the other checks on the
// first. Rank 0 prints one line with the number of checks; the exit code is
// 0 only if every rank passed.
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "Pieces.h"
#include "host/VectorExp.h"
#include "mp_runtime.h"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

int checks = 0, failures = 0;
mp_backend backend = MP_BACKEND_HOST;

void expect(bool ok, const std::string &what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
  }
}

#define CHECK_OK(ctx, call)                                                    \
  do {                                                                         \
    if ((call) != MP_OK) {                                                     \
      std::fprintf(stderr, "%s\n", mp_context_error(ctx));                     \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

/// Backend memory (device memory on CUDA) from mp_alloc, filled from and
/// read back into host vectors.
class Buffer {
public:
  /// All bits set (NaN floats, -1 integers): a result left unwritten is
  /// seen, even where the allocator hands back a block that holds the
  /// expected values from an earlier check.
  Buffer(mp_context *ctx, size_t bytes)
      : Buffer(ctx, std::vector<unsigned char>(bytes, 0xff)) {}
  template <typename T>
  Buffer(mp_context *ctx, const std::vector<T> &values)
      : ctx(ctx), bytes(values.size() * sizeof(T)), ptr(mp_alloc(ctx, bytes)) {
    CHECK_OK(ctx, mp_context_status(ctx));
    CHECK_OK(ctx, mp_copy_to_backend(ctx, ptr, values.data(), bytes));
  }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() { mp_free(ctx, ptr); }

  template <typename T> T *as() const { return static_cast<T *>(ptr); }
  /// Overwrites the buffer (as many bytes as it holds).
  template <typename T> void write(const std::vector<T> &values) const {
    CHECK_OK(ctx, mp_copy_to_backend(ctx, ptr, values.data(),
                                     values.size() * sizeof(T)));
  }
  /// Sets all bits again, as at construction.
  void fillNaN() const { write(std::vector<unsigned char>(bytes, 0xff)); }
  float *floats() const { return as<float>(); }
  template <typename T = float> std::vector<T> read() const {
    std::vector<T> values(bytes / sizeof(T));
    CHECK_OK(ctx, mp_copy_to_host(ctx, values.data(), ptr, bytes));
    return values;
  }

private:
  mp_context *ctx;
  size_t bytes;
  void *ptr;
};

/// A row-major tensor of floats.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  static Tensor iota(std::vector<int64_t> shape, float scale) {
    Tensor t{shape, {}};
    int64_t count = 1;
    for (int64_t e : shape)
      count *= e;
    for (int64_t i = 0; i < count; ++i)
      t.data.push_back(scale * float(i % 97) + 0.25f * float(i / 97));
    return t;
  }
  /// Piece `p` of `n` along `dim`.
  Tensor piece(int dim, int64_t p, int64_t n) const {
    Tensor out{shape, {}};
    out.shape[dim] /= n;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < dim; ++d)
      outer *= shape[d];
    for (size_t d = dim + 1; d < shape.size(); ++d)
      inner *= shape[d];
    int64_t rows = out.shape[dim];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < inner; ++i)
          out.data.push_back(data[(o * shape[dim] + p * rows + r) * inner + i]);
    return out;
  }
};

/// Written so that NaN, which an unwritten (poisoned) result holds, fails.
bool near(const std::vector<float> &a, const std::vector<float> &b,
          float tol = 1e-5f) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(a[i] - b[i]) <= tol * (1 + std::fabs(b[i]))))
      return false;
  return true;
}

struct Group {
  std::vector<int> axes;
  int64_t size = 1, index = 0;
  std::string name;
};

Group makeGroup(mp_context *ctx, std::vector<int> axes) {
  Group g{axes, 1, 0, ""};
  for (int axis : axes) {
    g.size *= mp_context_axis_size(ctx, axis);
    g.index = g.index * mp_context_axis_size(ctx, axis) +
              mp_context_coordinate(ctx, axis);
    g.name += (g.name.empty() ? "" : ",") + std::to_string(axis);
  }
  return g;
}

/// FSDP's grouped calls: tensors of different ranks gathered (and
/// reduce-scattered) along different dims in one collective each, against
/// the global tensors and the single-tensor semantics.
/// x rounded to bfloat16's 8 significant bits, to nearest with ties to even
/// (nearbyint in the default rounding mode): what a bf16 GEMM reads.
float bf16(float x) {
  if (x == 0 || !std::isfinite(x))
    return x;
  double scale = std::ldexp(1.0, 7 - std::ilogb(x));
  return static_cast<float>(std::nearbyint(x * scale) / scale);
}

void testGroupedCollectives(mp_context *ctx, const Group &g) {
  if (8 % g.size != 0)
    return;
  std::string where = " axes [" + g.name + "]";
  std::vector<Tensor> globals = {Tensor::iota({8, 3, 2}, 0.5f),
                                 Tensor::iota({3, 8}, -2.0f),
                                 Tensor::iota({2, 8, 5}, 7.0f)};
  std::vector<int> dims = {0, 1, 1}, ranks;
  std::vector<int64_t> pieceShapes, globalShapes;
  std::vector<Tensor> pieces;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<void *> mine, gathered, contributions, scattered;
  size_t pieceFloats = 0;
  for (size_t i = 0; i < globals.size(); ++i) {
    const Tensor &global = globals[i];
    pieces.push_back(global.piece(dims[i], g.index, g.size));
    ranks.push_back(global.shape.size());
    pieceShapes.insert(pieceShapes.end(), pieces[i].shape.begin(),
                       pieces[i].shape.end());
    globalShapes.insert(globalShapes.end(), global.shape.begin(),
                        global.shape.end());
    pieceFloats += pieces[i].data.size();
    std::vector<float> contribution(global.data);
    for (float &v : contribution)
      v *= float(g.index + 1);
    for (auto *list : {&mine, &gathered, &contributions, &scattered}) {
      size_t floats = list == &mine || list == &scattered
                          ? pieces[i].data.size()
                          : global.data.size();
      buffers.push_back(
          list == &mine ? std::make_unique<Buffer>(ctx, pieces[i].data)
          : list == &contributions
              ? std::make_unique<Buffer>(ctx, contribution)
              : std::make_unique<Buffer>(ctx, floats * sizeof(float)));
      list->push_back(buffers.back()->floats());
    }
  }
  Buffer scratch(ctx, (g.size + 1) * pieceFloats * sizeof(float));
  CHECK_OK(ctx, mp_all_gather_group(
                    ctx, g.axes.data(), g.axes.size(), MP_DTYPE_F32,
                    globals.size(), mine.data(), gathered.data(), ranks.data(),
                    pieceShapes.data(), dims.data(), scratch.floats()));
  CHECK_OK(ctx, mp_reduce_scatter_group(ctx, g.axes.data(), g.axes.size(),
                                        MP_DTYPE_F32, globals.size(),
                                        contributions.data(), scattered.data(),
                                        ranks.data(), globalShapes.data(),
                                        dims.data(), scratch.floats()));
  for (size_t i = 0; i < globals.size(); ++i) {
    std::vector<float> out(globals[i].data.size());
    CHECK_OK(ctx, mp_copy_to_host(ctx, out.data(), gathered[i],
                                  out.size() * sizeof(float)));
    expect(near(out, globals[i].data),
           "all_gather_group tensor " + std::to_string(i) + where);
    std::vector<float> piece(pieces[i].data.size()), expected(pieces[i].data);
    CHECK_OK(ctx, mp_copy_to_host(ctx, piece.data(), scattered[i],
                                  piece.size() * sizeof(float)));
    for (float &v : expected)
      v *= float(g.size * (g.size + 1) / 2);
    expect(near(piece, expected),
           "reduce_scatter_group tensor " + std::to_string(i) + where);
  }
  // Asynchronous, both in flight at once with their own scratch: a grouped
  // call unpacks at its mp_async_wait (outputs untouched before it), the
  // waits in the other order; the same results.
  std::vector<std::unique_ptr<Buffer>> asyncBuffers;
  std::vector<void *> asyncGathered, asyncScattered;
  std::vector<float> sentinel;
  for (size_t i = 0; i < globals.size(); ++i) {
    sentinel.assign(globals[i].data.size(), -1.0f);
    asyncBuffers.push_back(std::make_unique<Buffer>(ctx, sentinel));
    asyncGathered.push_back(asyncBuffers.back()->floats());
    asyncBuffers.push_back(
        std::make_unique<Buffer>(ctx, pieces[i].data.size() * sizeof(float)));
    asyncScattered.push_back(asyncBuffers.back()->floats());
  }
  Buffer secondScratch(ctx, (g.size + 1) * pieceFloats * sizeof(float));
  CHECK_OK(ctx, mp_async_begin(ctx, 7));
  CHECK_OK(ctx, mp_all_gather_group(ctx, g.axes.data(), g.axes.size(),
                                    MP_DTYPE_F32, globals.size(), mine.data(),
                                    asyncGathered.data(), ranks.data(),
                                    pieceShapes.data(), dims.data(),
                                    scratch.floats()));
  CHECK_OK(ctx, mp_async_begin(ctx, 8));
  CHECK_OK(ctx,
           mp_reduce_scatter_group(
               ctx, g.axes.data(), g.axes.size(), MP_DTYPE_F32, globals.size(),
               contributions.data(), asyncScattered.data(), ranks.data(),
               globalShapes.data(), dims.data(), secondScratch.floats()));
  std::vector<float> before(globals[2].data.size());
  CHECK_OK(ctx, mp_copy_to_host(ctx, before.data(), asyncGathered[2],
                                before.size() * sizeof(float)));
  expect(before == sentinel,
         "asynchronous all_gather_group unpacks at its wait" + where);
  CHECK_OK(ctx, mp_async_wait(ctx, 8));
  CHECK_OK(ctx, mp_async_wait(ctx, 7));
  // Bit for bit the synchronous calls' results.
  auto read = [&](void *buffer, size_t floats) {
    std::vector<float> values(floats);
    CHECK_OK(ctx, mp_copy_to_host(ctx, values.data(), buffer,
                                  floats * sizeof(float)));
    return values;
  };
  for (size_t i = 0; i < globals.size(); ++i) {
    size_t whole = globals[i].data.size(), piece = pieces[i].data.size();
    expect(read(asyncGathered[i], whole) == read(gathered[i], whole),
           "asynchronous all_gather_group tensor " + std::to_string(i) + where);
    expect(read(asyncScattered[i], piece) == read(scattered[i], piece),
           "asynchronous reduce_scatter_group tensor " + std::to_string(i) +
               where);
  }
  // Coalesced all_reduces, each summed as mp_all_reduce sums it (member m
  // contributes (m + 1) times the tensor): the first in place, an empty
  // one (null buffers) among them.
  std::vector<std::unique_ptr<Buffer>> sums;
  std::vector<const void *> sumIn;
  std::vector<void *> sumOut;
  std::vector<int64_t> counts;
  for (const Tensor &global : globals) {
    std::vector<float> contribution(global.data);
    for (float &v : contribution)
      v *= float(g.index + 1);
    sums.push_back(std::make_unique<Buffer>(ctx, contribution));
    sumIn.push_back(sums.back()->floats());
    if (sumIn.size() > 1)
      sums.push_back(
          std::make_unique<Buffer>(ctx, contribution.size() * sizeof(float)));
    sumOut.push_back(sums.back()->floats());
    counts.push_back(contribution.size());
  }
  sumIn.insert(sumIn.begin() + 1, nullptr);
  sumOut.insert(sumOut.begin() + 1, nullptr);
  counts.insert(counts.begin() + 1, 0);
  Buffer sumScratch(ctx, (globals[0].data.size() + globals[1].data.size() +
                          globals[2].data.size()) *
                             sizeof(float));
  CHECK_OK(ctx,
           mp_all_reduce_group(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_F32,
                               counts.size(), sumIn.data(), sumOut.data(),
                               counts.data(), sumScratch.floats()));
  for (size_t i = 0; i < globals.size(); ++i) {
    std::vector<float> expected(globals[i].data);
    for (float &v : expected)
      v *= float(g.size * (g.size + 1) / 2);
    expect(near(read(sumOut[i ? i + 1 : 0], expected.size()), expected),
           "all_reduce_group tensor " + std::to_string(i) + where);
  }
  // Asynchronous: the output untouched until the wait, then the same sum.
  std::vector<float> unwritten(globals[2].data.size(), -1.0f);
  Buffer asyncSum(ctx, unwritten);
  const void *asyncIn[] = {sumIn[3]};
  void *asyncOut[] = {asyncSum.floats()};
  CHECK_OK(ctx, mp_async_begin(ctx, 9));
  CHECK_OK(ctx, mp_all_reduce_group(ctx, g.axes.data(), g.axes.size(),
                                    MP_DTYPE_F32, 1, asyncIn, asyncOut,
                                    &counts[3], sumScratch.floats()));
  expect(read(asyncSum.floats(), unwritten.size()) == unwritten,
         "asynchronous all_reduce_group unpacks at its wait" + where);
  CHECK_OK(ctx, mp_async_wait(ctx, 9));
  expect(read(asyncSum.floats(), unwritten.size()) ==
             read(sumOut[3], unwritten.size()),
         "asynchronous all_reduce_group" + where);
}

/// Lifts the live bytes to the peak while it lives, so that any allocation
/// after it raises mp_peak_bytes by its bytes.
class PeakPad {
public:
  explicit PeakPad(mp_context *ctx)
      : ctx(ctx),
        ptr(mp_alloc(ctx, std::max<size_t>(1, mp_peak_bytes(ctx) -
                                                  mp_live_bytes(ctx)))) {
    CHECK_OK(ctx, mp_context_status(ctx));
  }
  PeakPad(const PeakPad &) = delete;
  PeakPad &operator=(const PeakPad &) = delete;
  ~PeakPad() { mp_free(ctx, ptr); }

private:
  mp_context *ctx;
  void *ptr;
};

/// The bytes `call` (a runtime call) allocates of its own beside its
/// arguments: its peak above the live bytes before it, counted from the
/// current peak.
template <typename Call> size_t countOwnBytes(mp_context *ctx, Call call) {
  PeakPad pad(ctx);
  size_t live = mp_live_bytes(ctx);
  CHECK_OK(ctx, call());
  CHECK_OK(ctx, mp_context_status(ctx));
  return mp_peak_bytes(ctx) - live;
}

/// Each collective along each dim of the rank-3 `global` that `g` divides.
/// The float32 ones are given the staging mp_collective_scratch_bytes asks
/// for and must allocate nothing of their own; the bfloat16 and the
/// asynchronous ones none, and must count what they stage in.
void testCollectivesAlongDims(mp_context *ctx, const Group &g,
                              const Tensor &global) {
  const int rank = 3;
  // Runs call(scratch, bytes) given the scratch for `kind` of a tensor of
  // local shape `shape` and expects it to allocate nothing; returns those
  // bytes.
  auto staged = [&](mp_collective kind, const std::vector<int64_t> &shape,
                    int dim, int concatDim, const std::string &what,
                    auto call) {
    int64_t bytes =
        mp_collective_scratch_bytes(backend, kind, g.size, MP_DTYPE_F32, rank,
                                    shape.data(), dim, concatDim);
    expect(bytes >= 0, what + ": the staging's bytes");
    Buffer scratch(ctx, std::max<int64_t>(bytes, 1));
    {
      PeakPad pad(ctx);
      size_t live = mp_live_bytes(ctx);
      CHECK_OK(ctx, call(scratch.as<void>(), bytes));
      CHECK_OK(ctx, mp_context_status(ctx));
      int64_t own = int64_t(mp_peak_bytes(ctx) - live);
      expect(own == 0, what + ": in mp_collective_scratch_bytes (" +
                           std::to_string(bytes) + "), nothing of its own (" +
                           std::to_string(own) + " bytes)");
    }
    // Without it, the host stages in memory of its own where it is
    // planned, counted while the call runs (CUDA's MPI transport stages
    // on the host, not in device memory).
    if (backend == MP_BACKEND_HOST) {
      PeakPad pad(ctx);
      size_t live = mp_live_bytes(ctx);
      CHECK_OK(ctx, call(nullptr, 0));
      int64_t own = int64_t(mp_peak_bytes(ctx) - live);
      expect(own <= bytes && (own > 0) == (bytes > 0),
             what + ": without it, at most its " + std::to_string(bytes) +
                 " bytes of its own, counted (" + std::to_string(own) + ")");
    }
    return bytes;
  };
  for (int dim = 0; dim < rank; ++dim) {
    if (global.shape[dim] % g.size != 0)
      continue;
    std::string where = "axes [" + g.name + "] dim " + std::to_string(dim) +
                        " of " + std::to_string(global.shape[0]) + " rows";
    // all_gather: pieces back to the whole.
    Tensor mine = global.piece(dim, g.index, g.size);
    Buffer mineBuffer(ctx, mine.data), globalBuffer(ctx, global.data);
    Buffer gathered(ctx, global.data.size() * sizeof(float));
    staged(MP_COLLECTIVE_ALL_GATHER, mine.shape, dim, 0, "all_gather " + where,
           [&](void *scratch, int64_t bytes) {
             return mp_all_gather(ctx, g.axes.data(), g.axes.size(),
                                  MP_DTYPE_F32, mineBuffer.floats(),
                                  gathered.floats(), rank, mine.shape.data(),
                                  dim, scratch, bytes);
           });
    expect(near(gathered.read(), global.data), "all_gather " + where);
    // The same in bfloat16 (mp-narrow-collectives): rounded, moved as 2
    // bytes each, widened; the values are the whole rounded.
    Buffer mineNarrow(ctx, mine.data.size() * 2);
    Buffer gatheredNarrow(ctx, global.data.size() * 2);
    Buffer widened(ctx, global.data.size() * sizeof(float));
    CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, mine.data.size(),
                             mineBuffer.floats(), mineNarrow.as<void>()));
    CHECK_OK(ctx,
             mp_all_gather(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_BF16,
                           mineNarrow.as<void>(), gatheredNarrow.as<void>(),
                           rank, mine.shape.data(), dim, nullptr, 0));
    CHECK_OK(ctx,
             mp_convert(ctx, MP_DTYPE_BF16, MP_DTYPE_F32, global.data.size(),
                        gatheredNarrow.as<void>(), widened.floats()));
    std::vector<float> rounded(global.data);
    for (float &v : rounded)
      v = bf16(v);
    expect(widened.read() == rounded, "all_gather bf16 " + where);
    // Asynchronous (mp_async_begin, mp_async_wait): the same result once
    // waited for, with a kernel issued in between.
    Buffer asyncGathered(ctx, global.data.size() * sizeof(float));
    Buffer between(ctx, mine.data.size() * sizeof(float));
    CHECK_OK(ctx, mp_async_begin(ctx, 5));
    CHECK_OK(ctx, mp_all_gather(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_F32,
                                mineBuffer.floats(), asyncGathered.floats(),
                                rank, mine.shape.data(), dim, nullptr, 0));
    CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_NEG, mine.data.size(),
                               MP_DTYPE_F32, mineBuffer.floats(), MP_DTYPE_F32,
                               between.floats(), 0, 0));
    CHECK_OK(ctx, mp_async_wait(ctx, 5));
    expect(near(asyncGathered.read(), global.data),
           "asynchronous all_gather " + where);
    // shard_slice: the whole to this member's piece.
    Buffer sliced(ctx, mine.data.size() * sizeof(float));
    CHECK_OK(ctx,
             mp_shard_slice(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_F32,
                            globalBuffer.floats(), sliced.floats(), rank,
                            global.shape.data(), dim));
    expect(near(sliced.read(), mine.data), "shard_slice " + where);
    // reduce_scatter: member j contributes (j+1)·global; the sum is
    // n(n+1)/2·global, of which this member keeps its piece.
    std::vector<float> contribution(global.data);
    for (float &v : contribution)
      v *= float(g.index + 1);
    Buffer contributionBuffer(ctx, contribution);
    Buffer scattered(ctx, mine.data.size() * sizeof(float));
    staged(MP_COLLECTIVE_REDUCE_SCATTER, global.shape, dim, 0,
           "reduce_scatter " + where, [&](void *scratch, int64_t bytes) {
             return mp_reduce_scatter(ctx, g.axes.data(), g.axes.size(),
                                      MP_DTYPE_F32, contributionBuffer.floats(),
                                      scattered.floats(), rank,
                                      global.shape.data(), dim, scratch, bytes);
           });
    std::vector<float> expected(mine.data);
    for (float &v : expected)
      v *= float(g.size * (g.size + 1) / 2);
    expect(near(scattered.read(), expected), "reduce_scatter " + where);
    // all_to_all: from a piece along `dim` to a piece along every other.
    for (int other = 0; other < rank; ++other) {
      if (other == dim || global.shape[other] % g.size != 0)
        continue;
      Buffer moved(ctx, mine.data.size() * sizeof(float));
      std::string what =
          "all_to_all " + where + " to dim " + std::to_string(other);
      staged(MP_COLLECTIVE_ALL_TO_ALL, mine.shape, other, dim, what,
             [&](void *scratch, int64_t bytes) {
               return mp_all_to_all(ctx, g.axes.data(), g.axes.size(),
                                    MP_DTYPE_F32, mineBuffer.floats(),
                                    moved.floats(), rank, mine.shape.data(),
                                    other, dim, scratch, bytes);
             });
      expect(near(moved.read(), global.piece(other, g.index, g.size).data),
             what);
    }
  }
}

void testCollectives(mp_context *ctx, const Group &g) {
  // Strided pieces of few rows and of many: the CUDA backend runs an
  // all_gather or reduce_scatter of up to 32 rows as a call per row and
  // packs more.
  testCollectivesAlongDims(ctx, g, Tensor::iota({4, 6, 8}, 0.5f));
  testCollectivesAlongDims(ctx, g, Tensor::iota({36, 4, 2}, 0.5f));
  // all_reduce: the sum of the members' (index+1)·x, in f32 and i64.
  std::vector<float> values = {1.0f, -2.0f, 3.5f};
  for (float &v : values)
    v *= float(g.index + 1);
  Buffer reduced(ctx, values);
  CHECK_OK(ctx, mp_all_reduce(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_F32,
                              reduced.floats(), values.size()));
  float total = float(g.size * (g.size + 1) / 2);
  expect(near(reduced.read(), {total, -2 * total, 3.5f * total}),
         "all_reduce axes [" + g.name + "]");
  std::vector<int64_t> counts = {g.index + 1, int64_t(1) << 40};
  Buffer countsBuffer(ctx, counts);
  CHECK_OK(ctx, mp_all_reduce(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_I64,
                              countsBuffer.as<int64_t>(), counts.size()));
  expect(countsBuffer.read<int64_t>() ==
             std::vector<int64_t>{g.size * (g.size + 1) / 2,
                                  g.size * (int64_t(1) << 40)},
         "all_reduce i64 axes [" + g.name + "]");

  // bfloat16 sums (FSDP2's reduce_dtype): the reduce_scatter and the
  // all_reduce of a [size, 2] tensor whose row r is (index+1)·2^-r·x for x
  // of 2 significant bits: every partial sum of up to 8 ranks has at most
  // 7, so it is a bfloat16 and the sum exact whatever the order.
  std::vector<float> bf16Values = {1.5f, -0.75f};
  std::vector<float> bf16Rows;
  for (int64_t r = 0; r < g.size; ++r)
    for (float v : bf16Values)
      bf16Rows.push_back(std::ldexp(v, -int(r)) * float(g.index + 1));
  Buffer rows(ctx, bf16Rows), narrowRows(ctx, bf16Rows.size() * 2),
      narrowPiece(ctx, bf16Values.size() * 2),
      piece(ctx, bf16Values.size() * sizeof(float)),
      whole(ctx, bf16Rows.size() * sizeof(float));
  CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, bf16Rows.size(),
                           rows.floats(), narrowRows.as<void>()));
  int64_t bf16Shape[] = {g.size, int64_t(bf16Values.size())};
  CHECK_OK(ctx,
           mp_reduce_scatter(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_BF16,
                             narrowRows.as<void>(), narrowPiece.as<void>(), 2,
                             bf16Shape, 0, nullptr, 0));
  CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_BF16, MP_DTYPE_F32, bf16Values.size(),
                           narrowPiece.as<void>(), piece.floats()));
  expect(
      piece.read() ==
          std::vector<float>{std::ldexp(bf16Values[0], -int(g.index)) * total,
                             std::ldexp(bf16Values[1], -int(g.index)) * total},
      "reduce_scatter bf16 axes [" + g.name + "]");
  CHECK_OK(ctx, mp_all_reduce(ctx, g.axes.data(), g.axes.size(), MP_DTYPE_BF16,
                              narrowRows.as<void>(), bf16Rows.size()));
  CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_BF16, MP_DTYPE_F32, bf16Rows.size(),
                           narrowRows.as<void>(), whole.floats()));
  std::vector<float> summedRows;
  for (int64_t r = 0; r < g.size; ++r)
    for (float v : bf16Values)
      summedRows.push_back(std::ldexp(v, -int(r)) * total);
  expect(whole.read() == summedRows, "all_reduce bf16 axes [" + g.name + "]");
}

void testGemm(mp_context *ctx) {
  const int64_t m = 5, n = 7, k = 3;
  for (mp_precision precision :
       {MP_PRECISION_FP32, MP_PRECISION_TF32, MP_PRECISION_BF16})
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        Tensor a = Tensor::iota(
            ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k}, 0.1f);
        Tensor b = Tensor::iota(tb ? std::vector<int64_t>{n, k}
                                   : std::vector<int64_t>{k, n},
                                -0.2f);
        auto operand = [&](float x) {
          return precision == MP_PRECISION_BF16 ? double(bf16(x)) : double(x);
        };
        std::vector<float> c(m * n, 1.0f), expected(m * n);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0;
            for (int64_t l = 0; l < k; ++l)
              sum += operand(ta ? a.data[l * m + i] : a.data[i * k + l]) *
                     operand(tb ? b.data[j * k + l] : b.data[l * n + j]);
            expected[i * n + j] = float(2 * sum + 0.5);
          }
        Buffer aBuffer(ctx, a.data), bBuffer(ctx, b.data), cBuffer(ctx, c);
        CHECK_OK(ctx,
                 mp_gemm_f32(ctx, precision, MP_DTYPE_F32, MP_DTYPE_F32, ta, tb,
                             m, n, k, 2.0f, aBuffer.floats(), bBuffer.floats(),
                             0.5f, MP_DTYPE_F32, cBuffer.floats(), nullptr, 0));
        // tf32 on CUDA multiplies in TF32 (10 mantissa bits), as PyTorch's
        // allow_tf32; cuBLAS does not say how its bf16 conversion rounds.
        // The host computes tf32 in float32 and rounds bf16 as `bf16`.
        float tolerance = backend != MP_BACKEND_CUDA       ? 1e-4f
                          : precision == MP_PRECISION_TF32 ? 4e-3f
                          : precision == MP_PRECISION_BF16 ? 8e-3f
                                                           : 1e-4f;
        std::string what = "gemm precision=" + std::to_string(precision) +
                           " trans_a=" + std::to_string(ta) +
                           " trans_b=" + std::to_string(tb);
        expect(near(cBuffer.read(), expected, tolerance), what);
        if (precision != MP_PRECISION_BF16)
          continue;
        // bfloat16 operands (FSDP's gathered bf16 parameters, activations
        // held by mp-narrow-gemm-operands) hold the rounded values
        // themselves: the same result as float32 operands in bf16
        // precision. The host widens them; CUDA multiplies two natively
        // and converts the smaller of mixed ones (here a bf16 A of 15
        // elements is widened, an f32 A rounded against a bf16 B of 21).
        Buffer aNarrow(ctx, a.data.size() * 2), bNarrow(ctx, b.data.size() * 2);
        CHECK_OK(ctx,
                 mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, a.data.size(),
                            aBuffer.floats(), aNarrow.as<void>()));
        CHECK_OK(ctx,
                 mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, b.data.size(),
                            bBuffer.floats(), bNarrow.as<void>()));
        for (auto [aType, bType] : {std::pair(MP_DTYPE_BF16, MP_DTYPE_F32),
                                    std::pair(MP_DTYPE_F32, MP_DTYPE_BF16),
                                    std::pair(MP_DTYPE_BF16, MP_DTYPE_BF16)}) {
          Buffer out(ctx, c);
          CHECK_OK(ctx, mp_gemm_f32(
                            ctx, precision, aType, bType, ta, tb, m, n, k, 2.0f,
                            aType == MP_DTYPE_BF16 ? aNarrow.as<void>()
                                                   : aBuffer.as<void>(),
                            bType == MP_DTYPE_BF16 ? bNarrow.as<void>()
                                                   : bBuffer.as<void>(),
                            0.5f, MP_DTYPE_F32, out.floats(), nullptr, 0));
          std::string types = " a_type=" + std::to_string(aType) +
                              " b_type=" + std::to_string(bType);
          expect(near(out.read(), expected, tolerance), what + types);
          // Widening is exact: the float32 GEMM's result, bit for bit
          // (CUDA's FAST_16BF conversion, unknown, may round the float32
          // operands otherwise than to nearest even).
          if (backend == MP_BACKEND_HOST)
            expect(out.read() == cBuffer.read(),
                   what + types + " equals the float32 operands'");
        }
      }

  // Operands halfway between two bfloat16s round to the even one: 1 + 2^-8
  // to 1, 1 + 3·2^-8 to 1 + 2^-6; float32 keeps them. Rows of A times a
  // B of ones (a stride of 0 shares B over the batch).
  std::vector<float> halfway = {1 + 0x1p-8f, 1 + 0x3p-8f};
  Buffer a(ctx, halfway), b(ctx, std::vector<float>{1});
  Buffer c(ctx, 2 * sizeof(float));
  CHECK_OK(ctx, mp_gemm_batched_f32(ctx, MP_PRECISION_BF16, MP_DTYPE_F32,
                                    MP_DTYPE_F32, 0, 0, 2, 1, 1, 1, 1.0f,
                                    a.floats(), 1, b.floats(), 0, 0.0f,
                                    MP_DTYPE_F32, c.floats(), 1, nullptr, 0));
  std::vector<float> roundedEven = {1, 1 + 0x1p-6f};
  if (backend == MP_BACKEND_HOST)
    expect(c.read() == roundedEven,
           "bf16 gemm rounds operands to nearest, ties to even");
  else
    expect(near(c.read(), roundedEven, 0x1p-7f), "bf16 gemm rounds operands");
  CHECK_OK(ctx, mp_gemm_batched_f32(ctx, MP_PRECISION_FP32, MP_DTYPE_F32,
                                    MP_DTYPE_F32, 0, 0, 2, 1, 1, 1, 1.0f,
                                    a.floats(), 1, b.floats(), 0, 0.0f,
                                    MP_DTYPE_F32, c.floats(), 1, nullptr, 0));
  expect(c.read() == halfway, "fp32 gemm keeps float32 operands");

  // mp_convert: float32 to bfloat16 to nearest even (ties, a carry into
  // the exponent, overflow to infinity, infinities, a NaN kept a NaN) and
  // back exactly.
  std::vector<float> values = {1 + 0x1p-8f,   1 + 0x3p-8f, -2.5f,     0x1.ffp0f,
                               0x1.ffffp127f, INFINITY,    -INFINITY, NAN};
  Buffer from(ctx, values), narrow(ctx, values.size() * 2),
      back(ctx, values.size() * sizeof(float));
  CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, values.size(),
                           from.floats(), narrow.as<void>()));
  CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_BF16, MP_DTYPE_F32, values.size(),
                           narrow.as<void>(), back.floats()));
  std::vector<float> widened = back.read();
  std::vector<float> expected = {1,        1 + 0x1p-6f, -2.5f,     2,
                                 INFINITY, INFINITY,    -INFINITY, NAN};
  bool same = true;
  for (size_t i = 0; i < values.size(); ++i)
    same &= std::isnan(expected[i]) ? std::isnan(widened[i])
                                    : widened[i] == expected[i];
  expect(same, "mp_convert rounds to bf16 to nearest even and widens back");
}

// GEMMs with few rows or a short inner dim (a small batch's forward, input
// and weight gradients) and larger ones, with beta 0 over a C full of NaN
// (which must not be read), in every layout and precision. The operands
// have at most 4 significant bits and the sums fit float32's 24, so every
// precision and summation order gives the exact result. The largest shape
// is bound by its FLOPs (70 per byte), where CUDA writes out A transposed
// for a tensor-core GEMM of cuBLAS's NT layout (trans_a, not trans_b).
void testGemmWithoutC(mp_context *ctx) {
  struct Shape {
    int64_t m, n, k;
  };
  // A few rows over more than 256 columns: the host's column blocks.
  const Shape shapes[] = {{8, 300, 1000},  {1000, 300, 8}, {3, 5, 2},
                          {16, 40, 16},    {17, 33, 17},   {1, 1, 1},
                          {390, 450, 420}, {5, 600, 40}};
  for (const Shape &shape : shapes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        auto [m, n, k] = shape;
        std::vector<float> a(m * k), b(k * n);
        for (size_t i = 0; i < a.size(); ++i)
          a[i] = float(int64_t(i * 37 % 23) - 11) / 16.0f;
        for (size_t i = 0; i < b.size(); ++i)
          b[i] = float(int64_t(i * 53 % 19) - 9) / 8.0f;
        std::vector<float> expected(m * n);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0;
            for (int64_t l = 0; l < k; ++l)
              sum += double(ta ? a[l * m + i] : a[i * k + l]) *
                     double(tb ? b[j * k + l] : b[l * n + j]);
            expected[i * n + j] = float(1.5 * sum);
          }
        std::string what = "gemm " + std::to_string(m) + "x" +
                           std::to_string(n) + "x" + std::to_string(k) +
                           " trans_a=" + std::to_string(ta) +
                           " trans_b=" + std::to_string(tb) + " beta=0";
        Buffer aBuffer(ctx, a), bBuffer(ctx, b);
        for (mp_precision precision :
             {MP_PRECISION_FP32, MP_PRECISION_TF32, MP_PRECISION_BF16}) {
          Buffer cBuffer(ctx, std::vector<float>(m * n, std::nanf("")));
          CHECK_OK(ctx, mp_gemm_f32(ctx, precision, MP_DTYPE_F32, MP_DTYPE_F32,
                                    ta, tb, m, n, k, 1.5f, aBuffer.floats(),
                                    bBuffer.floats(), 0.0f, MP_DTYPE_F32,
                                    cBuffer.floats(), nullptr, 0));
          expect(cBuffer.read() == expected,
                 what + " precision=" + std::to_string(precision));
        }
        if (m * n * k < 1000000)
          continue;
        // Two products, one operand strided with a gap between its
        // matrices and the other shared (stride 0), the second matrix the
        // first negated: the results are the product and its negation.
        std::vector<float> negatedA(a.size()), negatedB(b.size());
        std::transform(a.begin(), a.end(), negatedA.begin(), std::negate<>());
        std::transform(b.begin(), b.end(), negatedB.begin(), std::negate<>());
        std::vector<float> both = expected;
        for (float value : expected)
          both.push_back(-value);
        for (bool sharedB : {true, false}) {
          const int64_t gap = 3;
          std::vector<float> strided = sharedB ? a : b;
          strided.resize(strided.size() + gap, std::nanf(""));
          const std::vector<float> &second = sharedB ? negatedA : negatedB;
          strided.insert(strided.end(), second.begin(), second.end());
          Buffer stridedBuffer(ctx, strided);
          Buffer cBuffer(ctx, std::vector<float>(2 * m * n, std::nanf("")));
          int64_t stride = int64_t(strided.size() - second.size());
          CHECK_OK(ctx, mp_gemm_batched_f32(
                            ctx, MP_PRECISION_TF32, MP_DTYPE_F32, MP_DTYPE_F32,
                            ta, tb, 2, m, n, k, 1.5f,
                            sharedB ? stridedBuffer.floats() : aBuffer.floats(),
                            sharedB ? stride : 0,
                            sharedB ? bBuffer.floats() : stridedBuffer.floats(),
                            sharedB ? 0 : stride, 0.0f, MP_DTYPE_F32,
                            cBuffer.floats(), m * n, nullptr, 0));
          expect(
              cBuffer.read() == both,
              "batched " + what +
                  (sharedB ? " strided A, shared B" : " shared A, strided B"));
        }
      }
}

/// A GEMM given the workspace mp_gemm_workspace_bytes asks for (what a
/// compiled step plans in its arena) computes what it computes without one,
/// bit for bit, and allocates nothing of its own; without one it takes
/// scratch of its own, no more than that, and mp_peak_bytes counts it.
void testWorkspace(mp_context *ctx) {
  struct Case {
    const char *what;
    mp_precision precision;
    mp_dtype aType, bType, cType;
    int ta, tb;
    int64_t batch, m, n, k, strideA, strideB, strideC;
  };
  const int64_t m = 390, n = 450, k = 420;
  const Case cases[] = {
      {"bf16, float32 operands", MP_PRECISION_BF16, MP_DTYPE_F32, MP_DTYPE_F32,
       MP_DTYPE_F32, 0, 1, 1, 40, 30, 20, 0, 0, 0},
      {"bf16, bfloat16 A", MP_PRECISION_BF16, MP_DTYPE_BF16, MP_DTYPE_F32,
       MP_DTYPE_F32, 0, 0, 1, 40, 30, 20, 0, 0, 0},
      {"bf16, bfloat16 B and C", MP_PRECISION_BF16, MP_DTYPE_F32, MP_DTYPE_BF16,
       MP_DTYPE_BF16, 0, 0, 1, 40, 30, 20, 0, 0, 0},
      {"tf32 NT", MP_PRECISION_TF32, MP_DTYPE_F32, MP_DTYPE_F32, MP_DTYPE_F32,
       1, 0, 1, m, n, k, 0, 0, 0},
      {"bf16 NT, batched, shared B", MP_PRECISION_BF16, MP_DTYPE_F32,
       MP_DTYPE_F32, MP_DTYPE_F32, 1, 0, 2, m, n, k, m * k, 0, m * n},
      {"fp32 NT", MP_PRECISION_FP32, MP_DTYPE_F32, MP_DTYPE_F32, MP_DTYPE_F32,
       1, 0, 1, m, n, k, 0, 0, 0},
  };
  for (const Case &c : cases) {
    std::string what = std::string("gemm workspace, ") + c.what;
    int64_t aCount = c.strideA * (c.batch - 1) + c.m * c.k;
    int64_t bCount = c.strideB * (c.batch - 1) + c.k * c.n;
    int64_t cCount = c.strideC * (c.batch - 1) + c.m * c.n;
    // Float32 operands, then the bfloat16 ones rounded from them; sums
    // exact in float32, as in testGemmWithoutC.
    auto operand = [&](int64_t count, mp_dtype type, int64_t seed) {
      std::vector<float> values(count);
      for (int64_t i = 0; i < count; ++i)
        values[i] = float((i * seed) % 17 - 8) / 8.0f;
      auto buffer = std::make_unique<Buffer>(ctx, values);
      if (type == MP_DTYPE_F32)
        return buffer;
      auto narrow = std::make_unique<Buffer>(ctx, count * 2);
      CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, count,
                               buffer->floats(), narrow->as<void>()));
      return narrow;
    };
    std::unique_ptr<Buffer> a = operand(aCount, c.aType, 37);
    std::unique_ptr<Buffer> b = operand(bCount, c.bType, 53);
    size_t cBytes = cCount * (c.cType == MP_DTYPE_BF16 ? 2 : sizeof(float));
    Buffer own(ctx, cBytes), planned(ctx, cBytes);
    int64_t workspaceBytes = mp_gemm_workspace_bytes(
        backend, c.precision, c.aType, c.bType, c.ta, c.tb, c.batch, c.m, c.n,
        c.k, c.strideA, c.strideB, c.cType, c.strideC);
    expect(workspaceBytes >= 0, what + ": the workspace's bytes");
    Buffer workspace(ctx, std::max<int64_t>(workspaceBytes, 1));
    auto run = [&](const Buffer &out, void *data, int64_t bytes) {
      PeakPad pad(ctx);
      size_t live = mp_live_bytes(ctx);
      CHECK_OK(ctx, mp_gemm_batched_f32(
                        ctx, c.precision, c.aType, c.bType, c.ta, c.tb, c.batch,
                        c.m, c.n, c.k, 1.0f, a->as<void>(), c.strideA,
                        b->as<void>(), c.strideB, 0.0f, c.cType, out.as<void>(),
                        c.strideC, data, bytes));
      CHECK_OK(ctx, mp_context_status(ctx));
      return int64_t(mp_peak_bytes(ctx) - live);
    };
    int64_t ownBytes = run(own, nullptr, 0);
    expect(ownBytes <= workspaceBytes,
           what +
               ": without a workspace, at most the workspace's bytes of "
               "its own (" +
               std::to_string(ownBytes) + " of " +
               std::to_string(workspaceBytes) + ")");
    // Every piece it converts or lays out is its own then, counted while
    // the call runs. CUDA converts mixed dtypes whatever the environment
    // says, and may keep an NT GEMM as it is (MP_CUDA_NT_GEMM=direct,
    // NVIDIA_TF32_OVERRIDE=0).
    if (backend == MP_BACKEND_HOST || !c.ta)
      expect((ownBytes > 0) == (workspaceBytes > 0),
             what + ": its own scratch, counted");
    expect(run(planned, workspace.as<void>(), workspaceBytes) == 0,
           what + ": with the workspace, nothing of its own");
    expect(planned.read<uint8_t>() == own.read<uint8_t>(),
           what + ": the same result with the workspace");
  }
}

void testBatchedGemmAndCopy(mp_context *ctx) {
  // Two 1x2 · 2x1 products against one shared B (stride 0).
  Buffer a(ctx, std::vector<float>{1, 2, 3, 4});
  Buffer b(ctx, std::vector<float>{10, 100});
  Buffer c(ctx, 2 * sizeof(float));
  CHECK_OK(ctx, mp_gemm_batched_f32(ctx, MP_PRECISION_TF32, MP_DTYPE_F32,
                                    MP_DTYPE_F32, 0, 0, 2, 1, 1, 2, 1.0f,
                                    a.floats(), 2, b.floats(), 0, 0.0f,
                                    MP_DTYPE_F32, c.floats(), 1, nullptr, 0));
  expect(near(c.read(), {210, 430}), "batched gemm");
  // A power-of-two alpha (mp.matmul's scale, attention's 1/sqrt(64))
  // scales every sum of products exactly: 1/8 of the alpha-1 product, bit
  // for bit on the host, in each precision; CUDA may pick another kernel.
  Tensor lhs = Tensor::iota({3, 4, 5}, 0.37f),
         rhs = Tensor::iota({3, 5, 6}, -0.21f);
  Buffer lhsBuffer(ctx, lhs.data), rhsBuffer(ctx, rhs.data);
  for (mp_precision precision :
       {MP_PRECISION_FP32, MP_PRECISION_TF32, MP_PRECISION_BF16}) {
    Buffer whole(ctx, 3 * 4 * 6 * sizeof(float)),
        scaled(ctx, 3 * 4 * 6 * sizeof(float));
    for (auto [alpha, out] :
         {std::pair(1.0f, &whole), std::pair(0.125f, &scaled)})
      CHECK_OK(ctx, mp_gemm_batched_f32(
                        ctx, precision, MP_DTYPE_F32, MP_DTYPE_F32, 0, 0, 3, 4,
                        6, 5, alpha, lhsBuffer.floats(), 20, rhsBuffer.floats(),
                        30, 0.0f, MP_DTYPE_F32, out->floats(), 24, nullptr, 0));
    std::vector<float> eighth = whole.read();
    for (float &value : eighth)
      value *= 0.125f;
    std::string what =
        "batched gemm alpha 1/8 precision=" + std::to_string(precision);
    if (backend == MP_BACKEND_HOST)
      expect(scaled.read() == eighth, what + " is 1/8 of alpha 1's");
    else
      expect(near(scaled.read(), eighth, 1e-3f), what);
  }
  Buffer moved(ctx, std::vector<float>{1, 2, 3, 4});
  CHECK_OK(ctx,
           mp_copy(ctx, moved.floats() + 1, moved.floats(), 3 * sizeof(float)));
  expect(near(moved.read(), {1, 1, 2, 3}), "overlapping copy");
  Buffer copied(ctx, 4 * sizeof(float));
  CHECK_OK(ctx,
           mp_copy(ctx, copied.floats(), moved.floats(), 4 * sizeof(float)));
  expect(near(copied.read(), {1, 1, 2, 3}), "copy");
}

void testAdamW(mp_context *ctx) {
  // Two steps of torch.optim.AdamW(lr=0.1, betas=(0.9, 0.999), eps=1e-8,
  // weight_decay=0.01) on p = 1 with gradients 0.5 then -0.25, by hand.
  Buffer p(ctx, std::vector<float>{1}), m(ctx, std::vector<float>{0}),
      v(ctx, std::vector<float>{0});
  double expected = 1;
  double mm = 0, vv = 0;
  const double grads[] = {0.5, -0.25};
  for (int step = 1; step <= 2; ++step) {
    Buffer g(ctx, std::vector<float>{float(grads[step - 1])});
    Buffer stepCount(ctx, std::vector<float>{float(step)});
    CHECK_OK(ctx, mp_adamw_f32(ctx, 1, p.floats(), g.floats(), m.floats(),
                               v.floats(), 0.1, 0.9, 0.999, 1e-8, 0.01,
                               stepCount.floats(), nullptr));
    expected *= 1 - 0.1 * 0.01;
    mm = 0.9 * mm + 0.1 * grads[step - 1];
    vv = 0.999 * vv + 0.001 * grads[step - 1] * grads[step - 1];
    double denom = std::sqrt(vv) / std::sqrt(1 - std::pow(0.999, step)) + 1e-8;
    expected -= 0.1 / (1 - std::pow(0.9, step)) * mm / denom;
  }
  expect(std::fabs(p.read()[0] - expected) < 1e-6, "adamw two steps");

  // The multi-tensor update of 19 tensors (two launches on CUDA, one of
  // them empty) equals one update per tensor, bit for bit; with a gradient
  // scale, both equal the update of the gradient multiplied first
  // (mp_binary_f32's MUL).
  const int count = 19;
  std::vector<std::vector<float>> params, gradients, firsts, seconds;
  std::vector<int64_t> sizes;
  for (int t = 0; t < count; ++t) {
    int64_t size = t == 3 ? 0 : 1 + (t * 37) % 101;
    sizes.push_back(size);
    Tensor values = Tensor::iota({size + 1}, 0.01f * (t + 1));
    params.emplace_back(values.data.begin(), values.data.begin() + size);
    gradients.emplace_back(values.data.begin() + 1, values.data.end());
    firsts.emplace_back(size, 0.1f);
    seconds.emplace_back(size, 0.2f);
  }
  std::vector<std::unique_ptr<Buffer>> buffers;
  auto upload = [&](const std::vector<float> &values) {
    buffers.push_back(std::make_unique<Buffer>(
        ctx, values.empty() ? std::vector<float>{0} : values));
    return buffers.back()->floats();
  };
  auto read = [&](const float *data, int64_t size) {
    std::vector<float> values(size);
    CHECK_OK(ctx, mp_copy_to_host(ctx, values.data(), data,
                                  size * int64_t(sizeof(float))));
    return values;
  };
  Buffer stepCount(ctx, std::vector<float>{3});
  const float clipCoefficient = 0.3712f;
  Buffer scaleBuffer(ctx, std::vector<float>{clipCoefficient});
  std::vector<const float *> multiG, scaledG;
  for (int t = 0; t < count; ++t) {
    multiG.push_back(upload(gradients[t]));
    float *scaled = upload(gradients[t]);
    CHECK_OK(ctx, mp_binary_f32(
                      ctx, MP_BINARY_MUL, sizes[t], MP_DTYPE_F32, multiG[t],
                      MP_DTYPE_F32,
                      upload(std::vector<float>(sizes[t], clipCoefficient)),
                      MP_DTYPE_F32, scaled));
    scaledG.push_back(scaled);
  }
  for (const float *gradScale :
       {(const float *)nullptr, (const float *)scaleBuffer.floats()}) {
    std::string what = gradScale ? " with grad_scale" : "";
    const std::vector<const float *> &reference = gradScale ? scaledG : multiG;
    std::vector<float *> oneP, oneM, oneV, singleP, singleM, singleV, multiP,
        multiM, multiV;
    for (int t = 0; t < count; ++t) {
      for (auto *list : {&oneP, &singleP, &multiP})
        list->push_back(upload(params[t]));
      for (auto *list : {&oneM, &singleM, &multiM})
        list->push_back(upload(firsts[t]));
      for (auto *list : {&oneV, &singleV, &multiV})
        list->push_back(upload(seconds[t]));
      CHECK_OK(ctx, mp_adamw_f32(ctx, sizes[t], oneP[t], reference[t], oneM[t],
                                 oneV[t], 0.1, 0.9, 0.999, 1e-8, 0.01,
                                 stepCount.floats(), nullptr));
      CHECK_OK(ctx, mp_adamw_f32(ctx, sizes[t], singleP[t], multiG[t],
                                 singleM[t], singleV[t], 0.1, 0.9, 0.999, 1e-8,
                                 0.01, stepCount.floats(), gradScale));
    }
    CHECK_OK(ctx, mp_adamw_multi_f32(ctx, count, multiP.data(), multiG.data(),
                                     multiM.data(), multiV.data(), sizes.data(),
                                     0.1, 0.9, 0.999, 1e-8, 0.01,
                                     stepCount.floats(), gradScale));
    auto same = [&](const std::vector<float *> &a,
                    const std::vector<float *> &b) {
      bool equal = true;
      for (int t = 0; t < count; ++t)
        equal &= read(a[t], sizes[t]) == read(b[t], sizes[t]);
      return equal;
    };
    if (gradScale)
      expect(same(oneP, singleP) && same(oneM, singleM) && same(oneV, singleV),
             "adamw with grad_scale equals adamw of the multiplied gradient");
    expect(same(oneP, multiP) && same(oneM, multiM) && same(oneV, multiV),
           "adamw_multi equals adamw per tensor" + what);

    // SGD the same way, with momentum (Nesterov) and without.
    for (bool withMomentum : {true, false}) {
      std::vector<float *> oneBuf, singleBuf, multiBuf;
      oneP.clear();
      singleP.clear();
      multiP.clear();
      for (int t = 0; t < count; ++t) {
        for (auto *list : {&oneP, &singleP, &multiP})
          list->push_back(upload(params[t]));
        for (auto *list : {&oneBuf, &singleBuf, &multiBuf})
          list->push_back(upload(firsts[t]));
        CHECK_OK(ctx, mp_sgd_f32(ctx, sizes[t], oneP[t], reference[t],
                                 withMomentum ? oneBuf[t] : nullptr, 0.1, 0.9,
                                 0, 0.01, withMomentum, nullptr));
        CHECK_OK(ctx, mp_sgd_f32(ctx, sizes[t], singleP[t], multiG[t],
                                 withMomentum ? singleBuf[t] : nullptr, 0.1,
                                 0.9, 0, 0.01, withMomentum, gradScale));
      }
      CHECK_OK(ctx, mp_sgd_multi_f32(ctx, count, multiP.data(), multiG.data(),
                                     withMomentum ? multiBuf.data() : nullptr,
                                     sizes.data(), 0.1, 0.9, 0, 0.01,
                                     withMomentum, gradScale));
      std::string kind = withMomentum ? " (momentum)" : "";
      if (gradScale)
        expect(same(oneP, singleP) && same(oneBuf, singleBuf),
               "sgd with grad_scale equals sgd of the multiplied gradient" +
                   kind);
      expect(same(oneP, multiP) && same(oneBuf, multiBuf),
             "sgd_multi equals sgd per tensor" + kind + what);
    }
  }
}

mp_context *createLike(mp_context *ctx);

/// The operands of an outer update's test (mp_adamw_outer_f32,
/// mp_sgd_outer_f32): a [k, m] and b [k, n] of at most 4 significant bits,
/// so that every sum is exact, plus 2^-12 of themselves in bf16 precision
/// (removed by the rounding to bfloat16, not a tie); the parameter and two
/// states [m, n].
struct OuterOperands {
  std::vector<float> a, b, param, moment, squared;
  OuterOperands(int64_t k, int64_t m, int64_t n, mp_precision precision)
      : a(k * m), b(k * n), param(m * n), moment(m * n), squared(m * n) {
    float perturbation = precision == MP_PRECISION_BF16 ? 0x1p-12f : 0;
    for (size_t i = 0; i < a.size(); ++i)
      a[i] = float(int64_t(i * 37 % 23) - 11) / 16.0f * (1 + perturbation);
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = float(int64_t(i * 53 % 19) - 9) / 8.0f * (1 + perturbation);
    for (size_t i = 0; i < param.size(); ++i) {
      param[i] = float(int64_t(i * 29 % 31) - 15) / 7.0f;
      moment[i] = float(int64_t(i * 13 % 11) - 5) / 9.0f;
      squared[i] = float(i * 17 % 13) / 11.0f;
    }
  }
};

/// The shapes of the outer updates' tests: 4 | n takes CUDA's float4 path
/// (AdamW's), the others its scalar one; k = 0 is a zero gradient.
constexpr struct OuterShape {
  int64_t k, m, n;
} kOuterShapes[] = {
    {8, 37, 52}, {3, 20, 33}, {1, 1, 1}, {0, 5, 8}, {24, 70, 400}};

/// alpha · aᵀ · b by mp_gemm_f32 (zeros for k = 0): the gradient an outer
/// update computes.
std::vector<float> outerGradient(mp_context *ctx, mp_precision precision,
                                 int64_t k, int64_t m, int64_t n, Buffer &a,
                                 Buffer &b) {
  Buffer grad(ctx, m * n * sizeof(float));
  if (k > 0)
    CHECK_OK(ctx, mp_gemm_f32(ctx, precision, MP_DTYPE_F32, MP_DTYPE_F32, 1, 0,
                              m, n, k, 0.5f, a.floats(), b.floats(), 0.0f,
                              MP_DTYPE_F32, grad.floats(), nullptr, 0));
  else
    CHECK_OK(ctx, mp_fill_f32(ctx, m * n, 0.0f, grad.floats()));
  return grad.read();
}

/// mp_adamw_outer_f32 (AdamW computing its gradient alpha · aᵀ · b) equals
/// the GEMM writing the gradient then mp_adamw_f32, bit for bit: the
/// operands have at most 4 significant bits, so both sum exactly, and both
/// update through the same AdamWStep. In bf16 precision the operands are
/// those values plus 2^-12 of themselves, which the rounding to bfloat16
/// (not a tie) removes in both, and which fp32 keeps (the results differ).
void testAdamWOuter(mp_context *ctx) {
  for (OuterShape shape : kOuterShapes)
    for (mp_precision precision : {MP_PRECISION_FP32, MP_PRECISION_BF16}) {
      auto [k, m, n] = shape;
      OuterOperands operands(k, m, n, precision);
      auto &[a, b, param, moment, squared] = operands;
      Buffer aBuffer(ctx, a), bBuffer(ctx, b),
          stepCount(ctx, std::vector<float>{3});
      Buffer fusedP(ctx, param), fusedM(ctx, moment), fusedV(ctx, squared);
      CHECK_OK(ctx, mp_adamw_outer_f32(ctx, precision, k, m, n, 0.5f,
                                       aBuffer.floats(), bBuffer.floats(),
                                       fusedP.floats(), fusedM.floats(),
                                       fusedV.floats(), 0.01, 0.9, 0.999, 1e-8,
                                       0.01, stepCount.floats()));
      Buffer grad(ctx,
                  outerGradient(ctx, precision, k, m, n, aBuffer, bBuffer)),
          p(ctx, param), pm(ctx, moment), pv(ctx, squared);
      CHECK_OK(ctx, mp_adamw_f32(ctx, m * n, p.floats(), grad.floats(),
                                 pm.floats(), pv.floats(), 0.01, 0.9, 0.999,
                                 1e-8, 0.01, stepCount.floats(), nullptr));
      std::string what = "adamw_outer " + std::to_string(k) + "x" +
                         std::to_string(m) + "x" + std::to_string(n) +
                         " precision=" + std::to_string(precision);
      expect(fusedP.read() == p.read() && fusedM.read() == pm.read() &&
                 fusedV.read() == pv.read(),
             what + " equals the GEMM then adamw");
      if (precision == MP_PRECISION_BF16 && k > 0) {
        Buffer exactP(ctx, param), exactM(ctx, moment), exactV(ctx, squared);
        CHECK_OK(ctx, mp_adamw_outer_f32(ctx, MP_PRECISION_FP32, k, m, n, 0.5f,
                                         aBuffer.floats(), bBuffer.floats(),
                                         exactP.floats(), exactM.floats(),
                                         exactV.floats(), 0.01, 0.9, 0.999,
                                         1e-8, 0.01, stepCount.floats()));
        expect(exactM.read() != fusedM.read(),
               what + " rounds its operands (fp32 does not)");
      }
    }

  std::vector<float> one = {1};
  Buffer x(ctx, one), y(ctx, one), z(ctx, one), stepCount(ctx, one);
  auto refused = [&](mp_precision precision, int64_t k, const float *a,
                     const char *message) {
    mp_context *failed = createLike(ctx);
    bool refusedIt =
        mp_adamw_outer_f32(failed, precision, k, 1, 1, 1.0f, a, x.floats(),
                           y.floats(), z.floats(), z.floats(), 0.01, 0.9, 0.999,
                           1e-8, 0.0, stepCount.floats()) == MP_ERROR &&
        std::string(mp_context_error(failed)).find(message) !=
            std::string::npos;
    mp_context_destroy(failed);
    expect(refusedIt, std::string("adamw_outer refuses: ") + message);
  };
  refused(static_cast<mp_precision>(9), 1, x.floats(), "unknown precision 9");
  refused(MP_PRECISION_FP32, -1, x.floats(), "negative k -1");
  refused(MP_PRECISION_FP32, 1, nullptr, "a is null");
}

/// mp_sgd_outer_f32 equals the GEMM writing the gradient then mp_sgd_f32,
/// bit for bit, as testAdamWOuter checks AdamW's: without momentum, with
/// momentum and dampening, and Nesterov's (its buffer the operands' second
/// state).
void testSgdOuter(mp_context *ctx) {
  struct Momentum {
    double momentum, dampening;
    bool nesterov;
  };
  for (OuterShape shape : kOuterShapes)
    for (mp_precision precision : {MP_PRECISION_FP32, MP_PRECISION_BF16})
      for (Momentum settings :
           {Momentum{0, 0, false}, Momentum{0.9, 0.1, false},
            Momentum{0.9, 0, true}}) {
        auto [k, m, n] = shape;
        OuterOperands operands(k, m, n, precision);
        Buffer a(ctx, operands.a), b(ctx, operands.b);
        Buffer fused(ctx, operands.param), fusedBuffer(ctx, operands.moment);
        bool momentum = settings.momentum != 0;
        CHECK_OK(ctx,
                 mp_sgd_outer_f32(ctx, precision, k, m, n, 0.5f, a.floats(),
                                  b.floats(), fused.floats(),
                                  momentum ? fusedBuffer.floats() : nullptr,
                                  0.01, settings.momentum, settings.dampening,
                                  0.01, settings.nesterov));
        Buffer grad(ctx, outerGradient(ctx, precision, k, m, n, a, b)),
            param(ctx, operands.param), buffer(ctx, operands.moment);
        CHECK_OK(ctx, mp_sgd_f32(ctx, m * n, param.floats(), grad.floats(),
                                 momentum ? buffer.floats() : nullptr, 0.01,
                                 settings.momentum, settings.dampening, 0.01,
                                 settings.nesterov, nullptr));
        expect(
            fused.read() == param.read() && fusedBuffer.read() == buffer.read(),
            "sgd_outer " + std::to_string(k) + "x" + std::to_string(m) + "x" +
                std::to_string(n) + " precision=" + std::to_string(precision) +
                " momentum=" + std::to_string(settings.momentum) +
                " nesterov=" + std::to_string(settings.nesterov) +
                " equals the GEMM then sgd");
      }
  std::vector<float> one = {1};
  Buffer x(ctx, one);
  mp_context *failed = createLike(ctx);
  expect(mp_sgd_outer_f32(failed, MP_PRECISION_FP32, 1, 1, 1, 1.0f, x.floats(),
                          x.floats(), nullptr, nullptr, 0.01, 0, 0, 0,
                          0) == MP_ERROR &&
             std::string(mp_context_error(failed)).find("param is null") !=
                 std::string::npos,
         "sgd_outer refuses: param is null");
  mp_context_destroy(failed);
}

/// Kernels on arrays large enough to be split among threads (the host's
/// OpenMP path, MP_NUM_THREADS) give exactly what they give on small
/// pieces, which run on one thread: every element computed once, in place.
void testLargeKernels(mp_context *ctx) {
  const int64_t n = 300007, piece = 1000;
  // x and y of both signs; squares for AdamW's second moments.
  std::vector<float> x(n), y(n), squares(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = float(std::sin(0.001 * double(i)) * 3);
    y[i] = float(std::cos(0.002 * double(i)));
    squares[i] = x[i] * x[i];
  }
  Buffer whole(ctx, x), other(ctx, y), out(ctx, n * sizeof(float));
  Buffer param(ctx, x), grad(ctx, y), m(ctx, y), v(ctx, squares),
      stepCount(ctx, std::vector<float>{3});
  CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_SILU, n, MP_DTYPE_F32,
                             whole.floats(), MP_DTYPE_F32, out.floats(), 0, 0));
  std::vector<float> silu = out.read();
  CHECK_OK(ctx, mp_binary_f32(ctx, MP_BINARY_MUL, n, MP_DTYPE_F32,
                              whole.floats(), MP_DTYPE_F32, other.floats(),
                              MP_DTYPE_F32, out.floats()));
  std::vector<float> product = out.read();
  CHECK_OK(ctx, mp_adamw_f32(ctx, n, param.floats(), grad.floats(), m.floats(),
                             v.floats(), 0.01, 0.9, 0.999, 1e-8, 0.01,
                             stepCount.floats(), nullptr));
  std::vector<float> updated = param.read();
  bool same = true;
  for (int64_t begin = 0; begin < n; begin += piece) {
    int64_t count = std::min(piece, n - begin);
    auto slice = [&](const std::vector<float> &values) {
      return std::vector<float>(values.begin() + begin,
                                values.begin() + begin + count);
    };
    Buffer a(ctx, slice(x)), b(ctx, slice(y)), c(ctx, count * sizeof(float));
    CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_SILU, count, MP_DTYPE_F32,
                               a.floats(), MP_DTYPE_F32, c.floats(), 0, 0));
    same = same && c.read() == slice(silu);
    CHECK_OK(ctx,
             mp_binary_f32(ctx, MP_BINARY_MUL, count, MP_DTYPE_F32, a.floats(),
                           MP_DTYPE_F32, b.floats(), MP_DTYPE_F32, c.floats()));
    same = same && c.read() == slice(product);
    Buffer p(ctx, slice(x)), g(ctx, slice(y)), pm(ctx, slice(y)),
        pv(ctx, slice(squares));
    CHECK_OK(ctx, mp_adamw_f32(ctx, count, p.floats(), g.floats(), pm.floats(),
                               pv.floats(), 0.01, 0.9, 0.999, 1e-8, 0.01,
                               stepCount.floats(), nullptr));
    same = same && p.read() == slice(updated);
  }
  expect(same, "large silu, mul and adamw equal their small pieces");
}

/// Sums over every pattern of reduced dims, at sizes where CUDA splits the
/// reduced range into chunks (few outputs, many elements each) and where
/// it does not, against a double-precision sum on the host. The values are
/// multiples of 1/256 below 4 in magnitude, so every partial sum is exact
/// in double and the float results must match exactly.
void testReductions(mp_context *ctx) {
  struct Case {
    std::vector<int64_t> shape;
    uint32_t dimsMask;
    double scale;
    const char *what;
  };
  const Case cases[] = {
      {{300, 700}, 3u, 0.5, "sum of all 210000"},
      {{5, 20000}, 1u << 1, 1.0, "row sums of 5 long rows"},
      {{20000, 6}, 1u << 0, 1.0, "column sums of 6 long columns"},
      {{3, 4000, 5}, 1u << 1, 0.25, "sums over the middle dim"},
      {{1, 3, 1, 4000, 1, 5}, 1u | 1u << 3 | 1u << 4, 1.0,
       "sums over the middle dim, size-1 dims anywhere"},
      {{4, 100, 30, 3}, 1u << 1 | 1u << 2, 1.0, "sums over two adjacent dims"},
      {{40, 3, 50, 2}, 1u | 1u << 2, 1.0, "sums over interleaved dims"},
      {{2000, 40}, 1u << 1, 1.0, "many short rows"},
      {{9000, 1}, 1u << 0, 2.0, "a column of 9000"},
      {{7, 9001}, 1u << 1, 1.0, "long rows of odd length"},
  };
  for (const Case &c : cases) {
    int rank = static_cast<int>(c.shape.size());
    int64_t count = 1, outCount = 1;
    for (int d = 0; d < rank; ++d) {
      count *= c.shape[d];
      if (!(c.dimsMask >> d & 1))
        outCount *= c.shape[d];
    }
    std::vector<float> in(count);
    for (int64_t i = 0; i < count; ++i)
      in[i] = float((i * 7919 % 2001) - 1000) / 256.0f;
    std::vector<double> sums(outCount, 0);
    std::vector<int64_t> index(rank, 0);
    for (int64_t i = 0; i < count; ++i) {
      int64_t out = 0;
      for (int d = 0; d < rank; ++d)
        if (!(c.dimsMask >> d & 1))
          out = out * c.shape[d] + index[d];
      sums[out] += in[i];
      for (int d = rank - 1; d >= 0 && ++index[d] == c.shape[d]; --d)
        index[d] = 0;
    }
    std::vector<float> expected(outCount);
    for (int64_t o = 0; o < outCount; ++o)
      expected[o] = float(sums[o] * c.scale);
    Buffer input(ctx, in), output(ctx, outCount * sizeof(float));
    CHECK_OK(ctx, mp_reduce_sum_f32(ctx, rank, c.shape.data(), c.dimsMask,
                                    c.scale, input.floats(), output.floats()));
    expect(output.read() == expected, std::string("reduce_sum: ") + c.what);
  }
  // A broadcast of one element fills the whole output.
  int64_t filledShape[] = {3, 1001};
  Buffer one(ctx, std::vector<float>{2.5f}), filled(ctx, 3003 * sizeof(float));
  CHECK_OK(ctx, mp_broadcast_f32(ctx, 2, filledShape, 3u, one.floats(),
                                 filled.floats()));
  expect(filled.read() == std::vector<float>(3003, 2.5f),
         "broadcast of one element");
}

void testKernels(mp_context *ctx) {
  // Unary ops at values whose results are known.
  struct Unary {
    mp_unary_op op;
    float in, out;
    const char *name;
  } unaries[] = {{MP_UNARY_NEG, 1.5f, -1.5f, "neg"},
                 {MP_UNARY_EXP, 0.0f, 1.0f, "exp"},
                 {MP_UNARY_RELU, -1.5f, 0.0f, "relu"},
                 {MP_UNARY_STEP, 0.7f, 1.0f, "step"},
                 {MP_UNARY_SIGMOID, 0.0f, 0.5f, "sigmoid"},
                 {MP_UNARY_SILU, 1.0f, 0.7310586f, "silu"},
                 {MP_UNARY_GELU, 1.0f, 0.8413447f, "gelu"},
                 {MP_UNARY_GELU_TANH, 1.0f, 0.8411920f, "gelu tanh"},
                 {MP_UNARY_SCALE, 3.0f, 1.5f, "scale"},
                 {MP_UNARY_TANH, 0.5f, 0.46211716f, "tanh"},
                 {MP_UNARY_LOG, 2.0f, 0.69314718f, "log"},
                 {MP_UNARY_RSQRT, 3.5f, 0.5f, "rsqrt (eps 0.5)"}};
  for (const Unary &u : unaries) {
    Buffer in(ctx, std::vector<float>{u.in}), out(ctx, sizeof(float));
    CHECK_OK(ctx, mp_unary_f32(ctx, u.op, 1, MP_DTYPE_F32, in.floats(),
                               MP_DTYPE_F32, out.floats(), 0.5, 0));
    expect(near(out.read(), {u.out}, 1e-6f), std::string("unary ") + u.name);
  }
  Buffer a(ctx, std::vector<float>{1, 2, 3, 4});
  Buffer b(ctx, std::vector<float>{2, 4, 1, 8});
  Buffer out(ctx, 4 * sizeof(float));
  CHECK_OK(ctx,
           mp_binary_f32(ctx, MP_BINARY_DIV, 4, MP_DTYPE_F32, a.floats(),
                         MP_DTYPE_F32, b.floats(), MP_DTYPE_F32, out.floats()));
  expect(near(out.read(), {0.5f, 0.5f, 3, 0.5f}), "binary div");
  // log at a few values, in place: -inf at 0 and NaN below, as std::log.
  std::vector<float> logIn = {1, 2.7182817f, 0.25f, 1e-30f, 1e30f, 0, -1};
  Buffer logs(ctx, logIn);
  CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_LOG, logIn.size(), MP_DTYPE_F32,
                             logs.floats(), MP_DTYPE_F32, logs.floats(), 0, 0));
  std::vector<float> logOut = logs.read();
  expect(near({logOut.begin(), logOut.begin() + 5},
              {0, 1, -1.3862944f, -69.077553f, 69.077553f}, 1e-6f) &&
             std::isinf(logOut[5]) && logOut[5] < 0 && std::isnan(logOut[6]),
         "log of 1, e, 1/4, 1e-30, 1e30, 0 and -1");
  // torch.clamp to [-0.5, 2] and its gradient's mask: bounds included,
  // NaN kept by the clamp and masked out, infinities clamped; then in place
  // into bfloat16 storage (the bounds rounded as the result is).
  std::vector<float> clampIn = {-1, -0.5f, 0.3f,      2,
                                3,  NAN,   -INFINITY, INFINITY};
  Buffer clampX(ctx, clampIn), clamped(ctx, clampIn.size() * sizeof(float)),
      mask(ctx, clampIn.size() * sizeof(float));
  CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_CLAMP, clampIn.size(), MP_DTYPE_F32,
                             clampX.floats(), MP_DTYPE_F32, clamped.floats(),
                             -0.5, 2));
  CHECK_OK(ctx,
           mp_unary_f32(ctx, MP_UNARY_CLAMP_MASK, clampIn.size(), MP_DTYPE_F32,
                        clampX.floats(), MP_DTYPE_F32, mask.floats(), -0.5, 2));
  std::vector<float> clampOut = clamped.read();
  expect(near({clampOut.begin(), clampOut.begin() + 5},
              {-0.5f, -0.5f, 0.3f, 2, 2}) &&
             std::isnan(clampOut[5]) && clampOut[6] == -0.5f &&
             clampOut[7] == 2,
         "clamp to [-0.5, 2] of -1, -0.5, 0.3, 2, 3, NaN, -inf, inf");
  expect(mask.read() == std::vector<float>{0, 1, 1, 1, 0, 0, 0, 0},
         "clamp mask of [-0.5, 2]: 1 inside, bounds included, 0 for NaN");
  Buffer clampBF16(ctx, std::vector<uint16_t>{0x3f80, 0xc040, 0x4040});
  CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_CLAMP, 3, MP_DTYPE_BF16,
                             clampBF16.as<uint16_t>(), MP_DTYPE_BF16,
                             clampBF16.as<uint16_t>(), -0.1, 2.5));
  expect(clampBF16.read<uint16_t>() ==
             std::vector<uint16_t>{0x3f80, 0xbdcd, 0x4020},
         "bfloat16 clamp of 1, -3, 3 to [-0.1, 2.5] in place");
  CHECK_OK(ctx,
           mp_binary_f32(ctx, MP_BINARY_SUB, 4, MP_DTYPE_F32, a.floats(),
                         MP_DTYPE_F32, b.floats(), MP_DTYPE_F32, out.floats()));
  expect(near(out.read(), {-1, -2, 2, -4}), "binary sub");
  Buffer zero(ctx, std::vector<float>{0}), one(ctx, std::vector<float>{1});
  Buffer half(ctx, sizeof(float));
  CHECK_OK(ctx, mp_binary_f32(ctx, MP_BINARY_GELU_GRAD, 1, MP_DTYPE_F32,
                              one.floats(), MP_DTYPE_F32, zero.floats(),
                              MP_DTYPE_F32, half.floats()));
  expect(near(half.read(), {0.5f}), "gelu'(0) = 1/2");
  // silu'(x) = s·(1 + x·(1 - s)): 1/2 at 0, 0.92767051 at 1.
  Buffer siluGrads(ctx, std::vector<float>{1, 2}),
      siluIns(ctx, std::vector<float>{0, 1});
  CHECK_OK(ctx,
           mp_binary_f32(ctx, MP_BINARY_SILU_GRAD, 2, MP_DTYPE_F32,
                         siluGrads.floats(), MP_DTYPE_F32, siluIns.floats(),
                         MP_DTYPE_F32, siluGrads.floats()));
  expect(near(siluGrads.read(), {0.5f, 1.8553410f}, 1e-6f),
         "silu_grad at 0 and 1, in place over the gradient");
  // Reductions, broadcast, transpose of [[1,2,3],[4,5,6]].
  Buffer x(ctx, std::vector<float>{1, 2, 3, 4, 5, 6});
  int64_t shape[] = {2, 3};
  Buffer rows(ctx, 2 * sizeof(float)), cols(ctx, 3 * sizeof(float));
  Buffer spread(ctx, 4 * sizeof(float)), xt(ctx, 6 * sizeof(float));
  CHECK_OK(ctx, mp_reduce_sum_f32(ctx, 2, shape, 1u << 1, 1.0, x.floats(),
                                  rows.floats()));
  expect(near(rows.read(), {6, 15}), "row sums");
  CHECK_OK(ctx, mp_reduce_sum_f32(ctx, 2, shape, 1u << 0, 0.5, x.floats(),
                                  cols.floats()));
  expect(near(cols.read(), {2.5f, 3.5f, 4.5f}), "column means");
  int64_t square[] = {2, 2};
  CHECK_OK(ctx, mp_broadcast_f32(ctx, 2, square, 1u << 0, rows.floats(),
                                 spread.floats()));
  expect(near(spread.read(), {6, 15, 6, 15}), "broadcast");
  int perm[] = {1, 0};
  CHECK_OK(ctx, mp_transpose_f32(ctx, 2, shape, perm, MP_DTYPE_F32, x.floats(),
                                 MP_DTYPE_F32, xt.floats()));
  expect(near(xt.read(), {1, 4, 2, 5, 3, 6}), "transpose");
  // A sum over many elements (a block per output on CUDA).
  std::vector<float> many(3000, 0.5f);
  int64_t manyShape[] = {1000, 3};
  Buffer manyBuffer(ctx, many), total(ctx, sizeof(float));
  CHECK_OK(ctx, mp_reduce_sum_f32(ctx, 2, manyShape, 3u, 2.0,
                                  manyBuffer.floats(), total.floats()));
  expect(near(total.read(), {3000}), "sum of all");
  // Losses: mse([1,2],[0,4]) = 2.5; cross entropy of [[0,0,0],[1,2,3]]
  // with targets [0, 2]: (log 3 + log(e+e²+e³) - 3) / 2.
  Buffer p(ctx, std::vector<float>{1, 2}), t(ctx, std::vector<float>{0, 4});
  Buffer loss(ctx, sizeof(float));
  CHECK_OK(ctx,
           mp_mse_loss_f32(ctx, 2, p.floats(), t.floats(), 0.5, loss.floats()));
  expect(near(loss.read(), {2.5f}), "mse");
  // Without a target, Σ a²: a squared norm (gradient clipping), over more
  // elements than one block sums. Values k/64 with |k| < 64: every square
  // and every partial sum is exact in double, so the result must be too.
  std::vector<float> values(300007);
  double squares = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = float(int64_t(i * 37 % 127) - 63) / 64.0f;
    squares += double(values[i]) * values[i];
  }
  Buffer gradient(ctx, values);
  CHECK_OK(ctx, mp_mse_loss_f32(ctx, int64_t(values.size()), gradient.floats(),
                                nullptr, 1.0, loss.floats()));
  expect(loss.read()[0] == float(squares), "squared norm (mse without b)");
  Buffer logits(ctx, std::vector<float>{0, 0, 0, 1, 2, 3});
  Buffer targets(ctx, std::vector<int64_t>{0, 2});
  Buffer grads(ctx, 6 * sizeof(float));
  CHECK_OK(ctx, mp_cross_entropy_f32(ctx, 2, 3, logits.floats(),
                                     targets.as<int64_t>(), nullptr, 0.5,
                                     loss.floats()));
  expect(near(loss.read(), {0.7531091f}, 1e-6f), "cross entropy");
  CHECK_OK(ctx, mp_cross_entropy_grad_f32(ctx, 2, 3, logits.floats(),
                                          targets.as<int64_t>(), nullptr,
                                          one.floats(), 0.5, grads.floats()));
  std::vector<float> gradValues = grads.read();
  expect(near({gradValues.begin(), gradValues.begin() + 3},
              {-1.0f / 3, 1.0f / 6, 1.0f / 6}),
         "cross entropy gradient");
  // A skipped row adds nothing and gets a zero gradient, whatever its target
  // (-100 is no class; 1 is one).
  for (int64_t ignored : {int64_t(-100), int64_t(1)}) {
    Buffer partly(ctx, std::vector<int64_t>{ignored, 2});
    Buffer stale(ctx, std::vector<float>(6, 7.0f));
    CHECK_OK(ctx, mp_cross_entropy_f32(ctx, 2, 3, logits.floats(),
                                       partly.as<int64_t>(), &ignored, 1.0,
                                       loss.floats()));
    expect(near(loss.read(), {0.4076059f}, 1e-6f),
           "cross entropy with ignore_index " + std::to_string(ignored));
    CHECK_OK(ctx, mp_cross_entropy_grad_f32(ctx, 2, 3, logits.floats(),
                                            partly.as<int64_t>(), &ignored,
                                            one.floats(), 1.0, stale.floats()));
    expect(near(stale.read(),
                {0, 0, 0, 0.09003057f, 0.24472847f, 0.66524096f - 1}),
           "cross entropy gradient with ignore_index " +
               std::to_string(ignored));
  }
  Buffer labels(ctx, std::vector<int64_t>{-100, 3, 0, -100});
  Buffer kept(ctx, 4 * sizeof(float));
  CHECK_OK(ctx, mp_target_mask_f32(ctx, 4, labels.as<int64_t>(), -100,
                                   kept.floats()));
  expect(kept.read() == std::vector<float>{0, 1, 1, 0}, "target mask");
  Buffer sq(ctx, std::vector<float>{16}), coefficient(ctx, sizeof(float));
  CHECK_OK(ctx, mp_clip_coefficient_f32(ctx, sq.floats(), 1.0,
                                        coefficient.floats()));
  expect(near(coefficient.read(), {0.25f}), "clip coefficient");
  Buffer filled(ctx, 3 * sizeof(float));
  CHECK_OK(ctx, mp_fill_f32(ctx, 3, -2.5f, filled.floats()));
  expect(near(filled.read(), {-2.5f, -2.5f, -2.5f}), "fill");
  // SGD: plain, then Nesterov momentum from a zero buffer.
  Buffer param(ctx, std::vector<float>{1}), grad(ctx, std::vector<float>{0.5f});
  Buffer buffer(ctx, std::vector<float>{0});
  CHECK_OK(ctx, mp_sgd_f32(ctx, 1, param.floats(), grad.floats(), nullptr, 0.1,
                           0, 0, 0, 0, nullptr));
  expect(near(param.read(), {0.95f}), "sgd");
  Buffer fresh(ctx, std::vector<float>{1});
  CHECK_OK(ctx, mp_sgd_f32(ctx, 1, fresh.floats(), grad.floats(),
                           buffer.floats(), 0.1, 0.9, 0, 0, 1, nullptr));
  expect(near({fresh.read()[0], buffer.read()[0]}, {0.905f, 0.5f}),
         "sgd nesterov");
}

/// This rank's piece of a dim of `n` entries split over axes of `sizes` at
/// `coords`, chunked level by level as torch.chunk chunks the previous
/// level's padded piece: the global index of each entry, -1 for padding.
std::vector<int64_t> chunkDim(int64_t n, const std::vector<int64_t> &sizes,
                              const std::vector<int64_t> &coords) {
  std::vector<int64_t> piece;
  for (int64_t i = 0; i < n; ++i)
    piece.push_back(i);
  for (size_t j = 0; j < sizes.size(); ++j) {
    size_t chunk = (piece.size() + sizes[j] - 1) / sizes[j];
    std::vector<int64_t> next(chunk, -1);
    for (size_t k = 0; k < chunk; ++k)
      if (coords[j] * chunk + k < piece.size())
        next[k] = piece[coords[j] * chunk + k];
    piece = next;
  }
  return piece;
}

/// The sizes of `g`'s axes and this rank's coordinates on them.
void getAxes(mp_context *ctx, const Group &g, std::vector<int64_t> &sizes,
             std::vector<int64_t> &coords) {
  for (int axis : g.axes) {
    sizes.push_back(mp_context_axis_size(ctx, axis));
    coords.push_back(mp_context_coordinate(ctx, axis));
  }
}

/// The trainer's arithmetic of pieces, by hand: uneven splits over one and
/// two axes, and even ones as before (origin = index · local extent).
void testDimPieces() {
  struct Case {
    int64_t n;
    std::vector<int64_t> sizes, coords;
    int64_t extent, origin, valid;
  };
  const Case cases[] = {
      {17, {2, 2}, {0, 0}, 5, 0, 5}, {17, {2, 2}, {0, 1}, 5, 5, 4},
      {17, {2, 2}, {1, 0}, 5, 9, 5}, {17, {2, 2}, {1, 1}, 5, 14, 3},
      {5, {4}, {0}, 2, 0, 2},        {5, {4}, {1}, 2, 2, 2},
      {5, {4}, {2}, 2, 4, 1},        {5, {4}, {3}, 2, 6, 0},
      {3, {4}, {0}, 1, 0, 1},        {3, {4}, {1}, 1, 1, 1},
      {3, {4}, {2}, 1, 2, 1},        {3, {4}, {3}, 1, 3, 0},
      {8, {2, 2}, {1, 0}, 2, 4, 2},  {12, {3}, {2}, 4, 8, 4},
      {6, {}, {}, 6, 0, 6},
  };
  for (const Case &c : cases) {
    mp::train::DimPiece piece = mp::train::getDimPiece(c.n, c.sizes, c.coords);
    std::string where = std::to_string(c.n) + " over";
    for (size_t j = 0; j < c.sizes.size(); ++j)
      where +=
          " " + std::to_string(c.sizes[j]) + "@" + std::to_string(c.coords[j]);
    expect(piece.extent == c.extent && piece.origin == c.origin &&
               piece.valid == c.valid,
           "piece of " + where);
  }
}

/// The same on this rank for every extent below 20 split over `g`'s axes,
/// against chunkDim.
void testDimPieces(mp_context *ctx, const Group &g) {
  std::vector<int64_t> sizes, coords;
  getAxes(ctx, g, sizes, coords);
  bool same = true;
  for (int64_t n = 0; n < 20; ++n) {
    std::vector<int64_t> chunked = chunkDim(n, sizes, coords);
    mp::train::DimPiece piece = mp::train::getDimPiece(n, sizes, coords);
    same = same && piece.extent == int64_t(chunked.size());
    for (int64_t k = 0; k < piece.extent && same; ++k)
      same = chunked[k] == (k < piece.valid ? piece.origin + k : -1);
  }
  expect(same, "pieces over axes [" + g.name + "] match torch.chunk's");
}

/// mp_zero_padding zeros exactly the entries chunkDim finds to be padding,
/// along each dim of a few shapes, and leaves the rest alone.
template <typename T>
void checkZeroPadding(mp_context *ctx, const Group &g, mp_dtype dtype,
                      int64_t n, std::vector<int64_t> shape, int dim) {
  std::vector<int64_t> sizes, coords;
  getAxes(ctx, g, sizes, coords);
  std::vector<int64_t> chunked = chunkDim(n, sizes, coords);
  shape[dim] = int64_t(chunked.size());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < dim; ++d)
    outer *= shape[d];
  for (size_t d = dim + 1; d < shape.size(); ++d)
    inner *= shape[d];
  std::vector<T> values, expected;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t e = 0; e < shape[dim]; ++e)
      for (int64_t i = 0; i < inner; ++i) {
        values.push_back(T(values.size() + 1));
        expected.push_back(chunked[e] < 0 ? T(0) : values.back());
      }
  Buffer data(ctx, values);
  CHECK_OK(ctx,
           mp_zero_padding(ctx, g.axes.data(), g.axes.size(), dtype,
                           data.as<T>(), shape.size(), shape.data(), dim, n));
  expect(data.read<T>() == expected,
         "zero_padding of " + std::to_string(n) + " over axes [" + g.name +
             "] along dim " + std::to_string(dim) + " of rank " +
             std::to_string(shape.size()));
}

void testZeroPadding(mp_context *ctx, const Group &g) {
  for (int64_t n : {0, 1, 3, 5, 17}) {
    checkZeroPadding<float>(ctx, g, MP_DTYPE_F32, n, {0}, 0);
    checkZeroPadding<float>(ctx, g, MP_DTYPE_F32, n, {0, 4}, 0);
    checkZeroPadding<float>(ctx, g, MP_DTYPE_F32, n, {2, 0, 3}, 1);
    checkZeroPadding<int64_t>(ctx, g, MP_DTYPE_I64, n, {3, 0}, 1);
  }
}

/// mp_localize_index maps each global index to its place in this rank's
/// piece as chunkDim cuts it (-1 where chunkDim has no such entry), for
/// indices below, inside and past the extent; in place as well.
void testLocalizeIndex(mp_context *ctx, const Group &g) {
  std::vector<int64_t> sizes, coords;
  getAxes(ctx, g, sizes, coords);
  for (int64_t n : {0, 1, 3, 5, 8, 16, 17}) {
    std::vector<int64_t> chunked = chunkDim(n, sizes, coords);
    std::vector<int64_t> indices, expected;
    for (int64_t index = -3; index < n + 3; ++index) {
      indices.push_back(index);
      int64_t local = -1;
      // chunkDim marks padding -1, which is no global index.
      for (size_t k = 0; k < chunked.size() && index >= 0; ++k)
        if (chunked[k] == index)
          local = int64_t(k);
      expected.push_back(local);
    }
    Buffer in(ctx, indices), out(ctx, std::vector<int64_t>(indices.size(), 77));
    CHECK_OK(ctx, mp_localize_index(ctx, g.axes.data(), g.axes.size(),
                                    indices.size(), in.as<int64_t>(),
                                    out.as<int64_t>(), n));
    std::string where = std::to_string(n) + " over axes [" + g.name + "]";
    expect(out.read<int64_t>() == expected, "localize_index of " + where);
    CHECK_OK(ctx, mp_localize_index(ctx, g.axes.data(), g.axes.size(),
                                    indices.size(), in.as<int64_t>(),
                                    in.as<int64_t>(), n));
    expect(in.read<int64_t>() == expected,
           "localize_index in place of " + where);
  }
}

/// mp_iota_i64 writes start plus each entry's index along the middle dim,
/// against loops, for extents of 1, for outer and inner extents of 1, and
/// from 0, from OPT's 2 and from the last start that fits int64.
void testIota(mp_context *ctx) {
  const int64_t shapes[][4] = {{2, 3, 4, 0},
                               {1, 5, 1, 2},
                               {3, 1, 2, 0},
                               {4, 7, 1, 2},
                               {2, 3, 2, INT64_MAX - 2}};
  for (const int64_t *shape : shapes) {
    std::vector<int64_t> expected;
    for (int64_t o = 0; o < shape[0]; ++o)
      for (int64_t e = 0; e < shape[1]; ++e)
        expected.insert(expected.end(), shape[2], shape[3] + e);
    Buffer out(ctx, std::vector<int64_t>(expected.size(), -7));
    CHECK_OK(ctx, mp_iota_i64(ctx, shape[0], shape[1], shape[2], shape[3],
                              out.as<int64_t>()));
    expect(out.read<int64_t>() == expected,
           "iota of [" + std::to_string(shape[0]) + ", " +
               std::to_string(shape[1]) + ", " + std::to_string(shape[2]) +
               "] from " + std::to_string(shape[3]));
  }
  CHECK_OK(ctx, mp_iota_i64(ctx, 2, 0, 3, 0, nullptr));
}

/// mp_resize_dim of a [2, 3, 4] tensor (and one with an empty dim) along
/// each dim, shrinking, keeping and growing, against loops.
template <typename T> void testResizeDim(mp_context *ctx, mp_dtype dtype) {
  const std::vector<int64_t> shapes[] = {{2, 3, 4}, {2, 0, 4}};
  for (const std::vector<int64_t> &shape : shapes)
    for (int dim = 0; dim < 3; ++dim)
      for (int64_t outExtent :
           {int64_t(0), int64_t(1), shape[dim], shape[dim] + 2}) {
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < dim; ++d)
          outer *= shape[d];
        for (int d = dim + 1; d < 3; ++d)
          inner *= shape[d];
        std::vector<T> in, expected;
        for (int64_t i = 0; i < outer * shape[dim] * inner; ++i)
          in.push_back(T(i + 1));
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t e = 0; e < outExtent; ++e)
            for (int64_t i = 0; i < inner; ++i)
              expected.push_back(
                  e < shape[dim] ? in[(o * shape[dim] + e) * inner + i] : T(0));
        // The output starts as garbage, so that its zeros are written.
        Buffer inBuffer(ctx, in), out(ctx, std::vector<T>(expected.size(), 77));
        CHECK_OK(ctx, mp_resize_dim(ctx, dtype, inBuffer.as<T>(), out.as<T>(),
                                    3, shape.data(), dim, outExtent));
        expect(out.read<T>() == expected,
               "resize_dim of [" + std::to_string(shape[0]) + ", " +
                   std::to_string(shape[1]) + ", " + std::to_string(shape[2]) +
                   "] dim " + std::to_string(dim) + " to " +
                   std::to_string(outExtent) + " (" +
                   (dtype == MP_DTYPE_F32 ? "f32" : "i64") + ")");
      }
}

/// mp_copy_dim_range over each dim of a [2, 3, 4] tensor: every block of
/// `in`'s dim to every place of a wider `out`, whose other entries keep
/// what they held.
template <typename T> void testCopyDimRange(mp_context *ctx, mp_dtype dtype) {
  const std::vector<int64_t> shape = {2, 3, 4};
  for (int dim = 0; dim < 3; ++dim) {
    int64_t outer = 1, inner = 1, extent = shape[dim], outExtent = extent + 2;
    for (int d = 0; d < dim; ++d)
      outer *= shape[d];
    for (int d = dim + 1; d < 3; ++d)
      inner *= shape[d];
    std::vector<T> in;
    for (int64_t i = 0; i < outer * extent * inner; ++i)
      in.push_back(T(i + 1));
    for (int64_t inOffset = 0; inOffset <= extent; ++inOffset)
      for (int64_t count = 0; count <= extent - inOffset; ++count)
        for (int64_t outOffset = 0; outOffset <= outExtent - count;
             ++outOffset) {
          std::vector<T> expected(outer * outExtent * inner, T(77));
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t e = 0; e < count; ++e)
              for (int64_t i = 0; i < inner; ++i)
                expected[(o * outExtent + outOffset + e) * inner + i] =
                    in[(o * extent + inOffset + e) * inner + i];
          Buffer inBuffer(ctx, in),
              out(ctx, std::vector<T>(expected.size(), T(77)));
          CHECK_OK(ctx,
                   mp_copy_dim_range(ctx, dtype, inBuffer.as<T>(), out.as<T>(),
                                     3, shape.data(), dim, inOffset, outExtent,
                                     outOffset, count));
          expect(out.read<T>() == expected,
                 "copy_dim_range of dim " + std::to_string(dim) + " entries " +
                     std::to_string(inOffset) + " + " + std::to_string(count) +
                     " to " + std::to_string(outOffset) + " (" +
                     (dtype == MP_DTYPE_F32 ? "f32" : "i64") + ")");
        }
  }
}

/// A context on the same mesh as `ctx`, for a check that leaves it failed
/// (errors are sticky). Collective: every rank calls it.
mp_context *createLike(mp_context *ctx) {
  std::vector<int64_t> sizes;
  for (int axis = 0; axis < mp_context_num_axes(ctx); ++axis)
    sizes.push_back(mp_context_axis_size(ctx, axis));
  static const char *const kNames[] = {"a0", "a1", "a2", "a3", "a4", "a5"};
  mp_context *fresh = nullptr;
  if (mp_context_create(static_cast<int>(sizes.size()), kNames, sizes.data(),
                        backend, &fresh) != MP_OK) {
    std::fprintf(stderr, "%s\n", mp_context_error(fresh));
    std::exit(1);
  }
  return fresh;
}

/// True if `call` fails on a fresh context like `ctx` (errors are sticky)
/// with an error that contains `fragment`.
template <typename Call>
bool failsWith(mp_context *ctx, Call call, const std::string &fragment) {
  mp_context *failed = createLike(ctx);
  bool found =
      call(failed) == MP_ERROR &&
      std::string(mp_context_error(failed)).find(fragment) != std::string::npos;
  mp_context_destroy(failed);
  return found;
}

void testErrors(mp_context *ctx) {
  // Buffers come from `ctx`: a failed context allocates nothing.
  mp_context *failed = createLike(ctx);
  int bad = mp_context_num_axes(ctx);
  Buffer x(ctx, std::vector<float>{0});
  mp_context_set_op(failed, "mp.all_reduce at step.mlir:3:5");
  expect(mp_all_reduce(failed, &bad, 1, MP_DTYPE_F32, x.floats(), 1) ==
                 MP_ERROR &&
             std::string(mp_context_error(failed))
                     .find("mp_all_reduce failed on rank " +
                           std::to_string(mp_context_rank(ctx)) +
                           " (in mp.all_reduce at step.mlir:3:5)") == 0,
         "an unknown mesh axis is an error naming the call, the rank and the "
         "op");
  std::string first = mp_context_error(failed);
  Buffer y(ctx, std::vector<float>{1});
  expect(mp_fill_f32(failed, 1, 2.0f, y.floats()) == MP_ERROR &&
             y.read()[0] == 1 && mp_context_status(failed) == MP_ERROR &&
             first == mp_context_error(failed),
         "errors are sticky: later calls do nothing and keep the first error");
  mp_context_destroy(failed);

  const struct {
    double lower, upper;
    const char *message;
  } unorderedBounds[] = {{2, -0.5, "clamp bounds [2, -0.5] are not ordered"},
                         {0, NAN, "clamp bounds [0, nan] are not ordered"}};
  for (const auto &bounds : unorderedBounds)
    expect(failsWith(
               ctx,
               [&](mp_context *c) {
                 return mp_unary_f32(c, MP_UNARY_CLAMP_MASK, 1, MP_DTYPE_F32,
                                     x.floats(), MP_DTYPE_F32, y.floats(),
                                     bounds.lower, bounds.upper);
               },
               bounds.message),
           std::string("an unordered clamp: ") + bounds.message);

  failed = createLike(ctx);
  {
    float *params[] = {x.floats(), x.floats()};
    const float *grads[] = {x.floats(), nullptr};
    int64_t sizes[] = {INT64_MAX / 2, INT64_MAX / 2};
    expect(mp_adamw_multi_f32(failed, 2, params, grads, params, params, sizes,
                              0.1, 0.9, 0.999, 1e-8, 0, y.floats(),
                              nullptr) == MP_ERROR &&
               std::string(mp_context_error(failed)).find("overflows") !=
                   std::string::npos,
           "adamw_multi refuses sizes whose bytes overflow int64");
    mp_context_destroy(failed);
    failed = createLike(ctx);
    sizes[0] = sizes[1] = 1;
    expect(mp_adamw_multi_f32(failed, 2, params, grads, params, params, sizes,
                              0.1, 0.9, 0.999, 1e-8, 0, y.floats(),
                              nullptr) == MP_ERROR &&
               std::string(mp_context_error(failed)).find("grad is null") !=
                   std::string::npos,
           "adamw_multi refuses a null tensor");
  }
  mp_context_destroy(failed);
  failed = createLike(ctx);
  expect(mp_async_wait(failed, 3) == MP_ERROR &&
             std::string(mp_context_error(failed))
                     .find("slot 3 holds no collective") != std::string::npos,
         "waiting on an empty slot is an error");
  mp_context_destroy(failed);
  failed = createLike(ctx);
  expect(mp_async_begin(failed, 2) == MP_OK &&
             mp_async_begin(failed, 4) == MP_ERROR &&
             std::string(mp_context_error(failed))
                     .find("slot 2 was named and no collective has used it") !=
                 std::string::npos,
         "a slot is named for the next collective only");
  mp_context_destroy(failed);
  failed = createLike(ctx);
  expect(mp_async_begin(failed, MP_ASYNC_SLOTS) == MP_ERROR,
         "slots are below MP_ASYNC_SLOTS");
  mp_context_destroy(failed);

  failed = createLike(ctx);
  expect(mp_convert(failed, MP_DTYPE_F32, MP_DTYPE_F64, 1, x.floats(),
                    y.floats()) == MP_ERROR &&
             std::string(mp_context_error(failed)).find("not dtype 0 to 1") !=
                 std::string::npos,
         "mp_convert converts float32 and bfloat16 only");
  mp_context_destroy(failed);

  failed = createLike(ctx);
  expect(
      mp_gemm_f32(failed, static_cast<mp_precision>(7), MP_DTYPE_F32,
                  MP_DTYPE_F32, 0, 0, 1, 1, 1, 1.0f, x.floats(), x.floats(),
                  0.0f, MP_DTYPE_F32, y.floats(), nullptr, 0) == MP_ERROR &&
          std::string(mp_context_error(failed)).find("unknown precision 7") !=
              std::string::npos,
      "an unknown GEMM precision is an error");
  mp_context_destroy(failed);
  failed = createLike(ctx);
  expect(mp_gemm_f32(failed, MP_PRECISION_TF32, MP_DTYPE_BF16, MP_DTYPE_F32, 0,
                     0, 1, 1, 1, 1.0f, x.floats(), x.floats(), 0.0f,
                     MP_DTYPE_F32, y.floats(), nullptr, 0) == MP_ERROR &&
             std::string(mp_context_error(failed))
                     .find("bfloat16 ones only in MP_PRECISION_BF16") !=
                 std::string::npos,
         "a bfloat16 GEMM operand outside bf16 precision is an error");
  mp_context_destroy(failed);
  failed = createLike(ctx);
  expect(
      mp_gemm_batched_f32(failed, MP_PRECISION_BF16, MP_DTYPE_F32, MP_DTYPE_F32,
                          0, 0, 3, 1, 1, 1, 1.0f, x.floats(), INT64_MAX / 2,
                          x.floats(), 0, 0.0f, MP_DTYPE_F32, y.floats(), 1,
                          nullptr, 0) == MP_ERROR &&
          std::string(mp_context_error(failed)).find("overflow int64 bytes") !=
              std::string::npos,
      "a GEMM batch whose operand reach overflows is an error");
  mp_context_destroy(failed);

  if (mp_context_axis_size(ctx, 0) > 1) {
    failed = createLike(ctx);
    // One more element than the axis has members: never divides.
    int64_t shape[] = {mp_context_axis_size(ctx, 0) + 1};
    int axis = 0;
    Buffer out(ctx, shape[0] * sizeof(float));
    expect(mp_reduce_scatter(failed, &axis, 1, MP_DTYPE_F32, out.floats(),
                             out.floats() + 1, 1, shape, 0, nullptr,
                             0) == MP_ERROR,
           "an uneven split is an error");
    mp_context_destroy(failed);
  } else {
    // Keep the collective context creations in step on every rank.
    mp_context_destroy(createLike(ctx));
  }

  // Targets live in backend memory: CUDA finds a bad one in its kernel and
  // reports it at the next mp_copy_to_host, the host at once.
  failed = createLike(ctx);
  Buffer logits(ctx, std::vector<float>{0, 0, 0, 1, 2, 3});
  Buffer badTargets(ctx, std::vector<int64_t>{0, 3});
  Buffer loss(ctx, sizeof(float));
  mp_context_set_op(failed, "mp.cross_entropy at step.mlir:9:7");
  float lossValue = 0;
  mp_status status = mp_cross_entropy_f32(failed, 2, 3, logits.floats(),
                                          badTargets.as<int64_t>(), nullptr,
                                          1.0, loss.floats());
  mp_context_set_op(failed, nullptr);
  if (status == MP_OK)
    status = mp_copy_to_host(failed, &lossValue, loss.floats(), sizeof(float));
  expect(status == MP_ERROR &&
             std::string(mp_context_error(failed)) ==
                 "mp_cross_entropy_f32 failed on rank " +
                     std::to_string(mp_context_rank(ctx)) +
                     " (in mp.cross_entropy at step.mlir:9:7): target 3 of "
                     "sample 1 is not in [0, 3)",
         "a target outside the classes is an error of the call that met it");
  mp_context_destroy(failed);

  failed = createLike(ctx);
  Buffer value(ctx, std::vector<float>{1}),
      zeroStep(ctx, std::vector<float>{0});
  status = mp_adamw_f32(failed, 1, value.floats(), value.floats(),
                        value.floats(), value.floats(), 0.1, 0.9, 0.999, 1e-8,
                        0, zeroStep.floats(), nullptr);
  if (status == MP_OK)
    status = mp_copy_to_host(failed, &lossValue, value.floats(), sizeof(float));
  expect(status == MP_ERROR &&
             std::string(mp_context_error(failed))
                     .find("mp_adamw_f32 failed on rank " +
                           std::to_string(mp_context_rank(ctx)) +
                           ": step must be 1 or more, got 0") == 0,
         "an AdamW step below 1 is an error");
  mp_context_destroy(failed);
}

/// mp_all_reduce_group rejects a negative count, a null buffer behind a
/// count, a packed buffer past int64 and a call without tensors, naming
/// the tensor.
void testCoalescedReductionErrors(mp_context *ctx) {
  std::string onRank = "mp_all_reduce_group failed on rank " +
                       std::to_string(mp_context_rank(ctx)) + ": ";
  Buffer data(ctx, std::vector<float>(4, 1)), scratch(ctx, 8 * sizeof(float));
  int axis = 0;
  const void *in[] = {data.floats(), nullptr};
  void *out[] = {data.floats(), nullptr};
  const struct {
    int count;
    int64_t counts[2];
    const char *message;
  } cases[] = {
      {2, {4, -1}, "tensor 1 has negative count -1"},
      {2, {4, 2}, "tensor 1 has 2 elements and a null buffer"},
      {2, {INT64_MAX, 4}, "the packed buffer does not fit int64"},
      {0, {4, 0}, "needs at least one tensor and all its arrays"},
  };
  for (const auto &c : cases) {
    mp_context *failed = createLike(ctx);
    expect(mp_all_reduce_group(failed, &axis, 1, MP_DTYPE_F32, c.count, in, out,
                               c.counts, scratch.floats()) == MP_ERROR &&
               onRank + c.message == mp_context_error(failed),
           std::string("all_reduce_group: ") + c.message);
    mp_context_destroy(failed);
  }
}

/// The padding calls reject what they cannot place, naming why.
void testPaddingErrors(mp_context *ctx) {
  std::string onRank =
      " failed on rank " + std::to_string(mp_context_rank(ctx)) + ": ";
  Buffer in(ctx, std::vector<float>(6, 1)), out(ctx, 6 * sizeof(float));
  int64_t shape[] = {2, 3}, negative[] = {-1, 3}, wide[] = {2, 7};
  // Each on a context of its own: errors are sticky.
  auto expectError = [&](auto call, const std::string &message,
                         const std::string &what) {
    mp_context *failed = createLike(ctx);
    expect(call(failed) == MP_ERROR && message == mp_context_error(failed),
           what);
    mp_context_destroy(failed);
  };
  expectError(
      [&](mp_context *c) {
        return mp_resize_dim(c, MP_DTYPE_F32, in.floats(), out.floats(), 2,
                             shape, 2, 3);
      },
      "mp_resize_dim" + onRank + "dim 2 is out of range for rank 2",
      "resize_dim of a dim past the rank is an error");
  expectError(
      [&](mp_context *c) {
        return mp_resize_dim(c, MP_DTYPE_F32, in.floats(), out.floats(), 2,
                             shape, 1, -1);
      },
      "mp_resize_dim" + onRank + "negative out_extent -1",
      "resize_dim to a negative extent is an error");
  // A block past the input's extent or the output's, or of negative size.
  const struct {
    int64_t inOffset, outOffset, count;
    const char *entries;
  } ranges[] = {
      {2, 0, 2, "entries 2 + 2 of an extent of 3 do not fit entries 0 + 2"},
      {0, 2, 2, "entries 0 + 2 of an extent of 3 do not fit entries 2 + 2"},
      {0, 0, INT64_MIN,
       "entries 0 + -9223372036854775808 of an extent of 3 do not fit "
       "entries 0 + -9223372036854775808"},
  };
  for (const auto &range : ranges)
    expectError(
        [&](mp_context *c) {
          return mp_copy_dim_range(c, MP_DTYPE_F32, in.floats(), out.floats(),
                                   2, shape, 1, range.inOffset, 3,
                                   range.outOffset, range.count);
        },
        "mp_copy_dim_range" + onRank + range.entries + " of an extent of 3",
        std::string("copy_dim_range of ") + range.entries + " is an error");
  expectError(
      [&](mp_context *c) {
        return mp_copy_dim_range(c, MP_DTYPE_F32, in.floats(), in.floats(), 2,
                                 shape, 1, 0, 3, 0, 1);
      },
      "mp_copy_dim_range" + onRank + "out overlaps in",
      "copy_dim_range in place is an error");
  expectError(
      [&](mp_context *c) {
        return mp_resize_dim(c, static_cast<mp_dtype>(9), in.floats(),
                             out.floats(), 2, shape, 1, 3);
      },
      "mp_resize_dim" + onRank + "unknown dtype 9",
      "resize_dim of an unknown dtype is an error");
  expectError(
      [&](mp_context *c) {
        return mp_resize_dim(c, MP_DTYPE_F32, in.floats(), out.floats(), 2,
                             negative, 1, 3);
      },
      "mp_resize_dim" + onRank + "dim 0 has negative size -1",
      "resize_dim of a negative shape is an error");
  int axis = 0;
  int64_t padded =
      (5 + mp_context_axis_size(ctx, 0) - 1) / mp_context_axis_size(ctx, 0);
  expectError(
      [&](mp_context *c) {
        return mp_zero_padding(c, &axis, 1, MP_DTYPE_F32, in.floats(), 2, wide,
                               1, 5);
      },
      "mp_zero_padding" + onRank +
          "dim 1 has 7 entries, but an extent of 5 split over [a0] has " +
          std::to_string(padded) + " per rank",
      "zero_padding of a dim that is not the extent's piece is an error");
  int twice[] = {0, 0};
  expectError(
      [&](mp_context *c) {
        return mp_zero_padding(c, twice, 2, MP_DTYPE_F32, in.floats(), 2, shape,
                               1, 3);
      },
      "mp_zero_padding" + onRank + "mesh axis 'a0' is listed twice",
      "zero_padding over an axis listed twice is an error");
}

//===--- Transformer layers against float64 references --------------------===//

/// Values of both signs and several magnitudes, the same on every rank.
std::vector<float> makeValues(int64_t count, double seed) {
  std::vector<float> values(count);
  for (int64_t i = 0; i < count; ++i)
    values[i] = float(std::sin(0.7 * double(i) + seed) *
                      (1.5 + std::cos(0.13 * double(i) + seed)));
  return values;
}

std::vector<double> toDouble(const std::vector<float> &values) {
  return std::vector<double>(values.begin(), values.end());
}

/// Whether each result is within `tol` of its float64 reference, relative,
/// with an absolute floor of tol / 100 for results near zero; NaN is not.
bool closeTo(const std::vector<float> &got, const std::vector<double> &want,
             double tol = 1e-5) {
  if (got.size() != want.size())
    return false;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double(got[i]) - want[i]) <=
          tol * std::fabs(want[i]) + tol / 100))
      return false;
  return true;
}

/// Whether each result is within `tol` of the largest reference entry's
/// magnitude (for bf16, whose rounding is relative to the operands, not to
/// each result).
bool closeToLargest(const std::vector<float> &got,
                    const std::vector<double> &want, double tol) {
  double largest = 0;
  for (double x : want)
    largest = std::max(largest, std::fabs(x));
  if (got.size() != want.size())
    return false;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double(got[i]) - want[i]) <= tol * largest))
      return false;
  return true;
}

/// RMSNorm (not centered) or LayerNorm (centered, with the bias) of each
/// row, in double: (x - mean) / sqrt(mean((x - mean)²) + eps) · w + b, the
/// mean 0 for RMSNorm.
std::vector<double> referenceNorm(bool centered, int64_t rows, int64_t dim,
                                  double eps, const std::vector<double> &x,
                                  const std::vector<double> &w,
                                  const std::vector<double> &b) {
  std::vector<double> out(rows * dim);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, variance = 0;
    if (centered) {
      for (int64_t j = 0; j < dim; ++j)
        mean += x[r * dim + j];
      mean /= double(dim);
    }
    for (int64_t j = 0; j < dim; ++j)
      variance += (x[r * dim + j] - mean) * (x[r * dim + j] - mean);
    double rstd = 1 / std::sqrt(variance / double(dim) + eps);
    for (int64_t j = 0; j < dim; ++j)
      out[r * dim + j] =
          (x[r * dim + j] - mean) * rstd * w[j] + (centered ? b[j] : 0);
  }
  return out;
}

/// The gradients of Σ norm(x) · g with respect to x, w and b, by central
/// differences of referenceNorm.
void differentiateNorm(bool centered, int64_t rows, int64_t dim, double eps,
                       std::vector<double> x, std::vector<double> w,
                       std::vector<double> b, const std::vector<double> &g,
                       std::vector<double> &dx, std::vector<double> &dw,
                       std::vector<double> &db) {
  auto loss = [&] {
    std::vector<double> out = referenceNorm(centered, rows, dim, eps, x, w, b);
    double sum = 0;
    for (size_t i = 0; i < out.size(); ++i)
      sum += out[i] * g[i];
    return sum;
  };
  auto derivative = [&](double &v) {
    const double h = 1e-5, saved = v;
    v = saved + h;
    double up = loss();
    v = saved - h;
    double down = loss();
    v = saved;
    return (up - down) / (2 * h);
  };
  dx.clear();
  dw.clear();
  db.clear();
  for (double &v : x)
    dx.push_back(derivative(v));
  for (double &v : w)
    dw.push_back(derivative(v));
  for (double &v : b)
    db.push_back(derivative(v));
}

/// The same gradients by hand: with x̂ = (x - mean) · rstd and gw = g · w,
/// dx = rstd · (gw - mean(gw) - x̂ · mean(gw · x̂)) for LayerNorm and
/// rstd · (gw - x̂ · mean(gw · x̂)) for RMSNorm, dw = Σ g · x̂, db = Σ g.
void deriveNorm(bool centered, int64_t rows, int64_t dim, double eps,
                const std::vector<double> &x, const std::vector<double> &w,
                const std::vector<double> &g, std::vector<double> &dx,
                std::vector<double> &dw, std::vector<double> &db) {
  dx.assign(rows * dim, 0);
  dw.assign(dim, 0);
  db.assign(dim, 0);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, variance = 0, meanGw = 0, meanGwXhat = 0;
    if (centered) {
      for (int64_t j = 0; j < dim; ++j)
        mean += x[r * dim + j] / double(dim);
    }
    for (int64_t j = 0; j < dim; ++j)
      variance += (x[r * dim + j] - mean) * (x[r * dim + j] - mean);
    double rstd = 1 / std::sqrt(variance / double(dim) + eps);
    for (int64_t j = 0; j < dim; ++j) {
      double xhat = (x[r * dim + j] - mean) * rstd, gw = g[r * dim + j] * w[j];
      meanGw += centered ? gw / double(dim) : 0;
      meanGwXhat += gw * xhat / double(dim);
      dw[j] += g[r * dim + j] * xhat;
      db[j] += g[r * dim + j];
    }
    for (int64_t j = 0; j < dim; ++j) {
      double xhat = (x[r * dim + j] - mean) * rstd;
      dx[r * dim + j] =
          rstd * (g[r * dim + j] * w[j] - meanGw - xhat * meanGwXhat);
    }
  }
}

/// SwiGLU fused: MP_BINARY_SWIGLU and mp_swiglu_grad_f32 give the floats of
/// the unfused calls (silu then mul; mul, silu_grad, silu and mul) bit for
/// bit, also with the gradients written over their inputs.
void testSwiglu(mp_context *ctx) {
  const int64_t n = 1003; // vectors of 4 and a tail; split among threads
  std::vector<float> gateValues = makeValues(n, 1);
  for (float &g : gateValues)
    g *= 6; // through silu's curve and its tails
  Buffer gate(ctx, gateValues), up(ctx, makeValues(n, 2)),
      grad(ctx, makeValues(n, 3));
  Buffer fused(ctx, n * sizeof(float)), silu(ctx, n * sizeof(float)),
      product(ctx, n * sizeof(float));
  CHECK_OK(ctx, mp_binary_f32(ctx, MP_BINARY_SWIGLU, n, MP_DTYPE_F32,
                              gate.floats(), MP_DTYPE_F32, up.floats(),
                              MP_DTYPE_F32, fused.floats()));
  CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_SILU, n, MP_DTYPE_F32, gate.floats(),
                             MP_DTYPE_F32, silu.floats(), 0, 0));
  CHECK_OK(ctx, mp_binary_f32(ctx, MP_BINARY_MUL, n, MP_DTYPE_F32,
                              silu.floats(), MP_DTYPE_F32, up.floats(),
                              MP_DTYPE_F32, product.floats()));
  expect(fused.read() == product.read(), "swiglu = silu then mul, bit for bit");

  Buffer gateGrad(ctx, n * sizeof(float)), upGrad(ctx, n * sizeof(float));
  CHECK_OK(ctx, mp_swiglu_grad_f32(ctx, n, MP_DTYPE_F32, grad.floats(),
                                   MP_DTYPE_F32, gate.floats(), MP_DTYPE_F32,
                                   up.floats(), MP_DTYPE_F32, gateGrad.floats(),
                                   MP_DTYPE_F32, upGrad.floats()));
  Buffer t(ctx, n * sizeof(float)), wantGate(ctx, n * sizeof(float)),
      wantUp(ctx, n * sizeof(float));
  CHECK_OK(ctx,
           mp_binary_f32(ctx, MP_BINARY_MUL, n, MP_DTYPE_F32, grad.floats(),
                         MP_DTYPE_F32, up.floats(), MP_DTYPE_F32, t.floats()));
  CHECK_OK(ctx, mp_binary_f32(ctx, MP_BINARY_SILU_GRAD, n, MP_DTYPE_F32,
                              t.floats(), MP_DTYPE_F32, gate.floats(),
                              MP_DTYPE_F32, wantGate.floats()));
  CHECK_OK(ctx, mp_binary_f32(ctx, MP_BINARY_MUL, n, MP_DTYPE_F32,
                              grad.floats(), MP_DTYPE_F32, silu.floats(),
                              MP_DTYPE_F32, wantUp.floats()));
  expect(gateGrad.read() == wantGate.read() && upGrad.read() == wantUp.read(),
         "swiglu_grad = mul, silu_grad and mul, bit for bit");
  // Written over the gradient and the gate, as the memory plan may place
  // them.
  CHECK_OK(ctx, mp_swiglu_grad_f32(ctx, n, MP_DTYPE_F32, grad.floats(),
                                   MP_DTYPE_F32, gate.floats(), MP_DTYPE_F32,
                                   up.floats(), MP_DTYPE_F32, grad.floats(),
                                   MP_DTYPE_F32, gate.floats()));
  expect(grad.read() == wantGate.read() && gate.read() == wantUp.read(),
         "swiglu_grad in place over its inputs");

  mp_context *failed = createLike(ctx);
  mp_status status =
      mp_swiglu_grad_f32(failed, n, MP_DTYPE_F32, grad.floats(), MP_DTYPE_F32,
                         gate.floats(), MP_DTYPE_F32, up.floats(), MP_DTYPE_F32,
                         t.floats(), MP_DTYPE_F32, t.floats());
  expect(status == MP_ERROR &&
             std::string(mp_context_error(failed))
                     .find("mp_swiglu_grad_f32 failed on rank " +
                           std::to_string(mp_context_rank(ctx)) +
                           ": gate_grad and up_grad are one buffer") == 0,
         "swiglu_grad's two outputs in one buffer is an error");
  mp_context_destroy(failed);
}

/// Both norms and their gradients: a small case against finite differences,
/// a large one (split among the host's threads) against the gradients by
/// hand, and a gradient of no rows (zeros).
/// The elementwise and norm calls hold float32 computations in bfloat16
/// (ABI 8; LayerNorm's ABI 31, the rotary embedding's 32), transposes copy
/// between float32 and bfloat16 (ABI 9), and attention reads and writes
/// bfloat16 in bf16 precision (ABI 10): every mix of float32 and bfloat16
/// tensors gives, bit for bit, the float32 call between mp_convert calls (on
/// CUDA too: the kernels apply the same formulas), the elementwise calls in
/// place over an input of its dtype; an output over an input of another dtype
/// is an error. A GEMM writing bfloat16 gives the float32 GEMM's result
/// rounded: bit for bit on the host, on CUDA within a bfloat16 rounding (a
/// native bf16 GEMM sums in its own order).
void testBFloat16Storage(mp_context *ctx) {
  const int64_t n = 1003; // vectors of 4 and a tail; split among threads
  std::vector<std::unique_ptr<Buffer>> wide, narrow, widened;
  Buffer attentionLse(ctx, 17 * sizeof(float)),
      attentionScratch(ctx, 2 * 5 * 17 * sizeof(float));
  // The scores' room, less than the bf16 GEMMs' workspace: these take
  // the rest of theirs themselves.
  const int64_t attentionScratchBytes = 2 * 5 * 17 * sizeof(float);
  for (double seed : {1.0, 2.0, 3.0}) {
    std::vector<float> values = makeValues(n, seed);
    for (float &value : values)
      value *= 4;
    wide.push_back(std::make_unique<Buffer>(ctx, values));
    narrow.push_back(std::make_unique<Buffer>(ctx, n * sizeof(uint16_t)));
    widened.push_back(std::make_unique<Buffer>(ctx, n * sizeof(float)));
    CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, n,
                             wide.back()->floats(), narrow.back()->as<void>()));
    CHECK_OK(ctx,
             mp_convert(ctx, MP_DTYPE_BF16, MP_DTYPE_F32, n,
                        narrow.back()->as<void>(), widened.back()->floats()));
  }
  using Call = std::function<mp_status(const mp_dtype *, void *const *,
                                       const mp_dtype *, void *const *)>;
  struct Kind {
    const char *name;
    int ins, outs;
    Call call;
  };
  std::vector<Kind> kinds = {
      {"silu", 1, 1,
       [&](auto inTypes, auto in, auto outTypes, auto out) {
         return mp_unary_f32(ctx, MP_UNARY_SILU, n, inTypes[0], in[0],
                             outTypes[0], out[0], 0, 0);
       }},
      {"add", 2, 1,
       [&](auto inTypes, auto in, auto outTypes, auto out) {
         return mp_binary_f32(ctx, MP_BINARY_ADD, n, inTypes[0], in[0],
                              inTypes[1], in[1], outTypes[0], out[0]);
       }},
      {"swiglu", 2, 1,
       [&](auto inTypes, auto in, auto outTypes, auto out) {
         return mp_binary_f32(ctx, MP_BINARY_SWIGLU, n, inTypes[0], in[0],
                              inTypes[1], in[1], outTypes[0], out[0]);
       }},
      // 1003 = 17 rows of 59.
      {"rms_norm", 1, 1,
       [&](auto inTypes, auto in, auto outTypes, auto out) {
         return mp_rms_norm_f32(ctx, 17, 59, 1e-5, inTypes[0], in[0],
                                wide[2]->floats(), 0, outTypes[0], out[0]);
       }},
      // ABI 31, its weight and bias float32.
      {"layer_norm", 1, 1,
       [&](auto inTypes, auto in, auto outTypes, auto out) {
         return mp_layer_norm_f32(ctx, 17, 59, 1e-5, inTypes[0], in[0],
                                  wide[2]->floats(), wide[1]->floats(),
                                  outTypes[0], out[0]);
       }},
      {"swiglu_grad", 3, 2,
       [&](auto inTypes, auto in, auto outTypes, auto out) {
         return mp_swiglu_grad_f32(ctx, n, inTypes[0], in[0], inTypes[1], in[1],
                                   inTypes[2], in[2], outTypes[0], out[0],
                                   outTypes[1], out[1]);
       }},
      // A copy (ABI 9): bf16 to bf16 moves the bits.
      {"transpose", 1, 1,
       [&](auto inTypes, auto in, auto outTypes, auto out) {
         const int64_t rowsByColumns[] = {17, 59};
         const int swap[] = {1, 0};
         return mp_transpose_f32(ctx, 2, rowsByColumns, swap, inTypes[0], in[0],
                                 outTypes[0], out[0]);
       }},
      // ABI 10, in bf16 precision: q, k, v [17, 59], causal, chunks of 5
      // rows (one on CUDA's on-chip kernel).
      {"attention", 3, 1, [&](auto inTypes, auto in, auto outTypes, auto out) {
         return mp_attention_f32(
             ctx, MP_PRECISION_BF16, 1, 1, 17, 17, 59, 59, 0.125f, 0.0f, 1, 0,
             5, 0, nullptr, 0, inTypes[0], in[0], inTypes[1], in[1], inTypes[2],
             in[2], outTypes[0], out[0], attentionLse.floats(),
             attentionScratch.floats(), attentionScratchBytes);
       }}};
  const mp_dtype allF32[3] = {MP_DTYPE_F32, MP_DTYPE_F32, MP_DTYPE_F32};
  for (const Kind &kind : kinds)
    for (int mask = 0; mask < 1 << (kind.ins + kind.outs); ++mask) {
      mp_dtype inTypes[3], outTypes[2];
      void *in[3], *referenceIn[3], *out[2], *reference[2];
      for (int i = 0; i < kind.ins; ++i) {
        bool bf16 = mask >> i & 1;
        inTypes[i] = bf16 ? MP_DTYPE_BF16 : MP_DTYPE_F32;
        in[i] = (bf16 ? narrow : wide)[i]->as<void>();
        referenceIn[i] = (bf16 ? widened : wide)[i]->as<void>();
      }
      std::vector<std::unique_ptr<Buffer>> outputs, references;
      for (int o = 0; o < kind.outs; ++o) {
        outTypes[o] = mask >> (kind.ins + o) & 1 ? MP_DTYPE_BF16 : MP_DTYPE_F32;
        outputs.push_back(std::make_unique<Buffer>(
            ctx, n * (outTypes[o] == MP_DTYPE_BF16 ? 2 : 4)));
        references.push_back(std::make_unique<Buffer>(ctx, n * 4));
        out[o] = outputs.back()->as<void>();
        reference[o] = references.back()->as<void>();
      }
      CHECK_OK(ctx, kind.call(inTypes, in, outTypes, out));
      CHECK_OK(ctx, kind.call(allF32, referenceIn, allF32, reference));
      bool same = true;
      for (int o = 0; o < kind.outs; ++o) {
        if (outTypes[o] == MP_DTYPE_F32) {
          same &=
              outputs[o]->read<uint32_t>() == references[o]->read<uint32_t>();
          continue;
        }
        Buffer rounded(ctx, n * sizeof(uint16_t));
        CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, n,
                                 reference[o], rounded.as<void>()));
        same &= outputs[o]->read<uint16_t>() == rounded.read<uint16_t>();
      }
      expect(same, std::string(kind.name) + " with dtype mask " +
                       std::to_string(mask) +
                       " is the float32 call between conversions");
    }

  // The norms' gradients read a bfloat16 x and grad widened (RMSNorm's
  // ABI 8 and 11, LayerNorm's 31): dx and the parameters' gradients are the
  // float32 call's on them widened, bit for bit, each mix.
  using NormGrad =
      std::function<mp_status(mp_dtype, const void *, mp_dtype, const void *,
                              float *, float *, float *, void *, int64_t)>;
  const std::pair<const char *, NormGrad> normGrads[] = {
      {"rms_norm_grad",
       [&](mp_dtype xType, const void *x, mp_dtype gradType, const void *grad,
           float *dx, float *dweight, float *, void *scratch, int64_t bytes) {
         return mp_rms_norm_grad_f32(ctx, 17, 59, 1e-5, xType, x,
                                     wide[2]->floats(), 0, gradType, grad, dx,
                                     dweight, scratch, bytes);
       }},
      {"layer_norm_grad", [&](mp_dtype xType, const void *x, mp_dtype gradType,
                              const void *grad, float *dx, float *dweight,
                              float *dbias, void *scratch, int64_t bytes) {
         return mp_layer_norm_grad_f32(ctx, 17, 59, 1e-5, xType, x,
                                       wide[2]->floats(), gradType, grad, dx,
                                       dweight, dbias, scratch, bytes);
       }}};
  // NaNs where a call leaves a buffer alone (RMSNorm's dbias), alike.
  const std::vector<float> nans(59, NAN);
  for (const auto &[name, normGrad] : normGrads) {
    Buffer dx(ctx, n * sizeof(float)), dweight(ctx, nans), dbias(ctx, nans);
    Buffer wantDx(ctx, n * sizeof(float)), wantDweight(ctx, nans),
        wantDbias(ctx, nans);
    CHECK_OK(ctx,
             normGrad(MP_DTYPE_F32, widened[0]->floats(), MP_DTYPE_F32,
                      widened[1]->floats(), wantDx.floats(),
                      wantDweight.floats(), wantDbias.floats(), nullptr, 0));
    for (int mask = 1; mask < 4; ++mask) {
      auto tensor = [&](int index, int bit) {
        return mask & bit ? narrow[index]->as<void>()
                          : widened[index]->as<void>();
      };
      // NaNs where the previous mix wrote: a call that writes nothing fails.
      for (Buffer *written : {&dx, &dweight, &dbias})
        written->write(std::vector<float>(written->read().size(), NAN));
      // In the scratch a compiled step plans (on the host with the
      // widened inputs), nothing of its own.
      mp_dtype xType = mask & 1 ? MP_DTYPE_BF16 : MP_DTYPE_F32,
               gradType = mask & 2 ? MP_DTYPE_BF16 : MP_DTYPE_F32;
      int64_t scratchBytes =
          mp_norm_grad_scratch_bytes(backend, 17, 59, xType, gradType);
      Buffer scratch(ctx, scratchBytes);
      size_t ownBytes = countOwnBytes(ctx, [&] {
        return normGrad(xType, tensor(0, 1), gradType, tensor(1, 2),
                        dx.floats(), dweight.floats(), dbias.floats(),
                        scratch.floats(), scratchBytes);
      });
      std::string what =
          std::string(name) + " with dtype mask " + std::to_string(mask);
      expect(ownBytes == 0, what + " in mp_norm_grad_scratch_bytes: " +
                                std::to_string(ownBytes) + " bytes of its own");
      expect(dx.read<uint32_t>() == wantDx.read<uint32_t>() &&
                 dweight.read<uint32_t>() == wantDweight.read<uint32_t>() &&
                 dbias.read<uint32_t>() == wantDbias.read<uint32_t>(),
             what + " (x 1, grad 2) is the float32 call's on them widened");
    }
  }

  // The rotary embedding (ABI 32): 17 positions of a head of 58, 40 of
  // its entries rotated, each mix the float32 call between conversions.
  const int64_t ropeCount = 17 * 58;
  auto rope = [&](mp_dtype xType, const void *x, mp_dtype outType, void *out) {
    return mp_rope_f32(ctx, 1, 17, 1, 58, 40, 10000, nullptr, 1, nullptr, 1, 0,
                       xType, x, outType, out);
  };
  Buffer wantRope(ctx, ropeCount * sizeof(float)),
      wantRopeRounded(ctx, ropeCount * sizeof(uint16_t));
  CHECK_OK(ctx, rope(MP_DTYPE_F32, widened[0]->floats(), MP_DTYPE_F32,
                     wantRope.floats()));
  CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_F32, MP_DTYPE_BF16, ropeCount,
                           wantRope.floats(), wantRopeRounded.as<void>()));
  for (int mask = 1; mask < 4; ++mask) {
    bool narrowIn = mask & 1, narrowOut = mask & 2;
    Buffer rotated(ctx, ropeCount * (narrowOut ? 2 : 4));
    CHECK_OK(ctx, rope(narrowIn ? MP_DTYPE_BF16 : MP_DTYPE_F32,
                       (narrowIn ? narrow : widened)[0]->as<void>(),
                       narrowOut ? MP_DTYPE_BF16 : MP_DTYPE_F32,
                       rotated.as<void>()));
    expect(narrowOut
               ? rotated.read<uint16_t>() == wantRopeRounded.read<uint16_t>()
               : rotated.read<uint32_t>() == wantRope.read<uint32_t>(),
           "rope with dtype mask " + std::to_string(mask) +
               " (x 1, out 2) is the float32 call between conversions");
  }

  // Attention's gradient reads bfloat16 q, k, v and out widened: the
  // float32 call's gradients on them widened, bit for bit.
  Buffer out16(ctx, n * sizeof(uint16_t)), outWidened(ctx, n * sizeof(float));
  CHECK_OK(ctx, mp_attention_f32(
                    ctx, MP_PRECISION_BF16, 1, 1, 17, 17, 59, 59, 0.125f, 0.0f,
                    1, 0, 5, 0, nullptr, 0, MP_DTYPE_BF16,
                    narrow[0]->as<void>(), MP_DTYPE_BF16, narrow[1]->as<void>(),
                    MP_DTYPE_BF16, narrow[2]->as<void>(), MP_DTYPE_BF16,
                    out16.as<void>(), attentionLse.floats(),
                    attentionScratch.floats(), attentionScratchBytes));
  CHECK_OK(ctx, mp_convert(ctx, MP_DTYPE_BF16, MP_DTYPE_F32, n,
                           out16.as<void>(), outWidened.floats()));
  std::vector<std::unique_ptr<Buffer>> heldGrads, wideGrads;
  for (int i = 0; i < 6; ++i)
    (i < 3 ? heldGrads : wideGrads)
        .push_back(std::make_unique<Buffer>(ctx, n * sizeof(float)));
  CHECK_OK(ctx,
           mp_attention_grad_f32(
               ctx, MP_PRECISION_BF16, 1, 1, 17, 17, 59, 59, 0.125f, 0.0f, 1, 0,
               5, 0, nullptr, 0, MP_DTYPE_BF16, narrow[0]->as<void>(),
               MP_DTYPE_BF16, narrow[1]->as<void>(), MP_DTYPE_BF16,
               narrow[2]->as<void>(), MP_DTYPE_BF16, out16.as<void>(),
               attentionLse.floats(), wide[0]->floats(), heldGrads[0]->floats(),
               heldGrads[1]->floats(), heldGrads[2]->floats(),
               attentionScratch.floats(), attentionScratchBytes));
  CHECK_OK(ctx,
           mp_attention_grad_f32(
               ctx, MP_PRECISION_BF16, 1, 1, 17, 17, 59, 59, 0.125f, 0.0f, 1, 0,
               5, 0, nullptr, 0, MP_DTYPE_F32, widened[0]->floats(),
               MP_DTYPE_F32, widened[1]->floats(), MP_DTYPE_F32,
               widened[2]->floats(), MP_DTYPE_F32, outWidened.floats(),
               attentionLse.floats(), wide[0]->floats(), wideGrads[0]->floats(),
               wideGrads[1]->floats(), wideGrads[2]->floats(),
               attentionScratch.floats(), attentionScratchBytes));
  bool sameGrads = true;
  for (int i = 0; i < 3; ++i)
    sameGrads &=
        heldGrads[i]->read<uint32_t>() == wideGrads[i]->read<uint32_t>();
  expect(sameGrads, "attention_grad of bfloat16 q, k, v and out is the "
                    "float32 call's on them widened");

  // In place over a bfloat16 input; over one of another dtype, an error.
  Buffer sum(ctx, n * sizeof(uint16_t));
  CHECK_OK(ctx,
           mp_binary_f32(ctx, MP_BINARY_ADD, n, MP_DTYPE_BF16,
                         narrow[0]->as<void>(), MP_DTYPE_F32, wide[1]->floats(),
                         MP_DTYPE_BF16, sum.as<void>()));
  Buffer inPlace(ctx, narrow[0]->read<uint16_t>());
  CHECK_OK(ctx,
           mp_binary_f32(ctx, MP_BINARY_ADD, n, MP_DTYPE_BF16,
                         inPlace.as<void>(), MP_DTYPE_F32, wide[1]->floats(),
                         MP_DTYPE_BF16, inPlace.as<void>()));
  expect(inPlace.read<uint16_t>() == sum.read<uint16_t>(),
         "a bfloat16 add in place over its bfloat16 input");
  void *bf16 = inPlace.as<void>();
  expect(failsWith(
             ctx,
             [&](mp_context *c) {
               return mp_unary_f32(c, MP_UNARY_NEG, n, MP_DTYPE_BF16, bf16,
                                   MP_DTYPE_F32, bf16, 0, 0);
             },
             "writes a dtype-0 output over a dtype-4 input"),
         "an output over an input of another dtype is an error");
  expect(failsWith(
             ctx,
             [&](mp_context *c) {
               return mp_rms_norm_grad_f32(
                   c, 17, 59, 1e-5, MP_DTYPE_F32, widened[0]->floats(),
                   wide[2]->floats(), 0, MP_DTYPE_BF16, bf16,
                   static_cast<float *>(bf16), nullptr, nullptr, 0);
             },
             "writes a dtype-0 output over a dtype-4 input"),
         "rms_norm_grad's dx over a bfloat16 grad is an error");
  expect(failsWith(
             ctx,
             [&](mp_context *c) {
               return mp_layer_norm_grad_f32(
                   c, 17, 59, 1e-5, MP_DTYPE_BF16, bf16, wide[2]->floats(),
                   MP_DTYPE_F32, widened[1]->floats(),
                   static_cast<float *>(bf16), nullptr, nullptr, nullptr, 0);
             },
             "writes a dtype-0 output over a dtype-4 input"),
         "layer_norm_grad's dx over a bfloat16 x is an error");
  const int64_t square[] = {17, 59};
  const int swap[] = {1, 0};
  expect(failsWith(
             ctx,
             [&](mp_context *c) {
               return mp_transpose_f32(c, 2, square, swap, MP_DTYPE_BF16, bf16,
                                       MP_DTYPE_BF16, bf16);
             },
             "writes its output over its input"),
         "a transpose over its own input is an error");

  // A GEMM writing bfloat16 (beta 0, MP_PRECISION_BF16 only), batched with
  // C's matrices apart: what lies between them is left as it is.
  const int64_t m = 5, cols = 7, k = 9, stride = m * cols + 3;
  Buffer a(ctx, makeValues(2 * m * k, 4)), b(ctx, makeValues(k * cols, 5));
  Buffer c32(ctx, 2 * stride * sizeof(float));
  Buffer c16(ctx, std::vector<uint16_t>(2 * stride, 0x1234));
  CHECK_OK(ctx, mp_gemm_batched_f32(
                    ctx, MP_PRECISION_BF16, MP_DTYPE_F32, MP_DTYPE_F32, 0, 0, 2,
                    m, cols, k, 1.0f, a.floats(), m * k, b.floats(), 0, 0.0f,
                    MP_DTYPE_F32, c32.floats(), stride, nullptr, 0));
  CHECK_OK(ctx, mp_gemm_batched_f32(
                    ctx, MP_PRECISION_BF16, MP_DTYPE_F32, MP_DTYPE_F32, 0, 0, 2,
                    m, cols, k, 1.0f, a.floats(), m * k, b.floats(), 0, 0.0f,
                    MP_DTYPE_BF16, c16.as<void>(), stride, nullptr, 0));
  std::vector<float> product = c32.read();
  std::vector<uint16_t> bits = c16.read<uint16_t>();
  bool rounded = true, gapsKept = true;
  for (int64_t i = 0; i < 2 * stride; ++i) {
    if (i % stride >= m * cols) {
      gapsKept &= bits[i] == 0x1234;
      continue;
    }
    float want =
        mp::runtime::fromBFloat16Bits(mp::runtime::toBFloat16Bits(product[i]));
    float got = mp::runtime::fromBFloat16Bits(bits[i]);
    rounded &= backend == MP_BACKEND_HOST
                   ? got == want
                   : std::fabs(got - product[i]) <=
                         0x1p-7f * std::fabs(product[i]) + 1e-6f;
  }
  expect(rounded, "a bf16 GEMM writing bfloat16 rounds its float32 result");
  expect(gapsKept, "a bf16 GEMM writing bfloat16 leaves C's gaps");
  expect(failsWith(
             ctx,
             [&](mp_context *c) {
               return mp_gemm_f32(c, MP_PRECISION_BF16, MP_DTYPE_F32,
                                  MP_DTYPE_F32, 0, 0, m, cols, k, 1.0f,
                                  a.floats(), b.floats(), 1.0f, MP_DTYPE_BF16,
                                  c16.as<void>(), nullptr, 0);
             },
             "bfloat16 only in MP_PRECISION_BF16 with beta 0"),
         "a GEMM adding into a bfloat16 C is an error");
}

void testNorms(mp_context *ctx) {
  struct Case {
    int64_t rows, dim;
    bool byDifferences;
  };
  const double eps = 1e-5;
  // RMSNorm scales by weight_offset + weight (ABI 20; Gemma's offset is 1).
  struct Norm {
    bool centered;
    double weightOffset;
  };
  for (Case c : {Case{3, 7, true}, Case{300, 256, false}})
    for (auto [centered, weightOffset] :
         {Norm{false, 0}, Norm{false, 1}, Norm{true, 0}}) {
      int64_t count = c.rows * c.dim;
      std::vector<float> x = makeValues(count, 0.5), w = makeValues(c.dim, 2),
                         b = makeValues(c.dim, 3), g = makeValues(count, 4);
      Buffer xBuffer(ctx, x), wBuffer(ctx, w), bBuffer(ctx, b), gBuffer(ctx, g);
      Buffer out(ctx, count * sizeof(float)), dx(ctx, count * sizeof(float));
      Buffer dw(ctx, std::vector<float>(c.dim, 77)),
          db(ctx, std::vector<float>(c.dim, 77));
      std::string what = std::string(centered ? "layer_norm" : "rms_norm") +
                         (weightOffset ? " with weight offset" : "") + " of " +
                         std::to_string(c.rows) + " x " + std::to_string(c.dim);
      // The references scale by the weight the call scales by.
      std::vector<double> scale = toDouble(w);
      for (double &v : scale)
        v += weightOffset;
      // The gradient in the scratch a compiled step plans
      // (mp_norm_grad_scratch_bytes) allocates nothing of its own.
      int64_t scratchBytes = mp_norm_grad_scratch_bytes(
          backend, c.rows, c.dim, MP_DTYPE_F32, MP_DTYPE_F32);
      Buffer scratch(ctx, scratchBytes);
      size_t ownBytes = 0;
      if (centered) {
        CHECK_OK(ctx, mp_layer_norm_f32(ctx, c.rows, c.dim, eps, MP_DTYPE_F32,
                                        xBuffer.floats(), wBuffer.floats(),
                                        bBuffer.floats(), MP_DTYPE_F32,
                                        out.floats()));
        ownBytes = countOwnBytes(ctx, [&] {
          return mp_layer_norm_grad_f32(
              ctx, c.rows, c.dim, eps, MP_DTYPE_F32, xBuffer.floats(),
              wBuffer.floats(), MP_DTYPE_F32, gBuffer.floats(), dx.floats(),
              dw.floats(), db.floats(), scratch.floats(), scratchBytes);
        });
      } else {
        CHECK_OK(ctx,
                 mp_rms_norm_f32(ctx, c.rows, c.dim, eps, MP_DTYPE_F32,
                                 xBuffer.floats(), wBuffer.floats(),
                                 weightOffset, MP_DTYPE_F32, out.floats()));
        ownBytes = countOwnBytes(ctx, [&] {
          return mp_rms_norm_grad_f32(
              ctx, c.rows, c.dim, eps, MP_DTYPE_F32, xBuffer.floats(),
              wBuffer.floats(), weightOffset, MP_DTYPE_F32, gBuffer.floats(),
              dx.floats(), dw.floats(), scratch.floats(), scratchBytes);
        });
      }
      expect(ownBytes == 0, what + " gradient in mp_norm_grad_scratch_bytes: " +
                                std::to_string(ownBytes) + " bytes of its own");
      expect(
          closeTo(out.read(), referenceNorm(centered, c.rows, c.dim, eps,
                                            toDouble(x), scale, toDouble(b))),
          what);
      std::vector<double> dxWanted, dwWanted, dbWanted;
      if (c.byDifferences)
        differentiateNorm(centered, c.rows, c.dim, eps, toDouble(x), scale,
                          centered ? toDouble(b)
                                   : std::vector<double>(c.dim, 0),
                          toDouble(g), dxWanted, dwWanted, dbWanted);
      else
        deriveNorm(centered, c.rows, c.dim, eps, toDouble(x), scale,
                   toDouble(g), dxWanted, dwWanted, dbWanted);
      std::string how =
          c.byDifferences ? " (finite differences)" : " (by hand)";
      expect(closeTo(dx.read(), dxWanted), what + " dx" + how);
      expect(closeTo(dw.read(), dwWanted), what + " dweight" + how);
      if (centered)
        expect(closeTo(db.read(), dbWanted), what + " dbias" + how);
      // Each gradient alone, the other left out (null; weight too with dx):
      // the compiler computes them with separate ops.
      Buffer dxAlone(ctx, count * sizeof(float)),
          dwAlone(ctx, std::vector<float>(c.dim, 77)),
          dbAlone(ctx, std::vector<float>(c.dim, 77));
      // Given no scratch, they allocate their rows' statistics, counted.
      if (centered) {
        ownBytes = countOwnBytes(ctx, [&] {
          return mp_layer_norm_grad_f32(
              ctx, c.rows, c.dim, eps, MP_DTYPE_F32, xBuffer.floats(),
              wBuffer.floats(), MP_DTYPE_F32, gBuffer.floats(),
              dxAlone.floats(), nullptr, nullptr, nullptr, 0);
        });
        CHECK_OK(ctx,
                 mp_layer_norm_grad_f32(
                     ctx, c.rows, c.dim, eps, MP_DTYPE_F32, xBuffer.floats(),
                     nullptr, MP_DTYPE_F32, gBuffer.floats(), nullptr,
                     dwAlone.floats(), dbAlone.floats(), nullptr, 0));
        expect(dbAlone.read() == db.read(), what + " dbias alone");
      } else {
        ownBytes = countOwnBytes(ctx, [&] {
          return mp_rms_norm_grad_f32(
              ctx, c.rows, c.dim, eps, MP_DTYPE_F32, xBuffer.floats(),
              wBuffer.floats(), weightOffset, MP_DTYPE_F32, gBuffer.floats(),
              dxAlone.floats(), nullptr, nullptr, 0);
        });
        CHECK_OK(ctx,
                 mp_rms_norm_grad_f32(ctx, c.rows, c.dim, eps, MP_DTYPE_F32,
                                      xBuffer.floats(), nullptr, weightOffset,
                                      MP_DTYPE_F32, gBuffer.floats(), nullptr,
                                      dwAlone.floats(), nullptr, 0));
      }
      expect(ownBytes >= size_t(c.rows) * 2 * sizeof(double),
             what +
                 " gradient without scratch: its statistics of its own, "
                 "counted (" +
                 std::to_string(ownBytes) + " bytes)");
      expect(dxAlone.read() == dx.read(), what + " dx alone");
      expect(dwAlone.read() == dw.read(), what + " dweight alone");
    }
  // No rows: the weight's and bias' gradients are zeros, not left alone.
  Buffer w(ctx, std::vector<float>{1, 2}), dw(ctx, std::vector<float>{7, 7}),
      db(ctx, std::vector<float>{7, 7});
  Buffer none(ctx, sizeof(float));
  CHECK_OK(ctx,
           mp_rms_norm_grad_f32(ctx, 0, 2, eps, MP_DTYPE_F32, none.floats(),
                                w.floats(), 0, MP_DTYPE_F32, none.floats(),
                                none.floats(), dw.floats(), nullptr, 0));
  expect(dw.read() == std::vector<float>{0, 0}, "rms_norm of no rows: dweight");
  CHECK_OK(ctx, mp_layer_norm_grad_f32(ctx, 0, 2, eps, MP_DTYPE_F32,
                                       none.floats(), w.floats(), MP_DTYPE_F32,
                                       none.floats(), none.floats(),
                                       dw.floats(), db.floats(), nullptr, 0));
  expect(dw.read() == std::vector<float>{0, 0} &&
             db.read() == std::vector<float>{0, 0},
         "layer_norm of no rows: dweight and dbias");
}

/// Softmax with and without the causal mask, against float64: sq == sk,
/// sq < sk, sq > sk (rows with every entry masked are zeros), and a size
/// split among the host's threads; with sliding windows (ABI 18) of one
/// key, of a few, across the threads' rows and wider than the keys.
/// Masked inputs are NaN: they must not be read. Then its gradient,
/// written over the output gradient.
void testSoftmax(mp_context *ctx) {
  struct Case {
    int64_t batch, sq, sk;
    bool causal;
    int64_t window;
  };
  const Case cases[] = {
      {2, 5, 5, true, 0},  {2, 3, 6, true, 0},      {2, 6, 3, true, 0},
      {2, 4, 7, false, 0}, {4, 128, 160, true, 0},  {1, 1, 1, false, 0},
      {2, 5, 5, true, 1},  {2, 5, 5, true, 2},      {2, 3, 6, true, 3},
      {2, 6, 3, true, 2},  {4, 128, 160, true, 40}, {2, 5, 5, true, 9}};
  for (const Case &c : cases) {
    int64_t rows = c.batch * c.sq, count = rows * c.sk;
    std::vector<float> x = makeValues(count, 1);
    for (float &v : x)
      v *= 3;
    std::vector<double> wanted(count, 0);
    std::vector<bool> masked(count, false);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t q = r % c.sq;
      double top = -INFINITY, sum = 0;
      for (int64_t k = 0; k < c.sk; ++k) {
        int64_t diagonal = q + (c.sk - c.sq);
        masked[r * c.sk + k] =
            c.causal &&
            (k > diagonal || (c.window > 0 && k <= diagonal - c.window));
        if (masked[r * c.sk + k])
          x[r * c.sk + k] = NAN;
        else
          top = std::max(top, double(x[r * c.sk + k]));
      }
      for (int64_t k = 0; k < c.sk; ++k)
        if (!masked[r * c.sk + k])
          sum += std::exp(double(x[r * c.sk + k]) - top);
      for (int64_t k = 0; k < c.sk; ++k)
        if (!masked[r * c.sk + k])
          wanted[r * c.sk + k] = std::exp(double(x[r * c.sk + k]) - top) / sum;
    }
    Buffer in(ctx, x), out(ctx, count * sizeof(float));
    CHECK_OK(ctx, mp_softmax_f32(ctx, c.batch, c.sq, c.sk, c.causal, c.window,
                                 in.floats(), out.floats()));
    std::vector<float> y = out.read();
    bool maskedZero = true;
    for (int64_t i = 0; i < count; ++i)
      maskedZero = maskedZero && (!masked[i] || y[i] == 0.0f);
    std::string what = std::string(c.causal ? "causal " : "") + "softmax of " +
                       std::to_string(c.batch) + " x " + std::to_string(c.sq) +
                       " x " + std::to_string(c.sk) +
                       (c.window ? " window " + std::to_string(c.window) : "");
    expect(closeTo(y, wanted) && maskedZero, what);
    // dx = y · (g - Σ g · y), in place of g.
    std::vector<float> g = makeValues(count, 5);
    std::vector<double> dxWanted(count);
    for (int64_t r = 0; r < rows; ++r) {
      double dot = 0;
      for (int64_t k = 0; k < c.sk; ++k)
        dot += double(g[r * c.sk + k]) * double(y[r * c.sk + k]);
      for (int64_t k = 0; k < c.sk; ++k)
        dxWanted[r * c.sk + k] =
            double(y[r * c.sk + k]) * (double(g[r * c.sk + k]) - dot);
    }
    Buffer gBuffer(ctx, g);
    CHECK_OK(ctx, mp_softmax_grad_f32(ctx, rows, c.sk, out.floats(),
                                      gBuffer.floats(), gBuffer.floats()));
    expect(closeTo(gBuffer.read(), dxWanted), what + " gradient in place");
  }
}

/// Whether this run's backend runs attention of these head dims as on-chip
/// kernels (up to the kernels' largest, 128, in bf16 and tf32 on an H100's
/// or H200's shared memory, which the CUDA emulation has), unless the
/// environment asks for the composition.
bool runsAttentionOnChip(mp_precision precision, int64_t headDim,
                         int64_t valueDim) {
  auto envIs = [](const char *name, const char *value) {
    const char *set = std::getenv(name);
    return set && std::strcmp(set, value) == 0;
  };
  return backend == MP_BACKEND_CUDA &&
         (precision == MP_PRECISION_BF16 ||
          (precision == MP_PRECISION_TF32 &&
           !envIs("NVIDIA_TF32_OVERRIDE", "0"))) &&
         std::max(headDim, valueDim) <= 128 &&
         !envIs("MP_CUDA_ATTENTION", "composed");
}

/// Attention in chunks of query rows (fp32 GEMMs) against a float64
/// reference of softmax(scale · q · kᵀ) · v, the rows' log-sum-exp and the
/// gradients (from the call's own output and log-sum-exp), causal or
/// not, with more keys than queries, fewer (rows and whole chunks that see
/// no key are zeros), chunks that do not divide the rows, groups of query
/// matrices sharing their keys and values, and sliding windows (shorter
/// than a chunk, across chunks, of two keys), soft-capped scores
/// (Gemma 2's) and ALiBi's bias (BLOOM's slopes; chunks from a window's
/// first key add it from there); on the host, one chunk gives the unfused
/// calls' values bit for bit, in fp32 and bf16, with ALiBi too.
void testAttention(mp_context *ctx) {
  struct Case {
    int64_t batch, group, sq, sk, headDim, valueDim, chunk;
    bool causal;
    int64_t window = 0;
    float softcap = 0;
    int64_t alibiHeads = 0;
    bool alibiBf16 = false;
  };
  const Case cases[] = {{3, 1, 5, 5, 4, 3, 2, true},
                        {2, 1, 3, 6, 4, 2, 1, true},
                        {2, 1, 6, 3, 2, 3, 4, true},
                        {1, 1, 6, 2, 3, 2, 2, true},
                        {2, 1, 4, 7, 5, 4, 3, false},
                        {2, 1, 9, 9, 8, 8, 9, true},
                        {6, 3, 5, 5, 4, 3, 2, true},
                        {4, 2, 4, 7, 5, 4, 3, false},
                        {6, 3, 5, 5, 4, 3, 5, true},
                        {4, 2, 4, 7, 5, 4, 4, false},
                        {4, 2, 130, 100, 64, 32, 130, true},
                        {2, 2, 70, 90, 128, 128, 70, true},
                        {2, 1, 9, 9, 8, 8, 3, true, 4},
                        {6, 3, 5, 5, 4, 3, 2, true, 2},
                        {2, 1, 6, 3, 2, 3, 4, true, 2},
                        {2, 1, 3, 6, 4, 2, 1, true, 3},
                        {2, 1, 7, 7, 4, 4, 7, true, 2},
                        {4, 2, 130, 100, 64, 32, 130, true, 50},
                        {2, 1, 130, 130, 16, 16, 32, true, 40},
                        {3, 1, 5, 5, 4, 3, 2, true, 0, 2},
                        {4, 2, 4, 7, 5, 4, 3, false, 0, 1.5f},
                        {2, 1, 9, 9, 8, 8, 3, true, 4, 3},
                        {4, 2, 130, 100, 64, 32, 130, true, 0, 8},
                        {2, 1, 130, 130, 16, 16, 32, true, 40, 4},
                        {3, 1, 5, 5, 4, 3, 2, true, 0, 0, 3},
                        {4, 2, 4, 7, 5, 4, 3, false, 0, 0, 2},
                        {6, 3, 5, 5, 4, 3, 2, true, 2, 0, 6},
                        {2, 1, 9, 9, 8, 8, 3, true, 4, 0, 2},
                        {4, 2, 130, 100, 64, 32, 130, true, 50, 0, 4},
                        {6, 1, 130, 130, 16, 16, 32, true, 40, 0, 3},
                        {3, 1, 5, 5, 4, 3, 2, true, 0, 0, 3, true},
                        {4, 2, 4, 7, 5, 4, 3, false, 0, 0, 2, true},
                        {6, 3, 5, 5, 4, 3, 2, true, 2, 0, 6, true},
                        {2, 1, 9, 9, 8, 8, 3, true, 4, 0, 2, true},
                        {6, 1, 130, 130, 16, 16, 32, true, 40, 0, 3, true}};
  for (const Case &c : cases) {
    int64_t keyMatrices = c.batch / c.group;
    int64_t qCount = c.batch * c.sq * c.headDim,
            kCount = keyMatrices * c.sk * c.headDim,
            vCount = keyMatrices * c.sk * c.valueDim,
            oCount = c.batch * c.sq * c.valueDim;
    double scale = 0.7;
    std::vector<float> q = makeValues(qCount, 1), k = makeValues(kCount, 2),
                       v = makeValues(vCount, 3), g = makeValues(oCount, 4);
    std::vector<float> slopes(std::max<int64_t>(c.alibiHeads, 1));
    for (int64_t h = 0; h < c.alibiHeads; ++h)
      slopes[h] = float(mp_alibi_slope(h, c.alibiHeads, 8.0));
    // The reference, in float64.
    std::vector<double> out(oCount, 0), lse(c.batch * c.sq, -INFINITY),
        dq(qCount, 0), dk(kCount, 0), dv(vCount, 0);
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t i = 0; i < c.sq; ++i) {
        // Row i sees keys [start, seen).
        int64_t seen =
            c.causal ? std::clamp<int64_t>(i + c.sk - c.sq + 1, 0, c.sk) : c.sk;
        int64_t start = c.window ? std::max<int64_t>(seen - c.window, 0) : 0;
        if (seen == 0)
          continue;
        std::vector<double> p(seen), dp(seen), slope(seen, 1);
        double top = -INFINITY, sum = 0, dot = 0;
        for (int64_t j = start; j < seen; ++j) {
          double score = 0;
          for (int64_t e = 0; e < c.headDim; ++e)
            score += double(q[(b * c.sq + i) * c.headDim + e]) *
                     double(k[(b / c.group * c.sk + j) * c.headDim + e]);
          // Falcon's bias in bfloat16, on the unscaled score.
          if (c.alibiBf16)
            score += bf16(bf16(slopes[b % c.alibiHeads]) * bf16(float(j)));
          p[j] = score * scale;
          if (c.softcap) {
            double t = std::tanh(p[j] / c.softcap);
            p[j] = c.softcap * t;
            slope[j] = 1 - t * t;
          }
          if (c.alibiHeads && !c.alibiBf16)
            p[j] += double(slopes[b % c.alibiHeads]) * double(j);
          top = std::max(top, p[j]);
        }
        for (int64_t j = start; j < seen; ++j)
          sum += (p[j] = std::exp(p[j] - top));
        lse[b * c.sq + i] = top + std::log(sum);
        for (int64_t j = start; j < seen; ++j) {
          p[j] /= sum;
          for (int64_t e = 0; e < c.valueDim; ++e) {
            double gradient = g[(b * c.sq + i) * c.valueDim + e];
            out[(b * c.sq + i) * c.valueDim + e] +=
                p[j] * double(v[(b / c.group * c.sk + j) * c.valueDim + e]);
            dp[j] +=
                gradient * double(v[(b / c.group * c.sk + j) * c.valueDim + e]);
            dv[(b / c.group * c.sk + j) * c.valueDim + e] += p[j] * gradient;
          }
          dot += dp[j] * p[j];
        }
        for (int64_t j = start; j < seen; ++j) {
          double ds = p[j] * (dp[j] - dot) * slope[j] * scale;
          for (int64_t e = 0; e < c.headDim; ++e) {
            dq[(b * c.sq + i) * c.headDim + e] +=
                ds * double(k[(b / c.group * c.sk + j) * c.headDim + e]);
            dk[(b / c.group * c.sk + j) * c.headDim + e] +=
                ds * double(q[(b * c.sq + i) * c.headDim + e]);
          }
        }
      }
    Buffer qB(ctx, q), kB(ctx, k), vB(ctx, v), gB(ctx, g), slopesB(ctx, slopes),
        oB(ctx, oCount * sizeof(float)),
        lseB(ctx, c.batch * c.sq * sizeof(float)),
        dqB(ctx, qCount * sizeof(float)), dkB(ctx, kCount * sizeof(float)),
        dvB(ctx, vCount * sizeof(float));
    // A chunk's scores: its rows by the keys they see, under a window its
    // rows + window - 1 at most.
    int64_t chunkKeys =
        c.window ? std::min(c.sk, std::min(c.chunk, c.sq) + c.window - 1)
                 : c.sk;
    int64_t scoreBytes =
        c.batch * std::min(c.chunk, c.sq) * chunkKeys * int64_t(sizeof(float));
    // Relative to the largest entry: float roundings in fp32; in bf16 and
    // tf32 (on CUDA the on-chip kernels, where the scratch holds a float
    // per row) q and k rounded to bf16 move these large scores by
    // tenths, which the softmax amplifies (2.3e-2 at most on the host);
    // tf32 keeps 3 more bits.
    for (mp_precision precision :
         {MP_PRECISION_FP32, MP_PRECISION_TF32, MP_PRECISION_BF16}) {
      bool fp32 = precision == MP_PRECISION_FP32;
      auto close = [&](const Buffer &got, const std::vector<double> &want,
                       double tol) {
        return closeToLargest(got.read(), want,
                              fp32                             ? tol
                              : precision == MP_PRECISION_TF32 ? 2e-2
                                                               : 6e-2);
      };
      std::string what =
          std::string(fp32                             ? "fp32 "
                      : precision == MP_PRECISION_TF32 ? "tf32 "
                                                       : "bf16 ") +
          (c.causal ? "causal " : "") +
          (c.window ? "window " + std::to_string(c.window) + " " : "") +
          (c.softcap ? "capped at " + std::to_string(c.softcap) + " " : "") +
          (c.alibiHeads
               ? std::string(c.alibiBf16 ? "Falcon's " : "") + "ALiBi over " +
                     std::to_string(c.alibiHeads) + " heads "
               : "") +
          "attention " + std::to_string(c.batch) + " x " +
          std::to_string(c.sq) + " x " + std::to_string(c.sk) + " (groups of " +
          std::to_string(c.group) + ") in chunks of " + std::to_string(c.chunk);
      // The scratch a compiled step plans (the scores, then the GEMMs'
      // workspace), and the bytes each call allocates beside it.
      int64_t scratchBytes[2];
      for (int gradient : {0, 1})
        scratchBytes[gradient] = mp_attention_scratch_bytes(
            backend, precision, gradient, c.batch, c.group, c.sq, c.sk,
            c.headDim, c.valueDim, c.causal, c.window, c.chunk, MP_DTYPE_F32,
            MP_DTYPE_F32, MP_DTYPE_F32, MP_DTYPE_F32);
      expect(scratchBytes[0] >= scoreBytes && scratchBytes[1] >= 2 * scoreBytes,
             what + ": the scratch holds the scores");
      // Windowed, of a chunk's scores no more than it computes.
      if (chunkKeys < c.sk)
        expect(scratchBytes[1] < mp_attention_scratch_bytes(
                                     backend, precision, 1, c.batch, c.group,
                                     c.sq, c.sk, c.headDim, c.valueDim,
                                     c.causal, 0, c.chunk, MP_DTYPE_F32,
                                     MP_DTYPE_F32, MP_DTYPE_F32, MP_DTYPE_F32),
               what + ": less scratch than without the window");
      Buffer scratch(ctx,
                     std::max({scratchBytes[0], scratchBytes[1], int64_t(1)}));
      const float *slopesOrNull = c.alibiHeads ? slopesB.floats() : nullptr;
      auto attention = [&](int64_t forwardBytes, int64_t gradientBytes) {
        int64_t own[2];
        for (int gradient : {0, 1}) {
          PeakPad pad(ctx);
          size_t live = mp_live_bytes(ctx);
          if (gradient)
            CHECK_OK(ctx,
                     mp_attention_grad_f32(
                         ctx, precision, c.batch, c.group, c.sq, c.sk,
                         c.headDim, c.valueDim, scale, c.softcap, c.causal,
                         c.window, c.chunk, c.alibiHeads, slopesOrNull,
                         c.alibiBf16, MP_DTYPE_F32, qB.floats(), MP_DTYPE_F32,
                         kB.floats(), MP_DTYPE_F32, vB.floats(), MP_DTYPE_F32,
                         oB.floats(), lseB.floats(), gB.floats(), dqB.floats(),
                         dkB.floats(), dvB.floats(), scratch.floats(),
                         gradientBytes));
          else
            CHECK_OK(ctx, mp_attention_f32(
                              ctx, precision, c.batch, c.group, c.sq, c.sk,
                              c.headDim, c.valueDim, scale, c.softcap, c.causal,
                              c.window, c.chunk, c.alibiHeads, slopesOrNull,
                              c.alibiBf16, MP_DTYPE_F32, qB.floats(),
                              MP_DTYPE_F32, kB.floats(), MP_DTYPE_F32,
                              vB.floats(), MP_DTYPE_F32, oB.floats(),
                              lseB.floats(), scratch.floats(), forwardBytes));
          CHECK_OK(ctx, mp_context_status(ctx));
          own[gradient] = int64_t(mp_peak_bytes(ctx) - live);
        }
        return std::pair(own[0], own[1]);
      };
      // The outputs start as NaN: every entry is written.
      for (Buffer *out : {&oB, &lseB, &dqB, &dkB, &dvB})
        out->fillNaN();
      auto [forwardOwn, gradientOwn] =
          attention(scratchBytes[0], scratchBytes[1]);
      expect(forwardOwn == 0 && gradientOwn == 0,
             what + ": in mp_attention_scratch_bytes, nothing of its own (" +
                 std::to_string(forwardOwn) + " and " +
                 std::to_string(gradientOwn) + " bytes)");
      expect(close(oB, out, 3e-5), what);
      // A row that sees no key has -inf exactly; the others are close.
      std::vector<float> gotLse = lseB.read();
      std::vector<double> finiteLse = lse;
      bool infinitiesMatch = true;
      for (size_t i = 0; i < lse.size(); ++i)
        if (std::isinf(lse[i])) {
          infinitiesMatch &= gotLse[i] == lse[i];
          gotLse[i] = finiteLse[i] = 0;
        }
      expect(infinitiesMatch &&
                 closeToLargest(gotLse, finiteLse,
                                fp32                             ? 1e-6
                                : precision == MP_PRECISION_TF32 ? 2e-2
                                                                 : 6e-2),
             what + ": log-sum-exp");
      expect(close(dqB, dq, 1e-4) && close(dkB, dk, 1e-4) &&
                 close(dvB, dv, 1e-4),
             what + ": gradients");
      // Given the scores' room only, the GEMMs take the rest themselves,
      // counted, and compute the same bits.
      std::vector<uint32_t> planned[5];
      Buffer *outputs[5] = {&oB, &lseB, &dqB, &dkB, &dvB};
      for (int i = 0; i < 5; ++i)
        planned[i] = outputs[i]->read<uint32_t>();
      std::tie(forwardOwn, gradientOwn) = attention(scoreBytes, 2 * scoreBytes);
      bool same = true;
      for (int i = 0; i < 5; ++i)
        same &= outputs[i]->read<uint32_t>() == planned[i];
      expect(same, what + ": the same bits without the GEMMs' workspace");
      expect(forwardOwn <= scratchBytes[0] - scoreBytes &&
                 gradientOwn <= scratchBytes[1] - 2 * scoreBytes,
             what + ": without the workspace, at most its bytes of its own (" +
                 std::to_string(forwardOwn) + " and " +
                 std::to_string(gradientOwn) + " bytes)");
      // The host converts bf16 operands whatever the shapes.
      if (backend == MP_BACKEND_HOST && precision == MP_PRECISION_BF16)
        expect(forwardOwn > 0 && gradientOwn > 0,
               what + ": without the workspace, its own, counted");
      // Given the on-chip kernels' scratch (none forward, a float per row
      // for the gradient), as a step planned for CUDA passes: on chip
      // (CUDA in bf16 and tf32 up to head dim 128 on an H100's or H200's
      // shared memory, which the emulation has)
      // nothing of its own; composed, the scores of its own, counted. The
      // same bits either way.
      std::tie(forwardOwn, gradientOwn) =
          attention(mp_attention_on_chip_scratch_bytes(0, c.batch, c.sq),
                    mp_attention_on_chip_scratch_bytes(1, c.batch, c.sq));
      same = true;
      for (int i = 0; i < 5; ++i)
        same &= outputs[i]->read<uint32_t>() == planned[i];
      expect(same, what + ": the same bits given the on-chip scratch");
      if (runsAttentionOnChip(precision, c.headDim, c.valueDim))
        expect(forwardOwn == 0 && gradientOwn == 0,
               what + ": on chip, nothing of its own (" +
                   std::to_string(forwardOwn) + " and " +
                   std::to_string(gradientOwn) + " bytes)");
      else
        expect(forwardOwn >= scoreBytes && gradientOwn >= 2 * scoreBytes,
               what +
                   ": composed on the on-chip scratch, the scores of its "
                   "own, counted (" +
                   std::to_string(forwardOwn) + " and " +
                   std::to_string(gradientOwn) + " bytes)");
    }
  }

  // One chunk, unmasked: the unfused calls' values, bit for bit (the same
  // GEMMs and softmax, and mp_alibi_f32's bias, one head per query matrix,
  // of slopes whose products with the keys round; Falcon's, in bfloat16,
  // before the scale), in fp32 and in bf16 (which rounds q, k, the
  // probabilities and v alike).
  if (backend != MP_BACKEND_HOST)
    return;
  const int64_t batch = 2, sq = 6, sk = 5, d = 4;
  std::vector<float> q = makeValues(batch * sq * d, 5),
                     k = makeValues(batch * sk * d, 6),
                     v = makeValues(batch * sk * d, 7);
  Buffer qB(ctx, q), kB(ctx, k), vB(ctx, v),
      slopes(ctx, std::vector<float>{0.3f, 0.7f}),
      scores(ctx, batch * sq * sk * sizeof(float)),
      lse(ctx, batch * sq * sizeof(float)),
      fused(ctx, batch * sq * d * sizeof(float)),
      unfused(ctx, batch * sq * d * sizeof(float));
  enum class Alibi { none, scaled, falcon };
  for (mp_precision precision : {MP_PRECISION_FP32, MP_PRECISION_BF16})
    for (Alibi alibi : {Alibi::none, Alibi::scaled, Alibi::falcon}) {
      int64_t alibiHeads = alibi == Alibi::none ? 0 : 2;
      bool falcon = alibi == Alibi::falcon;
      CHECK_OK(ctx, mp_attention_f32(ctx, precision, batch, 1, sq, sk, d, d,
                                     0.5f, 0.0f, 0, 0, sq, alibiHeads,
                                     alibiHeads ? slopes.floats() : nullptr,
                                     falcon, MP_DTYPE_F32, qB.floats(),
                                     MP_DTYPE_F32, kB.floats(), MP_DTYPE_F32,
                                     vB.floats(), MP_DTYPE_F32, fused.floats(),
                                     lse.floats(), scores.floats(),
                                     batch * sq * sk * sizeof(float)));
      CHECK_OK(ctx, mp_gemm_batched_f32(
                        ctx, precision, MP_DTYPE_F32, MP_DTYPE_F32, 0, 1, batch,
                        sq, sk, d, falcon ? 1.0f : 0.5f, qB.floats(), sq * d,
                        kB.floats(), sk * d, 0, MP_DTYPE_F32, scores.floats(),
                        sq * sk, nullptr, 0));
      if (alibiHeads)
        CHECK_OK(ctx, mp_alibi_f32(ctx, 1, alibiHeads, sq, sk, falcon,
                                   scores.floats(), slopes.floats(),
                                   scores.floats()));
      if (falcon)
        CHECK_OK(ctx, mp_unary_f32(ctx, MP_UNARY_SCALE, batch * sq * sk,
                                   MP_DTYPE_F32, scores.floats(), MP_DTYPE_F32,
                                   scores.floats(), 0.5, 0));
      CHECK_OK(ctx, mp_softmax_f32(ctx, batch, sq, sk, 0, 0, scores.floats(),
                                   scores.floats()));
      CHECK_OK(ctx, mp_gemm_batched_f32(ctx, precision, MP_DTYPE_F32,
                                        MP_DTYPE_F32, 0, 0, batch, sq, d, sk, 1,
                                        scores.floats(), sq * sk, vB.floats(),
                                        sk * d, 0, MP_DTYPE_F32,
                                        unfused.floats(), sq * d, nullptr, 0));
      expect(fused.read() == unfused.read(),
             std::string("one chunk of attention") +
                 (falcon       ? " with Falcon's ALiBi"
                  : alibiHeads ? " with ALiBi"
                               : "") +
                 " is the unfused calls' in " +
                 (precision == MP_PRECISION_BF16 ? "bf16" : "fp32"));
    }
}

/// The host's vectorized exp (softmax, cross entropy, exp, sigmoid, SiLU)
/// against std::exp: within 1 ulp in double over the softmaxes' arguments,
/// the same floats after rounding, and the edges.
void testVectorExp() {
  const int64_t n = 1 << 18;
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = float(-750.0 * double(i) / double(n - 1));
  std::vector<double> got(n);
  for (double shift : {0.0, -0.5, 3.25}) {
    mp::runtime::getExps(x.data(), n, shift, got.data());
    double worstUlps = 0;
    int64_t floatsDiffering = 0;
    for (int64_t i = 0; i < n; ++i) {
      double arg = double(x[i]) - shift, want = std::exp(arg);
      if (arg <= -708)
        want = 0;
      double ulp = std::nextafter(want, INFINITY) - want;
      worstUlps = std::max(worstUlps, std::fabs(got[i] - want) / ulp);
      floatsDiffering += float(got[i]) != float(want);
    }
    expect(worstUlps <= 1 && floatsDiffering == 0,
           "vectorized exp within 1 ulp of std::exp, shift " +
               std::to_string(shift) + " (" + std::to_string(worstUlps) +
               " ulp, " + std::to_string(floatsDiffering) + " floats differ)");
  }
  const float edges[] = {0.0f,   -0.0f,   1.0f,      -1.0f,    709.0f,
                         710.0f, -708.0f, -INFINITY, INFINITY, NAN};
  double out[std::size(edges)];
  mp::runtime::getExps(edges, std::size(edges), 0, out);
  auto withinUlp = [](double got, double want) {
    return std::fabs(got - want) <= std::nextafter(want, INFINITY) - want;
  };
  expect(out[0] == 1 && out[1] == 1 && withinUlp(out[2], std::exp(1.0)) &&
             withinUlp(out[3], std::exp(-1.0)) &&
             withinUlp(out[4], std::exp(709.0)) && out[5] == INFINITY &&
             out[6] == 0 && out[7] == 0 && out[8] == INFINITY &&
             std::isnan(out[9]),
         "vectorized exp at its edges");

  // exp, sigmoid and SiLU with it: the floats of the scalar formulas
  // (Elementwise.h's applyUnary, which the CUDA kernels compute too).
  std::vector<float> args;
  for (int64_t i = 0; i <= n; ++i)
    args.push_back(float(-120.0 + 240.0 * double(i) / double(n)));
  args.insert(args.end(), {0.0f, -0.0f, 1e-30f, -1e-30f, 88.7f, 89.0f, -104.0f,
                           710.0f, -710.0f, INFINITY, -INFINITY});
  for (mp_unary_op op : {MP_UNARY_EXP, MP_UNARY_SIGMOID, MP_UNARY_SILU}) {
    std::vector<float> vectorized(args.size());
    mp::runtime::applyExpUnary(op, args.data(), int64_t(args.size()),
                               vectorized.data());
    int64_t differing = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      float want = mp::runtime::applyUnary(op, args[i], 0, 0);
      differing += std::memcmp(&want, &vectorized[i], sizeof(float)) != 0;
    }
    expect(differing == 0, "vectorized unary op " + std::to_string(op) + ": " +
                               std::to_string(differing) +
                               " floats differ from applyUnary's");
  }
  std::vector<float> grads(args.size()), siluGrad(args.size());
  for (size_t i = 0; i < args.size(); ++i)
    grads[i] = float(0.5 + 0.25 * double(i % 7));
  mp::runtime::applySiluGrad(grads.data(), args.data(), int64_t(args.size()),
                             siluGrad.data());
  int64_t differing = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    float want =
        mp::runtime::applyBinary(MP_BINARY_SILU_GRAD, grads[i], args[i]);
    differing += std::memcmp(&want, &siluGrad[i], sizeof(float)) != 0;
  }
  expect(differing == 0, "vectorized silu_grad: " + std::to_string(differing) +
                             " floats differ from applyBinary's");
  std::vector<float> ups(args.size()), swiglu(args.size()),
      gateGrads(args.size()), upGrads(args.size());
  for (size_t i = 0; i < args.size(); ++i)
    ups[i] = float(-1.0 + 0.3 * double(i % 5));
  mp::runtime::applySwiglu(args.data(), ups.data(), int64_t(args.size()),
                           swiglu.data());
  mp::runtime::applySwigluGrad(grads.data(), args.data(), ups.data(),
                               int64_t(args.size()), gateGrads.data(),
                               upGrads.data());
  differing = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    float want[3], got[3] = {swiglu[i], gateGrads[i], upGrads[i]};
    double s = mp::runtime::sigmoid(args[i]);
    want[0] = mp::runtime::swiglu(args[i], ups[i], s);
    want[1] = mp::runtime::swigluGateGrad(grads[i], args[i], ups[i], s);
    want[2] = mp::runtime::swigluUpGrad(grads[i], args[i], s);
    differing += std::memcmp(want, got, sizeof want) != 0;
  }
  expect(differing == 0,
         "vectorized swiglu and its gradient: " + std::to_string(differing) +
             " elements differ from the scalar formulas");
}

/// The rotary embedding: values worked by hand, a float64 reference (cos
/// and sin rounded to float, as the header says), the inverse undoing the
/// rotation in place, and a size split among the host's threads; with
/// Llama 3.1's frequency scaling, pairs in each of its three ranges.
void testRope(mp_context *ctx) {
  // Positions 0, 1, 2 of one head of 4 (theta 10000): pair 0 turns by p
  // radians, pair 1 by p / 100. x = (1, 0, 0, 1) at every position.
  std::vector<float> x = {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1};
  Buffer in(ctx, x), out(ctx, x.size() * sizeof(float));
  CHECK_OK(ctx,
           mp_rope_f32(ctx, 1, 3, 1, 4, 4, 10000, nullptr, 1, nullptr, 1, 0,
                       MP_DTYPE_F32, in.floats(), MP_DTYPE_F32, out.floats()));
  expect(near(out.read(),
              {1, 0, 0, 1,                                        //
               0.5403023f, 0.84147098f, -0.0099998333f, 0.99995f, //
               -0.41614684f, 0.90929743f, -0.019998667f, 0.99980001f},
              1e-6f),
         "rope of (1, 0, 0, 1) at positions 0, 1, 2, by hand");

  // Scaled as Llama 3.1 (factor 8, low_freq_factor 1, high_freq_factor 4)
  // with an original context of 64: at head dim 8 and theta 100 the
  // wavelengths 2π / 100^(-2i/8) are 6.3 (kept), 19.9 and 62.8 (smoothed)
  // and 199 (divided by 8); at head dim 128 and theta 500000 they span
  // 6.3 to 2.6e6. The linear scaling (Gemma 3's factor 8) divides every
  // frequency, after Llama 3.1's where both are given. Partial rotation
  // (Phi-4-mini's 3/4 of each head) turns the first rotaryDims entries at
  // frequencies of rotaryDims and copies the rest; longrope (Phi-3.5's)
  // divides each pair's frequency by its factor and scales cos and sin.
  mp_rope_scaling llama3 = {8, 1, 4, 64};
  std::vector<double> longrope6 = {1.0, 1.25, 2.5, 4.0, 11.5, 31.0};
  std::vector<double> longrope2 = {1.5, 7.0};
  struct Case {
    int64_t outer, seq, heads, headDim;
    double theta;
    const mp_rope_scaling *scaling;
    double linear = 1;
    int64_t rotaryDims = 0; // 0: headDim
    const std::vector<double> *longrope = nullptr;
    double attentionFactor = 1;
  };
  auto rotaryDims = [](const Case &c) {
    return c.rotaryDims ? c.rotaryDims : c.headDim;
  };
  // The frequency of pair i, as the header says.
  auto llama3Frequency = [&](const Case &c, int64_t i) {
    double f = 1 / std::pow(c.theta, double(2 * i) / double(rotaryDims(c)));
    if (!c.scaling)
      return f;
    const mp_rope_scaling &s = *c.scaling;
    double w = 2 * M_PI / f;
    if (w < s.original_context / s.high_freq_factor)
      return f;
    if (w > s.original_context / s.low_freq_factor)
      return f / s.factor;
    double smooth = (s.original_context / w - s.low_freq_factor) /
                    (s.high_freq_factor - s.low_freq_factor);
    return (1 - smooth) * f / s.factor + smooth * f;
  };
  auto frequency = [&](const Case &c, int64_t i) {
    return llama3Frequency(c, i) / c.linear /
           (c.longrope ? (*c.longrope)[i] : 1);
  };
  for (Case c :
       {Case{2, 5, 3, 8, 500000, nullptr}, Case{2, 64, 4, 128, 10000, nullptr},
        Case{2, 5, 3, 8, 100, &llama3}, Case{1, 96, 2, 128, 500000, &llama3},
        Case{2, 9, 3, 8, 100, nullptr, 8}, Case{1, 7, 2, 8, 100, &llama3, 3},
        Case{2, 6, 3, 16, 100, nullptr, 1, 12},
        Case{1, 70, 2, 96, 10000, nullptr, 1, 96, nullptr, 1.19},
        Case{2, 9, 3, 16, 100, nullptr, 1, 12, &longrope6, 1.19},
        Case{1, 5, 2, 8, 100, &llama3, 2, 4, &longrope2, 0.75}}) {
    int64_t count = c.outer * c.seq * c.heads * c.headDim;
    int64_t pairs = rotaryDims(c) / 2;
    const double *longrope = c.longrope ? c.longrope->data() : nullptr;
    std::vector<float> values = makeValues(count, 6);
    Buffer data(ctx, values), rotated(ctx, count * sizeof(float));
    std::string what =
        "rope of " + std::to_string(c.outer) + " x " + std::to_string(c.seq) +
        " x " + std::to_string(c.heads) + " x " + std::to_string(c.headDim) +
        (c.scaling ? " scaled as Llama 3.1" : "") +
        (c.linear != 1 ? " scaled linearly" : "") +
        (c.rotaryDims ? " rotating " + std::to_string(c.rotaryDims) : "") +
        (c.longrope ? " with longrope factors" : "") +
        (c.attentionFactor != 1 ? " and attention factor" : "");
    for (int inverse = 0; inverse < 2; ++inverse) {
      // The entries past the rotated ones stay as they are.
      std::vector<double> wanted(values.begin(), values.end());
      for (int64_t o = 0; o < c.outer; ++o)
        for (int64_t p = 0; p < c.seq; ++p)
          for (int64_t h = 0; h < c.heads; ++h)
            for (int64_t i = 0; i < pairs; ++i) {
              double angle = double(p) * frequency(c, i);
              double cosine = float(std::cos(angle) * c.attentionFactor);
              double sine = float(std::sin(angle) * c.attentionFactor) *
                            (inverse ? -1 : 1);
              int64_t at = ((o * c.seq + p) * c.heads + h) * c.headDim + 2 * i;
              double x0 = values[at], x1 = values[at + 1];
              wanted[at] = x0 * cosine - x1 * sine;
              wanted[at + 1] = x0 * sine + x1 * cosine;
            }
      CHECK_OK(ctx,
               mp_rope_f32(ctx, c.outer, c.seq, c.heads, c.headDim,
                           rotaryDims(c), c.theta, c.scaling, c.linear,
                           longrope, c.attentionFactor, inverse, MP_DTYPE_F32,
                           data.floats(), MP_DTYPE_F32, rotated.floats()));
      expect(closeTo(rotated.read(), wanted),
             what + (inverse ? " inverse" : ""));
    }
    // Forward then inverse, both in place: back to x up to rounding, times
    // the attention factor squared on the rotated entries.
    for (int inverse = 0; inverse < 2; ++inverse)
      CHECK_OK(ctx,
               mp_rope_f32(ctx, c.outer, c.seq, c.heads, c.headDim,
                           rotaryDims(c), c.theta, c.scaling, c.linear,
                           longrope, c.attentionFactor, inverse, MP_DTYPE_F32,
                           data.floats(), MP_DTYPE_F32, data.floats()));
    std::vector<float> back = values;
    for (int64_t at = 0; at < count; ++at)
      if (at % c.headDim < 2 * pairs)
        back[at] = float(values[at] * c.attentionFactor * c.attentionFactor);
    expect(near(data.read(), back, 1e-5f),
           what + ": the inverse undoes it, in place");
  }
}

/// The embedding and its gradient: negative ids give zeros and add
/// nothing, ids that repeat add up; a size split among the host's threads.
void testEmbedding(mp_context *ctx) {
  struct Case {
    int64_t n, vocab, dim;
  };
  for (Case c : {Case{6, 5, 3}, Case{512, 50, 160}}) {
    std::vector<int64_t> ids;
    if (c.n == 6)
      ids = {2, -1, 0, 2, 4, -7};
    else
      for (int64_t i = 0; i < c.n; ++i)
        ids.push_back(i * 7 % 53 - 3);
    std::vector<float> table = makeValues(c.vocab * c.dim, 7),
                       grad = makeValues(c.n * c.dim, 8);
    std::vector<float> rows(c.n * c.dim, 0);
    std::vector<double> tableGrad(c.vocab * c.dim, 0);
    for (int64_t i = 0; i < c.n; ++i)
      for (int64_t j = 0; j < c.dim && ids[i] >= 0; ++j) {
        rows[i * c.dim + j] = table[ids[i] * c.dim + j];
        tableGrad[ids[i] * c.dim + j] += grad[i * c.dim + j];
      }
    Buffer idBuffer(ctx, ids), tableBuffer(ctx, table), gradBuffer(ctx, grad);
    Buffer out(ctx, std::vector<float>(c.n * c.dim, 77)),
        gradOut(ctx, std::vector<float>(c.vocab * c.dim, 77));
    CHECK_OK(ctx,
             mp_embedding_f32(ctx, c.n, c.vocab, c.dim, idBuffer.as<int64_t>(),
                              tableBuffer.floats(), out.floats()));
    std::string what = "embedding of " + std::to_string(c.n) + " ids in " +
                       std::to_string(c.vocab) + " x " + std::to_string(c.dim);
    expect(out.read() == rows, what);
    CHECK_OK(ctx, mp_embedding_grad_f32(ctx, c.n, c.vocab, c.dim,
                                        idBuffer.as<int64_t>(),
                                        gradBuffer.floats(), gradOut.floats()));
    // The CUDA kernel adds a row's terms with atomics, in whatever order
    // its blocks run: a sum that cancels is near zero but carries the
    // rounding of its terms, so the tolerance is the largest sum's.
    expect(closeToLargest(gradOut.read(), tableGrad, 1e-5), what + " gradient");
  }
}

/// An id at or past the vocab is an error naming the first such id and its
/// index; CUDA finds it in its kernel and reports it at the next
/// mp_copy_to_host, as it does cross entropy targets.
void testBadIds(mp_context *ctx) {
  Buffer ids(ctx, std::vector<int64_t>{0, -1, 7, 9, 5});
  Buffer table(ctx, std::vector<float>(5 * 2, 1));
  Buffer out(ctx, 5 * 2 * sizeof(float));
  for (bool gradient : {false, true}) {
    mp_context *failed = createLike(ctx);
    mp_context_set_op(failed, "mp.embedding at step.mlir:4:2");
    mp_status status =
        gradient ? mp_embedding_grad_f32(failed, 5, 5, 2, ids.as<int64_t>(),
                                         out.floats(), table.floats())
                 : mp_embedding_f32(failed, 5, 5, 2, ids.as<int64_t>(),
                                    table.floats(), out.floats());
    mp_context_set_op(failed, nullptr);
    float value = 0;
    if (status == MP_OK)
      status = mp_copy_to_host(failed, &value, out.floats(), sizeof(float));
    std::string call = gradient ? "mp_embedding_grad_f32" : "mp_embedding_f32";
    expect(status == MP_ERROR &&
               std::string(mp_context_error(failed)) ==
                   call + " failed on rank " +
                       std::to_string(mp_context_rank(ctx)) +
                       " (in mp.embedding at step.mlir:4:2): id 7 at index 2 "
                       "is not below the vocab size 5",
           call + ": an id past the vocab is an error naming the first");
    mp_context_destroy(failed);
  }
}

/// Whether the values are equal, NaN equal to NaN.
bool sameValues(const std::vector<float> &got, const std::vector<float> &want) {
  if (got.size() != want.size())
    return false;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i]))))
      return false;
  return true;
}

/// The block maxima against a loop: one block, several, an odd shape,
/// blocks of one entry, empty blocks (-inf), a NaN kept, and a size split
/// among the host's threads. A maximum is exact, so the results must be.
void testBlockMax(mp_context *ctx) {
  struct Case {
    int64_t rows, cols, blocks;
  };
  for (Case c : {Case{3, 8, 1}, Case{3, 8, 4}, Case{5, 21, 3}, Case{7, 9, 9},
                 Case{2, 0, 2}, Case{300, 1024, 4}}) {
    std::vector<float> x = makeValues(c.rows * c.cols, 9);
    for (float &v : x)
      v *= 3;
    // A NaN at the end of row 1, in its last block.
    if (c.cols > 0)
      x[2 * c.cols - 1] = NAN;
    int64_t width = c.cols / c.blocks;
    std::vector<float> wanted(c.rows * c.blocks, -INFINITY);
    for (int64_t r = 0; r < c.rows; ++r)
      for (int64_t b = 0; b < c.blocks; ++b)
        for (int64_t j = 0; j < width; ++j) {
          float v = x[r * c.cols + b * width + j];
          float &top = wanted[r * c.blocks + b];
          if (std::isnan(v) || v > top)
            top = v;
        }
    Buffer in(ctx, x), out(ctx, std::vector<float>(c.rows * c.blocks, 77));
    CHECK_OK(ctx, mp_block_max_f32(ctx, c.rows, c.cols, c.blocks, in.floats(),
                                   out.floats()));
    expect(sameValues(out.read(), wanted),
           "block max of " + std::to_string(c.rows) + " x " +
               std::to_string(c.cols) + " in " + std::to_string(c.blocks) +
               " blocks");
  }
}

/// ALiBi's slopes against BLOOM's build_alibi_tensor's construction (a base
/// per power of two, its powers) computed in double, for head counts that
/// are powers of two and between them, at BLOOM's max bias 8 and another;
/// and the bias against loops, in place and not, over more rows than the
/// host's threads.
void testAlibi(mp_context *ctx) {
  for (int64_t heads : {1, 4, 6, 12, 16, 33})
    for (double maxBias : {8.0, 3.0}) {
      int64_t closest = int64_t(1) << int64_t(std::floor(std::log2(heads)));
      std::vector<float> wanted;
      for (int64_t power = 1; power <= closest; ++power)
        wanted.push_back(float(std::pow(std::exp2(-maxBias / closest), power)));
      for (int64_t power = 1; int64_t(wanted.size()) < heads; power += 2)
        wanted.push_back(
            float(std::pow(std::exp2(-maxBias / (2 * closest)), power)));
      Buffer out(ctx, std::vector<float>(heads, 77));
      CHECK_OK(ctx, mp_alibi_slopes_f32(ctx, heads, maxBias, out.floats()));
      std::vector<float> got = out.read();
      bool close = true;
      for (int64_t h = 0; h < heads; ++h)
        close &= std::abs(got[h] - wanted[h]) <= 4e-7f * wanted[h];
      expect(close, "ALiBi slopes of " + std::to_string(heads) +
                        " heads, max bias " + std::to_string(maxBias));
    }
  CHECK_OK(ctx, mp_alibi_slopes_f32(ctx, 0, 8, nullptr));

  const int64_t shapes[][4] = {{2, 3, 2, 5}, {1, 2, 1, 4099}, {3, 1, 4, 1}};
  for (const int64_t *shape : shapes) {
    int64_t outer = shape[0], heads = shape[1], queries = shape[2],
            keys = shape[3];
    int64_t n = outer * heads * queries * keys;
    for (bool bf16Bias : {false, true}) {
      std::vector<float> scores(n), slopes(heads), wanted(n);
      for (int64_t h = 0; h < heads; ++h)
        slopes[h] = 0.3f / float(h + 1);
      for (int64_t i = 0; i < n; ++i) {
        scores[i] = float(i % 13) * 0.37f - 2.0f;
        float slope = slopes[i / keys / queries % heads], key = i % keys;
        // Each step rounded on its own, as no FMA contraction may fuse
        // them; Falcon's bias in bfloat16, its keys past 256 rounded too.
        float bias = bf16Bias ? bf16(bf16(slope) * bf16(key))
                              : float(double(slope) * double(key));
        wanted[i] = float(double(scores[i]) + double(bias));
      }
      std::string name =
          std::string(bf16Bias ? "bfloat16 " : "") + "ALiBi bias of [" +
          std::to_string(outer) + ", " + std::to_string(heads) + ", " +
          std::to_string(queries) + ", " + std::to_string(keys) + "]";
      Buffer in(ctx, scores), slope(ctx, slopes),
          out(ctx, std::vector<float>(n, 77));
      CHECK_OK(ctx, mp_alibi_f32(ctx, outer, heads, queries, keys, bf16Bias,
                                 in.floats(), slope.floats(), out.floats()));
      expect(sameValues(out.read(), wanted), name);
      CHECK_OK(ctx, mp_alibi_f32(ctx, outer, heads, queries, keys, bf16Bias,
                                 in.floats(), slope.floats(), in.floats()));
      expect(sameValues(in.read(), wanted), name + " in place");
    }
  }
  CHECK_OK(ctx, mp_alibi_f32(ctx, 2, 3, 0, 4, 1, nullptr, nullptr, nullptr));
}

/// The additive bias of a mask against a loop: 0 where kept (any non-zero,
/// negative too), the fill where dropped, -inf and a finite fill, over sizes
/// the host's threads split.
void testMaskBias(mp_context *ctx) {
  for (int64_t n : {1, 7, 4096 + 3})
    for (double fill : {double(-INFINITY), -1e9}) {
      std::vector<int64_t> mask(n);
      std::vector<float> wanted(n);
      for (int64_t i = 0; i < n; ++i) {
        mask[i] = i % 3 == 0 ? 0 : (i % 3 == 1 ? 1 : -5);
        wanted[i] = mask[i] != 0 ? 0.0f : static_cast<float>(fill);
      }
      Buffer in(ctx, mask), out(ctx, std::vector<float>(n, 77));
      CHECK_OK(ctx,
               mp_mask_bias_f32(ctx, n, in.as<int64_t>(), fill, out.floats()));
      expect(sameValues(out.read(), wanted),
             "mask bias of " + std::to_string(n) + " entries, fill " +
                 std::to_string(fill));
    }
}

/// The pick along the last dim and its adjoint against loops, with
/// negative indices (0, nothing written), no columns, and a size split
/// among the host's threads; gather undoes scatter, and <gather(x), g> =
/// <x, scatter(g)>.
void testGatherScatter(mp_context *ctx) {
  struct Case {
    int64_t rows, cols;
  };
  for (Case c : {Case{6, 5}, Case{3, 1}, Case{2, 0}, Case{70000, 3}}) {
    std::vector<int64_t> index;
    if (c.rows == 6)
      index = {2, -1, 0, 4, -3, 4};
    else
      for (int64_t r = 0; r < c.rows; ++r)
        index.push_back(r * 5 % (c.cols + 2) - 2);
    std::vector<float> x = makeValues(c.rows * c.cols, 10),
                       grad = makeValues(c.rows, 11);
    std::vector<float> picked(c.rows, 0), spread(c.rows * c.cols, 0),
        kept(c.rows, 0);
    for (int64_t r = 0; r < c.rows; ++r)
      if (index[r] >= 0) {
        picked[r] = x[r * c.cols + index[r]];
        spread[r * c.cols + index[r]] = grad[r];
        kept[r] = grad[r];
      }
    Buffer indexBuffer(ctx, index), xBuffer(ctx, x), gradBuffer(ctx, grad);
    Buffer out(ctx, std::vector<float>(c.rows, 77)),
        scattered(ctx, std::vector<float>(c.rows * c.cols, 77)),
        back(ctx, std::vector<float>(c.rows, 77));
    CHECK_OK(ctx, mp_gather_last_f32(ctx, c.rows, c.cols, xBuffer.floats(),
                                     indexBuffer.as<int64_t>(), out.floats()));
    std::string what = "gather along the last dim of " +
                       std::to_string(c.rows) + " x " + std::to_string(c.cols);
    std::vector<float> gathered = out.read();
    expect(gathered == picked, what);
    CHECK_OK(ctx,
             mp_scatter_last_f32(ctx, c.rows, c.cols, indexBuffer.as<int64_t>(),
                                 gradBuffer.floats(), scattered.floats()));
    std::vector<float> spreadOut = scattered.read();
    expect(spreadOut == spread, what + ": scatter");
    CHECK_OK(ctx, mp_gather_last_f32(ctx, c.rows, c.cols, scattered.floats(),
                                     indexBuffer.as<int64_t>(), back.floats()));
    expect(back.read() == kept, what + ": gather undoes scatter");
    double left = 0, right = 0;
    for (int64_t r = 0; r < c.rows; ++r)
      left += double(gathered[r]) * double(grad[r]);
    for (int64_t i = 0; i < c.rows * c.cols; ++i)
      right += double(x[i]) * double(spreadOut[i]);
    expect(std::fabs(left - right) <= 1e-9 * (1 + std::fabs(left)),
           what + ": scatter is the adjoint of gather");
  }
}

/// An index at or past the columns is an error naming the first such index
/// and its row; CUDA finds it in its kernel and reports it at the next
/// mp_copy_to_host, as it does embedding ids.
void testBadIndices(mp_context *ctx) {
  Buffer index(ctx, std::vector<int64_t>{0, -1, 7, 9, 5});
  Buffer x(ctx, std::vector<float>(5 * 5, 1)),
      grad(ctx, std::vector<float>(5, 1));
  Buffer picked(ctx, 5 * sizeof(float)), spread(ctx, 5 * 5 * sizeof(float));
  for (bool scatter : {false, true}) {
    mp_context *failed = createLike(ctx);
    mp_context_set_op(failed, "mp.gather at step.mlir:6:3");
    mp_status status =
        scatter ? mp_scatter_last_f32(failed, 5, 5, index.as<int64_t>(),
                                      grad.floats(), spread.floats())
                : mp_gather_last_f32(failed, 5, 5, x.floats(),
                                     index.as<int64_t>(), picked.floats());
    mp_context_set_op(failed, nullptr);
    float value = 0;
    if (status == MP_OK)
      status = mp_copy_to_host(failed, &value, picked.floats(), sizeof(float));
    std::string call = scatter ? "mp_scatter_last_f32" : "mp_gather_last_f32";
    expect(status == MP_ERROR &&
               std::string(mp_context_error(failed)) ==
                   call + " failed on rank " +
                       std::to_string(mp_context_rank(ctx)) +
                       " (in mp.gather at step.mlir:6:3): index 7 of row 2 "
                       "is not below the column count 5",
           call + ": an index past the columns is an error naming the first");
    mp_context_destroy(failed);
  }
}

/// The transformer calls reject what they cannot compute, naming why.
void testTransformerErrors(mp_context *ctx) {
  std::string onRank =
      " failed on rank " + std::to_string(mp_context_rank(ctx)) + ": ";
  Buffer x(ctx, std::vector<float>(8, 1)), y(ctx, 8 * sizeof(float));
  Buffer ids(ctx, std::vector<int64_t>{0, 1});
  auto expectError = [&](auto call, const std::string &message) {
    mp_context *failed = createLike(ctx);
    expect(call(failed) == MP_ERROR && message == mp_context_error(failed),
           message);
    mp_context_destroy(failed);
  };
  const float *in = x.floats();
  float *out = y.floats();
  expectError(
      [&](mp_context *c) {
        return mp_rms_norm_f32(c, -1, 2, 1e-5, MP_DTYPE_F32, in, in, 0,
                               MP_DTYPE_F32, out);
      },
      "mp_rms_norm_f32" + onRank + "negative rows -1");
  expectError(
      [&](mp_context *c) {
        return mp_rms_norm_f32(c, int64_t(1) << 62, 8, 1e-5, MP_DTYPE_F32, in,
                               in, 0, MP_DTYPE_F32, out);
      },
      "mp_rms_norm_f32" + onRank +
          "rows x dim = 4611686018427387904 x 8 overflows int64 bytes");
  expectError(
      [&](mp_context *c) {
        return mp_rms_norm_f32(c, 2, 2, 1e-5, MP_DTYPE_F32, in, in, 0,
                               MP_DTYPE_F32, x.floats() + 1);
      },
      "mp_rms_norm_f32" + onRank + "out overlaps x");
  expectError(
      [&](mp_context *c) {
        return mp_rms_norm_f32(c, 2, 2, 1e-5, MP_DTYPE_F32, in, in, NAN,
                               MP_DTYPE_F32, out);
      },
      "mp_rms_norm_f32" + onRank + "weight_offset must be finite, got nan");
  expectError(
      [&](mp_context *c) {
        return mp_rms_norm_grad_f32(c, 2, 2, 1e-5, MP_DTYPE_F32, in, in,
                                    INFINITY, MP_DTYPE_F32, in, out, nullptr,
                                    nullptr, 0);
      },
      "mp_rms_norm_grad_f32" + onRank +
          "weight_offset must be finite, got inf");
  expectError(
      [&](mp_context *c) {
        return mp_layer_norm_grad_f32(c, 2, 2, -1, MP_DTYPE_F32, in, in,
                                      MP_DTYPE_F32, in, out, out, out, nullptr,
                                      0);
      },
      "mp_layer_norm_grad_f32" + onRank + "eps must be 0 or more, got -1");
  expectError(
      [&](mp_context *c) {
        return mp_rms_norm_grad_f32(c, 2, 2, 1e-5, MP_DTYPE_F32, in, in, 0,
                                    MP_DTYPE_F32, in, nullptr, nullptr, nullptr,
                                    0);
      },
      "mp_rms_norm_grad_f32" + onRank +
          "dx and dweight are both null: nothing to compute");
  expectError(
      [&](mp_context *c) {
        return mp_layer_norm_grad_f32(c, 2, 2, 1e-5, MP_DTYPE_F32, in, in,
                                      MP_DTYPE_F32, in, out, out, nullptr,
                                      nullptr, 0);
      },
      "mp_layer_norm_grad_f32" + onRank +
          "dweight and dbias are computed together");
  expectError(
      [&](mp_context *c) {
        return mp_layer_norm_f32(c, 2, 2, 1e-5, MP_DTYPE_F32, in, in, nullptr,
                                 MP_DTYPE_F32, out);
      },
      "mp_layer_norm_f32" + onRank + "bias is null");
  expectError(
      [&](mp_context *c) {
        return mp_layer_norm_f32(c, 2, 2, 1e-5, MP_DTYPE_BF16, in, in, in,
                                 MP_DTYPE_F32, x.floats() + 1);
      },
      "mp_layer_norm_f32" + onRank + "out overlaps x");
  expectError(
      [&](mp_context *c) {
        return mp_softmax_f32(c, 1, 2, 4, 1, 0, nullptr, out);
      },
      "mp_softmax_f32" + onRank + "x is null");
  expectError(
      [&](mp_context *c) { return mp_softmax_f32(c, 1, 2, 2, 0, 1, in, out); },
      "mp_softmax_f32" + onRank +
          "window 1: a window is 0 (none) or positive and needs causal");
  expectError(
      [&](mp_context *c) { return mp_softmax_f32(c, 1, 2, 2, 1, -1, in, out); },
      "mp_softmax_f32" + onRank +
          "window -1: a window is 0 (none) or positive and needs causal");
  expectError(
      [&](mp_context *c) { return mp_softmax_grad_f32(c, 2, -4, in, in, out); },
      "mp_softmax_grad_f32" + onRank + "negative cols -4");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 1, 1, 2, 2, 1, 1, 1.0f,
                                0.0f, 1, 0, 0, 0, nullptr, 0, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank + "chunk must be positive, got 0");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(
            c, MP_PRECISION_FP32, 1, 1, 2, 2, 1, 1, INFINITY, 0.0f, 1, 0, 1, 0,
            nullptr, 0, MP_DTYPE_F32, in, MP_DTYPE_F32, in, MP_DTYPE_F32, in,
            MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank +
          "scale must be finite and nonzero, got inf");
  for (float softcap : {-1.0f, float(NAN), float(INFINITY)})
    expectError(
        [&](mp_context *c) {
          return mp_attention_grad_f32(
              c, MP_PRECISION_FP32, 1, 1, 2, 2, 1, 1, 1.0f, softcap, 1, 0, 1, 0,
              nullptr, 0, MP_DTYPE_F32, in, MP_DTYPE_F32, in, MP_DTYPE_F32, in,
              MP_DTYPE_F32, in, in, in, out, out, out, out, 32);
        },
        "mp_attention_grad_f32" + onRank +
            "softcap must be finite and not negative (0: none), got " +
            (softcap < 0           ? "-1"
             : std::isnan(softcap) ? "nan"
                                   : "inf"));
  expectError(
      [&](mp_context *c) {
        return mp_attention_grad_f32(
            c, MP_PRECISION_FP32, 1, 1, 2, 2, 1, 1, 1.0f, 0.0f, 1, 0, 1, 0,
            nullptr, 0, MP_DTYPE_F32, in, MP_DTYPE_F32, in, MP_DTYPE_F32, in,
            MP_DTYPE_F32, in, in, in, out, out, out, nullptr, 32);
      },
      "mp_attention_grad_f32" + onRank +
          "a workspace of 32 bytes at (nil) is none it can use");
  expectError(
      [&](mp_context *c) {
        int axis = 0;
        int64_t shape[] = {1};
        return mp_all_gather(c, &axis, 1, MP_DTYPE_F32, in, out, 1, shape, 0,
                             nullptr, 16);
      },
      "mp_all_gather" + onRank +
          "a workspace of 16 bytes at (nil) is none it can use");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 1, 1, 2, 2, 0, 1, 1.0f,
                                0.0f, 1, 0, 1, 0, nullptr, 0, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank +
          "head_dim and value_dim must be positive, got 0 and 1");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 3, 2, 2, 2, 1, 1, 1.0f,
                                0.0f, 1, 0, 1, 0, nullptr, 0, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank + "group 2 does not divide batch 3");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 3, 1, 2, 2, 1, 1, 1.0f,
                                0.0f, 1, 0, 1, 2, in, 0, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank +
          "alibi_heads 2 must be 0 or divide batch 3");
  expectError(
      [&](mp_context *c) {
        return mp_attention_grad_f32(
            c, MP_PRECISION_FP32, 2, 1, 2, 2, 1, 1, 1.0f, 30.0f, 1, 0, 1, 2, in,
            0, MP_DTYPE_F32, in, MP_DTYPE_F32, in, MP_DTYPE_F32, in,
            MP_DTYPE_F32, in, in, in, out, out, out, out, 32);
      },
      "mp_attention_grad_f32" + onRank +
          "takes alibi slopes or a softcap, not both");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 2, 1, 2, 2, 1, 1, 1.0f,
                                0.0f, 1, 0, 1, 0, nullptr, 1, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank + "alibi_bf16 without alibi slopes");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 2, 1, 2, 2, 1, 1, 1.0f,
                                0.0f, 1, 0, 1, 2, nullptr, 0, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank + "alibi_slopes is null");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 1, 1, 2, 2, 1, 1, 1.0f,
                                0.0f, 0, 2, 1, 0, nullptr, 0, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank +
          "window 2: a window is 0 (none) or positive and needs causal");
  expectError(
      [&](mp_context *c) {
        return mp_attention_grad_f32(
            c, MP_PRECISION_FP32, 1, 1, 2, 2, 1, 1, 1.0f, 0.0f, 1, -3, 1, 0,
            nullptr, 0, MP_DTYPE_F32, in, MP_DTYPE_F32, in, MP_DTYPE_F32, in,
            MP_DTYPE_F32, in, in, in, out, out, out, out, 32);
      },
      "mp_attention_grad_f32" + onRank +
          "window -3: a window is 0 (none) or positive and needs causal");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_FP32, 1, 1, 2, 2, 1, 1, 1.0f,
                                0.0f, 1, 0, 1, 0, nullptr, 0, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, nullptr, out, 32);
      },
      "mp_attention_f32" + onRank + "lse is null");
  expectError(
      [&](mp_context *c) {
        return mp_attention_f32(c, MP_PRECISION_TF32, 1, 1, 2, 2, 1, 1, 1.0f,
                                0.0f, 1, 0, 1, 0, nullptr, 0, MP_DTYPE_BF16, in,
                                MP_DTYPE_F32, in, MP_DTYPE_F32, in,
                                MP_DTYPE_F32, out, out, out, 32);
      },
      "mp_attention_f32" + onRank +
          "takes bfloat16 tensors in bf16 precision only");
  expectError(
      [&](mp_context *c) {
        return mp_attention_grad_f32(
            c, MP_PRECISION_BF16, 1, 1, 2, 2, 1, 1, 1.0f, 0.0f, 1, 0, 1, 0,
            nullptr, 0, MP_DTYPE_F32, in, MP_DTYPE_F32, in, MP_DTYPE_F32, in,
            MP_DTYPE_F64, in, in, in, out, out, out, out, 32);
      },
      "mp_attention_grad_f32" + onRank +
          "takes float32 and bfloat16 tensors, not dtype 1");
  expectError(
      [&](mp_context *c) {
        return mp_rope_f32(c, 1, 2, 1, 3, 3, 10000, nullptr, 1, nullptr, 1, 0,
                           MP_DTYPE_F32, in, MP_DTYPE_F32, out);
      },
      "mp_rope_f32" + onRank + "head_dim 3 is odd");
  expectError(
      [&](mp_context *c) {
        return mp_rope_f32(c, 1, 2, 1, 4, 4, 0, nullptr, 1, nullptr, 1, 0,
                           MP_DTYPE_F32, in, MP_DTYPE_F32, out);
      },
      "mp_rope_f32" + onRank + "theta must be positive, got 0");
  struct BadScaling {
    mp_rope_scaling scaling;
    const char *why;
  };
  for (BadScaling bad :
       {BadScaling{{8, 4, 4, 8192},
                   "high_freq_factor must be above low_freq_factor"},
        BadScaling{{8, 1, 4, INFINITY}, "every value must be finite"},
        BadScaling{{0, 1, 4, 8192},
                   "factor, low_freq_factor and "
                   "original_context must be positive"}})
    expectError(
        [&](mp_context *c) {
          return mp_rope_f32(c, 1, 2, 1, 4, 4, 10000, &bad.scaling, 1, nullptr,
                             1, 0, MP_DTYPE_F32, in, MP_DTYPE_F32, out);
        },
        "mp_rope_f32" + onRank + "llama3_scaling: " + bad.why);
  // The rotation's own refusals (mp_rope_rotation_problem), with the values.
  std::vector<double> factors = {1.0, 0.0};
  std::vector<double> manyFactors(MP_ROPE_MAX_LONGROPE_FACTORS + 1, 1.0);
  int64_t manyDims = 2 * int64_t(manyFactors.size());
  struct BadRotation {
    int64_t headDim, rotaryDims;
    double linear;
    const double *longrope;
    double attentionFactor;
    const char *why, *values;
  };
  for (const BadRotation &bad :
       {BadRotation{4, 4, 0, nullptr, 1,
                    "linear_scaling must be positive and finite",
                    "4 of head_dim 4, linear_scaling 0, attention_factor 1"},
        BadRotation{4, 4, INFINITY, nullptr, 1,
                    "linear_scaling must be positive and finite",
                    "4 of head_dim 4, linear_scaling inf, attention_factor "
                    "1"},
        BadRotation{4, 4, 1, nullptr, NAN,
                    "attention_factor must be positive and finite",
                    "4 of head_dim 4, linear_scaling 1, attention_factor "
                    "nan"},
        BadRotation{4, 4, 1, nullptr, -1,
                    "attention_factor must be positive and finite",
                    "4 of head_dim 4, linear_scaling 1, attention_factor "
                    "-1"},
        BadRotation{4, 6, 1, nullptr, 1,
                    "rotary_dims must be even, positive and at most "
                    "head_dim",
                    "6 of head_dim 4, linear_scaling 1, attention_factor 1"},
        BadRotation{4, 3, 1, nullptr, 1,
                    "rotary_dims must be even, positive and at most "
                    "head_dim",
                    "3 of head_dim 4, linear_scaling 1, attention_factor 1"},
        BadRotation{4, 0, 1, nullptr, 1,
                    "rotary_dims must be even, positive and at most "
                    "head_dim",
                    "0 of head_dim 4, linear_scaling 1, attention_factor 1"},
        BadRotation{4, 4, 1, factors.data(), 1,
                    "longrope_factors must be positive and finite",
                    "4 of head_dim 4, linear_scaling 1, attention_factor 1"},
        // More pairs with factors than the CUDA kernel's argument holds.
        BadRotation{manyDims, manyDims, 1, manyFactors.data(), 1,
                    "longrope_factors: more than "
                    "MP_ROPE_MAX_LONGROPE_FACTORS (256) pairs",
                    "514 of head_dim 514, linear_scaling 1, "
                    "attention_factor 1"}})
    expectError(
        [&](mp_context *c) {
          return mp_rope_f32(c, 1, 1, 1, bad.headDim, bad.rotaryDims, 10000,
                             nullptr, bad.linear, bad.longrope,
                             bad.attentionFactor, 0, MP_DTYPE_F32, in,
                             MP_DTYPE_F32, out);
        },
        "mp_rope_f32" + onRank + bad.why + " (rotary_dims " + bad.values + ")");
  expectError(
      [&](mp_context *c) {
        return mp_embedding_f32(c, 2, -5, 4, ids.as<int64_t>(), in, out);
      },
      "mp_embedding_f32" + onRank + "negative vocab -5");
  expectError(
      [&](mp_context *c) {
        return mp_embedding_grad_f32(c, 2, 2, 4, nullptr, in, out);
      },
      "mp_embedding_grad_f32" + onRank + "ids is null");
  expectError(
      [&](mp_context *c) {
        int axis = 0;
        return mp_localize_index(c, &axis, 1, 2, ids.as<int64_t>(),
                                 ids.as<int64_t>(), -1);
      },
      "mp_localize_index" + onRank + "negative extent -1");
  expectError(
      [&](mp_context *c) {
        int axes[] = {0, 0};
        return mp_localize_index(c, axes, 2, 2, ids.as<int64_t>(),
                                 ids.as<int64_t>(), 4);
      },
      "mp_localize_index" + onRank + "mesh axis 'a0' is listed twice");
  expectError(
      [&](mp_context *c) { return mp_alibi_slopes_f32(c, 2, 0, out); },
      "mp_alibi_slopes_f32" + onRank +
          "max_bias must be positive and finite, got 0");
  expectError(
      [&](mp_context *c) { return mp_alibi_slopes_f32(c, 2, NAN, out); },
      "mp_alibi_slopes_f32" + onRank +
          "max_bias must be positive and finite, got nan");
  expectError(
      [&](mp_context *c) { return mp_alibi_slopes_f32(c, -2, 8, out); },
      "mp_alibi_slopes_f32" + onRank + "negative heads -2");
  expectError(
      [&](mp_context *c) {
        return mp_alibi_f32(c, 1, 2, 2, 2, 0, in, nullptr, out);
      },
      "mp_alibi_f32" + onRank + "slopes is null");
  expectError(
      [&](mp_context *c) {
        return mp_alibi_f32(c, 1, 2, -2, 2, 1, in, in, out);
      },
      "mp_alibi_f32" + onRank + "negative queries -2");
  expectError(
      [&](mp_context *c) {
        return mp_iota_i64(c, 2, -3, 1, 0, ids.as<int64_t>());
      },
      "mp_iota_i64" + onRank + "negative extent -3");
  expectError(
      [&](mp_context *c) { return mp_iota_i64(c, 1, 2, 1, 0, nullptr); },
      "mp_iota_i64" + onRank + "out is null");
  expectError(
      [&](mp_context *c) {
        return mp_iota_i64(c, 1, 2, 1, -1, ids.as<int64_t>());
      },
      "mp_iota_i64" + onRank +
          "start -1 is negative, or its last entry (extent 2) overflows "
          "int64");
  expectError(
      [&](mp_context *c) {
        return mp_iota_i64(c, 1, 2, 1, INT64_MAX, ids.as<int64_t>());
      },
      "mp_iota_i64" + onRank + "start 9223372036854775807 is negative, or "
                               "its last entry (extent 2) overflows int64");
  expectError(
      [&](mp_context *c) {
        return mp_iota_i64(c, int64_t(1) << 40, int64_t(1) << 40, 1, 0,
                           ids.as<int64_t>());
      },
      "mp_iota_i64" + onRank +
          "outer x extent x inner = 1099511627776 x 1099511627776 x 1 "
          "overflows int64 bytes");

  // The vocab-parallel cross entropy's pieces.
  const int64_t *index = ids.as<int64_t>();
  expectError(
      [&](mp_context *c) { return mp_block_max_f32(c, 2, 4, -2, in, out); },
      "mp_block_max_f32" + onRank + "negative blocks -2");
  expectError(
      [&](mp_context *c) { return mp_block_max_f32(c, 2, 4, 0, in, out); },
      "mp_block_max_f32" + onRank + "blocks must be 1 or more, got 0");
  expectError(
      [&](mp_context *c) { return mp_block_max_f32(c, 2, 4, 3, in, out); },
      "mp_block_max_f32" + onRank + "cols 4 do not split into 3 equal blocks");
  expectError(
      [&](mp_context *c) { return mp_block_max_f32(c, 2, 4, 2, nullptr, out); },
      "mp_block_max_f32" + onRank + "x is null");
  expectError(
      [&](mp_context *c) { return mp_block_max_f32(c, 2, 4, 2, in, nullptr); },
      "mp_block_max_f32" + onRank + "out is null");
  expectError(
      [&](mp_context *c) {
        return mp_block_max_f32(c, 2, 4, 2, in, x.floats() + 4);
      },
      "mp_block_max_f32" + onRank + "out overlaps x");
  expectError(
      [&](mp_context *c) {
        return mp_gather_last_f32(c, 2, -4, in, index, out);
      },
      "mp_gather_last_f32" + onRank + "negative cols -4");
  expectError(
      [&](mp_context *c) {
        return mp_gather_last_f32(c, int64_t(1) << 60, 1, in, index, out);
      },
      "mp_gather_last_f32" + onRank +
          "rows = 1152921504606846976 overflows int64 bytes");
  expectError(
      [&](mp_context *c) {
        return mp_gather_last_f32(c, 2, 4, in, nullptr, out);
      },
      "mp_gather_last_f32" + onRank + "index is null");
  expectError(
      [&](mp_context *c) {
        return mp_gather_last_f32(c, 2, 4, in, index, x.floats() + 3);
      },
      "mp_gather_last_f32" + onRank + "out overlaps x");
  expectError(
      [&](mp_context *c) {
        return mp_gather_last_f32(c, 2, 4, in, index,
                                  reinterpret_cast<float *>(ids.as<int64_t>()));
      },
      "mp_gather_last_f32" + onRank + "out overlaps index");
  expectError(
      [&](mp_context *c) {
        return mp_scatter_last_f32(c, -1, 4, index, in, out);
      },
      "mp_scatter_last_f32" + onRank + "negative rows -1");
  expectError(
      [&](mp_context *c) {
        return mp_scatter_last_f32(c, 2, 4, index, nullptr, out);
      },
      "mp_scatter_last_f32" + onRank + "grad is null");
  expectError(
      [&](mp_context *c) {
        return mp_scatter_last_f32(c, 2, 4, index, in, nullptr);
      },
      "mp_scatter_last_f32" + onRank + "out is null");
  expectError(
      [&](mp_context *c) {
        return mp_scatter_last_f32(c, 2, 4, index, in + 2, x.floats());
      },
      "mp_scatter_last_f32" + onRank + "out overlaps grad");
  expectError(
      [&](mp_context *c) {
        return mp_scatter_last_f32(
            c, 2, 2, index, in, reinterpret_cast<float *>(ids.as<int64_t>()));
      },
      "mp_scatter_last_f32" + onRank + "out overlaps index");
}

/// The comma-separated names in `list`.
/// A step's kinds of work, for the graph checks: an arena allocated and
/// freed, elementwise kernels (exact on sixteenths), an all_reduce in place and
/// an all_gather along dim 1 (its pieces packed in scratch memory on the
/// communication stream) over the mesh's first axis. x, w, y: 2x4; gathered: 2
/// x 4*size. (GEMMs are captured in the trained step: cuda.test.)
mp_status runGraphWork(mp_context *ctx, const float *x, const float *w,
                       float *y, float *gathered) {
  int axis = 0;
  int64_t shape[] = {2, 4};
  auto *arena = static_cast<float *>(mp_alloc(ctx, 8 * sizeof(float)));
  mp_unary_f32(ctx, MP_UNARY_SCALE, 8, MP_DTYPE_F32, x, MP_DTYPE_F32, arena,
               0.5, 0);
  mp_binary_f32(ctx, MP_BINARY_MUL, 8, MP_DTYPE_F32, arena, MP_DTYPE_F32, w,
                MP_DTYPE_F32, y);
  mp_all_reduce(ctx, &axis, 1, MP_DTYPE_F32, y, 8);
  mp_all_gather(ctx, &axis, 1, MP_DTYPE_F32, y, gathered, 2, shape, 1, nullptr,
                0);
  mp_free(ctx, arena);
  return mp_context_status(ctx);
}

/// Whole-step capture (mp_graph_*). Where a context cannot capture (the
/// host backend, the CUDA mpi transport) it says why and refuses. Where it
/// can (CUDA over NCCL): capturing runs nothing, a replay gives bit for bit
/// what the eager calls gave, on what the buffers hold when it runs, and
/// what cannot be captured is refused naming the call and the op.
void testGraph(mp_context *ctx) {
  std::string onRank =
      " failed on rank " + std::to_string(mp_context_rank(ctx));
  const char *why = mp_graph_unavailable(ctx);
  if (backend == MP_BACKEND_HOST)
    expect(why && std::string(why) == "CUDA graphs need the cuda backend "
                                      "(this context runs on the host "
                                      "backend)",
           "the host backend cannot capture, and says so");
  if (why) {
    mp_context *refused = createLike(ctx);
    expect(mp_graph_begin_capture(refused) == MP_ERROR &&
               mp_context_error(refused) ==
                   "mp_graph_begin_capture" + onRank + ": " + why,
           "a capture where it is unavailable is refused, saying why");
    mp_context_destroy(refused);
    mp_context *nothing = createLike(ctx);
    expect(mp_graph_replay(nothing) == MP_ERROR &&
               mp_context_error(nothing) ==
                   "mp_graph_replay" + onRank + ": " + why,
           "so is a replay");
    mp_context_destroy(nothing);
    return;
  }

  mp_context *graphCtx = createLike(ctx);
  {
    int64_t size = mp_context_axis_size(graphCtx, 0);
    int rank = mp_context_rank(graphCtx);
    // Sixteenths: every product and sum below is exact, so results agree
    // bit for bit whatever order NCCL adds ranks' values in.
    auto values = [&](double seed) {
      std::vector<float> v = makeValues(8, seed + rank);
      for (float &e : v)
        e = std::round(e * 16) / 16;
      return v;
    };
    std::vector<float> xA = values(1), wA = values(2), xB = values(3),
                       wB = values(4);
    Buffer x(graphCtx, xA), w(graphCtx, wA), y(graphCtx, 8 * sizeof(float)),
        gathered(graphCtx, 8 * size * sizeof(float));
    auto run = [&] {
      CHECK_OK(graphCtx, runGraphWork(graphCtx, x.floats(), w.floats(),
                                      y.floats(), gathered.floats()));
    };
    // Eagerly first: the communicators are created here, as mp-train's
    // first step does.
    run();
    std::vector<float> yA = y.read(), gatheredA = gathered.read();
    x.write(xB);
    w.write(wB);
    run();
    std::vector<float> yB = y.read(), gatheredB = gathered.read();
    size_t live = mp_live_bytes(graphCtx);
    x.write(xA);
    w.write(wA);
    CHECK_OK(graphCtx, mp_graph_begin_capture(graphCtx));
    run();
    CHECK_OK(graphCtx, mp_graph_end_capture(graphCtx));
    expect(sameValues(y.read(), yB) && sameValues(gathered.read(), gatheredB),
           "a capture records the work without running it");
    expect(mp_live_bytes(graphCtx) == live,
           "the capture frees what it allocates");
    CHECK_OK(graphCtx, mp_graph_replay(graphCtx));
    expect(sameValues(y.read(), yA) && sameValues(gathered.read(), gatheredA),
           "a replay gives what the eager calls gave, bit for bit");
    x.write(xB);
    w.write(wB);
    CHECK_OK(graphCtx, mp_graph_replay(graphCtx));
    CHECK_OK(graphCtx, mp_graph_replay(graphCtx));
    expect(sameValues(y.read(), yB) && sameValues(gathered.read(), gatheredB),
           "a replay reads what its buffers hold when it runs");
    CHECK_OK(graphCtx, mp_graph_begin_capture(graphCtx));
    run();
    CHECK_OK(graphCtx, mp_graph_end_capture(graphCtx));
    x.write(xA);
    w.write(wA);
    CHECK_OK(graphCtx, mp_graph_replay(graphCtx));
    expect(sameValues(y.read(), yA) && sameValues(gathered.read(), gatheredA),
           "a second capture replaces the first");
  }
  mp_context_destroy(graphCtx);

  // A host copy inside a capture: refused, naming the op; ending the
  // capture keeps that error.
  mp_context *failed = createLike(ctx);
  {
    Buffer value(failed, std::vector<float>{1});
    float read = 0;
    CHECK_OK(failed, mp_graph_begin_capture(failed));
    mp_context_set_op(failed, "mp.loss at step.mlir:4:2");
    mp_status status = mp_copy_to_host(failed, &read, value.floats(), 4);
    mp_context_set_op(failed, nullptr);
    std::string error = mp_context_error(failed);
    expect(status == MP_ERROR &&
               error == "mp_copy_to_host" + onRank +
                            " (in mp.loss at step.mlir:4:2): a copy between "
                            "host and device memory cannot be captured in a "
                            "CUDA graph (it waits for the device): copy "
                            "before mp_graph_begin_capture or after "
                            "mp_graph_end_capture, outside the captured step",
           "a host copy inside a capture is refused, naming the op");
    expect(mp_graph_end_capture(failed) == MP_ERROR &&
               error == mp_context_error(failed),
           "ending a failed capture keeps its first error");
  }
  mp_context_destroy(failed);

  // A group first used inside a capture (its NCCL communicator would be
  // created there).
  failed = createLike(ctx);
  {
    Buffer data(failed, std::vector<float>{1});
    int axis = 0;
    CHECK_OK(failed, mp_graph_begin_capture(failed));
    mp_status status =
        mp_all_reduce(failed, &axis, 1, MP_DTYPE_F32, data.floats(), 1);
    mp_graph_end_capture(failed);
    expect(status == MP_ERROR &&
               std::string(mp_context_error(failed))
                       .find("ncclCommSplit" + onRank +
                             ": the group over mesh axes [a0] is first used "
                             "inside a CUDA graph capture") == 0,
           "a communicator is not created inside a capture");
  }
  mp_context_destroy(failed);

  // Memory allocated in a capture and kept; a replay with nothing captured.
  failed = createLike(ctx);
  CHECK_OK(failed, mp_graph_begin_capture(failed));
  size_t live = mp_live_bytes(failed);
  mp_alloc(failed, 64);
  expect(mp_graph_end_capture(failed) == MP_ERROR &&
             mp_live_bytes(failed) == live &&
             std::string(mp_context_error(failed))
                     .find("mp_graph_end_capture" + onRank +
                           ": 1 buffer(s) allocated by mp_alloc during the "
                           "capture were not freed in it") == 0,
         "memory a capture allocates must be freed in it");
  mp_context_destroy(failed);
  failed = createLike(ctx);
  expect(mp_graph_replay(failed) == MP_ERROR &&
             std::string(mp_context_error(failed))
                     .find("mp_graph_replay" + onRank +
                           ": nothing has been captured") == 0,
         "a replay needs a capture");
  mp_context_destroy(failed);
}

std::vector<std::string> splitList(const std::string &list) {
  std::vector<std::string> names;
  for (size_t begin = 0, end; begin <= list.size(); begin = end + 1) {
    end = std::min(list.find(',', begin), list.size());
    names.push_back(list.substr(begin, end - begin));
  }
  return names;
}

/// Sets the transport of the contexts created from now on (the runtime
/// checks the name when creating them).
void setTransport(const std::string &transport) {
  setenv(backend == MP_BACKEND_CUDA ? "MP_CUDA_TRANSPORT" : "MP_HOST_TRANSPORT",
         transport.c_str(), 1);
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  std::vector<std::string> names;
  std::vector<const char *> namePtrs;
  std::vector<int64_t> sizes;
  std::string transportList;
  const char *usage =
      "usage: %s [--backend host|cuda] [--transports T,...] axis=size...\n";
  int first = 1;
  for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
    std::string option = argv[first], value = argv[first + 1];
    if (option == "--backend") {
      if (value != "host" && value != "cuda") {
        std::fprintf(stderr, "--backend is host or cuda, not '%s'\n",
                     value.c_str());
        return 2;
      }
      backend = value == "cuda" ? MP_BACKEND_CUDA : MP_BACKEND_HOST;
    } else if (option == "--transports") {
      transportList = value;
    } else {
      std::fprintf(stderr, usage, argv[0]);
      return 2;
    }
  }
  if (transportList.empty())
    transportList = backend == MP_BACKEND_CUDA ? "nccl,mpi" : "mpi,staged";
  std::vector<std::string> transports = splitList(transportList);
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, usage, argv[0]);
      return 2;
    }
    names.push_back(arg.substr(0, eq));
    sizes.push_back(std::atoll(arg.c_str() + eq + 1));
  }
  for (const std::string &name : names)
    namePtrs.push_back(name.c_str());
  mp_context *ctx = nullptr;
  setTransport(transports[0]);
  if (mp_context_create(names.size(), namePtrs.data(), sizes.data(), backend,
                        &ctx) != MP_OK) {
    std::fprintf(stderr, "%s\n", mp_context_error(ctx));
    mp_context_destroy(ctx);
    MPI_Finalize();
    return 1;
  }
  // A fresh context holds what its backend reserves for its life (CUDA's
  // cuBLAS workspace, partial sums and fault record), counted.
  expect(mp_live_bytes(ctx) ==
                 static_cast<size_t>(mp_backend_reserved_bytes(backend)) &&
             mp_peak_bytes(ctx) == mp_live_bytes(ctx),
         "a fresh context holds mp_backend_reserved_bytes (" +
             std::to_string(mp_backend_reserved_bytes(backend)) +
             "), counted: live " + std::to_string(mp_live_bytes(ctx)));
  int numAxes = mp_context_num_axes(ctx);
  // Every ordered list of one or two axes.
  std::vector<Group> groups;
  for (int a = 0; a < numAxes; ++a) {
    groups.push_back(makeGroup(ctx, {a}));
    for (int b = 0; b < numAxes; ++b)
      if (b != a)
        groups.push_back(makeGroup(ctx, {a, b}));
  }
  for (const Group &g : groups) {
    testCollectives(ctx, g);
    testGroupedCollectives(ctx, g);
    testDimPieces(ctx, g);
    testZeroPadding(ctx, g);
    testLocalizeIndex(ctx, g);
  }
  // No axes: the whole dim is valid.
  testZeroPadding(ctx, makeGroup(ctx, {}));
  testLocalizeIndex(ctx, makeGroup(ctx, {}));
  testIota(ctx);
  testAlibi(ctx);
  testGemm(ctx);
  testGemmWithoutC(ctx);
  testWorkspace(ctx);
  testBatchedGemmAndCopy(ctx);
  testAdamW(ctx);
  testAdamWOuter(ctx);
  testSgdOuter(ctx);
  testKernels(ctx);
  testSwiglu(ctx);
  testBFloat16Storage(ctx);
  testLargeKernels(ctx);
  testReductions(ctx);
  testDimPieces();
  testResizeDim<float>(ctx, MP_DTYPE_F32);
  testResizeDim<int64_t>(ctx, MP_DTYPE_I64);
  testCopyDimRange<float>(ctx, MP_DTYPE_F32);
  testCopyDimRange<int64_t>(ctx, MP_DTYPE_I64);
  testErrors(ctx);
  testPaddingErrors(ctx);
  testCoalescedReductionErrors(ctx);
  testNorms(ctx);
  testSoftmax(ctx);
  testAttention(ctx);
  testVectorExp();
  testRope(ctx);
  testEmbedding(ctx);
  testBadIds(ctx);
  testBlockMax(ctx);
  testMaskBias(ctx);
  testGatherScatter(ctx);
  testBadIndices(ctx);
  testTransformerErrors(ctx);
  testGraph(ctx);
  // The collectives again over every other transport.
  for (size_t t = 1; t < transports.size(); ++t) {
    setTransport(transports[t]);
    mp_context *other = createLike(ctx);
    for (const Group &g : groups) {
      testCollectives(other, g);
      testGroupedCollectives(other, g);
    }
    mp_context_destroy(other);
  }

  int totalFailures = 0;
  MPI_Allreduce(&failures, &totalFailures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (mp_context_rank(ctx) == 0)
    std::printf("mp-runtime-test: %d checks on each of %d ranks, %d failed "
                "(collectives over %s)\n",
                checks, mp_context_world_size(ctx), totalFailures,
                transportList.c_str());
  mp_context_destroy(ctx);
  MPI_Finalize();
  return totalFailures == 0 ? 0 : 1;
}
