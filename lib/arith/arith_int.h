/*
 * arith_int.h - what the four parts of the arithmetic evaluator share
 * (private to lib/arith/arith_*.c).
 *
 *   arith_lex.c      character classes, messages, subscript scanning and
 *                    expansion, variable lookup, numbers, the lexer
 *   arith_grammar.c  the grammar levels as frames (comma, assignment,
 *                    conditional, binary operators, unary, primary)
 *   arith_eval.c     the frame machine: the frame stack, nested contexts,
 *                    variable reads for the lexer, the driver loop, the
 *                    public entry points
 *   arith_assign.c   assignment (bash's bind_int_variable and what it calls)
 *
 * How it is built: bash's evaluator is a recursive descent parser whose
 * lexer reads variables the moment it meets them.  This evaluator keeps the
 * same token state and order of effects, but runs on an explicit heap stack
 * of frames: a "call" pushes a frame and returns to the driver loop, which
 * resumes the caller at its saved program counter (F->pc).  A variable read
 * inside the lexer pushes a frame the same way when its value must be
 * evaluated, so neither nesting depth nor recursive variables consume C
 * stack.  Every byte of state lives in one `ev' context; nothing is global.
 */
#ifndef BGJ_ARITH_INT_H
#define BGJ_ARITH_INT_H

#include "arith.h"
#include "errors.h"
#include "strbuf.h"
#include "vars.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Token codes; single-character operators use their own character. */
enum {
    T_EOF = 0,
    EQEQ = 1,
    NEQ,
    LEQ,
    GEQ,
    STR,
    NUM,
    LAND,
    LOR,
    LSH,
    RSH,
    OP_ASSIGN,
    COND,
    POWER,
    PREINC,
    PREDEC,
    POSTINC,
    POSTDEC
};

#define MAX_CONTEXTS 1024 /* bash's MAX_EXPR_RECURSION_LEVEL */
#define NAMEREF_MAX  8

/* Frame kinds: grammar levels in bash's order, then helpers. */
enum {
    F_COMMA,
    F_ASSIGN,
    F_COND,
    F_BIN, /* || down to **: precedence climbing, aux = lowest priority */
    F_UNARY,
    F_PRIMARY,
    F_SUB,     /* evaluate a string in a new context (subexpr/evalexp) */
    F_STREVAL, /* read a variable for the lexer (expr_streval) */
    F_BIND     /* assign a value (bind_int_variable) */
};

typedef struct {
    uint64_t tokid; /* identity of the token string it came from */
    intmax_t tokval;
    intmax_t ind; /* array index, or -1 */
} lvalue;

/* The token state bash saves and restores around nested contexts. */
typedef struct {
    const char *expression;
    char *own; /* the expression when this context owns it */
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
    char *s;       /* owned string, freed with the frame */
    const void *p; /* borrowed pointer */
    size_t n;      /* length of the string at p */
    bgj_var *var;  /* a variable kept across a call */
} frame;

#define INLINE_FRAMES 48
#define INLINE_CTX    4

typedef struct {
    bgj_vars *vars;
    tokstate t;
    int assigntok;
    uint64_t nextid;
    tokstate *ctx; /* saved contexts (pushexp) */
    int nctx, ctxcap;
    frame *fr;
    size_t nfr, frcap;
    int subdepth; /* active subscript evaluations: no "let: " prefix */
    intmax_t ret; /* value returned by the last finished frame */
    char *err;
    int err_code; /* BGJ_ESYNTAX or BGJ_EEVAL */
    int err_let, err_abort;
    /* first frames and contexts, so that most evaluations need no malloc */
    frame inl_fr[INLINE_FRAMES];
    tokstate inl_ctx[INLINE_CTX];
} ev;

/* The frame being run. */
#define F (&c->fr[c->nfr - 1])

/* ---- Character classes, exactly bash's (C locale) ---- */

enum {
    C_WS = 0x01,   /* space tab */
    C_CRWS = 0x02, /* space tab newline */
    C_ALPHA = 0x04,
    C_DIGIT = 0x08,
    C_USCORE = 0x10,  /* _ */
    C_AT = 0x20,      /* @ */
    C_ARITHOP = 0x40, /* a character bash's readtok takes as an operator */
    C_OPCONT = 0x80,  /* a second character some two-character operator has */
    C_SUBSP = 0x100   /* a character expand_sub does more than copy */
};

extern const unsigned short ar_cclass[256];

static inline int has_class(int ch, unsigned cl) { return (ar_cclass[ch & 255] & cl) != 0; }
static inline int is_ws(int ch) { return has_class(ch, C_WS); }
static inline int is_crws(int ch) { return has_class(ch, C_CRWS); }
static inline int is_digit(int ch) { return has_class(ch, C_DIGIT); }
static inline int var_start(int ch) { return has_class(ch, C_ALPHA | C_USCORE); }
static inline int var_char(int ch) { return has_class(ch, C_ALPHA | C_DIGIT | C_USCORE); }

/* ---- Arithmetic without undefined behaviour ---- */

