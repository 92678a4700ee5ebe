/*
 * flow.c - dependencies between jobs (new -a / -A): the Blocked state, the
 * release of dependents when a job ends, their failure down a chain, and
 * what `show' says of a job's dependencies and attempts (retries are pool.c's
 * finish; groups and halt policies are group.c).
 *
 * Each job that others depend on keeps the list of its dependents, and each
 * dependent its list of dependencies with a count of those not yet met, so
 * ending a job costs O(its dependents), never a look at the whole table.
 * Cross links: a dependency entry records its index in the other job's
 * dependents, and a dependent entry the index in the other job's
 * dependencies, so freeing a job forgets it on both sides in O(links).
 *
 * Most jobs have one dependency and at most one dependent (a chain), so the
 * first of each lives in the flow record itself: such a job costs one
 * allocation (the record), and naming a job that has its record already
 * (it has dependencies of its own) takes no lock.  Bigger arrays grow
 * geometrically.  A job not yet submitted counts the room it was promised
 * in each job it names (`reserved'), as it may name one several times.
 *
 * Locking: the lists grow and shrink on the main thread only (at submission
 * and when a finished job is freed), under P.lock; the thread that ends a job
 * reads them under P.lock (bgj_flow_ended).  A dependents array grows by
 * copying outside the lock and swapping under it.  A job's `doomed' mark,
 * set under P.lock, keeps a Blocked job from being released or failed twice
 * while its end is being published.
 */
#include "pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bgj_dep {
    int64_t id;
    bgjob_job *job; /* NULL once that job is freed */
    unsigned back;  /* its index in job->flow->dependents, when entered */
    unsigned char any, entered;
    unsigned char reserved; /* counted in job->flow->reserved until submission */
};

struct bgj_dependent {
    bgjob_job *job; /* NULL once that job is freed */
    unsigned idx;   /* its index in job->flow->deps */
};

struct bgj_flow {
    struct bgj_dep *deps; /* &dep0 until a second one comes */
    unsigned ndeps, depcap;
    struct bgj_dependent *dependents; /* &dependent0 until a second one comes */
    unsigned ndependents, cap;
    unsigned reserved; /* room promised to jobs not yet submitted (a job may name this one twice) */
    unsigned unmet;    /* dependencies not yet met, while Blocked */
    unsigned char dep_killed;
    int64_t failed_dep;              /* the dependency whose end doomed it */
    struct bgj_dep dep0;             /* most jobs have one dependency: no array of their own */
    struct bgj_dependent dependent0; /* and at most one dependent */
};

static struct bgj_flow *flow_new(void)
{
    struct bgj_flow *f = malloc(sizeof *f);
    if (f)
        *f = (struct bgj_flow){.deps = &f->dep0, .depcap = 1, .dependents = &f->dependent0, .cap = 1};
    return f;
}

static struct bgj_flow *flow_of(bgjob_job *j)
{
    if (j->flow)
        return j->flow;
    struct bgj_flow *f = flow_new();
    if (!f)
        return NULL;
    pthread_mutex_lock(&P.lock);
    j->flow = f;
    pthread_mutex_unlock(&P.lock);
    return f;
}

/* Room for one more dependent of T (main thread): a bigger array is filled outside the lock and swapped under it. */
static int reserve_dependent(bgjob_job *t)
{
    struct bgj_flow *f = flow_of(t);
    if (!f)
        return BGJ_ENOMEM;
    if (f->ndependents + f->reserved < f->cap) {
        f->reserved++;
        return 0;
    }
    unsigned ncap = f->cap < 4 ? 8 : 2 * f->cap;
    struct bgj_dependent *a = malloc(ncap * sizeof *a);
    if (!a)
        return BGJ_ENOMEM;
    pthread_mutex_lock(&P.lock);
    if (f->ndependents)
        memcpy(a, f->dependents, f->ndependents * sizeof *a);
    struct bgj_dependent *old = f->dependents;
    f->dependents = a;
    f->cap = ncap;
    pthread_mutex_unlock(&P.lock);
    if (old != &f->dependent0)
        free(old);
    f->reserved++;
    return 0;
}

