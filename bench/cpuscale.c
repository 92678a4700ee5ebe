/*
 * cpuscale.c - the machine's own 2-thread scaling, for `make bench`.
 *
 *   bench/cpuscale ITER
 *
 * Runs the busy loop of examples/bgjob-example.c (ITER rounds of a 64-bit
 * mixer) on one pthread, then on two at once, twice each, and prints
 * `name <TAB> runs <TAB> total_us <TAB> us` rows like bench/sections.sh.
 * bgjob's two-job throughput is compared against this ceiling: on a shared
 * VM another tenant's load lowers both alike.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void *busy(void *arg)
{
    unsigned long long n = *(unsigned long long *)arg;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (unsigned long long i = 0; i < n; i++) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9u;
        x ^= x >> 29;
        x += i;
    }
    sink = x;
    return NULL;
}

static int64_t run(int k, unsigned long long n)
{
    pthread_t t[2];
    int64_t t0 = now_us();
    for (int i = 0; i < k; i++)
        if (pthread_create(&t[i], NULL, busy, &n) != 0)
            exit(1);
    for (int i = 0; i < k; i++)
        pthread_join(t[i], NULL);
    return now_us() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    unsigned long long n = strtoull(argv[1], NULL, 10);
    int64_t one = 0, two = 0;
    for (int r = 0; r < 2; r++) {
        one += run(1, n);
        two += run(2, n);
    }
    printf("c_busy_1thread\t2\t%lld\tus\nc_busy_2threads\t2\t%lld\tus\n", (long long)one, (long long)two);
    return 0;
}
