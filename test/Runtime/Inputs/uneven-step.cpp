// A training step written by hand around uneven splits, for
// uneven-train.test, on the mesh dp=2 x tp=2: w [5, 3] has its rows split
// over tp,dp (2, 1, 2 and 0 valid rows of 2 on ranks 0..3), b [17] is
// split over dp,tp (5, 4, 5 and 3 of 5). The loss is the sum of every entry
// of every piece, padding included: the sum of the global tensors only if
// the trainer left the padding zero. The step changes no parameter, so
// --save writes back what --init gave. With -DUNSPLIT nothing is split.

#include "mp_runtime.h"

#ifdef UNSPLIT
#define W_ROWS 5
#define B_LOCAL 17
#define W_SPLIT "- -"
#define B_SPLIT "-"
#define SPLIT_AXES 0
#else
#ifndef W_ROWS // -DW_ROWS=3: a manifest the trainer must refuse
#define W_ROWS 2
#endif
#define B_LOCAL 5
#define W_SPLIT "tp,dp -"
#define B_SPLIT "dp,tp"
#define SPLIT_AXES 2
#endif
#define STRINGIFY(x) #x
#define TEXT(x) STRINGIFY(x)

namespace {

const char kManifest[] =
    "mp-step " TEXT(MP_RUNTIME_ABI_VERSION) "\n"
    "function uneven_step\n"
    "mesh dp 2 tp 2\n"
    "arena 8\n"
    "persistent 0\n"
    "arg w param f32 global 5 3 local " TEXT(W_ROWS) " 3 split " W_SPLIT "\n"
    "arg b param f32 global 17 local " TEXT(B_LOCAL) " split " B_SPLIT "\n"
    "result loss output f32 local split\n";

mp_status step(mp_context *ctx, void *const *args, void *const *outputs) {
  const int64_t wShape[] = {W_ROWS, 3}, bShape[] = {B_LOCAL}, two[] = {2};
  const int axes[] = {0, 1};
  auto *sums = static_cast<float *>(mp_alloc(ctx, 2 * sizeof(float)));
  auto *loss = static_cast<float *>(outputs[0]);
  mp_reduce_sum_f32(ctx, 2, wShape, 3u, 1.0, static_cast<float *>(args[0]),
                    sums);
  mp_reduce_sum_f32(ctx, 1, bShape, 1u, 1.0, static_cast<float *>(args[1]),
                    sums + 1);
  mp_reduce_sum_f32(ctx, 1, two, 1u, 1.0, sums, loss);
  mp_all_reduce(ctx, axes, SPLIT_AXES, MP_DTYPE_F32, loss, 1);
  mp_free(ctx, sums);
  return mp_context_status(ctx);
}

} // namespace

extern "C" const mp_step uneven_step_step = {MP_RUNTIME_ABI_VERSION,
                                             "uneven_step", kManifest, step};
extern "C" const mp_step *const mp_default_step = &uneven_step_step;
