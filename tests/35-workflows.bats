#!/usr/bin/env bats
# 35-workflows: dependencies (new -a / -A, the Blocked state, failure down a
# chain, kill and remove), retries (new -r / -R: attempts, traceback, kill
# while waiting, -t per attempt), groups (new -g, `group -j', status/wait/kill
# -g), halt policies (`group -h'), and what wait, handlers and completion make
# of them.  Real commands (run), arithmetic and callback jobs.
#
# A job that must stay running reads a FIFO (`cat "$GATE"') until the test
# opens it (`: > "$GATE"'); nothing waits for a time to pass.

load helper

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'
# st ID: the job's state; field ID KEY: one field of `show'.
FNS='st() { local -A j; bgjob show -v j "$1"; echo "${j[state]}"; }
field() { local -A j; bgjob show -v j "$1"; printf "%s\n" "${j[$2]}"; }
# The waits poll without a subshell (get: the field in REPLY): under ASan (gcc 12), a fork while a
# worker thread is starting can hang the child.
get() { local -A j; bgjob show -v j "$1"; REPLY=${j[$2]}; }
# until_field ID KEY VALUE: waits (event by event) until the field has that value.
until_field() { until get "$1" "$2"; [[ $REPLY == "$3" ]]; do bgjob wait -q -t 0.05 "$1"; done; }
# until_started ID...: waits until each `run` job has its command running (its pid is known).
until_started() { local id; for id; do until get "$id" pid; [[ $REPLY ]]; do bgjob wait -q -t 0.05 "$id"; done; done; }'

setup() {
  GATE=$BATS_TEST_TMPDIR/gate
  mkfifo "$GATE"
  export GATE
}

# ---- dependencies ----

@test "-a: a chain runs in order once each job it needs has completed; Blocked jobs have their own status section" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v a -f run cat "$GATE"
    bgjob new -v b -a $a -f run echo verified
    bgjob new -v c -a $b -- 6*7
    bgjob status
    get $b state; s=$REPLY; get $b waiting_for; w=$REPLY; get $b after   # no fork: job 0 is starting
    echo "b: $s waits for $w, after $REPLY"
    bgjob wait -t 0 $c; echo "wait -t 0: $?"
    : > "$GATE"
    bgjob wait; echo "rc=$?"
    bgjob result $b; bgjob result $c; echo "c: $(st $c) waits for [$(field $c waiting_for)]"'
  assert_output $'Blocked jobs:\n1 : run echo verified\n2 : 6*7\n\nRunning jobs:\n0 : run cat '"$GATE"$'\n\nb: Blocked waits for 0, after 0\nwait -t 0: 124\nrc=0\nverified\n42\nc: Completed waits for []'
}

@test "-a on a job that ends Dead fails the chain at once, for run, arithmetic and callback jobs; -A runs anyway" {
  run -0 --separate-stderr bgsh "$LOAD; $FNS"'
    for head in "-f run false" "-- 1/0" "-f fail oops"; do
      bgjob new -v h $head
      bgjob new -v x -a $h -- 1
      bgjob new -v y -a $x -f run echo never
      bgjob new -v z -A $y -- 5
      bgjob wait $z
      echo "$(st $h) $(st $x) $(st $y) $(st $z) | $(field $x error) | $(field $y error) | $(bgjob result $z)"
    done'
  assert_output - <<EOF
Dead Dead Dead Completed | dependency 0 failed | dependency 1 failed | 5
Dead Dead Dead Completed | dependency 4 failed | dependency 5 failed | 5
Dead Dead Dead Completed | dependency 8 failed | dependency 9 failed | 5
EOF
}

@test "-a and -A take lists and may be repeated and mixed; a job added after its dependency died ends Dead at once" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new 1; bgjob new 2; bgjob new 1/0; bgjob wait
    bgjob new -v m -a 0,1 -A 2 -a 1 -- 9
    bgjob wait $m; echo "$(st $m) after=$(field $m after) after_any=$(field $m after_any)"
    bgjob new -v late -a 2 -- 9; echo "$(st $late): $(field $late error)"'
  assert_output $'Completed after=0 1 1 after_any=2\nDead: dependency 2 failed'
}

