/*
 * fuzz_cmdline.c - libFuzzer target for bgjob's subcommand parser
 * (lib/cmdline.c), no bash needed.
 *
 * The input is split into words on NUL bytes and ASCII whitespace, as a
 * shell would hand them to the builtin, and given to bgj_cmdline_parse.
 * Beyond "no crash, no leak, no UB" (ASan/UBSan/LSan), the target checks the
 * parser's contract and aborts when it breaks:
 *   - the status is 0 (parsed; help is a command) or BGJ_EUSAGE with a
 *     message in the struct bgj_err (or BGJ_ENOMEM);
 *   - every pointer in the result points into the caller's words;
 *   - job numbers agree with an independent decimal parser;
 *   - a number of seconds, wherever accepted, is finite and in range;
 *   - subcommands that take exactly one id got exactly one, and so on.
 *
 *   build:   make -f Makefile -f tests/hardening.mk build/fuzz/fuzz_cmdline
 *   fuzz:    build/fuzz/fuzz_cmdline -max_total_time=60 tests/fuzz/corpus-cmdline
 *   replay:  build/fuzz/fuzz_cmdline tests/fuzz/regressions/cmdline/
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

#define MAX_WORDS 256

static void violated(const char *what, int argc, char **argv)
{
    fprintf(stderr, "fuzz_cmdline: contract violated: %s\nwords (%d):", what, argc);
    for (int i = 0; i < argc; i++)
        fprintf(stderr, " [%s]", argv[i]);
    fputc('\n', stderr);
    abort();
}

/* Reference job-number parser: digits only, no sign, value <= INT64_MAX. */
static int ref_id(const char *s, int64_t *out)
{
    if (!*s)
        return -1;
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    while (n > 1 && *s == '0')
        s++, n--;
    static const char max[] = "9223372036854775807";
    if (n > sizeof max - 1 || (n == sizeof max - 1 && strcmp(s, max) > 0))
        return -1;
    int64_t v = 0;
    for (; *s; s++)
        v = v * 10 + (*s - '0');
    *out = v;
    return 0;
}

