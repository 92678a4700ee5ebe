/*
 * completion.c - tab completion: the completion script (bgjob-completion.bash,
 * embedded at build time) defined and registered when bgjob is enabled in an
 * interactive shell (and unregistered by `enable -d`), and `bgjob
 * __complete`, the queries it makes (job numbers by state, callback names,
 * the plugins `load NAME` would find, group names) without marking anything
 * seen.
 *
 * Main thread only; no state of its own.
 */
#include "bgjob_builtin.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Prints, sorted and once each, the names NAME of the regular files NAME.so
   in the directories of `load NAME''s search path. */
static int list_plugins(void)
{
    char *search = bgj_plugin_search();
    if (!search) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int oom = 0;
    for (char *save = NULL, *dir = strtok_r(search, ":", &save); dir && !oom;
         dir = strtok_r(NULL, ":", &save)) {
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) && !oom) {
            size_t len = strlen(e->d_name);
            if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0)
                continue;
            struct stat st;
            if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                char **nn = realloc(names, cap * sizeof *names);
                if (!nn) {
                    oom = 1;
                    break;
                }
                names = nn;
            }
            if (!(names[n] = strndup(e->d_name, len - 3)))
                oom = 1;
            else
                n++;
        }
        closedir(d);
    }
    free(search);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n && !oom; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            printf("%s\n", names[i]);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (oom) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    return sh_chkwrite(EXECUTION_SUCCESS);
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
    if (argc == 1 && strcmp(argv[0], "plugins") == 0)
        return list_plugins();
    if (argc == 1 && strcmp(argv[0], "groups") == 0) {
        size_t n = bgj_group_count();
        for (size_t i = 0; i < n; i++)
            printf("%s\n", bgj_group_name(bgj_group_at(i)));
        return sh_chkwrite(EXECUTION_SUCCESS);
    }
    builtin_error("__complete: usage: bgjob __complete ids all|completed|dead|finished|unfinished, funcs, "
                  "plugins or groups");
    return EX_USAGE;
}
