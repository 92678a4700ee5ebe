/*
 * test_jobs.c - the job manager without bash: numbering, states, results,
 * caps and queueing, cancellation, fork, idle workers, exit accounting.
 * Run plain, under ThreadSanitizer and under ASan/UBSan by `make test`.
 */
#define _GNU_SOURCE
#include <errno.h>
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until every job in IDS is finished, at most LIMIT seconds; returns 0 when they are. */
static int wait_ids(const int64_t *ids, size_t n, double limit)
{
    double end = now() + limit;
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

static void test_many_results(void)
{
    enum { N = 20000 };
    int64_t *ids = malloc(N * sizeof *ids);
    int64_t first = bgj_next_id();
    for (intptr_t i = 0; i < N; i++) {
        ids[i] = submit_value(i);
        CHECK(ids[i] == first + i);
    }
    CHECK(wait_ids(ids, N, 60) == 0);
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
    CHECK(wait_ids(both, 2, 10) == 0);
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
    CHECK(wait_ids(&next, 1, 10) == 0);
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
    CHECK(bgj_state_of(bgj_find(r1)) == BGJ_RUNNING);
    CHECK(bgj_state_of(bgj_find(r2)) == BGJ_RUNNING);
    for (int i = 0; i < 3; i++)
        CHECK(bgj_state_of(bgj_find(q[i])) == BGJ_QUEUED);
    int64_t before = bgj_next_id();
    CHECK(submit_sleep("1", 0) == BGJ_EFULL);
    CHECK(bgj_next_id() == before);
    CHECK(bgj_nondaemon_active() == 5);

    /* a queued job ends at once */
    bgjob_job *jq = bgj_find(q[0]);
    CHECK(bgj_cancel(jq) == 0);
    CHECK(bgj_state_of(jq) == BGJ_DEAD);
    CHECK(jq->error && strstr(jq->error, "cancel"));
    CHECK(bgj_cancel(jq) == BGJ_EFINISHED);
    CHECK(bgj_remove(r1) == BGJ_ERUNNING);
    CHECK(bgj_remove(q[1]) == BGJ_EQUEUED);

    /* a running sleep stops promptly; the next queued job moves up */
    double t0 = now();
    CHECK(bgj_cancel(bgj_find(r1)) == 0);
    CHECK(wait_ids(&r1, 1, 5) == 0);
    CHECK(now() - t0 < 2);
    CHECK(bgj_state_of(bgj_find(r1)) == BGJ_DEAD);
    CHECK(strstr(bgj_find(r1)->error, "cancel") != NULL);
    double end = now() + 5;
    while (bgj_state_of(bgj_find(q[1])) != BGJ_RUNNING && now() < end)
        usleep(1000);
    CHECK(bgj_state_of(bgj_find(q[1])) == BGJ_RUNNING);

    int64_t all[] = {r2, q[1], q[2]};
    for (int i = 0; i < 3; i++)
        bgj_cancel(bgj_find(all[i]));
    CHECK(wait_ids(all, 3, 5) == 0);
    CHECK(bgj_nondaemon_active() == 0);
    bgj_set_limits(BGJ_DEFAULT_MAX_RUNNING, BGJ_DEFAULT_MAX_QUEUED);
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
    CHECK(nd == 5 && nc == 0);
}

static void test_sleep_callback(void)
{
    double t0 = now();
    int64_t id = submit_sleep("0.2", 0);
    CHECK(bgj_nondaemon_active() == 1);
    int64_t dm = submit_sleep("0.1", 1);
    bgj_wait_nondaemon();
    CHECK(now() - t0 >= 0.19);
    CHECK(bgj_nondaemon_active() == 0);
    bgjob_job *j = bgj_find(id);
    CHECK(bgj_state_of(j) == BGJ_COMPLETED);
    CHECK_STR(j->result, "0.2");
    CHECK(bgj_progress(j) > 0.99);
    CHECK(j->finished - j->started >= 0.19);
    CHECK(wait_ids(&dm, 1, 5) == 0);
    CHECK(bgj_find(dm)->daemon == 1);

    /* wrong arguments: the job dies with the usage */
    const struct bgj_callback *cb = bgj_callback_find("sleep");
    char *bad[] = {"soon"};
    int64_t b = bgj_submit(bgj_callback_job(cb, 1, bad, "sleep soon"), 0);
    CHECK(wait_ids(&b, 1, 5) == 0);
    CHECK(bgj_state_of(bgj_find(b)) == BGJ_DEAD);
    CHECK(strstr(bgj_find(b)->error, "not a valid number") != NULL);
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
}

static void test_fork(void)
{
    int64_t done = submit_value(21);
    CHECK(wait_ids(&done, 1, 5) == 0);
    int64_t running = submit_sleep("30", 0);
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        bgjob_job *d = bgj_find(done), *r = bgj_find(running);
        bad |= !(d && bgj_state_of(d) == BGJ_COMPLETED && strcmp(d->result, "42") == 0);
        bad |= !(r && bgj_state_of(r) == BGJ_RUNNING && bgj_orphaned(r));
        bad |= bgj_cancel(r) != BGJ_EPARENT;
        bad |= bgj_nondaemon_active() != 0;
        int64_t mine = submit_value(5);
        bad |= wait_ids(&mine, 1, 10) != 0;
        bad |= strcmp(bgj_find(mine)->result, "10") != 0;
        _exit(bad);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(!bgj_orphaned(bgj_find(running)));
    CHECK(bgj_cancel(bgj_find(running)) == 0);
    CHECK(wait_ids(&running, 1, 5) == 0);

    /* forks while workers publish results: no child may deadlock or see a torn job */
    int hung = 0, failed = 0;
    for (int round = 0; round < 200; round++) {
        int64_t ids[20];
        for (int i = 0; i < 20; i++)
            ids[i] = submit_value(round * 20 + i);
        pid_t c = fork();
        if (c == 0) {
            alarm(20);
            int bad = 0;
            for (int i = 0; i < 20; i++) {
                bgjob_job *j = bgj_find(ids[i]);
                int s = bgj_state_of(j);
                if (s == BGJ_COMPLETED) {
                    char buf[32];
                    snprintf(buf, sizeof buf, "%ld", (long)(2 * (round * 20 + i)));
                    bad |= !j->result || strcmp(j->result, buf) != 0;
                } else if (s != BGJ_DEAD) {
                    bad |= !bgj_orphaned(j);
                }
            }
            int64_t own = submit_value(1);
            bad |= wait_ids(&own, 1, 10) != 0;
            _exit(bad);
        }
        int cst = 0;
        waitpid(c, &cst, 0);
        if (WIFSIGNALED(cst))
            hung++;
        else if (WEXITSTATUS(cst) != 0)
            failed++;
        wait_ids(ids, 20, 10);
    }
    CHECK(hung == 0);
    CHECK(failed == 0);
    size_t nc = 0, nd = 0;
    bgj_flush_finished(0, &nc, &nd);
}

static void test_idle_workers_leave(void)
{
    bgj_set_idle_timeout(0.2);
    int64_t id = submit_value(2);
    CHECK(wait_ids(&id, 1, 5) == 0);
    struct bgj_pool_stats st;
    double end = now() + 10;
    do {
        usleep(20000);
        bgj_pool_stats(&st);
    } while (st.threads > 0 && now() < end);
    CHECK(st.threads == 0);
    /* and the pool comes back */
    id = submit_value(4);
    CHECK(wait_ids(&id, 1, 5) == 0);
    CHECK_STR(bgj_find(id)->result, "8");
    bgj_set_idle_timeout(0);
}

int main(void)
{
    CHECK(bgj_init() == 0);
    bgj_registry_init();
    CHECK(bgj_callback_find("sleep") != NULL);
    test_many_results();
    test_caps_and_cancel();
    test_sleep_callback();
    test_fork();
    test_idle_workers_leave();
    return check_done("jobs");
}
