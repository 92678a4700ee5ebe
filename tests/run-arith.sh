#!/usr/bin/env bash
# run-arith.sh MAKE-COMMAND... - runs the arithmetic tests (`make test-arith`)
# and records suite "arith" for the summary, counted in cases: every compared
# case of the catalogue and of the random run, plus every unit check.
#
# Parsing is tolerant of the wording of difftest's counts: in each line
# starting "catalogue:" or "random:" every "NUMBER WORD" pair is read:
# cases, mismatches (or failed), excused (or "not supported by design"),
# skipped, passed.  Passed is the "passed" figure when printed, otherwise
# cases - mismatches - excused; excused and skipped cases are shown apart,
# counted neither passed nor failed.  "checks: NAME P passed, F failed" lines
# are the unit tests.
mkdir -p build
log=build/arith.log
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
read -r pass fail excused skipped < <(awk '
  function count(   i, w, n, c, m, e, s, p, havep) {
    c = m = e = s = p = havep = 0
    for (i = 2; i < NF; i++) {
      n = $i; gsub(/[^0-9]/, "", n)
      if (n == "" || n != $i && $i !~ /^[0-9]+[,;:]?$/) continue
      w = $(i + 1); gsub(/[^a-z]/, "", w)
      if (w ~ /^cases?$/) c += n
      else if (w ~ /^mismatch/ || w == "failed" || w == "failures") m += n
      else if (w ~ /^excused/ || (w == "not" && $(i + 2) ~ /^supported/)) e += n
      else if (w == "skipped") s += n
      else if (w == "passed") { p += n; havep = 1 }
    }
    P += havep ? p : c - m - e; F += m; E += e; S += s
  }
  /^checks: .* passed, [0-9]+ failed/ { P += $(NF-3); F += $(NF-1); next }
  /^(catalogue|random): / { count() }
  END { print P+0, F+0, E+0, S+0 }' "$log")
# A failing run that printed no failing count (a crash, a build error) still fails the suite.
[ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
echo "arith cases $pass $fail excused: $excused, skipped: $skipped" >> build/test-summary
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
