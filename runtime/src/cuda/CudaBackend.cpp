//===- CudaBackend.cpp - device setup, memory, copies, errors -------------===//

#include "CudaBackend.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace mp::runtime {

mp_status checkCuda(mp_context *ctx, const char *call, cudaError_t status) {
  if (status == cudaSuccess)
    return MP_OK;
  return fail(ctx, call, "%s (%s)", cudaGetErrorString(status),
              cudaGetErrorName(status));
}

mp_status checkCublas(mp_context *ctx, const char *call,
                      cublasStatus_t status) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return MP_OK;
  return fail(ctx, call, "%s (%s)", cublasGetStatusString(status),
              cublasGetStatusName(status));
}

mp_status checkNccl(mp_context *ctx, const char *call, ncclResult_t status) {
  if (status == ncclSuccess)
    return MP_OK;
  // NCCL's last error says more than the result code, when it has one.
  const char *detail = ncclGetLastError(nullptr);
  return fail(ctx, call, "%s%s%s", ncclGetErrorString(status),
              detail && *detail ? ": " : "", detail ? detail : "");
}

std::unique_ptr<Backend> createCudaBackend(mp_context *ctx) {
  auto backend = std::make_unique<CudaBackend>(ctx);
  if (backend->start())
    return nullptr;
  return backend;
}

mp_status CudaBackend::startLocally(bool nccl, ncclUniqueId &id,
                                    cudaUUID_t &uuid) {
  // The rank's index among the ranks on its node picks its GPU; modulo the
  // count, so that ranks each shown one GPU (CUDA_VISIBLE_DEVICES) use it,
  // and so that ranks beyond the count share GPUs (which only the mpi
  // transport allows: see checkOneRankPerDevice).
  MPI_Comm node;
  if (checkMpi(ctx, "MPI_Comm_split_type",
               MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED,
                                   ctx->rank, MPI_INFO_NULL, &node)))
    return MP_ERROR;
  int localRank = 0;
  MPI_Comm_rank(node, &localRank);
  MPI_Comm_free(&node);
  int devices = 0;
  cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0)
    return fail(ctx, "mp_context_create",
                "no CUDA device is visible to this rank (cudaGetDeviceCount: "
                "%s)",
                status == cudaSuccess ? "0 devices"
                                      : cudaGetErrorString(status));
  device = localRank % devices;
  cudaDeviceProp properties;
  cudaMemPool_t pool;
  uint64_t keepAll = UINT64_MAX;
  if (checkCuda(ctx, "cudaSetDevice", cudaSetDevice(device)) ||
      checkCuda(ctx, "cudaGetDeviceProperties",
                cudaGetDeviceProperties(&properties, device)) ||
      checkCuda(
          ctx, "cudaStreamCreateWithFlags",
          cudaStreamCreateWithFlags(&computeStream, cudaStreamNonBlocking)) ||
      checkCuda(
          ctx, "cudaStreamCreateWithFlags",
          cudaStreamCreateWithFlags(&commStream, cudaStreamNonBlocking)) ||
      checkCuda(
          ctx, "cudaEventCreateWithFlags",
          cudaEventCreateWithFlags(&computeReady, cudaEventDisableTiming)) ||
      checkCuda(ctx, "cudaEventCreateWithFlags",
                cudaEventCreateWithFlags(&commDone, cudaEventDisableTiming)) ||
      checkCublas(ctx, "cublasCreate", cublasCreate(&cublas)) ||
      checkCublas(ctx, "cublasSetStream",
                  cublasSetStream(cublas, computeStream)) ||
      // Allocations come from the stream-ordered pool; keep what it frees
      // rather than return it to the driver at every sync.
      checkCuda(ctx, "cudaDeviceGetDefaultMemPool",
                cudaDeviceGetDefaultMemPool(&pool, device)) ||
      checkCuda(ctx, "cudaMemPoolSetAttribute",
                cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold,
                                        &keepAll)) ||
      checkCuda(
          ctx, "cudaMalloc",
          cudaMalloc(&reserved, mp_backend_reserved_bytes(MP_BACKEND_CUDA))))
    return MP_ERROR;
  countBackendBytes(ctx, mp_backend_reserved_bytes(MP_BACKEND_CUDA));
  partials =
      reinterpret_cast<double *>(reserved + MP_CUDA_CUBLAS_WORKSPACE_BYTES);
  fault = reinterpret_cast<cuda::DeviceFault *>(partials +
                                                cuda::kReductionPartials);
  if (checkCuda(ctx, "cudaMemset", cudaMemset(fault, 0, sizeof(*fault))) ||
      checkCublas(
          ctx, "cublasSetWorkspace",
          cublasSetWorkspace(cublas, reserved, MP_CUDA_CUBLAS_WORKSPACE_BYTES)))
    return MP_ERROR;
  int attention = readChoice(ctx, "MP_CUDA_ATTENTION", {"on-chip", "composed"});
  int ntGemm = readChoice(ctx, "MP_CUDA_NT_GEMM", {"transpose", "direct"});
  const char *tf32 = std::getenv("NVIDIA_TF32_OVERRIDE");
  tf32OnTensorCores = !tf32 || std::strcmp(tf32, "0") != 0;
  transposeNtOperand = ntGemm == 0;
  if (attention < 0 || ntGemm < 0 ||
      (attention == 0 &&
       checkCuda(ctx, "cudaFuncSetAttribute",
                 cuda::prepareFlashAttention(device, &attentionSharedLimit))))
    return MP_ERROR;
  uuid = properties.uuid;
  if (nccl && ctx->rank == 0)
    return checkNccl(ctx, "ncclGetUniqueId", ncclGetUniqueId(&id));
  return MP_OK;
}

