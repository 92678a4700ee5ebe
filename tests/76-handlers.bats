#!/usr/bin/env bats
# 76-handlers: completion handlers (`bgjob new -c FUNC`): called as
# `FUNC ID STATE` at the first safe point after the job ends (in `wait`, at
# the start of the next bgjob command, before an interactive prompt), once
# each, in job order; failing and missing handlers; handlers that call bgjob;
# none in a subshell or once the shell has begun to exit; the PROMPT_COMMAND
# element that runs them at the prompt.  (Handlers at a terminal's prompt:
# 75-prompt.bats.)

load helper

# until_finished: waits for every job to end without reaching a safe point
# (`bgjob __complete` runs no handler).
UNTIL='until_finished() { local f=$BATS_TEST_TMPDIR/unfinished; while bgjob __complete ids unfinished > "$f"; [[ -s $f ]]; do :; done; }'
H='h() { echo "h $1 $2"; }'

@test "handlers of jobs that ended together run once each, in job order, at the next bgjob command" {
  # Job 0 holds the only running slot until it is killed, so jobs 1-6 can
  # only end after the last `new', together, whatever the machine's load.
  run -0 --separate-stderr bgsh "$UNTIL; $H"'
    BGJOB_MAX_RUNNING=1; bgjob new -f sleep 600
    for i in 1 2 3 4 5; do bgjob new -c h "$i"; done
    bgjob new -c h "1/0"
    bgjob kill 0
    until_finished
    echo before
    bgjob status -n -v S
    echo after
    bgjob wait; bgjob status -v S'
  assert_output $'before\nh 1 Completed\nh 2 Completed\nh 3 Completed\nh 4 Completed\nh 5 Completed\nh 6 Dead\nafter'
  assert_equal "$stderr" ''
}

@test "wait runs each handler as its job ends, and has run them all when it returns" {
  run -0 --separate-stderr bgsh "$H"'
    k() { echo "k $1 $2"; bgjob kill 0; }
    bgjob new -c h -f sleep 30
    bgjob new -c k 7
    bgjob wait
    echo "rc=$?"'
  assert_output $'k 1 Completed\nh 0 Dead\nrc=1'
}

@test "a handler can read its job's result and the job's state is passed" {
  run -0 --separate-stderr bgsh '
    h() { echo "job $1 is $2: $(bgjob result "$1" 2>&1)"; bgjob result -v r "$1" && echo "r=$r"; }
    bgjob new -c h "6*7"
    bgjob wait'
  assert_output $'job 0 is Completed: 42\nr=42'
}

@test "a failing handler is reported and stops neither wait nor the other handlers, even under set -e" {
  run -0 --separate-stderr bgsh "$UNTIL; $H"'
    set -e
    bad() { echo "bad $1"; false; }
    err() { no_such_command_xyz; }
    bgjob new -c bad 1; bgjob new -c err 2; bgjob new -c h 3
    bgjob wait
    echo "rc=$?"'
  assert_output $'bad 0\nh 2 Completed\nrc=0'
  assert_line --index 0 'bad 0'
  [[ $stderr == *'bgjob: job 0: completion handler bad returned status 1'* ]] || fail "$stderr"
  [[ $stderr == *'no_such_command_xyz: command not found'* ]] || fail "$stderr"
  [[ $stderr == *'bgjob: job 1: completion handler err returned status 127'* ]] || fail "$stderr"
}

@test "a handler that no longer exists when the job ends gives one clear error, once" {
  run -0 --separate-stderr bgsh '
    nosuchfunc() { :; }; bgjob new -c nosuchfunc 1; unset -f nosuchfunc
    bgjob wait; bgjob wait; bgjob status -v S; echo done'
  assert_output 'done'
  assert_equal "$stderr" 'bgjob: job 0: completion handler nosuchfunc: no such function'
}

@test "a handler may start a job, whose own handler runs later" {
  run -0 --separate-stderr bgsh "$H"'
    first() { echo "first $1"; bgjob new -v next -c h "$1 + 10"; echo "started $next"; }
    bgjob new -c first 1
    bgjob wait
    bgjob wait
    bgjob result 1'
  assert_output $'first 0\nstarted 1\nh 1 Completed\n10'
}

