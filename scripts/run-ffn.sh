#!/usr/bin/env bash
# The main job: builds mp, lays the seed's 2D plan onto the seed's
# FeedForward, prints the model summary, builds the training step,
# partitions it for the mesh, proves its gradient synchronisation, prints
# its collectives, the bytes each rank sends per step and the memory each
# rank is planned to hold; then compiles the step to an object, links it
# with the stock trainer and the runtime, and trains on DP*TP local ranks
# (mpirun), printing each step's loss and each rank's peak memory.
#
#   scripts/run-ffn.sh [--mesh DPxTP] [--dim N] [--hidden N] [--batch N]
#                      [--backend host|cuda] [--cuda-archs LIST]
#                      [--optimizer adamw|sgd] [--lr LR] [--adam-eps E]
#                      [--precision fp32|tf32|bf16] [--reduce-dtype f32|bf16]
#                      [--tp-reduce-dtype f32|bf16] [--saved-dtype f32|bf16]
#                      [--max-grad-norm N] [--recompute none|selective|op|full]
#                      [--recompute-full-layers N]
#                      [--steps N] [--init FILE] [--data FILE] [--save FILE]
#                      [--seed N] [--model FILE] [--plan FILE] [--out DIR]
#                      [--auto-plan RANKS [--machine FILE] [--memory BYTES]]
#                      [--fsdp-groups] [--coalesce-reductions]
#                      [--overlap [--tp-overlap]]
#                      [--tp-chunks N] [--chunk-loss N]
#                      [--narrow-gemm-operands] [--fuse-optimizer]
#                      [--fold-scales-inexact] [--fuse-gemm-accumulate]
#                      [--no-fuse-conversions] [--no-run] [--no-build]
#
# Defaults: the seed's model and plan (examples/ffn: w1/w3 colwise, w2
# rowwise, FSDP on data_parallel, mesh 2x2), AdamW with lr 3e-3, 5 steps.
# Sizes: the seed's dim = hidden = 8192, batch 8 with --backend cuda; with
# the host backend (the default: OpenBLAS + MPI on this machine's CPUs)
# dim = hidden = 1024, batch 8, so that 4 ranks fit a small machine.
# --mesh/--dim/--hidden/--batch generate the model and plan for other sizes;
# --model/--plan use files instead. --optimizer, --lr, --adam-eps (AdamW's
# eps, PyTorch's 1e-8 by default) and --precision (the GEMMs' arithmetic,
# docs/mixed-precision.md) are compiled into the step,
# --cuda-archs (with --backend cuda) names the GPU architectures the step's
# memory is planned for, as the passes' cuda-archs (default 80,90: the
# runtime's build; 90 plans tf32 attention up to head dim 128 on chip, as
# H100s and H200s run it), --reduce-dtype bf16 sums the gradients across
# ranks in bfloat16 (FSDP2's
# reduce_dtype), --tp-reduce-dtype bf16 (with --precision bf16) sums tensor
# parallelism's partial products in bfloat16 (as torchtitan sums its bf16
# activations), --saved-dtype bf16 (with --precision bf16) holds the
# activations saved for the backward pass in bfloat16, rounded where they
# are made, as a bf16 forward pass does (docs/mixed-precision.md), and
# --max-grad-norm N clips the gradients to a global norm of N as
# torch.nn.utils.clip_grad_norm_ (0, the default: no clipping);
# --recompute selective computes elementwise ops, norms and rotary
# embeddings again in the backward pass instead of holding their values
# between the passes (the same floats, less memory; docs/transformers.md),
# --recompute op each numbered layer but for attention and every other
# linear (torchtitan's selective activation checkpointing by op), and
# --recompute full each layer from its input (torchtitan's full activation
# checkpointing: the least memory, one more forward pass); default: the
# plan file's "recompute", else none; --recompute-full-layers N recomputes
# the first N layers fully whatever the policy says of them (Megatron-LM's
# block method; default: the plan file's, else 0);
# --fsdp-groups runs FSDP's collectives once per parameter group
# as FSDP2 does (mp-opt --mp-group-fsdp: one all_gather and one
# reduce_scatter for the FFN's three weights); --coalesce-reductions runs
# nearby small all_reduces as one call (mp-opt --mp-coalesce-reductions:
# a split norm's mean squares, a layer's norm weight gradients);
# --overlap schedules the
# collectives beside compute (mp-opt --mp-schedule-collectives: FSDP
# gathers prefetched a layer ahead, gradient reductions asynchronous;
# docs/overlap.md), and with --tp-overlap also the backward's
# tensor-parallel all_reduces beside the weight-gradient GEMMs
# (tp-overlap=true); --tp-chunks N runs the tensor-parallel sums and the
# work around them in N row chunks (mp-opt --mp-pipeline-tp-sums, before
# the schedule: each chunk's sum beside another chunk's GEMMs);
# --chunk-loss N runs the output GEMM, the loss and their gradients in N
# chunks of tokens, forward and backward together (mp-opt --mp-chunk-loss:
# a chunk's vocabulary-sized tensors live at a time; docs/transformers.md);
# --narrow-gemm-operands holds in bfloat16 what only
# bf16 GEMMs read (mp-opt --mp-narrow-gemm-operands: less memory, a
# conversion each; docs/mixed-precision.md); --fuse-optimizer updates every parameter in one AdamW
# call (mp-opt --mp-fuse-optimizer: one launch per 16 tensors on CUDA, as
# AdamW(fused=True), the clipping coefficient applied inside it);
# --fold-scales-inexact folds attention's scale into its GEMMs also where
# it is no power of two (mp-opt --mp-fold-gemm-scales=inexact=true: head
# dim 128; one rounding less per score, docs/transformers.md);
# --fuse-gemm-accumulate adds GEMM products into the gradient sums they
# feed (mp-opt --mp-fuse-gemm-accumulate, last on the partitioned step:
# BLAS beta = 1 in the sum's buffer instead of an mp.add; float32
# rounding, not bit for bit, docs/transformers.md);
# the step's bf16 conversions are fused into the kernels that make and
# read the values (mp-opt --mp-fuse-conversions, last: the same floats,
# fewer bytes moved; docs/mixed-precision.md) unless --no-fuse-conversions;
# --auto-plan RANKS lets
# mp-opt --mp-auto-plan choose the mesh and plan for RANKS devices, the
# fastest predicted on --machine (default bench/machines/host-4ranks.json)
# within --memory bytes per rank, each plan also tried grouped and scheduled
# (schedules=true: the passes of the chosen schedule, coalesced reductions
# included, are added unless --fsdp-groups, --overlap, --tp-overlap,
# --tp-chunks, --coalesce-reductions or --narrow-gemm-operands say
# otherwise; a loss it chunked to fit --memory
# is chunked unless --chunk-loss sets the chunks;
# docs/plan-search.md; the candidates go to auto-plan.json in --out); --steps, --init, --data,
# --save and --seed go to mp-train
# (docs/runtime-abi.md). --out DIR receives the model and plan used,
# step.mlir (the per-rank step), lowered.mlir (its runtime calls), step.o,
# step.h, the linked trainer, comm.json, memory.json and, after training,
# metrics.csv (mp-train --metrics) and its plot loss.png (default:
# $MP_BUILD_DIR/ffn). --no-run stops after linking. --no-build uses the
# tools already built in $MP_BUILD_DIR (default build/); $MP_LINK links the
# trainer (default: its bin/mp-link; emulated-cuda/bin/mp-link links the
# CUDA backend built on the emulated CUDA platform). $MP_MPIRUN
# overrides the launcher (default: mpirun, as root with
# --allow-run-as-root --oversubscribe).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
model=""
plan=""
mesh=2x2
dim=""
hidden=""
batch=8
backend=host
cuda_archs=""
optimizer=adamw
lr=3e-3
adam_eps=1e-8
precision=tf32
max_grad_norm=0
reduce_dtype=f32
tp_reduce_dtype=f32
saved_dtype=f32
recompute=
recompute_full_layers=
out=""
build_first=1
run=1
train_args=(--steps 5)
narrow_passes=()
fold_passes=()
group_passes=()
pipeline_passes=()
coalesce_passes=()
chunk_passes=()
schedule_passes=()
accumulate_passes=()
fuse_passes=(--mp-fuse-conversions)
schedule=""
auto_ranks=""
machine="$root/bench/machines/host-4ranks.json"
memory=0

