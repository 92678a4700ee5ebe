/*
 * watch.c - the slurm plugin's one watcher thread, for all the srun jobs of
 * the process: it reads what each srun says on stderr (the job and step
 * numbers, the nodes, "queued and waiting", "step creation temporarily
 * disabled", Slurm's cancellation notices) and turns it into the job's
 * fields and its Queued/Running display; it runs scancel for a job whose
 * cancel descriptor fires (kill, timeout, exit); and while some job is
 * pending in Slurm's queue, and only then, it asks `squeue --json` at most
 * every POLL_S seconds for Slurm's reason.  Otherwise it sleeps in poll()
 * until a pipe, a cancel descriptor or its wake descriptor has something.
 *
 * Locking: one mutex (sw_lock) over the list and the fields of every
 * registered record.  The thread never runs a program with the lock held:
 * it copies what scancel and squeue need, unlocks, runs them, and finds the
 * records again by serial number.  A callback unregisters its record
 * (sw_remove) before it reads or frees it alone.  The thread is started on
 * the first job, with every signal blocked, and again in a forked child
 * that starts a job (pthread_atfork resets the list there).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "slurm_int.h"

#define POLL_S  2.0               /* squeue at most this often, only while a job is pending */
#define ERR_CAP (4 * 1024 * 1024) /* srun's stderr kept for the traceback, at most (lines past it dropped) */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct sjob *list;
static unsigned long next_serial = 1;
static int wake_fd = -1;
static int running; /* the thread exists in this process */

void sw_lock(void) { pthread_mutex_lock(&mu); }
void sw_unlock(void) { pthread_mutex_unlock(&mu); }

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void wake(void)
{
    uint64_t one = 1;
    ssize_t w = write(wake_fd, &one, sizeof one);
    (void)w;
}

/* ---- what srun says ---- */

/* Copies the text after PREFIX in LINE up to a character of STOP into OUT. */
static void copy_until(char *out, size_t len, const char *from, const char *stop)
{
    size_t n = strcspn(from, stop);
    if (n >= len)
        n = len - 1;
    memcpy(out, from, n);
    out[n] = 0;
}

static void add_node(struct sjob *s, const char *host)
{
    char h[128];
    copy_until(h, sizeof h, host, ", \n");
    size_t hl = strlen(h);
    for (const char *p = s->nodes; (p = strstr(p, h)); p += hl)
        if ((p == s->nodes || p[-1] == ',') && (p[hl] == 0 || p[hl] == ','))
            return;
    if (strlen(s->nodes) + hl + 2 > sizeof s->nodes)
        return;
    if (s->nodes[0])
        strcat(s->nodes, ",");
    strcat(s->nodes, h);
}

static void set_num(struct sjob *s, const char *key, long v)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", v);
    api->set_info(s->job, key, b);
}

static void set_pending(struct sjob *s, int how, const char *reason)
{
    s->pending = how;
    snprintf(s->reason, sizeof s->reason, "%s", reason);
    api->set_info(s->job, "slurm_state", how ? "PENDING" : "RUNNING");
    api->set_info(s->job, "slurm_reason", s->reason);
    api->set_queued(s->job, how != 0);
}

