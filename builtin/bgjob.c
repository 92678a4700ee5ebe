/*
 * bgjob.c - the `bgjob` builtin: its usage lines (the one source of the
 * usage errors, `bgjob --usage` and the synopsis lines of the help), its
 * help, its load and unload hooks, the dispatch of subcommands, the state
 * names and the one wording of job errors ("job N <bgj_strerror(code)>").
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
#include "registry.h"

#define EXPORT __attribute__((visibility("default")))

/*
 * The synopsis of each subcommand: the one source of the usage lines printed
 * after a usage error, of `bgjob --usage` (README's command list is its
 * output, checked by a test) and of the subcommand lines of `help bgjob`.
 */
#define SYN_NEW_OPTS                                                                                         \
    "new [-d] [-v VAR] [-t SECONDS] [-c FUNC] [-a IDS] [-A IDS] [-r N] [-R SECONDS] [-g NAME] [-k KEY]"
#define SYN_NEW_EXPR  SYN_NEW_OPTS " [--] EXPRESSION..."
#define SYN_NEW_CB    SYN_NEW_OPTS " -f NAME [ARG...]"
#define SYN_STATUS    "[status [-n] [-g NAME] [-v ARRAY | --json [--output]]]"
#define SYN_SHOW      "show [-v ARRAY | --json [--output]] ID"
#define SYN_RESULT    "result [-w] [-v VAR] ID"
#define SYN_TRACEBACK "traceback [ID]"
#define SYN_REMOVE    "remove ID..."
#define SYN_FLUSH     "flush [-f]"
#define SYN_WAIT      "wait [-nq] [-p VAR] [-t SECONDS] [-g NAME | ID...]"
#define SYN_KILL      "kill -g NAME | ID..."
#define SYN_GROUP     "group [NAME [-j N] [-h POLICY]]"
#define SYN_FUNCS     "funcs"
#define SYN_LOAD      "load NAME|PATH"
#define SYN_NOTIFY    "notify [prompt|now|off]"
#define SYN_LOG       "log [-j|-r] [FILE|-]"
#define SYN_HELP      "help [--usage|--version]"

static const struct usage {
    enum bgj_cmd cmd;
    const char *synopsis;
    const char *summary;
} usages[] = {
    {BGJ_CMD_NEW, SYN_NEW_EXPR, "arithmetic job (each word an expression, as for let)"},
    {BGJ_CMD_NEW, SYN_NEW_CB, "run registered C callback NAME with ARGs"},
    {BGJ_CMD_STATUS, SYN_STATUS, "list jobs; -n: only the newly finished"},
    {BGJ_CMD_SHOW, SYN_SHOW, "every field of one job"},
    {BGJ_CMD_RESULT, SYN_RESULT, "result of a job (-w: wait for it first)"},
    {BGJ_CMD_TRACEBACK, SYN_TRACEBACK, "error report of dead jobs"},
    {BGJ_CMD_REMOVE, SYN_REMOVE, "delete finished jobs"},
    {BGJ_CMD_FLUSH, SYN_FLUSH, "delete all finished jobs"},
    {BGJ_CMD_WAIT, SYN_WAIT, "wait for the jobs (-n: for one; -q: no progress line)"},
    {BGJ_CMD_KILL, SYN_KILL, "cancel jobs"},
    {BGJ_CMD_FUNCS, SYN_FUNCS, "list callbacks and their usage"},
    {BGJ_CMD_LOAD, SYN_LOAD, "load a plugin of callbacks"},
    {BGJ_CMD_NOTIFY, SYN_NOTIFY, "completion notices at the prompt"},
    {BGJ_CMD_GROUP, SYN_GROUP, "list groups, or set a group's limit and halt policy"},
    {BGJ_CMD_LOG, SYN_LOG, "log finished jobs to FILE (-j: JSON; -r: resume from it)"},
    {BGJ_CMD_HELP, SYN_HELP, "help (--help, -h), usage, version"},
};
#define NUSAGES (sizeof usages / sizeof *usages)

