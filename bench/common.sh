# Shell helpers the bench scripts source.

# How busy all cores were over the last second, in percent (from
# /proc/stat): anything well above 0 means the timings that follow compete.
busy_percent() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
    n = split(a, x, " "); split(b, y, " ")
    for (i = 2; i <= n; ++i) { d = y[i] - x[i]; total += d; if (i == 5 || i == 6) idle += d }
    printf "%.0f", total ? 100 * (total - idle) / total : 0 }'
}

# The median of the arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# FILE FUNCTION FIELD: a number from a compiler report (--mp-memory-report,
# --mp-comm-report); FIELD may be dotted (total.bytes_per_rank).
json_field() {
  python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
for f in report["functions"]:
    if f["function"] == sys.argv[2]:
        value = f
        for key in sys.argv[3].split("."):
            value = value[key]
        print(value)' "$@"
}

# INDENT LABEL "MP_MS..." "THEIR_MS...": PyTorch's median beside mp's, the
# median of the rounds' ratios PyTorch / mp and their range (round i of
# each list ran together), flagged NOISY where the rounds disagree by more
# than 25%.
compare_rounds() {
  local indent="$1" label="$2" i
  local -a mine theirs ratios=()
  read -r -a mine <<< "$3"
  read -r -a theirs <<< "$4"
  for i in "${!mine[@]}"; do
    ratios+=("$(awk -v a="${mine[$i]}" -v b="${theirs[$i]}" 'BEGIN { print b / a }')")
  done
  awk -v indent="$indent" -v label="$label" -v torch="$(median "${theirs[@]}")" \
      -v ratio="$(median "${ratios[@]}")" \
      -v lo="$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" \
      -v hi="$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)" 'BEGIN {
    printf "%s%s %.3f ms; PyTorch / mp = %.2f (rounds %.2f to %.2f)\n",
           indent, label, torch, ratio, lo, hi
    if (hi > 1.25 * lo)
      print indent "NOISY: the rounds disagree by more than 25%; something else used the machine. Do not record."
  }'
}

# DIR: builds bench/host_ceilings.cpp into DIR and prints this machine's
# ceilings (`gemm ... GFLOP/s`, `copy ... GB/s`, `fault us/page` lines),
# measured now, and `blas_core NAME`: the kernels OpenBLAS runs (its
# OPENBLAS_VERBOSE=2 line; host_blas_core says why it matters).
measure_host_ceilings() {
  c++ -O2 -fopenmp -o "$1/host_ceilings" "$(dirname "${BASH_SOURCE[0]}")/host_ceilings.cpp" \
    -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
  OPENBLAS_VERBOSE=2 "$1/host_ceilings" 2> "$1/host_ceilings.err"
  echo "blas_core $(awk '/^Core: / {print $2}' "$1/host_ceilings.err" | tail -1)"
}

# MODE (env or detect): the kernels OpenBLAS picks for the processes timed
# next. OpenBLAS reads OPENBLAS_CORETYPE when it loads; these VMs' environment
# sets it to Haswell (AVX2), while OpenBLAS's own detection picks its
# Cooperlake (AVX-512) kernels on their AMD Zen 5 CPUs, with twice the GEMM
# rate (OpenBLAS sgemm 2048^3 on both cores: 209-218 GFLOP/s as Haswell,
# 385-416 detected, 2026-12-03). `env` keeps what the environment says;
# `detect` lets OpenBLAS choose. mp and PyTorch (Debian's links OpenBLAS too)
# run with the same.
host_blas_core() {
  case "$1" in
    env) ;;
    detect) unset OPENBLAS_CORETYPE ;;
    *) echo "host_blas_core: env or detect, not '$1'" >&2; return 2 ;;
  esac
}

# MODE (retain or default): how the processes timed next allocate on the
# host. PyTorch's CPU tensors come from malloc, and glibc's returns every
# block over 128 KiB to the kernel when it is freed (mmap threshold, trim
# threshold), so each eager step takes its temporaries' pages again, page
# fault by page fault. On this project's VMs a fault costs about 14 us
# (2026-12-03: /tmp/fault.c-style mmap, touch, munmap of 64 MiB), which made
# PyTorch's batch-8 FFN step 75-100 ms instead of 10 (bench/README.md).
# `retain` keeps freed memory in the process (glibc tunables: blocks up to
# 1 GiB from the heap, the heap never trimmed below 1 GiB), which is what
# PyTorch's CPU performance guide gets from jemalloc or tcmalloc; mp's
# trainer allocates its arena once and takes no page fault per step either
# way. `default` leaves malloc as it comes.
host_malloc() {
  case "$1" in
    retain)
      export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824" ;;
    default) ;;
    *) echo "host_malloc: retain or default, not '$1'" >&2; return 2 ;;
  esac
}

# MODULES...: the first Python ($PYTHON, python3, /usr/bin/python3) that
# imports them all, or nothing.
find_python_with() {
  local candidate imports
  imports="$(IFS=,; echo "import $*")"
  for candidate in "${PYTHON:-python3}" /usr/bin/python3; do
    if "$candidate" -c "$imports" 2>/dev/null; then echo "$candidate"; return; fi
  done
}
