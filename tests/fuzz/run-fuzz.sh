#!/usr/bin/env bash
# run-fuzz.sh MODE NAME BINARY [SECONDS]
#   MODE replay: runs BINARY once over every file of tests/fuzz/corpus-NAME and
#                tests/fuzz/regressions/NAME (no fuzzing); suite "fuzz-replay-NAME",
#                counted in inputs.
#   MODE fuzz:   fuzzes for SECONDS, starting from the seed corpus (new inputs
#                go to build/fuzz/corpus-NAME, crashes to build/fuzz/artifacts/);
#                suite "fuzz-NAME", counted in runs (one), with the executions
#                as a note.  Prints the executions and the time.
# Records "SUITE UNIT PASSED FAILED [NOTE]" in build/test-summary (tests/summary.sh).
set -u
mode=$1 name=$2 bin=$3 secs=${4:-60}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p build/fuzz/artifacts "build/fuzz/corpus-$name"
log=build/fuzz/$mode-$name.log
case $mode in
replay)
  shopt -s nullglob
  files=("$here/corpus-$name"/* "$here/regressions/$name"/*)
  pass=0 fail=0
  # One process per input: a crash names its input, and the others still run.
  for f in "${files[@]}"; do
    if "$bin" -runs=1 "$f" >"$log" 2>&1; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1))
      echo "FAIL fuzz-replay-$name: $f"
      tail -n 30 "$log"
    fi
  done
  echo "fuzz-replay-$name: ${#files[@]} inputs replayed, $fail failed"
  echo "fuzz-replay-$name inputs $pass $fail" >> build/test-summary
  [ "$fail" -eq 0 ]
  ;;
fuzz)
  start=$(date +%s)
  "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/artifacts/$name-" "build/fuzz/corpus-$name" "$here/corpus-$name" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "fuzz-$name: ${execs:-?} executions in $((end - start)) s (limit ${secs} s), exit $rc"
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|contract violated|SUMMARY|Test unit written' "$log" | head -n 20
    echo "fuzz-$name found a failure: add the artifact above to tests/fuzz/regressions/$name/ and report it" >&2
    echo "fuzz-$name runs 0 1 executions: ${execs:-?}" >> build/test-summary
    exit 1
  fi
  echo "fuzz-$name runs 1 0 executions: ${execs:-?} in $((end - start)) s" >> build/test-summary
  ;;
*)
  echo "usage: $0 replay|fuzz NAME BINARY [SECONDS]" >&2; exit 2 ;;
esac
