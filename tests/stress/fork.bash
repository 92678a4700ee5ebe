# fork.bash - subshells and command substitutions while jobs start and
# finish.  Sourced by a bash with bgjob enabled.
#
# FORKS forks (default 500), cycling through $( ), ( ), a pipeline element
# and an & job, while every round starts new jobs (so workers are publishing
# results while the shell forks).  Checked in the children: finished jobs and
# their results are visible, `wait' on a job still running in the parent
# returns at once with status 1 (not 124 at the end of its 30 s -t), kill and
# result refuse it, and a child can run jobs of its own.  In the parent:
# nothing changed by the children, every job's result right.
FORKS=${FORKS:-500}
fail() { echo "fork: FAIL: $*" >&2; bgjob kill "$long" 2>/dev/null; exit 1; }

bgjob new -v long -f sleep 600 || fail "new"
bgjob new -v done0 -- '6 * 7' || fail "new"
bgjob wait "$done0" || fail "wait"
forks=0 rounds=0
tmp=${TMPDIR:-/tmp}/bgjob-fork.$$
while ((forks < FORKS)); do
  rounds=$((rounds + 1))
  # jobs that finish while the forks below happen
  bgjob new -v a -- "$rounds * 3" || fail "new a"
  bgjob new -v b -f sleep 0.00$((rounds % 3)) "r$rounds" || fail "new b"
  case $((rounds % 4)) in
  0) r=$(bgjob result "$done0") || fail "result in \$( )"
     [[ $r == 42 ]] || fail "\$(bgjob result) gave '$r'" ;;
  1) ( bgjob wait -t 30 "$long"; rc=$?
       ((rc == 1)) || { echo "wait on the parent's running job returned $rc" >&2; exit 1; }
       bgjob kill "$long" 2>/dev/null && exit 2
       bgjob result "$long" 2>/dev/null && exit 3
       bgjob result -v x "$done0" && [[ $x == 42 ]] || exit 4
       bgjob new -v mine -- 'x = 5, x * 2' && bgjob wait "$mine" && bgjob result -v y "$mine" && [[ $y == 10 ]] || exit 5
       exit 0 ) 2>/dev/null || fail "subshell checks failed ($?)" ;;
  2) r=$(bgjob result "$done0" | cat) || fail "pipeline"
     [[ $r == 42 ]] || fail "pipeline gave '$r'" ;;
  3) ( bgjob new -v m -f sleep 0 child && bgjob wait "$m" && bgjob result "$m" ) > "$tmp" &
     wait $! || fail "& job failed"
     read -r r < "$tmp"; [[ $r == child ]] || fail "& job printed '$r'" ;;
  esac
  forks=$((forks + 1))
  # the parent's own jobs are unaffected by the children
  bgjob wait -t 30 "$a" "$b" || fail "wait $a $b"
  bgjob result -v ra "$a" && [[ $ra == $((rounds * 3)) ]] || fail "job $a gave '$ra'"
  bgjob result -v rb "$b" && [[ $rb == "r$rounds" ]] || fail "job $b gave '$rb'"
  bgjob remove "$a" "$b" || fail "remove"
done
rm -f "$tmp"
bgjob status -v st
[[ ${st[$long]} == Running ]] || fail "the long job is ${st[$long]} in the parent"
[[ -z ${x-} && -z ${y-} ]] || fail "a subshell's variables reached the parent"
bgjob kill "$long" || fail "kill"
bgjob wait "$long"; (($? == 1)) || fail "killed job did not end dead"
echo "# fork: $forks forks (\$( ), ( ), pipelines, & jobs) survived with $((rounds * 2 + 2)) jobs running around them"