mp_status CudaBackend::checkSameTransport(int transport) {
  int mine[2] = {transport, -transport}, most[2] = {0, 0};
  if (checkMpi(ctx, "MPI_Allreduce",
               MPI_Allreduce(mine, most, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD)))
    return MP_ERROR;
  if (most[0] != -most[1])
    return fail(ctx, "mp_context_create",
                "MP_CUDA_TRANSPORT is nccl on some ranks and mpi on others; "
                "every rank must use the same transport");
  return MP_OK;
}

mp_status CudaBackend::checkOneRankPerDevice(const cudaUUID_t &uuid) {
  std::vector<cudaUUID_t> uuids(ctx->worldSize);
  if (checkMpi(ctx, "MPI_Allgather",
               MPI_Allgather(&uuid, sizeof(uuid), MPI_BYTE, uuids.data(),
                             sizeof(uuid), MPI_BYTE, MPI_COMM_WORLD)))
    return MP_ERROR;
  // Every rank sees the same table, so all fail alike, naming one pair.
  std::map<std::string, int> owners;
  for (int rank = 0; rank < ctx->worldSize; ++rank) {
    auto [owner, added] = owners.emplace(
        std::string(uuids[rank].bytes, sizeof(uuids[rank].bytes)), rank);
    if (!added)
      return fail(ctx, "mp_context_create",
                  "ranks %d and %d would share a GPU, and NCCL needs one GPU "
                  "per rank: launch at most as many ranks on a node as it "
                  "has GPUs, or set MP_CUDA_TRANSPORT=mpi (collectives "
                  "through host memory, for testing) to share them",
                  owner->second, rank);
  }
  return MP_OK;
}

mp_status CudaBackend::start() {
  ncclUniqueId id{};
  cudaUUID_t uuid{};
  int transport = readChoice(ctx, "MP_CUDA_TRANSPORT", {"nccl", "mpi"});
  int ready = transport >= 0 && startLocally(transport == 0, id, uuid) == MP_OK;
  int allReady = 0;
  // The transport's setup waits for every rank: agree first that all got
  // this far.
  if (checkMpi(ctx, "MPI_Allreduce",
               MPI_Allreduce(&ready, &allReady, 1, MPI_INT, MPI_MIN,
                             MPI_COMM_WORLD)) ||
      !ready)
    return MP_ERROR;
  if (!allReady)
    return fail(ctx, "mp_context_create",
                "the CUDA backend failed to start on another rank");
  if (checkSameTransport(transport))
    return MP_ERROR;
  if (transport == 1) {
    mpi = std::make_unique<MpiCollectives>(ctx, this, /*hostMemory=*/false);
    return MP_OK;
  }
  if (checkOneRankPerDevice(uuid) ||
      checkMpi(ctx, "MPI_Bcast",
               MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD)))
    return MP_ERROR;
  return checkNccl(ctx, "ncclCommInitRank",
                   ncclCommInitRank(&world, ctx->worldSize, id, ctx->rank));
}

