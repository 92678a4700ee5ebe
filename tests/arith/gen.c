/* gen.c - seeded random cases for difftest: expressions over every
 * operator and constant form, with random variable setups (unset, empty,
 * blank, numbers, expression-valued and recursive values, sparse indexed
 * arrays with negative subscripts, associative arrays, readonly, integer,
 * namerefs, set -u), random whitespace and injected errors.  The same seed
 * always gives the same cases.  Test-only, single-threaded.
 */
#include "difftest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"

static uint64_t rs;

static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }
static int chance(int pct) { return rn(100) < pct; }
static const char *pick(const char *const *a, int n) { return a[rn(n)]; }
#define PICK(a) pick(a, (int)(sizeof a / sizeof *a))

static const char *const scalars[] = {"a", "b", "c", "x", "y", "z"};
static const char *const numbers[] = {"0",
                                      "1",
                                      "2",
                                      "3",
                                      "7",
                                      "10",
                                      "42",
                                      "255",
                                      "-1",
                                      "017",
                                      "0x1f",
                                      "0XFF",
                                      "0x",
                                      "2#101",
                                      "16#ff",
                                      "36#zz",
                                      "64#@_",
                                      "64#Az",
                                      "8#777",
                                      "9223372036854775807",
                                      "9223372036854775808",
                                      "18446744073709551617",
                                      "99999999999999999999",
                                      "0000",
                                      "1_0",
                                      "2#1_1"};
static const char *const badnumbers[] = {"08",   "2#3", "1#1",   "65#1", "0#1", "2#",
                                         "12ab", "0xg", "3#1#1", "10#",  "9a"};

static void ws(strbuf *b)
{
    int k = rn(20);
    if (k < 10)
        return;
    if (k < 17)
        sb_puts(b, " ");
    else if (k < 18)
        sb_puts(b, "\t");
    else if (k < 19)
        sb_puts(b, "\n");
    else
        sb_puts(b, "  ");
}

static void gen_expr(strbuf *b, int depth);

static void gen_lvalue(strbuf *b, int depth)
{
    int k = rn(10);
    if (k < 6)
        sb_puts(b, PICK(scalars));
    else if (k < 8) {
        sb_puts(b, chance(50) ? "arr[" : "ix[");
        if (depth > 0 && chance(40))
            gen_expr(b, depth - 1);
        else
            sb_printf(b, "%d", rn(7) - 3);
        sb_puts(b, "]");
    } else if (k < 9) {
        static const char *const keys[] = {"k", "0", "1", "$a", "\"k\"", "'k'", " ", "@"};
        sb_printf(b, "h[%s]", PICK(keys));
    } else
        sb_puts(b, chance(50) ? "r" : "iv");
}

static void gen_atom(strbuf *b, int depth)
{
    int k = rn(100);
    if (k < 30)
        sb_puts(b, PICK(numbers));
    else if (k < 32)
        sb_puts(b, PICK(badnumbers));
    else if (k < 60)
        gen_lvalue(b, depth);
    else if (k < 68) {
        sb_puts(b, chance(50) ? "++" : "--");
        ws(b);
        gen_lvalue(b, depth);
    } else if (k < 76) {
        gen_lvalue(b, depth);
        ws(b);
        sb_puts(b, chance(50) ? "++" : "--");
    } else if (k < 86 && depth > 0) {
        sb_puts(b, "(");
        ws(b);
        gen_expr(b, depth - 1);
        ws(b);
        sb_puts(b, ")");
    } else if (k < 94 && depth > 0) {
        static const char *const un[] = {"!", "~", "-", "+", "- ", "-", "+ +", "!!"};
        sb_puts(b, PICK(un));
        ws(b);
        gen_atom(b, depth - 1);
    } else
        sb_printf(b, "%d", rn(20));
}

static void gen_expr(strbuf *b, int depth)
{
    static const char *const binops[] = {"+",  "-", "*",  "/",  "%",  "**", "<<", ">>", "<",
                                         "<=", ">", ">=", "==", "!=", "&",  "^",  "|",  "&&",
                                         "||", ",", "+",  "-",  "*",  "/",  "%"};
    static const char *const asg[] = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="};
    int k = rn(100);
    if (depth <= 0 || k < 35) {
        gen_atom(b, depth);
        return;
    }
    if (k < 75) {
        gen_expr(b, depth - 1);
        ws(b);
        sb_puts(b, PICK(binops));
        ws(b);
        gen_expr(b, depth - 1);
    } else if (k < 87) {
        gen_lvalue(b, depth - 1);
        ws(b);
        sb_puts(b, PICK(asg));
        ws(b);
        gen_expr(b, depth - 1);
    } else {
        gen_expr(b, depth - 1);
        ws(b);
        sb_puts(b, "?");
        ws(b);
        gen_expr(b, depth - 1);
        ws(b);
        sb_puts(b, ":");
        ws(b);
        gen_expr(b, depth - 1);
    }
}