static int points_into(const char *p, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (p >= argv[i] && p <= argv[i] + n)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    /* A private, NUL-terminated copy in which separators become NULs. */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_WORDS + 1];
    int argc = 0;
    size_t i = 0;
    while (i < size && argc < MAX_WORDS) {
        while (i < size && (buf[i] == 0 || isspace((unsigned char)buf[i])))
            buf[i++] = 0;
        if (i >= size)
            break;
        argv[argc++] = buf + i;
        while (i < size && buf[i] != 0 && !isspace((unsigned char)buf[i]))
            i++;
        if (i < size)
            buf[i++] = 0;
    }
    argv[argc] = NULL;

    /* The id parser alone, on every word. */
    for (int k = 0; k < argc; k++) {
        int64_t a = -7, b = -7;
        int ra = bgj_parse_id(argv[k], &a), rb = ref_id(argv[k], &b);
        if ((ra == 0) != (rb == 0) || (ra != 0 && ra != BGJ_EINVAL) || (ra == 0 && a != b))
            violated("bgj_parse_id disagrees with the reference parser", 1, &argv[k]);
    }

    /* The seconds parser alone, on every word. */
    for (int k = 0; k < argc; k++) {
        double t = -7;
        if (bgj_parse_seconds(argv[k], &t) == 0 && (!isfinite(t) || t < 0 || t > BGJ_MAX_SECONDS))
            violated("bgj_parse_seconds accepted an out-of-range number", 1, &argv[k]);
    }

    struct bgj_cmdline c;
    struct bgj_err err = {0};
    int r = bgj_cmdline_parse(argc, argv, &c, &err);
    if (r != 0 && r != BGJ_EUSAGE && r != BGJ_ENOMEM)
        violated("status not 0, BGJ_EUSAGE or BGJ_ENOMEM", argc, argv);
    if (r != err.code)
        violated("status and err.code differ", argc, argv);
    if (r == BGJ_EUSAGE && (!err.msg || !err.msg[0]))
        violated("usage error without a message", argc, argv);
    if (r == 0 && c.cmd == BGJ_CMD_HELP && c.help != BGJ_HELP_FULL && c.help != BGJ_HELP_USAGE &&
        c.help != BGJ_HELP_VERSION)
        violated("help of an unknown kind", argc, argv);
    bgj_err_clear(&err);
    if (r == 0) {
        if (c.sub && !(c.sub[0] >= 'a' && c.sub[0] <= 'z'))
            violated("odd subcommand name", argc, argv);
        if (c.vname) {
            if (!points_into(c.vname, argc, argv))
                violated("vname outside argv", argc, argv);
            if (c.vname_word < 0 || c.vname_word >= argc)
                violated("vname_word out of range", argc, argv);
        }
        if (c.fname && !points_into(c.fname, argc, argv))
            violated("fname outside argv", argc, argv);
        if (c.cname && !points_into(c.cname, argc, argv))
            violated("cname outside argv", argc, argv);
        if (c.cname && !c.cname[0])
            violated("empty handler name", argc, argv);
        if (c.pname && (!points_into(c.pname, argc, argv) || c.pname_word < 0 || c.pname_word >= argc))
            violated("pname outside argv", argc, argv);
        if (c.nwords < 0 || c.nwords > argc)
            violated("nwords out of range", argc, argv);
        for (int k = 0; k < c.nwords; k++)
            if (c.words[k] != argv[argc - c.nwords + k])
                violated("words are not the trailing operands", argc, argv);
        if (c.nwords && (c.words < argv || c.words + c.nwords > argv + argc))
            violated("words outside argv", argc, argv);
        if (c.nids > (size_t)argc)
            violated("more ids than words", argc, argv);
        for (size_t k = 0; k < c.nids; k++) {
            int64_t ref;
            const char *w = argv[argc - c.nids + k];
            if (ref_id(w, &ref) != 0 || ref != c.ids[k])
                violated("an id differs from its word", argc, argv);
        }
        if (c.has_timeout && (!isfinite(c.timeout) || c.timeout < 0 || c.timeout > BGJ_MAX_SECONDS))
            violated("timeout not finite and non-negative", argc, argv);
        switch (c.cmd) {
        case BGJ_CMD_SHOW:
        case BGJ_CMD_RESULT:
            if (c.nids != 1)
                violated("show/result without exactly one id", argc, argv);
            break;
        case BGJ_CMD_REMOVE:
            if (c.nids == 0)
                violated("remove without an id", argc, argv);
            break;
        case BGJ_CMD_KILL: /* kill -g NAME | ID... */
            if ((c.nids == 0) == (c.gname == NULL))
                violated("kill without exactly one of -g NAME and ids", argc, argv);
            break;
        case BGJ_CMD_TRACEBACK:
            if (c.nids > 1)
                violated("traceback with several ids", argc, argv);
            break;
        case BGJ_CMD_NEW:
            if (!c.fname && c.nwords == 0)
                violated("new without an expression", argc, argv);
            if (c.nids)
                violated("new with ids", argc, argv);
            break;
        case BGJ_CMD_LOAD:
            if (c.nwords != 1)
                violated("load without exactly one path", argc, argv);
            break;
        case BGJ_CMD_NOTIFY:
            if (c.nids || c.nwords > 1 ||
                (c.nwords == 1 && strcmp(c.words[0], "prompt") && strcmp(c.words[0], "now") &&
                 strcmp(c.words[0], "off")))
                violated("notify with an operand that is not a mode", argc, argv);
            break;
        case BGJ_CMD_STATUS:
        case BGJ_CMD_FLUSH:
        case BGJ_CMD_FUNCS:
            if (c.nids || c.nwords)
                violated("operands accepted where none are allowed", argc, argv);
            break;
        default: break;
        }
    }
    bgj_cmdline_free(&c);
    bgj_cmdline_free(&c); /* must be idempotent: the builtin frees on every path */
    free(buf);
    return 0;
}
