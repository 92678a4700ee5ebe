/*
 * openssl_init.h - how the plugins shipped with bgjob start OpenSSL: without
 * its exit-time cleanup.  Daemon jobs may still be hashing or reading TLS
 * while the shell exits; with the cleanup registered, OpenSSL's state could be
 * freed under them (2 of 30 exiting shells crashed in a test).  Header only,
 * no state.
 */
#ifndef BGJOB_OPENSSL_INIT_H
#define BGJOB_OPENSSL_INIT_H

#include <openssl/crypto.h>

/* 0, or -1 when OpenSSL could not be initialised. */
static inline int pu_openssl_init(void) { return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) ? 0 : -1; }

#endif /* BGJOB_OPENSSL_INIT_H */
