#!/bin/bash
# slurm_cluster.sh - a one-node Slurm cluster on this machine, for the tests
# and benchmarks of the slurm plugin.  Needs root.
#
#   slurm_cluster.sh start DIR   generates DIR/slurm.conf (this host, its CPU
#                                count, linuxproc/none plugins, state and logs
#                                in DIR, ports of its own), starts munged
#                                (its own socket and key), slurmctld and
#                                slurmd, and waits until the
#                                node is idle; prints SLURM_CONF=DIR/slurm.conf
#   slurm_cluster.sh stop DIR    stops the daemons started by `start DIR'
#                                (their pid files in DIR) and waits until they
#                                are gone
#
# Every daemon started is recorded in DIR/pids, so `stop' ends exactly those.
set -u
cmd=${1:?usage: slurm_cluster.sh start|stop DIR} dir=${2:?usage: slurm_cluster.sh start|stop DIR}

die() { echo "slurm_cluster.sh: $*" >&2; exit 1; }

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 after SECONDS.
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

alive() { kill -0 "$1" 2> /dev/null; }
gone() { ! alive "$1"; }

start() {
  [ "$(id -u)" = 0 ] || die "needs root (the daemons run as root and as the users munge and slurm)"
  for p in slurmctld slurmd munged srun squeue scancel scontrol sinfo; do
    command -v "$p" > /dev/null || [ -x "/usr/sbin/$p" ] || die "$p not found (apt-get install slurmctld slurmd slurm-client munge)"
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  chown slurm: "$dir/state" "$dir/log"
  chmod 755 "$dir"
  local host cpus port
  host=$(hostname -s) cpus=$(nproc)
  # ports of its own (SLURM_TEST_PORT, else one pair per starting process)
  port=${SLURM_TEST_PORT:-$((20000 + ($$ % 5000) * 2))}
  cat > "$dir/slurm.conf" << CONF
ClusterName=bgjobtest
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldPort=$port
SlurmdPort=$((port + 1))
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
MinJobAge=300
SchedulerParameters=sched_interval=1
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  : > "$dir/pids"
  # a munged of its own (key, socket, pid, log and seed in DIR/munge), so
  # that clusters started side by side share nothing
  local m=$dir/munge
  mkdir -p "$m" && chown munge: "$m" && chmod 711 "$m"
  dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none
  chown munge: "$m/munge.key" && chmod 400 "$m/munge.key"
  runuser -u munge -- /usr/sbin/munged --socket="$m/munge.socket" --key-file="$m/munge.key" \
    --pid-file="$m/munged.pid" --log-file="$m/munged.log" --seed-file="$m/munged.seed" ||
    die "munged did not start"
  wait_for 10 test -s "$m/munged.pid" || die "munged wrote no pid file"
  cat "$m/munged.pid" >> "$dir/pids"
  /usr/sbin/slurmctld -f "$SLURM_CONF" || die "slurmctld did not start: $(tail -5 "$dir/log/slurmctld.log")"
  wait_for 10 test -s "$dir/slurmctld.pid" || die "slurmctld wrote no pid file"
  cat "$dir/slurmctld.pid" >> "$dir/pids"
  /usr/sbin/slurmd -f "$SLURM_CONF" || die "slurmd did not start: $(tail -5 "$dir/log/slurmd.log")"
  wait_for 10 test -s "$dir/slurmd.pid" || die "slurmd wrote no pid file"
  cat "$dir/slurmd.pid" >> "$dir/pids"
  node_idle() { [ "$(sinfo -h -o %t 2> /dev/null)" = idle ]; }
  wait_for 60 node_idle || die "the node is not idle after 60 s: $(sinfo 2>&1; tail -5 "$dir/log/slurmctld.log")"
  echo "SLURM_CONF=$SLURM_CONF"
}

stop() {
  [ -f "$dir/pids" ] || return 0
  local pid
  # slurmd first (it ends the steps it runs), then slurmctld, then munged
  for pid in $(tac "$dir/pids"); do
    alive "$pid" && kill "$pid"
    wait_for 20 gone "$pid" || { kill -KILL "$pid" 2> /dev/null; wait_for 5 gone "$pid"; }
  done
  rm -f "$dir/pids"
}

case $cmd in
start) start ;;
stop) stop ;;
*) die "unknown command $cmd" ;;
esac
