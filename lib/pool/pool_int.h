/*
 * pool_int.h - the worker pool's state, shared by pool.c (the run queue,
 * workers, timer thread, cancellation, fork handlers) and pool_query.c
 * (settings, counts, waiting and statistics).  Private to lib/pool/pool*.c.
 *
 * Locking: the state is guarded as pool.c's top comment says: P.lock, the
 * manager lock, guards P.s and the limits; P.cancel_lock, taken after it and
 * never before it, guards the cancel queue and every job's cancel_fd and
 * proc link; nfinished is atomic.
 */
#ifndef BGJ_POOL_INT_H
#define BGJ_POOL_INT_H

#include <pthread.h>
#include <sys/types.h>

#include "jobs.h"

/* Everything a forked child starts afresh: the child zeroes it with one memset. */
struct pool_state {
    bgjob_job *head, *tail;     /* run queue */
    bgjob_job *first_queued;    /* first job of the queue in state Queued */
    _Atomic unsigned npending;  /* jobs counted as running, not yet picked up (spinners read it unlocked) */
    unsigned npending_callback; /* of those, callback jobs: each needs a worker of its own */
    unsigned nqueued;           /* jobs waiting for the running cap */
    unsigned nactive;           /* jobs counted as running: pending or on a worker */
    unsigned nrunning_arith;    /* workers running an arithmetic job: free again within microseconds */
    unsigned nthreads, nsleeping, nspin, tokens;
    unsigned nstarting; /* threads created that have not yet looked for work */
    unsigned nondaemon_running, nondaemon_queued;
    unsigned exit_waiters, armed;
    bgjob_job *timed;      /* timer list: running jobs with a timeout */
    int timer_started;     /* the timer thread exists (or is being started) */
    unsigned want_threads; /* workers the main thread asked the I/O thread for */
    bgjob_job *cancelq;    /* jobs with a cancellation to deliver (cancel_lock; through their RUNQ links) */
};

struct pool_globals {
    pthread_mutex_t lock;        /* the manager lock: taken first */
    pthread_mutex_t cancel_lock; /* taken after the manager lock, never before it */
    pthread_cond_t wake;         /* idle workers sleep here, woken by a token */
    pthread_cond_t drained;      /* bgj_wait_nondaemon sleeps here */
    pthread_cond_t cancel_cv;    /* jobs in bgj_job_sleep, with cancel_lock */
    pthread_cond_t timer_cv;     /* the timer thread */
    struct pool_state s;
    unsigned max_running, max_queued;
    double idle_seconds;
    int efd;
    unsigned generation;
    pid_t owner;
    int initialized;
    _Atomic unsigned long nfinished; /* jobs finished so far (bgj_finished_total) */
};

/* The pool's one instance (pool.c). */
extern struct pool_globals bgj_pool_g;
#define P bgj_pool_g

#endif /* BGJ_POOL_INT_H */
