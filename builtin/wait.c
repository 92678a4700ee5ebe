/*
 * wait.c - `bgjob wait`, and the waiting that `result -w` shares with it:
 * waiting for jobs without blocking signals.
 *
 * Main thread only.  After a spin of a few microseconds (a short job is
 * cheaper to watch finish than to sleep for), the wait sleeps in ppoll() on
 * the manager's completion descriptor (armed only while someone waits, so
 * finishing jobs cost nothing otherwise) with SIGCHLD blocked, like bash's
 * own sleeps.  Any other signal ends the sleep: an interrupt (Ctrl-C in an
 * interactive shell) or a terminating signal goes through bash's QUIT, and a
 * trapped signal makes wait return 128+N, after which bash runs the trap.
 * Nothing is held when QUIT longjmps: the target list is freed first.
 *
 * `bgjob wait` also runs the completion handlers (notify.c) of jobs as they
 * end, and draws the progress line (progress.c).  A target's state is
 * recorded once it is seen finished and its record is not read afterwards,
 * as a handler may remove it.
 *
 * The status of a job, as bash's `wait PID' gives a process's: 0 when it
 * completed; for a dead job that ran a command (`run': its "exit" and
 * "signal" fields) the command's exit status or 128+N after signal N; 1 for
 * any other dead job.  It is read once, when the target is seen finished.
 * With job numbers, wait returns the status of the last one (an unknown
 * number counts 1); with -n, that of the job it returns; without numbers, 0
 * when every job completed, else 1.
 *
 * Without job numbers, wait waits for the unfinished jobs of this shell
 * only: in a subshell, jobs the parent was running at the fork are passed
 * over, as bash's `wait` passes over the parent's children.  Naming one of
 * them is an error at once (it can never finish here).  A job whose outcome
 * a wait returned is marked waited (table.c).  Without numbers, wait also
 * takes the finished jobs not yet waited for, so its status never depends
 * on whether a job ended just before it started; `wait -n` then returns
 * one of those first, lowest number first, as bash 5.3's `wait -n` returns a
 * terminated child not yet waited for.
 */
#define _GNU_SOURCE
#include "bgjob_builtin.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "info.h"
#include "quit.h"
#include "sig.h"
#include "variables.h"

extern int trapped_signal_received;

/* The signal a "signal" field names ("SIGTERM", or "signal N"); 0 when none. */
static int signal_number(const char *name)
{
    if (strncmp(name, "SIG", 3) == 0) {
        for (int n = 1; n < NSIG; n++) {
            const char *abbrev = sigabbrev_np(n);
            if (abbrev && strcmp(abbrev, name + 3) == 0)
                return n;
        }
    }
    int n;
    return sscanf(name, "signal %d", &n) == 1 && n > 0 ? n : 0;
}

/* The status of job J, finished in state S (see the top comment). */
static int job_status(bgjob_job *j, int s)
{
    if (s == BGJ_COMPLETED)
        return EXECUTION_SUCCESS;
    int status = EXECUTION_FAILURE;
    char *sig = bgj_info_get(bgj_info_of(j), "signal");
    char *ex = bgj_info_get(bgj_info_of(j), "exit");
    int n;
    if (sig && (n = signal_number(sig)) > 0)
        status = 128 + n;
    else if (ex && *ex && (n = atoi(ex)) > 0)
        status = n; /* a dead job whose command exited 0 (killed, output cap) stays 1 */
    free(sig);
    free(ex);
    return status;
}

/* Records target I's state in ST and its status in CODE once it is finished. */
static void record(bgjob_job **t, int *st, int *code, size_t i)
{
    if (st[i] >= 0)
        return;
    int s = bgj_state_of(t[i]);
    if (bgj_finished(s)) {
        code[i] = job_status(t[i], s);
        st[i] = s;
    }
}

/*
 * Reads the states of the targets still unfinished into ST (-1 while
 * unfinished); once a target's state is recorded its record is never read
 * again, so a completion handler may remove it.
 */
