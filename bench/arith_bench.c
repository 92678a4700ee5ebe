/* arith_bench.c - cost per expression of lib/arith against bash's own
 * arithmetic, measured in the same run.
 *
 * Bash's cost is a `let' loop minus an empty loop of the same length,
 * timed inside one bash with $EPOCHREALTIME; ours is bgj_arith_eval() on
 * a store holding the same variables.  No assertions.  usage: arith_bench [BASH]
 *
 * Like the rest of `make bench': REPS repetitions, each measuring both sides
 * one after the other; the ratio ours/bash is taken within a repetition.
 * Per expression it prints the medians over the repetitions (bash ns, ours
 * ns, ratio), then the median of the expressions' ratios (the goal is ours
 * <= 0.25 of bash's) on a line of its own, "median ratio ours/bash: R".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arith.h"
#include "vars.h"

static const char *const exprs[] = {
    "1 + 2 * 3 - 4 / 2",
    "x * y + (x << 2) % 7",
    "a[2] + a[-1] * h[k]",
    "x > y ? x - y : y - x",
    "f + 1",
    "n = (x + 1) * 2, n & 255",
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bgj_vars *setup(void)
{
    bgj_vars *v = bgj_vars_new();
    bgj_vars_set_scalar(v, "x", "12", 0);
    bgj_vars_set_scalar(v, "y", "30", 0);
    bgj_vars_set_scalar(v, "f", "x * 2 + y", 0);
    bgj_vars_set_array(v, "a", BGJ_ATTR_INDEXED);
    for (int i = 0; i < 5; i++) {
        char val[16];
        snprintf(val, sizeof val, "%d", i * 3);
        bgj_vars_array_put(v, "a", i, val);
    }
    bgj_vars_set_array(v, "h", BGJ_ATTR_ASSOC);
    bgj_vars_assoc_put(v, "h", "k", "9");
    return v;
}

/* Seconds per expression for bash, or -1. */
static double bash_cost(const char *bash, const char *e, long n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s --norc --noprofile -c 'x=12 y=30 f=\"x * 2 + y\"; a=(0 3 6 9 12); declare -A h=([k]=9); "
             "s=$EPOCHREALTIME; for ((i=0;i<%ld;i++)); do let \"%s\"; done; e=$EPOCHREALTIME; "
             "s2=$EPOCHREALTIME; for ((i=0;i<%ld;i++)); do :; done; e2=$EPOCHREALTIME; "
             "echo \"$s $e $s2 $e2\"'",
             bash, n, e, n);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    double s, t, s2, t2;
    int k = fscanf(p, "%lf %lf %lf %lf", &s, &t, &s2, &t2);
    pclose(p);
    if (k != 4)
        return -1;
    double d = (t - s) - (t2 - s2);
    return d > 0 ? d / (double)n : 1e-9;
}

#define REPS   5
/* Expressions per repetition: ours in C, bash's `let' loop. */
#define OURS_N 40000L
#define BASH_N 16000L

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of n values (sorts them). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    const char *bash = argc > 1 ? argv[1] : "/bin/bash";
    enum { NEXPR = sizeof exprs / sizeof *exprs };
    double ratios[NEXPR];
    int count = 0;
    printf("%-28s %12s %12s %8s   (medians of %d repetitions)\n", "expression", "bash ns", "ours ns", "ratio",
           REPS);
    for (size_t i = 0; i < NEXPR; i++) {
        double ours[REPS], theirs[REPS], ratio[REPS];
        int ok = 0;
        for (int r = 0; r < REPS; r++) {
            bgj_vars *v = setup();
            intmax_t out;
            struct bgj_err err = {0};
            double t0 = now();
            for (long k = 0; k < OURS_N; k++)
                if (bgj_arith_eval(exprs[i], v, &out, &err, NULL) != 0) {
                    fprintf(stderr, "%s: %s\n", exprs[i], bgj_err_text(&err));
                    bgj_err_clear(&err);
                    return 1;
                }
            double o = (now() - t0) / (double)OURS_N;
            bgj_vars_free(v);
            double b = bash_cost(bash, exprs[i], BASH_N);
            if (b <= 0)
                continue;
            ours[ok] = o;
            theirs[ok] = b;
            ratio[ok] = o / b;
            ok++;
        }
        if (!ok) {
            printf("%-28s %12s %12s\n", exprs[i], "?", "?");
            continue;
        }
        double rm = median(ratio, ok);
        printf("%-28s %12.0f %12.0f %8.3f\n", exprs[i], median(theirs, ok) * 1e9, median(ours, ok) * 1e9, rm);
        ratios[count++] = rm;
    }
    if (count)
        printf("median ratio ours/bash: %.3f (goal <= 0.25)\n", median(ratios, count));
    return 0;
}
