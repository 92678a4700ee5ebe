/*
 * manage.c - the subcommands that delete or stop jobs: remove, flush, kill
 * (kill -g: a group's unfinished jobs).  A finished job a Blocked job still
 * needs is not removed.
 *
 * Main thread only.  Only finished jobs are deleted (a worker may still
 * write to an unfinished one).  flush's guard against deleting jobs nobody
 * has seen applies in interactive shells only; a script flushes every
 * finished job, as IPython's flush does.
 */
#include "bgjob_builtin.h"

#include <stdio.h>
#include <stdlib.h>

extern int interactive_shell;

/* Runs ACT on each job named on the command line, in order.  The status is
   EXECUTION_FAILURE when a name is not a job (bgj_lookup has said so) or ACT
   failed for one; the jobs after it are still acted on. */
static int each_job(const struct bgj_cmdline *c, int (*act)(bgjob_job *j))
{
    int rc = EXECUTION_SUCCESS;
    for (size_t k = 0; k < c->nids; k++) {
        bgjob_job *j = bgj_lookup(c->ids[k]);
        if (!j || act(j) != EXECUTION_SUCCESS)
            rc = EXECUTION_FAILURE;
    }
    return rc;
}

static int remove_one(bgjob_job *j)
{
    int64_t id = j->id;
    int s = bgj_state_of(j);
    if (bgj_finished(s) && bgj_job_needed(j))
        return bgj_job_error(id, BGJ_ENEEDED);
    /* The state read here names the reason, whatever code the manager returns. */
    if (!bgj_finished(s) || bgj_remove(id) != 0)
        return bgj_job_error(id, bgj_unfinished_code(j, bgj_state_of(j)));
    return EXECUTION_SUCCESS;
}

int bgj_cmd_remove(struct bgj_cmdline *c) { return each_job(c, remove_one); }

int bgj_cmd_flush(struct bgj_cmdline *c)
{
    int guard = !c->opt_f && interactive_shell;
    if (guard && bgj_unseen() > 0) {
        if (bgj_print_unseen() == (size_t)-1) {
            builtin_error("out of memory");
            return EXECUTION_FAILURE;
        }
        fflush(stdout);
        builtin_error("nothing flushed: the jobs above finished since the last report (see them, then flush "
                      "again, or use `bgjob flush -f')");
        return EXECUTION_FAILURE;
    }
    size_t ncompleted = 0, ndead = 0;
    bgj_flush_finished(guard, &ncompleted, &ndead);
    if (ncompleted)
        printf("Flushing %zu Completed job%s.\n", ncompleted, ncompleted == 1 ? "" : "s");
    if (ndead)
        printf("Flushing %zu Dead job%s.\n", ndead, ndead == 1 ? "" : "s");
    if (!ncompleted && !ndead)
        printf("No jobs to flush.\n");
    return sh_chkwrite(EXECUTION_SUCCESS);
}

static int kill_one(bgjob_job *j)
{
    if (bgj_orphaned(j))
        return bgj_job_error(j->id, BGJ_EPARENT);
    if (bgj_cancel(j) != 0)
        return bgj_job_error(j->id, BGJ_EFINISHED);
    return EXECUTION_SUCCESS;
}

/* kill -g NAME: every unfinished job of the group (those of the parent shell excepted). */
static int kill_group(const char *name)
{
    struct bgj_group *g = bgj_group_lookup(name);
    if (!g)
        return EXECUTION_FAILURE;
    size_t n = bgj_count();
    for (size_t i = 0; i < n; i++) {
        bgjob_job *j = bgj_at(i);
        if (j && bgj_group_of(j) == g && !bgj_finished(bgj_state_of(j)) && !bgj_orphaned(j))
            bgj_cancel(j);
    }
    return EXECUTION_SUCCESS;
}

int bgj_cmd_kill(struct bgj_cmdline *c) { return c->gname ? kill_group(c->gname) : each_job(c, kill_one); }
