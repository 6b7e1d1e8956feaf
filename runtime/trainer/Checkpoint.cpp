//===- Checkpoint.cpp - file helpers of mp-train's checkpoints ------------===//

#include "Checkpoint.h"
#include "AtomicFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>

using namespace mp::train;

uint64_t mp::train::fnv1a64(const void *data, size_t size, uint64_t hash) {
  const unsigned char *bytes = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i)
    hash = (hash ^ bytes[i]) * 1099511628211ull;
  return hash;
}

std::string mp::train::hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(value));
  return text;
}

bool mp::train::parseHex64(const std::string &text, uint64_t &value) {
  if (text.size() != 16)
    return false;
  uint64_t parsed = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
    if (digit < 0)
      return false;
    parsed = parsed << 4 | uint64_t(digit);
  }
  value = parsed;
  return true;
}

bool mp::train::hashFile(const std::string &path, uint64_t &hash,
                         uint64_t &size, std::string &error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  hash = kFnvOffset;
  size = 0;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    ssize_t got = read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      error = path + ": cannot read: " + std::strerror(errno);
      close(fd);
      return false;
    }
    if (got == 0)
      break;
    hash = fnv1a64(buffer.data(), size_t(got), hash);
    size += uint64_t(got);
  }
  close(fd);
  return true;
}

bool mp::train::writeTextAtomically(const std::string &path,
                                    const std::string &text,
                                    std::string &error) {
  return writeFileAtomically(
      path, [&](int fd) { return writeAll(fd, text.data(), text.size()); },
      error);
}

bool mp::train::readTextFile(const std::string &path, std::string &text,
                             std::string &error) {
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  text.clear();
  char buffer[65536];
  for (size_t got; (got = std::fread(buffer, 1, sizeof(buffer), file)) > 0;)
    text.append(buffer, got);
  bool ok = !std::ferror(file);
  std::fclose(file);
  if (!ok)
    error = path + ": cannot read";
  return ok;
}

