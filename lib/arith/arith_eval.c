/*
 * arith_eval.c - the frame machine of the arithmetic evaluator: the frame
 * stack, nested contexts (variable values and subscripts are expressions
 * too: F_SUB), variable reads for the lexer (F_STREVAL), the driver loop
 * that runs the frames and the public entry points of arith.h.  The grammar
 * levels themselves and the operator spec are in arith_grammar.c.  See
 * arith_int.h for how the parts fit.
 *
 * Threading: no shared state; all state is in one `ev' on the caller's
 * stack, so any thread, no locks.
 */
#include "arith_int.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Frames and contexts.                                              */

int ar_grow_frames(ev *c)
{
    if (c->nfr >= BGJ_ARITH_MAX_FRAMES)
        return ar_evalerror(c, "expression nesting too deep for a background job");
    {
        size_t ncap = c->frcap * 2;
        if (ncap > BGJ_ARITH_MAX_FRAMES)
            ncap = BGJ_ARITH_MAX_FRAMES;
        frame *nf = c->fr == c->inl_fr ? malloc(ncap * sizeof *nf) : realloc(c->fr, ncap * sizeof *nf);
        if (!nf)
            return ar_oom(c);
        if (c->fr == c->inl_fr)
            memcpy(nf, c->inl_fr, c->nfr * sizeof *nf);
        c->fr = nf;
        c->frcap = ncap;
    }
    return 0;
}

void ar_pop(ev *c)
{
    if (F->s)
        free(F->s);
    c->nfr--;
}

/* ---------------------------------------------------------------- */
/* Nested contexts and variable reads.                               */

/* subexpr:  text := expr EOF
   subexpr()/evalexp(): evaluate F->s in a fresh context.  F->flag is 1 for
   an array subscript (bash's nested evalexp: no "let: " in messages). */
static int fr_sub(ev *c)
{
    BEGIN;
    {
        const char *p = F->s ? F->s : F->p;
        while (*p && is_crws((unsigned char)*p))
            p++;
        if (!*p)
            RETURN(0);
        /* bash drops the command name before it tries to push the context */
        if (F->flag)
            c->subdepth++;
        if (c->nctx >= MAX_CONTEXTS)
            return ar_evalerror(c, "expression recursion level exceeded");
        if (c->nctx == c->ctxcap) {
            int ncap = c->ctxcap * 2;
            tokstate *nc = c->ctx == c->inl_ctx ? malloc((size_t)ncap * sizeof *nc)
                                                : realloc(c->ctx, (size_t)ncap * sizeof *nc);
            if (!nc)
                return ar_oom(c);
            if (c->ctx == c->inl_ctx)
                memcpy(nc, c->inl_ctx, (size_t)c->nctx * sizeof *nc);
            c->ctx = nc;
            c->ctxcap = ncap;
        }
        c->ctx[c->nctx++] = c->t;
        c->t.expression = F->s ? F->s : F->p;
        c->t.own = F->s;
        F->s = NULL;
        c->t.tp = c->t.expression;
        c->t.lasttp = NULL;
        c->t.curtok = c->t.lasttok = 0;
        c->t.tokstr = NULL;
        c->t.toklen = 0;
        c->t.tokid = 0;
        c->t.tokval = 0;
        init_lvalue(&c->t.curlval);
    }
    READTOK(1);
    CALL(F_COMMA, 2);
    if (c->t.curtok != 0)
        return ar_syntax(c, "syntax error in expression");
    free(c->t.own);
    c->t = c->ctx[--c->nctx];
    if (F->flag)
        c->subdepth--;
    RETURN(c->ret);
    END;
}

int ar_call_sub(ev *c, char *s, int subscript)
{
    if (ar_push(c, F_SUB) < 0) {
        free(s);
        return -1;
    }
    F->s = s;
    F->flag = (unsigned char)subscript;
    return 0;
}

/* A value that is a plain decimal number ("42", "-7", spaces around)
   evaluates to itself with no effect besides taking a context, so it is
   not run through a nested evaluation unless the context limit is near. */
static int plain_number_n(ev *c, const char *v, size_t len, intmax_t *out)
{
    const char *e = v + len;
    if (c->nctx >= MAX_CONTEXTS - 1)
        return 0;
    while (v < e && is_crws((unsigned char)*v))
        v++;
    int neg = v < e && *v == '-';
    if (neg)
        v++;
    if (v == e || !is_digit((unsigned char)*v) || (*v == '0' && v + 1 < e && is_digit((unsigned char)v[1])))
        return 0;
    uintmax_t n = 0;
    while (v < e && is_digit((unsigned char)*v))
        n = n * 10 + (uintmax_t)(*v++ - '0');
    while (v < e && is_crws((unsigned char)*v))
        v++;
    if (v != e)
        return 0;
    *out = neg ? w_neg(wrap(n)) : wrap(n);
    return 1;
}

