/* test_zone.c -- internal zones: loading and its errors, lookups, answers on the wire, the zones: config */
#include "autoconf.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/config.h"
#include "resolver/packet.h"
#include "zones/zone.h"
#include "tests/unit/testdir.h"

static const char corp_zone[] =
    "$ORIGIN corp.example.\n"
    "$TTL 300\n"
    "@        IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
    "@        NS ns1\n"
    "ns1      A 10.0.0.53\n"
    "www      A 10.0.0.10\n"
    "www      A 10.0.0.11\n"
    "www      A 10.0.0.10   ; a duplicate\n"
    "www      AAAA fd00::10\n"
    "alias    CNAME www\n"
    "chain    CNAME alias\n"
    "out      CNAME www.alpha.com.\n"
    "dangling CNAME nothere.www\n"
    "loop1    CNAME loop2\n"
    "loop2    CNAME loop1\n"
    "*        A 10.0.0.99\n"
    "*.wild   TXT \"wild\"\n"
    "host.ent A 10.0.0.20\n"
    "mx       MX 10 www\n"
    "ttl      600 A 10.0.0.1\n"
    "ttl      100 A 10.0.0.2\n";

struct ans {
	uint8_t wire[65536];
	size_t len;
	ldns_pkt *pkt;
};
static struct ans last;	/* the latest answer; its packet freed by teardown */

