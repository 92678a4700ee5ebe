/*
 * bgjob_builtin.h - declarations shared by the files of the bash layer.
 *
 * Everything in builtin/ runs on the shell's main thread only and may call
 * bash.  Rule for every file: copy what is needed out of the manager first,
 * then call bash (bash may longjmp out of a binding or on an interrupt), and
 * never hold a manager lock while calling bash.
 */
#ifndef BGJOB_BUILTIN_H
#define BGJOB_BUILTIN_H

#include "config.h"

#include <stdint.h>

#include "builtins.h"
#include "shell.h"
#include "common.h"

#include "../lib/cmdline.h"
#include "../lib/jobs.h"

/* Words of the builtin's WORD_LIST, kept so option words' flags can be consulted. */
struct bgj_args {
    int argc;
    char **argv;
    WORD_LIST **wordv;
};

/* shellvar.c: -v targets */
int bgj_var_check(const char *name, int wordflags);         /* 0, or prints and returns EX_USAGE / EXECUTION_FAILURE */
int bgj_var_set(const char *name, int wordflags, const char *value);
SHELL_VAR *bgj_assoc_begin(const char *name);                /* NULL after printing an error */
void bgj_assoc_put(SHELL_VAR *v, const char *key, const char *value);
char *bgj_quote(const char *s);                              /* printf %q form, malloc'd */
int bgj_word_flags(const struct bgj_args *a, int index);

/* report.c */
const char *bgj_state_name(int state);
int bgj_cmd_status(struct bgj_cmdline *c, const struct bgj_args *a);
int bgj_cmd_show(struct bgj_cmdline *c, const struct bgj_args *a);
int bgj_cmd_result(struct bgj_cmdline *c, const struct bgj_args *a);
int bgj_cmd_traceback(struct bgj_cmdline *c);
int bgj_cmd_remove(struct bgj_cmdline *c);
int bgj_cmd_flush(struct bgj_cmdline *c);
int bgj_cmd_kill(struct bgj_cmdline *c);
int bgj_cmd_funcs(void);
bgjob_job *bgj_lookup(int64_t id);                           /* prints "job N not found" when unknown */

/* wait.c */
int bgj_cmd_wait(struct bgj_cmdline *c);

/* newjob.c */
int bgj_cmd_new(struct bgj_cmdline *c, const struct bgj_args *a);
/* newrun.c: CMD of `new -f run` as bash finds it (*PATH malloc'd); 0, or 126/127 after printing why. */
int bgj_run_find(const char *cmd, char **path);

/* bgjob.c */
void bgj_usage(enum bgj_cmd cmd);

#endif
