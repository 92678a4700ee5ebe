/*
 * registry.c - the callback registry, the plugin API table, plugin loading
 * (by path, or by name through a search path; once per plugin; API versions
 * 1 to BGJOB_API_VERSION),
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
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "info.h"
#include "jobenv.h"
#include "jobs.h"
#include "names.h"
#include "spawn.h"

static struct bgj_callback *callbacks;
static size_t ncallbacks, capcallbacks;
static const char *current_origin = "builtin";
static unsigned current_version = BGJOB_API_VERSION; /* of the plugin being loaded */
static int accepting;                                /* registrations are allowed only during init */

static void default_error(const char *msg) { fprintf(stderr, "bgjob: %s\n", msg); }
void (*bgj_registry_error)(const char *msg) = default_error;

static int valid_name(const char *name) { return bgj_is_name(name, "-.") && strlen(name) <= 64; }

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
    cb->check = NULL;
    cb->origin = current_origin;
    cb->version = current_version;
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
    atomic_store_explicit(&job->side->progress, 1 + (unsigned)(fraction * 1e6), memory_order_relaxed);
}

static int api_cancelled(bgjob_job *job)
{
    return atomic_load(&job->cancel); /* the reason: enum bgj_cancel_reason */
}

static int api_sleep(bgjob_job *job, double seconds) { return bgj_job_sleep(job, seconds); }

static int api_set_check(const char *name, bgjob_check check)
{
    if (!accepting) {
        bgj_registry_error("set_check may only be called from bgjob_plugin_init");
        return -1;
    }
    for (size_t i = 0; i < ncallbacks; i++)
        if (strcmp(callbacks[i].name, name) == 0 && callbacks[i].origin == current_origin) {
            callbacks[i].check = check;
            return 0;
        }
    return -1;
}

static const char *api_getenv(bgjob_job *job, const char *name)
{
    return bgj_jobenv_get(bgj_callback_env(job), name);
}

static int api_set_info(bgjob_job *job, const char *key, const char *value)
{
    return bgj_info_set(&job->side->info, key, value) == BGJ_OK ? 0 : -1;
}

static int api_spawn(bgjob_job *job, const struct bgjob_spawn_req *req, struct bgjob_spawn_res *res,
                     char *msg, size_t msglen)
{
    return bgj_spawn_job(job, job ? bgj_callback_version(job) : BGJOB_API_VERSION, req, res, msg, msglen);
}

static int api_cancel_fd(bgjob_job *job) { return bgj_job_cancel_fd(job); }

static int api_dirfd(bgjob_job *job) { return bgj_jobenv_cwd_fd((struct bgj_jobenv *)bgj_callback_env(job)); }

static int api_open(bgjob_job *job, const char *path, int flags, unsigned int mode)
{
    return bgj_jobenv_open((struct bgj_jobenv *)bgj_callback_env(job), path, flags, (mode_t)mode);
}

static void api_spawn_free(struct bgjob_spawn_res *res) { bgj_spawn_free(res); }

static void api_set_queued(bgjob_job *job, int queued)
{
    atomic_store_explicit(&job->ext_queued, queued != 0, memory_order_relaxed);
}

static double api_timeout(bgjob_job *job) { return bgj_job_timeout(job); }