@test "a bgjob wait inside a handler runs no handler; they run after it, once" {
  run -0 --separate-stderr bgsh "$H"'
    outer() { echo "outer $1"; bgjob new -c h -f sleep 0.1; bgjob wait; echo "outer done"; }
    bgjob new -c outer 1
    bgjob wait
    bgjob status -v S'
  assert_output $'outer 0\nouter done\nh 1 Completed'
}

@test "wait -n runs the handler of the job that ended; later ones run later" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -c h -f sleep 600
    bgjob new -c h 1
    bgjob wait -n -p which 0 1; echo "rc=$? which=$which"
    bgjob kill 0; bgjob wait 0; echo "rc=$?"'
  assert_output $'h 1 Completed\nrc=0 which=1\nh 0 Dead\nrc=1'
}

@test "wait -t runs the handlers of the jobs that ended before the timeout, not the others" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -c h -f sleep 600
    bgjob new -c h 2
    until [[ $(bgjob __complete ids completed) == 1 ]]; do :; done   # job 1 has ended, no handler run yet
    bgjob wait -t 0.3; echo "rc=$?"
    bgjob kill 0; bgjob wait 0; echo "rc=$?"'
  assert_output $'h 1 Completed\nrc=124\nh 0 Dead\nrc=1'
}

@test "a handler runs at the start of the next bgjob command in a script, before that command" {
  run -0 --separate-stderr bgsh "$UNTIL; $H"'
    bgjob new -c h 5
    until_finished
    echo mark
    bgjob new 6; echo "last=$BGJOB_LAST"'
  assert_output $'mark\nh 0 Completed\nlast=1'
}

@test "a subshell never runs its parent's handlers" {
  run -0 --separate-stderr bgsh "$UNTIL; $H"'
    bgjob new -c h 5
    until_finished
    x=$(bgjob status -n); echo "sub: $x"
    ( bgjob status -v S; echo subshell )
    bgjob status -v S'
  assert_output $'sub: Completed jobs:\n0 : 5\nsubshell\nh 0 Completed'
}

@test "no handler runs once the shell has begun to exit; its jobs are still waited for" {
  run -0 --separate-stderr bgsh "$H"'
    trap "bgjob wait; echo \"exit trap rc=\$?\"; bgjob status" EXIT
    bgjob new -c h -f sleep 0.2 done
    echo end'
  assert_output $'end\nexit trap rc=0\nCompleted jobs:\n0 : sleep 0.2 done'
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -c h -f sleep 0.2
    echo end'
  assert_output 'end'
}

@test "a handler's status does not change wait's status" {
  run -0 --separate-stderr bgsh '
    h() { return 5; }
    bgjob new -c h 1
    bgjob new 1/0
    bgjob wait 0 1; echo "rc=$?"'
  assert_output 'rc=1'
  assert_equal "$stderr" 'bgjob: job 0: completion handler h returned status 5'
}

@test "2000 jobs with handlers: each handler runs exactly once" {
  run -0 --separate-stderr bgsh '
    n=0; twice=0; declare -A ran
    h() { ((n++)); [[ -z ${ran[$1]} ]] || ((twice++)); ran[$1]=1; }
    for ((i = 0; i < 2000; i++)); do bgjob new -c h "$i"; done
    bgjob wait; bgjob wait; bgjob status -v S
    echo "n=$n distinct=${#ran[@]} twice=$twice"'
  assert_output 'n=2000 distinct=2000 twice=0'
}

@test "new -c with an empty name is a usage error and creates no job" {
  run -2 --separate-stderr bgsh 'bgjob new -c "" 1'
  [[ $stderr == *'bgjob: new: -c: a function name is required'* ]] || fail "$stderr"
  [[ $stderr == *'bgjob: usage: bgjob new'* ]] || fail "$stderr"
  run -0 --separate-stderr bgsh 'bgjob new -c "" 1; bgjob new 2; echo "$BGJOB_LAST"'
  assert_output 0
}

