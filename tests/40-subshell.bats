#!/usr/bin/env bats
# 40-subshell: what forked children of the shell see and can do: results of
# finished jobs, jobs that were running at the fork (passed over by wait
# without IDs, an error when named), their own jobs, the warnings naming the
# kind of subshell a job is lost with, pipelines.

load helper

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'
# watchdog SECONDS: sends SIGTERM to the calling (sub)shell after SECONDS unless `kill $WD' comes first.
WATCHDOG='watchdog() { local me=$BASHPID; ( exec >/dev/null 2>&1; /bin/sleep "$1"; kill -TERM "$me" ) & WD=$!; }'
# await_start ID: returns once job ID runs its callback (it has reported progress).
AWAIT_START='await_start() { local -A J; local n=0; until bgjob show -v J "$1" && [[ -n ${J[progress]} ]]; do (( ++n > 100000 )) && return 1; done; return 0; }'
TIMER='start() { t0=${EPOCHREALTIME//[!0-9]/}; }; ms() { echo $(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 )); }'

@test "x=\$(bgjob result N) gets the result of a finished job" {
  run -0 bgsh "$LOAD"'; bgjob new -f join "hello  world" "!"; bgjob wait; x=$(bgjob result 0); echo "x=[$x]"'
  assert_output 'x=[hello  world !]'
}

@test "a subshell sees the finished jobs of its parent in status, show and traceback" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f fail boom; bgjob wait
    ( bgjob status; bgjob traceback 1; eval "declare -A j=$(bgjob show 0)"; echo "${j[result]}" )'
  assert_output $'Completed jobs:\n0 : join a\n\nDead jobs:\n1 : fail boom\n\nTraceback for: <BackgroundJob #1: fail boom>\nboom\na'
}

@test "( bgjob wait N ) on a job running in the parent returns at once with status 1 and an error" {
  # A watchdog ends a subshell whose wait hangs (status 143) so that the test fails instead of
  # hanging; the job takes 600 s, so "quick" (under 60 s) means the subshell did not wait for it.
  run -0 --separate-stderr bgsh "$TIMER; $WATCHDOG"'; bgjob new -d -f sleep 600
    start; ( watchdog 60; bgjob wait 0; rc=$?; kill $WD; exit $rc ); echo "rc=$?"; (( $(ms) < 60000 )) && echo quick
    start; ( watchdog 60; bgjob wait -n 0; rc=$?; kill $WD; exit $rc ); echo "-n rc=$?"; (( $(ms) < 60000 )) && echo quick
    bgjob kill 0'
  assert_output $'rc=1\nquick\n-n rc=1\nquick'
  [[ $stderr == *'job 0 belongs to the parent shell'* ]] || fail "$stderr"
}

@test "( bgjob wait ) and ( bgjob wait -n ) without IDs pass over the parent's running jobs" {
  run -0 --separate-stderr bgsh "$WATCHDOG"'; bgjob new -d -f sleep 600
    ( watchdog 60; bgjob wait; echo "all rc=$?"; bgjob wait -n; echo "-n rc=$?"; kill $WD )
    bgjob kill 0'
  assert_output $'all rc=0\n-n rc=127'
  assert_equal "$stderr" ''
}

@test "( bgjob wait -n ) without IDs does not return a job the parent made, even one that ended" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f fail x
    until bgjob status -v S; [[ ${S[0]} == Dead ]]; do :; done
    ( bgjob wait -n -p w; echo "sub rc=$? w=${w-unset}" ); bgjob wait -n -p w; echo "rc=$? w=$w"'
  assert_output $'sub rc=127 w=unset\nrc=1 w=0'
  assert_equal "$stderr" ''
}

@test "( bgjob wait ) in a subshell waits for the subshell's own job, not the parent's" {
  run -0 --separate-stderr bgsh "$WATCHDOG"'; bgjob new -d -f sleep 30
    ( watchdog 10; bgjob new -v me -f sleep 0.2 mine; bgjob wait; echo "rc=$?"; bgjob result $me
      bgjob new -v me2 -f sleep 0.1 again; bgjob wait -n -p which; echo "-n rc=$? which=$which"; kill $WD )
    bgjob kill 0'
  assert_output $'rc=0\nmine\n-n rc=0 which=2'
  assert_equal "$stderr" ''
}

@test "( bgjob result -w N ) on a job running in the parent is an error at once" {
  run -0 --separate-stderr bgsh "$WATCHDOG"'; bgjob new -d -f sleep 30
    ( watchdog 10; bgjob result -w 0; rc=$?; kill $WD; exit $rc ); echo "rc=$?"
    bgjob kill 0'
  assert_output 'rc=1'
  [[ $stderr == *'job 0 belongs to the parent shell'* ]] || fail "$stderr"
}

@test "( bgjob status ) shows a job running in the parent as Running" {
  run -0 bgsh '
    bgjob new -d -f sleep 600
    ( bgjob status | sed "s/ ([0-9]*%)\$//"; bgjob status -v S; echo "${S[0]}" )
    bgjob kill 0'
  assert_output $'Running jobs:\n0 : sleep 600\n\nRunning'
}

