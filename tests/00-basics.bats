#!/usr/bin/env bats
# 00-basics: help, usage errors (status 2, message and usage line), the empty
# manager, and the list of shipped callbacks.

load helper

# expect_usage_error SCRIPT MESSAGE USAGE: SCRIPT ends with status 2, prints
# nothing on stdout, and stderr holds MESSAGE and the usage line "bgjob: usage: USAGE".
expect_usage_error() {
  run -2 --separate-stderr bgsh "$1"
  assert_output ''
  [[ $stderr == *"$2"* ]] || fail "stderr lacks \"$2\": $stderr"
  [[ $stderr == *"bgjob: usage: $3"* ]] || fail "stderr lacks the usage line \"bgjob: usage: $3\": $stderr"
}

@test "help bgjob prints the full help with every subcommand and exits 0" {
  run -0 bgsh 'help bgjob'
  assert_line --partial 'Run arithmetic and C callbacks as background jobs'
  for sub in 'new [-d] [-v VAR] [-t SECONDS] [-c FUNC] [-a IDS] [-A IDS] [-r N] [-R SECONDS] [-g NAME] [-k KEY] [--] EXPRESSION...' 'new [-d] [-v VAR] [-t SECONDS] [-c FUNC] [-a IDS] [-A IDS] [-r N] [-R SECONDS] [-g NAME] [-k KEY] -f NAME [ARG...]' \
             'status [-n] [-g NAME] [-v ARRAY | --json [--output]]' 'show [-v ARRAY | --json [--output]] ID' 'result [-w] [-v VAR] ID' 'traceback [ID]' \
             'remove ID...' 'flush [-f]' 'wait [-nq] [-p VAR] [-t SECONDS] [-g NAME | ID...]' 'kill -g NAME | ID...' 'funcs' 'load NAME|PATH' 'notify [prompt|now|off]' 'group [NAME [-j N] [-h POLICY]]' 'log [-j|-r] [FILE|-]' 'help [--usage|--version]'; do
    assert_line --partial "$sub"
  done
  assert_line --partial 'BGJOB_MAX_RUNNING'
  assert_line --partial 'enable -d bgjob'
}

@test "bgjob --help prints the same full help as help bgjob, on stdout, status 0" {
  run -0 --separate-stderr bgsh 'help bgjob'
  local expected=$output
  run -0 --separate-stderr bgsh 'bgjob --help'
  assert_equal "$stderr" ''
  assert_equal "$output" "$expected"
  assert_line --partial 'load NAME|PATH'
}

@test "bgjob help prints the full help too" {
  run -0 bgsh 'help bgjob'
  local expected=$output
  run -0 bgsh 'bgjob help'
  assert_equal "$output" "$expected"
}

@test "bgjob -h prints the same full help as bgjob --help" {
  run -0 bgsh 'bgjob --help'
  local expected=$output
  run -0 --separate-stderr bgsh 'bgjob -h'
  assert_equal "$output" "$expected"
  assert_equal "$stderr" ''
}

@test "bgjob --version prints the version and the plugin API version" {
  run -0 --separate-stderr bgsh 'bgjob --version; bgjob help --version'
  assert_line --index 0 'bgjob 0.3.0'
  assert_line --index 1 'plugin API version 4'
  assert_equal "${#lines[@]}" 6
  assert_equal "$stderr" ''
}

@test "bgjob --usage prints one line per synopsis, the same ones a usage error prints" {
  run -0 bgsh 'bgjob --usage'
  assert_line --regexp '^bgjob new \[-d\] \[-v VAR\] \[-t SECONDS\] \[-c FUNC\] \[-a IDS\] \[-A IDS\] \[-r N\] \[-R SECONDS\] \[-g NAME\] \[-k KEY\] \[--\] EXPRESSION\.\.\. +arithmetic job'
  assert_line --regexp '^bgjob wait \[-nq\] \[-p VAR\] \[-t SECONDS\] \[-g NAME \| ID\.\.\.\] +wait for'
  local usage=$output
  run -2 --separate-stderr bgsh 'bgjob new'
  [[ $stderr == *$'bgjob: usage: bgjob new [-d] [-v VAR] [-t SECONDS] [-c FUNC] [-a IDS] [-A IDS] [-r N] [-R SECONDS] [-g NAME] [-k KEY] [--] EXPRESSION...\n              bgjob new [-d] [-v VAR] [-t SECONDS] [-c FUNC] [-a IDS] [-A IDS] [-r N] [-R SECONDS] [-g NAME] [-k KEY] -f NAME [ARG...]'* ]] || fail "$stderr"
  run -0 bgsh 'bgjob help --usage'
  assert_equal "$output" "$usage"
}

