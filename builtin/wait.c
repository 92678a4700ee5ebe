/*
 * wait.c - `bgjob wait`: waiting for jobs without blocking signals.
 *
 * Main thread only.  After a spin of a few microseconds (a short job is
 * cheaper to watch finish than to sleep for), the wait sleeps in ppoll() on the manager's completion
 * descriptor (armed only while someone waits, so finishing jobs cost nothing
 * otherwise) with SIGCHLD blocked, like bash's own sleeps.  Any other signal
 * ends the sleep: an interrupt (Ctrl-C in an interactive shell) or a
 * terminating signal goes through bash's QUIT, and a trapped signal makes
 * wait return 128+N, after which bash runs the trap.  Nothing is held when
 * QUIT longjmps: the target list is freed first.
 */
#define _GNU_SOURCE
#include "bgjob_builtin.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "quit.h"
#include "sig.h"

extern int trapped_signal_received;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Looks at the targets: returns -1 while the wait must go on, otherwise the
 * status wait returns.  ANY is wait -n.
 */
static int verdict(bgjob_job **t, size_t n, int any, int unknown)
{
    int dead = 0;
    for (size_t i = 0; i < n; i++) {
        int s = bgj_state_of(t[i]);
        if (bgj_finished(s)) {
            if (any)
                return s == BGJ_COMPLETED ? 0 : 1;
            if (s == BGJ_DEAD)
                dead = 1;
        } else if (!any) {
            return -1;
        }
    }
    if (any)
        return -1;
    return (dead || unknown) ? EXECUTION_FAILURE : EXECUTION_SUCCESS;
}

int bgj_cmd_wait(struct bgj_cmdline *c)
{
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
            else
                unknown = 1;
        }
    } else {
        for (size_t i = 0; i < cap; i++) {
            bgjob_job *j = bgj_at(i);
            if (j && !bgj_finished(bgj_state_of(j)))
                t[n++] = j;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (bgj_orphaned(t[i])) {
            builtin_error("job %lld was running when this subshell was forked; it can only be waited for in the parent shell",
                          (long long)t[i]->id);
            free(t);
            return EXECUTION_FAILURE;
        }
    }
    if (n == 0) {
        free(t);
        if (unknown)
            return EXECUTION_FAILURE;
        return (c->opt_n && c->nids == 0) ? 127 : EXECUTION_SUCCESS;
    }

    double deadline = c->has_timeout ? mono_now() + c->timeout : 0;
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    sigaddset(&mask, SIGCHLD);
    trapped_signal_received = 0;
    int rc;
    /* A job that is about to finish is cheaper to spin for than to sleep for. */
    double spin_until = mono_now() + 30e-6;
    while ((rc = verdict(t, n, c->opt_n, unknown)) < 0 && mono_now() < spin_until)
        ;
    for (;;) {
        rc = verdict(t, n, c->opt_n, unknown);
        if (rc >= 0)
            break;
        int fd = bgj_wait_arm();
        rc = verdict(t, n, c->opt_n, unknown);  /* a job may have finished before we armed */
        if (rc >= 0) {
            bgj_wait_disarm();
            break;
        }
        struct timespec ts, *tsp = NULL;
        if (c->has_timeout) {
            double left = deadline - mono_now();
            if (left <= 0) {
                bgj_wait_disarm();
                rc = 124;
                break;
            }
            ts.tv_sec = (time_t)left;
            ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
            tsp = &ts;
        }
        struct timespec slice = {0, 10000000};
        if (fd < 0 && (!tsp || tsp->tv_sec > 0 || tsp->tv_nsec > slice.tv_nsec))
            tsp = &slice;  /* no descriptor: poll in short slices */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = ppoll(&pfd, fd >= 0 ? 1 : 0, tsp, &mask);
        int saved = errno;
        bgj_wait_disarm();
        if (r < 0 && saved == EINTR) {
            if (interrupt_state || terminating_signal) {
                free(t);
                QUIT;
                return 128 + SIGINT;
            }
            if (trapped_signal_received && trapped_signal_received != SIGCHLD) {
                rc = 128 + trapped_signal_received;
                break;
            }
        }
    }
    free(t);
    return rc;
}
