#!/usr/bin/env bash
# run_bench.sh - the cost of running external commands: bgjob's `run` against
# what a bash user has ($(cmd), `{ cmd > tmp; } &` + wait + read, xargs -P2,
# GNU parallel -j2) and a C floor (posix_spawn + pipe + waitpid), for
# /bin/true and for capturing `echo` output, in a small shell and in one
# holding about 500 MB.  Prints microseconds per command and the ratios.
#
#   BGJOB_SO=./bgjob.so SPAWN_FLOOR=build/bench/spawn_floor bash bench/run_bench.sh [N] [BIG_N]
#
# N commands per measurement (default 300); BIG_N array elements make the
# big shell (default 5000000, about 500 MB).  The round trip and the C floor
# are measured side by side in the same shell, best of 3.  A benchmark:
# asserts nothing.
set -u
N=${1:-300}
BIG_N=${2:-5000000}
: "${BGJOB_SO:?set BGJOB_SO to the built bgjob.so}"
: "${SPAWN_FLOOR:?set SPAWN_FLOOR to the built bench/spawn_floor}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export N TMP BIG_N BGJOB_SO

# measure SIZE: prints "method kind us_per_command" lines from one bash process.
measure() {
  bash --norc --noprofile -c '
    enable -f "$BGJOB_SO" bgjob || exit 99
    [[ $1 == big ]] && big=( $(seq "$BIG_N") )
    rss=$(awk "/VmRSS/ {print \$2}" /proc/$$/status)
    echo "rss $1 $((rss / 1024))"
    now() { local t=${EPOCHREALTIME/./}; echo "$t"; }
    for kind in true echo; do
      if [[ $kind == true ]]; then cmd=(/bin/true); else cmd=(/bin/echo hello); fi
      # warm-up (the spawner starts on the first run)
      bgjob new -f run "${cmd[@]}"; bgjob wait; bgjob flush -f >/dev/null
      # the round trip and the C floor side by side, best of 3 (a shared machine is noisy)
      best=0 bestf=0
      for rep in 1 2 3; do
        f=$("$SPAWN_FLOOR" "$N" "${cmd[@]}"); f=${f%.*}
        t0=$(now)
        for ((i = 0; i < N; i++)); do bgjob new -f run "${cmd[@]}"; bgjob wait "$BGJOB_LAST"; bgjob result -v r "$BGJOB_LAST"; done
        t1=$(now); bgjob flush -f >/dev/null
        us=$(( (t1 - t0) / N ))
        (( best == 0 || us < best )) && best=$us
        (( bestf == 0 || f < bestf )) && bestf=$f
      done
      echo "run-roundtrip $kind $best"
      echo "c-floor $kind $bestf"
      t0=$(now)
      for ((i = 0; i < N; i++)); do bgjob new -f run "${cmd[@]}"; done; bgjob wait
      t1=$(now); echo "run-batch $kind $(( (t1 - t0) / N ))"
      bgjob flush -f >/dev/null
      t0=$(now)
      for ((i = 0; i < N; i++)); do r=$("${cmd[@]}"); done
      t1=$(now); echo "comsub $kind $(( (t1 - t0) / N ))"
      t0=$(now)
      for ((i = 0; i < N; i++)); do { "${cmd[@]}" > "$TMP/o"; } & wait $!; r=$(< "$TMP/o"); done
      t1=$(now); echo "amp-tmp $kind $(( (t1 - t0) / N ))"
    done
  ' bench "$1"
}

others() {
  for kind in true echo; do
    if [[ $kind == true ]]; then cmd=(/bin/true); else cmd=(/bin/echo hello); fi
    t0=${EPOCHREALTIME/./}
    seq "$N" | xargs -P2 -n1 "${cmd[@]}" > /dev/null
    t1=${EPOCHREALTIME/./}; echo "xargs-P2 $kind $(( (t1 - t0) / N ))"
    if command -v parallel >/dev/null; then
      t0=${EPOCHREALTIME/./}
      seq "$N" | parallel -j2 "${cmd[*]}" > /dev/null 2>&1
      t1=${EPOCHREALTIME/./}; echo "parallel-j2 $kind $(( (t1 - t0) / N ))"
    else
      echo "parallel-j2 $kind skipped"
    fi
  done
}

declare -A R
while read -r m k v; do R[$m,$k,small]=$v; done < <(measure small)
while read -r m k v; do R[$m,$k,big]=$v; done < <(measure big)
while read -r m k v; do R[$m,$k,small]=$v; R[$m,$k,big]=$v; done < <(others)

echo "run_bench: N=$N; shell RSS small ${R[rss,small,small]:-?} MB, big ${R[rss,big,big]:-?} MB"
printf '%-14s %6s %10s %10s\n' method cmd 'small us' 'big us'
for k in true echo; do
  for m in run-roundtrip run-batch comsub amp-tmp xargs-P2 parallel-j2 c-floor; do
    printf '%-14s %6s %10s %10s\n' "$m" "$k" "${R[$m,$k,small]:-}" "${R[$m,$k,big]:-}"
  done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else printf "n/a" }'; }
for k in true echo; do
  echo "ratios ($k): run/amp-tmp small $(ratio "${R[run-roundtrip,$k,small]}" "${R[amp-tmp,$k,small]}")" \
    "big $(ratio "${R[run-roundtrip,$k,big]}" "${R[amp-tmp,$k,big]}");" \
    "run/c-floor small $(ratio "${R[run-roundtrip,$k,small]}" "${R[c-floor,$k,small]}")" \
    "big $(ratio "${R[run-roundtrip,$k,big]}" "${R[c-floor,$k,big]}");" \
    "run big/small $(ratio "${R[run-roundtrip,$k,big]}" "${R[run-roundtrip,$k,small]}")" \
    "(against the floor measured alongside: $(ratio "$(ratio "${R[run-roundtrip,$k,big]}" "${R[c-floor,$k,big]}")" \
      "$(ratio "${R[run-roundtrip,$k,small]}" "${R[c-floor,$k,small]}")"));" \
    "batch/c-floor $(ratio "${R[run-batch,$k,small]}" "${R[c-floor,$k,small]}")"
done
