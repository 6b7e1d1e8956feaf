//===- Collectives.cpp - NCCL collectives along a dim of a tensor ---------===//
//
// NCCL, like MPI, moves contiguous blocks in group order, and a split of dim
// d of a row-major tensor is contiguous only when the dims before d are all
// 1. Otherwise each row (an index of the dims before d) is contiguous: an
// all_gather or reduce_scatter of up to kMaxRowCalls rows runs as one NCCL
// call per row, grouped (sequence parallelism's collectives over the
// sequence of a few batch rows: no copy); of more rows, and an all_to_all,
// packs pieces into [group][piece] order by a kernel before sending and
// unpacks them after receiving, in the scratch the step planned
// (mp_collective_scratch_bytes). Under
// MP_CUDA_TRANSPORT=mpi, MpiCollectives does all of it on the host instead.
//
//===----------------------------------------------------------------------===//

#include "CudaBackend.h"

#include <string>

namespace mp::runtime {

namespace {

ncclDataType_t getNcclType(mp_dtype dtype) {
  switch (dtype) {
  case MP_DTYPE_F32:
    return ncclFloat32;
  case MP_DTYPE_F64:
    return ncclFloat64;
  case MP_DTYPE_I32:
    return ncclInt32;
  case MP_DTYPE_I64:
    return ncclInt64;
  case MP_DTYPE_BF16:
    return ncclBfloat16;
  }
  return ncclFloat32;
}

/// Issues `call(i)` for each i < count inside one NCCL group. An error of a
/// grouped call may surface only at ncclGroupEnd, which must run to close
/// the group.
template <typename Call>
mp_status callGrouped(mp_context *ctx, int64_t count, Call call) {
  if (checkNccl(ctx, "ncclGroupStart", ncclGroupStart()))
    return MP_ERROR;
  for (int64_t i = 0; i < count; ++i)
    call(i);
  if (checkNccl(ctx, "ncclGroupEnd", ncclGroupEnd()) || ctx->failed)
    return MP_ERROR;
  return MP_OK;
}

} // namespace

ncclComm_t CudaBackend::getCommunicator(const Group &group) {
  auto it = communicators.find(group.axes);
  if (it != communicators.end())
    return it->second;
  if (capturing) {
    // ncclCommSplit is collective and synchronous: it cannot be captured.
    std::string axes;
    for (int axis : group.axes)
      axes += (axes.empty() ? "" : ",") + ctx->axisNames[axis];
    fail(ctx, "ncclCommSplit",
         "the group over mesh axes [%s] is first used inside a CUDA graph "
         "capture, where its NCCL communicator cannot be created: run the "
         "work once before capturing it (mp-train runs the step eagerly "
         "first)",
         axes.c_str());
    return nullptr;
  }
  // The key orders the new communicator's ranks by their group index.
  ncclComm_t split = nullptr;
  if (checkNccl(
          ctx, "ncclCommSplit",
          ncclCommSplit(world, group.color, group.index, &split, nullptr)))
    return nullptr;
  communicators.emplace(group.axes, split);
  return split;
}

// A collective starts after the compute stream's work so far. The compute
// stream waits for it right after, or, when the compiler scheduled it
// asynchronously (mp_async_begin), only at mp_async_wait: the compute
// issued in between overlaps it.
template <typename Issue>
mp_status CudaBackend::runCollective(const Group &group, Issue issue) {
  ncclComm_t comm = getCommunicator(group);
  int slot = ctx->asyncSlot;
  if (slot >= 0 && !asyncDone[slot] &&
      checkCuda(
          ctx, "cudaEventCreateWithFlags",
          cudaEventCreateWithFlags(&asyncDone[slot], cudaEventDisableTiming)))
    return MP_ERROR;
  cudaEvent_t done = slot >= 0 ? asyncDone[slot] : commDone;
  if (!comm ||
      checkCuda(ctx, "cudaEventRecord",
                cudaEventRecord(computeReady, computeStream)) ||
      checkCuda(ctx, "cudaStreamWaitEvent",
                cudaStreamWaitEvent(commStream, computeReady, 0)) ||
      issue(comm) ||
      checkCuda(ctx, "cudaEventRecord", cudaEventRecord(done, commStream)))
    return MP_ERROR;
  return slot >= 0 ? MP_OK : waitFor(done);
}

mp_status CudaBackend::waitFor(cudaEvent_t done) {
  return checkCuda(ctx, "cudaStreamWaitEvent",
                   cudaStreamWaitEvent(computeStream, done, 0));
}

mp_status CudaBackend::waitAsync(int slot) {
  // A collective that ran at the call (the mpi transport, an empty one)
  // recorded nothing: there is nothing to wait for.
  return asyncDone[slot] ? waitFor(asyncDone[slot]) : MP_OK;
}

mp_status CudaBackend::allReduce(const Group &group, mp_dtype dtype, void *data,
                                 int64_t count) {
  if (count == 0)
    return MP_OK;
  if (mpi)
    return mpi->allReduce(group, dtype, data, count);
  return runCollective(group, [&](ncclComm_t comm) {
    return checkNccl(ctx, "ncclAllReduce",
                     ncclAllReduce(data, data, count, getNcclType(dtype),
                                   ncclSum, comm, commStream));
  });
}

mp_status CudaBackend::allGather(const Group &group, mp_dtype dtype,
                                 const void *in, void *out, const DimView &view,
                                 Workspace &scratch) {
  if (view.count() == 0)
    return MP_OK;
  if (mpi)
    return mpi->allGather(group, dtype, in, out, view, scratch);
  return runCollective(group, [&](ncclComm_t comm) {
    size_t piece = view.extent * view.inner;
    if (view.outer > 1 && view.outer <= MP_CUDA_MAX_ROW_CALLS)
      return callGrouped(ctx, view.outer, [&](int64_t row) {
        checkNccl(
            ctx, "ncclAllGather",
            ncclAllGather(static_cast<const char *>(in) +
                              view.rowBytes(row * view.extent),
                          static_cast<char *>(out) +
                              view.rowBytes(row * view.extent) * group.size,
                          piece, getNcclType(dtype), comm, commStream));
      });
    // Gathered pieces follow each other: the result when outer is 1.
    bool direct = view.outer == 1, own = false;
    void *gathered =
        direct ? out
               : takeScratch(scratch,
                             view.count() * group.size * view.elementBytes,
                             commStream, own);
    if (!gathered ||
        checkNccl(ctx, "ncclAllGather",
                  ncclAllGather(in, gathered, view.count(), getNcclType(dtype),
                                comm, commStream)))
      return MP_ERROR;
    if (direct)
      return MP_OK;
    if (checkLaunch("mp_all_gather",
                    cuda::launchSwapLeadingDims(
                        commStream, gathered, out, group.size, view.outer,
                        view.extent * view.inner, view.elementBytes)))
      return MP_ERROR;
    return own ? freeScratch(gathered, commStream) : MP_OK;
  });
}

mp_status CudaBackend::reduceScatter(const Group &group, mp_dtype dtype,
                                     const void *in, void *out,
                                     const DimView &view, Workspace &scratch) {
  if (view.count() == 0)
    return MP_OK;
  if (mpi)
    return mpi->reduceScatter(group, dtype, in, out, view, scratch);
  return runCollective(group, [&](ncclComm_t comm) {
    size_t piece = view.extent / group.size * view.inner;
    if (view.outer > 1 && view.outer <= MP_CUDA_MAX_ROW_CALLS)
      return callGrouped(ctx, view.outer, [&](int64_t row) {
        checkNccl(ctx, "ncclReduceScatter",
                  ncclReduceScatter(
                      static_cast<const char *>(in) +
                          view.rowBytes(row * view.extent),
                      static_cast<char *>(out) +
                          view.rowBytes(row * view.extent) / group.size,
                      piece, getNcclType(dtype), ncclSum, comm, commStream));
      });
    bool direct = view.outer == 1, own = false;
    void *packed = direct
                       ? const_cast<void *>(in)
                       : takeScratch(scratch, view.count() * view.elementBytes,
                                     commStream, own);
    if (!packed)
      return MP_ERROR;
    if (!direct &&
        checkLaunch("mp_reduce_scatter",
                    cuda::launchSwapLeadingDims(
                        commStream, in, packed, view.outer, group.size,
                        view.extent / group.size * view.inner,
                        view.elementBytes)))
      return MP_ERROR;
    if (checkNccl(ctx, "ncclReduceScatter",
                  ncclReduceScatter(packed, out, view.count() / group.size,
                                    getNcclType(dtype), ncclSum, comm,
                                    commStream)))
      return MP_ERROR;
    return own ? freeScratch(packed, commStream) : MP_OK;
  });
}

mp_status CudaBackend::allToAll(const Group &group, mp_dtype dtype,
                                const void *in, void *out, const DimView &split,
                                const DimView &piece, Workspace &scratch) {
  if (split.count() == 0)
    return MP_OK;
  if (mpi)
    return mpi->allToAll(group, dtype, in, out, split, piece, scratch);
  return runCollective(group, [&](ncclComm_t comm) {
    size_t bytes = split.count() * split.elementBytes;
    bool packDirect = split.outer == 1, concatDirect = piece.outer == 1;
    bool ownPacked = false, ownReceived = false;
    void *packed = packDirect
                       ? const_cast<void *>(in)
                       : takeScratch(scratch, bytes, commStream, ownPacked);
    void *received = concatDirect
                         ? out
                         : takeScratch(scratch, bytes, commStream, ownReceived);
    if (!packed || !received)
      return MP_ERROR;
    if (!packDirect &&
        checkLaunch("mp_all_to_all",
                    cuda::launchSwapLeadingDims(
                        commStream, in, packed, split.outer, group.size,
                        split.extent / group.size * split.inner,
                        split.elementBytes)))
      return MP_ERROR;
    size_t pieceCount = split.count() / group.size;
    size_t pieceBytes = pieceCount * split.elementBytes;
    if (callGrouped(ctx, group.size, [&](int64_t peer) {
          checkNccl(ctx, "ncclSend",
                    ncclSend(static_cast<char *>(packed) + peer * pieceBytes,
                             pieceCount, getNcclType(dtype), peer, comm,
                             commStream));
          checkNccl(ctx, "ncclRecv",
                    ncclRecv(static_cast<char *>(received) + peer * pieceBytes,
                             pieceCount, getNcclType(dtype), peer, comm,
                             commStream));
        }))
      return MP_ERROR;
    if (!concatDirect &&
        (checkLaunch("mp_all_to_all",
                     cuda::launchSwapLeadingDims(
                         commStream, received, out, group.size, piece.outer,
                         piece.extent * piece.inner, piece.elementBytes)) ||
         (ownReceived && freeScratch(received, commStream))))
      return MP_ERROR;
    return ownPacked ? freeScratch(packed, commStream) : MP_OK;
  });
}

mp_status CudaBackend::shardSlice(const Group &group, const void *in, void *out,
                                  const DimView &view) {
  // No communication: a local copy in compute order.
  return checkLaunch("mp_shard_slice",
                     cuda::launchCopyPiece(computeStream, view, in, out,
                                           group.index, group.size));
}

} // namespace mp::runtime
