#!/usr/bin/env python3
"""Writes an MLP as torch-mlir's linalg-on-tensors output spells it.

The model is

    class MLP(nn.Module):  # widths w0, w1, ..., wn
        def forward(self, x):
            for fc in self.layers[:-1]:
                x = F.relu(fc(x))
            return self.layers[-1](x)      # relu too with --relu-last

exported with its parameters inlined as literals, in the spelling of
torch-mlir's TorchToLinalg as published benchmark suites carry it
(plaidml/tpp-mlir benchmarks/mlir/pytorch/torch-dynamo-mlp-fp32-3x1024.mlir):
`forward` takes the input only; the literals come first, biases then
weights, last layer first; each weight [out, in] is transposed by a
`linalg.generic` that yields its input through `(d0, d1) -> (d1, d0)`; the
product is a `linalg.matmul` into a shared zero fill; the bias is added by a
generic broadcasting it through `(d0, d1) -> (d1)`, read first (or, with
--bias-add named, a linalg.broadcast then linalg.add); ReLU is
`cmpf ugt` + `select` on a zero; equal `tensor.empty`s and fills are one op,
as after torch-mlir's CSE. With --dtype bf16 (f16) it is the model after
`.bfloat16()` (`.half()`): every tensor and literal is bf16 (f16) except
the products, which torch-mlir accumulates in an f32 fill and rounds by a
generic of `arith.truncf` (its getDefaultAccType).

It needs only the Python standard library, so the tests do not depend on
torch-mlir being installable. Dense values are exact in f32 (multiples of
1/64); --expect writes every parameter's values as safetensors, under the
names mp-import gives literals (param0, param1, ... in the order of the
literals, a splat read by several ops once per reader in program order), so
a test can compare them with what the importer writes: in f32, a bf16 or
f16 literal's value widened.
"""

import argparse
import json
import struct


def weight_value(layer, index, bias):
    """Dense literal value: small, varied, exact in f32."""
    return ((index * 37 + layer * 11 + (5 if bias else 0)) % 17 - 8) / 64.0


def splat_value(layer, bias, shared):
    """Splat literal value: one per kind with --weights splat-shared."""
    if shared:
        return 0.001 if bias else 0.01
    return 0.001 * (layer + 1) if bias else 0.01 * (layer + 1)


