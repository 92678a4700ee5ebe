/*
 * test_records.c - the records of lib/: the JSON writer (every byte
 * sequence gives valid JSON; bytes that are not UTF-8 as \udcXY) and the
 * reader (the writer's output read back byte for byte, malformed input
 * refused), a job's JSON object and joblog line, the resume table read from
 * a log, and the log written by the threads that end real jobs (whole
 * lines, one per job).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "info.h"
#include "jobs_util.h"
#include "joblog.h"
#include "json.h"
#include "record.h"
#include "resume.h"
#include "strbuf.h"

/* S as a JSON string (malloc'd). */
static char *js(const char *s, size_t n)
{
    struct bgj_strbuf b = {0};
    bgj_json_str(&b, s, n);
    return bgj_sb_take(&b);
}

static void test_writer(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", "\"\""},
        {"plain text", "\"plain text\""},
        {"q\"b\\s/", "\"q\\\"b\\\\s/\""},
        {"a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\""},
        {"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"\xff\xfe", "\"\\udcff\\udcfe\""},
        {"\xc3", "\"\\udcc3\""},                                  /* cut sequence */
        {"\xc0\xaf", "\"\\udcc0\\udcaf\""},                       /* overlong '/' */
        {"\xe0\x80\xaf", "\"\\udce0\\udc80\\udcaf\""},            /* overlong, 3 bytes */
        {"\xed\xa0\x80", "\"\\udced\\udca0\\udc80\""},            /* an encoded surrogate */
        {"\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\""}, /* past U+10FFFF */
        {"a\x80z", "\"a\\udc80z\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *o = js(cases[i].in, strlen(cases[i].in));
        CHECK_STR(o, cases[i].out);
        free(o);
    }
    struct bgj_strbuf b = {0};
    bgj_json_cstr(&b, NULL);
    CHECK_STR(b.p, "null");
    bgj_sb_free(&b);
    /* a NUL inside the bytes given */
    char *o = js("a\0b", 3);
    CHECK_STR(o, "\"a\\u0000b\"");
    free(o);
}

/* Reader callback: keeps the value of member "s" (and counts members). */
struct got {
    char *s;
    size_t len, members;
    int type;
};
static int on_s(const char *key, const struct bgj_json_val *v, void *ctx)
{
    struct got *g = ctx;
    g->members++;
    if (strcmp(key, "s") == 0) {
        free(g->s);
        g->s = v->str ? bgj_strndup(v->str, v->len) : NULL;
        g->len = v->len;
        g->type = v->type;
    }
    return 0;
}

/* Writes BYTES as {"s":...}, reads it back: 1 when the same bytes come back. */
static int round_trip(const char *bytes, size_t n)
{
    struct bgj_strbuf b = {0};
    bgj_sb_puts(&b, "{\"s\":");
    bgj_json_str(&b, bytes, n);
    bgj_sb_puts(&b, "}");
    struct got g = {0};
    int ok = bgj_json_object(b.p, b.n, on_s, &g) == 0 && g.type == BGJ_JSON_STRING && g.len == n &&
             memcmp(g.s, bytes, n) == 0;
    free(g.s);
    bgj_sb_free(&b);
    return ok;
}

