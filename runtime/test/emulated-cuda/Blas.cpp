//===- Blas.cpp - cuBLAS's GEMMs on the CPU -------------------------------===//
//
// cublasGemmEx and its strided batches, queued on the handle's stream: the
// operands are read as the compute type reads them (float; bfloat16
// widened; float rounded to bf16 to nearest even by FAST_16BF, to tf32 by
// FAST_TF32 unless NVIDIA_TF32_OVERRIDE=0), multiplied by the host's
// CBLAS in float, and a bfloat16 C is rounded to nearest even. The
// arguments are checked as cuBLAS checks them, and only the type
// combinations cuBLAS documents for these compute types are taken. A GEMM
// on a handle without a workspace of the caller's (cublasSetWorkspace,
// 256-byte aligned, after the last cublasSetStream, which resets it as
// cuBLAS's does) is refused: real cuBLAS would allocate one of its own,
// outside the caller's count and, under stream capture, per graph.
//
//===----------------------------------------------------------------------===//

#include "Streams.h"
#include "include/cublas_v2.h"

#include <cblas.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

struct cublasContext {
  cudaStream_t stream = nullptr;
  void *workspace = nullptr;
};

namespace {

using mp::emulation::Bf16;

float read(cudaDataType type, const void *data, long long i) {
  if (type == CUDA_R_16BF)
    return mp::emulation::toFloat(static_cast<const Bf16 *>(data)[i]);
  return static_cast<const float *>(data)[i];
}

/// The column-major `rows` x `cols` operand at `data`, read as `compute`
/// reads it, packed.
std::vector<float> readOperand(cudaDataType type, const void *data, int rows,
                               int cols, int ld, cublasComputeType_t compute) {
  static const bool tf32 = [] {
    const char *value = std::getenv("NVIDIA_TF32_OVERRIDE");
    return !value || std::strcmp(value, "0") != 0;
  }();
  std::vector<float> packed(size_t(rows) * cols);
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i < rows; ++i) {
      float x = read(type, data, (long long)j * ld + i);
      if (compute == CUBLAS_COMPUTE_32F_FAST_16BF)
        x = mp::emulation::toFloat(mp::emulation::toBf16(x));
      else if (compute == CUBLAS_COMPUTE_32F_FAST_TF32 && tf32)
        x = mp::emulation::toTf32(x);
      packed[size_t(j) * rows + i] = x;
    }
  return packed;
}

bool supported(cudaDataType ab, cudaDataType c, cublasComputeType_t compute) {
  if (ab == CUDA_R_16BF)
    return compute == CUBLAS_COMPUTE_32F &&
           (c == CUDA_R_16BF || c == CUDA_R_32F);
  return ab == CUDA_R_32F && c == CUDA_R_32F &&
         (compute == CUBLAS_COMPUTE_32F ||
          compute == CUBLAS_COMPUTE_32F_FAST_16BF ||
          compute == CUBLAS_COMPUTE_32F_FAST_TF32);
}

} // namespace

cublasStatus_t cublasCreate(cublasHandle_t *handle) {
  *handle = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  handle->stream = stream;
  handle->workspace = nullptr;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void *workspace,
                                  size_t workspaceSizeInBytes) {
  if (!handle)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  if (reinterpret_cast<uintptr_t>(workspace) % 256 != 0 ||
      (workspaceSizeInBytes > 0 && !workspace))
    return CUBLAS_STATUS_INVALID_VALUE;
  handle->workspace = workspaceSizeInBytes > 0 ? workspace : nullptr;
  return CUBLAS_STATUS_SUCCESS;
}

const char *cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char *cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return "success";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "an invalid numeric value was used as an argument";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "the functionality requested is not supported";
  default:
    return cublasGetStatusName(status);
  }
}

cublasStatus_t cublasGemmStridedBatchedEx(
    cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
    int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype,
    int lda, long long strideA, const void *B, cudaDataType Btype, int ldb,
    long long strideB, const void *beta, void *C, cudaDataType Ctype, int ldc,
    long long strideC, int batchCount, cublasComputeType_t computeType,
    cublasGemmAlgo_t) {
  if (!handle || !handle->workspace)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  // A is m x k stored k x m when transposed; B is k x n.
  int aRows = transa == CUBLAS_OP_N ? m : k,
      aCols = transa == CUBLAS_OP_N ? k : m;
  int bRows = transb == CUBLAS_OP_N ? k : n,
      bCols = transb == CUBLAS_OP_N ? n : k;
  if (m < 0 || n < 0 || k < 0 || batchCount < 0 || lda < std::max(1, aRows) ||
      ldb < std::max(1, bRows) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (Atype != Btype || !supported(Atype, Ctype, computeType))
    return CUBLAS_STATUS_NOT_SUPPORTED;
  float alphaValue = *static_cast<const float *>(alpha);
  float betaValue = *static_cast<const float *>(beta);
  size_t abBytes = Atype == CUDA_R_16BF ? 2 : 4,
         cBytes = Ctype == CUDA_R_16BF ? 2 : 4;
  mp::emulation::enqueue(handle->stream, [=] {
    for (int batch = 0; batch < batchCount; ++batch) {
      const char *a = static_cast<const char *>(A) + batch * strideA * abBytes;
      const char *b = static_cast<const char *>(B) + batch * strideB * abBytes;
      char *c = static_cast<char *>(C) + batch * strideC * cBytes;
      std::vector<float> aPacked =
          readOperand(Atype, a, aRows, aCols, lda, computeType);
      std::vector<float> bPacked =
          readOperand(Btype, b, bRows, bCols, ldb, computeType);
      // beta 0 ignores C, NaN included, as cuBLAS does.
      std::vector<float> cPacked(size_t(m) * n, 0.0f);
      if (betaValue != 0)
        cPacked = readOperand(Ctype, c, m, n, ldc, CUBLAS_COMPUTE_32F);
      if (m > 0 && n > 0)
        cblas_sgemm(
            CblasColMajor, transa == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
            transb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k,
            alphaValue, aPacked.data(), std::max(1, aRows), bPacked.data(),
            std::max(1, bRows), betaValue, cPacked.data(), std::max(1, m));
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          float x = cPacked[size_t(j) * m + i];
          long long at = (long long)j * ldc + i;
          if (Ctype == CUDA_R_16BF)
            reinterpret_cast<Bf16 *>(c)[at] = mp::emulation::toBf16(x);
          else
            reinterpret_cast<float *>(c)[at] = x;
        }
    }
  });
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa,
                            cublasOperation_t transb, int m, int n, int k,
                            const void *alpha, const void *A,
                            cudaDataType Atype, int lda, const void *B,
                            cudaDataType Btype, int ldb, const void *beta,
                            void *C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t computeType,
                            cublasGemmAlgo_t algo) {
  return cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, A,
                                    Atype, lda, 0, B, Btype, ldb, 0, beta, C,
                                    Ctype, ldc, 0, 1, computeType, algo);
}
