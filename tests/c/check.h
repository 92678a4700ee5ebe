/* check.h - the tiny assertion kit of the C tests: CHECK counts, reports file:line, never aborts. */
#ifndef BGJ_CHECK_H
#define BGJ_CHECK_H
#include <stdio.h>

static int check_pass, check_fail;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (cond)                                                                                            \
            check_pass++;                                                                                    \
        else {                                                                                               \
            check_fail++;                                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                         \
        }                                                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                                                      \
    do {                                                                                                     \
        const char *a_ = (a), *b_ = (b);                                                                     \
        if (a_ && b_ && strcmp(a_, b_) == 0)                                                                 \
            check_pass++;                                                                                    \
        else {                                                                                               \
            check_fail++;                                                                                    \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,                \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                                 \
        }                                                                                                    \
    } while (0)

static int check_done(const char *name)
{
    printf("checks: %s %d passed, %d failed\n", name, check_pass, check_fail);
    return check_fail ? 1 : 0;
}
#endif
