//===- Runtime.cpp - the CUDA runtime API on the CPU ----------------------===//
//
// Streams are queues that run lazily (Streams.h); a capture records what
// is queued on the streams it holds, per stream, and a graph launch replays
// those queues as lazily as live ones: the captured streams' work runs only
// where the origin stream waits for it. CUDA's rules that a backend can
// break are checked and answered with CUDA's errors: a capture must join
// every stream it forked, may not wait on work outside it, and the calling
// thread may not synchronize or allocate with cudaMalloc while it captures
// (cudaStreamCaptureModeThreadLocal), which invalidates the capture.
//
//===----------------------------------------------------------------------===//

#include "Streams.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

using mp::emulation::fault;

namespace {

struct Queue;

/// Work, or a wait for another queue to reach a position.
struct Item {
  std::function<void()> work;
  Queue *waitQueue = nullptr;
  uint64_t waitUntil = 0;
};

struct Queue {
  std::deque<Item> items;
  /// Items ever queued, and ever started.
  uint64_t queued = 0, started = 0;
  bool running = false;

  void push(Item item) {
    items.push_back(std::move(item));
    ++queued;
  }
};

/// Runs `queue` until `position` items have started (and, the loop being
/// depth-first, finished).
void runUntil(Queue &queue, uint64_t position) {
  while (queue.started < position) {
    if (queue.running)
      fault("streams wait on each other's later work: the GPU would "
            "deadlock");
    Item item = std::move(queue.items.front());
    queue.items.pop_front();
    ++queue.started;
    queue.running = true;
    if (item.waitQueue)
      runUntil(*item.waitQueue, item.waitUntil);
    else
      item.work();
    queue.running = false;
  }
}

void runAll(Queue &queue) { runUntil(queue, queue.queued); }

/// Device allocations by address, with their sizes.
std::map<const char *, size_t, std::less<>> deviceAllocations;
/// Which recording owns an allocation made while capturing.
struct Recording;
std::map<void *, Recording *> graphAllocations;

/// What a capture recorded: a queue per stream it held, the origin's
/// first; allocations made in it stay with the graph, unless freed outside
/// it.
struct Recording {
  std::vector<std::pair<cudaStream_t, std::unique_ptr<Queue>>> queues;
  std::set<void *> allocations;

  Queue &queueOf(cudaStream_t stream) {
    for (auto &[owner, queue] : queues)
      if (owner == stream)
        return *queue;
    queues.emplace_back(stream, std::make_unique<Queue>());
    return *queues.back().second;
  }
  ~Recording() {
    for (void *pointer : allocations) {
      deviceAllocations.erase(static_cast<char *>(pointer));
      graphAllocations.erase(pointer);
      std::free(pointer);
    }
  }
};

} // namespace

struct CUgraph_st {
  cudaStream_t origin;
  std::shared_ptr<Recording> recording = std::make_shared<Recording>();
  bool invalidated = false;
};

struct CUgraphExec_st {
  std::shared_ptr<Recording> recording;
};

struct CUstream_st {
  Queue live;
  CUgraph_st *capture = nullptr;
};

struct CUevent_st {
  Queue *queue = nullptr;
  uint64_t position = 0;
  CUgraph_st *capture = nullptr;
};

struct CUmemPoolHandle_st {};

