/*
 * arith_lex.c - the lexing half of the arithmetic evaluator: bash's
 * character classes, its diagnostics, subscript scanning and expansion,
 * variable lookup with nameref rules, numbers (strlong) and the lexer
 * (readtok).  See arith_int.h for how the parts fit.
 *
 * Threading: every function works on one `ev' context and the bgj_vars it
 * evaluates against; no globals besides the constant class table.
 */
#include "arith_int.h"
#include "names.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
const unsigned short ar_cclass[256] = {
    [' '] = C_WS | C_CRWS, ['\t'] = C_WS | C_CRWS, ['\n'] = C_CRWS,
    ['a' ... 'z'] = C_ALPHA, ['A' ... 'Z'] = C_ALPHA, ['0' ... '9'] = C_DIGIT,
    ['_'] = C_USCORE, ['@'] = C_AT,
    ['='] = C_ARITHOP | C_OPCONT, ['>'] = C_ARITHOP | C_OPCONT, ['<'] = C_ARITHOP | C_OPCONT,
    ['+'] = C_ARITHOP | C_OPCONT, ['-'] = C_ARITHOP | C_OPCONT, ['*'] = C_ARITHOP | C_OPCONT,
    ['/'] = C_ARITHOP, ['%'] = C_ARITHOP, ['!'] = C_ARITHOP, ['('] = C_ARITHOP,
    [')'] = C_ARITHOP, ['&'] = C_ARITHOP | C_OPCONT, ['|'] = C_ARITHOP | C_OPCONT,
    ['^'] = C_ARITHOP, ['~'] = C_ARITHOP, ['?'] = C_ARITHOP, [':'] = C_ARITHOP, [','] = C_ARITHOP,
    ['\\'] = C_SUBSP, ['"'] = C_SUBSP, ['\''] = C_SUBSP, ['['] = C_SUBSP, [']'] = C_SUBSP,
    ['`'] = C_SUBSP, ['$'] = C_SUBSP,
};
/* clang-format on */

/* ---------------------------------------------------------------- */
/* Messages.                                                         */

int ar_oom(ev *c)
{
    if (!c->err) {
        c->err = bgj_strndup("out of memory", 13);
        c->err_code = BGJ_ENOMEM;
        c->err_let = 0;
    }
    return -1;
}

/* The error CODE with a message formatted from FMT and AP. */
static int vfail(ev *c, int code, int let, const char *fmt, va_list ap)
{
    struct bgj_strbuf b = {0};
    bgj_sb_vprintf(&b, fmt, ap);
    char *m = bgj_sb_take(&b);
    if (!m)
        return ar_oom(c);
    free(c->err);
    c->err = m;
    c->err_code = code;
    c->err_let = let;
    c->err_abort = c->subdepth > 0;
    return -1;
}

int ar_fail(ev *c, int let, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfail(c, BGJ_EEVAL, let, fmt, ap);
    va_end(ap);
    return r;
}

int ar_note(ev *c, int let, const char *fmt, ...)
{
    struct bgj_strbuf b = {0};
    va_list ap;
    if (let && c->subdepth == 0)
        bgj_sb_puts(&b, "let: ");
    va_start(ap, fmt);
    bgj_sb_vprintf(&b, fmt, ap);
    va_end(ap);
    char *line = bgj_sb_take(&b);
    int r = line ? bgj_vars_add_message(c->vars, line) : -1;
    free(line);
    return r < 0 ? ar_oom(c) : 0;
}

/* bash's evalerror(): the current context's expression, the message and
   the rest of the text from the last token read (up to END when not NULL).
   CODE is BGJ_ESYNTAX for an error of the parser, which counts as one only
   in the text of the expression itself, not in a variable's value or a
   subscript evaluated on the way. */
