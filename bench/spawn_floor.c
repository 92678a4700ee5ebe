/*
 * spawn_floor.c - the floor for running a command and capturing its output
 * from C: posix_spawn with stdout on a pipe, read to EOF, waitpid, in a loop.
 *
 *   spawn_floor N CMD [ARG...]   prints the microseconds per command
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spawn_floor N CMD [ARG...]\n");
        return 2;
    }
    long n = atol(argv[1]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            return 1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        pid_t pid;
        if (posix_spawnp(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0)
            return 1;
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        char buf[4096];
        while (read(p[0], buf, sizeof buf) > 0)
            ;
        close(p[0]);
        int st;
        waitpid(pid, &st, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / (double)n;
    printf("%.1f\n", us);
    return 0;
}