void bgj_usage(enum bgj_cmd cmd)
{
    const char *lead = "bgjob: usage:";
    for (size_t i = 0; i < NUSAGES; i++)
        if (usages[i].cmd == cmd) {
            fprintf(stderr, "%s bgjob %s\n", lead, usages[i].synopsis);
            lead = "             ";
        }
}

/* `bgjob --usage': every usage line with its summary (README's command list). */
static int print_usages(void)
{
    int width = 0;
    for (size_t i = 0; i < NUSAGES; i++)
        if ((int)strlen(usages[i].synopsis) > width)
            width = (int)strlen(usages[i].synopsis);
    for (size_t i = 0; i < NUSAGES; i++)
        printf("bgjob %-*s  %s\n", width, usages[i].synopsis, usages[i].summary);
    return sh_chkwrite(EXECUTION_SUCCESS);
}

static int print_version(void)
{
    printf("bgjob %s\nplugin API version %u\nplugin directory %s\n", BGJOB_VERSION,
           (unsigned)BGJOB_API_VERSION, bgj_plugin_dir());
    return sh_chkwrite(EXECUTION_SUCCESS);
}

static const char *const state_names[] = {"Queued", "Running", "Completed", "Dead", "Blocked"};

const char *bgj_state_name(int state)
{
    return (state >= BGJ_QUEUED && state <= BGJ_BLOCKED) ? state_names[state] : "?";
}

int bgj_job_error(int64_t id, int code)
{
    if (code == BGJ_EDEAD)
        builtin_error("job %lld %s (see `bgjob traceback %lld')", (long long)id, bgj_strerror(code),
                      (long long)id);
    else
        builtin_error("job %lld %s", (long long)id, bgj_strerror(code));
    return EXECUTION_FAILURE;
}

int bgj_unfinished_code(const bgjob_job *j, int state)
{
    if (bgj_orphaned(j))
        return BGJ_EPARENT;
    return state == BGJ_QUEUED ? BGJ_EQUEUED : state == BGJ_BLOCKED ? BGJ_EBLOCKED : BGJ_ERUNNING;
}

bgjob_job *bgj_lookup(int64_t id)
{
    bgjob_job *j = bgj_find(id);
    if (!j)
        bgj_job_error(id, BGJ_ENOJOB);
    return j;
}

static void registry_error(const char *msg) { builtin_error("%s", msg); }

/*
 * Waits up to MS milliseconds (forever when negative) for the non-daemon
 * jobs; 1 when interrupted (SIGINT, SIGTERM, SIGHUP).  Event-driven: the
 * completion descriptor wakes it, and those signals are unblocked only inside
 * ppoll, so one that comes just before the wait is never missed.
 */
