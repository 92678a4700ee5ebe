#!/usr/bin/env bash
# records_bench.sh - the cost of the records (docs: README "Records for
# scripts"): `status --json' over N finished jobs, and a log of N lines
# (`log FILE', `log -j FILE'), each as a ratio against `status' to
# /dev/null over the same N jobs, measured in the same shell.
#
#   BGJOB_SO=./bgjob.so bash bench/records_bench.sh [N]      (N default 100000; REPS default 5)
#
# The log is written by the threads that end the jobs, so its cost is the
# time N jobs take from the first `new' to the end of `wait' with the log
# on, less the same without it (the same shell, runs interleaved, median of
# REPS).  A benchmark: asserts nothing.
set -u
N=${1:-100000}
REPS=${REPS:-5}
: "${BGJOB_SO:?set BGJOB_SO to the built bgjob.so}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export N REPS TMP BGJOB_SO
bash --norc --noprofile -c '
  enable -f "$BGJOB_SO" bgjob || exit 99
  BGJOB_MAX_QUEUED=100000
  now() { REPLY=${EPOCHREALTIME/./}; }
  # jobs MODE: N arithmetic jobs from the first new to the end of wait (microseconds in REPLY)
  jobs() {
    bgjob flush -f > /dev/null
    case $1 in off) bgjob log - ;; text) rm -f "$TMP/log"; bgjob log "$TMP/log" ;; json) rm -f "$TMP/log"; bgjob log -j "$TMP/log" ;; esac
    local t0 i
    now; t0=$REPLY
    for ((i = 0; i < N; i++)); do bgjob new 1; done
    bgjob wait -q
    now; REPLY=$((REPLY - t0))
    bgjob log -
  }
  # timed CMD...: microseconds CMD takes (in REPLY)
  timed() { local t0; now; t0=$REPLY; "$@"; now; REPLY=$((REPLY - t0)); }
  for ((r = 0; r < REPS; r++)); do
    for m in off text json; do jobs $m; echo "jobs_$m $REPLY"; done
    [[ $(wc -l < "$TMP/log") == "$N" ]] || echo "log_lines_wrong $(wc -l < "$TMP/log")"
    timed bgjob status > /dev/null; echo "status $REPLY"
    timed bgjob status --json > /dev/null; echo "status_json $REPLY"
    timed bgjob status --json --output > /dev/null; echo "status_json_output $REPLY"
  done
' > "$TMP/raw" || { echo "records_bench: the shell failed" >&2; exit 1; }
grep log_lines_wrong "$TMP/raw" && { echo "records_bench: a log did not have $N lines" >&2; exit 1; }
python3 - "$TMP/raw" "$N" <<'PY'
import statistics, sys
from collections import defaultdict
v = defaultdict(list)
for line in open(sys.argv[1]):
    k, x = line.split()
    v[k].append(int(x) / 1000)
n = int(sys.argv[2])
m = {k: statistics.median(x) for k, x in v.items()}
st = m["status"]
print(f"records bench: {n} jobs, median of {len(v['status'])} (ms; ratio: against status > /dev/null, same run)")
print(f"  status > /dev/null                 {st:9.1f} ms   1.00")
for k, name in (("status_json", "status --json > /dev/null"), ("status_json_output", "status --json --output > /dev/null")):
    print(f"  {name:34s} {m[k]:9.1f} ms   {m[k] / st:4.2f}")
print(f"  {n} jobs, no log (new + wait)    {m['jobs_off']:9.1f} ms")
for k, name in (("text", "log FILE (joblog)"), ("json", "log -j FILE (JSON)")):
    extra = [a - b for a, b in zip(v["jobs_" + k], v["jobs_off"])]
    e = statistics.median(extra)
    print(f"  {name:34s} {e:9.1f} ms   {e / st:4.2f}   (jobs with the log {m['jobs_' + k]:.1f} ms, less without)")
PY
