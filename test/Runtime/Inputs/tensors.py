#!/usr/bin/env python3
"""Makes and compares the files the end-to-end training tests exchange.

  tensors.py ffn-inputs --dim D --hidden H --batch B --steps N --seed S \\
      INIT.safetensors DATA.safetensors
      The FFN's weights (w1, w3 [H, D], w2 [D, H], U(-1/sqrt(fan_in),
      1/sqrt(fan_in)) as nn.Linear) and N batches of x [N, B, D] ~ N(0, 1).
  tensors.py compare A.safetensors B.safetensors --rtol R --atol A
      Same tensor names, dtypes and shapes; every value within
      atol + rtol * |b|. Prints the largest error.
  tensors.py losses A.log B.log --rtol R --atol A
      The `step <i> loss <v>` lines of two runs: the same steps, and every
      loss within atol + rtol * |b|.

  tensors.py dump FILE.safetensors
      Each tensor, sorted by name: `<name> <dtype> [shape] v0 v1 ...`.
  tensors.py mutate IN OUT [--drop NAME] [--as-f64 NAME] [--transpose NAME]
      [--as-f16 NAME] [--as-bf16 NAME] [--every-pattern NAME] [--as-f32 NAME]
      [--set NAME INDEX VALUE] [--truncate BYTES]
      A damaged copy, to check that readers refuse it. --set writes VALUE
      (a float: nan, inf, -inf, 1e30) at the flat INDEX of NAME. --as-f16
      and --as-bf16 round NAME to that dtype (to nearest, ties to even);
      --every-pattern fills an F16 or BF16 NAME of 65536 elements with
      every 16-bit pattern in order, 0 in place of infinities and NaNs;
      --as-f32 widens an F16 or BF16 NAME to F32, exactly.

Exits non-zero, saying what differs, on any mismatch. Reads and writes the
safetensors format by hand (an 8-byte header length, a JSON header, data).
"""

import argparse
import json
import re
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32,
          "I64": np.int64, "F16": np.float16}
# numpy has no bfloat16: its 16 bits, as a dtype of its own.
BF16 = np.dtype([("bf16", "<u2")])


