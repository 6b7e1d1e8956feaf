#!/usr/bin/python3
"""Refits a machine file to measured training steps (calibrate-host.sh
--fit-steps).

    calibrate-steps.py --machine MICRO.json --mp-opt MP_OPT -o OUT.json
                       RESULTS.json...

RESULTS.json are plan-search-bench.sh's results: compiled steps (step.mlir
in each candidate's directory) and their measured times. Each step's
prediction is split into its parts by asking --mp-simulate on machine
files where all but one part costs nothing: G (GEMM FLOPs at F), M (kernel
bytes at B), P (the per-op overhead O), C (the collectives' bytes on the
links) and L (their latency per ring step). Then four factors are fitted,
by least squares on the relative error over all the steps,

    measured ~ a * G + b * M + P + c * C + d * L

and the machine file written with F / a, B / b and each link's W / c and
L * d. Microbenchmarks alone time each kind of call on its own; the factors
carry what they miss (kernels whose rates differ several times over,
collectives whose partners are late on shared cores, cache effects
between the ops of a step). Bytes and latency get factors of their own:
steps of tens of milliseconds fix the first, steps of a few (many small
collectives) the second, and one factor for both priced the small steps'
latency by the large steps' waiting (1.4-2.4x too slow). A factor whose
part is under 5% of every step is not identifiable and stays 1. Prints
the factors and each step's prediction error before and after.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HUGE = 1e30
TINY = 1e-30


def simulate(mp_opt, step, machine, func, tmp):
    mpath = os.path.join(tmp, "machine.json")
    out = os.path.join(tmp, "sim.json")
    with open(mpath, "w") as f:
        json.dump(machine, f)
    subprocess.run([mp_opt, step, f"--mp-simulate=machine={mpath} output={out}",
                    "-o", os.devnull], check=True)
    for f in json.load(open(out))["functions"]:
        if f["function"] == func:
            return f["step_seconds"]
    raise RuntimeError(f"{step}: no {func} in --mp-simulate's report")


def variant(machine, gemm=False, memory=False, ops=False, comm=False,
            latency=False):
    m = copy.deepcopy(machine)
    if not gemm:
        m["gemm_flops_per_second"] = HUGE
    if not memory:
        m["memory_bytes_per_second"] = HUGE
    if not ops:
        m["op_seconds"] = TINY
    for link in m["links"].values():
        if not comm:
            link["bytes_per_second"] = HUGE
        if not latency:
            link["latency_seconds"] = TINY
    m["overlap"] = False
    m["async_overlap"] = False
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results", nargs="+")
    ap.add_argument("--machine", required=True)
    ap.add_argument("--mp-opt", required=True)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--details")
    args = ap.parse_args()
    machine = json.load(open(args.machine))
    steps = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.results:
            results = json.load(open(path))
            for name, model in results["models"].items():
                for c in model["candidates"]:
                    if not c.get("measured_ms"):
                        continue
                    step = os.path.join(c["dir"], "step.mlir")
                    parts = {k: simulate(args.mp_opt, step, variant(machine, **{k: True}),
                                         model["function"], tmp)
                             for k in ("gemm", "memory", "ops", "comm", "latency")}
                    full = simulate(args.mp_opt, step, machine, model["function"], tmp)
                    steps.append(dict(model=name, source=path, candidate=c["name"],
                                      measured=c["measured_ms"] / 1e3, full=full, **parts))
    if not steps:
        sys.exit("calibrate-steps.py: no measured steps")
    t = np.array([s["measured"] for s in steps])
    cols = {"gemm": np.array([s["gemm"] for s in steps]),
            "memory": np.array([s["memory"] for s in steps]),
            "comm": np.array([s["comm"] for s in steps]),
            "latency": np.array([s["latency"] for s in steps])}
    fixed = np.array([s["ops"] for s in steps])
    # The parts the simulator sums with per-op maxima do not add up exactly
    # to its full prediction: scale them so that they do, per step.
    total = sum(cols.values()) + fixed
    full = np.array([s["full"] for s in steps])
    for k in cols:
        cols[k] = cols[k] * full / total
    fixed = fixed * full / total
    free = [k for k in cols if np.max(cols[k] / t) >= 0.05]
    factors = {k: 1.0 for k in cols}
    while free:
        a = np.stack([cols[k] / t for k in free], axis=1)
        b = 1 - (fixed + sum(cols[k] * factors[k] for k in cols if k not in free)) / t
        x, *_ = np.linalg.lstsq(a, b, rcond=None)
        bad = [k for k, v in zip(free, x) if v <= 0.05]
        if not bad:
            factors.update(dict(zip(free, (float(v) for v in x))))
            break
        for k in bad:  # a non-physical factor: leave that part as measured
            free.remove(k)
    fitted = copy.deepcopy(machine)
    fitted["gemm_flops_per_second"] = machine["gemm_flops_per_second"] / factors["gemm"]
    fitted["memory_bytes_per_second"] = machine["memory_bytes_per_second"] / factors["memory"]
    for link in fitted["links"].values():
        link["bytes_per_second"] /= factors["comm"]
        link["latency_seconds"] *= factors["latency"]
    with open(args.output, "w") as f:
        json.dump(fitted, f, indent=2)
        f.write("\n")

    print(f"Fitted to {len(steps)} measured steps: GEMM time x{factors['gemm']:.2f}, "
          f"memory time x{factors['memory']:.2f}, communication bytes' time "
          f"x{factors['comm']:.2f}, latency x{factors['latency']:.2f}"
          + (f" (not identifiable, kept: {', '.join(k for k in cols if k not in free)})"
             if len(free) < len(cols) else ""))
    print(f"  GEMM {fitted['gemm_flops_per_second'] / 1e9:.2f} GFLOP/s, memory "
          f"{fitted['memory_bytes_per_second'] / 1e9:.3f} GB/s per rank; links: "
          + ", ".join(f"{n} {l['bytes_per_second'] / 1e9:.3f} GB/s {l['latency_seconds'] * 1e6:.2f} us"
                      for n, l in fitted["links"].items()))
    print(f"  {'step':44} {'measured':>9} {'before':>9} {'after':>9}")
    errs_before, errs_after = [], []
    for i, s in enumerate(steps):
        after = fixed[i] + sum(cols[k][i] * factors[k] for k in cols)
        eb, ea = (s["full"] - s["measured"]) / s["measured"], (after - s["measured"]) / s["measured"]
        errs_before.append(abs(eb))
        errs_after.append(abs(ea))
        s["fitted"] = float(after)
        print(f"  {(s['model'] + ' ' + s['candidate'])[:44]:44} {s['measured'] * 1e3:8.1f}ms "
              f"{100 * eb:+8.0f}% {100 * ea:+8.0f}%")
    print(f"  largest error: {100 * max(errs_before):.0f}% before, {100 * max(errs_after):.0f}% after")
    if args.details:
        json.dump({"factors": factors, "steps": steps, "machine": fitted},
                  open(args.details, "w"), indent=2)


if __name__ == "__main__":
    main()
