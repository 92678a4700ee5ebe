/*
 * newrun.c - the main-thread part of `bgjob new -f run CMD [ARG...]`: finds
 * CMD as bash would run it (the shell's PATH and command hash as they are
 * now; a name with a '/' as is) and refuses, as bash words it, a command
 * that can't be executed, before any job is numbered: missing or not
 * executable, a script whose #! interpreter is missing or not executable,
 * arguments and environment larger than execve takes.
 *
 * Main thread only; no state.
 */
#include "bgjob_builtin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

extern char *search_for_command(const char *pathname, int flags);

static int check_interpreter(const char *path);

int bgj_run_find(const char *cmd, char **path)
{
    *path = NULL;
    char *found = NULL;
    if (strchr(cmd, '/'))
        found = strdup(cmd);
    else {
        char *p = search_for_command(cmd, 0);
        if (!p) {
            builtin_error("%s: command not found", cmd);
            return EX_NOTFOUND;
        }
        found = strdup(p);
        free(p);
    }
    if (!found) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    struct stat st;
    const char *why = NULL;
    int status = EX_NOEXEC;
    if (stat(found, &st) != 0) {
        why = strerror(errno);
        status = errno == ENOENT ? EX_NOTFOUND : EX_NOEXEC;
    } else if (S_ISDIR(st.st_mode))
        why = strerror(EISDIR);
    else if (faccessat(AT_FDCWD, found, X_OK, AT_EACCESS) != 0)
        why = strerror(errno);
    if (why) {
        builtin_error("%s: %s", cmd, why);
        free(found);
        return status;
    }
    status = check_interpreter(found);
    if (status != EXECUTION_SUCCESS) {
        free(found);
        return status;
    }
    *path = found;
    return EXECUTION_SUCCESS;
}

/*
 * A script's `#!' interpreter, as the kernel reads it: after `#!' and blanks,
 * up to the next blank or newline.  The kernel fails the exec with ENOENT
 * when it is missing and EACCES when it can't be executed; bash 5.2 then
 * says "PATH: cannot execute: required file not found" (127) or "PATH:
 * INTERP: bad interpreter: Permission denied" (126).  0, or that status
 * after printing.
 */
static int check_interpreter(const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return EXECUTION_SUCCESS; /* the exec will say (e.g. execute-only file) */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 2 || buf[0] != '#' || buf[1] != '!')
        return EXECUTION_SUCCESS;
    buf[n] = 0;
    char *p = buf + 2;
    p += strspn(p, " \t");
    size_t len = strcspn(p, " \t\n");
    if (len == 0 || p[len] == 0)
        return EXECUTION_SUCCESS; /* none, or longer than we read: left to the exec */
    p[len] = 0;
    struct stat st;
    if (stat(p, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            return EXECUTION_SUCCESS;
        builtin_error("%s: cannot execute: required file not found", path);
        return EX_NOTFOUND;
    }
    if (S_ISDIR(st.st_mode) || faccessat(AT_FDCWD, p, X_OK, AT_EACCESS) != 0) {
        builtin_error("%s: %s: bad interpreter: %s", path, p, strerror(EACCES));
        return EX_NOEXEC;
    }
    return EXECUTION_SUCCESS;
}

/*
 * The kernel's limits on execve's arguments (fs/exec.c): each string at
 * most 32 pages, and all of them with their pointers at most a quarter of
 * the stack limit, capped at 6 MiB and never below 128 KiB.
 */
int bgj_run_fits(const char *path, int argc, char **argv, char *const *envp)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t max_string = (size_t)(page > 0 ? page : 4096) * 32;
    size_t limit = (size_t)6 << 20;
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < limit)
        limit = (size_t)(rl.rlim_cur / 4);
    if (limit < (size_t)128 << 10)
        limit = (size_t)128 << 10;
    size_t total = strlen(path) + 1;
    int too_long = 0;
    for (int i = 0; i < argc && !too_long; i++) {
        size_t len = strlen(argv[i]) + 1;
        too_long = len > max_string;
        total += len + sizeof(char *);
    }
    for (char *const *e = envp; e && *e && !too_long; e++) {
        size_t len = strlen(*e) + 1;
        too_long = len > max_string;
        total += len + sizeof(char *);
    }
    if (!too_long && total <= limit)
        return EXECUTION_SUCCESS;
    builtin_error("%s: %s", path, strerror(E2BIG));
    return EX_NOEXEC;
}
