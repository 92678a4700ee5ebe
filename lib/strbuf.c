/*
 * strbuf.c - the growable string buffer (see strbuf.h).
 * No globals; any thread.
 */
#include "strbuf.h"
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sb_fail(struct bgj_strbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    b->oom = 1;
    return BGJ_ENOMEM;
}

/* Room for N more bytes and the NUL. */
static int sb_reserve(struct bgj_strbuf *b, size_t n)
{
    if (b->oom)
        return BGJ_ENOMEM;
    if (b->n + n + 1 <= b->cap)
        return 0;
    size_t ncap = (b->n + n + 1) * 2;
    char *np = realloc(b->p, ncap);
    if (!np)
        return sb_fail(b);
    b->p = np;
    b->cap = ncap;
    return 0;
}

int bgj_sb_add(struct bgj_strbuf *b, const char *s, size_t n)
{
    if (sb_reserve(b, n) < 0)
        return BGJ_ENOMEM;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

int bgj_sb_puts(struct bgj_strbuf *b, const char *s) { return bgj_sb_add(b, s, strlen(s)); }

int bgj_sb_vprintf(struct bgj_strbuf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return sb_fail(b);
    if (sb_reserve(b, (size_t)n) < 0)
        return BGJ_ENOMEM;
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    b->n += (size_t)n;
    return 0;
}

int bgj_sb_printf(struct bgj_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = bgj_sb_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

void bgj_sb_reset(struct bgj_strbuf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *bgj_sb_take(struct bgj_strbuf *b)
{
    if (bgj_sb_add(b, "", 0) < 0) {
        b->oom = 0;
        return NULL;
    }
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

void bgj_sb_free(struct bgj_strbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *bgj_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}
