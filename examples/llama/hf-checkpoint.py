#!/usr/bin/env python3
"""Hugging Face Llama-shaped checkpoints (Llama, Mistral, Qwen2/2.5, Qwen3,
Phi-3, Phi-3.5, Phi-4-mini, OLMo 2, OLMo 3, Gemma, Gemma 2, VaultGemma,
Gemma 3, StableLM,
GPT-NeoX and Pythia, Phi-1, Phi-1.5, Phi-2, Falcon, GPT-J, CodeGen,
InternLM2, StarCoder2, EXAONE 4.0, Nemotron and Minitron, Arcee AFM,
GLM-4, GLM-4-0414 and GLM-Z1, Helium, Seed-OSS, ERNIE 4.5, Persimmon, OLMo,
HunYuan dense, GPT-2 and DistilGPT2, GPT-BigCode (StarCoder, SantaCoder),
OPT, GPT-Neo; the text models of Gemma 3's, Mistral 3's, LLaVA's,
LLaVA-OneVision's, Qwen2-VL's, Qwen2.5-VL's and Qwen3-VL's multimodal
checkpoints) in and out of mp.

    hf-checkpoint.py import HF_DIR --out DIR [--untie-embeddings]
                     [--without-dropout]
    hf-checkpoint.py export TRAINED.safetensors --config HF_DIR --out DIR
                     [--dtype bf16|f16|f32]

`import` reads a LlamaForCausalLM (MistralForCausalLM, Qwen2ForCausalLM,
Qwen3ForCausalLM, Phi3ForCausalLM, Olmo2ForCausalLM, GemmaForCausalLM,
Gemma2ForCausalLM, Gemma3ForCausalLM, StableLmForCausalLM,
GPTNeoXForCausalLM, PhiForCausalLM, FalconForCausalLM, GPTJForCausalLM,
CodeGenForCausalLM, InternLM2ForCausalLM, NemotronForCausalLM,
ArceeForCausalLM, GlmForCausalLM, Glm4ForCausalLM, HeliumForCausalLM,
SeedOssForCausalLM, Ernie4_5ForCausalLM, PersimmonForCausalLM,
OlmoForCausalLM, VaultGemmaForCausalLM, HunYuanDenseV1ForCausalLM,
GPT2LMHeadModel or a GPT2Model's checkpoint, GPTBigCodeForCausalLM,
OPTForCausalLM or an OPTModel's checkpoint, GPTNeoForCausalLM or a
GPTNeoModel's checkpoint; the text model of a
Gemma3ForConditionalGeneration, Mistral3ForConditionalGeneration,
LlavaForConditionalGeneration or LlavaNextForConditionalGeneration)
directory as the Hub gives it
(config.json, and model.safetensors or model.safetensors.index.json with
its shards; F32, BF16 or F16) and writes:

  DIR/init.safetensors  every parameter in float32 (bf16 and f16 widen
                        exactly), under torchtitan's names, for
                        `mp-train --init` (mp's master weights are f32);
  DIR/gen-llama-args    the sizes of the model for examples/llama/gen-llama.py
                        (and scripts/run-llama.sh): --layers --dim --heads
                        --kv-heads --ffn-hidden --vocab --norm-eps
                        --rope-theta, and --rope-scaling for Llama 3.1's
                        scaled rotary frequencies (rope_type "llama3") or
                        --rope-linear-scaling (rope_type "linear") or
                        --longrope-short-factors, --longrope-long-factors,
                        --longrope-original-context and
                        --rope-attention-factor (rope_type "longrope")
                        or --rope-dynamic-scaling (rope_type "dynamic":
                        the factor and max_position_embeddings) or
                        --rope-yarn-scaling, --rope-yarn-no-truncate and
                        --rope-attention-factor (rope_type "yarn"),
                        and where the family has them --head-dim,
                        --rotary-dims,
                        --attention-bias, --mlp-bias, --qk-norm,
                        --qk-norm-after-rope, --post-norm,
                        --sliding-window, --window-from-layer
                        or --window-layers, --mlp-activation,
                        --norm-weight-offset, --scale-embeddings,
                        --sandwich-norm, --attention-softcap,
                        --final-softcap, --query-pre-attn-scalar,
                        --local-rope-theta, --clip-qkv, --layer-norm,
                        --plain-mlp, --learned-positions,
                        --positions-offset, --norm-after-residual,
                        --no-final-norm, --embedding-dim,
                        --parallel-block, --output-bias, on one line.

`scripts/run-llama.sh --hf HF_DIR` runs it and trains from the result.

The names map as Meta's checkpoints and torchtitan name them
(model.layers.N.self_attn.q_proj.weight -> layers.N.attention.wq.weight,
mlp.gate_proj / up_proj / down_proj -> feed_forward.w1 / w3 / w2,
input_layernorm / post_attention_layernorm -> attention_norm / ffn_norm,
model.embed_tokens -> tok_embeddings, lm_head -> output). The rotary
embedding pairs differ: Hugging Face rotates entry i of a head with entry
i + head_dim/2 (rotate_half), Meta, torchtitan and mp.rope entries 2i and
2i + 1, and Hugging Face's conversion script (convert_llama_weights_to_hf.py,
`permute`) reorders the rows of q_proj and k_proj within each head so that
the same model computes the same values. `import` undoes that permutation,
`export` applies it again, so q and k rotate as they did; q_proj's and
k_proj's biases (Qwen2) and the q_norm/k_norm weights (Qwen3, one head's
entries; StableLM 2 12B, every head's) are in the same order and
reordered alike.

The families differ where their modeling files do: Qwen2's q, k and v
always have biases; Llama's and Qwen3's attention_bias puts one on all four
attention linears, Llama's mlp_bias on the MLP's; Qwen3 has q_norm/k_norm
(RMSNorm of each head before the rotation) and a head_dim of its own;
OLMo 2 norms the whole q and k projections (q_norm [heads * head_dim],
k_norm [kv_heads * head_dim], their entries in rotate_half's order head by
head) and puts the layer's norms on its sublayers' outputs
(post_attention_layernorm and post_feedforward_layernorm, mp's
attention_norm and ffn_norm: gen-llama.py --post-norm) with none on their
inputs, and OLMo 3 windows all but every fourth layer (layer_types;
sliding_window 4096 by default), whose windowed layers rotate unscaled by
rope_theta (--local-rope-theta) while the others take the config's rope
scaling; StableLM (StableLM 2 1.6B, StableLM 3B, StableLM 2 12B) norms
with LayerNorms (weights and biases, layer_norm_eps: gen-llama.py
--layer-norm), has q, k and v biases where use_qkv_bias says so and
rotates the first quarter of each head (partial_rotary_factor, 0.25 by
default); StableLM 2 12B runs its attention and MLP side by side on
input_layernorm's output (use_parallel_residual: --parallel-block shared)
and norms each query and key head by a LayerNorm of its own without bias
(qk_layernorm: q_layernorm.norms.H.weight, one tensor per head, stacked
into mp's attention.q_norm.weight [heads, head_dim] and split again by
export; --qk-norm each-head);
Mistral and Phi-3 (and Qwen with use_sliding_window) attend over a
sliding window. Phi-3 fuses its projections: qkv_proj's rows are q_proj's,
k_proj's and v_proj's one after the other, gate_up_proj's gate_proj's then
up_proj's; `import` splits them into mp's separate linears (so that the
plan splits each over tensor_parallel as it splits Llama's), `export`
joins them again. Gemma's norms scale by 1 + weight (GemmaRMSNorm: mp.rms_norm
weight_offset 1, gen-llama.py --norm-weight-offset 1; the weights go across
as they are, and weight decay pulls them towards a scale of 1 as in
Hugging Face's model), its embeddings are multiplied by sqrt(hidden_size)
(--scale-embeddings), its MLP is GeGLU with the tanh-approximated GELU
(hidden_activation gelu_pytorch_tanh, which configuration_gemma.py says
overrides the legacy hidden_act; --mlp-activation gelu-tanh), and its
embeddings are tied unless the config says otherwise; where a config
leaves them out, the Gemmas' rms_norm_eps is 1e-6 and their key-value
heads their config classes' (GemmaConfig's 16, Gemma2Config's and
Gemma3TextConfig's 4). Gemma 2 adds norms
on its sublayers' outputs (post_attention_layernorm and
post_feedforward_layernorm: mp's post_attention_norm and post_ffn_norm;
pre_feedforward_layernorm is mp's ffn_norm), scales its scores by
query_pre_attn_scalar ** -0.5, soft-caps its scores and logits
(attn_logit_softcapping, final_logit_softcapping) and windows every other
layer; VaultGemma (google/vaultgemma-1b) is Gemma 2 without the norms on
its sublayers' outputs (input_layernorm and pre_feedforward_layernorm
only: mp's attention_norm and ffn_norm) and with VaultGemmaConfig's (Gemma
2's) defaults, 4 key-value heads among them; Gemma 3's text model
(gemma3_text) drops the caps, norms each query and key head (q_norm,
k_norm) and windows all but every sixth layer
(sliding_window_pattern), whose rotary base is rope_local_base_freq.
Granite (IBM Granite 3) is Llama's block with four constants from its
config: the embeddings times embedding_multiplier, each sublayer's output
times residual_multiplier before its residual add, the scores times
attention_multiplier (not 1/sqrt(head_dim)) and the logits divided by
logits_scaling (gen-llama.py's options of those names). Cohere (Command-R,
Aya) runs Phi's block (the attention and the MLP side by side on one
input_layernorm) with a SwiGLU MLP, LayerNorms without biases
(CohereLayerNorm), no biases elsewhere unless attention_bias, pairs (2i,
2i + 1) rotating as GPT-J's and mp.rope's (its rows stay in their order),
tied embeddings and the logits times logit_scale; Command-R+ (use_qk_norm)
norms each query and key head by a LayerNorm without bias whose weights
are the head's own (q_norm.weight [heads, head_dim], k_norm.weight
[kv_heads, head_dim]: --qk-norm each-head). Cohere 2
(Command R7B, Command A) windows all but every fourth layer
(sliding_window_pattern, or layer_types) and rotates q and k in the
windowed layers only: its global layers have no positional embedding
(gen-llama.py --nope-layers). SmolLM3 is Llama's block (tied by default)
whose q and k are not rotated in the layers no_rope_layers marks 0 (every
fourth, no_rope_layer_interval, where the config has no list).
A multimodal model (model_type gemma3: Gemma 3 4B, 12B, 27B, whose
global layers scale their frequencies linearly, rope_scaling linear
factor 8; mistral3: Mistral Small 3.1 and 3.2; llava, llava_next,
llava_onevision) is its text model on text: `import` reads text_config
over the defaults of its config class (Gemma3TextConfig, MistralConfig,
LlamaConfig, Qwen2Config: the Hub's
configs give only what differs from them) and the text tensors under
language_model.model. (the Hub's) or model.language_model. (newer
save_pretrained); the vision tower and projector stay behind, and
`export` writes them back as they were beside the trained text tensors.
Qwen2-VL and Qwen2.5-VL (qwen2_vl, qwen2_5_vl) are Qwen2s on text: their
Hub configs are flat (the text model's fields at the top, read over
Qwen2VLTextConfig's defaults; newer ones nest them in a text_config),
their Hub checkpoints keep the text tensors where a Qwen2's are (model.,
lm_head.; the vision tower under visual.), and their rope_scaling
"mrope" rotates text as the default rotation does (a text token's three
position ids are one; Qwen2VLTextConfig makes it "default" itself).
Qwen3-VL (qwen3_vl) is a Qwen3 on text (its text_config over
Qwen3VLTextConfig's defaults, its interleaved mrope likewise the default
rotation, its deepstack acting on image tokens only).

`export` writes a trained checkpoint (mp-train --save, or mp-ckpt
consolidate) back as DIR/model.safetensors under Hugging Face's names (and
a custom-code model's modules that its config's auto_map names, copied
from the source), in
--dtype (default: the source config's torch_dtype; bf16 and f16 round to
nearest even), with DIR/config.json the source's with torch_dtype set (and
tie_word_embeddings false for a model imported with --untie-embeddings).

The embedding's row pad_token_id (the config's, or its config class's:
Phi-3's 32000, OLMo 2's and OLMo 3's 1, Gemma's, Cohere's and InternLM2's 0,
SmolLM3's 128004;
none in GPT-NeoX, Falcon, GPT-J and CodeGen, whose embeddings take no
padding_idx) gets no gradient from the tokens equal to it, as
nn.Embedding's padding_idx (gen-llama.py --padding-idx); a pad_token_id
that is no row of the embedding is refused, as nn.Embedding refuses it.

EXAONE 4.0 is Llama's names with Qwen3's q_norm and k_norm of each head
and OLMo 2's norms after the sublayers, a window in all but every
sliding_window_pattern-th layer (layer_types; a string pattern is read
from the layer_types a config lists) and, where its config has a window,
no positional embedding in the global layers (--nope-layers).

Nemotron (Nemotron-4, Minitron, Nemotron-Mini) is Llama's layer with
LayerNorm1P (a LayerNorm with a bias scaling by weight + 1: --layer-norm
--norm-weight-offset 1, norm_eps), a plain MLP mlp.up_proj and
mlp.down_proj (--plain-mlp) with the squared ReLU relu2
(--mlp-activation relu2), biases on all four attention linears where
attention_bias and on the MLP's where mlp_bias, and half of each head
rotating (partial_rotary_factor, 0.5 by default; vLLM's rope_percent,
rope_percentage and kv_channels, which transformers does not read, are
refused where they say otherwise); transformers 4.x's rotary embedding
rotates by the default frequencies whatever the config says, so rope
scaling is refused.
Arcee (AFM-4.5B) is Llama's block with Nemotron's MLP (relu2 by
default).

GLM (glm: GLM-4-9B as transformers ports it) is Llama's block with q, k
and v biases where attention_bias (as by default; none on o_proj),
Phi-3's gate_up_proj (its gate's rows, then up's), and the first half of
each head (partial_rotary_factor 0.5) rotating as pairs (2i, 2i + 1), as
GPT-J's and mp.rope do (its q and k rows stay in their order);
GlmConfig's head_dim 128, 2 key-value heads, rms_norm_eps 1.5625e-07 and
pad_token_id 151329 where a config does not say. GLM-4-0414 and GLM-Z1
(glm4) add a norm after each sublayer, Gemma 2's sandwich
(post_self_attn_layernorm and post_mlp_layernorm are mp's
post_attention_norm and post_ffn_norm; post_attention_layernorm keeps
Llama's place before the MLP).

Helium (Kyutai's helium-1) is Llama's block rotating every head's pairs
(2i, 2i + 1) as GLM does, q, k and v biases where attention_bias (none on
o_proj, which is hidden_size x hidden_size: heads x head_dim must be
hidden_size), and HeliumConfig's defaults: head_dim 128, 20 key-value
heads, rms_norm_eps 1e-8, rope_theta 1e5, pad_token_id 3. Seed-OSS is
Llama's block with q, k and v biases unless attention_bias is false, an
o_proj bias where attention_out_bias (o_proj's alone is refused:
gen-llama.py biases q, k and v, or all four), and SeedOssConfig's
defaults: head_dim 128, 8 key-value heads, rms_norm_eps 1e-6,
pad_token_id 1, and dropout 0.1 in the attention and
after each sublayer (attention_dropout, residual_dropout) where a config
does not say otherwise: refused, or trained without under
--without-dropout. ERNIE 4.5 (ernie4_5: its dense 0.3B) is Llama's block
rotating every head's pairs as GLM does, biases on every linear where
use_bias, tied embeddings unless the config unties them, and
Ernie4_5Config's defaults: head_dim 128, 2 key-value heads, rms_norm_eps
1e-5, rope_theta 5e5, pad_token_id 0. HunYuan dense (hunyuan_v1_dense:
Tencent's Hunyuan-0.5B to 7B) is Llama's block with an RMSNorm of each
query and key head after the rotation (query_layernorm, key_layernorm:
--qk-norm --qk-norm-after-rope), biases on the attention's four linears
where attention_bias and none on the MLP whatever mlp_bias says, and the
NTK alpha of its rotary embedding (rope_scaling {"type": "dynamic",
"alpha": A}): one base, rope_theta * A ** (head_dim / (head_dim - 2)),
whatever the factor (past max_position_embeddings Hugging Face switches to
dynamic NTK scaling by the factor; mp keeps the alpha's base); a config
without head_dim is refused (HunYuan reads config.head_dim, which has no
default); HunYuanDenseV1Config's rms_norm_eps 1e-5, pad_token_id 0 and
untied embeddings.

Persimmon (Adept's persimmon-8b) is GPT-NeoX's sequential block
(use_parallel_residual false): q, k and v in one query_key_value laid out
head by head as GPT-NeoX's, biases on every linear but lm_head, a plain
MLP (dense_h_to_4h, dense_4h_to_h) with relu2, LayerNorms
(model.final_layernorm), half of each head rotating at base 25000
(PersimmonConfig's defaults), and qk_layernorm (true by default): one
LayerNorm with a bias over each query head and one over each key head,
shared by the heads (self_attn.q_layernorm and k_layernorm: gen-llama.py
--layer-norm --qk-norm head). Phi's qk_layernorm is the same.

OLMo (AI2's first OLMo: OLMo-1B-hf, OLMo-7B-hf) is Llama's block whose
norms are LayerNorms with neither weight nor bias (OlmoLayerNorm,
F.layer_norm(x, None, None) at eps 1e-5 whatever the config says:
gen-llama.py --no-norm-weights), with the attention's biases where
attention_bias, none on the MLP, OlmoConfig's pad_token_id 1, and
clip_qkv where a config sets it (OLMo-7B-0424-hf's 8: q, k and v clamped
to [-clip_qkv, clip_qkv] after their projections, gen-llama.py
--clip-qkv).

StarCoder2 is Mistral's layer (its sliding_window in every layer) with
LayerNorms (norm_epsilon), biases on every linear where use_bias (as by
default), a plain MLP mlp.c_fc and mlp.c_proj (--plain-mlp) with
gelu_pytorch_tanh, tied embeddings unless the config says otherwise
(PretrainedConfig's default), and dropout fields of its own
(residual_dropout, embedding_dropout).

Tied embeddings (tie_word_embeddings: Llama 3.2's and the small Qwen
models) stay tied: the model reads tok_embeddings.weight as its output
projection too (gen-llama.py --tie-embeddings), its two gradients summed,
and export writes no lm_head.weight. --untie-embeddings starts
output.weight as a copy of the embedding instead, and the two train apart
(the first forward pass is the tied model's, the training another
model's).

GPT-NeoX (Pythia) and Phi (Phi-1, 1.5, 2) put the attention and the MLP
side by side on the layer's input (gen-llama.py --parallel-block: GPT-NeoX
each through its LayerNorm where use_parallel_residual, as by default,
Phi both through one), with plain MLPs (--plain-mlp: dense_h_to_4h and
dense_4h_to_h, fc1 and fc2 -> feed_forward.w1 and w2) and biases on every
linear (Phi's lm_head too: --output-bias), LayerNorms, and part of each
head rotating (GPT-NeoX's rotary_pct, Phi's partial_rotary_factor).
GPT-NeoX's q, k and v are one linear, query_key_value, whose rows hold
each head's q, k and v rows in turn: `import` splits it head by head into
mp's linears, `export` interleaves them again; its names are
gpt_neox.embed_in, gpt_neox.layers.N.attention.dense, mlp.dense_h_to_4h,
gpt_neox.final_layer_norm and embed_out, Phi's self_attn.dense, mlp.fc1,
mlp.fc2 and model.final_layernorm. The buffers older GPT-NeoX conversions
saved (attention.bias, attention.masked_bias) are passed over. Falcon
(Falcon-7B, 40B, 180B, Falcon 2) is GPT-NeoX's block and linears under
FalconConfig's names (transformer.word_embeddings, transformer.h.N,
self_attention.query_key_value and dense, transformer.ln_f; n_embed for
hidden_size; the custom-code configs' n_head, n_layer and n_head_kv
refused): its new decoder architecture's
ln_attn and ln_mlp side by side (one input_layernorm where
num_ln_in_parallel_attn is 1), the old one's one input_layernorm where
parallel_attn; query_key_value holds per key-value head its queries'
rows, then its key's and value's (num_kv_heads heads in the new
architecture, one where multi_query, every head otherwise); biases where
bias; ffn_hidden_size (4 x hidden_size by default), activation; tied
embeddings by default; where alibi (Falcon-RW, the old architecture),
ALiBi in place of the rotation: BLOOM's slopes, the bias computed in
bfloat16 and added before the scaling (gen-llama.py --alibi
--falcon-alibi). GPT-J is Phi-2's block without
attention biases (transformer.wte, transformer.h.N.ln_1, attn.q_proj,
k_proj, v_proj, out_proj, mlp.fc_in, fc_out, transformer.ln_f, lm_head
with a bias; GPTJConfig's n_embd, n_layer, n_head, n_inner), rotating
rotary_dim entries of each head at base 10000 as pairs (2i, 2i + 1), as
mp.rope does: its q and k rows are imported in their order. CodeGen
(CodeGen-350M/2B/6B/16B mono, multi, nl) is GPT-J's block (CodeGenConfig's
names and defaults) with q, k and v in one linear, attn.qkv_proj, laid out
for the four TPU cores it was trained on (CodeGenAttention's mp_num = 4):
its rows are four groups, each a quarter of the heads' queries, then their
values, then their keys (n_head a multiple of 4). InternLM2
(InternLM2, InternLM2.5; custom code) is Llama's block under torchtitan's
names (model.tok_embeddings, attention.wo, feed_forward.w1/w2/w3,
attention_norm, ffn_norm, output) with q, k and v in one linear,
attention.wqkv, laid out as Falcon's query_key_value (per key-value head
its queries' rows, then its key's and value's), biases on wqkv and wo
where bias (InternLM2Config's default, off in the released models), and
rope_scaling {"type": "dynamic" or "linear", "factor"}. GPT-2 (gpt2 to
gpt2-xl, DistilGPT2; GPT2Config's names and defaults: n_embd, n_layer,
n_head, n_inner 4 x n_embd where null, n_positions 1024,
layer_norm_epsilon, activation_function gelu_new, tied) rotates nothing:
its learned positions, transformer.wpe, are mp's pos_embeddings
(gen-llama.py --learned-positions: rows 0 .. seq-1 added to the token
embeddings); its layers are pre-norm (ln_1, ln_2) with biases on every
linear, and its linears are Conv1Ds, their weights stored [in, out]:
import transposes them (attn.c_attn's columns are q's, k's and v's rows),
export transposes them back. A GPT2Model's checkpoint (the Hub's gpt2:
wte.weight, h.N...., no transformer. prefix) is read too; export writes
GPT2LMHeadModel's names. Its attention buffers (attn.bias,
attn.masked_bias) are passed over; scale_attn_weights false,
scale_attn_by_inverse_layer_idx and add_cross_attention are refused.
GPT-BigCode (StarCoder, StarCoderBase, SantaCoder; GPTBigCodeConfig's
names and defaults, GPT-2's with gelu_pytorch_tanh) is GPT-2's block with
nn.Linears and multi-query attention where multi_query, as by default:
attn.c_attn's rows are the queries, then one key head and one value head
(--kv-heads 1); without it, each head's q, k and v rows in turn.
OPT (facebook/opt-125m to opt-66b; OPTConfig's names and defaults:
ffn_dim, max_position_embeddings 2048, activation_function relu,
enable_bias, layer_norm_elementwise_affine, pad_token_id 1 as the
embedding's padding_idx, tied) rotates nothing either: its table,
model.decoder.embed_positions, has max_position_embeddings + 2 rows, read
from row 2 on (OPTLearnedPositionalEmbedding's offset: gen-llama.py
--positions-offset 2, mp.iota start 2: Hugging Face's positions, which
count the attention mask's ones, where no sequence is left-padded, as
mp's batches are not); its layers norm each sublayer's
input (self_attn_layer_norm, final_layer_norm: nn.LayerNorms at eps 1e-5)
with q_proj, k_proj, v_proj, out_proj, fc1 and fc2, then the decoder's
final_layer_norm (none where _remove_final_layer_norm). opt-350m's
(do_layer_norm_before false) norm after each residual add, with no final
norm (--norm-after-residual --no-final-norm), and its embeddings,
word_embed_proj_dim wide, go through project_in and project_out
(--embedding-dim). An OPTModel's checkpoint (the Hub's facebook/opt-*:
decoder.embed_tokens.weight, ..., no model. prefix) is read too; export
writes OPTForCausalLM's names. layerdrop is refused with the dropouts.
GPT-Neo (gpt-neo-125m, 1.3B, 2.7B; GPTNeoConfig's names and defaults:
num_layers, num_heads, intermediate_size 4 x hidden_size where null,
layer_norm_epsilon, activation_function gelu_new, tied) is GPT-2's
block with learned positions (transformer.wpe) and nn.Linears: q_proj,
k_proj and v_proj without biases, out_proj with one (--attention-bias
out), mlp.c_fc and c_proj; its scores are not scaled (Granite's
--attention-multiplier 1), and its layers attend globally or, where
attention_types says "local" (every other layer by default), to a window
of window_size positions (--sliding-window, --window-layers: its mask
keeps the keys after q_idx - window_size, as mp.softmax's window does). A
GPTNeoModel's checkpoint (no transformer. prefix) is read too; the
attention's saved mask buffers are passed over; resid_dropout and
embed_dropout are refused with the dropouts.
BLOOM (bigscience/bloom-560m to bloom, BLOOMZ; BloomConfig's names and
defaults: n_layer, n_head, n_embed, layer_norm_epsilon, tied) rotates
nothing and has no position table: each layer adds ALiBi's bias, a slope
per head times the key position, to its scores scaled by 1/sqrt(head_dim)
(BLOOM's build_alibi_tensor at max bias 8: gen-llama.py --alibi,
mp.alibi_slopes and mp.alibi). Its embeddings go through
word_embeddings_layernorm (--embedding-norm) before the first layer;
its blocks are Falcon's sequential ones (transformer.h.N.input_layernorm,
self_attention.query_key_value holding each head's q, k and v rows in turn
as GPT-NeoX's, self_attention.dense, post_attention_layernorm,
mlp.dense_h_to_4h and dense_4h_to_h, 4 x hidden_size, with BloomGelu's
tanh approximation), biases on every linear, nn.LayerNorms, transformer.ln_f
and lm_head tied. A BloomModel's checkpoint (the Hub's bloom-*:
word_embeddings.weight, h.N...., no transformer. prefix) is read too;
export writes BloomForCausalLM's names. hidden_dropout and
attention_dropout are refused with the dropouts (0 in BloomConfig);
apply_residual_connection_post_layernorm and slow_but_exact with
pretraining_tp above 1 are refused. mp-fuse-attention moves the bias
into mp.attention (alibi).
MPT (mosaicml/mpt-7b, mpt-30b; MptConfig's names and defaults: d_model,
n_heads, n_layers, layer_norm_epsilon, attn_config) is read as
transformers' MptForCausalLM computes it: BLOOM's ALiBi at max bias 8
(MPT's bias counts the keys back from the last, which shifts each row by
a constant the softmax cancels), LayerNorms without biases
(transformer.blocks.N.norm_1 and norm_2, transformer.norm_f:
--no-norm-bias), q, k and v rows in turn in one linear, attn.Wqkv (as
Phi-3's qkv_proj), attn.out_proj, ffn.up_proj and down_proj 4 x d_model
wide with exact GELU, no biases, transformer.wte tied;
attn_config's softmax_scale (--attention-multiplier) and clip_qkv
(--clip-qkv) where given. What MosaicML's own model computes otherwise is
refused (expansion_ratio other than 4, no_bias false, logit_scale;
attn_config's alibi false, alibi_bias_max other than 8, qk_ln,
multi-query attention, prefix_lm, sequence ids), and so are
attn_config's attn_pdrop and emb_pdrop with the dropouts. An MptModel's
checkpoint (no transformer. prefix) is read too.

Phi-4-mini rotates 3/4 of each head (partial_rotary_factor: gen-llama.py
--rotary-dims; the permutation above reorders the rotated rows of each head
only), and Phi-3.5 and Phi-4-mini scale their frequencies by longrope
(rope_scaling longrope: short and long factors per rotated pair, the long
ones for sequences above original_max_position_embeddings, and an attention
factor on cos and sin; gen-llama.py picks the factors by --seq).

Refused, each with a message saying why: model_types other than those
(Gemma 3n's gemma3n among them), multimodal models whose text model is
another (a LLaVA over Qwen3), rope scaling other than Llama 3.1's
"llama3", "linear", "longrope", "dynamic" and "yarn" (transformers
5's: the factor as given) and any in Gemma 3's windowed layers, a rotary
embedding over part of each head in the families whose modeling files
rotate all of it,
an odd head_dim,
dropout (attention_dropout, Phi's and Phi-3's resid_pdrop and embd_pdrop,
GPT-J's, CodeGen's, GPT-2's and GPT-BigCode's attn_pdrop, resid_pdrop and
embd_pdrop, 0.1 by default in GPT-2's and GPT-BigCode's, GPT-NeoX's
hidden_dropout, StarCoder2's residual_dropout and
embedding_dropout, OPT's dropout (0.1 by default) and layerdrop,
GPT-Neo's resid_dropout and embed_dropout: mp trains without dropout; --without-dropout
trains so, saying it on stderr), activations other than silu, gelu and
the tanh approximations (gelu_pytorch_tanh, gelu_new, gelu_fast), relu
and relu2, Nemotron's rope scaling, OLMo's clip_qkv, tensors the model
does not have or missing ones, and
pytorch_model.bin checkpoints (safetensors only).

Tensors are read through a memory map and written one at a time, so an 8B
checkpoint converts in about one tensor's float32 memory beyond the page
cache.
"""

