//===- StepManifest.h - what a compiled step says about itself --*- C++ -*-===//
//
// `mp-opt --mp-lower-to-runtime` describes each compiled function in a short
// text (the manifest, docs/runtime-abi.md) that mp-translate compiles into
// the object (`mp_step::manifest`) and into the generated C header. The
// compiler prints it; the trainer reads it to lay global tensors onto ranks
// and mp-translate reads it to write the header. The printer and the parser
// sit side by side here so that the grammar lives once. Header-only plain
// C++, no MLIR: it belongs to the runtime, and the compiler includes it.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRAINER_STEPMANIFEST_H
#define MP_TRAINER_STEPMANIFEST_H

#include "Pieces.h"
#include "mp_runtime.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
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
  /// Integer inputs and targets: the values index [0, bound) (token ids
  /// into a vocabulary, classes); -1 when the step does not say.
  int64_t bound = -1;
  /// With a bound: the value that may stand for a skipped sample too (the
  /// ignore_index of the cross entropies that read the integers).
  std::optional<int64_t> ignored;

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

/// The manifest's text, which parseManifest reads back.
std::string printManifest(const StepManifest &manifest);

/// Parses `text`; on failure returns false with `error` saying which line.
bool parseManifest(const std::string &text, StepManifest &manifest,
                   std::string &error);

/// The byte size of a manifest dtype, or 0.
size_t manifestDtypeSize(const std::string &dtype);

/// Whether every argument is split over axes of the mesh and holds, per
/// dim, the padded extent its split gives; false with `error` naming the
/// argument otherwise. parseManifest checks a manifest with it, and the
/// checkpoint reader the layout an index describes.
bool checkSplits(const StepManifest &manifest, std::string &error);

/// The coordinate of `rank` on each mesh axis: row-major, last axis fastest.
std::vector<int64_t> getCoordinates(const StepManifest &manifest, int64_t rank);

/// Per dim, where `rank`'s piece of argument `tensor` (split over
/// `manifest`'s mesh as checkSplits accepts) lies in the global tensor.
std::vector<DimPiece> getPiece(const StepManifest &manifest,
                               const ManifestTensor &tensor, int64_t rank);

//===----------------------------------------------------------------------===//
// Implementation
//===----------------------------------------------------------------------===//

namespace detail {

inline std::vector<std::string> splitWords(const std::string &line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;)
    words.push_back(word);
  return words;
}

inline bool parseInt(const std::string &word, int64_t &value) {
  if (word.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(word.c_str(), &end, 10);
  if (errno || *end)
    return false;
  value = parsed;
  return true;
}

inline std::vector<std::string> splitCommas(const std::string &word) {
  std::vector<std::string> parts;
  if (word == "-")
    return parts;
  std::string::size_type start = 0;
  for (;;) {
    std::string::size_type comma = word.find(',', start);
    parts.push_back(word.substr(start, comma - start));
    if (comma == std::string::npos)
      return parts;
    start = comma + 1;
  }
}

/// Reads "<keyword> d0 d1 ..." up to the next non-number, from words[at].
inline bool parseShape(const std::vector<std::string> &words, size_t &at,
                       const char *keyword, std::vector<int64_t> &shape) {
  if (at >= words.size() || words[at] != keyword)
    return false;
  for (++at; at < words.size(); ++at) {
    int64_t dim;
    if (!parseInt(words[at], dim))
      break;
    if (dim < 0)
      return false;
    shape.push_back(dim);
  }
  return true;
}

/// Reads "split s0 s1 ..." with one entry per dim.
inline bool parseSplit(const std::vector<std::string> &words, size_t &at,
                       size_t rank, ManifestTensor &tensor) {
  if (at >= words.size() || words[at] != "split" ||
      words.size() - at - 1 != rank)
    return false;
  for (++at; at < words.size(); ++at)
    tensor.split.push_back(splitCommas(words[at]));
  return true;
}

/// Writes " <keyword> d0 d1 ...", parseShape's input.
inline void printShape(std::ostream &os, const char *keyword,
                       const std::vector<int64_t> &shape) {
  os << ' ' << keyword;
  for (int64_t dim : shape)
    os << ' ' << dim;
}

/// Writes " split s0 s1 ...", parseSplit's input: per dim "-" or the axes,
/// comma-separated.
inline void printSplit(std::ostream &os, const ManifestTensor &tensor) {
  os << " split";
  for (const std::vector<std::string> &axes : tensor.split) {
    os << ' ';
    if (axes.empty())
      os << '-';
    for (size_t i = 0; i < axes.size(); ++i)
      os << (i ? "," : "") << axes[i];
  }
}

/// Whether a tensor of `shape` and `elementBytes`-byte elements has a byte
/// size int64 counts. The compiler refuses any other; a manifest that says
/// otherwise was not written by it.
inline bool hasCountableBytes(const std::vector<int64_t> &shape,
                              size_t elementBytes) {
  int64_t bytes = static_cast<int64_t>(elementBytes);
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(bytes, dim, &bytes))
      return false;
  return true;
}

