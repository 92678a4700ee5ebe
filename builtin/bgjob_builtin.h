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

#include "cmdline.h"
#include "jobs.h"

/* Words of the builtin's WORD_LIST, kept so option words' flags can be consulted. */
struct bgj_args {
    int argc;
    char **argv;
    WORD_LIST **wordv;
};

/* shellvar.c: -v targets */
int bgj_var_check(const char *name,
                  int wordflags); /* 0, or prints and returns EX_USAGE / EXECUTION_FAILURE */
int bgj_var_set(const char *name, int wordflags, const char *value);
void bgj_var_unset(const char *name, int wordflags); /* quietly; nothing when invalid or readonly */
SHELL_VAR *bgj_assoc_begin(const char *name);        /* NULL after printing an error */
void bgj_assoc_put(SHELL_VAR *v, const char *key, const char *value);
char *bgj_quote(const char *s); /* printf %q form, malloc'd */
int bgj_word_flags(const struct bgj_args *a, int index);

/* bgjob.c: dispatch, usage and the one wording of job errors */
#define BGJOB_VERSION "0.3.0"
/* Where `make install' puts plugins; the Makefile sets it from PREFIX (the fallback of bgj_plugin_dir). */
#ifndef BGJOB_PLUGIN_DIR
#define BGJOB_PLUGIN_DIR "/usr/local/lib/bgjob/plugins"
#endif
void bgj_usage(enum bgj_cmd cmd);
int bgj_job_error(int64_t id, int code);                /* prints "job N <bgj_strerror(code)>"; returns 1 */
int bgj_unfinished_code(const bgjob_job *j, int state); /* BGJ_EPARENT, EQUEUED, EBLOCKED or ERUNNING */
const char *bgj_state_name(int state);                  /* "Queued", "Running", "Completed", "Dead"... */
bgjob_job *bgj_lookup(int64_t id);                      /* prints "job N not found" when unknown */

/* report.c: status, show, result, traceback */
int bgj_cmd_status(struct bgj_cmdline *c, const struct bgj_args *a);
int bgj_cmd_show(struct bgj_cmdline *c, const struct bgj_args *a);
int bgj_cmd_result(struct bgj_cmdline *c, const struct bgj_args *a);
int bgj_cmd_traceback(struct bgj_cmdline *c);
size_t bgj_print_unseen(void); /* status -n's listing; how many, or (size_t)-1 on OOM */
/* The width of a command line in status, notices and traceback headers. */
#define BGJ_CMD_COLUMNS 72
/* COMMAND as a person reads it: %q-quoted if it holds a control character,
   past BGJ_CMD_COLUMNS its first ones and "..." (malloc'd; NULL on OOM). */
char *bgj_command_line(const char *command);

/* group.c: `group' */
int bgj_cmd_group(struct bgj_cmdline *c);
/* The group NAME for -g of status, wait and kill: NULL after "no such group". */
struct bgj_group *bgj_group_lookup(const char *name);

/* manage.c: remove, flush, kill */
int bgj_cmd_remove(struct bgj_cmdline *c);
int bgj_cmd_flush(struct bgj_cmdline *c);
int bgj_cmd_kill(struct bgj_cmdline *c);

/* plugins.c: funcs, load */
int bgj_cmd_funcs(void);
int bgj_cmd_load(struct bgj_cmdline *c);
/* Where `load NAME' looks: BASH_LOADABLES_PATH, then the plugin directory (malloc'd). */
char *bgj_plugin_search(void);
/* The plugin directory: P/lib/bgjob/plugins beside an installed P/lib/bash/bgjob, else BGJOB_PLUGIN_DIR. */
const char *bgj_plugin_dir(void);

