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
 * to w's event base.  \return 0, or a negative code with err naming the
 * address.
 */
int do53_new(struct do53 **out, struct worker *w, const struct config *cfg,
    char *err, size_t errlen) EG_MUSTCHECK;

/** Stop reading new queries; open TCP connections close once their
 * answers are written. */
void do53_stop(struct do53 *d);

/** True when no TCP connection is open. */
bool do53_idle(const struct do53 *d);

void do53_free(struct do53 *d);
