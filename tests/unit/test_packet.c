/* test_packet.c -- pkt_parse_query() verdicts and pkt_name_to_text() escapes */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "resolver/packet.h"

/* Wire snippets, written out so each case shows its bytes. */
#define HDR(flags, qd, an, ns, ar) "1234" flags qd an ns ar
#define QUERY_HDR	HDR("0100", "0001", "0000", "0000", "0000")
#define EDNS_HDR	HDR("0100", "0001", "0000", "0000", "0001")
#define WWW_EXAMPLE_COM	"03777777 076578616d706c65 03636f6d 00"
#define A_IN		"0001 0001"
/* OPT: root owner, type 41, UDP 4096, ext-rcode 0, version, flags, rdlen */
#define OPT_V0		"00 0029 1000 00 00 0000"
#define OPT_V0_DO	"00 0029 1000 00 00 8000"

struct wire {
	uint8_t b[1024];
	size_t len;
};

static void
put(struct wire *w, const void *p, size_t n)
{
	assert_true(w->len + n <= sizeof(w->b));
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void
put8(struct wire *w, uint8_t v)
{
	put(w, &v, 1);
}

/* Append hex digits to the wire; spaces are for the reader. */
static void
put_hex(struct wire *w, const char *hex)
{
	while (*hex) {
		unsigned v;

		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		put8(w, (uint8_t)v);
		hex += 2;
	}
}

static void
hex(struct wire *w, const char *s)
{
	w->len = 0;
	put_hex(w, s);
}

static enum pkt_verdict
parse(const struct wire *w, struct pkt_query *q)
{
	return pkt_parse_query(w->b, w->len, q);
}

/* ---- good queries ---- */

static void
test_good_query(void **state)
{
	struct wire w;
	struct pkt_query q;

	hex(&w, QUERY_HDR WWW_EXAMPLE_COM A_IN);
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.opcode, 0);
	assert_true(q.rd);
	assert_false(q.cd);
	assert_false(q.ad);
	assert_ptr_equal(q.qname, w.b + 12);
	assert_int_equal(q.qname_len, 17);
	assert_int_equal(q.qtype, 1);
	assert_int_equal(q.qclass, 1);
	assert_int_equal(q.question_end, 12 + 17 + 4);
	assert_false(q.edns);
	assert_false(q.do_bit);
	assert_int_equal(q.udp_size, 0);
	assert_false(q.padding);
	assert_false(q.keepalive);
}

static void
test_good_query_bits(void **state)
{
	struct wire w;
	struct pkt_query q;

	/* RD clear, AD and CD set, qtype AAAA, root name */
	hex(&w, HDR("0030", "0001", "0000", "0000", "0000") "00 001c 0001");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_false(q.rd);
	assert_true(q.cd);
	assert_true(q.ad);
	assert_int_equal(q.qname_len, 1);
	assert_int_equal(q.qtype, 28);

	/* other types pass: ANY, a high unassigned type, type 0 */
	hex(&w, QUERY_HDR WWW_EXAMPLE_COM "00ff 0001");
	assert_int_equal(parse(&w, &q), PKT_OK);
	hex(&w, QUERY_HDR WWW_EXAMPLE_COM "ff00 0001");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_int_equal(q.qtype, 0xff00);
	hex(&w, QUERY_HDR WWW_EXAMPLE_COM "007f 0001");
	assert_int_equal(parse(&w, &q), PKT_OK);
}

static void
test_good_edns(void **state)
{
	struct wire w;
	struct pkt_query q;

	/* DO, padding (3 zero bytes) and an empty keepalive */
	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN
	    "00 0029 1000 00 00 8000 000b" "000c 0003 000000" "000b 0000");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_true(q.edns);
	assert_true(q.do_bit);
	assert_int_equal(q.edns_version, 0);
	assert_int_equal(q.udp_size, 4096);
	assert_true(q.padding);
	assert_true(q.keepalive);
	assert_int_equal(q.question_end, 12 + 17 + 4);
	assert_ptr_equal(q.qname, w.b + 12);

	/* no DO, no options; an unknown option is skipped */
	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN OPT_V0 "0000");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_true(q.edns);
	assert_false(q.do_bit);
	assert_false(q.padding);
	assert_false(q.keepalive);
	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN OPT_V0 "0006" "fde9 0002 abcd");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_false(q.padding);
}

static void
test_edns_small_udp_size(void **state)
{
	struct wire w;
	struct pkt_query q;

	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN "00 0029 0064 00 00 0000 0000");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_int_equal(q.udp_size, 512);
	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN "00 0029 0000 00 00 0000 0000");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_int_equal(q.udp_size, 512);
	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN "00 0029 0201 00 00 0000 0000");
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_int_equal(q.udp_size, 513);
}

