/* test_cache.c -- the answer cache: keys, TTLs, expiry, eviction, invalidation, flush */
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

#include "resolver/cache.h"
#include "resolver/packet.h"

#define NOW	1000
#define GEN	7
#define QUERY_CAP	65536	/* the lookups' buffers */

static const int policy_a = 1, policy_b = 2;	/* two policy identities */

#define RR_A	"www.example.com. 300 IN A 192.0.2.1"
#define RR_A2	"www.example.com. 120 IN A 192.0.2.2"
#define RR_SOA	"example.com. 900 IN SOA ns.example.com. host.example.com. 1 7200 3600 1209600 60"

struct msg {
	uint8_t *wire;
	size_t len;
	uint8_t qname[PKT_MAX_NAME];
	uint8_t qname_len;
};

/* An answer as answer_from_upstream() writes it for a client without
 * EDNS: header, question, records; rrs "AN:..." / "NS:..." by section. */
static void
msg_new(struct msg *m, const char *qname, ldns_rr_type type,
    ldns_pkt_rcode rcode, const char *const *rrs)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(qname);
	ldns_pkt *p = ldns_pkt_query_new(ldns_rdf_clone(owner), type,
	    LDNS_RR_CLASS_IN, LDNS_RD);

	assert_non_null(p);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (; rrs && *rrs; rrs++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, *rrs + 3, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(p, strncmp(*rrs, "NS:", 3) == 0 ?
		    LDNS_SECTION_AUTHORITY : LDNS_SECTION_ANSWER, rr));
	}
	assert_int_equal(ldns_pkt2wire(&m->wire, p, &m->len), LDNS_STATUS_OK);
	m->qname_len = (uint8_t)ldns_rdf_size(owner);
	memcpy(m->qname, ldns_rdf_data(owner), m->qname_len);
	ldns_rdf_deep_free(owner);
	ldns_pkt_free(p);
}

static void
msg_free(struct msg *m)
{
	free(m->wire);
}

static struct cache_key
key_of(const struct msg *m, const void *policy, uint16_t type, bool do_bit,
    bool cd)
{
	struct cache_key k = {
		.policy = policy, .qname = m->qname, .qname_len = m->qname_len,
		.qtype = type, .qclass = LDNS_RR_CLASS_IN, .do_bit = do_bit,
		.cd = cd,
	};

	return k;
}

static const struct cache_meta pass_meta = { .sec = 0, .recursed = true };

static enum cache_result
lookup(struct cache *c, const struct cache_key *k, uint64_t gen, time_t now,
    uint8_t *out, size_t *len)
{
	struct cache_meta meta;

	return cache_lookup(c, k, gen, now, &meta, out, QUERY_CAP, len);
}

/* Every TTL of the records in wire, in order. */
static size_t
ttls_of(const uint8_t *wire, size_t len, uint32_t *out, size_t cap)
{
	ldns_pkt *p = NULL;
	size_t n = 0;

	assert_int_equal(ldns_wire2pkt(&p, wire, len), LDNS_STATUS_OK);
	for (int s = 0; s < 2; s++) {
		ldns_rr_list *l = s ? ldns_pkt_authority(p) : ldns_pkt_answer(p);

		for (size_t i = 0; i < ldns_rr_list_rr_count(l) && n < cap; i++)
			out[n++] = ldns_rr_ttl(ldns_rr_list_rr(l, i));
	}
	ldns_pkt_free(p);
	return n;
}

