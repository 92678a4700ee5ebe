/*
 * newjob.c - `bgjob new`: creates an arithmetic or callback job.
 *
 * Main thread only.  Everything that can fail is checked before the job is
 * numbered (the -v target, the callback name, the queue cap), so a `new`
 * that fails uses up no job number.  The variable snapshot of an arithmetic
 * job (newarith.c) is taken on the main thread; the worker never touches bash.
 * `new' also reads the limits (BGJOB_MAX_RUNNING, BGJOB_MAX_QUEUED, and for
 * callback jobs BGJOB_MAX_OUTPUT, BGJOB_KILL_GRACE), warning once per
 * unusable value (one helper, warn_unusable), and warns when the job would be lost with the
 * subshell it is created in.
 */
#include "bgjob_builtin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "variables.h"
#include "command.h"
#include "newarith.h"
#include "jobenv.h"
#include "registry.h"

extern int subshell_environment;
extern char **export_env;
extern void maybe_make_export_env(void);

#define LIMIT_MAX      100000000
#define MAX_OUTPUT_MAX 2147483647 /* a bash string is no longer */

/* The unusable values of a limit variable already warned about. */
struct warned {
    char *values[16];
    unsigned n;
};

/* True the first time VALUE is passed for W (up to 16 values; later ones always warn). */
static int first_time(struct warned *w, const char *value)
{
    for (unsigned i = 0; i < w->n; i++)
        if (strcmp(w->values[i], value) == 0)
            return 0;
    if (w->n < sizeof w->values / sizeof *w->values && (w->values[w->n] = strdup(value)) != NULL)
        w->n++;
    return 1;
}

/* The one warning about an unusable VAR=VALUE, the first time W sees VALUE: not WANTED, USED instead. */
static void warn_unusable(struct warned *w, const char *var, const char *value, const char *wanted,
                          const char *used)
{
    if (!first_time(w, value))
        return;
    char *q = bgj_quote(value);
    builtin_warning("%s=%s: not %s; using %s", var, q ? q : "?", wanted, used);
    free(q);
}

/*
 * The whole number in shell variable VAR, from 1 to MAX, or DFLT when unset
 * or empty.  Any other value gives DFLT too, with a warning (WANTED says
 * what is accepted) the first time that value is seen.
 */
static int64_t number_from(const char *var, int64_t max, int64_t dflt, const char *wanted, struct warned *w)
{
    const char *s = get_string_value(var);
    int64_t v;
    if (!s || !*s)
        return dflt;
    if (bgj_parse_id(s, &v) == 0 && v > 0 && v <= max)
        return v;
    char used[24];
    snprintf(used, sizeof used, "%lld", (long long)dflt);
    warn_unusable(w, var, s, wanted, used);
    return dflt;
}

static struct warned warned_running, warned_queued, warned_output, warned_grace;

/* The job limits: BGJOB_MAX_RUNNING and BGJOB_MAX_QUEUED, whole numbers from 1 to LIMIT_MAX. */
static unsigned limit_from(const char *var, unsigned dflt, struct warned *w)
{
    return (unsigned)number_from(var, LIMIT_MAX, dflt, "a whole number from 1 to 100000000", w);
}

/* BGJOB_KILL_GRACE: a number of seconds as every option takes one (0 included), or the default. */
static double grace_from(void)
{
    const char *s = get_string_value("BGJOB_KILL_GRACE");
    double g;
    if (!s || !*s)
        return BGJ_DEFAULT_KILL_GRACE;
    if (bgj_parse_seconds(s, &g) == 0)
        return g;
    char used[32];
    snprintf(used, sizeof used, "%g", BGJ_DEFAULT_KILL_GRACE);
    warn_unusable(&warned_grace, "BGJOB_KILL_GRACE", s, "a number of seconds from 0 to 1e9", used);
    return BGJ_DEFAULT_KILL_GRACE;
}

/*
 * What a callback job takes from the shell now: its exported variables (with
 * the command's temporary assignments), working directory and umask, and
 * the BGJOB_MAX_OUTPUT / BGJOB_KILL_GRACE limits (an unusable value is
 * warned about once and the default used).  NULL when out of memory.
 */
