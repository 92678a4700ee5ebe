/* vars.c - the variable snapshot store behind arithmetic jobs.
 *
 * Owns: the bgj_vars container (a hash table of bgj_var by name), the
 * element storage of arrays, the list of messages printed during an
 * evaluation and the rendering of final assignments.  Threading: built on
 * the main thread, then handed to one worker; no locking.  The one global
 * is the list of snapshots handed back to be freed by the thread that made
 * them (bgj_vars_free_later, bgj_vars_reap): a lock-free stack, pushed by
 * any thread, emptied whole by that one thread.  Only malloc/realloc/free
 * are used, and every allocation failure is reported to the caller instead
 * of aborting.
 */
#include "vars.h"
#include "names.h"
#include "strbuf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    intmax_t idx; /* indexed arrays */
    char *key;    /* associative arrays */
    char *val;
    int assigned; /* set during the evaluation */
} elem;

struct bgj_var {
    char *name;
    unsigned attrs;
    char *value;   /* scalar value or nameref target; NULL = unset */
    size_t valcap; /* bytes allocated at value by bgj_var_set_value, 0 = unknown */
    elem *el;      /* indexed: sorted by idx; assoc: insertion order */
    size_t n, cap;
    size_t *kh; /* assoc key hash: slot -> element number + 1 */
    size_t khcap;
    int assigned;       /* something to report in bgj_vars_assignments */
    int value_assigned; /* scalars: the value was set during the evaluation */
    size_t order;       /* creation order, for stable output */
    int dyn;            /* BGJ_DYN_* or 0 */
    char **draws;       /* BGJ_DYN_DRAWN, BGJ_DYN_RANDOM: values drawn at `new' */
    size_t ndraws, nextdraw;
    int seeded; /* BGJ_DYN_RANDOM: assigned, reads use rseed */
    uint32_t rseed;
    int last_random;
    char rbuf[16];
};

#define INLINE_SLOTS 16
#define VALUE_MIN    24 /* the smallest buffer of a scalar's value: any number fits */

struct bgj_vars {
    bgj_var **slot;             /* open addressing, power-of-two size; first the inline table */
    struct bgj_vars *next_free; /* in the list of snapshots to free (bgj_vars_free_later) */
    size_t cap, count, serial;
    int nounset;
    char *failure;
    struct bgj_strbuf msgs;
    bgj_var *inline_slot[INLINE_SLOTS]; /* the first table: no allocation of its own */
};

static size_t hash_bytes(const char *s, size_t len)
{
    size_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

static char *dup0(const char *s) { return s ? bgj_strndup(s, strlen(s)) : NULL; }

static void free_draws(bgj_var *x)
{
    for (size_t i = 0; i < x->ndraws; i++)
        free(x->draws[i]);
    free(x->draws);
    x->draws = NULL;
    x->ndraws = x->nextdraw = 0;
}

bgj_vars *bgj_vars_new(void)
{
    bgj_vars *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->cap = INLINE_SLOTS;
    v->slot = v->inline_slot;
    return v;
}

static void clear_elems(bgj_var *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->el[i].key);
        free(x->el[i].val);
    }
    free(x->el);
    free(x->kh);
    x->el = NULL;
    x->kh = NULL;
    x->n = x->cap = x->khcap = 0;
}

static void var_free(bgj_var *x)
{
    if (!x)
        return;
    clear_elems(x);
    free_draws(x);
    free(x->value); /* the name is in the same allocation as X */
    free(x);
}

void bgj_vars_free(bgj_vars *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->cap; i++)
        var_free(v->slot[i]);
    if (v->slot != v->inline_slot)
        free(v->slot);
    free(v->failure);
    bgj_sb_free(&v->msgs);
    free(v);
}

static _Atomic(bgj_vars *) to_free;

void bgj_vars_free_later(bgj_vars *v)
{
    if (!v)
        return;
    bgj_vars *head = atomic_load_explicit(&to_free, memory_order_relaxed);
    do
        v->next_free = head;
    while (!atomic_compare_exchange_weak_explicit(&to_free, &head, v, memory_order_release,
                                                  memory_order_relaxed));
}

