#!/usr/bin/env python3
"""A Hugging Face Llama checkpoint and its training in PyTorch, written as
transformers' modeling_llama.py computes LlamaForCausalLM (which is not
installed here): the reference that hf-llama.test holds
examples/llama/hf-checkpoint.py and mp to.

It differs from llama_reference.py (torchtitan's modules) where Hugging
Face's model does: parameter names (model.layers.N.self_attn.q_proj.weight,
mlp.gate_proj, input_layernorm, lm_head, ...) and the rotary embedding,
which rotates entry i of a head with entry i + head_dim/2 (rotate_half,
cos and sin of cat(freqs, freqs)) instead of entries 2i and 2i + 1.
Llama 3.1's scaled frequencies (rope_scaling "llama3",
_compute_llama3_parameters) are Hugging Face's too. The other Llama-shaped
families differ where their modeling files do: Mistral's sliding window
(a query sees its last sliding_window positions), Qwen2's q/k/v biases,
Qwen3's q_norm and k_norm (RMSNorm of each head before the rotation) and
head_dim, Llama's attention_bias and mlp_bias, Phi-3's fused linears
(qkv_proj split into q, k and v by rows, gate_up_proj's output chunked into
gate and up) and window, StableLM's LayerNorms (nn.LayerNorm, with
biases), q, k and v biases (use_qkv_bias) and StableLM 2 12B's block
(use_parallel_residual: residual + attention + MLP on input_layernorm's
output; qk_layernorm: StableLmLayerNormPerHead, a LayerNorm without bias
per query and key head, q_layernorm.norms.H), OLMo 2's q_norm and k_norm
over the whole projections and its norms on the sublayers' outputs
(post_attention_layernorm, post_feedforward_layernorm; no
input_layernorm), OLMo 3's (Olmo3ForCausalLM: OLMo 2's, its window in all
but every fourth layer, those rotating unscaled by rope_theta), Gemma's
norms scaling by 1 + weight (GemmaRMSNorm, the product taken before the
cast back), its embeddings times
sqrt(hidden_size) (in their dtype) and its GeGLU MLP with the activation
hidden_activation names (over hidden_act), and Gemma 2's norms on its
sublayers' inputs and outputs, its scores scaled by query_pre_attn_scalar
** -0.5 and soft-capped (attn_logit_softcapping), its logits soft-capped
(final_logit_softcapping) and its window in every other layer,
VaultGemma's (Gemma 2's block without its sublayers' output norms:
input_layernorm, pre_feedforward_layernorm), and Gemma 3's (text
model's) per-head q_norm and k_norm, its window in all but
every sixth layer with a rotary base of its own there
(rope_local_base_freq) and its embedding scale rounded to float32
(Gemma3TextScaledWordEmbedding's buffer), HunYuan dense's
(HunYuanDenseV1ForCausalLM: query_layernorm and key_layernorm, RMSNorm of
each head after the rotation; the NTK alpha's base, rope_theta * alpha **
(head_dim / (head_dim - 2))); a multimodal Gemma 3 or
Mistral 3 (Gemma3ForConditionalGeneration, Mistral3ForConditionalGeneration)
on text is its text model (text_config over Gemma3TextConfig's or
MistralConfig's defaults), whose tensors its checkpoint keeps under
language_model.model. (or model.language_model.) beside its vision
tower's. Linearly scaled frequencies (rope_scaling "linear",
_compute_linear_scaling_rope_parameters) divide by the factor. Phi-3's
partial rotary embedding (partial_rotary_factor: the first int(head_dim *
factor) entries of each head rotate at that dim's frequencies, the others
pass) and longrope (_compute_longrope_parameters: each frequency divided
by the short or long factor, the long ones where the sequence is longer
than original_max_position_embeddings, as longrope_frequency_update picks
them; cos and sin times the attention factor) are Phi3Model's.
GPT-NeoX's (GPTNeoXForCausalLM: gpt_neox.embed_in, LayerNorms,
query_key_value holding each head's q, k and v rows in turn, dense, a
plain MLP dense_4h_to_h(act(dense_h_to_4h(x))), biases on every linear
unless attention_bias is false, rotary_pct of each head rotating at
rotary_emb_base, the layer's sum mlp + attn + x of its two norms' outputs
where use_parallel_residual, embed_out) and Phi's (PhiForCausalLM: q, k,
v and dense with biases, fc2(gelu_new(fc1(x))), attn + mlp + x on one
input_layernorm, model.final_layernorm, lm_head with a bias,
partial_rotary_factor of each head rotating, 0.5 by default), Falcon's
(FalconForCausalLM: transformer.word_embeddings, transformer.h,
self_attention.query_key_value holding per key-value head its queries',
key's and value's rows, num_kv_heads of them in the new decoder
architecture, one where multi_query, ln_attn and ln_mlp or one
input_layernorm, mlp + attn + x, tied embeddings; where alibi, as
Falcon-RW's: no rotation, build_alibi_tensor's bias in bfloat16 added to
the scores before their scaling by inv_norm_factor) and GPT-J's
(GPTJForCausalLM under GPTJConfig's attribute_map: ln_1, attn.q_proj ...
out_proj without biases, fc_in and fc_out, lm_head with a bias, rotary_dim
entries rotating as pairs (2i, 2i + 1), rotate_every_two), CodeGen's
(CodeGenForCausalLM: GPT-J's with q, k and v in one attn.qkv_proj, split
as CodeGenAttention splits it: mp_num = 4 groups of rows, each a quarter
of the heads' queries, values and keys) and
Granite's (GraniteForCausalLM: Llama's block, the embeddings times
embedding_multiplier, each sublayer's output times residual_multiplier
before its residual add, the scores times attention_multiplier, the
logits divided by logits_scaling) and Cohere's (CohereForCausalLM:
attention and SwiGLU MLP side by side on one CohereLayerNorm, a LayerNorm
without bias, residual + attention + MLP in that order, pairs (2i, 2i + 1)
rotating, the logits times logit_scale, and where use_qk_norm
(Command-R+) a CohereLayerNorm of [heads, head_dim] weights on each query
and key head before the rotation; Cohere 2's the same, q and k
rotated in its windowed layers only; SmolLM3's (SmolLM3ForCausalLM:
Llama's, q and k not rotated in the layers no_rope_layers marks 0, every
fourth by default, tied by default)) and InternLM2's (InternLM2ForCausalLM,
custom code: model.tok_embeddings, attention.wqkv laid out as Falcon's
query_key_value, attention.wo, feed_forward.w1/w3/w2, attention_norm,
ffn_norm, output; biases on wqkv and wo where bias) are their modeling
files', and so are Nemotron's (NemotronForCausalLM: Llama's layer with
NemotronLayerNorm1P, F.layer_norm by weight + 1 with a bias, norm_eps;
NemotronMLP, down_proj(relu2(up_proj(x))), relu2 being
torch.square(relu(x)); biases on all four attention linears where
attention_bias and on the MLP's where mlp_bias; partial_rotary_factor of
each head rotating, 0.5 by default), Arcee's (ArceeForCausalLM: Llama's
with NemotronMLP), GLM's (GlmForCausalLM: Llama's with q, k and v
biases where attention_bias, true by default, Phi3MLP's gate_up_proj,
partial_rotary_factor of each head rotating as pairs (2i, 2i + 1), cos
and sin of each angle twice; GlmConfig's head_dim 128, 2 key-value heads,
rms_norm_eps 1.5625e-07; GLM-4-0414's Glm4ForCausalLM adding
post_self_attn_layernorm and post_mlp_layernorm on the sublayers'
outputs), Helium's (HeliumForCausalLM: Llama's rotating every head's pairs
as GLM does, q, k and v biases where attention_bias; HeliumConfig's
head_dim 128, 20 key-value heads, rms_norm_eps 1e-8, rope_theta 1e5),
Seed-OSS's (SeedOssForCausalLM: Llama's with q, k and v biases unless
attention_bias is false, o_proj's where attention_out_bias; head_dim 128,
8 key-value heads, rms_norm_eps 1e-6; trained without its dropout) and
ERNIE 4.5's (Ernie4_5ForCausalLM: Llama's rotating every head's pairs as
GLM does, every linear's bias where use_bias, tied by default; head_dim
128, 2 key-value heads, rope_theta 5e5) and Persimmon's
(PersimmonForCausalLM: GPT-NeoX's query_key_value and plain MLP,
dense_h_to_4h and dense_4h_to_h with relu2, biases on every linear but
lm_head, one layer after the other, model.final_layernorm; where
qk_layernorm, as by default, one nn.LayerNorm with a bias over each query
head and one over each key head, q_layernorm and k_layernorm, as Phi's
qk_layernorm; partial_rotary_factor 0.5, rope_theta 25000) and OLMo's
(OlmoForCausalLM: Llama's with OlmoLayerNorm, F.layer_norm in float32
without weight or bias at eps 1e-5, and no MLP biases). GPT-2's
(GPT2LMHeadModel under GPT2Config's names: the token embeddings plus
wpe's rows 0 .. seq-1, ln_1 and ln_2, Conv1D linears (weights [in, out])
with biases, attn.c_attn holding q, k and v by columns, the scores divided
by sqrt(head_dim), mlp.c_fc and c_proj with gelu_new, transformer.ln_f,
lm_head tied) is its modeling file's, no rotation, and so is
GPT-BigCode's (GPTBigCodeForCausalLM: GPT-2's with nn.Linears,
gelu_pytorch_tanh, and attn.c_attn holding the queries, then one key and
one value head where multi_query, as by default, or each head's q, k and
v in turn), and so is OPT's (OPTForCausalLM under OPTConfig's names: the
token embeddings, through project_in where word_embed_proj_dim differs
from hidden_size, plus embed_positions' rows 2 .. seq+1, nn.LayerNorms
self_attn_layer_norm and final_layer_norm before each sublayer, or after
each residual add where do_layer_norm_before is false, q_proj's output
times head_dim ** -0.5, fc1 and fc2 with relu, biases where enable_bias,
the embedding's padding_idx pad_token_id (1 by default), the decoder's
final_layer_norm where the norms come first, project_out, lm_head tied),
and GPT-Neo's (GPTNeoForCausalLM under GPTNeoConfig's names: GPT-2's
block with nn.Linears, attn.attention's q_proj, k_proj, v_proj without
biases and out_proj with one, scores not scaled, each layer's attention
global or local (attention_types; a window of window_size keys, those
after q_idx - window_size), gelu_new, lm_head tied), and BLOOM's
(BloomForCausalLM under BloomConfig's names: word_embeddings through
word_embeddings_layernorm, no position embedding, ALiBi's bias (BLOOM's
build_alibi_tensor: a slope per head times the key positions) added to
the scores scaled by head_dim ** -0.5 (baddbmm), query_key_value holding
each head's q, k and v rows in turn, nn.LayerNorms, biases on every
linear, dense_h_to_4h and dense_4h_to_h with BloomGelu, ln_f, lm_head
tied), and MPT's (MptForCausalLM under MptConfig's names: wte, no
position embedding, LayerNorms without biases norm_1 and norm_2, attn.Wqkv
holding the queries', keys' and values' rows in turn (clamped where
attn_config's clip_qkv), the scores times softmax_scale (head_dim ** -0.5
where null) plus MPT's build_mpt_alibi_tensor of max_seq_len keys, its last
seq (the slopes times the key positions counted back from the last),
attn.out_proj, ffn.up_proj and down_proj 4 x d_model wide with exact GELU,
no biases, norm_f, lm_head tied). Dynamic NTK
rope scaling
(rope_type "dynamic") rotates by the
base _compute_dynamic_ntk_parameters gives for the batch's sequence
length; YaRN (rope_type "yarn") blends each frequency with it over the
factor as transformers 5's _compute_yarn_parameters does, cos and sin
times its attention factor. RMSNorm (the weight times the normed input cast back to
its dtype),
repeat_kv, causal attention scaled by head_dim ** -0.5, the SwiGLU MLP
down_proj(silu(gate_proj(x)) * up_proj(x)) and the decoder layer are
modeling_llama's, and so is the embedding's padding_idx (the config's
pad_token_id or its class's; GPT-NeoX's, Falcon's, GPT-J's and
CodeGen's embeddings take none). The loss is the mean cross entropy of
the logits against the given labels (the next tokens), as mp's.

  hf_llama_reference.py checkpoint SIZES --seed S [--dtype f32|bf16]
      [--family llama|mistral|qwen2|qwen3|phi3|olmo2|olmo3|exaone4|starcoder2|
                nemotron|arcee|glm|glm4|helium|seed_oss|ernie4_5|stablelm|
                gpt_neox|phi|persimmon|olmo|falcon|gptj|codegen|
                granite|cohere|cohere2|smollm3|internlm2|gemma|gemma2|
                vaultgemma|gemma3_text|hunyuan_v1_dense|gpt2|gpt_bigcode|opt|
                gpt_neo|bloom|mpt|
                gemma3|mistral3|llava|llava_onevision|qwen2_vl|qwen2_5_vl|
                qwen3_vl
                [--layout hub|saved|base]]
      [--head-dim N]
      [--attention-bias] [--mlp-bias]
      [--shards N] [--tie] [--config KEY JSON]... [--set KEY JSON]...
      [--unset KEY]... [--extra NAME]... OUT_DIR
      OUT_DIR/config.json (model_type --family, default llama; --config
      overrides or adds a field before the tensors are chosen, which follow
      it, --set after, --unset removes one after, leaving it to the
      family's default) and the
      weights under Hugging Face's names: model.safetensors,
      or N shards with model.safetensors.index.json; bf16 rounds the
      values to nearest even. Values as llama_reference.py's inputs (the
      norm weights U(0.5, 1.5), Gemma's U(-0.5, 0.5) as they are stored
      minus one, biases U(-0.5, 0.5)); with --tie, no
      lm_head.weight and the embedding drawn as a linear's weight (it is
      the output projection too: N(0, 1) would make logits of ~30)
      (tie_word_embeddings); --extra adds a tensor NAME of hidden_size
      zeros, which Hugging Face's Llama does not have. gemma3, mistral3,
      llava, llava_onevision: a multimodal config.json whose text_config
      holds the text model's (gemma3_text's, mistral's, llama's, qwen2's;
      llava's without its model_type) fields (--set's too) where they differ
      from its config class's defaults, its tensors under the Hub's prefixes (hub:
      language_model.model., language_model.lm_head.) or newer
      save_pretrained's (saved: model.language_model., lm_head.), and two
      vision tensors (vision_tower..., multi_modal_projector...).
      qwen2_vl, qwen2_5_vl: hub is the Hub's flat config (the text
      model's fields at the top, rope_scaling mrope) with the text tensors
      where a Qwen2's are and the vision tensors under visual.; saved a
      text_config (qwen2_vl_text, qwen2_5_vl_text) and model.visual..
      qwen3_vl (saved): a text_config (qwen3_vl_text, its mrope
      interleaved) and model.visual.. gpt2 --layout base: GPT2Model's
      names (wte.weight, h.0.attn.c_attn.weight, ...: the Hub's gpt2
      checkpoints), not GPT2LMHeadModel's (transformer.wte.weight, ...);
      opt --layout base: OPTModel's (decoder.embed_tokens.weight, ...: the
      Hub's facebook/opt-*), not OPTForCausalLM's (model.decoder....).
  hf_llama_reference.py data --vocab V --seq S --batch B --steps N --seed S
      [--ignored-labels F] [--pad-tails P] DATA.safetensors: `tokens` and
      `labels` i64 [N, batch, seq], each label -100 (ignored by the loss)
      with probability F; with --pad-tails, each sequence ends in 0 to
      seq/2 positions of token P and label -100 (right padding).
  hf_llama_reference.py train HF_DIR DATA --steps N --lr LR
      --weight-decay WD [--adam-eps E] [--dtype float64|float32] --save OUT
      N steps of torch.optim.AdamW (eps E, PyTorch's 1e-8 by default) from
      the checkpoint (its values widened to the run's dtype); prints
      `step <i> loss <v>`; saves the parameters (f32) under Hugging Face's
      names, lm_head.weight included when tied.

SIZES: --layers --dim --heads [--kv-heads] --ffn-hidden --vocab
[--norm-eps] [--rope-theta].
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tensors import BF16, bf16_bits, read, write  # noqa: E402
from llama_reference import adamw, load_parameters, write_batches  # noqa: E402


class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden_size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(
            torch.promote_types(input_dtype, torch.float32))
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(
            variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)


class CohereLayerNorm(LlamaRMSNorm):
    """A LayerNorm without bias, in float32 (or the run's float64), as
    modeling_cohere writes it out."""

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        x = hidden_states.to(torch.promote_types(input_dtype, torch.float32))
        mean = x.mean(-1, keepdim=True)
        variance = (x - mean).pow(2).mean(-1, keepdim=True)
        x = (x - mean) * torch.rsqrt(variance + self.variance_epsilon)
        return (self.weight.to(x.dtype) * x).to(input_dtype)


class HeliumRMSNorm(LlamaRMSNorm):
    """The weight in float32 times the normed input, cast back after."""

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        x = hidden_states.to(torch.promote_types(input_dtype, torch.float32))
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) +
                            self.variance_epsilon)
        return (self.weight.to(x.dtype) * x).to(input_dtype)


class GemmaRMSNorm(LlamaRMSNorm):
    """Scales by 1 + weight, in float32 (or the run's float64) before the
    cast back to the input's dtype."""

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        x = hidden_states.to(torch.promote_types(input_dtype, torch.float32))
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) +
                            self.variance_epsilon)
        return (x * (1.0 + self.weight.to(x.dtype))).type_as(hidden_states)


