# valgrind.bash - a short bgjob session for helgrind and memcheck on the
# stock bash (tests/stress/valgrind.sh): threads start, jobs of every kind
# run and finish (commands through the I/O thread too), a kill, a fork,
# unload/reload, waits, flush.  Sourced by a
# bash with bgjob enabled; exits 1 on a wrong result.
fail() { echo "valgrind.bash: FAIL: $*" >&2; bgjob kill "$long" 2>/dev/null; exit 1; }
x=6
for i in 1 2 3 4 5 6 7 8; do
  bgjob new -- "x * $i" || fail "new"
  bgjob new -f sleep 0.01 "s$i" || fail "new"
done
bgjob new -v c1 -f run echo hi || fail "new run"
bgjob new -v c2 -f run sleep 600 || fail "new run"
bgjob new -v dead -- 1/0
bgjob new -v long -f sleep 600
bgjob wait -t 60 0 1 2 3; (($? == 0)) || fail "wait"
bgjob result -v r 0 && [[ $r == 6 ]] || fail "result 0: $r"
r=$(bgjob result 1); [[ $r == s1 ]] || fail "result in \$(): $r"  # (a child's status under valgrind is its error count)
( bgjob wait "$long"; exit $? ); (($? == 1)) || fail "wait in a subshell"
bgjob kill "$long" || fail "kill"
bgjob wait -t 60 "$c1" && bgjob result -v r "$c1" && [[ $r == hi ]] || fail "run result: $r"
bgjob show -v S "$c2"; until [[ ${S[pid]} ]]; do bgjob wait -t 0.05 "$c2"; bgjob show -v S "$c2"; done
bgjob kill "$c2" && bgjob wait -t 60 "$c2"; (($? == 143)) || fail "killed command's status"
enable -d bgjob && enable -f "$BGJOB_SO" bgjob || fail "unload/reload"
bgjob wait -t 60 "$long"; (($? == 1)) || fail "wait for the killed job"
bgjob status >/dev/null
bgjob traceback "$dead" | grep -q 'division by 0' || fail "traceback"
bgjob flush >/dev/null || fail "flush"
for i in $(seq 1 50); do bgjob new -- "$i + 1"; done
bgjob wait -t 60 || fail "wait 50"
bgjob flush -f >/dev/null
echo "# valgrind: session done"
