/* stream.h -- DNS over a byte stream (RFC 7766 framing), shared by Do53/TCP and DoT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "resolver/eg.h"
#include "resolver/query.h"

struct bufferevent;
struct evconnlistener;
struct config;
struct listen_cfg;
struct stream_conn;
struct stream_hub;
struct tenant;
struct worker;

/**
 * What a transport adds to the stream connection: its name in the query,
 * and for TLS the checks once the handshake is done.
 */
struct stream_proto {
	enum transport transport;
	bool tls;		/* bev is a bufferevent_openssl, still accepting */
	/** TLS: the handshake finished.  \return 0 to serve, negative to
	 * close (ALPN or certificate refused). */
	int (*ready)(struct stream_conn *c, void *arg);
	/** TLS: the tenant the connection's credentials name for cfg, or
	 * NULL; asked after ready() and again when the worker's config
	 * changes (reload). */
	const struct tenant *(*identify)(struct stream_conn *c,
	    const struct config *cfg, void *arg);
	void *arg;
	bool pad;		/* encrypted: pad answers to padded queries (RFC 8467) */
};

/**
 * All stream connections of one worker, whatever their transport, under
 * one cap on the total (server.tcp-max-connections) and one per client
 * address (server.max-connections-per-client).  At a cap, the least
 * recently active connection without queries in flight closes to make
 * room (of that client, for the per-client cap).
 * \return 0 or -ENOMEM.
 */
int stream_hub_new(struct stream_hub **out, struct worker *w) EG_MUSTCHECK;

/** Stop reading: idle connections close now, the others once their
 * answers are written. */
void stream_hub_stop(struct stream_hub *h);

/** True when no connection is open. */
bool stream_hub_idle(const struct stream_hub *h);

/** Close every connection (their queries lose their way back) and free. */
void stream_hub_free(struct stream_hub *h);

/**
 * Make room for one more connection from peer.  \return 0, or -EBUSY when
 * a cap is reached and every candidate for eviction is busy.
 */
int stream_admit(struct stream_hub *h, const struct sockaddr *peer);

/**
 * Serve DNS messages on bev, an accepted connection (the hub takes bev
 * and frees it, also on failure).  p must outlive the connection.
 * Call stream_admit() first.  \return 0 or -ENOMEM.
 */
/** Answers go out as soon as they are written: each is a whole message
 * the client waits for, and Nagle's algorithm would hold one back for a
 * delayed ACK (~40 ms) whenever an earlier one is unacknowledged. */
void stream_socket_nodelay(int fd);

int stream_conn_new(struct stream_hub *h, struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct stream_proto *p) EG_MUSTCHECK;

/** The connection's bufferevent (for TLS: its SSL). */
struct bufferevent *stream_conn_bev(struct stream_conn *c);

/** The client's address, for messages. */
const struct sockaddr *stream_conn_peer(const struct stream_conn *c);

/**
 * Open a listening TCP socket for l (non-blocking, close-on-exec).
 * \return the fd, or -1 with err "FILE:LINE: server.listen: ADDR (tcp): why".
 */
int stream_listen_socket(const char *file, const struct listen_cfg *l,
    char *err, size_t errlen);

/**
 * A listener's accept() failed (its error callback, errno still set).
 * Out of file descriptors or memory, the listener pauses until a
 * connection closes or a second has passed (libevent would otherwise
 * call again at once, forever); other errors are only logged.
 */
void stream_accept_error(struct stream_hub *h, struct evconnlistener *l);

/** "ADDR#PORT" of a socket address, for logs. */
void stream_addr_text(const struct sockaddr *sa, char *out, size_t outlen);
