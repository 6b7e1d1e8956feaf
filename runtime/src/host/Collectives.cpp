//===- Collectives.cpp - MPI collectives along a dim of a tensor ----------===//
//
// MPI moves contiguous blocks in group order; a split of dim d of a
// row-major tensor is contiguous only for d = 0. So pieces are packed into
// [group][piece] order before sending and unpacked after receiving.
//
//===----------------------------------------------------------------------===//

#include "../Context.h"

#include <climits>
#include <cstring>
#include <vector>

using namespace mp::runtime;

namespace {

/// A tensor seen as [outer][extent][inner] around one dim, in bytes.
struct DimView {
  int64_t outer = 1, extent = 1, inner = 1;
  size_t elementBytes = 0;

  DimView(const int64_t *shape, int rank, int dim, size_t elementBytes)
      : elementBytes(elementBytes) {
    for (int d = 0; d < rank; ++d) {
      if (d < dim)
        outer *= shape[d];
      else if (d == dim)
        extent = shape[d];
      else
        inner *= shape[d];
    }
  }
  int64_t count() const { return outer * extent * inner; }
  size_t rowBytes(int64_t rows) const { return rows * inner * elementBytes; }
};

/// Copies piece `p` of `n` along the view's dim into a contiguous buffer.
void copyPiece(const DimView &view, const char *in, char *out, int64_t p,
               int64_t n) {
  int64_t rows = view.extent / n;
  for (int64_t o = 0; o < view.outer; ++o)
    std::memcpy(out + o * view.rowBytes(rows),
                in + o * view.rowBytes(view.extent) + view.rowBytes(p * rows),
                view.rowBytes(rows));
}

/// Packs the `n` pieces of `in` along the dim, piece after piece.
void packPieces(const DimView &view, const char *in, char *out, int64_t n) {
  size_t pieceBytes = view.count() / n * view.elementBytes;
  for (int64_t p = 0; p < n; ++p)
    copyPiece(view, in, out + p * pieceBytes, p, n);
}

/// Concatenates `n` contiguous pieces, each shaped as `piece`, along its dim.
void concatPieces(const DimView &piece, const char *in, char *out, int64_t n) {
  size_t pieceBytes = piece.count() * piece.elementBytes;
  for (int64_t p = 0; p < n; ++p)
    for (int64_t o = 0; o < piece.outer; ++o)
      std::memcpy(out + o * piece.rowBytes(piece.extent * n) +
                      piece.rowBytes(p * piece.extent),
                  in + p * pieceBytes + o * piece.rowBytes(piece.extent),
                  piece.rowBytes(piece.extent));
}

mp_status checkDims(mp_context *ctx, const char *call, int rank,
                    const int64_t *shape, int dim, int64_t divisor) {
  if (dim < 0 || dim >= rank)
    return fail(ctx, call, "dim %d is out of range for rank %d", dim, rank);
  if (divisor > 1 && shape[dim] % divisor != 0)
    return fail(ctx, call, "dim %d of size %lld does not split over %lld ranks",
                dim, static_cast<long long>(shape[dim]),
                static_cast<long long>(divisor));
  return MP_OK;
}

mp_status checkCount(mp_context *ctx, const char *call, int64_t count) {
  if (count > INT_MAX)
    return fail(ctx, call, "%lld elements exceed MPI's int counts",
                static_cast<long long>(count));
  return MP_OK;
}

} // namespace

extern "C" {

mp_status mp_all_reduce(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, void *data, int64_t count) {
  MP_RETURN_IF_FAILED(ctx);
  MPI_Comm comm;
  int size, index;
  if (getGroup(ctx, "mp_all_reduce", axes, num_axes, &comm, &size, &index) ||
      checkCount(ctx, "mp_all_reduce", count))
    return MP_ERROR;
  return checkMpi(ctx, "MPI_Allreduce",
                  MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count),
                                getMpiType(dtype), MPI_SUM, comm));
}

