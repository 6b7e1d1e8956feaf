#!/usr/bin/env python3
"""Random shardings through the whole chain.

Draws shardings at random for the arguments of a model that uses every op
of the dialect and has residual branches (partial values with several
consumers, partial values summed), on 2x2, 1x4, 4x1, 1x2 and 2x1 meshes,
with extents drawn so that many dims split unevenly (3 or 5 over 2 or 4
ranks, some pieces empty); builds its training step, partitions it,
proves its gradient synchronisation, and runs the partitioned step on the
reference interpreter against the unpartitioned one. Any crash, failure or
mismatch is a compiler bug: the input is kept as fuzz-<seed>.mlir.

  scripts/fuzz-spmd.py [--build build] [--seeds 1-200]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

BODY = """\
    %h = mp.linear %x, %w : (tensor<{B}x{S}x{H}xf32>, tensor<{H}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
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
    %mm = mp.matmul %res, %m : (tensor<{B}x{S}x{H}xf32>, tensor<{H}x{H}xf32>) -> tensor<{B}x{S}x{H}xf32>
    %mean = mp.mean %mm dims [2] : tensor<{B}x{S}x{H}xf32> -> tensor<{B}x{S}xf32>
    %mse = mp.mse_loss %mean, %t : (tensor<{B}x{S}xf32>, tensor<{B}x{S}xf32>) -> tensor<f32>
    %flat = mp.reshape %mm : tensor<{B}x{S}x{H}xf32> -> tensor<{BS}x{H}xf32>
    %tr = mp.transpose %flat perm [1, 0] : tensor<{BS}x{H}xf32> -> tensor<{H}x{BS}xf32>
    %ce = mp.cross_entropy %tr, %y : (tensor<{H}x{BS}xf32>, tensor<{H}xi64>) -> tensor<f32>
    %loss = mp.add %mse, %ce : tensor<f32>
    return %loss : tensor<f32>"""

ARGS = [("x", "tensor<{B}x{S}x{H}xf32>", ["B", "S", "H"], "mp.input"),
        ("y", "tensor<{H}xi64>", ["H"], "mp.target"),
        ("t", "tensor<{B}x{S}xf32>", ["B", "S"], "mp.target"),
        ("w", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        ("m", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        # Two branches from one value into a residual: in the backward pass
        # a partial gradient with several consumers, and partials summed.
        ("u1", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        ("u2", "tensor<{H}x{H}xf32>", ["H", "H"], "mp.param"),
        ("unused", "tensor<{S}xf32>", ["S"], "mp.param")]


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


# Extents: batch, sequence, hidden.
EXTENTS = {"B": (2, 3), "S": (4, 3), "H": (8, 5, 6, 3)}


def model(seed):
    rng = random.Random(seed)
    sizes = MESHES[seed % len(MESHES)]
    extents = {name: rng.choice(choices) for name, choices in EXTENTS.items()}
    extents["BS"] = extents["B"] * extents["S"]
    signature = ", ".join(
        '%%%s: %s {%s = "%s", mp.sharding = %s}' %
        (name, type_.format(**extents), role, name,
         random_sharding(rng, [extents[dim] for dim in shape], sizes))
        for name, type_, shape, role in ARGS)
    return ("module {\n  mp.mesh @mesh = <a = %d, b = %d>\n"
            "  func.func @every_op(%s) -> tensor<f32> {\n%s\n  }\n}\n" %
            (sizes[0], sizes[1], signature, BODY.format(**extents)))


def check(build, text):
    """Returns None if the seed's model survives the chain, else why not."""
    mp_opt = os.path.join(build, "bin", "mp-opt")
    mp_run = os.path.join(build, "bin", "mp-run")
    with tempfile.TemporaryDirectory() as tmp:
        step = os.path.join(tmp, "step.mlir")
        spmd = os.path.join(tmp, "spmd.mlir")
        commands = [
            [mp_opt, "-", "--mp-train-step=max-grad-norm=1.0", "-o", step],
            [mp_opt, step, "--mp-spmd", "--mp-verify-gradient-sync", "-o",
             spmd],
            [mp_run, spmd, "--entry=every_op_train_step",
             "--reference=" + step],
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
        problem = check(args.build, text)
        if problem:
            failures += 1
            with open("fuzz-%d.mlir" % seed, "w") as f:
                f.write(text)
            print("seed %d: %s" % (seed, problem))
    print("%d of %d seeds failed" % (failures, last - first + 1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
