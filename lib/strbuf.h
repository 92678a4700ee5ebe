/*
 * strbuf.h - the growable string buffer of lib/ and a few string helpers.
 *
 * A buffer starts zeroed (`struct bgj_strbuf b = {0};`).  Appending never
 * fails loudly: when memory runs out the buffer frees its text and stays
 * empty with `oom` set, every later append does nothing, and bgj_sb_take
 * returns NULL, so a caller checks once at the end.  While not out of
 * memory, `p` is NUL-terminated once anything (even "") was appended.
 * No globals; any thread.
 */
#ifndef BGJ_STRBUF_H
#define BGJ_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct bgj_strbuf {
    char *p;
    size_t n, cap;
    int oom;
};

/* Append N bytes of S; returns 0, or BGJ_ENOMEM (then and from now on). */
int bgj_sb_add(struct bgj_strbuf *b, const char *s, size_t n);
int bgj_sb_puts(struct bgj_strbuf *b, const char *s);
int bgj_sb_printf(struct bgj_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bgj_sb_vprintf(struct bgj_strbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Empty the text, keep the memory. */
void bgj_sb_reset(struct bgj_strbuf *b);
/* The malloc'd text ("" when nothing was appended), or NULL when memory ran
   out; the buffer is empty afterwards. */
char *bgj_sb_take(struct bgj_strbuf *b);
void bgj_sb_free(struct bgj_strbuf *b);

/* A malloc'd copy of the N bytes at S, NUL-terminated; NULL when out of memory. */
char *bgj_strndup(const char *s, size_t n);

#endif /* BGJ_STRBUF_H */
