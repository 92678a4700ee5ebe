/*
 * jobs_util.h - what the job manager's C tests (test_jobs.c,
 * test_jobs_cancel.c) share: waiting for jobs and pool figures, the test's
 * own events, value, sleep and probe jobs.  Header only (static inline, so
 * a test that uses only some of it builds with -Werror).
 *
 * State: each test program that includes it has its own copy of the event
 * semaphores and of base_tasks (set by its main before the pool starts); the
 * semaphores are posted and waited on from any thread, the rest is for the
 * test's main thread.
 */
#ifndef BGJ_JOBS_UTIL_H
#define BGJ_JOBS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "jobs.h"
#include "registry.h"
#include "testutil.h"

/* Bound of every wait: only a bug makes a job take this long. */
#define LIMIT 300.0

/* Waits until every job in IDS is finished (at most LIMIT seconds); returns 0 when they are. */
static inline int wait_ids(const int64_t *ids, size_t n)
{
    double end = bgj_mono() + LIMIT;
    for (;;) {
        size_t done = 0;
        int fd = bgj_wait_arm();
        for (size_t i = 0; i < n; i++) {
            bgjob_job *j = bgj_find(ids[i]);
            if (!j || bgj_finished(bgj_state_of(j)))
                done++;
        }
        if (done == n) {
            bgj_wait_disarm();
            return 0;
        }
        double left = end - bgj_mono();
        if (left <= 0) {
            bgj_wait_disarm();
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, (int)(left * 1000) + 1);
        bgj_wait_disarm();
    }
}

/* Polls a pool figure: waits until COND holds (at most LIMIT seconds). */
#define WAIT_UNTIL(cond)                                                                                     \
    do {                                                                                                     \
        double end_ = bgj_mono() + LIMIT;                                                                    \
        while (!(cond) && bgj_mono() < end_)                                                                 \
            usleep(200);                                                                                     \
        CHECK(cond);                                                                                         \
    } while (0)

static int base_tasks; /* threads of the process before the pool started any */

/*
 * True when the pool's only busy workers are BUSY jobs waiting in a condition
 * variable, every other worker is idle, and no thread is still exiting: then
 * no pool thread can be inside malloc.  Needed before a fork under ASan: gcc
 * 12's ASan runtime takes no allocator lock around fork(), so a child forked
 * while a worker allocates inherits that lock held and hangs on it (glibc's
 * malloc, which bgjob really runs on, resets its locks in the child).
 */
static inline int pool_quiet(unsigned busy)
{
    struct bgj_pool_stats st;
    bgj_pool_stats(&st);
    int settled = st.threads == st.idle + busy && st.active == busy && st.queued == 0;
#ifdef __SANITIZE_THREAD__
    return settled; /* TSan's own background thread comes and goes: threads can't be counted */
#else
    return settled && ntasks() == base_tasks + (int)st.threads + (int)st.timer + (int)st.io;
#endif
}

/*
 * TSan likewise: its runtime does not support a child that starts threads
 * after a fork of a multithreaded process (it continues only because of
 * die_after_fork=0), and one such child hung in a CI run while workers were
 * publishing.  The plain build forks in the middle of publishing for real.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FORK_NEEDS_QUIET 1
#else
#define FORK_NEEDS_QUIET 0
#endif

static inline void fd_wait(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
}

/*
 * The test's own events (a job runs in bgjob's descriptor table, apart from
 * the test's: a descriptor of the test's means nothing there), as small
 * numbers naming semaphores.
 */
static sem_t events[4096];
static int nevents;

static inline int ev_new(void)
{
    sem_init(&events[nevents], 0, 0);
    return nevents++;
}

static inline void ev_post(int e) { sem_post(&events[e]); }

static inline void ev_wait(int e)
{
    while (sem_wait(&events[e]) != 0 && errno == EINTR)
        ;
}

