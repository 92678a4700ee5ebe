/*
 * records.c - the records for scripts, on the bash side: `status --json',
 * `show --json', `log' (joblog.h: where finished jobs are logged; resume.h:
 * `log -r') and what `new' attaches to a job for them (its argv, directory
 * and -k key; a job whose key matches a Completed record of `log -r' is
 * resumed instead of run).
 *
 * Main thread only.  With --json nothing but JSON lines goes to stdout: every
 * message goes to stderr.  A job's state is read once per job per command, and
 * a finished job reported is marked seen, as report.c does.
 */
#include "bgjob_builtin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joblog.h"
#include "record.h"
#include "resume.h"

/* Writes B to stdout and empties it. */
static void flush_out(struct bgj_strbuf *b)
{
    if (b->n)
        fwrite(b->p, 1, b->n, stdout);
    bgj_sb_reset(b);
}

int bgj_status_json(struct bgj_cmdline *c)
{
    const struct bgj_group *g = c->gname ? bgj_group_lookup(c->gname) : NULL;
    if (c->gname && !g)
        return EXECUTION_FAILURE; /* (its message went to stderr) */
    struct bgj_strbuf b = {0};
    size_t n = bgj_count();
    for (size_t i = 0; i < n && !b.oom; i++) {
        bgjob_job *j = bgj_at(i);
        if (!j)
            continue;
        int s = bgj_shown_state(j);
        if ((c->opt_n && (!bgj_finished(s) || j->seen)) || (g && bgj_group_of(j) != g))
            continue;
        bgj_rec_json(&b, j, s, c->opt_output);
        if (bgj_finished(s))
            bgj_mark_seen(j);
        if (b.n >= 1 << 16)
            flush_out(&b);
    }
    int oom = b.oom;
    flush_out(&b);
    bgj_sb_free(&b);
    if (oom) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    return sh_chkwrite(EXECUTION_SUCCESS);
}

int bgj_show_json(struct bgj_cmdline *c)
{
    bgjob_job *j = bgj_lookup(c->ids[0]);
    if (!j)
        return EXECUTION_FAILURE;
    int s = bgj_shown_state(j);
    struct bgj_strbuf b = {0};
    bgj_rec_json(&b, j, s, c->opt_output);
    if (b.oom) {
        bgj_sb_free(&b);
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    if (bgj_finished(s))
        bgj_mark_seen(j);
    flush_out(&b);
    bgj_sb_free(&b);
    return sh_chkwrite(EXECUTION_SUCCESS);
}

/* FILE as an absolute name (malloc'd), for `log' to show. */
static char *absolute(const char *file)
{
    if (file[0] == '/')
        return strdup(file);
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return strdup(file);
    size_t n = strlen(cwd) + strlen(file) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", cwd, file);
    free(cwd);
    return out;
}

int bgj_cmd_log(struct bgj_cmdline *c)
{
    if (c->nwords == 0) {
        int json;
        char *where = bgj_joblog_where(&json);
        if (where)
            printf("logging to %s (%s)\n", where, json ? "JSON lines" : "joblog");
        else
            printf("not logging\n");
        free(where);
        return sh_chkwrite(EXECUTION_SUCCESS);
    }
    const char *file = c->words[0];
    if (strcmp(file, "-") == 0) {
        bgj_joblog_stop();
        bgj_resume_clear();
        return EXECUTION_SUCCESS;
    }
    char *shown = absolute(file);
    if (!shown) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    struct bgj_err err = {0};
    int rc = EXECUTION_SUCCESS;
    if (c->opt_r) {
        bgj_resume_clear();
        size_t kept, bad;
        if (access(file, F_OK) == 0 && bgj_resume_load(file, shown, &kept, &bad, &err) != 0) {
            builtin_error("%s", bgj_err_text(&err));
            rc = EXECUTION_FAILURE;
        }
    }
    if (rc == EXECUTION_SUCCESS && bgj_joblog_start(file, shown, c->opt_j || c->opt_r, &err) != 0) {
        builtin_error("%s", bgj_err_text(&err));
        rc = EXECUTION_FAILURE;
    }
    bgj_err_clear(&err);
    free(shown);
    return rc;
}

int bgj_records_new(bgjob_job *job, const struct bgj_cmdline *c)
{
    /*
     * An arithmetic job has no argv and its result does not depend on a
     * directory: it needs a record only for -k, a log or a resume (whose key
     * holds the directory).  Most keep none (memory and time of each `new').
     */
    if (!c->fname && !c->kname && !bgj_joblog_active() && bgj_resume_count() == 0)
        return 0;
    int argc = c->fname ? c->nwords + 1 : 0;
    char **argv = argc ? malloc((size_t)argc * sizeof *argv) : NULL;
    if (argc && !argv)
        return BGJ_ENOMEM;
    if (argc) {
        argv[0] = (char *)c->fname;
        memcpy(argv + 1, c->words, (size_t)c->nwords * sizeof *argv);
    }
    if (!bgj_job_side(job)) {
        free(argv);
        return BGJ_ENOMEM;
    }
    char *dir = get_working_directory("bgjob"); /* bash's own copy: no system call */
    job->side->rec = bgj_rec_new(argc, argv, dir, c->kname);
    free(argv);
    free(dir);
    if (!job->side->rec)
        return BGJ_ENOMEM;
    const char *result = bgj_resume_find(c->kname, bgj_rec_kind(job), job->command, job->side->rec->dir);
    return result ? bgj_resume_job(job, result) : 0;
}
