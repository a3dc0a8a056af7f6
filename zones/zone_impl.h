/* zone_impl.h -- the in-memory layout of internal zones, shared by the zones/ sources only
 *
 * A zone is read-only after zone_set_load(): sorted arrays and one blob of
 * bytes, so any number of threads answer from it without locks and
 * without allocating.
 *
 * Names are kept twice in the blob: as lowercased wire form (for writing
 * answers) and as a lookup key, the labels in reverse order each with its
 * length byte ("www.alpha.com." -> \3com\5alpha\3www, the root is the
 * empty key).  Keys compare with memcmp (shorter first on a common
 * prefix), which puts a name right before everything below it and makes
 * every subtree one contiguous run: "is X or an ancestor of X a node" is a
 * binary search per label, and empty non-terminals can be found in one
 * pass over the sorted owners.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/zone.h"

#define ZONE_KEY_MAX	255	/* a key is as long as the wire name minus 1 */

/** One RRset: n_rr records, each [rdlength(2)][rdata] in the blob. */
struct zrrset {
	uint16_t type;
	uint16_t n_rr;
	uint32_t ttl;
	uint32_t rdata_off;	/* into zone.data */
	uint32_t rdata_len;
};

/** A name of the zone: an owner of RRsets, or an empty non-terminal
 * (n_rrsets 0).  Its RRsets are rrsets[first .. first + n_rrsets). */
struct znode {
	uint32_t key_off;	/* into zone.data */
	uint32_t wire_off;	/* into zone.data; length key_len + 1 */
	uint8_t key_len;
	uint16_t n_rrsets;
	uint32_t first;
};

struct zone {
	char *name;		/* presentation form, no trailing dot */
	uint8_t key[ZONE_KEY_MAX];	/* the apex */
	uint8_t key_len;
	uint32_t *tenants;	/* sorted; n_tenants 0: every tenant */
	size_t n_tenants;
	struct znode *nodes;	/* sorted by key */
	size_t n_nodes;
	struct zrrset *rrsets;
	size_t n_rrsets;
	uint8_t *data;
	size_t data_len;
	const struct znode *apex;
	const struct zrrset *soa;
	uint32_t neg_ttl;	/* min(SOA TTL, SOA minimum), RFC 2308 */
};

struct zone_set {
	struct zone **v;	/* sorted by apex key, then tenants */
	size_t n;
	uint8_t (*a4)[4];	/* every A address of every zone, sorted */
	size_t n_a4;
	uint8_t (*a6)[16];	/* every AAAA address, sorted */
	size_t n_a6;
};

/**
 * Turn a wire name into its lowercased key.
 * \return the key's length, or -1 when the name is malformed (a label
 * type other than a plain length, or longer than 255 bytes).
 */
int zone_name_key(const uint8_t *wire, uint8_t key[ZONE_KEY_MAX]);

/** memcmp order, a prefix before what it starts. */
int zone_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/** The node with exactly this key, or NULL. */
const struct znode *zone_node_find(const struct zone *z, const uint8_t *key,
    size_t key_len);

/** The RRset of a type at a node, or NULL. */
const struct zrrset *zone_node_rrset(const struct zone *z,
    const struct znode *n, uint16_t type);
