//===- host_calibrate.cpp - the host machine file's raw measurements ------===//
//
// Run by bench/calibrate-host.sh on R MPI ranks (all at once, as a step's
// ranks run): times the mp runtime's own calls, the ones a compiled step
// makes, so that what the machine file is fitted to includes what those
// calls add around OpenBLAS and MPI (staging, packing, allocation):
//
//   * GEMMs (mp_gemm_f32) in the three layouts a linear's step uses
//     (forward x·Wᵀ, input gradient dY·W, weight gradient dYᵀ·X) at the
//     sizes of this host's benchmark steps;
//   * memory-bound kernels (mp_binary_f32 mul, mp_unary_f32 silu,
//     mp_adamw_f32, mp_copy) on 1 to 16 MB;
//   * tiny calls (a 64-element mul, an 8x8x8 GEMM): the per-op overhead;
//   * collectives (mp_all_reduce, mp_all_gather, mp_reduce_scatter) over
//     each axis of each mesh given (--meshes "4x1 2x2 1x4"), every group
//     of the axis running at once, 4 KB to 8 MB per rank; at 4 and 64 KB
//     also right after a 32K-element kernel, as in a step.
//
// Every time is the median of 5 batches of calls between barriers on all
// ranks: the slowest rank's time, as mp-train --time counts a step. Prints
// one line per measurement on rank 0 (bench/calibrate-fit.py reads them):
//
//   gemm LAYOUT M N K FLOPS BYTES SECONDS
//   kernel NAME ELEMENTS BYTES SECONDS
//   tiny NAME SECONDS
//   coll MESH AXIS KIND GROUP TENSOR_BYTES BYTES_SENT_PER_RANK STEPS SECONDS
//   coll_after_kernel (the same fields; SECONDS less the kernel's)
//
// where BYTES are what the compiler's cost model counts (each operand and
// result once) and BYTES_SENT_PER_RANK and STEPS are the ring model's
// (all_reduce: 2(g-1)/g of the tensor, 2(g-1) steps; all_gather and
// reduce_scatter: g-1 pieces, g-1 steps), as --mp-comm-report counts them.
//
//===----------------------------------------------------------------------===//

#include "mp_runtime.h"

#include <mpi.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

int worldRank = 0;
double targetSeconds = 0.03; // per timed batch