static void test_reader(void)
{
    /* every single byte but NUL, and random NUL-free sequences */
    int all = 1;
    for (int c = 1; c < 256; c++) {
        char s[3] = {'x', (char)c, 'y'};
        all &= round_trip(s, 3);
    }
    CHECK(all);
    unsigned seed = 12345;
    all = 1;
    for (int t = 0; t < 20000; t++) {
        char s[64];
        size_t n = (size_t)(rand_r(&seed) % 64);
        for (size_t i = 0; i < n; i++) {
            int c;
            do
                c = rand_r(&seed) % 256;
            while (c == 0);
            s[i] = (char)c;
        }
        all &= round_trip(s, n);
    }
    CHECK(all);
    CHECK(round_trip("\xf0\x9f\x98\x80 \xe2\x82\xac\xff", 9));

    /* the escapes other writers use: surrogate pairs, \u of BMP characters, \/ */
    struct got g = {0};
    const char *t =
        "{\"a\":[1,{\"b\":null}],\"s\":\"\\ud83d\\ude00\\u00e9\\/\\udc80\",\"n\":-1.5e3,\"t\":true}";
    CHECK(bgj_json_object(t, strlen(t), on_s, &g) == 0);
    CHECK(g.members == 4);
    CHECK(g.s && g.len == 8 && memcmp(g.s, "\xf0\x9f\x98\x80\xc3\xa9/\x80", 8) == 0);
    free(g.s);

    static const char *const bad[] = {
        "",
        "{",
        "{\"s\":\"abc}",       /* cut in a string (a log line cut by a crash) */
        "{\"s\":1,}",          /* trailing comma */
        "{\"s\":1} x",         /* something after the object */
        "{\"s\":\"\\ud83d\"}", /* lone high surrogate */
        "{\"s\":\"\\udc10\"}", /* lone low surrogate that is no escaped byte */
        "{\"s\":\"\\x41\"}",   /* no such escape */
        "{\"s\":\"a\tb\"}",    /* raw control character */
        "{\"s\":01}",          /* leading zero */
        "{\"s\":[1,2}",        /* unclosed array */
        "[1]",                 /* not an object */
        "{s:1}",               /* unquoted key */
        "{\"s\":tru}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct got h = {0};
        int r = bgj_json_object(bad[i], strlen(bad[i]), on_s, &h);
        if (r != BGJ_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(r == BGJ_EINVAL);
        free(h.s);
    }
    /* deep nesting is refused, not a stack overflow */
    char deep[400];
    memset(deep, '[', sizeof deep);
    memcpy(deep, "{\"s\":", 5);
    struct got h = {0};
    CHECK(bgj_json_object(deep, sizeof deep, on_s, &h) == BGJ_EINVAL);
}

/* Members of a record, for the checks. */
struct fields {
    char *v[32][2];
    int n;
};
static int on_field(const char *key, const struct bgj_json_val *v, void *ctx)
{
    struct fields *f = ctx;
    if (f->n < 32) {
        f->v[f->n][0] = strdup(key);
        f->v[f->n][1] = v->type == BGJ_JSON_NULL   ? strdup("null")
                        : v->type == BGJ_JSON_BOOL ? strdup(v->truth ? "true" : "false")
                                                   : bgj_strndup(v->str, v->len);
        f->n++;
    }
    return 0;
}
static const char *field(const struct fields *f, const char *key)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->v[i][0], key) == 0)
            return f->v[i][1];
    return NULL;
}
static void fields_free(struct fields *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->v[i][0]), free(f->v[i][1]);
}

static void test_record(void)
{
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "run printf a\nb", NULL, NULL, NULL);
    char *argv[] = {"run", "printf", "a\nb\xff"};
    bgj_job_side(j)->rec = bgj_rec_new(3, argv, "/tmp", NULL);
    j->id = 7;
    j->result = strdup("out\xfe");
    bgj_set_started(j, 1700000000.1234564);
    j->finished = 1700000001.5;
    bgj_info_set(&bgj_job_side(j)->info, "exit", "0");
    bgj_info_set(&bgj_job_side(j)->info, "signal", "");
    bgj_info_set(&bgj_job_side(j)->info, "max_rss_kb", "2048");
    bgj_info_set(&bgj_job_side(j)->info, "user_s", "0.250000");
    bgj_info_set(&bgj_job_side(j)->info, "sys_s", "0.010000");
    bgj_info_set(&bgj_job_side(j)->info, "stdout", "out\xfe\n");
    bgj_info_set(&bgj_job_side(j)->info, "stderr", "err\n");
    struct bgj_strbuf b = {0};
    bgj_rec_json(&b, j, BGJ_COMPLETED, 1);
    CHECK(b.n > 0 && b.p[b.n - 1] == '\n' && !memchr(b.p, '\n', b.n - 1));
    struct fields f = {0};
    CHECK(bgj_json_object(b.p, b.n, on_field, &f) == 0);
    CHECK_STR(field(&f, "schema"), "1");
    CHECK_STR(field(&f, "id"), "7");
    CHECK_STR(field(&f, "command"), "run printf a\nb");
    CHECK_STR(field(&f, "argv"), "[\"run\",\"printf\",\"a\\nb\\udcff\"]");
    CHECK_STR(field(&f, "kind"), "callback");
    CHECK_STR(field(&f, "state"), "Completed");
    CHECK_STR(field(&f, "exit"), "0");
    CHECK_STR(field(&f, "signal"), "null");
    CHECK_STR(field(&f, "started"), "1700000000.123456");
    CHECK_STR(field(&f, "finished"), "1700000001.500000");
    CHECK_STR(field(&f, "elapsed"), "1.376544");
    CHECK_STR(field(&f, "group"), "null");
    CHECK_STR(field(&f, "after"), "[]");
    CHECK_STR(field(&f, "attempt"), "1");
    CHECK_STR(field(&f, "pid"), "null");
    CHECK_STR(field(&f, "max_rss_kb"), "2048");
    CHECK_STR(field(&f, "user_s"), "0.250000");
    CHECK_STR(field(&f, "sys_s"), "0.010000");
    CHECK_STR(field(&f, "key"), "null");
    CHECK_STR(field(&f, "dir"), "/tmp");
    CHECK_STR(field(&f, "resumed"), "false");
    CHECK_STR(field(&f, "result"), "out\xfe");
    CHECK_STR(field(&f, "traceback"), "null");
    fields_free(&f);
    /* without OUTPUT: no result, no traceback */
    bgj_sb_reset(&b);
    bgj_rec_json(&b, j, BGJ_COMPLETED, 0);
    CHECK(strstr(b.p, "\"result\"") == NULL && strstr(b.p, "\"traceback\"") == NULL);

    /* the joblog line: GNU parallel's columns and number formats */
    bgj_sb_reset(&b);
    bgj_rec_joblog(&b, j, BGJ_COMPLETED);
    const char want[] = "7\t:\t1700000000.123\t     1.377\t0\t9\t0\t0\tprintf a\0b\n";
    CHECK(b.n == sizeof want - 1 && memcmp(b.p, want, b.n) == 0);
    if (b.n != sizeof want - 1 || memcmp(b.p, want, b.n) != 0)
        fprintf(stderr, "joblog line: %s", b.p);
    /* killed by a signal: Exitval 0 and the signal's number, as GNU parallel writes */
    bgj_info_set(&bgj_job_side(j)->info, "exit", "");
    bgj_info_set(&bgj_job_side(j)->info, "signal", "SIGKILL");
    bgj_sb_reset(&b);
    bgj_rec_joblog(&b, j, BGJ_DEAD);
    CHECK(strstr(b.p, "\t0\t9\tprintf") != NULL);
    bgj_sb_free(&b);
    CHECK_STR(bgj_rec_joblog_header,
              "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n");
    bgj_job_free(j);
}

