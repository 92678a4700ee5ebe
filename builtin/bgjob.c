/*
 * bgjob.c - the `bgjob` builtin: its help, its load and unload hooks, and
 * the dispatch of subcommands.
 *
 * Main thread only.  The module is linked with -z nodelete: `enable -d`
 * removes the command but never unmaps the code that running jobs execute,
 * and a later `enable -f` finds the same manager and jobs again.  The exit
 * handler waits for unfinished non-daemon jobs, in the process that owns
 * them only.
 */
#include "bgjob_builtin.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quit.h"
#include "../lib/registry.h"

#define EXPORT __attribute__((visibility("default")))

static const char *const usages[] = {
    [BGJ_CMD_NEW] = "bgjob new [-d] [-v VAR] [--] EXPRESSION...\n       bgjob new [-d] [-v VAR] -f NAME [ARG...]",
    [BGJ_CMD_STATUS] = "bgjob [status [-n] [-v ARRAY]]",
    [BGJ_CMD_SHOW] = "bgjob show [-v ARRAY] ID",
    [BGJ_CMD_RESULT] = "bgjob result [-v VAR] ID",
    [BGJ_CMD_TRACEBACK] = "bgjob traceback [ID]",
    [BGJ_CMD_REMOVE] = "bgjob remove ID...",
    [BGJ_CMD_FLUSH] = "bgjob flush [-f]",
    [BGJ_CMD_WAIT] = "bgjob wait [-n] [-t SECONDS] [ID...]",
    [BGJ_CMD_KILL] = "bgjob kill ID...",
    [BGJ_CMD_FUNCS] = "bgjob funcs",
    [BGJ_CMD_LOAD] = "bgjob load PATH",
    [BGJ_CMD_HELP] = "bgjob --help",
};

void bgj_usage(enum bgj_cmd cmd)
{
    fprintf(stderr, "bgjob: usage: %s\n", usages[cmd]);
}

static void registry_error(const char *msg)
{
    builtin_error("%s", msg);
}

/* Waits up to MS milliseconds (forever when negative) for the non-daemon jobs; 1 when interrupted. */
static int wait_nondaemon(int ms)
{
    for (int waited = 0; ms < 0 || waited < ms; waited += 20) {
        int fd = bgj_wait_arm();
        if (bgj_nondaemon_active() == 0) {
            bgj_wait_disarm();
            return 0;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, fd >= 0 ? 1 : 0, 20);
        int saved = errno;
        bgj_wait_disarm();
        if (r < 0 && saved == EINTR && (interrupt_state || terminating_signal))
            return 1;
    }
    return 0;
}

/*
 * At exit, the process that owns the workers cancels its daemon jobs (what
 * they run must not outlive the shell) and waits for its unfinished
 * non-daemon jobs, as Python waits for non-daemon threads.  The wait polls,
 * so an interrupt (Ctrl-C in an interactive shell) abandons the jobs instead
 * of hanging the exit.  Forked children own no workers and return at once.
 */
static void exit_handler(void)
{
    if (!bgj_is_owner())
        return;
    /* Daemon jobs are not waited for, but what they run must not outlive the shell. */
    bgj_cancel_daemons();
    if (bgj_nondaemon_active() == 0)
        return;
    /* Jobs just killed, or about to finish, end within moments: no need to say anything. */
    if (wait_nondaemon(100) == 0 && bgj_nondaemon_active() == 0)
        return;
    unsigned running, queued;
    bgj_nondaemon_counts(&running, &queued);
    if (running + queued == 0)
        return;
    if (queued)
        fprintf(stderr, "bgjob: waiting for %u running and %u queued job%s to finish before the shell exits (daemon jobs, `bgjob new -d', are not waited for)\n",
                running, queued, queued == 1 ? "" : "s");
    else
        fprintf(stderr, "bgjob: waiting for %u running job%s to finish before the shell exits (daemon jobs, `bgjob new -d', are not waited for)\n",
                running, running == 1 ? "" : "s");
    fflush(stderr);
    if (wait_nondaemon(-1)) {
        unsigned n = bgj_nondaemon_active();
        fprintf(stderr, "bgjob: interrupted; abandoning %u running job%s\n", n, n == 1 ? "" : "s");
    }
}

