/*
 * pool_query.c - the worker pool's settings and what the main thread asks of
 * it: the limits and the idle timeout, the generation and owner checks, the
 * non-daemon counts and the exit wait, the completion eventfd for `bgjob
 * wait', the finished total and the statistics.  The pool itself (run
 * queue, workers, timer thread, cancellation, fork handlers) is pool.c.
 *
 * Locking: the shared state is the pool's one instance P (pool_int.h,
 * defined in pool.c).  Every function here takes the manager lock P.lock
 * for a few instructions, calling nothing out (bgj_wait_nondaemon sleeps on
 * P.drained, which releases it), or reads fields that need no lock (the
 * atomic nfinished; initialized, generation and owner, written only at init
 * and in the fork child; the limits, which bgj_set_limits compares without
 * it, as only the main thread writes them); none takes P.cancel_lock.
 */
#include "loop.h"
#include "pool_int.h"

#include <stdint.h>
#include <unistd.h>

void bgj_set_limits(unsigned max_running, unsigned max_queued)
{
    /* `new' calls this each time: nothing to do when nothing changes (only this thread sets them; the
       copies keep it off the pool's cache lines, which the workers write). */
    static unsigned last_running = BGJ_DEFAULT_MAX_RUNNING, last_queued = BGJ_DEFAULT_MAX_QUEUED;
    max_running = max_running ? max_running : 1;
    if (last_running == max_running && last_queued == max_queued)
        return;
    last_running = max_running;
    last_queued = max_queued;
    pthread_mutex_lock(&P.lock);
    P.max_running = max_running ? max_running : 1;
    P.max_queued = max_queued;
    pthread_mutex_unlock(&P.lock);
}

void bgj_set_idle_timeout(double seconds)
{
    pthread_mutex_lock(&P.lock);
    P.idle_seconds = seconds > 0 ? seconds : BGJ_IDLE_SECONDS;
    pthread_cond_broadcast(&P.wake); /* sleeping workers re-read it */
    pthread_mutex_unlock(&P.lock);
}

int bgj_orphaned(const bgjob_job *j)
{
    return !bgj_finished(bgj_state_of(j)) && j->generation != P.generation;
}

int bgj_mine(const bgjob_job *j) { return j->generation == P.generation; }

void bgj_nondaemon_counts(unsigned *running, unsigned *queued)
{
    pthread_mutex_lock(&P.lock);
    *running = P.s.nondaemon_running;
    *queued = P.s.nondaemon_queued;
    pthread_mutex_unlock(&P.lock);
}

unsigned bgj_nondaemon_active(void)
{
    unsigned r, q;
    bgj_nondaemon_counts(&r, &q);
    return r + q;
}

void bgj_wait_nondaemon(void)
{
    pthread_mutex_lock(&P.lock);
    P.s.exit_waiters++;
    while (P.s.nondaemon_running + P.s.nondaemon_queued > 0)
        pthread_cond_wait(&P.drained, &P.lock);
    P.s.exit_waiters--;
    pthread_mutex_unlock(&P.lock);
}

int bgj_is_owner(void) { return P.initialized && P.owner == getpid(); }

unsigned long bgj_finished_total(void) { return atomic_load_explicit(&P.nfinished, memory_order_acquire); }

int bgj_notify_fd(void)
{
    pthread_mutex_lock(&P.lock);
    int fd = P.efd;
    pthread_mutex_unlock(&P.lock);
    return fd;
}

int bgj_wait_arm(void)
{
    pthread_mutex_lock(&P.lock);
    P.s.armed++;
    P.s.posted = 0; /* the descriptor was drained by the last disarm */
    int fd = P.efd;
    pthread_mutex_unlock(&P.lock);
    return fd;
}

void bgj_wait_disarm(void)
{
    pthread_mutex_lock(&P.lock);
    if (P.s.armed > 0)
        P.s.armed--;
    int fd = P.efd;
    pthread_mutex_unlock(&P.lock);
    uint64_t v;
    if (fd >= 0)
        while (read(fd, &v, sizeof v) > 0)
            ;
}

void bgj_pool_stats(struct bgj_pool_stats *out)
{
    pthread_mutex_lock(&P.lock);
    out->threads = P.s.nthreads;
    out->idle = P.s.nsleeping + P.s.nspin;
    out->active = P.s.nactive;
    out->queued = P.s.nqueued;
    out->timer = (unsigned)P.s.timer_started;
    pthread_mutex_unlock(&P.lock);
    out->io = (unsigned)bgj_loop_running();
}
