/*
 * fetch.c - the `fetch` bgjob plugin: an HTTP(S) transfer with libcurl.
 *
 *   bgjob load fetch
 *   bgjob new -f fetch [-o FILE] [-H 'Name: value']... [-X METHOD] [-d DATA] [--max-time S] URL
 *
 * The result is the response body as `$(...)` would give it (trailing
 * newlines dropped, NUL bytes dropped and counted in the show field
 * nul_bytes), or FILE once the body is in it.  -o FILE writes as `curl -o`
 * does, with one difference: a regular FILE (or one that does not exist yet)
 * gets the body in a temporary file beside it, renamed over it on success and
 * removed otherwise, so it is never left half-written; an existing one keeps
 * its mode and owner.  Anything else (a symlink, a FIFO, a device, a file
 * with several links or one whose owner a new file could not get) is opened
 * and written in place.  An error response's body is never written.  A
 * relative FILE is taken in the job's directory (job_dir).  Redirects are
 * followed (at most 20); TLS certificates are verified against the system's
 * CA store; the proxy variables come from the job's environment (the shell's
 * exported variables at `new`), not from the process environment.  HTTP
 * status 400 and above, every transfer error, kill and the job's time limit
 * make the job Dead with "URL: what went wrong".  `bgjob show` gains the
 * fields http_code and headers (the final response's).
 *
 * The transfer runs on the multi interface; the job's cancel descriptor is
 * one of the descriptors it waits on, so `bgjob kill` and a time limit end
 * it at once (no polling).  Connections are kept alive and reused by later
 * jobs, and DNS answers and TLS sessions are shared: each call borrows its
 * libcurl handles from handles.c (which owns that state and its locks) and
 * gives them back; its buffers are its own.  HTTP/2 is used where an https
 * server offers it.  libcurl and OpenSSL are initialised once by the init
 * function, on the main thread, OpenSSL without its exit-time cleanup (a
 * daemon transfer may still run while the shell exits).
 */
#define _GNU_SOURCE /* strerror_r returning the message */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bgjob.h>
#include <curl/curl.h>

#include "handles.h"
#include "openssl_init.h"
#include "plugin_util.h"

BGJOB_PLUGIN_VERSION;

static const struct bgjob_api *api;

#define USAGE      "fetch [-o FILE] [-H 'NAME: VALUE']... [-X METHOD] [-d DATA] [--max-time SECONDS] URL"
#define MAX_REDIRS 20L

/* ---- arguments ---- */
struct args {
    const char *out, *method, *data, *url;
    double max_time; /* 0: none */
    int nheaders;
    char **headers; /* points into argv */
};

/* Parses the words after the callback name.  HEADERS must have room for ARGC
   entries.  Returns 0, or -1 with a one-line message in MSG. */
