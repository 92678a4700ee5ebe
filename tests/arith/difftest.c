/* difftest.c - compares lib/arith against the system's bash 5.2 (`let').
 *
 * Cases come from a catalogue file (tests/arith/catalogue.txt) or from a
 * seeded random generator (gen.c).  Cases are batched: one bash script per
 * batch prints, for each case, the messages `let' wrote, its status, the
 * `declare -p' of every variable involved and the value (from a second run
 * of `let "__v=(EXPR)"' on a fresh setup).  The same setup is built into a
 * bgj_vars and evaluated in-process; any difference is printed with the
 * input, the setup, bash's answer and ours.  Single-threaded test program.
 *
 * usage: difftest [-v] [-b BATCH] catalogue FILE...
 *        difftest [-v] [-b BATCH] random SEED COUNT
 */
#define _GNU_SOURCE /* memmem */
#include "difftest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arith.h"
#include "vars.h"

static int verbose;
/* Every compared case is a pass, a mismatch, or excused: a mismatch where
   the job fails with "not supported in a background job" (listed in
   NOT-REPRODUCED.md), which is no pass. */
static long n_cases, n_pass, n_mismatch, n_shown, n_skipped, n_excused;
static const char *bash_path = "/bin/bash";
static char tmpdir[256] = "build/arith";

/* ---- small string helpers ---- */

void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            perror("realloc");
            exit(2);
        }
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
void sb_puts(strbuf *b, const char *s) { sb_add(b, s, strlen(s)); }
void sb_printf(strbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        perror("strdup");
        exit(2);
    }
    return p;
}

/* Quote for bash input: $'...' with every byte that is not alphanumeric
   written as \xHH (a safe form for any byte). */
void bash_quote(strbuf *b, const char *s)
{
    sb_puts(b, "$'");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == ' ')
            sb_add(b, (const char *)p, 1);
        else
            sb_printf(b, "\\x%02x", *p);
    }
    sb_puts(b, "'");
}

/* Readable form of a string for mismatch reports. */
void show(strbuf *b, const char *s)
{
    sb_puts(b, "\"");
    size_t shown = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, shown++) {
        if (shown == 400 && strlen((const char *)p) > 200) {
            size_t skip = strlen((const char *)p) - 200;
            sb_printf(b, "...(%zu bytes)...", skip);
            p += skip;
        }
        if (*p == '\n')
            sb_puts(b, "\\n");
        else if (*p == '\t')
            sb_puts(b, "\\t");
        else if (*p == '"' || *p == '\\')
            sb_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            sb_printf(b, "\\x%02x", *p);
        else
            sb_add(b, (const char *)p, 1);
    }
    sb_puts(b, "\"");
}

/* ---- running a batch ---- */

typedef struct {
    char *msgs, *status, *dump, *value;
} answer;

static void answer_free(answer *a)
{
    free(a->msgs);
    free(a->status);
    free(a->dump);
    free(a->value);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    strbuf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_add(&b, tmp, n);
    fclose(f);
    if (!b.p)
        sb_add(&b, "", 0);
    *len = b.n;
    return b.p;
}

/* Strip bash's "FILE: line N: " prefix from every line that has it. */
static char *strip_prefixes(const char *s, const char *script)
{
    strbuf b = {0};
    sb_add(&b, "", 0);
    size_t sl = strlen(script);
    while (*s) {
        if (strncmp(s, script, sl) == 0 && strncmp(s + sl, ": line ", 7) == 0) {
            const char *p = s + sl + 7;
            while (*p >= '0' && *p <= '9')
                p++;
            if (p[0] == ':' && p[1] == ' ')
                s = p + 2;
        }
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
        sb_add(&b, s, len);
        s += len;
    }
    return b.p;
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n')
            return 0;
    return 1;
}

/* The case's bash script: the expression run by `let' (messages, status,
   variables), then, when WANT_VALUE, its value from a second run on a fresh
   setup.  Our answer decides WANT_VALUE: bash's value is compared only when
   our evaluator gave one (see our_answer), so the second run is written only
   then.  A case that may end the shell (set -u) or that leaves readonly
   variables behind runs in subshells. */
