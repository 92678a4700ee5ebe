/*
 * test_flow.c - workflows in the job manager without bash: dependencies
 * (release down a chain and a diamond, failure down a chain, kill and
 * remove of jobs others need), retries (attempt counts, backoff held
 * without a slot, kill while waiting, timeouts), groups (their running
 * limit) and halt policies.  Run plain, under ThreadSanitizer and under
 * ASan/UBSan.
 *
 * Every wait is for an event (a job finishing, a semaphore, a pool figure
 * reaching a value); LIMIT only bounds a wait that would otherwise hang.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs_util.h"

/* A job that waits for event GATE, then completes (or fails with FAIL). */
struct gated {
    int gate, fail;
    _Atomic int *running, *max_running; /* optional concurrency probe */
};

static int run_gated(bgjob_job *j, void *arg)
{
    struct gated *g = arg;
    if (g->running) {
        int now = atomic_fetch_add(g->running, 1) + 1;
        int m = atomic_load(g->max_running);
        while (now > m && !atomic_compare_exchange_weak(g->max_running, &m, now))
            ;
    }
    if (g->gate >= 0)
        ev_wait(g->gate);
    if (g->running)
        atomic_fetch_sub(g->running, 1);
    if (g->fail) {
        j->error = strdup("gated failure");
        return 1;
    }
    j->result = strdup("ok");
    return 0;
}

static bgjob_job *gated_job(struct gated *g)
{
    return bgj_job_new(BGJ_KIND_CALLBACK, "gated", run_gated, NULL, g);
}

/* A value job (jobs_util.h's run_value) that runs after DEP (ANY: whatever its end). */
static int64_t submit_after(intptr_t v, int64_t dep, int any)
{
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "after", run_value, NULL, (void *)v);
    CHECK(bgj_job_add_dep(j, bgj_find(dep), any) == 0);
    return bgj_submit(j, 0);
}

static void test_chain(void)
{
    enum { N = 2000 };
    struct gated head = {.gate = ev_new()};
    int64_t *ids = malloc(N * sizeof *ids);
    ids[0] = bgj_submit(gated_job(&head), 0);
    for (int i = 1; i < N; i++)
        ids[i] = submit_after(7 * i, ids[i - 1], 0); /* 7*i % 7 == 0: each completes */
    size_t blocked = 0;
    for (int i = 1; i < N; i++)
        blocked += state_of(ids[i]) == BGJ_BLOCKED;
    CHECK(blocked == N - 1);
    /* Blocked jobs hold no running slot and no thread */
    struct bgj_pool_stats st;
    bgj_pool_stats(&st);
    CHECK(st.active == 1 && st.queued == 0);
    char *w = bgj_job_waiting_for(bgj_find(ids[5]));
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)ids[4]);
    CHECK_STR(w, want);
    free(w);
    /* a finished job that a Blocked job needs is neither removed nor flushed */
    ev_post(head.gate);
    CHECK(wait_ids(ids, N) == 0);
    size_t completed = 0;
    for (int i = 0; i < N; i++)
        completed += state_of(ids[i]) == BGJ_COMPLETED;
    CHECK(completed == N);
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", (long)(7 * (N - 1) * 2));
    CHECK_STR(bgj_find(ids[N - 1])->result, buf);
    flush_all();
    CHECK(bgj_count() == 0 || bgj_find(ids[0]) == NULL);
    free(ids);
}

static void test_chain_fails(void)
{
    enum { N = 1000 };
    struct gated head = {.gate = ev_new(), .fail = 1};
    int64_t *ids = malloc((N + 1) * sizeof *ids);
    ids[0] = bgj_submit(gated_job(&head), 0);
    for (int i = 1; i < N; i++)
        ids[i] = submit_after(0, ids[i - 1], 0);
    ids[N] = submit_after(0, ids[N - 1], 1); /* -A: runs whatever the outcome */
    /* the head's dependent may not be removed while it is needed */
    CHECK(bgj_remove(ids[1]) == BGJ_EBLOCKED);
    ev_post(head.gate);
    CHECK(wait_ids(ids, N + 1) == 0);
    size_t wrong = 0;
    for (int i = 1; i < N; i++) {
        char want[64];
        snprintf(want, sizeof want, "dependency %lld failed", (long long)ids[i - 1]);
        wrong += state_of(ids[i]) != BGJ_DEAD || strcmp(error_of(ids[i]), want) != 0;
    }
    CHECK(wrong == 0);
    CHECK(state_of(ids[N]) == BGJ_COMPLETED);
    /* a job added after its dependency died ends Dead at once */
    int64_t late = submit_after(0, ids[0], 0);
    CHECK(state_of(late) == BGJ_DEAD);
    char want[64];
    snprintf(want, sizeof want, "dependency %lld failed", (long long)ids[0]);
    CHECK_STR(error_of(late), want);
    flush_all();
    free(ids);
}