static int plain_number(ev *c, const char *v, intmax_t *out) { return plain_number_n(c, v, strlen(v), out); }

/* Subscript text that ar_expand_sub() would return unchanged. */
static int plain_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (has_class((unsigned char)s[i], C_SUBSP))
            return 0;
    return 1;
}

/* The value of a variable's text VAL for the lexer: 0 with c->ret set when
   it is known at once (empty, a plain number), 1 after pushing the F_SUB
   frame that evaluates it (the caller resumes at case 3), -1 on error. */
static int value_of(ev *c, const char *val)
{
    c->ret = 0;
    if (!val || !*val || plain_number(c, val, &c->ret))
        return 0;
    char *s = bgj_strndup(val, strlen(val));
    if (!s)
        return ar_oom(c);
    F->pc = 3;
    return ar_call_sub(c, s, 0) < 0 ? -1 : 1;
}

/* expr_streval:  id := NAME | NAME '[' subscript ']'   (read when the lexer meets it)
   The value of identifier F->p (F->n bytes, in the
   expression) for the lexer, then the rest of readtok.  v1 = index found
   (es.ind), v3 = end of the token; for NAME[SUB], aux = the length of NAME
   (-1 when the brackets are malformed) and v2 = the length of SUB. */
int fr_streval(ev *c)
{
    int r;
    const char *tok = F->p;
    bgj_var *v;
    size_t nl = 0, sl = 0;
    const char *sub = NULL;
    int tl = (int)F->n;
    BEGIN;
    F->v1 = -1;
    if (F->flag == ']') {
        /* The token ends at its subscript's closing bracket, so splitting it
       in place scans exactly what splitting a copy would. */
        int ok = ar_split_ref(tok, &nl, &sub, &sl);
        F->aux = ok ? (int)nl : -1;
        F->v2 = (intmax_t)sl;
        if (!ok) {
            if (ar_note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
                return -1;
            v = NULL;
        } else if (ar_find_var(c, tok, nl, &v) < 0)
            return -1;
    } else {
        if (ar_find_var(c, tok, F->n, &v) < 0)
            return -1;
        if (!v)
            v = ar_last_nameref(c, tok, F->n);
    }
    if ((!v || ar_invisible(v)) && bgj_vars_nounset(c->vars)) {
        if (F->flag == ']') {
            if (F->aux < 0) {
                if (ar_note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
                    return -1;
                ar_fail(c, 0, "(null): unbound variable");
                c->err_abort = 2;
                return -1;
            }
            ar_fail(c, 0, "%.*s: unbound variable", (int)nl, tok);
            c->err_abort = 2;
            return -1;
        }
        ar_fail(c, 0, "%.*s: unbound variable", (int)F->n, tok);
        c->err_abort = 2;
        return -1;
    }
    if (F->flag != ']') {
        const char *val;
        if (ar_read_value(c, v, &val) < 0)
            return -1;
        if ((r = value_of(c, val)) != 0)
            return r < 0 ? -1 : 0;
        goto finish;
    }
    /* get_array_value(): the lookup above is repeated, messages included. */
    if (F->aux < 0) {
        if (ar_note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
            return -1;
        c->ret = 0;
        goto finish;
    }
    if (ar_find_var(c, tok, nl, &v) < 0)
        return -1;
    if ((sub[0] == '@' || sub[0] == '*') && sl == 1 && !(v && (bgj_var_attrs(v) & BGJ_ATTR_ASSOC))) {
        if (ar_note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
            return -1;
        c->ret = 0;
        goto finish;
    }
    if (!v || !(bgj_var_attrs(v) & BGJ_ATTR_ASSOC)) {
        F->var = v;
        if (plain_text(sub, sl) && plain_number_n(c, sub, sl, &c->ret))
            goto subscript_done; /* what evaluating it would give, with no effect */
        char *x = ar_expand_sub(c, sub, sl, 1);
        if (!x)
            return -1;
        F->pc = 1;
        return ar_call_sub(c, x, 1);
    case 1: /* resumed with the subscript's value from the F_SUB pushed above */
    subscript_done:
        v = F->var;
        nl = (size_t)F->aux;
        {
            intmax_t ind = c->ret;
            if (ind < 0) {
                if (v && (bgj_var_attrs(v) & BGJ_ATTR_INDEXED))
                    ind = w_add(w_add(bgj_var_max_index(v), 1), ind);
                if (ind < 0) {
                    if (ar_note(c, 0, "%.*s: bad array subscript", v ? (int)strlen(bgj_var_name(v)) : (int)nl,
                                v ? bgj_var_name(v) : tok) < 0)
                        return -1;
                    c->ret = 0;
                    goto finish;
                }
            }
            F->v1 = ind;
            const char *val = NULL;
            if (v && !ar_invisible(v)) {
                unsigned a = bgj_var_attrs(v);
                if (a & BGJ_ATTR_INDEXED)
                    val = bgj_var_index_get(v, ind);
                else if (ind == 0 && ar_read_value(c, v, &val) < 0)
                    return -1;
            }
            if ((r = value_of(c, val)) != 0)
                return r < 0 ? -1 : 0;
            goto finish;
        }
    } else {
        char kb[64], *key;
        if (sl < sizeof kb && plain_text(sub, sl)) {
            memcpy(kb, sub, sl); /* what expand_sub would return */
            kb[sl] = '\0';
            key = kb;
        } else if (!(key = ar_expand_sub(c, sub, sl, 0)))
            return -1;
        if (!*key) {
            if (key != kb)
                free(key);
            if (ar_note(c, 0, "%s: bad array subscript", bgj_var_name(v)) < 0)
                return -1;
            c->ret = 0;
            goto finish;
        }
        const char *val = bgj_var_assoc_get(v, key);
        if (key != kb)
            free(key);
        if ((r = value_of(c, val)) != 0)
            return r < 0 ? -1 : 0;
        goto finish;
    }
case 3: /* resumed with a value evaluated by an F_SUB frame */
finish:
    c->t.tokval = c->ret;
    c->t.curlval.tokid = c->t.tokid;
    c->t.curlval.tokval = c->ret;
    c->t.curlval.ind = F->v1;
    c->t.lasttok = c->t.curtok;
    c->t.curtok = STR;
    c->t.tp = c->t.expression + F->v3;
    ar_pop(c);
    return 0;
    END;
}

/* ---------------------------------------------------------------- */
/* The driver and the entry points.                                  */

/* Run the frame on top; the grammar levels are in arith_grammar.c. */
static int step(ev *c)
{
    switch (F->fn) {
    case F_COMMA: return fr_comma(c);
    case F_ASSIGN: return fr_assign(c);
    case F_COND: return fr_cond(c);
    case F_BIN: return fr_bin(c);
    case F_UNARY: return fr_unary(c);
    case F_PRIMARY: return fr_primary(c);
    case F_SUB: return fr_sub(c);
    case F_STREVAL: return fr_streval(c);
    case F_BIND: return fr_bind(c);
    }
    return ar_fail(c, 0, "internal error: bad frame");
}

static void cleanup(ev *c)
{
    while (c->nfr)
        ar_pop(c);
    if (c->fr != c->inl_fr)
        free(c->fr);
    /* The live token state and every saved one may own their expression. */
    if (c->nctx) {
        free(c->t.own);
        while (c->nctx > 1) {
            c->nctx--;
            free(c->ctx[c->nctx].own);
        }
        c->t = c->ctx[0];
    }
    free(c->t.own);
    if (c->ctx != c->inl_ctx)
        free(c->ctx);
}

/* Run EXPR to its end or its first error on C, set up by the caller. */
static int run(ev *c, const char *expr, intmax_t *out, struct bgj_err *err, bgj_arith_info *info)
{
    c->fr = c->inl_fr;
    c->frcap = INLINE_FRAMES;
    c->ctx = c->inl_ctx;
    c->ctxcap = INLINE_CTX;
    init_lvalue(&c->t.curlval);
    if (info)
        info->let_prefix = info->abort = 0;
    int r = 0;
    if (ar_push(c, F_SUB) < 0) {
        r = ar_oom(c);
    } else {
        c->fr[0].p = expr;
        while (c->nfr)
            if ((r = step(c)) < 0)
                break;
    }
    if (r == 0) {
        if (out)
            *out = c->ret;
    } else {
        if (!c->err)
            c->err_code = BGJ_ENOMEM;
        r = bgj_err_take(err, c->err_code, c->err);
        c->err = NULL;
        if (info) {
            info->let_prefix = c->err_let;
            info->abort = c->err_abort;
        }
    }
    cleanup(c);
    return r;
}

int bgj_arith_eval(const char *expr, bgj_vars *vars, intmax_t *out, struct bgj_err *err, bgj_arith_info *info)
{
    const char *why = bgj_vars_failure(vars);
    if (why) {
        if (info)
            info->let_prefix = info->abort = 0;
        return bgj_err_set(err, BGJ_EEVAL, "%s", why);
    }
    ev c;
    memset(&c, 0, offsetof(ev, inl_fr));
    c.vars = vars;
    return run(&c, expr, out, err, info);
}

int bgj_arith_parse(const char *expr, struct bgj_err *err)
{
    ev c;
    memset(&c, 0, offsetof(ev, inl_fr));
    c.t.noeval = 1;
    return run(&c, expr, NULL, err, NULL);
}

int bgj_arith_run_words(int nwords, char *const *words, bgj_vars *vars, intmax_t *out, struct bgj_err *err)
{
    int rc = 0;
    *out = 0;
    for (int i = 0; i < nwords && rc == 0; i++)
        rc = bgj_arith_eval(words[i], vars, out, err, NULL);
    return rc;
}
