/*
 * fdutil.c - see fdutil.h.  No state.
 */
#define _GNU_SOURCE
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int bgj_fd_high(int fd)
{
    if (fd < 0 || fd >= BGJ_HIGH_FD)
        return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, BGJ_HIGH_FD);
    if (h < 0)
        return errno == EBADF ? -1 : fd;
    close(fd);
    return h;
}

int bgj_efd_new(void) { return bgj_fd_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)); }

void bgj_efd_post(int fd)
{
    uint64_t one = 1;
    ssize_t r = write(fd, &one, sizeof one);
    (void)r;
}

void bgj_efd_drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) > 0)
        ;
}

void bgj_fd_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}