import argparse
import json
import math
import mmap
import os
import shutil
import struct
import sys
from collections import namedtuple

import numpy as np

# The model_types whose models gen-llama.py writes (their differences are
# its options).
FAMILIES = ("llama", "mistral", "qwen2", "qwen3", "phi3", "olmo2", "olmo3",
            "gemma", "gemma2", "gemma3_text", "stablelm", "gpt_neox", "phi",
            "falcon", "gptj", "granite", "cohere", "cohere2", "smollm3",
            "internlm2", "starcoder2", "exaone4", "nemotron", "arcee", "glm",
            "glm4", "helium", "seed_oss", "ernie4_5", "persimmon", "olmo",
            "vaultgemma", "codegen", "hunyuan_v1_dense", "gpt2",
            "gpt_bigcode", "opt", "gpt_neo", "bloom", "mpt")

# GPT-2's block: GPT-BigCode's is GPT-2's with nn.Linears and multi-query
# attention.
GPT2_BLOCKS = ("gpt2", "gpt_bigcode")
# The families whose learned position table replaces the rotation.
LEARNED_POSITIONS = GPT2_BLOCKS + ("opt", "gpt_neo")
# OPTLearnedPositionalEmbedding's offset: its rows 0 and 1 read by no
# position of an unpadded sequence.
OPT_POSITIONS_OFFSET = 2

# GPT-J's block: CodeGen's is GPT-J's with q, k and v in one linear, its
# rows in CODEGEN_QKV_GROUPS groups (CodeGenAttention's mp_num).
GPTJ_BLOCKS = ("gptj", "codegen")
CODEGEN_QKV_GROUPS = 4

# The config classes' defaults where a config leaves a field out (and
# LlamaConfig's does not serve): num_key_value_heads, head_dim,
# rms_norm_eps and the rotary base.
KV_HEADS_DEFAULTS = {"starcoder2": 2, "exaone4": 32, "glm": 2, "glm4": 2,
                     "helium": 20, "seed_oss": 8, "ernie4_5": 2, "gemma2": 4,
                     "vaultgemma": 4, "gemma": 16, "gemma3_text": 4}
HEAD_DIM_DEFAULTS = {"gemma": 256, "gemma2": 256, "gemma3_text": 256,
                     "vaultgemma": 256,
                     "glm": 128, "glm4": 128, "helium": 128, "seed_oss": 128,
                     "ernie4_5": 128}
RMS_NORM_EPS_DEFAULTS = {"glm": 1.5625e-07, "glm4": 1.5625e-07,
                         "helium": 1e-8, "seed_oss": 1e-6, "ernie4_5": 1e-5,
                         "vaultgemma": 1e-6, "gemma": 1e-6, "gemma2": 1e-6,
                         "gemma3_text": 1e-6, "hunyuan_v1_dense": 1e-5}
ROPE_THETA_DEFAULTS = {"smollm3": 2e6, "olmo3": 5e5, "gemma3_text": 1e6,
                       "helium": 1e5, "ernie4_5": 5e5, "persimmon": 25000.0}
# Dropout the config classes default to (SeedOssConfig's attention and
# residual dropout).
DROPOUT_DEFAULTS = {"seed_oss": {"attention_dropout": 0.1,
                                 "residual_dropout": 0.1},
                    **{family: {"resid_pdrop": 0.1, "embd_pdrop": 0.1,
                                "attn_pdrop": 0.1} for family in GPT2_BLOCKS},
                    "opt": {"dropout": 0.1}}
# The families that rotate pairs (2i, 2i + 1) as mp.rope does (GPT-J's
# rotate_every_two, Cohere's, GLM's, Helium's and ERNIE 4.5's interleaved
# rotate_half): their q and k rows stay in their order.
PAIR_ROTATING = GPTJ_BLOCKS + ("cohere", "cohere2", "glm", "glm4", "helium",
                               "ernie4_5")

# Hugging Face's names of mp's modules where a family's modeling file
# names them otherwise than Llama's: the embedding, the layers' prefix,
# each layer's linears (Phi-3's q, k and v are one, qkv_proj, and its gate
# and up, gate_up_proj; GPT-NeoX's and Falcon's q, k and v,
# query_key_value),
# the final norm and the output projection.
LLAMA_NAMES = {
    "tok_embeddings": "model.embed_tokens", "layers": "model.layers.",
    "attention.wq": "self_attn.q_proj", "attention.wk": "self_attn.k_proj",
    "attention.wv": "self_attn.v_proj", "attention.wo": "self_attn.o_proj",
    "feed_forward.w1": "mlp.gate_proj", "feed_forward.w2": "mlp.down_proj",
    "feed_forward.w3": "mlp.up_proj", "norm": "model.norm",
    "output": "lm_head"}


