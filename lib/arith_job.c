/*
 * arith_job.c - an arithmetic job: evaluates its words on a worker, in
 * order, against the variable snapshot taken when the job was created, as
 * `let WORD...' would.
 *
 * The job owns the snapshot and a copy of the words; the worker that runs
 * it is their only user, and the release function frees them when the
 * evaluation is over.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "jobs.h"
#include "strbuf.h"
#include "vars.h"

struct arith_arg {
    bgj_vars *vars;
    int nwords;
    char **words;
};

static void arith_release(void *p)
{
    struct arith_arg *a = p;
    bgj_vars_free(a->vars);
    for (int i = 0; i < a->nwords; i++)
        free(a->words[i]);
    free(a->words);
    free(a);
}

static int arith_run(bgjob_job *job, void *p)
{
    struct arith_arg *a = p;
    struct bgj_err err = {0};
    intmax_t value = 0;
    int rc = bgj_arith_run_words(a->nwords, a->words, a->vars, &value, &err);
    if (rc != 0) {
        job->error = strdup(bgj_err_text(&err));
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIdMAX, value);
        job->result = strdup(buf);
    }
    bgj_err_clear(&err);
    job->assignments = bgj_vars_assignments(a->vars);
    const char *msgs = bgj_vars_messages(a->vars);
    if (msgs && *msgs)
        job->messages = strdup(msgs);
    return rc != 0;
}

struct bgjob_job *bgj_arith_job_words(int nwords, char *const *words, bgj_vars *vars)
{
    struct arith_arg *a = calloc(1, sizeof *a);
    struct bgj_strbuf cmd = {0};
    if (a)
        a->words = calloc((size_t)nwords + 1, sizeof *a->words);
    if (!a || !a->words) {
        free(a);
        bgj_vars_free(vars);
        return NULL;
    }
    a->vars = vars;
    int bad = 0;
    for (int i = 0; i < nwords && !bad; i++) {
        bad = !(a->words[i] = strdup(words[i]));
        a->nwords += !bad;
        if (i)
            bgj_sb_add(&cmd, " ", 1);
        bgj_sb_puts(&cmd, words[i]);
    }
    char *command = bgj_sb_take(&cmd); /* the words joined by spaces */
    bgjob_job *j = bad || !command ? NULL : bgj_job_new(BGJ_KIND_ARITH, command, arith_run, arith_release, a);
    free(command);
    if (!j)
        arith_release(a);
    return j;
}

bgjob_job *bgj_arith_job(const char *expr, bgj_vars *vars)
{
    char *words[1] = {(char *)expr};
    return bgj_arith_job_words(1, words, vars);
}
