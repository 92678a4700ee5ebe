/*
 * job.c - the job record: creation, freeing (with its workflow links,
 * flow.c), and the fields a record carries for the pool (timeout) and for
 * the display (progress).
 *
 * No state of its own and no lock.  A record is built on the main thread
 * before submission (the heap it fills is prefaulted in bulk, prefault.c);
 * afterwards see jobs.h for who may touch which field.
 */
#include "jobs.h"
#include "info.h"
#include "record.h"

#include <stdlib.h>
#include <string.h>

bgjob_job *bgj_job_new(int kind, const char *command, bgj_run_fn run, bgj_release_fn release, void *arg)
{
    size_t len = strlen(command);
    bgjob_job *j = malloc(sizeof *j + len + 1);
    if (!j)
        return NULL;
    bgj_heap_prefault();
    memset(j, 0, sizeof *j);
    memcpy(j->command, command, len + 1);
    j->id = -1;
    j->cancel_fd = -1;
    j->kind = (unsigned char)kind;
    j->run = run;
    j->release = release;
    j->arg = arg;
    return j;
}

void bgj_job_free(bgjob_job *j)
{
    if (!j)
        return;
    if (j->arg && j->release)
        j->release(j->arg);
    bgj_flow_forget(j);
    bgj_job_unjoin(j);
    char *owned[] = {j->result, j->error, j->assignments, j->messages, j->handler, j->attempts};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        free(owned[i]);
    bgj_info_free(j->info);
    bgj_rec_free(j->rec);
    free(j->side);
    free(j);
}

int bgj_job_prepare(bgjob_job *j)
{
    if (j->side || !(j->timeout > 0 || j->retries || j->group))
        return 0;
    j->side = calloc(1, sizeof *j->side);
    return j->side ? 0 : BGJ_ENOMEM;
}

void bgj_job_unjoin(bgjob_job *j)
{
    if (j->out_joined)
        j->assignments = NULL;
    j->out_joined = 0;
}

void bgj_job_set_timeout(bgjob_job *j, double seconds) { j->timeout = seconds > 0 ? seconds : 0; }

double bgj_job_timeout(const bgjob_job *j) { return j->timeout; }

double bgj_progress(const bgjob_job *j)
{
    unsigned p = atomic_load_explicit(&((bgjob_job *)j)->progress, memory_order_relaxed);
    return p ? (p - 1) / 1e6 : -1.0;
}
