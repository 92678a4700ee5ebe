#!/usr/bin/env bats
# 28-dirs-cancel: a job's relative paths mean the directory at `new` for
# every kind of job (run, digest, fetch -o through the API, plugins), a
# command never runs in another directory, a blocking callback (a digest of a
# FIFO, a plugin waiting in poll) ends at once on kill and -t through its
# cancel descriptor, and a signal during the exit wait ends the shell and its
# jobs.  Each job is held queued behind a blocking job until after the `cd`,
# so the test does not depend on timing.

load helper

DIGEST_SO=$BGJOB_ROOT/build/plugins/digest.so
export DIGEST_SO

# HOLD: one running slot, taken by a job that waits for its cancellation;
# `release` frees it so the queued jobs run.
HOLD='BGJOB_MAX_RUNNING=1; bgjob load "$EXAMPLE_SO" || exit 97; bgjob new -v holder -f sleep 1000 || exit 96
release() { bgjob kill "$holder"; bgjob wait "$holder"; }'

setup() {
  W=$BATS_TEST_TMPDIR/w
  mkdir -p "$W/d01/sub1" "$W/d02/sub2"
  printf 'one\n' > "$W/d01/sub1/f"
  printf 'two\n' > "$W/d02/sub2/f"
  printf 'alpha' > "$W/d01/sub1/a"
  printf 'beta' > "$W/d02/sub2/a"
  cd "$W"
}

@test "digest: relative names are the files of the directory at new, even after a cd (both exist)" {
  expected=$(cd d01/sub1 && sha256sum a f)
  run -0 --separate-stderr bgsh "$HOLD"'; bgjob load "$DIGEST_SO" || exit 98
    cd d01/sub1; bgjob new -v d -f digest a f; cd ../../d02/sub2; release; bgjob wait "$d"; bgjob result "$d"'
  assert_output "$expected"
}

@test "digest: a queued job still finds its files after cd / (no Dead job from the wrong directory)" {
  expected=$(cd d01/sub1 && sha256sum a)
  run -0 --separate-stderr bgsh "$HOLD"'; bgjob load "$DIGEST_SO" || exit 98
    cd d01/sub1; bgjob new -v d -f digest a; cd /; release; bgjob wait "$d"; bgjob result "$d"'
  assert_output "$expected"
}

@test "run: the command runs in the directory of new after a cd, and in a removed one rather than /" {
  run -0 --separate-stderr bgsh "$HOLD"'
    cd d01/sub1; bgjob new -v r1 -f run cat f; bgjob new -v r2 -f run sh -c "readlink /proc/self/cwd"
    mkdir -p "$1/gone"; cd "$1/gone"; bgjob new -v r3 -f run sh -c "readlink /proc/self/cwd"; cd /; rmdir "$1/gone"
    release; bgjob wait; bgjob result "$r1"; bgjob result "$r2"; bgjob result "$r3"' "$W"
  assert_output "one
$W/d01/sub1
$W/gone (deleted)"
}

@test "plugins: api->open and api->dirfd give the directory of new" {
  run -0 --separate-stderr bgsh "$HOLD"'
    cd d01/sub1; bgjob new -v r -f readfile f; cd ../../d02/sub2; release; bgjob wait "$r"; bgjob result "$r"'
  assert_output 'one'
}

@test "run: a directory that can not be entered makes the job Dead with cannot enter DIR, never another directory" {
  # As root every directory can be entered: the test runs the shell as nobody.
  # (bats's own temporary directories are private: this one is not)
  if [[ $(id -u) == 0 ]]; then as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); else as=(); fi
  L=$(mktemp -d /tmp/bgjob-locked.XXXXXX)
  chmod 777 "$L"
  run -0 --separate-stderr bgjob_timeout "${as[@]}" env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc -c '
    enable -f "$BGJOB_SO" bgjob || exit 99
    mkdir "$1/d" && cd "$1/d" || exit 95
    '"$HOLD"'
    bgjob new -v r -f run sh -c "readlink /proc/self/cwd"; chmod 0 "$1/d"; cd /
    release; bgjob wait "$r"; echo "rc=$?"; bgjob traceback "$r" | sed 1d
    chmod 755 "$1/d"' bash "$L"
  rm -rf "$L"
  assert_output "rc=1
