/*
 * joblog.h - `bgjob log': one line per finished job appended to a file, in
 * GNU parallel's --joblog format or as the JSON objects of record.h.
 *
 * Each line is formatted by the thread that ends the job (a worker, the I/O
 * thread, or the main thread for a job killed while queued), before the job
 * is published, and written whole with one write(2) on an O_APPEND
 * descriptor: lines never mix, and a crash of the shell loses at most the
 * line being written.  The shell may be busy meanwhile.
 *
 * Descriptors: the main thread opens the file in the shell's table (moved
 * above BGJ_HIGH_FD, close-on-exec).  Threads that work in bgjob's own table
 * (loop.h) cannot use that number: the first of them to write opens the same
 * file again through /proc/self/fd (the shell's table, as jobenv.c reaches a
 * directory; by its absolute name, SHOWN, without /proc) into bgjob's table,
 * where bash's closes never reach it; a later writer there closes it once the
 * log changed.
 *
 * Locking: log_lock guards the descriptors, the path and the format; it is a
 * leaf (nothing else is taken while it is held) held for one write.  A fork
 * child keeps the log (its own jobs are logged too) but not bgjob's table.
 */
#ifndef BGJ_JOBLOG_H
#define BGJ_JOBLOG_H

#include "errors.h"
#include "jobs.h"

/*
 * Logs to PATH from now on (JSON: JSON objects, else joblog lines; a new or
 * empty file gets the joblog header first), instead of any earlier file.
 * SHOWN, PATH's absolute name, is what bgj_joblog_where gives back.  Main thread.  0, or
 * BGJ_ESYS (ERR says why; the earlier log goes on) / BGJ_ENOMEM.
 */
int bgj_joblog_start(const char *path, const char *shown, int json, struct bgj_err *err);
/* True while a log is kept (a quick look, without the lock). */
int bgj_joblog_active(void);
/* Stops logging.  Main thread. */
void bgj_joblog_stop(void);
/* The file logged to (malloc'd) and its format in *JSON, or NULL when none.  Main thread. */
char *bgj_joblog_where(int *json);
/* JOB ends in STATE (not yet published): its line, when logging.  Any thread. */
void bgj_joblog_ended(const bgjob_job *job, int state);

#endif /* BGJ_JOBLOG_H */
