/*
 * record.c - see record.h.  No state and no lock of its own: the extra
 * fields of a command (pid, exit, signal, rusage) are copied under the info
 * lock (info.h), one at a time.
 */
#define _GNU_SOURCE
#include "record.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "info.h"
#include "json.h"

struct bgj_rec *bgj_rec_new(int argc, char *const *argv, const char *dir, const char *key)
{
    struct bgj_rec *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    int bad = 0;
    if (argc > 0) {
        r->argv = calloc((size_t)argc + 1, sizeof *r->argv);
        bad = !r->argv;
        for (int i = 0; !bad && i < argc; i++)
            bad = !(r->argv[i] = strdup(argv[i]));
    }
    if (dir && !bad)
        bad = !(r->dir = strdup(dir));
    if (key && !bad)
        bad = !(r->key = strdup(key));
    if (bad) {
        bgj_rec_free(r);
        return NULL;
    }
    return r;
}

void bgj_rec_free(struct bgj_rec *r)
{
    if (!r)
        return;
    for (char **a = r->argv; a && *a; a++)
        free(*a);
    free(r->argv);
    free(r->dir);
    free(r->key);
    free(r);
}

const char *bgj_rec_kind(const bgjob_job *j) { return j->kind == BGJ_KIND_ARITH ? "arith" : "callback"; }

/* True when S is a non-empty JSON number of the forms the extra fields hold (digits, one '.'). */
static int plain_number(const char *s)
{
    if (!s || !*s || *s == '.')
        return 0;
    int dots = 0;
    for (; *s; s++)
        if (*s == '.')
            dots++;
        else if (*s < '0' || *s > '9')
            return 0;
    return dots <= 1 && s[-1] != '.';
}

/* The extra fields a record shows (a command's), copied; NULL when not set or empty. */
enum { X_PID, X_EXIT, X_SIGNAL, X_RSS, X_USER, X_SYS, X_COUNT };
static const char *const extra_keys[X_COUNT] = {"pid", "exit", "signal", "max_rss_kb", "user_s", "sys_s"};

static void get_extra(const bgjob_job *j, char *x[X_COUNT])
{
    for (int k = 0; k < X_COUNT; k++) {
        x[k] = *bgj_info_of(j) ? bgj_info_get(bgj_info_of(j), extra_keys[k]) : NULL;
        if (x[k] && !*x[k]) {
            free(x[k]);
            x[k] = NULL;
        }
    }
}

static void free_extra(char *x[X_COUNT])
{
    for (int k = 0; k < X_COUNT; k++)
        free(x[k]);
}

/* `"key":' */
static void key(struct bgj_strbuf *b, const char *k)
{
    bgj_sb_add(b, ",\"", 2);
    bgj_sb_puts(b, k);
    bgj_sb_add(b, "\":", 2);
}

static void num_or_null(struct bgj_strbuf *b, const char *k, const char *v)
{
    key(b, k);
    if (plain_number(v))
        bgj_sb_puts(b, v);
    else
        bgj_sb_add(b, "null", 4);
}

static void time_or_null(struct bgj_strbuf *b, const char *k, double t)
{
    key(b, k);
    if (t > 0)
        bgj_sb_printf(b, "%.6f", t);
    else
        bgj_sb_add(b, "null", 4);
}

/*
 * The workflow fields (group, after, attempt): its group's name or null, the
 * jobs of its -a and -A in the order given, and the attempt running or last
 * run (from 1).  Dependencies and group are fixed at submission; the attempt
 * is read under the manager's lock (the caller holds none).
 */
static void rec_workflow_fields(struct bgj_strbuf *b, const bgjob_job *j)
{
    key(b, "group");
    bgj_json_cstr(b, bgj_group_of(j) ? bgj_group_name(bgj_group_of(j)) : NULL);
    key(b, "after");
    bgj_sb_add(b, "[", 1);
    size_t n = bgj_job_ndeps(j);
    for (size_t k = 0; k < n; k++)
        bgj_sb_printf(b, "%s%lld", k ? "," : "", (long long)bgj_job_dep_id(j, k));
    bgj_sb_add(b, "]", 1);
    unsigned left;
    bgj_sb_printf(b, ",\"attempt\":%u", bgj_job_attempt(j, &left));
}

static const char *const state_names[] = {"Queued", "Running", "Completed", "Dead", "Blocked"};

