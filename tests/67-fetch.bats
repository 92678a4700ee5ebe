#!/usr/bin/env bats
# 67-fetch: the fetch plugin (plugins/fetch, libcurl) against a local HTTP
# server (tests/httpd/server.py on 127.0.0.1, started for this file and
# stopped at its end): bodies as $(...) gives them, -o FILE written through a
# temporary name (a regular or new FILE) or in place (symlinks, FIFOs,
# devices, hard links) keeping mode and owner, relative FILEs without an
# exported PWD, redirects, errors naming their cause, headers/method/data,
# proxies from the job's environment, progress, kill, timeouts, options
# checked at `new`, and shells that exit while daemon fetch jobs run.

load plugin_helper

FETCH_SO=$PLUGINS/fetch.so
export FETCH_SO
LOAD='bgjob load "$FETCH_SO" || exit 98'

setup_file() {
  local portfile=$BATS_FILE_TMPDIR/port i
  python3 "$BATS_TEST_DIRNAME/httpd/server.py" "$portfile" 300 3>&- &
  echo $! > "$BATS_FILE_TMPDIR/server.pid"
  # The server writes its port (by rename) once it listens: wait for that file, 10 s at most.
  for ((i = 0; i < 1000; i++)); do
    [ -s "$portfile" ] && break
    kill -0 "$(cat "$BATS_FILE_TMPDIR/server.pid")" || break
    sleep 0.01
  done
  [ -s "$portfile" ] || { echo "the test server did not start" >&2; return 1; }
  export URL=http://127.0.0.1:$(cat "$portfile")
}

teardown_file() {
  kill "$(cat "$BATS_FILE_TMPDIR/server.pid")" 2>/dev/null || :
}

# fetch_of ARGS...: one fetch job over ARGS (waited for 30 s at most); its result (or traceback body), then status=ok|dead.
fetch_of() { plugin_job fetch 30 "$@"; }

@test "load by path succeeds silently and funcs lists fetch" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob funcs'
  assert_equal "$stderr" ''
  assert_line --regexp '^fetch +fetch \[-o FILE\] \[-H .NAME: VALUE.\]\.\.\. \[-X METHOD\] \[-d DATA\] \[--max-time SECONDS\] URL$'
}

@test "the result is the response body; show has http_code and the response headers" {
  run -0 bgsh "$LOAD"'; bgjob new -f fetch "$URL/headers"; bgjob wait 0; echo "rc=$?"; bgjob result 0
    bgjob show -v J 0; echo "code=${J[http_code]} progress=${J[progress]}"; printf "%s\n" "${J[headers]}"' "$URL"
  assert_line --index 0 'rc=0'
  assert_line --index 1 'with headers'
  assert_line --index 2 'code=200 progress=100%'
  assert_line --index 3 'HTTP/1.1 200 OK'
  assert_line 'X-Test: yes'
  assert_line 'Content-Length: 12'
}

@test "HTTP 404 makes the job Dead with the status and its reason; show has the code" {
  run -0 bgsh "$LOAD"'; bgjob new -f fetch "$URL/status/404"; bgjob wait 0; echo "rc=$?"
    bgjob traceback 0 | tail -n +2; bgjob show -v J 0; echo "code=${J[http_code]}"'
  assert_output $'rc=1\n'"$URL/status/404: HTTP 404 Not Found"$'\ncode=404'
  run -0 fetch_of "$URL/status/503"
  assert_output "$URL/status/503: HTTP 503 Service Unavailable"$'\nstatus=dead'
}

@test "redirects are followed, up to 20" {
  run -0 fetch_of "$URL/redirect/5"
  assert_output $'redirected\nstatus=ok'
  run -0 bgsh "$LOAD"'; bgjob new -f fetch "$URL/redirect/20"; bgjob wait 0; bgjob result 0; bgjob show -v J 0; echo "${J[headers]%%$'"'\n'"'*}"'
  assert_output $'redirected\nHTTP/1.1 200 OK'
  run -0 fetch_of "$URL/redirect/21"
  assert_output "$URL/redirect/21: too many redirects (more than 20)"$'\nstatus=dead'
  run -0 fetch_of "$URL/loop"
  assert_output "$URL/loop: too many redirects (more than 20)"$'\nstatus=dead'
}

