#!/usr/bin/env bash
# run-arith.sh MAKE-COMMAND... - runs the arithmetic tests and records their counts for the summary:
# every unit check passes or fails; every compared case passes, fails, or is excused (a difference
# listed in tests/arith/NOT-REPRODUCED.md), which counts as neither.
mkdir -p build
log=build/arith.log
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
read -r pass fail < <(awk '
  /^checks: /      { p += $(NF-3); f += $(NF-1) }
  /^catalogue: [0-9]+ cases: / { p += $4; f += $6 }
  /^random: [0-9]+ cases: /    { p += $4; f += $6 }
  END { print p+0, f+0 }' "$log")
[ "$rc" -eq 0 ] || fail=$((fail + 1))
echo "arith $pass $fail" >> build/test-summary
[ "$rc" -eq 0 ]
