//===- MpiCollectives.cpp - MPI collectives along a dim of a tensor -------===//

#include "MpiCollectives.h"

#include "Elementwise.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

namespace mp::runtime {

void copyPiece(const DimView &view, const char *in, char *out, int64_t p,
               int64_t n) {
  int64_t rows = view.extent / n;
  for (int64_t o = 0; o < view.outer; ++o)
    std::memcpy(out + o * view.rowBytes(rows),
                in + o * view.rowBytes(view.extent) + view.rowBytes(p * rows),
                view.rowBytes(rows));
}

namespace {

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
  case MP_DTYPE_BF16:
    // Its bits; getSumOp adds them as bfloat16.
    return MPI_UINT16_T;
  }
  return MPI_DATATYPE_NULL;
}

/// MPI counts are ints: a limit of this transport, not of the ABI.
mp_status checkMpiCount(mp_context *ctx, const char *call, int64_t count) {
  if (count > INT_MAX)
    return fail(ctx, call, "%lld elements exceed MPI's int counts",
                static_cast<long long>(count));
  return MP_OK;
}

} // namespace

/// MPI_User_function: inout[i] = bf16(float(in[i]) + float(inout[i])).
void addBFloat16(void *in, void *inout, int *count, MPI_Datatype *) {
  const auto *from = static_cast<const uint16_t *>(in);
  auto *to = static_cast<uint16_t *>(inout);
  for (int i = 0; i < *count; ++i)
    to[i] = toBFloat16Bits(fromBFloat16Bits(from[i]) + fromBFloat16Bits(to[i]));
}

MpiCollectives::~MpiCollectives() {
  for (auto &[axes, comm] : communicators)
    MPI_Comm_free(&comm);
  if (bfloat16Sum != MPI_OP_NULL)
    MPI_Op_free(&bfloat16Sum);
  for (HostBuffer &buffer : buffers)
    if (buffer.data)
      staging->releaseHost(buffer.data);
}

MPI_Op MpiCollectives::getSumOp(mp_dtype dtype) {
  if (dtype != MP_DTYPE_BF16)
    return MPI_SUM;
  if (bfloat16Sum == MPI_OP_NULL &&
      checkMpi(ctx, "MPI_Op_create",
               MPI_Op_create(addBFloat16, /*commute=*/1, &bfloat16Sum)))
    return MPI_OP_NULL;
  return bfloat16Sum;
}

