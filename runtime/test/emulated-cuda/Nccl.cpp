//===- Nccl.cpp - NCCL's collectives over MPI, in stream order ------------===//
//
// A communicator is an MPI communicator (the world's duplicate, or a
// split of it). A collective or a send/receive is queued on its stream
// like a kernel and, when the stream runs it, copies its input out, runs
// MPI's nonblocking counterpart and copies the result in (so in-place
// calls need no MPI_IN_PLACE rules); the calls of a group
// (ncclGroupStart/End) are queued as one piece of work, started together
// and waited for together, so sends and receives between the same ranks
// cannot deadlock. bfloat16 sums widen, add in float and round to nearest
// even, as NCCL does.
//
//===----------------------------------------------------------------------===//

#include "include/nccl.h"
#include "Streams.h"

#include <mpi.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

struct ncclComm {
  MPI_Comm comm;
  int rank, size;
};

namespace {

using Bytes = std::shared_ptr<std::vector<char>>;

/// One call: what it starts when its stream runs it, and what it does once
/// every request of its group has completed.
struct Transfer {
  std::function<void(std::vector<MPI_Request> &)> start;
  std::function<void()> finish;
  cudaStream_t stream;
};

int groupDepth = 0;
std::vector<Transfer> grouped;
std::string lastError;

size_t elementBytes(ncclDataType_t type) {
  switch (type) {
  case ncclInt32:
  case ncclFloat32:
    return 4;
  case ncclInt64:
  case ncclFloat64:
    return 8;
  case ncclBfloat16:
    return 2;
  }
  return 0;
}

void sumBFloat16(void *in, void *inout, int *count, MPI_Datatype *) {
  auto *a = static_cast<const mp::emulation::Bf16 *>(in);
  auto *b = static_cast<mp::emulation::Bf16 *>(inout);
  for (int i = 0; i < *count; ++i)
    b[i] = mp::emulation::toBf16(mp::emulation::toFloat(a[i]) +
                                 mp::emulation::toFloat(b[i]));
}

MPI_Datatype mpiType(ncclDataType_t type) {
  static MPI_Datatype bf16 = [] {
    MPI_Datatype t;
    MPI_Type_contiguous(2, MPI_BYTE, &t);
    MPI_Type_commit(&t);
    return t;
  }();
  switch (type) {
  case ncclInt32:
    return MPI_INT32_T;
  case ncclInt64:
    return MPI_INT64_T;
  case ncclFloat32:
    return MPI_FLOAT;
  case ncclFloat64:
    return MPI_DOUBLE;
  case ncclBfloat16:
    return bf16;
  }
  return MPI_DATATYPE_NULL;
}

MPI_Op mpiSum(ncclDataType_t type) {
  static MPI_Op bf16 = [] {
    MPI_Op op;
    MPI_Op_create(sumBFloat16, 1, &op);
    return op;
  }();
  return type == ncclBfloat16 ? bf16 : MPI_SUM;
}

void runTransfers(const std::vector<Transfer> &transfers) {
  std::vector<MPI_Request> requests;
  for (const Transfer &transfer : transfers)
    transfer.start(requests);
  MPI_Waitall(static_cast<int>(requests.size()), requests.data(),
              MPI_STATUSES_IGNORE);
  for (const Transfer &transfer : transfers)
    transfer.finish();
}

ncclResult_t submit(Transfer transfer) {
  if (groupDepth > 0) {
    grouped.push_back(std::move(transfer));
    return ncclSuccess;
  }
  cudaStream_t stream = transfer.stream;
  mp::emulation::enqueue(
      stream, [transfer = std::move(transfer)] { runTransfers({transfer}); });
  return ncclSuccess;
}

ncclResult_t invalid(const char *what) {
  lastError = what;
  return ncclInvalidArgument;
}

/// Checks the arguments NCCL checks: a communicator, a known type, device
/// buffers of the sizes the call reads and writes.
ncclResult_t check(ncclComm_t comm, ncclDataType_t type, const void *in,
                   size_t inCount, const void *out, size_t outCount) {
  size_t bytes = elementBytes(type);
  if (!comm)
    return invalid("null communicator");
  if (!bytes)
    return invalid("unknown data type");
  if ((inCount && !mp::emulation::isDeviceMemory(in, inCount * bytes)) ||
      (outCount && !mp::emulation::isDeviceMemory(out, outCount * bytes)))
    return invalid("a buffer is not device memory of the size the call "
                   "uses");
  return ncclSuccess;
}

Bytes bytesOf(size_t count) {
  return std::make_shared<std::vector<char>>(count);
}

} // namespace