static void test_diamond(void)
{
    enum { N = 5000 };
    struct gated head = {.gate = ev_new()};
    int64_t *ids = malloc((N + 2) * sizeof *ids);
    ids[0] = bgj_submit(gated_job(&head), 0);
    bgjob_job *tail = bgj_job_new(BGJ_KIND_CALLBACK, "tail", run_value, NULL, (void *)(intptr_t)1);
    for (int i = 1; i <= N; i++) {
        ids[i] = submit_after(0, ids[0], 0);
        CHECK(bgj_job_add_dep(tail, bgj_find(ids[i]), 0) == 0);
    }
    ids[N + 1] = bgj_submit(tail, 0);
    CHECK(state_of(ids[N + 1]) == BGJ_BLOCKED);
    CHECK(bgj_job_needed(bgj_find(ids[0])) == 1);
    ev_post(head.gate);
    CHECK(wait_ids(ids, N + 2) == 0);
    CHECK(state_of(ids[N + 1]) == BGJ_COMPLETED);
    CHECK_STR(bgj_find(ids[N + 1])->result, "2");
    CHECK(bgj_job_needed(bgj_find(ids[0])) == 0);
    /* the middle jobs can go now; the tail still names them */
    CHECK(bgj_remove(ids[1]) == 0);
    char *deps = bgj_job_deps(bgj_find(ids[N + 1]), 0), want[32];
    snprintf(want, sizeof want, "%lld %lld", (long long)ids[1], (long long)ids[2]);
    CHECK(deps && strncmp(deps, want, strlen(want)) == 0);
    free(deps);
    deps = bgj_job_waiting_for(bgj_find(ids[N + 1]));
    CHECK_STR(deps, "");
    free(deps);
    flush_all();
    free(ids);
}

/* One job naming the same jobs again and again (-a 0,0,0... -A 1): each naming is a dependency of its own. */
static void test_repeated_deps(void)
{
    enum { K = 9 };
    struct gated g0 = {.gate = ev_new()}, g1 = {.gate = ev_new()};
    int64_t a = bgj_submit(gated_job(&g0), 0), b = bgj_submit(gated_job(&g1), 0);
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "rep", run_value, NULL, (void *)(intptr_t)5);
    for (int i = 0; i < K; i++) {
        CHECK(bgj_job_add_dep(j, bgj_find(a), 0) == 0);
        CHECK(bgj_job_add_dep(j, bgj_find(b), 1) == 0);
    }
    /* two more dependents of A, made after J named it K times */
    int64_t c = bgj_submit(j, 0), d = submit_after(0, a, 0), e = submit_after(0, a, 1);
    CHECK(state_of(c) == BGJ_BLOCKED && state_of(d) == BGJ_BLOCKED && state_of(e) == BGJ_BLOCKED);
    CHECK(bgj_job_ndeps(bgj_find(c)) == 2 * K);
    char *w = bgj_job_waiting_for(bgj_find(c));
    CHECK(w && strlen(w) > 0);
    free(w);
    ev_post(g0.gate);
    int64_t first[] = {a, d, e};
    CHECK(wait_ids(first, 3) == 0);
    CHECK(state_of(d) == BGJ_COMPLETED && state_of(e) == BGJ_COMPLETED);
    CHECK(state_of(c) == BGJ_BLOCKED); /* B still runs */
    ev_post(g1.gate);
    int64_t all[] = {a, b, c, d, e};
    CHECK(wait_ids(all, 5) == 0);
    CHECK(state_of(c) == BGJ_COMPLETED);
    CHECK_STR(bgj_find(c)->result, "10");
    /* a job never submitted gives back the room it was promised: A can take dependents again */
    bgjob_job *never = bgj_job_new(BGJ_KIND_CALLBACK, "never", run_value, NULL, (void *)(intptr_t)0);
    struct gated g2 = {.gate = ev_new()};
    int64_t f = bgj_submit(gated_job(&g2), 0);
    for (int i = 0; i < K; i++)
        CHECK(bgj_job_add_dep(never, bgj_find(f), 0) == 0);
    bgj_job_free(never);
    int64_t h[K + 1];
    h[0] = f;
    for (int i = 1; i <= K; i++)
        h[i] = submit_after(7 * i, f, 0); /* each completes */
    ev_post(g2.gate);
    CHECK(wait_ids(h, K + 1) == 0);
    size_t completed = 0;
    for (int i = 1; i <= K; i++)
        completed += state_of(h[i]) == BGJ_COMPLETED;
    CHECK(completed == K);
    flush_all();
}

