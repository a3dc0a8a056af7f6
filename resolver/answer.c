/* answer.c -- writing answers on the wire */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/* Header flags for every answer we send: QR, RA, the client's RD and CD;
 * AA only for answers from internal zones. */
static void
write_flags(uint8_t *hdr, const struct pkt_query *q, int rcode, bool tc, bool ad,
    bool aa)
{
	hdr[2] = LDNS_QR_MASK | (q->rd ? LDNS_RD_MASK : 0) | (aa ? LDNS_AA_MASK : 0) |
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
	write_flags(out, q, m->rcode, m->tc, m->ad, m->aa);
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

bool
answer_ad(const struct pkt_query *q, bool secure)
{
	return secure && (q->do_bit || q->ad);	/* RFC 6840 5.8 */
}

/* Whether a message carries a TSIG record.  libunbound never passes one
 * on, and libldns 1.8 keeps only the last of several (the others leak:
 * found by fuzz_query), so such a message is refused before ldns reads it.
 * \return 1 yes, 0 no, -1 when its records run off the end. */
static int
has_tsig(const uint8_t *p, size_t len)
{
	size_t pos = pkt_rr_first(p, len), n;
	struct pkt_rr rr;

	if (pos == 0)
		return -1;
	n = (size_t)LDNS_ANCOUNT(p) + LDNS_NSCOUNT(p) + LDNS_ARCOUNT(p);
	for (size_t i = 0; i < n; i++) {
		if ((pos = pkt_rr_next(p, len, pos, &rr)) == 0)
			return -1;
		if (rr.type == LDNS_RR_TYPE_TSIG)
			return 1;
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

	if (has_tsig(pkt, len) != 0 || ldns_wire2pkt(&in, pkt, len) != LDNS_STATUS_OK)
		return -EBADMSG;
	m.rcode = ldns_pkt_get_rcode(in);
	m.ad = answer_ad(q, secure);
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
	write_flags(out, q, m.rcode, false, m.ad, false);
	if (q->edns)
		wr16(out + 10, (uint16_t)(ldns_pkt_arcount(res) + 1));
	*outlen = wlen + n;
out:
	free(wire);
	ldns_pkt_free(res);
	ldns_pkt_free(in);
	return ret;
}

int
answer_finish(const struct pkt_query *q, const struct answer_meta *m,
    size_t maxsize, bool overflow, uint8_t *out, size_t cap, size_t len,
    size_t *outlen)
{
	struct answer_meta tm = *m;
	size_t n = 0;

	if (!overflow && len >= PKT_HEADER_SIZE && len <= cap) {
		if (q->edns)
			n = write_opt(out + len, cap - len, q, m);
		if ((!q->edns || n > 0) && len + n <= maxsize) {
			wr16(out, q->id);
			write_flags(out, q, m->rcode, false, m->ad, m->aa);
			if (q->edns)
				wr16(out + 10, (uint16_t)(LDNS_ARCOUNT(out) + 1));
			*outlen = len + n;
			return 0;
		}
	}
	tm.tc = true;
	if ((*outlen = answer_synth(out, cap, q, &tm)) == 0)
		return -ENOBUFS;
	return 0;
}

/* Offset of the OPT record's RDLENGTH field in our answer, or 0 unless
 * it is the last record (ours always is: whatever followed it could hold
 * compression pointers that moving it would break). */
static size_t
find_opt_rdlen(const uint8_t *p, size_t len)
{
	size_t pos = PKT_HEADER_SIZE;
	unsigned qd, rr;

	if (len < PKT_HEADER_SIZE)
		return 0;
	qd = LDNS_QDCOUNT(p);
	rr = (unsigned)LDNS_ANCOUNT(p) + LDNS_NSCOUNT(p) + LDNS_ARCOUNT(p);
	for (unsigned i = 0; i < qd; i++)
		if ((pos = pkt_skip_name(p, len, pos)) == 0 || (pos += 4) > len)
			return 0;
	for (unsigned i = 0; i < rr; i++) {
		size_t rdl;

		if ((pos = pkt_skip_name(p, len, pos)) == 0 || pos + 10 > len)
			return 0;
		rdl = (size_t)p[pos + 8] << 8 | p[pos + 9];
		if (pos + 10 + rdl > len)
			return 0;
		if ((p[pos] << 8 | p[pos + 1]) == LDNS_RR_TYPE_OPT &&
		    i >= rr - LDNS_ARCOUNT(p))
			return pos + 10 + rdl == len ? pos + 8 : 0;
		pos += 10 + rdl;
	}
	return 0;
}

size_t
answer_stream_options(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    int keepalive_100ms, size_t pad_block)
{
	size_t at = find_opt_rdlen(in, len), end, add = 0, rdlen, pad = 0;

	if (at == 0 || len > cap)
		return 0;
	rdlen = (size_t)in[at] << 8 | in[at + 1];
	end = at + 2 + rdlen;		/* where our options go */
	if (keepalive_100ms >= 0)
		add += 6;
	if (len + add > cap || len + add > 65535 || rdlen + add > 65535)
		return 0;
	if (pad_block) {
		size_t base = len + add + 4;	/* with an empty padding option */

		pad = (pad_block - base % pad_block) % pad_block;
		if (base + pad <= cap && base + pad <= 65535 &&
		    rdlen + add + 4 + pad <= 65535)
			add += 4 + pad;
		else
			pad_block = 0;
	}
	memcpy(out, in, end);
	memcpy(out + end + add, in + end, len - end);
	wr16(out + at, (uint16_t)(rdlen + add));
	if (keepalive_100ms >= 0) {
		wr16(out + end, EDNS_OPT_KEEPALIVE);
		wr16(out + end + 2, 2);
		wr16(out + end + 4, (uint16_t)(keepalive_100ms > 65535 ? 65535 :
		    keepalive_100ms));
		end += 6;
	}
	if (pad_block) {
		wr16(out + end, EDNS_OPT_PADDING);
		wr16(out + end + 2, (uint16_t)pad);
		memset(out + end + 4, 0, pad);
	}
	return len + add;
}

/* MNAME and RNAME of the SOA in our synthesized negative answers: .invalid
 * (RFC 6761), so that nobody mistakes it for a real zone. */
static const uint8_t synth_mname[] = "\x07" "egressd" "\x07" "invalid";
static const uint8_t synth_rname[] = "\x0a" "hostmaster" "\x07" "egressd" "\x07" "invalid";

/* One record owned by the question's name (a pointer to offset 12). */
static size_t
write_rr(uint8_t *p, size_t cap, uint16_t type, uint32_t ttl,
    const uint8_t *rd1, size_t l1, const uint8_t *rd2, size_t l2,
    const uint8_t *rd3, size_t l3)
{
	size_t rdlen = l1 + l2 + l3;

	if (cap < 12 + rdlen || rdlen > 65535)
		return 0;
	wr16(p, 0xc000 | PKT_HEADER_SIZE);
	wr16(p + 2, type);
	wr16(p + 4, LDNS_RR_CLASS_IN);
	wr16(p + 6, (uint16_t)(ttl >> 16));
	wr16(p + 8, (uint16_t)ttl);
	wr16(p + 10, (uint16_t)rdlen);
	memcpy(p + 12, rd1, l1);
	if (l2)
		memcpy(p + 12 + l1, rd2, l2);
	if (l3)
		memcpy(p + 12 + l1 + l2, rd3, l3);
	return 12 + rdlen;
}

size_t
answer_policy(uint8_t *out, size_t cap, size_t maxsize,
    const struct pkt_query *q, const struct answer_meta *m,
    const struct answer_rrs *r)
{
	struct pkt_query noedns;
	struct answer_meta tc;
	size_t len, n, alen = r->family == AF_INET ? 4 : 16;
	uint16_t an = 0;

	if (q->qname == NULL)
		return 0;
	/* header and question first; the OPT record goes last */
	noedns = *q;
	noedns.edns = false;
	if ((len = answer_synth(out, cap, &noedns, m)) == 0)
		goto truncate;
	for (size_t i = 0; r->family && i < r->n_addrs; i++, an++) {
		if (an == UINT16_MAX || (n = write_rr(out + len, cap - len,
		    r->family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA,
		    r->ttl, r->addrs[i], alen, NULL, 0, NULL, 0)) == 0)
			goto truncate;
		len += n;
	}
	wr16(out + 6, an);
	if (r->soa) {
		uint8_t nums[20];
		const uint32_t v[5] = { 1, 3600, 600, 86400, r->soa_ttl };

		for (int i = 0; i < 5; i++) {
			wr16(nums + 4 * i, (uint16_t)(v[i] >> 16));
			wr16(nums + 4 * i + 2, (uint16_t)v[i]);
		}
		if ((n = write_rr(out + len, cap - len, LDNS_RR_TYPE_SOA,
		    r->soa_ttl, synth_mname, sizeof(synth_mname), synth_rname,
		    sizeof(synth_rname), nums, sizeof(nums))) == 0)
			goto truncate;
		len += n;
		wr16(out + 8, 1);
	}
	if (q->edns) {
		if ((n = write_opt(out + len, cap - len, q, m)) == 0)
			goto truncate;
		len += n;
		wr16(out + 10, 1);
	}
	if (len <= maxsize)
		return len;
truncate:
	tc = *m;
	tc.tc = true;
	return answer_synth(out, cap, q, &tc);
}
