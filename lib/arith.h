/* arith.h - a reentrant evaluator of bash 5.2 arithmetic (what `let' does).
 *
 * bgj_arith_eval() evaluates one expression against a bgj_vars snapshot on
 * any thread: no globals, no signals, no longjmp, bounded C stack.  Several
 * evaluations may run at once on different bgj_vars.
 */
#ifndef BGJ_ARITH_H
#define BGJ_ARITH_H

#include <stdint.h>

typedef struct bgj_vars bgj_vars; /* defined in lib/vars.h */

/* Evaluate EXPR (the single argument `let' would get) against VARS, which
   assignments modify in place.  Returns 0 and sets *OUT on success.
   Returns -1 and sets *ERR to a malloc'd message on error: the line bash
   prints, without its "bash: " (or "script: line N: ") prefix and without
   the "let: " command name when bash prints one.  Messages bash prints
   while carrying on (bad array subscripts on reads, invalid assignment
   targets) are collected in bgj_vars_messages(VARS). */
int bgj_arith_eval(const char *expr, bgj_vars *vars, intmax_t *out, char **err);

/* Details of a failed evaluation, for tests and callers that care. */
typedef struct {
  int let_prefix; /* bash's line carries "let: " after its own prefix */
  int abort;      /* what bash does next: 0 `let' returns 1; 1 the whole
                     command is abandoned (error inside a subscript);
                     2 a non-interactive shell exits (unbound variable) */
} bgj_arith_info;

/* Same as bgj_arith_eval; when it fails and INFO is not NULL, *INFO says
   how bash would have reported and handled the error. */
int bgj_arith_eval_ex(const char *expr, bgj_vars *vars, intmax_t *out, char **err,
                      bgj_arith_info *info);

/* Nesting limit of this evaluator: parenthesis and operator nesting deeper
   than about this many levels fails with "expression nesting too deep". */
#define BGJ_ARITH_MAX_FRAMES 1000000

#endif
