/*
 * jobs.h - the job manager: job records (job.c; their heap prefaulted by
 * prefault.c), the job table (table.c),
 * the worker pool (pool.c, cancel.c, pool_query.c) and workflows
 * (dependencies: flow.c; groups and halt policies: group.c).
 *
 * Threads: every function here is for the shell's main thread unless its
 * comment says otherwise.  Workers only run jobs and publish their outcome;
 * they never touch the table, so the table needs no lock.  The pool's locks
 * are private to pool.c and pool_query.c (pool_int.h; pool.c's top comment
 * gives their order and rules).
 *
 * A job's `state` is written with release semantics after everything the job
 * produced is in place, and read with acquire semantics, so a reader that sees
 * a finished state may read result/error/assignments without a lock.  After a
 * worker publishes a finished state it never touches the record again.
 *
 * Errors follow errors.h: 0 or a negative BGJ_E* code.
 */
#ifndef BGJ_JOBS_H
#define BGJ_JOBS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bgjob.h"
#include "clock.h"
#include "errors.h"

/* Blocked: waiting for the jobs it depends on (new -a/-A); it holds no running slot (flow.c). */
enum bgj_state { BGJ_QUEUED, BGJ_RUNNING, BGJ_COMPLETED, BGJ_DEAD, BGJ_BLOCKED };
enum bgj_kind { BGJ_KIND_ARITH, BGJ_KIND_CALLBACK };
/* Why a job was asked to stop (its `cancel` field; 0: it was not). */
enum bgj_cancel_reason {
    BGJ_CANCEL_KILL = 1,
    BGJ_CANCEL_TIMEOUT = 2,
    BGJ_CANCEL_EXIT = 3,
    BGJ_CANCEL_HALT = 4
};

/* What a job does on its worker: RUN returns 0 for success.  RELEASE frees ARG afterwards (any thread). */
typedef int (*bgj_run_fn)(bgjob_job *job, void *arg);
typedef void (*bgj_release_fn)(void *arg);

/* The manager's doubly linked lists of jobs, and a job's links in one of them. */
enum bgj_list { BGJ_RUNQ, BGJ_TIMERS, BGJ_MEMBERS };
struct bgj_flow;
struct bgj_group;
struct bgj_links {
    struct bgjob_job *prev, *next;
};
/*
 * What a plain arithmetic job does not need, so that the many such jobs a
 * loop makes stay small: a job's side record.  A callback job has it always,
 * in the same block as its record (bgj_job_new); another job gets it when an
 * option asks for it (bgj_job_side, main thread, before submission).  Read
 * through the bgj_*_of accessors below, which give the default without one.
 */
struct bgj_job_side {
    struct bgj_links link[2]; /* [BGJ_TIMERS - 1], [BGJ_MEMBERS - 1] */
    /* Options: set before submission, then as the fields of the record they replace. */
    double timeout;          /* seconds from the start, or 0 */
    double deadline;         /* CLOCK_MONOTONIC seconds, once a timed job runs; manager lock */
    double backoff;          /* the wait before the next retry (new -R, doubling) */
    struct bgj_group *group; /* new -g NAME, or NULL */
    char *handler;           /* new -c FUNC: completion handler's name, or NULL; main thread only */
    struct bgj_rec *rec;     /* argv, directory and resume key for records (record.h), or NULL */
    char *attempts;          /* one line per failed attempt that was retried, or NULL */
    unsigned retries;        /* retries left (new -r) */
    unsigned attempt;        /* the attempt running or last run, from 1 (0: the first) */
    /* Callback jobs. */
    struct bgj_info *info; /* extra fields set by the callback (info.h; under its own lock) */
    void *proc;    /* the command the I/O thread runs for it (proc.h), or NULL; under the cancel lock */
    int cancel_fd; /* bgj_job_cancel_fd's eventfd (bgjob's table), or -1; under the cancel lock */
    int async_rc;  /* the status bgj_job_finish gave */
    _Atomic unsigned progress; /* 0 = none reported, else 1 + permille*1000 (fraction * 1e6) */
};
/* Job J's links in the list L (for BGJ_TIMERS and BGJ_MEMBERS the job has its side record). */
#define BGJ_LINK(j, l) (*((l) == BGJ_RUNQ ? &(j)->link[0] : &(j)->side->link[(l)-1]))

