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

SETUP='x=1; a=(1 2); declare -A h=([k]=3); v="1+"'

# same_as_let WORD...: what `bgjob new WORD...' prints and returns at once
# is what `let WORD...' prints and returns, with bgjob's name for let's.
same_as_let() {
  local q
  printf -v q ' %q' "$@"
  run bgsh "$SETUP"'; let'"$q"'; echo "rc=$?"'
  local expected=${output//let: /bgjob: }
  # (the job, if one was made, is waited for: else a busy machine may still
  # be running it at the exit, which says so)
  run bgsh "$SETUP"'; bgjob new'"$q"'; echo "rc=$?"; bgjob wait > /dev/null 2>&1'
  assert_equal "$output" "$expected"
}

# dead_like_let WORD...: `bgjob new WORD...' prints nothing and makes a job
# that dies with the error `let WORD...' prints.
dead_like_let() {
  local q
  printf -v q ' %q' "$@"
  run bgsh "$SETUP"'; let'"$q"' 2>&1 | sed "s/^bgsh: line [0-9]*: \(let: \)\{0,1\}//"'
  local expected=$output
  run bgsh "$SETUP"'; bgjob new'"$q"'; echo "rc=$?"; bgjob wait; bgjob traceback 0 | sed -n 2p'
  assert_equal "$output" "rc=0"$'\n'"$expected"
}

@test "arith: syntax errors are reported by new, exactly as let prints them" {
  run bgsh 'bgjob new "1 +"; echo "rc=$? last=${BGJOB_LAST-unset}"
            bgjob new "(1"; bgjob new "08"; bgjob new "0 && (1+)"; bgjob new -v id 7; echo "id=$id"; bgjob status'
  assert_success
  assert_line --index 0 'bgsh: line 2: bgjob: 1 +: syntax error: operand expected (error token is "+")'
  assert_line --index 1 'rc=1 last=unset'
  assert_line --index 2 'bgsh: line 3: bgjob: (1: missing `)'"'"' (error token is "1")'
  assert_line --index 3 'bgsh: line 3: bgjob: 08: value too great for base (error token is "08")'
  assert_line --index 4 'bgsh: line 3: bgjob: 0 && (1+): syntax error: operand expected (error token is ")")'
  assert_line --index 5 'id=0'
  for e in "1 +" "(1" "08" "0 && (1+)" "1 ? 2" "x = = 1" "++1" "a[1" "1 2" "x=1" "x=1, 2+" "1 ? 2 : (3" "\$x"; do
    same_as_let "$e"
  done
}

@test "arith: with several words, new reports the syntax error let would reach" {
  # Messages printed on the way come first, as let prints them.
  for w in "a[-9]=1 2+" "x=2 2+" "1 0&&(" "h[k]=1 x=2 3+" "x=1 y=2"; do
    same_as_let $w
  done
  # let stops at word 1's division by zero (or at a variable's malformed
  # value, a negative exponent) before it reaches word 2's syntax error.
  for w in "1/0 2+" "v 2+" "x=5 1/0 2+" "2**-1,1+" "a[1/0] 2+"; do
    dead_like_let $w
  done
}

@test "arith: an error that needs evaluation still makes a Dead job" {
  run bgsh 'v="1+"; readonly ro=1; bgjob new v; bgjob new "ro=2"; bgjob new "1/0"; echo "rc=$?"; bgjob wait
            for i in 0 1 2; do bgjob traceback $i | sed -n 2p; done'
  assert_success
  assert_output $'rc=0\n1+: syntax error: operand expected (error token is "+")\nro: readonly variable\n1/0: division by 0 (error token is "0")'
}

@test "arith: several words are several expressions, evaluated in order like let's" {
  run bgsh 'bgjob new "x = 1" "y = x + 1" "y * 10"; bgjob wait; bgjob result 0; bgjob status
            declare -A J; bgjob show -v J 0; printf "%s" "${J[assignments]}"
            let "x = 1" "y = x + 1" "r = y * 10"; echo "let: $r"'
  assert_success
  assert_line --index 0 '20'
  assert_line '0 : x = 1 y = x + 1 y * 10'
  assert_line 'x=1'
  assert_line 'y=2'
  assert_line 'let: 20'
}

@test "arith: a failing word ends the job where let stops" {
  run bgsh 'bgjob new "x = 1" "1/0" "y = 2"; bgjob wait; bgjob traceback 0 | sed -n 2p
            declare -A J; bgjob show -v J 0; printf "%s" "${J[assignments]}"
            let "x = 1" "1/0" "y = 2" 2>/dev/null; echo "let: x=$x y=${y-unset}"'
  assert_success
  assert_output $'1/0: division by 0 (error token is "0")\nx=1\nlet: x=1 y=unset'
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
  assert_line --index 1 'x=42'
  assert_line --index 2 'a[1]=10'
  assert_line --index 3 'z=42'
  assert_line --index 4 'x=42 z=42 a=1 10'
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

@test "arith: RANDOM is drawn by new from the shell's generator, once per occurrence" {
  run bgsh 'RANDOM=42; bgjob new -v i "a = RANDOM, b = RANDOM, a * 100000 + b"; after_new=$RANDOM
            RANDOM=42; let "r = RANDOM * 100000 + RANDOM"; after_let=$RANDOM
            bgjob wait; bgjob result $i; echo "$r"; echo "$after_new $after_let"'
  assert_success
  assert_equal "${lines[0]}" "${lines[1]}"
  read -r n l <<< "${lines[2]}"
  assert_equal "$n" "$l"
}

@test "arith: assigning RANDOM in a job seeds bash's generator, as in let" {
  run bgsh 'bgjob new -v i "RANDOM = 7, a = RANDOM, b = RANDOM, a * 100000 + b"
            let "RANDOM = 7, r = RANDOM * 100000 + RANDOM"; bgjob wait; bgjob result $i; echo "$r"'
  assert_success
  assert_equal "${lines[0]}" "${lines[1]}"
}

@test "arith: dynamic variables give what let reads at the moment of new" {
  run bgsh 'e0=$EPOCHSECONDS; bgjob new -v i "GROUPS[0] * 100000 + BASHPID % 100000"; let "r = GROUPS[0] * 100000 + BASHPID % 100000"
            bgjob new -v j "SECONDS = 5, SECONDS"; bgjob new -v k "EPOCHSECONDS = 5, EPOCHSECONDS"
            let "l = LINENO"; bgjob new -v m "LINENO"
            bgjob wait; bgjob result $i; echo "$r"; bgjob result $j; bgjob result $m; echo "$l"
            (( $(bgjob result $k) >= e0 )) && echo "EPOCHSECONDS kept"'
  assert_success
  assert_equal "${lines[0]}" "${lines[1]}"
  assert_equal "${lines[2]}" 5
  assert_equal "${lines[3]}" "${lines[4]}"
  assert_equal "${lines[5]}" "EPOCHSECONDS kept"
}

@test "arith: RANDOM read more often than it occurs fails the job with a clear message" {
  run bgsh 'y=RANDOM; bgjob new "y + y"; bgjob wait; bgjob traceback 0 | sed -n 2p'
  assert_success
  assert_output "RANDOM: read more often than it occurs in the expression and the values it reads (each occurrence draws one value at \`new'): not reproducible in a background job"
}
