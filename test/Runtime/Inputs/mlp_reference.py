#!/usr/bin/env python3
"""PyTorch (float64) training of the 3-layer MLP of
test/Conversion/LinalgToMP/Inputs/mlp.mlir, the reference that
import-mlp-train.test anchors mp to.

  mlp_reference.py inputs --steps N --seed S INIT.safetensors DATA.safetensors
      fc{1,2,3}.{weight,bias} as nn.Linear initialises them (16 -> 32 -> 32
      -> 8), and N batches of x [N, 8, 16] and target [N, 8, 8] ~ N(0, 1).
  mlp_reference.py train --steps N --lr LR [--max-grad-norm M] INIT DATA
      --save OUT.safetensors
      relu(fc1) -> relu(fc2) -> fc3, MSE loss (mean), gradients clipped to a
      global norm of M (clip_grad_norm_) when given, torch.optim.AdamW with
      PyTorch's defaults but lr; prints `step <i> loss <v>` as mp-train does
      and saves the parameters (f32) under the same names.
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

LAYERS = [("fc1", 16, 32), ("fc2", 32, 32), ("fc3", 32, 8)]


def inputs(args):
    rng = np.random.default_rng(args.seed)
    init = {}
    for name, fan_in, fan_out in LAYERS:
        bound = 1 / np.sqrt(fan_in)
        init[name + ".weight"] = rng.uniform(
            -bound, bound, (fan_out, fan_in)).astype(np.float32)
        init[name + ".bias"] = rng.uniform(-bound, bound,
                                           fan_out).astype(np.float32)
    write(args.init, init)
    write(args.data, {
        "x": rng.standard_normal((args.steps, 8, 16)).astype(np.float32),
        "target": rng.standard_normal((args.steps, 8, 8)).astype(np.float32)})


def train(args):
    params = {name: torch.tensor(value, dtype=torch.float64,
                                 requires_grad=True)
              for name, value in read(args.init).items()}
    data = read(args.data)
    optimizer = torch.optim.AdamW(params.values(), lr=args.lr)
    for step in range(args.steps):
        h = torch.tensor(data["x"][step], dtype=torch.float64)
        for i, (name, _, _) in enumerate(LAYERS):
            h = F.linear(h, params[name + ".weight"], params[name + ".bias"])
            if i + 1 < len(LAYERS):
                h = F.relu(h)
        loss = F.mse_loss(h, torch.tensor(data["target"][step],
                                          dtype=torch.float64))
        optimizer.zero_grad()
        loss.backward()
        if args.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params.values(), args.max_grad_norm)
        optimizer.step()
        print(f"step {step} loss {loss.item():.9g}")
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
    run.add_argument("--max-grad-norm", type=float)
    run.add_argument("--save", required=True)
    run.add_argument("init")
    run.add_argument("data")
    args = parser.parse_args()
    inputs(args) if args.command == "inputs" else train(args)


if __name__ == "__main__":
    main()
