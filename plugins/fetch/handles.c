/*
 * handles.c - the libcurl handles the fetch jobs of a process reuse, and the
 * DNS and TLS session cache they share.
 *
 * Connections.  libcurl does not support one connection cache used by
 * several threads at once (a share with CURL_LOCK_DATA_CONNECT is a known
 * bug there), so connections are not put in the share.  Instead every job
 * borrows a multi handle, with its easy handle, from a pool: the multi
 * handle's own connection cache keeps the connections of its earlier
 * transfers open (HTTP keep-alive), and only one job at a time uses it.
 * There are as many handles as fetch jobs ever ran at once (at most
 * MAX_IDLE stay idle); a job prefers the idle handle that last spoke to its
 * URL's origin, else the one used last.  A cancelled transfer's handle is
 * closed, not kept.
 *
 * DNS answers and TLS sessions are shared by all handles through one curl
 * share, which libcurl supports across threads with the lock callbacks
 * below (one mutex per kind of data).
 *
 * Fork.  All of it belongs to the process that made it (struct pool records
 * its pid).  A forked child has none of the parent's worker threads and a
 * descriptor table without the parent's sockets (bgjob keeps them in its own
 * table), and a lock may have been held at the fork: the child never
 * touches the parent's pool.  Its first fetch finds the pid changed and
 * installs a pool of its own (compare-and-swap; the parent's copy is left
 * alone, not freed: freeing it would close descriptor numbers that are
 * other files in the child).
 *
 * Lifetime.  A pool lives as long as its process: a daemon fetch may still
 * run while the shell exits, and the plugin is never unloaded.
 *
 * Locking.  pool->lock guards the idle list; it is held for list operations
 * only, never across a libcurl call.  The share's mutexes are taken by
 * libcurl through lock_cb and unlock_cb.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handles.h"

#define MAX_IDLE 64

struct pool {
    pid_t pid;
    pthread_mutex_t lock;
    struct fetch_handle *idle; /* most recently used first */
    unsigned nidle;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
};

static _Atomic(struct pool *) current;

static void lock_cb(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
    (void)h;
    (void)a;
    struct pool *p = ud;
    if ((unsigned)d < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&p->share_locks[d]);
}

static void unlock_cb(CURL *h, curl_lock_data d, void *ud)
{
    (void)h;
    struct pool *p = ud;
    if ((unsigned)d < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&p->share_locks[d]);
}

/* A new pool for process PID, or NULL.  Without a share (it could not be
   made) handles are still reused, only DNS and TLS sessions are not shared. */
static struct pool *pool_new(pid_t pid)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->pid = pid;
    pthread_mutex_init(&p->lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&p->share_locks[i], NULL);
    p->share = curl_share_init();
    if (p->share && (curl_share_setopt(p->share, CURLSHOPT_LOCKFUNC, lock_cb) != CURLSHE_OK ||
                     curl_share_setopt(p->share, CURLSHOPT_UNLOCKFUNC, unlock_cb) != CURLSHE_OK ||
                     curl_share_setopt(p->share, CURLSHOPT_USERDATA, p) != CURLSHE_OK ||
                     curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)) {
        curl_share_cleanup(p->share);
        p->share = NULL;
    }
    if (p->share) /* (a libcurl without TLS session sharing still shares DNS) */
        curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return p;
}

/* Frees a pool no handle was ever taken from (lost the race to install it). */
static void pool_free_unused(struct pool *p)
{
    if (p->share)
        curl_share_cleanup(p->share);
    pthread_mutex_destroy(&p->lock);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&p->share_locks[i]);
    free(p);
}

/* This process's pool (made on first use), or NULL out of memory. */
static struct pool *pool_here(void)
{
    pid_t me = getpid();
    struct pool *p = atomic_load_explicit(&current, memory_order_acquire);
    if (p && p->pid == me)
        return p;
    struct pool *n = pool_new(me);
    if (!n)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(&current, &p, n, memory_order_acq_rel, memory_order_acquire))
        return n; /* the parent's pool, if any, is left as it is */
    pool_free_unused(n);
    return p; /* another thread of this process installed one first */
}

/* "scheme://host:port" of URL (as written, up to the path), truncated to fit. */
static void origin_of(const char *url, char *out, size_t outlen)
{
    const char *s = strstr(url, "://");
    size_t n = s ? (size_t)(s - url) + 3 + strcspn(s + 3, "/?#") : strlen(url);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, url, n);
    out[n] = 0;
}

static void handle_close(struct fetch_handle *fh)
{
    if (fh->m)
        curl_multi_cleanup(fh->m);
    if (fh->h)
        curl_easy_cleanup(fh->h);
    free(fh);
}

struct fetch_handle *fetch_handle_get(const char *url)
{
    char origin[sizeof((struct fetch_handle *)0)->origin];
    origin_of(url, origin, sizeof origin);
    struct pool *p = pool_here();
    struct fetch_handle *fh = NULL;
    if (p) {
        pthread_mutex_lock(&p->lock);
        struct fetch_handle **pp = &p->idle, **pick = p->idle ? &p->idle : NULL;
        for (; *pp; pp = &(*pp)->next)
            if (!strcmp((*pp)->origin, origin)) {
                pick = pp;
                break;
            }
        if (pick) {
            fh = *pick;
            *pick = fh->next;
            p->nidle--;
        }
        pthread_mutex_unlock(&p->lock);
    }
    if (!fh) {
        fh = calloc(1, sizeof *fh);
        if (!fh)
            return NULL;
        fh->m = curl_multi_init();
        fh->h = curl_easy_init();
        if (!fh->m || !fh->h) {
            handle_close(fh);
            return NULL;
        }
        if (p && p->share)
            curl_easy_setopt(fh->h, CURLOPT_SHARE, p->share);
    }
    fh->next = NULL;
    memcpy(fh->origin, origin, sizeof origin);
    return fh;
}

void fetch_handle_put(struct fetch_handle *fh, int reuse)
{
    if (!fh)
        return;
    struct pool *p = reuse ? pool_here() : NULL;
    if (p) {
        /* No pointer into the finished job (its buffers, headers, error
           buffer) stays in an idle handle; connections and the share stay. */
        curl_easy_reset(fh->h);
        pthread_mutex_lock(&p->lock);
        if (p->nidle < MAX_IDLE) {
            fh->next = p->idle;
            p->idle = fh;
            p->nidle++;
            fh = NULL;
        }
        pthread_mutex_unlock(&p->lock);
    }
    if (fh)
        handle_close(fh);
}
