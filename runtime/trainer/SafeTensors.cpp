//===- SafeTensors.cpp - read and write safetensors files -----------------===//
//
// Reading parses the header with a small strict JSON parser that knows only
// what a safetensors header may hold (objects, arrays, strings, integers),
// checks every entry against the format and the size of the data buffer,
// and only then allocates and reads the tensors. Like the reference
// implementation, it requires the tensors to tile the data buffer exactly:
// no overlaps, no gaps, nothing after the last one.
//
//===----------------------------------------------------------------------===//

#include "SafeTensors.h"
#include "../src/Elementwise.h"
#include "AtomicFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

using namespace mp::train;

namespace {

// The reference implementation's limit; real headers are kilobytes, and the
// limit keeps a corrupt length from asking for gigabytes.
constexpr uint64_t maxHeaderSize = 100000000;
// A header nests three levels; the bound keeps a hostile header from
// recursing the parser off the end of the stack.
constexpr int maxJsonDepth = 64;

// The number of elements and bytes of `shape` with elements of `elementSize`
// bytes; false with `why` set if a dim is negative or a product overflows.
bool countBytes(const std::vector<int64_t> &shape, size_t elementSize,
                uint64_t &elements, uint64_t &bytes, std::string &why) {
  elements = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      why = "shape " + shapeText(shape) + " has a negative dim";
      return false;
    }
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(dim),
                               &elements) ||
        elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      why = "shape " + shapeText(shape) + " has more than 2^63 elements";
      return false;
    }
  }
  if (__builtin_mul_overflow(elements, static_cast<uint64_t>(elementSize),
                             &bytes) ||
      bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    why = "shape " + shapeText(shape) + " needs more than 2^63 bytes";
    return false;
  }
  return true;
}

// The offset of the first byte that is not valid UTF-8, or text.size().
size_t firstInvalidUtf8(const std::string &text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    size_t length;
    uint32_t code;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      length = 2;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4;
      code = c & 0x07;
    } else {
      return i;
    }
    if (text.size() - i < length)
      return i;
    for (size_t k = 1; k < length; ++k) {
      unsigned char next = text[i + k];
      if ((next & 0xc0) != 0x80)
        return i;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong encodings, surrogates and code points past U+10FFFF are
    // invalid UTF-8 even when the bytes are well formed.
    static const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10ffff ||
        (code >= 0xd800 && code <= 0xdfff))
      return i;
    i += length;
  }
  return i;
}

