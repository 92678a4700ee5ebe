#!/usr/bin/env bats
# 90-badinput: the bad-input catalogue, table-driven.
#
# Every case runs in a fresh shell that first creates four jobs (0 Completed
# "5", 1 Dead by division by zero, 2 Running, 3 Completed "keep") and
# snapshots them with `show'.  Then the bad command runs; the case checks its
# status (2 usage error, 1 failure), that stderr holds the expected message,
# that stdout is empty, that the four jobs are exactly as before and that the
# next job still gets number 4 (a failed `new' uses up no number).

load helper

SETUP='
readonly RO=1; declare -rA RA=([k]=v); readonly -a RARR=(1 2)
bgjob new -v c0 -- "2 + 3" && bgjob new -v d1 -- 1/0 && bgjob new -v r2 -f sleep 600 &&
bgjob new -v c3 -f sleep 0 keep && bgjob wait -t 60 0 3; bgjob wait -t 60 1
snap() {
  local id; REPLY=
  for id in 0 1 2 3; do
    bgjob show -v j "$id" || { REPLY+="$id:missing;"; continue; }
    REPLY+="$id:${j[state]}:${j[result]}:${j[error]}:${j[command]}:${j[daemon]};"
  done
}
snap; before=$REPLY
'
# CHECK NEXT: after the bad command (its status in $rc), compares the jobs and
# the numbering; NEXT is the number the next job must get.
check() {
  printf '%s\n' '
snap
[[ $REPLY == "$before" ]] || echo "JOBS CHANGED: $before => $REPLY" >&2
bgjob new -v n -- 1 || echo "NEW FAILED AFTERWARDS" >&2
[[ $n == '"$1"' ]] || echo "NUMBERING CHANGED: next job is $n, expected '"$1"'" >&2
bgjob kill 2 2>/dev/null; bgjob wait 2 "$n"
echo "rc=$rc"'
}

