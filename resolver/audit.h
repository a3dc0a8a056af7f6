/* audit.h -- the query audit log: one metadata record per answered query
 *
 * Two halves.  The pure half (audit_fmt.c, in libegcore) turns a fixed-size
 * struct audit_record into one JSON line: no I/O, unit-tested.  The daemon
 * half (audit.c) fills records on the query path and pushes them into a
 * preallocated single-producer ring per worker, without locks or malloc;
 * one writer thread drains the rings, formats and writes to the sink (a
 * file, stdout, or a syslog collector over TCP/TLS).  A full ring drops the
 * record and counts it; the writer then writes a "records-lost" line, and
 * the count is exported in metrics.
 *
 * The JSON line (fields always present, in this order; null where a field
 * does not apply):
 *   ts          RFC 3339 UTC with milliseconds, when the answer was sent
 *   tenant      the tenant's name; null when the client maps to none
 *   client      per log.client-address: "192.0.2.7", "192.0.2.0/24",
 *               "2001:db8:1:200::/56", or 32 hex digits (the first 16
 *               bytes of HMAC-SHA-256(hash-key, the address's 4 or 16 bytes))
 *   transport   udp | tcp | dot | doh
 *   qname       lower case, no trailing dot ("." for the root); a "." or
 *               "\" inside a label is written "\." / "\\" (RFC 1035), other
 *               bytes outside printable ASCII as \u00XX; null when the
 *               question could not be read
 *   qtype       mnemonic (A, HTTPS, TYPE65280); null without a question
 *   rcode       mnemonic (NOERROR, NXDOMAIN, BADVERS, RCODE23)
 *   action      pass | redirect | block | log | refuse (refuse: not served
 *               at all: no tenant, malformed, unsupported opcode or class)
 *   reason      qname | cname | ip | geo | internal | canary | bypass;
 *               null for pass and refuse
 *   category    threat category that decided, or null
 *   feed        feed that listed it, or null
 *   latency_us  from the query's arrival to its answer
 *   cache       hit (the answer cache had it, or libunbound answered
 *               within the resolve call: from its cache, no packet sent) |
 *               miss (it went to the network);
 *               null when the query was not recursed
 *   dnssec      secure | insecure | bogus; null when not recursed
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/eg.h"

struct audit;
struct audit_ring;
struct config;
struct query;

#define AUDIT_TEXT_MAX		63	/* tenant, category, feed: longer is cut */
#define AUDIT_LINE_MAX		4096	/* one formatted record, worst case fits */

enum audit_transport { AUDIT_T_UDP = 0, AUDIT_T_TCP, AUDIT_T_DOT, AUDIT_T_DOH };
enum audit_action { AUDIT_PASS = 0, AUDIT_REDIRECT, AUDIT_BLOCK, AUDIT_LOG,
	AUDIT_REFUSE };
enum audit_reason { AUDIT_R_NONE = 0, AUDIT_R_QNAME, AUDIT_R_CNAME, AUDIT_R_IP,
	AUDIT_R_GEO, AUDIT_R_INTERNAL, AUDIT_R_CANARY, AUDIT_R_BYPASS };
enum audit_cache { AUDIT_CACHE_NONE = 0, AUDIT_CACHE_HIT, AUDIT_CACHE_MISS };
enum audit_dnssec { AUDIT_SEC_NONE = 0, AUDIT_SEC_SECURE, AUDIT_SEC_INSECURE,
	AUDIT_SEC_BOGUS };

/** One query as the log and the metrics see it.  Fixed size and
 * self-contained (strings copied), so it can sit in a ring while the
 * config it came from is replaced. */
struct audit_record {
	struct timespec ts;		/* CLOCK_REALTIME at the answer */
	uint32_t latency_us;
	uint16_t qtype;
	uint16_t rcode;			/* 0..4095, extended bits included */
	uint8_t transport;		/* enum audit_transport */
	uint8_t action;			/* enum audit_action */
	uint8_t reason;			/* enum audit_reason */
	uint8_t cache;			/* enum audit_cache */
	uint8_t dnssec;			/* enum audit_dnssec */
	bool upstream_failed;		/* recursion found no usable answer */
	uint8_t family;			/* AF_INET, AF_INET6 or 0 (unknown) */
	uint8_t addr[16];		/* IPv4 in the first 4 bytes */
	uint8_t qname_len;		/* 0: no question read */
	uint8_t qname[255];		/* wire form */
	char tenant[AUDIT_TEXT_MAX + 1];	/* "" for null, likewise below */
	char category[AUDIT_TEXT_MAX + 1];
	char feed[AUDIT_TEXT_MAX + 1];
};