// A name or string as it goes into a message: quoted, with control bytes
// (and every byte from 0x80 up, if the text is not valid UTF-8) spelled out
// so that a message stays one valid line.
std::string quote(const std::string &text) {
  bool utf8 = firstInvalidUtf8(text) == text.size();
  std::string out = "'";
  for (char c : text) {
    unsigned char byte = c;
    if (byte < 0x20 || byte == 0x7f || (byte >= 0x80 && !utf8)) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", byte);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "'";
}

void appendUtf8(std::string &out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

const char *kindName(JsonValue::Kind kind) {
  switch (kind) {
  case JsonValue::Kind::Object:
    return "an object";
  case JsonValue::Kind::Array:
    return "an array";
  case JsonValue::Kind::String:
    return "a string";
  case JsonValue::Kind::Integer:
    return "an integer";
  }
  return "a value";
}

// A strict parser of the JSON a safetensors header may hold: objects,
// arrays, strings with every JSON escape, and integers that fit in int64.
// Anything else (true, false, null, fractions, exponents, trailing commas)
// is an error naming the byte offset in the header.
class JsonParser {
public:
  explicit JsonParser(const std::string &text,
                      const char *where = "header byte")
      : text(text), where(where) {}

  // Parses the whole text as one value followed only by whitespace.
  bool parse(JsonValue &value, std::string &error) {
    bool ok = parseValue(value, 0);
    if (ok) {
      skipWhitespace();
      if (pos != text.size())
        ok = fail("unexpected " + found() + " after the header's object");
    }
    if (!ok)
      error = message;
    return ok;
  }

private:
  bool fail(const std::string &what) {
    message = std::string(where) + " " + std::to_string(pos) + ": " + what;
    return false;
  }

  std::string found() const {
    if (pos >= text.size())
      return "end of header";
    unsigned char c = text[pos];
    if (c >= 0x20 && c < 0x7f)
      return std::string("'") + static_cast<char>(c) + "'";
    char hex[16];
    std::snprintf(hex, sizeof(hex), "byte 0x%02x", c);
    return hex;
  }

  void skipWhitespace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  bool consume(char c) {
    skipWhitespace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  bool parseValue(JsonValue &value, int depth) {
    if (depth > maxJsonDepth)
      return fail("nested deeper than " + std::to_string(maxJsonDepth) +
                  " levels");
    skipWhitespace();
    char c = pos < text.size() ? text[pos] : '\0';
    if (c == '{')
      return parseObject(value, depth);
    if (c == '[')
      return parseArray(value, depth);
    if (c == '"') {
      value.kind = JsonValue::Kind::String;
      return parseString(value.string);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      value.kind = JsonValue::Kind::Integer;
      return parseInteger(value.integer);
    }
    return fail("expected an object, array, string or integer, found " +
                found());
  }

  bool parseObject(JsonValue &value, int depth) {
    value.kind = JsonValue::Kind::Object;
    ++pos;
    if (consume('}'))
      return true;
    do {
      skipWhitespace();
      if (pos >= text.size() || text[pos] != '"')
        return fail("expected a string key, found " + found());
      std::string key;
      if (!parseString(key))
        return false;
      if (!consume(':'))
        return fail("expected ':' after a key, found " + found());
      JsonValue member;
      if (!parseValue(member, depth + 1))
        return false;
      value.members.emplace_back(std::move(key), std::move(member));
    } while (consume(','));
    if (!consume('}'))
      return fail("expected ',' or '}' in an object, found " + found());
    return true;
  }

  bool parseArray(JsonValue &value, int depth) {
    value.kind = JsonValue::Kind::Array;
    ++pos;
    if (consume(']'))
      return true;
    do {
      JsonValue element;
      if (!parseValue(element, depth + 1))
        return false;
      value.elements.push_back(std::move(element));
    } while (consume(','));
    if (!consume(']'))
      return fail("expected ',' or ']' in an array, found " + found());
    return true;
  }

  bool parseHex4(uint32_t &code) {
    code = 0;
    for (int i = 0; i < 4; ++i, ++pos) {
      char c = pos < text.size() ? text[pos] : '\0';
      int digit;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      else
        return fail("expected 4 hex digits after \\u, found " + found());
      code = code * 16 + digit;
    }
    return true;
  }

  // The text is already known to be valid UTF-8, so bytes from 0x80 up are
  // copied as they are.
  bool parseString(std::string &out) {
    ++pos;
    while (true) {
      if (pos >= text.size())
        return fail("unterminated string");
      unsigned char c = text[pos];
      if (c == '"') {
        ++pos;
        return true;
      }
      if (c < 0x20)
        return fail("unescaped control character " + found() + " in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos;
        continue;
      }
      ++pos;
      char escape = pos < text.size() ? text[pos] : '\0';
      static const char escapes[] = "\"\\/bfnrt";
      static const char replacements[] = "\"\\/\b\f\n\r\t";
      const char *simple = std::strchr(escapes, escape);
      if (escape != '\0' && simple) {
        out += replacements[simple - escapes];
        ++pos;
        continue;
      }
      if (escape != 'u')
        return fail("invalid escape \\" +
                    (escape ? std::string(1, escape) : std::string()) +
                    " in a string");
      ++pos;
      uint32_t code;
      if (!parseHex4(code))
        return false;
      if (code >= 0xdc00 && code <= 0xdfff)
        return fail("lone low surrogate \\u escape in a string");
      if (code >= 0xd800 && code <= 0xdbff) {
        if (text.compare(pos, 2, "\\u") != 0)
          return fail("high surrogate \\u escape without a low one");
        pos += 2;
        uint32_t low;
        if (!parseHex4(low))
          return false;
        if (low < 0xdc00 || low > 0xdfff)
          return fail("high surrogate \\u escape without a low one");
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      }
      appendUtf8(out, code);
    }
  }

  bool parseInteger(int64_t &out) {
    bool negative = text[pos] == '-';
    if (negative)
      ++pos;
    if (pos >= text.size() || text[pos] < '0' || text[pos] > '9')
      return fail("expected a digit, found " + found());
    if (text[pos] == '0' && pos + 1 < text.size() && text[pos + 1] >= '0' &&
        text[pos + 1] <= '9')
      return fail("a number with a leading zero");
    uint64_t limit =
        static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + negative;
    uint64_t magnitude = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      uint64_t digit = text[pos] - '0';
      if (magnitude > (limit - digit) / 10)
        return fail("integer does not fit in 64 bits");
      magnitude = magnitude * 10 + digit;
      ++pos;
    }
    if (pos < text.size() &&
        (text[pos] == '.' || text[pos] == 'e' || text[pos] == 'E'))
      return fail("a number that is not an integer (a safetensors header "
                  "holds only integers)");
    out = negative ? static_cast<int64_t>(0 - magnitude)
                   : static_cast<int64_t>(magnitude);
    return true;
  }

  const std::string &text;
  const char *where;
  size_t pos = 0;
  std::string message;
};

// One tensor's entry in the header, checked.
struct Entry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

bool checkMetadata(const JsonValue &metadata, std::string &error) {
  if (metadata.kind != JsonValue::Kind::Object) {
    error = "__metadata__ is " + std::string(kindName(metadata.kind)) +
            ", expected an object of strings";
    return false;
  }
  std::set<std::string> keys;
  for (const auto &[key, value] : metadata.members) {
    if (!keys.insert(key).second) {
      error = "__metadata__: key " + quote(key) + " appears twice";
      return false;
    }
    if (value.kind != JsonValue::Kind::String) {
      error = "__metadata__: " + quote(key) + " is " + kindName(value.kind) +
              ", expected a string";
      return false;
    }
  }
  return true;
}

// Checks one tensor's entry; the message it sets does not yet name the
// tensor.
bool checkEntry(const JsonValue &value, uint64_t bufferSize, Entry &entry,
                std::string &error) {
  if (value.kind != JsonValue::Kind::Object) {
    error = std::string("entry is ") + kindName(value.kind) +
            ", expected an object with dtype, shape and data_offsets";
    return false;
  }
  const JsonValue *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const auto &[key, member] : value.members) {
    const JsonValue **slot = key == "dtype"          ? &dtype
                             : key == "shape"        ? &shape
                             : key == "data_offsets" ? &offsets
                                                     : nullptr;
    if (!slot) {
      error = "unknown key " + quote(key);
      return false;
    }
    if (*slot) {
      error = "key " + quote(key) + " appears twice";
      return false;
    }
    *slot = &member;
  }
  if (!dtype || !shape || !offsets) {
    error = std::string("missing '") +
            (!dtype   ? "dtype"
             : !shape ? "shape"
                      : "data_offsets") +
            "'";
    return false;
  }

  if (dtype->kind != JsonValue::Kind::String) {
    error = std::string("dtype is ") + kindName(dtype->kind) +
            ", expected a string";
    return false;
  }
  entry.dtype = dtype->string;
  size_t elementSize = dtypeSize(entry.dtype);
  if (elementSize == 0) {
    error = "unknown dtype " + quote(entry.dtype);
    return false;
  }

  if (shape->kind != JsonValue::Kind::Array) {
    error = std::string("shape is ") + kindName(shape->kind) +
            ", expected an array of integers";
    return false;
  }
  for (size_t i = 0; i < shape->elements.size(); ++i) {
    const JsonValue &dim = shape->elements[i];
    if (dim.kind != JsonValue::Kind::Integer || dim.integer < 0) {
      error = "shape entry " + std::to_string(i) + " is " +
              (dim.kind == JsonValue::Kind::Integer
                   ? std::to_string(dim.integer)
                   : std::string(kindName(dim.kind))) +
              ", expected a non-negative integer";
      return false;
    }
    entry.shape.push_back(dim.integer);
  }
  uint64_t elements, bytes;
  if (!countBytes(entry.shape, elementSize, elements, bytes, error))
    return false;

  if (offsets->kind != JsonValue::Kind::Array ||
      offsets->elements.size() != 2 ||
      offsets->elements[0].kind != JsonValue::Kind::Integer ||
      offsets->elements[1].kind != JsonValue::Kind::Integer) {
    error = "data_offsets must be an array of two integers";
    return false;
  }
  int64_t begin = offsets->elements[0].integer;
  int64_t end = offsets->elements[1].integer;
  std::string range = "data_offsets [" + std::to_string(begin) + ", " +
                      std::to_string(end) + ")";
  if (begin < 0 || end < 0) {
    error = range + " must not be negative";
    return false;
  }
  if (end < begin) {
    error = range + " are out of order";
    return false;
  }
  if (static_cast<uint64_t>(end) > bufferSize) {
    error = range + " run past the end of the data buffer (" +
            std::to_string(bufferSize) + " bytes)";
    return false;
  }
  if (static_cast<uint64_t>(end - begin) != bytes) {
    error = range + " hold " + std::to_string(end - begin) +
            " bytes but shape " + shapeText(entry.shape) + " of " +
            entry.dtype + " needs " + std::to_string(bytes);
    return false;
  }
  entry.begin = begin;
  entry.end = end;
  return true;
}

// Checks the parsed header against the format and a data buffer of
// `bufferSize` bytes.
bool checkHeader(const JsonValue &root, uint64_t bufferSize,
                 std::vector<Entry> &entries, std::string &error) {
  if (root.kind != JsonValue::Kind::Object) {
    error = std::string("header is ") + kindName(root.kind) +
            ", expected an object";
    return false;
  }
  std::set<std::string> names;
  for (const auto &[name, value] : root.members) {
    if (!names.insert(name).second) {
      error = name == "__metadata__"
                  ? "__metadata__ appears twice"
                  : "tensor " + quote(name) + " is listed twice";
      return false;
    }
    if (name == "__metadata__") {
      if (!checkMetadata(value, error))
        return false;
      continue;
    }
    Entry entry;
    entry.name = name;
    if (!checkEntry(value, bufferSize, entry, error)) {
      error = "tensor " + quote(name) + ": " + error;
      return false;
    }
    entries.push_back(std::move(entry));
  }

  std::vector<const Entry *> byOffset;
  for (const Entry &entry : entries)
    byOffset.push_back(&entry);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const Entry *a, const Entry *b) {
              return std::make_pair(a->begin, a->end) <
                     std::make_pair(b->begin, b->end);
            });
  uint64_t covered = 0;
  const Entry *previous = nullptr;
  for (const Entry *entry : byOffset) {
    if (entry->begin < covered) {
      error = "tensor " + quote(entry->name) + " (data_offsets [" +
              std::to_string(entry->begin) + ", " + std::to_string(entry->end) +
              ")) overlaps tensor " + quote(previous->name) +
              " (data_offsets [" + std::to_string(previous->begin) + ", " +
              std::to_string(previous->end) + "))";
      return false;
    }
    if (entry->begin > covered) {
      error = "data buffer bytes [" + std::to_string(covered) + ", " +
              std::to_string(entry->begin) +
              ") belong to no tensor (tensors must be packed)";
      return false;
    }
    covered = entry->end;
    previous = entry;
  }
  if (covered != bufferSize) {
    error = "data buffer bytes [" + std::to_string(covered) + ", " +
            std::to_string(bufferSize) +
            ") after the last tensor belong to no tensor";
    return false;
  }
  return true;
}