static int parse(int argc, char **argv, struct args *a, char **headers, char *msg, size_t msglen)
{
    memset(a, 0, sizeof *a);
    a->headers = headers;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--")) {
            i++;
            break;
        }
        if (strcmp(o, "-o") && strcmp(o, "-H") && strcmp(o, "-X") && strcmp(o, "-d") &&
            strcmp(o, "--max-time")) {
            snprintf(msg, msglen, "fetch: %.64s: invalid option", o);
            return -1;
        }
        if (i + 1 == argc) {
            snprintf(msg, msglen, "fetch: %s: option requires an argument", o);
            return -1;
        }
        const char *v = argv[++i];
        /* Every option but -H once: a second value would silently win (or, for -d, be joined). */
        if (strcmp(o, "-H") &&
            ((!strcmp(o, "-o") && a->out) || (!strcmp(o, "-X") && a->method) ||
             (!strcmp(o, "-d") && a->data) || (!strcmp(o, "--max-time") && a->max_time > 0))) {
            snprintf(msg, msglen, "fetch: %s: given more than once", o);
            return -1;
        }
        if (!strcmp(o, "-o")) {
            if (!*v) {
                snprintf(msg, msglen, "fetch: -o: empty file name");
                return -1;
            }
            a->out = v;
        } else if (!strcmp(o, "-H")) {
            const char *colon = strchr(v, ':');
            if (!colon || colon == v || strpbrk(v, "\r\n")) {
                snprintf(msg, msglen, "fetch: -H: %.64s: expected 'Name: value'", v);
                return -1;
            }
            a->headers[a->nheaders++] = argv[i];
        } else if (!strcmp(o, "-X")) {
            if (!*v || strpbrk(v, " \t\r\n")) {
                snprintf(msg, msglen, "fetch: -X: %.64s: invalid method", v);
                return -1;
            }
            a->method = v;
        } else if (!strcmp(o, "-d")) {
            a->data = v;
        } else {
            char *end;
            errno = 0;
            double s = strtod(v, &end);
            if (end == v || *end || errno || !isfinite(s) || s <= 0 || s > 1e6) {
                snprintf(msg, msglen, "fetch: --max-time: %.64s: expected a positive number of seconds", v);
                return -1;
            }
            a->max_time = s;
        }
    }
    if (i == argc) {
        snprintf(msg, msglen, "fetch: URL operand expected");
        return -1;
    }
    if (i + 1 < argc) {
        snprintf(msg, msglen, "fetch: %.64s: only one URL expected", argv[i + 1]);
        return -1;
    }
    a->url = argv[i];
    for (const char *c = a->url; *c; c++)
        if (*c == ' ' || (unsigned char)*c < 0x20 || *c == 0x7f) {
            snprintf(msg, msglen, "fetch: %.128s: a URL cannot contain %s (write it %s)", a->url,
                     *c == ' ' ? "a space" : "a control character", *c == ' ' ? "as %20" : "%-encoded");
            return -1;
        }
    /* The URL must parse, with http or https as its scheme. */
    CURLU *u = curl_url();
    char *scheme = NULL;
    int bad = !u || curl_url_set(u, CURLUPART_URL, a->url, 0) != CURLUE_OK ||
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
              (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"));
    curl_free(scheme);
    curl_url_cleanup(u);
    if (bad) {
        snprintf(msg, msglen, "fetch: %.128s: not an http:// or https:// URL", a->url);
        return -1;
    }
    return 0;
}

static int check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    (void)payload;
    struct args a;
    char **headers = malloc(sizeof *headers * (size_t)argc);
    if (!headers) {
        snprintf(msg, msglen, "fetch: out of memory");
        return 1;
    }
    int rc = parse(argc, argv, &a, headers, msg, msglen);
    free(headers);
    return rc ? 1 : 0;
}

/* ---- the output file (-o) ---- */

/*
 * The directory a relative FILE is taken in: the shell's at `new`, i.e. the
 * PWD of the job's environment when it is exported, else the process's
 * current directory as the job starts (a `cd` between `new` and the start
 * would then count).  An O_PATH descriptor, or -1 with errno set.  The one
 * place that decides it, to switch to a directory the API hands over.
 */
static int job_dir(bgjob_job *job)
{
    int d = api->dirfd(job); /* the shell's directory at `new' (API version 3) */
    return d >= 0 ? fcntl(d, F_DUPFD_CLOEXEC, 3) : open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

struct out {
    const char *name;       /* FILE as given, for messages and the result */
    int dir;                /* the directory FILE's last component is in (O_PATH), or -1 */
    char *base;             /* that last component */
    char tmp[NAME_MAX + 1]; /* the temporary name beside it, "" when none exists */
    int inplace;            /* write FILE itself (else TMP, renamed over FILE) */
    int eager;              /* in place, opened before the transfer: not a regular file */
    int fd;                 /* -1 until opened */
    int notify;             /* inotify watching a FIFO for its reader, or -1 */
};

static void out_init(struct out *o, const char *name)
{
    memset(o, 0, sizeof *o);
    o->name = name;
    o->dir = o->fd = o->notify = -1;
}

/* Removes the temporary file, if any, and closes everything. */
static void out_discard(struct out *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->tmp[0])
        unlinkat(o->dir, o->tmp, 0);
    o->tmp[0] = 0;
    if (o->dir >= 0)
        close(o->dir);
    o->dir = -1;
    if (o->notify >= 0)
        close(o->notify);
    o->notify = -1;
    free(o->base);
    o->base = NULL;
}

