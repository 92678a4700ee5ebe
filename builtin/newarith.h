/* newarith.h - creation of an arithmetic job by `bgjob new' (newarith.c). */
#ifndef BGJ_NEWARITH_H
#define BGJ_NEWARITH_H

struct bgj_cmdline;
struct bgjob_job;

/* The job `bgjob new WORD...' creates for the expression words of C, in
   *OUT.  Returns 0, or 1 after printing an error: a syntax error `let
   WORD...' would report (printed as `let' prints it, under bgjob's name),
   or out of memory; no job is created then. */
int bgj_new_arith(struct bgj_cmdline *c, struct bgjob_job **out);

#endif
