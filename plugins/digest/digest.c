/*
 * digest.c - the `digest` bgjob plugin: message digests of files with
 * OpenSSL's EVP interface, printed exactly as coreutils' sha256sum (md5sum,
 * sha512sum, ...) prints them.
 *
 *   bgjob load digest
 *   bgjob new -f digest [-a ALGORITHM] FILE...
 *
 * The result is the lines `HEX  NAME` (sha256sum's format and file name
 * escaping), without the final newline.  A file that cannot be read makes the
 * job Dead; its traceback is what sha256sum prints for the same files, the
 * hash lines and the error lines (without the program prefix) in order.  A
 * second -a is a usage error (refused at `new` by the argument checker).
 *
 * Files are streamed through a fixed buffer; progress counts bytes over all
 * files (their sizes are taken first); the callback checks for cancellation
 * after every buffer.  Each call keeps its state on its own stack and heap.
 * The one shared object is the default algorithm (sha256), fetched once by
 * the init function and only read afterwards (OpenSSL counts its references
 * atomically): the check at `new` and each job skip the provider lookup for
 * it.  No lock.  OpenSSL is initialised once at load time without its
 * exit-time cleanup, so a job still hashing while the shell exits never runs
 * into a freed library.
 */
#define _GNU_SOURCE /* strerror_r returning the message, posix_fadvise */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bgjob.h>
#include <openssl/evp.h>

#include "openssl_init.h"
#include "plugin_util.h"

BGJOB_PLUGIN_VERSION;

static const struct bgjob_api *api;
static EVP_MD *default_md; /* DEFAULT_ALG, fetched at init; NULL if that failed */

#define DEFAULT_ALG "sha256"

#define USAGE   "digest [-a ALGORITHM] FILE...  (sha256sum lines; any OpenSSL digest, default sha256)"
#define BUFSIZE (128 * 1024)

/* ---- arguments ---- */
struct args {
    const char *alg;
    int first; /* index of the first FILE in argv */
};

/* Parses [-a ALG] [--] FILE... (-a at most once); returns 0, or -1 with a message in MSG. */
static int parse(int argc, char **argv, struct args *a, char *msg, size_t msglen)
{
    int i = 1;
    a->alg = NULL;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strncmp(argv[i], "-a", 2) && a->alg) {
            snprintf(msg, msglen, "digest: -a: given more than once");
            return -1;
        }
        if (!strcmp(argv[i], "-a")) {
            if (++i == argc) {
                snprintf(msg, msglen, "digest: -a: option requires an argument");
                return -1;
            }
            a->alg = argv[i];
        } else if (!strncmp(argv[i], "-a", 2)) {
            a->alg = argv[i] + 2;
        } else {
            snprintf(msg, msglen, "digest: %.64s: invalid option", argv[i]);
            return -1;
        }
    }
    if (!a->alg)
        a->alg = DEFAULT_ALG;
    if (i == argc) {
        snprintf(msg, msglen, "digest: FILE operand expected");
        return -1;
    }
    for (int j = i; j < argc; j++)
        if (!strcmp(argv[j], "-")) {
            snprintf(msg, msglen, "digest: -: standard input is not supported, name a file");
            return -1;
        }
    a->first = i;
    return 0;
}

/* The digest ALG names (a reference the caller frees with EVP_MD_free), or NULL. */
static EVP_MD *md_fetch(const char *alg)
{
    if (default_md && !strcmp(alg, DEFAULT_ALG) && EVP_MD_up_ref(default_md))
        return default_md;
    return EVP_MD_fetch(NULL, alg, NULL);
}

static int check(int argc, char **argv, void *payload, char *msg, size_t msglen)
{
    (void)payload;
    struct args a;
    if (parse(argc, argv, &a, msg, msglen))
        return 1;
    EVP_MD *md = md_fetch(a.alg);
    if (!md) {
        snprintf(msg, msglen, "digest: %.64s: unknown algorithm", a.alg);
        return 1;
    }
    EVP_MD_free(md);
    return 0;
}

