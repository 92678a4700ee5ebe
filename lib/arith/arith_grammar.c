/*
 * arith_grammar.c - the grammar levels of the arithmetic evaluator: bash's
 * expcomma, expassign, expcond, the binary levels from expr_lor down to
 * exppower (one precedence-climbing frame kind), unary and exp0, each as a
 * resumable frame function (fr_*) that arith_eval.c's driver runs.  It owns
 * the operator table and the frame shortcuts (push_chain, pass_through).
 * See arith_int.h for how the parts fit.
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
 * expression, up to bash's limit of 1024 nested contexts.  The binary
 * levels from || down to ** share one frame kind that parses by precedence
 * climbing (F_BIN); numbers and plain identifiers are taken as operands
 * without frames of their own, and the common cases need no malloc: the
 * first frames and contexts live in the context itself, and tokens are
 * slices of the expression.  Nothing longjmps and no operation can raise
 * SIGFPE.
 *
 * Threading: no shared state; every function works on the one `ev' context
 * it is given (on the caller's stack), so any thread, no locks.
 */
#include "arith_int.h"

#include <stdint.h>

/* ---------------------------------------------------------------- */
/* Grammar levels.                                                   */

/* Binary operators from || down to ** are parsed by precedence climbing
   in F_BIN frames, where bash has one function per level.  The order of
   lexing, evaluation and effects (noeval, lasttok, errors) is the same as
   bash's levels give: an operator is applied exactly when bash's level
   for it would apply it.  Priorities, loosest first; 0 for a token that
   is no binary operator here.  A right-associative operator's right
   operand takes operators of its own priority, a left-associative one's
   only tighter ones. */
enum { P_LOR = 1, P_LAND, P_BOR, P_BXOR, P_BAND, P_EQ, P_REL, P_SHIFT, P_ADD, P_MUL, P_POW };

static const struct {
    unsigned char prec, right;
} optab[128] = {
    [LOR] = {P_LOR, 0}, [LAND] = {P_LAND, 0}, ['|'] = {P_BOR, 0},   ['^'] = {P_BXOR, 0},  ['&'] = {P_BAND, 0},
    [EQEQ] = {P_EQ, 0}, [NEQ] = {P_EQ, 0},    [LEQ] = {P_REL, 0},   [GEQ] = {P_REL, 0},   ['<'] = {P_REL, 0},
    ['>'] = {P_REL, 0}, [LSH] = {P_SHIFT, 0}, [RSH] = {P_SHIFT, 0}, ['+'] = {P_ADD, 0},   ['-'] = {P_ADD, 0},
    ['*'] = {P_MUL, 0}, ['/'] = {P_MUL, 0},   ['%'] = {P_MUL, 0},   [POWER] = {P_POW, 1},
};

static int binprec(int tok) { return tok >= 0 && tok < 128 ? optab[tok].prec : 0; }

/* The lowest priority the right operand of binary operator OP takes. */
static int rhs_prec(int op) { return optab[op].prec + !optab[op].right; }

/* Two shortcuts that change nothing observable: a call pushes the chain
   of frames whose first step would only call the next one (push_chain,
   push_bin); and a frame whose first operand has just returned gives it
   back unchanged when the current token is not one of its operators, so
   such frames are popped at once (pass_through). */
int ar_push_chain(ev *c, int fn)
{
    for (; fn < F_BIN; fn++) {
        if (ar_push(c, fn) < 0)
            return -1;
        F->pc = 1;
    }
    if (ar_push(c, fn) < 0)
        return -1;
    F->aux = P_LOR;
    return 0;
}

/* Parse operators of priority PREC or tighter, starting with a unary. */
static int push_bin(ev *c, int prec)
{
    if (ar_push(c, F_BIN) < 0)
        return -1;
    F->aux = prec;
    return 0;
}

void ar_pass_through(ev *c)
{
    int tok = c->t.curtok;
    while (c->nfr) {
        frame *f = F;
        if (f->pc == 1) {
            switch (f->fn) {
            case F_COMMA:
                if (tok == ',')
                    return;
                break;
            case F_ASSIGN:
                if (tok == '=' || tok == OP_ASSIGN)
                    return;
                break;
            case F_COND:
                if (tok == '?')
                    return;
                break;
            case F_BIN:
                if (binprec(tok) >= f->aux)
                    return;
                break;
            default: return;
            }
        } else if (!(f->fn == F_UNARY && f->pc == 3))
            return;
        c->nfr--;
    }
}

/* expcomma:  expr := assign { ',' assign } */
int fr_comma(ev *c)
{
    BEGIN;
    CALL(F_ASSIGN, 1);
    while (c->t.curtok == ',') {
        READTOK(2);
        CALL(F_ASSIGN, 3);
    }
    RETURN(c->ret);
    END;
}

/* expassign:  assign := cond [ ( '=' | OP'=' ) assign ]   (the left side is the
   identifier token just read) */
