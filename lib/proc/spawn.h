/*
 * spawn.h - running programs from worker threads without bash ever seeing
 * them (see spawn.c for the design).
 *
 * Threads: bgj_spawn_run is for worker threads (or any thread that is not
 * bash's main thread inside a command); the spawner state is guarded by one
 * mutex taken only to create the spawner, and the fork handlers leave a
 * forked child without a spawner (it starts its own on first use).
 */
#ifndef BGJ_SPAWN_H
#define BGJ_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "bgjob.h"
#include "errors.h"

/* A program to run.  Zero-initialise, then fill in. */
struct bgj_spawn {
    const char *path;  /* file to execute (a name with a '/', or resolved already) */
    char *const *argv; /* argv of the program, NULL-terminated */
    char *const *envp; /* environment, NULL-terminated (NULL: empty) */
    int cwd_fd;        /* directory to run in (any descriptor fchdir accepts), or -1: the process's */
    int set_umask;     /* when non-zero, the program gets UMASK */
    mode_t umask;
    int fd[3];         /* descriptors for 0, 1, 2; -1: /dev/null for 0, captured for 1 and 2 */
    size_t max_output; /* cap on each captured stream (0: BGJ_DEFAULT_MAX_OUTPUT) */
    double kill_grace; /* seconds from SIGTERM to SIGKILL (< 0: BGJ_DEFAULT_KILL_GRACE) */
    bgjob_job *job;    /* the job whose cancellation stops the program, or NULL */
    /* Called on the calling thread once the program runs, with its pid. */
    void (*on_start)(void *ctx, pid_t pid);
    /* Called at most every 100 ms while captured output grows (the buffers so far, NUL-terminated). */
    void (*on_output)(void *ctx, const char *out, size_t out_len, const char *err, size_t err_len);
    void *ctx;
};

/*
 * Runs S and waits for it to end.  Returns 0 when it ran, filling RES (free
 * with bgj_spawn_free): exit status or signal, the captured output, whether
 * it was killed for output or cancelled.  Otherwise BGJ_ESPAWN with a message
 * "PATH: <strerror>" in ERR (e.g. "No such file or directory") and
 * RES->exit_status 126 or 127 as bash would report it, or BGJ_ENOMEM/BGJ_ESYS.
 */
int bgj_spawn_run(const struct bgj_spawn *s, struct bgjob_spawn_res *res, struct bgj_err *err);
void bgj_spawn_free(struct bgjob_spawn_res *res);

/*
 * Looks NAME up as bash would in the colon-separated PATH (relative entries
 * and the empty entry mean the current directory, or DIRFD's when it is not
 * -1); a NAME with a '/' is used as is.  Returns 0 with a malloc'd path in
 * *OUT, or 127 (not found) / 126 (found but not executable, or a directory),
 * with *OUT NULL; BGJ_ENOMEM when out of memory.
 */
int bgj_spawn_lookup(const char *name, const char *path, int dirfd, char **out);

/*
 * api->spawn for the callback job JOB (bgjob.h): REQ's defaults come from
 * the job's environment (jobenv.h).  0, or -1 with a message in MSG.
 */
int bgj_spawn_job(bgjob_job *job, const struct bgjob_spawn_req *req, struct bgjob_spawn_res *res, char *msg,
                  size_t msglen);

/*
 * Starts this process's spawner if it has none.  Main thread only (its
 * socket must be in the shell's own descriptor table): `bgjob new` calls it
 * for every job that may run programs.  BGJ_OK or BGJ_ESPAWN.
 */
int bgj_spawn_prepare(void);

/*
 * Gives the calling thread (not the main thread) a descriptor table of its
 * own, keeping the pool's completion descriptor and the NKEEP descriptors
 * KEEP (negative ones ignored) and closing its copies of the others, so
 * bash's handling of descriptor numbers can never close what the thread
 * opens.  Only the first call in a thread acts; bgj_spawn_run calls it, and
 * a callback that opens descriptors before running a program calls it first.
 */
void bgj_spawn_thread_setup(const int *keep, int nkeep);

/* The spawner's pid in this process (0 when none has been started): tests. */
pid_t bgj_spawner_pid(void);

#endif /* BGJ_SPAWN_H */
