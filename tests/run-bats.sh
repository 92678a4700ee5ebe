#!/usr/bin/env bash
# run-bats.sh FILE... - runs bats files (TAP), fails on any failure, records counts for the summary.
# With BGJOB_PRELOAD set (sanitizer runs) the label says so.
set -o pipefail
label=bats${BGJOB_PRELOAD:+-asan}
mkdir -p build
log=build/$label.tap
export BGJOB_SO
bats --tap "$@" 2>&1 | tee "$log"
rc=$?
pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok ' "$log")
echo "$label $pass $fail" >> build/test-summary
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
