/*
 * jobenv.c - see jobenv.h.  The list of held directories and the last copy
 * of the environment belong to the main thread; their reference counts are
 * atomic (a job's environment may be freed on any thread).  A directory no
 * job holds is closed by the main thread at the next capture; a copy of the
 * environment is freed by whoever drops its last reference.
 */
#define _GNU_SOURCE
#include "jobenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdutil.h"

/*
 * The process umask, read from /proc so that it is never changed, even for a
 * moment (a worker creating a file meanwhile would get the wrong mode).  One
 * pread into a buffer on the stack (no stdio).  The file stays open above
 * BGJ_HIGH_FD (main thread only), opened again in a forked child (its
 * /proc/self is still the parent) and whenever what it reads is not this
 * process's status (the shell closed the descriptor, or its number now names
 * another file).
 */
static int status_fd = -1;
static pid_t status_pid;
static dev_t status_dev;
static ino_t status_ino;

/* Forgets the descriptor; closes it only while it is still the file opened. */
static void status_drop(void)
{
    struct stat st;
    if (fstat(status_fd, &st) == 0 && st.st_dev == status_dev && st.st_ino == status_ino)
        close(status_fd);
    status_fd = -1;
}

static ssize_t read_status(char *buf, size_t size, pid_t pid)
{
    if (status_fd >= 0 && status_pid != pid)
        status_drop(); /* the parent's, inherited by this child */
    for (int tries = 0; tries < 2; tries++) {
        if (status_fd < 0) {
            struct stat st;
            status_fd = bgj_fd_high(open("/proc/self/status", O_RDONLY | O_CLOEXEC));
            if (status_fd < 0)
                return -1;
            if (fstat(status_fd, &st) != 0) {
                close(status_fd);
                status_fd = -1;
                return -1;
            }
            status_pid = pid;
            status_dev = st.st_dev;
            status_ino = st.st_ino;
        }
        ssize_t n = pread(status_fd, buf, size - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            char want[32];
            snprintf(want, sizeof want, "\nPid:\t%d\n", (int)pid);
            if (strstr(buf, want))
                return n;
        }
        status_drop();
    }
    return -1;
}

mode_t bgj_umask_read(void)
{
    char buf[4096];
    if (read_status(buf, sizeof buf, getpid()) <= 0)
        return 022;
    const char *u = strstr(buf, "\nUmask:");
    return u ? (mode_t)strtoul(u + 7, NULL, 8) : 022;
}

struct bgj_dir {
    struct bgj_dir *next;
    int fd; /* the shell's table */
    dev_t dev;
    ino_t ino;
    _Atomic unsigned refs;
    char *path; /* its absolute name when first held (getcwd), or NULL */
};

static struct bgj_dir *dirs;     /* main thread */
static struct bgj_dir *last_dir; /* what the last capture held, while listed */

/*
 * The current directory, held: a shared descriptor.  SAME: the caller knows
 * the process has not changed directory since the last capture, so that
 * directory is taken without a path lookup (after checking that its
 * descriptor is still its own).  Main thread.  NULL if it can not be opened.
 */
