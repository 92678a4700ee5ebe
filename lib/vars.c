/* vars.c - the variable snapshot store behind arithmetic jobs.
 *
 * Owns: the bgj_vars container (a hash table of bgj_var by name), the
 * element storage of arrays, the list of messages printed during an
 * evaluation and the rendering of final assignments.  Threading: built on
 * the main thread, then handed to one worker; no locking, no globals.
 * Only malloc/realloc/free are used, and every allocation failure is
 * reported to the caller instead of aborting.
 */
#include "vars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  intmax_t idx;   /* indexed arrays */
  char *key;      /* associative arrays */
  char *val;
} elem;

struct bgj_var {
  char *name;
  unsigned attrs;
  char *value;       /* scalar value or nameref target; NULL = unset */
  size_t valcap;     /* bytes allocated at value by bgj_var_set_value, 0 = unknown */
  char *unavail;     /* non-NULL: the snapshot could not capture it */
  elem *el;          /* indexed: sorted by idx; assoc: insertion order */
  size_t n, cap;
  size_t *kh;        /* assoc key hash: slot -> element number + 1 */
  size_t khcap;
  int assigned;
  size_t order;      /* creation order, for stable output */
};

struct bgj_vars {
  bgj_var **slot;    /* open addressing, power-of-two size */
  size_t cap, count, serial;
  int nounset;
  char *failure;
  char *msgs;
  size_t msglen, msgcap;
};

static size_t hash_bytes(const char *s, size_t len)
{
  size_t h = 1469598103934665603u;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  return h;
}

static char *dupn(const char *s, size_t n)
{
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static char *dup0(const char *s)
{
  return s ? dupn(s, strlen(s)) : NULL;
}

bgj_vars *bgj_vars_new(void)
{
  bgj_vars *v = calloc(1, sizeof *v);
  if (!v)
    return NULL;
  v->cap = 16;
  v->slot = calloc(v->cap, sizeof *v->slot);
  if (!v->slot) {
    free(v);
    return NULL;
  }
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
  free(x->name);
  free(x->value);
  free(x->unavail);
  free(x);
}

void bgj_vars_free(bgj_vars *v)
{
  if (!v)
    return;
  for (size_t i = 0; i < v->cap; i++)
    var_free(v->slot[i]);
  free(v->slot);
  free(v->failure);
  free(v->msgs);
  free(v);
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
  x = calloc(1, sizeof *x);
  if (!x || !(x->name = dupn(name, len))) {
    free(x);
    return NULL;
  }
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
  free(x->value);
  free(x->unavail);
  x->value = x->unavail = NULL;
  x->valcap = 0;
  x->attrs = attrs;
}

int bgj_vars_set_scalar(bgj_vars *v, const char *name, const char *value, unsigned attrs)
{
  bgj_var *x = get_or_add(v, name, strlen(name));
  if (!x)
    return -1;
  reset_var(x, attrs & (BGJ_ATTR_READONLY | BGJ_ATTR_INTEGER));
  if (value && !(x->value = dup0(value)))
    return -1;
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

int bgj_vars_array_put(bgj_vars *v, const char *name, intmax_t index, const char *value)
{
  bgj_var *x = bgj_vars_lookup(v, name, strlen(name));
  if (!x || !(x->attrs & BGJ_ATTR_INDEXED) || index < 0)
    return -1;
  int saved = x->assigned, r = bgj_var_index_set(v, x, index, value);
  x->assigned = saved;
  return r;
}

int bgj_vars_assoc_put(bgj_vars *v, const char *name, const char *key, const char *value)
{
  bgj_var *x = bgj_vars_lookup(v, name, strlen(name));
  if (!x || !(x->attrs & BGJ_ATTR_ASSOC))
    return -1;
  int saved = x->assigned, r = bgj_var_assoc_set(v, x, key, value);
  x->assigned = saved;
  return r;
}

void bgj_vars_set_nounset(bgj_vars *v, int on) { v->nounset = on != 0; }
int bgj_vars_nounset(const bgj_vars *v) { return v->nounset; }

int bgj_vars_set_unavailable(bgj_vars *v, const char *name, const char *reason)
{
  bgj_var *x = get_or_add(v, name, strlen(name));
  if (!x)
    return -1;
  reset_var(x, 0);
  return (x->unavail = dup0(reason)) ? 0 : -1;
}

int bgj_vars_set_failure(bgj_vars *v, const char *reason)
{
  if (v->failure)
    return 0;
  return (v->failure = dup0(reason)) ? 0 : -1;
}

const char *bgj_vars_failure(const bgj_vars *v) { return v->failure; }

void bgj_vars_clear_assigned(bgj_vars *v)
{
  for (size_t i = 0; i < v->cap; i++)
    if (v->slot[i])
      v->slot[i]->assigned = 0;
  v->msglen = 0;
  if (v->msgs)
    v->msgs[0] = '\0';
}

const char *bgj_var_name(const bgj_var *x) { return x->name; }
unsigned bgj_var_attrs(const bgj_var *x) { return x->attrs; }
const char *bgj_var_value(const bgj_var *x) { return x->value; }
const char *bgj_var_unavailable(const bgj_var *x) { return x->unavail; }
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

intmax_t bgj_var_max_index(const bgj_var *x)
{
  return x->n ? x->el[x->n - 1].idx : -1;
}

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
      size_t cap = n < 24 ? 24 : n;
      char *nv = malloc(cap);
      if (!nv)
        return -1;
      memcpy(nv, value, n);
      free(x->value);
      x->value = nv;
      x->valcap = cap;
    }
  }
  x->assigned = 1;
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
  x->n++;
  x->kh[key_slot(x, nk)] = x->n;
  return 0;
}

