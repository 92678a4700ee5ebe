/*
 * jobenv.c - see jobenv.h.  The list of held directories belongs to the main
 * thread; a directory's reference count is atomic (a job's environment may
 * be freed on any thread), and a directory no job holds is closed by the
 * main thread at the next capture.
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
 * read into a buffer on the stack: no stdio (its buffer, fstat and line
 * reads).  The file is closed at once: nothing bgjob opens stays in the
 * shell's descriptor table.
 */
static mode_t current_umask(void)
{
    mode_t m = 022;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return m;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return m;
    buf[n] = 0;
    const char *u = strstr(buf, "\nUmask:");
    if (u)
        m = (mode_t)strtoul(u + 7, NULL, 8);
    return m;
}

struct bgj_dir {
    struct bgj_dir *next;
    int fd; /* the shell's table */
    dev_t dev;
    ino_t ino;
    _Atomic unsigned refs;
};

static struct bgj_dir *dirs; /* main thread */

/* The current directory, held: a shared descriptor.  Main thread.  NULL if it can not be opened. */
static struct bgj_dir *dir_capture(void)
{
    struct stat st;
    int have = stat(".", &st) == 0;
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
            close(d->fd);
            free(d);
            continue;
        }
        pp = &d->next;
    }
    if (found)
        return found;
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
    atomic_init(&d->refs, 1);
    d->next = dirs;
    dirs = d;
    return d;
}

struct bgj_jobenv *bgj_jobenv_new(char *const *envp)
{
    struct bgj_jobenv *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    size_t n = 0;
    while (envp && envp[n])
        n++;
    e->envp = calloc(n + 1, sizeof *e->envp);
    if (!e->envp) {
        free(e);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        e->envp[i] = strdup(envp[i]);
        if (!e->envp[i]) {
            bgj_jobenv_free(e);
            return NULL;
        }
    }
    e->cwd = getcwd(NULL, 0);
    e->dir = dir_capture();
    e->cwd_fd = -1;
    e->umask = current_umask();
    e->max_output = BGJ_DEFAULT_MAX_OUTPUT;
    e->kill_grace = BGJ_DEFAULT_KILL_GRACE;
    return e;
}

void bgj_jobenv_free(struct bgj_jobenv *e)
{
    if (!e)
        return;
    for (char **p = e->envp; p && *p; p++)
        free(*p);
    free(e->envp);
    if (e->cwd_fd >= 0)
        close(e->cwd_fd);
    if (e->dir)
        atomic_fetch_sub(&e->dir->refs, 1);
    free(e->cwd);
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
