#!/usr/bin/env bash
# The compiled Llama training step on the host, unfused and with attention
# fused (--mp-fuse-attention), beside PyTorch eager running the same model
# (test/Runtime/Inputs/llama_reference.py: torchtitan's Llama, AdamW, float32)
# on the same initial parameters and batches, and against the floor the step
# must cost:
#   * the step's GEMM FLOPs and the bytes its kernels touch, from the
#     compiler (--mp-memory-report: gemm_flops, kernel_bytes), at this
#     machine's ceilings measured now (bench/host_ceilings.cpp: OpenBLAS
#     sgemm on all cores, memcpy on every core); the step against their sum
#     (each kernel either computes or moves: a GEMM's operand bytes are in
#     both, so the sum is the floor of a step that overlaps nothing);
#   * mp and PyTorch alternate, --rounds times: each round prints the three
#     times and PyTorch / mp; the result is the median with the range of the
#     rounds' ratios, flagged NOISY where they disagree by more than 25%.
# One rank (mesh 1x1), run without mpirun so that its BLAS and OpenMP
# threads use every core (mpirun -n 1 binds the rank to one core).
#
#   bench/llama-bench.sh [--rounds N] [--steps N] [--warmup N] [--out DIR]
#       [--no-build] [--malloc retain|default] [--blas-core env|detect]
#       [--llama-args "--layers 2 --dim 256 ..."]
#
# --llama-args are gen-llama.py's sizes (default: 2 layers, dim 256, 4
# heads over 2 key heads, FFN 512, vocab 1024, seq 512, batch 4, the host
# row of docs/transformers.md). --malloc (default retain): both sides run
# with a malloc that keeps freed memory (bench/common.sh host_malloc).
# --blas-core (default env): OpenBLAS's kernels as the environment says or
# as OpenBLAS detects them (host_blas_core).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/common.sh"
build="${MP_BUILD_DIR:-$root/build}"
rounds=3
steps=6
warmup=2
out=""
build_first=1
malloc=retain
blas_core=env
llama_args="--layers 2 --dim 256 --heads 4 --kv-heads 2 --ffn-hidden 512 --vocab 1024 --seq 512 --batch 4"
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --llama-args) llama_args="$2"; shift 2 ;;
    --no-build) build_first=0; shift ;;
    --malloc) malloc="$2"; shift 2 ;;
    --blas-core) blas_core="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "llama-bench.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
read -r -a sizes <<< "$llama_args"
out="${out:-$build/bench/llama}"
mkdir -p "$out"
if ((build_first)); then
  "$root/scripts/build.sh" >/dev/null
fi

host_blas_core "$blas_core"
ceilings="$(measure_host_ceilings "$out")"
gemm_ceiling="$(awk '$1 == "gemm" {print $3}' <<< "$ceilings")"
copy_ceiling="$(awk '/^copy/ {print $3}' <<< "$ceilings")"
echo "Ceilings (this machine, all cores): GEMM $gemm_ceiling GFLOP/s, copy $copy_ceiling GB/s"
host_malloc "$malloc"
echo "malloc: $malloc (page fault $(awk '$1 == "fault" {print $3}' <<< "$ceilings") us); OpenBLAS kernels: $(awk '$1 == "blas_core" {print $2}' <<< "$ceilings") ($blas_core)"

python="$(find_python_with torch numpy)"
reference="$root/test/Runtime/Inputs/llama_reference.py"

# The same parameters and batches for both sides.
if [[ -n "$python" ]]; then
  "$python" "$reference" inputs "${sizes[@]}" --steps $((steps + warmup)) \
    --seed 3 "$out/init.safetensors" "$out/data.safetensors"
  data=(--init "$out/init.safetensors" --data "$out/data.safetensors")
else
  data=(--seed 3)
fi

declare -A times=()
variants=(plain fused)
for variant in "${variants[@]}"; do
  extra=()
  [[ $variant == fused ]] && extra=(--fuse-attention)
  MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
    --mesh 1x1 "${sizes[@]}" "${extra[@]}" --out "$out/$variant" > "$out/$variant.log"
done

for ((round = 1; round <= rounds; ++round)); do
  busy="$(busy_percent)"
  line="  round $round (machine ${busy}% busy before it):"
  for variant in "${variants[@]}"; do
    ms="$("$out/$variant/train" --steps $((steps + warmup)) --warmup "$warmup" \
      --time "${data[@]}" | tee "$out/$variant.run$round" | awk '/^step time:/ {print $4}')"
    times[$variant]+="$ms "
    line+=" mp $variant $ms ms,"
  done
  if [[ -n "$python" ]]; then
    # PyTorch as its users get it: its own thread count (not mp's
    # OMP_NUM_THREADS).
    ms="$(env -u OMP_NUM_THREADS "$python" "$reference" train "${sizes[@]}" \
      --steps $((steps + warmup)) --lr 3e-3 --weight-decay 0.01 --dtype float32 \
      --time "$warmup" --save "$out/torch.safetensors" \
      "$out/init.safetensors" "$out/data.safetensors" |
      tee "$out/torch.run$round" | awk '/^pytorch step time:/ {print $5}')"
    times[torch]+="$ms "
    line+=" PyTorch eager $ms ms"
  fi
  echo "$line"
done

echo
echo "Llama ${sizes[*]}, mesh 1x1, host:"
# The same work: run-llama.sh's AdamW (lr 3e-3, weight decay 0.01) on both
# sides, so the last losses agree to float32 rounding.
last_loss() { awk '/^step [0-9]+ loss/ {v = $4} END {print v}' "$1"; }
if [[ -n "$python" ]]; then
  echo "  last loss: mp $(last_loss "$out/plain.run1") (fused $(last_loss "$out/fused.run1")), PyTorch $(last_loss "$out/torch.run1")"
fi
for variant in "${variants[@]}"; do
  read -r -a mine <<< "${times[$variant]}"
  flops="$(json_field "$out/$variant/memory.json" llama_train_step gemm_flops)"
  kbytes="$(json_field "$out/$variant/memory.json" llama_train_step kernel_bytes)"
  awk -v v="$variant" -v ms="$(median "${mine[@]}")" -v flops="$flops" \
      -v kbytes="$kbytes" -v gemm="$gemm_ceiling" -v copy="$copy_ceiling" 'BEGIN {
    g = flops / (gemm * 1e9) * 1e3; c = kbytes / (copy * 1e9) * 1e3
    printf "  mp %s: %.1f ms (median of the rounds); %.3g GFLOP in GEMMs, %.3g MB touched by kernels\n",
           v, ms, flops / 1e9, kbytes / 1e6
    printf "    floor: GEMMs at the GEMM ceiling %.1f ms, kernel bytes at the copy ceiling %.1f ms; the step is %.2fx their sum\n",
           g, c, ms / (g + c)
  }'
  [[ -n "${times[torch]:-}" ]] || continue
  compare_rounds "    " "PyTorch eager" "${times[$variant]}" "${times[torch]}"
done
