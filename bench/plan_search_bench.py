#!/usr/bin/python3
"""The plan search's benchmark (issue 18): see bench/plan-search-bench.sh."""

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(*args):
    print(*args, flush=True)


def run(cmd, logfile=None, env=None, check=True):
    """Runs cmd (a list); its output goes to logfile (appended) and is
    returned. A failure raises unless check is false."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env)
    if logfile:
        with open(logfile, "a") as out:
            out.write("$ " + shlex.join(cmd) + "\n" + proc.stdout + "\n")
    if check and proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n"
                           + proc.stdout[-3000:])
    return proc


def busy_percent(seconds=1.0):
    """How busy all cores were over the last `seconds` (from /proc/stat)."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = read()
    time.sleep(seconds)
    t1, i1 = read()
    return round(100 * (1 - (i1 - i0) / max(t1 - t0, 1)))


def wait_quiet(threshold, max_wait):
    """Waits (up to max_wait seconds) until the cores are under threshold
    percent busy over half a second; returns the last busy share seen."""
    start = time.time()
    busy = busy_percent(0.5)
    while threshold > 0 and busy > threshold and time.time() - start < max_wait:
        busy = busy_percent(0.5)
    return busy


def train_step_options(text):
    """optimizer and lr from --mp-train-step's options (run-ffn.sh's flags)."""
    opts = dict(re.findall(r"(\w[\w-]*)=(\S+)", text))
    unknown = set(opts) - {"optimizer", "lr"}
    if unknown:
        sys.exit(f"plan-search-bench: train-step options {sorted(unknown)} are not "
                 "passed to run-ffn.sh (only optimizer and lr)")
    return opts.get("optimizer", "adamw"), opts.get("lr", "3e-3")


def machine_estimate(machine, memory_json, comm_json, step_mlir, func):
    """A rough prediction from the compiler's own reports under the machine
    file, independent of --mp-simulate: gemm_flops / F + (kernel_bytes) / B
    + ops * O for compute (it sums flops and bytes instead of taking each
    op's max, so it overestimates), and each collective's bytes / W +
    steps * L over its axes' slowest link."""
    mem = next(f for f in json.load(open(memory_json))["functions"] if f["function"] == func)
    comm = next((f for f in json.load(open(comm_json))["functions"] if f["function"] == func),
                {"collectives": []})
    text = open(step_mlir).read()
    body = text[text.find(f"@{func}("):]
    ops = len(re.findall(r"= mp\.\w+", body.split("\n  }\n")[0]))
    compute = (mem["gemm_flops"] / machine["gemm_flops_per_second"]
               + mem["kernel_bytes"] / machine["memory_bytes_per_second"]
               + ops * machine["op_seconds"])
    links = machine["links"]
    comm_s = 0.0
    for c in comm["collectives"]:
        g = c["group_size"]
        if g < 2 or c["bytes_per_rank"] == 0:
            continue
        steps = 2 * (g - 1) if c["kind"] == "all_reduce" else g - 1
        best = None
        for axis in c["axes"]:
            link = links.get(axis, links["default"])
            t = c["bytes_per_rank"] / link["bytes_per_second"] + steps * link["latency_seconds"]
            best = t if best is None else max(best, t)
        comm_s += best
    return {"compute_seconds": compute, "comm_seconds": comm_s,
            "step_seconds": compute + comm_s, "ops": ops,
            "gemm_flops": mem["gemm_flops"], "kernel_bytes": mem["kernel_bytes"],
            "peak_bytes": mem.get("peak_bytes")}


