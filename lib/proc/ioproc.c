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
 * Spawner death is one EOF in one place (spawner_gone): commands that were
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
#include <unistd.h>

#include "clock.h"
#include "fdutil.h"
#include "jobenv.h"
#include "jobs.h"
#include "loop.h"
#include "protocol.h"
#include "spawner.h"

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

static void pl_push(struct plist *l, struct bgj_proc *p)
{
    p->next = NULL;
    p->prev = l->tail;
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
}

static void pl_del(struct plist *l, struct bgj_proc *p)
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

static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static struct plist incoming; /* io_lock */
static pthread_once_t io_once = PTHREAD_ONCE_INIT;

/* The I/O thread's own state. */
static struct {
    int sock, pidfd; /* pidfd: the current spawner's, when it is our child (PID 1) */
    pid_t pid;
    int adopted, retiring, want_out, restarts;
    struct bgj_watch w;
    struct plist sendq, sent; /* waiting to be sent; sent (until done) */
    struct plist ended;       /* done, their DONE not called yet (after the round: see complete) */
    uint64_t next_id;
    unsigned nterm; /* commands with a kill grace running */
} S = {.sock = -1, .pidfd = -1};

static _Atomic pid_t spawner_pid_seen;

pid_t bgj_spawner_pid(void) { return spawner_pid_seen; }

