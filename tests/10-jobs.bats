#!/usr/bin/env bats
# 10-jobs: numbering, new -v / BGJOB_LAST, status (format, groups, quoting,
# progress, -n, -v), show, result, traceback, remove, flush and its guard,
# daemon jobs, the Queued state and the limits.
#
# Completed jobs come from the example plugin's `join`, Dead ones from its
# `fail`, running ones from the shipped `sleep`.  Jobs that must stay running
# are daemon jobs (-d), so the shell does not wait for them when it exits.

load helper

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'

# bgsh_interactive SCRIPT: bgsh in an interactive shell (bash -i), whose stderr
# also gets bash's "no job control" notes.
bgsh_interactive() {
  env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} \
    bash --norc --noprofile -i -c "enable -f \"\$BGJOB_SO\" bgjob || exit 99
$1" bgsh </dev/null 3>&-
}

# ---- numbering ----

@test "jobs are numbered 0, 1, 2 in creation order" {
  run -0 bgsh "$LOAD"'
    bgjob new -v a -f join x; bgjob new -v b -f join y; bgjob new -v c -f join z
    bgjob wait
    echo "$a $b $c"
    bgjob result 0; bgjob result 1; bgjob result 2'
  assert_output $'0 1 2\nx\ny\nz'
}

@test "new prints nothing and leaves the number in BGJOB_LAST" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob new -f join x; echo "last=$BGJOB_LAST"
    bgjob new -f join y; echo "last=$BGJOB_LAST"
    bgjob wait'
  assert_output $'last=0\nlast=1'
  assert_equal "$stderr" ''
}

@test "new -v VAR stores the number in VAR and in BGJOB_LAST" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join x
    bgjob new -v id -f join y
    echo "id=$id last=$BGJOB_LAST"; bgjob wait; bgjob result "$id"'
  assert_output $'id=1 last=1\ny'
}

@test "numbers are never reused after remove" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f join b; bgjob wait
    bgjob remove 1; bgjob remove 0
    bgjob new -v n -f join c; bgjob wait; echo "n=$n"; bgjob status'
  assert_output $'n=2\nCompleted jobs:\n2 : join c'
}

@test "numbers are never reused after flush" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail x; bgjob new -f join b; bgjob wait
    bgjob flush -f >/dev/null
    bgjob new -v n -f join c; bgjob wait; echo "n=$n"
    bgjob flush -f >/dev/null
    bgjob new -v m -f join d; bgjob wait; echo "m=$m"'
  assert_output $'n=3\nm=4'
}

@test "a new that fails (unknown callback, bad -v name, readonly -v target) uses up no number" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob new -f join a; bgjob wait
    bgjob new -f nosuch x; echo "rc=$?"
    bgjob new -v 1bad -f join b; echo "rc=$?"
    readonly ro=x; bgjob new -v ro -f join c; echo "rc=$? ro=$ro"
    echo "last=$BGJOB_LAST"
    bgjob new -v n -f join d; bgjob wait; echo "n=$n"'
  assert_output $'rc=1\nrc=2\nrc=1 ro=x\nlast=0\nn=1'
  [[ $stderr == *'nosuch: no such callback'* ]]
}

@test "a new -v VAR that fails leaves VAR unset, not holding an older number" {
  run -0 --separate-stderr bgsh 'x=7; bgjob new -v x -f no_such_callback; echo "rc=$? x=${x-unset}"
    x=7; bgjob new -v x "1+"; echo "rc=$? x=${x-unset}"
    x=7; bgjob new -v x -t abc 1; echo "rc=$? x=${x-unset}"
    a=(p q r); bgjob new -v "a[1]" -f run /no/such/file; echo "rc=$? ${#a[@]} ${a[*]}"
    declare -A h=([k]=v [j]=w); k=k; bgjob new -v "h[$k]" -f no_such_callback; echo "rc=$? ${!h[*]}"
    f() { local l=7; bgjob new -v l -f no_such_callback; echo "rc=$? l=${l-unset}"; }; f
    x=7; bgjob new -v x 6*7; echo "rc=$? x=$x"'
  assert_output $'rc=1 x=unset\nrc=1 x=unset\nrc=2 x=unset\nrc=127 2 p r\nrc=1 j\nrc=1 l=unset\nrc=0 x=0'
}

