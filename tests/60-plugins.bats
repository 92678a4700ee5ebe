#!/usr/bin/env bats
# 60-plugins: bgjob load (the example plugin, by path or by name through
# BASH_LOADABLES_PATH, missing files, files that are not plugins, other API
# versions, loading twice), the example callbacks, and callbacks given wrong
# arguments.

load helper

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'
TIMER='start() { t0=${EPOCHREALTIME//[!0-9]/}; }; ms() { echo $(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 )); }'
NOINIT_SO=$BGJOB_ROOT/build/plugins/noinit.so
BADVERSION_SO=$BGJOB_ROOT/build/plugins/badversion.so
EXAMPLE_V1_SO=$BGJOB_ROOT/build/plugins/example-v1.so
export NOINIT_SO BADVERSION_SO EXAMPLE_V1_SO

@test "load of the example plugin succeeds silently and funcs lists busy, join and fail" {
  run -0 --separate-stderr bgsh 'bgjob load "$EXAMPLE_SO"; echo "rc=$?"; bgjob funcs'
  assert_equal "$stderr" ''
  assert_line --index 0 'rc=0'
  assert_line --regexp '^sleep +sleep SECONDS \[VALUE\]'
  assert_line --regexp '^busy +busy ITERATIONS'
  assert_line --regexp '^join +join WORD\.\.\.'
  assert_line --regexp '^fail +fail MESSAGE'
  assert_line --regexp '^getenv +getenv NAME'
  assert_line --regexp '^capture +capture PROGRAM'
  assert_line --regexp '^run +run CMD'
  assert_line --regexp '^block +block'
  assert_line --regexp '^readfile +readfile NAME'
  assert_equal "${#lines[@]}" 10
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
  assert_output '2'
  [[ $stderr == *'no bgjob_plugin_init'* ]] || fail "$stderr"
}

