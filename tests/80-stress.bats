#!/usr/bin/env bats
# 80-stress: the fast versions of the stress scenarios of tests/stress/ (the full
# sizes run in `make check-hardening' through tests/stress/run.sh).  Each
# scenario is a script in tests/stress/ that exits 1 with a message at the
# first wrong result; `timeout' turns a hang into a failure.

load helper

# stress NAME [VAR=VALUE...]: runs tests/stress/NAME.bash in a fresh bgjob
# shell (as bgsh does, with the sanitizer runtime preloaded in the ASan run).
stress() {
  local name=$1; shift
  run env "$@" ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} timeout -k 5 240 \
    bash --norc --noprofile -c 'enable -f "$BGJOB_SO" bgjob || exit 99; . "$1"' \
    "stress-$name" "$BGJOB_ROOT/tests/stress/$name.bash" 3>&-
  ((status == 0)) || { printf '%s\n' "$output"; fail "stress $name: status $status"; }
  refute_output --partial 'FAIL'
  assert_line --regexp "^# $name: "
}

@test "a soak of 3000 mixed jobs checks every result, with status, show, result, remove, flush, kill and wait in between" {
  stress soak SOAK_JOBS=3000
}

@test "500 subshells, command substitutions, pipelines and & jobs while jobs start and finish" {
  stress fork FORKS=500
}

@test "50 enable -d / enable -f cycles with jobs running keep the jobs and their numbering" {
  stress unload CYCLES=50
}

@test "the shell exits cleanly by end of script, exit, subshell exit, SIGTERM, SIGHUP and SIGINT with jobs running" {
  stress exits
}

@test "workers block every signal, SIGCHLD-heavy scripts keep working, trapped signals interrupt wait" {
  stress signals SIG_ROUNDS=200 SIG_TRAPS=12
}

@test "the queue cap refuses jobs with a clear error and memory returns after flush" {
  stress limits LIMIT_QUEUED=2000 MEM_JOBS=100000 MEM_ROUNDS=3 MALLOC_ARENA_MAX=2
}

@test "a job that status lists as Running is reported again by status -n once it finishes" {
  # Many finished jobs make `status -v' take a while, and jobs of varied
  # length finish while it runs: a report that said Running must not mark
  # the job seen, or `status -n' never shows it and flush deletes it unseen.
  run -0 bgsh '
    bgjob load "$EXAMPLE_SO" || exit 98
    for ((i = 0; i < 3000; i++)); do bgjob new 1; done
    bgjob wait; bgjob status -v st
    lost=0 running=0
    for ((i = 0; i < 400; i++)); do
      bgjob new -v id -f busy $(( (i % 100) * 20000 ))
      bgjob status -v st
      bgjob wait "$id"
      if [[ ${st[$id]} == Running ]]; then
        running=$((running + 1))
        bgjob status -n -v new
        [[ ${new[$id]-} == Completed ]] || { lost=$((lost + 1)); echo "job $id: reported Running, then never as finished"; }
      fi
      bgjob status -n >/dev/null
    done
    echo "running=$running lost=$lost"'
  assert_line --regexp '^running=[1-9][0-9]* lost=0$'
}

@test "1000 commands, 64 at once, with bash & jobs, kill storms, subshells and digest jobs beside pipelines: every status, output and hash right, nothing left" {
  stress run RUN_CMDS=1000 DIGEST_SO="$BGJOB_ROOT/build/plugins/digest.so"
}