@test "-a FIRST-LAST names every job of the range: the job waits for all of them, a Dead one in it fails it; bad ranges are usage errors" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v top -f run cat "$GATE"
    for i in 1 2 3 4 5; do bgjob new -a "$top" -- i; done
    bgjob new -v all -a 1-5 -- 99
    bgjob new -v mixed -A 0,2-3 -a 4-4 -- 98
    echo "$(st $all) waiting_for=$(field $all waiting_for)"
    : > "$GATE"; bgjob wait $all $mixed
    echo "$(st $all) after=$(field $all after) mixed=$(st $mixed) after_any=$(field $mixed after_any) after=$(field $mixed after)"
    bgjob new -v bad -- 1/0; bgjob new -v ok -- 1; bgjob wait
    bgjob new -v doomed -a "$bad-$ok" -- 1; bgjob wait $doomed
    echo "$(st $doomed): $(field $doomed error)"
    n=$BGJOB_LAST
    bgjob new -a 5-3 -- 1; echo "rc=$?"
    bgjob new -a 3- -- 1; echo "rc=$?"
    bgjob new -a "3-$((n + 1))" -- 1; echo "rc=$?"
    bgjob new -a 1000-9223372036854775807 -- 1; echo "rc=$?"
    bgjob status -v S; echo "jobs: ${#S[@]} last=$BGJOB_LAST"'
  assert_output $'Blocked waiting_for=1 2 3 4 5\nCompleted after=1 2 3 4 5 mixed=Completed after_any=0 2 3 after=4\nDead: dependency 8 failed\nrc=2\nrc=2\nrc=2\nrc=2\njobs: 11 last=10'
  [[ $stderr == *"-a: 5-3: a range goes from the lower job number to the higher"* ]]
  [[ $stderr == *"-a: 3-: not a valid job number or range"* ]]
  [[ $stderr == *"-a: job 11: no such job"* ]]
  [[ $stderr == *"-a: job 1000: no such job"* ]]
}

@test "a job that names a running job several times (-a 0,0,0 -A 0) runs once, after it, as do the jobs beside it" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v a -f run cat "$GATE"
    for i in 1 2 3; do bgjob new -a "$a,$a,$a" -A "$a" -a "$a" -- "x$i = $i"; done
    bgjob new -v last -a "$a" -- "y = 7"
    # no command substitution here: job 0 is starting (a fork beside it can hang under ASan, above)
    s=; for i in 1 2 3 $last; do get $i state; s+="$REPLY "; done; echo "${s% }"
    : > "$GATE"; bgjob wait; echo "wait=$?"
    for i in 1 2 3 $last; do printf "%s " "$(st $i)=$(bgjob result $i)"; done; echo
    echo "after=$(field 1 after) after_any=$(field 1 after_any)"'
  assert_output $'Blocked Blocked Blocked Blocked\nwait=0\nCompleted=1 Completed=2 Completed=3 Completed=7 \nafter=0 0 0 0 after_any=0'
}

@test "killing a Blocked job ends it at once and fails its -a dependents, killed; remove is refused while a Blocked job needs a job" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v a -f run cat "$GATE"
    bgjob new -v b -a $a -- 1
    bgjob new -v c -a $b -- 1
    bgjob new -v d -a $a -- 2
    bgjob remove $b; echo "remove blocked: $?"
    bgjob kill $b; echo "kill: $?"
    get $b state; sb=$REPLY; get $b error; eb=$REPLY; get $c state; sc=$REPLY; get $c error   # no fork: job 0 is starting
    echo "$sb: $eb / $sc: $REPLY"
    : > "$GATE"; bgjob wait $a
    bgjob remove $a; echo "remove needed: $?"
    bgjob wait $d; bgjob remove $a; echo "remove after: $?"'
  assert_output $'remove blocked: 1\nkill: 0\nDead: cancelled by bgjob kill before it started / Dead: dependency 1 killed\nremove needed: 0\nremove after: 1'
}

