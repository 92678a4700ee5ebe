/*
 * pool.c - the worker pool: the run queue, the workers, the timer thread,
 * cancellation (kill, timeout, exit, halt; its delivery to a running job is
 * cancel.c), retries, the exit accounting, the fork handlers and the
 * completion eventfd.  Dependencies are flow.c, groups and halts group.c:
 * both run under the manager lock, called from here.
 *
 * Locks, in this order (a thread holding the cancel lock never takes the
 * manager lock):
 * 1. P.lock, the manager lock, guards P.s (run queue, counters, timer list,
 *    waiter flags) and the limits.  It is held for a few instructions only:
 *    never while a job runs, never across a thread creation, never while
 *    calling out.  The fork handlers take it, so a short critical section
 *    keeps every fork cheap.
 * 2. P.cancel_lock pairs with cancel_cv, on which jobs sleep through the
 *    plugin API's sleep(), and guards every job's cancel_fd and proc link
 *    and the cancel queue.  A canceller sets the job's `cancel` reason, then
 *    under this lock broadcasts and, when the job has a cancel descriptor or
 *    a command running, queues the job for the I/O thread (loop.c) and rings
 *    its doorbell: the cancel descriptor lives in bgjob's own descriptor
 *    table, where only bgjob's threads can write it.  The I/O thread writes
 *    it, and stops the command, on its next round.  The worker creates and
 *    closes that descriptor under this lock, and takes the job off the
 *    cancel queue before the job ends.
 *
 * A worker owns a job's result/error fields from the moment it pops the job
 * until it publishes a finished state (release store); after that store it
 * never touches the record, so the main thread may free it.  The timer thread
 * touches a job only under P.lock while it is in the timer list, which
 * publish() leaves before the store.
 *
 * The run queue (doubly linked through the jobs, so a cancel unlinks in O(1))
 * holds jobs not yet picked up by a worker: first the ones already counted as
 * running (`npending`, each promised a worker), then the ones waiting for the
 * running cap (`nqueued`, state Queued, from `first_queued` on), in order.
 *
 * Threads: every worker is created from a thread that works in bgjob's own
 * descriptor table (the I/O thread, or another worker), so all of them
 * share that table; the main thread asks the I/O thread for them.
 *
 * Asynchronous jobs: a job whose run function hands it to the I/O thread
 * (bgj_job_go_async: a command) keeps its running slot but no worker; the
 * I/O thread ends it with bgj_job_finish (see async_drop for who publishes).
 *
 * Waking: a worker that runs out of work spins briefly (one at a time) before
 * it sleeps, so a shell that submits jobs in a loop rarely pays for a futex
 * wake.  A sleeping worker is woken by handing it a token; when no worker is
 * spinning, sleeping or on its way, a new thread is started, up to the cap.
 *
 * Timeouts: a job with a timeout enters the timer list when a worker picks it
 * up (its deadline counts from then).  One timer thread (timer.c), started
 * with the first timed job (or job with retries), sleeps until the earliest
 * deadline of that list and cancels the job it reaches.  Jobs without a
 * timeout never touch it.
 *
 * Ending a job (publish): under the manager lock the thread that ends it
 * releases its dependents and its group slot, and applies its group's halt
 * policy (flow.c, group.c); the jobs that must end Dead without running (a
 * failed dependency, a halt) come back as a list, which publish ends in
 * turn, so a failure runs down a chain without recursion.  A job that ends
 * Dead by itself with retries left is not published: retry_later gives back
 * its running slot and puts it in the timer list, whose thread queues it
 * again when its backoff is over.  Blocked jobs and jobs waiting to retry
 * count as queued for the exit wait, and hold no slot and no thread.
 *
 * The state P is declared in pool_int.h; pool_query.c holds the settings
 * and the read side (counts, the exit wait, the completion eventfd for
 * `bgjob wait', statistics), under the same locks.
 */
#define _GNU_SOURCE
#include "pool_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fdutil.h"
#include "joblog.h"
#include "loop.h"

