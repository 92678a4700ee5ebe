#!/usr/bin/env bash
# summary.sh - prints the per-suite counts of this `make test` and the closing line.
pass=0 fail=0
while read -r suite p f; do
  printf '  %-12s %6d passed %4d failed\n' "$suite" "$p" "$f"
  pass=$((pass + p)); fail=$((fail + f))
done < build/test-summary
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
