/* testutil.h - helpers shared by the C tests beyond assertions (those are in check.h).  Header only
   (static inline, so a test that uses none of them still builds with -Werror); no state. */
#ifndef BGJ_TESTUTIL_H
#define BGJ_TESTUTIL_H
#include <dirent.h>

/* The number of threads of the process (the entries of /proc/self/task), or -1. */
static inline int ntasks(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}
#endif
