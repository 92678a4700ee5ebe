# limits.bash - the queue cap and memory per job.  Sourced by a bash with
# bgjob enabled.
#
# LIMIT_TRIES `new -f sleep 100' in a loop (default 1000000)
# must stop with a clear error at BGJOB_MAX_RUNNING + BGJOB_MAX_QUEUED jobs
# (LIMIT_QUEUED, default: bgjob's own default cap), not by running out of
# memory; then they are all killed.  Then MEM_JOBS finished jobs (default
# 100000) are kept, their memory per job measured and printed, and flushed:
# the heap in use must come back to its level and most resident memory must
# go back to the system, round after round (MEM_ROUNDS, default 3).
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
# Two measures.  The heap in use (the test builtin heapstat: glibc's
# mallinfo2, allocated and not freed) finds leaks: it does not depend on
# malloc arenas or on the free pages glibc keeps, so it comes back to within
# about 100 kB after each flush (what the threads' malloc caches hold).
# Every round after the first must end within 1 MB of the first: with
# MEM_JOBS jobs a round (100,000 in `make test' and the full run) a leak of
# 10 bytes a job fails by the second round and one of 6 bytes by the third
# (20,000 jobs: 52 and 27 bytes).
# Resident memory is what an out-of-memory kill looks at: after a flush at
# least half of what the finished jobs held must have gone back to the
# system.  It is not used to find leaks: after a flush it wanders by up to
# a few MB with the number of threads and arenas a loaded machine made
# (measured: +2.5 MB in one round with no leak, which the heap showed).
# The callers set MALLOC_ARENA_MAX=2, which keeps that wander small.
enable -f "${BASH_SOURCE%/*}/../../build/tests/heapstat.so" heapstat || fail "cannot load the heapstat test builtin"
unset BGJOB_MAX_QUEUED BGJOB_MAX_RUNNING
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
  heapstat; heap=$REPLY
  per=$(( (full - before) * 1024 / MEM_JOBS ))
  echo "# limits: round $round: $MEM_JOBS finished jobs kept: resident $before -> $full kB ($per bytes per retained job); after flush $after kB resident, $heap kB of heap in use"
  if [[ ${LD_PRELOAD-} == *libasan* ]]; then
    # ASan's allocator keeps freed memory (quarantine, no release to the OS)
    # and mallinfo2 does not see it: tests/c/test_soak.c checks the heap there.
    echo "# limits: round $round: memory not compared under ASan"
    continue
  fi
  ((round == 1)) && heap_base=$heap
  ((heap <= heap_base + 1024)) || fail "the heap grows: $heap kB in use after flush, $heap_base kB after the first round"
  (((after - before) * 2 <= full - before)) || fail "memory not back after flush: $after kB resident, $before kB before the round, $full kB with the jobs"
done