@test "method, headers and data reach the server" {
  run -0 fetch_of -X PUT -H 'X-One: 1' -H 'X-Two: two words' -d 'a=b&c=d' "$URL/echo"
  assert_line --index 0 'PUT /echo'
  assert_line 'X-One: 1'
  assert_line 'X-Two: two words'
  assert_line 'Content-Type: application/x-www-form-urlencoded'
  assert_line 'a=b&c=d'
  assert_line 'status=ok'
  run -0 fetch_of -d x=1 "$URL/echo"
  assert_line --index 0 'POST /echo'
  run -0 fetch_of "$URL/echo"
  assert_line --index 0 'GET /echo'
}

@test "a refused connection and an unknown host are Dead with the cause" {
  # A port that was just free: bind, read the number, close.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  run -0 fetch_of "http://127.0.0.1:$port/x"
  assert_output "http://127.0.0.1:$port/x: Connection refused"$'\nstatus=dead'
  run -0 fetch_of 'http://no-such-host.invalid/x'
  assert_output $'http://no-such-host.invalid/x: Could not resolve host\nstatus=dead'
}

@test "-o writes a large binary body to FILE, relative to the directory at new" {
  python3 -c 'import sys; sys.stdout.buffer.write((bytes(range(256)) * 4096 * 24)[:20000003])' > expected.bin
  mkdir sub
  run -0 bgsh "$LOAD"'; cd sub; bgjob new -f fetch -o out.bin "$URL/bytes/20000003"; cd /; bgjob wait -t 30 0; echo "rc=$?"; bgjob result 0'
  assert_output $'rc=0\nout.bin'
  cmp expected.bin sub/out.bin
  run -0 ls -A sub
  assert_output 'out.bin'
  [ ! -e /out.bin ]
}

@test "-o: the file gets the mode of a new file under the umask" {
  run -0 bgsh "$LOAD"'; umask 027; bgjob new -f fetch -o f "$URL/ok"; bgjob wait 0 && stat -c %a f && cat f'
  assert_output $'640\nhello'
}

@test "-o with a failing transfer leaves neither FILE nor a temporary file" {
  printf 'old' > kept
  run -0 fetch_of -o kept "$URL/status/404"
  assert_output "$URL/status/404: HTTP 404 Not Found"$'\nstatus=dead'
  run -0 cat kept
  assert_output 'old'
  run -0 fetch_of -o new "$URL/status/500"
  run -0 ls -A
  assert_output 'kept'
  run -0 fetch_of -o nodir/x "$URL/ok"
  assert_output $'nodir/x: No such file or directory\nstatus=dead'
}

@test "the result is the body as \$(...) gives it: trailing newlines dropped; NUL bytes dropped with bash's warning, counted in show; -o keeps every byte" {
  run -0 bgsh "$LOAD"'; bgjob new -f fetch "$URL/newlines"; bgjob wait 0; bgjob result -v r 0; printf "[%s]\n" "$r"'
  assert_output $'[line 1\n\nline 3]'
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f fetch "$URL/nul"; bgjob wait 0; echo "rc=$?"; bgjob result 0
    bgjob show -v J 0; echo "nul_bytes=${J[nul_bytes]}"'
  assert_output $'rc=0\nab\nnul_bytes=1'
  assert_equal "$stderr" "bgsh: line 2: bgjob: warning: command substitution: ignored null byte in input"
  run -0 fetch_of -o nul.bin "$URL/nul"
  assert_output $'nul.bin\nstatus=ok'
  run -0 od -An -c nul.bin
  assert_output '   a  \0   b'
}