static void test_kill_blocked(void)
{
    struct gated head = {.gate = ev_new()};
    int64_t h = bgj_submit(gated_job(&head), 0);
    int64_t b = submit_after(0, h, 0);
    int64_t c = submit_after(0, b, 0);
    int64_t d = submit_after(0, b, 1);
    CHECK(bgj_cancel(bgj_find(b)) == 0);
    /* ended at once, its -a dependent too; its -A dependent is released */
    CHECK(state_of(b) == BGJ_DEAD);
    CHECK_STR(error_of(b), "cancelled by bgjob kill before it started");
    CHECK(state_of(c) == BGJ_DEAD);
    char want[64];
    snprintf(want, sizeof want, "dependency %lld killed", (long long)b);
    CHECK_STR(error_of(c), want);
    int64_t both[] = {d};
    CHECK(wait_ids(both, 1) == 0);
    CHECK(state_of(d) == BGJ_COMPLETED);
    ev_post(head.gate);
    CHECK(wait_ids(&h, 1) == 0);
    flush_all();
}

/* A job that fails until its FAILS-th attempt has passed (then completes), counting attempts. */
struct flaky {
    _Atomic int calls;
    int fails;
};

static int run_flaky(bgjob_job *j, void *arg)
{
    struct flaky *f = arg;
    int n = atomic_fetch_add(&f->calls, 1) + 1;
    char buf[64];
    if (n <= f->fails) {
        snprintf(buf, sizeof buf, "noise\nfailure %d", n);
        j->error = strdup(buf);
        return 1;
    }
    snprintf(buf, sizeof buf, "%d", n);
    j->result = strdup(buf);
    return 0;
}

static int64_t submit_flaky(struct flaky *f, unsigned retries, double backoff)
{
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "flaky", run_flaky, NULL, f);
    bgj_job_set_retries(j, retries, backoff);
    return bgj_submit(j, 0);
}

static void test_retries(void)
{
    struct flaky ok = {.fails = 2}, never = {.fails = 1000};
    int64_t a = submit_flaky(&ok, 5, 0.01), b = submit_flaky(&never, 2, 0.01);
    int64_t both[] = {a, b};
    CHECK(wait_ids(both, 2) == 0);
    unsigned left;
    CHECK(state_of(a) == BGJ_COMPLETED);
    CHECK_STR(bgj_find(a)->result, "3");
    CHECK(bgj_job_attempt(bgj_find(a), &left) == 3 && left == 3);
    char *att = bgj_job_attempts(bgj_find(a));
    CHECK_STR(att, "attempt 1: failure 1\nattempt 2: failure 2\n");
    free(att);
    CHECK(state_of(b) == BGJ_DEAD);
    CHECK(atomic_load(&never.calls) == 3);
    CHECK(bgj_job_attempt(bgj_find(b), &left) == 3 && left == 0);
    CHECK_STR(error_of(b), "noise\nfailure 3");

    /* waiting for its backoff it holds no slot; a kill then ends it without another attempt */
    struct flaky slow = {.fails = 1000};
    int64_t s = submit_flaky(&slow, 3, 1000);
    bgjob_job *sj = bgj_find(s);
    WAIT_UNTIL(bgj_job_attempt(sj, &left) == 2);
    struct bgj_pool_stats st;
    bgj_pool_stats(&st);
    CHECK(st.active == 0);
    CHECK(state_of(s) == BGJ_QUEUED);
    CHECK(bgj_cancel(sj) == 0);
    CHECK(state_of(s) == BGJ_DEAD);
    CHECK(atomic_load(&slow.calls) == 1);
    CHECK_STR(error_of(s), "cancelled by bgjob kill");

    /* a -t timeout is a failure of its own: each attempt gets its own time limit */
    struct probe p = probe_new();
    bgjob_job *tj = bgj_job_new(BGJ_KIND_CALLBACK, "probe", run_probe, NULL, &p);
    bgj_job_set_timeout(tj, 0.02);
    bgj_job_set_retries(tj, 2, 0.01);
    int64_t t = bgj_submit(tj, 0);
    CHECK(wait_ids(&t, 1) == 0);
    CHECK(state_of(t) == BGJ_DEAD);
    CHECK_STR(error_of(t), "timed out after 0.02 seconds");
    att = bgj_job_attempts(bgj_find(t));
    CHECK_STR(att, "attempt 1: timed out after 0.02 seconds\nattempt 2: timed out after 0.02 seconds\n");
    free(att);

    /* a kill of a running attempt is never retried */
    struct probe k;
    k = probe_new();
    k.ready = ev_new();
    bgjob_job *kj = bgj_job_new(BGJ_KIND_CALLBACK, "probe", run_probe, NULL, &k);
    bgj_job_set_retries(kj, 5, 0.01);
    int64_t kid = bgj_submit(kj, 0);
    ev_wait(k.ready);
    CHECK(bgj_cancel(bgj_find(kid)) == 0);
    CHECK(wait_ids(&kid, 1) == 0);
    CHECK(bgj_job_attempt(bgj_find(kid), &left) == 1 && left == 5);
    CHECK_STR(error_of(kid), "cancelled by bgjob kill");
    flush_all();
}

