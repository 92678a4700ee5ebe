/*
 * bgjob.h - the public plugin API of bgjob.
 *
 * A plugin is a shared object that bgjob loads with `bgjob load PATH`.  bash
 * loads bgjob without RTLD_GLOBAL, so a plugin cannot link against bgjob's
 * symbols; everything it may call reaches it through the function table
 * passed to its init function.  A plugin exports exactly two symbols:
 *
 *     BGJOB_PLUGIN_VERSION;                     (the API version it was built for)
 *     BGJOB_EXPORT int bgjob_plugin_init(const struct bgjob_api *api);
 *
 * The init function runs on the shell's main thread and registers callbacks
 * with api->register_callback.  It returns 0 on success; any other value makes
 * `bgjob load` fail and undo the registrations it made.
 *
 * A callback runs on a worker thread, with every signal blocked, and receives
 * its own copies of the arguments.  It must not call into bash, must not call
 * exit(), and must not fork or run programs itself (bash's SIGCHLD handler
 * reaps every child of the process and drops the statuses it does not know):
 * api->spawn (version 2) runs a program the safe way.  It reports through its
 * job handle: set_result, fail, progress, set_info, and learns that it was
 * cancelled from cancelled(), sleep(), or (version 3) a descriptor to poll,
 * cancel_fd().  (Version 4) a callback that waits for something outside
 * bgjob, such as a batch system's queue, shows it with set_queued().
 *
 * Descriptors: workers share a descriptor table of bgjob's own, apart from
 * the shell's (bash closes some descriptor numbers twice, which must never
 * hit a callback's file).  0, 1 and 2 there are /dev/null.  What a callback
 * opens stays out of the shell and out of its subshells; close it before
 * returning.
 *
 * Relative paths: a job's relative paths mean the shell's directory when
 * `bgjob new` created it, not the shell's directory when the job runs
 * (version 3: dirfd() and open()).
 *
 * Versioning: the table only ever grows.  A plugin may use every member that
 * existed in its BGJOB_API_VERSION; `size` tells how large the caller's table
 * is.  bgjob loads plugins built for any version from 1 up to its own.
 *
 * This header is C89 and C++ compatible and depends only on <stddef.h>.
 */
#ifndef BGJOB_H
#define BGJOB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BGJOB_API_VERSION 4

#if defined(__GNUC__)
#define BGJOB_EXPORT __attribute__((visibility("default")))
#else
#define BGJOB_EXPORT
#endif

/* Declares the version symbol that `bgjob load` checks before calling init. */
#define BGJOB_PLUGIN_VERSION BGJOB_EXPORT const unsigned int bgjob_plugin_api_version = BGJOB_API_VERSION

/* The running job, as seen by its callback.  Valid only during the call. */
typedef struct bgjob_job bgjob_job;

/*
 * A callback.  ARGV[0] is the callback's name and ARGV[1..ARGC-1] the words
 * the user gave after it; ARGV[ARGC] is NULL.  PAYLOAD is the pointer given at
 * registration.  Return 0 for success (the result is what set_result stored,
 * or the empty string) and non-zero for failure (the traceback is the message
 * given to fail(), or a generic one naming the return value).
 */
typedef int (*bgjob_callback)(bgjob_job *job, int argc, char **argv, void *payload);

/*
 * (Version 2.)  An argument checker, run by `bgjob new` on the shell's main
 * thread before the job is created, with the ARGC/ARGV the callback would get.
 * Return 0 to accept them.  Otherwise write a one-line message (no newline)
 * into MSG (MSGLEN bytes, always at least 256) and return non-zero: `new`
 * prints the message and the callback's usage, returns status 2, and creates
 * no job.  It must be quick and must not block; it may not call the api
 * functions that take a job.
 */
typedef int (*bgjob_check)(int argc, char **argv, void *payload, char *msg, size_t msglen);

