/* tls.h -- the server side of TLS (OpenSSL 3), shared by DoT and DoH */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "resolver/eg.h"

struct tls_cfg;
struct tenant;
struct tenants;

/**
 * The TLS server state: the current SSL_CTX (certificate chain, key,
 * client CA) and the session-ticket keys.  tls_server_reload() swaps in a
 * new SSL_CTX for new connections; open connections keep the one they
 * started with (OpenSSL counts its references).  Workers share one: the
 * current SSL_CTX and the ticket-key ring sit behind a lock, so that a
 * session resumes on whichever worker the client's next connection
 * reaches, and a reload (main thread) swaps the context for all.
 */
struct tls_server;

/** What one listener wants from a handshake. */
struct tls_listener {
	const char *alpn;	/* the protocol spoken there ("dot", "h2") */
	bool require_cert;	/* handshake fails without a valid client cert */
	/** require_cert: the tenants a client certificate must name one of
	 * (the running config's), or NULL: any verified certificate. */
	const struct tenants *(*tenants)(void *arg);
	void *arg;
};

/**
 * Build the server state from cfg (copied paths are not kept: a reload
 * gives the cfg again).  Checks that the key matches the certificate, that
 * the certificate is valid now, and loads the client CA when given.
 * \param err on failure, "server.tls.KEY: PATH: reason"
 * \return 0 with *out set (free with tls_server_free()), -EG_ECONFIG, -ENOMEM.
 */
int tls_server_new(struct tls_server **out, const struct tls_cfg *cfg,
    char *err, size_t errlen) EG_MUSTCHECK;

/**
 * Load cfg's certificate, key and CA again for new connections.  On any
 * error the running context stays and err says why.  Also starts a new
 * ring of ticket keys, so sessions of the old context are not resumed.
 * \return 0, -EG_ECONFIG or -ENOMEM.
 */
int tls_server_reload(struct tls_server *ts, const struct tls_cfg *cfg,
    char *err, size_t errlen) EG_MUSTCHECK;

/**
 * Check cfg as tls_server_new() would, and free what was built (-t and
 * config loading).  \return as tls_server_new().
 */
int tls_server_check(const struct tls_cfg *cfg, char *err, size_t errlen)
    EG_MUSTCHECK;

/**
 * Change how often a new session-ticket key is made (default 3600 s, and
 * then 2 hours); a ticket is accepted until its key is TICKET_KEYS (3)
 * periods old.  For tests; sessions themselves last 2 hours.
 */
void tls_server_set_ticket_rotation(struct tls_server *ts, unsigned seconds);

/**
 * A new server-side SSL for one accepted connection.  l must outlive it
 * (it is the listener's).  With a client CA, a client certificate is
 * asked for; when l->require_cert, the handshake fails (alert) without a
 * certificate that verifies, is valid now and names one of l->tenants.  \return the SSL (the caller, or the
 * bufferevent it is given to, frees it) or NULL.
 */
SSL *tls_server_ssl_new(struct tls_server *ts, const struct tls_listener *l);

/**
 * The tenant the client certificate of an established connection names:
 * the one whose certificate-identity equals a SAN DNS name or SAN URI of
 * the certificate or, only when it has neither, its subject CN.  NULL
 * when there is no certificate, when it did not verify against the client
 * CA, or when it is not valid now (a resumed session is checked again).
 */
const struct tenant *tls_peer_tenant(SSL *ssl, const struct tenants *t);

/** The protocol negotiated with ALPN, for logs ("" when none). */
void tls_alpn(SSL *ssl, char *out, size_t outlen);

void tls_server_free(struct tls_server *ts);
