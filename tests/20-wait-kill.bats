#!/usr/bin/env bats
# 20-wait-kill: wait (all, listed, -n, -t, no jobs), its statuses (0, 1, 124,
# 128+N), signals and traps, Ctrl-C in an interactive shell (tmux), and kill
# of running, queued and finished jobs.

load helper
load interactive/tmux

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'
# ms: milliseconds since the script called `start'.  Time bounds here only
# tell "at once" from "after a 600 s job", never race the machine's load.
TIMER='start() { t0=${EPOCHREALTIME//[!0-9]/}; }; ms() { echo $(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 )); }'
# send SIG: a background process sends SIG to the shell every 0.1 s until
# `unsend': a signal that comes before `bgjob wait' has started only runs the
# trap early, the next one interrupts the wait (no race with the start of wait).
# `started ID' first waits until job ID runs its callback: under ASan (gcc 12)
# a fork while a new worker thread is still starting can hang the child.
SENDER='started() { local -A j; until bgjob show -v j "$1" && [[ -n ${j[progress]} ]]; do bgjob wait -t 0.05 "$1"; done; }
send() { local me=$$; ( trap "exit 0" TERM; while kill -"$1" "$me" 2>/dev/null; do /bin/sleep 0.1; done ) & SENDER_PID=$!; }
unsend() { kill "$SENDER_PID"; wait "$SENDER_PID"; }'

teardown() {
  tmux_stop
}

# ---- wait ----

@test "wait returns 0 when every listed job completed" {
  run -0 bgsh "$LOAD"'; bgjob new -f sleep 0.2 a; bgjob new -f join b; bgjob wait 0 1; echo "rc=$?"; bgjob result 0'
  assert_output $'rc=0\na'
}

@test "wait without IDs waits for every unfinished job and returns 0 when they completed" {
  run -0 bgsh 'bgjob new -f sleep 0.3; bgjob new -f sleep 0.1; bgjob wait; echo "rc=$?"
    bgjob status -v S; echo "${S[0]} ${S[1]}"'
  assert_output $'rc=0\nCompleted Completed'
}

@test "wait returns 1 when a waited job is dead" {
  run -0 bgsh "$LOAD"'; bgjob new -f sleep 0.1; bgjob new -f fail x; bgjob wait 0 1; echo "rc=$?"
    bgjob wait; echo "all=$?"'
  assert_output $'rc=1\nall=0'
}

@test "wait without IDs returns 1 when one of the jobs it waited for died" {
  run -0 bgsh "$LOAD"'; BGJOB_MAX_RUNNING=1; bgjob new -f sleep 0.1; bgjob new -f fail x; bgjob wait; echo "rc=$?"'
  assert_output 'rc=1'
}

@test "wait returns 1 for an unknown job, after waiting for the known ones" {
  run -0 --separate-stderr bgsh "$TIMER"'; bgjob new -f sleep 0.3
    bgjob wait 7; echo "rc=$?"
    bgjob wait 0 7; echo "rc=$?"
    bgjob status -v S; echo "${S[0]}"'
  assert_output $'rc=1\nrc=1\nCompleted'
  [[ $stderr == *'job 7 not found'* ]]
}

@test "wait with no jobs returns 0 at once" {
  run -0 bgsh 'bgjob wait; echo "rc=$?"'
  assert_output 'rc=0'
}

@test "wait with only finished jobs returns 0 at once" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob wait; bgjob wait; echo "rc=$?"; bgjob wait 0; echo "rc=$?"'
  assert_output $'rc=0\nrc=0'
}

@test "wait ID returns the job's status as bash's wait PID does: exit code, 128+N after a signal, 1 for other dead jobs" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f run sh -c "exit 3"; bgjob new -f run sh -c "kill -USR1 \$\$"
    bgjob new -f fail x; bgjob new "1/0"; bgjob new -f run true; bgjob new "6*7"
    for i in 0 1 2 3 4 5; do bgjob wait $i; echo -n "$? "; done; echo
    bgjob new -d -f run sleep 600; until bgjob show -v J 6 && [[ ${J[pid]} ]]; do bgjob wait -t 0.01 6; done
    bgjob kill 6; bgjob wait 6; echo "killed=$?"'
  assert_output $'3 138 1 1 0 0 \nkilled=143'
}

@test "wait with several IDs returns the status of the last one, as bash's wait does" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f run sh -c "exit 3"; bgjob new -f join a; bgjob new -f fail x
    bgjob wait 0 1; echo "a=$?"; bgjob wait 1 0; echo "b=$?"; bgjob wait 0 2; echo "c=$?"; bgjob wait 0 1 2 0; echo "d=$?"'
  assert_output $'a=0\nb=3\nc=1\nd=3'
}