/* A value for a scalar variable. */
static void gen_value(strbuf *b, const char *self)
{
    int k = rn(100);
    if (k < 8)
        return; /* empty */
    if (k < 12) {
        sb_puts(b, chance(50) ? "  " : " \t ");
        return;
    }
    if (k < 45) {
        sb_printf(b, "%d", rn(200) - 50);
        return;
    }
    if (k < 50) {
        sb_puts(b, PICK(numbers));
        return;
    }
    if (k < 53) {
        sb_printf(b, "%s+1", self);
        return;
    }
    if (k < 56) {
        sb_puts(b, PICK(badnumbers));
        return;
    }
    if (k < 58) {
        sb_puts(b, chance(50) ? "1 +" : "hello world");
        return;
    }
    gen_expr(b, 1 + rn(2));
}

/* The value of an element of array SELF: mostly a small number. */
static char *elem_value(const char *self)
{
    strbuf v = {0};
    sb_add(&v, "", 0);
    if (chance(80))
        sb_printf(&v, "%d", rn(50) - 10);
    else
        gen_value(&v, self);
    return v.p;
}

static void gen_setup(tcase *t)
{
    for (size_t i = 0; i < sizeof scalars / sizeof *scalars; i++) {
        int k = rn(100);
        if (k < 25)
            continue; /* unset */
        unsigned attrs = 0;
        if (chance(4))
            attrs |= BGJ_ATTR_READONLY;
        if (k < 30) {
            case_add_decl(t, 's', scalars[i], attrs);
            continue;
        }
        if (k < 36) {
            decl *d = case_add_decl(t, 's', scalars[i], attrs | BGJ_ATTR_INTEGER);
            char tmp[32];
            snprintf(tmp, sizeof tmp, "%d", rn(100) - 20);
            d->value = xstrdup(tmp);
            continue;
        }
        strbuf v = {0};
        sb_add(&v, "", 0);
        gen_value(&v, scalars[i]);
        decl *d = case_add_decl(t, 's', scalars[i], attrs);
        d->value = v.p;
    }
    if (chance(70)) {
        decl *d = case_add_decl(t, 'a', "arr", chance(3) ? BGJ_ATTR_READONLY : 0);
        int n = rn(5);
        int idx = rn(3);
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "%d", idx);
            char *v = elem_value("arr");
            decl_add_elem(d, key, v);
            free(v);
            idx += 1 + rn(3);
        }
    }
    if (chance(40)) {
        decl *d = case_add_decl(t, 'a', "ix", chance(30) ? BGJ_ATTR_INTEGER : 0);
        for (int i = 0; i < 3; i++) {
            char key[16], val[16];
            snprintf(key, sizeof key, "%d", i);
            snprintf(val, sizeof val, "%d", rn(10) - 3);
            decl_add_elem(d, key, val);
        }
    }
    if (chance(50)) {
        decl *d = case_add_decl(t, 'A', "h", chance(3) ? BGJ_ATTR_READONLY : 0);
        static const char *const keys[] = {"k", "0", "1", "a b", "@", "x"};
        int n = rn(4);
        for (int i = 0; i < n; i++) {
            char *v = elem_value("h");
            decl_add_elem(d, PICK(keys), v);
            free(v);
        }
    }
    if (chance(40)) {
        static const char *const targets[] = {"x", "y", "arr", "arr[1]", "h", "ix[2]", "z"};
        decl *d = case_add_decl(t, 'n', "r", 0);
        d->value = xstrdup(PICK(targets));
    }
    if (chance(30)) {
        decl *d = case_add_decl(t, 's', "iv", BGJ_ATTR_INTEGER | (chance(10) ? BGJ_ATTR_READONLY : 0));
        char tmp[16];
        snprintf(tmp, sizeof tmp, "%d", rn(9));
        d->value = xstrdup(tmp);
    }
    t->nounset = chance(6);
}

/* Damage an expression a little, for error paths. */
static void inject(strbuf *b)
{
    static const char *const junk[] = {"$",  "@", "#",  "[",  "]",  ")",   "(",  "=", "?",
                                       ":",  ";", "'",  "\"", "\\", "{",   "}",  ".", "\r",
                                       "\v", ",", "++", "--", "a[", "1 1", "x y"};
    int pos = b->n ? rn((int)b->n + 1) : 0;
    const char *j = PICK(junk);
    strbuf o = {0};
    sb_add(&o, b->p ? b->p : "", (size_t)pos);
    if (chance(70))
        sb_puts(&o, j);
    else if (pos < (int)b->n)
        pos++; /* delete one character */
    sb_puts(&o, b->p ? b->p + pos : "");
    free(b->p);
    *b = o;
}

void run_random(unsigned long long seed, long count, int batch)
{
    rs = seed;
    tcase *cases = calloc((size_t)batch, sizeof *cases);
    int n = 0;
    for (long i = 0; i < count; i++) {
        tcase *t = &cases[n++];
        memset(t, 0, sizeof *t);
        gen_setup(t);
        strbuf e = {0};
        sb_add(&e, "", 0);
        if (chance(2))
            sb_puts(&e, chance(50) ? "" : " \t\n");
        else {
            ws(&e);
            gen_expr(&e, 1 + rn(4));
            ws(&e);
            if (chance(6))
                inject(&e);
        }
        t->expr = e.p;
        if (n == batch) {
            run_batch(cases, n);
            for (int j = 0; j < n; j++)
                case_free(&cases[j]);
            n = 0;
        }
    }
    if (n)
        run_batch(cases, n);
    for (int j = 0; j < n; j++)
        case_free(&cases[j]);
    free(cases);
}
