/*
 * spawn.c - runs programs for jobs (the `run` callback and api->spawn) so
 * that bash never sees them.
 *
 * Why a spawner.  bash reaps every child of its process with waitpid(-1)
 * and throws away the statuses it does not know; a child that execs is an
 * ordinary child whatever clone flags made it.  So no program is ever a child
 * of the shell.  Each shell process has one spawner, started on the first
 * spawn: a raw clone with exit signal 0 (a "clone child": invisible to
 * waitpid(-1) without __WALL, no SIGCHLD) which never execs clones the
 * spawner and exits; the shell reaps it with __WCLONE, and the spawner,
 * orphaned, belongs to init (or a subreaper), never to the shell.  Both run
 * with every signal blocked and, after the clone, only raw system calls on
 * static or mmap'd memory (no malloc, no stdio, no locks).
 *
 * The protocol.  A worker sends one SOCK_SEQPACKET message per program over
 * the spawner's socket: a header, the path, argv and envp strings (inline, or
 * in a memfd when large), and with SCM_RIGHTS the program's stdin, stdout
 * and stderr, the write end of a per-request status pipe and the working
 * directory.  The spawner starts the program with clone(CLONE_VM|CLONE_VFORK)
 * on a private stack (no page tables copied, so the cost does not grow with
 * the shell's size; safe because the spawner has one thread); the child
 * calls setsid (its own session and process group), restores the empty
 * signal mask (the spawner reset every disposition to the default when it
 * started), fchdir, umask, dup2s 0/1/2, closes everything else and execs.  An
 * exec failure is reported through the shared memory.  The spawner writes
 * "started PID" or "failed ERRNO" to the status pipe, and the wait status
 * when it reaps the program (signalfd on SIGCHLD, waitpid by pid), then
 * closes it.  The worker polls the output pipes, the status pipe and the
 * job's cancellation; to stop the program it signals the process group
 * (SIGTERM, then SIGKILL after the grace), which it may since the group
 * exists while any member lives.
 *
 * Memory.  Right after the clone the intermediate unmaps its copy of the
 * shell's heap and large anonymous mappings (sp_shed_memory), so that the
 * shell's later writes copy no pages on its behalf and the spawner is small.
 *
 * Lifetime.  The shell's end of the socket is close-on-exec and kept above
 * descriptor 230.  When it closes (the shell exits, execs or is killed, even
 * by SIGKILL) the spawner SIGTERMs every program's group, SIGKILLs them after
 * the longest grace, and exits; its parent (init) reaps it.  A forked
 * child (subshell) closes its inherited copy in the fork handler and starts a
 * spawner of its own when it needs one.
 *
 * Descriptors.  Every descriptor a worker opens is moved above 230 at once,
 * out of the way of a script's redirections and of the low numbers the
 * shell's main thread opens and closes (a pipeline's pipes, for one).  The write ends of the
 * output pipes exist in the shell only between their creation and the send
 * to the spawner; the fork handler waits for such sections (and keeps new
 * ones out) so a subshell never inherits one and so never delays the end of
 * a command's output.
 *
 * Locking: spawn_lock guards the spawner's pid and socket (taken to start
 * the spawner, and in the fork handlers); sect_lock guards the section count
 * (taken first by the fork handler).  Neither is held while waiting for a
 * program.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "jobenv.h"
#include "jobs.h"
#include "registry.h"

#define HIGH_FD    230
#define INLINE_MAX 60000 /* larger argument blocks go through a memfd */
#define SP_MAGIC   0x62676a73u
#define F_CWD      1u
#define F_MEMFD    2u

enum { ST_STARTED = 1, ST_FAILED = 2, ST_EXITED = 3 };

struct sp_hdr {
    uint32_t magic, flags, umask, set_umask;
    uint32_t argc, envc;
    uint64_t blob_len;
    uint64_t grace_ms;
};

struct sp_status {
    int32_t kind, value;
};

/* ---- the spawner process (raw system calls only) ---- */

#define NOSAN __attribute__((no_sanitize_address, no_sanitize("undefined"), no_sanitize("thread"), noinline))

struct sp_slot {
    pid_t pid;
    int status_fd;
    uint64_t grace_ms;
};

struct sp_child {
    const char *path;
    char **argv, **envp;
    int fd[3], cwd_fd;
    uint32_t umask, set_umask;
    volatile int err;
};

static char sp_buf[INLINE_MAX + sizeof(struct sp_hdr) + 64];
static struct sp_slot *sp_slots;
static size_t sp_nslots, sp_capslots;
static char *sp_stack;
#define SP_STACK_SIZE (64 * 1024)

static NOSAN long sc(long n, long a, long b, long c, long d, long e)
{
    long r = syscall(n, a, b, c, d, e, 0);
    return r < 0 ? -errno : r;
}

static NOSAN void sp_close(int fd)
{
    if (fd >= 0)
        sc(SYS_close, fd, 0, 0, 0, 0);
}

