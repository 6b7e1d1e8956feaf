//===- Collectives.cpp - the collective calls: validate, then dispatch ----===//

#include "Context.h"

using namespace mp::runtime;

namespace {

/// Validates the dtype and the group of a collective.
mp_status checkCollective(mp_context *ctx, const char *call, const int *axes,
                          int numAxes, mp_dtype dtype, Group &group) {
  MP_RETURN_IF_FAILED(ctx);
  if (checkDtype(ctx, call, dtype))
    return MP_ERROR;
  return resolveGroup(ctx, call, axes, numAxes, group);
}

/// The tensors of a grouped collective, each seen around its dim, and
/// where each starts in the packed buffer (in elements of this member's
/// share: the inputs of a gather, the outputs of a scatter).
struct PackedGroup {
  std::vector<DimView> views;
  std::vector<int64_t> offsets;
  int64_t packed = 0;
};

/// Validates a grouped collective's tensors; `divisor` is what each dim
/// must split into (1 for gathers).
mp_status checkGroup(mp_context *ctx, const char *call, int count,
                     const void *const *in, void *const *out, const int *ranks,
                     const int64_t *shapes, const int *dims, void *scratch,
                     size_t elementBytes, int64_t divisor, PackedGroup &group) {
  if (count < 1 || !in || !out || !ranks || !shapes || !dims || !scratch)
    return fail(ctx, call, "needs at least one tensor and all its arrays");
  for (int i = 0, at = 0; i < count; at += ranks[i++]) {
    if (ranks[i] < 1 || ranks[i] > 64)
      return fail(ctx, call, "tensor %d has rank %d", i, ranks[i]);
    if (checkDim(ctx, call, ranks[i], shapes + at, dims[i], divisor))
      return MP_ERROR;
    int64_t bytes = static_cast<int64_t>(elementBytes);
    for (int d = 0; d < ranks[i]; ++d)
      if (shapes[at + d] < 1 ||
          __builtin_mul_overflow(bytes, shapes[at + d], &bytes))
        return fail(ctx, call, "tensor %d has an empty or too large shape", i);
    DimView view(shapes + at, ranks[i], dims[i], elementBytes);
    int64_t share = view.count() / divisor;
    if (share > (INT64_MAX - group.packed) / (divisor + 1))
      return fail(ctx, call, "the packed buffer does not fit int64");
    group.views.push_back(view);
    group.offsets.push_back(group.packed);
    group.packed += share;
  }
  return MP_OK;
}

/// Consumes the slot mp_async_begin named for this collective call, if
/// any: while the call runs, the backend finds it in ctx->asyncSlot; after
/// it, the slot is pending until mp_async_wait.
class AsyncCollective {
public:
  explicit AsyncCollective(mp_context *ctx) : ctx(ctx), slot(ctx->asyncSlot) {}
  ~AsyncCollective() {
    if (slot >= 0)
      ctx->pendingSlots |= uint64_t(1) << slot;
    ctx->asyncSlot = -1;
  }

  /// Runs a grouped call's unpacking copies now, or, when the call is
  /// asynchronous, at its mp_async_wait: until then the collective may
  /// still be writing the packed buffer (FSDP2 copies out of its flat
  /// buffer when it waits for the all_gather, too).
  mp_status unpack(const char *call, std::vector<CopyRegion> copies) {
    Backend &backend = *ctx->backend;
    if (slot < 0)
      return backend.copyBatch(call, copies);
    ctx->unpackAtWait[slot] = [&backend, call, copies = std::move(copies)] {
      return backend.copyBatch(call, copies);
    };
    return MP_OK;
  }

private:
  mp_context *ctx;
  int slot;
};

} // namespace

