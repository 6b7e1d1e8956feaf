/*===- mp_runtime.h - the mp runtime's C ABI ---------------------*- C -*-===*
 *
 * The only header a program linking a compiled mp training step includes.
 * One process per rank, launched by mpirun/srun; the device mesh is laid
 * over the ranks row-major (last axis fastest), as PyTorch's
 * init_device_mesh does. Every call returns MP_OK or MP_ERROR; after an
 * error, mp_context_error() says which call failed, on which rank, in which
 * op of the step, and why. Errors are sticky: after the first, every call on
 * the context returns MP_ERROR at once, so a compiled step needs no branches
 * and reports its first failure when it returns. A program that sees a failed
 * step should print the error and MPI_Abort: the other ranks may be waiting in
 * a collective the failed rank skipped.
 *
 * Tensors are dense and row-major. A collective runs over a GROUP: the
 * ranks that differ only in their coordinates on the listed mesh axes; a
 * rank's index in its group is row-major over those coordinates in the
 * order the axes are listed (the first listed axis major), which is the
 * order in which pieces of a split dim are laid out.
 *
 * Two backends sit behind this ABI, chosen by mp_context_create: the host
 * (OpenBLAS + MPI) and CUDA (cuBLAS + NCCL + kernels, one GPU per rank).
 * Every pointer to data that a collective, compute or mp_copy call takes
 * is BACKEND memory from mp_alloc (device memory on CUDA), scalars passed
 * by pointer included (AdamW's step, the clip coefficient's squared norm,
 * the cross entropy gradient's seed); shapes, axis lists and permutations
 * stay in host memory. mp_copy_to_backend and mp_copy_to_host move data
 * between the program's host memory and the backend's.
 * CUDA calls are asynchronous: checks of values in device memory (cross
 * entropy targets, embedding ids, gathered and scattered indices, AdamW's
 * step) and failed kernels are reported by the next mp_copy_to_host, which
 * waits for the work before it.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MP_RUNTIME_H
#define MP_RUNTIME_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a declaration here changes incompatibly. */
#define MP_RUNTIME_ABI_VERSION 32

typedef enum mp_status { MP_OK = 0, MP_ERROR = 1 } mp_status;

typedef enum mp_dtype {
  MP_DTYPE_F32 = 0,
  MP_DTYPE_F64 = 1,
  MP_DTYPE_I32 = 2,
  MP_DTYPE_I64 = 3,
  /* bfloat16 (2 bytes): moved (gathered, copied, converted) and, since
   * ABI 6, summed by mp_all_reduce and mp_reduce_scatter (FSDP2's
   * reduce_dtype=bfloat16): each addition in float32, each sum rounded to
   * bfloat16 (to nearest even), in the order the transport adds. */
  MP_DTYPE_BF16 = 4,
} mp_dtype;

typedef enum mp_backend { MP_BACKEND_HOST = 0, MP_BACKEND_CUDA = 1 } mp_backend;

typedef struct mp_context mp_context;

/* The ABI version this library implements. */
int mp_runtime_abi_version(void);

/* Initializes MPI (if the program has not) and creates the context of this
 * rank on a mesh of `num_axes` named axes. The world size must be the
 * product of the axis sizes: otherwise every rank gets MP_ERROR and a
 * message saying so (no rank hangs). On error *out still holds a context
 * for mp_context_error(); destroy it. */
mp_status mp_context_create(int num_axes, const char *const *axis_names,
                            const int64_t *axis_sizes, mp_backend backend,
                            mp_context **out);
/* Frees the context; finalizes MPI if mp_context_create initialized it. */
void mp_context_destroy(mp_context *ctx);

const char *mp_context_error(const mp_context *ctx);
/* MP_ERROR once any call on the context has failed. */
mp_status mp_context_status(const mp_context *ctx);
/* Names the op of the step about to run (a static string, such as
 * "mp.linear at ffn.mlir:12:8"); errors from then on mention it. */
void mp_context_set_op(mp_context *ctx, const char *op);
int mp_context_rank(const mp_context *ctx);
int mp_context_world_size(const mp_context *ctx);
int mp_context_num_axes(const mp_context *ctx);
int64_t mp_context_axis_size(const mp_context *ctx, int axis);
/* This rank's coordinate on `axis`. */
int64_t mp_context_coordinate(const mp_context *ctx, int axis);
/* The index of the axis named `name`, or -1. */
int mp_context_axis_index(const mp_context *ctx, const char *name);

/* Backend memory (64-byte aligned), tracked for the peak. The live and
 * peak bytes count, beside mp_alloc's, the scratch a backend allocates for
 * itself and what a context holds for its whole life
 * (mp_backend_reserved_bytes). */
void *mp_alloc(mp_context *ctx, size_t bytes);
void mp_free(mp_context *ctx, void *ptr);
size_t mp_live_bytes(const mp_context *ctx);
size_t mp_peak_bytes(const mp_context *ctx);

/* The device memory a CUDA context holds from mp_context_create to
 * mp_context_destroy: cuBLAS's workspace (MP_CUDA_CUBLAS_WORKSPACE_BYTES,
 * given to its handle with cublasSetWorkspace, the size NVIDIA recommends
 * on Hopper, so that cuBLAS allocates none of its own, uncounted, nor one
 * per CUDA graph it is captured in), the reductions' partial sums
 * (MP_CUDA_REDUCTION_PARTIALS doubles) and the kernels' fault record
 * (MP_CUDA_FAULT_RECORD_BYTES). */
#define MP_CUDA_CUBLAS_WORKSPACE_BYTES (32 * 1024 * 1024)
#define MP_CUDA_REDUCTION_PARTIALS (1 << 18)
#define MP_CUDA_FAULT_RECORD_BYTES 256
/* The bytes a context of `backend` holds for its whole life, counted in
 * mp_live_bytes and mp_peak_bytes from its creation: CUDA's above; none on
 * the host. A step's peak is its planned one (the memory report's
 * `peak_bytes` and the outputs) plus these. */
static inline int64_t mp_backend_reserved_bytes(mp_backend backend) {
  return backend == MP_BACKEND_CUDA ? (int64_t)MP_CUDA_CUBLAS_WORKSPACE_BYTES +
                                          (int64_t)MP_CUDA_REDUCTION_PARTIALS *
                                              (int64_t)sizeof(double) +
                                          MP_CUDA_FAULT_RECORD_BYTES
                                    : 0;
}

/* With MP_PROFILE=1: forgets the op times recorded so far, so that the
 * table leaves out warm-up steps (first calls load kernels and pick GEMM
 * algorithms). Does nothing without a profile. */
void mp_profile_restart(mp_context *ctx);

/* Copies `bytes` bytes of backend memory; the buffers may overlap or be
 * the same. */
mp_status mp_copy(mp_context *ctx, void *dst, const void *src, int64_t bytes);

/* Converts `n` elements of `from` in `in` into `to` in `out` (the buffers
 * do not overlap): MP_DTYPE_F32 to MP_DTYPE_BF16 rounds to nearest, ties to
 * even (a NaN stays a quiet NaN); MP_DTYPE_BF16 to MP_DTYPE_F32 is exact.
 * Other pairs are errors. */
mp_status mp_convert(mp_context *ctx, mp_dtype from, mp_dtype to, int64_t n,
                     const void *in, void *out);
/* Copies `bytes` bytes from the program's host memory `src` into backend
 * memory `dst`, after the work issued before it; `src` may be reused when
 * it returns. */
mp_status mp_copy_to_backend(mp_context *ctx, void *dst, const void *src,
                             int64_t bytes);
/* Copies `bytes` bytes from backend memory `src` into the program's host
 * memory `dst`, after the work issued before it, and returns when `dst`
 * holds them; an error of that work is reported here. */
mp_status mp_copy_to_host(mp_context *ctx, void *dst, const void *src,
                          int64_t bytes);

/*===--- Collectives ------------------------------------------------------===*
 * `axes` lists `num_axes` mesh axis indices. Shapes are the LOCAL shapes of
 * a tensor of rank `rank`. In-place all_reduce; the others write `out`,
 * which must not overlap `in`.
 *===----------------------------------------------------------------------===*/

/* Sums `data` over the group; every member gets the sum. */
mp_status mp_all_reduce(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, void *data, int64_t count);
/* Concatenates the members' `in` along `dim`, in group order. `scratch`
 * (backend memory, scratch_bytes of it; ABI 14) stages a dim that is not
 * the leading one: mp_collective_scratch_bytes says how much, and it must
 * stay untouched until the collective is complete (its mp_async_wait).
 * Given less, the backend allocates what is missing itself, and
 * mp_peak_bytes counts it. */
mp_status mp_all_gather(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int dim, void *scratch,
                        int64_t scratch_bytes);
/* Sums over the group and keeps this member's piece of `dim`; `scratch` as
 * for mp_all_gather. */
mp_status mp_reduce_scatter(mp_context *ctx, const int *axes, int num_axes,
                            mp_dtype dtype, const void *in, void *out, int rank,
                            const int64_t *shape, int dim, void *scratch,
                            int64_t scratch_bytes);
/* FSDP2's flat parameter: `count` all_gathers over one group run as ONE
 * collective on a packed buffer. Tensor i has local rank ranks[i] and the
 * shape that follows the earlier tensors' in `shapes`; it is gathered along
 * dims[i] from in[i] into out[i], as mp_all_gather would. `scratch` holds
 * (group size + 1) times the inputs' bytes together. */
mp_status mp_all_gather_group(mp_context *ctx, const int *axes, int num_axes,
                              mp_dtype dtype, int count, const void *const *in,
                              void *const *out, const int *ranks,
                              const int64_t *shapes, const int *dims,
                              void *scratch);
