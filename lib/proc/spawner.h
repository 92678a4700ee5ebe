/*
 * spawner.h - starting this shell's spawner process (spawner.c); the
 * messages are in protocol.h.  I/O thread only.
 */
#ifndef BGJ_SPAWNER_H
#define BGJ_SPAWNER_H

/*
 * Starts a spawner.  0 with its socket in *SOCK (close-on-exec) and, when
 * the spawner is this process's child (bgj_spawner_adopts), a pidfd to reap
 * it with in *PIDFD (else -1); or -errno.
 */
int bgj_spawner_start(int *sock, int *pidfd);
/* Non-zero when orphans come back to this process (PID 1, or a child subreaper). */
int bgj_spawner_adopts(void);
/* Reaps the spawner whose pidfd is PIDFD (after it became readable). */
void bgj_spawner_reap(int pidfd);

#endif /* BGJ_SPAWNER_H */
