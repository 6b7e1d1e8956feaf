#!/usr/bin/env python3
"""One training step in PyTorch, compared with mp-run's.

Rebuilds the inputs mp-run draws for a training step (splitmix64 per
argument, as tools/mp-run does), runs the same model and optimizer step in
PyTorch in float64, and compares every result mp-run printed: new
parameters, optimizer state, the step count and the loss.

  pytorch_reference.py --model ffn|mlp --optimizer adamw|sgd [options] MP_RUN_OUTPUT
"""
import argparse
import sys

import torch
import torch.nn.functional as F

MASK = (1 << 64) - 1


class Random:
    def __init__(self, state):
        self.state = state & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) / float(1 << 53)


def draw(seed, index, shape, kind, classes=10):
    """Argument `index` of the step as mp-run draws it."""
    random = Random(seed * 1000003 + index)
    count = 1
    for extent in shape:
        count *= extent
    values = []
    for _ in range(count):
        if kind == "int":
            values.append(random.next() % classes)
        elif kind == "step":
            values.append(2.0)
        elif kind == "nonnegative":
            values.append(random.uniform())
        else:
            values.append(2 * random.uniform() - 1)
    dtype = torch.int64 if kind == "int" else torch.float64
    return torch.tensor(values, dtype=dtype).reshape(shape)


def parse(path):
    results, current = [], None
    for line in open(path):
        if line.startswith("result #"):
            current = []
            results.append(current)
        else:
            current.extend(float(v) for v in line.split())
    return results


# name -> (parameter shapes, batch arguments (name, shape, kind), loss)
MODELS = {
    "ffn": ([("w1", (16, 8)), ("w2", (8, 16)), ("w3", (16, 8))],
            [("x", (4, 8), "float")],
            lambda p, b: F.linear(F.silu(F.linear(b["x"], p["w1"])) *
                                  F.linear(b["x"], p["w3"]), p["w2"]).sum()),
    "mlp": ([("fc1", (16, 8)), ("fc2", (5, 16))],
            [("x", (4, 8), "float"), ("y", (4,), "int")],
            lambda p, b: F.cross_entropy(
                F.linear(F.gelu(F.linear(b["x"], p["fc1"])), p["fc2"]),
                b["y"])),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--optimizer", choices=["adamw", "sgd"],
                        required=True)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--weight-decay", type=float, default=None)
    parser.add_argument("--nesterov", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rtol", type=float, default=2e-6)
    parser.add_argument("mp_output")
    args = parser.parse_args()

    param_shapes, batch_args, loss_fn = MODELS[args.model]
    states = (["exp_avg", "exp_avg_sq"] if args.optimizer == "adamw" else
              ["momentum_buffer"] if args.momentum else [])
    # The step's argument order: parameters, their state, [step], batch.
    index = 0
    params = {}
    for name, shape in param_shapes:
        params[name] = draw(args.seed, index, shape, "float").requires_grad_()
        index += 1
    state = {}
    for name, shape in param_shapes:
        for s in states:
            kind = "nonnegative" if s == "exp_avg_sq" else "float"
            state[(name, s)] = draw(args.seed, index, shape, kind)
            index += 1
    if args.optimizer == "adamw":
        step = draw(args.seed, index, (), "step")
        index += 1
    classes = 5
    batch = {}
    for name, shape, kind in batch_args:
        batch[name] = draw(args.seed, index, shape, kind, classes)
        index += 1

    ordered = [params[name] for name, _ in param_shapes]
    if args.optimizer == "adamw":
        wd = 0.01 if args.weight_decay is None else args.weight_decay
        optimizer = torch.optim.AdamW(ordered, lr=args.lr, weight_decay=wd)
    else:
        wd = 0.0 if args.weight_decay is None else args.weight_decay
        optimizer = torch.optim.SGD(ordered, lr=args.lr,
                                    momentum=args.momentum, weight_decay=wd,
                                    nesterov=args.nesterov)
    for name, _ in param_shapes:
        p = params[name]
        if args.optimizer == "adamw":
            optimizer.state[p] = {"step": step.clone(),
                                  "exp_avg": state[(name, "exp_avg")],
                                  "exp_avg_sq": state[(name, "exp_avg_sq")]}
        elif args.momentum:
            optimizer.state[p] = {
                "momentum_buffer": state[(name, "momentum_buffer")]}

    loss = loss_fn(params, batch)
    loss.backward()
    optimizer.step()

    expected = [params[name].detach().flatten().tolist()
                for name, _ in param_shapes]
    for name, _ in param_shapes:
        for s in states:
            expected.append(optimizer.state[params[name]][s].flatten().tolist())
    if args.optimizer == "adamw":
        expected.append([float(step) + 1])
    expected.append([loss.item()])

    got = parse(args.mp_output)
    if len(got) != len(expected):
        print("pytorch: mp-run printed %d results, PyTorch has %d" %
              (len(got), len(expected)))
        return 1
    worst = 0.0
    for r, (a, b) in enumerate(zip(got, expected)):
        for i, (x, y) in enumerate(zip(a, b)):
            err = abs(x - y) / max(abs(y), 1e-6)
            worst = max(worst, err)
            # Written so that NaN, which compares false, fails too.
            if not err <= args.rtol:
                print("pytorch: result #%d element %d: mp %.9e, PyTorch %.9e"
                      % (r, i, x, y))
                return 1
    print("pytorch: %d results match (max rel error %.1e)" % (len(got), worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