@test "load of a plugin built for another API version fails naming both versions" {
  [ -f "$BADVERSION_SO" ]
  run -1 --separate-stderr bgsh 'bgjob load "$BADVERSION_SO"; rc=$?; bgjob funcs | wc -l; exit $rc'
  assert_output '2'
  [[ $stderr == *'API version 999'* ]] || fail "$stderr"
  [[ $stderr == *'versions 1 to 4'* ]] || fail "$stderr"
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

@test "loading the example plugin twice is a no-op with a note, status 0, and its callbacks still work" {
  run -0 --separate-stderr bgsh "$LOAD"'
    bgjob load "$EXAMPLE_SO"; echo "second=$?"
    bgjob funcs | cut -d" " -f1 | sort | tr "\n" " "; echo
    bgjob new -f join a b; bgjob new -f fail x; bgjob wait 0; echo "rc=$?"; bgjob result 0; bgjob wait 1 || echo dead'
  assert_output $'second=0\nblock busy capture fail getenv join readfile run sleep \nrc=0\na b\ndead'
  [[ $stderr == *'bgjob-example.so: plugin already loaded'* ]] || fail "$stderr"
  [[ $stderr != *'initialisation failed'* ]] || fail "$stderr"
}

@test "load NAME finds NAME.so or NAME in BASH_LOADABLES_PATH, and the same file again is a no-op" {
  mkdir -p "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
  cp "$EXAMPLE_SO" "$BATS_TEST_TMPDIR/b/example.so"
  cp "$EXAMPLE_SO" "$BATS_TEST_TMPDIR/b/plain"
  run -0 --separate-stderr bgsh 'BASH_LOADABLES_PATH="$1/a::$1/b"
    bgjob load example; echo "rc=$?"; bgjob new -f join found; bgjob wait; bgjob result 0
    bgjob load example.so; echo "again=$?"' "$BATS_TEST_TMPDIR"
  assert_output $'rc=0\nfound\nagain=0'
  [[ $stderr == *'b/example.so: plugin already loaded'* ]] || fail "$stderr"
  run -0 --separate-stderr bgsh 'BASH_LOADABLES_PATH="$1/b"; bgjob load plain; echo "rc=$?"' "$BATS_TEST_TMPDIR"
  assert_output 'rc=0'
}

@test "load NAME that is nowhere names the directories searched, the plugin directory last" {
  run -1 --separate-stderr bgsh 'BASH_LOADABLES_PATH=/nonexistent/dir; bgjob load nosuchplugin'
  assert_output ''
  [[ $stderr == *'nosuchplugin: no such plugin'*'/nonexistent/dir:'*'/lib/bgjob/plugins)'* ]] || fail "$stderr"
}

@test "bgjob --version names the plugin directory that load NAME searches" {
  run -0 bgsh 'bgjob --version'
  assert_line --regexp '^plugin directory /.*/lib/bgjob/plugins$'
}

@test "a plugin declaring API version 0 is refused" {
  run -0 cc -shared -fPIC -I"$BGJOB_ROOT/lib" -DBGJOB_EXAMPLE_FAKE_VERSION=0 \
    -o "$BATS_TEST_TMPDIR/v0.so" "$BGJOB_ROOT/examples/bgjob-example.c"
  run -1 --separate-stderr bgsh 'bgjob load "$1"; rc=$?; bgjob funcs | wc -l; exit $rc' "$BATS_TEST_TMPDIR/v0.so"
  assert_output '2'
  [[ $stderr == *'API version 0;'*'versions 1 to '* ]] || fail "$stderr"
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

@test "sleep with a non-numeric argument is a usage error of new: status 2, no job, no number used" {
  run -0 --separate-stderr bgsh 'bgjob new -f sleep abc; echo "rc=$?"; bgjob status; bgjob new -v id -f sleep 0; echo "id=$id"'
  assert_output $'rc=2\nid=0'
  [[ $stderr == *'sleep: `abc'"'"': not a valid number of seconds'* ]] || fail "$stderr"
  [[ $stderr == *'usage: bgjob new'*'-f sleep SECONDS [VALUE]'* ]] || fail "$stderr"
}

@test "sleep without arguments or with too many is a usage error of new" {
  run -0 --separate-stderr bgsh 'bgjob new -f sleep; echo "rc=$?"; bgjob new -f sleep 1 2 3; echo "rc=$?"; bgjob status'
  assert_output $'rc=2\nrc=2'
  [[ $stderr == *'sleep: wrong number of arguments'* ]] || fail "$stderr"
}

@test "sleep with a negative number of seconds is a usage error of new" {
  run -0 --separate-stderr bgsh 'bgjob new -f sleep -- -1; echo "rc=$?"'
  assert_output 'rc=2'
  [[ $stderr == *'sleep: `-1'"'"': not a valid number of seconds'* ]] || fail "$stderr"
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

@test "a callback reads the shell's exported environment as it was at new, temporary assignments included" {
  run -0 --separate-stderr bgsh "$LOAD"'
    export A=one; B=unexported; bgjob new -f getenv A; A=changed
    T=temp bgjob new -f getenv T; bgjob new -f getenv B; bgjob wait 0 1; echo "rc=$?"
    bgjob result 0; bgjob result 1; bgjob wait 2; echo "unexported=$?"; bgjob traceback 2 | tail -n 1'
  assert_output $'rc=0\none\ntemp\nunexported=1\nnot set'
}

@test "a plugin runs a program through api->spawn in a shell that never ran a run job" {
  run -0 --separate-stderr bgsh "$LOAD"'; cd "$BATS_TEST_TMPDIR"; export GREETING=hello
    bgjob new -f capture sh -c "echo \$GREETING; pwd; exit 0"; bgjob new -f capture sh -c "echo oops >&2; exit 3"
    bgjob new -f capture no-such-program-here; bgjob wait; echo "rc=$?"
    bgjob result 0; bgjob traceback 1 | tail -n 1; bgjob traceback 2 | tail -n 1
    jobs; echo "bang=[$!]"'
  assert_output $'rc=1\nhello\n'"$BATS_TEST_TMPDIR"$'\noops\nno-such-program-here: command not found\nbang=[]'
  assert_equal "$stderr" ''
}

@test "extra fields set by a callback appear in show, after the fixed keys, printed and with -v" {
  run -0 --separate-stderr bgsh "$LOAD"'
    export V=x; bgjob new -f getenv V; bgjob wait 0
    eval "declare -A j=$(bgjob show 0)"; echo "${j[variable]} ${j[result]}"
    bgjob show -v k 0; echo "${k[variable]}"; bgjob show 0 | grep -o "\[variable\]=V )$"'
  assert_output $'V x\nV\n[variable]=V )'
}

@test "a plugin's argument checker makes new fail with status 2 and no job" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f getenv; echo "rc=$?"; bgjob new -f getenv a b; echo "rc=$?"
    bgjob new -v id -f getenv HOME; echo "id=$id"'
  assert_output $'rc=2\nrc=2\nid=0'
  [[ $stderr == *'getenv: exactly one NAME expected'*'usage: bgjob new'*'-f getenv NAME'* ]] || fail "$stderr"
}

@test "the version-1 header built from lib/bgjob.h declares exactly what bgjob 0.1 shipped" {
  run -0 "$BGJOB_ROOT/tests/plugins/abi.sh" "$BGJOB_ROOT/build/plugins/v1/bgjob.h"
  assert_output "$(< "$BGJOB_ROOT/tests/plugins/api-v1.txt")"
  assert_line 'int (*sleep)(bgjob_job *job, double seconds);'
}

@test "a plugin built for API version 1 (the old header) still loads and runs, without the version-2 callbacks" {
  [ -f "$EXAMPLE_V1_SO" ]
  run -0 --separate-stderr bgsh 'bgjob load "$EXAMPLE_V1_SO"; echo "rc=$?"; bgjob funcs | cut -d" " -f1 | sort | tr "\n" " "; echo
    bgjob new -f join old plugin; bgjob wait 0; bgjob result 0'
  assert_output $'rc=0\nbusy fail join run sleep \nold plugin'
  assert_equal "$stderr" ''
}

EXAMPLE_V2_SO=$BGJOB_ROOT/build/plugins/example-v2.so
export EXAMPLE_V2_SO

@test "the version-2 header built from lib/bgjob.h declares exactly what bgjob 0.2 shipped, spawn structs included" {
  run -0 "$BGJOB_ROOT/tests/plugins/abi.sh" "$BGJOB_ROOT/build/plugins/v2/bgjob.h" --spawn
  assert_output "$(< "$BGJOB_ROOT/tests/plugins/api-v2.txt")"
  assert_line 'size_t max_output;'
  assert_line 'void (*spawn_free)(struct bgjob_spawn_res *res);'
}

@test "a plugin built for API version 2 still runs programs through api->spawn (its smaller structs), without the version-3 callbacks" {
  [ -f "$EXAMPLE_V2_SO" ]
  run -0 --separate-stderr bgsh 'bgjob load "$EXAMPLE_V2_SO"; echo "rc=$?"; bgjob funcs | cut -d" " -f1 | sort | tr "\n" " "; echo
    cd "$1"; bgjob new -f capture sh -c "echo out; pwd"; bgjob new -f capture sh -c "echo bad >&2; exit 4"
    bgjob new -f capture no-such-cmd-xyz; bgjob wait
    bgjob result 0; bgjob traceback 1 | sed 1d; bgjob traceback 2 | sed 1d' "$BATS_TEST_TMPDIR"
  assert_output "rc=0
busy capture fail getenv join run sleep 
out
$BATS_TEST_TMPDIR
bad
no-such-cmd-xyz: command not found"
  assert_equal "$stderr" ''
}

@test "a plugin built for API version 3 gets a cancel descriptor (block) and the directory of new (readfile)" {
  printf 'first line\nsecond\n' > "$BATS_TEST_TMPDIR/f"
  run -0 --separate-stderr bgsh 'bgjob load "$EXAMPLE_SO"; bgjob funcs | cut -d" " -f1 | sort | tr "\n" " "; echo
    cd "$1"; bgjob new -f readfile f; cd /; bgjob new -f readfile f; bgjob new -f block
    bgjob wait 0 1; bgjob result 0; bgjob traceback 1 | sed 1d
    bgjob kill 2; bgjob wait 2; bgjob traceback 2 | sed 1d' "$BATS_TEST_TMPDIR"
  assert_output "block busy capture fail getenv join readfile run sleep 
first line
No such file or directory
cancelled by bgjob kill"
}
