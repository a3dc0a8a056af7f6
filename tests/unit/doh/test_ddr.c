/* test_ddr.c -- the DDR (RFC 9462) answer: SVCB records on the wire from the listeners */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/config.h"
#include "resolver/ddr.h"
#include "resolver/packet.h"

/* A query for name/type, parsed; the wire stays in buf. */
static void
query(const char *name, ldns_rr_type t, bool edns, uint8_t *buf, size_t *len,
    struct pkt_query *q)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), t,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	uint8_t *w = NULL;

	if (edns)
		ldns_pkt_set_edns_udp_size(p, 1232);
	ldns_pkt_set_id(p, 0);
	assert_int_equal(ldns_pkt2wire(&w, p, len), LDNS_STATUS_OK);
	memcpy(buf, w, *len);
	free(w);
	ldns_pkt_free(p);
	assert_int_equal(pkt_parse_query(buf, *len, q), PKT_OK);
}

static void
listen_at(struct listen_cfg *l, enum listen_kind k, const char *addr,
    char *path)
{
	memset(l, 0, sizeof(*l));
	l->kind = k;
	l->path = path;
	assert_int_equal(config_parse_sockaddr(addr, 1, &l->ss, &l->sslen), 0);
}

static void
test_is_query(void **state)
{
	uint8_t buf[512];
	size_t len;
	struct pkt_query q;

	query("_dns.resolver.arpa.", 64, false, buf, &len, &q);
	assert_true(ddr_is_query(&q));
	query("_DNS.Resolver.ARPA.", 64, false, buf, &len, &q);
	assert_true(ddr_is_query(&q));
	query("_dns.resolver.arpa.example.", 64, false, buf, &len, &q);
	assert_false(ddr_is_query(&q));
	query("x._dns.resolver.arpa.", 64, false, buf, &len, &q);
	assert_false(ddr_is_query(&q));
	query("resolver.arpa.", 64, false, buf, &len, &q);
	assert_false(ddr_is_query(&q));
}

static const uint8_t target[] = "\x03" "dns\x07" "example\x03" "net";

static void
test_svcb(void **state)
{
	struct listen_cfg l[4];
	struct config c = { .listen = l, .n_listen = 4,
	    .resolver_name = (char *)"dns.example.net." };
	uint8_t buf[512], out[4096];
	size_t len, n = 0, pos;
	struct pkt_query q;
	char path[] = "/dns-query";

	listen_at(&l[0], LISTEN_DNS, "127.0.0.1:53", NULL);
	listen_at(&l[1], LISTEN_DOT, "0.0.0.0:853", NULL);
	listen_at(&l[2], LISTEN_DOH, "192.0.2.1:4431", path);
	listen_at(&l[3], LISTEN_DOT, "[2001:db8::53]:8853", NULL);
	query("_dns.resolver.arpa.", 64, true, buf, &len, &q);
	assert_int_equal(ddr_answer(&c, &q, 65535, out, sizeof(out), &n), 0);
	assert_int_equal(LDNS_ANCOUNT(out), 3);
	assert_int_equal(LDNS_ARCOUNT(out), 1);	/* our OPT */
	assert_int_equal(LDNS_RCODE_WIRE(out), 0);
	assert_true(LDNS_QR_WIRE(out));
	pos = 12 + 20 + 4;

	/* 1: dot on the wildcard address: no hint */
	static const uint8_t rr1_head[] = { 0xc0, 12, 0, 64, 0, 1, 0, 0, 1, 44 };
	assert_memory_equal(out + pos, rr1_head, sizeof(rr1_head));
	pos += sizeof(rr1_head);
	size_t rdlen = (size_t)out[pos] << 8 | out[pos + 1];
	pos += 2;
	static const uint8_t rd1_tail[] = { 0, 1, 0, 4, 3, 'd', 'o', 't', 0, 3, 0,
		2, 0x03, 0x55 };
	assert_int_equal(rdlen, 2 + sizeof(target) + sizeof(rd1_tail));
	assert_int_equal(out[pos + 1], 1);	/* priority */
	assert_memory_equal(out + pos + 2, target, sizeof(target));
	assert_memory_equal(out + pos + 2 + sizeof(target), rd1_tail, sizeof(rd1_tail));
	pos += rdlen;

	/* 2: doh with ipv4hint and dohpath */
	pos += 10;
	rdlen = (size_t)out[pos] << 8 | out[pos + 1];
	pos += 2;
	static const uint8_t rd2_tail[] = { 0, 1, 0, 3, 2, 'h', '2', 0, 3, 0, 2,
		0x11, 0x4f, 0, 4, 0, 4, 192, 0, 2, 1, 0, 7, 0, 16, '/', 'd', 'n', 's',
		'-', 'q', 'u', 'e', 'r', 'y', '{', '?', 'd', 'n', 's', '}' };
	assert_int_equal(out[pos + 1], 2);
	assert_int_equal(rdlen, 2 + sizeof(target) + sizeof(rd2_tail));
	assert_memory_equal(out + pos + 2 + sizeof(target), rd2_tail, sizeof(rd2_tail));
	pos += rdlen;

	/* 3: dot on an IPv6 address: ipv6hint */
	pos += 10;
	rdlen = (size_t)out[pos] << 8 | out[pos + 1];
	pos += 2;
	assert_int_equal(out[pos + 1], 3);
	static const uint8_t rd3_hint[] = { 0, 6, 0, 16, 0x20, 0x01, 0x0d, 0xb8,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53 };
	assert_memory_equal(out + pos + rdlen - sizeof(rd3_hint), rd3_hint,
	    sizeof(rd3_hint));
	pos += rdlen;
	/* then our OPT record, and the message parses */
	assert_int_equal(out[pos], 0);
	assert_int_equal(out[pos + 2], 41);
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	ldns_pkt_free(p);
}

