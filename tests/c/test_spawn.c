/*
 * test_spawn.c - spawn.c without bash: command lookup, capture, exit
 * statuses and signals, exec failures, given descriptors, a large
 * environment (sent in a memfd), the output cap, a forked child's own
 * spawner, the spawner invisible to waitpid(-1), api->spawn, and `run` jobs
 * cancelled through the job.  Run plain, under ThreadSanitizer and under
 * ASan/UBSan.  Every wait is for an event; alarm() ends a hung run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "info.h"
#include "jobenv.h"
#include "jobs.h"
#include "registry.h"
#include "spawn.h"

extern char **environ;

static int run_argv(char *const *argv, char *const *envp, struct bgjob_spawn_res *res, struct bgj_err *err)
{
    char *path = NULL;
    int rc = bgj_spawn_lookup(argv[0], "/usr/bin:/bin", -1, &path);
    if (rc != 0)
        path = strdup(argv[0]);
    struct bgj_spawn s = {
        .path = path, .argv = argv, .envp = envp, .cwd_fd = -1, .fd = {-1, -1, -1}, .kill_grace = 0.5};
    rc = bgj_spawn_run(&s, res, err);
    free(path);
    return rc;
}

/* `echo piped` with its stdout on FD (the struct is rebuilt at each call). */
static const struct bgj_spawn *echo_into(int fd)
{
    static char *echo[] = {"/bin/echo", "piped", NULL};
    static struct bgj_spawn s;
    s = (struct bgj_spawn){
        .path = "/bin/echo", .argv = echo, .envp = NULL, .cwd_fd = -1, .fd = {-1, fd, -1}, .kill_grace = 0.5};
    s.envp = environ;
    return &s;
}

