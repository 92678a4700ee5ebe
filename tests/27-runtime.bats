#!/usr/bin/env bats
# 27-runtime: faults of the process runtime (issue 16), against the real bash
# and the real bgjob.so: the spawner killed or stopped (a stopped spawner
# while the shell forks is in 29-runtime-fork.bats), a plugin job after a
# command on the same worker and the shell's own descriptor table, descriptor
# and process limits, output past BGJOB_MAX_OUTPUT, a command that closes its
# stdout early or leaves a grandchild holding it, exec of the shell while
# commands run, and bash as PID 1.  Every wait is on an event (bgjob wait, a
# FIFO, a bounded poll of /proc), never a fixed sleep.

load runtime_helper

@test "spawner killed with SIGKILL: its running commands end Dead saying so, their processes are gone, the next run starts a new spawner" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -f run sh -c '\''echo $$; exec sleep 100'\''
    bgjob new -f run sh -c '\''sleep 100 & echo $!; exec sleep 100'\''
    await eval '\''[[ $(shown 0 stdout) && $(shown 1 stdout) && $(shown 0 pid) && $(shown 1 pid) ]]'\''
    p0=$(shown 0 pid); p1=$(shown 1 pid); g1=$(shown 1 stdout)
    sp=$(ppid_of "$p0")
    [[ $(ppid_of "$p1") == "$sp" && $(< "/proc/$sp/comm") == bgjob-spawner ]] && echo spawner-found
    kill -KILL "$sp"
    bgjob wait 0 1; echo "rc=$?"
    for j in 0 1; do
      echo "$j: $(shown $j state) exit=[$(shown $j exit)] signal=[$(shown $j signal)]"
      bgjob traceback $j | sed 1d | sed "s/(pid $sp)/(pid SP)/"
    done
    gone() { ! alive "$p0" && ! alive "$p1" && ! alive "$g1"; }; await gone; echo all-gone
    bgjob new -f run sh -c '\''echo $PPID'\''; bgjob wait 2; echo "next=$?"; np=$(bgjob result 2)
    [[ $np != "$sp" && $(< "/proc/$np/comm") == bgjob-spawner ]] && echo new-spawner'
  assert_output 'spawner-found
rc=1
0: Dead exit=[] signal=[]
sh: the spawner (pid SP) died; the command was killed
1: Dead exit=[] signal=[]
sh: the spawner (pid SP) died; the command was killed
all-gone
next=0
new-spawner'
  refute_output --partial 'killed by signal'
}