static int wait_nondaemon(int ms)
{
    double end = ms >= 0 ? bgj_mono() + ms / 1000.0 : 0;
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    int rc = 0;
    sigprocmask(SIG_BLOCK, &stop, &old);
    for (;;) {
        int fd = bgj_wait_arm();
        if (bgj_nondaemon_active() == 0) {
            bgj_wait_disarm();
            break;
        }
        if (interrupt_state || terminating_signal) {
            bgj_wait_disarm();
            rc = 1;
            break;
        }
        struct timespec ts, *tp = NULL;
        if (ms >= 0) {
            double left = end - bgj_mono();
            if (left <= 0) {
                bgj_wait_disarm();
                break;
            }
            ts = bgj_timespec(left);
            tp = &ts;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ppoll(&p, fd >= 0 ? 1 : 0, tp, &old);
        bgj_wait_disarm();
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/*
 * At exit, the process that owns the workers cancels its daemon jobs (what
 * they run must not outlive the shell) and waits for its unfinished
 * non-daemon jobs, as Python waits for non-daemon threads.  Ctrl-C (SIGINT),
 * SIGTERM or SIGHUP during that wait cancels them (as at exit) and lets the
 * shell exit: whatever a job does, the exit never hangs.  Forked children own
 * no workers and return at once.
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
        fprintf(stderr,
                "bgjob: waiting for %u running and %u queued job%s to finish before the shell exits (daemon "
                "jobs, `bgjob new -d', are not waited for)\n",
                running, queued, queued == 1 ? "" : "s");
    else
        fprintf(stderr,
                "bgjob: waiting for %u running job%s to finish before the shell exits (daemon jobs, `bgjob "
                "new -d', are not waited for)\n",
                running, running == 1 ? "" : "s");
    fflush(stderr);
    if (wait_nondaemon(-1)) {
        unsigned n = bgj_nondaemon_active();
        bgj_cancel_all(BGJ_CANCEL_EXIT);
        fprintf(stderr, "bgjob: interrupted; cancelled %u unfinished job%s\n", n, n == 1 ? "" : "s");
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
    if (!loaded) {
        if (bgj_init() != 0) {
            builtin_error("can not initialise the job manager");
            return 0;
        }
        bgj_registry_error = registry_error;
        bgj_registry_init();
        atexit(exit_handler);
        loaded = 1;
    }
    /* Interactive shells: notices and handlers at the prompt, tab completion. */
    bgj_notify_load();
    bgj_completion_load();
    return 1;
}

EXPORT void bgjob_builtin_unload(char *name)
{
    /* The module stays mapped (nodelete) and the jobs keep running; the readline hooks and the completion go. */
    (void)name;
    bgj_notify_unload();
    bgj_completion_unload();
    bgj_shell_unwatch();
}

/*
 * Checks the -v name before anything happens: a scalar target must be what
 * `printf -v` accepts and not readonly; an array target must be a plain
 * identifier.  Returns 0, EX_USAGE or EXECUTION_FAILURE after printing.
 */
/* True when the command is a status or show with --json, whose stdout must hold JSON lines only. */
static int wants_json(const struct bgj_args *a)
{
    for (int i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], "--json") == 0)
            return 1;
    return 0;
}

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

/* The word arrays of a command: on the stack for a short command, else malloc'd (freed by args_free). */
#define SMALL_ARGS 16
static void args_free(struct bgj_args *a, char **small)
{
    if (a->argv != small) {
        free(a->argv);
        free(a->wordv);
    }
}

