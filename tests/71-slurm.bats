#!/usr/bin/env bats
# 71-slurm: the slurm plugin (plugins/slurm) against a real one-node Slurm
# cluster that setup_file starts on this machine (tests/slurm_cluster.sh:
# munged, slurmctld and slurmd with a generated slurm.conf, state and logs in
# a temporary directory) and teardown_file stops.  Needs root and Debian's
# slurmctld, slurmd, slurm-client and munge (`make deps'); without them every
# test is skipped with the reason.  Waits are for states (bounded loops),
# never for a fixed time.

load plugin_helper

SLURM_SO=$PLUGINS/slurm.so
export SLURM_SO
LOAD='bgjob load "$SLURM_SO" || exit 98'

setup_file() {
  if [ "$(id -u)" != 0 ]; then
    skip "the Slurm tests need root: they start munged, slurmctld and slurmd (CI runs them as root)"
  fi
  for p in slurmctld slurmd munged srun squeue scancel scontrol sinfo salloc; do
    command -v "$p" > /dev/null || [ -x "/usr/sbin/$p" ] ||
      skip "the Slurm tests need $p: make deps installs slurmctld slurmd slurm-client munge"
  done
  SLURM_DIR=$(mktemp -d /tmp/bgjob-slurm.XXXXXX)
  export SLURM_DIR
  "$BATS_TEST_DIRNAME/slurm_cluster.sh" start "$SLURM_DIR" > /dev/null 2>&3 || {
    "$BATS_TEST_DIRNAME/slurm_cluster.sh" stop "$SLURM_DIR"
    false
  }
  export SLURM_CONF=$SLURM_DIR/slurm.conf
}

teardown_file() {
  [ -n "${SLURM_DIR:-}" ] || return 0
  # no job of a test outlives it: cancel what is left, then stop the daemons
  scancel --full --user=root 2> /dev/null
  "$BATS_TEST_DIRNAME/slurm_cluster.sh" stop "$SLURM_DIR"
  rm -rf "$SLURM_DIR"
}

teardown() {
  [ -n "${SLURM_CONF:-}" ] && scancel --user=root 2> /dev/null
  # wait until Slurm has no job left for the next test (bounded)
  for _ in $(seq 300); do
    [ -z "$(squeue -h -o %i 2> /dev/null)" ] && break
    sleep 0.1
  done
}

# In a bgsh script: upto N CONDITION... retries CONDITION every 0.1 s, at most N times.
UPTO='upto() { local n=$1; shift; until "$@"; do ((n-- > 0)) || return 1; sleep 0.1; done; }
field() { local -A j; eval "j=$(bgjob show "$1")"; printf %s "${j[$2]}"; }'

