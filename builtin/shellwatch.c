/*
 * shellwatch.c - what `bgjob new` gives a callback job of the shell's state
 * that only a few builtins change: the umask (`umask`) and the working
 * directory (`cd`, `pushd`, `popd`), so that `new` need not look at them
 * each time.
 *
 * A process can read its umask only by changing it (umask(2), which another
 * thread creating a file at that moment would see) or from /proc/self/status,
 * which costs several microseconds; checking that the directory is still the
 * one held costs a path lookup (stat(".")).  Together they were most of a
 * digest job's `new`.  In a bash process only those builtins change either.
 * So bgjob wraps their functions in bash's builtin table: a wrapper runs the
 * builtin, then marks what it may have changed as unknown, and `new` reads
 * the umask, or looks at the directory, only when it is unknown.  Before
 * trusting what it knows, `new` checks that the wrappers are still in place
 * (another loadable may have replaced a builtin, `enable` may have moved the
 * table); when one is not, everything counts as unknown and the wrappers are
 * put back.
 *
 * Main thread only; no lock.  The module is never unmapped (it is loaded
 * nodelete), and unloading puts the builtins' own functions back.
 */
#include "bgjob_builtin.h"

#include <sys/stat.h>

#include "builtins.h"
#include "jobenv.h"

extern struct builtin *builtin_address_internal(char *, int);

enum { W_UMASK, W_CD, W_PUSHD, W_POPD, W_N };

static int umask_wrapper(WORD_LIST *list);
static int cd_wrapper(WORD_LIST *list);
static int pushd_wrapper(WORD_LIST *list);
static int popd_wrapper(WORD_LIST *list);

static struct watched {
    char *name;
    sh_builtin_func_t *wrapper;
    struct builtin *entry;       /* its entry in the table, once wrapped */
    sh_builtin_func_t *function; /* the builtin's own function */
} watched[W_N] = {
    {"umask", umask_wrapper, NULL, NULL},
    {"cd", cd_wrapper, NULL, NULL},
    {"pushd", pushd_wrapper, NULL, NULL},
    {"popd", popd_wrapper, NULL, NULL},
};

static struct builtin *table; /* shell_builtins when the wrappers were put in */
static int table_size;        /* num_shell_builtins then */
static int umask_known;       /* umask_value is the umask */
static mode_t umask_value;
static int dir_known; /* no builtin that changes directory ran since bgj_shell_dir_seen */

static int wrapped(int w, WORD_LIST *list)
{
    int rc = watched[w].function(list);
    if (w == W_UMASK)
        umask_known = 0;
    else
        dir_known = 0;
    return rc;
}

static int umask_wrapper(WORD_LIST *list) { return wrapped(W_UMASK, list); }
static int cd_wrapper(WORD_LIST *list) { return wrapped(W_CD, list); }
static int pushd_wrapper(WORD_LIST *list) { return wrapped(W_PUSHD, list); }
static int popd_wrapper(WORD_LIST *list) { return wrapped(W_POPD, list); }

/* True when every wrapper is in place (a builtin missing from this bash needs none). */
static int watching(void)
{
    if (!table || table != shell_builtins || table_size != num_shell_builtins)
        return 0;
    for (int w = 0; w < W_N; w++)
        if (watched[w].entry && watched[w].entry->function != watched[w].wrapper)
            return 0;
    return 1;
}

static void watch(void)
{
    for (int w = 0; w < W_N; w++) {
        struct builtin *b = builtin_address_internal(watched[w].name, 1);
        watched[w].entry = b && b->function ? b : NULL;
        if (watched[w].entry && b->function != watched[w].wrapper) {
            watched[w].function = b->function;
            b->function = watched[w].wrapper;
        }
    }
    table = shell_builtins;
    table_size = num_shell_builtins;
}

/* Makes sure the wrappers are in place; forgets what was known if they were not. */
static void check(void)
{
    if (!watching()) {
        umask_known = dir_known = 0;
        watch();
    }
}

mode_t bgj_shell_umask(void)
{
    check();
    if (!umask_known) {
        umask_value = bgj_umask_read();
        umask_known = watching();
    }
    return umask_value;
}

int bgj_shell_dir_same(void)
{
    check();
    return dir_known;
}

void bgj_shell_dir_seen(void)
{
    check();
    dir_known = watching();
}

void bgj_shell_unwatch(void)
{
    if (table == shell_builtins && table_size == num_shell_builtins)
        for (int w = 0; w < W_N; w++)
            if (watched[w].entry && watched[w].entry->function == watched[w].wrapper)
                watched[w].entry->function = watched[w].function;
    for (int w = 0; w < W_N; w++)
        watched[w].entry = NULL;
    table = NULL;
    umask_known = dir_known = 0;
}
