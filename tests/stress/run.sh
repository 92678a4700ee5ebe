#!/usr/bin/env bash
# run.sh - runs the real-bash stress scenarios of tests/stress/ at full size
# (STRESS=full, `make stress-full', part of check-hardening) or at the fast
# size (STRESS=fast), each in a fresh `bash --norc' that loads $BGJOB_SO,
# under `timeout' as the hang detector.  Records "stress scenarios PASSED FAILED" in
# build/test-summary and prints every scenario's figures.
set -u
: "${BGJOB_SO:?BGJOB_SO must name the built bgjob.so}"
export BGJOB_SO EXAMPLE_SO="${EXAMPLE_SO-}" DIGEST_SO="${DIGEST_SO-}"
dir=$(cd "$(dirname "$0")" && pwd)
if [ "${STRESS:-fast}" = full ]; then
  export SOAK_JOBS=100000 FORKS=10000 CYCLES=1000 SIG_ROUNDS=2000 SIG_TRAPS=100 EXIT_REPEAT=5
  export LIMIT_TRIES=1000000 MEM_JOBS=100000 MEM_ROUNDS=3 RUN_CMDS=10000
  limit=1500
else
  limit=300
fi
mkdir -p build
pass=0 fail=0
for s in soak fork unload exits signals limits run; do
  start=$(date +%s)
  log=build/stress-$s.log
  arena=; [ "$s" = limits ] && arena=MALLOC_ARENA_MAX=2   # see limits.bash
  timeout -k 10 "$limit" env $arena ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile -c \
    'enable -f "$BGJOB_SO" bgjob || exit 99; . "$1"' "stress-$s" "$dir/$s.bash" > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1)); printf 'ok   stress %-8s (%d s)\n' "$s" "$secs"
  else
    fail=$((fail + 1)); printf 'FAIL stress %-8s (%d s, status %d)\n' "$s" "$secs" "$rc"
    grep -v '^#' "$log" | tail -n 20
  fi
  grep '^#' "$log" | sed 's/^/     /'
done
echo "stress scenarios $pass $fail" >> build/test-summary
[ "$fail" -eq 0 ]