@test "new -c FUNC that names no function is a usage error at new and creates no job" {
  run -0 --separate-stderr bgsh 'bgjob new -c no_such_func 1; echo "rc=$?"; bgjob new -c no_such_func -f sleep 0; echo "rc=$?"
    h() { :; }; bgjob new -c h 1; echo "rc=$? last=$BGJOB_LAST"'
  assert_output $'rc=2\nrc=2\nrc=0 last=0'
  [[ $stderr == *'bgjob: -c: no_such_func: no such function'* ]] || fail "$stderr"
  [[ $stderr == *'usage: bgjob new'* ]] || fail "$stderr"
}

@test "new -t 0 sets no time limit and wait -t 0 only looks, as the help says" {
  run -0 --separate-stderr bgsh 'bgjob new -t 0 -f sleep 0.3 done; bgjob wait 0; echo "rc=$?"; bgjob result 0
    bgjob new -d -f sleep 600; bgjob wait -t 0 1; echo "rc=$?"; bgjob kill 1
    bgjob help | grep -c -e "-t 0 sets no time limit" -e "-t 0 does not wait"'
  assert_output $'rc=0\ndone\nrc=124\n2'
}

@test "new -3*2 and new -1 are expressions, as for let; -- still ends the options" {
  run -0 --separate-stderr bgsh 'x=4
    bgjob new -v a -3*2; bgjob new -v b -1; bgjob new -v c -x+1; bgjob new -d -v d -- -2; bgjob wait
    for id in $a $b $c $d; do bgjob result $id; done'
  assert_output $'-6\n-1\n-3\n-2'
  assert_equal "$stderr" ''
}

@test "new accepts -t SECONDS (hex and fractions too) and -c FUNC before the expression or -f" {
  run -0 --separate-stderr bgsh 'done_f() { :; }
    bgjob new -t 0x10 -c done_f -v a 6*7; bgjob new -t 2.5 -c done_f -f sleep 0 ok; bgjob wait
    bgjob result $a; bgjob result 1'
  assert_output $'42\nok'
  assert_equal "$stderr" ''
}

@test "new -t with a bad number of seconds is a usage error and uses no job number" {
  run -0 --separate-stderr bgsh 'bgjob new -t 1x 1; echo "rc=$?"; bgjob new -v n 1; echo "n=$n"'
  assert_output $'rc=2\nn=0'
  [[ $stderr == *'new: 1x: invalid number of seconds'* ]] || fail "$stderr"
}

# ---- status ----

@test "status prints Queued, Running, Completed and Dead groups, in that order, each followed by an empty line" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a b
    bgjob new -f fail boom
    bgjob wait
    BGJOB_MAX_RUNNING=1
    bgjob new -d -f sleep 600
    bgjob new -d -f sleep 600
    bgjob status | sed "s/ ([0-9]*%)\$//"   # progress: see the (NN%) test
    echo END
    bgjob kill 2 3'
  assert_output "Queued jobs:
3 : sleep 600

Running jobs:
2 : sleep 600

Completed jobs:
0 : join a b

Dead jobs:
1 : fail boom

END"
}

@test "bgjob without a subcommand is status" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    bgjob status > "$BATS_TEST_TMPDIR/s1"
    bgjob > "$BATS_TEST_TMPDIR/s2"
    cmp "$BATS_TEST_TMPDIR/s1" "$BATS_TEST_TMPDIR/s2" && cat "$BATS_TEST_TMPDIR/s2"'
  assert_output $'Completed jobs:\n0 : join a\n\nDead jobs:\n1 : fail b'
}

@test "status leaves out empty groups" {
  run -0 bgsh "$LOAD"'
    bgjob new -f fail a; bgjob new -f fail b; bgjob wait
    bgjob status; echo END'
  assert_output $'Dead jobs:\n0 : fail a\n1 : fail b\n\nEND'
}

@test "status quotes callback arguments as printf %q does" {
  run -0 bgsh "$LOAD"'
    args=("a b" "it'\''s" $'\''x\ny'\'' "" "\$HOME" "*" "~u" "tab	x" "é" "plain")
    bgjob new -f join "${args[@]}"; bgjob wait
    printf -v q " %q" "${args[@]}"
    echo "0 : join$q"
    bgjob status | sed -n 2p'
  assert_equal "${#lines[@]}" 2
  assert_equal "${lines[1]}" "${lines[0]}"
  assert_line --index 1 --partial "join a\\ b it\\'s \$'x\\ny' ''"
}

