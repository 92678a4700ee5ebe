/*
 * jobenv.h - what a callback job takes from the shell when `bgjob new`
 * creates it: the exported environment, the working directory, the umask,
 * and the output and kill-grace limits read from shell variables.
 *
 * The directory is held open from `new` on (O_PATH, in the shell's table,
 * above BGJ_HIGH_FD; jobs made in the same directory share one descriptor),
 * so a job's relative paths mean the directory it was made in even after a
 * `cd`, a rename or a removal.  Its worker reaches the same directory
 * through /proc/self/fd (its own table is apart from the shell's).  Its name
 * (what `show` and messages say) is the one it had when the first job still
 * held made it: jobs made in one directory share the name as they share the
 * descriptor, with no getcwd per job.
 *
 * Built on the main thread by the builtin layer, then owned by the job and
 * only read (by its worker) until the job's arguments are released.  Any
 * thread may free it, once; the shared directory descriptors are closed on
 * the main thread (at the next capture) once no job holds them.
 */
#ifndef BGJ_JOBENV_H
#define BGJ_JOBENV_H

#include <stddef.h>
#include <sys/types.h>

#define BGJ_DEFAULT_MAX_OUTPUT ((size_t)64 << 20)
#define BGJ_DEFAULT_KILL_GRACE 2.0

struct bgj_dir;
struct bgj_envblock;

struct bgj_jobenv {
    char **envp;              /* "NAME=value" copies, NULL-terminated (read-only: shared with other jobs) */
    struct bgj_envblock *env; /* what envp points into (jobenv.c) */
    const char *cwd;          /* the working directory at `new' (absolute), or NULL: dir's or cwd_own */
    char *cwd_own;            /* the name, when no directory is held (malloc'd) */
    struct bgj_dir *dir;      /* that directory, held open since `new', or NULL */
    int cwd_fd;               /* bgj_jobenv_cwd_fd's descriptor (the job's table), or -1 */
    int cwd_errno;            /* why it could not be had */
    mode_t umask;
    size_t max_output; /* BGJOB_MAX_OUTPUT */
    double kill_grace; /* BGJOB_KILL_GRACE */
    char *exec_path;   /* `run`: the command's file as found at `new` (malloc'd), or NULL */
};

/* Copies ENVP (or shares the last copy when ENVP is the same); holds the current directory (SAME_DIR:
   the caller knows the process has not changed directory since the last call, so no path lookup is
   needed); the umask is UMASK.  Main thread.  NULL when out of memory. */
struct bgj_jobenv *bgj_jobenv_new(char *const *envp, mode_t umask, int same_dir);
/* The process's umask, read without changing it (from /proc; 022 when it can not be read).  Main
   thread (it keeps the file open in the shell's table). */
mode_t bgj_umask_read(void);
void bgj_jobenv_free(struct bgj_jobenv *e);
/*
 * A descriptor of E's working directory in the calling thread's table
 * (O_PATH, close-on-exec), made on first use by the job's own worker and
 * closed with E; -1 (E->cwd_errno says why) if it can not be had.
 */
int bgj_jobenv_cwd_fd(struct bgj_jobenv *e);
/* open(2) of PATH in E's working directory (PATH relative) with O_CLOEXEC added, from the job's
   thread.  A descriptor, or -1 with errno. */
int bgj_jobenv_open(struct bgj_jobenv *e, const char *path, int flags, mode_t mode);
/* The value of NAME in E's environment, or NULL. */
const char *bgj_jobenv_get(const struct bgj_jobenv *e, const char *name);

#endif /* BGJ_JOBENV_H */
