/*
 * ioproc.c - commands on the I/O thread (proc.h): the spawner connection,
 * every command's pipes, kills and kill-grace deadlines, and each command's
 * end.  libuv's model: one loop owns every child pipe; a running command
 * occupies no worker, and nothing polls.
 *
 * A request travels: the caller's thread builds it (bgj_proc_start) and puts
 * it on the incoming list; on its next round the I/O thread makes its pipes
 * (in bgjob's descriptor table, loop.h), queues it for the spawner and sends
 * START; STARTED gives the pid, EXIT the status and rusage; once the program
 * has exited and both pipes are at EOF (or it was SIGKILLed: what is left of
 * its group may hold them) the command is done and DONE runs.
 *
 * The spawner connection is in spawnconn.c (what both share: ioproc_int.h).
 * Spawner death is one EOF in one place (conn_gone): commands that were
 * running end with a message that says so and their process groups are
 * killed; requests it never answered fail; queued ones go to a new spawner,
 * which starts with the next command.  A stopped spawner stops nothing but
 * the commands: the socket is non-blocking and requests wait in the send
 * queue.
 *
 * Locking: io_lock guards only the incoming list (any thread pushes, the I/O
 * thread takes); it is held for a few instructions and never across a
 * blocking call.  Everything else here belongs to the I/O thread.  A
 * command's buffers grow under the info lock (info.h), so `show` may copy
 * them while they fill.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "fdutil.h"
#include "jobenv.h"
#include "jobs.h"
#include "loop.h"
#include "protocol.h"
#include "ioproc_int.h"
#include "spawner.h"

static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static struct plist incoming; /* io_lock */
static pthread_once_t io_once = PTHREAD_ONCE_INIT;

struct bgj_io_state bgj_io = {.sock = -1, .pidfd = -1};
_Atomic pid_t bgj_spawner_pid_seen;

pid_t bgj_spawner_pid(void) { return bgj_spawner_pid_seen; }

static void io_fork_prepare(void) { pthread_mutex_lock(&io_lock); }
static void io_fork_parent(void) { pthread_mutex_unlock(&io_lock); }
static void io_fork_child(void)
{
    pthread_mutex_init(&io_lock, NULL);
    /* the parent's commands are not this process's: forget them (no freeing in a fork handler) */
    incoming.head = incoming.tail = NULL;
    memset(&S, 0, sizeof S);
    S.sock = S.pidfd = -1;
    bgj_spawner_pid_seen = 0;
}

static void io_wake(void);
static double io_tick(double now);
static void proc_cancel(void *p);

static void io_setup(void)
{
    pthread_atfork(io_fork_prepare, io_fork_parent, io_fork_child);
    bgj_job_proc_cancel = proc_cancel;
    bgj_loop_hook(io_wake, io_tick);
}

/* ---- the caller's side ---- */