struct bgjob_job {
    int64_t id;
    /* What a look over many jobs reads (wait, status): together at the start, in one cache line. */
    _Atomic int state;
    unsigned generation; /* manager generation (fork count) when created */
    unsigned char kind;
    unsigned char daemon;
    unsigned char seen;               /* the user has been shown its outcome */
    unsigned char waited;             /* a `wait' has returned its outcome (main thread) */
    _Atomic unsigned char cancel;     /* 0, or the first enum bgj_cancel_reason asked for */
    unsigned char in_queue;           /* linked in the run queue; manager lock */
    unsigned char timed;              /* linked in the timer list; manager lock */
    _Atomic unsigned char ext_queued; /* running, but waiting outside bgjob (api->set_queued): shown Queued */
    /* Under the manager lock, through BGJ_LINK: [BGJ_RUNQ] here: run queue (or a group's held jobs);
       in the side record, [BGJ_TIMERS]: timer list (running jobs with a timeout, jobs waiting to
       retry), [BGJ_MEMBERS]: its group's unfinished jobs. */
    struct bgj_links link[1];
    struct bgj_job_side *side; /* see struct bgj_job_side: NULL for a plain arithmetic job */
    char *result;              /* written by the worker while running */
    char *error;
    char *assignments; /* arithmetic jobs: eval-able declare statements */
    char *messages;    /* arithmetic jobs: lines bash would have printed while carrying on */
    bgj_run_fn run;
    bgj_release_fn release;
    void *arg;
    double started; /* CLOCK_REALTIME seconds; 0 before start; see bgj_started_of */
    double finished;
    /* Workflows (flow.c): set before submission, then under the manager lock. */
    struct bgj_flow *flow; /* its dependencies and dependents, or NULL */
    _Atomic unsigned char
        async_refs; /* handed to the I/O thread: 2 until its run function and the I/O thread are done */
    unsigned char retry_wait; /* waiting in the timer list for its next attempt */
    unsigned char held;       /* waiting (RUNQ links) for a slot of its group */
    unsigned char gslot;      /* holds one of its group's running slots */
    unsigned char doomed;     /* an enum bgj_doom: ends Dead without running (being published) */
    unsigned char
        cancel_queued; /* on the pool's cancel queue (RUNQ links, unused while running); cancel lock */
    unsigned char
        out_joined; /* `assignments' lies in `result''s block (an arithmetic job's): freed with it */
    unsigned char side_inline; /* `side' lies in the record's block (a callback job's) */
    char command[];            /* display form (an arithmetic job's expression) */
};

/* A job's side record, made if it has none (main thread, before submission).  NULL: out of memory. */
struct bgj_job_side *bgj_job_side(bgjob_job *job);

/* The side record's fields, or their defaults for a job without one.  Any thread, as the field allows. */
static inline double bgj_timeout_of(const bgjob_job *j) { return j->side ? j->side->timeout : 0; }
static inline struct bgj_group *bgj_group_of(const bgjob_job *j) { return j->side ? j->side->group : NULL; }
static inline const char *bgj_handler_of(const bgjob_job *j) { return j->side ? j->side->handler : NULL; }
static inline struct bgj_rec *bgj_rec_of(const bgjob_job *j) { return j->side ? j->side->rec : NULL; }
static inline const char *bgj_attempts_of(const bgjob_job *j) { return j->side ? j->side->attempts : NULL; }
static inline unsigned bgj_retries_of(const bgjob_job *j) { return j->side ? j->side->retries : 0; }
static inline unsigned bgj_attempt_of(const bgjob_job *j)
{
    return j->side && j->side->attempt ? j->side->attempt : 1;
}
static inline int bgj_cancel_fd_of(const bgjob_job *j) { return j->side ? j->side->cancel_fd : -1; }
static inline void *bgj_proc_of(const bgjob_job *j) { return j->side ? j->side->proc : NULL; }
/* For reading a job's extra fields (info.h): a job without a side record has none. */
static inline struct bgj_info **bgj_info_of(const bgjob_job *j)
{
    static struct bgj_info *none;
    return j->side ? &j->side->info : &none;
}

/* Why a job that never ran (or waits to retry) ends Dead (its `doomed' field). */
enum bgj_doom { BGJ_DOOM_DEP = 1, BGJ_DOOM_HALT = 2, BGJ_DOOM_CANCEL = 3 };

