//===- SafeTensors.h - read and write safetensors files ---------*- C++ -*-===//
//
// The trainer reads its initial parameters and datasets from safetensors
// files and writes checkpoints in the same format, so that PyTorch and the
// Hugging Face tools read and write them too. The format
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian u64
// header length N, N bytes of UTF-8 JSON naming each tensor's dtype, shape
// and data_offsets (relative to the data buffer), then the data buffer.
//
// Reading validates everything before it allocates or trusts anything, so a
// malformed or hostile file yields an error message, never a crash or an
// absurd allocation.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRAIN_SAFETENSORS_H
#define MP_TRAIN_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mp::train {

struct Tensor {
  // The dtype name as in the file: "F32", "F64", "I64", "I32", "BF16", ...
  std::string dtype;
  std::vector<int64_t> shape;
  // Row-major data, little-endian, exactly as stored in the file.
  std::vector<char> bytes;

  // The product of the shape (1 for a scalar). Every tensor read here has
  // a shape whose product fits; the writer checks a tensor's shape before
  // trusting it.
  int64_t numElements() const;
};

// A JSON value of the subset the safetensors header uses (objects, arrays,
// strings, integers that fit in int64; no true/false/null or fractions).
struct JsonValue {
  enum class Kind { Object, Array, String, Integer };
  Kind kind = Kind::Object;
  std::string string;
  int64_t integer = 0;
  std::vector<JsonValue> elements;
  // In the order of the text, duplicates kept: the checks that know what an
  // object means report a duplicate key in their own words.
  std::vector<std::pair<std::string, JsonValue>> members;
};

// Parses `text` (that subset of JSON, strictly) into `value`; on failure
// returns false with `error` naming the byte offset. The trainer reads its
// checkpoint index with it.
bool parseJson(const std::string &text, JsonValue &value, std::string &error);

// A shape as messages write it: "[2, 3]".
std::string shapeText(const std::vector<int64_t> &shape);

// Writes the F32 values of the `count` BF16 or F16 elements (as `dtype`
// names them) at `in` to `out` (every such value is an F32, so nothing
// rounds); returns false, writing nothing, for other dtypes. mp-import
// widens the weights of a model exported in those dtypes with it.
bool widenToF32(const std::string &dtype, const char *in, size_t count,
                char *out);

// Makes a BF16 or F16 tensor the F32 tensor of its values: a checkpoint
// published in 16-bit floats initialises float32 master parameters.
// Returns false, leaving it as it is, for other dtypes.
bool widenToF32(Tensor &tensor);

// Element size in bytes of a safetensors dtype name, or 0 if unknown.
size_t dtypeSize(const std::string &dtype);

// Reads a whole file. As in the reference implementation, the tensors must
// tile the data buffer exactly (no overlap, gap or trailing bytes); the
// metadata is checked and dropped. On failure returns false and sets `error`
// to a message that names the file and, where it applies, the tensor.
// `tensors` is only changed on success.
bool readSafeTensors(const std::string &path,
                     std::map<std::string, Tensor> &tensors,
                     std::string &error);

// A safetensors file read tensor by tensor, for readers that want a few
// tensors of a large file (a checkpoint's rank file): open() checks the
// whole header as readSafeTensors does, without reading the data; read()
// then reads one tensor.
class SafeTensorsFile {
public:
  struct TensorEntry {
    std::string dtype;
    std::vector<int64_t> shape;
    // The tensor's bytes [begin, end) of the data buffer.
    uint64_t begin = 0, end = 0;
  };

  SafeTensorsFile() = default;
  SafeTensorsFile(const SafeTensorsFile &) = delete;
  SafeTensorsFile &operator=(const SafeTensorsFile &) = delete;
  ~SafeTensorsFile();

  // On failure returns false with `error` naming the file and, where it
  // applies, the tensor.
  bool open(const std::string &path, std::string &error);
  const std::map<std::string, TensorEntry> &getEntries() const {
    return entries;
  }
  // Reads tensor `name`; false with `error` naming the file and the tensor
  // when there is none or the read fails.
  bool read(const std::string &name, Tensor &tensor, std::string &error) const;

private:
  int fd = -1;
  std::string path;
  uint64_t dataStart = 0;
  std::map<std::string, TensorEntry> entries;
};

// Writes `tensors`, in the given order, to `path` atomically, as
// writeFileAtomically (AtomicFile.h) does: a reader never sees a partial
// file, and only a regular file (or one a symbolic link names) is replaced.
// Returns false with `error` set on failure (the temporary is removed and
// `path` is left as it was).
bool writeSafeTensors(
    const std::string &path,
    const std::vector<std::pair<std::string, Tensor>> &tensors,
    std::string &error);

} // namespace mp::train

#endif // MP_TRAIN_SAFETENSORS_H