static void test_lookup(const char *dir)
{
    char *p = NULL;
    CHECK(bgj_spawn_lookup("sh", "/nonexistent:/usr/bin:/bin", -1, &p) == 0);
    CHECK(p && strlen(p) > 3 && strcmp(p + strlen(p) - 3, "/sh") == 0);
    free(p);
    CHECK(bgj_spawn_lookup("no-such-command-xyz", "/usr/bin:/bin", -1, &p) == BGJ_ENOTFOUND && !p);
    CHECK(bgj_spawn_lookup("/", NULL, -1, &p) == BGJ_ENOEXEC && !p);
    CHECK(bgj_lookup_status(BGJ_ENOTFOUND) == 127 && bgj_lookup_status(BGJ_ENOEXEC) == 126);
    char f[512];
    snprintf(f, sizeof f, "%s/noexec", dir);
    int fd = open(f, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    close(fd);
    CHECK(bgj_spawn_lookup("noexec", dir, -1, &p) == BGJ_ENOEXEC && !p);
    CHECK(bgj_spawn_lookup(f, NULL, -1, &p) == BGJ_ENOEXEC && !p);
    unlink(f);
}

static void test_basic(void)
{
    struct bgjob_spawn_res r;
    struct bgj_err e = {0};
    char *echo[] = {"echo", "hi", "there", NULL};
    CHECK(run_argv(echo, environ, &r, &e) == 0);
    CHECK_STR(r.out, "hi there\n");
    CHECK(r.exit_status == 0 && r.term_signal == 0 && r.err_len == 0);
    bgj_spawn_free(&r);

    char *fail[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    CHECK(run_argv(fail, environ, &r, &e) == 0);
    CHECK_STR(r.out, "out\n");
    CHECK_STR(r.err, "err\n");
    CHECK(r.exit_status == 3);
    bgj_spawn_free(&r);

    char *sig[] = {"sh", "-c", "kill -TERM $$", NULL};
    CHECK(run_argv(sig, environ, &r, &e) == 0);
    CHECK(r.exit_status == -1 && r.term_signal == SIGTERM);
    bgj_spawn_free(&r);

    char *missing[] = {"/nonexistent/prog", NULL};
    CHECK(run_argv(missing, environ, &r, &e) == BGJ_ESPAWN);
    CHECK(r.exit_status == 127);
    CHECK(strstr(bgj_err_text(&e), "No such file or directory") != NULL);
    bgj_err_clear(&e);

    /* only 0, 1, 2 (and ls's directory) are open; stdin is /dev/null */
    char *ls[] = {"ls", "/proc/self/fd", NULL};
    CHECK(run_argv(ls, environ, &r, &e) == 0);
    CHECK_STR(r.out, "0\n1\n2\n3\n");
    bgj_spawn_free(&r);
    char *rl[] = {"readlink", "/proc/self/fd/0", NULL};
    CHECK(run_argv(rl, environ, &r, &e) == 0);
    CHECK_STR(r.out, "/dev/null\n");
    bgj_spawn_free(&r);
}

static void test_env_and_fds(void)
{
    struct bgjob_spawn_res r;
    struct bgj_err e = {0};
    /* an environment larger than a message: it goes through a memfd */
    /* (one string may not pass 128 KiB: exec's limit) */
    size_t big = 100000;
    char *var = malloc(big + 8), *var2 = malloc(big + 8);
    strcpy(var, "BIG=");
    memset(var + 4, 'x', big);
    var[4 + big] = 0;
    strcpy(var2, "BIG2=");
    memset(var2 + 5, 'y', big);
    var2[5 + big] = 0;
    char *envp[] = {var, var2, "PATH=/usr/bin:/bin", NULL};
    char *len[] = {"sh", "-c", "echo ${#BIG} ${#BIG2}", NULL};
    CHECK(run_argv(len, envp, &r, &e) == 0);
    CHECK_STR(r.out, "100000 100000\n");
    bgj_spawn_free(&r);
    free(var);
    free(var2);

    /* given descriptors: only from a job's worker (bgjob's table), see given_fds_job */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(bgj_spawn_run(echo_into(p[1]), &r, &e) == BGJ_EINVAL);
    bgj_err_clear(&e);
    close(p[0]);
    close(p[1]);

    /* the output cap kills the program */
    char *yes[] = {"yes", NULL};
    char *path = NULL;
    bgj_spawn_lookup("yes", "/usr/bin:/bin", -1, &path);
    struct bgj_spawn y = {.path = path,
                          .argv = yes,
                          .envp = environ,
                          .cwd_fd = -1,
                          .fd = {-1, -1, -1},
                          .max_output = 5000,
                          .kill_grace = 0.5};
    CHECK(bgj_spawn_run(&y, &r, &e) == 0);
    CHECK(r.output_exceeded && r.out_len == 5000 && r.term_signal != 0);
    bgj_spawn_free(&r);
    free(path);
}

static void test_invisible_and_fork(void)
{
    struct bgjob_spawn_res r;
    struct bgj_err e = {0};
    char *t[] = {"true", NULL};
    CHECK(run_argv(t, environ, &r, &e) == 0);
    bgj_spawn_free(&r);
    pid_t sp = bgj_spawner_pid();
    CHECK(sp > 0);
    /* neither the spawner nor the programs are children waitpid(-1) sees */
    CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
    pid_t c = fork();
    if (c == 0) {
        int ok = bgj_spawner_pid() == 0;
        char *echo[] = {"echo", "child", NULL};
        int rr = run_argv(echo, environ, &r, &e);
        int ok2 = rr == 0 && strcmp(r.out, "child\n") == 0;
        pid_t csp = bgj_spawner_pid();
        int ok3 = csp != sp && csp > 0;
        if (!(ok && ok2 && ok3))
            fprintf(stderr, "child: ok=%d rr=%d (%s) out=[%s] spawner %d (parent's %d)\n", ok, rr,
                    bgj_err_text(&e), rr == 0 ? r.out : "", (int)csp, (int)sp);
        _exit(ok && ok2 && ok3 ? 0 : 1);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(run_argv(t, environ, &r, &e) == 0 && r.exit_status == 0);
    CHECK(bgj_spawner_pid() == sp);
    bgj_spawn_free(&r);
}

static void test_api_spawn(void)
{
    struct bgjob_spawn_res r;
    char msg[256];
    const char *argv[] = {"sh", "-c", "echo \"$X\"", NULL};
    const char *envp[] = {"X=from-req", "PATH=/usr/bin:/bin", NULL};
    struct bgjob_spawn_req req = {.argv = argv, .envp = envp};
    CHECK(bgj_api.spawn(NULL, &req, &r, msg, sizeof msg) == 0);
    CHECK_STR(r.out, "from-req\n");
    bgj_api.spawn_free(&r);
    const char *nf[] = {"no-such-command-xyz", NULL};
    req.argv = nf;
    CHECK(bgj_api.spawn(NULL, &req, &r, msg, sizeof msg) == -1);
    CHECK_STR(msg, "no-such-command-xyz: command not found");
    CHECK(r.exit_status == 127);
    req.argv = argv;
    req.cwd = "/nonexistent-dir";
    CHECK(bgj_api.spawn(NULL, &req, &r, msg, sizeof msg) == -1);
}

/* A job that runs echo with its stdout into a pipe of its own, and reads it. */
static int given_fds_job(bgjob_job *j, void *arg)
{
    (void)arg;
    int p[2];
    if (pipe(p) != 0)
        return 1;
    struct bgjob_spawn_res r;
    struct bgj_err e = {0};
    int rc = bgj_spawn_run(echo_into(p[1]), &r, &e);
    close(p[1]);
    char buf[64] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    int ok = rc == 0 && r.exit_status == 0 && r.out_len == 0 && n == 6 && memcmp(buf, "piped\n", 6) == 0;
    bgj_spawn_free(&r);
    /* the worker's table has valid 0, 1 and 2, and none of the test's own descriptors */
    ok = ok && fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0;
    j->result = strdup(ok ? "ok" : "bad");
    return ok ? 0 : 1;
}

static bgjob_job *run_job(int argc, char **argv, double grace)
{
    const struct bgj_callback *cb = bgj_callback_find("run");
    struct bgj_jobenv *env = bgj_jobenv_new(environ, bgj_umask_read(), 0);
    env->kill_grace = grace;
    return bgj_callback_job_env(cb, argc, argv, "run", env);
}

static void wait_finished(bgjob_job *j)
{
    while (!bgj_finished(bgj_state_of(j))) {
        int fd = bgj_wait_arm();
        if (!bgj_finished(bgj_state_of(j))) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 1000);
        }
        bgj_wait_disarm();
    }
}

static void test_jobs(void)
{
    CHECK(bgj_init() == 0);
    char *ok[] = {"printf", "a\\n\\n", NULL};
    bgjob_job *j = run_job(2, ok, 2);
    int64_t id = bgj_submit(j, 0);
    CHECK(id >= 0);
    wait_finished(j);
    CHECK(bgj_state_of(j) == BGJ_COMPLETED);
    CHECK_STR(j->result, "a");

    /* kill: SIGTERM to the group */
    char *slow[] = {"sh", "-c", "sleep 100 & exec sleep 100", NULL};
    j = run_job(3, slow, 2);
    CHECK(bgj_submit(j, 0) >= 0);
    char *pid = NULL;
    while (!(pid = bgj_info_get(bgj_info_of(j), "pid")) || !*pid) {
        free(pid);
        pid = NULL;
        usleep(1000);
    }
    free(pid);
    CHECK(bgj_cancel(j) == 0);
    wait_finished(j);
    CHECK(bgj_state_of(j) == BGJ_DEAD);
    CHECK_STR(j->error, "sh: killed by bgjob kill (SIGTERM)");

    /* descriptors given to a program from a job's worker */
    j = bgj_job_new(BGJ_KIND_CALLBACK, "given", given_fds_job, NULL, NULL);
    CHECK(bgj_submit(j, 0) >= 0);
    wait_finished(j);
    CHECK(bgj_state_of(j) == BGJ_COMPLETED);

    /* a timeout, and a grace ending in SIGKILL */
    char *stubborn[] = {"sh", "-c", "trap '' TERM; while :; do :; done", NULL};
    j = run_job(3, stubborn, 0.1);
    bgj_job_set_timeout(j, 0.1);
    CHECK(bgj_submit(j, 0) >= 0);
    wait_finished(j);
    CHECK_STR(j->error, "sh: timed out after 0.1 seconds");
    char *sig = bgj_info_get(bgj_info_of(j), "signal");
    CHECK_STR(sig, "SIGKILL");
    free(sig);
}

int main(void)
{
    alarm(120);
    bgj_registry_init();
    char dir[] = "/tmp/test_spawn.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_lookup(dir);
    test_basic();
    test_env_and_fds();
    test_invisible_and_fork();
    test_api_spawn();
    test_jobs();
    rmdir(dir);
    return check_done("spawn");
}
