/*
 * protocol.h - the messages between the I/O thread (ioproc.c) and this
 * shell's spawner process (spawner.c), over one SOCK_SEQPACKET socket: one
 * message a datagram, never split or merged.
 *
 * Shell -> spawner:
 *   START  struct sp_start, then the blob (the path, argc argv strings, envc
 *          environment strings, each NUL-terminated), inline or, when large,
 *          in a memfd; SCM_RIGHTS: stdin, stdout, stderr, [cwd], [memfd].
 * Spawner -> shell (struct sp_reply):
 *   HELLO   value = the spawner's pid, first thing it sends
 *   STARTED id, value = the program's pid (its process group)
 *   FAILED  id, value = errno (exec or clone failed; nothing runs), status =
 *           1 when it was entering the directory that failed
 *   EXIT    id, status = the wait status, with the program's rusage
 *   BYE     (only when the shell is PID 1 or a subreaper) the spawner has no
 *           program left and nothing unread, and exits now; a START that
 *           crossed it was never read and goes to the next spawner
 * Killing is not a message: the I/O thread signals a command's process group
 * itself (the group id stays reserved while any member lives), so a stopped
 * spawner can not delay a kill.  When the socket closes the spawner sends
 * SIGTERM to every group it started, SIGKILL after the longest grace, and
 * exits; when the spawner dies the I/O thread sees EOF.
 */
#ifndef BGJ_PROTOCOL_H
#define BGJ_PROTOCOL_H

#include <stdint.h>

#define SP_MAGIC      0x62676a33u
#define SP_INLINE_MAX 60000 /* larger blobs go through a memfd */
#define SP_F_CWD      1u    /* a cwd descriptor follows stdin, stdout, stderr */
#define SP_F_MEMFD    2u    /* the blob is in a memfd (the last descriptor) */

enum { SP_START = 1 };
enum { SP_HELLO = 1, SP_STARTED = 2, SP_FAILED = 3, SP_EXIT = 4, SP_BYE = 5 };

#define SP_NRLIM 16 /* resource limits passed with each command (Linux has 16) */

struct sp_start {
    uint32_t magic, type, flags, umask, set_umask, argc, envc, nrlim;
    uint64_t id, blob_len, grace_ms;
    /* the shell's resource limits when the command is handed to the spawner: the command takes
       them before its exec (and the spawner RLIMIT_NPROC, for its clone), so that a `ulimit` in
       the shell after the spawner started reaches the commands */
    struct {
        uint64_t cur, max;
    } rlim[SP_NRLIM];
};

struct sp_reply {
    uint32_t type;
    int32_t value;
    uint64_t id;
    int32_t status, pad;
    int64_t maxrss_kb, utime_us, stime_us;
};

#endif /* BGJ_PROTOCOL_H */