class NemotronLayerNorm1P(nn.LayerNorm):
    """modeling_nemotron's: a LayerNorm with a bias scaling by weight +
    1 (its weights stored as the scale minus one)."""

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight + 1,
                            self.bias, self.eps)


class OlmoLayerNorm(nn.Module):
    """modeling_olmo's: F.layer_norm in float32 (or the run's float64)
    without weight or bias, at eps 1e-5 whatever the config says."""

    def __init__(self, size):
        super().__init__()
        self.normalized_shape = (size,)

    def forward(self, x):
        dtype = x.dtype
        return F.layer_norm(x.to(torch.promote_types(dtype, torch.float32)),
                            self.normalized_shape, None, None,
                            eps=1e-5).to(dtype)


class LayerNormWithoutBias(nn.Module):
    """nn.LayerNorm(size, eps, bias=False) (PyTorch 2.1's; 1.13 has no
    bias argument)."""

    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, self.eps)


class StableLmLayerNormPerHead(nn.Module):
    """modeling_stablelm's: a LayerNorm without bias of each head of a
    [batch, heads, seq, head_dim] tensor, its weights the head's own."""

    def __init__(self, dim, num_heads, eps):
        super().__init__()
        self.norms = nn.ModuleList(
            [LayerNormWithoutBias(dim, eps) for _ in range(num_heads)])

    def forward(self, hidden_states):
        states_per_heads = torch.split(hidden_states, 1, dim=1)
        return torch.cat([norm(states) for norm, states in
                          zip(self.norms, states_per_heads)], dim=1)


def is_cohere(config):
    return config["model_type"] in ("cohere", "cohere2")


def is_glm(config):
    return config["model_type"] in ("glm", "glm4")


def is_gemma(config):
    return config["model_type"] in ("gemma", "gemma2", "gemma3_text",
                                    "vaultgemma")


def has_sandwich_norm(config):
    """Gemma 2's and 3's norms on both sides of each sublayer."""
    return config["model_type"] in ("gemma2", "gemma3_text")


def softcap(x, cap):
    """Gemma 2's soft cap: cap · tanh(x / cap), or x where cap is None."""
    return x if cap is None else torch.tanh(x / cap) * cap


# GPT-J's block: CodeGen's is GPT-J's with q, k and v in one qkv_proj.
GPTJ_BLOCKS = ("gptj", "codegen")
# The families that rotate pairs (2i, 2i + 1): GPT-J's rotate_every_two,
# the Cohere's, GLM's, Helium's and ERNIE 4.5's interleaved rotate_half.
PAIR_ROTATING = GPTJ_BLOCKS + ("cohere", "cohere2", "glm", "glm4", "helium",
                               "ernie4_5")


def has_layer_norm(config):
    """StableLM's, GPT-NeoX's, Phi's, Falcon's, GPT-J's, CodeGen's and
    Persimmon's norms are nn.LayerNorms (with biases)."""
    return config["model_type"] in ("stablelm", "gpt_neox", "phi", "falcon",
                                    "starcoder2", "persimmon") + GPTJ_BLOCKS


# The config classes' pad_token_id where it is not None.
PAD_TOKEN_DEFAULTS = {"phi3": 32000, "olmo2": 1, "olmo3": 1, "gemma": 0,
                      "gemma2": 0, "gemma3_text": 0, "cohere": 0, "cohere2": 0,
                      "smollm3": 128004, "internlm2": 0, "glm": 151329,
                      "glm4": 151329, "helium": 3, "seed_oss": 1,
                      "ernie4_5": 0, "olmo": 1, "vaultgemma": 0,
                      "hunyuan_v1_dense": 0, "opt": 1}


def padding_idx(config):
    """The embedding's padding_idx: config.pad_token_id (LlamaModel's
    self.padding_idx); GPTNeoXModel, FalconModel and GPTJModel pass
    none."""
    if config["model_type"] in ("gpt_neox", "falcon", "gpt_neo") + \
            GPTJ_BLOCKS:
        return None
    return config.get("pad_token_id",
                      PAD_TOKEN_DEFAULTS.get(config["model_type"]))


def layer_norm_eps(config):
    """layer_norm_eps (Falcon's and GPT-J's layer_norm_epsilon), 1e-5 where
    absent as in each of their config classes."""
    return config.get("layer_norm_eps", config.get("layer_norm_epsilon",
                                                   1e-5))


def rms_norm(config, size):
    """The family's RMSNorm of `size` entries (StableLM's, GPT-NeoX's,
    Phi's, Falcon's and GPT-J's: a LayerNorm with a bias, nn.LayerNorm as
    their modeling files build it)."""
    if is_cohere(config):
        return CohereLayerNorm(size, config["layer_norm_eps"])
    if config["model_type"] == "olmo":
        return OlmoLayerNorm(size)
    if config["model_type"] == "nemotron":  # NemotronConfig's norm_eps
        return NemotronLayerNorm1P(size, eps=config.get("norm_eps", 1e-5))
    if has_layer_norm(config):
        if config["model_type"] == "starcoder2":  # Starcoder2Config's
            return nn.LayerNorm(size, eps=config.get("norm_epsilon", 1e-5))
        return nn.LayerNorm(size, eps=layer_norm_eps(config))
    norm = GemmaRMSNorm if is_gemma(config) else HeliumRMSNorm if config[
        "model_type"] == "helium" else LlamaRMSNorm
    # GlmConfig's, HeliumConfig's, SeedOssConfig's, ... defaults.
    default = {"glm": 1.5625e-07, "glm4": 1.5625e-07, "helium": 1e-8,
               "seed_oss": 1e-6, "ernie4_5": 1e-5, "vaultgemma": 1e-6,
               "gemma": 1e-6, "gemma2": 1e-6, "gemma3_text": 1e-6,
               "hunyuan_v1_dense": 1e-5}.get(config["model_type"])
    eps = config["rms_norm_eps"] if default is None else config.get(
        "rms_norm_eps", default)
    return norm(size, eps)


def gelu_new(x):
    """NewGELUActivation (Phi-2's gelu_new)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (
        x + 0.044715 * torch.pow(x, 3.0))))


def gelu_fast(x):
    """FastGELUActivation (GPT-NeoX 20B's gelu_fast)."""
    return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (
        1.0 + 0.044715 * x * x)))


def activation(config):
    """ACT2FN of the MLP's activation: Gemma's hidden_activation where
    given, else hidden_act."""
    keys = ("hidden_activation",) if config["model_type"] == "vaultgemma" \
        else ("hidden_activation", "hidden_act", "activation",  # Falcon's
              "activation_function")  # GPT-J's
    name = next((config[key] for key in keys if config.get(key)),
        # NemotronConfig's, ArceeConfig's and PersimmonConfig's default;
        # VaultGemmaConfig's
        "relu2" if config["model_type"] in ("nemotron", "arcee", "persimmon")
        else "gelu_pytorch_tanh" if config["model_type"] == "vaultgemma"
        else "gelu_new" if config["model_type"] == "gpt2"  # GPT2Config's
        else "gelu_pytorch_tanh" if config["model_type"] == "gpt_bigcode"
        else "relu" if config["model_type"] == "opt"  # OPTConfig's
        else "gelu_new" if config["model_type"] == "gpt_neo"
        else None)
    return {"silu": F.silu, "gelu": F.gelu, "relu": F.relu,
            "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
            "gelu_new": gelu_new, "gelu_fast": gelu_fast,
            # ReLUSquaredActivation (Nemotron's and Arcee's)
            "relu2": lambda x: torch.square(F.relu(x))}[name]


