#!/usr/bin/env bash
# Trains a Llama-shaped model end to end: generates it
# (examples/llama/gen-llama.py) and torchtitan's tensor-parallel plan with
# FSDP (examples/llama/plan.json) for the mesh, then hands both to
# scripts/run-ffn.sh, which prints the summary, builds, partitions and
# verifies the training step, prints its collectives, bytes and memory,
# compiles and links it, and trains on DP*TP local ranks.
#
#   scripts/run-llama.sh [--mesh DPxTP] [--layers N] [--dim N] [--heads N]
#                        [--kv-heads N] [--head-dim N] [--ffn-hidden N]
#                        [--vocab N] [--norm-eps E] [--rope-theta T]
#                        [--rope-scaling FACTOR,LOW,HIGH,CONTEXT]
#                        [--rope-dynamic-scaling FACTOR,CONTEXT]
#                        [--attention-bias qkv|all|out] [--mlp-bias]
#                        [--qk-norm [head|whole|each-head]]
#                        [--qk-norm-after-rope] [--clip-qkv C] [--post-norm]
#                        [--tie-embeddings] [--sliding-window W
#                        [--window-from-layer L | --window-layers I,J,...]]
#                        [--mlp-activation silu|gelu|gelu-tanh|relu|relu2]
#                        [--norm-weight-offset F] [--scale-embeddings]
#                        [--sandwich-norm] [--attention-softcap C]
#                        [--final-softcap C] [--query-pre-attn-scalar Q]
#                        [--local-rope-theta T] [--rope-linear-scaling F]
#                        [--rotary-dims R] [--layer-norm]
#                        [--parallel-block separate|shared] [--plain-mlp]
#                        [--output-bias] [--padding-idx N]
#                        [--learned-positions N [--positions-offset K]]
#                        [--norm-after-residual] [--no-final-norm]
#                        [--embedding-dim E] [--alibi [MAX_BIAS]]
#                        [--falcon-alibi] [--embedding-norm]
#                        [--hf DIR [--untie-embeddings] [--without-dropout]]
#                        [--seq N] [--batch N] [--ignore-index N]
#                        [--sequence-parallel]
#                        [--no-loss-parallel] [--loss-parallel-blocks K]
#                        [--fuse-attention] [--attention-chunk-bytes N]
#                        [--no-fuse-swiglu] [--no-fuse-gemm-accumulate]
#                        [run-ffn.sh options...]
#
# --sequence-parallel uses examples/llama/plan-sp.json (the norms
# SequenceParallel, as torchtitan's plan has them). Loss
# parallelism is on, as in torchtitan (--mp-loss-parallel: the logits stay
# split over tensor_parallel into the loss); --no-loss-parallel gathers them.
# --loss-parallel-blocks K cuts the vocabulary into K blocks (default: the
# tensor-parallel size; more than it exercises the rewrite on one rank).
# --fuse-attention rewrites attention into mp.attention
# (--mp-fuse-attention: the scores in chunks of query rows, never whole);
# --attention-chunk-bytes N bounds a chunk's scores (its chunk-bytes).
# The feed-forward's silu(w1(x)) * w3(x) is one mp.swiglu (--mp-fuse-swiglu:
# the same floats, fewer kernels, silu's value not kept);
# --no-fuse-swiglu leaves the two ops. The gradients of the values several
# GEMMs read (the normed inputs of wq, wk, wv and of w1, w3) are summed by
# the GEMMs themselves (run-ffn.sh --fuse-gemm-accumulate, BLAS beta = 1);
# --no-fuse-gemm-accumulate sums them with mp.add.
#
# Defaults: 2 layers, dim 64, 4 heads, 2 KV heads (grouped-query
# attention), FeedForward hidden 172 (torchtitan's rule with multiple_of 4),
# vocab 256, seq 32, batch 4, mesh 2x2. Token ids and labels are seeded
# uniform over the vocabulary; --data FILE.safetensors gives them instead
# ("tokens" and "labels", i64 [>= steps, batch, seq]); --ignore-index N
# (gen-llama.py's, with --hf too) makes labels equal to N add nothing to
# the loss (PyTorch's -100); --padding-idx N (gen-llama.py's; from the
# config's pad_token_id with --hf) gives the embedding's row N no gradient
# from its lookups (nn.Embedding's padding_idx). Every other option
# (--backend, --optimizer, --lr, --adam-eps, --steps, --init, --save,
# --seed, --out, --no-run, --no-build) is run-ffn.sh's; --out defaults to
# $MP_BUILD_DIR/llama.
#
# The model options beside the sizes are gen-llama.py's (the other
# Llama-shaped families); with --tie-embeddings the plan has no `output`
# entry.
#
# --hf DIR trains a Hugging Face Llama checkpoint (config.json and
# model.safetensors or its shards): examples/llama/hf-checkpoint.py import
# writes its weights as OUT/hf/init.safetensors (float32, torchtitan's
# names, q and k rows in Meta's rotary order) and its sizes, which replace
# the defaults (--layers ... --rope-scaling then come from the checkpoint and
# are refused here; --seq and --batch are the run's), and the run starts
# from them (--init). --untie-embeddings and --without-dropout are
# hf-checkpoint.py's. Back to
# Hugging Face's format: hf-checkpoint.py export (docs/importing-pytorch.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
mesh=2x2
out=""
gen_args=(--layers 2 --dim 64 --heads 4 --kv-heads 2 --multiple-of 4
          --vocab 256 --seq 32 --batch 4)