namespace {

thread_local cudaError_t lastError = cudaSuccess;
/// Captures begun by this thread (thread-local mode).
thread_local std::set<CUgraph_st *> capturesOfThisThread;

CUstream_st legacyStream;
/// Streams in the order they were made.
std::vector<cudaStream_t> streams;
std::set<const void *> pinnedAllocations;
std::map<const void *, int> dynamicSharedLimits;
CUmemPoolHandle_st defaultPool;

constexpr int kSharedOptin = 227 * 1024;
constexpr int kSharedDefault = 48 * 1024;

cudaStream_t resolve(cudaStream_t stream) {
  return stream ? stream : &legacyStream;
}

/// An API call that CUDA refuses while this thread captures: it
/// invalidates the captures.
bool refusedInCapture() {
  if (capturesOfThisThread.empty())
    return false;
  for (CUgraph_st *capture : capturesOfThisThread)
    capture->invalidated = true;
  return true;
}

/// Where work queued on `stream` goes: the queue of the capture that holds
/// it, or its own.
Queue &queueOf(cudaStream_t stream) {
  return stream->capture ? stream->capture->recording->queueOf(stream)
                         : stream->live;
}

void runEverything() {
  runAll(legacyStream.live);
  for (cudaStream_t stream : streams)
    runAll(stream->live);
}

/// 256-byte aligned as cudaMalloc's, and exactly `bytes` long (where CUDA
/// rounds up), so that AddressSanitizer reports an access past them as
/// compute-sanitizer's memcheck does.
void *allocate(size_t bytes) {
  void *pointer = nullptr;
  if (posix_memalign(&pointer, 256, std::max<size_t>(bytes, 1)))
    return nullptr;
  // Uninitialized device memory reads as NaN.
  std::memset(pointer, 0xff, bytes);
  return pointer;
}

/// Device memory, registered for the pointer checks.
void *allocateDevice(size_t bytes) {
  void *pointer = allocate(bytes);
  if (pointer)
    deviceAllocations[static_cast<char *>(pointer)] = bytes;
  return pointer;
}

/// The CUDA device a rank sees: CUDA_VISIBLE_DEVICES's list when set, else
/// MP_EMULATED_CUDA_DEVICES (8 by default) devices.
std::vector<int> visibleDevices() {
  std::vector<int> devices;
  if (const char *visible = std::getenv("CUDA_VISIBLE_DEVICES")) {
    std::string list = visible;
    size_t start = 0;
    while (start < list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos)
        end = list.size();
      devices.push_back(std::atoi(list.substr(start, end - start).c_str()));
      start = end + 1;
    }
    return devices;
  }
  const char *count = std::getenv("MP_EMULATED_CUDA_DEVICES");
  for (int d = 0, n = count ? std::atoi(count) : 8; d < n; ++d)
    devices.push_back(d);
  return devices;
}

cudaError_t checkCopy(const void *dst, const void *src, size_t bytes,
                      cudaMemcpyKind kind) {
  bool fromDevice =
      kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  bool toDevice =
      kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  if (bytes == 0)
    return cudaSuccess;
  if ((fromDevice && !mp::emulation::isDeviceMemory(src, bytes)) ||
      (toDevice && !mp::emulation::isDeviceMemory(dst, bytes)) ||
      (!fromDevice && mp::emulation::isDeviceMemory(src, 1)) ||
      (!toDevice && mp::emulation::isDeviceMemory(dst, 1)))
    return cudaErrorInvalidValue;
  return cudaSuccess;
}

} // namespace

namespace mp::emulation {

cudaError_t enqueue(cudaStream_t stream, std::function<void()> work) {
  stream = resolve(stream);
  // An invalidated capture records nothing more.
  if (!stream->capture || !stream->capture->invalidated)
    queueOf(stream).push({std::move(work)});
  return cudaSuccess;
}

bool isDeviceMemory(const void *pointer, size_t bytes) {
  auto *address = static_cast<const char *>(pointer);
  auto next = deviceAllocations.upper_bound(address);
  if (next == deviceAllocations.begin())
    return false;
  --next;
  return address + bytes <= next->first + next->second;
}

void launchKernel(const void *kernel, dim3 grid, dim3 block, size_t sharedBytes,
                  cudaStream_t stream, std::function<void()> body) {
  uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 ||
      grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 ||
      grid.z > 65535) {
    lastError = cudaErrorInvalidConfiguration;
    return;
  }
  auto limit = dynamicSharedLimits.find(kernel);
  if (sharedBytes > size_t(limit == dynamicSharedLimits.end()
                               ? kSharedDefault
                               : limit->second)) {
    lastError = cudaErrorInvalidValue;
    return;
  }
  enqueue(stream, [=, body = std::move(body)] {
    runBlocks(grid, block, sharedBytes, body);
  });
}

} // namespace mp::emulation

