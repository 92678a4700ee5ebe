/*
 * jobs.c - job records, the job table and the worker pool.
 *
 * Ownership and locking:
 * - The table (`slots`) and every job's `seen` flag belong to the main
 *   thread; workers never read them.
 * - `M.lock` guards the run queue, the pool counters, `nondaemon` and the
 *   waiter flags.  It is held for a few instructions only: never while a job
 *   runs, never across a thread creation, never while calling out.  The fork
 *   handlers take it, so a short critical section keeps every fork cheap.
 * - `M.cancel_lock` pairs with `cancel_cv`, on which jobs sleep through the
 *   plugin API's sleep(); `bgj_cancel` broadcasts it.
 * - A worker owns a job's result/error fields from the moment it pops the job
 *   until it publishes a finished state (release store); after that store it
 *   never touches the record, so the main thread may free it.
 *
 * The run queue holds jobs not yet picked up by a worker: first the ones
 * already counted as running (`npending`, each promised a worker), then the
 * ones waiting for the running cap (`nqueued`, state Queued), in order.
 *
 * Waking: a worker that runs out of work spins briefly (one at a time) before
 * it sleeps, so a shell that submits jobs in a loop rarely pays for a futex
 * wake.  A sleeping worker is woken by handing it a token; when no worker is
 * spinning, sleeping or on its way, a new thread is started, up to the cap.
 */
#define _GNU_SOURCE
#include "jobs.h"
#include "clock.h"
#include "info.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

struct slot {
    int64_t id;
    bgjob_job *job;  /* NULL once removed */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* idle workers sleep here, woken by a token */
    pthread_cond_t drained;  /* bgj_wait_nondaemon sleeps here */
    pthread_mutex_t cancel_lock;
    pthread_cond_t cancel_cv;

    bgjob_job *head, *tail, *first_queued;
    _Atomic unsigned npending;  /* written under lock, read by spinners without it */
    unsigned nqueued, nactive;
    unsigned npending_long;  /* pending callback jobs (each needs a worker of its own) */
    unsigned nthreads, nsleeping, nspin, tokens;
    unsigned nstarting;  /* threads created that have not yet looked for work */
    unsigned nshort;     /* workers running an arithmetic job: free again within microseconds */
    unsigned nondaemon, exit_waiters, armed;
    unsigned max_running, max_queued;
    double idle_seconds;
    int efd;

    unsigned generation;
    pid_t owner;
    int initialized;

    /* main thread only */
    struct slot *slots;
    size_t nslots, cap, holes;
    int64_t next_id;
} M = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cancel_lock = PTHREAD_MUTEX_INITIALIZER,
    .efd = -1,
    .max_running = BGJ_DEFAULT_MAX_RUNNING,
    .max_queued = BGJ_DEFAULT_MAX_QUEUED,
    .idle_seconds = BGJ_IDLE_SECONDS,
};

/* How long an idle worker spins before it sleeps, in nanoseconds. */
#define SPIN_NS 60000

static void init_conds(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&M.wake, &ca);
    pthread_cond_init(&M.drained, &ca);
    pthread_cond_init(&M.cancel_cv, &ca);
    pthread_condattr_destroy(&ca);
}

/* An eventfd kept well above the descriptors scripts use (bash moves its own to 10 and up). */
static int make_efd(void)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -1;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 230);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    return fd;
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&M.lock);
    pthread_mutex_lock(&M.cancel_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&M.cancel_lock);
    pthread_mutex_unlock(&M.lock);
}

/*
 * The child has only the forking thread.  Jobs that were queued or running
 * stay in the table with their state; the new generation marks them as the
 * parent's (bgj_orphaned).  No allocation here: only resets and syscalls.
 */
static void fork_child(void)
{
    pthread_mutex_init(&M.lock, NULL);
    pthread_mutex_init(&M.cancel_lock, NULL);
    init_conds();
    M.head = M.tail = M.first_queued = NULL;
    atomic_store(&M.npending, 0);
    M.nqueued = M.nactive = M.npending_long = 0;
    M.nthreads = M.nsleeping = M.nspin = M.tokens = M.nstarting = M.nshort = 0;
    M.nondaemon = M.exit_waiters = M.armed = 0;
    M.generation++;
    M.owner = getpid();
    if (M.efd >= 0)
        close(M.efd);
    M.efd = make_efd();
}

