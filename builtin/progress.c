/*
 * progress.c - the progress line of `bgjob wait`: in an interactive shell
 * with stderr on a terminal, a wait that lasts more than half a second draws
 * one self-updating line on stderr (jobs done / total, running, failed, the
 * combined progress of the jobs that report it, elapsed time, an estimate of
 * the time left), at most ten times a second, and erases it when the wait
 * ends.  `wait -q` draws nothing.  The estimate is the longest of the
 * running jobs' own (the time each ran over the part it reports done), or
 * without any, the pace of the jobs done so far.
 *
 * Main thread only; the state is the caller's struct bgj_progress.
 */
#include "bgjob_builtin.h"

#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define FIRST_DRAW 0.5 /* seconds into the wait */
#define INTERVAL   0.1 /* between two updates */

int bgj_progress_wanted(int quiet) { return !quiet && interactive_shell && isatty(STDERR_FILENO); }

void bgj_progress_begin(struct bgj_progress *p, int quiet)
{
    memset(p, 0, sizeof *p);
    p->on = bgj_progress_wanted(quiet);
    p->start = bgj_mono();
}

/* M:SS, or H:MM:SS from an hour on. */
static void clock_text(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

double bgj_progress_update(struct bgj_progress *p, bgjob_job **t, const int *st, size_t n)
{
    if (!p->on)
        return -1;
    double now = bgj_mono();
    if (now - p->start < FIRST_DRAW)
        return p->start + FIRST_DRAW;
    if (p->drawn && now - p->last < INTERVAL)
        return p->last + INTERVAL;
    size_t done = 0, failed = 0, running = 0, reporting = 0;
    double sum = 0, left_max = -1, wall = bgj_now();
    for (size_t i = 0; i < n; i++) {
        int s = st[i] >= 0 ? st[i] : bgj_state_of(t[i]);
        if (bgj_finished(s)) {
            done++;
            if (s == BGJ_DEAD)
                failed++;
            sum += 1;
            continue;
        }
        if (s == BGJ_RUNNING)
            running++;
        double f = bgj_progress(t[i]);
        if (f < 0)
            continue;
        reporting++;
        sum += f;
        /* This job's own pace: the time it ran over the part it did. */
        double ran = wall - bgj_started_of(t[i]);
        if (f > 0 && ran > 0 && bgj_started_of(t[i]) > 0 && ran * (1 - f) / f > left_max)
            left_max = ran * (1 - f) / f;
    }
    double elapsed = now - p->start;
    /* Without a job that reports progress, the pace of the jobs done so far. */
    if (left_max < 0 && done > 0 && done < n && reporting == 0)
        left_max = elapsed * (double)(n - done) / (double)done;
    char el[32], left[48] = "", pct[24] = "";
    clock_text(el, sizeof el, elapsed);
    if (reporting)
        snprintf(pct, sizeof pct, ", %.0f%%", n ? sum / (double)n * 100 : 0);
    if (left_max >= 0) {
        char c[32];
        clock_text(c, sizeof c, left_max);
        snprintf(left, sizeof left, ", ~%s left", c);
    }
    char failed_text[32] = "";
    if (failed)
        snprintf(failed_text, sizeof failed_text, ", %zu failed", failed);
    char line[256];
    snprintf(line, sizeof line, "bgjob: waiting: %zu/%zu done, %zu running%s%s, %s elapsed%s", done, n,
             running, failed_text, pct, el, left);
    /* One row only, or the erase would leave the wrapped part behind. */
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && (size_t)ws.ws_col - 1 < sizeof line)
        line[ws.ws_col - 1] = 0;
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->drawn = 1;
    p->last = now;
    return now + INTERVAL;
}

void bgj_progress_erase(struct bgj_progress *p)
{
    if (!p->drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->drawn = 0;
}
