/* ddr.h -- Discovery of Designated Resolvers (RFC 9462): the _dns.resolver.arpa SVCB answer */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

struct config;
struct pkt_query;

#define DDR_TTL		300	/* of the SVCB records */
#define DDR_TYPE_SVCB	64

/** Whether q's name is _dns.resolver.arpa (any type, any case). */
bool ddr_is_query(const struct pkt_query *q);

/**
 * Answer a query for _dns.resolver.arpa from cfg: for type SVCB one
 * record per dot and doh listener (in config order, SvcPriority 1, 2 ...),
 * target server.resolver-name, with alpn ("dot" / "h2"), port, ipv4hint
 * or ipv6hint when the listener's address is not a wildcard, and dohpath
 * "<path>{?dns}" for DoH (RFC 9461).  Other types, a config without
 * server.resolver-name or without encrypted listeners: NODATA.  The
 * header, flags and OPT record are answer_finish()'s (truncated when over
 * max_answer).  Pure: no I/O, no allocation.
 * \return 0 with *outlen set, -EINVAL (q is not a DDR query), -ENOBUFS.
 */
int ddr_answer(const struct config *cfg, const struct pkt_query *q,
    size_t max_answer, uint8_t *out, size_t cap, size_t *outlen) EG_MUSTCHECK;
