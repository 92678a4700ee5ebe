/*
 * record.h - a job as a record for scripts: the JSON object of
 * `status --json', `show --json' and `log -j', the line of `log' in GNU
 * parallel's --joblog format, and what a job keeps for them (struct
 * bgj_rec: its argv, directory and resume key, set by `new').
 *
 * The JSON object (schema 1) is flat: id, command, argv, kind, state, exit,
 * signal, started, finished, elapsed, group, after, attempt, pid,
 * max_rss_kb, user_s, sys_s, key, dir, resumed, and with OUTPUT result and
 * traceback.  Strings go through json.h (any bytes give valid JSON).
 *
 * Threads: a job's rec is set on the main thread before the job is submitted
 * and only read afterwards, so any thread may format a record: the main
 * thread for status and show, the thread that ends a job for the log (before
 * it publishes the finished state).  Fields that change while a job runs
 * are read as jobs.h allows (the start time, the extra fields under their
 * lock); result and traceback only for a finished STATE.
 */
#ifndef BGJ_RECORD_H
#define BGJ_RECORD_H

#include <stddef.h>

#include "jobs.h"
#include "strbuf.h"

struct bgj_rec {
    char **argv;           /* a callback's name and arguments, NULL-terminated; NULL for arithmetic */
    char *dir;             /* the directory at `new' (absolute), or NULL */
    char *key;             /* new -k KEY, or NULL */
    unsigned char resumed; /* completed from a log instead of run (resume.h) */
};

/* A new record with copies of ARGC words ARGV (may be 0/NULL), DIR and KEY (may be NULL).  NULL on OOM. */
struct bgj_rec *bgj_rec_new(int argc, char *const *argv, const char *dir, const char *key);
void bgj_rec_free(struct bgj_rec *r);

/* The kind of job J as records and `show' name it: "arith" or "callback". */
const char *bgj_rec_kind(const bgjob_job *j);

/*
 * Appends J, seen in state STATE, as one JSON object and a newline to B
 * (OUTPUT: with result and traceback).  Any thread (see above).
 */
void bgj_rec_json(struct bgj_strbuf *b, const bgjob_job *j, int state, int output);

/* GNU parallel's joblog header, newline included. */
extern const char bgj_rec_joblog_header[];
/* Appends finished job J (STATE) as one joblog line, newline included, to B. */
void bgj_rec_joblog(struct bgj_strbuf *b, const bgjob_job *j, int state);

#endif /* BGJ_RECORD_H */
