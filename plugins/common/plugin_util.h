/*
 * plugin_util.h - helpers shared by the plugins shipped with bgjob (the
 * directories of plugins/): a growable string, the process umask and the
 * steps of an init function.  Header only (static inline), so that each
 * plugin still builds from its own directory with nothing but pkg-config
 * flags and -I../common.  No shared state: a buffer belongs to its caller.
 */
#ifndef BGJOB_PLUGIN_UTIL_H
#define BGJOB_PLUGIN_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <bgjob.h>

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
    unsigned m = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &m) == 1)
                break;
        fclose(f);
    }
    return (mode_t)m;
}

/* ---- the init function ---- */

/* Keeps TABLE in *API and checks that it is version 2 or later, the API the
   plugins use; 0, or 1 after saying so on stderr as plugin NAME. */
static inline int pu_init(const struct bgjob_api **api, const struct bgjob_api *table, const char *name)
{
    *api = table;
    if (table->version < 2) {
        fprintf(stderr, "%s: needs bgjob plugin API version 2 or later\n", name);
        return 1;
    }
    return 0;
}

/* Registers callback NAME (FN, USAGE, no payload) and CHECK, its check of
   the arguments at `bgjob new`; 0, or 1 when either fails. */
static inline int pu_register(const struct bgjob_api *api, const char *name, bgjob_callback fn,
                              const char *usage, bgjob_check check)
{
    return api->register_callback(name, fn, usage, NULL, NULL) || api->set_check(name, check) ? 1 : 0;
}

#endif
