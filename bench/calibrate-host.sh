#!/usr/bin/env bash
# Calibrates the host backend's machine file (issue 18's cost model) by
# measurement: R MPI ranks on this machine, all at once, as a step's ranks
# run (bench/host_calibrate.cpp, linked with the mp runtime by mp-link, so
# that it times the runtime's own calls, what a compiled step calls):
#   * the GEMM rate per rank: mp_gemm_f32 (OpenBLAS sgemm, cores/R threads
#     per rank) in a linear's three layouts at step-like sizes (--gemm-sizes);
#   * the memory rate per rank: mul, silu, copy and AdamW kernels on 1-16 MB;
#   * the per-op overhead: a 64-element mul and an 8x8x8 GEMM;
#   * per mesh axis, on every DPxTP factorization of R (--meshes), the
#     runtime's all_reduce, all_gather and reduce_scatter, every group of the
#     axis at once, 4 KB to 8 MB per rank; bandwidth and latency fitted to
#     bytes_sent_per_rank / W + steps * L (ring: 2(g-1) steps for
#     all_reduce, g-1 for the others); at 4 and 64 KB also right after a
#     kernel, as in a step (printed beside, not fitted).
# bench/calibrate-fit.py fits the constants (see it for how) and writes the
# machine file (default bench/machines/host-<R>ranks.json), and beside it
# <name>.raw.txt (every measurement) and <name>.details.json (each fit's
# errors, each kernel's own rate); it prints what it measured and fitted.
#
# --fit-steps "DIMxHIDDENxBATCH ..." then fits the file to whole training
# steps: for each FFN size, bench/plan-search-bench.sh times every plan
# --mp-auto-plan enumerates (on the microbenchmarks' file), and
# bench/calibrate-steps.py scales the GEMM, memory and link constants so
# that --mp-simulate predicts those steps (least squares on the relative
# error; see it). The microbenchmarks' file stays as <name>.micro.json, the
# steps' fit in <name>.steps.json. Pick sizes other than the ones the plan
# search is then judged on, so that the judgement is out of sample.
#
#   bench/calibrate-host.sh [--ranks 4] [--meshes "4x1 2x2 1x4"]
#       [--gemm-sizes "MxNxK ..."] [--repeat 2] [--out FILE] [--raw "FILE..."]
#       [--fit-steps "1024x1024x32 1024x1024x512"] [--rounds 3]
#       [--fit-llama "gen-llama.py args; more args"] [--links one|per-axis]
#       [--bench-args "more plan-search-bench.sh options"]
#
# --fit-llama adds Llama-shaped steps (examples/llama/gen-llama.py with each
# ';'-separated argument list) to the steps' fit: the FFN's kernels are
# mostly AdamW and silu, a Llama's add norms, softmax, RoPE and the
# embedding, and one memory rate has to serve both. --links per-axis fits a
# link per mesh axis instead of one for all (see calibrate-fit.py).
#
# The machine is shared (builds, tests): --repeat N measures N times and
# each measurement keeps its least time, the run least disturbed; the busy
# share of the cores before each run is printed, and a run on a machine
# over 25% busy is flagged. --raw "FILE..." refits earlier measurements
# without measuring. Uses
# $MP_BUILD_DIR (default build/) for mp-link and the runtime; nothing else
# is built. Each rank's BLAS gets cores / R threads (OMP_NUM_THREADS and
# OPENBLAS_NUM_THREADS, unless set), as plan-search-bench.sh runs steps.
# $MP_MPIRUN overrides the launcher. The microbenchmarks take about a
# minute on 2 cores; --fit-steps and --fit-llama some minutes more.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/common.sh"
build="${MP_BUILD_DIR:-$root/build}"
ranks=4
meshes=""
gemm_sizes=""
out=""
raw=""
repeat=2
fit_steps=""
rounds=3
bench_args=""
fit_llama=""
links=one
while (($#)); do
  case "$1" in
    --ranks) ranks="$2"; shift 2 ;;
    --meshes) meshes="$2"; shift 2 ;;
    --gemm-sizes) gemm_sizes="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --raw) raw="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --fit-steps) fit_steps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --bench-args) bench_args="$2"; shift 2 ;;
    --fit-llama) fit_llama="$2"; shift 2 ;;
    --links) links="$2"; shift 2 ;;
    -h|--help) sed -n '2,51p' "$0"; exit 0 ;;
    *) echo "calibrate-host.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$meshes" ]]; then
  for ((dp = ranks; dp >= 1; --dp)); do
    ((ranks % dp == 0)) && meshes+="${dp}x$((ranks / dp)) "
  done
