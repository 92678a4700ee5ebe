/*
 * heapstat.c - a bash loadable builtin for the memory checks of the stress
 * scenarios (tests/stress/limits.bash), not part of bgjob:
 *
 *   heapstat    sets REPLY to the bytes of heap the process has allocated
 *               and not freed (glibc's mallinfo2: arenas plus mmap'd blocks),
 *               in kB.
 *
 * Unlike resident memory, this does not depend on how many malloc arenas
 * the threads made or on which free pages glibc kept, so a leak of a few
 * bytes a job shows after a flush of 100,000 jobs.  Main thread only.
 */
#include "config.h"

#include <malloc.h>
#include <stdio.h>

#include "builtins.h"
#include "shell.h"
#include "common.h"

static int heapstat_builtin(WORD_LIST *list)
{
    if (list) {
        builtin_usage();
        return EX_USAGE;
    }
    struct mallinfo2 mi = mallinfo2();
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", (mi.uordblks + mi.hblkhd) / 1024);
    if (!bind_variable("REPLY", buf, 0))
        return EXECUTION_FAILURE;
    return EXECUTION_SUCCESS;
}

static char *heapstat_doc[] = {"Set REPLY to the heap bytes in use, in kB (glibc's mallinfo2).", NULL};

__attribute__((visibility("default"))) struct builtin heapstat_struct = {
    "heapstat", heapstat_builtin, BUILTIN_ENABLED, heapstat_doc, "heapstat", 0};