ncclResult_t ncclGetUniqueId(ncclUniqueId *id) {
  std::memset(id, 0, sizeof(*id));
  std::strcpy(id->internal, "mp-emulated-nccl");
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId id,
                              int rank) {
  int worldRank = 0, worldSize = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &worldRank);
  MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
  if (std::strcmp(id.internal, "mp-emulated-nccl") != 0 ||
      nranks != worldSize || rank != worldRank)
    return invalid("the emulated NCCL spans MPI_COMM_WORLD, ranks in order");
  auto *created = new ncclComm{MPI_COMM_NULL, rank, nranks};
  MPI_Comm_dup(MPI_COMM_WORLD, &created->comm);
  *comm = created;
  return ncclSuccess;
}

ncclResult_t ncclCommSplit(ncclComm_t comm, int color, int key,
                           ncclComm_t *newcomm, ncclConfig_t *) {
  if (!comm)
    return invalid("null communicator");
  MPI_Comm split;
  MPI_Comm_split(comm->comm,
                 color == NCCL_SPLIT_NOCOLOR ? MPI_UNDEFINED : color, key,
                 &split);
  *newcomm = nullptr;
  if (split != MPI_COMM_NULL) {
    auto *created = new ncclComm{split, 0, 0};
    MPI_Comm_rank(split, &created->rank);
    MPI_Comm_size(split, &created->size);
    *newcomm = created;
  }
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (comm) {
    MPI_Comm_free(&comm->comm);
    delete comm;
  }
  return ncclSuccess;
}

const char *ncclGetErrorString(ncclResult_t result) {
  switch (result) {
  case ncclSuccess:
    return "no error";
  case ncclInvalidArgument:
    return "invalid argument (run with NCCL_DEBUG=WARN for details)";
  case ncclInvalidUsage:
    return "invalid usage (run with NCCL_DEBUG=WARN for details)";
  default:
    return "unhandled error";
  }
}

const char *ncclGetLastError(ncclComm_t) { return lastError.c_str(); }

ncclResult_t ncclGroupStart() {
  ++groupDepth;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  if (groupDepth == 0) {
    lastError = "ncclGroupEnd without ncclGroupStart";
    return ncclInvalidUsage;
  }
  if (--groupDepth > 0 || grouped.empty())
    return ncclSuccess;
  std::vector<Transfer> transfers = std::move(grouped);
  grouped.clear();
  for (const Transfer &transfer : transfers)
    if (transfer.stream != transfers.front().stream) {
      lastError = "a group over several streams is not emulated";
      return ncclInvalidUsage;
    }
  mp::emulation::enqueue(transfers.front().stream,
                         [transfers] { runTransfers(transfers); });
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
                           ncclDataType_t datatype, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t stream) {
  if (ncclResult_t status =
          check(comm, datatype, sendbuff, count, recvbuff, count))
    return status;
  if (op != ncclSum)
    return invalid("only sums are emulated");
  size_t bytes = count * elementBytes(datatype);
  Bytes in = bytesOf(bytes), out = bytesOf(bytes);
  return submit({[=](std::vector<MPI_Request> &requests) {
                   std::memcpy(in->data(), sendbuff, bytes);
                   MPI_Request &request = requests.emplace_back();
                   MPI_Iallreduce(in->data(), out->data(),
                                  static_cast<int>(count), mpiType(datatype),
                                  mpiSum(datatype), comm->comm, &request);
                 },
                 [=] { std::memcpy(recvbuff, out->data(), bytes); }, stream});
}