int bgjob_builtin(WORD_LIST *list);

EXPORT int bgjob_builtin_load(char *name)
{
    static int loaded;
    (void)name;
    /* A bash built with its own malloc has no locking in it: threads would corrupt it. */
    if (dlsym(RTLD_DEFAULT, "sh_malloc")) {
        builtin_error("this bash uses its own non-thread-safe malloc; bgjob can not run here");
        return 0;
    }
    if (loaded)
        return 1;
    if (bgj_init() != 0) {
        builtin_error("can not initialise the job manager");
        return 0;
    }
    bgj_registry_error = registry_error;
    bgj_registry_init();
    atexit(exit_handler);
    loaded = 1;
    return 1;
}

EXPORT void bgjob_builtin_unload(char *name)
{
    /* Nothing to undo: the module stays mapped (nodelete) and the jobs keep running. */
    (void)name;
}

/*
 * Checks the -v name before anything happens: a scalar target must be what
 * `printf -v` accepts and not readonly; an array target must be a plain
 * identifier.  Returns 0, EX_USAGE or EXECUTION_FAILURE after printing.
 */
static int check_vname(struct bgj_cmdline *c, const struct bgj_args *a)
{
    if (c->cmd == BGJ_CMD_STATUS || c->cmd == BGJ_CMD_SHOW) {
        if (!legal_identifier(c->vname)) {
            sh_invalidid((char *)c->vname);
            return EX_USAGE;
        }
        return 0;
    }
    return bgj_var_check(c->vname, bgj_word_flags(a, c->vname_word));
}

