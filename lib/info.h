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

struct bgj_info;

/* Sets KEY to a copy of VALUE in *LIST.  0, or BGJ_EINVAL / BGJ_ENOMEM. */
int bgj_info_set(struct bgj_info **list, const char *key, const char *value);
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
