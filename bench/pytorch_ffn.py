#!/usr/bin/env python3
"""Times the seed's FFN training step in PyTorch eager, for bench/ffn-bench.sh.

  pytorch_ffn.py --dim D --hidden H --batch B --steps N --warmup W
                 [--device cpu|cuda] [--threads T] [--fused] [--compile]
                 [--precision fp32|tf32|bf16]

The seed's model (w2(silu(w1 x) * w3 x), no biases, nn.Linear's init),
loss output.sum(), torch.optim.AdamW(lr=3e-3) with its defaults; float32
parameters. --precision (CUDA): tf32 (the default, as mp's default GEMMs),
fp32 (allow_tf32 off) or bf16 (the forward pass under
torch.autocast(dtype=bfloat16): bf16 GEMMs, as mp's precision=bf16 runs
them, with bf16 activations between them where mp keeps float32). One step is forward, backward,
optimizer.step() and zero_grad(); the batch is made before timing. Prints
`pytorch step time: median <ms> ms, min <ms> ms over <N> steps`.
--fused uses AdamW(fused=True) (CUDA), --compile wraps the model in
torch.compile; the modes PyTorch users pick for speed.
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn


class FeedForward(nn.Module):
    def __init__(self, dim, hidden_dim):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def main():
    parser = argparse.ArgumentParser()
    for name in ("--dim", "--hidden", "--batch", "--steps", "--warmup"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--fused", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--precision", choices=("fp32", "tf32", "bf16"),
                        default="tf32")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                              enabled=args.precision == "bf16")

    torch.manual_seed(0)
    model = FeedForward(args.dim, args.hidden).to(device)
    extra = {"fused": True} if args.fused else {}
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, **extra)
    if args.compile:
        model = torch.compile(model)
    batch = torch.randn(args.batch, args.dim, device=device)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    times = []
    for step in range(args.warmup + args.steps):
        synchronize()
        start = time.perf_counter()
        with autocast:
            loss = model(batch).sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize()
        if step >= args.warmup:
            times.append((time.perf_counter() - start) * 1e3)
    print(f"pytorch step time: median {statistics.median(times):.3f} ms, "
          f"min {min(times):.3f} ms over {len(times)} steps")
    print(f"pytorch threads: {torch.get_num_threads()}")
    if device.type == "cuda":
        print(f"pytorch peak memory: "
              f"{torch.cuda.max_memory_allocated() / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