fi
out="${out:-$root/bench/machines/host-${ranks}ranks.json}"
mkdir -p "$(dirname "$out")"
stem="${out%.json}"
# Before OMP_NUM_THREADS is set below: nproc reads it.
cores="$(nproc)"

if [[ -z "$raw" ]]; then
  raw="$stem.raw.txt"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mpicxx -O2 -std=c++17 -I"$root/runtime/include" -c \
    "$root/bench/host_calibrate.cpp" -o "$work/host_calibrate.o"
  "$build/bin/mp-link" "$work/host_calibrate.o" -o "$work/host_calibrate"
  threads=$((cores / ranks > 0 ? cores / ranks : 1))
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}"
  export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-$threads}"
  if [[ -n "${MP_MPIRUN:-}" ]]; then
    read -r -a launcher <<< "$MP_MPIRUN"
  else
    launcher=(mpirun --oversubscribe --bind-to none)
    if [[ $(id -u) -eq 0 ]]; then launcher+=(--allow-run-as-root); fi
  fi
  echo "Measuring on $ranks ranks at once ($OMP_NUM_THREADS BLAS thread(s) each, $cores cores), meshes: $meshes"
  raws=()
  for ((run = 1; run <= repeat; ++run)); do
    busy="$(busy_percent)"
    echo "  run $run of $repeat: the cores were ${busy}% busy in the second before it$( ((busy > 25)) && echo ' (BUSY: another process competes; its times are kept only where they are the least)')"
    {
      echo "# $(date -u +%FT%TZ) $(hostname) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
           "$cores cores, $ranks ranks, OMP_NUM_THREADS=$OMP_NUM_THREADS, busy ${busy}% before," \
           "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
      "${launcher[@]}" -n "$ranks" "$work/host_calibrate" --meshes "$meshes" \
        ${gemm_sizes:+--gemm-sizes "$gemm_sizes"}
    } > "$work/raw$run.txt"
    raws+=("$work/raw$run.txt")
  done
  cat "${raws[@]}" > "$raw"
  echo "Raw measurements: $raw"
fi
read -r -a raw_files <<< "$raw"
/usr/bin/python3 "$root/bench/calibrate-fit.py" "${raw_files[@]}" --ranks "$ranks" \
  --links "$links" \
  --name "host-${ranks}ranks: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $cores cores shared by $ranks ranks" \
  -o "$stem.micro.json" --details "$stem.details.json"
cp "$stem.micro.json" "$out"
if [[ -n "$fit_steps" || -n "$fit_llama" ]]; then
  results=()
  steps_work="$(mktemp -d)"
  # time_candidates DIR WHAT MODEL-ARGS...: every candidate plan of one
  # model timed by plan-search-bench.sh into DIR, its results kept.
  time_candidates() {
    local dir="$1" what="$2"
    shift 2
    echo
    echo "Timing every candidate plan of the $what (bench/plan-search-bench.sh, $rounds rounds):"
    "$root/bench/plan-search-bench.sh" "$@" \
      --ranks "$ranks" --machine "$stem.micro.json" --rounds "$rounds" \
      --out "$dir" $bench_args | sed -n '/^  round/p'
    results+=("$dir/results.json")
  }
  for size in $fit_steps; do
    time_candidates "$steps_work/$size" "FFN $size" --models ffn --ffn-size "$size"
  done
  IFS=';' read -r -a llamas <<< "$fit_llama"
  for ((i = 0; i < ${#llamas[@]}; ++i)); do
    [[ -n "${llamas[$i]// }" ]] || continue
    time_candidates "$steps_work/llama$i" "Llama ${llamas[$i]}" \
      --models llama --llama-args "${llamas[$i]}"
  done
  echo
  /usr/bin/python3 "$root/bench/calibrate-steps.py" --machine "$stem.micro.json" \
    --mp-opt "$build/bin/mp-opt" -o "$out" --details "$stem.steps.json" "${results[@]}"
  rm -rf "$steps_work"
fi
echo "Machine file: $out"
