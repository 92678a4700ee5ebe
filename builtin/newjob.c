/*
 * newjob.c - `bgjob new`: creates an arithmetic or callback job.
 *
 * Main thread only.  Everything that can fail is checked before the job is
 * numbered (the -v target, the callback name, the queue cap), so a `new`
 * that fails uses up no job number.  The variable snapshot of an arithmetic
 * job (newarith.c) is taken on the main thread; the worker never touches bash.
 */
#include "bgjob_builtin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "variables.h"
#include "command.h"
#include "newarith.h"
#include "../lib/registry.h"

extern int subshell_environment;

static unsigned limit_from(const char *var, unsigned dflt)
{
    const char *s = get_string_value(var);
    int64_t v;
    if (!s || !*s || bgj_parse_id(s, &v) != 0 || v <= 0 || v > 100000000)
        return dflt;
    return (unsigned)v;
}

/* WORDS joined by SEP; with QUOTE, each word in printf %q form.  NULL when out of memory. */
static char *join(char **words, int n, const char *first, int quote)
{
    size_t len = first ? strlen(first) + 1 : 1;
    char **q = calloc((size_t)n + 1, sizeof *q);
    if (!q)
        return NULL;
    for (int i = 0; i < n; i++) {
        q[i] = quote ? bgj_quote(words[i]) : strdup(words[i]);
        if (!q[i])
            goto fail;
        len += strlen(q[i]) + 1;
    }
    char *out = malloc(len), *p = out;
    if (!out)
        goto fail;
    *p = 0;
    if (first) {
        p = stpcpy(p, first);
    }
    for (int i = 0; i < n; i++) {
        if (p != out)
            *p++ = ' ';
        p = stpcpy(p, q[i]);
    }
    for (int i = 0; i < n; i++)
        free(q[i]);
    free(q);
    return out;
fail:
    for (int i = 0; i < n; i++)
        free(q[i]);
    free(q);
    return NULL;
}

int bgj_cmd_new(struct bgj_cmdline *c, const struct bgj_args *a)
{
    int wflags = bgj_word_flags(a, c->vname_word);
    bgj_set_limits(limit_from("BGJOB_MAX_RUNNING", BGJ_DEFAULT_MAX_RUNNING),
                   limit_from("BGJOB_MAX_QUEUED", BGJ_DEFAULT_MAX_QUEUED));

    bgjob_job *job;
    if (c->fname) {
        const struct bgj_callback *cb = bgj_callback_find(c->fname);
        if (!cb) {
            builtin_error("%s: no such callback (see `bgjob funcs')", c->fname);
            return EXECUTION_FAILURE;
        }
        char *command = join(c->words, c->nwords, cb->name, 1);
        job = command ? bgj_callback_job(cb, c->nwords, c->words, command) : NULL;
        free(command);
    } else {
        int rc = bgj_new_arith(c, &job);
        if (rc != 0)
            return rc;
    }
    if (!job) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    int64_t id = bgj_submit(job, c->opt_d);
    if (id < 0) {
        if (errno == ENOSPC)
            builtin_error("too many queued jobs: the queue is full (BGJOB_MAX_QUEUED=%u; %u may run at once, BGJOB_MAX_RUNNING)",
                          limit_from("BGJOB_MAX_QUEUED", BGJ_DEFAULT_MAX_QUEUED),
                          limit_from("BGJOB_MAX_RUNNING", BGJ_DEFAULT_MAX_RUNNING));
        else
            builtin_error("can not start the job: %s", strerror(errno));
        return EXECUTION_FAILURE;
    }
    if (subshell_environment & SUBSHELL_COMSUB)
        builtin_warning("job %lld belongs to this command substitution's subshell and ends with it; use `bgjob new -v VAR' instead",
                        (long long)id);
    char buf[24], *p = buf + sizeof buf;
    *--p = 0;
    do
        *--p = (char)('0' + id % 10);
    while ((id /= 10) > 0);
    bind_variable("BGJOB_LAST", p, 0);
    if (c->vname)
        return bgj_var_set(c->vname, wflags, p);
    return EXECUTION_SUCCESS;
}
