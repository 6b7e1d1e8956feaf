#!/usr/bin/env python3
"""Times the seed's FFN step under Lightning's ModelParallelStrategy.

  lightning_ffn.py --dim D --hidden H --batch B --steps N --warmup W

The seed's Lightning Fabric example (Lightning 2.3 release notes:
ModelParallelStrategy with w1/w3 ColwiseParallel and w2 RowwiseParallel)
on the GPUs Fabric is given (one by default: a 1x1 mesh, the peer the CUDA
backend's 1x1 step is timed against), AdamW lr=3e-3, loss output.sum(),
TF32 matmuls as pytorch_ffn.py's default. One step is forward, backward,
optimizer.step() and zero_grad() on a batch made before timing. Prints
`lightning step time: median <ms> ms, min <ms> ms over <N> steps`.
"""

import argparse
import statistics
import time

import lightning as L
import torch
from lightning.fabric.strategies import ModelParallelStrategy
from torch.distributed.tensor.parallel import (ColwiseParallel,
                                               RowwiseParallel,
                                               parallelize_module)

# The seed's model, as the PyTorch peers time it (beside this script here
# and in the device bundle).
from pytorch_ffn import FeedForward


def parallelize_feedforward(model, device_mesh):
    plan = {"w1": ColwiseParallel(), "w2": RowwiseParallel(),
            "w3": ColwiseParallel()}
    parallelize_module(model, device_mesh["tensor_parallel"], plan)
    return model


def main():
    parser = argparse.ArgumentParser()
    for name in ("--dim", "--hidden", "--batch", "--steps", "--warmup"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--devices", type=int, default=1)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = True

    strategy = ModelParallelStrategy(parallelize_fn=parallelize_feedforward)
    fabric = L.Fabric(accelerator="cuda", devices=args.devices,
                      strategy=strategy)
    fabric.launch()
    torch.manual_seed(0)
    model = fabric.setup(FeedForward(args.dim, args.hidden))
    optimizer = fabric.setup_optimizers(
        torch.optim.AdamW(model.parameters(), lr=3e-3))
    batch = torch.randn(args.batch, args.dim, device=fabric.device)

    times = []
    for step in range(args.warmup + args.steps):
        torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(batch).sum()
        fabric.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        torch.cuda.synchronize()
        if step >= args.warmup:
            times.append((time.perf_counter() - start) * 1e3)
    fabric.print(f"lightning step time: median {statistics.median(times):.3f}"
                 f" ms, min {min(times):.3f} ms over {len(times)} steps")
    fabric.print(f"lightning peak memory: "
                 f"{torch.cuda.max_memory_allocated() / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