void bgj_rec_json(struct bgj_strbuf *b, const bgjob_job *j, int state, int output)
{
    const struct bgj_rec *r = bgj_rec_of(j);
    int fin = bgj_finished(state);
    char *x[X_COUNT];
    get_extra(j, x);
    bgj_sb_printf(b, "{\"schema\":1,\"id\":%lld", (long long)j->id);
    key(b, "command");
    bgj_json_cstr(b, j->command);
    key(b, "argv");
    if (r && r->argv) {
        bgj_sb_add(b, "[", 1);
        for (char **a = r->argv; *a; a++) {
            if (a != r->argv)
                bgj_sb_add(b, ",", 1);
            bgj_json_cstr(b, *a);
        }
        bgj_sb_add(b, "]", 1);
    } else {
        bgj_sb_add(b, "null", 4);
    }
    key(b, "kind");
    bgj_json_cstr(b, bgj_rec_kind(j));
    key(b, "state");
    bgj_json_cstr(b, state >= BGJ_QUEUED && state <= BGJ_BLOCKED ? state_names[state] : "?");
    num_or_null(b, "exit", fin ? x[X_EXIT] : NULL);
    key(b, "signal");
    bgj_json_cstr(b, fin ? x[X_SIGNAL] : NULL);
    double started = bgj_started_of(j), finished = fin ? j->finished : 0;
    time_or_null(b, "started", started);
    time_or_null(b, "finished", finished);
    key(b, "elapsed");
    if (started > 0) {
        double end = fin ? finished : bgj_now();
        bgj_sb_printf(b, "%.6f", end > started ? end - started : 0.0);
    } else {
        bgj_sb_add(b, "null", 4);
    }
    rec_workflow_fields(b, j);
    num_or_null(b, "pid", fin ? NULL : x[X_PID]);
    num_or_null(b, "max_rss_kb", x[X_RSS]);
    num_or_null(b, "user_s", x[X_USER]);
    num_or_null(b, "sys_s", x[X_SYS]);
    key(b, "key");
    bgj_json_cstr(b, r ? r->key : NULL);
    key(b, "dir");
    bgj_json_cstr(b, r ? r->dir : NULL);
    key(b, "resumed");
    bgj_sb_puts(b, r && r->resumed ? "true" : "false");
    if (output) {
        key(b, "result");
        bgj_json_cstr(b, state == BGJ_COMPLETED ? j->result : NULL);
        key(b, "traceback");
        bgj_json_cstr(b, state == BGJ_DEAD ? j->error : NULL);
    }
    bgj_sb_add(b, "}\n", 2);
    free_extra(x);
}

const char bgj_rec_joblog_header[] =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

/* The number of the signal named NAME ("SIGKILL", or "signal N"), or 0. */
static int signal_number(const char *name)
{
    if (!name)
        return 0;
    if (strncmp(name, "signal ", 7) == 0)
        return atoi(name + 7);
    if (strncmp(name, "SIG", 3) == 0)
        for (int s = 1; s < 65; s++) {
            const char *a = sigabbrev_np(s);
            if (a && strcmp(a, name + 3) == 0)
                return s;
        }
    return 0;
}

/* Bytes of a finished job's output: a command's stdout and stderr, else its result. */
static size_t output_bytes(const bgjob_job *j, int state)
{
    size_t n = 0;
    char *o = *bgj_info_of(j) ? bgj_info_get(bgj_info_of(j), "stdout") : NULL;
    char *e = *bgj_info_of(j) ? bgj_info_get(bgj_info_of(j), "stderr") : NULL;
    if (o || e)
        n = (o ? strlen(o) : 0) + (e ? strlen(e) : 0);
    else if (state == BGJ_COMPLETED && j->result)
        n = strlen(j->result);
    free(o);
    free(e);
    return n;
}

void bgj_rec_joblog(struct bgj_strbuf *b, const bgjob_job *j, int state)
{
    char *x[X_COUNT];
    get_extra(j, x);
    /* GNU parallel: Starttime "%.3f"; JobRuntime "%10.3f" of the run time cut (not rounded) to ms,
       counted from the start as printed */
    double started = bgj_started_of(j), finished = j->finished;
    char st[64];
    snprintf(st, sizeof st, "%.3f", started > 0 ? started : finished);
    double runtime = started > 0 ? (double)(long long)((finished - strtod(st, NULL)) * 1000) / 1000 : 0;
    if (runtime < 0)
        runtime = 0;
    int sig = signal_number(x[X_SIGNAL]);
    int exitval = state == BGJ_COMPLETED ? 0 : x[X_EXIT] ? atoi(x[X_EXIT]) : sig ? 0 : 1;
    bgj_sb_printf(b, "%lld\t:\t%s\t%10.3f\t0\t%zu\t%d\t%d\t", (long long)j->id, st, runtime,
                  output_bytes(j, state), exitval, sig);
    /* the command line a shell would run (a `run' job's without "run "); newlines would break the
       line: GNU parallel writes them as NUL bytes */
    const char *cmd = j->command;
    if (bgj_rec_of(j) && bgj_rec_of(j)->argv && strcmp(bgj_rec_of(j)->argv[0], "run") == 0 &&
        strncmp(cmd, "run ", 4) == 0)
        cmd += 4;
    size_t at = b->n;
    bgj_sb_puts(b, cmd);
    for (size_t i = at; !b->oom && i < b->n; i++)
        if (b->p[i] == '\n')
            b->p[i] = '\0';
    bgj_sb_add(b, "\n", 1);
    free_extra(x);
}