@test "progress comes from Content-Length; kill stops a stalled transfer promptly and removes the temporary file" {
  run -0 bgsh "$LOAD"'; bgjob new -f fetch -o slow.out "$URL/slow/100000"
    for ((i = 0; i < 1000; i++)); do bgjob show -v J 0; [[ ${J[progress]} == 50% ]] && break; bgjob wait -t 0.01 0; done
    echo "progress=${J[progress]} state=${J[state]}"
    t0=${EPOCHREALTIME/./}; bgjob kill 0; bgjob wait -t 10 0; echo "rc=$?"; t1=${EPOCHREALTIME/./}
    (( t1 - t0 < 1000000 )) && echo prompt || echo "took $(( (t1 - t0) / 1000 )) ms"
    bgjob traceback 0 | tail -n +2'
  assert_output $'progress=50% state=Running\nrc=1\nprompt\n'"$URL/slow/100000: cancelled by bgjob kill"
  run -0 ls -A
  assert_output ''
}

@test "--max-time ends a stalled transfer: Dead, timed out" {
  run -0 fetch_of --max-time 0.3 "$URL/slow/1000"
  assert_output "$URL/slow/1000: timed out after 0.3 seconds"$'\nstatus=dead'
}

@test "the job's time limit (new -t) ends a stalled transfer: Dead, the traceback names the URL" {
  run -0 bgsh "$LOAD"'; bgjob new -t 0.3 -f fetch "$URL/slow/1000"; bgjob wait 0; echo "rc=$?"; bgjob traceback 0 | tail -n +2'
  assert_output $'rc=1\n'"$URL/slow/1000: timed out (the job's time limit, bgjob new -t)"
}

@test "options are checked at new: usage error 2, no job" {
  for args in '' '-o' '-H novalue URL' '-H :x URL' '-X "" URL' '-X "A B" URL' '--max-time 0 URL' '--max-time x URL' \
              '--max-time -1 URL' '-q URL' 'URL URL' 'ftp://x/y' 'file:///etc/passwd' 'http://[bad' \
              '-o a -o b URL' '-X GET -X PUT URL' '-d a -d b URL' '--max-time 1 --max-time 2 URL' '"URL/a b"'; do
    run -0 --separate-stderr bgsh "$LOAD"'; eval "set -- ${1//URL/\$URL}"; bgjob new -f fetch "$@"; echo "rc=$?"; bgjob status | wc -l' "$args"
    [[ $output == $'rc=2\n0' ]] || fail "$args: $output"
    [[ $stderr == *'usage: '*'fetch [-o FILE]'* ]] || fail "$args: $stderr"
  done
}

@test "proxies come from the job's environment (exported at new), not the process environment" {
  # The test server answers a proxied request with "proxied URI".
  run -0 bgsh "$LOAD"'; export http_proxy=$URL; bgjob new -f fetch http://example.invalid/p; bgjob wait 0; bgjob result 0'
  assert_output 'proxied http://example.invalid/p'
  run -0 bgsh "$LOAD"'; all_proxy=$URL; bgjob new -f fetch http://example.invalid/p; export all_proxy; bgjob new -f fetch http://example.invalid/q
    bgjob wait 1 && bgjob result 1; bgjob wait 0 || bgjob traceback 0 | tail -n +2'
  assert_output $'proxied http://example.invalid/q\nhttp://example.invalid/p: Could not resolve host'
  run -0 env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} http_proxy="$URL" bash --norc --noprofile -c 'enable -f "$BGJOB_SO" bgjob; '"$LOAD"'
    unset http_proxy; bgjob new -f fetch http://example.invalid/p; bgjob wait 0 || bgjob traceback 0 | tail -n +2'
  assert_output 'http://example.invalid/p: Could not resolve host'
  run -0 bgsh "$LOAD"'; export http_proxy=$URL no_proxy=example.invalid; bgjob new -f fetch http://example.invalid/p
    bgjob new -f fetch http://other.invalid/p; bgjob wait 1 && bgjob result 1; bgjob wait 0 || bgjob traceback 0 | tail -n +2'
  assert_output $'proxied http://other.invalid/p\nhttp://example.invalid/p: Could not resolve host'
}

@test "TLS is verified: a plain-HTTP server spoken to as https fails with a TLS error" {
  run -0 fetch_of "${URL/http:/https:}/ok"
  assert_line --index 0 --regexp "^https://127\.0\.0\.1:[0-9]+/ok: TLS: "
  assert_line --index 1 'status=dead'
}

