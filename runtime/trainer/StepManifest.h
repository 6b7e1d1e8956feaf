//===- StepManifest.h - what a compiled step says about itself --*- C++ -*-===//
//
// `mp-opt --mp-lower-to-runtime` describes each compiled function in a short
// text (the manifest, docs/runtime-abi.md) that mp-translate compiles into
// the object (`mp_step::manifest`) and into the generated C header. The
// trainer reads it to lay global tensors onto ranks; mp-translate reads it
// to write the header. Plain C++, no MLIR: it belongs to the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRAINER_STEPMANIFEST_H
#define MP_TRAINER_STEPMANIFEST_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mp::train {

struct ManifestTensor {
  std::string name;
  /// Arguments: "param", "state", "input" or "target". Results: "update"
  /// (written back into argument `updates`) or "output".
  std::string role;
  std::string dtype; // "f32", "f64", "i32", "i64"; empty for updates
  std::vector<int64_t> globalShape;
  std::vector<int64_t> localShape;
  /// Per dim, the mesh axes splitting it, major to minor.
  std::vector<std::vector<std::string>> split;
  int updates = -1;

  int64_t localElements() const;
  int64_t globalElements() const;
};

struct StepManifest {
  std::string function;
  /// Mesh axes in order (last fastest over ranks); empty when unpartitioned.
  std::vector<std::pair<std::string, int64_t>> mesh;
  int64_t arenaBytes = 0;
  int64_t persistentBytes = 0;
  std::vector<ManifestTensor> args;
  std::vector<ManifestTensor> results;

  int64_t numRanks() const;
  /// The index of mesh axis `name`, or -1.
  int axisIndex(const std::string &name) const;
  /// Number of results that are outputs (not updates).
  int numOutputs() const;
};

/// Parses `text`; on failure returns false with `error` saying which line.
bool parseManifest(const std::string &text, StepManifest &manifest,
                   std::string &error);

/// The byte size of a manifest dtype, or 0.
size_t manifestDtypeSize(const std::string &dtype);

} // namespace mp::train

#endif // MP_TRAINER_STEPMANIFEST_H
