/*
 * jobs.h - the job manager: job records, the job table, the worker pool.
 *
 * Threads: every function here is for the shell's main thread unless its
 * comment says otherwise.  Workers only run jobs and publish their outcome;
 * they never touch the table, so the table needs no lock.  The manager lock
 * guards the run queue and the pool's counters, and is held only for a few
 * instructions at a time, because every fork() of the shell waits for it.
 *
 * A job's `state` is written with release semantics after everything the job
 * produced is in place, and read with acquire semantics, so a reader that sees
 * a finished state may read result/error/assignments without a lock.  After a
 * worker publishes a finished state it never touches the record again.
 */
#ifndef BGJ_JOBS_H
#define BGJ_JOBS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bgjob.h"
#include "clock.h"

enum bgj_state { BGJ_QUEUED, BGJ_RUNNING, BGJ_COMPLETED, BGJ_DEAD };
enum bgj_kind { BGJ_KIND_ARITH, BGJ_KIND_CALLBACK };

/* What a job does on its worker: RUN returns 0 for success.  RELEASE frees ARG afterwards (any thread). */
typedef int (*bgj_run_fn)(bgjob_job *job, void *arg);
typedef void (*bgj_release_fn)(void *arg);

struct bgjob_job {
    int64_t id;
    struct bgjob_job *next;  /* run queue link, under the manager lock */
    char *result;            /* written by the worker while running */
    char *error;
    char *assignments;       /* arithmetic jobs: eval-able declare statements */
    char *messages;          /* arithmetic jobs: lines bash would have printed while carrying on */
    struct bgj_info *info;   /* extra fields set by the callback (info.h; under its own lock) */
    bgj_run_fn run;
    bgj_release_fn release;
    void *arg;
    double started;          /* CLOCK_REALTIME seconds; 0 before start; see bgj_started_of */
    double finished;
    unsigned generation;     /* manager generation (fork count) when created */
    _Atomic int state;
    _Atomic int cancel;
    _Atomic unsigned progress; /* 0 = none reported, else 1 + permille*1000 (fraction * 1e6) */
    unsigned char kind;
    unsigned char daemon;
    unsigned char seen;      /* the user has been shown its outcome */
    char command[];          /* display form (an arithmetic job's expression) */
};

/* Limits the manager enforces; changed through bgj_set_limits. */
#define BGJ_DEFAULT_MAX_RUNNING 64
#define BGJ_DEFAULT_MAX_QUEUED 100000
#define BGJ_WORKER_STACK (1024 * 1024)
#define BGJ_IDLE_SECONDS 5

/* Sets up the manager once per process; later calls do nothing.  Returns 0, or -1 with errno. */
int bgj_init(void);

/* Sets the running-job and queued-job caps used by later submissions. */
void bgj_set_limits(unsigned max_running, unsigned max_queued);
/* Sets how long an idle worker waits for work before it exits (default BGJ_IDLE_SECONDS). */
void bgj_set_idle_timeout(double seconds);

/*
 * Creates a job record with a copy of COMMAND; RUN(job, ARG) will run on a
 * worker and RELEASE(ARG) free it.  Does not number or start it.  NULL when
 * out of memory (ARG is then left to the caller).
 */
bgjob_job *bgj_job_new(int kind, const char *command, bgj_run_fn run, bgj_release_fn release, void *arg);

/*
 * Numbers JOB, enters it in the table and starts it (or queues it behind the
 * running cap).  Returns its id, or -1 when the queue cap is reached (ENOSPC)
 * or memory runs out (ENOMEM); the job is then freed, ARG released.
 */
int64_t bgj_submit(bgjob_job *job, int daemon);

/*
 * An arithmetic job (arith_job.c): evaluates EXPR (also its command) against
 * VARS; takes ownership of VARS (freed on failure).  NULL when out of memory.
 */
struct bgj_vars;
bgjob_job *bgj_arith_job(const char *expr, struct bgj_vars *vars);

/* Frees a record that was never submitted, or a finished job removed from the table. */
void bgj_job_free(bgjob_job *job);

/* Table access (main thread): jobs in id order. */
size_t bgj_count(void);
bgjob_job *bgj_at(size_t i);          /* NULL for a removed slot */
bgjob_job *bgj_find(int64_t id);      /* NULL when unknown or removed */
int bgj_remove(int64_t id);           /* 0, or -1 unknown, -2 not finished */
int64_t bgj_next_id(void);
/*
 * Deletes every finished job (with ONLY_SEEN, only those marked seen, so a
 * job that finishes while a flush runs is never lost unseen), counting them,
 * and gives the memory back.
 */
void bgj_flush_finished(int only_seen, size_t *ncompleted, size_t *ndead);

static inline int bgj_state_of(const bgjob_job *j)
{
    return atomic_load_explicit(&((bgjob_job *)j)->state, memory_order_acquire);
}
/* `started' is stored once by the worker (release) and may be read at any time (acquire). */
static inline void bgj_set_started(bgjob_job *j, double t)
{
    __atomic_store(&j->started, &t, __ATOMIC_RELEASE);
}
static inline double bgj_started_of(const bgjob_job *j)
{
    double t;
    __atomic_load(&((bgjob_job *)j)->started, &t, __ATOMIC_ACQUIRE);
    return t;
}
static inline int bgj_finished(int state) { return state == BGJ_COMPLETED || state == BGJ_DEAD; }

/* True when JOB was queued or running in the process this one was forked from. */
int bgj_orphaned(const bgjob_job *job);

/* Progress as a fraction in [0,1], or a negative value when none was reported. */
double bgj_progress(const bgjob_job *job);

/*
 * Asks JOB to stop.  A queued job (not yet picked up by a worker) ends Dead at
 * once; a running one sees the request through cancelled()/sleep().  Returns
 * 0, or -1 when the job is already finished or belongs to the parent process.
 */
int bgj_cancel(bgjob_job *job);

/* Number of finished jobs not yet marked seen; marking is the caller's (main thread). */
size_t bgj_unseen(void);
void bgj_mark_seen(bgjob_job *job);

/* Number of unfinished non-daemon jobs owned by this process. */
unsigned bgj_nondaemon_active(void);
/* Blocks until no non-daemon job owned by this process is unfinished. */
void bgj_wait_nondaemon(void);
/* True in the process whose threads run the jobs (not a forked child that has started none). */
int bgj_is_owner(void);

/*
 * Completion notification for the main thread's interruptible wait: while
 * armed, every job that finishes makes the returned descriptor readable.
 * bgj_wait_arm returns the descriptor (or -1); bgj_wait_disarm drains it.
 */
int bgj_wait_arm(void);
void bgj_wait_disarm(void);

/* Pool figures for diagnostics and tests. */
struct bgj_pool_stats {
    unsigned threads, idle, active, queued;
};
void bgj_pool_stats(struct bgj_pool_stats *out);


#endif /* BGJ_JOBS_H */