@test "output and exit codes: result is stdout, traceback stderr and how it ended, wait returns the status" {
  run -0 bgsh "$LOAD"'
    bgjob new -f srun -- sh -c "echo hello; echo world; echo note >&2"
    bgjob new -f srun -- sh -c "echo partial; echo broken >&2; exit 3"
    bgjob new -f srun -N1 -- sh -c "kill -KILL \$\$"
    bgjob wait 0; echo "w0=$?"; bgjob wait 1; echo "w1=$?"; bgjob wait 2; echo "w2=$?"
    bgjob result 0
    bgjob traceback 1 | tail -n +2
    bgjob traceback 2 | tail -n 1
    eval "declare -A j=$(bgjob show 0)"
    echo "state=${j[state]} exit=${j[exit]} job=${j[slurm_job]} step=${j[slurm_step]} nodes=${j[nodes]}"
    [[ ${j[stderr]} == *note* ]] && echo "stderr kept"
    [[ ${j[stderr]} != *"launching StepId"* ]] && echo "no verbose lines"
    squeue -h -j "${j[slurm_job]}" | wc -l'
  host=$(hostname -s)
  assert_line 'w0=0'
  assert_line 'w1=3'
  assert_line 'w2=137'
  assert_line --index 3 'hello'
  assert_line --index 4 'world'
  assert_line 'broken'
  assert_line --regexp '^srun: error: .*task 0: Exited with exit code 3$'
  assert_line 'sh: exited with status 3'
  assert_line 'sh: killed by signal SIGKILL'
  assert_line --regexp "^state=Completed exit=0 job=[0-9]+ step=0 nodes=$host\$"
  assert_line 'stderr kept'
  assert_line 'no verbose lines'
  assert_line --index $((${#lines[@]} - 1)) '0'
}

@test "-c handlers run for srun jobs as for any job" {
  run -0 bgsh "$LOAD"'
    done_with() { echo "handler $1 $2"; }
    bgjob new -c done_with -f srun -- true
    bgjob new -c done_with -f srun -- false
    bgjob wait; echo "wait=$?"'
  assert_line 'handler 0 Completed'
  assert_line 'wait=1'
  assert_line 'handler 1 Dead'
}

@test "kill cancels in Slurm: the job leaves squeue within 2 s and scontrol says CANCELLED" {
  run -0 bgsh "$LOAD; $UPTO"'
    bgjob new -f srun -- sleep 100
    upto 600 eval "[[ \$(field 0 slurm_step) ]]" || { echo "no step"; exit 1; }
    id=$(field 0 slurm_job)
    [[ $(squeue -h -j $id -o %T) == RUNNING ]] && echo "running in slurm"
    start=$EPOCHREALTIME
    bgjob kill 0; bgjob wait 0; echo "wait=$?"
    upto 100 eval "[[ -z \$(squeue -h -j $id 2>/dev/null) ]]" && echo "left squeue"
    echo "seconds=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000000 ))"
    scontrol show job $id | grep -o "JobState=[A-Z]*"
    bgjob traceback 0 | tail -n 1
    field 0 state; echo'
  assert_line 'running in slurm'
  assert_line 'wait=143'
  assert_line 'left squeue'
  assert_line --regexp '^seconds=[01]$'
  assert_line 'JobState=CANCELLED'
  assert_line --regexp '^sleep: killed by bgjob kill \(scancel [0-9]+\)$'
  assert_line 'Dead'
}

@test "-t 1 on sleep 30: Dead after the time limit, cancelled in Slurm, with Slurm's time limit set" {
  run -0 bgsh "$LOAD; $UPTO"'
    start=$SECONDS
    bgjob new -t 1 -f srun -- sleep 30
    bgjob wait 0; echo "wait=$?"
    (( SECONDS - start < 30 )) && echo "before the end of sleep"
    id=$(field 0 slurm_job)
    upto 100 eval "[[ -z \$(squeue -h -j $id 2>/dev/null) ]]" && echo "left squeue"
    scontrol show job $id | grep -o -e "JobState=[A-Z]*" -e "TimeLimit=[0-9:]*"
    bgjob traceback 0 | tail -n 1'
  assert_line 'wait=143'
  assert_line 'before the end of sleep'
  assert_line 'left squeue'
  assert_line 'JobState=CANCELLED'
  assert_line 'TimeLimit=00:01:00'
  assert_line --regexp '^sleep: timed out after 1 seconds \(scancel [0-9]+\)$'
}

@test "a job pending in Slurm shows Queued with Slurm's reason, then Running and Completed" {
  cpus=$(sinfo -h -o %c)
  run -0 bgsh "$LOAD; $UPTO"'
    cpus=$1
    for ((i = 0; i < cpus; i++)); do bgjob new -f srun -- sleep 100; done
    running() { [[ $(squeue -h -t RUNNING -o %i | wc -l) == "$cpus" ]]; }
    upto 600 running || { echo "node not full"; squeue; exit 1; }
    bgjob new -v last -f srun -- echo finally
    upto 600 eval "[[ \$(field $last state) == Queued && \$(field $last slurm_reason) == Resources ]]" && echo "queued: Resources"
    field $last slurm_state; echo
    bgjob status | grep -A1 "^Queued jobs:"
    for ((i = 0; i < cpus; i++)); do bgjob kill $i; done
    bgjob wait $last; echo "wait=$?"
    bgjob result $last; field $last state; echo' "$cpus"
  assert_line 'queued: Resources'
  assert_line 'PENDING'
  assert_line 'Queued jobs:'
  assert_line --regexp '^[0-9]+ : srun echo finally$'
  assert_line 'wait=0'
  assert_line 'finally'
  assert_line 'Completed'
}

# 12 jobs in `make test' (more than the node's CPUs, so some wait in Slurm's
# queue); 50 with BGJOB_TEST_SIZE=full (`make check-full'): each job takes
# Slurm about half a second to schedule, and the larger count proves nothing
# more, only takes longer.
@test "many jobs through the node all complete with the right results" {
  local n=12
  [[ ${BGJOB_TEST_SIZE:-} == full ]] && n=50
  run -0 bgsh "$LOAD"'
    n=$1
    for ((i = 1; i <= n; i++)); do bgjob new -f srun -- sh -c "echo \$(( $i * $i ))"; done
    bgjob wait; echo "wait=$?"
    bad=0
    for ((i = 1; i <= n; i++)); do r=$(bgjob result $((i - 1))); [[ $r == $((i * i)) ]] || { echo "job $((i-1)): $r"; bad=1; }; done
    echo "bad=$bad"; bgjob status | grep -c " : srun "' "$n"
  assert_line 'wait=0'
  assert_line 'bad=0'
  assert_line "$n"
}

@test "inside salloc each job is a step of the allocation (--exact -n1 -c1); kill cancels only the step" {
  f=$BATS_TEST_TMPDIR/inside.sh
  cat > "$f" << 'SCRIPT'
enable -f "$BGJOB_SO" bgjob || exit 99
bgjob load "$SLURM_SO" || exit 98
upto() { local n=$1; shift; until "$@"; do ((n-- > 0)) || return 1; sleep 0.1; done; }
field() { local -A j; eval "j=$(bgjob show "$1")"; printf %s "${j[$2]}"; }
bgjob new -f srun -- sh -c 'echo "$SLURM_JOB_ID.$SLURM_STEP_ID $SLURM_NTASKS $SLURM_CPUS_PER_TASK"'
bgjob new -f srun -- sleep 100
bgjob wait 0; echo "wait0=$?"
read -r step ntasks cpt < <(bgjob result 0)
[[ $step == "$SLURM_JOB_ID.$(field 0 slurm_step)" && $(field 0 slurm_job) == "$SLURM_JOB_ID" ]] && echo "a step of $SLURM_JOB_ID"
echo "ntasks=$ntasks cpus_per_task=$cpt"
upto 600 eval '[[ $(field 1 slurm_step) ]]' || echo "no second step"
s=$(field 1 slurm_step)
bgjob kill 1; bgjob wait 1; echo "wait1=$?"
upto 100 eval '! squeue -h -s -o %i | grep -qx "$SLURM_JOB_ID.$s"' && echo "step $s gone"
[[ $(squeue -h -j "$SLURM_JOB_ID" -o %T) == RUNNING ]] && echo "allocation still running"
bgjob traceback 1 | tail -n 1
SCRIPT
  run -0 bgjob_timeout salloc -n2 env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile "$f"
  assert_line 'wait0=0'
  assert_line --regexp '^a step of [0-9]+$'
  assert_line 'ntasks=1 cpus_per_task=1'
  assert_line 'wait1=143'
  assert_line --regexp '^step [0-9]+ gone$'
  assert_line 'allocation still running'
  assert_line --regexp '^sleep: killed by bgjob kill \(scancel [0-9]+\.[0-9]+\)$'
}

@test "a job that Slurm cancels ends Dead with Slurm's reason" {
  run -0 bgsh "$LOAD; $UPTO"'
    bgjob new -f srun -- sleep 100
    upto 600 eval "[[ \$(field 0 slurm_step) ]]" || { echo "no step"; exit 1; }
    scancel "$(field 0 slurm_job)"
    bgjob wait 0; echo "wait=$?"
    field 0 state; echo
    bgjob traceback 0 | tail -n 1'
  assert_line 'Dead'
  # srun's own line (*** JOB|STEP ... CANCELLED AT ...), else scontrol's state
  assert_line --regexp '^sleep: ended by Slurm: ((JOB|STEP) [0-9.]+ ON .* CANCELLED AT .*|job [0-9]+ CANCELLED \(.*\))$'
}

@test "a job whose node fails ends Dead with Slurm's state and reason (srun itself exits 0)" {
  host=$(hostname -s)
  run -0 bgsh "$LOAD; $UPTO"'
    bgjob new -f srun -- sleep 100
    upto 600 eval "[[ \$(field 0 slurm_step) ]]" || { echo "no step"; exit 1; }
    scontrol update nodename="$1" state=down reason=bgjob-test
    bgjob wait 0; echo "wait=$?"
    field 0 state; echo
    field 0 slurm_reason; echo
    field 0 slurm_state; echo
    bgjob traceback 0 | tail -n 1' "$host"
  # ReturnToService=2 brings the node back; make sure before the next test
  scontrol update nodename="$host" state=resume 2> /dev/null || true
  for _ in $(seq 600); do [ "$(sinfo -h -o %t)" = idle ] && break; sleep 0.1; done
  assert_line 'Dead'
  assert_line 'NodeDown'
  # srun's own line when it saw the step cancelled, else scontrol's state
  assert_line --regexp '^sleep: ended by Slurm: (job [0-9]+ NODE_FAIL \(NodeDown\)|STEP [0-9.]+ ON .* DUE TO NODE FAILURE.*)$'
  assert_line 'NODE_FAIL'
}

@test "usage: options need -- before the command; a missing command is refused at new (status 2, no job)" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob new -f srun -N1 hostname; echo "rc=$?"
    bgjob new -f srun -N1 --; echo "rc=$?"
    bgjob status | wc -l'
  assert_output $'rc=2\nrc=2\n0'
  [[ $stderr == *"srun: put -- between srun's options and the command"* ]] || fail "$stderr"
  [[ $stderr == *'srun: no command after --'* ]] || fail "$stderr"
}

@test "without srun in PATH the job is Dead with status 127, saying so" {
  run -0 bgsh "$LOAD"'
    PATH=/nonexistent bgjob new -f srun -- true
    bgjob wait 0; echo "wait=$?"
    bgjob traceback 0 | tail -n 1'
  assert_line 'wait=127'
  assert_line "srun: command not found (Slurm's clients: the slurm-client package)"
}

@test "make install puts slurm.so in PREFIX/lib/bgjob/plugins; bgjob load slurm finds it by name" {
  local p=$BATS_TEST_TMPDIR/prefix
  run -0 make -s -C "$BGJOB_ROOT" install PREFIX="$p"
  [ -x "$p/lib/bgjob/plugins/slurm.so" ]
  run -0 bgjob_timeout env BASH_LOADABLES_PATH="$p/lib/bash" bash --norc --noprofile -c \
    'enable bgjob && bgjob load slurm && bgjob funcs | grep "^srun" && bgjob new -f srun -- echo from-slurm && bgjob wait 0 && bgjob result 0'
  assert_line --regexp '^srun +srun \[SRUN-OPTION\.\.\.\] -- CMD'
  assert_line 'from-slurm'
}

@test "workflow options work on srun jobs: -a chains steps, -r retries a failing one, -g limits a group" {
  run -0 bgsh "$LOAD"'
    m=$(mktemp -d)
    bgjob new -v a -f srun -- sh -c "echo first > $m/a"
    bgjob new -v b -a $a -f srun -- cat "$m/a"
    bgjob new -v bad -f srun -- sh -c "exit 4"
    bgjob new -v c -a $bad -f srun -- echo never
    bgjob new -v r -r 2 -R 0.05 -f srun -- sh -c "echo x >> $m/tries; [ \$(wc -l < $m/tries) -ge 3 ]"
    bgjob group g -j 1
    for i in 1 2 3; do bgjob new -g g -f srun -- echo "g$i"; done
    bgjob wait; echo "wait=$?"
    echo "b=$(bgjob result $b)"
    eval "declare -A j=$(bgjob show $c)"; echo "c=${j[state]}: ${j[error]}"
    eval "declare -A j=$(bgjob show $r)"; echo "r=${j[state]} attempt=${j[attempt]} tries=$(wc -l < $m/tries)"
    bgjob group | grep "^g:"
    rm -rf "$m"'
  assert_line 'b=first'
  assert_line 'c=Dead: dependency 2 failed'
  assert_line 'r=Completed attempt=3 tries=3'
  assert_line --regexp '^g: limit 1, .* 3 completed, 0 dead$'
}
