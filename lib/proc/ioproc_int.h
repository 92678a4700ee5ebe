/*
 * ioproc_int.h - what the two halves of the I/O thread's command handling
 * share: a command's record, the lists, and the I/O thread's state.
 * ioproc.c has the requests, pipes, kills and each command's end;
 * spawnconn.c the connection to the spawner.  Everything here belongs to the
 * I/O thread, except what proc.h says callers may touch.
 */
#ifndef BGJ_IOPROC_INT_H
#define BGJ_IOPROC_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "info.h"
#include "jobs.h"
#include "loop.h"
#include "proc.h"
#include "protocol.h"

enum { P_NEW, P_QUEUED, P_SENT, P_RUNNING, P_DONE };

struct stream {
    struct bgj_watch w; /* w.fd: the read end, -1 once at EOF */
    struct bgj_proc *p;
    struct bgj_outbuf b;
};

struct bgj_proc {
    struct bgj_proc *next, *prev; /* incoming list, send queue, or the list of sent commands */
    uint64_t id;
    int state;
    pid_t pid;
    struct sp_start hdr;
    char *blob;
    int child_fd[3], cwd_fd; /* owned until sent; -1 for a stream to capture (made on the loop) */
    int capture[3];
    struct stream out, err;
    size_t max_output;
    double grace, kill_at;
    int exited, wstatus, termed, killed, cancel, held;
    struct bgj_proc_res res;
    bgjob_job *job;
    struct bgj_info **live;
    void (*on_start)(void *ctx, pid_t pid);
    void *start_ctx;
    bgj_proc_done_fn done;
    void *ctx;
    char name[64];
};

/* A list with head and tail. */
struct plist {
    struct bgj_proc *head, *tail;
};

static inline void pl_push(struct plist *l, struct bgj_proc *p)
{
    p->next = NULL;
    p->prev = l->tail;
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
}

static inline void pl_del(struct plist *l, struct bgj_proc *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        l->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        l->tail = p->prev;
    p->next = p->prev = NULL;
}

/* The I/O thread's own state (ioproc.c). */
struct bgj_io_state {
    int sock, pidfd; /* pidfd: the current spawner's, when it is our child (PID 1) */
    pid_t pid;
    int adopted, retiring, want_out, restarts;
    struct bgj_watch w;
    struct plist sendq, sent; /* waiting to be sent; sent (until done) */
    struct plist ended;       /* done, their DONE not called yet (after the round: see proc_complete) */
    uint64_t next_id;
    unsigned nterm; /* commands with a kill grace running */
};
extern struct bgj_io_state bgj_io;
#define S bgj_io
extern _Atomic pid_t bgj_spawner_pid_seen;

/* ioproc.c */
void proc_complete(struct bgj_proc *p);
void proc_fail(struct bgj_proc *p, int e, const char *msg);
void proc_signal(struct bgj_proc *p, int sig);
void proc_maybe_complete(struct bgj_proc *p);
void proc_stream_close(struct stream *st);
int proc_make_pipes(struct bgj_proc *p);
void proc_close_child_fds(struct bgj_proc *p);

/* spawnconn.c */
void conn_flush(void);
void conn_gone(void);

#endif /* BGJ_IOPROC_INT_H */
