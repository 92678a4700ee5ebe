/*
 * group.c - job groups (new -g NAME, `bgjob group'): each group's limit on
 * its running jobs, the jobs held for one of its slots, its counts, and its
 * halt policy (GNU parallel's --halt: soon/now, fail/success, N or N%).
 *
 * A group job that is ready to run takes one of its group's slots and goes
 * into the pool's run queue, or waits in the group's held list (through its
 * RUNQ links) until a slot is free; it gives the slot back when it ends or
 * waits to retry.  Every unfinished group job is in the group's member list
 * (BGJ_MEMBERS links), so a halt walks only the group.
 *
 * Locking: the group table grows on the main thread only and groups are
 * never freed; everything else of a group is under P.lock.
 */
#include "pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

struct bgj_group {
    char *name;
    unsigned limit;    /* 0: none */
    unsigned inflight; /* slots taken: jobs in the run queue or running */
    bgjob_job *held, *held_tail;
    bgjob_job *members; /* unfinished jobs */
    unsigned total, completed, dead, failed, succeeded;
    struct bgj_halt halt;
    unsigned char halted;
};

static struct {
    struct bgj_group **v;
    size_t n, cap;
} G;

const char *bgj_group_name(const struct bgj_group *g) { return g ? g->name : ""; }
size_t bgj_group_count(void) { return G.n; }
struct bgj_group *bgj_group_at(size_t i) { return i < G.n ? G.v[i] : NULL; }

struct bgj_group *bgj_group_find(const char *name, int create)
{
    for (size_t i = 0; i < G.n; i++)
        if (strcmp(G.v[i]->name, name) == 0)
            return G.v[i];
    if (!create)
        return NULL;
    if (G.n == G.cap) {
        size_t ncap = G.cap ? 2 * G.cap : 8;
        struct bgj_group **v = realloc(G.v, ncap * sizeof *v);
        if (!v)
            return NULL;
        G.v = v;
        G.cap = ncap;
    }
    struct bgj_group *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(name))) {
        free(g);
        return NULL;
    }
    pthread_mutex_lock(&P.lock); /* groups are read by other threads only through their jobs */
    G.v[G.n++] = g;
    pthread_mutex_unlock(&P.lock);
    return g;
}

/* Lets held jobs of G run while it has free slots.  Under P.lock. */
static void unhold(struct bgj_group *g)
{
    while (g->held && (!g->limit || g->inflight < g->limit)) {
        bgjob_job *h = g->held;
        g->held = h->link[BGJ_RUNQ].next;
        if (g->held)
            g->held->link[BGJ_RUNQ].prev = NULL;
        else
            g->held_tail = NULL;
        h->link[BGJ_RUNQ].next = NULL;
        h->held = 0;
        h->gslot = 1;
        g->inflight++;
        bgj_pool_enqueue(h);
    }
}

void bgj_group_set(struct bgj_group *g, int limit, const struct bgj_halt *halt)
{
    pthread_mutex_lock(&P.lock);
    if (limit >= 0)
        g->limit = (unsigned)limit;
    if (halt) {
        g->halt = *halt;
        g->halted = 0;
        g->failed = g->succeeded = 0;
    }
    unhold(g);
    unsigned spawn = bgj_pool_kick();
    pthread_mutex_unlock(&P.lock);
    bgj_pool_spawn(spawn);
}

void bgj_group_info(const struct bgj_group *g, struct bgj_group_info *out)
{
    memset(out, 0, sizeof *out);
    out->name = g->name;
    pthread_mutex_lock(&P.lock);
    out->limit = g->limit;
    out->halt = g->halt;
    out->halted = g->halted;
    out->completed = g->completed;
    out->dead = g->dead;
    for (const bgjob_job *j = g->members; j; j = BGJ_LINK(j, BGJ_MEMBERS).next) {
        int s = bgj_state_of(j);
        if (s == BGJ_RUNNING)
            out->running++;
        else if (s == BGJ_BLOCKED)
            out->blocked++;
        else if (s == BGJ_QUEUED)
            out->queued++;
    }
    pthread_mutex_unlock(&P.lock);
}

int bgj_group_join(bgjob_job *j)
{
    struct bgj_group *g = bgj_group_of(j);
    BGJ_LINK(j, BGJ_MEMBERS).prev = NULL;
    BGJ_LINK(j, BGJ_MEMBERS).next = g->members;
    if (g->members)
        BGJ_LINK(g->members, BGJ_MEMBERS).prev = j;
    g->members = j;
    g->total++;
    return g->halted;
}

void bgj_flow_ready(bgjob_job *j)
{
    struct bgj_group *g = bgj_group_of(j);
    if (g && g->limit && g->inflight >= g->limit) {
        j->held = 1;
        j->link[BGJ_RUNQ].next = NULL;
        j->link[BGJ_RUNQ].prev = g->held_tail;
        if (g->held_tail)
            g->held_tail->link[BGJ_RUNQ].next = j;
        else
            g->held = j;
        g->held_tail = j;
        return;
    }
    if (g) {
        g->inflight++;
        j->gslot = 1;
    }
    bgj_pool_enqueue(j);
}

