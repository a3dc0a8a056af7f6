/* tls_bev.h -- TLS connections on the event loop: an OpenSSL filter over a socket bufferevent, shared by DoT and DoH */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <openssl/ssl.h>

/**
 * The server side of a TLS connection on an accepted socket: a
 * bufferevent_openssl in filter mode over a socket bufferevent, the
 * handshake started (BEV_EVENT_CONNECTED when it is done).  Takes fd and
 * ssl in every case: on failure both are closed and NULL is returned.
 */
struct bufferevent *tls_bev_new(struct event_base *base, int fd, SSL *ssl);

/**
 * Timeouts, as bufferevent_set_timeouts() (NULL: none): reading on the
 * TLS bufferevent (nothing decrypted for that long), writing on the
 * socket underneath (records waiting for the peer to read for that
 * long).  The TLS bufferevent's own write timeout would run after every
 * write, pending output or not.
 */
void tls_bev_set_timeouts(struct bufferevent *bev, const struct timeval *rd,
    const struct timeval *wr);

/** Bytes the connection has still to send: cleartext not yet encrypted
 * and records not yet handed to the kernel. */
size_t tls_bev_pending(struct bufferevent *bev);

/** Connections closing with records still to send, one set per event
 * loop: the loop's owner waits for it to empty before it stops. */
struct tls_linger_set {
	LIST_HEAD(, tls_linger) head;
};

void tls_linger_init(struct tls_linger_set *s);

/** No connection is closing. */
bool tls_linger_idle(const struct tls_linger_set *s);

/** Close the closing connections now (the event loop is going). */
void tls_linger_clear(struct tls_linger_set *s);

/**
 * Close: with close_notify set, the TLS close_notify alert follows what
 * was encrypted so far (cleartext not yet encrypted is dropped).  The
 * socket stays open until the records already made are handed to the
 * kernel, the peer goes, or TLS_BEV_LINGER_MS pass (it is in set s
 * meanwhile); what the peer sends then is read and discarded.  The
 * caller's callbacks are never called again.
 */
void tls_bev_free(struct bufferevent *bev, bool close_notify,
    struct tls_linger_set *s);
