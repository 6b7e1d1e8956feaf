//===- Streams.h - the emulated platform's work queues ----------*- C++ -*-===//
//
// What the emulated cuBLAS and NCCL share with the runtime API (Runtime.cpp):
// work is queued on a stream, or on the graph that captures it, and runs
// only when something waits for it (a stream or event synchronization, a
// copy to pageable host memory, cudaFree, or another stream's work that
// waits on an event). So work runs as late as CUDA allows, and a stream
// that reads another's results without waiting for them reads what was
// there before: a missing event shows up as wrong values, not as a race
// that a fast GPU happens to win.
//
//===----------------------------------------------------------------------===//

#ifndef MP_EMULATED_CUDA_STREAMS_H
#define MP_EMULATED_CUDA_STREAMS_H

#include "Device.h"

#include <functional>

namespace mp::emulation {

/// Queues `work` on `stream`, or on the graph capturing it.
cudaError_t enqueue(cudaStream_t stream, std::function<void()> work);

/// Runs a launch's blocks (Fibers.cpp).
void runBlocks(dim3 grid, dim3 block, size_t sharedBytes,
               const std::function<void()> &body);

/// Whether `bytes` from `pointer` lie in one device allocation.
bool isDeviceMemory(const void *pointer, size_t bytes);

} // namespace mp::emulation

#endif // MP_EMULATED_CUDA_STREAMS_H
