/* test_answer.c -- answer_synth() and answer_from_upstream() on the wire */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/packet.h"

#define CLIENT_ID	0xbeef
#define UPSTREAM_ID	0x4242
#define QLEN_WWW	(17 + 4)	/* www.example.com A IN */
#define OPT_LEN		11

#define SIG_TAIL	"8 3 300 20300101000000 20200101000000 12345 example.com. AAAA"
#define RR_A		"www.example.com. 300 IN A 192.0.2.1"
#define RR_A_SIG	"www.example.com. 300 IN RRSIG A " SIG_TAIL
#define RR_SOA		"example.com. 300 IN SOA ns.example.com. host.example.com. 1 7200 3600 1209600 300"
#define RR_SOA_SIG	"example.com. 300 IN RRSIG SOA " SIG_TAIL
#define RR_NSEC		"example.com. 300 IN NSEC www.example.com. A NS SOA RRSIG NSEC"
#define RR_NSEC_SIG	"example.com. 300 IN RRSIG NSEC " SIG_TAIL
#define RR_GLUE		"ns.example.com. 300 IN A 192.0.2.53"

/* A client query made by ldns and parsed by pkt_parse_query(); q points
 * into wire. */
struct client {
	uint8_t *wire;
	size_t len;
	struct pkt_query q;
};

enum { EDNS = 1, DO = 2, RD = 4, CD = 8, AD = 16, BADV = 32 };

static void
client_new(struct client *c, const char *name, ldns_rr_type type, int opts)
{
	uint16_t flags = (opts & RD ? LDNS_RD : 0) | (opts & CD ? LDNS_CD : 0) |
	    (opts & AD ? LDNS_AD : 0);
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type,
	    LDNS_RR_CLASS_IN, flags);

	assert_non_null(p);
	ldns_pkt_set_id(p, CLIENT_ID);
	if (opts & EDNS) {
		ldns_pkt_set_edns_udp_size(p, 4096);
		ldns_pkt_set_edns_do(p, (opts & DO) != 0);
		ldns_pkt_set_edns_version(p, opts & BADV ? 1 : 0);
	}
	assert_int_equal(ldns_pkt2wire(&c->wire, p, &c->len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	assert_int_equal(pkt_parse_query(c->wire, c->len, &c->q),
	    opts & BADV ? PKT_BADVERS : PKT_OK);
}

static void
client_free(struct client *c)
{
	free(c->wire);
}

static void
push(ldns_pkt *p, ldns_pkt_section sec, const char *const *rrs)
{
	for (; rrs && *rrs; rrs++) {
		ldns_rr *rr;

		if (ldns_rr_new_frm_str(&rr, *rrs, 0, NULL, NULL) != LDNS_STATUS_OK)
			fail_msg("bad test record: %s", *rrs);
		assert_true(ldns_pkt_push_rr(p, sec, rr));
	}
}

/* An upstream answer as libunbound hands it over: QR, RD, RA, AD, its own
 * ID, lowercase question, records given as text, and an OPT with DO. */
static size_t
upstream(uint8_t *buf, size_t cap, const char *qname, ldns_rr_type type,
    ldns_pkt_rcode rcode, const char *const *an, const char *const *ns,
    const char *const *ar)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), type,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	uint8_t *wire;
	size_t len;

	assert_non_null(p);
	ldns_pkt_set_id(p, UPSTREAM_ID);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_ad(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	ldns_pkt_set_edns_udp_size(p, 4096);
	ldns_pkt_set_edns_do(p, true);
	push(p, LDNS_SECTION_ANSWER, an);
	push(p, LDNS_SECTION_AUTHORITY, ns);
	push(p, LDNS_SECTION_ADDITIONAL, ar);
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_true(len <= cap);
	memcpy(buf, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static ldns_pkt *
reparse(const uint8_t *out, size_t len)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_wire2pkt(&p, out, len), LDNS_STATUS_OK);
	return p;
}

/* Count the records of one type in a section. */
static size_t
count_type(ldns_rr_list *l, ldns_rr_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t;
	return n;
}

/* ---- answer_synth ---- */

