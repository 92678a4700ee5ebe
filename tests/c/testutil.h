/* testutil.h - helpers shared by the C tests beyond assertions (those are in check.h).  Header only
   (static inline, so a test that uses none of them still builds with -Werror); no state. */
#ifndef BGJ_TESTUTIL_H
#define BGJ_TESTUTIL_H
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * The number of threads of the process (the entries of /proc/self/task), or
 * -1.  Raw system calls: bgjob's I/O thread has a descriptor table of its
 * own, and TSan, which tracks descriptors by number for the whole process,
 * would take this directory's descriptor and the I/O thread's epoll
 * descriptor of the same number for one.
 */
static inline int ntasks(void)
{
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int n = 0;
    char buf[4096] __attribute__((aligned(8)));
    long len;
    while ((len = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < len;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16,
                   sizeof reclen);     /* struct linux_dirent64: d_ino, d_off, d_reclen */
            n += buf[off + 19] != '.'; /* d_type at 18, d_name at 19 */
            off += reclen;
        }
    }
    syscall(SYS_close, fd);
    return len < 0 ? -1 : n;
}
#endif
