#!/bin/bash
# bench/run.sh - the driver behind `make bench` (see docs/benchmarks.md).
#
#   bench/run.sh                 full run (about 5-8 min on the 2-vCPU VM)
#   QUICK=1 bench/run.sh         smaller counts, under a minute
#   REPS=5 bench/run.sh          more repetitions (default 5)
#   bench/run.sh --summarize bench/results/raw-XXXX.tsv   re-print a past run
#
# Runs every section of bench/sections.sh (plus IPython and the C scaling
# ceiling) in a fresh process, interleaved: rep 1 of every section, then
# rep 2, ...  Rows go to bench/results/raw-STAMP.tsv; bench/summarize.py turns
# them into the table (stdout), summary-STAMP.tsv and chart.png.
# Environment: BGJOB_SO, BGJOB_PLUGIN (default: the objects `make` builds).
# It asserts nothing: a section that fails is reported and the run goes on.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"

if [[ ${1:-} == --summarize ]]; then
    exec python3 "$ROOT/bench/summarize.py" "$2"
fi

export BGJOB_SO=${BGJOB_SO:-$ROOT/bgjob.so}
export BGJOB_PLUGIN=${BGJOB_PLUGIN:-$ROOT/examples/bgjob-example.so}
CPUSCALE=${CPUSCALE:-$ROOT/build/bench/cpuscale}
QUICK=${QUICK:-}
[[ $QUICK == 0 ]] && QUICK=
REPS=${REPS:-5}

if [[ -n $QUICK ]]; then
    N_NEW=20000 N_RT=2000 N_TMP=100 N_XARGS=100 N_PAR=20 N_COPJ=50 N_COPW=500
    N_IPY=300 N_CBS=2000 N_BUSY=30000000 N_MEM=(25000 50000 100000)
else
    N_NEW=200000 N_RT=2000 N_TMP=1000 N_XARGS=1000 N_PAR=300 N_COPJ=500 N_COPW=2000
    N_IPY=2000 N_CBS=20000 N_BUSY=150000000 N_MEM=(250000 500000 1000000)
fi

STAMP=$(date +%Y%m%d-%H%M%S)
RAW=$RESULTS/raw-$STAMP.tsv
LOG=$RESULTS/run-$STAMP.log
export BENCH_TMP=$(mktemp -d)
trap 'rm -rf "$BENCH_TMP"' EXIT

# ---- optional peers: present, or skipped with the reason deps-bench recorded ----
skip_reason() { # $1 = package; reason from bench/results/deps.log, or a default
    local r
    r=$(awk -F'\t' -v p="$1" '$1 == p { print $2 }' "$RESULTS/deps.log" 2>/dev/null | tail -n1)
    echo "${r:-$1 not installed}"
}
PY=
for p in /usr/bin/python3 python3; do
    if command -v "$p" > /dev/null && "$p" -c 'from IPython.lib.backgroundjobs import BackgroundJobManager' 2> /dev/null; then
        PY=$p; break
    fi
done
declare -A SKIP=()
command -v parallel > /dev/null || SKIP[parallel]=$(skip_reason parallel)
[[ -n $PY ]] || SKIP[ipython]=$(skip_reason python3-ipython)
command -v gnuplot > /dev/null || SKIP[gnuplot]=$(skip_reason gnuplot)
for f in "$BGJOB_SO" "$BGJOB_PLUGIN" "$CPUSCALE"; do
    [[ -e $f ]] || { echo "bench: $f is missing (run make bench, or make all)" >&2; exit 1; }
done

printf 'rep\tsection\tname\tn\tvalue\tunit\tload1\n' > "$RAW"
{
    echo "# bench run $STAMP  QUICK=${QUICK:-0} REPS=$REPS"
    echo "# host: $(uname -srm); $(nproc) CPUs; $(bash --version | head -n1)"
    echo "# bgjob.so: $BGJOB_SO ($(stat -c %y "$BGJOB_SO" | cut -d. -f1))"
    echo "# loadavg at start: $(cat /proc/loadavg)"
    for k in "${!SKIP[@]}"; do echo "# skipped: $k: ${SKIP[$k]}"; done
} > "$LOG"
for k in "${!SKIP[@]}"; do
    printf '0\tskip\t%s\t0\t0\t%s\t0\n' "$k" "${SKIP[$k]}" >> "$RAW"
