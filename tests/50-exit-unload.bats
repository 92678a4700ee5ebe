#!/usr/bin/env bats
# 50-exit-unload: the shell waits for running non-daemon jobs when it exits
# (and says so), abandons daemon jobs, forked children never wait for the
# parent's jobs; `enable -d bgjob` while jobs run does not crash the shell and
# a later `enable -f` finds the jobs again.

load helper

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'
TIMER='start() { t0=${EPOCHREALTIME//[!0-9]/}; }; ms() { echo $(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 )); }'

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# timed_bgsh SCRIPT: runs bgsh SCRIPT under `run --separate-stderr` and sets ELAPSED_MS.
# Lower bounds are safe under any load (a job of 2 s takes at least 2 s);
# upper bounds only tell "did not wait" from "waited for a 600 s job".  Where
# the "waiting for N running jobs" message is checked, the jobs must still run
# when the script ends: they sleep 2 s, which no stall of the script between
# `bgjob new' and its end comes near (the shipped callbacks have no job that
# ends on an event other than kill, and kill would end it before the exit).
timed_bgsh() {
  local t0 t1
  t0=$(now_us)
  run --separate-stderr bgsh "$1"
  t1=$(now_us)
  ELAPSED_MS=$(( (t1 - t0) / 1000 ))
}

# ---- exit ----

@test "a script that ends while a non-daemon job runs waits for it and says so on stderr" {
  timed_bgsh 'bgjob new -f sleep 2; echo started'
  assert_success
  assert_output 'started'
  (( ELAPSED_MS >= 1900 )) || fail "the shell exited after ${ELAPSED_MS} ms, before its job finished"
  [[ $stderr == *waiting*'1 running job'* ]] || fail "no waiting message: $stderr"
}

@test "exit N while a non-daemon job runs waits for it and keeps the status N" {
  timed_bgsh 'bgjob new -f sleep 2; exit 3'
  assert_failure 3
  (( ELAPSED_MS >= 1900 )) || fail "exited after ${ELAPSED_MS} ms"
  [[ $stderr == *waiting* ]]
}

@test "a script whose only running job is a daemon exits at once, silently" {
  timed_bgsh 'bgjob new -d -f sleep 600; echo started'
  assert_success
  assert_output 'started'
  (( ELAPSED_MS < 60000 )) || fail "the shell waited ${ELAPSED_MS} ms for a daemon job"
  assert_equal "$stderr" ''
}

@test "at exit the shell waits for the non-daemon jobs only" {
  timed_bgsh 'bgjob new -d -f sleep 600; bgjob new -f sleep 2; bgjob new -d -f sleep 600'
  assert_success
  (( ELAPSED_MS >= 1900 && ELAPSED_MS < 60000 )) || fail "exited after ${ELAPSED_MS} ms"
  [[ $stderr == *'waiting for 1 running job'* ]] || fail "$stderr"
}

@test "at exit the shell also waits for queued non-daemon jobs" {
  timed_bgsh 'BGJOB_MAX_RUNNING=1; bgjob new -f sleep 2; bgjob new -f sleep 2'
  assert_success
  (( ELAPSED_MS >= 3900 )) || fail "exited after ${ELAPSED_MS} ms, before the queued job ran"
  [[ $stderr == *'waiting for 1 running and 1 queued job to finish'* ]] || fail "$stderr"
}

@test "a shell whose jobs have all finished or been killed exits at once without a message" {
  timed_bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f sleep 600; bgjob kill 1; bgjob wait || :'
  assert_success
  (( ELAPSED_MS < 60000 )) || fail "exited after ${ELAPSED_MS} ms"
  assert_equal "$stderr" ''
}