@test "wait -n -p VAR returns the status of the job it reports" {
  run -0 --separate-stderr bgsh 'bgjob new -d -f sleep 600; bgjob new -f run sh -c "exit 5"
    bgjob wait -n -p which 0 1; echo "rc=$? which=$which"
    bgjob new -f run sh -c "exit 9"; bgjob wait -n -p which; echo "rc=$? which=$which"; bgjob kill 0'
  assert_output $'rc=5 which=1\nrc=9 which=2'
}

@test "result -w of a command that exits non-zero fails with 1 as result does, not with the exit status" {
  run -1 --separate-stderr bgsh 'bgjob new -f run sh -c "exit 5"; bgjob result -w 0'
  [[ $stderr == *'job 0 died'* ]] || fail "$stderr"
}

@test "wait -t with fractional seconds returns 124 after the timeout and the job runs on" {
  run -0 bgsh "$TIMER"'; bgjob new -d -f sleep 600
    start; bgjob wait -t 0.2 0; rc=$?; t=$(ms)
    echo "rc=$rc"; (( t >= 150 && t < 60000 )) && echo "timing ok" || echo "took ${t} ms"
    bgjob status -v S; echo "${S[0]}"; bgjob kill 0'
  assert_output $'rc=124\ntiming ok\nRunning'
}

@test "wait -t without IDs times out too, and -t 0 does not block" {
  run -0 bgsh "$TIMER"'; bgjob new -d -f sleep 600
    bgjob wait -t 0.1; echo "rc=$?"
    start; bgjob wait -t 0; echo "rc=$?"; (( $(ms) < 60000 )) && echo quick
    bgjob kill 0'
  assert_output $'rc=124\nrc=124\nquick'
}

@test "wait -t returns 0 when the jobs finish before the timeout" {
  run -0 bgsh "$TIMER"'; bgjob new -f sleep 0.1; start; bgjob wait -t 200 0; echo "rc=$?"; (( $(ms) < 190000 )) && echo early'
  assert_output $'rc=0\nearly'
}

@test "wait with IDs waits only for those jobs" {
  run -0 bgsh "$TIMER"'; bgjob new -f sleep 0.1; bgjob new -d -f sleep 600
    start; bgjob wait 0; echo "rc=$?"; (( $(ms) < 60000 )) && echo quick
    bgjob status -v S; echo "${S[0]} ${S[1]}"; bgjob kill 1'
  assert_output $'rc=0\nquick\nCompleted Running'
}

@test "wait -n returns 0 as soon as the first job completes" {
  run -0 bgsh "$TIMER"'; bgjob new -d -f sleep 600; bgjob new -f sleep 0.2
    start; bgjob wait -n; echo "rc=$?"; (( $(ms) < 60000 )) && echo quick
    bgjob status -v S; echo "${S[0]} ${S[1]}"; bgjob kill 0'
  assert_output $'rc=0\nquick\nRunning Completed'
}

@test "wait -n returns 1 when the first job to finish is dead" {
  run -0 bgsh "$LOAD; $TIMER"'; bgjob new -d -f sleep 600; bgjob new -f fail x
    start; bgjob wait -n 0 1; echo "rc=$?"; (( $(ms) < 60000 )) && echo quick; bgjob kill 0'
  assert_output $'rc=1\nquick'
}

@test "wait -n with a listed job already completed returns 0 at once" {
  run -0 bgsh "$LOAD; $TIMER"'; bgjob new -f join a; bgjob wait; bgjob new -d -f sleep 600
    start; bgjob wait -n 1 0; echo "rc=$?"; (( $(ms) < 60000 )) && echo quick; bgjob kill 1'
  assert_output $'rc=0\nquick'
}

@test "wait -n with nothing to wait for returns 127 as the help says" {
  run -0 bgsh 'bgjob wait -n; echo "rc=$?"; bgjob help | grep -c "127 for -n"'
  assert_output $'rc=127\n1'
}

@test "a trapped signal interrupts wait with 128+N and its trap runs" {
  run -0 bgsh "$SENDER"'; bgjob new -d -f sleep 600
    trap "trapped=1" USR1
    started 0; send USR1
    bgjob wait -t 200; rc=$?; unsend
    echo "rc=$rc trapped=$trapped"
    bgjob status -v S; echo "${S[0]}"; bgjob kill 0'
  assert_output $'rc=138 trapped=1\nRunning'
}

