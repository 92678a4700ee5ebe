/*
 * cmdline.c - the subcommand and option parser, and the parser of a number
 * of seconds (see cmdline.h).
 *
 * Options follow the usual builtin rules: they come before the operands,
 * may be clustered (-dn), an option's argument may be attached (-vNAME) or
 * the next word, `--` ends them, and a word starting with `-` that is not a
 * known option is an error.  Exceptions: `new -f NAME` ends the options, as
 * every word after NAME is an argument for the callback (`--` right after
 * NAME is dropped); for `new`, only a word whose first letter is one of
 * new's option letters is an option, so `new -3*2` and `new -x` are
 * expressions as they are for `let`; and where job numbers go, `-1` is a bad
 * job number rather than an unknown option.  No globals; any thread.
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
    const char *opts; /* option letters; a ':' after a letter means it takes an argument */
};

static const struct subcmd subcmds[] = {
    {"new", BGJ_CMD_NEW, "dv:f:t:c:a:A:r:R:g:k:"},
    {"status", BGJ_CMD_STATUS, "nv:g:"},
    {"show", BGJ_CMD_SHOW, "v:"},
    {"result", BGJ_CMD_RESULT, "wv:"},
    {"traceback", BGJ_CMD_TRACEBACK, ""},
    {"remove", BGJ_CMD_REMOVE, ""},
    {"flush", BGJ_CMD_FLUSH, "f"},
    {"wait", BGJ_CMD_WAIT, "nqt:p:g:"},
    {"kill", BGJ_CMD_KILL, "g:"},
    {"funcs", BGJ_CMD_FUNCS, ""},
    {"load", BGJ_CMD_LOAD, ""},
    {"help", BGJ_CMD_HELP, ""},
    {"notify", BGJ_CMD_NOTIFY, ""},
    {"group", BGJ_CMD_GROUP, "j:h:"},
    {"log", BGJ_CMD_LOG, "jr"},
};

#define NSUBCMDS (sizeof subcmds / sizeof *subcmds)

static int fail(struct bgj_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct bgj_err *err, const char *fmt, ...)
{
    if (!err)
        return BGJ_EUSAGE;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return bgj_err_set(err, BGJ_EUSAGE, "%s", buf);
}

