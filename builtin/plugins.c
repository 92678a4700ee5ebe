/*
 * plugins.c - the subcommands about callbacks: funcs (list them) and load
 * (load a plugin that registers more).
 *
 * Main thread only.  `load NAME' (no slash) searches BASH_LOADABLES_PATH,
 * then the installed plugin directory BGJOB_PLUGIN_DIR; the loading itself
 * is lib/registry.c's.
 */
#include "bgjob_builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "variables.h"
#include "registry.h"

int bgj_cmd_funcs(void)
{
    size_t n = bgj_callback_count();
    for (size_t i = 0; i < n; i++) {
        const struct bgj_callback *cb = bgj_callback_at(i);
        printf("%-14s %s\n", cb->name, cb->usage);
    }
    return sh_chkwrite(EXECUTION_SUCCESS);
}

char *bgj_plugin_search(void)
{
    const char *lp = get_string_value("BASH_LOADABLES_PATH");
    size_t len = (lp ? strlen(lp) : 0) + sizeof BGJOB_PLUGIN_DIR + 2;
    char *search = malloc(len);
    if (search)
        snprintf(search, len, "%s%s%s", lp && *lp ? lp : "", lp && *lp ? ":" : "", BGJOB_PLUGIN_DIR);
    return search;
}

int bgj_cmd_load(struct bgj_cmdline *c)
{
    char *search = bgj_plugin_search();
    if (!search) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    struct bgj_err err = {0};
    int r = bgj_plugin_load(c->words[0], search, &err);
    free(search);
    int rc = EXECUTION_SUCCESS;
    if (r == BGJ_EEXIST) {
        builtin_warning("%s", bgj_err_text(&err));
    } else if (r != 0) {
        builtin_error("%s", bgj_err_text(&err));
        rc = EXECUTION_FAILURE;
    }
    bgj_err_clear(&err);
    return rc;
}