// Reads exactly `size` bytes at `offset`; false with `error` set otherwise.
bool readAt(int fd, char *data, uint64_t size, uint64_t offset,
            std::string &error) {
  while (size > 0) {
    ssize_t got = pread(fd, data, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      error = got < 0 ? std::string("read failed: ") + std::strerror(errno)
                      : "file ended early (did it change while being read?)";
      return false;
    }
    data += got;
    size -= got;
    offset += got;
  }
  return true;
}

// `text` as a JSON string literal.
std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\u%04x",
                    static_cast<unsigned>(c));
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The header a writer puts down for `tensors`, padded with spaces so the
// data buffer starts 8-byte aligned; false with `error` set if a tensor is
// one the reader would refuse.
bool buildHeader(const std::vector<std::pair<std::string, Tensor>> &tensors,
                 std::string &header, std::string &error) {
  std::set<std::string> names;
  uint64_t offset = 0;
  header = "{";
  for (const auto &[name, tensor] : tensors) {
    std::string where = "tensor " + quote(name) + ": ";
    if (name == "__metadata__") {
      error = where + "the name is reserved for the file's metadata";
      return false;
    }
    if (firstInvalidUtf8(name) != name.size()) {
      error = where + "the name is not valid UTF-8";
      return false;
    }
    if (!names.insert(name).second) {
      error = where + "listed twice";
      return false;
    }
    size_t elementSize = dtypeSize(tensor.dtype);
    if (elementSize == 0) {
      error = where + "unknown dtype " + quote(tensor.dtype);
      return false;
    }
    uint64_t elements, bytes;
    if (!countBytes(tensor.shape, elementSize, elements, bytes, error)) {
      error = where + error;
      return false;
    }
    if (tensor.bytes.size() != bytes) {
      error = where + "holds " + std::to_string(tensor.bytes.size()) +
              " bytes but shape " + shapeText(tensor.shape) + " of " +
              tensor.dtype + " needs " + std::to_string(bytes);
      return false;
    }
    std::string shape;
    for (size_t i = 0; i < tensor.shape.size(); ++i)
      shape += (i ? "," : "") + std::to_string(tensor.shape[i]);
    header += (header.size() > 1 ? "," : "") + jsonString(name) +
              ":{\"dtype\":" + jsonString(tensor.dtype) + ",\"shape\":[" +
              shape + "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  return true;
}

} // namespace

