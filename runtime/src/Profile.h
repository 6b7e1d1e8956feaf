//===- Profile.h - where a rank's step spends its time ----------*- C++ -*-===//
//
// With MP_PROFILE=1 in the environment, the runtime times each op of the
// compiled step: from one mp_context_set_op to the next (the end of the
// step is its mp_context_status), the backend synchronized at each so that
// asynchronous GPU work counts against the op that issued it. Collectives
// include the wait for the slowest member of their group. Rank 0 prints
// the table when its context is destroyed. Synchronizing costs time, so
// profiled steps are slower than unprofiled ones.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_PROFILE_H
#define MP_RUNTIME_PROFILE_H

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <unordered_map>

namespace mp::runtime {

class Backend;

class Profiler {
public:
  /// Ends the current op's interval and starts `op`'s (null: none).
  void enter(Backend &backend, const char *op);
  /// Forgets every time recorded; the next op starts a new interval.
  void restart() {
    ops.clear();
    current = nullptr;
  }
  /// Prints the ops by total time, most first.
  void print(std::FILE *out, int rank) const;

private:
  struct OpTime {
    double seconds = 0;
    int64_t calls = 0;
  };
  /// Keyed by the step's static op strings, one per op of the step.
  std::unordered_map<const char *, OpTime> ops;
  const char *current = nullptr;
  std::chrono::steady_clock::time_point start;
};

} // namespace mp::runtime

#endif // MP_RUNTIME_PROFILE_H
