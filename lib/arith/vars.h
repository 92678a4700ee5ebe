/* vars.h - the private variable snapshot an arithmetic job reads and writes.
 *
 * A bgj_vars holds copies of the shell variables one expression can reach:
 * scalars, sparse indexed arrays, associative arrays, their readonly,
 * integer and nameref attributes, plus the `set -u' flag.  The main thread
 * fills it (builtin/snapshot.c, or a C test through the builder calls
 * below); afterwards exactly one thread at a time may use it.  Nothing here
 * knows about bash, and only malloc/free are used.
 *
 * Assignments made by the evaluator change this copy only; the store
 * remembers which variables and elements were assigned so that
 * bgj_vars_assignments() can describe their final values as plain
 * assignment statements, which `eval' applies where `let' would have.
 *
 * Dynamic variables (RANDOM, SECONDS, ...) are captured by value when the
 * job is created; RANDOM and SRANDOM as a list of values drawn then, one
 * per read, and RANDOM seeds bash's own generator when it is assigned.
 */
#ifndef BGJ_VARS_H
#define BGJ_VARS_H

#include <stddef.h>
#include <stdint.h>

typedef struct bgj_vars bgj_vars;
typedef struct bgj_var bgj_var;

/* Attribute bits of a variable. */
#define BGJ_ATTR_READONLY 0x01u
#define BGJ_ATTR_INTEGER  0x02u
#define BGJ_ATTR_NAMEREF  0x04u
#define BGJ_ATTR_INDEXED  0x08u /* indexed array */
#define BGJ_ATTR_ASSOC    0x10u /* associative array */

bgj_vars *bgj_vars_new(void);
void bgj_vars_free(bgj_vars *);
/* Frees V later, on the thread that calls bgj_vars_reap (the one that makes
   snapshots): a worker done with a snapshot hands it back this way, so that
   the allocator's memory is freed where it was taken, without contention.
   Any thread, lock-free. */
void bgj_vars_free_later(bgj_vars *v);
/* Frees every snapshot handed back so far.  The thread that makes them. */
void bgj_vars_reap(void);

/* Malloc'd assignment statements, one a line, with the final value of
   every scalar and array element assigned during evaluation (`x=42',
   `a[3]=7', `h['a b']=1'): evaluated where `let' ran, they leave the
   variables as `let' would have, attributes (exported, integer, local)
   untouched.  NULL when nothing was assigned or memory ran out. */
char *bgj_vars_assignments(const bgj_vars *);

/* A deep copy (assignment marks, messages and pending draws included), or
   NULL when out of memory. */
bgj_vars *bgj_vars_dup(const bgj_vars *);

/* Lines bash would have printed on stderr while the evaluation carried on
   (e.g. "a[-9]: bad array subscript"), newline-terminated, "" when none. */
const char *bgj_vars_messages(const bgj_vars *);

/* ---- Builder (main thread, before the evaluation) ----
   All return 0, or -1 on out-of-memory or an invalid request.  Defining a
   name again replaces the earlier definition. */

/* A scalar.  VALUE NULL means declared but unset (`declare x'); ATTRS may
   hold READONLY, INTEGER. */
int bgj_vars_set_scalar(bgj_vars *, const char *name, const char *value, unsigned attrs);
/* A nameref whose target is TARGET (may be "arr[3]"); NULL = no target. */
int bgj_vars_set_nameref(bgj_vars *, const char *name, const char *target, unsigned attrs);
/* An empty indexed or associative array (ATTRS must include INDEXED or ASSOC). */
int bgj_vars_set_array(bgj_vars *, const char *name, unsigned attrs);
int bgj_vars_array_put(bgj_vars *, const char *name, intmax_t index, const char *value);
int bgj_vars_assoc_put(bgj_vars *, const char *name, const char *key, const char *value);
/* The `set -u' flag. */
void bgj_vars_set_nounset(bgj_vars *, int on);
int bgj_vars_nounset(const bgj_vars *);
/* Kinds of dynamic variable. */
#define BGJ_DYN_FIXED  1 /* VALUE read at `new'; assignments are ignored (EPOCHSECONDS) */
#define BGJ_DYN_DRAWN  2 /* each read takes the next drawn value; assignments ignored (SRANDOM) */
#define BGJ_DYN_RANDOM 3 /* drawn, until an assignment seeds bash's generator (RANDOM) */
/* A dynamic variable of KIND (ATTRS may hold READONLY, INTEGER); VALUE is
   its value for BGJ_DYN_FIXED, ignored otherwise. */
int bgj_vars_set_dynamic(bgj_vars *, const char *name, int kind, const char *value, unsigned attrs);
/* Append a value drawn for NAME, a BGJ_DYN_DRAWN or BGJ_DYN_RANDOM variable. */
int bgj_vars_add_draw(bgj_vars *, const char *name, const char *value);
/* Fail every evaluation at once with REASON (e.g. an unsupported shell
   option); the first call wins. */
int bgj_vars_set_failure(bgj_vars *, const char *reason);
const char *bgj_vars_failure(const bgj_vars *);
/* Forget which variables were assigned and the messages (tests reuse a store). */
void bgj_vars_clear_assigned(bgj_vars *);

/* ---- Access used by the evaluator (lib/arith_*.c) and by tests ---- */

bgj_var *bgj_vars_lookup(const bgj_vars *, const char *name, size_t len);
const char *bgj_var_name(const bgj_var *);
unsigned bgj_var_attrs(const bgj_var *);
/* Scalar value or nameref target; NULL when unset (invisible). */
const char *bgj_var_value(const bgj_var *);
/* Its BGJ_DYN_* kind, or 0. */
int bgj_var_dynamic(const bgj_var *);
/* The value a read of X gives now (a dynamic variable's next value); 0, or
   -1 when X's drawn values are used up. */
int bgj_var_read(bgj_vars *, bgj_var *x, const char **out);
/* Indexed arrays: element or NULL; the highest index or -1 when empty. */
const char *bgj_var_index_get(const bgj_var *, intmax_t index);
intmax_t bgj_var_max_index(const bgj_var *);
/* Associative arrays: element or NULL. */
const char *bgj_var_assoc_get(const bgj_var *, const char *key);
/* Number of elements of an array (0 for scalars). */
size_t bgj_var_count(const bgj_var *);
/* The I-th element in storage order: indexed arrays by ascending index
   (*INDEX set), associative arrays in insertion order (*KEY set). */
const char *bgj_var_elem(const bgj_var *, size_t i, intmax_t *index, const char **key);

/* Mutation during evaluation.  Each marks the variable as assigned.
   Creating returns the new variable or NULL on out-of-memory. */
bgj_var *bgj_vars_create(bgj_vars *, const char *name, size_t len, unsigned attrs);
int bgj_var_set_value(bgj_vars *, bgj_var *, const char *value);
int bgj_var_index_set(bgj_vars *, bgj_var *, intmax_t index, const char *value);
int bgj_var_assoc_set(bgj_vars *, bgj_var *, const char *key, const char *value);
/* Turn a scalar into an indexed array whose element 0 is the old value. */
int bgj_var_to_indexed(bgj_vars *, bgj_var *);
void bgj_var_set_attrs(bgj_vars *, bgj_var *, unsigned attrs);
/* Append a message line (without newline). */
int bgj_vars_add_message(bgj_vars *, const char *line);

#endif
