/*
 * jobenv.c - see jobenv.h.  No shared state.
 */
#define _GNU_SOURCE
#include "jobenv.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The process umask, read from /proc so that it is never changed, even for a
 * moment (a worker creating a file meanwhile would get the wrong mode).
 */
static mode_t current_umask(void)
{
    mode_t m = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return m;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Umask:", 6) == 0) {
            m = (mode_t)strtoul(line + 6, NULL, 8);
            break;
        }
    fclose(f);
    return m;
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
    free(e->cwd);
    free(e->exec_path);
    free(e);
}

int bgj_jobenv_cwd_fd(struct bgj_jobenv *e)
{
    if (!e || !e->cwd)
        return -1;
    if (e->cwd_fd < 0) {
        int fd = open(e->cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && fd < 230) {
            int high = fcntl(fd, F_DUPFD_CLOEXEC, 230);
            if (high >= 0) {
                close(fd);
                fd = high;
            }
        }
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
