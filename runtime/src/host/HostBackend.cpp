//===- HostBackend.cpp - host memory and its copies -----------------------===//

#include "HostBackend.h"

#ifdef MP_HAVE_OPENBLAS_SET_NUM_THREADS
#include <cblas.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace mp::runtime {

std::unique_ptr<Backend> createHostBackend(mp_context *ctx) {
  int transport = readChoice(ctx, "MP_HOST_TRANSPORT", {"mpi", "staged"});
  if (transport < 0)
    return nullptr;
  return std::make_unique<HostBackend>(ctx, transport == 1);
}

namespace {
/// The threads one rank's kernels get: MP_NUM_THREADS, else its share of
/// the node's cores (the ranks on a node share them).
int getRankThreads(mp_context *ctx) {
  if (const char *forced = std::getenv("MP_NUM_THREADS"))
    return std::max(1, std::atoi(forced));
  MPI_Comm node;
  int ranksOnNode = 1;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, ctx->rank,
                          MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    MPI_Comm_size(node, &ranksOnNode);
    MPI_Comm_free(&node);
  }
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, ranksOnNode));
}
} // namespace

HostBackend::HostBackend(mp_context *ctx, bool staged)
    : Backend(ctx), threads(getRankThreads(ctx)),
      collectives(ctx, staged ? this : nullptr, /*hostMemory=*/true) {
#ifdef MP_HAVE_OPENBLAS_SET_NUM_THREADS
  // OpenBLAS sizes its own pool, all the node's cores by default (its
  // OpenMP build reads OMP_NUM_THREADS, not OPENBLAS_NUM_THREADS): each of
  // 4 ranks on 2 cores ran 2 GEMM threads on the cores the others needed
  // (the FFN 2x2 step 332 ms instead of 108, bench/README.md). Unless the
  // user sized it, it gets the rank's share.
  if (!std::getenv("OPENBLAS_NUM_THREADS") && !std::getenv("OMP_NUM_THREADS"))
    openblas_set_num_threads(threads);
#endif
}

HostBackend::~HostBackend() {
  for (auto &[bytes, ptr] : freeBlocks)
    std::free(ptr);
}

void *HostBackend::allocate(size_t bytes) {
  // 64-byte aligned, as the compiler's memory plan aligns its buffers.
  size_t blockSize = (bytes + 63) / 64 * 64 + 64 * !bytes;
  void *ptr = nullptr;
  if (auto it = freeBlocks.find(blockSize); it != freeBlocks.end()) {
    ptr = it->second;
    freeBlocks.erase(it);
  } else {
    // Another pattern of sizes: what was kept goes back, so the blocks held
    // stay within the peak of live ones and one reused block.
    for (auto &[size, block] : freeBlocks)
      std::free(block);
    freeBlocks.clear();
    ptr = std::aligned_alloc(64, blockSize);
    if (!ptr) {
      fail(ctx, "mp_alloc", "out of memory allocating %zu bytes", bytes);
      return nullptr;
    }
  }
  blockBytes[ptr] = blockSize;
  return ptr;
}

void HostBackend::release(void *ptr) {
  auto it = blockBytes.find(ptr);
  freeBlocks.emplace(it->second, ptr);
  blockBytes.erase(it);
}

// memcpy moves any host memory at full speed: nothing to pin.
void *HostBackend::allocateHost(size_t bytes) {
  void *ptr = std::malloc(bytes);
  if (!ptr)
    fail(ctx, "malloc", "out of memory allocating %zu staging bytes", bytes);
  return ptr;
}

void HostBackend::releaseHost(void *ptr) { std::free(ptr); }

mp_status HostBackend::copy(void *dst, const void *src, size_t bytes) {
  std::memmove(dst, src, bytes);
  return MP_OK;
}

// Host memory is the backend's: both directions are plain copies.
mp_status HostBackend::copyToBackend(void *dst, const void *src, size_t bytes) {
  // An empty staged collective copies back 0 bytes to a tensor that may be
  // null, which memcpy does not take.
  if (bytes)
    std::memcpy(dst, src, bytes);
  return MP_OK;
}

mp_status HostBackend::copyToHost(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memcpy(dst, src, bytes);
  return MP_OK;
}

mp_status HostBackend::copy2D(void *dst, size_t dstPitch, const void *src,
                              size_t srcPitch, size_t widthBytes,
                              size_t height) {
  for (size_t row = 0; row < height; ++row)
    std::memcpy(static_cast<char *>(dst) + row * dstPitch,
                static_cast<const char *>(src) + row * srcPitch, widthBytes);
  return MP_OK;
}

mp_status HostBackend::zero2D(void *dst, size_t pitch, size_t widthBytes,
                              size_t height) {
  for (size_t row = 0; row < height; ++row)
    std::memset(static_cast<char *>(dst) + row * pitch, 0, widthBytes);
  return MP_OK;
}

} // namespace mp::runtime
