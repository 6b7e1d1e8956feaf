//===- cuda_ceilings.cu - what this GPU can do, for bench/ffn-bench.sh ----===//
//
// The ceilings the CUDA backend's step is measured against, on the same
// run: cuBLAS's rate on a large TF32 GEMM (8192³, the compute type the
// runtime uses for float32) and device memory bandwidth from a large
// device-to-device copy. Prints `gemm GFLOP/s <r>` and `copy GB/s <r>`
// (bytes read + written per second), medians of several runs. The GEMM's
// operands hold varied values, not zeros: a GPU multiplying zeros draws
// less power and clocks higher than on real data. Then, for the record,
// `layout` lines: the same GEMM with each pair of cuBLAS transposes, with
// cuBLAS's default workspace and with 32 MiB set (PyTorch's on Hopper).
//
//===----------------------------------------------------------------------===//

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != 0) {                                                         \
      std::fprintf(stderr, "cuda_ceilings: %s failed\n", #call);               \
      std::exit(1);                                                            \
    }                                                                          \
  } while (false)

template <typename Body> float medianMs(int runs, Body body) {
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  std::vector<float> times;
  for (int i = 0; i < runs; ++i) {
    CHECK(cudaEventRecord(start));
    body();
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

__global__ void fillVaried(float *x, size_t n, float phase) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x)
    x[i] = __sinf(float(i % 9973) * 0.61f + phase);
}

int main() {
  const int n = 8192;
  float *a, *b, *c;
  CHECK(cudaMalloc(&a, sizeof(float) * n * n));
  CHECK(cudaMalloc(&b, sizeof(float) * n * n));
  CHECK(cudaMalloc(&c, sizeof(float) * n * n));
  fillVaried<<<4096, 256>>>(a, size_t(n) * n, 0.0f);
  fillVaried<<<4096, 256>>>(b, size_t(n) * n, 1.0f);
  CHECK(cudaGetLastError());
  cublasHandle_t handle;
  CHECK(cublasCreate(&handle));
  const float one = 1, zero = 0;
  auto gemm = [&] {
    CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, a,
                       CUDA_R_32F, n, b, CUDA_R_32F, n, &zero, c, CUDA_R_32F,
                       n, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
  };
  gemm();
  float gemmMs = medianMs(10, gemm);
  std::printf("gemm GFLOP/s %.1f\n", 2.0 * n * n * n / (gemmMs * 1e-3) / 1e9);
  void *workspace = nullptr;
  for (int withWorkspace = 0; withWorkspace < 2; ++withWorkspace) {
    if (withWorkspace) {
      CHECK(cudaMalloc(&workspace, size_t(32) << 20));
      CHECK(cublasSetWorkspace(handle, workspace, size_t(32) << 20));
    }
    std::printf("layout GFLOP/s (%s):", withWorkspace ? "32 MiB workspace"
                                                      : "default workspace");
    for (cublasOperation_t opA : {CUBLAS_OP_N, CUBLAS_OP_T})
      for (cublasOperation_t opB : {CUBLAS_OP_N, CUBLAS_OP_T}) {
        auto layoutGemm = [&] {
          CHECK(cublasGemmEx(handle, opA, opB, n, n, n, &one, a, CUDA_R_32F,
                             n, b, CUDA_R_32F, n, &zero, c, CUDA_R_32F, n,
                             CUBLAS_COMPUTE_32F_FAST_TF32,
                             CUBLAS_GEMM_DEFAULT));
        };
        layoutGemm();
        float ms = medianMs(10, layoutGemm);
        std::printf(" %s%s %.1f", opA == CUBLAS_OP_N ? "N" : "T",
                    opB == CUBLAS_OP_N ? "N" : "T",
                    2.0 * n * n * n / (ms * 1e-3) / 1e9);
      }
    std::printf("\n");
  }

  const size_t bytes = size_t(2) << 30;
  char *from, *to;
  CHECK(cudaMalloc(&from, bytes));
  CHECK(cudaMalloc(&to, bytes));
  auto copy = [&] {
    CHECK(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice));
  };
  copy();
  float copyMs = medianMs(10, copy);
  std::printf("copy GB/s %.1f\n", 2.0 * bytes / (copyMs * 1e-3) / 1e9);
  return 0;
}
