/*
 * registry.h - named C callbacks, the plugin API table, and plugin loading.
 *
 * Threads: the registry is written only on the main thread (at load time and
 * by `bgjob load`) and read on the main thread when a job is created; a job
 * carries its own copy of the callback pointer, payload and arguments, so
 * workers never read the registry.  Loaded plugins stay mapped for the life
 * of the process (RTLD_NODELETE): a job may still be running their code.
 */
#ifndef BGJ_REGISTRY_H
#define BGJ_REGISTRY_H

#include <stddef.h>

#include "bgjob.h"
#include "errors.h"

struct bgj_callback {
    char *name;
    char *usage;
    bgjob_callback fn;
    void *payload;
    void (*destroy)(void *);
    bgjob_check check;  /* argument checker run by `new`, or NULL */
    const char *origin; /* "builtin" or the plugin's path */
    unsigned version;   /* the API version its plugin was built for */
};

/* The API table handed to plugins (and used by the shipped callbacks). */
extern const struct bgjob_api bgj_api;

/* Error reporter for registrations: the builtin layer points it at bash's error printer. */
extern void (*bgj_registry_error)(const char *msg);

/* Registers the callbacks shipped inside bgjob.so; idempotent. */
void bgj_registry_init(void);

const struct bgj_callback *bgj_callback_find(const char *name);
size_t bgj_callback_count(void);
const struct bgj_callback *bgj_callback_at(size_t i);

/*
 * Loads the plugin NAME and runs its init function.  NAME with a slash is a
 * path; without, the first DIR/NAME or DIR/NAME.so for the directories DIR of
 * SEARCH (colon-separated; NULL: NAME is a path).  A plugin declaring an API
 * version from 1 to BGJOB_API_VERSION is accepted.  Returns 0; BGJ_EEXIST when
 * that plugin is already loaded (nothing done); or BGJ_ENOTFOUND, BGJ_EPLUGIN,
 * BGJ_ENOMEM, with the message in ERR (may be NULL).  On failure every
 * callback the plugin registered is removed again.
 */
int bgj_plugin_load(const char *name, const char *search, struct bgj_err *err);

/*
 * Runs CB's argument checker (if it has one) on ARGC words ARGV (the words
 * after the callback's name).  0 when they are acceptable, else BGJ_EUSAGE
 * with the checker's message in ERR.
 */
int bgj_callback_check(const struct bgj_callback *cb, int argc, char **argv, struct bgj_err *err);

/*
 * Builds a callback job for CB with ARGC words ARGV (copied) and returns it
 * unsubmitted (see jobs.h), or NULL when out of memory.  COMMAND is the
 * display form (copied).  The job takes ENV (jobenv.h; may be NULL), also
 * when this fails.
 */
struct bgj_jobenv;
struct bgjob_job *bgj_callback_job_env(const struct bgj_callback *cb, int argc, char **argv,
                                       const char *command, struct bgj_jobenv *env);
/* Same, without an environment (tests). */
struct bgjob_job *bgj_callback_job(const struct bgj_callback *cb, int argc, char **argv, const char *command);
/* The API version the plugin of callback job JOB was built for (while its callback runs). */
unsigned bgj_callback_version(const struct bgjob_job *job);
/* The environment of the callback job JOB while its callback runs (NULL if none). */
const struct bgj_jobenv *bgj_callback_env(const struct bgjob_job *job);

/* The shipped callbacks (sleep_callback.c). */
int bgj_register_shipped(void);
/* The `run` callback (run_callback.c). */
int bgj_register_run(void);

#endif
