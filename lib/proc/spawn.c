/*
 * spawn.c - running a program and waiting for it: bgj_spawn_run (a blocking
 * wrapper around proc.h, for api->spawn and tests) and api->spawn itself,
 * with the job's environment, directory and limits as defaults and the
 * plugin's own sizes of the request and result.
 *
 * Locking: a waiter's mutex and condition pair it with the I/O thread's
 * DONE, for one command; nothing shared.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobenv.h"
#include "jobs.h"
#include "registry.h"

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int done;
};

static void waiter_done(struct bgj_proc *p, void *ctx)
{
    (void)p;
    struct waiter *w = ctx;
    pthread_mutex_lock(&w->m);
    w->done = 1;
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
}

/* Moves B's bytes into a NUL-terminated string (never NULL unless out of memory). */
static char *take(struct bgj_outbuf *b, size_t *len)
{
    char *s = b->buf ? b->buf : strdup("");
    *len = b->buf ? b->len : 0;
    b->buf = NULL;
    b->len = b->cap = 0;
    return s;
}

int bgj_spawn_run(const struct bgj_spawn *s, struct bgjob_spawn_res *res, struct bgj_err *err)
{
    memset(res, 0, sizeof *res);
    res->exit_status = -1;
    struct waiter w = {.done = 0};
    pthread_mutex_init(&w.m, NULL);
    pthread_cond_init(&w.c, NULL);
    struct bgj_proc *p;
    int rc = bgj_proc_start(s, waiter_done, &w, &p, err);
    if (rc == BGJ_OK) {
        pthread_mutex_lock(&w.m);
        while (!w.done)
            pthread_cond_wait(&w.c, &w.m);
        pthread_mutex_unlock(&w.m);
    }
    pthread_cond_destroy(&w.c);
    pthread_mutex_destroy(&w.m);
    if (rc != BGJ_OK)
        return rc;
    const struct bgj_proc_res *r = bgj_proc_res(p);
    res->cancelled = r->cancelled;
    if (!r->started) {
        int e = r->start_errno;
        if (e == ECANCELED)
            rc = bgj_err_set(err, BGJ_ECANCELLED, "%s: %s", s->argv[0], r->msg);
        else if (e == ENOENT || e == EACCES || e == ENOEXEC || e == EISDIR || e == ENOTDIR) {
            res->exit_status = e == ENOENT ? 127 : 126;
            rc = bgj_err_set(err, BGJ_ESPAWN, "%s: %s", s->argv[0], strerror(e));
        } else
            rc = bgj_err_set(err, BGJ_ESYS, "%s: %s%s%s", s->argv[0],
                             strncmp(r->msg, "cannot start", 12) ? "cannot start: " : "", r->msg,
                             r->msg[0] ? "" : strerror(e));
        bgj_proc_free(p);
        return rc;
    }
    res->exit_status = r->exit_status;
    res->term_signal = r->term_signal;
    res->output_exceeded = r->output_exceeded;
    res->size = sizeof *res;
    res->max_rss_kb = r->maxrss_kb;
    res->user_s = (double)r->user_us / 1e6;
    res->sys_s = (double)r->sys_us / 1e6;
    if (r->spawner_died)
        rc = bgj_err_set(err, BGJ_ESYS, "%s: %s", s->argv[0], r->msg);
    res->out = take(bgj_proc_out(p, 0), &res->out_len);
    res->err = take(bgj_proc_out(p, 1), &res->err_len);
    bgj_proc_free(p);
    if (!res->out || !res->err) {
        bgj_spawn_free(res);
        return bgj_err_set(err, BGJ_ENOMEM, NULL);
    }
    return rc;
}

void bgj_spawn_free(struct bgjob_spawn_res *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
    res->out_len = res->err_len = 0;
}

/* ---- api->spawn ---- */

/* The part of the request and result a plugin of VERSION knows, in bytes. */
#define REQ_V2 offsetof(struct bgjob_spawn_req, size)
#define RES_V2 offsetof(struct bgjob_spawn_res, size)

int bgj_spawn_job(bgjob_job *job, unsigned version, const struct bgjob_spawn_req *ureq,
                  struct bgjob_spawn_res *ures, char *msg, size_t msglen)
{
    /* copy in what the plugin's struct has; what it lacks stays zero */
    struct bgjob_spawn_req req;
    memset(&req, 0, sizeof req);
    size_t rq = version >= 3 && ureq && ureq->size >= REQ_V2 ? ureq->size : REQ_V2;
    if (ureq)
        memcpy(&req, ureq, rq < sizeof req ? rq : sizeof req);
    size_t rs = version >= 3 && ures->size >= RES_V2 ? ures->size : RES_V2;
    struct bgjob_spawn_res res;
    memset(&res, 0, sizeof res);
    res.exit_status = -1;
    int ret = -1;
    if (!ureq || !req.argv || !req.argv[0] || !req.argv[0][0]) {
        snprintf(msg, msglen, "spawn: no program given");
        goto out;
    }
    const struct bgj_jobenv *env = job ? bgj_callback_env(job) : NULL;
    char *const *envp = req.envp ? (char *const *)req.envp : env ? env->envp : NULL;
    const char *path_var = NULL;
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            path_var = envp[i] + 5;
    int cwd_fd = bgj_jobenv_cwd_fd((struct bgj_jobenv *)env), own_cwd = -1;
    if (req.cwd) {
        own_cwd = openat(cwd_fd >= 0 ? cwd_fd : AT_FDCWD, req.cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (own_cwd < 0) {
            snprintf(msg, msglen, "%s: %s", req.cwd, strerror(errno));
            goto out;
        }
        cwd_fd = own_cwd;
    }
    const char *name = req.argv[0];
    char *path = NULL;
    int found = bgj_spawn_lookup(name, path_var, cwd_fd, &path);
    if (found != 0) {
        if (found == BGJ_ENOTFOUND)
            snprintf(msg, msglen, "%s: %s", name,
                     strchr(name, '/') ? "No such file or directory" : "command not found");
        else if (found == BGJ_ENOEXEC)
            snprintf(msg, msglen, "%s: Permission denied", name);
        else
            snprintf(msg, msglen, "%s: out of memory", name);
        res.exit_status = found == BGJ_ENOMEM ? -1 : bgj_lookup_status(found);
        if (own_cwd >= 0)
            close(own_cwd);
        goto out;
    }
    struct bgj_spawn s = {
        .path = path,
        .argv = (char *const *)req.argv,
        .envp = envp,
        .cwd_fd = cwd_fd,
        .set_umask = env != NULL,
        .umask = env ? env->umask : 022,
        .fd = {req.stdin_fd - 1, req.stdout_fd - 1, req.stderr_fd - 1},
        .max_output = req.max_output ? req.max_output
                      : env          ? env->max_output
                                     : 0,
        .kill_grace = env ? env->kill_grace : -1,
        .job = job,
    };
    struct bgj_err err = {0};
    int rc = bgj_spawn_run(&s, &res, &err);
    free(path);
    if (own_cwd >= 0)
        close(own_cwd);
    if (rc != BGJ_OK) {
        snprintf(msg, msglen, "%s", bgj_err_text(&err));
        bgj_err_clear(&err);
        bgj_spawn_free(&res);
        goto out;
    }
    ret = 0;
out:
    if (rs >= RES_V2 + sizeof(size_t))
        res.size = rs; /* the plugin's own size, as it set it */
    memcpy(ures, &res, rs < sizeof res ? rs : sizeof res);
    return ret;
}
