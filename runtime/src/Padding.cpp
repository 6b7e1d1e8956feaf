//===- Padding.cpp - row copies: uneven splits, chunks; validate, dispatch ===//
//
// A compiled step pads a piece to the common extent, runs an even
// collective and trims or re-zeros the result, and copies the chunks of a
// pipelined sum (mp.slice, mp.concat) where they are not views. These calls
// only copy and zero rows of the tensor seen as [outer][extent][inner],
// which are the backend's copy2D and zero2D. mp_localize_index maps global
// indices into the same pieces (an embedding's ids on the rank that holds their
// rows).
//
//===----------------------------------------------------------------------===//

#include "Context.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace mp::runtime;

namespace {

/// Fails on a negative dim or a size in bytes beyond int64, so that the
/// row arithmetic of DimView cannot overflow.
mp_status checkShape(mp_context *ctx, const char *call, int rank,
                     const int64_t *shape, size_t elementBytes) {
  int64_t bytes = static_cast<int64_t>(elementBytes);
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0)
      return fail(ctx, call, "dim %d has negative size %lld", d,
                  static_cast<long long>(shape[d]));
    if (__builtin_mul_overflow(bytes, shape[d], &bytes))
      return fail(ctx, call, "a tensor of rank %d overflows int64 bytes", rank);
  }
  return MP_OK;
}

/// Zeros entries [from, view.extent) of the view's dim in every outer slice.
mp_status zeroTail(mp_context *ctx, void *data, const DimView &view,
                   int64_t from) {
  if (from == view.extent || view.outer == 0 || view.inner == 0)
    return MP_OK;
  return ctx->backend->zero2D(static_cast<char *>(data) + view.rowBytes(from),
                              view.rowBytes(view.extent),
                              view.rowBytes(view.extent - from), view.outer);
}

/// This rank's piece of a dim of global extent `extent` split over the
/// group's axes: each axis chunks the previous level's padded piece, as
/// torch.chunk. Every rank holds `padded` entries; the first `valid` hold
/// the global entries from `offset` on (0 when none is valid).
struct Piece {
  int64_t padded, offset, valid;
};

Piece getPiece(const mp_context *ctx, const Group &group, int64_t extent) {
  Piece piece{extent, 0, extent};
  for (int axis : group.axes) {
    int64_t size = ctx->axisSizes[axis];
    piece.padded = piece.padded / size + (piece.padded % size != 0);
    int64_t start;
    bool past =
        __builtin_mul_overflow(ctx->coordinates[axis], piece.padded, &start) ||
        start >= piece.valid;
    piece.valid = past ? 0 : std::min(piece.valid - start, piece.padded);
    piece.offset = past ? 0 : piece.offset + start;
  }
  return piece;
}

/// A tensor of `shape` and one like it with `extent` entries in `dim`, seen
/// as [outer][extent][inner].
struct ResizedViews {
  DimView from, to;
};

/// The views of both, or none (failing `call`) when either's bytes
/// overflow int64.
std::optional<ResizedViews> viewResized(mp_context *ctx, const char *call,
                                        mp_dtype dtype, int rank,
                                        const int64_t *shape, int dim,
                                        int64_t extent) {
  size_t elementBytes = getDtypeSize(dtype);
  std::vector<int64_t> resized(shape, shape + rank);
  resized[dim] = extent;
  if (checkShape(ctx, call, rank, shape, elementBytes) ||
      checkShape(ctx, call, rank, resized.data(), elementBytes))
    return std::nullopt;
  return ResizedViews{DimView(shape, rank, dim, elementBytes),
                      DimView(resized.data(), rank, dim, elementBytes)};
}

} // namespace

