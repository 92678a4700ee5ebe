/* arith.c - bash 5.2 arithmetic evaluation (the `let' builtin) off the
 * main thread.
 *
 * Owns: lexing, parsing and evaluating one expression, variable reads and
 * assignments through lib/vars.h, and bash's exact diagnostics.  Threading:
 * every byte of state lives in one `ev' context on the heap; nothing is
 * global, nothing longjmps, and no operation can raise SIGFPE.
 *
 * Operators, from the loosest to the tightest binding (this is the spec):
 *
 *   ,                         sequence; the value is the right operand
 *   = *= /= %= += -= <<= >>= &= ^= |=   assignment, right-associative;
 *                             the left side must be the previous token and
 *                             an identifier
 *   ?:                        conditional, right-associative; the branch
 *                             not taken is parsed with evaluation off
 *   ||   &&                   logical, short-circuit the same way
 *   |    ^    &               bitwise
 *   == !=    < <= > >=        comparisons give 0 or 1
 *   << >>                     shifts (count taken modulo 64, like x86)
 *   + -      * / %            wrap around at 64 bits; / and % by 0 are
 *                             errors unless evaluation is off
 *   **                        power, right-associative; negative exponent
 *                             is an error
 *   ! ~ - +                   unary prefix operators
 *   ++id --id                 pre-increment and pre-decrement
 *   id++ id--                 post-increment and post-decrement
 *   ( expr )   numbers   identifiers   id[subscript]
 *
 * Numbers are decimal, 0octal, 0xhex or base#digits (bases 2 to 64, digits
 * 0-9 a-z A-Z @ _).  An identifier's value is itself evaluated as an
 * expression, up to bash's limit of 1024 nested contexts.
 *
 * How it is built: bash's evaluator is a recursive descent parser whose
 * lexer reads variables the moment it meets them.  This file keeps the same
 * token state and order of effects, but runs on an explicit heap stack of
 * frames: a "call" pushes a frame and returns to the driver loop, which
 * resumes the caller at its saved program counter.  A variable read inside
 * the lexer pushes a frame the same way when its value must be evaluated,
 * so neither nesting depth nor recursive variables consume C stack.  The
 * binary levels from || down to ** share one frame kind that parses by
 * precedence climbing (F_BIN), numbers and plain identifiers are taken as
 * operands without frames of their own, and the common cases need no
 * malloc: the first frames and contexts live in the context itself, and
 * tokens are slices of the expression.
 */
#include "arith.h"
#include "vars.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Token codes; single-character operators use their own character. */
enum {
  T_EOF = 0, EQEQ = 1, NEQ, LEQ, GEQ, STR, NUM, LAND, LOR, LSH, RSH,
  OP_ASSIGN, COND, POWER, PREINC, PREDEC, POSTINC, POSTDEC
};

#define MAX_CONTEXTS 1024 /* bash's MAX_EXPR_RECURSION_LEVEL */
#define NAMEREF_MAX 8

/* Frame kinds: grammar levels in bash's order, then helpers. */
enum {
  F_COMMA, F_ASSIGN, F_COND,
  F_BIN,     /* || down to **: precedence climbing, aux = lowest priority */
  F_UNARY, F_PRIMARY,
  F_SUB,     /* evaluate a string in a new context (subexpr/evalexp) */
  F_STREVAL, /* read a variable for the lexer (expr_streval) */
  F_BIND,    /* assign a value (bind_int_variable) */
  F_NKINDS
};

typedef struct {
  uint64_t tokid;  /* identity of the token string it came from */
  intmax_t tokval;
  intmax_t ind;    /* array index, or -1 */
} lvalue;

/* The token state bash saves and restores around nested contexts. */
typedef struct {
  const char *expression;
  char *own;       /* the expression when this context owns it */
  const char *tp, *lasttp;
  int curtok, lasttok;
  intmax_t tokval;
  const char *tokstr; /* the identifier token: TOKLEN bytes of EXPRESSION */
  size_t toklen;
  uint64_t tokid;
  int noeval;
  lvalue curlval;
} tokstate;

typedef struct {
  unsigned char fn, pc, op, flag;
  int aux;
  intmax_t v1, v2, v3;
  char *s;         /* owned string, freed with the frame */
  const void *p;   /* borrowed pointer */
  size_t n;        /* length of the string at p */
  bgj_var *var;    /* a variable kept across a call */
} frame;

#define INLINE_FRAMES 48
#define INLINE_CTX 4

typedef struct {
  bgj_vars *vars;
  tokstate t;
  int assigntok;
  uint64_t nextid;
  tokstate *ctx;   /* saved contexts (pushexp) */
  int nctx, ctxcap;
  frame *fr;
  size_t nfr, frcap;
  int subdepth;    /* active subscript evaluations: no "let: " prefix */
  intmax_t ret;    /* value returned by the last finished frame */
  char *err;
  int err_let, err_abort;
  /* first frames and contexts, so that most evaluations need no malloc */
  frame inl_fr[INLINE_FRAMES];
  tokstate inl_ctx[INLINE_CTX];
} ev;

#define F (&c->fr[c->nfr - 1])

/* ---------------------------------------------------------------- */
/* Character classes, exactly bash's (C locale).                     */

enum {
  C_WS = 0x01,      /* space tab */
  C_CRWS = 0x02,    /* space tab newline */
  C_ALPHA = 0x04,
  C_DIGIT = 0x08,
  C_USCORE = 0x10,  /* _ */
  C_AT = 0x20,      /* @ */
  C_ARITHOP = 0x40, /* a character bash's readtok takes as an operator */
  C_OPCONT = 0x80,  /* a second character some two-character operator has */
  C_SUBSP = 0x100   /* a character expand_sub does more than copy */
};

