#!/usr/bin/env python3
"""Runs a command and sends a signal to a process of it at a known moment.

  signal-when.py MARKER SIGNAL [MARKER SIGNAL]... -- COMMAND...
      Starts COMMAND; for each pair in turn, waits for the file MARKER to
      appear (it holds a process id, as Inputs/pause-before-rename.c and
      Inputs/pause-at-barrier.c write it) and sends SIGNAL (INT, TERM or
      KILL) to that process; then waits for COMMAND to end. Prints
      `exit <status>` (a negative status: the signal that ended COMMAND),
      then COMMAND's output. Fails if a MARKER does not appear or COMMAND
      does not end within a minute.
"""

import os
import signal
import subprocess
import sys
import time


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    dash = sys.argv.index("--")
    pairs, command = sys.argv[1:dash], sys.argv[dash + 1:]
    if not command or not pairs or len(pairs) % 2:
        sys.exit(__doc__)
    process = subprocess.Popen(command, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    for marker, name in zip(pairs[::2], pairs[1::2]):
        while not os.path.exists(marker):
            if process.poll() is not None or time.monotonic() > deadline:
                # Not SIGKILL: mpirun ends its ranks on SIGTERM.
                process.terminate()
                sys.exit(f"signal-when.py: {marker} did not appear; "
                         "output:\n" + process.communicate()[0])
            time.sleep(0.01)
        with open(marker) as f:
            os.kill(int(f.read()), getattr(signal, "SIG" + name))
    try:
        output = process.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        process.terminate()
        sys.exit("signal-when.py: the command did not end within a minute; "
                 "output:\n" + process.communicate()[0])
    print(f"exit {process.returncode}")
    print(output, end="")


if __name__ == "__main__":
    main()
