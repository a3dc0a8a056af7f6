/* dot.h -- DNS-over-TLS listeners (RFC 7858): TLS connections to the stream layer */
#pragma once

#include <stddef.h>

#include "resolver/eg.h"

struct config;
struct dot;
struct tls_server;
struct worker;

/**
 * Bind a TCP socket on every `dot` listener of cfg and attach it to w's
 * event base; accepted connections handshake with tls (which must outlive
 * the listeners; NULL only when cfg has no dot listener) and are then
 * served by w->streams.
 * \return 0 with *out set (NULL-safe dot_free()), or a negative code with
 * err naming the address.
 */
int dot_new(struct dot **out, struct worker *w, struct tls_server *tls,
    const struct config *cfg, char *err, size_t errlen) EG_MUSTCHECK;

/** Stop accepting connections (w->streams stops the open ones). */
void dot_stop(struct dot *d);

void dot_free(struct dot *d);
