# limits.bash - the queue cap and memory per job.  Sourced by a bash with
# bgjob enabled.
#
# LIMIT_TRIES `new -f sleep 100' in a loop (default 1000000)
# must stop with a clear error at BGJOB_MAX_RUNNING + BGJOB_MAX_QUEUED jobs
# (LIMIT_QUEUED, default: bgjob's own default cap), not by running out of
# memory; then they are all killed.  Then MEM_JOBS finished jobs (default
# 100000) are kept, their memory per job measured and printed, flushed, and
# the process's resident memory must come back near its baseline, round
# after round (MEM_ROUNDS, default 3).
LIMIT_TRIES=${LIMIT_TRIES:-1000000}
MEM_JOBS=${MEM_JOBS:-100000}
MEM_ROUNDS=${MEM_ROUNDS:-3}
fail() { echo "limits: FAIL: $*" >&2; bgjob kill $(bgjob status -v st; for k in "${!st[@]}"; do [[ ${st[$k]} == Running || ${st[$k]} == Queued ]] && echo "$k"; done) 2>/dev/null; exit 1; }
rss() { local k v u; while read -r k v u; do [[ $k == VmRSS: ]] && { REPLY=$v; return; }; done < /proc/self/status; }
err=${TMPDIR:-/tmp}/bgjob-limits.$$

# ---- the cap ----
if [[ -n ${LIMIT_QUEUED-} ]]; then BGJOB_MAX_QUEUED=$LIMIT_QUEUED; fi
BGJOB_MAX_RUNNING=${BGJOB_MAX_RUNNING:-8}
first=$(( ${BGJOB_LAST:--1} + 1 ))
rss; before=$REPLY
for ((i = 1; i <= LIMIT_TRIES; i++)); do
  bgjob new -f sleep 100 2> "$err" || break
done
made=$((i - 1))
read -r msg < "$err"
rm -f "$err"
((i <= LIMIT_TRIES)) || fail "no cap: $made jobs created"
cap=${BGJOB_MAX_QUEUED:-100000}
((made == BGJOB_MAX_RUNNING + cap)) || fail "$made jobs created before the refusal, expected $BGJOB_MAX_RUNNING running + $cap queued"
[[ $msg == *"too many queued jobs"*BGJOB_MAX_QUEUED* ]] || fail "refusal message: '$msg'"
((BGJOB_LAST == first + made - 1)) || fail "the refused new used up a number"
rss; queued_kb=$((REPLY - before))
bgjob status -v st
n=0; for k in "${!st[@]}"; do [[ ${st[$k]} == Queued ]] && n=$((n + 1)); done
((n == cap)) || fail "$n queued, expected $cap"
ids=(); for ((k = first; k < first + made; k++)); do ids+=("$k"); done
bgjob kill "${ids[@]}" || fail "kill of every job"
bgjob wait -t 120 "${ids[@]}"; (($? == 1)) || fail "wait after killing them all"
bgjob status > /dev/null
bgjob flush > /dev/null || fail "flush"
bgjob new -v ok -- '2 + 2' && bgjob wait "$ok" && bgjob result -v r "$ok" && [[ $r == 4 ]] || fail "new after the cap"
bgjob status >/dev/null; bgjob flush >/dev/null
echo "# limits: the cap refused job $((made + 1)) of up to $LIMIT_TRIES with: ${msg#*: }"
echo "# limits: $made unfinished jobs held $((queued_kb * 1024 / made)) bytes each (resident memory)"

# ---- memory per retained finished job, and back to baseline after flush ----
# Resident memory is what an out-of-memory kill looks at, but glibc keeps some
# freed memory in its arenas: after a flush the level wanders by up to about
# 1 MiB from round to round (measured: +830 kB once in a round of 100,000
# jobs, with no leak).  The first flush sets the level (the baseline); every
# later round must come back within 3 MiB of it and within 2 MiB of the round
# before.  With 100,000 jobs a round and 3 rounds (the size of `make test' and
# of the full run) a leak of 20 bytes a job grows the level by 4 MB by the
# third round and fails; 2 MiB in one round is a leak of 21 bytes a job.
# Smaller MEM_JOBS catch only bigger leaks (20,000 jobs: about 80 bytes).
# The callers set MALLOC_ARENA_MAX=2: otherwise each worker thread that comes
# and goes may leave a malloc arena of its own behind, and the level after a
# flush then depends on how many threads the load of the machine made.
unset BGJOB_MAX_QUEUED BGJOB_MAX_RUNNING
rss; start=$REPLY
for ((round = 1; round <= MEM_ROUNDS; round++)); do
  rss; before=$REPLY
  for ((i = 0; i < MEM_JOBS; i++)); do
    if ((i % 2)); then bgjob new -- 'i * 2 + 1'; else bgjob new -f sleep 0 value; fi || fail "new"
  done
  bgjob wait -t 120 || fail "wait"
  rss; full=$REPLY
  bgjob status > /dev/null
  bgjob flush > /dev/null || fail "flush"
  rss; after=$REPLY
  per=$(( (full - before) * 1024 / MEM_JOBS ))
  echo "# limits: round $round: $MEM_JOBS finished jobs kept: resident $before -> $full kB ($per bytes per retained job); after flush $after kB"
  if ((round == 1)); then
    baseline=$after prev=$after
  elif [[ ${LD_PRELOAD-} == *libasan* ]]; then
    # ASan's allocator keeps freed memory (quarantine, no release to the OS):
    # resident memory says nothing there; tests/c/test_soak.c checks the heap.
    echo "# limits: round $round: resident memory not compared under ASan"
  else
    ((after <= baseline + 3072)) || fail "memory not back after flush: $after kB against a baseline of $baseline kB"
    ((after <= prev + 2048)) || fail "memory grows round after round: $after kB after flush, $prev kB the round before"
    prev=$after
  fi
done
