#!/usr/bin/env bash
# run-c.sh VARIANT TEST... - runs the C test programs and records the counts for the final summary.
variant=$1; shift
pass=0 fail=0
mkdir -p build
for t in "$@"; do
  if out=$("$t" 2>&1); then
    pass=$((pass + 1)); printf 'ok   %-6s %s\n' "$variant" "${t##*/}"
  else
    fail=$((fail + 1)); printf 'FAIL %-6s %s\n%s\n' "$variant" "${t##*/}" "$out"
  fi
  printf '%s\n' "$out" | grep -E '^(#|checks:)' | sed 's/^/     /'
done
echo "c-$variant $pass $fail" >> build/test-summary
[ "$fail" -eq 0 ]
