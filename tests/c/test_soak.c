/*
 * test_soak.c - soak of the job manager (lib/) without bash: many jobs of
 * every kind while the main thread does what the builtin's subcommands do.
 *
 * Jobs, mixed by number: arithmetic on a variable snapshot with known values
 * (some assign, some divide by zero), the shipped `sleep' callback (instant,
 * short, with bad arguments, long ones that get killed), some daemon jobs,
 * some killed at once.  Meanwhile the same (main) thread, as the builtin
 * does: status-like scans of the whole table (checking that states only move
 * forward, reading progress), result checks, bgj_remove (also on running and
 * unknown jobs), bgj_flush_finished while workers are publishing, bgj_cancel,
 * waits on the completion descriptor, queue-cap refusals, running-cap
 * changes, and fork()s whose children check what they inherited and run jobs
 * of their own.
 *
 * Checked: ids are consecutive and never reused; every job ends in exactly
 * one final state and is accounted for once (checked by a scan, or counted by
 * the flush that deleted it, with the right Completed/Dead split); every
 * checked result and error is the expected one; none lost; in-use heap back
 * to its baseline (64 KiB tolerance) after the last flush.
 *
 * Size: BGJ_SOAK_JOBS (default 30000, so each of plain/TSan/ASan stays well
 * under 40 s on 2 cores); `make check-hardening' runs 100000 under TSan.
 * BGJ_SOAK_FORKS overrides the number of forks (default jobs/400).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "jobs.h"
#include "registry.h"
#include "testutil.h"
#include "vars.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* In-use heap bytes (the sanitizer allocator's count when there is one). */
static size_t heap_in_use(void)
{
#ifdef UNDER_SANITIZER
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

static double now(void) { return bgj_mono(); }

/* Bound of every wait: only a bug makes one take this long. */
#define LIMIT 300.0

static int base_tasks; /* threads of the process before the pool started any */

enum expect {
    E_ARITH,     /* Completed, result = value */
    E_ARITH_SET, /* Completed, result = value, assignments mention t */
    E_DIV0,      /* Dead, "division by 0" */
    E_SLEEP,     /* Completed, result "v<i>" */
    E_SLEEP_BAD, /* Dead, "not a valid number" */
    E_LONG,      /* a 60 s sleep, always killed: Dead, "cancel" */
};

struct rec {
    int64_t id;
    intmax_t value;
    unsigned char expect;
    unsigned char killed; /* bgj_cancel returned 0 */
    unsigned char last;   /* last state seen by a scan */
    unsigned char done;   /* 1 checked by a scan, 2 counted by a flush */
    unsigned char removed;
    unsigned char final; /* the final state, once done */
};

static struct rec *R;
static size_t nsub; /* records used */
static int64_t id0; /* id of R[0] */
static size_t nchecked, nflushed_unchecked, bad_results, bad_transitions, twice;
static size_t total_completed, total_dead; /* final states, each job once */
static size_t live;                        /* submitted, not yet done */

static struct rec *rec_of(int64_t id)
{
    if (id < id0 || (size_t)(id - id0) >= nsub)
        return NULL;
    return &R[id - id0];
}

/* Expected outcome of job number I (by its index in R). */
static enum expect kind_of(size_t i)
{
    if (i % 97 == 50)
        return E_LONG;
    switch (i % 10) {
    case 0:
    case 1:
    case 2: return E_ARITH;
    case 3: return i % 3 ? E_ARITH_SET : E_DIV0;
    case 4: return E_DIV0;
    case 5:
    case 6:
    case 7: return E_SLEEP;
    case 8: return i % 4 == 0 ? E_SLEEP_BAD : E_ARITH;
    default: return E_SLEEP;
    }
}

static int64_t submit(size_t i)
{
    struct rec *r = &R[i];
    r->expect = (unsigned char)kind_of(i);
    int daemon = i % 11 == 0;
    char buf[128];
    bgjob_job *j = NULL;
    intmax_t k = (intmax_t)i;
    if (r->expect == E_ARITH || r->expect == E_ARITH_SET || r->expect == E_DIV0) {
        bgj_vars *v = bgj_vars_new();
        char kv[32];
        snprintf(kv, sizeof kv, "%" PRIdMAX, k);
        CHECK(v && bgj_vars_set_scalar(v, "k", kv, 0) == 0);
        CHECK(bgj_vars_set_scalar(v, "m", "k % 5", 0) == 0); /* evaluated recursively */
        if (r->expect == E_ARITH) {
            snprintf(buf, sizeof buf, "k * 3 + 7 - m ** 2 + (%" PRIdMAX " << 2)", k % 1000);
            r->value = k * 3 + 7 - (k % 5) * (k % 5) + ((k % 1000) << 2);
        } else if (r->expect == E_ARITH_SET) {
            snprintf(buf, sizeof buf, "t = k * 2, t += m, t - 1");
            r->value = k * 2 + k % 5 - 1;
        } else {
            snprintf(buf, sizeof buf, "k + 1 / (m - m)");
        }
        j = bgj_arith_job(buf, v);
    } else {
        const struct bgj_callback *cb = bgj_callback_find("sleep");
        char val[32];
        snprintf(val, sizeof val, "v%zu", i);
        char *argv[2] = {NULL, val};
        if (r->expect == E_SLEEP)
            argv[0] = i % 50 == 7 ? "0.002" : "0";
        else if (r->expect == E_SLEEP_BAD)
            argv[0] = "soon";
        else
            argv[0] = "60";
        j = bgj_callback_job(cb, 2, argv, "sleep");
    }
    CHECK(j != NULL);
    int64_t id = bgj_submit(j, daemon);
    r->id = id;
    nsub++;
    live++;
    return id;
}

/* Checks one finished job against its record; marks it done (once). */
static void check_finished(struct rec *r, bgjob_job *j, int s)
{
    if (r->done) {
        twice++;
        return;
    }
    int ok;
    int cancelled = j->error && strstr(j->error, "cancel") != NULL;
    char want[64];
    switch (r->expect) {
    case E_ARITH:
    case E_ARITH_SET:
        snprintf(want, sizeof want, "%" PRIdMAX, r->value);
        ok = s == BGJ_COMPLETED && j->result && strcmp(j->result, want) == 0;
        if (ok && r->expect == E_ARITH_SET)
            ok = j->assignments && strstr(j->assignments, "t=") != NULL;
        break;
    case E_DIV0: ok = s == BGJ_DEAD && j->error && strstr(j->error, "division by 0") != NULL; break;
    case E_SLEEP:
        snprintf(want, sizeof want, "v%td", r - R);
        ok = s == BGJ_COMPLETED && j->result && strcmp(j->result, want) == 0;
        break;
    case E_SLEEP_BAD: ok = s == BGJ_DEAD && j->error && strstr(j->error, "not a valid number") != NULL; break;
    default: /* E_LONG: only ever ends by being killed */ ok = s == BGJ_DEAD && cancelled && r->killed; break;
    }
    /* A killed job may also have finished normally if the kill came too late. */
    if (!ok && r->killed && s == BGJ_DEAD && cancelled)
        ok = 1;
    if (!ok) {
        bad_results++;
        if (bad_results < 10)
            fprintf(stderr,
                    "soak: job %" PRId64 " (kind %d, killed %d) ended %d with result \"%s\" error \"%s\"\n",
                    r->id, r->expect, r->killed, s, j->result ? j->result : "(null)",
                    j->error ? j->error : "(null)");
    }
    r->done = 1;
    r->final = (unsigned char)s;
    s == BGJ_COMPLETED ? total_completed++ : total_dead++;
    live--;
    nchecked++;
    bgj_mark_seen(j);
}

/* A status-like pass over the whole table. */
static void scan(void)
{
    size_t n = bgj_count();
    for (size_t i = 0; i < n; i++) {
        bgjob_job *j = bgj_at(i);
        if (!j)
            continue;
        struct rec *r = rec_of(j->id);
        if (!r) {
            bad_transitions++; /* a job we never submitted */
            continue;
        }
        int s = bgj_state_of(j);
        if (s < BGJ_QUEUED || s > BGJ_DEAD || s < r->last || (bgj_finished(r->last) && s != r->last))
            bad_transitions++;
        r->last = (unsigned char)s;
        if (s == BGJ_RUNNING) {
            double p = bgj_progress(j);
            if (p > 1.0)
                bad_transitions++;
        }
        if (bgj_finished(s) && !r->done)
            check_finished(r, j, s);
    }
}

/* Removes some checked jobs, and probes remove on running and unknown ones. */
static void remove_some(size_t from)
{
    for (size_t i = from; i < nsub; i++) {
        struct rec *r = &R[i];
        if (r->removed)
            continue;
        if (r->done == 1 && i % 3 == 0) {
            CHECK(bgj_remove(r->id) == 0);
            CHECK(bgj_find(r->id) == NULL);
            CHECK(bgj_remove(r->id) == BGJ_ENOJOB);
            r->removed = 1;
        } else if (!r->done && r->expect == E_LONG && !r->killed) {
            int before = bgj_state_of(bgj_find(r->id)), rc = bgj_remove(r->id);
            CHECK(rc == BGJ_ERUNNING || (before == BGJ_QUEUED && rc == BGJ_EQUEUED)); /* not finished */
        }
    }
    CHECK(bgj_remove(bgj_next_id()) == BGJ_ENOJOB);
    CHECK(bgj_remove(INT64_MAX) == BGJ_ENOJOB);
}

/*
 * Flushes, and accounts for the jobs that finished after the last scan (the
 * flush deletes them unchecked): the flush's counts must be exactly the
 * checked jobs still in the table plus those, split by final state.
 */
static void flush(void)
{
    size_t checked_c = 0, checked_d = 0;
    for (size_t i = 0; i < nsub; i++)
        if (R[i].done == 1 && !R[i].removed)
            R[i].final == BGJ_COMPLETED ? checked_c++ : checked_d++;
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
    size_t gone = 0, sure_c = 0, sure_d = 0;
    for (size_t i = 0; i < nsub; i++) {
        struct rec *r = &R[i];
        if (r->removed)
            continue;
        if (bgj_find(r->id)) {
            if (r->done)
                bad_transitions++; /* finished and checked, yet not flushed */
            continue;
        }
        r->removed = 1;
        if (r->done)
            continue;
        gone++;
        int completes = r->expect == E_ARITH || r->expect == E_ARITH_SET || r->expect == E_SLEEP;
        if (r->killed && r->expect != E_LONG)
            ; /* a late kill: either outcome */
        else if (completes)
            sure_c++;
        else
            sure_d++;
        r->done = 2;
        live--;
        nflushed_unchecked++;
    }
    CHECK(nc + nd == checked_c + checked_d + gone);
    CHECK(nc >= checked_c + sure_c);
    CHECK(nd >= checked_d + sure_d);
    if (nc >= checked_c && nd >= checked_d) {
        total_completed += nc - checked_c;
        total_dead += nd - checked_d;
    }
}

/* Waits until every job of this process in the table is finished (at most LIMIT seconds). */
static int wait_all_finished(double limit)
{
    double end = now() + limit;
    for (;;) {
        int fd = bgj_wait_arm();
        int busy = 0;
        for (size_t i = 0; i < bgj_count(); i++) {
            bgjob_job *j = bgj_at(i);
            if (j && !bgj_finished(bgj_state_of(j)) && !bgj_orphaned(j))
                busy = 1;
        }
        if (!busy) {
            bgj_wait_disarm();
            return 0;
        }
        double left = end - now();
        if (left <= 0) {
            bgj_wait_disarm();
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, (int)(left * 1000) + 1);
        bgj_wait_disarm();
    }
}

/* A child of fork(): finished jobs and their results are there, running ones are the parent's. */
static int forks, fork_failures;
static void fork_check(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /*
     * gcc 12's ASan runtime takes no allocator locks around fork(): a child
     * forked while a worker is inside malloc inherits that size class's lock
     * held, and the child's own worker then blocks on it for ever (seen with
     * gdb: __sanitizer::SizeClassAllocator64::GetFromAllocator).  glibc's
     * malloc, which the real bgjob uses, resets its locks in the child.  So
     * under ASan, fork only once no pool thread can be allocating: every
     * running job is a long sleep sitting in its condition wait, every other
     * worker idle, none pending, and no thread still on its way out (the
     * idle timeout is lifted meanwhile, so none starts leaving).  gcc 12's
     * TSan runtime has the same weakness (a child once hung for the whole
     * alarm under load), so it waits the same way; its own background thread
     * comes and goes, so the thread count is not compared there.
     */
    bgj_set_idle_timeout(1e6);
    double until = now() + LIMIT;
    for (int quiet = 0; !quiet && now() < until;) {
        unsigned nlong = 0;
        int busy = 0;
        for (size_t i = 0; i < bgj_count() && !busy; i++) {
            bgjob_job *j = bgj_at(i);
            if (!j || bgj_state_of(j) != BGJ_RUNNING)
                continue; /* queued ones can only move up once a running job ends */
            struct rec *r = rec_of(j->id);
            busy = !(r && r->expect == E_LONG && !r->killed && bgj_progress(j) >= 0);
            nlong++;
        }
        struct bgj_pool_stats st;
        bgj_pool_stats(&st);
        quiet = !busy && st.threads == st.idle + nlong && st.active == nlong;
#ifdef __SANITIZE_ADDRESS__
        quiet = quiet && ntasks() == base_tasks + (int)st.threads + (int)st.timer + (int)st.io;
#endif
        if (!quiet)
            usleep(200);
    }
#endif
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fork_failures++;
        return;
    }
    if (pid == 0) {
        alarm((unsigned)LIMIT);
        int bad = 0;
#define CHILD_CHECK(c)                                                                                       \
    do {                                                                                                     \
        if (!(c)) {                                                                                          \
            if (!bad)                                                                                        \
                fprintf(stderr, "soak: in a forked child: %s failed\n", #c);                                 \
            bad = 1;                                                                                         \
        }                                                                                                    \
    } while (0)
        for (size_t i = 0; i < bgj_count(); i++) {
            bgjob_job *j = bgj_at(i);
            if (!j)
                continue;
            int s = bgj_state_of(j);
            if (!bgj_finished(s)) {
                CHILD_CHECK(bgj_orphaned(j));
                CHILD_CHECK(bgj_cancel(j) == BGJ_EPARENT);
                CHILD_CHECK(bgj_remove(j->id) == (s == BGJ_QUEUED ? BGJ_EQUEUED : BGJ_ERUNNING));
            } else {
                CHILD_CHECK(!bgj_orphaned(j));
                CHILD_CHECK(s == BGJ_COMPLETED ? j->result != NULL : j->error != NULL);
            }
        }
        CHILD_CHECK(bgj_nondaemon_active() == 0);
        /* the child can run jobs of its own */
        bgj_vars *v = bgj_vars_new();
        bgjob_job *j = bgj_arith_job("6 * 7", v);
        int64_t id = bgj_submit(j, 0);
        CHILD_CHECK(id >= 0);
        CHILD_CHECK(wait_all_finished(LIMIT) == 0); /* the parent's unfinished ones are orphaned */
        bgjob_job *mine = bgj_find(id);
        CHILD_CHECK(mine && bgj_state_of(mine) == BGJ_COMPLETED);
        CHILD_CHECK(mine && mine->result && strcmp(mine->result, "42") == 0);
        size_t nc = 0, nd = 0;
        bgj_flush_finished(0, &nc, &nd);
        _exit(bad ? 3 : 0);
    }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    bgj_set_idle_timeout(0.3);
#endif
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        fork_failures++;
        fprintf(stderr, "soak: fork child failed: status %#x\n", st);
    }
    forks++;
}