/*
 * (Version 2.)  A program for api->spawn.  Zero-initialise it, set `size' to
 * sizeof(struct bgjob_spawn_req) (version 3), then set what differs from the
 * defaults.  The struct only grows: bgjob reads as much of it as `size' (or,
 * for a plugin built for version 2, the version-2 part) says.
 */
struct bgjob_spawn_req {
    /* argv[0] is a path (with a '/') or a name looked up in the PATH of the
       environment the program gets.  NULL-terminated. */
    const char *const *argv;
    /* Environment "NAME=value" strings, NULL-terminated; NULL: the job's own
       (the shell's exported variables when the job was created). */
    const char *const *envp;
    /* Working directory (relative: to the job's directory); NULL: the shell's when the job was created. */
    const char *cwd;
    /* Descriptors for the program's 0, 1, 2; BGJOB_SPAWN_DEFAULT (0 in a
       zeroed request) means /dev/null for stdin and "capture" for stdout and
       stderr.  The caller keeps ownership of descriptors it passes. */
    int stdin_fd, stdout_fd, stderr_fd;
    /* Cap in bytes on each captured stream; 0: the job's BGJOB_MAX_OUTPUT. */
    size_t max_output;
    /* ---- version 3 ---- */
    size_t size; /* sizeof(struct bgjob_spawn_req) as the plugin was built */
};
#define BGJOB_SPAWN_DEFAULT 0
#define BGJOB_SPAWN_FD(fd)  ((fd) + 1) /* pass descriptor FD (stored as FD+1) */

/*
 * (Version 2.)  What api->spawn reports.  Free with api->spawn_free.
 * Zero-initialise it and set `size' (version 3); bgjob writes only as much
 * of it as the plugin knows.
 */
struct bgjob_spawn_res {
    int exit_status;     /* 0..255 when the program exited, else -1 */
    int term_signal;     /* the signal that killed it, else 0 */
    int output_exceeded; /* a captured stream passed max_output: the program was killed */
    int cancelled;       /* the job was cancelled (kill, timeout, exit) while it ran */
    char *out;           /* captured stdout (NUL-terminated, may contain NULs), or NULL */
    size_t out_len;
    char *err; /* captured stderr, or NULL */
    size_t err_len;
    /* ---- version 3 ---- */
    size_t size;          /* sizeof(struct bgjob_spawn_res) as the plugin was built */
    long max_rss_kb;      /* the program's peak resident memory (its own, from the reaping call) */
    double user_s, sys_s; /* its user and system CPU seconds */
};

struct bgjob_api {
    /* Version of the table (BGJOB_API_VERSION of the running bgjob) and its size in bytes. */
    unsigned int version;
    unsigned int size;

    /*
     * Registers NAME (letters, digits, '_', '-', '.'; at most 64 bytes) with
     * a one-line USAGE shown by `bgjob funcs`.  DESTROY, when not NULL, is
     * called with PAYLOAD if the registration is undone.  Main thread only,
     * and only from within bgjob_plugin_init.  Returns 0, or -1 when the name
     * is invalid or already registered (an error message is then printed by
     * bgjob).
     */
    int (*register_callback)(const char *name, bgjob_callback fn, const char *usage, void *payload,
                             void (*destroy)(void *payload));

    /* Stores a copy of S as the job's result, replacing an earlier one.  Returns 0, or -1 out of memory. */
    int (*set_result)(bgjob_job *job, const char *s);

    /* Stores a copy of MSG as the job's error text; return non-zero from the callback afterwards. */
    int (*fail)(bgjob_job *job, const char *msg);

    /* Reports progress as a fraction in [0, 1]; shown by `bgjob status` and `bgjob show`. */
    void (*progress)(bgjob_job *job, double fraction);

    /*
     * Non-zero once the job was asked to stop; the value says why: 1 `bgjob
     * kill`, 2 its timeout expired, 3 the shell exits (a daemon job).
     */
    int (*cancelled)(bgjob_job *job);

    /*
     * Sleeps SECONDS, waking at once if the job is cancelled.  Returns 0 after
     * the full time, non-zero when cancelled.  Prefer it to sleep(3).
     */
    int (*sleep)(bgjob_job *job, double seconds);

