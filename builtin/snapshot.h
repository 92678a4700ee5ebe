/* snapshot.h - copies the shell variables an arithmetic expression can
 * read into a bgj_vars (lib/vars.h).  Main thread only: it reads bash's
 * variable tables. */
#ifndef BGJOB_SNAPSHOT_H
#define BGJOB_SNAPSHOT_H

typedef struct bgj_vars bgj_vars;

/* Snapshot every variable EXPR can reach, transitively, plus `set -u'.
   Returns NULL only on out-of-memory.  Never changes shell state. */
bgj_vars *bgjob_snapshot(const char *expr);

#endif
