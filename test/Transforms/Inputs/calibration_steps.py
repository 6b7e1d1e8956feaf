"""Writes steps whose times are known for calibrate-steps.py to fit.

    calibration_steps.py OUT MP_OPT MICRO.json GEMM MEMORY BYTES LATENCY
                         [--no-collectives]

Each candidate under OUT is a partitioned function mixing a GEMM, a
memory-bound op, an all_gather and a chain of 4-byte all_reduces in its
own proportions; its "measured" time is --mp-simulate's on MICRO.json with
the GEMM rate divided by GEMM, the memory rate by MEMORY, the links'
bandwidth by BYTES and their latency multiplied by LATENCY, so a fit of
the steps to MICRO.json must find those four factors. OUT/results.json is
plan-search-bench.sh's format. --no-collectives: steps without any, whose
link factors cannot be identified.
"""

import copy
import json
import os
import subprocess
import sys

# (linear size S: an S x S x S GEMM, relu elements, all_gather rows of 64
# floats over dp, all_reduces of 4 bytes over tp)
MIXES = [(256, 1 << 16, 0, 0), (64, 1 << 20, 0, 0), (64, 1 << 14, 1 << 14, 0),
         (64, 1 << 14, 0, 400), (128, 1 << 18, 1 << 12, 100),
         (192, 1 << 17, 1 << 13, 200), (96, 1 << 19, 1 << 15, 50),
         (160, 1 << 16, 1 << 11, 300)]


def step_text(size, relu, gather, tiny):
    args = ["%%x: tensor<%dx%dxf32>" % (size, size),
            "%%w: tensor<%dx%dxf32>" % (size, size),
            "%%v: tensor<%dxf32>" % relu]
    body = ["  %%y = mp.linear %%x, %%w : (tensor<%dx%dxf32>, tensor<%dx%dxf32>)"
            " -> tensor<%dx%dxf32>" % ((size,) * 6),
            "  %%r = mp.relu %%v : tensor<%dxf32>" % relu]
    results = [("%y", "tensor<%dx%dxf32>" % (size, size)),
               ("%r", "tensor<%dxf32>" % relu)]
    if gather:
        args.append("%%a: tensor<%dx64xf32>" % gather)
        body.append("  %%g = mp.all_gather %%a on @mesh axes [\"dp\"] dim 0 :"
                    " tensor<%dx64xf32> -> tensor<%dx64xf32>" % (gather, 2 * gather))
        results.append(("%g", "tensor<%dx64xf32>" % (2 * gather)))
    if tiny:
        args.append("%t0: tensor<1xf32>")
        for i in range(1, tiny + 1):
            body.append("  %%t%d = mp.all_reduce %%t%d on @mesh axes [\"tp\"] :"
                        " tensor<1xf32>" % (i, i - 1))
        results.append(("%%t%d" % tiny, "tensor<1xf32>"))
    return ("mp.mesh @mesh = <dp = 2, tp = 4>\n"
            "func.func @step(%s) -> (%s)\n    attributes {mp.partitioned} {\n"
            "%s\n  return %s : %s\n}\n" %
            (", ".join(args), ", ".join(t for _, t in results), "\n".join(body),
             ", ".join(v for v, _ in results), ", ".join(t for _, t in results)))


def main():
    out, mp_opt, micro_path = sys.argv[1:4]
    gemm, memory, byte_factor, latency = (float(x) for x in sys.argv[4:8])
    collectives = "--no-collectives" not in sys.argv[8:]
    micro = json.load(open(micro_path))
    truth = copy.deepcopy(micro)
    truth["gemm_flops_per_second"] /= gemm
    truth["memory_bytes_per_second"] /= memory
    for link in truth["links"].values():
        link["bytes_per_second"] /= byte_factor
        link["latency_seconds"] *= latency
    truth_path = os.path.join(out, "truth.json")
    os.makedirs(out, exist_ok=True)
    json.dump(truth, open(truth_path, "w"))
    candidates = []
    for i, (size, relu, gather, tiny) in enumerate(MIXES):
        if not collectives:
            gather = tiny = 0
        directory = os.path.join(out, "mix%d" % i)
        os.makedirs(directory, exist_ok=True)
        step = os.path.join(directory, "step.mlir")
        with open(step, "w") as f:
            f.write(step_text(size, relu, gather, tiny))
        report = subprocess.run(
            [mp_opt, step, "--mp-simulate=machine=%s output=-" % truth_path,
             "-o", os.devnull], check=True, capture_output=True, text=True).stdout
        seconds = json.loads(report)["functions"][0]["step_seconds"]
        candidates.append({"name": "mix%d" % i, "dir": directory,
                           "measured_ms": seconds * 1e3})
    json.dump({"models": {"mixes": {"function": "step", "candidates": candidates}}},
              open(os.path.join(out, "results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