def llama3_inv_freq(inv_freq, scaling):
    """_compute_llama3_parameters: Llama 3.1's scaled frequencies."""
    factor = scaling["factor"]
    low_freq_factor = scaling["low_freq_factor"]
    high_freq_factor = scaling["high_freq_factor"]
    old_context_len = scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen,
                                 inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (
        high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + \
        smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * \
        ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def head_dim_of(config):
    if config["model_type"] in ("glm", "glm4", "helium", "seed_oss",
                                "ernie4_5"):
        # their config classes' where absent; null: hidden_size / heads
        return config.get("head_dim", 128) or \
            config["hidden_size"] // config["num_attention_heads"]
    return config.get("head_dim") or \
        config["hidden_size"] // config["num_attention_heads"]


def biases(config):
    """Which linears have a bias: (q, k and v; o; the MLP's), as each
    family's modeling file builds them (GPT-NeoX's attention unless
    attention_bias is false, Phi's always; their MLPs' always)."""
    family = config["model_type"]
    attention = (family in ("llama", "qwen3", "granite", "cohere", "cohere2",
                            "smollm3", "gemma", "gemma2", "gemma3_text",
                            "vaultgemma", "nemotron", "arcee", "olmo",
                            "hunyuan_v1_dense") and
                 bool(
        config.get("attention_bias"))) or family in ("phi", "persimmon") or (
            family == "gpt_neox" and config.get("attention_bias", True))
    mlp = (family in ("llama", "granite", "smollm3", "nemotron", "arcee") and
           bool(config.get("mlp_bias"))) or \
        family in ("gpt_neox", "phi", "persimmon")
    if family == "falcon":  # every linear with bias, or none
        attention = mlp = bool(config.get("bias"))
    if family in GPTJ_BLOCKS:  # the MLP's only (and lm_head's)
        attention, mlp = False, True
    if family == "internlm2":  # wqkv's and wo's, by default
        attention, mlp = bool(config.get("bias", True)), False
    if family == "starcoder2":  # every linear's, by default
        attention = mlp = bool(config.get("use_bias", True))
    qkv = attention or family == "qwen2" or (
        family == "stablelm" and bool(config.get("use_qkv_bias"))) or (
            is_glm(config) and config.get("attention_bias", True))
    if family == "helium":  # HeliumAttention's o_proj has none
        qkv, attention = bool(config.get("attention_bias")), False
        mlp = bool(config.get("mlp_bias"))
    if family == "ernie4_5":  # every linear's where use_bias
        qkv = attention = mlp = bool(config.get("use_bias"))
    if family == "seed_oss":  # SeedOssConfig's
        qkv = bool(config.get("attention_bias", True))
        attention = bool(config.get("attention_out_bias", False))
        mlp = bool(config.get("mlp_bias"))
    return qkv, attention, mlp


def kv_heads_of(config):
    """The key-value heads: num_key_value_heads (where none, every head);
    Falcon's num_kv_heads in its new decoder architecture, one where
    multi_query, every head otherwise (FalconAttention)."""
    heads = config["num_attention_heads"]
    if config["model_type"] != "falcon":
        # Starcoder2Config's, Exaone4Config's, ... defaults.
        return config.get("num_key_value_heads", {
            "starcoder2": 2, "exaone4": 32, "glm": 2, "glm4": 2, "helium": 20,
            "seed_oss": 8, "ernie4_5": 2, "gemma2": 4,
            "vaultgemma": 4, "gemma": 16, "gemma3_text": 4}.get(
                config["model_type"])) or heads
    if config.get("new_decoder_architecture"):
        return config.get("num_kv_heads") or heads
    return 1 if config.get("multi_query", True) else heads


def ffn_hidden_of(config):
    """The MLP's hidden size: intermediate_size, Falcon's ffn_hidden_size
    and GPT-J's n_inner (4 * hidden_size where none)."""
    name = {"falcon": "ffn_hidden_size", "gptj": "n_inner",
            "codegen": "n_inner"}.get(
        config["model_type"])
    if name:
        return config.get(name) or 4 * config["hidden_size"]
    return config["intermediate_size"]


def with_attribute_map(config):
    """GPTJConfig's attribute_map: hidden_size, num_hidden_layers and
    num_attention_heads are n_embd, n_layer and n_head."""
    if config["model_type"] not in GPTJ_BLOCKS:
        return config
    return dict(config, hidden_size=config["n_embd"],
                num_hidden_layers=config["n_layer"],
                num_attention_heads=config["n_head"])


def sliding_window(config, layer):
    """The attention window of a layer, None where it has none: as the
    configs' layer_types say (Mistral, Phi-3: every layer; Qwen2/Qwen3 with
    use_sliding_window: those from max_window_layers up)."""
    types = config.get("layer_types")
    if types is None and config["model_type"] in ("gemma2", "vaultgemma"):
        types = ["sliding_attention" if i % 2 == 0 else "full_attention"
                 for i in range(config["num_hidden_layers"])]
    if types is None and config["model_type"] == "olmo3":
        config = dict(config, sliding_window_pattern=4)  # Olmo3Config's
    # Exaone4Config's: none where sliding_window is null.
    exaone4_windowed = config["model_type"] == "exaone4" and config.get(
        "sliding_window", 4096) is not None
    if types is None and (exaone4_windowed or config["model_type"] in (
            "gemma3_text", "cohere2", "olmo3")):
        pattern = config.get("sliding_window_pattern",
                             6 if config["model_type"] == "gemma3_text" else 4)
        types = ["full_attention" if (i + 1) % pattern == 0 else
                 "sliding_attention"
                 for i in range(config["num_hidden_layers"])]
    if types is None:
        first = config["num_hidden_layers"]
        if config["model_type"] in ("mistral", "phi3", "starcoder2"):
            first = 0
        elif config.get("use_sliding_window"):
            first = config.get("max_window_layers", 28)
        types = ["sliding_attention" if i >= first else "full_attention"
                 for i in range(config["num_hidden_layers"])]
    if types[layer] != "sliding_attention":
        return None
    # Cohere2Config's, Olmo3Config's and Exaone4Config's default window.
    return config.get("sliding_window", 4096 if config["model_type"] in (
        "cohere2", "olmo3", "exaone4") else None)


def rotary_dims(config):
    """The entries of each head that rotate: partial_rotary_factor of
    head_dim (transformers 5 keeps it in rope_parameters; StableLmConfig's
    default 0.25, PhiConfig's, NemotronConfig's, GlmConfig's and
    PersimmonConfig's 0.5),
    GPT-NeoX's rotary_pct (0.25) in 4.x configs."""
    family = config["model_type"]
    if family in GPTJ_BLOCKS:
        return config["rotary_dim"]
    default = config.get("rotary_pct", 0.25) if family == "gpt_neox" else {
        "stablelm": 0.25, "phi": 0.5, "nemotron": 0.5, "glm": 0.5,
        "glm4": 0.5, "persimmon": 0.5}.get(family, 1.0)
    return int(head_dim_of(config) * (config.get("rope_parameters") or {
    }).get("partial_rotary_factor", config.get("partial_rotary_factor",
                                               default)))


def rope_theta(config):
    """The rotary base: rope_theta (GPT-NeoX's rotary_emb_base; GPT-J's
    10000, create_sinusoidal_positions')."""
    if config["model_type"] in GPTJ_BLOCKS:
        return 10000.0
    return (config.get("rope_parameters") or {}).get("rope_theta", config.get(
        "rope_theta", config.get("rotary_emb_base", {
            "helium": 1e5, "seed_oss": 10000.0, "ernie4_5": 5e5,
            "persimmon": 25000.0}.get(config["model_type"]))))


def longrope_parameters(config, seq):
    """_compute_longrope_parameters at the sequence length seq: the factors
    (short, or long past original_max_position_embeddings) and the
    attention factor."""
    scaling = config["rope_scaling"]
    original = config.get("original_max_position_embeddings",
                          config["max_position_embeddings"])
    factor = scaling.get("factor")
    if factor is None:
        factor = config["max_position_embeddings"] / original
    attention = scaling.get("attention_factor")
    if attention is None:
        attention = 1.0 if factor <= 1.0 else math.sqrt(
            1 + math.log(factor) / math.log(original))
    key = "long_factor" if seq > original else "short_factor"
    return scaling[key], attention


def yarn_parameters(config, dim, theta, dtype):
    """_compute_yarn_parameters (transformers 5): the frequencies and the
    attention factor."""
    scaling = config["rope_scaling"]
    factor = scaling["factor"]
    key = "original_max_position_embeddings"
    # standardize_rope_params: the config's own first (Phi-3's place).
    original = config[key] if key in config else scaling[key] \
        if key in scaling else config["max_position_embeddings"]
    attention = scaling.get("attention_factor")

    def get_mscale(scale, mscale=1):
        return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

    if attention is None:
        mscale, mscale_all_dim = (scaling.get("mscale"),
                                  scaling.get("mscale_all_dim"))
        attention = get_mscale(factor, mscale) / get_mscale(
            factor, mscale_all_dim) if mscale and mscale_all_dim else \
            get_mscale(factor)
    beta_fast = scaling.get("beta_fast") or 32
    beta_slow = scaling.get("beta_slow") or 1

    def correction_dim(rotations):
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (
            2 * math.log(theta))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if scaling.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) /
                       (high - low), 0, 1)
    pos_freqs = theta ** (torch.arange(0, dim, 2).to(dtype) / dim)
    extrapolation = 1 - ramp.to(dtype)
    inv_freq = (1.0 / (factor * pos_freqs)) * (1 - extrapolation) + (
        1.0 / pos_freqs) * extrapolation
    return inv_freq, attention


def rotary_cos_sin(config, seq, dtype, local=False):
    """LlamaRotaryEmbedding: cos and sin of cat(freqs, freqs), [seq,
    rotary dims]; rope_scaling "llama3", "linear", "longrope", "dynamic",
    "yarn" or none.
    `local`: Gemma 3's windowed layers' (rope_local_base_freq, unscaled),
    OLMo 3's (rope_theta, unscaled)."""
    dim = rotary_dims(config)
    theta = config.get("rope_local_base_freq", 10000.0 if config[
        "model_type"] == "gemma3_text" else rope_theta(config)) \
        if local else rope_theta(config)
    scaling = None if local else config.get("rope_scaling")
    kind = scaling and scaling.get("rope_type", scaling.get("type"))
    if kind == "dynamic" and config["model_type"] == "hunyuan_v1_dense" \
            and "alpha" in scaling:
        # HunYuanDenseV1RotaryEmbedding's NTK alpha: one base, whatever
        # the sequence's length.
        head_dim = config["head_dim"]
        theta = theta * scaling["alpha"] ** (head_dim / (head_dim - 2))
    elif kind == "dynamic":
        # _compute_dynamic_ntk_parameters at the sequence's length, as
        # dynamic_rope_update recomputes it past max_position_embeddings.
        factor = scaling["factor"]
        context = config["max_position_embeddings"]
        theta = theta * ((factor * max(seq, context) / context) -
                         (factor - 1)) ** (dim / (dim - 2))
    inv_freq = 1.0 / (theta ** (
        torch.arange(0, dim, 2, dtype=torch.int64).to(dtype) / dim))
    attention = 1.0
    if kind == "linear":
        inv_freq = inv_freq / scaling["factor"]
    elif kind == "longrope":
        factors, attention = longrope_parameters(config, seq)
        inv_freq = 1.0 / (torch.tensor(factors, dtype=dtype) * theta ** (
            torch.arange(0, dim, 2, dtype=torch.int64).to(dtype) / dim))
    elif kind == "yarn":
        inv_freq, attention = yarn_parameters(config, dim, theta, dtype)
    elif scaling and kind != "dynamic":
        assert kind == "llama3", scaling
        inv_freq = llama3_inv_freq(inv_freq, scaling)
    freqs = torch.outer(torch.arange(seq, dtype=dtype), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    # GPT-J's, the Cohere's, GLM's, Helium's and ERNIE 4.5's pairs: each
    # angle twice.
    if config["model_type"] in PAIR_ROTATING:
        emb = freqs.repeat_interleave(2, dim=-1)
    return emb.cos() * attention, emb.sin() * attention


def apply_rotary(x, cos, sin, pairs=False):
    """apply_rotary_pos_emb on one of q, k: the first cos.shape[-1] entries
    of each head rotate (rotate_half, or GPT-J's rotate_every_two where
    `pairs`), the others pass."""
    dim = cos.shape[-1]
    rotated, passed = x[..., :dim], x[..., dim:]
    turned = rotate_every_two(rotated) if pairs else rotate_half(rotated)
    return torch.cat((rotated * cos + turned * sin, passed), dim=-1)


def rotate_every_two(x):
    """GPT-J's: entries 2i and 2i + 1 rotate together."""
    return torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).flatten(-2)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(hidden_states, n_rep):
    batch, kv_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(
        batch, kv_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, kv_heads * n_rep, slen, head_dim)


