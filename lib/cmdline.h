/*
 * cmdline.h - parsing of bgjob's subcommands and options, without bash.
 *
 * The builtin turns its WORD_LIST into an argv array and calls
 * bgj_cmdline_parse; tests and the fuzzer call it directly.  Also the one
 * parser of a number of seconds (bgj_parse_seconds), used by every option
 * that takes one and by the shipped sleep callback.  Pure functions of their
 * input: no globals, any thread.
 */
#ifndef BGJ_CMDLINE_H
#define BGJ_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

enum bgj_cmd {
    BGJ_CMD_NEW,
    BGJ_CMD_STATUS,
    BGJ_CMD_SHOW,
    BGJ_CMD_RESULT,
    BGJ_CMD_TRACEBACK,
    BGJ_CMD_REMOVE,
    BGJ_CMD_FLUSH,
    BGJ_CMD_WAIT,
    BGJ_CMD_KILL,
    BGJ_CMD_FUNCS,
    BGJ_CMD_LOAD,
    BGJ_CMD_HELP,
    BGJ_CMD_NOTIFY,
    BGJ_CMD_GROUP,
    BGJ_CMD_LOG,
    BGJ_CMD_COUNT
};

/* What BGJ_CMD_HELP prints. */
enum bgj_help { BGJ_HELP_FULL, BGJ_HELP_USAGE, BGJ_HELP_VERSION };

struct bgj_cmdline {
    enum bgj_cmd cmd;
    const char *sub; /* the subcommand word as typed ("status" when omitted) */
    int opt_d, opt_n, opt_f, opt_w, opt_q;
    int opt_json, opt_output; /* status, show: --json, --output */
    int opt_j, opt_r;         /* log -j (JSON lines), -r (resume from the file, then log to it) */
    const char *kname;        /* new -k KEY: the resume key, or NULL */
    enum bgj_help help;       /* for BGJ_CMD_HELP */
    const char *vname;        /* -v VAR/ARRAY, or NULL */
    int vname_word;           /* index in argv of the word that held it */
    const char *pname;        /* wait -p VAR, or NULL */
    int pname_word;
    const char *fname; /* new -f NAME */
    const char *cname; /* new -c FUNC: completion handler */
    char **
        words; /* new: expression words or callback arguments; load: the plugin; notify: the mode (or none); log: the file (or none) */
    int nwords;
    int64_t *ids; /* malloc'd */
    size_t nids;
    int has_timeout; /* -t SECONDS (wait: how long to wait; new: the job's time limit) */
    double timeout;
    /* new -a ID[,ID...] / -A ID[,ID...] (repeatable; an ID may be a range FIRST-LAST): the jobs it waits
       for, in order: entry K is the jobs deps[K] to deps_last[K] (the same for one ID), with any=1 for -A.
       A range stays one entry: its jobs are looked up one by one, so a range of jobs that do not exist
       fails at its first job, without taking memory for its length. */
    int64_t *deps;           /* malloc'd */
    int64_t *deps_last;      /* malloc'd */
    unsigned char *deps_any; /* malloc'd */
    size_t ndeps;
    int has_retries; /* new -r N: up to N more attempts */
    unsigned retries;
    int has_backoff; /* new -R SECONDS: the first retry's wait */
    double backoff;
    const char *gname; /* new/status/wait/kill -g NAME; group NAME */
    long group_limit;  /* group -j N, -1 when not given (0: no limit) */
    const char *halt;  /* group -h POLICY, checked by the group code */
};

/* The most retries `new -r' takes, and the largest `group -j'. */
#define BGJ_MAX_RETRIES     1000000
#define BGJ_MAX_GROUP_LIMIT 100000000
/* True when NAME is a usable group name: 1 to 64 letters, digits, `_', `-', `.' or `:'. */
int bgj_group_name_ok(const char *name);

/*
 * Parses ARGC words ARGV (the words after `bgjob`).  Returns 0 on success
 * (help, --help, -h, --usage and --version give cmd BGJ_CMD_HELP, with
 * `help` saying which), or BGJ_EUSAGE with the message in ERR (may be NULL);
 * OUT->cmd then names the subcommand whose usage line applies and OUT->sub
 * is NULL when no subcommand was recognised.  BGJ_ENOMEM when memory runs
 * out.  Pointers in OUT point into ARGV.  Call bgj_cmdline_free afterwards
 * in every case.
 */
int bgj_cmdline_parse(int argc, char **argv, struct bgj_cmdline *out, struct bgj_err *err);
void bgj_cmdline_free(struct bgj_cmdline *c);

/* Parses a job number: decimal digits only, at most INT64_MAX.  0, or BGJ_EINVAL. */
int bgj_parse_id(const char *s, int64_t *out);

/* The largest number of seconds accepted anywhere (about 31 years). */
#define BGJ_MAX_SECONDS 1e9

/*
 * Parses a number of seconds as every option and the sleep callback take it:
 * what strtod reads (decimal with fraction and exponent, or hexadecimal such
 * as 0x10), the whole word, optional leading `+`, finite, from 0 to
 * BGJ_MAX_SECONDS; no blanks, no sign `-`, no inf or nan.  0, or BGJ_EINVAL.
 */
int bgj_parse_seconds(const char *s, double *out);

#endif
