#!/usr/bin/env python3
"""Writes a Llama decoder layer as torch-mlir's TOSA v1.0 backend spells it.

The layer is torchtitan's TransformerBlock with its rotary embedding in
real arithmetic (gpt-fast's apply_rotary_emb: pairs (2i, 2i + 1) of
head_dim rotated by a precomputed [seq, head_dim / 2, 2] cos/sin cache):

    def forward(self, h):                      # h: [batch, seq, dim]
        x = self.attention_norm(h)             # RMSNorm with weight
        q, k, v = wq(x), wk(x), wv(x)          # [batch, seq, heads, head_dim]
        q, k = rope(q), rope(k)
        s = (q @ k^T) / sqrt(head_dim)         # per head
        s = s.masked_fill(~causal, -inf)       # or + an additive mask
        h = h + wo(softmax(s) @ v)
        x = self.ffn_norm(h)
        return h + w2(silu(w1(x)) * w3(x))

exported by torch.export with its parameters lifted (function arguments
named `p_attention_wq_weight`, ...), lowered to TOSA: every linear a
transpose, rank-3 reshapes and a tosa.matmul with its zero points;
RMSNorm as pow (or a product), reduce_sum, a product with 1/dim, eps
added, rsqrt and two products; the softmax as reduce_max, sub, exp,
reduce_sum, reciprocal and a product; the mask a tosa.select on a constant
tril (`--mask causal`, a registered bool buffer folded into the graph), a
tosa.add of a constant 0/-inf bias (`--mask additive`), a tosa.select of
-inf where an i64 input `mask` equals 0 (`--mask argument`:
masked_fill(mask == 0, -inf), the mask given to forward), or absent
(`--mask none`); the cos/sin cache as constants sliced out of the cache.

It needs only Python and numpy, so the tests do not depend on torch-mlir
being installable. Each TOSA op written is also evaluated in float64 by
numpy with TOSA's semantics (broadcasting of size-1 dims, reductions that
keep their axis), so `--inputs FILE` can write the argument `h` and every
parameter (seeded, U(-1, 1); the norm weights around 1) and `--expect FILE`
the function's result on them (`result0`), for `mp-run --inputs` to check
the import against.

With --dtype bf16 it is the model after `.bfloat16()`, as torchtitan's and
Llama's reference code compute it: bf16 tensors and literals, f32 where the
code says `.float()` (RMSNorm's normalization, the rotary embedding, the
softmax: a tosa.cast to f32 before, back to bf16 after), each tosa.matmul
giving f32 that a tosa.cast rounds. The values are still evaluated without
rounding, which is the f32 model mp imports it as; a bf16 literal holds
its value rounded to bf16.
"""

import argparse
import contextlib
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "Runtime", "Inputs"))
import tensors as tensors_py  # noqa: E402  (the suite's safetensors I/O)


def fmt(value):
    return repr(struct.unpack("<f", struct.pack("<f", value))[0])


def to_bf16(value):
    """The bf16 nearest to `value` (ties to even)."""
    bits = tensors_py.bf16_bits([value]).astype(np.uint32) << 16
    return float(bits.view(np.float32)[0])


# The element type tensors are written in: the model's, or f32 inside what
# a bf16 model computes in f32 (Writer.f32).
ELEMENT = ["f32"]


def ttype(shape, element=None):
    return "tensor<" + "".join("%dx" % d for d in shape) + (
        element or ELEMENT[-1]) + ">"


def negative_infinity():
    return "0xFF80" if ELEMENT[-1] == "bf16" else "0xFF800000"


def nested(values, shape, element=fmt):
    if not shape:
        return element(values[0])
    step = len(values) // shape[0]
    return "[" + ", ".join(
        nested(values[i * step:(i + 1) * step], shape[1:], element)
        for i in range(shape[0])) + "]"


