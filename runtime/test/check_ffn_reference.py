#!/usr/bin/env python3
"""Checks mp-ffn-reference against PyTorch: usage check_ffn_reference.py BIN.

Builds a tiny FFN (dim 6, hidden 5, batch 4) and 3 steps of data, runs the
reference with AdamW and SGD under default and non-default hyperparameters,
and runs the same steps in PyTorch (float64 model, torch.autograd,
torch.optim). The reference prints losses with %.9g and saves F32 weights,
so a value agrees when what it printed or saved is the rounding (to 9
significant digits, or to float32) of some value within 1e-10 relative of
PyTorch's. It also checks that bad inputs are refused with a message naming
the tensor. Exits non-zero on any mismatch.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

RTOL = 1e-10
DIM, HIDDEN, BATCH, STEPS = 6, 5, 4, 3


def write_safetensors(path, tensors):
    """Writes {name: np.ndarray} in the safetensors format, by hand."""
    dtypes = {np.float32: "F32", np.float64: "F64"}
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[array.dtype.type], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """Reads an F32-only safetensors file, checking its layout strictly."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    assert length % 8 == 0, "header is not padded to a multiple of 8"
    header = json.loads(data[8:8 + length].decode())
    buffer = data[8 + length:]
    tensors, covered = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        assert info["dtype"] == "F32", f"{name} is {info['dtype']}"
        begin, end = info["data_offsets"]
        assert begin == covered, f"{name} does not start where the last tensor ended"
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert end - begin == 4 * count, f"{name}: offsets do not match its shape"
        tensors[name] = np.frombuffer(buffer[begin:end], dtype="<f4").reshape(info["shape"])
        covered = end
    assert covered == len(buffer), "bytes after the last tensor"
    return tensors


def rounds_from(stored, exact, round_fn):
    """Whether each stored value is round_fn of a value within RTOL of exact."""
    tol = RTOL * np.abs(exact)
    return (round_fn(exact - tol) <= stored) & (stored <= round_fn(exact + tol))


def torch_run(init, xs, steps, optimizer, hp):
    weights = {n: torch.tensor(init[n], dtype=torch.float64, requires_grad=True)
               for n in ("w1", "w2", "w3")}
    params = [weights["w1"], weights["w2"], weights["w3"]]
    if optimizer == "adamw":
        kwargs = {}
        for key in ("lr", "weight_decay", "eps"):
            if key in hp:
                kwargs[key] = hp[key]
        if "beta1" in hp:
            kwargs["betas"] = (hp["beta1"], hp["beta2"])
        opt = torch.optim.AdamW(params, **kwargs)
    else:
        opt = torch.optim.SGD(params, lr=hp["lr"], momentum=hp.get("momentum", 0),
                              weight_decay=hp.get("weight_decay", 0))
    losses = []
    for i in range(steps):
        x = torch.tensor(xs[i], dtype=torch.float64)
        w1, w2, w3 = params
        out = torch.nn.functional.linear(
            torch.nn.functional.silu(torch.nn.functional.linear(x, w1))
            * torch.nn.functional.linear(x, w3), w2)
        loss = out.sum()
        opt.zero_grad()
        loss.backward()
        for p in params:
            p.grad.mul_(hp.get("grad_scale", 1.0))
        opt.step()
        losses.append(loss.item())
    return losses, {n: w.detach().numpy() for n, w in weights.items()}


CONFIGS = [
    ("adamw defaults", "adamw", {}),
    ("adamw custom", "adamw", {"lr": 0.05, "weight_decay": 0.1, "beta1": 0.8,
                               "beta2": 0.99, "eps": 1e-6, "grad_scale": 0.5}),
    ("sgd plain", "sgd", {"lr": 0.01}),
    ("sgd momentum", "sgd", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.05,
                             "grad_scale": 2.0}),
]

FLAGS = {"lr": "--lr", "weight_decay": "--weight-decay", "beta1": "--beta1",
         "beta2": "--beta2", "eps": "--eps", "momentum": "--momentum",
         "grad_scale": "--grad-scale"}