void bgj_vars_reap(void)
{
    bgj_vars *v = atomic_exchange_explicit(&to_free, NULL, memory_order_acquire);
    while (v) {
        bgj_vars *next = v->next_free;
        bgj_vars_free(v);
        v = next;
    }
}

bgj_var *bgj_vars_lookup(const bgj_vars *v, const char *name, size_t len)
{
    size_t m = v->cap - 1, i = hash_bytes(name, len) & m;
    for (; v->slot[i]; i = (i + 1) & m) {
        const char *n = v->slot[i]->name;
        if (strncmp(n, name, len) == 0 && n[len] == '\0')
            return v->slot[i];
    }
    return NULL;
}

static int grow_table(bgj_vars *v)
{
    size_t ncap = v->cap * 2;
    bgj_var **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < v->cap; i++) {
        bgj_var *x = v->slot[i];
        if (!x)
            continue;
        size_t j = hash_bytes(x->name, strlen(x->name)) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = x;
    }
    if (v->slot != v->inline_slot)
        free(v->slot);
    v->slot = ns;
    v->cap = ncap;
    return 0;
}

/* Find NAME or add an empty variable for it; NULL on out-of-memory. */
static bgj_var *get_or_add(bgj_vars *v, const char *name, size_t len)
{
    bgj_var *x = bgj_vars_lookup(v, name, len);
    if (x)
        return x;
    if ((v->count + 1) * 2 > v->cap && grow_table(v) < 0)
        return NULL;
    x = calloc(1, sizeof *x + len + 1); /* the name right after it */
    if (!x)
        return NULL;
    x->name = memcpy(x + 1, name, len);
    x->name[len] = '\0';
    x->order = v->serial++;
    size_t i = hash_bytes(name, len) & (v->cap - 1);
    while (v->slot[i])
        i = (i + 1) & (v->cap - 1);
    v->slot[i] = x;
    v->count++;
    return x;
}

/* Reset X to an empty definition with ATTRS. */
static void reset_var(bgj_var *x, unsigned attrs)
{
    clear_elems(x);
    free_draws(x);
    free(x->value);
    x->value = NULL;
    x->valcap = 0;
    x->attrs = attrs;
    x->dyn = x->seeded = 0;
}

int bgj_vars_set_scalar(bgj_vars *v, const char *name, const char *value, unsigned attrs)
{
    bgj_var *x = get_or_add(v, name, strlen(name));
    if (!x)
        return -1;
    reset_var(x, attrs & (BGJ_ATTR_READONLY | BGJ_ATTR_INTEGER));
    if (!value)
        return 0;
    /* Room for any number, as bgj_var_set_value makes: the evaluator assigns in place, so the
       worker allocates nothing that the thread which frees the snapshot would free. */
    size_t n = strlen(value) + 1, cap = n < VALUE_MIN ? VALUE_MIN : n;
    if (!(x->value = malloc(cap)))
        return -1;
    memcpy(x->value, value, n);
    x->valcap = cap;
    return 0;
}

int bgj_vars_set_nameref(bgj_vars *v, const char *name, const char *target, unsigned attrs)
{
    bgj_var *x = get_or_add(v, name, strlen(name));
    if (!x)
        return -1;
    reset_var(x, (attrs & BGJ_ATTR_READONLY) | BGJ_ATTR_NAMEREF);
    if (target && !(x->value = dup0(target)))
        return -1;
    return 0;
}

int bgj_vars_set_array(bgj_vars *v, const char *name, unsigned attrs)
{
    if (!(attrs & (BGJ_ATTR_INDEXED | BGJ_ATTR_ASSOC)) ||
        (attrs & BGJ_ATTR_INDEXED && attrs & BGJ_ATTR_ASSOC))
        return -1;
    bgj_var *x = get_or_add(v, name, strlen(name));
    if (!x)
        return -1;
    reset_var(x, attrs & (BGJ_ATTR_READONLY | BGJ_ATTR_INTEGER | BGJ_ATTR_INDEXED | BGJ_ATTR_ASSOC));
    return 0;
}

static size_t find_index(const bgj_var *x, intmax_t index, int *found);
static size_t key_slot(const bgj_var *x, const char *key);

