/* doh.h -- DNS-over-HTTPS listeners (RFC 8484): HTTP/2 over TLS with nghttp2 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "resolver/eg.h"

struct config;
struct doh;
struct tls_server;
struct worker;

/**
 * Bind a TCP socket on every `doh` listener of cfg and attach it to w's
 * event base.  Accepted connections handshake with tls (ALPN h2; tls must
 * outlive the listeners and is NULL only when cfg has no doh listener)
 * and then speak HTTP/2: GET ?dns= and POST application/dns-message on
 * the listener's path (and <path>/<token> for tenants with a doh-token),
 * JSON on GET ?name=&type= with application/dns-json.  Caps: total
 * connections server.tcp-max-connections and per client address
 * server.max-connections-per-client (counted among DoH connections of
 * this worker), server.doh-max-streams concurrent streams, and the
 * DOH_* limits of doh.c.
 * \return 0 with *out set (NULL-safe doh_free()), or a negative code with
 * err naming the address.  Worker thread.
 */
int doh_new(struct doh **out, struct worker *w, struct tls_server *tls,
    const struct config *cfg, char *err, size_t errlen) EG_MUSTCHECK;

/** Stop accepting; open connections get GOAWAY and close once their
 * answers are written. */
void doh_stop(struct doh *d);

/** True when no DoH connection is open (draining is done). */
bool doh_idle(const struct doh *d);

/** Close every connection (queries in flight lose their way back) and
 * free.  doh_free(NULL) is a no-op. */
void doh_free(struct doh *d);