static const unsigned short cclass[256] = {
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

static int has_class(int ch, unsigned cl) { return (cclass[ch & 255] & cl) != 0; }
static int is_ws(int ch) { return has_class(ch, C_WS); }
static int is_crws(int ch) { return has_class(ch, C_CRWS); }
static int is_digit(int ch) { return has_class(ch, C_DIGIT); }
static int var_start(int ch) { return has_class(ch, C_ALPHA | C_USCORE); }
static int var_char(int ch) { return has_class(ch, C_ALPHA | C_DIGIT | C_USCORE); }

static int legal_identifier(const char *s)
{
  if (!var_start((unsigned char)*s))
    return 0;
  while (*++s)
    if (!var_char((unsigned char)*s))
      return 0;
  return 1;
}

/* ---------------------------------------------------------------- */
/* Strings and messages.                                             */

static char *xstrndup(const char *s, size_t n)
{
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static char *vfmt(const char *fmt, va_list ap)
{
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  if (n < 0)
    return NULL;
  char *p = malloc((size_t)n + 1);
  if (p)
    vsnprintf(p, (size_t)n + 1, fmt, ap);
  return p;
}

static int oom(ev *c)
{
  if (!c->err) {
    c->err = xstrndup("out of memory", 13);
    c->err_let = 0;
  }
  return -1;
}

/* A fatal error; LET says whether bash prefixes it with "let: ". */
static int fail(ev *c, int let, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *m = vfmt(fmt, ap);
  va_end(ap);
  if (!m)
    return oom(c);
  free(c->err);
  c->err = m;
  c->err_let = let;
  c->err_abort = c->subdepth > 0;
  return -1;
}

/* A message bash prints before carrying on. */
static int note(ev *c, int let, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *m = vfmt(fmt, ap);
  va_end(ap);
  if (!m)
    return oom(c);
  char *line = m;
  if (let && c->subdepth == 0) {
    size_t n = strlen(m);
    line = malloc(n + 6);
    if (!line) {
      free(m);
      return oom(c);
    }
    memcpy(line, "let: ", 5);
    memcpy(line + 5, m, n + 1);
    free(m);
  }
  int r = bgj_vars_add_message(c->vars, line);
  free(line);
  return r < 0 ? oom(c) : 0;
}

/* bash's evalerror(): the current context's expression, the message and
   the rest of the text from the last token read. */
static int evalerror_upto(ev *c, const char *msg, const char *end)
{
  const char *t = c->t.expression ? c->t.expression : "";
  while (is_ws((unsigned char)*t) && (!end || t < end))
    t++;
  const char *tok = (c->t.lasttp && *c->t.lasttp) ? c->t.lasttp : "";
  int tl = end ? (int)(end - t) : (int)strlen(t);
  int kl = end ? (tok < end ? (int)(end - tok) : 0) : (int)strlen(tok);
  return fail(c, c->subdepth == 0, "%.*s: %s (error token is \"%.*s\")", tl, t, msg, kl, tok);
}

static int evalerror(ev *c, const char *msg)
{
  return evalerror_upto(c, msg, NULL);
}

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
static int split_ref(const char *s, size_t *namelen, const char **sub, size_t *sublen)
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
static int valid_array_ref(const char *s)
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

static bgj_var *lookup(ev *c, const char *name, size_t len)
{
  return bgj_vars_lookup(c->vars, name, len);
}

static int unavailable(ev *c, const bgj_var *v)
{
  const char *why = v ? bgj_var_unavailable(v) : NULL;
  if (why)
    return fail(c, 0, "%s: %s", bgj_var_name(v), why);
  return 0;
}

static int invisible(const bgj_var *v)
{
  unsigned a = bgj_var_attrs(v);
  return !(a & (BGJ_ATTR_INDEXED | BGJ_ATTR_ASSOC)) && !bgj_var_value(v);
}

/* find_variable(): follow namerefs; NULL when the chain leads nowhere. */
static int find_var(ev *c, const char *name, size_t len, bgj_var **out)
{
  bgj_var *v = lookup(c, name, len), *orig = v;
  *out = NULL;
  if (unavailable(c, v))
    return -1;
  for (int level = 0; v && (bgj_var_attrs(v) & BGJ_ATTR_NAMEREF); level++) {
    const char *target = bgj_var_value(v);
    if (level >= NAMEREF_MAX || !target || !*target)
      return 0;
    bgj_var *prev = v;
    v = lookup(c, target, strlen(target));
    if (unavailable(c, v))
      return -1;
    if (v == orig || v == prev) {
      if (note(c, 0, "warning: %s: circular name reference", bgj_var_name(orig)) < 0)
        return -1;
      return 0;
    }
  }
  *out = v;
  return 0;
}

/* find_variable_last_nameref(): the last nameref of NAME's chain, or the
   variable itself when it is no nameref. */
static bgj_var *last_nameref(ev *c, const char *name, size_t len)
{
  bgj_var *v = lookup(c, name, len), *nv = v;
  for (int level = 0; v && (bgj_var_attrs(v) & BGJ_ATTR_NAMEREF); level++) {
    const char *target = bgj_var_value(v);
    if (level >= NAMEREF_MAX || !target || !*target)
      return NULL;
    nv = v;
    v = lookup(c, target, strlen(target));
  }
  return nv;
}

/* get_variable_value(). */
static const char *var_value(const bgj_var *v)
{
  if (!v)
    return NULL;
  unsigned a = bgj_var_attrs(v);
  if (a & BGJ_ATTR_INDEXED)
    return bgj_var_index_get(v, 0);
  if (a & BGJ_ATTR_ASSOC)
    return bgj_var_assoc_get(v, "0");
  return bgj_var_value(v);
}

/* ---------------------------------------------------------------- */
/* Word expansion inside subscripts.                                 */

typedef struct {
  char *p;
  size_t n, cap;
} buf;

static int bput(buf *b, const char *s, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    size_t ncap = (b->n + n + 1) * 2;
    char *np = realloc(b->p, ncap);
    if (!np)
      return -1;
    b->p = np;
    b->cap = ncap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
  return 0;
}

/* Expand $name and ${name} in S[0..LEN) the way bash expands an array
   subscript: DQ nonzero for an indexed subscript (double-quote rules: only
   \$ \` \" \\ lose the backslash, single quotes stay), zero for an
   associative key (unquoted rules: all quotes are removed).  Anything
   needing the shell (command substitution, special parameters, ${...}
   operators) fails the job.  Returns a malloc'd string or NULL (error set). */
static char *expand_sub(ev *c, const char *s, size_t len, int dq)
{
  buf b = {0};
  int inq = 0, depth = 0, expand = 0;
  size_t i = 0;
  if (bput(&b, "", 0) < 0)
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
      size_t stop = ch == '\\' ? end : end;
      for (; j < stop; j++)
        if ((strchr("[]'\"\\$`~", s[j]) && bput(&b, "\\", 1) < 0) || bput(&b, s + j, 1) < 0)
          goto nomem;
      i = ch == '\\' ? end : (end < len ? end + 1 : end);
      continue;
    }
    if (ch == '\\') {
      if (i + 1 >= len) {
        if (bput(&b, "\\", 1) < 0)
          goto nomem;
        i++;
        continue;
      }
      int nx = (unsigned char)s[i + 1];
      if (dq || inq) {
        if (!(nx == '$' || nx == '`' || nx == '"' || nx == '\\' || nx == '\n'))
          if (bput(&b, "\\", 1) < 0)
            goto nomem;
      }
      if (bput(&b, s + i + 1, 1) < 0)
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
      if ((expand && inner && bput(&b, "\\", 1) < 0) || bput(&b, s + i, 1) < 0)
        goto nomem;
      i++;
    } else if (ch == '\'' && !dq && !inq) {
      size_t j = i + 1;
      while (j < len && s[j] != '\'')
        j++;
      if (bput(&b, s + i + 1, j - i - 1) < 0)
        goto nomem;
      i = j < len ? j + 1 : j;
    } else if (ch == '`') {
      fail(c, 0, "%.*s: command substitution in a subscript is not supported in a background job",
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
          fail(c, 0, "%.*s: this parameter expansion in a subscript is not supported in a background job",
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
      } else if (s[j] == '(' || s[j] == '[' || is_digit((unsigned char)s[j]) || strchr("@*#?-$!", s[j])) {
        fail(c, 0, "%.*s: `$%c' in a subscript is not supported in a background job",
             (int)len, s, s[j]);
        goto bad;
      } else {
        if (bput(&b, "$", 1) < 0)
          goto nomem;
        i++;
        continue;
      }
      bgj_var *v;
      if (find_var(c, s + ns, ne - ns, &v) < 0)
        goto bad;
      if ((!v || invisible(v)) && bgj_vars_nounset(c->vars)) {
        fail(c, 0, "%.*s: unbound variable", (int)(ne - ns), s + ns);
        c->err_abort = 2;
        goto bad;
      }
      const char *val = var_value(v);
      for (; val && *val; val++)
        if ((depth > 0 && strchr("[]'\"\\$`~", *val) && bput(&b, "\\", 1) < 0) ||
            bput(&b, val, 1) < 0)
          goto nomem;
    } else {
      /* a literal ~ inside an inner subscript is quoted data too (a[b[~x]]) */
      if ((dq && expand && depth > 0 && ch == '~' && bput(&b, "\\", 1) < 0) || bput(&b, s + i, 1) < 0)
        goto nomem;
      i++;
    }
  }
  return b.p;
nomem:
  oom(c);
bad:
  free(b.p);
  return NULL;
}

/* ---------------------------------------------------------------- */
/* Frames and contexts.                                              */

static int grow_frames(ev *c)
{
  if (c->nfr >= BGJ_ARITH_MAX_FRAMES)
    return evalerror(c, "expression nesting too deep for a background job");
  {
    size_t ncap = c->frcap * 2;
    if (ncap > BGJ_ARITH_MAX_FRAMES)
      ncap = BGJ_ARITH_MAX_FRAMES;
    frame *nf = c->fr == c->inl_fr ? malloc(ncap * sizeof *nf) : realloc(c->fr, ncap * sizeof *nf);
    if (!nf)
      return oom(c);
    if (c->fr == c->inl_fr)
      memcpy(nf, c->inl_fr, c->nfr * sizeof *nf);
    c->fr = nf;
    c->frcap = ncap;
  }
  return 0;
}

/* The frame array never grows beyond BGJ_ARITH_MAX_FRAMES, so one test
   covers both the growth and the limit. */
static inline int push(ev *c, int fn)
{
  if (c->nfr == c->frcap && grow_frames(c) < 0)
    return -1;
  frame *f = &c->fr[c->nfr++];
  memset(f, 0, sizeof *f);
  f->fn = (unsigned char)fn;
  return 0;
}

static void pop(ev *c)
{
  if (F->s)
    free(F->s);
  c->nfr--;
}

static void init_lvalue(lvalue *lv)
{
  lv->tokid = 0;
  lv->tokval = -1;
  lv->ind = -1;
}

static void set_tokstr(ev *c, const char *s, size_t len)
{
  c->t.tokstr = s;
  c->t.toklen = len;
  c->t.tokid = s ? ++c->nextid : 0;
}

/* ---------------------------------------------------------------- */
/* Numbers (bash's strlong).                                         */

static int numchar(int ch) { return has_class(ch, C_ALPHA | C_DIGIT | C_USCORE | C_AT); }

/* bash lexes a number with a NUL written just after it, so its errors
   show the expression and the token cut there. */
static int numerror(ev *c, const char *msg, const char *end)
{
  return evalerror_upto(c, msg, end);
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

static int is_arithop(int t)
{
  return t > 0 && t < 256 && has_class(t, C_ARITHOP);
}

static int is_multiop(int t)
{
  switch (t) {
  case EQEQ: case NEQ: case LEQ: case GEQ: case LAND: case LOR: case LSH:
  case RSH: case OP_ASSIGN: case COND: case POWER: case PREINC: case PREDEC:
  case POSTINC: case POSTDEC:
    return 1;
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
    return evalerror(c, ch == '-' ? "--: assignment requires lvalue"
                                  : "++: assignment requires lvalue");
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
      return evalerror(c, "syntax error: operand expected");
    return evalerror(c, "syntax error: invalid arithmetic operator");
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
      evalerror(c, "bad array subscript");
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

static int fr_streval(ev *c);

/* readtok(): read the next token into the token state.  For an identifier
   that must be evaluated now, push an F_STREVAL frame and set *PENDING;
   the frame finishes the token. */
static int readtok(ev *c, int *pending)
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
    if (c->t.lasttok == PREINC || c->t.lasttok == PREDEC || peektok != '=') {
      if (!c->t.noeval) {
        if (push(c, F_STREVAL) < 0)
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
    } else
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

/* ---------------------------------------------------------------- */
/* Arithmetic without undefined behaviour.                           */

static intmax_t wrap(uintmax_t u) { return u <= INTMAX_MAX ? (intmax_t)u : -(intmax_t)(~u) - 1; }
static intmax_t w_add(intmax_t a, intmax_t b) { return wrap((uintmax_t)a + (uintmax_t)b); }
static intmax_t w_sub(intmax_t a, intmax_t b) { return wrap((uintmax_t)a - (uintmax_t)b); }
static intmax_t w_mul(intmax_t a, intmax_t b) { return wrap((uintmax_t)a * (uintmax_t)b); }
static intmax_t w_neg(intmax_t a) { return wrap(-(uintmax_t)a); }
static intmax_t w_shl(intmax_t a, intmax_t n) { return wrap((uintmax_t)a << ((uintmax_t)n & 63)); }
static intmax_t w_shr(intmax_t a, intmax_t n)
{
  unsigned k = (unsigned)((uintmax_t)n & 63);
  return a < 0 ? wrap(~(~(uintmax_t)a >> k)) : (intmax_t)((uintmax_t)a >> k);
}
/* Division and remainder; the caller has excluded a zero divisor. */
static intmax_t w_div(intmax_t a, intmax_t b) { return (a == INTMAX_MIN && b == -1) ? INTMAX_MIN : a / b; }
static intmax_t w_mod(intmax_t a, intmax_t b) { return (a == INTMAX_MIN && b == -1) ? 0 : a % b; }
static intmax_t w_pow(intmax_t base, intmax_t e)
{
  uintmax_t r = 1, b = (uintmax_t)base;
  while (e) {
    if (e & 1)
      r *= b;
    e >>= 1;
    b *= b;
  }
  return wrap(r);
}

/* ---------------------------------------------------------------- */
/* Frame code.  Each function resumes its frame at F->pc; CALL pushes a
   frame and yields to the driver, READTOK may do the same.  Locals that
   live across a yield are kept in the frame (v1, v2, v3, op, flag, s, p). */

/* Binary operators from || down to ** are parsed by precedence climbing
   in F_BIN frames, where bash has one function per level.  The order of
   lexing, evaluation and effects (noeval, lasttok, errors) is the same as
   bash's levels give: an operator is applied exactly when bash's level
   for it would apply it.  Priorities, loosest first; 0 for a
   token that is no binary operator here. */
enum { P_LOR = 1, P_LAND, P_BOR, P_BXOR, P_BAND, P_EQ, P_REL, P_SHIFT, P_ADD, P_MUL, P_POW };

static const unsigned char prec_tab[128] = {
  [LOR] = P_LOR, [LAND] = P_LAND, ['|'] = P_BOR, ['^'] = P_BXOR, ['&'] = P_BAND,
  [EQEQ] = P_EQ, [NEQ] = P_EQ, [LEQ] = P_REL, [GEQ] = P_REL, ['<'] = P_REL, ['>'] = P_REL,
  [LSH] = P_SHIFT, [RSH] = P_SHIFT, ['+'] = P_ADD, ['-'] = P_ADD,
  ['*'] = P_MUL, ['/'] = P_MUL, ['%'] = P_MUL, [POWER] = P_POW,
};

static int binprec(int tok) { return tok >= 0 && tok < 128 ? prec_tab[tok] : 0; }

/* Two shortcuts that change nothing observable: a call pushes the chain
   of frames whose first step would only call the next one (push_chain,
   push_bin); and a frame whose first operand has just returned gives it
   back unchanged when the current token is not one of its operators, so
   such frames are popped at once (pass_through). */
static int push_chain(ev *c, int fn)
{
  for (; fn < F_BIN; fn++) {
    if (push(c, fn) < 0)
      return -1;
    F->pc = 1;
  }
  if (push(c, fn) < 0)
    return -1;
  F->aux = P_LOR;
  return 0;
}

/* Parse operators of priority PREC or tighter, starting with a unary. */
static int push_bin(ev *c, int prec)
{
  if (push(c, F_BIN) < 0)
    return -1;
  F->aux = prec;
  return 0;
}

static void pass_through(ev *c)
{
  int tok = c->t.curtok;
  while (c->nfr) {
    frame *f = F;
    if (f->pc == 1) {
      switch (f->fn) {
      case F_COMMA: if (tok == ',') return; break;
      case F_ASSIGN: if (tok == '=' || tok == OP_ASSIGN) return; break;
      case F_COND: if (tok == '?') return; break;
      case F_BIN: if (binprec(tok) >= f->aux) return; break;
      default: return;
      }
    } else if (!(f->fn == F_UNARY && f->pc == 3))
      return;
    c->nfr--;
  }
}


#define BEGIN switch (F->pc) { case 0:
#define END } return 0;
#define CALL(fn_, L) do { F->pc = L; return (fn_) <= F_BIN ? push_chain(c, fn_) : push(c, fn_); \
                          case L:; } while (0)
#define READTOK(L) do { int pend_; F->pc = L; if (readtok(c, &pend_) < 0) { return -1; } \
                        if (pend_) { return 0; } case L:; } while (0)
#define RETURN(val) do { c->ret = (val); pop(c); pass_through(c); return 0; } while (0)

static int fr_comma(ev *c)
{
  BEGIN
  CALL(F_ASSIGN, 1);
  while (c->t.curtok == ',') {
    READTOK(2);
    CALL(F_ASSIGN, 3);
  }
  RETURN(c->ret);
  END
}

/* Start an F_BIND frame assigning VALUE to LHS (bash's expr_bind_variable),
   or to element LIND of LHS's array when LIND is not -1. */
static int bind_name(ev *c, const char *lhs, intmax_t value, char **tail);

/* Pushes a frame that binds VALUE to the name S (malloc'd, owned by the frame from here on). */
static int push_bind(ev *c, char *s, intmax_t value)
{
  if (push(c, F_BIND) < 0) {
    free(s);
    return -1;
  }
  F->s = s;
  F->v1 = value;
  return 0;
}

static int call_bind(ev *c, const char *lhs0, size_t len, intmax_t lind, intmax_t value)
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
  char *s = xstrndup(lhs0, len);
  if (!s)
    return oom(c);
  if (lind != -1) {
    size_t nl;
    const char *sub;
    size_t sl;
    const char *lhs = s;
    if (!split_ref(lhs, &nl, &sub, &sl))
      nl = strlen(lhs);
    s = malloc(nl + 32);
    if (s)
      snprintf(s, nl + 32, "%.*s[%ju]", (int)nl, lhs, (uintmax_t)lind);
    free((char *)lhs);
  }
  if (!s)
    return oom(c);
  return push_bind(c, s, value);
}

static int fr_assign(ev *c)
{
  BEGIN
  CALL(F_COND, 1);
  F->v1 = c->ret;
  if (c->t.curtok == '=' || c->t.curtok == OP_ASSIGN) {
    F->flag = c->t.curtok == OP_ASSIGN;
    if (c->t.lasttok != STR)
      return evalerror(c, "attempted assignment to non-variable");
    if (F->flag) {
      F->op = (unsigned char)c->assigntok;
      F->v2 = F->v1;
    }
    if (!c->t.tokstr)
      return evalerror(c, "syntax error in variable assignment");
    F->p = c->t.tokstr;
    F->n = c->t.toklen;
    F->v3 = c->t.curlval.ind;
    READTOK(2);
    CALL(F_ASSIGN, 3);
    F->v1 = c->ret;
    if (F->flag) {
      intmax_t l = F->v2, r = F->v1;
      int op = F->op;
      if ((op == '/' || op == '%') && r == 0) {
        if (c->t.noeval == 0)
          return evalerror(c, "division by 0");
        r = 1;
      }
      switch (op) {
      case '*': l = w_mul(l, r); break;
      case '/': l = w_div(l, r); break;
      case '%': l = w_mod(l, r); break;
      case '+': l = w_add(l, r); break;
      case '-': l = w_sub(l, r); break;
      case LSH: l = w_shl(l, r); break;
      case RSH: l = w_shr(l, r); break;
      case '&': l = l & r; break;
      case '|': l = l | r; break;
      case '^': l = l ^ r; break;
      }
      F->v1 = l;
    }
    if (c->t.noeval == 0) {
      F->pc = 4;
      return call_bind(c, F->p, F->n, F->v3, F->v1);
    }
    case 4:
    if (c->t.curlval.tokid && c->t.curlval.tokid == c->t.tokid)
      init_lvalue(&c->t.curlval);
    set_tokstr(c, NULL, 0);
  }
  RETURN(F->v1);
  END
}

static int fr_cond(ev *c)
{
  BEGIN
  CALL(F_BIN, 1);
  F->v1 = c->ret; /* cval, and rval when there is no '?' */
  if (c->t.curtok == '?') {
    F->flag = 0;
    if (F->v1 == 0) {
      F->flag = 1;
      c->t.noeval++;
    }
    READTOK(2);
    if (c->t.curtok == 0 || c->t.curtok == ':')
      return evalerror(c, "expression expected");
    CALL(F_COMMA, 3);
    F->v2 = c->ret;
    if (F->flag)
      c->t.noeval--;
    if (c->t.curtok != ':')
      return evalerror(c, "`:' expected for conditional expression");
    F->flag = 0;
    if (F->v1) {
      F->flag = 1;
      c->t.noeval++;
    }
    READTOK(4);
    if (c->t.curtok == 0)
      return evalerror(c, "expression expected");
    CALL(F_COND, 5);
    if (F->flag)
      c->t.noeval--;
    c->t.lasttok = COND;
    RETURN(F->v1 ? F->v2 : c->ret);
  }
  RETURN(F->v1);
  END
}

/* A number, or an identifier not followed by ++ or --: fr_unary and
   fr_primary would only take its value and read the next token, which
   fr_bin does itself without pushing their frames. */
static int simple_operand(ev *c)
{
  if (c->t.curtok == NUM)
    return 1;
  if (c->t.curtok != STR)
    return 0;
  const char *p = c->t.tp;
  while (*p && is_crws((unsigned char)*p))
    p++;
  return !((p[0] == '+' || p[0] == '-') && p[1] == p[0]);
}

/* F_BIN: the operand chain of operators of priority F->aux or tighter
   (bash's levels from expr_lor down to exppower).  v1 = value so far,
   op = operator, flag = noeval raised for the right operand of && or ||,
   v3 = where a divisor starts, v2 = a right operand read here. */
static int fr_bin(ev *c)
{
  int p;
  BEGIN
  if (simple_operand(c)) {
    F->v1 = c->t.tokval;
    READTOK(10);
  } else {
    /* without a unary operator fr_unary would only call fr_primary and
       return its value */
    int t = c->t.curtok;
    F->pc = 1;
    return push(c, t == '!' || t == '~' || t == '-' || t == '+' ? F_UNARY : F_PRIMARY);
  case 1:
    F->v1 = c->ret;
  }
  for (;;) {
    p = binprec(c->t.curtok);
    if (p < F->aux || p == 0)
      break;
    F->op = (unsigned char)c->t.curtok;
    if (p == P_LOR || p == P_LAND) {
      F->flag = 0;
      if (p == P_LOR ? F->v1 != 0 : F->v1 == 0) {
        F->flag = 1;
        c->t.noeval++;
      }
    } else if (p == P_MUL)
      F->v3 = c->t.tp - c->t.expression; /* where the divisor starts */
    READTOK(2);
    if (!simple_operand(c)) {
      p = binprec(F->op);
      F->pc = 3;
      return push_bin(c, p == P_POW ? p : p + 1);
    }
    /* What a pushed F_BIN frame would do first; it is pushed only when
       the right operand goes on with a tighter operator. */
    F->v2 = c->t.tokval;
    READTOK(4);
    p = binprec(F->op);
    p = p == P_POW ? p : p + 1;
    c->ret = F->v2;
    if (binprec(c->t.curtok) >= p) {
      F->pc = 3;
      if (push(c, F_BIN) < 0)
        return -1;
      F->pc = 1;
      F->aux = p;
      return 0;
    }
    /* fall through */
  case 3:
    {
      intmax_t a = F->v1, b = c->ret;
      switch (F->op) {
      case LOR:
      case LAND:
        if (F->flag)
          c->t.noeval--;
        a = F->op == LOR ? (a || b) : (a && b);
        F->v1 = a;
        c->t.lasttok = F->op;
        continue;
      case POWER:
        c->t.lasttok = NUM;
        if (b == 0)
          a = 1;
        else if (b < 0)
          return evalerror(c, "exponent less than 0");
        else
          a = w_pow(a, b);
        F->v1 = a;
        continue;
      case '*':
      case '/':
      case '%':
        if ((F->op == '/' || F->op == '%') && b == 0) {
          if (c->t.noeval == 0) {
            const char *q = c->t.expression + F->v3;
            while (*q && is_ws((unsigned char)*q))
              q++;
            c->t.lasttp = q;
            return evalerror(c, "division by 0");
          }
          b = 1;
        } else if (F->op == '%' && a == INTMAX_MIN && b == -1) {
          F->v1 = 0;
          continue;
        }
        if (F->op == '*')
          a = w_mul(a, b);
        else if (F->op == '/')
          a = w_div(a, b);
        else
          a = w_mod(a, b);
        break;
      case '|': a |= b; break;
      case '^': a ^= b; break;
      case '&': a &= b; break;
      case EQEQ: a = a == b; break;
      case NEQ: a = a != b; break;
      case LEQ: a = a <= b; break;
      case GEQ: a = a >= b; break;
      case '<': a = a < b; break;
      case '>': a = a > b; break;
      case LSH: a = w_shl(a, b); break;
      case RSH: a = w_shr(a, b); break;
      case '+': a = w_add(a, b); break;
      case '-': a = w_sub(a, b); break;
      }
      F->v1 = a;
      c->t.lasttok = NUM;
    }
  }
  RETURN(F->v1);
  END
}

static int fr_unary(ev *c)
{
  BEGIN
  if (c->t.curtok == '!' || c->t.curtok == '~' || c->t.curtok == '-' || c->t.curtok == '+') {
    F->op = (unsigned char)c->t.curtok;
    READTOK(1);
    CALL(F_UNARY, 2);
    {
      intmax_t v = c->ret;
      switch (F->op) {
      case '!': v = !v; break;
      case '~': v = ~v; break;
      case '-': v = w_neg(v); break;
      }
      c->t.lasttok = NUM;
      RETURN(v);
    }
  }
  CALL(F_PRIMARY, 3);
  RETURN(c->ret);
  END
}

static int fr_primary(ev *c)
{
  BEGIN
  if (c->t.curtok == PREINC || c->t.curtok == PREDEC) {
    F->op = (unsigned char)c->t.curtok;
    c->t.lasttok = c->t.curtok;
    READTOK(1);
    if (c->t.curtok != STR)
      return evalerror(c, "identifier expected after pre-increment or pre-decrement");
    F->v1 = w_add(c->t.tokval, F->op == PREINC ? 1 : -1);
    if (c->t.noeval == 0 && (c->t.curlval.ind != -1 || c->t.tokstr)) {
      F->pc = 2;
      return call_bind(c, c->t.tokstr, c->t.toklen, c->t.curlval.ind, F->v1);
    }
    case 2:
    c->t.curtok = NUM;
    READTOK(3);
    RETURN(F->v1);
  } else if (c->t.curtok == '(') {
    READTOK(4);
    CALL(F_COMMA, 5);
    F->v1 = c->ret;
    if (c->t.curtok != ')')
      return evalerror(c, "missing `)'");
    READTOK(6);
    RETURN(F->v1);
  } else if (c->t.curtok == NUM || c->t.curtok == STR) {
    F->v1 = c->t.tokval;
    if (c->t.curtok == STR) {
      /* Only a following ++ or -- matters here; any lexing error of the
         next token is raised identically by the READTOK below. */
      const char *p = c->t.tp;
      while (*p && is_crws((unsigned char)*p))
        p++;
      if ((p[0] == '+' || p[0] == '-') && p[1] == p[0]) {
        c->t.lasttp = p;
        c->t.tp = p + 2;
        c->t.lasttok = STR;
        F->v2 = w_add(F->v1, p[0] == '+' ? 1 : -1);
        c->t.curtok = NUM;
        if (c->t.noeval == 0) {
          F->pc = 7;
          return call_bind(c, c->t.tokstr, c->t.toklen, c->t.curlval.ind, F->v2);
        }
      }
    }
    case 7:
    READTOK(8);
    RETURN(F->v1);
  }
  return evalerror(c, "syntax error: operand expected");
  END
}

/* subexpr()/evalexp(): evaluate F->s in a fresh context.  F->flag is 1 for
   an array subscript (bash's nested evalexp: no "let: " in messages). */
static int fr_sub(ev *c)
{
  BEGIN
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
      return evalerror(c, "expression recursion level exceeded");
    if (c->nctx == c->ctxcap) {
      int ncap = c->ctxcap * 2;
      tokstate *nc = c->ctx == c->inl_ctx ? malloc((size_t)ncap * sizeof *nc)
                                          : realloc(c->ctx, (size_t)ncap * sizeof *nc);
      if (!nc)
        return oom(c);
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
    return evalerror(c, "syntax error in expression");
  free(c->t.own);
  c->t = c->ctx[--c->nctx];
  if (F->flag)
    c->subdepth--;
  RETURN(c->ret);
  END
}

static int call_sub(ev *c, char *s, int subscript)
{
  if (push(c, F_SUB) < 0) {
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

static int plain_number(ev *c, const char *v, intmax_t *out)
{
  return plain_number_n(c, v, strlen(v), out);
}

/* Subscript text that expand_sub() would return unchanged. */
static int plain_text(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (has_class((unsigned char)s[i], C_SUBSP))
      return 0;
  return 1;
}

/* expr_streval(): the value of identifier F->p (F->n bytes, in the
   expression) for the lexer, then the rest of readtok.  v1 = index found
   (es.ind), v3 = end of the token; for NAME[SUB], aux = the length of NAME
   (-1 when the brackets are malformed) and v2 = the length of SUB. */
static int fr_streval(ev *c)
{
  const char *tok = F->p;
  bgj_var *v;
  size_t nl = 0, sl = 0;
  const char *sub = NULL;
  int tl = (int)F->n;
  BEGIN
  F->v1 = -1;
  if (F->flag == ']') {
    /* The token ends at its subscript's closing bracket, so splitting it
       in place scans exactly what splitting a copy would. */
    int ok = split_ref(tok, &nl, &sub, &sl);
    F->aux = ok ? (int)nl : -1;
    F->v2 = (intmax_t)sl;
    if (!ok) {
      if (note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
        return -1;
      v = NULL;
    } else if (find_var(c, tok, nl, &v) < 0)
      return -1;
  } else {
    tok = F->p;
    if (find_var(c, tok, F->n, &v) < 0)
      return -1;
    if (!v)
      v = last_nameref(c, tok, F->n);
  }
  if ((!v || invisible(v)) && bgj_vars_nounset(c->vars)) {
    if (F->flag == ']') {
      if (F->aux < 0) {
        if (note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
          return -1;
        fail(c, 0, "(null): unbound variable");
        c->err_abort = 2;
        return -1;
      }
      fail(c, 0, "%.*s: unbound variable", (int)nl, tok);
      c->err_abort = 2;
      return -1;
    }
    fail(c, 0, "%.*s: unbound variable", (int)F->n, tok);
    c->err_abort = 2;
    return -1;
  }
  if (F->flag != ']') {
    const char *val = var_value(v);
    if (val && *val && plain_number(c, val, &c->ret))
      goto finish;
    if (val && *val) {
      char *s = xstrndup(val, strlen(val));
      if (!s)
        return oom(c);
      F->pc = 3;
      return call_sub(c, s, 0);
    }
    c->ret = 0;
    goto finish;
  }
  /* get_array_value(): the lookup above is repeated, messages included. */
  if (F->aux < 0) {
    if (note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
      return -1;
    c->ret = 0;
    goto finish;
  }
  if (find_var(c, tok, nl, &v) < 0)
    return -1;
  if ((sub[0] == '@' || sub[0] == '*') && sl == 1 && !(v && (bgj_var_attrs(v) & BGJ_ATTR_ASSOC))) {
    if (note(c, 0, "%.*s: bad array subscript", tl, tok) < 0)
      return -1;
    c->ret = 0;
    goto finish;
  }
  if (!v || !(bgj_var_attrs(v) & BGJ_ATTR_ASSOC)) {
    F->var = v;
    if (plain_text(sub, sl) && plain_number_n(c, sub, sl, &c->ret))
      goto subscript_done; /* what evaluating it would give, with no effect */
    char *x = expand_sub(c, sub, sl, 1);
    if (!x)
      return -1;
    F->pc = 1;
    return call_sub(c, x, 1);
  case 1:
  subscript_done:
    v = F->var;
    nl = (size_t)F->aux;
    {
      intmax_t ind = c->ret;
      if (ind < 0) {
        if (v && (bgj_var_attrs(v) & BGJ_ATTR_INDEXED))
          ind = w_add(w_add(bgj_var_max_index(v), 1), ind);
        if (ind < 0) {
          if (note(c, 0, "%.*s: bad array subscript", v ? (int)strlen(bgj_var_name(v)) : (int)nl,
                   v ? bgj_var_name(v) : tok) < 0)
            return -1;
          c->ret = 0;
          goto finish;
        }
      }
      F->v1 = ind;
      const char *val = NULL;
      if (v && !invisible(v)) {
        unsigned a = bgj_var_attrs(v);
        if (a & BGJ_ATTR_INDEXED)
          val = bgj_var_index_get(v, ind);
        else if (ind == 0)
          val = bgj_var_value(v);
      }
      if (val && *val && plain_number(c, val, &c->ret))
        goto finish;
      if (val && *val) {
        char *s = xstrndup(val, strlen(val));
        if (!s)
          return oom(c);
        F->pc = 3;
        return call_sub(c, s, 0);
      }
      c->ret = 0;
      goto finish;
    }
  } else {
    char kb[64], *key;
    if (sl < sizeof kb && plain_text(sub, sl)) {
      memcpy(kb, sub, sl); /* what expand_sub would return */
      kb[sl] = '\0';
      key = kb;
    } else if (!(key = expand_sub(c, sub, sl, 0)))
      return -1;
    if (!*key) {
      if (key != kb)
        free(key);
      if (note(c, 0, "%s: bad array subscript", bgj_var_name(v)) < 0)
        return -1;
      c->ret = 0;
      goto finish;
    }
    const char *val = bgj_var_assoc_get(v, key);
    if (key != kb)
      free(key);
    if (val && *val && plain_number(c, val, &c->ret))
      goto finish;
    if (val && *val) {
      char *s = xstrndup(val, strlen(val));
      if (!s)
        return oom(c);
      F->pc = 3;
      return call_sub(c, s, 0);
    }
    c->ret = 0;
    goto finish;
  }
  case 3:
  finish:
  c->t.tokval = c->ret;
  c->t.curlval.tokid = c->t.tokid;
  c->t.curlval.tokval = c->ret;
  c->t.curlval.ind = F->v1;
  c->t.lasttok = c->t.curtok;
  c->t.curtok = STR;
  c->t.tp = c->t.expression + F->v3;
  pop(c);
  return 0;
  END
}

/* ---- Assignment (bash's bind_int_variable and what it calls) ---- */

static int err_readonly(ev *c, const char *name, size_t len)
{
  return fail(c, 0, "%.*s: readonly variable", (int)len, name);
}

/* "%jd" into B (at least 21 bytes). */
static void fmt_num(char *b, size_t n, intmax_t v)
{
  char t[24];
  size_t i = sizeof t;
  uintmax_t u = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
  (void)n;
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
  if (find_var(c, name, len, &v) < 0)
    return -1;
  if (!v) {
    bgj_var *nr = last_nameref(c, name, len);
    if (nr && (bgj_var_attrs(nr) & BGJ_ATTR_NAMEREF) && bgj_var_value(nr)) {
      const char *t = bgj_var_value(nr);
      if (!legal_identifier(t))
        return note(c, 1, "`%s': not a valid identifier", t);
      v = bgj_vars_create(c->vars, t, strlen(t), BGJ_ATTR_INDEXED);
    } else
      v = bgj_vars_create(c->vars, name, len, BGJ_ATTR_INDEXED);
    if (!v)
      return oom(c);
  } else if (bgj_var_attrs(v) & BGJ_ATTR_READONLY) {
    return err_readonly(c, name, len);
  } else if (!(bgj_var_attrs(v) & BGJ_ATTR_INDEXED)) {
    if (bgj_var_to_indexed(c->vars, v) < 0)
      return oom(c);
  }
  return bgj_var_index_set(c->vars, v, ind, value) < 0 ? oom(c) : 0;
}

/* bind_variable(NAME, VALUE) at global scope; *TAIL receives a nameref's
   array-element target that must be assigned instead. */
static int bind_scalar(ev *c, const char *name, const char *value, char **tail)
{
  size_t len = strlen(name);
  bgj_var *e = lookup(c, name, len);
  *tail = NULL;
  if (unavailable(c, e))
    return -1;
  if (e && (bgj_var_attrs(e) & BGJ_ATTR_NAMEREF) && bgj_var_value(e)) {
    bgj_var *r;
    if (find_var(c, name, len, &r) < 0)
      return -1;
    if (!r)
      r = last_nameref(c, name, len);
    if (!r)
      return 0;
    e = r;
  }
  if (e && (bgj_var_attrs(e) & BGJ_ATTR_NAMEREF)) {
    const char *t = bgj_var_value(e);
    if (!t)
      return note(c, 1, "`%s': not a valid identifier", value);
    if (!legal_identifier(t) && !valid_array_ref(t))
      return note(c, 1, "`%s': not a valid identifier", t);
    if (valid_array_ref(t)) {
      *tail = xstrndup(t, strlen(t));
      return *tail ? 0 : oom(c);
    }
    bgj_var *n = bgj_vars_create(c->vars, t, strlen(t), 0);
    if (!n || bgj_var_set_value(c->vars, n, value) < 0)
      return oom(c);
    return 0;
  }
  if (!e) {
    bgj_var *n = bgj_vars_create(c->vars, name, len, 0);
    if (!n || bgj_var_set_value(c->vars, n, value) < 0)
      return oom(c);
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
  return r < 0 ? oom(c) : 0;
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
  if (!legal_identifier(lhs))
    return note(c, 1, "`%s': not a valid identifier", lhs);
  if (find_var(c, lhs, strlen(lhs), &v) < 0)
    return -1;
  fmt_num(rhs, sizeof rhs, value);
  if (v && (bgj_var_attrs(v) & BGJ_ATTR_INDEXED))
    return bind_array(c, lhs, strlen(lhs), 0, rhs);
  return bind_scalar(c, lhs, rhs, tail);
}

/* F_BIND: s = left side text, v1 = value; p = array entry (across the
   subscript evaluation). */
static int fr_bind(ev *c)
{
  char rhs[32];
  const char *lhs;
  size_t nl, sl;
  const char *sub;
  bgj_var *v;
  BEGIN
  restart:
  lhs = F->s;
  if (valid_array_ref(lhs)) {
    split_ref(lhs, &nl, &sub, &sl);
    if (find_var(c, lhs, nl, &v) < 0)
      return -1;
    int isassoc = v && (bgj_var_attrs(v) & BGJ_ATTR_ASSOC);
    if ((!isassoc && (sub[0] == '@' || sub[0] == '*') && sl == 1) || sl < 1) {
      if (note(c, 0, "%s: bad array subscript", lhs) < 0)
        return -1;
      lose_integer(c, v);
      RETURN(0);
    }
    if (isassoc) {
      char *key = expand_sub(c, sub, sl, 0);
      if (!key)
        return -1;
      if (!*key) {
        free(key);
        if (note(c, 0, "%s: bad array subscript", lhs) < 0)
          return -1;
        lose_integer(c, v);
        RETURN(0);
      }
      if (bgj_var_attrs(v) & BGJ_ATTR_READONLY) {
        free(key);
        return err_readonly(c, lhs, nl);
      }
      fmt_num(rhs, sizeof rhs, F->v1);
      int r = bgj_var_assoc_set(c->vars, v, key, rhs);
      free(key);
      if (r < 0)
        return oom(c);
      RETURN(0);
    }
    F->var = v;
    {
      char *x = expand_sub(c, sub, sl, 1);
      if (!x)
        return -1;
      /* bash drops the integer attribute before evaluating the subscript
         and restores it only after a successful assignment */
      F->flag = v && (bgj_var_attrs(v) & BGJ_ATTR_INTEGER);
      lose_integer(c, v);
      F->pc = 1;
      return call_sub(c, x, 1);
    }
  case 1:
    lhs = F->s;
    split_ref(lhs, &nl, &sub, &sl);
    v = F->var;
    {
      intmax_t ind = c->ret;
      if (v && ind < 0)
        ind = w_add(w_add((bgj_var_attrs(v) & BGJ_ATTR_INDEXED) ? bgj_var_max_index(v) : 0, 1), ind);
      if (ind < 0) {
        if (note(c, 0, "%s: bad array subscript", lhs) < 0)
          return -1;
        lose_integer(c, v);
        RETURN(0);
      }
      fmt_num(rhs, sizeof rhs, F->v1);
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
  END
}

typedef int (*step_fn)(ev *);

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
  return fail(c, 0, "internal error: bad frame");
}

static void cleanup(ev *c)
{
  while (c->nfr)
    pop(c);
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

int bgj_arith_eval_ex(const char *expr, bgj_vars *vars, intmax_t *out, char **err,
                      bgj_arith_info *info)
{
  ev c;
  memset(&c, 0, offsetof(ev, inl_fr));
  c.fr = c.inl_fr;
  c.frcap = INLINE_FRAMES;
  c.ctx = c.inl_ctx;
  c.ctxcap = INLINE_CTX;
  c.vars = vars;
  init_lvalue(&c.t.curlval);
  *err = NULL;
  if (info)
    info->let_prefix = info->abort = 0;
  const char *why = bgj_vars_failure(vars);
  if (why) {
    *err = xstrndup(why, strlen(why));
    return -1;
  }
  int r = 0;
  if (push(&c, F_SUB) < 0) {
    r = oom(&c);
  } else {
    c.fr[0].p = expr;
    while (c.nfr)
      if ((r = step(&c)) < 0)
        break;
  }
  if (r == 0)
    *out = c.ret;
  else {
    *err = c.err ? c.err : xstrndup("out of memory", 13);
    c.err = NULL;
    if (info) {
      info->let_prefix = c.err_let;
      info->abort = c.err_abort;
    }
  }
  cleanup(&c);
  return r < 0 ? -1 : 0;
}

int bgj_arith_eval(const char *expr, bgj_vars *vars, intmax_t *out, char **err)
{
  return bgj_arith_eval_ex(expr, vars, out, err, NULL);
}