static inline intmax_t wrap(uintmax_t u) { return u <= INTMAX_MAX ? (intmax_t)u : -(intmax_t)(~u) - 1; }
static inline intmax_t w_add(intmax_t a, intmax_t b) { return wrap((uintmax_t)a + (uintmax_t)b); }
static inline intmax_t w_sub(intmax_t a, intmax_t b) { return wrap((uintmax_t)a - (uintmax_t)b); }
static inline intmax_t w_mul(intmax_t a, intmax_t b) { return wrap((uintmax_t)a * (uintmax_t)b); }
static inline intmax_t w_neg(intmax_t a) { return wrap(-(uintmax_t)a); }
static inline intmax_t w_shl(intmax_t a, intmax_t n) { return wrap((uintmax_t)a << ((uintmax_t)n & 63)); }
static inline intmax_t w_shr(intmax_t a, intmax_t n)
{
    unsigned k = (unsigned)((uintmax_t)n & 63);
    return a < 0 ? wrap(~(~(uintmax_t)a >> k)) : (intmax_t)((uintmax_t)a >> k);
}
/* Division and remainder; the caller has excluded a zero divisor. */
static inline intmax_t w_div(intmax_t a, intmax_t b)
{
    return (a == INTMAX_MIN && b == -1) ? INTMAX_MIN : a / b;
}
static inline intmax_t w_mod(intmax_t a, intmax_t b) { return (a == INTMAX_MIN && b == -1) ? 0 : a % b; }
static inline intmax_t w_pow(intmax_t base, intmax_t e)
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

/* ---- Messages (arith_lex.c) ---- */

/* Out of memory: always returns -1. */
int ar_oom(ev *c);
/* A fatal error; LET says whether bash prefixes it with "let: ". */
int ar_fail(ev *c, int let, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A message bash prints before carrying on. */
int ar_note(ev *c, int let, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* bash's evalerror(): a syntax error of the expression being parsed. */
int ar_syntax(ev *c, const char *msg);
/* bash's evalerror() for an error found while evaluating. */
int ar_evalerror(ev *c, const char *msg);

/* ---- Subscripts and variables (arith_lex.c) ---- */

int ar_split_ref(const char *s, size_t *namelen, const char **sub, size_t *sublen);
int ar_valid_array_ref(const char *s);
char *ar_expand_sub(ev *c, const char *s, size_t len, int dq);
bgj_var *ar_lookup(ev *c, const char *name, size_t len);
int ar_invisible(const bgj_var *v);
int ar_find_var(ev *c, const char *name, size_t len, bgj_var **out);
bgj_var *ar_last_nameref(ev *c, const char *name, size_t len);
/* A variable's value as a read gives it (element 0 of an array, the next
   pre-drawn value of a drawn variable); 0, or -1 after an error. */
int ar_read_value(ev *c, bgj_var *v, const char **out);

/* ---- The lexer (arith_lex.c) ---- */

/* readtok(): read the next token.  For an identifier that must be
   evaluated now, push an F_STREVAL frame and set *PENDING. */
int ar_readtok(ev *c, int *pending);

/* ---- Frames (arith_eval.c) ---- */

int ar_grow_frames(ev *c);
int ar_call_sub(ev *c, char *s, int subscript);
int fr_streval(ev *c);

/* The frame array never grows beyond BGJ_ARITH_MAX_FRAMES, so one test
   covers both the growth and the limit. */
static inline int ar_push(ev *c, int fn)
{
    if (c->nfr == c->frcap && ar_grow_frames(c) < 0)
        return -1;
    frame *f = &c->fr[c->nfr++];
    memset(f, 0, sizeof *f);
    f->fn = (unsigned char)fn;
    return 0;
}

void ar_pop(ev *c);

static inline void init_lvalue(lvalue *lv)
{
    lv->tokid = 0;
    lv->tokval = -1;
    lv->ind = -1;
}

static inline void set_tokstr(ev *c, const char *s, size_t len)
{
    c->t.tokstr = s;
    c->t.toklen = len;
    c->t.tokid = s ? ++c->nextid : 0;
}

/* ---- Assignment (arith_assign.c) ---- */

/* Assign VALUE to the left side LHS0 (LEN bytes), or to element LIND of its
   array when LIND is not -1 (may push an F_BIND frame). */
int ar_call_bind(ev *c, const char *lhs0, size_t len, intmax_t lind, intmax_t value);
int fr_bind(ev *c);

/* ---- Frame code: each fr_* function resumes its frame at F->pc.  CALL
   pushes a frame and yields to the driver, READTOK may do the same, RETURN
   pops the frame with a value.  Locals that live across a yield are kept in
   the frame (v1, v2, v3, op, flag, s, p, var).  A `case N:' label is where
   the frame resumes after the call or token read numbered N. ---- */

/* The grammar levels (arith_grammar.c), one per frame kind up to
   F_PRIMARY; push_chain pushes the frames a call of FN starts with,
   pass_through pops the frames that would only hand a value back. */
int ar_push_chain(ev *c, int fn);
void ar_pass_through(ev *c);
int fr_comma(ev *c);
int fr_assign(ev *c);
int fr_cond(ev *c);
int fr_bin(ev *c);
int fr_unary(ev *c);
int fr_primary(ev *c);

/* BEGIN; opens the dispatch on F->pc, END; closes it. */
#define BEGIN                                                                                                \
    switch (F->pc) {                                                                                         \
    case 0:
#define END                                                                                                  \
    }                                                                                                        \
    return 0
#define CALL(fn_, L)                                                                                         \
    do {                                                                                                     \
        F->pc = L;                                                                                           \
        return (fn_) <= F_BIN ? ar_push_chain(c, fn_) : ar_push(c, fn_);                                     \
    case L:;                                                                                                 \
    } while (0)
#define READTOK(L)                                                                                           \
    do {                                                                                                     \
        int pend_;                                                                                           \
        F->pc = L;                                                                                           \
        if (ar_readtok(c, &pend_) < 0) {                                                                     \
            return -1;                                                                                       \
        }                                                                                                    \
        if (pend_) {                                                                                         \
            return 0;                                                                                        \
        }                                                                                                    \
    case L:;                                                                                                 \
    } while (0)
#define RETURN(val)                                                                                          \
    do {                                                                                                     \
        c->ret = (val);                                                                                      \
        ar_pop(c);                                                                                           \
        ar_pass_through(c);                                                                                  \
        return 0;                                                                                            \
    } while (0)

#endif /* BGJ_ARITH_INT_H */