@test "the command of an expression job is the expression as given, its words joined by spaces" {
  run -0 bgsh 'bgjob new 42; bgjob new -- 7; bgjob wait; bgjob status'
  assert_output $'Completed jobs:\n0 : 42\n1 : 7'
}

@test "a running job that reports progress shows it as (NN%)" {
  run -0 bgsh '
    bgjob new -d -f sleep 60
    until bgjob show -v j 0 && [[ ${j[progress]} == [1-9]* ]]; do bgjob wait -t 0.05 0; done
    bgjob status; bgjob kill 0'
  assert_line --index 0 'Running jobs:'
  assert_line --index 1 --regexp '^0 : sleep 60 \(([1-9]|[1-9][0-9])%\)$'
}

@test "status -n prints only the jobs finished since the last report, then nothing" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    bgjob new -d -f sleep 600
    bgjob status -n; echo "END1 rc=$?"
    bgjob status -n; echo "END2 rc=$?"
    bgjob new -f join c; bgjob wait 3
    bgjob status -n; echo END3
    bgjob kill 2'
  assert_output "Completed jobs:
0 : join a

Dead jobs:
1 : fail b

END1 rc=0
END2 rc=0
Completed jobs:
3 : join c

END3"
}

@test "status marks every finished job as seen, so status -n afterwards prints nothing" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    bgjob status >/dev/null
    bgjob status -n; echo END'
  assert_output 'END'
}

@test "status -v ARRAY fills an associative array of job number -> state and prints nothing" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    BGJOB_MAX_RUNNING=1
    bgjob new -d -f sleep 600; bgjob new -d -f sleep 600
    bgjob status -v S; echo "rc=$?"
    [[ $(declare -p S) == "declare -A "* ]] && echo assoc
    echo "n=${#S[@]} 0=${S[0]} 1=${S[1]} 2=${S[2]} 3=${S[3]}"
    bgjob kill 2 3'
  assert_output $'rc=0\nassoc\nn=4 0=Completed 1=Dead 2=Running 3=Queued'
}

@test "status -v replaces what the array held before" {
  run -0 bgsh "$LOAD"'
    declare -A S=([old]=x [9]=y)
    bgjob new -f join a; bgjob wait
    bgjob status -v S; declare -p S'
  assert_output 'declare -A S=([0]="Completed" )'
}

@test "status -n -v fills the array with the newly finished jobs only" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob wait; bgjob status >/dev/null
    bgjob new -f fail b; bgjob wait
    bgjob status -n -v S; declare -p S
    bgjob status -n; echo END'
  assert_output $'declare -A S=([1]="Dead" )\nEND'
}

@test "status shows an expression holding a newline or control character quoted, one line per job" {
  run -0 bgsh $'bgjob new \'1\n+2\'; bgjob new $\'3\\t*4\'; bgjob new 5; bgjob wait; bgjob status'
  assert_output $'Completed jobs:\n0 : $\'1\\n+2\'\n1 : $\'3\\t*4\'\n2 : 5'
}

# ---- show ----

@test "status and traceback headers cut a command line past 72 characters to its first 69 and ..., show keeps it whole" {
  run -0 --separate-stderr bgsh "$LOAD"'; printf -v long "%s" {1..40}; bgjob new -f fail "$long"; bgjob new -f join short; bgjob wait
    printf -v u "é%.0s" {1..40}; bgjob new -f fail "x$u"; bgjob wait
    bgjob status | grep -v "^2 :"; bgjob traceback 0 | head -1; bgjob show -v S 0; [[ ${S[command]} == "fail $long" ]] && echo whole
    line=$(bgjob status | grep "^2 :"); printf %s "$line" | wc -c; [[ $line == *... ]] && iconv -f UTF-8 -t UTF-8 <<<"$line" >/dev/null && echo utf-8'
  local long
  printf -v long '%s' {1..40}
  assert_output "Completed jobs:
1 : join short

Dead jobs:
0 : fail ${long:0:64}...

Traceback for: <BackgroundJob #0: fail ${long:0:64}...>
whole
75
utf-8"
}

