/*
 * run_callback.c - the shipped `run` callback: runs an external command as a
 * job (the I/O thread, proc.h, does the process work).
 *
 *   run CMD [ARG...]   the command's stdout, as $(CMD) would capture it, is
 *                      the result; a non-zero exit or a signal makes the job
 *                      Dead with the command's stderr (last 50 lines) and a
 *                      line saying how it ended as the traceback.
 *
 * CMD was looked up and checked by `bgjob new` on the main thread (the path
 * is in the job's environment); the environment, directory and umask are the
 * shell's at `new`.  Extra `show` fields: pid (while it runs), exit, signal,
 * max_rss_kb, user_s and sys_s (from the reaping call), stdout and stderr
 * (live views of the buffers while it runs; afterwards stdout is the result
 * plus the newlines $(...) drops, stored once), nul_bytes (NUL bytes dropped
 * from stdout, when any).
 *
 * run_cb runs on a worker and hands the command to the I/O thread
 * (bgj_job_go_async), so a running command holds no worker; run_done ends the
 * job on the I/O thread.  Both touch only their own job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobenv.h"
#include "jobs.h"
#include "registry.h"
#include "proc.h"
#include "spawn.h"

#define TRACE_LINES 50

static void on_start(void *ctx, pid_t pid)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    bgj_api.set_info(ctx, "pid", buf);
}

/* OUT without its NUL bytes (counted in *NULS) and trailing newlines, in place. */
static size_t as_comsub(char *out, size_t len, size_t *nuls)
{
    *nuls = 0;
    const char *first = memchr(out, 0, len);
    size_t w = first ? (size_t)(first - out) : len; /* most outputs have no NUL: nothing to move */
    for (size_t r = w; r < len; r++) {
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

static void run_done(struct bgj_proc *p, void *ctx);

/* What the I/O thread needs of a run job until it ends. */
struct run_ctx {
    bgjob_job *job;
    size_t max_output;
    char cmd[88];
    char *dir; /* the job's directory, for messages */
};

/* "cannot enter DIR: REASON" as the job's error; the status bash gives such a failure. */
static int cannot_enter(bgjob_job *job, const char *dir, int e)
{
    char m[600];
    snprintf(m, sizeof m, "cannot enter %.500s: %s", dir ? dir : "the job's directory", strerror(e));
    bgj_api.fail(job, m);
    return 1;
}

static int run_cb(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    if (argc < 2)
        return bgj_api.fail(job, "run: no command given"), 2;
    struct bgj_jobenv *env = (struct bgj_jobenv *)bgj_callback_env(job);
    int cwd_fd = bgj_jobenv_cwd_fd(env);
    if (cwd_fd < 0 && env && (env->dir || env->cwd))
        return cannot_enter(job, env->cwd, env->cwd_errno); /* never another directory */
    const char *cmd = argv[1];
    char *path = NULL;
    if (env && env->exec_path)
        path = strdup(env->exec_path);
    else {
        int found = bgj_spawn_lookup(cmd, env ? bgj_jobenv_get(env, "PATH") : NULL, cwd_fd, &path);
        if (found != 0 || !path) {
            char msg[300];
            snprintf(msg, sizeof msg, "%.200s: %s", cmd,
                     found == BGJ_ENOTFOUND ? "command not found" : "Permission denied");
            return bgj_api.fail(job, msg), bgj_lookup_status(found);
        }
    }
    struct run_ctx *rc = malloc(sizeof *rc);
    if (!path || !rc) {
        free(path);
        free(rc);
        return bgj_api.fail(job, "out of memory"), 1;
    }
    rc->job = job;
    rc->dir = env && env->cwd ? strdup(env->cwd) : NULL;
    rc->max_output = env && env->max_output ? env->max_output : BGJ_DEFAULT_MAX_OUTPUT;
    snprintf(rc->cmd, sizeof rc->cmd, "%.80s", cmd);
    bgj_api.set_info(job, "pid", "");
    bgj_api.set_info(job, "exit", "");
    bgj_api.set_info(job, "signal", "");
    struct bgj_spawn s = {
        .path = path,
        .argv = argv + 1,
        .envp = env ? env->envp : NULL,
        .cwd_fd = cwd_fd,
        .set_umask = env != NULL,
        .umask = env ? env->umask : 022,
        .fd = {-1, -1, -1},
        .max_output = rc->max_output,
        .kill_grace = env ? env->kill_grace : -1,
        .job = job,
        .on_start = on_start,
        .ctx = job,
        .live = &job->side->info, /* live views of the output, until run_done replaces them */
    };
    struct bgj_proc *p;
    struct bgj_err err = {0};
    bgj_job_go_async(job); /* before the I/O thread may end it */
    int r = bgj_proc_start(&s, run_done, rc, &p, &err);
    free(path);
    if (r != BGJ_OK) {
        bgj_api.fail(job, bgj_err_text(&err));
        bgj_err_clear(&err);
        free(rc->dir);
        free(rc);
        bgj_job_go_sync(job);
        return 1;
    }
    return 0;
}

/* Sets the job's words for a command that ran; returns the run function's status. */
static int run_outcome(bgjob_job *job, struct run_ctx *rc, struct bgj_proc *p)
{
    const struct bgj_proc_res *r = bgj_proc_res(p);
    const char *cmd = rc->cmd;
    char buf[64];
    bgj_api.set_info(job, "pid", "");
    if (r->exit_status >= 0 && !r->spawner_died)
        snprintf(buf, sizeof buf, "%d", r->exit_status);
    else
        buf[0] = 0;
    bgj_api.set_info(job, "exit", buf);
    const char *abbrev = r->term_signal ? sigabbrev_np(r->term_signal) : NULL;
    char signame[32] = "";
    if (r->term_signal && abbrev)
        snprintf(signame, sizeof signame, "SIG%s", abbrev);
    else if (r->term_signal)
        snprintf(signame, sizeof signame, "signal %d", r->term_signal);
    bgj_api.set_info(job, "signal", signame);
    snprintf(buf, sizeof buf, "%ld", r->maxrss_kb);
    bgj_api.set_info(job, "max_rss_kb", buf);
    snprintf(buf, sizeof buf, "%lld.%06lld", r->user_us / 1000000, r->user_us % 1000000);
    bgj_api.set_info(job, "user_s", buf);
    snprintf(buf, sizeof buf, "%lld.%06lld", r->sys_us / 1000000, r->sys_us % 1000000);
    bgj_api.set_info(job, "sys_s", buf);

    struct bgj_outbuf *out = bgj_proc_out(p, 0), *err = bgj_proc_out(p, 1);
    size_t nuls = 0, olen = out->len;
    char *o = out->buf ? out->buf : strdup("");
    out->buf = NULL;
    if (!o)
        return bgj_api.fail(job, "out of memory"), 1;
    /* stdout is the result plus the newlines $(...) drops: stored once */
    size_t nl = 0;
    for (size_t k = olen; k > 0 && o[k - 1] == '\n'; k--)
        nl++;
    as_comsub(o, olen, &nuls);
    char *shrunk = realloc(o, strlen(o) + 1);
    if (shrunk)
        o = shrunk;
    char *e = err->buf ? err->buf : strdup("");
    err->buf = NULL;
    bgj_info_set_owned(&job->side->info, "stderr", e ? e : strdup(""));
    if (nuls) {
        snprintf(buf, sizeof buf, "%zu", nuls);
        bgj_api.set_info(job, "nul_bytes", buf);
    }
    int why = atomic_load(&job->cancel);
    int ok = r->exit_status == 0 && !r->output_exceeded && !why && !r->spawner_died;
    if (ok) {
        free(job->result);
        job->result = o;
        bgj_info_set_ref(&job->side->info, "stdout", &job->result, (unsigned)nl);
        return 0;
    }
    bgj_info_set_owned(&job->side->info, "stdout", o);
    char how[400];
    if (r->spawner_died)
        snprintf(how, sizeof how, "%s: %s", cmd, r->msg);
    else if (r->output_exceeded)
        snprintf(how, sizeof how, "%s: output passed BGJOB_MAX_OUTPUT (%zu bytes); killed", cmd,
                 rc->max_output);
    else if (why == BGJ_CANCEL_TIMEOUT)
        snprintf(how, sizeof how, "%s: timed out after %g seconds", cmd, bgj_job_timeout(job));
    else if (r->term_signal && why == BGJ_CANCEL_KILL)
        snprintf(how, sizeof how, "%s: killed by bgjob kill (%s)", cmd, signame);
    else if (why == BGJ_CANCEL_HALT)
        snprintf(how, sizeof how, "%s: halted: group %.64s stopped its jobs (%s)", cmd,
                 bgj_group_name(bgj_group_of(job)), r->term_signal ? signame : "it exited");
    else if (r->term_signal)
        snprintf(how, sizeof how, "%s: killed by signal %s", cmd, signame);
    else if (why)
        snprintf(how, sizeof how, "%s: exited with status %d after %s", cmd, r->exit_status,
                 why == BGJ_CANCEL_EXIT ? "the shell's exit began" : "bgjob kill");
    else
        snprintf(how, sizeof how, "%s: exited with status %d", cmd, r->exit_status);
    char *es = bgj_info_get(&job->side->info, "stderr");
    const char *tail = es ? tail_lines(es, strlen(es)) : "";
    size_t tlen = strlen(tail);
    char *msg = malloc(tlen + strlen(how) + 2);
    if (msg) {
        memcpy(msg, tail, tlen);
        char *q = msg + tlen;
        if (tlen && tail[tlen - 1] != '\n')
            *q++ = '\n';
        strcpy(q, how);
    }
    bgj_api.fail(job, msg ? msg : how);
    free(msg);
    free(es);
    return r->exit_status > 0 ? r->exit_status : 1;
}

/* The I/O thread: the command ended (or never started). */
static void run_done(struct bgj_proc *p, void *ctx)
{
    struct run_ctx *rc = ctx;
    bgjob_job *job = rc->job;
    const struct bgj_proc_res *r = bgj_proc_res(p);
    int status;
    if (!r->started) {
        char m[300];
        int e = r->start_errno;
        if (r->chdir_failed)
            snprintf(m, sizeof m, "cannot enter %.200s: %s", rc->dir ? rc->dir : "the job's directory",
                     strerror(e));
        else if (e == ECANCELED)
            snprintf(m, sizeof m, "%s: %s", rc->cmd, r->msg);
        else if (e == ENOENT || e == EACCES || e == ENOEXEC || e == EISDIR || e == ENOTDIR)
            snprintf(m, sizeof m, "%s: %s", rc->cmd, strerror(e));
        else
            snprintf(m, sizeof m, "%s: %s", rc->cmd, r->msg);
        bgj_info_set(&job->side->info, "stdout", "");
        bgj_info_set(&job->side->info, "stderr", "");
        if (e != ECANCELED || !atomic_load(&job->cancel))
            bgj_api.fail(job, m);
        status = r->chdir_failed ? 1 : e == ENOENT ? 127 : 126;
    } else
        status = run_outcome(job, rc, p);
    free(rc->dir);
    free(rc);
    bgj_proc_free(p);
    bgj_job_finish(job, status);
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