while (($#)); do
  case "$1" in
    --mesh) mesh="$2"; shift 2 ;;
    --dim) dim="$2"; shift 2 ;;
    --hidden) hidden="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --plan) plan="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --optimizer) optimizer="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --adam-eps) adam_eps="$2"; shift 2 ;;
    --precision) precision="$2"; shift 2 ;;
    --max-grad-norm) max_grad_norm="$2"; shift 2 ;;
    --reduce-dtype) reduce_dtype="$2"; shift 2 ;;
    --tp-reduce-dtype) tp_reduce_dtype="$2"; shift 2 ;;
    --saved-dtype) saved_dtype="$2"; shift 2 ;;
    --recompute) recompute="$2"; shift 2 ;;
    --recompute-full-layers) recompute_full_layers="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --backend) backend="$2"; shift 2 ;;
    --cuda-archs) cuda_archs="$2"; shift 2 ;;
    --steps|--init|--data|--save|--seed) train_args+=("$1" "$2"); shift 2 ;;
    --fsdp-groups) group_passes=(--mp-group-fsdp); shift ;;
    --coalesce-reductions) coalesce_passes=(--mp-coalesce-reductions); shift ;;
    --narrow-gemm-operands) narrow_passes=(--mp-narrow-gemm-operands); shift ;;
    --fold-scales-inexact) fold_passes=(--mp-fold-gemm-scales=inexact=true); shift ;;
    --overlap) schedule="${schedule:-default}"; shift ;;
    --tp-overlap) schedule=tp-overlap; shift ;;
    --tp-chunks) pipeline_passes=(--mp-pipeline-tp-sums=chunks="$2"); shift 2 ;;
    --chunk-loss) chunk_passes=(--mp-chunk-loss=chunks="$2"); shift 2 ;;
    --fuse-optimizer) schedule_passes=(--mp-fuse-optimizer "${schedule_passes[@]}"); shift ;;
    --fuse-gemm-accumulate) accumulate_passes=(--mp-fuse-gemm-accumulate); shift ;;
    --no-fuse-conversions) fuse_passes=(); shift ;;
    --auto-plan) auto_ranks="$2"; shift 2 ;;
    --machine) machine="$2"; shift 2 ;;
    --memory) memory="$2"; shift 2 ;;
    --no-run) run=0; shift ;;
    --no-build) build_first=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0"; exit 0 ;;
    *) echo "run-ffn.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$schedule" in
  default) schedule_passes+=(--mp-schedule-collectives) ;;
  tp-overlap) schedule_passes+=(--mp-schedule-collectives=tp-overlap=true) ;;
