#!/usr/bin/env bash
# The main job: builds mp, lays the seed's 2D plan onto the seed's
# FeedForward, prints the model summary and the annotated IR, then builds
# the training step, partitions it for the mesh, proves its gradient
# synchronisation, and prints its collectives, the bytes each rank sends per
# step and the memory each rank is planned to hold.
#
#   scripts/run-ffn.sh [--mesh DPxTP] [--dim N] [--hidden N] [--batch N]
#                      [--optimizer adamw|sgd] [--lr LR]
#                      [--model FILE] [--plan FILE] [--out DIR] [--no-build]
#
# Defaults: the seed's model and plan (examples/ffn: dim = hidden = 8192,
# batch 8, w1/w3 colwise, w2 rowwise, FSDP on data_parallel, mesh 2x2),
# AdamW with lr 3e-3. --mesh/--dim/--hidden/--batch generate the model and
# plan for other sizes; --model/--plan use files instead. --out DIR receives
# the model and plan used, step.mlir (the per-rank step), comm.json and
# memory.json (default: $MP_BUILD_DIR/ffn). --no-build uses the mp-opt
# already built in $MP_BUILD_DIR (default build/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
model=""
plan=""
mesh=2x2
dim=8192
hidden=8192
batch=8
optimizer=adamw
lr=3e-3
out=""
build_first=1

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
    --out) out="$2"; shift 2 ;;
    --no-build) build_first=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run-ffn.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if [[ ! "$mesh" =~ ^([0-9]+)x([0-9]+)$ ]]; then
  echo "run-ffn.sh: --mesh wants DPxTP, like 2x2, not '$mesh'" >&2
  exit 2
fi
dp="${BASH_REMATCH[1]}"
tp="${BASH_REMATCH[2]}"
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
if [[ -z "$plan" ]]; then
  plan="$out/plan.json"
  sed -e "s/\"shape\": \[2, 2\]/\"shape\": [$dp, $tp]/" \
      "$root/examples/ffn/plan.json" > "$plan"
fi

"$mp_opt" "$model" --mp-apply-plan="$plan" --mp-summary -o "$out/planned.mlir"
cat "$out/planned.mlir"

"$mp_opt" "$out/planned.mlir" \
  --mp-train-step="optimizer=$optimizer lr=$lr" --mp-spmd \
  --mp-verify-gradient-sync --mp-comm-report="$out/comm.json" \
  --mp-memory-report="$out/memory.json" -o "$out/step.mlir"
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