int bgj_init(void)
{
    if (M.initialized)
        return 0;
    init_conds();
    M.efd = make_efd();
    if (M.efd < 0)
        return -1;
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
        close(M.efd);
        M.efd = -1;
        errno = ENOMEM;
        return -1;
    }
    M.owner = getpid();
    M.initialized = 1;
    return 0;
}

void bgj_set_limits(unsigned max_running, unsigned max_queued)
{
    pthread_mutex_lock(&M.lock);
    M.max_running = max_running ? max_running : 1;
    M.max_queued = max_queued;
    pthread_mutex_unlock(&M.lock);
}

void bgj_set_idle_timeout(double seconds)
{
    pthread_mutex_lock(&M.lock);
    M.idle_seconds = seconds > 0 ? seconds : BGJ_IDLE_SECONDS;
    pthread_mutex_unlock(&M.lock);
}

bgjob_job *bgj_job_new(int kind, const char *command, bgj_run_fn run, bgj_release_fn release, void *arg)
{
    size_t len = strlen(command);
    bgjob_job *j = malloc(sizeof *j + len + 1);
    if (!j)
        return NULL;
    memset(j, 0, sizeof *j);
    memcpy(j->command, command, len + 1);
    j->id = -1;
    j->kind = (unsigned char)kind;
    j->run = run;
    j->release = release;
    j->arg = arg;
    return j;
}

void bgj_job_free(bgjob_job *j)
{
    if (!j)
        return;
    if (j->arg && j->release)
        j->release(j->arg);
    free(j->result);
    free(j->error);
    free(j->assignments);
    free(j->messages);
    bgj_info_free(j->info);
    free(j);
}

/* ---- the table (main thread) ---- */

static int table_append(bgjob_job *j)
{
    if (M.nslots == M.cap) {
        size_t ncap = M.cap ? M.cap * 2 : 64;
        struct slot *s = realloc(M.slots, ncap * sizeof *s);
        if (!s)
            return -1;
        M.slots = s;
        M.cap = ncap;
    }
    M.slots[M.nslots].id = j->id;
    M.slots[M.nslots].job = j;
    M.nslots++;
    return 0;
}

