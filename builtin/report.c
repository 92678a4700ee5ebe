/*
 * report.c - the subcommands that report on jobs: status, show, result,
 * traceback (and the listing of unseen jobs that flush prints), and the
 * one form of a command line a person reads (bgj_command_line: quoted when
 * it holds a control character, cut to BGJ_CMD_COLUMNS); `show' keeps the
 * whole command.
 *
 * Main thread only.  A job's state is read once per job per command, so a job
 * that finishes while a report is being printed appears exactly once; fields
 * other than progress and the start time are read only once the job is
 * finished (see jobs.h).  Reporting a finished job marks it seen
 * (bgj_mark_seen), by the state printed: a job that finishes meanwhile stays
 * unseen.
 */
#include "bgjob_builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "variables.h"
#include "info.h"
#include "record.h"

/* True when S holds a newline or another control character. */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

char *bgj_command_line(const char *command)
{
    char *q = has_control(command) ? bgj_quote(command) : NULL;
    const char *s = q ? q : command;
    if (strlen(s) <= BGJ_CMD_COLUMNS)
        return q ? q : strdup(s);
    /* Cut at a character's first byte (UTF-8), so no partial character is printed. */
    size_t cut = BGJ_CMD_COLUMNS - 3;
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    char *out = malloc(cut + 4);
    if (out) {
        memcpy(out, s, cut);
        memcpy(out + cut, "...", 4);
    }
    free(q);
    return out;
}

/* One line per job: the command line as bgj_command_line shows it. */
static void print_job_line(bgjob_job *j, int state)
{
    double p = state == BGJ_RUNNING ? bgj_progress(j) : -1;
    char *q = bgj_command_line(j->command);
    const char *cmd = q ? q : j->command;
    if (p >= 0)
        printf("%lld : %s (%.0f%%)\n", (long long)j->id, cmd, p * 100);
    else
        printf("%lld : %s\n", (long long)j->id, cmd);
    free(q);
}

/*
 * Prints the groups of the status report for the jobs whose entry in STATES
 * is not -1, and marks the finished ones seen.  Returns how many were printed.
 */
static size_t print_groups(const int *states, size_t n)
{
    static const int order[] = {BGJ_BLOCKED, BGJ_QUEUED, BGJ_RUNNING, BGJ_COMPLETED, BGJ_DEAD};
    size_t printed = 0;
    for (size_t o = 0; o < sizeof order / sizeof *order; o++) {
        int s = order[o];
        int header = 0;
        for (size_t i = 0; i < n; i++) {
            if (states[i] != s)
                continue;
            bgjob_job *j = bgj_at(i);
            if (!header) {
                printf("%s jobs:\n", bgj_state_name(s));
                header = 1;
            }
            print_job_line(j, s);
            if (bgj_finished(s))
                bgj_mark_seen(j);
            printed++;
        }
        if (header)
            putchar('\n');
    }
    return printed;
}

/* States of every job in the table (-1 for removed, with ONLY_NEW for jobs not newly finished, and with
   GROUP for jobs of other groups). */
static int *collect_states(int only_new, const struct bgj_group *group, size_t *np)
{
    size_t n = bgj_count();
    int *st = malloc((n ? n : 1) * sizeof *st);
    if (!st)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        bgjob_job *j = bgj_at(i);
        st[i] = -1;
        if (!j)
            continue;
        int s = bgj_shown_state(j);
        if ((only_new && (!bgj_finished(s) || j->seen)) || (group && bgj_group_of(j) != group))
            continue;
        st[i] = s;
    }
    *np = n;
    return st;
}

int bgj_cmd_status(struct bgj_cmdline *c, const struct bgj_args *a)
{
    if (c->opt_json)
        return bgj_status_json(c);
    SHELL_VAR *arr = NULL;
    if (c->vname) {
        (void)a;
        arr = bgj_assoc_begin(c->vname);
        if (!arr)
            return EXECUTION_FAILURE;
    }
    const struct bgj_group *g = c->gname ? bgj_group_lookup(c->gname) : NULL;
    if (c->gname && !g)
        return EXECUTION_FAILURE;
    size_t n;
    int *st = collect_states(c->opt_n, g, &n);
    if (!st) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    if (arr) {
        char key[32];
        for (size_t i = 0; i < n; i++) {
            if (st[i] < 0)
                continue;
            bgjob_job *j = bgj_at(i);
            snprintf(key, sizeof key, "%lld", (long long)j->id);
            bgj_assoc_put(arr, key, bgj_state_name(st[i]));
            if (bgj_finished(st[i]))
                bgj_mark_seen(j);
        }
        free(st);
        return EXECUTION_SUCCESS;
    }
    print_groups(st, n);
    free(st);
    return sh_chkwrite(EXECUTION_SUCCESS);
}

static char *fmt_time(double t)
{
    char buf[64];
    if (t <= 0)
        return strdup("");
    snprintf(buf, sizeof buf, "%.6f", t);
    return strdup(buf);
}