static void test_group_limit(void)
{
    enum { N = 8 };
    struct bgj_group *g = bgj_group_find("limited", 1);
    bgj_group_set(g, 2, NULL);
    _Atomic int running = 0, max_running = 0;
    struct gated gs[N];
    int64_t ids[N];
    int gate = ev_new();
    for (int i = 0; i < N; i++) {
        gs[i] = (struct gated){.gate = gate, .running = &running, .max_running = &max_running};
        bgjob_job *j = gated_job(&gs[i]);
        bgj_job_side(j)->group = g;
        ids[i] = bgj_submit(j, 0);
    }
    WAIT_UNTIL(atomic_load(&running) == 2);
    struct bgj_group_info in;
    bgj_group_info(g, &in);
    CHECK(in.running == 2 && in.queued == N - 2 && in.limit == 2);
    for (int i = 0; i < N; i++)
        ev_post(gate);
    CHECK(wait_ids(ids, N) == 0);
    CHECK(atomic_load(&max_running) == 2);
    bgj_group_info(g, &in);
    CHECK(in.completed == N && in.running == 0 && in.queued == 0);
    flush_all();
}

static void test_halt(void)
{
    struct bgj_halt h;
    CHECK(bgj_halt_parse("soon,fail=1", &h) == 0 && h.when == 1 && h.count == 1 && !h.success);
    CHECK(bgj_halt_parse("now,success=50%", &h) == 0 && h.when == 2 && h.percent && h.success);
    CHECK(bgj_halt_parse("later,fail=1", &h) == BGJ_EINVAL);
    CHECK(bgj_halt_parse("now,fail=0", &h) == BGJ_EINVAL);
    CHECK(bgj_halt_parse("now,fail=101%", &h) == BGJ_EINVAL);

    /* soon: the failed job stops the group; its queued jobs end Dead, halted */
    struct bgj_group *g = bgj_group_find("soon", 1);
    bgj_halt_parse("soon,fail=1", &h);
    bgj_group_set(g, 1, &h);
    struct gated first = {.gate = ev_new(), .fail = 1};
    bgjob_job *fj = gated_job(&first);
    bgj_job_side(fj)->group = g;
    int64_t ids[6];
    ids[0] = bgj_submit(fj, 0);
    for (int i = 1; i < 6; i++) {
        bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "v", run_value, NULL, (void *)(intptr_t)0);
        bgj_job_side(j)->group = g;
        ids[i] = bgj_submit(j, 0);
    }
    ev_post(first.gate);
    CHECK(wait_ids(ids, 6) == 0);
    size_t halted = 0;
    for (int i = 1; i < 6; i++)
        halted += state_of(ids[i]) == BGJ_DEAD && strncmp(error_of(ids[i]), "halted", 6) == 0;
    CHECK(halted == 5);
    struct bgj_group_info in;
    bgj_group_info(g, &in);
    CHECK(in.halted == 1 && in.dead == 6);

    /* now: the running ones are stopped too, and are not retried */
    g = bgj_group_find("now", 1);
    bgj_halt_parse("now,fail=1", &h);
    bgj_group_set(g, 0, &h);
    struct probe p = probe_new();
    p.ready = ev_new();
    bgjob_job *pj = bgj_job_new(BGJ_KIND_CALLBACK, "probe", run_probe, NULL, &p);
    bgj_job_side(pj)->group = g;
    bgj_job_set_retries(pj, 3, 0.01);
    int64_t pid = bgj_submit(pj, 0);
    ev_wait(p.ready);
    bgjob_job *bad = bgj_job_new(BGJ_KIND_CALLBACK, "v", run_value, NULL, (void *)(intptr_t)3);
    bgj_job_side(bad)->group = g;
    int64_t bid = bgj_submit(bad, 0);
    int64_t two[] = {pid, bid};
    CHECK(wait_ids(two, 2) == 0);
    CHECK(p.reason == BGJ_CANCEL_HALT);
    CHECK(strncmp(error_of(pid), "halted", 6) == 0);
    unsigned left;
    CHECK(bgj_job_attempt(bgj_find(pid), &left) == 1);
    /* a job added to a halted group ends at once; a new policy clears the halt */
    bgjob_job *late = bgj_job_new(BGJ_KIND_CALLBACK, "v", run_value, NULL, (void *)(intptr_t)0);
    bgj_job_side(late)->group = g;
    int64_t lid = bgj_submit(late, 0);
    CHECK(state_of(lid) == BGJ_DEAD);
    bgj_group_set(g, -1, &h);
    late = bgj_job_new(BGJ_KIND_CALLBACK, "v", run_value, NULL, (void *)(intptr_t)0);
    bgj_job_side(late)->group = g;
    lid = bgj_submit(late, 0);
    CHECK(wait_ids(&lid, 1) == 0);
    CHECK(state_of(lid) == BGJ_COMPLETED);

    /* success=1: the first success stops the rest (first one wins) */
    g = bgj_group_find("race", 1);
    bgj_halt_parse("now,success=1", &h);
    bgj_group_set(g, 0, &h);
    struct probe loser = probe_new();
    loser.ready = ev_new();
    bgjob_job *lj = bgj_job_new(BGJ_KIND_CALLBACK, "probe", run_probe, NULL, &loser);
    bgj_job_side(lj)->group = g;
    int64_t loser_id = bgj_submit(lj, 0);
    ev_wait(loser.ready);
    bgjob_job *win = bgj_job_new(BGJ_KIND_CALLBACK, "v", run_value, NULL, (void *)(intptr_t)1);
    bgj_job_side(win)->group = g;
    int64_t win_id = bgj_submit(win, 0);
    int64_t race[] = {loser_id, win_id};
    CHECK(wait_ids(race, 2) == 0);
    CHECK(state_of(win_id) == BGJ_COMPLETED);
    CHECK(state_of(loser_id) == BGJ_DEAD && loser.reason == BGJ_CANCEL_HALT);
    flush_all();
}

