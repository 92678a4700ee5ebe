/*
 * clock.c - see clock.h.  No state; any thread.
 */
#include "clock.h"

static double read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double bgj_now(void) { return read_clock(CLOCK_REALTIME); }
double bgj_mono(void) { return read_clock(CLOCK_MONOTONIC); }

struct timespec bgj_timespec(double seconds)
{
    struct timespec ts = {0, 0};
    if (!(seconds > 0))
        return ts;
    if (seconds > 1e9)
        seconds = 1e9;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

struct timespec bgj_mono_deadline(double seconds)
{
    struct timespec ts, add = bgj_timespec(seconds);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += add.tv_sec;
    ts.tv_nsec += add.tv_nsec;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}
