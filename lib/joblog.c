/*
 * joblog.c - see joblog.h.
 */
#define _GNU_SOURCE
#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdutil.h"
#include "loop.h"
#include "record.h"
#include "strbuf.h"

static struct {
    pthread_mutex_t lock;
    _Atomic int active; /* a log is open (read without the lock to skip quickly) */
    int json;
    int shell_fd;    /* the shell's table */
    int bg_fd;       /* bgjob's table (opened there), or -1 */
    unsigned gen;    /* bumped at each start and stop */
    unsigned bg_gen; /* the gen bg_fd was opened for */
    char *shown;
} G = {.lock = PTHREAD_MUTEX_INITIALIZER, .shell_fd = -1, .bg_fd = -1};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void prepare(void) { pthread_mutex_lock(&G.lock); }
static void parent(void) { pthread_mutex_unlock(&G.lock); }
static void child(void)
{
    pthread_mutex_init(&G.lock, NULL);
    G.bg_fd = -1; /* bgjob's table is not the child's */
}
static void register_atfork(void) { pthread_atfork(prepare, parent, child); }

/* Writes all N bytes at S to FD (a short write to a full disk keeps what it wrote). */
static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

int bgj_joblog_active(void) { return atomic_load_explicit(&G.active, memory_order_relaxed); }

int bgj_joblog_start(const char *path, const char *shown, int json, struct bgj_err *err)
{
    pthread_once(&atfork_once, register_atfork);
    char *copy = strdup(shown);
    if (!copy)
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        free(copy);
        return bgj_err_set(err, BGJ_ESYS, "%s: %s", shown, strerror(e));
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
        close(fd);
        free(copy);
        return bgj_err_set(err, BGJ_ESYS, "%s: not a file", shown);
    }
    fd = bgj_fd_high(fd);
    if (!json && S_ISREG(st.st_mode) && st.st_size == 0)
        write_all(fd, bgj_rec_joblog_header, strlen(bgj_rec_joblog_header));
    pthread_mutex_lock(&G.lock);
    int old = G.shell_fd;
    char *old_shown = G.shown;
    G.shell_fd = fd;
    G.shown = copy;
    G.json = json;
    G.gen++;
    atomic_store(&G.active, 1);
    pthread_mutex_unlock(&G.lock);
    if (old >= 0)
        close(old);
    free(old_shown);
    return 0;
}

void bgj_joblog_stop(void)
{
    pthread_mutex_lock(&G.lock);
    int old = G.shell_fd;
    char *old_shown = G.shown;
    G.shell_fd = -1;
    G.shown = NULL;
    G.gen++;
    atomic_store(&G.active, 0);
    pthread_mutex_unlock(&G.lock);
    if (old >= 0)
        close(old);
    free(old_shown);
}

char *bgj_joblog_where(int *json)
{
    pthread_mutex_lock(&G.lock);
    char *s = G.shown ? strdup(G.shown) : NULL;
    *json = G.json;
    pthread_mutex_unlock(&G.lock);
    return s;
}

/* The descriptor this thread writes the log with (under the lock), or -1. */
static int writer_fd(void)
{
    if (!bgj_loop_here())
        return G.shell_fd;
    if (G.bg_fd >= 0 && G.bg_gen != G.gen) {
        close(G.bg_fd);
        G.bg_fd = -1;
    }
    if (G.bg_fd < 0 && G.shell_fd >= 0) {
        char p[40];
        snprintf(p, sizeof p, "/proc/self/fd/%d", G.shell_fd);
        G.bg_fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (G.bg_fd < 0 && G.shown) /* no /proc: by its absolute name */
            G.bg_fd = open(G.shown, O_WRONLY | O_APPEND | O_CLOEXEC);
        G.bg_gen = G.gen;
    }
    return G.bg_fd;
}

void bgj_joblog_ended(const bgjob_job *j, int state)
{
    if (!atomic_load_explicit(&G.active, memory_order_relaxed))
        return;
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&G.lock);
    int json = G.json;
    pthread_mutex_unlock(&G.lock);
    struct bgj_strbuf b = {0};
    for (int tries = 0; tries < 3; tries++) {
        bgj_sb_reset(&b);
        /* formatted without the lock (it takes the info lock) */
        if (json)
            bgj_rec_json(&b, j, state, 1);
        else
            bgj_rec_joblog(&b, j, state);
        if (b.oom)
            break;
        pthread_mutex_lock(&G.lock);
        if (G.json != json) { /* the log changed format meanwhile: again */
            json = G.json;
            pthread_mutex_unlock(&G.lock);
            continue;
        }
        int fd = writer_fd();
        if (fd >= 0)
            write_all(fd, b.p, b.n);
        pthread_mutex_unlock(&G.lock);
        break;
    }
    bgj_sb_free(&b);
}