struct fx {
	char dir[64];
	struct zone_set *zs;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/egressd-test-zone.XXXXXX");
	if (mkdtemp(f->dir) == NULL || zone_set_new(&f->zs) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	testdir_remove(f->dir);
	ldns_pkt_free(last.pkt);
	last.pkt = NULL;
	zone_set_free(f->zs);
	free(f);
	return 0;
}

static const char *
write_file(struct fx *f, const char *name, const char *text)
{
	static char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	assert_non_null(fp = fopen(p, "w"));
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	return p;
}

static void
load_ok(struct fx *f, const char *name, const char *text, const uint32_t *t,
    size_t nt)
{
	struct zone_error ze;
	char file[64];
	int r;

	snprintf(file, sizeof(file), "%s.zone", name);
	r = zone_set_load(f->zs, name, write_file(f, file, text), t, nt, &ze);
	if (r != 0)
		fail_msg("zone %s refused (%d): line %d: %s", name, r, ze.line, ze.msg);
}

/* The load fails with r, at line, with a message containing why. */
static void
load_fails(struct fx *f, const char *text, int r, int line, const char *why)
{
	struct zone_error ze;
	size_t before = zone_set_count(f->zs);
	int got = zone_set_load(f->zs, "corp.example",
	    write_file(f, "bad.zone", text), NULL, 0, &ze);

	if (got != r || ze.line != line || strstr(ze.msg, why) == NULL)
		fail_msg("got %d line %d \"%s\", want %d line %d \"%s\"", got,
		    ze.line, ze.msg, r, line, why);
	assert_int_equal(zone_set_count(f->zs), before);
}

#define SOA_LINE "@ SOA ns1 hostmaster 1 3600 600 86400 60\n"

static void
test_load_errors(void **state)
{
	struct fx *f = *state;
	struct zone_error ze;
	uint32_t one = 1;

	load_fails(f, "$ORIGIN corp.example.\n" SOA_LINE "www A 10.0.0.300\n",
	    -EG_ECONFIG, 3, "");
	load_fails(f, SOA_LINE "www A 10.0.0.1\nwww.other.example. A 10.0.0.2\n",
	    -EG_ECONFIG, 3, "outside the zone corp.example");
	/* the last line without its newline */
	load_fails(f, SOA_LINE "www A 10.0.0.1\nx A 10.0.0.300", -EG_ECONFIG, 3, "");
	/* a record over several lines */
	load_fails(f, "@ SOA ns1 hostmaster (\n 1 3600 600\n 86400 60 )\n"
	    "@ SOA ns1 hostmaster 1 1 1 1 1\n", -EG_ECONFIG, 4, "a second SOA");
	load_fails(f, "www A 10.0.0.1\n", -EG_ECONFIG, 0, "no SOA");
	load_fails(f, SOA_LINE "\n" SOA_LINE, -EG_ECONFIG, 3, "a second SOA");
	load_fails(f, SOA_LINE "sub SOA ns1 hostmaster 1 3600 600 86400 60\n",
	    -EG_ECONFIG, 2, "SOA below");
	load_fails(f, SOA_LINE "a A 10.0.0.1\na CNAME b\n", -EG_ECONFIG, 3,
	    "CNAME cannot share");
	load_fails(f, SOA_LINE "a CNAME c\nb A 10.0.0.1\na CNAME b\n",
	    -EG_ECONFIG, 4, "a second CNAME");
	load_fails(f, SOA_LINE "$INCLUDE /etc/passwd\n", -EG_ECONFIG, 2,
	    "$INCLUDE is not supported");
	load_fails(f, SOA_LINE "a CH A 10.0.0.1\n", -EG_ECONFIG, 2, "class IN");
	/* the file as a whole */
	assert_int_equal(zone_set_load(f->zs, "corp.example", "/nonexistent/z",
	    NULL, 0, &ze), -EG_ECONFIG);
	assert_int_equal(ze.line, 0);
	assert_non_null(strstr(ze.msg, "cannot open"));
	{
		const char *p = write_file(f, "huge.zone", SOA_LINE);

		assert_int_equal(truncate(p, (off_t)ZONE_MAX_FILE_BYTES + 1), 0);
		assert_int_equal(zone_set_load(f->zs, "corp.example", p, NULL, 0,
		    &ze), -EG_ECONFIG);
		assert_non_null(strstr(ze.msg, "larger than"));
	}
	/* names */
	assert_int_equal(zone_set_load(f->zs, ".", write_file(f, "root.zone",
	    SOA_LINE), NULL, 0, &ze), -EINVAL);
	assert_non_null(strstr(ze.msg, "root"));
	assert_int_equal(zone_set_load(f->zs, "a..b", write_file(f, "x.zone",
	    SOA_LINE), NULL, 0, &ze), -EINVAL);
	/* the same zone twice for a same tenant */
	load_ok(f, "corp.example", SOA_LINE, NULL, 0);
	assert_int_equal(zone_set_load(f->zs, "CORP.example.", write_file(f,
	    "again.zone", SOA_LINE), &one, 1, &ze), -EEXIST);
	assert_non_null(strstr(ze.msg, "every tenant"));
	assert_int_equal(zone_set_count(f->zs), 1);
	/* RRSIG and NSEC of a signed zone are skipped, not refused */
	load_ok(f, "signed.example", "$ORIGIN signed.example.\n" SOA_LINE
	    "a A 10.0.0.1\n"
	    "a NSEC b.signed.example. A RRSIG NSEC\n", NULL, 0);
}

/* Build a query for name/type (EDNS when edns) in buf and parse it. */
static void
mkq(uint8_t *buf, size_t *len, struct pkt_query *q, const char *name,
    uint16_t type, bool edns)
{
	ldns_rdf *d = ldns_dname_new_frm_str(name);
	size_t n = 12;

	assert_non_null(d);
	memset(buf, 0, 12);
	buf[0] = 0xbe;
	buf[1] = 0xef;
	buf[2] = LDNS_RD_MASK;
	buf[5] = 1;
	memcpy(buf + n, ldns_rdf_data(d), ldns_rdf_size(d));
	n += ldns_rdf_size(d);
	ldns_rdf_deep_free(d);
	buf[n++] = (uint8_t)(type >> 8);
	buf[n++] = (uint8_t)type;
	buf[n++] = 0;
	buf[n++] = 1;
	if (edns) {
		static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };

		buf[11] = 1;
		memcpy(buf + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	*len = n;
	assert_int_equal(pkt_parse_query(buf, n, q), PKT_OK);
}


/* Ask the set as tenant 0, over a transport taking max bytes. */
static struct ans *
ask(struct fx *f, const char *name, uint16_t type, bool edns, size_t max)
{
	struct ans *a = &last;
	uint8_t qbuf[512];
	size_t qlen;
	struct pkt_query q;
	const struct zone *z;

	mkq(qbuf, &qlen, &q, name, type, edns);
	assert_non_null(z = zone_set_find(f->zs, q.qname, 0));
	ldns_pkt_free(a->pkt);
	a->pkt = NULL;
	assert_int_equal(zone_answer(z, &q, max, a->wire, sizeof(a->wire), &a->len), 0);
	assert_int_equal(ldns_wire2pkt(&a->pkt, a->wire, a->len), LDNS_STATUS_OK);
	return a;
}

/* The answer section as "owner ttl type rdata" lines (ldns's text). */
static char *
section(ldns_rr_list *l)
{
	static char out[4096];
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(l, i));

		assert_non_null(s);
		for (char *p = s; *p; p++)
			if (*p == '\t')
				*p = ' ';
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", s);
		free(s);
	}
	return out;
}

