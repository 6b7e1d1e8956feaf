//===- Profile.cpp - where a rank's step spends its time ------------------===//

#include "Profile.h"

#include "Backend.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mp::runtime {

void Profiler::enter(Backend &backend, const char *op) {
  if (!current && !op)
    return;
  // Errors surface through the calls themselves; the profile only waits.
  backend.synchronize();
  auto now = std::chrono::steady_clock::now();
  if (current) {
    OpTime &time = ops[current];
    time.seconds += std::chrono::duration<double>(now - start).count();
    ++time.calls;
  }
  current = op;
  start = now;
}

void Profiler::print(std::FILE *out, int rank) const {
  std::vector<std::pair<const char *, OpTime>> sorted(ops.begin(), ops.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) {
    return a.second.seconds > b.second.seconds;
  });
  double total = 0;
  for (const auto &entry : sorted)
    total += entry.second.seconds;
  std::fprintf(out, "mp profile, rank %d: %.3f ms in %zu ops\n", rank,
               total * 1e3, sorted.size());
  std::fprintf(out, "%10s %6s %10s %6s  %s\n", "total ms", "calls", "mean ms",
               "share", "op");
  for (const auto &[op, time] : sorted)
    std::fprintf(out, "%10.3f %6lld %10.3f %5.1f%%  %s\n", time.seconds * 1e3,
                 static_cast<long long>(time.calls),
                 time.seconds * 1e3 / time.calls,
                 total > 0 ? 100 * time.seconds / total : 0.0, op);
}

} // namespace mp::runtime