/* ---- verdicts other than PKT_OK ---- */

struct vcase {
	const char *what;
	const char *hex;
	enum pkt_verdict want;
	bool qname;		/* the question was read: an answer can echo it */
};

static void
run_cases(const struct vcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct wire w;
		struct pkt_query q;
		enum pkt_verdict v;

		hex(&w, c[i].hex);
		v = parse(&w, &q);
		if (v != c[i].want)
			fail_msg("%s: verdict %d, want %d", c[i].what, v, c[i].want);
		if (v == PKT_DROP)
			continue;
		if (q.id != 0x1234)
			fail_msg("%s: id %#x", c[i].what, q.id);
		if ((q.qname != NULL) != c[i].qname)
			fail_msg("%s: qname %s", c[i].what, q.qname ? "set" : "NULL");
		if (q.qname && q.qname != w.b + 12)
			fail_msg("%s: qname does not point at the question", c[i].what);
	}
}

static void
test_drop(void **state)
{
	static const struct vcase c[] = {
		{ "empty", "", PKT_DROP, false },
		{ "11 bytes", "1234 0100 0001 0000 0000 00", PKT_DROP, false },
		{ "QR set", HDR("8100", "0001", "0000", "0000", "0000")
		    WWW_EXAMPLE_COM A_IN, PKT_DROP, false },
		{ "QR set, header only", HDR("8000", "0000", "0000", "0000", "0000"),
		    PKT_DROP, false },
	};
	struct pkt_query q;

	run_cases(c, sizeof(c) / sizeof(*c));
	/* nothing of a dropped packet is kept */
	q.qname = (const uint8_t *)"x";
	assert_int_equal(pkt_parse_query((const uint8_t *)"", 0, &q), PKT_DROP);
	assert_null(q.qname);
}

static void
test_formerr_header(void **state)
{
	static const struct vcase c[] = {
		{ "header only", QUERY_HDR, PKT_FORMERR, false },
		{ "qdcount 0", HDR("0100", "0000", "0000", "0000", "0000"),
		    PKT_FORMERR, false },
		{ "qdcount 2", HDR("0100", "0002", "0000", "0000", "0000")
		    WWW_EXAMPLE_COM A_IN WWW_EXAMPLE_COM A_IN, PKT_FORMERR, false },
		{ "ancount 1", HDR("0100", "0001", "0001", "0000", "0000")
		    WWW_EXAMPLE_COM A_IN, PKT_FORMERR, false },
		{ "nscount 1", HDR("0100", "0001", "0000", "0001", "0000")
		    WWW_EXAMPLE_COM A_IN, PKT_FORMERR, false },
		{ "arcount 2", HDR("0100", "0001", "0000", "0000", "0002")
		    WWW_EXAMPLE_COM A_IN OPT_V0 "0000" OPT_V0 "0000",
		    PKT_FORMERR, false },
	};

	run_cases(c, sizeof(c) / sizeof(*c));
}

static void
test_formerr_question(void **state)
{
	static const struct vcase c[] = {
		{ "truncated label", QUERY_HDR "03777777 07657861", PKT_FORMERR, false },
		{ "no root label", QUERY_HDR "03777777", PKT_FORMERR, false },
		{ "compression pointer", QUERY_HDR "c00c" A_IN, PKT_FORMERR, false },
		{ "pointer after a label", QUERY_HDR "03777777 c00c" A_IN,
		    PKT_FORMERR, false },
		{ "reserved label type 0x80", QUERY_HDR "8161 00" A_IN,
		    PKT_FORMERR, false },
		{ "no qtype", QUERY_HDR WWW_EXAMPLE_COM, PKT_FORMERR, false },
		{ "no qclass", QUERY_HDR WWW_EXAMPLE_COM "0001", PKT_FORMERR, false },
		{ "half a qclass", QUERY_HDR WWW_EXAMPLE_COM "0001 00",
		    PKT_FORMERR, false },
		{ "trailing byte", QUERY_HDR WWW_EXAMPLE_COM A_IN "00",
		    PKT_FORMERR, true },
		{ "qtype OPT", QUERY_HDR WWW_EXAMPLE_COM "0029 0001", PKT_FORMERR, true },
		{ "meta qtype 128", QUERY_HDR WWW_EXAMPLE_COM "0080 0001",
		    PKT_FORMERR, true },
		{ "meta qtype 200", QUERY_HDR WWW_EXAMPLE_COM "00c8 0001",
		    PKT_FORMERR, true },
		{ "qtype TSIG (250)", QUERY_HDR WWW_EXAMPLE_COM "00fa 0001",
		    PKT_FORMERR, true },
	};

	run_cases(c, sizeof(c) / sizeof(*c));
}

