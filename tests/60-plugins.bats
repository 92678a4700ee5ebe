#!/usr/bin/env bats
# 60-plugins: bgjob load (the example plugin, missing files, files that are
# not plugins, another API version, loading twice), the example callbacks, and
# callbacks given wrong arguments.

load helper

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'
TIMER='start() { t0=${EPOCHREALTIME//[!0-9]/}; }; ms() { echo $(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 )); }'
NOINIT_SO=$BGJOB_ROOT/build/plugins/noinit.so
BADVERSION_SO=$BGJOB_ROOT/build/plugins/badversion.so
export NOINIT_SO BADVERSION_SO

@test "load of the example plugin succeeds silently and funcs lists busy, join and fail" {
  run -0 --separate-stderr bgsh 'bgjob load "$EXAMPLE_SO"; echo "rc=$?"; bgjob funcs'
  assert_equal "$stderr" ''
  assert_line --index 0 'rc=0'
  assert_line --regexp '^sleep +sleep SECONDS \[VALUE\]'
  assert_line --regexp '^busy +busy ITERATIONS'
  assert_line --regexp '^join +join WORD\.\.\.'
  assert_line --regexp '^fail +fail MESSAGE'
  assert_equal "${#lines[@]}" 5
}

@test "join gives its words joined by spaces" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a b; bgjob new -f join; bgjob wait; echo "rc=$?"
    bgjob result 0; echo "[$(bgjob result 1)]"'
  assert_output $'rc=0\na b\n[]'
}

@test "fail ends the job Dead with its message as the traceback" {
  run -0 bgsh "$LOAD"'; bgjob new -f fail boom; bgjob wait 0; echo "rc=$?"
    bgjob status -v S; echo "${S[0]}"; bgjob traceback 0'
  assert_output $'rc=1\nDead\nTraceback for: <BackgroundJob #0: fail boom>\nboom'
}

@test "busy completes with a checksum" {
  run -0 bgsh "$LOAD"'; bgjob new -f busy 1000; bgjob new -f busy 1000; bgjob new -f busy 1001; bgjob wait; echo "rc=$?"
    bgjob result 0; bgjob result 1; bgjob result 2'
  assert_line --index 0 'rc=0'
  assert_line --index 1 --regexp '^[0-9a-f]{16}$'
  assert_equal "${lines[2]}" "${lines[1]}"
  [[ ${lines[3]} != "${lines[1]}" ]]
}

@test "a busy job that is killed stops and ends Dead" {
  run -0 bgsh "$LOAD; $TIMER"'; bgjob new -f busy 100000000000
    bgjob wait -t 0.2 0; echo "still running=$?"
    start; bgjob kill 0; bgjob wait -t 200 0; echo "rc=$?"; t=$(ms); (( t < 60000 )) && echo prompt || echo "took $t ms"
    bgjob status -v S; echo "${S[0]}"; bgjob traceback 0 | tail -n +2'
  assert_line --index 0 'still running=124'
  assert_line --index 1 'rc=1'
  assert_line --index 2 'prompt'
  assert_line --index 3 'Dead'
  assert_line --index 4 --partial 'cancelled'
}

@test "a running busy job reports progress in status" {
  run -0 bgsh "$LOAD"'; bgjob new -f busy 100000000000
    until bgjob show -v j 0 && [[ -n ${j[progress]} ]]; do bgjob wait -t 0.05 0; done
    bgjob status; bgjob kill 0; bgjob wait -t 200 0 || :'
  assert_line --index 1 --regexp '^0 : busy 100000000000 \([0-9]+%\)$'
}

@test "load of a missing file fails with a clear message" {
  run -1 --separate-stderr bgsh 'bgjob load "$BATS_TEST_TMPDIR/nope.so"'
  assert_output ''
  [[ $stderr == *"$BATS_TEST_TMPDIR/nope.so: cannot load plugin"* ]] || fail "$stderr"
  [[ $stderr == *'No such file'* ]] || fail "$stderr"
}

@test "load of a shared object without bgjob_plugin_init fails naming it" {
  [ -f "$NOINIT_SO" ]
  run -1 --separate-stderr bgsh 'bgjob load "$NOINIT_SO"; rc=$?; bgjob funcs | wc -l; exit $rc'
  assert_output '1'
  [[ $stderr == *'no bgjob_plugin_init'* ]] || fail "$stderr"
}

