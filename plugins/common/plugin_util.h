/*
 * plugin_util.h - helpers shared by the plugins shipped with bgjob (the
 * directories of plugins/): a growable string and the process umask.  Header
 * only (static inline), so that each plugin still builds from its own
 * directory with nothing but pkg-config flags and -I../common.  No shared
 * state: a buffer belongs to its caller.
 */
#ifndef BGJOB_PLUGIN_UTIL_H
#define BGJOB_PLUGIN_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- a growable string ---- */

/* A NUL-terminated string S of LEN bytes in CAP allocated ones; {0} is the
   empty one.  After a failed allocation OOM is set and appends are ignored. */
struct pu_buf {
    char *s;
    size_t len, cap;
    int oom;
};

static inline void pu_add(struct pu_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static inline void pu_puts(struct pu_buf *b, const char *s) { pu_add(b, s, strlen(s)); }
static inline void pu_putc(struct pu_buf *b, char c) { pu_add(b, &c, 1); }

/* ---- the process umask ---- */

/* The process's umask, read from /proc/self/status without changing it
   (umask(2) would race with other threads creating files); 022 when it
   cannot be read. */
static inline mode_t pu_umask(void)
{
    mode_t m = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return m;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Umask:", 6)) {
            m = (mode_t)strtoul(line + 6, NULL, 8);
            break;
        }
    fclose(f);
    return m;
}

#endif
