//===- Checkpoint.h - file helpers of mp-train's checkpoints ----*- C++ -*-===//
//
// The pieces of a sharded checkpoint (docs/runtime-abi.md, "Checkpoints")
// that know nothing of MPI or of the step: the FNV-1a 64 checksum of a
// file or a buffer, a text file written atomically (AtomicFile.h), and the
// listing of a checkpoint directory's published `step-<k>` entries. Plain
// C++17 and POSIX, no dependency.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRAIN_CHECKPOINT_H
#define MP_TRAIN_CHECKPOINT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mp::train {

/// FNV-1a 64 of `size` bytes, continuing from `hash` (start from the
/// offset basis, kFnvOffset).
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
uint64_t fnv1a64(const void *data, size_t size, uint64_t hash = kFnvOffset);

/// `value` as 16 lower-case hex digits, and back (false if malformed).
std::string hex64(uint64_t value);
bool parseHex64(const std::string &text, uint64_t &value);

/// The FNV-1a 64 and byte size of the file at `path`. On failure returns
/// false with `error` naming the file and errno's words.
bool hashFile(const std::string &path, uint64_t &hash, uint64_t &size,
              std::string &error);

/// Writes `text` to `path` as writeFileAtomically does.
bool writeTextAtomically(const std::string &path, const std::string &text,
                         std::string &error);

/// The whole file at `path`, or false with `error` naming it.
bool readTextFile(const std::string &path, std::string &text,
                  std::string &error);

/// The step numbers of `dir`'s entries named `step-<k>`, ascending.
std::vector<int64_t> listCheckpointSteps(const std::string &dir);

} // namespace mp::train

#endif // MP_TRAIN_CHECKPOINT_H