bool mp::train::parseJson(const std::string &text, JsonValue &value,
                          std::string &error) {
  return JsonParser(text, "byte").parse(value, error);
}

std::string mp::train::shapeText(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

int64_t Tensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

namespace {
// An IEEE half (1 sign, 5 exponent, 10 fraction bits) as the float of the
// same value.
float fromHalfBits(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exponent = bits >> 10 & 0x1fu, fraction = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: fraction * 2^-24, exact in a float.
    float magnitude = std::ldexp(float(fraction), -24);
    return sign ? -magnitude : magnitude;
  }
  // Infinities and NaNs keep an all-ones exponent; normals rebias 15 to 127.
  uint32_t wide = sign | (exponent == 0x1fu ? 0xffu : exponent + 112u) << 23 |
                  fraction << 13;
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}
} // namespace

bool mp::train::widenToF32(const std::string &dtype, const char *in,
                           size_t count, char *out) {
  float (*widen)(uint16_t) = dtype == "BF16"  ? runtime::fromBFloat16Bits
                             : dtype == "F16" ? fromHalfBits
                                              : nullptr;
  if (!widen)
    return false;
  for (size_t i = 0; i < count; ++i) {
    uint16_t bits;
    std::memcpy(&bits, in + i * sizeof bits, sizeof bits);
    float value = widen(bits);
    std::memcpy(out + i * sizeof value, &value, sizeof value);
  }
  return true;
}