int bgj_proc_start(const struct bgj_spawn *s, bgj_proc_done_fn done, void *ctx, struct bgj_proc **out,
                   struct bgj_err *err)
{
    *out = NULL;
    if (!s->path || !s->argv || !s->argv[0])
        return bgj_err_set(err, BGJ_EINVAL, "spawn: no program given");
    int here = bgj_loop_here();
    for (int i = 0; i < 3; i++)
        if (s->fd[i] >= 0 && !here)
            return bgj_err_set(err, BGJ_EINVAL, "spawn: descriptors may only be given from a job's worker");
    pthread_once(&io_once, io_setup);
    struct bgj_proc *p = calloc(1, sizeof *p);
    if (!p)
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    p->out.w.fd = p->err.w.fd = -1;
    p->out.p = p->err.p = p;
    p->cwd_fd = -1;
    size_t argc = 0, envc = 0, blen = strlen(s->path) + 1;
    for (; s->argv[argc]; argc++)
        blen += strlen(s->argv[argc]) + 1;
    for (; s->envp && s->envp[envc]; envc++)
        blen += strlen(s->envp[envc]) + 1;
    char *bp = p->blob = malloc(blen);
    if (!p->blob) {
        free(p);
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    }
    bp = stpcpy(bp, s->path) + 1;
    for (size_t i = 0; i < argc; i++)
        bp = stpcpy(bp, s->argv[i]) + 1;
    for (size_t i = 0; i < envc; i++)
        bp = stpcpy(bp, s->envp[i]) + 1;
    double g = s->kill_grace < 0 ? BGJ_DEFAULT_KILL_GRACE : s->kill_grace;
    p->hdr = (struct sp_start){.magic = SP_MAGIC,
                               .type = SP_START,
                               .umask = (uint32_t)s->umask,
                               .set_umask = (uint32_t) !!s->set_umask,
                               .argc = (uint32_t)argc,
                               .envc = (uint32_t)envc,
                               .blob_len = blen,
                               .grace_ms = (uint64_t)(g * 1000)};
    for (int r = 0; r < SP_NRLIM; r++) {
        struct rlimit rl;
        if (getrlimit(r, &rl) != 0)
            break; /* a resource this kernel does not have, and those after it */
        p->hdr.rlim[r].cur = rl.rlim_cur;
        p->hdr.rlim[r].max = rl.rlim_max;
        p->hdr.nrlim = (uint32_t)r + 1;
    }
    p->grace = g;
    p->max_output = s->max_output ? s->max_output : BGJ_DEFAULT_MAX_OUTPUT;
    snprintf(p->name, sizeof p->name, "%s", s->argv[0]);
    int e = 0;
    for (int i = 0; i < 3; i++) {
        p->child_fd[i] = -1;
        p->capture[i] = s->fd[i] < 0 && i > 0;
        if (s->fd[i] >= 0 && (p->child_fd[i] = fcntl(s->fd[i], F_DUPFD_CLOEXEC, 3)) < 0)
            e = errno;
    }
    if (s->cwd_fd >= 0 && here && (p->cwd_fd = fcntl(s->cwd_fd, F_DUPFD_CLOEXEC, 3)) < 0)
        e = errno;
    if (s->cwd_fd >= 0 && !here)
        e = EINVAL;
    if (e) {
        for (int i = 0; i < 3; i++)
            bgj_fd_close(&p->child_fd[i]);
        bgj_fd_close(&p->cwd_fd);
        free(p->blob);
        free(p);
        return bgj_err_set(err, BGJ_ESYS, "%s: cannot start: %s", s->argv[0], strerror(e));
    }
    p->job = s->job;
    p->live = s->live;
    p->on_start = s->on_start;
    p->start_ctx = s->ctx;
    p->done = done;
    p->ctx = ctx;
    p->res.exit_status = -1;
    int rc = bgj_loop_start();
    if (rc != 0) {
        for (int i = 0; i < 3; i++)
            bgj_fd_close(&p->child_fd[i]);
        bgj_fd_close(&p->cwd_fd);
        free(p->blob);
        free(p);
        return bgj_err_set(err, rc, "%s: cannot start: %s", s->argv[0], bgj_strerror(rc));
    }
    /* linked before it is queued: once queued, the I/O thread may end the job at any moment */
    if (p->job)
        bgj_job_set_proc(p->job, p);
    pthread_mutex_lock(&io_lock);
    pl_push(&incoming, p);
    pthread_mutex_unlock(&io_lock);
    bgj_loop_wake();
    *out = p;
    return BGJ_OK;
}

const struct bgj_proc_res *bgj_proc_res(const struct bgj_proc *p) { return &p->res; }

struct bgj_outbuf *bgj_proc_out(struct bgj_proc *p, int stream)
{
    return stream == 0 ? &p->out.b : &p->err.b;
}

void bgj_proc_free(struct bgj_proc *p)
{
    if (!p)
        return;
    free(p->out.b.buf);
    free(p->err.b.buf);
    free(p->blob);
    free(p);
}

/* ---- the I/O thread ---- */

void proc_close_child_fds(struct bgj_proc *p)
{
    for (int i = 0; i < 3; i++)
        bgj_fd_close(&p->child_fd[i]);
    bgj_fd_close(&p->cwd_fd);
}

void proc_stream_close(struct stream *st)
{
    if (st->w.fd >= 0) {
        bgj_loop_unwatch(&st->w);
        bgj_fd_close(&st->w.fd);
    }
}

