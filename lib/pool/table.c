/*
 * table.c - the job table: numbering, the slots in id order, find, remove,
 * flush, and the seen marks.
 *
 * Main thread only, no lock: workers never read the table or a job's `seen`
 * flag.  A job is entered before the pool may start it and deleted only once
 * its finished state is published (after which no worker touches it).
 */
#define _GNU_SOURCE
#include "jobs.h"

#include <malloc.h>
#include <stdlib.h>

struct slot {
    int64_t id;
    bgjob_job *job; /* NULL once removed */
};

static struct {
    struct slot *slots;
    size_t nslots, cap, holes;
    int64_t next_id;
    unsigned long removals; /* jobs deleted so far (bgj_removals) */
    int64_t waited_below;   /* every job numbered below this counts as waited (bgj_mark_waited_below) */
} T;

int bgj_table_reserve(void)
{
    if (T.nslots == T.cap) {
        size_t ncap = T.cap ? T.cap * 2 : 64;
        struct slot *s = realloc(T.slots, ncap * sizeof *s);
        if (!s)
            return BGJ_ENOMEM;
        T.slots = s;
        T.cap = ncap;
    }
    return 0;
}

int bgj_table_add(bgjob_job *j)
{
    if (bgj_table_reserve() != 0)
        return BGJ_ENOMEM;
    j->id = T.next_id++;
    T.slots[T.nslots].id = j->id;
    T.slots[T.nslots].job = j;
    T.nslots++;
    return 0;
}

size_t bgj_index_of(int64_t id)
{
    size_t lo = 0, hi = T.nslots;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (T.slots[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct slot *table_slot(int64_t id)
{
    size_t lo = bgj_index_of(id);
    return (lo < T.nslots && T.slots[lo].id == id) ? &T.slots[lo] : NULL;
}

/* Drops removed slots once they are a good part of the table, and gives memory back. */
static void table_compact(int force)
{
    if (T.holes == 0 || (!force && T.holes < 64 + T.nslots / 2))
        return;
    size_t k = 0;
    for (size_t i = 0; i < T.nslots; i++)
        if (T.slots[i].job)
            T.slots[k++] = T.slots[i];
    T.nslots = k;
    T.holes = 0;
    if (T.cap > 64 && T.cap > 4 * T.nslots) {
        size_t ncap = T.nslots < 32 ? 64 : T.nslots * 2;
        struct slot *s = realloc(T.slots, ncap * sizeof *s);
        if (s) {
            T.slots = s;
            T.cap = ncap;
        }
    }
    if (force)
        malloc_trim(0);
}

size_t bgj_count(void) { return T.nslots; }
bgjob_job *bgj_at(size_t i) { return i < T.nslots ? T.slots[i].job : NULL; }
int64_t bgj_next_id(void) { return T.next_id; }
unsigned long bgj_removals(void) { return T.removals; }

bgjob_job *bgj_find(int64_t id)
{
    struct slot *s = table_slot(id);
    return s ? s->job : NULL;
}

int bgj_remove(int64_t id)
{
    struct slot *s = table_slot(id);
    if (!s || !s->job)
        return BGJ_ENOJOB;
    int st = bgj_state_of(s->job);
    if (st == BGJ_QUEUED)
        return BGJ_EQUEUED;
    if (st == BGJ_RUNNING)
        return BGJ_ERUNNING;
    if (st == BGJ_BLOCKED)
        return BGJ_EBLOCKED;
    if (bgj_job_needed(s->job))
        return BGJ_ENEEDED;
    bgj_job_free(s->job);
    s->job = NULL;
    T.holes++;
    T.removals++;
    table_compact(0);
    return 0;
}

void bgj_flush_finished(int only_seen, size_t *ncompleted, size_t *ndead)
{
    for (size_t i = 0; i < T.nslots; i++) {
        bgjob_job *j = T.slots[i].job;
        if (!j)
            continue;
        int s = bgj_state_of(j);
        if (!bgj_finished(s) || (only_seen && !j->seen) || bgj_job_needed(j))
            continue;
        if (s == BGJ_COMPLETED)
            (*ncompleted)++;
        else
            (*ndead)++;
        bgj_job_free(j);
        T.slots[i].job = NULL;
        T.holes++;
        T.removals++;
    }
    bgj_arith_reap(); /* and the snapshots of the jobs that ended */
    table_compact(1);
}

size_t bgj_unseen(void)
{
    size_t n = 0;
    for (size_t i = 0; i < T.nslots; i++) {
        bgjob_job *j = T.slots[i].job;
        if (j && !j->seen && bgj_finished(bgj_state_of(j)))
            n++;
    }
    return n;
}

void bgj_mark_seen(bgjob_job *j)
{
    if (bgj_finished(bgj_state_of(j)))
        j->seen = 1;
}

int bgj_waited(const bgjob_job *j) { return j->waited || j->id < T.waited_below; }

void bgj_mark_waited_below(int64_t end)
{
    if (end > T.waited_below)
        T.waited_below = end;
}
int64_t bgj_waited_below(void) { return T.waited_below; }

void bgj_mark_waited(bgjob_job *j)
{
    if (bgj_finished(bgj_state_of(j)))
        j->waited = 1;
}