static NOSAN int sp_child(void *p)
{
    struct sp_child *c = p;
    long r;
    uint64_t empty = 0;
    sc(SYS_setsid, 0, 0, 0, 0, 0);
    if (c->cwd_fd >= 0 && (r = sc(SYS_fchdir, c->cwd_fd, 0, 0, 0, 0)) < 0)
        goto fail;
    if (c->set_umask)
        sc(SYS_umask, (long)c->umask, 0, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        if ((r = sc(SYS_dup3, c->fd[i], i, 0, 0, 0)) < 0)
            goto fail;
    sc(SYS_close_range, 3, ~0L & 0xffffffffL, 0, 0, 0);
    sc(SYS_rt_sigprocmask, SIG_SETMASK, (long)&empty, 0, 8, 0);
    r = sc(SYS_execve, (long)c->path, (long)c->argv, (long)c->envp, 0, 0);
    if (r == -ENOEXEC) {
        /* a script without #!: run it with the shell, as bash and execvp do */
        c->argv[-1] = (char *)"/bin/sh";
        c->argv[0] = (char *)c->path;
        r = sc(SYS_execve, (long)"/bin/sh", (long)(c->argv - 1), (long)c->envp, 0, 0);
    }
    /* exec failed: block again so no signal arrives before the exit */
    {
        uint64_t all = ~(uint64_t)0;
        sc(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0);
    }
fail:
    c->err = (int)-r;
    sc(SYS_exit, 127, 0, 0, 0, 0);
    return 127;
}

static NOSAN void sp_status(int fd, int kind, int value)
{
    struct sp_status st = {kind, value};
    sc(SYS_write, fd, (long)&st, sizeof st, 0, 0);
}

static NOSAN int sp_add_slot(pid_t pid, int fd, uint64_t grace)
{
    if (sp_nslots == sp_capslots) {
        size_t ncap = sp_capslots ? 2 * sp_capslots : 256;
        long m = sc(SYS_mmap, 0, (long)(ncap * sizeof *sp_slots), PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1);
        if (m < 0 && m > -4096)
            return -1;
        struct sp_slot *n = (struct sp_slot *)m;
        for (size_t i = 0; i < sp_nslots; i++)
            n[i] = sp_slots[i];
        if (sp_slots)
            sc(SYS_munmap, (long)sp_slots, (long)(sp_capslots * sizeof *sp_slots), 0, 0, 0);
        sp_slots = n;
        sp_capslots = ncap;
    }
    sp_slots[sp_nslots].pid = pid;
    sp_slots[sp_nslots].status_fd = fd;
    sp_slots[sp_nslots].grace_ms = grace;
    sp_nslots++;
    return 0;
}

static NOSAN void sp_reap(void)
{
    for (;;) {
        int st = 0;
        long pid = sc(SYS_wait4, -1, (long)&st, WNOHANG, 0, 0);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < sp_nslots; i++)
            if (sp_slots[i].pid == pid) {
                sp_status(sp_slots[i].status_fd, ST_EXITED, st);
                sp_close(sp_slots[i].status_fd);
                sp_slots[i] = sp_slots[--sp_nslots];
                break;
            }
    }
}