int fr_assign(ev *c)
{
    BEGIN;
    CALL(F_COND, 1);
    F->v1 = c->ret;
    if (c->t.curtok == '=' || c->t.curtok == OP_ASSIGN) {
        F->flag = c->t.curtok == OP_ASSIGN;
        if (c->t.lasttok != STR)
            return ar_syntax(c, "attempted assignment to non-variable");
        if (F->flag) {
            F->op = (unsigned char)c->assigntok;
            F->v2 = F->v1;
        }
        if (!c->t.tokstr)
            return ar_syntax(c, "syntax error in variable assignment");
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
                    return ar_evalerror(c, "division by 0");
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
            return ar_call_bind(c, F->p, F->n, F->v3, F->v1);
        }
    case 4: /* resumed after the F_BIND frame pushed just above; also
               reached straight on when evaluation is off */
        if (c->t.curlval.tokid && c->t.curlval.tokid == c->t.tokid)
            init_lvalue(&c->t.curlval);
        set_tokstr(c, NULL, 0);
    }
    RETURN(F->v1);
    END;
}

/* expcond:  cond := lor [ '?' expr ':' cond ] */
int fr_cond(ev *c)
{
    BEGIN;
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
            return ar_syntax(c, "expression expected");
        CALL(F_COMMA, 3);
        F->v2 = c->ret;
        if (F->flag)
            c->t.noeval--;
        if (c->t.curtok != ':')
            return ar_syntax(c, "`:' expected for conditional expression");
        F->flag = 0;
        if (F->v1) {
            F->flag = 1;
            c->t.noeval++;
        }
        READTOK(4);
        if (c->t.curtok == 0)
            return ar_syntax(c, "expression expected");
        CALL(F_COND, 5);
        if (F->flag)
            c->t.noeval--;
        c->t.lasttok = COND;
        RETURN(F->v1 ? F->v2 : c->ret);
    }
    RETURN(F->v1);
    END;
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

/* explor .. exppower:  bin(p) := unary { OP bin(rhs_prec(OP)) }  for the
   operators OP of priority p or tighter.
   F_BIN: the operand chain of operators of priority F->aux or tighter
   (bash's levels from expr_lor down to exppower).  v1 = value so far,
   op = operator, flag = noeval raised for the right operand of && or ||,
   v3 = where a divisor starts, v2 = a right operand read here. */
int fr_bin(ev *c)
{
    int p;
    BEGIN;
    if (simple_operand(c)) {
        F->v1 = c->t.tokval;
        READTOK(10);
    } else {
        /* without a unary operator fr_unary would only call fr_primary and
       return its value */
        int t = c->t.curtok;
        F->pc = 1;
        return ar_push(c, t == '!' || t == '~' || t == '-' || t == '+' ? F_UNARY : F_PRIMARY);
    case 1: /* resumed with the first operand from the frame pushed above */ F->v1 = c->ret;
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
            F->pc = 3;
            return push_bin(c, rhs_prec(F->op));
        }
        /* What a pushed F_BIN frame would do first; it is pushed only when
       the right operand goes on with a tighter operator. */
        F->v2 = c->t.tokval;
        READTOK(4);
        p = rhs_prec(F->op);
        c->ret = F->v2;
        if (binprec(c->t.curtok) >= p) {
            F->pc = 3;
            if (ar_push(c, F_BIN) < 0)
                return -1;
            F->pc = 1;
            F->aux = p;
            return 0;
        }
        /* fall through */
    case 3: /* resumed with a right operand from a pushed F_BIN frame */
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
                return ar_evalerror(c, "exponent less than 0");
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
                    return ar_evalerror(c, "division by 0");
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
    END;
}

/* unary:  unary := ( '!' | '~' | '-' | '+' ) unary | primary */
int fr_unary(ev *c)
{
    BEGIN;
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
    END;
}

/* exp0:  primary := ( '++' | '--' ) id | '(' expr ')' | number | id [ '++' | '--' ] */
int fr_primary(ev *c)
{
    BEGIN;
    if (c->t.curtok == PREINC || c->t.curtok == PREDEC) {
        F->op = (unsigned char)c->t.curtok;
        c->t.lasttok = c->t.curtok;
        READTOK(1);
        if (c->t.curtok != STR)
            return ar_syntax(c, "identifier expected after pre-increment or pre-decrement");
        F->v1 = w_add(c->t.tokval, F->op == PREINC ? 1 : -1);
        if (c->t.noeval == 0 && (c->t.curlval.ind != -1 || c->t.tokstr)) {
            F->pc = 2;
            return ar_call_bind(c, c->t.tokstr, c->t.toklen, c->t.curlval.ind, F->v1);
        }
    case 2: /* resumed after the F_BIND frame pushed just above */
        c->t.curtok = NUM;
        READTOK(3);
        RETURN(F->v1);
    } else if (c->t.curtok == '(') {
        READTOK(4);
        CALL(F_COMMA, 5);
        F->v1 = c->ret;
        if (c->t.curtok != ')')
            return ar_syntax(c, "missing `)'");
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
                    return ar_call_bind(c, c->t.tokstr, c->t.toklen, c->t.curlval.ind, F->v2);
                }
            }
        }
    case 7: /* resumed after the F_BIND of a post-increment */ READTOK(8); RETURN(F->v1);
    }
    return ar_syntax(c, "syntax error: operand expected");
    END;
}
