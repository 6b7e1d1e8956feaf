/* Preloaded into mp-train by save-targets.test: rename() of a temporary
 * file (a name holding ".tmp.") first writes the process id to the file
 * $PAUSE_BEFORE_RENAME names, then waits a minute, so that the test can
 * send a signal while a save is in progress, at a moment it knows. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *from, const char *to) {
  int (*realRename)(const char *, const char *) =
      (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  const char *marker = getenv("PAUSE_BEFORE_RENAME");
  if (marker && strstr(from, ".tmp.")) {
    /* Written beside it and renamed, so the test never reads half of it. */
    char partial[4096];
    snprintf(partial, sizeof(partial), "%s.partial", marker);
    FILE *file = fopen(partial, "w");
    if (file) {
      fprintf(file, "%d\n", (int)getpid());
      fclose(file);
      realRename(partial, marker);
    }
    sleep(60);
  }
  return realRename(from, to);
}
