/*
 * info.c - see info.h.  info_lock guards all lists; it is never held while
 * calling out, and the fork handlers leave the child with it free.
 */
#include "info.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

struct bgj_info {
    struct bgj_info *next;
    char *value;                   /* owned, or NULL for the two views below */
    const struct bgj_outbuf *live; /* a live buffer */
    char *const *ref;              /* a string owned elsewhere, */
    unsigned nl;                   /* followed by this many newlines */
    char key[];
};

static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void prepare(void) { pthread_mutex_lock(&info_lock); }
static void parent(void) { pthread_mutex_unlock(&info_lock); }
static void child(void) { pthread_mutex_init(&info_lock, NULL); }
static void register_atfork(void) { pthread_atfork(prepare, parent, child); }

static int valid_key(const char *k)
{
    if (!k || !*k)
        return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
            return 0;
    return 1;
}

void bgj_info_lock(void)
{
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&info_lock);
}
void bgj_info_unlock(void) { pthread_mutex_unlock(&info_lock); }

/* The value of I as a new string (under info_lock), or NULL out of memory. */
static char *value_of(const struct bgj_info *i)
{
    if (i->value)
        return strdup(i->value);
    if (i->live) {
        size_t n = i->live->buf ? strnlen(i->live->buf, i->live->len) : 0;
        char *v = malloc(n + 1);
        if (v) {
            if (n)
                memcpy(v, i->live->buf, n);
            v[n] = 0;
        }
        return v;
    }
    const char *r = i->ref && *i->ref ? *i->ref : "";
    size_t n = strlen(r);
    char *v = malloc(n + i->nl + 1);
    if (v) {
        memcpy(v, r, n);
        memset(v + n, '\n', i->nl);
        v[n + i->nl] = 0;
    }
    return v;
}

/* Sets KEY's entry to COPY (owned) or to the view LIVE / REF+NL. */
static int set_entry(struct bgj_info **list, const char *key, char *copy, const struct bgj_outbuf *live,
                     char *const *ref, unsigned nl)
{
    if (!valid_key(key)) {
        free(copy);
        return BGJ_EINVAL;
    }
    pthread_once(&atfork_once, register_atfork);
    struct bgj_info *fresh = NULL;
    pthread_mutex_lock(&info_lock);
    struct bgj_info **pp = list;
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    if (*pp) {
        char *old = (*pp)->value;
        (*pp)->value = copy;
        (*pp)->live = live;
        (*pp)->ref = ref;
        (*pp)->nl = nl;
        pthread_mutex_unlock(&info_lock);
        free(old);
        return BGJ_OK;
    }
    pthread_mutex_unlock(&info_lock);
    size_t klen = strlen(key);
    fresh = malloc(sizeof *fresh + klen + 1);
    if (!fresh) {
        free(copy);
        return BGJ_ENOMEM;
    }
    memcpy(fresh->key, key, klen + 1);
    fresh->value = copy;
    fresh->live = live;
    fresh->ref = ref;
    fresh->nl = nl;
    fresh->next = NULL;
    pthread_mutex_lock(&info_lock);
    pp = list;
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    if (*pp) { /* set meanwhile by another thread: replace */
        char *old = (*pp)->value;
        (*pp)->value = copy;
        (*pp)->live = live;
        (*pp)->ref = ref;
        (*pp)->nl = nl;
        pthread_mutex_unlock(&info_lock);
        free(old);
        free(fresh);
        return BGJ_OK;
    }
    *pp = fresh;
    pthread_mutex_unlock(&info_lock);
    return BGJ_OK;
}

int bgj_info_set(struct bgj_info **list, const char *key, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy)
        return BGJ_ENOMEM;
    return set_entry(list, key, copy, NULL, NULL, 0);
}

int bgj_info_set_owned(struct bgj_info **list, const char *key, char *value)
{
    if (!value)
        return BGJ_EINVAL;
    return set_entry(list, key, value, NULL, NULL, 0);
}

int bgj_info_set_live(struct bgj_info **list, const char *key, const struct bgj_outbuf *out)
{
    return set_entry(list, key, NULL, out, NULL, 0);
}

int bgj_info_set_ref(struct bgj_info **list, const char *key, char *const *ref, unsigned nl)
{
    return set_entry(list, key, NULL, NULL, ref, nl);
}

int bgj_info_each(struct bgj_info *const *list, void (*fn)(const char *, const char *, void *), void *ctx)
{
    pthread_once(&atfork_once, register_atfork);
    size_t n = 0;
    pthread_mutex_lock(&info_lock);
    for (const struct bgj_info *i = *list; i; i = i->next)
        n++;
    char **pairs = n ? calloc(2 * n, sizeof *pairs) : NULL;
    int rc = BGJ_OK;
    if (n && !pairs) {
        rc = BGJ_ENOMEM;
    } else {
        size_t k = 0;
        for (const struct bgj_info *i = *list; i && rc == BGJ_OK; i = i->next, k += 2) {
            pairs[k] = strdup(i->key);
            pairs[k + 1] = value_of(i);
            if (!pairs[k] || !pairs[k + 1])
                rc = BGJ_ENOMEM;
        }
    }
    pthread_mutex_unlock(&info_lock);
    for (size_t k = 0; rc == BGJ_OK && k < 2 * n; k += 2)
        fn(pairs[k], pairs[k + 1], ctx);
    for (size_t k = 0; pairs && k < 2 * n; k++)
        free(pairs[k]);
    free(pairs);
    return rc;
}

char *bgj_info_get(struct bgj_info *const *list, const char *key)
{
    pthread_once(&atfork_once, register_atfork);
    char *v = NULL;
    pthread_mutex_lock(&info_lock);
    for (const struct bgj_info *i = *list; i; i = i->next)
        if (strcmp(i->key, key) == 0) {
            v = value_of(i);
            break;
        }
    pthread_mutex_unlock(&info_lock);
    return v;
}

void bgj_info_free(struct bgj_info *list)
{
    while (list) {
        struct bgj_info *next = list->next;
        free(list->value);
        free(list);
        list = next;
    }
}