    /* ---- version 2 ---- */

    /*
     * Sets the argument checker of callback NAME (registered by this plugin).
     * Only from within bgjob_plugin_init.  Returns 0, or -1 if NAME is unknown.
     */
    int (*set_check)(const char *name, bgjob_check check);

    /*
     * The value of NAME in the job's environment: the shell's exported
     * variables when `bgjob new` created the job.  NULL when not set.  Valid
     * for the whole call of the callback.
     */
    const char *(*getenv)(bgjob_job *job, const char *name);

    /*
     * Adds or replaces an extra field KEY (letters, digits, '_') shown by
     * `bgjob show` (and `show -v ARRAY`) with VALUE (copied).  May be called
     * while the job runs: `show` of a running job sees the latest value.
     * Returns 0, or -1 (bad key, out of memory).
     */
    int (*set_info)(bgjob_job *job, const char *key, const char *value);

    /*
     * Runs a program and waits for it, safely inside bash: the shell never
     * sees the process (not in `jobs`, `wait` or `$!`, no CHLD trap) and its
     * exit status is never lost.  The program runs in a session and process
     * group of its own, with default signal dispositions, an empty signal
     * mask and only descriptors 0, 1 and 2 open, in the job's working
     * directory, with the job's umask.  When the job is cancelled (kill,
     * timeout, shell exit) the whole process group gets SIGTERM, then SIGKILL
     * after BGJOB_KILL_GRACE seconds (default 2).  Returns 0 when the
     * program ran (RES says how it ended), or -1 when it could not be
     * started, with a message like "CMD: command not found" in MSG.  The
     * waiting and reading is done by bgjob's I/O thread; this call only
     * blocks the callback's own worker.  Descriptors given in REQ are the
     * callback's own (it may close them once spawn returns).  JOB may be
     * NULL (a thread of the plugin's own): the program then gets REQ's
     * envp (NULL: an empty environment) and cwd (NULL: the process's
     * directory), and nothing cancels it.
     */
    int (*spawn)(bgjob_job *job, const struct bgjob_spawn_req *req, struct bgjob_spawn_res *res, char *msg,
                 size_t msglen);
    /* Frees what spawn stored in RES. */
    void (*spawn_free)(struct bgjob_spawn_res *res);

    /* ---- version 3 ---- */

    /*
     * A descriptor that becomes readable once the job is cancelled (kill,
     * timeout, shell exit): poll it beside your own, instead of asking
     * cancelled() in a loop.  Owned by bgjob (do not close or read it); -1
     * when it can not be made.
     */
    int (*cancel_fd)(bgjob_job *job);
    /*
     * A descriptor (O_PATH) of the job's directory: the shell's working
     * directory when `bgjob new` created the job, even if the shell has
     * moved since or the directory was renamed or removed.  Owned by bgjob;
     * -1 when there is none (a job made without a directory).
     */
    int (*dirfd)(bgjob_job *job);
    /*
     * openat(dirfd(job), PATH, FLAGS | O_CLOEXEC, MODE): a relative PATH is
     * taken relative to the job's directory.  A descriptor, or -1 with errno.
     */
    int (*open)(bgjob_job *job, const char *path, int flags, unsigned int mode);

    /* ---- version 4 ---- */

    /*
     * QUEUED non-zero: the running job waits for something outside bgjob
     * (a batch system's queue): `status' and `show' list it as Queued
     * until a call with QUEUED zero.  It keeps its running slot and its
     * time limit runs on.  Set the reason, if any, with set_info.  May be
     * called from any thread while the callback runs.
     */
    void (*set_queued)(bgjob_job *job, int queued);
    /* The job's time limit in seconds (`bgjob new -t'), or 0 when it has none. */
    double (*timeout)(bgjob_job *job);
};

typedef int (*bgjob_plugin_init_fn)(const struct bgjob_api *api);

#ifdef __cplusplus
}
#endif

#endif /* BGJOB_H */
