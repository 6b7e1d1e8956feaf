#!/usr/bin/env bash
# Measures every plan the plan search enumerates (issue 18) and sets the
# measured step time beside the predicted one. For each model (--models
# ffn,llama):
#   * the model: the seed's FFN at --ffn-size DIMxHIDDENxBATCH (as
#     scripts/run-ffn.sh writes it), or the Llama-shaped model
#     (examples/llama/gen-llama.py --llama-args, then --mp-loss-parallel as
#     scripts/run-llama.sh does, with --loss-parallel-blocks = --ranks so
#     that every candidate's tensor-parallel size divides it);
#   * mp-opt --mp-auto-plan (ranks, the --machine file, the --memory budget
#     per rank, --train-step; with --schedules, schedules=true), or a
#     report given with --report MODEL=FILE;
#   * every candidate with status "ok": its plan compiled with run-ffn.sh
#     --no-run --plan --mesh DPxTP (with --schedules once per schedule the
#     search tried: --fsdp-groups, --overlap, --tp-overlap; then, where
#     mp-opt has it, --mp-simulate on the step), and timed with mp-train
#     --time on --ranks
#     MPI ranks, --rounds rounds of --steps steps after --warmup, the
#     candidates in another order each round; the median of the rounds
#     (--statistic min: the least, the round least disturbed). Before each
#     run it waits (up to --max-wait s) for the cores to be under
#     --wait-quiet % busy: on a shared 2-core machine a build beside a run
#     doubles its step time; a run that started busy is marked so;
#   * a table: candidate, mesh, the search's rank, predicted ms, measured
#     ms, prediction error, --mp-simulate's ms, a rough estimate from the
#     step's memory and comm reports under the machine file, planned peak
#     and bytes sent per rank, each round's median; then whether the chosen
#     plan is within 10% of the fastest measured and how many predictions
#     are within 25%. Rounds more than 25% apart are marked NOISY.
# Everything goes under --out (default $MP_BUILD_DIR/plan-search-bench):
# results.json, results.csv, and per model the report, the candidates'
# plans, compiled steps and logs.
#
#   bench/plan-search-bench.sh [--models ffn,llama] [--ffn-size 1024x2048x128]
#       [--llama-args "..."] [--loss-parallel-blocks K] [--ranks 4]
#       [--machine bench/machines/host-4ranks.json] [--memory BYTES]
#       [--train-step "optimizer=adamw lr=3e-3"] [--report MODEL=FILE]
#       [--schedules] [--steps 8] [--warmup 2] [--rounds 3]
#       [--statistic median|min]
#       [--wait-quiet 30] [--max-wait 30] [--out DIR]
#
# Uses the tools in $MP_BUILD_DIR (default build/; nothing is built). Each
# rank's BLAS gets cores / ranks threads (OMP_NUM_THREADS and
# OPENBLAS_NUM_THREADS, unless set), as calibrate-host.sh measured them;
# $MP_MPIRUN overrides the launcher (default mpirun --oversubscribe
# --bind-to none, as root --allow-run-as-root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in -h|--help) sed -n '2,46p' "$0"; exit 0 ;; esac
exec /usr/bin/python3 "$root/bench/plan_search_bench.py" "$@"
