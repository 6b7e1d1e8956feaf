//===- CudaEmulation.h - CUDA blocks on CPU threads -------------*- C++ -*-===//
//
// Runs kernel code written against a few CUDA primitives on the CPU, so the
// suite checks what a kernel computes on a machine without a GPU: a block
// is one std::thread per CUDA thread, with barriers for __syncthreads and
// __syncwarp and an exchange buffer for warp shuffles; blocks run one after
// another, with wmma's fragments from EmulatedWmma.h. A lane that reads
// another's stores without a barrier between them races here as on the GPU,
// and ThreadSanitizer on the emulation program reports it (the fiber engine
// of emulated-cuda/, which runs a whole backend, cannot). Shared memory
// starts as NaN bytes, so a read before a write shows in the results.
//
// Timing, occupancy and memory ordering beyond the barriers are not
// emulated: this checks values, the device check measures speed.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_TEST_CUDAEMULATION_H
#define MP_RUNTIME_TEST_CUDAEMULATION_H

#include "EmulatedWmma.h"

#include <barrier>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace mp::emulation {

/// What each CUDA thread of the running block knows.
struct Block {
  explicit Block(int threads)
      : all(threads), exchange(threads), shared(nullptr, std::free) {
    if (threads % 32 != 0)
      fault("blocks must hold whole warps");
    for (int w = 0; w < threads / 32; ++w)
      warps.push_back(std::make_unique<std::barrier<>>(32));
  }
  std::barrier<> all;
  std::vector<std::unique_ptr<std::barrier<>>> warps;
  std::vector<float> exchange;
  std::unique_ptr<unsigned char, decltype(&std::free)> shared;
};

inline thread_local int currentThread = -1;
inline thread_local Block *currentBlock = nullptr;

inline int threadInBlock() { return currentThread; }
inline void syncBlock() { currentBlock->all.arrive_and_wait(); }
inline void syncWarp() {
  currentBlock->warps[currentThread / 32]->arrive_and_wait();
}
/// __shfl_xor_sync over the whole warp.
inline float shuffleXor(float value, int laneMask) {
  std::vector<float> &slots = currentBlock->exchange;
  int warpBase = currentThread / 32 * 32;
  slots[currentThread] = value;
  syncWarp();
  float other = slots[warpBase + ((currentThread - warpBase) ^ laneMask)];
  // Every lane has read before a next shuffle writes.
  syncWarp();
  return other;
}

/// Runs `body(shared, block, blocks)` on `threads` threads for each of
/// `blocks` blocks, with `sharedBytes` of NaN-filled shared memory.
template <typename Body>
void launch(int64_t blocks, int threads, size_t sharedBytes, Body body) {
  for (int64_t b = 0; b < blocks; ++b) {
    Block block(threads);
    size_t bytes = (sharedBytes + 127) / 128 * 128;
    block.shared.reset(static_cast<unsigned char *>(
        std::aligned_alloc(128, bytes ? bytes : 128)));
    std::memset(block.shared.get(), 0xff, bytes);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        currentThread = t;
        currentBlock = &block;
        body(block.shared.get(), b, blocks);
      });
    for (std::thread &worker : workers)
      worker.join();
  }
}

} // namespace mp::emulation

#endif // MP_RUNTIME_TEST_CUDAEMULATION_H