/* The same for reduce_scatters: tensor i (the local shape given is its
 * input's) is summed over the group and this member keeps its piece of
 * dims[i] in out[i]. `scratch` holds (group size + 1) times the outputs'
 * bytes together. */
mp_status mp_reduce_scatter_group(mp_context *ctx, const int *axes,
                                  int num_axes, mp_dtype dtype, int count,
                                  const void *const *in, void *const *out,
                                  const int *ranks, const int64_t *shapes,
                                  const int *dims, void *scratch);
/* Small all_reduces coalesced (mp-opt --mp-coalesce-reductions): tensor i,
 * counts[i] elements (0 or more), is summed over the group from in[i] into
 * out[i] (which may be in[i]), all of them in ONE collective on a packed
 * buffer, as torch.distributed's all_reduce_coalesced. `scratch` holds the
 * counts' bytes together. */
mp_status mp_all_reduce_group(mp_context *ctx, const int *axes, int num_axes,
                              mp_dtype dtype, int count, const void *const *in,
                              void *const *out, const int64_t *counts,
                              void *scratch);
/* Splits `split_dim` into pieces, sends piece j to member j, and
 * concatenates what arrives along `concat_dim`; `scratch` as for
 * mp_all_gather. */
mp_status mp_all_to_all(mp_context *ctx, const int *axes, int num_axes,
                        mp_dtype dtype, const void *in, void *out, int rank,
                        const int64_t *shape, int split_dim, int concat_dim,
                        void *scratch, int64_t scratch_bytes);
/* Keeps this member's piece of `dim`; no communication. */
mp_status mp_shard_slice(mp_context *ctx, const int *axes, int num_axes,
                         mp_dtype dtype, const void *in, void *out, int rank,
                         const int64_t *shape, int dim);

/*===--- Uneven splits ----------------------------------------------------===*
 * A dim of global extent n split over mesh axes a_1..a_m (major to minor,
 * sizes s_j, this rank's coordinates i_j) is chunked axis by axis as
 * torch.chunk does, each axis chunking the previous level's padded piece:
 * c_0 = n, c_j = ceil(c_{j-1} / s_j), and every rank holds c_m entries. The
 * piece starts at global entry sum_j i_j * c_j and its first v_m are valid,
 * with v_0 = n, v_j = clamp(v_{j-1} - i_j * c_j, 0, c_j); the rest is
 * padding, zero wherever a tensor enters or leaves a step (n = 5 over 4
 * ranks: 2, 2, 1 and 0 valid of 2). When the sizes divide n, c_m = n / s_1
 * ... / s_m and every entry is valid. The collectives above take even
 * splits only; a compiled step pads and trims around them with these calls,
 * which copy and zero bytes, so they take any dtype.
 *===----------------------------------------------------------------------===*/

/* Copies `in` (local shape `shape`, rank `rank`) into `out`, which has the
 * same shape except `out_extent` entries in dim `dim`: the first
 * min(shape[dim], out_extent) are copied and the rest of `out` is zero.
 * `out` must not overlap `in`. */
mp_status mp_resize_dim(mp_context *ctx, mp_dtype dtype, const void *in,
                        void *out, int rank, const int64_t *shape, int dim,
                        int64_t out_extent);
/* Copies entries [in_offset, in_offset + count) of dim `dim` of `in`
 * (local shape `shape`) over entries [out_offset, out_offset + count) of dim
 * `dim` of `out`, which has the same shape except `out_extent` entries in
 * `dim`; the rest of `out` is left as it is. `out` must not overlap `in`.
 * A step's mp.slice and mp.concat copy with it where the memory plan does
 * not make them views. */
mp_status mp_copy_dim_range(mp_context *ctx, mp_dtype dtype, const void *in,
                            void *out, int rank, const int64_t *shape, int dim,
                            int64_t in_offset, int64_t out_extent,
                            int64_t out_offset, int64_t count);
/* Zeros the padding of dim `dim` of `data` (local shape `shape`): for a dim
 * of global extent `extent` split over `axes` (major to minor) as above,
 * the entries at and past this rank's valid count v_m. shape[dim] must be
 * the c_m that `extent` and the axes give. */
mp_status mp_zero_padding(mp_context *ctx, const int *axes, int num_axes,
                          mp_dtype dtype, void *data, int rank,
                          const int64_t *shape, int dim, int64_t extent);

/*===--- Compute (f32, row-major) -----------------------------------------===*/

/* The arithmetic of a GEMM on float32 operands and result (the compiler's
 * #mp.precision). */
typedef enum mp_precision {
  /* float32 products and sums; never TF32. */
  MP_PRECISION_FP32 = 0,
  /* TF32 tensor cores allowed (CUDA); float32 on the host. */
  MP_PRECISION_TF32 = 1,
  /* A and B rounded to bfloat16 (to nearest, ties to even), products summed
   * in float32: the host rounds copies of A and B, then runs an SGEMM; CUDA
   * runs float32 operands with CUBLAS_COMPUTE_32F_FAST_16BF and bfloat16
   * ones natively (mp_gemm_f32). */
  MP_PRECISION_BF16 = 2,
} mp_precision;

/* C = alpha · op(A) · op(B) + beta · C with op(X) = Xᵀ when trans_x; C is
 * m x n, op(A) m x k, op(B) k x n. A and B are float32 (a_type, b_type
 * MP_DTYPE_F32) or, in MP_PRECISION_BF16, bfloat16 too (MP_DTYPE_BF16:
 * FSDP's gathered bf16 parameters, activations held in bf16). A bf16 GEMM
 * multiplies bfloat16 values and sums in float32. The host widens bfloat16
 * operands (exactly) and rounds float32 ones to nearest even. CUDA runs two
 * bfloat16 operands as a native bf16 GEMM and, of mixed ones, converts the
 * smaller first (a float32 one rounded to nearest even for the native GEMM,
 * or the bfloat16 one widened); two float32 operands are rounded by
 * cuBLAS's CUBLAS_COMPUTE_32F_FAST_16BF. C is float32 (c_type
 * MP_DTYPE_F32) or, in MP_PRECISION_BF16 with beta 0, bfloat16: the float32
 * result rounded to nearest even (the host rounds its float32 product;
 * CUDA runs a native bf16 GEMM, float32 operands rounded first, and cuBLAS
 * rounds in its epilogue). (ABI 6; c_type ABI 8.)
 *
 * `workspace` (backend memory, workspace_bytes of it; ABI 13) holds what
 * the GEMM converts or lays out before it multiplies: the host's rounded
 * or widened float32 copies of a bf16 GEMM's A and B (and of a bfloat16
 * C), CUDA's converted operand of mixed dtypes and the transposed A of a
 * FLOP-bound NT GEMM (MP_CUDA_NT_GEMM). mp_gemm_workspace_bytes says how
 * much: a compiled step plans it in its arena. Given less (or none), the
 * backend allocates what is missing itself, and mp_peak_bytes counts it. */
mp_status mp_gemm_f32(mp_context *ctx, mp_precision precision, mp_dtype a_type,
                      mp_dtype b_type, int trans_a, int trans_b, int64_t m,
                      int64_t n, int64_t k, float alpha, const void *a,
                      const void *b, float beta, mp_dtype c_type, void *c,
                      void *workspace, int64_t workspace_bytes);

/* `batch` independent GEMMs; matrix i of A, B and C starts stride_x
 * elements after matrix i-1 (a stride of 0 reuses one matrix). */
mp_status mp_gemm_batched_f32(mp_context *ctx, mp_precision precision,
                              mp_dtype a_type, mp_dtype b_type, int trans_a,
                              int trans_b, int64_t batch, int64_t m, int64_t n,
                              int64_t k, float alpha, const void *a,
                              int64_t stride_a, const void *b, int64_t stride_b,
                              float beta, mp_dtype c_type, void *c,
                              int64_t stride_c, void *workspace,
                              int64_t workspace_bytes);

/* Each piece of a GEMM's workspace starts at a multiple of this many bytes
 * from the workspace's start. */
#define MP_GEMM_WORKSPACE_ALIGNMENT 64

/* Adds `bytes` rounded up to MP_GEMM_WORKSPACE_ALIGNMENT to *total; 0 when
 * either overflows int64. */
static inline int mp_gemm_workspace_add(int64_t *total, int64_t count,
                                        int64_t element_bytes) {
  int64_t bytes;
  if (__builtin_mul_overflow(count, element_bytes, &bytes) ||
      __builtin_add_overflow(bytes, MP_GEMM_WORKSPACE_ALIGNMENT - 1, &bytes) ||
      __builtin_add_overflow(*total,
                             bytes / MP_GEMM_WORKSPACE_ALIGNMENT *
                                 MP_GEMM_WORKSPACE_ALIGNMENT,
                             total))
    return 0;
  return 1;
}

/* The elements a batch of matrices rows x cols, stride elements apart,
 * spans; -1 when it overflows int64. */
static inline int64_t mp_gemm_span(int64_t batch, int64_t stride, int64_t rows,
                                   int64_t cols) {
  int64_t elements, reach;
  if (__builtin_mul_overflow(rows, cols, &elements) ||
      __builtin_mul_overflow(stride, batch - 1, &reach) ||
      __builtin_add_overflow(reach, elements, &elements))
    return -1;
  return elements;
}

/* The dtype the CUDA backend multiplies a GEMM's operands in: bfloat16 when
 * both are (or C is), and of mixed ones the dtype of the larger, the
 * smaller being converted (f32_count and bf16_count: the elements of the
 * float32 and the bfloat16 operand). */
