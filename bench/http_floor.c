/* http_floor.c - the least a client can do for the fetch benchmark's GETs:
 * N keep-alive HTTP/1.1 connections over raw sockets, one request in flight
 * on each, the next sent as soon as a response's last byte arrives.  No URL
 * parsing, no header list, no TLS layer, no callbacks, no copy of the body:
 * what is left is the server's own time and the kernel's.  If this client is
 * not 1.2x faster than `curl --parallel' against a server, no client is, and
 * the server is the benchmark's limit.
 *
 *   http_floor PORT COUNT CONNS      GETs /text/2048/I, I = 0..COUNT-1, on
 *                                    127.0.0.1:PORT, CONNS connections
 *
 * Exits 1 (with a message) on any error, a short read or a status other than
 * 200; prints nothing otherwise.  A benchmark helper, single-threaded. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    int fd;
    char buf[8192];
    size_t have;    /* bytes in buf */
    long body_left; /* -1 while the header is incomplete */
    int busy;       /* a request is in flight */
};

static void die(const char *what)
{
    fprintf(stderr, "http_floor: %s: %s\n", what, errno ? strerror(errno) : "bad response");
    exit(1);
}

static void send_get(struct conn *c, int i)
{
    char req[128];
    int n = snprintf(req, sizeof req, "GET /text/2048/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", i);
    if (write(c->fd, req, (size_t)n) != n)
        die("write");
    c->have = 0;
    c->body_left = -1;
    c->busy = 1;
}

/* Consumes what arrived; returns 1 once the response is complete. */
static int take(struct conn *c)
{
    ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
    if (r <= 0) {
        if (r == 0)
            errno = 0;
        die("read");
    }
    if (c->body_left >= 0) {
        c->body_left -= r;
        c->have = 0;
        return c->body_left <= 0;
    }
    c->have += (size_t)r;
    c->buf[c->have < sizeof c->buf ? c->have : sizeof c->buf - 1] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end) {
        if (c->have >= sizeof c->buf - 1) {
            errno = 0;
            die("header too long");
        }
        return 0;
    }
    errno = 0;
    if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0)
        die("status");
    char *cl = strcasestr(c->buf, "\r\nContent-Length:");
    if (!cl || cl > end)
        die("no Content-Length");
    long len = strtol(cl + 17, NULL, 10);
    size_t head = (size_t)(end + 4 - c->buf);
    c->body_left = len - (long)(c->have - head);
    c->have = 0;
    return c->body_left <= 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: http_floor PORT COUNT CONNS\n");
        return 2;
    }
    int port = atoi(argv[1]), count = atoi(argv[2]), nc = atoi(argv[3]);
    if (port <= 0 || count <= 0 || nc <= 0 || nc > 256) {
        fprintf(stderr, "http_floor: bad arguments\n");
        return 2;
    }
    struct conn *cs = calloc((size_t)nc, sizeof *cs);
    struct pollfd *pf = calloc((size_t)nc, sizeof *pf);
    if (!cs || !pf)
        die("calloc");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int next = 0, done = 0;
    for (int k = 0; k < nc; k++)
        cs[k].fd = -1;
    for (int k = 0; k < nc && next < count; k++) {
        int one = 1;
        cs[k].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (cs[k].fd < 0 || connect(cs[k].fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("connect");
        setsockopt(cs[k].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        send_get(&cs[k], next++);
    }
    while (done < count) {
        for (int k = 0; k < nc; k++)
            pf[k] = (struct pollfd){.fd = cs[k].busy ? cs[k].fd : -1, .events = POLLIN};
        if (poll(pf, (nfds_t)nc, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (int k = 0; k < nc; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)) || !take(&cs[k]))
                continue;
            done++;
            cs[k].busy = 0;
            if (next < count)
                send_get(&cs[k], next++);
        }
    }
    for (int k = 0; k < nc; k++)
        if (cs[k].fd >= 0)
            close(cs[k].fd);
    free(cs);
    free(pf);
    return 0;
}