class Writer:
    def __init__(self):
        self.lines = []
        self.counter = 0
        self.consts = {}
        # The value of each SSA name, as TOSA defines it, in float64.
        self.values = {}

    def value(self):
        self.counter += 1
        return "%%%d" % self.counter

    def emit(self, text, value=None):
        name = self.value()
        self.lines.append("    %s = %s" % (name, text))
        self.values[name] = value
        return name

    def const(self, attr, shape, element=None, value=None):
        element = element or ELEMENT[-1]
        key = (attr, tuple(shape), element)
        if key not in self.consts:
            self.consts[key] = self.emit(
                '"tosa.const"() <{values = %s : %s}> : () -> %s' %
                (attr, ttype(shape, element), ttype(shape, element)),
                np.broadcast_to(np.asarray(value, np.float64), shape)
                if value is not None else None)
        return self.consts[key]

    def splat(self, value, rank):
        # The f32 or bf16 the constant holds, as TOSA computes with it.
        held = to_bf16(value) if ELEMENT[-1] == "bf16" else float(fmt(value))
        return self.const("dense<%r>" % held, [1] * rank, value=held)

    @contextlib.contextmanager
    def f32(self):
        """What a bf16 model computes after `.float()`."""
        ELEMENT.append("f32")
        yield
        ELEMENT.pop()

    def cast(self, a, shape, element):
        """a in `element` (nothing where it is of that type already)."""
        if element == ELEMENT[-1]:
            return a
        return self.emit("tosa.cast %s : (%s) -> %s" %
                         (a, ttype(shape), ttype(shape, element)),
                         self.values[a])

    def shape(self, shape):
        return self.emit(
            "tosa.const_shape {values = dense<[%s]> : tensor<%dxindex>} : "
            "() -> !tosa.shape<%d>" % (", ".join(str(d) for d in shape),
                                       len(shape), len(shape)))

    def shift(self):
        return self.const("dense<0>", [1], "i8")

    def mul(self, a, b, shape_a, shape_b, out):
        return self.emit("tosa.mul %s, %s, %s : (%s, %s, tensor<1xi8>) -> %s" %
                         (a, b, self.shift(), ttype(shape_a), ttype(shape_b),
                          ttype(out)),
                         self.values[a] * self.values[b])

    BINARY = {"add": np.add, "sub": np.subtract, "pow": np.power}

    def binary(self, op, a, b, shape_a, shape_b, out):
        return self.emit("tosa.%s %s, %s : (%s, %s) -> %s" %
                         (op, a, b, ttype(shape_a), ttype(shape_b),
                          ttype(out)),
                         self.BINARY[op](self.values[a], self.values[b]))

    UNARY = {"rsqrt": lambda x: 1 / np.sqrt(x), "exp": np.exp,
             "reciprocal": lambda x: 1 / x,
             "sigmoid": lambda x: 1 / (1 + np.exp(-x))}

    def unary(self, op, a, shape):
        return self.emit("tosa.%s %s : (%s) -> %s" %
                         (op, a, ttype(shape), ttype(shape)),
                         self.UNARY[op](self.values[a]))

    def reshape(self, a, shape_in, shape_out):
        s = self.shape(shape_out)
        return self.emit("tosa.reshape %s, %s : (%s, !tosa.shape<%d>) -> %s" %
                         (a, s, ttype(shape_in), len(shape_out),
                          ttype(shape_out)),
                         self.values[a].reshape(shape_out))

    def transpose(self, a, shape_in, perms):
        out = [shape_in[p] for p in perms]
        return self.emit(
            "tosa.transpose %s {perms = array<i32: %s>} : (%s) -> %s" %
            (a, ", ".join(str(p) for p in perms), ttype(shape_in),
             ttype(out)), self.values[a].transpose(perms)), out

    REDUCE = {"sum": np.sum, "max": np.max}

    def reduce(self, op, a, shape, axis):
        out = list(shape)
        out[axis] = 1
        return self.emit("tosa.reduce_%s %s {axis = %d : i32} : (%s) -> %s" %
                         (op, a, axis, ttype(shape), ttype(out)),
                         self.REDUCE[op](self.values[a], axis=axis,
                                         keepdims=True)), out

    def matmul(self, a, b, shape_a, shape_b):
        """A product, which bf16 operands give in f32, rounded back."""
        zp = self.const("dense<0.000000e+00>", [1], value=0.0)
        out = [shape_a[0], shape_a[1], shape_b[2]]
        product = self.emit(
            "tosa.matmul %s, %s, %s, %s : (%s, %s, %s, %s) -> %s" %
            (a, b, zp, zp, ttype(shape_a), ttype(shape_b), ttype([1]),
             ttype([1]), ttype(out, "f32")),
            np.matmul(self.values[a], self.values[b]))
        with self.f32():
            return self.cast(product, out, ELEMENT[-2]), out

    def slice(self, a, shape, start, size):
        s = self.shape(start)
        z = self.shape(size)
        index = tuple(slice(b, b + n) for b, n in zip(start, size))
        return self.emit(
            "tosa.slice %s, %s, %s : (%s, !tosa.shape<%d>, !tosa.shape<%d>) "
            "-> %s" % (a, s, z, ttype(shape), len(shape), len(shape),
                       ttype(size)), self.values[a][index])

    def concat(self, a, b, shape_a, shape_b, axis):
        out = list(shape_a)
        out[axis] += shape_b[axis]
        return self.emit("tosa.concat %s, %s {axis = %d : i32} : (%s, %s) "
                         "-> %s"
                         % (a, b, axis, ttype(shape_a), ttype(shape_b),
                            ttype(out)),
                         np.concatenate([self.values[a], self.values[b]],
                                        axis)), out

    def select(self, mask, a, b, shape_mask, shape_a, shape_b):
        return self.emit("tosa.select %s, %s, %s : (%s, %s, %s) -> %s" %
                         (mask, a, b, ttype(shape_mask, "i1"), ttype(shape_a),
                          ttype(shape_b), ttype(shape_a)),
                         np.where(self.values[mask] != 0, self.values[a],
                                  self.values[b]))


