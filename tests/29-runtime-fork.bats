#!/usr/bin/env bats
# 29-runtime-fork: a stopped spawner while the shell forks, substitutes and
# runs subshells (issue 16).  Apart from 27-runtime as a fork-heavy file: it
# forks while workers start hundreds of commands, and gcc 12's ASan allocator
# is not fork-safe (BATS_FORK_HEAVY in the Makefile), so its ASan run is in
# `make check-full'.  Every wait is on an event, never a fixed sleep.

load runtime_helper

@test "spawner stopped with SIGSTOP: the shell forks, substitutes and runs subshells, even with 250 commands queued; after SIGCONT every command completes" {
  # A watchdog reads the step names the shell writes: a step that takes more
  # than 20 s (the shell froze) gets the shell killed, with the step named.
  WD=$BATS_TEST_TMPDIR/wd
  mkfifo "$WD"
  run -0 --separate-stderr bgsh "$H"'
    watchdog() { local step last=start; while read -r -t 20 step || froze "$last"; do [[ $step == end ]] && exit 0; last=$step; done; }
    # froze STEP: says where the shell is stuck (its threads, its children), kills it
    froze() {
      local t l c w; echo "the shell froze at step: $1" >&2
      for t in /proc/$$/task/* /proc/[0-9]*; do
        { read -r l < "$t/stat"; } 2>/dev/null || continue
        w=; { read -r w < "$t/wchan"; } 2>/dev/null # (no newline: read fails, w is set)
        c=${l#* (}; c=${c%%) *}; l=${l##*) }; set -- $l
        [[ $t == /proc/$$/task/* || $2 == $$ ]] && echo "${t#/proc/} $c state=$1 wchan=$w" >&2
      done
      kill -KILL $$; exit 1
    }
    ( watchdog < "$1" ) & wdpid=$!; exec 9> "$1"
    step() { echo "$1" >&9; }
    steps() {
      step "true $1"; timeout 10 /bin/true && echo "true ok"
      step "comsub $1"; x=$(echo hi); echo "comsub $x"
      step "subshell $1"; ( : ) && echo "subshell ok"
    }
    step first; bgjob new -f run sh -c '\''echo $$; exec cat "$1"'\'' sh "$FIFO"
    step started; await eval '\''[[ $(shown 0 stdout) && $(shown 0 pid) ]]'\''
    step spawner; sp=$(ppid_of "$(shown 0 pid)")
    step stop; kill -STOP "$sp"
    await eval '\''{ read -r l < "/proc/$sp/stat"; } 2>/dev/null; l=${l##*) }; [[ ${l%% *} == T ]]'\''
    echo stopped
    steps alone
    step new; for i in {1..250}; do bgjob new -f run echo "r$i" || echo "new $i failed"; done
    steps queued
    step count; done=0; for i in {1..250}; do [[ $(shown $i state) == @(Completed|Dead) ]] && done=$((done + 1)); done
    echo "ended while stopped: $done"
    step cont; kill -CONT "$sp"
    step release; exec 8> "$FIFO"; exec 8>&-
    step wait; bgjob wait; echo "wait=$?"
    step end; wait "$wdpid"; echo "watchdog=$?"
    bad=0; for i in {1..250}; do [[ $(shown $i state) == Completed && $(bgjob result $i) == "r$i" ]] || { bad=$((bad + 1)); echo "job $i: $(shown $i state)"; }; done
    echo "bad=$bad"' "$WD"
  assert_output 'stopped
true ok
comsub hi
subshell ok
true ok
comsub hi
subshell ok
ended while stopped: 0
wait=0
watchdog=0
bad=0'
}
