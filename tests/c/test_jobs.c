/*
 * test_jobs.c - the job manager without bash: numbering, states, results,
 * caps and queueing, cancellation (also of many queued jobs in any order),
 * timeouts, cancel reasons and the cancel descriptor, exit accounting, fork,
 * idle workers.  Run plain, under ThreadSanitizer and under ASan/UBSan.
 *
 * Every wait is for an event (a job finishing, a descriptor becoming
 * readable, a pool figure reaching a value); LIMIT only bounds a wait that
 * would otherwise hang on a bug, and alarm() ends the test if one hangs all
 * the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <semaphore.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "jobs.h"
#include "registry.h"
#include "testutil.h"

/* Bound of every wait: only a bug makes a job take this long. */
#define LIMIT 300.0

/* Waits until every job in IDS is finished (at most LIMIT seconds); returns 0 when they are. */
static int wait_ids(const int64_t *ids, size_t n)
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
static int pool_quiet(unsigned busy)
{
    struct bgj_pool_stats st;
    bgj_pool_stats(&st);
    return st.threads == st.idle + busy && st.active == busy && st.queued == 0 &&
           ntasks() == base_tasks + (int)st.threads + (int)st.timer;
}

#ifdef __SANITIZE_ADDRESS__
#define FORK_NEEDS_QUIET 1
#else
#define FORK_NEEDS_QUIET 0
#endif

static void fd_wait(int fd)
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

static int ev_new(void)
{
    sem_init(&events[nevents], 0, 0);
    return nevents++;
}

static void ev_post(int e) { sem_post(&events[e]); }

static void ev_wait(int e)
{
    while (sem_wait(&events[e]) != 0 && errno == EINTR)
        ;
}

static int run_value(bgjob_job *j, void *arg)
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

static int64_t submit_value(intptr_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "value %ld", (long)v);
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, buf, run_value, NULL, (void *)v);
    return bgj_submit(j, 0);
}

static int64_t submit_sleep(const char *secs, int daemon)
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

static struct probe probe_new(void)
{
    struct probe p = {.started = -1, .gate = -1, .ready = -1, .fd = -2};
    return p;
}

static int run_probe(bgjob_job *j, void *arg)
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

static int64_t submit_probe(struct probe *p, double timeout, int daemon)
{
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "probe", run_probe, NULL, p);
    if (timeout > 0)
        bgj_job_set_timeout(j, timeout);
    return bgj_submit(j, daemon);
}

static const char *error_of(int64_t id)
{
    bgjob_job *j = bgj_find(id);
    return j && j->error ? j->error : "(none)";
}

static int state_of(int64_t id)
{
    bgjob_job *j = bgj_find(id);
    return j ? bgj_state_of(j) : -1;
}

/*
 * Submits the probe jobs PS[0..N-1] as IDS[0..N-1]; the Ith has a timeout of
 * TIMEOUT(I) seconds when TIMEOUT is given, and is a daemon when I is a
 * multiple of DAEMON_EVERY (when that is positive).
 */
static void submit_probes(struct probe *ps, int64_t *ids, int n, double (*timeout)(int i), int daemon_every)
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
static int64_t kill_polling_probe(struct probe *p, double timeout)
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

static void flush_all(void)
{
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
}