inline int64_t product(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

} // namespace detail

inline int64_t ManifestTensor::localElements() const {
  return detail::product(localShape);
}
inline int64_t ManifestTensor::globalElements() const {
  return detail::product(globalShape);
}

inline int64_t StepManifest::numRanks() const {
  int64_t ranks = 1;
  for (const auto &axis : mesh)
    ranks *= axis.second;
  return ranks;
}

inline int StepManifest::axisIndex(const std::string &name) const {
  for (size_t i = 0; i < mesh.size(); ++i)
    if (mesh[i].first == name)
      return static_cast<int>(i);
  return -1;
}

inline int StepManifest::numOutputs() const {
  int count = 0;
  for (const ManifestTensor &result : results)
    count += result.role == "output";
  return count;
}

inline size_t manifestDtypeSize(const std::string &dtype) {
  if (dtype == "f32" || dtype == "i32")
    return 4;
  if (dtype == "f64" || dtype == "i64")
    return 8;
  return 0;
}

inline bool checkSplits(const StepManifest &manifest, std::string &error) {
  for (const ManifestTensor &arg : manifest.args)
    for (size_t dim = 0; dim < arg.split.size(); ++dim) {
      std::vector<int64_t> sizes;
      for (const std::string &axis : arg.split[dim]) {
        int index = manifest.axisIndex(axis);
        if (index < 0) {
          error = "argument '" + arg.name + "' is split over '" + axis +
                  "', which is not a mesh axis";
          return false;
        }
        sizes.push_back(manifest.mesh[index].second);
      }
      // Uneven splits pad every piece to the first's extent.
      int64_t local = getDimPiece(arg.globalShape[dim], sizes,
                                  std::vector<int64_t>(sizes.size(), 0))
                          .extent;
      if (arg.localShape[dim] != local) {
        error = "argument '" + arg.name + "' holds " +
                std::to_string(arg.localShape[dim]) + " of dim " +
                std::to_string(dim) + " on each rank, but " +
                std::to_string(arg.globalShape[dim]) +
                " split over those axes gives " + std::to_string(local);
        return false;
      }
    }
  return true;
}

inline std::vector<int64_t> getCoordinates(const StepManifest &manifest,
                                           int64_t rank) {
  std::vector<int64_t> coords(manifest.mesh.size());
  for (size_t axis = manifest.mesh.size(); axis-- > 0;) {
    coords[axis] = rank % manifest.mesh[axis].second;
    rank /= manifest.mesh[axis].second;
  }
  return coords;
}

inline std::vector<DimPiece> getPiece(const StepManifest &manifest,
                                      const ManifestTensor &tensor,
                                      int64_t rank) {
  std::vector<int64_t> coords = getCoordinates(manifest, rank);
  std::vector<DimPiece> piece;
  for (size_t dim = 0; dim < tensor.localShape.size(); ++dim) {
    std::vector<int64_t> sizes, axisCoords;
    for (const std::string &axis : tensor.split[dim]) {
      int index = manifest.axisIndex(axis);
      sizes.push_back(manifest.mesh[index].second);
      axisCoords.push_back(coords[index]);
    }
    piece.push_back(getDimPiece(tensor.globalShape[dim], sizes, axisCoords));
  }
  return piece;
}

inline std::string printManifest(const StepManifest &manifest) {
  std::ostringstream os;
  os << "mp-step " << MP_RUNTIME_ABI_VERSION << "\nfunction "
     << manifest.function << "\nmesh";
  for (const auto &[name, size] : manifest.mesh)
    os << ' ' << name << ' ' << size;
  os << "\narena " << manifest.arenaBytes << "\npersistent "
     << manifest.persistentBytes << '\n';
  for (const ManifestTensor &arg : manifest.args) {
    os << "arg " << arg.name << ' ' << arg.role << ' ' << arg.dtype;
    detail::printShape(os, "global", arg.globalShape);
    detail::printShape(os, "local", arg.localShape);
    if (arg.bound >= 0)
      os << " bound " << arg.bound;
    if (arg.bound >= 0 && arg.ignored)
      os << " ignore " << *arg.ignored;
    detail::printSplit(os, arg);
    os << '\n';
  }
  for (const ManifestTensor &result : manifest.results) {
    if (result.role == "update") {
      os << "result " << result.name << " update " << result.updates << '\n';
      continue;
    }
    os << "result " << result.name << " output " << result.dtype;
    detail::printShape(os, "local", result.localShape);
    detail::printSplit(os, result);
    os << '\n';
  }
  return os.str();
}

