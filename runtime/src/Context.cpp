//===- Context.cpp - mesh, groups, errors and memory of a rank ------------===//

#include "Context.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace mp::runtime;

namespace mp::runtime {

mp_status fail(mp_context *ctx, const char *call, const char *format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  if (ctx->failed)
    return MP_ERROR;
  ctx->failed = true;
  ctx->error =
      std::string(call) + " failed on rank " + std::to_string(ctx->rank) +
      (ctx->op ? std::string(" (in ") + ctx->op + ")" : "") + ": " + message;
  return MP_ERROR;
}

void countBackendBytes(mp_context *ctx, int64_t delta) {
  ctx->liveBytes =
      static_cast<size_t>(static_cast<int64_t>(ctx->liveBytes) + delta);
  ctx->peakBytes = std::max(ctx->peakBytes, ctx->liveBytes);
}

mp_status checkMpi(mp_context *ctx, const char *call, int code) {
  if (code == MPI_SUCCESS)
    return MP_OK;
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, message, &length);
  return fail(ctx, call, "%.*s", length, message);
}

mp_status resolveGroup(mp_context *ctx, const char *call, const int *axes,
                       int numAxes, Group &group) {
  group.axes.assign(axes, axes + numAxes);
  std::vector<bool> inGroup(ctx->axisSizes.size(), false);
  for (int axis : group.axes) {
    if (axis < 0 || axis >= static_cast<int>(ctx->axisSizes.size()))
      return fail(ctx, call, "mesh axis %d does not exist (the mesh has %zu)",
                  axis, ctx->axisSizes.size());
    if (inGroup[axis])
      return fail(ctx, call, "mesh axis '%s' is listed twice",
                  ctx->axisNames[axis].c_str());
    inGroup[axis] = true;
  }
  int64_t index = 0, size = 1, color = 0;
  for (int axis : group.axes) {
    index = index * ctx->axisSizes[axis] + ctx->coordinates[axis];
    size *= ctx->axisSizes[axis];
  }
  // Ranks sharing every coordinate off the group's axes share a color.
  for (size_t axis = 0; axis < ctx->axisSizes.size(); ++axis)
    if (!inGroup[axis])
      color = color * ctx->axisSizes[axis] + ctx->coordinates[axis];
  // The world size is an int, so are these.
  group.color = static_cast<int>(color);
  group.size = static_cast<int>(size);
  group.index = static_cast<int>(index);
  return MP_OK;
}

mp_status checkCount(mp_context *ctx, const char *call, int64_t count) {
  if (count < 0)
    return fail(ctx, call, "negative count %lld",
                static_cast<long long>(count));
  return MP_OK;
}

mp_status checkSizes(mp_context *ctx, const char *call,
                     std::initializer_list<SizeArg> sizes,
                     size_t elementBytes) {
  for (const SizeArg &size : sizes)
    if (size.value < 0)
      return fail(ctx, call, "negative %s %lld", size.name,
                  static_cast<long long>(size.value));
  // Every partial product must fit too: kernels compute them.
  int64_t bytes = static_cast<int64_t>(elementBytes);
  bool overflows = false;
  std::string names, values;
  for (const SizeArg &size : sizes) {
    overflows = overflows || __builtin_mul_overflow(bytes, size.value, &bytes);
    names += (names.empty() ? "" : " x ") + std::string(size.name);
    values += (values.empty() ? "" : " x ") + std::to_string(size.value);
  }
  if (overflows)
    return fail(ctx, call, "%s = %s overflows int64 bytes", names.c_str(),
                values.c_str());
  return MP_OK;
}

mp_status checkBuffers(mp_context *ctx, const char *call,
                       std::initializer_list<BufferArg> buffers) {
  for (const BufferArg &buffer : buffers)
    if (!buffer.data && buffer.count > 0)
      return fail(ctx, call, "%s is null", buffer.name);
  return MP_OK;
}