/* Handles one request in sp_buf (N bytes) with the descriptors FDS (NFDS). */
static NOSAN void sp_request(long n, int *fds, int nfds)
{
    const struct sp_hdr *h = (const struct sp_hdr *)sp_buf;
    int status_fd = nfds >= 4 ? fds[3] : -1;
    int need =
        4 + (n >= (long)sizeof *h && (h->flags & F_CWD)) + (n >= (long)sizeof *h && (h->flags & F_MEMFD));
    const char *blob = NULL;
    long mapped = 0;
    char **vec = NULL;
    size_t veclen = 0;
    int err = EINVAL;
    if (n < (long)sizeof *h || h->magic != SP_MAGIC || nfds != need)
        goto out;
    int k = 4, cwd = -1;
    if (h->flags & F_CWD)
        cwd = fds[k++];
    if (h->flags & F_MEMFD) {
        mapped = sc(SYS_mmap, 0, (long)h->blob_len, PROT_READ, MAP_PRIVATE, fds[k++]);
        if (mapped < 0 && mapped > -4096) {
            err = (int)-mapped;
            mapped = 0;
            goto out;
        }
        blob = (const char *)mapped;
    } else {
        if ((uint64_t)n != sizeof *h + h->blob_len)
            goto out;
        blob = sp_buf + sizeof *h;
    }
    /* one slot before argv for the ENOEXEC retry through /bin/sh */
    veclen = ((size_t)h->argc + h->envc + 3) * sizeof(char *);
    long m = sc(SYS_mmap, 0, (long)veclen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    if (m < 0 && m > -4096) {
        err = ENOMEM;
        goto out;
    }
    vec = (char **)m + 1;
    /* path, then argc argv strings, then envc environment strings */
    const char *p = blob, *end = blob + h->blob_len;
    size_t want = 1 + (size_t)h->argc + h->envc, got = 0, vi = 0;
    const char *path = NULL;
    while (p < end && got < want) {
        const char *s = p;
        while (p < end && *p)
            p++;
        if (p == end)
            goto out;
        p++;
        if (got == 0)
            path = s;
        else {
            vec[vi++] = (char *)s;
            if (got == h->argc)
                vec[vi++] = NULL;
        }
        got++;
    }
    if (got != want || h->argc == 0)
        goto out;
    vec[vi] = NULL;
    struct sp_child c = {
        .path = path,
        .argv = vec,
        .envp = vec + h->argc + 1,
        .fd = {fds[0], fds[1], fds[2]},
        .cwd_fd = cwd,
        .umask = h->umask,
        .set_umask = h->set_umask,
        .err = 0,
    };
    int pid = clone(sp_child, sp_stack + SP_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
    if (pid < 0) {
        err = errno;
        goto out;
    }
    if (c.err) {
        /* the child has exited (127); sp_reap finds no slot for it */
        err = c.err;
        goto out;
    }
    if (sp_add_slot(pid, status_fd, h->grace_ms) != 0) {
        sc(SYS_kill, -pid, SIGKILL, 0, 0, 0);
        err = ENOMEM;
        goto out;
    }
    sp_status(status_fd, ST_STARTED, pid);
    status_fd = -1; /* kept in the slot */
    err = 0;
out:
    if (err && status_fd >= 0)
        sp_status(status_fd, ST_FAILED, err);
    if (status_fd >= 0)
        sp_close(status_fd);
    for (int i = 0; i < nfds; i++)
        if (i != 3)
            sp_close(fds[i]);
    if (mapped)
        sc(SYS_munmap, mapped, (long)h->blob_len, 0, 0, 0);
    if (vec)
        sc(SYS_munmap, (long)(vec - 1), (long)veclen, 0, 0, 0);
}

static NOSAN uint64_t sp_now_ms(void)
{
    struct timespec ts;
    sc(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0, 0);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static NOSAN void sp_kill_all(int sig)
{
    for (size_t i = 0; i < sp_nslots; i++)
        sc(SYS_kill, -sp_slots[i].pid, sig, 0, 0, 0);
}

#if !defined(__SANITIZE_THREAD__) && defined(__x86_64__)
static NOSAN unsigned long sp_hex(const char **p)
{
    unsigned long v = 0;
    for (;; ++*p) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (unsigned long)(c - 'a' + 10);
        else
            return v;
    }
}
#endif

/*
 * Gives back the shell's memory this process copied at the clone: the brk
 * heap and the large anonymous private mappings (not the one holding its own
 * stack and thread pointer).  Without it every page the shell writes later
 * would be copied for the spawner's sake.  Not under ThreadSanitizer (its
 * instrumentation of function entries uses such mappings).
 */
static NOSAN void sp_shed_memory(void)
{
#if !defined(__SANITIZE_THREAD__) && defined(__x86_64__)
    unsigned long fs = 0, sp = (unsigned long)__builtin_frame_address(0);
    sc(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, (long)&fs, 0, 0, 0);
    long fd = sc(SYS_openat, AT_FDCWD, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC, 0, 0);
    if (fd < 0)
        return;
    size_t len = 0;
    for (;;) {
        long r = sc(SYS_read, fd, (long)(sp_buf + len), (long)(sizeof sp_buf - 1 - len), 0, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len >= sizeof sp_buf - 1)
            break;
    }
    sp_close((int)fd);
    sp_buf[len] = 0;
    const char *p = sp_buf, *end = sp_buf + len;
    unsigned long prev_hi = 0;
    int prev_file = 0;
    while (p < end) {
        const char *line = p;
        while (p < end && *p != '\n')
            p++;
        const char *eol = p++;
        if (eol == end)
            break; /* a cut line */
        const char *q = line;
        unsigned long lo = sp_hex(&q);
        if (*q++ != '-')
            continue;
        unsigned long hi = sp_hex(&q);
        if (*q++ != ' ')
            continue;
        int rw_private = q[0] == 'r' && q[1] == 'w' && q[3] == 'p';
        /* the path: after five fields */
        int fields = 0;
        while (q < eol && fields < 4) {
            while (q < eol && *q != ' ')
                q++;
            while (q < eol && *q == ' ')
                q++;
            fields++;
        }
        size_t plen = (size_t)(eol - q);
        int heap = plen == 6 && q[0] == '[' && q[1] == 'h' && q[2] == 'e' && q[3] == 'a' && q[4] == 'p';
        int anon = plen == 0;
        /* an anonymous mapping right after a file's is that object's .bss */
        int bss = anon && lo == prev_hi && prev_file;
        prev_hi = hi;
        prev_file = plen > 0 && q[0] == '/';
        if (bss)
            continue;
        /* (mappings of 64 GiB and more are reservations, such as a sanitizer's shadow) */
        if (!rw_private || (!heap && !(anon && hi - lo >= (1ul << 20) && hi - lo < (1ul << 36))))
            continue;
        if ((sp >= lo && sp < hi) || (fs >= lo && fs < hi))
            continue;
        sc(SYS_munmap, (long)lo, (long)(hi - lo), 0, 0, 0);
    }
#endif
}

static NOSAN __attribute__((noreturn)) void spawner_main(int sock)
{
    uint64_t all = ~(uint64_t)0;
    sc(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0);
    /* only the socket stays; 0, 1, 2 are /dev/null so received descriptors are >= 3 */
    if (sock > 0)
        sc(SYS_close_range, 0, sock - 1, 0, 0, 0);
    sc(SYS_close_range, sock + 1, ~0L & 0xffffffffL, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        sc(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDWR, 0, 0);
    sc(SYS_chdir, (long)"/", 0, 0, 0, 0);
    sc(SYS_prctl, PR_SET_NAME, (long)"bgjob-spawner", 0, 0, 0);
    int32_t me = (int32_t)sc(SYS_getpid, 0, 0, 0, 0, 0);
    sc(SYS_sendto, sock, (long)&me, sizeof me, MSG_NOSIGNAL, 0);
    /* default dispositions, inherited by the programs */
    for (int s = 1; s <= 64; s++) {
        struct {
            void *handler;
            unsigned long flags;
            void *restorer;
            uint64_t mask;
        } sa = {SIG_DFL, 0, NULL, 0};
        if (s != SIGKILL && s != SIGSTOP)
            sc(SYS_rt_sigaction, s, (long)&sa, 0, 8, 0);
    }
    uint64_t chld = (uint64_t)1 << (SIGCHLD - 1);
    int sfd = (int)sc(SYS_signalfd4, -1, (long)&chld, 8, SFD_CLOEXEC | SFD_NONBLOCK, 0);
    long m =
        sc(SYS_mmap, 0, SP_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1);
    if (sfd < 0 || (m < 0 && m > -4096))
        sc(SYS_exit_group, 1, 0, 0, 0, 0);
    sp_stack = (char *)m;

    int dying = 0;
    uint64_t deadline = 0;
    for (;;) {
        struct pollfd pf[2] = {{sfd, POLLIN, 0}, {dying ? -1 : sock, POLLIN, 0}};
        long timeout = -1;
        if (dying) {
            if (sp_nslots == 0)
                sc(SYS_exit_group, 0, 0, 0, 0, 0);
            uint64_t now = sp_now_ms();
            if (deadline && now >= deadline) {
                sp_kill_all(SIGKILL);
                deadline = 0;
            }
            timeout = deadline ? (long)(deadline - now) : 200;
        }
        struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000};
        long r = sc(SYS_ppoll, (long)pf, 2, timeout < 0 ? 0 : (long)&ts, 0, 8);
        if (r < 0 && r != -EINTR && r != -EAGAIN)
            continue;
        if (pf[0].revents) {
            struct signalfd_siginfo si[8];
            while (sc(SYS_read, sfd, (long)si, sizeof si, 0, 0) > 0)
                ;
            sp_reap();
        }
        if (!dying && pf[1].revents) {
            union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(8 * sizeof(int))];
            } cm;
            struct iovec iov = {sp_buf, sizeof sp_buf};
            struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
            long n = sc(SYS_recvmsg, sock, (long)&msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT, 0, 0);
            if (n == -EAGAIN || n == -EINTR)
                continue;
            if (n <= 0) {
                /* the shell is gone: stop every program */
                dying = 1;
                sp_close(sock);
                sp_kill_all(SIGTERM);
                uint64_t g = 0;
                for (size_t i = 0; i < sp_nslots; i++)
                    if (sp_slots[i].grace_ms > g)
                        g = sp_slots[i].grace_ms;
                deadline = sp_now_ms() + g;
                continue;
            }
            int fds[8], nfds = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                    int cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                    for (int i = 0; i < cnt && nfds < 8; i++)
                        memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                }
            if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
                n = 0; /* rejected by sp_request */
            sp_request(n, fds, nfds);
        }
    }
}

