#!/usr/bin/env python3
"""PyTorch training of the Llama-shaped model of examples/llama/gen-llama.py,
the reference that llama-torch.test anchors mp to.

The model is written as torchtitan's Llama (torchtitan/models/llama/model.py):
RMSNorm with a weight, rotary embeddings with complex numbers
(precompute_freqs_cis / apply_rotary_emb: entries 2i and 2i + 1 of head_dim
are one complex number), grouped-query attention with repeat_kv, causal
softmax attention scaled by 1/sqrt(head_dim), the SwiGLU FeedForward
w2(silu(w1 x) * w3 x), TransformerBlock with attention_norm/ffn_norm,
tok_embeddings, a final norm, the output linear and torchtitan's
cross_entropy_loss (mean over every token). Parameter names are torchtitan's,
as gen-llama.py writes them. PyTorch 1.13 has no
F.scaled_dot_product_attention, so attention is the explicit masked softmax
of the Llama 2 reference code (what scaled_dot_product_attention(...,
is_causal=True) computes).

Where torchtitan upcasts to float32 (x.float() in RMSNorm and
apply_rotary_emb, the logits before the loss), this code computes in the
wider of float32 and the model's dtype, so that a float64 run stays float64
throughout; with --dtype float32 it is torchtitan's arithmetic.

  llama_reference.py inputs SIZES --steps N --seed S INIT DATA
      INIT.safetensors: every parameter (f32), seeded: tok_embeddings.weight
      ~ N(0, 1) as nn.Embedding; the linears U(-1/sqrt(fan_in),
      1/sqrt(fan_in)) as nn.Linear; the norm weights U(0.5, 1.5) rather
      than torchtitan's ones, so that a norm weight applied to the wrong
      feature shows from the first step.
      DATA.safetensors: `tokens` and `labels`, i64 [N, batch, seq], labels
      the next token of a sequence of seq + 1 ids uniform over the vocab.
  llama_reference.py train SIZES --steps N --lr LR --weight-decay WD
      [--adam-eps E] [--max-grad-norm M] [--dtype float64|float32]
      --save OUT INIT DATA
      N steps of torch.optim.AdamW (lr, weight_decay; betas (0.9, 0.999)
      as PyTorch's, eps E, PyTorch's 1e-8 by default) over one parameter
      group, so that weight decay applies to every parameter, norm weights
      and embeddings included, as mp's one optimizer config does;
      gradients clipped to a global norm of M by clip_grad_norm_ when
      given. Prints `step <i> loss <v>` as mp-train does, and
      `step <i> grad-norm <g> clipped|unclipped`;
      saves the final parameters (f32, as mp-train does) under their names.
      With --time W, also prints `pytorch step time: median T ms` over the
      steps after the first W (each from zero_grad to the optimizer's
      update; bench/llama-bench.sh sets it beside mp's).

SIZES: --layers --dim --heads [--kv-heads] --ffn-hidden --vocab --seq
--batch [--norm-eps] [--rope-theta], as gen-llama.py's.
"""
import argparse
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Importing tensors.py must not leave a __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tensors import read, write  # noqa: E402


def compute_dtype(dtype):
    """torchtitan's `.float()`: at least float32, float64 stays float64."""
    return torch.promote_types(dtype, torch.float32)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        output = self._norm(x.to(compute_dtype(x.dtype))).type_as(x)
        return output * self.weight


def precompute_freqs_cis(dim, end, theta, dtype):
    real = compute_dtype(dtype)
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].to(real)
                             / dim))
    t = torch.arange(end, device=freqs.device, dtype=real)
    freqs = torch.outer(t, freqs)
    return torch.polar(torch.ones_like(freqs), freqs)


def reshape_for_broadcast(freqs_cis, x):
    ndim = x.ndim
    seqlen = x.shape[1]
    freqs_cis = freqs_cis[0:seqlen]
    assert freqs_cis.shape == (seqlen, x.shape[-1])
    shape = [d if i == 1 or i == ndim - 1 else 1 for i, d in enumerate(x.shape)]
    return freqs_cis.view(*shape)


def apply_rotary_emb(xq, xk, freqs_cis):
    real = compute_dtype(xq.dtype)
    xq_ = torch.view_as_complex(xq.to(real).reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.to(real).reshape(*xk.shape[:-1], -1, 2))
    freqs_cis = reshape_for_broadcast(freqs_cis, xq_)
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def repeat_kv(x, n_rep):
    bs, slen, n_kv_heads, head_dim = x.shape
    if n_rep == 1:
        return x
    return (x[:, :, :, None, :]
            .expand(bs, slen, n_kv_heads, n_rep, head_dim)
            .reshape(bs, slen, n_kv_heads * n_rep, head_dim))


