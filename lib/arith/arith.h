/*
 * arith.h - a reentrant evaluator of bash 5.2 arithmetic (what `let' does).
 *
 * bgj_arith_eval() evaluates one expression against a bgj_vars snapshot on
 * any thread: no globals, no signals, no longjmp, bounded C stack.  Several
 * evaluations may run at once on different bgj_vars.  Errors follow
 * lib/errors.h: a BGJ_E* code, and the line bash prints in a struct bgj_err.
 */
#ifndef BGJ_ARITH_H
#define BGJ_ARITH_H

#include <stdint.h>

#include "errors.h"

typedef struct bgj_vars bgj_vars; /* defined in lib/vars.h */

/* How bash would report and handle a failed evaluation. */
typedef struct {
    int let_prefix; /* bash's line carries "let: " after its own prefix */
    int abort;      /* what bash does next: 0 `let' returns 1; 1 the whole
                       command is abandoned (error inside a subscript);
                       2 a non-interactive shell exits (unbound variable) */
} bgj_arith_info;

/*
 * Evaluates EXPR (one word `let' would get) against VARS, which assignments
 * modify in place.  Returns 0 and sets *OUT on success.  On failure returns
 *   BGJ_ESYNTAX  a syntax error in the text of EXPR itself (bash finds it
 *                without evaluating anything: see bgj_arith_parse),
 *   BGJ_EEVAL    any other error bash reports: division by zero, negative
 *                exponent, recursion, readonly or unbound variable, a
 *                variable whose value or a subscript that is malformed...,
 *   BGJ_ENOMEM,
 * with, in ERR (may be NULL), the line bash prints without its "bash: " (or
 * "script: line N: ") prefix and without the "let: " command name, and, in
 * INFO (may be NULL), how bash goes on.  Messages bash prints while carrying
 * on (bad array subscripts on reads, invalid assignment targets) are
 * collected in bgj_vars_messages(VARS).
 */
int bgj_arith_eval(const char *expr, bgj_vars *vars, intmax_t *out, struct bgj_err *err,
                   bgj_arith_info *info);

/*
 * Parses EXPR with evaluation off from the start, the way bash parses the
 * parts of an expression it does not evaluate (the right side of `0 &&'):
 * nothing is read or assigned.  Returns 0 when bash would parse EXPR to its
 * end without an error, BGJ_ESYNTAX with let's message in ERR when it would
 * stop at a syntax error, BGJ_EEVAL when parsing alone already stops at an
 * error that is not a syntax error (`2 ** -1'), or BGJ_ENOMEM.
 */
int bgj_arith_parse(const char *expr, struct bgj_err *err);

/*
 * `let WORD...': evaluates the NWORDS WORDS in order against VARS and stops
 * at the first that fails.  Returns 0 with the last word's value in *OUT,
 * or the failing word's code and message as bgj_arith_eval does.
 */
int bgj_arith_run_words(int nwords, char *const *words, bgj_vars *vars, intmax_t *out, struct bgj_err *err);

/* An arithmetic job (arith_job.c) evaluating WORDS as bgj_arith_run_words
   does; its command is the words joined by spaces.  Takes ownership of VARS
   (freed on failure), copies WORDS.  NULL when out of memory. */
struct bgjob_job;
struct bgjob_job *bgj_arith_job_words(int nwords, char *const *words, bgj_vars *vars);

/* Nesting limit of this evaluator: parenthesis and operator nesting deeper
   than about this many levels fails with "expression nesting too deep". */
#define BGJ_ARITH_MAX_FRAMES 1000000

#endif
