/*
 * spawner.c - the spawner: the process that starts this shell's commands, so
 * that no command is ever a child of the shell (bash reaps every child of
 * its process with waitpid(-1) and throws away the statuses it does not
 * know).
 *
 * Started by the I/O thread (ioproc.c) on the first command, and again after
 * it died: a raw clone with exit signal 0 (a "clone child", invisible to
 * waitpid(-1) without __WALL, no SIGCHLD) gives back its copy of the shell's
 * memory, clones the spawner and exits; the I/O thread reaps it with
 * __WCLONE, and the spawner, orphaned, belongs to init or a subreaper, never
 * to the shell, even after an exec.  When the shell itself is PID 1 (or a
 * child subreaper) orphans come back to it: then the spawner is the shell's
 * clone child directly, exits as soon as it has no command left, and the
 * I/O thread reaps it (through a pidfd) before it reports that last command,
 * so an `exec` afterwards leaves no zombie.
 *
 * The spawner runs with every signal blocked, on raw system calls over
 * static or mmap'd memory only (no malloc, no stdio, no locks).  It starts a
 * program with clone(CLONE_VM|CLONE_VFORK) on a private stack (no page tables
 * copied, so the cost does not grow with the shell's size; safe because the
 * spawner has one thread): the child calls setsid (its own session and
 * process group), fchdir, umask, dup3s 0/1/2, closes everything else,
 * restores the empty signal mask (dispositions were reset to the default
 * when the spawner started) and execs.  An exec failure comes back through
 * the shared memory.  Each request carries the shell's resource limits of
 * that moment: the child takes those that differ from the spawner's before
 * its exec, and the spawner takes RLIMIT_NPROC itself (it counts against the
 * clone), so a `ulimit` after the spawner started reaches the programs.
 * It reaps with wait4 (signalfd on SIGCHLD) and reports
 * each program's end with its rusage.  The messages are in protocol.h.
 *
 * No locks: the spawner is a process of one thread; the shell-side entry
 * (bgj_spawner_start) is called only on the I/O thread.
 */
#define _GNU_SOURCE
#include "spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdutil.h"
#include "protocol.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#define NOSAN __attribute__((no_sanitize_address, no_sanitize("undefined"), no_sanitize("thread"), noinline))

struct sp_slot {
    pid_t pid;
    uint64_t id, grace_ms;
};

struct sp_child {
    const char *path;
    char **argv, **envp;
    int fd[3], cwd_fd;
    uint32_t umask, set_umask;
    const struct sp_start *req; /* its resource limits */
    volatile int err, stage;    /* stage 1: entering the directory failed */
};

static char sp_buf[SP_INLINE_MAX + sizeof(struct sp_start) + 64];
static uint64_t sp_rlim[SP_NRLIM][2]; /* the spawner's own limits (read at the first request, or as set) */
static unsigned char sp_rlim_known[SP_NRLIM];
static struct sp_slot *sp_slots;
static size_t sp_nslots, sp_capslots;
static char *sp_stack;
static int sp_adopted; /* the shell is PID 1 or a subreaper: exit when idle */
#define SP_STACK_SIZE   (64 * 1024)
#define SP_CLONE_FAILED 64 /* the intermediate's exit status: this plus the clone's errno */

/*
 * A system call, -errno on failure.  On x86_64 without libc: nothing the
 * spawner runs after shedding may go through the dynamic linker (a first
 * call through the PLT resolves the symbol lazily, reading the loader's
 * allocations, which may be gone) or touch errno.
 */
static NOSAN long sc(long n, long a, long b, long c, long d, long e)
{
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = 0; /* the sixth argument (mmap's offset) */
    long r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
#else
    long r = syscall(n, a, b, c, d, e, 0);
    return r < 0 ? -errno : r;
#endif
}

/*
 * glibc's clone (the new stack needs its assembly), reached through a
 * pointer the loader filled in when this object was loaded, never through a
 * lazily bound PLT entry (see sc); its errno through the address taken on
 * the I/O thread before the spawner was cloned from it.
 */
static int (*volatile sp_clone)(int (*)(void *), void *, int, void *, ...) = clone;
static int *volatile sp_errno;

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
    if (c->cwd_fd >= 0 && (r = sc(SYS_fchdir, c->cwd_fd, 0, 0, 0, 0)) < 0) {
        c->stage = 1;
        goto fail;
    }
    if (c->set_umask)
        sc(SYS_umask, (long)c->umask, 0, 0, 0, 0);
    /* the shell's limits where they differ from the spawner's (RLIMIT_NPROC: the spawner took it) */
    for (uint32_t r = 0; r < c->req->nrlim && r < SP_NRLIM; r++) {
        uint64_t want[2] = {c->req->rlim[r].cur, c->req->rlim[r].max};
        if (r != RLIMIT_NPROC && (!sp_rlim_known[r] || sp_rlim[r][0] != want[0] || sp_rlim[r][1] != want[1]))
            sc(SYS_prlimit64, 0, (long)r, (long)want, 0, 0);
    }
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