@test "show prints every field in a form eval turns back into an associative array" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a "b c"; bgjob wait
    eval "declare -A j=$(bgjob show 0)"
    for k in id state kind command result error daemon progress started finished elapsed; do
      [[ -v j[$k] ]] || echo "missing key $k"
    done
    printf "%s=%s\n" id "${j[id]}" state "${j[state]}" kind "${j[kind]}" command "${j[command]}" \
      result "${j[result]}" error "${j[error]}" daemon "${j[daemon]}"
    [[ ${j[started]} =~ ^[0-9]+\.[0-9]+$ ]] && echo started-ok
    [[ ${j[finished]} =~ ^[0-9]+\.[0-9]+$ ]] && echo finished-ok
    [[ ${j[elapsed]} =~ ^[0-9]+\.[0-9]+$ ]] && echo elapsed-ok
    awk -v s="${j[started]}" -v f="${j[finished]}" -v e="${j[elapsed]}" \
      "BEGIN { exit !(f >= s && e >= 0 && e < 60 && (f - s) - e < 0.001 && e - (f - s) < 0.001) }" && echo times-ok'
  assert_output 'id=0
state=Completed
kind=callback
command=join a b\ c
result=a b c
error=
daemon=0
started-ok
finished-ok
elapsed-ok
times-ok'
}

@test "show of a dead job has its error, state Dead and no result" {
  run -0 bgsh "$LOAD"'
    bgjob new -f fail "it broke"; bgjob wait
    eval "declare -A j=$(bgjob show 0)"
    echo "${j[state]}|${j[error]}|${j[result]}|${j[command]}"'
  assert_output 'Dead|it broke||fail it\ broke'
}

@test "show of a running job has state Running, its progress and no finish time" {
  run -0 bgsh '
    bgjob new -d -f sleep 600
    until bgjob show -v j 0 && [[ -n ${j[progress]} ]]; do bgjob wait -t 0.05 0; done
    eval "declare -A j=$(bgjob show 0)"
    echo "${j[state]}|${j[finished]}|${j[result]}"
    [[ ${j[progress]} =~ ^[0-9]+%$ ]] && echo progress-ok
    bgjob kill 0'
  assert_output $'Running||\nprogress-ok'
}

@test "show values survive eval even with quotes, newlines and dollars" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join "x'\''y" $'\''1\n2'\'' "\$(touch $BATS_TEST_TMPDIR/pwned)"; bgjob wait
    eval "declare -A j=$(bgjob show 0)"
    printf "%s\n" "${j[result]}"
    [[ -e $BATS_TEST_TMPDIR/pwned ]] && echo PWNED || true'
  assert_output "x'y 1
2 \$(touch $BATS_TEST_TMPDIR/pwned)"
}

