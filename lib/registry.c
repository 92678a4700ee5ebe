/*
 * registry.c - the callback registry, the plugin API table, plugin loading,
 * and the code that runs a callback job on a worker.
 *
 * Locking: the registry is main-thread only (see registry.h).  The API
 * functions that a callback calls (set_result, fail, progress, cancelled,
 * sleep) run on the job's own worker and touch only that job's record, which
 * the worker owns until it publishes the outcome (jobs.c).
 */
#define _GNU_SOURCE
#include "registry.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "names.h"

int bgj_job_sleep(bgjob_job *j, double seconds);

static struct bgj_callback *callbacks;
static size_t ncallbacks, capcallbacks;
static const char *current_origin = "builtin";
static int accepting;  /* registrations are allowed only during init */

static void default_error(const char *msg) { fprintf(stderr, "bgjob: %s\n", msg); }
void (*bgj_registry_error)(const char *msg) = default_error;

static int valid_name(const char *name)
{
    return bgj_is_name(name, "-.") && strlen(name) <= 64;
}

static int api_register(const char *name, bgjob_callback fn, const char *usage, void *payload,
                        void (*destroy)(void *))
{
    char msg[256];
    if (!accepting) {
        bgj_registry_error("register_callback may only be called from bgjob_plugin_init");
        return -1;
    }
    if (!valid_name(name) || !fn) {
        snprintf(msg, sizeof msg, "`%.64s': not a valid callback name", name ? name : "(null)");
        bgj_registry_error(msg);
        return -1;
    }
    const struct bgj_callback *old = bgj_callback_find(name);
    if (old) {
        snprintf(msg, sizeof msg, "callback `%s' is already registered (by %.100s)", name, old->origin);
        bgj_registry_error(msg);
        return -1;
    }
    if (ncallbacks == capcallbacks) {
        size_t ncap = capcallbacks ? capcallbacks * 2 : 16;
        struct bgj_callback *n = realloc(callbacks, ncap * sizeof *n);
        if (!n)
            return -1;
        callbacks = n;
        capcallbacks = ncap;
    }
    struct bgj_callback *cb = &callbacks[ncallbacks];
    cb->name = strdup(name);
    cb->usage = strdup(usage ? usage : name);
    if (!cb->name || !cb->usage) {
        free(cb->name);
        free(cb->usage);
        return -1;
    }
    cb->fn = fn;
    cb->payload = payload;
    cb->destroy = destroy;
    cb->origin = current_origin;
    ncallbacks++;
    return 0;
}

static int api_set_result(bgjob_job *job, const char *s)
{
    char *copy = strdup(s ? s : "");
    if (!copy)
        return -1;
    free(job->result);
    job->result = copy;
    return 0;
}

static int api_fail(bgjob_job *job, const char *msg)
{
    char *copy = strdup(msg && *msg ? msg : "failed");
    if (!copy)
        return -1;
    free(job->error);
    job->error = copy;
    return 0;
}

static void api_progress(bgjob_job *job, double fraction)
{
    if (!(fraction >= 0))
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    atomic_store_explicit(&job->progress, 1 + (unsigned)(fraction * 1e6), memory_order_relaxed);
}

static int api_cancelled(bgjob_job *job)
{
    return atomic_load(&job->cancel) != 0;
}

static int api_sleep(bgjob_job *job, double seconds)
{
    return bgj_job_sleep(job, seconds);
}

const struct bgjob_api bgj_api = {
    .version = BGJOB_API_VERSION,
    .size = sizeof(struct bgjob_api),
    .register_callback = api_register,
    .set_result = api_set_result,
    .fail = api_fail,
    .progress = api_progress,
    .cancelled = api_cancelled,
    .sleep = api_sleep,
};

void bgj_registry_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    accepting = 1;
    current_origin = "builtin";
    bgj_register_shipped();
    accepting = 0;
}

const struct bgj_callback *bgj_callback_find(const char *name)
{
    for (size_t i = 0; i < ncallbacks; i++)
        if (strcmp(callbacks[i].name, name) == 0)
            return &callbacks[i];
    return NULL;
}

size_t bgj_callback_count(void) { return ncallbacks; }
const struct bgj_callback *bgj_callback_at(size_t i) { return i < ncallbacks ? &callbacks[i] : NULL; }

static void unregister_from(size_t first)
{
    while (ncallbacks > first) {
        struct bgj_callback *cb = &callbacks[--ncallbacks];
        if (cb->destroy)
            cb->destroy(cb->payload);
        free(cb->name);
        free(cb->usage);
    }
}

int bgj_plugin_load(const char *path, char *err, size_t errlen)
{
    bgj_registry_init();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s: cannot load plugin: %s", path, why ? why : "unknown error");
        return -1;
    }
    const unsigned *ver = dlsym(h, "bgjob_plugin_api_version");
    bgjob_plugin_init_fn init;
    *(void **)&init = dlsym(h, "bgjob_plugin_init");
    if (!init) {
        snprintf(err, errlen, "%s: not a bgjob plugin: it has no bgjob_plugin_init function", path);
        dlclose(h);
        return -1;
    }
    if (!ver) {
        snprintf(err, errlen, "%s: not a bgjob plugin: it does not declare BGJOB_PLUGIN_VERSION", path);
        dlclose(h);
        return -1;
    }
    if (*ver != BGJOB_API_VERSION) {
        snprintf(err, errlen, "%s: plugin built for bgjob API version %u, this bgjob provides version %u",
                 path, *ver, (unsigned)BGJOB_API_VERSION);
        dlclose(h);
        return -1;
    }
    char *origin = strdup(path);
    if (!origin) {
        snprintf(err, errlen, "%s: out of memory", path);
        dlclose(h);
        return -1;
    }
    size_t before = ncallbacks;
    current_origin = origin;
    accepting = 1;
    int rc = init(&bgj_api);
    accepting = 0;
    current_origin = "builtin";
    if (rc != 0) {
        unregister_from(before);
        snprintf(err, errlen, "%s: plugin initialisation failed (bgjob_plugin_init returned %d)", path, rc);
        free(origin);
        dlclose(h);
        return -1;
    }
    /* Pin the plugin: jobs may run its code until the process ends. */
    dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE);
    return 0;
}

/* ---- callback jobs ---- */

struct cb_arg {
    bgjob_callback fn;
    void *payload;
    int argc;
    char **argv;
};

static void cb_release(void *p)
{
    struct cb_arg *a = p;
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a->argv);
    free(a);
}

static int cb_run(bgjob_job *job, void *p)
{
    struct cb_arg *a = p;
    return a->fn(job, a->argc, a->argv, a->payload);
}

bgjob_job *bgj_callback_job(const struct bgj_callback *cb, int argc, char **argv, const char *command)
{
    struct cb_arg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fn = cb->fn;
    a->payload = cb->payload;
    a->argv = calloc((size_t)argc + 2, sizeof *a->argv);
    if (!a->argv)
        goto oom;
    a->argv[0] = strdup(cb->name);
    a->argc = 1;
    if (!a->argv[0])
        goto oom;
    for (int i = 0; i < argc; i++) {
        a->argv[a->argc] = strdup(argv[i]);
        if (!a->argv[a->argc])
            goto oom;
        a->argc++;
    }
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, command, cb_run, cb_release, a);
    if (!j)
        cb_release(a);
    return j;
oom:
    cb_release(a);
    return NULL;
}
