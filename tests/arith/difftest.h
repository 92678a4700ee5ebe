/* difftest.h - shared pieces of the differential test of lib/arith
 * (difftest.c runs batches, state.c builds cases, their setups and the
 * canonical dumps of their variables, catalogue.c reads the catalogue,
 * gen.c makes random cases).  Test-only code, single-threaded. */
#ifndef BGJ_DIFFTEST_H
#define BGJ_DIFFTEST_H

#include <stddef.h>

typedef struct {
    char *p;
    size_t n, cap;
} strbuf;

/* One variable of a case's setup. kind: 's' scalar (value NULL =
   declared without value), 'n' nameref, 'a' indexed, 'A' associative. */
typedef struct {
    int kind;
    unsigned attrs; /* BGJ_ATTR_READONLY, BGJ_ATTR_INTEGER */
    char *name;
    char *value;
    int n;
    char **keys, **vals;
} decl;

typedef struct {
    char *group; /* catalogue group, or NULL */
    char *expr;
    decl *decl;
    int ndecl;
    int nounset;
} tcase;

struct bgj_vars;

/* ---- string helpers (difftest.c) ---- */
void sb_add(strbuf *, const char *, size_t);
void sb_puts(strbuf *, const char *);
void sb_printf(strbuf *, const char *, ...) __attribute__((format(printf, 2, 3)));
char *xstrdup(const char *);
/* S quoted for bash input: $'...' with \xHH for every byte but [A-Za-z0-9 ]. */
void bash_quote(strbuf *, const char *s);
/* S in double quotes with C escapes (long strings cut), for reports. */
void show(strbuf *, const char *s);

/* ---- cases and their variables (state.c) ---- */
void case_free(tcase *);
decl *case_add_decl(tcase *, int kind, const char *name, unsigned attrs);
void decl_add_elem(decl *, const char *key, const char *val);
/* A case naming `_' (not comparable: bash changes it with every command). */
int case_skipped(const tcase *);
/* A case whose error may end the bash running it (set -u, readonly). */
int case_risky(const tcase *);
/* Every name the case involves (setup and expression), malloc'd. */
void case_names(const tcase *, char ***names, int *n);
void free_names(char **names, int n);
/* The bash commands that create the case's variables (after unsetting NAMES). */
void bash_setup(strbuf *, const tcase *, char **names, int nn);
/* The case's variables in a new store; exits on a bad setup. */
struct bgj_vars *c_setup(const tcase *);
/* `declare -p' of NAMES as bash prints it, from our store. */
void c_dump(strbuf *, struct bgj_vars *, char **names, int nn);
/* Bash's `declare -p' output with associative arrays in canonical order. */
void canon_bash_dump(strbuf *out, const char *dump);

/* Evaluate N cases with bash and with lib/arith; count and print mismatches. */
void run_batch(tcase *cases, int n);
void run_catalogue(const char *path, int batch);
void run_random(unsigned long long seed, long count, int batch);

#endif