size_args=()
hf=""
import_args=()
pass=()
plan_file=plan.json
loss_parallel=1
blocks=""
fuse_attention=0
fuse_swiglu=1
fuse_accumulate=1
chunk_bytes=""
while (($#)); do
  case "$1" in
    --mesh) mesh="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seq|--batch|--ignore-index) gen_args+=("$1" "$2"); shift 2 ;;
    --layers|--dim|--heads|--kv-heads|--head-dim|--ffn-hidden|--vocab|--norm-eps|--rope-theta|--rope-scaling|--rope-dynamic-scaling|--attention-bias|--sliding-window|--window-from-layer|--window-layers|--mlp-activation|--norm-weight-offset|--attention-softcap|--final-softcap|--query-pre-attn-scalar|--local-rope-theta|--rope-linear-scaling|--rotary-dims|--parallel-block|--padding-idx|--clip-qkv|--learned-positions|--positions-offset|--embedding-dim)
      size_args+=("$1" "$2"); shift 2 ;;
    --mlp-bias|--post-norm|--tie-embeddings|--scale-embeddings|--sandwich-norm|--layer-norm|--plain-mlp|--output-bias|--qk-norm-after-rope|--norm-after-residual|--no-final-norm|--embedding-norm|--falcon-alibi)
      size_args+=("$1"); shift ;;
    --alibi)  # its max bias optional, as gen-llama.py's
      if [[ ${2:-} =~ ^[0-9.]+([eE][-+]?[0-9]+)?$ ]]; then
        size_args+=("$1" "$2"); shift 2
      else
        size_args+=("$1"); shift
      fi ;;
    --qk-norm)
      if [[ ${2:-} == head || ${2:-} == whole || ${2:-} == each-head ]]; then
        size_args+=("$1" "$2"); shift 2
      else
        size_args+=("$1"); shift
      fi ;;
    --hf) hf="$2"; shift 2 ;;
    --untie-embeddings|--without-dropout) import_args+=("$1"); shift ;;
    --model|--plan|--hidden)
      echo "run-llama.sh: $1 is run-ffn.sh's; this script writes the model" \
           "and plan" >&2
      exit 2 ;;
    --sequence-parallel) plan_file=plan-sp.json; shift ;;
    --no-loss-parallel) loss_parallel=0; shift ;;
    --loss-parallel-blocks) blocks="$2"; shift 2 ;;
    --fuse-attention) fuse_attention=1; shift ;;
    --attention-chunk-bytes) fuse_attention=1; chunk_bytes="$2"; shift 2 ;;
    --no-fuse-swiglu) fuse_swiglu=0; shift ;;
    --no-fuse-gemm-accumulate) fuse_accumulate=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0"; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done
if [[ ! "$mesh" =~ ^([0-9]+)x([0-9]+)$ ]]; then
  echo "run-llama.sh: --mesh wants DPxTP, like 2x2, not '$mesh'" >&2
  exit 2