class Attention(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.n_heads = args.heads
        self.n_kv_heads = args.kv_heads
        self.n_rep = self.n_heads // self.n_kv_heads
        self.head_dim = args.dim // args.heads
        self.wq = nn.Linear(args.dim, args.heads * self.head_dim, bias=False)
        self.wk = nn.Linear(args.dim, self.n_kv_heads * self.head_dim,
                            bias=False)
        self.wv = nn.Linear(args.dim, self.n_kv_heads * self.head_dim,
                            bias=False)
        self.wo = nn.Linear(args.heads * self.head_dim, args.dim, bias=False)

    def forward(self, x, freqs_cis):
        bs, seqlen, _ = x.shape
        xq, xk, xv = self.wq(x), self.wk(x), self.wv(x)
        xq = xq.view(bs, seqlen, -1, self.head_dim)
        xk = xk.view(bs, seqlen, -1, self.head_dim)
        xv = xv.view(bs, seqlen, -1, self.head_dim)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis=freqs_cis)
        keys = repeat_kv(xk, self.n_rep)
        values = repeat_kv(xv, self.n_rep)
        xq = xq.transpose(1, 2)  # (bs, n_heads, seqlen, head_dim)
        xk = keys.transpose(1, 2)
        xv = values.transpose(1, 2)
        # F.scaled_dot_product_attention(xq, xk, xv, is_causal=True), which
        # PyTorch 1.13 lacks, as the Llama 2 reference code spells it.
        scores = torch.matmul(xq, xk.transpose(2, 3)) / math.sqrt(self.head_dim)
        mask = torch.full((seqlen, seqlen), float("-inf"), dtype=scores.dtype)
        scores = scores + torch.triu(mask, diagonal=1)
        scores = F.softmax(scores.to(compute_dtype(xq.dtype)), dim=-1)
        output = torch.matmul(scores.type_as(xq), xv)
        output = output.transpose(1, 2).contiguous()
        output = output.view(bs, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    def __init__(self, dim, hidden_dim):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.attention = Attention(args)
        self.feed_forward = FeedForward(args.dim, args.ffn_hidden)
        self.attention_norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.ffn_norm = RMSNorm(args.dim, eps=args.norm_eps)

    def forward(self, x, freqs_cis):
        h = x + self.attention(self.attention_norm(x), freqs_cis)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, args, dtype):
        super().__init__()
        self.tok_embeddings = nn.Embedding(args.vocab, args.dim)
        self.layers = nn.ModuleDict()
        for layer_id in range(args.layers):
            self.layers[str(layer_id)] = TransformerBlock(args)
        self.norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.output = nn.Linear(args.dim, args.vocab, bias=False)
        self.freqs_cis = precompute_freqs_cis(args.dim // args.heads,
                                              args.seq, args.rope_theta, dtype)

    def forward(self, tokens):
        h = self.tok_embeddings(tokens)
        for layer in self.layers.values():
            h = layer(h, self.freqs_cis)
        h = self.norm(h)
        return self.output(h)


def cross_entropy_loss(pred, labels):
    """torchtitan's loss: the mean over every token."""
    return F.cross_entropy(pred.flatten(0, 1).to(compute_dtype(pred.dtype)),
                           labels.flatten(0, 1))


def param_shapes(args):
    """Every parameter's name and shape, in gen-llama.py's order."""
    d, head_dim = args.dim, args.dim // args.heads
    shapes = [("tok_embeddings.weight", (args.vocab, d))]
    for layer in range(args.layers):
        p = f"layers.{layer}."
        shapes += [
            (p + "attention_norm.weight", (d,)),
            (p + "attention.wq.weight", (args.heads * head_dim, d)),
            (p + "attention.wk.weight", (args.kv_heads * head_dim, d)),
            (p + "attention.wv.weight", (args.kv_heads * head_dim, d)),
            (p + "attention.wo.weight", (d, args.heads * head_dim)),
            (p + "ffn_norm.weight", (d,)),
            (p + "feed_forward.w1.weight", (args.ffn_hidden, d)),
            (p + "feed_forward.w2.weight", (d, args.ffn_hidden)),
            (p + "feed_forward.w3.weight", (args.ffn_hidden, d)),
        ]
    return shapes + [("norm.weight", (d,)), ("output.weight", (args.vocab, d))]


def inputs(args):
    rng = np.random.default_rng(args.seed)
    init = {}
    for name, shape in param_shapes(args):
        if name == "tok_embeddings.weight":
            value = rng.standard_normal(shape)
        elif len(shape) == 1:  # a norm weight
            value = rng.uniform(0.5, 1.5, shape)
        else:
            bound = 1 / np.sqrt(shape[1])
            value = rng.uniform(-bound, bound, shape)
        init[name] = value.astype(np.float32)
    write(args.init, init)
    write_batches(args.data, rng, args)


