#!/usr/bin/env bats
# 25-run: external commands as jobs (`bgjob new -f run CMD [ARG...]`): lookup
# at new, what the command gets (environment, directory, umask, stdin, only
# descriptors 0 1 2, its own session, default signals), the result as $(CMD)
# would capture it, tracebacks for exit, signal, timeout and output limit,
# show fields (also while running), kill of the process group, exit and
# SIGKILL of the shell, and bash's own children and statuses left alone.

load helper

# await COND...: runs COND until it succeeds, at most 2000 times 10 ms apart (then exits 9).
AWAIT='await() { local n=0; until "$@"; do (( ++n > 2000 )) && { echo "await timed out: $*" >&2; exit 9; }; sleep 0.01; done; }'
# shown ID KEY: prints `bgjob show` field KEY of job ID.
SHOWN='shown() { local -A S; bgjob show -v S "$1" && printf "%s" "${S[$2]}"; }'
H="$AWAIT; $SHOWN"

setup() {
  FIFO=$BATS_TEST_TMPDIR/fifo
  mkfifo "$FIFO"
  export FIFO
}

@test "run gives the command's stdout as \$(CMD) would: trailing newlines removed, inner ones kept" {
  run -0 --separate-stderr bgsh 'bgjob new -f run printf "a\n\nb\n\n\n"; bgjob wait 0; echo "rc=$?"
    bgjob result -v r 0; declare -p r; bgjob status -v S; echo "${S[0]}"'
  assert_output $'rc=0\ndeclare -- r=$\'a\\n\\nb\'\nCompleted'
  assert_equal "$stderr" ''
}

@test "every word after run belongs to the command, options included" {
  run -0 bgsh 'bgjob new -f run echo -d -v x -f -- y; bgjob wait; bgjob result 0'
  assert_output '-d -v x -f -- y'
}

@test "NUL bytes are dropped from the result, and result warns as bash's command substitution does" {
  run -0 --separate-stderr bgsh 'bgjob new -f run printf "a\0b\n"; bgjob wait
    bgjob result 0 | od -An -c | tr -s " "; bgjob result -v x 0; declare -p x; bgjob show -v S 0; echo "${S[nul_bytes]}"'
  assert_output $' a b \\n\ndeclare -- x="ab"\n1'
  assert_equal "$(grep -c 'bgjob: warning: command substitution: ignored null byte in input' <<<"$stderr")" 2
}

@test "a command that is not found fails new with status 127 as bash words it, and uses no job number" {
  run -127 --separate-stderr bgsh 'bgjob new -f run no-such-command-xyz a b; rc=$?
    bgjob new -f run echo ok; echo "last=$BGJOB_LAST"; bgjob wait; exit $rc'
  assert_output 'last=0'
  [[ $stderr == *'bgjob: no-such-command-xyz: command not found' ]] || fail "$stderr"
  run -127 --separate-stderr bgsh 'bgjob new -f run ./no/such/file; rc=$?; bgjob status; exit $rc'
  assert_output ''
  [[ $stderr == *'bgjob: ./no/such/file: No such file or directory' ]] || fail "$stderr"
}

@test "a file that is not executable, or a directory, fails new with status 126 and no job" {
  printf 'echo hi\n' > "$BATS_TEST_TMPDIR/noexec"
  run -126 --separate-stderr bgsh 'bgjob new -f run "$1"; rc=$?; bgjob status; exit $rc' "$BATS_TEST_TMPDIR/noexec"
  assert_output ''
  [[ $stderr == *"bgjob: $BATS_TEST_TMPDIR/noexec: Permission denied" ]] || fail "$stderr"
  run -126 --separate-stderr bgsh 'bgjob new -f run /; rc=$?; bgjob status; exit $rc'
  [[ $stderr == *'bgjob: /: Is a directory' ]] || fail "$stderr"
}