void bgj_group_unlink_held(bgjob_job *j)
{
    struct bgj_group *g = bgj_group_of(j);
    struct bgj_links *k = &j->link[BGJ_RUNQ];
    if (k->prev)
        k->prev->link[BGJ_RUNQ].next = k->next;
    else
        g->held = k->next;
    if (k->next)
        k->next->link[BGJ_RUNQ].prev = k->prev;
    else
        g->held_tail = k->prev;
    k->prev = k->next = NULL;
    j->held = 0;
}

void bgj_group_slot_free(bgjob_job *j)
{
    if (!j->gslot)
        return;
    j->gslot = 0;
    bgj_group_of(j)->inflight--;
    unhold(bgj_group_of(j));
}

int bgj_group_halted(const bgjob_job *j) { return bgj_group_of(j) && bgj_group_of(j)->halted; }

/* True when G's policy says to halt now. */
static int halt_due(const struct bgj_group *g)
{
    const struct bgj_halt *h = &g->halt;
    if (!h->when || g->halted)
        return 0;
    unsigned n = h->success ? g->succeeded : g->failed;
    if (h->percent)
        return n > 0 && (unsigned long long)n * 100 >= (unsigned long long)h->count * g->total;
    return n >= h->count;
}

/* Halts G: its unstarted jobs end Dead (pushed on *DOOMED); with `now', running ones are cancelled. */
static void halt(struct bgj_group *g, bgjob_job **doomed)
{
    g->halted = 1;
    for (bgjob_job *m = g->members; m; m = BGJ_LINK(m, BGJ_MEMBERS).next) {
        if (m->doomed || m->generation != P.generation)
            continue; /* on its way out, or the parent's */
        if (bgj_pool_take_out(m)) {
            m->doomed = BGJ_DOOM_HALT;
            m->link[BGJ_RUNQ].next = *doomed;
            *doomed = m;
        } else if (g->halt.when == 2 && bgj_state_of(m) == BGJ_RUNNING) {
            bgj_pool_signal_cancel(m, BGJ_CANCEL_HALT);
        }
    }
}

void bgj_group_ended(bgjob_job *j, int state, bgjob_job **doomed)
{
    struct bgj_group *g = bgj_group_of(j);
    bgj_group_slot_free(j);
    struct bgj_links *k = &BGJ_LINK(j, BGJ_MEMBERS);
    if (k->prev)
        BGJ_LINK(k->prev, BGJ_MEMBERS).next = k->next;
    else
        g->members = k->next;
    if (k->next)
        BGJ_LINK(k->next, BGJ_MEMBERS).prev = k->prev;
    k->prev = k->next = NULL;
    if (state == BGJ_COMPLETED)
        g->completed++;
    else
        g->dead++;
    /* jobs the halt ended, or stopped, are not failures of their own */
    if (j->doomed == BGJ_DOOM_HALT || atomic_load(&j->cancel) == BGJ_CANCEL_HALT)
        return;
    if (state == BGJ_COMPLETED)
        g->succeeded++;
    else
        g->failed++;
    if (halt_due(g))
        halt(g, doomed);
}

/*
 * The fork child runs none of the parent's jobs: its groups' slots start
 * free and nothing is held.  The member lists stay, for the listing (the
 * parent's jobs as they were at the fork); a halt passes over those jobs.
 */
void bgj_group_fork_child(void)
{
    for (size_t i = 0; i < G.n; i++) {
        struct bgj_group *g = G.v[i];
        g->inflight = 0;
        g->held = g->held_tail = NULL;
    }
}

/* ---- halt policies ---- */

int bgj_halt_parse(const char *s, struct bgj_halt *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(s, "never") == 0 || strcmp(s, "none") == 0)
        return 0;
    const char *rest;
    if (strncmp(s, "soon,", 5) == 0)
        out->when = 1, rest = s + 5;
    else if (strncmp(s, "now,", 4) == 0)
        out->when = 2, rest = s + 4;
    else
        return BGJ_EINVAL;
    if (strncmp(rest, "fail=", 5) == 0)
        rest += 5;
    else if (strncmp(rest, "success=", 8) == 0)
        out->success = 1, rest += 8;
    else
        return BGJ_EINVAL;
    char num[16];
    size_t len = strlen(rest);
    if (len && rest[len - 1] == '%')
        out->percent = 1, len--;
    if (len == 0 || len >= sizeof num)
        return BGJ_EINVAL;
    memcpy(num, rest, len);
    num[len] = 0;
    int64_t v;
    if (bgj_parse_id(num, &v) != 0 || v < 1 || v > (out->percent ? 100 : 100000000))
        return BGJ_EINVAL;
    out->count = (unsigned)v;
    return 0;
}

void bgj_halt_format(const struct bgj_halt *h, char *buf, size_t len)
{
    if (!h->when)
        snprintf(buf, len, "never");
    else
        snprintf(buf, len, "%s,%s=%u%s", h->when == 2 ? "now" : "soon", h->success ? "success" : "fail",
                 h->count, h->percent ? "%" : "");
}