@test "spawner killed while requests wait unread in its socket: every job ends, none hangs, and the next run works" {
  # The spawner is stopped when the requests are sent, so it never reads
  # them: a job whose request had reached the socket fails (the I/O thread
  # cannot know whether it ran), one still queued goes to the next spawner.
  # Four rounds, each with a new spawner.
  run -0 --separate-stderr bgsh "$H"'
    n=0 first=0
    for round in 1 2 3 4; do
      bgjob new -v h -f run sh -c '\''echo $$; exec sleep 100'\''
      await eval '\''[[ $(shown $h stdout) && $(shown $h pid) ]]'\''
      sp=$(ppid_of "$(shown $h pid)")
      kill -STOP "$sp"
      await eval '\''{ read -r l < "/proc/$sp/stat"; } 2>/dev/null; l=${l##*) }; [[ ${l%% *} == T ]]'\''
      for i in {1..8}; do bgjob new -f run echo "u$i"; done
      kill -KILL "$sp"
      bgjob wait
      [[ $(bgjob traceback $h | sed 1d) == "sh: the spawner (pid $sp) died; the command was killed" ]] || echo "round $round: $(bgjob traceback $h)"
      for ((i = h + 1; i <= h + 8; i++)); do
        s=$(shown $i state) e=$(shown $i error)
        [[ $s == Completed && $(bgjob result $i) == "u$((i - h))" || $s == Dead && $e == "echo: cannot start: the spawner died" ]] && n=$((n + 1)) || echo "$i: $s: $e"
      done
    done; echo "ended=$n"
    bgjob new -f run echo next; bgjob wait $BGJOB_LAST; echo "next=$? $(bgjob result $BGJOB_LAST)"'
  assert_output 'ended=32
next=0 next'
}

@test "bgjob kill reaches a command while the spawner is stopped; the job ends as killed once the spawner runs again" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -f run sh -c '\''echo $$; exec sleep 100'\''
    await eval '\''[[ $(shown 0 stdout) && $(shown 0 pid) ]]'\''
    p=$(shown 0 pid); sp=$(ppid_of "$p")
    kill -STOP "$sp"
    await eval '\''{ read -r l < "/proc/$sp/stat"; } 2>/dev/null; l=${l##*) }; [[ ${l%% *} == T ]]'\''
    bgjob kill 0
    # the I/O thread signals the group itself: the command dies (a zombie until the spawner reaps it)
    await eval '\''! alive "$p"'\''; echo "command dead, job $(shown 0 state)"
    kill -CONT "$sp"; bgjob wait 0; echo "rc=$?"; bgjob traceback 0 | sed 1d'
  assert_output 'command dead, job Running
rc=143
sh: killed by bgjob kill (SIGTERM)'
}

@test "a plugin job after a command on the same worker finds descriptors 0-2 valid, and nothing bgjob opened is left in the shell's table" {
  local d=$BATS_TEST_TMPDIR
  mkdir "$d/a" "$d/b"
  echo shell-stdin > "$d/in"; echo shell-stdout > "$d/out"; echo shell-stderr > "$d/err"
  # The shell lists its own descriptors with a glob, in itself (a $(...)
  # would also show the substitution's pipe).
  run -0 --separate-stderr bgsh "$H"'
    fds() { local f; FDS=(); for f in /proc/$$/fd/*; do FDS+=("${f##*/}"); done; }
    exec 5>&1 < "$1/in" >> "$1/out" 2>> "$1/err"
    fds; before=" ${FDS[*]} "
    bgjob load "$EXAMPLE_SO" || exit 97
    # one worker at a time: each job runs on the worker the previous one left
    BGJOB_MAX_RUNNING=1
    bgjob new -f readfile /proc/thread-self/stat
    bgjob new -f run sh -c "echo cmd >&2; echo out"
    bgjob new -f capture sh -c "echo cap"
    for n in 0 1 2; do bgjob new -f readfile "/proc/thread-self/fd/$n"; done
    bgjob new -f readfile /proc/thread-self/stat
    bgjob wait; echo "wait=$?" >&5
    t0=$(bgjob result 0); t6=$(bgjob result 6)
    [[ ${t0%% *} == "${t6%% *}" ]] && echo same-worker >&5 || echo "workers ${t0%% *} ${t6%% *}" >&5
    for j in 1 2 3 4 5; do echo "$j: $(shown $j state) [$(bgjob result $j)]" >&5; done
    unset BGJOB_MAX_RUNNING
    for i in {1..40}; do cd "$1/a"; bgjob new -f run sh -c "echo \$\$; exit $((i % 2))"; cd "$1/b"; bgjob new -f capture echo "c$i"; done
    bgjob new -t 0.05 -f run sleep 10; bgjob new -f run no-such-cmd-zz 2>/dev/null
    bgjob wait
    fds; after=" ${FDS[*]} "
    extra=() ; for f in $after; do [[ $before == *" $f "* ]] || extra+=("$f"); done
    missing=(); for f in $before; do [[ $after == *" $f "* ]] || missing+=("$f"); done
    echo "missing=[${missing[*]}]" >&5
    efd=0 dirs=0 status=0 other=()
    for f in "${extra[@]}"; do
      t=$(readlink "/proc/$$/fd/$f")
      if (( f < 230 )); then other+=("$f->$t")
      elif [[ $t == "anon_inode:[eventfd]" ]]; then efd=$((efd + 1))
      elif [[ -d $t ]]; then dirs=$((dirs + 1))
      elif [[ $t == "/proc/$$/status" ]]; then status=$((status + 1))
      else other+=("$f->$t"); fi
    done
    echo "eventfds<=2: $(( efd <= 2 )) status<=1: $(( status <= 1 )) other=[${other[*]}]" >&5
    [[ $(< "$1/in") == shell-stdin && $(< "$1/out") == shell-stdout && $(< "$1/err") == shell-stderr ]] && echo shell-files-untouched >&5' "$d"
  # bgjob's 0-2 are /dev/null (empty); a sanitizer build (BGJOB_PRELOAD)
  # keeps copies of the shell's 0-2 as they were when the I/O thread started,
  # so that its reports reach stderr: still valid descriptors.
  local i0='' i1='' i2=''
  [[ ${BGJOB_PRELOAD-} ]] && { i0=shell-stdin i1=shell-stdout i2=shell-stderr; }
  assert_output "wait=0
same-worker
1: Completed [out]
2: Completed [cap]
3: Completed [$i0]
4: Completed [$i1]
5: Completed [$i2]
missing=[]
eventfds<=2: 1 status<=1: 1 other=[]
shell-files-untouched"
}

@test "ulimit -n 40 with 100 commands: every job ends, those that could not start are Dead with the errno text, the shell is intact" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -f run true; bgjob wait
    ulimit -n 40
    for i in {1..100}; do bgjob new -f run echo "n$i" || echo "new $i: $?"; done
    bgjob wait; echo "wait=$?"
    ok=0 dead=0 bad=0
    for i in {1..100}; do
      s=$(shown $i state)
      if [[ $s == Completed && $(bgjob result $i) == "n$i" ]]; then ok=$((ok + 1))
      elif [[ $s == Dead && $(shown $i error) == *": Too many open files" ]]; then dead=$((dead + 1))
      else bad=$((bad + 1)); echo "job $i: $s: $(shown $i error)"; fi
    done
    (( dead > 0 )) && echo some-dead
    echo "ended=$((ok + dead)) bad=$bad"
    /bin/true && echo true-ok; x=$(echo hi); echo "comsub $x"; ( : ) && echo subshell-ok
    bgjob new -f run echo later; bgjob wait $BGJOB_LAST; echo "later=$?"; bgjob result $BGJOB_LAST'
  assert_output 'wait=1
some-dead
ended=100 bad=0
true-ok
comsub hi
subshell-ok
later=0
later'
}