def fused_qkv_names(attention):
    """GPT-NeoX's and Falcon's layer: q, k and v in one linear,
    `<attention>.query_key_value`, its output `<attention>.dense`, the
    MLP's dense_h_to_4h and dense_4h_to_h."""
    return {"attention.wq": attention + ".query_key_value",
            "attention.wk": attention + ".query_key_value",
            "attention.wv": attention + ".query_key_value",
            "attention.wo": attention + ".dense",
            "feed_forward.w1": "mlp.dense_h_to_4h",
            "feed_forward.w2": "mlp.dense_4h_to_h"}


HF_NAMES = {
    "phi3": dict(LLAMA_NAMES, **{
        "attention.wq": "self_attn.qkv_proj",
        "attention.wk": "self_attn.qkv_proj",
        "attention.wv": "self_attn.qkv_proj",
        "feed_forward.w1": "mlp.gate_up_proj",
        "feed_forward.w3": "mlp.gate_up_proj"}),
    "gpt_neox": dict(
        LLAMA_NAMES, **fused_qkv_names("attention"),
        tok_embeddings="gpt_neox.embed_in", layers="gpt_neox.layers.",
        norm="gpt_neox.final_layer_norm", output="embed_out"),
    "falcon": dict(
        LLAMA_NAMES, **fused_qkv_names("self_attention"),
        tok_embeddings="transformer.word_embeddings",
        layers="transformer.h.", norm="transformer.ln_f"),
    "gptj": dict(
        LLAMA_NAMES, tok_embeddings="transformer.wte", layers="transformer.h.",
        **{"attention.wq": "attn.q_proj", "attention.wk": "attn.k_proj",
           "attention.wv": "attn.v_proj", "attention.wo": "attn.out_proj",
           "feed_forward.w1": "mlp.fc_in", "feed_forward.w2": "mlp.fc_out"},
        norm="transformer.ln_f"),
    # InternLM2's layer keeps torchtitan's names; q, k and v are one
    # linear, wqkv, laid out as Falcon's query_key_value.
    "internlm2": dict(
        LLAMA_NAMES, tok_embeddings="model.tok_embeddings", output="output",
        **{name: name for name in (
            "attention.wo", "feed_forward.w1", "feed_forward.w2",
            "feed_forward.w3")},
        **{name: "attention.wqkv" for name in (
            "attention.wq", "attention.wk", "attention.wv")}),
    "phi": dict(LLAMA_NAMES, norm="model.final_layernorm",
                **{"attention.wo": "self_attn.dense",
                   "feed_forward.w1": "mlp.fc1",
                   "feed_forward.w2": "mlp.fc2"}),
    "starcoder2": dict(LLAMA_NAMES, **{"feed_forward.w1": "mlp.c_fc",
                                       "feed_forward.w2": "mlp.c_proj"}),
    "persimmon": dict(LLAMA_NAMES, **fused_qkv_names("self_attn"),
                      norm="model.final_layernorm")}
# Nemotron's and Arcee's plain MLP: up_proj, then down_proj.
HF_NAMES["nemotron"] = HF_NAMES["arcee"] = dict(LLAMA_NAMES, **{
    "feed_forward.w1": "mlp.up_proj", "feed_forward.w2": "mlp.down_proj"})
# GLM's gate and up are Phi-3's gate_up_proj.
HF_NAMES["glm"] = HF_NAMES["glm4"] = dict(LLAMA_NAMES, **{
    "feed_forward.w1": "mlp.gate_up_proj",
    "feed_forward.w3": "mlp.gate_up_proj"})
# CodeGen's q, k and v: GPT-J's, in one qkv_proj.
HF_NAMES["codegen"] = dict(HF_NAMES["gptj"], **{
    name: "attn.qkv_proj"
    for name in ("attention.wq", "attention.wk", "attention.wv")})
# GPT-2's Conv1Ds: q, k and v in attn.c_attn.
HF_NAMES["gpt2"] = dict(
    HF_NAMES["gptj"], pos_embeddings="transformer.wpe",
    **{name: "attn.c_attn"
       for name in ("attention.wq", "attention.wk", "attention.wv")},
    **{"attention.wo": "attn.c_proj", "feed_forward.w1": "mlp.c_fc",
       "feed_forward.w2": "mlp.c_proj"})
HF_NAMES["gpt_bigcode"] = HF_NAMES["gpt2"]
# GPT-Neo's: GPT-J's layout, its attention one level down
# (attn.attention), its MLP GPT-2's c_fc and c_proj.
HF_NAMES["gpt_neo"] = dict(
    HF_NAMES["gptj"], pos_embeddings="transformer.wpe",
    **{"attention.wq": "attn.attention.q_proj",
       "attention.wk": "attn.attention.k_proj",
       "attention.wv": "attn.attention.v_proj",
       "attention.wo": "attn.attention.out_proj",
       "feed_forward.w1": "mlp.c_fc", "feed_forward.w2": "mlp.c_proj"})
HF_NAMES["opt"] = dict(
    LLAMA_NAMES, tok_embeddings="model.decoder.embed_tokens",
    pos_embeddings="model.decoder.embed_positions",
    layers="model.decoder.layers.", norm="model.decoder.final_layer_norm",
    project_in="model.decoder.project_in",
    project_out="model.decoder.project_out",
    **{"attention.wo": "self_attn.out_proj", "feed_forward.w1": "fc1",
       "feed_forward.w2": "fc2"})
# BLOOM's: Falcon's names (Falcon's block is BLOOM's), and the
# embeddings' LayerNorm.
HF_NAMES["bloom"] = dict(
    HF_NAMES["falcon"],
    embedding_norm="transformer.word_embeddings_layernorm")
# MPT's: its q, k and v rows in turn in one linear, attn.Wqkv.
HF_NAMES["mpt"] = dict(
    LLAMA_NAMES, tok_embeddings="transformer.wte",
    layers="transformer.blocks.", norm="transformer.norm_f",
    **{name: "attn.Wqkv"
       for name in ("attention.wq", "attention.wk", "attention.wv")},
    **{"attention.wo": "attn.out_proj", "feed_forward.w1": "ffn.up_proj",
       "feed_forward.w2": "ffn.down_proj"})
# A GPT2Model's checkpoint (the Hub's gpt2) names its tensors without
# GPT2LMHeadModel's transformer. prefix, an OPTModel's (the Hub's
# facebook/opt-*) without OPTForCausalLM's model. prefix.
BASE_MODEL_PREFIXES = {"gpt2": "transformer.", "gpt_neo": "transformer.",
                       "opt": "model.", "bloom": "transformer.",
                       "mpt": "transformer."}
BASE_MODEL_LAYOUT = ("", "lm_head.")

# The multimodal models whose text model mp trains (on text alone each is
# its text model: the vision tower and projector act only on images), and
# the text model's model_type where their text_config does not say it
# (Gemma 3's is always gemma3_text; LLaVA-OneVision's is a Qwen2).
MULTIMODAL = {"gemma3": "gemma3_text", "mistral3": "mistral",
              "llava": "llama", "llava_next": "llama",
              "llava_onevision": "qwen2", "qwen2_vl": "qwen2_vl_text",
              "qwen2_5_vl": "qwen2_5_vl_text", "qwen3_vl": "qwen3_vl_text"}

# Text config classes of their own and the family whose model they are:
# Qwen2-VL's and Qwen2.5-VL's text models are Qwen2's and Qwen3-VL's a
# Qwen3's (their mrope, interleaved in Qwen3-VL, rotates text as the
# default rotation does: the three position ids of a text token are one;
# Qwen3-VL's deepstack adds visual features to image tokens only), under
# their own config classes' defaults. Qwen2-VL's Hub configs are flat: the
# text model's fields at the top (Qwen2VLConfig reads its text_config
# from them where it has none).
TEXT_CLASSES = {"qwen2_vl_text": "qwen2", "qwen2_5_vl_text": "qwen2",
                "qwen3_vl_text": "qwen3"}

# The defaults of the text models' config classes (transformers'
# LlamaConfig, MistralConfig, Qwen2Config, Gemma3TextConfig): a multimodal
# config.json
# holds its text model's config as text_config with only the fields that
# differ from them, as save_pretrained writes a nested config (Gemma 3 4B's
# says neither its heads nor its vocabulary, LLaVA 1.5's not even its
# hidden size).
TEXT_DEFAULTS = {
    "llama": {
        "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
        "num_hidden_layers": 32, "num_attention_heads": 32,
        "hidden_act": "silu", "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False, "rope_theta": 10000.0,
        "rope_scaling": None, "attention_bias": False,
        "attention_dropout": 0.0, "mlp_bias": False},
    "mistral": {
        "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 8, "hidden_act": "silu", "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False, "rope_theta": 10000.0,
        "sliding_window": 4096, "attention_dropout": 0.0},
    "qwen2": {
        "vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
        "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 32, "hidden_act": "silu", "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False, "rope_theta": 10000.0,
        "rope_scaling": None, "use_sliding_window": False,
        "sliding_window": 4096, "max_window_layers": 28,
        "attention_dropout": 0.0},
    "gemma3_text": {
        "vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216,
        "num_hidden_layers": 26, "num_attention_heads": 8,
        "num_key_value_heads": 4, "head_dim": 256,
        "hidden_activation": "gelu_pytorch_tanh", "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True, "rope_theta": 1000000.0,
        "attention_bias": False, "attention_dropout": 0.0,
        "query_pre_attn_scalar": 256, "sliding_window": 4096,
        "final_logit_softcapping": None, "attn_logit_softcapping": None,
        "rope_scaling": None, "rope_local_base_freq": 10000.0,
        "sliding_window_pattern": 6},
    "qwen2_vl_text": {
        "vocab_size": 152064, "hidden_size": 8192, "intermediate_size": 29568,
        "num_hidden_layers": 80, "num_attention_heads": 64,
        "num_key_value_heads": 8, "hidden_act": "silu", "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False, "rope_theta": 1000000.0,
        "use_sliding_window": False, "sliding_window": 4096,
        "max_window_layers": 80, "attention_dropout": 0.0},
}
TEXT_DEFAULTS["qwen2_5_vl_text"] = TEXT_DEFAULTS["qwen2_vl_text"]
TEXT_DEFAULTS["qwen3_vl_text"] = {
    "vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
    "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 32, "head_dim": 128, "hidden_act": "silu",
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
    # transformers 5's default_theta (4.57's class said 5e6; the Hub's
    # configs give theirs).
    "rope_theta": 500000.0, "attention_bias": False,
    "attention_dropout": 0.0}

# The config classes' pad_token_id where it is not None (their embeddings'
# padding_idx; LlamaConfig's and most others' is None).
PAD_TOKEN_DEFAULTS = {"phi3": 32000, "olmo2": 1, "olmo3": 1, "gemma": 0,
                      "gemma2": 0, "gemma3_text": 0, "cohere": 0, "cohere2": 0,
                      "smollm3": 128004, "internlm2": 0, "glm": 151329,
                      "glm4": 151329, "helium": 3, "seed_oss": 1,
                      "ernie4_5": 0, "olmo": 1, "vaultgemma": 0,
                      "hunyuan_v1_dense": 0, "opt": 1}

# Where a multimodal checkpoint keeps its text model's tensors (model.* and
# lm_head.* of the ForCausalLM): the Hub's (transformers 4.50 and before)
# under language_model.model. and language_model.lm_head., newer
# save_pretrained (its _checkpoint_conversion_mapping) under
# model.language_model. and lm_head.; the Hub's Qwen2-VL's where a text
# model's are (model., lm_head.; its vision tower under visual.); the
# vision tower's and projector's tensors beside them.
MULTIMODAL_LAYOUTS = [("language_model.model.", "language_model.lm_head."),
                      ("model.language_model.", "lm_head.")]
FLAT_LAYOUT = ("model.", "lm_head.")
# The multimodal models whose Hub configs and checkpoints are flat.
FLAT_MULTIMODAL = ("qwen2_vl", "qwen2_5_vl")

# Hugging Face's activation names (ACT2FN) and gen-llama.py's
# --mlp-activation for them.
# gelu_new (Phi-2's) is the tanh approximation as gelu_pytorch_tanh
# computes it, gelu_fast (GPT-NeoX 20B's) with sqrt(2 / pi) rounded to ten
# digits (3.6e-12 apart: below float32's rounding).
ACTIVATIONS = {"silu": "silu", "gelu": "gelu",
               "gelu_pytorch_tanh": "gelu-tanh", "gelu_new": "gelu-tanh",
               "gelu_fast": "gelu-tanh", "relu": "relu", "relu2": "relu2"}

# One parameter of mp's model and where it is in Hugging Face's checkpoint:
# the tensor `hf`, or where Hugging Face fuses linears (Phi-3's qkv_proj
# and gate_up_proj, GPT-NeoX's query_key_value; hf_rows None elsewhere)
# part of its hf_rows rows: those rows are row_groups equal groups (1,
# GPT-NeoX's heads: each head's q, k and v rows in turn, or CodeGen's 4:
# a quarter of the heads' q, v and k rows in turn), and the
# parameter's are rows [first_row, first_row + shape[0] / row_groups) of
# each; rotary_heads: the heads whose rows (or entries) are in
# rotate_half's order, or 0; head_tensors: the number of Hugging Face
# tensors, one per head (hf a format of `head`), that the parameter stacks
# on its dim 0 (StableLM's per-head LayerNorms), or 0; transposed: a
# Conv1D's weight (GPT-2's), stored [in, out], its columns the rows above.
Parameter = namedtuple(
    "Parameter",
    "mp hf shape rotary_heads first_row hf_rows row_groups head_tensors "
    "transposed",
    defaults=(0, 0, None, 1, 0, False))

# Bytes per element of each dtype a Llama checkpoint holds.
ELEMENT_BYTES = {"F32": 4, "BF16": 2, "F16": 2}


def fail(message):
    sys.exit(f"hf-checkpoint.py: {message}")


class SafeTensorsFile:
    """The tensors of one safetensors file, read through a memory map."""

    def __init__(self, path):
        self.path = path
        size = os.path.getsize(path)
        if size < 8:
            fail(f"{path}: {size} bytes, not a safetensors file")
        with open(path, "rb") as f:
            self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        (length,) = struct.unpack("<Q", self.map[:8])
        if length > len(self.map) - 8:
            fail(f"{path}: a header of {length} bytes in a file of "
                 f"{len(self.map)}")
        try:
            header = json.loads(self.map[8:8 + length])
        except ValueError as error:
            fail(f"{path}: its header is not JSON ({error})")
        if not isinstance(header, dict) or not all(
                isinstance(entry, dict) for name, entry in header.items()
                if name != "__metadata__"):
            fail(f"{path}: its header is no map of tensor entries")
        header.pop("__metadata__", None)
        self.data_begin = 8 + length
        self.entries = header

    def names(self):
        return list(self.entries)

    def read(self, name, rows=None, groups=1):
        """The tensor as float32 (bf16 and f16 widened exactly); given
        `rows` (a slice), only those rows of each of its `groups` equal
        groups of rows, and only they are widened (a part of a fused
        linear)."""
        entry = self.entries[name]
        dtype, shape = entry.get("dtype"), entry.get("shape")
        begin, end = entry.get("data_offsets", (0, -1))
        if dtype not in ELEMENT_BYTES:
            fail(f"{self.path}: {name} is {dtype}; a Llama checkpoint holds "
                 f"{', '.join(ELEMENT_BYTES)}")
        count = int(np.prod(shape, dtype=object))
        if (begin < 0 or end - begin != count * ELEMENT_BYTES[dtype]
                or self.data_begin + end > len(self.map)):
            fail(f"{self.path}: {name} {dtype} {shape} has bytes "
                 f"[{begin}, {end}) of {len(self.map) - self.data_begin}")
        if rows is not None and not shape:
            fail(f"{self.path}: {name} has no rows, a linear's weight has")
        raw = np.frombuffer(self.map, dtype=np.uint8, count=end - begin,
                            offset=self.data_begin + begin)
        stored = raw.view({"F32": "<f4", "F16": "<f2", "BF16": "<u2"}[dtype])
        stored = stored.reshape(shape)
        if rows is not None:
            stored = take_rows(stored, rows, groups)
        if dtype == "F32":
            return stored
        if dtype == "F16":
            return stored.astype(np.float32)
        # bfloat16: the high half of a float32
        return (stored.astype(np.uint32) << 16).view(np.float32)


def take_rows(values, rows, groups):
    """Rows `rows` (a slice) of each of the `groups` equal groups of rows of
    values."""
    return values.reshape(groups, -1, *values.shape[1:])[:, rows].reshape(
        -1, *values.shape[1:])