static struct bgj_dir *dir_capture(int same)
{
    struct stat st;
    int have;
    if (same && last_dir) {
        st.st_dev = last_dir->dev;
        st.st_ino = last_dir->ino;
        have = 1;
    } else {
        have = stat(".", &st) == 0;
    }
    struct bgj_dir *found = NULL;
    for (struct bgj_dir **pp = &dirs; *pp;) {
        struct bgj_dir *d = *pp;
        if (have && !found && d->dev == st.st_dev && d->ino == st.st_ino) {
            struct stat now;
            if (fstat(d->fd, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino) {
                atomic_fetch_add(&d->refs, 1);
                found = d;
            }
        }
        if (d != found && atomic_load(&d->refs) == 0) {
            *pp = d->next; /* no job holds it: close it here, in the shell's table */
            if (d == last_dir)
                last_dir = NULL;
            close(d->fd);
            free(d->path);
            free(d);
            continue;
        }
        pp = &d->next;
    }
    if (found)
        return last_dir = found;
    struct bgj_dir *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    d->fd = bgj_fd_high(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (d->fd < 0 || fstat(d->fd, &st) != 0) {
        if (d->fd >= 0)
            close(d->fd);
        free(d);
        return NULL;
    }
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->path = getcwd(NULL, 0);
    atomic_init(&d->refs, 1);
    d->next = dirs;
    dirs = d;
    return last_dir = d;
}

/*
 * The exported environment, shared: jobs made while it does not change hold
 * one copy (one allocation: the vector and its strings).  The main thread
 * keeps the last one and compares the shell's export list with it at each
 * capture; a reference count (atomic: a job's environment may be freed on
 * any thread) frees a copy once neither a job nor the cache holds it.
 */
struct bgj_envblock {
    _Atomic unsigned refs;
    size_t n;
    char *v[]; /* n strings and a NULL, then the strings themselves */
};

static struct bgj_envblock *last_env; /* main thread; holds one reference */

static void env_unref(struct bgj_envblock *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

static int env_same(const struct bgj_envblock *b, char *const *envp)
{
    size_t i = 0;
    for (; envp && envp[i]; i++)
        if (i >= b->n || strcmp(b->v[i], envp[i]) != 0)
            return 0;
    return i == b->n;
}

static struct bgj_envblock *env_capture(char *const *envp)
{
    if (last_env && env_same(last_env, envp)) {
        atomic_fetch_add(&last_env->refs, 1);
        return last_env;
    }
    size_t n = 0, bytes = 0;
    for (; envp && envp[n]; n++)
        bytes += strlen(envp[n]) + 1;
    struct bgj_envblock *b = malloc(sizeof *b + (n + 1) * sizeof b->v[0] + bytes);
    if (!b)
        return NULL;
    char *p = (char *)&b->v[n + 1];
    for (size_t i = 0; i < n; i++) {
        b->v[i] = p;
        p = stpcpy(p, envp[i]) + 1;
    }
    b->v[n] = NULL;
    b->n = n;
    atomic_init(&b->refs, 2); /* the job's and the cache's */
    env_unref(last_env);
    last_env = b;
    return b;
}

struct bgj_jobenv *bgj_jobenv_new(char *const *envp, mode_t umask, int same_dir)
{
    struct bgj_jobenv *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->env = env_capture(envp);
    if (!e->env) {
        free(e);
        return NULL;
    }
    e->envp = e->env->v;
    e->dir = dir_capture(same_dir);
    if (e->dir && e->dir->path)
        e->cwd = e->dir->path; /* shared: jobs made in one directory hold one name */
    else
        e->cwd = e->cwd_own = getcwd(NULL, 0);
    e->cwd_fd = -1;
    e->umask = umask;
    e->max_output = BGJ_DEFAULT_MAX_OUTPUT;
    e->kill_grace = BGJ_DEFAULT_KILL_GRACE;
    return e;
}

void bgj_jobenv_free(struct bgj_jobenv *e)
{
    if (!e)
        return;
    env_unref(e->env);
    if (e->cwd_fd >= 0)
        close(e->cwd_fd);
    if (e->dir)
        atomic_fetch_sub(&e->dir->refs, 1);
    free(e->cwd_own);
    free(e->exec_path);
    free(e);
}

int bgj_jobenv_cwd_fd(struct bgj_jobenv *e)
{
    if (!e || (!e->dir && !e->cwd))
        return -1;
    if (e->cwd_fd < 0 && !e->cwd_errno) {
        int fd = -1;
        if (e->dir) {
            /* the held descriptor, from the shell's table into this thread's */
            char p[64];
            snprintf(p, sizeof p, "/proc/self/fd/%d", e->dir->fd);
            fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0 && e->cwd)
            fd = open(e->cwd, O_PATH | O_DIRECTORY | O_CLOEXEC); /* no /proc: by name */
        if (fd < 0)
            e->cwd_errno = errno ? errno : ENOENT;
        e->cwd_fd = fd;
    }
    return e->cwd_fd;
}

int bgj_jobenv_open(struct bgj_jobenv *e, const char *path, int flags, mode_t mode)
{
    flags |= O_CLOEXEC;
    if (path[0] == '/')
        return open(path, flags, mode);
    if (e && e->cwd_fd < 0 && !e->cwd_errno && e->dir) {
        /* One path walk, through the held descriptor, instead of opening the directory first. */
        char p[4096];
        int n = snprintf(p, sizeof p, "/proc/self/fd/%d/%s", e->dir->fd, path);
        if (n > 0 && (size_t)n < sizeof p) {
            int fd = open(p, flags, mode);
            if (fd >= 0 || (errno != ENOENT && errno != ENOTDIR))
                return fd;
            /* not found: the directory itself may be out of reach (no /proc); the long way says which */
        }
    }
    int dfd = bgj_jobenv_cwd_fd(e);
    return openat(dfd >= 0 ? dfd : AT_FDCWD, path, flags, mode);
}

const char *bgj_jobenv_get(const struct bgj_jobenv *e, const char *name)
{
    if (!e || !name)
        return NULL;
    size_t len = strlen(name);
    for (char **p = e->envp; *p; p++)
        if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
            return *p + len + 1;
    return NULL;
}