/* The state and its locks: see pool_int.h. */
struct pool_globals bgj_pool_g = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cancel_lock = PTHREAD_MUTEX_INITIALIZER,
    .efd = -1,
    .max_running = BGJ_DEFAULT_MAX_RUNNING,
    .max_queued = BGJ_DEFAULT_MAX_QUEUED,
    .idle_seconds = BGJ_IDLE_SECONDS,
};

/* How long an idle worker spins before it sleeps, in nanoseconds. */
#define SPIN_NS 60000

void (*bgj_job_proc_cancel)(void *proc);

static void init_conds(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&P.wake, &ca);
    pthread_cond_init(&P.drained, &ca);
    pthread_cond_init(&P.cancel_cv, &ca);
    pthread_cond_init(&P.timer_cv, &ca);
    pthread_condattr_destroy(&ca);
}

#define make_efd bgj_efd_new
#define efd_post bgj_efd_post

static void pool_wake(void);

static void fork_prepare(void)
{
    pthread_mutex_lock(&P.lock);
    pthread_mutex_lock(&P.cancel_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&P.cancel_lock);
    pthread_mutex_unlock(&P.lock);
}

/*
 * The child has only the forking thread.  Jobs that were queued or running
 * stay in the table with their state; the new generation marks them as the
 * parent's (bgj_orphaned).  No allocation here: only resets and syscalls.
 */
static void fork_child(void)
{
    pthread_mutex_init(&P.lock, NULL);
    pthread_mutex_init(&P.cancel_lock, NULL);
    init_conds();
    memset(&P.s, 0, sizeof P.s);
    P.generation++;
    P.owner = getpid();
    if (P.efd >= 0)
        close(P.efd);
    P.efd = make_efd();
    bgj_group_fork_child();
    bgj_loop_fork_child();
}

int bgj_init(void)
{
    if (P.initialized)
        return 0;
    init_conds();
    P.efd = make_efd();
    if (P.efd < 0)
        return BGJ_ESYS;
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
        close(P.efd);
        P.efd = -1;
        return BGJ_ENOMEM;
    }
    P.owner = getpid();
    P.initialized = 1;
    bgj_loop_hook(pool_wake, NULL);
    return 0;
}

/* ---- the run queue and the timer list (under P.lock) ---- */

static void queue_append(bgjob_job *j)
{
    j->link[BGJ_RUNQ].prev = P.s.tail;
    j->link[BGJ_RUNQ].next = NULL;
    if (P.s.tail)
        P.s.tail->link[BGJ_RUNQ].next = j;
    else
        P.s.head = j;
    P.s.tail = j;
    if (!P.s.first_queued)
        P.s.first_queued = j;
    j->in_queue = 1;
}

void bgj_pool_enqueue(bgjob_job *j)
{
    queue_append(j);
    P.s.nqueued++;
}

static void queue_unlink(bgjob_job *j)
{
    if (P.s.first_queued == j)
        P.s.first_queued = j->link[BGJ_RUNQ].next;
    bgj_list_unlink(BGJ_RUNQ, &P.s.head, &P.s.tail, j);
    j->in_queue = 0;
}

/* Moves jobs from Queued to Running while the cap allows. */
static void promote(void)
{
    while (P.s.first_queued && P.s.nactive < P.max_running) {
        bgjob_job *j = P.s.first_queued;
        atomic_store_explicit(&j->state, BGJ_RUNNING, memory_order_release);
        P.s.first_queued = j->link[BGJ_RUNQ].next;
        P.s.nqueued--;
        P.s.nactive++;
        if (!j->daemon) {
            P.s.nondaemon_queued--;
            P.s.nondaemon_running++;
        }
        if (j->kind != BGJ_KIND_ARITH)
            P.s.npending_callback++;
        atomic_fetch_add(&P.s.npending, 1);
    }
}