mp_status mp_all_gather(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int dim) {
  MP_RETURN_IF_FAILED(ctx);
  MPI_Comm comm;
  int size, index;
  DimView view(shape, rank, dim, getDtypeSize(dtype));
  if (getGroup(ctx, "mp_all_gather", axes, num_axes, &comm, &size, &index) ||
      checkDims(ctx, "mp_all_gather", rank, shape, dim, 1) ||
      checkCount(ctx, "mp_all_gather", view.count()))
    return MP_ERROR;
  std::vector<char> gathered(view.count() * size * view.elementBytes);
  if (checkMpi(ctx, "MPI_Allgather",
               MPI_Allgather(in, static_cast<int>(view.count()),
                             getMpiType(dtype), gathered.data(),
                             static_cast<int>(view.count()), getMpiType(dtype),
                             comm)))
    return MP_ERROR;
  concatPieces(view, gathered.data(), static_cast<char *>(out), size);
  return MP_OK;
}

mp_status mp_reduce_scatter(mp_context *ctx, const int *axes, int num_axes,
                            mp_dtype dtype, const void *in, void *out, int rank,
                            const int64_t *shape, int dim) {
  MP_RETURN_IF_FAILED(ctx);
  MPI_Comm comm;
  int size, index;
  DimView view(shape, rank, dim, getDtypeSize(dtype));
  if (getGroup(ctx, "mp_reduce_scatter", axes, num_axes, &comm, &size,
               &index) ||
      checkDims(ctx, "mp_reduce_scatter", rank, shape, dim, size) ||
      checkCount(ctx, "mp_reduce_scatter", view.count()))
    return MP_ERROR;
  std::vector<char> packed(view.count() * view.elementBytes);
  packPieces(view, static_cast<const char *>(in), packed.data(), size);
  return checkMpi(ctx, "MPI_Reduce_scatter_block",
                  MPI_Reduce_scatter_block(
                      packed.data(), out, static_cast<int>(view.count() / size),
                      getMpiType(dtype), MPI_SUM, comm));
}

mp_status mp_all_to_all(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int split_dim, int concat_dim) {
  MP_RETURN_IF_FAILED(ctx);
  MPI_Comm comm;
  int size, index;
  DimView split(shape, rank, split_dim, getDtypeSize(dtype));
  if (getGroup(ctx, "mp_all_to_all", axes, num_axes, &comm, &size, &index) ||
      checkDims(ctx, "mp_all_to_all", rank, shape, split_dim, size) ||
      checkDims(ctx, "mp_all_to_all", rank, shape, concat_dim, 1) ||
      checkCount(ctx, "mp_all_to_all", split.count()))
    return MP_ERROR;
  if (split_dim == concat_dim)
    return fail(ctx, "mp_all_to_all", "split and concat dims must differ");
  std::vector<char> packed(split.count() * split.elementBytes);
  std::vector<char> received(packed.size());
  packPieces(split, static_cast<const char *>(in), packed.data(), size);
  int pieceCount = static_cast<int>(split.count() / size);
  if (checkMpi(ctx, "MPI_Alltoall",
               MPI_Alltoall(packed.data(), pieceCount, getMpiType(dtype),
                            received.data(), pieceCount, getMpiType(dtype),
                            comm)))
    return MP_ERROR;
  std::vector<int64_t> pieceShape(shape, shape + rank);
  pieceShape[split_dim] /= size;
  DimView piece(pieceShape.data(), rank, concat_dim, split.elementBytes);
  concatPieces(piece, received.data(), static_cast<char *>(out), size);
  return MP_OK;
}

mp_status mp_shard_slice(mp_context *ctx, const int *axes, int num_axes,
                         mp_dtype dtype, const void *in, void *out, int rank,
                         const int64_t *shape, int dim) {
  MP_RETURN_IF_FAILED(ctx);
  MPI_Comm comm;
  int size, index;
  if (getGroup(ctx, "mp_shard_slice", axes, num_axes, &comm, &size, &index) ||
      checkDims(ctx, "mp_shard_slice", rank, shape, dim, size))
    return MP_ERROR;
  DimView view(shape, rank, dim, getDtypeSize(dtype));
  copyPiece(view, static_cast<const char *>(in), static_cast<char *>(out),
            index, size);
  return MP_OK;
}

} // extern "C"
