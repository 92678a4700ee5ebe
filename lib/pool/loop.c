/*
 * loop.c - the I/O thread (see loop.h for why and what).
 *
 * Locking: L.lock (taken alone, for a few instructions) guards `running` and
 * the hook table.  The epoll set and every watch belong to the loop thread.
 * The doorbell is an eventfd in the shell's table, made on the main thread
 * before the loop splits its table off, so every thread can ring it.
 */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "errors.h"
#include "fdutil.h"
#include "jobs.h"

#define MAX_HOOKS 4

static struct {
    pthread_mutex_t lock;
    int running;  /* the loop thread exists in this process */
    int doorbell; /* eventfd; shell's table, above BGJ_HIGH_FD */
    int epfd;     /* loop thread only */
    unsigned nhooks;
    void (*wake[MAX_HOOKS])(void);
    double (*tick[MAX_HOOKS])(double now);
} L = {.lock = PTHREAD_MUTEX_INITIALIZER, .doorbell = -1, .epfd = -1};

static __thread int tl_here; /* this thread works in bgjob's table */

int bgj_loop_here(void) { return tl_here; }
void bgj_loop_enter_thread(void) { tl_here = 1; }

int bgj_thread_start(void *(*fn)(void *), void *arg, const char *name)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, BGJ_WORKER_STACK);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int rc = pthread_create(&t, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
#ifdef __linux__
    if (rc == 0 && name)
        pthread_setname_np(t, name);
#else
    (void)name;
#endif
    return rc;
}

void bgj_loop_hook(void (*wake)(void), double (*tick)(double now))
{
    pthread_mutex_lock(&L.lock);
    if (L.nhooks < MAX_HOOKS) {
        L.wake[L.nhooks] = wake;
        L.tick[L.nhooks] = tick;
        L.nhooks++;
    }
    pthread_mutex_unlock(&L.lock);
}

void bgj_loop_wake(void)
{
    int fd = __atomic_load_n(&L.doorbell, __ATOMIC_ACQUIRE);
    if (fd >= 0)
        bgj_efd_post(fd);
}

int bgj_loop_watch(struct bgj_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(L.epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0 ? 0 : -errno;
}

int bgj_loop_rewatch(struct bgj_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(L.epfd, EPOLL_CTL_MOD, w->fd, &ev) == 0 ? 0 : -errno;
}

void bgj_loop_unwatch(struct bgj_watch *w)
{
    if (w->fd >= 0)
        epoll_ctl(L.epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/*
 * Gives the calling thread a descriptor table of its own: keeps the
 * descriptors KEEP (sorted, >= 0), closes every other one of the copy, and
 * puts /dev/null on 0, 1 and 2.
 */
static void own_table(const int *keep, int nkeep)
{
    if (unshare(CLONE_FILES) != 0)
        return; /* stays in the shell's table: no worse than before */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    unsigned from = 3; /* a sanitizer build keeps the shell's 0-2: its reports go to stderr */
#else
    unsigned from = 0;
#endif
    for (int i = 0; i < nkeep; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < from)
            continue;
        if ((unsigned)keep[i] > from)
            close_range(from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    close_range(from, ~0U, 0);
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0 && open("/dev/null", O_RDWR) != i)
            break;
}

static void *loop_main(void *unused)
{
    (void)unused;
    int keep[2] = {bgj_notify_fd(), L.doorbell};
    if (keep[0] > keep[1]) {
        int t = keep[0];
        keep[0] = keep[1];
        keep[1] = t;
    }
    own_table(keep, 2);
    tl_here = 1;
    L.epfd = epoll_create1(EPOLL_CLOEXEC);
    struct bgj_watch bell = {.fd = L.doorbell, .fn = NULL};
    bgj_loop_watch(&bell, EPOLLIN);
    struct epoll_event evs[64];
    int timeout = 0; /* a first round at once: work may have been posted before the thread ran */
    for (;;) {
        int n = epoll_wait(L.epfd, evs, 64, timeout);
        int rang = timeout == 0;
        for (int i = 0; i < n; i++) {
            struct bgj_watch *w = evs[i].data.ptr;
            if (w == &bell)
                rang = 1;
            else
                w->fn(w, evs[i].events);
        }
        pthread_mutex_lock(&L.lock);
        unsigned nh = L.nhooks;
        pthread_mutex_unlock(&L.lock);
        if (rang) {
            bgj_efd_drain(L.doorbell);
            for (unsigned h = 0; h < nh; h++)
                if (L.wake[h])
                    L.wake[h]();
        }
        double now = bgj_mono(), next = 0;
        for (unsigned h = 0; h < nh; h++) {
            double d = L.tick[h] ? L.tick[h](now) : 0;
            if (d > 0 && (next == 0 || d < next))
                next = d;
        }
        if (next == 0)
            timeout = -1;
        else {
            double ms = (next - bgj_mono()) * 1000 + 1;
            timeout = ms < 1 ? 1 : ms > 3600e3 ? 3600000 : (int)ms;
        }
    }
    return NULL;
}

int bgj_loop_start(void)
{
    int rc = bgj_init();
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&L.lock);
    if (L.running) {
        pthread_mutex_unlock(&L.lock);
        return 0;
    }
    if (L.doorbell < 0) {
        int fd = bgj_efd_new();
        __atomic_store_n(&L.doorbell, fd, __ATOMIC_RELEASE);
    }
    rc = L.doorbell < 0 ? BGJ_ESYS : bgj_thread_start(loop_main, NULL, "bgjob-io") != 0 ? BGJ_ETHREAD : 0;
    if (rc == 0)
        L.running = 1;
    pthread_mutex_unlock(&L.lock);
    return rc;
}

int bgj_loop_running(void)
{
    pthread_mutex_lock(&L.lock);
    int r = L.running;
    pthread_mutex_unlock(&L.lock);
    return r;
}

void bgj_loop_fork_child(void)
{
    pthread_mutex_init(&L.lock, NULL);
    L.running = 0;
    L.epfd = -1; /* the parent's, in a table the child does not have */
    if (L.doorbell >= 0)
        close(L.doorbell);
    __atomic_store_n(&L.doorbell, bgj_efd_new(), __ATOMIC_RELEASE);
}