esac
if [[ ! "$mesh" =~ ^([0-9]+)x([0-9]+)$ ]]; then
  echo "run-ffn.sh: --mesh wants DPxTP, like 2x2, not '$mesh'" >&2
  exit 2
fi
dp="${BASH_REMATCH[1]}"
tp="${BASH_REMATCH[2]}"
case "$backend" in
  host) default_size=1024 ;;
  cuda) default_size=8192 ;;
  *) echo "run-ffn.sh: --backend is host or cuda, not '$backend'" >&2; exit 2 ;;
esac
if [[ -n "$cuda_archs" && "$backend" != cuda ]]; then
  echo "run-ffn.sh: --cuda-archs plans for --backend cuda" >&2
  exit 2
fi
target="backend=$backend${cuda_archs:+ cuda-archs=$cuda_archs}"
dim="${dim:-$default_size}"
hidden="${hidden:-$default_size}"
out="${out:-$build/ffn}"

if ((build_first)); then
  "$root/scripts/build.sh" >/dev/null
fi
mkdir -p "$out"
mp_opt="$build/bin/mp-opt"

# The seed's model and plan at the requested sizes, unless given as files.
if [[ -z "$model" ]]; then
  model="$out/ffn.mlir"
  x="tensor<${batch}x${dim}xf32>"
  h="tensor<${batch}x${hidden}xf32>"
  up="tensor<${hidden}x${dim}xf32>"
  down="tensor<${dim}x${hidden}xf32>"
  cat > "$model" <<MLIR
