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

} // namespace

extern "C" {

mp_status mp_all_reduce(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, void *data, int64_t count) {
  Group group;
  if (checkCollective(ctx, "mp_all_reduce", axes, num_axes, dtype, group) ||
      checkCount(ctx, "mp_all_reduce", count))
    return MP_ERROR;
  return ctx->backend->allReduce(group, dtype, data, count);
}

mp_status mp_all_gather(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int dim) {
  Group group;
  if (checkCollective(ctx, "mp_all_gather", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_all_gather", rank, shape, dim, 1))
    return MP_ERROR;
  return ctx->backend->allGather(
      group, dtype, in, out, DimView(shape, rank, dim, getDtypeSize(dtype)));
}

mp_status mp_reduce_scatter(mp_context *ctx, const int *axes, int num_axes,
                            mp_dtype dtype, const void *in, void *out, int rank,
                            const int64_t *shape, int dim) {
  Group group;
  if (checkCollective(ctx, "mp_reduce_scatter", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_reduce_scatter", rank, shape, dim, group.size))
    return MP_ERROR;
  return ctx->backend->reduceScatter(
      group, dtype, in, out, DimView(shape, rank, dim, getDtypeSize(dtype)));
}

mp_status mp_all_to_all(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int split_dim, int concat_dim) {
  Group group;
  if (checkCollective(ctx, "mp_all_to_all", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_all_to_all", rank, shape, split_dim, group.size) ||
      checkDim(ctx, "mp_all_to_all", rank, shape, concat_dim, 1))
    return MP_ERROR;
  if (split_dim == concat_dim)
    return fail(ctx, "mp_all_to_all", "split and concat dims must differ");
  size_t elementBytes = getDtypeSize(dtype);
  std::vector<int64_t> pieceShape(shape, shape + rank);
  pieceShape[split_dim] /= group.size;
  return ctx->backend->allToAll(
      group, dtype, in, out, DimView(shape, rank, split_dim, elementBytes),
      DimView(pieceShape.data(), rank, concat_dim, elementBytes));
}

mp_status mp_shard_slice(mp_context *ctx, const int *axes, int num_axes,
                         mp_dtype dtype, const void *in, void *out, int rank,
                         const int64_t *shape, int dim) {
  Group group;
  if (checkCollective(ctx, "mp_shard_slice", axes, num_axes, dtype, group) ||
      checkDim(ctx, "mp_shard_slice", rank, shape, dim, group.size))
    return MP_ERROR;
  return ctx->backend->shardSlice(
      group, in, out, DimView(shape, rank, dim, getDtypeSize(dtype)));
}

} // extern "C"