@test "a script whose #! interpreter is missing, or not executable, fails new as bash says it (127, 126) with no job" {
  local d=$BATS_TEST_TMPDIR f bash_says
  printf '#!/nonexistent/interp -x\necho hi\n' > "$d/missing"
  printf '#!%s\necho hi\n' "$d" > "$d/dir"
  chmod +x "$d/missing" "$d/dir"
  local -A want=([missing]=127 [dir]=126)
  for f in missing dir; do
    bash_says=$(cd "$d" && bash --norc --noprofile -c "./$f" 2>&1) && fail "bash ran $f"
    bash_says=${bash_says#bash: }; bash_says=${bash_says#line 1: }
    run -"${want[$f]}" --separate-stderr bgsh 'cd "$1"; bgjob new -f run "./$2"; rc=$?; bgjob status; exit $rc' "$d" "$f"
    assert_output ''
    [[ $stderr == *"bgjob: $bash_says" ]] || fail "$f: $stderr (bash: $bash_says)"
  done
  [[ $bash_says == *': bad interpreter: Permission denied' ]] || fail "$bash_says"
}

@test "arguments larger than execve takes fail new with 126 and bash's Argument list too long, with no job" {
  run --separate-stderr bgsh 'printf -v big "%*s" 3000000 ""; printf -v mid "%*s" 100000 ""
    bgjob new -f run /bin/true "$big"; echo "rc=$?"; /bin/true "$big" 2>/dev/null; echo "bash=$?"
    bgjob status; bgjob new -f run sh -c "echo \${#1} \$#" sh "$mid" "$mid" "$mid"; bgjob wait 0; bgjob result 0'
  assert_output $'rc=126\nbash=126\n100000 3'
  [[ $stderr == *'bgjob: /bin/true: Argument list too long' ]] || fail "$stderr"
}

@test "an executable script without #! runs with the shell, as bash runs it" {
  printf 'echo "plain $1"\n' > "$BATS_TEST_TMPDIR/plain"
  chmod +x "$BATS_TEST_TMPDIR/plain"
  run -0 bgsh 'bgjob new -f run "$1" arg; bgjob wait 0 && bgjob result 0' "$BATS_TEST_TMPDIR/plain"
  assert_output 'plain arg'
}

@test "run with no command is a usage error" {
  run -2 --separate-stderr bgsh 'bgjob new -f run'
  [[ $stderr == *'run: no command given'* ]] || fail "$stderr"
}

@test "CMD is found through the shell's PATH at new, even unexported, and a name with a slash is used as is" {
  mkdir "$BATS_TEST_TMPDIR/bin"
  printf '#!/bin/sh\necho "mine $*"\n' > "$BATS_TEST_TMPDIR/bin/mycmd"
  chmod +x "$BATS_TEST_TMPDIR/bin/mycmd"
  run -0 bgsh 'export -n PATH; PATH=$1/bin:$PATH; bgjob new -f run mycmd a; PATH=/nowhere
    cd "$1"; bgjob new -f run ./bin/mycmd b; bgjob wait; bgjob result 0; bgjob result 1' "$BATS_TEST_TMPDIR"
  assert_output $'mine a\nmine b'
}

@test "the command gets the exported variables and temporary assignments of new, not later changes" {
  run -0 bgsh 'export A=exported; B=unexported
    C=temporary bgjob new -f run sh -c '\''cat "$1" >/dev/null; echo "$A/$B/$C"'\'' sh "$FIFO"
    A=changed; export B=now; echo go > "$FIFO"; bgjob wait; bgjob result 0'
  assert_output 'exported//temporary'
}

@test "the command runs in the directory and with the umask of new; a later cd changes nothing" {
  mkdir "$BATS_TEST_TMPDIR/d1"
  run -0 bgsh 'cd "$1/d1"; umask 027
    bgjob new -f run sh -c '\''cat "$1" >/dev/null; pwd; umask'\'' sh "$FIFO"
    cd /; umask 022; echo go > "$FIFO"; bgjob wait; bgjob result 0' "$BATS_TEST_TMPDIR"
  assert_output "$BATS_TEST_TMPDIR/d1"$'\n0027'
}

@test "each new takes the umask of its moment: after umask changes, and in a subshell that changed it" {
  # (the jobs end before the subshell forks: under ASan a fork while a worker allocates can hang the child)
  run -0 bgsh 'umask 027; bgjob new -f run sh -c umask; umask 077; bgjob new -f run sh -c umask; bgjob wait
    ( umask 002; bgjob new -v j -f run sh -c umask; bgjob wait "$j"; bgjob result "$j" )
    umask 022; bgjob new -f run sh -c umask; bgjob wait; bgjob result 0; bgjob result 1; bgjob result 2'
  assert_output $'0002\n0027\n0077\n0022'
}

# bgjob knows the umask and the directory without looking at every `new`: it
# wraps the builtins that change them (umask, cd, pushd, popd).  Every way of
# running those builtins reaches the wrapper, and unloading puts them back.
@test "umask and directory of each new follow builtin and command umask, cd, pushd, popd, cd . into a re-created directory" {
  mkdir -p "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
  run -0 bgsh 'cd "$1"; J() { bgjob new -f run sh -c "umask; pwd -P" && bgjob wait "$BGJOB_LAST" && bgjob result "$BGJOB_LAST"; }
    umask 022; cd a; J; builtin umask 027; J; command umask 077; J
    pushd ../b > /dev/null; J; popd > /dev/null; J; builtin cd ../b; J
    rm -rf "$1/b" && mkdir "$1/b" && chmod 755 "$1/b"; cd .; J' "$BATS_TEST_TMPDIR"
  assert_output "0022
$BATS_TEST_TMPDIR/a
0027
$BATS_TEST_TMPDIR/a
0077
$BATS_TEST_TMPDIR/a
0077
$BATS_TEST_TMPDIR/b
0077
$BATS_TEST_TMPDIR/a
0077
$BATS_TEST_TMPDIR/b
0077
$BATS_TEST_TMPDIR/b"
}

@test "after enable -d bgjob the umask, cd, pushd and popd builtins work as before; a new enable watches them again" {
  mkdir -p "$BATS_TEST_TMPDIR/a"
  run -0 bgsh 'cd "$1"; bgjob new -f run true; bgjob wait; enable -d bgjob
    umask 077; umask; cd a; pwd; pushd / > /dev/null; popd > /dev/null; pwd; type -t umask cd
    enable -f "$BGJOB_SO" bgjob || exit 99
    umask 027; bgjob new -v j -f run sh -c "umask; pwd"; bgjob wait "$j"; bgjob result "$j"' "$BATS_TEST_TMPDIR"
  assert_output "0077
$BATS_TEST_TMPDIR/a
$BATS_TEST_TMPDIR/a
builtin
builtin
0027
$BATS_TEST_TMPDIR/a"
}

@test "a ulimit in the shell after the spawner started reaches the next commands (lowered, then raised again)" {
  # (the soft limit of open files: any user may lower it and raise it again up to the hard one)
  run -0 bgsh 'J() { bgjob new -f run bash -c "ulimit -Sn" && bgjob wait "$BGJOB_LAST" && bgjob result "$BGJOB_LAST"; }
    J; ulimit -S -n 200; J; ulimit -S -n 300; J'
  assert_output "$(ulimit -Sn)
200
300"
}

@test "a descriptor limit too low to start a command makes that job Dead; raised again, the next commands start" {
  run -0 bgsh 'bgjob new -f run true; bgjob wait
    ulimit -S -n 5; bgjob new -f run bash -c "ulimit -Sn"; bgjob wait "$BGJOB_LAST"; echo "low=$?"
    ulimit -S -n 300; bgjob new -f run bash -c "ulimit -Sn"; bgjob wait "$BGJOB_LAST"; echo "raised=$?"; bgjob result "$BGJOB_LAST"'
  assert_output $'low=1\nraised=0\n300'
}

@test "stdin is /dev/null and the command has exactly descriptors 0, 1 and 2 open" {
  run -0 bgsh 'exec 5>/dev/null 7</dev/null 12>&1
    bgjob new -f run ls /proc/self/fd; bgjob new -f run readlink /proc/self/fd/0; bgjob new -f run cat
    bgjob wait; bgjob result 0 | tr "\n" " "; echo; bgjob result 1; echo "[$(bgjob result 2)]"'
  # ls's own directory descriptor is the 3
  assert_output $'0 1 2 3 \n/dev/null\n[]'
}

@test "the command runs in a session of its own, without a terminal, with default signal dispositions and an empty mask" {
  run -0 bgsh 'trap "" INT QUIT USR1 PIPE; trap "echo hup" HUP
    bgjob new -f run sh -c '\''read -r a b c d e f g rest < /proc/self/stat; echo "$a $e $f $g"'\''
    bgjob new -f run grep -E "^Sig(Blk|Ign):" /proc/self/status
    bgjob wait; read -r pid pgrp sid tty <<<"$(bgjob result 0)"
    [[ $pid == "$pgrp" && $pid == "$sid" && $tty == 0 ]] && echo own-session; bgjob result 1'
  assert_output $'own-session\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000'
}

@test "a non-zero exit makes the job Dead with stderr and the status in the traceback, and show says so" {
  run -0 bgsh "$H"'; bgjob new -f run sh -c "echo out; echo e1 >&2; echo e2 >&2; exit 3"; bgjob wait 0; echo "rc=$?"
    bgjob traceback 0; bgjob result 0 2>/dev/null || echo no-result
    echo "exit=$(shown 0 exit) signal=[$(shown 0 signal)] pid=[$(shown 0 pid)] stdout=$(shown 0 stdout)"; shown 0 stderr'
  assert_output $'rc=3\nTraceback for: <BackgroundJob #0: run sh -c echo\\ out\\;\\ echo\\ e1\\ \\>\\&2\\;\\ echo\\ e2\\ \\>\\&2\\;\\ exit\\ 3>\ne1\ne2\nsh: exited with status 3\nno-result\nexit=3 signal=[] pid=[] stdout=out\ne1\ne2'
}

@test "the traceback keeps the last 50 lines of stderr" {
  run -0 bgsh 'bgjob new -f run sh -c "seq 1 120 >&2; exit 1"; bgjob wait; bgjob traceback 0 | sed 1d'
  assert_output "$(seq 71 120; echo 'sh: exited with status 1')"
}

@test "death by a signal makes the job Dead: killed by signal SIGNAME, exit empty" {
  run -0 bgsh "$H"'; bgjob new -f run sh -c "kill -USR1 \$\$"; bgjob wait
    bgjob traceback 0 | sed 1d; echo "exit=[$(shown 0 exit)] signal=$(shown 0 signal)"'
  assert_output $'sh: killed by signal SIGUSR1\nexit=[] signal=SIGUSR1'
}

@test "new -t: a command past its time limit is terminated and the traceback says timed out" {
  # 143 (SIGTERM) once the command runs; 1 if the limit came before it started (a loaded machine)
  run -0 bgsh 'bgjob new -t 0.2 -f run sleep 100; bgjob wait 0; rc=$?; bgjob show -v S 0
    [[ $rc == 143 && ${S[signal]} == SIGTERM || $rc == 1 && -z ${S[signal]} ]] && echo rc-ok; bgjob traceback 0 | sed 1d'
  assert_output $'rc-ok\nsleep: timed out after 0.2 seconds'
}

@test "show of a running command gives its pid and its output so far" {
  run -0 bgsh "$H"'; bgjob new -f run sh -c '\''echo partial; echo perr >&2; cat "$1" >/dev/null; echo more'\'' sh "$FIFO"
    await eval '\''[[ $(shown 0 stdout) == partial* && $(shown 0 stderr) == perr* ]]'\''
    pid=$(shown 0 pid); kill -0 "$pid" && echo "alive state=$(shown 0 state)"
    echo go > "$FIFO"; bgjob wait 0; echo "pid=[$(shown 0 pid)] stdout=$(shown 0 stdout | paste -sd,)"; bgjob result 0'
  assert_output $'alive state=Running\npid=[] stdout=partial,more\npartial\nmore'
}

@test "output past BGJOB_MAX_OUTPUT kills the command and the traceback names the variable" {
  run -0 bgsh 'BGJOB_MAX_OUTPUT=1000 bgjob new -f run yes; BGJOB_MAX_OUTPUT=500 bgjob new -f run sh -c "yes >&2"
    BGJOB_MAX_OUTPUT=100 bgjob new -f run printf %0100d 0
    bgjob wait 0 1; echo "rc=$?"; bgjob traceback 0 | tail -1; bgjob traceback 1 | tail -1; bgjob wait 2 && bgjob result 2 | wc -c'
  assert_output $'rc=143\nyes: output passed BGJOB_MAX_OUTPUT (1000 bytes); killed\nsh: output passed BGJOB_MAX_OUTPUT (500 bytes); killed\n101'
}

@test "an unusable BGJOB_MAX_OUTPUT or BGJOB_KILL_GRACE is named on stderr once per value, and the default used" {
  run -0 --separate-stderr bgsh 'for v in abc 0 -5 99999999999999999999 2147483648 abc; do BGJOB_MAX_OUTPUT=$v bgjob new -f run printf %0100d 0; done
    for v in abc -5 1e99 abc; do BGJOB_KILL_GRACE=$v bgjob new -f run true; done
    BGJOB_MAX_OUTPUT=2147483647 BGJOB_KILL_GRACE=0 bgjob new -f run true; BGJOB_MAX_OUTPUT= BGJOB_KILL_GRACE= bgjob new -f run true
    bgjob wait; echo "rc=$?"'
  assert_output 'rc=0'
  assert_equal "$(sed 's/^bgsh: line [0-9]*: //' <<<"$stderr")" "bgjob: warning: BGJOB_MAX_OUTPUT=abc: not a whole number of bytes from 1 to 2147483647; using 67108864
bgjob: warning: BGJOB_MAX_OUTPUT=0: not a whole number of bytes from 1 to 2147483647; using 67108864
bgjob: warning: BGJOB_MAX_OUTPUT=-5: not a whole number of bytes from 1 to 2147483647; using 67108864
bgjob: warning: BGJOB_MAX_OUTPUT=99999999999999999999: not a whole number of bytes from 1 to 2147483647; using 67108864
bgjob: warning: BGJOB_MAX_OUTPUT=2147483648: not a whole number of bytes from 1 to 2147483647; using 67108864
bgjob: warning: BGJOB_KILL_GRACE=abc: not a number of seconds from 0 to 1e9; using 2
bgjob: warning: BGJOB_KILL_GRACE=-5: not a number of seconds from 0 to 1e9; using 2
bgjob: warning: BGJOB_KILL_GRACE=1e99: not a number of seconds from 0 to 1e9; using 2"
}

@test "kill terminates the command's whole process group" {
  run -0 bgsh "$H"'; bgjob new -f run sh -c '\''sleep 100 & echo $!; exec sleep 100'\''
    await eval '\''[[ $(shown 0 stdout) && $(shown 0 pid) ]]'\''; inner=$(shown 0 stdout); outer=$(shown 0 pid)
    bgjob kill 0; bgjob wait 0; echo "rc=$?"; bgjob traceback 0 | sed 1d
    gone() { [[ ! -e /proc/$inner && ! -e /proc/$outer ]]; }; await gone; echo both-gone'
  assert_output $'rc=143\nsh: killed by bgjob kill (SIGTERM)\nboth-gone'
}

@test "a command that ignores SIGTERM gets SIGKILL after BGJOB_KILL_GRACE" {
  run -0 bgsh "$H"'; BGJOB_KILL_GRACE=0.2 bgjob new -f run sh -c '\''trap "" TERM; echo ready; while :; do :; done'\''
    await eval '\''[[ $(shown 0 stdout) ]]'\''; bgjob kill 0; bgjob wait 0; bgjob traceback 0 | sed 1d'
  assert_output 'sh: killed by bgjob kill (SIGKILL)'
}

@test "a killed command that exits by itself says so in the traceback" {
  run -0 bgsh "$H"'; bgjob new -f run sh -c '\''trap "exit 0" TERM; echo ready; while :; do sleep 1; done'\''
    await eval '\''[[ $(shown 0 stdout) ]]'\''; bgjob kill 0; bgjob wait 0; echo "rc=$?"; bgjob traceback 0 | tail -1'
  assert_output $'rc=1\nsh: exited with status 0 after bgjob kill'
}

@test "at exit the shell waits for a non-daemon command" {
  run -0 bgsh 'bgjob new -f run sh -c '\''sleep 0.3; echo done > "$1"'\'' sh "$1.out"; exit 0' "$BATS_TEST_TMPDIR/x"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/x.out")" done
}

@test "at exit a daemon command is terminated" {
  run -0 bgsh "$H"'; bgjob new -d -f run sh -c '\''echo $$; exec sleep 100'\''
    await eval '\''[[ $(shown 0 stdout) ]]'\''; shown 0 stdout; exit 0'
  pid=$output
  n=0; while [[ -e /proc/$pid ]]; do (( ++n < 300 )) || fail "daemon command $pid still runs"; sleep 0.01; done
}

@test "when the shell is killed with SIGKILL its commands are terminated" {
  run -137 bgsh "$H"'; bgjob new -f run sh -c '\''sleep 200 & echo $!; exec sleep 100'\''
    await eval '\''[[ $(shown 0 stdout) && $(shown 0 pid) ]]'\''; echo "$(shown 0 pid) $(shown 0 stdout)"; kill -9 $$'
  read -r outer inner <<<"$output"
  [[ $outer && $inner ]] || fail "$output"
  n=0; while [[ -e /proc/$outer || -e /proc/$inner ]]; do (( ++n < 300 )) || fail "commands still run"; sleep 0.01; done
}

@test "bash never sees the commands: jobs, \$!, wait -n and a CHLD trap are untouched" {
  run -0 --separate-stderr bgsh 'trap "echo CHLD" CHLD
    for i in 1 2 3; do bgjob new -f run true; done; bgjob new -f run sh -c "exit 4"; bgjob wait
    jobs; echo "bang=[$!]"; wait -n; echo "wait-n=$?"; wait; echo "wait=$?"; bgjob status -v S; echo "${S[2]} ${S[3]}"'
  assert_output $'bang=[]\nwait-n=127\nwait=0\nCompleted Dead'
}

@test "wait -n reports bash's own job, not a command; \$! keeps bash's last & job; CHLD traps count bash's children only" {
  run -0 --separate-stderr bgsh 'n=0; trap "n=\$((n + 1))" CHLD
    exec 8<>"$FIFO"; ( read -r x < "$FIFO"; exit 5 ) & p=$!
    bgjob new -f run sh -c "exit 7"; bgjob new -f run true; bgjob wait
    echo go >&8; wait -n; echo "wait-n=$?"; wait -n; echo "again=$?"; [[ $! == "$p" ]] && echo bang-kept; echo "chld=$n"'
  assert_output $'wait-n=5\nagain=127\nbang-kept\nchld=1'
}

@test "no zombie and no descriptor is left behind" {
  # The shell lists its own descriptors with a glob, in itself (a $(...)
  # would also show the substitution's pipe, closed only after the fork).
  run -0 bgsh 'fds() { local f; FDS=; for f in /proc/$$/fd/*; do FDS+="${f##*/} "; done; }
    bgjob new -f run true; bgjob wait
    fds; before=$FDS
    for i in {1..40}; do bgjob new -f run sh -c "echo \$\$; echo x >&2; exit $((i % 2))"; done
    bgjob new -f run no-such-cmd-zz 2>/dev/null; bgjob new -t 0.05 -f run sleep 10; bgjob wait
    fds; after=$FDS
    [[ $before == "$after" ]] && echo same-fds || echo "before=$before after=$after"
    z=0; for s in /proc/[0-9]*/stat; do { read -r pid comm st ppid rest < "$s"; } 2>/dev/null || continue
      [[ $st == Z && ( $ppid == $$ ) ]] && z=$((z + 1)); done; echo "zombies=$z"
    n=0; for i in {1..40}; do p=$(bgjob show -v S $i; echo "${S[stdout]}"); [[ -e /proc/$p ]] && n=$((n + 1)); done; echo "alive=$n"'
  assert_output $'same-fds\nzombies=0\nalive=0'
}

@test "a subshell sees the parent's running command as the parent's, and runs commands of its own" {
  # (the fork waits until the command runs: under ASan a fork while a worker allocates can deadlock the child)
  run -0 --separate-stderr bgsh "$H"'; bgjob new -f run sh -c '\''cat "$1" >/dev/null; echo parent'\'' sh "$FIFO"
    await eval '\''[[ $(shown 0 pid) ]]'\''
    ( bgjob status; bgjob wait 0; echo "wait=$?"; bgjob new -f run echo child; bgjob wait 1; bgjob result 1 )
    x=$(bgjob new -f run echo in-comsub; bgjob wait 1 && bgjob result 1); echo "x=$x"
    echo go > "$FIFO"; bgjob wait 0; bgjob result 0; bgjob status -v S; echo "${S[0]} ${S[1]-none}"'
  local cmd='run sh -c cat\ \"\$1\"\ \>/dev/null\;\ echo\ parent sh '"$FIFO"
  (( ${#cmd} > 72 )) && cmd=${cmd:0:69}...
  assert_output "Running jobs:
0 : $cmd"$'\n\nwait=1\nchild\nx=in-comsub\nparent\nCompleted none'
}

@test "a command started from a pipeline element and from a subshell of a subshell works" {
  run -0 --separate-stderr bgsh 'bgjob new -f run echo top; bgjob wait
    echo | { bgjob new -f run echo piped; bgjob wait 1; bgjob result 1; }
    ( ( bgjob new -f run echo deep; bgjob wait 1; bgjob result 1 ) )
    bgjob new -f run echo again; bgjob wait 1; bgjob result 1'
  assert_output $'piped\ndeep\nagain'
}

@test "commands count against BGJOB_MAX_RUNNING" {
  run -0 bgsh "$H"'; BGJOB_MAX_RUNNING=2
    bgjob new -f run sleep 100; bgjob new -f run sleep 100; bgjob new -f run echo third
    await eval '\''[[ $(shown 0 state) == Running && $(shown 1 state) == Running ]]'\''
    shown 2 state; echo
    bgjob kill 0 1; bgjob wait 2; bgjob result 2'
  assert_output $'Queued\nthird'
}

@test "the spawner keeps no copy of a big shell's memory" {
  run -0 bgsh 'big=( {1..400000} ); bgjob new -f run echo hi; bgjob wait; bgjob result 0
    kb() { local k v u; while read -r k v u; do [[ $k == VmRSS: ]] && echo "$v"; done < "$1/status"; }
    # the spawner is not the shell'"'"'s child: it is the newest bgjob-spawner in the shell'"'"'s process group
    # (read, not $(< ...): each command substitution would fork this big shell once per process)
    read -r -a me < /proc/$$/stat; sp=; newest=0
    for p in /proc/[0-9]*; do
      { read -r c < "$p/comm"; } 2>/dev/null && [[ $c == bgjob-spawner ]] || continue
      { read -r -a f < "$p/stat"; } 2>/dev/null || continue
      [[ ${f[4]} == "${me[4]}" ]] && (( f[21] >= newest )) && { sp=$p; newest=${f[21]}; }
    done
    [[ $sp ]] || { echo "no spawner"; exit 1; }
    s=$(kb "$sp"); b=$(kb /proc/$$); (( b > 30000 && s * 5 < b )) && echo small || echo "spawner $s kB, shell $b kB"'
  assert_output $'hi\nsmall'
}

@test "the spawner is not a child of the shell, so even after exec no zombie is left" {
  run -0 bgsh 'bgjob new -f run true; bgjob wait
    read -r -a me < /proc/$$/stat; sp=; newest=0
    for p in /proc/[0-9]*; do { read -r -a f < "$p/stat"; } 2>/dev/null || continue
      [[ ${f[3]} == $$ ]] && echo "child ${f[1]}"
      [[ ${f[1]} == "(bgjob-spawner)" && ${f[4]} == "${me[4]}" ]] && (( f[21] >= newest )) && { sp=${f[0]}; newest=${f[21]}; }
    done
    [[ $sp ]] || exit 1
    # after exec the spawner sees its socket close and exits
    exec bash --norc -c '\''n=0; while { read -r -a f < /proc/$1/stat; } 2>/dev/null && [[ ${f[2]} != Z ]]; do (( ++n < 500 )) || exit 1; sleep 0.01; done
      for p in /proc/[0-9]*; do { read -r -a f < "$p/stat"; } 2>/dev/null || continue
        [[ ${f[3]} == $$ && ${f[2]} == Z ]] && echo "zombie ${f[1]}"; done; echo done'\'' x "$sp"'
  assert_output 'done'
}