static void
load_corp(struct fx *f)
{
	load_ok(f, "corp.example", corp_zone, NULL, 0);
}

static void
test_answers(void **state)
{
	struct fx *f = *state;
	struct ans *a;

	load_corp(f);
	a = ask(f, "www.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_id(a->pkt), 0xbeef);
	assert_true(ldns_pkt_qr(a->pkt) && ldns_pkt_aa(a->pkt) && ldns_pkt_rd(a->pkt));
	assert_false(ldns_pkt_ad(a->pkt) || ldns_pkt_tc(a->pkt));
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NOERROR);
	/* the duplicate is gone; records in canonical order */
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "www.corp.example. 300 IN A 10.0.0.10\n"
	    "www.corp.example. 300 IN A 10.0.0.11\n");
	assert_int_equal(ldns_pkt_nscount(a->pkt), 0);
	assert_int_equal(ldns_pkt_arcount(a->pkt), 0);

	/* case-insensitive; the question keeps the client's case */
	a = ask(f, "WwW.CORP.example", LDNS_RR_TYPE_AAAA, false, 512);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 1);
	assert_memory_equal(a->wire + 12, "\3WwW\4CORP\7example", 18);

	/* MX, its name compressed */
	a = ask(f, "mx.corp.example", LDNS_RR_TYPE_MX, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "mx.corp.example. 300 IN MX 10 www.corp.example.\n");

	/* an RRset's TTLs differ: the lowest */
	a = ask(f, "ttl.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "ttl.corp.example. 100 IN A 10.0.0.1\n"
	    "ttl.corp.example. 100 IN A 10.0.0.2\n");

	/* the apex */
	a = ask(f, "corp.example", LDNS_RR_TYPE_SOA, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "corp.example. 300 IN SOA ns1.corp.example. hostmaster.corp.example. "
	    "1 3600 600 86400 60\n");
}

