#!/bin/bash
# bench/fetch_server.sh - how many requests the fetch benchmark's server can
# serve, whatever the client: the same 1,000 GETs of 2 KiB from
# tests/httpd/server.py (as bench/plugins_bench.sh runs it) by clients that
# ask for more or less at once, with the CPU time the server and the client
# used during each.  If no client gets the 1,000 answers sooner than one
# `curl --parallel --parallel-max 8` does, the server is the limit of that
# benchmark, not the client.
#
#   bench/fetch_server.sh [REPS]      (default 3)
#
# Rows: one curl with 8 and with 32 transfers at once; two curls side by side,
# 500 URLs and 8 at a time each; bgjob with one fetch job per URL, 8 running,
# results read; bench/http_floor.c (the least a client can do: raw sockets,
# one request in flight on each) with 8 connections and with 1; the same
# bgjob loop with `-f sleep 0' instead of `-f fetch' (the shell's share: the
# loop, the jobs and the results, no request).  Every row's time includes
# starting the bash that loads bgjob and fetch.
# Environment: BGJOB_SO, BGJOB_PLUGINS (default: what `make` builds),
# HTTP_FLOOR (the built http_floor; without it its rows are left out).
# A benchmark, not a test: it asserts nothing.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export BGJOB_SO=${BGJOB_SO:-$ROOT/bgjob.so}
export BGJOB_PLUGINS=${BGJOB_PLUGINS:-$ROOT/build/plugins}
REPS=${1:-3}
command -v curl > /dev/null || { echo "fetch_server: curl is needed (apt-get install curl)" >&2; exit 1; }
T=$(mktemp -d)
SERVER=
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
python3 "$ROOT/tests/httpd/server.py" "$T/port" 3600 &
SERVER=$!
for ((i = 0; i < 1000; i++)); do [[ -s $T/port ]] && break; sleep 0.01; done
URL=http://127.0.0.1:$(cat "$T/port")
for ((i = 0; i < 1000; i++)); do echo "$URL/text/2048/$i"; done > "$T/urls"

ticks() { local f; read -r -a f < "/proc/$SERVER/stat"; echo $((f[13] + f[14])); }
hz=$(getconf CLK_TCK)
# run LABEL SCRIPT: SCRIPT in a fresh bash with bgjob and fetch loaded, in $T
run() {
    local c0 c1 t0 t1 u s
    c0=$(ticks); t0=$EPOCHREALTIME
    local TIMEFORMAT='%U %S'
    { time (cd "$T" && bash --norc --noprofile -c '
        enable -f "$BGJOB_SO" bgjob && bgjob load "$BGJOB_PLUGINS/fetch.so" || exit 1
        '"$2" > /dev/null 2>&1); } 2> "$T/time" || echo "fetch_server: $1 failed" >&2
    t1=$EPOCHREALTIME; c1=$(ticks)
    read -r u s < "$T/time"
    awk -v l="$1" -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" -v hz="$hz" -v u="$u" -v s="$s" \
        'BEGIN { printf "%-46s %8.4f s  server CPU %5.2f s  client CPU %5.2f s\n", l, t1 - t0, c / hz, u + s }'
}
echo "server: tests/httpd/server.py (Python $(python3 -c 'import platform; print(platform.python_version())')) on 127.0.0.1; 1000 GETs of 2 KiB"
printf '%-46s %10s  %s\n' "client" "wall" "CPU during it"
for ((rep = 0; rep < REPS; rep++)); do
    run "one curl --parallel --parallel-max 8" 'xargs curl -s --parallel --parallel-max 8 < urls > /dev/null'
    run "one curl --parallel --parallel-max 32" 'xargs curl -s --parallel --parallel-max 32 < urls > /dev/null'
    run "two curls side by side, 500 URLs and 8 each" 'head -500 urls | xargs curl -s --parallel --parallel-max 8 > /dev/null &
        tail -500 urls | xargs curl -s --parallel --parallel-max 8 > /dev/null; wait'
    run "bgjob, a fetch job per URL, 8 running" 'BGJOB_MAX_RUNNING=8; while read -r u; do bgjob new -f fetch "$u"; done < urls
        bgjob wait; for ((i = 0; i < BGJOB_LAST + 1; i++)); do bgjob result -v r $i; done'
    if [[ -n ${HTTP_FLOOR:-} ]]; then
        run "http_floor: 8 raw keep-alive sockets, nothing else" "\"\$HTTP_FLOOR\" ${URL##*:} 1000 8"
        run "http_floor: 1 raw keep-alive socket" "\"\$HTTP_FLOOR\" ${URL##*:} 1000 1"
    fi
    run "bgjob, the same loop with -f sleep 0" 'BGJOB_MAX_RUNNING=8; while read -r u; do bgjob new -f sleep 0; done < urls
        bgjob wait; for ((i = 0; i < BGJOB_LAST + 1; i++)); do bgjob result -v r $i; done'
done
