/* Preloaded into mp-train by save-targets.test and preemption.test:
 * rename() of a temporary file (a name holding ".tmp.") first writes the
 * process id to the file $PAUSE_BEFORE_RENAME names, then waits up to a
 * minute for a signal, so that the test can send one while a save is in
 * progress, at a moment it knows. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int rename(const char *from, const char *to) {
  int (*realRename)(const char *, const char *) =
      (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  const char *marker = getenv("PAUSE_BEFORE_RENAME");
  if (marker && strstr(from, ".tmp.")) {
    /* Blocked until ppoll waits, so that a signal sent as soon as the
     * marker appears is not handled before the wait and then missed. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    /* Written beside it and renamed, so the test never reads half of it. */
    char partial[4096];
    snprintf(partial, sizeof(partial), "%s.partial", marker);
    FILE *file = fopen(partial, "w");
    if (file) {
      fprintf(file, "%d\n", (int)getpid());
      fclose(file);
      realRename(partial, marker);
    }
    struct timespec minute = {60, 0};
    ppoll(NULL, 0, &minute, &old);
    sigprocmask(SIG_SETMASK, &old, NULL);
  }
  return realRename(from, to);
}
