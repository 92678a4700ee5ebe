/*
 * slow_writer.c - a command for bench/runtime_bench.sh: writes BYTES
 * printable bytes to stdout in CHUNK-byte writes, paced so that the whole
 * takes about SECONDS (0: as fast as the reader takes them).  Chunk i is
 * written at start + SECONDS * i / chunks (clock_nanosleep to an absolute
 * time), so a slow reader does not stretch the run further.
 *
 *   slow_writer BYTES CHUNK SECONDS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: slow_writer BYTES CHUNK SECONDS\n");
        return 2;
    }
    long long bytes = atoll(argv[1]);
    long chunk = atol(argv[2]);
    double seconds = atof(argv[3]);
    if (bytes < 0 || chunk <= 0 || seconds < 0) {
        fprintf(stderr, "slow_writer: bad arguments\n");
        return 2;
    }
    char *buf = malloc((size_t)chunk);
    if (!buf)
        return 1;
    /* printable, newline every 64 bytes: what a text-producing command gives */
    for (long i = 0; i < chunk; i++)
        buf[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    long long chunks = (bytes + chunk - 1) / chunk;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long long done = 0;
    for (long long i = 0; done < bytes; i++) {
        if (seconds > 0 && i > 0) {
            double at = seconds * (double)i / (double)chunks;
            struct timespec t = t0;
            t.tv_sec += (time_t)at;
            t.tv_nsec += (long)((at - (double)(time_t)at) * 1e9);
            if (t.tv_nsec >= 1000000000L) {
                t.tv_sec++;
                t.tv_nsec -= 1000000000L;
            }
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
                ;
        }
        long n = bytes - done < chunk ? (long)(bytes - done) : chunk;
        for (long off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return 1;
            }
            off += w;
        }
        done += n;
    }
    return 0;
}