def open_checkpoint(hf_dir):
    """{name: SafeTensorsFile} over model.safetensors or its shards."""
    index = os.path.join(hf_dir, "model.safetensors.index.json")
    single = os.path.join(hf_dir, "model.safetensors")
    if os.path.isfile(index):
        with open(index) as f:
            weight_map = json.load(f).get("weight_map")
        if not isinstance(weight_map, dict):
            fail(f"{index}: no weight_map")
        files = {shard: SafeTensorsFile(os.path.join(hf_dir, shard))
                 for shard in sorted(set(weight_map.values()))}
        tensors = {}
        for name, shard in weight_map.items():
            if name not in files[shard].entries:
                fail(f"{index}: {name} is in {shard} by its weight_map, "
                     "but that file does not hold it")
            tensors[name] = files[shard]
        return tensors
    if os.path.isfile(single):
        file = SafeTensorsFile(single)
        return {name: file for name in file.names()}
    if os.path.isfile(os.path.join(hf_dir, "pytorch_model.bin")):
        fail(f"{hf_dir} holds pytorch_model.bin: only safetensors are read "
             "(save_pretrained(..., safe_serialization=True) writes them)")
    fail(f"{hf_dir} has neither model.safetensors nor "
         "model.safetensors.index.json")


def ffn_hidden_of(config, name):
    """The feed-forward's size: the config's `name`, or 4 x hidden_size
    where that is null or absent (Falcon's, GPT-J's, GPT-2's and GPT-Neo's
    config classes' default)."""
    ffn_hidden = config.get(name)
    hidden = config.get("hidden_size")
    if ffn_hidden is None and isinstance(hidden, int):
        ffn_hidden = 4 * hidden
    return ffn_hidden


def read_n_embed(config):
    """FalconConfig's and BloomConfig's legacy n_embed: where not null,
    it replaces hidden_size."""
    if config.get("n_embed") is not None:
        config["hidden_size"] = config["n_embed"]


def falcon_config(config, source):
    """A Falcon config under the other families' names, as FalconConfig and
    FalconAttention read it: n_embed replaces hidden_size; the custom-code
    configs' n_head, n_layer and n_head_kv, which FalconConfig does not
    read (transformers' convert_custom_code_checkpoint.py renames them),
    are refused; the key-value heads are num_kv_heads in the new decoder
    architecture (Falcon-40B, 180B, Falcon 2), one where multi_query (the
    default: Falcon-7B), every head otherwise; ffn_hidden_size defaults to
    4 * hidden_size, activation to gelu, the embeddings are tied by
    default. ALiBi (Falcon-RW: alibi true) in place of the rotation, its
    bias in bfloat16 before the scaling; the new architecture with ALiBi
    (no Falcon has both) or without parallel_attn (FalconDecoderLayer
    builds no such block) is refused."""
    config = dict(config)
    custom = [key for key in ("n_head", "n_layer", "n_head_kv")
              if key in config]
    if custom:
        fail(f"{source}: {', '.join(custom)}: a custom-code Falcon config, "
             "which FalconConfig does not read; transformers' "
             "convert_custom_code_checkpoint.py converts it")
    read_n_embed(config)
    new_architecture = bool(config.get("new_decoder_architecture"))
    if new_architecture and config.get("alibi"):
        fail(f"{source}: alibi in the new decoder architecture; Falcon-RW's "
             "ALiBi is the old architecture's, and no Falcon has both")
    if new_architecture and not config.get("parallel_attn", True):
        fail(f"{source}: new_decoder_architecture without parallel_attn; "
             "FalconDecoderLayer has no norm for that block")
    norms = config.get("num_ln_in_parallel_attn")
    if norms not in (None, 1, 2):
        fail(f"{source}: num_ln_in_parallel_attn {norms!r}; Falcon's "
             "parallel block has 1 or 2 norms")
    heads = config.get("num_attention_heads")
    kv_heads = heads
    if new_architecture:
        kv_heads = config.get("num_kv_heads") or heads
    elif config.get("multi_query", True):
        kv_heads = 1
    return dict(config, num_key_value_heads=kv_heads,
                intermediate_size=ffn_hidden_of(config, "ffn_hidden_size"),
                layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
                hidden_act=config.get("activation", "gelu"),
                tie_word_embeddings=config.get("tie_word_embeddings", True))


def gptj_config(config, source):
    """A GPT-J or CodeGen config under the other families' names, as
    GPTJConfig's and CodeGenConfig's attribute_map read it (n_embd,
    n_layer, n_head, n_inner: 4 x n_embd where none, layer_norm_epsilon,
    activation_function: gelu_new), its rotary base 10000
    (create_sinusoidal_positions'); a rotary_dim of null (the attention
    then rotates at the hidden size's frequencies) is refused, and a
    CodeGen's n_head that is not a multiple of its qkv_proj's 4 groups, and
    CodeGen2 (model_type codegen too, but custom code that auto_map names,
    whose qkv_proj holds 8 groups)."""
    config = dict(config)
    for alias, name in [("n_embd", "hidden_size"),
                        ("n_layer", "num_hidden_layers"),
                        ("n_head", "num_attention_heads")]:
        if alias in config and name not in config:
            config[name] = config[alias]
    if "rotary_dim" in config and config["rotary_dim"] is None:
        fail(f"{source}: rotary_dim null; mp's GPT-J rotates rotary_dim "
             "entries of each head (GPT-J-6B: 64)")
    codegen = config.get("model_type") == "codegen"
    if codegen and config.get("auto_map"):
        fail(f"{source}: auto_map: a CodeGen with modeling code of its own "
             "(CodeGen2's qkv_proj holds its heads in 8 groups); mp reads "
             "transformers' CodeGen")
    heads = config.get("num_attention_heads")
    if codegen and isinstance(heads, int) and heads % CODEGEN_QKV_GROUPS:
        fail(f"{source}: n_head {heads}; CodeGen's qkv_proj holds its heads "
             f"in {CODEGEN_QKV_GROUPS} groups (CodeGenAttention's mp_num)")
    return dict(config, intermediate_size=ffn_hidden_of(config, "n_inner"),
                layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
                hidden_act=config.get("activation_function", "gelu_new"),
                rope_theta=10000.0)


def read_aliases(config, aliases):
    """Fills each (alias, name, default) of a config class's attribute_map
    where the config has not the name: from the alias, or the class's
    default (a name given wins, as attribute_map sets it after)."""
    for alias, name, default in aliases:
        if name not in config:
            config[name] = config.get(alias, default)


def refuse_values(config, source, refused):
    """Fails where the config gives a flag of refused ((key, value, why)
    each) that value."""
    for key, value, why in refused:
        if config.get(key, not value) == value:
            fail(f"{source}: {key} {json.dumps(value)}; {why}")


def gpt2_config(config, source):
    """A GPT-2 or GPT-BigCode config under the other families' names, as
    GPT2Config's and GPTBigCodeConfig's attribute_map read it (n_embd,
    n_layer, n_head, n_positions, the other names winning where a config
    has both; n_inner 4 x n_embd where null; layer_norm_epsilon;
    activation_function gelu_new, GPT-BigCode's gelu_pytorch_tanh; tied by
    default; GPT-BigCode's one key-value head where multi_query, as by
    default), the classes' sizes where a config leaves them out (gpt2's:
    vocab_size 50257, n_embd 768, n_layer 12, n_head 12, n_positions
    1024). Refused: scores not scaled by 1/sqrt(head_dim)
    (scale_attn_weights false) or also by the layer
    (scale_attn_by_inverse_layer_idx), and cross attention."""
    config = dict(config)
    read_aliases(config, [("n_embd", "hidden_size", 768),
                          ("n_layer", "num_hidden_layers", 12),
                          ("n_head", "num_attention_heads", 12),
                          ("n_positions", "max_position_embeddings", 1024)])
    config.setdefault("vocab_size", 50257)
    bigcode = config.get("model_type") == "gpt_bigcode"
    refused = [("scale_attn_weights", False, "mp scales the scores by "
                "1/sqrt(head_dim), as GPT-2 does by default"),
               ("add_cross_attention", True, "mp trains the decoder alone, "
                "without an encoder to attend to")]
    if not bigcode:  # GPTBigCodeConfig has no such field
        refused.append(("scale_attn_by_inverse_layer_idx", True,
                        "mp's scores are not scaled by the layer"))
    refuse_values(config, source, refused)
    return dict(config, intermediate_size=ffn_hidden_of(config, "n_inner"),
                num_key_value_heads=1 if bigcode and config.get(
                    "multi_query", True) else None,
                layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
                hidden_act=config.get(
                    "activation_function",
                    "gelu_pytorch_tanh" if bigcode else "gelu_new"),
                tie_word_embeddings=config.get("tie_word_embeddings", True))


def gpt_neo_config(config, source):
    """A GPT-Neo config under the other families' names, as GPTNeoConfig
    reads it (num_heads, num_layers, the other names winning where a
    config has both, as its attribute_map makes them; intermediate_size 4 x
    hidden_size where null; layer_norm_epsilon; activation_function
    gelu_new; tied by default), its sizes where a config leaves them out
    (vocab_size 50257, hidden_size 2048, num_layers 24, num_heads 16,
    max_position_embeddings 2048), and its layers' attention: the config's
    attention_layers where it has them (GPTNeoAttention reads those, the
    config's overriding the class's), else attention_types expanded
    ([[["global", "local"], 12]] by default: each entry's list of types
    repeated its count of times); a local layer's a window of window_size
    (256) positions."""
    config = dict(config)
    read_aliases(config, [("num_heads", "num_attention_heads", 16),
                          ("num_layers", "num_hidden_layers", 24)])
    for name, default in [("vocab_size", 50257), ("hidden_size", 2048),
                          ("max_position_embeddings", 2048)]:
        config.setdefault(name, default)
    if config.get("attention_layers") is not None:
        field, kinds = "attention_layers", config["attention_layers"]
        types = kinds if isinstance(kinds, list) else [kinds]
    else:
        field = "attention_types"
        kinds = config.get(field, [[["global", "local"], 12]])
        try:
            types = [kind for pattern, count in kinds for _ in range(count)
                     for kind in pattern]
        except (TypeError, ValueError):
            fail(f"{source}: attention_types {kinds!r} is not a list of "
                 "[[types...], count]")
    if not all(kind in ("global", "local") for kind in types) or \
            len(types) != config["num_hidden_layers"]:
        fail(f"{source}: {field} {kinds!r} gives {types!r}, not 'global' "
             "or 'local' for each of its "
             f"{config['num_hidden_layers']!r} layers")
    window = config.get("window_size", 256)
    if "local" in types and (isinstance(window, bool) or
                             not isinstance(window, int) or window < 1):
        fail(f"{source}: window_size {window!r}, not a positive integer; "
             "GPT-Neo's local layers attend to that many positions")
    return dict(config,
                intermediate_size=ffn_hidden_of(config, "intermediate_size"),
                num_key_value_heads=None, head_dim=None,
                layer_types=["sliding_attention" if kind == "local" else
                             "full_attention" for kind in types],
                sliding_window=window,
                layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
                hidden_act=config.get("activation_function", "gelu_new"),
                tie_word_embeddings=config.get("tie_word_embeddings", True))


def opt_config(config, source):
    """An OPT config under the other families' names, as OPTConfig reads
    it (ffn_dim; max_position_embeddings + 2 table rows; nn.LayerNorm's eps
    1e-5, OPTConfig having none; activation_function relu; every head its
    own keys and values, head_dim hidden_size / heads whatever the config
    says; tied by default), the class's sizes where a config leaves them
    out (vocab_size 50272, hidden_size 768, num_hidden_layers 12,
    num_attention_heads 12, ffn_dim 3072, max_position_embeddings 2048;
    word_embed_proj_dim hidden_size)."""
    config = dict(config)
    for name, default in [("vocab_size", 50272), ("hidden_size", 768),
                          ("num_hidden_layers", 12),
                          ("num_attention_heads", 12), ("ffn_dim", 3072),
                          ("max_position_embeddings", 2048)]:
        config.setdefault(name, default)
    if config.get("word_embed_proj_dim") is None:
        config["word_embed_proj_dim"] = config["hidden_size"]
    positions = config["max_position_embeddings"]
    if isinstance(positions, int) and not isinstance(positions, bool):
        positions += OPT_POSITIONS_OFFSET
    return dict(config, intermediate_size=config["ffn_dim"],
                max_position_embeddings=positions, num_key_value_heads=None,
                head_dim=None, layer_norm_eps=1e-5,
                hidden_act=config.get("activation_function", "relu"),
                tie_word_embeddings=config.get("tie_word_embeddings", True))


def bloom_config(config, source):
    """A BLOOM config under the other families' names, as BloomConfig
    reads it (n_layer, n_head, n_embed for hidden_size where given, the
    other names winning where a config has both, as its attribute_map makes
    them; layer_norm_epsilon; the MLP 4 x hidden_size, BloomMLP's, whatever
    the config says; BloomGelu, the tanh approximation; tied by default;
    no pad row in the embedding), the class's sizes where a config leaves
    them out (vocab_size 250880, hidden_size 64, n_layer 2, n_head 8).
    Refused: apply_residual_connection_post_layernorm (the residual
    stream would be the norm's output) and slow_but_exact with
    pretraining_tp above 1 (the dense linears summed slice by slice:
    another rounding)."""
    config = dict(config)
    read_n_embed(config)
    read_aliases(config, [("n_layer", "num_hidden_layers", 2),
                          ("n_head", "num_attention_heads", 8)])
    for name, default in [("vocab_size", 250880), ("hidden_size", 64)]:
        config.setdefault(name, default)
    refuse_values(config, source, [
        ("apply_residual_connection_post_layernorm", True,
         "mp's residual stream is each block's input, as BLOOM's by "
         "default")])
    if config.get("slow_but_exact") and config.get("pretraining_tp", 1) > 1:
        fail(f"{source}: slow_but_exact with pretraining_tp "
             f"{config['pretraining_tp']!r}; mp computes each dense linear "
             "whole, not as BLOOM's sum of its slices")
    hidden = config["hidden_size"]
    return dict(config, intermediate_size=4 * hidden if isinstance(
                    hidden, int) and not isinstance(hidden, bool) else None,
                num_key_value_heads=None, head_dim=None,
                layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
                hidden_act="gelu_pytorch_tanh",
                tie_word_embeddings=config.get("tie_word_embeddings", True))


def mpt_config(config, source):
    """An MPT config under the other families' names, as MptConfig reads
    it (d_model, n_heads, n_layers, the other names winning where a config
    has both; layer_norm_epsilon; attn_config's softmax_scale, the scores'
    scale where given, and clip_qkv), the class's sizes where a config
    leaves them out (vocab_size 50368, d_model 2048, n_heads 16, n_layers
    24), as transformers' MptForCausalLM computes it: an MLP 4 x d_model
    wide with exact GELU, no biases, LayerNorms without biases, ALiBi at
    max bias 8 (MptModel builds it so whatever attn_config says), tied
    by default, no pad row in the embedding. Refused: what MosaicML's
    model computes otherwise than transformers' (expansion_ratio other
    than 4, biases, logit_scale, RMSNorms, embedding_fraction other than
    1; attn_config's alibi false, alibi_bias_max other than 8, qk_ln,
    multi-query or grouped-query attention, prefix_lm, sequence ids, a
    sliding window, a rotation). A clip_qkv of 0 clamps nothing, as in
    transformers."""
    config = dict(config)
    read_aliases(config, [("d_model", "hidden_size", 2048),
                          ("n_heads", "num_attention_heads", 16),
                          ("n_layers", "num_hidden_layers", 24)])
    config.setdefault("vocab_size", 50368)
    attention = config.get("attn_config") or {}
    if not isinstance(attention, dict):
        fail(f"{source}: attn_config {attention!r} is not a dict")
    # Each field's values that transformers' model computes, the first
    # its default.
    for where, prefix, key, computed in [
            (config, "", "expansion_ratio", (4,)),
            (config, "", "no_bias", (True,)),
            (config, "", "logit_scale", (None,)),
            (config, "", "norm_type", ("low_precision_layernorm",
                                       "layernorm")),
            (config, "", "embedding_fraction", (1,)),
            (attention, "attn_config's ", "alibi", (True,)),
            (attention, "attn_config's ", "alibi_bias_max", (8,)),
            (attention, "attn_config's ", "qk_ln", (False,)),
            (attention, "attn_config's ", "attn_type",
             ("multihead_attention",)),
            (attention, "attn_config's ", "prefix_lm", (False,)),
            (attention, "attn_config's ", "attn_uses_sequence_id", (False,)),
            (attention, "attn_config's ", "sliding_window_size", (-1,)),
            (attention, "attn_config's ", "rope", (False,))]:
        if where.get(key, computed[0]) not in computed:
            fail(f"{source}: {prefix}{key} {json.dumps(where[key])}; mp "
                 "trains MPT as transformers' MptForCausalLM computes it "
                 f"({key} {' or '.join(map(json.dumps, computed))})")
    hidden = config["hidden_size"]
    return dict(config, intermediate_size=4 * hidden if isinstance(
                    hidden, int) and not isinstance(hidden, bool) else None,
                num_key_value_heads=None, head_dim=None,
                layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
                hidden_act="gelu", clip_qkv=attention.get("clip_qkv") or None,
                attention_multiplier=attention.get("softmax_scale"),
                tie_word_embeddings=config.get("tie_word_embeddings", True))