class LlamaAttention(nn.Module):
    """LlamaAttention, with MistralAttention's window, Qwen2Attention's
    q/k/v biases, Qwen3Attention's q_norm and k_norm (RMSNorm of each
    head before the rotation), Phi3Attention's qkv_proj,
    Olmo2Attention's q_norm and k_norm over the whole projections,
    GPTNeoXAttention's query_key_value (each head's q, k and v rows in
    turn) and dense, and PhiAttention's dense."""

    def __init__(self, config, layer):
        super().__init__()
        d = config["hidden_size"]
        family = config["model_type"]
        self.heads = config["num_attention_heads"]
        self.kv_heads = kv_heads_of(config)
        self.head_dim = head_dim_of(config)
        # HeliumAttention's o_proj is hidden_size x hidden_size.
        assert family != "helium" or self.heads * self.head_dim == d, \
            "a Helium's heads x head_dim must be its hidden_size"
        self.scaling = config.get("query_pre_attn_scalar",
                                  self.head_dim) ** -0.5
        if family == "granite":  # GraniteAttention
            self.scaling = config.get("attention_multiplier", 1.0)
        self.softcap = config.get("attn_logit_softcapping")
        self.window = sliding_window(config, layer)
        qkv_bias, o_bias, _ = biases(config)
        self.fused = {"phi3": "qkv_proj", "codegen": "qkv_proj",
                      "gpt_neox": "query_key_value",
                      "falcon": "query_key_value",
                      "persimmon": "query_key_value",
                      "internlm2": "wqkv"}.get(family)
        if self.fused:
            setattr(self, self.fused, nn.Linear(
                d, (self.heads + 2 * self.kv_heads) * self.head_dim,
                bias=qkv_bias))
        else:
            self.q_proj = nn.Linear(d, self.heads * self.head_dim,
                                    bias=qkv_bias)
            self.k_proj = nn.Linear(d, self.kv_heads * self.head_dim,
                                    bias=qkv_bias)
            self.v_proj = nn.Linear(d, self.kv_heads * self.head_dim,
                                    bias=qkv_bias)
        self.output = "dense" if family in ("gpt_neox", "phi", "falcon",
                                            "persimmon") \
            else "out_proj" if family in GPTJ_BLOCKS else "wo" \
            if family == "internlm2" else "o_proj"
        self.codegen = family == "codegen"
        self.pairs = family in PAIR_ROTATING
        # Cohere2Attention rotates in its windowed layers only,
        # SmolLM3Attention where no_rope_layers says 1, FalconAttention
        # where the config has no ALiBi (Falcon-RW's, added to the scores
        # before their scaling by inv_norm_factor).
        self.rotate = family != "cohere2" or self.window is not None
        self.falcon_alibi = family == "falcon" and bool(config.get("alibi"))
        if self.falcon_alibi:
            self.rotate = False
            self.scaling = 1.0 / math.sqrt(self.head_dim)
        # Exaone4Attention's "global NoPE": where the config has a window,
        # its windowed layers rotate only.
        if family == "exaone4":
            self.rotate = config.get("sliding_window", 4096) is None or \
                self.window is not None
        if family == "smollm3":
            interval = config.get("no_rope_layer_interval", 4)
            self.rotate = bool(config.get("no_rope_layers", [
                int((i + 1) % interval != 0)
                for i in range(config["num_hidden_layers"])])[layer])
        setattr(self, self.output,
                nn.Linear(self.heads * self.head_dim, d, bias=o_bias))
        self.qk_norm = config["model_type"] in ("qwen3", "gemma3_text",
                                                "exaone4")
        if self.qk_norm:
            self.q_norm = rms_norm(config, self.head_dim)
            self.k_norm = rms_norm(config, self.head_dim)
        self.whole_qk_norm = config["model_type"] in ("olmo2", "olmo3")
        if self.whole_qk_norm:
            self.q_norm = rms_norm(config, self.heads * self.head_dim)
            self.k_norm = rms_norm(config, self.kv_heads * self.head_dim)
        # CohereAttention's use_qk_norm (Command-R+): weights of each head,
        # on the [batch, seq, heads, head_dim] view.
        if family == "cohere" and config.get("use_qk_norm"):
            self.qk_norm = True
            self.q_norm = CohereLayerNorm((self.heads, self.head_dim),
                                          config["layer_norm_eps"])
            self.k_norm = CohereLayerNorm((self.kv_heads, self.head_dim),
                                          config["layer_norm_eps"])
        # StableLmAttention's qk_layernorm (StableLM 2 12B), on the
        # [batch, heads, seq, head_dim] view.
        self.per_head_layernorm = family == "stablelm" and bool(
            config.get("qk_layernorm"))
        if self.per_head_layernorm:
            self.q_layernorm = StableLmLayerNormPerHead(
                self.head_dim, self.heads, config["layer_norm_eps"])
            self.k_layernorm = StableLmLayerNormPerHead(
                self.head_dim, self.kv_heads, config["layer_norm_eps"])
        # HunYuanDenseV1Attention's query_layernorm and key_layernorm:
        # RMSNorm of each head after the rotation.
        self.hunyuan = family == "hunyuan_v1_dense"
        if self.hunyuan:
            self.query_layernorm = rms_norm(config, self.head_dim)
            self.key_layernorm = rms_norm(config, self.head_dim)
        # OlmoAttention's clip_qkv: q, k and v clamped after their
        # projections.
        self.clip_qkv = config.get("clip_qkv") if family == "olmo" else None
        # PersimmonAttention's and PhiAttention's qk_layernorm: one
        # nn.LayerNorm over every query head, one over every key head.
        self.shared_layernorm = (family == "persimmon" and config.get(
            "qk_layernorm", True)) or (family == "phi" and bool(
                config.get("qk_layernorm")))
        if self.shared_layernorm:
            self.q_layernorm = nn.LayerNorm(self.head_dim,
                                            eps=layer_norm_eps(config))
            self.k_layernorm = nn.LayerNorm(self.head_dim,
                                            eps=layer_norm_eps(config))

    def forward(self, hidden_states, cos, sin):
        b, s, _ = hidden_states.shape

        def heads(x, norm=None):
            x = x.view(b, s, -1, self.head_dim)
            return (norm(x) if norm else x).transpose(1, 2)

        if self.codegen:
            # CodeGenAttention: qkv in mp_num = 4 groups, each a quarter
            # of the heads' queries, then their values, then their keys.
            qkv = self.qkv_proj(hidden_states).reshape(b, s, 4, -1)
            q, v, k = (part.reshape(b, s, -1) for part in torch.split(
                qkv, self.heads * self.head_dim // 4, dim=-1))
        elif self.fused == "qkv_proj":  # Phi3Attention: by qkv's columns
            qkv = self.qkv_proj(hidden_states)
            query_pos = self.heads * self.head_dim
            kv_size = self.kv_heads * self.head_dim
            q, k, v = (qkv[..., :query_pos],
                       qkv[..., query_pos:query_pos + kv_size],
                       qkv[..., query_pos + kv_size:])
        elif self.fused:
            # GPTNeoXAttention's, FalconAttention's and InternLM2Attention's
            # wqkv: per key-value head, its queries' rows, then its key's
            # and its value's (GPT-NeoX: each head's q, k, v; Falcon-7B,
            # multi-query: one group).
            qkv = getattr(self, self.fused)(hidden_states).view(
                b, s, self.kv_heads, self.heads // self.kv_heads + 2,
                self.head_dim)
            q, k, v = (part.reshape(b, s, -1) for part in (
                qkv[..., :-2, :], qkv[..., -2, :], qkv[..., -1, :]))
        else:
            q, k, v = (self.q_proj(hidden_states), self.k_proj(hidden_states),
                       self.v_proj(hidden_states))
        if self.clip_qkv is not None:
            q, k, v = (t.clamp(min=-self.clip_qkv, max=self.clip_qkv)
                       for t in (q, k, v))
        if self.whole_qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q = heads(q, self.qk_norm and self.q_norm)
        k = heads(k, self.qk_norm and self.k_norm)
        v = heads(v)
        if self.per_head_layernorm or self.shared_layernorm:
            q, k = self.q_layernorm(q), self.k_layernorm(k)
        if self.rotate:
            q = apply_rotary(q, cos, sin, self.pairs)
            k = apply_rotary(k, cos, sin, self.pairs)
        if self.hunyuan:  # each head normed after the rotation
            q, k = self.query_layernorm(q), self.key_layernorm(k)
        k = repeat_kv(k, self.heads // self.kv_heads)
        v = repeat_kv(v, self.heads // self.kv_heads)
        scores = torch.matmul(q, k.transpose(2, 3))
        if self.falcon_alibi:
            scores = scores + build_falcon_alibi_tensor(s, self.heads,
                                                        hidden_states.dtype)
        scores = softcap(scores * self.scaling, self.softcap)
        causal = torch.full((s, s), float("-inf"), dtype=scores.dtype).triu(1)
        if self.window:  # a query sees its last `window` positions only
            causal += torch.full((s, s), float("-inf"),
                                 dtype=scores.dtype).tril(-self.window)
        probs = F.softmax(scores + causal, dim=-1,
                          dtype=torch.promote_types(q.dtype, torch.float32))
        out = torch.matmul(probs.to(q.dtype), v)
        return getattr(self, self.output)(out.transpose(1, 2).reshape(
            b, s, -1))


class LlamaMLP(nn.Module):
    """LlamaMLP (InternLM2MLP's w1, w3, w2; Phi3MLP's gate_up_proj)."""

    def __init__(self, config):
        super().__init__()
        d, hidden = config["hidden_size"], config["intermediate_size"]
        bias = biases(config)[2]
        self.fused = config["model_type"] in ("phi3", "glm", "glm4")
        self.names = ("w1", "w3", "w2") \
            if config["model_type"] == "internlm2" else (
                "gate_proj", "up_proj", "down_proj")
        gate, up, down = self.names
        if self.fused:
            self.gate_up_proj = nn.Linear(d, 2 * hidden, bias=False)
        else:
            setattr(self, gate, nn.Linear(d, hidden, bias=bias))
            setattr(self, up, nn.Linear(d, hidden, bias=bias))
        setattr(self, down, nn.Linear(hidden, d, bias=bias))
        self.act_fn = activation(config)

    def forward(self, x):
        gate, up, down = (getattr(self, name, None) for name in self.names)
        if self.fused:  # Phi3MLP
            gate_values, up_values = self.gate_up_proj(x).chunk(2, dim=-1)
            return down(up_values * self.act_fn(gate_values))
        return down(self.act_fn(gate(x)) * up(x))


class PlainMLP(nn.Module):
    """GPTNeoXMLP and FalconMLP (dense_h_to_4h, dense_4h_to_h) and PhiMLP
    (fc1, fc2): down(act(up(x)))."""

    def __init__(self, config, up, down):
        super().__init__()
        d, hidden = config["hidden_size"], ffn_hidden_of(config)
        bias = biases(config)[2]
        self.names = (up, down)
        setattr(self, up, nn.Linear(d, hidden, bias=bias))
        setattr(self, down, nn.Linear(hidden, d, bias=bias))
        self.act_fn = activation(config)

    def forward(self, x):
        up, down = (getattr(self, name) for name in self.names)
        return down(self.act_fn(up(x)))


def parallel_block(config):
    """How a layer's attention and MLP read its input side by side: each
    through its norm (separate: GPTNeoXLayer where use_parallel_residual,
    FalconDecoderLayer's new architecture's ln_attn and ln_mlp), through
    one (shared: PhiDecoderLayer, Falcon's old architecture where
    parallel_attn, its new one's num_ln_in_parallel_attn 1), or None (one
    after the other)."""
    family = config["model_type"]
    if family in ("phi", "cohere", "cohere2") + GPTJ_BLOCKS or (
            family == "stablelm" and config.get("use_parallel_residual")):
        return "shared"
    if family == "gpt_neox":
        return "separate" if config.get("use_parallel_residual", True) \
            else None
    if family != "falcon":
        return None
    if config.get("new_decoder_architecture"):
        return "shared" if config.get("num_ln_in_parallel_attn") == 1 \
            else "separate"
    return "shared" if config.get("parallel_attn", True) else None


class LlamaDecoderLayer(nn.Module):
    """LlamaDecoderLayer, OLMo 2's and Gemma 2's norms, GPTNeoXLayer
    (attention, use_parallel_residual: mlp(ln2(x)) + attn(ln1(x)) + x),
    PhiDecoderLayer (attn(ln(x)) + mlp(ln(x)) + x) and FalconDecoderLayer
    (self_attention; its parallel blocks mlp + attn + x)."""

    def __init__(self, config, layer):
        super().__init__()
        d = config["hidden_size"]
        family = config["model_type"]
        self.attention_name = {"gpt_neox": "attention",
                               "falcon": "self_attention",
                               "gptj": "attn", "codegen": "attn",
                               "internlm2": "attention"}.get(family,
                                                             "self_attn")
        # InternLM2DecoderLayer's MLP is its feed_forward.
        self.mlp_name = "feed_forward" if family == "internlm2" else "mlp"
        setattr(self, self.attention_name, LlamaAttention(config, layer))
        self.window = sliding_window(config, layer)
        if family in ("gpt_neox", "falcon", "persimmon"):
            mlp = PlainMLP(config, "dense_h_to_4h", "dense_4h_to_h")
        elif family == "phi":
            mlp = PlainMLP(config, "fc1", "fc2")
        elif family in GPTJ_BLOCKS:
            mlp = PlainMLP(config, "fc_in", "fc_out")
        elif family == "starcoder2":
            mlp = PlainMLP(config, "c_fc", "c_proj")
        elif family in ("nemotron", "arcee"):
            mlp = PlainMLP(config, "up_proj", "down_proj")
        else:
            mlp = LlamaMLP(config)
        setattr(self, self.mlp_name, mlp)
        self.parallel = parallel_block(config)
        # The first and the second norm's names (Falcon's two parallel
        # ones: ln_attn, ln_mlp).
        self.norm_names = ("ln_attn", "ln_mlp") if (
            family == "falcon" and self.parallel == "separate") else (
            "ln_1", None) if family in GPTJ_BLOCKS else (
            "attention_norm", "ffn_norm") if family == "internlm2" else (
            "input_layernorm", "pre_feedforward_layernorm") if (
                family == "vaultgemma") else (
            "input_layernorm", "post_attention_layernorm")
        self.post_norm = family in ("olmo2", "olmo3", "exaone4")
        # CohereDecoderLayer's and StableLmDecoderLayer's sum: residual +
        # attention + MLP.
        self.residual_first = is_cohere(config) or family == "stablelm"
        # GraniteDecoderLayer's (None: no product, Llama's).
        self.residual_multiplier = config.get("residual_multiplier", 1.0) \
            if family == "granite" else None
        self.sandwich_norm = has_sandwich_norm(config)
        if self.post_norm or self.sandwich_norm:
            self.post_feedforward_layernorm = rms_norm(config, d)
        if not self.post_norm:
            setattr(self, self.norm_names[0], rms_norm(config, d))
        if self.sandwich_norm:  # Gemma2DecoderLayer
            self.pre_feedforward_layernorm = rms_norm(config, d)
        # Glm4DecoderLayer's norms on its sublayers' outputs.
        self.glm4 = family == "glm4"
        if self.glm4:
            self.post_self_attn_layernorm = rms_norm(config, d)
            self.post_mlp_layernorm = rms_norm(config, d)
        if self.parallel != "shared":
            setattr(self, self.norm_names[1], rms_norm(config, d))

    def attend(self, hidden_states, cos, sin):
        return getattr(self, self.attention_name)(hidden_states, cos, sin)

    def feed(self, x):
        return getattr(self, self.mlp_name)(x)

    def forward(self, hidden_states, cos, sin):
        first, second = (getattr(self, name, None) if name else None
                         for name in self.norm_names)
        if self.parallel == "shared":
            x = first(hidden_states)
            if self.residual_first:
                return hidden_states + self.attend(x, cos, sin) + self.feed(x)
            return self.attend(x, cos, sin) + self.feed(x) + \
                hidden_states
        if self.parallel:
            attention = self.attend(first(hidden_states), cos, sin)
            return self.feed(second(hidden_states)) + attention + hidden_states
        if self.glm4:
            hidden_states = hidden_states + self.post_self_attn_layernorm(
                self.attend(first(hidden_states), cos, sin))
            return hidden_states + self.post_mlp_layernorm(self.feed(
                second(hidden_states)))
        if self.sandwich_norm:
            hidden_states = hidden_states + self.post_attention_layernorm(
                self.attend(self.input_layernorm(hidden_states), cos,
                                    sin))
            return hidden_states + self.post_feedforward_layernorm(self.feed(
                self.pre_feedforward_layernorm(hidden_states)))
        if self.post_norm:
            hidden_states = hidden_states + self.post_attention_layernorm(
                self.attend(hidden_states, cos, sin))
            return hidden_states + self.post_feedforward_layernorm(
                self.feed(hidden_states))
        hidden_states = hidden_states + self.residual(self.attend(
            first(hidden_states), cos, sin))
        return hidden_states + self.residual(self.feed(second(hidden_states)))

    def residual(self, x):
        if self.residual_multiplier is None:
            return x
        return x * self.residual_multiplier


# The names of the model, its embedding, its final norm, its output
# projection and its layers where a family's differ from Llama's
# (GPTNeoXForCausalLM's gpt_neox.embed_in, gpt_neox.final_layer_norm and
# embed_out; PhiForCausalLM's model.final_layernorm; FalconForCausalLM's
# transformer.word_embeddings, transformer.ln_f and transformer.h).
MODEL_NAMES = {"gpt_neox": ("gpt_neox", "embed_in", "final_layer_norm",
                            "embed_out", "layers"),
               "phi": ("model", "embed_tokens", "final_layernorm", "lm_head",
                       "layers"),
               "falcon": ("transformer", "word_embeddings", "ln_f",
                          "lm_head", "h"),
               "gptj": ("transformer", "wte", "ln_f", "lm_head", "h")}
MODEL_NAMES["codegen"] = MODEL_NAMES["gptj"]
LLAMA_MODEL_NAMES = ("model", "embed_tokens", "norm", "lm_head", "layers")
# Cohere's and StarCoder2's are Llama's; their parameters are listed as
# their modules register them (Cohere's one norm per layer, without biases;
# StarCoder2's biases and plain MLP).
MODEL_NAMES["cohere"] = MODEL_NAMES["cohere2"] = LLAMA_MODEL_NAMES
MODEL_NAMES["starcoder2"] = MODEL_NAMES["exaone4"] = LLAMA_MODEL_NAMES
MODEL_NAMES["nemotron"] = MODEL_NAMES["arcee"] = LLAMA_MODEL_NAMES
MODEL_NAMES["glm"] = MODEL_NAMES["glm4"] = LLAMA_MODEL_NAMES
MODEL_NAMES["helium"] = MODEL_NAMES["seed_oss"] = LLAMA_MODEL_NAMES
MODEL_NAMES["ernie4_5"] = LLAMA_MODEL_NAMES
MODEL_NAMES["persimmon"] = MODEL_NAMES["phi"]
MODEL_NAMES["olmo"] = MODEL_NAMES["hunyuan_v1_dense"] = LLAMA_MODEL_NAMES
# InternLM2ForCausalLM's: model.tok_embeddings, model.norm, output.
MODEL_NAMES["internlm2"] = ("model", "tok_embeddings", "norm", "output",
                            "layers")


class LlamaModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        _, self.embedding_name, self.norm_name, _, self.layers_name = \
            MODEL_NAMES.get(config["model_type"], LLAMA_MODEL_NAMES)
        setattr(self, self.embedding_name, nn.Embedding(
            config["vocab_size"], config["hidden_size"],
            padding_idx=padding_idx(config)))
        setattr(self, self.layers_name, nn.ModuleList(
            LlamaDecoderLayer(config, layer)
            for layer in range(config["num_hidden_layers"])))
        setattr(self, self.norm_name, rms_norm(config, config["hidden_size"]))

    def embedding(self):
        return getattr(self, self.embedding_name)

    def decoder_layers(self):
        return getattr(self, self.layers_name)

    def final_norm(self):
        return getattr(self, self.norm_name)


class LlamaForCausalLM(nn.Module):
    """LlamaForCausalLM, GPTNeoXForCausalLM, PhiForCausalLM and
    GPTJForCausalLM (whose lm_heads have biases), FalconForCausalLM."""

    def __init__(self, config):
        super().__init__()
        config = with_attribute_map(config)
        self.config = config
        self.model_name, _, _, self.output_name, _ = MODEL_NAMES.get(
            config["model_type"], LLAMA_MODEL_NAMES)
        setattr(self, self.model_name, LlamaModel(config))
        setattr(self, self.output_name, nn.Linear(
            config["hidden_size"], config["vocab_size"],
            bias=config["model_type"] in ("phi",) + GPTJ_BLOCKS))
        # CohereConfig's, Cohere2Config's, SmolLM3Config's and
        # Starcoder2Config's (PretrainedConfig's default) tie unless told
        # otherwise.
        if config.get("tie_word_embeddings", is_cohere(config) or
                      config["model_type"] in ("smollm3", "starcoder2",
                                               "ernie4_5")):
            self.output_layer().weight = self.base().embedding().weight

    def base(self):
        return getattr(self, self.model_name)

    def output_layer(self):
        return getattr(self, self.output_name)

    def forward(self, input_ids):
        h = self.base().embedding()(input_ids)
        if self.config["model_type"] == "granite":  # GraniteModel
            h = h * self.config.get("embedding_multiplier", 1.0)
        if self.config["model_type"] == "gemma3_text":  # a float32 buffer
            h = h * torch.tensor(self.config["hidden_size"] ** 0.5).to(h.dtype)
        elif is_gemma(self.config):  # GemmaModel's normalizer
            h = h * torch.tensor(self.config["hidden_size"] ** 0.5,
                                 dtype=h.dtype)
        seq = input_ids.shape[1]
        rotary = rotary_cos_sin(self.config, seq, h.dtype)
        local = rotary
        if self.config["model_type"] in ("gemma3_text", "olmo3"):
            local = rotary_cos_sin(self.config, seq, h.dtype, local=True)
        for layer in self.base().decoder_layers():
            h = layer(h, *(local if layer.window else rotary))
        logits = self.output_layer()(self.base().final_norm()(h))
        if self.config["model_type"] == "granite":  # GraniteForCausalLM
            logits = logits / self.config.get("logits_scaling", 1.0)
        if is_cohere(self.config):  # CohereForCausalLM
            logits = logits * self.config.get("logit_scale", 0.0625)
        return softcap(logits, self.config.get("final_logit_softcapping"))


class Conv1D(nn.Module):
    """transformers' Conv1D (GPT-2's linears): a weight [in, out], x @ W +
    b."""

    def __init__(self, out, inp):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(inp, out))
        self.bias = nn.Parameter(torch.zeros(out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]),
                           self.weight).view(*x.shape[:-1], -1)


def gpt2_field(config, name):
    """A GPT2Config (GPTBigCodeConfig) field, its class's default where the
    config leaves it out (n_inner: 4 x n_embd where null)."""
    if name == "n_inner":
        return config.get("n_inner") or 4 * config["n_embd"]
    return config.get(name, {"n_positions": 1024, "layer_norm_epsilon": 1e-5,
                             "multi_query": True}.get(name))


def gpt2_linear(config, out, inp):
    """GPT-2's linears are Conv1Ds, GPT-BigCode's nn.Linears."""
    return Conv1D(out, inp) if config["model_type"] == "gpt2" else \
        nn.Linear(inp, out)


class GPT2Attention(nn.Module):
    """GPT2Attention: q, k and v by c_attn's columns, the scores divided by
    sqrt(head_dim), c_proj. GPTBigCodeAttention: c_attn's outputs q, then
    one key's and one value's where multi_query (as by default), else each
    head's q, k and v in turn; its scores times 1/sqrt(head_dim)."""

    def __init__(self, config):
        super().__init__()
        d = config["n_embd"]
        self.heads = config["n_head"]
        self.head_dim = d // self.heads
        self.bigcode = config["model_type"] == "gpt_bigcode"
        self.multi_query = self.bigcode and gpt2_field(config, "multi_query")
        kv_rows = self.head_dim if self.multi_query else d
        self.c_attn = gpt2_linear(config, d + 2 * kv_rows, d)
        self.c_proj = gpt2_linear(config, d, d)

    def forward(self, x):
        b, s, d = x.shape
        qkv = self.c_attn(x)
        if self.multi_query:  # one key and value head for every query head
            q, k, v = qkv.split((d, self.head_dim, self.head_dim), dim=2)
        elif self.bigcode:
            q, k, v = qkv.view(b, s, self.heads, 3 * self.head_dim).split(
                self.head_dim, dim=3)
        else:
            q, k, v = qkv.split(d, dim=2)
        q, k, v = (part.reshape(b, s, -1, self.head_dim).transpose(1, 2)
                   for part in (q, k, v))
        k, v = (repeat_kv(t, self.heads // t.shape[1]) for t in (k, v))
        if self.bigcode:  # the scale as baddbmm's alpha
            scores = torch.matmul(q, k.transpose(-1, -2)) * \
                self.head_dim ** -0.5
        else:
            scores = torch.matmul(q, k.transpose(-1, -2)) / torch.full(
                [], v.shape[-1] ** 0.5, dtype=q.dtype)
        causal = torch.full((s, s), float("-inf"), dtype=q.dtype).triu(1)
        probs = F.softmax(scores + causal, dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, d)
        return self.c_proj(out)


class GPTNeoSelfAttention(nn.Module):
    """GPTNeoSelfAttention: q_proj, k_proj, v_proj without biases, scores
    not scaled, causal, a local layer's keys those after q_idx -
    window_size, out_proj with a bias."""

    def __init__(self, config, local):
        super().__init__()
        d = config["n_embd"]
        self.heads = config["n_head"]
        self.window = config["window_size"] if local else None
        self.q_proj, self.k_proj, self.v_proj = (
            nn.Linear(d, d, bias=False) for _ in range(3))
        self.out_proj = nn.Linear(d, d)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = (proj(x).view(b, s, self.heads, -1).transpose(1, 2)
                   for proj in (self.q_proj, self.k_proj, self.v_proj))
        scores = torch.matmul(q, k.transpose(-1, -2))
        position = torch.arange(s)
        keep = position[None, :] <= position[:, None]
        if self.window is not None:
            keep &= position[None, :] > position[:, None] - self.window
        scores = torch.where(keep, scores, torch.finfo(scores.dtype).min)
        out = torch.matmul(F.softmax(scores, dim=-1), v)
        return self.out_proj(out.transpose(1, 2).reshape(b, s, d))


class GPTNeoAttention(nn.Module):
    """GPTNeoAttention: its layer's attention type's GPTNeoSelfAttention
    (the config's attention_layers, else its attention_types expanded, as
    GPTNeoConfig gives config.attention_layers)."""

    def __init__(self, config, layer):
        super().__init__()
        types = config.get("attention_layers") or [
            kind for pattern, count in config["attention_types"]
            for _ in range(count) for kind in pattern]
        self.attention = GPTNeoSelfAttention(config, types[layer] == "local")

    def forward(self, x):
        return self.attention(x)


class GPT2MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, hidden = config["n_embd"], gpt2_field(config, "n_inner")
        self.c_fc = gpt2_linear(config, hidden, d)
        self.c_proj = gpt2_linear(config, d, hidden)
        self.act = activation(config)

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, config, layer):
        super().__init__()
        d, eps = config["n_embd"], gpt2_field(config, "layer_norm_epsilon")
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPTNeoAttention(config, layer) \
            if config["model_type"] == "gpt_neo" else GPT2Attention(config)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GPT2MLP(config)

    def forward(self, x):
        x = self.attn(self.ln_1(x)) + x
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, config):
        super().__init__()
        d = config["n_embd"]
        self.wte = nn.Embedding(config["vocab_size"], d)
        self.wpe = nn.Embedding(gpt2_field(config, "n_positions"), d)
        self.h = nn.ModuleList(GPT2Block(config, layer)
                               for layer in range(config["n_layer"]))
        self.ln_f = nn.LayerNorm(
            d, eps=gpt2_field(config, "layer_norm_epsilon"))


class GPT2LMHeadModel(nn.Module):
    """GPT2LMHeadModel: the token and position embeddings' sum
    (wpe(arange(seq))), pre-norm blocks of Conv1D linears, ln_f, lm_head
    tied to wte unless tie_word_embeddings is false; GPTBigCodeForCausalLM
    the same with nn.Linears and its attention, GPTNeoForCausalLM with
    nn.Linears and GPT-Neo's attention."""

    def __init__(self, config):
        super().__init__()
        if config["model_type"] == "gpt_neo":  # GPTNeoConfig's names
            config = dict(config, n_embd=config["hidden_size"],
                          n_layer=config["num_layers"],
                          n_head=config["num_heads"],
                          n_inner=config.get("intermediate_size"),
                          n_positions=config.get("max_position_embeddings",
                                                 2048))
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config["n_embd"], config["vocab_size"],
                                 bias=False)
        if config.get("tie_word_embeddings", True):
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids):
        model = self.transformer
        positions = torch.arange(input_ids.shape[1])
        h = model.wte(input_ids) + model.wpe(positions)
        for block in model.h:
            h = block(h)
        return self.lm_head(model.ln_f(h))