static void
test_synth_plain(void **state)
{
	struct client c;
	struct answer_meta m = { .rcode = RCODE_REFUSED, .ede = ANSWER_NO_EDE };
	uint8_t out[512];
	size_t n;

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | CD);
	n = answer_synth(out, sizeof(out), &c.q, &m);
	assert_int_equal(n, 12 + QLEN_WWW);
	assert_int_equal(rd16(out), CLIENT_ID);
	assert_int_equal(out[2], 0x81);		/* QR, opcode 0, RD */
	assert_int_equal(out[3], 0x95);		/* RA, CD, REFUSED */
	assert_int_equal(rd16(out + 4), 1);
	assert_int_equal(rd16(out + 6), 0);
	assert_int_equal(rd16(out + 8), 0);
	assert_int_equal(rd16(out + 10), 0);
	assert_memory_equal(out + 12, c.wire + 12, QLEN_WWW);
	client_free(&c);
}

static void
test_synth_bits(void **state)
{
	struct client c;
	struct answer_meta m = { .rcode = RCODE_NXDOMAIN, .ede = ANSWER_NO_EDE,
	    .tc = true, .ad = true };
	uint8_t out[512];

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, 0);
	assert_int_equal(answer_synth(out, sizeof(out), &c.q, &m), 12 + QLEN_WWW);
	assert_int_equal(out[2], 0x82);		/* QR, TC; RD not asked */
	assert_int_equal(out[3], 0xa3);		/* RA, AD, NXDOMAIN */
	client_free(&c);
}

static void
test_synth_edns_ede(void **state)
{
	static const uint8_t opt[] = {
		0, 0x00, 0x29, 0x04, 0xd0,	/* root, OPT, 1232 */
		0, 0, 0x80, 0x00,		/* ext-rcode, version, DO */
		0x00, 0x12,			/* rdlength 18 */
		0x00, 0x0f, 0x00, 0x0e,		/* EDE, length 14 */
		0x00, 0x12,			/* 18 Prohibited */
		'n', 'o', 't', ' ', 'a', ' ', 't', 'e', 'n', 'a', 'n', 't',
	};
	struct client c;
	struct answer_meta m = { .rcode = RCODE_REFUSED, .ede = EDE_PROHIBITED,
	    .ede_text = "not a tenant" };
	uint8_t out[512];
	ldns_pkt *p;
	size_t n;

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | EDNS | DO);
	n = answer_synth(out, sizeof(out), &c.q, &m);
	assert_int_equal(n, 12 + QLEN_WWW + sizeof(opt));
	assert_int_equal(out[3] & 0x0f, RCODE_REFUSED);
	assert_int_equal(rd16(out + 10), 1);
	assert_memory_equal(out + 12 + QLEN_WWW, opt, sizeof(opt));

	p = reparse(out, n);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), ANSWER_EDNS_SIZE);
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
	client_free(&c);
}

static void
test_synth_edns_plain(void **state)
{
	static const uint8_t opt_empty[] = {
		0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t opt_ede_only[] = {
		0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0x00, 0x00, 0x00, 0x06,
		0x00, 0x0f, 0x00, 0x02, 0x00, 0x0f,
	};
	struct client c;
	struct answer_meta m = { .rcode = RCODE_NOERROR, .ede = ANSWER_NO_EDE };
	uint8_t out[512];

	/* EDNS without DO and no EDE: an empty OPT */
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, EDNS);
	assert_int_equal(answer_synth(out, sizeof(out), &c.q, &m),
	    12 + QLEN_WWW + sizeof(opt_empty));
	assert_memory_equal(out + 12 + QLEN_WWW, opt_empty, sizeof(opt_empty));

	/* an EDE code without text */
	m.ede = EDE_BLOCKED;
	assert_int_equal(answer_synth(out, sizeof(out), &c.q, &m),
	    12 + QLEN_WWW + sizeof(opt_ede_only));
	assert_memory_equal(out + 12 + QLEN_WWW, opt_ede_only, sizeof(opt_ede_only));
	client_free(&c);

	/* no EDNS from the client: no OPT, even with an EDE to give */
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, 0);
	assert_int_equal(answer_synth(out, sizeof(out), &c.q, &m), 12 + QLEN_WWW);
	assert_int_equal(rd16(out + 10), 0);
	client_free(&c);
}

