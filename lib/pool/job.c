/*
 * job.c - the job record: creation (a callback job's side record in the same
 * block), the side record other jobs get when an option needs it, freeing
 * (with its workflow links, flow.c), and the fields a record carries for the
 * pool (timeout) and for the display (progress).
 *
 * No state of its own and no lock.  A record is built on the main thread
 * before submission (the heap it fills is prefaulted in bulk, prefault.c),
 * and so is its side record; afterwards see jobs.h for who may touch which
 * field.
 */
#include "jobs.h"
#include "info.h"
#include "record.h"

#include <stdlib.h>
#include <string.h>

bgjob_job *bgj_job_new(int kind, const char *command, bgj_run_fn run, bgj_release_fn release, void *arg)
{
    size_t len = strlen(command);
    /* a callback job's side record in the same block, after the command */
    size_t at = (sizeof(bgjob_job) + len + 1 + 15) & ~(size_t)15;
    size_t size = kind == BGJ_KIND_CALLBACK ? at + sizeof(struct bgj_job_side) : sizeof(bgjob_job) + len + 1;
    bgjob_job *j = malloc(size);
    if (!j)
        return NULL;
    bgj_heap_prefault();
    memset(j, 0, sizeof *j);
    memcpy(j->command, command, len + 1);
    if (kind == BGJ_KIND_CALLBACK) {
        j->side = (struct bgj_job_side *)(void *)((char *)j + at);
        memset(j->side, 0, sizeof *j->side);
        j->side->cancel_fd = -1;
        j->side_inline = 1;
    }
    j->id = -1;
    j->kind = (unsigned char)kind;
    j->run = run;
    j->release = release;
    j->arg = arg;
    return j;
}

struct bgj_job_side *bgj_job_side(bgjob_job *j)
{
    if (!j->side) {
        j->side = calloc(1, sizeof *j->side);
        if (j->side)
            j->side->cancel_fd = -1;
    }
    return j->side;
}

void bgj_job_free(bgjob_job *j)
{
    if (!j)
        return;
    if (j->arg && j->release)
        j->release(j->arg);
    bgj_flow_forget(j);
    bgj_job_unjoin(j);
    char *owned[] = {j->result, j->error, j->assignments, j->messages};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        free(owned[i]);
    struct bgj_job_side *s = j->side;
    if (s) {
        free(s->handler);
        free(s->attempts);
        bgj_info_free(s->info);
        bgj_rec_free(s->rec);
        if (!j->side_inline)
            free(s);
    }
    free(j);
}

void bgj_job_unjoin(bgjob_job *j)
{
    if (j->out_joined)
        j->assignments = NULL;
    j->out_joined = 0;
}

int bgj_job_set_timeout(bgjob_job *j, double seconds)
{
    if (!(seconds > 0) && !j->side)
        return 0;
    if (!bgj_job_side(j))
        return BGJ_ENOMEM;
    j->side->timeout = seconds > 0 ? seconds : 0;
    return 0;
}

double bgj_job_timeout(const bgjob_job *j) { return bgj_timeout_of(j); }

double bgj_progress(const bgjob_job *j)
{
    unsigned p = j->side ? atomic_load_explicit(&j->side->progress, memory_order_relaxed) : 0;
    return p ? (p - 1) / 1e6 : -1.0;
}