/* A forked child inherits Blocked jobs as the parent's: it may not depend on them, and its groups start empty. */
static void test_fork(void)
{
    struct gated head = {.gate = ev_new()};
    int64_t h = bgj_submit(gated_job(&head), 0);
    int64_t b = submit_after(0, h, 0);
    WAIT_UNTIL(!FORK_NEEDS_QUIET || pool_quiet(1));
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        bad += !bgj_orphaned(bgj_find(b));
        bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "x", run_value, NULL, (void *)(intptr_t)0);
        bad += bgj_job_add_dep(j, bgj_find(b), 0) != BGJ_EPARENT;
        bgj_job_free(j);
        bad += bgj_cancel(bgj_find(b)) != BGJ_EPARENT;
        _exit(bad);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ev_post(head.gate);
    int64_t both[] = {h, b};
    CHECK(wait_ids(both, 2) == 0);
    CHECK(state_of(b) == BGJ_COMPLETED);
    flush_all();
}

int main(void)
{
    alarm(1800); /* a hang fails the test instead of blocking the run */
    base_tasks = ntasks();
    CHECK(bgj_init() == 0);
    bgj_registry_init();
    test_chain();
    test_chain_fails();
    test_diamond();
    test_repeated_deps();
    test_kill_blocked();
    test_retries();
    test_group_limit();
    test_halt();
    test_fork();
    return check_done("flow");
}
