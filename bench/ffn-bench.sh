#!/usr/bin/env bash
# Times the compiled FFN training step (a benchmark, not a test) and sets
# it against the floor the step must cost and the ceilings of the machine,
# measured in the same run:
#   * per rank, the FLOPs of the step's GEMMs and the bytes its kernels must
#     touch (from mp-opt --mp-memory-report: gemm_flops, kernel_bytes) and
#     the bytes it sends (--mp-comm-report);
#   * the step time, median over --steps timed steps after --warmup ones
#     (mp-train --time: each step from a barrier to its loss on the host);
#   * the achieved GEMM rate and kernel bandwidth next to the ceilings: a
#     large GEMM of the backend's BLAS (cuBLAS TF32, or OpenBLAS) and a large
#     copy (bench/cuda_ceilings.cu, bench/host_ceilings.cpp);
#   * where PyTorch imports, the seed's model on one device (bench/
#     pytorch_ffn.py: AdamW lr=3e-3, TF32 on CUDA) and the ratio: eager, and
#     on CUDA also with fused AdamW and with torch.compile + fused AdamW.
# mp and PyTorch run in alternation, --rounds times, each round's ratio
# printed beside how busy the machine was just before it: on a small
# machine another process (a build, a test) slows either side several
# times over, and rounds that disagree by more than 25% are flagged NOISY.
#
#   bench/ffn-bench.sh [--backend host|cuda] [--mesh DPxTP] [--steps N]
#                      [--warmup N] [--rounds N] [--sizes "DIMxHIDDENxBATCH ..."]
#                      [--precision fp32|tf32|bf16] [--malloc retain|default]
#                      [--blas-core env|detect] [--out DIR] [--no-build]
#
# Defaults: mesh 1x1 (one device: the same work as PyTorch's single-device
# step), 20 steps after 3, 3 rounds. Sizes: with cuda the seed's 8192x8192x8 and the
# compute-bound 8192x8192x8192; on the host 1024x1024x8 and 1024x1024x1024.
# --precision (default tf32) compiles mp's step with it
# (docs/mixed-precision.md), runs PyTorch in the same mode (pytorch_ffn.py
# --precision) and, on CUDA, measures the GEMM ceiling in it (fp32: strict
# float32; bf16: bfloat16 operands).
# On the host the ranks share the cores: each rank's OpenBLAS gets
# cores/ranks threads, PyTorch's OpenBLAS all cores, and the ceilings are
# the whole machine's. --malloc (host; default retain): both sides run with
# a malloc that keeps freed memory, as PyTorch's CPU tuning guide advises
# (bench/common.sh host_malloc: glibc's default gives PyTorch's temporaries
# back to the kernel each step, and page faults cost 10 us here); the
# ceilings print what a page fault costs. --blas-core (host; default env):
# OpenBLAS's kernels as the environment's OPENBLAS_CORETYPE says, or as
# OpenBLAS detects them (bench/common.sh host_blas_core); printed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/common.sh"
build="${MP_BUILD_DIR:-$root/build}"
backend=host
mesh=1x1
steps=20
warmup=3
rounds=3
torch_blas_threads=""
sizes=""
precision=tf32
out=""
malloc=retain
blas_core=env
build_first=1
while (($#)); do
  case "$1" in
    --backend) backend="$2"; shift 2 ;;
    --mesh) mesh="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --precision) precision="$2"; shift 2 ;;
    --malloc) malloc="$2"; shift 2 ;;
    --blas-core) blas_core="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) build_first=0; shift ;;
    -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
    *) echo "ffn-bench.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
# PyTorch's modes timed beside mp: eager everywhere; on CUDA also the fused
# AdamW and torch.compile with it, the modes its users pick for speed.
declare -A torch_flags=([eager]="" [fused]="--fused" [compile]="--fused --compile")
case "$backend" in
  host) sizes="${sizes:-1024x1024x8 1024x1024x1024}"; torch_modes=(eager) ;;
  cuda) sizes="${sizes:-8192x8192x8 8192x8192x8192}"; torch_modes=(eager fused compile) ;;
  *) echo "ffn-bench.sh: --backend is host or cuda" >&2; exit 2 ;;
