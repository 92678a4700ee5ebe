#!/usr/bin/env bash
# flow_bench.sh - the cost of dependencies (new -a): a chain of N jobs, each
# after the one before, and a diamond (one job, N/2 jobs after it, one job
# after all of those), against the same number of plain jobs made the same
# way (with -v) in the same shell.  Then plain jobs and the chain again
# beside 5*N (and more) finished jobs left in the table: a job's end releases
# its dependents without looking at the other jobs, so that ratio stays.
#
# Two baselines, per job:
# - plain: N jobs `bgjob new -v prev 1', then `bgjob wait'.  They run while
#   the loop still makes the next ones, so the time is about the larger of
#   making and running.  The chain and the diamond are given as ratios to it
#   (the issue's goal, 1.5x).
# - gated: the same N plain jobs made while held back, then all let go at
#   once: a group with one slot, taken by a job waiting for the gate (as the
#   chain's and the diamond's first job does), the other N-1 plain jobs held
#   in it; then the gate opens, the limit is lifted (`group -j 0') and
#   `bgjob wait' waits for them all.  Like the chain and the diamond, they
#   are all made first and run after, so the time is making plus running.
#   "gated, to plain" is that shape's own cost; "chain, to gated" and
#   "diamond, to gated" are what the dependencies cost beyond it.
# The diamond forks `seq' for its list of N/2 IDs once its jobs are made;
# after a fork every page the shell then writes is copied, a cost of the
# fork rather than of dependencies.  "diamond, IDs forked before its jobs"
# (to plain) is the same diamond with the same `seq' run before its jobs
# are made.  "diamond, IDs in an array" (to plain, and to gated) is the
# diamond as a script would write it, without a fork: each ID made is added
# to an array (`ids+=("$id")'), and the last job is given "${ids[*]}" with
# IFS=, .  "diamond, IDs as a range" is the diamond a script can write when
# its loop made the middle jobs one after the other: the last job names them
# `-a FIRST-LAST', no list built.
#
#   BGJOB_SO=./bgjob.so bash bench/flow_bench.sh [N] [REPS]
#
# N defaults to 10000, REPS to 5.  Reps are interleaved (plain, gated, chain,
# the diamonds, then again) and every ratio is taken within one rep, then the
# median over reps is printed with the min - max, as docs/benchmarks.md
# explains.  A benchmark: asserts nothing.
set -u
N=${1:-10000}
REPS=${2:-5}
: "${BGJOB_SO:?set BGJOB_SO to the built bgjob.so}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
GATE=$TMP/gate
mkfifo "$GATE"
export N REPS BGJOB_SO GATE