/* Creates TMP beside FILE (mode 0600); 0 or an errno value. */
static int out_mktemp(struct out *o)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            for (size_t i = 0; i < sizeof r; i++)
                r[i] = (unsigned char)(rand() + tries);
        char suffix[sizeof r + 1];
        for (size_t i = 0; i < sizeof r; i++)
            suffix[i] = letters[r[i] % (sizeof letters - 1)];
        suffix[sizeof r] = 0;
        snprintf(o->tmp, sizeof o->tmp, ".%.200s.fetch-%s", o->base, suffix);
        int fd = openat(o->dir, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            o->fd = fd;
            return 0;
        }
        o->tmp[0] = 0;
        if (errno != EEXIST)
            return errno;
    }
    return EEXIST;
}

/*
 * Decides how FILE is written and, for a regular (or new) FILE, creates the
 * temporary file with the mode and owner FILE will have.  Returns 0, or an
 * errno value (the message is "FILE: strerror").
 */
static int out_prepare(bgjob_job *job, struct out *o)
{
    const char *name = o->name, *slash = strrchr(name, '/');
    if (slash && !slash[1])
        return EISDIR;
    o->base = strdup(slash ? slash + 1 : name);
    if (!o->base)
        return ENOMEM;
    int top = name[0] == '/' ? AT_FDCWD : job_dir(job);
    if (name[0] != '/' && top < 0)
        return errno;
    if (!slash) {
        o->dir = top;
    } else {
        char *d = slash == name ? strdup("/") : strndup(name, (size_t)(slash - name));
        if (!d) {
            if (top >= 0)
                close(top);
            return ENOMEM;
        }
        o->dir = openat(top, d, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int e = errno;
        free(d);
        if (top >= 0)
            close(top);
        if (o->dir < 0)
            return e;
    }
    struct stat st;
    if (fstatat(o->dir, o->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            return errno;
        /* A new file: 0666 under the umask, as curl -o creates it. */
        int rc = out_mktemp(o);
        if (!rc && fchmod(o->fd, 0666 & ~pu_umask()) < 0)
            rc = errno;
        return rc;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink > 1) {
        /* A symlink, FIFO, device, ...; or a file with hard links to keep.  What
           is not a regular file (a FIFO's reader, say) is opened at once, so
           that it sees an end even when the transfer fails. */
        struct stat target;
        o->inplace = 1;
        o->eager = fstatat(o->dir, o->base, &target, 0) == 0 && !S_ISREG(target.st_mode);
        return 0;
    }
    /* As curl -o, a file this process may not write is an error (root may write any). */
    if (faccessat(o->dir, o->base, W_OK, AT_EACCESS) < 0)
        return errno;
    int rc = out_mktemp(o);
    if (rc == EACCES || rc == EPERM) {
        o->inplace = 1; /* no new file in that directory: write the file itself */
        return 0;
    }
    if (rc)
        return rc;
    struct stat tst;
    if (fstat(o->fd, &tst) < 0)
        return errno;
    if ((tst.st_uid != st.st_uid || tst.st_gid != st.st_gid) && fchown(o->fd, st.st_uid, st.st_gid) < 0) {
        /* Another user's file this process may write: only writing in place keeps its owner. */
        close(o->fd);
        o->fd = -1;
        unlinkat(o->dir, o->tmp, 0);
        o->tmp[0] = 0;
        o->inplace = 1;
        return 0;
    }
    if (fchmod(o->fd, st.st_mode & 07777) < 0)
        return errno;
    return 0;
}

/* Opens FILE to write it in place, waiting (cancellably) for a reader of a
   FIFO; 0, an errno value, or -1 when the job was cancelled. */
static int out_open_inplace(bgjob_job *job, struct out *o)
{
    for (;;) {
        int fd =
            openat(o->dir, o->base, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0666);
        if (fd >= 0) {
            o->fd = fd;
            return 0;
        }
        if (errno == EINTR)
            continue;
        struct stat st;
        if (errno != ENXIO || fstatat(o->dir, o->base, &st, 0) < 0 || !S_ISFIFO(st.st_mode))
            return errno;
        /* a FIFO nobody reads yet: wait for a reader to open it (inotify), or the job's cancellation */
        if (o->notify < 0) {
            o->notify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
            char path[PATH_MAX];
            snprintf(path, sizeof path, "/proc/thread-self/fd/%d/%s", o->dir, o->base);
            if (o->notify < 0 || inotify_add_watch(o->notify, path, IN_OPEN) < 0)
                return errno ? errno : EIO;
            continue; /* a reader may have come before the watch */
        }
        struct pollfd pf[2] = {{o->notify, POLLIN, 0}, {api->cancel_fd(job), POLLIN, 0}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            return errno;
        if (api->cancelled(job))
            return -1;
        char ev[4096];
        while (read(o->notify, ev, sizeof ev) > 0)
            ;
    }
}

/* Ends a successful transfer: FILE gets the body.  0 or an errno value. */
static int out_commit(bgjob_job *job, struct out *o)
{
    if (o->inplace && o->fd < 0) {
        int rc = out_open_inplace(job, o); /* an empty body still truncates FILE */
        if (rc)
            return rc < 0 ? ECANCELED : rc;
    }
    int fd = o->fd;
    o->fd = -1;
    if (close(fd) < 0)
        return errno;
    if (!o->inplace) {
        if (renameat(o->dir, o->tmp, o->dir, o->base) < 0)
            return errno;
        o->tmp[0] = 0;
    }
    return 0;
}

/* ---- a transfer ---- */
struct xfer {
    bgjob_job *job;
    CURL *h;
    struct pu_buf body;    /* without -o */
    struct out *out;       /* with -o */
    int write_errno;       /* errno of a failed write to it */
    struct pu_buf headers; /* the header lines of the latest response */
    char reason[128];      /* its reason phrase */
};

/* Writes LEN bytes at P to the output file, waiting (cancellably) while a
   FIFO is full; 0, an errno value, or -1 when the job was cancelled. */
static int write_out(struct xfer *x, const char *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(x->out->fd, p + done, len - done);
        if (w >= 0) {
            done += (size_t)w;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return errno;
        struct pollfd pfd[2] = {{x->out->fd, POLLOUT, 0}, {api->cancel_fd(x->job), POLLIN, 0}};
        poll(pfd, 2, -1);
        if (api->cancelled(x->job))
            return -1;
    }
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (x->out) {
        long code = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 400)
            return len; /* an error response's body never reaches FILE */
        int rc = 0;
        if (x->out->fd < 0)
            rc = out_open_inplace(x->job, x->out);
        if (!rc)
            rc = write_out(x, p, len);
        if (rc) {
            x->write_errno = rc > 0 ? rc : 0;
            return 0;
        }
        return len;
    }
    pu_add(&x->body, p, len);
    return x->body.oom ? 0 : len;
}

/* BODY as $(...) gives it, in place: NUL bytes dropped (their number
   returned) and trailing newlines removed. */
static size_t as_comsub(struct pu_buf *body)
{
    size_t w = 0, nuls = 0;
    for (size_t r = 0; r < body->len; r++) {
        if (body->s[r])
            body->s[w++] = body->s[r];
        else
            nuls++;
    }
    while (w > 0 && body->s[w - 1] == '\n')
        w--;
    if (body->s)
        body->s[w] = 0;
    body->len = w;
    return nuls;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
        /* A new response (after a redirect or a 100 Continue): start over. */
        x->headers.len = 0;
        x->reason[0] = 0;
        const char *sp = memchr(p, ' ', len);
        if (sp && (size_t)(sp - p) + 4 < len && sp[4] == ' ') {
            const char *r = sp + 5, *e = p + len;
            while (e > r && (e[-1] == '\r' || e[-1] == '\n'))
                e--;
            size_t rl = (size_t)(e - r) < sizeof x->reason - 1 ? (size_t)(e - r) : sizeof x->reason - 1;
            memcpy(x->reason, r, rl);
            x->reason[rl] = 0;
        }
    }
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len) {
        if (x->headers.len)
            pu_add(&x->headers, "\n", 1);
        pu_add(&x->headers, p, len);
    }
    return size * n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct xfer *x = ud;
    (void)ultotal;
    (void)ulnow;
    if (dltotal > 0)
        api->progress(x->job, dlnow >= dltotal ? 1.0 : (double)dlnow / (double)dltotal);
    return api->cancelled(x->job) ? 1 : 0;
}