@test "a finished job that a Blocked job still needs is kept by remove and flush until it is not needed" {
  mkfifo "$GATE.2"
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v a -f run cat "$GATE"; bgjob new -v g -f run cat "$GATE.2"
    bgjob new -v b -a $a,$g -- 2
    : > "$GATE"; bgjob wait $a; echo "b: $(st $b) waits for $(field $b waiting_for)"
    bgjob remove $a; echo "remove: $?"
    bgjob flush -f; bgjob status -v S; echo "kept: ${S[$a]}"
    : > "$GATE.2"; bgjob wait $b; bgjob flush -f; bgjob status -v S; echo "left: ${#S[@]}"'
  assert_output $'b: Blocked waits for 1\nremove: 1\nNo jobs to flush.\nkept: Completed\nFlushing 3 Completed jobs.\nleft: 0'
  [[ $stderr == "bgsh: line "*": bgjob: job 0 is needed by a blocked job (see \`bgjob status')" ]]
}

@test "a job that had ended before the job that needs it was created is not held for it" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v a -- 1; bgjob wait $a; bgjob new -v b -a $a -f run cat "$GATE"
    bgjob remove $a; echo "remove: $?"; : > "$GATE"; bgjob wait $b; echo "b: $(st $b)"'
  assert_output $'remove: 0\nb: Completed'
}

@test "-a with an unknown job, a job number that is not one, or no list is a usage error and creates no job" {
  run -0 --separate-stderr bgsh 'bgjob new 1; bgjob wait
    bgjob new -a 7 -- 1; echo "rc=$?"
    bgjob new -a 0,x -- 1; echo "rc=$?"
    bgjob new -A , -- 1; echo "rc=$?"
    bgjob new -r -1 -- 1; echo "rc=$?"
    bgjob new -R soon -- 1; echo "rc=$?"
    bgjob new -g "a b" -- 1; echo "rc=$?"
    bgjob status -v S; echo "jobs: ${#S[@]}"'
  assert_output $'rc=2\nrc=2\nrc=2\nrc=2\nrc=2\nrc=2\njobs: 1'
  [[ $stderr == *"bgjob: -a: job 7: no such job"* ]]
  [[ $stderr == *"-a: x: not a valid job number"* ]]
  [[ $stderr == *"-A: ,: not a list of job numbers"* ]]
  [[ $stderr == *"-g: a b: not a group name"* ]]
}

@test "wait -n passes over Blocked jobs until they end; a handler runs when a Blocked job ends" {
  run -0 --separate-stderr bgsh "$FNS"'
    h() { echo "handler $1 $2"; }
    bgjob new -v a -f run cat "$GATE"
    bgjob new -v b -c h -a $a -f run false
    bgjob new -v c -c h -a $b -- 1
    bgjob new -v d -- 3
    bgjob wait -n -p w; echo "first: $w"
    : > "$GATE"
    bgjob wait -n -p w; echo "next: $w"
    bgjob wait; echo "rc=$?"'
  # Jobs 1 and 2 end right after job 0 (false, then its dependent): their
  # handlers may run in the wait -n that returns 0, before "next: 0" is
  # printed, or in the last wait.  Either is right; their order is not.
  assert_equal "${#lines[@]}" 5
  assert_line --index 0 'first: 3'
  assert_line --index 4 'rc=1'
  local mid="${lines[1]}|${lines[2]}|${lines[3]}"
  case $mid in
    'next: 0|handler 1 Dead|handler 2 Dead' | 'handler 1 Dead|next: 0|handler 2 Dead' | \
      'handler 1 Dead|handler 2 Dead|next: 0') ;;
    *) fail "next: 0 and the handlers of jobs 1 then 2 expected: $output" ;;
  esac
}

# ---- retries ----