/* ---- names as coreutils prints them ---- */

/* The escaped name of a hash line: '\\' -> "\\\\", '\n' -> "\\n", '\r' -> "\\r". */
static int needs_escape(const char *name) { return strpbrk(name, "\\\n\r") != NULL; }

static void put_escaped(struct pu_buf *b, const char *name)
{
    for (const char *p = name; *p; p++) {
        if (*p == '\\')
            pu_puts(b, "\\\\");
        else if (*p == '\n')
            pu_puts(b, "\\n");
        else if (*p == '\r')
            pu_puts(b, "\\r");
        else
            pu_putc(b, *p);
    }
}

/* The name in an error message: gnulib's quotef (shell-escape quoting, ':'
   quoted too), as sha256sum prints it in a UTF-8 locale. */
static void put_quoted(struct pu_buf *b, const char *name)
{
    size_t len = strlen(name);
    int needq = len == 0, compat = 1, sq = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (isalnum(c) && c < 0x80)
            continue;
        if (strchr("%+,-./]_", c))
            continue;
        if (c == ':' || c == ' ') {
            needq = 1;
        } else if (c == '\'') {
            needq = sq = 1;
        } else if ((c == '#' || c == '~') && i == 0) {
            needq = 1, compat = 0;
        } else if ((c == '{' || c == '}') && len == 1) {
            needq = 1, compat = 0;
        } else if (strchr("!\"$&()*;<=>[^`|\\?", c) || c < 0x20 || c == 0x7f) {
            needq = 1, compat = 0;
        } else {
            compat = 0;
        }
    }
    if (!needq) {
        pu_puts(b, name);
        return;
    }
    if (sq && compat) {
        pu_putc(b, '"');
        pu_puts(b, name);
        pu_putc(b, '"');
        return;
    }
    int open = 1;
    pu_putc(b, '\'');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            static const char named[] = "\a\b\f\n\r\t\v", letters[] = "abfnrtv";
            const char *n = c ? strchr(named, c) : NULL;
            char esc[8];
            if (n)
                snprintf(esc, sizeof esc, "\\%c", letters[n - named]);
            else
                snprintf(esc, sizeof esc, "\\%03o", c);
            if (open)
                pu_putc(b, '\'');
            pu_puts(b, "$'");
            pu_puts(b, esc);
            pu_putc(b, '\'');
            open = 0;
            continue;
        }
        if (!open) {
            pu_putc(b, '\'');
            open = 1;
        }
        if (c == '\'')
            pu_puts(b, "'\\''");
        else
            pu_putc(b, (char)c);
    }
    if (open)
        pu_putc(b, '\'');
}

static void put_error(struct pu_buf *b, const char *name, int err)
{
    char ebuf[128];
    const char *e = strerror_r(err, ebuf, sizeof ebuf);
    put_quoted(b, name);
    pu_puts(b, ": ");
    pu_puts(b, e);
}

/* ---- the callback ---- */

struct run {
    bgjob_job *job;
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
    unsigned char *buf;
    double done, total;
    int single; /* one FILE: its size is taken once it is open */
};

/*
 * Hashes one file into HEX; returns 0, an errno value, or -1 when cancelled.
 * A relative NAME is in the job's directory.  A FIFO or device may block:
 * it is read without blocking, waiting in poll() on it and on the job's
 * cancel descriptor, so kill and a time limit end the job at once.
 */
