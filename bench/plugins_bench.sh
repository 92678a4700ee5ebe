#!/bin/bash
# bench/plugins_bench.sh - the digest and fetch plugins against a process per
# item (xargs -P) and against one process over all items, same run.
#
#   bench/plugins_bench.sh            full counts (2,000 + 3,000 files, a 1 GiB file, 1,000 requests)
#   QUICK=1 bench/plugins_bench.sh    small counts (500 + 750 files, a 128 MiB file, 300 requests)
#   REPS=3                            repetitions; the table shows medians (default 3)
#
# digest: N files of 4 KiB, one bgjob job per file with 2 running
#   (BGJOB_MAX_RUNNING=2, one `bgjob new -f digest FILE` per file, then one
#   `wait`; every result read with `result -v 'res[i]'` into an array, and
#   the array written to a file with one printf: a printf per result would
#   be a write(2) per line, bash's cost, some 7 us each), vs
#   `xargs -P2 -n1 sha256sum`, vs one `sha256sum` over all files (to a file);
#   the same over M mixed files (sizes log-uniform from 1 B to 256 KiB, a
#   fixed seed); the outputs of bgjob and sha256sum are compared byte for
#   byte (printed: identical or DIFFERENT).  And one big file: `bgjob new -f
#   digest FILE` vs `sha256sum FILE`.
# fetch: N bodies of 2 KiB (/text/2048/I) from tests/httpd/server.py on
#   127.0.0.1 (Python's ThreadingMixIn HTTPServer, HTTP/1.1 keep-alive,
#   TCP_NODELAY), 8 at a time: one bgjob job per URL (BGJOB_MAX_RUNNING=8,
#   results read), vs `xargs -P8 -n1 curl -s`, vs one `curl -s --parallel
#   --parallel-max 8` over the same URLs.
# Each rep runs every case once, in the same order; ratios are of medians.
# Environment: BGJOB_SO, BGJOB_PLUGINS (default: what `make` builds).
# A benchmark, not a test: it asserts nothing.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export BGJOB_SO=${BGJOB_SO:-$ROOT/bgjob.so}
export BGJOB_PLUGINS=${BGJOB_PLUGINS:-$ROOT/build/plugins}
QUICK=${QUICK:-}
[[ $QUICK == 0 ]] && QUICK=
REPS=${REPS:-3}
if [[ -n $QUICK ]]; then
    N_FILES=500 N_MIXED=750 BIG_MIB=128 N_URLS=300
else
    N_FILES=2000 N_MIXED=3000 BIG_MIB=1024 N_URLS=1000
fi
command -v curl > /dev/null || { echo "plugins_bench: curl is needed (apt-get install curl)" >&2; exit 1; }
T=$(mktemp -d)
SERVER=
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT

# ---- fixtures ----
mkdir "$T/files"
for ((i = 0; i < N_FILES; i++)); do head -c 4096 /dev/urandom > "$T/files/f$i"; done
mkdir "$T/mixed"
python3 - "$T/mixed" "$N_MIXED" << 'EOF2'
import math, os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(21)
for i in range(n):
    size = int(math.exp(rnd.uniform(0, math.log(256 * 1024))))
    with open(os.path.join(d, "m%05d" % i), "wb") as f:
        f.write(rnd.randbytes(size))
EOF2
head -c $((BIG_MIB * 1048576)) /dev/zero > "$T/big"
python3 "$ROOT/tests/httpd/server.py" "$T/port" 3600 &
SERVER=$!
for ((i = 0; i < 1000; i++)); do [[ -s $T/port ]] && break; sleep 0.01; done
URL=http://127.0.0.1:$(cat "$T/port")
for ((i = 0; i < N_URLS; i++)); do echo "$URL/text/2048/$i"; done > "$T/urls"
cat "$T/big" > /dev/null # into the page cache

