/* cache.h -- the answer cache: final answers after policy, one per worker (pure, no I/O)
 *
 * What the pipeline sent a client, kept so that the same question under
 * the same policy is answered again without libunbound, the threat DB,
 * GeoIP or the response policy.  An entry is keyed by (policy identity,
 * lower-cased query name, type, class, DO bit, CD bit) and holds either
 *   - an answer: the message as answer_from_upstream() writes it for a
 *     client without EDNS (header, question, records, no OPT), the offset
 *     of every TTL in it and the time it was stored; a hit copies it with
 *     the question in the asker's case and every TTL lowered by the age,
 *     and the caller finishes it for the client (answer_finish()); or
 *   - a verdict only (redirect, block): the caller writes the policy
 *     answer again, so redirects still follow the client's region and the
 *     nodes' health;
 * and in both cases the verdict that decided (action, reason, category,
 * feed), so a hit is logged as the original query was.
 *
 * Entries live at most as long as their shortest TTL (answers; negative
 * answers per RFC 2308: min(SOA TTL, SOA MINIMUM); at most CACHE_MAX_TTL /
 * CACHE_MAX_NEG_TTL), are tagged with the threat database's generation
 * (a lookup under another generation drops the entry), and are evicted
 * least recently used first once the byte budget is reached.  SERVFAIL
 * and other error answers are never stored.
 *
 * One cache per worker, used only by its thread: no locks.  A hit does no
 * heap allocation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/eg.h"
#include "resolver/policy/policy.h"

struct cache;

#define CACHE_MAX_TTL		86400	/* seconds an answer is kept at most */
#define CACHE_MAX_NEG_TTL	3600	/* ... a negative answer (NXDOMAIN, NODATA) */
#define CACHE_MIN_BYTES		(64u << 10)	/* smallest useful budget */

/** What identifies an answer.  Everything else of the client's query (ID,
 * RD, AD, EDNS size, padding, transport) is applied on the way out. */
struct cache_key {
	const void *policy;	/* the tenant's policy: tenants with the same
				 * policy share entries, others never do */
	const uint8_t *qname;	/* wire form, uncompressed, any case */
	uint8_t qname_len;
	uint16_t qtype, qclass;
	bool do_bit, cd;
};

/** What an entry holds besides the message. */
struct cache_meta {
	struct pol_verdict verdict;	/* what decided; action POL_PASS with
					 * nothing else set for plain answers */
	uint8_t rcode;		/* of the answer (answers only) */
	uint8_t sec;		/* enum recurse_sec of the upstream answer */
	bool recursed;		/* it came from recursion (the audit's cache
				 * field says hit, dnssec says sec) */
	uint32_t ttl_cap;	/* keep it at most this many seconds (a
				 * threat-DB entry expires); 0: no cap */
};

/** What a lookup found. */
enum cache_result {
	CACHE_MISS = 0,
	CACHE_ANSWER,		/* a message, copied to the caller's buffer */
	CACHE_VERDICT,		/* a verdict only: write the policy answer */
};

/** Counters, for status and metrics. */
struct cache_stats {
	uint64_t entries;
	uint64_t bytes;		/* accounted memory, entries and table */
	uint64_t max_bytes;
	uint64_t hits;
	uint64_t misses;
	uint64_t stored;
	uint64_t evicted;	/* to make room */
	uint64_t expired;	/* found with a TTL run out */
	uint64_t invalidated;	/* found under an older threat-DB generation */
	uint64_t flushed;	/* removed by cache_flush() */
};

/**
 * Create a cache that holds at most max_bytes (entries, their messages
 * and the hash table counted).
 * \param max_bytes 0: no cache (*out is set to NULL; every function
 *   accepts a NULL cache and then does nothing); else at least
 *   CACHE_MIN_BYTES
 * \return 0 with *out set (free with cache_free()), -EINVAL, -ENOMEM; on
 *   failure *out is left untouched.
 */
int cache_new(struct cache **out, size_t max_bytes) EG_MUSTCHECK;

/** Free the cache and every entry.  cache_free(NULL) is a no-op. */
void cache_free(struct cache *c);

/**
 * Look an answer up.  An entry whose TTL has run out by now, or that was
 * stored under another generation, is dropped and reported as a miss.
 * \param gen the threat database's generation now (tdb_generation())
 * \param now a monotonic clock in seconds (the caller's arrival time)
 * \param meta on a hit, filled with the entry's verdict and flags
 * \param out,cap on CACHE_ANSWER, the message: header (flags and ID as
 *   stored: the caller sets them), the question with k->qname's case,
 *   the records with their TTLs lowered by the entry's age; no OPT
 * \param outlen set on CACHE_ANSWER
 * \return the result; an answer that does not fit in cap is a miss.
 * No heap allocation.
 */
enum cache_result cache_lookup(struct cache *c, const struct cache_key *k,
    uint64_t gen, time_t now, struct cache_meta *meta, uint8_t *out,
    size_t cap, size_t *outlen);

/**
 * Store an answer (replacing any entry for the key).  It lives as long
 * as its shortest TTL allows (see the top of this file).
 * \param wire header, the question (k->qname in any case) and records,
 *   no OPT (answer_from_upstream() for a client without EDNS); copied
 * \return 0; -ENOENT when the answer may not be cached (an rcode other
 *   than NOERROR and NXDOMAIN, TC set, a TTL of 0, a negative answer
 *   without SOA); -EBADMSG when it does not parse or its question is not
 *   k's; -E2BIG when it exceeds an eighth of the budget; -ENOMEM.
 */
int cache_store_answer(struct cache *c, const struct cache_key *k,
    uint64_t gen, time_t now, const struct cache_meta *meta,
    const uint8_t *wire, size_t len) EG_MUSTCHECK;

/**
 * Store a verdict (redirect or block) for ttl seconds (at most
 * CACHE_MAX_TTL), replacing any entry for the key.
 * \return 0; -ENOENT when ttl is 0 or the verdict is pass or log;
 *   -ENOMEM.
 */
int cache_store_verdict(struct cache *c, const struct cache_key *k,
    uint64_t gen, time_t now, const struct cache_meta *meta, uint32_t ttl)
    EG_MUSTCHECK;

/**
 * How long an upstream message may be cached: its shortest TTL (OPT
 * excluded), for a negative answer min(SOA TTL, SOA MINIMUM), capped at
 * CACHE_MAX_TTL / CACHE_MAX_NEG_TTL.
 * \return 0 with *ttl set (may be 0); -ENOENT when it has no records or
 *   is negative without a SOA; -EBADMSG when it does not parse.
 */
int cache_wire_ttl(const uint8_t *wire, size_t len, uint32_t *ttl)
    EG_MUSTCHECK;

/**
 * Drop entries: all of them (name NULL), or those for the wire name and
 * every name below it, under any policy and type.  For `egressctl flush
 * [NAME]` and reload.  Worker thread only.
 * \param name an uncompressed wire name, any case, or NULL
 * \return the number of entries dropped.
 */
size_t cache_flush(struct cache *c, const uint8_t *name);

/** The counters.  Worker thread only (or when the worker is stopped). */
void cache_stats_get(const struct cache *c, struct cache_stats *st);