static inline mp_dtype mp_cuda_gemm_dtype(mp_precision precision,
                                          mp_dtype a_type, mp_dtype b_type,
                                          mp_dtype c_type, int64_t a_count,
                                          int64_t b_count) {
  if (c_type == MP_DTYPE_BF16)
    return MP_DTYPE_BF16;
  if (precision != MP_PRECISION_BF16 ||
      (a_type != MP_DTYPE_BF16 && b_type != MP_DTYPE_BF16))
    return MP_DTYPE_F32;
  if (a_type == b_type)
    return MP_DTYPE_BF16;
  int64_t f32_count = a_type == MP_DTYPE_F32 ? a_count : b_count;
  int64_t bf16_count = a_type == MP_DTYPE_BF16 ? a_count : b_count;
  return f32_count <= bf16_count ? MP_DTYPE_BF16 : MP_DTYPE_F32;
}

/* True when the CUDA backend may write a row-major Aᵀ·B's A out transposed
 * and run NN (MP_CUDA_NT_GEMM=transpose, the default): float32 operands on
 * tensor cores (tf32 unless NVIDIA_TF32_OVERRIDE=0, or bf16 through
 * CUBLAS_COMPUTE_32F_FAST_16BF) and at least 64 FLOPs per byte. */
static inline int mp_cuda_gemm_transposes_a(mp_precision precision,
                                            mp_dtype gemm_dtype, int trans_a,
                                            int trans_b, int64_t m, int64_t n,
                                            int64_t k) {
  double flops = 2.0 * (double)m * (double)n * (double)k;
  double bytes = 4.0 * ((double)m * k + (double)k * n + (double)m * n);
  return trans_a && !trans_b && precision != MP_PRECISION_FP32 &&
         gemm_dtype == MP_DTYPE_F32 && flops >= 64 * bytes;
}

/* The workspace mp_gemm_batched_f32 takes on `backend` for these arguments
 * (mp_gemm_f32's: batch 1, strides 0), every piece aligned: 0 when it
 * converts and lays out nothing, -1 when the bytes overflow int64. Inline,
 * so that a compiler plans it without the runtime. The host: float32
 * copies of a bf16 GEMM's A and B, and of C when C is bfloat16. CUDA: the
 * converted operands (to mp_cuda_gemm_dtype) and A transposed (the most,
 * whatever the environment switches off). */
static inline int64_t
mp_gemm_workspace_bytes(mp_backend backend, mp_precision precision,
                        mp_dtype a_type, mp_dtype b_type, int trans_a,
                        int trans_b, int64_t batch, int64_t m, int64_t n,
                        int64_t k, int64_t stride_a, int64_t stride_b,
                        mp_dtype c_type, int64_t stride_c) {
  if (batch <= 0 || m <= 0 || n <= 0)
    return 0;
  int64_t a_count = mp_gemm_span(batch, stride_a, m, k);
  int64_t b_count = mp_gemm_span(batch, stride_b, k, n);
  int64_t c_count = mp_gemm_span(batch, stride_c, m, n);
  if (a_count < 0 || b_count < 0 || c_count < 0)
    return -1;
  int64_t total = 0;
  if (backend == MP_BACKEND_HOST) {
    if (precision == MP_PRECISION_BF16 &&
        !(mp_gemm_workspace_add(&total, a_count, 4) &&
          mp_gemm_workspace_add(&total, b_count, 4)))
      return -1;
    if (c_type == MP_DTYPE_BF16 && !mp_gemm_workspace_add(&total, c_count, 4))
      return -1;
    return total;
  }
  mp_dtype gemm_dtype =
      mp_cuda_gemm_dtype(precision, a_type, b_type, c_type, a_count, b_count);
  int64_t gemm_bytes = gemm_dtype == MP_DTYPE_BF16 ? 2 : 4;
  /* At least one element, as the backend allocates. */
  if ((a_type != gemm_dtype &&
       !mp_gemm_workspace_add(&total, a_count > 0 ? a_count : 1, gemm_bytes)) ||
      (b_type != gemm_dtype &&
       !mp_gemm_workspace_add(&total, b_count > 0 ? b_count : 1, gemm_bytes)))
    return -1;
  if (mp_cuda_gemm_transposes_a(precision, gemm_dtype, trans_a, trans_b, m, n,
                                k)) {
    int64_t matrices = stride_a == 0 ? 1 : batch, elements;
    if (__builtin_mul_overflow(matrices, m * k, &elements) ||
        !mp_gemm_workspace_add(&total, elements, 4))
      return -1;
  }
  return total;
}

/* The most rows (the product of the dims before the split one) of an
 * all_gather or reduce_scatter that the CUDA backend runs as one NCCL call
 * per row, grouped, instead of staging them. */
#define MP_CUDA_MAX_ROW_CALLS 32

typedef enum mp_collective {
  MP_COLLECTIVE_ALL_GATHER = 0,
  MP_COLLECTIVE_REDUCE_SCATTER = 1,
  MP_COLLECTIVE_ALL_TO_ALL = 2,
} mp_collective;

/* The product of shape[0, dims); -1 when it overflows int64. */
static inline int64_t mp_shape_product(const int64_t *shape, int dims) {
  int64_t product = 1;
  for (int d = 0; d < dims; ++d)
    if (__builtin_mul_overflow(product, shape[d], &product))
      return -1;
  return product;
}

/* The scratch bytes a collective stages its pieces in on `backend`, so
 * that it allocates nothing of its own (mp_all_gather's `scratch`): for an
 * all_gather its output's bytes and for a reduce_scatter its input's,
 * where rows precede the split dim (the host always; CUDA beyond
 * MP_CUDA_MAX_ROW_CALLS rows); for an all_to_all its input's bytes to
 * pack the pieces where rows precede the split dim, and as many to
 * receive them where rows precede the concatenated one, each piece from a
 * multiple of MP_GEMM_WORKSPACE_ALIGNMENT. `shape` is the local input's
 * (rank dims); concat_dim only for the all_to_all. -1 when the sizes
 * overflow int64 or the dims are out of range. (ABI 14.) */
static inline int64_t
mp_collective_scratch_bytes(mp_backend backend, mp_collective kind,
                            int64_t group_size, mp_dtype dtype, int rank,
                            const int64_t *shape, int dim, int concat_dim) {
  int64_t element_bytes = dtype == MP_DTYPE_BF16                           ? 2
                          : dtype == MP_DTYPE_F64 || dtype == MP_DTYPE_I64 ? 8
                                                                           : 4;
  int64_t count = mp_shape_product(shape, rank);
  int64_t rows = dim >= 0 && dim < rank ? mp_shape_product(shape, dim) : -1;
  int64_t total = 0;
  if (count < 0 || rows < 0 || group_size < 1)
    return -1;
  if (kind == MP_COLLECTIVE_ALL_TO_ALL) {
    if (concat_dim < 0 || concat_dim >= rank)
      return -1;
    /* The rows before the concatenated dim of a piece (split dim / group). */
    int64_t piece_rows = mp_shape_product(shape, concat_dim);
    if (piece_rows > 0 && concat_dim > dim)
      piece_rows = piece_rows / shape[dim] * (shape[dim] / group_size);
    if (piece_rows < 0 ||
        (rows > 1 && !mp_gemm_workspace_add(&total, count, element_bytes)) ||
        (piece_rows > 1 &&
         !mp_gemm_workspace_add(&total, count, element_bytes)))
      return -1;
    return total;
  }
  if (rows <= 1 ||
      (backend == MP_BACKEND_CUDA && rows <= MP_CUDA_MAX_ROW_CALLS))
    return 0;
  if (kind == MP_COLLECTIVE_ALL_GATHER &&
      __builtin_mul_overflow(count, group_size, &count))
    return -1;
  if (!mp_gemm_workspace_add(&total, count, element_bytes))
    return -1;
  return total;
}

typedef enum mp_unary_op {
  MP_UNARY_NEG = 0,
  MP_UNARY_EXP = 1,
  MP_UNARY_RELU = 2,
  MP_UNARY_STEP = 3, /* 1 where positive, else 0: relu' */
  MP_UNARY_SIGMOID = 4,
  MP_UNARY_SILU = 5,
  MP_UNARY_GELU = 6,      /* x·Φ(x) */
  MP_UNARY_GELU_TANH = 7, /* PyTorch's approximate="tanh" */
  MP_UNARY_SCALE = 8,     /* x·scalar */
  MP_UNARY_TANH = 9,
  MP_UNARY_LOG = 10,        /* natural log: -inf at 0, NaN below */
  MP_UNARY_RSQRT = 11,      /* 1 / sqrt(x + scalar) */
  MP_UNARY_CLAMP = 12,      /* min(max(x, scalar), upper); NaN stays NaN */
  MP_UNARY_CLAMP_MASK = 13, /* 1 where scalar <= x <= upper, else 0 */
} mp_unary_op;

typedef enum mp_binary_op {
  MP_BINARY_ADD = 0,
  MP_BINARY_SUB = 1,
  MP_BINARY_MUL = 2,
  MP_BINARY_DIV = 3,
  MP_BINARY_GELU_GRAD = 4,      /* a·gelu'(b) */
  MP_BINARY_GELU_TANH_GRAD = 5, /* a·gelu_tanh'(b) */
  MP_BINARY_SILU_GRAD = 6,      /* a·silu'(b) */
  MP_BINARY_SWIGLU = 7,         /* silu(a)·b, silu's value rounded first */
} mp_binary_op;

/* The elementwise calls compute in float32. Each tensor is float32 or
 * bfloat16 (its mp_dtype before it; ABI 8): a bfloat16 input is read
 * widened (exactly), a bfloat16 output is the float32 result rounded to
 * nearest even, so a call is bit for bit the float32 call between
 * mp_convert calls. An output may be an input of its dtype. */