fi
out="${out:-$build/llama}"
mkdir -p "$out"
dp="${BASH_REMATCH[1]}"
tp="${BASH_REMATCH[2]}"
if [[ -n "$hf" ]]; then
  if ((${#size_args[@]})); then
    echo "run-llama.sh: --hf takes the model's sizes from $hf/config.json;" \
         "${size_args[0]} is refused with it" >&2
    exit 2
  fi
  if [[ " ${pass[*]} " == *" --init "* ]]; then
    echo "run-llama.sh: --hf starts from the checkpoint's weights; --init" \
         "is refused with it" >&2
    exit 2
  fi
  /usr/bin/python3 "$root/examples/llama/hf-checkpoint.py" import "$hf" \
    --out "$out/hf" "${import_args[@]}"
  read -ra size_args < "$out/hf/gen-llama-args"
  pass+=(--init "$out/hf/init.safetensors")
elif ((${#import_args[@]})); then
  echo "run-llama.sh: ${import_args[0]} goes with --hf" >&2
  exit 2
fi
/usr/bin/python3 "$root/examples/llama/gen-llama.py" "${gen_args[@]}" \
  "${size_args[@]}" > "$out/llama.mlir"
# The plan for the mesh, without the entries of modules the model does not
# have: a tied model's output (the output GEMM reads tok_embeddings.weight,
# split over the vocabulary by its rowwise entry as colwise would split
# output.weight), a plain MLP's w3, a shared parallel block's ffn_norm, the
# final norm of a model without one.
# Per-head q/k norms with weights of their own ([heads, head_dim]) are
# split by heads as wq's and wk's rows are (colwise splits such a weight's
# dim 0), so that each rank keeps and updates its heads' weights only.
absent=()
[[ " ${size_args[*]} " == *" --tie-embeddings "* ]] && absent+=(output)
[[ " ${size_args[*]} " == *" --plain-mlp "* ]] &&
  absent+=("layers.*.feed_forward.w3")
[[ " ${size_args[*]} " == *" --parallel-block shared "* ]] &&
  absent+=("layers.*.ffn_norm")
[[ " ${size_args[*]} " == *" --no-final-norm "* ]] && absent+=(norm)
head_norms=0
[[ " ${size_args[*]} " == *" --qk-norm each-head "* ]] && head_norms=1
/usr/bin/python3 - "$root/examples/llama/$plan_file" "$dp" "$tp" \
  "$head_norms" "${absent[@]}" > "$out/plan.json" <<'PLAN'
import json, sys
plan = json.load(open(sys.argv[1]))
plan["mesh"]["shape"] = [int(sys.argv[2]), int(sys.argv[3])]
if sys.argv[4] == "1":
    for norm in ("q_norm", "k_norm"):
        plan["plan"][f"layers.*.attention.{norm}"] = "colwise"
for entry in sys.argv[5:]:
    plan["plan"].pop(entry, None)
json.dump(plan, sys.stdout, indent=2)
PLAN
if [[ " ${pass[*]} " != *" --no-build "* ]]; then
  "$root/scripts/build.sh" >/dev/null
fi
if ((fuse_attention)); then
  "$build/bin/mp-opt" "$out/llama.mlir" \
    --mp-fuse-attention="${chunk_bytes:+chunk-bytes=$chunk_bytes}" \
    -o "$out/llama-fused.mlir"
  mv "$out/llama-fused.mlir" "$out/llama.mlir"
fi
if ((fuse_swiglu)); then
  "$build/bin/mp-opt" "$out/llama.mlir" --mp-fuse-swiglu \
    -o "$out/llama-swiglu.mlir"
  mv "$out/llama-swiglu.mlir" "$out/llama.mlir"
fi
if ((loss_parallel)); then
  "$build/bin/mp-opt" "$out/llama.mlir" \
    --mp-loss-parallel="blocks=${blocks:-$tp}" \
    -o "$out/llama-lp.mlir"
  mv "$out/llama-lp.mlir" "$out/llama.mlir"
fi
if ((fuse_accumulate)); then
  pass=(--fuse-gemm-accumulate "${pass[@]}")
fi
exec "$root/scripts/run-ffn.sh" --mesh "$mesh" --model "$out/llama.mlir" \
  --plan "$out/plan.json" --out "$out" "${pass[@]}"