cannot enter $L/d: Permission denied"
}

@test "digest of a FIFO nobody writes ends at once on kill and on -t; a daemon one at the shell's exit" {
  mkfifo "$W/fifo"
  run -0 --separate-stderr bgsh 'bgjob load "$DIGEST_SO" || exit 98; bgjob load "$EXAMPLE_SO" || exit 97
    bgjob new -v a -f digest "$1"; bgjob new -v b -t 0.3 -f digest "$1"
    bgjob show -v S "$a"; until [[ ${S[started]} ]]; do bgjob show -v S "$a"; done
    bgjob kill "$a"; bgjob wait "$a"; echo "a rc=$?"; bgjob traceback "$a" | sed 1d
    bgjob wait "$b"; echo "b rc=$?"; bgjob traceback "$b" | sed 1d
    bgjob new -d -f digest "$1"' "$W/fifo"
  assert_output 'a rc=1
cancelled by bgjob kill
b rc=1
timed out after 0.3 seconds'
}

@test "a plugin waiting in poll on its cancel descriptor ends at once on kill and on -t" {
  run -0 --separate-stderr bgsh 'bgjob load "$EXAMPLE_SO" || exit 97
    bgjob new -v a -f block; bgjob new -v b -t 0.2 -f block
    bgjob show -v S "$a"; until [[ ${S[started]} ]]; do bgjob show -v S "$a"; done
    bgjob kill "$a"; bgjob wait "$a"; bgjob traceback "$a" | sed 1d; bgjob wait "$b"; bgjob traceback "$b" | sed 1d'
  assert_output 'cancelled by bgjob kill
timed out after 0.2 seconds'
}

# exit_wait SIGNAL: a script whose jobs are a command that never ends and a
# digest of a FIFO nobody writes (a callback blocked in open) exits; SIGNAL
# comes once it says it waits.  Prints whether the shell and the command are
# gone afterwards (the shell is given 30 s, then killed: a hang fails).
exit_wait() {
  out=$BATS_TEST_TMPDIR/out
  mkfifo "$BATS_TEST_TMPDIR/fifo"
  : > "$out" # (before the shell starts: the loop below reads it at once)
  env --default-signal=INT,TERM ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc -c 'enable -f "$BGJOB_SO" bgjob || exit 99
    bgjob load "$DIGEST_SO" || exit 98
    bgjob new -f run sleep 1000; bgjob show -v S 0; until [[ ${S[pid]} ]]; do bgjob show -v S 0; done
    bgjob new -f digest "$1"; bgjob show -v D 1; until [[ ${D[started]} ]]; do bgjob show -v D 1; done
    echo "pid=${S[pid]}"; exit 0' bash "$BATS_TEST_TMPDIR/fifo" > "$out" 2>&1 &
  local sh=$! n=0
  until grep -q 'waiting for 2 running jobs' "$out"; do ((++n < 3000)) || { cat "$out"; return 9; }; sleep 0.01; done
  kill -"$1" "$sh"
  n=0
  while kill -0 "$sh" 2>/dev/null; do
    ((++n < 3000)) || { kill -9 "$sh"; echo "shell still runs"; break; }
    sleep 0.01
  done
  wait "$sh"
  echo "shell status $?"
  local cmd
  cmd=$(sed -n 's/^pid=//p' "$out")
  n=0
  while [[ -e /proc/$cmd ]] && { read -r _ _ st _ < "/proc/$cmd/stat"; } 2>/dev/null && [[ $st != Z ]]; do
    ((++n < 3000)) || { echo "command $cmd still runs"; return 0; }
    sleep 0.01
  done
  echo "command gone"
}

@test "SIGINT or SIGTERM while the shell waits for its jobs at exit ends the shell and cancels the jobs" {
  run -0 exit_wait INT
  assert_output $'shell status 130\ncommand gone'
  rm "$BATS_TEST_TMPDIR/fifo"
  run -0 exit_wait TERM
  assert_output $'shell status 143\ncommand gone'
}
