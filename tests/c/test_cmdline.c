/*
 * test_cmdline.c - the subcommand parser: every subcommand, option forms,
 * each usage error (BGJ_EUSAGE with the message in struct bgj_err), and the
 * parser of a number of seconds.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"

static const char *last_err = "";

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
    static struct bgj_err err;
    bgj_err_clear(&err);
    int r = bgj_cmdline_parse(argc, argv, c, &err);
    last_err = bgj_err_text(&err);
    return r;
}

#define PARSE_OK(line, expect_cmd)                                                                           \
    do {                                                                                                     \
        char *b_;                                                                                            \
        int r_ = parse(line, &c, &b_);                                                                       \
        CHECK(r_ == 0);                                                                                      \
        CHECK(c.cmd == (expect_cmd));                                                                        \
        if (r_ != 0)                                                                                         \
            fprintf(stderr, "  line: %s: %s\n", line, last_err);                                             \
        (void)b_;                                                                                            \
    } while (0)

static void expect_error(const char *line, const char *msg_part)
{
    struct bgj_cmdline c;
    char *b;
    int r = parse(line, &c, &b);
    CHECK(r == BGJ_EUSAGE);
    if (r != BGJ_EUSAGE || !strstr(last_err, msg_part))
        fprintf(stderr, "  line: \"%s\": got %d \"%s\", wanted \"%s\"\n", line, r, last_err, msg_part);
    CHECK(strstr(last_err, msg_part) != NULL);
    bgj_cmdline_free(&c);
    (void)b;
}

int main(void)
{
    struct bgj_cmdline c;

    CHECK(bgj_cmdline_parse(0, NULL, &c, NULL) == 0);
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
    /* records: --json, --output, log, new -k */
    PARSE_OK("status --json -n --output", BGJ_CMD_STATUS);
    CHECK(c.opt_json && c.opt_n && c.opt_output);
    bgj_cmdline_free(&c);
    PARSE_OK("--json", BGJ_CMD_STATUS);
    CHECK(c.opt_json && !c.opt_output);
    bgj_cmdline_free(&c);
    PARSE_OK("show --json 4", BGJ_CMD_SHOW);
    CHECK(c.opt_json && c.nids == 1 && c.ids[0] == 4);
    bgj_cmdline_free(&c);
    PARSE_OK("log", BGJ_CMD_LOG);
    CHECK(c.nwords == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("log -", BGJ_CMD_LOG);
    CHECK(c.nwords == 1 && strcmp(c.words[0], "-") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("log -j out.jsonl", BGJ_CMD_LOG);
    CHECK(c.opt_j && !c.opt_r && strcmp(c.words[0], "out.jsonl") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("log -r out.jsonl", BGJ_CMD_LOG);
    CHECK(c.opt_r && strcmp(c.words[0], "out.jsonl") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("new -k k1 -f run true", BGJ_CMD_NEW);
    CHECK(c.kname && strcmp(c.kname, "k1") == 0 && c.fname);
    bgj_cmdline_free(&c);
    PARSE_OK("new -kk2 1+1", BGJ_CMD_NEW);
    CHECK(c.kname && strcmp(c.kname, "k2") == 0 && c.nwords == 1);
    bgj_cmdline_free(&c);

    /* the forms of help, usage and version */
    struct {
        int argc;
        char *argv[3];
        enum bgj_help help;
    } helps[] = {
        {1, {"--help"}, BGJ_HELP_FULL},       {3, {"wait", "-n", "--help"}, BGJ_HELP_FULL},
        {1, {"help"}, BGJ_HELP_FULL},         {1, {"-h"}, BGJ_HELP_FULL},
        {1, {"--usage"}, BGJ_HELP_USAGE},     {2, {"help", "--usage"}, BGJ_HELP_USAGE},
        {1, {"--version"}, BGJ_HELP_VERSION}, {2, {"new", "--version"}, BGJ_HELP_VERSION},
    };
    for (size_t i = 0; i < sizeof helps / sizeof *helps; i++) {
        int ok = bgj_cmdline_parse(helps[i].argc, helps[i].argv, &c, NULL) == 0 && c.cmd == BGJ_CMD_HELP &&
                 c.help == helps[i].help;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  help form %zu: %s %s\n", i, helps[i].argv[0],
                    helps[i].argv[1] ? helps[i].argv[1] : "");
        bgj_cmdline_free(&c);
    }
    /* without a struct bgj_err, the code alone */
    char *e1[] = {"bogus"};
    CHECK(bgj_cmdline_parse(1, e1, &c, NULL) == BGJ_EUSAGE);
    bgj_cmdline_free(&c);

    /* a negative number or an unknown letter starts new's expression, as for let */
    PARSE_OK("new -3*2", BGJ_CMD_NEW);
    CHECK(c.nwords == 1 && strcmp(c.words[0], "-3*2") == 0 && !c.opt_d);
    bgj_cmdline_free(&c);
    PARSE_OK("new -1", BGJ_CMD_NEW);
    CHECK(c.nwords == 1 && strcmp(c.words[0], "-1") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("new -d -v id -x + 1", BGJ_CMD_NEW);
    CHECK(c.opt_d && strcmp(c.vname, "id") == 0 && c.nwords == 3 && strcmp(c.words[0], "-x") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("new -- -d", BGJ_CMD_NEW);
    CHECK(c.nwords == 1 && strcmp(c.words[0], "-d") == 0 && !c.opt_d);
    bgj_cmdline_free(&c);
    /* new -t SECONDS, -c FUNC */
    PARSE_OK("new -t 1.5 -c done 1+1", BGJ_CMD_NEW);
    CHECK(c.has_timeout && c.timeout == 1.5 && strcmp(c.cname, "done") == 0 && c.nwords == 1);
    bgj_cmdline_free(&c);
    PARSE_OK("new -t0x10 -f sleep 1", BGJ_CMD_NEW);
    CHECK(c.has_timeout && c.timeout == 16 && strcmp(c.fname, "sleep") == 0);
    bgj_cmdline_free(&c);
    /* wait -p VAR, result -w */
    PARSE_OK("wait -n -p which -t 0x1 3", BGJ_CMD_WAIT);
    CHECK(c.opt_n && strcmp(c.pname, "which") == 0 && c.pname_word == 3 && c.timeout == 1 && c.ids[0] == 3);
    bgj_cmdline_free(&c);
    PARSE_OK("result -w -v x 2", BGJ_CMD_RESULT);
    CHECK(c.opt_w && strcmp(c.vname, "x") == 0 && c.ids[0] == 2);
    bgj_cmdline_free(&c);

    /* one parser for a number of seconds */
    double t = -1;
    CHECK(bgj_parse_seconds("0x10", &t) == 0 && t == 16);
    CHECK(bgj_parse_seconds("0.25", &t) == 0 && t == 0.25);
    CHECK(bgj_parse_seconds(".5", &t) == 0 && t == 0.5);
    CHECK(bgj_parse_seconds("+2", &t) == 0 && t == 2);
    CHECK(bgj_parse_seconds("1e-3", &t) == 0 && t == 1e-3);
    CHECK(bgj_parse_seconds("0", &t) == 0 && t == 0);
    CHECK(bgj_parse_seconds("1e9", &t) == 0);
    const char *bad[] = {"",      " 1",  "1 ", "-1", "+-1", "inf", "nan", "INF",
                         "1e999", "2e9", "0x", "x",  ".",   "1s",  "++1", NULL};
    for (int k = 0; bad[k]; k++) {
        int r = bgj_parse_seconds(bad[k], &t);
        if (r != BGJ_EINVAL)
            fprintf(stderr, "  seconds \"%s\" accepted\n", bad[k]);
        CHECK(r == BGJ_EINVAL);
    }
    CHECK(bgj_parse_seconds(NULL, &t) == BGJ_EINVAL);

    expect_error("bogus", "unknown subcommand");
    expect_error("new", "an expression is required");
    expect_error("new -v", "option requires an argument");
    expect_error("new -- ", "an expression is required");
    expect_error("status 1", "too many arguments");
    expect_error("show", "a job number is required");
    expect_error("show 1 2", "too many arguments");
    expect_error("status --output", "--output: only with --json");
    expect_error("status --json -v A", "--json and -v");
    expect_error("show --json", "a job number is required");
    expect_error("result --json 1", "--json: invalid option");
    expect_error("log a b", "too many arguments");
    expect_error("log -j", "-j: a file is required");
    expect_error("log -r -", "-r: a file is required");
    expect_error("log -x f", "-x: invalid option");
    expect_error("new -k", "option requires an argument");
    expect_error("result x", "not a valid job number");
    expect_error("result -1", "not a valid job number");
    expect_error("wait -t 1 -2", "not a valid job number");
    expect_error("result -- -1", "not a valid job number");
    expect_error("result 9223372036854775808", "not a valid job number");
    expect_error("result 99999999999999999999999", "not a valid job number");
    expect_error("remove", "a job number is required");
    expect_error("remove 1 x", "not a valid job number");
    expect_error("kill", "a job number is required");
    expect_error("wait -t abc", "invalid number of seconds");
    expect_error("wait -t 1e999", "invalid number of seconds");
    expect_error("wait -t nan", "invalid number of seconds");
    expect_error("wait -t -1", "invalid number of seconds");
    expect_error("new -t x 1", "invalid number of seconds");
    expect_error("new -c", "option requires an argument");
    expect_error("new -dz 1", "-z: invalid option");
    expect_error("wait -p", "option requires an argument");
    expect_error("result -x 1", "-x: invalid option");
    expect_error("help x", "too many arguments");
    expect_error("--help x", "too many arguments");
    expect_error("wait -t", "option requires an argument");
    expect_error("flush -n", "invalid option");
    expect_error("flush x", "too many arguments");
    expect_error("load", "a plugin name or path is required");
    expect_error("load a b", "too many arguments");
    expect_error("funcs x", "too many arguments");
    expect_error("traceback 1 2", "too many arguments");
    expect_error("-q", "invalid option");

    /* notify [prompt|now|off]; wait -q */
    PARSE_OK("notify", BGJ_CMD_NOTIFY);
    CHECK(c.nwords == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("notify now", BGJ_CMD_NOTIFY);
    CHECK(c.nwords == 1 && strcmp(c.words[0], "now") == 0);
    bgj_cmdline_free(&c);
    expect_error("notify later", "later: not a mode (prompt, now or off)");
    expect_error("notify now off", "too many arguments");
    expect_error("notify -x", "invalid option");
    PARSE_OK("wait -qn 3", BGJ_CMD_WAIT);
    CHECK(c.opt_q && c.opt_n && c.nids == 1 && c.ids[0] == 3);
    bgj_cmdline_free(&c);
    expect_error("result -q 1", "-q: invalid option");
    PARSE_OK("new -c h -f sleep 1", BGJ_CMD_NEW);
    CHECK(c.cname && strcmp(c.cname, "h") == 0);
    bgj_cmdline_free(&c);
    {
        char *argv[] = {"new", "-c", "", "1", NULL};
        struct bgj_err e = {0};
        CHECK(bgj_cmdline_parse(4, argv, &c, &e) == BGJ_EUSAGE &&
              strstr(bgj_err_text(&e), "-c: a function name is required"));
        bgj_err_clear(&e);
        bgj_cmdline_free(&c);
    }
    /* workflows: -a/-A lists (repeatable, mixed), -r, -R, -g; group NAME before or after its options */
    PARSE_OK("new -a 1,2 -A 3 -a4 -r 2 -R 0.5 -g web -- 7", BGJ_CMD_NEW);
    CHECK(c.ndeps == 4 && c.deps[0] == 1 && c.deps[1] == 2 && c.deps[2] == 3 && c.deps[3] == 4);
    CHECK(!c.deps_any[0] && !c.deps_any[1] && c.deps_any[2] && !c.deps_any[3]);
    CHECK(c.has_retries && c.retries == 2 && c.has_backoff && c.backoff == 0.5);
    CHECK(c.gname && strcmp(c.gname, "web") == 0 && c.nwords == 1);
    bgj_cmdline_free(&c);
    expect_error("new -a 1,,2 1", "-a: 1,,2: not a list of job numbers");
    expect_error("new -a x 1", "-a: x: not a valid job number");
    /* ranges: one entry each, whatever their length */
    PARSE_OK("new -a 1,3-7 -A 9-9,2-9223372036854775807 -- 7", BGJ_CMD_NEW);
    CHECK(c.ndeps == 4 && c.deps[0] == 1 && c.deps_last[0] == 1 && c.deps[1] == 3 && c.deps_last[1] == 7);
    CHECK(c.deps[2] == 9 && c.deps_last[2] == 9 && c.deps[3] == 2 && c.deps_last[3] == INT64_MAX);
    CHECK(!c.deps_any[0] && !c.deps_any[1] && c.deps_any[2] && c.deps_any[3]);
    bgj_cmdline_free(&c);
    expect_error("new -a 7-3 1", "-a: 7-3: a range goes from the lower job number to the higher");
    expect_error("new -a 3- 1", "-a: 3-: not a valid job number or range");
    expect_error("new -A 3-4-5 1", "-A: 3-4-5: not a valid job number or range");
    expect_error("new -a -3 1", "-a: -3: not a valid job number");
    expect_error("new -r 1000001 1", "-r: 1000001: not a whole number from 0 to 1000000");
    expect_error("new -R -1 1", "-R: -1: invalid number of seconds");
    expect_error("new -g a/b 1", "-g: a/b: not a group name");
    PARSE_OK("group web -j 3 -h now,fail=1", BGJ_CMD_GROUP);
    CHECK(c.gname && strcmp(c.gname, "web") == 0 && c.group_limit == 3 && strcmp(c.halt, "now,fail=1") == 0);
    bgj_cmdline_free(&c);
    PARSE_OK("group -j 0 web", BGJ_CMD_GROUP);
    CHECK(c.gname && c.group_limit == 0 && !c.halt);
    bgj_cmdline_free(&c);
    PARSE_OK("group", BGJ_CMD_GROUP);
    CHECK(!c.gname && c.group_limit == -1);
    bgj_cmdline_free(&c);
    expect_error("group -j 2", "a group name is required with -j or -h");
    expect_error("group a b", "b: too many arguments");
    PARSE_OK("kill -g web", BGJ_CMD_KILL);
    CHECK(c.gname && c.nids == 0);
    bgj_cmdline_free(&c);
    expect_error("kill -g web 1", "-g and job numbers do not go together");
    expect_error("kill", "a job number is required");
    PARSE_OK("wait -g web -t 1", BGJ_CMD_WAIT);
    bgj_cmdline_free(&c);
    PARSE_OK("status -g web", BGJ_CMD_STATUS);
    bgj_cmdline_free(&c);
    return check_done("cmdline");
}
