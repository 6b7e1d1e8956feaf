//===- HostBackend.cpp - host memory and its copies -----------------------===//

#include "HostBackend.h"

#include <cstdlib>
#include <cstring>

namespace mp::runtime {

std::unique_ptr<Backend> createHostBackend(mp_context *ctx) {
  return std::make_unique<HostBackend>(ctx);
}

HostBackend::~HostBackend() {
  for (auto &[axes, comm] : communicators)
    MPI_Comm_free(&comm);
}

void *HostBackend::allocate(size_t bytes) {
  // 64-byte aligned, as the compiler's memory plan aligns its buffers.
  void *ptr = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64 * !bytes);
  if (!ptr)
    fail(ctx, "mp_alloc", "out of memory allocating %zu bytes", bytes);
  return ptr;
}

void HostBackend::release(void *ptr) { std::free(ptr); }

mp_status HostBackend::copy(void *dst, const void *src, size_t bytes) {
  std::memmove(dst, src, bytes);
  return MP_OK;
}

// Host memory is the backend's: both directions are plain copies.
mp_status HostBackend::copyToBackend(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return MP_OK;
}

mp_status HostBackend::copyToHost(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memcpy(dst, src, bytes);
  return MP_OK;
}

} // namespace mp::runtime
