/*
 * spawnconn.c - the I/O thread's connection to this shell's spawner
 * (protocol.h): starting it, the send queue (the socket is non-blocking, so a
 * stopped spawner holds only the commands, never the thread), the replies
 * (HELLO, STARTED, FAILED, EXIT, BYE), and its end: spawner death is one EOF
 * handled in one place, conn_gone.
 *
 * I/O thread only: no lock (see ioproc_int.h).
 */
#define _GNU_SOURCE
#include "ioproc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdutil.h"
#include "spawner.h"

static void spawner_read(struct bgj_watch *w, uint32_t events);

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
    return 0;
}

/* Sends what the send queue holds, in order, as far as the socket takes it. */
void conn_flush(void)
{
    while (S.sendq.head) {
        if (S.sock < 0) {
            int e = spawner_up();
            if (e) {
                char msg[160];
                snprintf(msg, sizeof msg, "cannot start the spawner: %s", strerror(e));
                while (S.sendq.head)
                    proc_fail(S.sendq.head, e, msg);
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
                proc_fail(p, errno, "cannot pass its arguments to the spawner");
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
            conn_gone(); /* keeps the send queue; the next turn starts another */
            if (++S.restarts > 3) {
                while (S.sendq.head)
                    proc_fail(S.sendq.head, e, "cannot start: the spawner keeps dying");
                S.restarts = 0;
            }
            continue;
        }
        pl_del(&S.sendq, p);
        if (n < 0) {
            char m[160];
            snprintf(m, sizeof m, "cannot start: %s", strerror(e));
            p->state = P_NEW;
            proc_fail(p, e, m);
            continue;
        }
        proc_close_child_fds(p); /* the spawner has its copies */
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
            proc_maybe_complete(p);
        }
    }
}

static void on_reply(const struct sp_reply *r)
{
    if (r->type == SP_HELLO) {
        S.pid = r->value;
        bgj_spawner_pid_seen = r->value;
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
        proc_fail(p, r->value, m);
    } else if (r->type == SP_EXIT && p->state == P_RUNNING) {
        p->exited = 1;
        p->wstatus = r->status;
        p->res.maxrss_kb = (long)r->maxrss_kb;
        p->res.user_us = (long long)r->utime_us;
        p->res.sys_us = (long long)r->stime_us;
        /* PID 1: an idle spawner exits; report its last command only once it is reaped */
        if (S.adopted && !spawner_busy())
            p->held = 1;
        proc_maybe_complete(p);
    }
}

static void spawner_read(struct bgj_watch *w, uint32_t events)
{
    (void)w;
    if (events & EPOLLOUT)
        conn_flush();
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
            conn_gone();
            break;
        }
        if ((size_t)n == sizeof r)
            on_reply(&r);
    }
    if (S.sendq.head)
        conn_flush();
}

/*
 * The spawner's socket is at EOF: it exited (BYE), died or was killed.
 * Commands it was running are killed and end with a message; requests it
 * never answered fail, unless it said BYE first (then it never read them and
 * they go to the next spawner).
 */
void conn_gone(void)
{
    /* what it said before it went (a send can see EPIPE before its BYE is read) */
    for (;;) {
        struct sp_reply r;
        ssize_t n = S.sock >= 0 ? recv(S.sock, &r, sizeof r, MSG_DONTWAIT) : -1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if ((size_t)n == sizeof r)
            on_reply(&r);
    }
    int retiring = S.retiring;
    pid_t spid = S.pid;
    bgj_loop_unwatch(&S.w);
    bgj_fd_close(&S.sock);
    bgj_spawner_pid_seen = 0;
    if (S.pidfd >= 0) {
        /* our own child (PID 1): its socket closes as it exits, so this wait is short; reaped
           here, before any command held for it is reported (an exec right after leaves no zombie) */
        bgj_spawner_reap(S.pidfd);
        bgj_fd_close(&S.pidfd);
    }
    struct plist back = {0};
    for (struct bgj_proc *p = S.sent.head, *next; p; p = next) {
        next = p->next;
        if (p->state == P_SENT) {
            if (retiring) {
                pl_del(&S.sent, p);
                pl_push(&back, p);
                continue;
            }
            proc_fail(p, EPIPE, "cannot start: the spawner died");
        } else if (p->state == P_RUNNING && !p->exited) {
            proc_signal(p, SIGKILL);
            p->exited = 1;
            p->held = 0;
            p->res.spawner_died = 1;
            snprintf(p->res.msg, sizeof p->res.msg, "the spawner (pid %d) died; the command was killed",
                     (int)spid);
            proc_complete(p);
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
        proc_stream_close(&p->out);
        proc_stream_close(&p->err);
        bgj_info_lock(); /* (a live view may be showing them) */
        free(p->out.b.buf);
        free(p->err.b.buf);
        memset(&p->out.b, 0, sizeof p->out.b);
        memset(&p->err.b, 0, sizeof p->err.b);
        bgj_info_unlock();
        int e = proc_make_pipes(p);
        if (e) {
            char m[160];
            snprintf(m, sizeof m, "cannot start: %s", strerror(e));
            proc_fail(p, e, m);
        }
    }
    release_held();
}

/* Takes the requests other threads queued. */