@test "show -v ARRAY fills the array with the same fields show prints" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join p q; bgjob wait
    eval "declare -A j=$(bgjob show 0)"
    bgjob show -v A 0; echo "rc=$?"
    [[ $(declare -p A) == "declare -A "* ]] && echo assoc
    for k in "${!j[@]}"; do [[ ${A[$k]-unset} == "${j[$k]}" ]] || echo "differs: $k"; done
    [[ ${#A[@]} == "${#j[@]}" ]] && echo same-size
    echo "${A[result]}"'
  assert_output $'rc=0\nassoc\nsame-size\np q'
}

@test "show of an unknown job fails with job N not found" {
  run -1 --separate-stderr bgsh 'bgjob show 5'
  assert_output ''
  [[ $stderr == *'job 5 not found'* ]]
}

@test "show marks daemon jobs with daemon=1" {
  run -0 bgsh "$LOAD"'
    bgjob new -d -f join a; bgjob new -f join b; bgjob wait
    eval "declare -A d=$(bgjob show 0)"; eval "declare -A n=$(bgjob show 1)"
    echo "${d[daemon]} ${n[daemon]} ${d[result]}"'
  assert_output '1 0 a'
}

@test "show of a running job gives its start time and the time elapsed so far" {
  run -0 bgsh 'bgjob new -d -f sleep 30
    n=0; until bgjob show -v J 0 && [[ -n ${J[progress]} ]]; do (( ++n > 100000 )) && break; done
    echo "${J[state]}"
    [[ ${J[started]} =~ ^[0-9]+\.[0-9]+$ ]] && echo started-ok
    [[ ${J[elapsed]} =~ ^[0-9]+\.[0-9]+$ ]] && echo elapsed-ok
    [[ -z ${J[finished]} ]] && echo not-finished
    bgjob kill 0'
  assert_output $'Running\nstarted-ok\nelapsed-ok\nnot-finished'
}

# ---- result ----

@test "result prints the result and a newline" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a "  b"; bgjob wait
    bgjob result 0 | od -An -c | tr -s " "'
  assert_output ' a b \n'
}

@test "result of the shipped sleep is VALUE, or SECONDS as given" {
  run -0 bgsh 'bgjob new -f sleep 0.05 done; bgjob new -f sleep 0.050; bgjob wait; bgjob result 0; bgjob result 1'
  assert_output $'done\n0.050'
}

@test "result of a running job fails with job N is still running" {
  run -1 --separate-stderr bgsh 'bgjob new -d -f sleep 600; bgjob result 0; rc=$?; bgjob kill 0; exit $rc'
  assert_output ''
  [[ $stderr == *'job 0 is still running'* ]]
}

@test "result of a queued job fails with job N is still queued" {
  run -1 --separate-stderr bgsh 'BGJOB_MAX_RUNNING=1; bgjob new -d -f sleep 600; bgjob new -d -f sleep 600
    bgjob result 1; rc=$?; bgjob kill 0 1; exit $rc'
  assert_output ''
  [[ $stderr == *'job 1 is still queued'* ]]
}

@test "result of a dead job fails and names bgjob traceback N" {
  run -1 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f fail x; bgjob wait; bgjob result 1'
  assert_output ''
  [[ $stderr == *'job 1 '*'bgjob traceback 1'* ]]
}

@test "result of an unknown job fails with job N not found" {
  run -1 --separate-stderr bgsh 'bgjob result 3'
  assert_output ''
  [[ $stderr == *'job 3 not found'* ]]
}

# ---- traceback ----

@test "traceback ID prints the header with the job and its command, then the error text" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f fail "disk on fire"; bgjob wait; bgjob traceback 1'
  assert_output $'Traceback for: <BackgroundJob #1: fail disk\\ on\\ fire>\ndisk on fire'
}

@test "traceback of a job that is not dead fails" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -d -f sleep 600; bgjob wait 0
    bgjob traceback 0; echo "completed rc=$?"
    bgjob traceback 1; echo "running rc=$?"
    bgjob traceback 7; echo "unknown rc=$?"
    bgjob kill 1'
  assert_output $'completed rc=1\nrunning rc=1\nunknown rc=1'
  [[ $stderr == *'job 0 completed: it has no traceback'* ]]
  [[ $stderr == *'job 1 is still running'* ]]
  [[ $stderr == *'job 7 not found'* ]]
}

@test "traceback without ID prints the report of every dead job, each followed by an empty line" {
  run -0 bgsh "$LOAD"'
    bgjob new -f fail one; bgjob new -f join ok; bgjob new -f fail two; bgjob wait
    bgjob traceback; echo END'
  assert_output 'Traceback for: <BackgroundJob #0: fail one>
one

Traceback for: <BackgroundJob #2: fail two>
two

END'
}

@test "traceback with an empty ID is a usage error, not every traceback" {
  run -2 --separate-stderr bgsh 'bgjob new 1/0; bgjob wait; bgjob traceback ""'
  assert_output ''
  [[ $stderr == *"traceback: : not a valid job number"* ]] || fail "$stderr"
}

@test "traceback without ID prints nothing when no job is dead" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob wait; bgjob traceback; echo END'
  assert_output 'END'
}

# ---- remove ----

@test "remove deletes finished jobs completely" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob new -f join c; bgjob wait
    bgjob remove 0 1; echo "rc=$?"
    bgjob status
    bgjob result 0; echo "result rc=$?"
    bgjob show 1; echo "show rc=$?"
    bgjob traceback 1; echo "traceback rc=$?"
    bgjob traceback; echo END'
  assert_output $'rc=0\nCompleted jobs:\n2 : join c\n\nresult rc=1\nshow rc=1\ntraceback rc=1\nEND'
  [[ $stderr == *'job 0 not found'* ]]
  [[ $stderr == *'job 1 not found'* ]]
}