int bgjob_builtin(WORD_LIST *list)
{
    struct bgj_args a = {0};
    char *small_argv[SMALL_ARGS];
    WORD_LIST *small_wordv[SMALL_ARGS];
    for (WORD_LIST *l = list; l; l = l->next)
        a.argc++;
    if (a.argc < SMALL_ARGS) {
        a.argv = small_argv;
        a.wordv = small_wordv;
    } else {
        a.argv = malloc(((size_t)a.argc + 1) * sizeof *a.argv);
        a.wordv = malloc(((size_t)a.argc + 1) * sizeof *a.wordv);
    }
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

    /* The completion function's queries: no handler runs, nothing is marked seen. */
    if (a.argc > 0 && strcmp(a.argv[0], "__complete") == 0) {
        int r = bgj_cmd_complete(a.argc - 1, a.argv + 1);
        args_free(&a, small_argv);
        return r;
    }
    /* The PROMPT_COMMAND element (notify.c): notices and handlers before the prompt. */
    if (a.argc == 1 && strcmp(a.argv[0], "__prompt") == 0) {
        bgj_prompt_command();
        args_free(&a, small_argv);
        return EXECUTION_SUCCESS;
    }
    /* A safe point: handlers of jobs that ended run first (not with --json: only JSON on stdout). */
    if (!wants_json(&a))
        bgj_run_handlers();

    struct bgj_cmdline c;
    struct bgj_err err = {0};
    int p = bgj_cmdline_parse(a.argc, a.argv, &c, &err);
    int rc, vname_bad = 0;
    if (p == BGJ_EUSAGE) {
        if (c.sub) {
            builtin_error("%s: %s", c.sub, bgj_err_text(&err));
            bgj_usage(c.cmd);
        } else {
            builtin_error("%s", bgj_err_text(&err));
            builtin_usage();
        }
        rc = EX_USAGE;
    } else if (p != 0) {
        builtin_error("%s", bgj_strerror(p));
        rc = EXECUTION_FAILURE;
    } else if (c.vname && (rc = check_vname(&c, &a)) != 0) {
        if (rc == EX_USAGE)
            bgj_usage(c.cmd);
        vname_bad = 1;
    } else {
        switch (c.cmd) {
        case BGJ_CMD_NEW: rc = bgj_cmd_new(&c, &a); break;
        case BGJ_CMD_STATUS: rc = bgj_cmd_status(&c, &a); break;
        case BGJ_CMD_SHOW: rc = bgj_cmd_show(&c, &a); break;
        case BGJ_CMD_RESULT: rc = bgj_cmd_result(&c, &a); break;
        case BGJ_CMD_TRACEBACK: rc = bgj_cmd_traceback(&c); break;
        case BGJ_CMD_REMOVE: rc = bgj_cmd_remove(&c); break;
        case BGJ_CMD_FLUSH: rc = bgj_cmd_flush(&c); break;
        case BGJ_CMD_WAIT: rc = bgj_cmd_wait(&c, &a); break;
        case BGJ_CMD_KILL: rc = bgj_cmd_kill(&c); break;
        case BGJ_CMD_FUNCS: rc = bgj_cmd_funcs(); break;
        case BGJ_CMD_LOAD: rc = bgj_cmd_load(&c); break;
        case BGJ_CMD_NOTIFY: rc = bgj_cmd_notify(&c); break;
        case BGJ_CMD_GROUP: rc = bgj_cmd_group(&c); break;
        case BGJ_CMD_LOG: rc = bgj_cmd_log(&c); break;
        default:
            if (c.help == BGJ_HELP_USAGE)
                rc = print_usages();
            else if (c.help == BGJ_HELP_VERSION)
                rc = print_version();
            else {
                builtin_help();
                rc = EXECUTION_SUCCESS;
            }
            break;
        }
    }
    /* A `new -v VAR' that fails leaves VAR unset: no stale number in it. */
    if (c.cmd == BGJ_CMD_NEW && rc != EXECUTION_SUCCESS && c.vname && !vname_bad)
        bgj_var_unset(c.vname, bgj_word_flags(&a, c.vname_word));
    bgj_err_clear(&err);
    bgj_cmdline_free(&c);
    args_free(&a, small_argv);
    return rc;
}