static NOSAN void sp_reply(int sock, const struct sp_reply *r)
{
    long n;
    do
        n = sc(SYS_sendto, sock, (long)r, sizeof *r, MSG_NOSIGNAL, 0);
    while (n == -EINTR);
}

/* Fills R field by field (a loop or an initialiser may become a call to an intercepted memset). */
static NOSAN void sp_fill(struct sp_reply *r, uint32_t type, uint64_t id, int32_t value, int32_t status)
{
    r->type = type;
    r->value = value;
    r->id = id;
    r->status = status;
    r->pad = 0;
    r->maxrss_kb = r->utime_us = r->stime_us = 0;
}

static NOSAN void sp_say(int sock, uint32_t type, uint64_t id, int32_t value, int32_t status)
{
    struct sp_reply r;
    sp_fill(&r, type, id, value, status);
    sp_reply(sock, &r);
}

static NOSAN int sp_add_slot(pid_t pid, uint64_t id, uint64_t grace)
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
    sp_slots[sp_nslots].id = id;
    sp_slots[sp_nslots].grace_ms = grace;
    sp_nslots++;
    return 0;
}

static NOSAN void sp_reap(int sock)
{
    for (;;) {
        int st = 0;
        struct rusage ru;
        long pid = sc(SYS_wait4, -1, (long)&st, WNOHANG, (long)&ru, 0);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < sp_nslots; i++)
            if (sp_slots[i].pid == pid) {
                struct sp_reply r;
                sp_fill(&r, SP_EXIT, sp_slots[i].id, (int32_t)pid, st);
                r.maxrss_kb = ru.ru_maxrss;
                r.utime_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
                r.stime_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
                if (sock >= 0)
                    sp_reply(sock, &r);
                sp_slots[i] = sp_slots[--sp_nslots];
                break;
            }
    }
}