@test "exit from a subshell, a command substitution or a pipeline does not wait for the parent's jobs" {
  timed_bgsh "$TIMER"'; bgjob new -f sleep 600
    start; ( bgjob status >/dev/null; exit 0 ); echo "subshell=$? $(( $(ms) < 60000 ))"
    start; x=$(bgjob status -v S; echo done); echo "comsub=$x $(( $(ms) < 60000 ))"
    start; bgjob status | cat >/dev/null; echo "pipeline $(( $(ms) < 60000 ))"
    start; { bgjob status >/dev/null; } & wait $!; echo "async=$? $(( $(ms) < 60000 ))"
    bgjob kill 0; bgjob wait 0; :'
  assert_success
  assert_output $'subshell=0 1\ncomsub=done 1\npipeline 1\nasync=0 1'
  assert_equal "$stderr" ''
}

# ---- enable -d ----

@test "enable -d while a job runs does not crash the shell, and enable -f finds the job and its result again" {
  run -0 --separate-stderr bgsh '
    bgjob new -f sleep 0.3 kept
    enable -d bgjob; echo "unload=$?"
    type -t bgjob || echo "bgjob is gone"
    x=$(echo forked); ( : ); /bin/true; echo "forks ok $x"
    enable -f "$BGJOB_SO" bgjob; echo "reload=$?"
    bgjob wait 0; echo "wait=$?"
    bgjob result 0; echo "last=$BGJOB_LAST"'
  assert_output $'unload=0\nbgjob is gone\nforks ok forked\nreload=0\nwait=0\nkept\nlast=0'
}

@test "jobs keep finishing while bgjob is unloaded" {
  run -0 --separate-stderr bgsh '
    bgjob new -f sleep 0.1 a; bgjob new -f sleep 600
    # unloaded for 0.3 s at a time until job 0 has finished (the first time, unless the machine stalls)
    for ((try = 0; try < 200; try++)); do
      enable -d bgjob
      /bin/sleep 0.3
      enable -f "$BGJOB_SO" bgjob
      bgjob status -v S; [[ ${S[0]} == Completed ]] && break
    done
    echo "${S[0]} ${S[1]}"; bgjob result 0
    bgjob kill 1; bgjob wait 1; echo "killed=$?"'
  assert_output $'Completed Running\na\nkilled=1'
}

@test "numbering goes on after enable -d and enable -f" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob wait
    enable -d bgjob; enable -f "$BGJOB_SO" bgjob
    bgjob new -v n -f join b; bgjob wait; echo "n=$n"; bgjob result 0'
  assert_output $'n=1\na'
}

@test "a plugin job survives enable -d and its callbacks are still registered after enable -f" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob new -f busy 100000000000
    enable -d bgjob; x=$(echo hi); enable -f "$BGJOB_SO" bgjob
    bgjob kill 0; bgjob wait -t 200 0; echo "busy=$?"
    bgjob new -f join still here; bgjob wait; bgjob result 1
    bgjob funcs | cut -d" " -f1 | sort | tr "\n" " "; echo'
  assert_output $'busy=1\nstill here\nblock busy capture fail getenv join readfile run sleep '
}

@test "enable -f of an already loaded bgjob keeps the jobs and registers nothing twice" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob wait
    enable -f "$BGJOB_SO" bgjob
    bgjob result 0; bgjob funcs | wc -l'
  assert_output $'a\n9'
}

@test "fifty enable -d / enable -f cycles with jobs running do not crash the shell" {
  run -0 --separate-stderr bgsh '
    for i in {1..50}; do
      bgjob new -f sleep 0.0$((i % 5)) "$i" || echo "new failed at $i"
      enable -d bgjob || echo "enable -d failed at $i"
      enable -f "$BGJOB_SO" bgjob || echo "enable -f failed at $i"
    done
    bgjob wait; echo "wait=$?"
    bgjob status -v S; echo "jobs=${#S[@]}"
    n=0; for i in {0..49}; do [[ $(bgjob result $i) == $((i + 1)) ]] && n=$((n + 1)); done; echo "results=$n"'
  assert_output $'wait=0\njobs=50\nresults=50'
}

@test "the shell exits cleanly after enable -d with a job running, waiting for it" {
  timed_bgsh 'bgjob new -f sleep 0.4; enable -d bgjob; echo unloaded'
  assert_success
  assert_output 'unloaded'
  (( ELAPSED_MS >= 300 )) || fail "exited after ${ELAPSED_MS} ms"
}