@test "remove of a running job fails with job N is still running" {
  run -1 --separate-stderr bgsh 'bgjob new -d -f sleep 600; bgjob remove 0; rc=$?
    bgjob status -v S; echo "${S[0]}"; bgjob kill 0; exit $rc'
  assert_output 'Running'
  [[ $stderr == *'job 0 is still running'* ]]
}

@test "remove of a queued job fails with job N is still queued" {
  run -1 --separate-stderr bgsh 'BGJOB_MAX_RUNNING=1; bgjob new -d -f sleep 5; bgjob new -d -f sleep 5
    bgjob remove 1; rc=$?; bgjob status -v S; echo "${S[1]}"; bgjob kill 0 1; exit $rc'
  assert_output 'Queued'
  [[ $stderr == *'job 1 is still queued'* ]] || fail "$stderr"
}

@test "remove of an unknown job fails with job N not found" {
  run -1 --separate-stderr bgsh 'bgjob remove 9'
  assert_output ''
  [[ $stderr == *'job 9 not found'* ]]
}

@test "remove of an already removed job fails with job N not found" {
  run -1 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob wait; bgjob remove 0; bgjob remove 0'
  [[ $stderr == *'job 0 not found'* ]]
}

@test "remove with one bad ID among several still removes the others and fails" {
  run -1 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob new -f join b; bgjob wait
    bgjob remove 0 7 1; rc=$?; bgjob status; exit $rc'
  assert_output ''
  [[ $stderr == *'job 7 not found'* ]]
}

# ---- flush ----

@test "flush reports Flushing K Completed jobs and Flushing 1 Dead job, and deletes them" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob new -f join c; bgjob new -f join d; bgjob wait
    bgjob status >/dev/null
    bgjob flush; echo "rc=$?"
    bgjob status; echo END'
  assert_output $'Flushing 3 Completed jobs.\nFlushing 1 Dead job.\nrc=0\nEND'
}

@test "flush uses the singular for one Completed job and the plural for Dead jobs" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob new -f fail c; bgjob wait
    bgjob status >/dev/null
    bgjob flush'
  assert_output $'Flushing 1 Completed job.\nFlushing 2 Dead jobs.'
}

@test "flush with nothing finished says No jobs to flush. and leaves running jobs alone" {
  run -0 bgsh '
    bgjob flush; echo "rc=$?"
    bgjob new -d -f sleep 600
    bgjob flush; echo "rc=$?"
    bgjob status -v S; echo "${S[0]}"; bgjob kill 0'
  assert_output $'No jobs to flush.\nrc=0\nNo jobs to flush.\nrc=0\nRunning'
}

@test "interactive: flush deletes nothing, lists the jobs as status -n would and fails when jobs finished since the last report" {
  run -1 --separate-stderr bgsh_interactive "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    bgjob flush; rc=$?
    echo END; bgjob status -v S; echo "${S[0]} ${S[1]}"; bgjob result 0
    exit $rc'
  assert_output $'Completed jobs:\n0 : join a\n\nDead jobs:\n1 : fail b\n\nEND\nCompleted Dead\na'
  [[ $stderr == *'flush -f'* ]]
}

@test "interactive: the flush guard lists only the jobs finished since the last report" {
  run -0 --separate-stderr bgsh_interactive "$LOAD"'
    bgjob new -f join a; bgjob wait; bgjob status >/dev/null
    bgjob new -f join b; bgjob wait
    bgjob flush; echo "rc=$?"
    bgjob status -v S; echo "${!S[*]}" | tr " " "\n" | sort | tr "\n" " "; echo'
  assert_output $'Completed jobs:\n1 : join b\n\nrc=1\n0 1 '
}

@test "interactive: after the flush guard has listed the jobs, a second flush deletes them" {
  run -0 --separate-stderr bgsh_interactive "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    bgjob flush >/dev/null; echo "rc=$?"
    bgjob flush; echo "rc=$?"
    bgjob status; echo END'
  assert_output $'rc=1\nFlushing 1 Completed job.\nFlushing 1 Dead job.\nrc=0\nEND'
}

@test "a script flushes finished jobs without the guard, also under set -e" {
  run -0 --separate-stderr bgsh "$LOAD"'
    set -e
    bgjob new -f join a; bgjob new -f fail b; bgjob wait || :
    bgjob flush
    bgjob status; echo END'
  assert_output $'Flushing 1 Completed job.\nFlushing 1 Dead job.\nEND'
  assert_equal "$stderr" ''
}

