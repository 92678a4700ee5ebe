#!/usr/bin/env bash
# demo.sh BGJOB_SO - a short tour of bgjob in a real bash: each command is shown, then run.
so=${1:-./bgjob.so}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

run() {
  printf '\n\033[1m$ %s\033[0m\n' "$*"
  eval "$@"
}

run enable -f "$so" bgjob
run 'bgjob new -v id "2**20"; echo "started job $id"'
run 'base=7; bgjob new "base * 6"; base=100      # the job works on a snapshot: it still sees base=7'
run 'bgjob new "2/0"                             # this one dies'
run 'bgjob new -v slow -f sleep 0.6 done         # a shipped C callback that sleeps and reports progress'
run 'bgjob new -v doomed -f sleep 30'
run bgjob status
run 'bgjob kill $doomed'
run 'bgjob wait $slow; echo "wait returned $?"'
run 'bgjob wait $doomed; echo "wait returned $? (job $doomed is dead: killed)"'
run bgjob status
run 'bgjob result -w 0                           # -w: wait for it first'
run 'bgjob result -v answer 1; echo "answer=$answer"'
run 'x=$(bgjob result 3); echo "from a subshell: $x"'
run 'bgjob traceback 2'
run 'eval "declare -A job=$(bgjob show 1)"; echo "job 1: ${job[command]} = ${job[result]} in ${job[elapsed]} s"'
run 'bgjob new "n = 6 * 7"; bgjob wait $BGJOB_LAST; bgjob show -v j $BGJOB_LAST; echo "assignments: ${j[assignments]}"'
if [ -f "$here/bgjob-example.so" ]; then
  run bgjob load "$here/bgjob-example.so"
  run bgjob funcs
  run 'bgjob new -f busy 20000000; bgjob new -f join hello from a plugin; bgjob wait; bgjob status -n'
fi
run 'bgjob new -v c1 -f run sha256sum /etc/hostname; bgjob new -v c2 -f run ls /nonexistent   # commands as jobs'
run 'bgjob result -w $c1'
run 'bgjob wait $c2; echo "wait returned $?"; bgjob traceback $c2'
plugins=$here/../build/plugins
if [ -f "$plugins/digest.so" ]; then
  run "BASH_LOADABLES_PATH=$plugins bgjob load digest       # a plugin on OpenSSL, loaded by name"
  run 'bgjob new -v d -f digest -a sha256 /etc/hostname; bgjob result -w $d'
fi
run 'bgjob new -v a -f run printf step-one; bgjob new -v b -a $a -f run echo "after $a"   # -a: b is Blocked until a Completed'
run 'bgjob result -w $b'
run 'bgjob new -v f -r 2 -R 0.1 -f run sh -c "exit 1"   # -r: retried twice, with backoff'
run 'bgjob wait $f; bgjob show -v j $f; echo "attempt ${j[attempt]}:"; bgjob traceback $f'
run 'bgjob group net -j 1; bgjob new -g net -f sleep 0.2; bgjob new -g net -f sleep 0.2; bgjob group   # at most 1 of group net at once'
run 'bgjob wait -g net; bgjob status --json | tail -n 1           # JSON lines for jq and scripts'
run 'bgjob flush -f'
run 'bgjob new -f sleep 0.3; echo "the shell waits for unfinished jobs when it exits:"'