static void
test_params(void **state)
{
	struct cache *c = (struct cache *)&c;	/* must be overwritten */
	struct cache_stats st;
	struct msg m;
	const char *rrs[] = { "AN:" RR_A, NULL };
	struct cache_key k;
	uint8_t out[64];
	size_t len;

	(void)state;
	/* size 0: no cache, and every call accepts that */
	assert_int_equal(cache_new(&c, 0), 0);
	assert_null(c);
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, rrs);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_store_answer(NULL, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), 0);
	assert_int_equal(lookup(NULL, &k, GEN, NOW, out, &len), CACHE_MISS);
	assert_int_equal(cache_flush(NULL, NULL), 0);
	cache_stats_get(NULL, &st);
	assert_int_equal(st.entries, 0);
	cache_free(NULL);
	/* too small a budget */
	c = NULL;
	assert_int_equal(cache_new(&c, CACHE_MIN_BYTES - 1), -EINVAL);
	assert_null(c);
	/* an answer that does not fit the caller's buffer is a miss */
	assert_int_equal(cache_new(&c, 1 << 20), 0);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), 0);
	assert_int_equal(cache_lookup(c, &k, GEN, NOW, &(struct cache_meta){ 0 },
	    out, 10, &len), CACHE_MISS);
	assert_int_equal(cache_lookup(c, &k, GEN, NOW, &(struct cache_meta){ 0 },
	    out, sizeof(out), &len), CACHE_ANSWER);
	cache_free(c);
	msg_free(&m);
}

/* Different policies never share; DO and CD are separate; type and class
 * are part of the key; the name is not case-sensitive, but the answer
 * echoes the asker's case. */
static void
test_keying(void **state)
{
	const char *rrs[] = { "AN:" RR_A, NULL };
	struct cache *c;
	struct msg m, upper;
	struct cache_key k;
	struct cache_meta meta;
	uint8_t out[QUERY_CAP];
	size_t len;

	(void)state;
	assert_int_equal(cache_new(&c, 1 << 20), 0);
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, rrs);
	msg_new(&upper, "WWW.Example.COM.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, rrs);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), 0);

	k = key_of(&m, &policy_b, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_MISS);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, true, false);
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_MISS);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, true);
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_MISS);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_AAAA, false, false);
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_MISS);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
	k.qclass = LDNS_RR_CLASS_CH;
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_MISS);

	/* the same question in other case: a hit, echoed as asked */
	k = key_of(&upper, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_lookup(c, &k, GEN, NOW, &meta, out, sizeof(out),
	    &len), CACHE_ANSWER);
	assert_int_equal(len, m.len);
	assert_memory_equal(out + PKT_HEADER_SIZE, upper.qname, upper.qname_len);
	assert_true(meta.recursed);
	assert_int_equal(meta.verdict.action, POL_PASS);

	/* the second policy and the DO variant get their own entries */
	k = key_of(&m, &policy_b, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), 0);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, true, false);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), 0);
	{
		struct cache_stats st;

		cache_stats_get(c, &st);
		assert_int_equal(st.entries, 3);
	}
	/* a question that is not the key's is refused */
	k = key_of(&upper, &policy_a, LDNS_RR_TYPE_A, false, false);
	k.qname = (const uint8_t *)"\3www\7example\3org";
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), -EBADMSG);
	cache_free(c);
	msg_free(&m);
	msg_free(&upper);
}

/* TTLs go down with the age; the entry ends with the shortest TTL;
 * negative answers last min(SOA TTL, MINIMUM). */