static void test_many_results(void)
{
    enum { N = 20000 };
    int64_t *ids = malloc(N * sizeof *ids);
    int64_t first = bgj_next_id();
    unsigned long finished_before = bgj_finished_total();
    for (intptr_t i = 0; i < N; i++) {
        ids[i] = submit_value(i);
        CHECK(ids[i] == first + i);
    }
    CHECK(wait_ids(ids, N) == 0);
    CHECK(bgj_finished_total() - finished_before == N);
    size_t completed = 0, dead = 0, wrong = 0;
    for (intptr_t i = 0; i < N; i++) {
        bgjob_job *j = bgj_find(ids[i]);
        int s = bgj_state_of(j);
        if (i % 7 == 3) {
            dead += s == BGJ_DEAD;
            wrong += !(j->error && strcmp(j->error, "seven") == 0);
        } else {
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", (long)(i * 2));
            completed += s == BGJ_COMPLETED;
            wrong += !(j->result && strcmp(j->result, buf) == 0);
        }
    }
    CHECK(dead == N / 7 + (N % 7 > 3));
    CHECK(completed + dead == N);
    CHECK(wrong == 0);
    CHECK(bgj_unseen() == N);
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
    CHECK(nc == completed && nd == dead);
    CHECK(bgj_count() == 0);
    CHECK(bgj_find(ids[0]) == NULL);
    /* a flush limited to seen jobs keeps one that finished unseen */
    int64_t unseen = submit_value(8), seen = submit_value(9);
    int64_t both[] = {unseen, seen};
    CHECK(wait_ids(both, 2) == 0);
    bgj_mark_seen(bgj_find(seen));
    nc = nd = 0;
    bgj_flush_finished(1, &nc, &nd);
    CHECK(nc == 1 && nd == 0);
    CHECK(bgj_find(unseen) != NULL && bgj_find(seen) == NULL);
    CHECK(bgj_remove(unseen) == 0);
    first += 2;
    /* numbers are never reused */
    int64_t next = submit_value(1);
    CHECK(next == first + N);
    CHECK(wait_ids(&next, 1) == 0);
    CHECK(bgj_remove(next) == 0);
    CHECK(bgj_remove(next) == BGJ_ENOJOB);
    free(ids);
}

static void test_caps_and_cancel(void)
{
    bgj_set_limits(2, 3);
    int64_t r1 = submit_sleep("30", 0), r2 = submit_sleep("30", 0);
    int64_t q[3];
    for (int i = 0; i < 3; i++)
        q[i] = submit_sleep("30", 0);
    CHECK(state_of(r1) == BGJ_RUNNING);
    CHECK(state_of(r2) == BGJ_RUNNING);
    for (int i = 0; i < 3; i++)
        CHECK(state_of(q[i]) == BGJ_QUEUED);
    int64_t before = bgj_next_id();
    CHECK(submit_sleep("1", 0) == BGJ_EFULL);
    CHECK(bgj_next_id() == before);
    CHECK(bgj_nondaemon_active() == 5);
    unsigned nr = 0, nq = 0;
    bgj_nondaemon_counts(&nr, &nq);
    CHECK(nr == 2 && nq == 3);

    /* a queued job ends at once */
    bgjob_job *jq = bgj_find(q[0]);
    CHECK(bgj_cancel(jq) == 0);
    CHECK(bgj_state_of(jq) == BGJ_DEAD);
    CHECK_STR(jq->error, "cancelled by bgjob kill before it started");
    CHECK(atomic_load(&jq->cancel) == BGJ_CANCEL_KILL);
    CHECK(bgj_cancel(jq) == BGJ_EFINISHED);
    CHECK(bgj_remove(r1) == BGJ_ERUNNING);
    CHECK(bgj_remove(q[1]) == BGJ_EQUEUED);

    /*
     * A running sleep stops when killed (it would otherwise sleep 30 s and
     * complete); the job that ends makes room for the next queued one before
     * it publishes its own end, so q[1] runs by the time r1 is seen Dead.
     * (The sleep reports progress 0 once it runs on its worker.)
     */
    WAIT_UNTIL(bgj_progress(bgj_find(r1)) >= 0);
    CHECK(bgj_cancel(bgj_find(r1)) == 0);
    CHECK(wait_ids(&r1, 1) == 0);
    CHECK(state_of(r1) == BGJ_DEAD);
    CHECK_STR(error_of(r1), "cancelled by bgjob kill");
    CHECK(state_of(q[1]) == BGJ_RUNNING);
    CHECK(state_of(q[2]) == BGJ_QUEUED);

    int64_t all[] = {r2, q[1], q[2]};
    for (int i = 0; i < 3; i++)
        CHECK(bgj_cancel(bgj_find(all[i])) == 0);
    CHECK(wait_ids(all, 3) == 0);
    CHECK(bgj_nondaemon_active() == 0);
    bgj_set_limits(BGJ_DEFAULT_MAX_RUNNING, BGJ_DEFAULT_MAX_QUEUED);
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
    CHECK(nd == 5 && nc == 0);
}

