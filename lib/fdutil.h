/*
 * fdutil.h - the one helper for descriptors bgjob keeps in the shell's own
 * table, and the eventfd doorbell.
 *
 * bgjob keeps very few descriptors in the shell's table (the completion and
 * loop eventfds, made on the main thread before any bgjob thread splits off
 * its own table): each is moved to BGJ_HIGH_FD or above, out of the way of a
 * script's redirections and of the low numbers bash opens and closes.
 * No state; any thread.
 */
#ifndef BGJ_FDUTIL_H
#define BGJ_FDUTIL_H

#define BGJ_HIGH_FD 230

/*
 * Moves FD to BGJ_HIGH_FD or above (close-on-exec) and returns the new
 * number; FD itself when no high number is free; -1 for FD < 0 or when FD is
 * no longer open.
 */
int bgj_fd_high(int fd);
/* A non-blocking close-on-exec eventfd above BGJ_HIGH_FD, or -1. */
int bgj_efd_new(void);
/* Adds one to the eventfd FD (ignores a full counter). */
void bgj_efd_post(int fd);
/* Empties the eventfd FD. */
void bgj_efd_drain(int fd);
/* Closes *FD if open and sets it to -1. */
void bgj_fd_close(int *fd);

#endif /* BGJ_FDUTIL_H */
