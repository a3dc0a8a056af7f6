/* answer.c -- writing answers on the wire */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/packet.h"

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Our OPT record: root owner, type 41, our UDP size, extended rcode,
 * version 0, the client's DO bit, and an EDE option when asked for. */
static size_t
write_opt(uint8_t *p, size_t cap, const struct pkt_query *q,
    const struct answer_meta *m)
{
	size_t textlen = (m->ede >= 0 && m->ede_text) ? strlen(m->ede_text) : 0;
	size_t rdlen = m->ede >= 0 ? 4 + 2 + textlen : 0;

	if (textlen > 512)
		textlen = 512, rdlen = 4 + 2 + textlen;
	if (cap < 11 + rdlen)
		return 0;
	p[0] = 0;
	wr16(p + 1, LDNS_RR_TYPE_OPT);
	wr16(p + 3, ANSWER_EDNS_SIZE);
	p[5] = (uint8_t)(m->rcode >> 4);	/* upper 8 bits of the rcode */
	p[6] = 0;				/* version */
	wr16(p + 7, q->do_bit ? 0x8000 : 0);
	wr16(p + 9, (uint16_t)rdlen);
	if (m->ede >= 0) {
		wr16(p + 11, EDNS_OPT_EDE);
		wr16(p + 13, (uint16_t)(2 + textlen));
		wr16(p + 15, (uint16_t)m->ede);
		if (textlen)
			memcpy(p + 17, m->ede_text, textlen);
	}
	return 11 + rdlen;
}

/* Header flags for every answer we send: QR, RA, the client's RD and CD. */
static void
write_flags(uint8_t *hdr, const struct pkt_query *q, int rcode, bool tc, bool ad)
{
	hdr[2] = LDNS_QR_MASK | (q->rd ? LDNS_RD_MASK : 0) |
	    (tc ? LDNS_TC_MASK : 0) | (uint8_t)(q->opcode << LDNS_OPCODE_SHIFT);
	hdr[3] = LDNS_RA_MASK | (q->cd ? LDNS_CD_MASK : 0) |
	    (ad ? LDNS_AD_MASK : 0) | (uint8_t)(rcode & 0x0f);
}

size_t
answer_synth(uint8_t *out, size_t cap, const struct pkt_query *q,
    const struct answer_meta *m)
{
	size_t len = PKT_HEADER_SIZE, n;

	if (cap < PKT_HEADER_SIZE)
		return 0;
	memset(out, 0, PKT_HEADER_SIZE);
	wr16(out, q->id);
	write_flags(out, q, m->rcode, m->tc, m->ad);
	if (q->qname) {
		if (cap < len + q->qname_len + 4u)
			return 0;
		memcpy(out + len, q->qname, q->qname_len);
		len += q->qname_len;
		wr16(out + len, q->qtype);
		wr16(out + len + 2, q->qclass);
		len += 4;
		wr16(out + 4, 1);
	}
	if (q->edns) {
		if ((n = write_opt(out + len, cap - len, q, m)) == 0)
			return 0;
		len += n;
		wr16(out + 10, 1);
	}
	return len;
}

static bool
is_dnssec_type(ldns_rr_type t)
{
	return t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
	    t == LDNS_RR_TYPE_NSEC3 || t == LDNS_RR_TYPE_NSEC3PARAMS;
}

/* Move the records of one section from `in` to `out`, leaving out DNSSEC
 * records the client did not ask for (RFC 4035 3.2.1); the type asked for
 * is always kept in the answer section. */
static int
move_section(ldns_rr_list *src, ldns_pkt *out, ldns_pkt_section sec,
    const struct pkt_query *q)
{
	int ret = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(src); i++) {
		ldns_rr *rr = ldns_rr_list_rr(src, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		bool keep = q->do_bit || !is_dnssec_type(t) ||
		    (sec == LDNS_SECTION_ANSWER && t == q->qtype);

		if (keep && ret == 0 && ldns_pkt_push_rr(out, sec, rr))
			continue;
		if (keep)
			ret = -ENOMEM;
		ldns_rr_free(rr);
	}
	ldns_rr_list_set_rr_count(src, 0);	/* ownership moved or freed */
	return ret;
}

/* The client's question, exactly as asked (case kept, RFC 1035 7.3). */
static int
push_question(ldns_pkt *res, const struct pkt_query *q)
{
	ldns_rdf *owner;
	ldns_rr *rr;

	if ((owner = ldns_dname_new_frm_data(q->qname_len, q->qname)) == NULL)
		return -ENOMEM;
	if ((rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(owner);
		return -ENOMEM;
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, (ldns_rr_type)q->qtype);
	ldns_rr_set_class(rr, (ldns_rr_class)q->qclass);
	ldns_rr_set_question(rr, true);
	if (!ldns_pkt_push_rr(res, LDNS_SECTION_QUESTION, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

int
answer_from_upstream(const struct pkt_query *q, const uint8_t *pkt,
    size_t len, bool secure, size_t maxsize, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct answer_meta m = { .ede = ANSWER_NO_EDE };
	ldns_pkt *in = NULL, *res = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0, n;
	int ret = -ENOMEM;

	if (ldns_wire2pkt(&in, pkt, len) != LDNS_STATUS_OK)
		return -EBADMSG;
	m.rcode = ldns_pkt_get_rcode(in);
	m.ad = secure && (q->do_bit || q->ad);
	if ((res = ldns_pkt_new()) == NULL || push_question(res, q) != 0)
		goto out;
	if (move_section(ldns_pkt_answer(in), res, LDNS_SECTION_ANSWER, q) ||
	    move_section(ldns_pkt_authority(in), res, LDNS_SECTION_AUTHORITY, q) ||
	    move_section(ldns_pkt_additional(in), res, LDNS_SECTION_ADDITIONAL, q))
		goto out;
	if (ldns_pkt2wire(&wire, res, &wlen) != LDNS_STATUS_OK)
		goto out;
	ret = 0;
	n = q->edns ? write_opt(out + (wlen < cap ? wlen : cap),
	    wlen < cap ? cap - wlen : 0, q, &m) : 0;
	if (wlen + n > maxsize || wlen > cap || (q->edns && n == 0)) {
		m.tc = true;
		if ((*outlen = answer_synth(out, cap, q, &m)) == 0)
			ret = -ENOBUFS;
		goto out;
	}
	/* ldns wrote the question and records (with its compression
	 * pointers); the header is ours, and our OPT record goes last. */
	memcpy(out, wire, wlen);
	wr16(out, q->id);
	write_flags(out, q, m.rcode, false, m.ad);
	if (q->edns)
		wr16(out + 10, (uint16_t)(ldns_pkt_arcount(res) + 1));
	*outlen = wlen + n;
out:
	free(wire);
	ldns_pkt_free(res);
	ldns_pkt_free(in);
	return ret;
}
