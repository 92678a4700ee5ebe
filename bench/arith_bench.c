/* arith_bench.c - cost per expression of lib/arith against bash's own
 * arithmetic, measured in the same run.
 *
 * Bash's cost is a `let' loop minus an empty loop of the same length,
 * timed inside one bash with $EPOCHREALTIME; ours is bgj_arith_eval() on
 * a store holding the same variables.  Prints both and the ratio (the goal
 * is ours <= 0.25 of bash's).  No assertions.  usage: arith_bench [BASH]
 *
 * The machine may be shared: each side is measured several times and the
 * fastest run counts (other load only ever adds time), for both sides alike.
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

#define OURS_REPS 5
#define BASH_REPS 3

int main(int argc, char **argv)
{
  const char *bash = argc > 1 ? argv[1] : "/bin/bash";
  long n = 200000 / OURS_REPS;
  double sum_ratio = 0;
  int count = 0;
  printf("%-28s %12s %12s %8s   (fastest of %d and %d runs)\n", "expression", "bash ns", "ours ns",
         "ratio", BASH_REPS, OURS_REPS);
  for (size_t i = 0; i < sizeof exprs / sizeof *exprs; i++) {
    bgj_vars *v = setup();
    intmax_t out;
    struct bgj_err err = {0};
    double ours = -1;
    for (int r = 0; r < OURS_REPS; r++) {
      double t0 = now();
      for (long k = 0; k < n; k++)
        if (bgj_arith_eval(exprs[i], v, &out, &err, NULL) != 0) {
          fprintf(stderr, "%s: %s\n", exprs[i], bgj_err_text(&err));
          bgj_err_clear(&err);
          return 1;
        }
      double t = (now() - t0) / (double)n;
      if (ours < 0 || t < ours)
        ours = t;
    }
    bgj_vars_free(v);
    double b = -1;
    for (int r = 0; r < BASH_REPS; r++) {
      double t = bash_cost(bash, exprs[i], 200000 / 4 / BASH_REPS);
      if (t > 0 && (b <= 0 || t < b))
        b = t;
    }
    if (b <= 0) {
      printf("%-28s %12s %12.0f\n", exprs[i], "?", ours * 1e9);
      continue;
    }
    printf("%-28s %12.0f %12.0f %8.3f\n", exprs[i], b * 1e9, ours * 1e9, ours / b);
    sum_ratio += ours / b;
    count++;
  }
  if (count)
    printf("mean ratio ours/bash: %.3f (goal <= 0.25)\n", sum_ratio / count);
  return 0;
}