static void test_sleep_callback(void)
{
    double t0 = bgj_mono();
    int64_t id = submit_sleep("0.2", 0);
    CHECK(bgj_nondaemon_active() == 1);
    int64_t dm = submit_sleep("0.1", 1);
    bgj_wait_nondaemon();
    CHECK(bgj_mono() - t0 >= 0.19);
    CHECK(bgj_nondaemon_active() == 0);
    bgjob_job *j = bgj_find(id);
    CHECK(bgj_state_of(j) == BGJ_COMPLETED);
    CHECK_STR(j->result, "0.2");
    CHECK(bgj_progress(j) > 0.99);
    CHECK(wait_ids(&dm, 1) == 0);
    CHECK(bgj_find(dm)->daemon == 1);

    /* wrong arguments: the job dies with the usage */
    const struct bgj_callback *cb = bgj_callback_find("sleep");
    char *bad[] = {"soon"};
    int64_t b = bgj_submit(bgj_callback_job(cb, 1, bad, "sleep soon"), 0);
    CHECK(wait_ids(&b, 1) == 0);
    CHECK(state_of(b) == BGJ_DEAD);
    CHECK(strstr(error_of(b), "not a valid number") != NULL);
    flush_all();
}

/* A small deterministic generator for the random kill order. */
static uint64_t rng = 88172645463325252u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void shuffle(int64_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t k = next_rand() % i;
        int64_t t = a[i - 1];
        a[i - 1] = a[k];
        a[k] = t;
    }
}

/*
 * Kills many queued jobs in reverse and in random order (unlinking from the
 * head, the tail and the middle of the queue): each ends Dead at once with
 * the kill's words, the counters follow, and the survivors keep their order.
 */
static void test_kill_many_queued(void)
{
    enum { RUN = 8, N = 6000 };
    bgj_set_limits(RUN, BGJ_DEFAULT_MAX_QUEUED);
    int64_t *ids = malloc(N * sizeof *ids), *pick = malloc(N * sizeof *pick);
    for (int i = 0; i < N; i++)
        ids[i] = submit_sleep("100000", i % 5 == 0);
    for (int i = 0; i < N; i++)
        CHECK(state_of(ids[i]) == (i < RUN ? BGJ_RUNNING : BGJ_QUEUED));

    /* reverse order: every queued job with i % 3 == 0; random order: those with i % 3 == 1 */
    size_t np = 0, wrong = 0;
    for (int i = N - 1; i >= RUN; i--)
        if (i % 3 == 0)
            pick[np++] = ids[i];
    size_t nrev = np;
    for (int i = RUN; i < N; i++)
        if (i % 3 == 1)
            pick[np++] = ids[i];
    shuffle(pick + nrev, np - nrev);
    for (size_t k = 0; k < np; k++) {
        bgjob_job *j = bgj_find(pick[k]);
        wrong += bgj_cancel(j) != 0;
        wrong += bgj_state_of(j) != BGJ_DEAD;
        wrong += !(j->error && strcmp(j->error, "cancelled by bgjob kill before it started") == 0);
        wrong += atomic_load(&j->cancel) != BGJ_CANCEL_KILL;
        wrong += bgj_cancel(j) != BGJ_EFINISHED;
    }
    CHECK(wrong == 0);
    size_t left = (N - RUN) - np;
    struct bgj_pool_stats st;
    bgj_pool_stats(&st);
    CHECK(st.active == RUN && st.queued == left);
    unsigned nr = 0, nq = 0, queued_nd = 0;
    for (int i = RUN; i < N; i++)
        queued_nd += i % 3 == 2 && i % 5 != 0;
    bgj_nondaemon_counts(&nr, &nq);
    CHECK(nr == RUN - (RUN + 4) / 5 && nq == queued_nd);

    /* the running ones end: the first RUN survivors, in id order, take their places */
    CHECK(wait_ids(pick, np) == 0);
    for (int i = 0; i < RUN; i++)
        CHECK(bgj_cancel(bgj_find(ids[i])) == 0);
    CHECK(wait_ids(ids, RUN) == 0);
    int promoted = 0;
    wrong = 0;
    for (int i = RUN; i < N; i++) {
        if (i % 3 != 2)
            continue;
        int want = promoted < RUN ? BGJ_RUNNING : BGJ_QUEUED;
        wrong += state_of(ids[i]) != want;
        promoted++;
    }
    CHECK(wrong == 0);

    /* the rest, running and queued, in random order */
    np = 0;
    for (int i = RUN; i < N; i++)
        if (i % 3 == 2)
            pick[np++] = ids[i];
    shuffle(pick, np);
    wrong = 0;
    for (size_t k = 0; k < np; k++)
        wrong += bgj_cancel(bgj_find(pick[k])) != 0;
    CHECK(wrong == 0);
    CHECK(wait_ids(ids, N) == 0);
    wrong = 0;
    for (int i = 0; i < N; i++) {
        bgjob_job *j = bgj_find(ids[i]);
        wrong +=
            bgj_state_of(j) != BGJ_DEAD || !j->error || strncmp(j->error, "cancelled by bgjob kill", 23) != 0;
    }
    CHECK(wrong == 0);
    bgj_pool_stats(&st);
    CHECK(st.active == 0 && st.queued == 0);
    bgj_nondaemon_counts(&nr, &nq);
    CHECK(nr == 0 && nq == 0);
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
    CHECK(nc == 0 && nd == N);
    bgj_set_limits(BGJ_DEFAULT_MAX_RUNNING, BGJ_DEFAULT_MAX_QUEUED);
    free(ids);
    free(pick);
}