static void
test_nodata(void **state)
{
	struct listen_cfg l[1];
	struct config c = { .listen = l, .n_listen = 1,
	    .resolver_name = (char *)"dns.example.net." };
	uint8_t buf[512], out[1024];
	size_t len, n;
	struct pkt_query q;

	listen_at(&l[0], LISTEN_DNS, "127.0.0.1:53", NULL);
	/* no encrypted listener */
	query("_dns.resolver.arpa.", 64, false, buf, &len, &q);
	assert_int_equal(ddr_answer(&c, &q, 65535, out, sizeof(out), &n), 0);
	assert_int_equal(LDNS_ANCOUNT(out), 0);
	assert_int_equal(LDNS_RCODE_WIRE(out), 0);
	assert_int_equal(n, 12 + 24);
	/* no resolver-name */
	listen_at(&l[0], LISTEN_DOT, "127.0.0.1:853", NULL);
	c.resolver_name = NULL;
	assert_int_equal(ddr_answer(&c, &q, 65535, out, sizeof(out), &n), 0);
	assert_int_equal(LDNS_ANCOUNT(out), 0);
	/* another type */
	c.resolver_name = (char *)"dns.example.net.";
	query("_dns.resolver.arpa.", LDNS_RR_TYPE_A, false, buf, &len, &q);
	assert_int_equal(ddr_answer(&c, &q, 65535, out, sizeof(out), &n), 0);
	assert_int_equal(LDNS_ANCOUNT(out), 0);
	/* not a DDR query, and no room */
	query("example.com.", 64, false, buf, &len, &q);
	assert_int_equal(ddr_answer(&c, &q, 65535, out, sizeof(out), &n), -EINVAL);
	query("_dns.resolver.arpa.", 64, false, buf, &len, &q);
	assert_int_equal(ddr_answer(&c, &q, 65535, out, 8, &n), -ENOBUFS);
	/* over the client's size: truncated */
	assert_int_equal(ddr_answer(&c, &q, 40, out, sizeof(out), &n), 0);
	assert_true(LDNS_TC_WIRE(out));
	assert_int_equal(LDNS_ANCOUNT(out), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_query),
		cmocka_unit_test(test_svcb),
		cmocka_unit_test(test_nodata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
