//===- Checkpoint.h - file helpers of mp-train's checkpoints ----*- C++ -*-===//
//
// The pieces of a sharded checkpoint (docs/runtime-abi.md, "Checkpoints")
// that know nothing of MPI: the FNV-1a 64 checksum of a file or a buffer, a
// text file written atomically (AtomicFile.h), the listing of a checkpoint
// directory's published `step-<k>` entries, and the reading side that
// mp-train --resume and mp-ckpt share: the index, checked for structure;
// the verification of a rank file; and the assembly of any piece of a
// tensor (another mesh's, or the global tensor) from the slices that
// overlap it. Plain C++17 and POSIX, no dependency.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRAIN_CHECKPOINT_H
#define MP_TRAIN_CHECKPOINT_H

#include "SafeTensors.h"
#include "StepManifest.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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

/// A checkpoint's index.json, read and checked by readCheckpointIndex.
struct CheckpointIndex {
  /// The checkpoint's directory (DIR/step-<k>) and its index's path.
  std::string dir, path;
  std::string function;
  /// The index of the next step to run.
  int64_t step = 0;
  /// Where the batches come from ("seeded" or the --data file), the seed
  /// (decimal text, all of uint64), and the data position (the step).
  std::string dataSource, seed;
  int64_t dataPosition = 0;
  struct File {
    std::string name; // within `dir`
    uint64_t bytes = 0, hash = 0;
  };
  /// One per rank, in rank order.
  std::vector<File> files;
  /// The writer's mesh, and its tensors as the step's arguments they were:
  /// name, role, dtype in the manifest's spelling, global and local shapes,
  /// split. getPiece(layout, layout.args[t], r) is where rank r's slice
  /// lies, as the index says.
  StepManifest layout;
  /// Per tensor, per rank: the FNV-1a 64 of the rank's slice.
  std::vector<std::vector<uint64_t>> sliceHashes;

  /// The index of tensor `name` in layout.args, or -1.
  int findTensor(const std::string &name) const;
  std::string filePath(int64_t rank) const {
    return dir + "/" + files[rank].name;
  }
};

/// The step directory DIR/latest names, or false with `error` naming it.
bool findLatestCheckpoint(const std::string &dir, std::string &stepDir,
                          std::string &error);

/// Reads `stepDir`/index.json and checks its structure: the format, a
/// mesh, one file per rank, tensors of known roles and dtypes, split over
/// the mesh's axes, whose local shapes and slices are those the layout of
/// Pieces.h gives. On failure returns false with `error` naming the index
/// and, where it applies, the tensor.
bool readCheckpointIndex(const std::string &stepDir, CheckpointIndex &index,
                         std::string &error);

/// Rank files opened by readCheckpointPiece, kept between calls.
using CheckpointFiles = std::map<int64_t, std::unique_ptr<SafeTensorsFile>>;

/// Called with each slice read: its file's path, the tensor's name and the
/// slice as stored; returns an error, or empty.
using SliceCheck = std::function<std::string(
    const std::string &path, const std::string &name, const Tensor &slice)>;

/// Assembles the piece `piece` (per dim: padded extent, global origin,
/// valid entries, as getPiece gives) of tensor `tensor` (an index into
/// index.layout.args) into `out`, row-major over the piece's extents,
/// padding zero. Reads only the slices that overlap the piece, one replica
/// of each (the rank `preferredRank`'s when it holds one), each checked
/// against its dtype, shape and checksum in the index and then by `check`.
/// On failure returns false with `error` naming the file and the tensor.
bool readCheckpointPiece(const CheckpointIndex &index, int tensor,
                         const std::vector<DimPiece> &piece,
                         int64_t preferredRank, CheckpointFiles &files,
                         const SliceCheck &check, std::vector<char> &out,
                         std::string &error);

/// Checks rank `rank`'s file whole: its size and checksum as the index
/// says, its header, and each tensor as the index lists it (dtype, local
/// shape, checksum), no more and no fewer. On failure returns false with
/// `error` naming the file and, where it can tell, the corrupt tensor.
bool verifyCheckpointFile(const CheckpointIndex &index, int64_t rank,
                          std::string &error);

/// A mesh as messages say it: "data_parallel=2 x tensor_parallel=2".
std::string meshText(const StepManifest &manifest);

/// A manifest dtype ("f32") as safetensors spells it ("F32").
std::string safetensorsDtype(const std::string &dtype);

} // namespace mp::train

#endif // MP_TRAIN_CHECKPOINT_H
