/*
 * timer.c - the timer list and its thread: jobs with a deadline (a running
 * job's time limit, a retry's backoff).  One thread, started by bgj_submit
 * with the first job that has a time limit or retries, sleeps on timer_cv
 * until the earliest deadline, then cancels the job that reached it or queues
 * the job whose backoff is over.  The list and every job's place in it are
 * guarded by the manager lock (P.lock), which the thread holds except while
 * it sleeps and while it starts workers.
 */
#define _GNU_SOURCE
#include "pool_int.h"

#include <pthread.h>

void bgj_timer_add(bgjob_job *j)
{
    bgj_list_push_front(BGJ_TIMERS, &P.s.timed, j);
    j->timed = 1;
}

void bgj_timer_del(bgjob_job *j)
{
    bgj_list_unlink(BGJ_TIMERS, &P.s.timed, NULL, j);
    j->timed = 0;
}

/* Sleeps until the earliest deadline of the timer list and cancels the job that reaches it. */
void *bgj_timer_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&P.lock);
    for (;;) {
        bgjob_job *first = P.s.timed;
        for (bgjob_job *j = P.s.timed; j; j = BGJ_LINK(j, BGJ_TIMERS).next)
            if (j->side->deadline < first->side->deadline)
                first = j;
        if (!first) {
            pthread_cond_wait(&P.timer_cv, &P.lock);
            continue;
        }
        double left = first->side->deadline - bgj_mono();
        if (left <= 0 && first->retry_wait) {
            bgj_timer_del(first);
            first->retry_wait = 0;
            bgj_flow_ready(first);
            unsigned n = bgj_pool_kick();
            if (n) {
                pthread_mutex_unlock(&P.lock);
                bgj_pool_spawn(n);
                pthread_mutex_lock(&P.lock);
            }
            continue;
        }
        if (left <= 0) {
            bgj_timer_del(first);
            bgj_pool_signal_cancel(first, BGJ_CANCEL_TIMEOUT);
            continue;
        }
        struct timespec dl = bgj_mono_deadline(left);
        pthread_cond_timedwait(&P.timer_cv, &P.lock, &dl);
    }
    return NULL;
}
