#!/usr/bin/env bash
# The main job: builds mp, lays the seed's 2D plan (examples/ffn/plan.json)
# onto the seed's FeedForward (examples/ffn/ffn.mlir), and prints the model
# summary and the annotated IR.
#
#   scripts/run-ffn.sh [--plan FILE] [--model FILE] [--no-build]
#
# --no-build uses the mp-opt already built in $MP_BUILD_DIR (default build/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
model="$root/examples/ffn/ffn.mlir"
plan="$root/examples/ffn/plan.json"
build_first=1

while (($#)); do
  case "$1" in
    --plan) plan="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --no-build) build_first=0; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run-ffn.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

if ((build_first)); then
  "$root/scripts/build.sh" >/dev/null
fi
"$build/bin/mp-opt" "$model" --mp-apply-plan="$plan" --mp-summary
