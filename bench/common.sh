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