static int hash_file(struct run *r, const char *name, char *hex)
{
    int fd = api->open(r->job, name, O_RDONLY | O_NONBLOCK, 0);
    if (fd < 0)
        return errno;
    struct stat st;
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular) {
        fcntl(fd, F_SETFL, O_RDONLY); /* a regular file never blocks */
        if (st.st_size > BUFSIZE)
            posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        if (r->single)
            r->total = (double)st.st_size;
    }
    if (!EVP_DigestInit_ex(r->ctx, r->md, NULL)) {
        close(fd);
        return ENOMEM;
    }
    int rc = 0;
    off_t got = 0;
    for (;;) {
        if (api->cancelled(r->job)) {
            rc = -1;
            break;
        }
        if (!regular) {
            /* (a FIFO with no writer yet: poll waits for one, as a blocking open would) */
            struct pollfd pf[2] = {{fd, POLLIN, 0}, {api->cancel_fd(r->job), POLLIN, 0}};
            if (poll(pf, 2, -1) < 0 && errno != EINTR) {
                rc = errno;
                break;
            }
            if (api->cancelled(r->job)) {
                rc = -1;
                break;
            }
            if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
        }
        ssize_t n = read(fd, r->buf, BUFSIZE);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            rc = errno;
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(r->ctx, r->buf, (size_t)n);
        r->done += (double)n;
        got += n;
        if (r->total > 0)
            api->progress(r->job, r->done < r->total ? r->done / r->total : 1.0);
        /* A short read that reaches the size fstat gave is the end: the read that would return 0
           is saved (one system call per small file). */
        if (regular && n < BUFSIZE && got == st.st_size)
            break;
    }
    close(fd);
    if (rc)
        return rc;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_DigestFinal_ex(r->ctx, md, &mdlen))
        return ENOMEM;
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * mdlen] = 0;
    return 0;
}

static int digest(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    char msg[256];
    struct args a;
    if (parse(argc, argv, &a, msg, sizeof msg))
        return api->fail(job, msg), 2;
    struct run r = {.job = job};
    EVP_MD *md = md_fetch(a.alg);
    if (!md) {
        snprintf(msg, sizeof msg, "digest: %.64s: unknown algorithm", a.alg);
        return api->fail(job, msg), 2;
    }
    r.md = md;
    r.ctx = EVP_MD_CTX_new();
    r.buf = malloc(BUFSIZE);
    struct pu_buf out = {0};
    int failed = 0, cancelled = 0;
    if (!r.ctx || !r.buf) {
        out.oom = 1;
        goto done;
    }
    r.single = argc - a.first == 1;
    int dfd = r.single ? -1 : api->dirfd(job); /* one file: its size comes from its own fstat */
    for (int i = a.first; i < argc && !r.single; i++) {
        struct stat st;
        if (fstatat(dfd >= 0 ? dfd : AT_FDCWD, argv[i], &st, 0) == 0 && S_ISREG(st.st_mode))
            r.total += (double)st.st_size;
    }
    for (int i = a.first; i < argc && !out.oom; i++) {
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        int rc = hash_file(&r, argv[i], hex);
        if (rc < 0) {
            cancelled = 1;
            break;
        }
        if (out.len)
            pu_putc(&out, '\n');
        if (rc) {
            failed = 1;
            put_error(&out, argv[i], rc);
            continue;
        }
        int esc = needs_escape(argv[i]);
        if (esc)
            pu_putc(&out, '\\');
        pu_puts(&out, hex);
        pu_puts(&out, "  ");
        if (esc)
            put_escaped(&out, argv[i]);
        else
            pu_puts(&out, argv[i]);
    }
done:;
    int ret = 0;
    if (cancelled) {
        ret = 1; /* bgjob words the cancellation (kill, timeout, exit) */
    } else if (out.oom) {
        api->fail(job, "digest: out of memory");
        ret = 1;
    } else if (failed) {
        api->fail(job, out.s);
        ret = 1;
    } else {
        api->progress(job, 1.0);
        ret = api->set_result(job, out.s ? out.s : "") ? 1 : 0;
    }
    free(out.s);
    free(r.buf);
    EVP_MD_CTX_free(r.ctx);
    EVP_MD_free(md);
    return ret;
}

BGJOB_EXPORT int bgjob_plugin_init(const struct bgjob_api *table)
{
    if (pu_init(&api, table, "digest") || pu_openssl_init())
        return 1;
    if (!default_md)
        default_md = EVP_MD_fetch(NULL, DEFAULT_ALG, NULL); /* kept for the process's life */
    return pu_register(api, "digest", digest, USAGE, check);
}