/* Pops the first pending job (npending > 0). */
static bgjob_job *pop_pending(void)
{
    bgjob_job *j = P.s.head;
    queue_unlink(j);
    if (j->kind != BGJ_KIND_ARITH)
        P.s.npending_callback--;
    atomic_fetch_sub(&P.s.npending, 1);
    return j;
}

/*
 * Makes sure every pending job has a worker coming for it.  A callback may
 * run for long, so each pending callback needs a worker of its own; pending
 * arithmetic jobs take microseconds each, so one awake worker is enough for
 * all of them.  Awake workers are the spinners, the woken sleepers, threads
 * still starting, workers busy with an arithmetic job and SELF (a worker about
 * to look for work).  What is missing is woken or returned as threads to
 * start.  This keeps a loop of `bgjob new` from waking or creating a thread
 * whenever it catches the worker mid-job.
 */
static unsigned dispatch(unsigned self)
{
    unsigned npend = atomic_load(&P.s.npending);
    unsigned pending = P.s.npending_callback + (npend > P.s.npending_callback ? 1 : 0);
    unsigned ready = P.s.nspin + P.s.tokens + P.s.nstarting + P.s.nrunning_arith + self;
    unsigned spawn = 0;
    while (pending > ready && P.s.nsleeping > 0) {
        P.s.nsleeping--;
        P.s.tokens++;
        ready++;
        pthread_cond_signal(&P.wake);
    }
    if (pending > ready) {
        spawn = pending - ready;
        P.s.nthreads += spawn;
        P.s.nstarting += spawn;
    }
    return spawn;
}

/* Empties the queue (no worker can be had) and returns its jobs, still linked through their run queue links. */
static bgjob_job *strand_queue(void)
{
    bgjob_job *list = P.s.head;
    for (bgjob_job *j = list; j; j = j->link[BGJ_RUNQ].next)
        j->in_queue = 0;
    P.s.head = P.s.tail = P.s.first_queued = NULL;
    P.s.nactive -= atomic_load(&P.s.npending);
    atomic_store(&P.s.npending, 0);
    P.s.npending_callback = 0;
    P.s.nqueued = 0;
    return list;
}

/* ---- threads ---- */

static void *worker_main(void *unused);
static void publish(bgjob_job *j, int state, int was_active, int by_worker);

/*
 * Starts N workers, or FAILED of them could not be started: when no worker
 * is left at all, the queued jobs end Dead.  Without P.lock, on a thread of
 * bgjob's table.
 */
static void start_workers(unsigned n, unsigned failed)
{
    for (unsigned i = 0; i < n; i++)
        if (bgj_thread_start(worker_main, NULL, "bgjob-worker") != 0)
            failed++;
    if (!failed)
        return;
    bgjob_job *stranded = NULL;
    pthread_mutex_lock(&P.lock);
    P.s.nthreads -= failed;
    P.s.nstarting -= failed;
    if (P.s.nthreads == 0)
        stranded = strand_queue();
    pthread_mutex_unlock(&P.lock);
    while (stranded) {
        bgjob_job *next = stranded->link[BGJ_RUNQ].next;
        stranded->link[BGJ_RUNQ].prev = stranded->link[BGJ_RUNQ].next = NULL;
        stranded->error = strdup(bgj_strerror(BGJ_ETHREAD));
        if (stranded->release && stranded->arg) {
            stranded->release(stranded->arg);
            stranded->arg = NULL;
        }
        stranded->finished = bgj_now();
        publish(stranded, BGJ_DEAD, 0, 0);
        stranded = next;
    }
}

/*
 * Starts N workers (counted already in nthreads/nstarting).  The main thread
 * (or the timer thread) works in the shell's descriptor table: it asks the
 * I/O thread, which creates them in bgjob's.  Without P.lock.
 */
static void spawn_workers(unsigned n)
{
    if (n == 0)
        return;
    if (bgj_loop_here()) {
        start_workers(n, 0);
        return;
    }
    pthread_mutex_lock(&P.lock);
    P.s.want_threads += n;
    pthread_mutex_unlock(&P.lock);
    if (bgj_loop_start() != 0) {
        pthread_mutex_lock(&P.lock);
        unsigned lost = P.s.want_threads;
        P.s.want_threads = 0;
        pthread_mutex_unlock(&P.lock);
        start_workers(0, lost);
        return;
    }
    bgj_loop_wake();
}