static int run_quick(bgjob_job *j, void *arg)
{
    double *start = arg;
    *start = j->deadline - j->timeout; /* the moment the pool started the clock */
    j->result = strdup("quick");
    return 0;
}

static int64_t submit_quick(double *start, double timeout)
{
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "quick", run_quick, NULL, start);
    bgj_job_set_timeout(j, timeout);
    return bgj_submit(j, 0);
}

/* The timeouts of test_timeouts' TIMERS jobs, neither in order nor all different. */
enum { TIMERS = 12 };
static double timer_timeout(int i) { return (TIMERS - i) * 0.01 + (i % 3) * 0.005; }

static void test_timeouts(void)
{
    struct bgj_pool_stats st;
    bgj_pool_stats(&st);
    CHECK(st.timer == 0); /* no timed job yet: no timer thread */

    /* a timed job that blocks until cancelled ends Dead, timed out */
    struct probe a = probe_new();
    int64_t ia = submit_probe(&a, 0.05, 0);
    bgj_pool_stats(&st);
    CHECK(st.timer == 1);
    CHECK(wait_ids(&ia, 1) == 0);
    CHECK(state_of(ia) == BGJ_DEAD);
    CHECK_STR(error_of(ia), "timed out after 0.05 seconds");
    CHECK(a.reason == BGJ_CANCEL_TIMEOUT);
    CHECK(atomic_load(&bgj_find(ia)->cancel) == BGJ_CANCEL_TIMEOUT);

    /* its own words are kept; it can read its timeout */
    struct probe b = probe_new();
    b.own_text = 1;
    int64_t ib = submit_probe(&b, 0.125, 0);
    CHECK(wait_ids(&ib, 1) == 0);
    CHECK_STR(error_of(ib), "own words: reason 2 after 0.125 s");

    /* the shipped sleep callback, timed out */
    const struct bgj_callback *cb = bgj_callback_find("sleep");
    char *argv[] = {"100000"};
    bgjob_job *sj = bgj_callback_job(cb, 1, argv, "sleep 100000");
    bgj_job_set_timeout(sj, 1e-3);
    CHECK(bgj_job_timeout(sj) == 1e-3);
    int64_t is = bgj_submit(sj, 0);
    CHECK(wait_ids(&is, 1) == 0);
    CHECK_STR(error_of(is), "timed out after 0.001 seconds");

    /* a kill before the deadline is a kill */
    struct probe c;
    kill_polling_probe(&c, 100000);

    /* many timers, earliest first or not: each job times out with its own figure */
    struct probe ps[TIMERS];
    int64_t ids[TIMERS];
    submit_probes(ps, ids, TIMERS, timer_timeout, 4);
    CHECK(wait_ids(ids, TIMERS) == 0);
    size_t wrong = 0;
    for (int i = 0; i < TIMERS; i++) {
        char want[64];
        snprintf(want, sizeof want, "timed out after %g seconds", timer_timeout(i));
        wrong += strcmp(error_of(ids[i]), want) != 0 || ps[i].reason != BGJ_CANCEL_TIMEOUT;
    }
    CHECK(wrong == 0);

    /*
     * A timed job that completes leaves the timer for good: freed at once, it
     * is never touched again (ASan would see it) while the timer waits for a
     * later deadline.
     */
    double qstart = 0;
    int64_t iq = submit_quick(&qstart, 1000);
    CHECK(wait_ids(&iq, 1) == 0);
    CHECK(state_of(iq) == BGJ_COMPLETED);
    CHECK(bgj_remove(iq) == 0);
    struct probe d = probe_new();
    int64_t id = submit_probe(&d, 0.1, 0);
    CHECK(wait_ids(&id, 1) == 0);
    CHECK_STR(error_of(id), "timed out after 0.1 seconds");

    /*
     * Time spent queued does not count: a job with a 0.05 s timeout queued
     * behind a blocker for longer than that is still queued, not timed out,
     * and its clock starts when the blocker makes room, not before.
     */
    bgj_set_limits(1, BGJ_DEFAULT_MAX_QUEUED);
    struct probe blk = probe_new();
    blk.ready = ev_new();
    int64_t iblk = submit_probe(&blk, 0, 0);
    ev_wait(blk.ready);
    double start = 0;
    int64_t iw = submit_quick(&start, 0.05);
    CHECK(state_of(iw) == BGJ_QUEUED);
    usleep(100000); /* queued for at least twice its timeout: longer under load only helps */
    CHECK(state_of(iw) == BGJ_QUEUED);
    double released = bgj_mono();
    CHECK(bgj_cancel(bgj_find(iblk)) == 0);
    CHECK(wait_ids(&iw, 1) == 0);
    CHECK(start >= released);
    /* it completes (unless a stall of the whole machine outlasts its 0.05 s of running) */
    CHECK(state_of(iw) == BGJ_COMPLETED || strcmp(error_of(iw), "timed out after 0.05 seconds") == 0);

    bgj_set_limits(BGJ_DEFAULT_MAX_RUNNING, BGJ_DEFAULT_MAX_QUEUED);
    CHECK(bgj_nondaemon_active() == 0);
    flush_all();
}