@test "help synopsis lines are the usage lines" {
  run -0 bgsh 'bgjob --usage | sed "s/^bgjob //; s/  .*//"'
  local syn=$output
  run -0 bgsh 'help bgjob'
  local line
  while IFS= read -r line; do
    [[ $output == *$'\n'"      $line"$'\n'* ]] || fail "help lacks the synopsis line: $line"
  done <<< "$syn"
}

@test "--help after a subcommand prints the help and does nothing else" {
  run -0 bgsh 'bgjob new --help; echo "last=${BGJOB_LAST-unset}"; bgjob status'
  assert_line --partial 'Subcommands:'
  assert_line 'last=unset'
}

@test "an unknown subcommand is a usage error" {
  expect_usage_error 'bgjob bogus' 'bgjob: bogus: unknown subcommand' 'bgjob ['
}

@test "an unknown option is a usage error naming the option" {
  expect_usage_error 'bgjob status -x' 'status: -x: invalid option' 'bgjob [status [-n] [-g NAME] [-v ARRAY | --json [--output]]]'
  expect_usage_error 'bgjob wait -x 0' 'wait: -x: invalid option' 'bgjob wait [-nq] [-p VAR] [-t SECONDS] [-g NAME | ID...]'
  expect_usage_error 'bgjob flush -n' 'flush: -n: invalid option' 'bgjob flush [-f]'
  expect_usage_error 'bgjob new -dz -f sleep 0' 'new: -z: invalid option' 'bgjob new'
}

@test "a missing job ID is a usage error for show, result, remove and kill" {
  expect_usage_error 'bgjob show' 'show: a job number is required' 'bgjob show [-v ARRAY | --json [--output]] ID'
  expect_usage_error 'bgjob result' 'result: a job number is required' 'bgjob result [-w] [-v VAR] ID'
  expect_usage_error 'bgjob remove' 'remove: a job number is required' 'bgjob remove ID...'
  expect_usage_error 'bgjob kill' 'kill: a job number is required' 'bgjob kill -g NAME | ID...'
}

@test "a non-numeric job ID is a usage error for every subcommand that takes IDs" {
  expect_usage_error 'bgjob show abc' 'show: abc: not a valid job number' 'bgjob show'
  expect_usage_error 'bgjob result 1x' 'result: 1x: not a valid job number' 'bgjob result'
  expect_usage_error 'bgjob traceback abc' 'traceback: abc: not a valid job number' 'bgjob traceback'
  expect_usage_error 'bgjob remove 0 abc' 'remove: abc: not a valid job number' 'bgjob remove'
  expect_usage_error 'bgjob kill 0.5' 'kill: 0.5: not a valid job number' 'bgjob kill'
  expect_usage_error 'bgjob wait abc' 'wait: abc: not a valid job number' 'bgjob wait'
  expect_usage_error 'bgjob result ""' 'result: : not a valid job number' 'bgjob result'
}

@test "a negative job ID is a usage error" {
  expect_usage_error 'bgjob result -1' 'result: -1: not a valid job number' 'bgjob result [-w] [-v VAR] ID'
  expect_usage_error 'bgjob remove -- -1' 'remove: -1: not a valid job number' 'bgjob remove ID...'
  expect_usage_error 'bgjob kill -- -3' 'kill: -3: not a valid job number' 'bgjob kill -g NAME | ID...'
}

@test "a job ID beyond 2^63-1 is a usage error, the largest one is merely not found" {
  expect_usage_error 'bgjob result 99999999999999999999' \
    'result: 99999999999999999999: not a valid job number' 'bgjob result'
  expect_usage_error 'bgjob show 9223372036854775808' \
    'show: 9223372036854775808: not a valid job number' 'bgjob show'
  run -1 --separate-stderr bgsh 'bgjob result 9223372036854775807'
  assert_output ''
  [[ $stderr == *'job 9223372036854775807 not found'* ]]
}

