/* catalogue.c - reads tests/arith/catalogue.txt for difftest.
 *
 * Format, one directive a line ('#' starts a comment line):
 *   @group NAME        starts a group (and clears the variable setup)
 *   vars WORD...       the setup for the following expressions
 *   expr TEXT          an expression: the rest of the line, verbatim
 *   exprq TEXT         the same with C escapes (\t \n \r \v \f \\ \xHH)
 * Setup words: NAME=VALUE (scalar), NAME@ (declared without value),
 * -i / -r / -ir before a declaration (integer, readonly), -n NAME=TARGET
 * (nameref), -a NAME then [I]=V words (indexed array), -A NAME then [K]=V
 * words (associative array), set-u (nounset).  Words may be quoted with
 * '...' (literal) or "..." (C escapes).
 */
#include "difftest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"

static const char *unesc(const char *p, strbuf *b, int stop_quote)
{
    while (*p && !(stop_quote && *p == '"')) {
        if (*p == '\\' && p[1]) {
            p++;
            char ch = *p++;
            switch (ch) {
            case 'n': sb_add(b, "\n", 1); break;
            case 't': sb_add(b, "\t", 1); break;
            case 'r': sb_add(b, "\r", 1); break;
            case 'v': sb_add(b, "\v", 1); break;
            case 'f': sb_add(b, "\f", 1); break;
            case 's': sb_add(b, " ", 1); break;
            case 'x': {
                char hex[3] = {p[0], p[0] ? p[1] : 0, 0};
                char cc = (char)strtol(hex, NULL, 16);
                sb_add(b, &cc, 1);
                p += 2;
                break;
            }
            default: sb_add(b, &ch, 1);
            }
        } else
            sb_add(b, p++, 1);
    }
    return p;
}

/* Next shell-ish word of *PP, or NULL at the end. */
static char *word(const char **pp)
{
    const char *p = *pp;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return NULL;
    strbuf b = {0};
    sb_add(&b, "", 0);
    while (*p && *p != ' ' && *p != '\t') {
        if (*p == '\'') {
            const char *e = strchr(p + 1, '\'');
            if (!e)
                e = p + strlen(p);
            sb_add(&b, p + 1, (size_t)(e - p - 1));
            p = *e ? e + 1 : e;
        } else if (*p == '"') {
            p = unesc(p + 1, &b, 1);
            if (*p == '"')
                p++;
        } else
            sb_add(&b, p++, 1);
    }
    *pp = p;
    return b.p;
}

static int parse_vars(tcase *t, const char *line, const char *path, int lineno)
{
    unsigned flags = 0;
    decl *arr = NULL;
    char *w;
    while ((w = word(&line)) != NULL) {
        if (strcmp(w, "set-u") == 0)
            t->nounset = 1;
        else if (w[0] == '-' && (w[1] == 'i' || w[1] == 'r')) {
            for (const char *f = w + 1; *f; f++)
                flags |= *f == 'i' ? BGJ_ATTR_INTEGER : *f == 'r' ? BGJ_ATTR_READONLY : 0;
        } else if (strcmp(w, "-n") == 0 || strcmp(w, "-a") == 0 || strcmp(w, "-A") == 0) {
            char *nm = word(&line);
            if (!nm)
                goto bad;
            if (w[1] == 'n') {
                char *eq = strchr(nm, '=');
                if (eq)
                    *eq = '\0';
                decl *d = case_add_decl(t, 'n', nm, flags);
                if (eq)
                    d->value = xstrdup(eq + 1);
                arr = NULL;
            } else
                arr = case_add_decl(t, w[1], nm, flags);
            flags = 0;
            free(nm);
        } else if (w[0] == '[' && arr) {
            char *close = strstr(w, "]=");
            if (!close)
                goto bad;
            *close = '\0';
            decl_add_elem(arr, w + 1, close + 2);
        } else {
            size_t n = strlen(w);
            char *eq = strchr(w, '=');
            if (n > 1 && w[n - 1] == '@' && !eq) {
                w[n - 1] = '\0';
                case_add_decl(t, 's', w, flags);
            } else if (eq) {
                *eq = '\0';
                decl *d = case_add_decl(t, 's', w, flags);
                d->value = xstrdup(eq + 1);
            } else
                goto bad;
            flags = 0;
            arr = NULL;
        }
        free(w);
    }
    return 0;
bad:
    fprintf(stderr, "%s:%d: bad vars word '%s'\n", path, lineno, w);
    free(w);
    return -1;
}

static void copy_setup(tcase *dst, const tcase *src)
{
    for (int i = 0; i < src->ndecl; i++) {
        const decl *s = &src->decl[i];
        decl *d = case_add_decl(dst, s->kind, s->name, s->attrs);
        if (s->value)
            d->value = xstrdup(s->value);
        for (int j = 0; j < s->n; j++)
            decl_add_elem(d, s->keys[j], s->vals[j]);
    }
    dst->nounset = src->nounset;
}

void run_catalogue(const char *path, int batch)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    tcase setup = {0};
    char *group = xstrdup("");
    tcase *cases = calloc((size_t)batch, sizeof *cases);
    int n = 0, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (strncmp(line, "@group ", 7) == 0) {
            free(group);
            group = xstrdup(line + 7);
            case_free(&setup);
        } else if (strncmp(line, "vars", 4) == 0 && (line[4] == ' ' || !line[4])) {
            case_free(&setup);
            if (parse_vars(&setup, line + 4, path, lineno) < 0)
                exit(2);
        } else if (strcmp(line, "expr") == 0 || strncmp(line, "expr ", 5) == 0 ||
                   strncmp(line, "exprq ", 6) == 0) {
            tcase *t = &cases[n++];
            memset(t, 0, sizeof *t);
            if (line[4] != 'q')
                t->expr = xstrdup(line[4] ? line + 5 : "");
            else {
                strbuf b = {0};
                sb_add(&b, "", 0);
                unesc(line + 6, &b, 0);
                t->expr = b.p;
            }
            t->group = xstrdup(group);
            copy_setup(t, &setup);
            if (n == batch) {
                run_batch(cases, n);
                for (int i = 0; i < n; i++)
                    case_free(&cases[i]);
                n = 0;
            }
        } else {
            fprintf(stderr, "%s:%d: unknown directive\n", path, lineno);
            exit(2);
        }
    }
    if (n)
        run_batch(cases, n);
    for (int i = 0; i < n; i++)
        case_free(&cases[i]);
    free(cases);
    free(line);
    free(group);
    case_free(&setup);
    fclose(f);
}
