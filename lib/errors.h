/*
 * errors.h - the one error convention of lib/.
 *
 * Every function of lib/ that can fail returns an int: 0 (BGJ_OK) on
 * success, or one of the negative BGJ_E* codes below.  A function that
 * returns a pointer returns NULL only when memory runs out.  When a failure
 * needs more words than its code (the name that was bad, the message bash
 * would print), the function takes a `struct bgj_err *` (which may be NULL)
 * and fills it with bgj_err_set; the caller prints bgj_err_text and calls
 * bgj_err_clear.  bgj_strerror gives the fixed wording of each code, which
 * the builtin uses after "job N " for the job-related codes, so each error
 * is worded once.
 *
 * No globals; any thread.
 */
#ifndef BGJ_ERRORS_H
#define BGJ_ERRORS_H

#define BGJ_ERRNO_MAP(X)                                                                                     \
    X(ENOMEM, "out of memory")                                                                               \
    X(ENOJOB, "not found")                                                                                   \
    X(EQUEUED, "is still queued")                                                                            \
    X(ERUNNING, "is still running")                                                                          \
    X(EFINISHED, "has already finished")                                                                     \
    X(EPARENT, "belongs to the parent shell (it was unfinished when this subshell was forked)")              \
    X(EDEAD, "died")                                                                                         \
    X(EFULL, "the queue is full")                                                                            \
    X(ETHREAD, "could not start a worker thread")                                                            \
    X(EUSAGE, "usage error")                                                                                 \
    X(EINVAL, "invalid argument")                                                                            \
    X(ENOTFOUND, "not found")                                                                                \
    X(EEXIST, "already exists")                                                                              \
    X(EPLUGIN, "not a usable bgjob plugin")                                                                  \
    X(ESYNTAX, "syntax error")                                                                               \
    X(EEVAL, "evaluation failed")                                                                            \
    X(ESPAWN, "could not start the command")                                                                 \
    X(ENOEXEC, "not executable")                                                                             \
    X(ECANCELLED, "cancelled")                                                                               \
    X(ETIMEDOUT, "timed out")                                                                                \
    X(ESYS, "system error")                                                                                  \
    X(EBLOCKED, "is still blocked (it waits for the jobs it depends on)")                                    \
    X(ENEEDED, "is needed by a blocked job (see `bgjob status')")

enum bgj_errno {
    BGJ_OK = 0,
    BGJ__EFIRST = -100,
#define BGJ_ERR_ENUM(name, text) BGJ_##name,
    BGJ_ERRNO_MAP(BGJ_ERR_ENUM)
#undef BGJ_ERR_ENUM
        BGJ__ELAST
};

/* The fixed text of CODE ("unknown error" for anything else). */
const char *bgj_strerror(int code);

/* Details of a failure.  Zero-initialise; bgj_err_clear frees the text. */
struct bgj_err {
    int code;
    char *msg; /* malloc'd, or NULL: then the text is bgj_strerror(code) */
};

/*
 * Records CODE with a message formatted from FMT (FMT may be NULL: the code's
 * own text) in E, which may be NULL.  Returns CODE, so a failing function can
 * `return bgj_err_set(err, BGJ_EINVAL, "...", ...);`.
 */
int bgj_err_set(struct bgj_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, but E takes ownership of the malloc'd MSG (NULL allowed). */
int bgj_err_take(struct bgj_err *e, int code, char *msg);
/* The message of E: its own text, or the code's. */
const char *bgj_err_text(const struct bgj_err *e);
void bgj_err_clear(struct bgj_err *e);

#endif /* BGJ_ERRORS_H */
