/* zone.h -- internal (split-horizon) zones: zone files loaded once, answered from memory */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

struct pkt_query;
struct zone;
struct zone_set;

#define ZONE_MAX_ZONES		1024		/* zones in one zone set */
#define ZONE_MAX_RECORDS	250000		/* records in one zone file */
#define ZONE_MAX_FILE_BYTES	(32u << 20)	/* size of one zone file */
#define ZONE_MAX_TENANTS	1024		/* tenants one zone is limited to */
#define ZONE_MAX_CHAIN		16		/* CNAMEs followed inside a zone */

/** Why a zone could not be loaded: a line of the zone file (0: the file
 * as a whole) and a reason without the file name. */
struct zone_error {
	int line;
	char msg[256];
};

/**
 * An empty zone set.  \return 0 with *out set (free with zone_set_free()),
 * or -ENOMEM with *out untouched.
 */
int zone_set_new(struct zone_set **out) EG_MUSTCHECK;

/** Free a zone set and its zones; NULL is a no-op.  No query may still
 * hold a zone of it. */
void zone_set_free(struct zone_set *zs);

/**
 * Load a zone file with ldns and add it to the set.  Records are checked
 * (class IN, owner inside the zone, one SOA at the apex, CNAME alone at
 * its name, limits above) and turned into wire-format RRsets, so that
 * answering needs no parsing and no allocation.  RRSIG, NSEC and NSEC3
 * records are skipped: internal answers are never signed.  $INCLUDE is
 * refused.
 * \param name the zone's apex in presentation form ("corp.example")
 * \param path the zone file (read now, not kept open)
 * \param tenants indexes of the tenants that see the zone (copied);
 *        n_tenants 0: every tenant
 * \param err on failure, the reason (and for -EG_ECONFIG the line of the
 *        zone file, 0 for the file as a whole)
 * \return 0; -EG_ECONFIG: the zone file cannot be read or is wrong;
 * -EINVAL: name is not a domain name, is the root, or too many tenants;
 * -EEXIST: a zone of that name is already in the set for one of these
 * tenants; -E2BIG: ZONE_MAX_ZONES reached; -ENOMEM.  err is set in every
 * case; on failure the set is unchanged.
 */
int zone_set_load(struct zone_set *zs, const char *name, const char *path,
    const uint32_t *tenants, size_t n_tenants, struct zone_error *err) EG_MUSTCHECK;

/** Number of zones in the set. */
size_t zone_set_count(const struct zone_set *zs);

/**
 * The deepest zone that contains qname and that the tenant sees, or NULL
 * (then the name is not internal for this tenant and is resolved as
 * usual).  Case-insensitive; does not allocate; any thread may call it
 * on a set no longer being loaded.
 * \param zs the set, may be NULL (no zones)
 * \param qname_wire an uncompressed wire name (as in struct pkt_query)
 * \param tenant_index the tenant's index into config->tenants.v
 */
const struct zone *zone_set_find(const struct zone_set *zs,
    const uint8_t *qname_wire, uint32_t tenant_index);

/**
 * The complete answer to q from zone z, which must contain q->qname (as
 * zone_set_find() returned it): AA set; the RRset asked for; wildcards
 * synthesized as RFC 4592 says (empty non-terminals block them); CNAMEs
 * followed while their targets stay inside z (at most ZONE_MAX_CHAIN; a
 * target outside z ends the answer with that CNAME, a loop ends it at the
 * repeat); NXDOMAIN or NODATA with z's SOA in the authority section, TTL
 * min(SOA TTL, SOA minimum) (RFC 2308); qtype ANY answered with every
 * RRset at the name (clients are tenants only; RFC 8482 allows either).
 * NS records below the apex are data, not delegations.  ID, flags, EDNS
 * and truncation are those of recursive answers (answer_finish()).
 * \param max_answer the largest answer the client takes (UDP size)
 * \param out buffer of cap bytes; \param outlen set on success
 * \return 0, or -ENOBUFS when not even a truncated answer fits in cap,
 * -EINVAL when q's name is not in z.  Does not allocate.
 */
int zone_answer(const struct zone *z, const struct pkt_query *q,
    size_t max_answer, uint8_t *out, size_t cap, size_t *outlen) EG_MUSTCHECK;

/** The zone's apex in presentation form, without the trailing dot (for
 * the audit log).  Valid as long as the set. */
const char *zone_name(const struct zone *z);

/**
 * Whether an address is in the A (family AF_INET, 4 bytes) or AAAA
 * (AF_INET6, 16 bytes) data of any zone of the set, whatever its
 * tenants: rebinding protection treats such an address in an external
 * answer as internal.  zs may be NULL.  Does not allocate.
 */
bool zone_set_holds_addr(const struct zone_set *zs, int family,
    const uint8_t *addr);