static struct slot *table_slot(int64_t id)
{
    size_t lo = 0, hi = M.nslots;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (M.slots[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < M.nslots && M.slots[lo].id == id) ? &M.slots[lo] : NULL;
}

/* Drops removed slots once they are a good part of the table, and gives memory back. */
static void table_compact(int force)
{
    if (M.holes == 0 || (!force && M.holes < 64 + M.nslots / 2))
        return;
    size_t k = 0;
    for (size_t i = 0; i < M.nslots; i++)
        if (M.slots[i].job)
            M.slots[k++] = M.slots[i];
    M.nslots = k;
    M.holes = 0;
    if (M.cap > 64 && M.cap > 4 * M.nslots) {
        size_t ncap = M.nslots < 32 ? 64 : M.nslots * 2;
        struct slot *s = realloc(M.slots, ncap * sizeof *s);
        if (s) {
            M.slots = s;
            M.cap = ncap;
        }
    }
    if (force)
        malloc_trim(0);
}

size_t bgj_count(void) { return M.nslots; }
bgjob_job *bgj_at(size_t i) { return i < M.nslots ? M.slots[i].job : NULL; }
int64_t bgj_next_id(void) { return M.next_id; }

bgjob_job *bgj_find(int64_t id)
{
    struct slot *s = table_slot(id);
    return s ? s->job : NULL;
}

int bgj_remove(int64_t id)
{
    struct slot *s = table_slot(id);
    if (!s || !s->job)
        return -1;
    if (!bgj_finished(bgj_state_of(s->job)))
        return -2;
    bgj_job_free(s->job);
    s->job = NULL;
    M.holes++;
    table_compact(0);
    return 0;
}

void bgj_flush_finished(int only_seen, size_t *ncompleted, size_t *ndead)
{
    for (size_t i = 0; i < M.nslots; i++) {
        bgjob_job *j = M.slots[i].job;
        if (!j)
            continue;
        int s = bgj_state_of(j);
        if (!bgj_finished(s) || (only_seen && !j->seen))
            continue;
        if (s == BGJ_COMPLETED)
            (*ncompleted)++;
        else
            (*ndead)++;
        bgj_job_free(j);
        M.slots[i].job = NULL;
        M.holes++;
    }
    table_compact(1);
}

size_t bgj_unseen(void)
{
    size_t n = 0;
    for (size_t i = 0; i < M.nslots; i++) {
        bgjob_job *j = M.slots[i].job;
        if (j && !j->seen && bgj_finished(bgj_state_of(j)))
            n++;
    }
    return n;
}

void bgj_mark_seen(bgjob_job *j)
{
    if (bgj_finished(bgj_state_of(j)))
        j->seen = 1;
}

int bgj_orphaned(const bgjob_job *j)
{
    return !bgj_finished(bgj_state_of(j)) && j->generation != M.generation;
}

double bgj_progress(const bgjob_job *j)
{
    unsigned p = atomic_load_explicit(&((bgjob_job *)j)->progress, memory_order_relaxed);
    return p ? (p - 1) / 1e6 : -1.0;
}

/* ---- the pool ---- */

static void *worker_main(void *unused);

/* Moves jobs from Queued to Running while the cap allows.  Under M.lock. */
static void promote(void)
{
    while (M.first_queued && M.nactive < M.max_running) {
        bgjob_job *j = M.first_queued;
        atomic_store_explicit(&j->state, BGJ_RUNNING, memory_order_release);
        M.first_queued = j->next;
        M.nqueued--;
        M.nactive++;
        if (j->kind != BGJ_KIND_ARITH)
            M.npending_long++;
        atomic_fetch_add(&M.npending, 1);
    }
}

/*
 * Makes sure every pending job has a worker coming for it.  A callback may
 * run for long, so each pending callback needs a worker of its own; pending
 * arithmetic jobs take microseconds each, so one awake worker is enough for
 * all of them.  Awake workers are the spinners, the woken sleepers, threads
 * still starting, workers busy with an arithmetic job and SELF (a worker about
 * to look for work).  What is missing is woken or returned as threads to
 * start.  This keeps a loop of `bgjob new` from waking or creating a thread
 * whenever it catches the worker mid-job.  Under M.lock.
 */
static unsigned dispatch(unsigned self)
{
    unsigned npend = atomic_load(&M.npending);
    unsigned pending = M.npending_long + (npend > M.npending_long ? 1 : 0);
    unsigned ready = M.nspin + M.tokens + M.nstarting + M.nshort + self;
    unsigned spawn = 0;
    while (pending > ready && M.nsleeping > 0) {
        M.nsleeping--;
        M.tokens++;
        ready++;
        pthread_cond_signal(&M.wake);
    }
    if (pending > ready) {
        spawn = pending - ready;
        M.nthreads += spawn;
        M.nstarting += spawn;
    }
    return spawn;
}

/* Fails every job still in the queue: no worker can be had.  Under M.lock; returns the list. */
static bgjob_job *strand_queue(void)
{
    bgjob_job *list = M.head;
    M.head = M.tail = M.first_queued = NULL;
    M.nactive -= atomic_load(&M.npending);
    atomic_store(&M.npending, 0);
    M.npending_long = 0;
    M.nqueued = 0;
    return list;
}

static void publish(bgjob_job *j, int state, int was_active, int by_worker);

/* Starts N detached workers with every signal blocked.  Called without M.lock. */
static void spawn_workers(unsigned n)
{
    if (n == 0)
        return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, BGJ_WORKER_STACK);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    unsigned failed = 0;
    for (unsigned i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, NULL) != 0)
            failed++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (!failed)
        return;
    bgjob_job *stranded = NULL;
    pthread_mutex_lock(&M.lock);
    M.nthreads -= failed;
    M.nstarting -= failed;
    if (M.nthreads == 0)
        stranded = strand_queue();
    pthread_mutex_unlock(&M.lock);
    while (stranded) {
        bgjob_job *next = stranded->next;
        stranded->error = strdup("could not start a worker thread");
        if (stranded->release && stranded->arg) {
            stranded->release(stranded->arg);
            stranded->arg = NULL;
        }
        stranded->finished = bgj_now();
        publish(stranded, BGJ_DEAD, 0, 0);
        stranded = next;
    }
}

