/*
 * completion.c - tab completion: the completion script (bgjob-completion.bash,
 * embedded at build time) defined and registered when bgjob is enabled in an
 * interactive shell (and unregistered by `enable -d`), and `bgjob
 * __complete`, the queries it makes (job numbers by state, callback names)
 * without marking anything seen.
 *
 * Main thread only; no state of its own.
 */
#include "bgjob_builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

static const char completion_script[] =
#include "bgjob-completion.inc"
    ;

/* From bash's pcomplete.h (not installed with bash's headers). */
extern void *progcomp_search(const char *);

void bgj_completion_load(void)
{
    if (!interactive_shell)
        return;
    /* The user's own compspec for bgjob wins. */
    int has_spec = progcomp_search("bgjob") != NULL;
    size_t len = sizeof completion_script + 64;
    char *s = malloc(len);
    if (!s)
        return;
    snprintf(s, len, "%s%s", completion_script, has_spec ? "" : "complete -F _bgjob_complete bgjob\n");
    evalstring(s, "bgjob", SEVAL_NOHIST); /* frees s */
}

void bgj_completion_unload(void)
{
    if (!interactive_shell)
        return;
    /* Only the compspec the load hook made: a user's own stays. */
    static const char undo[] = "if [[ $(complete -p bgjob 2>/dev/null) == 'complete -F _bgjob_complete "
                               "bgjob' ]]; then complete -r bgjob; fi\n";
    char *s = strdup(undo);
    if (s)
        evalstring(s, "bgjob", SEVAL_NOHIST); /* frees s */
}

/* Does a job in STATE belong to KIND (all, completed, dead, finished, unfinished)? */
static int fits(const char *kind, int state)
{
    if (strcmp(kind, "all") == 0)
        return 1;
    if (strcmp(kind, "completed") == 0)
        return state == BGJ_COMPLETED;
    if (strcmp(kind, "dead") == 0)
        return state == BGJ_DEAD;
    if (strcmp(kind, "finished") == 0)
        return bgj_finished(state);
    if (strcmp(kind, "unfinished") == 0)
        return !bgj_finished(state);
    return 0;
}

int bgj_cmd_complete(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[0], "ids") == 0) {
        size_t n = bgj_count();
        for (size_t i = 0; i < n; i++) {
            bgjob_job *j = bgj_at(i);
            if (j && fits(argv[1], bgj_state_of(j)))
                printf("%lld\n", (long long)j->id);
        }
        return sh_chkwrite(EXECUTION_SUCCESS);
    }
    if (argc == 1 && strcmp(argv[0], "funcs") == 0) {
        size_t n = bgj_callback_count();
        for (size_t i = 0; i < n; i++) {
            const struct bgj_callback *cb = bgj_callback_at(i);
            if (cb)
                printf("%s\n", cb->name);
        }
        return sh_chkwrite(EXECUTION_SUCCESS);
    }
    builtin_error("__complete: usage: bgjob __complete ids all|completed|dead|finished|unfinished, or funcs");
    return EX_USAGE;
}
