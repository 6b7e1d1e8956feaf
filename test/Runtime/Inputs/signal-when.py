#!/usr/bin/env python3
"""Runs a command and sends a signal to a process of it at a known moment.

  signal-when.py MARKER SIGNAL -- COMMAND...
      Starts COMMAND, waits for the file MARKER to appear (it holds a
      process id, as Inputs/pause-before-rename.c writes it), sends SIGNAL
      (INT or TERM) to that process and waits for COMMAND to end. Prints
      `exit non-zero` or `exit 0`, then COMMAND's output. Fails if MARKER
      does not appear or COMMAND does not end within a minute.
"""

import os
import signal
import subprocess
import sys
import time


def main():
    marker, name, dash, command = (sys.argv[1], sys.argv[2], sys.argv[3],
                                   sys.argv[4:])
    if dash != "--" or not command:
        sys.exit(__doc__)
    process = subprocess.Popen(command, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(marker):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            sys.exit(f"signal-when.py: {marker} did not appear; output:\n" +
                     process.communicate()[0])
        time.sleep(0.01)
    with open(marker) as f:
        os.kill(int(f.read()), getattr(signal, "SIG" + name))
    output = process.communicate(timeout=60)[0]
    print("exit " + ("0" if process.returncode == 0 else "non-zero"))
    print(output, end="")


if __name__ == "__main__":
    main()
