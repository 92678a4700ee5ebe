/* difftest.h - shared pieces of the differential test of lib/arith
 * (difftest.c runs batches, catalogue.c reads the catalogue, gen.c makes
 * random cases).  Test-only code, single-threaded. */
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

void sb_add(strbuf *, const char *, size_t);
void sb_puts(strbuf *, const char *);
void sb_printf(strbuf *, const char *, ...) __attribute__((format(printf, 2, 3)));
char *xstrdup(const char *);
void case_free(tcase *);
decl *case_add_decl(tcase *, int kind, const char *name, unsigned attrs);
void decl_add_elem(decl *, const char *key, const char *val);

/* Evaluate N cases with bash and with lib/arith; count and print mismatches. */
void run_batch(tcase *cases, int n);
void run_catalogue(const char *path, int batch);
void run_random(unsigned long long seed, long count, int batch);

#endif
