#!/bin/bash
# bench/slurm_bench.sh - the slurm plugin: N `true' job steps inside one
# allocation of a one-node Slurm cluster this script starts (and stops;
# tests/slurm_cluster.sh, needs root), time until all have completed, against
# the usual ways to do the same, in the same run:
#
#   bgjob        `bgjob new -f srun -- true' N times, then `bgjob wait'
#                (srun gets --exact -n1 -c1; BGJOB_MAX_RUNNING as default, 64)
#   bgjob -P C   the same with BGJOB_MAX_RUNNING=C (C = the node's CPUs)
#   parallel     `parallel -jC srun --exact -n1 -c1 true ::: 1..N' (GNU parallel)
#   array        `sbatch --wait --array=1-N --wrap true' (N jobs, not steps:
#                no allocation around it)
#
#   bench/slurm_bench.sh         N=200, REPS=3 (medians)
#   QUICK=1 bench/slurm_bench.sh N=50, REPS=1
# Prints seconds per way and its ratio to bgjob's.  Asserts nothing.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export BGJOB_SO=${BGJOB_SO:-$ROOT/bgjob.so}
export SLURM_SO=${SLURM_SO:-$ROOT/build/plugins/slurm.so}
QUICK=${QUICK:-}
[[ $QUICK == 0 ]] && QUICK=
N=${N:-$([[ -n $QUICK ]] && echo 50 || echo 200)}
REPS=${REPS:-$([[ -n $QUICK ]] && echo 1 || echo 3)}
if [ "$(id -u)" != 0 ]; then
  echo "slurm_bench: skipped: needs root to start a Slurm cluster" >&2
  exit 0
fi
command -v parallel > /dev/null || echo "slurm_bench: GNU parallel missing (apt-get install parallel): its row is skipped" >&2
T=$(mktemp -d /tmp/bgjob-slurm-bench.XXXXXX)
trap 'tests/slurm_cluster.sh stop "$T"; rm -rf "$T"' EXIT
tests/slurm_cluster.sh start "$T" > /dev/null || exit 1
export SLURM_CONF=$T/slurm.conf
CPUS=$(sinfo -h -o %c)
export N CPUS

# one_way NAME: seconds for way NAME, measured inside one allocation of every CPU (array: outside)
one_way() {
  local body
  case $1 in
  bgjob | bgjob-P)
    body='enable -f "$BGJOB_SO" bgjob && bgjob load "$SLURM_SO" || exit 1
      [[ $WAY == bgjob-P ]] && BGJOB_MAX_RUNNING=$CPUS
      s=$EPOCHREALTIME
      for ((i = 0; i < N; i++)); do bgjob new -f srun -- true; done
      bgjob wait || { bgjob traceback >&2; exit 1; }
      e=$EPOCHREALTIME; echo "$s $e"' ;;
  parallel)
    body='s=$EPOCHREALTIME
      seq "$N" | parallel -j"$CPUS" srun --exact -n1 -c1 true || exit 1
      e=$EPOCHREALTIME; echo "$s $e"' ;;
  esac
  local out
  if [[ $1 == array ]]; then
    local s=$EPOCHREALTIME
    sbatch --wait --array=1-"$N" --output=/dev/null --wrap true > /dev/null || return 1
    out="$s $EPOCHREALTIME"
  else
    out=$(WAY=$1 salloc -Q -n"$CPUS" bash --norc --noprofile -c "$body") || return 1
  fi
  awk '{ printf "%.3f\n", $2 - $1 }' <<< "$out"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A med
ways=(bgjob bgjob-P parallel array)
command -v parallel > /dev/null || ways=(bgjob bgjob-P array)
for w in "${ways[@]}"; do
  for ((r = 0; r < REPS; r++)); do
    one_way "$w" || { echo "slurm_bench: $w failed" >&2; exit 1; }
  done > "$T/$w.times"
  med[$w]=$(median < "$T/$w.times")
done
echo "slurm plugin: $N 'true' steps inside one $CPUS-CPU allocation, time until all completed (median of $REPS)"
printf '%-42s %9s %9s\n' way seconds "x bgjob"
declare -A desc=([bgjob]="bgjob new -f srun (64 at once)" [bgjob-P]="bgjob new -f srun (BGJOB_MAX_RUNNING=$CPUS)"
      [parallel]="parallel -j$CPUS srun --exact" [array]="sbatch --wait --array=1-$N")
for w in "${ways[@]}"; do
  printf '%-42s %9.3f %9.2f\n' "${desc[$w]}" "${med[$w]}" "$(awk -v a="${med[$w]}" -v b="${med[bgjob]}" 'BEGIN { printf "%.2f", a / b }')"
done
