#!/usr/bin/env bash
# run-c.sh VARIANT TEST... - runs the C test programs and records the counts
# for the final summary: suite c-VARIANT, counted in programs, with the
# checks they ran (their "checks: NAME P passed, F failed" lines) as a note.
variant=$1; shift
pass=0 fail=0 cpass=0 cfail=0
mkdir -p build
for t in "$@"; do
  if out=$("$t" 2>&1); then
    pass=$((pass + 1)); printf 'ok   %-6s %s\n' "$variant" "${t##*/}"
  else
    fail=$((fail + 1)); printf 'FAIL %-6s %s\n%s\n' "$variant" "${t##*/}" "$out"
  fi
  printf '%s\n' "$out" | grep -E '^(#|checks:)' | sed 's/^/     /'
  read -r p f < <(printf '%s\n' "$out" | awk '/^checks: .* passed, [0-9]+ failed$/ { p += $(NF-3); f += $(NF-1) } END { print p+0, f+0 }')
  cpass=$((cpass + p)); cfail=$((cfail + f))
done
echo "c-$variant programs $pass $fail checks: $cpass passed, $cfail failed" >> build/test-summary
[ "$fail" -eq 0 ]