/*
 * The first clone: gives back the shell's memory, starts the spawner and
 * exits at once, so that the spawner is orphaned (its parent becomes init or
 * a subreaper) and is never a child of the shell, even after an exec.
 */
static NOSAN __attribute__((noreturn)) void sp_intermediate(int sock)
{
    sp_shed_memory();
    long pid = sc(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        spawner_main(sock);
    sc(SYS_exit_group, pid < 0 ? 1 : 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

/* ---- the shell side ---- */

static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t spawn_once = PTHREAD_ONCE_INIT;
static int sp_sock = -1;
static pid_t sp_pid, sp_owner;
static unsigned sp_gen;           /* counts spawner starts, so threads refresh their copies */
static __thread int tl_setup;     /* bgj_spawn_thread_setup ran in this thread */
static __thread int tl_private;   /* this thread has a descriptor table of its own */
static __thread int tl_sock = -1; /* its copy of sp_sock */
static __thread unsigned tl_gen;  /* the sp_gen of that copy */

/*
 * The descriptor sections: sect_n workers hold short-lived pipe ends; a fork
 * waits (sect_forking keeps new ones out) until there are none.
 */
static pthread_mutex_t sect_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sect_cv = PTHREAD_COND_INITIALIZER;
static unsigned sect_n;
static int sect_forking;

static void sect_enter(void)
{
    pthread_mutex_lock(&sect_lock);
    while (sect_forking)
        pthread_cond_wait(&sect_cv, &sect_lock);
    sect_n++;
    pthread_mutex_unlock(&sect_lock);
}

static void sect_leave(void)
{
    pthread_mutex_lock(&sect_lock);
    if (--sect_n == 0)
        pthread_cond_broadcast(&sect_cv);
    pthread_mutex_unlock(&sect_lock);
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&sect_lock);
    sect_forking = 1;
    while (sect_n > 0)
        pthread_cond_wait(&sect_cv, &sect_lock);
    pthread_mutex_lock(&spawn_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&spawn_lock);
    sect_forking = 0;
    pthread_cond_broadcast(&sect_cv);
    pthread_mutex_unlock(&sect_lock);
}

/* The child has only the forking thread: fresh locks, no spawner. */
static void fork_child(void)
{
    pthread_mutex_init(&spawn_lock, NULL);
    pthread_mutex_init(&sect_lock, NULL);
    pthread_cond_init(&sect_cv, NULL);
    sect_forking = 0;
    sect_n = 0;
    if (sp_sock >= 0)
        close(sp_sock);
    sp_sock = -1;
    sp_pid = 0;
    sp_owner = 0;
    sp_gen++;
    tl_sock = -1; /* the forking thread's copy, if it had one, is the parent's */
}

static void spawn_setup(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/*
 * Moves FD above HIGH_FD (close-on-exec); returns the new number, or FD
 * itself if no high number is free.  -1 (EBADF) when FD is no longer open:
 * then another thread closed the number and it must not be used (or closed)
 * again.
 */
static int move_high(int fd)
{
    if (fd < 0 || fd >= HIGH_FD)
        return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
    if (h < 0)
        return errno == EBADF ? -1 : fd;
    close(fd);
    return h;
}

pid_t bgj_spawner_pid(void)
{
    pthread_mutex_lock(&spawn_lock);
    pid_t p = sp_owner == getpid() ? sp_pid : 0;
    pthread_mutex_unlock(&spawn_lock);
    return p;
}

/* The socket to this process's spawner, starting it if needed; -errno on failure.  Under spawn_lock. */
static int spawner_socket(int restart)
{
    if (sp_sock >= 0 && sp_owner == getpid() && !restart)
        return sp_sock;
    if (sp_sock >= 0) {
        close(sp_sock); /* the old spawner (not our child) exits at EOF */
        sp_sock = -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    sv[0] = move_high(sv[0]);
    sv[1] = move_high(sv[1]);
    if (sv[0] < 0 || sv[1] < 0) {
        if (sv[0] >= 0)
            close(sv[0]);
        if (sv[1] >= 0)
            close(sv[1]);
        return -EBADF;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = syscall(SYS_clone, 0L /* exit signal 0 */, NULL, NULL, NULL, NULL);
    if (pid == 0)
        sp_intermediate(sv[1]);
    int e = errno, st = 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return -e;
    }
    /* reap the intermediate; the spawner, orphaned, sends its pid */
    while (waitpid((pid_t)pid, &st, __WCLONE) < 0 && errno == EINTR)
        ;
    int32_t spid = 0;
    ssize_t n;
    do
        n = recv(sv[0], &spid, sizeof spid, 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof spid || spid <= 0) {
        close(sv[0]);
        return -ESRCH; /* "No such process": it did not start */
    }
    sp_sock = sv[0];
    sp_pid = (pid_t)spid;
    sp_owner = getpid();
    sp_gen++;
    return sp_sock;
}

int bgj_spawn_lookup(const char *name, const char *path, int dirfd, char **out)
{
    *out = NULL;
    struct stat st;
    if (!name || !*name)
        return 127;
    if (strchr(name, '/')) {
        if (fstatat(dirfd >= 0 ? dirfd : AT_FDCWD, name, &st, 0) != 0)
            return 127;
        if (S_ISDIR(st.st_mode) || faccessat(dirfd >= 0 ? dirfd : AT_FDCWD, name, X_OK, AT_EACCESS) != 0)
            return 126;
        return (*out = strdup(name)) ? 0 : BGJ_ENOMEM;
    }
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    size_t nlen = strlen(name);
    char *found_noexec = NULL;
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        char *cand = malloc(dlen + nlen + 3);
        if (!cand) {
            free(found_noexec);
            return BGJ_ENOMEM;
        }
        if (dlen == 0)
            strcpy(cand, "./");
        else {
            memcpy(cand, p, dlen);
            cand[dlen] = '/';
            cand[dlen + 1] = 0;
        }
        strcat(cand, name);
        int at = dirfd >= 0 ? dirfd : AT_FDCWD;
        if (fstatat(at, cand, &st, 0) == 0 && !S_ISDIR(st.st_mode)) {
            if (faccessat(at, cand, X_OK, AT_EACCESS) == 0) {
                free(found_noexec);
                *out = cand;
                return 0;
            }
            if (!found_noexec) {
                found_noexec = cand;
                cand = NULL;
            }
        }
        free(cand);
        if (!colon)
            break;
        p = colon + 1;
    }
    /* bash runs (and fails on) a file found but not executable */
    if (found_noexec) {
        free(found_noexec);
        return 126;
    }
    return 127;
}

/* Growing capture buffer. */
struct cap {
    char *buf;
    size_t len, cap;
    int fd;
};

static int cap_read(struct cap *c, size_t max, int *exceeded)
{
    if (c->cap - c->len < 65536 + 1) {
        size_t ncap = c->cap ? c->cap * 2 : 65536 + 1;
        while (ncap - c->len < 65536 + 1)
            ncap *= 2;
        char *n = realloc(c->buf, ncap);
        if (!n)
            return BGJ_ENOMEM;
        c->buf = n;
        c->cap = ncap;
        c->buf[c->len] = 0;
    }
    ssize_t r = read(c->fd, c->buf + c->len, 65536);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (r == 0)
        return 0;
    if (c->len + (size_t)r > max) {
        *exceeded = 1;
        size_t keep = c->len < max ? max - c->len : 0;
        c->len += keep;
    } else
        c->len += (size_t)r;
    c->buf[c->len] = 0;
    return 1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void bgj_spawn_free(struct bgjob_spawn_res *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
    res->out_len = res->err_len = 0;
}

int bgj_spawn_prepare(void)
{
    pthread_once(&spawn_once, spawn_setup);
    pthread_mutex_lock(&spawn_lock);
    int sock = spawner_socket(0);
    pthread_mutex_unlock(&spawn_lock);
    return sock < 0 ? BGJ_ESPAWN : BGJ_OK;
}

void bgj_spawn_thread_setup(const int *keep, int nkeep)
{
    if (tl_setup || gettid() == getpid())
        return; /* the main thread's descriptors are the shell's own business */
    tl_setup = 1;
    if (unshare(CLONE_FILES) != 0)
        return;
    tl_private = 1;
    /* keep the pool's completion descriptor and KEEP; close the rest of the copy */
    int k[8], n = 0;
    k[n++] = bgj_notify_fd();
    for (int i = 0; i < nkeep && n < 8; i++)
        k[n++] = keep[i];
    for (int i = 1; i < n; i++) /* sort: at most 8 */
        for (int j = i; j > 0 && k[j - 1] > k[j]; j--) {
            int t = k[j];
            k[j] = k[j - 1];
            k[j - 1] = t;
        }
    unsigned from = 0;
    for (int i = 0; i < n; i++) {
        if (k[i] < 0 || (unsigned)k[i] < from)
            continue;
        if ((unsigned)k[i] > from)
            close_range(from, (unsigned)k[i] - 1, 0);
        from = (unsigned)k[i] + 1;
    }
    close_range(from, ~0U, 0);
}

/*
 * The spawner's socket as this thread sees it: the shared one for a thread
 * that uses the shell's table (starting the spawner when RESTART or none
 * runs), else its own copy of it (pidfd_getfd).  -errno on failure.
 */
static int thread_socket(int restart)
{
    pthread_mutex_lock(&spawn_lock);
    if (!tl_private) {
        int sock = spawner_socket(restart);
        pthread_mutex_unlock(&spawn_lock);
        return sock;
    }
    int shared = sp_owner == getpid() ? sp_sock : -1;
    unsigned gen = sp_gen;
    pthread_mutex_unlock(&spawn_lock);
    if (shared < 0)
        return -ENOTCONN; /* bgj_spawn_prepare was not called on the main thread */
    if (tl_sock >= 0 && tl_gen == gen && !restart)
        return tl_sock;
    if (tl_sock >= 0)
        close(tl_sock);
    tl_sock = -1;
    int pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pfd < 0)
        return -errno;
    int fd = (int)syscall(SYS_pidfd_getfd, pfd, shared, 0);
    int e = errno;
    close(pfd);
    if (fd < 0)
        return -e;
    tl_sock = move_high(fd);
    tl_gen = gen;
    return tl_sock;
}

/* Sends the request; takes ownership of none of the descriptors.  0 or -errno. */
static int send_request(const struct bgj_spawn *s, int child_fd[3], int status_w, const char *blob,
                        size_t blob_len, size_t argc, size_t envc)
{
    struct sp_hdr h = {
        .magic = SP_MAGIC,
        .umask = (uint32_t)s->umask,
        .set_umask = (uint32_t) !!s->set_umask,
        .argc = (uint32_t)argc,
        .envc = (uint32_t)envc,
        .blob_len = blob_len,
    };
    double g = s->kill_grace < 0 ? BGJ_DEFAULT_KILL_GRACE : s->kill_grace;
    h.grace_ms = (uint64_t)(g * 1000);
    int fds[6] = {child_fd[0], child_fd[1], child_fd[2], status_w}, nfds = 4, memfd = -1;
    if (s->cwd_fd >= 0) {
        h.flags |= F_CWD;
        fds[nfds++] = s->cwd_fd;
    }
    struct iovec iov[2] = {{&h, sizeof h}, {(void *)blob, blob_len}};
    int niov = 2;
    if (blob_len > INLINE_MAX) {
        memfd = move_high(memfd_create("bgjob-spawn", MFD_CLOEXEC));
        if (memfd < 0)
            return -errno;
        size_t off = 0;
        while (off < blob_len) {
            ssize_t w = write(memfd, blob + off, blob_len - off);
            if (w < 0) {
                int e = errno;
                close(memfd);
                return -e;
            }
            off += (size_t)w;
        }
        h.flags |= F_MEMFD;
        fds[nfds++] = memfd;
        niov = 1;
    }
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(6 * sizeof(int))];
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
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        int sock = thread_socket(attempt > 0);
        if (sock < 0) {
            rc = sock;
            break;
        }
        ssize_t n;
        do
            n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n >= 0) {
            rc = 0;
            break;
        }
        rc = -errno;
        if (errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN)
            break;
        /* the spawner died: start another once (only a shared-table thread can) */
    }
    if (memfd >= 0)
        close(memfd);
    return rc;
}

