/*
 * slurm.c - the `slurm` bgjob plugin: commands as Slurm job steps, through
 * Slurm's own command-line clients (srun, squeue, scancel) found in PATH.
 *
 *   bgjob load slurm
 *   bgjob new [-t SECONDS] -f srun [SRUN-OPTION...] -- CMD [ARG...]
 *
 * CMD runs through `srun', started with api->spawn (never a child of the
 * shell).  Inside an allocation (SLURM_JOB_ID set, under salloc or sbatch)
 * srun gets `--exact -n1 -c1' unless the options say otherwise (-n/-N,
 * -c, --exact/--overlap/--exclusive/--whole), so each job is one step on
 * one CPU; outside one, srun makes its own allocation.  `new -t' is also
 * passed as Slurm's time limit (--time, rounded up by Slurm to a minute).
 *
 * As for `run': the result is CMD's stdout; a non-zero exit, a signal,
 * kill, a timeout or Slurm's cancellation makes the job Dead with srun's
 * stderr (srun's verbose lines, which the plugin asks for to learn the job
 * and step, left out unless the user gave -v) and a line saying how it ended
 * as the traceback; `show' has exit and signal (so `bgjob wait' returns
 * the command's status), slurm_job, slurm_step, nodes, slurm_state and
 * slurm_reason.  kill and timeouts cancel in Slurm (scancel of the step
 * inside an allocation, of the job outside) as well as signalling srun.
 * While Slurm keeps the job pending, bgjob shows it Queued with Slurm's
 * reason (watch.c, the one watcher thread for all jobs).  A job of its own
 * (outside an allocation) that Slurm ended although srun exited 0 (srun does
 * when its node fails) is Dead with `scontrol show job''s state and reason.
 *
 * Each call owns its record (slurm_int.h); the watcher shares it under its
 * lock while srun runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurm_int.h"

BGJOB_PLUGIN_VERSION;

const struct bgjob_api *api;

#define USAGE "srun [SRUN-OPTION...] -- CMD [ARG...]  (CMD as a Slurm job step through srun)"

/* ---- arguments ---- */

/* The index of the first word of CMD in ARGV (after a `--', or the first word when none starts with
   '-'); 0 with a message in MSG when there is none. */
static int command_start(int argc, char **argv, char *msg, size_t msglen)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            if (i + 1 < argc)
                return i + 1;
            snprintf(msg, msglen, "srun: no command after --");
            return 0;
        }
    if (argc > 1 && argv[1][0] != '-')
        return 1;
    snprintf(msg, msglen,
             argc > 1 ? "srun: put -- between srun's options and the command" : "srun: no command given");
    return 0;
}

static int check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    (void)payload;
    return command_start(argc, argv, msg, msglen) ? 0 : 1;
}

/* True when one of the options ARGV[1..END) is one of the short options SHORT (letters) or starts with
   one of the long ones LONGS (NULL-terminated, "--name"). */
static int has_opt(char **argv, int end, const char *shorts, const char *const *longs)
{
    for (int i = 1; i < end; i++) {
        const char *w = argv[i];
        if (w[0] == '-' && w[1] != '-' && w[1] && strchr(shorts, w[1]))
            return 1;
        for (size_t k = 0; longs[k]; k++) {
            size_t n = strlen(longs[k]);
            if (strncmp(w, longs[k], n) == 0 && (w[n] == 0 || w[n] == '='))
                return 1;
        }
    }
    return 0;
}

/* ---- how it ended ---- */

/* S without NUL bytes and trailing newlines, as $(...) gives it (in place). */
static void as_comsub(char *s, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len; r++)
        if (s[r])
            s[w++] = s[r];
    while (w > 0 && s[w - 1] == '\n')
        w--;
    s[w] = 0;
}

/* "SIGTERM" for 15 (or "signal N"). */
static void signame(int sig, char *out, size_t len)
{
    const char *a = sigabbrev_np(sig);
    if (a)
        snprintf(out, len, "SIG%s", a);
    else
        snprintf(out, len, "signal %d", sig);
}

/* After srun: a job that Slurm ended (its node failed, it was preempted, ...) while srun itself
   saw nothing wrong (srun exits 0 when its node goes down) is Dead with Slurm's state and reason,
   from `scontrol show job' (kept for MinJobAge after the end; no accounting needed).  Only for a
   job of its own: a step's allocation ending ends the shell's srun too. */
