/*
 * shellvar.c - writing results into shell variables (-v VAR, -v ARRAY) and
 * quoting values so that `eval` or `read` can take them back.
 *
 * Main thread only.  Follows the recipe of bash's own `printf -v`: the same
 * name check, the same binding call, so array elements, namerefs, locals and
 * integer variables behave as they do there.
 */
#include "bgjob_builtin.h"

#include <stdlib.h>
#include <string.h>

#include "variables.h"
#include "arrayfunc.h"
#include "externs.h"

extern int assoc_expand_once;

int bgj_word_flags(const struct bgj_args *a, int index)
{
    if (index < 0 || index >= a->argc || !a->wordv[index])
        return 0;
    return a->wordv[index]->word->flags;
}

/* The variable a name refers to, for the readonly check: "a[1]" -> a. */
static SHELL_VAR *base_variable(const char *name)
{
    const char *br = strchr(name, '[');
    if (!br)
        return find_variable(name);
    size_t n = (size_t)(br - name);
    char *base = malloc(n + 1);
    if (!base)
        return NULL;
    memcpy(base, name, n);
    base[n] = 0;
    SHELL_VAR *v = find_variable(base);
    free(base);
    return v;
}

int bgj_var_check(const char *name, int wordflags)
{
    int vflags, bindflags;
    SET_VFLAGS(wordflags, vflags, bindflags);
    (void)bindflags;
    if (!legal_identifier(name) && !valid_array_reference(name, vflags)) {
        sh_invalidid((char *)name);
        return EX_USAGE;
    }
    SHELL_VAR *v = base_variable(name);
    if (v && (readonly_p(v) || noassign_p(v))) {
        err_readonly(name);
        return EXECUTION_FAILURE;
    }
    return 0;
}

int bgj_var_set(const char *name, int wordflags, const char *value)
{
    int vflags, bindflags;
    SET_VFLAGS(wordflags, vflags, bindflags);
    (void)vflags;
    SHELL_VAR *v = builtin_bind_variable((char *)name, (char *)value, bindflags);
    stupidly_hack_special_variables((char *)name);
    return (v == 0 || readonly_p(v) || noassign_p(v)) ? EXECUTION_FAILURE : EXECUTION_SUCCESS;
}

void bgj_var_unset(const char *name, int wordflags)
{
    int vflags, bindflags;
    SET_VFLAGS(wordflags, vflags, bindflags);
    (void)bindflags;
    int element = !legal_identifier(name);
    if (element && !valid_array_reference(name, vflags))
        return;
    SHELL_VAR *v = base_variable(name);
    if (!v || readonly_p(v) || noassign_p(v))
        return;
    if (!element) {
        unbind_variable(name);
        return;
    }
    /* As `unset 'a[k]'' does (bash 5.2): the subscript alone, writable. */
    char *sub = strdup(strchr(name, '[') + 1);
    if (!sub)
        return;
    sub[strlen(sub) - 1] = 0; /* valid_array_reference: it ends with ']' */
    unbind_array_element(v, sub, vflags);
    free(sub);
}

SHELL_VAR *bgj_assoc_begin(const char *name)
{
    if (!legal_identifier(name)) {
        sh_invalidid((char *)name);
        return NULL;
    }
    SHELL_VAR *v = find_or_make_array_variable((char *)name, 1 | 2);
    if (!v)
        return NULL;
    if (!assoc_p(v)) {
        builtin_error("%s: not an associative array", name);
        return NULL;
    }
    VUNSETATTR(v, att_invisible);
    assoc_flush(assoc_cell(v));
    return v;
}

void bgj_assoc_put(SHELL_VAR *v, const char *key, const char *value)
{
    bind_assoc_variable(v, v->name, savestring(key), (char *)value, 0);
}

char *bgj_quote(const char *s)
{
    if (!*s)
        return strdup("''");
    char *q = ansic_shouldquote(s) ? ansic_quote((char *)s, 0, NULL) : sh_backslash_quote((char *)s, 0, 3);
    if (!q)
        return NULL;
    char *copy = strdup(q);
    xfree(q);
    return copy;
}