static struct bgj_jobenv *capture_env(void)
{
    maybe_make_export_env();
    struct bgj_jobenv *e = bgj_jobenv_new(export_env, bgj_shell_umask(), bgj_shell_dir_same());
    if (!e)
        return NULL;
    bgj_shell_dir_seen();
    e->max_output = (size_t)number_from("BGJOB_MAX_OUTPUT", MAX_OUTPUT_MAX, (int64_t)BGJ_DEFAULT_MAX_OUTPUT,
                                        "a whole number of bytes from 1 to 2147483647", &warned_output);
    e->kill_grace = grace_from();
    return e;
}

/* The kind of subshell this is, when a job started in it is lost with it; NULL otherwise. */
static const char *lost_in(void)
{
    /* bash marks a process substitution COMSUB too. */
    if (subshell_environment & SUBSHELL_PROCSUB)
        return "process substitution";
    if (subshell_environment & SUBSHELL_COMSUB)
        return "command substitution";
    if (subshell_environment & SUBSHELL_COPROC)
        return "coprocess";
    if (subshell_environment & SUBSHELL_PIPE)
        return "pipeline member";
    if (subshell_environment & SUBSHELL_ASYNC)
        return "asynchronous command (&)";
    return NULL;
}

/* WORDS joined by SEP; with QUOTE, each word in printf %q form.  NULL when out of memory. */
static char *join(char **words, int n, const char *first, int quote)
{
    size_t len = first ? strlen(first) + 1 : 1;
    char **q = calloc((size_t)n + 1, sizeof *q);
    if (!q)
        return NULL;
    for (int i = 0; i < n; i++) {
        q[i] = quote ? bgj_quote(words[i]) : strdup(words[i]);
        if (!q[i])
            goto fail;
        len += strlen(q[i]) + 1;
    }
    char *out = malloc(len), *p = out;
    if (!out)
        goto fail;
    *p = 0;
    if (first) {
        p = stpcpy(p, first);
    }
    for (int i = 0; i < n; i++) {
        if (p != out)
            *p++ = ' ';
        p = stpcpy(p, q[i]);
    }
    for (int i = 0; i < n; i++)
        free(q[i]);
    free(q);
    return out;
fail:
    for (int i = 0; i < n; i++)
        free(q[i]);
    free(q);
    return NULL;
}

/* new -a/-A: every job named must be a job of this shell (else a usage error, before anything is done).
   A range is checked job by job: one that names jobs that do not exist fails at the first. */
static int check_deps(const struct bgj_cmdline *c)
{
    for (size_t k = 0; k < c->ndeps; k++)
        for (int64_t id = c->deps[k];; id++) {
            bgjob_job *d = bgj_find(id);
            const char *why = !d ? "no such job" : bgj_orphaned(d) ? "a job of the parent shell" : NULL;
            if (why) {
                builtin_error("-%c: job %lld: %s", c->deps_any[k] ? 'A' : 'a', (long long)id, why);
                bgj_usage(c->cmd);
                return EX_USAGE;
            }
            if (id == c->deps_last[k])
                break;
        }
    return 0;
}

/* The workflow settings of JOB (not yet submitted): -a/-A, -r/-R, -g.  0, or EXECUTION_FAILURE after printing. */
static int set_flow(bgjob_job *job, const struct bgj_cmdline *c)
{
    for (size_t k = 0; k < c->ndeps; k++)
        for (int64_t id = c->deps[k];; id++) {
            if (bgj_job_add_dep(job, bgj_find(id), c->deps_any[k]) != 0) {
                builtin_error("out of memory");
                return EXECUTION_FAILURE;
            }
            if (id == c->deps_last[k])
                break;
        }
    if (c->has_retries && c->retries > 0 &&
        bgj_job_set_retries(job, c->retries, c->has_backoff ? c->backoff : 1.0) != 0) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    if (c->gname && (!bgj_job_side(job) || !(job->side->group = bgj_group_find(c->gname, 1)))) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    return 0;
}