static void refresh(bgjob_job **t, int *st, int *code, size_t n)
{
    for (size_t i = 0; i < n; i++)
        record(t, st, code, i);
}

/*
 * Looks at the targets: returns -1 while the wait must go on, otherwise the
 * status wait returns, with *WHICH the index of the deciding job.  ANY is -n.
 * Targets before *FROM are known finished (all are, without ANY), so a
 * wait for many jobs does not read the finished ones again at each wake-up.
 * UNKNOWN: 1 when the last number listed is no job, 2 when the targets are
 * this shell's jobs (wait without numbers: 0 or 1 for all of them).
 */
static int verdict(bgjob_job **t, int *st, int *code, size_t n, int any, int unknown, long *which,
                   size_t *from)
{
    for (size_t i = any ? 0 : *from; i < n; i++) {
        record(t, st, code, i);
        if (st[i] >= 0) {
            if (any) {
                *which = (long)i;
                return code[i];
            }
        } else if (!any) {
            *from = i;
            return -1;
        }
    }
    if (any)
        return -1;
    *from = n;
    *which = n ? (long)n - 1 : -1;
    if (unknown == BGJ_WAIT_ALL) {
        for (size_t i = 0; i < n; i++)
            if (st[i] != BGJ_COMPLETED)
                return EXECUTION_FAILURE;
        return EXECUTION_SUCCESS;
    }
    if (unknown || n == 0)
        return EXECUTION_FAILURE;
    return code[n - 1];
}

int bgj_wait_jobs(bgjob_job **t, size_t n, int any, int unknown, double timeout, int64_t *which_id)
{
    return bgj_wait_jobs_ex(t, n, any, unknown, timeout, which_id, 0);
}