# run NAME COMMAND: runs COMMAND (a bash script) in a fresh bash with bgjob and
# the plugins loaded; prints the seconds it took.  Cwd: the temp directory.
run() {
    ( cd "$T" && bash --norc --noprofile -c '
        enable -f "$BGJOB_SO" bgjob && bgjob load "$BGJOB_PLUGINS/digest.so" && bgjob load "$BGJOB_PLUGINS/fetch.so" || exit 1
        t0=$EPOCHREALTIME
        '"$1"'
        t1=$EPOCHREALTIME
        echo "$t0 $t1" | awk "{ printf \"%.4f\n\", \$2 - \$1 }"' bench "$URL" )
}

declare -A CMD=(
  [digest_bgjob]='BGJOB_MAX_RUNNING=2; cd files; for f in f*; do bgjob new -f digest "$f"; done; bgjob wait || exit 1
                  for ((i = 0; i < BGJOB_LAST + 1; i++)); do bgjob result -v "res[i]" $i; done; printf "%s\n" "${res[@]}" > ../out.bgjob'
  [digest_xargs]='cd files; printf "%s\n" f* | xargs -P2 -n1 sha256sum > /dev/null'
  [digest_one]='cd files; sha256sum f* > ../out.sha256sum'
  [mixed_bgjob]='BGJOB_MAX_RUNNING=2; cd mixed; for f in m*; do bgjob new -f digest "$f"; done; bgjob wait || exit 1
                  for ((i = 0; i < BGJOB_LAST + 1; i++)); do bgjob result -v "res[i]" $i; done; printf "%s\n" "${res[@]}" > ../mixed.bgjob'
  [mixed_one]='cd mixed; sha256sum m* > ../mixed.sha256sum'
  [big_bgjob]='bgjob new -f digest big; bgjob wait || exit 1; bgjob result -v r 0'
  [big_sha256sum]='sha256sum big > /dev/null'
  [fetch_bgjob]='BGJOB_MAX_RUNNING=8; while read -r u; do bgjob new -f fetch "$u"; done < urls; bgjob wait || exit 1
                 for ((i = 0; i < BGJOB_LAST + 1; i++)); do bgjob result -v r $i; done'
  [fetch_xargs]='xargs -P8 -n1 curl -s < urls > /dev/null'
  [fetch_parallel]='xargs curl -s --parallel --parallel-max 8 < urls > /dev/null 2>&1'
)
ORDER=(digest_bgjob digest_xargs digest_one mixed_bgjob mixed_one big_bgjob big_sha256sum fetch_bgjob fetch_xargs fetch_parallel)
declare -A ALL=()
for ((rep = 0; rep < REPS; rep++)); do
    for k in "${ORDER[@]}"; do
        s=$(run "${CMD[$k]}") || { echo "plugins_bench: $k failed" >&2; s=nan; }
        ALL[$k]+="$s "
    done
done
median() { printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
declare -A M=()
for k in "${ORDER[@]}"; do M[$k]=$(median "${ALL[$k]}"); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

same() { cmp -s "$T/$1" "$T/$2" && echo identical || echo DIFFERENT; }
# goal LABEL RATIO MIN: "goal LABEL: met" when RATIO >= MIN, else "MISSED".
goal() { awk -v r="$2" -v m="$3" -v l="$1" 'BEGIN { printf "goal %s (>= %s): %s %s\n", l, m, r, ((r + 0 >= m + 0) ? "met" : "MISSED") }'; }

echo "plugins_bench: ${QUICK:+QUICK mode, }$REPS reps (median seconds); $(nproc) CPUs; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fetch server: tests/httpd/server.py (Python $(python3 -c 'import platform; print(platform.python_version())') ThreadingMixIn HTTPServer, HTTP/1.1 keep-alive, TCP_NODELAY) on 127.0.0.1"
printf '%-58s %10s  %s\n' "case" "seconds" "ratio"
printf '%-58s %10s  %s\n' "digest: $N_FILES x 4 KiB, bgjob job per file, 2 running" "${M[digest_bgjob]}" "1"
printf '%-58s %10s  %s\n' "digest: xargs -P2 -n1 sha256sum" "${M[digest_xargs]}" "$(ratio "${M[digest_xargs]}" "${M[digest_bgjob]}") x bgjob"
printf '%-58s %10s  %s\n' "digest: one sha256sum over all files" "${M[digest_one]}" "$(ratio "${M[digest_one]}" "${M[digest_bgjob]}") x bgjob  (output $(same out.bgjob out.sha256sum))"
printf '%-58s %10s  %s\n' "digest: $N_MIXED mixed files (1 B - 256 KiB), bgjob job per file" "${M[mixed_bgjob]}" "1"
printf '%-58s %10s  %s\n' "digest: one sha256sum over the mixed files" "${M[mixed_one]}" "$(ratio "${M[mixed_one]}" "${M[mixed_bgjob]}") x bgjob  (output $(same mixed.bgjob mixed.sha256sum))"
printf '%-58s %10s  %s\n' "digest: one $BIG_MIB MiB file, bgjob" "${M[big_bgjob]}" "$(ratio "${M[big_bgjob]}" "${M[big_sha256sum]}") x sha256sum"
printf '%-58s %10s  %s\n' "digest: one $BIG_MIB MiB file, sha256sum" "${M[big_sha256sum]}" "1"
printf '%-58s %10s  %s\n' "fetch: $N_URLS bodies of 2 KiB, bgjob job per URL, 8 running" "${M[fetch_bgjob]}" "1"
printf '%-58s %10s  %s\n' "fetch: xargs -P8 -n1 curl -s" "${M[fetch_xargs]}" "$(ratio "${M[fetch_xargs]}" "${M[fetch_bgjob]}") x bgjob"
printf '%-58s %10s  %s\n' "fetch: one curl --parallel --parallel-max 8" "${M[fetch_parallel]}" "$(ratio "${M[fetch_parallel]}" "${M[fetch_bgjob]}") x bgjob"
goal "digest 4 KiB files: sha256sum time / bgjob time" "$(ratio "${M[digest_one]}" "${M[digest_bgjob]}")" 1
goal "digest mixed files: sha256sum time / bgjob time" "$(ratio "${M[mixed_one]}" "${M[mixed_bgjob]}")" 1
goal "fetch: curl --parallel time / bgjob time" "$(ratio "${M[fetch_parallel]}" "${M[fetch_bgjob]}")" 1.2
goal "fetch: xargs curl time / bgjob time" "$(ratio "${M[fetch_xargs]}" "${M[fetch_bgjob]}")" 20