bash --norc --noprofile -c '
  enable -f "$BGJOB_SO" bgjob || exit 99
  # The chain and the diamond wait for their last job only (it ends last):
  # `wait` without IDs looks at every job of the table, as plain jobs do.
  plain() { local i prev; for ((i = 0; i < N; i++)); do bgjob new -v prev 1; done; bgjob wait; }
  # The same plain jobs, held back until all are made: the one slot of the
  # group is taken by the gate job, then the limit is lifted and all may run.
  gated() {
    local i prev
    bgjob group flowgate -j 1
    bgjob new -g flowgate -v prev -f run cat "$GATE"
    for ((i = 1; i < N; i++)); do bgjob new -g flowgate -v prev 1; done
    : > "$GATE"; bgjob group flowgate -j 0; bgjob wait
  }
  # The first job of the chain and the top of the diamond wait for the gate
  # (a command reading a FIFO), opened once every job is made: so every job
  # is made Blocked, and the releases all happen, down the chain or across
  # the diamond.
  chain() {
    local i prev
    bgjob new -v prev -f run cat "$GATE"
    for ((i = 1; i < N; i++)); do bgjob new -v prev -a "$prev" 1; done
    : > "$GATE"; bgjob wait "$prev"
  }
  diamond() {
    local i top id half=$((N / 2))
    bgjob new -v top -f run cat "$GATE"
    for ((i = 0; i < half; i++)); do bgjob new -v id -a "$top" 1; done
    bgjob new -v id -a "$(seq -s, "$((top + 1))" "$id")" 1
    : > "$GATE"; bgjob wait "$id"
  }
  # The same diamond with its ID list forked before the jobs are made (the
  # numbers are known: the table is empty after a flush): after a fork every
  # page the shell writes is copied, so forking beside N/2 jobs costs more.
  diamond_early() {
    local i top id half=$((N / 2)) ids
    bgjob new -v top -f run cat "$GATE"
    ids=$(seq -s, "$((top + 1))" "$((top + half))")
    for ((i = 0; i < half; i++)); do bgjob new -v id -a "$top" 1; done
    bgjob new -v id -a "$ids" 1
    : > "$GATE"; bgjob wait "$id"
  }
  # The diamond without a fork: the IDs collected in an array as they are made.
  diamond_ids() {
    local i top id half=$((N / 2)) ids=() IFS=,
    bgjob new -v top -f run cat "$GATE"
    for ((i = 0; i < half; i++)); do bgjob new -v id -a "$top" 1; ids+=("$id"); done
    bgjob new -v id -a "${ids[*]}" 1
    : > "$GATE"; bgjob wait "$id"
  }
  # The diamond with its last job naming the middle jobs as a range: a loop
  # makes consecutive IDs, so no list is built at all.
  diamond_range() {
    local i top id half=$((N / 2))
    bgjob new -v top -f run cat "$GATE"
    for ((i = 0; i < half; i++)); do bgjob new -v id -a "$top" 1; done
    bgjob new -v id -a "$((top + 1))-$id" 1
    : > "$GATE"; bgjob wait "$id"
  }
  # T: ns per job of one run of FUNC (N jobs; the diamond N/2+2), in this shell (no subshell)
  timed() {
    local n=$N t0 t1
    [[ $1 == diamond* ]] && n=$((N / 2 + 2))
    t0=${EPOCHREALTIME/./}; $1; t1=${EPOCHREALTIME/./}
    T=$(( (t1 - t0) * 1000 / n ))
  }
  for ((r = 0; r < REPS; r++)); do
    timed plain; p=$T; bgjob flush -f > /dev/null
    timed gated; g=$T; bgjob flush -f > /dev/null
    timed chain; c=$T; bgjob flush -f > /dev/null
    timed diamond; d=$T; bgjob flush -f > /dev/null
    timed diamond_early; e=$T; bgjob flush -f > /dev/null
    timed diamond_ids; a=$T; bgjob flush -f > /dev/null
    timed diamond_range; q=$T; bgjob flush -f > /dev/null
    echo "small $p $c $d $g $e $a $q"
  done
  for ((i = 0; i < 5 * N; i++)); do bgjob new 1; done; bgjob wait
  for ((r = 0; r < REPS; r++)); do
    timed plain; p=$T; timed chain; c=$T
    echo "big $p $c 0"
  done
' | awk -v n="$N" '
  function med(a, k,   i, j, t) {   # sorts a[1..k], returns its median
    for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  function show(label, a, k, ratio,   lo, hi, m) {
    m = med(a, k); lo = a[1]; hi = a[k]
    if (ratio) printf "  %-38s %6.2fx  (%.2f - %.2f)\n", label, m, lo, hi
    else printf "  %-38s %6d ns  (%d - %d)\n", label, m, lo, hi
  }
  $1 == "small" { s++; p[s] = $2; c[s] = $3 / $2; d[s] = $4 / $2; g[s] = $5; gp[s] = $5 / $2; cg[s] = $3 / $5; dg[s] = $4 / $5; de[s] = $6 / $2; da[s] = $7 / $2; dag[s] = $7 / $5; dr[s] = $8 / $2; drg[s] = $8 / $5 }
  $1 == "big" { b++; bp[b] = $2; bc[b] = $3 / $2 }
  END {
    printf "\nDependencies (new -a), %d jobs: median over %d reps (min - max), ratios within each rep\n", n, s
    show("plain jobs (bgjob new -v prev 1)", p, s, 0)
    show("chain (each -a the one before)", c, s, 1)
    show("diamond (1 -> " int(n / 2) " -> 1)", d, s, 1)
    show("gated plain jobs (made held, then run)", g, s, 0)
    show("gated, to plain (the shape alone)", gp, s, 1)
    show("chain, to gated", cg, s, 1)
    show("diamond, to gated", dg, s, 1)
    show("diamond, IDs forked before its jobs", de, s, 1)
    show("diamond, IDs in an array (no fork)", da, s, 1)
    show("diamond, IDs in an array, to gated", dag, s, 1)
    show("diamond, IDs as a range (-a FIRST-LAST)", dr, s, 1)
    show("diamond, IDs as a range, to gated", drg, s, 1)
    show("plain, " 5 * n "+ finished jobs in table", bp, b, 0)
    show("chain beside them, to plain beside them", bc, b, 1)
  }'
