/*
 * bgjob-v1.h - the plugin header as bgjob 0.1 shipped it (API version 1),
 * kept to build the example plugin the old way and prove that a plugin built
 * for version 1 still loads.
 *
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
 * exit(), and should not fork or run programs (bash's SIGCHLD handler reaps
 * every child of the process).  It reports through its job handle:
 * set_result, fail, progress, and asks cancelled() at convenient points.
 *
 * Versioning: the table only ever grows.  A plugin may use every member that
 * existed in its BGJOB_API_VERSION; `size` tells how large the caller's table is.
 *
 * This header is C89 and C++ compatible and depends only on <stddef.h>.
 */
#ifndef BGJOB_H
#define BGJOB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BGJOB_API_VERSION 1

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

    /* Non-zero once `bgjob kill` (or unloading, or shell exit) asked the job to stop. */
    int (*cancelled)(bgjob_job *job);

    /*
     * Sleeps SECONDS, waking at once if the job is cancelled.  Returns 0 after
     * the full time, non-zero when cancelled.  Prefer it to sleep(3).
     */
    int (*sleep)(bgjob_job *job, double seconds);
};

typedef int (*bgjob_plugin_init_fn)(const struct bgjob_api *api);

#ifdef __cplusplus
}
#endif

#endif /* BGJOB_H */