def opt_field(config, name):
    """An OPTConfig field, its class's default where the config leaves it
    out (word_embed_proj_dim: hidden_size)."""
    if name == "word_embed_proj_dim":
        return config.get(name) or config["hidden_size"]
    return config.get(name, {
        "max_position_embeddings": 2048, "do_layer_norm_before": True,
        "_remove_final_layer_norm": False, "enable_bias": True,
        "layer_norm_elementwise_affine": True}[name])


def opt_layer_norm(config):
    return nn.LayerNorm(config["hidden_size"], elementwise_affine=opt_field(
        config, "layer_norm_elementwise_affine"))


class OPTAttention(nn.Module):
    """OPTAttention: q_proj's output times head_dim ** -0.5 before the
    scores, k_proj, v_proj and out_proj, biases where enable_bias."""

    def __init__(self, config):
        super().__init__()
        d = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.head_dim = d // self.heads
        bias = opt_field(config, "enable_bias")
        self.k_proj, self.v_proj, self.q_proj, self.out_proj = (
            nn.Linear(d, d, bias=bias) for _ in range(4))

    def forward(self, x):
        b, s, d = x.shape
        q = self.q_proj(x) * self.head_dim ** -0.5
        q, k, v = (part.view(b, s, self.heads, self.head_dim).transpose(1, 2)
                   for part in (q, self.k_proj(x), self.v_proj(x)))
        causal = torch.full((s, s), float("-inf"), dtype=q.dtype).triu(1)
        probs = F.softmax(torch.matmul(q, k.transpose(-1, -2)) + causal,
                          dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, d)
        return self.out_proj(out)


class OPTDecoderLayer(nn.Module):
    """OPTDecoderLayer: self_attn_layer_norm and final_layer_norm before
    the attention and fc1, fc2 where do_layer_norm_before (as by default),
    after each residual add otherwise (OPT-350m)."""

    def __init__(self, config):
        super().__init__()
        d, bias = config["hidden_size"], opt_field(config, "enable_bias")
        self.norm_before = opt_field(config, "do_layer_norm_before")
        self.self_attn = OPTAttention(config)
        self.self_attn_layer_norm = opt_layer_norm(config)
        self.fc1 = nn.Linear(d, config["ffn_dim"], bias=bias)
        self.fc2 = nn.Linear(config["ffn_dim"], d, bias=bias)
        self.final_layer_norm = opt_layer_norm(config)
        self.act = activation(config)

    def sublayer(self, x, norm, body):
        if self.norm_before:
            return x + body(norm(x))
        return norm(x + body(x))

    def forward(self, x):
        x = self.sublayer(x, self.self_attn_layer_norm, self.self_attn)
        return self.sublayer(x, self.final_layer_norm,
                             lambda y: self.fc2(self.act(self.fc1(y))))


class OPTDecoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, words = config["hidden_size"], opt_field(
            config, "word_embed_proj_dim")
        self.embed_tokens = nn.Embedding(config["vocab_size"], words,
                                         padding_idx(config))
        # OPTLearnedPositionalEmbedding: max_position_embeddings + 2 rows.
        self.embed_positions = nn.Embedding(
            opt_field(config, "max_position_embeddings") + 2, d)
        if words != d:
            self.project_out = nn.Linear(d, words, bias=False)
            self.project_in = nn.Linear(words, d, bias=False)
        else:
            self.project_out = self.project_in = None
        self.final_layer_norm = opt_layer_norm(config) if opt_field(
            config, "do_layer_norm_before") and not opt_field(
                config, "_remove_final_layer_norm") else None
        self.layers = nn.ModuleList(OPTDecoderLayer(config)
                                    for _ in range(config["num_hidden_layers"]))


class OPTForCausalLM(nn.Module):
    """OPTForCausalLM: the token embeddings (through project_in where
    word_embed_proj_dim differs from hidden_size) plus embed_positions' rows
    2 .. seq+1 (OPTLearnedPositionalEmbedding's offset, no padding), the
    layers, final_layer_norm where there is one, project_out, lm_head tied
    to embed_tokens unless tie_word_embeddings is false."""

    def __init__(self, config):
        super().__init__()
        self.model = nn.Module()
        self.model.decoder = OPTDecoder(config)
        self.lm_head = nn.Linear(opt_field(config, "word_embed_proj_dim"),
                                 config["vocab_size"], bias=False)
        if config.get("tie_word_embeddings", True):
            self.lm_head.weight = self.model.decoder.embed_tokens.weight

    def forward(self, input_ids):
        decoder = self.model.decoder
        h = decoder.embed_tokens(input_ids)
        if decoder.project_in is not None:
            h = decoder.project_in(h)
        h = h + decoder.embed_positions(torch.arange(input_ids.shape[1]) + 2)
        for layer in decoder.layers:
            h = layer(h)
        if decoder.final_layer_norm is not None:
            h = decoder.final_layer_norm(h)
        if decoder.project_out is not None:
            h = decoder.project_out(h)
        return self.lm_head(h)


def bloom_field(config, name):
    """A BloomConfig field, its class's default where the config leaves
    it out."""
    return config.get(name, {
        "layer_norm_epsilon": 1e-5,
        "apply_residual_connection_post_layernorm": False}[name])


def alibi_slopes(num_heads):
    """BLOOM's and Falcon's build_alibi_tensor's slopes: float32 powers of
    a float32 base."""
    closest_power_of_2 = 2 ** math.floor(math.log2(num_heads))
    base = torch.tensor(2 ** (-(2 ** -(math.log2(closest_power_of_2) - 3))),
                        dtype=torch.float32)
    powers = torch.arange(1, 1 + closest_power_of_2, dtype=torch.int32)
    slopes = torch.pow(base, powers)
    if closest_power_of_2 != num_heads:
        extra_base = torch.tensor(
            2 ** (-(2 ** -(math.log2(2 * closest_power_of_2) - 3))),
            dtype=torch.float32)
        num_remaining_heads = min(closest_power_of_2,
                                  num_heads - closest_power_of_2)
        extra_powers = torch.arange(1, 1 + 2 * num_remaining_heads, 2,
                                    dtype=torch.int32)
        slopes = torch.cat([slopes, torch.pow(extra_base, extra_powers)])
    return slopes


def build_alibi_tensor(seq, num_heads):
    """BLOOM's build_alibi_tensor for an unpadded batch: [heads, 1, seq],
    each head's slope times the key positions."""
    slopes = alibi_slopes(num_heads)
    return slopes[:, None, None] * torch.arange(seq)[None, None, :]


