/* test_cmdline.c - the subcommand parser: every subcommand, option forms, and each usage error. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"

/* Parses the space-separated words of LINE; returns the parser's status. */
static int parse(const char *line, struct bgj_cmdline *c, char **buf)
{
    static char *argv[64];
    static char storage[512];
    snprintf(storage, sizeof storage, "%s", line);
    *buf = storage;
    int argc = 0;
    for (char *t = strtok(*buf, " "); t && argc < 63; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    return bgj_cmdline_parse(argc, argv, c);
}

#define PARSE_OK(line, expect_cmd)                      \
    do {                                                \
        char *b_;                                       \
        int r_ = parse(line, &c, &b_);                  \
        CHECK(r_ == 0);                                 \
        CHECK(c.cmd == (expect_cmd));                   \
        if (r_ != 0)                                    \
            fprintf(stderr, "  line: %s: %s\n", line, c.err); \
        (void)b_;                                       \
    } while (0)

static void expect_error(const char *line, const char *msg_part)
{
    struct bgj_cmdline c;
    char *b;
    int r = parse(line, &c, &b);
    CHECK(r == -1);
    if (r != -1 || !strstr(c.err, msg_part))
        fprintf(stderr, "  line: \"%s\": got %d \"%s\", wanted \"%s\"\n", line, r, c.err, msg_part);
    CHECK(strstr(c.err, msg_part) != NULL);
    bgj_cmdline_free(&c);
    (void)b;
}

int main(void)
{
    struct bgj_cmdline c;

    CHECK(bgj_cmdline_parse(0, NULL, &c) == 0);
    CHECK(c.cmd == BGJ_CMD_STATUS);
    bgj_cmdline_free(&c);

    PARSE_OK("new -d -v id -- -5 + 1", BGJ_CMD_NEW);
    CHECK(c.opt_d && c.vname && strcmp(c.vname, "id") == 0 && c.nwords == 3 && strcmp(c.words[0], "-5") == 0);
    CHECK(c.vname_word == 3);
    bgj_cmdline_free(&c);
    PARSE_OK("new -dvid 2**20", BGJ_CMD_NEW);
    CHECK(c.opt_d && strcmp(c.vname, "id") == 0 && c.nwords == 1);
    bgj_cmdline_free(&c);
    PARSE_OK("new -f sleep 1 -x", BGJ_CMD_NEW);
    CHECK(c.fname && strcmp(c.fname, "sleep") == 0 && c.nwords == 2 && strcmp(c.words[1], "-x") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("new -d -f busy -5 -v x", BGJ_CMD_NEW);
    CHECK(c.opt_d && !c.vname && c.nwords == 3 && strcmp(c.words[0], "-5") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("new -f join -- -- x", BGJ_CMD_NEW);
    CHECK(c.nwords == 2 && strcmp(c.words[0], "--") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("new -f sleep", BGJ_CMD_NEW);
    CHECK(c.nwords == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("status -n -v A", BGJ_CMD_STATUS);
    CHECK(c.opt_n && strcmp(c.vname, "A") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("-n", BGJ_CMD_STATUS);
    CHECK(c.opt_n);
    bgj_cmdline_free(&c);
    PARSE_OK("show -v A 3", BGJ_CMD_SHOW);
    CHECK(c.nids == 1 && c.ids[0] == 3);
    bgj_cmdline_free(&c);
    PARSE_OK("result 9223372036854775807", BGJ_CMD_RESULT);
    CHECK(c.ids[0] == INT64_MAX);
    bgj_cmdline_free(&c);
    PARSE_OK("traceback", BGJ_CMD_TRACEBACK);
    bgj_cmdline_free(&c);
    PARSE_OK("remove 1 2 3", BGJ_CMD_REMOVE);
    CHECK(c.nids == 3 && c.ids[2] == 3);
    bgj_cmdline_free(&c);
    PARSE_OK("flush -f", BGJ_CMD_FLUSH);
    CHECK(c.opt_f);
    bgj_cmdline_free(&c);
    PARSE_OK("wait -n -t 0.25 4 5", BGJ_CMD_WAIT);
    CHECK(c.opt_n && c.has_timeout && c.timeout == 0.25 && c.nids == 2);
    bgj_cmdline_free(&c);
    PARSE_OK("wait -t1", BGJ_CMD_WAIT);
    CHECK(c.timeout == 1);
    bgj_cmdline_free(&c);
    PARSE_OK("kill 0", BGJ_CMD_KILL);
    bgj_cmdline_free(&c);
    PARSE_OK("funcs", BGJ_CMD_FUNCS);
    bgj_cmdline_free(&c);
    PARSE_OK("load ./x.so", BGJ_CMD_LOAD);
    CHECK(strcmp(c.words[0], "./x.so") == 0);
    bgj_cmdline_free(&c);

    char *h1[] = {"--help"}, *h2[] = {"wait", "-n", "--help"}, *h3[] = {"help"};
    CHECK(bgj_cmdline_parse(1, h1, &c) == 1);
    bgj_cmdline_free(&c);
    CHECK(bgj_cmdline_parse(3, h2, &c) == 1);
    bgj_cmdline_free(&c);
    CHECK(bgj_cmdline_parse(1, h3, &c) == 1);
    bgj_cmdline_free(&c);

    expect_error("bogus", "unknown subcommand");
    expect_error("new", "an expression is required");
    expect_error("new -x 1", "-x: invalid option");
    expect_error("new -v", "option requires an argument");
    expect_error("new -- ", "an expression is required");
    expect_error("status 1", "too many arguments");
    expect_error("show", "a job number is required");
    expect_error("show 1 2", "too many arguments");
    expect_error("result x", "not a valid job number");
    expect_error("result -1", "not a valid job number");
    expect_error("wait -t 1 -2", "not a valid job number");
    expect_error("result -- -1", "not a valid job number");
    expect_error("result 9223372036854775808", "not a valid job number");
    expect_error("result 99999999999999999999999", "not a valid job number");
    expect_error("remove", "a job number is required");
    expect_error("remove 1 x", "not a valid job number");
    expect_error("kill", "a job number is required");
    expect_error("wait -t abc", "invalid timeout");
    expect_error("wait -t 1e999", "invalid timeout");
    expect_error("wait -t nan", "invalid timeout");
    expect_error("wait -t 0x10", "invalid timeout");
    expect_error("wait -t", "option requires an argument");
    expect_error("flush -n", "invalid option");
    expect_error("flush x", "too many arguments");
    expect_error("load", "a plugin path is required");
    expect_error("load a b", "too many arguments");
    expect_error("funcs x", "too many arguments");
    expect_error("traceback 1 2", "too many arguments");
    expect_error("-q", "invalid option");
    return check_done("cmdline");
}
