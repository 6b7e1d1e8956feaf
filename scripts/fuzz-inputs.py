#!/usr/bin/env python3
"""Mutated plan files, safetensors headers, machine files and checkpoints
through the tools.

Each seed takes a valid input, mutates it (structurally: values of the wrong
type, huge and negative numbers, names carrying quotes, newlines and
non-ASCII, repeated and unknown keys, deep nesting; and byte-wise: flips,
insertions, deletions, truncation) and runs the tool that reads it:

  plan         mp-opt FFN --mp-apply-plan=MUTATED --mp-train-step --mp-spmd
               --mp-verify-gradient-sync --mp-lower-to-runtime
  safetensors  the FFN trainer (1 rank) --init MUTATED --steps 1
  machine      mp-opt FFN --mp-apply-plan --mp-train-step --mp-spmd
               --mp-simulate=machine=MUTATED (even seeds), or
               --mp-auto-plan=ranks=4 machine=MUTATED (odd seeds)
  checkpoint   a 2x2 checkpoint of the FFN with its index.json, one rank
               file's header or `latest` mutated: mp-ckpt verify, mp-ckpt
               consolidate, and the 1-rank trainer --resume (resharding)

The only acceptable outcomes are success and one error message with exit
status 1; a simulation's or search's report must then be JSON with finite
numbers. A signal, another status, "LLVM ERROR", a missing message or a
run past the timeout is a bug: the input is kept as fuzz-<kind>-<seed>.* in
the output directory and the script exits 1.

  scripts/fuzz-inputs.py [--build build]
                         [--kinds plan,safetensors,machine,checkpoint]
                         [--seeds 1-200] [--out DIR]
"""
import argparse
import json
import math
import os
import random
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 60

# Values a mutation puts where another was: each type JSON has, sizes at the
# edges of int32/int64/uint64, and strings that would break generated files.
ODD_VALUES = [
    None, True, -1, 0, 1, 2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64,
    -2**63, 1e308, -0.5, "", "x", 'a"b', "a\nb", "a\\b", "a b", "a,b",
    "\u00e9\u4e2d", "\x00", "*/", "??/", [], {}, [1, 2], {"k": "v"},
]


DEEP = "__deep_%d__"


def nest_deep(text):
    for depth in (5, 40, 2000):
        text = text.replace('"%s"' % (DEEP % depth),
                            "[" * depth + "1" + "]" * depth)
    return text


def odd_value(rng):
    if rng.random() < 0.15:
        return rng.choice(["", "w"]) * rng.randint(250, 300)
    return rng.choice(ODD_VALUES)