static void
test_synth_badvers(void **state)
{
	struct client c;
	struct answer_meta m = { .rcode = RCODE_BADVERS, .ede = ANSWER_NO_EDE };
	uint8_t out[512];
	size_t n;

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | EDNS | BADV);
	n = answer_synth(out, sizeof(out), &c.q, &m);
	assert_int_equal(n, 12 + QLEN_WWW + OPT_LEN);
	assert_int_equal(out[3] & 0x0f, 0);		/* 16 & 15 */
	assert_int_equal(rd16(out + 4), 1);
	assert_int_equal(rd16(out + 10), 1);
	assert_int_equal(out[12 + QLEN_WWW + 5], 1);	/* 16 >> 4 */
	assert_int_equal(out[12 + QLEN_WWW + 6], 0);	/* we speak version 0 */
	client_free(&c);
}

static void
test_synth_no_question(void **state)
{
	/* opcode 2 with RD: NOTIMP, no question read */
	static const uint8_t wire[] = {
		0xbe, 0xef, 0x11, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1,
	};
	struct pkt_query q;
	struct answer_meta m = { .rcode = RCODE_NOTIMP, .ede = ANSWER_NO_EDE };
	uint8_t out[64];

	assert_int_equal(pkt_parse_query(wire, sizeof(wire), &q), PKT_NOTIMP);
	assert_int_equal(answer_synth(out, sizeof(out), &q, &m), 12);
	assert_int_equal(rd16(out), 0xbeef);
	assert_int_equal(out[2], 0x91);		/* QR, opcode 2, RD */
	assert_int_equal(out[3], 0x84);		/* RA, NOTIMP */
	assert_int_equal(rd16(out + 4), 0);
	assert_int_equal(rd16(out + 10), 0);
}

static void
test_synth_cap(void **state)
{
	struct client c;
	struct answer_meta m = { .rcode = RCODE_REFUSED, .ede = EDE_PROHIBITED,
	    .ede_text = "x" };
	uint8_t out[512];
	size_t full = 12 + QLEN_WWW + OPT_LEN + 7;

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, EDNS);
	assert_int_equal(answer_synth(out, 0, &c.q, &m), 0);
	assert_int_equal(answer_synth(out, 11, &c.q, &m), 0);
	assert_int_equal(answer_synth(out, 12, &c.q, &m), 0);
	assert_int_equal(answer_synth(out, 12 + QLEN_WWW, &c.q, &m), 0);
	assert_int_equal(answer_synth(out, full - 1, &c.q, &m), 0);
	assert_int_equal(answer_synth(out, full, &c.q, &m), full);
	client_free(&c);

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, 0);
	assert_int_equal(answer_synth(out, 12 + QLEN_WWW - 1, &c.q, &m), 0);
	assert_int_equal(answer_synth(out, 12 + QLEN_WWW, &c.q, &m), 12 + QLEN_WWW);
	client_free(&c);
}

/* ---- answer_from_upstream ---- */

struct result {
	uint8_t out[4096];
	size_t len;
	ldns_pkt *p;
};

/* Run answer_from_upstream with a 4096-byte cap and parse the result. */
static void
convert(struct result *r, const struct client *c, const uint8_t *up,
    size_t uplen, bool secure, size_t maxsize)
{
	r->len = 0;
	assert_int_equal(answer_from_upstream(&c->q, up, uplen, secure, maxsize,
	    r->out, sizeof(r->out), &r->len), 0);
	assert_true(r->len >= 12 && r->len <= maxsize);
	r->p = reparse(r->out, r->len);
}

