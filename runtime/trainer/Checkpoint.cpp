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