/* Limits the manager enforces; changed through bgj_set_limits. */
#define BGJ_DEFAULT_MAX_RUNNING 64
#define BGJ_DEFAULT_MAX_QUEUED  100000
#define BGJ_WORKER_STACK        (1024 * 1024)
#define BGJ_IDLE_SECONDS        5

/* ---- job records (job.c) ---- */

/*
 * Creates a job record with a copy of COMMAND; RUN(job, ARG) will run on a
 * worker and RELEASE(ARG) free it.  Does not number or start it.  NULL when
 * out of memory (ARG is then left to the caller).
 */
bgjob_job *bgj_job_new(int kind, const char *command, bgj_run_fn run, bgj_release_fn release, void *arg);

/* Makes the pages the main thread's heap has grown by present in one system call (prefault.c). */
void bgj_heap_prefault(void);

/* Frees a record that was never submitted, or a finished job removed from the table. */
void bgj_job_free(bgjob_job *job);
/* Before its result is freed: forgets assignments kept in the same block (out_joined). */
void bgj_job_unjoin(bgjob_job *job);

/*
 * Gives JOB a time limit of SECONDS (> 0), counted from the moment it starts
 * running on a worker (time spent queued does not count).  At expiry it is
 * cancelled as by bgj_cancel and ends Dead, "timed out after S seconds".
 * Call before bgj_submit.  bgj_job_timeout returns it (0: none); any thread.
 */
int bgj_job_set_timeout(bgjob_job *job, double seconds); /* 0 or BGJ_ENOMEM */
double bgj_job_timeout(const bgjob_job *job);

/*
 * An arithmetic job (arith_job.c): evaluates EXPR (also its command) against
 * VARS; takes ownership of VARS (freed on failure).  NULL when out of memory.
 */
struct bgj_vars;
bgjob_job *bgj_arith_job(const char *expr, struct bgj_vars *vars);
/* Frees the snapshots of the arithmetic jobs that have ended, which their workers hand back to the
   main thread (arith_job.c; creating a job and flushing do it too).  Main thread. */
void bgj_arith_reap(void);

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
/* The state shown to the user: a running job that waits outside bgjob (api->set_queued) is Queued. */
static inline int bgj_shown_state(const bgjob_job *j)
{
    int s = bgj_state_of(j);
    return s == BGJ_RUNNING && atomic_load_explicit(&((bgjob_job *)j)->ext_queued, memory_order_relaxed)
               ? BGJ_QUEUED
               : s;
}
static inline int bgj_finished(int state) { return state == BGJ_COMPLETED || state == BGJ_DEAD; }

/* Progress as a fraction in [0,1], or a negative value when none was reported.  Any thread. */
double bgj_progress(const bgjob_job *job);

/* ---- the job table (table.c; main thread, no lock) ---- */

/* Jobs in id order. */
size_t bgj_count(void);
bgjob_job *bgj_at(size_t i);     /* NULL for a removed slot */
bgjob_job *bgj_find(int64_t id); /* NULL when unknown or removed */
/* Deletes a finished job: 0, or BGJ_ENOJOB, BGJ_EQUEUED, BGJ_ERUNNING, BGJ_EBLOCKED, BGJ_ENEEDED (a Blocked job needs it). */
int bgj_remove(int64_t id);
int64_t bgj_next_id(void);
/* How many jobs have been deleted so far: while it is unchanged, a job pointer taken from the table is valid. */
unsigned long bgj_removals(void);
/*
 * Deletes every finished job not needed by a Blocked job (with ONLY_SEEN, only those marked seen, so a
 * job that finishes while a flush runs is never lost unseen), counting them,
 * and gives the memory back.
 */
void bgj_flush_finished(int only_seen, size_t *ncompleted, size_t *ndead);

/* Number of finished jobs not yet marked seen; marking is the caller's. */
size_t bgj_unseen(void);
void bgj_mark_seen(bgjob_job *job);
/* Marks a finished job as returned by a wait: `wait -n' without IDs passes over it. */
void bgj_mark_waited(bgjob_job *job);
/* True when a wait has returned JOB's outcome: marked, or numbered below the mark that follows. */
int bgj_waited(const bgjob_job *job);
/* Marks every job numbered below END as waited, in one step; each of this process's jobs below END must
   have finished (a parent's jobs, never waited for here, are passed over by `wait' anyway). */