int bgj_vars_array_put(bgj_vars *v, const char *name, intmax_t index, const char *value)
{
    bgj_var *x = bgj_vars_lookup(v, name, strlen(name));
    if (!x || !(x->attrs & BGJ_ATTR_INDEXED) || index < 0)
        return -1;
    int saved = x->assigned, r = bgj_var_index_set(v, x, index, value);
    x->assigned = saved;
    int found;
    size_t i = find_index(x, index, &found);
    if (found)
        x->el[i].assigned = 0;
    return r;
}

int bgj_vars_assoc_put(bgj_vars *v, const char *name, const char *key, const char *value)
{
    bgj_var *x = bgj_vars_lookup(v, name, strlen(name));
    if (!x || !(x->attrs & BGJ_ATTR_ASSOC))
        return -1;
    int saved = x->assigned, r = bgj_var_assoc_set(v, x, key, value);
    x->assigned = saved;
    if (r == 0)
        x->el[x->kh[key_slot(x, key)] - 1].assigned = 0;
    return r;
}

void bgj_vars_set_nounset(bgj_vars *v, int on) { v->nounset = on != 0; }
int bgj_vars_nounset(const bgj_vars *v) { return v->nounset; }

int bgj_vars_set_failure(bgj_vars *v, const char *reason)
{
    if (v->failure)
        return 0;
    return (v->failure = dup0(reason)) ? 0 : -1;
}

const char *bgj_vars_failure(const bgj_vars *v) { return v->failure; }

void bgj_vars_clear_assigned(bgj_vars *v)
{
    for (size_t i = 0; i < v->cap; i++) {
        bgj_var *x = v->slot[i];
        if (!x)
            continue;
        x->assigned = x->value_assigned = 0;
        for (size_t j = 0; j < x->n; j++)
            x->el[j].assigned = 0;
    }
    bgj_sb_reset(&v->msgs);
}

const char *bgj_var_name(const bgj_var *x) { return x->name; }
unsigned bgj_var_attrs(const bgj_var *x) { return x->attrs; }
const char *bgj_var_value(const bgj_var *x) { return x->value; }
size_t bgj_var_count(const bgj_var *x) { return x->n; }

/* Position of INDEX in a sorted indexed array, or where it would go. */
static size_t find_index(const bgj_var *x, intmax_t index, int *found)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->el[mid].idx < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < x->n && x->el[lo].idx == index;
    return lo;
}

const char *bgj_var_index_get(const bgj_var *x, intmax_t index)
{
    int found;
    size_t i = find_index(x, index, &found);
    return found ? x->el[i].val : NULL;
}

intmax_t bgj_var_max_index(const bgj_var *x) { return x->n ? x->el[x->n - 1].idx : -1; }

/* Slot of KEY in the assoc key hash (empty slot if absent). */
static size_t key_slot(const bgj_var *x, const char *key)
{
    size_t m = x->khcap - 1, i = hash_bytes(key, strlen(key)) & m;
    while (x->kh[i] && strcmp(x->el[x->kh[i] - 1].key, key) != 0)
        i = (i + 1) & m;
    return i;
}

const char *bgj_var_assoc_get(const bgj_var *x, const char *key)
{
    if (!x->khcap)
        return NULL;
    size_t s = key_slot(x, key);
    return x->kh[s] ? x->el[x->kh[s] - 1].val : NULL;
}

const char *bgj_var_elem(const bgj_var *x, size_t i, intmax_t *index, const char **key)
{
    if (i >= x->n)
        return NULL;
    if (index)
        *index = x->el[i].idx;
    if (key)
        *key = x->el[i].key;
    return x->el[i].val;
}

static int reserve(bgj_var *x)
{
    if (x->n < x->cap)
        return 0;
    size_t ncap = x->cap ? x->cap * 2 : 4;
    elem *ne = realloc(x->el, ncap * sizeof *ne);
    if (!ne)
        return -1;
    x->el = ne;
    x->cap = ncap;
    return 0;
}

bgj_var *bgj_vars_create(bgj_vars *v, const char *name, size_t len, unsigned attrs)
{
    bgj_var *x = get_or_add(v, name, len);
    if (!x)
        return NULL;
    reset_var(x, attrs);
    x->assigned = 1;
    return x;
}