int bgj_job_add_dep(bgjob_job *j, bgjob_job *dep, int any)
{
    if (bgj_orphaned(dep))
        return BGJ_EPARENT;
    struct bgj_flow *f = j->flow ? j->flow : flow_new();
    if (!f)
        return BGJ_ENOMEM;
    j->flow = f; /* not submitted yet: no other thread sees it */
    /* A job listed twice is two dependencies on it: each is met or fails with it (no search here, so a
       job after thousands of others costs O(their number)). */
    if (f->ndeps == f->depcap) {
        unsigned ncap = 2 * f->depcap + 2;
        struct bgj_dep *d = realloc(f->deps == &f->dep0 ? NULL : f->deps, ncap * sizeof *d);
        if (!d)
            return BGJ_ENOMEM;
        if (f->deps == &f->dep0)
            d[0] = f->dep0;
        f->deps = d;
        f->depcap = ncap;
    }
    /* A job that has ended stays so: it will not be told about this one (bgj_flow_submit decides then). */
    int reserved = !bgj_finished(bgj_state_of(dep));
    if (reserved && reserve_dependent(dep) != 0)
        return BGJ_ENOMEM;
    f->deps[f->ndeps++] = (struct bgj_dep){.id = dep->id, .job = dep, .any = any != 0, .reserved = reserved};
    return 0;
}

int bgj_job_set_retries(bgjob_job *j, unsigned n, double backoff)
{
    if (!bgj_job_side(j))
        return BGJ_ENOMEM;
    j->side->retries = n;
    j->side->backoff = backoff;
    return 0;
}

/* Marks J doomed by the end of dependency T. */
static void doom_by(bgjob_job *j, const bgjob_job *t)
{
    j->doomed = BGJ_DOOM_DEP;
    j->flow->failed_dep = t->id;
    int why = atomic_load(&((bgjob_job *)t)->cancel);
    j->flow->dep_killed = why == BGJ_CANCEL_KILL || why == BGJ_CANCEL_EXIT;
}

int bgj_flow_submit(bgjob_job *j)
{
    if (j->side)
        j->side->attempt = 1;
    if (bgj_group_of(j) && bgj_group_join(j))
        j->doomed = BGJ_DOOM_HALT;
    struct bgj_flow *f = j->flow;
    if (f) {
        for (unsigned k = 0; k < f->ndeps; k++) {
            struct bgj_dep *d = &f->deps[k];
            bgjob_job *t = d->job;
            int s = bgj_state_of(t);
            if (d->reserved)
                t->flow->reserved--;
            d->reserved = 0;
            if (bgj_finished(s)) {
                if (!d->any && s == BGJ_DEAD && !j->doomed)
                    doom_by(j, t);
                continue;
            }
            struct bgj_flow *tf = t->flow; /* room reserved by bgj_job_add_dep */
            d->back = tf->ndependents;
            d->entered = 1;
            tf->dependents[tf->ndependents++] = (struct bgj_dependent){.job = j, .idx = k};
            f->unmet++;
        }
    }
    if (j->doomed)
        return 2;
    if (f && f->unmet) {
        atomic_store_explicit(&j->state, BGJ_BLOCKED, memory_order_release);
        return 1;
    }
    return 0;
}

void bgj_flow_ended(bgjob_job *j, int state, bgjob_job **doomed)
{
    if (bgj_group_of(j))
        bgj_group_ended(j, state, doomed);
    struct bgj_flow *f = j->flow;
    if (!f)
        return;
    for (unsigned i = 0; i < f->ndependents; i++) {
        bgjob_job *d = f->dependents[i].job;
        if (!d || d->doomed || bgj_state_of(d) != BGJ_BLOCKED)
            continue;
        if (state == BGJ_DEAD && !d->flow->deps[f->dependents[i].idx].any) {
            doom_by(d, j);
            d->link[BGJ_RUNQ].next = *doomed;
            *doomed = d;
        } else if (--d->flow->unmet == 0) {
            atomic_store_explicit(&d->state, BGJ_QUEUED, memory_order_release);
            bgj_flow_ready(d);
        }
    }
}

char *bgj_flow_doom_text(const bgjob_job *j)
{
    char buf[96];
    if (j->doomed == BGJ_DOOM_HALT)
        snprintf(buf, sizeof buf, "halted: group %s stopped starting jobs", bgj_group_name(bgj_group_of(j)));
    else
        snprintf(buf, sizeof buf, "dependency %lld %s", (long long)j->flow->failed_dep,
                 j->flow->dep_killed ? "killed" : "failed");
    return strdup(buf);
}

