/*
 * slurm_int.h - what the two files of the slurm plugin share: the record of
 * one running srun (struct sjob), owned by its callback (slurm.c) and, while
 * registered, read and updated by the watcher thread (watch.c) under
 * sw_lock().  Lock order: sw_lock() only; the api calls made under it
 * (set_info, set_queued) take no lock of the plugin's.
 */
#ifndef BGJOB_SLURM_INT_H
#define BGJOB_SLURM_INT_H

#include <bgjob.h>

#include "plugin_util.h"

extern const struct bgjob_api *api;

struct sjob {
    bgjob_job *job;
    unsigned long serial; /* names the record across the watcher's unlocked moments */
    int err_fd;           /* read end of srun's stderr pipe (non-blocking) */
    int cancel_fd;        /* api->cancel_fd(job), or -1 */
    int in_alloc;         /* SLURM_JOB_ID was set: the job is a step of that allocation */
    int step_nodes;       /* NODES come from srun's "launching" lines */
    int verbose;          /* the user asked for -v: srun's verbose lines stay in the traceback */
    char **envp;          /* for scancel and squeue: PATH and SLURM_CONF of the job */
    struct pu_buf err;    /* srun's stderr so far, verbose lines removed unless VERBOSE */
    struct pu_buf line;   /* an incomplete last line */
    int srun_pid;         /* srun's process (in a session of its own), 0 while unknown */
    long jobid;           /* Slurm job, 0 while unknown */
    long stepid;          /* step, -1 while unknown */
    char nodes[256];
    char reason[128];   /* Slurm's state_reason while pending, or why Slurm ended it */
    char end_state[32]; /* the Slurm state that ended it, from scontrol (slurm.c), or "" */
    int pending;        /* 1: the job is pending in Slurm, 2: the step waits inside the allocation */
    int cancel_seen;    /* the job's cancel descriptor fired */
    int scancelled;     /* 1: scancel was run; -1: srun was signalled (nothing in Slurm yet) */
    int slurm_killed;   /* srun said Slurm cancelled the step or job (*** ... ***, revoked) */
    struct sjob *next;  /* in the watcher's list */
};

/* The watcher's lock, for the fields of a registered record. */
void sw_lock(void);
void sw_unlock(void);
/* Registers S (its fields filled in) with the watcher, starting it when needed: 0, or -1 (errno). */
int sw_add(struct sjob *s);
/* Unregisters S: from then on only its callback touches it. */
void sw_remove(struct sjob *s);
/* Takes the bytes BUF[0..N) of srun's stderr for S: keeps them, parses each complete line (lock held). */
void sj_feed(struct sjob *s, const char *buf, size_t n);
/* Runs ARGV (scancel, squeue, scontrol) with ENVP, outside any job; its stdout in *OUT (may be
   NULL).  Its exit status, or -1 when it could not run.  Any thread; no lock held. */
int sw_client(const char *const *argv, char **envp, char **out);
/* The rest of an unfinished last line, at the end of srun's output. */
void sj_feed_end(struct sjob *s);

#endif
