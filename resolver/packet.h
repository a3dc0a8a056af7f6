/* packet.h -- checking a client's DNS query on the wire (pure, no I/O) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_HEADER_SIZE		12
#define PKT_MAX_NAME		255	/* wire length of a name, RFC 1035 */
#define PKT_MAX_NAME_TEXT	1024	/* presentation form incl. \DDD escapes */

/* EDNS option codes we act on. */
#define EDNS_OPT_KEEPALIVE	11
#define EDNS_OPT_PADDING	12
#define EDNS_OPT_EDE		15

/** What to do with a packet that arrived. */
enum pkt_verdict {
	PKT_OK = 0,
	PKT_DROP,	/* not even a header, or a response: say nothing */
	PKT_FORMERR,
	PKT_NOTIMP,	/* opcode other than QUERY, obsolete qtypes */
	PKT_REFUSED,	/* zone transfers, classes other than IN */
	PKT_BADVERS,	/* EDNS version other than 0 (RFC 6891 6.1.3) */
};

/** A parsed query.  Pointers point into the wire buffer given to
 * pkt_parse_query() and are valid as long as it is. */
struct pkt_query {
	uint16_t id;
	uint8_t opcode;
	bool rd, cd, ad;
	const uint8_t *qname;	/* wire form, uncompressed, NULL until parsed */
	uint8_t qname_len;
	uint16_t qtype, qclass;
	size_t question_end;	/* offset just past the question */
	bool edns;		/* an OPT record was present and parsed */
	bool do_bit;
	uint8_t edns_version;
	uint16_t udp_size;	/* the client's advertised size, 0 without EDNS */
	bool padding;		/* client sent EDNS padding (RFC 7830) */
	bool keepalive;		/* client sent EDNS TCP keepalive (RFC 7828) */
};

/**
 * Parse and check a query.  On any verdict but PKT_DROP, q->id and the
 * header bits are set; q->qname is set when the question could be read
 * (so an error answer can echo it); q->edns when the OPT record was read.
 * \return the verdict; never reads beyond wire[len - 1].
 */
enum pkt_verdict pkt_parse_query(const uint8_t *wire, size_t len,
    struct pkt_query *q);

/**
 * Skip a name in a message, compressed or not (a pointer ends it; at
 * most 128 labels).
 * \return the offset just past it, or 0 when it runs off the message.
 */
size_t pkt_skip_name(const uint8_t *p, size_t len, size_t pos);

/** One resource record of a message, as pkt_rr_next() reads it. */
struct pkt_rr {
	uint16_t type;
	uint32_t ttl;
	size_t rdata;		/* offset of the RDATA */
	size_t end;		/* offset just past the record */
};

/**
 * Walk a message's records: pkt_rr_first() skips the header and the
 * questions, pkt_rr_next() reads the record at pos.  Neither reads past
 * p[len - 1].
 * \return the offset of the (next) record, or 0 when the message ends
 *   before it should (a record of RDLENGTH past the end included).
 */
size_t pkt_rr_first(const uint8_t *p, size_t len);
size_t pkt_rr_next(const uint8_t *p, size_t len, size_t pos, struct pkt_rr *rr);

/**
 * Write a wire-format name as presentation text with a trailing dot,
 * escaping '.', '\\', '"' and non-printable octets as RFC 1035 asks.
 * \param name an uncompressed wire name that pkt_parse_query() accepted
 * \return the length written (without NUL), or -1 when out is too small.
 */
int pkt_name_to_text(const uint8_t *name, char *out, size_t outlen);
