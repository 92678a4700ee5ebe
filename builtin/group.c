/*
 * group.c - `bgjob group': lists the groups (with their limits, halt
 * policies and counts), or creates or changes one (-j N, -h POLICY); and the
 * one lookup of a group by name for -g of status, wait and kill.  The groups
 * themselves are lib/pool/group.c's.
 *
 * Main thread only; no state of its own.
 */
#include "bgjob_builtin.h"

#include <stdio.h>

struct bgj_group *bgj_group_lookup(const char *name)
{
    struct bgj_group *g = bgj_group_find(name, 0);
    if (!g)
        builtin_error("-g: %s: no such group (see `bgjob group')", name);
    return g;
}

static void print_group(const struct bgj_group *g)
{
    struct bgj_group_info in;
    char halt[48], limit[24];
    bgj_group_info(g, &in);
    bgj_halt_format(&in.halt, halt, sizeof halt);
    if (in.limit)
        snprintf(limit, sizeof limit, "%u", in.limit);
    else
        snprintf(limit, sizeof limit, "none");
    printf("%s: limit %s, halt %s%s; %u running, %u queued, %u blocked, %u completed, %u dead\n", in.name,
           limit, halt, in.halted ? " (halted)" : "", in.running, in.queued, in.blocked, in.completed,
           in.dead);
}

int bgj_cmd_group(struct bgj_cmdline *c)
{
    if (!c->gname) {
        size_t n = bgj_group_count();
        for (size_t i = 0; i < n; i++)
            print_group(bgj_group_at(i));
        return sh_chkwrite(EXECUTION_SUCCESS);
    }
    struct bgj_halt halt;
    if (c->halt && bgj_halt_parse(c->halt, &halt) != 0) {
        builtin_error("group: -h: %s: not a halt policy (soon|now,fail|success=N[%%], or never)", c->halt);
        bgj_usage(c->cmd);
        return EX_USAGE;
    }
    struct bgj_group *g = bgj_group_find(c->gname, 1);
    if (!g) {
        builtin_error("out of memory");
        return EXECUTION_FAILURE;
    }
    if (c->group_limit >= 0 || c->halt)
        bgj_group_set(g, (int)c->group_limit, c->halt ? &halt : NULL);
    else
        print_group(g);
    return sh_chkwrite(EXECUTION_SUCCESS);
}
