//===- Fibers.cpp - a kernel's blocks, their threads as fibers ------------===//
//
// runBlocks (Streams.h) runs a launch when its stream reaches it: block
// after block, each block's threads as fibers that a round-robin scheduler
// resumes until every one has returned. A fiber gives the CPU back only
// while it waits at a barrier; a round in which no fiber arrives anywhere
// or returns is a barrier that some thread never reaches. On x86-64 a
// switch saves and loads the callee-saved registers and the stack pointer
// (ucontext's swapcontext also sets the signal mask, a system call each
// way, which made the suite's launches several times slower); elsewhere
// ucontext switches. Under AddressSanitizer each switch says which stack
// it goes to (__sanitizer_start/finish_switch_fiber), so that its checks
// and reports follow the fibers' stacks.
//
//===----------------------------------------------------------------------===//

#include "Device.h"
#include "Streams.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define MP_EMULATION_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MP_EMULATION_ASAN 1
#endif
#endif
#ifdef MP_EMULATION_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__x86_64__)
// mp_emulation_switch(from, to): saves the callee-saved registers on this
// stack, stores the stack pointer in *from, loads `to` and returns into
// the fiber that saved it (or, for a new fiber, into its entry).
extern "C" void mp_emulation_switch(void **from, void *to);
asm(R"(
.text
.globl mp_emulation_switch
.type mp_emulation_switch,@function
mp_emulation_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size mp_emulation_switch,.-mp_emulation_switch
.section .note.GNU-stack,"",@progbits
.text
)");
#else
#include <ucontext.h>
#endif

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace mp::emulation {
namespace {

/// Fibers' stacks; kernels keep small frames, the emulated wmma fragments
/// (a whole tile per lane) the largest.
constexpr size_t kStackBytes = 256 * 1024;

struct Barrier {
  int expected = 0;
  int arrived = 0;
  uint64_t generation = 0;
};

/// A fiber's saved state: its stack pointer (or ucontext); under
/// AddressSanitizer also its stack's bounds and its fake stack (where
/// ASan keeps the frames of functions that have returned) while away.
struct Context {
#if defined(__x86_64__)
  void *stack = nullptr;
#else
  ucontext_t context;
#endif
#ifdef MP_EMULATION_ASAN
  const void *bottom = nullptr;
  size_t size = 0;
  void *fakeStack = nullptr;
#endif
};

struct Fiber {
  Context context;
  uint3 index;
  bool done = false;
};

/// The block that runs.
struct BlockRun {
  std::vector<Fiber> fibers;
  Barrier all;
  std::vector<Barrier> warps;
  std::vector<uint64_t> exchange;
  unsigned char *shared = nullptr;
  const std::function<void()> *body = nullptr;
};

Context scheduler;
BlockRun *running = nullptr;
int current = 0;
/// Arrivals at barriers and returns, so far: a round that adds none is
/// stuck.
uint64_t progress = 0;
std::vector<std::unique_ptr<char[]>> stacks;

/// Leaves `from` for `to`; returns when something switches back to `from`,
/// unless `from` has ended (its fiber is never resumed).
void switchTo(Context &from, Context &to, bool fromEnds = false) {
#ifdef MP_EMULATION_ASAN
  __sanitizer_start_switch_fiber(fromEnds ? nullptr : &from.fakeStack,
                                 to.bottom, to.size);
#else
  (void)fromEnds;
#endif
#if defined(__x86_64__)
  mp_emulation_switch(&from.stack, to.stack);
#else
  swapcontext(&from.context, &to.context);
#endif
#ifdef MP_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(from.fakeStack, nullptr, nullptr);
#endif
}

void fiberMain() {
#ifdef MP_EMULATION_ASAN
  // The first switch into a fiber ends here, not in switchTo; it tells
  // where the scheduler's stack (the thread's own) is.
  __sanitizer_finish_switch_fiber(nullptr, &scheduler.bottom, &scheduler.size);
#endif
  (*running->body)();
  running->fibers[current].done = true;
  ++progress;
  switchTo(running->fibers[current].context, scheduler, /*fromEnds=*/true);
}

/// Starts `fiber` at fiberMain on `stack`.
void prepare(Fiber &fiber, char *stack) {
#ifdef MP_EMULATION_ASAN
  fiber.context.bottom = stack;
  fiber.context.size = kStackBytes;
  fiber.context.fakeStack = nullptr;
#endif
#if defined(__x86_64__)
  // What mp_emulation_switch pops: six registers, then fiberMain as the
  // return address, 16-byte aligned as a call would leave it (the slot
  // above is fiberMain's own return address, never used).
  auto top = reinterpret_cast<uintptr_t>(stack + kStackBytes) & ~uintptr_t(15);
  auto *frame = reinterpret_cast<void **>(top) - 8;
  for (int slot = 0; slot < 6; ++slot)
    frame[slot] = nullptr;
  frame[6] = reinterpret_cast<void *>(fiberMain);
  frame[7] = nullptr;
  fiber.context.stack = frame;
#else
  getcontext(&fiber.context.context);
  fiber.context.context.uc_stack.ss_sp = stack;
  fiber.context.context.uc_stack.ss_size = kStackBytes;
  fiber.context.context.uc_link = nullptr;
  makecontext(&fiber.context.context, fiberMain, 0);
#endif
}

/// Back to the scheduler, which resumes the other fibers first.
void yieldToScheduler() {
  switchTo(running->fibers[current].context, scheduler);
}

void arrive(Barrier &barrier) {
  ++progress;
  uint64_t generation = barrier.generation;
  if (++barrier.arrived == barrier.expected) {
    barrier.arrived = 0;
    ++barrier.generation;
    return;
  }
  while (barrier.generation == generation)
    yieldToScheduler();
}

void runBlock(BlockRun &block) {
  int threads = static_cast<int>(block.fibers.size());
  while (stacks.size() < block.fibers.size())
    stacks.push_back(std::make_unique<char[]>(kStackBytes));
  for (int t = 0; t < threads; ++t) {
    block.fibers[t].done = false;
    prepare(block.fibers[t], stacks[t].get());
  }
  running = &block;
  for (int live = threads; live > 0;) {
    uint64_t before = progress;
    for (int t = 0; t < threads; ++t) {
      Fiber &fiber = block.fibers[t];
      if (fiber.done)
        continue;
      current = t;
      threadIdx = fiber.index;
      switchTo(scheduler, fiber.context);
      if (fiber.done)
        --live;
    }
    if (live > 0 && progress == before)
      fault("a barrier (__syncthreads, __syncwarp or a warp shuffle) that "
            "some thread of the block never reaches");
  }
  running = nullptr;
}

} // namespace

int threadInBlock() {
  return static_cast<int>(
      threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
}

void syncBlock() { arrive(running->all); }

void syncWarp() { arrive(running->warps[threadInBlock() / 32]); }

uint64_t exchangeInWarp(uint64_t value, int laneMask) {
  int thread = threadInBlock();
  int partner = thread / 32 * 32 + (thread % 32 ^ laneMask);
  if (laneMask < 0 || laneMask >= 32 ||
      partner >= static_cast<int>(running->fibers.size()))
    fault("a warp shuffle from a lane the warp does not have");
  running->exchange[thread] = value;
  syncWarp();
  uint64_t other = running->exchange[partner];
  // Every lane has read before a next shuffle writes.
  syncWarp();
  return other;
}

unsigned char *dynamicSharedMemory() { return running->shared; }

void runBlocks(dim3 grid, dim3 block, size_t sharedBytes,
               const std::function<void()> &body) {
  if (running)
    fault("a kernel launched from a kernel");
  int threads = static_cast<int>(block.x * block.y * block.z);
  BlockRun run;
  run.fibers.resize(threads);
  for (int t = 0; t < threads; ++t)
    run.fibers[t].index = {t % block.x, t / block.x % block.y,
                           t / (block.x * block.y)};
  run.all.expected = threads;
  for (int base = 0; base < threads; base += 32)
    run.warps.push_back({std::min(32, threads - base)});
  run.exchange.resize(threads);
  run.body = &body;
  // Exactly the bytes launched with, so that AddressSanitizer reports an
  // access past them.
  void *sharedMemory = nullptr;
  if (posix_memalign(&sharedMemory, 128, std::max<size_t>(sharedBytes, 1)))
    fault("no host memory for a block's shared memory");
  std::unique_ptr<unsigned char, decltype(&std::free)> shared(
      static_cast<unsigned char *>(sharedMemory), std::free);
  run.shared = shared.get();
  blockDim = block;
  gridDim = grid;
  // Last block first: a GPU runs blocks in no order, and a kernel that
  // needs one (block 0 before the others) fails here.
  for (unsigned z = grid.z; z-- > 0;)
    for (unsigned y = grid.y; y-- > 0;)
      for (unsigned x = grid.x; x-- > 0;) {
        blockIdx = {x, y, z};
        std::memset(run.shared, 0xff, sharedBytes);
        runBlock(run);
      }
}

} // namespace mp::emulation