static void
test_upstream_header(void **state)
{
	static const char *const an[] = { RR_A, NULL };
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n;

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | CD);
	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);
	convert(&r, &c, up, n, false, 512);
	assert_int_equal(rd16(r.out), CLIENT_ID);
	assert_int_equal(r.out[2], 0x81);	/* QR, RD; no AA, no TC */
	assert_int_equal(r.out[3], 0x90);	/* RA, CD; no AD: not secure */
	assert_int_equal(ldns_pkt_qdcount(r.p), 1);
	assert_int_equal(ldns_pkt_ancount(r.p), 1);
	assert_int_equal(ldns_pkt_nscount(r.p), 0);
	assert_int_equal(ldns_pkt_arcount(r.p), 0);
	assert_false(ldns_pkt_edns(r.p));	/* upstream's OPT is not passed on */
	assert_int_equal(count_type(ldns_pkt_answer(r.p), LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(r.p);

	/* the upstream rcode is kept */
	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, NULL);
	convert(&r, &c, up, n, false, 512);
	assert_int_equal(r.out[3], 0x92);
	assert_int_equal(ldns_pkt_ancount(r.p), 0);
	ldns_pkt_free(r.p);
	client_free(&c);
}

/* An upstream message with TSIG records is refused (libldns would leak
 * all but the last; libunbound never passes one on). */
static void
test_upstream_tsig(void **state)
{
	static const char *const an[] = { RR_A, NULL };
	/* root owner, TSIG, ANY, TTL 0, RDLENGTH 17: algorithm ".", time,
	 * fudge, empty MAC, original ID, error, no other data */
	static const uint8_t tsig[28] = { 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 17,
		0, 0, 0, 0, 0, 0, 0, 1, 44, 0, 0, 0x12, 0x34, 0, 0, 0, 0 };
	struct client c;
	uint8_t up[4096], out[4096];
	size_t n, len = 0;

	(void)state;
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD);
	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);
	assert_int_equal(answer_from_upstream(&c.q, up, n, false, 512, out,
	    sizeof(out), &len), 0);
	for (int k = 0; k < 2; k++) {	/* one TSIG, then two */
		memcpy(up + n, tsig, sizeof(tsig));
		n += sizeof(tsig);
		up[11]++;		/* ARCOUNT */
		assert_int_equal(answer_from_upstream(&c.q, up, n, false, 512,
		    out, sizeof(out), &len), -EBADMSG);
	}
	client_free(&c);
}

static void
test_upstream_rrsig(void **state)
{
	static const char *const an[] = { RR_A, RR_A_SIG, NULL };
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n;

	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);

	/* without DO, the signature goes */
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | EDNS);
	convert(&r, &c, up, n, true, 1232);
	assert_int_equal(ldns_pkt_ancount(r.p), 1);
	assert_int_equal(count_type(ldns_pkt_answer(r.p), LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(r.p);
	client_free(&c);

	/* no EDNS at all: the same */
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD);
	convert(&r, &c, up, n, true, 512);
	assert_int_equal(ldns_pkt_ancount(r.p), 1);
	ldns_pkt_free(r.p);
	client_free(&c);

	/* with DO, it stays */
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | EDNS | DO);
	convert(&r, &c, up, n, true, 1232);
	assert_int_equal(ldns_pkt_ancount(r.p), 2);
	assert_int_equal(count_type(ldns_pkt_answer(r.p), LDNS_RR_TYPE_RRSIG), 1);
	ldns_pkt_free(r.p);
	client_free(&c);
}

static void
test_upstream_qtype_rrsig(void **state)
{
	static const char *const an[] = { RR_A_SIG,
	    "www.example.com. 300 IN RRSIG AAAA " SIG_TAIL, NULL };
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n;

	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_RRSIG,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);
	client_new(&c, "www.example.com", LDNS_RR_TYPE_RRSIG, RD);
	convert(&r, &c, up, n, false, 512);
	assert_int_equal(ldns_pkt_ancount(r.p), 2);
	assert_int_equal(count_type(ldns_pkt_answer(r.p), LDNS_RR_TYPE_RRSIG), 2);
	ldns_pkt_free(r.p);
	client_free(&c);
}