@test "load of a plugin built for another API version fails naming both versions" {
  [ -f "$BADVERSION_SO" ]
  run -1 --separate-stderr bgsh 'bgjob load "$BADVERSION_SO"; rc=$?; bgjob funcs | wc -l; exit $rc'
  assert_output '1'
  [[ $stderr == *'API version 999'* ]] || fail "$stderr"
  [[ $stderr == *'version 1'* ]] || fail "$stderr"
}

@test "the example plugin loads after a failed load of another version of it" {
  run -0 --separate-stderr bgsh 'bgjob load "$BADVERSION_SO"; bgjob load "$EXAMPLE_SO"; echo "rc=$?"
    bgjob new -f join ok; bgjob wait; bgjob result 0'
  assert_output $'rc=0\nok'
}

@test "load of a text file fails" {
  printf 'not an ELF file\n' > "$BATS_TEST_TMPDIR/text.so"
  run -1 --separate-stderr bgsh 'bgjob load "$BATS_TEST_TMPDIR/text.so"'
  assert_output ''
  [[ $stderr == *'text.so: cannot load plugin'* ]] || fail "$stderr"
}

@test "load of a directory fails" {
  run -1 --separate-stderr bgsh 'bgjob load "$BATS_TEST_TMPDIR"'
  [[ $stderr == *'cannot load plugin'* ]] || fail "$stderr"
}

@test "loading the example plugin twice fails the second time, and its callbacks still work" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob load "$EXAMPLE_SO"; echo "second=$?"
    bgjob funcs | cut -d" " -f1 | sort | tr "\n" " "; echo
    bgjob new -f join a b; bgjob new -f fail x; bgjob wait 0; echo "rc=$?"; bgjob result 0; bgjob wait 1 || echo dead'
  assert_output $'second=1\nbusy fail join sleep \nrc=0\na b\ndead'
  [[ $stderr == *'already registered'* ]] || fail "$stderr"
}

@test "new with an unknown callback fails and creates no job" {
  run -1 --separate-stderr bgsh "$LOAD"'; bgjob new -f nosuch a; rc=$?; bgjob status; exit $rc'
  assert_output ''
  [[ $stderr == *'nosuch: no such callback'* ]] || fail "$stderr"
}

@test "the example callbacks are unknown before the plugin is loaded" {
  run -1 --separate-stderr bgsh 'bgjob new -f join a'
  [[ $stderr == *'join: no such callback'* ]] || fail "$stderr"
}

@test "sleep with a non-numeric argument ends Dead with a message naming the argument" {
  run -0 bgsh 'bgjob new -f sleep abc; bgjob wait 0; echo "rc=$?"; bgjob traceback 0'
  assert_line --index 0 'rc=1'
  assert_line --index 1 'Traceback for: <BackgroundJob #0: sleep abc>'
  assert_line --index 2 --partial 'abc'
  assert_line --index 2 --partial 'not a valid number of seconds'
}

@test "sleep without arguments or with too many ends Dead with its usage" {
  run -0 bgsh 'bgjob new -f sleep; bgjob new -f sleep 1 2 3; bgjob wait 0 1; echo "rc=$?"
    bgjob traceback 0 | tail -n +2; bgjob traceback 1 | tail -n +2'
  assert_output $'rc=1\nusage: sleep SECONDS [VALUE]\nusage: sleep SECONDS [VALUE]'
}

@test "sleep with a negative number of seconds ends Dead" {
  run -0 bgsh 'bgjob new -f sleep -- -1; bgjob wait 0; echo "rc=$?"; bgjob traceback 0 | tail -n +2'
  assert_output $'rc=1\nsleep: `-1'"'"': not a valid number of seconds'
}

@test "busy with wrong arguments ends Dead with its usage" {
  run -0 bgsh "$LOAD"'; bgjob new -f busy; bgjob new -f busy -- -5; bgjob wait 0 1; echo "rc=$?"
    bgjob traceback 0 | tail -n +2; bgjob traceback 1 | tail -n +2'
  assert_output $'rc=1\nusage: busy ITERATIONS\nbusy: ITERATIONS must be a non-negative integer'
}

@test "arguments that start with a dash reach the callback after --" {
  run -0 bgsh "$LOAD"'; bgjob new -f join -- -d -v x --; bgjob wait 0; bgjob result 0'
  assert_output '-d -v x --'
}
