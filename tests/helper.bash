# helper.bash - common set-up for the bats files: every scenario runs in a
# fresh `bash --norc` that loads the built bgjob.so.
bats_require_minimum_version 1.5.0
# bats-support and bats-assert: their files define functions only, so they are
# sourced here directly; `bats_load_library' would run their load.bash, which
# forks `dirname' once per file (15 processes for every test).
bgjob_load_library() {
  local dir f found=
  local -a paths
  IFS=: read -ra paths <<< "${BATS_LIB_PATH:-/usr/lib/bats}"
  for dir in "${paths[@]}"; do
    [ -f "$dir/$1/load.bash" ] || continue
    for f in "$dir/$1"/src/*.bash; do
      [ -f "$f" ] && source "$f" && found=1
    done
    break
  done
  [ -n "$found" ] || bats_load_library "$1"
}
bgjob_load_library bats-support
bgjob_load_library bats-assert

: "${BGJOB_SO:?BGJOB_SO must name the built bgjob.so (make test sets it)}"
if [ ! -f "$BGJOB_SO" ]; then
  echo "BGJOB_SO=$BGJOB_SO does not exist: run make first" >&2
  exit 1
fi
export BGJOB_SO
# (bats sources this file in every test's own process: a command
# substitution here would fork once per test)
if [[ $BATS_TEST_DIRNAME == /?* ]]; then
  BGJOB_ROOT=${BATS_TEST_DIRNAME%/*}
  BGJOB_ROOT=${BGJOB_ROOT:-/}
else
  BGJOB_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
fi
export BGJOB_ROOT
EXAMPLE_SO=$BGJOB_ROOT/examples/bgjob-example.so
export EXAMPLE_SO

# Every bash started here runs under `timeout': after BGJOB_TEST_TIMEOUT
# seconds (default 240) it and every process it started (its process group)
# get SIGTERM, 10 s later SIGKILL, and the test fails with status 124 and a
# message on stderr instead of hanging.  `timeout' runs it in a process group
# of its own, in the background of a terminal: when bats was started from a
# terminal, the script's stdin is /dev/null, not the terminal (a read from it
# would stop the shell).
BGJOB_TEST_TIMEOUT=${BGJOB_TEST_TIMEOUT:-240}
bgjob_timeout() {
  local rc
  if [ -t 0 ]; then
    timeout -k 10 "$BGJOB_TEST_TIMEOUT" "$@" < /dev/null
  else
    timeout -k 10 "$BGJOB_TEST_TIMEOUT" "$@"
  fi
  rc=$?
  ((rc == 124)) && echo "bgsh: timed out after $BGJOB_TEST_TIMEOUT s" >&2
  return "$rc"
}

# bgsh SCRIPT [ARG...]: runs SCRIPT in a fresh bash with bgjob enabled.
# Under the sanitizer run, BGJOB_PRELOAD names the runtime to preload.  The
# shell then stops exporting LD_PRELOAD: the programs its jobs and commands
# run (sleep, cat, sh) are not what the run checks, and the runtime would
# cost each of them its start-up (some 25 ms).  A subshell keeps it (a fork
# is the same process image); a test that starts a bash of its own sets it.
BGJOB_UNPRELOAD=${BGJOB_PRELOAD:+export -n LD_PRELOAD; }
BGJOB_ENV=${BGJOB_PRELOAD:+env LD_PRELOAD=$BGJOB_PRELOAD}  # no `env' process in the plain run
bgsh() {
  local script=$1; shift
  bgjob_timeout $BGJOB_ENV \
    bash --norc --noprofile -c "${BGJOB_UNPRELOAD}enable -f \"\$BGJOB_SO\" bgjob || exit 99
$script" bgsh "$@" 3>&-
}

# bgsh_file: same, but the script comes from stdin as a file (line numbers in messages).
bgsh_stdin() {
  local f
  f=$(mktemp "$BATS_TEST_TMPDIR/script.XXXXXX")
  { echo "${BGJOB_UNPRELOAD}"'enable -f "$BGJOB_SO" bgjob || exit 99'; cat; } > "$f"
  bgjob_timeout $BGJOB_ENV bash --norc --noprofile "$f" "$@" 3>&-
}