char *bgj_flow_attempt_line(const bgjob_job *j)
{
    const char *err = j->error ? j->error : "failed";
    /* the error's last line: a command's stderr ends with how it ended */
    size_t len = strlen(err);
    while (len && err[len - 1] == '\n')
        len--;
    const char *last = err;
    for (size_t i = 0; i < len; i++)
        if (err[i] == '\n')
            last = err + i + 1;
    size_t ll = (size_t)(err + len - last);
    const char *was = bgj_attempts_of(j);
    size_t old = was ? strlen(was) : 0;
    char *s = malloc(old + ll + 32);
    if (!s)
        return NULL;
    int n = snprintf(s, old + 1, "%s", was ? was : "");
    snprintf(s + n, ll + 31, "attempt %u: %.*s\n", bgj_attempt_of(j), (int)ll, last);
    return s;
}

/* ---- what the main thread asks ---- */

static char *id_list(const bgjob_job *j, int which)
{
    const struct bgj_flow *f = j->flow;
    size_t n = f ? f->ndeps : 0;
    char *s = malloc(n * 21 + 1), *p = s;
    if (!s)
        return NULL;
    *p = 0;
    for (size_t k = 0; k < n; k++) {
        const struct bgj_dep *d = &f->deps[k];
        if (which == 2) {
            if (!d->job || bgj_finished(bgj_state_of(d->job)))
                continue;
        } else if (d->any != which)
            continue;
        p += sprintf(p, "%s%lld", p == s ? "" : " ", (long long)d->id);
    }
    return s;
}

char *bgj_job_deps(const bgjob_job *j, int any) { return id_list(j, any ? 1 : 0); }

size_t bgj_job_ndeps(const bgjob_job *j) { return j->flow ? j->flow->ndeps : 0; }

int64_t bgj_job_dep_id(const bgjob_job *j, size_t k) { return j->flow->deps[k].id; }

char *bgj_job_waiting_for(const bgjob_job *j)
{
    return bgj_state_of(j) == BGJ_BLOCKED ? id_list(j, 2) : strdup("");
}

char *bgj_job_attempts(const bgjob_job *j)
{
    pthread_mutex_lock(&P.lock);
    const char *was = bgj_attempts_of(j);
    char *s = strdup(was ? was : "");
    pthread_mutex_unlock(&P.lock);
    return s;
}

unsigned bgj_job_attempt(const bgjob_job *j, unsigned *retries_left)
{
    pthread_mutex_lock(&P.lock);
    unsigned a = bgj_attempt_of(j);
    *retries_left = bgj_retries_of(j);
    pthread_mutex_unlock(&P.lock);
    return a;
}

int bgj_job_needed(const bgjob_job *j)
{
    const struct bgj_flow *f = j->flow;
    if (!f || !f->ndependents)
        return 0;
    int needed = 0;
    pthread_mutex_lock(&P.lock);
    for (unsigned i = 0; i < f->ndependents && !needed; i++) {
        bgjob_job *d = f->dependents[i].job;
        needed = d && !d->doomed && bgj_state_of(d) == BGJ_BLOCKED;
    }
    pthread_mutex_unlock(&P.lock);
    return needed;
}

void bgj_flow_forget(bgjob_job *j)
{
    struct bgj_flow *f = j->flow;
    if (!f)
        return;
    pthread_mutex_lock(&P.lock);
    for (unsigned k = 0; k < f->ndeps; k++) {
        struct bgj_dep *d = &f->deps[k];
        if (d->job && d->entered)
            d->job->flow->dependents[d->back].job = NULL;
        else if (d->job && d->reserved) /* never submitted */
            d->job->flow->reserved--;
    }
    for (unsigned i = 0; i < f->ndependents; i++) {
        bgjob_job *d = f->dependents[i].job;
        if (d)
            d->flow->deps[f->dependents[i].idx].job = NULL;
    }
    j->flow = NULL;
    pthread_mutex_unlock(&P.lock);
    if (f->deps != &f->dep0)
        free(f->deps);
    if (f->dependents != &f->dependent0)
        free(f->dependents);
    free(f);
}