bool mp::train::widenToF32(Tensor &tensor) {
  size_t count = tensor.bytes.size() / sizeof(uint16_t);
  std::vector<char> wide(count * sizeof(float));
  if (!widenToF32(tensor.dtype, tensor.bytes.data(), count, wide.data()))
    return false;
  tensor.dtype = "F32";
  tensor.bytes = std::move(wide);
  return true;
}

size_t mp::train::dtypeSize(const std::string &dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8},
  };
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

SafeTensorsFile::~SafeTensorsFile() {
  if (fd >= 0)
    close(fd);
}

bool SafeTensorsFile::open(const std::string &path, std::string &error) {
  auto failWith = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  if (fd >= 0)
    close(fd);
  this->path = path;
  entries.clear();
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return failWith(std::string("cannot open: ") + std::strerror(errno));

  struct stat status;
  if (fstat(fd, &status) != 0)
    return failWith(std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(status.st_mode))
    return failWith("not a regular file");
  uint64_t fileSize = status.st_size;
  if (fileSize < 8)
    return failWith("file is " + std::to_string(fileSize) +
                    " bytes, too short for the 8-byte header length");

  unsigned char lengthBytes[8];
  std::string why;
  if (!readAt(fd, reinterpret_cast<char *>(lengthBytes), 8, 0, why))
    return failWith(why);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | lengthBytes[i];
  if (headerSize > maxHeaderSize)
    return failWith("header length " + std::to_string(headerSize) +
                    " is over the limit of " + std::to_string(maxHeaderSize) +
                    " bytes");
  if (headerSize > fileSize - 8)
    return failWith("header length " + std::to_string(headerSize) +
                    " runs past the end of the file (" +
                    std::to_string(fileSize) + " bytes)");

  std::string header(headerSize, '\0');
  if (!readAt(fd, header.data(), headerSize, 8, why))
    return failWith(why);
  size_t invalid = firstInvalidUtf8(header);
  if (invalid != header.size())
    return failWith("header byte " + std::to_string(invalid) +
                    ": invalid UTF-8");
  if (header.empty() || header[0] != '{')
    return failWith("header does not start with '{'");
  JsonValue root;
  if (!JsonParser(header).parse(root, why))
    return failWith(why);

  dataStart = 8 + headerSize;
  std::vector<Entry> checked;
  if (!checkHeader(root, fileSize - dataStart, checked, why))
    return failWith(why);
  for (Entry &entry : checked)
    entries[entry.name] = {std::move(entry.dtype), std::move(entry.shape),
                           entry.begin, entry.end};
  return true;
}

