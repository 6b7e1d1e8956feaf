/* Preloaded into mp-train by preemption.test and dead-rank.test, through
 * MPI's profiling interface: on rank r, the n-th call of MPI_Barrier, n
 * being entry r of the comma-separated $PAUSE_AT_BARRIER_CALLS (0: none),
 * first writes the process id to the file $PAUSE_AT_BARRIER.<r>, then
 * waits up to a minute for a signal, so that a test can send one at a
 * moment it knows. mp-train calls MPI_Barrier before each step and as a
 * checkpoint begins. */
#define _GNU_SOURCE
#include <mpi.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int calls;

static int pauseCall(int rank) {
  const char *list = getenv("PAUSE_AT_BARRIER_CALLS");
  for (int r = 0; list && r < rank; ++r)
    if ((list = strchr(list, ',')))
      ++list;
  return list ? atoi(list) : 0;
}

int MPI_Barrier(MPI_Comm comm) {
  const char *marker = getenv("PAUSE_AT_BARRIER");
  int rank = 0;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (marker && ++calls == pauseCall(rank)) {
    /* Blocked until ppoll waits, so that a signal sent as soon as the
     * marker appears is not handled before the wait and then missed. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    /* Written beside it and renamed, so the test never reads half of it. */
    char path[4096], partial[4200];
    snprintf(path, sizeof(path), "%s.%d", marker, rank);
    snprintf(partial, sizeof(partial), "%s.partial", path);
    FILE *file = fopen(partial, "w");
    if (file) {
      fprintf(file, "%d\n", (int)getpid());
      fclose(file);
      rename(partial, path);
    }
    struct timespec minute = {60, 0};
    ppoll(NULL, 0, &minute, &old);
    sigprocmask(SIG_SETMASK, &old, NULL);
  }
  return PMPI_Barrier(comm);
}