@test "a trapped SIGINT in a script interrupts wait with 130 and its trap runs" {
  run -0 bgsh "$SENDER"'; bgjob new -d -f sleep 600
    trap "trapped=1" INT
    started 0; send INT
    bgjob wait -t 200 0; rc=$?; unsend
    echo "rc=$rc trapped=$trapped"; bgjob kill 0'
  assert_output 'rc=130 trapped=1'
}

@test "wait can be used again after a signal interrupted it" {
  # Job 0 ends only when killed, so the first wait ends by the signal; the
  # second waits for it again and returns when the kill has ended it.
  run -0 bgsh "$SENDER"'; bgjob new -f sleep 600 v
    trap ":" USR1
    started 0; send USR1
    bgjob wait 0; echo "first=$?"; unsend
    bgjob status -v S; echo "${S[0]}"
    bgjob new -v k -f sleep 0.1; bgjob wait "$k"; bgjob kill 0
    bgjob wait 0; echo "second=$?"; bgjob status -v S; echo "${S[0]}"'
  assert_output $'first=138\nRunning\nsecond=1\nDead'
}

@test "wait -t takes the same number forms as sleep: 0x1, 1e-3, +0.5" {
  run -0 --separate-stderr bgsh 'bgjob new -d -f sleep 0x10
    bgjob wait -t 0x0 0; echo "hex=$?"; bgjob wait -t 1e-3 0; echo "exp=$?"; bgjob wait -t +0.01 0; echo "plus=$?"
    bgjob kill 0'
  assert_output $'hex=124\nexp=124\nplus=124'
  assert_equal "$stderr" ''
}

# ---- wait -p ----

@test "wait -n -p VAR stores the number of the job that ended" {
  run -0 bgsh "$LOAD"'; bgjob new -d -f sleep 30; bgjob new -f join a
    bgjob wait -n -p which 0 1; echo "rc=$? which=$which"; bgjob kill 0'
  assert_output 'rc=0 which=1'
}

@test "wait -n -p VAR gives 1 and the number of a dead job" {
  run -0 bgsh "$LOAD"'; bgjob new -d -f sleep 30; bgjob new -f fail x
    bgjob wait -n -p which; echo "rc=$? which=$which"; bgjob kill 0'
  assert_output 'rc=1 which=1'
}

@test "wait -n without IDs returns a job that ended before the wait, lowest number first" {
  run -0 bgsh "$LOAD"'; bgjob new -f fail x; bgjob new -f join a; bgjob new -d -f sleep 30
    until bgjob status -v S; [[ ${S[0]} == Dead && ${S[1]} == Completed ]]; do :; done
    bgjob wait -n -p which; echo "rc=$? which=$which"
    bgjob wait -n -p which; echo "rc=$? which=$which"; bgjob kill 2'
  assert_output $'rc=1 which=0\nrc=0 which=1'
}

@test "a wait -n loop returns every job exactly once, then 127" {
  run -0 bgsh "$LOAD"'; for i in 0 1 2 3 4 5 6 7; do bgjob new -f join $i; done
    got=()
    while :; do bgjob wait -n -p j; rc=$?; (( rc == 127 )) && break; got[j]+=x; done
    echo "rc=$rc ${#got[@]} ${got[*]}"'
  assert_output 'rc=127 8 x x x x x x x x'
}

@test "wait without IDs counts a dead job that ended before it started; then wait -n has nothing left" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f fail x
    until bgjob status -v S; [[ ${S[1]} == Dead ]]; do :; done
    bgjob wait; echo "rc=$?"; bgjob wait -n; echo "rc=$?"'
  assert_output $'rc=1\nrc=127'
}

@test "wait without IDs returns each outcome once: the next wait counts only later jobs; one that timed out returned none" {
  run -0 bgsh "$LOAD"'; bgjob new -f fail x; bgjob new -f sleep 30
    bgjob wait -t 0.05; echo "rc=$?"
    bgjob kill 1; bgjob wait; echo "rc=$?"
    bgjob new -f join a; bgjob wait; echo "rc=$?"
    bgjob wait -n; echo "rc=$?"; bgjob wait; echo "rc=$?"'
  assert_output $'rc=124\nrc=1\nrc=0\nrc=127\nrc=0'
}

@test "wait -p VAR with IDs and without -n stores the last job listed" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f join b
    bgjob wait -p which 1 0; echo "rc=$? which=$which"'
  assert_output 'rc=0 which=0'
}