/*
 * ThreadSanitizer tracks descriptors by number in one table, but bgjob's
 * threads work in a table of their own (loop.h): a file this thread opens
 * gets a number the I/O thread also uses there (its epoll descriptor), which
 * TSan reports as a race on that number.  The functions of this thread that
 * only open and read files are exempt from that report.
 */
const char *__tsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__tsan_default_suppressions(void)
{
    return "race:bgj_resume_load\nrace:bgj_joblog_start\nrace:count_lines\nrace:write_file\nrace:test_"
           "resume\n";
}

static char tmpdir[] = "/tmp/bgjob-records-XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_resume(void)
{
    char path[200];
    snprintf(path, sizeof path, "%s/resume.jsonl", tmpdir);
    write_file(
        path, "{\"schema\":1,\"id\":0,\"command\":\"run true\",\"kind\":\"callback\",\"state\":\"Completed\","
              "\"dir\":\"/d\",\"key\":null,\"result\":\"old\"}\n"
              "{\"schema\":1,\"id\":1,\"command\":\"run true\",\"kind\":\"callback\",\"state\":\"Completed\","
              "\"dir\":\"/d\",\"key\":null,\"result\":\"new\\udcff\"}\n"
              "{\"schema\":1,\"id\":2,\"command\":\"run false\",\"kind\":\"callback\",\"state\":\"Dead\","
              "\"dir\":\"/d\",\"key\":null,\"result\":null}\n"
              "{\"schema\":1,\"id\":3,\"command\":\"x\",\"kind\":\"arith\",\"state\":\"Completed\","
              "\"dir\":\"/d\",\"key\":\"k1\",\"result\":\"42\"}\n"
              "\n"
              "{\"schema\":2,\"id\":4,\"command\":\"y\",\"kind\":\"arith\",\"state\":\"Completed\","
              "\"result\":\"1\"}\n"
              "{\"schema\":1,\"id\":5,\"command\":\"z\",\"kind\":\"arith\",\"state\":\"Compl");
    size_t kept, bad;
    struct bgj_err err = {0};
    CHECK(bgj_resume_load(path, "resume.jsonl", &kept, &bad, &err) == 0);
    CHECK(kept == 3 && bad == 2);
    CHECK(bgj_resume_count() == 2);
    CHECK_STR(bgj_resume_find(NULL, "callback", "run true", "/d"), "new\xff");
    CHECK(bgj_resume_find(NULL, "callback", "run true", "/e") == NULL);
    CHECK(bgj_resume_find(NULL, "arith", "run true", "/d") == NULL);
    CHECK(bgj_resume_find(NULL, "callback", "run false", "/d") == NULL);
    CHECK_STR(bgj_resume_find("k1", "arith", "anything", "/elsewhere"), "42");
    CHECK(bgj_resume_find(NULL, "arith", "x", "/d") == NULL); /* a keyed record matches only its key */
    CHECK(bgj_resume_find("k2", "arith", "x", "/d") == NULL);

    /* a resumed job: Completed with the recorded result, without running its work */
    bgjob_job *j = bgj_job_new(BGJ_KIND_CALLBACK, "run true", run_value, NULL, (void *)(intptr_t)3);
    bgj_job_side(j)->rec = bgj_rec_new(0, NULL, "/d", NULL);
    CHECK(bgj_resume_job(j, bgj_resume_find(NULL, "callback", "run true", "/d")) == 0);
    int64_t id = bgj_submit(j, 0);
    CHECK(id >= 0 && wait_ids(&id, 1) == 0);
    CHECK(state_of(id) == BGJ_COMPLETED);
    CHECK_STR(bgj_find(id)->result, "new\xff");
    CHECK(bgj_rec_of(bgj_find(id))->resumed == 1);
    CHECK(bgj_remove(id) == 0);

    /* many records: the table grows */
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 5000; i++)
        fprintf(f,
                "{\"schema\":1,\"command\":\"c%d\",\"kind\":\"arith\",\"state\":\"Completed\",\"dir\":null,"
                "\"key\":null,\"result\":\"r%d\"}\n",
                i, i);
    fclose(f);
    bgj_resume_clear();
    CHECK(bgj_resume_load(path, "resume.jsonl", &kept, &bad, &err) == 0);
    CHECK(kept == 5000 && bad == 0 && bgj_resume_count() == 5000);
    CHECK_STR(bgj_resume_find(NULL, "arith", "c4999", NULL), "r4999");
    CHECK_STR(bgj_resume_find(NULL, "arith", "c0", ""), "r0");
    bgj_resume_clear();
    CHECK(bgj_resume_count() == 0 && bgj_resume_find(NULL, "arith", "c0", NULL) == NULL);
    snprintf(path, sizeof path, "%s/missing", tmpdir);
    CHECK(bgj_resume_load(path, "missing", &kept, &bad, &err) == BGJ_ESYS);
    bgj_err_clear(&err);
}