/* Handles one START message in sp_buf (N bytes) with the descriptors FDS (NFDS). */
static NOSAN void sp_request(int sock, long n, int *fds, int nfds)
{
    const struct sp_start *h = (const struct sp_start *)sp_buf;
    int ok = n >= (long)sizeof *h && h->magic == SP_MAGIC && h->type == SP_START;
    uint64_t id = ok ? h->id : 0;
    int need = ok ? 3 + !!(h->flags & SP_F_CWD) + !!(h->flags & SP_F_MEMFD) : -1;
    const char *blob = NULL;
    long mapped = 0;
    char **vec = NULL;
    size_t veclen = 0;
    int err = EINVAL, stage = 0;
    if (!ok || nfds != need)
        goto out;
    int k = 3, cwd = -1;
    if (h->flags & SP_F_CWD)
        cwd = fds[k++];
    if (h->flags & SP_F_MEMFD) {
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
        .req = h,
        .err = 0,
        .stage = 0,
    };
    /* The shell's resource limits of now.  The command takes them (sp_child), where they differ
       from the spawner's own, read here once.  The spawner itself takes only RLIMIT_NPROC, which
       counts against its clone: a low limit of descriptors or memory in the spawner could keep it
       from receiving the next request.  A limit that can not be taken (a hard limit raised by a
       shell with a privilege the spawner lacks) stays as it is. */
    for (uint32_t r = 0; r < h->nrlim && r < SP_NRLIM; r++) {
        if (!sp_rlim_known[r] && sc(SYS_prlimit64, 0, (long)r, 0, (long)sp_rlim[r], 0) == 0)
            sp_rlim_known[r] = 1;
    }
    if (h->nrlim > RLIMIT_NPROC) {
        uint64_t want[2] = {h->rlim[RLIMIT_NPROC].cur, h->rlim[RLIMIT_NPROC].max};
        if ((!sp_rlim_known[RLIMIT_NPROC] || sp_rlim[RLIMIT_NPROC][0] != want[0] ||
             sp_rlim[RLIMIT_NPROC][1] != want[1]) &&
            sc(SYS_prlimit64, 0, RLIMIT_NPROC, (long)want, 0, 0) == 0) {
            sp_rlim[RLIMIT_NPROC][0] = want[0];
            sp_rlim[RLIMIT_NPROC][1] = want[1];
            sp_rlim_known[RLIMIT_NPROC] = 1;
        }
    }
    int pid = sp_clone(sp_child, sp_stack + SP_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
    if (pid < 0) {
        err = *sp_errno;
        goto out;
    }
    if (c.err) {
        /* the child has exited (127); sp_reap finds no slot for it */
        err = c.err;
        stage = c.stage;
        goto out;
    }
    if (sp_add_slot(pid, id, h->grace_ms) != 0) {
        sc(SYS_kill, -pid, SIGKILL, 0, 0, 0);
        err = ENOMEM;
        goto out;
    }
    sp_say(sock, SP_STARTED, id, pid, 0);
    err = 0;
out:
    if (err)
        sp_say(sock, SP_FAILED, id, err, stage);
    for (int i = 0; i < nfds; i++)
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
 * instrumentation of function entries uses such mappings); under
 * AddressSanitizer its shadow range stays (it can be split into pieces that
 * look like any other mapping).
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
#ifdef __SANITIZE_ADDRESS__
        if (hi > 0x7fff8000ul && lo < 0x10007fff8000ul)
            continue; /* AddressSanitizer's shadow (x86_64) */
#endif
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
    sp_say(sock, SP_HELLO, 0, (int32_t)sc(SYS_getpid, 0, 0, 0, 0, 0), 0);
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

    int dying = 0, served = 0;
    uint64_t deadline = 0;
    for (;;) {
        if (sp_adopted && served && !dying && sp_nslots == 0) {
            /* idle: say so and exit (the shell reaps us, and starts another when needed) */
            struct pollfd q = {sock, POLLIN, 0};
            if (sc(SYS_poll, (long)&q, 1, 0, 0, 0) == 0) {
                sp_say(sock, SP_BYE, 0, 0, 0);
                sc(SYS_exit_group, 0, 0, 0, 0, 0);
            }
        }
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
            timeout = deadline ? (long)(deadline - now) : -1;
        }
        struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000};
        long r = sc(SYS_ppoll, (long)pf, 2, timeout < 0 ? 0 : (long)&ts, 0, 8);
        if (r < 0 && r != -EINTR && r != -EAGAIN)
            continue;
        if (pf[0].revents) {
            struct signalfd_siginfo si[8];
            while (sc(SYS_read, sfd, (long)si, sizeof si, 0, 0) > 0)
                ;
            sp_reap(dying ? -1 : sock);
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
            /* the control messages walked by hand: CMSG_NXTHDR may be a libc call (see sc) */
            for (size_t off = 0; off + sizeof(struct cmsghdr) <= msg.msg_controllen;) {
                struct cmsghdr *c = (struct cmsghdr *)(cm.buf + off);
                if (c->cmsg_len < CMSG_LEN(0) || off + c->cmsg_len > msg.msg_controllen)
                    break;
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                    int cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                    const int *in = (const int *)CMSG_DATA(c);
                    for (int i = 0; i < cnt && nfds < 8; i++)
                        fds[nfds++] = in[i];
                }
                off += CMSG_ALIGN(c->cmsg_len);
            }
            if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
                n = 0; /* rejected by sp_request */
            sp_request(sock, n, fds, nfds);
            served = 1;
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
    /* the clone's errno for the I/O thread, above any status a tool running
       this process may give its own exit (valgrind's --error-exitcode) */
    sc(SYS_exit_group, pid < 0 ? SP_CLONE_FAILED + (int)-pid : 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

static NOSAN __attribute__((noreturn)) void sp_adopted_main(int sock)
{
    sp_shed_memory();
    sp_adopted = 1;
    spawner_main(sock);
}

/* ---- the shell side (I/O thread) ---- */

int bgj_spawner_adopts(void)
{
    int sub = 0;
    return getpid() == 1 || (prctl(PR_GET_CHILD_SUBREAPER, &sub) == 0 && sub);
}

int bgj_spawner_start(int *sock, int *pidfd)
{
    *sock = -1;
    *pidfd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    int adopted = bgj_spawner_adopts();
    sp_errno = &errno; /* this thread's: the spawner's after the clone */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pfd = -1;
    /* exit signal 0: a clone child, never seen by bash's waitpid(-1) */
    long pid = syscall(SYS_clone, adopted ? (long)CLONE_PIDFD : 0L, NULL, adopted ? &pfd : NULL, NULL, NULL);
    if (pid == 0) {
        if (adopted)
            sp_adopted_main(sv[1]);
        sp_intermediate(sv[1]);
    }
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return -e;
    }
    if (!adopted) {
        /* reap the intermediate at once: it exits right after its clone */
        int st = 0;
        while (waitpid((pid_t)pid, &st, __WCLONE) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(st) && WEXITSTATUS(st) > SP_CLONE_FAILED) { /* its clone failed (RLIMIT_NPROC, say) */
            close(sv[0]);
            return -(WEXITSTATUS(st) - SP_CLONE_FAILED);
        }
    }
    *sock = sv[0];
    *pidfd = pfd;
    return 0;
}

void bgj_spawner_reap(int pidfd)
{
    siginfo_t si;
    while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | __WCLONE) < 0 && errno == EINTR)
        ;
}