extern "C" {

mp_status mp_resize_dim(mp_context *ctx, mp_dtype dtype, const void *in,
                        void *out, int rank, const int64_t *shape, int dim,
                        int64_t out_extent) {
  const char *call = "mp_resize_dim";
  MP_RETURN_IF_FAILED(ctx);
  if (checkDtype(ctx, call, dtype) || checkDim(ctx, call, rank, shape, dim, 1))
    return MP_ERROR;
  if (out_extent < 0)
    return fail(ctx, call, "negative out_extent %lld",
                static_cast<long long>(out_extent));
  std::optional<ResizedViews> views =
      viewResized(ctx, call, dtype, rank, shape, dim, out_extent);
  if (!views)
    return MP_ERROR;
  const DimView &from = views->from, &to = views->to;
  int64_t kept = std::min(from.extent, to.extent);
  if (kept > 0 && from.outer > 0 && from.inner > 0 &&
      ctx->backend->copy2D(out, to.rowBytes(to.extent), in,
                           from.rowBytes(from.extent), from.rowBytes(kept),
                           from.outer))
    return MP_ERROR;
  return zeroTail(ctx, out, to, kept);
}

mp_status mp_copy_dim_range(mp_context *ctx, mp_dtype dtype, const void *in,
                            void *out, int rank, const int64_t *shape, int dim,
                            int64_t in_offset, int64_t out_extent,
                            int64_t out_offset, int64_t count) {
  const char *call = "mp_copy_dim_range";
  MP_RETURN_IF_FAILED(ctx);
  if (checkDtype(ctx, call, dtype) || checkDim(ctx, call, rank, shape, dim, 1))
    return MP_ERROR;
  // Each range within its dim, written so that no sum can overflow.
  if (count < 0 || in_offset < 0 || out_offset < 0 || out_extent < 0 ||
      in_offset > shape[dim] - count || out_offset > out_extent - count)
    return fail(
        ctx, call,
        "entries %lld + %lld of an extent of %lld do not fit entries "
        "%lld + %lld of an extent of %lld",
        static_cast<long long>(in_offset), static_cast<long long>(count),
        static_cast<long long>(shape[dim]), static_cast<long long>(out_offset),
        static_cast<long long>(count), static_cast<long long>(out_extent));
  std::optional<ResizedViews> views =
      viewResized(ctx, call, dtype, rank, shape, dim, out_extent);
  if (!views)
    return MP_ERROR;
  const DimView &from = views->from, &to = views->to;
  if (count == 0 || from.outer == 0 || from.inner == 0)
    return MP_OK;
  if (overlaps(in, from.rowBytes(from.extent) * from.outer, out,
               to.rowBytes(to.extent) * to.outer))
    return fail(ctx, call, "out overlaps in");
  return ctx->backend->copy2D(
      static_cast<char *>(out) + to.rowBytes(out_offset),
      to.rowBytes(to.extent),
      static_cast<const char *>(in) + from.rowBytes(in_offset),
      from.rowBytes(from.extent), from.rowBytes(count), from.outer);
}

mp_status mp_zero_padding(mp_context *ctx, const int *axes, int num_axes,
                          mp_dtype dtype, void *data, int rank,
                          const int64_t *shape, int dim, int64_t extent) {
  const char *call = "mp_zero_padding";
  MP_RETURN_IF_FAILED(ctx);
  Group group;
  size_t elementBytes = getDtypeSize(dtype);
  if (checkDtype(ctx, call, dtype) ||
      resolveGroup(ctx, call, axes, num_axes, group) ||
      checkDim(ctx, call, rank, shape, dim, 1) ||
      checkShape(ctx, call, rank, shape, elementBytes))
    return MP_ERROR;
  if (extent < 0)
    return fail(ctx, call, "negative extent %lld",
                static_cast<long long>(extent));
  Piece piece = getPiece(ctx, group, extent);
  if (shape[dim] != piece.padded) {
    std::string names;
    for (int axis : group.axes)
      names += (names.empty() ? "" : ",") + ctx->axisNames[axis];
    return fail(ctx, call,
                "dim %d has %lld entries, but an extent of %lld split over "
                "[%s] has %lld per rank",
                dim, static_cast<long long>(shape[dim]),
                static_cast<long long>(extent), names.c_str(),
                static_cast<long long>(piece.padded));
  }
  return zeroTail(ctx, data, DimView(shape, rank, dim, elementBytes),
                  piece.valid);
}

mp_status mp_localize_index(mp_context *ctx, const int *axes, int num_axes,
                            int64_t n, const int64_t *in, int64_t *out,
                            int64_t extent) {
  const char *call = "mp_localize_index";
  MP_RETURN_IF_FAILED(ctx);
  Group group;
  if (resolveGroup(ctx, call, axes, num_axes, group) ||
      checkSizes(ctx, call, {{"n", n}}, sizeof(int64_t)) ||
      checkBuffers(ctx, call, {{"in", in, n}, {"out", out, n}}))
    return MP_ERROR;
  if (extent < 0)
    return fail(ctx, call, "negative extent %lld",
                static_cast<long long>(extent));
  if (n == 0)
    return MP_OK;
  Piece piece = getPiece(ctx, group, extent);
  return ctx->backend->localizeIndex(n, in, out, piece.offset, piece.valid);
}

} // extern "C"
