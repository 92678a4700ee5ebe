/* snapshot.c - the variable snapshot of an arithmetic job, taken on the
 * main thread when `bgjob new EXPR...' runs.
 *
 * Owns: finding every variable EXPR can read and copying it into a
 * bgj_vars.  Reachability is computed generously from text: every
 * identifier in EXPR is captured, and so is every identifier in the value
 * of a captured variable (values are expressions too), in array elements,
 * in subscripts (which also covers $name and ${name} there) and in
 * nameref targets.  Cost: proportional to the text reached.
 *
 * Dynamic variables get the value `let' would read at this moment: their
 * hook runs here, on the main thread.  RANDOM and SRANDOM are drawn once per
 * occurrence in the text scanned (so a seeded RANDOM gives bash's sequence);
 * EPOCHSECONDS, EPOCHREALTIME and BASHPID keep their value whatever the job
 * assigns (bash ignores such assignments); the others are plain copies.
 *
 * Rules: main thread only.  Apart from those draws it is read-only with
 * respect to the shell: lookups go through var_lookup() first so that no
 * hook runs unless the variable is dynamic.  Only functions that cannot
 * longjmp are called; all memory is malloc'd.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "shell.h"
#include "variables.h"
#include "arrayfunc.h"
#include "array.h"
#include "assoc.h"

#include "snapshot.h"
#include "names.h"
#include "vars.h"

extern int unbound_vars_is_error; /* set -u; flags.h is not installed */

#define MAX_SNAPSHOT_VARS 100000

/* The names queued: the first ones in the walk itself (no allocation for a short expression). */
#define SMALL_NAMES 16
typedef struct {
    char **names;
    size_t n, cap;
    bgj_vars *v;
    size_t captured;
    int oom;
    char *small_names[SMALL_NAMES];
    char pool[256]; /* the first names' text */
    size_t pool_used;
} walk;

static int in_pool(const walk *w, const char *p) { return p >= w->pool && p < w->pool + sizeof w->pool; }

static void queue(walk *w, const char *s, size_t len)
{
    if (w->oom)
        return;
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : SMALL_NAMES;
        char **nn = w->cap == 0                  ? w->small_names
                    : w->names == w->small_names ? malloc(ncap * sizeof *nn)
                                                 : realloc(w->names, ncap * sizeof *nn);
        if (!nn) {
            w->oom = 1;
            return;
        }
        if (w->names == w->small_names && nn != w->small_names)
            memcpy(nn, w->small_names, w->n * sizeof *nn);
        w->names = nn;
        w->cap = ncap;
    }
    char *p;
    if (w->pool_used + len + 1 <= sizeof w->pool) {
        p = w->pool + w->pool_used;
        w->pool_used += len + 1;
    } else if (!(p = malloc(len + 1))) {
        w->oom = 1;
        return;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    w->names[w->n++] = p;
}

/* Queue every identifier of TEXT; words starting with a digit are numbers
   (0x1f, 64#zz) and are skipped whole. */
static void scan(walk *w, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (p && *p) {
        if (*p >= '0' && *p <= '9') {
            while (bgj_ident_char(*p) || *p == '#' || *p == '@')
                p++;
        } else if (bgj_ident_start(*p)) {
            const unsigned char *st = p;
            while (bgj_ident_char(*p))
                p++;
            queue(w, (const char *)st, (size_t)(p - st));
        } else
            p++;
    }
}

/* Dynamic variables handled apart from a plain copy of their value now. */
static int dynamic_kind(const char *n)
{
    if (strcmp(n, "RANDOM") == 0)
        return BGJ_DYN_RANDOM;
    if (strcmp(n, "SRANDOM") == 0)
        return BGJ_DYN_DRAWN;
    if (strcmp(n, "EPOCHSECONDS") == 0 || strcmp(n, "EPOCHREALTIME") == 0 || strcmp(n, "BASHPID") == 0)
        return BGJ_DYN_FIXED;
    return 0;
}

static unsigned attrs_of(SHELL_VAR *var)
{
    unsigned a = 0;
    if (readonly_p(var))
        a |= BGJ_ATTR_READONLY;
    if (integer_p(var))
        a |= BGJ_ATTR_INTEGER;
    return a;
}

