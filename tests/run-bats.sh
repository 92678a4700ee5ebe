#!/usr/bin/env bash
# run-bats.sh FILE... - runs bats files (TAP), fails on any failure, records
# counts for the summary (suite bats, or bats-asan with BGJOB_PRELOAD set, the
# sanitizer run), counted in tests.  BATS_PART=N (a part of a run that
# `make test' splits in steps) keeps the part's log apart; its counts go to
# the same suite, which tests/summary.sh adds up.
#
# Every bash that tests/helper.bash starts runs under `timeout'
# (BGJOB_TEST_TIMEOUT seconds, default 240; the slowest test takes under a
# minute on a loaded 2-CPU machine): a hang becomes a failing test with a
# message, not a stalled run.  bats's own BATS_TEST_TIMEOUT (bats 1.8) is not
# used: it kills only the test's direct children, and a hung grandchild that
# holds the output pipe of `run' keeps the test waiting.
set -o pipefail
label=bats${BGJOB_PRELOAD:+-asan}
mkdir -p build
log=build/$label${BATS_PART:+-$BATS_PART}.tap
export BGJOB_SO
export BGJOB_TEST_TIMEOUT=${BGJOB_TEST_TIMEOUT:-240}
bats --tap "$@" 2>&1 | tee "$log"
rc=$?
pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok ' "$log")
[ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1   # bats itself failed (no test reported it)
echo "$label tests $pass $fail" >> build/test-summary
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