// The seed's FeedForward w2(silu(w1 x) * w3 x), loss output.sum().
func.func @ffn(%x: $x {mp.input = "x"},
               %w1: $up {mp.param = "w1"},
               %w2: $down {mp.param = "w2"},
               %w3: $up {mp.param = "w3"}) -> tensor<f32> {
  %h1 = mp.linear %x, %w1 : ($x, $up) -> $h
  %a = mp.silu %h1 : $h
  %h3 = mp.linear %x, %w3 : ($x, $up) -> $h
  %g = mp.mul %a, %h3 : $h
  %out = mp.linear %g, %w2 : ($h, $down) -> $x
  %loss = mp.sum %out : $x -> tensor<f32>
  return %loss : tensor<f32>
}
MLIR
fi
step_options="optimizer=$optimizer lr=$lr eps=$adam_eps precision=$precision reduce-dtype=$reduce_dtype tp-reduce-dtype=$tp_reduce_dtype saved-dtype=$saved_dtype max-grad-norm=$max_grad_norm"
# Without --recompute, the plan file's "recompute" (if any) is the policy.
if [[ -n "$recompute" ]]; then
  step_options+=" recompute=$recompute"
fi
if [[ -n "$recompute_full_layers" ]]; then
  step_options+=" recompute-full-layers=$recompute_full_layers"
fi
if [[ -n "$auto_ranks" ]]; then
  # The search writes the plan file; the mesh is the one it chose.
  plan="$out/plan.json"
  "$mp_opt" "$model" -o /dev/null --mp-auto-plan="ranks=$auto_ranks \
machine=$machine memory=$memory plan=$plan report=$out/auto-plan.json \
train-step='$step_options' schedules=true"
  read -r dp tp < <(/usr/bin/python3 -c 'import json, sys
plan = json.load(open(sys.argv[1]))
print(*plan["mesh"]["shape"])' "$plan")
  chosen_passes=$(/usr/bin/python3 -c 'import json, sys
report = json.load(open(sys.argv[1]))
print(next(c["passes"] for c in report["candidates"] if c["name"] == report["chosen"]))' \
    "$out/auto-plan.json")
  echo "Plan search: the fastest predicted plan for $auto_ranks ranks is" \
    "${dp}x${tp} ($plan; passes: ${chosen_passes:-none}; every candidate:" \
    "$out/auto-plan.json)"
  # A loss the search chunked to fit the budget stays chunked.
  for pass in $chosen_passes; do
    if [[ "$pass" == --mp-chunk-loss* && ${#chunk_passes[@]} -eq 0 ]]; then
      chunk_passes=("$pass")
    fi
  done
  if [[ ${#group_passes[@]} -eq 0 && ${#narrow_passes[@]} -eq 0 &&
        ${#pipeline_passes[@]} -eq 0 && ${#coalesce_passes[@]} -eq 0 &&
        -z "$schedule" ]]; then
    for pass in $chosen_passes; do
      case "$pass" in
        --mp-narrow-gemm-operands) narrow_passes=("$pass") ;;
        --mp-group-fsdp) group_passes=(--mp-group-fsdp) ;;
        --mp-pipeline-tp-sums*) pipeline_passes=("$pass") ;;
        --mp-coalesce-reductions*) coalesce_passes=("$pass") ;;
        --mp-schedule-collectives*) schedule_passes+=("$pass") ;;
        --mp-fuse-gemm-accumulate) accumulate_passes=("$pass") ;;
      esac
    done
  fi
elif [[ -z "$plan" ]]; then
  plan="$out/plan.json"
  sed -e "s/\"shape\": \[2, 2\]/\"shape\": [$dp, $tp]/" \
      "$root/examples/ffn/plan.json" > "$plan"
fi

"$mp_opt" "$model" --mp-apply-plan="$plan" --mp-split-norms --mp-summary \
  -o "$out/planned.mlir"
cat "$out/planned.mlir"

"$mp_opt" "$out/planned.mlir" \
  --mp-train-step="$step_options" --mp-spmd "${chunk_passes[@]}" \
  "${fold_passes[@]}" \
  "${narrow_passes[@]}" \
  "${group_passes[@]}" "${pipeline_passes[@]}" "${coalesce_passes[@]}" \
  "${schedule_passes[@]}" \
  "${accumulate_passes[@]}" "${fuse_passes[@]}" --mp-verify-gradient-sync --mp-comm-report="$out/comm.json" \
  --mp-memory-report="output=$out/memory.json $target" \
  -o "$out/step.mlir"
echo
echo "Training step partitioned for the plan's mesh: $out/step.mlir"
echo "Gradient synchronisation: verified"
echo "Collectives of the step:"
awk '/_train_step\(/ { in_step = 1 } in_step && /mp\.(all_|reduce_scatter)/ {
       sub(/^ +/, "  "); sub(/ : tensor.*/, ""); print }' "$out/step.mlir"