/* An indexed or (ASSOC) associative array, element by element. */
static int capture_array(walk *w, const char *name, SHELL_VAR *var, int assoc)
{
    if (bgj_vars_set_array(w->v, name, attrs_of(var) | (assoc ? BGJ_ATTR_ASSOC : BGJ_ATTR_INDEXED)) < 0)
        return -1;
    ARRAY *a = assoc ? NULL : array_cell(var);
    HASH_TABLE *h = assoc ? assoc_cell(var) : NULL;
    WORD_LIST *keys = h ? assoc_keys_to_word_list(h) : a ? array_keys_to_word_list(a) : NULL;
    int r = 0;
    for (WORD_LIST *k = keys; k && r == 0; k = k->next) {
        const char *key = k->word->word;
        intmax_t idx = assoc ? 0 : strtoimax(key, NULL, 10);
        char *val = assoc ? assoc_reference(h, (char *)key) : array_reference(a, idx);
        r = assoc ? bgj_vars_assoc_put(w->v, name, key, val ? val : "")
                  : bgj_vars_array_put(w->v, name, idx, val ? val : "");
        scan(w, val);
    }
    dispose_words(keys);
    return r;
}

/* One more occurrence of the drawn variable NAME (VAR): draw a value. */
static int draw(walk *w, const char *name, SHELL_VAR *var, int kind)
{
    if (!bgj_vars_lookup(w->v, name, strlen(name)) &&
        bgj_vars_set_dynamic(w->v, name, kind, NULL, attrs_of(var)) < 0)
        return -1;
    var = find_variable(name); /* runs the hook: the draw `let' would make */
    const char *val = var ? value_cell(var) : NULL;
    return bgj_vars_add_draw(w->v, name, val ? val : "");
}

static int capture(walk *w, const char *name)
{
    SHELL_VAR *var = var_lookup(name, shell_variables);
    int kind = var && var->dynamic_value ? dynamic_kind(name) : 0;
    if (kind == BGJ_DYN_RANDOM || kind == BGJ_DYN_DRAWN)
        return draw(w, name, var, kind);
    if (bgj_vars_lookup(w->v, name, strlen(name)))
        return 0; /* already captured */
    if (++w->captured > MAX_SNAPSHOT_VARS)
        return bgj_vars_set_failure(w->v, "the expression reaches too many variables for a snapshot");
    if (var && var->dynamic_value) {
        var = find_variable(name); /* runs the hook: the value `let' would read now */
        if (var && kind == BGJ_DYN_FIXED)
            return bgj_vars_set_dynamic(w->v, name, kind, value_cell(var), attrs_of(var));
    } else {
        /* find_variable_noref also sees temporary assignments (FOO=1 bgjob new). */
        var = find_variable_noref(name);
    }
    if (!var)
        return 0; /* unset: absent from the snapshot */
    if (nameref_p(var)) {
        const char *t = nameref_cell(var);
        if (bgj_vars_set_nameref(w->v, name, t, readonly_p(var) ? BGJ_ATTR_READONLY : 0) < 0)
            return -1;
        scan(w, t);
        return 0;
    }
    if ((array_p(var) || assoc_p(var)) && !invisible_p(var))
        return capture_array(w, name, var, assoc_p(var) != 0);
    if (invisible_p(var) || !value_cell(var))
        return bgj_vars_set_scalar(w->v, name, NULL, attrs_of(var));
    if (bgj_vars_set_scalar(w->v, name, value_cell(var), attrs_of(var)) < 0)
        return -1;
    scan(w, value_cell(var));
    return 0;
}

bgj_vars *bgj_snapshot(int nwords, char *const *words)
{
    walk w = {0};
    w.v = bgj_vars_new();
    if (!w.v)
        return NULL;
    bgj_vars_set_nounset(w.v, unbound_vars_is_error != 0);
    if (assoc_expand_once)
        bgj_vars_set_failure(w.v, "shopt assoc_expand_once is not supported in background jobs");
    for (int i = 0; i < nwords; i++)
        scan(&w, words[i]);
    /* The queue only grows at its end; consume it from the front. */
    for (size_t i = 0; i < w.n && !w.oom; i++)
        if (capture(&w, w.names[i]) < 0)
            w.oom = 1;
    for (size_t i = 0; i < w.n; i++)
        if (!in_pool(&w, w.names[i]))
            free(w.names[i]);
    if (w.names != w.small_names)
        free(w.names);
    if (w.oom) {
        bgj_vars_free(w.v);
        return NULL;
    }
    return w.v;
}
