/*
 * cmdline.c - the subcommand and option parser (see cmdline.h).
 *
 * Options follow the usual builtin rules: they come before the operands,
 * may be clustered (-dn), an option's argument may be attached (-vNAME) or
 * the next word, `--` ends them, and a word starting with `-` that is not a
 * known option is an error (so `bgjob new -- -5` is how an expression that
 * starts with `-` is written).  Two exceptions: `new -f NAME` ends the
 * options, as every word after NAME is an argument for the callback (`--`
 * right after NAME is dropped), and where job numbers go, `-1` is a bad job
 * number rather than an unknown option.  No globals; any thread.
 */
#include "cmdline.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct subcmd {
    const char *name;
    enum bgj_cmd cmd;
    const char *opts;   /* option letters; a ':' after a letter means it takes an argument */
};

static const struct subcmd subcmds[] = {
    {"new", BGJ_CMD_NEW, "dv:f:"},
    {"status", BGJ_CMD_STATUS, "nv:"},
    {"show", BGJ_CMD_SHOW, "v:"},
    {"result", BGJ_CMD_RESULT, "v:"},
    {"traceback", BGJ_CMD_TRACEBACK, ""},
    {"remove", BGJ_CMD_REMOVE, ""},
    {"flush", BGJ_CMD_FLUSH, "f"},
    {"wait", BGJ_CMD_WAIT, "nt:"},
    {"kill", BGJ_CMD_KILL, ""},
    {"funcs", BGJ_CMD_FUNCS, ""},
    {"load", BGJ_CMD_LOAD, ""},
    {"help", BGJ_CMD_HELP, ""},
};

static int fail(struct bgj_cmdline *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

int bgj_parse_id(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_timeout(const char *s, double *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    double t = strtod(s, &end);
    if (*end || errno || !isfinite(t) || t < 0)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return -1;
    for (const char *p = s; *p; p++)
        if (*p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')
            return -1;
    *out = t;
    return 0;
}

/* Shows a word safely inside an error message: cut long, and non-printing bytes as '?'. */
static const char *shown(const char *w, char *buf, size_t len)
{
    size_t i = 0;
    for (; w[i] && i + 4 < len; i++) {
        unsigned char ch = (unsigned char)w[i];
        buf[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (w[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = 0;
    return buf;
}

int bgj_cmdline_parse(int argc, char **argv, struct bgj_cmdline *c)
{
    char sb[48];
    memset(c, 0, sizeof *c);
    c->vname_word = -1;
    int i = 0;
    const struct subcmd *sc = &subcmds[1];  /* status */
    if (argc > 0) {
        const char *w = argv[0];
        if (strcmp(w, "--help") == 0)
            return c->cmd = BGJ_CMD_HELP, 1;
        if (w[0] == '-' && w[1]) {
            /* `bgjob -n` and `bgjob -v A` are status options; anything else is an error below. */
        } else {
            size_t k;
            for (k = 0; k < sizeof subcmds / sizeof *subcmds; k++)
                if (strcmp(w, subcmds[k].name) == 0)
                    break;
            if (k == sizeof subcmds / sizeof *subcmds)
                return c->cmd = BGJ_CMD_STATUS, fail(c, "%s: unknown subcommand", shown(w, sb, sizeof sb));
            sc = &subcmds[k];
            i = 1;
        }
    }
    c->cmd = sc->cmd;
    c->sub = sc->name;
    if (c->cmd == BGJ_CMD_HELP)
        return 1;

    /* Options.  For `new -f NAME', everything after NAME belongs to the callback. */
    int after_callback = 0;
    for (; i < argc && !after_callback; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(w, "--help") == 0)
            return 1;
        if (w[0] != '-' || w[1] == 0)
            break;
        /* `-1' where a job number goes is a bad number, not an unknown option. */
        if (c->cmd != BGJ_CMD_NEW && w[1] >= '0' && w[1] <= '9')
            break;
        for (const char *p = w + 1; *p; p++) {
            const char *o = strchr(sc->opts, *p);
            if (!o || *p == ':')
                return fail(c, "-%c: invalid option", *p);
            if (o[1] == ':') {
                const char *arg;
                int word = i;
                if (p[1])
                    arg = p + 1;
                else if (i + 1 < argc)
                    arg = argv[++i], word = i;
                else
                    return fail(c, "-%c: option requires an argument", *p);
                switch (*p) {
                case 'v':
                    c->vname = arg;
                    c->vname_word = word;
                    break;
                case 'f':
                    c->fname = arg;
                    c->opt_f = 1;
                    after_callback = 1;
                    break;
                case 't':
                    if (parse_timeout(arg, &c->timeout) != 0)
                        return fail(c, "%s: invalid timeout (seconds, e.g. 2 or 0.5)", shown(arg, sb, sizeof sb));
                    c->has_timeout = 1;
                    break;
                }
                break;  /* the rest of the word was the argument */
            }
            if (*p == 'd')
                c->opt_d = 1;
            else if (*p == 'n')
                c->opt_n = 1;
            else if (*p == 'f')
                c->opt_f = 1;
        }
    }

    /* A `--' right after the callback's name only separates; later ones are arguments. */
    if (after_callback && i < argc && strcmp(argv[i], "--") == 0)
        i++;

    /* Operands. */
    int nops = argc - i;
    char **ops = argv + i;
    switch (c->cmd) {
    case BGJ_CMD_NEW:
        if (!c->fname && nops == 0)
            return fail(c, "an expression is required");
        c->words = ops;
        c->nwords = nops;
        return 0;
    case BGJ_CMD_LOAD:
        if (nops != 1)
            return fail(c, nops ? "too many arguments" : "a plugin path is required");
        c->words = ops;
        c->nwords = 1;
        return 0;
    case BGJ_CMD_STATUS:
    case BGJ_CMD_FLUSH:
    case BGJ_CMD_FUNCS:
        if (nops)
            return fail(c, "%s: too many arguments", shown(ops[0], sb, sizeof sb));
        return 0;
    case BGJ_CMD_SHOW:
    case BGJ_CMD_RESULT:
        if (nops != 1)
            return fail(c, nops ? "too many arguments" : "a job number is required");
        break;
    case BGJ_CMD_TRACEBACK:
        if (nops > 1)
            return fail(c, "too many arguments");
        break;
    case BGJ_CMD_REMOVE:
    case BGJ_CMD_KILL:
        if (nops == 0)
            return fail(c, "a job number is required");
        break;
    case BGJ_CMD_WAIT:
    case BGJ_CMD_HELP:
        break;
    }
    if (nops) {
        c->ids = malloc((size_t)nops * sizeof *c->ids);
        if (!c->ids)
            return fail(c, "out of memory");
        for (int k = 0; k < nops; k++) {
            if (bgj_parse_id(ops[k], &c->ids[k]) != 0)
                return fail(c, "%s: not a valid job number", shown(ops[k], sb, sizeof sb));
        }
        c->nids = (size_t)nops;
    }
    return 0;
}

void bgj_cmdline_free(struct bgj_cmdline *c)
{
    free(c->ids);
    c->ids = NULL;
    c->nids = 0;
}
