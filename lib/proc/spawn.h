/*
 * spawn.h - running a program and waiting for it (spawn.c), for api->spawn
 * and tests; PATH lookup (lookup.c).  The work is done by the I/O thread
 * (proc.h); the caller only blocks until the program has ended.
 *
 * Threads: any thread but bash's main thread inside a command; descriptors
 * in a request must be in bgjob's own table (a worker's), see proc.h.
 */
#ifndef BGJ_SPAWN_H
#define BGJ_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "bgjob.h"
#include "errors.h"
#include "proc.h"

/*
 * Runs S and waits for it to end.  Returns 0 when it ran, filling RES (free
 * with bgj_spawn_free): exit status or signal, the captured output, whether
 * it was killed for output or cancelled.  Otherwise BGJ_ESPAWN with a message
 * "PATH: <strerror>" in ERR and RES->exit_status 126 or 127 as bash would
 * report it, or BGJ_ENOMEM / BGJ_ESYS / BGJ_ECANCELLED.
 */
int bgj_spawn_run(const struct bgj_spawn *s, struct bgjob_spawn_res *res, struct bgj_err *err);
void bgj_spawn_free(struct bgjob_spawn_res *res);

/*
 * Looks NAME up as bash would in the colon-separated PATH (relative entries
 * and the empty entry mean the current directory, or DIRFD's when it is not
 * -1); a NAME with a '/' is used as is.  Returns 0 with a malloc'd path in
 * *OUT, or BGJ_ENOTFOUND (bash's 127), BGJ_ENOEXEC (found but not
 * executable, or a directory: 126) or BGJ_ENOMEM, with *OUT NULL.
 */
int bgj_spawn_lookup(const char *name, const char *path, int dirfd, char **out);
/* The exit status bash gives a lookup failure: 127 or 126. */
int bgj_lookup_status(int rc);

/*
 * api->spawn for the callback job JOB (bgjob.h): REQ's defaults come from
 * the job's environment (jobenv.h); VERSION is the plugin's API version,
 * which says how much of REQ and RES it knows.  0, or -1 with a message in MSG.
 */
int bgj_spawn_job(bgjob_job *job, unsigned version, const struct bgjob_spawn_req *req,
                  struct bgjob_spawn_res *res, char *msg, size_t msglen);

#endif /* BGJ_SPAWN_H */