static int evalerror_upto(ev *c, int code, const char *msg, const char *end)
{
    const char *t = c->t.expression ? c->t.expression : "";
    while (is_ws((unsigned char)*t) && (!end || t < end))
        t++;
    const char *tok = (c->t.lasttp && *c->t.lasttp) ? c->t.lasttp : "";
    int tl = end ? (int)(end - t) : (int)strlen(t);
    int kl = end ? (tok < end ? (int)(end - tok) : 0) : (int)strlen(tok);
    int r = ar_fail(c, c->subdepth == 0, "%.*s: %s (error token is \"%.*s\")", tl, t, msg, kl, tok);
    if (c->err_code == BGJ_EEVAL && code == BGJ_ESYNTAX && c->nctx <= 1)
        c->err_code = BGJ_ESYNTAX;
    return r;
}

int ar_syntax(ev *c, const char *msg) { return evalerror_upto(c, BGJ_ESYNTAX, msg, NULL); }

int ar_evalerror(ev *c, const char *msg) { return evalerror_upto(c, BGJ_EEVAL, msg, NULL); }

/* ---------------------------------------------------------------- */
/* Subscript scanning (bash's skipsubscript / skip_matched_pair).    */

static size_t skip_squote(const char *s, size_t i)
{
    while (s[i] && s[i] != '\'')
        i++;
    return s[i] ? i + 1 : i;
}

static size_t skip_pair(const char *s, size_t i, int open, int close);

static size_t skip_dquote(const char *s, size_t i)
{
    while (s[i] && s[i] != '"') {
        if (s[i] == '\\' && s[i + 1])
            i += 2;
        else if (s[i] == '$' && (s[i + 1] == '(' || s[i + 1] == '{')) {
            int open = s[i + 1], close = open == '(' ? ')' : '}';
            i = skip_pair(s, i + 1, open, close);
            if (s[i])
                i++;
        } else if (s[i] == '`') {
            i++;
            while (s[i] && s[i] != '`')
                i++;
            if (s[i])
                i++;
        } else
            i++;
    }
    return s[i] ? i + 1 : i;
}

/* S[I] is OPEN; return the index of the matching CLOSE or of the NUL. */
static size_t skip_pair(const char *s, size_t i, int open, int close)
{
    int count = 1;
    i++;
    while (s[i]) {
        int ch = (unsigned char)s[i];
        if (ch == '\\') {
            i++;
            if (!s[i])
                break;
            i++;
        } else if (ch == '`') {
            i++;
            while (s[i] && s[i] != '`')
                i++;
            if (s[i])
                i++;
        } else if (ch == open) {
            count++;
            i++;
        } else if (ch == close) {
            if (--count == 0)
                break;
            i++;
        } else if (ch == '\'') {
            i = skip_squote(s, i + 1);
        } else if (ch == '"') {
            i = skip_dquote(s, i + 1);
        } else if (ch == '$' && (s[i + 1] == '(' || s[i + 1] == '{')) {
            if (!s[i + 2])
                return i + 2;
            int o2 = s[i + 1], c2 = o2 == '(' ? ')' : '}';
            i = skip_pair(s, i + 1, o2, c2);
            if (!s[i])
                break;
            i++;
        } else
            i++;
    }
    return i;
}

/* Split "name[sub]" the way array_variable_name() does: on success set
   *NAMELEN, *SUB (just after '[') and *SUBLEN (up to the closing ']',
   which *SUB+*SUBLEN points at); return 0 when the brackets are malformed. */
int ar_split_ref(const char *s, size_t *namelen, const char **sub, size_t *sublen)
{
    const char *t = strchr(s, '[');
    if (!t)
        return 0;
    size_t ind = (size_t)(t - s), ni = skip_pair(s, ind, '[', ']');
    if (ni <= ind + 1 || s[ni] != ']')
        return 0;
    *namelen = ind;
    *sub = t + 1;
    *sublen = ni - ind - 1;
    return 1;
}

