/*
 * arith_assign.c - assignment in the arithmetic evaluator: bash's
 * bind_int_variable() and what it calls (bind_variable, bind_array_variable,
 * the nameref rules), applied to the bgj_vars snapshot.  See arith_int.h
 * for how the parts fit.
 *
 * Threading: works on one `ev' context and its bgj_vars; no globals.
 */
#include "arith_int.h"
#include "names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bind_name(ev *c, const char *lhs, intmax_t value, char **tail);

/* Pushes a frame that binds VALUE to the name S (malloc'd, owned by the frame from here on). */
static int push_bind(ev *c, char *s, intmax_t value)
{
    if (ar_push(c, F_BIND) < 0) {
        free(s);
        return -1;
    }
    F->s = s;
    F->v1 = value;
    return 0;
}

/* bash's expr_bind_variable(). */
int ar_call_bind(ev *c, const char *lhs0, size_t len, intmax_t lind, intmax_t value)
{
    if (lind == -1 && len > 0 && len < 64 && var_start((unsigned char)lhs0[0])) {
        /* A plain name: F_BIND would run at once and finish without a call,
       so do its work here (unless a nameref leads to an array element). */
        size_t i = 1;
        while (i < len && var_char((unsigned char)lhs0[i]))
            i++;
        if (i == len) {
            char nb[64], *tail;
            memcpy(nb, lhs0, len);
            nb[len] = '\0';
            if (bind_name(c, nb, value, &tail) < 0)
                return -1;
            c->ret = 0;
            return tail ? push_bind(c, tail, value) : 0;
        }
    }
    char *s = bgj_strndup(lhs0, len);
    if (!s)
        return ar_oom(c);
    if (lind != -1) {
        size_t nl;
        const char *sub;
        size_t sl;
        const char *lhs = s;
        if (!ar_split_ref(lhs, &nl, &sub, &sl))
            nl = strlen(lhs);
        s = malloc(nl + 32);
        if (s)
            snprintf(s, nl + 32, "%.*s[%ju]", (int)nl, lhs, (uintmax_t)lind);
        free((char *)lhs);
    }
    if (!s)
        return ar_oom(c);
    return push_bind(c, s, value);
}
static int err_readonly(ev *c, const char *name, size_t len)
{
    return ar_fail(c, 0, "%.*s: readonly variable", (int)len, name);
}