static void io_fork_prepare(void) { pthread_mutex_lock(&io_lock); }
static void io_fork_parent(void) { pthread_mutex_unlock(&io_lock); }
static void io_fork_child(void)
{
    pthread_mutex_init(&io_lock, NULL);
    /* the parent's commands are not this process's: forget them (no freeing in a fork handler) */
    incoming.head = incoming.tail = NULL;
    memset(&S, 0, sizeof S);
    S.sock = S.pidfd = -1;
    spawner_pid_seen = 0;
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

static void close_child_fds(struct bgj_proc *p)
{
    for (int i = 0; i < 3; i++)
        bgj_fd_close(&p->child_fd[i]);
    bgj_fd_close(&p->cwd_fd);
}

static void stream_close(struct stream *st)
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
static void complete(struct bgj_proc *p)
{
    stream_close(&p->out);
    stream_close(&p->err);
    close_child_fds(p);
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
static void fail(struct bgj_proc *p, int e, const char *msg)
{
    p->res.start_errno = e;
    snprintf(p->res.msg, sizeof p->res.msg, "%s", msg);
    complete(p);
}

/* Sends SIG to P's process group: SIGTERM starts the grace, SIGKILL ends it. */
static void proc_signal(struct bgj_proc *p, int sig)
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
static void maybe_complete(struct bgj_proc *p)
{
    if (p->state != P_RUNNING || !p->exited || p->held)
        return;
    if ((p->out.w.fd < 0 && p->err.w.fd < 0) || p->killed)
        complete(p);
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
                stream_close(st);
                break;
            }
            size_t keep0 = (size_t)r0 <= p->max_output ? (size_t)r0 : p->max_output;
            char *n0 = malloc(65536 + 1);
            if (!n0) {
                p->res.output_exceeded = 1;
                stop_for(p);
                stream_close(st);
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
                stream_close(st);
                break;
            }
        }
        ssize_t r = read(w->fd, b->buf + b->len, 65536);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (r <= 0) {
            stream_close(st);
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
    maybe_complete(p);
}

static int make_pipes(struct bgj_proc *p)
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

static void spawner_read(struct bgj_watch *w, uint32_t events);
static void spawner_reaped(struct bgj_watch *w, uint32_t events);

/* Starts a spawner.  0 or an errno value. */
static int spawner_up(void)
{
    int sock, pidfd;
    int rc = bgj_spawner_start(&sock, &pidfd);
    if (rc < 0)
        return -rc;
    fcntl(sock, F_SETFL, O_NONBLOCK);
    S.sock = sock;
    S.pidfd = pidfd;
    S.adopted = pidfd >= 0;
    S.retiring = 0;
    S.want_out = 0;
    S.pid = 0;
    S.w.fd = sock;
    S.w.fn = spawner_read;
    bgj_loop_watch(&S.w, EPOLLIN);
    if (pidfd >= 0) {
        /* its own watch: it may outlive this spawner's socket */
        struct bgj_watch *r = malloc(sizeof *r);
        if (r) {
            r->fd = pidfd;
            r->fn = spawner_reaped;
            bgj_loop_watch(r, EPOLLIN);
        }
    }
    return 0;
}

static void spawner_gone(void);

/* Sends what the send queue holds, in order, as far as the socket takes it. */
static void flush_sendq(void)
{
    while (S.sendq.head) {
        if (S.sock < 0) {
            int e = spawner_up();
            if (e) {
                char msg[160];
                snprintf(msg, sizeof msg, "cannot start the spawner: %s", strerror(e));
                while (S.sendq.head)
                    fail(S.sendq.head, e, msg);
                return;
            }
        }
        struct bgj_proc *p = S.sendq.head;
        struct sp_start h = p->hdr;
        h.id = p->id;
        int fds[5] = {p->child_fd[0], p->child_fd[1], p->child_fd[2]}, nfds = 3, memfd = -1;
        if (p->cwd_fd >= 0) {
            h.flags |= SP_F_CWD;
            fds[nfds++] = p->cwd_fd;
        }
        struct iovec iov[2] = {{&h, sizeof h}, {p->blob, h.blob_len}};
        int niov = 2;
        if (h.blob_len > SP_INLINE_MAX) {
            memfd = memfd_create("bgjob-spawn", MFD_CLOEXEC);
            size_t off = 0;
            while (memfd >= 0 && off < h.blob_len) {
                ssize_t wr = write(memfd, p->blob + off, h.blob_len - off);
                if (wr <= 0)
                    bgj_fd_close(&memfd);
                else
                    off += (size_t)wr;
            }
            if (memfd < 0) {
                fail(p, errno, "cannot pass its arguments to the spawner");
                continue;
            }
            h.flags |= SP_F_MEMFD;
            fds[nfds++] = memfd;
            niov = 1;
        }
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(5 * sizeof(int))];
        } cm;
        memset(&cm, 0, sizeof cm);
        struct msghdr msg = {.msg_iov = iov,
                             .msg_iovlen = (size_t)niov,
                             .msg_control = cm.buf,
                             .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
        ssize_t n;
        do
            n = sendmsg(S.sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        int e = errno;
        bgj_fd_close(&memfd);
        if (n < 0 && (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS)) {
            if (!S.want_out) {
                S.want_out = 1;
                bgj_loop_rewatch(&S.w, EPOLLIN | EPOLLOUT);
            }
            return;
        }
        if (n < 0 && (e == EPIPE || e == ECONNRESET || e == ENOTCONN)) {
            spawner_gone(); /* keeps the send queue; the next turn starts another */
            if (++S.restarts > 3) {
                while (S.sendq.head)
                    fail(S.sendq.head, e, "cannot start: the spawner keeps dying");
                S.restarts = 0;
            }
            continue;
        }
        pl_del(&S.sendq, p);
        if (n < 0) {
            char m[160];
            snprintf(m, sizeof m, "cannot start: %s", strerror(e));
            p->state = P_NEW;
            fail(p, e, m);
            continue;
        }
        close_child_fds(p); /* the spawner has its copies */
        p->state = P_SENT;
        pl_push(&S.sent, p);
    }
    if (S.want_out && S.sock >= 0) {
        S.want_out = 0;
        bgj_loop_rewatch(&S.w, EPOLLIN);
    }
}

static struct bgj_proc *find_sent(uint64_t id)
{
    for (struct bgj_proc *p = S.sent.head; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

/* Commands the current spawner still owes an answer or an exit. */
static int spawner_busy(void)
{
    for (struct bgj_proc *p = S.sent.head; p; p = p->next)
        if (p->state == P_SENT || (p->state == P_RUNNING && !p->exited))
            return 1;
    return 0;
}

/* Completes the commands held back until the spawner answered again or was reaped. */
static void release_held(void)
{
    for (struct bgj_proc *p = S.sent.head, *next; p; p = next) {
        next = p->next;
        if (p->held) {
            p->held = 0;
            maybe_complete(p);
        }
    }
}

static void on_reply(const struct sp_reply *r)
{
    if (r->type == SP_HELLO) {
        S.pid = r->value;
        spawner_pid_seen = r->value;
        return;
    }
    if (r->type == SP_BYE) {
        S.retiring = 1;
        return;
    }
    struct bgj_proc *p = find_sent(r->id);
    if (r->type == SP_STARTED || r->type == SP_FAILED)
        release_held();
    if (!p)
        return;
    S.restarts = 0;
    if (r->type == SP_STARTED) {
        p->pid = r->value;
        p->res.pid = r->value;
        p->res.started = 1;
        p->state = P_RUNNING;
        if (p->on_start)
            p->on_start(p->start_ctx, p->pid);
        if (p->cancel || p->res.output_exceeded) /* (its output may have come before this answer) */
            proc_signal(p, SIGTERM);
    } else if (r->type == SP_FAILED) {
        p->res.chdir_failed = r->status == 1;
        char m[160];
        snprintf(m, sizeof m, "%s", strerror(r->value));
        fail(p, r->value, m);
    } else if (r->type == SP_EXIT && p->state == P_RUNNING) {
        p->exited = 1;
        p->wstatus = r->status;
        p->res.maxrss_kb = (long)r->maxrss_kb;
        p->res.user_us = (long long)r->utime_us;
        p->res.sys_us = (long long)r->stime_us;
        /* PID 1: an idle spawner exits; report its last command only once it is reaped */
        if (S.adopted && !spawner_busy())
            p->held = 1;
        maybe_complete(p);
    }
}

static void spawner_read(struct bgj_watch *w, uint32_t events)
{
    (void)w;
    if (events & EPOLLOUT)
        flush_sendq();
    for (;;) {
        if (S.sock < 0)
            return;
        struct sp_reply r;
        ssize_t n = recv(S.sock, &r, sizeof r, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            spawner_gone();
            break;
        }
        if ((size_t)n == sizeof r)
            on_reply(&r);
    }
    if (S.sendq.head)
        flush_sendq();
}

static void spawner_reaped(struct bgj_watch *w, uint32_t events)
{
    (void)events;
    bgj_loop_unwatch(w);
    bgj_spawner_reap(w->fd);
    if (S.pidfd == w->fd)
        S.pidfd = -1;
    bgj_fd_close(&w->fd);
    free(w);
    release_held(); /* a command held back for this reap is done now */
}

/*
 * The spawner's socket is at EOF: it exited (BYE), died or was killed.
 * Commands it was running are killed and end with a message; requests it
 * never answered fail, unless it said BYE first (then it never read them and
 * they go to the next spawner).
 */
static void spawner_gone(void)
{
    int retiring = S.retiring;
    pid_t spid = S.pid;
    bgj_loop_unwatch(&S.w);
    bgj_fd_close(&S.sock);
    spawner_pid_seen = 0;
    /* an adopted spawner is reaped through its pidfd (spawner_reaped) when it is gone */
    struct plist back = {0};
    for (struct bgj_proc *p = S.sent.head, *next; p; p = next) {
        next = p->next;
        if (p->state == P_SENT) {
            if (retiring) {
                pl_del(&S.sent, p);
                pl_push(&back, p);
                continue;
            }
            fail(p, EPIPE, "cannot start: the spawner died");
        } else if (p->state == P_RUNNING && !p->exited) {
            proc_signal(p, SIGKILL);
            p->exited = 1;
            p->held = 0;
            p->res.spawner_died = 1;
            snprintf(p->res.msg, sizeof p->res.msg, "the spawner (pid %d) died; the command was killed",
                     (int)spid);
            complete(p);
        }
    }
    /* requests the old spawner never read go first, in order */
    while (back.tail) {
        struct bgj_proc *p = back.tail;
        pl_del(&back, p);
        p->state = P_QUEUED;
        p->next = S.sendq.head;
        p->prev = NULL;
        if (S.sendq.head)
            S.sendq.head->prev = p;
        else
            S.sendq.tail = p;
        S.sendq.head = p;
        /* (its pipes' write ends went to the old spawner and are gone: make them again) */
        stream_close(&p->out);
        stream_close(&p->err);
        bgj_info_lock(); /* (a live view may be showing them) */
        free(p->out.b.buf);
        free(p->err.b.buf);
        memset(&p->out.b, 0, sizeof p->out.b);
        memset(&p->err.b, 0, sizeof p->err.b);
        bgj_info_unlock();
        int e = make_pipes(p);
        if (e) {
            char m[160];
            snprintf(m, sizeof m, "cannot start: %s", strerror(e));
            fail(p, e, m);
        }
    }
    if (!S.adopted)
        release_held();
}

/* Takes the requests other threads queued. */
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
            fail(p, ECANCELED, "cancelled before it started");
            continue;
        }
        int e = make_pipes(p);
        if (e) {
            char m[160];
            snprintf(m, sizeof m, "cannot start: %s", strerror(e));
            fail(p, e, m);
            continue;
        }
        p->state = P_QUEUED;
        pl_push(&S.sendq, p);
    }
}

static void io_wake(void)
{
    take_incoming();
    flush_sendq();
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
            maybe_complete(p);
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
        fail(p, ECANCELED, "cancelled before it started");
    } else if (p->state == P_RUNNING) {
        proc_signal(p, SIGTERM);
    }
    /* P_NEW: take_incoming sees `cancel'; P_SENT: STARTED does */
}
