#!/usr/bin/env python3
"""Mutation testing: plants one-line bugs one at a time and runs the suite.

Each mutant (scripts/mutants.json) names a file, a text that occurs exactly
once in it (one line, or a few when the line alone is not unique: the bug
itself is a one-line change), and its replacement. The work tree is copied to a
scratch directory (tracked and untracked files that git does not ignore;
no build/), built there in its own build directory, and the suite must be
green before any mutant is planted. Then, for each mutant: plant, rebuild
incrementally, run `lit -q`, revert. A mutant that leaves the suite green
SURVIVED: some test should have caught it. One that does not compile is
reported apart (a broken mutant, not a caught bug).

The scratch directory is kept between runs, so a second run rebuilds only
what changed; ccache (with CCACHE_BASEDIR set to the scratch copy) makes the
revert builds cache hits. A developer's tool, not part of CI:

  scripts/mutate.py [--mutants scripts/mutants.json] [--scratch DIR]
                    [--only NAME ...] [--lit PATH]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None, timeout=None, quiet=True):
    out = subprocess.PIPE if quiet else None
    try:
        proc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "timed out after %ss" % timeout
    return proc.returncode, proc.stdout or ""


def sync_tree(scratch):
    """Copies the files git would see into `scratch`, touching only those
    whose contents differ so that ninja rebuilds only what changed. A copy
    gets the time it is made, not the source's: a file edited before the
    scratch copy's last build would otherwise look older than its
    objects, and ninja would keep them."""
    files = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "-z"],
        stdout=subprocess.PIPE, check=True).stdout.decode().split("\0")
    copied = 0
    for rel in filter(None, files):
        src = os.path.join(ROOT, rel)
        dst = os.path.join(scratch, rel)
        if not os.path.isfile(src) or os.path.islink(src):
            continue
        with open(src, "rb") as f:
            data = f.read()
        if os.path.exists(dst):
            with open(dst, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        shutil.copymode(src, dst)
        copied += 1
    return copied


def plant(scratch, mutant):
    """Returns the file's original text after writing the mutant into it."""
    path = os.path.join(scratch, mutant["file"])
    with open(path) as f:
        original = f.read()
    if original.count(mutant["find"]) != 1:
        raise ValueError("%s: %r occurs %d times; need exactly once"
                         % (mutant["file"], mutant["find"],
                            original.count(mutant["find"])))
    with open(path, "w") as f:
        f.write(original.replace(mutant["find"], mutant["replace"]))
    return original


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mutants",
                        default=os.path.join(ROOT, "scripts", "mutants.json"))
    parser.add_argument("--scratch", default="/tmp/mp-mutate")
    parser.add_argument("--only", nargs="*", help="mutant names to run")
    parser.add_argument("--lit", help="lit to run (default: the one CMake "
                        "found, LLVM_EXTERNAL_LIT, as check-mp uses)")
    parser.add_argument("--timeout", type=int, default=900,
                        help="seconds for one suite run; past it: killed")
    args = parser.parse_args()

    with open(args.mutants) as f:
        mutants = json.load(f)
    if args.only:
        mutants = [m for m in mutants if m["name"] in args.only]
    scratch = os.path.abspath(args.scratch)
    build = os.path.join(scratch, "build")
    os.makedirs(scratch, exist_ok=True)
    env = dict(os.environ, CCACHE_BASEDIR=scratch, CCACHE_NOHASHDIR="1")

    # Every mutant must apply to the tree as it is before anything is built.
    print("syncing %s -> %s: %d files changed"
          % (ROOT, scratch, sync_tree(scratch)), flush=True)
    for mutant in mutants:
        path = os.path.join(scratch, mutant["file"])
        with open(path) as f:
            text = f.read()
        if text.count(mutant["find"]) != 1:
            sys.exit("mutant %s: %r occurs %d times in %s; need exactly once"
                     % (mutant["name"], mutant["find"],
                        text.count(mutant["find"]), mutant["file"]))

    if not os.path.exists(os.path.join(build, "build.ninja")):
        rc, out = run(["cmake", "-G", "Ninja", "-S", scratch, "-B", build,
                       "-DCMAKE_BUILD_TYPE=Release"], env=env)
        if rc:
            sys.exit(out + "\ncmake failed")
    if not args.lit:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            found = [line.split("=", 1)[1].strip() for line in f
                     if line.startswith("LLVM_EXTERNAL_LIT:")]
        args.lit = found[0] if found and found[0] else shutil.which("lit")
        if not args.lit:
            sys.exit("no lit: pass --lit PATH")
    start = time.time()
    rc, out = run(["nice", "ninja", "-C", build], env=env)
    if rc:
        sys.exit(out + "\nthe unmutated tree does not build")
    rc, out = run([args.lit, "-q", os.path.join(build, "test")], env=env,
                  timeout=args.timeout)
    if rc:
        sys.exit(out + "\nthe unmutated suite is not green; fix that first")
    print("baseline built and green in %.0f s" % (time.time() - start),
          flush=True)

    killed, survived, broken = [], [], []
    for i, mutant in enumerate(mutants, 1):
        start = time.time()
        original = plant(scratch, mutant)
        try:
            rc, out = run(["nice", "ninja", "-C", build], env=env)
            if rc:
                verdict = "BROKEN (does not build)"
                broken.append(mutant)
            else:
                rc, out = run([args.lit, "-q", os.path.join(build, "test")],
                              env=env, timeout=args.timeout)
                failing = [l.split("::")[-1].split(" (")[0].strip()
                           for l in out.splitlines()
                           if l.startswith(("FAIL:", "UNRESOLVED:"))]
                if rc:
                    verdict = "killed by %d test(s): %s" % (
                        len(failing), ", ".join(failing) or out[-200:])
                    killed.append(mutant)
                else:
                    verdict = "SURVIVED"
                    survived.append(mutant)
        finally:
            with open(os.path.join(scratch, mutant["file"]), "w") as f:
                f.write(original)
        print("[%d/%d] %-28s %s (%.0f s)" % (i, len(mutants), mutant["name"],
                                            verdict, time.time() - start),
              flush=True)
    # Leave the scratch build matching the unmutated tree.
    run(["nice", "ninja", "-C", build], env=env)

    scored = len(killed) + len(survived)
    print("\nscore: %d/%d killed (%.0f%%)%s" % (
        len(killed), scored, 100.0 * len(killed) / max(scored, 1),
        ", %d broken mutant(s) not scored" % len(broken) if broken else ""))
    for mutant in survived:
        print("survivor: %s (%s: %r -> %r)" % (mutant["name"], mutant["file"],
                                               mutant["find"],
                                               mutant["replace"]))
    return 1 if survived or broken else 0


if __name__ == "__main__":
    sys.exit(main())