static void
test_ttl(void **state)
{
	const char *pos[] = { "AN:" RR_A, "AN:" RR_A2, NULL };
	const char *neg[] = { "NS:" RR_SOA, NULL };
	struct cache *c;
	struct msg m, nx;
	struct cache_key k, kn;
	struct cache_stats st;
	uint8_t out[QUERY_CAP];
	uint32_t ttls[4], ttl;
	size_t len;

	(void)state;
	assert_int_equal(cache_new(&c, 1 << 20), 0);
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, pos);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_wire_ttl(m.wire, m.len, &ttl), 0);
	assert_int_equal(ttl, 120);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), 0);
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_ANSWER);
	assert_int_equal(ttls_of(out, len, ttls, 4), 2);
	assert_int_equal(ttls[0], 300);
	assert_int_equal(ttls[1], 120);
	assert_int_equal(lookup(c, &k, GEN, NOW + 100, out, &len), CACHE_ANSWER);
	assert_int_equal(ttls_of(out, len, ttls, 4), 2);
	assert_int_equal(ttls[0], 200);
	assert_int_equal(ttls[1], 20);
	/* the stored copy is untouched by a hit */
	assert_int_equal(lookup(c, &k, GEN, NOW + 119, out, &len), CACHE_ANSWER);
	assert_int_equal(ttls_of(out, len, ttls, 4), 2);
	assert_int_equal(ttls[0], 181);
	assert_int_equal(ttls[1], 1);
	/* expiry: a record would reach 0 */
	assert_int_equal(lookup(c, &k, GEN, NOW + 120, out, &len), CACHE_MISS);
	cache_stats_get(c, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.entries, 0);

	/* NXDOMAIN: SOA TTL 900, MINIMUM 60 */
	msg_new(&nx, "nx.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, neg);
	kn = key_of(&nx, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_wire_ttl(nx.wire, nx.len, &ttl), 0);
	assert_int_equal(ttl, 60);
	assert_int_equal(cache_store_answer(c, &kn, GEN, NOW, &pass_meta,
	    nx.wire, nx.len), 0);
	assert_int_equal(lookup(c, &kn, GEN, NOW + 59, out, &len), CACHE_ANSWER);
	assert_int_equal(LDNS_RCODE_WIRE(out), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ttls_of(out, len, ttls, 4), 1);
	assert_int_equal(ttls[0], 900 - 59);
	assert_int_equal(lookup(c, &kn, GEN, NOW + 60, out, &len), CACHE_MISS);

	/* a threat-DB entry that decided expires sooner than the TTLs */
	{
		struct cache_meta capped = pass_meta;

		capped.ttl_cap = 10;
		assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &capped,
		    m.wire, m.len), 0);
		assert_int_equal(lookup(c, &k, GEN, NOW + 9, out, &len), CACHE_ANSWER);
		assert_int_equal(lookup(c, &k, GEN, NOW + 10, out, &len), CACHE_MISS);
		capped.verdict.action = POL_BLOCK;
		assert_int_equal(cache_store_verdict(c, &k, GEN, NOW, &capped, 30), 0);
		assert_int_equal(lookup(c, &k, GEN, NOW + 9, out, &len), CACHE_VERDICT);
		assert_int_equal(lookup(c, &k, GEN, NOW + 10, out, &len), CACHE_MISS);
	}
	cache_free(c);
	msg_free(&m);
	msg_free(&nx);
}

/* What may never be cached. */
static void
test_uncacheable(void **state)
{
	const char *a[] = { "AN:" RR_A, NULL };
	const char *zero[] = { "AN:www.example.com. 0 IN A 192.0.2.1", NULL };
	const char *huge[] = { "AN:www.example.com. 4000000000 IN A 192.0.2.1", NULL };
	const char *long_ttl[] = { "AN:www.example.com. 604800 IN A 192.0.2.1", NULL };
	struct cache *c;
	struct msg m;
	struct cache_key k;
	uint32_t ttl;

	(void)state;
	assert_int_equal(cache_new(&c, 1 << 20), 0);
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, NULL);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), -ENOENT);
	msg_free(&m);
	/* NXDOMAIN or NODATA without a SOA */
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, NULL);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), -ENOENT);
	msg_free(&m);
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, zero);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), -ENOENT);
	msg_free(&m);
	/* a TTL above 2^31 - 1 counts as 0 (RFC 2181) */
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, huge);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), -ENOENT);
	msg_free(&m);
	/* TC */
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, a);
	m.wire[2] |= LDNS_TC_MASK;
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), -ENOENT);
	/* cut short */
	m.wire[2] &= (uint8_t)~LDNS_TC_MASK;
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len - 1), -EBADMSG);
	msg_free(&m);
	/* a week is kept a day */
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, long_ttl);
	assert_int_equal(cache_wire_ttl(m.wire, m.len, &ttl), 0);
	assert_int_equal(ttl, CACHE_MAX_TTL);
	msg_free(&m);
	cache_free(c);
}