def write_batches(path, rng, args):
    """args.steps batches of `tokens` and `labels` [batch, seq], the labels
    the next token of seq + 1 ids uniform over args.vocab; with
    args.ignored_labels F, each label is -100 (F.cross_entropy's
    ignore_index: padding, a prompt) with probability F; with
    args.pad_tails P, each sequence ends in 0 to seq/2 (uniform) positions
    of token P and label -100, as a collator pads on the right."""
    ids = rng.integers(0, args.vocab, (args.steps, args.batch, args.seq + 1),
                       dtype=np.int64)
    tokens = np.ascontiguousarray(ids[..., :-1])
    labels = np.ascontiguousarray(ids[..., 1:])
    fraction = getattr(args, "ignored_labels", 0.0)
    if fraction:
        labels[rng.random(labels.shape) < fraction] = -100
    pad = getattr(args, "pad_tails", None)
    if pad is not None:
        lengths = rng.integers(0, args.seq // 2 + 1, (args.steps, args.batch))
        tails = np.arange(args.seq) >= args.seq - lengths[..., None]
        tokens[tails] = pad
        labels[tails] = -100
    write(path, {"tokens": tokens, "labels": labels})


def load_parameters(model, weights, source):
    """Copies {name: array} into the model's parameters, which must be
    exactly those names; returns {name: parameter}."""
    params = dict(model.named_parameters())
    if sorted(params) != sorted(weights):
        sys.exit(f"{os.path.basename(sys.argv[0])}: {source} holds "
                 f"{sorted(weights)}, the model {sorted(params)}")
    with torch.no_grad():
        for name, param in params.items():
            param.copy_(torch.from_numpy(weights[name].copy()))
    return params


def adamw(model, args):
    """torch.optim.AdamW with PyTorch's betas over one group, so that
    weight decay applies to every parameter, as mp's optimizer config."""
    return torch.optim.AdamW(model.parameters(), lr=args.lr,
                             betas=(0.9, 0.999), eps=args.adam_eps,
                             weight_decay=args.weight_decay)


def train(args):
    dtype = {"float64": torch.float64, "float32": torch.float32}[args.dtype]
    torch.manual_seed(0)  # construction draws values that are overwritten
    model = Transformer(args, dtype).to(dtype)
    params = load_parameters(model, read(args.init), args.init)
    data = read(args.data)
    optimizer = adamw(model, args)
    step_ms = []
    for step in range(args.steps):
        tokens = torch.from_numpy(data["tokens"][step].copy())
        labels = torch.from_numpy(data["labels"][step].copy())
        start = time.perf_counter()
        loss = cross_entropy_loss(model(tokens), labels)
        optimizer.zero_grad()
        loss.backward()
        print(f"step {step} loss {loss.item():.9g}")
        if args.max_grad_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                  args.max_grad_norm)
            # clip_grad_norm_ scales by min(1, max_norm / (norm + 1e-6)).
            clipped = args.max_grad_norm / (norm.item() + 1e-6) < 1
            state = "clipped" if clipped else "unclipped"
            print(f"step {step} grad-norm {norm.item():.6g} {state}")
        optimizer.step()
        step_ms.append((time.perf_counter() - start) * 1e3)
    if args.time is not None and args.steps > args.time:
        print(f"pytorch step time: median "
              f"{statistics.median(step_ms[args.time:]):.3f} ms")
    write(args.save, {name: param.detach().numpy().astype(np.float32)
                      for name, param in params.items()})


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("inputs")
    run = commands.add_parser("train")
    for command in (make, run):
        for option in ("--layers", "--dim", "--heads", "--ffn-hidden",
                       "--vocab", "--seq", "--batch", "--steps"):
            command.add_argument(option, type=int, required=True)
        command.add_argument("--kv-heads", type=int)
        command.add_argument("--norm-eps", type=float, default=1e-5)
        command.add_argument("--rope-theta", type=float, default=10000.0)
        command.add_argument("init")
        command.add_argument("data")
    make.add_argument("--seed", type=int, required=True)
    make.add_argument("--ignored-labels", type=float, default=0.0,
                      metavar="F")
    run.add_argument("--lr", type=float, required=True)
    run.add_argument("--weight-decay", type=float, required=True)
    run.add_argument("--adam-eps", type=float, default=1e-8)
    run.add_argument("--max-grad-norm", type=float)
    run.add_argument("--dtype", choices=["float64", "float32"],
                     default="float64")
    run.add_argument("--save", required=True)
    run.add_argument("--time", type=int, metavar="WARMUP")
    args = parser.parse_args()
    if args.kv_heads is None:
        args.kv_heads = args.heads
    inputs(args) if args.command == "inputs" else train(args)


if __name__ == "__main__":
    main()