echo "Bytes sent per rank per step (ring algorithm): $out/comm.json"
awk '/"function": ".*_train_step"/ { in_step = 1 }
     in_step && /"total"/ { in_total = 1 }
     in_total && /bytes_per_rank/ { gsub(/[",]/, ""); print "  " $2; exit }' \
  "$out/comm.json"
echo "Planned memory per rank (bytes): $out/memory.json"
awk '/"function": ".*_train_step"/ { in_step = 1 }
     in_step && /_bytes/ { gsub(/[",:]/, ""); printf "  %s %s\n", $1, $2 }
     in_step && /"buffers"/ { exit }' "$out/memory.json"
awk '/"backend_reserved_bytes"/ { gsub(/[",:]/, "")
       printf "  %s %s (the runtime context'"'"'s, beside the step)\n", $1, $2 }' \
  "$out/memory.json"

# The step as runtime calls, an object and a header, linked with mp-train.
# GEMM workspaces planned for the backend it runs on (--mp-lower-to-runtime).
"$mp_opt" "$out/step.mlir" --mp-lower-to-runtime="$target" \
  -o "$out/lowered.mlir"
"$build/bin/mp-translate" "$out/lowered.mlir" --emit-header -o "$out/step.h"
"$build/bin/mp-translate" "$out/lowered.mlir" -o "$out/step.o"
"${MP_LINK:-$build/bin/mp-link}" "$out/step.o" -o "$out/train"
echo "Compiled step: $out/step.o (runtime calls: $out/lowered.mlir, header:"
echo "  $out/step.h), linked with the trainer: $out/train"
if ((!run)); then
  exit 0
fi

ranks=$((dp * tp))
if [[ -n "${MP_MPIRUN:-}" ]]; then
  read -r -a launcher <<< "$MP_MPIRUN"
else
  launcher=(mpirun --oversubscribe)
  if [[ $(id -u) -eq 0 ]]; then launcher+=(--allow-run-as-root); fi
fi
echo "Training on $ranks ranks ($backend backend):"
rm -f "$out/metrics.csv"
"${launcher[@]}" -n "$ranks" "$out/train" --backend "$backend" \
  --metrics "$out/metrics.csv" "${train_args[@]}"
echo "Metrics per step: $out/metrics.csv"
# The plot needs matplotlib (scripts/setup.sh installs it); the run stands
# without it.
/usr/bin/python3 "$root/scripts/plot-metrics.py" "$out/metrics.csv" \
  -o "$out/loss.png" --title "$(basename "$model") on $mesh ($backend)" ||
  echo "run-ffn.sh: no plot of the metrics (see the message above)" >&2