/* A redirect or block verdict replays with its category and feed. */
static void
test_verdict(void **state)
{
	struct cache *c;
	struct msg m;
	struct cache_key k;
	struct cache_meta meta = { 0 }, got;
	uint8_t out[64];
	size_t len;

	(void)state;
	assert_int_equal(cache_new(&c, 1 << 20), 0);
	msg_new(&m, "bad.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, NULL);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
	meta.verdict.action = POL_PASS;
	assert_int_equal(cache_store_verdict(c, &k, GEN, NOW, &meta, 60), -ENOENT);
	meta.verdict.action = POL_BLOCK;
	assert_int_equal(cache_store_verdict(c, &k, GEN, NOW, &meta, 0), -ENOENT);
	meta.verdict.reason = POL_REASON_QNAME;
	meta.verdict.block = POL_BLOCK_NODATA;
	strcpy(meta.verdict.category, "malware");
	strcpy(meta.verdict.feed, "feed-1");
	assert_int_equal(cache_store_verdict(c, &k, GEN, NOW, &meta, 60), 0);
	assert_int_equal(cache_lookup(c, &k, GEN, NOW + 59, &got, out, sizeof(out),
	    &len), CACHE_VERDICT);
	assert_int_equal(got.verdict.action, POL_BLOCK);
	assert_int_equal(got.verdict.reason, POL_REASON_QNAME);
	assert_int_equal(got.verdict.block, POL_BLOCK_NODATA);
	assert_string_equal(got.verdict.category, "malware");
	assert_string_equal(got.verdict.feed, "feed-1");
	assert_false(got.recursed);
	assert_int_equal(cache_lookup(c, &k, GEN, NOW + 60, &got, out, sizeof(out),
	    &len), CACHE_MISS);
	cache_free(c);
	msg_free(&m);
}

/* The byte budget holds; the least recently used go first. */
static void
test_eviction(void **state)
{
	const size_t budget = CACHE_MIN_BYTES;
	struct cache *c;
	struct cache_stats st;
	struct msg first, m;
	struct cache_key k;
	uint8_t out[QUERY_CAP];
	size_t len;
	char name[64], rr[128];

	(void)state;
	assert_int_equal(cache_new(&c, budget), 0);
	{
		const char *rrs[] = { "AN:n0.example.com. 300 IN A 192.0.2.1", NULL };

		msg_new(&first, "n0.example.com.", LDNS_RR_TYPE_A,
		    LDNS_RCODE_NOERROR, rrs);
	}
	k = key_of(&first, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    first.wire, first.len), 0);
	for (int i = 1; i < 2000; i++) {
		const char *rrs[] = { rr, NULL };

		snprintf(name, sizeof(name), "n%d.example.com.", i);
		snprintf(rr, sizeof(rr), "AN:%s 300 IN A 192.0.2.1", name);
		msg_new(&m, name, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, rrs);
		k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
		assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
		    m.wire, m.len), 0);
		msg_free(&m);
		/* keep the first one in use */
		k = key_of(&first, &policy_a, LDNS_RR_TYPE_A, false, false);
		assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_ANSWER);
		cache_stats_get(c, &st);
		assert_true(st.bytes <= budget);
	}
	cache_stats_get(c, &st);
	assert_true(st.evicted > 0);
	assert_true(st.entries > 50);	/* the budget is used, not wasted */
	assert_true(st.entries < 2000);
	/* n1 was the least recently used long ago */
	{
		const char *rrs[] = { "AN:n1.example.com. 300 IN A 192.0.2.1", NULL };

		msg_new(&m, "n1.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, rrs);
		k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
		assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_MISS);
		msg_free(&m);
	}
	/* an answer larger than an eighth of the budget is not taken */
	{
		static char rrbuf[80][160];
		const char *rrs[81];

		for (int i = 0; i < 80; i++) {
			snprintf(rrbuf[i], sizeof(rrbuf[i]),
			    "AN:big.example.com. 300 IN TXT \"%0100d\"", i);
			rrs[i] = rrbuf[i];
		}
		rrs[80] = NULL;
		msg_new(&m, "big.example.com.", LDNS_RR_TYPE_TXT,
		    LDNS_RCODE_NOERROR, rrs);
		k = key_of(&m, &policy_a, LDNS_RR_TYPE_TXT, false, false);
		assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
		    m.wire, m.len), -E2BIG);
		msg_free(&m);
	}
	cache_free(c);
	msg_free(&first);
}

