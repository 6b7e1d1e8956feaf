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
// Then the GEMM in each precision the runtime runs (`gemm-fp32`: strict
// CUBLAS_COMPUTE_32F; `gemm-bf16`: float32 operands with
// CUBLAS_COMPUTE_32F_FAST_16BF, what mp_gemm_f32 runs for bf16) and
// `gemm-bf16-native`: bfloat16 operands in memory, float32 result, the
// ceiling PyTorch's bf16 GEMMs reach.
//
//===----------------------------------------------------------------------===//

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
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

__global__ void toBFloat16(const float *x, __nv_bfloat16 *y, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x)
    y[i] = __float2bfloat16(x[i]);
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

  auto rate = [&](const char *name, auto &&run) {
    run();
    float ms = medianMs(10, run);
    std::printf("%s GFLOP/s %.1f\n", name, 2.0 * n * n * n / (ms * 1e-3) / 1e9);
  };
  for (auto [name, compute] :
       {std::pair{"gemm-fp32", CUBLAS_COMPUTE_32F},
        std::pair{"gemm-bf16", CUBLAS_COMPUTE_32F_FAST_16BF}})
    rate(name, [&, compute = compute] {
      CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, a,
                         CUDA_R_32F, n, b, CUDA_R_32F, n, &zero, c, CUDA_R_32F,
                         n, compute, CUBLAS_GEMM_DEFAULT));
    });
  __nv_bfloat16 *a16, *b16;
  CHECK(cudaMalloc(&a16, sizeof(__nv_bfloat16) * n * n));
  CHECK(cudaMalloc(&b16, sizeof(__nv_bfloat16) * n * n));
  toBFloat16<<<4096, 256>>>(a, a16, size_t(n) * n);
  toBFloat16<<<4096, 256>>>(b, b16, size_t(n) * n);
  CHECK(cudaGetLastError());
  rate("gemm-bf16-native", [&] {
    CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, a16,
                       CUDA_R_16BF, n, b16, CUDA_R_16BF, n, &zero, c,
                       CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  });

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
