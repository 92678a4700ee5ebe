"""bench/ipy_bjm.py N - IPython's BackgroundJobManager, as a Python user runs background work.

Times, inside this process (start-up and imports not counted):
  ipy_bjm        N x jobs.new('2**20'), then join every job, then read every result
  ipy_bjm_shell  the same with an IPython shell instance alive (new() then skips
                 building a traceback formatter per job: the cheaper case)
and the resident memory each retained finished job holds before flush().
Prints `name <TAB> n <TAB> value <TAB> unit` rows like bench/sections.sh.
"""
import contextlib
import gc
import io
import sys
import time

from IPython.lib.backgroundjobs import BackgroundJobManager


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run(n, tag):
    jobs = BackgroundJobManager()
    gc.collect()
    r0 = rss_kb()
    t0 = time.perf_counter()
    started = [jobs.new("2**20") for _ in range(n)]
    for j in started:
        j.join()
    res = [j.result for j in started]
    t1 = time.perf_counter()
    assert res[-1] == 1048576, res[-1]
    del started, res, j
    gc.collect()
    r1 = rss_kb()
    with contextlib.redirect_stdout(io.StringIO()):
        jobs.status()  # moves finished jobs to the completed list, as a user would
        jobs.flush()
    return [f"{tag}\t{n}\t{(t1 - t0) * 1e6:.0f}\tus",
            f"{tag}_rss_per_job_B\t{n}\t{(r1 - r0) * 1024 / n:.0f}\tB"]


def main():
    n = int(sys.argv[1])
    rows = run(n, "ipy_bjm")
    with contextlib.redirect_stdout(io.StringIO()):
        from IPython.terminal.interactiveshell import TerminalInteractiveShell
        TerminalInteractiveShell.instance()
    rows += run(n, "ipy_bjm_shell")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
