/* test_registry.c - callback registration rules and the callback job runner, without bash. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jobs.h"
#include "registry.h"

static int errors;
static void count_error(const char *msg)
{
    (void)msg;
    errors++;
}
static int echo_cb(bgjob_job *job, int argc, char **argv, void *payload)
{
    (void)payload;
    return bgj_api.set_result(job, argc > 1 ? argv[argc - 1] : "none");
}

int main(void)
{
    bgj_registry_error = count_error;
    bgj_registry_init();
    bgj_registry_init();              /* idempotent */
    CHECK(bgj_callback_count() == 2); /* sleep and run */
    CHECK(bgj_callback_find("sleep") != NULL);
    CHECK(bgj_callback_find("nosuch") == NULL);
    /* outside a plugin's init, registration is refused */
    CHECK(bgj_api.register_callback("late", echo_cb, "late", NULL, NULL) == -1);
    CHECK(errors == 1);
    CHECK(bgj_api.version == BGJOB_API_VERSION && bgj_api.size == sizeof(struct bgjob_api));

    struct bgj_err err = {0};
    CHECK(bgj_plugin_load("/nonexistent/plugin.so", NULL, &err) == BGJ_EPLUGIN);
    CHECK(strstr(bgj_err_text(&err), "cannot load plugin") != NULL);
    CHECK(bgj_plugin_load("noplugin", "/nonexistent:", &err) == BGJ_ENOTFOUND);
    CHECK(strstr(bgj_err_text(&err), "no such plugin") != NULL);
    bgj_err_clear(&err);

    /* a callback job gets its own copies of the arguments */
    CHECK(bgj_init() == 0);
    char a0[] = "first", a1[] = "second";
    char *argv[] = {a0, a1};
    const struct bgj_callback *cb = bgj_callback_find("sleep");
    bgjob_job *j = bgj_callback_job(cb, 2, argv, "sleep first second");
    CHECK(j != NULL);
    strcpy(a0, "XXXXX");
    int64_t id = bgj_submit(j, 0);
    CHECK(id >= 0);
    bgj_wait_nondaemon();
    /* "first" is not a number: the job is Dead with the sleep usage message */
    CHECK(bgj_state_of(bgj_find(id)) == BGJ_DEAD);
    CHECK(strstr(bgj_find(id)->error, "`first'") != NULL);
    return check_done("registry");
}