/* Reads one status record; 1 got one, 0 EOF, -1 nothing yet. */
static int read_status(int fd, struct sp_status *st)
{
    ssize_t r = read(fd, st, sizeof *st);
    if (r == (ssize_t)sizeof *st)
        return 1;
    if (r == 0)
        return 0;
    return -1;
}

static int job_cancelled(bgjob_job *job) { return job && atomic_load(&job->cancel) != 0; }

int bgj_spawn_run(const struct bgj_spawn *s, struct bgjob_spawn_res *res, struct bgj_err *err)
{
    memset(res, 0, sizeof *res);
    res->exit_status = -1;
    if (!s->path || !s->argv || !s->argv[0])
        return bgj_err_set(err, BGJ_EINVAL, "spawn: no program given");
    pthread_once(&spawn_once, spawn_setup);
    bgj_spawn_thread_setup(s->fd, 3);

    /* the path, argv and envp strings in one block */
    size_t argc = 0, envc = 0, blen = strlen(s->path) + 1;
    for (; s->argv[argc]; argc++)
        blen += strlen(s->argv[argc]) + 1;
    for (; s->envp && s->envp[envc]; envc++)
        blen += strlen(s->envp[envc]) + 1;
    char *blob = malloc(blen), *bp = blob;
    if (!blob)
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    bp = stpcpy(bp, s->path) + 1;
    for (size_t i = 0; i < argc; i++)
        bp = stpcpy(bp, s->argv[i]) + 1;
    for (size_t i = 0; i < envc; i++)
        bp = stpcpy(bp, s->envp[i]) + 1;

    struct cap out = {.fd = -1}, errc = {.fd = -1};
    int child_fd[3] = {-1, -1, -1}, own[3] = {0, 0, 0};
    int status_r = -1, status_w = -1, rc = 0, e = 0;

    sect_enter();
    for (int i = 0; i < 3; i++) {
        if (s->fd[i] >= 0) {
            child_fd[i] = s->fd[i];
            continue;
        }
        own[i] = 1;
        if (i == 0) {
            int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
            child_fd[0] = nul < 0 ? -1 : move_high(nul);
            if (child_fd[0] < 0)
                goto sys;
            continue;
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            goto sys;
        child_fd[i] = move_high(p[1]);
        (i == 1 ? &out : &errc)->fd = move_high(p[0]);
        if (child_fd[i] < 0 || (i == 1 ? &out : &errc)->fd < 0)
            goto sys;
    }
    int sp[2];
    if (pipe2(sp, O_CLOEXEC) != 0)
        goto sys;
    status_r = move_high(sp[0]);
    status_w = move_high(sp[1]);
    if (status_r < 0 || status_w < 0)
        goto sys;
    int sent = send_request(s, child_fd, status_w, blob, blen - 0, argc, envc);
    for (int i = 0; i < 3; i++)
        if (own[i])
            close_fd(&child_fd[i]);
    close_fd(&status_w);
    sect_leave();
    free(blob);
    blob = NULL;
    if (sent < 0) {
        e = -sent;
        rc = bgj_err_set(err, BGJ_ESYS, "%s: cannot start: %s", s->argv[0], strerror(e));
        goto done;
    }

    /* wait for "started" or "failed" */
    struct sp_status st;
    for (;;) {
        struct pollfd pf = {status_r, POLLIN, 0};
        int pr = poll(&pf, 1, -1);
        if (pr < 0 && errno == EINTR)
            continue;
        int got = read_status(status_r, &st);
        if (got == 1)
            break;
        if (got == 0) {
            rc = bgj_err_set(err, BGJ_ESYS, "%s: cannot start: the spawner ended", s->argv[0]);
            goto done;
        }
    }
    if (st.kind == ST_FAILED) {
        e = st.value;
        res->exit_status = e == ENOENT ? 127 : 126;
        rc = bgj_err_set(err, BGJ_ESPAWN, "%s: %s", s->argv[0], strerror(e));
        goto done;
    }
    pid_t pid = st.value;
    if (s->on_start)
        s->on_start(s->ctx, pid);

    /* capture until the program has ended and both streams are closed */
    size_t max = s->max_output ? s->max_output : BGJ_DEFAULT_MAX_OUTPUT;
    double grace = s->kill_grace < 0 ? BGJ_DEFAULT_KILL_GRACE : s->kill_grace;
    int exited = 0, wstatus = 0, termed = 0, killed = 0;
    double kill_at = 0, last_pub = bgj_mono();
    size_t pub_out = 0, pub_err = 0;
    int cfd = -1; /* a thread with its own table can't share a cancel descriptor: ask every 50 ms */
    while (!exited || out.fd >= 0 || errc.fd >= 0) {
        if (!termed && (job_cancelled(s->job) || res->output_exceeded)) {
            if (job_cancelled(s->job))
                res->cancelled = 1;
            kill(-pid, SIGTERM);
            termed = 1;
            kill_at = bgj_mono() + grace;
        }
        double now = bgj_mono();
        if (termed && !killed && now >= kill_at) {
            kill(-pid, SIGKILL);
            killed = 1;
        }
        if (killed && exited)
            break; /* what is left of the group holds the pipes: stop reading */
        struct pollfd pf[4] = {{out.fd, POLLIN, 0},
                               {errc.fd, POLLIN, 0},
                               {exited ? -1 : status_r, POLLIN, 0},
                               {termed ? -1 : cfd, POLLIN, 0}};
        int timeout = s->job && cfd < 0 ? 50 : -1; /* without a cancel descriptor, ask every 50 ms */
        if (termed && !killed) {
            int left = (int)((kill_at - now) * 1000) + 1;
            if (timeout < 0 || left < timeout)
                timeout = left;
        }
        if (s->on_output && (out.len != pub_out || errc.len != pub_err) && (timeout < 0 || timeout > 100))
            timeout = 100;
        int pr = poll(pf, 4, timeout);
        if (pr < 0 && errno != EINTR) {
            rc = bgj_err_set(err, BGJ_ESYS, "poll: %s", strerror(errno));
            kill(-pid, SIGKILL);
            goto done;
        }
        struct cap *caps[2] = {&out, &errc};
        for (int i = 0; i < 2; i++)
            if (pr > 0 && pf[i].revents) {
                int r = cap_read(caps[i], max, &res->output_exceeded);
                if (r == BGJ_ENOMEM) {
                    rc = bgj_err_set(err, BGJ_ENOMEM, NULL);
                    kill(-pid, SIGKILL);
                    goto done;
                }
                if (r == 0)
                    close_fd(&caps[i]->fd);
            }
        if (!exited && pr > 0 && pf[2].revents) {
            int got = read_status(status_r, &st);
            if (got == 1 && st.kind == ST_EXITED) {
                exited = 1;
                wstatus = st.value;
            } else if (got == 0) {
                exited = 1; /* the spawner is gone: it killed the group */
                wstatus = SIGKILL;
            }
        }
        if (s->on_output && (out.len != pub_out || errc.len != pub_err) && bgj_mono() - last_pub >= 0.1) {
            s->on_output(s->ctx, out.buf ? out.buf : "", out.len, errc.buf ? errc.buf : "", errc.len);
            pub_out = out.len;
            pub_err = errc.len;
            last_pub = bgj_mono();
        }
    }
    if (WIFEXITED(wstatus))
        res->exit_status = WEXITSTATUS(wstatus);
    else if (WIFSIGNALED(wstatus))
        res->term_signal = WTERMSIG(wstatus);
    res->cancelled = res->cancelled || job_cancelled(s->job);
    res->out = out.buf ? out.buf : strdup("");
    res->out_len = out.len;
    res->err = errc.buf ? errc.buf : strdup("");
    res->err_len = errc.len;
    out.buf = errc.buf = NULL;
    if (!res->out || !res->err) {
        bgj_spawn_free(res);
        rc = bgj_err_set(err, BGJ_ENOMEM, NULL);
    }
    goto done;
sys:
    e = errno;
    for (int i = 0; i < 3; i++)
        if (own[i])
            close_fd(&child_fd[i]);
    sect_leave();
    rc = bgj_err_set(err, BGJ_ESYS, "%s: cannot start: %s", s->argv[0], strerror(e));
done:
    free(blob);
    free(out.buf);
    free(errc.buf);
    close_fd(&out.fd);
    close_fd(&errc.fd);
    close_fd(&status_r);
    close_fd(&status_w);
    return rc;
}

/* ---- api->spawn ---- */

int bgj_spawn_job(bgjob_job *job, const struct bgjob_spawn_req *req, struct bgjob_spawn_res *res, char *msg,
                  size_t msglen)
{
    memset(res, 0, sizeof *res);
    res->exit_status = -1;
    if (!req || !req->argv || !req->argv[0] || !req->argv[0][0]) {
        snprintf(msg, msglen, "spawn: no program given");
        return -1;
    }
    int given[3] = {req->stdin_fd - 1, req->stdout_fd - 1, req->stderr_fd - 1};
    bgj_spawn_thread_setup(given, 3);
    const struct bgj_jobenv *env = job ? bgj_callback_env(job) : NULL;
    char *const *envp = req->envp ? (char *const *)req->envp : env ? env->envp : NULL;
    const char *path_var = NULL;
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            path_var = envp[i] + 5;
    int cwd_fd = bgj_jobenv_cwd_fd((struct bgj_jobenv *)env), own_cwd = -1;
    if (req->cwd) {
        own_cwd = move_high(open(req->cwd, O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (own_cwd < 0) {
            snprintf(msg, msglen, "%s: %s", req->cwd, strerror(errno));
            return -1;
        }
        cwd_fd = own_cwd;
    }
    const char *name = req->argv[0];
    char *path = NULL;
    int found = bgj_spawn_lookup(name, path_var, cwd_fd, &path);
    if (found != 0) {
        if (found == 127)
            snprintf(msg, msglen, "%s: %s", name,
                     strchr(name, '/') ? "No such file or directory" : "command not found");
        else if (found == 126)
            snprintf(msg, msglen, "%s: Permission denied", name);
        else
            snprintf(msg, msglen, "%s: out of memory", name);
        res->exit_status = found > 0 ? found : -1;
        if (own_cwd >= 0)
            close(own_cwd);
        return -1;
    }
    struct bgj_spawn s = {
        .path = path,
        .argv = (char *const *)req->argv,
        .envp = envp,
        .cwd_fd = cwd_fd,
        .set_umask = env != NULL,
        .umask = env ? env->umask : 022,
        .fd = {req->stdin_fd - 1, req->stdout_fd - 1, req->stderr_fd - 1},
        .max_output = req->max_output ? req->max_output
                      : env           ? env->max_output
                                      : 0,
        .kill_grace = env ? env->kill_grace : -1,
        .job = job,
    };
    struct bgj_err err = {0};
    int rc = bgj_spawn_run(&s, res, &err);
    free(path);
    if (own_cwd >= 0)
        close(own_cwd);
    if (rc != BGJ_OK) {
        snprintf(msg, msglen, "%s", bgj_err_text(&err));
        bgj_err_clear(&err);
        return -1;
    }
    return 0;
}