done

# run REP SECTION CMD... : one section in its own process; its rows, tagged, into RAW
run() {
    local rep=$1 sec=$2 load out rc
    shift 2
    read -r load _ < /proc/loadavg
    out=$("$@" 2>> "$LOG"); rc=$?
    if ((rc != 0)); then
        echo "bench: section $sec (rep $rep) failed with status $rc; see $LOG" >&2
        echo "# section $sec rep $rep: exit $rc" >> "$LOG"
    fi
    [[ -n $out ]] && awk -F'\t' -v OFS='\t' -v r="$rep" -v s="$sec" -v l="$load" \
        'NF == 4 { print r, s, $1, $2, $3, $4, l }' <<< "$out" >> "$RAW"
    printf '.' >&2
}
sec() { bash --norc --noprofile "$ROOT/bench/sections.sh" "$@"; }

t_start=$SECONDS
echo "bench: $REPS reps${QUICK:+ (QUICK)}, raw rows in ${RAW#$ROOT/}" >&2
for ((rep = 1; rep <= REPS; rep++)); do
    run "$rep" newloop sec newloop "$N_NEW"
    run "$rep" roundtrip sec roundtrip "$N_RT"
    run "$rep" tmpfile sec tmpfile "$N_TMP"
    run "$rep" xargs sec xargs "$N_XARGS"
    [[ -v SKIP[parallel] ]] || run "$rep" parallel sec parallel "$N_PAR"
    run "$rep" coproc_job sec coproc_job "$N_COPJ"
    run "$rep" coproc_worker sec coproc_worker "$N_COPW"
    [[ -v SKIP[ipython] ]] || run "$rep" ipython "$PY" "$ROOT/bench/ipy_bjm.py" "$N_IPY"
    run "$rep" cbsleep sec cbsleep "$N_CBS"
    run "$rep" busy sec busy "$N_BUSY"
    run "$rep" cpuscale "$CPUSCALE" "$N_BUSY"
    for n in "${N_MEM[@]}"; do run "$rep" "mem$n" sec mem "$n"; done
    echo " rep $rep done ($((SECONDS - t_start)) s)" >&2
done
echo "# loadavg at end: $(cat /proc/loadavg)" >> "$LOG"

# ---- 7. the evaluator alone: the bench-arith target, if it exists ----
if make -C "$ROOT" -n bench-arith > /dev/null 2>&1; then
    echo "bench: make bench-arith" >&2
    if make -C "$ROOT" --no-print-directory bench-arith QUICK="$QUICK" > "$RESULTS/arith-$STAMP.log" 2>&1; then
        # its summary line ("median ratio ours/bash: R (goal ...)") becomes row 7, verbatim
        grep -E '^(median|mean) ratio ours/bash: [0-9]' "$RESULTS/arith-$STAMP.log" | head -n 1 |
            while IFS= read -r line; do
                printf '0\tarith\tbench_arith\t0\t0\t%s\t0\n' "${line//$'\t'/ }" >> "$RAW"
            done
    else
        printf '0\tskip\tbench-arith\t0\t0\tmake bench-arith failed (see %s)\t0\n' "arith-$STAMP.log" >> "$RAW"
    fi
else
    printf '0\tskip\tbench-arith\t0\t0\tno bench-arith target\t0\n' >> "$RAW"
fi
echo "bench: $((SECONDS - t_start)) s" >&2

# A QUICK run does not replace the README's chart (docs/bench-chart.png).
BENCH_NO_DOCS=${QUICK:+1} python3 "$ROOT/bench/summarize.py" "$RAW" --log "$LOG"