/*
 * Publishes a finished job: updates the counters, lets queued jobs run, and
 * wakes waiters.  WAS_ACTIVE says the job held a running slot (it ran on a
 * worker); BY_WORKER says the caller is a worker that will look for more
 * work right after, so it counts as one worker on its way.  After the state
 * store the record belongs to the main thread.
 */
static void publish_one(bgjob_job *j, int state, int was_active, int by_worker, bgjob_job **doomed)
{
    bgj_joblog_ended(j, state); /* its log line, while the record is still the ending thread's */
    pthread_mutex_lock(&P.lock);
    if (was_active)
        P.s.nactive--;
    if (by_worker && j->kind == BGJ_KIND_ARITH)
        P.s.nrunning_arith--;
    if (!j->daemon) {
        if (bgj_state_of(j) == BGJ_RUNNING)
            P.s.nondaemon_running--;
        else
            P.s.nondaemon_queued--; /* Queued, Blocked or waiting to retry */
    }
    if (j->timed)
        bgj_timer_del(j);
    bgj_flow_ended(j, state, doomed);
    promote();
    unsigned spawn = dispatch(by_worker);
    atomic_store_explicit(&j->state, state, memory_order_release);
    atomic_fetch_add_explicit(&P.nfinished, 1, memory_order_release);
    /* one post per armed wait: the waiter looks at every job once it wakes */
    int notify = P.s.armed > 0 && !P.s.posted;
    if (notify)
        P.s.posted = 1;
    if (P.s.exit_waiters && P.s.nondaemon_running + P.s.nondaemon_queued == 0)
        pthread_cond_broadcast(&P.drained);
    pthread_mutex_unlock(&P.lock);
    if (notify)
        efd_post(P.efd);
    spawn_workers(spawn);
}

/* Ends J, which never ran (or waits to retry), Dead for its `doomed' reason; more doomed jobs go on *DOOMED. */
static void end_unstarted(bgjob_job *j, bgjob_job **doomed)
{
    if (j->release && j->arg)
        j->release(j->arg);
    j->arg = NULL;
    if (j->doomed == BGJ_DOOM_CANCEL)
        j->error = bgj_cancel_text(j, atomic_load(&j->cancel), bgj_attempt_of(j) <= 1);
    else
        j->error = bgj_flow_doom_text(j);
    j->finished = bgj_now();
    publish_one(j, BGJ_DEAD, 0, 0, doomed);
}

/* Ends the doomed jobs of the list DOOMED (dependents of a failed job, a halted group's jobs), in turn. */
static void publish_doomed(bgjob_job *doomed)
{
    while (doomed) {
        bgjob_job *d = doomed;
        doomed = d->link[BGJ_RUNQ].next;
        d->link[BGJ_RUNQ].next = NULL;
        end_unstarted(d, &doomed);
    }
}

/* publish_one, then the end of every job it doomed. */
static void publish(bgjob_job *j, int state, int was_active, int by_worker)
{
    bgjob_job *doomed = NULL;
    publish_one(j, state, was_active, by_worker, &doomed);
    publish_doomed(doomed);
}

unsigned bgj_pool_kick(void)
{
    promote();
    return dispatch(0);
}

void bgj_pool_spawn(unsigned n) { spawn_workers(n); }

/*
 * The pool's part of every I/O thread round: starts the workers the main
 * thread asked for, and delivers queued cancellations (the cancel
 * descriptor; the command, through bgj_job_proc_cancel).  Loop thread.
 */
static void pool_wake(void)
{
    pthread_mutex_lock(&P.lock);
    unsigned n = P.s.want_threads;
    P.s.want_threads = 0;
    pthread_mutex_unlock(&P.lock);
    if (n)
        start_workers(n, 0);
    bgj_pool_deliver_cancels();
}