void bgj_mark_waited_below(int64_t end);
int64_t bgj_waited_below(void); /* that mark: 0 until the first such wait */
/* The index in the table of job ID, or of the first job numbered above it (bgj_count() when none). */
size_t bgj_index_of(int64_t id);

/* For bgj_submit: numbers JOB and appends it.  0 or BGJ_ENOMEM (nothing changed). */
int bgj_table_add(bgjob_job *job);
/* Makes room for one more job: bgj_table_add cannot fail after it (until another add).  0 or BGJ_ENOMEM. */
int bgj_table_reserve(void);

/* ---- the worker pool (pool.c, pool_query.c) ---- */

/* Sets up the manager once per process; later calls do nothing.  0, or BGJ_ESYS / BGJ_ENOMEM. */
int bgj_init(void);

/* Sets the running-job and queued-job caps used by later submissions. */
void bgj_set_limits(unsigned max_running, unsigned max_queued);
/* Sets how long an idle worker waits for work before it exits (default BGJ_IDLE_SECONDS), also for workers already idle. */
void bgj_set_idle_timeout(double seconds);

/*
 * Numbers JOB, enters it in the table and starts it (or queues it behind the
 * running cap).  Returns its id (>= 0), or BGJ_EFULL when the queue cap is
 * reached, BGJ_ENOMEM, or BGJ_ETHREAD (its timer could not start); the job is
 * then freed, ARG released, and no number used up.
 */
int64_t bgj_submit(bgjob_job *job, int daemon);

/* True when JOB was queued or running in the process this one was forked from. */
int bgj_orphaned(const bgjob_job *job);
/* Non-zero when JOB was created by this process (not inherited at a fork). */
int bgj_mine(const bgjob_job *job);

/*
 * Asks JOB to stop.  A queued job (not yet picked up by a worker) ends Dead at
 * once; a running one sees the request through cancelled()/sleep() and its
 * cancel descriptor.  Returns 0, BGJ_EFINISHED or BGJ_EPARENT (it belongs to
 * the process this one was forked from).  O(1).
 */
int bgj_cancel(bgjob_job *job);
/* The same with a reason (enum bgj_cancel_reason); the first reason given sticks. */
int bgj_cancel_why(bgjob_job *job, int reason);

/*
 * For JOB's callback, on its worker: an eventfd that becomes readable once the
 * job is cancelled (kill, timeout, exit), for callbacks that block in poll().
 * Created on the first call (close-on-exec, in bgjob's descriptor table),
 * closed by the pool when the job ends.  -1 when it cannot be created.  The
 * I/O thread writes it when a cancellation comes.
 */
int bgj_job_cancel_fd(bgjob_job *job);

/*
 * For a run function: the job goes on on the I/O thread (a command), which
 * ends it with bgj_job_finish(JOB, RC) (RC as the run function would have
 * returned).  The job keeps its running slot, but the worker is free as soon
 * as the run function returns.
 */
void bgj_job_go_async(bgjob_job *job);
/* Undoes bgj_job_go_async when the hand-over failed (the run function returns its status itself). */
void bgj_job_go_sync(bgjob_job *job);
void bgj_job_finish(bgjob_job *job, int rc);
/*
 * Links JOB to the command PROC the I/O thread runs for it (NULL: unlinks),
 * so that a cancellation reaches the command: the pool calls
 * bgj_job_proc_cancel(PROC) on the I/O thread.  A cancellation that came
 * before the link is delivered at once.
 */
void bgj_job_set_proc(bgjob_job *job, void *proc);
extern void (*bgj_job_proc_cancel)(void *proc);

/*
 * Sleeps SECONDS on JOB's worker, waking at once if the job is cancelled.
 * Returns 0 after the full time, non-zero when cancelled.  Worker thread.
 */
int bgj_job_sleep(bgjob_job *job, double seconds);

/* Number of unfinished non-daemon jobs owned by this process, and split by state. */
unsigned bgj_nondaemon_active(void);
void bgj_nondaemon_counts(unsigned *running, unsigned *queued);
/* Blocks until no non-daemon job owned by this process is unfinished. */
void bgj_wait_nondaemon(void);
/* Cancels (BGJ_CANCEL_EXIT) every unfinished daemon job owned by this process. */
void bgj_cancel_daemons(void);
/* Cancels (WHY) every unfinished job owned by this process. */
void bgj_cancel_all(int why);
/* True in the process whose threads run the jobs (not a forked child that has started none). */
int bgj_is_owner(void);