@test "30 shells that exit while daemon fetch jobs run neither crash nor hang" {
  for i in $(seq 30); do
    run --separate-stderr timeout 20 env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile -c \
      'enable -f "$BGJOB_SO" bgjob && bgjob load "$FETCH_SO" || exit 98
       bgjob new -d -f fetch "$URL/slow/1000"; bgjob new -d -f fetch -o "$1/x" "$URL/slow/1000"; bgjob new -d -f fetch "$URL/ok"; exit 7' bash "$D"
    [ "$status" -eq 7 ] || fail "shell $i ended with status $status: $stderr"
    assert_equal "$stderr" ''
  done
}

@test "load fetch by name through BASH_LOADABLES_PATH (needs load by name)" {
  run -0 --separate-stderr env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} BASH_LOADABLES_PATH="$PLUGINS" bash --norc --noprofile -c \
    'enable -f "$BGJOB_SO" bgjob && bgjob load fetch && bgjob new -f fetch "$URL/ok" && bgjob wait && bgjob result 0'
  assert_output 'hello'
}

@test "a repeated option and a URL with a space are refused at new with a message that says so" {
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f fetch -X GET -X PUT "$URL/ok"; echo "rc=$?"'
  assert_output 'rc=2'
  [[ $stderr == *'fetch: -X: given more than once'* ]] || fail "$stderr"
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f fetch -o a "$URL/a b"; echo "rc=$?"'
  assert_output 'rc=2'
  [[ $stderr == *"fetch: $URL/a b: a URL cannot contain a space (write it as %20)"* ]] || fail "$stderr"
  run -0 --separate-stderr bgsh "$LOAD"'; bgjob new -f fetch -H "X-A: 1" -H "X-B: 2" "$URL/echo"; echo "rc=$?"; bgjob wait 0; bgjob result 0'
  assert_line 'rc=0'
  assert_line 'X-A: 1'
  assert_line 'X-B: 2'
}

@test "-o through a symlink writes its target and keeps the link; a dangling one creates its target; an HTTP error leaves the target alone" {
  printf old > target; ln -s target link; ln -s new-target dangling
  run -0 fetch_of -o link "$URL/ok"
  assert_output $'link\nstatus=ok'
  [ -L link ] || fail "link was replaced: $(ls -l link)"
  run -0 cat target
  assert_output 'hello'
  run -0 fetch_of -o link "$URL/status/404"
  run -0 cat target
  assert_output 'hello'
  run -0 fetch_of -o dangling "$URL/ok"
  [ -L dangling ] && [ "$(cat new-target)" = hello ] || fail "$(ls -l)"
  run -0 ls -A
  assert_output $'dangling\nlink\nnew-target\ntarget'
}

@test "-o into a FIFO writes to its reader and leaves the FIFO; a failed transfer gives the reader an end" {
  mkfifo fifo
  cat fifo > got & reader=$!
  run -0 fetch_of -o fifo "$URL/bytes/300000"
  assert_output $'fifo\nstatus=ok'
  [ -p fifo ] || { kill "$reader"; fail "the FIFO was replaced: $(ls -l fifo)"; }
  wait "$reader"
  cmp got <(python3 -c 'import sys; sys.stdout.buffer.write((bytes(range(256)) * 4096)[:300000])')
  cat fifo > got2 & reader=$!
  run -0 fetch_of -o fifo "$URL/status/404"
  assert_output "$URL/status/404: HTTP 404 Not Found"$'\nstatus=dead'
  wait "$reader"
  [ ! -s got2 ]
  run -0 ls -A
  assert_output $'fifo\ngot\ngot2'
}

@test "-o into a character device writes to it and leaves it (a private null device; root only)" {
  # (mknod needs root; CI runs as root: without it the test says so and checks nothing more)
  if [ "$(id -u)" != 0 ]; then echo "# mknod needs root: not checked as uid $(id -u)" >&3; return 0; fi
  mknod null c 1 3
  run -0 fetch_of -o null "$URL/bytes/100000"
  assert_output $'null\nstatus=ok'
  [ -c null ] || fail "the device was replaced: $(ls -l null)"
  run -0 ls -A
  assert_output 'null'
}