@test "-r retries a failing command until it succeeds; show gives the attempt and each failed one" {
  run -0 --separate-stderr bgsh "$FNS"'
    f=$BATS_TEST_TMPDIR/n
    bgjob new -v j -r 5 -R 0.01 -f run sh -c '\''n=$(cat "$1" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$1"
      [ $n -ge 3 ] || { echo "try $n failed" >&2; exit 1; }; echo "done at $n"'\'' _ "$f"
    bgjob wait $j; echo "rc=$?"; bgjob result $j
    echo "attempt $(field $j attempt), retries left $(field $j retries_left)"; field $j attempts'
  assert_output - <<'EOF'
rc=0
done at 3
attempt 3, retries left 3
attempt 1: sh: exited with status 1
attempt 2: sh: exited with status 1

EOF
}

@test "a job that fails every attempt ends Dead after N+1 attempts; its traceback holds each attempt's last line" {
  run -0 --separate-stderr bgsh "$LOAD; $FNS"'
    bgjob new -v a -r 2 -R 0.01 -f run sh -c "echo bad >&2; exit 3"
    bgjob new -v b -r 1 -R 0.01 -f fail "disk on fire"
    bgjob wait; echo "rc=$?"
    bgjob traceback $a; bgjob traceback $b; echo "attempts: $(field $a attempt) $(field $b attempt)"'
  assert_output - <<'EOF'
rc=1
Traceback for: <BackgroundJob #0: run sh -c echo\ bad\ \>\&2\;\ exit\ 3>
attempt 1: sh: exited with status 3
attempt 2: sh: exited with status 3
bad
sh: exited with status 3
Traceback for: <BackgroundJob #1: fail disk\ on\ fire>
attempt 1: disk on fire
disk on fire
attempts: 3 2
EOF
}

@test "an arithmetic job retries on its own copy of the variables: assignments carry over between attempts" {
  run -0 --separate-stderr bgsh "$FNS"'
    n=0; bgjob new -v j -r 5 -R 0.01 -- "n+=1, n < 3 ? 1/0 : n"
    bgjob wait $j; bgjob result $j; echo "n=$n attempt=$(field $j attempt)"; field $j attempts'
  assert_output $'3\nn=0 attempt=3\nattempt 1: n+=1, n < 3 ? 1/0 : n: division by 0 (error token is "0 : n")\nattempt 2: n+=1, n < 3 ? 1/0 : n: division by 0 (error token is "0 : n")'
}

@test "-t applies to each attempt, and a timeout is retried" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v j -t 0.1 -r 1 -R 0.01 -f run cat "$GATE"
    bgjob wait $j; echo "rc=$? $(st $j) attempt $(field $j attempt)"
    field $j attempts | grep -c "^attempt 1: .*timed out after 0.1 seconds"; field $j error | tail -n1'
  assert_output $'rc=143 Dead attempt 2\n1\ncat: timed out after 0.1 seconds'
}

@test "a kill while a job waits for its retry ends it at once and is never retried; it holds no running slot meanwhile" {
  run -0 --separate-stderr bgsh "$FNS"'
    f=$BATS_TEST_TMPDIR/runs
    bgjob new -v j -r 3 -R 1000 -f run sh -c '\''echo x >> "$1"; exit 1'\'' _ "$f"
    until_field $j attempt 2
    echo "$(st $j) attempt $(field $j attempt)"
    BGJOB_MAX_RUNNING=1 bgjob new -v k -- 5; bgjob wait $k; bgjob result $k
    bgjob kill $j; bgjob wait $j; echo "rc=$? $(st $j): $(field $j error)"
    wc -l < "$f"'
  assert_output $'Queued attempt 2\n5\nrc=1 Dead: cancelled by bgjob kill\n1'
}

@test "a kill of a running attempt is not retried" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob new -v j -r 5 -R 0.01 -f run cat "$GATE"
    until_started $j
    bgjob kill $j; bgjob wait $j; echo "$(st $j) attempt $(field $j attempt) [$(field $j attempts)]"'
  assert_output 'Dead attempt 1 []'
}

# ---- groups ----

@test "group -j limits how many of a group's jobs run at once; status, wait and kill take -g" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob group net -j 2
    for i in 1 2 3 4; do bgjob new -g net -f run cat "$GATE"; done
    bgjob new -g cpu -- 1
    until_started 0 1
    bgjob group net
    bgjob status -g net | head -n 3
    bgjob wait -t 0 -g net; echo "wait -t 0: $?"
    bgjob wait -g cpu; echo "cpu: $?"
    bgjob kill -g net; bgjob wait -g net; echo "net: $?"
    bgjob group'
  assert_output - <<EOF
net: limit 2, halt never; 2 running, 2 queued, 0 blocked, 0 completed, 0 dead
Queued jobs:
2 : run cat $GATE
3 : run cat $GATE
wait -t 0: 124
cpu: 0
net: 1
net: limit 2, halt never; 0 running, 0 queued, 0 blocked, 0 completed, 4 dead
cpu: limit none, halt never; 0 running, 0 queued, 0 blocked, 1 completed, 0 dead
EOF
}

