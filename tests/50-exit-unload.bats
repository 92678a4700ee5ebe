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
# The upper bounds only tell "did not wait" from "waited for a 600 s job".
timed_bgsh() {
  local t0 t1
  t0=$(now_us)
  run --separate-stderr bgsh "$1"
  t1=$(now_us)
  ELAPSED_MS=$(( (t1 - t0) / 1000 ))
}

# The exit-wait cases wait for events, not for time.  Their jobs run GATED, a
# command that ends only once the test writes a line into the FIFO $GATE, then
# appends "ended" to $GATE.log:
#   gated_bgsh SCRIPT    starts bgsh SCRIPT in the background (stdout and
#                        stderr to files), sets SH to its PID
#   wait_stderr TEXT     until the shell's stderr contains TEXT (bounded)
#   still_waiting        the shell has not exited, no gated job has ended
#   release              one line into $GATE: blocks until a gated command
#                        opens it (bounded)
#   finish               waits for the shell; sets status, output, stderr
GATED='bgjob new -f run sh -c '\''cat "$1" > /dev/null && echo ended >> "$1.log"'\'' sh "$GATE"'
gated_bgsh() {
  GATE=$BATS_TEST_TMPDIR/gate
  export GATE
  mkfifo "$GATE"
  # the files exist before the shell starts: wait_stderr may read before the
  # background shell has opened them
  : > "$BATS_TEST_TMPDIR/out"
  : > "$BATS_TEST_TMPDIR/err"
  bgsh "$1" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
  SH=$!
}
wait_stderr() {
  local i
  for ((i = 0; i < 2400; i++)); do
    [[ $(< "$BATS_TEST_TMPDIR/err") == *"$1"* ]] && return 0
    kill -0 "$SH" 2> /dev/null || break
    sleep 0.05
  done
  fail "the shell's stderr never said '$1': $(< "$BATS_TEST_TMPDIR/err")"
}
still_waiting() {
  kill -0 "$SH" 2> /dev/null || fail "the shell exited before its jobs ended: $(< "$BATS_TEST_TMPDIR/err")"
  [ ! -e "$GATE.log" ] || fail "a gated job ended before the test released it"
}
release() {
  timeout 60 sh -c 'echo go > "$1"' sh "$GATE" || fail "no gated command opened the gate"
}
finish() {
  status=0
  wait "$SH" || status=$?
  output=$(< "$BATS_TEST_TMPDIR/out")
  stderr=$(< "$BATS_TEST_TMPDIR/err")
}

# ---- exit ----

@test "a script that ends while a non-daemon job runs waits for it and says so on stderr" {
  gated_bgsh "$GATED"'; echo started'
  wait_stderr 'waiting for 1 running job'
  still_waiting
  release
  finish
  assert_success
  assert_output 'started'
  assert_equal "$(< "$GATE.log")" ended
}

@test "exit N while a non-daemon job runs waits for it and keeps the status N" {
  gated_bgsh "$GATED"'; exit 3'
  wait_stderr 'waiting for 1 running job'
  still_waiting
  release
  finish
  assert_equal "$status" 3
  assert_equal "$(< "$GATE.log")" ended
}

@test "a script whose only running job is a daemon exits at once, silently" {
  timed_bgsh 'bgjob new -d -f sleep 600; echo started'
  assert_success
  assert_output 'started'
  (( ELAPSED_MS < 60000 )) || fail "the shell waited ${ELAPSED_MS} ms for a daemon job"
  assert_equal "$stderr" ''
}

@test "at exit the shell waits for the non-daemon jobs only" {
  gated_bgsh 'bgjob new -d -f sleep 600; '"$GATED"'; bgjob new -d -f sleep 600'
  wait_stderr 'waiting for 1 running job'
  still_waiting
  release
  finish
  assert_success
  assert_equal "$(< "$GATE.log")" ended
}

@test "at exit the shell also waits for queued non-daemon jobs" {
  gated_bgsh 'BGJOB_MAX_RUNNING=1; '"$GATED; $GATED"
  wait_stderr 'waiting for 1 running and 1 queued job to finish'
  still_waiting
  release
  # the first has ended and the queued one runs (the second release waits
  # for it to open the gate): the shell still waits
  kill -0 "$SH" 2> /dev/null || fail "the shell exited before its queued job ran"
  release
  finish
  assert_success
  assert_equal "$(< "$GATE.log")" $'ended\nended'
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
