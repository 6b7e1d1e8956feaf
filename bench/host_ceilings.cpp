//===- host_ceilings.cpp - what this CPU can do, for bench/ffn-bench.sh ---===//
//
// The ceilings the host backend's step is measured against, on the same
// run: OpenBLAS's own sgemm rate on a large square GEMM (all of OpenBLAS's
// threads, or OPENBLAS_NUM_THREADS) and the memory bandwidth of a large
// copy on every core at once (one thread's memcpy reached half of it here,
// while the step's kernels run on every core). Prints `gemm GFLOP/s <r>` and
// `copy GB/s <r>` (bytes read + written per second), medians of several
// runs.
//
//===----------------------------------------------------------------------===//

#include <cblas.h>

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
  const int n = 2048;
  std::vector<float> a(size_t(n) * n, 1.0f), b(a), c(a);
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f,
                a.data(), n, b.data(), n, 0.0f, c.data(), n);
  };
  gemm(); // warm-up: threads, pages
  double gemmSeconds = medianSeconds(5, gemm);
  std::printf("gemm GFLOP/s %.1f\n", 2.0 * n * n * n / gemmSeconds / 1e9);

  const size_t bytes = size_t(512) << 20;
  std::vector<char> from(bytes, 1), to(bytes, 0);
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  auto copy = [&] {
    std::vector<std::thread> workers;
    for (size_t t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        size_t begin = bytes * t / threads, end = bytes * (t + 1) / threads;
        std::memcpy(to.data() + begin, from.data() + begin, end - begin);
      });
    for (std::thread &worker : workers)
      worker.join();
  };
  copy();
  double copySeconds = medianSeconds(5, copy);
  std::printf("copy GB/s %.1f\n", 2.0 * bytes / copySeconds / 1e9);
  return 0;
}
