/*
 * resume.c - see resume.h.  The records are kept in a chained hash table
 * keyed by one string that holds the match key unambiguously (each part
 * with its length).  Main thread only.
 */
#include "resume.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "json.h"
#include "record.h"
#include "strbuf.h"

struct entry {
    struct entry *next;
    uint64_t hash;
    size_t klen;
    char *mkey;   /* the match key */
    char *result; /* the recorded result */
};

static struct {
    struct entry **slots;
    size_t nslots, n;
} T;

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The match key: "k" and KEY, or "d" and KIND, COMMAND, DIR; each part as LENGTH ':' BYTES. */
static void match_key(struct bgj_strbuf *b, const char *key, const char *kind, const char *command,
                      const char *dir)
{
    bgj_sb_reset(b);
    if (key) {
        bgj_sb_printf(b, "k%zu:%s", strlen(key), key);
        return;
    }
    const char *parts[3] = {kind ? kind : "", command ? command : "", dir ? dir : ""};
    bgj_sb_add(b, "d", 1);
    for (int i = 0; i < 3; i++)
        bgj_sb_printf(b, "%zu:%s", strlen(parts[i]), parts[i]);
}

static struct entry *lookup(const char *mkey, size_t klen, uint64_t h)
{
    if (!T.nslots)
        return NULL;
    for (struct entry *e = T.slots[h & (T.nslots - 1)]; e; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->mkey, mkey, klen) == 0)
            return e;
    return NULL;
}

static int grow(void)
{
    size_t ns = T.nslots ? 2 * T.nslots : 256;
    struct entry **s = calloc(ns, sizeof *s);
    if (!s)
        return BGJ_ENOMEM;
    for (size_t i = 0; i < T.nslots; i++)
        for (struct entry *e = T.slots[i], *next; e; e = next) {
            next = e->next;
            e->next = s[e->hash & (ns - 1)];
            s[e->hash & (ns - 1)] = e;
        }
    free(T.slots);
    T.slots = s;
    T.nslots = ns;
    return 0;
}

/* Keeps RESULT (taken) for MKEY, replacing an earlier one. */
static int put(const char *mkey, size_t klen, char *result)
{
    uint64_t h = fnv(mkey, klen);
    struct entry *e = lookup(mkey, klen, h);
    if (e) {
        free(e->result);
        e->result = result;
        return 0;
    }
    if ((T.n + 1) * 4 > T.nslots * 3 && grow() != 0) {
        free(result);
        return BGJ_ENOMEM;
    }
    e = malloc(sizeof *e);
    char *k = e ? bgj_strndup(mkey, klen) : NULL;
    if (!k) {
        free(e);
        free(result);
        return BGJ_ENOMEM;
    }
    e->hash = h;
    e->klen = klen;
    e->mkey = k;
    e->result = result;
    e->next = T.slots[h & (T.nslots - 1)];
    T.slots[h & (T.nslots - 1)] = e;
    T.n++;
    return 0;
}

/* The fields of one record that resuming needs. */
struct rec {
    int schema, completed, has_result;
    char *key, *kind, *command, *dir, *result;
};

static int take_string(char **dst, const struct bgj_json_val *v)
{
    free(*dst);
    *dst = NULL;
    if (v->type != BGJ_JSON_STRING)
        return 0;
    *dst = bgj_strndup(v->str, v->len);
    return *dst ? 0 : BGJ_ENOMEM;
}

static int on_member(const char *k, const struct bgj_json_val *v, void *ctx)
{
    struct rec *r = ctx;
    if (strcmp(k, "schema") == 0)
        r->schema = v->type == BGJ_JSON_NUMBER && v->num == 1;
    else if (strcmp(k, "state") == 0)
        r->completed = v->type == BGJ_JSON_STRING && strcmp(v->str, "Completed") == 0;
    else if (strcmp(k, "key") == 0)
        return take_string(&r->key, v);
    else if (strcmp(k, "kind") == 0)
        return take_string(&r->kind, v);
    else if (strcmp(k, "command") == 0)
        return take_string(&r->command, v);
    else if (strcmp(k, "dir") == 0)
        return take_string(&r->dir, v);
    else if (strcmp(k, "result") == 0) {
        r->has_result = v->type == BGJ_JSON_STRING;
        return take_string(&r->result, v);
    }
    return 0;
}

static void rec_free(struct rec *r)
{
    free(r->key);
    free(r->kind);
    free(r->command);
    free(r->dir);
    free(r->result);
}

int bgj_resume_load(const char *path, const char *shown, size_t *nkept, size_t *nbad, struct bgj_err *err)
{
    *nkept = *nbad = 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return bgj_err_set(err, BGJ_ESYS, "%s: %s", shown, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    struct bgj_strbuf mk = {0};
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        struct rec r = {0};
        int p = bgj_json_object(line, (size_t)len, on_member, &r);
        if (p == BGJ_ENOMEM) {
            rc = BGJ_ENOMEM;
        } else if (p != 0 || !r.schema || !r.kind || !r.command) {
            ++*nbad;
        } else if (r.completed && r.has_result) {
            match_key(&mk, r.key, r.kind, r.command, r.dir);
            if (mk.oom)
                rc = BGJ_ENOMEM;
            else if ((rc = put(mk.p, mk.n, r.result)) == 0)
                ++*nkept;
            r.result = NULL; /* taken by put */
        }
        rec_free(&r);
    }
    int e = ferror(f) ? errno : 0;
    free(line);
    fclose(f);
    bgj_sb_free(&mk);
    if (rc == BGJ_ENOMEM)
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    if (e)
        return bgj_err_set(err, BGJ_ESYS, "%s: %s", shown, strerror(e));
    return 0;
}

const char *bgj_resume_find(const char *key, const char *kind, const char *command, const char *dir)
{
    if (!T.n)
        return NULL;
    struct bgj_strbuf mk = {0};
    match_key(&mk, key, kind, command, dir);
    struct entry *e = mk.oom ? NULL : lookup(mk.p, mk.n, fnv(mk.p, mk.n));
    bgj_sb_free(&mk);
    return e ? e->result : NULL;
}

void bgj_resume_clear(void)
{
    for (size_t i = 0; i < T.nslots; i++)
        for (struct entry *e = T.slots[i], *next; e; e = next) {
            next = e->next;
            free(e->mkey);
            free(e->result);
            free(e);
        }
    free(T.slots);
    memset(&T, 0, sizeof T);
}

size_t bgj_resume_count(void) { return T.n; }

/* The run function of a resumed job: the recorded result, on a worker. */
static int resumed_run(bgjob_job *job, void *arg)
{
    job->result = strdup(arg);
    return job->result ? 0 : 1;
}

int bgj_resume_job(bgjob_job *job, const char *result)
{
    char *copy = strdup(result);
    if (!copy)
        return BGJ_ENOMEM;
    if (job->release && job->arg)
        job->release(job->arg);
    job->run = resumed_run;
    job->release = free;
    job->arg = copy;
    if (bgj_rec_of(job))
        bgj_rec_of(job)->resumed = 1;
    return 0;
}