class LlamaShape:
    """The sizes of a LlamaForCausalLM, from its config.json."""

    def __init__(self, config, source):
        # The sizes go into gen-llama.py's arguments and the model's IR:
        # integers and positive finite numbers only.
        def checked(name, value, kind):
            if value is None:
                fail(f"{source}: no {name}")
            if isinstance(value, bool) or not isinstance(
                    value, (int,) if kind is int else (int, float)) or \
                    not (0 < value < float("inf")):
                fail(f"{source}: {name} is {value!r}, not a positive "
                     f"{'integer' if kind is int else 'number'}")
            return value

        def field(name, default=None, kind=int):
            return checked(name, config.get(name, default), kind)

        self.family = config.get("model_type")
        if self.family not in FAMILIES:
            fail(f"{source}: model_type {self.family!r}; this script converts "
                 "the Llama-shaped families: "
                 f"{', '.join(map(repr, FAMILIES))} (and the text models "
                 f"of {', '.join(map(repr, MULTIMODAL))})")
        if self.family == "falcon":
            config = falcon_config(config, source)
        if self.family in GPTJ_BLOCKS:
            config = gptj_config(config, source)
        gpt2 = self.family in GPT2_BLOCKS
        if gpt2:
            config = gpt2_config(config, source)
        opt = self.family == "opt"
        if opt:
            config = opt_config(config, source)
        gpt_neo = self.family == "gpt_neo"
        if gpt_neo:
            config = gpt_neo_config(config, source)
        # BLOOM's ALiBi (BloomModel's build_alibi_tensor: max bias 8) in
        # place of a rotation, and its embeddings' LayerNorm.
        bloom = self.family == "bloom"
        if bloom:
            config = bloom_config(config, source)
        mpt = self.family == "mpt"
        if mpt:
            config = mpt_config(config, source)
        # Falcon-RW's, computed in bfloat16 and added before the scaling
        # (FalconModel's build_alibi_tensor and FalconAttention).
        self.falcon_alibi = self.family == "falcon" and \
            bool(config.get("alibi"))
        self.alibi = 8.0 if bloom or mpt or self.falcon_alibi else None
        self.embedding_norm = bloom
        self.layers = field("num_hidden_layers")
        self.dim = field("hidden_size")
        self.heads = field("num_attention_heads")
        # None (Phi's default) or absent (GPT-NeoX has no such field):
        # every head has its keys and values; absent, its config class's
        # (KV_HEADS_DEFAULTS).
        glm = self.family in ("glm", "glm4")
        kv_default = KV_HEADS_DEFAULTS.get(self.family)
        self.kv_heads = field("num_key_value_heads", kv_default) if (
            config.get("num_key_value_heads", kv_default) is not None) \
            else self.heads
        self.ffn_hidden = field("intermediate_size")
        self.vocab = field("vocab_size")
        self.padding_idx = self.read_padding_idx(config, source)
        # GPT-2's, GPT-Neo's and OPT's learned positions (wpe,
        # embed_positions: its rows) instead of a rotation.
        learned = self.family in LEARNED_POSITIONS
        self.learned_positions = field("max_position_embeddings") \
            if learned else None
        self.positions_offset = OPT_POSITIONS_OFFSET if opt else 0
        # OPT-350m's: its norms after the residual adds (and none at the
        # end: OPTDecoder has final_layer_norm only where the norms come
        # first, and not where _remove_final_layer_norm), its embeddings
        # word_embed_proj_dim wide through project_in and project_out.
        self.norm_after_residual = opt and not config.get(
            "do_layer_norm_before", True)
        self.final_norm = not (opt and (self.norm_after_residual or config.get(
            "_remove_final_layer_norm")))
        words = field("word_embed_proj_dim") if opt else self.dim
        self.embedding_dim = words if words != self.dim else None
        # StableLM's, GPT-NeoX's, Phi's, Falcon's, Persimmon's, GPT-2's
        # and OPT's norms are LayerNorms (with biases); OLMo's and OPT's
        # without layer_norm_elementwise_affine have neither weights nor
        # biases.
        cohere = self.family in ("cohere", "cohere2")
        starcoder2 = self.family == "starcoder2"
        nemotron = self.family == "nemotron"
        persimmon = self.family == "persimmon"
        olmo = self.family == "olmo"
        gptj = self.family in GPTJ_BLOCKS
        self.layer_norm = self.family in ("stablelm", "gpt_neox", "phi",
                                          "falcon") or gptj or cohere or \
            starcoder2 or nemotron or persimmon or olmo or learned or bloom or \
            mpt
        # Cohere's LayerNorms have no biases, OLMo's neither weights nor
        # biases.
        self.norm_weights = not olmo and not (
            opt and config.get("layer_norm_elementwise_affine") is False)
        self.norm_bias = self.layer_norm and not (cohere or mpt) and \
            self.norm_weights
        self.norm_eps = field("norm_epsilon", 1e-5, float) if starcoder2 \
            else field("norm_eps", 1e-5, float) if nemotron \
            else 1e-5 if olmo \
            else field("layer_norm_eps", 1e-5, float) if \
            self.layer_norm else field(
                "rms_norm_eps", RMS_NORM_EPS_DEFAULTS.get(self.family), float)
        rope = config.get("rope_parameters") or {}
        # Gemma 3's and OLMo 3's windowed layers rotate unscaled: Gemma 3's
        # by a base of their own (rope_local_base_freq), OLMo 3's by
        # rope_theta (Olmo3Model's "default" rotary embedding for
        # sliding_attention); newer configs give rope_parameters per layer
        # type.
        gemma3 = self.family == "gemma3_text"
        olmo3 = self.family == "olmo3"
        if (gemma3 or olmo3) and ("full_attention" in rope or
                                  "sliding_attention" in rope):
            parts = [rope.get(kind) or {} for kind in (
                "full_attention", "sliding_attention")]
            if not all(isinstance(part, dict) for part in parts):
                fail(f"{source}: rope_parameters {rope!r}; a dict of each "
                     "layer type's parameters")
            rope, local_rope = parts
        else:
            local_rope = {}
        # GPT-NeoX's 4.x configs name it rotary_emb_base; some config
        # classes' defaults are their own (ROPE_THETA_DEFAULTS; Olmo3Config's
        # and HeliumConfig's transformers 5's default_theta).
        self.rope_theta = checked("rope_theta", rope.get(
            "rope_theta", config.get("rope_theta", config.get(
                "rotary_emb_base", ROPE_THETA_DEFAULTS.get(
                    self.family, 10000.0)))), float)
        self.local_rope_theta = None
        if gemma3 or olmo3:
            if local_rope.get("rope_type", "default") != "default":
                fail(f"{source}: the windowed layers' rope scaling "
                     f"{local_rope!r}; {'Gemma' if gemma3 else 'OLMo'} 3's "
                     "windowed layers rotate unscaled in mp")
            # Gemma3TextConfig fills the windowed layers' base from
            # rope_local_base_freq (10000 by default), Olmo3Config from
            # rope_theta.
            self.local_rope_theta = checked(
                "the windowed layers' rope_theta", local_rope.get(
                    "rope_theta", config.get("rope_local_base_freq", 10000.0)
                    if gemma3 else self.rope_theta), float)
        scaling = config.get("rope_scaling") or rope
        kind = scaling.get("rope_type", scaling.get("type", "default"))
        hunyuan = self.family == "hunyuan_v1_dense"
        if hunyuan and config.get("head_dim") is None:
            fail(f"{source}: no head_dim; HunYuanDenseV1Config has none by "
                 "default, and its attention reads config.head_dim")
        rope_alpha = None
        self.rope_scaling = self.rope_linear_scaling = None
        self.rope_dynamic_scaling = None
        longrope = yarn = None
        if kind != "default" and nemotron:
            fail(f"{source}: rope scaling {scaling!r}; Nemotron's rotary "
                 "embedding rotates by the default frequencies whatever the "
                 "config says (NemotronRotaryEmbedding), and mp does not "
                 "guess which the checkpoint was trained with")
        if kind == "longrope":
            longrope = scaling  # read once head_dim is known
        elif kind == "yarn":
            yarn = scaling
        elif kind == "linear":
            self.rope_linear_scaling = checked(
                "rope_scaling's factor", scaling.get("factor"),
                float)
        elif kind == "dynamic" and hunyuan and "alpha" in scaling:
            # HunYuanDenseV1RotaryEmbedding's NTK alpha: one base,
            # rope_theta * alpha ** (head_dim / (head_dim - 2)), whatever
            # the factor (read once head_dim is known). Past
            # max_position_embeddings Hugging Face's dynamic_rope_update
            # scales by the factor instead; mp keeps this base.
            rope_alpha = checked("rope scaling's alpha", scaling["alpha"],
                                 float)
        elif kind == "dynamic":
            # Dynamic NTK scaling: a base that grows with sequences past
            # max_position_embeddings (gen-llama.py computes it for --seq).
            factor = checked("rope_scaling's factor", scaling.get("factor"),
                             float)
            if factor < 1:
                fail(f"{source}: rope scaling 'dynamic' with factor "
                     f"{factor!r}; Hugging Face's is at least 1")
            # The context it counts from: the config's (the Hub's configs
            # give it; the config classes' defaults differ by family).
            if "max_position_embeddings" not in config:
                fail(f"{source}: rope scaling 'dynamic' without "
                     "max_position_embeddings, the context it scales past")
            self.rope_dynamic_scaling = (factor, field(
                "max_position_embeddings"))
        elif kind == "llama3":
            try:
                self.rope_scaling = [float(scaling[key]) for key in (
                    "factor", "low_freq_factor", "high_freq_factor",
                    "original_max_position_embeddings")]
            except (KeyError, TypeError, ValueError) as error:
                fail(f"{source}: rope scaling 'llama3' without a number "
                     f"for {error}")
        elif kind != "default":
            fail(f"{source}: rope scaling {scaling!r}; mp.rope scales its "
                 "frequencies as Llama 3.1 does ('llama3'), linearly "
                 "('linear'), as Phi-3's 'longrope', by dynamic NTK "
                 "scaling ('dynamic') or by YaRN ('yarn') only")
        # Gemma's head_dim is 256 unless given (GemmaConfig's default),
        # GLM's, Helium's and Seed-OSS's 128; Mistral writes head_dim null
        # where it is hidden_size / heads.
        gemma = self.family in ("gemma", "gemma2", "gemma3_text",
                                "vaultgemma")
        if "head_dim" not in config and self.family in HEAD_DIM_DEFAULTS:
            config = dict(config, head_dim=HEAD_DIM_DEFAULTS[self.family])
        if nemotron and config.get("kv_channels", config.get(
                "head_dim")) != config.get("head_dim"):
            # vLLM's Nemotron reads kv_channels where there is no
            # head_dim; transformers does not.
            fail(f"{source}: kv_channels {config['kv_channels']!r} with "
                 f"head_dim {config.get('head_dim')!r}; transformers' "
                 "Nemotron reads head_dim only (hidden_size / heads where "
                 "none), vLLM's kv_channels where there is none, so mp does "
                 "not guess")
        if config.get("head_dim") is None:
            if self.dim % self.heads:
                fail(f"{source}: hidden_size {self.dim} is no multiple of "
                     f"num_attention_heads {self.heads} and there is no "
                     "head_dim")
            config = dict(config, head_dim=self.dim // self.heads)
        self.head_dim = field("head_dim")
        if self.head_dim % 2 and not (self.learned_positions or self.alibi):
            fail(f"{source}: head_dim {self.head_dim} is odd; the rotary "
                 "embedding rotates pairs")
        if rope_alpha is not None:
            if self.head_dim == 2:
                fail(f"{source}: rope scaling alpha with head_dim 2; "
                     "HunYuanDenseV1RotaryEmbedding divides by head_dim - 2")
            try:
                base = self.rope_theta * rope_alpha ** (
                    self.head_dim / (self.head_dim - 2))
            except OverflowError:
                base = math.inf
            if not math.isfinite(base):
                fail(f"{source}: rope scaling alpha {rope_alpha!r}: the base "
                     "rope_theta * alpha ** (head_dim / (head_dim - 2)) is "
                     "past the largest double")
            self.rope_theta = base
        if self.heads % self.kv_heads:
            fail(f"{source}: num_attention_heads {self.heads} is no multiple "
                 f"of num_key_value_heads {self.kv_heads}")
        if self.family == "helium" and self.heads * self.head_dim != self.dim:
            fail(f"{source}: {self.heads} heads of head_dim {self.head_dim} "
                 f"over hidden_size {self.dim}; HeliumAttention's o_proj is "
                 "hidden_size x hidden_size")
        # Which linears have a bias, as each family's modeling file builds
        # them: Qwen2's q, k and v always; Llama's, Qwen3's, Granite's,
        # SmolLM3's, OLMo's, the Cohere's and the Gemmas' attention (all
        # four) with
        # attention_bias; GPT-NeoX's attention unless attention_bias is
        # false; Phi's and Persimmon's attention always; Llama's, Granite's
        # and SmolLM3's MLP with mlp_bias, GPT-NeoX's, Phi's and Persimmon's
        # always, and Phi's output
        # projection; Falcon's every linear with bias (off in the released
        # models); InternLM2's wqkv and wo with bias (InternLM2Config's
        # default; off in the released models); ERNIE 4.5's every linear
        # with use_bias.
        neox = self.family == "gpt_neox"
        ernie = self.family == "ernie4_5"
        falcon_bias = self.family == "falcon" and bool(config.get("bias"))
        self.attention_bias = None
        if self.family == "seed_oss":
            # SeedOssConfig's: q, k and v biases by default, o_proj's where
            # attention_out_bias.
            qkv, out = (config.get("attention_bias", True),
                        config.get("attention_out_bias", False))
            if out and not qkv:
                fail(f"{source}: attention_out_bias without attention_bias; "
                     "gen-llama.py biases q, k and v, or all four linears, "
                     "not o_proj alone")
            self.attention_bias = "all" if out else "qkv" if qkv else None
        elif self.family == "qwen2" or (self.family == "stablelm" and
                                        config.get("use_qkv_bias")) or (
                glm and config.get("attention_bias", True)) or (
                    self.family == "helium" and config.get("attention_bias")):
            self.attention_bias = "qkv"
        elif ((gemma or cohere or self.family in (
                "llama", "qwen3", "granite", "smollm3", "nemotron", "olmo",
                "arcee", "hunyuan_v1_dense")) and
                config.get("attention_bias")) or \
                self.family in ("phi", "persimmon") or (
                  neox and config.get("attention_bias", True)) or \
                falcon_bias or gpt2 or (self.family == "internlm2" and
                                        config.get("bias", True)) or (
                    starcoder2 and config.get("use_bias", True)) or (
                        ernie and config.get("use_bias")) or (
                            opt and config.get("enable_bias", True)) or bloom:
            self.attention_bias = "all"
        elif gpt_neo:  # out_proj's alone
            self.attention_bias = "out"
        self.mlp_bias = (self.family in ("llama", "granite", "smollm3",
                                         "nemotron", "arcee", "helium",
                                         "seed_oss") and
                         bool(config.get("mlp_bias"))) or \
            self.family in ("gpt_neox", "phi", "persimmon") or gptj or \
            gpt2 or falcon_bias or (
                starcoder2 and bool(config.get("use_bias", True))) or (
                    ernie and bool(config.get("use_bias"))) or (
                        opt and bool(config.get("enable_bias", True))) or \
            gpt_neo or bloom
        self.output_bias = self.family == "phi" or gptj
        # GPT-NeoX's, Phi's and Falcon's MLPs have no gate. Their
        # attention and MLP read the layer's input side by side (GPT-NeoX's
        # each through its norm where use_parallel_residual, as by default;
        # Phi's through one; Falcon's new architecture's through ln_attn and
        # ln_mlp unless num_ln_in_parallel_attn is 1, its old one's through
        # one where parallel_attn, as by default).
        self.plain_mlp = self.family in ("gpt_neox", "phi", "falcon",
                                         "starcoder2", "nemotron", "arcee",
                                         "persimmon") or gptj or learned or \
            bloom or mpt
        self.parallel_block = None
        if neox and config.get("use_parallel_residual", True):
            self.parallel_block = "separate"
        elif self.family == "phi" or gptj or cohere or (
                self.family == "stablelm" and
                config.get("use_parallel_residual")):
            # StableLM 2 12B's MLP reads input_layernorm's output too.
            self.parallel_block = "shared"
        elif self.family == "falcon" and config.get(
                "new_decoder_architecture"):
            self.parallel_block = "shared" if config.get(
                "num_ln_in_parallel_attn") == 1 else "separate"
        elif self.family == "falcon" and config.get("parallel_attn", True):
            self.parallel_block = "shared"
        # The names of a layer's first and second norms (GPT-J's one).
        self.norm_names = ("ln_attn", "ln_mlp") if (
            self.family == "falcon" and self.parallel_block == "separate") \
            else ("ln_1", None) if gptj \
            else ("ln_1", "ln_2") if gpt2 or gpt_neo \
            else ("self_attn_layer_norm", "final_layer_norm") if opt \
            else ("norm_1", "norm_2") if mpt \
            else ("attention_norm", "ffn_norm") if self.family == "internlm2" \
            else ("input_layernorm", "pre_feedforward_layernorm") \
            if self.family == "vaultgemma" \
            else ("input_layernorm", "post_attention_layernorm")
        # Qwen3 norms each query and key head, OLMo 2 the whole projections
        # (and puts the layer's norms after its sublayers); StableLM 2
        # 12B (qk_layernorm) and Command-R+ (use_qk_norm) each head by a
        # LayerNorm without bias whose weights are the head's own;
        # Persimmon (qk_layernorm, true by default) and Phi (qk_layernorm,
        # off in Phi-1, 1.5 and 2) each head by one LayerNorm with a bias
        # that the heads share.
        self.qk_norm = {"qwen3": "head", "olmo2": "whole", "olmo3": "whole",
                        "exaone4": "head", "gemma3_text": "head",
                        "hunyuan_v1_dense": "head"}.get(self.family)
        # HunYuan norms each query and key head after the rotation
        # (query_layernorm, key_layernorm).
        self.qk_norm_after_rope = hunyuan
        if (self.family == "stablelm" and config.get("qk_layernorm")) or (
                self.family == "cohere" and config.get("use_qk_norm")):
            self.qk_norm = "each-head"
        if (persimmon and config.get("qk_layernorm", True)) or (
                self.family == "phi" and config.get("qk_layernorm")):
            self.qk_norm = "head"
        self.post_norm = self.family in ("olmo2", "olmo3", "exaone4")
        # Gemma 2 and 3 (and GLM-4-0414) norm their sublayers' inputs and
        # outputs; the Gemmas scale their scores by query_pre_attn_scalar;
        # Gemma 2 soft-caps its scores and logits (the configs' defaults
        # where not given: Gemma 3's caps are off; null turns a cap off).
        # VaultGemma is Gemma 2 without its sublayers' output norms.
        gemma2 = self.family in ("gemma2", "vaultgemma")
        self.sandwich_norm = self.family in ("gemma2", "gemma3_text",
                                             "glm4")
        # Their Hugging Face names: the attention's output norm, the MLP's
        # input and output norms.
        self.sandwich_names = (
            "post_self_attn_layernorm", "post_attention_layernorm",
            "post_mlp_layernorm") if self.family == "glm4" else (
            "post_attention_layernorm", "pre_feedforward_layernorm",
            "post_feedforward_layernorm")
        self.attention_softcap = self.final_softcap = None
        self.query_pre_attn_scalar = None
        if gemma2 or gemma3:
            # Gemma2Config's caps; Gemma3TextConfig's are off.
            score_cap, logit_cap = (50.0, 30.0) if gemma2 else (None, None)
            for attr, key, default in [
                    ("attention_softcap", "attn_logit_softcapping",
                     score_cap),
                    ("final_softcap", "final_logit_softcapping", logit_cap),
                    ("query_pre_attn_scalar", "query_pre_attn_scalar", 256)]:
                if config.get(key, default) is not None:
                    setattr(self, attr, field(key, default, float))
        # Phi-3's q, k and v are one linear, and the gate and up ones;
        # GPT-NeoX's, Falcon's, InternLM2's, Persimmon's and GPT-BigCode's
        # without multi-query q, k and v, group by group of heads.
        self.fused = self.family in ("phi3", "gpt_neox", "falcon",
                                     "internlm2", "persimmon", "bloom") or (
            self.family == "gpt_bigcode" and self.kv_heads > 1)
        # The attention window and the layers it is in, as the modeling
        # files' layer_types: Mistral's and Phi-3's sliding_window in every
        # layer, Qwen's where use_sliding_window turns it on, from
        # max_window_layers up (or as the config's layer_types lists them,
        # newer configs).
        types = config.get("layer_types")
        if types is None:
            first = self.layers
            if self.family in ("mistral", "phi3", "starcoder2"):
                first = 0
            elif gemma2:  # Gemma2Config: every other layer, from 0
                types = ["sliding_attention" if layer % 2 == 0 else
                         "full_attention" for layer in range(self.layers)]
            elif gemma3 or self.family in ("cohere2", "olmo3", "exaone4"):
                # Gemma3TextConfig: all but every sixth layer;
                # Cohere2Config and Olmo3Config: all but every fourth;
                # Exaone4Config: all but every sliding_window_pattern-th
                # (4 by default), the pattern taken as 0 (and divided by)
                # where sliding_window is null.
                exaone4 = self.family == "exaone4"
                if exaone4 and config.get("sliding_window", 4096) is None:
                    fail(f"{source}: sliding_window null without "
                         "layer_types; Exaone4Config computes none then (a "
                         "pattern of 0)")
                if exaone4 and isinstance(
                        config.get("sliding_window_pattern"), str):
                    fail(f"{source}: sliding_window_pattern "
                         f"{config['sliding_window_pattern']!r} without "
                         "layer_types; mp reads a pattern of 'L' and 'G' "
                         "from the layer_types a config lists")
                pattern = 4 if olmo3 else field("sliding_window_pattern",
                                                6 if gemma3 else 4)
                types = ["full_attention" if (layer + 1) % pattern == 0
                         else "sliding_attention"
                         for layer in range(self.layers)]
            elif self.family in ("qwen2", "qwen3") and \
                    config.get("use_sliding_window"):
                first = config.get("max_window_layers", 28)
                if isinstance(first, bool) or not isinstance(first, int) or \
                        first < 0:
                    fail(f"{source}: max_window_layers is {first!r}, not a "
                         "layer index")
            if types is None:
                types = ["full_attention"] * min(first, self.layers) + \
                    ["sliding_attention"] * max(self.layers - first, 0)
        if not isinstance(types, list) or len(types) != self.layers or \
                not set(types) <= {"full_attention", "sliding_attention"}:
            fail(f"{source}: layer_types {types!r} is not full_attention or "
                 f"sliding_attention for each of the {self.layers} layers")
        self.window_layers = [layer for layer, kind in enumerate(types)
                              if kind == "sliding_attention"]
        self.sliding_window = None
        window = config.get("sliding_window", 4096 if gemma2 or gemma3 or
                            self.family in ("cohere2", "olmo3", "exaone4")
                            else None)
        if self.window_layers and window is not None:
            self.sliding_window = field("sliding_window", window)
        if olmo3 and self.window_layers and window is None:
            # Olmo3Attention would attend to every position there but
            # rotate unscaled; gen-llama.py's windowed layers are windowed.
            fail(f"{source}: sliding_window null with sliding_attention "
                 "layers; mp's OLMo 3 windows its sliding_attention layers")
        # The layers without positional embedding: Cohere 2's without a
        # window (every layer where sliding_window is null), SmolLM3's
        # where no_rope_layers says 0.
        self.nope_layers = []
        if self.family == "cohere2":
            windowed = self.window_layers if self.sliding_window else []
            self.nope_layers = [layer for layer in range(self.layers)
                                if layer not in windowed]
        # EXAONE 4's global layers have none where its config has a
        # window, whichever layers use it (Exaone4Attention's "global
        # NoPE").
        if self.family == "exaone4" and window is not None:
            self.nope_layers = [layer for layer in range(self.layers)
                                if layer not in self.window_layers]
        if self.family == "smollm3":
            if config.get("use_sliding_window"):
                fail(f"{source}: use_sliding_window; mp's SmolLM3 is the "
                     "released models' (no window)")
            self.nope_layers = self.read_nope_layers(config, source, field)
        # OlmoAttention clamps q, k and v to [-clip_qkv, clip_qkv]
        # (OLMo-7B-0424's 8); OLMo 2's modeling file reads no clip_qkv.
        # MPT's attention clamps Wqkv's output (its attn_config's
        # clip_qkv), the same.
        self.clip_qkv = field("clip_qkv", None, float) if (
            (olmo or mpt) and config.get("clip_qkv") is not None) else None
        # Phi-3's modeling file rotates the first int(head_dim *
        # partial_rotary_factor) entries of each head (Phi-4-mini: 96 of
        # 128); the others' rotate whole heads. Newer configs keep the
        # factor in rope_parameters.
        # StableLM's too, 1/4 where its config does not say
        # (StableLmConfig's default).
        # GPT-NeoX's a quarter (rotary_pct in 4.x configs), Phi's,
        # Nemotron's, GLM's and Persimmon's a half by default.
        partial_default = {"stablelm": 0.25, "phi": 0.5, "glm": 0.5,
                           "persimmon": 0.5,
                           "glm4": 0.5, "nemotron": 0.5,
                           "gpt_neox": config.get("rotary_pct", 0.25)}
        partial = rope.get("partial_rotary_factor", config.get(
            "partial_rotary_factor",
            partial_default.get(self.family, 1.0)))
        # vLLM's Nemotron reads these before partial_rotary_factor;
        # transformers reads none of them.
        for alias in ("rope_percent", "rope_percentage"):
            if nemotron and config.get(alias, partial) != partial:
                fail(f"{source}: {alias} {config[alias]!r} with "
                     f"partial_rotary_factor {partial!r}; transformers' "
                     f"Nemotron rotates by the latter and vLLM's by {alias}, "
                     "so mp does not guess which the checkpoint was trained "
                     "with")
        self.rotary_dims = self.head_dim
        if self.family in GPTJ_BLOCKS:  # its rotary_dim entries
            self.rotary_dims = field("rotary_dim", 64)
            if self.rotary_dims > self.head_dim or self.rotary_dims % 2:
                fail(f"{source}: rotary_dim {self.rotary_dims} of head_dim "
                     f"{self.head_dim}; mp.rope rotates an even number, at "
                     "most head_dim")
        elif partial != 1.0:
            if self.family not in ("phi3", "stablelm", "gpt_neox", "phi",
                                   "nemotron", "glm", "glm4", "persimmon"):
                fail(f"{source}: partial_rotary_factor {partial!r}; the "
                     f"{self.family} modeling file rotates every entry of a "
                     "head (Phi-3's, StableLM's, GPT-NeoX's, Phi's, "
                     "Nemotron's, GLM's and Persimmon's rotate part of it)")
            checked("partial_rotary_factor", partial, float)
            self.rotary_dims = int(self.head_dim * partial)
            if not 0 < self.rotary_dims <= self.head_dim or \
                    self.rotary_dims % 2:
                fail(f"{source}: partial_rotary_factor {partial!r} rotates "
                     f"{self.rotary_dims} entries of head_dim "
                     f"{self.head_dim}; mp.rope rotates an even number, at "
                     "least 2, at most head_dim")
        self.longrope = self.rope_attention_factor = None
        self.rope_yarn_scaling = None
        if longrope is not None:
            self.read_longrope(longrope, rope, config, source, checked)
        if yarn is not None:
            self.read_yarn(yarn, config, source, checked)
        # Gemma's hidden_activation overrides its legacy hidden_act, as
        # configuration_gemma.py documents (the Hub's Gemma configs say
        # "gelu" in hidden_act and "gelu_pytorch_tanh", the activation
        # Gemma was trained with, in hidden_activation).
        # VaultGemmaConfig has hidden_activation only (VaultGemmaMLP reads
        # it, gelu_pytorch_tanh where a config leaves it out).
        act_field = "hidden_activation" if self.family == "vaultgemma" or (
            gemma and config.get("hidden_activation")) else "hidden_act"
        act = config.get(act_field, "gelu_pytorch_tanh" if gemma or
                         self.family == "starcoder2" else {
            "gpt_neox": "gelu", "phi": "gelu_new", "nemotron": "relu2",
            "arcee": "relu2", "persimmon": "relu2"}.get(self.family, "silu"))
        if act_field == "hidden_activation" and \
                self.family != "vaultgemma" and \
                config.get("hidden_act", act) != act:
            print(f"hf-checkpoint.py: {source}: hidden_activation {act!r} "
                  f"and hidden_act {config['hidden_act']!r} differ; mp uses "
                  "hidden_activation (transformers versions that read "
                  "hidden_act compute another GELU)", file=sys.stderr)
        if act not in ACTIVATIONS:
            fail(f"{source}: {act_field} {act!r}; mp's feed-forward takes "
                 f"{', '.join(map(repr, ACTIVATIONS))}")
        self.mlp_activation = ACTIVATIONS[act]
        # Granite's constants (GraniteConfig's defaults, 1.0, where not
        # given: its scores are then scaled by 1, not 1/sqrt(head_dim)).
        self.granite_multipliers = {
            name: field(name, 1.0, float) for name in (
                "embedding_multiplier", "residual_multiplier",
                "attention_multiplier", "logits_scaling")
        } if self.family == "granite" else {}
        # GPT-Neo's scores are not scaled (GPTNeoSelfAttention's _attn):
        # Granite's attention_multiplier of 1.
        if gpt_neo:
            self.granite_multipliers = {"attention_multiplier": 1.0}
        # MPT's attn_config softmax_scale where given.
        if mpt and config["attention_multiplier"] is not None:
            self.granite_multipliers = {"attention_multiplier": field(
                "attn_config's softmax_scale", config["attention_multiplier"],
                float)}
        # Cohere's logits times logit_scale (CohereConfig's 0.0625 where
        # not given).
        self.logit_scale = field("logit_scale", 0.0625, float) \
            if cohere else None
        # Gemma's norms scale by 1 + weight (and Nemotron's LayerNorm1P),
        # Gemma's embeddings by sqrt(hidden_size).
        self.norm_weight_offset = 1 if gemma or nemotron else 0
        self.scale_embeddings = gemma
        # PretrainedConfig's default, true, where the class passes none
        # (StarCoder2's); Ernie4_5Config's true.
        self.tied = bool(config.get("tie_word_embeddings",
                                    gemma or cohere or self.family in (
                                        "smollm3", "starcoder2", "ernie4_5")))
        # Whether mp's model reads the embedding as its output projection
        # (no output.weight): a tied checkpoint's, unless untied.
        self.tie_embeddings = self.tied

    def read_padding_idx(self, config, source):
        """nn.Embedding's padding_idx: the config's pad_token_id (its
        class's default where not given), counted from the end where
        negative, in the families whose embedding takes it; None where
        there is none (GPT-NeoX's, Falcon's, GPT-J's, CodeGen's, GPT-2's,
        GPT-BigCode's, GPT-Neo's, BLOOM's and MPT's embeddings take
        none)."""
        if self.family in ("gpt_neox", "falcon", "gpt_neo", "bloom", "mpt") \
                + GPTJ_BLOCKS + GPT2_BLOCKS:
            return None
        pad = config.get("pad_token_id", PAD_TOKEN_DEFAULTS.get(self.family))
        if pad is None:
            return None
        # nn.Embedding refuses any other, so Hugging Face's model does.
        if isinstance(pad, bool) or not isinstance(pad, int) or \
                not -self.vocab <= pad < self.vocab:
            fail(f"{source}: pad_token_id {pad!r} is not a row of the "
                 f"{self.vocab}-row embedding (nn.Embedding's padding_idx)")
        return pad % self.vocab

    def read_nope_layers(self, config, source, field):
        """SmolLM3Config's no_rope_layers (1: rotate, 0: not; a flag per
        layer, those past the last layer unread as in SmolLM3Attention), or
        every no_rope_layer_interval-th layer (4) without rotation."""
        flags = config.get("no_rope_layers")
        if flags is None:
            interval = field("no_rope_layer_interval", 4)
            flags = [int((layer + 1) % interval != 0)
                     for layer in range(self.layers)]
        if not isinstance(flags, list) or len(flags) < self.layers or \
                any(flag not in (0, 1) for flag in flags):
            fail(f"{source}: no_rope_layers {flags!r} is not 0 or 1 for "
                 f"each of the {self.layers} layers")
        return [layer for layer, flag in enumerate(flags[:self.layers])
                if not flag]

    def read_longrope(self, longrope, rope, config, source, checked):
        """Phi-3's longrope as _compute_longrope_parameters reads it: the
        short and long factors (one per rotated pair), the context of the
        short ones, and the attention factor on cos and sin (where not
        given, sqrt(1 + ln factor / ln original) with factor the config's
        or max_position_embeddings / original_max_position_embeddings)."""
        pairs = self.rotary_dims // 2
        factors = []
        for key in ("short_factor", "long_factor"):
            values = longrope.get(key)
            if not isinstance(values, list) or len(values) != pairs or any(
                    isinstance(v, bool) or not isinstance(v, (int, float)) or
                    not 0 < v < float("inf") for v in values):
                fail(f"{source}: rope scaling 'longrope' {key} must be "
                     f"{pairs} positive numbers, one per rotated pair; got "
                     f"{values!r}")
            factors.append([float(v) for v in values])
        key = "original_max_position_embeddings"
        original = checked(key, self.pretraining_context(
            longrope, rope, config), int)
        # Phi3Config's default max_position_embeddings: 4096.
        length = 4096 if self.family == "phi3" else \
            config.get("max_position_embeddings")
        # A factor given is transformers 5's (4.x takes the ratio of the
        # lengths for Phi-3 even then; the Hub's Phi configs give none).
        factor = longrope.get("factor")
        if factor is None:
            factor = checked("max_position_embeddings", config.get(
                "max_position_embeddings", length), int) / original
        factor = checked("rope scaling 'longrope' factor", factor, float)
        attention = longrope.get("attention_factor")
        if attention is None and factor > 1 and original < 2:
            fail(f"{source}: {key} {original}; longrope's attention factor "
                 "divides by its logarithm")
        if attention is None:
            attention = 1.0 if factor <= 1 else math.sqrt(
                1 + math.log(factor) / math.log(original))
        self.longrope = (*factors, original)
        self.rope_attention_factor = checked(
            "rope scaling 'longrope' attention_factor", attention, float)

    def pretraining_context(self, scaling, rope, config):
        """original_max_position_embeddings as transformers 5's
        standardize_rope_params gives it to longrope and YaRN: the config's
        own first (Phi3Config always has one, 4096 by default), else
        rope_scaling's (or rope_parameters'), else max_position_embeddings;
        None where there is none."""
        key = "original_max_position_embeddings"
        own = config.get(key, 4096 if self.family == "phi3" else None)
        if own is not None:
            return own
        return scaling.get(key, rope.get(key, config.get(
            "max_position_embeddings")))

    def read_yarn(self, yarn, config, source, checked):
        """YaRN as transformers 5's _compute_yarn_parameters reads it: the
        factor, the pretraining context (original_max_position_embeddings:
        the config's own where it has one, as standardize_rope_params
        prefers it, else rope_scaling's, else max_position_embeddings),
        beta_fast and beta_slow (32 and 1 where absent or 0), truncate
        (true unless false) and the attention factor on cos and sin (where
        not given, 0.1 ln factor + 1, or DeepSeek's ratio of two such terms
        scaled by mscale and mscale_all_dim where both are given)."""
        factor = checked("rope scaling 'yarn' factor", yarn.get("factor"),
                         float)
        if factor < 1:
            fail(f"{source}: rope scaling 'yarn' with factor {factor!r}; "
                 "Hugging Face's is at least 1")
        key = "original_max_position_embeddings"
        original = self.pretraining_context(yarn, {}, config)
        if original is None:
            # The config classes' defaults differ by family.
            fail(f"{source}: rope scaling 'yarn' without {key} or "
                 "max_position_embeddings, the context its ramp counts in")
        original = checked(key, original, int)
        betas = [checked(f"rope scaling 'yarn' {name}", yarn.get(name) or
                         default, float)
                 for name, default in (("beta_fast", 32.0), ("beta_slow", 1.0))]
        # Hugging Face tests it for truth: null is false.
        truncate = yarn.get("truncate", True)
        if truncate is None:
            truncate = False
        if not isinstance(truncate, bool):
            fail(f"{source}: rope scaling 'yarn' truncate {truncate!r} is "
                 "not true, false or null")
        if not self.rope_theta > 1:
            fail(f"{source}: rope_theta {self.rope_theta!r}; YaRN's ramp "
                 "divides by its logarithm, which must be positive")

        def mscale(scale, weight=1.0):
            return 1.0 if scale <= 1 else 0.1 * weight * math.log(scale) + 1.0

        attention = yarn.get("attention_factor")
        weights = [yarn.get(name) for name in ("mscale", "mscale_all_dim")]
        if attention is None and all(weights):
            weights = [checked(f"rope scaling 'yarn' {name}", weight, float)
                       for name, weight in zip(
                           ("mscale", "mscale_all_dim"), weights)]
            attention = mscale(factor, weights[0]) / mscale(factor,
                                                            weights[1])
        elif attention is None:
            attention = mscale(factor)
        self.rope_yarn_scaling = (factor, original, *betas, truncate)
        self.rope_attention_factor = checked(
            "rope scaling 'yarn' attention_factor", attention, float)

    def gen_llama_args(self):
        args = (f"--layers {self.layers} --dim {self.dim} --heads "
                f"{self.heads} --kv-heads {self.kv_heads} --ffn-hidden "
                f"{self.ffn_hidden} --vocab {self.vocab} --norm-eps "
                f"{self.norm_eps!r} --rope-theta {float(self.rope_theta)!r}")
        if self.rope_scaling:
            args += " --rope-scaling " + ",".join(
                repr(v) for v in self.rope_scaling)
        if self.rope_linear_scaling:
            args += f" --rope-linear-scaling {float(self.rope_linear_scaling)!r}"
        if self.rope_dynamic_scaling:
            factor, context = self.rope_dynamic_scaling
            args += f" --rope-dynamic-scaling {factor!r},{context}"
        if self.head_dim * self.heads != self.dim:
            args += f" --head-dim {self.head_dim}"
        if self.rotary_dims != self.head_dim:
            args += f" --rotary-dims {self.rotary_dims}"
        if self.longrope:
            short, long, original = self.longrope
            args += (" --longrope-short-factors " +
                     ",".join(map(repr, short)) +
                     " --longrope-long-factors " + ",".join(map(repr, long)) +
                     f" --longrope-original-context {original}")
        if self.rope_yarn_scaling:
            *numbers, truncate = self.rope_yarn_scaling
            args += " --rope-yarn-scaling " + ",".join(map(repr, numbers))
            if not truncate:
                args += " --rope-yarn-no-truncate"
        if self.rope_attention_factor not in (None, 1.0):
            args += f" --rope-attention-factor {self.rope_attention_factor!r}"
        if self.attention_bias:
            args += f" --attention-bias {self.attention_bias}"
        if self.mlp_bias:
            args += " --mlp-bias"
        if self.plain_mlp:
            args += " --plain-mlp"
        if self.parallel_block:
            args += f" --parallel-block {self.parallel_block}"
        if self.qk_norm:
            args += " --qk-norm" + ("" if self.qk_norm == "head"
                                    else f" {self.qk_norm}")
        if self.qk_norm_after_rope:
            args += " --qk-norm-after-rope"
        if self.post_norm:
            args += " --post-norm"
        if self.sliding_window:
            args += f" --sliding-window {self.sliding_window}"
            # The layers from one on (--window-from-layer), or any others.
            first = self.window_layers[0]
            if self.window_layers != list(range(first, self.layers)):
                args += " --window-layers " + ",".join(
                    map(str, self.window_layers))
            elif first:
                args += f" --window-from-layer {first}"
        if self.nope_layers:
            args += " --nope-layers " + ",".join(map(str, self.nope_layers))
        if self.learned_positions:
            args += f" --learned-positions {self.learned_positions}"
        if self.positions_offset:
            args += f" --positions-offset {self.positions_offset}"
        if self.norm_after_residual:
            args += " --norm-after-residual"
        if not self.final_norm:
            args += " --no-final-norm"
        if self.embedding_dim:
            args += f" --embedding-dim {self.embedding_dim}"
        if self.alibi:
            args += f" --alibi {self.alibi!r}"
        if self.falcon_alibi:
            args += " --falcon-alibi"
        if self.embedding_norm:
            args += " --embedding-norm"
        if self.mlp_activation != "silu":
            args += f" --mlp-activation {self.mlp_activation}"
        if self.layer_norm:
            args += " --layer-norm"
            if not self.norm_weights:
                args += " --no-norm-weights"
            elif not self.norm_bias:
                args += " --no-norm-bias"
        if self.norm_weight_offset:
            args += f" --norm-weight-offset {self.norm_weight_offset}"
        if self.scale_embeddings:
            args += " --scale-embeddings"
        if self.sandwich_norm:
            args += " --sandwich-norm"
        for option, value in [
                ("--attention-softcap", self.attention_softcap),
                ("--final-softcap", self.final_softcap),
                ("--query-pre-attn-scalar", self.query_pre_attn_scalar),
                ("--local-rope-theta", self.local_rope_theta),
                ("--clip-qkv", self.clip_qkv)]:
            if value is not None:
                args += f" {option} {float(value)!r}"
        for name, value in self.granite_multipliers.items():
            args += f" --{name.replace('_', '-')} {float(value)!r}"
        if self.logit_scale is not None:
            args += f" --logit-scale {float(self.logit_scale)!r}"
        if self.tie_embeddings:
            args += " --tie-embeddings"
        if self.output_bias:
            args += " --output-bias"
        if self.padding_idx is not None:
            args += f" --padding-idx {self.padding_idx}"
        return args

    def parameters(self):
        """mp's Parameters in gen-llama.py's order. The rotary heads of
        q_proj's and k_proj's rows and biases, and of q_norm's and k_norm's
        weights (one head's, or every head's), are in rotate_half's order in
        Hugging Face's checkpoints."""
        d, hd, hidden = self.dim, self.head_dim, self.ffn_hidden
        q_rows, kv_rows = self.heads * hd, self.kv_heads * hd
        qkv_rows = q_rows + 2 * kv_rows
        names = self.hf_names
        words = self.embedding_dim or d
        params = [Parameter("tok_embeddings.weight",
                            names["tok_embeddings"] + ".weight",
                            (self.vocab, words))]
        if self.learned_positions:
            params.append(Parameter("pos_embeddings.weight",
                                    names["pos_embeddings"] + ".weight",
                                    (self.learned_positions, d)))
        if self.embedding_dim:
            params.append(Parameter("project_in.weight",
                                    names["project_in"] + ".weight",
                                    (d, words)))
        if self.embedding_norm:
            params.append(Parameter("embedding_norm.weight",
                                    names["embedding_norm"] + ".weight",
                                    (d,)))
        # Where a fused linear holds each of mp's: (its first row in each
        # group of rows, its rows, its groups): Phi-3's qkv_proj and
        # gate_up_proj one group; GPT-NeoX's and Falcon's query_key_value a
        # group per key-value head, its queries' rows then the key's and
        # the value's (GPT-NeoX: 3 * head_dim rows per head; Falcon-7B,
        # multi-query: one group).
        fused_rows = {}
        if self.family in ("phi3", "glm", "glm4"):  # gate_up_proj
            fused_rows = {"feed_forward.w1": (0, 2 * hidden, 1),
                          "feed_forward.w3": (hidden, 2 * hidden, 1)}
        if self.family == "codegen":
            # CodeGenAttention's qkv_proj: CODEGEN_QKV_GROUPS groups of
            # rows, each a quarter of the heads' queries, values, keys.
            quarter = q_rows // CODEGEN_QKV_GROUPS
            fused_rows = {
                name: (first * quarter, qkv_rows, CODEGEN_QKV_GROUPS)
                for first, name in [(0, "attention.wq"), (1, "attention.wv"),
                                    (2, "attention.wk")]}
        elif self.family in ("phi3", "gpt2", "mpt") or (
                self.family == "gpt_bigcode" and not self.fused):
            # GPT-2's c_attn by columns, MPT's Wqkv; GPT-BigCode's
            # multi-query q, then the key and the value.
            fused_rows.update({
                "attention.wq": (0, qkv_rows, 1),
                "attention.wk": (q_rows, qkv_rows, 1),
                "attention.wv": (q_rows + kv_rows, qkv_rows, 1)})
        elif self.fused:
            per_kv = self.heads // self.kv_heads
            fused_rows = {
                name: (first * hd, qkv_rows, self.kv_heads)
                for first, name in [(0, "attention.wq"),
                                    (per_kv, "attention.wk"),
                                    (per_kv + 1, "attention.wv")]}
        conv1d = self.family == "gpt2"  # its linears' weights [in, out]
        for i in range(self.layers):
            mp, hf = f"layers.{i}.", f"{names['layers']}{i}."

            def linear(mp_name, out, inp, bias, heads=0):
                first_row, hf_rows, groups = fused_rows.get(
                    mp_name, (0, None, 1))
                for kind, shape in [("weight", (out, inp)), ("bias", (out,))]:
                    if kind == "weight" or bias:
                        params.append(Parameter(
                            f"{mp}{mp_name}.{kind}",
                            f"{hf}{names[mp_name]}.{kind}", shape, heads,
                            first_row, hf_rows, groups,
                            transposed=kind == "weight" and conv1d))

            params.append(Parameter(
                mp + "attention_norm.weight",
                hf + ("post_attention_layernorm" if self.post_norm
                      else self.norm_names[0]) + ".weight", (d,)))
            qkv_bias = self.attention_bias in ("qkv", "all")
            rotate_half = self.family not in PAIR_ROTATING and \
                not (self.learned_positions or self.alibi)
            linear("attention.wq", q_rows, d, qkv_bias,
                   self.heads * rotate_half)
            linear("attention.wk", kv_rows, d, qkv_bias,
                   self.kv_heads * rotate_half)
            linear("attention.wv", kv_rows, d, qkv_bias)
            linear("attention.wo", d, q_rows,
                   self.attention_bias in ("all", "out"))
            if self.qk_norm == "each-head":
                # Every head's weights, [heads, head_dim]: Cohere's one
                # tensor, StableLM's one LayerNorm per head.
                stablelm = self.family == "stablelm"
                for norm, heads, hf_norm in [
                        ("q_norm", self.heads, "q_layernorm"),
                        ("k_norm", self.kv_heads, "k_layernorm")]:
                    params.append(Parameter(
                        f"{mp}attention.{norm}.weight",
                        f"{hf}self_attn." + (
                            f"{hf_norm}.norms.{{head}}.weight" if stablelm
                            else f"{norm}.weight"),
                        (heads, hd), heads * rotate_half,
                        head_tensors=heads if stablelm else 0))
            elif self.qk_norm:
                # One head's weights, or every head's (whole); Persimmon's
                # and Phi's are q_layernorm and k_layernorm (their biases
                # follow, as the other LayerNorms').
                whole = self.qk_norm == "whole"
                q_heads = self.heads if whole else 1
                kv_heads = self.kv_heads if whole else 1
                q_name, k_name = ("query_layernorm", "key_layernorm") \
                    if self.family == "hunyuan_v1_dense" else \
                    ("q_layernorm", "k_layernorm") if self.layer_norm else \
                    ("q_norm", "k_norm")
                params += [Parameter(mp + "attention.q_norm.weight",
                                     f"{hf}self_attn.{q_name}.weight",
                                     (q_heads * hd,), q_heads * rotate_half),
                           Parameter(mp + "attention.k_norm.weight",
                                     f"{hf}self_attn.{k_name}.weight",
                                     (kv_heads * hd,),
                                     kv_heads * rotate_half)]
            # The layer's second norm: OLMo 2's after the MLP, Gemma 2's
            # after the attention (and a third and fourth, its MLP's), none
            # in Phi's block, the others' before the MLP.
            post_attention, pre_ffn, post_ffn = self.sandwich_names
            if self.sandwich_norm:
                params += [Parameter(mp + "post_attention_norm.weight",
                                     hf + post_attention + ".weight", (d,)),
                           Parameter(mp + "ffn_norm.weight",
                                     hf + pre_ffn + ".weight", (d,))]
            elif self.parallel_block != "shared":
                params.append(Parameter(
                    mp + "ffn_norm.weight",
                    hf + ("post_feedforward_layernorm" if self.post_norm
                          else self.norm_names[1]) + ".weight", (d,)))
            linear("feed_forward.w1", hidden, d, self.mlp_bias)
            linear("feed_forward.w2", d, hidden, self.mlp_bias)
            if not self.plain_mlp:
                linear("feed_forward.w3", hidden, d, self.mlp_bias)
            if self.sandwich_norm:
                params.append(Parameter(mp + "post_ffn_norm.weight",
                                        hf + post_ffn + ".weight", (d,)))
        if self.final_norm:
            params.append(Parameter("norm.weight", names["norm"] + ".weight",
                                    (d,)))
        if self.embedding_dim:
            params.append(Parameter("project_out.weight",
                                    names["project_out"] + ".weight",
                                    (words, d)))
        if not self.tie_embeddings:
            params.append(Parameter("output.weight",
                                    names["output"] + ".weight",
                                    (self.vocab, words)))
        if self.output_bias:
            params.append(Parameter("output.bias", names["output"] + ".bias",
                                    (self.vocab,)))
        if not self.norm_weights:  # OLMo's norms have no parameters
            params = [param for param in params
                      if not param.mp.endswith("norm.weight")]
        if self.norm_bias:  # each LayerNorm's bias after its weight
            # (StableLM's per-head q/k LayerNorms have none)
            params = [bias for param in params for bias in (
                [param, param._replace(mp=param.mp[:-len("weight")] + "bias",
                                       hf=param.hf[:-len("weight")] + "bias")]
                if param.mp.endswith("norm.weight") and len(param.shape) == 1
                else [param])]
        return params

    @property
    def hf_names(self):
        """Hugging Face's module names of this family's layout."""
        return HF_NAMES.get(self.family, LLAMA_NAMES)

    def output_name(self):
        """Hugging Face's name of the output projection's weight."""
        return self.hf_names["output"] + ".weight"

    def embedding_name(self):
        return self.hf_names["tok_embeddings"] + ".weight"


def hf_rows_shape(param):
    """The shape of the Hugging Face tensor that holds param (each of its
    heads' tensors), its rows first (a Conv1D's weight transposed)."""
    if param.head_tensors:
        return param.shape[1:]
    if param.hf_rows is None:
        return param.shape
    return (param.hf_rows, *param.shape[1:])


def hf_shape(param):
    """The shape of the Hugging Face tensor as it is stored."""
    shape = hf_rows_shape(param)
    return tuple(reversed(shape)) if param.transposed else shape


def hf_tensor_names(param):
    """The Hugging Face tensors that hold param: one, or one per head."""
    if not param.head_tensors:
        return [param.hf]
    return [param.hf.format(head=head) for head in range(param.head_tensors)]


def reorder_heads(values, param, rotary_dims, to_hf):
    """param's values with each rotated head's rows (a norm's entries,
    every head's weights one after the other) from rotate_half's order
    to Meta's interleaved pairs, or back (to_hf)."""
    if not param.rotary_heads:
        return values
    rows = values.reshape(-1) if param.mp.endswith("norm.weight") else values
    return reorder_rotated(rows, param.rotary_heads, rotary_dims,
                           to_hf).reshape(values.shape)


def reorder_rotated(values, heads, rotary_dims, pairs_first):
    """Each head's first rotary_dims rows (or entries) reordered, the rest
    as they are: from rotate_half's order (the halves [0, r/2) and [r/2, r))
    to Meta's interleaved pairs, or back (pairs_first)."""
    head = values.reshape(heads, -1, *values.shape[1:])
    rest = head.shape[2:]
    split = (2, rotary_dims // 2) if not pairs_first else (rotary_dims // 2, 2)
    rotated = head[:, :rotary_dims].reshape(heads, *split, *rest).swapaxes(
        1, 2).reshape(heads, rotary_dims, *rest)
    return np.concatenate([rotated, head[:, rotary_dims:]], axis=1).reshape(
        values.shape)


def read_config(hf_dir):
    path = os.path.join(hf_dir, "config.json")
    try:
        with open(path) as f:
            return json.load(f), path
    except (OSError, ValueError) as error:
        fail(f"{path}: {error}")


def is_multimodal(config):
    return config.get("model_type") in MULTIMODAL


def text_model_config(config, source):
    """The config of the model mp trains: a multimodal model's text model
    (its text_config, or a flat config's own fields, over its config
    class's defaults), or the config itself."""
    if not is_multimodal(config):
        return config
    kind = config["model_type"]
    text = config.get("text_config")
    if text is None and kind in FLAT_MULTIMODAL:
        text = {key: value for key, value in config.items()
                if key not in ("model_type", "vision_config")}
    if not isinstance(text, dict):
        fail(f"{source}: model_type {kind!r} without a text_config")
    text_class = MULTIMODAL[kind] if kind == "gemma3" else \
        text.get("model_type", MULTIMODAL[kind])
    if text_class not in TEXT_DEFAULTS:
        fail(f"{source}: a {kind} whose text model is {text_class!r}; this "
             "script reads the text models "
             f"{', '.join(map(repr, TEXT_DEFAULTS))} of multimodal models")
    merged = dict(TEXT_DEFAULTS[text_class])
    if "tie_word_embeddings" in config:
        merged["tie_word_embeddings"] = config["tie_word_embeddings"]
    merged.update(text)
    merged["model_type"] = TEXT_CLASSES.get(text_class, text_class)
    if text_class in TEXT_CLASSES:
        # The Qwen-VLs' mrope: on text the default rotation
        # (Qwen2VLTextConfig makes it "default" itself); its sections go.
        for key in ("rope_scaling", "rope_parameters"):
            scaling = merged.get(key)
            if isinstance(scaling, dict) and "mrope_section" in scaling:
                merged[key] = {k: v for k, v in scaling.items() if k not in (
                    "type", "rope_type", "mrope_section",
                    "mrope_interleaved")} or None
    return merged


def text_layout(config, tensors, hf_dir):
    """The prefixes under which the checkpoint keeps model.* and lm_head.*
    of the text model: themselves, or a multimodal model's (or a
    GPT2Model's, an OPTModel's names)."""
    family = config.get("model_type")
    if family in BASE_MODEL_PREFIXES:
        embedding = HF_NAMES[family]["tok_embeddings"] + ".weight"
        if embedding not in tensors and embedding.removeprefix(
                BASE_MODEL_PREFIXES[family]) in tensors:
            return BASE_MODEL_LAYOUT
    if not is_multimodal(config):
        return FLAT_LAYOUT
    layouts = MULTIMODAL_LAYOUTS + (
        [FLAT_LAYOUT] if config["model_type"] in FLAT_MULTIMODAL else [])
    for layout in layouts:
        if layout[0] + "embed_tokens.weight" in tensors:
            return layout
    fail(f"{hf_dir}: no " + " or ".join(
        model + "embed_tokens.weight" for model, _ in layouts) +
        f": no text model in this {config['model_type']}")


def stored_name(hf, layout):
    """A text model tensor's name in a checkpoint of that layout (a text
    model's own checkpoint keeps every name, GPT-NeoX's gpt_neox.* and
    embed_out.* too)."""
    model, lm_head = layout
    if layout == FLAT_LAYOUT:
        return hf
    if layout == BASE_MODEL_LAYOUT:
        prefix = next((prefix for prefix in BASE_MODEL_PREFIXES.values()
                       if hf.startswith(prefix)), "")
        return hf.removeprefix(prefix)
    if hf.startswith("model."):
        return model + hf[len("model."):]
    return lm_head + hf[len("lm_head."):]


def vision_tensors(config, tensors, layout):
    """A multimodal model's tensors outside its text model: its vision
    tower's, projector's (and LLaVA-NeXT's image_newline)."""
    if not is_multimodal(config):
        return []
    return [name for name in tensors if not name.startswith(layout)]


def bf16_bits(values):
    """The bf16 nearest each float32 (ties to even), as its 16 bits."""
    bits = np.ascontiguousarray(values, np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")


def write_safetensors(path, entries):
    """entries: [(name, dtype, shape, make)], make() returning the tensor's
    little-endian bytes; written one at a time after the header."""
    header, offset = {}, 0
    for name, dtype, shape, _ in entries:
        size = int(np.prod(shape, dtype=object)) * ELEMENT_BYTES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    # The data starts 8-byte aligned, as safetensors' own writer pads it.
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name, dtype, shape, make in entries:
            data = make()
            if len(data) != header[name]["data_offsets"][1] - \
                    header[name]["data_offsets"][0]:
                fail(f"internal: {name} wrote {len(data)} bytes")
            f.write(data)
    os.replace(path + ".tmp", path)


def expect_shape(name, found, shape, source):
    if tuple(found) != tuple(shape):
        fail(f"{source}: {name} is {list(found)}, the config says "
             f"{list(shape)}")


# The dropout probabilities of the families' configs (and OPT's of its
# own: OPTConfig's dropout and LayerDrop's chance to skip a layer; its
# activation_dropout is applied nowhere in OPTDecoderLayer).
DROPOUTS = ("attention_dropout", "resid_pdrop", "embd_pdrop", "hidden_dropout",
            "attn_pdrop", "residual_dropout", "embedding_dropout")
FAMILY_DROPOUTS = {"opt": ("dropout", "layerdrop"),
                   "gpt_neo": ("resid_dropout", "embed_dropout"),
                   "mpt": ("emb_pdrop",)}


def import_checkpoint(args):
    config, config_path = read_config(args.hf_dir)
    text_config = text_model_config(config, config_path)
    shape = LlamaShape(text_config, config_path)
    # mp's training step has no dropout: one in the config is refused,
    # or with --without-dropout trained without (as fine-tuning recipes
    # that set it to 0 do). MPT's attention's is its attn_config's.
    dropouts = dict(text_config)
    if shape.family == "mpt" and isinstance(text_config.get("attn_config"),
                                            dict):
        dropouts.pop("attn_pdrop", None)
        dropouts.update({key: value for key, value in
                         text_config["attn_config"].items()
                         if key == "attn_pdrop"})
    for dropout in DROPOUTS + FAMILY_DROPOUTS.get(shape.family, ()):
        rate = dropouts.get(dropout, DROPOUT_DEFAULTS.get(
            shape.family, {}).get(dropout))
        if not rate:
            continue
        given = "" if dropout in dropouts else " (its config class's)"
        if not args.without_dropout:
            fail(f"{config_path}: {dropout} {rate!r}{given}; mp trains "
                 "without dropout (--without-dropout: train so)")
        print(f"hf-checkpoint.py: {config_path}: {dropout} {rate!r}{given}: "
              "trained without it (--without-dropout)", file=sys.stderr)
    shape.tie_embeddings = shape.tied and not args.untie_embeddings
    if shape.output_bias and shape.tie_embeddings:
        fail(f"{config_path}: tie_word_embeddings with lm_head's bias: mp "
             "ties the output's weight only (--untie-embeddings trains an "
             "output of its own, bias included)")
    tensors = open_checkpoint(args.hf_dir)
    layout = text_layout(config, tensors, args.hf_dir)
    params = shape.parameters()
    known = {stored_name(name, layout) for param in params
             for name in hf_tensor_names(param)}
    # Older conversions saved buffers: the rotary frequencies (they follow
    # from rope_theta), GPT-NeoX's, GPT-J's, CodeGen's, GPT-2's and
    # GPT-BigCode's causal mask and its fill value, GPT-Neo's attention
    # masks, fairseq's version of OPT's decoder (OPTPreTrainedModel's
    # _keys_to_ignore_on_load_unexpected). A tied model's lm_head.weight,
    # where saved, is the embedding: Hugging Face ties it on loading. A
    # multimodal model's vision tower stays behind (export copies it
    # back).
    ignored = {stored_name(shape.output_name(), layout)} if shape.tied \
        else set()
    ignored |= set(vision_tensors(config, tensors, layout))
    buffers = ("rotary_emb.inv_freq",) + {
        "gpt_neox": (".attention.bias", ".attention.masked_bias"),
        "gptj": (".attn.bias", ".attn.masked_bias"),
        "codegen": (".attn.causal_mask", ".attn.masked_bias"),
        "gpt2": (".attn.bias", ".attn.masked_bias"),
        "gpt_bigcode": (".attn.bias", ".attn.masked_bias",
                        "transformer.bias"),
        "opt": ("decoder.version",),
        "gpt_neo": (".attn.attention.bias", ".attn.attention.masked_bias")}.get(
            shape.family, ())
    extra = sorted(n for n in tensors
                   if n not in known and n not in ignored
                   and not n.endswith(buffers))
    if extra:
        fail(f"{args.hf_dir}: {len(extra)} tensors that mp's Llama does not "
             f"have: {', '.join(extra[:5])}")
    entries = []
    for param in params:
        names = hf_tensor_names(param)
        if names == [shape.output_name()] and shape.tied:
            names = [shape.embedding_name()]
        sources = [stored_name(name, layout) for name in names]
        for source in sources:
            if source not in tensors:
                fail(f"{args.hf_dir}: no {source}")

        def make(names=names, sources=sources, param=param):
            rows = None
            if param.hf_rows is not None:
                group_rows = param.shape[0] // param.row_groups
                rows = slice(param.first_row, param.first_row + group_rows)
            parts = []
            for name, source in zip(names, sources):
                file = tensors[source]
                expect_shape(name, file.entries[source]["shape"],
                             hf_shape(param), args.hf_dir)
                if param.transposed:  # rows of the weight's transpose
                    whole = file.read(source).T
                    parts.append(whole if rows is None else take_rows(
                        whole, rows, param.row_groups))
                else:
                    parts.append(file.read(source, rows, param.row_groups))
            values = np.stack(parts) if param.head_tensors else parts[0]
            values = reorder_heads(values, param, shape.rotary_dims, False)
            return np.ascontiguousarray(values, "<f4").tobytes()

        entries.append((param.mp, "F32", param.shape, make))
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "init.safetensors"), entries)
    with open(os.path.join(args.out, "gen-llama-args"), "w") as f:
        f.write(shape.gen_llama_args() + "\n")
    print(f"{args.out}/init.safetensors: {len(entries)} parameters of "
          f"{args.hf_dir} (float32, torchtitan's names)")
    vision = vision_tensors(config, tensors, layout)
    if vision:
        print(f"{args.hf_dir}: its text model only; its {len(vision)} other "
              "tensors (vision tower, projector) stay there (export copies "
              "them back)")
    print(f"{args.out}/gen-llama-args: {shape.gen_llama_args()}")


def export_checkpoint(args):
    config, config_path = read_config(args.config)
    shape = LlamaShape(text_model_config(config, config_path), config_path)
    # A multimodal model's text tensors go where its checkpoint keeps them,
    # its vision tensors across as they are (in --dtype).
    source = open_checkpoint(args.config) if is_multimodal(config) else {}
    layout = text_layout(config, source, args.config)
    dtype = args.dtype or {"bfloat16": "bf16", "float16": "f16"}.get(
        config.get("torch_dtype"), "f32")
    trained = SafeTensorsFile(args.trained)
    # Trained tied (no output.weight), it goes back tied; trained untied,
    # with its own lm_head whatever the source was.
    shape.tie_embeddings = "output.weight" not in trained.entries
    if shape.tie_embeddings and not shape.tied:
        fail(f"{args.trained}: no output.weight, and {config_path} does not "
             "tie the embeddings")
    # Each Hugging Face tensor from its parameters (Phi-3's and GPT-NeoX's
    # fused linears from several, joined in the order of their rows in each
    # group: CodeGen's q, v, k), or from one head of one (StableLM's
    # per-head LayerNorms).
    parts = {}
    for param in shape.parameters():
        if param.mp not in trained.entries:
            fail(f"{args.trained}: no {param.mp}")
        for head, name in enumerate(hf_tensor_names(param)):
            parts.setdefault(stored_name(name, layout), []).append(
                (param, head))

    def encode(values):
        if dtype == "bf16":
            return bf16_bits(values).tobytes()
        if dtype == "f16":
            return np.ascontiguousarray(values, "<f2").tobytes()
        return np.ascontiguousarray(values, "<f4").tobytes()

    entries = []
    stored_dtype = {"bf16": "BF16", "f16": "F16", "f32": "F32"}[dtype]
    for hf_name, params in parts.items():

        def make(params=params):
            values = []
            for param, head in sorted(
                    params, key=lambda entry: entry[0].first_row):
                value = trained.read(param.mp)
                expect_shape(param.mp, value.shape, param.shape, args.trained)
                value = reorder_heads(value, param, shape.rotary_dims, True)
                if param.head_tensors:
                    value = value[head]
                values.append(value.reshape(
                    param.row_groups, -1, *value.shape[1:]))
            joined = np.concatenate(values, axis=1).reshape(
                hf_rows_shape(params[0][0]))
            return encode(joined.T if params[0][0].transposed else joined)

        entries.append((hf_name, stored_dtype, hf_shape(params[0][0]), make))
    vision = vision_tensors(config, source, layout)
    for name in vision:
        entries.append((name, stored_dtype, source[name].entries[name]["shape"],
                        lambda name=name: encode(source[name].read(name))))
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "model.safetensors"), entries)
    config = dict(config, torch_dtype={"bf16": "bfloat16", "f16": "float16",
                                       "f32": "float32"}[dtype],
                  tie_word_embeddings=shape.tie_embeddings)
    if "text_config" in config:
        config["text_config"] = dict(
            config["text_config"], tie_word_embeddings=shape.tie_embeddings)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print(f"{args.out}/model.safetensors: {len(entries)} tensors ({dtype}, "
          "Hugging Face's names" +
          (f"; {len(vision)} outside the text model, copied from "
           f"{args.config}" if vision else "") + ")")
    copy_custom_code(config, args.config, args.out)