static void test_cancel_fd(void)
{
    /* killed while it polls its descriptor */
    struct probe a;
    kill_polling_probe(&a, 0);
    CHECK(a.fd >= 230);
    CHECK(a.cloexec);
    CHECK(fcntl(a.fd, F_GETFD) == -1 && errno == EBADF); /* closed when the job ended */

    /* killed before it asked for its descriptor: the descriptor is readable at once */
    struct probe b = probe_new();
    b.started = ev_new();
    b.gate = ev_new();
    int64_t ib = submit_probe(&b, 0, 0);
    ev_wait(b.started);
    CHECK(bgj_cancel(bgj_find(ib)) == 0);
    CHECK(state_of(ib) == BGJ_RUNNING); /* it waits for the gate */
    ev_post(b.gate);
    CHECK(wait_ids(&ib, 1) == 0);
    CHECK_STR(error_of(ib), "cancelled by bgjob kill");
    CHECK(b.reason == BGJ_CANCEL_KILL && b.fd >= 230);

    /* many at once, killed while some are still getting theirs */
    enum { K = 40 };
    struct probe ps[K];
    int64_t ids[K];
    submit_probes(ps, ids, K, NULL, 0);
    for (int i = K - 1; i >= 0; i--)
        CHECK(bgj_cancel(bgj_find(ids[i])) == 0);
    CHECK(wait_ids(ids, K) == 0);
    size_t wrong = 0;
    for (int i = 0; i < K; i++)
        wrong +=
            state_of(ids[i]) != BGJ_DEAD || strncmp(error_of(ids[i]), "cancelled by bgjob kill", 23) != 0;
    CHECK(wrong == 0);
    flush_all();
}