# ipipe [BASH-OPTION...]: an interactive bash (bash -i) reading its commands
# from stdin, a pipe: it prompts before each line, so PROMPT_COMMAND runs.
ipipe() {
  bgjob_timeout env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile "$@" -i 3>&-
}

PROMPT_SCRIPT='enable -f "$BGJOB_SO" bgjob
h() { echo "h $1 $2 [${FUNCNAME[*]}] x=$x"; }
f() { local x=local; bgjob new -c h 1/0; bgjob wait; }
PROMPT_COMMAND="echo pc"; declare -p PROMPT_COMMAND
x=global; bgjob new -c h 1; until [[ -z $(bgjob __complete ids unfinished) ]]; do :; done; echo first
declare -p PROMPT_COMMAND; false
echo "status=$?"
f
enable -d bgjob; declare -p PROMPT_COMMAND'

@test "interactive shells: a handler runs before the next prompt, at the top level like a trap, from one PROMPT_COMMAND element that enable -d removes" {
  run -0 --separate-stderr ipipe <<< "$PROMPT_SCRIPT"
  # (PROMPT_COMMAND runs before each prompt: before the second line, and at the end of input)
  assert_output 'declare -- PROMPT_COMMAND="echo pc"
pc
first
pc
h 0 Completed [h] x=global
declare -a PROMPT_COMMAND=([0]="echo pc" [1]="builtin bgjob __prompt")
pc
status=1
pc
h 1 Dead [h f] x=local
pc
declare -- PROMPT_COMMAND="echo pc"
pc'
  # readline's shell: the notice comes first, just before the handler
  [[ $stderr == *'bgjob: 0 Completed  1'* ]] || fail "$stderr"
  # without line editing: the handlers run the same, no notice
  run -0 --separate-stderr ipipe --noediting <<< "$PROMPT_SCRIPT"
  assert_line --index 4 'h 0 Completed [h] x=global'
  [[ $stderr != *'bgjob: 0 Completed'* ]] || fail "$stderr"
}

@test "interactive shells: the PROMPT_COMMAND element goes after the user's elements, survives PROMPT_COMMAND=CMD, and unload leaves PROMPT_COMMAND as it was (or as the user last set it)" {
  run -0 --separate-stderr ipipe <<'EOF'
enable -f "$BGJOB_SO" bgjob; h() { :; }
bgjob new -c h 1; declare -p PROMPT_COMMAND; enable -d bgjob; declare -p PROMPT_COMMAND 2>&1
PROMPT_COMMAND=(a b); enable -f "$BGJOB_SO" bgjob; bgjob new -c h 1; bgjob new -c h 2; declare -p PROMPT_COMMAND
enable -d bgjob; declare -p PROMPT_COMMAND; unset PROMPT_COMMAND
PROMPT_COMMAND=mine; enable -f "$BGJOB_SO" bgjob; bgjob new -c h 1; PROMPT_COMMAND=other; declare -p PROMPT_COMMAND
enable -d bgjob; declare -p PROMPT_COMMAND
enable -f "$BGJOB_SO" bgjob; bgjob new -c h 1; unset PROMPT_COMMAND; PROMPT_COMMAND=(x); bgjob new -c h 2; enable -d bgjob; declare -p PROMPT_COMMAND
PROMPT_COMMAND=other; readonly PROMPT_COMMAND; enable -f "$BGJOB_SO" bgjob; bgjob new -c h 1; declare -p PROMPT_COMMAND
EOF
  assert_output - <<'EOF'
declare -a PROMPT_COMMAND=([1]="builtin bgjob __prompt")
bash: declare: PROMPT_COMMAND: not found
declare -a PROMPT_COMMAND=([0]="a" [1]="b" [2]="builtin bgjob __prompt")
declare -a PROMPT_COMMAND=([0]="a" [1]="b")
declare -a PROMPT_COMMAND=([0]="other" [1]="builtin bgjob __prompt")
declare -- PROMPT_COMMAND="other"
declare -a PROMPT_COMMAND=([0]="x")
declare -ar PROMPT_COMMAND=([0]="other")
EOF
}
