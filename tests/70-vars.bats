#!/usr/bin/env bats
# 70-vars: -v targets behave as printf -v's do (array elements, associative
# keys, locals, namerefs, integer variables, readonly targets, invalid
# names), status/show -v arrays, and results passed through $( ) and < <( ).

load helper

LOAD='bgjob load "$EXAMPLE_SO" || exit 98'

# same_as_printf SETUP TARGET VARS: runs SETUP, then assigns "6*7" to TARGET
# with printf -v in one shell and with bgjob result -v in another, and checks
# that `declare -p VARS` shows the same in both.
same_as_printf() {
  local setup=$1 target=$2 vars=$3
  run -0 bgsh "$setup"'
    printf -v '"$target"' %s "6*7"; echo "rc=$?"; declare -p '"$vars"
  local expected=$output
  run -0 bgsh "$LOAD"'; bgjob new -f join "6*7"; bgjob wait
    '"$setup"'
    bgjob result -v '"$target"' 0; echo "rc=$?"; declare -p '"$vars"
  assert_equal "$output" "$expected"
}

@test "result -v 'a[3]' sets one element of an indexed array" {
  run -0 bgsh "$LOAD"'; bgjob new -f join v; bgjob wait; a=(x y z); bgjob result -v "a[3]" 0; declare -p a'
  assert_output 'declare -a a=([0]="x" [1]="y" [2]="z" [3]="v")'
  same_as_printf 'a=(x y z)' "'a[3]'" a
}

@test "result -v 'h[x y]' sets a key with a space in an associative array" {
  run -0 bgsh "$LOAD"'; bgjob new -f join v; bgjob wait; declare -A h=([k]=1); bgjob result -v "h[x y]" 0
    echo "${h[x y]}|${h[k]}|${#h[@]}"'
  assert_output 'v|1|2'
  same_as_printf 'declare -A h' "'h[x y]'" h
}

@test "subscripts are expanded as printf -v expands them" {
  same_as_printf 'declare -A h; k="a b"' '"h[$k]"' h
  same_as_printf 'declare -A h; x=Q' "'h[\$x]'" h
  same_as_printf 'n=2' '"a[n+1]"' a
  same_as_printf 'declare -A h; k="\$x"; x=Q' '"h[$k]"' h
}

@test "result -v into a declare -i variable evaluates the result, as printf -v does" {
  run -0 bgsh "$LOAD"'; bgjob new -f join "6*7"; bgjob wait; declare -i n; bgjob result -v n 0; declare -p n'
  assert_output 'declare -i n="42"'
  same_as_printf 'declare -i n' n n
}

@test "result -v inside a function assigns the function's local variable" {
  run -0 bgsh "$LOAD"'; bgjob new -f join v; bgjob wait; r=global
    f() { local r=old; bgjob result -v r 0; echo "inside=$r"; }; f; echo "outside=$r"'
  assert_output $'inside=v\noutside=global'
}

@test "result -v inside a function without local assigns the global, like printf -v" {
  run -0 bgsh "$LOAD"'; bgjob new -f join v; bgjob wait
    f() { bgjob result -v r 0; }; f; echo "r=$r"'
  assert_output 'r=v'
  same_as_printf 'f() { printf -v r %s x; }' r r
}

@test "new -v and status -v inside a function use the function's locals" {
  run -0 bgsh "$LOAD"'
    f() { local id; local -A S; bgjob new -v id -f join a; bgjob wait; bgjob status -v S; echo "id=$id S=${S[0]}"; }
    f; echo "outside id=${id-unset} S=${S[0]-unset}"'
  assert_output $'id=0 S=Completed\noutside id=unset S=unset'
}

@test "result -v through a nameref assigns the variable it names" {
  run -0 bgsh "$LOAD"'; bgjob new -f join v; bgjob wait
    declare -n ref=target; bgjob result -v ref 0; echo "target=$target"
    declare -n eref="arr[2]"; bgjob result -v eref 0; declare -p arr'
  assert_output $'target=v\ndeclare -a arr=([2]="v")'
}

