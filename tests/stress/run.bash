# run.bash - external commands as jobs under load.  Sourced by a bash with
# bgjob enabled.
#
# RUN_CMDS commands (default 1000; 10000 at full size) with 64 running at
# once, in batches of 250: echo commands (result checked), commands exiting
# with known statuses (exit field and traceback checked), while bash's own &
# jobs run with known statuses (every one checked with wait PID), kill storms
# on sleeping commands (some queued, some running: all end Dead, nothing left
# running), and subshells and command substitutions that run commands of
# their own.  With DIGEST_SO set, digest jobs hash files (each job opens
# them in bgjob's descriptor table) while the pipelines run: every hash is
# checked against sha256sum.  At the end: no zombie, no descriptor left
# over, every killed process gone.
RUN_CMDS=${RUN_CMDS:-1000}
BGJOB_MAX_RUNNING=64
fail() { echo "run: FAIL: $*" >&2; exit 1; }

bgjob new -f run true && bgjob wait || fail "first command"
digests=0
if [[ ${DIGEST_SO-} ]]; then
  bgjob load "$DIGEST_SO" || fail "load digest"
  ddir=$(mktemp -d) || fail "mktemp"
  declare -A dsum=()
  for ((k = 0; k < 40; k++)); do
    head -c $((k * 997 + 1)) /dev/urandom > "$ddir/f$k"
    dsum[$k]=$(cd "$ddir" && sha256sum "f$k")
  done
fi
bgjob flush -f > /dev/null
# descriptors listed by the shell itself, in itself (a $(...) would show its own pipe too)
fds() { local f; FDS=; for f in /proc/$$/fd/*; do FDS+="${f##*/} "; done; }
fds; fds_before=$FDS
started=0 batches=0 killed=0 forks=0 amp=0
declare -a kpids=()
while ((started < RUN_CMDS)); do
  batches=$((batches + 1))
  declare -A want=() wexit=() bpid=() bwant=() dwant=()
  ids=()
  for ((k = 0; k < 20; k++)); do bgjob new -v id -f run sh -c 'echo $$; exec sleep 100' || fail "new sleep"; ids+=("$id"); done
  for ((k = 0; k < 250 && started < RUN_CMDS; k++)); do
    i=$started
    case $((i % 5)) in
    0|1|2) bgjob new -v id -f run /bin/echo "out $i" || fail "new echo $i"; want[$id]="out $i" ;;
    3) bgjob new -v id -f run sh -c 'echo "e$1" >&2; exit "$2"' sh "$i" $((i % 7)) || fail "new exit $i"
       wexit[$id]=$((i % 7))
       if [[ ${DIGEST_SO-} ]]; then
         dk=$((i % 40)); (cd "$ddir" && bgjob new -v id -f digest "f$dk") || fail "new digest $i"
         bgjob new -v id -f digest "$ddir/f$dk" || fail "new digest $i"; dwant[$id]=$dk
       fi ;;
    4) ( exit $((i % 11)) ) & bpid[$i]=$!; bwant[$i]=$((i % 11)); amp=$((amp + 1))
       bgjob new -v id -f run /bin/echo "out $i" || fail "new echo $i"; want[$id]="out $i" ;;
    esac
    started=$((started + 1))
  done
  # a kill storm on the sleepers started with the batch (running or still queued)
  bgjob kill "${ids[@]}" || fail "kill storm"
  killed=$((killed + ${#ids[@]}))
  # forks while the commands run
  r=$(bgjob new -f run /bin/echo sub 2>/dev/null; bgjob wait "$BGJOB_LAST" && bgjob result "$BGJOB_LAST") || fail "\$( ) command"
  [[ $r == sub ]] || fail "\$( ) command gave '$r'"
  ( bgjob new -f run sh -c 'exit 3'; bgjob wait "$BGJOB_LAST"; (($? == 3)) || exit 1
    bgjob show -v S "$BGJOB_LAST"; [[ ${S[exit]} == 3 ]] ) || fail "( ) command"
  # a pipeline while commands start: bash closes a pipeline's descriptor
  # numbers twice, which must never reach a descriptor of bgjob's
  for ((k = 0; k < 5; k++)); do
    echo x | { bgjob new -f run /bin/echo piped 2>/dev/null; bgjob wait "$BGJOB_LAST" && bgjob result "$BGJOB_LAST"; } | grep -qx piped || fail "pipeline command"
  done
  forks=$((forks + 7))
  for i in "${!bpid[@]}"; do wait "${bpid[$i]}"; rc=$?; ((rc == bwant[$i])) || fail "bash job $i: status $rc, expected ${bwant[$i]}"; done
  bgjob wait
  for id in "${!want[@]}"; do
    bgjob result -v r "$id" || fail "job $id: no result: $(bgjob traceback "$id" 2>&1)"
    [[ $r == "${want[$id]}" ]] || fail "job $id gave '$r', expected '${want[$id]}' ($(bgjob show "$id"))"
  done
  for id in "${!dwant[@]}"; do
    bgjob result -v r "$id" || fail "digest job $id: $(bgjob traceback "$id" 2>&1)"
    dk=${dwant[$id]}
    [[ $r == "${dsum[$dk]%%  *}  $ddir/f$dk" ]] || fail "digest job $id gave '$r', expected the hash of f$dk"
    digests=$((digests + 1))
  done
  for id in "${!wexit[@]}"; do
    bgjob show -v S "$id"
    [[ ${S[exit]} == "${wexit[$id]}" ]] || fail "job $id: exit '${S[exit]}', expected ${wexit[$id]}"
    if ((wexit[$id] == 0)); then [[ ${S[state]} == Completed ]] || fail "job $id: ${S[state]}"
    else [[ ${S[state]} == Dead && ${S[error]} == *"sh: exited with status ${wexit[$id]}" ]] || fail "job $id: ${S[state]} ${S[error]}"; fi
  done
  for id in "${ids[@]}"; do
    bgjob show -v S "$id"
    [[ ${S[state]} == Dead ]] || fail "killed job $id is ${S[state]}"
    [[ ${S[stdout]} ]] && kpids+=("${S[stdout]}")
  done
  bgjob flush -f > /dev/null
  unset want wexit bpid bwant dwant
done
gone=0
for p in "${kpids[@]}"; do
  n=0; while [[ -e /proc/$p ]] && (( ++n < 500 )); do sleep 0.01; done
  [[ -e /proc/$p ]] && fail "killed command $p still runs"
  gone=$((gone + 1))
done
z=0
for s in /proc/[0-9]*/stat; do
  { read -r _ _ st ppid _ < "$s"; } 2>/dev/null || continue
  [[ $st == Z && $ppid == $$ ]] && z=$((z + 1))
done
((z == 0)) || fail "$z zombies"
fds; fds_after=$FDS
[[ $fds_before == "$fds_after" ]] || fail "descriptors before: $fds_before after: $fds_after ($(ls -l /proc/$$/fd | tr "\n" " "))"
[[ ${ddir-} ]] && rm -rf "$ddir"
echo "# run: $started commands in $batches batches, $amp bash & jobs, $killed killed ($gone had started and are gone), $forks forks, $digests digest jobs checked; no zombie, no descriptor left"