int bgj_var_set_value(bgj_vars *v, bgj_var *x, const char *value)
{
    (void)v;
    if (x->dyn == BGJ_DYN_FIXED || x->dyn == BGJ_DYN_DRAWN)
        return 0; /* bash ignores the assignment: reads go on as before */
    if (x->dyn == BGJ_DYN_RANDOM && value) {
        x->seeded = 1; /* bash's sbrand(strtoul(value)) */
        x->rseed = (uint32_t)strtoul(value, NULL, 10);
        x->last_random = 0;
    }
    if (!value) {
        free(x->value);
        x->value = NULL;
        x->valcap = 0;
    } else {
        /* repeated assignments reuse the buffer */
        size_t n = strlen(value) + 1;
        if (x->value && x->valcap >= n) {
            memmove(x->value, value, n);
        } else {
            size_t cap = n < VALUE_MIN ? VALUE_MIN : n;
            char *nv = malloc(cap);
            if (!nv)
                return -1;
            memcpy(nv, value, n);
            free(x->value);
            x->value = nv;
            x->valcap = cap;
        }
    }
    x->assigned = x->value_assigned = 1;
    return 0;
}

int bgj_var_index_set(bgj_vars *v, bgj_var *x, intmax_t index, const char *value)
{
    (void)v;
    int found;
    size_t i = find_index(x, index, &found);
    char *nv = dup0(value ? value : "");
    if (!nv)
        return -1;
    x->assigned = 1;
    if (found) {
        free(x->el[i].val);
        x->el[i].val = nv;
        x->el[i].assigned = 1;
        return 0;
    }
    if (reserve(x) < 0) {
        free(nv);
        return -1;
    }
    memmove(x->el + i + 1, x->el + i, (x->n - i) * sizeof *x->el);
    x->el[i].idx = index;
    x->el[i].key = NULL;
    x->el[i].val = nv;
    x->el[i].assigned = 1;
    x->n++;
    return 0;
}

static int rehash_keys(bgj_var *x)
{
    size_t ncap = x->khcap ? x->khcap * 2 : 8;
    size_t *nk = calloc(ncap, sizeof *nk);
    if (!nk)
        return -1;
    free(x->kh);
    x->kh = nk;
    x->khcap = ncap;
    for (size_t i = 0; i < x->n; i++)
        x->kh[key_slot(x, x->el[i].key)] = i + 1;
    return 0;
}

int bgj_var_assoc_set(bgj_vars *v, bgj_var *x, const char *key, const char *value)
{
    (void)v;
    char *nv = dup0(value ? value : "");
    if (!nv)
        return -1;
    x->assigned = 1;
    if (x->khcap) {
        size_t s = key_slot(x, key);
        if (x->kh[s]) {
            free(x->el[x->kh[s] - 1].val);
            x->el[x->kh[s] - 1].val = nv;
            x->el[x->kh[s] - 1].assigned = 1;
            return 0;
        }
    }
    char *nk = dup0(key);
    if (!nk || reserve(x) < 0 || ((x->n + 1) * 2 > x->khcap && rehash_keys(x) < 0)) {
        free(nk);
        free(nv);
        return -1;
    }
    x->el[x->n].idx = 0;
    x->el[x->n].key = nk;
    x->el[x->n].val = nv;
    x->el[x->n].assigned = 1;
    x->n++;
    x->kh[key_slot(x, nk)] = x->n;
    return 0;
}

int bgj_var_to_indexed(bgj_vars *v, bgj_var *x)
{
    char *old = x->value;
    int old_assigned = x->value_assigned;
    x->value = NULL;
    x->valcap = 0;
    x->value_assigned = 0;
    x->attrs = (x->attrs & ~(BGJ_ATTR_ASSOC | BGJ_ATTR_NAMEREF)) | BGJ_ATTR_INDEXED;
    int r = 0;
    if (old) {
        /* element 0 is reported only if the job assigned the old value */
        r = bgj_var_index_set(v, x, 0, old);
        if (r == 0)
            x->el[0].assigned = old_assigned;
    }
    free(old);
    return r;
}

void bgj_var_set_attrs(bgj_vars *v, bgj_var *x, unsigned attrs)
{
    (void)v;
    x->attrs = attrs;
}

int bgj_vars_add_message(bgj_vars *v, const char *line)
{
    if (bgj_sb_puts(&v->msgs, line) < 0 || bgj_sb_add(&v->msgs, "\n", 1) < 0)
        return -1;
    return 0;
}