std::vector<int64_t> mp::train::listCheckpointSteps(const std::string &dir) {
  std::vector<int64_t> steps;
  DIR *handle = opendir(dir.c_str());
  if (!handle)
    return steps;
  while (dirent *entry = readdir(handle)) {
    const char *name = entry->d_name;
    if (std::strncmp(name, "step-", 5) || !name[5])
      continue;
    int64_t step = 0;
    bool digits = true;
    for (const char *c = name + 5; *c && digits; ++c) {
      digits = *c >= '0' && *c <= '9' && step < (int64_t(1) << 58);
      step = step * 10 + (*c - '0');
    }
    if (digits)
      steps.push_back(step);
  }
  closedir(handle);
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::string mp::train::safetensorsDtype(const std::string &dtype) {
  std::string upper = dtype;
  for (char &c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string mp::train::meshText(const StepManifest &manifest) {
  if (manifest.mesh.empty())
    return "(none: an unpartitioned step on 1 rank)";
  std::string text;
  for (size_t i = 0; i < manifest.mesh.size(); ++i)
    text += (i ? " x " : "") + manifest.mesh[i].first + "=" +
            std::to_string(manifest.mesh[i].second);
  return text;
}

int CheckpointIndex::findTensor(const std::string &name) const {
  for (size_t t = 0; t < layout.args.size(); ++t)
    if (layout.args[t].name == name)
      return static_cast<int>(t);
  return -1;
}

namespace {

/// Member `key` of JSON object `object`, or null.
const JsonValue *member(const JsonValue &object, const std::string &key) {
  if (object.kind != JsonValue::Kind::Object)
    return nullptr;
  for (const auto &entry : object.members)
    if (entry.first == key)
      return &entry.second;
  return nullptr;
}

/// Member `key` of `object` if it is of kind `kind`, or null.
const JsonValue *member(const JsonValue &object, const std::string &key,
                        JsonValue::Kind kind) {
  const JsonValue *value = member(object, key);
  return value && value->kind == kind ? value : nullptr;
}

bool jsonIntList(const JsonValue *value, std::vector<int64_t> &out) {
  if (!value || value->kind != JsonValue::Kind::Array)
    return false;
  out.clear();
  for (const JsonValue &element : value->elements) {
    if (element.kind != JsonValue::Kind::Integer || element.integer < 0)
      return false;
    out.push_back(element.integer);
  }
  return true;
}

/// "F32" as the manifest spells it: "f32".
std::string manifestDtype(const std::string &dtype) {
  std::string lower = dtype;
  for (char &c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

bool jsonHash(const JsonValue *value, uint64_t &hash) {
  return value && value->kind == JsonValue::Kind::String &&
         parseHex64(value->string, hash);
}

} // namespace

bool mp::train::findLatestCheckpoint(const std::string &dir,
                                     std::string &stepDir, std::string &error) {
  std::string text;
  if (!readTextFile(dir + "/latest", text, error))
    return false;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  if (text.compare(0, 5, "step-") || text.find('/') != std::string::npos) {
    error = dir + "/latest: names '" + text + "', not a step-<k> directory";
    return false;
  }
  stepDir = dir + "/" + text;
  return true;
}

bool mp::train::readCheckpointIndex(const std::string &stepDir,
                                    CheckpointIndex &index,
                                    std::string &error) {
  using Kind = JsonValue::Kind;
  index = CheckpointIndex();
  index.dir = stepDir;
  index.path = stepDir + "/index.json";
  auto bad = [&](const std::string &what) {
    error = index.path + ": " + what;
    return false;
  };
  std::string text;
  if (!readTextFile(index.path, text, error))
    return false;
  JsonValue root;
  if (!parseJson(text, root, error))
    return bad(error);
  const JsonValue *format = member(root, "format", Kind::String),
                  *version = member(root, "version", Kind::Integer),
                  *step = member(root, "step", Kind::Integer),
                  *function = member(root, "function", Kind::String);
  if (!format || format->string != "mp-checkpoint" || !version ||
      version->integer != 1)
    return bad("not an mp-checkpoint index of version 1");
  if (!step || step->integer < 0)
    return bad("no step");
  index.step = step->integer;
  if (function)
    index.layout.function = index.function = function->string;

  const JsonValue *mesh = member(root, "mesh", Kind::Array);
  if (!mesh)
    return bad("no mesh");
  for (size_t a = 0; a < mesh->elements.size(); ++a) {
    const JsonValue *axis = member(mesh->elements[a], "axis", Kind::String),
                    *size = member(mesh->elements[a], "size", Kind::Integer);
    if (!axis || axis->string.empty() || !size || size->integer < 1 ||
        size->integer > INT32_MAX / index.layout.numRanks() ||
        index.layout.axisIndex(axis->string) >= 0)
      return bad("mesh axis " + std::to_string(a) +
                 " is not a new name and a size that MPI counts");
    index.layout.mesh.emplace_back(axis->string, size->integer);
  }
  int64_t ranks = index.layout.numRanks();

  const JsonValue *data = member(root, "data", Kind::Object);
  const JsonValue *source =
                      data ? member(*data, "source", Kind::String) : nullptr,
                  *seed = data ? member(*data, "seed", Kind::String) : nullptr,
                  *position =
                      data ? member(*data, "position", Kind::Integer) : nullptr;
  if (!source || !seed || !position)
    return bad("no data source, seed and position");
  if (position->integer != index.step)
    return bad("the data position " + std::to_string(position->integer) +
               " is not the step " + std::to_string(index.step));
  index.dataSource = source->string;
  index.seed = seed->string;
  index.dataPosition = position->integer;

  const JsonValue *files = member(root, "files", Kind::Array);
  if (!files || int64_t(files->elements.size()) != ranks)
    return bad("wants " + std::to_string(ranks) +
               " files, one per rank of the mesh");
  for (int64_t r = 0; r < ranks; ++r) {
    const JsonValue &entry = files->elements[r];
    const JsonValue *rank = member(entry, "rank", Kind::Integer),
                    *name = member(entry, "file", Kind::String),
                    *bytes = member(entry, "bytes", Kind::Integer);
    CheckpointIndex::File file;
    if (!rank || rank->integer != r || !name || name->string.empty() ||
        name->string.find('/') != std::string::npos || !bytes ||
        bytes->integer < 0 || !jsonHash(member(entry, "fnv1a64"), file.hash))
      return bad("file " + std::to_string(r) +
                 " is not rank, file (a name in the directory), bytes and "
                 "fnv1a64 of rank " +
                 std::to_string(r));
    file.name = name->string;
    file.bytes = uint64_t(bytes->integer);
    index.files.push_back(std::move(file));
  }

  const JsonValue *tensors = member(root, "tensors", Kind::Array);
  if (!tensors)
    return bad("no tensors");
  for (const JsonValue &entry : tensors->elements) {
    const JsonValue *name = member(entry, "name", Kind::String);
    if (!name || name->string.empty())
      return bad("a tensor without a name");
    auto badTensor = [&](const std::string &what) {
      return bad("tensor '" + name->string + "' " + what);
    };
    if (index.findTensor(name->string) >= 0)
      return badTensor("is listed twice");
    ManifestTensor tensor;
    tensor.name = name->string;
    const JsonValue *role = member(entry, "role", Kind::String),
                    *dtype = member(entry, "dtype", Kind::String),
                    *split = member(entry, "split", Kind::Array),
                    *slices = member(entry, "slices", Kind::Array);
    if (!role || (role->string != "param" && role->string != "state"))
      return badTensor("has no role param or state");
    tensor.role = role->string;
    if (!dtype || safetensorsDtype(dtype->string) != dtype->string ||
        !manifestDtypeSize(tensor.dtype = manifestDtype(dtype->string)))
      return badTensor("has no dtype F32, F64, I32 or I64");
    if (!jsonIntList(member(entry, "global_shape"), tensor.globalShape) ||
        !jsonIntList(member(entry, "local_shape"), tensor.localShape) ||
        tensor.localShape.size() != tensor.globalShape.size() || !split ||
        split->elements.size() != tensor.globalShape.size() ||
        !detail::hasCountableBytes(tensor.globalShape,
                                   manifestDtypeSize(tensor.dtype)))
      return badTensor("lacks a global shape, a local shape and a split of "
                       "one rank whose bytes int64 counts");
    for (const JsonValue &axes : split->elements) {
      tensor.split.emplace_back();
      if (axes.kind != Kind::Array)
        return badTensor("has a split that is not lists of axes");
      for (const JsonValue &axis : axes.elements) {
        if (axis.kind != Kind::String)
          return badTensor("has a split that is not lists of axes");
        tensor.split.back().push_back(axis.string);
      }
    }
    index.layout.args.push_back(std::move(tensor));
    if (!checkSplits(index.layout, error))
      return bad(error);
    const ManifestTensor &checked = index.layout.args.back();
    if (!slices || int64_t(slices->elements.size()) != ranks)
      return badTensor("wants " + std::to_string(ranks) +
                       " slices, one per rank");
    index.sliceHashes.emplace_back();
    for (int64_t r = 0; r < ranks; ++r) {
      const JsonValue &slice = slices->elements[r];
      const JsonValue *rank = member(slice, "rank", Kind::Integer),
                      *file = member(slice, "file", Kind::String);
      std::vector<int64_t> origin, valid;
      uint64_t hash = 0;
      if (!rank || rank->integer != r || !file ||
          file->string != index.files[r].name ||
          !jsonIntList(member(slice, "origin"), origin) ||
          !jsonIntList(member(slice, "valid"), valid) ||
          !jsonHash(member(slice, "fnv1a64"), hash))
        return badTensor("has no slice of rank " + std::to_string(r) +
                         " in its file with origin, valid and fnv1a64");
      // The slices are the layout's: what the reader assembles from them
      // then covers every tensor, whatever mesh it reads for.
      std::vector<DimPiece> piece = getPiece(index.layout, checked, r);
      bool same = origin.size() == piece.size() && valid.size() == piece.size();
      for (size_t d = 0; same && d < piece.size(); ++d)
        same = origin[d] == piece[d].origin && valid[d] == piece[d].valid;
      if (!same)
        return badTensor("has a slice of rank " + std::to_string(r) +
                         " (origin " + shapeText(origin) + ", valid " +
                         shapeText(valid) +
                         ") that is not where its split lays it");
      index.sliceHashes.back().push_back(hash);
    }
  }
  return true;
}

namespace {

/// Rank `rank`'s file, opened (once) into `files`, its size checked
/// against the index first: a truncated or replaced file is named as such.
const SafeTensorsFile *openRankFile(const CheckpointIndex &index, int64_t rank,
                                    CheckpointFiles &files,
                                    std::string &error) {
  std::unique_ptr<SafeTensorsFile> &file = files[rank];
  if (file)
    return file.get();
  std::string path = index.filePath(rank);
  struct stat status;
  bool sized = stat(path.c_str(), &status) == 0;
  auto opened = std::make_unique<SafeTensorsFile>();
  if (!opened->open(path, error)) {
    if (sized && uint64_t(status.st_size) != index.files[rank].bytes)
      error += "; the file has " + std::to_string(status.st_size) + " bytes, " +
               index.path + " says " + std::to_string(index.files[rank].bytes);
    return nullptr;
  }
  if (uint64_t(status.st_size) != index.files[rank].bytes) {
    error = path + ": the file has " + std::to_string(status.st_size) +
            " bytes, but " + index.path + " says " +
            std::to_string(index.files[rank].bytes);
    return nullptr;
  }
  file = std::move(opened);
  return file.get();
}

/// Reads tensor `tensor` of rank `rank`'s file and checks it against the
/// index: dtype, local shape and checksum.
bool readSlice(const CheckpointIndex &index, int tensor, int64_t rank,
               const SafeTensorsFile &file, Tensor &slice, std::string &error) {
  const ManifestTensor &layout = index.layout.args[tensor];
  std::string path = index.filePath(rank);
  if (!file.read(layout.name, slice, error))
    return false;
  if (slice.dtype != safetensorsDtype(layout.dtype) ||
      slice.shape != layout.localShape) {
    error = path + ": tensor '" + layout.name + "' is " + slice.dtype + " " +
            shapeText(slice.shape) + ", but " + index.path + " says " +
            safetensorsDtype(layout.dtype) + " " + shapeText(layout.localShape);
    return false;
  }
  uint64_t hash = fnv1a64(slice.bytes.data(), slice.bytes.size());
  if (hash != index.sliceHashes[tensor][rank]) {
    error = path + ": tensor '" + layout.name +
            "' does not match its checksum in " + index.path + " (fnv1a64 " +
            hex64(hash) + ", the index says " +
            hex64(index.sliceHashes[tensor][rank]) + "): the file is corrupt";
    return false;
  }
  return true;
}

} // namespace

bool mp::train::readCheckpointPiece(const CheckpointIndex &index, int tensor,
                                    const std::vector<DimPiece> &piece,
                                    int64_t preferredRank,
                                    CheckpointFiles &files,
                                    const SliceCheck &check,
                                    std::vector<char> &out,
                                    std::string &error) {
  const ManifestTensor &layout = index.layout.args[tensor];
  size_t elementBytes = manifestDtypeSize(layout.dtype);
  std::vector<int64_t> extents;
  for (const DimPiece &dim : piece)
    extents.push_back(dim.extent);
  out.assign(detail::product(extents) * elementBytes, 0);
  int64_t ranks = index.layout.numRanks();
  // Replicas hold the same slice: the first met of each, starting from
  // the preferred rank, is read.
  std::vector<std::vector<DimPiece>> seen;
  for (int64_t i = 0; i < ranks; ++i) {
    int64_t rank = (preferredRank + i) % ranks;
    std::vector<DimPiece> slice = getPiece(index.layout, layout, rank);
    std::vector<int64_t> sliceShape, sliceStart, pieceStart, count;
    for (size_t d = 0; d < piece.size(); ++d) {
      int64_t begin = std::max(piece[d].origin, slice[d].origin);
      int64_t end = std::min(piece[d].origin + piece[d].valid,
                             slice[d].origin + slice[d].valid);
      if (end <= begin)
        break;
      sliceShape.push_back(slice[d].extent);
      sliceStart.push_back(begin - slice[d].origin);
      pieceStart.push_back(begin - piece[d].origin);
      count.push_back(end - begin);
    }
    if (count.size() != piece.size())
      continue; // no overlap
    bool replica = std::any_of(
        seen.begin(), seen.end(), [&](const std::vector<DimPiece> &earlier) {
          return std::equal(earlier.begin(), earlier.end(), slice.begin(),
                            [](const DimPiece &a, const DimPiece &b) {
                              return a.origin == b.origin;
                            });
        });
    if (replica)
      continue;
    seen.push_back(slice);
    const SafeTensorsFile *file = openRankFile(index, rank, files, error);
    Tensor stored;
    if (!file || !readSlice(index, tensor, rank, *file, stored, error))
      return false;
    if (check) {
      error = check(index.filePath(rank), layout.name, stored);
      if (!error.empty())
        return false;
    }
    copyBox(stored.bytes.data(), sliceShape, sliceStart, out.data(), extents,
            pieceStart, count, elementBytes);
  }
  return true;
}

bool mp::train::verifyCheckpointFile(const CheckpointIndex &index, int64_t rank,
                                     std::string &error) {
  CheckpointFiles files;
  const SafeTensorsFile *file = openRankFile(index, rank, files, error);
  if (!file)
    return false;
  // Each tensor against its checksum first, so that a corrupt file names
  // the tensor that is.
  for (size_t t = 0; t < index.layout.args.size(); ++t) {
    Tensor slice;
    if (!readSlice(index, static_cast<int>(t), rank, *file, slice, error))
      return false;
  }
  std::string path = index.filePath(rank);
  for (const auto &entry : file->getEntries())
    if (index.findTensor(entry.first) < 0) {
      error = path + ": tensor '" + entry.first + "' is not in " + index.path;
      return false;
    }
  const CheckpointIndex::File &wanted = index.files[rank];
  uint64_t hash = 0, size = 0;
  if (!hashFile(path, hash, size, error))
    return false;
  if (hash != wanted.hash || size != wanted.bytes) {
    error = path + ": the file does not match its checksum in " + index.path +
            " (fnv1a64 " + hex64(hash) + "; the index says " +
            hex64(wanted.hash) +
            ") though its tensors do: its header is "
            "corrupt";
    return false;
  }
  return true;
}
