# unload.bash - `enable -d bgjob' / `enable -f' cycles with jobs running.
# Sourced by a bash with bgjob enabled; BGJOB_SO names it.
#
# CYCLES cycles (default 50): start jobs (a long sleep, short ones, arithmetic),
# unload the builtin while they run, check the command is gone, reload it,
# and check that the same manager is back: the jobs are there, the numbers
# go on, the results are right.  Also forks while unloaded.
CYCLES=${CYCLES:-50}
fail() { echo "unload: FAIL: $*" >&2; exit 1; }

for ((c = 0; c < CYCLES; c++)); do
  bgjob new -v s -f sleep 0.01 "s$c" || fail "new"
  bgjob new -v l -f sleep 600 || fail "new"
  bgjob new -v a -- "$c * 11" || fail "new"
  enable -d bgjob || fail "enable -d (cycle $c)"
  type bgjob >/dev/null 2>&1 && fail "bgjob still a command after enable -d"
  r=$(echo forked-while-unloaded) && [[ $r == forked-while-unloaded ]] || fail "fork while unloaded"
  enable -f "$BGJOB_SO" bgjob 2>/dev/null || fail "enable -f (cycle $c)"
  bgjob new -v n -- 1 || fail "new after reload"
  ((n == a + 1)) || fail "numbering restarted: $n after $a"
  bgjob kill "$l" || fail "the long job is not running after reload"
  bgjob wait -t 60 "$s" "$a" "$n" || fail "wait after reload"
  bgjob result -v rs "$s" && [[ $rs == "s$c" ]] || fail "sleep result '$rs'"
  bgjob result -v ra "$a" && [[ $ra == $((c * 11)) ]] || fail "arith result '$ra'"
  bgjob wait "$l"; (($? == 1)) || fail "killed job"
  if ((c % 10 == 9)); then bgjob status >/dev/null; bgjob flush >/dev/null || fail "flush"; fi
done
# unloaded with a job running, and the shell exits that way: no crash (the caller checks the status)
bgjob new -d -f sleep 600 || fail "new"
bgjob new -f sleep 0.05 || fail "new"
enable -d bgjob || fail "last enable -d"
echo "# unload: $CYCLES enable -d / enable -f cycles with jobs running"