/* No worker thread is left, not even one on its way out (TSan's own thread comes and goes: not checked there). */
static int workers_gone(const struct bgj_pool_stats *st)
{
#ifdef __SANITIZE_THREAD__
    (void)st;
    return 1;
#else
    return ntasks() == base_tasks + (int)st->timer + (int)st->io;
#endif
}

/* Lets every idle worker exit (their malloc caches go with them) before a heap reading. */
static void quiesce(void)
{
    struct bgj_pool_stats st;
    double end = now() + LIMIT;
    for (;;) {
        bgj_pool_stats(&st);
        if ((st.threads == 0 && workers_gone(&st)) || now() > end)
            break;
        usleep(2000);
    }
    CHECK(st.threads == 0);
    CHECK(workers_gone(&st));
}

static size_t env_size(const char *name, size_t dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    return (*end || v == 0) ? dflt : (size_t)v;
}

int main(void)
{
    size_t N = env_size("BGJ_SOAK_JOBS", 30000);
    size_t NFORK = env_size("BGJ_SOAK_FORKS", N / 400 ? N / 400 : 1);
    alarm(3600); /* a hang fails the test instead of blocking the run */
    base_tasks = ntasks();
    CHECK(bgj_init() == 0);
    bgj_registry_init();
    CHECK(bgj_callback_find("sleep") != NULL);
    /* Idle workers leave after 0.3 s: the pool also shrinks and regrows during the soak. */
    bgj_set_idle_timeout(0.3);
    R = calloc(N + N / 50 + 64, sizeof *R);
    CHECK(R != NULL);
    if (!R)
        return check_done("soak");
    double t0 = now();

    /* Warm-up: the pool, the table and the arenas reach their working size. */
    id0 = bgj_next_id();
    for (size_t i = 0; i < 200 && i < N; i++)
        submit(i);
    for (size_t i = 0; i < nsub; i++)
        if (R[i].expect == E_LONG) {
            CHECK(bgj_cancel(bgj_find(R[i].id)) == 0);
            R[i].killed = 1;
        }
    CHECK(wait_all_finished(LIMIT) == 0);
    scan();
    flush();
    quiesce();
    size_t baseline = heap_in_use();
    size_t peak = baseline;

    size_t fork_step = (N - nsub) / NFORK;
    size_t next_fork = nsub + fork_step / 2;
    size_t refusals = 0;
    unsigned caps[] = {64, 3, 8, 1, 16};
    size_t round = 0;
    while (nsub < N) {
        /* a round: a batch of submissions interleaved with everything else */
        bgj_set_limits(caps[round % 5], BGJ_DEFAULT_MAX_QUEUED);
        size_t start = nsub, batch = 400 + (round * 37) % 300;
        for (size_t b = 0; b < batch && nsub < N; b++) {
            size_t i = nsub;
            int64_t id = submit(i);
            CHECK(id == id0 + (int64_t)i);
            if (i % 17 == 5 || (R[i].expect == E_LONG && i % 2)) {
                int rc = bgj_cancel(bgj_find(id));
                if (rc == 0)
                    R[i].killed = 1;
                else
                    CHECK(bgj_finished(bgj_state_of(bgj_find(id))));
            }
            if (i % 64 == 0)
                scan();
            /* kill the long sleeps of the previous stretch */
            if (i >= 40 && R[i - 40].expect == E_LONG && !R[i - 40].killed && !R[i - 40].done) {
                CHECK(bgj_cancel(bgj_find(R[i - 40].id)) == 0);
                R[i - 40].killed = 1;
            }
            if (i % 150 == 0)
                remove_some(start);
            if (i % 500 == 250) {
                scan();
                flush();
            }
            if (i >= next_fork && forks < (int)NFORK) {
                fork_check();
                next_fork += fork_step;
            }
        }
        /* the queue cap: a clear refusal that uses up no number */
        if (round % 4 == 1) {
            bgj_set_limits(1, 3);
            size_t before_n = nsub;
            int64_t before_id = bgj_next_id();
            for (int k = 0; k < 20; k++) {
                const struct bgj_callback *cb = bgj_callback_find("sleep");
                char *argv[] = {"60"};
                bgjob_job *j = bgj_callback_job(cb, 1, argv, "sleep 60");
                int64_t id = bgj_submit(j, 0);
                if (id < 0) {
                    CHECK(id == BGJ_EFULL);
                    CHECK(bgj_next_id() == before_id);
                    refusals++;
                    break;
                }
                /* accepted: account for it as a long sleep to kill */
                CHECK(id == before_id);
                before_id++;
                R[nsub].id = id;
                R[nsub].expect = E_LONG;
                nsub++;
                live++;
            }
            CHECK(nsub - before_n <= 4); /* 1 running + 3 queued at most */
            for (size_t i = before_n; i < nsub; i++) {
                CHECK(bgj_cancel(bgj_find(R[i].id)) == 0);
                R[i].killed = 1;
            }
        }
        /* end of the round: kill what is left long-running, wait, check, flush */
        for (size_t i = start; i < nsub; i++)
            if (R[i].expect == E_LONG && !R[i].killed && !R[i].done) {
                CHECK(bgj_cancel(bgj_find(R[i].id)) == 0);
                R[i].killed = 1;
            }
        size_t h = heap_in_use();
        if (h > peak)
            peak = h;
        CHECK(wait_all_finished(LIMIT) == 0);
        scan();
        CHECK(bgj_unseen() == 0); /* every finished job was shown */
        remove_some(start);
        flush();
        round++;
    }
    bgj_set_limits(BGJ_DEFAULT_MAX_RUNNING, BGJ_DEFAULT_MAX_QUEUED);
    bgj_wait_nondaemon();
    CHECK(bgj_nondaemon_active() == 0);
    CHECK(wait_all_finished(LIMIT) == 0);
    scan();
    flush();
    CHECK(bgj_count() == 0);

    /* every job accounted for exactly once */
    size_t lost = 0;
    for (size_t i = 0; i < nsub; i++)
        if (!R[i].done)
            lost++;
    CHECK(lost == 0);
    CHECK(live == 0);
    CHECK(twice == 0);
    CHECK(bad_results == 0);
    CHECK(bad_transitions == 0);
    CHECK(total_completed + total_dead == nsub);
    CHECK(fork_failures == 0);
    CHECK(forks == (int)NFORK || N < 1000);
    CHECK(refusals > 0 || N < 2000);

    quiesce();
    size_t end_heap = heap_in_use();
    long drift = (long)end_heap - (long)baseline;
    CHECK(drift < 64 * 1024);
    printf("# soak: %zu jobs (%zu results checked, %zu flushed before a scan), %zu completed, %zu dead, "
           "%d forks, %zu cap refusals, %.1f s\n",
           nsub, nchecked, nflushed_unchecked, total_completed, total_dead, forks, refusals, now() - t0);
    printf("# soak: heap in use: baseline %zu, peak %zu, after flush %zu (drift %ld bytes)\n", baseline, peak,
           end_heap, drift);
    free(R);
    return check_done("soak");
}