int bgj_parse_id(const char *s, int64_t *out)
{
    if (!s || !*s)
        return BGJ_EINVAL;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return BGJ_EINVAL;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return BGJ_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int bgj_parse_seconds(const char *s, double *out)
{
    if (!s)
        return BGJ_EINVAL;
    const char *body = *s == '+' ? s + 1 : s;
    /* strtod would also skip blanks and take a sign, inf, infinity and nan. */
    if (!((*body >= '0' && *body <= '9') || (*body == '.' && body[1] >= '0' && body[1] <= '9')))
        return BGJ_EINVAL;
    char *end;
    errno = 0;
    double t = strtod(body, &end);
    if (*end || errno == ERANGE || !isfinite(t) || t < 0 || t > BGJ_MAX_SECONDS)
        return BGJ_EINVAL;
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

int bgj_group_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:") == n;
}

/* Adds the job numbers of LIST ("3", "3,4,7", "3-7" or "1,3-7,9") to C's dependencies (ANY for -A).
   0, or an error in ERR. */
static int add_deps(struct bgj_cmdline *c, char opt, const char *list, struct bgj_err *err)
{
    char sb[48];
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    int64_t *d = realloc(c->deps, (c->ndeps + n) * sizeof *d);
    if (d)
        c->deps = d;
    int64_t *l = realloc(c->deps_last, (c->ndeps + n) * sizeof *l);
    if (l)
        c->deps_last = l;
    unsigned char *a = realloc(c->deps_any, c->ndeps + n);
    if (a)
        c->deps_any = a;
    if (!d || !l || !a)
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    const char *p = list;
    for (size_t k = 0; k < n; k++) {
        size_t len = strcspn(p, ",");
        char num[48]; /* FIRST-LAST: two 19-digit numbers and a dash */
        if (len == 0 || len >= sizeof num)
            return fail(err, "-%c: %s: not a list of job numbers (e.g. 3 or 3,4)", opt,
                        shown(list, sb, sizeof sb));
        memcpy(num, p, len);
        num[len] = 0;
        char *dash = strchr(num, '-');
        if (dash && dash != num) { /* FIRST-LAST */
            *dash = 0;
            int bad = bgj_parse_id(num, &c->deps[c->ndeps]) != 0 ||
                      bgj_parse_id(dash + 1, &c->deps_last[c->ndeps]) != 0;
            *dash = '-';
            if (bad)
                return fail(err, "-%c: %s: not a valid job number or range", opt, shown(num, sb, sizeof sb));
            if (c->deps_last[c->ndeps] < c->deps[c->ndeps])
                return fail(err, "-%c: %s: a range goes from the lower job number to the higher", opt,
                            shown(num, sb, sizeof sb));
        } else {
            if (bgj_parse_id(num, &c->deps[c->ndeps]) != 0)
                return fail(err, "-%c: %s: not a valid job number", opt, shown(num, sb, sizeof sb));
            c->deps_last[c->ndeps] = c->deps[c->ndeps];
        }
        c->deps_any[c->ndeps++] = opt == 'A';
        p += len + (p[len] == ',');
    }
    return 0;
}

/* A whole number from 0 to MAX for option OPT: 0, or an error in ERR. */
static int whole_number(const char *arg, long max, long *out, char opt, struct bgj_err *err)
{
    char sb[48];
    int64_t v;
    if (bgj_parse_id(arg, &v) != 0 || v > max)
        return fail(err, "-%c: %s: not a whole number from 0 to %ld", opt, shown(arg, sb, sizeof sb), max);
    *out = (long)v;
    return 0;
}

/* The words that ask for help wherever options go: 1 and the kind of help, or 0. */
static int help_word(const char *w, enum bgj_help *kind)
{
    if (strcmp(w, "--help") == 0)
        *kind = BGJ_HELP_FULL;
    else if (strcmp(w, "--usage") == 0)
        *kind = BGJ_HELP_USAGE;
    else if (strcmp(w, "--version") == 0)
        *kind = BGJ_HELP_VERSION;
    else
        return 0;
    return 1;
}

int bgj_cmdline_parse(int argc, char **argv, struct bgj_cmdline *c, struct bgj_err *err)
{
    char sb[48];
    memset(c, 0, sizeof *c);
    c->group_limit = -1;
    c->vname_word = -1;
    c->pname_word = -1;
    int i = 0;
    const struct subcmd *sc = &subcmds[1]; /* status */
    if (argc > 0) {
        const char *w = argv[0];
        if (help_word(w, &c->help) || strcmp(w, "-h") == 0) {
            c->cmd = BGJ_CMD_HELP;
            c->sub = "help";
            if (argc > 1)
                return fail(err, "%s: too many arguments", shown(argv[1], sb, sizeof sb));
            return 0;
        }
        if (w[0] == '-' && w[1]) {
            /* `bgjob -n` and `bgjob -v A` are status options; anything else is an error below. */
        } else {
            size_t k;
            for (k = 0; k < NSUBCMDS; k++)
                if (strcmp(w, subcmds[k].name) == 0)
                    break;
            c->cmd = BGJ_CMD_STATUS;
            if (k == NSUBCMDS)
                return fail(err, "%s: unknown subcommand", shown(w, sb, sizeof sb));
            sc = &subcmds[k];
            i = 1;
        }
    }
    c->cmd = sc->cmd;
    c->sub = sc->name;
    if (c->cmd == BGJ_CMD_HELP) {
        if (i < argc && help_word(argv[i], &c->help))
            i++;
        if (i < argc)
            return fail(err, "%s: too many arguments", shown(argv[i], sb, sizeof sb));
        return 0;
    }

    /* Options.  For `new -f NAME', everything after NAME belongs to the callback. */
    int after_callback = 0;
    for (; i < argc && !after_callback; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--") == 0) {
            i++;
            break;
        }
        /* status and show: the long options --json and --output */
        if ((c->cmd == BGJ_CMD_STATUS || c->cmd == BGJ_CMD_SHOW) &&
            (strcmp(w, "--json") == 0 || strcmp(w, "--output") == 0)) {
            *(w[2] == 'j' ? &c->opt_json : &c->opt_output) = 1;
            continue;
        }
        enum bgj_help kind;
        if (help_word(w, &kind)) {
            c->cmd = BGJ_CMD_HELP;
            c->help = kind;
            return 0;
        }
        /* `group NAME -j N': the name may come before the options. */
        if (c->cmd == BGJ_CMD_GROUP && w[0] != '-' && !c->gname) {
            if (!bgj_group_name_ok(w))
                return fail(err, "%s: not a group name (1 to 64 letters, digits, _ - . :)",
                            shown(w, sb, sizeof sb));
            c->gname = w;
            continue;
        }
        if (w[0] != '-' || w[1] == 0)
            break;
        if (w[1] == '-' && c->cmd != BGJ_CMD_NEW)
            return fail(err, "%s: invalid option", shown(w, sb, sizeof sb));
        /* `new -3*2' and `new -x' are expressions: only new's own letters make an option. */
        if (c->cmd == BGJ_CMD_NEW && (w[1] == ':' || !strchr(sc->opts, w[1])))
            break;
        /* `-1' where a job number goes is a bad number, not an unknown option. */
        if (c->cmd != BGJ_CMD_NEW && w[1] >= '0' && w[1] <= '9')
            break;
        for (const char *p = w + 1; *p; p++) {
            const char *o = strchr(sc->opts, *p);
            if (!o || *p == ':')
                return fail(err, "-%c: invalid option", *p);
            if (o[1] == ':') {
                const char *arg;
                int word = i;
                if (p[1])
                    arg = p + 1;
                else if (i + 1 < argc)
                    arg = argv[++i], word = i;
                else
                    return fail(err, "-%c: option requires an argument", *p);
                switch (*p) {
                case 'v':
                    c->vname = arg;
                    c->vname_word = word;
                    break;
                case 'p':
                    c->pname = arg;
                    c->pname_word = word;
                    break;
                case 'k':
                    if (!*arg)
                        return fail(err, "-k: a key is required");
                    c->kname = arg;
                    break;
                case 'c':
                    if (!*arg)
                        return fail(err, "-c: a function name is required");
                    c->cname = arg;
                    break;
                case 'f':
                    c->fname = arg;
                    c->opt_f = 1;
                    after_callback = 1;
                    break;
                case 'a':
                case 'A': {
                    int r = add_deps(c, *p, arg, err);
                    if (r)
                        return r;
                    break;
                }
                case 'r': {
                    long v;
                    if (whole_number(arg, BGJ_MAX_RETRIES, &v, 'r', err))
                        return BGJ_EUSAGE;
                    c->retries = (unsigned)v;
                    c->has_retries = 1;
                    break;
                }
                case 'R':
                    if (bgj_parse_seconds(arg, &c->backoff) != 0)
                        return fail(err, "-R: %s: invalid number of seconds (e.g. 2, 0.5, 1e-3 or 0x10)",
                                    shown(arg, sb, sizeof sb));
                    c->has_backoff = 1;
                    break;
                case 'g':
                    if (!bgj_group_name_ok(arg))
                        return fail(err, "-g: %s: not a group name (1 to 64 letters, digits, _ - . :)",
                                    shown(arg, sb, sizeof sb));
                    c->gname = arg;
                    break;
                case 'j':
                    if (whole_number(arg, BGJ_MAX_GROUP_LIMIT, &c->group_limit, 'j', err))
                        return BGJ_EUSAGE;
                    break;
                case 'h': c->halt = arg; break;
                case 't':
                    if (bgj_parse_seconds(arg, &c->timeout) != 0)
                        return fail(err, "%s: invalid number of seconds (e.g. 2, 0.5, 1e-3 or 0x10)",
                                    shown(arg, sb, sizeof sb));
                    c->has_timeout = 1;
                    break;
                }
                break; /* the rest of the word was the argument */
            }
            if (*p == 'd')
                c->opt_d = 1;
            else if (*p == 'n')
                c->opt_n = 1;
            else if (*p == 'f')
                c->opt_f = 1;
            else if (*p == 'w')
                c->opt_w = 1;
            else if (*p == 'q')
                c->opt_q = 1;
            else if (*p == 'j')
                c->opt_j = 1;
            else if (*p == 'r')
                c->opt_r = 1;
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
            return fail(err, "an expression is required");
        c->words = ops;
        c->nwords = nops;
        return 0;
    case BGJ_CMD_LOAD:
        if (nops != 1)
            return fail(err, nops ? "too many arguments" : "a plugin name or path is required");
        c->words = ops;
        c->nwords = 1;
        return 0;
    case BGJ_CMD_NOTIFY:
        if (nops > 1)
            return fail(err, "too many arguments");
        if (nops == 1 && strcmp(ops[0], "prompt") != 0 && strcmp(ops[0], "now") != 0 &&
            strcmp(ops[0], "off") != 0)
            return fail(err, "%s: not a mode (prompt, now or off)", shown(ops[0], sb, sizeof sb));
        c->words = ops;
        c->nwords = nops;
        return 0;
    case BGJ_CMD_GROUP:
        if (nops)
            return fail(err, "%s: too many arguments", shown(ops[0], sb, sizeof sb));
        if (!c->gname && (c->group_limit >= 0 || c->halt))
            return fail(err, "a group name is required with -j or -h");
        return 0;
    case BGJ_CMD_LOG:
        if (nops > 1)
            return fail(err, "too many arguments");
        if ((c->opt_j || c->opt_r) && (nops == 0 || strcmp(ops[0], "-") == 0))
            return fail(err, "-%c: a file is required", c->opt_r ? 'r' : 'j');
        c->words = ops;
        c->nwords = nops;
        return 0;
    case BGJ_CMD_STATUS:
    case BGJ_CMD_SHOW:
        if (c->opt_output && !c->opt_json)
            return fail(err, "--output: only with --json");
        if (c->opt_json && c->vname)
            return fail(err, "--json and -v: one or the other");
        if (c->cmd == BGJ_CMD_SHOW)
            goto one_id;
        /* FALLTHROUGH */
    case BGJ_CMD_FLUSH:
    case BGJ_CMD_FUNCS:
        if (nops)
            return fail(err, "%s: too many arguments", shown(ops[0], sb, sizeof sb));
        return 0;
    case BGJ_CMD_RESULT:
    one_id:
        if (nops != 1)
            return fail(err, nops ? "too many arguments" : "a job number is required");
        break;
    case BGJ_CMD_TRACEBACK:
        if (nops > 1)
            return fail(err, "too many arguments");
        break;
    case BGJ_CMD_KILL:
        if (c->gname && nops)
            return fail(err, "-g and job numbers do not go together");
        if (nops == 0 && !c->gname)
            return fail(err, "a job number is required");
        break;
    case BGJ_CMD_WAIT:
        if (c->gname && nops)
            return fail(err, "-g and job numbers do not go together");
        break;
    case BGJ_CMD_REMOVE:
        if (nops == 0)
            return fail(err, "a job number is required");
        break;
    default: break;
    }
    if (nops) {
        c->ids = malloc((size_t)nops * sizeof *c->ids);
        if (!c->ids)
            return bgj_err_set(err, BGJ_ENOMEM, NULL);
        for (int k = 0; k < nops; k++) {
            if (bgj_parse_id(ops[k], &c->ids[k]) != 0)
                return fail(err, "%s: not a valid job number", shown(ops[k], sb, sizeof sb));
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
    free(c->deps);
    free(c->deps_last);
    free(c->deps_any);
    c->deps = NULL;
    c->deps_last = NULL;
    c->deps_any = NULL;
    c->ndeps = 0;
}
