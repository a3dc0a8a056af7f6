/* answer.h -- writing answers on the wire: synthesized ones from the query,
 * and the client's view of an upstream answer */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

struct pkt_query;

#define ANSWER_EDNS_SIZE	1232	/* what we advertise (DNS flag day 2020) */
#define ANSWER_NO_EDE		(-1)

enum dns_rcode {
	RCODE_NOERROR = 0,
	RCODE_FORMERR = 1,
	RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4,
	RCODE_REFUSED = 5,
	RCODE_BADVERS = 16,	/* extended: lives partly in the OPT record */
};

/* Extended DNS Error codes we send (RFC 8914). */
enum ede_code {
	EDE_OTHER = 0,
	EDE_FORGED = 4,
	EDE_DNSSEC_BOGUS = 6,
	EDE_BLOCKED = 15,
	EDE_PROHIBITED = 18,
	EDE_NOT_READY = 14,
	EDE_NOT_SUPPORTED = 21,
	EDE_NO_REACHABLE_AUTHORITY = 22,
};

/** How a synthesized answer looks beyond the echoed query. */
struct answer_meta {
	int rcode;		/* 0..4095; above 15 goes into the OPT record */
	int ede;		/* an ede_code, or ANSWER_NO_EDE */
	const char *ede_text;	/* extra text, may be NULL */
	bool tc;
	bool ad;
	bool aa;		/* authoritative: answers from internal zones */
};

/**
 * Write an answer without records: the client's ID and RD/CD bits, QR and
 * RA, the question echoed when q->qname is set, and an OPT record (with
 * the EDE, if any) when the client sent EDNS.
 * \return the answer's length, or 0 when cap is too small.
 */
size_t answer_synth(uint8_t *out, size_t cap, const struct pkt_query *q,
    const struct answer_meta *m);

/** Whether an answer to q carries AD: only when it is secure and the
 * client asked (DO or AD set, RFC 6840 5.8). */
bool answer_ad(const struct pkt_query *q, bool secure);

/**
 * Turn an upstream (libunbound) answer into the answer for this client:
 * the client's ID and flags, RA, AD only when secure and the client asked
 * (DO or AD), DNSSEC records stripped when the client did not set DO, our
 * OPT record when the client sent EDNS.  When the result exceeds maxsize,
 * a truncated answer (TC=1, question only) is written instead.
 * \param out buffer of cap bytes; \param outlen set on success
 * \return 0, -EBADMSG when the upstream packet does not parse, -ENOMEM,
 * -ENOBUFS when not even the truncated answer fits in cap.
 */
int answer_from_upstream(const struct pkt_query *q, const uint8_t *pkt,
    size_t len, bool secure, size_t maxsize, uint8_t *out, size_t cap,
    size_t *outlen) EG_MUSTCHECK;

/**
 * Copy an answer we wrote to out, adding EDNS options for a stream
 * transport to its OPT record: TCP keepalive (RFC 7828) with our idle
 * timeout, and padding (RFC 7830) so that the message length becomes a
 * multiple of pad_block (RFC 8467).  Padding is left out when it would not
 * fit in cap or 65535 bytes.
 * \param keepalive_100ms the timeout in units of 100 ms, or -1: none
 * \param pad_block 0: no padding
 * \return the new length, or 0 when the answer has no OPT record, does
 * not parse, or the keepalive option does not fit (send the original).
 */
size_t answer_stream_options(const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, int keepalive_100ms, size_t pad_block);

/**
 * Finish an answer the caller wrote in out[0, len): a 12-byte header with
 * QDCOUNT, ANCOUNT and NSCOUNT set (ARCOUNT counting the caller's own
 * additional records), the question and the records.  Sets the client's
 * ID and our flags (QR, RA, the client's RD and CD, AA and AD from m, the
 * rcode) and appends our OPT record when the client sent EDNS, as for
 * every other answer.  When overflow is set (the caller ran out of room)
 * or the result exceeds maxsize or cap, a truncated answer (TC=1,
 * question only) is written instead.
 * \return 0 with *outlen set, or -ENOBUFS when not even the truncated
 * answer fits in cap.
 */
int answer_finish(const struct pkt_query *q, const struct answer_meta *m,
    size_t maxsize, bool overflow, uint8_t *out, size_t cap, size_t len,
    size_t *outlen) EG_MUSTCHECK;

/** The records of a policy answer (redirect or block), beyond the echoed
 * question; every owner is the query name. */
struct answer_rrs {
	int family;			/* AF_INET / AF_INET6: addrs are A / AAAA */
	const uint8_t (*addrs)[16];	/* n_addrs of them, 4 or 16 octets used */
	size_t n_addrs;
	uint32_t ttl;			/* of the addresses */
	bool soa;			/* a synthetic SOA in the authority section */
	uint32_t soa_ttl;		/* its TTL and MINIMUM (negative caching) */
};

/**
 * Write a synthesized answer with records: the client's ID and RD/CD bits,
 * QR and RA (never AA, never AD), the question echoed, r's addresses in
 * the answer section, the synthetic SOA (owner the query name, MNAME
 * egressd.invalid.) in the authority section, our OPT record (with m's
 * EDE) when the client sent EDNS.  When it exceeds maxsize, a truncated
 * answer (TC=1, question only) is written instead.
 * \return the answer's length, or 0 when cap is too small or q has no
 * question.
 */
size_t answer_policy(uint8_t *out, size_t cap, size_t maxsize,
    const struct pkt_query *q, const struct answer_meta *m,
    const struct answer_rrs *r);
