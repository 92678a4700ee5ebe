/*
 * proc.h - commands run by the I/O thread (ioproc.c): started through this
 * shell's spawner, their output read and their end reported on the I/O
 * thread, so that a running command occupies no worker.
 *
 * Threads: bgj_proc_start may be called from any thread (the descriptors a
 * request names must then be in bgjob's own table: only workers and the I/O
 * thread may pass any); the DONE function runs on the I/O thread; the
 * result belongs to whoever DONE hands it to.
 */
#ifndef BGJ_PROC_H
#define BGJ_PROC_H

#include <sys/types.h>

#include "bgjob.h"
#include "errors.h"
#include "info.h"

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
    /* Called on the I/O thread once the program runs, with its pid. */
    void (*on_start)(void *ctx, pid_t pid);
    void *ctx;
    /* When set: the I/O thread shows the captured streams live there as "stdout" and "stderr". */
    struct bgj_info **live;
};

/* How a command ended (filled on the I/O thread before DONE is called). */
struct bgj_proc_res {
    int started;         /* it ran; else start_errno says why not */
    int start_errno;     /* exec/clone errno, ECANCELED (cancelled first), or a local errno */
    int exit_status;     /* 0..255 when it exited, else -1 */
    int term_signal;     /* the signal that killed it, else 0 */
    int output_exceeded; /* a captured stream passed its cap: it was killed */
    int cancelled;       /* its job was cancelled while it ran */
    int spawner_died;    /* the spawner died under it: its group was killed, status unknown */
    int chdir_failed;    /* start_errno is about entering its directory */
    pid_t pid;
    long maxrss_kb;
    long long user_us, sys_us; /* CPU time in microseconds */
    char msg[160];             /* why it did not start, or how the spawner ended */
};

struct bgj_proc;
typedef void (*bgj_proc_done_fn)(struct bgj_proc *p, void *ctx);

/*
 * Queues S for the I/O thread (copying what it needs) and returns at once;
 * DONE(P, CTX) runs on the I/O thread when the program has ended and its
 * output is read (or it could not start).  0 with the handle in *OUT, or
 * BGJ_ENOMEM / BGJ_EINVAL / BGJ_ETHREAD (nothing queued, DONE never runs).
 */
int bgj_proc_start(const struct bgj_spawn *s, bgj_proc_done_fn done, void *ctx, struct bgj_proc **out,
                   struct bgj_err *err);
/* What P ended with (valid from DONE on). */
const struct bgj_proc_res *bgj_proc_res(const struct bgj_proc *p);
/* The captured streams (0: stdout, 1: stderr) while it runs (for live views) and after. */
struct bgj_outbuf *bgj_proc_out(struct bgj_proc *p, int stream);
/* Frees P (after DONE); captured buffers not taken are freed with it. */
void bgj_proc_free(struct bgj_proc *p);

/* The spawner's pid in this process (0 when none runs): tests. */
pid_t bgj_spawner_pid(void);

#endif /* BGJ_PROC_H */
