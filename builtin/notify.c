/*
 * notify.c - completion notices (`bgjob notify [prompt|now|off]`) and
 * completion handlers (`bgjob new -c FUNC`): the readline hooks that show
 * the notices, and the PROMPT_COMMAND element that runs the handlers before
 * the interactive prompt.
 *
 * Main thread only; no lock.  Workers never see any of this: a notice or a
 * handler is decided by reading a job's published state, and nothing is
 * looked at again while bgj_finished_total() (the count of finished jobs)
 * has not changed and no handler was added.
 *
 * Notices (interactive shells with readline only): in `prompt` mode,
 * readline's startup hook prints one line per job finished and not yet
 * seen, just before the prompt; in `now` mode readline's event hook (called
 * about ten times a second while readline waits for a key) also does it,
 * clearing the visible line (and the lines of a multi-line prompt) first and
 * redrawing prompt, text and cursor afterwards.  Both act only before the
 * first line of a command (PS1): never at a continuation prompt, where the
 * parser is in the middle of a command, nor inside `read -e`.  A job shown
 * by a notice is marked seen.  Both hooks chain the hook found when they
 * were installed and put it back on unload.  Notices are only printed: no
 * shell code runs inside readline.
 *
 * Handlers: the ids of jobs with a handler whose handler has not run are
 * kept in creation order.  At each safe point (the start of a `bgjob`
 * command, each wake-up of `bgjob wait`, and in an interactive shell the
 * prompt) every finished one is taken off the list, then its function runs
 * as `FUNC ID STATE` through evalstring (with `set -e' off, $? kept), so
 * each runs once, in job order among those found finished together.  It
 * runs with the redirections of the bgjob command it runs in.  Handlers do
 * not nest: a `bgjob` command run by a handler runs none.  Only the process
 * that created the job runs its handler (a subshell drops its copy of the
 * list), and none runs once the shell has begun to exit (its EXIT trap).
 *
 * Handlers never run while readline has the terminal (it is in raw mode,
 * and readline is not reentrant: a handler's `read -e' would break the line
 * being edited): not from readline's hooks, and not from a `bgjob` command
 * run by a key binding (`bind -x') or a completion function; they wait for
 * the next safe point.  At the interactive prompt they run where bash runs
 * traps: PROMPT_COMMAND, which bash runs before it starts readline for the
 * first line of a command, with the terminal as any command gets it.  The
 * first handler set in an interactive shell adds one element to the
 * PROMPT_COMMAND array (`builtin bgjob __prompt', at the index after the
 * last; a string PROMPT_COMMAND becomes element 0), which prints the notices
 * due and runs the handlers due; `enable -d' removes it and leaves
 * PROMPT_COMMAND as it found it.  A job that ends while a line is typed has
 * its handler run after that line is entered, before the next prompt.
 */
#include "bgjob_builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrayfunc.h"
#include "execute_cmd.h"
#include "variables.h"

/* Exported by bash (readline is linked into it); declared here to avoid readline's headers. */
typedef int bgj_rl_hook(void);
extern bgj_rl_hook *rl_startup_hook, *rl_event_hook;
extern int rl_clear_visible_line(void);
extern int rl_on_new_line(void);
extern int rl_forced_update_display(void);
extern char *rl_prompt;
/* parse.y: the prompt string in use, and PS1's value (PS1 starts a command, PS2 continues one). */
extern char *current_prompt_string;
extern char *ps1_prompt;
extern int exit_immediately_on_error;
extern int signal_in_progress(int);
#define BGJ_EXIT_TRAP 0
/* readline.h: readline's state bits; this one is set while readline has the terminal in its raw mode. */
extern unsigned long rl_readline_state;
#define BGJ_RL_STATE_TERMPREPPED 0x0000004

enum { MODE_OFF, MODE_PROMPT, MODE_NOW };
static const char *const mode_names[] = {"off", "prompt", "now"};
static int mode = -1; /* -1: not decided yet (prompt in an interactive shell, else off) */

static struct {
    int64_t *ids;
    size_t n, cap;
    pid_t pid;               /* the process the list belongs to */
    int running;             /* a handler is running */
    int dirty;               /* a job was listed since the last full look */
    unsigned long looked_at; /* bgj_finished_total() at the last full look */
} H;