/* out[i] = op(in[i]) on `n` elements; `scalar` is MP_UNARY_SCALE's factor,
 * MP_UNARY_RSQRT's eps and the clamps' lower bound, `upper` the clamps'
 * upper bound (ABI 25; the other ops ignore it). The clamps' bounds are
 * numbers with scalar <= upper. */
mp_status mp_unary_f32(mp_context *ctx, mp_unary_op op, int64_t n,
                       mp_dtype in_type, const void *in, mp_dtype out_type,
                       void *out, double scalar, double upper);
/* out[i] = a[i] op b[i] on `n` elements. */
mp_status mp_binary_f32(mp_context *ctx, mp_binary_op op, int64_t n,
                        mp_dtype a_type, const void *a, mp_dtype b_type,
                        const void *b, mp_dtype out_type, void *out);
/* The gradients of MP_BINARY_SWIGLU's silu(gate)·up on `n` elements, as
 * MP_BINARY_MUL and MP_BINARY_SILU_GRAD compute them unfused: t = grad·up,
 * gate_grad = t·silu'(gate), up_grad = grad·silu(gate) (silu's value
 * rounded first), each rounded to float. The two outputs must differ. */
mp_status mp_swiglu_grad_f32(mp_context *ctx, int64_t n, mp_dtype grad_type,
                             const void *grad, mp_dtype gate_type,
                             const void *gate, mp_dtype up_type, const void *up,
                             mp_dtype gate_grad_type, void *gate_grad,
                             mp_dtype up_grad_type, void *up_grad);
/* Sums a rank-`rank` tensor over the dims set in `dims_mask` (bit d for dim
 * d), removing them, and multiplies by `scale` (1/count for a mean). Here,
 * in mp_broadcast_f32 and in mp_transpose_f32 the rank is at most 32. */
mp_status mp_reduce_sum_f32(mp_context *ctx, int rank, const int64_t *shape,
                            uint32_t dims_mask, double scale, const float *in,
                            float *out);
/* Repeats `in` along the dims of the rank-`rank` result set in `dims_mask`. */
mp_status mp_broadcast_f32(mp_context *ctx, int rank, const int64_t *out_shape,
                           uint32_t dims_mask, const float *in, float *out);
/* out dim i = in dim perm[i]; `perm` (host memory) is a permutation. Each
 * tensor is float32 or bfloat16 (its mp_dtype before it; ABI 9): a
 * bfloat16 input is read widened, a bfloat16 output written rounded to
 * nearest even (a copy where both are one dtype). The output must not
 * overlap the input. */
mp_status mp_transpose_f32(mp_context *ctx, int rank, const int64_t *in_shape,
                           const int *perm, mp_dtype in_type, const void *in,
                           mp_dtype out_type, void *out);
/* out[0] = scale · Σ (a - b)², in double; `b` null: scale · Σ a² (a
 * squared norm). */
mp_status mp_mse_loss_f32(mp_context *ctx, int64_t n, const float *a,
                          const float *b, double scale, float *out);
/* out[0] = scale · Σ_rows (logsumexp(logits[r]) - logits[r][target[r]]),
 * over the rows whose target is not *ignore_index (host memory; null:
 * every row; ABI 24); the other targets outside [0, classes) are an
 * error. */
mp_status mp_cross_entropy_f32(mp_context *ctx, int64_t rows, int64_t classes,
                               const float *logits, const int64_t *targets,
                               const int64_t *ignore_index, double scale,
                               float *out);
/* out = grad[0] · scale · (softmax(logits) - onehot(targets)), 0 in the
 * rows whose target is *ignore_index (as above). */
mp_status mp_cross_entropy_grad_f32(mp_context *ctx, int64_t rows,
                                    int64_t classes, const float *logits,
                                    const int64_t *targets,
                                    const int64_t *ignore_index,
                                    const float *grad, double scale,
                                    float *out);
/* out[i] = 1 where targets[i] != ignore_index (a sample a cross entropy
 * with that ignore_index keeps), else 0; n int64 entries in, n floats out.
 * (ABI 24.) */
mp_status mp_target_mask_f32(mp_context *ctx, int64_t n, const int64_t *targets,
                             int64_t ignore_index, float *out);
/* out[0] = min(1, max_norm / (sqrt(squared_norm[0]) + 1e-6)). */
mp_status mp_clip_coefficient_f32(mp_context *ctx, const float *squared_norm,
                                  double max_norm, float *out);
mp_status mp_fill_f32(mp_context *ctx, int64_t n, float value, float *out);

/* The optimizers below take `grad_scale`: null, or a float the gradient is
 * multiplied by first (in the backend's memory, as the step keeps a
 * clipping coefficient), rounded as mp_binary_f32's MP_BINARY_MUL rounds,
 * so that an update with it equals the multiplication then the update bit
 * for bit (ABI 6). */

/* torch.optim.SGD, in place on `n` elements; with momentum when
 * `momentum_buffer` is not null. */
mp_status mp_sgd_f32(mp_context *ctx, int64_t n, float *param,
                     const float *grad, float *momentum_buffer, double lr,
                     double momentum, double dampening, double weight_decay,
                     int nesterov, const float *grad_scale);
/* torch.optim.AdamW on `n` elements; `step` points at the step count (1,
 * 2, ...) as the float the training step keeps it in. */
mp_status mp_adamw_f32(mp_context *ctx, int64_t n, float *param,
                       const float *grad, float *exp_avg, float *exp_avg_sq,
                       double lr, double beta1, double beta2, double eps,
                       double weight_decay, const float *step,
                       const float *grad_scale);
/* mp_adamw_f32 (without grad_scale) of a [m, n] parameter whose gradient is
 * alpha · aᵀ · b for a [k, m] and b [k, n] float32 (a weight gradient of k
 * rows: the output gradient and the layer's input), computed where the
 * update reads it and never written (ABI 12): element (i, j) is
 * alpha · Σ_r a[r][i] · b[r][j], summed in float32 in the order of r by
 * fused multiply-adds (the operands first rounded to bfloat16 to nearest
 * even in MP_PRECISION_BF16; tf32 multiplies float32), times alpha in
 * double rounded once: the same bits on every backend. For few rows the
 * product is bound by memory, and writing it and reading it back would be
 * 8 of the 32 bytes per element that the GEMM and the update move. */
mp_status mp_adamw_outer_f32(mp_context *ctx, mp_precision precision, int64_t k,
                             int64_t m, int64_t n, float alpha, const float *a,
                             const float *b, float *param, float *exp_avg,
                             float *exp_avg_sq, double lr, double beta1,
                             double beta2, double eps, double weight_decay,
                             const float *step);
/* mp_sgd_f32 (without grad_scale) of a [m, n] parameter whose gradient is
 * alpha · aᵀ · b, computed as mp_adamw_outer_f32 computes it (ABI 15): with
 * momentum when `momentum_buffer` is not null. Without momentum it moves 8
 * bytes per element instead of the 16 of writing the gradient and reading
 * it back in mp_sgd_f32. */
mp_status mp_sgd_outer_f32(mp_context *ctx, mp_precision precision, int64_t k,
                           int64_t m, int64_t n, float alpha, const float *a,
                           const float *b, float *param, float *momentum_buffer,
                           double lr, double momentum, double dampening,
                           double weight_decay, int nesterov);
/* mp_adamw_f32 on `count` tensors sharing the hyperparameters and the step,
 * tensor i of sizes[i] elements at params[i], grads[i], exp_avgs[i] and
 * exp_avg_sqs[i]: PyTorch's fused AdamW over a tensor list. The CUDA
 * backend updates up to MP_OPTIMIZER_TENSORS_PER_LAUNCH tensors per kernel
 * launch (mp_sgd_multi_f32 too). */
#define MP_OPTIMIZER_TENSORS_PER_LAUNCH 16
mp_status mp_adamw_multi_f32(mp_context *ctx, int count, float *const *params,
                             const float *const *grads, float *const *exp_avgs,
                             float *const *exp_avg_sqs, const int64_t *sizes,
                             double lr, double beta1, double beta2, double eps,
                             double weight_decay, const float *step,
                             const float *grad_scale);
/* mp_sgd_f32 on `count` tensors sharing the hyperparameters: tensor i of
 * sizes[i] elements at params[i], grads[i] and, when momentum_buffers is
 * not null, momentum_buffers[i]. */
mp_status mp_sgd_multi_f32(mp_context *ctx, int count, float *const *params,
                           const float *const *grads,
                           float *const *momentum_buffers, const int64_t *sizes,
                           double lr, double momentum, double dampening,
                           double weight_decay, int nesterov,
                           const float *grad_scale);

/*===--- Transformer layers (f32, row-major; ids int64) -------------------===*
 * The kernels of a Llama-shaped block that are not GEMMs, with their
 * gradients. Row statistics and sums are taken in double. Every result is
 * the same from run to run, except mp_embedding_grad_f32's on CUDA, which
 * adds rows that share an id with atomics in no fixed order. A null
 * pointer to a buffer that holds elements, a negative size, a size whose
 * bytes overflow int64, eps below 0 and theta not above 0 are errors.
 *===----------------------------------------------------------------------===*/

/* RMSNorm over the last dim, as torchtitan's: out[r] = x[r] · rsqrt(mean(x[r]²)
 * + eps) · (weight_offset + weight). x, out: rows x dim; weight: dim. out
 * may not alias x (an overlap is an error). x and out are float32 or
 * bfloat16 (x_type, out_type; ABI 8): read widened, written rounded to
 * nearest even, the arithmetic unchanged. weight_offset (ABI 20) is 0 for
 * torchtitan's and Llama's norms and 1 for Gemma's, whose weights are
 * stored as the scale minus one. */