def main():
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    binary = sys.argv[1]
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(1234)
    init = {"w1": (0.4 * rng.standard_normal((HIDDEN, DIM))).astype(np.float32),
            "w2": (0.4 * rng.standard_normal((DIM, HIDDEN))).astype(np.float32),
            "w3": (0.4 * rng.standard_normal((HIDDEN, DIM))).astype(np.float32)}
    xs = rng.standard_normal((STEPS, BATCH, DIM)).astype(np.float32)
    failures = 0

    def fail(message):
        nonlocal failures
        failures += 1
        print("FAIL:", message)

    with tempfile.TemporaryDirectory() as tmp:
        init_path = os.path.join(tmp, "init.safetensors")
        data_path = os.path.join(tmp, "data.safetensors")
        write_safetensors(init_path, init)
        write_safetensors(data_path, {"x": xs})

        for label, optimizer, hp in CONFIGS:
            out_path = os.path.join(tmp, "out.safetensors")
            command = [binary, "--init", init_path, "--data", data_path,
                       "--steps", str(STEPS), "--optimizer", optimizer,
                       "--save", out_path]
            for key, value in hp.items():
                command += [FLAGS[key], repr(value)]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                fail(f"{label}: exit {run.returncode}: {run.stderr.strip()}")
                continue
            printed = [line.split() for line in run.stdout.splitlines()]
            if [p[:3] for p in printed] != [["step", str(i), "loss"] for i in range(STEPS)]:
                fail(f"{label}: unexpected output {run.stdout!r}")
                continue
            losses, weights = torch_run(init, xs, STEPS, optimizer, hp)
            for i, (p, exact) in enumerate(zip(printed, losses)):
                if not rounds_from(float(p[3]), exact, lambda v: float("%.9g" % v)):
                    fail(f"{label}: step {i} loss {p[3]}, PyTorch {exact!r}")
            saved = read_safetensors(out_path)
            for name, exact in weights.items():
                if saved[name].shape != exact.shape:
                    fail(f"{label}: {name} shape {saved[name].shape}")
                    continue
                ok = rounds_from(saved[name], exact, np.float32)
                if not ok.all():
                    fail(f"{label}: {name} differs at {np.argwhere(~ok).tolist()}: "
                         f"{saved[name][~ok]} vs PyTorch {exact[~ok]}")
                # The training moved every weight by more than float32's
                # rounding, so the comparison above saw the updates.
                if (saved[name] == init[name]).any():
                    fail(f"{label}: {name} has weights the steps did not move")
            print(f"{label}: losses {[p[3] for p in printed]} agree")

        # Inputs the reference must refuse, naming the tensor.
        bad_cases = [
            ("missing w2", {"w1": init["w1"], "w3": init["w3"]}, {"x": xs}, STEPS, "'w2'"),
            ("w3 transposed", {**init, "w3": init["w3"].T.copy()}, {"x": xs}, STEPS, "'w3'"),
            ("w1 in F64", {**init, "w1": init["w1"].astype(np.float64)}, {"x": xs}, STEPS,
             "'w1'"),
            ("x of the wrong dim", init, {"x": xs[:, :, :5].copy()}, STEPS, "'x'"),
            ("too few steps", init, {"x": xs}, STEPS + 1, "'x'"),
        ]
        for label, bad_init, bad_data, steps, name in bad_cases:
            write_safetensors(init_path, bad_init)
            write_safetensors(data_path, bad_data)
            run = subprocess.run([binary, "--init", init_path, "--data", data_path,
                                  "--steps", str(steps)], capture_output=True, text=True)
            if run.returncode != 1 or name not in run.stderr:
                fail(f"{label}: exit {run.returncode}, stderr {run.stderr.strip()!r}")
            else:
                print(f"{label}: refused: {run.stderr.strip()}")

    print("check_ffn_reference:", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