@test "flush -f flushes jobs finished since the last report anyway" {
  run -0 bgsh "$LOAD"'
    bgjob new -f join a; bgjob new -f fail b; bgjob wait
    bgjob flush -f; echo "rc=$?"
    bgjob status; echo END'
  assert_output $'Flushing 1 Completed job.\nFlushing 1 Dead job.\nrc=0\nEND'
}

# ---- queued jobs and limits ----

@test "with BGJOB_MAX_RUNNING=1 a second job is Queued and runs when the first finishes" {
  # The first job ends when it is killed, not after some time.
  run -0 bgsh 'BGJOB_MAX_RUNNING=1
    bgjob new -f sleep 600 first; bgjob new -f sleep 0.1 second
    bgjob status -v S; echo "${S[0]} ${S[1]}"
    bgjob kill 0; bgjob wait 1; echo "wait=$?"
    bgjob status -v S; echo "${S[0]} ${S[1]}"; bgjob result 1
    eval "declare -A a=$(bgjob show 0)"; eval "declare -A b=$(bgjob show 1)"
    awk -v f="${a[finished]}" -v s="${b[started]}" "BEGIN { exit !(s >= f - 0.005) }" && echo in-order'
  assert_output $'Running Queued\nwait=0\nDead Completed\nsecond\nin-order'
}

@test "a job beyond BGJOB_MAX_QUEUED is refused with a clear error and uses no number" {
  run -0 --separate-stderr bgsh 'BGJOB_MAX_RUNNING=1 BGJOB_MAX_QUEUED=1
    bgjob new -d -f sleep 600; bgjob new -d -f sleep 600
    bgjob new -d -f sleep 600; echo "rc=$? last=$BGJOB_LAST"
    bgjob status -v S; echo "${#S[@]}"
    bgjob kill 0 1; bgjob wait
    bgjob new -v n -f sleep 0; bgjob wait; echo "n=$n"'
  assert_output $'rc=1 last=1\n2\nn=2'
  [[ $stderr == *'BGJOB_MAX_QUEUED'* ]]
}

@test "by default at least 64 jobs run at once" {
  run -0 bgsh 'for i in {1..64}; do bgjob new -d -f sleep 600; done
    bgjob status -v S; n=0; for s in "${S[@]}"; do [[ $s == Running ]] && n=$((n+1)); done; echo "running=$n"
    bgjob kill {0..63}; bgjob wait; echo "wait=$?"'
  assert_output $'running=64\nwait=1'
}

@test "an unusable BGJOB_MAX_RUNNING or BGJOB_MAX_QUEUED is named on stderr once per value, with the value used" {
  run -0 --separate-stderr bgsh '
    for v in 0 -1 abc 2+3 99999999999999999999 0 abc; do BGJOB_MAX_RUNNING=$v; bgjob new 1; done
    BGJOB_MAX_RUNNING=2; bgjob new 1
    BGJOB_MAX_QUEUED=0; bgjob new 1; bgjob new 1
    bgjob wait; echo "rc=$?"'
  assert_output 'rc=0'
  local expected="bgsh: line 3: bgjob: warning: BGJOB_MAX_RUNNING=0: not a whole number from 1 to 100000000; using 64
bgsh: line 3: bgjob: warning: BGJOB_MAX_RUNNING=-1: not a whole number from 1 to 100000000; using 64
bgsh: line 3: bgjob: warning: BGJOB_MAX_RUNNING=abc: not a whole number from 1 to 100000000; using 64
bgsh: line 3: bgjob: warning: BGJOB_MAX_RUNNING=2+3: not a whole number from 1 to 100000000; using 64
bgsh: line 3: bgjob: warning: BGJOB_MAX_RUNNING=99999999999999999999: not a whole number from 1 to 100000000; using 64
bgsh: line 5: bgjob: warning: BGJOB_MAX_QUEUED=0: not a whole number from 1 to 100000000; using 100000"
  assert_equal "$stderr" "$expected"
}

@test "an empty or unset limit variable means the default, silently" {
  run -0 --separate-stderr bgsh 'BGJOB_MAX_RUNNING=; bgjob new 1; unset BGJOB_MAX_QUEUED; bgjob new 1; bgjob wait; echo "rc=$?"'
  assert_output 'rc=0'
  assert_equal "$stderr" ''
}
