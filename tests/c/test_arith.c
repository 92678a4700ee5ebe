/* test_arith.c - unit tests of lib/arith_*.c and lib/vars.c, without bash.
 *
 * Covers values, bash's exact error texts, the operations that must never
 * raise SIGFPE, deep nesting inside a 256 KiB thread stack, recursive
 * variables, the variable store and its assignment statements, error codes
 * (syntax errors of the text itself against the others) and parsing alone,
 * several words as `let' takes them, copies of a store, dynamic variables,
 * the string buffer and name checks, and several threads evaluating at once
 * (run it under TSan: make test-arith-tsan).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "check.h"
#include "names.h"
#include "strbuf.h"
#include "vars.h"

/* Evaluate E on V; "=N" on success or the error text. */
static char *ev(bgj_vars *v, const char *e)
{
    intmax_t out = 0;
    struct bgj_err err = {0};
    static char buf[4096];
    if (bgj_arith_eval(e, v, &out, &err, NULL) == 0)
        snprintf(buf, sizeof buf, "=%jd", out);
    else if (strlen(bgj_err_text(&err)) > 3000)
        snprintf(buf, sizeof buf, "%s",
                 strstr(bgj_err_text(&err), ": expression nesting too deep") ? "nesting too deep"
                                                                             : "long error");
    else
        snprintf(buf, sizeof buf, "%s", bgj_err_text(&err));
    bgj_err_clear(&err);
    return buf;
}

static char *ev0(const char *e)
{
    bgj_vars *v = bgj_vars_new();
    char *r = ev(v, e);
    bgj_vars_free(v);
    return r;
}

static void test_values(void)
{
    CHECK_STR(ev0("1 + 2 * 3"), "=7");
    CHECK_STR(ev0("2 ** 10"), "=1024");
    CHECK_STR(ev0("-2 ** 2"), "=4");
    CHECK_STR(ev0("2 ** 3 ** 2"), "=512");
    CHECK_STR(ev0("017 + 0x1f + 2#101 + 64#_"), "=114");
    CHECK_STR(ev0("9223372036854775807 + 1"), "=-9223372036854775808");
    CHECK_STR(ev0("18446744073709551617"), "=1");
    CHECK_STR(ev0("1 ? 2 : 3, 0 ? 4 : 5"), "=5");
    CHECK_STR(ev0(""), "=0");
    CHECK_STR(ev0(" \t\n"), "=0");
    CHECK_STR(ev0("1 << 64"), "=1");
    CHECK_STR(ev0("-8 >> 1"), "=-4");
    CHECK_STR(ev0("++5"), "=5");
}

static void test_no_sigfpe(void)
{
    CHECK_STR(ev0("-9223372036854775808 / -1"), "=-9223372036854775808");
    CHECK_STR(ev0("-9223372036854775808 % -1"), "=0");
    CHECK_STR(ev0("x = -9223372036854775808, x /= -1"), "=-9223372036854775808");
    CHECK_STR(ev0("x = -9223372036854775808, x %= -1"), "=0");
    CHECK_STR(ev0("2/0"), "2/0: division by 0 (error token is \"0\")");
    CHECK_STR(ev0("5 % (1-1)"), "5 % (1-1): division by 0 (error token is \"(1-1)\")");
    CHECK_STR(ev0("x=1, x/=0"), "x=1, x/=0: division by 0 (error token is \"0\")");
    CHECK_STR(ev0("0 && 1/0"), "=0");
    CHECK_STR(ev0("2 ** -1"), "2 ** -1: exponent less than 0 (error token is \"1\")");
}

