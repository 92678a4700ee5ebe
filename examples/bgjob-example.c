/*
 * bgjob-example.c - an example bgjob plugin, built and tested with bgjob.
 *
 *   bgjob load ./examples/bgjob-example.so
 *   bgjob new -v id -f busy 50000000     # CPU-bound work, cancellable
 *   bgjob new -f join a b c              # result "a b c"
 *   bgjob new -f fail "disk on fire"     # ends Dead with that message
 *
 * Build:  cc -shared -fPIC $(pkg-config --cflags bgjob) -o bgjob-example.so bgjob-example.c
 *
 * Everything the plugin calls comes through the table passed to its init
 * function: it links against nothing of bgjob's.  Callbacks run on worker
 * threads, one job per call, with their own argument copies; they keep no
 * shared state, so they need no locks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgjob.h"

#ifdef BGJOB_EXAMPLE_FAKE_VERSION
/* Only for bgjob's own tests: a plugin that claims another API version. */
BGJOB_EXPORT const unsigned int bgjob_plugin_api_version = BGJOB_EXAMPLE_FAKE_VERSION;
#else
BGJOB_PLUGIN_VERSION;
#endif

static const struct bgjob_api *api;

/* busy N: N rounds of a 64-bit mixing function; the result is the final value in hex. */
static int busy(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    char *end;
    if (argc != 2)
        return api->fail(job, "usage: busy ITERATIONS"), 2;
    unsigned long long n = strtoull(argv[1], &end, 10);
    if (end == argv[1] || *end || argv[1][0] == '-')
        return api->fail(job, "busy: ITERATIONS must be a non-negative integer"), 2;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (unsigned long long i = 0; i < n; i++) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9u;
        x ^= x >> 29;
        x += i;
        if ((i & 0xfffff) == 0) {
            if (api->cancelled(job))
                return 1;
            api->progress(job, (double)i / (double)n);
        }
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)x);
    api->set_result(job, buf);
    return 0;
}

/* join WORD...: the words joined by single spaces. */
static int join(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    size_t len = 1;
    for (int i = 1; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return api->fail(job, "out of memory"), 1;
    *p = 0;
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            *p++ = ' ';
        size_t n = strlen(argv[i]);
        memcpy(p, argv[i], n + 1);
        p += n;
    }
    int rc = api->set_result(job, s);
    free(s);
    return rc ? 1 : 0;
}

/* fail MESSAGE: ends Dead with MESSAGE as its traceback. */
static int fail(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    api->fail(job, argc > 1 ? argv[1] : "failed on purpose");
    return 1;
}

#if BGJOB_API_VERSION >= 2
/* getenv NAME: the value NAME had in the shell's environment at `new`; the
   name is also shown by `bgjob show` as the extra field `variable`. */
static int getenv_cb(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)argc;
    (void)payload;
    const char *v = api->getenv(job, argv[1]);
    api->set_info(job, "variable", argv[1]);
    if (!v)
        return api->fail(job, "not set"), 1;
    return api->set_result(job, v) ? 1 : 0;
}

/* capture PROGRAM [ARG...]: runs the program through api->spawn; the
   result is its output, a failure is its error output or how it ended. */
static int capture(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)argc;
    (void)payload;
    struct bgjob_spawn_req req;
    struct bgjob_spawn_res res;
    char msg[256];
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
#if BGJOB_API_VERSION >= 3
    req.size = sizeof req;
    res.size = sizeof res;
#endif
    req.argv = (const char *const *)argv + 1;
    if (api->spawn(job, &req, &res, msg, sizeof msg) != 0)
        return api->fail(job, msg), 1;
    /* trailing newlines go, as in $(...) */
    while (res.out && res.out_len > 0 && res.out[res.out_len - 1] == '\n')
        res.out[--res.out_len] = 0;
    while (res.err && res.err_len > 0 && res.err[res.err_len - 1] == '\n')
        res.err[--res.err_len] = 0;
    int ok = res.exit_status == 0;
    if (ok)
        ok = api->set_result(job, res.out ? res.out : "") == 0;
    else if (res.err && res.err_len)
        api->fail(job, res.err);
    else {
        snprintf(msg, sizeof msg, "exit status %d, signal %d", res.exit_status, res.term_signal);
        api->fail(job, msg);
    }
    api->spawn_free(&res);
    return ok ? 0 : 1;
}

/* At least a program name. */
static int capture_check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    (void)argv;
    (void)payload;
    if (argc >= 2)
        return 0;
    snprintf(msg, msglen, "capture: a PROGRAM expected");
    return 1;
}

#if BGJOB_API_VERSION >= 3
/* block: waits, in poll(), for nothing but its cancellation (kill, -t). */
static int block(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)argc;
    (void)argv;
    (void)payload;
    struct pollfd pf = {api->cancel_fd(job), POLLIN, 0};
    if (pf.fd < 0)
        return api->fail(job, "no cancel descriptor"), 1;
    while (poll(&pf, 1, -1) < 0)
        ;
    return 1; /* bgjob words the cancellation */
}

/* readfile NAME: the first line of NAME, a relative NAME in the job's directory (api->open). */
static int readfile(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)argc;
    (void)payload;
    int fd = api->open(job, argv[1], O_RDONLY, 0);
    if (fd < 0)
        return api->fail(job, strerror(errno)), 1;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return api->set_result(job, buf) ? 1 : 0;
}

static int readfile_check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    (void)argv;
    (void)payload;
    if (argc == 2)
        return 0;
    snprintf(msg, msglen, "readfile: exactly one NAME expected");
    return 1;
}
#endif

/* Exactly one argument, checked by `new` before any job exists. */
static int getenv_check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    (void)argv;
    (void)payload;
    if (argc == 2)
        return 0;
    snprintf(msg, msglen, "getenv: exactly one NAME expected");
    return 1;
}
#endif

BGJOB_EXPORT int bgjob_plugin_init(const struct bgjob_api *table)
{
    api = table;
    if (api->register_callback("busy", busy, "busy ITERATIONS  (CPU-bound; result: a checksum)", NULL,
                               NULL) ||
        api->register_callback("join", join, "join WORD...  (result: the words joined by spaces)", NULL,
                               NULL) ||
        api->register_callback("fail", fail, "fail MESSAGE  (ends Dead with MESSAGE)", NULL, NULL))
        return 1;
#if BGJOB_API_VERSION >= 2
    /* A table older than version 2 has no getenv: skip what needs it. */
    if (api->version >= 2 &&
        (api->register_callback("getenv", getenv_cb, "getenv NAME", NULL, NULL) ||
         api->set_check("getenv", getenv_check) ||
         api->register_callback("capture", capture, "capture PROGRAM [ARG...]", NULL, NULL) ||
         api->set_check("capture", capture_check)))
        return 1;
#endif
#if BGJOB_API_VERSION >= 3
    if (api->version >= 3 &&
        (api->register_callback("block", block, "block  (waits for its cancellation, in poll)", NULL, NULL) ||
         api->register_callback("readfile", readfile, "readfile NAME  (result: its first line)", NULL,
                                NULL) ||
         api->set_check("readfile", readfile_check)))
        return 1;
#endif
    return 0;
}
