/*
 * plugins.c - the subcommands about callbacks: funcs (list them) and load
 * (load a plugin that registers more), and where installed plugins are.
 *
 * Main thread only.  `load NAME' (no slash) searches BASH_LOADABLES_PATH,
 * then the plugin directory: the one beside the loaded builtin when it is
 * installed as P/lib/bash/bgjob (P/lib/bgjob/plugins, so a `make install
 * PREFIX=P' finds its plugins wherever P is), then the compiled-in
 * BGJOB_PLUGIN_DIR; the loading itself is lib/registry.c's.
 */
#define _GNU_SOURCE
#include "bgjob_builtin.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* P/lib/bgjob/plugins when this module is P/lib/bash/NAME and that directory exists; else "". */
static const char *installed_dir(void)
{
    static char dir[PATH_MAX];
    static int looked;
    if (looked)
        return dir;
    looked = 1;
    Dl_info info;
    if (!dladdr((void *)installed_dir, &info) || !info.dli_fname)
        return dir;
    char *real = realpath(info.dli_fname, NULL);
    char *slash = real ? strrchr(real, '/') : NULL;
    if (slash) {
        *slash = 0;
        size_t n = strlen(real);
        struct stat st;
        if (n >= 9 && strcmp(real + n - 9, "/lib/bash") == 0 &&
            (size_t)snprintf(dir, sizeof dir, "%.*s/lib/bgjob/plugins", (int)(n - 9), real) < sizeof dir &&
            (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
            dir[0] = 0;
    }
    free(real);
    return dir;
}

const char *bgj_plugin_dir(void)
{
    const char *d = installed_dir();
    return *d ? d : BGJOB_PLUGIN_DIR;
}

char *bgj_plugin_search(void)
{
    const char *lp = get_string_value("BASH_LOADABLES_PATH");
    const char *mine = installed_dir();
    size_t len = (lp ? strlen(lp) : 0) + strlen(mine) + sizeof BGJOB_PLUGIN_DIR + 3;
    char *search = malloc(len);
    if (search)
        snprintf(search, len, "%s%s%s%s%s", lp && *lp ? lp : "", lp && *lp ? ":" : "", mine, *mine ? ":" : "",
                 BGJOB_PLUGIN_DIR);
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
