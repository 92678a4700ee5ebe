/*
 * clock.h - the clocks of bgjob: wall-clock times shown to the user, and the
 * monotonic clock every wait, deadline and timeout is measured on.
 * No state; any thread.
 */
#ifndef BGJ_CLOCK_H
#define BGJ_CLOCK_H

#include <time.h>

/* CLOCK_REALTIME in seconds (times shown by `bgjob show`). */
double bgj_now(void);
/* CLOCK_MONOTONIC in seconds. */
double bgj_mono(void);
/* The CLOCK_MONOTONIC time SECONDS from now (capped at 1e9 s), for timed waits. */
struct timespec bgj_mono_deadline(double seconds);
/* SECONDS (>= 0) as a relative timespec. */
struct timespec bgj_timespec(double seconds);

#endif /* BGJ_CLOCK_H */
