/*
 * names.c - identifier and name checks (see names.h).
 * Pure functions; any thread.
 */
#include "names.h"

#include <string.h>

int bgj_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
int bgj_ident_char(int c) { return bgj_ident_start(c) || (c >= '0' && c <= '9'); }

int bgj_is_name(const char *s, const char *extra)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!bgj_ident_char((unsigned char)*s) && !(extra && strchr(extra, *s)))
            return 0;
    return 1;
}

int bgj_is_identifier(const char *s) { return bgj_is_name(s, NULL) && bgj_ident_start((unsigned char)*s); }