int bgjob_builtin(WORD_LIST *list)
{
    struct bgj_args a = {0};
    for (WORD_LIST *l = list; l; l = l->next)
        a.argc++;
    a.argv = malloc(((size_t)a.argc + 1) * sizeof *a.argv);
    a.wordv = malloc(((size_t)a.argc + 1) * sizeof *a.wordv);
    if (!a.argv || !a.wordv) {
        free(a.argv);
        free(a.wordv);
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    int i = 0;
    for (WORD_LIST *l = list; l; l = l->next, i++) {
        a.argv[i] = l->word->word;
        a.wordv[i] = l;
    }
    a.argv[a.argc] = NULL;

    struct bgj_cmdline c;
    int p = bgj_cmdline_parse(a.argc, a.argv, &c);
    int rc;
    if (p == 1) {
        builtin_help();
        rc = EXECUTION_SUCCESS;
    } else if (p < 0) {
        if (c.sub) {
            builtin_error("%s: %s", c.sub, c.err);
            bgj_usage(c.cmd);
        } else {
            builtin_error("%s", c.err);
            builtin_usage();
        }
        rc = EX_USAGE;
    } else if (c.vname && (rc = check_vname(&c, &a)) != 0) {
        if (rc == EX_USAGE)
            bgj_usage(c.cmd);
    } else {
        switch (c.cmd) {
        case BGJ_CMD_NEW: rc = bgj_cmd_new(&c, &a); break;
        case BGJ_CMD_STATUS: rc = bgj_cmd_status(&c, &a); break;
        case BGJ_CMD_SHOW: rc = bgj_cmd_show(&c, &a); break;
        case BGJ_CMD_RESULT: rc = bgj_cmd_result(&c, &a); break;
        case BGJ_CMD_TRACEBACK: rc = bgj_cmd_traceback(&c); break;
        case BGJ_CMD_REMOVE: rc = bgj_cmd_remove(&c); break;
        case BGJ_CMD_FLUSH: rc = bgj_cmd_flush(&c); break;
        case BGJ_CMD_WAIT: rc = bgj_cmd_wait(&c); break;
        case BGJ_CMD_KILL: rc = bgj_cmd_kill(&c); break;
        case BGJ_CMD_FUNCS: rc = bgj_cmd_funcs(); break;
        case BGJ_CMD_LOAD: {
            char err[512];
            rc = EXECUTION_SUCCESS;
            if (bgj_plugin_load(c.words[0], err, sizeof err) != 0) {
                builtin_error("%s", err);
                rc = EXECUTION_FAILURE;
            }
            break;
        }
        default: builtin_help(); rc = EXECUTION_SUCCESS; break;
        }
    }
    bgj_cmdline_free(&c);
    free(a.argv);
    free(a.wordv);
    return rc;
}

static char *bgjob_doc[] = {
    "Run arithmetic and C callbacks as background jobs on threads of this shell.",
    "",
    "Jobs run on worker threads inside the shell: no fork, no temporary file.",
    "They are numbered 0, 1, 2, ... in the order they are created; numbers are",
    "never reused.  A job is Queued (waiting for a free worker), Running,",
    "Completed or Dead (it failed, or was killed).",
    "",
    "Subcommands:",
    "  new [-d] [-v VAR] [--] EXPRESSION...",
    "        Evaluate EXPRESSION (the words joined by spaces) as `let' would,",
    "        on a copy of the variables it reads taken now.  Assignments in it",
    "        change only that copy (see `show', key assignments).",
    "  new [-d] [-v VAR] -f NAME [ARG...]",
    "        Run the registered C callback NAME with ARGs (see `funcs').  Every",
    "        word after NAME is an argument, even one that starts with `-'.",
    "        -v VAR  store the job number in VAR (also left in BGJOB_LAST).",
    "        -d      daemon job: the shell does not wait for it when it exits.",
    "  status [-n] [-v ARRAY]",
    "        List jobs by state (the default subcommand).  -n lists only jobs",
    "        that finished since the last report; -v fills the associative",
    "        ARRAY with job number -> state instead of printing.",
    "  show [-v ARRAY] ID",
    "        Every field of job ID, as an array literal for",
    "        `eval \"declare -A job=$(bgjob show ID)\"', or into ARRAY.",
    "  result [-v VAR] ID",
    "        Print (or store in VAR) the result of completed job ID.",
    "  traceback [ID]",
    "        The error report of dead job ID, or of every dead job.",
    "  remove ID...",
    "        Delete finished jobs.",
    "  flush [-f]",
    "        Delete every finished job.  If jobs finished since the last report",
    "        (status, show, result, traceback), list them instead, delete",
    "        nothing and return 1; -f flushes anyway.",
    "  wait [-n] [-t SECONDS] [ID...]",
    "        Wait for the jobs ID, or for every unfinished job; with -n for the",
    "        first of them.  Returns 0 if they completed, 1 if one is dead or",
    "        unknown, 124 after the timeout, 128+N if signal N interrupts it,",
    "        127 for -n with nothing to wait for.",
    "  kill ID...",
    "        Cancel jobs: a queued job ends at once, a running callback is asked",
    "        to stop.  A killed job ends Dead.",
    "  funcs",
    "        List the registered callbacks and their usage.",
    "  load PATH",
    "        Load a plugin that registers more callbacks (see bgjob.h).",
    "",
    "Limits: at most BGJOB_MAX_RUNNING jobs run at once (default 64), the rest",
    "are queued, up to BGJOB_MAX_QUEUED (default 100000); both are read by",
    "each `new'.",
    "",
    "Subshells: a subshell sees the jobs of its parent as they were when it",
    "was forked; jobs still running there can not be waited for, killed or",
    "read in the subshell.  Jobs created in `$(...)' belong to that subshell.",
    "",
    "Exit and unloading: when the shell exits it waits for unfinished jobs",
    "that are not daemon jobs.  `enable -d bgjob' removes the command but keeps",
    "the module loaded: jobs go on running, and `enable -f ... bgjob' finds",
    "them again.",
    "",
    "Exit status: 0 on success, 1 on failure, 2 on a usage error.",
    NULL,
};

EXPORT struct builtin bgjob_struct = {
    "bgjob",
    bgjob_builtin,
    BUILTIN_ENABLED | ARRAYREF_BUILTIN,
    bgjob_doc,
    "bgjob [new|status|show|result|traceback|remove|flush|wait|kill|funcs|load] [ARG...]",
    0,
};