void check(mp_context *ctx, mp_status status, const char *what) {
  if (status != MP_OK) {
    std::fprintf(stderr, "host_calibrate: rank %d: %s: %s\n", worldRank, what,
                 mp_context_error(ctx));
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/// Seconds per call of `body`: the median over 5 batches, each batch's
/// calls between two world barriers (so the slowest rank's time). The batch
/// size is agreed by all ranks (collectives must match).
double timeCall(const std::function<void()> &body) {
  body(); // warm-up: pages, threads, communicators
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  body();
  MPI_Barrier(MPI_COMM_WORLD);
  double once = MPI_Wtime() - start, slowest = 0;
  MPI_Allreduce(&once, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  int reps = static_cast<int>(
      std::clamp(targetSeconds / std::max(slowest, 1e-9), 1.0, 20000.0));
  std::vector<double> times;
  for (int batch = 0; batch < 5; ++batch) {
    MPI_Barrier(MPI_COMM_WORLD);
    start = MPI_Wtime();
    for (int i = 0; i < reps; ++i)
      body();
    MPI_Barrier(MPI_COMM_WORLD);
    times.push_back((MPI_Wtime() - start) / reps);
  }
  std::sort(times.begin(), times.end());
  return times[2];
}

float *allocFilled(mp_context *ctx, size_t elements, float value) {
  auto *ptr = static_cast<float *>(mp_alloc(ctx, elements * sizeof(float) + 64));
  if (!ptr)
    check(ctx, MP_ERROR, "mp_alloc");
  std::vector<float> host(elements, value);
  check(ctx, mp_copy_to_backend(ctx, ptr, host.data(), elements * sizeof(float)),
        "mp_copy_to_backend");
  return ptr;
}

void computeAndKernels(mp_context *ctx, const std::string &gemmSizes) {
  // GEMMs: "MxNxK" sizes, each in three layouts. For a linear y = x·Wᵀ
  // (x: m x k, W: n x k): forward NT, input gradient dY·W NN (m x k from
  // m x n, n x k), weight gradient dYᵀ·X TN (n x k from m x n, m x k).
  struct Layout {
    const char *name;
    int ta, tb;
  } layouts[] = {{"NT", 0, 1}, {"NN", 0, 0}, {"TN", 1, 0}};
  std::vector<std::array<int64_t, 3>> sizes;
  for (size_t pos = 0; pos < gemmSizes.size();) {
    size_t end = gemmSizes.find(' ', pos);
    if (end == std::string::npos)
      end = gemmSizes.size();
    std::string size = gemmSizes.substr(pos, end - pos);
    pos = end + 1;
    long long m, n, k;
    if (size.empty())
      continue;
    if (std::sscanf(size.c_str(), "%lldx%lldx%lld", &m, &n, &k) != 3) {
      std::fprintf(stderr, "host_calibrate: GEMM sizes are MxNxK, not '%s'\n",
                   size.c_str());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    sizes.push_back({m, n, k});
  }
  for (auto [m, n, k] : sizes) {
    int64_t most = std::max({m * k, n * k, m * n});
    float *a = allocFilled(ctx, most, 0.5f);
    float *b = allocFilled(ctx, most, 0.25f);
    float *c = allocFilled(ctx, most, 0.0f);
    for (const Layout &layout : layouts) {
      // Shapes of C (rows x cols) and the contraction for this layout, the
      // same FLOPs for all three: C is m x n (NT), m x k (NN), n x k (TN).
      int64_t rows = m, cols = n, inner = k;
      if (layout.ta == 0 && layout.tb == 0) {
        rows = m, cols = k, inner = n;
      } else if (layout.ta == 1) {
        rows = n, cols = k, inner = m;
      }
      double seconds = timeCall([&] {
        check(ctx,
              mp_gemm_f32(ctx, MP_PRECISION_TF32, MP_DTYPE_F32, MP_DTYPE_F32,
                          layout.ta, layout.tb, rows, cols, inner, 1.0f, a, b,
                          0.0f, MP_DTYPE_F32, c, nullptr, 0),
              "mp_gemm_f32");
      });
      double flops = 2.0 * rows * cols * inner;
      double bytes = 4.0 * (rows * inner + inner * cols + rows * cols);
      if (worldRank == 0)
        std::printf("gemm %s %lld %lld %lld %.6g %.6g %.6g\n", layout.name,
                    (long long)m, (long long)n, (long long)k, flops, bytes,
                    seconds);
      std::fflush(stdout);
    }
    mp_free(ctx, a);
    mp_free(ctx, b);
    mp_free(ctx, c);
  }

  // Memory-bound kernels, as the model counts their bytes: each operand
  // and result once.
  for (int64_t n : {int64_t(1) << 18, int64_t(1) << 20, int64_t(1) << 22}) {
    float *x = allocFilled(ctx, n, 0.5f), *y = allocFilled(ctx, n, 0.25f),
          *z = allocFilled(ctx, n, 0.0f), *w = allocFilled(ctx, n, 0.0f);
    float *step = allocFilled(ctx, 1, 1.0f);
    auto report = [&](const char *name, double bytes, double seconds) {
      if (worldRank == 0)
        std::printf("kernel %s %lld %.6g %.6g\n", name, (long long)n, bytes,
                    seconds);
      std::fflush(stdout);
    };
    report("mul", 12.0 * n, timeCall([&] {
             check(ctx,
                   mp_binary_f32(ctx, MP_BINARY_MUL, n, MP_DTYPE_F32, x,
                                 MP_DTYPE_F32, y, MP_DTYPE_F32, z),
                   "mul");
           }));
    report("silu", 8.0 * n, timeCall([&] {
             check(ctx,
                   mp_unary_f32(ctx, MP_UNARY_SILU, n, MP_DTYPE_F32, x,
                                MP_DTYPE_F32, z, 0.0, 0),
                   "silu");
           }));
    report("copy", 8.0 * n, timeCall([&] {
             check(ctx, mp_copy(ctx, z, x, n * 4), "mp_copy");
           }));
    // param, grad, m, v (and the step) in; param, m, v out.
    report("adamw", 28.0 * n + 4, timeCall([&] {
             check(ctx,
                   mp_adamw_f32(ctx, n, z, x, y, w, 1e-9, 0.9, 0.999, 1e-8, 0.0,
                                step, nullptr),
                   "adamw");
           }));
    for (float *ptr : {x, y, z, w, step})
      mp_free(ctx, ptr);
  }

  // The per-call overhead: calls whose work is negligible.
  {
    float *x = allocFilled(ctx, 64, 0.5f), *y = allocFilled(ctx, 64, 0.25f),
          *z = allocFilled(ctx, 64, 0.0f);
    double mul = timeCall([&] {
      check(ctx,
            mp_binary_f32(ctx, MP_BINARY_MUL, 64, MP_DTYPE_F32, x, MP_DTYPE_F32,
                          y, MP_DTYPE_F32, z),
            "mul");
    });
    double gemm = timeCall([&] {
      check(ctx,
            mp_gemm_f32(ctx, MP_PRECISION_TF32, MP_DTYPE_F32, MP_DTYPE_F32, 0,
                        1, 8, 8, 8, 1.0f, x, y, 0.0f, MP_DTYPE_F32, z, nullptr,
                        0),
            "gemm");
    });
    double alloc = timeCall([&] { mp_free(ctx, mp_alloc(ctx, 4096)); });
    if (worldRank == 0)
      std::printf("tiny mul64 %.6g\ntiny gemm8 %.6g\ntiny alloc4k %.6g\n", mul,
                  gemm, alloc);
    std::fflush(stdout);
    for (float *ptr : {x, y, z})
      mp_free(ctx, ptr);
  }
}

void collectives(mp_context *ctx, const std::string &mesh,
                 const std::vector<int64_t> &shape) {
  const char *axisNames[] = {"data_parallel", "tensor_parallel"};
  for (int axis = 0; axis < 2; ++axis) {
    int64_t g = shape[axis];
    if (g < 2)
      continue;
    for (int64_t bytes : {int64_t(4) << 10, int64_t(64) << 10,
                          int64_t(512) << 10, int64_t(2) << 20,
                          int64_t(8) << 20}) {
      // A [rows, 256] f32 tensor on each rank; gathers and scatters on dim
      // 0. all_reduce's and reduce_scatter's tensor is the input (the whole
      // tensor), all_gather's the input piece.
      int64_t cols = 256, rows = std::max<int64_t>(bytes / 4 / cols, g);
      rows = (rows + g - 1) / g * g;
      int64_t elements = rows * cols;
      double tensorBytes = 4.0 * elements;
      float *in = allocFilled(ctx, elements, 1.0f);
      float *out = allocFilled(ctx, elements * g, 0.0f);
      int64_t localShape[2] = {rows, cols};
      int axes[1] = {axis};
      struct Kind {
        const char *name;
        double sent, steps;
        std::function<void()> call;
      } kinds[] = {
          {"all_reduce", 2.0 * (g - 1) / g * tensorBytes, 2.0 * (g - 1),
           [&] {
             check(ctx,
                   mp_all_reduce(ctx, axes, 1, MP_DTYPE_F32, in, elements),
                   "mp_all_reduce");
           }},
          {"all_gather", double(g - 1) * tensorBytes, double(g - 1),
           [&] {
             check(ctx,
                   mp_all_gather(ctx, axes, 1, MP_DTYPE_F32, in, out, 2,
                                 localShape, 0, nullptr, 0),
                   "mp_all_gather");
           }},
          {"reduce_scatter", double(g - 1) * tensorBytes / g, double(g - 1),
           [&] {
             check(ctx,
                   mp_reduce_scatter(ctx, axes, 1, MP_DTYPE_F32, in, out, 2,
                                     localShape, 0, nullptr, 0),
                   "mp_reduce_scatter");
           }},
      };
      for (Kind &kind : kinds) {
        double seconds = timeCall(kind.call);
        if (worldRank == 0)
          std::printf("coll %s %s %s %lld %.6g %.6g %.6g %.6g\n", mesh.c_str(),
                      axisNames[axis], kind.name, (long long)g, tensorBytes,
                      kind.sent, kind.steps, seconds);
        std::fflush(stdout);
      }
      // In a step a small collective follows compute: its partners arrive
      // as their kernels end, on cores the ranks share. Timed as a kernel
      // and the collective, less the kernel alone: whether a call costs
      // more there than back to back (a per-call synchronization cost).
      if (bytes <= (int64_t(64) << 10)) {
        int64_t n = int64_t(1) << 15;
        float *x = allocFilled(ctx, n, 0.5f), *y = allocFilled(ctx, n, 0.25f),
              *z = allocFilled(ctx, n, 0.0f);
        auto kernel = [&] {
          check(ctx,
                mp_binary_f32(ctx, MP_BINARY_MUL, n, MP_DTYPE_F32, x,
                              MP_DTYPE_F32, y, MP_DTYPE_F32, z),
                "mul");
        };
        double alone = timeCall(kernel);
        for (Kind &kind : kinds) {
          double seconds = timeCall([&] {
                             kernel();
                             kind.call();
                           }) -
                           alone;
          if (worldRank == 0)
            std::printf("coll_after_kernel %s %s %s %lld %.6g %.6g %.6g %.6g\n",
                        mesh.c_str(), axisNames[axis], kind.name, (long long)g,
                        tensorBytes, kind.sent, kind.steps, seconds);
          std::fflush(stdout);
        }
        for (float *ptr : {x, y, z})
          mp_free(ctx, ptr);
      }
      mp_free(ctx, in);
      mp_free(ctx, out);
    }
  }
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &worldRank);
  int worldSize = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
  std::string meshes = "4x1 2x2 1x4";
  std::string gemmSizes = "64x1024x1024 256x1024x1024 512x1024x1024 "
                          "256x2048x1024 256x512x1024 256x1024x256 "
                          "128x64x64 128x256x64";
  bool compute = true, comm = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--meshes" && i + 1 < argc)
      meshes = argv[++i];
    else if (arg == "--gemm-sizes" && i + 1 < argc)
      gemmSizes = argv[++i];
    else if (arg == "--batch-seconds" && i + 1 < argc)
      targetSeconds = std::atof(argv[++i]);
    else if (arg == "--no-compute")
      compute = false;
    else if (arg == "--no-comm")
      comm = false;
    else {
      if (worldRank == 0)
        std::fprintf(stderr,
                     "usage: host_calibrate [--meshes \"DPxTP ...\"] "
                     "[--gemm-sizes \"MxNxK ...\"] [--batch-seconds S] "
                     "[--no-compute] [--no-comm]\n");
      MPI_Finalize();
      return 2;
    }
  }
  const char *names[] = {"data_parallel", "tensor_parallel"};
  if (compute) {
    int64_t sizes[2] = {worldSize, 1};
    mp_context *ctx = nullptr;
    check(ctx, mp_context_create(2, names, sizes, MP_BACKEND_HOST, &ctx),
          "mp_context_create");
    computeAndKernels(ctx, gemmSizes);
    mp_context_destroy(ctx);
  }
  for (size_t pos = 0; comm && pos < meshes.size();) {
    size_t end = meshes.find(' ', pos);
    if (end == std::string::npos)
      end = meshes.size();
    std::string mesh = meshes.substr(pos, end - pos);
    pos = end + 1;
    long long dp, tp;
    if (mesh.empty())
      continue;
    if (std::sscanf(mesh.c_str(), "%lldx%lld", &dp, &tp) != 2 ||
        dp * tp != worldSize) {
      if (worldRank == 0)
        std::fprintf(stderr, "host_calibrate: skipping mesh '%s' (not DPxTP "
                             "with DP*TP = %d ranks)\n",
                     mesh.c_str(), worldSize);
      continue;
    }
    int64_t sizes[2] = {dp, tp};
    mp_context *ctx = nullptr;
    check(ctx, mp_context_create(2, names, sizes, MP_BACKEND_HOST, &ctx),
          "mp_context_create");
    collectives(ctx, mesh, {dp, tp});
    mp_context_destroy(ctx);
  }
  MPI_Finalize();
  return 0;
}