@test "group takes its name before or after the options; a bad name, limit or policy is a usage error" {
  run -0 --separate-stderr bgsh '
    bgjob group -j 3 a; bgjob group b -h soon,fail=20%; bgjob group a -j 0; bgjob group
    bgjob group "x y"; echo "rc=$?"; bgjob group a -j x; echo "rc=$?"; bgjob group a -h later; echo "rc=$?"
    bgjob group -j 2; echo "rc=$?"; bgjob status -g nosuch; echo "rc=$?"'
  assert_output $'a: limit none, halt never; 0 running, 0 queued, 0 blocked, 0 completed, 0 dead\nb: limit none, halt soon,fail=20%; 0 running, 0 queued, 0 blocked, 0 completed, 0 dead\nrc=2\nrc=2\nrc=2\nrc=2\nrc=1'
}

# ---- halt policies ----

@test "halt now,fail=1: a test matrix stops at its first failure, running jobs killed, queued ones never started" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob group matrix -j 3 -h now,fail=1
    bgjob new -g matrix -f run cat "$GATE"
    bgjob new -g matrix -f run cat "$GATE"
    until_started 0 1
    bgjob new -g matrix -f run false
    bgjob new -g matrix -f run echo never
    bgjob new -g matrix -a 3 -f run echo never
    bgjob wait -g matrix; echo "rc=$?"
    for i in 0 1 2 3 4; do echo "$i $(st $i): $(field $i error | tail -n1)"; done
    bgjob group matrix'
  assert_output - <<'EOF'
rc=1
0 Dead: cat: halted: group matrix stopped its jobs (SIGTERM)
1 Dead: cat: halted: group matrix stopped its jobs (SIGTERM)
2 Dead: false: exited with status 1
3 Dead: halted: group matrix stopped starting jobs
4 Dead: halted: group matrix stopped starting jobs
matrix: limit 3, halt now,fail=1 (halted); 0 running, 0 queued, 0 blocked, 0 completed, 5 dead
EOF
}

@test "halt soon,fail=1 lets running jobs finish and starts no more; retries count as failures only at the last attempt" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob group soon -h soon,fail=1
    bgjob new -g soon -v run1 -f run cat "$GATE"
    until_started $run1
    bgjob new -g soon -v a -r 2 -R 0.01 -- 1/0
    bgjob wait $a; echo "a: $(st $a) attempt $(field $a attempt)"
    bgjob new -g soon -v late -- 1; echo "late: $(st $late): $(field $late error)"
    echo "run1: $(st $run1)"; : > "$GATE"; bgjob wait $run1; echo "run1: $(st $run1)"'
  assert_output $'a: Dead attempt 3\nlate: Dead: halted: group soon stopped starting jobs\nrun1: Running\nrun1: Completed'
}

@test "halt now,success=1 ends a race at its first winner" {
  run -0 --separate-stderr bgsh "$FNS"'
    bgjob group race -h now,success=1
    bgjob new -g race -v slow -f run cat "$GATE"
    until_started $slow
    bgjob new -g race -v fast -f run echo won
    bgjob wait -g race; echo "rc=$?"
    echo "$(st $fast) $(bgjob result $fast); $(st $slow): $(field $slow error | tail -n1)"'
  assert_output $'rc=1\nCompleted won; Dead: cat: halted: group race stopped its jobs (SIGTERM)'
}

# ---- completion ----

@test "completion knows the workflow options, the group subcommand and group names" {
  run -0 --separate-stderr env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile -i -c '
    enable -f "$BGJOB_SO" bgjob
    c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bgjob_complete; echo "${COMPREPLY[*]}"; }
    bgjob group web -j 2; bgjob new 1; bgjob wait
    c bgjob gr; c bgjob new -g ""; c bgjob new -a ""; c bgjob status -; c bgjob group web -; c bgjob group web -h now' </dev/null 3>&-
  assert_output $'group\nweb\n0\n-n -g -v --json --output\n-j -h\nnow,fail= now,success='
}
