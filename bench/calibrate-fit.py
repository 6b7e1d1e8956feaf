#!/usr/bin/python3
"""Fits the host machine file to bench/host_calibrate's measurements.

    calibrate-fit.py RAW.txt... --name NAME --ranks R -o MACHINE.json
                     [--details DETAILS.json]

The machine file's model (issue 18): a compute op costs
max(gemm_flops / F, kernel_bytes / B) + O, a collective bytes_sent_per_rank
/ W + steps * L over its axis's link. Each constant is fitted to the
measurements it governs, minimizing the squared RELATIVE error (a 20 us
collective counts as much as a 20 ms one):

  * O: the median of the tiny calls (a 64-element mul, an 8x8x8 GEMM);
  * F: over every GEMM measured (three layouts x the sizes given), with O
    and B fixed;
  * B: over the memory-bound kernels of 1M elements and more (mul, silu,
    copy, AdamW), with O fixed. Their rates differ several times over on
    this host (silu and AdamW are bound by their arithmetic, not memory),
    so one B is a compromise; each kernel's own rate goes to DETAILS;
  * W and L, by the plain relative error (the small calls fix L), over
    all_reduce,
    all_gather and reduce_scatter at every size and on every mesh where
    the axis has more than one rank: one "default" link over all of them
    (--links one, the default: the ranks of one host share one medium; per
    axis, a 2x2 mesh's tensor_parallel pairs measured 2x slower than its
    data_parallel pairs in one run and the same in another, the kernel's
    placement of 4 processes on 2 cores, not a property of the axis), or
    with --links per-axis "default" and one per axis.

Each collective kind's factor (MPI runs all_reduce, all_gather and
reduce_scatter at different rates per byte) prices its bytes only: the
median over its points of 1 MiB and more of (measured - steps * L) /
(sent / W). Prints what it fitted and each fit's errors.
"""

import argparse
import json
import math
import sys

import numpy as np


def parse(paths):
    """Every measurement line of the files; a measurement in several files
    (calibrate-host.sh --repeat) keeps its least time: the run least
    disturbed by whatever else the machine ran."""
    best = {}
    for path in paths:
        for line in open(path):
            f = line.split()
            if not f or f[0].startswith("#"):
                continue
            key = tuple(f[:-1])
            best[key] = min(best.get(key, float("inf")), float(f[-1]))
    gemms, kernels, tiny, colls, after_kernel = [], [], {}, [], []
    for key, seconds in best.items():
        f = list(key) + [repr(seconds)]
        if not f:
            continue
        if f[0] == "gemm":
            gemms.append(dict(layout=f[1], m=int(f[2]), n=int(f[3]), k=int(f[4]),
                              flops=float(f[5]), bytes=float(f[6]), seconds=float(f[7])))
        elif f[0] == "kernel":
            kernels.append(dict(name=f[1], elements=int(f[2]), bytes=float(f[3]),
                                seconds=float(f[4])))
        elif f[0] == "tiny":
            tiny[f[1]] = float(f[2])
        elif f[0] in ("coll", "coll_after_kernel"):
            (colls if f[0] == "coll" else after_kernel).append(
                dict(mesh=f[1], axis=f[2], kind=f[3], group=int(f[4]),
                     tensor_bytes=float(f[5]), sent=float(f[6]),
                     steps=float(f[7]), seconds=float(f[8])))
    return gemms, kernels, tiny, colls, after_kernel


def rel_errors(pred, meas):
    return [(p - m) / m for p, m in zip(pred, meas)]


def error_summary(errs):
    a = [abs(e) for e in errs]
    return {"median_abs_error": float(np.median(a)) if a else None,
            "max_abs_error": float(max(a)) if a else None}


def fit_scalar(cost, meas, lo, hi):
    """The x in [lo, hi] (log grid, then refined) minimizing the relative
    squared error of cost(x) against meas."""
    def loss(x):
        return sum((cost(x, i) - m) ** 2 / m for i, m in enumerate(meas))
    grid = np.logspace(math.log10(lo), math.log10(hi), 400)
    best = min(grid, key=loss)
    step = grid[1] / grid[0]
    for _ in range(3):
        fine = np.linspace(best / step, best * step, 101)
        best = min(fine, key=loss)
        step = fine[1] / fine[0] if fine[0] > 0 else 1.0001
    return float(best)


