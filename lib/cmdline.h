/*
 * cmdline.h - parsing of bgjob's subcommands and options, without bash.
 *
 * The builtin turns its WORD_LIST into an argv array and calls
 * bgj_cmdline_parse; tests and the fuzzer call it directly.  Pure function of
 * its input: no globals, any thread.
 */
#ifndef BGJ_CMDLINE_H
#define BGJ_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

enum bgj_cmd {
    BGJ_CMD_NEW, BGJ_CMD_STATUS, BGJ_CMD_SHOW, BGJ_CMD_RESULT, BGJ_CMD_TRACEBACK,
    BGJ_CMD_REMOVE, BGJ_CMD_FLUSH, BGJ_CMD_WAIT, BGJ_CMD_KILL, BGJ_CMD_FUNCS,
    BGJ_CMD_LOAD, BGJ_CMD_HELP
};

struct bgj_cmdline {
    enum bgj_cmd cmd;
    const char *sub;       /* the subcommand word as typed ("status" when omitted) */
    int opt_d, opt_n, opt_f;
    const char *vname;     /* -v VAR/ARRAY, or NULL */
    int vname_word;        /* index in argv of the word that held it */
    const char *fname;     /* new -f NAME */
    char **words;          /* new: expression words or callback arguments; load: the path */
    int nwords;
    int64_t *ids;          /* malloc'd */
    size_t nids;
    int has_timeout;
    double timeout;
    char err[256];         /* usage error message */
};

/*
 * Parses ARGC words ARGV (the words after `bgjob`).  Returns 0 on success,
 * 1 when help was asked for (--help anywhere among the options), and -1 on a
 * usage error with the message in OUT->err.  Pointers in OUT point into ARGV.
 * Call bgj_cmdline_free afterwards in every case.
 */
int bgj_cmdline_parse(int argc, char **argv, struct bgj_cmdline *out);
void bgj_cmdline_free(struct bgj_cmdline *c);

/* Parses a job number: decimal digits only, at most INT64_MAX.  0 or -1. */
int bgj_parse_id(const char *s, int64_t *out);

#endif