/* One complete line of srun's stderr (no newline).  Returns 1 to keep it in the traceback. */
static int parse_line(struct sjob *s, const char *l)
{
    const char *p;
    long a, b;
    if (strstr(l, "***") && (strstr(l, "CANCELLED") || strstr(l, "FAILED"))) {
        /* slurmstepd: error: *** STEP 5.0 ON vm CANCELLED AT ... DUE TO ... *** */
        const char *st = strstr(l, "***") + 3;
        while (*st == ' ')
            st++;
        copy_until(s->reason, sizeof s->reason, st, "*");
        size_t n = strlen(s->reason);
        while (n && s->reason[n - 1] == ' ')
            s->reason[--n] = 0;
        s->slurm_killed = 1;
        return 1;
    }
    if (sscanf(l, "bgjob-srun-pid %ld", &a) == 1 && !s->srun_pid) {
        s->srun_pid = (int)a; /* the wrapper's line (slurm.c) */
        return 0;
    }
    if (strncmp(l, "srun: ", 6) != 0)
        return 1;
    p = l + 6;
    if (sscanf(p, "jobid %ld:", &a) == 1) {
        s->jobid = a;
        set_num(s, "slurm_job", a);
        const char *q = strstr(p, "nodes(");
        if (q && (q = strchr(q, '`')) && !s->nodes[0]) {
            copy_until(s->nodes, sizeof s->nodes, q + 1, "'");
            api->set_info(s->job, "nodes", s->nodes);
        }
    } else if (sscanf(p, "launching StepId=%ld.%ld", &a, &b) == 2) {
        s->jobid = a;
        s->stepid = b;
        set_num(s, "slurm_job", a);
        set_num(s, "slurm_step", b);
        const char *q = strstr(p, " on host ");
        if (q) {
            if (!s->step_nodes) /* the step's own hosts replace the allocation's */
                s->nodes[0] = 0;
            s->step_nodes = 1;
            add_node(s, q + 9);
            api->set_info(s->job, "nodes", s->nodes);
        }
    } else if (sscanf(p, "job %ld queued and waiting for resources", &a) == 1) {
        s->jobid = a;
        set_num(s, "slurm_job", a);
        set_pending(s, 1, "");
        wake();
        return 1;
    } else if (sscanf(p, "job %ld has been allocated resources", &a) == 1) {
        set_pending(s, 0, "");
        return 1;
    } else if (sscanf(p, "Job %ld step creation temporarily disabled", &a) == 1) {
        char r[128] = "";
        const char *q = strrchr(p, '(');
        if (q)
            copy_until(r, sizeof r, q + 1, ")");
        set_pending(s, 2, r);
        return 1;
    } else if (sscanf(p, "Step created for job %ld", &a) == 1 ||
               sscanf(p, "Step created for StepId=%ld", &a) == 1) {
        set_pending(s, 0, "");
        return 1;
    } else if (strstr(p, "has been revoked")) {
        if (!s->reason[0] || s->pending)
            snprintf(s->reason, sizeof s->reason, "%s", p);
        s->slurm_killed = 1;
        return 1;
    }
    if (s->verbose)
        return 1;
    /* what srun prints without -v stays; its verbose chatter (our own -v) goes */
    static const char *const keep[] = {"error:", "fatal:",  "warning:", "Warning:", "Job ",      "job ",
                                       "Step ",  "forcing", "Force",    "Received", "Cancelled", "interrupt"};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
        if (strncmp(p, keep[i], strlen(keep[i])) == 0)
            return 1;
    return 0;
}

void sj_feed(struct sjob *s, const char *buf, size_t n)
{
    const char *end = buf + n;
    while (buf < end) {
        const char *nl = memchr(buf, '\n', (size_t)(end - buf));
        if (!nl) {
            pu_add(&s->line, buf, (size_t)(end - buf));
            return;
        }
        pu_add(&s->line, buf, (size_t)(nl - buf));
        buf = nl + 1;
        const char *l = s->line.s ? s->line.s : "";
        if (parse_line(s, l) && s->err.len < ERR_CAP) {
            pu_puts(&s->err, l);
            pu_putc(&s->err, '\n');
        }
        s->line.len = 0;
        if (s->line.s)
            s->line.s[0] = 0;
    }
}

void sj_feed_end(struct sjob *s)
{
    if (s->line.len) {
        const char *nl = "\n";
        sj_feed(s, nl, 1);
    }
}

/* ---- the clients ---- */