/* bgj_finished_total() when the last look found no notice to print (+1; 0: never). */
static unsigned long notices_looked_at;

static bgj_rl_hook *prev_startup, *prev_event;
static int startup_installed, event_installed;

static int current_mode(void)
{
    if (mode < 0)
        mode = interactive_shell ? MODE_PROMPT : MODE_OFF;
    return mode;
}

/* ---- the PROMPT_COMMAND element ---- */

#define PC_NAME    "PROMPT_COMMAND"
#define PC_ELEMENT "builtin bgjob __prompt"

static struct {
    int added;   /* the element was added and unload has not removed it */
    int created; /* PROMPT_COMMAND was unset: unload unsets it again if nothing is left */
    int scalar;  /* it was a string (or unset): unload makes a lone element 0 a string again */
} PC;

static int pc_ours(ARRAY_ELEMENT *ae)
{
    return element_value(ae) && strcmp(element_value(ae), PC_ELEMENT) == 0;
}

static int pc_present(ARRAY *a)
{
    for (ARRAY_ELEMENT *ae = element_forw(array_head(a)); ae != array_head(a); ae = element_forw(ae))
        if (pc_ours(ae))
            return 1;
    return 0;
}

/*
 * Interactive shells: adds the element that runs the handlers at the prompt,
 * unless it is there.  A PROMPT_COMMAND that can't take it (readonly, an
 * associative array, a nameref) is left alone: the handlers then run at the
 * next bgjob command.
 */
static void pc_add(void)
{
    if (!interactive_shell)
        return;
    SHELL_VAR *v = find_global_variable(PC_NAME);
    if (v && (readonly_p(v) || noassign_p(v) || assoc_p(v) || nameref_p(v)))
        return;
    if (v && array_p(v) && pc_present(array_cell(v)))
        return;
    int created = 0, scalar = 0;
    if (!v) {
        v = make_new_array_variable(PC_NAME);
        created = scalar = 1;
    } else if (!array_p(v)) {
        created = !var_isset(v) || invisible_p(v);
        scalar = 1;
        v = convert_var_to_array(v); /* the string becomes element 0 */
    }
    if (!v || !array_p(v))
        return;
    ARRAY *a = array_cell(v);
    /* After the last element, never at 0: `PROMPT_COMMAND=cmd' assigns element 0. */
    arrayind_t at = array_max_index(a) + 1;
    array_insert(a, at < 1 ? 1 : at, PC_ELEMENT);
    /* Added again after the user replaced PROMPT_COMMAND: what unload restores is the new one. */
    PC.created = created;
    PC.scalar = scalar;
    PC.added = 1;
}

/* Unload: removes the element and puts back the string or the unset variable it replaced. */
static void pc_remove(void)
{
    if (!PC.added)
        return;
    PC.added = 0;
    SHELL_VAR *v = find_global_variable(PC_NAME);
    if (!v || !array_p(v) || readonly_p(v))
        return;
    ARRAY *a = array_cell(v);
    for (ARRAY_ELEMENT *ae = element_forw(array_head(a)); ae != array_head(a);) {
        ARRAY_ELEMENT *next = element_forw(ae);
        if (pc_ours(ae))
            array_dispose_element(array_remove(a, element_index(ae)));
        ae = next;
    }
    if (PC.created && array_num_elements(a) == 0) {
        unbind_global_variable(PC_NAME);
    } else if (PC.scalar && array_num_elements(a) == 1 && array_max_index(a) == 0) {
        ARRAY_ELEMENT *ae = element_forw(array_head(a));
        char *value = savestring(element_value(ae) ? element_value(ae) : "");
        array_dispose(a);
        var_setvalue(v, value);
        VUNSETATTR(v, att_array);
    }
}

/* ---- handlers ---- */

/* A subshell inherits the list but never runs its parent's handlers. */
static void own_list(void)
{
    pid_t me = getpid();
    if (H.pid != me) {
        H.n = 0;
        H.pid = me;
        H.running = 0;
        H.dirty = 1;
    }
}

int bgj_handler_set(bgjob_job *job, const char *func)
{
    own_list();
    if (H.n == H.cap) {
        size_t ncap = H.cap ? H.cap * 2 : 16;
        int64_t *p = realloc(H.ids, ncap * sizeof *p);
        if (!p)
            return BGJ_ENOMEM;
        H.ids = p;
        H.cap = ncap;
    }
    if (!bgj_job_side(job))
        return BGJ_ENOMEM;
    char *f = strdup(func);
    if (!f)
        return BGJ_ENOMEM;
    free(job->side->handler);
    job->side->handler = f;
    return 0;
}