int bgj_var_to_indexed(bgj_vars *v, bgj_var *x)
{
  char *old = x->value;
  x->value = NULL;
  x->valcap = 0;
  x->attrs = (x->attrs & ~(BGJ_ATTR_ASSOC | BGJ_ATTR_NAMEREF)) | BGJ_ATTR_INDEXED;
  x->assigned = 1;
  int r = 0;
  if (old)
    r = bgj_var_index_set(v, x, 0, old);
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
  size_t n = strlen(line);
  if (v->msglen + n + 2 > v->msgcap) {
    size_t ncap = (v->msglen + n + 2) * 2;
    char *nm = realloc(v->msgs, ncap);
    if (!nm)
      return -1;
    v->msgs = nm;
    v->msgcap = ncap;
  }
  memcpy(v->msgs + v->msglen, line, n);
  v->msglen += n;
  v->msgs[v->msglen++] = '\n';
  v->msgs[v->msglen] = '\0';
  return 0;
}

const char *bgj_vars_messages(const bgj_vars *v) { return v->msgs ? v->msgs : ""; }

/* ---- Rendering assignments ---- */

typedef struct {
  char *p;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->n + n + 1 > b->cap) {
    size_t ncap = (b->n + n + 1) * 2;
    char *np = realloc(b->p, ncap);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = ncap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

/* Quote S so that bash reads it back as the same bytes: plain single
   quotes when every byte is printable ASCII, else $'...' with escapes. */
static void sb_quote(sbuf *b, const char *s)
{
  int plain = 1;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p >= 0x7f)
      plain = 0;
  if (plain) {
    sb_putn(b, "'", 1);
    for (; *s; s++)
      if (*s == '\'')
        sb_puts(b, "'\\''");
      else
        sb_putn(b, s, 1);
    sb_putn(b, "'", 1);
    return;
  }
  sb_puts(b, "$'");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char t[8];
    if (*p == '\\' || *p == '\'') {
      t[0] = '\\';
      t[1] = (char)*p;
      sb_putn(b, t, 2);
    } else if (*p < 0x20 || *p >= 0x7f) {
      snprintf(t, sizeof t, "\\x%02x", *p);
      /* A following hex digit would extend \xHH; bash takes at most two. */
      sb_puts(b, t);
    } else {
      sb_putn(b, (const char *)p, 1);
    }
  }
  sb_putn(b, "'", 1);
}

static int by_order(const void *a, const void *b)
{
  const bgj_var *x = *(const bgj_var *const *)a, *y = *(const bgj_var *const *)b;
  return x->order < y->order ? -1 : x->order > y->order;
}

char *bgj_vars_assignments(const bgj_vars *v)
{
  size_t k = 0;
  bgj_var **list = malloc((v->count + 1) * sizeof *list);
  if (!list)
    return NULL;
  for (size_t i = 0; i < v->cap; i++)
    if (v->slot[i] && v->slot[i]->assigned)
      list[k++] = v->slot[i];
  if (k == 0) {
    free(list);
    return NULL;
  }
  qsort(list, k, sizeof *list, by_order);
  sbuf b = {0};
  for (size_t i = 0; i < k; i++) {
    bgj_var *x = list[i];
    char num[32];
    sb_puts(&b, "declare ");
    if (x->attrs & BGJ_ATTR_INDEXED)
      sb_puts(&b, x->attrs & BGJ_ATTR_INTEGER ? "-ai " : "-a ");
    else if (x->attrs & BGJ_ATTR_ASSOC)
      sb_puts(&b, x->attrs & BGJ_ATTR_INTEGER ? "-Ai " : "-A ");
    else if (x->attrs & BGJ_ATTR_NAMEREF)
      sb_puts(&b, "-n ");
    else
      sb_puts(&b, x->attrs & BGJ_ATTR_INTEGER ? "-i " : "-- ");
    sb_puts(&b, x->name);
    if (x->attrs & (BGJ_ATTR_INDEXED | BGJ_ATTR_ASSOC)) {
      sb_puts(&b, "=(");
      for (size_t j = 0; j < x->n; j++) {
        if (j)
          sb_putn(&b, " ", 1);
        sb_putn(&b, "[", 1);
        if (x->attrs & BGJ_ATTR_INDEXED) {
          snprintf(num, sizeof num, "%jd", x->el[j].idx);
          sb_puts(&b, num);
        } else {
          sb_quote(&b, x->el[j].key);
        }
        sb_puts(&b, "]=");
        sb_quote(&b, x->el[j].val);
      }
      sb_putn(&b, ")", 1);
    } else if (x->value) {
      sb_putn(&b, "=", 1);
      sb_quote(&b, x->value);
    }
    sb_putn(&b, "\n", 1);
  }
  free(list);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