@test "wait -p VAR with nothing to wait for unsets VAR and returns 127" {
  run -0 bgsh "$LOAD"'; which=old; bgjob wait -p which; echo "rc=$? which=${which-unset}"
    which=old; bgjob wait -n -p which; echo "rc=$? which=${which-unset}"'
  assert_output $'rc=127 which=unset\nrc=127 which=unset'
}

@test "wait -p VAR unsets VAR after a timeout" {
  run -0 bgsh 'bgjob new -d -f sleep 30; which=old; bgjob wait -n -p which -t 0.01; echo "rc=$? which=${which-unset}"
    bgjob kill 0'
  assert_output 'rc=124 which=unset'
}

@test "wait -p with a bad name is a usage error" {
  run -2 --separate-stderr bgsh 'bgjob wait -p 1bad'
  [[ $stderr == *"1bad': not a valid identifier"* ]] || fail "$stderr"
  [[ $stderr == *'usage: bgjob wait'* ]] || fail "$stderr"
}

# ---- result -w ----

@test "result -w waits for the job and prints its result" {
  run -0 bgsh 'bgjob new -v id -f sleep 0.2 late; bgjob result -w $id; echo "rc=$?"
    bgjob new -v id2 "2**20"; bgjob result -w -v x $id2; echo "x=$x"'
  assert_output $'late\nrc=0\nx=1048576'
}

@test "result -w of a job that dies fails as result does" {
  run -1 --separate-stderr bgsh "$LOAD"'; BGJOB_MAX_RUNNING=1; bgjob new -f sleep 0.2; bgjob new -v id -f fail boom; bgjob result -w $id'
  assert_output ''
  [[ $stderr == *'job 1 died (see `bgjob traceback 1'* ]] || fail "$stderr"
}

@test "a trapped signal interrupts result -w with 128+N" {
  run -0 bgsh 'bgjob new -d -f sleep 30
    trap ":" USR1
    (while kill -USR1 $$ 2>/dev/null; do /bin/sleep 0.05; done) & pid=$!
    bgjob result -w 0; rc=$?; kill $pid
    echo "rc=$rc"; bgjob status -v S; echo "${S[0]}"; bgjob kill 0'
  assert_output $'rc=138\nRunning'
}

# ---- Ctrl-C in an interactive shell ----

# ctrl_c_interrupts WAIT: in an interactive shell, the command WAIT waits for
# job 0, a `sleep 600' job; Ctrl-C must bring the prompt back at once with
# status 130, skip the rest of the command line and leave the job Running,
# and the shell must still kill and wait for it.
ctrl_c_interrupts() {
  local wait=$1 t0 t1
  tmux_start
  tmux_type 'enable -f "$BGJOB_SO" bgjob; bgjob new -f sleep 600; echo WAIT""ING; '"$wait"'; echo "rc=$?"'
  wait_for 60 pane_contains_line WAITING || { pane_text; fail "the job was not started"; }
  wait_for 60 shell_in_ppoll || { pane_text; fail "$wait did not start waiting"; }
  # still waiting: the command line has not finished
  run ! pane_has_prompt
  t0=$(now_us)
  tmux_key C-c
  wait_for 60 pane_has_prompt || { pane_text; fail "no prompt after Ctrl-C"; }
  t1=$(now_us)
  # (the job takes 600 s: a prompt within 60 s means the wait was interrupted)
  (( t1 - t0 < 60000000 )) || fail "the prompt took $(( (t1 - t0) / 1000 )) ms to come back"
  tmux_type 'echo "after=$?"; bgjob status -v S; echo "state=${S[0]}"'
  wait_for 60 pane_contains_line 'state=Running' || { pane_text; fail "the job is not Running after Ctrl-C"; }
  run -0 pane_contains_line 'after=130'
  # the rest of the interrupted line did not run
  run ! pane_contains_line 'rc=0'
  # and the shell still works: the job can be killed and waited for
  tmux_type 'bgjob kill 0; bgjob wait 0; echo "killed=$?"'
  wait_for 60 pane_contains_line 'killed=1' || { pane_text; fail "kill after Ctrl-C failed"; }
}

@test "Ctrl-C interrupts bgjob wait in an interactive shell at once and the job keeps running" {
  ctrl_c_interrupts 'bgjob wait'
}

@test "Ctrl-C interrupts bgjob result -w in an interactive shell at once and the job keeps running" {
  ctrl_c_interrupts 'bgjob result -w 0'
}

# ---- kill ----