@test "ulimit -u too low (as an unprivileged user): jobs that cannot start end Dead with a clear message, the shell survives" {
  # RLIMIT_NPROC is not enforced for root: as root, run the shell under a
  # user id of its own (not nobody: other tests may run processes as nobody,
  # and the limit counts every task of the user), with a copy of bgjob.so it
  # can read.
  local d prefix=()
  d=$(mktemp -d /tmp/bgjob-nproc.XXXXXX)
  cp "$BGJOB_SO" "$d/bgjob.so"
  mkfifo "$d/fifo"
  chmod 755 "$d"; chmod 644 "$d/bgjob.so"; chmod 666 "$d/fifo"
  if (( EUID == 0 )); then
    local uid=$(( 40000 + ($$ + RANDOM) % 20000 ))
    prefix=(setpriv --reuid="$uid" --regid="$uid" --clear-groups)
  fi
  # The soft limit only (-S), so that the shell can lift it again afterwards.
  # Six tasks: the shell, the I/O thread, a worker or two, the spawner (made
  # through a clone that exits) and a command or two.
  run --separate-stderr bgjob_timeout "${prefix[@]}" env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} BGJOB_SO="$d/bgjob.so" bash --norc --noprofile -c '
    enable -f "$BGJOB_SO" bgjob || exit 99
    cd /
    (( UID != 0 )) && echo unprivileged
    ulimit -S -u 6
    for i in {0..19}; do bgjob new -f run sh -c "read -r x < \"\$1\" && echo \"u\$x\"" sh "$1" || echo "new $i: $?"; done
    exec 8<> "$1"; for i in {0..19}; do echo "$i" >&8; done
    bgjob wait; echo "wait=$?"
    ok=0 dead=0 bad=0
    for i in {0..19}; do
      bgjob show -v J $i
      if [[ ${J[state]} == Completed && ${J[result]} == u* ]]; then ok=$((ok + 1))
      elif [[ ${J[state]} == Dead && ${J[error]} =~ ": Resource temporarily unavailable"$|"could not start a worker thread"$ ]]; then dead=$((dead + 1))
      else bad=$((bad + 1)); echo "job $i: ${J[state]}: ${J[error]}"; fi
    done
    (( dead > 0 )) && echo some-dead
    echo "ended=$((ok + dead)) bad=$bad"
    echo alive
    ulimit -S -u unlimited
    /bin/true && echo true-ok; x=$(echo hi); echo "comsub $x"
    bgjob new -f run echo later; bgjob wait $BGJOB_LAST; echo "later=$?"; bgjob result $BGJOB_LAST' bgsh "$d/fifo" 3>&-
  rm -rf "$d"
  assert_success
  local want='wait=1