@test "-o over a read-only file: Permission denied unless root, as curl -o; root writes it and keeps its mode and owner" {
  printf old > ro; chmod 444 ro
  if [ "$(id -u)" != 0 ]; then
    run -0 fetch_of -o ro "$URL/ok"
    assert_output $'ro: Permission denied\nstatus=dead'
    run -0 cat ro
    assert_output 'old'
    return 0 # (the rest, writing over it, is root's case)
  fi
  run -0 fetch_of -o ro "$URL/ok"
  assert_output $'ro\nstatus=ok'
  run -0 stat -c '%a %s' ro
  assert_output '444 5'
  printf old > theirs; chown 65534:65534 theirs; chmod 4750 theirs
  run -0 fetch_of -o theirs "$URL/ok"
  assert_output $'theirs\nstatus=ok'
  run -0 stat -c '%a %u:%g %s' theirs
  assert_output '4750 65534:65534 5'
  run -0 ls -A
  assert_output $'ro\ntheirs'
}

@test "-o over a regular file keeps its mode (not the umask's); a file with hard links is written in place, links kept" {
  printf old > f; chmod 600 f
  run -0 bgsh "$LOAD"'; umask 022; bgjob new -f fetch -o f "$URL/ok"; bgjob wait 0 && stat -c %a f && cat f'
  assert_output $'600\nhello'
  printf old > a; ln a b
  run -0 fetch_of -o a "$URL/ok"
  assert_output $'a\nstatus=ok'
  run -0 cat b
  assert_output 'hello'
  [ "$(stat -c %i a)" = "$(stat -c %i b)" ]
}

@test "-o NAME works when PWD is not exported or unset: relative to the shell's directory" {
  mkdir sub
  run -0 bgsh "$LOAD"'; cd sub; export -n PWD; bgjob new -f fetch -o out1 "$URL/ok"; bgjob wait 0 && echo ok || bgjob traceback 0'
  assert_output 'ok'
  run -0 bgsh "$LOAD"'; cd sub; unset PWD; bgjob new -f fetch -o out2 "$URL/ok"; bgjob wait 0 && echo ok || bgjob traceback 0'
  assert_output 'ok'
  run -0 env -u PWD ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile -c \
    'cd sub && enable -f "$BGJOB_SO" bgjob && bgjob load "$FETCH_SO" && bgjob new -f fetch -o out3 "$URL/ok" && bgjob wait 0 && bgjob result 0'
  assert_output 'out3'
  run -0 cat sub/out1 sub/out2 sub/out3
  assert_output 'hellohellohello'
}

@test "kill stops a fetch that waits for a reader of its -o FIFO; the FIFO stays" {
  mkfifo fifo
  run -0 bgsh "$LOAD"'; bgjob new -f fetch -o fifo "$URL/ok"
    for ((i = 0; i < 1000; i++)); do bgjob show -v J 0; [[ ${J[state]} == Running ]] && break; bgjob wait -t 0.01 0; done
    bgjob wait -t 0.2 0; echo "waiting=$?"
    bgjob kill 0; bgjob wait -t 10 0; echo "rc=$?"; bgjob traceback 0 | tail -n +2'
  assert_output $'waiting=124\nrc=1\n'"$URL/ok: cancelled by bgjob kill"
  [ -p fifo ]
}

# conn_ids: reads "conn C" lines; prints "ok=N distinct=M" (N lines of that form, M distinct connections).
conn_ids() { awk '/^conn [0-9]+$/ { ok++; seen[$2] = 1 } END { n = 0; for (c in seen) n++; printf "ok=%d distinct=%d\n", ok, n }'; }