static inline int run_value(bgjob_job *j, void *arg)
{
    intptr_t v = (intptr_t)arg;
    if (v % 7 == 3) {
        j->error = strdup("seven");
        return 1;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", (long)(v * 2));
    j->result = strdup(buf);
    return 0;
}

static inline int64_t submit_value(intptr_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "value %ld", (long)v);
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, buf, run_value, NULL, (void *)v);
    return bgj_submit(j, 0);
}

static inline int64_t submit_sleep(const char *secs, int daemon)
{
    const struct bgj_callback *cb = bgj_callback_find("sleep");
    char *argv[] = {(char *)secs};
    bgjob_job *j = bgj_callback_job(cb, 1, argv, "sleep");
    return bgj_submit(j, daemon);
}

/*
 * A job that blocks in poll() on its cancel descriptor until it is cancelled.
 * It posts STARTED (when >= 0) on entry, waits for GATE (when >= 0), takes its
 * descriptor, posts READY, and records what it saw.
 */
struct probe {
    int started, gate, ready;
    int own_text;            /* word its own error text */
    int fd, cloexec, reason; /* seen by the job */
};

static inline struct probe probe_new(void)
{
    struct probe p = {.started = -1, .gate = -1, .ready = -1, .fd = -2};
    return p;
}

static inline int run_probe(bgjob_job *j, void *arg)
{
    struct probe *p = arg;
    if (p->started >= 0)
        ev_post(p->started);
    if (p->gate >= 0)
        ev_wait(p->gate);
    p->fd = bgj_job_cancel_fd(j);
    p->cloexec = p->fd >= 0 && (fcntl(p->fd, F_GETFD) & FD_CLOEXEC);
    if (p->ready >= 0)
        ev_post(p->ready);
    if (p->fd >= 0)
        fd_wait(p->fd);
    p->reason = bgj_api.cancelled(j);
    if (p->own_text) {
        char buf[96];
        snprintf(buf, sizeof buf, "own words: reason %d after %g s", p->reason, bgj_job_timeout(j));
        j->error = strdup(buf);
    }
    return 1;
}

static inline int64_t submit_probe(struct probe *p, double timeout, int daemon)
{
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "probe", run_probe, NULL, p);
    if (timeout > 0)
        bgj_job_set_timeout(j, timeout);
    return bgj_submit(j, daemon);
}

static inline const char *error_of(int64_t id)
{
    bgjob_job *j = bgj_find(id);
    return j && j->error ? j->error : "(none)";
}

static inline int state_of(int64_t id)
{
    bgjob_job *j = bgj_find(id);
    return j ? bgj_state_of(j) : -1;
}

/*
 * Submits the probe jobs PS[0..N-1] as IDS[0..N-1]; the Ith has a timeout of
 * TIMEOUT(I) seconds when TIMEOUT is given, and is a daemon when I is a
 * multiple of DAEMON_EVERY (when that is positive).
 */
static inline void submit_probes(struct probe *ps, int64_t *ids, int n, double (*timeout)(int i),
                                 int daemon_every)
{
    for (int i = 0; i < n; i++) {
        ps[i] = probe_new();
        ids[i] = submit_probe(&ps[i], timeout ? timeout(i) : 0, daemon_every > 0 && i % daemon_every == 0);
    }
}

/*
 * Submits a probe job P with TIMEOUT, kills it once it polls its cancel
 * descriptor, and checks that it ended Dead, killed.  Returns its id.
 */
static inline int64_t kill_polling_probe(struct probe *p, double timeout)
{
    *p = probe_new();
    p->ready = ev_new();
    int64_t id = submit_probe(p, timeout, 0);
    ev_wait(p->ready);
    CHECK(bgj_cancel(bgj_find(id)) == 0);
    CHECK(wait_ids(&id, 1) == 0);
    CHECK(state_of(id) == BGJ_DEAD);
    CHECK_STR(error_of(id), "cancelled by bgjob kill");
    CHECK(p->reason == BGJ_CANCEL_KILL);
    (void)p->ready; /* events are not freed */
    return id;
}

static inline void flush_all(void)
{
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
}

#endif /* BGJ_JOBS_UTIL_H */
