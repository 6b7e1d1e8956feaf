//===- StepManifest.cpp - parsing a compiled step's manifest --------------===//

#include "StepManifest.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace mp::train {
namespace {

std::vector<std::string> splitWords(const std::string &line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;)
    words.push_back(word);
  return words;
}

bool parseInt(const std::string &word, int64_t &value) {
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

std::vector<std::string> splitCommas(const std::string &word) {
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
bool parseShape(const std::vector<std::string> &words, size_t &at,
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
bool parseSplit(const std::vector<std::string> &words, size_t &at,
                size_t rank, ManifestTensor &tensor) {
  if (at >= words.size() || words[at] != "split" ||
      words.size() - at - 1 != rank)
    return false;
  for (++at; at < words.size(); ++at)
    tensor.split.push_back(splitCommas(words[at]));
  return true;
}

int64_t product(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

} // namespace

int64_t ManifestTensor::localElements() const { return product(localShape); }
int64_t ManifestTensor::globalElements() const {
  return product(globalShape);
}

int64_t StepManifest::numRanks() const {
  int64_t ranks = 1;
  for (const auto &axis : mesh)
    ranks *= axis.second;
  return ranks;
}

int StepManifest::axisIndex(const std::string &name) const {
  for (size_t i = 0; i < mesh.size(); ++i)
    if (mesh[i].first == name)
      return static_cast<int>(i);
  return -1;
}

int StepManifest::numOutputs() const {
  int count = 0;
  for (const ManifestTensor &result : results)
    count += result.role == "output";
  return count;
}

size_t manifestDtypeSize(const std::string &dtype) {
  if (dtype == "f32" || dtype == "i32")
    return 4;
  if (dtype == "f64" || dtype == "i64")
    return 8;
  return 0;
}

bool parseManifest(const std::string &text, StepManifest &manifest,
                   std::string &error) {
  std::istringstream in(text);
  std::string line;
  int lineNumber = 0;
  auto fail = [&](const std::string &why) {
    error = "manifest line " + std::to_string(lineNumber) + " ('" + line +
            "'): " + why;
    return false;
  };
  bool sawHeader = false;
  while (std::getline(in, line)) {
    ++lineNumber;
    std::vector<std::string> words = splitWords(line);
    if (words.empty())
      continue;
    const std::string &key = words[0];
    if (!sawHeader) {
      if (key != "mp-step" || words.size() != 2 || words[1] != "2")
        return fail("expected 'mp-step 2' (a step compiled for this "
                    "runtime's ABI)");
      sawHeader = true;
      continue;
    }
    if (key == "function" && words.size() == 2) {
      manifest.function = words[1];
    } else if (key == "mesh" && words.size() % 2 == 1) {
      for (size_t i = 1; i < words.size(); i += 2) {
        int64_t size;
        if (!parseInt(words[i + 1], size) || size < 1)
          return fail("bad axis size '" + words[i + 1] + "'");
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
      if (!parseShape(words, at, "global", tensor.globalShape) ||
          !parseShape(words, at, "local", tensor.localShape) ||
          tensor.globalShape.size() != tensor.localShape.size() ||
          !parseSplit(words, at, tensor.localShape.size(), tensor) ||
          !manifestDtypeSize(tensor.dtype))
        return fail("expected 'arg NAME ROLE DTYPE global DIMS local DIMS "
                    "split AXES...'");
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
      manifest.results.push_back(std::move(tensor));
    } else {
      return fail("unknown or malformed entry");
    }
  }
  if (!sawHeader)
    return fail("empty manifest");
  if (manifest.function.empty())
    return fail("no 'function' entry");
  for (const ManifestTensor &arg : manifest.args)
    for (const auto &axes : arg.split)
      for (const std::string &axis : axes)
        if (manifest.axisIndex(axis) < 0) {
          error = "manifest: argument '" + arg.name + "' is split over '" +
                  axis + "', which is not a mesh axis";
          return false;
        }
  return true;
}

} // namespace mp::train
