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
#include "vars.h"

/* The job's argument: one allocation holding the snapshot pointer, the
   word pointers and the words themselves. */
struct arith_arg {
    bgj_vars *vars;
    int nwords;
    char *words[];
};

static void arith_release(void *p)
{
    struct arith_arg *a = p;
    bgj_vars_free(a->vars);
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
    size_t bytes = 0;
    for (int i = 0; i < nwords; i++)
        bytes += strlen(words[i]) + 1;
    struct arith_arg *a = malloc(sizeof *a + (size_t)nwords * sizeof(char *) + bytes);
    if (!a) {
        bgj_vars_free(vars);
        return NULL;
    }
    a->vars = vars;
    a->nwords = nwords;
    char *p = (char *)(a->words + nwords);
    for (int i = 0; i < nwords; i++) {
        a->words[i] = p;
        p = stpcpy(p, words[i]) + 1;
    }
    /* The command is the words joined by spaces: their copies with each NUL
       but the last made a space, in a buffer of the same size. */
    char *command = nwords > 1 ? malloc(bytes) : NULL;
    if (nwords > 1 && !command) {
        arith_release(a);
        return NULL;
    }
    if (command) {
        memcpy(command, a->words[0], bytes);
        for (size_t i = 0; i + 1 < bytes; i++)
            if (command[i] == '\0')
                command[i] = ' ';
    }
    bgjob_job *j = bgj_job_new(BGJ_KIND_ARITH,
                               command  ? command
                               : nwords ? a->words[0]
                                        : "",
                               arith_run, arith_release, a);
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
