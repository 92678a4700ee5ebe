/* state.c - the cases and their variables for difftest: building and
 * freeing a case, the names it involves, its setup as bash commands and as
 * a bgj_vars store, and the variables afterwards in one canonical form
 * (`declare -p' as bash prints it, rendered from our store, and bash's own
 * output with associative arrays sorted).  difftest.c runs the batches.
 *
 * Threading: no shared state (no static variables); test-only code, called
 * from difftest's single thread, no locks.
 */
#include "difftest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"

/* ---- cases ---- */

void case_free(tcase *t)
{
    for (int i = 0; i < t->ndecl; i++) {
        decl *d = &t->decl[i];
        free(d->name);
        for (int j = 0; j < d->n; j++) {
            free(d->keys[j]);
            free(d->vals[j]);
        }
        free(d->keys);
        free(d->vals);
        free(d->value);
    }
    free(t->decl);
    free(t->expr);
    free(t->group);
    memset(t, 0, sizeof *t);
}

decl *case_add_decl(tcase *t, int kind, const char *name, unsigned attrs)
{
    t->decl = realloc(t->decl, (size_t)(t->ndecl + 1) * sizeof *t->decl);
    decl *d = &t->decl[t->ndecl++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->name = xstrdup(name);
    d->attrs = attrs;
    return d;
}

void decl_add_elem(decl *d, const char *key, const char *val)
{
    d->keys = realloc(d->keys, (size_t)(d->n + 1) * sizeof *d->keys);
    d->vals = realloc(d->vals, (size_t)(d->n + 1) * sizeof *d->vals);
    d->keys[d->n] = xstrdup(key);
    d->vals[d->n] = xstrdup(val);
    d->n++;
}

/* `$_' changes with every command bash runs, so cases naming `_' are
   not comparable; they are counted and skipped. */
int case_skipped(const tcase *t)
{
    char **names;
    int nn, skip = 0;
    case_names(t, &names, &nn);
    for (int i = 0; i < nn; i++)
        if (strcmp(names[i], "_") == 0)
            skip = 1;
    free_names(names, nn);
    return skip;
}

int case_risky(const tcase *t)
{
    if (t->nounset)
        return 1;
    for (int i = 0; i < t->ndecl; i++)
        if (t->decl[i].attrs & BGJ_ATTR_READONLY)
            return 1;
    return 0;
}

/* Every identifier-looking word of S (numbers skipped) into NAMES. */
static void collect_names(const char *s, char ***names, int *n)
{
    const char *p = s;
    while (*p) {
        int ch = (unsigned char)*p;
        if ((ch >= '0' && ch <= '9')) {
            while (*p && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                          *p == '_' || *p == '#' || *p == '@'))
                p++;
            continue;
        }
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
            const char *st = p;
            while (*p && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                          *p == '_'))
                p++;
            size_t len = (size_t)(p - st);
            if (len >= 2 && st[0] == '_' && st[1] == '_')
                continue;
            int dup = 0;
            for (int i = 0; i < *n; i++)
                if (strlen((*names)[i]) == len && strncmp((*names)[i], st, len) == 0)
                    dup = 1;
            if (!dup) {
                *names = realloc(*names, (size_t)(*n + 1) * sizeof **names);
                (*names)[*n] = strndup(st, len);
                (*n)++;
            }
            continue;
        }
        p++;
    }
}

void case_names(const tcase *t, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    for (int i = 0; i < t->ndecl; i++) {
        const decl *d = &t->decl[i];
        collect_names(d->name, names, n);
        if (d->value)
            collect_names(d->value, names, n);
        for (int j = 0; j < d->n; j++) {
            collect_names(d->keys[j], names, n);
            collect_names(d->vals[j], names, n);
        }
    }
    collect_names(t->expr, names, n);
}

void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void attr_flags(strbuf *b, unsigned a, int kind)
{
    if (kind == 'a')
        sb_puts(b, "a");
    if (kind == 'A')
        sb_puts(b, "A");
    if (a & BGJ_ATTR_INTEGER)
        sb_puts(b, "i");
    if (kind == 'n')
        sb_puts(b, "n");
    if (a & BGJ_ATTR_READONLY)
        sb_puts(b, "r");
}