/* valid_array_reference(): a legal name, a non-empty subscript, nothing after. */
int ar_valid_array_ref(const char *s)
{
    const char *t = strchr(s, '[');
    if (!t)
        return 0;
    for (const char *p = s; p < t; p++)
        if (p == s ? !var_start((unsigned char)*p) : !var_char((unsigned char)*p))
            return 0;
    if (t == s)
        return 0;
    size_t len = skip_pair(t, 0, '[', ']');
    return t[len] == ']' && len != 1 && t[len + 1] == '\0';
}

/* ---------------------------------------------------------------- */
/* Variable lookup with bash's nameref rules.                        */

bgj_var *ar_lookup(ev *c, const char *name, size_t len) { return bgj_vars_lookup(c->vars, name, len); }

int ar_invisible(const bgj_var *v)
{
    unsigned a = bgj_var_attrs(v);
    return !(a & (BGJ_ATTR_INDEXED | BGJ_ATTR_ASSOC)) && !bgj_var_value(v);
}

/* find_variable(): follow namerefs; NULL when the chain leads nowhere. */
int ar_find_var(ev *c, const char *name, size_t len, bgj_var **out)
{
    bgj_var *v = ar_lookup(c, name, len), *orig = v;
    *out = NULL;
    for (int level = 0; v && (bgj_var_attrs(v) & BGJ_ATTR_NAMEREF); level++) {
        const char *target = bgj_var_value(v);
        if (level >= NAMEREF_MAX || !target || !*target)
            return 0;
        bgj_var *prev = v;
        v = ar_lookup(c, target, strlen(target));
        if (v == orig || v == prev) {
            if (ar_note(c, 0, "warning: %s: circular name reference", bgj_var_name(orig)) < 0)
                return -1;
            return 0;
        }
    }
    *out = v;
    return 0;
}

/* find_variable_last_nameref(): the last nameref of NAME's chain, or the
   variable itself when it is no nameref. */
bgj_var *ar_last_nameref(ev *c, const char *name, size_t len)
{
    bgj_var *v = ar_lookup(c, name, len), *nv = v;
    for (int level = 0; v && (bgj_var_attrs(v) & BGJ_ATTR_NAMEREF); level++) {
        const char *target = bgj_var_value(v);
        if (level >= NAMEREF_MAX || !target || !*target)
            return NULL;
        nv = v;
        v = ar_lookup(c, target, strlen(target));
    }
    return nv;
}

/* get_variable_value(). */
int ar_read_value(ev *c, bgj_var *v, const char **out)
{
    *out = NULL;
    if (!v)
        return 0;
    unsigned a = bgj_var_attrs(v);
    if (a & BGJ_ATTR_INDEXED)
        *out = bgj_var_index_get(v, 0);
    else if (a & BGJ_ATTR_ASSOC)
        *out = bgj_var_assoc_get(v, "0");
    else if (bgj_var_read(c->vars, v, out) < 0)
        return ar_fail(c, 0,
                       "%s: read more often than it occurs in the expression and the values it reads "
                       "(each occurrence draws one value at `new'): not reproducible in a background job",
                       bgj_var_name(v));
    return 0;
}

/* ---------------------------------------------------------------- */
/* Word expansion inside subscripts.                                 */

/* Expand $name and ${name} in S[0..LEN) the way bash expands an array
   subscript: DQ nonzero for an indexed subscript (double-quote rules: only
   \$ \` \" \\ lose the backslash, single quotes stay), zero for an
   associative key (unquoted rules: all quotes are removed).  Anything
   needing the shell (command substitution, special parameters, ${...}
   operators) fails the job.  Returns a malloc'd string or NULL (error set). */