def custom_code_files(config):
    """The Python files of a custom-code model's modules, as its config's
    auto_map names them ("modeling_internlm2.InternLM2ForCausalLM", or
    "repo--module.Class"); names that are not dotted Python identifiers
    are passed over (no path leaves the checkpoint's directory)."""
    files = set()
    for value in (config.get("auto_map") or {}).values():
        for reference in value if isinstance(value, list) else [value]:
            if not isinstance(reference, str):
                continue
            module = reference.split("--")[-1].rpartition(".")[0]
            parts = module.split(".")
            if module and all(part.isidentifier() for part in parts):
                files.add(os.path.join(*parts) + ".py")
    return sorted(files)


def copy_custom_code(config, source, out):
    """Copies the modules a custom-code model's config names (InternLM2's
    configuration_internlm2.py, modeling_internlm2.py) beside the export,
    so that it loads with trust_remote_code as its source did."""
    for name in custom_code_files(config):
        path = os.path.join(source, name)
        if not os.path.isfile(path):
            print(f"{source}: no {name}, which auto_map names: copy it "
                  f"beside {out}/config.json for trust_remote_code")
            continue
        os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
        shutil.copyfile(path, os.path.join(out, name))
        print(f"{out}/{name}: copied from {source} (auto_map)")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "))
    commands = parser.add_subparsers(dest="command", required=True)
    to_mp = commands.add_parser("import", help="HF_DIR -> init.safetensors")
    to_mp.add_argument("hf_dir")
    to_mp.add_argument("--out", required=True)
    to_mp.add_argument("--untie-embeddings", action="store_true")
    to_mp.add_argument("--without-dropout", action="store_true",
                       help="train without the config's dropout instead "
                            "of refusing it")
    to_hf = commands.add_parser("export", help="trained -> model.safetensors")
    to_hf.add_argument("trained")
    to_hf.add_argument("--config", required=True,
                       help="the Hugging Face directory it was imported from")
    to_hf.add_argument("--out", required=True)
    to_hf.add_argument("--dtype", choices=["bf16", "f16", "f32"])
    args = parser.parse_args()
    if args.command == "import":
        import_checkpoint(args)
    else:
        export_checkpoint(args)


if __name__ == "__main__":
    main()
