/*
 * json.h - the JSON of bgjob's records: a writer of strings that turns any
 * byte sequence into valid JSON, and a reader of the flat objects bgjob
 * writes (one per line), for resuming from a log.
 *
 * Bytes that are not valid UTF-8: each such byte 0xXY (0x80 to 0xff) is
 * written as the escape \udcXY, a lone low surrogate, the convention of
 * Python's "surrogateescape" error handler: json.loads(line) gives the
 * string back, and s.encode("utf-8", "surrogateescape") the original bytes;
 * the reader here turns \udcXY back into the byte.  Valid UTF-8 (no overlong
 * form, no encoded surrogate, nothing past U+10FFFF) is copied as it is;
 * control characters, the quote and the backslash are escaped.
 *
 * No globals; any thread.
 */
#ifndef BGJ_JSON_H
#define BGJ_JSON_H

#include <stddef.h>

#include "strbuf.h"

/* Appends the N bytes at S to B as one JSON string, quotes included. */
void bgj_json_str(struct bgj_strbuf *b, const char *s, size_t n);
/* The same for a C string, or `null' when S is NULL. */
void bgj_json_cstr(struct bgj_strbuf *b, const char *s);

/* A value of a flat object, as the reader gives it to its callback. */
enum bgj_json_type { BGJ_JSON_NULL, BGJ_JSON_BOOL, BGJ_JSON_NUMBER, BGJ_JSON_STRING, BGJ_JSON_OTHER };
struct bgj_json_val {
    enum bgj_json_type type;
    const char
        *str;   /* STRING: the decoded bytes, NUL-terminated (a NUL inside ends it early); NUMBER: its text */
    size_t len; /* bytes at str */
    double num; /* NUMBER */
    int truth;  /* BOOL */
};

/*
 * Reads one JSON object from the N bytes at TEXT (blanks around it allowed,
 * nothing else) and calls FN(KEY, VALUE, CTX) for each member in order.
 * Nested arrays and objects are checked and given as BGJ_JSON_OTHER.
 * Returns 0, the first non-zero value FN returned, or BGJ_EINVAL when TEXT
 * is not such an object (FN may have been called for earlier members), or
 * BGJ_ENOMEM.
 */
int bgj_json_object(const char *text, size_t n,
                    int (*fn)(const char *key, const struct bgj_json_val *v, void *ctx), void *ctx);

#endif /* BGJ_JSON_H */