static void notify_efd(void)
{
    uint64_t one = 1;
    ssize_t r = write(M.efd, &one, sizeof one);
    (void)r;
}

/*
 * Publishes a finished job: updates the counters, lets queued jobs run, and
 * wakes waiters.  WAS_ACTIVE says the job held a running slot (it ran on a
 * worker); BY_WORKER says the caller is a worker that will look for more
 * work right after, so it counts as one worker on its way.  After the state
 * store the record belongs to the main thread.
 */
static void publish(bgjob_job *j, int state, int was_active, int by_worker)
{
    int daemon = j->daemon;
    int was_short = by_worker && j->kind == BGJ_KIND_ARITH;
    pthread_mutex_lock(&M.lock);
    if (was_active)
        M.nactive--;
    if (was_short)
        M.nshort--;
    if (!daemon && M.nondaemon > 0)
        M.nondaemon--;
    promote();
    unsigned spawn = dispatch(by_worker);
    atomic_store_explicit(&j->state, state, memory_order_release);
    int notify = M.armed > 0;
    if (M.exit_waiters && M.nondaemon == 0)
        pthread_cond_broadcast(&M.drained);
    pthread_mutex_unlock(&M.lock);
    if (notify)
        notify_efd();
    spawn_workers(spawn);
}

int64_t bgj_submit(bgjob_job *j, int daemon)
{
    if (bgj_init() != 0) {
        bgj_job_free(j);
        return -1;
    }
    j->daemon = daemon ? 1 : 0;
    j->id = M.next_id;
    j->generation = M.generation;
    atomic_store_explicit(&j->state, BGJ_QUEUED, memory_order_relaxed);

    pthread_mutex_lock(&M.lock);
    if (M.nactive >= M.max_running && M.nqueued >= M.max_queued) {
        pthread_mutex_unlock(&M.lock);
        bgj_job_free(j);
        errno = ENOSPC;
        return -1;
    }
    pthread_mutex_unlock(&M.lock);
    if (table_append(j) != 0) {
        bgj_job_free(j);
        errno = ENOMEM;
        return -1;
    }
    M.next_id++;

    pthread_mutex_lock(&M.lock);
    j->next = NULL;
    if (M.tail)
        M.tail->next = j;
    else
        M.head = j;
    M.tail = j;
    if (!M.first_queued)
        M.first_queued = j;
    M.nqueued++;
    if (!j->daemon)
        M.nondaemon++;
    promote();
    unsigned spawn = dispatch(0);
    pthread_mutex_unlock(&M.lock);
    spawn_workers(spawn);
    return j->id;
}

/* Pops the first pending job.  Under M.lock, with npending > 0. */
static bgjob_job *pop_pending(void)
{
    bgjob_job *j = M.head;
    M.head = j->next;
    if (!M.head)
        M.tail = NULL;
    j->next = NULL;
    if (j->kind != BGJ_KIND_ARITH)
        M.npending_long--;
    atomic_fetch_sub(&M.npending, 1);
    return j;
}