/* A new threat-DB generation drops what was stored under the old one. */
static void
test_generation(void **state)
{
	const char *rrs[] = { "AN:" RR_A, NULL };
	struct cache *c;
	struct cache_stats st;
	struct msg m;
	struct cache_key k;
	uint8_t out[QUERY_CAP];
	size_t len;

	(void)state;
	assert_int_equal(cache_new(&c, 1 << 20), 0);
	msg_new(&m, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, rrs);
	k = key_of(&m, &policy_a, LDNS_RR_TYPE_A, false, false);
	assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
	    m.wire, m.len), 0);
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_ANSWER);
	assert_int_equal(lookup(c, &k, GEN + 1, NOW, out, &len), CACHE_MISS);
	/* dropped, not merely hidden */
	assert_int_equal(lookup(c, &k, GEN, NOW, out, &len), CACHE_MISS);
	cache_stats_get(c, &st);
	assert_int_equal(st.invalidated, 1);
	assert_int_equal(st.entries, 0);
	cache_free(c);
	msg_free(&m);
}

/* Flush one name (and below, any policy and type) or everything. */
static void
test_flush(void **state)
{
	static const char *names[] = { "example.com.", "www.example.com.",
	    "a.b.example.com.", "notexample.com.", "example.org." };
	struct cache *c;
	struct cache_stats st;
	struct msg m[5];
	struct cache_key k;
	uint8_t out[QUERY_CAP];
	size_t len;

	(void)state;
	assert_int_equal(cache_new(&c, 1 << 20), 0);
	for (int i = 0; i < 5; i++) {
		char rr[128];
		const char *rrs[] = { rr, NULL };

		snprintf(rr, sizeof(rr), "AN:%s 300 IN A 192.0.2.1", names[i]);
		msg_new(&m[i], names[i], LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, rrs);
		k = key_of(&m[i], &policy_a, LDNS_RR_TYPE_A, false, false);
		assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
		    m[i].wire, m[i].len), 0);
		k.policy = &policy_b;
		assert_int_equal(cache_store_answer(c, &k, GEN, NOW, &pass_meta,
		    m[i].wire, m[i].len), 0);
	}
	/* EXAMPLE.com: itself and below, both policies: 3 names x 2 */
	assert_int_equal(cache_flush(c, (const uint8_t *)"\7EXAMPLE\3com"), 6);
	for (int i = 0; i < 5; i++) {
		k = key_of(&m[i], &policy_b, LDNS_RR_TYPE_A, false, false);
		assert_int_equal(lookup(c, &k, GEN, NOW, out, &len),
		    i < 3 ? CACHE_MISS : CACHE_ANSWER);
	}
	assert_int_equal(cache_flush(c, (const uint8_t *)"\3www\7example\3com"), 0);
	assert_int_equal(cache_flush(c, NULL), 4);
	cache_stats_get(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.flushed, 10);
	for (int i = 0; i < 5; i++)
		msg_free(&m[i]);
	cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_keying),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_uncacheable),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