def generate(args):
    b, s, d, heads = args.batch, args.seq, args.dim, args.heads
    hd = d // heads
    w = Writer()
    def layer_params(prefix):
        return [(prefix + "attention_norm_weight", [d]),
                (prefix + "attention_wq_weight", [d, d]),
                (prefix + "attention_wk_weight", [d, d]),
                (prefix + "attention_wv_weight", [d, d]),
                (prefix + "attention_wo_weight", [d, d]),
                (prefix + "ffn_norm_weight", [d]),
                (prefix + "feed_forward_w1_weight", [args.hidden, d]),
                (prefix + "feed_forward_w2_weight", [d, args.hidden]),
                (prefix + "feed_forward_w3_weight", [args.hidden, d])]

    if args.layers:
        params = [("p_tok_embeddings_weight", [args.vocab, d])]
        for i in range(args.layers):
            params += layer_params("p_layers_%d_" % i)
        params += [("p_norm_weight", [d]),
                   ("p_output_weight", [args.vocab, d])]
    else:
        params = layer_params("p_")
    arg = {name: "%%%s" % name for name, _ in params}
    # Arguments: U(-1, 1), the norm weights 1 + U(-0.5, 0.5) (as trained
    # ones sit around their init of 1), token ids in [0, vocab).
    random = np.random.default_rng(args.seed)
    inputs = {}
    if args.layers:
        inputs["tokens"] = random.integers(0, args.vocab, [b, s])
        target = random.integers(0, args.vocab, [b, s])
    else:
        inputs["h"] = random.uniform(-1, 1, [b, s, d])
        target = random.uniform(-1, 1, [b, s, d])
    if args.mask == "argument":
        # Causal with some more entries dropped; the diagonal kept, so no
        # row is all -inf.
        keep = np.tril(random.uniform(0, 1, [s, s]) > 0.3) | \
            np.eye(s, dtype=bool)
        inputs["mask"] = keep.astype(np.int64)
    for name, shape in params:
        values = random.uniform(-1, 1, shape)
        inputs[name] = 1 + values / 2 if name.endswith("norm_weight") \
            else values
    for name, value in inputs.items():
        w.values[arg.get(name, "%" + name)] = value

    def linear(x, shape_x, weight, shape_w):
        """x [..., in] @ weight[out, in]^T as torch-mlir's TOSA spells it."""
        rows = 1
        for dim in shape_x[:-1]:
            rows *= dim
        wt, shape_wt = w.transpose(weight, shape_w, [1, 0])
        x3 = w.reshape(x, shape_x, [1, rows, shape_x[-1]])
        w3 = w.reshape(wt, shape_wt, [1] + shape_wt)
        y3, shape_y3 = w.matmul(x3, w3, [1, rows, shape_x[-1]], [1] + shape_wt)
        out = shape_x[:-1] + [shape_w[0]]
        return w.reshape(y3, shape_y3, out), out

    def rms_norm(x, shape, weight):
        """torchtitan's: self._norm(x.float()).type_as(x) * self.weight."""
        rank = len(shape)
        x = w.cast(x, shape, "f32")
        with w.f32():
            if args.square == "pow":
                sq = w.binary("pow", x, w.splat(2.0, rank), shape,
                              [1] * rank, shape)
            else:
                sq = w.mul(x, x, shape, shape, shape)
            total, shape_r = w.reduce("sum", sq, shape, rank - 1)
            mean = w.mul(total, w.splat(1.0 / shape[-1], rank), shape_r,
                         [1] * rank, shape_r)
            shifted = w.binary("add", mean, w.splat(args.eps, rank), shape_r,
                               [1] * rank, shape_r)
            scale = w.unary("rsqrt", shifted, shape_r)
            normed = w.mul(x, scale, shape, shape_r, shape)
            normed = w.cast(normed, shape, args.dtype)
        wr = w.reshape(weight, [shape[-1]], [1] * (rank - 1) + [shape[-1]])
        return w.mul(normed, wr, shape, [1] * (rank - 1) + [shape[-1]], shape)

    # The cos/sin cache of torchtitan's precompute_freqs_cis, as constants
    # of the [1, seq, 1, head_dim / 2, 1] slices apply_rotary_emb reads.
    half = hd // 2
    table_shape = [1, s, 1, half, 1]
    cos, sin = [], []
    for p in range(s):
        for i in range(half):
            angle = p * args.theta ** (-2.0 * i / hd)
            cos.append(math.cos(angle))
            sin.append(math.sin(angle))
    f32 = [[float(fmt(v)) for v in t] for t in (cos, sin)]
    cos_t = w.const("dense<%s>" % nested(cos, table_shape), table_shape,
                    "f32", value=np.reshape(f32[0], table_shape))
    sin_t = w.const("dense<%s>" % nested(sin, table_shape), table_shape,
                    "f32", value=np.reshape(f32[1], table_shape))

    def rope(x, shape):
        """gpt-fast's apply_rotary_emb: on x.float(), then .type_as(x)."""
        pairs = shape[:-1] + [half, 2]
        x = w.cast(x, shape, "f32")
        with w.f32():
            x5 = w.reshape(x, shape, pairs)
            part = pairs[:-1] + [1]
            x0 = w.slice(x5, pairs, [0] * 5, part)
            x1 = w.slice(x5, pairs, [0] * 4 + [1], part)
            real = w.binary("sub", w.mul(x0, cos_t, part, table_shape, part),
                            w.mul(x1, sin_t, part, table_shape, part), part,
                            part, part)
            imag = w.binary("add", w.mul(x1, cos_t, part, table_shape, part),
                            w.mul(x0, sin_t, part, table_shape, part), part,
                            part, part)
            out5, _ = w.concat(real, imag, part, part, 4)
            return w.cast(w.reshape(out5, pairs, shape), shape, args.dtype)

    h_shape = [b, s, d]

    def decoder_layer(h, prefix):
        x = rms_norm(h, h_shape, arg[prefix + "attention_norm_weight"])
        per_head = [b, s, heads, hd]
        qkv = []
        for name in ("wq", "wk", "wv"):
            weight = arg[prefix + "attention_%s_weight" % name]
            y, _ = linear(x, h_shape, weight, [d, d])
            y4 = w.reshape(y, h_shape, per_head)
            if name != "wv":
                y4 = rope(y4, per_head)
            t, shape_t = w.transpose(y4, per_head, [0, 2, 1, 3])
            qkv.append((t, shape_t))
        (q, shape_q), (k, shape_k), (v, shape_v) = qkv
        kt, shape_kt = w.transpose(k, shape_k, [0, 1, 3, 2])
        q3 = w.reshape(q, shape_q, [b * heads, s, hd])
        k3 = w.reshape(kt, shape_kt, [b * heads, hd, s])
        s3, shape_s3 = w.matmul(q3, k3, [b * heads, s, hd],
                                [b * heads, hd, s])
        score_shape = [b, heads, s, s]
        scores = w.reshape(s3, shape_s3, score_shape)
        scores = w.mul(scores, w.splat(1.0 / math.sqrt(hd), 4), score_shape,
                       [1] * 4, score_shape)
        mask_shape = [1, 1, s, s]
        if args.mask == "causal":
            tril = [q_ >= k_ for q_ in range(s) for k_ in range(s)]
            mask = w.const(
                "dense<%s>" % nested(tril, mask_shape,
                                     lambda v: "true" if v else "false"),
                mask_shape, "i1", value=np.reshape(tril, mask_shape))
            ninf = w.const("dense<%s>" % negative_infinity(), [1] * 4,
                           value=-np.inf)
            scores = w.select(mask, scores, ninf, mask_shape, score_shape,
                              [1] * 4)
        elif args.mask == "argument":
            # masked_fill(mask == 0, -inf) of an i64 [seq, seq] input.
            m4 = w.emit(
                "tosa.reshape %%mask, %s : (%s, !tosa.shape<4>) -> %s" %
                (w.shape(mask_shape), ttype([s, s], "i64"),
                 ttype(mask_shape, "i64")),
                w.values["%mask"].reshape(mask_shape))
            zero = w.const("dense<0>", [1] * 4, "i64", value=0)
            dropped = w.emit("tosa.equal %s, %s : (%s, %s) -> %s" %
                             (m4, zero, ttype(mask_shape, "i64"),
                              ttype([1] * 4, "i64"), ttype(mask_shape, "i1")),
                             w.values[m4] == 0)
            ninf = w.const("dense<%s>" % negative_infinity(), [1] * 4,
                           value=-np.inf)
            scores = w.emit("tosa.select %s, %s, %s : (%s, %s, %s) -> %s" %
                            (dropped, ninf, scores, ttype(mask_shape, "i1"),
                             ttype([1] * 4), ttype(score_shape),
                             ttype(score_shape)),
                            np.where(w.values[dropped], -np.inf,
                                     w.values[scores]))
        elif args.mask == "additive":
            bias = [0.0 if q_ >= k_ else float("-inf") for q_ in range(s)
                    for k_ in range(s)]
            table = w.const(
                "dense<%s>" % nested(
                    bias, mask_shape,
                    lambda v: negative_infinity() if v else "0.0"),
                mask_shape, value=np.reshape(bias, mask_shape))
            scores = w.binary("add", scores, table, score_shape, mask_shape,
                              score_shape)
        # F.softmax(scores.float(), dim=-1).type_as(xq)
        scores = w.cast(scores, score_shape, "f32")
        with w.f32():
            top, shape_top = w.reduce("max", scores, score_shape, 3)
            shifted = w.binary("sub", scores, top, score_shape, shape_top,
                               score_shape)
            e = w.unary("exp", shifted, score_shape)
            total, shape_total = w.reduce("sum", e, score_shape, 3)
            inverse = w.unary("reciprocal", total, shape_total)
            probs = w.mul(e, inverse, score_shape, shape_total, score_shape)
            probs = w.cast(probs, score_shape, args.dtype)
        p3 = w.reshape(probs, score_shape, [b * heads, s, s])
        v3 = w.reshape(v, shape_v, [b * heads, s, hd])
        o3, shape_o3 = w.matmul(p3, v3, [b * heads, s, s], [b * heads, s, hd])
        o4 = w.reshape(o3, shape_o3, [b, heads, s, hd])
        ot, shape_ot = w.transpose(o4, [b, heads, s, hd], [0, 2, 1, 3])
        attn_in = w.reshape(ot, shape_ot, h_shape)
        attn, _ = linear(attn_in, h_shape, arg[prefix + "attention_wo_weight"],
                         [d, d])
        h2 = w.binary("add", h, attn, h_shape, h_shape, h_shape)

        x = rms_norm(h2, h_shape, arg[prefix + "ffn_norm_weight"])
        ffn_shape = [b, s, args.hidden]
        a, _ = linear(x, h_shape, arg[prefix + "feed_forward_w1_weight"],
                      [args.hidden, d])
        gate = w.mul(a, w.unary("sigmoid", a, ffn_shape), ffn_shape, ffn_shape,
                     ffn_shape)
        c, _ = linear(x, h_shape, arg[prefix + "feed_forward_w3_weight"],
                      [args.hidden, d])
        prod = w.mul(gate, c, ffn_shape, ffn_shape, ffn_shape)
        f, _ = linear(prod, ffn_shape, arg[prefix + "feed_forward_w2_weight"],
                      [d, args.hidden])
        out = w.binary("add", h2, f, h_shape, h_shape, h_shape)
        return out

    if args.layers:
        # nn.Embedding as torch-mlir's TOSA spells it: the table as
        # [1, V, D], the ids cast to i32 and flattened, tosa.gather.
        table = arg["p_tok_embeddings_weight"]
        t3 = w.reshape(table, [args.vocab, d], [1, args.vocab, d])
        ids = w.emit("tosa.cast %%tokens : (%s) -> %s" %
                     (ttype([b, s], "i64"), ttype([b, s], "i32")),
                     w.values["%tokens"])
        ids2 = w.emit(
            "tosa.reshape %s, %s : (%s, !tosa.shape<2>) -> %s" %
            (ids, w.shape([1, b * s]), ttype([b, s], "i32"),
             ttype([1, b * s], "i32")), w.values[ids].reshape(1, b * s))
        rows = w.emit("tosa.gather %s, %s : (%s, %s) -> %s" %
                      (t3, ids2, ttype([1, args.vocab, d]),
                       ttype([1, b * s], "i32"), ttype([1, b * s, d])),
                      w.values[t3][0][w.values[ids2][0]][None])
        h = w.reshape(rows, [1, b * s, d], h_shape)
        for i in range(args.layers):
            h = decoder_layer(h, "p_layers_%d_" % i)
        h = rms_norm(h, h_shape, arg["p_norm_weight"])
        out, out_shape = linear(h, h_shape, arg["p_output_weight"],
                                [args.vocab, d])
        first = "%%tokens: %s loc(\"tokens\")" % ttype([b, s], "i64")
    else:
        out, out_shape = decoder_layer("%h", "p_"), h_shape
        first = "%%h: %s loc(\"h\")" % ttype(h_shape)

    if args.mask == "argument":
        first += ", %%mask: %s loc(\"mask\")" % ttype([s, s], "i64")
    signature = [first] + [
        "%s: %s loc(\"%s\")" % (arg[name], ttype(shape), name)
        for name, shape in params]
    if args.data:
        # One batch for mp-train --data: the inputs and a target (token ids
        # for a cross entropy over the logits, else one like the output),
        # with the causal mask itself with --causal-data-mask.
        batch = {name: value[None] for name, value in inputs.items()
                 if not name.startswith("p_")}
        if args.causal_data_mask and "mask" in batch:
            batch["mask"] = np.tril(np.ones([1, s, s], np.int64))
        batch["target"] = target[None]
        tensors_py.write(args.data, {
            name: value.astype(np.int64 if np.issubdtype(
                value.dtype, np.integer) else np.float32)
            for name, value in batch.items()})
    if args.inputs:
        write_arguments(args.inputs, inputs)
    if args.expect:
        write_arguments(args.expect, {"result0": w.values[out]})
    print("module {")
    print("  func.func @forward(%s) -> %s {" %
          (", ".join(signature), ttype(out_shape)))
    print("\n".join(w.lines))
    print("    return %s : %s" % (out, ttype(out_shape)))
    print("  }")
    print("}")