def build_falcon_alibi_tensor(seq, num_heads, dtype):
    """Falcon's build_alibi_tensor for an unpadded batch: [heads, 1, seq],
    computed in bfloat16 (slopes[..., None].bfloat16() * arange_tensor:
    the slopes and the positions rounded, then their products), then in
    the hidden states' dtype."""
    slopes = alibi_slopes(num_heads)
    arange_tensor = torch.arange(seq)[None, :]
    alibi = slopes[..., None].bfloat16() * arange_tensor
    return alibi[:, None, :].to(dtype)


def bloom_gelu_forward(x):
    """BloomGelu's tanh approximation."""
    return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1 + 0.044715 * x * x)))


class BloomAttention(nn.Module):
    """BloomAttention: query_key_value's rows head by head (each head's
    q, k and v in turn), the scores alibi + q·kᵀ / sqrt(head_dim)
    (baddbmm), causal, dense."""

    def __init__(self, config):
        super().__init__()
        d = config["hidden_size"]
        self.heads = config["n_head"]
        self.head_dim = d // self.heads
        self.query_key_value = nn.Linear(d, 3 * d)
        self.dense = nn.Linear(d, d)

    def forward(self, x):
        b, s, d = x.shape
        fused = self.query_key_value(x).view(b, s, self.heads, 3,
                                             self.head_dim)
        q, k, v = (fused[..., i, :].transpose(1, 2).reshape(
            b * self.heads, s, self.head_dim) for i in range(3))
        alibi = build_alibi_tensor(s, self.heads).repeat(b, 1, 1).to(q.dtype)
        scores = alibi.baddbmm(batch1=q, batch2=k.transpose(-1, -2),
                               beta=1.0, alpha=1 / math.sqrt(self.head_dim))
        causal = torch.full((s, s), float("-inf")).triu(1)
        probs = F.softmax(scores + causal, dim=-1,
                          dtype=torch.float32).to(q.dtype)
        out = torch.bmm(probs, v).view(b, self.heads, s, self.head_dim)
        return self.dense(out.transpose(1, 2).reshape(b, s, d))


class BloomBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, eps = config["hidden_size"], bloom_field(
            config, "layer_norm_epsilon")
        self.input_layernorm = nn.LayerNorm(d, eps=eps)
        self.self_attention = BloomAttention(config)
        self.post_attention_layernorm = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.dense_h_to_4h = nn.Linear(d, 4 * d)
        self.mlp.dense_4h_to_h = nn.Linear(4 * d, d)

    def forward(self, x):
        x = x + self.self_attention(self.input_layernorm(x))
        mlp = self.mlp
        return x + mlp.dense_4h_to_h(bloom_gelu_forward(
            mlp.dense_h_to_4h(self.post_attention_layernorm(x))))


class BloomForCausalLM(nn.Module):
    """BloomForCausalLM: word_embeddings through
    word_embeddings_layernorm, pre-norm blocks with ALiBi and no position
    embedding, ln_f, lm_head tied to word_embeddings unless
    tie_word_embeddings is false."""

    def __init__(self, config):
        super().__init__()
        d, eps = config["hidden_size"], bloom_field(
            config, "layer_norm_epsilon")
        self.transformer = nn.Module()
        model = self.transformer
        model.word_embeddings = nn.Embedding(config["vocab_size"], d)
        model.word_embeddings_layernorm = nn.LayerNorm(d, eps=eps)
        model.h = nn.ModuleList(BloomBlock(config)
                                for _ in range(config["n_layer"]))
        model.ln_f = nn.LayerNorm(d, eps=eps)
        self.lm_head = nn.Linear(d, config["vocab_size"], bias=False)
        if config.get("tie_word_embeddings", True):
            self.lm_head.weight = model.word_embeddings.weight

    def forward(self, input_ids):
        model = self.transformer
        h = model.word_embeddings_layernorm(model.word_embeddings(input_ids))
        for block in model.h:
            h = block(h)
        return self.lm_head(model.ln_f(h))


def mpt_attn_field(config, name):
    """An MptAttentionConfig field of the config's attn_config, its class's
    default where left out."""
    return (config.get("attn_config") or {}).get(name, {
        "softmax_scale": None, "clip_qkv": None}[name])


def build_mpt_alibi_tensor(num_heads, sequence_length, alibi_bias_max=8):
    """MPT's build_mpt_alibi_tensor: [heads, 1, seq], each head's slope
    times the key positions counted back from the last (1 - seq .. 0)."""
    alibi = torch.arange(1 - sequence_length, 1, dtype=torch.int32).view(
        1, 1, 1, sequence_length)
    num_heads_power_of_2 = 2 ** math.ceil(math.log2(num_heads))
    base = torch.arange(1, num_heads_power_of_2 + 1,
                        dtype=torch.int64).float()
    base = base * (alibi_bias_max / num_heads_power_of_2)
    slopes = 1.0 / torch.pow(2, base)
    slopes = slopes.view(1, num_heads_power_of_2, 1, 1)
    if num_heads_power_of_2 != num_heads:
        slopes = torch.concat([slopes[:, 1::2, ...], slopes[:, ::2, ...]],
                              dim=1)[:, :num_heads, ...]
    return (alibi * slopes).squeeze(0)


class MptAttention(nn.Module):
    """MptAttention: Wqkv's rows q, then k, then v (clamped where
    clip_qkv), the scores times softmax_scale (1/sqrt(head_dim) where
    null) plus the ALiBi bias of max_seq_len keys' last seq, causal,
    out_proj; no biases."""

    def __init__(self, config):
        super().__init__()
        d = config["d_model"]
        self.heads = config["n_heads"]
        self.head_dim = d // self.heads
        self.softmax_scale = mpt_attn_field(config, "softmax_scale")
        if self.softmax_scale is None:
            self.softmax_scale = 1 / math.sqrt(d / self.heads)
        self.clip_qkv = mpt_attn_field(config, "clip_qkv")
        self.Wqkv = nn.Linear(d, 3 * d, bias=False)
        self.out_proj = nn.Linear(d, d, bias=False)

    def forward(self, x, position_bias):
        b, s, d = x.shape
        mixed = self.Wqkv(x)
        if self.clip_qkv:
            mixed = mixed.clamp(min=-self.clip_qkv, max=self.clip_qkv)
        q, k, v = (part.reshape(b, s, self.heads, self.head_dim).transpose(
            1, 2) for part in mixed.chunk(3, dim=2))
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.softmax_scale
        # The bias of max_seq_len keys: their last seq (transformers slices
        # it so).
        scores = scores + position_bias[:, :, position_bias.size(2) - s:]
        causal = torch.ones(s, s, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, torch.finfo(q.dtype).min)
        probs = F.softmax(scores.float(), dim=-1).to(v.dtype)
        out = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, s, d)
        return self.out_proj(out)


class MptBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, eps = config["d_model"], config.get("layer_norm_epsilon", 1e-5)
        self.norm_1 = LayerNormWithoutBias(d, eps)
        self.attn = MptAttention(config)
        self.norm_2 = LayerNormWithoutBias(d, eps)
        self.ffn = nn.Module()
        self.ffn.up_proj = nn.Linear(d, 4 * d, bias=False)
        self.ffn.down_proj = nn.Linear(4 * d, d, bias=False)

    def forward(self, x, position_bias):
        x = x + self.attn(self.norm_1(x), position_bias)
        return x + self.ffn.down_proj(F.gelu(self.ffn.up_proj(self.norm_2(x))))


class MptForCausalLM(nn.Module):
    """MptForCausalLM: wte, pre-norm blocks of LayerNorms without biases
    and ALiBi (max bias 8, whatever attn_config says: transformers builds
    it so), norm_f, lm_head tied to wte unless tie_word_embeddings is
    false."""

    def __init__(self, config):
        super().__init__()
        d = config["d_model"]
        self.heads = config["n_heads"]
        self.max_seq_len = config.get("max_seq_len", 2048)
        self.transformer = nn.Module()
        model = self.transformer
        model.wte = nn.Embedding(config["vocab_size"], d)
        model.blocks = nn.ModuleList(MptBlock(config)
                                     for _ in range(config["n_layers"]))
        model.norm_f = LayerNormWithoutBias(
            d, config.get("layer_norm_epsilon", 1e-5))
        self.lm_head = nn.Linear(d, config["vocab_size"], bias=False)
        if config.get("tie_word_embeddings", True):
            self.lm_head.weight = model.wte.weight

    def forward(self, input_ids):
        model = self.transformer
        h = model.wte(input_ids)
        alibi = build_mpt_alibi_tensor(self.heads, self.max_seq_len).to(
            h.dtype)
        for block in model.blocks:
            h = block(h, alibi)
        return self.lm_head(model.norm_f(h))


# The families of GPT-2's block.
GPT2_BLOCKS = ("gpt2", "gpt_bigcode")

# The families whose model is their own class here, and the prefix their
# base model's checkpoint (GPT2Model's, OPTModel's: the Hub's gpt2 and
# facebook/opt-*) leaves out of the causal LM's names.
OWN_MODELS = {"gpt2": (GPT2LMHeadModel, "transformer."),
              "gpt_bigcode": (GPT2LMHeadModel, "transformer."),
              "gpt_neo": (GPT2LMHeadModel, "transformer."),
              "opt": (OPTForCausalLM, "model."),
              "bloom": (BloomForCausalLM, "transformer."),
              "mpt": (MptForCausalLM, "transformer.")}


# The families whose base model's checkpoint mp reads, and its embedding's
# name there.
BASE_LAYOUTS = {"gpt2": "wte.weight", "gpt_neo": "wte.weight",
                "opt": "decoder.embed_tokens.weight",
                "bloom": "word_embeddings.weight", "mpt": "wte.weight"}


def causal_lm(config):
    """The model of the config's family."""
    own = OWN_MODELS.get(config["model_type"])
    return own[0](config) if own else LlamaForCausalLM(config)


def hf_names(config):
    """Every parameter's Hugging Face name and shape (GPT-NeoX's and Phi's
    as their modules register them)."""
    if config["model_type"] in OWN_MODELS:  # tied: no lm_head.weight
        return [(name, tuple(param.shape)) for name, param in
                causal_lm(config).named_parameters()]
    if config["model_type"] in MODEL_NAMES:  # tied: no lm_head.weight
        return [(name, tuple(param.shape)) for name, param in
                LlamaForCausalLM(config).named_parameters()]
    d, hidden = config["hidden_size"], config["intermediate_size"]
    head_dim = head_dim_of(config)
    q_rows = config["num_attention_heads"] * head_dim
    kv_rows = config["num_key_value_heads"] * head_dim
    qkv_bias, o_bias, mlp_bias = biases(config)
    shapes = [("model.embed_tokens.weight", (config["vocab_size"], d))]

    stablelm = config["model_type"] == "stablelm"

    def norm(name):  # StableLM's LayerNorms have biases
        shapes.append((name + ".weight", (d,)))
        if stablelm:
            shapes.append((name + ".bias", (d,)))
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."

        def linear(name, out, inp, bias):
            shapes.append((p + name + ".weight", (out, inp)))
            if bias:
                shapes.append((p + name + ".bias", (out,)))

        fused = config["model_type"] == "phi3"
        olmo2 = config["model_type"] in ("olmo2", "olmo3")
        sandwich = has_sandwich_norm(config)
        if not olmo2:
            norm(p + "input_layernorm")
        if fused:
            linear("self_attn.qkv_proj", q_rows + 2 * kv_rows, d, False)
        else:
            linear("self_attn.q_proj", q_rows, d, qkv_bias)
            linear("self_attn.k_proj", kv_rows, d, qkv_bias)
            linear("self_attn.v_proj", kv_rows, d, qkv_bias)
        linear("self_attn.o_proj", d, q_rows, o_bias)
        if config["model_type"] in ("qwen3", "gemma3_text"):
            shapes += [(p + "self_attn.q_norm.weight", (head_dim,)),
                       (p + "self_attn.k_norm.weight", (head_dim,))]
        if stablelm and config.get("qk_layernorm"):
            for norm_name, heads in [
                    ("q_layernorm", config["num_attention_heads"]),
                    ("k_layernorm", config["num_key_value_heads"])]:
                shapes += [(f"{p}self_attn.{norm_name}.norms.{h}.weight",
                            (head_dim,)) for h in range(heads)]
        if olmo2:
            shapes += [(p + "self_attn.q_norm.weight", (q_rows,)),
                       (p + "self_attn.k_norm.weight", (kv_rows,))]
        if olmo2 or sandwich:
            norm(p + "post_feedforward_layernorm")
        if sandwich:
            norm(p + "pre_feedforward_layernorm")
        if parallel_block(config) != "shared":
            # VaultGemmaDecoderLayer: Gemma 2's without its sublayers'
            # output norms.
            norm(p + ("pre_feedforward_layernorm"
                      if config["model_type"] == "vaultgemma"
                      else "post_attention_layernorm"))
        if fused:
            linear("mlp.gate_up_proj", 2 * hidden, d, False)
        else:
            linear("mlp.gate_proj", hidden, d, mlp_bias)
            linear("mlp.up_proj", hidden, d, mlp_bias)
        linear("mlp.down_proj", d, hidden, mlp_bias)
    norm("model.norm")
    if not config.get("tie_word_embeddings"):
        shapes.append(("lm_head.weight", (config["vocab_size"], d)))
    return shapes