def fit_link(points):
    """W, L minimizing sum(((sent/W + steps*L) - t) / t)^2, both >= 0: the
    pure relative error, so that the 4 KB calls fix the latency."""
    a = np.array([[p["sent"] / p["seconds"], p["steps"] / p["seconds"]] for p in points])
    b = np.ones(len(points))
    (inv_w, lat), *_ = np.linalg.lstsq(a, b, rcond=None)
    if lat < 0:  # no latency term: W alone
        lat = 0.0
        inv_w = float(a[:, 0] @ b / (a[:, 0] @ a[:, 0]))
    if inv_w <= 0:
        inv_w = 1e-12
    pred = [p["sent"] * inv_w + p["steps"] * lat for p in points]
    return 1.0 / inv_w, float(lat), rel_errors(pred, [p["seconds"] for p in points])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw", nargs="+")
    ap.add_argument("--name", default="host")
    ap.add_argument("--ranks", type=int, default=4)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--details")
    ap.add_argument("--links", choices=["one", "per-axis"], default="one",
                    help="one link for every axis (default: on one host the ranks "
                         "share one medium), or a link per axis")
    args = ap.parse_args()
    gemms, kernels, tiny, colls, after_kernel = parse(args.raw)
    if not gemms or not kernels or not tiny:
        sys.exit("calibrate-fit.py: no compute measurements in " + " ".join(args.raw))

    op = float(np.median([tiny[k] for k in ("mul64", "gemm8") if k in tiny]))

    big = [k for k in kernels if k["elements"] >= (1 << 20)]
    bw = fit_scalar(lambda x, i: big[i]["bytes"] / x + op,
                    [k["seconds"] for k in big], 1e7, 1e12)
    per_kernel = {}
    for name in sorted({k["name"] for k in big}):
        ks = [k for k in big if k["name"] == name]
        per_kernel[name] = float(sum(k["bytes"] for k in ks) /
                                 sum(max(k["seconds"] - op, 1e-12) for k in ks))

    flops = fit_scalar(lambda x, i: max(gemms[i]["flops"] / x, gemms[i]["bytes"] / bw) + op,
                       [g["seconds"] for g in gemms], 1e8, 1e13)

    def gemm_pred(g):
        return max(g["flops"] / flops, g["bytes"] / bw) + op

    def kernel_pred(k):
        return k["bytes"] / bw + op

    links = {}
    axes = sorted({c["axis"] for c in colls})
    fits = {}
    if colls:
        w, lat, errs = fit_link(colls)
        links["default"] = {"bytes_per_second": w, "latency_seconds": lat}
        fits["default"] = error_summary(errs)
        for axis in axes:  # each axis's error under the link written
            pts = [c for c in colls if c["axis"] == axis]
            pred = [c["sent"] / w + c["steps"] * lat for c in pts]
            fits["default on " + axis] = error_summary(rel_errors(pred, [c["seconds"] for c in pts]))
        for axis in axes if args.links == "per-axis" else []:
            pts = [c for c in colls if c["axis"] == axis]
            w, lat, errs = fit_link(pts)
            links[axis] = {"bytes_per_second": w, "latency_seconds": lat}
            fits[axis] = error_summary(errs)
    else:
        links["default"] = {"bytes_per_second": 1e9, "latency_seconds": 1e-5}
    # One link prices every kind alike; MPI does not (its all_reduce and
    # reduce_scatter differ 2-3x per byte sent here): each kind's factor is
    # the median of (measured - latency) / the bytes' time over its points
    # of 1 MiB and more. It prices bytes only (--mp-simulate applies it so):
    # at 4 KB every kind costs about its ring steps' latency.
    collective_factors = {}
    for kind in sorted({c["kind"] for c in colls}):
        pts = [c for c in colls if c["kind"] == kind and c["tensor_bytes"] >= 2**20]
        if pts:
            link = links["default"]
            collective_factors[kind] = float(np.median(
                [max(c["seconds"] - c["steps"] * link["latency_seconds"], 0) /
                 (c["sent"] / link["bytes_per_second"]) for c in pts]))

    machine = {
        "name": args.name,
        "gemm_flops_per_second": flops,
        "memory_bytes_per_second": bw,
        "op_seconds": op,
        "links": links,
        "collective_factors": collective_factors,
        "overlap": False,
        # MPI progresses a nonblocking collective only inside MPI calls:
        # one issued early runs at its call, not beside compute.
        "async_overlap": False,
        # The host backend's SGEMM runs a bf16 GEMM on float32 copies of
        # both operands.
        "bf16_gemm_operands": "float32_copies",
        # MPI moves contiguous blocks: a collective over a strided dim
        # packs and unpacks its pieces.
        "strided_collectives": "copies",
    }
    with open(args.output, "w") as out:
        json.dump(machine, out, indent=2)
        out.write("\n")

    print(f"Machine file {args.output} ({args.ranks} ranks at once, rates per rank):")
    gerr = rel_errors([gemm_pred(g) for g in gemms], [g["seconds"] for g in gemms])
    print(f"  GEMM: {flops / 1e9:.2f} GFLOP/s per rank "
          f"(fit over {len(gemms)} mp_gemm_f32 calls; error median "
          f"{100 * error_summary(gerr)['median_abs_error']:.0f}%, max "
          f"{100 * error_summary(gerr)['max_abs_error']:.0f}%)")
    for g, e in zip(gemms, gerr):
        print(f"    {g['layout']} {g['m']}x{g['n']}x{g['k']}: {g['seconds'] * 1e3:.3f} ms, "
              f"{g['flops'] / g['seconds'] / 1e9:.2f} GFLOP/s, model {100 * e:+.0f}%")
    kerr = rel_errors([kernel_pred(k) for k in big], [k["seconds"] for k in big])
    print(f"  memory: {bw / 1e9:.3f} GB/s per rank (fit over the kernels of >= 1M elements)")
    for name, rate in per_kernel.items():
        print(f"    {name}: {rate / 1e9:.3f} GB/s")
    print(f"  per-op overhead: {op * 1e6:.3f} us "
          + ", ".join(f"({k} {v * 1e6:.3f} us)" for k, v in tiny.items()))
    for name in [k for k in fits if k not in links]:
        print(f"  (the default link on {name[len('default on '):]}: error median "
              f"{100 * fits[name]['median_abs_error']:.0f}%, max {100 * fits[name]['max_abs_error']:.0f}%)")
    for name, link in links.items():
        extra = ""
        if name in fits:
            extra = (f"; error median {100 * fits[name]['median_abs_error']:.0f}%, "
                     f"max {100 * fits[name]['max_abs_error']:.0f}%")
        print(f"  link {name}: {link['bytes_per_second'] / 1e9:.3f} GB/s, "
              f"{link['latency_seconds'] * 1e6:.2f} us per step{extra}")
    if collective_factors:
        print("  collective factors (time of the bytes / the link's, >= 1 MiB): " +
              ", ".join(f"{k} {v:.2f}" for k, v in collective_factors.items()))
    # A step's collectives follow kernels: if one cost more there than back
    # to back (partners late on shared cores), the latency would need a
    # per-call term; this shows whether it does.
    key = lambda c: (c["mesh"], c["axis"], c["kind"], c["tensor_bytes"])
    back_to_back = {key(c): c for c in colls}
    pairs = [(c, back_to_back[key(c)]) for c in after_kernel if key(c) in back_to_back]
    tiny_pairs = [(a, b) for a, b in pairs if a["tensor_bytes"] <= 4096]
    if tiny_pairs:
        def per_step(points):
            steps = [c["seconds"] / c["steps"] * 1e6 for c in points]
            return f"{min(steps):.1f}-{max(steps):.1f} us"
        print(f"  4 KB collectives per ring step: "
              f"{per_step([a for a, _ in tiny_pairs])} after a kernel, "
              f"{per_step([b for _, b in tiny_pairs])} back to back; after / back "
              f"to back at 4 and 64 KB: median "
              f"{np.median([a['seconds'] / b['seconds'] for a, b in pairs]):.2f}")
    if colls:
        print("    per kind (bytes sent per rank / seconds at the largest size):")
        for kind in sorted({c["kind"] for c in colls}):
            for group in sorted({c["group"] for c in colls if c["kind"] == kind}):
                pts = [c for c in colls if c["kind"] == kind and c["group"] == group]
                top = max(pts, key=lambda c: c["sent"])
                print(f"    {kind} g={group}: {top['sent'] / top['seconds'] / 1e9:.3f} GB/s "
                      f"({top['tensor_bytes'] / 2**20:.0f} MiB tensor)")

    if args.details:
        details = {
            "machine": machine,
            "per_kernel_bytes_per_second": per_kernel,
            "gemm_errors": [dict(g, model_error=e) for g, e in zip(gemms, gerr)],
            "kernel_errors": [dict(k, model_error=e) for k, e in zip(big, kerr)],
            "link_fit_errors": fits,
            "collectives": colls,
            "collectives_after_kernel": after_kernel,
            "tiny": tiny,
        }
        with open(args.details, "w") as out:
            json.dump(details, out, indent=2)
            out.write("\n")


if __name__ == "__main__":
    main()