void bgj_handler_submitted(bgjob_job *job)
{
    /* bgj_handler_set made room for it. */
    if (bgj_handler_of(job) && H.n < H.cap) {
        H.ids[H.n++] = job->id;
        H.dirty = 1;
        pc_add();
    }
}

/* True while readline has the terminal (a `bind -x' command, a completion function): no handler runs. */
static int in_readline(void) { return (rl_readline_state & BGJ_RL_STATE_TERMPREPPED) != 0; }

/* True once the shell runs its EXIT trap: no handler runs any more. */
static int exiting(void) { return signal_in_progress(BGJ_EXIT_TRAP) != 0; }

/* Nothing can be due while no job was listed and none finished since the last full look. */
static int unchanged(void) { return !H.dirty && bgj_finished_total() == H.looked_at; }

int bgj_handlers_due(void)
{
    if (H.n == 0 || H.running || unchanged() || H.pid != getpid() || exiting() || in_readline())
        return 0;
    for (size_t i = 0; i < H.n; i++) {
        bgjob_job *j = bgj_find(H.ids[i]);
        if (!j || bgj_finished(bgj_state_of(j)))
            return 1;
    }
    return 0;
}

/* Runs FUNC ID STATE; errors and a non-zero status are reported, never passed on. */
static void call_handler(const char *func, int64_t id, int state)
{
    if (!find_function(func)) {
        fprintf(stderr, "bgjob: job %lld: completion handler %s: no such function\n", (long long)id, func);
        fflush(stderr);
        return;
    }
    char *q = bgj_quote(func);
    size_t len = (q ? strlen(q) : 0) + 48;
    char *cmd = q ? malloc(len) : NULL;
    if (!cmd) {
        free(q);
        fprintf(stderr, "bgjob: job %lld: completion handler %s: out of memory\n", (long long)id, func);
        return;
    }
    snprintf(cmd, len, "%s %lld %s", q, (long long)id, bgj_state_name(state));
    free(q);
    /* A failing handler must not end the script through `set -e'. */
    int saved_errexit = exit_immediately_on_error;
    exit_immediately_on_error = 0;
    int r = evalstring(cmd, "bgjob", SEVAL_NOHIST); /* frees cmd */
    exit_immediately_on_error = saved_errexit;
    if (r != 0) {
        fprintf(stderr, "bgjob: job %lld: completion handler %s returned status %d\n", (long long)id, func,
                r);
        fflush(stderr);
    }
}

void bgj_run_handlers(void)
{
    if (H.n == 0 || H.running || unchanged() || in_readline())
        return;
    own_list();
    if (H.n == 0 || exiting())
        return;
    H.running = 1;
    /* Read first: a job that finishes during the look is looked at next time. */
    unsigned long total = bgj_finished_total();
    H.dirty = 0;
    int saved_status = last_command_exit_value;
    size_t i = 0;
    while (i < H.n) {
        bgjob_job *j = bgj_find(H.ids[i]);
        int s = j ? bgj_state_of(j) : -1;
        if (j && !bgj_finished(s)) {
            i++;
            continue;
        }
        /* Off the list before it runs: it runs exactly once, whatever it does. */
        int64_t id = H.ids[i];
        memmove(H.ids + i, H.ids + i + 1, (H.n - i - 1) * sizeof *H.ids);
        H.n--;
        if (!j || !bgj_handler_of(j))
            continue;                           /* removed before its handler could run */
        char *func = strdup(bgj_handler_of(j)); /* the handler may remove the job */
        if (!func) {
            fprintf(stderr, "bgjob: job %lld: completion handler: out of memory\n", (long long)id);
            continue;
        }
        call_handler(func, id, s);
        free(func);
        if (exiting()) {
            H.dirty = 1;
            break;
        }
    }
    H.looked_at = total;
    last_command_exit_value = saved_status;
    H.running = 0;
}

/* ---- notices ---- */

