#!/usr/bin/env python3
"""mp's step-time predictions for published training runs, beside them.

    bench/published-configs.py [--build DIR] [--only NAME] [--commands]

For each configuration below it writes the model (examples/llama/gen-llama.py)
and the published run's plan (with its bf16 precision, as the published
configs hold it), compiles the training step for the published mesh
(`mp-opt --mp-apply-plan --mp-train-step=optimizer=adamw --mp-spmd
--mp-simulate`, the mesh's ranks never run: partitioning reads types only)
and prints a Markdown table of the prediction against the published figure
(docs/plan-search.md, "Predictions for published configurations", records
its output and says why the errors are what they are).

Sources of the published figures:
* torchtitan: benchmarks/llama3_h100_202412_torchtitan.md in
  github.com/pytorch/torchtitan (Llama 3.1 8B, FSDP, 8 and 128 H100, local
  batch 2; 70B, FSDP 32 x TP 8, local batch 16, torch.compile + Float8);
  seq_len 8192 from train_configs/llama3_8b.toml and llama3_70b.toml at the
  commit that table names (9dec370).
* Megatron-LM: arXiv 1909.08053, section 5.1 and Figure 5 (GPT-2 configs of
  Table 1, batch 8 for model parallel, global batch 512 = 64-way data
  parallel, seq 1024, vocab 51200; 39 TFLOP/s on one V100 and the weak
  scaling efficiencies 100/95/82/77% and 96/83/79/74%).

`--commands` prints the commands of each row instead of running them.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MACHINES = os.path.join(ROOT, "bench", "machines")
GIB = 1024 ** 3


def llama3(layers, dim, heads, kv_heads, ffn, seq, batch):
    return ["--layers", layers, "--dim", dim, "--heads", heads,
            "--kv-heads", kv_heads, "--ffn-hidden", ffn, "--vocab", 128256,
            "--seq", seq, "--batch", batch, "--rope-theta", 500000]


def gpt(layers, dim, heads, batch):
    # GPT-2's MLP is two GEMMs dim -> 4 dim -> dim: 16 dim^2 FLOPs per token
    # forward and 8 dim^2 parameters. A SwiGLU FFN of hidden f has three
    # dim x f GEMMs: 6 dim f. f = 8 dim / 3 gives both the same.
    return ["--layers", layers, "--dim", dim, "--heads", heads,
            "--ffn-hidden", 8 * dim // 3, "--vocab", 51200, "--seq", 1024,
            "--batch", batch]


def fsdp(ranks):
    return {"mesh": {"shape": [ranks], "names": ["data_parallel"]},
            "fsdp": "data_parallel", "reshard_after_forward": True,
            "batch": "data_parallel"}


MEGATRON_LAYOUT = {
    "tok_embeddings": "rowwise",
    "layers.*.attention.wq": "colwise",
    "layers.*.attention.wk": "colwise",
    "layers.*.attention.wv": "colwise",
    "layers.*.attention.wo": "rowwise",
    "layers.*.feed_forward.w1": "colwise",
    "layers.*.feed_forward.w2": "rowwise",
    "layers.*.feed_forward.w3": "colwise",
    "output": "colwise",
}


def megatron(dp, tp):
    """Megatron-LM 2019: tensor parallel within a server (its layout,
    vocab-parallel embedding and loss, no sequence parallelism), plain
    data parallelism (gradient all_reduce, no FSDP) across servers."""
    if dp == 1 and tp == 1:
        return None
    return {"mesh": {"shape": [dp, tp],
                     "names": ["data_parallel", "tensor_parallel"]},
            "tensor_parallel": "tensor_parallel", "batch": "data_parallel",
            "plan": MEGATRON_LAYOUT}


def torchtitan_2d(dp, tp):
    with open(os.path.join(ROOT, "examples", "llama",
                           "plan-torchtitan.json")) as f:
        plan = json.load(f)
    plan["mesh"]["shape"] = [dp, tp]
    plan["reshard_after_forward"] = True
    return plan


# name, source, model args, plan, ranks, machine, tokens per rank per step,
# published value, unit, published memory (GiB) or None, note, the published
# run's activation checkpointing (mp-train-step's recompute).
CONFIGS = []


def add(name, source, model, plan, ranks, machine, metric, published,
        memory, note, recompute, loss_parallel=False, dp_per_host=None):
    """dp_per_host: how many GPUs of one data_parallel group share a host
    (None: the machine file's links as they are)."""
    # The published runs' GEMMs are half precision (bf16; Megatron's fp16
    # runs at the same tensor-core rate as bf16 would), which their configs
    # say beside the parallelism (torchtitan's mixed_precision_param).
    if plan is not None:
        plan = dict(plan, precision="bf16")
    CONFIGS.append(dict(name=name, source=source, model=model, plan=plan,
                        ranks=ranks, machine=machine, metric=metric,
                        published=published, memory=memory, note=note,
                        recompute=recompute, loss_parallel=loss_parallel,
                        dp_per_host=dp_per_host))


# torchtitan, Table 1 and 3: FSDP, eager, selective AC (by op: recompute=op),
# bf16.
add("tt-8b-fsdp8", "torchtitan Table 1",
    llama3(32, 4096, 32, 8, 14336, 8192, 2 * 8), fsdp(8), 8,
    "h100-node.json", ("tokens", 2 * 8192), 5762, 82.4,
    "Llama 3.1 8B, FSDP 8, local batch 2", "op")
add("tt-8b-fsdp128", "torchtitan Table 3",
    llama3(32, 4096, 32, 8, 14336, 8192, 2 * 128), fsdp(128), 128,
    "h100-cluster.json", ("tokens", 2 * 8192), 5605, 67.0,
    "Llama 3.1 8B, FSDP 128, local batch 2", "op", dp_per_host=8)
# torchtitan, Table 4: FSDP 32 x TP 8, torch.compile + Float8 + full AC.
add("tt-70b-2d", "torchtitan Table 4",
    llama3(80, 8192, 64, 8, 28672, 8192, 16 * 32), torchtitan_2d(32, 8), 256,
    "h100-cluster.json", ("tokens", 16 * 8192 / 8), 829, 71.9,
    "Llama 3.1 70B, FSDP 32 x TP 8, local batch 16 (Float8 GEMMs)", "full",
    loss_parallel=True)
# Megatron-LM, Table 1 / Figure 5; its GPT-2 scripts checkpoint every layer
# (--checkpoint-activations: recompute=full).
GPT = [(40, 1536, 16), (54, 1920, 20), (64, 2304, 24), (72, 3072, 32)]
for (layers, dim, heads), tp, eff in zip(GPT, [1, 2, 4, 8],
                                         [1.00, 0.95, 0.82, 0.77]):
    add(f"mg-{tp}", "Megatron-LM Fig. 5", gpt(layers, dim, heads, 8),
        megatron(1, tp), tp, "dgx2h-cluster.json", ("flops",), 39 * eff,
        None, f"GPT {dim}x{layers}, TP {tp}, batch 8", "full",
        loss_parallel=tp > 1)
# A DGX-2H holds 16 GPUs: 16 / TP of each data-parallel group.
for (layers, dim, heads), tp, eff in zip(GPT, [1, 2, 4, 8],
                                         [0.96, 0.83, 0.79, 0.74]):
    add(f"mg-64x{tp}", "Megatron-LM Fig. 5", gpt(layers, dim, heads, 512),
        megatron(64, tp), 64 * tp, "dgx2h-cluster.json", ("flops",),
        39 * eff, None, f"GPT {dim}x{layers}, DP 64 x TP {tp}, batch 512",
        "full", loss_parallel=tp > 1, dp_per_host=16 // tp)


def machine_file(config):
    """The machine file's JSON for a row. The simulator runs a collective
    at its axis's link; a data_parallel ring whose group holds g GPUs of
    each host crosses hosts over those GPUs' share of the hosts' NICs (g
    times the `default` link, a GPU's share), and no faster than the
    host's own fabric (the `tensor_parallel` link): that link is written
    for data_parallel."""
    with open(os.path.join(MACHINES, config["machine"])) as f:
        machine = json.load(f)
    g = config["dp_per_host"]
    if g is not None:
        links = machine["links"]
        links["data_parallel"] = {
            "bytes_per_second": min(links["tensor_parallel"]["bytes_per_second"],
                                    g * links["default"]["bytes_per_second"]),
            "latency_seconds": links["default"]["latency_seconds"]}
        machine["name"] += (f"; data_parallel: {g} GPUs per host share "
                            "its NICs")
    return machine


def commands(config, work, build):
    model = os.path.join(work, config["name"] + ".mlir")
    machine = os.path.join(work, config["name"] + ".machine.json")
    plan = os.path.join(work, config["name"] + ".plan.json")
    sim = os.path.join(work, config["name"] + ".sim.json")
    gen = [sys.executable, os.path.join(ROOT, "examples", "llama",
                                        "gen-llama.py")]
    gen += [str(a) for a in config["model"]]
    opt = [os.path.join(build, "bin", "mp-opt"), model]
    if config["plan"] is not None:
        opt.append("--mp-apply-plan=" + plan)
    if config["loss_parallel"]:
        opt.append("--mp-loss-parallel")
    # A run without a plan (one GPU) says its bf16 precision here.
    opt.append("--mp-train-step=optimizer=adamw" +
               ("" if config["plan"] is not None else " precision=bf16"))
    if config["plan"] is not None:
        opt.append("--mp-spmd")
    if config["dp_per_host"] is None:
        machine = os.path.join(MACHINES, config["machine"])
    opt += ["--mp-simulate=machine=%s output=%s" % (machine, sim),
            "-o", os.devnull]
    return model, plan, sim, gen, opt


def predict(config, work, build):
    model, plan, sim, gen, opt = commands(config, work, build)
    with open(model, "w") as f:
        subprocess.run(gen, stdout=f, check=True)
    if config["plan"] is not None:
        with open(plan, "w") as f:
            json.dump(config["plan"], f, indent=2)
    if config["dp_per_host"] is not None:
        with open(os.path.join(work, config["name"] + ".machine.json"),
                  "w") as f:
            json.dump(machine_file(config), f, indent=2)
    def simulate(command):
        # mp-opt's warnings (the 70B plan's use_local_output) only on
        # failure.
        run = subprocess.run(command, stderr=subprocess.PIPE, text=True)
        if run.returncode:
            sys.exit(f"{shlex.join(command)} failed:\n{run.stderr}")
        with open(sim) as f:
            report = json.load(f)
        step = [fn for fn in report["functions"]
                if fn["function"].endswith("_train_step")]
        assert len(step) == 1, sim
        return step[0]
    plain = simulate(opt)
    # The same step with its collectives scheduled beside compute (FSDP
    # prefetch, asynchronous gradient reductions: docs/overlap.md), as the
    # published runs overlap theirs.
    scheduled = simulate(scheduled_command(opt))
    # Scheduled with the tensor-parallel sums and the work around them in
    # row chunks (--mp-pipeline-tp-sums), the faster of 2 and 4 chunks.
    chunked = min(((simulate(scheduled_command(opt, chunks)), chunks)
                   for chunks in CHUNKS),
                  key=lambda run: run[0]["step_seconds"])
    # As published: scheduled, the published run's activation
    # recomputation, with mp's fusions: attention (on chip where the machine
    # file says so) and SwiGLU on the model, GEMM products added into the
    # gradient sums they feed on the partitioned step.
    fused = simulate(published_command(opt, config))
    os.remove(model)
    return plain, scheduled, chunked, fused


CHUNKS = (2, 4)


MODEL_FUSIONS = ["--mp-fuse-attention", "--mp-fuse-swiglu"]
STEP_FUSIONS = ["--mp-fuse-gemm-accumulate", "--mp-fuse-conversions"]


def published_command(opt, config):
    """`opt` scheduled, with the published run's recomputation, its
    tensor-parallel sums in half precision (torchtitan's bf16 and
    Megatron-LM's fp16 activations are summed as they are computed:
    tp-reduce-dtype=bf16), and with the fusions run on the model, first, and
    on the step (the conversions around those sums among them), last before
    the simulation."""
    opt = [arg + " recompute=" + config["recompute"] + " tp-reduce-dtype=bf16"
           if arg.startswith("--mp-train-step") else arg
           for arg in scheduled_command(opt)]
    at = next(i for i, arg in enumerate(opt)
              if arg.startswith("--mp-simulate"))
    return opt[:2] + MODEL_FUSIONS + opt[2:at] + STEP_FUSIONS + opt[at:]


def scheduled_command(opt, chunks=None):
    if "--mp-spmd" not in opt:
        return opt
    at = opt.index("--mp-spmd") + 1
    pipeline = ([f"--mp-pipeline-tp-sums=chunks={chunks}"]
                if chunks else [])
    return opt[:at] + pipeline + ["--mp-schedule-collectives"] + opt[at:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.environ.get(
        "MP_BUILD_DIR", os.path.join(ROOT, "build")))
    parser.add_argument("--only", default=None,
                        help="run the configurations whose name has this")
    parser.add_argument("--commands", action="store_true",
                        help="print each row's commands, run nothing")
    args = parser.parse_args()
    configs = [c for c in CONFIGS if not args.only or args.only in c["name"]]
    if args.commands:
        # From the repository root, with W a scratch directory.
        def show(argv):
            words = []
            for arg in argv:
                arg = arg.replace(ROOT + os.sep, "")
                words.append(arg if re.fullmatch(r"[\w@%+=:,./$-]+", arg)
                             else '"' + arg + '"')
            return " ".join(words)
        for c in configs:
            _, plan, _, gen, opt = commands(c, "$W", args.build)
            print(f"# {c['name']}: {c['note']}")
            if c["plan"] is not None:
                print(f"cat > {plan} <<'EOF'\n"
                      f"{json.dumps(c['plan'], indent=2)}\nEOF")
            if c["dp_per_host"] is not None:
                print(f"cat > $W/{c['name']}.machine.json <<'EOF'\n"
                      f"{json.dumps(machine_file(c), indent=2)}\nEOF")
            print(show(["python3"] + gen[1:]) + f" > $W/{c['name']}.mlir")
            print(show(opt))
            if scheduled_command(opt) != opt:
                print(show(scheduled_command(opt)))
                for chunks in CHUNKS:
                    print(show(scheduled_command(opt, chunks)))
            print(show(published_command(opt, c)))
        return
    with tempfile.TemporaryDirectory() as work:
        rows = [(c, predict(c, work, args.build)) for c in configs]
    baseline = next((p for c, (p, q, r, _) in rows if c["name"] == "mg-1"),
                    None)
    print("| configuration | source | GPUs | published | predicted "
          "(error) | scheduled (error) | row chunks (error) | overlap bound "
          "(error) | compute s (GEMM s) | comm s | peak GiB (published) "
          "| as published: recomputed, fused, scheduled (error, peak GiB) "
          "|")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for c, (p, q, (r, chunks), fz) in rows:
        with open(os.path.join(MACHINES, c["machine"])) as f:
            machine = json.load(f)
        # The steps' GEMMs are bf16 (the plans' precision, or the option).
        rate = machine.get("gemm_flops_per_second_by_precision", {}).get(
            "bf16", machine["gemm_flops_per_second"])
        step = p["step_seconds"]
        bound = max(p["compute_seconds"], p["comm_seconds"])
        if c["metric"][0] == "tokens":
            unit = "tokens/s/GPU"
            value = lambda s: c["metric"][1] / s
        else:
            unit = "TFLOP/s/GPU"
            value = lambda s: p["gemm_flops"] / s / 1e12
        pred, over = value(step), value(bound)
        sched = value(q["step_seconds"])
        chunked = value(r["step_seconds"])
        # The chunk count, where chunking changed the step.
        chunk_note = (f", {chunks} chunks"
                      if r["step_seconds"] != q["step_seconds"] else "")
        err = lambda v: f"{100 * (v - c['published']) / c['published']:+.0f}%"
        memory = f"{p['peak_bytes'] / GIB:.0f}"
        if c["memory"] is not None:
            memory += f" ({c['memory']})"
        # The published column's FLOP rate counts the model's FLOPs (the
        # plain step's), not the recomputed layers' nor the recomputed
        # scores' its fused attention gradient adds.
        published = value(fz["step_seconds"])
        line = (f"| {c['note']} | {c['source']} | {c['ranks']} | "
                f"{c['published']:.4g} {unit} | {pred:.4g} ({err(pred)}) | "
                f"{sched:.4g} ({err(sched)}) | "
                f"{chunked:.4g} ({err(chunked)}{chunk_note}) | "
                f"{over:.4g} ({err(over)}) | {p['compute_seconds']:.3f} "
                f"({p['gemm_flops'] / rate:.3f}) | {p['comm_seconds']:.3f} "
                f"| {memory} | {published:.4g} ({err(published)}, "
                f"{fz['peak_bytes'] / GIB:.0f}) |")
        print(line)
    if baseline is not None:
        # Each row's FLOP rate over the 1-GPU row's, as Figure 5.
        base = baseline["gemm_flops"] / baseline["step_seconds"]
        print("\n| Megatron-LM weak scaling | GPUs | published | predicted "
              "| scheduled | row chunks | overlap bound |")
        print("|---|--:|--:|--:|--:|--:|--:|")
        for c, (p, q, (r, _), _) in rows:
            if c["name"].startswith("mg-"):
                bound = max(p["compute_seconds"], p["comm_seconds"])
                eff = p["gemm_flops"] / p["step_seconds"] / base
                sched = q["gemm_flops"] / q["step_seconds"] / base
                chunked = r["gemm_flops"] / r["step_seconds"] / base
                over = p["gemm_flops"] / bound / base
                print(f"| {c['note']} | {c['ranks']} | "
                      f"{100 * c['published'] / 39:.0f}% | {100 * eff:.0f}% "
                      f"| {100 * sched:.0f}% | {100 * chunked:.0f}% "
                      f"| {100 * over:.0f}% |")


if __name__ == "__main__":
    main()
