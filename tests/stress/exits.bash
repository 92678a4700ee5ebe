# exits.bash - the shell ending with jobs running.  Runs
# each case in a child bash that loads BGJOB_SO (LD_PRELOAD, if set, is
# inherited: the ASan run), under `timeout' as the hang detector.
#
# Cases: end of script, `exit N', `exit' from a subshell, SIGTERM, SIGHUP,
# SIGINT, SIGTERM with an EXIT trap, exit with a trapped TERM, and `enable -d'
# then exit.  Checked: the status, no crash (no 134/139, no sanitizer
# report), no hang, non-daemon jobs waited for (the shell can not end before
# their sleep is over, and says so on stderr), daemon jobs not (a 600 s
# daemon job never delays the exit), a forked child never waits for its
# parent's jobs.  EXIT_REPEAT repeats the whole list (default 1).  The
# non-daemon jobs sleep 2 s so that they still run when the script ends even
# on a loaded machine (the "waiting for" message depends on it).
EXIT_REPEAT=${EXIT_REPEAT:-1}
fail() { echo "exits: FAIL: $*" >&2; exit 1; }
out=${TMPDIR:-/tmp}/bgjob-exits.$$
trap 'rm -f "$out"' EXIT

# case NAME EXPECTED-STATUS MIN-SECONDS STDERR-PATTERN SCRIPT
case_() {
  local name=$1 want=$2 min=$3 pat=$4 script=$5 t0 t1 rc
  t0=$EPOCHREALTIME
  timeout -k 5 60 bash --norc --noprofile -c "enable -f \"\$BGJOB_SO\" bgjob || exit 99
$script" > "$out" 2>&1
  rc=$?
  t1=$EPOCHREALTIME
  local el=$(( (${t1/./} - ${t0/./}) / 1000 ))  # milliseconds
  ((rc != 124 && rc != 137)) || fail "$name: hung (killed by timeout after ${el} ms)"
  ((rc == want)) || { cat "$out" >&2; fail "$name: status $rc, expected $want"; }
  grep -qE 'Sanitizer|Segmentation|core dumped|Aborted' "$out" && { cat "$out" >&2; fail "$name: crash report"; }
  ((el >= min * 1000)) || fail "$name: ended after $el ms, before its non-daemon job ($min s)"
  if [[ -n $pat ]]; then
    grep -qE "$pat" "$out" || { cat "$out" >&2; fail "$name: output lacks /$pat/"; }
  else
    grep -q 'waiting for' "$out" && { cat "$out" >&2; fail "$name: waited though it should not"; }
  fi
  ncases=$((ncases + 1))
}

ncases=0
for ((rep = 0; rep < EXIT_REPEAT; rep++)); do
  case_ "end of script" 0 2 'waiting for 1 running job' \
    'bgjob new -f sleep 2; bgjob new -d -f sleep 600; bgjob new -d 1+1; echo end'
  case_ "exit 7" 7 2 'waiting for 2 running jobs' \
    'bgjob new -f sleep 2; bgjob new -f sleep 2; bgjob new -d -f sleep 600; exit 7'
  case_ "only daemon jobs" 0 0 '' \
    'for i in 1 2 3; do bgjob new -d -f sleep 600; done; bgjob new -d 1; exit 0'
  case_ "exit from a subshell" 5 0 '' \
    'bgjob new -v id -f sleep 600; ( exit 3 ); x=$(exit 4); ( bgjob new -d -f sleep 600; exit 5 ); rc=$?; bgjob kill $id; exit $rc'
  case_ "a subshell waits for its own jobs only" 0 2 'waiting for 1 running job' \
    'bgjob new -v id -f sleep 600; ( bgjob new -f sleep 2; exit 0 ) 2>&1; bgjob kill $id 2>&1 >/dev/null; bgjob wait $id; exit 0'
  case_ "SIGTERM" 143 0 '' \
    'bgjob new -f sleep 600; bgjob new -d -f sleep 600; kill -TERM $$; echo not reached'
  case_ "SIGHUP" 129 0 '' \
    'bgjob new -f sleep 600; kill -HUP $$; echo not reached'
  case_ "SIGINT" 130 0 '' \
    'bgjob new -f sleep 600; kill -INT $$; echo not reached'
  case_ "SIGTERM with an EXIT trap" 143 0 'exit trap ran' \
    'trap "echo exit trap ran" EXIT; bgjob new -f sleep 600; kill -TERM $$; echo not reached'
  case_ "trapped TERM that exits" 3 2 'waiting for 1 running job' \
    'trap "exit 3" TERM; bgjob new -f sleep 2; bgjob new -d -f sleep 600; kill -TERM $$; echo not reached'
  case_ "SIGTERM while in bgjob wait" 143 0 '' \
    'bgjob new -v id -f sleep 600; { sleep 0.2; kill -TERM $$; } & bgjob wait $id; echo not reached'
  case_ "exit after enable -d" 0 2 'waiting for 1 running job' \
    'bgjob new -f sleep 2; bgjob new -d -f sleep 600; enable -d bgjob; exit 0'
done
echo "# exits: $ncases shell exits with jobs running: no crash, no hang, non-daemon jobs waited for, daemon jobs not"