/* Seen marks only ever get set: while no job finishes, a look that found nothing stays right. */
static int notices_due(void)
{
    if (current_mode() == MODE_OFF || !bgj_is_owner())
        return 0;
    unsigned long total = bgj_finished_total();
    if (notices_looked_at == total + 1)
        return 0;
    if (bgj_unseen() > 0)
        return 1;
    notices_looked_at = total + 1;
    return 0;
}

/* One line per finished job not yet seen: "bgjob: N State  command"; each is marked seen. */
static void print_notices(void)
{
    if (!notices_due())
        return;
    size_t n = bgj_count();
    for (size_t i = 0; i < n; i++) {
        bgjob_job *j = bgj_at(i);
        if (!j || j->seen || bgj_orphaned(j))
            continue;
        int s = bgj_state_of(j);
        if (!bgj_finished(s))
            continue;
        char *q = bgj_command_line(j->command);
        fprintf(stderr, "bgjob: %lld %s  %s\n", (long long)j->id, bgj_state_name(s), q ? q : j->command);
        free(q);
        bgj_mark_seen(j);
    }
    fflush(stderr);
}

/*
 * True when readline reads the first line of a command: not a continuation
 * line (PS2, the parser is in the middle of a command), nor inside `read -e'
 * or another builtin that calls readline.
 */
static int at_ps1(void) { return !executing_builtin && current_prompt_string == ps1_prompt; }

static int startup_hook(void)
{
    int r = prev_startup ? prev_startup() : 0;
    if (at_ps1()) {
        H.running = 0; /* at the prompt no handler can be running (one may have been cut short) */
        print_notices();
    }
    return r;
}

/* `notify now': the notices, at once, above the line being edited. */
static int event_hook(void)
{
    int r = prev_event ? prev_event() : 0;
    if (!at_ps1() || current_mode() != MODE_NOW)
        return r;
    if (notices_due()) {
        rl_clear_visible_line();
        /* A prompt of several lines: readline redraws the lines before the last one too. */
        for (const char *p = rl_prompt; p && *p; p++)
            if (*p == '\n')
                fputs("\033[A\r\033[2K", stderr);
        print_notices();
        rl_on_new_line();
        rl_forced_update_display();
    }
    return r;
}

/*
 * `bgjob __prompt', the PROMPT_COMMAND element: bash runs it before it
 * starts readline for the first line of a command, outside readline.  The
 * notices due (readline shells: `bash --noediting' gets none), then the
 * handlers due, which run at the top level like a trap.
 */
void bgj_prompt_command(void)
{
    /* At the top level no handler can be running (one may have been cut short). */
    if (variable_context == 0)
        H.running = 0;
    if (!no_line_editing)
        print_notices();
    bgj_run_handlers();
}

static void install_event_hook(void)
{
    if (event_installed)
        return;
    prev_event = rl_event_hook;
    rl_event_hook = event_hook;
    event_installed = 1;
}

static void remove_event_hook(void)
{
    if (!event_installed)
        return;
    /* Put the previous hook back only if nobody replaced ours since. */
    if (rl_event_hook == event_hook)
        rl_event_hook = prev_event;
    event_installed = 0;
}

void bgj_notify_load(void)
{
    if (!interactive_shell)
        return;
    /* enable -f again after enable -d: handlers still to run need the element back. */
    if (H.n > 0 && H.pid == getpid())
        pc_add();
    if (!startup_installed) {
        prev_startup = rl_startup_hook;
        rl_startup_hook = startup_hook;
        startup_installed = 1;
    }
    if (current_mode() == MODE_NOW)
        install_event_hook();
}

void bgj_notify_unload(void)
{
    if (startup_installed) {
        if (rl_startup_hook == startup_hook)
            rl_startup_hook = prev_startup;
        startup_installed = 0;
    }
    remove_event_hook();
    pc_remove();
}

int bgj_cmd_notify(struct bgj_cmdline *c)
{
    if (c->nwords == 0) {
        printf("%s\n", mode_names[current_mode()]);
        return sh_chkwrite(EXECUTION_SUCCESS);
    }
    const char *w = c->words[0];
    mode = strcmp(w, "now") == 0 ? MODE_NOW : strcmp(w, "prompt") == 0 ? MODE_PROMPT : MODE_OFF;
    if (mode == MODE_NOW && interactive_shell && startup_installed)
        install_event_hook();
    else
        remove_event_hook();
    return EXECUTION_SUCCESS;
}
