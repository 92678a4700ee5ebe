/*
 * loop.h - bgjob's I/O thread: the one thread that owns bgjob's descriptors
 * and creates every other bgjob thread.
 *
 * Why.  bash closes a pipeline's descriptor numbers twice in the shell
 * process (close(4) = 0, then close(4) = -1 EBADF right after forking the
 * members), so any descriptor a bgjob thread held at a low number in the
 * shell's table could be closed under it.  The I/O thread therefore takes a
 * descriptor table of its own (unshare(CLONE_FILES)) before it opens
 * anything: its 0, 1 and 2 are /dev/null, and of the shell's descriptors it
 * keeps only the ones made before the split (the pool's completion eventfd
 * and the loop's doorbell, both above BGJ_HIGH_FD).  Every worker is created
 * from this thread and shares that table: a callback's files and sockets, a
 * command's pipes and the spawner's socket all live there, out of bash's
 * reach, and a fork of the shell copies none of them.
 *
 * What it does.  It waits in epoll for the doorbell (other threads post work
 * there: threads to start, cancellations to deliver, commands to start) and
 * for the descriptors the modules watch (the spawner's socket, command
 * pipes).  Between events it sleeps until the earliest deadline a module
 * asks for (a kill grace).  Nothing polls.
 *
 * Started lazily by the first job (bgj_loop_start), and again in a forked
 * child that needs it.  Locking: loop_lock guards the start and the hook
 * table; it is held for a few instructions, never across a blocking call, and
 * the fork handlers leave the child with it free.
 */
#ifndef BGJ_LOOP_H
#define BGJ_LOOP_H

#include <stdint.h>

struct bgj_watch;
typedef void (*bgj_watch_fn)(struct bgj_watch *w, uint32_t events);
/* A descriptor the loop watches; embed it in the owner's struct. */
struct bgj_watch {
    int fd;
    bgj_watch_fn fn;
};

/* Starts the I/O thread if it is not running (any thread).  0, or BGJ_ETHREAD / BGJ_ESYS. */
int bgj_loop_start(void);
/* Rings the doorbell: the loop runs every wake hook soon (any thread, never blocks). */
void bgj_loop_wake(void);
/* Non-zero on a thread that works in bgjob's own descriptor table (the I/O thread, a worker). */
int bgj_loop_here(void);
/* For a thread the loop created: marks it as working in bgjob's table. */
void bgj_loop_enter_thread(void);

/*
 * Module hooks, registered once (main thread, at set-up): WAKE runs on the
 * loop thread on every doorbell; TICK(NOW) runs after every round and
 * returns the next monotonic deadline it needs a round at, or 0.
 */
void bgj_loop_hook(void (*wake)(void), double (*tick)(double now));

/* Loop thread only: watch W->fd for EVENTS (EPOLLIN...), change them, stop. 0 or -errno. */
int bgj_loop_watch(struct bgj_watch *w, uint32_t events);
int bgj_loop_rewatch(struct bgj_watch *w, uint32_t events);
void bgj_loop_unwatch(struct bgj_watch *w);

/*
 * Starts a detached bgjob thread running FN(ARG) with every signal blocked.
 * 0 or an errno value.  A thread started from the loop thread or a worker
 * shares bgjob's table.
 */
int bgj_thread_start(void *(*fn)(void *), void *arg, const char *name);

/* The fork child's reset (pool.c's fork handler calls it): no loop, a new doorbell. */
void bgj_loop_fork_child(void);
/* Stats for tests: 1 while the I/O thread runs. */
int bgj_loop_running(void);

#endif /* BGJ_LOOP_H */
