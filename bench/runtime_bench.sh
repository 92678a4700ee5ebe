#!/usr/bin/env bash
# runtime_bench.sh - the process runtime (commands on one I/O thread): what
# `run` costs the shell while commands run, against the 0.2 build (37ed342,
# a thread per command) and the C posix_spawn floor, in one invocation.
#
#   BGJOB_SO=./bgjob.so SPAWN_FLOOR=build/bench/spawn_floor \
#   SLOW_WRITER=build/bench/slow_writer [BGJOB_SO_BASE=/tmp/bgjob-02/bgjob.so] \
#     bash bench/runtime_bench.sh
#
#   REPS=3     repetitions (default 3); every rep runs each build in fresh bash processes,
#              alternating which build goes first
#   QUICK=1    smaller counts (16 kills, 2 s idle window, 200 round trips)
#
# Rows (each in a fresh `bash --norc --noprofile`, timed from the inside):
#   1 kill latency   64 `run sleep 1000` jobs running; kill the oldest:
#                    t = EPOCHREALTIME around `bgjob kill ID; bgjob wait ID`,
#                    then start a replacement (untimed) so 64 run at every kill
#   2 idle wakeups   the same 64 jobs, after a settle: voluntary+nonvoluntary
#                    context switches summed over /proc/$$/task/*/status
#                    before and after `read -t WINDOW` on an idle FIFO, per second
#   3 capture CPU    `bgjob new -f run slow_writer 60000000 65536 3; bgjob wait`:
#                    utime+stime of the shell (/proc/$$/stat, every thread,
#                    children excluded) before and after
#   4 result memory  `bgjob new -f run slow_writer 50000000 65536 0; bgjob wait`
#                    after resetting the peak (echo 5 > /proc/$$/clear_refs):
#                    VmHWM after - VmRSS before
#   5 round trip     `bgjob new -f run /bin/true; bgjob wait`, N times in a loop,
#                    µs per command, and the shell's utime+stime per command;
#                    spawn_floor N /bin/true in the same rep
#
# BGJOB_SO_BASE unset or missing: the 0.2 column and its ratios are skipped,
# with the reason.  Raw rows: bench/results/runtime-raw-STAMP.tsv.
# A benchmark: it asserts nothing; goals are printed with met / missed.
set -u

