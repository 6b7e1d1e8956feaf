#!/usr/bin/env python3
"""Where the cost model and a measured step disagree, op by op.

Sets a run's MP_PROFILE=1 table (the runtime's, rank 0: every op's total
time over the profiled steps) beside `mp-opt --mp-simulate`'s prediction of
the same step (`compute_seconds_per_op` by op name, `comm_seconds_per_kind`
for the collectives), both per step, summed by op name:

    MP_PROFILE=1 ./train --steps 6 --warmup 2 2> profile.txt
    mp-opt step.mlir --mp-simulate="machine=M.json output=sim.json"
    bench/profile-vs-model.py profile.txt sim.json

Each row is an op name, its measured and predicted milliseconds per step
and their ratio, largest measured first; the last rows are the step's
totals. The measured side includes what the model leaves out (the
profiler's synchronization at every op, host work between calls), so the
ratios say which op kinds the machine file prices wrong, not by how much
every step is off.
"""

import argparse
import json
import re
import sys
from collections import defaultdict

# "    65.259      4     16.315  12.1%  mp.linear at build/ffn/step.mlir:14:10"
ROW = re.compile(r"^\s*([0-9.]+)\s+([0-9]+)\s+[0-9.]+\s+[0-9.]+%\s+(\S+)")


def measured_per_step(lines):
    """Milliseconds per step by op name: an op of the step runs once per
    step, so the most common call count among the step's ops is the number
    of profiled steps."""
    totals = defaultdict(float)
    counts = []
    seen = False
    for line in lines:
        if line.startswith("mp profile"):
            if seen:
                sys.exit("profile-vs-model.py: more than one profile table "
                         "(profile one run)")
            seen = True
            continue
        match = ROW.match(line)
        if not match or not seen:
            continue
        total, count, name = float(match[1]), int(match[2]), match[3]
        if not name.startswith("mp."):
            continue  # the trainer's own work: writing results, copies
        totals[name] += total
        counts.append(count)
    if not counts:
        sys.exit("profile-vs-model.py: no MP_PROFILE table with mp ops")
    steps = max(set(counts), key=counts.count)
    return {name: total / steps for name, total in totals.items()}, steps


def predicted_per_step(report, function):
    functions = report["functions"]
    if function:
        chosen = [f for f in functions if f["function"] == function]
    else:
        chosen = [f for f in functions
                  if f["function"].endswith("_train_step")] or functions[-1:]
    if len(chosen) != 1:
        sys.exit("profile-vs-model.py: the simulation report has no single "
                 "function %s" % (function or "*_train_step"))
    step = chosen[0]
    if "compute_seconds_per_op" not in step:
        sys.exit("profile-vs-model.py: the report has no "
                 "compute_seconds_per_op (an older mp-opt)")
    ms = {name: seconds * 1e3
          for name, seconds in step["compute_seconds_per_op"].items()}
    for kind, seconds in step["comm_seconds_per_kind"].items():
        ms["mp." + kind] = ms.get("mp." + kind, 0) + seconds * 1e3
    return ms, step["function"], step["step_seconds"] * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("profile", help="a run's stderr with MP_PROFILE=1 "
                        "('-': standard input)")
    parser.add_argument("simulation", help="mp-opt --mp-simulate's report")
    parser.add_argument("--function", default=None,
                        help="the function of the report (default: the "
                        "one whose name ends in _train_step)")
    args = parser.parse_args()
    source = sys.stdin if args.profile == "-" else open(args.profile)
    with source:
        measured, steps = measured_per_step(source)
    with open(args.simulation) as f:
        predicted, function, step_ms = predicted_per_step(json.load(f),
                                                          args.function)
    names = sorted(set(measured) | set(predicted),
                   key=lambda n: (-measured.get(n, 0), -predicted.get(n, 0)))
    print(f"{function}: {steps} profiled steps, per step")
    print(f"  {'op':28s} {'measured ms':>12s} {'predicted ms':>13s} "
          f"{'measured/predicted':>19s}")

    def row(name, have, want):
        ratio = f"{have / want:.2f}" if want > 0 else "-"
        print(f"  {name:28s} {have:12.3f} {want:13.3f} {ratio:>19s}")

    for name in names:
        row(name, measured.get(name, 0), predicted.get(name, 0))
    row("all ops", sum(measured.values()), sum(predicted.values()))
    print(f"  (the predicted step is {step_ms:.3f} ms: compute and "
          "communication on the step's schedule)")


if __name__ == "__main__":
    main()