@test "connections are kept alive and reused by later jobs: 50 fetches, 4 at a time, use at most 4 connections" {
  # The server numbers its connections; without reuse each job would use a new one (50).
  run -0 bgsh "$LOAD"'; BGJOB_MAX_RUNNING=4
    for ((i = 0; i < 50; i++)); do bgjob new -f fetch "$URL/conn/$i"; done
    bgjob wait; echo "rc=$?"
    for ((i = 0; i < 50; i++)); do bgjob result $i; echo; done'
  assert_line --index 0 'rc=0'
  local counts
  counts=$(printf '%s\n' "${lines[@]:1}" | conn_ids)
  [[ $counts =~ ^ok=50\ distinct=([1-4])$ ]] || fail "$counts (every body, at most 4 connections expected)"
}

@test "a server that drops kept-alive connections as they are reused loses no request" {
  # /doomed/TAG/I answers, then drops the connection at its next request
  # without answering: every reuse of a connection meets that, and libcurl
  # resends the request on a new connection.
  local tag=t$BATS_TEST_NUMBER.$$
  run -0 bgsh "$LOAD"'; BGJOB_MAX_RUNNING=4
    for ((i = 0; i < 40; i++)); do bgjob new -f fetch "$URL/doomed/$1/$i"; done
    bgjob wait; echo "rc=$?"
    for ((i = 0; i < 40; i++)); do bgjob wait $i && bgjob result $i || bgjob traceback $i | tail -n +2; echo; done' "$tag"
  assert_line --index 0 'rc=0'
  local i
  for ((i = 0; i < 40; i++)); do
    assert_equal "${lines[i + 1]}" "doomed $i"
  done
  # At most 4 connections served a first request: the other 36 requests met a dropped one first.
  run -0 fetch_of "$URL/dropped/$tag"
  [[ ${lines[0]} =~ ^[0-9]+$ ]] && (( lines[0] >= 36 )) || fail "dropped requests: $output (36 or more expected)"
}

@test "kill of a fetch on a reused connection: it ends at once, its connection is closed, later fetches reuse theirs" {
  # Job 1 borrows job 0's connection, half-reads a response on it and is
  # killed: that connection must not serve job 2; job 3 reuses job 2's.
  run -0 bgsh "$LOAD"'; bgjob new -f fetch "$URL/conn/a"; bgjob wait 0; bgjob result 0; echo
    bgjob new -f fetch "$URL/slow/1000"
    for ((i = 0; i < 1000; i++)); do bgjob show -v J 1; [[ ${J[progress]} == 50% ]] && break; bgjob wait -t 0.01 1; done
    bgjob kill 1; bgjob wait -t 10 1; echo "rc=$?"; bgjob traceback 1 | tail -n +2
    bgjob new -f fetch "$URL/conn/b"; bgjob wait 2; echo "rc=$?"; bgjob result 2; echo
    bgjob new -f fetch "$URL/conn/c"; bgjob wait 3; bgjob result 3; echo'
  [[ ${lines[0]} =~ ^conn\ [0-9]+$ ]] || fail "first: $output"
  assert_equal "${lines[1]}" 'rc=1'
  assert_equal "${lines[2]}" "$URL/slow/1000: cancelled by bgjob kill"
  assert_equal "${lines[3]}" 'rc=0'
  [[ ${lines[4]} =~ ^conn\ [0-9]+$ && ${lines[4]} != "${lines[0]}" ]] || fail "after the kill: $output"
  assert_equal "${lines[5]}" "${lines[4]}"
}

@test "a subshell's fetches use connections of their own; the shell's stay usable after it" {
  run -0 bgsh "$LOAD"'; bgjob new -f fetch "$URL/conn/1"; bgjob wait 0; bgjob result 0; echo
    ( bgjob new -v j -f fetch "$URL/conn/2"; bgjob wait "$j" && bgjob result "$j" || bgjob traceback "$j"; echo )
    bgjob new -v j -f fetch "$URL/conn/3"; bgjob wait "$j"; bgjob result "$j"; echo'
  [[ ${lines[0]} =~ ^conn\ [0-9]+$ ]] || fail "$output"
  [[ ${lines[1]} =~ ^conn\ [0-9]+$ ]] || fail "$output"
  [[ ${lines[1]} != "${lines[0]}" ]] || fail "the subshell used the shell's connection: $output"
  assert_equal "${lines[2]}" "${lines[0]}"
}
