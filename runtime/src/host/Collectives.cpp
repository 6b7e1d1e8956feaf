//===- Collectives.cpp - MPI collectives along a dim of a tensor ----------===//
//
// MPI moves contiguous blocks in group order; a split of dim d of a
// row-major tensor is contiguous only for d = 0. So pieces are packed into
// [group][piece] order before sending and unpacked after receiving.
//
//===----------------------------------------------------------------------===//

#include "HostBackend.h"

#include <climits>
#include <cstring>
#include <vector>

namespace mp::runtime {

namespace {

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

MPI_Datatype getMpiType(mp_dtype dtype) {
  switch (dtype) {
  case MP_DTYPE_F32:
    return MPI_FLOAT;
  case MP_DTYPE_F64:
    return MPI_DOUBLE;
  case MP_DTYPE_I32:
    return MPI_INT32_T;
  case MP_DTYPE_I64:
    return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

/// MPI counts are ints: a limit of this backend, not of the ABI.
mp_status checkMpiCount(mp_context *ctx, const char *call, int64_t count) {
  if (count > INT_MAX)
    return fail(ctx, call, "%lld elements exceed MPI's int counts",
                static_cast<long long>(count));
  return MP_OK;
}

} // namespace

MPI_Comm HostBackend::getCommunicator(const Group &group) {
  auto it = communicators.find(group.axes);
  if (it != communicators.end())
    return it->second;
  MPI_Comm split;
  if (checkMpi(
          ctx, "MPI_Comm_split",
          MPI_Comm_split(MPI_COMM_WORLD, group.color, group.index, &split)))
    return MPI_COMM_NULL;
  MPI_Comm_set_errhandler(split, MPI_ERRORS_RETURN);
  communicators.emplace(group.axes, split);
  return split;
}

mp_status HostBackend::allReduce(const Group &group, mp_dtype dtype, void *data,
                                 int64_t count) {
  MPI_Comm comm = getCommunicator(group);
  if (comm == MPI_COMM_NULL || checkMpiCount(ctx, "mp_all_reduce", count))
    return MP_ERROR;
  return checkMpi(ctx, "MPI_Allreduce",
                  MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count),
                                getMpiType(dtype), MPI_SUM, comm));
}

mp_status HostBackend::allGather(const Group &group, mp_dtype dtype,
                                 const void *in, void *out,
                                 const DimView &view) {
  MPI_Comm comm = getCommunicator(group);
  if (comm == MPI_COMM_NULL ||
      checkMpiCount(ctx, "mp_all_gather", view.count()))
    return MP_ERROR;
  std::vector<char> gathered(view.count() * group.size * view.elementBytes);
  if (checkMpi(ctx, "MPI_Allgather",
               MPI_Allgather(in, static_cast<int>(view.count()),
                             getMpiType(dtype), gathered.data(),
                             static_cast<int>(view.count()), getMpiType(dtype),
                             comm)))
    return MP_ERROR;
  concatPieces(view, gathered.data(), static_cast<char *>(out), group.size);
  return MP_OK;
}

mp_status HostBackend::reduceScatter(const Group &group, mp_dtype dtype,
                                     const void *in, void *out,
                                     const DimView &view) {
  MPI_Comm comm = getCommunicator(group);
  if (comm == MPI_COMM_NULL ||
      checkMpiCount(ctx, "mp_reduce_scatter", view.count()))
    return MP_ERROR;
  std::vector<char> packed(view.count() * view.elementBytes);
  packPieces(view, static_cast<const char *>(in), packed.data(), group.size);
  return checkMpi(
      ctx, "MPI_Reduce_scatter_block",
      MPI_Reduce_scatter_block(packed.data(), out,
                               static_cast<int>(view.count() / group.size),
                               getMpiType(dtype), MPI_SUM, comm));
}

mp_status HostBackend::allToAll(const Group &group, mp_dtype dtype,
                                const void *in, void *out, const DimView &split,
                                const DimView &piece) {
  MPI_Comm comm = getCommunicator(group);
  if (comm == MPI_COMM_NULL ||
      checkMpiCount(ctx, "mp_all_to_all", split.count()))
    return MP_ERROR;
  std::vector<char> packed(split.count() * split.elementBytes);
  std::vector<char> received(packed.size());
  packPieces(split, static_cast<const char *>(in), packed.data(), group.size);
  int pieceCount = static_cast<int>(split.count() / group.size);
  if (checkMpi(ctx, "MPI_Alltoall",
               MPI_Alltoall(packed.data(), pieceCount, getMpiType(dtype),
                            received.data(), pieceCount, getMpiType(dtype),
                            comm)))
    return MP_ERROR;
  concatPieces(piece, received.data(), static_cast<char *>(out), group.size);
  return MP_OK;
}

mp_status HostBackend::shardSlice(const Group &group, const void *in, void *out,
                                  const DimView &view) {
  copyPiece(view, static_cast<const char *>(in), static_cast<char *>(out),
            group.index, group.size);
  return MP_OK;
}

} // namespace mp::runtime
