/*
 * test_jobs.c - the job manager without bash: numbering, states, results,
 * the waited marks, caps and queueing, cancellation (also of many queued jobs in any order),
 * idle workers.  Timeouts, cancel reasons and the cancel descriptor, exit
 * accounting and fork are in test_jobs_cancel.c; the helpers both use are in
 * jobs_util.h.  Run plain, under ThreadSanitizer and under ASan/UBSan.
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

/* The waited marks (one job at a time, and everything below a number), the index of a number and the
   count of deletions, which `wait' relies on. */
static void test_waited_marks(void)
{
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = submit_value(i);
    CHECK(wait_ids(ids, 3) == 0);
    size_t at = bgj_index_of(ids[0]);
    for (int i = 0; i < 3; i++) {
        CHECK(bgj_at(at + (size_t)i) == bgj_find(ids[i]));
        CHECK(!bgj_waited(bgj_find(ids[i])));
    }
    CHECK(bgj_index_of(ids[2] + 1) == bgj_count());
    bgj_mark_waited(bgj_find(ids[2]));
    bgj_mark_waited_below(ids[1]);
    CHECK(bgj_waited_below() == ids[1]);
    CHECK(bgj_waited(bgj_find(ids[0])) && !bgj_waited(bgj_find(ids[1])) && bgj_waited(bgj_find(ids[2])));
    bgj_mark_waited_below(ids[0]); /* the mark never goes back */
    CHECK(bgj_waited_below() == ids[1]);
    unsigned long removals = bgj_removals();
    CHECK(bgj_remove(ids[1]) == 0);
    CHECK(bgj_removals() == removals + 1);
    CHECK(bgj_index_of(ids[1]) == at + 1 && bgj_at(at + 1) == NULL); /* a hole until the table is compacted */
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
    CHECK(nc == 2 && nd == 0 && bgj_removals() == removals + 3);
}

int main(void)
{
    alarm(1800); /* a hang fails the test instead of blocking the run */
    base_tasks = ntasks();
    CHECK(bgj_init() == 0);
    bgj_registry_init();
    CHECK(bgj_callback_find("sleep") != NULL);
    test_many_results();
    test_waited_marks();
    test_caps_and_cancel();
    test_sleep_callback();
    test_kill_many_queued();
    test_idle_workers_leave();
    return check_done("jobs");
}
