#!/usr/bin/env python3
"""Runs the shell commands a documentation page shows, as they are written.

  run_doc_commands.py PAGE.md WORKDIR [--skip-block N ...]

Every ```sh block of PAGE.md, in order, with backslash continuations
joined, runs in WORKDIR under `bash -euo pipefail`; the test lays out
WORKDIR as a checkout (examples/, scripts/, build/bin). Prints each
command before it runs and, at the end, how many ran. A failing command
fails the whole run, so a page whose commands drift from the tools fails
its test.
"""

import argparse
import os
import re
import subprocess
import sys


def blocks(text):
    return re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)


def environment(line):
    """The command's environment: under a sanitized build, no leak
    detection for commands that launch MPI ranks, as lit.cfg.py's %mpirun
    (Open MPI and NCCL leave allocations unfreed at exit)."""
    env = dict(os.environ)
    launches = "mpirun" in line or "scripts/run-" in line
    if launches and "detect_leaks=1" in env.get("ASAN_OPTIONS", ""):
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("detect_leaks=1",
                                                          "detect_leaks=0")
    return env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("workdir")
    parser.add_argument("--skip-block", type=int, action="append", default=[],
                        help="1-based index of a block not to run")
    args = parser.parse_args()
    with open(args.page) as f:
        found = blocks(f.read())
    commands = 0
    for index, block in enumerate(found, 1):
        if index in args.skip_block:
            print(f"block {index}: skipped")
            continue
        script = block.replace("\\\n", " ")
        lines = [line for line in script.splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        for line in lines:
            print(f"$ {line}", flush=True)
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", line],
                                  cwd=args.workdir, env=environment(line))
            if done.returncode != 0:
                sys.exit(f"run_doc_commands.py: block {index} of {args.page}: "
                         f"'{line}' exited with {done.returncode}")
            commands += 1
    print(f"doc commands: {commands} ran from {len(found)} blocks")


if __name__ == "__main__":
    main()
