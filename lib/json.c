/*
 * json.c - see json.h.  The writer copies runs of plain bytes at once and
 * checks each multi-byte UTF-8 sequence; the reader is a recursive-descent
 * parser of one object whose nested values are only checked.  No state.
 */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* The length of the valid UTF-8 sequence at S (N bytes left, S[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static const char hex[] = "0123456789abcdef";

void bgj_json_str(struct bgj_strbuf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    bgj_sb_add(b, "\"", 1);
    size_t run = 0; /* start of the plain bytes not yet copied */
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            continue;
        }
        size_t u = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
        if (u) {
            i += u;
            continue;
        }
        bgj_sb_add(b, str + run, i - run);
        char esc[8] = {'\\', 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\t': esc[1] = 't'; break;
        case '\r': esc[1] = 'r'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default: /* a control character, DEL, or a byte that is not UTF-8 (\udcXY) */
            memcpy(esc + 1, c >= 0x80 ? "udc" : "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        bgj_sb_add(b, esc, elen);
        run = ++i;
    }
    bgj_sb_add(b, str + run, n - run);
    bgj_sb_add(b, "\"", 1);
}

void bgj_json_cstr(struct bgj_strbuf *b, const char *s)
{
    if (s)
        bgj_json_str(b, s, strlen(s));
    else
        bgj_sb_add(b, "null", 4);
}

/* ---- the reader ---- */

struct rd {
    const char *p, *end;
    int depth;
};

static void skip_ws(struct rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(struct bgj_strbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    else
        u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    bgj_sb_add(b, u, n);
}

/* A string at r->p (its opening quote), decoded into OUT (when not NULL). */
static int read_string(struct rd *r, struct bgj_strbuf *out)
{
    if (r->p >= r->end || *r->p != '"')
        return BGJ_EINVAL;
    r->p++;
    for (;;) {
        const char *start = r->p;
        while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (unsigned char)*r->p >= 0x20)
            r->p++;
        if (out && r->p > start)
            bgj_sb_add(out, start, (size_t)(r->p - start));
        if (r->p >= r->end || (unsigned char)*r->p < 0x20)
            return BGJ_EINVAL;
        if (*r->p == '"') {
            r->p++;
            if (out)
                bgj_sb_add(out, "", 0);
            return out && out->oom ? BGJ_ENOMEM : 0;
        }
        /* a backslash */
        if (r->end - r->p < 2)
            return BGJ_EINVAL;
        char e = r->p[1];
        r->p += 2;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            if (out)
                bgj_sb_add(out, &to[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        unsigned u;
        if (e != 'u' || r->end - r->p < 4 || hex4(r->p, &u) != 0)
            return BGJ_EINVAL;
        r->p += 4;
        uint32_t cp = u;
        if (u >= 0xd800 && u <= 0xdbff) { /* a high surrogate: its low one must follow */
            unsigned lo;
            if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) != 0 ||
                lo < 0xdc00 || lo > 0xdfff)
                return BGJ_EINVAL;
            r->p += 6;
            cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        } else if (u >= 0xdc80 && u <= 0xdcff) { /* surrogateescape: the byte itself */
            char byte = (char)(u & 0xff);
            if (out)
                bgj_sb_add(out, &byte, 1);
            continue;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return BGJ_EINVAL;
        }
        if (out)
            put_utf8(out, cp);
    }
}

static int read_number(struct rd *r, struct bgj_json_val *v)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return BGJ_EINVAL;
    if (*r->p == '0')
        r->p++;
    else
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return BGJ_EINVAL;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return BGJ_EINVAL;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (v) {
        char buf[64];
        size_t n = (size_t)(r->p - s);
        if (n >= sizeof buf)
            n = sizeof buf - 1;
        memcpy(buf, s, n);
        buf[n] = 0;
        v->type = BGJ_JSON_NUMBER;
        v->num = strtod(buf, NULL);
        v->str = s;
        v->len = (size_t)(r->p - s);
    }
    return 0;
}

static int word(struct rd *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return BGJ_EINVAL;
    r->p += n;
    return 0;
}

/* Any value, only checked (nested arrays and objects, up to 64 deep). */
static int skip_value(struct rd *r)
{
    skip_ws(r);
    if (r->p >= r->end)
        return BGJ_EINVAL;
    char c = *r->p;
    if (c == '"')
        return read_string(r, NULL);
    if (c == 't')
        return word(r, "true");
    if (c == 'f')
        return word(r, "false");
    if (c == 'n')
        return word(r, "null");
    if (c != '[' && c != '{')
        return read_number(r, NULL);
    if (++r->depth > 64)
        return BGJ_EINVAL;
    char close = c == '[' ? ']' : '}';
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            skip_ws(r);
            if (read_string(r, NULL) != 0)
                return BGJ_EINVAL;
            skip_ws(r);
            if (r->p >= r->end || *r->p++ != ':')
                return BGJ_EINVAL;
        }
        if (skip_value(r) != 0)
            return BGJ_EINVAL;
        skip_ws(r);
        if (r->p >= r->end)
            return BGJ_EINVAL;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p++ != close)
            return BGJ_EINVAL;
        r->depth--;
        return 0;
    }
}

int bgj_json_object(const char *text, size_t n, int (*fn)(const char *, const struct bgj_json_val *, void *),
                    void *ctx)
{
    struct rd r = {text, text + n, 0};
    struct bgj_strbuf key = {0}, val = {0};
    int rc = BGJ_EINVAL;
    skip_ws(&r);
    if (r.p >= r.end || *r.p++ != '{')
        goto out;
    skip_ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
        goto end;
    }
    for (;;) {
        skip_ws(&r);
        bgj_sb_reset(&key);
        bgj_sb_reset(&val);
        int e = read_string(&r, &key);
        if (e != 0) {
            rc = e;
            goto out;
        }
        skip_ws(&r);
        if (r.p >= r.end || *r.p++ != ':')
            goto out;
        skip_ws(&r);
        struct bgj_json_val v = {0};
        if (r.p >= r.end)
            goto out;
        const char *at = r.p;
        if (*at == '"') {
            if ((e = read_string(&r, &val)) != 0) {
                rc = e;
                goto out;
            }
            v.type = BGJ_JSON_STRING;
            v.str = val.p;
            v.len = val.n;
        } else if (*at == 't' || *at == 'f') {
            if (skip_value(&r) != 0)
                goto out;
            v.type = BGJ_JSON_BOOL;
            v.truth = *at == 't';
        } else if (*at == 'n') {
            if (skip_value(&r) != 0)
                goto out;
            v.type = BGJ_JSON_NULL;
        } else if (*at == '[' || *at == '{') {
            if (skip_value(&r) != 0)
                goto out;
            v.type = BGJ_JSON_OTHER;
            v.str = at;
            v.len = (size_t)(r.p - at);
        } else if (read_number(&r, &v) != 0) {
            goto out;
        }
        int f = fn(key.p, &v, ctx);
        if (f != 0) {
            rc = f;
            goto out;
        }
        skip_ws(&r);
        if (r.p >= r.end)
            goto out;
        if (*r.p == ',') {
            r.p++;
            continue;
        }
        if (*r.p++ != '}')
            goto out;
        break;
    }
end:
    skip_ws(&r);
    rc = r.p == r.end ? 0 : BGJ_EINVAL;
out:
    bgj_sb_free(&key);
    bgj_sb_free(&val);
    return rc;
}
