/*
 * cancel.c - delivering a cancellation (kill, timeout, exit, halt) to a
 * running job: its reason, the wake-up of bgj_job_sleep, the cancel
 * descriptor and the command (through the I/O thread's cancel queue), the
 * error text of a cancelled job, and the cancellation of every job at exit.
 *
 * Locking: P.cancel_lock (taken after P.lock, never before it) guards every
 * job's cancel_fd and proc link and the cancel queue; see pool.c's top
 * comment for the whole order.
 */
#include "pool_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdutil.h"
#include "loop.h"

/* The error text of a job cancelled for WHY (before it started, or while running). */
char *bgj_cancel_text(const bgjob_job *j, int why, int before_start)
{
    char buf[96];
    switch (why) {
    case BGJ_CANCEL_TIMEOUT:
        snprintf(buf, sizeof buf, "timed out after %g seconds", bgj_timeout_of(j));
        break;
    case BGJ_CANCEL_HALT:
        snprintf(buf, sizeof buf, "halted: group %s stopped its jobs", bgj_group_name(bgj_group_of(j)));
        break;
    case BGJ_CANCEL_EXIT:
        snprintf(buf, sizeof buf, "cancelled at shell exit%s", before_start ? " before it started" : "");
        break;
    default:
        snprintf(buf, sizeof buf, "cancelled by bgjob kill%s", before_start ? " before it started" : "");
        break;
    }
    return strdup(buf);
}

/*
 * Records WHY as JOB's cancel reason (the first one sticks) and wakes the job
 * wherever it waits: bgj_job_sleep and its cancel descriptor.  Any thread; the
 * manager lock may be held.
 */
void bgj_pool_signal_cancel(bgjob_job *j, int why)
{
    unsigned char expected = 0;
    atomic_compare_exchange_strong(&j->cancel, &expected, (unsigned char)why);
    pthread_mutex_lock(&P.cancel_lock);
    pthread_cond_broadcast(&P.cancel_cv);
    int ring = (bgj_cancel_fd_of(j) >= 0 || bgj_proc_of(j)) && !j->cancel_queued;
    if (ring) {
        bgj_list_push_front(BGJ_RUNQ, &P.s.cancelq, j);
        j->cancel_queued = 1;
    }
    pthread_mutex_unlock(&P.cancel_lock);
    if (ring)
        bgj_loop_wake();
}

/* Takes J off the cancel queue.  Under cancel_lock. */
void bgj_pool_cancelq_unlink(bgjob_job *j)
{
    if (!j->cancel_queued)
        return;
    bgj_list_unlink(BGJ_RUNQ, &P.s.cancelq, NULL, j);
    j->cancel_queued = 0;
}

void bgj_job_set_proc(bgjob_job *j, void *proc)
{
    pthread_mutex_lock(&P.cancel_lock);
    j->side->proc = proc; /* a callback job's: it has a side record */
    int ring = proc && atomic_load(&j->cancel) && !j->cancel_queued;
    pthread_mutex_unlock(&P.cancel_lock);
    if (ring)
        bgj_pool_signal_cancel(j, atomic_load(&j->cancel));
}

/* Delivers queued cancellations: the cancel descriptor, and the command through bgj_job_proc_cancel.  Loop thread. */
void bgj_pool_deliver_cancels(void)
{
    for (;;) {
        void *procs[32];
        int np = 0;
        pthread_mutex_lock(&P.cancel_lock);
        while (P.s.cancelq && np < 32) {
            bgjob_job *j = P.s.cancelq;
            bgj_pool_cancelq_unlink(j);
            if (bgj_cancel_fd_of(j) >= 0)
                bgj_efd_post(j->side->cancel_fd);
            if (bgj_proc_of(j))
                procs[np++] = j->side->proc; /* only this thread frees it */
        }
        int more = P.s.cancelq != NULL;
        pthread_mutex_unlock(&P.cancel_lock);
        for (int i = 0; i < np; i++)
            if (bgj_job_proc_cancel)
                bgj_job_proc_cancel(procs[i]);
        if (!more)
            break;
    }
}

int bgj_job_cancel_fd(bgjob_job *j)
{
    struct bgj_job_side *sd = j->side; /* a callback job has one */
    if (!sd)
        return -1;
    pthread_mutex_lock(&P.cancel_lock);
    if (sd->cancel_fd < 0) {
        sd->cancel_fd = bgj_efd_new();
        if (sd->cancel_fd >= 0 && atomic_load(&j->cancel))
            bgj_efd_post(sd->cancel_fd);
    }
    int fd = sd->cancel_fd;
    pthread_mutex_unlock(&P.cancel_lock);
    return fd;
}

int bgj_job_sleep(bgjob_job *j, double seconds)
{
    if (!(seconds > 0))
        return atomic_load(&j->cancel) != 0;
    struct timespec dl = bgj_mono_deadline(seconds);
    pthread_mutex_lock(&P.cancel_lock);
    int rc = 0;
    while (!atomic_load(&j->cancel) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&P.cancel_cv, &P.cancel_lock, &dl);
    pthread_mutex_unlock(&P.cancel_lock);
    return atomic_load(&j->cancel) != 0;
}

void bgj_cancel_daemons(void)
{
    if (!bgj_is_owner())
        return;
    size_t n = bgj_count();
    for (size_t i = 0; i < n; i++) {
        bgjob_job *j = bgj_at(i);
        if (j && j->daemon && !bgj_finished(bgj_state_of(j)) && !bgj_orphaned(j))
            bgj_cancel_why(j, BGJ_CANCEL_EXIT);
    }
}

void bgj_cancel_all(int why)
{
    if (!bgj_is_owner())
        return;
    size_t n = bgj_count();
    for (size_t i = 0; i < n; i++) {
        bgjob_job *j = bgj_at(i);
        if (j && !bgj_finished(bgj_state_of(j)) && !bgj_orphaned(j))
            bgj_cancel_why(j, why);
    }
}