static void write_case(strbuf *b, const tcase *t, int id, int want_value)
{
    char **names;
    int nn;
    case_names(t, &names, &nn);
    int risky = case_risky(t);
    strbuf q = {0};
    bash_quote(&q, t->expr);
    sb_printf(b, "printf '\\n@@C %d\\n'\n", id);
    if (risky)
        sb_puts(b, "(\n");
    bash_setup(b, t, names, nn);
    if (t->nounset)
        sb_puts(b, "set -u\n");
    sb_printf(b, "__st=X; let -- %s; __st=$?\n", q.p);
    sb_puts(b, "printf '\\n@@S %s\\n' \"$__st\"\n");
    if (nn) {
        sb_puts(b, "set +u; for __n in");
        for (int i = 0; i < nn; i++)
            sb_printf(b, " %s", names[i]);
        sb_puts(b, "; do declare -p $__n 2>/dev/null || echo \"-- $__n\"; done\n");
    }
    if (risky)
        sb_puts(b, ")\n");
    if (!want_value)
        goto done;
    if (risky)
        sb_puts(b, "(\n");
    bash_setup(b, t, names, nn);
    if (t->nounset)
        sb_puts(b, "set -u\n");
    if (is_blank(t->expr))
        sb_puts(b, "__v=0\n");
    else {
        strbuf w = {0}, wq = {0};
        sb_puts(&w, "__v=(");
        sb_puts(&w, t->expr);
        sb_puts(&w, ")");
        bash_quote(&wq, w.p);
        sb_printf(b, "__v=X; let -- %s 2>/dev/null\n", wq.p);
        free(w.p);
        free(wq.p);
    }
    sb_puts(b, "printf '\\n@@V %s\\n' \"$__v\"\n");
    if (risky)
        sb_puts(b, ")\n");
done:
    free(q.p);
    free_names(names, nn);
}

/* Run bash on SCRIPT; return its output (stdout and stderr together). */
static char *run_bash(const char *script_path, size_t *len)
{
    char out_path[600];
    snprintf(out_path, sizeof out_path, "%s.out", script_path);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout) || dup2(1, 2) < 0)
            _exit(127);
        execl(bash_path, "bash", "--norc", "--noprofile", script_path, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return read_file(out_path, len);
}

/* Split bash's output into answers indexed by case number. */
static void parse_output(const char *out, answer *ans, int n, const char *script)
{
    const char *p = out;
    while ((p = strstr(p, "\n@@C ")) != NULL) {
        p += 5;
        int id = atoi(p);
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
        const char *next = strstr(p, "\n@@C ");
        const char *end = next ? next : p + strlen(p);
        if (id < 0 || id >= n) {
            p = end;
            continue;
        }
        answer *a = &ans[id];
        const char *s = strstr(p, "\n@@S ");
        if (!s || s > end)
            s = NULL;
        const char *v = strstr(p, "\n@@V ");
        if (!v || v > end)
            v = NULL;
        const char *msg_end = s ? s : v ? v : end;
        /* messages: everything before the status marker (one separating
       newline came from the printf) */
        char *raw = strndup(p, (size_t)(msg_end - p));
        a->msgs = strip_prefixes(raw, script);
        free(raw);
        if (s) {
            const char *sv = s + 5;
            const char *nl = strchr(sv, '\n');
            a->status = strndup(sv, nl ? (size_t)(nl - sv) : strlen(sv));
            const char *dstart = nl ? nl + 1 : sv + strlen(sv);
            const char *dend = v ? v : end;
            if (dend < dstart)
                dend = dstart;
            char *d = strndup(dstart, (size_t)(dend - dstart));
            strbuf cd = {0};
            sb_add(&cd, "", 0);
            canon_bash_dump(&cd, d);
            free(d);
            a->dump = cd.p;
        }
        if (v) {
            const char *vv = v + 5;
            const char *nl = strchr(vv, '\n');
            a->value = strndup(vv, nl ? (size_t)(nl - vv) : strlen(vv));
        }
        p = end;
    }
}