static void
test_negative(void **state)
{
	struct fx *f = *state;
	const char *soa = "corp.example. 60 IN SOA ns1.corp.example. "
	    "hostmaster.corp.example. 1 3600 600 86400 60\n";
	struct ans *a;

	load_corp(f);
	/* NXDOMAIN: the SOA with min(TTL, minimum) */
	a = ask(f, "nx.www.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_aa(a->pkt));
	assert_int_equal(ldns_pkt_ancount(a->pkt), 0);
	assert_string_equal(section(ldns_pkt_authority(a->pkt)), soa);
	/* NODATA */
	a = ask(f, "www.corp.example", LDNS_RR_TYPE_TXT, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 0);
	assert_string_equal(section(ldns_pkt_authority(a->pkt)), soa);
	/* an empty non-terminal exists: NODATA, and no wildcard for it */
	a = ask(f, "ent.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 0);
	assert_string_equal(section(ldns_pkt_authority(a->pkt)), soa);
	/* below it: its closest encloser is the ENT, which has no "*" */
	a = ask(f, "x.ent.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NXDOMAIN);
}

static void
test_wildcards(void **state)
{
	struct fx *f = *state;
	struct ans *a;

	load_corp(f);
	a = ask(f, "anything.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "anything.corp.example. 300 IN A 10.0.0.99\n");
	assert_true(ldns_pkt_aa(a->pkt));
	/* several labels below the closest encloser */
	a = ask(f, "a.b.c.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "a.b.c.corp.example. 300 IN A 10.0.0.99\n");
	/* the wildcard has no TXT: NODATA */
	a = ask(f, "anything.corp.example", LDNS_RR_TYPE_TXT, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 0);
	assert_int_equal(ldns_pkt_nscount(a->pkt), 1);
	/* *.wild: wild is an empty non-terminal, answered NODATA, not by "*" */
	a = ask(f, "x.y.wild.corp.example", LDNS_RR_TYPE_TXT, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "x.y.wild.corp.example. 300 IN TXT \"wild\"\n");
	a = ask(f, "wild.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 0);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NOERROR);
	/* an existing name below the apex "*" is not synthesized */
	a = ask(f, "ns1.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "ns1.corp.example. 300 IN A 10.0.0.53\n");
}

static void
test_cnames(void **state)
{
	struct fx *f = *state;
	struct ans *a;

	load_corp(f);
	a = ask(f, "chain.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "chain.corp.example. 300 IN CNAME alias.corp.example.\n"
	    "alias.corp.example. 300 IN CNAME www.corp.example.\n"
	    "www.corp.example. 300 IN A 10.0.0.10\n"
	    "www.corp.example. 300 IN A 10.0.0.11\n");
	assert_int_equal(ldns_pkt_nscount(a->pkt), 0);
	/* every name compressed to a pointer or one new label and a pointer:
	 * header 12, question 24, CNAMEs 20 and 18, A 2 x 16 */
	assert_int_equal(a->len, 106);
	/* asking for the CNAME itself */
	a = ask(f, "chain.corp.example", LDNS_RR_TYPE_CNAME, false, 512);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 1);
	/* leaving the zone: the CNAME alone, NOERROR */
	a = ask(f, "out.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NOERROR);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "out.corp.example. 300 IN CNAME www.alpha.com.\n");
	assert_int_equal(ldns_pkt_nscount(a->pkt), 0);
	/* to a name that does not exist: NXDOMAIN for it (RFC 6604) */
	a = ask(f, "dangling.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 1);
	assert_int_equal(ldns_pkt_nscount(a->pkt), 1);
	/* a loop ends at the repeat */
	a = ask(f, "loop1.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_int_equal(ldns_pkt_get_rcode(a->pkt), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 2);
	/* ANY: every RRset at the name */
	a = ask(f, "www.corp.example", LDNS_RR_TYPE_ANY, false, 512);
	assert_int_equal(ldns_pkt_ancount(a->pkt), 3);
}

static void
test_edns_and_truncation(void **state)
{
	struct fx *f = *state;
	char big[16384] = "$ORIGIN corp.example.\n" SOA_LINE;
	struct ans *a;

	for (int i = 0; i < 40; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		    "big TXT \"%02d-0123456789012345678901234567890123456789\"\n", i);
	load_ok(f, "corp.example", big, NULL, 0);
	a = ask(f, "big.corp.example", LDNS_RR_TYPE_TXT, true, 1232);
	assert_true(ldns_pkt_tc(a->pkt));
	assert_int_equal(ldns_pkt_ancount(a->pkt), 0);
	assert_true(ldns_pkt_edns(a->pkt));
	a = ask(f, "big.corp.example", LDNS_RR_TYPE_TXT, false, 512);
	assert_true(ldns_pkt_tc(a->pkt));
	assert_false(ldns_pkt_edns(a->pkt));
	a = ask(f, "big.corp.example", LDNS_RR_TYPE_TXT, true, 65535);
	assert_false(ldns_pkt_tc(a->pkt));
	assert_int_equal(ldns_pkt_ancount(a->pkt), 40);
	assert_true(ldns_pkt_edns(a->pkt));
	assert_int_equal(ldns_pkt_edns_udp_size(a->pkt), ANSWER_EDNS_SIZE);
	/* the answer fits the size it was written for */
	assert_true(a->len <= 65535);
	/* a small answer with EDNS: the OPT record last */
	a = ask(f, "corp.example", LDNS_RR_TYPE_SOA, true, 1232);
	assert_false(ldns_pkt_tc(a->pkt));
	assert_true(ldns_pkt_edns(a->pkt));
	assert_int_equal(ldns_pkt_ancount(a->pkt), 1);
}

static void
test_find_and_tenants(void **state)
{
	struct fx *f = *state;
	uint32_t hq = 0, other = 1, both[] = { 2, 0 };
	uint8_t qbuf[512], a4[4], a6[16];
	struct zone_error ze;
	struct pkt_query q;
	size_t qlen;

	assert_null(zone_set_find(NULL, (const uint8_t *)"\0", 0));
	load_corp(f);
	load_ok(f, "sub.corp.example", "$ORIGIN sub.corp.example.\n" SOA_LINE
	    "a A 10.1.0.1\n", &other, 1);
	load_ok(f, "alpha.com", "$ORIGIN alpha.com.\n" SOA_LINE
	    "www A 10.2.0.1\n", &hq, 1);
	/* another view of sub.corp.example for tenants 0 and 2 */
	load_ok(f, "sub.corp.example", "$ORIGIN sub.corp.example.\n" SOA_LINE
	    "a A 10.3.0.1\n", both, 2);
	assert_int_equal(zone_set_load(f->zs, "sub.corp.example",
	    write_file(f, "x.zone", "$ORIGIN sub.corp.example.\n" SOA_LINE),
	    both, 2, &ze), -EEXIST);
	assert_int_equal(zone_set_count(f->zs), 4);

	mkq(qbuf, &qlen, &q, "A.Sub.Corp.Example", LDNS_RR_TYPE_A, false);
	assert_string_equal(zone_name(zone_set_find(f->zs, q.qname, 1)),
	    "sub.corp.example");
	assert_string_equal(zone_name(zone_set_find(f->zs, q.qname, 0)),
	    "sub.corp.example");
	assert_ptr_not_equal(zone_set_find(f->zs, q.qname, 0),
	    zone_set_find(f->zs, q.qname, 1));
	assert_ptr_equal(zone_set_find(f->zs, q.qname, 0),
	    zone_set_find(f->zs, q.qname, 2));
	/* a tenant without a view of sub.corp.example falls to corp.example */
	assert_string_equal(zone_name(zone_set_find(f->zs, q.qname, 3)),
	    "corp.example");
	mkq(qbuf, &qlen, &q, "www.alpha.com", LDNS_RR_TYPE_A, false);
	assert_non_null(zone_set_find(f->zs, q.qname, 0));
	assert_null(zone_set_find(f->zs, q.qname, 1));	/* public for others */
	mkq(qbuf, &qlen, &q, "alpha.com", LDNS_RR_TYPE_A, false);
	assert_non_null(zone_set_find(f->zs, q.qname, 0));
	mkq(qbuf, &qlen, &q, "xalpha.com", LDNS_RR_TYPE_A, false);
	assert_null(zone_set_find(f->zs, q.qname, 0));
	mkq(qbuf, &qlen, &q, "example", LDNS_RR_TYPE_A, false);
	assert_null(zone_set_find(f->zs, q.qname, 0));
	mkq(qbuf, &qlen, &q, ".", LDNS_RR_TYPE_NS, false);
	assert_null(zone_set_find(f->zs, q.qname, 0));

	/* addresses of every zone, whatever the tenant */
	inet_pton(AF_INET, "10.0.0.10", a4);
	assert_true(zone_set_holds_addr(f->zs, AF_INET, a4));
	inet_pton(AF_INET, "10.1.0.1", a4);
	assert_true(zone_set_holds_addr(f->zs, AF_INET, a4));
	inet_pton(AF_INET, "10.0.0.12", a4);
	assert_false(zone_set_holds_addr(f->zs, AF_INET, a4));
	inet_pton(AF_INET6, "fd00::10", a6);
	assert_true(zone_set_holds_addr(f->zs, AF_INET6, a6));
	inet_pton(AF_INET6, "fd00::11", a6);
	assert_false(zone_set_holds_addr(f->zs, AF_INET6, a6));
	assert_false(zone_set_holds_addr(NULL, AF_INET, a4));
	assert_false(zone_set_holds_addr(f->zs, AF_UNIX, a4));
}

static void
test_answer_args(void **state)
{
	struct fx *f = *state;
	uint8_t qbuf[512], out[64];
	struct pkt_query q;
	size_t qlen, n;
	const struct zone *z;

	load_corp(f);
	mkq(qbuf, &qlen, &q, "www.corp.example", LDNS_RR_TYPE_A, false);
	z = zone_set_find(f->zs, q.qname, 0);
	assert_int_equal(zone_answer(NULL, &q, 512, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(zone_answer(z, &q, 512, out, 8, &n), -ENOBUFS);
	/* a buffer too small for the records: truncated, question kept */
	assert_int_equal(zone_answer(z, &q, 512, out, 40, &n), 0);
	assert_true(LDNS_TC_WIRE(out));
	assert_int_equal(n, qlen);
	/* a name outside the zone */
	mkq(qbuf, &qlen, &q, "www.alpha.com", LDNS_RR_TYPE_A, false);
	assert_int_equal(zone_answer(z, &q, 512, out, sizeof(out), &n), -EINVAL);
}

/* The example zone files load, and answer as their comments say. */
static void
test_examples(void **state)
{
	struct fx *f = *state;
	uint32_t hq = 0;
	struct zone_error ze;
	struct ans *a;

	if (zone_set_load(f->zs, "corp.example", EG_TOP_SRCDIR
	    "/examples/zones/corp.example.zone", NULL, 0, &ze) != 0 ||
	    zone_set_load(f->zs, "example.com", EG_TOP_SRCDIR
	    "/examples/zones/example.com.internal.zone", &hq, 1, &ze) != 0)
		fail_msg("example zone refused: line %d: %s", ze.line, ze.msg);
	a = ask(f, "wiki.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "wiki.corp.example. 300 IN CNAME intranet.corp.example.\n"
	    "intranet.corp.example. 300 IN A 10.0.0.10\n");
	a = ask(f, "x.apps.corp.example", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "x.apps.corp.example. 300 IN A 10.0.0.80\n");
	a = ask(f, "www.example.com", LDNS_RR_TYPE_A, false, 512);
	assert_string_equal(section(ldns_pkt_answer(a->pkt)),
	    "www.example.com. 600 IN A 10.0.0.30\n");
}

/* --- the zones: section through config_load() */

static char *
cfg_load(struct fx *f, const char *zones, int *r)
{
	static char err[1024];
	char yaml[2048];
	struct config *c = NULL;

	snprintf(yaml, sizeof(yaml),
	    "server:\n"					/* 1 */
	    "  listen:\n"				/* 2 */
	    "    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
	    "resolution:\n"				/* 4 */
	    "  dnssec: no\n"				/* 5 */
	    "tenants:\n"				/* 6 */
	    "  - { name: hq, networks: [ 10.0.0.0/8 ] }\n"
	    "  - { name: lab, networks: [ 192.168.0.0/16 ] }\n"
	    "%s", zones);				/* 9 on */
	err[0] = '\0';
	*r = config_load(write_file(f, "egressd.yaml", yaml), &c, err, sizeof(err));
	if (*r == 0) {
		const struct zone_set *zs = c->zones;
		uint8_t qbuf[512];
		struct pkt_query q;
		size_t qlen;

		mkq(qbuf, &qlen, &q, "www.corp.example", LDNS_RR_TYPE_A, false);
		snprintf(err, sizeof(err), "%zu zones, hq %s, lab %s",
		    zone_set_count(zs), zone_set_find(zs, q.qname, 0) ? "sees" : "not",
		    zone_set_find(zs, q.qname, 1) ? "sees" : "not");
		config_free(c);
	}
	return err;
}

static void
test_config(void **state)
{
	struct fx *f = *state;
	char want[512];
	int r;

	write_file(f, "corp.zone", corp_zone);
	assert_string_equal(cfg_load(f, "zones:\n"
	    "  - { name: corp.example, file: corp.zone, tenants: [ hq ] }\n", &r),
	    "1 zones, hq sees, lab not");
	assert_int_equal(r, 0);
	assert_string_equal(cfg_load(f, "zones:\n"
	    "  - name: corp.example\n    file: corp.zone\n", &r),
	    "1 zones, hq sees, lab sees");
	assert_string_equal(cfg_load(f, "", &r), "0 zones, hq not, lab not");

	/* an unknown tenant: the line of its name */
	snprintf(want, sizeof(want), "%s/egressd.yaml:14: zones.tenants: "
	    "no tenant is named \"branch\"", f->dir);
	assert_string_equal(cfg_load(f, "zones:\n"
	    "  - name: corp.example\n    file: corp.zone\n    tenants:\n"
	    "      - hq\n      - branch\n", &r), want);
	assert_int_equal(r, -EG_ECONFIG);
	/* a broken zone file: its own name and line */
	write_file(f, "broken.zone", "$ORIGIN corp.example.\n" SOA_LINE
	    "www A 10.0.0.1\nwww.elsewhere. A 10.0.0.2\n");
	snprintf(want, sizeof(want), "%s/broken.zone:4: zones: the owner is "
	    "outside the zone corp.example", f->dir);
	assert_string_equal(cfg_load(f, "zones:\n"
	    "  - { name: corp.example, file: broken.zone }\n", &r), want);
	/* a missing file: the config's line */
	snprintf(want, sizeof(want), "%s/egressd.yaml:11: zones.file: cannot "
	    "read %s/none.zone: No such file or directory", f->dir, f->dir);
	assert_string_equal(cfg_load(f, "zones:\n  - name: corp.example\n"
	    "    file: none.zone\n", &r), want);
	/* the same zone twice for everyone */
	snprintf(want, sizeof(want), "%s/egressd.yaml:11: zones: zone "
	    "corp.example is already configured for every tenant", f->dir);
	assert_string_equal(cfg_load(f, "zones:\n"
	    "  - { name: corp.example, file: corp.zone }\n"
	    "  - { name: corp.example, file: corp.zone, tenants: [ lab ] }\n", &r),
	    want);
	/* names, keys, lists */
	snprintf(want, sizeof(want), "%s/egressd.yaml:10: zones.name: the root "
	    "cannot be an internal zone", f->dir);
	assert_string_equal(cfg_load(f, "zones:\n  - { name: \".\", file: corp.zone }\n",
	    &r), want);
	snprintf(want, sizeof(want), "%s/egressd.yaml:10: zones.ttl: unknown key "
	    "(name, file, tenants)", f->dir);
	assert_string_equal(cfg_load(f, "zones:\n  - { name: a.b, file: corp.zone, "
	    "ttl: 5 }\n", &r), want);
	snprintf(want, sizeof(want), "%s/egressd.yaml:10: zones.tenants: an empty "
	    "list; leave tenants out to serve every tenant", f->dir);
	assert_string_equal(cfg_load(f, "zones:\n  - { name: a.b, file: corp.zone, "
	    "tenants: [] }\n", &r), want);
	snprintf(want, sizeof(want), "%s/egressd.yaml:10: zones.file: zone a.b "
	    "has no file", f->dir);
	assert_string_equal(cfg_load(f, "zones:\n  - { name: a.b }\n", &r), want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wildcards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cnames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edns_and_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_and_tenants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_examples, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