/* Exit support: the non-daemon counts by state, and the cancel of daemon jobs. */
static void test_exit_support(void)
{
    bgj_set_limits(2, BGJ_DEFAULT_MAX_QUEUED);
    struct probe d1 = probe_new(), n1 = probe_new(), n2 = probe_new(), d2 = probe_new(), n3 = probe_new();
    d1.ready = ev_new();
    n1.ready = ev_new();
    int64_t id1 = submit_probe(&d1, 0, 1), in1 = submit_probe(&n1, 0, 0);
    int64_t in2 = submit_probe(&n2, 0, 0), id2 = submit_probe(&d2, 0, 1), in3 = submit_probe(&n3, 0, 0);
    unsigned nr = 9, nq = 9;
    bgj_nondaemon_counts(&nr, &nq);
    CHECK(nr == 1 && nq == 2);
    CHECK(bgj_nondaemon_active() == 3);
    ev_wait(d1.ready);
    ev_wait(n1.ready);

    bgj_cancel_daemons();
    CHECK(state_of(id2) == BGJ_DEAD); /* queued: at once */
    CHECK_STR(error_of(id2), "cancelled at shell exit before it started");
    CHECK(wait_ids(&id1, 1) == 0);
    CHECK_STR(error_of(id1), "cancelled at shell exit");
    CHECK(d1.reason == BGJ_CANCEL_EXIT);
    /* the non-daemon jobs go on; n2 took d1's place */
    CHECK(state_of(in1) == BGJ_RUNNING && state_of(in2) == BGJ_RUNNING && state_of(in3) == BGJ_QUEUED);
    bgj_nondaemon_counts(&nr, &nq);
    CHECK(nr == 2 && nq == 1);

    int64_t rest[] = {in1, in2, in3};
    for (int i = 0; i < 3; i++)
        CHECK(bgj_cancel(bgj_find(rest[i])) == 0);
    CHECK(wait_ids(rest, 3) == 0);
    bgj_nondaemon_counts(&nr, &nq);
    CHECK(nr == 0 && nq == 0);
    CHECK(n1.reason == BGJ_CANCEL_KILL);

    bgj_set_limits(BGJ_DEFAULT_MAX_RUNNING, BGJ_DEFAULT_MAX_QUEUED);
    flush_all();
}