const char *bgj_vars_messages(const bgj_vars *v) { return v->msgs.p ? v->msgs.p : ""; }

/* ---- Dynamic variables ---- */

int bgj_vars_set_dynamic(bgj_vars *v, const char *name, int kind, const char *value, unsigned attrs)
{
    bgj_var *x = get_or_add(v, name, strlen(name));
    if (!x)
        return -1;
    reset_var(x, attrs & (BGJ_ATTR_READONLY | BGJ_ATTR_INTEGER));
    x->dyn = kind;
    /* a drawn variable is set, whatever its reads give */
    return (x->value = dup0(value ? value : "")) ? 0 : -1;
}

int bgj_vars_add_draw(bgj_vars *v, const char *name, const char *value)
{
    bgj_var *x = bgj_vars_lookup(v, name, strlen(name));
    if (!x || (x->dyn != BGJ_DYN_DRAWN && x->dyn != BGJ_DYN_RANDOM))
        return -1;
    char **nd = realloc(x->draws, (x->ndraws + 1) * sizeof *nd);
    if (!nd)
        return -1;
    x->draws = nd;
    if (!(nd[x->ndraws] = dup0(value)))
        return -1;
    x->ndraws++;
    return 0;
}

int bgj_var_dynamic(const bgj_var *x) { return x->dyn; }

/* bash 5.2's brand() after sbrand(): Park and Miller's minimal standard
   generator, folded to 15 bits, never the same value twice in a row. */
static int next_random(bgj_var *x)
{
    int rv;
    do {
        uint32_t r = x->rseed == 0 ? 123459876u : x->rseed;
        int32_t h = (int32_t)(r / 127773), l = (int32_t)(r - 127773u * (uint32_t)h);
        int32_t t = 16807 * l - 2836 * h;
        x->rseed = t < 0 ? (uint32_t)t + 0x7fffffffu : (uint32_t)t;
        rv = (int)(((x->rseed >> 16) ^ (x->rseed & 65535)) & 32767);
    } while (rv == x->last_random);
    return x->last_random = rv;
}

int bgj_var_read(bgj_vars *v, bgj_var *x, const char **out)
{
    (void)v;
    if (x->dyn == BGJ_DYN_RANDOM && x->seeded) {
        snprintf(x->rbuf, sizeof x->rbuf, "%d", next_random(x));
        *out = x->rbuf;
        return 0;
    }
    if (x->dyn == BGJ_DYN_DRAWN || x->dyn == BGJ_DYN_RANDOM) {
        if (x->nextdraw >= x->ndraws)
            return -1;
        *out = x->draws[x->nextdraw++];
        return 0;
    }
    *out = x->value;
    return 0;
}

/* ---- Copies ---- */