ncclResult_t ncclAllGather(const void *sendbuff, void *recvbuff,
                           size_t sendcount, ncclDataType_t datatype,
                           ncclComm_t comm, cudaStream_t stream) {
  if (ncclResult_t status = check(comm, datatype, sendbuff, sendcount, recvbuff,
                                  comm ? sendcount * comm->size : 0))
    return status;
  size_t bytes = sendcount * elementBytes(datatype);
  Bytes in = bytesOf(bytes), out = bytesOf(bytes * comm->size);
  return submit({[=](std::vector<MPI_Request> &requests) {
                   std::memcpy(in->data(), sendbuff, bytes);
                   MPI_Request &request = requests.emplace_back();
                   MPI_Iallgather(in->data(), static_cast<int>(bytes), MPI_BYTE,
                                  out->data(), static_cast<int>(bytes),
                                  MPI_BYTE, comm->comm, &request);
                 },
                 [=] { std::memcpy(recvbuff, out->data(), out->size()); },
                 stream});
}

ncclResult_t ncclReduceScatter(const void *sendbuff, void *recvbuff,
                               size_t recvcount, ncclDataType_t datatype,
                               ncclRedOp_t op, ncclComm_t comm,
                               cudaStream_t stream) {
  if (ncclResult_t status =
          check(comm, datatype, sendbuff, comm ? recvcount * comm->size : 0,
                recvbuff, recvcount))
    return status;
  if (op != ncclSum)
    return invalid("only sums are emulated");
  size_t bytes = recvcount * elementBytes(datatype);
  Bytes in = bytesOf(bytes * comm->size), out = bytesOf(bytes);
  return submit({[=](std::vector<MPI_Request> &requests) {
                   std::memcpy(in->data(), sendbuff, in->size());
                   MPI_Request &request = requests.emplace_back();
                   MPI_Ireduce_scatter_block(
                       in->data(), out->data(), static_cast<int>(recvcount),
                       mpiType(datatype), mpiSum(datatype), comm->comm,
                       &request);
                 },
                 [=] { std::memcpy(recvbuff, out->data(), bytes); }, stream});
}

ncclResult_t ncclSend(const void *sendbuff, size_t count,
                      ncclDataType_t datatype, int peer, ncclComm_t comm,
                      cudaStream_t stream) {
  if (ncclResult_t status = check(comm, datatype, sendbuff, count, nullptr, 0))
    return status;
  if (peer < 0 || peer >= comm->size)
    return invalid("peer out of range");
  size_t bytes = count * elementBytes(datatype);
  Bytes in = bytesOf(bytes);
  return submit({[=](std::vector<MPI_Request> &requests) {
                   std::memcpy(in->data(), sendbuff, bytes);
                   MPI_Request &request = requests.emplace_back();
                   MPI_Isend(in->data(), static_cast<int>(bytes), MPI_BYTE,
                             peer, 0, comm->comm, &request);
                 },
                 [] {}, stream});
}

ncclResult_t ncclRecv(void *recvbuff, size_t count, ncclDataType_t datatype,
                      int peer, ncclComm_t comm, cudaStream_t stream) {
  if (ncclResult_t status = check(comm, datatype, nullptr, 0, recvbuff, count))
    return status;
  if (peer < 0 || peer >= comm->size)
    return invalid("peer out of range");
  size_t bytes = count * elementBytes(datatype);
  Bytes out = bytesOf(bytes);
  return submit({[=](std::vector<MPI_Request> &requests) {
                   MPI_Request &request = requests.emplace_back();
                   MPI_Irecv(out->data(), static_cast<int>(bytes), MPI_BYTE,
                             peer, 0, comm->comm, &request);
                 },
                 [=] { std::memcpy(recvbuff, out->data(), bytes); }, stream});
}
