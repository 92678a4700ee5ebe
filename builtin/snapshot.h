/* snapshot.h - copies the shell variables an arithmetic expression can
 * read into a bgj_vars (lib/vars.h).  Main thread only: it reads bash's
 * variable tables. */
#ifndef BGJ_SNAPSHOT_H
#define BGJ_SNAPSHOT_H

typedef struct bgj_vars bgj_vars;

/* Snapshot every variable the NWORDS WORDS of `let' can reach,
   transitively, plus `set -u'.  Dynamic variables are read (RANDOM and
   SRANDOM drawn once per occurrence) as `let' would read them now; nothing
   else in the shell changes.  Returns NULL only on out-of-memory. */
bgj_vars *bgj_snapshot(int nwords, char *const *words);

#endif
