/*
 * sleep_callback.c - the callbacks shipped inside bgjob.so.
 *
 *   sleep SECONDS [VALUE]   sleeps (fractional seconds), reporting progress;
 *                           the result is VALUE, or SECONDS as given.  Stops
 *                           at once when the job is killed.
 *
 * Runs on a worker; uses only the API table, like any plugin would.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmdline.h"
#include "registry.h"

/* Checks the arguments; 0, or non-zero with the reason in MSG. */
static int sleep_args(int argc, char **argv, double *secs, char *msg, size_t msglen)
{
    if (argc < 2 || argc > 3) {
        snprintf(msg, msglen, "sleep: wrong number of arguments");
        return 1;
    }
    if (bgj_parse_seconds(argv[1], secs) != 0) {
        snprintf(msg, msglen, "sleep: `%.100s': not a valid number of seconds", argv[1]);
        return 1;
    }
    return 0;
}

/* The argument checker `new` runs: bad arguments are a usage error, not a Dead job. */
static int sleep_check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    double secs;
    (void)payload;
    return sleep_args(argc, argv, &secs, msg, msglen);
}

/* Progress is reported about 50 times over the sleep, but at least every 0.2 s. */
static int sleep_cb(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    double secs;
    char msg[160];
    if (sleep_args(argc, argv, &secs, msg, sizeof msg) != 0)
        return bgj_api.fail(job, msg), 2;
    double step = secs / 50;
    if (step > 0.2)
        step = 0.2;
    double done = 0;
    bgj_api.progress(job, 0);
    while (done < secs) {
        double chunk = secs - done < step ? secs - done : step;
        if (bgj_api.sleep(job, chunk))
            return 1;
        done += chunk;
        bgj_api.progress(job, secs > 0 ? done / secs : 1);
    }
    bgj_api.progress(job, 1);
    bgj_api.set_result(job, argc == 3 ? argv[2] : argv[1]);
    return 0;
}

int bgj_register_shipped(void)
{
    if (bgj_api.register_callback("sleep", sleep_cb, "sleep SECONDS [VALUE]", NULL, NULL) != 0)
        return -1;
    if (bgj_api.set_check("sleep", sleep_check) != 0)
        return -1;
    return bgj_register_run(); /* run_callback.c */
}
