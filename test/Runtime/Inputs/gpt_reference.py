#!/usr/bin/env python3
"""PyTorch (float64) training of the GPT-2-shaped model of
test/Execution/layer-norm.mlir, the reference that layer-norm-train.test
anchors mp's LayerNorm to.

  gpt_reference.py inputs --steps N --seed S INIT.safetensors DATA.safetensors
      The parameters (norm weights in [0.5, 1.5), norm biases in [-0.5,
      0.5), linear weights as nn.Linear initialises them) and N batches of
      x [N, 4, 6, 8] ~ N(0, 1) and class targets y [N, 4, 6] in [0, 8).
  gpt_reference.py train --steps N --lr LR --weight-decay WD --eps EPS
      [--max-grad-norm M] INIT DATA --save OUT.safetensors
      Two pre-norm blocks h += fc2(gelu(fc1(layer_norm(h)))) (no biases in
      the linears, exact gelu), a final layer_norm, cross entropy (mean)
      over the 8 features; gradients clipped to a global norm of M
      (clip_grad_norm_) when given; torch.optim.AdamW with weight decay on
      every parameter. Prints `step <i> loss <v>` as mp-train does, then
      `step <i> grad-norm <n> clipped|unclipped`, and saves the parameters
      (f32) under the same names.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

# Importing tensors.py must not leave a __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tensors import read, write  # noqa: E402

BATCH, SEQ, DIM, HIDDEN, LAYERS = 4, 6, 8, 16, 2


def param_shapes():
    shapes = []
    for i in range(LAYERS):
        shapes += [(f"layers.{i}.norm.weight", (DIM,)),
                   (f"layers.{i}.norm.bias", (DIM,)),
                   (f"layers.{i}.fc1.weight", (HIDDEN, DIM)),
                   (f"layers.{i}.fc2.weight", (DIM, HIDDEN))]
    return shapes + [("norm.weight", (DIM,)), ("norm.bias", (DIM,))]


def inputs(args):
    rng = np.random.default_rng(args.seed)
    init = {}
    for name, shape in param_shapes():
        if name.endswith("norm.weight"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("norm.bias"):
            value = rng.uniform(-0.5, 0.5, shape)
        else:
            bound = 1 / np.sqrt(shape[1])
            value = rng.uniform(-bound, bound, shape)
        init[name] = value.astype(np.float32)
    write(args.init, init)
    write(args.data, {
        "x": rng.standard_normal((args.steps, BATCH, SEQ, DIM)).astype(
            np.float32),
        "y": rng.integers(0, DIM, (args.steps, BATCH, SEQ), dtype=np.int64)})


def forward(params, x, y, eps):
    def norm(h, prefix):
        return F.layer_norm(h, (DIM,), params[prefix + ".weight"],
                            params[prefix + ".bias"], eps)

    h = x
    for i in range(LAYERS):
        a = F.gelu(F.linear(norm(h, f"layers.{i}.norm"),
                            params[f"layers.{i}.fc1.weight"]))
        h = h + F.linear(a, params[f"layers.{i}.fc2.weight"])
    return F.cross_entropy(norm(h, "norm").reshape(-1, DIM), y.reshape(-1))


def train(args):
    init = read(args.init)
    if sorted(init) != sorted(name for name, _ in param_shapes()):
        sys.exit(f"gpt_reference.py: {args.init} holds {sorted(init)}")
    params = {name: torch.tensor(value, dtype=torch.float64,
                                 requires_grad=True)
              for name, value in init.items()}
    data = read(args.data)
    optimizer = torch.optim.AdamW(params.values(), lr=args.lr,
                                  betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=args.weight_decay)
    for step in range(args.steps):
        x = torch.tensor(data["x"][step], dtype=torch.float64)
        y = torch.from_numpy(data["y"][step].copy())
        loss = forward(params, x, y, args.eps)
        optimizer.zero_grad()
        loss.backward()
        print(f"step {step} loss {loss.item():.9g}")
        if args.max_grad_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(params.values(),
                                                  args.max_grad_norm)
            # clip_grad_norm_ scales by min(1, max_norm / (norm + 1e-6)).
            clipped = args.max_grad_norm / (norm.item() + 1e-6) < 1
            state = "clipped" if clipped else "unclipped"
            print(f"step {step} grad-norm {norm.item():.6g} {state}")
        optimizer.step()
    write(args.save, {name: value.detach().numpy().astype(np.float32)
                      for name, value in params.items()})


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("inputs")
    make.add_argument("--steps", type=int, required=True)
    make.add_argument("--seed", type=int, required=True)
    make.add_argument("init")
    make.add_argument("data")
    run = commands.add_parser("train")
    run.add_argument("--steps", type=int, required=True)
    run.add_argument("--lr", type=float, required=True)
    run.add_argument("--weight-decay", type=float, required=True)
    run.add_argument("--eps", type=float, required=True)
    run.add_argument("--max-grad-norm", type=float)
    run.add_argument("--save", required=True)
    run.add_argument("init")
    run.add_argument("data")
    args = parser.parse_args()
    inputs(args) if args.command == "inputs" else train(args)


if __name__ == "__main__":
    main()
