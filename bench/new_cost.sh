#!/bin/bash
# bench/new_cost.sh - the cost of `bgjob new` (row 1 and the memory row of
# `make bench`, in one quick run):
#
#   bench/new_cost.sh [N [REPS]]      N jobs per rep (default 100000), REPS fresh bashes (default 3)
#
# Each rep is a fresh `bash --norc --noprofile` that loads BGJOB_SO (default:
# ./bgjob.so), runs one job and lets the worker park (as bench/sections.sh's
# `mem` section does, but without forking: once bash has run a child, `let`
# itself costs about twice as much), then, timing each loop from the inside
# with $EPOCHREALTIME (no fork):
#
#   LOOP let 'x = 2**20'                        (reference)
#   LOOP bgjob new 'x = 2**20'                  (the `new` loop alone)
#   bgjob wait                                  (the final wait, timed alone)
#   LOOP let 'x = 2**20'                        (reference again; `let` = mean of the two)
#
# where LOOP is `for ((i = 0; i < N; i++)); do ...; done`.  Memory per retained
# job is bench/run.sh's: (VmRSS after the wait - VmRSS just before the `new`
# loop) x 1024 / N; then the same minus the strings a job keeps (its
# command, result and assignments, as `show' gives them, each with its NUL),
# which is what the goal (<= 200 B beyond its strings) is about, and minus the
# result alone (8 B), the stricter figure earlier runs gave.  The ratio `new`/`let` counts the `new` loop
# plus the final wait, as row 1 does, and is taken within each rep.  Prints
# one line per rep and the medians.  Nothing here asserts.
set -u
cd "$(dirname "$0")/.."
N=${1:-100000}
REPS=${2:-3}
export BGJOB_SO=${BGJOB_SO:-$PWD/bgjob.so}
export N

one_rep() {
    bash --norc --noprofile -c '
        now() { REPLY=${EPOCHREALTIME/[.,]/}; }
        rss() { local k v _; REPLY=0
            while read -r k v _; do [[ $k == VmRSS: ]] && { REPLY=$v; break; }; done < /proc/$$/status; }
        enable -f "$BGJOB_SO" bgjob || exit 1
        BGJOB_MAX_QUEUED=100000000
        bgjob new "x = 2**20"; bgjob wait
        # let the worker park, without forking (after a fork, bash runs every command slower)
        now; e=$((REPLY + 300000)); while now; ((REPLY < e)); do :; done
        bgjob flush > /dev/null
        now; t0=$REPLY
        for ((i = 0; i < N; i++)); do let "x = 2**20"; done
        now; t1=$REPLY
        rss; r0=$REPLY
        now; t2=$REPLY
        for ((i = 0; i < N; i++)); do bgjob new "x = 2**20"; done
        now; t3=$REPLY
        bgjob wait
        now; t4=$REPLY
        rss; r1=$REPLY
        now; t5=$REPLY
        for ((i = 0; i < N; i++)); do let "x = 2**20"; done
        now; t6=$REPLY
        let_ns=$(( (t1 - t0 + t6 - t5) * 1000 / 2 / N ))
        new_ns=$(( (t4 - t2) * 1000 / N ))
        loop_ns=$(( (t3 - t2) * 1000 / N ))
        # the strings every job keeps, with their NULs: the command, the result, the assignments
        bgjob show -v J "$N" || exit 1 # the last job (job 0 was flushed)
        strs=$(( ${#J[command]} + 1 + ${#J[result]} + 1 + ${#J[assignments]} + 1 ))
        echo "$new_ns $loop_ns $let_ns $((t4 - t3)) $(( (r1 - r0) * 1024 / N )) $strs"
    '
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

news=() loops=() lets=() ratios=() waits=() mems=()
printf '%-4s %12s %12s %12s %8s %12s %10s %14s %12s\n' rep "new+wait ns" "new ns" "let ns" ratio "wait us" "B/job" "B/job - 8" "- strings"
for ((r = 1; r <= REPS; r++)); do
    read -r new loop let wait mem strs < <(one_rep) || { echo "rep $r failed" >&2; exit 1; }
    ratio=$(awk -v a="$new" -v b="$let" 'BEGIN { printf "%.2f", a / b }')
    printf '%-4s %12s %12s %12s %8s %12s %10s %14s %12s\n' "$r" "$new" "$loop" "$let" "$ratio" "$wait" "$mem" $((mem - 8)) $((mem - strs))
    news+=("$new") loops+=("$loop") lets+=("$let") ratios+=("$ratio") waits+=("$wait") mems+=("$mem")
done
m_mem=$(median "${mems[@]}")
printf '%-4s %12s %12s %12s %8s %12s %10s %14s %12s\n' median "$(median "${news[@]}")" "$(median "${loops[@]}")" \
    "$(median "${lets[@]}")" "$(median "${ratios[@]}")" "$(median "${waits[@]}")" "$m_mem" \
    "$(awk -v m="$m_mem" 'BEGIN { print m - 8 }')" "$(awk -v m="$m_mem" -v s="$strs" 'BEGIN { print m - s }')"
echo "N = $N per rep; ratio = (new loop + final wait) / let, within a rep; goal: ratio <= 2, wait <= 5000 us,"
echo "B/job beyond the job's strings (command, result, assignments: $strs bytes with their NULs) <= 200;"
echo "'B/job - 8' takes off the result only"
