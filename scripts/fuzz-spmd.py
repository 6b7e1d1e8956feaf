#!/usr/bin/env python3
"""Random shardings through the whole chain.

Draws shardings at random for the arguments of a model that uses every op
a model is written with (all but mp.layer_norm, and the loss-parallel ops
that --mp-loss-parallel writes, which came later) and has residual
branches (partial values with several consumers, partial values summed),
on 2x2, 1x4, 4x1, 1x2 and 2x1 meshes, with extents drawn so that many dims
split unevenly (3, 5, 6 or 7 over 2 or 4 ranks, some pieces empty);
builds its training step, partitions it, proves its gradient
synchronisation, plans its memory (which checks that no two values live
at once share bytes), and runs the partitioned step on the reference
interpreter against the unpartitioned one. Any crash, failure or
mismatch is a compiler bug: the input is kept as fuzz-<seed>.mlir.

The model is a small transformer block around the original chain of
elementwise ops: token ids into an embedding whose table's vocabulary may
be split (vocab-parallel lookups through mp.localize_index, uneven
included), added to a float input and RMS-normalised with a weight; then
grouped-query attention as Llama's (q, k, v projections, reshape to
[B, S, heads, head_dim] with head_dim even, rope on q and k, the KV heads
repeated by broadcast + reshape, transposes to [B, heads, S, head_dim],
q times transposed k plus an attention-bias input, causal softmax, times v,
back to [B, S, E] and an output projection) as a residual branch; then
silu * tanh and a softmax over the hidden dim before the losses, and an
output head tied to the embedding table (vocab logits, cross entropy
against next-token labels), so the table's gradient sums both. Sharding
drawn on the arguments often splits dims that rms_norm, rope and softmax
need whole (hidden, sequence, head_dim, keys), so propagation must reshard
them. mp-run bounds random integer inputs by the rows of the table that
consumes them (ids) or the classes of their cross entropy (labels), so
every lookup and label is valid.

  scripts/fuzz-spmd.py [--build build] [--seeds 1-200]
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

BODY = """\
    %emb = mp.embedding %ids, %table : (tensor<{B}x{S}xi64>, tensor<{V}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %x0 = mp.add %x, %emb : tensor<{B}x{S}x{H}xf32>
    %nrm = mp.rms_norm %x0, %gamma eps 1.0e-5 : (tensor<{B}x{S}x{H}xf32>, tensor<{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %h = mp.linear %nrm, %w : (tensor<{B}x{S}x{H}xf32>, tensor<{H}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %g = mp.gelu %h tanh : tensor<{B}x{S}x{H}xf32>
    %r = mp.relu %g : tensor<{B}x{S}x{H}xf32>
    %e = mp.exp %r : tensor<{B}x{S}x{H}xf32>
    %s = mp.sigmoid %e : tensor<{B}x{S}x{H}xf32>
    %d = mp.div %s, %e : tensor<{B}x{S}x{H}xf32>
    %n = mp.neg %d : tensor<{B}x{S}x{H}xf32>
    %q = mp.sub %n, %h : tensor<{B}x{S}x{H}xf32>
    %k = mp.scale %q by 0.5 : tensor<{B}x{S}x{H}xf32>
    %a1 = mp.linear %k, %u1 : (tensor<{B}x{S}x{H}xf32>, tensor<{H}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %a2 = mp.linear %k, %u2 : (tensor<{B}x{S}x{H}xf32>, tensor<{H}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %a3 = mp.add %a1, %a2 : tensor<{B}x{S}x{H}xf32>
    %res = mp.add %k, %a3 : tensor<{B}x{S}x{H}xf32>
    %aq = mp.linear %res, %wq : (tensor<{B}x{S}x{H}xf32>, tensor<{E}x{H}xf32>) -> tensor<{B}x{S}x{E}xf32>
    %ak = mp.linear %res, %wk : (tensor<{B}x{S}x{H}xf32>, tensor<{EKV}x{H}xf32>) -> tensor<{B}x{S}x{EKV}xf32>
    %av = mp.linear %res, %wv : (tensor<{B}x{S}x{H}xf32>, tensor<{EKV}x{H}xf32>) -> tensor<{B}x{S}x{EKV}xf32>
    %q4 = mp.reshape %aq : tensor<{B}x{S}x{E}xf32> -> tensor<{B}x{S}x{NH}x{D}xf32>
    %qr = mp.rope %q4 theta 1.0e4 : tensor<{B}x{S}x{NH}x{D}xf32>
    %k4 = mp.reshape %ak : tensor<{B}x{S}x{EKV}xf32> -> tensor<{B}x{S}x{KV}x{D}xf32>
    %kr = mp.rope %k4 theta 1.0e4 : tensor<{B}x{S}x{KV}x{D}xf32>
    %kb = mp.broadcast %kr dims [3] : tensor<{B}x{S}x{KV}x{D}xf32> -> tensor<{B}x{S}x{KV}x{REP}x{D}xf32>
    %kh = mp.reshape %kb : tensor<{B}x{S}x{KV}x{REP}x{D}xf32> -> tensor<{B}x{S}x{NH}x{D}xf32>
    %v4 = mp.reshape %av : tensor<{B}x{S}x{EKV}xf32> -> tensor<{B}x{S}x{KV}x{D}xf32>
    %vb = mp.broadcast %v4 dims [3] : tensor<{B}x{S}x{KV}x{D}xf32> -> tensor<{B}x{S}x{KV}x{REP}x{D}xf32>
    %vh = mp.reshape %vb : tensor<{B}x{S}x{KV}x{REP}x{D}xf32> -> tensor<{B}x{S}x{NH}x{D}xf32>
    %qt = mp.transpose %qr perm [0, 2, 1, 3] : tensor<{B}x{S}x{NH}x{D}xf32> -> tensor<{B}x{NH}x{S}x{D}xf32>
    %kt = mp.transpose %kh perm [0, 2, 3, 1] : tensor<{B}x{S}x{NH}x{D}xf32> -> tensor<{B}x{NH}x{D}x{S}xf32>
    %vt = mp.transpose %vh perm [0, 2, 1, 3] : tensor<{B}x{S}x{NH}x{D}xf32> -> tensor<{B}x{NH}x{S}x{D}xf32>
    %sc = mp.matmul %qt, %kt : (tensor<{B}x{NH}x{S}x{D}xf32>, tensor<{B}x{NH}x{D}x{S}xf32>) -> tensor<{B}x{NH}x{S}x{S}xf32>
    %scs = mp.scale %sc by 0.5 : tensor<{B}x{NH}x{S}x{S}xf32>
    %scb = mp.add %scs, %bias : tensor<{B}x{NH}x{S}x{S}xf32>
    %p = mp.softmax %scb causal : tensor<{B}x{NH}x{S}x{S}xf32>
    %o = mp.matmul %p, %vt : (tensor<{B}x{NH}x{S}x{S}xf32>, tensor<{B}x{NH}x{S}x{D}xf32>) -> tensor<{B}x{NH}x{S}x{D}xf32>
    %ot = mp.transpose %o perm [0, 2, 1, 3] : tensor<{B}x{NH}x{S}x{D}xf32> -> tensor<{B}x{S}x{NH}x{D}xf32>
    %of = mp.reshape %ot : tensor<{B}x{S}x{NH}x{D}xf32> -> tensor<{B}x{S}x{E}xf32>
    %ao = mp.linear %of, %wo : (tensor<{B}x{S}x{E}xf32>, tensor<{H}x{E}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %res2 = mp.add %res, %ao : tensor<{B}x{S}x{H}xf32>
    %sl = mp.silu %res2 : tensor<{B}x{S}x{H}xf32>
    %th = mp.tanh %res2 : tensor<{B}x{S}x{H}xf32>
    %gl = mp.mul %sl, %th : tensor<{B}x{S}x{H}xf32>
    %sm = mp.softmax %gl : tensor<{B}x{S}x{H}xf32>
    %mm = mp.matmul %sm, %m : (tensor<{B}x{S}x{H}xf32>, tensor<{H}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %mean = mp.mean %mm dims [2] : tensor<{B}x{S}x{H}xf32> -> tensor<{B}x{S}xf32>
    %rs = mp.sum %res2 dims [2] : tensor<{B}x{S}x{H}xf32> -> tensor<{B}x{S}xf32>
    %mr = mp.add %mean, %rs : tensor<{B}x{S}xf32>
    %mse = mp.mse_loss %mr, %t : (tensor<{B}x{S}xf32>, tensor<{B}x{S}xf32>) -> tensor<f32>
    %flat = mp.reshape %mm : tensor<{B}x{S}x{H}xf32> -> tensor<{BS}x{H}xf32>
    %tr = mp.transpose %flat perm [1, 0] : tensor<{BS}x{H}xf32> -> tensor<{H}x{BS}xf32>
    %ce = mp.cross_entropy %tr, %y : (tensor<{H}x{BS}xf32>, tensor<{H}xi64>) -> tensor<f32>
    %lg = mp.linear %res2, %table : (tensor<{B}x{S}x{H}xf32>, tensor<{V}x{H}xf32>) -> tensor<{B}x{S}x{V}xf32>
    %ce2 = mp.cross_entropy %lg, %labels : (tensor<{B}x{S}x{V}xf32>, tensor<{B}x{S}xi64>) -> tensor<f32>
    %ls = mp.add %mse, %ce : tensor<f32>
    %loss = mp.add %ls, %ce2 : tensor<f32>
    return %loss : tensor<f32>"""

# Seeds that fuse attention (mp.attention takes no bias) add the bias to
# the attention's output instead, summed over the keys and broadcast over
# head_dim, so that the softmax reads the scaled scores.
UNFUSED_ATTENTION = """\
    %scb = mp.add %scs, %bias : tensor<{B}x{NH}x{S}x{S}xf32>
    %p = mp.softmax %scb causal : tensor<{B}x{NH}x{S}x{S}xf32>
    %o = mp.matmul %p, %vt : (tensor<{B}x{NH}x{S}x{S}xf32>, tensor<{B}x{NH}x{S}x{D}xf32>) -> tensor<{B}x{NH}x{S}x{D}xf32>
"""
FUSED_ATTENTION = """\
    %p = mp.softmax %scs causal : tensor<{B}x{NH}x{S}x{S}xf32>
    %oa = mp.matmul %p, %vt : (tensor<{B}x{NH}x{S}x{S}xf32>, tensor<{B}x{NH}x{S}x{D}xf32>) -> tensor<{B}x{NH}x{S}x{D}xf32>
    %bs = mp.sum %bias dims [3] : tensor<{B}x{NH}x{S}x{S}xf32> -> tensor<{B}x{NH}x{S}xf32>
    %bb = mp.broadcast %bs dims [3] : tensor<{B}x{NH}x{S}xf32> -> tensor<{B}x{NH}x{S}x{D}xf32>
    %o = mp.add %oa, %bb : tensor<{B}x{NH}x{S}x{D}xf32>
"""

ARGS = [("x", "tensor<{B}x{S}x{H}xf32>", ["B", "S", "H"], "mp.input"),
        # Token ids into the embedding: mp-run bounds integer inputs by the
        # rows of the table that consumes them, so every id is valid.
        ("ids", "tensor<{B}x{S}xi64>", ["B", "S"], "mp.input"),
        ("y", "tensor<{H}xi64>", ["H"], "mp.target"),
        ("t", "tensor<{B}x{S}xf32>", ["B", "S"], "mp.target"),
        # Next-token labels over the vocabulary of the tied output head.
        ("labels", "tensor<{B}x{S}xi64>", ["B", "S"], "mp.target"),
        # A split vocabulary (dim 0) makes the lookup vocab-parallel
        # (mp.localize_index, partial sums), unevenly for 3, 5, 6 or 7 rows.
        # The table is tied to the output head too (a linear to vocab
        # logits), so its gradient sums the lookup's and the head's.
        ("table", "tensor<{V}x{H}xf32>", ["V", "H"], "mp.param"),
        ("gamma", "tensor<{H}xf32>", ["H"], "mp.param"),
        ("w", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        ("m", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        # Two branches from one value into a residual: in the backward pass
        # a partial gradient with several consumers, and partials summed.
        ("u1", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        ("u2", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        # An additive attention bias: its drawn sharding lands on the causal
        # softmax's query and key dims, which must be whole.
        ("bias", "tensor<{B}x{NH}x{S}x{S}xf32>", ["B", "NH", "S", "S"],
         "mp.input"),
        # Grouped-query attention: KV heads repeated REP times (broadcast +
        # reshape, as repeat_kv); a split E dim lands on heads or head_dim
        # after the reshape, and rope and the causal softmax must have
        # sequence, head_dim and key dims whole.
        ("wq", "tensor<{E}x{H}xf32>", ["E", "H"], "mp.param"),
        ("wk", "tensor<{EKV}x{H}xf32>", ["EKV", "H"], "mp.param"),
        ("wv", "tensor<{EKV}x{H}xf32>", ["EKV", "H"], "mp.param"),
        ("wo", "tensor<{H}x{E}xf32>", ["H", "E"], "mp.param"),
        ("unused", "tensor<{S}xf32>", ["S"], "mp.param")]

# For recomputation by layer (op, full), the parameters named into two numbered layers (the
# first from the norm to the residual, the second from attention to the
# matmul before the losses); the tied table stays outside both.
LAYERS = {"gamma": "layers.0.", "w": "layers.0.", "u1": "layers.0.",
          "u2": "layers.0.", "wq": "layers.1.", "wk": "layers.1.",
          "wv": "layers.1.", "wo": "layers.1.", "m": "layers.1."}


# Meshes (a, b) to draw from: square, and degenerate ones whose size-1 axes
# must vanish from every collective.
MESHES = [(2, 2), (2, 2), (1, 4), (4, 1), (1, 2), (2, 1)]


def random_sharding(rng, shape, sizes, axes=("a", "b")):
    free = list(axes)
    dims = []
    for extent in shape:
        split = []
        shards = 1
        for axis in list(free):
            size = sizes[axes.index(axis)]
            # Uneven splits as often as even ones where the extent allows.
            if rng.random() < 0.3 and (extent % (shards * size) == 0 or
                                       rng.random() < 0.5):
                split.append(axis)
                shards *= size
                free.remove(axis)
        dims.append(split)
    return "#mp.sharding<@mesh, [%s]>" % ", ".join(
        "[" + ", ".join(split) + "]" for split in dims)


# Extents: batch, sequence, hidden, vocabulary, head_dim (even, for rope),
# KV heads, and query heads per KV head (1: a size-1 broadcast dim).
EXTENTS = {"B": (2, 3), "S": (4, 3), "H": (8, 5, 6, 3), "V": (8, 5, 6, 3, 7),
           "D": (2, 4), "KV": (1, 2, 3), "REP": (1, 2)}


def model(seed):
    rng = random.Random(seed)
    sizes = MESHES[seed % len(MESHES)]
    extents = {name: rng.choice(choices) for name, choices in EXTENTS.items()}
    extents["BS"] = extents["B"] * extents["S"]
    extents["NH"] = extents["KV"] * extents["REP"]
    extents["E"] = extents["NH"] * extents["D"]
    extents["EKV"] = extents["KV"] * extents["D"]
    step_options, _, plan_keys = options(seed)
    layers = re.search(r"recompute=(op|full)|recompute-full-layers",
                       step_options[-1]) is not None
    signature = ", ".join(
        '%%%s: %s {%s = "%s", mp.sharding = %s}' %
        (name, type_.format(**extents), role,
         LAYERS.get(name, "") + name if layers else name,
         random_sharding(rng, [extents[dim] for dim in shape], sizes))
        for name, type_, shape, role in ARGS)
    body = BODY
    if step_options[0].startswith("--mp-fuse-attention"):
        body = body.replace(UNFUSED_ATTENTION, FUSED_ATTENTION)
    attributes = (" attributes {mp.plan = #mp.plan<mesh = @mesh%s>}" %
                  plan_keys if plan_keys else "")
    return ("module%s {\n  mp.mesh @mesh = <a = %d, b = %d>\n"
            "  func.func @every_op(%s) -> tensor<f32> {\n%s\n  }\n}\n" %
            (attributes, sizes[0], sizes[1], signature,
             body.format(**extents)))


def options(seed):
    """The seed's training-step and schedule options, drawn independently of
    one another (so that each pair meets on some seeds) and of the model:
    half the seeds in bf16 (their gathers then move bf16; half of those
    with the GEMMs' operands held in bf16), a fifth with FSDP's collectives
    grouped (one call per group), a third scheduled (asynchronous
    collectives, grouped runs as one; half of those with tp-overlap's
    reordering), a quarter with one fused AdamW call, a quarter with the
    sums of row-by-row GEMMs cut into 2 or 3 row chunks, and a third with
    attention fused (mp-fuse-attention with a scratch cap of 1 or 64 bytes,
    so chunks of one row or a few, or none; the bias is then added to the
    attention's output instead), half with silu · tanh fused
    (mp-fuse-swiglu: mp.swiglu and its gradient), half with GEMM products
    added into the sums they feed (mp-fuse-gemm-accumulate, before the row
    chunks and the schedule on half of those, else after), and a third
    with activation recomputation: a third of those selective (the backward
    pass computes elementwise ops and norms again), a third op and a third
    full (each layer run again, but for attention and every other linear
    with op; the model's parameters then named into two layers, LAYERS).
    Half the bf16 seeds save their activations in bf16 (saved-dtype=bf16:
    rounded where made, so partitioning must reduce a partial sum first),
    and half the recomputing seeds recompute their first layer fully on top
    of the policy (recompute-full-layers=1). A third write the cross
    entropies as the vocabulary-parallel loss's per-row ops first
    (--mp-loss-parallel with 2 or 3 blocks; a cross entropy whose classes
    the blocks do not divide is left whole), and a quarter run the loss over
    the tied table's logits in 2, 3 or 8 chunks of tokens after
    partitioning (--mp-chunk-loss: of the batch, or of the sequence where
    the batch has fewer rows). Half the bf16 seeds end by fusing the step's
    conversions into the kernels beside them (--mp-fuse-conversions), and
    a third of the bf16 seeds sum their partial products in bf16
    (tp-reduce-dtype=bf16; see check). Half the bf16 seeds say their mixed
    precision (precision, saved and TP-sum dtypes) in the module's plan
    instead of the train-step options (PLANNED: the step reads it there).
    Returns the step's passes, the passes after partitioning, and the
    plan's mixed-precision keys ("" for none)."""
    rng = random.Random("options %d" % seed)
    bf16 = rng.random() < 0.5
    narrow = bf16 and rng.random() < 0.5
    group = rng.random() < 0.2
    schedule = rng.random() < 1 / 3
    tp_overlap = schedule and rng.random() < 0.5
    fuse = rng.random() < 0.25
    pipeline = rng.random() < 0.25
    chunks = rng.choice([2, 3])
    fuse_attention = rng.random() < 1 / 3
    chunk_bytes = rng.choice([1, 64, 0])
    fuse_swiglu = rng.random() < 0.5
    accumulate = rng.random() < 0.5
    accumulate_first = rng.random() < 0.5
    recompute = rng.random() < 1 / 3
    recompute_mode = rng.choice(["selective", "op", "full"])
    saved_bf16 = bf16 and rng.random() < 0.5
    first_layer_full = recompute and rng.random() < 0.5
    chunk_loss = rng.random() < 0.25
    loss_chunks = rng.choice([2, 3, 8])
    loss_parallel = rng.random() < 1 / 3
    loss_blocks = rng.choice([2, 3])
    fuse_conversions = bf16 and rng.random() < 0.5
    tp_reduce = bf16 and rng.random() < 1 / 3
    planned = bf16 and rng.random() < 0.5
    precision = (" precision=bf16" if bf16 else "") + \
        (" saved-dtype=bf16" if saved_bf16 else "") + \
        (" tp-reduce-dtype=bf16" if tp_reduce else "")
    plan_keys = ""
    if planned:
        plan_keys = "".join(", %s = %s" % (key.replace("-", "_"), value)
                            for key, value in (word.split("=") for word in
                                               precision.split()))
        precision = ""
    step = (["--mp-fuse-attention=chunk-bytes=%d" % chunk_bytes]
            if fuse_attention else []) + \
        (["--mp-fuse-swiglu"] if fuse_swiglu else []) + \
        (["--mp-loss-parallel=blocks=%d" % loss_blocks]
         if loss_parallel else []) + \
        ["--mp-train-step=max-grad-norm=1.0" + precision +
         (" recompute=" + recompute_mode if recompute else "") +
         (" recompute-full-layers=1" if first_layer_full else "")]
    fuse_accumulate = ["--mp-fuse-gemm-accumulate"] if accumulate else []
    passes = (["--mp-chunk-loss=chunks=%d" % loss_chunks]
              if chunk_loss else []) + \
        (["--mp-narrow-gemm-operands"] if narrow else []) + \
        (["--mp-group-fsdp"] if group else []) + \
        (fuse_accumulate if accumulate_first else []) + \
        (["--mp-pipeline-tp-sums=chunks=%d" % chunks] if pipeline else []) + \
        (["--mp-schedule-collectives" +
          ("=tp-overlap=true" if tp_overlap else "")] if schedule else []) + \
        ([] if accumulate_first else fuse_accumulate) + \
        (["--mp-fuse-optimizer"] if fuse else []) + \
        (["--mp-fuse-conversions"] if fuse_conversions else [])
    return step, passes, plan_keys


def check(build, text, seed):
    """Returns None if the seed's model survives the chain, else why not.
    A seed with tp-reduce-dtype=bf16 is checked without it first, exactly;
    then with it, whose rounded sums (of logits before a loss, say) move a
    result by bf16's rounding times the cancellation after it, so to 5%."""
    step_options, passes, _ = options(seed)
    tp_reduce = " tp-reduce-dtype=bf16"
    exact = step_options[:-1] + [step_options[-1].replace(tp_reduce, "")]
    exact_text = text.replace(", tp_reduce_dtype = bf16", "")
    problem = run_chain(build, exact_text, exact, passes, [])
    if problem or (exact == step_options and exact_text == text):
        return problem
    problem = run_chain(build, text, step_options, passes,
                        ["--rtol", "5e-2", "--atol", "5e-2"])
    return problem and "tp-reduce-dtype=bf16: " + problem


def run_chain(build, text, step_options, passes, tolerance):
    mp_opt = os.path.join(build, "bin", "mp-opt")
    mp_run = os.path.join(build, "bin", "mp-run")
    with tempfile.TemporaryDirectory() as tmp:
        step = os.path.join(tmp, "step.mlir")
        spmd = os.path.join(tmp, "spmd.mlir")
        commands = [
            [mp_opt, "-"] + step_options + ["-o", step],
            [mp_opt, step, "--mp-spmd"] + passes +
            ["--mp-verify-gradient-sync",
             "--mp-memory-report=" + os.path.join(tmp, "memory.json"),
             "-o", spmd],
            [mp_run, spmd, "--entry=every_op_train_step",
             "--reference=" + step] + tolerance,
        ]
        for command in commands:
            result = subprocess.run(command, input=text, capture_output=True,
                                    text=True)
            if result.returncode != 0:
                lines = (result.stderr.strip().splitlines() or ["?"])
                return "%s: exit %d: %s" % (os.path.basename(command[0]),
                                            result.returncode, lines[0])
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--seeds", default="1-200")
    args = parser.parse_args()
    first, last = (int(s) for s in args.seeds.split("-"))
    failures = 0
    for seed in range(first, last + 1):
        text = model(seed)
        problem = check(args.build, text, seed)
        if problem:
            failures += 1
            with open("fuzz-%d.mlir" % seed, "w") as f:
                f.write(text)
            print("seed %d: %s" % (seed, problem), flush=True)
    print("%d of %d seeds failed" % (failures, last - first + 1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
