//===- Context.cpp - mesh, groups, errors and memory of a rank ------------===//

#include "Context.h"

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
  ctx->error = std::string(call) + " failed on rank " +
               std::to_string(ctx->rank) +
               (ctx->op ? std::string(" (in ") + ctx->op + ")" : "") + ": " +
               message;
  return MP_ERROR;
}

mp_status checkMpi(mp_context *ctx, const char *call, int code) {
  if (code == MPI_SUCCESS)
    return MP_OK;
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, message, &length);
  return fail(ctx, call, "%.*s", length, message);
}

mp_status getGroup(mp_context *ctx, const char *call, const int *axes,
                   int numAxes, MPI_Comm *comm, int *size, int *index) {
  std::vector<int> key(axes, axes + numAxes);
  std::vector<bool> inGroup(ctx->axisSizes.size(), false);
  for (int axis : key) {
    if (axis < 0 || axis >= static_cast<int>(ctx->axisSizes.size()))
      return fail(ctx, call, "mesh axis %d does not exist (the mesh has %zu)",
                  axis, ctx->axisSizes.size());
    if (inGroup[axis])
      return fail(ctx, call, "mesh axis '%s' is listed twice",
                  ctx->axisNames[axis].c_str());
    inGroup[axis] = true;
  }
  // The group index: row-major over the listed axes, in their order.
  int64_t groupIndex = 0, groupSize = 1;
  for (int axis : key) {
    groupIndex = groupIndex * ctx->axisSizes[axis] + ctx->coordinates[axis];
    groupSize *= ctx->axisSizes[axis];
  }
  auto it = ctx->groups.find(key);
  if (it == ctx->groups.end()) {
    // Ranks sharing every coordinate off the group's axes share a color.
    int64_t color = 0;
    for (size_t axis = 0; axis < ctx->axisSizes.size(); ++axis)
      if (!inGroup[axis])
        color = color * ctx->axisSizes[axis] + ctx->coordinates[axis];
    MPI_Comm split;
    if (checkMpi(ctx, "MPI_Comm_split",
                 MPI_Comm_split(MPI_COMM_WORLD, static_cast<int>(color),
                                static_cast<int>(groupIndex), &split)))
      return MP_ERROR;
    MPI_Comm_set_errhandler(split, MPI_ERRORS_RETURN);
    it = ctx->groups.emplace(key, split).first;
  }
  *comm = it->second;
  *size = static_cast<int>(groupSize);
  *index = static_cast<int>(groupIndex);
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
  }
  return 0;
}

MPI_Datatype getMpiType(mp_dtype dtype) {
  switch (dtype) {
  case MP_DTYPE_F32:
    return MPI_FLOAT;
  case MP_DTYPE_F64:
    return MPI_DOUBLE;
  case MP_DTYPE_I32:
    return MPI_INT32_T;
  case MP_DTYPE_I64:
    return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

} // namespace mp::runtime

extern "C" {

int mp_runtime_abi_version(void) { return MP_RUNTIME_ABI_VERSION; }

mp_status mp_context_create(int num_axes, const char *const *axis_names,
                            const int64_t *axis_sizes, mp_backend backend,
                            mp_context **out) {
  auto *ctx = new mp_context();
  *out = ctx;
  ctx->backend = backend;
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

  if (backend != MP_BACKEND_HOST)
    return fail(ctx, "mp_context_create",
                "this runtime was built with the host backend only");
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
  return MP_OK;
}

void mp_context_destroy(mp_context *ctx) {
  if (!ctx)
    return;
  for (auto &[axes, comm] : ctx->groups)
    MPI_Comm_free(&comm);
  for (auto &[ptr, bytes] : ctx->allocations)
    std::free(ptr);
  bool finalize = ctx->ownsMpi;
  delete ctx;
  if (finalize)
    MPI_Finalize();
}

const char *mp_context_error(const mp_context *ctx) {
  return ctx->error.c_str();
}
mp_status mp_context_status(const mp_context *ctx) {
  return ctx->failed ? MP_ERROR : MP_OK;
}
void mp_context_set_op(mp_context *ctx, const char *op) { ctx->op = op; }
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
  // 64-byte aligned, as the compiler's memory plan aligns its buffers.
  void *ptr = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64 * !bytes);
  if (!ptr) {
    fail(ctx, "mp_alloc", "out of memory allocating %zu bytes", bytes);
    return nullptr;
  }
  ctx->allocations[ptr] = bytes;
  ctx->liveBytes += bytes;
  if (ctx->liveBytes > ctx->peakBytes)
    ctx->peakBytes = ctx->liveBytes;
  return ptr;
}

void mp_free(mp_context *ctx, void *ptr) {
  auto it = ctx->allocations.find(ptr);
  if (it == ctx->allocations.end())
    return;
  ctx->liveBytes -= it->second;
  ctx->allocations.erase(it);
  std::free(ptr);
}

size_t mp_live_bytes(const mp_context *ctx) { return ctx->liveBytes; }
size_t mp_peak_bytes(const mp_context *ctx) { return ctx->peakBytes; }

} // extern "C"