/* wait.c */
int bgj_cmd_wait(struct bgj_cmdline *c, const struct bgj_args *a);
/*
 * Waits for the N jobs T (malloc'd; freed here on every path, also before an
 * interrupt longjmps): for all of them, or with ANY for the first to finish;
 * at most TIMEOUT seconds when TIMEOUT >= 0.  Returns the status of the job
 * that decided (ANY: the first to finish; else the last of T, or 1 when
 * UNKNOWN is 1: the last number the user listed is no job): 0 when it
 * completed, its command's exit status or 128+N after signal N, else 1; with
 * UNKNOWN == BGJ_WAIT_ALL, 0 when all of T completed, else 1.  124 on
 * timeout, 128+N on a trapped signal N; an interrupt goes through bash's
 * QUIT.  *WHICH (may be NULL) gets the number of the job that decided the
 * status (-1 for none).
 */
#define BGJ_WAIT_ALL 2
int bgj_wait_jobs(bgjob_job **t, size_t n, int any, int unknown, double timeout, int64_t *which);
/* The same; FLAGS: run completion handlers as the jobs end, draw the progress line (progress.c). */
#define BGJ_WAIT_HANDLERS 1
#define BGJ_WAIT_PROGRESS 2
int bgj_wait_jobs_ex(bgjob_job **t, size_t n, int any, int unknown, double timeout, int64_t *which,
                     int flags);

/* newjob.c */
int bgj_cmd_new(struct bgj_cmdline *c, const struct bgj_args *a);
/* newrun.c: CMD of `new -f run` as bash finds it (*PATH malloc'd); 0, or 126/127 after printing why. */
int bgj_run_find(const char *cmd, char **path);
/* 0 when execve takes PATH with ARGV and ENVP, else 126 after saying "PATH: Argument list too long". */
int bgj_run_fits(const char *path, int argc, char **argv, char *const *envp);

/* notify.c: completion notices and handlers */
int bgj_cmd_notify(struct bgj_cmdline *c);
void bgj_notify_load(void);                            /* readline hooks (interactive shells) */
void bgj_notify_unload(void);                          /* puts the previous hooks back */
int bgj_handler_set(bgjob_job *job, const char *func); /* before bgj_submit: 0 or BGJ_ENOMEM */
void bgj_handler_submitted(bgjob_job *job);            /* after a successful bgj_submit */
int bgj_handlers_due(void);                            /* some handler would run now */
void bgj_run_handlers(void);                           /* a safe point: runs the due handlers */
void bgj_prompt_command(void); /* `bgjob __prompt', from PROMPT_COMMAND: notices, then handlers */

/* records.c: status --json, show --json, log, and what `new' attaches to a job for them */
int bgj_status_json(struct bgj_cmdline *c);
int bgj_show_json(struct bgj_cmdline *c);
int bgj_cmd_log(struct bgj_cmdline *c);
/* Before bgj_submit: JOB's argv, directory and key; resumed when a `log -r' record matches.  0 or BGJ_ENOMEM. */
int bgj_records_new(bgjob_job *job, const struct bgj_cmdline *c);

/* completion.c: tab completion */
void bgj_completion_load(void);   /* defines and registers it (interactive shells) */
void bgj_completion_unload(void); /* unregisters it, if the load hook registered it */

/* shellwatch.c: what only umask, cd, pushd and popd change, known without looking (it wraps them). */
mode_t bgj_shell_umask(void); /* the umask, read from /proc only after `umask` ran */
int bgj_shell_dir_same(void); /* no cd, pushd or popd ran since bgj_shell_dir_seen */
void bgj_shell_dir_seen(void);
void bgj_shell_unwatch(void);                /* puts the builtins' own functions back */
int bgj_cmd_complete(int argc, char **argv); /* `bgjob __complete ...': the completion's queries */

/* progress.c: wait's progress line */
struct bgj_progress {
    int on;    /* may draw: interactive shell, stderr a terminal, not -q */
    int drawn; /* a line is on the screen */
    double start, last;
};
void bgj_progress_begin(struct bgj_progress *p, int quiet);
int bgj_progress_wanted(int quiet); /* a wait (-q: QUIET) would draw the line */
/* Draws or refreshes the line for the N targets with states ST (-1: unfinished); next draw time returned. */
double bgj_progress_update(struct bgj_progress *p, bgjob_job **t, const int *st, size_t n);
void bgj_progress_erase(struct bgj_progress *p);

#endif
