/*
 * pool_int.h - the worker pool's state, shared by pool.c (the run queue,
 * workers, timer thread, retries, fork handlers), cancel.c (cancellation),
 * flow.c (dependencies), group.c (groups, halt policies) and pool_query.c
 * (settings, counts, waiting and statistics).  Private to lib/pool/.
 *
 * Locking: the state is guarded as pool.c's top comment says: P.lock, the
 * manager lock, guards P.s, the limits, the jobs' workflow links (flow.c)
 * and the groups' state (group.c); P.cancel_lock, taken after it and
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
    unsigned char posted;  /* a finished job was posted to the completion descriptor since the last arm */
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

/* Takes J out of the list L whose first job is *HEAD and last *TAIL (TAIL NULL: a list with no tail pointer). */
static inline void bgj_list_unlink(enum bgj_list l, bgjob_job **head, bgjob_job **tail, bgjob_job *j)
{
    struct bgj_links *k = &BGJ_LINK(j, l);
    if (k->prev)
        BGJ_LINK(k->prev, l).next = k->next;
    else
        *head = k->next;
    if (k->next)
        BGJ_LINK(k->next, l).prev = k->prev;
    else if (tail)
        *tail = k->prev;
    k->prev = k->next = NULL;
}

/* Puts J first in the list L whose first job is *HEAD (a list with no tail pointer). */
static inline void bgj_list_push_front(enum bgj_list l, bgjob_job **head, bgjob_job *j)
{
    BGJ_LINK(j, l).prev = NULL;
    BGJ_LINK(j, l).next = *head;
    if (*head)
        BGJ_LINK(*head, l).prev = j;
    *head = j;
}

/* cancel.c */
char *bgj_cancel_text(const bgjob_job *j, int why, int before_start);
void bgj_pool_cancelq_unlink(bgjob_job *j); /* under cancel_lock */
void bgj_pool_deliver_cancels(void);

/* pool.c's run queue for flow.c and group.c, under P.lock. */
void bgj_pool_enqueue(bgjob_job *j); /* appends a job ready to run (state Queued) */
/* Takes an unstarted job out of wherever it waits (run queue, group, retry timer, Blocked); 1 when it did. */
int bgj_pool_take_out(bgjob_job *j);
/* Asks a running job to stop (any thread; P.lock may be held). */
void bgj_pool_signal_cancel(bgjob_job *j, int why);
/* Lets queued jobs run as the caps allow: wakes workers, returns how many to start (bgj_pool_spawn, unlocked). */
unsigned bgj_pool_kick(void);
void bgj_pool_spawn(unsigned n);

/* timer.c, under P.lock: the timer list (a job's deadline or backoff) and its thread. */
void bgj_timer_add(bgjob_job *j);
void bgj_timer_del(bgjob_job *j);
void *bgj_timer_main(void *unused);

/* flow.c, under P.lock: */
/* Enters a job being submitted: 0 ready to run, 1 Blocked (state set), 2 to end Dead now (`doomed' set). */
int bgj_flow_submit(bgjob_job *j);
/* A job is ready to run: into the run queue, or held for a slot of its group. */
void bgj_flow_ready(bgjob_job *j);
/* JOB ends in STATE: releases its dependents and its group slot, applies the group's halt policy; jobs
   that must now end Dead are pushed on *DOOMED (RUNQ links). */
void bgj_flow_ended(bgjob_job *j, int state, bgjob_job **doomed);
/* group.c, under P.lock: a job being submitted joins its group (non-zero: the group has halted). */
int bgj_group_join(bgjob_job *j);
void bgj_group_unlink_held(bgjob_job *j);
void bgj_group_ended(bgjob_job *j, int state, bgjob_job **doomed);
/* Frees a job's group slot (it stops running, to retry later); lets a held job of the group run. */
void bgj_group_slot_free(bgjob_job *j);
/* True when J's group has halted (it may not retry). */
int bgj_group_halted(const bgjob_job *j);
/* The error text of a doomed job (malloc'd; NULL when out of memory).  Without the lock. */
char *bgj_flow_doom_text(const bgjob_job *j);
/* "attempt N: ERROR" appended to J's attempts (malloc'd).  J's finishing thread, without the lock. */
char *bgj_flow_attempt_line(const bgjob_job *j);
/* The fork child: groups forget the parent's jobs.  No allocation. */
void bgj_group_fork_child(void);

/* The pool's one instance (pool.c). */
extern struct pool_globals bgj_pool_g;
#define P bgj_pool_g

#endif /* BGJ_POOL_INT_H */