mp_status getWorkspace(mp_context *ctx, const char *call, void *data,
                       int64_t bytes, Workspace &workspace) {
  if (bytes < 0 || (bytes > 0 && !data))
    return fail(ctx, call, "a workspace of %lld bytes at %p is none it can use",
                static_cast<long long>(bytes), data);
  workspace = {static_cast<char *>(data), bytes};
  return MP_OK;
}

mp_status checkDtype(mp_context *ctx, const char *call, mp_dtype dtype) {
  if (!getDtypeSize(dtype))
    return fail(ctx, call, "unknown dtype %d", static_cast<int>(dtype));
  return MP_OK;
}

mp_status checkFloatStorage(mp_context *ctx, const char *call, mp_dtype dtype) {
  if (dtype != MP_DTYPE_F32 && dtype != MP_DTYPE_BF16)
    return fail(ctx, call, "takes float32 and bfloat16 tensors, not dtype %d",
                static_cast<int>(dtype));
  return MP_OK;
}

mp_status checkWindow(mp_context *ctx, const char *call, bool causal,
                      int64_t window) {
  if (window < 0 || (window > 0 && !causal))
    return fail(ctx, call,
                "window %lld: a window is 0 (none) or positive and needs "
                "causal",
                static_cast<long long>(window));
  return MP_OK;
}

mp_status checkDim(mp_context *ctx, const char *call, int rank,
                   const int64_t *shape, int dim, int64_t divisor) {
  if (dim < 0 || dim >= rank)
    return fail(ctx, call, "dim %d is out of range for rank %d", dim, rank);
  if (divisor > 1 && shape[dim] % divisor != 0)
    return fail(ctx, call, "dim %d of size %lld does not split over %lld ranks",
                dim, static_cast<long long>(shape[dim]),
                static_cast<long long>(divisor));
  return MP_OK;
}

size_t getDtypeSize(mp_dtype dtype) {
  switch (dtype) {
  case MP_DTYPE_F32:
  case MP_DTYPE_I32:
    return 4;
  case MP_DTYPE_F64:
  case MP_DTYPE_I64:
    return 8;
  case MP_DTYPE_BF16:
    return 2;
  }
  return 0;
}

int readChoice(mp_context *ctx, const char *variable,
               std::initializer_list<const char *> choices) {
  const char *value = std::getenv(variable);
  if (!value || !*value)
    return 0;
  std::string names;
  int index = 0;
  for (const char *choice : choices) {
    if (std::strcmp(value, choice) == 0)
      return index;
    names += (index++ ? " or " : "") + std::string(choice);
  }
  fail(ctx, "mp_context_create", "%s is %s, not '%s'", variable, names.c_str(),
       value);
  return -1;
}

} // namespace mp::runtime

namespace {

/// A copy between host and backend memory inside a capture: it would wait
/// for the device (which a graph cannot), and a replay would move the bytes
/// the capture saw, not the program's.
mp_status failCapturedHostCopy(mp_context *ctx, const char *call) {
  return fail(ctx, call,
              "a copy between host and device memory cannot be captured in "
              "a CUDA graph (it waits for the device): copy before "
              "mp_graph_begin_capture or after mp_graph_end_capture, outside "
              "the captured step");
}

/// The backend `kind`, or null with the reason recorded.
std::unique_ptr<Backend> createBackend(mp_context *ctx, mp_backend kind) {
  switch (kind) {
  case MP_BACKEND_HOST:
    return createHostBackend(ctx);
  case MP_BACKEND_CUDA:
#ifdef MP_RUNTIME_HAS_CUDA
    return createCudaBackend(ctx);
#else
    fail(ctx, "mp_context_create",
         "this runtime was built with the host backend only");
    return nullptr;
#endif
  }
  fail(ctx, "mp_context_create", "unknown backend %d", static_cast<int>(kind));
  return nullptr;
}

} // namespace

