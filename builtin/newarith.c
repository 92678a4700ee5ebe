/*
 * newarith.c - `bgjob new EXPRESSION...': the arithmetic job, created as
 * `let EXPRESSION...' would start evaluating.
 *
 * Owns: the snapshot of the variables the words can reach, and the syntax
 * errors `new' reports itself.  `let' evaluates its words in order and parses
 * the whole of a word even where it does not evaluate it, so a syntax error
 * in word K is what `let' prints when words 1..K-1 succeed and word K fails
 * no earlier, at run time, than at that error.  `new' parses every word
 * (cheap, nothing is read); only when a word K has a syntax error does it
 * evaluate words 1..K on a copy of the snapshot, here, to see whether `let'
 * would get as far: then it prints the messages `let' would print and the
 * error, and creates no job (no number is used).  Otherwise the job is
 * created and an error that needs evaluation makes it Dead, with `let''s
 * message as its traceback.
 *
 * Main thread only; the evaluator it calls is bash-free.
 */
#include "bgjob_builtin.h"

#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "newarith.h"
#include "snapshot.h"
#include "vars.h"

/* The index of the first word `let' parses to a syntax error, or -1 when
   it would stop at some other error first or never stops. */
static int first_syntax_error(struct bgj_cmdline *c)
{
    for (int i = 0; i < c->nwords; i++) {
        int r = bgj_arith_parse(c->words[i], NULL);
        if (r == BGJ_ESYNTAX)
            return i;
        if (r != 0)
            return -1;
    }
    return -1;
}

/* Print the lines `let' prints while it carries on, as it prints them. */
static void print_messages(const char *m)
{
    while (*m) {
        const char *nl = strchr(m, '\n');
        int len = nl ? (int)(nl - m) : (int)strlen(m);
        if (strncmp(m, "let: ", 5) == 0)
            builtin_error("%.*s", len - 5, m + 5);
        else
            internal_error("%.*s", len, m);
        m += len + (nl != NULL);
    }
}

/* Evaluates words 0..K on a copy of VARS: 1 after printing what `let'
   prints when it stops at the syntax error of word K, 0 when it would stop
   earlier, -1 when memory runs out. */
static int reaches_syntax_error(struct bgj_cmdline *c, int k, const bgj_vars *vars)
{
    bgj_vars *copy = bgj_vars_dup(vars);
    if (!copy)
        return -1;
    struct bgj_err err = {0};
    intmax_t value;
    int r = bgj_arith_run_words(k + 1, c->words, copy, &value, &err);
    if (r == BGJ_ESYNTAX) {
        print_messages(bgj_vars_messages(copy));
        builtin_error("%s", bgj_err_text(&err));
    }
    bgj_err_clear(&err);
    bgj_vars_free(copy);
    return r == BGJ_ESYNTAX ? 1 : r == BGJ_ENOMEM ? -1 : 0;
}

int bgj_new_arith(struct bgj_cmdline *c, bgjob_job **out)
{
    *out = NULL;
    bgj_vars_reap(); /* the snapshots of the jobs that ended since: freed here, where they were made */
    bgj_vars *vars = bgj_snapshot(c->nwords, c->words);
    if (!vars)
        goto nomem;
    int k = first_syntax_error(c);
    if (k >= 0) {
        int r = reaches_syntax_error(c, k, vars);
        if (r != 0) {
            bgj_vars_free(vars);
            if (r < 0)
                goto nomem;
            return EXECUTION_FAILURE;
        }
    }
    *out = bgj_arith_job_words(c->nwords, c->words, vars);
    if (*out)
        return EXECUTION_SUCCESS;
nomem:
    builtin_error("out of memory");
    return EXECUTION_FAILURE;
}