esac
[[ "$mesh" =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "ffn-bench.sh: --mesh DPxTP" >&2; exit 2; }
ranks=$((BASH_REMATCH[1] * BASH_REMATCH[2]))
out="${out:-$build/bench}"
mkdir -p "$out"
if ((build_first)); then
  "$root/scripts/build.sh" >/dev/null
fi

# The ceilings, measured now.
if [[ "$backend" == cuda ]]; then
  nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
  "$nvcc" -O2 -o "$out/cuda_ceilings" "$root/bench/cuda_ceilings.cu" -lcublas
  ceilings="$("$out/cuda_ceilings")"
  ceiling_scope="one GPU"
else
  host_blas_core "$blas_core"
  ceilings="$(measure_host_ceilings "$out")"
  ceiling_scope="this machine, all cores"
  cores="$(nproc)"
  export OPENBLAS_NUM_THREADS=$(( cores / ranks > 0 ? cores / ranks : 1 ))
  # The runtime links the OpenMP build of OpenBLAS, which sizes its pool by
  # OMP_NUM_THREADS (all cores by default) and not OPENBLAS_NUM_THREADS: 4
  # ranks x 2 threads on 2 cores ran a 2x2 step 3x slower (bench/README.md).
  export OMP_NUM_THREADS="$OPENBLAS_NUM_THREADS"
  # PyTorch runs as its users get it: its own thread count, OpenBLAS on every
  # core (pytorch_ffn.py prints what it used). Setting its intra-op threads
  # to the core count too makes its OpenMP pool and OpenBLAS's spin against
  # each other: 1.5x slower at batch 1024 here.
  torch_blas_threads="$cores"
  host_malloc "$malloc"
  echo "malloc: $malloc (page fault $(awk '$1 == "fault" {print $3}' <<< "$ceilings") us); OpenBLAS kernels: $(awk '$1 == "blas_core" {print $2}' <<< "$ceilings") ($blas_core)"
  echo "Threads: mp $ranks rank(s) x $OPENBLAS_NUM_THREADS OpenBLAS thread(s), kernels on the cores shared among ranks; PyTorch's own count, OpenBLAS $cores"
fi
# The GEMM ceiling in the step's precision (the host's BLAS has one).
declare -A ceiling_line=([tf32]=gemm [fp32]=gemm-fp32 [bf16]=gemm-bf16-native)
gemm_ceiling="$(awk -v line="${ceiling_line[$precision]}" '$1 == line {print $3}' <<< "$ceilings")"
[[ -n "$gemm_ceiling" ]] || gemm_ceiling="$(awk '$1 == "gemm" {print $3}' <<< "$ceilings")"
echo "Precision: $precision (mp's GEMMs and PyTorch's)"
copy_ceiling="$(awk '/^copy/ {print $3}' <<< "$ceilings")"
echo "Ceilings ($ceiling_scope): GEMM $gemm_ceiling GFLOP/s, copy $copy_ceiling GB/s"

python="$(find_python_with torch)"

if [[ -n "${MP_MPIRUN:-}" ]]; then
  read -r -a launcher <<< "$MP_MPIRUN"
else
  # Unbound: each rank's BLAS threads may use the cores it was given.
  launcher=(mpirun --oversubscribe --bind-to none)
  if [[ $(id -u) -eq 0 ]]; then launcher+=(--allow-run-as-root); fi
fi

for size in $sizes; do
  [[ "$size" =~ ^([0-9]+)x([0-9]+)x([0-9]+)$ ]] ||
    { echo "ffn-bench.sh: sizes are DIMxHIDDENxBATCH, not '$size'" >&2; exit 2; }
  dim="${BASH_REMATCH[1]}" hidden="${BASH_REMATCH[2]}" batch="${BASH_REMATCH[3]}"
  dir="$out/$backend-$mesh-$size"
  MP_BUILD_DIR="$build" "$root/scripts/run-ffn.sh" --no-build --no-run \
    --backend "$backend" --mesh "$mesh" --dim "$dim" --hidden "$hidden" \
    --batch "$batch" --precision "$precision" --out "$dir" > "$dir.log"
  flops="$(json_field "$dir/memory.json" ffn_train_step gemm_flops)"
  kbytes="$(json_field "$dir/memory.json" ffn_train_step kernel_bytes)"
  sent="$(json_field "$dir/comm.json" ffn_train_step total.bytes_per_rank 2>/dev/null || echo 0)"
  # mp and PyTorch alternate, round after round, so that a change in what
  # else the machine runs hits both sides alike; each round's ratio is
  # printed, and rounds that disagree mark the result as noise.
  device=cpu; [[ "$backend" == cuda ]] && device=cuda
  mp_times=()
  declare -A torch_times=()
  for ((round = 1; round <= rounds; ++round)); do
    busy="$(busy_percent)"
    mp_ms="$("${launcher[@]}" -n "$ranks" "$dir/train" --backend "$backend" \
      --steps $((steps + warmup)) --warmup "$warmup" --time | tee "$dir.run$round" |
      awk '/^step time:/ {print $4}')"
    mp_times+=("$mp_ms")
    line="  round $round (machine ${busy}% busy before it): mp $mp_ms ms"
    for mode in "${torch_modes[@]}"; do
      [[ -n "$python" ]] || break
      # PyTorch as its users get it: not with mp's OMP_NUM_THREADS, which
      # would size its intra-op pool (2 here, against OpenBLAS's: PyTorch
      # 95 -> 156 ms at batch 1024 while it leaked, from ae3ff5e on).
      torch_ms="$(env ${torch_blas_threads:+-u OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$torch_blas_threads} \
        "$python" "$root/bench/pytorch_ffn.py" --dim "$dim" --hidden "$hidden" \
        --batch "$batch" --steps "$steps" --warmup "$warmup" --device "$device" \
        --precision "$precision" ${torch_flags[$mode]} 2>&1 | tee "$dir.pytorch-$mode$round" |
        awk '/^pytorch step time:/ {print $5}')"
      torch_times[$mode]+="$torch_ms "
      line+="$(awk -v a="$mp_ms" -v b="$torch_ms" -v m="$mode" 'BEGIN {
        printf ", PyTorch %s %.3f ms (%.2f)", m, b, b / a }')"
    done
    echo "$line"
  done
  timing="$(median "${mp_times[@]}")"
  echo
  echo "FFN dim $dim hidden $hidden batch $batch, mesh $mesh ($ranks ranks, $backend):"
  awk -v ms="$timing" -v flops="$flops" -v kbytes="$kbytes" -v sent="$sent" \
      -v ranks="$ranks" -v gemm="$gemm_ceiling" -v copy="$copy_ceiling" \
      -v host="$([[ $backend == host ]] && echo 1 || echo 0)" 'BEGIN {
    s = ms / 1e3
    printf "  per rank: %.3g GFLOP in GEMMs, %.3g MB touched by kernels, %.3g MB sent\n",
           flops / 1e9, kbytes / 1e6, sent / 1e6
    printf "  step time: %.3f ms (median of the rounds)\n", ms
    # On the host all ranks share the machine the ceilings were measured on.
    scale = host ? ranks : 1
    rate = flops * scale / s / 1e9; bw = kbytes * scale / s / 1e9
    printf "  GEMM: %.1f GFLOP/s (%.0f%% of %.1f); kernels: %.1f GB/s (%.0f%% of %.1f)\n",
           rate, 100 * rate / gemm, gemm, bw, 100 * bw / copy, copy
    printf "  floor: %.3f ms if GEMMs ran at the GEMM ceiling, %.3f ms if kernels ran at the copy ceiling\n",
           flops * scale / (gemm * 1e9) * 1e3, kbytes * scale / (copy * 1e9) * 1e3
  }'
  for mode in "${torch_modes[@]}"; do
    [[ -n "${torch_times[$mode]:-}" ]] || continue
    compare_rounds "  " "PyTorch $mode, whole model on one device:" \
      "${mp_times[*]}" "${torch_times[$mode]}"
  done
done