extern "C" {

int mp_runtime_abi_version(void) { return MP_RUNTIME_ABI_VERSION; }

mp_status mp_context_create(int num_axes, const char *const *axis_names,
                            const int64_t *axis_sizes, mp_backend backend,
                            mp_context **out) {
  auto *ctx = new mp_context();
  *out = ctx;
  ctx->backendKind = backend;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    if (MPI_Init(nullptr, nullptr) != MPI_SUCCESS)
      return fail(ctx, "MPI_Init", "cannot initialize MPI");
    ctx->ownsMpi = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &ctx->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ctx->worldSize);

  if (num_axes <= 0)
    return fail(ctx, "mp_context_create", "a mesh needs at least one axis");
  int64_t devices = 1;
  std::string shape;
  for (int axis = 0; axis < num_axes; ++axis) {
    if (axis_sizes[axis] <= 0)
      return fail(ctx, "mp_context_create",
                  "mesh axis '%s' has size %lld; sizes must be positive",
                  axis_names[axis], static_cast<long long>(axis_sizes[axis]));
    ctx->axisNames.emplace_back(axis_names[axis]);
    ctx->axisSizes.push_back(axis_sizes[axis]);
    devices *= axis_sizes[axis];
    shape += (axis ? " x " : "") + ctx->axisNames.back() + "=" +
             std::to_string(axis_sizes[axis]);
  }
  if (devices != ctx->worldSize)
    return fail(ctx, "mp_context_create",
                "the mesh %s needs %lld ranks, but %d were launched",
                shape.c_str(), static_cast<long long>(devices), ctx->worldSize);
  // Row-major: the last axis varies fastest.
  int64_t rest = ctx->rank;
  ctx->coordinates.assign(num_axes, 0);
  for (int axis = num_axes - 1; axis >= 0; --axis) {
    ctx->coordinates[axis] = rest % axis_sizes[axis];
    rest /= axis_sizes[axis];
  }
  ctx->backend = createBackend(ctx, backend);
  if (const char *profile = std::getenv("MP_PROFILE");
      profile && std::strcmp(profile, "0") != 0)
    ctx->profiler = std::make_unique<Profiler>();
  return ctx->backend ? MP_OK : MP_ERROR;
}

void mp_context_destroy(mp_context *ctx) {
  if (!ctx)
    return;
  if (ctx->profiler && ctx->rank == 0)
    ctx->profiler->print(stderr, ctx->rank);
  // A capture left open (a program that gave up mid-step) is ended first,
  // so that the memory below is freed outside it.
  if (ctx->backend && ctx->capturing) {
    ctx->capturing = false;
    ctx->failed = true;
    ctx->backend->endCapture();
  }
  if (ctx->backend)
    for (auto &[ptr, bytes] : ctx->allocations)
      ctx->backend->release(ptr);
  bool finalize = ctx->ownsMpi;
  delete ctx;
  if (finalize)
    MPI_Finalize();
}

const char *mp_context_error(const mp_context *ctx) {
  return ctx->error.c_str();
}
mp_status mp_context_status(const mp_context *ctx) {
  if (ctx->profiler && ctx->backend)
    ctx->profiler->enter(*ctx->backend, nullptr);
  return ctx->failed ? MP_ERROR : MP_OK;
}
void mp_context_set_op(mp_context *ctx, const char *op) {
  ctx->op = op;
  if (ctx->profiler && ctx->backend)
    ctx->profiler->enter(*ctx->backend, op);
}
int mp_context_rank(const mp_context *ctx) { return ctx->rank; }
int mp_context_world_size(const mp_context *ctx) { return ctx->worldSize; }
int mp_context_num_axes(const mp_context *ctx) {
  return static_cast<int>(ctx->axisSizes.size());
}
int64_t mp_context_axis_size(const mp_context *ctx, int axis) {
  return ctx->axisSizes.at(axis);
}
int64_t mp_context_coordinate(const mp_context *ctx, int axis) {
  return ctx->coordinates.at(axis);
}
int mp_context_axis_index(const mp_context *ctx, const char *name) {
  for (size_t axis = 0; axis < ctx->axisNames.size(); ++axis)
    if (ctx->axisNames[axis] == name)
      return static_cast<int>(axis);
  return -1;
}