char *ar_expand_sub(ev *c, const char *s, size_t len, int dq)
{
    struct bgj_strbuf b = {0};
    int inq = 0, depth = 0, expand = 0;
    size_t i = 0;
    if (bgj_sb_add(&b, "", 0) < 0)
        goto nomem;
    /* With no $ ` ~ bash only removes quotes (double-quote rules) over the
     whole text; otherwise it runs the word expander, which treats text
     inside an inner [...] as quoted data (see ESCAPED below). */
    for (size_t k = 0; k < len; k++)
        if (s[k] == '$' || s[k] == '`' || s[k] == '~')
            expand = 1;
    while (i < len) {
        int ch = (unsigned char)s[i];
        if (dq && expand && depth > 0 && (ch == '\'' || ch == '"' || ch == '\\')) {
            /* quoted data inside an inner subscript: quotes go, the characters
         come out backslash-escaped like an expanded value's */
            size_t j = i + 1, end;
            if (ch == '\\') {
                end = i + 2 <= len ? i + 2 : len;
                j = i + 1;
            } else {
                end = j;
                while (end < len && s[end] != ch)
                    end++;
            }
            for (; j < end; j++)
                if ((strchr("[]'\"\\$`~", s[j]) && bgj_sb_add(&b, "\\", 1) < 0) ||
                    bgj_sb_add(&b, s + j, 1) < 0)
                    goto nomem;
            i = ch == '\\' ? end : (end < len ? end + 1 : end);
            continue;
        }
        if (ch == '\\') {
            if (i + 1 >= len) {
                if (bgj_sb_add(&b, "\\", 1) < 0)
                    goto nomem;
                i++;
                continue;
            }
            int nx = (unsigned char)s[i + 1];
            if (dq || inq) {
                if (!(nx == '$' || nx == '`' || nx == '"' || nx == '\\' || nx == '\n'))
                    if (bgj_sb_add(&b, "\\", 1) < 0)
                        goto nomem;
            }
            if (bgj_sb_add(&b, s + i + 1, 1) < 0)
                goto nomem;
            i += 2;
        } else if (ch == '"') {
            inq = !inq;
            i++;
        } else if (dq && (ch == '[' || ch == ']')) {
            /* When the word expander runs, text inside an inner subscript is
         quoted data: its own brackets, and [ ] ' " \ $ ` ~ in values
         expanded there, come out backslash-quoted (a[b[$x]], a[b[c[1]]+$x]) */
            int inner = ch == '[' ? depth >= 1 : depth >= 2;
            depth += ch == '[' ? 1 : (depth > 0 ? -1 : 0);
            if ((expand && inner && bgj_sb_add(&b, "\\", 1) < 0) || bgj_sb_add(&b, s + i, 1) < 0)
                goto nomem;
            i++;
        } else if (ch == '\'' && !dq && !inq) {
            size_t j = i + 1;
            while (j < len && s[j] != '\'')
                j++;
            if (bgj_sb_add(&b, s + i + 1, j - i - 1) < 0)
                goto nomem;
            i = j < len ? j + 1 : j;
        } else if (ch == '`') {
            ar_fail(c, 0, "%.*s: command substitution in a subscript is not supported in a background job",
                    (int)len, s);
            goto bad;
        } else if (ch == '$' && i + 1 < len) {
            size_t j = i + 1, ns, ne;
            if (s[j] == '{') {
                ns = j + 1;
                ne = ns;
                while (ne < len && var_char((unsigned char)s[ne]))
                    ne++;
                if (ne == ns || !var_start((unsigned char)s[ns]) || ne >= len || s[ne] != '}') {
                    ar_fail(
                        c, 0,
                        "%.*s: this parameter expansion in a subscript is not supported in a background job",
                        (int)len, s);
                    goto bad;
                }
                i = ne + 1;
            } else if (var_start((unsigned char)s[j])) {
                ns = j;
                ne = ns;
                while (ne < len && var_char((unsigned char)s[ne]))
                    ne++;
                i = ne;
            } else if (s[j] == '(' || s[j] == '[' || is_digit((unsigned char)s[j]) ||
                       strchr("@*#?-$!", s[j])) {
                ar_fail(c, 0, "%.*s: `$%c' in a subscript is not supported in a background job", (int)len, s,
                        s[j]);
                goto bad;
            } else {
                if (bgj_sb_add(&b, "$", 1) < 0)
                    goto nomem;
                i++;
                continue;
            }
            bgj_var *v;
            if (ar_find_var(c, s + ns, ne - ns, &v) < 0)
                goto bad;
            if ((!v || ar_invisible(v)) && bgj_vars_nounset(c->vars)) {
                ar_fail(c, 0, "%.*s: unbound variable", (int)(ne - ns), s + ns);
                c->err_abort = 2;
                goto bad;
            }
            const char *val;
            if (ar_read_value(c, v, &val) < 0)
                goto bad;
            for (; val && *val; val++)
                if ((depth > 0 && strchr("[]'\"\\$`~", *val) && bgj_sb_add(&b, "\\", 1) < 0) ||
                    bgj_sb_add(&b, val, 1) < 0)
                    goto nomem;
        } else {
            /* a literal ~ inside an inner subscript is quoted data too (a[b[~x]]) */
            if ((dq && expand && depth > 0 && ch == '~' && bgj_sb_add(&b, "\\", 1) < 0) ||
                bgj_sb_add(&b, s + i, 1) < 0)
                goto nomem;
            i++;
        }
    }
    {
        char *r = bgj_sb_take(&b);
        if (r)
            return r;
    }
nomem:
    ar_oom(c);
bad:
    bgj_sb_free(&b);
    return NULL;
}
/* ---------------------------------------------------------------- */
/* Numbers (bash's strlong).                                         */

