#!/usr/bin/env bash
# flow_bench.sh - the cost of dependencies (new -a): a chain of N jobs, each
# after the one before, and a diamond (one job, N/2 jobs after it, one job
# after all of those), against the same number of plain jobs in the same
# shell.  Also plain jobs and the chain again beside 5*N (and more) finished
# jobs left in the table: a job's end releases its dependents without
# looking at the other jobs, so the ratio stays the same.  Prints microseconds per job (best of REPS) and the
# ratios to plain jobs.
#
#   BGJOB_SO=./bgjob.so bash bench/flow_bench.sh [N] [REPS]
#
# N defaults to 10000, REPS to 3.  A benchmark: asserts nothing.
set -u
N=${1:-10000}
REPS=${2:-3}
: "${BGJOB_SO:?set BGJOB_SO to the built bgjob.so}"
export N REPS BGJOB_SO

bash --norc --noprofile -c '
  enable -f "$BGJOB_SO" bgjob || exit 99
  now() { echo "${EPOCHREALTIME/./}"; }
  # plain jobs are made as the chain makes its jobs (-v), so only the dependency differs
  plain() { local i prev; for ((i = 0; i < N; i++)); do bgjob new -v prev 1; done; bgjob wait; }
  # each waits for its last job only (it ends last): `wait` without IDs would look at the whole table
  chain() { local i prev; bgjob new -v prev 1; for ((i = 1; i < N; i++)); do bgjob new -v prev -a "$prev" 1; done; bgjob wait "$prev"; }
  diamond() {
    local i top id ids=() half=$((N / 2))
    bgjob new -v top 1
    for ((i = 0; i < half; i++)); do bgjob new -v id -a "$top" 1; ids+=("$id"); done
    local IFS=,
    bgjob new -v id -a "${ids[*]}" 1
    bgjob wait "$id"
  }
  # best NAME FUNC: microseconds per job, best of REPS (the table emptied between runs)
  best() {
    local b=0 t0 t1 us r n=$N
    [[ $1 == diamond ]] && n=$((N / 2 + 2))
    for ((r = 0; r < REPS; r++)); do
      t0=$(now); $2; t1=$(now); bgjob flush -f > /dev/null
      us=$(( (t1 - t0) * 1000 / n ))
      (( b == 0 || us < b )) && b=$us
    done
    echo "$1 $b"
  }
  best plain plain
  best chain chain
  best diamond diamond
  # the same with 5*N finished jobs kept in the table: plain jobs, then the chain
  for ((i = 0; i < 5 * N; i++)); do bgjob new 1; done; bgjob wait
  for kind in plain chain; do
    b=0
    for ((r = 0; r < REPS; r++)); do
      t0=$(now); $kind; t1=$(now)
      us=$(( (t1 - t0) * 1000 / N )); (( b == 0 || us < b )) && b=$us
    done
    echo "$kind-big-table $b"
  done
' | awk -v n="$N" '
  { v[$1] = $2 }
  END {
    printf "\nDependencies (new -a), %d jobs, ns per job (best of runs), ratio to plain jobs:\n", n
    printf "  %-36s %9d ns\n", "plain jobs (bgjob new -v prev 1)", v["plain"]
    printf "  %-36s %9d ns  %.2fx\n", "chain (each -a the one before)", v["chain"], v["chain"] / v["plain"]
    printf "  %-36s %9d ns  %.2fx\n", "diamond (1 -> " int(n / 2) " -> 1)", v["diamond"], v["diamond"] / v["plain"]
    printf "  %-36s %9d ns\n", "plain, " 5 * n "+ finished jobs in table", v["plain-big-table"]
    printf "  %-36s %9d ns  %.2fx\n", "chain, " 5 * n "+ finished jobs in table", v["chain-big-table"], v["chain-big-table"] / v["plain-big-table"]
  }'