int sw_client(const char *const *argv, char **envp, char **out)
{
    struct bgjob_spawn_req req = {.argv = argv, .envp = (const char *const *)envp, .size = sizeof req};
    struct bgjob_spawn_res res = {.size = sizeof res};
    char msg[256];
    if (out)
        *out = NULL;
    if (api->spawn(NULL, &req, &res, msg, sizeof msg) != 0)
        return -1;
    int rc = res.exit_status;
    if (out) {
        *out = res.out;
        res.out = NULL;
    }
    api->spawn_free(&res);
    return rc;
}

static char **copy_env(char **envp)
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    char **c = calloc(n + 1, sizeof *c);
    for (size_t i = 0; c && i < n; i++)
        c[i] = strdup(envp[i]);
    return c;
}
static void free_env(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* The value of "KEY": in the text from P (a string, or up to a number), into OUT; NULL when absent. */
static const char *json_field(const char *p, const char *limit, const char *key, char *out, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *q = strstr(p, pat);
    if (!q || (limit && q > limit))
        return NULL;
    q += strlen(pat);
    while (*q == ' ')
        q++;
    if (*q == '"')
        copy_until(out, len, q + 1, "\"");
    else
        copy_until(out, len, q, ",\n}");
    return q;
}

/* squeue --json: Slurm's state and reason for each pending record; lock not held. */
static void ask_squeue(char **envp)
{
    const char *argv[] = {"squeue", "--json", NULL};
    char *out = NULL;
    if (sw_client(argv, envp, &out) != 0 || !out) {
        free(out);
        return;
    }
    sw_lock();
    for (const char *p = strstr(out, "\"job_id\":"); p;) {
        const char *nextp = strstr(p + 1, "\"job_id\":");
        char id[32], state[32] = "", reason[128] = "";
        json_field(p, NULL, "job_id", id, sizeof id);
        json_field(p, nextp, "job_state", state, sizeof state);
        json_field(p, nextp, "state_reason", reason, sizeof reason);
        long jid = atol(id);
        for (struct sjob *s = list; s; s = s->next)
            if (s->pending == 1 && s->jobid == jid) {
                snprintf(s->reason, sizeof s->reason, "%s", reason);
                api->set_info(s->job, "slurm_state", state);
                api->set_info(s->job, "slurm_reason", reason);
            }
        p = nextp;
    }
    sw_unlock();
    free(out);
}

/* ---- the thread ---- */

static void read_err(struct sjob *s)
{
    char buf[8192];
    ssize_t n;
    while ((n = read(s->err_fd, buf, sizeof buf)) > 0)
        sj_feed(s, buf, (size_t)n);
}

static struct sjob *find(unsigned long serial)
{
    for (struct sjob *s = list; s; s = s->next)
        if (s->serial == serial)
            return s;
    return NULL;
}

struct pending_cancel {
    char target[48];
    char **envp;
};

static void *watch(void *unused)
{
    (void)unused;
    double last_squeue = -1e9;
    struct pollfd *pfd = NULL;
    unsigned long *ser = NULL;
    size_t cap = 0;
    for (;;) {
        sw_lock();
        size_t n = 1, want = 1;
        int any_pending = 0;
        for (struct sjob *s = list; s; s = s->next)
            want += 2;
        if (want > cap) {
            free(pfd);
            free(ser);
            cap = want * 2;
            pfd = malloc(cap * sizeof *pfd);
            ser = malloc(cap * sizeof *ser);
            if (!pfd || !ser) {
                sw_unlock();
                abort(); /* the plugin cannot watch its jobs */
            }
        }
        pfd[0] = (struct pollfd){wake_fd, POLLIN, 0};
        ser[0] = 0;
        for (struct sjob *s = list; s; s = s->next) {
            pfd[n] = (struct pollfd){s->err_fd, POLLIN, 0};
            ser[n++] = s->serial;
            if (!s->cancel_seen && s->cancel_fd >= 0) {
                pfd[n] = (struct pollfd){s->cancel_fd, POLLIN, 0};
                ser[n++] = s->serial;
            }
            any_pending |= s->pending == 1;
        }
        sw_unlock();
        int timeout = -1;
        if (any_pending) {
            double left = last_squeue + POLL_S - now_s();
            timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
        }
        int r = poll(pfd, n, timeout);
        if (r < 0 && errno != EINTR)
            continue;
        if (pfd[0].revents) {
            uint64_t v;
            ssize_t rd = read(wake_fd, &v, sizeof v);
            (void)rd;
        }
        struct pending_cancel cancels[16];
        size_t ncancel = 0;
        char **squeue_env = NULL;
        sw_lock();
        for (size_t i = 1; i < n; i++) {
            if (!pfd[i].revents)
                continue;
            struct sjob *s = find(ser[i]);
            if (!s)
                continue;
            if (pfd[i].fd == s->err_fd)
                read_err(s);
            else if (pfd[i].fd == s->cancel_fd)
                s->cancel_seen = 1;
        }
        any_pending = 0;
        for (struct sjob *s = list; s; s = s->next) {
            if (s->cancel_seen && !s->scancelled && s->srun_pid > 0 && s->pending == 2) {
                /* a step that waits for CPUs does not exist in Slurm yet: srun stops waiting.
                   (A job whose number is not known yet is scancelled once srun says it; if
                   srun says nothing before its wrapper is killed, sw_remove signals it.) */
                kill(s->srun_pid, SIGTERM);
                s->scancelled = -1;
            }
            if (s->cancel_seen && s->scancelled <= 0 && s->jobid > 0 && (!s->in_alloc || s->stepid >= 0) &&
                ncancel < 16) {
                /* inside an allocation only the step (none yet: nothing to cancel in Slurm,
                   the signal to srun suffices); else the job srun made */
                if (s->in_alloc)
                    snprintf(cancels[ncancel].target, sizeof cancels[ncancel].target, "%ld.%ld", s->jobid,
                             s->stepid);
                else
                    snprintf(cancels[ncancel].target, sizeof cancels[ncancel].target, "%ld", s->jobid);
                cancels[ncancel++].envp = copy_env(s->envp);
                s->scancelled = 1;
            }
            if (s->pending == 1 && !squeue_env && now_s() >= last_squeue + POLL_S)
                squeue_env = copy_env(s->envp);
        }
        sw_unlock();
        for (size_t i = 0; i < ncancel; i++) {
            const char *argv[] = {"scancel", cancels[i].target, NULL};
            sw_client(argv, cancels[i].envp, NULL);
            free_env(cancels[i].envp);
        }
        if (squeue_env) {
            last_squeue = now_s();
            ask_squeue(squeue_env);
            free_env(squeue_env);
        }
    }
    return NULL;
}

static void atfork_child(void)
{
    /* the thread and the jobs it watched stay in the parent */
    pthread_mutex_init(&mu, NULL);
    list = NULL;
    running = 0;
}

static void init_once(void)
{
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_atfork(NULL, NULL, atfork_child);
}

int sw_add(struct sjob *s)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    sw_lock();
    if (wake_fd < 0) {
        sw_unlock();
        errno = EMFILE;
        return -1;
    }
    if (!running) {
        pthread_t t;
        pthread_attr_t at;
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        int e = pthread_create(&t, &at, watch, NULL);
        pthread_attr_destroy(&at);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (e) {
            sw_unlock();
            errno = e;
            return -1;
        }
        running = 1;
    }
    s->serial = next_serial++;
    s->next = list;
    list = s;
    sw_unlock();
    wake();
    return 0;
}

void sw_remove(struct sjob *s)
{
    sw_lock();
    for (struct sjob **pp = &list; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    /* what the pipe still holds is the callback's now */
    read_err(s);
    if (api->cancelled(s->job) && !s->scancelled && s->srun_pid > 0)
        kill(s->srun_pid, SIGTERM); /* cancelled before Slurm gave it a number: srun stops */
    sw_unlock();
    wake();
}