def bf16_bits(array):
    """The bf16 nearest each float32 (ties to even), as its 16 bits."""
    bits = np.asarray(array, np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def dtype_name(array):
    if array.dtype == BF16:
        return "BF16"
    return next(k for k, v in DTYPES.items() if v == array.dtype.type)


def write(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        dtype = dtype_name(array)
        blob = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"))
        blob = blob.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = BF16 if entry["dtype"] == "BF16" else np.dtype(
            DTYPES[entry["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(
            entry["shape"])
    return tensors


def fail(message):
    print("tensors.py: " + message, file=sys.stderr)
    sys.exit(1)


def ffn_inputs(args):
    rng = np.random.default_rng(args.seed)

    def linear(out_features, in_features):
        bound = 1 / np.sqrt(in_features)
        return rng.uniform(-bound, bound,
                           (out_features, in_features)).astype(np.float32)

    write(args.init, {"w1": linear(args.hidden, args.dim),
                      "w2": linear(args.dim, args.hidden),
                      "w3": linear(args.hidden, args.dim)})
    x = rng.standard_normal((args.steps, args.batch, args.dim))
    write(args.data, {"x": x.astype(np.float32)})


def custom_trainer_value(name, salt, index, fan_in):
    """examples/custom-trainer's globalValue, in Python: the same weights
    and batches, for an independent reference run of its step."""
    mask = (1 << 64) - 1
    h = 1469598103934665603 ^ salt
    for c in name.encode():
        h = ((h ^ c) * 1099511628211) & mask
    h ^= (index * 0x9e3779b97f4a7c15) & mask
    h = ((h ^ (h >> 31)) * 0xbf58476d1ce4e5b9) & mask
    unit = (h >> 11) * 2.0**-53 * 2 - 1
    return unit / np.sqrt(fan_in) if fan_in else unit


def custom_trainer_inputs(args):
    def tensor(name, shape, salt, fan_in):
        values = [custom_trainer_value(name, salt, i, fan_in)
                  for i in range(int(np.prod(shape)))]
        return np.array(values, dtype=np.float64).reshape(shape).astype(
            np.float32)

    write(args.init, {
        "w1": tensor("w1", (args.hidden, args.dim), 0, args.dim),
        "w2": tensor("w2", (args.dim, args.hidden), 0, args.hidden),
        "w3": tensor("w3", (args.hidden, args.dim), 0, args.dim)})
    write(args.data, {"x": np.stack([
        tensor("x", (args.batch, args.dim), step + 1, 0)
        for step in range(args.steps)])})


def check_close(what, a, b, rtol, atol):
    """The largest error of a against b, relative to the tolerance."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    # NaN and infinity compare false with everything: a diverged run must
    # never pass for one that agrees.
    for name, values in (("", a), (" (reference)", b)):
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            fail(f"{what}{name}: {values[tuple(bad[0])]!r} at {list(bad[0])}")
    # Equal values are within any tolerance, also a zero one (where 0 / 0
    # would be NaN, which argmax would pick and the comparison pass).
    difference = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(difference == 0, 0.0,
                          difference / (atol + rtol * np.abs(b)))
    worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.size \
        else ()
    if excess.size and excess[worst] > 1:
        fail(f"{what}: {a[worst]!r} and {b[worst]!r} at {list(worst)} differ "
             f"by more than {atol} + {rtol} * |b|")
    return float(np.max(np.abs(a - b))) if excess.size else 0.0


def compare(args):
    a, b = read(args.a), read(args.b)
    if sorted(a) != sorted(b):
        fail(f"{args.a} holds {sorted(a)}, {args.b} holds {sorted(b)}")
    worst = 0.0
    for name in sorted(a):
        if a[name].dtype != b[name].dtype or a[name].shape != b[name].shape:
            fail(f"'{name}' is {a[name].dtype} {list(a[name].shape)} in "
                 f"{args.a} but {b[name].dtype} {list(b[name].shape)} in "
                 f"{args.b}")
        worst = max(worst, check_close(f"'{name}'", a[name], b[name],
                                       args.rtol, args.atol))
    print(f"compare: {len(a)} tensors agree (largest difference {worst:.3g})")


def losses(args):
    def parse(path):
        with open(path) as f:
            found = re.findall(r"^step (\d+) loss (\S+)$", f.read(), re.M)
        return [int(i) for i, _ in found], [float(v) for _, v in found]

    steps_a, a = parse(args.a)
    steps_b, b = parse(args.b)
    if not steps_a or steps_a != steps_b:
        fail(f"{args.a} reports steps {steps_a}, {args.b} steps {steps_b}")
    worst = check_close("losses", a, b, args.rtol, args.atol)
    print(f"losses: {len(a)} steps agree (largest difference {worst:.3g})")


def dump(args):
    for name, array in sorted(read(args.file).items()):
        values = " ".join(f"{v:g}" for v in array.reshape(-1).tolist())
        dtype = dtype_name(array)
        print(f"{name} {dtype} {list(array.shape)} {values}")


def mutate(args):
    tensors = read(args.input)
    for name in args.drop:
        del tensors[name]
    for name, new_name in args.rename:
        tensors[new_name] = tensors.pop(name)
    for name, count in args.keep_first:
        tensors[name] = tensors[name][..., :int(count)].copy()
    for name in args.as_f64:
        tensors[name] = tensors[name].astype(np.float64)
    for name in args.transpose:
        tensors[name] = tensors[name].T
    for name in args.as_f16:
        tensors[name] = tensors[name].astype(np.float16)
    for name in args.as_bf16:
        tensors[name] = bf16_bits(tensors[name]).view(BF16)
    for name in args.every_pattern:
        patterns = np.arange(1 << 16, dtype=np.uint16)
        exponent = 0x7C00 if tensors[name].dtype == np.float16 else 0x7F80
        # All-ones exponent: an infinity or a NaN, which readers refuse.
        patterns[(patterns & exponent) == exponent] = 0
        tensors[name] = patterns.view(tensors[name].dtype).reshape(
            tensors[name].shape)
    for name in args.as_f32:
        array = tensors[name]
        tensors[name] = (array.view(np.uint16).astype(np.uint32) << 16).view(
            np.float32) if array.dtype == BF16 else array.astype(np.float32)
    for name, index, value in args.set:
        tensors[name] = tensors[name].copy()
        tensors[name].reshape(-1)[int(index)] = float(value)
    write(args.output, tensors)
    if args.truncate:
        with open(args.output, "r+b") as f:
            f.truncate(f.seek(0, 2) - args.truncate)


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("ffn-inputs")
    for option in ("--dim", "--hidden", "--batch", "--steps", "--seed"):
        make.add_argument(option, type=int, required=True)
    make.add_argument("init")
    make.add_argument("data")
    make.set_defaults(run=ffn_inputs)
    custom = commands.add_parser("custom-trainer-inputs")
    for option in ("--dim", "--hidden", "--batch", "--steps"):
        custom.add_argument(option, type=int, required=True)
    custom.add_argument("init")
    custom.add_argument("data")
    custom.set_defaults(run=custom_trainer_inputs)
    for name, run in (("compare", compare), ("losses", losses)):
        command = commands.add_parser(name)
        command.add_argument("a")
        command.add_argument("b")
        command.add_argument("--rtol", type=float, required=True)
        command.add_argument("--atol", type=float, default=0.0)
        command.set_defaults(run=run)
    show = commands.add_parser("dump")
    show.add_argument("file")
    show.set_defaults(run=dump)
    damage = commands.add_parser("mutate")
    damage.add_argument("input")
    damage.add_argument("output")
    for option in ("--drop", "--as-f64", "--transpose", "--as-f16",
                   "--as-bf16", "--every-pattern", "--as-f32"):
        damage.add_argument(option, action="append", default=[])
    damage.add_argument("--set", nargs=3, action="append", default=[],
                        metavar=("NAME", "INDEX", "VALUE"))
    damage.add_argument("--rename", nargs=2, action="append", default=[],
                        metavar=("NAME", "NEW_NAME"))
    damage.add_argument("--keep-first", nargs=2, action="append", default=[],
                        metavar=("NAME", "COUNT"),
                        help="the first COUNT entries of NAME's last "
                             "dimension only")
    damage.add_argument("--truncate", type=int, default=0)
    damage.set_defaults(run=mutate)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
