#!/usr/bin/env bats
# 30-arith.bats - arithmetic jobs through the real builtin: values and
# bash's exact error lines, the variable snapshot taken at `new', arrays,
# set -u, and the assignments a job reports.

load helper

@test "arith: value of a simple expression" {
  run bgsh 'bgjob new "2**20 + 3*4"; bgjob wait; bgjob result 0'
  assert_success
  assert_output "1048588"
}

@test "arith: wraparound and bases like let" {
  run bgsh 'bgjob new "9223372036854775807 + 1"; bgjob new "64#_ + 0x10 + 010 + 2#11"; bgjob wait
            bgjob result 0; bgjob result 1'
  assert_success
  assert_output $'-9223372036854775808\n90'
}

@test "arith: division by zero is the job's traceback, with let's text" {
  run bgsh 'bgjob new "2/0"; bgjob wait; bgjob traceback 0; echo "shell alive"'
  assert_success
  assert_line --index 0 'Traceback for: <BackgroundJob #0: 2/0>'
  assert_line --index 1 '2/0: division by 0 (error token is "0")'
  assert_line --index 2 'shell alive'
}

@test "arith: syntax errors match let" {
  run bgsh 'bgjob new "1 +"; bgjob new "(1"; bgjob new "08"; bgjob wait
            for i in 0 1 2; do bgjob traceback $i | sed -n 2p; done
            for e in "1 +" "(1" "08"; do let "$e" 2>&1 | sed "s/^bgsh: line [0-9]*: let: //"; done'
  assert_success
  assert_line --index 0 '1 +: syntax error: operand expected (error token is "+")'
  assert_line --index 1 '(1: missing `)'"'"' (error token is "1")'
  assert_line --index 2 '08: value too great for base (error token is "08")'
  assert_equal "${lines[0]}" "${lines[3]}"
  assert_equal "${lines[1]}" "${lines[4]}"
  assert_equal "${lines[2]}" "${lines[5]}"
}

@test "arith: the snapshot is taken at new; the shell may change variables at once" {
  run bgsh 'x=5; y="x*2"; bgjob new "y + 1"; x=100; unset y; bgjob wait; bgjob result 0'
  assert_success
  assert_output "11"
}

@test "arith: arrays, negative subscripts, associative keys" {
  run bgsh 'a=(10 20 30); declare -A h=([k]=4 ["a b"]=5); i=1
            bgjob new "a[-1] + a[\$i] + h[k] + h[a b]"; a=(); bgjob wait; bgjob result 0'
  assert_success
  assert_output "59"
}

@test "arith: an error inside a subscript kills only the job" {
  run bgsh 'bgjob new "a[1/0]"; bgjob wait; bgjob traceback 0 | sed -n 2p; echo alive'
  assert_success
  assert_output $'1/0: division by 0 (error token is "0")\nalive'
}

@test "arith: set -u is captured; an unbound variable fails the job, not the shell" {
  run bgsh 'set -u; bgjob new "nosuch + 1"; set +u; bgjob wait; bgjob traceback 0 | sed -n 2p; echo alive'
  assert_success
  assert_output $'nosuch: unbound variable\nalive'
}

@test "arith: assignments stay in the job and are listed by show" {
  run bgsh 'x=1; a=(1 2); bgjob new "x += 41, a[1] *= 5, z = x"; bgjob wait
            echo "x=$x z=${z-unset}"; declare -A S; bgjob show -v S 0
            printf "%s" "${S[assignments]}"; eval "${S[assignments]}"; echo "x=$x z=$z a=${a[*]}"'
  assert_success
  assert_line --index 0 'x=1 z=unset'
  assert_line "declare -- x='42'"
  assert_line "declare -a a=([0]='1' [1]='10')"
  assert_line "declare -- z='42'"
  assert_line 'x=42 z=42 a=1 10'
}

@test "arith: an expression starting with - after --" {
  run bgsh 'bgjob new -- -5+1; bgjob wait; bgjob result 0'
  assert_success
  assert_output "-4"
}

@test "arith: readonly variables, recursion limit and the empty expression" {
  run bgsh 'readonly ro=1; r="r+1"; bgjob new "ro = 2"; bgjob new "r"; bgjob new ""; bgjob wait
            bgjob traceback 0 | sed -n 2p; bgjob traceback 1 | sed -n 2p; bgjob result 2'
  assert_success
  assert_line --index 0 'ro: readonly variable'
  assert_line --index 1 'r+1: expression recursion level exceeded (error token is "r+1")'
  assert_line --index 2 '0'
}

@test "arith: namerefs, including to an array element" {
  run bgsh 'arr=(1 2 3); declare -n r="arr[2]"; declare -n s=x; x=7; bgjob new "r * 10 + s"; bgjob wait; bgjob result 0'
  assert_success
  assert_output "37"
}

@test "arith: dynamic variables fail the job with a clear message" {
  run bgsh 'bgjob new "RANDOM + 1"; bgjob wait; bgjob traceback 0 | sed -n 2p'
  assert_success
  assert_output 'RANDOM: dynamic variable, not reproducible in a background job'
}
