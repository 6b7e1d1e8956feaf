#!/usr/bin/env bash
# The main job: builds mp, lays the seed's 2D plan (examples/ffn/plan.json)
# onto the seed's FeedForward (examples/ffn/ffn.mlir), prints the model
# summary and the annotated IR, then builds the training step, partitions it
# for the plan's mesh, proves its gradient synchronisation and prints its
# collectives, the bytes each rank sends per step and the memory each rank
# is planned to hold.
#
#   scripts/run-ffn.sh [--plan FILE] [--model FILE] [--optimizer adamw|sgd]
#                      [--lr LR] [--out DIR] [--no-build]
#
# --out DIR receives step.mlir (the per-rank step), comm.json and
# memory.json (default: $MP_BUILD_DIR/ffn). --no-build uses the mp-opt already built in
# $MP_BUILD_DIR (default build/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
model="$root/examples/ffn/ffn.mlir"
plan="$root/examples/ffn/plan.json"
optimizer=adamw
lr=3e-3
out=""
build_first=1

while (($#)); do
  case "$1" in
    --plan) plan="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --optimizer) optimizer="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) build_first=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run-ffn.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
out="${out:-$build/ffn}"

if ((build_first)); then
  "$root/scripts/build.sh" >/dev/null
fi
mkdir -p "$out"
mp_opt="$build/bin/mp-opt"

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
