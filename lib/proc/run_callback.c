/*
 * run_callback.c - the shipped `run` callback: runs an external command as a
 * job (spawn.c does the process work).
 *
 *   run CMD [ARG...]   the command's stdout, as $(CMD) would capture it, is
 *                      the result; a non-zero exit or a signal makes the job
 *                      Dead with the command's stderr (last 50 lines) and a
 *                      line saying how it ended as the traceback.
 *
 * CMD was looked up and checked by `bgjob new` on the main thread (the path
 * is in the job's environment); the environment, directory and umask are the
 * shell's at `new`.  Extra `show` fields: pid (while it runs), exit, signal,
 * stdout and stderr (partial while it runs, published at most every 100 ms),
 * nul_bytes (NUL bytes dropped from stdout, when any).
 *
 * Runs on a worker; touches only its own job.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobenv.h"
#include "jobs.h"
#include "registry.h"
#include "spawn.h"

#define TRACE_LINES 50

static void on_start(void *ctx, pid_t pid)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    bgj_api.set_info(ctx, "pid", buf);
}

static void on_output(void *ctx, const char *out, size_t out_len, const char *err, size_t err_len)
{
    (void)out_len;
    (void)err_len;
    bgj_api.set_info(ctx, "stdout", out);
    bgj_api.set_info(ctx, "stderr", err);
}

/* OUT without its NUL bytes (counted in *NULS) and trailing newlines, in place. */
static size_t as_comsub(char *out, size_t len, size_t *nuls)
{
    size_t w = 0;
    *nuls = 0;
    for (size_t r = 0; r < len; r++) {
        if (out[r])
            out[w++] = out[r];
        else
            ++*nuls;
    }
    while (w > 0 && out[w - 1] == '\n')
        w--;
    out[w] = 0;
    return w;
}

/* The last TRACE_LINES lines of ERR (NUL bytes end it early: it is shown as text). */
static const char *tail_lines(const char *err, size_t len)
{
    len = strlen(err) < len ? strlen(err) : len;
    size_t end = len;
    if (end > 0 && err[end - 1] == '\n')
        end--;
    int n = 0;
    for (size_t i = end; i > 0; i--)
        if (err[i - 1] == '\n' && ++n == TRACE_LINES)
            return err + i;
    return err;
}

static int run_cb(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    if (argc < 2)
        return bgj_api.fail(job, "run: no command given"), 2;
    bgj_spawn_thread_setup(NULL, 0); /* before the first descriptor this job opens */
    struct bgj_jobenv *env = (struct bgj_jobenv *)bgj_callback_env(job);
    int cwd_fd = bgj_jobenv_cwd_fd(env);
    const char *cmd = argv[1];
    char *path = NULL;
    if (env && env->exec_path)
        path = strdup(env->exec_path);
    else {
        int found = bgj_spawn_lookup(cmd, env ? bgj_jobenv_get(env, "PATH") : NULL, cwd_fd, &path);
        if (found != 0 || !path) {
            char msg[300];
            snprintf(msg, sizeof msg, "%.200s: %s", cmd,
                     found == 127 ? "command not found" : "Permission denied");
            return bgj_api.fail(job, msg), found == 127 ? 127 : 126;
        }
    }
    if (!path)
        return bgj_api.fail(job, "out of memory"), 1;
    bgj_api.set_info(job, "pid", "");
    bgj_api.set_info(job, "exit", "");
    bgj_api.set_info(job, "signal", "");
    bgj_api.set_info(job, "stdout", "");
    bgj_api.set_info(job, "stderr", "");
    struct bgj_spawn s = {
        .path = path,
        .argv = argv + 1,
        .envp = env ? env->envp : NULL,
        .cwd_fd = cwd_fd,
        .set_umask = env != NULL,
        .umask = env ? env->umask : 022,
        .fd = {-1, -1, -1},
        .max_output = env ? env->max_output : 0,
        .kill_grace = env ? env->kill_grace : -1,
        .job = job,
        .on_start = on_start,
        .on_output = on_output,
        .ctx = job,
    };
    struct bgjob_spawn_res res;
    struct bgj_err err = {0};
    int rc = bgj_spawn_run(&s, &res, &err);
    free(path);
    if (rc != BGJ_OK) {
        bgj_api.fail(job, bgj_err_text(&err));
        bgj_err_clear(&err);
        return res.exit_status > 0 ? res.exit_status : 1;
    }
    char buf[64];
    bgj_api.set_info(job, "pid", "");
    if (res.exit_status >= 0)
        snprintf(buf, sizeof buf, "%d", res.exit_status);
    else
        buf[0] = 0;
    bgj_api.set_info(job, "exit", buf);
    const char *abbrev = res.term_signal ? sigabbrev_np(res.term_signal) : NULL;
    char signame[32] = "";
    if (res.term_signal && abbrev)
        snprintf(signame, sizeof signame, "SIG%s", abbrev);
    else if (res.term_signal)
        snprintf(signame, sizeof signame, "signal %d", res.term_signal);
    bgj_api.set_info(job, "signal", signame);
    size_t nuls;
    size_t n = as_comsub(res.out, res.out_len, &nuls);
    (void)n;
    bgj_api.set_info(job, "stdout", res.out);
    bgj_api.set_info(job, "stderr", res.err);
    if (nuls) {
        snprintf(buf, sizeof buf, "%zu", nuls);
        bgj_api.set_info(job, "nul_bytes", buf);
    }
    int why = atomic_load(&job->cancel);
    if (res.exit_status == 0 && !res.output_exceeded && !why) {
        int ok = bgj_api.set_result(job, res.out);
        bgj_spawn_free(&res);
        return ok == 0 ? 0 : (bgj_api.fail(job, "out of memory"), 1);
    }
    char how[200];
    if (res.output_exceeded)
        snprintf(how, sizeof how, "%.80s: output passed BGJOB_MAX_OUTPUT (%zu bytes); killed", cmd,
                 env && env->max_output ? env->max_output : BGJ_DEFAULT_MAX_OUTPUT);
    else if (why == BGJ_CANCEL_TIMEOUT)
        snprintf(how, sizeof how, "%.80s: timed out after %g seconds", cmd, bgj_job_timeout(job));
    else if (res.term_signal)
        snprintf(how, sizeof how, "%.80s: killed by signal %s", cmd, signame);
    else if (why)
        snprintf(how, sizeof how, "%.80s: exited with status %d after %s", cmd, res.exit_status,
                 why == BGJ_CANCEL_EXIT ? "the shell's exit began" : "bgjob kill");
    else
        snprintf(how, sizeof how, "%.80s: exited with status %d", cmd, res.exit_status);
    const char *tail = tail_lines(res.err, res.err_len);
    size_t tlen = strlen(tail);
    char *msg = malloc(tlen + strlen(how) + 2);
    if (msg) {
        memcpy(msg, tail, tlen);
        char *p = msg + tlen;
        if (tlen && tail[tlen - 1] != '\n')
            *p++ = '\n';
        strcpy(p, how);
    }
    bgj_api.fail(job, msg ? msg : how);
    free(msg);
    bgj_spawn_free(&res);
    return res.exit_status > 0 ? res.exit_status : 1;
}

/* Every word after `run` is the command's: only "no command" is a usage error. */
static int run_check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    (void)argv;
    (void)payload;
    if (argc < 2) {
        snprintf(msg, msglen, "run: no command given");
        return 1;
    }
    return 0;
}

int bgj_register_run(void)
{
    if (bgj_api.register_callback("run", run_cb, "run CMD [ARG...]", NULL, NULL) != 0)
        return -1;
    return bgj_api.set_check("run", run_check);
}
