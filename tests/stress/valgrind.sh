#!/usr/bin/env bash
# valgrind.sh TOOL SO SCRIPT - runs SCRIPT in the stock bash with bgjob SO
# loaded under valgrind's TOOL (helgrind: data races, lock misuse; memcheck:
# invalid accesses, uninitialised reads, leaks definitely lost in bgjob).
# Any error makes valgrind exit 1.  Records "valgrind-TOOL runs PASSED FAILED".
set -u
tool=$1 so=$2 script=$3
mkdir -p build
log=build/valgrind-$tool.log
opts=(--error-exitcode=1 --child-silent-after-fork=yes --trace-children=no)
case $tool in
helgrind) opts+=(--tool=helgrind --history-level=approx --suppressions="$(dirname "$0")/helgrind.supp") ;;
memcheck) opts+=(--tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
                 --show-leak-kinds=definite --track-origins=yes) ;;
*) echo "usage: $0 helgrind|memcheck SO SCRIPT" >&2; exit 2 ;;
esac
BGJOB_SO=$so timeout -k 10 900 valgrind "${opts[@]}" \
  bash --norc --noprofile -c 'enable -f "$BGJOB_SO" bgjob || exit 99; . "$1"' valgrind "$script" >"$log" 2>&1
rc=$?
summary=$(grep -E 'ERROR SUMMARY' "$log" | tail -n 1)
echo "valgrind $tool: exit $rc; ${summary#==*== }"
grep '^#' "$log"
if [ "$rc" -eq 0 ] && grep -q '^# valgrind: session done' "$log"; then
  echo "valgrind-$tool runs 1 0" >> build/test-summary
else
  grep -E '^==[0-9]+== ' "$log" | head -n 60
  echo "valgrind-$tool runs 0 1" >> build/test-summary
  exit 1
fi
