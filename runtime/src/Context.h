//===- Context.h - the runtime's per-rank state -----------------*- C++ -*-===//

#ifndef MP_RUNTIME_CONTEXT_H
#define MP_RUNTIME_CONTEXT_H

#include "Backend.h"
#include "mp_runtime.h"

#include "Profile.h"

#include <mpi.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct mp_context {
  std::vector<std::string> axisNames;
  std::vector<int64_t> axisSizes;
  std::vector<int64_t> coordinates;
  mp_backend backendKind = MP_BACKEND_HOST;
  /// Null until mp_context_create succeeds.
  std::unique_ptr<mp::runtime::Backend> backend;
  int rank = 0;
  int worldSize = 1;
  bool ownsMpi = false;
  std::string error;
  bool failed = false;
  /// The op of the step now running, for error messages.
  const char *op = nullptr;
  /// Set when MP_PROFILE=1; mp_context_status ends a step's last op.
  mutable std::unique_ptr<mp::runtime::Profiler> profiler;
  /// Between mp_graph_begin_capture and mp_graph_end_capture: calls are
  /// recorded into a CUDA graph, not run, and those that must reach the
  /// host (mp_copy_to_host, mp_copy_to_backend) are refused.
  bool capturing = false;
  /// The slot mp_async_begin named for the next collective (-1: none), and
  /// the slots whose collectives were issued and not yet waited for.
  int asyncSlot = -1;
  uint64_t pendingSlots = 0;
  /// Per slot, what an asynchronous grouped call still does at its
  /// mp_async_wait: unpack its packed buffer once the collective is done.
  std::array<std::function<mp_status()>, MP_ASYNC_SLOTS> unpackAtWait;
  std::unordered_map<void *, size_t> allocations;
  size_t liveBytes = 0;
  size_t peakBytes = 0;
};

/// Errors are sticky: a call on a failed context does nothing.
#define MP_RETURN_IF_FAILED(ctx)                                               \
  do {                                                                         \
    if ((ctx)->failed)                                                         \
      return MP_ERROR;                                                         \
  } while (false)

namespace mp::runtime {

/// Records "<call> failed on rank <r> (in <op>): <message>" unless an error
/// is already recorded, and returns MP_ERROR.
mp_status fail(mp_context *ctx, const char *call, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/// Counts bytes a backend allocated for itself (scratch it was not given:
/// `delta` > 0) or freed (`delta` < 0) in the live and peak bytes, beside
/// mp_alloc's.
void countBackendBytes(mp_context *ctx, int64_t delta);

/// The workspace of `bytes` bytes at `data` that `call` was given; fails
/// `call` on negative bytes or on bytes without memory.
mp_status getWorkspace(mp_context *ctx, const char *call, void *data,
                       int64_t bytes, Workspace &workspace);

/// Host memory a call works in: pieces of the workspace it was given, or
/// where that has none left memory of its own, freed when the call ends
/// and, where `counted` (the host backend's memory, not CUDA's host
/// staging), counted in the live and peak bytes while it lives.
class HostScratch {
public:
  HostScratch(mp_context *ctx, Workspace &workspace, bool counted = true)
      : ctx(ctx), workspace(workspace), counted(counted) {}
  HostScratch(const HostScratch &) = delete;
  HostScratch &operator=(const HostScratch &) = delete;
  ~HostScratch() {
    if (counted)
      countBackendBytes(ctx, -ownBytes);
  }

  char *take(int64_t bytes) {
    if (void *piece = workspace.take(bytes))
      return static_cast<char *>(piece);
    // Not zeroed: every caller writes it whole before it reads it.
    own.emplace_back(new char[std::max<int64_t>(bytes, 1)]);
    ownBytes += bytes;
    if (counted)
      countBackendBytes(ctx, bytes);
    return own.back().get();
  }
  float *floats(int64_t count) {
    return reinterpret_cast<float *>(take(count * int64_t(sizeof(float))));
  }

private:
  mp_context *ctx;
  Workspace &workspace;
  bool counted;
  std::vector<std::unique_ptr<char[]>> own;
  int64_t ownBytes = 0;
};

/// Checks an MPI return code; on error records it against `call`.
mp_status checkMpi(mp_context *ctx, const char *call, int code);

/// Validates the axis list of a collective and finds this rank's group.
mp_status resolveGroup(mp_context *ctx, const char *call, const int *axes,
                       int numAxes, Group &group);

/// Fails `call` on a negative element or byte count.
mp_status checkCount(mp_context *ctx, const char *call, int64_t count);

/// A size argument of a call, by the name its messages give it.
struct SizeArg {
  const char *name;
  int64_t value;
};

/// Fails `call` on a negative size, or when a tensor of these sizes (of
/// `elementBytes` each) would overflow int64 bytes: the kernels may then
/// index it with int64.
mp_status checkSizes(mp_context *ctx, const char *call,
                     std::initializer_list<SizeArg> sizes,
                     size_t elementBytes = sizeof(float));

/// A buffer argument of a call: its name, where it is and how many
/// elements it holds.
struct BufferArg {
  const char *name;
  const void *data;
  int64_t count;
};

/// Fails `call` on a null buffer that should hold elements.
mp_status checkBuffers(mp_context *ctx, const char *call,
                       std::initializer_list<BufferArg> buffers);

/// Fails `call` on a dtype the ABI does not define.
mp_status checkDtype(mp_context *ctx, const char *call, mp_dtype dtype);

/// Fails `call` on a tensor of a float32 computation that is held in
/// neither float32 nor bfloat16.
mp_status checkFloatStorage(mp_context *ctx, const char *call, mp_dtype dtype);

/// Fails `call` on a sliding window other than 0 (none) or a positive one
/// of a causal mask.
mp_status checkWindow(mp_context *ctx, const char *call, bool causal,
                      int64_t window);

/// Checks that `dim` is a dim of the tensor and splits evenly in `divisor`.
mp_status checkDim(mp_context *ctx, const char *call, int rank,
                   const int64_t *shape, int dim, int64_t divisor);

size_t getDtypeSize(mp_dtype dtype);

/// Whether `aBytes` bytes at `a` and `bBytes` bytes at `b` share memory.
inline bool overlaps(const void *a, int64_t aBytes, const void *b,
                     int64_t bBytes) {
  auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return aBytes > 0 && bBytes > 0 && x < y + uint64_t(bBytes) &&
         y < x + uint64_t(aBytes);
}

/// Whether `bytes` bytes at `a` and at `b` share memory.
inline bool overlaps(const void *a, const void *b, int64_t bytes) {
  return overlaps(a, bytes, b, bytes);
}

/// The index in `choices` of environment variable `variable`'s value, the
/// first when it is unset or empty; -1 with the error recorded against
/// mp_context_create when it is none of them.
int readChoice(mp_context *ctx, const char *variable,
               std::initializer_list<const char *> choices);

} // namespace mp::runtime

#endif // MP_RUNTIME_CONTEXT_H