/* "%jd" into B (at least 21 bytes). */
static void fmt_num(char *b, intmax_t v)
{
    char t[24];
    size_t i = sizeof t;
    uintmax_t u = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
    do {
        t[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        t[--i] = '-';
    memcpy(b, t + i, sizeof t - i);
    b[sizeof t - i] = '\0';
}

/* bind_array_variable(NAME, IND, VALUE). */
static int bind_array(ev *c, const char *name, size_t len, intmax_t ind, const char *value)
{
    bgj_var *v;
    if (ar_find_var(c, name, len, &v) < 0)
        return -1;
    if (!v) {
        bgj_var *nr = ar_last_nameref(c, name, len);
        if (nr && (bgj_var_attrs(nr) & BGJ_ATTR_NAMEREF) && bgj_var_value(nr)) {
            const char *t = bgj_var_value(nr);
            if (!bgj_is_identifier(t))
                return ar_note(c, 1, "`%s': not a valid identifier", t);
            v = bgj_vars_create(c->vars, t, strlen(t), BGJ_ATTR_INDEXED);
        } else
            v = bgj_vars_create(c->vars, name, len, BGJ_ATTR_INDEXED);
        if (!v)
            return ar_oom(c);
    } else if (bgj_var_attrs(v) & BGJ_ATTR_READONLY) {
        return err_readonly(c, name, len);
    } else if (!(bgj_var_attrs(v) & BGJ_ATTR_INDEXED)) {
        if (bgj_var_to_indexed(c->vars, v) < 0)
            return ar_oom(c);
    }
    return bgj_var_index_set(c->vars, v, ind, value) < 0 ? ar_oom(c) : 0;
}

/* bind_variable(NAME, VALUE) at global scope; *TAIL receives a nameref's
   array-element target that must be assigned instead. */
static int bind_scalar(ev *c, const char *name, const char *value, char **tail)
{
    size_t len = strlen(name);
    bgj_var *e = ar_lookup(c, name, len);
    *tail = NULL;
    if (e && (bgj_var_attrs(e) & BGJ_ATTR_NAMEREF) && bgj_var_value(e)) {
        bgj_var *r;
        if (ar_find_var(c, name, len, &r) < 0)
            return -1;
        if (!r)
            r = ar_last_nameref(c, name, len);
        if (!r)
            return 0;
        e = r;
    }
    if (e && (bgj_var_attrs(e) & BGJ_ATTR_NAMEREF)) {
        const char *t = bgj_var_value(e);
        if (!t)
            return ar_note(c, 1, "`%s': not a valid identifier", value);
        if (!bgj_is_identifier(t) && !ar_valid_array_ref(t))
            return ar_note(c, 1, "`%s': not a valid identifier", t);
        if (ar_valid_array_ref(t)) {
            *tail = bgj_strndup(t, strlen(t));
            return *tail ? 0 : ar_oom(c);
        }
        bgj_var *n = bgj_vars_create(c->vars, t, strlen(t), 0);
        if (!n || bgj_var_set_value(c->vars, n, value) < 0)
            return ar_oom(c);
        return 0;
    }
    if (!e) {
        bgj_var *n = bgj_vars_create(c->vars, name, len, 0);
        if (!n || bgj_var_set_value(c->vars, n, value) < 0)
            return ar_oom(c);
        return 0;
    }
    unsigned a = bgj_var_attrs(e);
    if (a & BGJ_ATTR_READONLY)
        return err_readonly(c, bgj_var_name(e), strlen(bgj_var_name(e)));
    int r;
    if (a & BGJ_ATTR_INDEXED)
        r = bgj_var_index_set(c->vars, e, 0, value);
    else if (a & BGJ_ATTR_ASSOC)
        r = bgj_var_assoc_set(c->vars, e, "0", value);
    else
        r = bgj_var_set_value(c->vars, e, value);
    return r < 0 ? ar_oom(c) : 0;
}

/* bash's bind_int_variable() clears the integer attribute while it
   assigns and only restores it when the assignment returned a variable:
   a failed element assignment leaves the array without it. */
static void lose_integer(ev *c, bgj_var *v)
{
    if (v && (bgj_var_attrs(v) & BGJ_ATTR_INTEGER))
        bgj_var_set_attrs(c->vars, v, bgj_var_attrs(v) & ~BGJ_ATTR_INTEGER);
}

/* The rest of bind_int_variable() for a left side LHS that is no array
   reference; *TAIL receives a nameref's array-element target that must
   be assigned instead (the caller goes on with it as a new left side). */
static int bind_name(ev *c, const char *lhs, intmax_t value, char **tail)
{
    char rhs[32];
    bgj_var *v;
    *tail = NULL;
    if (!bgj_is_identifier(lhs))
        return ar_note(c, 1, "`%s': not a valid identifier", lhs);
    if (ar_find_var(c, lhs, strlen(lhs), &v) < 0)
        return -1;
    fmt_num(rhs, value);
    if (v && (bgj_var_attrs(v) & BGJ_ATTR_INDEXED))
        return bind_array(c, lhs, strlen(lhs), 0, rhs);
    return bind_scalar(c, lhs, rhs, tail);
}

/* bind_int_variable:  id [ '[' subscript ']' ] = value
   F_BIND: s = left side text, v1 = value; var = the array across the
   subscript's evaluation, flag = it had the integer attribute. */
int fr_bind(ev *c)
{
    char rhs[32];
    const char *lhs;
    size_t nl, sl;
    const char *sub;
    bgj_var *v;
    BEGIN;
restart:
    lhs = F->s;
    if (ar_valid_array_ref(lhs)) {
        ar_split_ref(lhs, &nl, &sub, &sl);
        if (ar_find_var(c, lhs, nl, &v) < 0)
            return -1;
        int isassoc = v && (bgj_var_attrs(v) & BGJ_ATTR_ASSOC);
        if ((!isassoc && (sub[0] == '@' || sub[0] == '*') && sl == 1) || sl < 1) {
            if (ar_note(c, 0, "%s: bad array subscript", lhs) < 0)
                return -1;
            lose_integer(c, v);
            RETURN(0);
        }
        if (isassoc) {
            char *key = ar_expand_sub(c, sub, sl, 0);
            if (!key)
                return -1;
            if (!*key) {
                free(key);
                if (ar_note(c, 0, "%s: bad array subscript", lhs) < 0)
                    return -1;
                lose_integer(c, v);
                RETURN(0);
            }
            if (bgj_var_attrs(v) & BGJ_ATTR_READONLY) {
                free(key);
                return err_readonly(c, lhs, nl);
            }
            fmt_num(rhs, F->v1);
            int r = bgj_var_assoc_set(c->vars, v, key, rhs);
            free(key);
            if (r < 0)
                return ar_oom(c);
            RETURN(0);
        }
        F->var = v;
        {
            char *x = ar_expand_sub(c, sub, sl, 1);
            if (!x)
                return -1;
            /* bash drops the integer attribute before evaluating the subscript
         and restores it only after a successful assignment */
            F->flag = v && (bgj_var_attrs(v) & BGJ_ATTR_INTEGER);
            lose_integer(c, v);
            F->pc = 1;
            return ar_call_sub(c, x, 1);
        }
    case 1: /* resumed with the subscript's value from the F_SUB pushed above */
        lhs = F->s;
        ar_split_ref(lhs, &nl, &sub, &sl);
        v = F->var;
        {
            intmax_t ind = c->ret;
            if (v && ind < 0)
                ind = w_add(w_add((bgj_var_attrs(v) & BGJ_ATTR_INDEXED) ? bgj_var_max_index(v) : 0, 1), ind);
            if (ind < 0) {
                if (ar_note(c, 0, "%s: bad array subscript", lhs) < 0)
                    return -1;
                lose_integer(c, v);
                RETURN(0);
            }
            fmt_num(rhs, F->v1);
            if (bind_array(c, lhs, nl, ind, rhs) < 0)
                return -1;
            if (F->flag && v)
                bgj_var_set_attrs(c->vars, v, bgj_var_attrs(v) | BGJ_ATTR_INTEGER);
            RETURN(0);
        }
    }
    {
        char *tail;
        if (bind_name(c, lhs, F->v1, &tail) < 0)
            return -1;
        if (tail) {
            free(F->s);
            F->s = tail;
            goto restart;
        }
    }
    RETURN(0);
    END;
}
