/*
 * resume.h - `bgjob log -r FILE': the Completed records of a JSON log, so
 * that a later `new' of the same work is Completed at once with the
 * recorded result instead of running again.
 *
 * A record matches a new job by its key: `new -k KEY' when the record and
 * the job have one (only records with that key), else the kind, the command
 * line and the directory (records without a key).  Records of jobs that
 * died or never finished are not kept; when several Completed records have
 * the same key, the last one read wins.
 *
 * Main thread only (no lock).
 */
#ifndef BGJ_RESUME_H
#define BGJ_RESUME_H

#include <stddef.h>

#include "errors.h"

/*
 * Reads the JSON log PATH (SHOWN names it in messages) and adds its
 * Completed records to the ones kept.  *NKEPT gets how many it added,
 * *NBAD how many lines were not records of schema 1 (a line cut by a crash
 * is one).  0, or BGJ_ESYS / BGJ_ENOMEM with ERR saying why.
 */
int bgj_resume_load(const char *path, const char *shown, size_t *nkept, size_t *nbad, struct bgj_err *err);
/* The recorded result for a job (KEY, or else KIND, COMMAND and DIR), or NULL when no record matches. */
const char *bgj_resume_find(const char *key, const char *kind, const char *command, const char *dir);
/*
 * Makes JOB (built, not yet submitted) a job that, instead of its work, is
 * Completed with a copy of RESULT as soon as a worker takes it (its record
 * says resumed).  Its own work's argument is released now.  0 or BGJ_ENOMEM
 * (JOB unchanged).
 */
struct bgjob_job;
int bgj_resume_job(struct bgjob_job *job, const char *result);
/* Forgets every record. */
void bgj_resume_clear(void);
/* How many records are kept. */
size_t bgj_resume_count(void);

#endif /* BGJ_RESUME_H */