static void report(const tcase *t, const answer *b, const answer *o)
{
    n_mismatch++;
    if (n_shown++ >= 30)
        return;
    strbuf r = {0};
    sb_printf(&r, "MISMATCH%s%s\n  expr:  ", t->group ? " in group " : "", t->group ? t->group : "");
    show(&r, t->expr);
    sb_puts(&r, "\n  setup: ");
    for (int i = 0; i < t->ndecl; i++) {
        const decl *d = &t->decl[i];
        sb_printf(&r, "%c%s%s %s", d->kind, d->attrs & BGJ_ATTR_READONLY ? "r" : "",
                  d->attrs & BGJ_ATTR_INTEGER ? "i" : "", d->name);
        if (d->value) {
            sb_puts(&r, "=");
            show(&r, d->value);
        }
        for (int j = 0; j < d->n; j++) {
            sb_printf(&r, " [%s]=", d->keys[j]);
            show(&r, d->vals[j]);
        }
        sb_puts(&r, "; ");
    }
    if (t->nounset)
        sb_puts(&r, "set -u");
    const char *lab[4] = {"messages", "status", "variables", "value"};
    const char *bv[4] = {b->msgs, b->status, b->dump, b->value};
    const char *ov[4] = {o->msgs, o->status, o->dump, o->value};
    for (int k = 0; k < 4; k++) {
        const char *x = bv[k] ? bv[k] : "(none)", *y = ov[k] ? ov[k] : "(none)";
        if (strcmp(x, y) == 0)
            continue;
        sb_printf(&r, "\n  %s:\n    bash: ", lab[k]);
        show(&r, x);
        sb_puts(&r, "\n    ours: ");
        show(&r, y);
    }
    fprintf(stderr, "%s\n", r.p);
    free(r.p);
}

/* Our answer for T, in the same shape as bash's. */
static void our_answer(const tcase *t, answer *o)
{
    bgj_vars *v = c_setup(t);
    intmax_t val = 0;
    struct bgj_err err = {0};
    bgj_arith_info info;
    int r = bgj_arith_eval(t->expr, v, &val, &err, &info);
    strbuf m = {0};
    sb_add(&m, "", 0);
    sb_puts(&m, bgj_vars_messages(v));
    if (r < 0) {
        sb_puts(&m, info.let_prefix ? "let: " : "");
        sb_puts(&m, bgj_err_text(&err));
        sb_puts(&m, "\n");
    }
    o->msgs = m.p;
    int risky = case_risky(t);
    if (r < 0 && info.abort == 2) {
        o->status = NULL; /* the shell exits: nothing more is printed */
    } else if (r < 0 && info.abort == 1) {
        o->status = xstrdup("X");
    } else {
        o->status = xstrdup(r < 0 || val == 0 ? "1" : "0");
    }
    if (o->status && !(risky && r < 0 && info.abort)) {
        char **names;
        int nn;
        case_names(t, &names, &nn);
        strbuf d = {0};
        sb_add(&d, "", 0);
        c_dump(&d, v, names, nn);
        o->dump = d.p;
        free_names(names, nn);
    }
    /* The value run only means something when the expression succeeded
     (bash may assign __v before it finds a trailing syntax error). */
    if (r == 0) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%jd", val);
        o->value = xstrdup(tmp);
    }
    if (risky && r < 0 && info.abort == 1)
        o->status = (free(o->status), NULL);
    bgj_err_clear(&err);
    bgj_vars_free(v);
}