def has_simulate(mp_opt):
    proc = subprocess.run([mp_opt, "--help"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    return "mp-simulate" in proc.stdout


def model_setup(args, name, work, mp_opt, logfile):
    """Writes the model for `name` into work; returns its path and the
    function whose step is timed."""
    if name == "ffn":
        dim, hidden, batch = args.ffn_size.split("x")
        # run-ffn.sh writes the seed's model at these sizes (and compiles it
        # with the seed's plan on 2x2, a check that the pipeline works).
        run([os.path.join(ROOT, "scripts/run-ffn.sh"), "--no-build", "--no-run",
             "--mesh", "2x2", "--dim", dim, "--hidden", hidden, "--batch", batch,
             "--out", os.path.join(work, "seed")], logfile, env=args.env)
        return os.path.join(work, "seed", "ffn.mlir"), "ffn_train_step"
    model = os.path.join(work, "llama.mlir")
    with open(model, "w") as out:
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples/llama/gen-llama.py")]
                       + shlex.split(args.llama_args), stdout=out, check=True)
    if args.loss_parallel_blocks > 0:
        # As run-llama.sh does (loss parallel, torchtitan's default), with
        # one block count that every candidate's tensor-parallel size
        # divides, so that all candidates train the same model file.
        lp = os.path.join(work, "llama-lp.mlir")
        run([mp_opt, model, f"--mp-loss-parallel=blocks={args.loss_parallel_blocks}",
             "-o", lp], logfile)
        model = lp
    func = re.search(r"func\.func @(\w+)\(", open(model).read()).group(1)
    return model, func + "_train_step"


def main():
    ap = argparse.ArgumentParser(prog="plan-search-bench.sh")
    ap.add_argument("--models", default="ffn,llama")
    ap.add_argument("--ffn-size", default="1024x2048x128", help="DIMxHIDDENxBATCH")
    ap.add_argument("--llama-args", default="--layers 2 --dim 256 --heads 8 --kv-heads 4 "
                    "--multiple-of 64 --vocab 2048 --seq 64 --batch 8")
    ap.add_argument("--loss-parallel-blocks", type=int, default=-1,
                    help="default: --ranks; 0 turns loss parallelism off")
    ap.add_argument("--ranks", type=int, default=4)
    ap.add_argument("--machine", default=os.path.join(ROOT, "bench/machines/host-4ranks.json"))
    ap.add_argument("--memory", default=str(4 << 30), help="bytes per rank")
    ap.add_argument("--train-step", default="optimizer=adamw lr=3e-3")
    ap.add_argument("--auto-plan-quote", default='"',
                    help="how train-step's value is quoted inside --mp-auto-plan")
    ap.add_argument("--report", action="append", default=[],
                    help="MODEL=REPORT.json: use this report, skip --mp-auto-plan")
    ap.add_argument("--schedules", action="store_true",
                    help="search with schedules=true and time every schedule of every plan")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--statistic", choices=["median", "min"], default="median",
                    help="of the rounds' step times (each round's is mp-train's median)")
    ap.add_argument("--wait-quiet", type=int, default=30,
                    help="before each run, wait until the cores are under this %% busy (0: never)")
    ap.add_argument("--max-wait", type=float, default=30,
                    help="seconds to wait for quiet before each run")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    build = os.environ.get("MP_BUILD_DIR", os.path.join(ROOT, "build"))
    mp_opt = os.path.join(build, "bin", "mp-opt")
    out = os.path.abspath(args.out or os.path.join(build, "plan-search-bench"))
    os.makedirs(out, exist_ok=True)
    if args.loss_parallel_blocks < 0:
        args.loss_parallel_blocks = args.ranks
    reports = dict(r.split("=", 1) for r in args.report)
    machine_path = os.path.abspath(args.machine)
    machine = json.load(open(machine_path))
    optimizer, lr = train_step_options(args.train_step)
    cores = os.cpu_count() or 1
    threads = str(max(1, cores // args.ranks))
    # Each rank's OpenBLAS (the OpenMP build the runtime links) takes as
    # many threads as OMP_NUM_THREADS says, by default every core: 4 ranks
    # x 2 threads on 2 cores run a step 3x slower, small GEMMs 100x (their
    # threads spin for descheduled siblings). The ranks get cores / ranks,
    # as the runtime's own kernels do and as calibrate-host.sh measured.
    env = dict(os.environ, MP_BUILD_DIR=build,
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", threads),
               OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", threads))
    args.env = env
    launcher = shlex.split(os.environ.get("MP_MPIRUN", "")) or (
        ["mpirun", "--oversubscribe", "--bind-to", "none"]
        + (["--allow-run-as-root"] if os.getuid() == 0 else []))
    simulate = has_simulate(mp_opt)
    log(f"plan-search-bench: {args.ranks} ranks, {env['OMP_NUM_THREADS']} BLAS thread(s) each "
        f"on {cores} cores; machine file {machine_path}; mp-opt {mp_opt}"
        f"{'' if simulate else ' (no --mp-simulate in it: that column stays empty)'}")
    results = {"machine": machine, "machine_file": machine_path, "ranks": args.ranks,
               "steps": args.steps, "warmup": args.warmup, "rounds": args.rounds,
               "statistic": args.statistic,
               "models": {}}
    summary_lines = []

    for name in [m for m in args.models.split(",") if m]:
        work = os.path.join(out, name)
        os.makedirs(work, exist_ok=True)
        logfile = os.path.join(work, "log.txt")
        open(logfile, "w").close()
        model, func = model_setup(args, name, work, mp_opt, logfile)
        # The search, or a report given.
        if name in reports:
            report_path = os.path.abspath(reports[name])
            log(f"\n{name}: report {report_path} (given; --mp-auto-plan not run)")
        else:
            report_path = os.path.join(work, "report.json")
            q = args.auto_plan_quote
            close = "}" if q == "{" else q
            option = (f"ranks={args.ranks} machine={machine_path} memory={args.memory} "
                      f"plan={os.path.join(work, 'best-plan.json')} report={report_path} "
                      f"train-step={q}{args.train_step}{close}"
                      + (" schedules=true" if args.schedules else ""))
            t0 = time.time()
            run([mp_opt, model, f"--mp-auto-plan={option}", "-o", os.devnull], logfile)
            log(f"\n{name}: --mp-auto-plan in {time.time() - t0:.1f} s: {report_path}")
        report = json.load(open(report_path))
        chosen = report.get("chosen")
        cands = report["candidates"]
        ok = [c for c in cands if c.get("status") == "ok"]
        log(f"  {len(cands)} candidates, {len(ok)} within the memory budget; chosen: {chosen}")
        for c in cands:
            if c.get("status") != "ok":
                log(f"    {c['name']}: {c.get('status')}")

        # Compile every ok candidate with its plan (with --schedules, once
        # per schedule the search tried: its passes after --mp-spmd).
        flags = {"--mp-group-fsdp": "--fsdp-groups", "--mp-schedule-collectives": "--overlap",
                 "--mp-schedule-collectives=tp-overlap=true": "--tp-overlap"}
        short = {"--mp-group-fsdp": "group", "--mp-schedule-collectives": "schedule",
                 "--mp-schedule-collectives=tp-overlap=true": "tp-overlap"}
        runs = []
        for c in ok:
            for sched in c.get("schedules") or [{"passes": c.get("passes", ""),
                                                 "step_seconds": c.get("predicted", {}).get("step_seconds"),
                                                 "peak_bytes": c.get("peak_bytes")}]:
                passes = sched["passes"].split()
                suffix = "".join("+" + short[p] for p in passes)
                runs.append((c, c["name"] + suffix, [flags[p] for p in passes], {
                    "predicted": {**c.get("predicted", {}), "step_seconds": sched["step_seconds"]},
                    "peak_bytes": sched["peak_bytes"],
                    "chosen": c["name"] == chosen and sched["passes"] == c.get("passes", ""),
                    "rank": c.get("rank") if sched["passes"] == c.get("passes", "") else None}))
        rows = []
        for c, run_name, schedule_flags, ranked in runs:
            cdir = os.path.join(work, "candidates", run_name)
            os.makedirs(cdir, exist_ok=True)
            plan = os.path.join(cdir, "plan.json")
            with open(plan, "w") as f:
                json.dump(c["plan"], f, indent=2)
            dp, tp = c["mesh"]
            row = {"name": run_name, "mesh": [dp, tp], "rank": ranked["rank"],
                   "chosen": ranked["chosen"], "predicted": ranked["predicted"],
                   "peak_bytes": ranked["peak_bytes"], "bytes_per_rank": c.get("bytes_per_rank"),
                   "dir": cdir, "times_ms": [], "busy_percent": []}
            try:
                run([os.path.join(ROOT, "scripts/run-ffn.sh"), "--no-build", "--no-run",
                     "--mesh", f"{dp}x{tp}", "--model", model, "--plan", plan,
                     "--optimizer", optimizer, "--lr", lr, "--out", cdir] + schedule_flags,
                    os.path.join(cdir, "compile.log"), env=env)
                row["estimate"] = machine_estimate(
                    machine, os.path.join(cdir, "memory.json"),
                    os.path.join(cdir, "comm.json"), os.path.join(cdir, "step.mlir"), func)
                if simulate:
                    sim = os.path.join(cdir, "simulate.json")
                    proc = run([mp_opt, os.path.join(cdir, "step.mlir"),
                                f"--mp-simulate=machine={machine_path} output={sim}",
                                "-o", os.devnull], os.path.join(cdir, "compile.log"),
                               check=False)
                    if proc.returncode == 0:
                        s = json.load(open(sim))
                        funcs = s["functions"] if isinstance(s, dict) else s
                        row["simulated"] = next((f for f in funcs if f["function"] == func), None)
                row["status"] = "compiled"
            except RuntimeError as e:
                row["status"] = "compile failed"
                row["error"] = str(e)[-1000:]
                log(f"    {c['name']}: compile failed (see {cdir}/compile.log)")
            rows.append(row)

        # Time them, round after round, each round in another order, so that
        # what else the machine runs hits every candidate alike.
        live = [r for r in rows if r["status"] == "compiled"]
        for rnd in range(args.rounds):
            order = live[rnd % max(len(live), 1):] + live[:rnd % max(len(live), 1)]
            if rnd % 2:
                order = order[::-1]
            line = []
            for r in order:
                busy = wait_quiet(args.wait_quiet, args.max_wait)
                proc = run(launcher + ["-n", str(args.ranks), os.path.join(r["dir"], "train"),
                                       "--backend", "host", "--steps",
                                       str(args.steps + args.warmup), "--warmup",
                                       str(args.warmup), "--time"],
                           os.path.join(r["dir"], "runs.log"), env=env, check=False)
                m = re.search(r"step time: median ([0-9.]+) ms", proc.stdout)
                if proc.returncode != 0 or not m:
                    r["status"] = "run failed"
                    continue
                r["times_ms"].append(float(m.group(1)))
                r["busy_percent"].append(busy)
                line.append(f"{r['name']} {float(m.group(1)):.1f}"
                            + (f" (busy {busy}%)" if busy > max(args.wait_quiet, 25) else ""))
            log(f"  round {rnd + 1}: " + ", ".join(line))

        # The table.
        measured = [r for r in rows if r["times_ms"]]
        for r in measured:
            r["measured_ms"] = (statistics.median(r["times_ms"]) if args.statistic == "median"
                                else min(r["times_ms"]))
            lo, hi = min(r["times_ms"]), max(r["times_ms"])
            r["noisy"] = hi > 1.25 * lo
            pred = r["predicted"].get("step_seconds")
            r["predicted_ms"] = pred * 1e3 if pred is not None else None
            r["error_percent"] = (100 * (r["predicted_ms"] - r["measured_ms"]) / r["measured_ms"]
                                  if pred is not None else None)
            if r.get("simulated"):
                r["simulated_ms"] = r["simulated"]["step_seconds"] * 1e3
                r["simulated_error_percent"] = 100 * (r["simulated_ms"] - r["measured_ms"]) / r["measured_ms"]
            if r.get("estimate"):
                r["estimate_ms"] = r["estimate"]["step_seconds"] * 1e3
        fastest = min(measured, key=lambda r: r["measured_ms"]) if measured else None
        chosen_row = next((r for r in measured if r["chosen"]), None)
        log(f"\n{name} ({model}, {func}), {args.ranks} ranks; measured: the {args.statistic} "
            f"of {args.rounds} rounds, each the median of {args.steps} steps after {args.warmup}:")
        header = (f"  {'candidate':34} {'mesh':>5} {'rank':>4} {'predicted':>10} {'measured':>10} "
                  f"{'error':>7} {'simulated':>10} {'est.':>8} {'peak MB':>8} {'sent MB':>8}  rounds")
        log(header)
        for r in sorted(rows, key=lambda r: (r.get("measured_ms") is None, r.get("measured_ms", 0))):
            def fmt(v, f="{:.1f}"):
                return f.format(v) if v is not None else "-"
            mark = " <- chosen" if r["chosen"] else ""
            if r is fastest:
                mark += " <- fastest"
            if r.get("noisy"):
                mark += " NOISY"
            log(f"  {r['name'][:34]:34} {r['mesh'][0]}x{r['mesh'][1]:<3} {fmt(r['rank'], '{}'):>4} "
                f"{fmt(r.get('predicted_ms')):>10} {fmt(r.get('measured_ms')):>10} "
                f"{fmt(r.get('error_percent'), '{:+.0f}%'):>7} {fmt(r.get('simulated_ms')):>10} "
                f"{fmt(r.get('estimate_ms')):>8} "
                f"{fmt(r['peak_bytes'] / 1e6 if r.get('peak_bytes') else None):>8} "
                f"{fmt(r['bytes_per_rank'] / 1e6 if r.get('bytes_per_rank') is not None else None):>8}  "
                + " ".join(f"{t:.1f}" for t in r["times_ms"]) + (f" [{r['status']}]" if r["status"] != "compiled" else "")
                + mark)
        verdict = {}
        if fastest and chosen_row:
            ratio = chosen_row["measured_ms"] / fastest["measured_ms"]
            verdict["chosen_over_fastest"] = ratio
            verdict["chosen_within_10_percent"] = ratio <= 1.10
            log(f"  chosen {chosen_row['name']}: {chosen_row['measured_ms']:.1f} ms, "
                f"{100 * (ratio - 1):.1f}% over the fastest measured ({fastest['name']}, "
                f"{fastest['measured_ms']:.1f} ms): {'WITHIN' if ratio <= 1.10 else 'NOT within'} 10%")
        elif measured:
            log(f"  chosen plan {chosen!r} was not measured")
        errs = [abs(r["error_percent"]) for r in measured if r.get("error_percent") is not None]
        if errs:
            within = sum(e <= 25 for e in errs)
            verdict["max_abs_error_percent"] = max(errs)
            verdict["predictions_within_25_percent"] = f"{within}/{len(errs)}"
            log(f"  predictions within 25% of measured: {within}/{len(errs)} "
                f"(largest error {max(errs):.0f}%)")
        sims = [abs(r["simulated_error_percent"]) for r in measured if r.get("simulated_error_percent") is not None]
        if sims:
            log(f"  --mp-simulate within 25%: {sum(e <= 25 for e in sims)}/{len(sims)} "
                f"(largest error {max(sims):.0f}%)")
        results["models"][name] = {"model": model, "function": func, "report": report_path,
                                   "chosen": chosen, "candidates": rows, **verdict}
        summary_lines += [f"{name},{r['name']},{r['mesh'][0]}x{r['mesh'][1]},{r['rank'] or ''},"
                          f"{r.get('predicted_ms') or ''},{r.get('measured_ms') or ''},"
                          f"{r.get('error_percent') if r.get('error_percent') is not None else ''},"
                          f"{r.get('simulated_ms') or ''},{r.get('estimate_ms') or ''},"
                          f"{int(r['chosen'])},{r['status']},"
                          + " ".join(f"{t:.3f}" for t in r["times_ms"]) for r in rows]

    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    with open(os.path.join(out, "results.csv"), "w") as f:
        f.write("model,candidate,mesh,rank,predicted_ms,measured_ms,error_percent,"
                "simulated_ms,estimate_ms,chosen,status,round_medians_ms\n")
        f.write("\n".join(summary_lines) + "\n")
    log(f"\nResults: {out}/results.json, {out}/results.csv")


if __name__ == "__main__":
    main()