/*
 * Completion notification for the main thread's interruptible wait: while
 * armed, every job that finishes makes the returned descriptor readable.
 * bgj_wait_arm returns the descriptor (or -1); bgj_wait_disarm drains it.
 */
int bgj_wait_arm(void);
/* The completion descriptor itself (made before bgjob's own table splits off, so every thread can write it). */
int bgj_notify_fd(void);
void bgj_wait_disarm(void);

/*
 * How many jobs have finished in this process so far (also jobs killed while
 * queued).  Increases after each job's finished state is published, so a
 * caller that reads it before looking at the jobs may skip the next look
 * while it is unchanged.  Any thread.
 */
unsigned long bgj_finished_total(void);

/* Pool figures for diagnostics and tests (timer, io: 1 while the timer thread, the I/O thread exists). */
struct bgj_pool_stats {
    unsigned threads, idle, active, queued, timer, io;
};
void bgj_pool_stats(struct bgj_pool_stats *out);

/* ---- workflows: dependencies, retries, groups, halt (flow.c, group.c) ---- */

/*
 * Makes JOB (not yet submitted) wait for DEP, a job of this process's table:
 * with ANY until DEP has ended, else until it has Completed (if DEP ends
 * Dead, JOB ends Dead too, "dependency N failed").  Main thread, before
 * bgj_submit.  0, BGJ_ENOMEM, or BGJ_EPARENT (DEP is inherited unfinished).
 */
int bgj_job_add_dep(bgjob_job *job, bgjob_job *dep, int any);
/* Up to N more attempts when JOB ends Dead by itself, the first after BACKOFF seconds (doubling up to 60, +-20%). */
int bgj_job_set_retries(bgjob_job *job, unsigned n, double backoff); /* 0 or BGJ_ENOMEM */
#define BGJ_BACKOFF_MAX 60.0

/* What `show' gives of a job's workflow (main thread): malloc'd strings, "" when none; NULL when out of memory. */
char *bgj_job_deps(const bgjob_job *job, int any); /* the ids of its -a (ANY: -A) jobs */
char *bgj_job_waiting_for(const bgjob_job *job);   /* the ids of those not yet ended */
/* Its -a and -A jobs, in the order given: how many, and the K-th's id.  No lock: they are fixed at
   submission, and the record is freed only on the main thread (also for the thread that ends it). */
size_t bgj_job_ndeps(const bgjob_job *job);
int64_t bgj_job_dep_id(const bgjob_job *job, size_t k);
char *bgj_job_attempts(const bgjob_job *job); /* its failed attempts, one line each */
unsigned bgj_job_attempt(const bgjob_job *job,
                         unsigned *retries_left); /* the attempt running or last run (from 1) */
/* True while a Blocked job needs JOB (bgj_remove refuses it). */
int bgj_job_needed(const bgjob_job *job);
/* Before a finished JOB is freed: forgets it in the jobs it depends on and in its dependents. */
void bgj_flow_forget(bgjob_job *job);

/* Halt policies (`group NAME -h'): none, or when to halt and how. */
struct bgj_halt {
    unsigned char when;    /* 0: never, 1: soon, 2: now */
    unsigned char success; /* count successes rather than failures */
    unsigned char percent; /* COUNT is a percentage of the group's jobs */
    unsigned count;
};
/* Parses POLICY ("soon,fail=N", "now,success=N%"...; "never"): 0 or BGJ_EINVAL.  Any thread. */
int bgj_halt_parse(const char *policy, struct bgj_halt *out);
/* The policy's spelling into BUF. */
void bgj_halt_format(const struct bgj_halt *h, char *buf, size_t len);

/* Groups live as long as the process.  Main thread. */
struct bgj_group *bgj_group_find(const char *name, int create); /* NULL: unknown (or out of memory) */
/* Sets the limit (0: none) and the halt policy (NULL: unchanged; a new policy also clears a halt). */
void bgj_group_set(struct bgj_group *g, int limit, const struct bgj_halt *halt);
size_t bgj_group_count(void);
struct bgj_group *bgj_group_at(size_t i);
struct bgj_group_info {
    const char *name;
    unsigned limit, running, queued, blocked, completed, dead, halted;
    struct bgj_halt halt;
};
void bgj_group_info(const struct bgj_group *g, struct bgj_group_info *out);
const char *bgj_group_name(const struct bgj_group *g);

#endif /* BGJ_JOBS_H */
