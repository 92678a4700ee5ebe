/*
 * arith_job.c - an arithmetic job: evaluates one expression on a worker
 * against the variable snapshot taken when the job was created.
 *
 * The expression is the job's command; the job owns the snapshot, and the
 * worker that runs it is its only user and frees it when the evaluation is over.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "jobs.h"
#include "vars.h"

static void arith_release(void *p)
{
    bgj_vars_free(p);
}

static int arith_run(bgjob_job *job, void *p)
{
    bgj_vars *vars = p;
    intmax_t value = 0;
    char *err = NULL;
    int rc = 0;
    if (bgj_arith_eval(job->command, vars, &value, &err) != 0) {
        job->error = err ? err : strdup("arithmetic evaluation failed");
        rc = 1;
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIdMAX, value);
        job->result = strdup(buf);
        free(err);
    }
    job->assignments = bgj_vars_assignments(vars);
    const char *msgs = bgj_vars_messages(vars);
    if (msgs && *msgs)
        job->messages = strdup(msgs);
    return rc;
}

bgjob_job *bgj_arith_job(const char *expr, bgj_vars *vars)
{
    bgjob_job *j = bgj_job_new(BGJ_KIND_ARITH, expr, arith_run, arith_release, vars);
    if (!j)
        bgj_vars_free(vars);
    return j;
}
