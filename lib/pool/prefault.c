/*
 * prefault.c - the pages the main thread's heap grows by are made present in
 * one system call when the heap grows, instead of one page fault each as
 * they are first written.  Retained job records fill the heap page after
 * page, and on a virtual machine a page fault can cost several
 * microseconds: populating the same pages in bulk costs a small fraction of
 * that.  Only pages the heap already spans are populated (what malloc has
 * taken from the system, and would write soon), so memory use grows by at
 * most malloc's own padding of each growth.
 *
 * Main thread only (the thread that makes job records); no lock.  Where the
 * system cannot populate (an older kernel), or the heap does not come from
 * brk (a sanitizer's allocator), it does nothing.
 */
#define _GNU_SOURCE
#include "jobs.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static char *populated; /* the heap is present below this */
static int unsupported;

void bgj_heap_prefault(void)
{
    if (unsupported)
        return;
    char *top = sbrk(0); /* malloc's own record of the break: no system call */
    if (top == (char *)-1)
        return;
    if (!populated || top <= populated) {
        populated = top; /* first look, or the heap shrank */
        return;
    }
    long pagesz = sysconf(_SC_PAGESIZE);
    char *from = (char *)((uintptr_t)populated & ~(uintptr_t)(pagesz - 1));
    if (madvise(from, (size_t)(top - from), MADV_POPULATE_WRITE) != 0)
        unsupported = 1;
    populated = top;
}