static void test_errors(void)
{
    CHECK_STR(ev0("1 +"), "1 +: syntax error: operand expected (error token is \"+\")");
    CHECK_STR(ev0("1 $"), "1 $: syntax error: invalid arithmetic operator (error token is \"$\")");
    CHECK_STR(ev0("(1"), "(1: missing `)' (error token is \"1\")");
    CHECK_STR(ev0("1 = 2"), "1 = 2: attempted assignment to non-variable (error token is \"= 2\")");
    CHECK_STR(ev0("08 + 1"), "08: value too great for base (error token is \"08\")");
    CHECK_STR(ev0("1#1"), "1#1: invalid arithmetic base (error token is \"1#1\")");
    CHECK_STR(ev0("a[1"), "a[1: bad array subscript (error token is \"a[1\")");
    CHECK_STR(ev0("++x++"), "++x++: ++: assignment requires lvalue (error token is \"++\")");
    CHECK_STR(ev0("1 ? 2"), "1 ? 2: `:' expected for conditional expression (error token is \"2\")");
    /* An error inside a subscript has no "let: " and abandons the command. */
    bgj_vars *v = bgj_vars_new();
    intmax_t out;
    struct bgj_err err = {0};
    bgj_arith_info info;
    CHECK(bgj_arith_eval("a[1/0]", v, &out, &err, &info) == BGJ_EEVAL);
    CHECK_STR(err.msg, "1/0: division by 0 (error token is \"0\")");
    CHECK(info.let_prefix == 0 && info.abort == 1);
    bgj_err_clear(&err);
    CHECK(bgj_arith_eval("1/0", v, &out, &err, &info) == BGJ_EEVAL);
    CHECK(info.let_prefix == 1 && info.abort == 0);
    bgj_err_clear(&err);
    bgj_vars_free(v);
}

static void test_variables(void)
{
    bgj_vars *v = bgj_vars_new();
    CHECK(bgj_vars_set_scalar(v, "x", "5", 0) == 0);
    CHECK(bgj_vars_set_scalar(v, "y", "x * 2", 0) == 0);
    CHECK(bgj_vars_set_scalar(v, "r", "r + 1", 0) == 0);
    CHECK(bgj_vars_set_scalar(v, "ro", "1", BGJ_ATTR_READONLY) == 0);
    CHECK(bgj_vars_set_array(v, "a", BGJ_ATTR_INDEXED) == 0);
    CHECK(bgj_vars_array_put(v, "a", 0, "10") == 0);
    CHECK(bgj_vars_array_put(v, "a", 5, "50") == 0);
    CHECK(bgj_vars_set_array(v, "h", BGJ_ATTR_ASSOC) == 0);
    CHECK(bgj_vars_assoc_put(v, "h", "a b", "7") == 0);
    CHECK(bgj_vars_set_nameref(v, "n", "a[5]", 0) == 0);
    CHECK_STR(ev(v, "y + 1"), "=11");
    CHECK_STR(ev(v, "a[-1] + a[0] + h[a b]"), "=67");
    CHECK_STR(ev(v, "n"), "=50");
    CHECK_STR(ev(v, "r"), "r + 1: expression recursion level exceeded (error token is \"r + 1\")");
    CHECK_STR(ev(v, "ro = 2"), "ro: readonly variable");
    CHECK(bgj_vars_assignments(v) == NULL);
    CHECK_STR(ev(v, "z = x++, n += 1, h[k] = 3"), "=3");
    char *s = bgj_vars_assignments(v);
    CHECK_STR(s, "x=6\na[5]=51\nh[k]=3\nz=5\n");
    free(s);
    CHECK_STR(ev(v, "a[-9]"), "=0");
    CHECK_STR(bgj_vars_messages(v), "a: bad array subscript\n");
    bgj_vars_set_nounset(v, 1);
    intmax_t out;
    struct bgj_err err = {0};
    bgj_arith_info info;
    CHECK(bgj_arith_eval("nosuch + 1", v, &out, &err, &info) == BGJ_EEVAL);
    CHECK_STR(err.msg, "nosuch: unbound variable");
    CHECK(info.abort == 2);
    bgj_err_clear(&err);
    bgj_vars_free(v);

    /* Quoting of any byte in the declare output. */
    v = bgj_vars_new();
    CHECK(bgj_vars_set_array(v, "q", BGJ_ATTR_ASSOC) == 0);
    CHECK_STR(ev(v, "q[x]=1"), "=1");
    bgj_vars_free(v);
}

/* Deep nesting on a small stack. */
struct deep {
    int n;
    const char *open, *close;
    char result[512];
};