def write_arguments(path, tensors):
    """Float64 tensors (int64 ids) under the names mp gives the arguments
    (p_x_y -> x.y)."""
    tensors_py.write(path, {
        (name[2:].replace("_", ".") if name.startswith("p_") else name):
        np.asarray(array, np.int64 if np.issubdtype(array.dtype, np.integer)
                   else np.float64)
        for name, array in tensors.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seq", type=int, default=8)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=64,
                        help="the feed-forward's hidden size")
    parser.add_argument("--layers", type=int, default=0,
                        help="0: one decoder layer on hidden states h; N: "
                        "the Llama model, token ids to logits, of N layers")
    parser.add_argument("--vocab", type=int, default=64)
    parser.add_argument("--eps", type=float, default=1e-5)
    parser.add_argument("--theta", type=float, default=10000.0)
    parser.add_argument("--square", choices=["pow", "mul"], default="pow",
                        help="RMSNorm's x^2 as tosa.pow or tosa.mul")
    parser.add_argument("--mask",
                        choices=["causal", "additive", "argument", "none"],
                        default="causal",
                        help="argument: an i64 [seq, seq] input `mask` "
                        "(1 keeps), masked_fill(mask == 0, -inf)")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                        help="the model's dtype (.float() or .bfloat16())")
    parser.add_argument("--seed", type=int, default=0,
                        help="of the arguments --inputs writes")
    parser.add_argument("--inputs", metavar="FILE.safetensors",
                        help="write the arguments")
    parser.add_argument("--expect", metavar="FILE.safetensors",
                        help="write the result of the arguments, result0")
    parser.add_argument("--data", metavar="FILE.safetensors",
                        help="write one batch of the inputs and a target "
                        "for mp-train --data --fixed-batch")
    parser.add_argument("--causal-data-mask", action="store_true",
                        help="--data's mask is the causal one (tril)")
    args = parser.parse_args()
    if args.dim % args.heads or (args.dim // args.heads) % 2:
        parser.error("--dim must be --heads times an even head_dim")
    ELEMENT[0] = args.dtype
    generate(args)


if __name__ == "__main__":
    main()
