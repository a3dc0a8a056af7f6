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
};

/**
 * Write an answer without records: the client's ID and RD/CD bits, QR and
 * RA, the question echoed when q->qname is set, and an OPT record (with
 * the EDE, if any) when the client sent EDNS.
 * \return the answer's length, or 0 when cap is too small.
 */
size_t answer_synth(uint8_t *out, size_t cap, const struct pkt_query *q,
    const struct answer_meta *m);

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