int bgj_wait_jobs_ex(bgjob_job **t, size_t n, int any, int unknown, double timeout, int64_t *which_id,
                     int flags)
{
    long which = -1;
    double deadline = timeout >= 0 ? bgj_mono() + timeout : 0;
    int *st = malloc(n * sizeof *st);
    int *code = malloc(n * sizeof *code);
    int64_t *ids = malloc(n * sizeof *ids);
    if (!st || !code || !ids) {
        free(st);
        free(code);
        free(ids);
        free(t);
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    /* One pass over the records: a wait for many jobs that have all ended reads each once here. */
    unsigned long removals = bgj_removals();
    for (size_t i = 0; i < n; i++) {
        st[i] = -1;
        code[i] = EXECUTION_FAILURE;
        ids[i] = t[i]->id;
        record(t, st, code, i);
    }
    struct bgj_progress prog;
    bgj_progress_begin(&prog, !(flags & BGJ_WAIT_PROGRESS));
    int handlers = flags & BGJ_WAIT_HANDLERS;
    size_t from = 0;
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    sigaddset(&mask, SIGCHLD);
    trapped_signal_received = 0;
    int rc;
    /* A job that is about to finish is cheaper to spin for than to sleep for. */
    double spin_until = bgj_mono() + 30e-6;
    while ((rc = verdict(t, st, code, n, any, unknown, &which, &from)) < 0 && bgj_mono() < spin_until)
        ;
    for (;;) {
        /* Handlers of the jobs that ended run as they end (the line is off the screen meanwhile). */
        if (handlers && bgj_handlers_due()) {
            refresh(t, st, code, n);
            bgj_progress_erase(&prog);
            bgj_run_handlers();
            /* A target a handler removed had finished: its state is gone, counted as unknown. */
            for (size_t i = 0; i < n; i++)
                if (st[i] < 0 && bgj_find(ids[i]) != t[i])
                    st[i] = BGJ_DEAD;
        }
        rc = verdict(t, st, code, n, any, unknown, &which, &from);
        if (rc >= 0)
            break;
        double next_draw = bgj_progress_update(&prog, t, st, n);
        int fd = bgj_wait_arm();
        rc = verdict(t, st, code, n, any, unknown, &which,
                     &from); /* a job may have finished before we armed */
        if (rc >= 0) {
            bgj_wait_disarm();
            break;
        }
        struct timespec ts, *tsp = NULL;
        if (timeout >= 0) {
            double left = deadline - bgj_mono();
            if (left <= 0) {
                bgj_wait_disarm();
                rc = 124;
                which = -1;
                break;
            }
            ts.tv_sec = (time_t)left;
            ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
            tsp = &ts;
        }
        struct timespec slice = {0, 10000000};
        if (fd < 0 && (!tsp || tsp->tv_sec > 0 || tsp->tv_nsec > slice.tv_nsec))
            tsp = &slice; /* no descriptor: poll in short slices */
        struct timespec draw;
        if (next_draw >= 0) {
            double d = next_draw - bgj_mono();
            if (d < 0.001)
                d = 0.001;
            if (!tsp || (double)tsp->tv_sec + tsp->tv_nsec / 1e9 > d) {
                draw.tv_sec = (time_t)d;
                draw.tv_nsec = (long)((d - (double)draw.tv_sec) * 1e9);
                tsp = &draw;
            }
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = ppoll(&pfd, fd >= 0 ? 1 : 0, tsp, &mask);
        int saved = errno;
        bgj_wait_disarm();
        if (r < 0 && saved == EINTR) {
            if (interrupt_state || terminating_signal) {
                bgj_progress_erase(&prog);
                free(t);
                free(st);
                free(code);
                free(ids);
                QUIT;
                return 128 + SIGINT;
            }
            if (trapped_signal_received && trapped_signal_received != SIGCHLD) {
                rc = 128 + trapped_signal_received;
                which = -1;
                break;
            }
        }
    }
    bgj_progress_erase(&prog);
    /* The handlers of the jobs that decided the status have run when wait returns. */
    if (handlers)
        bgj_run_handlers();
    /* The outcome wait returned is waited for (the deciding job with -n, else all). */
    int same = bgj_removals() == removals; /* no job was deleted (by a handler): the pointers hold */
    for (size_t i = any ? (size_t)which : 0; which >= 0 && i < (any ? (size_t)which + 1 : n); i++) {
        bgjob_job *j = same ? t[i] : bgj_find(ids[i]);
        if (j)
            bgj_mark_waited(j);
    }
    if (which_id)
        *which_id = which >= 0 ? ids[which] : -1;
    free(t);
    free(st);
    free(code);
    free(ids);
    return rc;
}

/*
 * `wait' without numbers, -n, -p or progress line: the same targets as the
 * general case (this shell's unfinished jobs and its finished ones no wait
 * has returned), but only the unfinished ones go through bgj_wait_jobs_ex;
 * the finished ones are only counted.  When their outcome is returned, every
 * job numbered below the first number not yet given counts as waited
 * (bgj_mark_waited_below), and the next such wait looks only at the jobs
 * above that mark: a wait after many jobs that have ended allocates nothing
 * per job and reads each record once.
 */
#define PREFETCH 16 /* records ahead */
static int wait_all(struct bgj_cmdline *c)
{
    size_t count = bgj_count(), n = 0, nfinished = 0;
    int64_t end = bgj_next_id(); /* the jobs that exist now: numbers below this */
    int failed = 0;
    /* Room for every job, though only the unfinished ones go in: pages never written cost nothing. */
    bgjob_job **t = malloc((count ? count : 1) * sizeof *t);
    if (!t) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    /* Below the waited mark, this shell's jobs have ended and been waited for: nothing to look at. */
    for (size_t i = bgj_index_of(bgj_waited_below()); i < count; i++) {
        bgjob_job *j = bgj_at(i);
        __builtin_prefetch(bgj_at(i + PREFETCH)); /* the records are scattered: fetch ahead */
        if (!j || bgj_orphaned(j))
            continue;
        int s = bgj_state_of(j);
        if (!bgj_finished(s)) {
            t[n++] = j;
        } else if (!bgj_waited(j) && bgj_mine(j)) {
            nfinished++;
            failed |= s != BGJ_COMPLETED;
        }
    }
    if (n == 0 && nfinished == 0) {
        free(t);
        return EXECUTION_SUCCESS;
    }
    int rc;
    if (n > 0) {
        rc = bgj_wait_jobs_ex(t, n, 0, BGJ_WAIT_ALL, c->has_timeout ? c->timeout : -1, NULL,
                              BGJ_WAIT_HANDLERS | (c->opt_q ? 0 : BGJ_WAIT_PROGRESS));
    } else {
        free(t);
        bgj_run_handlers();
        rc = EXECUTION_SUCCESS;
    }
    if (rc != EXECUTION_SUCCESS && rc != EXECUTION_FAILURE)
        return rc; /* timed out or interrupted: no outcome returned */
    /* Every job of this shell numbered below END has ended, and its outcome is returned now. */
    bgj_mark_waited_below(end);
    return failed ? EXECUTION_FAILURE : rc;
}

int bgj_cmd_wait(struct bgj_cmdline *c, const struct bgj_args *a)
{
    if (c->pname) {
        int r = bgj_var_check(c->pname, bgj_word_flags(a, c->pname_word));
        if (r != 0) {
            if (r == EX_USAGE)
                bgj_usage(c->cmd);
            return r;
        }
        if (legal_identifier(c->pname))
            unbind_variable(c->pname); /* unset unless a job ends, as bash's wait -p does */
    }
    size_t cap = c->nids ? c->nids : bgj_count();
    bgjob_job **t = malloc((cap ? cap : 1) * sizeof *t);
    if (!t) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    size_t n = 0;
    int unknown = 0;
    if (c->nids) {
        for (size_t k = 0; k < c->nids; k++) {
            bgjob_job *j = bgj_lookup(c->ids[k]);
            if (j)
                t[n++] = j;
            unknown = j == NULL; /* the last number's status decides */
        }
        for (size_t i = 0; i < n; i++) {
            if (bgj_orphaned(t[i])) {
                int64_t id = t[i]->id;
                free(t);
                return bgj_job_error(id, BGJ_EPARENT);
            }
        }
    } else if (c->gname) {
        /* wait -g NAME: the group's jobs, as wait without IDs takes them */
        struct bgj_group *g = bgj_group_lookup(c->gname);
        if (!g) {
            free(t);
            return EXECUTION_FAILURE;
        }
        unknown = BGJ_WAIT_ALL;
        for (size_t i = 0; i < cap; i++) {
            bgjob_job *j = bgj_at(i);
            if (j && bgj_group_of(j) == g && !bgj_orphaned(j) &&
                (!bgj_finished(bgj_state_of(j)) || (!bgj_waited(j) && bgj_mine(j))))
                t[n++] = j;
        }
    } else if (!c->opt_n && !c->pname && !bgj_progress_wanted(c->opt_q)) {
        free(t);
        return wait_all(c);
    } else {
        unknown = BGJ_WAIT_ALL;
        /* This shell's unfinished jobs, and the finished ones it made that
           no wait has returned yet: so the status does not depend on whether
           a job ended just before wait started.  A subshell passes over its
           parent's. */
        for (size_t i = 0; i < cap; i++) {
            bgjob_job *j = bgj_at(i);
            if (j && !bgj_orphaned(j) && (!bgj_finished(bgj_state_of(j)) || (!bgj_waited(j) && bgj_mine(j))))
                t[n++] = j;
        }
    }
    if (n == 0) {
        free(t);
        if (c->nids)
            return EXECUTION_FAILURE; /* every number listed was unknown */
        return ((c->opt_n && c->nids == 0) || c->pname) ? 127 : EXECUTION_SUCCESS;
    }
    int64_t which;
    int rc = bgj_wait_jobs_ex(t, n, c->opt_n, unknown, c->has_timeout ? c->timeout : -1, &which,
                              BGJ_WAIT_HANDLERS | (c->opt_q ? 0 : BGJ_WAIT_PROGRESS));
    if (c->pname && which >= 0) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)which);
        if (bgj_var_set(c->pname, bgj_word_flags(a, c->pname_word), buf) != EXECUTION_SUCCESS && rc == 0)
            rc = EXECUTION_FAILURE;
    }
    return rc;
}
