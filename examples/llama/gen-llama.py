#!/usr/bin/env python3
"""Writes a Llama-shaped model (torchtitan's Llama 2/3) as mp IR.

    gen-llama.py --layers 2 --dim 64 --heads 4 --kv-heads 2 --vocab 128 \
                 --seq 16 --batch 2 > llama.mlir

The function @llama takes token ids `tokens` [batch, seq] and next-token
`labels` [batch, seq] and returns the mean cross-entropy loss; parameters
carry torchtitan's names (tok_embeddings.weight, layers.N.attention.wq.weight,
layers.N.feed_forward.w1.weight, norm.weight, output.weight, ...), so its
plans and safetensors checkpoints apply unchanged.

Per layer, as torchtitan's TransformerBlock:
    h = x + wo(attention(rope(wq(norm(x))), rope(wk(norm(x))), wv(norm(x))))
    out = h + w2(silu(w1(norm(h))) * w3(norm(h)))
with causal softmax attention scaled by 1/sqrt(head_dim) and grouped-query
attention when --kv-heads < --heads (each K/V head repeated
heads/kv-heads times, as repeat_kv does).

The Llama-shaped families differ in a few places, each an option (their
Hugging Face checkpoints come in through hf-checkpoint.py):
  --head-dim N        heads of N (Qwen3, Mistral Nemo) where dim/heads is
                      not the head size: wq is [heads*N, dim], wo
                      [dim, heads*N];
  --attention-bias qkv|all|out
                      a bias on wq, wk, wv (Qwen2), or on wo too (Llama's
                      attention_bias), as `<linear>.bias`, added before the
                      rotation, or on wo alone (out: GPT-Neo's out_proj);
  --mlp-bias          a bias on w1, w2, w3 (Llama's mlp_bias);
  --qk-norm [head|whole|each-head]
                      RMSNorm of each query and key head (head, the
                      default: weights attention.q_norm / k_norm
                      [head_dim], eps --norm-eps; Qwen3; with
                      --layer-norm a LayerNorm of each head whose weight
                      and bias all heads share: Persimmon's and Phi's
                      qk_layernorm) or of the whole
                      projections (whole: [heads*head_dim] and
                      [kv_heads*head_dim]; OLMo 2), before the rotation;
                      each-head (with --layer-norm): a LayerNorm of each
                      head without bias whose weights are its own
                      (q_norm [heads, head_dim], k_norm [kv_heads,
                      head_dim]: StableLM 2 12B's qk_layernorm, Command-R+'s
                      use_qk_norm), mp.layer_norm with a unit weight times
                      the weights broadcast over batch and sequence, so
                      that tensor parallelism splits them by heads as it
                      splits wq and wk;
  --qk-norm-after-rope
                      --qk-norm head's norms after the rotation, not before
                      (HunYuan's query_layernorm and key_layernorm);
  --clip-qkv C        q, k and v clamped to [-C, C] after their
                      projections (OLMo's clip_qkv): mp.clamp by C as
                      float32 rounds it, as PyTorch clamps a float32 tensor;
  --post-norm         the layer's norms on its sublayers' outputs (OLMo 2):
                      h = x + attention_norm(attention(x)),
                      out = h + ffn_norm(feed_forward(h));
  --norm-after-residual
                      the layer's norms after its residual adds (the
                      original Transformer's post-LN, OPT-350m's):
                      h = attention_norm(x + attention(x)),
                      out = ffn_norm(h + feed_forward(h));
  --no-final-norm     no norm before the output projection (OPT-350m's,
                      with --norm-after-residual; no norm.weight nor
                      norm.bias);
  --embedding-dim E   token embeddings of E entries, not --dim:
                      tok_embeddings.weight [vocab, E] read through
                      project_in.weight [dim, E], and the output projection
                      ([vocab, E], or the tied embedding) through
                      project_out.weight [E, dim] (OPT-350m's
                      word_embed_proj_dim, both linears without bias);
  --tie-embeddings    the output projection reads tok_embeddings.weight
                      (no output.weight; Llama 3.2's and the small Qwen
                      models);
  --sliding-window W  each query attends to its last W positions (Mistral
                      v0.1's 4096, Qwen's use_sliding_window): mp.softmax
                      causal window W where --seq is longer (shorter, the
                      window masks nothing);
  --window-from-layer L
                      the window in layers L and up only (Qwen's
                      max_window_layers; default 0: every layer);
  --window-layers I,J,...
                      the window in the layers listed only (the configs'
                      layer_types in other patterns: Gemma 2's every other
                      layer, Gemma 3's five of six);
  --mlp-activation silu|gelu|gelu-tanh|relu|relu2
                      the gate's activation: SwiGLU's silu (the default)
                      or GeGLU's GELU, exact or tanh-approximated
                      (Gemma's gelu_pytorch_tanh), ReLU (OPT's), or the
                      squared ReLU relu(x)^2 (Nemotron's and Arcee's
                      relu2, mp.relu times itself);
  --norm-weight-offset F
                      every norm scales by F + weight (Gemma: 1, its
                      weights stored as the scale minus one): RMSNorms by
                      mp.rms_norm's weight_offset, LayerNorms by the
                      weight plus a constant F (Nemotron's LayerNorm1P);
  --scale-embeddings  the embedding's rows times sqrt(--dim) rounded to
                      float32 (Gemma's normalizer, in the activations'
                      dtype);
  --sandwich-norm     norms on the sublayers' inputs and outputs (Gemma 2):
                      h = x + post_attention_norm(
                              attention(attention_norm(x))),
                      out = h + post_ffn_norm(feed_forward(ffn_norm(h)));
  --attention-softcap C, --final-softcap C
                      the attention scores (after their scaling) and the
                      logits soft-capped: C · tanh(x / C) (Gemma 2);
  --query-pre-attn-scalar Q
                      the scores scaled by 1/sqrt(Q) instead of
                      1/sqrt(head_dim) (Gemma 2);
  --local-rope-theta T
                      the windowed layers' rotary base (Gemma 3's
                      rope_local_base_freq; unscaled), the others'
                      --rope-theta;
  --rope-linear-scaling F
                      the frequencies rotating by --rope-theta divided by F
                      (mp.rope linear_scaling: Hugging Face's rope_type
                      "linear", Gemma 3 4B and up's global layers: 8);
  --rope-dynamic-scaling FACTOR,CONTEXT
                      Hugging Face's rope_type "dynamic" (dynamic NTK
                      scaling; InternLM2's): the base --rope-theta times
                      (FACTOR · max(seq, CONTEXT) / CONTEXT - (FACTOR - 1))
                      ** (R / (R - 2)), R the rotated entries of a head,
                      as Hugging Face computes it for a sequence of --seq
                      positions (CONTEXT its max_position_embeddings): no
                      change up to CONTEXT, one base for the compiled
                      --seq above it;
  --rotary-dims R     only the first R entries of each head rotate, at the
                      frequencies of R (mp.rope rotary_dims: Hugging Face's
                      partial_rotary_factor; Phi-4-mini rotates 96 of 128);
  --longrope-short-factors F,..., --longrope-long-factors F,...,
  --longrope-original-context N
                      Phi-3's longrope: each rotated pair's frequency
                      divided by its factor, the long ones where --seq is
                      above N (Hugging Face picks them by the sequence's
                      length), the short ones otherwise (mp.rope
                      longrope_factors); the three go together;
  --rope-yarn-scaling FACTOR,CONTEXT,BETA_FAST,BETA_SLOW
  [--rope-yarn-no-truncate]
                      Hugging Face's rope_type "yarn" (transformers 5's
                      _compute_yarn_parameters; Qwen's and SmolLM3's long
                      contexts): each rotated pair's frequency blended
                      between itself and itself / FACTOR by a ramp over
                      the pairs that BETA_FAST and BETA_SLOW rotations in
                      CONTEXT (original_max_position_embeddings) bound,
                      rounded outwards unless --rope-yarn-no-truncate
                      (mp.rope longrope_factors, one divisor per pair);
                      its attention factor is --rope-attention-factor's;
  --rope-attention-factor A
                      the rotations' cos and sin times A (longrope's and
                      YaRN's attention_factor: mp.rope attention_factor);
  --layer-norm        every norm a LayerNorm with a bias (mp.layer_norm:
                      `<norm>.weight` and `<norm>.bias`, eps --norm-eps;
                      StableLM's; --qk-norm each-head's have none)
                      instead of an RMSNorm;
  --no-norm-bias      the LayerNorms without biases (Cohere's: mp.layer_norm
                      adding a zero constant);
  --no-norm-weights   the LayerNorms with neither weights nor biases (OLMo's
                      F.layer_norm(x, None, None): mp.layer_norm by a unit
                      and a zero constant), each named by its mp.module
                      (layers.N.attention_norm) for the plan's keys;
  --parallel-block separate|shared
                      the attention and the feed-forward side by side on
                      the layer's input (GPT-NeoX's use_parallel_residual,
                      Phi-2's block):
                      out = (attention(attention_norm(x))
                             + feed_forward(ffn_norm(x))) + x,
                      or feed_forward(attention_norm(x)) where the two
                      share the norm (shared: no ffn_norm; Phi-2); wo's
                      and w2's biases are added to the sum (one reduction
                      of the two GEMMs' partial sums under tensor
                      parallelism);
  --plain-mlp         the feed-forward w2(act(w1(x))), no gate and no w3
                      (GPT-NeoX's and Phi-2's MLP);
  --output-bias       a bias on the output projection (`output.bias`;
                      Phi-2's lm_head);
  --embedding-multiplier E, --residual-multiplier R,
  --attention-multiplier A, --logits-scaling L
                      Granite's constants: the embeddings times E, each
                      sublayer's output times R before its residual add,
                      the scores times A (not 1/sqrt(head_dim)), the
                      logits divided by L (each as float32 rounds it);
  --logit-scale S     the logits times S (Cohere's logit_scale);
  --ignore-index N    labels equal to N add nothing (PyTorch's and Hugging
                      Face's -100: padding, prompts): the loss is the sum
                      over the other labels divided by their count over
                      the whole batch, as F.cross_entropy's mean;
  --padding-idx N     the embedding's row N (0 <= N < --vocab) gets no
                      gradient from the tokens equal to N (nn.Embedding's
                      padding_idx, a Hugging Face config's pad_token_id);
                      tied, it still gets the output projection's;
  --nope-layers I,J,...
                      layers whose q and k are not rotated: no positional
                      embedding there (Cohere 2's global layers, SmolLM3's
                      every fourth);
  --learned-positions N
                      no layer rotates: a learned table of N positions,
                      pos_embeddings.weight [N, dim], has its rows
                      0 .. --seq - 1 (from --positions-offset on) added to
                      the token embeddings (GPT-2's wpe: mp.iota's
                      positions looked up by mp.embedding); --seq must be
                      at most N;
  --positions-offset K
                      --learned-positions' rows from K on: K .. K + --seq
                      - 1 (OPT's OPTLearnedPositionalEmbedding, K = 2;
                      mp.iota start K); --seq + K must be at most N.
  --alibi [MAX_BIAS]  no layer rotates: ALiBi's per-head linear bias,
                      slope · key position (mp.alibi_slopes at MAX_BIAS,
                      8 when not given: BLOOM's; MPT's alibi_bias_max),
                      is added to each layer's scaled scores before the
                      softmax (mp.alibi; mp-fuse-attention moves it
                      into mp.attention's chunks);
  --falcon-alibi      with --alibi: Falcon-RW's bias, computed in
                      bfloat16 (mp.alibi bf16_bias: the slope, the key
                      and their product rounded) and added to the scores
                      before their scaling (mp-fuse-attention
                      moves it into mp.attention: bf16_bias);
  --embedding-norm    the embeddings go through a norm of their own,
                      embedding_norm.weight (and .bias with --layer-norm),
                      before the first layer (BLOOM's
                      word_embeddings_layernorm).
"""