int bgj_cmd_new(struct bgj_cmdline *c, const struct bgj_args *a)
{
    int wflags = bgj_word_flags(a, c->vname_word);
    int drc = check_deps(c);
    if (drc)
        return drc;
    /* A handler that names no function would only fail when the job ends. */
    if (c->cname && !find_function(c->cname)) {
        builtin_error("-c: %s: no such function", c->cname);
        bgj_usage(c->cmd);
        return EX_USAGE;
    }
    unsigned max_running = limit_from("BGJOB_MAX_RUNNING", BGJ_DEFAULT_MAX_RUNNING, &warned_running);
    unsigned max_queued = limit_from("BGJOB_MAX_QUEUED", BGJ_DEFAULT_MAX_QUEUED, &warned_queued);
    bgj_set_limits(max_running, max_queued);

    bgjob_job *job;
    if (c->fname) {
        const struct bgj_callback *cb = bgj_callback_find(c->fname);
        if (!cb) {
            builtin_error("%s: no such callback (see `bgjob funcs')", c->fname);
            return EXECUTION_FAILURE;
        }
        struct bgj_err err = {0};
        if (bgj_callback_check(cb, c->nwords, c->words, &err) != BGJ_OK) {
            builtin_error("%s", bgj_err_text(&err));
            fprintf(stderr, "bgjob: usage: bgjob new [OPTION...] -f %s\n", cb->usage);
            bgj_err_clear(&err);
            return EX_USAGE;
        }
        char *run_path = NULL;
        int is_run = strcmp(cb->name, "run") == 0 && strcmp(cb->origin, "builtin") == 0;
        if (is_run) {
            int st = bgj_run_find(c->words[0], &run_path);
            if (st != EXECUTION_SUCCESS)
                return st;
        }
        char *command = join(c->words, c->nwords, cb->name, 1);
        struct bgj_jobenv *env = command ? capture_env() : NULL;
        if (env && run_path) {
            int st = bgj_run_fits(run_path, c->nwords, c->words, env->envp);
            if (st != EXECUTION_SUCCESS) {
                free(run_path);
                free(command);
                bgj_jobenv_free(env);
                return st;
            }
        }
        if (env)
            env->exec_path = run_path;
        else
            free(run_path);
        job = env ? bgj_callback_job_env(cb, c->nwords, c->words, command, env) : NULL;
        free(command);
    } else {
        int rc = bgj_new_arith(c, &job);
        if (rc != 0)
            return rc;
    }
    if (!job) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    /* Its argv, directory and -k key for records; a job `log -r' has a result for is resumed. */
    if (bgj_records_new(job, c) != 0) {
        bgj_job_free(job);
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    /* new -c FUNC: the completion handler (notify.c runs it). */
    if (c->cname && bgj_handler_set(job, c->cname) != 0) {
        bgj_job_free(job);
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    /* new -t SECONDS: the job's time limit, counted from its start. */
    if (c->has_timeout && c->timeout > 0 && bgj_job_set_timeout(job, c->timeout) != 0) {
        bgj_job_free(job);
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    if (set_flow(job, c) != 0) {
        bgj_job_free(job);
        return EXECUTION_FAILURE;
    }
    int64_t id = bgj_submit(job, c->opt_d);
    if (id < 0) {
        if (id == BGJ_EFULL)
            builtin_error("too many queued jobs: the queue is full (BGJOB_MAX_QUEUED=%u; %u may run at once, "
                          "BGJOB_MAX_RUNNING)",
                          max_queued, max_running);
        else
            builtin_error("can not start the job: %s", bgj_strerror((int)id));
        return EXECUTION_FAILURE;
    }
    bgj_handler_submitted(job);
    const char *kind = lost_in();
    if (kind)
        builtin_warning(
            "job %lld belongs to the subshell of this %s and is lost with it (the subshell waits for it "
            "when it exits, unless it is a daemon job); start it in the shell itself and use `bgjob new -v "
            "VAR'",
            (long long)id, kind);
    char buf[24], *p = buf + sizeof buf;
    *--p = 0;
    do
        *--p = (char)('0' + id % 10);
    while ((id /= 10) > 0);
    bind_variable("BGJOB_LAST", p, 0);
    if (c->vname)
        return bgj_var_set(c->vname, wflags, p);
    return EXECUTION_SUCCESS;
}
