/*
 * fuzz_arith.c - libFuzzer target for the thread-safe arithmetic evaluator
 * (bgj_arith_eval and bgj_arith_parse, lib/arith_*.c + lib/vars.c), no bash
 * needed.
 *
 * Input: byte 0 picks options (bit 0: `set -u'; bit 1: evaluate again on the
 * same store, as a reused snapshot would be, and on a copy of it, which must
 * give the same), the rest up to the first NUL is
 * the expression.  Every run builds a fresh snapshot through the vars.h
 * builder with variables of every kind: plain and recursive scalars, integer
 * and readonly ones, indexed and associative arrays, namerefs (including a
 * cycle), an unset one, and dynamic ones (RANDOM drawn twice then seeded by
 * assignments, SRANDOM drawn once, EPOCHSECONDS fixed).  Besides the sanitizers' own
 * checks the target aborts when the API contract breaks: status 0 or a
 * BGJ_E* code, an error message on failure and none on success, parsing
 * alone finding the same syntax error as the evaluation, assignments and
 * messages that are proper strings.
 *
 *   build:   make -f Makefile -f tests/hardening.mk build/fuzz/fuzz_arith
 *   fuzz:    build/fuzz/fuzz_arith -max_total_time=60 tests/fuzz/corpus-arith
 *   replay:  build/fuzz/fuzz_arith tests/fuzz/regressions/arith/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "vars.h"

static void violated(const char *what, const char *expr)
{
    fprintf(stderr, "fuzz_arith: contract violated: %s\nexpression: [%s]\n", what, expr);
    abort();
}

static bgj_vars *snapshot(int nounset)
{
    bgj_vars *v = bgj_vars_new();
    if (!v)
        return NULL;
    int bad = 0;
    bad |= bgj_vars_set_scalar(v, "x", "5", 0);
    bad |= bgj_vars_set_scalar(v, "y", "x+1", 0);
    bad |= bgj_vars_set_scalar(v, "z", "y*y", BGJ_ATTR_INTEGER);
    bad |= bgj_vars_set_scalar(v, "self", "self+1", 0); /* recursion limit */
    bad |= bgj_vars_set_scalar(v, "r", "3", BGJ_ATTR_READONLY);
    bad |= bgj_vars_set_scalar(v, "i", "7", BGJ_ATTR_INTEGER);
    bad |= bgj_vars_set_scalar(v, "s", "hello world", 0); /* not an expression */
    bad |= bgj_vars_set_scalar(v, "big", "9223372036854775807", 0);
    bad |= bgj_vars_set_scalar(v, "neg", "-9223372036854775808", 0);
    bad |= bgj_vars_set_scalar(v, "u", NULL, 0); /* declared, unset */
    bad |= bgj_vars_set_array(v, "a", BGJ_ATTR_INDEXED);
    bad |= bgj_vars_array_put(v, "a", 0, "10");
    bad |= bgj_vars_array_put(v, "a", 1, "x");
    bad |= bgj_vars_array_put(v, "a", 5, "a[1]+1");
    bad |= bgj_vars_array_put(v, "a", 1000000, "2");
    bad |= bgj_vars_set_array(v, "ra", BGJ_ATTR_INDEXED | BGJ_ATTR_READONLY);
    bad |= bgj_vars_array_put(v, "ra", 0, "1");
    bad |= bgj_vars_set_array(v, "h", BGJ_ATTR_ASSOC);
    bad |= bgj_vars_assoc_put(v, "h", "k", "4");
    bad |= bgj_vars_assoc_put(v, "h", "x y", "h[k]*2");
    bad |= bgj_vars_assoc_put(v, "h", "", "1");
    bad |= bgj_vars_set_nameref(v, "n", "x", 0);
    bad |= bgj_vars_set_nameref(v, "na", "a[5]", 0);
    bad |= bgj_vars_set_nameref(v, "c1", "c2", 0);
    bad |= bgj_vars_set_nameref(v, "c2", "c1", 0); /* nameref cycle */
    bad |= bgj_vars_set_nameref(v, "dangling", NULL, 0);
    bad |= bgj_vars_set_dynamic(v, "RANDOM", BGJ_DYN_RANDOM, NULL, BGJ_ATTR_INTEGER);
    bad |= bgj_vars_add_draw(v, "RANDOM", "17");
    bad |= bgj_vars_add_draw(v, "RANDOM", "4242");
    bad |= bgj_vars_set_dynamic(v, "SRANDOM", BGJ_DYN_DRAWN, NULL, 0);
    bad |= bgj_vars_add_draw(v, "SRANDOM", "3000000000");
    bad |= bgj_vars_set_dynamic(v, "EPOCHSECONDS", BGJ_DYN_FIXED, "1700000000", 0);
    bgj_vars_set_nounset(v, nounset);
    if (bad) {
        fprintf(stderr, "fuzz_arith: the snapshot builder failed\n");
        abort();
    }
    return v;
}