/*
 * Ends P: fills in what is left of its result and unlinks it.  Its DONE runs
 * after this round of events (io_tick), never in the middle of one: DONE may
 * free P, and an event of this round may still name one of its descriptors.
 */
void proc_complete(struct bgj_proc *p)
{
    proc_stream_close(&p->out);
    proc_stream_close(&p->err);
    proc_close_child_fds(p);
    if (p->state == P_QUEUED)
        pl_del(&S.sendq, p);
    else if (p->state == P_SENT || p->state == P_RUNNING)
        pl_del(&S.sent, p);
    if (p->termed && !p->killed)
        S.nterm--;
    p->state = P_DONE;
    if (p->res.started && !p->res.spawner_died) {
        if (WIFEXITED(p->wstatus))
            p->res.exit_status = WEXITSTATUS(p->wstatus);
        else if (WIFSIGNALED(p->wstatus))
            p->res.term_signal = WTERMSIG(p->wstatus);
    }
    if (p->job) {
        p->res.cancelled = p->res.cancelled || atomic_load(&p->job->cancel) != 0;
        bgj_job_set_proc(p->job, NULL);
    }
    pl_push(&S.ended, p);
    bgj_loop_wake(); /* a round ends with the ticks, which call DONE */
}

/* Calls DONE for the commands that ended this round. */
static void run_ended(void)
{
    while (S.ended.head) {
        struct bgj_proc *p = S.ended.head;
        pl_del(&S.ended, p);
        p->done(p, p->ctx); /* may free P */
    }
}

/* Ends P before it ran, with errno E and MSG. */
void proc_fail(struct bgj_proc *p, int e, const char *msg)
{
    p->res.start_errno = e;
    snprintf(p->res.msg, sizeof p->res.msg, "%s", msg);
    proc_complete(p);
}

/* Sends SIG to P's process group: SIGTERM starts the grace, SIGKILL ends it. */
void proc_signal(struct bgj_proc *p, int sig)
{
    if (p->pid <= 0)
        return;
    kill(-p->pid, sig);
    if (sig == SIGKILL) {
        if (p->termed && !p->killed)
            S.nterm--;
        p->killed = 1;
    } else if (!p->termed) {
        p->termed = 1;
        p->kill_at = bgj_mono() + p->grace;
        S.nterm++;
    }
}

/* Done once the program has exited and its pipes are at EOF, or it was SIGKILLed. */
void proc_maybe_complete(struct bgj_proc *p)
{
    if (p->state != P_RUNNING || !p->exited || p->held)
        return;
    if ((p->out.w.fd < 0 && p->err.w.fd < 0) || p->killed)
        proc_complete(p);
}

static void stop_for(struct bgj_proc *p)
{
    if (p->state == P_RUNNING && !p->termed && !p->killed)
        proc_signal(p, SIGTERM);
}

