//===- AtomicFile.cpp - write a file whole or not at all ------------------===//

#include "AtomicFile.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>

using namespace mp::train;

namespace {

// The temporary file of the write in progress, for the signal handler, which
// may only call async-signal-safe functions: a copy in a fixed buffer, and a
// flag the writer sets once the copy is complete.
char pendingTemporary[PATH_MAX];
std::atomic<bool> hasPendingTemporary{false};
static_assert(std::atomic<bool>::is_always_lock_free,
              "the signal handler reads the flag");

const int removingSignals[] = {SIGINT, SIGTERM};
struct sigaction previousActions[std::size(removingSignals)];
/// Where the first signal is recorded, when the caller stops by itself.
volatile sig_atomic_t *stopRequest = nullptr;

extern "C" void removeTemporaryAndReraise(int signal) {
  int savedErrno = errno;
  if (stopRequest && *stopRequest == 0) {
    *stopRequest = signal;
    errno = savedErrno;
    return;
  }
  if (hasPendingTemporary)
    unlink(pendingTemporary);
  // The signal is blocked while its handler runs: raised again under the
  // previous action, it takes effect (ends the process, by default) as the
  // handler returns.
  for (size_t i = 0; i < std::size(removingSignals); ++i)
    if (removingSignals[i] == signal)
      sigaction(signal, &previousActions[i], nullptr);
  raise(signal);
  errno = savedErrno;
}

/// Names the temporary for the signal handler; a name too long to copy
/// cannot have been created either.
void setPendingTemporary(const std::string &temporary) {
  if (temporary.size() >= sizeof(pendingTemporary))
    return;
  std::memcpy(pendingTemporary, temporary.c_str(), temporary.size() + 1);
  hasPendingTemporary = true;
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

const char *describeFileType(mode_t mode) {
  return S_ISDIR(mode)    ? "a directory"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
         : S_ISFIFO(mode) ? "a FIFO"
         : S_ISSOCK(mode) ? "a socket"
                          : "not a regular file";
}

} // namespace

bool mp::train::resolveOutputFile(const std::string &path, std::string &target,
                                  std::string &error) {
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  target = path;
  struct stat status;
  if (lstat(path.c_str(), &status) == 0 && S_ISLNK(status.st_mode)) {
    char *resolved = realpath(path.c_str(), nullptr);
    if (!resolved)
      return fail(std::string("is a symbolic link to no file (") +
                  std::strerror(errno) + ")");
    target = resolved;
    std::free(resolved);
  }
  if (stat(target.c_str(), &status) == 0) {
    if (!S_ISREG(status.st_mode))
      return fail(std::string("is ") + describeFileType(status.st_mode) +
                  ", not a regular file (only regular files are written)");
  } else if (errno != ENOENT && errno != ENOTDIR) {
    return fail(std::string("cannot stat: ") + std::strerror(errno));
  }
  std::string directory = directoryOf(target);
  if (stat(directory.c_str(), &status) != 0)
    return fail("the directory '" + directory + "' " +
                (errno == ENOENT
                     ? std::string("does not exist")
                     : "cannot be read: " + std::string(std::strerror(errno))));
  if (!S_ISDIR(status.st_mode))
    return fail("'" + directory + "' is not a directory");
  if (access(directory.c_str(), W_OK | X_OK) != 0)
    return fail("cannot write in the directory '" + directory +
                "': " + std::strerror(errno));
  return true;
}

bool mp::train::syncDirectory(const std::string &path, std::string &error) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    error = path + ": cannot sync the directory: " + std::strerror(errno);
    if (fd >= 0)
      close(fd);
    return false;
  }
  close(fd);
  return true;
}

bool mp::train::writeAll(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t put = write(fd, data, size);
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      return false;
    if (put == 0) {
      // write() made no progress without saying why; call it an I/O error.
      errno = EIO;
      return false;
    }
    data += put;
    size -= put;
  }
  return true;
}

bool mp::train::writeFileAtomically(const std::string &path,
                                    const std::function<bool(int fd)> &fill,
                                    std::string &error) {
  std::string target;
  if (!resolveOutputFile(path, target, error))
    return false;
  // The temporary is named after the target so that it lands in the same
  // directory (rename() cannot cross file systems); the process id and a
  // counter keep concurrent writers apart, and O_EXCL keeps them from
  // sharing one if the names still collide.
  static std::atomic<unsigned> counter{0};
  std::string temporary;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temporary = target + ".tmp." + std::to_string(getpid()) + "." +
                std::to_string(counter++);
    fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0) {
    error = path + ": cannot create the temporary file '" + temporary +
            "': " + std::strerror(errno);
    return false;
  }
  setPendingTemporary(temporary);

  // The first failure, in errno's words; later steps still run where they
  // must (close) and are skipped where they must not (rename).
  std::string failure;
  auto check = [&](bool done, const char *what) {
    if (!done && failure.empty())
      failure =
          std::string(what) + " '" + temporary + "': " + std::strerror(errno);
    return done;
  };
  // fsync before rename so that after a crash the name points at either the
  // old file or the whole new one, never at a file whose data is missing.
  bool ok =
      check(fill(fd), "cannot write") && check(fsync(fd) == 0, "cannot sync");
  ok = check(close(fd) == 0, "cannot close") && ok;
  ok = ok &&
       check(rename(temporary.c_str(), target.c_str()) == 0, "cannot rename");
  if (!ok)
    unlink(temporary.c_str());
  hasPendingTemporary = false;
  if (!ok) {
    error = path + ": " + failure;
    return false;
  }
  return syncDirectory(directoryOf(target), error);
}

void mp::train::removeTemporaryOnSignals(volatile sig_atomic_t *stop) {
  stopRequest = stop;
  for (size_t i = 0; i < std::size(removingSignals); ++i) {
    struct sigaction action = {};
    action.sa_handler = removeTemporaryAndReraise;
    // The process goes on after a first signal that only asks it to stop:
    // a write to a pipe (stdout under mpirun) it interrupted is resumed
    // rather than failing with EINTR.
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(removingSignals[i], nullptr, &previousActions[i]) != 0 ||
        ((previousActions[i].sa_flags & SA_SIGINFO) == 0 &&
         previousActions[i].sa_handler == SIG_IGN))
      continue;
    sigaction(removingSignals[i], &action, nullptr);
  }
}