static void *deep_thread(void *p)
{
    struct deep *d = p;
    size_t lo = strlen(d->open), lc = strlen(d->close);
    char *e = malloc((size_t)d->n * (lo + lc) + 2);
    char *q = e;
    for (int i = 0; i < d->n; i++, q += lo)
        memcpy(q, d->open, lo);
    *q++ = '7';
    for (int i = 0; i < d->n; i++, q += lc)
        memcpy(q, d->close, lc);
    *q = '\0';
    char *r = ev0(e);
    snprintf(d->result, sizeof d->result, "%.60s", strstr(r, "nesting too deep") ? "nesting too deep" : r);
    free(e);
    return NULL;
}

static const char *deep(int n, const char *open, const char *close)
{
    static struct deep d;
    d.n = n;
    d.open = open;
    d.close = close;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    pthread_t t;
    CHECK(pthread_create(&t, &a, deep_thread, &d) == 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&a);
    return d.result;
}

/*
 * The deep cases are one thread's work, some 20 times slower under TSan than
 * in the plain and ASan builds, which run them at full size.  The TSan build
 * of `make test' runs them 50 times shallower and leaves out the cases past
 * the limit; `make check-full' (BGJOB_TEST_SIZE=full) runs them all there too.
 */
static int deep_divisor(void)
{
#ifdef __SANITIZE_THREAD__
    const char *size = getenv("BGJOB_TEST_SIZE");
    if (!size || strcmp(size, "full") != 0)
        return 50;
#endif
    return 1;
}

static void test_deep(void)
{
    const int k = deep_divisor(), n = 100000 / k;
    char sum[32];
    snprintf(sum, sizeof sum, "=%d", n + 7);
    CHECK_STR(deep(10000 / k, "(", ")"), "=7");
    CHECK_STR(deep(n, "-", ""), "=7");
    CHECK_STR(deep(n, "!", ""), "=1");
    /* 2**(2**(…7)): 7, 128, 0, 1, 2, 4, 16, 65536, 0, … (2**N for N ≥ 64 wraps to 0) */
    int64_t pw = 7;
    for (int i = 0; i < 50000 / k; i++)
        pw = pw >= 64 ? 0 : (int64_t)((uint64_t)1 << pw);
    char pws[32];
    snprintf(pws, sizeof pws, "=%lld", (long long)pw);
    CHECK_STR(deep(50000 / k, "2**", ""), pws);
    CHECK_STR(deep(30000 / k, "1?", ":0"), "=7");
    CHECK_STR(deep(n, "(", ")"), "=7");
    /* every kind of operator, nested deeply (precedence climbing frames) */
    CHECK_STR(deep(n, "~", ""), "=7");
    CHECK_STR(deep(n, "+", ""), "=7");
    CHECK_STR(deep(n, "1+(", ")"), sum);
    CHECK_STR(deep(n, "(1*", ")"), "=7");
    CHECK_STR(deep(n, "1**(", ")"), "=1");
    CHECK_STR(deep(n, "(0||", ")"), "=1");
    CHECK_STR(deep(n, "(1&&", ")"), "=1");
    CHECK_STR(deep(n, "0|(", ")"), "=7");
    CHECK_STR(deep(n, "0^(", ")"), "=7");
    CHECK_STR(deep(n, "-1&(", ")"), "=7");
    CHECK_STR(deep(n, "(1==", ")"), "=0");
    CHECK_STR(deep(n, "(0<", ")"), "=1");
    CHECK_STR(deep(n, "(1<<", ")"), "=16");
    CHECK_STR(deep(n, "1,(", ")"), "=7");
    CHECK_STR(deep(n, "0?0:", ""), "=7");
    CHECK_STR(deep(n, "a=", ""), "=7");
    CHECK_STR(deep(n, "a+=", ""), "=7");
    CHECK_STR(deep(n, "1?(", "):0"), "=7");
    if (k > 1)
        return;
    const char *r = deep(250000, "(", ")");
    CHECK_STR(r, "nesting too deep");
    CHECK_STR(deep(1000000, "-", ""), "nesting too deep");
    CHECK_STR(deep(1000000, "1+(", ")"), "nesting too deep");
}

struct par {
    int id;
    int bad;
};