/* Ends a job that ran (on a worker or the I/O thread) with its run function's RC; BY_WORKER: see publish. */
static int retry_later(bgjob_job *j, int by_worker);

static void finish(bgjob_job *j, int rc, int by_worker)
{
    int why = atomic_load(&j->cancel);
    pthread_mutex_lock(&P.cancel_lock);
    struct bgj_job_side *sd = j->side;
    if (sd) {
        if (sd->cancel_fd >= 0)
            close(sd->cancel_fd);
        sd->cancel_fd = -1;
        sd->proc = NULL;
    }
    bgj_pool_cancelq_unlink(j);
    pthread_mutex_unlock(&P.cancel_lock);
    int state;
    if (why) {
        /* A callback that said why it stopped (a command's signal) keeps its words. */
        if (!j->error)
            j->error = bgj_cancel_text(j, why, 0);
        state = BGJ_DEAD;
    } else if (rc != 0) {
        if (!j->error) {
            char buf[64];
            snprintf(buf, sizeof buf, "failed with status %d", rc);
            j->error = strdup(buf);
        }
        state = BGJ_DEAD;
    } else {
        if (!j->result)
            j->result = strdup("");
        state = BGJ_COMPLETED;
    }
    if (state == BGJ_DEAD && bgj_retries_of(j) && (why == 0 || why == BGJ_CANCEL_TIMEOUT) &&
        retry_later(j, by_worker))
        return;
    if (j->release)
        j->release(j->arg);
    j->arg = NULL;
    j->finished = bgj_now();
    publish(j, state, 1, by_worker);
}

/*
 * J ended Dead by itself with retries left: it gives back its running slot
 * and waits in the timer list for its next attempt (the timer thread queues
 * it again).  0 when it may not retry after all: a kill or halt came, its
 * group halted, or memory ran out.  Its finishing thread.
 */
static int retry_later(bgjob_job *j, int by_worker)
{
    char *line = bgj_flow_attempt_line(j);
    if (!line)
        return 0;
    unsigned seed = (unsigned)(bgj_mono() * 1e9) ^ (unsigned)j->id;
    struct bgj_job_side *sd = j->side; /* it has one: it has retries */
    double wait = sd->backoff * (0.8 + 0.4 * rand_r(&seed) / (double)RAND_MAX);
    bgj_job_unjoin(j); /* (the worker's fields until it publishes) */
    char *owned[] = {j->error, j->result, j->assignments, j->messages};
    pthread_mutex_lock(&P.lock);
    int why = atomic_load(&j->cancel);
    if ((why && why != BGJ_CANCEL_TIMEOUT) || bgj_group_halted(j)) {
        pthread_mutex_unlock(&P.lock);
        free(line);
        return 0;
    }
    unsigned char was = (unsigned char)why;
    atomic_compare_exchange_strong(&j->cancel, &was, 0);
    char *old = sd->attempts;
    sd->attempts = line;
    j->error = j->result = j->assignments = j->messages = NULL;
    P.s.nactive--;
    if (by_worker && j->kind == BGJ_KIND_ARITH)
        P.s.nrunning_arith--;
    if (!j->daemon) {
        P.s.nondaemon_running--;
        P.s.nondaemon_queued++;
    }
    if (j->timed)
        bgj_timer_del(j);
    bgj_group_slot_free(j);
    sd->retries--;
    sd->attempt++;
    sd->backoff = sd->backoff * 2 < BGJ_BACKOFF_MAX ? sd->backoff * 2 : BGJ_BACKOFF_MAX;
    sd->deadline = bgj_mono() + wait;
    j->retry_wait = 1;
    bgj_timer_add(j);
    pthread_cond_signal(&P.timer_cv);
    atomic_store_explicit(&j->state, BGJ_QUEUED, memory_order_release);
    promote();
    unsigned spawn = dispatch(by_worker);
    pthread_mutex_unlock(&P.lock);
    free(old);
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        free(owned[i]);
    spawn_workers(spawn);
    return 1;
}

