/*
 * arith_job.c - an arithmetic job: evaluates its words on a worker, in
 * order, against the variable snapshot taken when the job was created, as
 * `let WORD...' would.
 *
 * The job owns the snapshot and a copy of the words; the worker that runs
 * it is their only user, and the release function frees them when the
 * evaluation is over.  A job of one word (the usual `bgjob new EXPR') has
 * the snapshot alone as its argument and reads its word from the job's
 * command.  The snapshot, made on the main thread, goes back to it to be
 * freed (bgj_vars_free_later; making a job and a flush call bgj_vars_reap): a worker that
 * freed it would contend with the main thread for the allocator's lock.
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
    bgj_vars_free_later(a->vars);
    free(a);
}

static void arith_release1(void *p) { bgj_vars_free_later(p); }

/* Evaluates the NWORDS WORDS against VARS for JOB: its result or error, assignments and messages. */
static int arith_eval(bgjob_job *job, int nwords, char *const *words, bgj_vars *vars)
{
    struct bgj_err err = {0};
    intmax_t value = 0;
    int rc = bgj_arith_run_words(nwords, words, vars, &value, &err);
    char *as = bgj_vars_assignments(vars);
    if (rc != 0) {
        job->error = strdup(bgj_err_text(&err));
        job->assignments = as;
    } else {
        /* The result and the assignments in one block, which the job keeps (jobs.h, out_joined). */
        char buf[32];
        size_t rl = (size_t)snprintf(buf, sizeof buf, "%" PRIdMAX, value) + 1, al = as ? strlen(as) + 1 : 0;
        char *out = malloc(rl + al);
        if (out) {
            memcpy(out, buf, rl);
            if (as)
                memcpy(out + rl, as, al);
            job->assignments = as ? out + rl : NULL;
            job->out_joined = as != NULL;
            free(as);
        } else {
            job->assignments = as;
        }
        job->result = out;
    }
    bgj_err_clear(&err);
    const char *msgs = bgj_vars_messages(vars);
    if (msgs && *msgs)
        job->messages = strdup(msgs);
    return rc != 0;
}

static int arith_run(bgjob_job *job, void *p)
{
    struct arith_arg *a = p;
    return arith_eval(job, a->nwords, a->words, a->vars);
}

static int arith_run1(bgjob_job *job, void *p)
{
    char *words[1] = {job->command};
    return arith_eval(job, 1, words, p);
}

void bgj_arith_reap(void) { bgj_vars_reap(); }

struct bgjob_job *bgj_arith_job_words(int nwords, char *const *words, bgj_vars *vars)
{
    bgj_vars_reap();
    if (nwords == 1) {
        bgjob_job *j = bgj_job_new(BGJ_KIND_ARITH, words[0], arith_run1, arith_release1, vars);
        if (!j)
            bgj_vars_free(vars);
        return j;
    }
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
    /* (one word was handled above: here there are none, or several) */
    bgjob_job *j = bgj_job_new(BGJ_KIND_ARITH, command ? command : "", arith_run, arith_release, a);
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