# ------------------------------------------------------------------ sections
# Run inside a fresh bash with bgjob enabled; each prints "KEY VALUE" lines.
if [[ ${1:-} == --section ]]; then
    sec=$2 so=$3
    shift 3
    enable -f "$so" bgjob || exit 99
    export BGJOB_MAX_RUNNING=100 # 64 running + a replacement never queue
    fifo=$(mktemp -u) && mkfifo "$fifo" && exec {fd}<> "$fifo" && rm -f "$fifo"
    pause() { read -r -t "$1" -u "$fd"; } # sleep without a fork
    us() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }
    running() { # ID: 0 once the command has a pid
        local -A j
        bgjob show -v j "$1" 2> /dev/null && [[ -n ${j[pid]:-} ]]
    }
    # ctx ARRAY COMMS: per thread id, voluntary + nonvoluntary switches; its name
    ctx() {
        local -n _s=$1 _c=$2
        local t k v sum c
        _s=() _c=()
        for t in /proc/$$/task/*; do
            sum=0
            while read -r k v; do
                case $k in voluntary_ctxt_switches: | nonvoluntary_ctxt_switches:) sum=$((sum + v)) ;; esac
            done < "$t/status" 2> /dev/null || continue
            read -r c < "$t/comm"
            _s[${t##*/}]=$sum _c[${t##*/}]=$c
        done
    }
    # cpu: utime+stime of the whole process in clock ticks (fields 14, 15)
    cpu() {
        local line f
        read -r line < /proc/$$/stat
        read -ra f <<< "${line##*) }"
        echo $((f[11] + f[12]))
    }
    # tcpu: "name ticks" per live thread
    tcpu() {
        local t line f c
        for t in /proc/$$/task/*; do
            read -r line < "$t/stat" 2> /dev/null || continue
            read -r c < "$t/comm"
            read -ra f <<< "${line##*) }"
            echo "$c $((f[11] + f[12]))"
        done
    }
    status_kb() { # FIELD (VmRSS, VmHWM): kB
        local k v u
        while read -r k v _; do [[ $k == "$1:" ]] && { echo "$v"; return; }; done < /proc/$$/status
    }

    case $sec in
    idle64) # KILLS WINDOW SETTLE
        kills=$1 window=$2 settle=$3
        q=()
        for ((i = 0; i < 64; i++)); do bgjob new -f run sleep 1000 || exit 1; q+=("$BGJOB_LAST"); done
        for id in "${q[@]}"; do until running "$id"; do pause 0.01; done; done
        pause "$settle" # the start-up's workers go idle and leave
        declare -A b bc a ac
        ctx b bc
        pause "$window"
        ctx a ac
        echo "threads ${#a[@]}"
        total=0 vanished=0
        declare -A byname=()
        for t in "${!a[@]}"; do
            d=$((a[$t] - ${b[$t]:-0}))
            total=$((total + d))
            byname[${ac[$t]}]=$((${byname[${ac[$t]}]:-0} + d))
        done
        for t in "${!b[@]}"; do [[ -v a[$t] ]] || vanished=$((vanished + 1)); done
        echo "wake_total $total"
        echo "wake_vanished_threads $vanished"
        for n in "${!byname[@]}"; do echo "wake_thread_${n// /_} ${byname[$n]}"; done
        echo "wake_per_s $(awk -v t="$total" -v w="$window" 'BEGIN { printf "%.2f", t / w }')"
        # kill latency, 64 running at every kill
        for ((k = 0; k < kills; k++)); do
            id=${q[0]}
            q=("${q[@]:1}")
            pause 0.02
            t0=${EPOCHREALTIME/./}
            bgjob kill "$id"
            bgjob wait "$id"
            t1=${EPOCHREALTIME/./}
            echo "kill_us $((10#$t1 - 10#$t0))"
            bgjob new -f run sleep 1000 || exit 1
            q+=("$BGJOB_LAST")
            until running "$BGJOB_LAST"; do pause 0.005; done
        done
        bgjob kill "${q[@]}"
        bgjob wait
        ;;
    capture) # WRITER BYTES CHUNK SECONDS
        bgjob new -f run /bin/true && bgjob wait # warm-up: the spawner and the I/O thread exist
        tick=$(getconf CLK_TCK)
        declare -A b bc a ac
        mapfile -t before < <(tcpu)
        ctx b bc
        c0=$(cpu) t0=$(us)
        bgjob new -f run "$@" || exit 1
        id=$BGJOB_LAST
        bgjob wait "$id"
        rc=$?
        c1=$(cpu) t1=$(us)
        ctx a ac
        mapfile -t after < <(tcpu)
        bgjob result -v r "$id"
        echo "capture_rc $rc"
        echo "capture_bytes $((${#r} + 1))" # $(...) drops the final newline
        echo "capture_cpu_s $(awk -v c=$((c1 - c0)) -v k="$tick" 'BEGIN { printf "%.3f", c / k }')"
        echo "capture_wall_s $(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", t / 1e6 }')"
        sw=0
        for t in "${!a[@]}"; do sw=$((sw + a[$t] - ${b[$t]:-0})); done
        echo "capture_ctxsw $sw"
        # per thread name: CPU ticks of the threads alive at the end (growth)
        awk -v k="$tick" 'NR == FNR { b[$1] += $2; next } { a[$1] += $2 }
            END { for (n in a) printf "capture_thread_cpu_%s %.3f\n", n, (a[n] - b[n]) / k }' \
            <(printf '%s\n' "${before[@]}") <(printf '%s\n' "${after[@]}")
        ;;
    result) # WRITER BYTES CHUNK SECONDS
        bytes=$2
        bgjob new -f run /bin/true && bgjob wait
        echo 5 > /proc/$$/clear_refs 2> /dev/null || echo "result_note clear_refs not writable: peak before the job counted"
        rss0=$(status_kb VmRSS) hwm0=$(status_kb VmHWM)
        bgjob new -f run "$@" || exit 1
        id=$BGJOB_LAST
        bgjob wait "$id"
        hwm1=$(status_kb VmHWM) rss1=$(status_kb VmRSS)
        base=$((hwm0 > rss0 ? hwm0 : rss0))
        echo "result_peak_mb $(awk -v d=$((hwm1 - base)) 'BEGIN { printf "%.1f", d * 1024 / 1e6 }')"
        echo "result_peak_x $(awk -v d=$((hwm1 - base)) -v n="$bytes" 'BEGIN { printf "%.3f", d * 1024 / n }')"
        echo "result_kept_mb $(awk -v d=$((rss1 - rss0)) 'BEGIN { printf "%.1f", d * 1024 / 1e6 }')"
        bgjob result -v r "$id"
        echo "result_bytes $((${#r} + 1))"
        ;;
    roundtrip) # N
        n=$1
        bgjob new -f run /bin/true && bgjob wait
        bgjob flush -f > /dev/null
        tick=$(getconf CLK_TCK)
        c0=$(cpu) t0=$(us)
        for ((i = 0; i < n; i++)); do bgjob new -f run /bin/true; bgjob wait; done
        t1=$(us) c1=$(cpu)
        echo "rt_us $(awk -v t=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.1f", t / n }')"
        echo "rt_cpu_us $(awk -v c=$((c1 - c0)) -v k="$tick" -v n="$n" 'BEGIN { printf "%.1f", c / k * 1e6 / n }')"
        ;;
    *) echo "unknown section $sec" >&2; exit 2 ;;
    esac
    exit 0
fi

# ------------------------------------------------------------------ driver
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${BGJOB_SO:=$ROOT/bgjob.so}"
: "${SPAWN_FLOOR:=$ROOT/build/bench/spawn_floor}"
: "${SLOW_WRITER:=$ROOT/build/bench/slow_writer}"
BGJOB_SO_BASE=${BGJOB_SO_BASE:-}
REPS=${REPS:-3}
QUICK=${QUICK:-}
[[ $QUICK == 0 ]] && QUICK=
if [[ -n $QUICK ]]; then KILLS=16 WINDOW=2 SETTLE=6 N_RT=200; else KILLS=64 WINDOW=5 SETTLE=6 N_RT=500; fi
CAP_BYTES=60000000 CAP_CHUNK=65536 CAP_SECONDS=3 RES_BYTES=50000000

for f in "$BGJOB_SO" "$SPAWN_FLOOR" "$SLOW_WRITER"; do
    [[ -x $f || -r $f ]] || { echo "runtime_bench: $f is missing (make bench-runtime builds it)" >&2; exit 1; }
done
BUILDS=(new)
declare -A SO=([new]=$BGJOB_SO)
BASE_SKIP=
if [[ -z $BGJOB_SO_BASE ]]; then
    BASE_SKIP="BGJOB_SO_BASE not set (the 0.2 build's bgjob.so; make bench-runtime builds it from git)"
elif [[ ! -r $BGJOB_SO_BASE ]]; then
    BASE_SKIP="BGJOB_SO_BASE=$BGJOB_SO_BASE does not exist"
else
    BUILDS+=(base)
    SO[base]=$BGJOB_SO_BASE
fi

mkdir -p "$ROOT/bench/results"
STAMP=$(date +%Y%m%d-%H%M%S)
RAW=$ROOT/bench/results/runtime-raw-$STAMP.tsv
ERR=$ROOT/bench/results/runtime-$STAMP.log
printf 'rep\tbuild\tkey\tvalue\n' > "$RAW"
{
    echo "# runtime_bench $STAMP REPS=$REPS QUICK=${QUICK:-0} KILLS=$KILLS WINDOW=$WINDOW N_RT=$N_RT"
    echo "# host: $(uname -srm); $(nproc) CPUs; $(bash --version | head -n1)"
    echo "# new: $BGJOB_SO; base: ${BGJOB_SO_BASE:-none}"
    echo "# loadavg at start: $(cat /proc/loadavg)"
} > "$ERR"

section() { # REP BUILD SECTION ARGS...: rows into RAW
    local rep=$1 build=$2 out rc
    shift 2
    out=$(bash --norc --noprofile "$ROOT/bench/runtime_bench.sh" --section "$1" "${SO[$build]}" "${@:2}" 2>> "$ERR")
    rc=$?
    ((rc == 0)) || echo "runtime_bench: section $1 ($build, rep $rep) exited $rc; see $ERR" >&2
    [[ -n $out ]] && awk -v OFS='\t' -v r="$rep" -v b="$build" 'NF == 2 { print r, b, $1, $2 }' <<< "$out" >> "$RAW"
    printf '.' >&2
}

t_start=$SECONDS
echo "runtime_bench: $REPS reps, builds: ${BUILDS[*]}${BASE_SKIP:+ (0.2 skipped: $BASE_SKIP)}; raw rows in ${RAW#$ROOT/}" >&2
for ((rep = 1; rep <= REPS; rep++)); do
    order=("${BUILDS[@]}")
    ((rep % 2 == 0 && ${#order[@]} == 2)) && order=(base new)
    for b in "${order[@]}"; do section "$rep" "$b" idle64 "$KILLS" "$WINDOW" "$SETTLE"; done
    for b in "${order[@]}"; do section "$rep" "$b" capture "$SLOW_WRITER" "$CAP_BYTES" "$CAP_CHUNK" "$CAP_SECONDS"; done
    for b in "${order[@]}"; do section "$rep" "$b" result "$SLOW_WRITER" "$RES_BYTES" "$CAP_CHUNK" 0; done
    for b in "${order[@]}"; do section "$rep" "$b" roundtrip "$N_RT"; done
    f=$("$SPAWN_FLOOR" "$N_RT" /bin/true) && printf '%s\tfloor\trt_us\t%s\n' "$rep" "$f" >> "$RAW"
    for b in "${order[@]}"; do section "$rep" "$b" roundtrip "$N_RT"; done # again, after the floor
    echo " rep $rep done ($((SECONDS - t_start)) s)" >&2
done
echo "# loadavg at end: $(cat /proc/loadavg)" >> "$ERR"

# ------------------------------------------------------------------ summary
# Per rep: the kill latency's median over its kills; the two round-trip passes' mean.
# Then median and min - max over reps; ratios taken within a rep.
python3 - "$RAW" "$BASE_SKIP" "$ERR" << 'EOF'
import sys, statistics as st
from collections import defaultdict
raw, base_skip, log = sys.argv[1], sys.argv[2], sys.argv[3]
v = defaultdict(list)            # (rep, build, key) -> values
for line in open(raw).read().splitlines()[1:]:
    rep, b, k, x = line.split('\t')
    try: v[(int(rep), b, k)].append(float(x))
    except ValueError: pass
reps = sorted({r for r, _, _ in v})
def per_rep(b, k, agg=st.median):
    return {r: agg(v[(r, b, k)]) for r in reps if v.get((r, b, k))}
def fmt(d, p=2):
    if not d: return 'n/a'
    xs = sorted(d.values())
    return f"{st.median(xs):.{p}f} ({xs[0]:.{p}f}-{xs[-1]:.{p}f})" if len(xs) > 1 else f"{xs[0]:.{p}f}"
def ratio(a, b):
    return {r: a[r] / b[r] for r in a if r in b and b[r] > 0}
def med(d): return st.median(d.values()) if d else None
def verdict(x, goal): return 'n/a' if x is None else ('met' if x <= goal else 'MISSED')

kill = {b: {r: x / 1000 for r, x in per_rep(b, 'kill_us').items()} for b in ('new', 'base')}
kill90 = {b: {r: sorted(v[(r, b, 'kill_us')])[int(0.9 * len(v[(r, b, 'kill_us')]))] / 1000
              for r in reps if v.get((r, b, 'kill_us'))} for b in ('new', 'base')}
wake = {b: per_rep(b, 'wake_per_s') for b in ('new', 'base')}
def wake_others(b):  # the same without the main thread ("bash"), which sits in the measuring read -t
    out = {}
    for r in reps:
        tot, ps, main = (v.get((r, b, k), [None])[0] for k in ('wake_total', 'wake_per_s', 'wake_thread_bash'))
        if tot is not None and ps is not None:
            out[r] = 0.0 if not tot else (tot - (main or 0)) * ps / tot
    return out
wake_bg = {b: wake_others(b) for b in ('new', 'base')}
cpu = {b: per_rep(b, 'capture_cpu_s') for b in ('new', 'base')}
wall = {b: per_rep(b, 'capture_wall_s') for b in ('new', 'base')}
sw = {b: per_rep(b, 'capture_ctxsw') for b in ('new', 'base')}
peak = {b: per_rep(b, 'result_peak_x') for b in ('new', 'base')}
peakmb = {b: per_rep(b, 'result_peak_mb') for b in ('new', 'base')}
rt = {b: per_rep(b, 'rt_us', st.mean) for b in ('new', 'base', 'floor')}
rtcpu = {b: per_rep(b, 'rt_cpu_us', st.mean) for b in ('new', 'base')}
rt_base = ratio(rt['new'], rt['base'])
rt_floor = ratio(rt['new'], rt['floor'])
rt_base_floor = ratio(rt['base'], rt['floor'])

print(f"\nruntime_bench: {len(reps)} reps; median (min-max) over reps; ratios taken within a rep")
if base_skip: print(f"0.2 column skipped: {base_skip}")
rows = [
  ('1', 'kill -> job ended, 64 running', '`bgjob kill ID; bgjob wait ID` in EPOCHREALTIME, median of the kills', 'ms',
   kill['new'], kill['base'], '<= 5 ms', verdict(med(kill['new']), 5)),
  ('1', '  (90th percentile of the kills)', 'same kills', 'ms', kill90['new'], kill90['base'], '', ''),
  ('2', 'idle wakeups, 64 sleeping', 'sum of ctxt switches over /proc/$$/task/*/status / window', '/s',
   wake['new'], wake['base'], '<= 2 /s', verdict(med(wake['new']), 2)),
  ('2', '  (bgjob threads only, main excluded)', 'the same sum over the threads not named bash', '/s',
   wake_bg['new'], wake_bg['base'], '', ''),
  ('3', 'shell CPU capturing 60 MB over 3 s', 'utime+stime of /proc/$$/stat across `new -f run slow_writer; wait`', 's',
   cpu['new'], cpu['base'], '<= 0.5 s', verdict(med(cpu['new']), 0.5)),
  ('3', '  (wall time of that job)', 'EPOCHREALTIME around new + wait', 's', wall['new'], wall['base'], '', ''),
  ('3', '  (shell context switches meanwhile)', 'ctxt switches of the threads alive at the end', 'n', sw['new'], sw['base'], '', ''),
  ('4', 'peak RSS growth, 50 MB result', '(VmHWM after wait - VmRSS before) / 50 MB, peak reset first', 'x',
   peak['new'], peak['base'], '<= 1.2 x', verdict(med(peak['new']), 1.2)),
  ('4', '  (the same in MB)', '', 'MB', peakmb['new'], peakmb['base'], '', ''),
  ('5', '`run /bin/true; wait` round trip', f'loop of N, µs per command (mean of 2 passes per rep)', 'us',
   rt['new'], rt['base'], '', ''),
  ('5', '  (shell CPU per command)', 'utime+stime of /proc/$$/stat over the loop / N (spawner not included)', 'us',
   rtcpu['new'], rtcpu['base'], '', ''),
  ('5', '  C floor', 'spawn_floor N /bin/true (posix_spawn + pipe + waitpid)', 'us', rt['floor'], {}, '', ''),
  ('5', 'round trip new / 0.2', 'ratio within a rep', 'x', rt_base, {}, '<= 1.05 x', verdict(med(rt_base), 1.05)),
  ('5', 'round trip new / C floor', 'ratio within a rep', 'x', rt_floor, rt_base_floor, '<= 1.3 x', verdict(med(rt_floor), 1.3)),
]
print(f"{'#':2} {'measure':38} {'unit':4} {'new build':26} {'0.2 (37ed342)':26} {'goal':10} verdict   method")
for n, name, method, unit, a, b, goal, vd in rows:
    p = 3 if unit == 'x' else 2
    print(f"{n:2} {name:38} {unit:4} {fmt(a, p):26} {fmt(b, p) if b else '':26} {goal:10} {vd:9} {method}")
# which threads woke (new build, median over reps)
names = sorted({k for (_, b, k) in v if b == 'new' and k.startswith('wake_thread_')})
if names:
    print("idle wakeups by thread name (new build, per window): " +
          ", ".join(f"{k[len('wake_thread_'):]} {st.median(per_rep('new', k).values()):.0f}" for k in names))
names = sorted({k for (_, b, k) in v if b == 'new' and k.startswith('capture_thread_cpu_')})
if names:
    print("capture CPU by live thread (new build, s): " +
          ", ".join(f"{k[len('capture_thread_cpu_'):]} {st.median(per_rep('new', k).values()):.2f}" for k in names))
for b in ('new', 'base'):
    bad = [(r, k, x) for (r, bb, k), xs in v.items() if bb == b for x in xs
           if (k == 'capture_bytes' and x != 60000000) or (k == 'result_bytes' and x != 50000000)]
    if bad: print(f"warning ({b}): output not captured whole: {bad}")
print(f"log: {log}")
EOF