some-dead
ended=20 bad=0
alive
true-ok
comsub hi
later=0
later'
  (( EUID == 0 )) && want=$'unprivileged\n'$want
  assert_output "$want"
}

@test "output past BGJOB_MAX_OUTPUT: the job is Dead, the traceback names the variable, the command is gone" {
  run -0 --separate-stderr bgsh "$H"'
    BGJOB_MAX_OUTPUT=1000 bgjob new -f run yes
    await eval '\''[[ $(shown 0 pid) || $(shown 0 state) != Running ]]'\''; p=$(shown 0 pid)
    # (stdout keeps the first 1000 bytes, less the last newline, which $(...) would drop)
    bgjob wait 0; echo "rc=$?"; echo "$(shown 0 state) exit=[$(shown 0 exit)] signal=$(shown 0 signal) kept=$(shown 0 stdout | wc -c)"
    bgjob traceback 0 | sed 1d
    [[ -z $p ]] || await eval '\''! alive "$p"'\''; echo gone'
  assert_output 'rc=143
Dead exit=[] signal=SIGTERM kept=999
yes: output passed BGJOB_MAX_OUTPUT (1000 bytes); killed
gone'
}

@test "a command that closes its stdout early goes on running, and ends with its own status" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -f run sh -c '\''echo before; exec >&-; echo late >&2; read -r x < "$1"; exit 3'\'' sh "$FIFO"
    await eval '\''[[ $(shown 0 stderr) == late* ]]'\''
    echo "state=$(shown 0 state)"
    echo go > "$FIFO"; bgjob wait 0; echo "rc=$?"
    bgjob traceback 0 | sed 1d; echo "exit=$(shown 0 exit) stdout=$(shown 0 stdout)"
    bgjob new -f run sh -c '\''echo kept; exec >&- 2>&-; read -r x < "$1"; exit 0'\'' sh "$FIFO"
    await eval '\''[[ $(shown 1 stdout) == kept* ]]'\''
    echo go > "$FIFO"; bgjob wait 1; echo "rc=$?"; bgjob result 1'
  assert_output 'state=Running
rc=3
late
sh: exited with status 3
exit=3 stdout=before
rc=0
kept'
}

@test "a grandchild that keeps stdout open keeps the job Running after the leader exits; kill ends it and the grandchild is gone" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -f run sh -c '\''sleep 1000 & echo $!'\''
    await eval '\''[[ $(shown 0 stdout) && $(shown 0 pid) ]]'\''; leader=$(shown 0 pid); g=$(shown 0 stdout)
    await eval '\''! alive "$leader"'\''
    # a command started after the leader was reaped: its replies come after the leader'"'"'s exit
    bgjob new -f run true; bgjob wait 1
    echo "state=$(shown 0 state) grandchild-alive=$(alive "$g" && echo yes)"
    bgjob kill 0; bgjob wait 0; echo "rc=$?"; bgjob traceback 0 | sed 1d
    await eval '\''! alive "$g"'\''; echo grandchild-gone'
  assert_output 'state=Running grandchild-alive=yes