/* Evaluates EXPR on V and checks the contract; returns the status, *OUT and
   the assignments (malloc'd) for comparison. */
static int eval_once(const char *expr, bgj_vars *v, intmax_t *outp, char **asp)
{
    intmax_t out = 12345;
    struct bgj_err err = {0};
    int rc = bgj_arith_eval(expr, v, &out, &err, NULL);
    if (rc != 0 && rc != BGJ_ESYNTAX && rc != BGJ_EEVAL && rc != BGJ_ENOMEM)
        violated("status not 0, BGJ_ESYNTAX, BGJ_EEVAL or BGJ_ENOMEM", expr);
    if (rc != 0 && (!err.msg || !*err.msg))
        violated("failure without a message", expr);
    if (rc == 0 && err.msg)
        violated("success with an error message", expr);
    /*
     * Parsing alone finds exactly the syntax errors of the text itself, up to
     * where it stops.  It evaluates as bash does with evaluation off (every
     * variable 0), so it may stop earlier on an error that depends on values,
     * as bash does (`0 && 2**-1': exponent less than 0): then a syntax error
     * further on is the evaluation's alone.
     */
    struct bgj_err perr = {0};
    int prc = bgj_arith_parse(expr, &perr);
    if (prc == BGJ_ESYNTAX && rc == 0)
        violated("parse finds a syntax error the evaluation does not", expr);
    if (rc == BGJ_ESYNTAX && prc == 0)
        violated("evaluation finds a syntax error parsing does not", expr);
    if (rc == BGJ_ESYNTAX && prc == BGJ_ESYNTAX && strcmp(err.msg, perr.msg) != 0)
        violated("parse and evaluation report different syntax errors", expr);
    bgj_err_clear(&perr);
    bgj_err_clear(&err);
    const char *m = bgj_vars_messages(v);
    if (!m)
        violated("messages is NULL", expr);
    if (*m && m[strlen(m) - 1] != '\n')
        violated("messages not newline-terminated", expr);
    char *as = bgj_vars_assignments(v);
    if (as && (as[0] == '\0' || as[strlen(as) - 1] != '\n' || !strchr(as, '=')))
        violated("assignments are not newline-terminated statements", expr);
    *outp = out;
    *asp = as;
    return rc;
}

/* A copy of the store evaluates exactly as the store does. */
static void eval_on_copy(const char *expr, bgj_vars *v)
{
    bgj_vars *d = bgj_vars_dup(v);
    if (!d)
        return;
    intmax_t o1, o2;
    char *a1, *a2;
    int r1 = eval_once(expr, v, &o1, &a1), r2 = eval_once(expr, d, &o2, &a2);
    if (r1 != r2 || (r1 == 0 && o1 != o2) || (a1 && a2 ? strcmp(a1, a2) != 0 : a1 != a2) ||
        strcmp(bgj_vars_messages(v), bgj_vars_messages(d)) != 0)
        violated("a copy of the store evaluates differently", expr);
    free(a1);
    free(a2);
    bgj_vars_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    unsigned opts = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(p, 0, n);
    if (nul)
        n = (size_t)(nul - p);
    char *expr = malloc(n + 1);
    if (!expr)
        return 0;
    memcpy(expr, p, n);
    expr[n] = 0;
    bgj_vars *v = snapshot(opts & 1);
    intmax_t out;
    char *as;
    eval_once(expr, v, &out, &as);
    free(as);
    if (opts & 2) {
        bgj_vars_clear_assigned(v);
        eval_on_copy(expr, v);
    }
    bgj_vars_free(v);
    free(expr);
    return 0;
}