/* Keys of `bgjob show`, in the order printed. */
enum {
    K_ID,
    K_STATE,
    K_KIND,
    K_COMMAND,
    K_RESULT,
    K_ERROR,
    K_DAEMON,
    K_PROGRESS,
    K_STARTED,
    K_FINISHED,
    K_ELAPSED,
    K_ASSIGNMENTS,
    K_MESSAGES,
    K_AFTER,
    K_AFTER_ANY,
    K_WAITING_FOR,
    K_GROUP,
    K_ATTEMPT,
    K_RETRIES,
    K_ATTEMPTS,
    K_COUNT
};
static const char *const show_keys[K_COUNT] = {
    "id",        "state",       "kind",     "command", "result",       "error",    "daemon",
    "progress",  "started",     "finished", "elapsed", "assignments",  "messages", "after",
    "after_any", "waiting_for", "group",    "attempt", "retries_left", "attempts",
};

/* The extra fields of a job (info.h), copied: key, value, key, value... */
struct extra {
    char **kv;
    size_t n, cap;
    int oom;
};

static void collect_extra(const char *key, const char *value, void *ctx)
{
    struct extra *x = ctx;
    if (x->oom)
        return;
    if (x->n == x->cap) {
        size_t ncap = x->cap ? 2 * x->cap : 8;
        char **kv = realloc(x->kv, 2 * ncap * sizeof *kv);
        if (!kv) {
            x->oom = 1;
            return;
        }
        x->kv = kv;
        x->cap = ncap;
    }
    x->kv[2 * x->n] = strdup(key);
    x->kv[2 * x->n + 1] = strdup(value);
    x->n++;
    if (!x->kv[2 * x->n - 2] || !x->kv[2 * x->n - 1])
        x->oom = 1;
}

static void free_extra(struct extra *x)
{
    for (size_t k = 0; k < 2 * x->n; k++)
        free(x->kv[k]);
    free(x->kv);
}

static void print_pair(const char *key, const char *value)
{
    char *q = bgj_quote(value);
    printf(" [%s]=%s", key, q ? q : "''");
    free(q);
}

int bgj_cmd_show(struct bgj_cmdline *c, const struct bgj_args *a)
{
    (void)a;
    if (c->opt_json)
        return bgj_show_json(c);
    bgjob_job *j = bgj_lookup(c->ids[0]);
    if (!j)
        return EXECUTION_FAILURE;
    int s = bgj_shown_state(j);
    int fin = bgj_finished(s);
    char *val[K_COUNT] = {0};
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)j->id);
    val[K_ID] = strdup(buf);
    val[K_STATE] = strdup(bgj_state_name(s));
    val[K_KIND] = strdup(j->kind == BGJ_KIND_ARITH ? "arith" : "callback");
    val[K_COMMAND] = strdup(j->command);
    val[K_RESULT] = strdup(fin && j->result ? j->result : "");
    val[K_ERROR] = strdup(fin && j->error ? j->error : "");
    val[K_DAEMON] = strdup(j->daemon ? "1" : "0");
    double p = bgj_progress(j);
    if (p >= 0)
        snprintf(buf, sizeof buf, "%.0f%%", p * 100);
    else
        buf[0] = 0;
    val[K_PROGRESS] = strdup(buf);
    /* started is published by the worker (bgj_started_of); finished only with the final state. */
    double started = bgj_started_of(j), finished = fin ? j->finished : 0;
    val[K_STARTED] = fmt_time(started);
    val[K_FINISHED] = fmt_time(finished);
    if (started > 0) {
        double end = fin ? finished : bgj_now();
        snprintf(buf, sizeof buf, "%.6f", end > started ? end - started : 0.0);
    } else {
        buf[0] = 0;
    }
    val[K_ELAPSED] = strdup(buf);
    val[K_ASSIGNMENTS] = strdup(fin && j->assignments ? j->assignments : "");
    val[K_MESSAGES] = strdup(fin && j->messages ? j->messages : "");
    val[K_AFTER] = bgj_job_deps(j, 0);
    val[K_AFTER_ANY] = bgj_job_deps(j, 1);
    val[K_WAITING_FOR] = bgj_job_waiting_for(j);
    val[K_GROUP] = strdup(bgj_group_name(bgj_group_of(j)));
    unsigned left;
    snprintf(buf, sizeof buf, "%u", bgj_job_attempt(j, &left));
    val[K_ATTEMPT] = strdup(buf);
    snprintf(buf, sizeof buf, "%u", left);
    val[K_RETRIES] = strdup(buf);
    val[K_ATTEMPTS] = bgj_job_attempts(j);
    for (int k = 0; k < K_COUNT; k++)
        if (!val[k]) {
            for (int m = 0; m < K_COUNT; m++)
                free(val[m]);
            builtin_error("out of memory");
            return EXECUTION_FAILURE;
        }
    struct extra extra = {0};
    if (bgj_info_each(bgj_info_of(j), collect_extra, &extra) != BGJ_OK || extra.oom) {
        for (int m = 0; m < K_COUNT; m++)
            free(val[m]);
        free_extra(&extra);
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    if (bgj_rec_of(j) && bgj_rec_of(j)->resumed) /* completed from a `log -r' record, not run */
        collect_extra("resumed", "1", &extra);
    if (fin)
        bgj_mark_seen(j);

    int rc = EXECUTION_SUCCESS;
    if (c->vname) {
        SHELL_VAR *arr = bgj_assoc_begin(c->vname);
        if (!arr)
            rc = EXECUTION_FAILURE;
        else {
            for (int k = 0; k < K_COUNT; k++)
                bgj_assoc_put(arr, show_keys[k], val[k]);
            for (size_t k = 0; k < extra.n; k++)
                bgj_assoc_put(arr, extra.kv[2 * k], extra.kv[2 * k + 1]);
        }
    } else {
        fputs("(", stdout);
        for (int k = 0; k < K_COUNT; k++)
            print_pair(show_keys[k], val[k]);
        for (size_t k = 0; k < extra.n; k++)
            print_pair(extra.kv[2 * k], extra.kv[2 * k + 1]);
        fputs(" )\n", stdout);
        rc = sh_chkwrite(EXECUTION_SUCCESS);
    }
    for (int k = 0; k < K_COUNT; k++)
        free(val[k]);
    free_extra(&extra);
    return rc;
}