/* The proxy for URL's scheme as curl chooses it, from the job's environment:
   http_proxy (lower case only) for http, https_proxy or HTTPS_PROXY for
   https, then all_proxy or ALL_PROXY.  "" when none. */
static const char *job_env2(bgjob_job *job, const char *lower, const char *upper)
{
    const char *v = api->getenv(job, lower);
    if ((!v || !*v) && upper)
        v = api->getenv(job, upper);
    return v && *v ? v : NULL;
}

static const char *proxy_for(bgjob_job *job, const char *url)
{
    const char *v = strncasecmp(url, "https:", 6) == 0 ? job_env2(job, "https_proxy", "HTTPS_PROXY")
                                                       : job_env2(job, "http_proxy", NULL);
    if (!v)
        v = job_env2(job, "all_proxy", "ALL_PROXY");
    return v ? v : "";
}

static void failf(bgjob_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(bgjob_job *job, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    api->fail(job, msg);
}

static const char *errstr(int err, char *b, size_t n) { return strerror_r(err, b, n); }

static int fetch(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    char msg[512], eb[128];
    struct args a;
    char **hdrv = malloc(sizeof *hdrv * (size_t)argc);
    if (!hdrv)
        return api->fail(job, "fetch: out of memory"), 1;
    if (parse(argc, argv, &a, hdrv, msg, sizeof msg)) {
        free(hdrv);
        return api->fail(job, msg), 2;
    }
    const char *url = a.url;
    struct out o;
    out_init(&o, a.out);
    struct xfer x = {.job = job, .out = a.out ? &o : NULL};
    struct curl_slist *hl = NULL;
    struct fetch_handle *fh = NULL;
    CURL *h = NULL;
    CURLM *m = NULL;
    int ret = 1, reuse = 0;
    char errbuf[CURL_ERROR_SIZE] = "";

    if (a.out) {
        int rc = out_prepare(job, &o);
        if (!rc && o.eager)
            rc = out_open_inplace(job, &o);
        if (rc < 0)
            goto cancelled;
        if (rc) {
            failf(job, "%s: %s", a.out, errstr(rc, eb, sizeof eb));
            goto out;
        }
    }

    fh = fetch_handle_get(url);
    if (!fh)
        goto oom;
    x.h = h = fh->h;
    m = fh->m;
    for (int i = 0; i < a.nheaders; i++) {
        struct curl_slist *n = curl_slist_append(hl, a.headers[i]);
        if (!n)
            goto oom;
        hl = n;
    }
    const char *noproxy = job_env2(job, "no_proxy", "NO_PROXY");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "bgjob-fetch/" LIBCURL_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* Explicit values: libcurl would otherwise read the process environment. */
    curl_easy_setopt(h, CURLOPT_PROXY, proxy_for(job, url));
    curl_easy_setopt(h, CURLOPT_NOPROXY, noproxy ? noproxy : "");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (a.method)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, a.method);
    if (a.data) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(a.data));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, a.data);
    }
    if (a.max_time > 0) {
        double ms = ceil(a.max_time * 1000.0);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(ms < 1 ? 1 : ms));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    if (curl_multi_add_handle(m, h) != CURLM_OK) {
        reuse = 1; /* not in the multi handle: both stay usable */
        goto oom;
    }

    CURLcode res = CURLE_OK;
    int running = 1, cancelled = 0;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (api->cancelled(job)) {
            cancelled = 1;
            break;
        }
        /* libcurl wakes sooner when its own timers need it; the cancel descriptor wakes it at once */
        struct curl_waitfd cw = {.fd = api->cancel_fd(job), .events = CURL_WAIT_POLLIN};
        if (running && curl_multi_poll(m, &cw, cw.fd >= 0 ? 1 : 0, 3600 * 1000, NULL) != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
    }
    if (!cancelled && res == CURLE_OK) {
        CURLMsg *cm;
        int left;
        while ((cm = curl_multi_info_read(m, &left)))
            if (cm->msg == CURLMSG_DONE)
                res = cm->data.result;
    }
    curl_multi_remove_handle(m, h);
    reuse = !cancelled; /* a transfer cut short closes its handles and their connections */

    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    char codestr[16];
    snprintf(codestr, sizeof codestr, "%ld", code);
    api->set_info(job, "http_code", codestr);
    api->set_info(job, "headers", x.headers.s ? x.headers.s : "");

    if (cancelled || api->cancelled(job))
        goto cancelled;
    if (x.body.oom || x.headers.oom)
        goto oom;
    switch (res) {
    case CURLE_OK: break;
    case CURLE_COULDNT_RESOLVE_HOST: failf(job, "%s: Could not resolve host", url); goto out;
    case CURLE_COULDNT_RESOLVE_PROXY: failf(job, "%s: Could not resolve proxy", url); goto out;
    case CURLE_COULDNT_CONNECT: {
        long oserr = 0;
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
        failf(job, "%s: %s", url, oserr ? errstr((int)oserr, eb, sizeof eb) : "Could not connect");
        goto out;
    }
    case CURLE_OPERATION_TIMEDOUT:
        if (a.max_time > 0)
            failf(job, "%s: timed out after %g seconds", url, a.max_time);
        else
            failf(job, "%s: timed out (%s)", url, errbuf[0] ? errbuf : curl_easy_strerror(res));
        goto out;
    case CURLE_TOO_MANY_REDIRECTS:
        failf(job, "%s: too many redirects (more than %ld)", url, MAX_REDIRS);
        goto out;
    case CURLE_WRITE_ERROR:
        if (x.write_errno) {
            failf(job, "%s: %s", a.out, errstr(x.write_errno, eb, sizeof eb));
            goto out;
        }
        failf(job, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(res));
        goto out;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
        failf(job, "%s: TLS: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(res));
        goto out;
    default: failf(job, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(res)); goto out;
    }
    if (code >= 400) {
        failf(job, "%s: HTTP %ld%s%s", url, code, x.reason[0] ? " " : "", x.reason);
        goto out;
    }
    if (a.out) {
        int rc = out_commit(job, &o);
        if (rc == ECANCELED && api->cancelled(job))
            goto cancelled;
        if (rc) {
            failf(job, "%s: %s", a.out, errstr(rc, eb, sizeof eb));
            goto out;
        }
        ret = api->set_result(job, a.out) ? 1 : 0;
    } else {
        size_t nuls = as_comsub(&x.body);
        if (nuls) {
            char count[24];
            snprintf(count, sizeof count, "%zu", nuls);
            api->set_info(job, "nul_bytes", count); /* `bgjob result` warns as $(...) does */
        }
        ret = api->set_result(job, x.body.s ? x.body.s : "") ? 1 : 0;
    }
    if (!ret)
        api->progress(job, 1.0);
    goto out;
cancelled:
    /* The URL, then the reason in bgjob's own words (the time limit's value is not in the API). */
    switch (api->cancelled(job)) {
    case 2: failf(job, "%s: timed out (the job's time limit, bgjob new -t)", url); break;
    case 3: failf(job, "%s: cancelled at shell exit", url); break;
    default: failf(job, "%s: cancelled by bgjob kill", url); break;
    }
    ret = 1;
    goto out;
oom:
    api->fail(job, "fetch: out of memory");
    ret = 1;
out:
    out_discard(&o);
    fetch_handle_put(fh, reuse && !api->cancelled(job));
    curl_slist_free_all(hl);
    free(x.body.s);
    free(x.headers.s);
    free(hdrv);
    return ret;
}

BGJOB_EXPORT int bgjob_plugin_init(const struct bgjob_api *table)
{
    /* OpenSSL first; libcurl's own init then finds it initialised. */
    if (pu_init(&api, table, "fetch") || pu_openssl_init())
        return 1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    return pu_register(api, "fetch", fetch, USAGE, check);
}