static void final_state(struct sjob *s)
{
    char id[32];
    snprintf(id, sizeof id, "%ld", s->jobid);
    const char *argv[] = {"scontrol", "-o", "show", "job", id, NULL};
    char *out = NULL;
    if (sw_client(argv, s->envp, &out) == 0 && out) {
        char state[32] = "", reason[64] = "";
        const char *p = strstr(out, "JobState="), *r = strstr(out, " Reason=");
        if (p)
            sscanf(p, "JobState=%31s", state);
        if (r)
            sscanf(r, " Reason=%63s", reason);
        static const char *const bad[] = {"NODE_FAIL", "CANCELLED", "TIMEOUT",      "PREEMPTED",
                                          "BOOT_FAIL", "DEADLINE",  "OUT_OF_MEMORY"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            if (strcmp(state, bad[i]) == 0) {
                if (!s->slurm_killed) /* else srun's "*** ... ***" line says it already */
                    snprintf(s->reason, sizeof s->reason, "job %ld %s (%s)", s->jobid, state, reason);
                s->slurm_killed = 1;
                snprintf(s->end_state, sizeof s->end_state, "%s", state);
                api->set_info(s->job, "slurm_reason", reason);
            }
    }
    free(out);
}

/* Ends the job: result or traceback, exit and signal; returns the callback's status. */
static int outcome(struct sjob *s, const char *cmd, struct bgjob_spawn_res *res)
{
    char buf[64] = "", sig[32] = "";
    int why = api->cancelled(s->job);
    int code = res->exit_status;
    if (!why && !s->in_alloc && s->jobid > 0)
        final_state(s);
    /* srun gives 128+N when a task died of signal N, and says which task */
    if (code > 128 && s->err.s && strstr(s->err.s, ": task ") && !strstr(s->err.s, "Exited with exit code")) {
        signame(code - 128, sig, sizeof sig);
    } else if (res->term_signal)
        signame(res->term_signal, sig, sizeof sig);
    else if (code >= 0)
        snprintf(buf, sizeof buf, "%d", code);
    if (why)
        snprintf(sig, sizeof sig, "SIGTERM"); /* as a killed `run' job: 143 from wait */
    api->set_info(s->job, "exit", sig[0] ? "" : buf);
    api->set_info(s->job, "signal", sig);
    api->set_info(s->job, "stderr", s->err.s ? s->err.s : "");
    api->set_queued(s->job, 0);
    char *o = res->out ? res->out : (char *)"";
    as_comsub(o, res->out ? res->out_len : 0);
    if (code == 0 && !why && !s->slurm_killed && !res->output_exceeded && !res->term_signal) {
        api->set_info(s->job, "slurm_state", "COMPLETED");
        return api->set_result(s->job, o) ? 1 : 0;
    }
    api->set_info(s->job, "stdout", o);
    char how[400];
    char target[48] = "";
    if (s->scancelled > 0)
        snprintf(target, sizeof target, s->in_alloc ? " (scancel %ld.%ld)" : " (scancel %ld)", s->jobid,
                 s->stepid);
    if (why == 2)
        snprintf(how, sizeof how, "%s: timed out after %g seconds%s", cmd, api->timeout(s->job), target);
    else if (why == 1)
        snprintf(how, sizeof how, "%s: killed by bgjob kill%s", cmd, target);
    else if (why)
        snprintf(how, sizeof how, "%s: cancelled as the shell exits%s", cmd, target);
    else if (s->slurm_killed)
        snprintf(how, sizeof how, "%s: ended by Slurm: %s", cmd, s->reason);
    else if (res->output_exceeded)
        snprintf(how, sizeof how, "%s: output passed BGJOB_MAX_OUTPUT; killed", cmd);
    else if (sig[0])
        snprintf(how, sizeof how, "%s: killed by signal %s", cmd, sig);
    else
        snprintf(how, sizeof how, "%s: exited with status %d", cmd, code);
    api->set_info(s->job, "slurm_state",
                  s->end_state[0]          ? s->end_state
                  : why || s->slurm_killed ? "CANCELLED"
                                           : "FAILED");
    struct pu_buf t = {0};
    if (s->err.s)
        pu_puts(&t, s->err.s);
    pu_puts(&t, how);
    api->fail(s->job, t.s ? t.s : how);
    free(t.s);
    return code > 0 ? code : 1;
}

/* ---- the callback ---- */

static char **client_env(bgjob_job *job)
{
    static const char *const keep[] = {"PATH", "SLURM_CONF", "HOME", "USER", "LANG", NULL};
    char **e = calloc(sizeof keep / sizeof *keep, sizeof *e);
    size_t n = 0;
    for (size_t i = 0; e && keep[i]; i++) {
        const char *v = api->getenv(job, keep[i]);
        if (v && asprintf(&e[n], "%s=%s", keep[i], v) >= 0)
            n++;
    }
    return e;
}

/* True when NAME is an executable file in one of the directories of PATH (the job's). */
static int in_path(const char *name, const char *path)
{
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char f[4096];
        snprintf(f, sizeof f, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", name);
        if (access(f, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int srun_cb(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    char msg[512];
    int first = command_start(argc, argv, msg, sizeof msg);
    if (!first)
        return api->fail(job, msg), 2;
    int nopt = first > 1 && strcmp(argv[first - 1], "--") == 0 ? first - 1 : first;
    /* srun -v [--exact -n1 -c1] [--time=M:SS] OPTIONS... CMD ARGS... */
    if (!in_path("srun", api->getenv(job, "PATH"))) {
        api->set_info(job, "exit", "127");
        return api->fail(job, "srun: command not found (Slurm's clients: the slurm-client package)"), 127;
    }
    const char **av = calloc((size_t)argc + 12, sizeof *av);
    struct sjob *s = calloc(1, sizeof *s);
    int pfd[2] = {-1, -1};
    if (!av || !s || pipe2(pfd, O_CLOEXEC) != 0) {
        free(av);
        free(s);
        return api->fail(job, "srun: cannot start: out of memory or descriptors"), 1;
    }
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    s->job = job;
    s->err_fd = pfd[0];
    s->cancel_fd = api->cancel_fd(job);
    s->stepid = -1;
    s->envp = client_env(job);
    s->in_alloc = api->getenv(job, "SLURM_JOB_ID") != NULL;
    s->verbose = has_opt(argv, nopt, "v", (const char *const[]){"--verbose", NULL});
    static const char *const l_n[] = {"--ntasks", "--nodes", NULL}, *const l_c[] = {"--cpus-per-task", NULL},
                             *const l_x[] = {"--exact", "--overlap", "--exclusive", "--whole", NULL};
    size_t k = 0;
    char tbuf[48];
    /* srun runs in a session of its own, so that bgjob's SIGTERM to the job's process group
       leaves it alone: a kill is an scancel, which Slurm records as CANCELLED (srun's own
       handling of SIGTERM ends the job FAILED); the watcher signals srun itself when there is
       nothing to scancel yet.  The shell in front ignores SIGTERM (from its first command on)
       and waits for srun, which gets the default dispositions back. */
    av[k++] = "sh";
    av[k++] = "-c";
    av[k++] = "trap '' TERM INT HUP; (trap - TERM INT HUP; exec setsid \"$0\" \"$@\") & "
              "echo \"bgjob-srun-pid $!\" >&2; wait $!";
    av[k++] = "srun";
    av[k++] = "-v";
    if (s->in_alloc) {
        if (!has_opt(argv, nopt, "", l_x))
            av[k++] = "--exact";
        if (!has_opt(argv, nopt, "nN", l_n))
            av[k++] = "-n1";
        if (!has_opt(argv, nopt, "c", l_c))
            av[k++] = "-c1";
    }
    double tmo = api->timeout(job);
    if (tmo > 0) {
        double sec = ceil(tmo);
        snprintf(tbuf, sizeof tbuf, "--time=%.0f:%02.0f", floor(sec / 60), fmod(sec, 60));
        av[k++] = tbuf;
    }
    for (int i = 1; i < nopt; i++)
        av[k++] = argv[i];
    for (int i = first; i < argc; i++)
        av[k++] = argv[i];
    av[k] = NULL;
    api->set_info(job, "slurm_job", s->in_alloc ? api->getenv(job, "SLURM_JOB_ID") : "");
    api->set_info(job, "slurm_step", "");
    api->set_info(job, "nodes", "");
    api->set_info(job, "slurm_state", "");
    api->set_info(job, "slurm_reason", "");
    if (s->in_alloc)
        s->jobid = atol(api->getenv(job, "SLURM_JOB_ID"));

    struct bgjob_spawn_res res = {.size = sizeof res};
    int rc;
    if (sw_add(s) != 0) {
        snprintf(msg, sizeof msg, "srun: cannot start the watcher: %s", strerror(errno));
        rc = -1;
    } else {
        struct bgjob_spawn_req req = {.argv = av, .stderr_fd = BGJOB_SPAWN_FD(pfd[1]), .size = sizeof req};
        rc = api->spawn(job, &req, &res, msg, sizeof msg);
        close(pfd[1]);
        pfd[1] = -1;
        sw_remove(s);
    }
    if (pfd[1] >= 0)
        close(pfd[1]);
    sj_feed_end(s);
    int status;
    if (rc != 0) {
        char e[16] = "";
        if (res.exit_status >= 0)
            snprintf(e, sizeof e, "%d", res.exit_status);
        api->set_info(job, "exit", e);
        if (api->cancelled(job))
            snprintf(msg, sizeof msg, "%s: %s before srun started", argv[first],
                     api->cancelled(job) == 2 ? "timed out" : "cancelled");
        api->fail(job, msg);
        status = res.exit_status > 0 ? res.exit_status : 1;
    } else
        status = outcome(s, argv[first], &res);
    api->spawn_free(&res);
    close(pfd[0]);
    free_strv(s->envp);
    free(s->err.s);
    free(s->line.s);
    free(s);
    free(av);
    return status;
}

BGJOB_EXPORT int bgjob_plugin_init(const struct bgjob_api *table)
{
    if (pu_init(&api, table, "slurm"))
        return 1;
    if (table->version < 4) {
        fprintf(stderr, "slurm: needs bgjob plugin API version 4 or later\n");
        return 1;
    }
    return pu_register(api, "srun", srun_cb, USAGE, check);
}