static void
test_upstream_ad(void **state)
{
	static const char *const an[] = { RR_A, NULL };
	static const struct {
		int opts;
		bool secure, ad;
	} c[] = {
		{ RD, false, false },
		{ RD, true, false },		/* client asked for nothing */
		{ RD | AD, true, true },
		{ RD | AD, false, false },
		{ RD | EDNS, true, false },
		{ RD | EDNS | DO, true, true },
		{ RD | EDNS | DO, false, false },
		{ RD | EDNS | DO | AD | CD, true, true },
	};
	uint8_t up[4096];
	size_t n;

	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct client cl;
		struct result r;

		client_new(&cl, "www.example.com", LDNS_RR_TYPE_A, c[i].opts);
		convert(&r, &cl, up, n, c[i].secure, 1232);
		if (ldns_pkt_ad(r.p) != c[i].ad)
			fail_msg("case %zu: AD %d, want %d", i, ldns_pkt_ad(r.p), c[i].ad);
		if (ldns_pkt_cd(r.p) != ((c[i].opts & CD) != 0))
			fail_msg("case %zu: CD not copied", i);
		ldns_pkt_free(r.p);
		client_free(&cl);
	}
}

static void
test_upstream_nxdomain_nsec(void **state)
{
	static const char *const ns[] = { RR_SOA, RR_SOA_SIG, RR_NSEC, RR_NSEC_SIG,
	    NULL };
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n;

	n = upstream(up, sizeof(up), "nx.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NXDOMAIN, NULL, ns, NULL);

	client_new(&c, "nx.example.com", LDNS_RR_TYPE_A, RD | EDNS);
	convert(&r, &c, up, n, true, 1232);
	assert_int_equal(ldns_pkt_get_rcode(r.p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_nscount(r.p), 1);
	assert_int_equal(count_type(ldns_pkt_authority(r.p), LDNS_RR_TYPE_SOA), 1);
	assert_false(ldns_pkt_ad(r.p));
	ldns_pkt_free(r.p);
	client_free(&c);

	client_new(&c, "nx.example.com", LDNS_RR_TYPE_A, RD | EDNS | DO);
	convert(&r, &c, up, n, true, 1232);
	assert_int_equal(ldns_pkt_get_rcode(r.p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_nscount(r.p), 4);
	assert_int_equal(count_type(ldns_pkt_authority(r.p), LDNS_RR_TYPE_NSEC), 1);
	assert_int_equal(count_type(ldns_pkt_authority(r.p), LDNS_RR_TYPE_RRSIG), 2);
	assert_true(ldns_pkt_ad(r.p));
	ldns_pkt_free(r.p);
	client_free(&c);

	/* a client asking for NSEC itself gets the NSEC in the answer */
	{
		static const char *const an[] = { RR_NSEC, RR_NSEC_SIG, NULL };

		n = upstream(up, sizeof(up), "example.com", LDNS_RR_TYPE_NSEC,
		    LDNS_RCODE_NOERROR, an, NULL, NULL);
		client_new(&c, "example.com", LDNS_RR_TYPE_NSEC, RD);
		convert(&r, &c, up, n, true, 512);
		assert_int_equal(ldns_pkt_ancount(r.p), 1);
		assert_int_equal(count_type(ldns_pkt_answer(r.p), LDNS_RR_TYPE_NSEC), 1);
		ldns_pkt_free(r.p);
		client_free(&c);
	}
}

static void
test_upstream_case(void **state)
{
	static const char *const an[] = { RR_A, NULL };
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n;

	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);
	client_new(&c, "WwW.ExAmPlE.cOm", LDNS_RR_TYPE_A, RD);
	assert_memory_equal(c.q.qname, "\3WwW\7ExAmPlE\3cOm", 17);
	convert(&r, &c, up, n, false, 512);
	assert_int_equal(rd16(r.out + 4), 1);
	assert_memory_equal(r.out + 12, "\3WwW\7ExAmPlE\3cOm", 17);
	assert_int_equal(rd16(r.out + 12 + 17), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_ancount(r.p), 1);
	ldns_pkt_free(r.p);
	client_free(&c);
}

static void
test_upstream_edns(void **state)
{
	static const uint8_t opt_do[] = {
		0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0x80, 0x00, 0x00, 0x00,
	};
	static const char *const an[] = { RR_A, NULL };
	static const char *const ar[] = { RR_GLUE, NULL };
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n;

	n = upstream(up, sizeof(up), "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, ar);

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | EDNS | DO);
	convert(&r, &c, up, n, false, 1232);
	assert_int_equal(rd16(r.out + 10), 2);		/* glue and our OPT */
	assert_memory_equal(r.out + r.len - OPT_LEN, opt_do, OPT_LEN);
	assert_true(ldns_pkt_edns(r.p));
	assert_int_equal(ldns_pkt_edns_udp_size(r.p), ANSWER_EDNS_SIZE);
	assert_int_equal(ldns_pkt_arcount(r.p), 1);	/* ldns counts the OPT apart */
	assert_int_equal(count_type(ldns_pkt_additional(r.p), LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(r.p);
	client_free(&c);

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD);
	convert(&r, &c, up, n, false, 512);
	assert_int_equal(rd16(r.out + 10), 1);
	assert_false(ldns_pkt_edns(r.p));
	assert_int_equal(ldns_pkt_arcount(r.p), 1);
	ldns_pkt_free(r.p);
	client_free(&c);
}

/* Twenty A records: 20 * 16 bytes of answer after the question. */
static size_t
upstream_big(uint8_t *up, size_t cap)
{
	const char *an[21];
	char text[20][64];

	for (int i = 0; i < 20; i++) {
		snprintf(text[i], sizeof(text[i]),
		    "www.example.com. 300 IN A 192.0.2.%d", i + 1);
		an[i] = text[i];
	}
	an[20] = NULL;
	return upstream(up, cap, "www.example.com", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);
}

static void
test_upstream_truncated(void **state)
{
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n = upstream_big(up, sizeof(up)), full;

	/* exactly maxsize fits; one byte less truncates */
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | EDNS);
	convert(&r, &c, up, n, false, 1232);
	full = r.len;
	assert_int_equal(full, 12 + QLEN_WWW + 20 * 16 + OPT_LEN);
	assert_int_equal(ldns_pkt_ancount(r.p), 20);
	assert_false(ldns_pkt_tc(r.p));
	ldns_pkt_free(r.p);
	convert(&r, &c, up, n, false, full);
	assert_int_equal(r.len, full);
	ldns_pkt_free(r.p);

	convert(&r, &c, up, n, false, full - 1);
	assert_int_equal(r.len, 12 + QLEN_WWW + OPT_LEN);
	assert_true(ldns_pkt_tc(r.p));
	assert_int_equal(ldns_pkt_qdcount(r.p), 1);
	assert_int_equal(ldns_pkt_ancount(r.p), 0);
	assert_int_equal(ldns_pkt_nscount(r.p), 0);
	assert_true(ldns_pkt_edns(r.p));
	assert_int_equal(rd16(r.out), CLIENT_ID);
	assert_memory_equal(r.out + 12, c.wire + 12, QLEN_WWW);
	ldns_pkt_free(r.p);
	client_free(&c);
}

static void
test_upstream_truncated_cap(void **state)
{
	struct client c;
	struct result r;
	uint8_t up[4096];
	size_t n = upstream_big(up, sizeof(up));

	/* no EDNS, a small maxsize */
	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD);
	convert(&r, &c, up, n, false, 100);
	assert_int_equal(r.len, 12 + QLEN_WWW);
	assert_int_equal(r.out[2], 0x83);	/* QR, TC, RD */
	assert_int_equal(ldns_pkt_ancount(r.p), 0);
	ldns_pkt_free(r.p);

	/* a buffer smaller than the answer truncates as well */
	r.len = 0;
	assert_int_equal(answer_from_upstream(&c.q, up, n, false, 4096, r.out,
	    100, &r.len), 0);
	assert_int_equal(r.len, 12 + QLEN_WWW);
	assert_int_equal(r.out[2], 0x83);
	/* and one too small for the question cannot be answered at all */
	assert_int_equal(answer_from_upstream(&c.q, up, n, false, 4096, r.out,
	    20, &r.len), -ENOBUFS);
	client_free(&c);
}

static void
test_upstream_garbage(void **state)
{
	static const uint8_t hdr_only_claims[] = {
		0x42, 0x42, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
	};
	static const uint8_t short_pkt[] = { 0x42, 0x42, 0x81, 0x80, 0 };
	static const uint8_t bad_rdlen[] = {
		0x42, 0x42, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0x00, 0x40, 1, 2, 3, 4,
	};
	struct client c;
	uint8_t out[512];
	size_t len = 12345;

	client_new(&c, "www.example.com", LDNS_RR_TYPE_A, RD | EDNS);
	assert_int_equal(answer_from_upstream(&c.q, short_pkt, 0, false, 512,
	    out, sizeof(out), &len), -EBADMSG);
	assert_int_equal(answer_from_upstream(&c.q, short_pkt, sizeof(short_pkt),
	    false, 512, out, sizeof(out), &len), -EBADMSG);
	assert_int_equal(answer_from_upstream(&c.q, hdr_only_claims,
	    sizeof(hdr_only_claims), false, 512, out, sizeof(out), &len), -EBADMSG);
	assert_int_equal(answer_from_upstream(&c.q, bad_rdlen, sizeof(bad_rdlen),
	    false, 512, out, sizeof(out), &len), -EBADMSG);
	assert_int_equal(len, 12345);
	client_free(&c);
}

/* ---- answer_stream_options ---- */

/* The value of an EDNS option in a reparsed answer's OPT data, its
 * length in *olen; NULL when absent. */
static const uint8_t *
find_option(ldns_pkt *p, uint16_t code, uint16_t *olen)
{
	ldns_rdf *d = ldns_pkt_edns_data(p);
	const uint8_t *b;
	size_t n, pos = 0;

	if (d == NULL)
		return NULL;
	b = ldns_rdf_data(d);
	n = ldns_rdf_size(d);
	while (pos + 4 <= n) {
		uint16_t c = rd16(b + pos), l = rd16(b + pos + 2);

		if (pos + 4 + l > n)
			return NULL;
		if (c == code) {
			*olen = l;
			return b + pos + 4;
		}
		pos += 4 + (size_t)l;
	}
	return NULL;
}

static void
test_stream_keepalive_padding(void **state)
{
	static const char *const an[] = { RR_A, NULL };
	uint8_t up[1024], ans[2048], out[2048];
	struct client c;
	size_t ulen, alen, n;
	uint16_t olen = 0;
	const uint8_t *v;
	ldns_pkt *p;

	client_new(&c, "www.example.com.", LDNS_RR_TYPE_A, EDNS | RD);
	ulen = upstream(up, sizeof(up), "www.example.com.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, an, NULL, NULL);
	assert_int_equal(answer_from_upstream(&c.q, up, ulen, false, 65535, ans,
	    sizeof(ans), &alen), 0);

	/* keepalive only: 6 more bytes, the option carries the timeout */
	n = answer_stream_options(ans, alen, out, sizeof(out), 100, 0);
	assert_int_equal(n, alen + 6);
	p = reparse(out, n);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
	assert_non_null(v = find_option(p, EDNS_OPT_KEEPALIVE, &olen));
	assert_int_equal(olen, 2);
	assert_int_equal(rd16(v), 100);
	assert_null(find_option(p, EDNS_OPT_PADDING, &olen));
	ldns_pkt_free(p);

	/* padding: a multiple of 468, with or without keepalive */
	n = answer_stream_options(ans, alen, out, sizeof(out), -1, 468);
	assert_int_equal(n % 468, 0);
	p = reparse(out, n);
	assert_non_null(find_option(p, EDNS_OPT_PADDING, &olen));
	assert_int_equal(olen, 468 - alen - 4);
	assert_null(find_option(p, EDNS_OPT_KEEPALIVE, &olen));
	ldns_pkt_free(p);
	n = answer_stream_options(ans, alen, out, sizeof(out), 7, 468);
	assert_int_equal(n, 468);
	p = reparse(out, n);
	assert_non_null(find_option(p, EDNS_OPT_KEEPALIVE, &olen));
	assert_non_null(find_option(p, EDNS_OPT_PADDING, &olen));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_id(p), CLIENT_ID);
	ldns_pkt_free(p);

	/* padding that would not fit is left out; keepalive still goes */
	n = answer_stream_options(ans, alen, out, alen + 10, 7, 468);
	assert_int_equal(n, alen + 6);
	/* not even keepalive fits: nothing */
	assert_int_equal(answer_stream_options(ans, alen, out, alen + 2, 7, 0), 0);
	client_free(&c);
}

static void
test_stream_options_synth_ede(void **state)
{
	struct answer_meta m = { .rcode = RCODE_REFUSED, .ede = EDE_PROHIBITED,
	    .ede_text = "who are you" };
	uint8_t ans[512], out[1024];
	struct client c;
	size_t alen, n;
	uint16_t olen;
	ldns_pkt *p;

	client_new(&c, "www.example.com.", LDNS_RR_TYPE_A, EDNS);
	alen = answer_synth(ans, sizeof(ans), &c.q, &m);
	n = answer_stream_options(ans, alen, out, sizeof(out), 0, 468);
	assert_int_equal(n, 468);
	p = reparse(out, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_non_null(find_option(p, EDNS_OPT_EDE, &olen));	/* kept */
	assert_int_equal(olen, 2 + strlen("who are you"));
	assert_non_null(find_option(p, EDNS_OPT_KEEPALIVE, &olen));
	ldns_pkt_free(p);
	client_free(&c);
}

static void
test_stream_options_no_opt(void **state)
{
	struct answer_meta m = { .rcode = RCODE_NOERROR, .ede = ANSWER_NO_EDE };
	static const uint8_t garbage[] = { 0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 0,
	    0, 0, 0, 1, 3, 'w', 'w' };
	uint8_t ans[512], out[1024];
	struct client c;
	size_t alen;

	client_new(&c, "www.example.com.", LDNS_RR_TYPE_A, 0);	/* no EDNS */
	alen = answer_synth(ans, sizeof(ans), &c.q, &m);
	assert_int_equal(answer_stream_options(ans, alen, out, sizeof(out), 10,
	    468), 0);
	assert_int_equal(answer_stream_options(garbage, sizeof(garbage), out,
	    sizeof(out), 10, 468), 0);
	assert_int_equal(answer_stream_options(ans, 5, out, sizeof(out), 10,
	    468), 0);
	client_free(&c);

	/* an OPT record that is not the last one is left alone */
	client_new(&c, "www.example.com.", LDNS_RR_TYPE_A, EDNS);
	alen = answer_synth(ans, sizeof(ans), &c.q, &m);
	assert_true(answer_stream_options(ans, alen, out, sizeof(out), 10, 0) > 0);
	{
		static const uint8_t a_rr[] = { 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
		    192, 0, 2, 1 };

		memcpy(ans + alen, a_rr, sizeof(a_rr));
		ans[11]++;	/* ARCOUNT */
		assert_int_equal(answer_stream_options(ans, alen + sizeof(a_rr),
		    out, sizeof(out), 10, 0), 0);
	}
	client_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synth_plain),
		cmocka_unit_test(test_synth_bits),
		cmocka_unit_test(test_synth_edns_ede),
		cmocka_unit_test(test_synth_edns_plain),
		cmocka_unit_test(test_synth_badvers),
		cmocka_unit_test(test_synth_no_question),
		cmocka_unit_test(test_synth_cap),
		cmocka_unit_test(test_upstream_header),
		cmocka_unit_test(test_upstream_tsig),
		cmocka_unit_test(test_upstream_rrsig),
		cmocka_unit_test(test_upstream_qtype_rrsig),
		cmocka_unit_test(test_upstream_ad),
		cmocka_unit_test(test_upstream_nxdomain_nsec),
		cmocka_unit_test(test_upstream_case),
		cmocka_unit_test(test_upstream_edns),
		cmocka_unit_test(test_upstream_truncated),
		cmocka_unit_test(test_upstream_truncated_cap),
		cmocka_unit_test(test_upstream_garbage),
		cmocka_unit_test(test_stream_keepalive_padding),
		cmocka_unit_test(test_stream_options_synth_ede),
		cmocka_unit_test(test_stream_options_no_opt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
