# runtime_helper.bash - what the runtime fault tests (27-runtime,
# 29-runtime-fork) share, on top of helper.bash: await, shown, alive and
# ppid_of for their scripts, and a FIFO per test.
load helper

# await COND...: runs COND until it succeeds, at most 3000 times 10 ms apart (then exits 9).
AWAIT='await() { local n=0; until "$@"; do (( ++n > 3000 )) && { echo "await timed out: $*" >&2; exit 9; }; sleep 0.01; done; }'
# shown ID KEY: prints `bgjob show` field KEY of job ID.
SHOWN='shown() { local -A S; bgjob show -v S "$1" && printf "%s" "${S[$2]}"; }'
# alive PID: the process exists and is not a zombie (an exited process whose
# parent is init may stay a zombie a while: it is gone for these tests).
# ppid_of PID: its parent.  Reads of another process's /proc files are
# wrapped in { ...; } 2>/dev/null: it may vanish between the test and the read.
PROCS='alive() { local l; { read -r l < "/proc/$1/stat"; } 2>/dev/null || return 1; l=${l##*) }; [[ ${l%% *} != Z ]]; }
ppid_of() { local l; { read -r l < "/proc/$1/stat"; } 2>/dev/null || return 1; l=${l##*) }; set -- $l; printf "%s" "$2"; }'
H="$AWAIT; $SHOWN; $PROCS"

setup() {
  FIFO=$BATS_TEST_TMPDIR/fifo
  mkfifo "$FIFO"
  export FIFO
}