static void execute(bgjob_job *j)
{
    bgj_set_started(j, bgj_now());
    int rc = j->run(j, j->arg);
    if (j->release)
        j->release(j->arg);
    j->arg = NULL;
    j->finished = bgj_now();
    int state;
    if (atomic_load(&j->cancel)) {
        free(j->error);
        j->error = strdup("cancelled by bgjob kill");
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
    publish(j, state, 1, 1);
}

/* Spins without the lock until work appears or SPIN_NS pass.  Returns non-zero if work appeared. */
static int spin_for_work(void)
{
    int64_t end = ((int64_t)(bgj_mono() * 1e9)) + SPIN_NS;
    unsigned n = 0;
    while (atomic_load_explicit(&M.npending, memory_order_relaxed) == 0) {
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
#ifdef __linux__
    pthread_setname_np(pthread_self(), "bgjob-worker");
#endif
    int may_spin = 1;
    pthread_mutex_lock(&M.lock);
    M.nstarting--;
    for (;;) {
        if (atomic_load(&M.npending) > 0) {
            bgjob_job *j = pop_pending();
            if (j->kind == BGJ_KIND_ARITH)
                M.nshort++;
            pthread_mutex_unlock(&M.lock);
            execute(j);
            may_spin = 1;
            pthread_mutex_lock(&M.lock);
            continue;
        }
        if (may_spin && M.nspin == 0) {
            M.nspin++;
            pthread_mutex_unlock(&M.lock);
            spin_for_work();
            pthread_mutex_lock(&M.lock);
            M.nspin--;
            may_spin = 0;
            continue;
        }
        M.nsleeping++;
        struct timespec dl = bgj_mono_deadline(M.idle_seconds);
        int rc = 0;
        while (M.tokens == 0 && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&M.wake, &M.lock, &dl);
        if (M.tokens > 0) {
            M.tokens--;  /* whoever handed the token already took us off nsleeping */
            continue;
        }
        M.nsleeping--;
        if (atomic_load(&M.npending) > 0)
            continue;
        M.nthreads--;
        pthread_mutex_unlock(&M.lock);
        return NULL;
    }
}

int bgj_cancel(bgjob_job *j)
{
    if (bgj_finished(bgj_state_of(j)) || bgj_orphaned(j))
        return -1;
    pthread_mutex_lock(&M.lock);
    bgjob_job **pp = &M.head, *prev = NULL;
    while (*pp && *pp != j) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        /* Not picked up yet: take it out of the queue and end it here. */
        *pp = j->next;
        if (M.tail == j)
            M.tail = prev;
        if (M.first_queued == j)
            M.first_queued = j->next;
        if (bgj_state_of(j) == BGJ_QUEUED) {
            M.nqueued--;
        } else {
            atomic_fetch_sub(&M.npending, 1);
            if (j->kind != BGJ_KIND_ARITH)
                M.npending_long--;
            M.nactive--;
        }
        pthread_mutex_unlock(&M.lock);
        j->next = NULL;
        if (j->release && j->arg)
            j->release(j->arg);
        j->arg = NULL;
        j->error = strdup("cancelled by bgjob kill before it started");
        j->finished = bgj_now();
        publish(j, BGJ_DEAD, 0, 0);
        return 0;
    }
    pthread_mutex_unlock(&M.lock);
    atomic_store(&j->cancel, 1);
    pthread_mutex_lock(&M.cancel_lock);
    pthread_cond_broadcast(&M.cancel_cv);
    pthread_mutex_unlock(&M.cancel_lock);
    return 0;
}

int bgj_job_sleep(bgjob_job *j, double seconds)
{
    if (!(seconds > 0))
        return atomic_load(&j->cancel) != 0;
    struct timespec dl = bgj_mono_deadline(seconds);
    pthread_mutex_lock(&M.cancel_lock);
    int rc = 0;
    while (!atomic_load(&j->cancel) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&M.cancel_cv, &M.cancel_lock, &dl);
    pthread_mutex_unlock(&M.cancel_lock);
    return atomic_load(&j->cancel) != 0;
}

unsigned bgj_nondaemon_active(void)
{
    pthread_mutex_lock(&M.lock);
    unsigned n = M.nondaemon;
    pthread_mutex_unlock(&M.lock);
    return n;
}

void bgj_wait_nondaemon(void)
{
    pthread_mutex_lock(&M.lock);
    M.exit_waiters++;
    while (M.nondaemon > 0)
        pthread_cond_wait(&M.drained, &M.lock);
    M.exit_waiters--;
    pthread_mutex_unlock(&M.lock);
}

int bgj_is_owner(void)
{
    return M.initialized && M.owner == getpid();
}

int bgj_wait_arm(void)
{
    pthread_mutex_lock(&M.lock);
    M.armed++;
    int fd = M.efd;
    pthread_mutex_unlock(&M.lock);
    return fd;
}

void bgj_wait_disarm(void)
{
    pthread_mutex_lock(&M.lock);
    if (M.armed > 0)
        M.armed--;
    int fd = M.efd;
    pthread_mutex_unlock(&M.lock);
    uint64_t v;
    if (fd >= 0)
        while (read(fd, &v, sizeof v) > 0)
            ;
}

void bgj_pool_stats(struct bgj_pool_stats *out)
{
    pthread_mutex_lock(&M.lock);
    out->threads = M.nthreads;
    out->idle = M.nsleeping + M.nspin;
    out->active = M.nactive;
    out->queued = M.nqueued;
    pthread_mutex_unlock(&M.lock);
}