/* Set by bgj_job_go_async on the worker whose run function hands its job on. */
static __thread int tl_went_async;

/*
 * An asynchronous job ends when both its run function has returned and the
 * I/O thread has called bgj_job_finish, in either order: each side drops one
 * of the two references, and the second one ends it.  So neither touches the
 * record after the other may have published it.
 */
static void async_drop(bgjob_job *j, int by_worker)
{
    if (atomic_fetch_sub(&j->async_refs, 1) == 1)
        finish(j, j->side->async_rc, by_worker); /* a callback job's: it has a side record */
}

/* Runs J; returns non-zero when J went on elsewhere (a command on the I/O thread). */
static int execute(bgjob_job *j)
{
    bgj_set_started(j, bgj_now());
    tl_went_async = 0;
    /* a kill that came as it went to wait for a retry */
    int rc = bgj_attempt_of(j) > 1 && atomic_load(&j->cancel) ? 1 : j->run(j, j->arg);
    if (tl_went_async) {
        tl_went_async = 0;
        async_drop(j, 1); /* the worker is free now; the job goes on */
        return 1;
    }
    finish(j, rc, 1);
    return 0;
}

void bgj_job_go_async(bgjob_job *j)
{
    atomic_store(&j->async_refs, 2);
    tl_went_async = 1;
}

void bgj_job_go_sync(bgjob_job *j)
{
    atomic_store(&j->async_refs, 0);
    tl_went_async = 0;
}

void bgj_job_finish(bgjob_job *j, int rc)
{
    j->side->async_rc = rc;
    async_drop(j, 0);
}

/* Spins without the lock until work appears or SPIN_NS pass.  Returns non-zero if work appeared. */
static int spin_for_work(void)
{
    int64_t end = ((int64_t)(bgj_mono() * 1e9)) + SPIN_NS;
    unsigned n = 0;
    while (atomic_load_explicit(&P.s.npending, memory_order_relaxed) == 0) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if ((++n & 63) == 0 && ((int64_t)(bgj_mono() * 1e9)) > end)
            return 0;
    }
    return 1;
}

static void *worker_main(void *unused)
{
    (void)unused;
    bgj_loop_enter_thread();
    int may_spin = 1;
    pthread_mutex_lock(&P.lock);
    P.s.nstarting--;
    for (;;) {
        if (atomic_load(&P.s.npending) > 0) {
            bgjob_job *j = pop_pending();
            if (j->kind == BGJ_KIND_ARITH)
                P.s.nrunning_arith++;
            if (bgj_timeout_of(j) > 0) {
                j->side->deadline = bgj_mono() + j->side->timeout;
                bgj_timer_add(j);
                pthread_cond_signal(&P.timer_cv);
            }
            pthread_mutex_unlock(&P.lock);
            /* after handing a command on, spinning would only take the CPU the I/O thread needs */
            may_spin = !execute(j);
            pthread_mutex_lock(&P.lock);
            continue;
        }
        if (may_spin && P.s.nspin == 0) {
            P.s.nspin++;
            pthread_mutex_unlock(&P.lock);
            spin_for_work();
            pthread_mutex_lock(&P.lock);
            P.s.nspin--;
            may_spin = 0;
            continue;
        }
        /* Sleeps until handed a token or idle for idle_seconds (re-read when it changes). */
        P.s.nsleeping++;
        double since = bgj_mono();
        while (P.s.tokens == 0) {
            double left = since + P.idle_seconds - bgj_mono();
            if (left <= 0)
                break;
            struct timespec dl = bgj_mono_deadline(left);
            pthread_cond_timedwait(&P.wake, &P.lock, &dl);
        }
        if (P.s.tokens > 0) {
            P.s.tokens--; /* whoever handed the token already took us off nsleeping */
            continue;
        }
        P.s.nsleeping--;
        if (atomic_load(&P.s.npending) > 0)
            continue;
        P.s.nthreads--;
        pthread_mutex_unlock(&P.lock);
        return NULL;
    }
}