@test "a bad -v name in new is a usage error and creates no job" {
  expect_usage_error 'bgjob new -v 1bad -f sleep 0' "\`1bad': not a valid identifier" 'bgjob new'
  run -0 bgsh 'bgjob new -v 1bad -f sleep 0 2>/dev/null; echo "last=${BGJOB_LAST-unset}"; bgjob status'
  assert_output 'last=unset'
}

@test "a bad -v name in result is a usage error" {
  expect_usage_error 'bgjob new -f sleep 0; bgjob wait; bgjob result -v 1bad 0' \
    "\`1bad': not a valid identifier" 'bgjob result [-w] [-v VAR] ID'
}

@test "a bad -v name in status is a usage error" {
  expect_usage_error 'bgjob status -v 1bad' "\`1bad': not a valid identifier" 'bgjob [status [-n] [-g NAME] [-v ARRAY | --json [--output]]]'
}

@test "a bad -v name in show is a usage error" {
  expect_usage_error 'bgjob new -f sleep 0; bgjob wait; bgjob show -v 1bad 0' \
    "\`1bad': not a valid identifier" 'bgjob show [-v ARRAY | --json [--output]] ID'
}

@test "a bad wait timeout is a usage error: not a number, negative, empty" {
  expect_usage_error 'bgjob wait -t abc' 'wait: abc: invalid number of seconds' 'bgjob wait [-nq] [-p VAR] [-t SECONDS] [-g NAME | ID...]'
  expect_usage_error 'bgjob wait -t -1' 'wait: -1: invalid number of seconds' 'bgjob wait'
  expect_usage_error 'bgjob wait -t ""' 'invalid number of seconds' 'bgjob wait'
  expect_usage_error 'bgjob wait -t 1s' 'wait: 1s: invalid number of seconds' 'bgjob wait'
  expect_usage_error 'bgjob wait -t nan' 'wait: nan: invalid number of seconds' 'bgjob wait'
}

@test "an option missing its argument is a usage error" {
  expect_usage_error 'bgjob wait -t' 'wait: -t: option requires an argument' 'bgjob wait'
  expect_usage_error 'bgjob result -v' 'result: -v: option requires an argument' 'bgjob result'
  expect_usage_error 'bgjob new -f' 'new: -f: option requires an argument' 'bgjob new'
  expect_usage_error 'bgjob status -v' 'status: -v: option requires an argument' 'bgjob [status'
}

@test "extra or missing operands are usage errors" {
  expect_usage_error 'bgjob status extra' 'status: extra: too many arguments' 'bgjob [status'
  expect_usage_error 'bgjob funcs extra' 'funcs: extra: too many arguments' 'bgjob funcs'
  expect_usage_error 'bgjob load' 'load: a plugin name or path is required' 'bgjob load NAME|PATH'
  expect_usage_error 'bgjob load a b' 'load: too many arguments' 'bgjob load NAME|PATH'
  expect_usage_error 'bgjob new' 'new: an expression is required' 'bgjob new'
  expect_usage_error 'bgjob result 0 1' 'result: too many arguments' 'bgjob result'
  expect_usage_error 'bgjob traceback 0 1' 'traceback: too many arguments' 'bgjob traceback'
}

@test "a usage error uses up no job number" {
  run -0 bgsh 'bgjob new 2>/dev/null; bgjob new -dz -f sleep 0 2>/dev/null; bgjob new -v 2bad -f sleep 0 2>/dev/null
    bgjob new -v n -f sleep 0; bgjob wait; echo "n=$n"'
  assert_output 'n=0'
}

@test "bgjob with no jobs prints nothing and succeeds, as do status and status -n" {
  run -0 --separate-stderr bgsh 'bgjob; bgjob status; bgjob status -n'
  assert_output ''
  assert_equal "$stderr" ''
}

@test "status -v with no jobs makes an empty associative array" {
  run -0 bgsh 'bgjob status -v S; declare -p S'
  assert_output 'declare -A S=()'
}

@test "funcs lists the shipped sleep and run callbacks with their usage" {
  run -0 bgsh 'bgjob funcs'
  assert_line --regexp '^sleep +sleep SECONDS \[VALUE\]'
  assert_line --regexp '^run +run CMD \[ARG\.\.\.\]'
  assert_equal "${#lines[@]}" 2
}

@test "a shell without jobs exits at once and silently" {
  run -0 --separate-stderr bgsh 'bgjob funcs >/dev/null; exit 0'
  assert_equal "$stderr" ''
}
