#!/usr/bin/env bash
# summary.sh SUITE[:PARTS]... - prints one line per suite of this `make test` from
# build/test-summary, each in its own unit, then the total of failures, then
# the suites: "suites:" on one line and "N passed, M failed" alone on the last
# line (CI reads it).  Every SUITE named on the command line must have
# recorded a line (PARTS lines, for a suite run in parts): one that did not
# (its run stopped before recording, or was never run) is reported MISSING
# and counts as a failed suite.
#
# build/test-summary has one line per run of a suite: "SUITE UNIT PASSED FAILED
# [NOTE...]", written by tests/run-c.sh, run-bats.sh, run-arith.sh,
# fuzz/run-fuzz.sh and stress/run.sh.  A suite run in parts (the bats runs of
# `make test') has a line per part: they are added up into one.  A suite
# passes when it failed nothing and passed something.
file=${SUMMARY_FILE:-build/test-summary}
declare -A seen=()
spass=0 sfail=0 failures=0
line() { printf '  %-22s %s\n' "$1" "$2"; }
echo "summary:"
# The lines in the order of the SUITEs named (the steps of `make test' may run
# in parallel and record in any order), then those of suites not named.
records=()
if [ -r "$file" ]; then
  mapfile -t records < "$file"
fi
# The parts of a suite, added up into its first line (same unit; the notes kept).
declare -A first=() nparts=() want=()
merged=()
for a in "$@"; do [[ $a == *:* ]] && want[${a%%:*}]=${a#*:}; done
set -- "${@%%:*}"
for r in "${records[@]}"; do
  read -r suite unit p f note <<< "$r"
  [[ -n $suite ]] && nparts[$suite]=$((${nparts[$suite]-0} + 1))
  k=${first[$suite]-}
  if [[ -n $suite && -n $k && $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
    read -r _ u0 p0 f0 n0 <<< "${merged[k]}"
    if [[ $u0 == "$unit" && $p0 =~ ^[0-9]+$ && $f0 =~ ^[0-9]+$ ]]; then
      merged[k]="$suite $unit $((p0 + p)) $((f0 + f))${n0:+ $n0}${note:+${n0:+;} $note}"
      continue
    fi
  fi
  [[ -n $suite && -z $k ]] && first[$suite]=${#merged[@]}
  merged+=("$r")
done
records=("${merged[@]}")
ordered=()
declare -A named=()
for s in "$@"; do
  named[$s]=1
  for r in "${records[@]}"; do [[ ${r%% *} == "$s" ]] && ordered+=("$r"); done
done
for r in "${records[@]}"; do [[ -n ${r%% *} && -z ${named[${r%% *}]-} ]] && ordered+=("$r"); done
if ((${#ordered[@]})); then
  while read -r suite unit p f note; do
    [ -n "$suite" ] || continue
    if ! [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
      line "$suite" "BAD RECORD: $suite $unit $p $f $note"; sfail=$((sfail + 1)); seen[$suite]=1; continue
    fi
    short=0
    if ((${nparts[$suite]-0} < ${want[$suite]-1})); then
      short=1 note="MISSING: only ${nparts[$suite]-0} of its ${want[$suite]} parts recorded a result${note:+; $note}"
    fi
    line "$suite" "$(printf '%6d %-8s passed, %d failed%s' "$p" "$unit" "$f" "${note:+  ($note)}")"
    failures=$((failures + f))
    if [ "$f" -eq 0 ] && [ "$p" -gt 0 ] && [ "$short" -eq 0 ]; then spass=$((spass + 1)); else sfail=$((sfail + 1)); fi
    seen[$suite]=1
  done < <(printf '%s\n' "${ordered[@]}")
fi
for s in "$@"; do
  if [ -z "${seen[$s]-}" ]; then
    line "$s" "MISSING: the suite recorded no result"
    sfail=$((sfail + 1))
  fi
done
echo "failures: $failures (tests, programs, cases, inputs and runs, all suites together)"
echo "suites:"
echo "$spass passed, $sfail failed"
[ "$sfail" -eq 0 ]