CudaBackend::~CudaBackend() {
  // Teardown cannot report errors: the context is going away.
  if (capturing) {
    cudaGraph_t captured = nullptr;
    cudaStreamEndCapture(computeStream, &captured);
    if (captured)
      cudaGraphDestroy(captured);
  }
  if (computeStream)
    cudaStreamSynchronize(computeStream);
  if (commStream)
    cudaStreamSynchronize(commStream);
  dropGraph();
  for (auto &[axes, comm] : communicators)
    ncclCommDestroy(comm);
  if (world)
    ncclCommDestroy(world);
  if (cublas)
    cublasDestroy(cublas);
  for (cudaEvent_t event : {computeReady, commDone})
    if (event)
      cudaEventDestroy(event);
  for (cudaEvent_t event : asyncDone)
    if (event)
      cudaEventDestroy(event);
  for (cudaStream_t stream : {computeStream, commStream})
    if (stream)
      cudaStreamDestroy(stream);
  // Not uncounted: the context that counted it is being destroyed.
  cudaFree(reserved);
}

void *CudaBackend::allocate(size_t bytes) {
  // Stream-ordered on the compute stream, from the pool that keeps what it
  // frees: a step's arena, allocated and freed every step, then costs no
  // device synchronization (cudaFree would synchronize the device). Every
  // use of the memory is ordered after this on the compute stream, or on
  // the communication stream behind an event recorded on it. The pool
  // aligns to at least 256 bytes, more than the 64 the plan assumes.
  // In a capture this is the graph's memory (an allocation node), at an
  // address that every replay keeps.
  void *ptr = allocateStreamOrdered(bytes ? bytes : 1, computeStream);
  if (ptr && capturing)
    graphAllocations.insert(ptr);
  return ptr;
}

void CudaBackend::release(void *ptr) {
  if (capturing && !graphAllocations.erase(ptr)) {
    // Replays would free it again; the first one would free it for good.
    fail(ctx, "mp_free",
         "frees memory allocated before the capture began, which a CUDA "
         "graph cannot free on every replay: free it outside the capture");
    return;
  }
  checkCuda(ctx, "cudaFreeAsync", cudaFreeAsync(ptr, computeStream));
}

void *CudaBackend::allocateHost(size_t bytes) {
  void *ptr = nullptr;
  if (checkCuda(ctx, "cudaMallocHost", cudaMallocHost(&ptr, bytes)))
    return nullptr;
  return ptr;
}

void CudaBackend::releaseHost(void *ptr) { cudaFreeHost(ptr); }

void *CudaBackend::allocateStreamOrdered(size_t bytes, cudaStream_t stream) {
  void *ptr = nullptr;
  if (checkCuda(ctx, "cudaMallocAsync", cudaMallocAsync(&ptr, bytes, stream)))
    return nullptr;
  return ptr;
}

void *CudaBackend::allocateScratch(size_t bytes, cudaStream_t stream) {
  void *ptr = allocateStreamOrdered(bytes, stream);
  if (ptr) {
    scratchBytes[ptr] = bytes;
    countBackendBytes(ctx, static_cast<int64_t>(bytes));
  }
  return ptr;
}

mp_status CudaBackend::freeScratch(void *ptr, cudaStream_t stream) {
  auto it = scratchBytes.find(ptr);
  if (it != scratchBytes.end()) {
    countBackendBytes(ctx, -static_cast<int64_t>(it->second));
    scratchBytes.erase(it);
  }
  return checkCuda(ctx, "cudaFreeAsync", cudaFreeAsync(ptr, stream));
}

void *CudaBackend::takeScratch(Workspace &workspace, size_t bytes,
                               cudaStream_t stream, bool &own) {
  own = false;
  if (void *piece = workspace.take(bytes))
    return piece;
  void *ptr = allocateScratch(bytes, stream);
  own = ptr != nullptr;
  return ptr;
}

mp_status CudaBackend::copy(void *dst, const void *src, size_t bytes) {
  auto *to = static_cast<char *>(dst);
  auto *from = static_cast<const char *>(src);
  if (to + bytes <= from || from + bytes <= to)
    return checkCuda(ctx, "cudaMemcpyAsync",
                     cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice,
                                     computeStream));
  // cudaMemcpy leaves overlapping copies undefined: go through scratch.
  void *staging = allocateScratch(bytes, computeStream);
  if (!staging ||
      checkCuda(ctx, "cudaMemcpyAsync",
                cudaMemcpyAsync(staging, src, bytes, cudaMemcpyDeviceToDevice,
                                computeStream)) ||
      checkCuda(ctx, "cudaMemcpyAsync",
                cudaMemcpyAsync(dst, staging, bytes, cudaMemcpyDeviceToDevice,
                                computeStream)))
    return MP_ERROR;
  return freeScratch(staging, computeStream);
}

mp_status CudaBackend::copyToBackend(void *dst, const void *src, size_t bytes) {
  // Synchronous, so the caller may reuse `src` (pinned or not) at once.
  if (checkCuda(ctx, "cudaMemcpyAsync",
                cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice,
                                computeStream)))
    return MP_ERROR;
  return synchronize();
}