static void test_fork(void)
{
    /* Under ASan workers must not exit mid-fork (see pool_quiet); the idle timeout is restored below. */
    if (FORK_NEEDS_QUIET)
        bgj_set_idle_timeout(1e6);
    int64_t done = submit_value(21);
    CHECK(wait_ids(&done, 1) == 0);
    int64_t running = submit_sleep("100000", 0);
    if (FORK_NEEDS_QUIET)
        WAIT_UNTIL(bgj_progress(bgj_find(running)) >= 0 && pool_quiet(1));
    pid_t pid = fork();
    if (pid == 0) {
        alarm((unsigned)LIMIT);
        int bad = 0;
        bgjob_job *d = bgj_find(done), *r = bgj_find(running);
        bad |= !(d && bgj_state_of(d) == BGJ_COMPLETED && strcmp(d->result, "42") == 0) << 0;
        bad |= !(r && bgj_state_of(r) == BGJ_RUNNING && bgj_orphaned(r)) << 1;
        bad |= (bgj_cancel(r) != BGJ_EPARENT) << 2;
        bad |= (bgj_nondaemon_active() != 0) << 3;
        struct bgj_pool_stats st;
        bgj_pool_stats(&st);
        bad |= (st.threads != 0 || st.timer != 0) << 4;
        int64_t mine = submit_value(5);
        bad |= (wait_ids(&mine, 1) != 0) << 5;
        bad |= (strcmp(bgj_find(mine)->result, "10") != 0) << 6;
        /* the child's own timer */
        struct probe p = probe_new();
        int64_t timed = submit_probe(&p, 0.01, 0);
        bad |= (wait_ids(&timed, 1) != 0) << 7;
        bad |= (strcmp(error_of(timed), "timed out after 0.01 seconds") != 0) << 8;
        _exit(bad ? 100 + (bad & 0x1ff) % 100 : 0);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        fprintf(stderr, "fork child: status %#x\n", st);
    CHECK(!bgj_orphaned(bgj_find(running)));
    CHECK(bgj_cancel(bgj_find(running)) == 0);
    CHECK(wait_ids(&running, 1) == 0);

    /*
     * Forks while workers publish results: no child may deadlock or see a
     * torn job.  (Under ASan the fork waits for the workers to be quiet.)
     */
    int hung = 0, failed = 0;
    for (int round = 0; round < 200; round++) {
        int64_t ids[20];
        for (int i = 0; i < 20; i++)
            ids[i] = submit_value(round * 20 + i);
        if (FORK_NEEDS_QUIET) {
            wait_ids(ids, 20);
            WAIT_UNTIL(pool_quiet(0));
        }
        pid_t c = fork();
        if (c == 0) {
            alarm((unsigned)LIMIT);
            int bad = 0;
            for (int i = 0; i < 20; i++) {
                bgjob_job *j = bgj_find(ids[i]);
                int s = bgj_state_of(j);
                if (s == BGJ_COMPLETED) {
                    char buf[32];
                    snprintf(buf, sizeof buf, "%ld", (long)(2 * (round * 20 + i)));
                    bad |= !j->result || strcmp(j->result, buf) != 0;
                } else if (s == BGJ_DEAD) {
                    bad |= !j->error || strcmp(j->error, "seven") != 0;
                } else {
                    bad |= !bgj_orphaned(j);
                }
            }
            int64_t own = submit_value(1);
            bad |= (wait_ids(&own, 1) != 0) << 1;
            _exit(bad);
        }
        int cst = 0;
        waitpid(c, &cst, 0);
        if (WIFSIGNALED(cst))
            hung++;
        else if (WEXITSTATUS(cst) != 0) {
            if (!failed)
                fprintf(stderr, "fork round %d: child status %d\n", round, WEXITSTATUS(cst));
            failed++;
        }
        CHECK(wait_ids(ids, 20) == 0);
    }
    CHECK(hung == 0);
    CHECK(failed == 0);
    flush_all();
    bgj_set_idle_timeout(0);
}

static void test_idle_workers_leave(void)
{
    /* workers already idle under a long timeout leave once it is shortened */
    bgj_set_idle_timeout(1e6);
    int64_t id = submit_value(2);
    CHECK(wait_ids(&id, 1) == 0);
    struct bgj_pool_stats st;
    WAIT_UNTIL((bgj_pool_stats(&st), st.threads > 0 && st.idle == st.threads));
    bgj_set_idle_timeout(0.05);
    WAIT_UNTIL((bgj_pool_stats(&st), st.threads == 0));
    /* and the pool comes back */
    id = submit_value(4);
    CHECK(wait_ids(&id, 1) == 0);
    CHECK_STR(bgj_find(id)->result, "8");
    bgj_set_idle_timeout(0);
    flush_all();
}

int main(void)
{
    alarm(1800); /* a hang fails the test instead of blocking the run */
    base_tasks = ntasks();
    CHECK(bgj_init() == 0);
    bgj_registry_init();
    CHECK(bgj_callback_find("sleep") != NULL);
    test_many_results();
    test_caps_and_cancel();
    test_sleep_callback();
    test_kill_many_queued();
    test_timeouts();
    test_cancel_fd();
    test_exit_support();
    test_fork();
    test_idle_workers_leave();
    return check_done("jobs");
}