static int by_order(const void *a, const void *b)
{
    const bgj_var *x = *(const bgj_var *const *)a, *y = *(const bgj_var *const *)b;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int copy_var(bgj_vars *to, const bgj_var *x)
{
    bgj_var *y = get_or_add(to, x->name, strlen(x->name));
    if (!y)
        return -1;
    reset_var(y, x->attrs);
    y->assigned = x->assigned;
    y->value_assigned = x->value_assigned;
    y->dyn = x->dyn;
    y->seeded = x->seeded;
    y->rseed = x->rseed;
    y->last_random = x->last_random;
    if (x->value && !(y->value = dup0(x->value)))
        return -1;
    for (size_t i = 0; i < x->ndraws; i++) {
        char **nd = realloc(y->draws, (y->ndraws + 1) * sizeof *nd);
        if (!nd)
            return -1;
        y->draws = nd;
        if (!(nd[y->ndraws] = dup0(x->draws[i])))
            return -1;
        y->ndraws++;
    }
    y->nextdraw = x->nextdraw;
    for (size_t i = 0; i < x->n; i++) {
        int r = (x->attrs & BGJ_ATTR_ASSOC) ? bgj_var_assoc_set(to, y, x->el[i].key, x->el[i].val)
                                            : bgj_var_index_set(to, y, x->el[i].idx, x->el[i].val);
        if (r < 0)
            return -1;
        y->el[y->n - 1].assigned = x->el[i].assigned;
    }
    y->assigned = x->assigned;
    return 0;
}

/* Creation order, for stable output and copies. */
static bgj_var **sorted(const bgj_vars *v, int only_assigned, size_t *k)
{
    bgj_var **list = malloc((v->count + 1) * sizeof *list);
    *k = 0;
    if (!list)
        return NULL;
    for (size_t i = 0; i < v->cap; i++)
        if (v->slot[i] && (!only_assigned || v->slot[i]->assigned))
            list[(*k)++] = v->slot[i];
    qsort(list, *k, sizeof *list, by_order);
    return list;
}

bgj_vars *bgj_vars_dup(const bgj_vars *v)
{
    bgj_vars *d = bgj_vars_new();
    size_t k;
    bgj_var **list = sorted(v, 0, &k);
    int bad = !d || !list;
    for (size_t i = 0; i < k && !bad; i++)
        bad = copy_var(d, list[i]) < 0;
    free(list);
    if (!bad) {
        d->nounset = v->nounset;
        bad = (v->failure && !(d->failure = dup0(v->failure))) ||
              (v->msgs.p && bgj_sb_puts(&d->msgs, v->msgs.p) < 0);
    }
    if (bad) {
        bgj_vars_free(d);
        return NULL;
    }
    return d;
}

/* ---- Rendering assignments ---- */

/* Quote S so that bash reads it back as the same bytes: as it is when it
   is a decimal number, in plain single quotes when every byte is printable
   ASCII, else $'...' with escapes. */
static void sb_quote(struct bgj_strbuf *b, const char *s)
{
    int plain = 1, number = *s != '\0';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f)
            plain = 0;
        if (!(*p >= '0' && *p <= '9') && !(*p == '-' && p == (const unsigned char *)s && p[1]))
            number = 0;
    }
    if (number) {
        bgj_sb_puts(b, s);
    } else if (plain) {
        bgj_sb_add(b, "'", 1);
        for (; *s; s++)
            if (*s == '\'')
                bgj_sb_puts(b, "'\\''");
            else
                bgj_sb_add(b, s, 1);
        bgj_sb_add(b, "'", 1);
    } else {
        bgj_sb_puts(b, "$'");
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
            if (*p == '\\' || *p == '\'')
                bgj_sb_printf(b, "\\%c", *p);
            else if (*p < 0x20 || *p >= 0x7f)
                bgj_sb_printf(b, "\\x%02x", *p); /* bash takes at most two hex digits */
            else
                bgj_sb_add(b, (const char *)p, 1);
        }
        bgj_sb_add(b, "'", 1);
    }
}

/* "%jd" of N in BUF (24 bytes). */
static const char *fmt_index(char *buf, intmax_t n)
{
    snprintf(buf, 24, "%jd", n);
    return buf;
}

char *bgj_vars_assignments(const bgj_vars *v)
{
    char num[24];
    size_t k;
    bgj_var **list = sorted(v, 1, &k);
    if (!list || k == 0) {
        free(list);
        return NULL;
    }
    struct bgj_strbuf b = {0};
    for (size_t i = 0; i < k; i++) {
        bgj_var *x = list[i];
        if (x->attrs & (BGJ_ATTR_INDEXED | BGJ_ATTR_ASSOC)) {
            for (size_t j = 0; j < x->n; j++) {
                if (!x->el[j].assigned)
                    continue;
                bgj_sb_puts(&b, x->name);
                bgj_sb_add(&b, "[", 1);
                if (x->attrs & BGJ_ATTR_INDEXED)
                    bgj_sb_puts(&b, fmt_index(num, x->el[j].idx));
                else if (bgj_is_name(x->el[j].key, NULL))
                    bgj_sb_puts(&b, x->el[j].key);
                else
                    sb_quote(&b, x->el[j].key);
                bgj_sb_puts(&b, "]=");
                sb_quote(&b, x->el[j].val);
                bgj_sb_puts(&b, "\n");
            }
        } else if (x->value && x->value_assigned) {
            bgj_sb_puts(&b, x->name);
            bgj_sb_add(&b, "=", 1);
            sb_quote(&b, x->value);
            bgj_sb_puts(&b, "\n");
        }
    }
    free(list);
    if (b.n == 0 && !b.oom)
        return NULL;
    return bgj_sb_take(&b);
}