@test "a subshell can neither kill nor read the result of a job running in the parent" {
  run -0 --separate-stderr bgsh '
    bgjob new -d -f sleep 600
    ( bgjob kill 0 ); echo "kill=$?"
    ( bgjob result 0 ); echo "result=$?"
    bgjob status -v S; echo "${S[0]}"
    bgjob kill 0'
  assert_output $'kill=1\nresult=1\nRunning'
  [[ $stderr == *'job 0 '*'parent'* ]]
}

@test "the parent still waits for its job after a subshell gave up on it" {
  run -0 --separate-stderr bgsh 'bgjob new -f sleep 0.3 v; ( bgjob wait 0 ); bgjob wait 0; echo "rc=$?"; bgjob result 0'
  assert_output $'rc=0\nv'
}

@test "a subshell can start and wait for jobs of its own" {
  # await_start: under ASan (make test-bats-asan) a fork while a new worker thread is still
  # starting copies ASan's allocator lock held into the child, which then hangs; the plain
  # build (glibc malloc) has no such problem.  The watchdog turns any hang into a failure.
  run -0 bgsh "$LOAD; $WATCHDOG; $AWAIT_START"'
    bgjob new -d -f sleep 600; await_start 0 || echo "job 0 did not start"
    ( watchdog 60
      bgjob new -v id -f sleep 0.1 mine; echo "id=$id"; bgjob wait "$id"; echo "rc=$?"; bgjob result "$id"
      bgjob new -f fail sub; bgjob wait -n 2; echo "rc=$?"; kill $WD )
    bgjob kill 0'
  assert_output $'id=1\nrc=0\nmine\nrc=1'
}

@test "jobs created in a subshell do not appear in the parent" {
  run -0 bgsh "$LOAD"'
    ( bgjob new -f join child; bgjob wait )
    bgjob status; echo "last=${BGJOB_LAST-unset}"
    bgjob new -v n -f join parent; bgjob wait; echo "n=$n"; bgjob status'
  assert_output $'last=unset\nn=0\nCompleted jobs:\n0 : join parent'
}

@test "removing or flushing in a subshell does not affect the parent" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    ( bgjob remove 0; bgjob flush -f >/dev/null )
    bgjob status -v S; echo "${S[0]} ${S[1]}"'
  assert_output 'Completed Dead'
}

@test "id=\$(bgjob new ...) warns that the job belongs to the command substitution" {
  run -0 --separate-stderr bgsh 'id=$(bgjob new -f sleep 0); echo "id=[$id]"; bgjob status; echo END'
  assert_output $'id=[]\nEND'
  [[ $stderr == *warning*'command substitution'* ]] || fail "no warning: $stderr"
}

@test "a job started in a process substitution warns naming the process substitution" {
  run -0 --separate-stderr bgsh 'cat <(bgjob new -f sleep 0); echo END'
  assert_output 'END'
  [[ $stderr == *warning*'process substitution'* ]] || fail "no warning: $stderr"
  [[ $stderr != *'command substitution'* ]] || fail "wrong kind: $stderr"
}

@test "a job started in a pipeline member warns naming the pipeline" {
  run -0 --separate-stderr bgsh 'bgjob new -f sleep 0 | cat; echo END'
  assert_output 'END'
  [[ $stderr == *warning*'pipeline'* ]] || fail "no warning: $stderr"
}

@test "a job started in an asynchronous command warns naming it" {
  run -0 --separate-stderr bgsh 'bgjob new -f sleep 0 & wait $!; echo END'
  assert_output 'END'
  [[ $stderr == *warning*'asynchronous command'* ]] || fail "no warning: $stderr"
}

@test "a job started in a ( ) subshell, where it is used, gives no warning" {
  run -0 --separate-stderr bgsh '( bgjob new -v id 6*7; bgjob result -w $id )'
  assert_output '42'
  assert_equal "$stderr" ''
}

@test "new -v in the main shell gives no command substitution warning" {
  run -0 --separate-stderr bgsh 'bgjob new -v id -f sleep 0; bgjob wait'
  assert_equal "$stderr" ''
}

@test "bgjob status | cat lists the jobs in a pipeline" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob wait; bgjob new -d -f sleep 600
    bgjob status | sed "s/ ([0-9]*%)\$//" | cat; echo END; bgjob kill 1'
  assert_output $'Running jobs:\n1 : sleep 600\n\nCompleted jobs:\n0 : join a\n\nEND'
}

@test "a result read through a process substitution matches the parent's" {
  run -0 bgsh "$LOAD"'; bgjob new -f join "a b" c; bgjob wait
    read -r x < <(bgjob result 0); echo "x=[$x]"
    bgjob result 0 | { read -r y; echo "y=[$y]"; }'
  assert_output $'x=[a b c]\ny=[a b c]'
}

@test "forking while many jobs run and finish neither hangs nor loses results" {
  run -0 bgsh "$LOAD; $WATCHDOG"'
    for i in {1..40}; do
      bgjob new -f sleep 0.0$((i % 10)) "$i"
      x=$(watchdog 60; bgjob status -v S; echo ok; kill $WD); [[ $x == ok ]] || echo "bad $i"
    done
    bgjob wait; echo "rc=$?"
    sum=0; for i in {0..39}; do sum=$((sum + $(bgjob result $i))); done; echo "sum=$sum"'
  assert_output $'rc=0\nsum=820'
}