extern "C" {

mp_status mp_async_begin(mp_context *ctx, int slot) {
  MP_RETURN_IF_FAILED(ctx);
  if (slot < 0 || slot >= MP_ASYNC_SLOTS)
    return fail(ctx, "mp_async_begin", "slot %d is outside [0, %d)", slot,
                MP_ASYNC_SLOTS);
  if (ctx->pendingSlots >> slot & 1)
    return fail(ctx, "mp_async_begin",
                "slot %d still holds a collective (mp_async_wait first)", slot);
  if (ctx->asyncSlot >= 0)
    return fail(ctx, "mp_async_begin",
                "slot %d was named and no collective has used it",
                ctx->asyncSlot);
  ctx->asyncSlot = slot;
  return MP_OK;
}

mp_status mp_async_wait(mp_context *ctx, int slot) {
  MP_RETURN_IF_FAILED(ctx);
  if (slot < 0 || slot >= MP_ASYNC_SLOTS || !(ctx->pendingSlots >> slot & 1))
    return fail(ctx, "mp_async_wait", "slot %d holds no collective", slot);
  ctx->pendingSlots &= ~(uint64_t(1) << slot);
  std::function<mp_status()> unpack = std::move(ctx->unpackAtWait[slot]);
  ctx->unpackAtWait[slot] = nullptr;
  if (ctx->backend->waitAsync(slot))
    return MP_ERROR;
  return unpack ? unpack() : MP_OK;
}

mp_status mp_all_reduce(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, void *data, int64_t count) {
  AsyncCollective async(ctx);
  Group group;
  if (checkCollective(ctx, "mp_all_reduce", axes, num_axes, dtype, group) ||
      checkCount(ctx, "mp_all_reduce", count))
    return MP_ERROR;
  return ctx->backend->allReduce(group, dtype, data, count);
}

mp_status mp_all_reduce_group(mp_context *ctx, const int *axes, int num_axes,
                              mp_dtype dtype, int count, const void *const *in,
                              void *const *out, const int64_t *counts,
                              void *scratch) {
  AsyncCollective async(ctx);
  const char *call = "mp_all_reduce_group";
  Group group;
  if (checkCollective(ctx, call, axes, num_axes, dtype, group))
    return MP_ERROR;
  if (count < 1 || !in || !out || !counts || !scratch)
    return fail(ctx, call, "needs at least one tensor and all its arrays");
  size_t e = getDtypeSize(dtype);
  int64_t packed = 0;
  std::vector<CopyRegion> packing, unpacking;
  for (int i = 0; i < count; ++i) {
    if (counts[i] < 0)
      return fail(ctx, call, "tensor %d has negative count %lld", i,
                  static_cast<long long>(counts[i]));
    if (counts[i] > 0 && (!in[i] || !out[i]))
      return fail(ctx, call, "tensor %d has %lld elements and a null buffer", i,
                  static_cast<long long>(counts[i]));
    int64_t bytes;
    if (__builtin_add_overflow(packed, counts[i], &packed) ||
        __builtin_mul_overflow(packed, static_cast<int64_t>(e), &bytes))
      return fail(ctx, call, "the packed buffer does not fit int64");
    if (counts[i] == 0)
      continue;
    char *at = static_cast<char *>(scratch) + (packed - counts[i]) * e;
    size_t tensorBytes = counts[i] * e;
    packing.push_back({at, tensorBytes, in[i], tensorBytes, tensorBytes, 1});
    unpacking.push_back({out[i], tensorBytes, at, tensorBytes, tensorBytes, 1});
  }
  if (ctx->backend->copyBatch(call, packing) ||
      ctx->backend->allReduce(group, dtype, scratch, packed))
    return MP_ERROR;
  return async.unpack(call, std::move(unpacking));
}

mp_status mp_all_gather(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int dim, void *scratch,
                        int64_t scratch_bytes) {
  AsyncCollective async(ctx);
  Group group;
  Workspace staging;
  if (checkCollective(ctx, "mp_all_gather", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_all_gather", rank, shape, dim, 1) ||
      getWorkspace(ctx, "mp_all_gather", scratch, scratch_bytes, staging))
    return MP_ERROR;
  return ctx->backend->allGather(group, dtype, in, out,
                                 DimView(shape, rank, dim, getDtypeSize(dtype)),
                                 staging);
}

mp_status mp_all_gather_group(mp_context *ctx, const int *axes, int num_axes,
                              mp_dtype dtype, int count, const void *const *in,
                              void *const *out, const int *ranks,
                              const int64_t *shapes, const int *dims,
                              void *scratch) {
  AsyncCollective async(ctx);
  const char *call = "mp_all_gather_group";
  Group group;
  PackedGroup packed;
  if (checkCollective(ctx, call, axes, num_axes, dtype, group) ||
      checkGroup(ctx, call, count, in, out, ranks, shapes, dims, scratch,
                 getDtypeSize(dtype), 1, packed))
    return MP_ERROR;
  Backend &backend = *ctx->backend;
  size_t e = getDtypeSize(dtype);
  char *packedIn = static_cast<char *>(scratch);
  char *packedOut = packedIn + packed.packed * e;
  std::vector<CopyRegion> packing, unpacking;
  for (int i = 0; i < count; ++i) {
    size_t bytes = packed.views[i].count() * e;
    packing.push_back(
        {packedIn + packed.offsets[i] * e, bytes, in[i], bytes, bytes, 1});
    // Member r's block holds its piece of every tensor; piece r of tensor
    // i goes to rows [r * extent, (r + 1) * extent) of each outer slice.
    const DimView &view = packed.views[i];
    size_t pieceBytes = view.rowBytes(view.extent);
    for (int r = 0; r < group.size; ++r)
      unpacking.push_back(
          {static_cast<char *>(out[i]) + r * pieceBytes,
           group.size * pieceBytes,
           packedOut + (r * packed.packed + packed.offsets[i]) * e, pieceBytes,
           pieceBytes, static_cast<size_t>(view.outer)});
  }
  // One dim: nothing to stage.
  int64_t flat = packed.packed;
  Workspace unstaged;
  if (backend.copyBatch(call, packing) ||
      backend.allGather(group, dtype, packedIn, packedOut,
                        DimView(&flat, 1, 0, e), unstaged))
    return MP_ERROR;
  return async.unpack(call, std::move(unpacking));
}

mp_status mp_reduce_scatter_group(mp_context *ctx, const int *axes,
                                  int num_axes, mp_dtype dtype, int count,
                                  const void *const *in, void *const *out,
                                  const int *ranks, const int64_t *shapes,
                                  const int *dims, void *scratch) {
  AsyncCollective async(ctx);
  const char *call = "mp_reduce_scatter_group";
  Group group;
  if (checkCollective(ctx, call, axes, num_axes, dtype, group))
    return MP_ERROR;
  PackedGroup packed;
  if (checkGroup(ctx, call, count, in, out, ranks, shapes, dims, scratch,
                 getDtypeSize(dtype), group.size, packed))
    return MP_ERROR;
  Backend &backend = *ctx->backend;
  size_t e = getDtypeSize(dtype);
  char *packedIn = static_cast<char *>(scratch);
  char *packedOut = packedIn + group.size * packed.packed * e;
  std::vector<CopyRegion> packing, unpacking;
  for (int i = 0; i < count; ++i) {
    // Block r, which member r keeps, holds piece r of every tensor.
    const DimView &view = packed.views[i];
    size_t pieceBytes = view.rowBytes(view.extent / group.size);
    for (int r = 0; r < group.size; ++r)
      packing.push_back({packedIn + (r * packed.packed + packed.offsets[i]) * e,
                         pieceBytes,
                         static_cast<const char *>(in[i]) + r * pieceBytes,
                         group.size * pieceBytes, pieceBytes,
                         static_cast<size_t>(view.outer)});
    size_t bytes = view.count() / group.size * e;
    unpacking.push_back(
        {out[i], bytes, packedOut + packed.offsets[i] * e, bytes, bytes, 1});
  }
  int64_t flat = group.size * packed.packed;
  Workspace unstaged;
  if (backend.copyBatch(call, packing) ||
      backend.reduceScatter(group, dtype, packedIn, packedOut,
                            DimView(&flat, 1, 0, e), unstaged))
    return MP_ERROR;
  return async.unpack(call, std::move(unpacking));
}

mp_status mp_reduce_scatter(mp_context *ctx, const int *axes, int num_axes,
                            mp_dtype dtype, const void *in, void *out, int rank,
                            const int64_t *shape, int dim, void *scratch,
                            int64_t scratch_bytes) {
  AsyncCollective async(ctx);
  Group group;
  Workspace staging;
  if (checkCollective(ctx, "mp_reduce_scatter", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_reduce_scatter", rank, shape, dim, group.size) ||
      getWorkspace(ctx, "mp_reduce_scatter", scratch, scratch_bytes, staging))
    return MP_ERROR;
  return ctx->backend->reduceScatter(
      group, dtype, in, out, DimView(shape, rank, dim, getDtypeSize(dtype)),
      staging);
}

mp_status mp_all_to_all(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int split_dim, int concat_dim,
                        void *scratch, int64_t scratch_bytes) {
  AsyncCollective async(ctx);
  Group group;
  Workspace staging;
  if (checkCollective(ctx, "mp_all_to_all", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_all_to_all", rank, shape, split_dim, group.size) ||
      checkDim(ctx, "mp_all_to_all", rank, shape, concat_dim, 1) ||
      getWorkspace(ctx, "mp_all_to_all", scratch, scratch_bytes, staging))
    return MP_ERROR;
  if (split_dim == concat_dim)
    return fail(ctx, "mp_all_to_all", "split and concat dims must differ");
  size_t elementBytes = getDtypeSize(dtype);
  std::vector<int64_t> pieceShape(shape, shape + rank);
  pieceShape[split_dim] /= group.size;
  return ctx->backend->allToAll(
      group, dtype, in, out, DimView(shape, rank, split_dim, elementBytes),
      DimView(pieceShape.data(), rank, concat_dim, elementBytes), staging);
}

mp_status mp_shard_slice(mp_context *ctx, const int *axes, int num_axes,
                         mp_dtype dtype, const void *in, void *out, int rank,
                         const int64_t *shape, int dim) {
  AsyncCollective async(ctx);
  Group group;
  if (checkCollective(ctx, "mp_shard_slice", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_shard_slice", rank, shape, dim, group.size))
    return MP_ERROR;
  return ctx->backend->shardSlice(
      group, in, out, DimView(shape, rank, dim, getDtypeSize(dtype)));
}

} // extern "C"