static void
test_formerr_long_names(void **state)
{
	struct wire w;
	struct pkt_query q;

	/* a 63-octet label is fine, 64 is not */
	hex(&w, QUERY_HDR);
	put8(&w, 63);
	for (int i = 0; i < 63; i++)
		put8(&w, 'a');
	put_hex(&w, "00" A_IN);
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_int_equal(q.qname_len, 65);

	hex(&w, QUERY_HDR);
	put8(&w, 64);
	for (int i = 0; i < 64; i++)
		put8(&w, 'a');
	put_hex(&w, "00" A_IN);
	assert_int_equal(parse(&w, &q), PKT_FORMERR);
	assert_null(q.qname);

	/* 255 octets: 3 labels of 63, one of 61, the root */
	hex(&w, QUERY_HDR);
	for (int l = 0; l < 4; l++) {
		int n = l < 3 ? 63 : 61;

		put8(&w, (uint8_t)n);
		for (int i = 0; i < n; i++)
			put8(&w, 'a');
	}
	put_hex(&w, "00" A_IN);
	assert_int_equal(parse(&w, &q), PKT_OK);
	assert_int_equal(q.qname_len, 255);

	/* 256 octets: the last label one longer */
	hex(&w, QUERY_HDR);
	for (int l = 0; l < 4; l++) {
		int n = l < 3 ? 63 : 62;

		put8(&w, (uint8_t)n);
		for (int i = 0; i < n; i++)
			put8(&w, 'a');
	}
	put_hex(&w, "00" A_IN);
	assert_int_equal(parse(&w, &q), PKT_FORMERR);
	assert_null(q.qname);

	/* 128 one-octet labels: 257 octets */
	hex(&w, QUERY_HDR);
	for (int l = 0; l < 128; l++)
		put_hex(&w, "0161");
	put_hex(&w, "00" A_IN);
	assert_int_equal(parse(&w, &q), PKT_FORMERR);
}

static void
test_formerr_opt(void **state)
{
	static const struct vcase c[] = {
		{ "OPT with owner www", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    "03777777 00 0029 1000 00 00 0000 0000", PKT_FORMERR, true },
		{ "additional A record", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    "00 0001 0001 00000e10 0004 c0000201", PKT_FORMERR, true },
		{ "arcount 1, nothing there", EDNS_HDR WWW_EXAMPLE_COM A_IN,
		    PKT_FORMERR, true },
		{ "OPT cut in its fixed part", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    "00 0029 1000 00 00 00", PKT_FORMERR, true },
		{ "OPT rdlength past the end", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    OPT_V0 "0008" "000c 0000", PKT_FORMERR, true },
		{ "bytes after OPT", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    OPT_V0 "0000" "00", PKT_FORMERR, true },
		{ "option length past rdata", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    OPT_V0 "0006" "000c 0004 0000", PKT_FORMERR, true },
		{ "option header cut", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    OPT_V0 "0002" "000c", PKT_FORMERR, true },
		{ "keepalive with a timeout", EDNS_HDR WWW_EXAMPLE_COM A_IN
		    OPT_V0 "0006" "000b 0002 0064", PKT_FORMERR, true },
		{ "qtype OPT with EDNS", EDNS_HDR WWW_EXAMPLE_COM "0029 0001"
		    OPT_V0 "0000", PKT_FORMERR, true },
	};

	run_cases(c, sizeof(c) / sizeof(*c));
}

static void
test_notimp(void **state)
{
	static const struct vcase c[] = {
		{ "opcode 1 (IQUERY)", HDR("0900", "0001", "0000", "0000", "0000")
		    WWW_EXAMPLE_COM A_IN, PKT_NOTIMP, false },
		{ "opcode 2 (STATUS)", HDR("1100", "0001", "0000", "0000", "0000")
		    WWW_EXAMPLE_COM A_IN, PKT_NOTIMP, false },
		{ "opcode 4 (NOTIFY)", HDR("2000", "0001", "0000", "0000", "0000")
		    WWW_EXAMPLE_COM "0006 0001", PKT_NOTIMP, false },
		{ "opcode 5 (UPDATE)", HDR("2900", "0001", "0001", "0001", "0000")
		    WWW_EXAMPLE_COM "0006 0001", PKT_NOTIMP, false },
		{ "opcode 15, header only", HDR("7800", "0000", "0000", "0000", "0000"),
		    PKT_NOTIMP, false },
		{ "MAILB", QUERY_HDR WWW_EXAMPLE_COM "00fd 0001", PKT_NOTIMP, true },
		{ "MAILA", QUERY_HDR WWW_EXAMPLE_COM "00fe 0001", PKT_NOTIMP, true },
	};
	struct wire w;
	struct pkt_query q;

	run_cases(c, sizeof(c) / sizeof(*c));
	/* the header bits survive for the answer */
	hex(&w, c[3].hex);
	assert_int_equal(parse(&w, &q), PKT_NOTIMP);
	assert_int_equal(q.opcode, 5);
	assert_true(q.rd);
}