/* The bash commands that create T's variables. */
void bash_setup(strbuf *b, const tcase *t, char **names, int nn)
{
    if (nn) {
        for (int k = 0; k < 2; k++) {
            sb_puts(b, k ? "unset -v" : "unset -n");
            for (int i = 0; i < nn; i++)
                sb_printf(b, " %s", names[i]);
            sb_puts(b, " 2>/dev/null\n");
        }
    }
    for (int i = 0; i < t->ndecl; i++) {
        const decl *d = &t->decl[i];
        strbuf f = {0};
        attr_flags(&f, d->attrs, d->kind);
        /* readonly last: the value must be assigned first */
        unsigned a = d->attrs & ~BGJ_ATTR_READONLY;
        strbuf g = {0};
        attr_flags(&g, a, d->kind);
        sb_printf(b, "declare %s%s %s", g.n ? "-" : "--", g.n ? g.p : "", d->name);
        switch (d->kind) {
        case 's':
        case 'n':
            if (d->value) {
                sb_puts(b, "=");
                bash_quote(b, d->value);
            }
            break;
        case 'a':
        case 'A':
            sb_puts(b, "=(");
            for (int j = 0; j < d->n; j++) {
                sb_puts(b, "[");
                if (d->kind == 'a')
                    sb_puts(b, d->keys[j]);
                else
                    bash_quote(b, d->keys[j]);
                sb_puts(b, "]=");
                bash_quote(b, d->vals[j]);
                sb_puts(b, " ");
            }
            sb_puts(b, ")");
            break;
        }
        sb_puts(b, "\n");
        if (d->attrs & BGJ_ATTR_READONLY)
            sb_printf(b, "readonly %s%s\n", d->kind == 'n' ? "-n " : "", d->name);
        free(f.p);
        free(g.p);
    }
}

/* Build T's variables into a store. */
bgj_vars *c_setup(const tcase *t)
{
    bgj_vars *v = bgj_vars_new();
    for (int i = 0; i < t->ndecl; i++) {
        const decl *d = &t->decl[i];
        int r = 0;
        switch (d->kind) {
        case 's': r = bgj_vars_set_scalar(v, d->name, d->value, d->attrs); break;
        case 'n': r = bgj_vars_set_nameref(v, d->name, d->value, d->attrs); break;
        case 'a':
            r = bgj_vars_set_array(v, d->name, d->attrs | BGJ_ATTR_INDEXED);
            for (int j = 0; j < d->n && !r; j++)
                r = bgj_vars_array_put(v, d->name, strtoimax(d->keys[j], NULL, 10), d->vals[j]);
            break;
        case 'A':
            r = bgj_vars_set_array(v, d->name, d->attrs | BGJ_ATTR_ASSOC);
            for (int j = 0; j < d->n && !r; j++)
                r = bgj_vars_assoc_put(v, d->name, d->keys[j], d->vals[j]);
            break;
        }
        if (r) {
            fprintf(stderr, "difftest: bad setup for %s\n", d->name);
            exit(2);
        }
    }
    bgj_vars_set_nounset(v, t->nounset);
    return v;
}

/* ---- what bash prints, rendered from our store ---- */

static void dq_value(strbuf *b, const char *s)
{
    int ansi = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            ansi = 1;
    if (!ansi) {
        sb_puts(b, "\"");
        for (; *s; s++) {
            if (*s == '"' || *s == '\\' || *s == '$' || *s == '`')
                sb_puts(b, "\\");
            sb_add(b, s, 1);
        }
        sb_puts(b, "\"");
        return;
    }
    sb_puts(b, "$'");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\n': sb_puts(b, "\\n"); break;
        case '\t': sb_puts(b, "\\t"); break;
        case '\r': sb_puts(b, "\\r"); break;
        case '\v': sb_puts(b, "\\v"); break;
        case '\f': sb_puts(b, "\\f"); break;
        case '\a': sb_puts(b, "\\a"); break;
        case '\b': sb_puts(b, "\\b"); break;
        case 0x1b: sb_puts(b, "\\E"); break;
        case '\'': sb_puts(b, "\\'"); break;
        case '\\': sb_puts(b, "\\\\"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                sb_printf(b, "\\%03o", *p);
            else
                sb_add(b, (const char *)p, 1);
        }
    }
    sb_puts(b, "'");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Canonical assoc body: sorted "key=value" lines. */
static void assoc_canon(strbuf *b, char **ents, int n)
{
    if (n > 0)
        qsort(ents, (size_t)n, sizeof *ents, cmp_str);
    for (int i = 0; i < n; i++) {
        sb_puts(b, " {");
        show(b, ents[i]);
        sb_puts(b, "}");
    }
}

