/* do53.h -- plain DNS over UDP and TCP (RFC 1035, RFC 7766): bytes to queries */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "resolver/eg.h"

struct config;
struct do53;
struct worker;

/**
 * Bind UDP and TCP sockets on every `dns` listener of cfg and attach them
 * to w's event base; accepted TCP connections are served by w->streams,
 * which must exist.  \return 0, or a negative code with err naming the
 * address.
 */
int do53_new(struct do53 **out, struct worker *w, const struct config *cfg,
    char *err, size_t errlen) EG_MUSTCHECK;

/** Stop reading UDP and accepting TCP (w->streams stops the open
 * connections). */
void do53_stop(struct do53 *d);

void do53_free(struct do53 *d);