int bgj_cmd_result(struct bgj_cmdline *c, const struct bgj_args *a)
{
    bgjob_job *j = bgj_lookup(c->ids[0]);
    if (!j)
        return EXECUTION_FAILURE;
    int s = bgj_state_of(j);
    if (!bgj_finished(s) && c->opt_w) {
        if (bgj_orphaned(j))
            return bgj_job_error(j->id, BGJ_EPARENT);
        bgjob_job **t = malloc(sizeof *t);
        if (!t) {
            builtin_error("out of memory");
            return EXECUTION_FAILURE;
        }
        t[0] = j;
        int rc = bgj_wait_jobs(t, 1, 0, 0, -1, NULL);
        s = bgj_state_of(j);
        if (!bgj_finished(s))
            return rc; /* a trapped signal */
    }
    if (s == BGJ_DEAD)
        return bgj_job_error(j->id, BGJ_EDEAD);
    if (s != BGJ_COMPLETED)
        return bgj_job_error(j->id, bgj_unfinished_code(j, s));
    bgj_mark_seen(j);
    char *nul =
        bgj_info_get(bgj_info_of(j), "nul_bytes"); /* a `run` command's NUL bytes, dropped as $(...) does */
    if (nul)
        builtin_warning("command substitution: ignored null byte in input");
    free(nul);
    if (c->vname) {
        /* Copy first: binding may run arithmetic (declare -i) and longjmp. */
        char *copy = strdup(j->result);
        if (!copy) {
            builtin_error("out of memory");
            return EXECUTION_FAILURE;
        }
        int rc = bgj_var_set(c->vname, bgj_word_flags(a, c->vname_word), copy);
        free(copy);
        return rc;
    }
    printf("%s\n", j->result);
    return sh_chkwrite(EXECUTION_SUCCESS);
}

static void print_traceback(bgjob_job *j)
{
    char *q = bgj_command_line(j->command);
    char *att = bgj_job_attempts(j); /* each retried attempt's last line, then the last attempt's error */
    printf("Traceback for: <BackgroundJob #%lld: %s>\n%s%s\n", (long long)j->id, q ? q : j->command,
           att ? att : "", j->error ? j->error : "");
    free(att);
    free(q);
    bgj_mark_seen(j);
}

int bgj_cmd_traceback(struct bgj_cmdline *c)
{
    if (c->nids == 0) {
        size_t n = bgj_count();
        for (size_t i = 0; i < n; i++) {
            bgjob_job *j = bgj_at(i);
            if (j && bgj_state_of(j) == BGJ_DEAD) {
                print_traceback(j);
                putchar('\n');
            }
        }
        return sh_chkwrite(EXECUTION_SUCCESS);
    }
    bgjob_job *j = bgj_lookup(c->ids[0]);
    if (!j)
        return EXECUTION_FAILURE;
    int s = bgj_state_of(j);
    if (s == BGJ_COMPLETED) {
        builtin_error("job %lld completed: it has no traceback", (long long)j->id);
        return EXECUTION_FAILURE;
    }
    if (s != BGJ_DEAD)
        return bgj_job_error(j->id, bgj_unfinished_code(j, s));
    print_traceback(j);
    return sh_chkwrite(EXECUTION_SUCCESS);
}

size_t bgj_print_unseen(void)
{
    size_t n;
    int *st = collect_states(1, NULL, &n);
    if (!st)
        return (size_t)-1;
    size_t printed = print_groups(st, n);
    free(st);
    return printed;
}