static void
test_refused(void **state)
{
	static const struct vcase c[] = {
		{ "AXFR", QUERY_HDR WWW_EXAMPLE_COM "00fc 0001", PKT_REFUSED, true },
		{ "IXFR", QUERY_HDR WWW_EXAMPLE_COM "00fb 0001", PKT_REFUSED, true },
		{ "class CH", QUERY_HDR WWW_EXAMPLE_COM "0010 0003", PKT_REFUSED, true },
		{ "class ANY", QUERY_HDR WWW_EXAMPLE_COM "0001 00ff", PKT_REFUSED, true },
		{ "class NONE", QUERY_HDR WWW_EXAMPLE_COM "0001 00fe", PKT_REFUSED, true },
		{ "class CH with EDNS", EDNS_HDR WWW_EXAMPLE_COM "0010 0003"
		    OPT_V0 "0000", PKT_REFUSED, true },
	};
	struct wire w;
	struct pkt_query q;

	run_cases(c, sizeof(c) / sizeof(*c));
	hex(&w, c[2].hex);
	assert_int_equal(parse(&w, &q), PKT_REFUSED);
	assert_int_equal(q.qtype, 16);
	assert_int_equal(q.qclass, 3);
}

static void
test_badvers(void **state)
{
	struct wire w;
	struct pkt_query q;

	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN "00 0029 1000 00 01 8000 0000");
	assert_int_equal(parse(&w, &q), PKT_BADVERS);
	assert_true(q.edns);
	assert_int_equal(q.edns_version, 1);
	assert_true(q.do_bit);
	assert_int_equal(q.udp_size, 4096);
	assert_ptr_equal(q.qname, w.b + 12);
	assert_int_equal(q.qtype, 1);

	hex(&w, EDNS_HDR WWW_EXAMPLE_COM A_IN "00 0029 1000 00 ff 0000 0000");
	assert_int_equal(parse(&w, &q), PKT_BADVERS);
	assert_int_equal(q.edns_version, 255);
}

/* ---- pkt_name_to_text ---- */