@test "new -v through a nameref inside a function sets the caller's variable" {
  run -0 bgsh "$LOAD"'
    start() { local -n out=$1; bgjob new -v out -f join x; }
    start myid; bgjob wait; echo "myid=$myid"'
  assert_output 'myid=0'
}

@test "new -v 'ids[k]' stores the job number in an array element" {
  run -0 bgsh "$LOAD"'; declare -A ids; for k in a b; do bgjob new -v "ids[$k]" -f join "$k"; done; bgjob wait
    echo "${ids[a]} ${ids[b]}"; bgjob result "${ids[b]}"'
  assert_output $'0 1\nb'
}

@test "new -v with a readonly target fails with a message and creates no job" {
  run -1 --separate-stderr bgsh "$LOAD"'; readonly ro=keep
    bgjob new -v ro -f join a; rc=$?; bgjob status; echo "last=${BGJOB_LAST-unset} ro=$ro" >&2; exit $rc'
  assert_output ''
  [[ $stderr == *'ro: readonly variable'* ]] || fail "$stderr"
  [[ $stderr == *'last=unset ro=keep'* ]] || fail "$stderr"
}

@test "result -v with a readonly target fails with a message and leaves it unchanged" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f join new; bgjob wait
    readonly ro=keep; bgjob result -v ro 0; echo "rc=$? ro=$ro"
    readonly -a ra=(k); bgjob result -v "ra[1]" 0; echo "rc=$? ${#ra[@]}"'
  assert_output $'rc=1 ro=keep\nrc=1 1'
  [[ $stderr == *'readonly variable'* ]] || fail "$stderr"
}

@test "status -v and show -v into a readonly array fail" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob wait
    declare -A RO=([x]=1); readonly RO
    bgjob status -v RO; echo "status=$?"; bgjob show -v RO 0; echo "show=$?"; declare -p RO'
  assert_output $'status=1\nshow=1\ndeclare -Ar RO=([x]="1" )'
}

@test "an invalid -v name is a usage error for new and result" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob wait
    bgjob result -v 1bad 0; echo "rc=$?"
    bgjob result -v "a[" 0; echo "rc=$?"
    bgjob new -v a-b -f join x; echo "rc=$?"
    bgjob new -v "" -f join x; echo "rc=$?"
    echo "last=$BGJOB_LAST"'
  assert_output $'rc=2\nrc=2\nrc=2\nrc=2\nlast=0'
  [[ $stderr == *"\`1bad': not a valid identifier"* ]] || fail "$stderr"
  [[ $stderr == *"\`a-b': not a valid identifier"* ]] || fail "$stderr"
}

@test "status -v into an existing indexed array fails and leaves the array alone" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob wait
    ia=(one two); bgjob status -v ia; echo "rc=$?"; declare -p ia'
  assert_output $'rc=1\ndeclare -a ia=([0]="one" [1]="two")'
  [[ $stderr == *ia* ]] || fail "no message: $stderr"
}

@test "show -v into an existing indexed array fails" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f join a; bgjob wait
    ia=(one); bgjob show -v ia 0; echo "rc=$?"; declare -p ia'
  assert_output $'rc=1\ndeclare -a ia=([0]="one")'
  [[ $stderr == *ia* ]] || fail "no message: $stderr"
}

@test "result -v of a job that has not completed leaves the variable unchanged" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f fail x; bgjob new -d -f sleep 600; bgjob wait 0
    v=keep; bgjob result -v v 0; echo "rc=$? v=$v"; bgjob result -v v 1; echo "rc=$? v=$v"; bgjob result -v v 7; echo "rc=$? v=$v"
    bgjob kill 1'
  assert_output $'rc=1 v=keep\nrc=1 v=keep\nrc=1 v=keep'
}