static int numchar(int ch) { return has_class(ch, C_ALPHA | C_DIGIT | C_USCORE | C_AT); }

/* bash lexes a number with a NUL written just after it, so its errors
   show the expression and the token cut there. */
static int numerror(ev *c, const char *msg, const char *end)
{
    return evalerror_upto(c, BGJ_ESYNTAX, msg, end);
}

static int strlong(ev *c, const char *s, size_t len, intmax_t *out)
{
    size_t i = 0;
    uintmax_t val = 0;
    intmax_t base = 10;
    int foundbase = 0;
    if (s[0] == '0') {
        i++;
        if (i == len) {
            *out = 0;
            return 0;
        }
        if (s[i] == 'x' || s[i] == 'X') {
            base = 16;
            i++;
        } else
            base = 8;
        foundbase = 1;
    }
    for (; i < len; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '#') {
            if (foundbase)
                return numerror(c, "invalid number", s + len);
            if ((intmax_t)val < 2 || (intmax_t)val > 64)
                return numerror(c, "invalid arithmetic base", s + len);
            base = (intmax_t)val;
            val = 0;
            foundbase = 1;
            if (i + 1 >= len || !numchar((unsigned char)s[i + 1]))
                return numerror(c, "invalid integer constant", s + len);
        } else if (numchar(ch)) {
            int d;
            if (is_digit(ch))
                d = ch - '0';
            else if (ch >= 'a' && ch <= 'z')
                d = ch - 'a' + 10;
            else if (ch >= 'A' && ch <= 'Z')
                d = ch - 'A' + (base <= 36 ? 10 : 36);
            else if (ch == '@')
                d = 62;
            else
                d = 63;
            if (d >= base)
                return numerror(c, "value too great for base", s + len);
            val = val * (uintmax_t)base + (uintmax_t)d;
        } else
            break;
    }
    *out = (intmax_t)val;
    return 0;
}

/* ---------------------------------------------------------------- */
/* The lexer (bash's readtok).                                       */

static int is_arithop(int t) { return t > 0 && t < 256 && has_class(t, C_ARITHOP); }