static void
check_text(const char *wirehex, const char *want)
{
	struct wire w;
	char out[PKT_MAX_NAME_TEXT];
	int n;

	hex(&w, wirehex);
	n = pkt_name_to_text(w.b, out, sizeof(out));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_name_to_text(void **state)
{
	check_text("00", ".");
	check_text(WWW_EXAMPLE_COM, "www.example.com.");
	check_text("03577757 00", "WwW.");		/* case kept */
	check_text("03612e62 00", "a\\.b.");
	check_text("035c5c5c 00", "\\\\\\\\\\\\.");
	check_text("03612062 00", "a\\032b.");
	check_text("03610062 00", "a\\000b.");
	check_text("0361ff62 00", "a\\255b.");
	check_text("03612262 00", "a\\\"b.");
	check_text("027f80 00", "\\127\\128.");
	check_text("012a 0161 00", "*.a.");		/* wildcard stays plain */
	check_text("032d5f7e 00", "-_~.");
}

static void
test_name_to_text_longest(void **state)
{
	struct wire w;
	char out[PKT_MAX_NAME_TEXT];
	int n;

	/* the longest text a name can have: 250 octets, each \255 */
	w.len = 0;
	for (int l = 0; l < 4; l++) {
		int len = l < 3 ? 63 : 61;

		put8(&w, (uint8_t)len);
		for (int i = 0; i < len; i++)
			put8(&w, 0xff);
	}
	put8(&w, 0);
	n = pkt_name_to_text(w.b, out, sizeof(out));
	assert_int_equal(n, 250 * 4 + 4);
	assert_int_equal(strlen(out), 250 * 4 + 4);
	assert_memory_equal(out, "\\255\\255", 8);
	assert_string_equal(out + n - 5, "\\255.");
}

/* Every outlen below strlen(want) + 1 gives -1 and writes nothing past
 * outlen; strlen(want) + 1 gives the text. */
static void
check_fit(const char *wirehex, const char *want)
{
	struct wire w;
	char out[64];
	size_t need = strlen(want) + 1;
	int n;

	hex(&w, wirehex);
	for (size_t len = 0; len < need; len++) {
		memset(out, 'X', sizeof(out));
		if (pkt_name_to_text(w.b, out, len) != -1)
			fail_msg("%s: outlen %zu accepted", want, len);
		for (size_t i = len; i < sizeof(out); i++)
			if (out[i] != 'X')
				fail_msg("%s: outlen %zu: wrote byte %zu", want, len, i);
	}
	memset(out, 'X', sizeof(out));
	if ((n = pkt_name_to_text(w.b, out, need)) != (int)need - 1)
		fail_msg("%s: outlen %zu: %d", want, need, n);
	assert_string_equal(out, want);
	assert_int_equal(out[need], 'X');
}

static void
test_name_to_text_small(void **state)
{
	/* too small: -1, and nothing written past outlen; an exact fit
	 * (text and NUL) is enough */
	check_fit("00", ".");
	check_fit(WWW_EXAMPLE_COM, "www.example.com.");
	check_fit("04 5c5c5c5c 00", "\\\\\\\\\\\\\\\\.");
	check_fit("0120 00", "\\032.");
	check_fit("0161 00", "a.");
	check_fit("02 ff61 0162 00", "\\255a.b.");
}

/* pkt_skip_name: plain and compressed names, and every way off the end */
static void
test_skip_name(void **state)
{
	/* 12 header octets, then "\3www\7example\3com\0" at 12 and a
	 * pointer to it at 29 */
	uint8_t m[31 + 200] = { 0 };
	uint8_t deep[300];

	(void)state;
	memcpy(m + 12, "\3www\7example\3com\0", 17);
	m[29] = 0xc0;
	m[30] = 12;
	assert_int_equal(pkt_skip_name(m, 31, 12), 29);
	assert_int_equal(pkt_skip_name(m, 31, 29), 31);
	assert_int_equal(pkt_skip_name(m, 30, 29), 0);	/* half a pointer */
	assert_int_equal(pkt_skip_name(m, 28, 12), 0);	/* no root label */
	assert_int_equal(pkt_skip_name(m, 31, 31), 0);	/* at the end */
	m[12] = 0x80;					/* reserved label type */
	assert_int_equal(pkt_skip_name(m, 31, 12), 0);
	/* 129 one-octet labels: more than a name can have */
	for (size_t i = 0; i < 129; i++)
		deep[2 * i] = 1, deep[2 * i + 1] = 'a';
	deep[258] = 0;
	assert_int_equal(pkt_skip_name(deep, 259, 0), 0);
	assert_int_equal(pkt_skip_name(deep, 259, 4), 259);	/* 127 labels */
}

/* pkt_rr_first/next: one question, one A record, then cut short */
static void
test_rr_walk(void **state)
{
	static const uint8_t m[] = {
		0, 1, 0x81, 0, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1,				/* a. A IN */
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4,	/* a. 3600 A */
		192, 0, 2, 1,
	};
	struct pkt_rr rr;
	size_t pos;

	(void)state;
	assert_int_equal(pos = pkt_rr_first(m, sizeof(m)), 19);
	assert_int_equal(pkt_rr_next(m, sizeof(m), pos, &rr), sizeof(m));
	assert_int_equal(rr.type, 1);
	assert_int_equal(rr.ttl, 3600);
	assert_int_equal(rr.rdata, sizeof(m) - 4);
	assert_int_equal(pkt_rr_next(m, sizeof(m) - 1, pos, &rr), 0);	/* RDATA cut */
	assert_int_equal(pkt_rr_next(m, 25, pos, &rr), 0);		/* header cut */
	assert_int_equal(pkt_rr_first(m, 18), 0);			/* question cut */
	assert_int_equal(pkt_rr_first(m, 11), 0);			/* no header */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_query),
		cmocka_unit_test(test_good_query_bits),
		cmocka_unit_test(test_good_edns),
		cmocka_unit_test(test_edns_small_udp_size),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_formerr_header),
		cmocka_unit_test(test_formerr_question),
		cmocka_unit_test(test_formerr_long_names),
		cmocka_unit_test(test_formerr_opt),
		cmocka_unit_test(test_notimp),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_badvers),
		cmocka_unit_test(test_skip_name),
		cmocka_unit_test(test_rr_walk),
		cmocka_unit_test(test_name_to_text),
		cmocka_unit_test(test_name_to_text_longest),
		cmocka_unit_test(test_name_to_text_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