# run_table EXPECTED-NEXT ROW...: each ROW is "STATUS ¦ STDERR-REGEX ¦ COMMAND".
run_table() {
  local next=$1; shift
  local row want re cmd failures=() n=0
  for row in "$@"; do
    want=${row%% ¦ *}; row=${row#* ¦ }; re=${row%% ¦ *}; cmd=${row#* ¦ }
    run --separate-stderr bgsh "$SETUP
$cmd >\"\$BATS_TEST_TMPDIR/out\"; rc=\$?
[[ -s \$BATS_TEST_TMPDIR/out ]] && echo \"STDOUT NOT EMPTY: \$(<\"\$BATS_TEST_TMPDIR/out\")\" >&2
$(check "$next")"
    n=$((n + 1))
    if [[ $status -ne 0 || $output != "rc=$want" ]]; then
      failures+=("[$cmd] exit $status, output '$output' (want rc=$want); stderr: $stderr")
    elif ! [[ $stderr =~ $re ]]; then
      failures+=("[$cmd] stderr '$stderr' does not match /$re/")
    elif [[ $stderr == *"JOBS CHANGED"* || $stderr == *"NUMBERING CHANGED"* || $stderr == *"NEW FAILED"* || $stderr == *"STDOUT NOT EMPTY"* ]]; then
      failures+=("[$cmd] $stderr")
    fi
  done
  echo "# $n bad inputs tried, ${#failures[@]} wrong" >&3
  if ((${#failures[@]})); then
    printf '%s\n' "${failures[@]}"
    return 1
  fi
}
export BATS_TEST_TMPDIR

@test "unknown subcommands and options are usage errors that touch no job" {
  run_table 4 \
    "2 ¦ bogus: unknown subcommand ¦ bgjob bogus" \
    "2 ¦ unknown subcommand ¦ bgjob ''" \
    "2 ¦ STATUS: unknown subcommand ¦ bgjob STATUS" \
    "2 ¦ -x: invalid option ¦ bgjob status -x" \
    "2 ¦ -q: invalid option ¦ bgjob new -dq 1" \
    "2 ¦ -f: invalid option ¦ bgjob show -f 0" \
    "2 ¦ -v: invalid option ¦ bgjob kill -v x 2" \
    "2 ¦ -n: invalid option ¦ bgjob flush -n" \
    "2 ¦ --bogus|-: invalid option ¦ bgjob wait --bogus" \
    "2 ¦ too many arguments ¦ bgjob status extra" \
    "2 ¦ too many arguments ¦ bgjob flush now" \
    "2 ¦ too many arguments ¦ bgjob funcs x" \
    "2 ¦ too many arguments ¦ bgjob traceback 1 2" \
    "2 ¦ too many arguments ¦ bgjob show 0 1" \
    "2 ¦ an expression is required ¦ bgjob new" \
    "2 ¦ an expression is required ¦ bgjob new -d --" \
    "2 ¦ -v: option requires an argument ¦ bgjob new -v" \
    "2 ¦ -f: option requires an argument ¦ bgjob new -f" \
    "2 ¦ a plugin name or path is required ¦ bgjob load" \
    "2 ¦ too many arguments ¦ bgjob load a b"
}

@test "missing, negative, non-numeric and huge job numbers are usage errors" {
  run_table 4 \
    "2 ¦ a job number is required ¦ bgjob show" \
    "2 ¦ a job number is required ¦ bgjob result" \
    "2 ¦ a job number is required ¦ bgjob remove" \
    "2 ¦ a job number is required ¦ bgjob kill" \
    "2 ¦ -1: not a valid job number ¦ bgjob show -1" \
    "2 ¦ -1: not a valid job number ¦ bgjob result -- -1" \
    "2 ¦ -5: not a valid job number ¦ bgjob wait -- -5" \
    "2 ¦ abc: not a valid job number ¦ bgjob result abc" \
    "2 ¦ not a valid job number ¦ bgjob remove 1.5" \
    "2 ¦ not a valid job number ¦ bgjob kill 0x2" \
    "2 ¦ not a valid job number ¦ bgjob show ' 1'" \
    "2 ¦ not a valid job number ¦ bgjob show '1 '" \
    "2 ¦ not a valid job number ¦ bgjob show +1" \
    "2 ¦ not a valid job number ¦ bgjob traceback 1e3" \
    "2 ¦ not a valid job number ¦ bgjob show ''" \
    "2 ¦ 9223372036854775808: not a valid job number ¦ bgjob show 9223372036854775808" \
    "2 ¦ not a valid job number ¦ bgjob wait 18446744073709551616" \
    "2 ¦ not a valid job number ¦ bgjob kill 99999999999999999999999999999999999999" \
    "2 ¦ not a valid job number ¦ bgjob remove 3 x 0"
}

@test "unknown job numbers fail with status 1 and a message naming the job" {
  run_table 4 \
    "1 ¦ job 12345 not found ¦ bgjob show 12345" \
    "1 ¦ job 12345 not found ¦ bgjob result 12345" \
    "1 ¦ job 12345 not found ¦ bgjob traceback 12345" \
    "1 ¦ job 12345 not found ¦ bgjob remove 12345" \
    "1 ¦ job 12345 not found ¦ bgjob kill 12345" \
    "1 ¦ job 12345 not found ¦ bgjob wait 12345" \
    "1 ¦ job 9223372036854775807 not found ¦ bgjob show 9223372036854775807" \
    "1 ¦ job 4 not found ¦ bgjob result 4" \
    "1 ¦ job 99 not found.*job 12345 not found ¦ bgjob remove 99 12345" \
    "1 ¦ job 2 is still running ¦ bgjob result 2" \
    "1 ¦ bgjob traceback 1 ¦ bgjob result 1" \
    "1 ¦ job 2 is still running ¦ bgjob remove 2" \
    "1 ¦ job 0 completed: it has no traceback ¦ bgjob traceback 0" \
    "1 ¦ job 0 has already finished ¦ bgjob kill 0"
}

@test "invalid -v names are usage errors and readonly targets fail, for every subcommand with -v" {
  run_table 4 \
    "2 ¦ not a valid identifier ¦ bgjob new -v 1bad 1" \
    "2 ¦ not a valid identifier ¦ bgjob new -v 'a b' -f sleep 0" \
    "2 ¦ not a valid identifier ¦ bgjob new -v 'a[' 1" \
    "2 ¦ not a valid identifier ¦ bgjob new -v '' 1" \
    "2 ¦ not a valid identifier ¦ bgjob result -v x-y 0" \
    "2 ¦ not a valid identifier ¦ bgjob result -v '\$x' 0" \
    "2 ¦ not a valid identifier ¦ bgjob status -v x-y" \
    "2 ¦ not a valid identifier ¦ bgjob status -v ''" \
    "2 ¦ not a valid identifier ¦ bgjob show -v 9 0" \
    "2 ¦ not a valid identifier ¦ bgjob show -v 'a[1]x' 0" \
    "1 ¦ RO: readonly variable ¦ bgjob new -v RO 1" \
    "1 ¦ RO: readonly variable ¦ bgjob result -v RO 0" \
    "1 ¦ readonly variable ¦ bgjob new -v 'RARR[1]' -f sleep 0" \
    "1 ¦ RA: readonly variable ¦ bgjob status -v RA" \
    "1 ¦ RA: readonly variable ¦ bgjob show -v RA 0" \
    "1 ¦ readonly variable ¦ bgjob new -v BASH_VERSINFO 1"
}

@test "bad numbers of seconds are usage errors" {
  local rows=() t re
  for t in abc -1 '' inf nan NaN 1e999 2e9 0x ' 1' '1 ' 1s 2m ++1 -- ; do
    re=$(printf '%s' "$t" | sed 's/[][\\.*^$+?(){}|]/\\&/g')    # the value, as a regex
    rows+=("2 ¦ wait: $re: invalid number of seconds \\(e\\.g\\. ¦ bgjob wait -t '$t' 0")
  done
  run_table 4 "${rows[@]}"
}

@test "bytes that are not UTF-8 and NUL-free binary junk get clear messages" {
  run_table 4 \
    "2 ¦ unknown subcommand ¦ bgjob \$'\\xff\\xfe'" \
    "2 ¦ unknown subcommand ¦ bgjob \$'\\x01\\x02\\x7f\\x80junk\\x1b[31m'" \
    "2 ¦ not a valid job number ¦ bgjob result \$'\\xff'" \
    "2 ¦ not a valid job number ¦ bgjob kill \$'1\\x80'" \
    "2 ¦ invalid option ¦ bgjob status \$'-\\xc3\\xa9'" \
    "2 ¦ not a valid identifier ¦ bgjob new -v \$'\\xe2\\x82' 1" \
    "2 ¦ not a valid identifier ¦ bgjob status -v \$'\\x01\\x02'" \
    "2 ¦ invalid number of seconds ¦ bgjob wait -t \$'\\xff' 0" \
    "1 ¦ no such callback ¦ bgjob new -f \$'\\xff\\x00'" \
    "1 ¦ cannot load plugin|not found|No such file ¦ bgjob load \$'/nonexistent/\\xff\\xfe.so'"
}

@test "bgjob load of a non-ELF file, a directory or a missing file fails with status 1" {
  printf 'not an ELF file\n' > "$BATS_TEST_TMPDIR/text.so"
  head -c 4096 /dev/urandom | tr -d '\0' > "$BATS_TEST_TMPDIR/junk.so"
  printf '\177ELF\2\1\1' > "$BATS_TEST_TMPDIR/truncated.so"
  run_table 4 \
    "1 ¦ text.so.*(invalid ELF header|too short) ¦ bgjob load \"\$BATS_TEST_TMPDIR/text.so\"" \
    "1 ¦ junk.so ¦ bgjob load \"\$BATS_TEST_TMPDIR/junk.so\"" \
    "1 ¦ truncated.so ¦ bgjob load \"\$BATS_TEST_TMPDIR/truncated.so\"" \
    "1 ¦ passwd.*invalid ELF header ¦ bgjob load /etc/passwd" \
    "1 ¦ Is a directory|cannot ¦ bgjob load /tmp" \
    "1 ¦ No such file ¦ bgjob load /nonexistent/plugin.so" \
    "1 ¦ no such callback ¦ bgjob new -f nosuch 1" \
    "1 ¦ no such callback ¦ bgjob new -v id -f '' 1"
}

@test "callbacks given wrong arguments: sleep's checker refuses them at new (status 2, no job); the example's die" {
  # sleep has an argument checker: `new' refuses (status 2) and uses no
  # number.  The example plugin's callbacks check on the worker: Dead jobs.
  local rows=() a
  for a in '' '1 2 3' '-- -1' soon nan inf 1e10 "\$'\\xff'" "''"; do
    rows+=("2 ¦ (not a valid number of seconds|wrong number of arguments) ¦ bgjob new -v bad -f sleep $a")
  done
  run_table 4 "${rows[@]}"
  run_table 7 "0 ¦ ^$ ¦ bgjob load \"\$EXAMPLE_SO\" >/dev/null 2>&1; bgjob new -v bad -f busy; bgjob new -v bad2 -f busy -- -5; bgjob new -v bad3 -f fail; bgjob wait -t 60 \$bad \$bad2 \$bad3; for b in \$bad \$bad2 \$bad3; do bgjob show -v j \$b; [[ \${j[state]} == Dead && -n \${j[error]} ]] || echo \"JOBS CHANGED: \$b \${j[state]}\" >&2; done; bgjob remove \$bad \$bad2 \$bad3; true"
}

# Sizes: full (699051 bytes, 1 MiB, and 512 KiB of open parentheses that
# reach the evaluator's nesting limit of 1,000,000 frames, so that `new'
# accepts the job and it ends Dead) in the plain run; in the ASan run of
# `make test' a small size (32 KiB, 64 KiB, 8 KiB of parentheses, which `new'
# refuses as a syntax error, using no number): under ASan the full size takes
# about 800 MB and 1.5 CPU-minutes, nearly all of it bash's own expansions.
# The nesting limit itself is checked under ASan by tests/c/test_arith.c;
# `make check-full' runs this case under ASan at full size
# (BGJOB_TEST_SIZE=full; BGJOB_TEST_SIZE=small forces the small one).
@test "empty and large expressions are evaluated like bash does, and huge garbage fails cleanly" {
  # No fork once a job exists (printf -v, no command substitution): under
  # ASan (gcc 12) a child forked while a worker is inside malloc can hang.
  local size=${BGJOB_TEST_SIZE:-${BGJOB_PRELOAD:+small}} nbig=349525 nmega=262144 njunk=262144
  [[ $size == small ]] && nbig=16384 nmega=16384 njunk=4096
  echo "# size ${size:-full}: $nbig terms, $nmega products, $njunk (( pairs" >&3
  run -0 --separate-stderr bgsh '
    printf -v big "1+%.0s" {1..'$nbig'}; big+=1          # 2*nbig+1 bytes (699051 at full size)
    printf -v mega "2*1+%.0s" {1..'$nmega'}; mega+=0     # 4*nmega+1 bytes (1 MiB at full size)
    printf -v junk "((%.0s" {1..'$njunk'}                # open parentheses (512 KiB at full size)
    bgjob new -v e0 -- "" || exit 10
    bgjob new -v e1 -- "$big" && bgjob new -v e2 -- "$mega" || exit 11
    e3=; bgjob new -v e3 -- "$junk" 2> "$BATS_TEST_TMPDIR/err3"; echo "new3=$?"
    read -r -d "" err3 < "$BATS_TEST_TMPDIR/err3"; [[ $err3 == *"syntax error"* ]] && echo "err3 syntax"
    bgjob wait -t 200 $e0 $e1 $e2; echo "wait=$?"
    if [[ -n $e3 ]]; then
      bgjob wait -t 200 $e3; echo "wait3=$?"
      bgjob show -v j $e3; echo "state3=${j[state]}"; [[ -n ${j[error]} ]] && echo "error3 set"
    fi
    bgjob result -v r0 $e0; bgjob result -v r1 $e1; bgjob result -v r2 $e2; echo "r0=$r0 r1=$r1 r2=$r2"
    echo "bash: $(( big )) $(( mega ))"
    bgjob new -v ok -- 6*7 && bgjob wait $ok && bgjob result -v r $ok && echo "ok=$ok $r"'
  assert_line 'wait=0'
  assert_line "r0=0 r1=$((nbig + 1)) r2=$((2 * nmega))"
  assert_line "bash: $((nbig + 1)) $((2 * nmega))"
  if [[ $size == small ]]; then
    # refused by new: a syntax error, no job, no number used
    assert_line 'new3=1'
    assert_line 'err3 syntax'
    refute_line --partial 'state3='
    assert_line 'ok=3 42'
  else
    assert_line 'new3=0'
    assert_line 'wait3=1'
    assert_line 'state3=Dead'
    assert_line 'error3 set'
    assert_line 'ok=4 42'
  fi
}