mp_status CudaBackend::copyToHost(void *dst, const void *src, size_t bytes) {
  if (bytes &&
      checkCuda(ctx, "cudaMemcpyAsync",
                cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost,
                                computeStream)))
    return MP_ERROR;
  return synchronize();
}

// cudaMemcpy2D and cudaMemset2D take pitches up to the device's memPitch
// (2 GiB): rows that lie back to back go as one block, which has no limit.
mp_status CudaBackend::copy2D(void *dst, size_t dstPitch, const void *src,
                              size_t srcPitch, size_t widthBytes,
                              size_t height) {
  if (height == 1 || (dstPitch == widthBytes && srcPitch == widthBytes))
    return checkCuda(ctx, "cudaMemcpyAsync",
                     cudaMemcpyAsync(dst, src, widthBytes * height,
                                     cudaMemcpyDeviceToDevice, computeStream));
  return checkCuda(ctx, "cudaMemcpy2DAsync",
                   cudaMemcpy2DAsync(dst, dstPitch, src, srcPitch, widthBytes,
                                     height, cudaMemcpyDeviceToDevice,
                                     computeStream));
}

mp_status CudaBackend::copyBatch(const char *call,
                                 const std::vector<CopyRegion> &regions) {
  for (size_t first = 0; first < regions.size();
       first += cuda::kCopyBatchRegions) {
    int count = static_cast<int>(
        std::min<size_t>(cuda::kCopyBatchRegions, regions.size() - first));
    if (checkLaunch(call, cuda::launchCopyBatch(computeStream,
                                                regions.data() + first, count)))
      return MP_ERROR;
  }
  return MP_OK;
}

mp_status CudaBackend::zero2D(void *dst, size_t pitch, size_t widthBytes,
                              size_t height) {
  if (height == 1 || pitch == widthBytes)
    return checkCuda(
        ctx, "cudaMemsetAsync",
        cudaMemsetAsync(dst, 0, widthBytes * height, computeStream));
  return checkCuda(
      ctx, "cudaMemset2DAsync",
      cudaMemset2DAsync(dst, pitch, 0, widthBytes, height, computeStream));
}

mp_status CudaBackend::synchronize() {
  cuda::DeviceFault found;
  if (checkCuda(ctx, "cudaStreamSynchronize",
                cudaStreamSynchronize(computeStream)) ||
      checkCuda(
          ctx, "cudaMemcpy",
          cudaMemcpy(&found, fault, sizeof(found), cudaMemcpyDeviceToHost)))
    return MP_ERROR;
  if (found.code == cuda::DeviceFault::kNone)
    return MP_OK;
  // The error belongs to the op that launched the kernel, not to this one.
  const char *current = ctx->op;
  ctx->op = found.op;
  switch (found.code) {
  case cuda::DeviceFault::kCrossEntropyTarget:
  case cuda::DeviceFault::kCrossEntropyGradTarget:
    fail(ctx,
         found.code == cuda::DeviceFault::kCrossEntropyTarget
             ? "mp_cross_entropy_f32"
             : "mp_cross_entropy_grad_f32",
         kBadTargetFormat, found.values[0], found.values[1], found.values[2]);
    break;
  case cuda::DeviceFault::kAdamWStep:
    fail(ctx, "mp_adamw_f32", kBadStepFormat, found.step);
    break;
  case cuda::DeviceFault::kEmbeddingId:
  case cuda::DeviceFault::kEmbeddingGradId:
    fail(ctx,
         found.code == cuda::DeviceFault::kEmbeddingId
             ? "mp_embedding_f32"
             : "mp_embedding_grad_f32",
         kBadIdFormat, found.values[0], found.values[1], found.values[2]);
    break;
  case cuda::DeviceFault::kGatherLastIndex:
  case cuda::DeviceFault::kScatterLastIndex:
    fail(ctx,
         found.code == cuda::DeviceFault::kGatherLastIndex
             ? "mp_gather_last_f32"
             : "mp_scatter_last_f32",
         kBadIndexFormat, found.values[0], found.values[1], found.values[2]);
    break;
  default:
    fail(ctx, "mp_copy_to_host", "unknown device fault %u", found.code);
  }
  ctx->op = current;
  return MP_ERROR;
}

mp_status CudaBackend::checkLaunch(const char *call, cudaError_t status) {
  if (status == cudaSuccess)
    return MP_OK;
  return fail(ctx, "cudaLaunchKernel", "the kernel of %s: %s (%s)", call,
              cudaGetErrorString(status), cudaGetErrorName(status));
}

} // namespace mp::runtime