static int is_multiop(int t)
{
    switch (t) {
    case EQEQ:
    case NEQ:
    case LEQ:
    case GEQ:
    case LAND:
    case LOR:
    case LSH:
    case RSH:
    case OP_ASSIGN:
    case COND:
    case POWER:
    case PREINC:
    case PREDEC:
    case POSTINC:
    case POSTDEC: return 1;
    }
    return 0;
}

/* Lex one operator token at CP (CP[-1] is its first character CH);
   CURTOK/LASTTOK are the lexer's current ones.  Returns the token code and
   advances *CPP, or -1 after reporting bash's error (lasttp must already
   point at CH). */
static int lex_op(ev *c, int ch, const char **cpp, int curtok, int lasttok, int *assigntok)
{
    const char *cp = *cpp;
    int c1 = (unsigned char)*cp++;
    int tok;
    if (!has_class(c1, C_OPCONT) && has_class(ch, C_ARITHOP)) {
        /* no two-character operator ends in C1: the common single one */
        *cpp = cp - 1;
        return ch;
    }
    if (ch == '=' && c1 == '=')
        tok = EQEQ;
    else if (ch == '!' && c1 == '=')
        tok = NEQ;
    else if (ch == '>' && c1 == '=')
        tok = GEQ;
    else if (ch == '<' && c1 == '=')
        tok = LEQ;
    else if (ch == '<' && c1 == '<') {
        if (*cp == '=') {
            *assigntok = LSH;
            tok = OP_ASSIGN;
            cp++;
        } else
            tok = LSH;
    } else if (ch == '>' && c1 == '>') {
        if (*cp == '=') {
            *assigntok = RSH;
            tok = OP_ASSIGN;
            cp++;
        } else
            tok = RSH;
    } else if (ch == '&' && c1 == '&')
        tok = LAND;
    else if (ch == '|' && c1 == '|')
        tok = LOR;
    else if (ch == '*' && c1 == '*')
        tok = POWER;
    else if ((ch == '-' || ch == '+') && c1 == ch && curtok == STR)
        tok = ch == '-' ? POSTDEC : POSTINC;
    else if ((ch == '-' || ch == '+') && c1 == ch && curtok == NUM &&
             (lasttok == PREINC || lasttok == PREDEC))
        return ar_syntax(c, ch == '-' ? "--: assignment requires lvalue" : "++: assignment requires lvalue");
    else if ((ch == '-' || ch == '+') && c1 == ch) {
        const char *xp = cp;
        while (*xp && is_crws((unsigned char)*xp))
            xp++;
        if (var_start((unsigned char)*xp))
            tok = ch == '-' ? PREDEC : PREINC;
        else {
            cp--;
            tok = ch;
        }
    } else if (c1 == '=' && ch && strchr("*/%+-&^|", ch)) {
        *assigntok = ch;
        tok = OP_ASSIGN;
    } else if (!is_arithop(ch)) {
        if (curtok == 0 || is_arithop(curtok) || is_multiop(curtok))
            return ar_syntax(c, "syntax error: operand expected");
        return ar_syntax(c, "syntax error: invalid arithmetic operator");
    } else {
        cp--;
        tok = ch;
    }
    *cpp = cp;
    return tok;
}

/* Scan an identifier (and subscript) starting at P; return its end, set
   *E to ']' when subscripted; NULL after a "bad array subscript" error. */
static const char *scan_ident(ev *c, const char *p, int *e)
{
    const char *cp = p;
    while (var_char((unsigned char)*cp))
        cp++;
    *e = 0;
    if (*cp == '[') {
        size_t k = skip_pair(cp, 0, '[', ']');
        if (cp[k] != ']') {
            ar_syntax(c, "bad array subscript");
            return NULL;
        }
        cp += k + 1;
        *e = ']';
    }
    return cp;
}

/* The peek bash does after an identifier: lex the following token(s)
   with evaluation off, only for their type and their errors.  Chains of
   identifiers are followed iteratively (bash recurses). */