# What each family's config.json says beyond Llama's fields (as the Hub's
# Mistral-7B-v0.3, Qwen2.5, Qwen3, Phi-3-mini-4k, OLMo-2 and Gemma configs
# do).
FAMILY_CONFIG = {
    "llama": {"architectures": ["LlamaForCausalLM"]},
    "mistral": {"architectures": ["MistralForCausalLM"],
                "sliding_window": None, "head_dim": None},
    "qwen2": {"architectures": ["Qwen2ForCausalLM"],
              "use_sliding_window": False, "sliding_window": 32768,
              "max_window_layers": 28},
    "qwen3": {"architectures": ["Qwen3ForCausalLM"],
              "use_sliding_window": False, "sliding_window": None,
              "max_window_layers": 28},
    "phi3": {"architectures": ["Phi3ForCausalLM"], "sliding_window": 2047,
             "resid_pdrop": 0.0, "embd_pdrop": 0.0,
             "original_max_position_embeddings": 4096},
    "olmo2": {"architectures": ["Olmo2ForCausalLM"]},
    # StarCoder2-3B's (its dropouts 0.1 and base 999999.44 left to the
    # tests).
    "starcoder2": {"architectures": ["Starcoder2ForCausalLM"],
                   "hidden_act": "gelu_pytorch_tanh", "sliding_window": 4096,
                   "residual_dropout": 0.0, "embedding_dropout": 0.0},
    # EXAONE 4.0 32B's window and pattern (its layer_types left to
    # Exaone4Config's default).
    "exaone4": {"architectures": ["Exaone4ForCausalLM"], "sliding_window": 4096,
                "sliding_window_pattern": 4},
    # Minitron-4B's (hidden_act relu2, partial_rotary_factor 0.5, norm_eps).
    "nemotron": {"architectures": ["NemotronForCausalLM"],
                 "hidden_act": "relu2", "partial_rotary_factor": 0.5},
    # GLM-4-9B's (glm-4-9b-hf) and GLM-4-9B-0414's rotation.
    "glm": {"architectures": ["GlmForCausalLM"], "partial_rotary_factor": 0.5},
    "glm4": {"architectures": ["Glm4ForCausalLM"],
             "partial_rotary_factor": 0.5},
    # helium-1's; Seed-OSS-36B's (its dropouts, 0.1 there and by
    # default, left to the tests).
    "helium": {"architectures": ["HeliumForCausalLM"]},
    "seed_oss": {"architectures": ["SeedOssForCausalLM"],
                 "attention_out_bias": False, "residual_dropout": 0.0},
    # ERNIE-4.5-0.3B's (use_bias false, tied, given by the tests).
    "ernie4_5": {"architectures": ["Ernie4_5ForCausalLM"]},
    # AFM-4.5B's activation.
    "arcee": {"architectures": ["ArceeForCausalLM"], "hidden_act": "relu2"},
    # OLMo 3 7B's window (its layer_types left to Olmo3Config's default).
    "olmo3": {"architectures": ["Olmo3ForCausalLM"], "sliding_window": 4096},
    # Pythia's (GPT-NeoX 4.x names; use_parallel_residual false would be
    # the sequential block).
    "gpt_neox": {"architectures": ["GPTNeoXForCausalLM"],
                 "hidden_act": "gelu", "rotary_pct": 0.25,
                 "use_parallel_residual": True, "hidden_dropout": 0.0},
    # GPT-J-6B's (its rotary_dim is 64 of 256: --config rotary_dim R).
    "gptj": {"architectures": ["GPTJForCausalLM"],
             "activation_function": "gelu_new", "resid_pdrop": 0.0,
             "embd_pdrop": 0.0, "attn_pdrop": 0.0},
    # CodeGen-350M-mono's (rotary_dim 32 of 64: --config rotary_dim R).
    "codegen": {"architectures": ["CodeGenForCausalLM"],
                "activation_function": "gelu_new", "resid_pdrop": 0.0,
                "embd_pdrop": 0.0, "attn_pdrop": 0.0},
    # Falcon-40B's (the new decoder architecture, two norms per layer),
    # in FalconConfig's names.
    "falcon": {"architectures": ["FalconForCausalLM"],
               "new_decoder_architecture": True, "parallel_attn": True,
               "multi_query": True, "alibi": False, "bias": False,
               "activation": "gelu", "hidden_dropout": 0.0},
    # OLMo-1B-hf's (no clip_qkv).
    "olmo": {"architectures": ["OlmoForCausalLM"], "clip_qkv": None},
    # persimmon-8b-base's.
    "persimmon": {"architectures": ["PersimmonForCausalLM"],
                  "hidden_act": "relu2", "partial_rotary_factor": 0.5,
                  "qk_layernorm": True, "hidden_dropout": 0.0},
    # Phi-2's.
    "phi": {"architectures": ["PhiForCausalLM"], "hidden_act": "gelu_new",
            "partial_rotary_factor": 0.4, "qk_layernorm": False,
            "resid_pdrop": 0.0, "embd_pdrop": 0.0},
    # StableLM 3B's (StableLM 2 1.6B's has q, k and v biases: use_qkv_bias,
    # --attention-bias; partial_rotary_factor left to StableLmConfig's
    # default, 0.25).
    "stablelm": {"architectures": ["StableLmForCausalLM"],
                 "use_qkv_bias": False, "qk_layernorm": False,
                 "use_parallel_residual": False, "hidden_dropout": 0.0},
    # Command-R's (c4ai-command-r-v01: logit_scale 0.0625, tied).
    "cohere": {"architectures": ["CohereForCausalLM"], "logit_scale": 0.0625,
               "use_qk_norm": False},
    # Command R7B's (c4ai-command-r7b-12-2024), its sliding_window_pattern
    # (4) left to Cohere2Config's default.
    "cohere2": {"architectures": ["Cohere2ForCausalLM"], "logit_scale": 0.25,
                "sliding_window": 4096},
    # SmolLM3-3B's (its no_rope_layers, every fourth 0, left to
    # no_rope_layer_interval).
    "smollm3": {"architectures": ["SmolLM3ForCausalLM"],
                "no_rope_layer_interval": 4, "use_sliding_window": False,
                "sliding_window": None},
    # InternLM2-7B's (custom code, as its Hub config names it: auto_map;
    # its dynamic rope scaling left to the tests' --config).
    "internlm2": {"architectures": ["InternLM2ForCausalLM"],
                  "auto_map": {
                      "AutoConfig": "configuration_internlm2.InternLM2Config",
                      "AutoModelForCausalLM":
                      "modeling_internlm2.InternLM2ForCausalLM"}},
    # Granite 3.0 2B's constants.
    "granite": {"architectures": ["GraniteForCausalLM"],
                "embedding_multiplier": 12.0, "residual_multiplier": 0.22,
                "attention_multiplier": 0.015625, "logits_scaling": 8.0},
    "gemma": {"architectures": ["GemmaForCausalLM"], "hidden_act": "gelu",
              "hidden_activation": "gelu_pytorch_tanh"},
    "gemma2": {"architectures": ["Gemma2ForCausalLM"],
               "hidden_act": "gelu_pytorch_tanh",
               "hidden_activation": "gelu_pytorch_tanh",
               "query_pre_attn_scalar": 256, "attn_logit_softcapping": 50.0,
               "final_logit_softcapping": 30.0, "sliding_window": 4096},
    # VaultGemmaConfig's (Gemma2Config's) fields; no hidden_act.
    "vaultgemma": {"architectures": ["VaultGemmaForCausalLM"],
                   "hidden_activation": "gelu_pytorch_tanh",
                   "query_pre_attn_scalar": 256,
                   "attn_logit_softcapping": 50.0,
                   "final_logit_softcapping": 30.0, "sliding_window": 4096},
    "gemma3_text": {"architectures": ["Gemma3ForCausalLM"],
                    "hidden_activation": "gelu_pytorch_tanh",
                    "query_pre_attn_scalar": 256,
                    "attn_logit_softcapping": None,
                    "final_logit_softcapping": None, "sliding_window": 512,
                    "rope_local_base_freq": 10000.0,
                    "sliding_window_pattern": 6},
    # HunYuanDenseV1Config's, its rope scaling left to the tests' --config.
    "hunyuan_v1_dense": {"architectures": ["HunYuanDenseV1ForCausalLM"]},
    # GPT-2's (its dropouts, 0.1 there and by default, left to the tests;
    # n_positions to GPT2Config's default, 1024).
    "gpt2": {"architectures": ["GPT2LMHeadModel"],
             "activation_function": "gelu_new", "resid_pdrop": 0.0,
             "embd_pdrop": 0.0, "attn_pdrop": 0.0},
    # StarCoder's and SantaCoder's (multi_query, GPTBigCodeConfig's
    # default, left to the tests).
    "gpt_bigcode": {"architectures": ["GPTBigCodeForCausalLM"],
                    "activation_function": "gelu_pytorch_tanh",
                    "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0},
    # facebook/opt-125m's (its dropout, 0.1 there and by default, left to
    # the tests; max_position_embeddings to OPTConfig's default, 2048).
    # gpt-neo-125m's (its layers' attention_types and window_size from
    # the sizes and the tests).
    "gpt_neo": {"architectures": ["GPTNeoForCausalLM"],
                "activation_function": "gelu_new", "resid_dropout": 0.0,
                "embed_dropout": 0.0},
    # bigscience/bloom-560m's (its pad_token_id 3, BloomConfig's too, a
    # row its embedding does not hold out).
    "bloom": {"architectures": ["BloomForCausalLM"], "hidden_dropout": 0.0,
              "pad_token_id": 3,
              "attention_dropout": 0.0, "pretraining_tp": 1,
              "slow_but_exact": False,
              "apply_residual_connection_post_layernorm": False},
    # mosaicml/mpt-7b's (its sizes from the tests; attn_config's defaults,
    # MptAttentionConfig's, left to the class).
    "mpt": {"architectures": ["MptForCausalLM"], "resid_pdrop": 0.0,
            "emb_pdrop": 0.0, "expansion_ratio": 4, "no_bias": True,
            "max_seq_len": 8, "attn_config": {"alibi": True}},
    "opt": {"architectures": ["OPTForCausalLM"], "activation_function": "relu",
            "do_layer_norm_before": True, "dropout": 0.0,
            "activation_dropout": 0.0, "layerdrop": 0.0},
}


# The multimodal families: their text model's family, architecture, and
# the fields its config class does not have.
MULTIMODAL = {
    "gemma3": ("gemma3_text", "Gemma3ForConditionalGeneration",
               ("hidden_act", "mlp_bias")),
    "mistral3": ("mistral", "Mistral3ForConditionalGeneration",
                 ("mlp_bias", "attention_bias", "rope_scaling")),
    "llava": ("llama", "LlavaForConditionalGeneration", ()),
    "llava_onevision": ("qwen2", "LlavaOnevisionForConditionalGeneration",
                        ("mlp_bias", "attention_bias")),
    "qwen2_vl": ("qwen2", "Qwen2VLForConditionalGeneration",
                 ("mlp_bias", "attention_bias")),
    "qwen2_5_vl": ("qwen2", "Qwen2_5_VLForConditionalGeneration",
                   ("mlp_bias", "attention_bias")),
    "qwen3_vl": ("qwen3", "Qwen3VLForConditionalGeneration", ("mlp_bias",))}

# Qwen2-VL's and Qwen2.5-VL's text models have config classes of their own
# (Qwen2VLTextConfig: other defaults than Qwen2Config's); their Hub
# configs are flat (the text model's fields at the top, as
# Qwen2VLConfig(**kwargs) reads them), their rope_scaling "mrope", which
# Qwen2VLTextConfig turns into the default rotation: on text the three
# position ids are one.
TEXT_CLASS = {"qwen2_vl": "qwen2_vl_text", "qwen2_5_vl": "qwen2_5_vl_text",
              "qwen3_vl": "qwen3_vl_text"}

# Gemma3TextConfig's, MistralConfig's, LlamaConfig's and Qwen2Config's
# defaults, which a multimodal model's text_config leaves out.
TEXT_DEFAULTS = {
    "gemma3_text": {
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
        "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
        "rope_theta": 1000000.0, "rope_scaling": None,
        "attention_bias": False, "attention_dropout": 0.0,
        "query_pre_attn_scalar": 256, "sliding_window": 4096,
        "final_logit_softcapping": None, "attn_logit_softcapping": None,
        "rope_local_base_freq": 10000.0, "sliding_window_pattern": 6,
        "hidden_activation": "gelu_pytorch_tanh"},
    "mistral": {
        "num_attention_heads": 32, "num_key_value_heads": 8,
        "head_dim": None, "hidden_act": "silu", "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False, "rope_theta": 10000.0,
        "sliding_window": 4096, "attention_dropout": 0.0},
    "llama": {
        "hidden_act": "silu", "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False, "rope_theta": 10000.0,
        "rope_scaling": None, "attention_bias": False,
        "attention_dropout": 0.0, "mlp_bias": False},
    "qwen2": {
        "num_key_value_heads": 32, "hidden_act": "silu", "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False, "rope_theta": 10000.0,
        "rope_scaling": None, "use_sliding_window": False,
        "sliding_window": 4096, "max_window_layers": 28,
        "attention_dropout": 0.0}}
TEXT_DEFAULTS["qwen2_vl_text"] = TEXT_DEFAULTS["qwen2_5_vl_text"] = {
    "num_key_value_heads": 8, "hidden_act": "silu", "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False, "rope_theta": 1000000.0,
    "use_sliding_window": False, "sliding_window": 4096,
    "max_window_layers": 80, "attention_dropout": 0.0}
TEXT_DEFAULTS["qwen3_vl_text"] = {
    "num_key_value_heads": 32, "head_dim": 128, "hidden_act": "silu",
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
    "rope_theta": 500000.0, "attention_bias": False,
    "attention_dropout": 0.0}

# The prefixes of model.* and lm_head.* in a multimodal checkpoint, and
# its vision tensors.
# (Qwen2-VL's Hub checkpoints keep the text model where a text model's
# are: flat.)
LAYOUTS = {"hub": ("language_model.model.", "language_model.lm_head."),
           "saved": ("model.language_model.", "lm_head."),
           "flat": ("model.", "lm_head.")}
VISION = {"hub": ("vision_tower.", "multi_modal_projector."),
          "saved": ("model.vision_tower.", "model.multi_modal_projector.",
                    "model.visual."),
          "flat": ("visual.",)}


def as_stored(values, torch_dtype):
    """values as a checkpoint of that torch_dtype holds them: float32, or
    rounded to bf16."""
    values = values.astype(np.float32)
    return values if torch_dtype == "float32" else \
        bf16_bits(values).view(BF16)


def multimodal(kind, text, tensors, layout, rng):
    """A multimodal model's config and tensors around a text model's."""
    qwen = kind in TEXT_CLASS
    if kind in ("qwen2_vl", "qwen2_5_vl") and layout == "hub":
        layout = "flat"
    model, lm_head = LAYOUTS[layout]
    renamed = {(model + name[len("model."):] if name.startswith("model.")
                else lm_head + name[len("lm_head."):]): value
               for name, value in tensors.items()}
    if qwen:
        visual = VISION[layout][-1]
        vision = [visual + "blocks.0.norm1.weight",
                  visual + "merger.mlp.0.weight"]
    else:
        tower, projector = VISION[layout][:2]
        vision = [tower + "vision_model.post_layernorm.weight",
                  projector + "mm_input_projection_weight"]
    for name, shape in zip(vision, [(8,), (8, text["hidden_size"])]):
        renamed[name] = as_stored(rng.uniform(-1, 1, shape),
                                  text["torch_dtype"])
    family, architecture, foreign = MULTIMODAL[kind]
    text_class = TEXT_CLASS.get(kind, family)
    defaults = TEXT_DEFAULTS[text_class]
    sparse = {key: value for key, value in text.items()
              if key not in (*foreign, "architectures", "torch_dtype",
                             "model_type") and
              (key not in defaults or defaults[key] != value)}
    if qwen:  # its rotation in three sections of head_dim / 2
        half = head_dim_of(text) // 2
        sections = [half // 4, half // 4, half - 2 * (half // 4)]
        sparse["rope_scaling"] = {"type": "mrope", "mrope_section": sections}
        if kind == "qwen3_vl":
            sparse["rope_scaling"] = {"rope_type": "default",
                                      "mrope_interleaved": True,
                                      "mrope_section": sections}
    config = {"architectures": [architecture],
              "model_type": kind, "torch_dtype": text["torch_dtype"],
              "vision_config": {"hidden_size": 8}}
    if layout == "flat":  # the Hub's Qwen2-VL: the text model's fields
        config.update(sparse)
    else:
        # LlavaConfig's text model is a Llama where it does not say.
        config["text_config"] = sparse if kind == "llava" else \
            dict(sparse, model_type=text_class)
    return config, renamed


def text_model(config, tensors):
    """The text model's config and tensors of a checkpoint (a multimodal
    model's under Hugging Face's names of its text model)."""
    kind = config["model_type"]
    if kind not in MULTIMODAL:
        return config, tensors
    family = MULTIMODAL[kind][0]
    given = config.get("text_config") or {
        key: value for key, value in config.items()
        if key not in ("architectures", "model_type", "vision_config")}
    text = {**TEXT_DEFAULTS[TEXT_CLASS.get(kind, family)], **given,
            "model_type": family}
    scaling = text.get("rope_scaling") or {}
    if "mrope_section" in scaling:  # the default rotation on text
        text["rope_scaling"] = None
    layout = next(name for name, (model, _) in LAYOUTS.items()
                  if model + "embed_tokens.weight" in tensors)
    model, lm_head = LAYOUTS[layout]
    names = {}
    for name, value in tensors.items():
        if name.startswith(model):
            names["model." + name[len(model):]] = value
        elif name.startswith(lm_head):
            names["lm_head." + name[len(lm_head):]] = value
        elif not name.startswith(VISION[layout]):
            names[name] = value  # load_parameters names what is extra
    return text, names


def own_fields(config, renamed, dropped=()):
    """A config class of its own's fields (GPT-2's, GPT-J's, GPT-Neo's,
    OPT's, BLOOM's, MPT's): each (name, its name) renamed, and the Llama
    fields it has not (the rotation's, the biases' switches, the activation,
    the key-value heads) dropped with `dropped`."""
    for name, own_name in renamed:
        config[own_name] = config.pop(name)
    for key in ("hidden_act", "num_key_value_heads", "rope_theta",
                "rope_scaling", "attention_bias", "mlp_bias") + dropped:
        del config[key]


def checkpoint(args):
    family = MULTIMODAL[args.family][0] if args.family in MULTIMODAL else \
        args.family
    config = {
        "model_type": family,
        "hidden_act": "silu", "num_hidden_layers": args.layers,
        "hidden_size": args.dim, "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads or args.heads,
        "intermediate_size": args.ffn_hidden, "vocab_size": args.vocab,
        ("norm_epsilon" if family == "starcoder2" else
         "norm_eps" if family == "nemotron" else
         "layer_norm_eps" if family in ("stablelm", "gpt_neox", "phi",
                                        "falcon", "gptj", "codegen", "gpt2",
                                        "gpt_bigcode", "gpt_neo", "bloom", "mpt",
                                        "cohere", "cohere2", "persimmon")
         else "rms_norm_eps"): args.norm_eps, "rope_theta": args.rope_theta,
        "rope_scaling": None, "attention_bias": False, "mlp_bias": False,
        "tie_word_embeddings": args.tie, "attention_dropout": 0.0,
        "torch_dtype": {"f32": "float32", "bf16": "bfloat16"}[args.dtype],
        **FAMILY_CONFIG[family]}
    if family == "gpt_neox":  # GPTNeoXConfig's fields (4.x) only
        config["rotary_emb_base"] = config.pop("rope_theta")
    if family in ("gpt_neox", "persimmon"):  # no such fields
        for key in ("num_key_value_heads", "attention_bias", "mlp_bias"):
            del config[key]
    if family == "olmo":  # OlmoConfig has no norm eps nor mlp_bias
        del config["rms_norm_eps"], config["mlp_bias"]
    if family == "falcon":  # FalconConfig's fields
        for name, falcon_name in [("layer_norm_eps", "layer_norm_epsilon"),
                                  ("intermediate_size", "ffn_hidden_size"),
                                  ("num_key_value_heads", "num_kv_heads")]:
            config[falcon_name] = config.pop(name)
        config["bias"] = args.attention_bias
        for key in ("hidden_act", "attention_bias", "mlp_bias"):
            del config[key]
    if family in GPTJ_BLOCKS + GPT2_BLOCKS:
        # GPTJConfig's, CodeGenConfig's, GPT2Config's and
        # GPTBigCodeConfig's fields
        own_fields(config, [("hidden_size", "n_embd"),
                            ("num_hidden_layers", "n_layer"),
                            ("num_attention_heads", "n_head"),
                            ("intermediate_size", "n_inner"),
                            ("layer_norm_eps", "layer_norm_epsilon")],
                   ("attention_dropout",))
    if family == "gpt_neo":  # GPTNeoConfig's fields
        own_fields(config, [("num_hidden_layers", "num_layers"),
                            ("num_attention_heads", "num_heads"),
                            ("layer_norm_eps", "layer_norm_epsilon")])
        # Global and local layers in turn, as gpt-neo-125m's.
        config["attention_types"] = [[["global", "local"], args.layers // 2]]
        if args.layers % 2:
            config["attention_types"].append([["global"], 1])
        config["window_size"] = 256
    if family == "opt":  # OPTConfig's fields: no eps (nn.LayerNorm's)
        own_fields(config, [("intermediate_size", "ffn_dim")],
                   ("rms_norm_eps",))
        config["word_embed_proj_dim"] = config["hidden_size"]
    if family == "bloom":  # BloomConfig's fields: its MLP 4 x hidden_size
        own_fields(config, [("num_hidden_layers", "n_layer"),
                            ("num_attention_heads", "n_head"),
                            ("layer_norm_eps", "layer_norm_epsilon")],
                   ("intermediate_size",))
    if family == "mpt":  # MptConfig's fields: its MLP 4 x d_model
        own_fields(config, [("hidden_size", "d_model"),
                            ("num_hidden_layers", "n_layers"),
                            ("num_attention_heads", "n_heads"),
                            ("layer_norm_eps", "layer_norm_epsilon")],
                   ("intermediate_size", "attention_dropout"))
    if family == "phi":  # PhiConfig has no bias switches
        del config["attention_bias"], config["mlp_bias"]
    if family == "vaultgemma":  # VaultGemmaConfig has neither
        del config["hidden_act"], config["mlp_bias"]
    if family in ("starcoder2", "ernie4_5"):  # use_bias, on all
        config["use_bias"] = args.attention_bias
        del config["attention_bias"], config["mlp_bias"]
    if family == "internlm2":  # InternLM2Config's: bias, on wqkv and wo
        config["bias"] = args.attention_bias
        for key in ("attention_bias", "mlp_bias", "attention_dropout"):
            del config[key]
    # Phi-3's and SmolLM3's Hub configs name a pad_token_id among their
    # tokens (their classes' defaults are past a small vocabulary).
    if PAD_TOKEN_DEFAULTS.get(family, 0) >= args.vocab:
        config["pad_token_id"] = args.vocab - 1
    for key, value in args.config:  # before the tensors: they follow it
        config[key] = json.loads(value)
    if args.head_dim:
        config["head_dim"] = args.head_dim
    if args.attention_bias and family not in ("falcon", "internlm2",
                                              "starcoder2", "ernie4_5"):
        # Falcon's and InternLM2's: bias; StarCoder2's and ERNIE 4.5's:
        # use_bias
        # StableLM's q, k and v biases: use_qkv_bias
        config["use_qkv_bias" if family == "stablelm" else
               "attention_bias"] = True
    if args.mlp_bias:
        config["mlp_bias"] = True
    rng = np.random.default_rng(args.seed)
    tensors = {}
    for name, shape in hf_names(config):
        if name.endswith(("embed_tokens.weight", "embed_in.weight",
                          "word_embeddings.weight", "wte.weight",
                          "tok_embeddings.weight")) and \
                not args.tie:
            value = rng.standard_normal(shape)
        elif name.endswith(".bias"):
            value = rng.uniform(-0.5, 0.5, shape)
        elif len(shape) == 1 or name.endswith("norm.weight"):
            # a norm's scale (Cohere's q_norm: each head's); Gemma's and
            # Nemotron's stored minus one
            low = -0.5 if is_gemma(config) or family.startswith(
                "gemma") or family == "nemotron" else 0.5
            value = rng.uniform(low, low + 1, shape)
        else:
            bound = 1 / np.sqrt(shape[1])
            value = rng.uniform(-bound, bound, shape)
        tensors[name] = as_stored(value, config["torch_dtype"])
    for name in args.extra:
        tensors[name] = np.zeros(args.dim, np.float32)
    for key, value in args.set:  # the config only, not the tensors
        config[key] = json.loads(value)
    for key in args.unset:
        config.pop(key, None)
    if args.family in MULTIMODAL:
        config, tensors = multimodal(args.family, config, tensors,
                                     args.layout, rng)
    if args.layout == "base":  # GPT2Model's, OPTModel's names
        if family not in BASE_LAYOUTS:
            sys.exit("hf_llama_reference.py: --layout base is GPT-2's, "
                     "GPT-Neo's, OPT's, BLOOM's and MPT's")
        prefix = OWN_MODELS[family][1]
        tensors = {name.removeprefix(prefix): value
                   for name, value in tensors.items()}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if args.shards == 1:
        write(os.path.join(args.out, "model.safetensors"), tensors)
        return
    names = list(tensors)
    weight_map = {}
    for shard in range(args.shards):
        file = f"model-{shard + 1:05d}-of-{args.shards:05d}.safetensors"
        part = names[shard::args.shards]
        write(os.path.join(args.out, file), {n: tensors[n] for n in part})
        weight_map.update({n: file for n in part})
    with open(os.path.join(args.out, "model.safetensors.index.json"),
              "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)


def data(args):
    write_batches(args.out, np.random.default_rng(args.seed), args)


def read_checkpoint(hf_dir):
    """{name: float32 array} of model.safetensors or its shards."""
    index = os.path.join(hf_dir, "model.safetensors.index.json")
    if os.path.isfile(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for file in files:
        for name, array in read(os.path.join(hf_dir, file)).items():
            if array.dtype == BF16:
                array = (array.view(np.uint16).astype(np.uint32) << 16).view(
                    np.float32)
            tensors[name] = array.astype(np.float32)
    return tensors


def flat_rope(config):
    """transformers 5's rope_parameters per layer type (Olmo3Config's,
    Gemma3TextConfig's) in the flat form the model reads: the full layers'
    base (Olmo3Config's default_theta 5e5 where none) and scaling, the
    windowed layers' base as rope_local_base_freq (from
    rope_local_base_freq or 10000 in Gemma 3, rope_theta in OLMo 3)."""
    parameters = config.get("rope_parameters") or {}
    if config["model_type"] not in ("olmo3", "gemma3_text") or not (
            {"full_attention", "sliding_attention"} & set(parameters)):
        return config
    full = parameters.get("full_attention") or {}
    sliding = parameters.get("sliding_attention") or {}
    olmo3 = config["model_type"] == "olmo3"
    theta = full.get("rope_theta", config.get(
        "rope_theta", 5e5 if olmo3 else 1e6))
    config = dict(config, rope_theta=theta, rope_scaling=None if full.get(
        "rope_type", "default") == "default" else full)
    config["rope_local_base_freq"] = sliding.get(
        "rope_theta", theta if olmo3 else config.get(
            "rope_local_base_freq", 10000.0))
    del config["rope_parameters"]
    return config


def train(args):
    with open(os.path.join(args.hf_dir, "config.json")) as f:
        config = json.load(f)
    config, tensors = text_model(config, read_checkpoint(args.hf_dir))
    config = flat_rope(config)
    dtype = {"float64": torch.float64, "float32": torch.float32}[args.dtype]
    torch.manual_seed(0)  # construction draws values that are overwritten
    if BASE_LAYOUTS.get(config["model_type"]) in tensors:
        # GPT2Model's and OPTModel's names (the Hub's gpt2 and
        # facebook/opt-*): the LM head model's under transformer., model.
        prefix = OWN_MODELS[config["model_type"]][1]
        tensors = {name if name.startswith("lm_head.") else
                   prefix + name: value for name, value in tensors.items()}
    model = causal_lm(config).to(dtype)
    load_parameters(model, tensors, args.hf_dir)
    batches = read(args.data)
    optimizer = adamw(model, args)
    for step in range(args.steps):
        tokens = torch.from_numpy(batches["tokens"][step].copy())
        labels = torch.from_numpy(batches["labels"][step].copy())
        logits = model(tokens)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(0, 1))
        optimizer.zero_grad()
        loss.backward()
        print(f"step {step} loss {loss.item():.9g}")
        optimizer.step()
    saved = {name: param.detach().numpy().astype(np.float32)
             for name, param in model.state_dict().items()}
    write(args.save, saved)


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("checkpoint")
    for option in ("--layers", "--dim", "--heads", "--ffn-hidden", "--vocab",
                   "--seed"):
        make.add_argument(option, type=int, required=True)
    make.add_argument("--kv-heads", type=int)
    make.add_argument("--head-dim", type=int)
    make.add_argument("--family", choices=[*FAMILY_CONFIG, *MULTIMODAL],
                      default="llama")
    make.add_argument("--layout", choices=[*LAYOUTS, "base"], default="hub")
    make.add_argument("--attention-bias", action="store_true")
    make.add_argument("--mlp-bias", action="store_true")
    make.add_argument("--norm-eps", type=float, default=1e-5)
    make.add_argument("--rope-theta", type=float, default=10000.0)
    make.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    make.add_argument("--shards", type=int, default=1)
    make.add_argument("--tie", action="store_true")
    make.add_argument("--set", nargs=2, action="append", default=[],
                      metavar=("KEY", "JSON"))
    make.add_argument("--unset", action="append", default=[],
                      metavar="KEY")
    make.add_argument("--config", nargs=2, action="append", default=[],
                      metavar=("KEY", "JSON"))
    make.add_argument("--extra", action="append", default=[])
    make.add_argument("out")
    make.set_defaults(run=checkpoint)
    batches = commands.add_parser("data")
    for option in ("--vocab", "--seq", "--batch", "--steps", "--seed"):
        batches.add_argument(option, type=int, required=True)
    batches.add_argument("--ignored-labels", type=float, default=0.0,
                         metavar="F")
    batches.add_argument("--pad-tails", type=int, default=None, metavar="P")
    batches.add_argument("out")
    batches.set_defaults(run=data)
    run = commands.add_parser("train")
    run.add_argument("hf_dir")
    run.add_argument("data")
    run.add_argument("--steps", type=int, required=True)
    run.add_argument("--lr", type=float, required=True)
    run.add_argument("--weight-decay", type=float, required=True)
    run.add_argument("--adam-eps", type=float, default=1e-8)
    run.add_argument("--dtype", choices=["float64", "float32"],
                     default="float64")
    run.add_argument("--save", required=True)
    run.set_defaults(run=train)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
