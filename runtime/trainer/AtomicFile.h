//===- AtomicFile.h - write a file whole or not at all ----------*- C++ -*-===//
//
// The one way the trainer's files are written (--save, checkpoint rank files,
// a checkpoint's index.json and latest): into a temporary file beside the
// target, fsync, rename over the target, fsync of the directory, so that a
// reader sees the old file or the whole new one. Only regular files are
// written: a target that is a device, a FIFO, a socket or a directory is
// refused, and a symbolic link is followed to the regular file it names,
// which is replaced (the link stays). With removeTemporaryOnSignals, SIGINT
// and SIGTERM during a write remove its temporary file (or, the first of
// them, only ask the caller to stop). Plain C++17 and POSIX, no dependency.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRAIN_ATOMICFILE_H
#define MP_TRAIN_ATOMICFILE_H

#include <csignal>
#include <cstddef>
#include <functional>
#include <string>

namespace mp::train {

/// Where a write to `path` lands: `path`, or the regular file that the
/// symbolic link at `path` names. False with `error` naming `path` when an
/// existing target is not a regular file (or a link to one), or when the
/// target's directory is missing, not a directory or not writable.
bool resolveOutputFile(const std::string &path, std::string &target,
                       std::string &error);

/// fsync of a directory, so that the entries created or renamed in it
/// survive a crash.
bool syncDirectory(const std::string &path, std::string &error);

/// Writes `size` bytes; false with errno set otherwise.
bool writeAll(int fd, const char *data, size_t size);

/// Writes the file at `path` atomically (resolved as resolveOutputFile
/// does): `fill` writes the content to the temporary's descriptor and
/// returns false with errno set on failure. On failure returns false with
/// `error` naming the file; the temporary is removed and the target is left
/// as it was.
bool writeFileAtomically(const std::string &path,
                         const std::function<bool(int fd)> &fill,
                         std::string &error);

/// From now on, SIGINT and SIGTERM remove the temporary file of a write in
/// progress, then end the process as they would have (a signal the process
/// ignores stays ignored). With `stop`, the first of them only sets `*stop`
/// to its number, for the caller to stop at a point of its choosing (a
/// write in progress completes); a later one does the above.
void removeTemporaryOnSignals(volatile sig_atomic_t *stop = nullptr);

} // namespace mp::train

#endif // MP_TRAIN_ATOMICFILE_H
