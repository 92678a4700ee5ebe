#!/usr/bin/env python3
"""bench/summarize.py RAW.tsv [--log RUN.log] - the table, summary TSV and chart of one bench run.

RAW.tsv has one row per (rep, section, measurement) as bench/run.sh writes it.
For each measurement: the median over reps, with min-max.  Every ratio is
taken within one rep (both sides measured in the same invocation, minutes
apart at most; goal 1 even in the same bash), then summarised over reps.
Writes summary-STAMP.tsv and chart.png next to RAW.tsv, and copies the chart
to docs/bench-chart.png.  Asserts nothing.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict

RESULT_BYTES = len("1048576") + 1  # the result string of 'x = 2**20', NUL included


def load(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 7:
                continue
            rep, sec, name, n, val, unit, load1 = p
            rows.append(dict(rep=int(rep), sec=sec, name=name, n=int(n), val=float(val), unit=unit,
                             load=float(load1)))
    return rows


class Run:
    def __init__(self, rows):
        self.rows = rows
        self.by = defaultdict(dict)  # (sec, name) -> rep -> row
        for r in rows:
            self.by[(r["sec"], r["name"])][r["rep"]] = r
        self.reps = sorted({r["rep"] for r in rows if r["rep"] > 0})

    def per_rep(self, sec, name, per_job=True):
        """rep -> value (microseconds per job for 'us' rows when per_job)."""
        out = {}
        for rep, r in self.by.get((sec, name), {}).items():
            v = r["val"]
            if per_job and r["unit"] == "us" and r["n"] > 0:
                v /= r["n"]
            out[rep] = v
        return out

    def n(self, sec, name):
        d = self.by.get((sec, name), {})
        return next(iter(d.values()))["n"] if d else 0


def combine(f, *series):
    """Applies F rep by rep to the reps every series has."""
    reps = set(series[0])
    for s in series[1:]:
        reps &= set(s)
    return {rep: f(*(s[rep] for s in series)) for rep in sorted(reps)}


def stats(d):
    v = sorted(d.values())
    if not v:
        return None
    return statistics.median(v), v[0], v[-1]


def fmt(x):
    if x is None:
        return "-"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_stats(s):
    if not s:
        return "-", "-"
    return fmt(s[0]), f"{fmt(s[1])} – {fmt(s[2])}"


def main():
    raw = sys.argv[1]
    log = sys.argv[sys.argv.index("--log") + 1] if "--log" in sys.argv else None
    rows = load(raw)
    R = Run(rows)
    outdir = os.path.dirname(os.path.abspath(raw))
    stamp = os.path.basename(raw)[len("raw-"):-len(".tsv")]

    table = []   # (item, what, n, value stats, unit, ratio stats, ratio label, goal, verdict)
    chart = []   # (label, stats, is_bgjob)
    skipped = [(r["name"], r["unit"]) for r in rows if r["sec"] == "skip"]

    def add(item, what, n, s, unit, ratio=None, rlabel="", goal="", ok=None):
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        table.append((item, what, n, s, unit, ratio, rlabel, goal, verdict))

    def us(sec, name):
        return R.per_rep(sec, name)

    # ---- 1. new in a loop vs let ----
    let = us("newloop", "let_loop")
    new = us("newloop", "bgjob_new_loop")
    nN = R.n("newloop", "let_loop")
    add("1", "`let 'x = 2**20'` loop iteration (reference)", nN, stats(let), "µs/job")
    r1 = combine(lambda a, b: a / b, new, let)
    s1 = stats(r1)
    add("1", "`bgjob new 'x = 2**20'` loop iteration, + 1 `wait`", nN, stats(new), "µs/job",
        s1, "× let", "≤ 2×", s1 and s1[0] <= 2)
    add("1", "  worker threads after the loop", "", stats(R.per_rep("newloop", "bgjob_new_threads", False)),
        "threads")
    chart.append(("let (reference)", stats(let), 2))
    chart.append(("bgjob new, loop", stats(new), 1))

    # ---- 2. round trip, N = 2000, vs the alternatives ----
    cold = us("roundtrip", "bgjob_rt_cold")
    warm = us("roundtrip", "bgjob_rt_warm")
    nR = R.n("roundtrip", "bgjob_rt_cold")
    add("2", "bgjob round trip: new ×N, wait, result -v ×N (fresh bash)", nR, stats(cold), "µs/job")
    add("2", "  its `new` loop alone", nR, stats(us("roundtrip", "bgjob_rt_cold_new")), "µs/job")
    add("2", "  threads started by that burst", "",
        stats(R.per_rep("roundtrip", "bgjob_rt_cold_threads", False)), "threads")
    add("2", "bgjob round trip, pool already started (same bash, 2nd time)", nR, stats(warm), "µs/job")
    chart.append(("bgjob round trip", stats(cold), 1))
    chart.append(("bgjob round trip, warm", stats(warm), 1))
    peers = [
        ("tmpfile", "tmpfile_bg", "(a) `{ echo $((2**20)) >f; } &` ×N, wait, read back", "≥ 20×", "{ …; } & + temp file"),
        ("xargs", "xargs_P2", "(b) `seq N | xargs -P2 -n1 bash -c 'echo $((2**20))'`", "≥ 20×", "xargs -P2"),
        ("parallel", "parallel_j2", "(c) `parallel -j2 'echo $((2**20))' ::: $(seq N)`", "", "GNU parallel -j2"),
        ("coproc_job", "coproc_per_job", "(d) one `coproc` per job", "", "coproc per job"),
        ("coproc_worker", "coproc_worker", "(e) persistent `coproc` worker, 1 round trip/job", "", "coproc worker"),
        ("ipython", "ipy_bjm", "3. IPython BackgroundJobManager: new('2**20'), join all", "≥ 40×",
         "IPython BJM"),
        ("ipython", "ipy_bjm_shell", "3. same, with an IPython shell instance alive", "", "IPython BJM (shell)"),
    ]
    for sec, name, what, goal, label in peers:
        p = us(sec, name)
        if not p:
            reason = dict(skipped).get({"ipython": "ipython"}.get(sec, sec))
            if reason:
                add(what[:2].strip(), what + f" — skipped: {reason}", "", None, "")
            continue
        r = combine(lambda a, b: a / b, p, cold)
        s = stats(r)
        item = "3" if sec == "ipython" else "2"
        add(item, what, R.n(sec, name), stats(p), "µs/job", s, "× bgjob rt", goal,
            (s and s[0] >= float(goal.split()[1].rstrip("×"))) if goal else None)
        chart.append((label, stats(p), 0))
    ipm = R.per_rep("ipython", "ipy_bjm_rss_per_job_B", False)
    if ipm:
        add("3", "  IPython: RSS per retained finished job (no shell)", R.n("ipython", "ipy_bjm"), stats(ipm), "B/job")

    # ---- 4. callbacks ----
    cb = us("cbsleep", "cb_sleep0_rt")
    nC = R.n("cbsleep", "cb_sleep0_rt")
    add("4", "`-f sleep 0` one at a time: new, wait ID, result -v", nC, stats(cb), "µs/job",
        stats(combine(lambda a, b: b / a, cb, us("coproc_worker", "coproc_worker"))), "× (coproc worker ÷ this)")
    add("4", "`-f sleep 0`, N submitted, wait, N results", nC, stats(us("cbsleep", "cb_sleep0_batch")), "µs/job")
    add("4", "`new 'x = 2**20'` one at a time: new, wait ID, result -v", nC,
        stats(us("cbsleep", "arith_rt_single")), "µs/job")
    chart.append(("bgjob -f sleep 0, one at a time", stats(cb), 1))
    b1 = R.per_rep("busy", "busy_1job", False)
    b2 = R.per_rep("busy", "busy_2jobs", False)
    c1 = R.per_rep("cpuscale", "c_busy_1thread", False)
    c2 = R.per_rep("cpuscale", "c_busy_2threads", False)
    nB = R.n("cpuscale", "c_busy_1thread")
    sb = stats(combine(lambda a, b: 2 * a / b, b1, b2))
    sc = stats(combine(lambda a, b: 2 * a / b, c1, c2))
    add("4", "`-f busy ITER`: throughput of 2 jobs at once vs 1", "", stats(combine(lambda a: a / 2e3, b1)),
        "ms/job alone", sb, "× one job", "≥ 1.8×", sb and sb[0] >= 1.8)
    add("4", "  ceiling: same loop, 2 pthreads vs 1, plain C (cpuscale)", "", stats(combine(lambda a: a / 2e3, c1)),
        "ms/job alone", sc, "× one thread")
    if sb and sc:
        add("4", "  bgjob scaling as a share of the machine's", "", None, "",
            stats(combine(lambda a, b, c, d: (2 * a / b) / (2 * c / d), b1, b2, c1, c2)), "of ceiling")

    # ---- 5 + 6. memory, status, flush ----
    sizes = sorted({int(r["sec"][3:]) for r in rows if r["sec"].startswith("mem")})
    per_job = {}
    for n in sizes:
        s = f"mem{n}"
        full = R.per_rep(s, "rss_full_kB", False)
        before = R.per_rep(s, "rss_before_jobs_kB", False)
        per_job[n] = combine(lambda a, b: (a - b) * 1024 / n, full, before)
    big = sizes[-1] if sizes else None
    if big:
        s = f"mem{big}"
        pj = per_job[big]
        beyond = {k: v - RESULT_BYTES for k, v in pj.items()}
        sb_ = stats(beyond)
        add("5", "RSS per retained finished job (VmRSS delta / N)", big, stats(pj), "B/job")
        add("5", f"  minus the result string ({RESULT_BYTES} B)", big, sb_, "B/job", None, "", "≤ 200 B",
            sb_ and sb_[0] <= 200)
        idle = combine(lambda a, b: a - b, R.per_rep(s, "rss_idle_kB", False), R.per_rep(s, "rss_bash_kB", False))
        si = stats(idle)
        add("5", "manager RSS, 1 idle worker (after enable + 1 job − bash alone)", "", si, "kB", None, "",
            "≤ 1024 kB", si and si[0] <= 1024)
        burst = R.per_rep("roundtrip", "rss_idle_after_burst_kB", False)
        sbu = stats(burst)
        if sbu:
            add("5", "manager RSS after a 2000-job burst, workers idle", "", sbu, "kB", None, "", "≤ 1024 kB",
                sbu[0] <= 1024)
            add("5", "  idle worker threads after that burst", "",
                stats(R.per_rep("roundtrip", "idle_after_burst_threads", False)), "threads")
        back = combine(lambda a, b: a - b, R.per_rep(s, "rss_flushed_kB", False),
                       R.per_rep(s, "rss_before_jobs_kB", False))
        add("5", f"RSS after `flush` of {big:,} jobs − RSS before them", "", stats(back), "kB")
        for n in sizes[:-1]:
            add("5", f"  RSS per retained job at N = {n:,}", n, stats(per_job[n]), "B/job")
    first_status = first_flush = None
    for n in sizes:
        s = f"mem{n}"
        st = us(s, "status_full")
        fl = us(s, "flush_full")
        if first_status is None:
            first_status, first_flush = st, fl
            add("6", f"`status > /dev/null`, {n:,} finished jobs", n, stats(st), "µs/job")
            add("6", f"`flush`, {n:,} finished jobs", n, stats(fl), "µs/job")
        else:
            add("6", f"`status > /dev/null`, {n:,} finished jobs", n, stats(st), "µs/job",
                stats(combine(lambda a, b: a / b, st, first_status)), f"per job vs N={sizes[0]:,}", "≈ 1 (linear)")
            add("6", f"`flush`, {n:,} finished jobs", n, stats(fl), "µs/job",
                stats(combine(lambda a, b: a / b, fl, first_flush)), f"per job vs N={sizes[0]:,}", "≈ 1 (linear)")

    # ---- 7. the evaluator alone ----
    for r in rows:
        if r["sec"] == "arith" and re.match(r"(median|mean) ratio ours/bash: [0-9]", r["unit"]):
            add("7", "bench-arith: " + r["unit"], "", None, "")
    for name, reason in skipped:
        if name == "bench-arith":
            add("7", f"evaluator alone — skipped: {reason}", "", None, "")

    # ---- print ----
    hdr = ("#", "measure", "N", "median", "min – max", "unit", "ratio", "ratio min – max", "goal", "")
    lines = []
    for item, what, n, s, unit, ratio, rlabel, goal, verdict in table:
        m, mm = fmt_stats(s)
        rm, rmm = fmt_stats(ratio)
        lines.append((item, what, f"{n:,}" if isinstance(n, int) else str(n), m, mm, unit,
                      (rm + " " + rlabel) if ratio else "", rmm if ratio else "", goal, verdict))
    widths = [max(len(str(x[i])) for x in [hdr] + lines) for i in range(len(hdr))]
    widths[1] = min(widths[1], 66)

    def show(t):
        cells = [str(c)[:widths[i]] if i == 1 else str(c) for i, c in enumerate(t)]
        return "  ".join(c.ljust(widths[i]) if i in (0, 1, 5, 6, 8, 9) else c.rjust(widths[i])
                         for i, c in enumerate(cells)).rstrip()

    loads = [r["load"] for r in rows if r["rep"] > 0]
    print()
    print(f"bgjob bench {stamp}: {len(R.reps)} reps; median and min – max over reps; ratios taken within a rep.")
    if loads:
        print(f"load average (1 min) during the run: {min(loads):.2f} – {max(loads):.2f}")
    print(show(hdr))
    prev = None
    for l in lines:
        if prev is not None and l[0] != prev:
            print()
        prev = l[0]
        print(show(l))
    for name, reason in skipped:
        if name in ("gnuplot",):
            print(f"chart skipped: {reason}")

    summ = os.path.join(outdir, f"summary-{stamp}.tsv")
    with open(summ, "w") as f:
        f.write("item\tmeasure\tn\tmedian\tmin\tmax\tunit\tratio_median\tratio_min\tratio_max\tratio_of\tgoal\tverdict\n")
        for item, what, n, s, unit, ratio, rlabel, goal, verdict in table:
            sv = [f"{x:.6g}" for x in s] if s else ["", "", ""]
            rv = [f"{x:.6g}" for x in ratio] if ratio else ["", "", ""]
            f.write("\t".join([item, what, str(n), *sv, unit, *rv, rlabel, goal, verdict]) + "\n")
    shutil.copyfile(summ, os.path.join(outdir, "summary-latest.tsv"))
    print(f"\nraw: {os.path.relpath(raw)}  summary: {os.path.relpath(summ)}" + (f"  log: {os.path.relpath(log)}" if log else ""))

    # ---- chart ----
    if shutil.which("gnuplot") and chart:
        draw_chart(chart, outdir, stamp, loads)


def draw_chart(chart, outdir, stamp, loads):
    chart = [c for c in chart if c[1]]
    chart.sort(key=lambda c: c[1][0])
    dat = os.path.join(outdir, f"chart-{stamp}.dat")
    with open(dat, "w") as f:
        for i, (label, s, kind) in enumerate(chart):
            f.write(f'{i}\t"{label}"\t{s[0]:.6g}\t{s[1]:.6g}\t{s[2]:.6g}\t{kind}\t"{fmt(s[0])} µs"\n')
    png = os.path.join(outdir, "chart.png")
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chart.gp")
    load = f", load avg {min(loads):.1f}–{max(loads):.1f}" if loads else ""
    subprocess.run(["gnuplot", "-e", f"datafile='{dat}'; outfile='{png}'; "
                    f"subtitle='{stamp}, median of reps (bars: min–max){load}'", gp], check=False)
    if os.path.exists(png) and os.environ.get("BENCH_NO_DOCS") != "1":
        docs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
        os.makedirs(docs, exist_ok=True)
        shutil.copyfile(png, os.path.join(docs, "bench-chart.png"))
        print(f"chart: {os.path.relpath(png)} (copied to docs/bench-chart.png)")
    elif os.path.exists(png):
        print(f"chart: {os.path.relpath(png)} (QUICK run: docs/bench-chart.png left as it was)")


if __name__ == "__main__":
    main()
