# signals.bash - signals next to bgjob's threads.  Sourced
# by a bash with bgjob enabled.
#
# - every worker thread blocks every signal (so bash's handlers, SIGCHLD's
#   waitchld among them, only ever run on the main thread);
# - SIG_ROUNDS rounds (default 200) of SIGCHLD-heavy work next to running
#   jobs: `&' jobs with known exit statuses, command substitutions, external
#   commands; every status and every job result must come out right;
# - a trapped signal interrupts `bgjob wait' on a job that still runs: wait
#   returns 128+N, the trap runs, the job is still running afterwards (so the
#   wait did not just end with the job), SIG_TRAPS times (default 20);
# - SIGCHLD does not interrupt `bgjob wait'.
SIG_ROUNDS=${SIG_ROUNDS:-200}
SIG_TRAPS=${SIG_TRAPS:-20}
fail() { echo "signals: FAIL: $*" >&2; bgjob kill "$long" "${extra[@]}" 2>/dev/null; exit 1; }

# Nine jobs that end only when killed; the masks are read once each runs its
# callback (it has reported progress), so every worker has set itself up.
extra=()
bgjob new -v long -f sleep 600 || fail "new"
for ((i = 0; i < 8; i++)); do bgjob new -v id -d -f sleep 600 || fail "new"; extra+=("$id"); done
for id in "$long" "${extra[@]}"; do
  until bgjob show -v j "$id" && [[ -n ${j[progress]} ]]; do bgjob wait -t 0.05 "$id"; done
done
bgjob kill "${extra[@]}" || fail "kill"

# worker signal masks, from /proc
workers=0
for t in /proc/$$/task/*; do
  # (a worker may leave between the glob and the reads: its files are then gone)
  { read -r comm < "$t/comm"; } 2>/dev/null || continue
  [[ $comm == bgjob-worker ]] || continue
  { mapfile -t status < "$t/status"; } 2>/dev/null || continue
  for line in "${status[@]}"; do
    [[ $line == SigBlk:* ]] || continue
    v=${line#SigBlk:}; v=${v//[[:space:]]/}
    # every signal blocked except 9, 19 and glibc's internal 32 and 33
    (( (0x$v | 0x180040100) == 0xffffffffffffffff )) || fail "worker ${t##*/} has SigBlk $v"
  done
  workers=$((workers + 1))
done
((workers >= 2)) || fail "found $workers worker threads"

# SIGCHLD-heavy work next to running jobs
bad=0
for ((r = 0; r < SIG_ROUNDS; r++)); do
  bgjob new -v j -- "$r * $r" || fail "new"
  (exit $((r % 7))) & p1=$!
  sh -c "exit $((r % 5))" & p2=$!
  x=$(echo "$r")
  /bin/true || fail "/bin/true"
  wait "$p1"; s1=$?
  wait "$p2"; s2=$?
  ((s1 == r % 7 && s2 == r % 5)) || fail "round $r: & jobs returned $s1 $s2"
  [[ $x == "$r" ]] || fail "round $r: \$(echo) gave '$x'"
  bgjob wait -t 60 "$j" && bgjob result -v y "$j" && [[ $y == $((r * r)) ]] || fail "round $r: job $j gave '$y'"
  bgjob remove "$j"
done

# trapped signals interrupt bgjob wait: a background sender repeats the
# signal every 0.05 s until the wait has returned, so a signal that comes
# before the wait has started only runs the trap early (no race).
got=0
for ((r = 0; r < SIG_TRAPS; r++)); do
  case $((r % 3)) in 0) sig=USR1 n=10 ;; 1) sig=ALRM n=14 ;; 2) sig=TERM n=15 ;; esac
  hit=0
  trap 'hit=1' "$sig"
  { while kill -s "$sig" $$; do sleep 0.05; done; } 2>/dev/null & sender=$!
  bgjob wait -t 600 "$long"; rc=$?
  ((rc == 128 + n)) || fail "bgjob wait interrupted by SIG$sig returned $rc"
  kill "$sender"
  while kill -0 "$sender" 2>/dev/null; do wait "$sender"; done
  got=$((got + hit))
  trap - "$sig"
  bgjob status -v st
  [[ ${st[$long]} == Running ]] || fail "the job is ${st[$long]}"
done
((got == SIG_TRAPS)) || fail "traps ran $got times, expected $SIG_TRAPS"

# SIGCHLD does not end the wait
sleep 0.01 &
bgjob wait -t 0.5 "$long"; rc=$?
((rc == 124)) || fail "wait -t 0.5 with a child exiting returned $rc"
wait

bgjob kill "$long" || fail "kill"
bgjob wait "$long"; (($? == 1)) || fail "killed job"
echo "# signals: $workers workers block every signal; $SIG_ROUNDS SIGCHLD-heavy rounds ($((SIG_ROUNDS * 3)) forks); $SIG_TRAPS trapped signals interrupted bgjob wait"