void c_dump(strbuf *b, bgj_vars *v, char **names, int nn)
{
    for (int i = 0; i < nn; i++) {
        bgj_var *x = bgj_vars_lookup(v, names[i], strlen(names[i]));
        if (!x) {
            sb_printf(b, "-- %s\n", names[i]);
            continue;
        }
        unsigned a = bgj_var_attrs(x);
        strbuf f = {0};
        int kind = (a & BGJ_ATTR_INDEXED)   ? 'a'
                   : (a & BGJ_ATTR_ASSOC)   ? 'A'
                   : (a & BGJ_ATTR_NAMEREF) ? 'n'
                                            : 's';
        attr_flags(&f, a, kind);
        sb_printf(b, "declare -%s %s", f.n ? f.p : "-", names[i]);
        free(f.p);
        if (kind == 'a') {
            sb_puts(b, "=(");
            for (size_t j = 0; j < bgj_var_count(x); j++) {
                intmax_t idx;
                const char *val = bgj_var_elem(x, j, &idx, NULL);
                sb_printf(b, "%s[%jd]=", j ? " " : "", idx);
                dq_value(b, val);
            }
            sb_puts(b, ")");
        } else if (kind == 'A') {
            size_t n = bgj_var_count(x);
            char **ents = malloc((n + 1) * sizeof *ents);
            for (size_t j = 0; j < n; j++) {
                const char *key;
                const char *val = bgj_var_elem(x, j, NULL, &key);
                strbuf e = {0};
                sb_puts(&e, key);
                sb_puts(&e, "=");
                sb_puts(&e, val);
                ents[j] = e.p ? e.p : xstrdup("");
            }
            sb_puts(b, "=(");
            assoc_canon(b, ents, (int)n);
            sb_puts(b, " )");
            for (size_t j = 0; j < n; j++)
                free(ents[j]);
            free(ents);
        } else if (bgj_var_value(x)) {
            sb_puts(b, "=");
            dq_value(b, bgj_var_value(x));
        }
        sb_puts(b, "\n");
    }
}

/* Parse a bash word at *P in declare -p output: "..." or $'...' or bare up
   to one of STOP. */
static char *parse_word(const char **pp, const char *stop)
{
    const char *p = *pp;
    strbuf w = {0};
    sb_add(&w, "", 0);
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                p++;
            sb_add(&w, p, 1);
            p++;
        }
        if (*p)
            p++;
    } else if (p[0] == '$' && p[1] == '\'') {
        p += 2;
        while (*p && *p != '\'') {
            if (*p == '\\' && p[1]) {
                p++;
                char ch = *p;
                const char *map = "n\nt\tr\rv\vf\fa\ab\bE\033e\033";
                const char *m = strchr(map, ch);
                if (m && (m - map) % 2 == 0) {
                    sb_add(&w, m + 1, 1);
                    p++;
                } else if (ch >= '0' && ch <= '7') {
                    int val = 0, k = 0;
                    while (k < 3 && *p >= '0' && *p <= '7') {
                        val = val * 8 + (*p - '0');
                        p++;
                        k++;
                    }
                    char cc = (char)val;
                    sb_add(&w, &cc, 1);
                } else {
                    sb_add(&w, p, 1);
                    p++;
                }
                continue;
            }
            sb_add(&w, p, 1);
            p++;
        }
        if (*p)
            p++;
    } else {
        while (*p && !strchr(stop, *p))
            sb_add(&w, p++, 1);
    }
    *pp = p;
    return w.p;
}

/* Rewrite bash's `declare -A h=(...)' lines into the canonical form. */
void canon_bash_dump(strbuf *out, const char *dump)
{
    const char *line = dump;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *eq = NULL;
        if (strncmp(line, "declare -A", 10) == 0 && (eq = strstr(line, "=(")) && eq < line + len) {
            sb_add(out, line, (size_t)(eq - line));
            const char *p = eq + 2;
            char **ents = NULL;
            int n = 0;
            while (*p == '[') {
                p++;
                char *k = parse_word(&p, "]");
                if (*p == ']')
                    p++;
                if (*p == '=')
                    p++;
                char *v = parse_word(&p, " )");
                if (*p == ' ')
                    p++;
                strbuf e = {0};
                sb_puts(&e, k);
                sb_puts(&e, "=");
                sb_puts(&e, v);
                ents = realloc(ents, (size_t)(n + 1) * sizeof *ents);
                ents[n++] = e.p;
                free(k);
                free(v);
            }
            sb_puts(out, "=(");
            assoc_canon(out, ents, n);
            sb_puts(out, " )\n");
            for (int i = 0; i < n; i++)
                free(ents[i]);
            free(ents);
            /* skip to the end of this entry list (values may hold newlines) */
            const char *end = strchr(p, '\n');
            line = end ? end + 1 : p + strlen(p);
            continue;
        }
        sb_add(out, line, len);
        sb_puts(out, "\n");
        line = nl ? nl + 1 : line + len;
    }
}