/* Run and compare a batch of cases. */
void run_batch(tcase *cases, int n)
{
    static int batchno;
    char script[512];
    snprintf(script, sizeof script, "%s/batch%d.sh", tmpdir, getpid());
    answer *ours = calloc((size_t)n, sizeof *ours);
    if (!ours) {
        perror("calloc");
        exit(2);
    }
    strbuf s = {0};
    sb_puts(&s, "set +o histexpand 2>/dev/null\n");
    for (int i = 0; i < n; i++)
        if (!case_skipped(&cases[i])) {
            our_answer(&cases[i], &ours[i]);
            write_case(&s, &cases[i], i, ours[i].value != NULL);
        }
    sb_puts(&s, "printf '\\n@@C -1\\n@@END\\n'\n");
    FILE *f = fopen(script, "w");
    if (!f) {
        perror(script);
        exit(2);
    }
    fwrite(s.p, 1, s.n, f);
    fclose(f);
    free(s.p);
    size_t len;
    char *out = run_bash(script, &len);
    if (!out) {
        fprintf(stderr, "difftest: no output from bash\n");
        exit(2);
    }
    /* A shell that stopped before the end of its script (a case ended it
       that was not run in a subshell) would leave the cases after it without
       an answer: that is an error of the test, not a pass. */
    if (!memmem(out, len, "\n@@C -1\n@@END\n", strlen("\n@@C -1\n@@END\n"))) {
        fprintf(stderr, "difftest: bash stopped before the end of %s (kept, with its output)\n", script);
        exit(2);
    }
    /* A leading newline so the first marker is found like the others. */
    strbuf o = {0};
    sb_puts(&o, "\n");
    sb_add(&o, out, len);
    free(out);
    answer *ans = calloc((size_t)n, sizeof *ans);
    parse_output(o.p, ans, n, script);
    free(o.p);
    for (int i = 0; i < n; i++) {
        if (case_skipped(&cases[i])) {
            n_skipped++;
            continue;
        }
        answer *our = &ours[i];
        n_cases++;
        if (!our->value) {
            free(ans[i].value);
            ans[i].value = NULL;
        }
        const char *b4[4] = {ans[i].msgs, ans[i].status, ans[i].dump, ans[i].value};
        const char *o4[4] = {our->msgs, our->status, our->dump, our->value};
        int same = 1;
        for (int k = 0; k < 4; k++) {
            const char *x = b4[k] ? b4[k] : "", *y = o4[k] ? o4[k] : "";
            if (strcmp(x, y) != 0)
                same = 0;
        }
        if (!same && our->msgs && strstr(our->msgs, "not supported in a background job")) {
            n_excused++; /* listed in NOT-REPRODUCED.md */
            if (verbose)
                fprintf(stderr, "excused: %s\n", cases[i].expr);
        } else if (!same) {
            report(&cases[i], &ans[i], our);
        } else {
            n_pass++;
            if (verbose)
                fprintf(stderr, "ok %s\n", cases[i].expr);
        }
        answer_free(our);
        answer_free(&ans[i]);
    }
    free(ans);
    free(ours);
    batchno++;
    if (n_mismatch == 0) {
        /* keep the files of a failing batch for inspection */
        char out_path[600];
        snprintf(out_path, sizeof out_path, "%s.out", script);
        unlink(script);
        unlink(out_path);
    }
}

int main(int argc, char **argv)
{
    int batch = 500;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            snprintf(tmpdir, sizeof tmpdir, "%s", argv[++i]);
    }
    if (i >= argc) {
        fprintf(stderr, "usage: difftest [-v] [-b N] [-d DIR] catalogue FILE... | random SEED COUNT\n");
        return 2;
    }
    time_t t0 = time(NULL);
    if (strcmp(argv[i], "catalogue") == 0) {
        for (i++; i < argc; i++)
            run_catalogue(argv[i], batch);
        printf(
            "catalogue: %ld cases: %ld passed, %ld failed, %ld excused (not supported in a background job)\n",
            n_cases, n_pass, n_mismatch, n_excused);
    } else if (strcmp(argv[i], "random") == 0 && i + 2 < argc) {
        unsigned long long seed = strtoull(argv[i + 1], NULL, 0);
        long count = atol(argv[i + 2]);
        printf("random: seed %llu (replay with SEED=%llu)\n", seed, seed);
        fflush(stdout);
        run_random(seed, count, batch);
        printf("random: %ld cases: %ld passed, %ld failed, %ld excused (not supported in a background job), "
               "%ld skipped (name `_'), %ld s\n",
               n_cases, n_pass, n_mismatch, n_excused, n_skipped, (long)(time(NULL) - t0));
    } else {
        fprintf(stderr, "difftest: unknown mode\n");
        return 2;
    }
    return n_mismatch ? 1 : 0;
}