int64_t bgj_submit(bgjob_job *j, int daemon)
{
    int rc = bgj_init();
    if (rc != 0) {
        bgj_job_free(j);
        return rc;
    }
    j->daemon = daemon ? 1 : 0;
    j->generation = P.generation;
    atomic_store_explicit(&j->state, BGJ_QUEUED, memory_order_relaxed);

    /* One critical section in the usual case: the table's room is made first, so entering the job
       (under the lock, a few stores) cannot fail; only a first timed job starts a thread. */
    if (bgj_table_reserve() != 0) {
        bgj_job_free(j);
        return BGJ_ENOMEM;
    }
    pthread_mutex_lock(&P.lock);
    int full = P.s.nactive >= P.max_running && P.s.nqueued >= P.max_queued;
    int start_timer = !full && (bgj_timeout_of(j) > 0 || bgj_retries_of(j)) && !P.s.timer_started;
    if (start_timer || full) {
        P.s.timer_started |= start_timer; /* only the main thread starts it */
        pthread_mutex_unlock(&P.lock);
        rc = full ? BGJ_EFULL : bgj_thread_start(bgj_timer_main, NULL, "bgjob-timer") != 0 ? BGJ_ETHREAD : 0;
        pthread_mutex_lock(&P.lock);
        if (rc != 0) {
            P.s.timer_started &= !start_timer;
            pthread_mutex_unlock(&P.lock);
            bgj_job_free(j);
            return rc;
        }
    }
    bgj_table_add(j); /* cannot fail after bgj_table_reserve */
    if (!j->daemon)
        P.s.nondaemon_queued++;
    int64_t id = j->id;
    int how = bgj_flow_submit(j);
    if (how == 0)
        bgj_flow_ready(j);
    promote();
    unsigned spawn = dispatch(0);
    pthread_mutex_unlock(&P.lock);
    spawn_workers(spawn);
    if (how == 2) {
        j->link[BGJ_RUNQ].next = NULL;
        publish_doomed(j);
    }
    return id;
}

int bgj_pool_take_out(bgjob_job *j)
{
    if (j->doomed)
        return 0; /* already on its way out */
    if (j->in_queue) {
        queue_unlink(j);
        if (bgj_state_of(j) == BGJ_QUEUED) {
            P.s.nqueued--;
        } else {
            atomic_fetch_sub(&P.s.npending, 1);
            if (j->kind != BGJ_KIND_ARITH)
                P.s.npending_callback--;
            P.s.nactive--;
        }
        return 1;
    }
    if (j->held) {
        bgj_group_unlink_held(j);
        return 1;
    }
    if (j->retry_wait) {
        bgj_timer_del(j);
        j->retry_wait = 0;
        return 1;
    }
    return bgj_state_of(j) == BGJ_BLOCKED;
}

int bgj_cancel_why(bgjob_job *j, int why)
{
    if (bgj_finished(bgj_state_of(j)))
        return BGJ_EFINISHED;
    if (bgj_orphaned(j))
        return BGJ_EPARENT;
    pthread_mutex_lock(&P.lock);
    if (bgj_pool_take_out(j)) {
        /* Not picked up yet (queued, held, Blocked or waiting to retry): it ends here. */
        j->doomed = BGJ_DOOM_CANCEL;
        unsigned char expected = 0;
        atomic_compare_exchange_strong(&j->cancel, &expected, (unsigned char)why);
        unsigned spawn = bgj_pool_kick();
        pthread_mutex_unlock(&P.lock);
        spawn_workers(spawn);
        j->link[BGJ_RUNQ].next = NULL;
        publish_doomed(j);
        return 0;
    }
    int doomed = j->doomed;
    pthread_mutex_unlock(&P.lock);
    if (!doomed)
        bgj_pool_signal_cancel(j, why);
    return 0;
}

int bgj_cancel(bgjob_job *j) { return bgj_cancel_why(j, BGJ_CANCEL_KILL); }