cudaError_t cudaGetLastError() {
  cudaError_t error = lastError;
  lastError = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() { return lastError; }

const char *cudaGetErrorName(cudaError_t error) {
  switch (error) {
  case cudaSuccess:
    return "cudaSuccess";
  case cudaErrorInvalidValue:
    return "cudaErrorInvalidValue";
  case cudaErrorMemoryAllocation:
    return "cudaErrorMemoryAllocation";
  case cudaErrorInvalidConfiguration:
    return "cudaErrorInvalidConfiguration";
  case cudaErrorInvalidDevice:
    return "cudaErrorInvalidDevice";
  case cudaErrorInvalidResourceHandle:
    return "cudaErrorInvalidResourceHandle";
  case cudaErrorNotReady:
    return "cudaErrorNotReady";
  case cudaErrorStreamCaptureUnsupported:
    return "cudaErrorStreamCaptureUnsupported";
  case cudaErrorStreamCaptureInvalidated:
    return "cudaErrorStreamCaptureInvalidated";
  case cudaErrorStreamCaptureUnmatched:
    return "cudaErrorStreamCaptureUnmatched";
  case cudaErrorStreamCaptureUnjoined:
    return "cudaErrorStreamCaptureUnjoined";
  case cudaErrorStreamCaptureIsolation:
    return "cudaErrorStreamCaptureIsolation";
  case cudaErrorStreamCaptureImplicit:
    return "cudaErrorStreamCaptureImplicit";
  case cudaErrorStreamCaptureWrongThread:
    return "cudaErrorStreamCaptureWrongThread";
  }
  return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t error) {
  switch (error) {
  case cudaSuccess:
    return "no error";
  case cudaErrorInvalidValue:
    return "invalid argument";
  case cudaErrorMemoryAllocation:
    return "out of memory";
  case cudaErrorInvalidConfiguration:
    return "invalid configuration argument";
  case cudaErrorInvalidDevice:
    return "invalid device ordinal";
  case cudaErrorStreamCaptureUnsupported:
    return "operation not permitted when stream is capturing";
  case cudaErrorStreamCaptureInvalidated:
    return "operation failed due to a previous error during capture";
  case cudaErrorStreamCaptureUnjoined:
    return "capture operation not joined";
  case cudaErrorStreamCaptureIsolation:
    return "operation would make the legacy stream depend on a capturing "
           "blocking stream";
  default:
    return cudaGetErrorName(error);
  }
}

cudaError_t cudaGetDeviceCount(int *count) {
  *count = static_cast<int>(visibleDevices().size());
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  int count = 0;
  cudaGetDeviceCount(&count);
  return device >= 0 && device < count ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *properties, int device) {
  std::vector<int> devices = visibleDevices();
  if (device < 0 || device >= static_cast<int>(devices.size()))
    return cudaErrorInvalidDevice;
  *properties = {};
  std::snprintf(properties->name, sizeof(properties->name),
                "mp emulated CUDA device %d", devices[device]);
  std::snprintf(properties->uuid.bytes, sizeof(properties->uuid.bytes),
                "emulated-%d", devices[device]);
  properties->totalGlobalMem = size_t(1) << 34;
  properties->sharedMemPerBlock = kSharedDefault;
  properties->sharedMemPerBlockOptin = kSharedOptin;
  properties->memPitch = INT32_MAX;
  properties->maxThreadsPerBlock = 1024;
  properties->multiProcessorCount = 132;
  properties->major = 9;
  properties->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attribute,
                                   int device) {
  if (cudaSetDevice(device) != cudaSuccess)
    return cudaErrorInvalidDevice;
  if (attribute != cudaDevAttrMaxSharedMemoryPerBlockOptin)
    return cudaErrorInvalidValue;
  *value = kSharedOptin;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  if (refusedInCapture())
    return cudaErrorStreamCaptureUnsupported;
  runEverything();
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void *function,
                                 cudaFuncAttribute attribute, int value) {
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 ||
      value > kSharedOptin)
    return cudaErrorInvalidValue;
  dynamicSharedLimits[function] = value;
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned) {
  *stream = new CUstream_st();
  streams.push_back(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  auto found = std::find(streams.begin(), streams.end(), stream);
  if (found == streams.end())
    return cudaErrorInvalidResourceHandle;
  // Work queued before runs before the stream goes.
  runAll(stream->live);
  streams.erase(found);
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  stream = resolve(stream);
  if (stream->capture) {
    stream->capture->invalidated = true;
    return cudaErrorStreamCaptureUnsupported;
  }
  if (refusedInCapture())
    return cudaErrorStreamCaptureImplicit;
  runAll(stream->live);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned) {
  *event = new CUevent_st();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  stream = resolve(stream);
  event->capture = stream->capture;
  event->queue = &queueOf(stream);
  event->position = event->queue->queued;
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event,
                                unsigned) {
  stream = resolve(stream);
  if (!event->queue)
    return cudaSuccess;
  if (event->capture != stream->capture) {
    // A stream that waits on a capturing stream joins its capture; any
    // other mix of captured and live work is refused.
    if (stream->capture || !event->capture)
      return cudaErrorStreamCaptureIsolation;
    if (event->capture->invalidated)
      return cudaErrorStreamCaptureInvalidated;
    stream->capture = event->capture;
  }
  queueOf(stream).push({nullptr, event->queue, event->position});
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (event->capture)
    return cudaErrorStreamCaptureUnsupported;
  if (refusedInCapture())
    return cudaErrorStreamCaptureImplicit;
  if (event->queue)
    runUntil(*event->queue, event->position);
  return cudaSuccess;
}

cudaError_t cudaMalloc(void **pointer, size_t bytes) {
  if (refusedInCapture())
    return cudaErrorStreamCaptureUnsupported;
  *pointer = allocateDevice(bytes);
  if (!*pointer)
    return cudaErrorMemoryAllocation;
  return cudaSuccess;
}

cudaError_t cudaFree(void *pointer) {
  if (!pointer)
    return cudaSuccess;
  if (refusedInCapture())
    return cudaErrorStreamCaptureUnsupported;
  auto allocation = deviceAllocations.find(static_cast<char *>(pointer));
  if (allocation == deviceAllocations.end())
    return cudaErrorInvalidValue;
  // cudaFree waits for the device.
  runEverything();
  deviceAllocations.erase(allocation);
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void **pointer, size_t bytes) {
  if (refusedInCapture())
    return cudaErrorStreamCaptureUnsupported;
  *pointer = allocate(bytes);
  if (!*pointer)
    return cudaErrorMemoryAllocation;
  pinnedAllocations.insert(*pointer);
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void *pointer) {
  if (!pointer)
    return cudaSuccess;
  if (!pinnedAllocations.erase(pointer))
    return cudaErrorInvalidValue;
  runEverything();
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void **pointer, size_t bytes, cudaStream_t stream) {
  stream = resolve(stream);
  *pointer = allocateDevice(bytes);
  if (!*pointer)
    return cudaErrorMemoryAllocation;
  if (stream->capture) {
    stream->capture->recording->allocations.insert(*pointer);
    graphAllocations[*pointer] = stream->capture->recording.get();
  }
  return cudaSuccess;
}

cudaError_t cudaFreeAsync(void *pointer, cudaStream_t stream) {
  stream = resolve(stream);
  auto allocation = deviceAllocations.find(static_cast<char *>(pointer));
  if (allocation == deviceAllocations.end())
    return cudaErrorInvalidValue;
  size_t bytes = allocation->second;
  if (stream->capture) {
    // The graph keeps its allocation (a replay reuses its address); freed
    // in stream order, it reads as NaN until written again.
    return mp::emulation::enqueue(
        stream, [pointer, bytes] { std::memset(pointer, 0xff, bytes); });
  }
  deviceAllocations.erase(allocation);
  if (auto owner = graphAllocations.find(pointer);
      owner != graphAllocations.end()) {
    // A graph's allocation, freed outside it: no longer the graph's.
    owner->second->allocations.erase(pointer);
    graphAllocations.erase(owner);
  }
  return mp::emulation::enqueue(stream, [pointer, bytes] {
    std::memset(pointer, 0xff, bytes);
    std::free(pointer);
  });
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *pool, int device) {
  if (cudaSetDevice(device) != cudaSuccess)
    return cudaErrorInvalidDevice;
  *pool = &defaultPool;
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void *) {
  return cudaSuccess;
}

cudaError_t cudaMemPoolTrimTo(cudaMemPool_t, size_t) {
  return refusedInCapture() ? cudaErrorStreamCaptureUnsupported : cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes,
                       cudaMemcpyKind kind) {
  if (refusedInCapture())
    return cudaErrorStreamCaptureUnsupported;
  if (cudaError_t status = checkCopy(dst, src, bytes, kind))
    return status;
  // Through the legacy stream, which the backend's non-blocking streams do
  // not wait for, nor it for them.
  runAll(legacyStream.live);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                            cudaMemcpyKind kind, cudaStream_t stream) {
  stream = resolve(stream);
  if (cudaError_t status = checkCopy(dst, src, bytes, kind))
    return status;
  if (kind == cudaMemcpyHostToDevice && !pinnedAllocations.count(src)) {
    // From pageable memory CUDA stages the source before returning.
    auto staged = std::make_shared<std::vector<char>>(
        static_cast<const char *>(src), static_cast<const char *>(src) + bytes);
    return mp::emulation::enqueue(stream, [dst, staged] {
      std::memcpy(dst, staged->data(), staged->size());
    });
  }
  if (kind == cudaMemcpyDeviceToHost && !pinnedAllocations.count(dst)) {
    // To pageable memory the copy is done when the call returns.
    if (stream->capture) {
      stream->capture->invalidated = true;
      return cudaErrorStreamCaptureUnsupported;
    }
    runAll(stream->live);
    std::memcpy(dst, src, bytes);
    return cudaSuccess;
  }
  return mp::emulation::enqueue(stream, [=] { std::memmove(dst, src, bytes); });
}

cudaError_t cudaMemcpy2DAsync(void *dst, size_t dstPitch, const void *src,
                              size_t srcPitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream) {
  if (kind != cudaMemcpyDeviceToDevice || width > dstPitch || width > srcPitch)
    return cudaErrorInvalidValue;
  if (height == 0 || width == 0)
    return cudaSuccess;
  size_t dstSpan = dstPitch * (height - 1) + width;
  size_t srcSpan = srcPitch * (height - 1) + width;
  if (!mp::emulation::isDeviceMemory(dst, dstSpan) ||
      !mp::emulation::isDeviceMemory(src, srcSpan))
    return cudaErrorInvalidValue;
  return mp::emulation::enqueue(stream, [=] {
    for (size_t row = 0; row < height; ++row)
      std::memcpy(static_cast<char *>(dst) + row * dstPitch,
                  static_cast<const char *>(src) + row * srcPitch, width);
  });
}

cudaError_t cudaMemset(void *dst, int value, size_t bytes) {
  if (refusedInCapture())
    return cudaErrorStreamCaptureUnsupported;
  if (bytes && !mp::emulation::isDeviceMemory(dst, bytes))
    return cudaErrorInvalidValue;
  runAll(legacyStream.live);
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *dst, int value, size_t bytes,
                            cudaStream_t stream) {
  if (bytes && !mp::emulation::isDeviceMemory(dst, bytes))
    return cudaErrorInvalidValue;
  return mp::emulation::enqueue(stream,
                                [=] { std::memset(dst, value, bytes); });
}

cudaError_t cudaMemset2DAsync(void *dst, size_t pitch, int value, size_t width,
                              size_t height, cudaStream_t stream) {
  if (width > pitch)
    return cudaErrorInvalidValue;
  if (height == 0 || width == 0)
    return cudaSuccess;
  if (!mp::emulation::isDeviceMemory(dst, pitch * (height - 1) + width))
    return cudaErrorInvalidValue;
  return mp::emulation::enqueue(stream, [=] {
    for (size_t row = 0; row < height; ++row)
      std::memset(static_cast<char *>(dst) + row * pitch, value, width);
  });
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream,
                                   cudaStreamCaptureMode mode) {
  if (!stream || stream->capture || mode != cudaStreamCaptureModeThreadLocal)
    // The backend captures in thread-local mode only; the others'
    // rules are not emulated.
    return cudaErrorInvalidValue;
  auto *graph = new CUgraph_st();
  graph->origin = stream;
  graph->recording->queueOf(stream);
  stream->capture = graph;
  capturesOfThisThread.insert(graph);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t *graph) {
  *graph = nullptr;
  CUgraph_st *capture = stream ? stream->capture : nullptr;
  if (!capture)
    return cudaErrorInvalidValue;
  if (capture->origin != stream)
    return cudaErrorStreamCaptureUnmatched;
  capturesOfThisThread.erase(capture);
  // Every stream the capture forked must have been joined back: the
  // origin waits, directly or through other streams' waits, for all of
  // its work.
  Queue &origin = capture->recording->queueOf(stream);
  std::map<const Queue *, uint64_t> waitedFor = {{&origin, origin.queued}};
  for (std::vector<const Queue *> pending = {&origin}; !pending.empty();) {
    const Queue *queue = pending.back();
    pending.pop_back();
    for (uint64_t i = 0; i < waitedFor[queue]; ++i) {
      const Item &item = queue->items[i];
      if (!item.waitQueue)
        continue;
      uint64_t &reached = waitedFor[item.waitQueue];
      if (item.waitUntil > reached) {
        reached = item.waitUntil;
        pending.push_back(item.waitQueue);
      }
    }
  }
  bool joined = true;
  for (auto &[owner, queue] : capture->recording->queues) {
    if (owner->capture == capture)
      owner->capture = nullptr;
    joined &= waitedFor[queue.get()] == queue->queued;
  }
  if (capture->invalidated || !joined) {
    delete capture;
    return joined ? cudaErrorStreamCaptureInvalidated
                  : cudaErrorStreamCaptureUnjoined;
  }
  *graph = capture;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph,
                                 unsigned long long) {
  if (!graph)
    return cudaErrorInvalidValue;
  *exec = new CUgraphExec_st{graph->recording};
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  std::shared_ptr<Recording> recording = exec->recording;
  return mp::emulation::enqueue(stream, [recording] {
    // A fresh copy of each captured queue, its waits pointed at the copies.
    std::map<const Queue *, Queue *> copies;
    std::vector<Queue> replay(recording->queues.size());
    for (size_t q = 0; q < replay.size(); ++q)
      copies[recording->queues[q].second.get()] = &replay[q];
    for (size_t q = 0; q < replay.size(); ++q)
      for (const Item &item : recording->queues[q].second->items)
        replay[q].push({item.work,
                        item.waitQueue ? copies.at(item.waitQueue) : nullptr,
                        item.waitUntil});
    // The origin runs whole; what the others hold beyond its waits (none,
    // the capture being joined) would follow.
    for (Queue &queue : replay)
      runAll(queue);
  });
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
