/*
 * test_queued.c - api->set_queued and api->timeout (plugin API version 4),
 * without bash: a running callback job that says it waits outside bgjob is
 * shown Queued (bgj_shown_state) while its real state stays Running, and
 * shown Running again once it says it no longer waits; timeout() gives the
 * job's time limit.  The job and the test take turns through a mutex and a
 * condition: no timing.
 */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "jobs.h"
#include "registry.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int step; /* 1: job queued, 2: test saw it, 3: job running again, 4: test saw it */
static double seen_timeout = -1;

static void go_to(int s)
{
    pthread_mutex_lock(&m);
    step = s;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
}
static void wait_for(int s)
{
    pthread_mutex_lock(&m);
    while (step < s)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
}

static int waiting_job(bgjob_job *job, void *arg)
{
    (void)arg;
    seen_timeout = bgj_api.timeout(job);
    bgj_api.set_queued(job, 1);
    go_to(1);
    wait_for(2);
    bgj_api.set_queued(job, 0);
    go_to(3);
    wait_for(4);
    return 0;
}

static int plain_job(bgjob_job *job, void *arg)
{
    (void)arg;
    seen_timeout = bgj_api.timeout(job);
    return 0;
}

int main(void)
{
    bgj_registry_init();
    CHECK(bgj_init() == 0);
    CHECK(bgj_api.version >= 4 && bgj_api.set_queued != NULL && bgj_api.timeout != NULL);

    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "waiting", waiting_job, NULL, NULL);
    CHECK(j != NULL);
    bgj_job_set_timeout(j, 90);
    int64_t id = bgj_submit(j, 0);
    CHECK(id >= 0);
    wait_for(1);
    CHECK(bgj_state_of(j) == BGJ_RUNNING);
    CHECK(bgj_shown_state(j) == BGJ_QUEUED);
    CHECK(seen_timeout == 90);
    go_to(2);
    wait_for(3);
    CHECK(bgj_state_of(j) == BGJ_RUNNING);
    CHECK(bgj_shown_state(j) == BGJ_RUNNING);
    go_to(4);
    bgj_wait_nondaemon();
    CHECK(bgj_state_of(j) == BGJ_COMPLETED && bgj_shown_state(j) == BGJ_COMPLETED);

    /* without -t: 0; a finished job is never shown Queued */
    bgjob_job *p = bgj_job_new(BGJ_KIND_CALLBACK, "plain", plain_job, NULL, NULL);
    CHECK(p != NULL);
    CHECK(bgj_submit(p, 0) >= 0);
    bgj_wait_nondaemon();
    CHECK(seen_timeout == 0);
    CHECK(bgj_shown_state(p) == BGJ_COMPLETED);
    return check_done("queued");
}