bool SafeTensorsFile::read(const std::string &name, Tensor &tensor,
                           std::string &error) const {
  auto entry = entries.find(name);
  if (entry == entries.end()) {
    error = path + ": no tensor " + quote(name);
    return false;
  }
  const TensorEntry &found = entry->second;
  tensor.dtype = found.dtype;
  tensor.shape = found.shape;
  tensor.bytes.resize(found.end - found.begin);
  std::string why;
  if (!readAt(fd, tensor.bytes.data(), tensor.bytes.size(),
              dataStart + found.begin, why)) {
    error = path + ": tensor " + quote(name) + ": " + why;
    return false;
  }
  return true;
}

bool mp::train::readSafeTensors(const std::string &path,
                                std::map<std::string, Tensor> &tensors,
                                std::string &error) {
  SafeTensorsFile file;
  if (!file.open(path, error))
    return false;
  std::map<std::string, Tensor> result;
  for (const auto &entry : file.getEntries())
    if (!file.read(entry.first, result[entry.first], error))
      return false;
  tensors = std::move(result);
  return true;
}

bool mp::train::writeSafeTensors(
    const std::string &path,
    const std::vector<std::pair<std::string, Tensor>> &tensors,
    std::string &error) {
  std::string header;
  if (!buildHeader(tensors, header, error)) {
    error = path + ": " + error;
    return false;
  }

  char lengthBytes[8];
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  return writeFileAtomically(
      path,
      [&](int fd) {
        bool ok = writeAll(fd, lengthBytes, 8) &&
                  writeAll(fd, header.data(), header.size());
        for (size_t i = 0; ok && i < tensors.size(); ++i)
          ok = writeAll(fd, tensors[i].second.bytes.data(),
                        tensors[i].second.bytes.size());
        return ok;
      },
      error);
}
