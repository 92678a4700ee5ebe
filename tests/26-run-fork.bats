#!/usr/bin/env bats
# 26-run-fork: bash forking its own children while bgjob starts commands, a
# fork-heavy file (see BATS_FORK_HEAVY in the Makefile): with gcc 12's ASan a
# child forked while a worker allocates can hang, so `make test' runs it only
# against the plain build, and `make check-full' under ASan too.

load helper

@test "200 bash & jobs and 200 commands at the same time all keep their exit statuses" {
  run -0 bgsh 'pids=()
    for i in {0..199}; do
      ( exit $(( i % 7 )) ) & pids+=($!)
      bgjob new -f run sh -c "exit $(( i % 5 ))"
    done
    bad=0
    for i in {0..199}; do wait "${pids[i]}"; (( $? == i % 7 )) || { echo "bash job $i wrong"; bad=1; }; done
    bgjob wait
    for i in {0..199}; do
      e=$(bgjob show -v S $i; echo "${S[exit]}"); (( e == i % 5 )) || { echo "command $i: exit $e"; bad=1; }
    done
    echo "bad=$bad"'
  assert_output 'bad=0'
}