MPI_Comm MpiCollectives::getCommunicator(const Group &group) {
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

char *MpiCollectives::stage(int slot, const void *data, size_t bytes,
                            bool fill) {
  if (!staging)
    return static_cast<char *>(const_cast<void *>(data));
  HostBuffer &buffer = buffers[slot];
  if (!buffer.data || buffer.bytes < bytes) {
    if (buffer.data)
      staging->releaseHost(buffer.data);
    // An empty tensor still gets a buffer: null means failure here.
    buffer.bytes = std::max<size_t>(bytes, 1);
    buffer.data = staging->allocateHost(buffer.bytes);
    if (!buffer.data)
      return nullptr;
  }
  if (fill && staging->copyToHost(buffer.data, data, bytes))
    return nullptr;
  return static_cast<char *>(buffer.data);
}

HostScratch MpiCollectives::getScratch(Workspace &scratch) {
  return hostMemory ? HostScratch(ctx, scratch)
                    : HostScratch(ctx, none, /*counted=*/false);
}

mp_status MpiCollectives::unstage(void *data, const char *host, size_t bytes) {
  return staging ? staging->copyToBackend(data, host, bytes) : MP_OK;
}

mp_status MpiCollectives::allReduce(const Group &group, mp_dtype dtype,
                                    void *data, int64_t count) {
  MPI_Comm comm = getCommunicator(group);
  MPI_Op sum = getSumOp(dtype);
  if (comm == MPI_COMM_NULL || sum == MPI_OP_NULL ||
      checkMpiCount(ctx, "mp_all_reduce", count))
    return MP_ERROR;
  size_t bytes = count * getDtypeSize(dtype);
  char *reduced = stage(0, data, bytes, true);
  if (!reduced ||
      checkMpi(ctx, "MPI_Allreduce",
               MPI_Allreduce(MPI_IN_PLACE, reduced, static_cast<int>(count),
                             getMpiType(dtype), sum, comm)))
    return MP_ERROR;
  return unstage(data, reduced, bytes);
}

mp_status MpiCollectives::allGather(const Group &group, mp_dtype dtype,
                                    const void *in, void *out,
                                    const DimView &view, Workspace &scratch) {
  MPI_Comm comm = getCommunicator(group);
  if (comm == MPI_COMM_NULL ||
      checkMpiCount(ctx, "mp_all_gather", view.count()))
    return MP_ERROR;
  size_t outBytes = view.count() * group.size * view.elementBytes;
  const char *mine = stage(0, in, view.count() * view.elementBytes, true);
  char *whole = stage(1, out, outBytes, false);
  if (!mine || !whole)
    return MP_ERROR;
  // Pieces of a leading dim are where MPI puts them: no copy.
  bool direct =
      view.outer == 1 &&
      !overlaps(mine, view.count() * view.elementBytes, whole, outBytes);
  HostScratch pieces = getScratch(scratch);
  char *gathered = direct ? whole : pieces.take(outBytes);
  if (checkMpi(ctx, "MPI_Allgather",
               MPI_Allgather(mine, static_cast<int>(view.count()),
                             getMpiType(dtype), gathered,
                             static_cast<int>(view.count()), getMpiType(dtype),
                             comm)))
    return MP_ERROR;
  if (!direct)
    concatPieces(view, gathered, whole, group.size);
  return unstage(out, whole, outBytes);
}

mp_status MpiCollectives::reduceScatter(const Group &group, mp_dtype dtype,
                                        const void *in, void *out,
                                        const DimView &view,
                                        Workspace &scratch) {
  MPI_Comm comm = getCommunicator(group);
  MPI_Op sum = getSumOp(dtype);
  if (comm == MPI_COMM_NULL || sum == MPI_OP_NULL ||
      checkMpiCount(ctx, "mp_reduce_scatter", view.count()))
    return MP_ERROR;
  size_t inBytes = view.count() * view.elementBytes;
  const char *contribution = stage(0, in, inBytes, true);
  char *piece = stage(1, out, inBytes / group.size, false);
  if (!contribution || !piece)
    return MP_ERROR;
  // The pieces of a leading dim are packed already.
  const char *packed = contribution;
  HostScratch pieces = getScratch(scratch);
  if (view.outer != 1 ||
      overlaps(contribution, inBytes, piece, inBytes / group.size)) {
    char *packing = pieces.take(inBytes);
    packPieces(view, contribution, packing, group.size);
    packed = packing;
  }
  if (checkMpi(ctx, "MPI_Reduce_scatter_block",
               MPI_Reduce_scatter_block(
                   packed, piece, static_cast<int>(view.count() / group.size),
                   getMpiType(dtype), sum, comm)))
    return MP_ERROR;
  return unstage(out, piece, inBytes / group.size);
}

mp_status MpiCollectives::allToAll(const Group &group, mp_dtype dtype,
                                   const void *in, void *out,
                                   const DimView &split, const DimView &piece,
                                   Workspace &scratch) {
  MPI_Comm comm = getCommunicator(group);
  if (comm == MPI_COMM_NULL ||
      checkMpiCount(ctx, "mp_all_to_all", split.count()))
    return MP_ERROR;
  size_t bytes = split.count() * split.elementBytes;
  const char *mine = stage(0, in, bytes, true);
  char *moved = stage(1, out, bytes, false);
  if (!mine || !moved)
    return MP_ERROR;
  // Pieces of a leading dim are packed already, and arrive where they go.
  HostScratch pieces = getScratch(scratch);
  bool packDirect = split.outer == 1 && !overlaps(mine, bytes, moved, bytes);
  bool concatDirect = piece.outer == 1;
  const char *packed = mine;
  if (!packDirect) {
    char *packing = pieces.take(bytes);
    packPieces(split, mine, packing, group.size);
    packed = packing;
  }
  char *received = concatDirect ? moved : pieces.take(bytes);
  int pieceCount = static_cast<int>(split.count() / group.size);
  if (checkMpi(ctx, "MPI_Alltoall",
               MPI_Alltoall(packed, pieceCount, getMpiType(dtype), received,
                            pieceCount, getMpiType(dtype), comm)))
    return MP_ERROR;
  if (!concatDirect)
    concatPieces(piece, received, moved, group.size);
  return unstage(out, moved, bytes);
}

} // namespace mp::runtime
