//===- host_ceilings.cpp - what this CPU can do, for bench/ffn-bench.sh ---===//
//
// The ceilings the host backend's step is measured against, on the same
// run: OpenBLAS's own sgemm rate on a large square GEMM (all of OpenBLAS's
// threads, or OPENBLAS_NUM_THREADS) and the memory bandwidth of a large
// copy on every core at once (one thread's memcpy reached half of it here,
// while the step's kernels run on every core), and what a page fault costs
// (memory mapped, touched page by page, unmapped: what a process pays each
// time it takes back pages malloc gave to the kernel). Prints `gemm GFLOP/s
// <r>`, `copy GB/s <r>` (bytes read + written per second) and `fault us/page
// <r>`, medians of several runs.
//
//===----------------------------------------------------------------------===//

#include <cblas.h>
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

namespace {

template <typename Body> double medianSeconds(int runs, Body body) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    body();
    times.push_back(std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

} // namespace

int main() {
  // The copy first: OpenBLAS's threads keep spinning a while after its
  // GEMM, on the cores the copy needs.
  const size_t bytes = size_t(512) << 20;
  std::vector<char> from(bytes, 1), to(bytes, 0);
  // OpenMP's threads, as the runtime's kernels run: started once and kept.
  // With a thread started for each copy, after the GEMM, the same copy
  // measured 38-68 GB/s from run to run on the 2-core AMD EPYC VMs; this
  // way 67-69 (2026-12-03).
  const int threads = std::max(1u, std::thread::hardware_concurrency());
  auto copy = [&] {
#pragma omp parallel num_threads(threads)
    {
      size_t part = omp_get_thread_num(), parts = omp_get_num_threads();
      size_t begin = bytes * part / parts, end = bytes * (part + 1) / parts;
      std::memcpy(to.data() + begin, from.data() + begin, end - begin);
    }
  };
  copy();
  double copySeconds = medianSeconds(5, copy);
  std::printf("copy GB/s %.1f\n", 2.0 * bytes / copySeconds / 1e9);

  const int n = 2048;
  std::vector<float> a(size_t(n) * n, 1.0f), b(a), c(a);
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f,
                a.data(), n, b.data(), n, 0.0f, c.data(), n);
  };
  gemm(); // warm-up: threads, pages
  double gemmSeconds = medianSeconds(5, gemm);
  std::printf("gemm GFLOP/s %.1f\n", 2.0 * n * n * n / gemmSeconds / 1e9);

  const size_t faultBytes = size_t(64) << 20, page = 4096;
  bool mapped = true;
  double faultSeconds = medianSeconds(5, [&] {
    void *memory = mmap(nullptr, faultBytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
      mapped = false;
      return;
    }
    for (size_t offset = 0; offset < faultBytes; offset += page)
      static_cast<volatile char *>(memory)[offset] = 1;
    munmap(memory, faultBytes);
  });
  if (mapped)
    std::printf("fault us/page %.2f\n",
                faultSeconds / double(faultBytes / page) * 1e6);
  return 0;
}