/** How records are written (from struct audit_cfg). */
struct audit_fmt {
	int client;			/* enum audit_addr */
	const uint8_t *key;		/* hash key (borrowed) */
	size_t keylen;
};

/* ---- pure half: audit_fmt.c ---- */

/**
 * Write the record as one JSON line, newline included, NUL-terminated.
 * \return the length (without NUL), or 0 when cap is too small
 * (AUDIT_LINE_MAX always suffices).
 */
size_t audit_format(const struct audit_record *r, const struct audit_fmt *f,
    char *out, size_t cap);

/** The line that states lost records:
 * {"ts":"...","event":"records-lost","count":N}\n.  \return as above. */
size_t audit_format_loss(const struct timespec *ts, uint64_t count, char *out,
    size_t cap);

/** The client as the log shows it (see the top of this file).
 * \return the length, or 0 when cap is too small (64 suffices). */
size_t audit_client_text(const struct audit_record *r, const struct audit_fmt *f,
    char *out, size_t cap);

/** Hex of the first 16 bytes of HMAC-SHA-256(key, data): 32 digits + NUL.
 * \return 0, or -EIO when OpenSSL fails. */
int audit_hmac_hex(const uint8_t *key, size_t keylen, const uint8_t *data,
    size_t len, char out[33]) EG_MUSTCHECK;

/** "A", "HTTPS" ... or "TYPE123" into buf (16 bytes); returns buf or the
 * static name. */
const char *audit_qtype_name(uint16_t type, char buf[16]);
/** "NOERROR" ... or "RCODE23" into buf (16 bytes). */
const char *audit_rcode_name(uint16_t rcode, char buf[16]);

/** The rcode of an answer on the wire, with the extended bits of its OPT
 * record.  \return 0..4095, or -1 when the packet does not parse. */
int audit_answer_rcode(const uint8_t *ans, size_t len);

/** Whether a record is written in this mode (enum audit_mode). */
bool audit_wanted(int mode, const struct audit_record *r);

/* ---- daemon half: audit.c ---- */

/**
 * Create the log from cfg->log: opens the file or stdout now (so that an
 * error stops start-up, before privileges are dropped), connects to a
 * syslog collector later, from the writer.  With mode none there is no
 * sink and no thread, but audit_query() still feeds the metrics.
 * \param err on failure, a message naming the file
 * \return 0 with *out set (free with audit_free()), -errno otherwise.
 */
int audit_new(struct audit **out, const struct config *cfg, char *err,
    size_t errlen) EG_MUSTCHECK;

/**
 * A ring for one worker (its only producer), cfg->log.buffer records,
 * preallocated.  Call before audit_start().  Owned by the audit.
 * \return 0 or -ENOMEM, -E2BIG when there are too many rings.
 */
int audit_ring_new(struct audit *a, struct audit_ring **out) EG_MUSTCHECK;

/** Start the writer thread.  \return 0 or -errno. */
int audit_start(struct audit *a) EG_MUSTCHECK;

/**
 * Account one answered query: build its record, count it in the worker's
 * metrics and, when the mode wants it, push it into the worker's ring
 * (dropped and counted when the ring is full).  Never blocks, never
 * allocates.  Called once per answered query, from the worker's thread.
 * \param ans the answer sent (rcode read from it)
 */
void audit_query(const struct query *q, const uint8_t *ans, size_t len);

/** Reopen the log file (logrotate moved it); done by the writer at once.
 * Any thread. */
void audit_reopen(struct audit *a);

/** Records written, and lost (dropped on full rings or an overflowing
 * syslog buffer).  Any thread. */
uint64_t audit_written(const struct audit *a);
uint64_t audit_lost(const struct audit *a);

/** Stop the writer after it has written what the rings hold; close the
 * sink; free the rings.  audit_free(NULL) is a no-op.  No worker may
 * push any more. */
void audit_free(struct audit *a);