import argparse
import math
import struct
import sys


FLOAT32_MAX = 3.4028234663852886e38


def exact(value):
    """`value` as an MLIR float literal that reads back as the same
    double: six digits where they suffice (the usual 1.000000e+04), else
    every digit (a base such as StarCoder2-3B's 999999.4420358813)."""
    short = f"{value:e}"
    return short if float(short) == value else f"{value:.17e}"


def float32(value):
    """`value` as float32 rounds it, written exactly: a PyTorch float32
    tensor times a Python float multiplies by the float32 nearest it. A
    value beyond float32's range is infinite."""
    if abs(value) > FLOAT32_MAX:
        return repr(math.copysign(math.inf, value))
    return repr(struct.unpack("f", struct.pack("f", value))[0])


def ffn_hidden(dim, multiple_of, multiplier):
    """torchtitan's FeedForward hidden size for a model dim."""
    hidden = int(2 * (4 * dim) / 3)
    if multiplier is not None:
        hidden = int(multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def yarn_divisors(factor, context, beta_fast, beta_slow, rotated, base,
                  truncate):
    """Hugging Face's _compute_yarn_parameters (transformers 5), in its
    order, as mp.rope longrope_factors: pair i's frequency is
    base^(-2i/R) (R rotated entries) blended with it over `factor` by the
    extrapolation weight e_i, base^(-2i/R) * ((1 - e_i) / factor + e_i),
    i.e. divided by 1 / ((1 - e_i) / factor + e_i). e_i falls linearly
    from 1 to 0 between the pairs that rotate beta_fast and beta_slow
    times in `context` positions (in R's units, as Hugging Face counts)."""
    def correction_dim(rotations):
        try:
            dim = rotated * math.log(context / (rotations * 2 * math.pi)) / (
                2 * math.log(base))
        except (OverflowError, ValueError, ZeroDivisionError):
            dim = math.nan
        if not math.isfinite(dim):
            sys.exit(f"gen-llama.py: --rope-yarn-scaling's ramp bound for "
                     f"{rotations!r} rotations in {context!r} positions is "
                     "not a finite number")
        return dim
    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, rotated - 1)
    if low == high:
        high += 0.001  # Hugging Face's guard against a zero-width ramp
    divisors = []
    for pair in range(rotated // 2):
        extrapolation = 1 - min(max((pair - low) / (high - low), 0), 1)
        divisors.append(1 / ((1 - extrapolation) / factor + extrapolation))
    return divisors


def tensor(shape, element="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


class Writer:
    def __init__(self):
        self.lines = []
        self.counter = 0

    def op(self, text, name=None):
        value = f"%{name or 'v'}{self.counter}"
        self.counter += 1
        self.lines.append(f"  {value} = {text}")
        return value


def generate(args):
    b, s, d = args.batch, args.seq, args.dim
    heads, kv_heads = args.heads, args.kv_heads
    head_dim = args.head_dim or d // heads
    q_rows, kv_rows = heads * head_dim, kv_heads * head_dim
    hidden = args.ffn_hidden or ffn_hidden(d, args.multiple_of,
                                           args.ffn_dim_multiplier)
    vocab = args.vocab
    rep = heads // kv_heads

    # OPT-350m's embeddings are narrower than the layers.
    words = args.embedding_dim or d
    params = [("tok_embeddings.weight", [vocab, words])]
    if args.learned_positions:
        params.append(("pos_embeddings.weight", [args.learned_positions, d]))
    if args.embedding_dim:
        params.append(("project_in.weight", [d, words]))

    def norm_params(name):
        # A LayerNorm's bias follows its weight.
        if args.no_norm_weights:
            return
        params.append((name + ".weight", [d]))
        if args.layer_norm and not args.no_norm_bias:
            params.append((name + ".bias", [d]))

    if args.embedding_norm:
        norm_params("embedding_norm")
    shared_norm = args.parallel_block == "shared"
    qkv_bias = args.attention_bias in ("qkv", "all")
    out_bias = args.attention_bias in ("all", "out")
    mlp_linears = [("feed_forward.w1", hidden, d),
                   ("feed_forward.w2", d, hidden)]
    if not args.plain_mlp:
        mlp_linears.append(("feed_forward.w3", hidden, d))
    for layer in range(args.layers):
        p = f"layers.{layer}."
        norm_params(p + "attention_norm")
        for name, out, inp, bias in [
                ("attention.wq", q_rows, d, qkv_bias),
                ("attention.wk", kv_rows, d, qkv_bias),
                ("attention.wv", kv_rows, d, qkv_bias),
                ("attention.wo", d, q_rows, out_bias)]:
            params.append((p + name + ".weight", [out, inp]))
            if bias:
                params.append((p + name + ".bias", [out]))
        if args.qk_norm:
            q_shape, k_shape = {
                "head": ([head_dim], [head_dim]),
                "whole": ([q_rows], [kv_rows]),
                "each-head": ([heads, head_dim], [kv_heads, head_dim]),
            }[args.qk_norm]
            for name, shape in [("attention.q_norm", q_shape),
                                ("attention.k_norm", k_shape)]:
                params.append((p + name + ".weight", shape))
                # A shared LayerNorm's bias follows its weight.
                if args.layer_norm and not args.no_norm_bias and \
                        args.qk_norm == "head":
                    params.append((p + name + ".bias", shape))
        if args.sandwich_norm:
            norm_params(p + "post_attention_norm")
        if not shared_norm:
            norm_params(p + "ffn_norm")
        for name, out, inp in mlp_linears:
            params.append((p + name + ".weight", [out, inp]))
            if args.mlp_bias:
                params.append((p + name + ".bias", [out]))
        if args.sandwich_norm:
            norm_params(p + "post_ffn_norm")
    if not args.no_final_norm:
        norm_params("norm")
    if args.embedding_dim:
        params.append(("project_out.weight", [words, d]))
    if not args.tie_embeddings:
        params.append(("output.weight", [vocab, words]))
    if args.output_bias:
        params.append(("output.bias", [vocab]))
    arg_of = {name: f"%p{i}" for i, (name, _) in enumerate(params)}

    w = Writer()
    act = [b, s, d]
    eps = exact(args.norm_eps)
    theta = exact(args.rope_theta)
    if args.rope_dynamic_scaling:
        # Hugging Face's _compute_dynamic_ntk_parameters, in its order.
        factor, context = args.rope_dynamic_scaling
        context = int(context)
        rotated = args.rotary_dims or head_dim
        try:
            base = args.rope_theta * ((factor * max(s, context) / context) - (
                factor - 1)) ** (rotated / (rotated - 2))
        except OverflowError:
            base = math.inf
        if not 0 < base < math.inf:
            sys.exit(f"gen-llama.py: --rope-dynamic-scaling gives the base "
                     f"{base!r} for --seq {s}; it must be positive and "
                     "finite")
        theta = exact(base)
    if args.rope_scaling:
        theta += (" llama3_scaling [" +
                  ", ".join(repr(v) for v in args.rope_scaling) + "]")
    if args.rope_linear_scaling:
        theta += f" linear_scaling {args.rope_linear_scaling!r}"
    # Every layer rotates the same entries; longrope scales the --rope-theta
    # layers' frequencies, by the factors of the compiled sequence length.
    rotation = ("" if args.rotary_dims is None
                else f" rotary_dims {args.rotary_dims}")
    theta += rotation
    # Per-pair divisors: longrope's or YaRN's (one of them at most).
    longrope = factors = None
    if args.longrope_short_factors:
        longrope = ("long" if s > args.longrope_original_context
                    else "short")
        factors = getattr(args, f"longrope_{longrope}_factors")
    if args.rope_yarn_scaling:
        factors = yarn_divisors(*args.rope_yarn_scaling,
                                args.rotary_dims or head_dim,
                                args.rope_theta,
                                not args.rope_yarn_no_truncate)
    if factors:
        theta += (" longrope_factors [" + ", ".join(map(repr, factors)) +
                  "]")
    if args.rope_attention_factor:
        theta += f" attention_factor {args.rope_attention_factor!r}"

    def add_bias(y, shape, module):
        if module + ".bias" not in arg_of:
            return y
        leading = ", ".join(map(str, range(len(shape) - 1)))
        bias = w.op(f"mp.broadcast {arg_of[module + '.bias']} dims "
                    f"[{leading}] : {tensor(shape[-1:])} -> {tensor(shape)}")
        return w.op(f"mp.add {y}, {bias} : {tensor(shape)}")

    def linear(x, x_shape, module, out, bias=True):
        shape = x_shape[:-1] + [out]
        y = w.op(f"mp.linear {x}, {arg_of[module + '.weight']} : "
                 f"({tensor(x_shape)}, {tensor([out, x_shape[-1]])}) -> "
                 f"{tensor(shape)}")
        return (add_bias(y, shape, module) if bias else y), shape

    offset = (f" weight_offset {exact(args.norm_weight_offset)}"
              if args.norm_weight_offset else "")

    constants = {}

    def constant(value, size):
        # One constant of each value and size for every norm.
        if (value, size) not in constants:
            constants[value, size] = w.op(
                f"arith.constant dense<{exact(value)}> : {tensor([size])}")
        return constants[value, size]

    def layer_norm(x, weight, bias, shape, module=None):
        # A norm without parameters names its module for the plan.
        named = f' {{mp.module = "{module}"}}' if module else ""
        return w.op(f"mp.layer_norm {x}, {weight}, {bias} eps {eps}{named} : "
                    f"({tensor(shape)}, {tensor(shape[-1:])}, "
                    f"{tensor(shape[-1:])}) -> {tensor(shape)}")

    def norm(x, weight, shape=act):
        if args.no_norm_weights:  # OLMo's F.layer_norm(x, None, None)
            return layer_norm(x, constant(1.0, shape[-1]),
                              constant(0.0, shape[-1]), shape,
                              weight[:-len(".weight")])
        if args.layer_norm:
            bias = arg_of.get(weight[:-len("weight")] + "bias")
            if bias is None:
                bias = constant(0.0, shape[-1])
            scale = arg_of[weight]
            if args.norm_weight_offset:
                # Nemotron's LayerNorm1P: F.layer_norm by weight + 1, the
                # sum taken in the weight's dtype as PyTorch takes it.
                scale = w.op(f"mp.add {scale}, "
                             f"{constant(args.norm_weight_offset, shape[-1])}"
                             f" : {tensor(shape[-1:])}")
            return layer_norm(x, scale, bias, shape)
        return w.op(f"mp.rms_norm {x}, {arg_of[weight]} eps {eps}{offset} : "
                    f"({tensor(shape)}, {tensor(shape[-1:])}) -> "
                    f"{tensor(shape)}")

    def softcap(x, shape, cap):
        # cap · tanh(x / cap), each factor written exactly.
        if not cap:
            return x
        x = w.op(f"mp.scale {x} by {1 / cap!r} : {tensor(shape)}")
        x = w.op(f"mp.tanh {x} : {tensor(shape)}")
        return w.op(f"mp.scale {x} by {float(cap)!r} : {tensor(shape)}")

    def clip(x, shape):
        bound = float(float32(args.clip_qkv))
        return w.op(f"mp.clamp {x} min {exact(-bound)} max {exact(bound)} : "
                    f"{tensor(shape)}")

    def reshape(x, src, dst):
        return w.op(f"mp.reshape {x} : {tensor(src)} -> {tensor(dst)}")

    def transpose(x, src, perm):
        dst = [src[i] for i in perm]
        return w.op(f"mp.transpose {x} perm [{', '.join(map(str, perm))}] : "
                    f"{tensor(src)} -> {tensor(dst)}"), dst

    def head_norm(y, weight, n):
        # Each head normed, then scaled by its own weights: the weights
        # [n, head_dim] stay a tensor of their own, split by heads.
        shape = [b, s, n, head_dim]
        if args.qk_norm != "each-head":
            return norm(y, weight, shape)
        y = layer_norm(y, constant(1.0, head_dim), constant(0.0, head_dim),
                       shape)
        scale = w.op(f"mp.broadcast {arg_of[weight]} dims [0, 1] : "
                     f"{tensor([n, head_dim])} -> {tensor(shape)}")
        return w.op(f"mp.mul {y}, {scale} : {tensor(shape)}")

    def heads_of(x, n, rotate, qk_norm=None, theta=theta):
        y = reshape(x, [b, s, n * head_dim], [b, s, n, head_dim])
        if qk_norm and not args.qk_norm_after_rope:
            y = head_norm(y, qk_norm, n)
        if rotate:
            y = w.op(f"mp.rope {y} theta {theta} : "
                     f"{tensor([b, s, n, head_dim])}")
        if qk_norm and args.qk_norm_after_rope:
            y = head_norm(y, qk_norm, n)
        if n != heads:  # repeat_kv
            y = w.op(f"mp.broadcast {y} dims [3] : "
                     f"{tensor([b, s, n, head_dim])} -> "
                     f"{tensor([b, s, n, rep, head_dim])}")
            y = reshape(y, [b, s, n, rep, head_dim], [b, s, heads, head_dim])
        return y

    padding = "" if args.padding_idx is None else \
        f" padding_idx {args.padding_idx}"
    embedded = [b, s, words]
    h = w.op(f"mp.embedding %tokens, {arg_of['tok_embeddings.weight']}"
             f"{padding} : ({tensor([b, s], 'i64')}, "
             f"{tensor([vocab, words])}) -> {tensor(embedded)}", "h")
    if args.embedding_dim:  # OPT's project_in
        h, _ = linear(h, embedded, "project_in", d)
    if args.scale_embeddings:
        # Gemma multiplies by sqrt(hidden_size) as a tensor of the
        # activations' dtype: float32's nearest, written exactly.
        h = w.op(f"mp.scale {h} by {float32(math.sqrt(d))} : "
                 f"{tensor(act)}", "h")
    if args.embedding_multiplier is not None:
        h = w.op(f"mp.scale {h} by {float32(args.embedding_multiplier)} : "
                 f"{tensor(act)}", "h")
    if args.learned_positions:
        # GPT-2's wte(tokens) + wpe(arange(seq)), OPT's
        # embed_positions(arange(seq) + 2).
        start = f" start {args.positions_offset}" \
            if args.positions_offset else ""
        positions = w.op(f"mp.iota dim 1{start} : {tensor([b, s], 'i64')}",
                         "positions")
        rows = w.op(f"mp.embedding {positions}, "
                    f"{arg_of['pos_embeddings.weight']} : "
                    f"({tensor([b, s], 'i64')}, "
                    f"{tensor([args.learned_positions, d])}) -> "
                    f"{tensor(act)}")
        h = w.op(f"mp.add {h}, {rows} : {tensor(act)}", "h")
    if args.embedding_norm:  # BLOOM's word_embeddings_layernorm
        h = norm(h, "embedding_norm.weight")
    if args.alibi is not None:
        # One slope per head, for every layer.
        max_bias = f" max_bias {exact(args.alibi)}" if args.alibi != 8 else ""
        slopes = w.op(f"mp.alibi_slopes{max_bias} : {tensor([heads])}",
                      "alibi_slopes")

    def residual(x):
        # Granite scales each sublayer's output before its residual add.
        if args.residual_multiplier is None:
            return x
        return w.op(f"mp.scale {x} by {float32(args.residual_multiplier)} : "
                    f"{tensor(act)}")

    def windowed(layer):
        if args.window_layers is not None:
            return layer in args.window_layers
        return layer >= args.window_from_layer

    # 1/sqrt(head_dim) as before (six digits), Gemma 2's
    # query_pre_attn_scalar ** -0.5 written exactly, or Granite's
    # attention_multiplier.
    scaling = (float32(args.attention_multiplier)
               if args.attention_multiplier is not None else
               repr(args.query_pre_attn_scalar ** -0.5)
               if args.query_pre_attn_scalar else
               exact(1 / math.sqrt(head_dim)))
    activation = {"silu": "mp.silu", "gelu": "mp.gelu",
                  "gelu-tanh": "mp.gelu",
                  "relu": "mp.relu", "relu2": "mp.relu"}[args.mlp_activation]
    tanh = " tanh" if args.mlp_activation == "gelu-tanh" else ""
    for layer in range(args.layers):
        p = f"layers.{layer}."
        # The sublayers read the residual stream itself where the norms
        # come after them (--post-norm) or after the residual adds.
        pre_norm = not (args.post_norm or args.norm_after_residual)
        x = norm(h, p + "attention_norm.weight") if pre_norm else h
        attention_input = x
        q, _ = linear(x, act, p + "attention.wq", q_rows)
        k, _ = linear(x, act, p + "attention.wk", kv_rows)
        v, _ = linear(x, act, p + "attention.wv", kv_rows)
        if args.clip_qkv:
            q = clip(q, [b, s, q_rows])
            k = clip(k, [b, s, kv_rows])
            v = clip(v, [b, s, kv_rows])
        if args.qk_norm == "whole":
            q = norm(q, p + "attention.q_norm.weight", [b, s, q_rows])
            k = norm(k, p + "attention.k_norm.weight", [b, s, kv_rows])
        per_head = args.qk_norm in ("head", "each-head")
        # Gemma 3's windowed layers rotate by a base of their own.
        layer_theta = (f"{exact(args.local_rope_theta)}{rotation}"
                       if args.local_rope_theta and args.sliding_window
                       and windowed(layer) else theta)
        # Cohere 2's global layers and SmolLM3's every fourth have no
        # positional embedding.
        rotate = not (args.learned_positions or args.alibi is not None or
                      layer in args.nope_layers)
        q = heads_of(q, heads, rotate,
                     per_head and p + "attention.q_norm.weight", layer_theta)
        k = heads_of(k, kv_heads, rotate,
                     per_head and p + "attention.k_norm.weight", layer_theta)
        v = heads_of(v, kv_heads, False)
        bshd = [b, s, heads, head_dim]
        q, qt = transpose(q, bshd, [0, 2, 1, 3])
        k, kt = transpose(k, bshd, [0, 2, 3, 1])
        v, vt = transpose(v, bshd, [0, 2, 1, 3])
        scores_shape = [b, heads, s, s]
        scores = w.op(f"mp.matmul {q}, {k} : ({tensor(qt)}, {tensor(kt)}) -> "
                      f"{tensor(scores_shape)}")

        def alibi(scores):
            form = " bf16_bias" if args.falcon_alibi else ""
            return w.op(f"mp.alibi {scores}, {slopes}{form} : "
                        f"{tensor(scores_shape)}, {tensor([heads])}")
        # Falcon biases the scores before their scaling, BLOOM and MPT after.
        if args.falcon_alibi:
            scores = alibi(scores)
        scores = w.op(f"mp.scale {scores} by {scaling} : "
                      f"{tensor(scores_shape)}")
        if args.alibi is not None and not args.falcon_alibi:
            scores = alibi(scores)
        scores = softcap(scores, scores_shape, args.attention_softcap)
        window = (f" window {args.sliding_window}"
                  if args.sliding_window and args.sliding_window < s
                  and windowed(layer) else "")
        probs = w.op(f"mp.softmax {scores} causal{window} : "
                     f"{tensor(scores_shape)}")
        o = w.op(f"mp.matmul {probs}, {v} : ({tensor(scores_shape)}, "
                 f"{tensor(vt)}) -> {tensor(vt)}")
        o, ot = transpose(o, vt, [0, 2, 1, 3])
        o = reshape(o, ot, [b, s, q_rows])
        # A parallel block adds the biases of its two output GEMMs after
        # their sum (below).
        o, _ = linear(o, [b, s, q_rows], p + "attention.wo", d,
                      bias=not args.parallel_block)
        if args.post_norm:
            o = norm(o, p + "attention_norm.weight")
        if args.sandwich_norm:
            o = norm(o, p + "post_attention_norm.weight")
        # A parallel block's feed-forward reads the layer's input, h until
        # the block's sum (normed by its own norm, or by the attention's).
        if not args.parallel_block:
            h = w.op(f"mp.add {h}, {residual(o)} : {tensor(act)}", "h")
        if args.norm_after_residual:
            h = norm(h, p + "attention_norm.weight")
        if not pre_norm:
            x = h
        elif shared_norm:
            x = attention_input
        else:
            x = norm(h, p + "ffn_norm.weight")
        g, hshape = linear(x, act, p + "feed_forward.w1", hidden)
        g = w.op(f"{activation} {g}{tanh} : {tensor(hshape)}")
        if args.mlp_activation == "relu2":  # torch.square(relu(x))
            g = w.op(f"mp.mul {g}, {g} : {tensor(hshape)}")
        if not args.plain_mlp:
            u, _ = linear(x, act, p + "feed_forward.w3", hidden)
            g = w.op(f"mp.mul {g}, {u} : {tensor(hshape)}")
        f, _ = linear(g, hshape, p + "feed_forward.w2", d,
                      bias=not args.parallel_block)
        if args.post_norm:
            f = norm(f, p + "ffn_norm.weight")
        if args.sandwich_norm:
            f = norm(f, p + "post_ffn_norm.weight")
        if args.parallel_block:
            # (attention + feed-forward) + x, as GPT-NeoX and Phi add them,
            # the two output GEMMs' biases added to their sum: under tensor
            # parallelism the rowwise GEMMs' partial sums add up before one
            # reduction (as Megatron-LM's RowParallelLinear adds its bias
            # after its reduction), not one reduction each.
            f = w.op(f"mp.add {o}, {f} : {tensor(act)}")
            f = add_bias(f, act, p + "attention.wo")
            f = add_bias(f, act, p + "feed_forward.w2")
        h = w.op(f"mp.add {h}, {residual(f)} : {tensor(act)}", "h")
        if args.norm_after_residual:
            h = norm(h, p + "ffn_norm.weight")
    x = h if args.no_final_norm else norm(h, "norm.weight")
    if args.embedding_dim:  # OPT's project_out
        x, _ = linear(x, act, "project_out", words)
    logits, lshape = linear(
        x, embedded, "tok_embeddings" if args.tie_embeddings else "output",
        vocab)
    if args.logits_scaling is not None:
        # Granite divides; the reciprocal's product is the quotient where
        # L is a power of two, within an ulp otherwise.
        logits = w.op(f"mp.scale {logits} by "
                      f"{float32(1 / float(float32(args.logits_scaling)))} : "
                      f"{tensor(lshape)}")
    if args.logit_scale is not None:
        logits = w.op(f"mp.scale {logits} by {float32(args.logit_scale)} : "
                      f"{tensor(lshape)}")
    logits = softcap(logits, lshape, args.final_softcap)
    labels = tensor([b, s], 'i64')
    if args.ignore_index is None:
        loss = w.op(f"mp.cross_entropy {logits}, %labels : "
                    f"({tensor(lshape)}, {labels}) -> tensor<f32>", "loss")
    else:
        total = w.op(f"mp.cross_entropy {logits}, %labels reduction sum "
                     f"ignore_index {args.ignore_index} : ({tensor(lshape)}, "
                     f"{labels}) -> tensor<f32>")
        kept = w.op(f"mp.target_mask %labels ignore_index {args.ignore_index}"
                    f" : {labels} -> {tensor([b, s])}")
        count = w.op(f"mp.sum {kept} : {tensor([b, s])} -> tensor<f32>")
        loss = w.op(f"mp.div {total}, {count} : tensor<f32>", "loss")

    config = (f"layers={args.layers} dim={d} heads={heads} "
              f"kv_heads={kv_heads} head_dim={head_dim} ffn_hidden={hidden} "
              f"vocab={vocab} seq={s} batch={b}")
    for name in ("attention_bias", "qk_norm", "qk_norm_after_rope",
                 "sliding_window",
                 "window_from_layer", "norm_weight_offset",
                 "attention_softcap", "final_softcap",
                 "query_pre_attn_scalar", "local_rope_theta",
                 "rope_linear_scaling", "rope_dynamic_scaling",
                 "rope_yarn_scaling", "rope_yarn_no_truncate", "rotary_dims",
                 "rope_attention_factor", "parallel_block",
                 "embedding_multiplier", "residual_multiplier",
                 "attention_multiplier", "logits_scaling", "logit_scale"):
        if getattr(args, name):
            config += f" {name}={getattr(args, name)}"
    if longrope:
        config += f" longrope={longrope}"
    if args.window_layers is not None:
        config += " window_layers=" + ",".join(map(str, args.window_layers))
    if args.nope_layers:
        config += " nope_layers=" + ",".join(map(str, args.nope_layers))
    if args.learned_positions:
        config += f" learned_positions={args.learned_positions}"
    if args.positions_offset:
        config += f" positions_offset={args.positions_offset}"
    if args.ignore_index is not None:
        config += f" ignore_index={args.ignore_index}"
    if args.padding_idx is not None:
        config += f" padding_idx={args.padding_idx}"
    if args.mlp_activation != "silu":
        config += f" mlp_activation={args.mlp_activation}"
    if args.clip_qkv is not None:
        config += f" clip_qkv={args.clip_qkv!r}"
    if args.embedding_dim:
        config += f" embedding_dim={args.embedding_dim}"
    if args.alibi is not None:
        config += f" alibi={args.alibi!r}"
    if args.falcon_alibi:
        config += " falcon_alibi"
    config += "".join(f" {name}" for name in ("mlp_bias", "post_norm",
                                              "norm_after_residual",
                                              "no_final_norm",
                                              "tie_embeddings",
                                              "scale_embeddings",
                                              "sandwich_norm", "layer_norm",
                                              "no_norm_bias",
                                              "no_norm_weights", "plain_mlp",
                                              "output_bias", "embedding_norm")
                      if getattr(args, name))
    out = [f"// Llama-shaped model written by examples/llama/gen-llama.py: "
           f"{config}",
           f"func.func @llama(%tokens: {tensor([b, s], 'i64')} "
           f"{{mp.input = \"tokens\"}},",
           f"                 %labels: {tensor([b, s], 'i64')} "
           f"{{mp.target = \"labels\"}},"]
    for i, (name, shape) in enumerate(params):
        sep = "," if i + 1 < len(params) else ") -> tensor<f32> {"
        out.append(f"                 {arg_of[name]}: {tensor(shape)} "
                   f"{{mp.param = \"{name}\"}}{sep}")
    out += w.lines
    out += [f"  return {loss} : tensor<f32>", "}"]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=None,
                        help="K/V heads (grouped-query attention); "
                             "default: --heads")
    parser.add_argument("--head-dim", type=int, default=None,
                        help="the size of a head; default: --dim / --heads")
    parser.add_argument("--attention-bias", choices=["qkv", "all", "out"],
                        help="biases on wq, wk, wv (qkv) or on wo too (all), "
                             "or on wo alone (out: GPT-Neo's)")
    parser.add_argument("--mlp-bias", action="store_true",
                        help="biases on w1, w2, w3")
    parser.add_argument("--qk-norm", nargs="?", const="head",
                        choices=["head", "whole", "each-head"],
                        help="RMSNorm of each query and key head (head, "
                             "Qwen3; with --layer-norm a LayerNorm the heads "
                             "share, Persimmon's) or of the whole "
                             "projections (whole, "
                             "OLMo 2) before the rotation; each-head: "
                             "LayerNorms of each head with weights of its "
                             "own (StableLM 2 12B, Command-R+)")
    parser.add_argument("--qk-norm-after-rope", action="store_true",
                        help="--qk-norm head's norms after the rotation "
                             "(HunYuan)")
    parser.add_argument("--post-norm", action="store_true",
                        help="the norms on the sublayers' outputs (OLMo 2)")
    parser.add_argument("--norm-after-residual", action="store_true",
                        help="the norms after the residual adds (post-LN: "
                             "OPT-350m)")
    parser.add_argument("--no-final-norm", action="store_true",
                        help="no norm before the output projection")
    parser.add_argument("--embedding-dim", type=int, default=None,
                        metavar="E",
                        help="token embeddings of E entries through "
                             "project_in and project_out (OPT-350m's "
                             "word_embed_proj_dim)")
    parser.add_argument("--tie-embeddings", action="store_true",
                        help="the output projection is tok_embeddings.weight "
                             "(no output.weight)")
    parser.add_argument("--sliding-window", type=int, default=None,
                        help="each query attends to its last W positions")
    parser.add_argument("--window-from-layer", type=int, default=0,
                        help="the first layer with the window (default 0)")
    parser.add_argument(
        "--window-layers", metavar="I,J,...",
        type=lambda text: [int(v) for v in text.split(",")] if text else [],
        help="the layers with the window (instead of --window-from-layer)")
    parser.add_argument("--mlp-activation", default="silu",
                        choices=["silu", "gelu", "gelu-tanh", "relu",
                                 "relu2"],
                        help="the gate's activation (gelu-tanh: Gemma's; "
                             "relu: OPT's; relu2: relu(x)^2, Nemotron's)")
    parser.add_argument("--norm-weight-offset", type=float, default=0.0,
                        help="every norm scales by this + weight (Gemma, "
                             "Nemotron: 1)")
    parser.add_argument("--scale-embeddings", action="store_true",
                        help="the embeddings times sqrt(--dim) (Gemma)")
    parser.add_argument(
        "--nope-layers", metavar="I,J,...", default=[],
        type=lambda text: [int(v) for v in text.split(",")] if text else [],
        help="the layers whose q and k are not rotated (Cohere 2, SmolLM3)")
    parser.add_argument("--learned-positions", type=int, default=None,
                        metavar="N",
                        help="no rotation: a learned table of N positions "
                             "added to the embeddings (GPT-2's wpe, OPT's "
                             "embed_positions)")
    parser.add_argument("--positions-offset", type=int, default=0,
                        metavar="K",
                        help="the positions' rows from K on (OPT's 2)")
    parser.add_argument("--alibi", nargs="?", const=8.0, type=float,
                        default=None, metavar="MAX_BIAS",
                        help="no rotation: ALiBi's per-head linear bias on "
                             "the scores (BLOOM's, MPT's), its slopes at "
                             "MAX_BIAS (8 when not given)")
    parser.add_argument("--falcon-alibi", action="store_true",
                        help="with --alibi: Falcon-RW's bias, in bfloat16 "
                             "and before the scaling")
    parser.add_argument("--embedding-norm", action="store_true",
                        help="a norm of the embeddings before the first "
                             "layer (BLOOM's word_embeddings_layernorm)")
    parser.add_argument("--no-norm-bias", action="store_true",
                        help="the LayerNorms without biases (Cohere's)")
    parser.add_argument("--clip-qkv", type=float, default=None, metavar="C",
                        help="q, k and v clamped to [-C, C] (OLMo's "
                             "clip_qkv)")
    parser.add_argument("--no-norm-weights", action="store_true",
                        help="the LayerNorms with neither weights nor "
                             "biases (OLMo's)")
    parser.add_argument("--ignore-index", type=int, default=None,
                        metavar="N",
                        help="labels equal to N add nothing to the loss "
                             "(PyTorch's ignore_index; Hugging Face's -100)")
    parser.add_argument("--padding-idx", type=int, default=None,
                        metavar="N",
                        help="the embedding's row N gets no gradient from "
                             "the lookups (nn.Embedding's padding_idx)")
    parser.add_argument("--logit-scale", type=float, default=None,
                        metavar="S",
                        help="the logits times S (Cohere's logit_scale)")
    parser.add_argument("--layer-norm", action="store_true",
                        help="LayerNorms with biases instead of RMSNorms "
                             "(StableLM)")
    parser.add_argument("--parallel-block", choices=["separate", "shared"],
                        help="the attention and the feed-forward side by "
                             "side on the layer's input, each with its norm "
                             "(separate: GPT-NeoX) or on one (shared: Phi-2)")
    parser.add_argument("--plain-mlp", action="store_true",
                        help="the feed-forward w2(act(w1(x))): no w3 "
                             "(GPT-NeoX, Phi-2)")
    parser.add_argument("--output-bias", action="store_true",
                        help="a bias on the output projection (Phi-2)")
    parser.add_argument("--sandwich-norm", action="store_true",
                        help="norms on the sublayers' inputs and outputs "
                             "(Gemma 2)")
    parser.add_argument("--attention-softcap", type=float, default=None,
                        help="the scores soft-capped: C tanh(x / C)")
    parser.add_argument("--final-softcap", type=float, default=None,
                        help="the logits soft-capped: C tanh(x / C)")
    parser.add_argument("--local-rope-theta", type=float, default=None,
                        help="the windowed layers' rotary base (Gemma 3)")
    parser.add_argument("--query-pre-attn-scalar", type=float, default=None,
                        help="the scores scaled by 1/sqrt(Q), not "
                             "1/sqrt(head_dim)")
    for option, meaning in [
            ("--embedding-multiplier", "the embeddings times E"),
            ("--residual-multiplier",
             "each sublayer's output times R before its residual add"),
            ("--attention-multiplier",
             "the scores times A, not 1/sqrt(head_dim)"),
            ("--logits-scaling", "the logits divided by L")]:
        parser.add_argument(option, type=float, default=None,
                            metavar=option[2].upper(),
                            help=meaning + " (Granite's)")
    parser.add_argument("--ffn-hidden", type=int, default=None,
                        help="FeedForward hidden size; default: torchtitan's "
                             "from --dim, --multiple-of, --ffn-dim-multiplier")
    parser.add_argument("--multiple-of", type=int, default=256)
    parser.add_argument("--ffn-dim-multiplier", type=float, default=None)
    parser.add_argument("--vocab", type=int, default=256)
    parser.add_argument("--seq", type=int, default=16)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--norm-eps", type=float, default=1e-5)
    parser.add_argument("--rope-theta", type=float, default=10000.0)
    parser.add_argument(
        "--rope-scaling", type=lambda text: [float(v) for v in text.split(",")],
        metavar="FACTOR,LOW,HIGH,CONTEXT",
        help="Llama 3.1's rotary frequency scaling (mp.rope llama3_scaling): "
             "factor, low_freq_factor, high_freq_factor, "
             "original_max_position_embeddings; Llama 3.1: 8,1,4,8192")
    parser.add_argument("--rope-linear-scaling", type=float, default=None,
                        metavar="F",
                        help="the --rope-theta layers' frequencies divided "
                             "by F (mp.rope linear_scaling)")
    factors = lambda text: [float(v) for v in text.split(",")]
    parser.add_argument(
        "--rope-dynamic-scaling", type=factors, metavar="FACTOR,CONTEXT",
        help="Hugging Face's dynamic NTK scaling: the base for --seq "
             "positions (unchanged up to CONTEXT, max_position_embeddings)")
    parser.add_argument("--rotary-dims", type=int, default=None, metavar="R",
                        help="only the first R entries of each head rotate "
                             "(mp.rope rotary_dims)")
    parser.add_argument("--longrope-short-factors", type=factors,
                        metavar="F,...",
                        help="longrope's factors for sequences up to "
                             "--longrope-original-context")
    parser.add_argument("--longrope-long-factors", type=factors,
                        metavar="F,...",
                        help="longrope's factors for longer sequences")
    parser.add_argument("--longrope-original-context", type=int, default=None,
                        metavar="N",
                        help="the longest sequence of the short factors "
                             "(original_max_position_embeddings)")
    parser.add_argument(
        "--rope-yarn-scaling", type=factors,
        metavar="FACTOR,CONTEXT,BETA_FAST,BETA_SLOW",
        help="Hugging Face's YaRN: each pair's frequency divided by up to "
             "FACTOR (mp.rope longrope_factors); Hugging Face's defaults "
             "for the betas: 32,1")
    parser.add_argument("--rope-yarn-no-truncate", action="store_true",
                        help="YaRN's ramp bounds not rounded outwards "
                             "(truncate false: gpt-oss's)")
    parser.add_argument("--rope-attention-factor", type=float, default=None,
                        metavar="A",
                        help="cos and sin times A (mp.rope attention_factor)")
    args = parser.parse_args()
    if args.kv_heads is None:
        args.kv_heads = args.heads
    head_dim = args.head_dim or args.dim // args.heads
    rotary_dims = head_dim if args.rotary_dims is None else args.rotary_dims
    longrope = (args.longrope_short_factors, args.longrope_long_factors,
                args.longrope_original_context)
    checks = [
        (min(args.dim, args.heads, args.kv_heads, args.vocab, args.seq,
             args.batch, *(v for v in (args.head_dim, args.sliding_window)
                           if v is not None)) >= 1,
         "every size must be positive"),
        (args.layers >= 0, "--layers must be >= 0"),
        (args.window_from_layer >= 0, "--window-from-layer must be >= 0"),
        (args.window_layers is None or all(
            0 <= layer < args.layers for layer in args.window_layers),
         "--window-layers must list layers from 0 to --layers - 1"),
        (args.window_layers is None or not args.window_from_layer,
         "--window-layers and --window-from-layer exclude each other"),
        (args.head_dim or args.dim % args.heads == 0,
         "--dim must be a multiple of --heads (or --head-dim given)"),
        (args.heads % args.kv_heads == 0,
         "--heads must be a multiple of --kv-heads"),
        (head_dim % 2 == 0 or args.learned_positions,
         "head_dim (--head-dim, or --dim / --heads) must be even for rotary "
         "embeddings"),
        (args.learned_positions or
         (0 < rotary_dims <= head_dim and rotary_dims % 2 == 0),
         "--rotary-dims must be even, positive and at most head_dim"),
        (all(v is None for v in longrope) or
         all(v is not None for v in longrope),
         "--longrope-short-factors, --longrope-long-factors and "
         "--longrope-original-context go together"),
        (all(v is None or len(v) == rotary_dims // 2 and
             all(0 < f < math.inf for f in v) for v in longrope[:2]),
         f"longrope takes {rotary_dims // 2} positive finite factors, one "
         "per rotated pair"),
        (args.longrope_original_context is None or
         args.longrope_original_context >= 1,
         "--longrope-original-context must be positive"),
        (args.rope_scaling is None or len(args.rope_scaling) == 4,
         "--rope-scaling takes 4 values: FACTOR,LOW,HIGH,CONTEXT"),
        (args.rope_dynamic_scaling is None or (
            len(args.rope_dynamic_scaling) == 2 and
            1 <= args.rope_dynamic_scaling[0] < math.inf and
            1 <= args.rope_dynamic_scaling[1] < math.inf and
            args.rope_dynamic_scaling[1] == int(args.rope_dynamic_scaling[1])),
         "--rope-dynamic-scaling takes FACTOR,CONTEXT: a finite factor of at "
         "least 1 and a positive whole context"),
        (args.rope_dynamic_scaling is None or rotary_dims > 2,
         "--rope-dynamic-scaling's exponent R / (R - 2) needs more than 2 "
         "rotated entries"),
        (args.rope_yarn_scaling is None or (
            len(args.rope_yarn_scaling) == 4 and
            1 <= args.rope_yarn_scaling[0] < math.inf and
            1 <= args.rope_yarn_scaling[1] < math.inf and
            args.rope_yarn_scaling[1] == int(args.rope_yarn_scaling[1]) and
            all(0 < v < math.inf for v in args.rope_yarn_scaling[2:])),
         "--rope-yarn-scaling takes FACTOR,CONTEXT,BETA_FAST,BETA_SLOW: a "
         "finite factor of at least 1, a positive whole context and "
         "positive finite betas"),
        (args.rope_yarn_scaling is None or 1 < args.rope_theta < math.inf,
         "--rope-yarn-scaling's ramp divides by ln --rope-theta: the base "
         "must be finite and above 1"),
        (not args.rope_yarn_no_truncate or args.rope_yarn_scaling,
         "--rope-yarn-no-truncate goes with --rope-yarn-scaling"),
        (sum(v is not None for v in (
            args.rope_scaling, args.rope_linear_scaling,
            args.longrope_short_factors, args.rope_dynamic_scaling,
            args.rope_yarn_scaling)) <= 1,
         "--rope-scaling, --rope-linear-scaling, longrope, "
         "--rope-dynamic-scaling and --rope-yarn-scaling each scale the "
         "frequencies: one at most"),
        (math.isfinite(args.norm_weight_offset),
         "--norm-weight-offset must be finite"),
        (all(v is None or 0 < v < math.inf for v in (
            args.attention_softcap, args.final_softcap,
            args.query_pre_attn_scalar, args.local_rope_theta,
            args.rope_linear_scaling, args.rope_attention_factor,
            args.embedding_multiplier, args.residual_multiplier,
            args.attention_multiplier, args.logits_scaling,
            args.logit_scale)),
         "--attention-softcap, --final-softcap, --query-pre-attn-scalar, "
         "--local-rope-theta, --rope-linear-scaling, "
         "--rope-attention-factor, Granite's multipliers and --logit-scale "
         "must be positive and finite"),
        (all(v is None or 0 < float(float32(v)) < FLOAT32_MAX for v in (
            args.embedding_multiplier, args.residual_multiplier,
            args.attention_multiplier, args.logits_scaling,
            args.logit_scale)) and
         (args.logits_scaling is None or
          1 / float(float32(args.logits_scaling)) < FLOAT32_MAX),
         "Granite's multipliers, --logit-scale (and 1 / --logits-scaling) "
         "must be positive and finite in float32"),
        (all(0 <= layer < args.layers for layer in args.nope_layers),
         "--nope-layers must list layers from 0 to --layers - 1"),
        (args.positions_offset >= 0,
         "--positions-offset must be 0 or more"),
        (not args.positions_offset or args.learned_positions,
         "--positions-offset counts rows of --learned-positions"),
        (args.learned_positions is None or
         args.seq + args.positions_offset <= args.learned_positions,
         f"--seq {args.seq} from row {args.positions_offset} is past the "
         f"{args.learned_positions} positions of --learned-positions"),
        (args.alibi is None or 0 < args.alibi < math.inf,
         "--alibi's MAX_BIAS must be positive and finite"),
        (not args.falcon_alibi or args.alibi is not None,
         "--falcon-alibi is a form of --alibi's bias"),
        (not (args.alibi is not None and args.learned_positions),
         "--alibi and --learned-positions are two ways of giving positions"),
        (not (args.alibi is not None and args.attention_softcap),
         "--alibi biases scores that --attention-softcap would cap: no "
         "model does both"),
        ((args.learned_positions is None and args.alibi is None) or not (
            args.nope_layers or args.rotary_dims or args.local_rope_theta or
            any(v is not None for v in (
                args.rope_scaling, args.rope_linear_scaling,
                args.longrope_short_factors, args.rope_dynamic_scaling,
                args.rope_yarn_scaling, args.rope_attention_factor)) or
            args.qk_norm_after_rope),
         "--learned-positions and --alibi rotate no layer: they take no "
         "rotary option"),
        (args.clip_qkv is None or (0 < float(float32(args.clip_qkv))
                                   < math.inf),
         "--clip-qkv must be positive and finite in float32"),
        (not args.no_norm_bias or args.layer_norm,
         "--no-norm-bias takes the biases off --layer-norm's norms"),
        (not args.no_norm_weights or (args.layer_norm and not (
            args.no_norm_bias or args.norm_weight_offset or args.qk_norm)),
         "--no-norm-weights takes the weights and biases off --layer-norm's "
         "norms (without --no-norm-bias, --norm-weight-offset or "
         "--qk-norm)"),
        (not (args.attention_multiplier and args.query_pre_attn_scalar),
         "--attention-multiplier and --query-pre-attn-scalar both scale "
         "the scores"),
        (not (args.residual_multiplier and args.parallel_block),
         "--residual-multiplier scales a sequential block's sublayers "
         "(not --parallel-block's sum)"),
        (not (args.layer_norm and args.qk_norm == "whole"),
         "--layer-norm takes no --qk-norm whole"),
        (not (args.norm_weight_offset and args.qk_norm == "each-head"),
         "--norm-weight-offset scales by a norm's weight (not --qk-norm "
         "each-head's per-head scale)"),
        (args.qk_norm != "each-head" or args.layer_norm,
         "--qk-norm each-head is a LayerNorm's (with --layer-norm)"),
        (not args.qk_norm_after_rope or args.qk_norm == "head",
         "--qk-norm-after-rope moves --qk-norm head's norms"),
        (not (args.sandwich_norm and args.post_norm),
         "--sandwich-norm already norms the sublayers' outputs (--post-norm)"),
        (not (args.parallel_block and (args.post_norm or args.sandwich_norm or
                                       args.norm_after_residual)),
         "--parallel-block norms the sublayers' inputs only (neither "
         "--post-norm, --sandwich-norm nor --norm-after-residual)"),
        (not (args.norm_after_residual and (args.post_norm or
                                            args.sandwich_norm)),
         "--norm-after-residual norms the residual stream, not the "
         "sublayers' outputs (neither --post-norm nor --sandwich-norm)"),
        (args.embedding_dim is None or args.embedding_dim > 0,
         "--embedding-dim must be positive"),
        (not (args.embedding_dim and (args.scale_embeddings or
                                      args.embedding_multiplier)),
         "--embedding-dim's embeddings are projected unscaled (neither "
         "--scale-embeddings nor --embedding-multiplier)"),
        (args.padding_idx is None or 0 <= args.padding_idx < args.vocab,
         f"--padding-idx {args.padding_idx} is not a row of the "
         f"{args.vocab}-row embedding"),
        (not (args.output_bias and args.tie_embeddings),
         "--output-bias goes with an output projection of its own (not "
         "--tie-embeddings)"),
    ]
    for ok, message in checks:
        if not ok:
            sys.exit(f"gen-llama.py: {message}")
    sys.stdout.write(generate(args))


if __name__ == "__main__":
    main()