inline bool parseManifest(const std::string &text, StepManifest &manifest,
                          std::string &error) {
  using namespace detail;
  std::istringstream in(text);
  std::string line;
  int lineNumber = 0;
  auto fail = [&](const std::string &why) {
    error = "manifest line " + std::to_string(lineNumber) + " ('" + line +
            "'): " + why;
    return false;
  };
  const std::string abiVersion = std::to_string(MP_RUNTIME_ABI_VERSION);
  bool sawHeader = false;
  while (std::getline(in, line)) {
    ++lineNumber;
    std::vector<std::string> words = splitWords(line);
    if (words.empty())
      continue;
    const std::string &key = words[0];
    if (!sawHeader) {
      if (key != "mp-step" || words.size() != 2 || words[1] != abiVersion)
        return fail("expected 'mp-step " + abiVersion +
                    "' (a step compiled for this runtime's ABI)");
      sawHeader = true;
      continue;
    }
    if (key == "function" && words.size() == 2) {
      manifest.function = words[1];
    } else if (key == "mesh" && words.size() % 2 == 1) {
      for (size_t i = 1; i < words.size(); i += 2) {
        int64_t size;
        if (!parseInt(words[i + 1], size) || size < 1 ||
            size > INT32_MAX / manifest.numRanks())
          return fail("bad axis size '" + words[i + 1] +
                      "' (MPI counts a mesh's ranks in an int)");
        manifest.mesh.emplace_back(words[i], size);
      }
    } else if ((key == "arena" || key == "persistent") && words.size() == 2) {
      int64_t bytes;
      if (!parseInt(words[1], bytes) || bytes < 0)
        return fail("bad byte count");
      (key == "arena" ? manifest.arenaBytes : manifest.persistentBytes) =
          bytes;
    } else if (key == "arg" && words.size() >= 5) {
      ManifestTensor tensor{words[1], words[2], words[3], {}, {}, {}, -1};
      size_t at = 4;
      auto parseBound = [&] {
        if (at >= words.size() || words[at] != "bound")
          return true;
        at += 2;
        if (at > words.size() || !parseInt(words[at - 1], tensor.bound) ||
            tensor.bound < 0)
          return false;
        if (at >= words.size() || words[at] != "ignore")
          return true;
        at += 2;
        int64_t ignored;
        if (at > words.size() || !parseInt(words[at - 1], ignored))
          return false;
        tensor.ignored = ignored;
        return true;
      };
      if (!parseShape(words, at, "global", tensor.globalShape) ||
          !parseShape(words, at, "local", tensor.localShape) ||
          tensor.globalShape.size() != tensor.localShape.size() ||
          !parseBound() ||
          !parseSplit(words, at, tensor.localShape.size(), tensor) ||
          !manifestDtypeSize(tensor.dtype))
        return fail("expected 'arg NAME ROLE DTYPE global DIMS local DIMS "
                    "[bound N [ignore M]] split AXES...'");
      if (!hasCountableBytes(tensor.globalShape,
                             manifestDtypeSize(tensor.dtype)))
        return fail("the tensor's bytes do not fit int64");
      manifest.args.push_back(std::move(tensor));
    } else if (key == "result" && words.size() == 4 && words[2] == "update") {
      int64_t arg;
      if (!parseInt(words[3], arg) || arg < 0 ||
          arg >= static_cast<int64_t>(manifest.args.size()))
        return fail("updates an argument that does not exist");
      manifest.results.push_back(
          ManifestTensor{words[1], "update", "", {}, {}, {}, int(arg)});
    } else if (key == "result" && words.size() >= 5 && words[2] == "output") {
      ManifestTensor tensor{words[1], "output", words[3], {}, {}, {}, -1};
      size_t at = 4;
      if (!parseShape(words, at, "local", tensor.localShape) ||
          !parseSplit(words, at, tensor.localShape.size(), tensor) ||
          !manifestDtypeSize(tensor.dtype))
        return fail("expected 'result NAME output DTYPE local DIMS split "
                    "AXES...'");
      if (!hasCountableBytes(tensor.localShape,
                             manifestDtypeSize(tensor.dtype)))
        return fail("the tensor's bytes do not fit int64");
      manifest.results.push_back(std::move(tensor));
    } else {
      return fail("unknown or malformed entry");
    }
  }
  if (!sawHeader)
    return fail("empty manifest");
  if (manifest.function.empty())
    return fail("no 'function' entry");
  if (!checkSplits(manifest, error)) {
    error = "manifest: " + error;
    return false;
  }
  return true;
}

} // namespace mp::train

#endif // MP_TRAINER_STEPMANIFEST_H
