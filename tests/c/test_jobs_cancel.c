/*
 * test_jobs_cancel.c - the job manager without bash, its cancellation
 * paths: timeouts, cancel reasons and the cancel descriptor, exit
 * accounting, fork.  The rest is in test_jobs.c; the helpers both use are
 * in jobs_util.h.  Run plain, under ThreadSanitizer and under ASan/UBSan.
 *
 * Every wait is for an event (a job finishing, a descriptor becoming
 * readable, a pool figure reaching a value); LIMIT only bounds a wait that
 * would otherwise hang on a bug, and alarm() ends the test if one hangs all
 * the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs_util.h"

static int run_quick(bgjob_job *j, void *arg)
{
    double *start = arg;
    *start = j->side->deadline - j->side->timeout; /* the moment the pool started the clock */
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
    /* Under ASan and TSan workers must not exit mid-fork (see pool_quiet); the idle timeout is restored below. */
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
     * torn job.  (Under ASan and TSan the fork waits for the workers to be quiet.)
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
        if (WIFSIGNALED(cst)) {
            if (!hung)
                fprintf(stderr, "fork round %d: child killed by signal %d\n", round, WTERMSIG(cst));
            hung++;
        } else if (WEXITSTATUS(cst) != 0) {
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

int main(void)
{
    alarm(1800); /* a hang fails the test instead of blocking the run */
    base_tasks = ntasks();
    CHECK(bgj_init() == 0);
    bgj_registry_init();
    CHECK(bgj_callback_find("sleep") != NULL);
    test_timeouts();
    test_cancel_fd();
    test_exit_support();
    test_fork();
    return check_done("jobs-cancel");
}
