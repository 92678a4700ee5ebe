#!/usr/bin/env bats
# 66-digest: the digest plugin (plugins/digest, OpenSSL EVP) against the
# coreutils tools: the same lines for the same files, the same escaping and
# error messages; algorithms and bad arguments checked at `new`; progress over
# all files; kill stops a running hash; shells that exit while daemon digest
# jobs run neither crash nor hang.

load plugin_helper

DIGEST_SO=$PLUGINS/digest.so
export DIGEST_SO
LOAD='bgjob load "$DIGEST_SO" || exit 98'

# digest_of ARGS...: the result (or traceback body) of one digest job over ARGS, and its status as the last line.
digest_of() { plugin_job digest '' "$@"; }

@test "load by path succeeds silently and funcs lists digest" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob funcs'
  assert_equal "$stderr" ''
  assert_line --regexp '^digest +digest \[-a ALGORITHM\] FILE\.\.\.'
}

@test "sha256 by default: the same lines as sha256sum, without the final newline" {
  printf 'hello' > a; : > empty; head -c 300000 /dev/urandom > bin; printf 'x' > 'with space'
  expected=$(sha256sum a empty bin 'with space')
  run -0 digest_of a empty bin 'with space'
  assert_output "$expected"$'\nstatus=ok'
  run -0 bgsh "$LOAD"'; bgjob new -f digest a; bgjob wait; bgjob result -v r 0; printf "[%s]" "$r"'
  assert_output "[$(sha256sum a)]"
}

@test "names with a backslash, a newline or a carriage return are escaped as sha256sum escapes them" {
  printf 1 > 'back\slash'; printf 2 > $'new\nline'; printf 3 > $'car\rriage'; printf 4 > 'plain'
  expected=$(sha256sum 'back\slash' $'new\nline' $'car\rriage' plain)
  run -0 digest_of 'back\slash' $'new\nline' $'car\rriage' plain
  assert_output "$expected"$'\nstatus=ok'
}

@test "-- ends the digest options, so a file may start with a dash" {
  printf 'dash' > -a
  expected=$(sha256sum -- -a)
  # A -- right after the callback's name belongs to bgjob new: the second one reaches digest.
  run -0 digest_of -- -- -a
  assert_output "$expected"$'\nstatus=ok'
  run -0 digest_of -a sha256 -- -a
  assert_output "$expected"$'\nstatus=ok'
}