void *mp_alloc(mp_context *ctx, size_t bytes) {
  if (ctx->failed)
    return nullptr;
  void *ptr = ctx->backend->allocate(bytes);
  if (!ptr)
    return nullptr;
  ctx->allocations[ptr] = bytes;
  mp::runtime::countBackendBytes(ctx, static_cast<int64_t>(bytes));
  return ptr;
}

void mp_free(mp_context *ctx, void *ptr) {
  auto it = ctx->allocations.find(ptr);
  if (it == ctx->allocations.end())
    return;
  mp::runtime::countBackendBytes(ctx, -static_cast<int64_t>(it->second));
  ctx->allocations.erase(it);
  ctx->backend->release(ptr);
}

size_t mp_live_bytes(const mp_context *ctx) { return ctx->liveBytes; }
size_t mp_peak_bytes(const mp_context *ctx) { return ctx->peakBytes; }
void mp_profile_restart(mp_context *ctx) {
  if (ctx->profiler)
    ctx->profiler->restart();
}

mp_status mp_convert(mp_context *ctx, mp_dtype from, mp_dtype to, int64_t n,
                     const void *in, void *out) {
  MP_RETURN_IF_FAILED(ctx);
  if (!((from == MP_DTYPE_F32 && to == MP_DTYPE_BF16) ||
        (from == MP_DTYPE_BF16 && to == MP_DTYPE_F32)))
    return fail(ctx, "mp_convert",
                "converts float32 to bfloat16 and back, not dtype %d to %d",
                static_cast<int>(from), static_cast<int>(to));
  if (checkSizes(ctx, "mp_convert", {{"n", n}}, sizeof(float)) ||
      checkBuffers(ctx, "mp_convert", {{"in", in, n}, {"out", out, n}}))
    return MP_ERROR;
  if (n == 0)
    return MP_OK;
  if (overlaps(in, n * static_cast<int64_t>(getDtypeSize(from)), out,
               n * static_cast<int64_t>(getDtypeSize(to))))
    return fail(ctx, "mp_convert", "the input and the output overlap");
  return ctx->backend->convert(from, to, n, in, out);
}

mp_status mp_copy(mp_context *ctx, void *dst, const void *src, int64_t bytes) {
  MP_RETURN_IF_FAILED(ctx);
  if (bytes < 0)
    return fail(ctx, "mp_copy", "negative size %lld",
                static_cast<long long>(bytes));
  if (dst == src || bytes == 0)
    return MP_OK;
  return ctx->backend->copy(dst, src, static_cast<size_t>(bytes));
}

mp_status mp_copy_to_backend(mp_context *ctx, void *dst, const void *src,
                             int64_t bytes) {
  MP_RETURN_IF_FAILED(ctx);
  if (bytes < 0)
    return fail(ctx, "mp_copy_to_backend", "negative size %lld",
                static_cast<long long>(bytes));
  if (ctx->capturing)
    return failCapturedHostCopy(ctx, "mp_copy_to_backend");
  if (bytes == 0)
    return MP_OK;
  return ctx->backend->copyToBackend(dst, src, static_cast<size_t>(bytes));
}

mp_status mp_copy_to_host(mp_context *ctx, void *dst, const void *src,
                          int64_t bytes) {
  MP_RETURN_IF_FAILED(ctx);
  if (bytes < 0)
    return fail(ctx, "mp_copy_to_host", "negative size %lld",
                static_cast<long long>(bytes));
  if (ctx->capturing)
    return failCapturedHostCopy(ctx, "mp_copy_to_host");
  return ctx->backend->copyToHost(dst, src, static_cast<size_t>(bytes));
}

} // extern "C"