def bf16_bits(value):
    """The bf16 nearest to `value` (ties to even), as its 16 bits (the
    rounding of tensors.py's bf16_bits, which needs numpy)."""
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    return (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16


def pack16(values, dtype):
    """bf16 or f16 values as little-endian bytes."""
    if dtype == "f16":
        return struct.pack("<%de" % len(values), *values)
    return b"".join(struct.pack("<H", bf16_bits(v)) for v in values)


def rounded(value, dtype):
    """The value of `dtype` nearest to `value`, as a Python float."""
    if dtype == "f16":
        return struct.unpack("<e", struct.pack("<e", value))[0]
    if dtype == "bf16":
        return struct.unpack("<f", struct.pack("<I",
                                               bf16_bits(value) << 16))[0]
    return value


def fmt(value):
    return repr(float(value))


def nested(values, shape):
    if len(shape) == 1:
        return "[" + ", ".join(fmt(v) for v in values) + "]"
    step = len(values) // shape[0]
    return "[" + ", ".join(nested(values[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + "]"


def ttype(shape, dtype=None):
    return "tensor<%sx%s>" % ("x".join(str(d) for d in shape), dtype or DTYPE)


DTYPE = "f32"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="16,32,32,16",
                        help="w0,...,wn: n layers of nn.Linear")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--no-bias", action="store_true",
                        help="nn.Linear(bias=False)")
    parser.add_argument(
        "--weights", default="splat",
        choices=["splat", "splat-shared", "dense", "resource"],
        help="splat: one dense<c> literal per parameter; splat-shared: "
        "equal splats of one shape are one constant, as CSE leaves them; "
        "dense: dense<[[...]]> literals; resource: dense_resource blobs")
    parser.add_argument("--transpose", default="generic",
                        choices=["generic", "named"],
                        help="a permuting linalg.generic, or linalg.transpose")
    parser.add_argument("--bias-add", default="generic",
                        choices=["generic", "named"],
                        help="a broadcasting linalg.generic, or "
                        "linalg.broadcast then linalg.add")
    parser.add_argument("--relu", default="select",
                        choices=["select", "maximumf"],
                        help="cmpf + select (older torch-mlir), or maximumf")
    parser.add_argument("--relu-last", action="store_true",
                        help="ReLU after the last layer too (as the benchmark)")
    parser.add_argument("--dtype", default="f32",
                        choices=["f32", "bf16", "f16"],
                        help="the model's dtype (.float(), .bfloat16() or "
                        ".half())")
    parser.add_argument("--expect", metavar="FILE.safetensors",
                        help="write the parameters mp-import should lift")
    args = parser.parse_args()
    global DTYPE
    DTYPE = args.dtype
    half = DTYPE != "f32"

    widths = [int(w) for w in args.widths.split(",")]
    layers = len(widths) - 1
    batch = args.batch
    bias = not args.no_bias
    shared = args.weights == "splat-shared"

    lines = []
    resources = []
    emit = lines.append
    names = iter(["%cst"] + ["%%cst_%d" % i for i in range(10000)])

    # The literals: biases, then weights, each last layer first.
    literals = {}
    splats = {}
    # Per literal, in order: its shape, values and the (kind, layer)s reading it.
    order = []
    readers = {}
    kinds = (["bias"] if bias else []) + ["weight"]
    for kind in kinds:
        for layer in reversed(range(layers)):
            out, inp = widths[layer + 1], widths[layer]
            shape = [out] if kind == "bias" else [out, inp]
            if args.weights.startswith("splat"):
                value = splat_value(layer, kind == "bias", shared)
                key = (tuple(shape), value)
                if shared and key in splats:
                    literals[(kind, layer)] = splats[key]
                    readers[splats[key]].append((kind, layer))
                    continue
                attr = "dense<%s>" % fmt(value)
                value = rounded(value, DTYPE)
                values = [value] * (out * (1 if kind == "bias" else inp))
            else:
                count = out * (1 if kind == "bias" else inp)
                values = [weight_value(layer, i, kind == "bias")
                          for i in range(count)]
                if args.weights == "dense":
                    attr = "dense<%s>" % nested(values, shape)
                else:
                    key = "torch_tensor_%s_torch.%s" % ("_".join(
                        str(d) for d in shape), {"f32": "float32",
                                                 "bf16": "bfloat16",
                                                 "f16": "float16"}[DTYPE])
                    key += "_%d" % len(resources) if resources else ""
                    if half:  # the values are exact in bf16 and f16
                        blob = struct.pack("<I", 2) + pack16(values, DTYPE)
                    else:
                        blob = struct.pack("<I", 4) + struct.pack(
                            "<%df" % count, *values)
                    resources.append((key, "0x" + blob.hex().upper()))
                    attr = "dense_resource<%s>" % key
            name = next(names)
            emit("    %s = arith.constant %s : %s" % (name, attr, ttype(shape)))
            literals[(kind, layer)] = name
            order.append((name, shape, values))
            readers[name] = [(kind, layer)]
            if shared:
                splats[(tuple(shape), value)] = name
    zero = next(names)
    emit("    %s = arith.constant 0.000000e+00 : f32" % zero)
    # ReLU compares with a zero of the model's dtype.
    relu_zero = zero
    if half:
        relu_zero = next(names)
        emit("    %s = arith.constant 0.000000e+00 : %s" % (relu_zero, DTYPE))

    counter = iter(range(10000))
    empties, fills = {}, {}

    def empty(shape, dtype=None):
        key = (tuple(shape), dtype or DTYPE)
        if key not in empties:
            name = "%%%d" % next(counter)
            emit("    %s = tensor.empty() : %s" % (name, ttype(shape, key[1])))
            empties[key] = name
        return empties[key]

    def fill(shape):
        """The f32 accumulator of a product."""
        if tuple(shape) not in fills:
            e = empty(shape, "f32")
            f32 = ttype(shape, "f32")
            name = "%%%d" % next(counter)
            emit("    %s = linalg.fill ins(%s : f32) outs(%s : %s) -> %s" %
                 (name, zero, e, f32, f32))
            fills[tuple(shape)] = name
        return fills[tuple(shape)]

    def relu(x, shape):
        e = empty(shape)
        name = "%%%d" % next(counter)
        emit("    %s = linalg.generic {indexing_maps = [#map, #map], "
             "iterator_types = [\"parallel\", \"parallel\"]} ins(%s : %s) "
             "outs(%s : %s) {" % (name, x, ttype(shape), e, ttype(shape)))
        emit("    ^bb0(%%in: %s, %%out: %s):" % (DTYPE, DTYPE))
        if args.relu == "select":
            emit("      %%r0 = arith.cmpf ugt, %%in, %s : %s" % (relu_zero,
                                                               DTYPE))
            emit("      %%r1 = arith.select %%r0, %%in, %s : %s" % (relu_zero,
                                                                  DTYPE))
            emit("      linalg.yield %%r1 : %s" % DTYPE)
        else:
            emit("      %%r0 = arith.maximumf %%in, %s : %s" % (relu_zero,
                                                              DTYPE))
            emit("      linalg.yield %%r0 : %s" % DTYPE)
        emit("    } -> %s" % ttype(shape))
        return name

    x = "%arg0"
    for layer in range(layers):
        out, inp = widths[layer + 1], widths[layer]
        w = literals[("weight", layer)]
        e = empty([inp, out])
        t = "%%%d" % next(counter)
        if args.transpose == "generic":
            emit("    %s = linalg.generic {indexing_maps = [#map, #map1], "
                 "iterator_types = [\"parallel\", \"parallel\"]} ins(%s : %s) "
                 "outs(%s : %s) {" % (t, w, ttype([out, inp]), e,
                                      ttype([inp, out])))
            emit("    ^bb0(%%in: %s, %%out: %s):" % (DTYPE, DTYPE))
            emit("      linalg.yield %%in : %s" % DTYPE)
            emit("    } -> %s" % ttype([inp, out]))
        else:
            emit("    %s = linalg.transpose ins(%s : %s) outs(%s : %s) "
                 "permutation = [1, 0]" % (t, w, ttype([out, inp]), e,
                                           ttype([inp, out])))
        acc = fill([batch, out])
        y = "%%%d" % next(counter)
        f32 = ttype([batch, out], "f32")
        emit("    %s = linalg.matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
             % (y, x, t, ttype([batch, inp]), ttype([inp, out]), acc, f32,
                f32))
        if half:
            e = empty([batch, out])
            r = "%%%d" % next(counter)
            emit("    %s = linalg.generic {indexing_maps = [#map, #map], "
                 "iterator_types = [\"parallel\", \"parallel\"]} ins(%s : %s) "
                 "outs(%s : %s) {" % (r, y, f32, e, ttype([batch, out])))
            emit("    ^bb0(%%in: f32, %%out: %s):" % DTYPE)
            emit("      %%t0 = arith.truncf %%in : f32 to %s" % DTYPE)
            emit("      linalg.yield %%t0 : %s" % DTYPE)
            emit("    } -> %s" % ttype([batch, out]))
            y = r
        if bias and args.bias_add == "named":
            b = literals[("bias", layer)]
            e = empty([batch, out])
            bb = "%%%d" % next(counter)
            emit("    %s = linalg.broadcast ins(%s : %s) outs(%s : %s) "
                 "dimensions = [0]" % (bb, b, ttype([out]), e,
                                       ttype([batch, out])))
            s = "%%%d" % next(counter)
            emit("    %s = linalg.add ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                 % (s, bb, y, ttype([batch, out]), ttype([batch, out]), e,
                    ttype([batch, out]), ttype([batch, out])))
            y = s
        elif bias:
            b = literals[("bias", layer)]
            s = "%%%d" % next(counter)
            emit("    %s = linalg.generic {indexing_maps = [#map2, #map, #map], "
                 "iterator_types = [\"parallel\", \"parallel\"]} "
                 "ins(%s, %s : %s, %s) outs(%s : %s) {" %
                 (s, b, y, ttype([out]), ttype([batch, out]),
                  empty([batch, out]), ttype([batch, out])))
            emit("    ^bb0(%%in: %s, %%in_0: %s, %%out: %s):" % ((DTYPE,) * 3))
            emit("      %%a0 = arith.addf %%in, %%in_0 : %s" % DTYPE)
            emit("      linalg.yield %%a0 : %s" % DTYPE)
            emit("    } -> %s" % ttype([batch, out]))
            y = s
        x = relu(y, [batch, out]) if (
            layer + 1 < layers or args.relu_last) else y

    print("#map = affine_map<(d0, d1) -> (d0, d1)>")
    print("#map1 = affine_map<(d0, d1) -> (d1, d0)>")
    print("#map2 = affine_map<(d0, d1) -> (d1)>")
    print("module attributes {torch.debug_module_name = \"MLP\"} {")
    print("  ml_program.global private mutable @global_seed(dense<0> : "
          "tensor<i64>) : tensor<i64>")
    print("  func.func @forward(%%arg0: %s) -> %s {" %
          (ttype([batch, widths[0]]), ttype([batch, widths[-1]])))
    print("\n".join(lines))
    print("    return %s : %s" % (x, ttype([batch, widths[-1]])))
    print("  }")
    print("}")
    if resources:
        print("\n{-#\n  dialect_resources: {\n    builtin: {")
        print(",\n".join('      %s: "%s"' % r for r in resources))
        print("    }\n  }\n#-}")

    if args.expect:
        # A splat's readers come in program order: layer by layer, and in a
        # layer the weight's transpose before the bias add.
        tensors = []
        for name, shape, values in order:
            for _ in readers[name]:
                tensors.append(("param%d" % len(tensors), shape, values))
        write_safetensors(args.expect, tensors)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, shape, values in tensors:
        blob = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main()