mp_status mp_rms_norm_f32(mp_context *ctx, int64_t rows, int64_t dim,
                          double eps, mp_dtype x_type, const void *x,
                          const float *weight, double weight_offset,
                          mp_dtype out_type, void *out);
/* Its gradient for the output gradient `grad` (rows x dim): dx (rows x dim)
 * and dweight (dim) = Σ_rows grad · x · rstd (overwritten, not
 * accumulated). With rstd = rsqrt(mean(x²) + eps), gw = grad ·
 * (weight_offset + weight): dx = rstd · gw − x · rstd³ · (Σ_j gw_j x_j) /
 * dim. Either of dx and dweight may be null (not computed), not both;
 * weight and weight_offset are read only for dx, and weight may be null
 * without it. x is float32 or bfloat16 (x_type, ABI
 * 8), and so is grad (grad_type, ABI 11: a sum tensor parallelism made in
 * bfloat16), read widened; a bfloat16 x or grad may not be dx's buffer.
 * `scratch` (scratch_bytes of it; ABI 16) holds what the call keeps beside
 * its outputs: mp_norm_grad_scratch_bytes says how much; given less, the
 * call allocates what is missing (mp_peak_bytes counts it). */
mp_status mp_rms_norm_grad_f32(mp_context *ctx, int64_t rows, int64_t dim,
                               double eps, mp_dtype x_type, const void *x,
                               const float *weight, double weight_offset,
                               mp_dtype grad_type, const void *grad, float *dx,
                               float *dweight, void *scratch,
                               int64_t scratch_bytes);
/* LayerNorm over the last dim (torch.nn.functional.layer_norm, biased
 * variance): out = (x − mean) · rstd · weight + bias. x and out are
 * float32 or bfloat16 (x_type, out_type; ABI 31), as mp_rms_norm_f32's,
 * and out may not alias x. */
mp_status mp_layer_norm_f32(mp_context *ctx, int64_t rows, int64_t dim,
                            double eps, mp_dtype x_type, const void *x,
                            const float *weight, const float *bias,
                            mp_dtype out_type, void *out);
/* Its gradient: dx, dweight = Σ_rows grad · x̂, dbias = Σ_rows grad (both
 * overwritten), with x̂ = (x − mean) · rstd. dx, or dweight and dbias
 * together, may be null (not computed); x and grad may be bfloat16 (x_type,
 * grad_type; ABI 31) and `scratch` is used, as for mp_rms_norm_grad_f32. */
mp_status mp_layer_norm_grad_f32(mp_context *ctx, int64_t rows, int64_t dim,
                                 double eps, mp_dtype x_type, const void *x,
                                 const float *weight, mp_dtype grad_type,
                                 const void *grad, float *dx, float *dweight,
                                 float *dbias, void *scratch,
                                 int64_t scratch_bytes);
/* The scratch bytes mp_rms_norm_grad_f32 and mp_layer_norm_grad_f32
 * (x_type and grad_type as given) run in on `backend` without allocating
 * memory of their own: each row's mean and inverse root in double, then on
 * the host each bfloat16 input widened to float32,
 * each piece from a multiple of MP_GEMM_WORKSPACE_ALIGNMENT bytes; -1 for
 * negative sizes or bytes that overflow int64. (ABI 16.) */
static inline int64_t mp_norm_grad_scratch_bytes(mp_backend backend,
                                                 int64_t rows, int64_t dim,
                                                 mp_dtype x_type,
                                                 mp_dtype grad_type) {
  int64_t total = 0, elements;
  if (rows < 0 || dim < 0 || __builtin_mul_overflow(rows, dim, &elements) ||
      !mp_gemm_workspace_add(&total, rows > 1 ? rows : 1,
                             2 * (int64_t)sizeof(double)))
    return -1;
  if (backend == MP_BACKEND_HOST &&
      ((x_type == MP_DTYPE_BF16 &&
        !mp_gemm_workspace_add(&total, elements, sizeof(float))) ||
       (grad_type == MP_DTYPE_BF16 &&
        !mp_gemm_workspace_add(&total, elements, sizeof(float)))))
    return -1;
  return total;
}
/* Softmax over the last dim of a [batch, sq, sk] tensor, max-subtracted.
 * With `causal`, entry (q, k) is masked (probability exactly 0, the input
 * not read) where k > q + (sk − sq): PyTorch's is_causal, torch.triu(
 * diagonal=1), for sq == sk; for sq > sk the rows whose every entry is
 * masked are all zeros, not NaN. A causal `window` > 0 (ABI 18) masks the
 * keys more than window − 1 before the diagonal too, k <= q + (sk − sq) −
 * window: each query sees its last `window` keys, as Mistral's and Hugging
 * Face's sliding window attention (kv_idx > q_idx − sliding_window); 0 is
 * no window, and a window needs `causal`. */
mp_status mp_softmax_f32(mp_context *ctx, int64_t batch, int64_t sq, int64_t sk,
                         int causal, int64_t window, const float *x,
                         float *out);
/* Its gradient from the softmax output y and the output gradient grad,
 * rows x cols: dx = y · (grad − Σ_j grad_j y_j). Masked entries have y = 0,
 * so it needs no mask. dx may alias grad. */
mp_status mp_softmax_grad_f32(mp_context *ctx, int64_t rows, int64_t cols,
                              const float *y, const float *grad, float *dx);
/* Scaled dot-product attention (mp.attention) of `batch` query matrices:
 * out = softmax(scale · q · kᵀ) · v for q [batch, sq, head_dim], k
 * [batch / group, sk, head_dim], v [batch / group, sk, value_dim] and out
 * [batch, sq, value_dim], query matrix i reading key and value matrix
 * i / group (grouped-query attention; 1: each its own), masked with
 * `causal` and a sliding `window` (0: none; ABI 19) as mp_softmax_f32
 * masks; a `softcap` c > 0 (ABI 22; 0: none) caps each scaled score x
 * to c · tanh(x / c) before the softmax, as Gemma 2's
 * attn_logit_softcapping does; with `alibi_heads` H > 0 (ABI 29; 0 and
 * null: none) each scaled score of key j in query matrix i gets ALiBi's
 * alibi_slopes[i % H] · j added as mp_alibi_f32 adds it (H divides batch:
 * the heads are the query matrices' last leading dim; no softcap then),
 * or with `alibi_bf16` non-zero (ABI 30) Falcon's bias, mp_alibi_f32's
 * bf16_bias one, added to q · kᵀ before the scale: scale · (q · kᵀ +
 * bias), the scale then a pass of its own after a GEMM with alpha 1;
 * and lse [batch, sq], each row's log-sum-exp of its (capped or biased)
 * scaled scores over the keys it sees (-inf
 * for a row that sees none; its output row is zeros). It runs `chunk` query
 * rows at a time: per chunk, the scores against the keys it sees (under
 * `causal`, none past its last row, and with a window none before its
 * first row's window) by a batched GEMM with alpha `scale`,
 * their softmax, and their product with v, both GEMMs in `precision` (bf16
 * rounds q, k, the probabilities and v). `scratch` (scratch_bytes of it;
 * ABI 14) holds one chunk's scores, batch · min(chunk, sq) · sk floats
 * (under a window, mp_attention_chunk_keys keys instead of sk),
 * and after them the GEMMs' workspace: mp_attention_scratch_bytes says how
 * much; given less the GEMMs allocate what is missing (as mp_gemm_f32's
 * workspace; mp_peak_bytes counts it), and given less than the scores the
 * call allocates them too (ABI 16). A backend with an on-chip kernel for
 * the call runs that instead (CUDA, bf16 and tf32), which takes no scratch
 * (mp_attention_on_chip_scratch_bytes). q, k, v and
 * out are float32 or, in MP_PRECISION_BF16, bfloat16 (q_type, k_type,
 * v_type, out_type; ABI 10): the GEMMs round their operands to bfloat16
 * there anyway, so q, k and v held in bfloat16 give the values they hold
 * in float32, and a bfloat16 out is the float32 one rounded to nearest
 * even; lse, alibi_slopes and scratch are float32. */
mp_status mp_attention_f32(mp_context *ctx, mp_precision precision,
                           int64_t batch, int64_t group, int64_t sq, int64_t sk,
                           int64_t head_dim, int64_t value_dim, float scale,
                           float softcap, int causal, int64_t window,
                           int64_t chunk, int64_t alibi_heads,
                           const float *alibi_slopes, int alibi_bf16,
                           mp_dtype q_type, const void *q, mp_dtype k_type,
                           const void *k, mp_dtype v_type, const void *v,
                           mp_dtype out_type, void *out, float *lse,
                           float *scratch, int64_t scratch_bytes);
/* Its gradients (mp.attention_grad) from grad [batch, sq, value_dim], the
 * gradient of out, given the call's out and lse (and ALiBi's slopes, which
 * take no gradient): dq, dk and dv have the shapes of q, k and v. Per chunk
 * it computes the probabilities p again, dp = grad · vᵀ,
 * ds = mp_softmax_grad_f32(p, dp) (under a softcap c times the cap's slope
 * 1 − (t / c)² at the capped score t = log p + lse), then dq = scale · ds · k
 * for the chunk's rows, and adds scale · dsᵀ · q to dk and pᵀ · grad to dv
 * (zeroed first), chunk after chunk (and a group's query matrices into
 * their keys' and values'). An on-chip kernel (CUDA, bf16 and tf32) takes
 * p = exp(t − lse) from the (capped or biased) scaled scores t it computes, and
 * Σ_j p_j · dp_j = Σ grad · out per row instead, as FlashAttention-2 does,
 * and keeps a float per query row (batch · sq) in `scratch` (of its own
 * where scratch_bytes is less). Otherwise `scratch` holds
 * 2 · batch · min(chunk, sq) · sk floats, then the GEMMs' workspace (as for
 * mp_attention_f32: given less, the call allocates what is missing). q, k,
 * v and out are float32 or, in MP_PRECISION_BF16, bfloat16 (as for
 * mp_attention_f32; ABI 10); the gradients, grad and lse are float32. */