static void *par_thread(void *p)
{
    struct par *q = p;
    bgj_vars *v = bgj_vars_new();
    char num[32];
    snprintf(num, sizeof num, "%d", q->id);
    bgj_vars_set_scalar(v, "id", num, 0);
    bgj_vars_set_scalar(v, "f", "id * 2 + (id > 1 ? 1 : 0)", 0);
    for (int i = 0; i < 2000; i++) {
        intmax_t out;
        struct bgj_err err = {0};
        if (bgj_arith_eval("k += f, f", v, &out, &err, NULL) != 0) {
            bgj_err_clear(&err);
            q->bad++;
        } else if (out != q->id * 2 + (q->id > 1))
            q->bad++;
    }
    char *s = bgj_vars_assignments(v);
    free(s);
    bgj_vars_free(v);
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[4];
    struct par p[4];
    for (int i = 0; i < 4; i++) {
        p[i].id = i;
        p[i].bad = 0;
        CHECK(pthread_create(&t[i], NULL, par_thread, &p[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(p[i].bad == 0);
    }
}

/* Dynamic variables: values drawn at `new', bash's generator once seeded. */
static void test_dynamic(void)
{
    bgj_vars *v = bgj_vars_new();
    CHECK(bgj_vars_set_dynamic(v, "RANDOM", BGJ_DYN_RANDOM, NULL, BGJ_ATTR_INTEGER) == 0);
    CHECK(bgj_vars_add_draw(v, "RANDOM", "11") == 0);
    CHECK(bgj_vars_add_draw(v, "RANDOM", "22") == 0);
    CHECK_STR(ev(v, "RANDOM * 100 + RANDOM"), "=1122");
    CHECK_STR(ev(v, "RANDOM"), "RANDOM: read more often than it occurs in the expression and the values it "
                               "reads (each occurrence draws one value at `new'): not reproducible in a "
                               "background job");
    /* RANDOM=42; echo $RANDOM $RANDOM prints 17772 26794 in bash 5.2 */
    CHECK_STR(ev(v, "RANDOM = 42, a = RANDOM, b = RANDOM, a * 100000 + b"), "=1777226794");
    char *s = bgj_vars_assignments(v);
    CHECK_STR(s, "RANDOM=42\na=17772\nb=26794\n");
    free(s);
    CHECK(bgj_vars_set_dynamic(v, "EPOCHSECONDS", BGJ_DYN_FIXED, "1700000000", 0) == 0);
    CHECK_STR(ev(v, "EPOCHSECONDS = 5, EPOCHSECONDS"), "=1700000000");
    CHECK(bgj_vars_set_dynamic(v, "SRANDOM", BGJ_DYN_DRAWN, NULL, 0) == 0);
    CHECK(bgj_vars_add_draw(v, "SRANDOM", "3000000000") == 0);
    CHECK_STR(ev(v, "SRANDOM = 5, SRANDOM"), "=3000000000");
    bgj_vars_clear_assigned(v);
    s = bgj_vars_assignments(v);
    CHECK(s == NULL);
    free(s);
    bgj_vars_free(v);
}

/* Parsing alone, and which errors are syntax errors of the text itself. */
static int code(const char *e, const char *x)
{
    bgj_vars *v = bgj_vars_new();
    if (x)
        bgj_vars_set_scalar(v, "x", x, 0);
    intmax_t out;
    struct bgj_err err = {0};
    int r = bgj_arith_eval(e, v, &out, &err, NULL);
    bgj_err_clear(&err);
    bgj_vars_free(v);
    return r;
}

static void test_parse(void)
{
    struct bgj_err err = {0};
    CHECK(bgj_arith_parse("1 +", &err) == BGJ_ESYNTAX);
    CHECK_STR(err.msg, "1 +: syntax error: operand expected (error token is \"+\")");
    bgj_err_clear(&err);
    CHECK(bgj_arith_parse("0 && (1+)", &err) == BGJ_ESYNTAX);
    bgj_err_clear(&err);
    CHECK(bgj_arith_parse("x = 1/0, y[1+] = x", &err) == 0);
    CHECK(err.msg == NULL);
    CHECK(bgj_arith_parse("2 ** -1, 1 +", &err) == BGJ_EEVAL);
    bgj_err_clear(&err);
    CHECK(bgj_arith_parse("", NULL) == 0);
    CHECK(code("1 +", NULL) == BGJ_ESYNTAX);
    CHECK(code("08", NULL) == BGJ_ESYNTAX);
    CHECK(code("x", "1 +") == BGJ_EEVAL); /* a variable's malformed value */
    CHECK(code("x", "08") == BGJ_EEVAL);
    CHECK(code("a[1 +]", NULL) == BGJ_EEVAL); /* a subscript is evaluated */
    CHECK(code("1/0", NULL) == BGJ_EEVAL);
    CHECK(code("x + 1", "7") == 0);
}

/* Several words, as `let' takes them; copies of a store. */
static void test_words(void)
{
    bgj_vars *v = bgj_vars_new();
    char *w1[] = {"x = 1", "y = x + 1", "y * 10"};
    intmax_t out;
    struct bgj_err err = {0};
    CHECK(bgj_arith_run_words(3, w1, v, &out, &err) == 0 && out == 20);
    bgj_vars *d = bgj_vars_dup(v);
    CHECK(d != NULL);
    char *w2[] = {"x = 5", "1/0", "z = 2"};
    CHECK(bgj_arith_run_words(3, w2, d, &out, &err) == BGJ_EEVAL);
    CHECK_STR(err.msg, "1/0: division by 0 (error token is \"0\")");
    bgj_err_clear(&err);
    char *s = bgj_vars_assignments(d);
    CHECK_STR(s, "x=5\ny=2\n"); /* z never assigned: let stops at word 2 */
    free(s);
    s = bgj_vars_assignments(v);
    CHECK_STR(s, "x=1\ny=2\n"); /* the original is untouched */
    free(s);
    bgj_vars_free(d);
    bgj_vars_free(v);
}

/* Assignment statements: element by element, keys quoted for the shell. */
static void test_statements(void)
{
    bgj_vars *v = bgj_vars_new();
    CHECK(bgj_vars_set_scalar(v, "s", "it's", 0) == 0);
    CHECK(bgj_vars_set_array(v, "h", BGJ_ATTR_ASSOC) == 0);
    CHECK(bgj_vars_assoc_put(v, "h", "a b", "1") == 0);
    CHECK(bgj_vars_assoc_put(v, "h", "n\n", "2") == 0);
    CHECK_STR(ev(v, "s[2] = 3, h[a b] += 1, h[k] = 4, t = -5"), "=-5");
    CHECK(bgj_var_set_value(
              v, bgj_vars_lookup(v, "k", 1) ? bgj_vars_lookup(v, "k", 1) : bgj_vars_create(v, "k", 1, 0),
              "a'b") == 0);
    CHECK(bgj_var_assoc_set(v, bgj_vars_lookup(v, "h", 1), "n\n", "x") == 0);
    char *s = bgj_vars_assignments(v);
    CHECK_STR(s, "s[2]=3\nh['a b']=2\nh[$'n\\x0a']='x'\nh[k]=4\nt=-5\nk='a'\\''b'\n");
    free(s);
    bgj_vars_free(v);
}

static void test_strings(void)
{
    struct bgj_strbuf b = {0};
    CHECK(bgj_sb_printf(&b, "%s=%d", "x", 42) == 0 && bgj_sb_add(&b, "!", 1) == 0);
    char *s = bgj_sb_take(&b);
    CHECK_STR(s, "x=42!");
    free(s);
    s = bgj_sb_take(&b);
    CHECK_STR(s, "");
    free(s);
    CHECK(bgj_is_identifier("_a1") && !bgj_is_identifier("1a") && !bgj_is_identifier("") &&
          !bgj_is_identifier("a-b"));
    CHECK(bgj_is_name("1-a.b", "-.") && !bgj_is_name("a b", "-.") && !bgj_is_name("", "-."));
}

int main(void)
{
    test_dynamic();
    test_parse();
    test_words();
    test_statements();
    test_strings();
    test_values();
    test_no_sigfpe();
    test_errors();
    test_variables();
    test_deep();
    test_threads();
    return check_done("arith");
}