@test "kill of a sleeping job ends it Dead promptly with a traceback saying cancelled" {
  run -0 bgsh "$TIMER"'; bgjob new -f sleep 600
    until bgjob show -v j 0 && [[ -n ${j[progress]} ]]; do bgjob wait -t 0.05 0; done
    start; bgjob kill 0; echo "kill=$?"; bgjob wait 0; echo "wait=$?"; t=$(ms)
    (( t < 60000 )) && echo prompt || echo "took $t ms"
    bgjob status -v S; echo "${S[0]}"
    bgjob traceback 0'
  assert_line --index 0 'kill=0'
  assert_line --index 1 'wait=1'
  assert_line --index 2 'prompt'
  assert_line --index 3 'Dead'
  assert_line --index 4 'Traceback for: <BackgroundJob #0: sleep 600>'
  assert_line --index 5 --partial 'cancelled'
}

@test "kill of a queued job makes it Dead at once" {
  run -0 bgsh 'BGJOB_MAX_RUNNING=1
    bgjob new -d -f sleep 600; bgjob new -f sleep 600
    bgjob kill 1; echo "kill=$?"
    bgjob status -v S; echo "${S[0]} ${S[1]}"
    bgjob traceback 1 | tail -n +2
    bgjob kill 0'
  assert_line --index 0 'kill=0'
  assert_line --index 1 'Running Dead'
  assert_line --index 2 --partial 'cancelled'
}

@test "a killed running job frees its slot for the next queued job" {
  run -0 bgsh "$TIMER"'; BGJOB_MAX_RUNNING=1
    bgjob new -f sleep 600; bgjob new -f sleep 0.1 next
    start; bgjob kill 0; bgjob wait 1; echo "rc=$?"; (( $(ms) < 60000 )) && echo quick
    bgjob result 1; bgjob wait 0 || :'
  assert_output $'rc=0\nquick\nnext'
}

@test "kill takes several IDs" {
  run -0 bgsh 'bgjob new -f sleep 600; bgjob new -f sleep 600; bgjob new -f sleep 600
    bgjob kill 0 2; echo "kill=$?"; bgjob wait 0 2; echo "wait=$?"
    bgjob status -v S; echo "${S[0]} ${S[1]} ${S[2]}"; bgjob kill 1; bgjob wait 1 || :'
  assert_output $'kill=0\nwait=1\nDead Running Dead'
}

@test "kill of a finished job fails" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f fail b; bgjob wait
    bgjob kill 0; echo "completed=$?"; bgjob kill 1; echo "dead=$?"
    bgjob result 0'
  assert_output $'completed=1\ndead=1\na'
  [[ $stderr == *'job 0 has already finished'* ]]
  [[ $stderr == *'job 1 has already finished'* ]]
}

@test "kill of an already killed job fails" {
  run -1 --separate-stderr bgsh 'bgjob new -f sleep 600; bgjob kill 0; bgjob wait 0; bgjob kill 0'
  [[ $stderr == *'job 0 has already finished'* ]]
}

@test "kill of an unknown job fails with job N not found" {
  run -1 --separate-stderr bgsh 'bgjob kill 4'
  assert_output ''
  [[ $stderr == *'job 4 not found'* ]]
}

@test "result of a killed job fails and points at its traceback" {
  run -1 --separate-stderr bgsh 'bgjob new -f sleep 600; bgjob kill 0; bgjob wait 0; bgjob result 0'
  assert_output ''
  [[ $stderr == *'bgjob traceback 0'* ]]
}

@test "new -t SECONDS: a job still running at its time limit is cancelled like kill and ends Dead, timed out" {
  run -0 --separate-stderr bgsh 'bgjob new -t 0.2 -f sleep 1000; bgjob wait 0; echo "rc=$?"
    bgjob traceback 0 | tail -n 1; bgjob new -t 0x1 -f sleep 0 done; bgjob wait 1; echo "rc=$?"; bgjob result 1'
  assert_output $'rc=1\ntimed out after 0.2 seconds\nrc=0\ndone'
}

@test "new -t: time spent Queued does not count, only time running" {
  run -0 --separate-stderr bgsh 'BGJOB_MAX_RUNNING=1; bgjob new -f sleep 1000; bgjob new -t 1 -f sleep 0 ran
    bgjob status -v S; echo "${S[1]}"; sleep 1.5; bgjob kill 0; bgjob wait 1; echo "rc=$?"; bgjob result 1'
  assert_output $'Queued\nrc=0\nran'
}

@test "new -t with a bad number of seconds is a usage error and creates no job" {
  run -0 --separate-stderr bgsh 'bgjob new -t abc -f sleep 0; echo "rc=$?"; bgjob new -t -1 1; echo "rc=$?"; bgjob status'
  assert_output $'rc=2\nrc=2'
}
