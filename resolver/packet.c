/* packet.c -- checking a client's DNS query on the wire
 *
 * Input comes straight from the network: every read is bounds-checked, and
 * anything that is not a well-formed single-question query is sorted into a
 * verdict instead of being guessed at.
 */
#include "autoconf.h"

#include <string.h>

#include <ldns/ldns.h>

#include "resolver/packet.h"

#define OPCODE_QUERY	0
#define TYPE_OPT	41
#define TYPE_IXFR	251
#define TYPE_AXFR	252
#define TYPE_MAILB	253
#define TYPE_MAILA	254
#define CLASS_IN	1
#define CLASS_ANY	255

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Read an uncompressed name at wire[*pos]; advance *pos past it.
 * Queries have nothing earlier to point to, so a compression pointer in
 * a question is refused rather than followed. */
static int
read_name(const uint8_t *wire, size_t len, size_t *pos, uint8_t *name_len)
{
	size_t p = *pos, total = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -1;
		l = wire[p];
		if (l & 0xc0)
			return -1;	/* pointer or reserved label type */
		total += (size_t)l + 1;
		if (total > PKT_MAX_NAME || p + 1 + l > len)
			return -1;
		p += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	*name_len = (uint8_t)total;
	*pos = p;
	return 0;
}

static enum pkt_verdict
parse_opt(const uint8_t *wire, size_t len, size_t pos, struct pkt_query *q)
{
	size_t rdlen, end;
	uint32_t ttl;

	/* owner must be the root, then type, class, ttl, rdlength */
	if (pos + 11 > len || wire[pos] != 0 || rd16(wire + pos + 1) != TYPE_OPT)
		return PKT_FORMERR;
	q->udp_size = rd16(wire + pos + 3);
	ttl = (uint32_t)rd16(wire + pos + 5) << 16 | rd16(wire + pos + 7);
	rdlen = rd16(wire + pos + 9);
	pos += 11;
	end = pos + rdlen;
	if (end != len)
		return PKT_FORMERR;
	q->edns_version = (uint8_t)(ttl >> 16);
	q->do_bit = (ttl & 0x8000) != 0;
	if (q->udp_size < 512)
		q->udp_size = 512;
	while (pos < end) {
		uint16_t code, olen;

		if (pos + 4 > end)
			return PKT_FORMERR;
		code = rd16(wire + pos);
		olen = rd16(wire + pos + 2);
		pos += 4;
		if (pos + olen > end)
			return PKT_FORMERR;
		if (code == EDNS_OPT_PADDING)
			q->padding = true;
		else if (code == EDNS_OPT_KEEPALIVE) {
			if (olen != 0)	/* RFC 7828 3.2.1: clients send it empty */
				return PKT_FORMERR;
			q->keepalive = true;
		}
		pos += olen;
	}
	q->edns = true;
	return q->edns_version != 0 ? PKT_BADVERS : PKT_OK;
}

enum pkt_verdict
pkt_parse_query(const uint8_t *wire, size_t len, struct pkt_query *q)
{
	size_t pos = PKT_HEADER_SIZE;
	enum pkt_verdict v;

	memset(q, 0, sizeof(*q));
	if (len < PKT_HEADER_SIZE || LDNS_QR_WIRE(wire))
		return PKT_DROP;
	q->id = LDNS_ID_WIRE(wire);
	q->opcode = (uint8_t)LDNS_OPCODE_WIRE(wire);
	q->rd = LDNS_RD_WIRE(wire) != 0;
	q->cd = LDNS_CD_WIRE(wire) != 0;
	q->ad = LDNS_AD_WIRE(wire) != 0;
	if (q->opcode != OPCODE_QUERY)
		return PKT_NOTIMP;
	if (LDNS_QDCOUNT(wire) != 1 || LDNS_ANCOUNT(wire) != 0 ||
	    LDNS_NSCOUNT(wire) != 0 || LDNS_ARCOUNT(wire) > 1)
		return PKT_FORMERR;
	if (read_name(wire, len, &pos, &q->qname_len) != 0 || pos + 4 > len)
		return PKT_FORMERR;
	q->qname = wire + PKT_HEADER_SIZE;
	q->qtype = rd16(wire + pos);
	q->qclass = rd16(wire + pos + 2);
	pos += 4;
	q->question_end = pos;
	if (LDNS_ARCOUNT(wire) == 1) {
		if ((v = parse_opt(wire, len, pos, q)) != PKT_OK)
			return v;
	} else if (pos != len)
		return PKT_FORMERR;	/* bytes after the last section */
	if (q->qtype == TYPE_OPT || (q->qtype >= 128 && q->qtype <= 250))
		return PKT_FORMERR;	/* meta types (RFC 6895 3.1) are no questions */
	if (q->qtype == TYPE_MAILA || q->qtype == TYPE_MAILB)
		return PKT_NOTIMP;
	if (q->qtype == TYPE_AXFR || q->qtype == TYPE_IXFR)
		return PKT_REFUSED;
	if (q->qclass != CLASS_IN)
		return PKT_REFUSED;
	return PKT_OK;
}

size_t
pkt_skip_name(const uint8_t *p, size_t len, size_t pos)
{
	for (unsigned labels = 0; pos < len && labels < 128; labels++) {
		uint8_t l = p[pos];

		if ((l & 0xc0) == 0xc0)
			return pos + 2 <= len ? pos + 2 : 0;
		if (l & 0xc0)
			return 0;
		pos += 1 + (size_t)l;
		if (l == 0)
			return pos <= len ? pos : 0;
	}
	return 0;
}

size_t
pkt_rr_first(const uint8_t *p, size_t len)
{
	size_t pos = PKT_HEADER_SIZE;

	if (len < PKT_HEADER_SIZE)
		return 0;
	for (unsigned i = 0; i < (unsigned)(p[4] << 8 | p[5]); i++)
		if ((pos = pkt_skip_name(p, len, pos)) == 0 || (pos += 4) > len)
			return 0;
	return pos;
}

size_t
pkt_rr_next(const uint8_t *p, size_t len, size_t pos, struct pkt_rr *rr)
{
	if ((pos = pkt_skip_name(p, len, pos)) == 0 || pos + 10 > len)
		return 0;
	rr->type = (uint16_t)(p[pos] << 8 | p[pos + 1]);
	rr->ttl = (uint32_t)p[pos + 4] << 24 | (uint32_t)p[pos + 5] << 16 |
	    (uint32_t)p[pos + 6] << 8 | p[pos + 7];
	rr->rdata = pos + 10;
	rr->end = rr->rdata + (size_t)(p[pos + 8] << 8 | p[pos + 9]);
	return rr->end <= len ? rr->end : 0;
}

int
pkt_name_to_text(const uint8_t *name, char *out, size_t outlen)
{
	size_t o = 0;

	if (name[0] == 0) {
		if (outlen < 2)
			return -1;
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	/* every write below keeps one byte free for the final NUL */
	while (*name) {
		uint8_t l = *name++;

		for (uint8_t i = 0; i < l; i++) {
			uint8_t c = *name++;
			bool special = c == '.' || c == '\\' || c == '"' ||
			    c == ';' || c == '(' || c == ')' || c == '$' || c == '@';
			bool octal = c <= 0x20 || c >= 0x7f;
			size_t need = octal ? 4 : special ? 2 : 1;

			if (o + need >= outlen)
				return -1;
			if (octal) {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			} else {
				if (special)
					out[o++] = '\\';
				out[o++] = (char)c;
			}
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = '.';
	}
	out[o] = '\0';
	return (int)o;
}
