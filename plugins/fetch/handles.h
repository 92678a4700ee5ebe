/*
 * handles.h - the libcurl handles the fetch jobs of a process reuse
 * (handles.c): each job borrows a multi handle with its easy handle, so the
 * connections a finished job left open serve the next job, and every handle
 * shares one cache of DNS answers and TLS sessions.
 */
#ifndef FETCH_HANDLES_H
#define FETCH_HANDLES_H

#include <curl/curl.h>

struct fetch_handle {
    CURLM *m; /* its own connection cache: only the borrowing job uses it */
    CURL *h;  /* options reset; the share (DNS, TLS sessions) attached */
    struct fetch_handle *next;
    char origin[128]; /* scheme://host:port of its latest URL, a hint for the next borrower */
};

/* A handle for URL: an idle one (preferring one that last spoke to URL's
   origin) or a new one.  NULL when out of memory. */
struct fetch_handle *fetch_handle_get(const char *url);

/* Gives FH back once its easy handle is out of the multi handle.  REUSE 0
   (a cancelled transfer) closes it and its connections. */
void fetch_handle_put(struct fetch_handle *fh, int reuse);

#endif
