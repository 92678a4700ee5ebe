/*
 * lookup.c - finds a command as bash would (spawn.h).  No state; any thread.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bgj_lookup_status(int rc) { return rc == BGJ_ENOTFOUND ? 127 : 126; }

int bgj_spawn_lookup(const char *name, const char *path, int dirfd, char **out)
{
    *out = NULL;
    struct stat st;
    if (!name || !*name)
        return BGJ_ENOTFOUND;
    if (strchr(name, '/')) {
        if (fstatat(dirfd >= 0 ? dirfd : AT_FDCWD, name, &st, 0) != 0)
            return BGJ_ENOTFOUND;
        if (S_ISDIR(st.st_mode) || faccessat(dirfd >= 0 ? dirfd : AT_FDCWD, name, X_OK, AT_EACCESS) != 0)
            return BGJ_ENOEXEC;
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
        return BGJ_ENOEXEC;
    }
    return BGJ_ENOTFOUND;
}