const struct bgjob_api bgj_api = {
    .version = BGJOB_API_VERSION,
    .size = sizeof(struct bgjob_api),
    .register_callback = api_register,
    .set_result = api_set_result,
    .fail = api_fail,
    .progress = api_progress,
    .cancelled = api_cancelled,
    .sleep = api_sleep,
    .set_check = api_set_check,
    .getenv = api_getenv,
    .set_info = api_set_info,
    .spawn = api_spawn,
    .spawn_free = api_spawn_free,
    .cancel_fd = api_cancel_fd,
    .dirfd = api_dirfd,
    .open = api_open,
    .set_queued = api_set_queued,
    .timeout = api_timeout,
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

/* Handles of the plugins loaded so far (main thread only). */
static void **loaded;
static size_t nloaded;

/*
 * The file a plugin NAME names: NAME itself when it has a slash; otherwise
 * the first DIR/NAME or DIR/NAME.so that exists, for the directories of
 * SEARCH (colon-separated; empty entries are skipped).  malloc'd, or NULL.
 */
static char *resolve(const char *name, const char *search)
{
    if (strchr(name, '/') || !search)
        return strdup(name);
    const char *p = search;
    while (*p) {
        size_t n = strcspn(p, ":");
        if (n > 0) {
            for (int so = 0; so < 2; so++) {
                char *path;
                if (asprintf(&path, "%.*s/%s%s", (int)n, p, name, so ? ".so" : "") < 0)
                    return NULL;
                struct stat st;
                if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                    return path;
                free(path);
            }
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return NULL;
}

int bgj_plugin_load(const char *name, const char *search, struct bgj_err *err)
{
    bgj_registry_init();
    char *path = resolve(name, search);
    if (!path) {
        if (strchr(name, '/') || !search)
            return bgj_err_set(err, BGJ_ENOMEM, NULL);
        return bgj_err_set(err, BGJ_ENOTFOUND, "%s: no such plugin (looked for %s and %s.so in %s)", name,
                           name, name, search);
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        bgj_err_set(err, BGJ_EPLUGIN, "%s: cannot load plugin: %s", path, why ? why : "unknown error");
        free(path);
        return BGJ_EPLUGIN;
    }
    for (size_t i = 0; i < nloaded; i++)
        if (loaded[i] == h) {
            dlclose(h); /* drops the reference this dlopen added */
            bgj_err_set(err, BGJ_EEXIST, "%s: plugin already loaded", path);
            free(path);
            return BGJ_EEXIST;
        }
    const unsigned *ver = dlsym(h, "bgjob_plugin_api_version");
    bgjob_plugin_init_fn init;
    *(void **)&init = dlsym(h, "bgjob_plugin_init");
    int rc = BGJ_EPLUGIN;
    if (!init)
        bgj_err_set(err, rc, "%s: not a bgjob plugin: it has no bgjob_plugin_init function", path);
    else if (!ver)
        bgj_err_set(err, rc, "%s: not a bgjob plugin: it does not declare BGJOB_PLUGIN_VERSION", path);
    else if (*ver < 1 || *ver > BGJOB_API_VERSION)
        bgj_err_set(err, rc,
                    "%s: plugin built for bgjob API version %u; this bgjob provides version %u "
                    "and accepts plugins built for versions 1 to %u",
                    path, *ver, (unsigned)BGJOB_API_VERSION, (unsigned)BGJOB_API_VERSION);
    else
        rc = 0;
    void **grown = rc == 0 ? realloc(loaded, (nloaded + 1) * sizeof *loaded) : NULL;
    if (rc == 0 && !grown)
        rc = bgj_err_set(err, BGJ_ENOMEM, "%s: out of memory", path);
    if (rc != 0) {
        dlclose(h);
        free(path);
        return rc;
    }
    loaded = grown;
    size_t before = ncallbacks;
    current_origin = path; /* owned by the callbacks it registers from now on */
    current_version = *ver;
    accepting = 1;
    int r = init(&bgj_api);
    accepting = 0;
    current_origin = "builtin";
    current_version = BGJOB_API_VERSION;
    if (r != 0) {
        unregister_from(before);
        bgj_err_set(err, BGJ_EPLUGIN, "%s: plugin initialisation failed (bgjob_plugin_init returned %d)",
                    path, r);
        free(path);
        dlclose(h);
        return BGJ_EPLUGIN;
    }
    loaded[nloaded++] = h;
    /* Pin the plugin: jobs may run its code until the process ends. */
    dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE);
    return 0;
}

/* ---- callback jobs ---- */

struct cb_arg {
    bgjob_callback fn;
    void *payload;
    unsigned version;
    int argc;
    char **argv;
    struct bgj_jobenv *env;
};

static void cb_release(void *p)
{
    struct cb_arg *a = p;
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a->argv);
    bgj_jobenv_free(a->env);
    free(a);
}

const struct bgj_jobenv *bgj_callback_env(const bgjob_job *job)
{
    if (job->kind != BGJ_KIND_CALLBACK || !job->arg)
        return NULL;
    return ((const struct cb_arg *)job->arg)->env;
}

unsigned bgj_callback_version(const bgjob_job *job)
{
    if (job->kind != BGJ_KIND_CALLBACK || !job->arg)
        return BGJOB_API_VERSION;
    return ((const struct cb_arg *)job->arg)->version;
}

int bgj_callback_check(const struct bgj_callback *cb, int argc, char **argv, struct bgj_err *err)
{
    if (!cb->check)
        return BGJ_OK;
    char **v = calloc((size_t)argc + 2, sizeof *v);
    if (!v)
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    v[0] = cb->name;
    for (int i = 0; i < argc; i++)
        v[i + 1] = argv[i];
    char msg[512] = "";
    int rc = cb->check(argc + 1, v, cb->payload, msg, sizeof msg);
    free(v);
    if (rc == 0)
        return BGJ_OK;
    return bgj_err_set(err, BGJ_EUSAGE, "%s", msg[0] ? msg : "invalid arguments");
}

static int cb_run(bgjob_job *job, void *p)
{
    struct cb_arg *a = p;
    return a->fn(job, a->argc, a->argv, a->payload);
}

bgjob_job *bgj_callback_job(const struct bgj_callback *cb, int argc, char **argv, const char *command)
{
    return bgj_callback_job_env(cb, argc, argv, command, NULL);
}

bgjob_job *bgj_callback_job_env(const struct bgj_callback *cb, int argc, char **argv, const char *command,
                                struct bgj_jobenv *env)
{
    struct cb_arg *a = calloc(1, sizeof *a);
    if (!a) {
        bgj_jobenv_free(env);
        return NULL;
    }
    a->env = env;
    a->fn = cb->fn;
    a->payload = cb->payload;
    a->version = cb->version;
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
