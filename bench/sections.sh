# bench/sections.sh - one measurement section of `make bench`, run in a fresh bash:
#
#   bash --norc --noprofile bench/sections.sh SECTION N [ARG...]
#
# Every section times its loops inside this bash with $EPOCHREALTIME (so bash
# start-up and `enable -f` are never counted) and prints one TSV row per
# measurement on stdout:
#
#   name <TAB> n <TAB> value <TAB> unit
#
# unit "us" is a total in microseconds for n jobs (the summary divides by n);
# "kB", "B", "count" are raw values.  bench/run.sh collects the rows.
# BGJOB_SO and BGJOB_PLUGIN name the built objects.  Nothing here asserts.

set -u
SECTION=$1 N=$2
shift 2

now() { REPLY=${EPOCHREALTIME/[.,]/}; }   # microseconds since the epoch, no fork
row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4"; }
rss() { # VmRSS of this bash in kB, read without forking
    local k v _
    REPLY=0
    while read -r k v _; do [[ $k == VmRSS: ]] && { REPLY=$v; break; }; done < /proc/$$/status
}
nthreads() { local t=(/proc/$$/task/*); REPLY=${#t[@]}; }
load_bgjob() {
    enable -f "$BGJOB_SO" bgjob || exit 1
    # A loaded machine can stall the workers for a while; keep `new` from
    # hitting the default queue cap of 100000 in the long loops.
    BGJOB_MAX_QUEUED=100000000
}

case $SECTION in

# 1. `bgjob new 'x = 2**20'` per loop iteration (then one `bgjob wait`),
#    against `let 'x = 2**20'` in the same loop of the same bash.
newloop)
    load_bgjob
    now; t0=$REPLY
    for ((i = 0; i < N; i++)); do :; done
    now; t1=$REPLY
    for ((i = 0; i < N; i++)); do let 'x = 2**20'; done
    now; t2=$REPLY
    for ((i = 0; i < N; i++)); do bgjob new 'x = 2**20'; done
    now; t3=$REPLY
    bgjob wait
    now; t4=$REPLY
    for ((i = 0; i < N; i++)); do let 'x = 2**20'; done
    now; t5=$REPLY
    nthreads; th=$REPLY
    row loop_empty "$N" $((t1 - t0)) us
    row let_loop "$N" $(( (t2 - t1 + t5 - t4) / 2 )) us
    row bgjob_new_loop "$N" $((t4 - t2)) us
    row bgjob_new_wait_only "$N" $((t4 - t3)) us
    row bgjob_new_threads 1 $((th - 1)) count
    ;;

# 2. Full round trip: `new` each, `wait`, `result -v` each into an array.
#    Then the same again in the same bash with the pool already started.
roundtrip)
    rss; r0=$REPLY
    load_bgjob
    for pass in cold warm; do
        res=()
        now; t0=$REPLY
        for ((i = 0; i < N; i++)); do bgjob new -v 'ids[i]' 'x = 2**20'; done
        now; t1=$REPLY
        bgjob wait
        now; t2=$REPLY
        for ((i = 0; i < N; i++)); do bgjob result -v 'res[i]' "${ids[i]}"; done
        now; t3=$REPLY
        [[ ${#res[@]} == "$N" && ${res[N-1]} == 1048576 ]] || echo "roundtrip: bad results" >&2
        nthreads; th=$REPLY
        row "bgjob_rt_$pass" "$N" $((t3 - t0)) us
        row "bgjob_rt_${pass}_new" "$N" $((t1 - t0)) us
        row "bgjob_rt_${pass}_wait" "$N" $((t2 - t1)) us
        row "bgjob_rt_${pass}_result" "$N" $((t3 - t2)) us
        row "bgjob_rt_${pass}_threads" 1 $((th - 1)) count
        bgjob flush -f > /dev/null
    done
    sleep 0.3              # every worker parked
    rss; r1=$REPLY
    nthreads; th=$REPLY
    row rss_idle_after_burst_kB 1 $((r1 - r0)) kB
    row idle_after_burst_threads 1 $((th - 1)) count
    ;;

# 2a. One background group per job writing a temp file, wait, read them back.
tmpfile)
    d=$(mktemp -d)
    now; t0=$REPLY
    for ((i = 0; i < N; i++)); do { echo $((2**20)) > "$d/$i"; } & done
    wait
    for ((i = 0; i < N; i++)); do read -r r < "$d/$i"; res[i]=$r; done
    now; t1=$REPLY
    [[ ${res[N-1]} == 1048576 ]] || echo "tmpfile: bad results" >&2
    rm -rf "$d"
    row tmpfile_bg "$N" $((t1 - t0)) us
    ;;

# 2b. xargs -P2, one bash per job.
xargs)
    now; t0=$REPLY
    mapfile -t res < <(seq "$N" | xargs -P2 -n1 bash -c 'echo $((2**20))' _)
    now; t1=$REPLY
    [[ ${#res[@]} == "$N" ]] || echo "xargs: bad results" >&2
    row xargs_P2 "$N" $((t1 - t0)) us
    ;;

# 2c. GNU parallel -j2 (its start-up included, as a user pays it).
parallel)
    export PARALLEL_SHELL=/bin/bash
    now; t0=$REPLY
    mapfile -t res < <(parallel --will-cite -j2 'echo $((2**20))' ::: $(seq "$N"))
    now; t1=$REPLY
    [[ ${#res[@]} == "$N" ]] || echo "parallel: bad results" >&2
    row parallel_j2 "$N" $((t1 - t0)) us
    ;;

# 2d. One coproc per job: start, read its result, close, wait.  The job waits
#     for EOF before it exits: bash unsets COPROC as soon as it reaps it.
coproc_job)
    now; t0=$REPLY
    for ((i = 0; i < N; i++)); do
        coproc { echo $((2**20)); read -r _; }
        read -r r <&"${COPROC[0]}"
        pid=$COPROC_PID fd=${COPROC[1]}
        exec {fd}>&-
        wait "$pid"
        res[i]=$r
    done 2> /dev/null
    now; t1=$REPLY
    [[ ${res[N-1]} == 1048576 ]] || echo "coproc_job: bad results" >&2
    row coproc_per_job "$N" $((t1 - t0)) us
    ;;

# 2e. One persistent coproc bash worker, one round trip per job.
coproc_worker)
    coproc W { while read -r e; do echo $((e)); done; }
    now; t0=$REPLY
    for ((i = 0; i < N; i++)); do
        echo '2**20' >&"${W[1]}"
        read -r r <&"${W[0]}"
        res[i]=$r
    done
    now; t1=$REPLY
    [[ ${res[N-1]} == 1048576 ]] || echo "coproc_worker: bad results" >&2
    row coproc_worker "$N" $((t1 - t0)) us
    ;;

# 4a. Callback jobs: `-f sleep 0` one at a time (new, wait, result), then
#     N of them submitted at once, waited and read back.
cbsleep)
    load_bgjob
    now; t0=$REPLY
    for ((i = 0; i < N; i++)); do
        bgjob new -f sleep 0
        bgjob wait "$BGJOB_LAST"
        bgjob result -v r "$BGJOB_LAST"
    done
    now; t1=$REPLY
    bgjob flush -f > /dev/null
    now; t2=$REPLY
    for ((i = 0; i < N; i++)); do bgjob new -v 'ids[i]' -f sleep 0; done
    bgjob wait
    for ((i = 0; i < N; i++)); do bgjob result -v 'res[i]' "${ids[i]}"; done
    now; t3=$REPLY
    # the same one-at-a-time round trip for an arithmetic job
    for ((i = 0; i < N; i++)); do
        bgjob new 'x = 2**20'
        bgjob wait "$BGJOB_LAST"
        bgjob result -v r "$BGJOB_LAST"
    done
    now; t4=$REPLY
    row cb_sleep0_rt "$N" $((t1 - t0)) us
    row cb_sleep0_batch "$N" $((t3 - t2)) us
    row arith_rt_single "$N" $((t4 - t3)) us
    ;;

# 4b. CPU-bound scaling: one `busy ITER` job alone, then two at once (twice).
busy)
    load_bgjob
    bgjob load "$BGJOB_PLUGIN" || exit 1
    one=0 two=0
    for k in 1 2; do
        now; t0=$REPLY
        bgjob new -f busy "$N"; bgjob wait
        now; t1=$REPLY
        bgjob new -f busy "$N"; bgjob new -f busy "$N"; bgjob wait
        now; t2=$REPLY
        one=$((one + t1 - t0)) two=$((two + t2 - t1))
    done
    row busy_1job 2 "$one" us     # 2 runs of one job
    row busy_2jobs 2 "$two" us    # 2 runs of two jobs side by side
    ;;

# 5 + 6. Memory and the cost of status/flush with N finished jobs.
mem)
    rss; r0=$REPLY
    load_bgjob
    rss; r1=$REPLY
    bgjob new 'x = 2**20'; bgjob wait
    sleep 0.3              # let the worker stop spinning and park
    rss; r2=$REPLY
    nthreads; th_idle=$REPLY
    bgjob status > /dev/null; bgjob flush > /dev/null
    rss; r3=$REPLY
    for ((i = 0; i < N; i++)); do bgjob new 'x = 2**20'; done
    bgjob wait
    rss; r4=$REPLY
    nthreads; th_full=$REPLY
    now; t0=$REPLY
    bgjob status > /dev/null
    now; t1=$REPLY
    bgjob status -n > /dev/null
    now; t2=$REPLY
    bgjob flush > "$BENCH_TMP/flush.out"
    now; t3=$REPLY
    rss; r5=$REPLY
    read -r out < "$BENCH_TMP/flush.out"
    [[ $out == "Flushing $N Completed jobs." ]] || echo "mem: flush said: $out" >&2
    row rss_bash_kB 1 "$r0" kB
    row rss_loaded_kB 1 "$r1" kB
    row rss_idle_kB 1 "$r2" kB
    row rss_idle_threads 1 $((th_idle - 1)) count
    row rss_before_jobs_kB 1 "$r3" kB
    row rss_full_kB "$N" "$r4" kB
    row rss_full_threads 1 $((th_full - 1)) count
    row rss_flushed_kB 1 "$r5" kB
    row status_full "$N" $((t1 - t0)) us
    row status_n_empty "$N" $((t2 - t1)) us
    row flush_full "$N" $((t3 - t2)) us
    ;;

*)
    echo "sections.sh: unknown section $SECTION" >&2
    exit 2
    ;;
esac
