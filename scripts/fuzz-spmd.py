#!/usr/bin/env python3
"""Random shardings through the whole chain.

Draws shardings at random for the arguments of a model that uses every op
a model is written with (the loss-parallel ops through --mp-loss-parallel)
and has residual branches (partial values with several consumers, partial
values summed), on 2x2, 1x4, 4x1, 1x2 and 2x1 meshes, with extents drawn
so that many dims split unevenly (3, 5, 6 or 7 over 2 or 4 ranks, some
pieces empty);
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
against next-token labels; on a third of the seeds, the labels equal to
1 ignored), so the table's gradient sums both (on a third drawn apart,
the lookups of id 0 add nothing to it: padding_idx 0). Sharding
drawn on the arguments often splits dims that rms_norm, rope and softmax
need whole (hidden, sequence, head_dim, keys), so propagation must reshard
them. A third of the seeds normalise with LayerNorm (weight and bias)
instead of RMSNorm, and half (EXTRA_OPS) also add a learned position
table at mp.iota's positions, normalise the queries whole (split by
--mp-split-norms where drawn), clamp them and normalise each query head,
mask the attention bias with an integer mask (mp.mask_bias), bias or cap
the scores (ALiBi as BLOOM's or Falcon-RW's, or Gemma 2's soft cap), take
rsqrt and log before the mean, and cap the logits: the ops the Hugging
Face imports write. mp-run bounds random integer inputs by the rows of
the table that consumes them (ids), the classes of their cross entropy
(labels) or 2 (a mask), so every lookup, label and mask entry is valid.

With --backends, each seed's partitioned step is also compiled, linked
with the stock trainer and trained on its mesh's ranks on those backends
against the model on one rank (run_compiled).

  scripts/fuzz-spmd.py [--build build] [--seeds 1-200]
                       [--backends host,cuda] [--cuda-bin DIR]
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

# A third of the seeds skip the labels equal to 1 (of V >= 3 classes:
# mp-run draws them uniform), PyTorch's ignore_index: the mean over the
# kept labels, their loss sum over their count.
PLAIN_LABELS_LOSS = """\
    %ce2 = mp.cross_entropy %lg, %labels : (tensor<{B}x{S}x{V}xf32>, tensor<{B}x{S}xi64>) -> tensor<f32>
"""
IGNORED_LABELS_LOSS = """\
    %ces2 = mp.cross_entropy %lg, %labels reduction sum ignore_index 1 : (tensor<{B}x{S}x{V}xf32>, tensor<{B}x{S}xi64>) -> tensor<f32>
    %kept2 = mp.target_mask %labels ignore_index 1 : tensor<{B}x{S}xi64> -> tensor<{B}x{S}xf32>
    %count2 = mp.sum %kept2 : tensor<{B}x{S}xf32> -> tensor<f32>
    %ce2 = mp.div %ces2, %count2 : tensor<f32>