@test "result -v keeps the result exactly, trailing newlines included" {
  run -0 bgsh "$LOAD"'; bgjob new -f join "a  b" $'\''c\n'\''; bgjob wait
    bgjob result -v v 0; printf "%s" "$v" | od -An -c | tr -s " "'
  assert_output ' a b c \n'
}

@test "results survive x=\$(bgjob result N) unchanged" {
  run -0 bgsh "$LOAD"'; bgjob new -f join "a	b" "*" "\\" "\$HOME" "  x  "; bgjob wait
    x=$(bgjob result 0); bgjob result -v y 0
    [[ $x == "$y" ]] && echo same; printf "[%s]\n" "$x"'
  assert_output $'same\n[a\tb * \\ $HOME   x  ]'
}

@test "read -r x < <(bgjob result N) reads the result" {
  run -0 bgsh "$LOAD"'; bgjob new -f join "back\\slash" "two words"; bgjob wait
    read -r x < <(bgjob result 0); printf "[%s]\n" "$x"'
  assert_output '[back\slash two words]'
}

@test "show -v ARRAY inside a function fills a local associative array" {
  run -0 bgsh "$LOAD"'; bgjob new -f join a; bgjob wait
    f() { local -A J; bgjob show -v J 0; echo "${J[state]} ${J[result]}"; }; f; echo "outside=${J[state]-unset}"'
  assert_output $'Completed a\noutside=unset'
}

# assignments_like_let GLOBALS LOCALS EXPR VARS: inside a function that
# declares LOCALS, `eval' of a job's assignments leaves VARS (inside and
# after the function) exactly as `let EXPR' leaves them there.
assignments_like_let() {
  local globals=$1 locals=$2 expr=$3 vars=$4 q
  printf -v q '%q' "$expr"
  run bgsh "$globals"'
    f() { '"$locals"'; let '"$q"' 2>/dev/null; declare -p '"$vars"' 2>&1; }; f; echo --; declare -p '"$vars"' 2>&1'
  local expected=$output
  run bgsh "$globals"'
    f() { '"$locals"'; bgjob new -v id '"$q"'; bgjob wait $id; local -A J; bgjob show -v J $id; eval "${J[assignments]}"; declare -p '"$vars"' 2>&1; }; f; echo --; declare -p '"$vars"' 2>&1'
  assert_equal "$output" "$expected"
}

@test "a job's assignments keep an exported variable exported" {
  run -0 bgsh 'declare -x e=1; bgjob new -v id "e = 7"; bgjob wait; declare -A J; bgjob show -v J $id
    printf "%s" "${J[assignments]}"; eval "${J[assignments]}"; declare -p e'
  assert_output $'e=7\ndeclare -x e="7"'
  assignments_like_let 'declare -x e=1' ':' 'e = 7' e
  assignments_like_let 'export e=1' 'local e=2' 'e += 5' e
}

@test "a job's assignments, evaluated in a function, leave locals and globals as let does" {
  assignments_like_let 'x=1' 'local x=2' 'x = 5, g = 6' 'x g'
  assignments_like_let 'x=1' ':' 'x = 5, g = 6' 'x g'
  assignments_like_let 'declare -i n=1' 'local -i m=2' 'n += 41, m *= 3' 'n m'
  assignments_like_let 'a=(1 2)' 'local -a b=(3 4)' 'a[3] = 7, b[-1] += 1, c[2] = 9' 'a b c'
  assignments_like_let 'declare -A h=([k]=1)' 'local -A l=([x y]=2)' 'h[k] = 5, h[new key] = 6, l[x y] *= 4' 'h l'
  assignments_like_let 't=1; arr=(1 2 3)' 'local -n r=t; local -n e="arr[2]"' 'r = 9, e = 4' 't arr'
  assignments_like_let 's=abc' 'local u=def' 's[2] = 3, u[1] = 4' 's u'
  assignments_like_let 'declare -ai ia=(1)' ':' 'ia[0] += 1, ia[5] = 2' 'ia'
  assignments_like_let ':' 'local -i li' 'li = 3, li++, nv = li' 'li nv'
}