mp_status mp_attention_grad_f32(
    mp_context *ctx, mp_precision precision, int64_t batch, int64_t group,
    int64_t sq, int64_t sk, int64_t head_dim, int64_t value_dim, float scale,
    float softcap, int causal, int64_t window, int64_t chunk,
    int64_t alibi_heads, const float *alibi_slopes, int alibi_bf16,
    mp_dtype q_type, const void *q, mp_dtype k_type, const void *k,
    mp_dtype v_type, const void *v, mp_dtype out_type, const void *out,
    const float *lse, const float *grad, float *dq, float *dk, float *dv,
    float *scratch, int64_t scratch_bytes);

/* One of attention's GEMMs for a chunk of query rows, over the `batch`
 * query matrices: operand x is one matrix of x_size elements per query
 * matrix or, where x_per_key, per key matrix (k, v and their gradients).
 * It runs as `calls` batched GEMMs of batch / group matrices, call r
 * taking query matrices r, group + r, 2 · group + r, ...; as one where
 * group is 1 or the chunk holds every row (`whole`): a group's query
 * matrices are then consecutive, one matrix of group times the rows,
 * stacked along m (along k where A is transposed: the sum over the group).
 * mp_attention_f32 and mp_attention_scratch_bytes both call it. */
typedef struct mp_attention_gemm {
  int trans_a, trans_b;
  int64_t calls, batch, m, n, k, stride_a, stride_b, stride_c;
} mp_attention_gemm;

static inline mp_attention_gemm
mp_attention_gemm_of(int64_t batch, int64_t group, int whole, int trans_a,
                     int trans_b, int64_t m, int64_t n, int64_t k,
                     int64_t a_size, int a_per_key, int64_t b_size,
                     int b_per_key, int64_t c_size, int c_per_key) {
  mp_attention_gemm gemm;
  gemm.trans_a = trans_a;
  gemm.trans_b = trans_b;
  gemm.calls = group;
  gemm.batch = batch / group;
  gemm.m = m;
  gemm.n = n;
  gemm.k = k;
  gemm.stride_a = a_per_key ? a_size : group * a_size;
  gemm.stride_b = b_per_key ? b_size : group * b_size;
  gemm.stride_c = c_per_key ? c_size : group * c_size;
  if (group > 1 && whole) {
    gemm.calls = 1;
    if (trans_a)
      gemm.k = k * group;
    else
      gemm.m = m * group;
  }
  return gemm;
}

/* Raises *largest to the workspace of `gemm` (mp_gemm_workspace_bytes);
 * 0 when that overflows int64. */
static inline int
mp_attention_gemm_workspace(int64_t *largest, mp_backend backend,
                            mp_precision precision, mp_attention_gemm gemm,
                            mp_dtype a_type, mp_dtype b_type, mp_dtype c_type) {
  int64_t bytes = mp_gemm_workspace_bytes(
      backend, precision, a_type, b_type, gemm.trans_a, gemm.trans_b,
      gemm.batch, gemm.m, gemm.n, gemm.k, gemm.stride_a, gemm.stride_b, c_type,
      gemm.stride_c);
  if (bytes < 0)
    return 0;
  if (bytes > *largest)
    *largest = bytes;
  return 1;
}

/* The keys [*begin, *end) that query rows [first, first + rows) of an
 * [sq, sk] attention see together: every key, or under `causal` those up to
 * the last row's (key k <= row + sk - sq, mp_softmax_f32's mask), from the
 * first row's window start (k > row + sk - sq - window; ABI 19); none
 * (*begin == *end) where the rows see no key. A chunk of query rows
 * computes the scores of these keys. */
static inline void mp_attention_keys_seen(int64_t sq, int64_t sk, int causal,
                                          int64_t window, int64_t first,
                                          int64_t rows, int64_t *begin,
                                          int64_t *end) {
  *begin = 0;
  *end = sk;
  if (!causal)
    return;
  int64_t last = first + rows + (sk - sq);
  int64_t start = window > 0 ? first + (sk - sq) - window + 1 : 0;
  *end = last < 0 ? 0 : last < sk ? last : sk;
  *begin = start < 0 ? 0 : start < *end ? start : *end;
}

/* The keys a chunk of min(chunk, sq) query rows computes scores for at
 * most: sk, or under a sliding `window` (ABI 19) its rows + window - 1
 * (its first row's window start to its last row's end). */
static inline int64_t mp_attention_chunk_keys(int64_t sq, int64_t sk,
                                              int64_t window, int64_t chunk) {
  int64_t rows = chunk < sq ? chunk : sq;
  /* rows + window - 1 < sk, without overflow. */
  return window > 0 && window < sk && rows < sk - window + 1 ? rows + window - 1
                                                             : sk;
}
/* The scratch bytes mp_attention_f32 (gradient 0) or mp_attention_grad_f32
 * (gradient 1) runs in on `backend` without allocating memory of its own:
 * one chunk's scores (two buffers for the gradient; see the calls), then,
 * from the next multiple of MP_GEMM_WORKSPACE_ALIGNMENT bytes, the largest
 * workspace of the GEMMs it runs chunk by chunk (mp_gemm_workspace_bytes;
 * the workspace is reused from GEMM to GEMM): the composition in chunks;
 * an on-chip kernel takes mp_attention_on_chip_scratch_bytes instead. -1
 * for sizes the calls refuse or that overflow int64. (ABI 14; the sliding
 * `window`, ABI 19.) */
static inline int64_t mp_attention_scratch_bytes(
    mp_backend backend, mp_precision precision, int gradient, int64_t batch,
    int64_t group, int64_t sq, int64_t sk, int64_t head_dim, int64_t value_dim,
    int causal, int64_t window, int64_t chunk, mp_dtype q_type, mp_dtype k_type,
    mp_dtype v_type, mp_dtype out_type) {
  if (batch < 0 || group < 1 || batch % group != 0 || sq < 0 || sk < 0 ||
      head_dim < 1 || value_dim < 1 || chunk < 1 || window < 0 ||
      (window > 0 && !causal))
    return -1;
  /* Every tensor's elements fit int64, so the GEMMs' sizes do. */
  int64_t width = head_dim > value_dim ? head_dim : value_dim;
  int64_t longest = sq > sk ? sq : sk, elements, scores, total = 0;
  int64_t rows_max = chunk < sq ? chunk : sq, largest = 0;
  if (__builtin_mul_overflow(batch, longest, &elements) ||
      __builtin_mul_overflow(elements, width, &elements) ||
      __builtin_mul_overflow(batch, rows_max, &scores) ||
      __builtin_mul_overflow(
          scores, mp_attention_chunk_keys(sq, sk, window, chunk), &scores) ||
      !mp_gemm_workspace_add(&total, scores, gradient ? 8 : 4))
    return -1;
  for (int64_t first = 0; first < sq; first += chunk) {
    int64_t rows = chunk < sq - first ? chunk : sq - first;
    int64_t begin, end;
    mp_attention_keys_seen(sq, sk, causal, window, first, rows, &begin, &end);
    int64_t keys = end - begin;
    if (keys == 0)
      continue;
    int whole = rows == sq;
    int64_t score = rows * keys, q_size = sq * head_dim, k_size = sk * head_dim,
            v_size = sk * value_dim, out_size = sq * value_dim;
    /* The scores, q · kᵀ. */
    if (!mp_attention_gemm_workspace(
            &largest, backend, precision,
            mp_attention_gemm_of(batch, group, whole, 0, 1, rows, keys,
                                 head_dim, q_size, 0, k_size, 1, score, 0),
            q_type, k_type, MP_DTYPE_F32))
      return -1;
    if (!gradient) {
      /* out = p · v. */
      if (!mp_attention_gemm_workspace(
              &largest, backend, precision,
              mp_attention_gemm_of(batch, group, whole, 0, 0, rows, value_dim,
                                   keys, score, 0, v_size, 1, out_size, 0),
              MP_DTYPE_F32, v_type, out_type))
        return -1;
      continue;
    }
    /* dp = grad · vᵀ, dq = ds · k, dk += dsᵀ · q, dv += pᵀ · grad. */
    if (!mp_attention_gemm_workspace(
            &largest, backend, precision,
            mp_attention_gemm_of(batch, group, whole, 0, 1, rows, keys,
                                 value_dim, out_size, 0, v_size, 1, score, 0),
            MP_DTYPE_F32, v_type, MP_DTYPE_F32) ||
        !mp_attention_gemm_workspace(
            &largest, backend, precision,
            mp_attention_gemm_of(batch, group, whole, 0, 0, rows, head_dim,
                                 keys, score, 0, k_size, 1, q_size, 0),
            MP_DTYPE_F32, k_type, MP_DTYPE_F32) ||
        !mp_attention_gemm_workspace(
            &largest, backend, precision,
            mp_attention_gemm_of(batch, group, whole, 1, 0, keys, head_dim,
                                 rows, score, 0, q_size, 0, k_size, 1),
            MP_DTYPE_F32, q_type, MP_DTYPE_F32) ||
        !mp_attention_gemm_workspace(
            &largest, backend, precision,
            mp_attention_gemm_of(batch, group, whole, 1, 0, keys, value_dim,
                                 rows, score, 0, out_size, 0, v_size, 1),
            MP_DTYPE_F32, MP_DTYPE_F32, MP_DTYPE_F32))
      return -1;
  }
  if (largest > 0 && !mp_gemm_workspace_add(&total, largest, 1))
    return -1;
  return total;
}
/* The shared memory per block (its opt-in maximum) of a GPU of compute
 * capability arch / 10, numbered as CMAKE_CUDA_ARCHITECTURES numbers them
 * (CUDA C++ Programming Guide, "Technical Specifications per Compute
 * Capability"): 80 and 87 (A100, Jetson Orin) 163 KB, 90 and 100 (H100,
 * H200, B200) 227 KB, 86, 89 and 120 (GeForce and workstation GPUs) 99 KB;
 * 0 for an architecture this header does not know. (ABI 16.) */