static void stream_read(struct bgj_watch *w, uint32_t events)
{
    struct stream *st = (struct stream *)w;
    struct bgj_proc *p = st->p;
    (void)events;
    if (w->fd < 0 || p->state == P_DONE)
        return; /* an event of this round for a stream closed earlier in it */
    for (int round = 0; round < 16; round++) {
        struct bgj_outbuf *b = &st->b;
        if (b->cap == 0) {
            /* nothing read yet: most streams end empty, so no buffer until a byte comes */
            char first[4096];
            ssize_t r0 = read(w->fd, first, sizeof first);
            if (r0 < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (r0 <= 0) {
                proc_stream_close(st);
                break;
            }
            size_t keep0 = (size_t)r0 <= p->max_output ? (size_t)r0 : p->max_output;
            char *n0 = malloc(65536 + 1);
            if (!n0) {
                p->res.output_exceeded = 1;
                stop_for(p);
                proc_stream_close(st);
                break;
            }
            memcpy(n0, first, keep0);
            n0[keep0] = 0;
            bgj_info_lock();
            b->buf = n0;
            b->cap = 65536 + 1;
            b->len = keep0;
            bgj_info_unlock();
            if (keep0 < (size_t)r0 && !p->res.output_exceeded) {
                p->res.output_exceeded = 1;
                stop_for(p);
            }
            if ((size_t)r0 < sizeof first)
                break;
            continue;
        }
        if (b->cap - b->len < 65536 + 1) {
            size_t ncap = b->cap ? b->cap * 2 : 65536 + 1;
            while (ncap - b->len < 65536 + 1)
                ncap *= 2;
            bgj_info_lock();
            char *n = realloc(b->buf, ncap);
            if (n) {
                b->buf = n;
                b->cap = ncap;
                b->buf[b->len] = 0;
            }
            bgj_info_unlock();
            if (!n) {
                p->res.output_exceeded = 1; /* out of memory: stop it as for the cap */
                stop_for(p);
                proc_stream_close(st);
                break;
            }
        }
        ssize_t r = read(w->fd, b->buf + b->len, 65536);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (r <= 0) {
            proc_stream_close(st);
            break;
        }
        size_t keep = (size_t)r;
        if (b->len + keep > p->max_output) {
            keep = b->len < p->max_output ? p->max_output - b->len : 0;
            if (!p->res.output_exceeded) {
                p->res.output_exceeded = 1;
                stop_for(p);
            }
        }
        bgj_info_lock();
        b->len += keep;
        b->buf[b->len] = 0;
        bgj_info_unlock();
        if ((size_t)r < 65536)
            break;
    }
    proc_maybe_complete(p);
}

int proc_make_pipes(struct bgj_proc *p)
{
    if (p->child_fd[0] < 0 && (p->child_fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        return errno;
    struct stream *sts[3] = {NULL, &p->out, &p->err};
    for (int i = 1; i < 3; i++) {
        if (!p->capture[i])
            continue;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
            return errno;
        /* the program's end is blocking */
        fcntl(fds[1], F_SETFL, 0);
        p->child_fd[i] = fds[1];
        sts[i]->w.fd = fds[0];
        sts[i]->w.fn = stream_read;
        if (bgj_loop_watch(&sts[i]->w, EPOLLIN) != 0)
            return errno;
        if (p->live)
            bgj_info_set_live(p->live, i == 1 ? "stdout" : "stderr", &sts[i]->b);
    }
    return 0;
}

static void take_incoming(void)
{
    pthread_mutex_lock(&io_lock);
    struct bgj_proc *list = incoming.head;
    incoming.head = incoming.tail = NULL;
    pthread_mutex_unlock(&io_lock);
    while (list) {
        struct bgj_proc *p = list;
        list = p->next;
        p->next = p->prev = NULL;
        p->id = ++S.next_id;
        if (p->cancel) {
            p->res.cancelled = 1;
            proc_fail(p, ECANCELED, "cancelled before it started");
            continue;
        }
        int e = proc_make_pipes(p);
        if (e) {
            char m[160];
            snprintf(m, sizeof m, "cannot start: %s", strerror(e));
            proc_fail(p, e, m);
            continue;
        }
        p->state = P_QUEUED;
        pl_push(&S.sendq, p);
    }
}

static void io_wake(void)
{
    take_incoming();
    conn_flush();
}

static double io_tick(double now)
{
    run_ended();
    if (S.nterm == 0)
        return 0;
    double next = 0;
    for (struct bgj_proc *p = S.sent.head, *nx; p; p = nx) {
        nx = p->next;
        if (!p->termed || p->killed)
            continue;
        if (now >= p->kill_at) {
            proc_signal(p, SIGKILL);
            proc_maybe_complete(p);
        } else if (next == 0 || p->kill_at < next)
            next = p->kill_at;
    }
    return next;
}

/* A cancellation reached P's job (loop thread, through the pool). */
static void proc_cancel(void *vp)
{
    struct bgj_proc *p = vp;
    if (p->state == P_DONE)
        return;
    p->cancel = 1;
    if (p->state == P_QUEUED) {
        p->res.cancelled = 1;
        proc_fail(p, ECANCELED, "cancelled before it started");
    } else if (p->state == P_RUNNING) {
        proc_signal(p, SIGTERM);
    }
    /* P_NEW: take_incoming sees `cancel'; P_SENT: STARTED does */
}