rc=1
sh: exited with status 0 after bgjob kill
grandchild-gone'
}

@test "exec of the shell while commands run: the commands are killed and no zombie or bgjob-spawner is left" {
  run -0 --separate-stderr bgsh "$H"'
    bgjob new -f run sh -c '\''echo $$; exec sleep 1000'\''
    bgjob new -d -f run sh -c '\''sleep 1000 & echo $!; exec sleep 1000'\''
    await eval '\''[[ $(shown 0 stdout) && $(shown 1 stdout) && $(shown 0 pid) && $(shown 1 pid) ]]'\''
    p0=$(shown 0 pid); p1=$(shown 1 pid); g1=$(shown 1 stdout); sp=$(ppid_of "$p0")
    [[ $(< "/proc/$sp/comm") == bgjob-spawner ]] && echo spawner-found
    exec bash --norc --noprofile -c "$(declare -f alive)"'\''
      read -r l < /proc/$$/stat; f=(${l##*) }); mypgrp=${f[2]}
      n=0; while alive "$1" || alive "$2" || alive "$3" || alive "$4"; do
        (( ++n > 3000 )) && { echo "still alive after 30 s:"; for p; do alive "$p" && echo "$p $(< /proc/$p/comm)"; done; exit 1; }
        sleep 0.01
      done
      echo all-gone
      for s in /proc/[0-9]*/stat; do { read -r l < "$s"; } 2>/dev/null || continue
        c=${l#* (}; c=${c%%) *}; l=${l##*) }; set -- $l
        [[ $1 == Z && $2 == $$ ]] && echo "zombie $c"
        [[ $c == bgjob-spawner && $1 != Z && $3 == "$mypgrp" ]] && echo "spawner left"
      done; echo checked'\'' x "$p0" "$p1" "$g1" "$sp"'
  assert_output 'spawner-found
all-gone
checked'
}

@test "bash as PID 1: commands run, and an exec after them leaves no zombie bgjob-spawner" {
  if (( EUID != 0 )); then
    # not skipped silently: this says why it does not run
    echo "# 27-runtime: bash as PID 1 needs root (unshare -p); not run as uid $EUID" >&3
    return 0
  fi
  run -0 --separate-stderr bgjob_timeout unshare -fp --mount-proc env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile -c '
    enable -f "$BGJOB_SO" bgjob || exit 99
    echo "pid=$$"
    bgjob new -f run echo one; bgjob wait 0; echo "rc=$?"; bgjob result 0
    bgjob new -f run sh -c "exit 3"; bgjob new -f run echo three; bgjob wait 1 2; echo "rc=$?"
    bgjob traceback 1 | sed 1d; bgjob result 2
    for i in {1..30}; do bgjob new -f run echo "p$i"; done; bgjob wait; echo "wait=$?"
    n=0; for i in {3..32}; do [[ $(bgjob result $i) == "p$((i - 2))" ]] && n=$((n + 1)); done; echo "results=$n"
    bgjob new -f run echo last; bgjob wait $BGJOB_LAST && bgjob result $BGJOB_LAST
    exec bash --norc --noprofile -c '\''echo "after exec pid=$$"
      for s in /proc/[0-9]*/stat; do { read -r l < "$s"; } 2>/dev/null || continue
        c=${l#* (}; c=${c%%) *}; l=${l##*) }
        [[ ${l%% *} == Z ]] && echo "zombie $c"
        [[ $c == bgjob-spawner ]] && echo "spawner left (${l%% *})"
      done; echo checked'\' 3>&-
  assert_output 'pid=1
rc=0
one
rc=0
sh: exited with status 3
three
wait=0
results=30
last
after exec pid=1
checked'
}
