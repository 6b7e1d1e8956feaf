#!/bin/sh
# mpirun with a session directory of its own (lit's %mpirun). Open MPI keeps
# a job's files under $TMPDIR/ompi.<host>.<uid>/ and removes that directory
# when a job ends and finds it empty, so two jobs that start and end at
# once (lit's workers) race: one removes it while the other creates its
# entry there ("A call to mkdir was unable to create the desired
# directory", orte_init failed; seen in mp-train-errors.test). A directory
# per job, under lit's TMPDIR (which lit removes), is shared by no one.
# exec: signals sent to this process reach mpirun (preemption.test).
dir=$(mktemp -d "${TMPDIR:-/tmp}/mp-mpirun.XXXXXX") || exit 1
exec mpirun --mca orte_tmpdir_base "$dir" "$@"
