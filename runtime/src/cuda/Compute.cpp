//===- Compute.cpp - cuBLAS GEMMs and kernels on the compute stream -------===//

#include "CudaBackend.h"

#include <algorithm>
#include <array>
#include <climits>
#include <utility>

namespace mp::runtime {

mp_status CudaBackend::gemm(mp_precision precision, mp_dtype aType,
                            mp_dtype bType, bool transA, bool transB,
                            int64_t batch, int64_t m, int64_t n, int64_t k,
                            float alpha, const void *a, int64_t strideA,
                            const void *b, int64_t strideB, float beta,
                            mp_dtype cType, void *c, int64_t strideC,
                            Workspace &workspace) {
  if (batch > INT_MAX || m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return fail(ctx, "mp_gemm_f32",
                "dims %lld x %lld x %lld x %lld exceed cuBLAS's int sizes",
                static_cast<long long>(batch), static_cast<long long>(m),
                static_cast<long long>(n), static_cast<long long>(k));
  // cuBLAS is column-major, where a row-major C is Cᵀ = op(B)ᵀ · op(A)ᵀ:
  // pass B before A, each with its row-major leading dim (at least 1, as
  // cuBLAS wants even when k is 0).
  cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  int lda = static_cast<int>(std::max<int64_t>(1, transA ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, transB ? k : n));
  int ldc = static_cast<int>(n);
  // The dtype the GEMM reads. A bf16 GEMM reads its operands rounded to
  // bfloat16: two bfloat16 operands (a gathered weight held in bf16, an
  // activation held by mp-narrow-gemm-operands) run as a native bf16 GEMM;
  // with one, the smaller operand is converted first, a float32 one rounded
  // to nearest even (as the semantics round) for the native GEMM, or the
  // bfloat16 one widened (exactly) for the float32 GEMM. Float32 operands:
  // the compute type says how the tensor cores may round them (none for
  // fp32; FAST_16BF converts them inside the GEMM, as autocast's GEMM).
  // Other precisions widen a bfloat16 operand. A bfloat16 C is a native
  // bf16 GEMM's (its float32 operands rounded first), rounded by cuBLAS's
  // epilogue. A converted operand goes to the workspace.
  std::array<int64_t, 2> counts = {
      batch > 0 ? strideA * (batch - 1) + m * k : 0,
      batch > 0 ? strideB * (batch - 1) + k * n : 0};
  mp_dtype gemmType =
      mp_cuda_gemm_dtype(precision, aType, bType, cType, counts[0], counts[1]);
  cudaDataType resultType = cType == MP_DTYPE_BF16 ? CUDA_R_16BF : CUDA_R_32F;
  cublasComputeType_t compute =
      precision == MP_PRECISION_FP32   ? CUBLAS_COMPUTE_32F
      : gemmType == MP_DTYPE_BF16      ? CUBLAS_COMPUTE_32F
      : precision == MP_PRECISION_BF16 ? CUBLAS_COMPUTE_32F_FAST_16BF
                                       : CUBLAS_COMPUTE_32F_FAST_TF32;
  cudaDataType operandType =
      gemmType == MP_DTYPE_BF16 ? CUDA_R_16BF : CUDA_R_32F;
  // The converted operands and a transposed A: pieces of the workspace, or
  // where it has none left scratch of our own, freed after the GEMM in
  // stream order.
  std::array<void *, 3> converted = {nullptr, nullptr, nullptr};
  std::array<bool, 3> ownScratch = {false, false, false};
  auto takePiece = [&](size_t piece, int64_t bytes) {
    converted[piece] =
        takeScratch(workspace, bytes, computeStream, ownScratch[piece]);
    return converted[piece];
  };
  auto freeConverted = [&] {
    mp_status status = MP_OK;
    for (size_t piece = 0; piece < converted.size(); ++piece)
      if (ownScratch[piece] && freeScratch(converted[piece], computeStream))
        status = MP_ERROR;
    return status;
  };
  std::array<std::pair<mp_dtype, const void **>, 2> operands = {
      {{aType, &a}, {bType, &b}}};
  for (size_t i = 0; i < operands.size(); ++i) {
    auto [type, data] = operands[i];
    if (type == gemmType)
      continue;
    size_t elementBytes = gemmType == MP_DTYPE_BF16 ? 2 : sizeof(float);
    if (!takePiece(i, std::max<int64_t>(1, counts[i]) * elementBytes) ||
        checkLaunch("mp_gemm_f32",
                    cuda::launchConvert(computeStream, type, gemmType,
                                        counts[i], *data, converted[i]))) {
      freeConverted();
      return MP_ERROR;
    }
    *data = converted[i];
  }
  // cuBLAS's NT layout (a row-major Aᵀ·B: both operands read along their
  // rows, as a weight gradient reads the output gradient and the input)
  // ran float32 operands on tensor cores at 54% of NN's rate on an H200
  // (TF32 8192³: 223 against 410 TFLOP/s, bench/README.md). Where the
  // tensor cores bind the GEMM (64 FLOPs or more per byte it moves), A is
  // written out transposed first, 8 bytes moved per element of A, and
  // the GEMM runs NN.
  bool tensorCores =
      compute == CUBLAS_COMPUTE_32F_FAST_16BF ||
      (compute == CUBLAS_COMPUTE_32F_FAST_TF32 && tf32OnTensorCores);
  // The transposed copy packs A's matrices, which may overlap in A (a stride
  // below m · k): its size is checked apart from A's.
  int64_t matrices = strideA == 0 ? 1 : batch, transposedBytes;
  if (transposeNtOperand && tensorCores &&
      mp_cuda_gemm_transposes_a(precision, gemmType, transA, transB, m, n, k) &&
      !__builtin_mul_overflow(matrices, m * k * int64_t(sizeof(float)),
                              &transposedBytes)) {
    if (!takePiece(2, transposedBytes) ||
        checkLaunch("mp_gemm_f32", cuda::launchTransposeMatrices(
                                       computeStream, a, converted[2], matrices,
                                       k, m, strideA, sizeof(float)))) {
      freeConverted();
      return MP_ERROR;
    }
    a = converted[2];
    strideA = strideA == 0 ? 0 : m * k;
    opA = CUBLAS_OP_N;
    lda = static_cast<int>(std::max<int64_t>(1, k));
  }
  mp_status status =
      batch == 1 ? checkCublas(ctx, "cublasGemmEx",
                               cublasGemmEx(cublas, opB, opA, n, m, k, &alpha,
                                            b, operandType, ldb, a, operandType,
                                            lda, &beta, c, resultType, ldc,
                                            compute, CUBLAS_GEMM_DEFAULT))
                 : checkCublas(ctx, "cublasGemmStridedBatchedEx",
                               cublasGemmStridedBatchedEx(
                                   cublas, opB, opA, n, m, k, &alpha, b,
                                   operandType, ldb, strideB, a, operandType,
                                   lda, strideA, &beta, c, resultType, ldc,
                                   strideC, static_cast<int>(batch), compute,
                                   CUBLAS_GEMM_DEFAULT));
  return freeConverted() ? MP_ERROR : status;
}

mp_status CudaBackend::convert(mp_dtype from, mp_dtype to, int64_t n,
                               const void *in, void *out) {
  return checkLaunch("mp_convert",
                     cuda::launchConvert(computeStream, from, to, n, in, out));
}

mp_status CudaBackend::unary(mp_unary_op op, int64_t n, TensorIn in,
                             TensorOut out, double scalar, double upper) {
  return checkLaunch("mp_unary_f32", cuda::launchUnary(computeStream, op, n, in,
                                                       out, scalar, upper));
}

mp_status CudaBackend::binary(mp_binary_op op, int64_t n, TensorIn a,
                              TensorIn b, TensorOut out) {
  return checkLaunch("mp_binary_f32",
                     cuda::launchBinary(computeStream, op, n, a, b, out));
}

mp_status CudaBackend::swigluGrad(int64_t n, TensorIn grad, TensorIn gate,
                                  TensorIn up, TensorOut gateGrad,
                                  TensorOut upGrad) {
  return checkLaunch("mp_swiglu_grad_f32",
                     cuda::launchSwigluGrad(computeStream, n, grad, gate, up,
                                            gateGrad, upGrad));
}

mp_status CudaBackend::reduceSum(int rank, const int64_t *shape,
                                 uint32_t dimsMask, double scale,
                                 const float *in, float *out) {
  return checkLaunch("mp_reduce_sum_f32",
                     cuda::launchReduceSum(computeStream, rank, shape, dimsMask,
                                           scale, in, out, partials));
}

mp_status CudaBackend::broadcast(int rank, const int64_t *outShape,
                                 uint32_t dimsMask, const float *in,
                                 float *out) {
  return checkLaunch(
      "mp_broadcast_f32",
      cuda::launchBroadcast(computeStream, rank, outShape, dimsMask, in, out));
}

mp_status CudaBackend::transpose(int rank, const int64_t *inShape,
                                 const int *perm, TensorIn in, TensorOut out) {
  return checkLaunch(
      "mp_transpose_f32",
      cuda::launchTranspose(computeStream, rank, inShape, perm, in, out));
}

mp_status CudaBackend::mseLoss(int64_t n, const float *a, const float *b,
                               double scale, float *out) {
  return checkLaunch(
      "mp_mse_loss_f32",
      cuda::launchMseLoss(computeStream, n, a, b, scale, out, partials));
}

mp_status CudaBackend::crossEntropy(int64_t rows, int64_t classes,
                                    const float *logits, const int64_t *targets,
                                    IgnoredTarget ignored, double scale,
                                    float *out) {
  return checkLaunch("mp_cross_entropy_f32",
                     cuda::launchCrossEntropy(computeStream, rows, classes,
                                              logits, targets, ignored, scale,
                                              out, partials, fault, ctx->op));
}

mp_status CudaBackend::crossEntropyGrad(
    int64_t rows, int64_t classes, const float *logits, const int64_t *targets,
    IgnoredTarget ignored, const float *grad, double scale, float *out) {
  return checkLaunch("mp_cross_entropy_grad_f32",
                     cuda::launchCrossEntropyGrad(
                         computeStream, rows, classes, logits, targets, ignored,
                         grad, scale, out, fault, ctx->op));
}

mp_status CudaBackend::clipCoefficient(const float *squaredNorm, double maxNorm,
                                       float *out) {
  return checkLaunch(
      "mp_clip_coefficient_f32",
      cuda::launchClipCoefficient(computeStream, squaredNorm, maxNorm, out));
}

mp_status CudaBackend::fill(int64_t n, float value, float *out) {
  return checkLaunch("mp_fill_f32",
                     cuda::launchFill(computeStream, n, value, out));
}

mp_status CudaBackend::sgd(int64_t n, float *param, const float *grad,
                           float *momentumBuffer, double lr, double momentum,
                           double dampening, double weightDecay, bool nesterov,
                           const float *gradScale) {
  return checkLaunch("mp_sgd_f32",
                     cuda::launchSgd(computeStream, n, param, grad,
                                     momentumBuffer, lr, momentum, dampening,
                                     weightDecay, nesterov, gradScale));
}

mp_status CudaBackend::adamw(int64_t n, float *param, const float *grad,
                             float *expAvg, float *expAvgSq, double lr,
                             double beta1, double beta2, double eps,
                             double weightDecay, const float *step,
                             const float *gradScale) {
  return checkLaunch("mp_adamw_f32",
                     cuda::launchAdamW(computeStream, n, param, grad, expAvg,
                                       expAvgSq, lr, beta1, beta2, eps,
                                       weightDecay, step, gradScale, fault,
                                       ctx->op));
}

mp_status CudaBackend::adamwOuter(bool bf16, int64_t k, int64_t m, int64_t n,
                                  float alpha, const float *a, const float *b,
                                  float *param, float *expAvg, float *expAvgSq,
                                  double lr, double beta1, double beta2,
                                  double eps, double weightDecay,
                                  const float *step) {
  return checkLaunch("mp_adamw_outer_f32",
                     cuda::launchAdamWOuter(computeStream, bf16, k, m, n, alpha,
                                            a, b, param, expAvg, expAvgSq, lr,
                                            beta1, beta2, eps, weightDecay,
                                            step, fault, ctx->op));
}

mp_status CudaBackend::sgdOuter(bool bf16, int64_t k, int64_t m, int64_t n,
                                float alpha, const float *a, const float *b,
                                float *param, float *momentumBuffer, double lr,
                                double momentum, double dampening,
                                double weightDecay, bool nesterov) {
  return checkLaunch("mp_sgd_outer_f32",
                     cuda::launchSgdOuter(computeStream, bf16, k, m, n, alpha,
                                          a, b, param, momentumBuffer, lr,
                                          momentum, dampening, weightDecay,
                                          nesterov));
}

namespace {
/// Calls launch(tensors) for each run of up to OptimizerTensors::kMax of
/// the `count` tensors, their states from `states` (null: none).
template <typename Launch>
mp_status forEachLaunch(int count, float *const *params,
                        const float *const *grads,
                        std::array<float *const *, 2> states,
                        const int64_t *sizes, Launch launch) {
  using cuda::OptimizerTensors;
  for (int first = 0; first < count; first += OptimizerTensors::kMax) {
    OptimizerTensors tensors;
    tensors.count = std::min(count - first, OptimizerTensors::kMax);
    int64_t total = 0;
    for (int i = 0; i < tensors.count; ++i) {
      tensors.param[i] = params[first + i];
      tensors.grad[i] = grads[first + i];
      for (int s = 0; s < 2; ++s)
        tensors.state[s][i] = states[s] ? states[s][first + i] : nullptr;
      tensors.begin[i] = total;
      total += sizes[first + i];
    }
    tensors.begin[tensors.count] = total;
    if (launch(tensors))
      return MP_ERROR;
  }
  return MP_OK;
}
} // namespace

mp_status CudaBackend::adamwMulti(int count, float *const *params,
                                  const float *const *grads,
                                  float *const *expAvgs,
                                  float *const *expAvgSqs, const int64_t *sizes,
                                  double lr, double beta1, double beta2,
                                  double eps, double weightDecay,
                                  const float *step, const float *gradScale) {
  return forEachLaunch(count, params, grads, {expAvgs, expAvgSqs}, sizes,
                       [&](const cuda::OptimizerTensors &tensors) {
                         return checkLaunch(
                             "mp_adamw_multi_f32",
                             cuda::launchAdamWMulti(
                                 computeStream, tensors, lr, beta1, beta2, eps,
                                 weightDecay, step, gradScale, fault, ctx->op));
                       });
}

mp_status CudaBackend::sgdMulti(int count, float *const *params,
                                const float *const *grads,
                                float *const *momentumBuffers,
                                const int64_t *sizes, double lr,
                                double momentum, double dampening,
                                double weightDecay, bool nesterov,
                                const float *gradScale) {
  return forEachLaunch(
      count, params, grads, {momentumBuffers, nullptr}, sizes,
      [&](const cuda::OptimizerTensors &tensors) {
        return checkLaunch(
            "mp_sgd_multi_f32",
            cuda::launchSgdMulti(computeStream, tensors, lr, momentum,
                                 dampening, weightDecay, nesterov, gradScale));
      });
}

mp_status CudaBackend::rmsNorm(int64_t rows, int64_t dim, double eps,
                               TensorIn x, const float *weight,
                               double weightOffset, TensorOut out) {
  return checkLaunch("mp_rms_norm_f32",
                     cuda::launchRmsNorm(computeStream, rows, dim, eps, x,
                                         weight, weightOffset, out));
}

mp_status CudaBackend::normGrad(const char *call, bool centered, int64_t rows,
                                int64_t dim, double eps, TensorIn x,
                                const float *weight, double weightOffset,
                                TensorIn grad, float *dx, float *dweight,
                                float *dbias, Workspace &scratch) {
  // Each row's mean and rstd, in double.
  bool own = false;
  auto *stats = static_cast<double *>(
      takeScratch(scratch, getNormStatisticsBytes(rows), computeStream, own));
  if (!stats)
    return MP_ERROR;
  mp_status launched = checkLaunch(
      call, cuda::launchNormGrad(computeStream, centered, rows, dim, eps, x,
                                 weight, weightOffset, grad, dx, dweight, dbias,
                                 stats, partials));
  if (own && freeScratch(stats, computeStream))
    return MP_ERROR;
  return launched;
}

mp_status CudaBackend::rmsNormGrad(int64_t rows, int64_t dim, double eps,
                                   TensorIn x, const float *weight,
                                   double weightOffset, TensorIn grad,
                                   float *dx, float *dweight,
                                   Workspace &scratch) {
  return normGrad("mp_rms_norm_grad_f32", false, rows, dim, eps, x, weight,
                  weightOffset, grad, dx, dweight, nullptr, scratch);
}

mp_status CudaBackend::layerNorm(int64_t rows, int64_t dim, double eps,
                                 TensorIn x, const float *weight,
                                 const float *bias, TensorOut out) {
  return checkLaunch("mp_layer_norm_f32",
                     cuda::launchLayerNorm(computeStream, rows, dim, eps, x,
                                           weight, bias, out));
}

mp_status CudaBackend::layerNormGrad(int64_t rows, int64_t dim, double eps,
                                     TensorIn x, const float *weight,
                                     TensorIn grad, float *dx, float *dweight,
                                     float *dbias, Workspace &scratch) {
  return normGrad("mp_layer_norm_grad_f32", true, rows, dim, eps, x, weight, 0,
                  grad, dx, dweight, dbias, scratch);
}

mp_status CudaBackend::softmax(int64_t batch, int64_t sq, int64_t sk,
                               bool causal, int64_t window, const float *x,
                               float *out, float *lse, int64_t lseStride) {
  return checkLaunch("mp_softmax_f32",
                     cuda::launchSoftmax(computeStream, batch, sq, sk, causal,
                                         window, x, out, lse, lseStride));
}

mp_status CudaBackend::softmaxGrad(int64_t rows, int64_t cols, const float *y,
                                   const float *grad, float *dx) {
  return checkLaunch(
      "mp_softmax_grad_f32",
      cuda::launchSoftmaxGrad(computeStream, rows, cols, y, grad, dx));
}

mp_status CudaBackend::softcap(int64_t n, float softcap, float *x) {
  return checkLaunch("mp_attention_f32",
                     cuda::launchSoftcap(computeStream, n, softcap, x));
}

mp_status CudaBackend::softcapGrad(int64_t batch, int64_t rows, int64_t cols,
                                   float softcap, const float *p,
                                   const float *lse, int64_t lseStride,
                                   float *ds) {
  return checkLaunch("mp_attention_grad_f32",
                     cuda::launchSoftcapGrad(computeStream, batch, rows, cols,
                                             softcap, p, lse, lseStride, ds));
}

bool CudaBackend::hasOnChipAttention(mp_precision precision,
                                     const AttentionShape &shape) const {
  return (precision != MP_PRECISION_TF32 || tf32OnTensorCores) &&
         cuda::flashAttentionFits(precision, shape, attentionSharedLimit);
}

mp_status CudaBackend::onChipAttention(mp_precision precision,
                                       const AttentionShape &shape, float scale,
                                       TensorIn q, TensorIn k, TensorIn v,
                                       TensorOut out, float *lse) {
  return checkLaunch("mp_attention_f32",
                     cuda::launchFlashAttention(computeStream, precision, shape,
                                                scale, q, k, v, out, lse));
}

mp_status CudaBackend::onChipAttentionGrad(
    mp_precision precision, const AttentionShape &shape, float scale,
    TensorIn q, TensorIn k, TensorIn v, TensorIn out, const float *lse,
    const float *grad, float *dq, float *dk, float *dv, float *rowDots) {
  return checkLaunch("mp_attention_grad_f32",
                     cuda::launchFlashAttentionGrad(
                         computeStream, precision, shape, scale, q, k, v, out,
                         lse, grad, dq, dk, dv, rowDots));
}

mp_status CudaBackend::rope(int64_t outer, int64_t seq, int64_t heads,
                            int64_t headDim, const RopeFrequencies &frequencies,
                            bool inverse, TensorIn x, TensorOut out) {
  return checkLaunch("mp_rope_f32",
                     cuda::launchRope(computeStream, outer, seq, heads, headDim,
                                      frequencies, inverse, x, out));
}

mp_status CudaBackend::embedding(int64_t n, int64_t vocab, int64_t dim,
                                 const int64_t *ids, const float *table,
                                 float *out) {
  return checkLaunch("mp_embedding_f32",
                     cuda::launchEmbedding(computeStream, n, vocab, dim, ids,
                                           table, out, partials, fault,
                                           ctx->op));
}

mp_status CudaBackend::embeddingGrad(int64_t n, int64_t vocab, int64_t dim,
                                     const int64_t *ids, const float *grad,
                                     float *out) {
  if (vocab * dim > 0 &&
      checkCuda(
          ctx, "cudaMemsetAsync",
          cudaMemsetAsync(out, 0, vocab * dim * sizeof(float), computeStream)))
    return MP_ERROR;
  return checkLaunch("mp_embedding_grad_f32",
                     cuda::launchEmbeddingGrad(computeStream, n, vocab, dim,
                                               ids, grad, out, partials, fault,
                                               ctx->op));
}

mp_status CudaBackend::localizeIndex(int64_t n, const int64_t *in, int64_t *out,
                                     int64_t offset, int64_t valid) {
  return checkLaunch(
      "mp_localize_index",
      cuda::launchLocalizeIndex(computeStream, n, in, out, offset, valid));
}

mp_status CudaBackend::iota(int64_t outer, int64_t extent, int64_t inner,
                            int64_t start, int64_t *out) {
  return checkLaunch("mp_iota_i64", cuda::launchIota(computeStream, outer,
                                                     extent, inner, start,
                                                     out));
}

mp_status CudaBackend::alibiSlopes(int64_t heads, double maxBias, float *out) {
  return checkLaunch(
      "mp_alibi_slopes_f32",
      cuda::launchAlibiSlopes(computeStream, heads, maxBias, out));
}

mp_status CudaBackend::alibi(int64_t outer, int64_t heads, int64_t queries,
                             int64_t keys, int64_t firstKey, bool bf16Bias,
                             const float *scores, const float *slopes,
                             float *out) {
  return checkLaunch("mp_alibi_f32",
                     cuda::launchAlibi(computeStream, outer, heads, queries,
                                       keys, firstKey, bf16Bias, scores, slopes,
                                       out));
}

mp_status CudaBackend::maskBias(int64_t n, const int64_t *mask, float fill,
                                float *out) {
  return checkLaunch("mp_mask_bias_f32",
                     cuda::launchMaskBias(computeStream, n, mask, fill, out));
}

mp_status CudaBackend::targetMask(int64_t n, const int64_t *targets,
                                  int64_t ignoreIndex, float *out) {
  return checkLaunch(
      "mp_target_mask_f32",
      cuda::launchTargetMask(computeStream, n, targets, ignoreIndex, out));
}

mp_status CudaBackend::blockMax(int64_t rows, int64_t cols, int64_t blocks,
                                const float *x, float *out) {
  return checkLaunch(
      "mp_block_max_f32",
      cuda::launchBlockMax(computeStream, rows, cols, blocks, x, out));
}

mp_status CudaBackend::gatherLast(int64_t rows, int64_t cols, const float *x,
                                  const int64_t *index, float *out) {
  return checkLaunch("mp_gather_last_f32",
                     cuda::launchGatherLast(computeStream, rows, cols, x, index,
                                            out, partials, fault, ctx->op));
}

mp_status CudaBackend::scatterLast(int64_t rows, int64_t cols,
                                   const int64_t *index, const float *grad,
                                   float *out) {
  if (cols > 0 && checkCuda(ctx, "cudaMemsetAsync",
                            cudaMemsetAsync(out, 0, rows * cols * sizeof(float),
                                            computeStream)))
    return MP_ERROR;
  return checkLaunch("mp_scatter_last_f32",
                     cuda::launchScatterLast(computeStream, rows, cols, index,
                                             grad, out, partials, fault,
                                             ctx->op));
}

} // namespace mp::runtime
