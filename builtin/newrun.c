/*
 * newrun.c - the main-thread part of `bgjob new -f run CMD [ARG...]`: finds
 * CMD as bash would run it (the shell's PATH and command hash as they are
 * now; a name with a '/' as is) and refuses, as bash words it, a command
 * that is missing or not executable, before any job is numbered.
 *
 * Main thread only; no state.
 */
#include "bgjob_builtin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

extern char *search_for_command(const char *pathname, int flags);

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
    *path = found;
    return EXECUTION_SUCCESS;
}
