/*
 * info.h - the extra fields a callback attaches to its job (api->set_info),
 * shown by `bgjob show` after the fixed ones.
 *
 * Locking: one process-wide mutex (info_lock) guards every job's list, so a
 * worker may update a field while the main thread prints it.  It is taken
 * alone, never with another lock held, for a copy's duration; fork handlers
 * take it so a child never inherits it held.
 */
#ifndef BGJ_INFO_H
#define BGJ_INFO_H

#include <stddef.h>

struct bgj_info;

/*
 * A growing output buffer shown live (a running command's stdout/stderr):
 * its writer (the I/O thread) changes `buf`, `cap` and `len` only under the
 * info lock (bgj_info_lock), and writes bytes past `len` without it.
 */
struct bgj_outbuf {
    char *buf;
    size_t len, cap;
};
void bgj_info_lock(void);
void bgj_info_unlock(void);

/* Sets KEY to a copy of VALUE in *LIST.  0, or BGJ_EINVAL / BGJ_ENOMEM. */
int bgj_info_set(struct bgj_info **list, const char *key, const char *value);
/* Sets KEY to VALUE itself (malloc'd; owned by the list from now on, also on failure). */
int bgj_info_set_owned(struct bgj_info **list, const char *key, char *value);
/* Sets KEY to show OUT as it is at each look (its bytes up to the first NUL). */
int bgj_info_set_live(struct bgj_info **list, const char *key, const struct bgj_outbuf *out);
/* Sets KEY to show the string *REF (owned elsewhere, e.g. the job's result) followed by NL newlines. */
int bgj_info_set_ref(struct bgj_info **list, const char *key, char *const *ref, unsigned nl);
/*
 * Calls FN(KEY, VALUE, CTX) for each field, in the order first set, on
 * copies made under the lock (FN may call anything).  Returns BGJ_ENOMEM if
 * the copy failed, else 0.
 */
int bgj_info_each(struct bgj_info *const *list, void (*fn)(const char *key, const char *value, void *ctx),
                  void *ctx);
/* A copy of KEY's value, or NULL when KEY is not set (or out of memory). */
char *bgj_info_get(struct bgj_info *const *list, const char *key);
void bgj_info_free(struct bgj_info *list);

#endif /* BGJ_INFO_H */
