#!/usr/bin/env bash
# Compile time of a Llama-2-7B-shaped training step (dim 4096, 32 heads,
# FeedForward 11008, vocab 32000, seq 2048, batch 8) under torchtitan's plan
# with FSDP on a 2x4 mesh, at several depths: the whole pipeline (plan,
# training step with AdamW, propagation, partition, simplification,
# gradient-sync proof, lowering to runtime calls, object), the time of each
# pass (--mlir-timing) and of the object (mp-translate), each the median of
# --repeat runs. Compile time must grow linearly with the layers: the last
# column divides each total by its layer count. The `search` column is
# --mp-auto-plan for the mesh's device count on the same model (every
# candidate plan compiled and predicted, bench/machines/host-4ranks.json).
#
#   bench/compile-time.sh [--layers "8 16 32 64"] [--mesh 2x4] [--repeat 3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
layers="8 16 32 64"
mesh=2x4
repeat=3
while (($#)); do
  case "$1" in
    --layers) layers="$2"; shift 2 ;;
    --mesh) mesh="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "compile-time.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if [[ ! "$mesh" =~ ^([0-9]+)x([0-9]+)$ ]]; then
  echo "compile-time.sh: --mesh wants DPxTP, not '$mesh'" >&2
  exit 2
fi
ranks=$((BASH_REMATCH[1] * BASH_REMATCH[2]))
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed -e "s/\"shape\": \[2, 2\]/\"shape\": [${BASH_REMATCH[1]}, ${BASH_REMATCH[2]}]/" \
  "$root/examples/llama/plan.json" > "$work/plan.json"

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
passes="ApplyPlan TrainStep PropagateSharding Partition SimplifyCollectives VerifyGradientSync LowerToRuntime"
printf '%-7s' layers
for pass in $passes; do printf ' %9.9s' "$pass"; done
printf ' %9s %9s %9s %11s %9s\n' mp-opt object total total/layer search
for n in $layers; do
  /usr/bin/python3 "$root/examples/llama/gen-llama.py" --layers "$n" \
    --dim 4096 --heads 32 --ffn-hidden 11008 --vocab 32000 --seq 2048 \
    --batch 8 > "$work/model.mlir"
  for ((r = 0; r < repeat; ++r)); do
    "$build/bin/mp-opt" "$work/model.mlir" --mp-apply-plan="$work/plan.json" \
      --mp-train-step="optimizer=adamw lr=1e-4" --mp-spmd \
      --mp-verify-gradient-sync --mp-lower-to-runtime --mlir-timing \
      -o "$work/lowered.mlir" 2> "$work/timing.$r"
    start=$(date +%s.%N)
    "$build/bin/mp-translate" "$work/lowered.mlir" -o "$work/step.o"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' > "$work/object.$r"
    "$build/bin/mp-opt" "$work/model.mlir" \
      --mp-auto-plan="ranks=$ranks machine=$root/bench/machines/host-4ranks.json report=$work/auto-plan.json" \
      -o /dev/null
    /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["search_seconds"])' \
      "$work/auto-plan.json" > "$work/search.$r"
  done
  printf '%-7s' "$n"
  for pass in $passes; do
    t=$(for ((r = 0; r < repeat; ++r)); do
          awk -v p="$pass" '$NF == p { print $1 }' "$work/timing.$r"; done | median)
    printf ' %9.3f' "$t"
  done
  opt=$(for ((r = 0; r < repeat; ++r)); do
          awk '$NF == "Total" { print $1 }' "$work/timing.$r"; done | median)
  object=$(cat "$work"/object.* | median)
  total=$(awk -v a="$opt" -v b="$object" 'BEGIN { print a + b }')
  printf ' %9.3f %9.3f %9.3f %11.4f %9.3f\n' "$opt" "$object" "$total" \
    "$(awk -v t="$total" -v n="$n" 'BEGIN { print t / n }')" \
    "$(cat "$work"/search.* | median)"
done