static inline int64_t mp_cuda_shared_bytes_per_block(int64_t arch) {
  switch (arch) {
  case 80:
  case 87:
    return 163 * 1024;
  case 90:
  case 100:
    return 227 * 1024;
  case 86:
  case 89:
  case 120:
    return 99 * 1024;
  default:
    return 0;
  }
}

/* The shared memory the CUDA backend's on-chip attention kernels take, the
 * largest of the forward's and the two gradient kernels', for head dims and
 * value dims of at most `tiles` whole tiles of 16 (1 to 8: the kernels take
 * head dims up to 128), in MP_PRECISION_BF16 or MP_PRECISION_TF32
 * (mp-flash-attention-emulation checks it against the kernels' own
 * sizes); -1 for other arguments. (ABI 16.) */
static inline int64_t
mp_cuda_on_chip_attention_shared_bytes(mp_precision precision, int64_t tiles) {
  if (tiles < 1 || tiles > 8)
    return -1;
  if (precision == MP_PRECISION_BF16)
    return 57856 + 8192 * tiles;
  if (precision == MP_PRECISION_TF32)
    return 74240 + 16384 * tiles;
  return -1;
}

/* The largest head dim and value dim at which the CUDA backend runs
 * mp_attention_f32 and its gradient as on-chip kernels on a GPU with
 * `shared_bytes` of shared memory per block (mp_cuda_shared_bytes_per_block)
 * in `precision`: the most whole tiles whose
 * mp_cuda_on_chip_attention_shared_bytes fit; 0 where none do and in
 * MP_PRECISION_FP32 (composed in chunks). An A100: bf16 128, tf32 80; an
 * H100 or H200: 128 both. A step planned for CUDA (the passes' `cuda-archs`)
 * gives calls within the limit of every architecture it is planned for the
 * on-chip scratch (mp_attention_on_chip_scratch_bytes), others the chunks'.
 * Where the calls compose after all (a GPU with less shared memory than
 * planned for, MP_CUDA_ATTENTION=composed, NVIDIA_TF32_OVERRIDE=0 in tf32)
 * they allocate the scratch they were not given, counted. (ABI 16.) */
static inline int64_t
mp_cuda_on_chip_attention_max_head_dim(mp_precision precision,
                                       int64_t shared_bytes) {
  int64_t tiles = 0;
  for (int64_t next = 1; next <= 8; ++next) {
    int64_t bytes = mp_cuda_on_chip_attention_shared_bytes(precision, next);
    if (bytes < 0 || bytes > shared_bytes)
      break;
    tiles = next;
  }
  return 16 * tiles;
}

/* The scratch bytes an on-chip kernel takes (mp_attention_f32 with
 * gradient 0, mp_attention_grad_f32 with gradient 1): none for the
 * forward, a float per query row, batch · sq, for the gradient; -1 for
 * negative sizes or bytes that overflow int64. (ABI 16.) */
static inline int64_t
mp_attention_on_chip_scratch_bytes(int gradient, int64_t batch, int64_t sq) {
  int64_t bytes;
  if (batch < 0 || sq < 0 || __builtin_mul_overflow(batch, sq, &bytes) ||
      __builtin_mul_overflow(bytes, (int64_t)sizeof(float), &bytes))
    return -1;
  return gradient ? bytes : 0;
}

/* Rotary position embedding as torchtitan's Llama (apply_rotary_emb;
 * adjacent pairs form the complex numbers): x and out are [outer, seq,
 * heads, head_dim], head_dim even. For position p (the seq index) and pair
 * i < head_dim / 2, the angle is a = p · freq with freq = 1 /
 * theta^((2i) / head_dim), both in double (torch computes them in float),
 * and cos a, sin a computed in double and rounded to float: (out[2i],
 * out[2i+1]) = (x[2i] · cos a − x[2i+1] · sin a, x[2i] · sin a + x[2i+1] ·
 * cos a). With `inverse` the rotation is by −a (the gradient). x and out
 * are float32 or bfloat16 (x_type, out_type; ABI 32): read widened, written
 * rounded to nearest even, the arithmetic unchanged; out may be x's buffer
 * where their dtypes agree. llama3_scaling (NULL: none) scales freq as
 * Llama 3.1 and later (Meta's apply_scaling, Hugging Face's rope_type
 * "llama3"), in double: with the wavelength w = 2π / freq, freq is kept where w
 * < original_context / high_freq_factor, divided by factor where w >
 * original_context / low_freq_factor, and between them (1 − s) · freq /
 * factor + s · freq with s = (original_context / w − low_freq_factor) /
 * (high_freq_factor − low_freq_factor); a factor of 1 scales nothing.
 * linear_scaling then divides every freq (Hugging Face's rope_type "linear",
 * position interpolation, as Gemma 3's global layers take it); 1 scales
 * nothing, and it must be positive and finite.
 * Only the first rotary_dims entries of each head rotate (ABI 23; Hugging
 * Face's partial_rotary_factor: Phi-4-mini rotates 96 of 128): pair i <
 * rotary_dims / 2 turns at freq = 1 / theta^((2i) / rotary_dims), and the
 * entries from rotary_dims on are copied unchanged; rotary_dims = head_dim
 * rotates them all. longrope_factors (NULL: none; else rotary_dims / 2 of
 * them, at most MP_ROPE_MAX_LONGROPE_FACTORS) then divide each pair's freq
 * by its own factor (Phi-3's rope_type "longrope": short_factor or
 * long_factor), and attention_factor multiplies cos a and sin a before they
 * are rounded (longrope's attention_factor; 1 scales nothing). With
 * `inverse` the rotation is by −a times the same factor (the transpose, so
 * still the gradient). */
typedef struct mp_rope_scaling {
  double factor;
  double low_freq_factor;
  double high_freq_factor;
  double original_context;
} mp_rope_scaling;
/* Why mp_rope_f32 refuses a scaling, or NULL: each value finite, factor,
 * low_freq_factor and original_context positive, high_freq_factor above
 * low_freq_factor (the smoothing divides by their difference). */
static inline const char *mp_rope_scaling_problem(const mp_rope_scaling *s) {
  const double values[4] = {s->factor, s->low_freq_factor, s->high_freq_factor,
                            s->original_context};
  for (int i = 0; i < 4; ++i)
    if (!(values[i] - values[i] == 0)) /* NaN for infinities and NaN */
      return "every value must be finite";
  if (!(s->factor > 0 && s->low_freq_factor > 0 && s->original_context > 0))
    return "factor, low_freq_factor and original_context must be positive";
  if (!(s->high_freq_factor > s->low_freq_factor))
    return "high_freq_factor must be above low_freq_factor";
  return NULL;
}
/* The most longrope_factors mp_rope_f32 takes (rotary_dims 512): the CUDA
 * kernel carries them as an argument. */
#define MP_ROPE_MAX_LONGROPE_FACTORS 256
/* Why mp_rope_f32 refuses its rotation, or NULL: rotary_dims even, positive
 * and at most head_dim; longrope_factors (when given, rotary_dims / 2 of
 * them) at most MP_ROPE_MAX_LONGROPE_FACTORS, positive and finite, as
 * linear_scaling and attention_factor must be. */
static inline const char *
mp_rope_rotation_problem(int64_t head_dim, int64_t rotary_dims,
                         double linear_scaling, const double *longrope_factors,
                         double attention_factor) {
  if (!(rotary_dims > 0 && rotary_dims <= head_dim && rotary_dims % 2 == 0))
    return "rotary_dims must be even, positive and at most head_dim";
  if (!(linear_scaling > 0 && linear_scaling - linear_scaling == 0))
    return "linear_scaling must be positive and finite";
  if (!(attention_factor > 0 && attention_factor - attention_factor == 0))
    return "attention_factor must be positive and finite";
  if (!longrope_factors)
    return NULL;
  if (rotary_dims / 2 > MP_ROPE_MAX_LONGROPE_FACTORS)
    return "longrope_factors: more than MP_ROPE_MAX_LONGROPE_FACTORS (256) "
           "pairs";
  for (int64_t i = 0; i < rotary_dims / 2; ++i)
    if (!(longrope_factors[i] > 0 &&
          longrope_factors[i] - longrope_factors[i] == 0))
      return "longrope_factors must be positive and finite";
  return NULL;
}
mp_status mp_rope_f32(mp_context *ctx, int64_t outer, int64_t seq,
                      int64_t heads, int64_t head_dim, int64_t rotary_dims,
                      double theta, const mp_rope_scaling *llama3_scaling,
                      double linear_scaling, const double *longrope_factors,
                      double attention_factor, int inverse, mp_dtype x_type,
                      const void *x, mp_dtype out_type, void *out);
/* Embedding lookup: out[i] (dim floats) = table[ids[i]] for ids in [0,
 * vocab); a negative id gives a row of zeros (the compiler uses −1 for
 * "not on this rank"); an id >= vocab is an error naming the first such id
 * and its index (on CUDA reported by the next mp_copy_to_host, as cross
 * entropy targets). n ids, table vocab x dim, out n x dim. */