/* Lines of PATH; each must end in a newline.  Returns how many, or -1 if one is cut. */
static int count_lines(const char *path, const char *prefix)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int count = 0, bad = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n' || strncmp(line, prefix, strlen(prefix)) != 0)
            bad = 1;
        count++;
    }
    free(line);
    fclose(f);
    return bad ? -1 : count;
}

static void test_joblog(void)
{
    char path[200], json[200];
    snprintf(path, sizeof path, "%s/jobs.log", tmpdir);
    snprintf(json, sizeof json, "%s/jobs.jsonl", tmpdir);
    struct bgj_err err = {0};
    CHECK(bgj_joblog_start(path, path, 0, &err) == 0);
    int json_fmt = -1;
    char *where = bgj_joblog_where(&json_fmt);
    CHECK_STR(where, path);
    CHECK(json_fmt == 0);
    free(where);
    /* jobs ended by the workers (bgjob's own descriptor table), all at once */
    enum { N = 400 };
    int64_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = submit_value(i);
    CHECK(wait_ids(ids, N) == 0);
    /* the header, then one whole line per job */
    CHECK(count_lines(path, "") == N + 1);
    /* JSON lines now, to another file; a job killed while queued (ended by this thread) too */
    CHECK(bgj_joblog_start(json, json, 1, &err) == 0);
    for (int i = 0; i < N; i++)
        ids[i] = submit_value(i);
    CHECK(wait_ids(ids, N) == 0);
    CHECK(count_lines(json, "{\"schema\":1,") == N);
    CHECK(count_lines(path, "") == N + 1); /* the first file is left alone */
    bgj_joblog_stop();
    CHECK(bgj_joblog_where(&json_fmt) == NULL);
    int64_t after = submit_value(1);
    CHECK(wait_ids(&after, 1) == 0);
    CHECK(count_lines(json, "{\"schema\":1,") == N);
    /* a file that can't be opened: an error, the log stays off */
    CHECK(bgj_joblog_start("/nonexistent/dir/x", "x", 0, &err) == BGJ_ESYS);
    bgj_err_clear(&err);
    CHECK(bgj_joblog_where(&json_fmt) == NULL);
    /* a file that has lines already gets no second header */
    CHECK(bgj_joblog_start(path, path, 0, &err) == 0);
    after = submit_value(2);
    CHECK(wait_ids(&after, 1) == 0);
    bgj_joblog_stop();
    CHECK(count_lines(path, "") == N + 2);
    flush_all();
}

int main(void)
{
    alarm(600); /* a hang fails the test instead of blocking the run */
    base_tasks = ntasks();
    CHECK(mkdtemp(tmpdir) != NULL);
    CHECK(bgj_init() == 0);
    test_writer();
    test_reader();
    test_record();
    test_resume();
    test_joblog();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK(system(cmd) == 0);
    return check_done("records");
}