"""

# A third of the seeds normalise with LayerNorm (GPT-2's, BLOOM's, ...)
# instead: a bias too, its own argument, drawn apart.
RMS_NORM = """\
    %nrm = mp.rms_norm %x0, %gamma eps 1.0e-5 : (tensor<{B}x{S}x{H}xf32>, tensor<{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
"""
LAYER_NORM = """\
    %nrm = mp.layer_norm %x0, %gamma, %beta eps 1.0e-5 : (tensor<{B}x{S}x{H}xf32>, tensor<{H}xf32>, tensor<{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
"""

# Half the seeds (drawn apart) also use the ops the Hugging Face imports
# write: a learned position table read at mp.iota's positions from row 1
# (GPT-2's wpe, OPT's offset), the q projection RMS-normalised whole
# (OLMo 2's q_norm: with mp-split-norms, drawn apart, split where wq is),
# clamped (MPT's clip_qkv) and each query head RMS-normalised (Qwen3's
# q_norm), an integer attention mask's additive bias (mp.mask_bias, a
# finite fill: a row the causal mask and it drop whole would be NaN),
# scores biased by ALiBi (BLOOM's after the scaling, Falcon-RW's bf16 one
# before it) or soft-capped (Gemma 2's), rsqrt and log before the mean, and
# the logits soft-capped before their loss (Gemma 2's
# final_logit_softcapping). Each is (text replaced wherever it is, its
# replacement).
EXTRA_OPS = [
    # The attention bias's readers (the scores, or the fused attention's
    # output) read it masked.
    ("%bias ", "%biasm "),
    ("""\
    %x0 = mp.add %x, %emb : tensor<{B}x{S}x{H}xf32>
""", """\
    %pos = mp.iota dim 1 start 1 : tensor<{B}x{S}xi64>
    %pe = mp.embedding %pos, %wpe : (tensor<{B}x{S}xi64>, tensor<{S1}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %xe = mp.add %x, %emb : tensor<{B}x{S}x{H}xf32>
    %x0 = mp.add %xe, %pe : tensor<{B}x{S}x{H}xf32>
"""),
    ("""\
    %q4 = mp.reshape %aq : tensor<{B}x{S}x{E}xf32>""", """\
    %aqn = mp.rms_norm %aq, %qwhole eps 1.0e-6 : (tensor<{B}x{S}x{E}xf32>, tensor<{E}xf32>) -> tensor<{B}x{S}x{E}xf32>
    %aqc = mp.clamp %aqn min -1.5 max 1.5 : tensor<{B}x{S}x{E}xf32>
    %q4 = mp.reshape %aqc : tensor<{B}x{S}x{E}xf32>"""),
    ("mp.rope %q4 theta", "mp.rope %q4n theta"),
    ("""\
    %qr = mp.rope""", """\
    %q4n = mp.rms_norm %q4, %qnorm eps 1.0e-6 : (tensor<{B}x{S}x{NH}x{D}xf32>, tensor<{D}xf32>) -> tensor<{B}x{S}x{NH}x{D}xf32>
    %qr = mp.rope"""),
    ("""\
    %scs = mp.scale %sc by 0.5 : tensor<{B}x{NH}x{S}x{S}xf32>
""", """\
{SCORES}    %mb = mp.mask_bias %amask fill -3.0e1 : tensor<{B}x{S}x{S}xi64> -> tensor<{B}x{S}x{S}xf32>
    %mbb = mp.broadcast %mb dims [1] : tensor<{B}x{S}x{S}xf32> -> tensor<{B}x{NH}x{S}x{S}xf32>
    %biasm = mp.add %bias, %mbb : tensor<{B}x{NH}x{S}x{S}xf32>
"""),
    ("""\
    %mean = mp.mean %mm dims [2]""", """\
    %mm2 = mp.mul %mm, %mm : tensor<{B}x{S}x{H}xf32>
    %rq = mp.rsqrt %mm2 eps 1.0 : tensor<{B}x{S}x{H}xf32>
    %lq = mp.log %rq : tensor<{B}x{S}x{H}xf32>
    %mean = mp.mean %lq dims [2]"""),
    ("""\
    %lg = mp.linear %res2, %table : (tensor<{B}x{S}x{H}xf32>, tensor<{V}x{H}xf32>) -> tensor<{B}x{S}x{V}xf32>
""", """\
    %lg0 = mp.linear %res2, %table : (tensor<{B}x{S}x{H}xf32>, tensor<{V}x{H}xf32>) -> tensor<{B}x{S}x{V}xf32>
    %lg1 = mp.scale %lg0 by 0.5 : tensor<{B}x{S}x{V}xf32>
    %lg2 = mp.tanh %lg1 : tensor<{B}x{S}x{V}xf32>
    %lg = mp.scale %lg2 by 2.0 : tensor<{B}x{S}x{V}xf32>
"""),
]
# The scaled scores (%scs), one form drawn per seed.
SCORES = [
    """\
    %scs0 = mp.scale %sc by 0.5 : tensor<{B}x{NH}x{S}x{S}xf32>
    %slopes = mp.alibi_slopes : tensor<{NH}xf32>
    %scs = mp.alibi %scs0, %slopes : tensor<{B}x{NH}x{S}x{S}xf32>, tensor<{NH}xf32>
""", """\
    %slopes = mp.alibi_slopes max_bias 1.6e1 : tensor<{NH}xf32>
    %scb16 = mp.alibi %sc, %slopes bf16_bias : tensor<{B}x{NH}x{S}x{S}xf32>, tensor<{NH}xf32>
    %scs = mp.scale %scb16 by 0.5 : tensor<{B}x{NH}x{S}x{S}xf32>
""", """\
    %scs0 = mp.scale %sc by 0.5 : tensor<{B}x{NH}x{S}x{S}xf32>
    %capped0 = mp.scale %scs0 by 0.25 : tensor<{B}x{NH}x{S}x{S}xf32>
    %capped1 = mp.tanh %capped0 : tensor<{B}x{NH}x{S}x{S}xf32>
    %scs = mp.scale %capped1 by 4.0 : tensor<{B}x{NH}x{S}x{S}xf32>
"""]
# The arguments the extra ops read: name, type, dims, role.
EXTRA_ARGS = [("wpe", "tensor<{S1}x{H}xf32>", ["S1", "H"], "mp.param"),
              ("amask", "tensor<{B}x{S}x{S}xi64>", ["B", "S", "S"],
               "mp.input"),
              ("qnorm", "tensor<{D}xf32>", ["D"], "mp.param"),
              ("qwhole", "tensor<{E}xf32>", ["E"], "mp.param")]

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
          "wv": "layers.1.", "wo": "layers.1.", "m": "layers.1.",
          "beta": "layers.0.", "qnorm": "layers.1.", "qwhole": "layers.1."}


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
    extents["S1"] = extents["S"] + 1
    step_options, _, plan_keys = options(seed)
    layers = re.search(r"recompute=(op|full)|recompute-full-layers",
                       step_options[-1]) is not None

    def argument(name, type_, shape, role, draw=None):
        """An argument, its sharding drawn from `draw` (else apart)."""
        draw = draw or random.Random("%s %d" % (name, seed))
        return '%%%s: %s {%s = "%s", mp.sharding = %s}' % (
            name, type_.format(**extents), role,
            (LAYERS.get(name, "") if layers else "") + name,
            random_sharding(draw, [extents[dim] for dim in shape], sizes))

    signature = ", ".join(argument(*arg, draw=rng) for arg in ARGS)
    body = BODY
    if step_options[0].startswith("--mp-fuse-attention"):
        body = body.replace(UNFUSED_ATTENTION, FUSED_ATTENTION)
    # Drawn apart, so that every earlier seed keeps its model and options.
    if random.Random("ignore %d" % seed).random() < 1 / 3:
        body = body.replace(PLAIN_LABELS_LOSS, IGNORED_LABELS_LOSS)
    if random.Random("padding %d" % seed).random() < 1 / 3:
        body = body.replace("mp.embedding %ids, %table :",
                            "mp.embedding %ids, %table padding_idx 0 :")
    if random.Random("layer norm %d" % seed).random() < 1 / 3:
        body = body.replace(RMS_NORM, LAYER_NORM)
        signature += ", " + argument("beta", "tensor<{H}xf32>", ["H"],
                                     "mp.param")
    extra = random.Random("extra ops %d" % seed)
    if extra.random() < 0.5:
        for old, new in EXTRA_OPS:
            assert old in body, old
            body = body.replace(old, new.replace(
                "{SCORES}", extra.choice(SCORES)))
        signature += "".join(", " + argument(*arg) for arg in EXTRA_ARGS)
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
    A quarter run their small all_reduces side by side as one call each
    (--mp-coalesce-reductions, before the schedule), and half (drawn apart)
    rewrite the RMSNorms over a split dim so it stays split
    (--mp-split-norms, before the step).
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
    # Drawn last, so that every earlier seed keeps the options it had.
    coalesce = rng.random() < 0.25
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
        (["--mp-coalesce-reductions"] if coalesce else []) + \
        (["--mp-schedule-collectives" +
          ("=tp-overlap=true" if tp_overlap else "")] if schedule else []) + \
        ([] if accumulate_first else fuse_accumulate) + \
        (["--mp-fuse-optimizer"] if fuse else []) + \
        (["--mp-fuse-conversions"] if fuse_conversions else [])
    # Drawn apart, so that every earlier seed keeps its options.
    if random.Random("split norms %d" % seed).random() < 0.5:
        step.insert(len(step) - 1, "--mp-split-norms")
    return step, passes, plan_keys


def check(build, text, seed, compiled):
    """Returns None if the seed's model survives the chain, else why not.
    A seed with tp-reduce-dtype=bf16 is checked without it first, exactly;
    then with it, whose rounded sums (of logits before a loss, say) move a
    result by bf16's rounding times the cancellation after it, so to 5%.
    With `compiled` (a dict from backend to the mp-link that links it), the
    partitioned step of the seed's own options is also compiled and
    trained on each backend (run_compiled)."""
    step_options, passes, _ = options(seed)
    tp_reduce = " tp-reduce-dtype=bf16"
    exact = step_options[:-1] + [step_options[-1].replace(tp_reduce, "")]
    exact_text = text.replace(", tp_reduce_dtype = bf16", "")
    with tempfile.TemporaryDirectory() as tmp:
        problem = run_chain(build, tmp, exact_text, exact, passes, [])
        if problem:
            return problem
        if exact != step_options or exact_text != text:
            problem = run_chain(build, tmp, text, step_options, passes,
                                ["--rtol", "5e-2", "--atol", "5e-2"])
            if problem:
                return "tp-reduce-dtype=bf16: " + problem
        if compiled:
            return run_compiled(build, tmp, compiled, text, step_options,
                                passes, seed)
    return None


def run(command, text=None):
    """None if `command` succeeds, else its name, exit code and first line."""
    result = subprocess.run(command, input=text, capture_output=True,
                            text=True)
    if result.returncode == 0:
        return None
    lines = (result.stderr.strip().splitlines() or
             result.stdout.strip().splitlines()[-1:] or ["?"])
    return "%s: exit %d: %s" % (os.path.basename(command[0]),
                                result.returncode, lines[0])


def run_chain(build, tmp, text, step_options, passes, tolerance):
    """Builds the step (tmp/step.mlir), partitions it (tmp/spmd.mlir) and,
    unless `tolerance` is None, runs it on the interpreter against the
    unpartitioned step."""
    mp_opt = os.path.join(build, "bin", "mp-opt")
    mp_run = os.path.join(build, "bin", "mp-run")
    step = os.path.join(tmp, "step.mlir")
    spmd = os.path.join(tmp, "spmd.mlir")
    commands = [
        [mp_opt, "-"] + step_options + ["-o", step],
        [mp_opt, step, "--mp-spmd"] + passes +
        ["--mp-verify-gradient-sync",
         "--mp-memory-report=" + os.path.join(tmp, "memory.json"),
         "-o", spmd],
    ] + ([] if tolerance is None else [
        [mp_run, spmd, "--entry=every_op_train_step",
         "--reference=" + step] + tolerance])
    for command in commands:
        problem = run(command, text)
        if problem:
            return problem
    return None


# Steps each compiled run trains; the trainer's seeded parameters and
# batches are functions of the global index alone, so every mesh trains on
# the same values.
COMPILED_STEPS = 3


def compile_step(build, mp_link, spmd, out):
    """Lowers a partitioned step to the runtime's calls, compiles it to an
    object and links it with the stock trainer (mp-link) as `out`."""
    mp_opt = os.path.join(build, "bin", "mp-opt")
    mp_translate = os.path.join(build, "bin", "mp-translate")
    lowered, obj = out + ".lowered.mlir", out + ".o"
    return (run([mp_opt, spmd, "--mp-lower-to-runtime", "-o", lowered]) or
            run([mp_translate, lowered, "-o", obj]) or
            run([mp_link, obj, "-o", out]))


def run_compiled(build, tmp, compiled, text, step_options, passes, seed):
    """Trains the seed's partitioned step on the mesh's ranks with each
    backend in `compiled`, against the same model on a 1x1 mesh (the same
    options and passes, so no collective) trained on one rank on the host
    backend: the losses of COMPILED_STEPS steps and the parameters after
    them agree to float32 rounding, or to bf16's where the step runs its
    GEMMs in bf16.

    AdamW's first updates are nearly lr times the gradient's sign, so a
    wrong gradient barely moves them: a seeded half of the seeds train with
    SGD instead (lr 0.05, with momentum 0.9 on half of those), whose
    updates are the gradients themselves. With AdamW a gradient near 0
    whose sign rounding flips moves its parameter by up to 2 lr, which the
    parameters' tolerance allows. The CUDA backend runs a captured CUDA
    graph after its first step on a seeded half of the seeds, and its
    collectives over MPI instead of NCCL on a quarter; half of its float32
    seeds have TF32 turned off (NVIDIA_TF32_OVERRIDE=0, which cuBLAS and the
    emulation honour) and are held to float32's tolerance, the others run
    the step's default tf32 and are held to bf16's."""
    rng = random.Random("compiled %d" % seed)
    sgd, momentum = rng.random() < 0.5, rng.random() < 0.5
    graph = rng.random() < 0.5
    over_mpi = not graph and rng.random() < 0.5
    strict = rng.random() < 0.5
    if sgd:
        step_options = step_options[:-1] + [step_options[-1].replace(
            "--mp-train-step=", "--mp-train-step=optimizer=sgd lr=0.05 " +
            ("momentum=0.9 " if momentum else ""))]
    mesh = re.search(r"mp\.mesh @mesh = <a = (\d+), b = (\d+)>", text)
    ranks = int(mesh.group(1)) * int(mesh.group(2))
    single = text.replace(mesh.group(0), "mp.mesh @mesh = <a = 1, b = 1>")
    binaries = {}
    for name, model_text in (("mesh", text), ("reference", single)):
        directory = os.path.join(tmp, name)
        os.mkdir(directory)
        problem = run_chain(build, directory, model_text, step_options,
                            passes, None)
        for backend, mp_link in (compiled.items() if name == "mesh" else
                                 [("host", os.path.join(build, "bin",
                                                        "mp-link"))]):
            binaries[name, backend] = os.path.join(directory, backend)
            problem = problem or compile_step(
                build, mp_link, os.path.join(directory, "spmd.mlir"),
                binaries[name, backend])
        if problem:
            return "%s: %s" % ("1x1 mesh" if name == "reference" else
                               "compiling", problem)
    train = ["--steps", str(COMPILED_STEPS), "--seed", str(seed)]
    reference = binaries["reference", "host"]
    problem = train_compiled([reference] + train, 1, reference, {})
    if problem:
        return "1x1 mesh, host backend: " + problem
    bf16 = "precision=bf16" in step_options[-1] or \
        "precision = bf16" in text
    tensors = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           os.pardir, "test", "Runtime", "Inputs",
                           "tensors.py")
    for backend in compiled:
        flags, environment = [], {}
        if backend == "cuda":
            flags = ["--backend", "cuda"] + \
                (["--cuda-graph"] if graph else []) + \
                (["--cuda-transport", "mpi"] if over_mpi else [])
            # The step's default precision (tf32) lets cuBLAS round the
            # GEMMs' operands to TF32 where the host runs float32 GEMMs.
            if strict and not bf16:
                environment["NVIDIA_TF32_OVERRIDE"] = "0"
        # bf16 and TF32 GEMMs (7 and 10 mantissa bits) differ from float32
        # ones, and between meshes, by their rounding times the
        # cancellation after them.
        tolerance = ["--rtol", "1e-4", "--atol", "1e-5"]
        parameter_tolerance = tolerance if sgd else \
            ["--rtol", "1e-4", "--atol", "6e-3"]
        if bf16 or (backend == "cuda" and not environment):
            tolerance = parameter_tolerance = ["--rtol", "5e-2",
                                               "--atol", "5e-2"]
        result = binaries["mesh", backend]
        problem = (
            train_compiled([result] + train + flags, ranks, result,
                           environment) or
            run([sys.executable, tensors, "losses", result + ".log",
                 reference + ".log"] + tolerance) or
            run([sys.executable, tensors, "compare",
                 result + ".safetensors", reference + ".safetensors"] +
                parameter_tolerance))
        if problem:
            return "%s backend%s%s: %s" % (
                backend, " (SGD)" if sgd else "",
                " ".join([""] + flags + ["%s=%s" % item for item in
                                         environment.items()]),
                problem)
    return None


def train_compiled(command, ranks, out, environment):
    """Runs a linked trainer on `ranks` local ranks with `environment`
    added: the losses in out.log, the parameters in out.safetensors."""
    launcher = ["mpirun", "--oversubscribe", "-n", str(ranks)]
    for name, value in environment.items():
        launcher += ["-x", "%s=%s" % (name, value)]
    if os.geteuid() == 0:
        launcher.insert(1, "--allow-run-as-root")
    result = subprocess.run(launcher + command +
                            ["--save", out + ".safetensors"],
                            capture_output=True, text=True)
    with open(out + ".log", "w") as f:
        f.write(result.stdout)
    if result.returncode == 0:
        return None
    # The first line that says something: not mpirun's, not a sanitizer's
    # rule of '=' signs.
    lines = [line for line in result.stderr.strip().splitlines()
             if "mpirun" not in line and re.search(r"[A-Za-z]", line)] or \
        ["?"]
    return "exit %d: %s" % (result.returncode, lines[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--seeds", default="1-200")
    parser.add_argument(
        "--backends", default="",
        help="comma-separated: host, cuda. Also compile each seed's "
        "partitioned step and train it on that backend (run_compiled)")
    parser.add_argument(
        "--cuda-bin", default=None,
        help="where the mp-link whose runtime has the CUDA backend is "
        "(default: BUILD/emulated-cuda/bin if built, else BUILD/bin)")
    args = parser.parse_args()
    cuda_bin = args.cuda_bin or next(
        (d for d in (os.path.join(args.build, "emulated-cuda", "bin"),
                     os.path.join(args.build, "bin"))
         if os.path.exists(os.path.join(d, "mp-link"))), "")
    links = {"host": os.path.join(args.build, "bin", "mp-link"),
             "cuda": os.path.join(cuda_bin, "mp-link")}
    backends = [b for b in args.backends.split(",") if b]
    unknown = [b for b in backends if b not in links]
    if unknown:
        parser.error("unknown backend '%s' (host, cuda)" % unknown[0])
    compiled = {backend: links[backend] for backend in backends}
    first, last = (int(s) for s in args.seeds.split("-"))
    failures = 0
    for seed in range(first, last + 1):
        text = model(seed)
        problem = check(args.build, text, seed, compiled)
        if problem:
            failures += 1
            with open("fuzz-%d.mlir" % seed, "w") as f:
                f.write(text)
            print("seed %d: %s" % (seed, problem), flush=True)
    print("%d of %d seeds failed" % (failures, last - first + 1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