mp_status mp_embedding_f32(mp_context *ctx, int64_t n, int64_t vocab,
                           int64_t dim, const int64_t *ids, const float *table,
                           float *out);
/* Its gradient: out (vocab x dim) = Σ_i onehot(ids[i]) ⊗ grad[i],
 * overwritten (zeroed first); negative ids add nothing; ids >= vocab are an
 * error as above. On CUDA rows that share an id are added with atomics,
 * so the result may differ from run to run in the last bits. */
mp_status mp_embedding_grad_f32(mp_context *ctx, int64_t n, int64_t vocab,
                                int64_t dim, const int64_t *ids,
                                const float *grad, float *out);
/* Index localization for a dim of global extent `extent` split over `axes`
 * in the layout of "Uneven splits" above (the piece at offset o = Σ_j i_j
 * c_j, its first v_m entries valid): out[i] = in[i] − o where 0 <= in[i] −
 * o < v_m, else −1. n int64 entries; out may alias in. */
mp_status mp_localize_index(mp_context *ctx, const int *axes, int num_axes,
                            int64_t n, const int64_t *in, int64_t *out,
                            int64_t extent);
/* Positions: out (outer x extent x inner int64 entries, row-major) holds at
 * [o][e][i] start + e, its index along the middle dim from start (the ids of
 * a learned position table, OPT's from 2; ABI 27). start is 0 or more and
 * the last entry, start + extent - 1, fits int64. */
mp_status mp_iota_i64(mp_context *ctx, int64_t outer, int64_t extent,
                      int64_t inner, int64_t start, int64_t *out);

/* The additive bias of an attention mask: out[i] = 0 where mask[i] != 0
 * (kept), fill (rounded to float) where mask[i] == 0 (dropped); n int64
 * entries in, n floats out. */
mp_status mp_mask_bias_f32(mp_context *ctx, int64_t n, const int64_t *mask,
                           double fill, float *out);

/* ALiBi (Press et al., "Train Short, Test Long"), as BLOOM's
 * build_alibi_tensor and MPT's gen_slopes write it (ABI 28). The slope of
 * head `head` of `heads` at `max_bias` (BLOOM's 8, MPT's alibi_bias_max):
 * with p the largest power of two not above heads, head h < p takes
 * 2^(-max_bias (h + 1) / p), and head h >= p the slope halfway between two
 * of those, 2^(-max_bias (2 (h - p) + 1) / (2 p)). */
#ifdef __CUDACC__
__host__ __device__
#endif
static inline double mp_alibi_slope(int64_t head, int64_t heads,
                                    double max_bias) {
  int64_t p = 1;
  while (p <= heads / 2)
    p *= 2;
  double exponent = head < p ? (double)(head + 1) / (double)p
                             : (double)(2 * (head - p) + 1) / (double)(2 * p);
  return exp2(-max_bias * exponent);
}
/* out[h] = mp_alibi_slope(h, heads, max_bias) rounded to float, heads
 * entries; max_bias is positive and finite. */
mp_status mp_alibi_slopes_f32(mp_context *ctx, int64_t heads, double max_bias,
                              float *out);
/* The ALiBi bias added to attention scores: out[o][h][q][k] =
 * scores[o][h][q][k] + slopes[h] * k (the product rounded to float, then
 * the sum), for
 * outer x heads x queries x keys scores and heads slopes. A row's bias
 * grows by one slope per key: the softmax sees -slope times the distance
 * from the last key, BLOOM's `slopes * arange(keys)`. With bf16_bias
 * non-zero (ABI 30) the bias is computed in bfloat16, as Falcon's
 * build_alibi_tensor computes `slopes.bfloat16() * arange(keys)`: the slope
 * and the key rounded to bfloat16 (to nearest, ties to even), then their
 * product; the sum stays float. out may alias scores. */
mp_status mp_alibi_f32(mp_context *ctx, int64_t outer, int64_t heads,
                       int64_t queries, int64_t keys, int32_t bf16_bias,
                       const float *scores, const float *slopes, float *out);

/* The pieces of a cross entropy over a vocab split among ranks (Megatron's
 * vocab-parallel cross entropy): a row's maxima, the logit of its target
 * where this rank holds it, and that pick's adjoint. */
/* out[r][b] = max of row r's block b: x is rows x cols, cut into `blocks`
 * equal contiguous blocks of cols / blocks entries (blocks below 1, or
 * cols % blocks != 0, is an error); out is rows x blocks. A NaN in a block
 * gives NaN (torch.amax's rule); with cols 0 every block is empty and
 * gives -inf. out may not overlap x. (The stabilizing shift of a
 * vocab-parallel log-sum-exp.) */
mp_status mp_block_max_f32(mp_context *ctx, int64_t rows, int64_t cols,
                           int64_t blocks, const float *x, float *out);
/* out[r] = x[r][index[r]] for index in [0, cols); 0 for a negative index
 * (the compiler uses -1 for "another rank holds it"); an index >= cols is
 * an error naming the first such index and its row (on CUDA reported by
 * the next mp_copy_to_host, as embedding ids). x: rows x cols; index: rows
 * int64; out: rows, not overlapping x or index.
 * (torch.gather(x, -1, index[..., None])[..., 0].) */
mp_status mp_gather_last_f32(mp_context *ctx, int64_t rows, int64_t cols,
                             const float *x, const int64_t *index, float *out);
/* Its adjoint: out (rows x cols) zeroed, then out[r][index[r]] = grad[r]
 * for index in [0, cols); negative indices write nothing; >= cols an error
 * as above. grad: rows; out not overlapping index or grad. */
mp_status mp_scatter_last_f32(mp_context *ctx, int64_t rows, int64_t cols,
                              const int64_t *index, const float *grad,
                              float *out);

/*===--- Compiled steps ---------------------------------------------------===*
 * mp-translate compiles each partitioned function F into
 *   mp_status F(mp_context *ctx, void *const *args, void *const *outputs);
 * `args` points at one buffer per function argument, in order, holding this
 * rank's shard; parameters and optimizer state are updated in place.
 * `outputs` receives the results that update no argument (the loss), in
 * order. The object also defines `const mp_step F_step` describing F; its
 * manifest is the text the trainer reads (see docs/runtime-abi.md), and
 * `mp_default_step` (a weak symbol) points at one step of the program.
 *===----------------------------------------------------------------------===*/

typedef mp_status (*mp_step_fn)(mp_context *ctx, void *const *args,
                                void *const *outputs);
typedef struct mp_step {
  int abi_version;
  const char *name;
  const char *manifest;
  mp_step_fn entry;
} mp_step;

/*===--- Asynchronous collectives ----------------------------------------===*
 * The compiler's schedule (mp-schedule-collectives: `{mp.async}` and
 * `mp.wait`): mp_async_begin marks the next collective call on the context
 * as asynchronous in `slot` (0 <= slot < MP_ASYNC_SLOTS); it may still run
 * after that call returns, so its output must not be read, nor its input
 * written, before mp_async_wait(ctx, slot). A slot holds one collective at
 * a time. The CUDA backend over NCCL issues it on the communication stream
 * and makes the compute stream wait for it only at mp_async_wait, so the
 * compute in between overlaps it; the host backend and the CUDA mpi
 * transport run it at the call (their wait returns at once). A grouped
 * call (mp_all_gather_group, mp_reduce_scatter_group) packs at the call
 * and unpacks into its outputs at mp_async_wait on every backend, so its
 * scratch, like its outputs, must not be touched until then.
 *===----------------------------------------------------------------------===*/

#define MP_ASYNC_SLOTS 64
mp_status mp_async_begin(mp_context *ctx, int slot);
mp_status mp_async_wait(mp_context *ctx, int slot);

/*===--- Whole-step capture (CUDA graphs) ---------------------------------===*
 * A step's shapes, buffers and scalars are the same every call, so its work
 * can be captured once and replayed: between mp_graph_begin_capture and
 * mp_graph_end_capture the calls on the context record their device work
 * (kernels, GEMMs, copies, NCCL collectives, and mp_alloc/mp_free as the
 * graph's own memory) instead of running it; mp_graph_replay then runs it
 * all with one launch, after the work issued before it, on the same
 * buffers and with what they then hold (load the next batch into the same
 * input buffers, read the loss from the same output). Only the CUDA backend
 * over NCCL captures. Refused inside a capture, naming the call and the op:
 * mp_copy_to_host and mp_copy_to_backend (they wait for the device), a
 * collective over a group first used there (run the work once eagerly
 * before capturing it), and mp_free of memory allocated before the
 * capture; mp_graph_end_capture refuses memory allocated in the capture
 * and not freed in it. After an error inside a capture, still call
 * mp_graph_end_capture: it leaves capture mode (and returns MP_ERROR).
 * (Part of ABI 5.)
 *===----------------------------------------------------------------------===*/

/* Null when mp_graph_begin_capture can capture on this context; otherwise
 * why not (a static string): the host backend, the CUDA backend's mpi
 * transport (collectives through host memory), MP_PROFILE=1 (which
 * synchronizes between ops). Does not fail the context. */
const char *mp_graph_unavailable(const mp_context *ctx);
/* Starts capturing; a capture replaces the graph captured before. */
mp_status mp_graph_begin_capture(mp_context *ctx);
/* Ends the capture and makes the graph ready to replay. */
mp_status mp_graph_end_capture(mp_context *ctx);
/* Runs the captured work again (asynchronously, as the calls would). */
mp_status mp_graph_replay(mp_context *ctx);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MP_RUNTIME_H */
