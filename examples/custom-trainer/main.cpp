//===- main.cpp - your own training loop around a compiled step -----------===//
//
// What a program of your own needs to run a step that mp compiled: the
// header and object from mp-translate, and the runtime (mp_runtime.h,
// libmp_runtime). This one trains the seed's FFN (`ffn_train_step`, any
// mesh) on data it makes itself, one process per rank under mpirun:
//
//   custom-trainer [STEPS]
//
// Every global tensor element gets a value from its name and global index
// alone, so the run is the same whatever mesh the step was compiled for:
// rank 0 prints `step <i> loss <v>`. See README.md for building it.
//
//===----------------------------------------------------------------------===//

#include "step.h" // mp-translate --emit-header

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(mp_context *ctx) {
  std::fprintf(stderr, "custom-trainer: %s\n", mp_context_error(ctx));
  // Other ranks may wait in a collective this rank will never join.
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::exit(1);
}

/// Where this rank's piece of `tensor` lies in the global tensor, per dim:
/// its origin and how many of its local entries hold values (the rest is
/// padding, where the axes do not divide the dim). `split` lists per dim
/// ('|'-separated) the mesh axes splitting it ('-': none), each chunking the
/// previous axis's piece as torch.chunk does (docs/uneven-sharding.md).
struct Placement {
  std::vector<int64_t> origin, valid;
};
Placement placePiece(mp_context *ctx, const mp_step_tensor &tensor) {
  Placement place{std::vector<int64_t>(tensor.rank, 0),
                  std::vector<int64_t>(tensor.global_shape,
                                       tensor.global_shape + tensor.rank)};
  std::string split = tensor.split;
  size_t begin = 0;
  for (int dim = 0; dim < tensor.rank; ++dim) {
    size_t end = split.find('|', begin);
    std::string axes = split.substr(begin, end - begin);
    begin = end + 1;
    if (axes == "-")
      continue;
    int64_t piece = tensor.global_shape[dim];
    size_t from = 0;
    while (from <= axes.size()) {
      size_t comma = std::min(axes.find(',', from), axes.size());
      int axis =
          mp_context_axis_index(ctx, axes.substr(from, comma - from).c_str());
      int64_t size = mp_context_axis_size(ctx, axis);
      piece = (piece + size - 1) / size;
      int64_t offset = mp_context_coordinate(ctx, axis) * piece;
      place.origin[dim] += offset;
      place.valid[dim] =
          std::clamp<int64_t>(place.valid[dim] - offset, 0, piece);
      from = comma + 1;
    }
  }
  return place;
}

/// A deterministic value for element `index` of the global tensor `name`:
/// weights in U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as nn.Linear's init,
/// inputs in (-1, 1).
float globalValue(const mp_step_tensor &tensor, uint64_t salt,
                  int64_t index) {
  uint64_t hash = 1469598103934665603ull ^ salt;
  for (const char *c = tensor.name; *c; ++c)
    hash = (hash ^ static_cast<unsigned char>(*c)) * 1099511628211ull;
  hash ^= static_cast<uint64_t>(index) * 0x9e3779b97f4a7c15ull;
  hash = (hash ^ (hash >> 31)) * 0xbf58476d1ce4e5b9ull;
  double unit = double(hash >> 11) * 0x1.0p-53 * 2 - 1;
  if (std::strcmp(tensor.role, "param") == 0)
    return static_cast<float>(
        unit / std::sqrt(double(tensor.global_shape[tensor.rank - 1])));
  return static_cast<float>(unit);
}

/// This rank's piece of the global tensor whose elements `globalValue`
/// defines.
std::vector<float> localPiece(mp_context *ctx, const mp_step_tensor &tensor,
                              uint64_t salt) {
  int64_t count = 1;
  for (int dim = 0; dim < tensor.rank; ++dim)
    count *= tensor.local_shape[dim];
  Placement place = placePiece(ctx, tensor);
  std::vector<float> piece(count, 0.0f);
  for (int64_t local = 0; local < count; ++local) {
    int64_t rest = local, global = 0, stride = 1;
    bool padding = false;
    for (int dim = tensor.rank - 1; dim >= 0; --dim) {
      int64_t index = rest % tensor.local_shape[dim];
      padding |= index >= place.valid[dim];
      global += (place.origin[dim] + index) * stride;
      rest /= tensor.local_shape[dim];
      stride *= tensor.global_shape[dim];
    }
    if (!padding)
      piece[local] = globalValue(tensor, salt, global);
  }
  return piece;
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int steps = argc > 1 ? std::atoi(argv[1]) : 3;

  mp_context *ctx = nullptr;
  if (mp_context_create(FFN_TRAIN_STEP_MESH_NUM_AXES,
                        ffn_train_step_mesh_axes, ffn_train_step_mesh_sizes,
                        MP_BACKEND_HOST, &ctx) != MP_OK)
    fail(ctx);

  // One backend buffer per argument, holding this rank's shard: weights
  // initialized, optimizer state zero (as torch.optim starts).
  void *args[FFN_TRAIN_STEP_NUM_ARGS];
  for (int i = 0; i < FFN_TRAIN_STEP_NUM_ARGS; ++i) {
    const mp_step_tensor &arg = ffn_train_step_args[i];
    std::vector<float> piece = localPiece(ctx, arg, 0);
    if (std::strcmp(arg.role, "state") == 0)
      std::fill(piece.begin(), piece.end(), 0.0f);
    args[i] = mp_alloc(ctx, piece.size() * sizeof(float));
    if (mp_copy_to_backend(ctx, args[i], piece.data(),
                           piece.size() * sizeof(float)) != MP_OK)
      fail(ctx);
  }
  static_assert(FFN_TRAIN_STEP_NUM_OUTPUTS == 1, "the loss is the output");
  void *outputs[] = {mp_alloc(ctx, sizeof(float))};

  for (int step = 0; step < steps; ++step) {
    // A new batch: this rank's piece of the global batch of step `step`.
    for (int i = 0; i < FFN_TRAIN_STEP_NUM_ARGS; ++i) {
      const mp_step_tensor &arg = ffn_train_step_args[i];
      if (std::strcmp(arg.role, "input") != 0)
        continue;
      std::vector<float> piece = localPiece(ctx, arg, step + 1);
      mp_copy_to_backend(ctx, args[i], piece.data(),
                         piece.size() * sizeof(float));
    }
    float loss = 0;
    if (ffn_train_step(ctx, args, outputs) != MP_OK ||
        mp_copy_to_host(ctx, &loss, outputs[0], sizeof(float)) != MP_OK)
      fail(ctx);
    if (mp_context_rank(ctx) == 0)
      std::printf("step %d loss %.9g\n", step, double(loss));
  }

  for (void *buffer : args)
    mp_free(ctx, buffer);
  mp_free(ctx, outputs[0]);
  mp_context_destroy(ctx);
  MPI_Finalize();
  return 0;
}