static int peek_after_ident(ev *c, const char *cp, int *type)
{
    const char *save_lasttp = c->t.lasttp;
    int first = -1, lasttok = c->t.curtok;
    for (;;) {
        while (*cp && is_crws((unsigned char)*cp))
            cp++;
        int ch = (unsigned char)*cp;
        int tok;
        if (!ch)
            tok = T_EOF;
        else {
            c->t.lasttp = cp;
            cp++;
            if (var_start(ch)) {
                int e;
                cp = scan_ident(c, cp - 1, &e);
                if (!cp)
                    return -1;
                if (first < 0)
                    first = STR;
                lasttok = STR;
                continue; /* its own peek follows */
            } else if (is_digit(ch)) {
                const char *np = cp - 1;
                while (numchar((unsigned char)*cp) || *cp == '#')
                    cp++;
                intmax_t dummy;
                if (strlong(c, np, (size_t)(cp - np), &dummy) < 0)
                    return -1;
                tok = NUM;
            } else {
                int at;
                tok = lex_op(c, ch, &cp, STR, lasttok, &at);
                if (tok < 0)
                    return -1;
            }
        }
        if (first < 0)
            first = tok;
        break;
    }
    c->t.lasttp = save_lasttp;
    *type = first;
    return 0;
}

/* ar_readtok(): read the next token into the token state.  For an identifier
   that must be evaluated now, push an F_STREVAL frame and set *PENDING;
   the frame finishes the token. */
int ar_readtok(ev *c, int *pending)
{
    const char *cp = c->t.tp;
    int ch = 0;
    *pending = 0;
    while (cp && (ch = (unsigned char)*cp) && is_crws(ch))
        cp++;
    if (ch)
        cp++;
    if (!ch) {
        c->t.lasttok = c->t.curtok;
        c->t.curtok = T_EOF;
        c->t.tp = cp;
        return 0;
    }
    c->t.lasttp = c->t.tp = cp - 1;
    if (var_start(ch)) {
        int e;
        const char *start = cp - 1;
        cp = scan_ident(c, start, &e);
        if (!cp)
            return -1;
        if (c->t.curlval.tokid && c->t.curlval.tokid == c->t.tokid)
            init_lvalue(&c->t.curlval);
        set_tokstr(c, start, (size_t)(cp - start));
        int peektok, savecur = c->t.curtok;
        c->t.curtok = STR;
        int r = peek_after_ident(c, cp, &peektok);
        c->t.curtok = savecur;
        if (r < 0)
            return -1;
        /* The variable is read now unless it is about to be assigned or
           evaluation is off (then its value is 0). */
        if ((c->t.lasttok == PREINC || c->t.lasttok == PREDEC || peektok != '=') && !c->t.noeval) {
            if (ar_push(c, F_STREVAL) < 0)
                return -1;
            frame *f = F;
            f->p = start;
            f->n = (size_t)(cp - start);
            f->flag = (unsigned char)e;
            f->v3 = cp - c->t.expression;
            /* Run it now: most reads finish without a call, popping it. */
            size_t depth = c->nfr;
            if (fr_streval(c) < 0)
                return -1;
            *pending = c->nfr >= depth;
            return 0;
        }
        c->t.tokval = 0;
        c->t.lasttok = c->t.curtok;
        c->t.curtok = STR;
    } else if (is_digit(ch)) {
        while (numchar((unsigned char)*cp) || *cp == '#')
            cp++;
        if (strlong(c, c->t.tp, (size_t)(cp - c->t.tp), &c->t.tokval) < 0)
            return -1;
        c->t.lasttok = c->t.curtok;
        c->t.curtok = NUM;
    } else {
        int tok = lex_op(c, ch, &cp, c->t.curtok, c->t.lasttok, &c->assigntok);
        if (tok < 0)
            return -1;
        c->t.lasttok = c->t.curtok;
        c->t.curtok = tok;
    }
    c->t.tp = cp;
    return 0;
}