@test "-a selects the algorithm: the same lines as md5sum, sha1sum, sha224sum, sha384sum, sha512sum, b2sum" {
  printf 'abc' > a; head -c 100000 /dev/urandom > b
  for pair in md5:md5sum sha1:sha1sum sha224:sha224sum sha384:sha384sum sha512:sha512sum blake2b512:b2sum SHA256:sha256sum; do
    alg=${pair%%:*} tool=${pair#*:}
    expected=$("$tool" a b)
    run -0 digest_of -a "$alg" a b
    assert_output "$expected"$'\nstatus=ok'
  done
}

@test "algorithms without a coreutils tool give the same format (sha3-256, sha512-256 against python's hashlib)" {
  printf 'abc' > a; printf 'defg' > b
  for alg in sha3-256 sha512-256 sha3-512; do
    expected=$(python3 -c 'import hashlib,sys
for f in sys.argv[2:]:
    print(hashlib.new(sys.argv[1].replace("-","_"), open(f,"rb").read()).hexdigest() + "  " + f)' "$alg" a b)
    run -0 digest_of -a"$alg" a b
    assert_output "$expected"$'\nstatus=ok'
  done
}

@test "an unknown algorithm is a usage error at new: status 2, the usage line, no job" {
  printf x > a
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f digest -a nosuchalg a; echo "rc=$?"; bgjob status | wc -l'
  assert_output $'rc=2\n0'
  [[ $stderr == *'digest: nosuchalg: unknown algorithm'* ]] || fail "$stderr"
  [[ $stderr == *'usage: '*'digest [-a ALGORITHM] FILE...'* ]] || fail "$stderr"
}

@test "a second -a is a usage error at new that says so: status 2, no job" {
  printf x > a
  for args in '-a md5 -a sha1 a' '-amd5 -asha1 a' '-a sha256 -a sha256 a'; do
    run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f digest '"$args"'; echo "rc=$?"; bgjob status | wc -l'
    assert_output $'rc=2\n0'
    [[ $stderr == *'digest: -a: given more than once'* ]] || fail "$args: $stderr"
  done
}

@test "no FILE, -a without its argument, an unknown option and - are usage errors with no job" {
  for args in '' '-a' '-x a' '-' 'a -' '-a md5'; do
    run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f digest '"$args"'; echo "rc=$?"; bgjob status | wc -l'
    assert_output $'rc=2\n0'
    [[ $stderr == *'usage: '* ]] || fail "$args: $stderr"
  done
}

@test "unreadable files make the job Dead; the traceback is what sha256sum prints, hashed lines and errors in order" {
  printf 1 > a; printf 2 > b; mkdir dir
  expected=$(sha256sum a missing b dir 2>&1 | sed 's/^sha256sum: //')
  [[ $expected == *'missing: No such file or directory'* && $expected == *'dir: Is a directory'* ]]
  run -0 digest_of a missing b dir
  assert_output "$expected"$'\nstatus=dead'
}

@test "error messages quote odd names exactly as sha256sum does" {
  names=('a b' "a'b" "a'b c" "a'b#" $'a\nb' $'a\tb' 'a:b' 'a\b' '#x' 'x#' '~x' 'x~' '{' 'a{b' 'a=b' 'a@b' 'a,b%+]' 'a$b' 'a"b' '?' $'a\177' $'\001x' 'a*b' 'plain')
  expected=$(sha256sum -- "${names[@]}" 2>&1 | sed 's/^sha256sum: //')
  run -0 digest_of -- "${names[@]}"
  assert_output "$expected"$'\nstatus=dead'
}

@test "progress counts bytes over all files, sizes taken first" {
  mkfifo fifo
  head -c 4194304 /dev/zero > big
  # 1 MiB through the FIFO, then it stays open: the job has read 1 MiB; the sizes add up to 4 MiB (a FIFO has none).
  { head -c 1048576 /dev/zero; read -r _ < "$BATS_TEST_TMPDIR/go"; } > fifo &
  writer=$!
  mkfifo "$BATS_TEST_TMPDIR/go"
  run -0 bgsh "$LOAD"'; bgjob new -f digest fifo big
    for ((i = 0; i < 1000; i++)); do bgjob show -v J 0; [[ ${J[progress]} == 25% ]] && break; bgjob wait -t 0.01 0; done
    echo "progress=${J[progress]} state=${J[state]}"
    echo go > "$1"
    bgjob wait -t 20 0; echo "rc=$?"; bgjob show -v J 0; echo "progress=${J[progress]}"
    bgjob result 0' "$BATS_TEST_TMPDIR/go"
  wait "$writer"
  assert_line --index 0 'progress=25% state=Running'
  assert_line --index 1 'rc=0'
  assert_line --index 2 'progress=100%'
  assert_line --index 4 "$(sha256sum big)"
}

@test "kill stops a digest job that is reading an endless stream" {
  mkfifo fifo
  run -0 bgsh "$LOAD"'; cat /dev/zero > fifo & bgjob new -f digest fifo
    bgjob wait -t 0.3 0; echo "running=$?"
    bgjob kill 0; bgjob wait -t 5 0; echo "rc=$?"
    bgjob status -v S; echo "${S[0]}"; bgjob traceback 0 | tail -n +2; wait'
  assert_output $'running=124\nrc=1\nDead\ncancelled by bgjob kill'
}

@test "30 shells that exit while daemon digest jobs hash neither crash nor hang" {
  truncate -s 256M big
  for i in $(seq 30); do
    run --separate-stderr timeout 20 env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile -c \
      'enable -f "$BGJOB_SO" bgjob && bgjob load "$DIGEST_SO" || exit 98
       bgjob new -d -f digest big; bgjob new -d -f digest -a sha512 big big; bgjob new -d -f digest -a md5 big; exit 7'
    [ "$status" -eq 7 ] || fail "shell $i ended with status $status: $stderr"
    assert_equal "$stderr" ''
  done
}

@test "load digest by name through BASH_LOADABLES_PATH (needs load by name)" {
  printf abc > a
  run -0 --separate-stderr env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} BASH_LOADABLES_PATH="$PLUGINS" bash --norc --noprofile -c \
    'enable -f "$BGJOB_SO" bgjob && bgjob load digest && bgjob new -f digest a && bgjob wait && bgjob result 0'
  assert_output "$(sha256sum a)"
}

@test "make install puts digest.so and fetch.so in PREFIX/lib/bgjob/plugins; they load from there" {
  run -0 make -s -C "$BGJOB_ROOT" install DESTDIR="$BATS_TEST_TMPDIR/dest" PREFIX=/opt/bgjob-test
  dir=$BATS_TEST_TMPDIR/dest/opt/bgjob-test/lib/bgjob/plugins
  [ -x "$dir/digest.so" ] && [ -x "$dir/fetch.so" ]
  printf abc > a
  run -0 bgsh 'bgjob load "$1/digest.so" && bgjob load "$1/fetch.so" && bgjob new -f digest a && bgjob wait && bgjob result 0' "$dir"
  assert_output "$(sha256sum a)"
}

@test "the plugin's Makefile builds against the installed header only: a broken installed bgjob.h breaks it" {
  run -0 make -s -C "$BGJOB_ROOT" install DESTDIR="$BATS_TEST_TMPDIR/dest" PREFIX=/usr SDK_ONLY=1
  sdk=(PKG_CONFIG_PATH="$BATS_TEST_TMPDIR/dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$BATS_TEST_TMPDIR/dest")
  run -0 env "${sdk[@]}" make -s -C "$BGJOB_ROOT/plugins/digest" OUT="$BATS_TEST_TMPDIR"
  [ -f "$BATS_TEST_TMPDIR/digest.so" ]
  rm "$BATS_TEST_TMPDIR/digest.so"
  echo '#error broken header' > "$BATS_TEST_TMPDIR/dest/usr/include/bgjob.h"
  run env "${sdk[@]}" make -s -C "$BGJOB_ROOT/plugins/digest" OUT="$BATS_TEST_TMPDIR"
  assert_failure
  assert_output --partial 'broken header'
}