static char *bgjob_doc[] = {
    "Run arithmetic and C callbacks as background jobs on threads of this shell.",
    "",
    "Jobs run on worker threads inside the shell: no fork, no temporary file.",
    "They are numbered 0, 1, 2, ... in the order they are created; numbers are",
    "never reused.  A job is Blocked (waiting for the jobs it depends on),",
    "Queued (waiting for a free worker), Running, Completed or Dead (it",
    "failed, or was killed).",
    "",
    "Subcommands:",
    "  " SYN_NEW_EXPR,
    "        Evaluate each EXPRESSION in order, as `let EXPRESSION...' would,",
    "        on a copy of the variables they read taken now (dynamic variables",
    "        such as RANDOM or SECONDS are read now too); the result is the",
    "        last one's value.  A syntax error `let' would report is reported",
    "        at once and creates no job.  Assignments change only that copy;",
    "        `show' lists them (key assignments) as statements to `eval'.  A",
    "        word such as -1 or -x*2 that starts with no option letter begins",
    "        the expressions; `--' ends the options too.",
    "  " SYN_NEW_CB,
    "        Run the registered C callback NAME with ARGs (see `funcs').  Every",
    "        word after NAME is an argument, even one that starts with `-'.",
    "        -v VAR      store the job number in VAR (also left in BGJOB_LAST).",
    "        -d          daemon job: the shell does not wait for it at exit.",
    "        -t SECONDS  the job's time limit, counted from its start: then it",
    "                    is cancelled as by `kill' and ends Dead, timed out;",
    "                    -t 0 sets no time limit (as timeout(1) reads 0).",
    "        -c FUNC     completion handler: the shell function FUNC runs as",
    "                    `FUNC ID STATE' once the job has ended, at the first",
    "                    safe point (in `wait', before the prompt, or at the",
    "                    start of the next `bgjob' command), once.  It is a",
    "                    function call where it runs, like a trap: before the",
    "                    prompt at the top level (globals only), in a `bgjob'",
    "                    command with that command's redirections and the",
    "                    locals of the functions it runs in; $? is left alone.",
    "                    Never inside readline: before the prompt it runs from",
    "                    PROMPT_COMMAND (the first handler adds an element to",
    "                    it; `enable -d' removes it), on the terminal as any",
    "                    command gets it, so it may read from it.  A job that",
    "                    ends while a line is typed has its handler run after",
    "                    that line.",
    "                    FUNC must be a function already (else a usage error).",
    "        -a ID[,ID...]  start once every job listed has Completed; until",
    "                    then the job is Blocked (no running slot, no thread).",
    "                    If one ends Dead, this job ends Dead at once,",
    "                    `dependency N failed' (or `killed'), and so on down",
    "                    the chain.  IDs must be jobs of this shell.",
    "        -A ID[,ID...]  start once every job listed has ended, whatever",
    "                    the outcome.  -a and -A may be repeated and mixed;",
    "                    an ID may be a range FIRST-LAST (3-7: jobs 3 to 7).",
    "        -r N        retry up to N times when the job ends Dead by itself",
    "                    (non-zero exit, a signal bgjob did not send, -t, a",
    "                    callback or arithmetic failure); never after kill, a",
    "                    halt or exit.  -t applies to each attempt.  `show'",
    "                    gives attempt, retries_left and attempts (each failed",
    "                    attempt's last line, also in the traceback).  An",
    "                    arithmetic job keeps its copy of the variables.",
    "        -R SECONDS  wait before the first retry (1): then twice as long",
    "                    each time, up to 60, +-20% jitter; while it waits the",
    "                    job is Queued and holds no running slot.",
    "        -g NAME     put the job in group NAME (see `group').",
    "        -k KEY      the job's key for resuming (see log -r); without it",
    "                    the key is the kind, the command line and the",
    "                    directory.",
    "        A `new' that fails creates no job and unsets VAR of -v.",
    "        -f run CMD [ARG...]  runs the command CMD, found through PATH now",
    "        (status 127 or 126 and no job if it can't run: not found, not",
    "        executable, a missing #! interpreter, arguments too long),",
    "        with the shell's exported variables, directory (held from `new':",
    "        a later cd changes nothing; never another directory) and umask,",
    "        the resource limits (ulimit) of when it starts, and",
    "        stdin from /dev/null.  For every job, relative paths mean the",
    "        directory at `new'.",
    "        Its stdout, as $(CMD) gives it, is the result; a non-zero exit or",
    "        a signal makes the job Dead, the traceback being the end of its",
    "        stderr and how it ended.  `show' adds pid, exit, signal, stdout",
    "        and stderr (live while it runs), max_rss_kb, user_s and sys_s.",
    "        kill and -t send SIGTERM to its process group, then",
    "        SIGKILL after BGJOB_KILL_GRACE seconds (2); each output stream is",
    "        capped at BGJOB_MAX_OUTPUT bytes (64 MiB); `new' warns once about",
    "        a value of these two it can not use, and uses the default.",
    "  " SYN_STATUS,
    "        List jobs by state (the default subcommand); a command line past",
    "        72 characters shows its first 69 and `...' (here, in notices and",
    "        in traceback headers; `show' gives it whole).  -n lists only jobs",
    "        that finished since the last report; -g only the jobs of group",
    "        NAME; -v fills the associative ARRAY with job number -> state",
    "        instead of printing.  Blocked jobs are listed first.",
    "        --json prints JSON Lines instead: one object per job, with",
    "        \"schema\": 1 and the fields id, command, argv (a callback's",
    "        name and arguments, else null), kind, state, exit and signal (a",
    "        command's, else null), started, finished and elapsed (seconds,",
    "        epoch for the first two, or null), group (its name or null),",
    "        after (the job numbers of -a and -A), attempt (1, 2, ... with",
    "        -r), pid (a running command's), max_rss_kb, user_s and",
    "        sys_s (a command's peak memory and CPU time, from the reaping",
    "        call), key (of new -k), dir (the directory at new; null for",
    "        an arithmetic job made without -k while no log was kept),",
    "        resumed (true or false); --output adds result (of a Completed",
    "        job) and traceback (of a Dead one).",
    "        Strings may hold any bytes: a byte that is not UTF-8, 0xXY, is",
    "        written \\udcXY (Python's surrogateescape: json.loads gives it",
    "        back, and .encode('utf-8', 'surrogateescape') the bytes).  With",
    "        --json nothing else goes to stdout (errors go to stderr) and no",
    "        completion handler runs.",
    "  " SYN_SHOW,
    "        Every field of job ID, as an array literal for",
    "        `eval \"declare -A job=$(bgjob show ID)\"', or into ARRAY;",
    "        after, after_any and waiting_for list job numbers, group names",
    "        its group; resumed=1 for a job completed from a log (log -r).",
    "        --json and --output: the object status --json prints for it.",
    "  " SYN_RESULT,
    "        Print (or store in VAR) the result of completed job ID.  With -w,",
    "        first wait for the job to finish (interrupted like wait).",
    "  " SYN_TRACEBACK,
    "        The error report of dead job ID, or of every dead job.",
    "  " SYN_REMOVE,
    "        Delete finished jobs (not one a Blocked job still needs).",
    "  " SYN_FLUSH,
    "        Delete every finished job.  In an interactive shell, if jobs",
    "        finished since the last report (status, show, result, traceback),",
    "        list them instead, delete nothing and return 1; -f flushes anyway.",
    "  " SYN_WAIT,
    "        Wait for the jobs ID, or for the jobs of this shell that no wait",
    "        returned yet: unfinished ones and ones that ended since (a",
    "        subshell does not wait for its parent's); with -n for the first",
    "        of them, an ended one first, so a `wait -n' loop sees each job",
    "        once.  -p VAR stores the number of the job whose end gave the",
    "        status.  As bash's `wait PID', returns the status of the last",
    "        ID (with -n: of the job returned): 0 if it completed, a `run'",
    "        command's exit status, or 128+N if signal N killed it, else 1",
    "        (a dead job, an unknown ID); without IDs, 0 if every job",
    "        completed, else 1.  124 after the timeout, 128+N if signal N",
    "        interrupts the wait (a command's own status may be the same",
    "        number: VAR of -p is then unset), 127 for -n or -p with",
    "        nothing to wait for (VAR is then unset).",
    "        In an interactive shell with stderr on a terminal, a wait longer",
    "        than half a second shows a progress line; -q: none.",
    "        -t 0 does not wait: it returns 124 at once if a job is unfinished.",
    "        -g NAME: the jobs of group NAME, as without IDs.",
    "  " SYN_KILL,
    "        Cancel jobs (-g: every unfinished job of group NAME): a queued or",
    "        Blocked job, or one waiting to retry, ends at once; a running",
    "        callback is asked to stop.  A killed job ends Dead.",
    "  " SYN_FUNCS,
    "        List the registered callbacks and their usage.",
    "  " SYN_LOAD,
    "        Load a plugin that registers more callbacks (see bgjob.h).  A NAME",
    "        without a slash is looked for, also as NAME.so, in the directories",
    "        of BASH_LOADABLES_PATH, then in the plugin directory (--version):",
    "        P/lib/bgjob/plugins for a builtin loaded from P/lib/bash, else the",
    "        one compiled in.",
    "        Loading a plugin already loaded does nothing.  Shipped plugins:",
    "        digest (file digests), fetch (HTTP transfers) and slurm, whose",
    "        `srun [SRUN-OPTION...] -- CMD [ARG...]' runs CMD as a Slurm job",
    "        step (a step of the allocation under salloc or sbatch); a job that",
    "        Slurm keeps pending shows Queued.",
    "  " SYN_NOTIFY,
    "        Interactive shells: a line on stderr for each job that ended, just",
    "        before the next prompt (prompt, the default), or at once while",
    "        readline waits for input, redrawing the line (now; completion",
    "        handlers still wait for the prompt); or none (off).  A job so",
    "        reported counts as seen.  No argument: print the mode.",
    "  " SYN_GROUP,
    "        Without NAME, list the groups: limit, halt policy and how many",
    "        jobs are running, queued, blocked, completed and dead.  With NAME,",
    "        create the group if need be and set what is given (else list it):",
    "        -j N        at most N of its jobs run at once, within",
    "                    BGJOB_MAX_RUNNING (0: no limit of its own).",
    "        -h POLICY   when to stop the group, as GNU parallel's --halt:",
    "                    soon,fail=N starts no more of its jobs once N have",
    "                    failed (the ones not started end Dead, halted);",
    "                    now,fail=N also stops the running ones; fail=N%",
    "                    counts a share of the group's jobs; success=N halts",
    "                    after N successes; never: no policy.  A job that",
    "                    retries counts once its last attempt failed.  A new",
    "                    -h clears a halt.",
    "  " SYN_LOG,
    "        From now on append a line to FILE for each job that ends, in GNU",
    "        parallel's --joblog format (tab-separated; a header when FILE is",
    "        new or empty; Seq is the job number, Host `:', Starttime as %.3f,",
    "        JobRuntime as %10.3f, Send 0, Receive the bytes of output,",
    "        Exitval and Signal as parallel gives them, Command the command",
    "        line with newlines as NUL bytes), or with -j the JSON object of",
    "        status --json --output.  Each line is written whole, when the",
    "        job ends (also while the shell is busy): a crash loses at most",
    "        the line being written.  -r FILE first reads the JSON log FILE",
    "        (if it exists), then logs to it as -j does: a later `new' whose",
    "        key (new -k) matches a Completed record is not run but Completed",
    "        at once with the recorded result; failed and unfinished jobs",
    "        run again.  No FILE: say where it logs; -: stop logging (and",
    "        resuming).",
    "  " SYN_HELP,
    "        This help; --usage prints the usage lines, --version the version.",
    "",
    "SECONDS is a decimal number with an optional fraction and exponent, or a",
    "hexadecimal one (0x10), up to 1e9.",
    "",
    "Limits: at most BGJOB_MAX_RUNNING jobs run at once (default 64), the rest",
    "are queued, up to BGJOB_MAX_QUEUED (default 100000); both are read by",
    "each `new', which warns once about a value it can not use.",
    "",
    "Subshells: a subshell sees the jobs of its parent as they were when it",
    "was forked; jobs still running there can not be waited for, killed or",
    "read in the subshell.  Jobs created in a subshell belong to it: `new'",
    "warns in a command or process substitution, a pipeline, or `&'.",
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
    "bgjob [new|status|show|result|traceback|remove|flush|wait|kill|funcs|load|notify|group|log|help] "
    "[ARG...]",
    0,
};