def paths(value, prefix=()):
    """Every (container path) in a JSON value, for structural mutations."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, prefix + (index,))


def get(value, path):
    for step in path:
        value = value[step]
    return value


def mutate_tree(tree, rng):
    """One structural mutation of a parsed JSON value, in place."""
    path = rng.choice(list(paths(tree)))
    if not path:
        return odd_value(rng) if rng.random() < 0.1 else tree
    parent, key = get(tree, path[:-1]), path[-1]
    choice = rng.randrange(5)
    if choice == 0:
        parent[key] = odd_value(rng)
    elif choice == 1 and isinstance(parent, dict):
        del parent[key]
    elif choice == 1:
        parent.pop(key)
    elif choice == 2 and isinstance(parent, dict):
        name = odd_value(rng)
        parent[name if isinstance(name, str) else "unknown"] = odd_value(rng)
    elif choice == 3:
        # Nested in the text after dumping: Python's json recurses too.
        parent[key] = DEEP % rng.choice([5, 40, 2000])
    else:
        child = parent[key]
        if isinstance(child, str):
            parent[key] = child + rng.choice(['"', "\n", " ", ",", "\\"])
        elif isinstance(child, int) and not isinstance(child, bool):
            parent[key] = rng.choice([-child, child * 2**33, child + 1])
    return tree


def mutate_bytes(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        choice = rng.randrange(4)
        if choice == 0:
            data[at] ^= 1 << rng.randrange(8)
        elif choice == 1:
            data.insert(at, rng.choice(b'{}[]",:\\\n0123456789'))
        elif choice == 2:
            del data[at]
        else:
            del data[at:]
    return bytes(data)


def repeat_a_key(text, rng):
    """A key given twice in one object (JSON keeps the last silently)."""
    keys = [k for k in ('"plan"', '"mesh"', '"w1"', '"precision"',
                        '"dtype"', '"shape"', '"data_offsets"', '"links"',
                        '"op_seconds"', '"tensors"', '"files"', '"step"')
            if k in text]
    if not keys:
        return text
    key = rng.choice(keys)
    at = text.index(key)
    end = text.find(",", at)
    if end < 0:
        return text
    return text[:end + 1] + text[at:end + 1] + text[end + 1:]


def mutate_json_text(text, rng):
    choice = rng.randrange(4)
    if choice == 0:
        return mutate_bytes(text.encode(), rng)
    if choice == 1:
        return repeat_a_key(text, rng).encode()
    tree = json.loads(text)
    for _ in range(rng.randint(1, 3)):
        tree = mutate_tree(tree, rng)
    return nest_deep(json.dumps(tree, ensure_ascii=rng.random() < 0.5)).encode()


def mutate_safetensors(data, rng):
    (length,) = struct.unpack("<Q", data[:8])
    header, body = data[8:8 + length].decode(), data[8 + length:]
    choice = rng.randrange(6)
    if choice == 0:  # the length prefix
        length = rng.choice([0, 1, length + 1, length - 1, 2**63, 2**64 - 1,
                             len(data), 2**40])
        return struct.pack("<Q", length) + data[8:]
    if choice == 1:  # the data buffer
        return data[:8 + length] + body[:rng.randrange(len(body) + 1)]
    if choice == 2:  # offsets, shapes and dtypes of one tensor
        tree = json.loads(header)
        name = rng.choice([k for k in tree if k != "__metadata__"])
        field = rng.choice(["dtype", "shape", "data_offsets"])
        if field == "dtype":
            tree[name][field] = rng.choice(["F16", "BF16", "I8", "F64", "F32",
                                            "", "f32", 7])
        elif field == "shape":
            tree[name][field] = rng.choice([[], [0], [2**62, 4], [-1, 4],
                                            [2**32, 2**32], [1.5], ["a"]])
        else:
            tree[name][field] = rng.choice([[0, 2**63], [8, 4], [-4, 0],
                                            [0, 2**64], [0], [0, 1, 2]])
        new = json.dumps(tree).encode()
    else:
        new = mutate_json_text(header, rng)
    return struct.pack("<Q", len(new)) + new + body


def mutate_checkpoint(source, target, rng):
    """A copy of the checkpoint directory `source` at `target` with its
    newest step's index.json (half the seeds), one rank file's header (a
    third) or `latest` (the rest) mutated."""
    shutil.copytree(source, target)
    with open(os.path.join(target, "latest")) as f:
        step = os.path.join(target, f.read().strip())
    choice = rng.random()
    if choice < 1 / 2:
        index = os.path.join(step, "index.json")
        with open(index) as f:
            text = f.read()
        with open(index, "wb") as f:
            f.write(mutate_json_text(text, rng))
    elif choice < 5 / 6:
        rank = os.path.join(step, "rank-%05d.safetensors" % rng.randrange(4))
        with open(rank, "rb") as f:
            data = f.read()
        with open(rank, "wb") as f:
            f.write(mutate_safetensors(data, rng))
    else:
        with open(os.path.join(target, "latest"), "w") as f:
            f.write(rng.choice(["", "step-0", "step-99999999999999999999",
                                "../checkpoint/step-2", "step-2/../..",
                                "/dev/zero", "step-2\n", "latest",
                                "x" * 5000]))


def run(command, env=None):
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=TIMEOUT,
                              env=env)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % TIMEOUT
    return done.returncode, done.stdout.decode(errors="replace")


def verdict(code, output, message):
    """None when the outcome is acceptable, else what is wrong."""
    if code is None:
        return output
    if "LLVM ERROR" in output or "Assertion" in output:
        return "aborted: " + output[-400:]
    if code == 0:
        return None
    if code != 1:
        return "exit status %d: %s" % (code, output[-400:])
    if message not in output:
        return "exit status 1 without a message: " + output[-400:]
    return None


def finite_json(path):
    """None when `path` is JSON whose numbers are all finite, else what is
    wrong (Python's json reads NaN and Infinity, which JSON has not)."""
    def refuse(token):
        raise ValueError("not JSON: " + token)
    try:
        with open(path) as f:
            report = json.load(f, parse_constant=refuse)
    except (OSError, ValueError) as error:
        return "report %s: %s" % (path, error)
    numbers = [value for path_ in paths(report)
               for value in [get(report, path_)]
               if isinstance(value, float)]
    if not all(math.isfinite(value) for value in numbers):
        return "report %s: a number is not finite" % path
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--kinds",
                        default="plan,safetensors,machine,checkpoint")
    parser.add_argument("--seeds", default="1-100")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    kinds = args.kinds.split(",")
    out = args.out or tempfile.mkdtemp(prefix="mp-fuzz-inputs-")
    os.makedirs(out, exist_ok=True)
    bindir = os.path.join(args.build, "bin")

    # The FFN, compiled for one rank, and a valid plan and weights file.
    ffn = os.path.join(out, "ffn")
    env = dict(os.environ, MP_BUILD_DIR=args.build)
    subprocess.run([os.path.join(ROOT, "scripts", "run-ffn.sh"), "--no-build",
                    "--no-run", "--mesh", "1x1", "--dim", "16", "--hidden",
                    "32", "--batch", "4", "--out", ffn], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(ROOT, "examples", "ffn", "plan.json")) as f:
        plan = f.read()
    # Odd seeds mutate the plan with its mixed precision (a bf16 step).
    mixed_plan = json.loads(plan)
    mixed_plan.update({"precision": "bf16", "reduce_dtype": "f32",
                       "tp_reduce_dtype": "bf16", "saved_dtype": "bf16"})
    mixed_plan = json.dumps(mixed_plan, indent=2)
    train_env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
                     OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    # Under a sanitized build, no leak detection in the trainer, as
    # test/lit.cfg.py's %mpirun: Open MPI and NCCL leave allocations unfreed
    # at exit.
    if "detect_leaks=1" in train_env.get("ASAN_OPTIONS", ""):
        train_env["ASAN_OPTIONS"] = train_env["ASAN_OPTIONS"].replace(
            "detect_leaks=1", "detect_leaks=0")
    weights = os.path.join(out, "weights.safetensors")
    if "safetensors" in kinds:
        subprocess.run([os.path.join(ffn, "train"), "--steps", "1", "--save",
                        weights], env=train_env, check=True,
                       stdout=subprocess.DEVNULL)
        with open(weights, "rb") as f:
            valid_weights = f.read()

    # A machine file with every field (bench/machines/host-4ranks.json's
    # rates, a link per axis, per-precision GEMM rates, on-chip attention).
    with open(os.path.join(ROOT, "bench", "machines", "host-4ranks.json")) as f:
        machine = json.load(f)
    machine["links"]["tensor_parallel"] = dict(machine["links"]["default"])
    machine.update({"gemm_flops_per_second_by_precision": {"bf16": 1e11},
                    "on_chip_attention": {"bf16": 128},
                    "collective_factors": dict(machine["collective_factors"],
                                               all_to_all=1.5)})
    machine = json.dumps(machine, indent=2)

    # A checkpoint of the same FFN trained 2 steps on 2x2 (FSDP x TP), which
    # the 1-rank trainer resumes by resharding.
    mp_ckpt = os.path.join(bindir, "mp-ckpt")
    checkpoint = os.path.join(out, "checkpoint")
    if "checkpoint" in kinds:
        subprocess.run([os.path.join(ROOT, "scripts", "run-ffn.sh"),
                        "--no-build", "--no-run", "--mesh", "2x2", "--dim",
                        "16", "--hidden", "32", "--batch", "4", "--out",
                        ffn + "-2x2"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        # The launcher run-ffn.sh uses ($MP_MPIRUN: lit's, in the suite).
        launcher = shlex.split(os.environ.get("MP_MPIRUN",
                                              "mpirun --oversubscribe"))
        subprocess.run(launcher + ["-n", "4", os.path.join(ffn + "-2x2",
                                                           "train"),
                                   "--steps", "2", "--checkpoint", checkpoint],
                       env=train_env, check=True, stdout=subprocess.DEVNULL)

    failures = counts = 0
    outcomes = {}
    for seed in seeds:
        for kind in kinds:
            rng = random.Random("%s-%d" % (kind, seed))
            if kind == "plan":
                path = os.path.join(out, "fuzz-plan-%d.json" % seed)
                with open(path, "wb") as f:
                    f.write(mutate_json_text(mixed_plan if seed % 2
                                             else plan, rng))
                code, output = run([
                    os.path.join(bindir, "mp-opt"),
                    os.path.join(ffn, "ffn.mlir"), "--mp-apply-plan=" + path,
                    "--mp-train-step", "--mp-spmd",
                    "--mp-verify-gradient-sync", "--mp-lower-to-runtime",
                    "-o", os.devnull])
                problem = verdict(code, output, "error:")
            elif kind == "safetensors":
                path = os.path.join(out, "fuzz-safetensors-%d.safetensors" %
                                    seed)
                with open(path, "wb") as f:
                    f.write(mutate_safetensors(valid_weights, rng))
                code, output = run([os.path.join(ffn, "train"), "--init", path,
                                    "--steps", "1"], env=train_env)
                problem = verdict(code, output, "mp-train:")
            elif kind == "machine":
                path = os.path.join(out, "fuzz-machine-%d.json" % seed)
                with open(path, "wb") as f:
                    f.write(mutate_json_text(machine, rng))
                report = path + ".report.json"
                search = (["--mp-auto-plan=ranks=4 machine=%s report=%s" %
                           (path, report)] if seed % 2 else
                          ["--mp-apply-plan=" + os.path.join(
                              ROOT, "examples", "ffn", "plan.json"),
                           "--mp-train-step", "--mp-spmd",
                           "--mp-simulate=machine=%s output=%s" %
                           (path, report)])
                code, output = run([os.path.join(bindir, "mp-opt"),
                                    os.path.join(ffn, "ffn.mlir")] + search +
                                   ["-o", os.devnull])
                problem = verdict(code, output, "error:")
                if not problem and code == 0:
                    problem = finite_json(report)
                if os.path.exists(report):
                    os.remove(report)
            elif kind == "checkpoint":
                path = os.path.join(out, "fuzz-checkpoint-%d" % seed)
                mutate_checkpoint(checkpoint, path, rng)
                consolidated = path + ".safetensors"
                problem = None
                for command, environment, message in [
                        ([mp_ckpt, "verify", path], None, "mp-ckpt:"),
                        ([mp_ckpt, "consolidate", path, consolidated], None,
                         "mp-ckpt:"),
                        ([os.path.join(ffn, "train"), "--resume", path,
                          "--steps", "4"], train_env, "mp-train:")]:
                    code, output = run(command, env=environment)
                    problem = problem or verdict(code, output, message)
                if os.path.exists(consolidated):
                    os.remove(consolidated)
                if not problem:
                    shutil.rmtree(path)
            else:
                sys.exit("unknown kind '%s'" % kind)
            counts += 1
            outcomes[(kind, code)] = outcomes.get((kind, code), 0) + 1
            if problem:
                failures += 1
                print("FAIL %s seed %d (%s): %s" % (kind, seed, path, problem))
            elif os.path.isfile(path):
                os.remove(path)
    summary = ", ".join("%s exit %s: %d" % (kind, code, n)
                        for (kind, code), n in sorted(outcomes.items(),
                                                      key=str))
    print("fuzz-inputs: %d inputs, %d failures (%s)" % (counts, failures,
                                                         summary))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
