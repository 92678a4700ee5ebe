/*
 * errors.c - bgj_strerror and the struct bgj_err helpers (see errors.h).
 * No globals; any thread.
 */
#define _GNU_SOURCE
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *bgj_strerror(int code)
{
    switch (code) {
    case BGJ_OK: return "success";
#define BGJ_ERR_CASE(name, text)                                                                             \
    case BGJ_##name: return text;
        BGJ_ERRNO_MAP(BGJ_ERR_CASE)
#undef BGJ_ERR_CASE
    default: return "unknown error";
    }
}

int bgj_err_take(struct bgj_err *e, int code, char *msg)
{
    if (!e) {
        free(msg);
        return code;
    }
    free(e->msg);
    e->code = code;
    e->msg = msg;
    return code;
}

int bgj_err_set(struct bgj_err *e, int code, const char *fmt, ...)
{
    if (!e)
        return code;
    char *msg = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
            msg = NULL;
        va_end(ap);
    }
    return bgj_err_take(e, code, msg);
}

const char *bgj_err_text(const struct bgj_err *e) { return e->msg ? e->msg : bgj_strerror(e->code); }

void bgj_err_clear(struct bgj_err *e)
{
    free(e->msg);
    e->msg = NULL;
    e->code = BGJ_OK;
}
