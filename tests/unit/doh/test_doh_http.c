/* test_doh_http.c -- DoH's HTTP helpers: base64url, targets, query strings, Accept, cache TTLs, tokens */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "resolver/doh/doh_http.h"
#include "resolver/policy/tenant.h"

static void
test_b64url_good(void **state)
{
	/* RFC 8484 4.1.1: the query for www.example.com A, ID 0 */
	static const char *q = "AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB";
	static const uint8_t want[] = { 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c',
		'o', 'm', 0, 0, 1, 0, 1 };
	uint8_t out[64];
	size_t n = 0;

	assert_int_equal(doh_b64url_decode(q, strlen(q), out, sizeof(out), &n), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, n);
	/* every length that is not 1 mod 4 */
	assert_int_equal(doh_b64url_decode("", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(doh_b64url_decode("_-8", 3, out, sizeof(out), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xef);
	assert_int_equal(doh_b64url_decode("AA", 2, out, sizeof(out), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(doh_b64url_decode("AAAA", 4, out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
}

static void
test_b64url_strict(void **state)
{
	static const char *bad[] = {
		"AA==",		/* padding */
		"AAA=",
		"A",		/* 6 bits */
		"AAAAA",
		"AA+A",		/* base64, not base64url */
		"AA/A",
		"AA A",		/* whitespace */
		"AB",		/* leftover bits not zero */
		"AAB",
		"AA%3D",
	};
	uint8_t out[16];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(doh_b64url_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out), &n), -EINVAL);
	assert_int_equal(doh_b64url_decode("AAAAAAAA", 8, out, 5, &n), -E2BIG);
	assert_int_equal(doh_b64url_decode("AAAAAAAA", 8, out, 6, &n), 0);
}

static void
test_target(void **state)
{
	struct doh_target t;
	const char *s;

	s = "/dns-query";
	assert_int_equal(doh_target_parse(s, strlen(s), "/dns-query", &t), 0);
	assert_null(t.token);
	assert_null(t.query);
	s = "/dns-query?dns=AAAA&x=1";
	assert_int_equal(doh_target_parse(s, strlen(s), "/dns-query", &t), 0);
	assert_null(t.token);
	assert_int_equal(t.query_len, 12);
	assert_memory_equal(t.query, "dns=AAAA&x=1", 12);
	s = "/dns-query/hq-7f3a?dns=AA";
	assert_int_equal(doh_target_parse(s, strlen(s), "/dns-query", &t), 0);
	assert_int_equal(t.token_len, 7);
	assert_memory_equal(t.token, "hq-7f3a", 7);
	assert_memory_equal(t.query, "dns=AA", 6);
	s = "/dns-query/tok";
	assert_int_equal(doh_target_parse(s, strlen(s), "/dns-query", &t), 0);
	assert_int_equal(t.token_len, 3);
	/* other paths */
	static const char *bad[] = { "/", "/dns", "/dns-query/", "/dns-query/a/b",
		"/dns-queryx", "/dns-queryx?dns=AA", "dns-query", "/dns-query//a",
		"/other/dns-query", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(doh_target_parse(bad[i], strlen(bad[i]),
		    "/dns-query", &t), -ENOENT);
	/* not NUL-terminated: only len bytes count */
	assert_int_equal(doh_target_parse("/dns-query/abc", 10, "/dns-query", &t), 0);
	assert_null(t.token);
}

static void
test_query_param(void **state)
{
	char v[16];
	size_t n;
	const char *qs = "name=example.com&type=AAAA&empty=&flag&ct=application%2Fdns-json";

	assert_int_equal(doh_query_param(qs, strlen(qs), "name", v, sizeof(v), &n), 0);
	assert_string_equal(v, "example.com");
	assert_int_equal(n, 11);
	assert_int_equal(doh_query_param(qs, strlen(qs), "type", v, sizeof(v), &n), 0);
	assert_string_equal(v, "AAAA");
	assert_int_equal(doh_query_param(qs, strlen(qs), "empty", v, sizeof(v), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(doh_query_param(qs, strlen(qs), "flag", v, sizeof(v), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(doh_query_param(qs, strlen(qs), "dns", v, sizeof(v), &n), -ENOENT);
	assert_int_equal(doh_query_param(qs, strlen(qs), "nam", v, sizeof(v), &n), -ENOENT);
	assert_int_equal(doh_query_param(qs, strlen(qs), "ct", v, sizeof(v), &n), -E2BIG);
	/* twice: refused, not "first wins" */
	qs = "dns=AA&dns=BB";
	assert_int_equal(doh_query_param(qs, strlen(qs), "dns", v, sizeof(v), &n), -EINVAL);
	/* bad escapes, and %00 */
	qs = "a=%4";
	assert_int_equal(doh_query_param(qs, strlen(qs), "a", v, sizeof(v), &n), -EINVAL);
	qs = "a=%zz";
	assert_int_equal(doh_query_param(qs, strlen(qs), "a", v, sizeof(v), &n), -EINVAL);
	qs = "a=%00";
	assert_int_equal(doh_query_param(qs, strlen(qs), "a", v, sizeof(v), &n), -EINVAL);
	qs = "a=%41%62";
	assert_int_equal(doh_query_param(qs, strlen(qs), "a", v, sizeof(v), &n), 0);
	assert_string_equal(v, "Ab");
	assert_int_equal(doh_query_param("", 0, "a", v, sizeof(v), &n), -ENOENT);
	qs = "&&a=1&";
	assert_int_equal(doh_query_param(qs, strlen(qs), "a", v, sizeof(v), &n), 0);
	assert_string_equal(v, "1");
}

static void
test_accepts(void **state)
{
	const char *a = "text/html, application/dns-json;q=0.9, */*";

	assert_true(doh_accepts(a, strlen(a), "application/dns-json"));
	assert_false(doh_accepts(a, strlen(a), "application/dns-message"));
	a = "Application/DNS-Message";
	assert_true(doh_accepts(a, strlen(a), "application/dns-message"));
	a = "application/dns-messagex";
	assert_false(doh_accepts(a, strlen(a), "application/dns-message"));
	assert_false(doh_accepts("", 0, "application/dns-message"));
}

/* An answer from records in text form. */
static size_t
answer_of(const char *const *an, size_t n_an, const char *const *ns,
    size_t n_ns, uint8_t **wire)
{
	ldns_pkt *p = ldns_pkt_new();
	size_t len = 0;

	for (size_t i = 0; i < n_an; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, an[i], 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; i < n_ns; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, ns[i], 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	ldns_pkt_set_qr(p, true);
	assert_int_equal(ldns_pkt2wire(wire, p, &len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return len;
}

static void
test_cache_ttl(void **state)
{
	static const char *const an[] = {
		"www.example.com. 300 IN CNAME web.example.com.",
		"web.example.com. 60 IN A 192.0.2.1",
		"web.example.com. 120 IN A 192.0.2.2",
	};
	static const char *const soa[] = {
		"example.com. 3600 IN SOA ns.example.com. h.example.com. 1 2 3 4 900",
	};
	static const char *const soa_small[] = {
		"example.com. 30 IN SOA ns.example.com. h.example.com. 1 2 3 4 900",
	};
	uint8_t *w;
	size_t n;

	n = answer_of(an, 3, soa, 1, &w);
	assert_int_equal(doh_cache_ttl(w, n), 60);
	free(w);
	/* negative: min(SOA TTL, MINIMUM) */
	n = answer_of(NULL, 0, soa, 1, &w);
	assert_int_equal(doh_cache_ttl(w, n), 900);
	free(w);
	n = answer_of(NULL, 0, soa_small, 1, &w);
	assert_int_equal(doh_cache_ttl(w, n), 30);
	free(w);
	/* nothing to go by, or garbage */
	n = answer_of(NULL, 0, NULL, 0, &w);
	assert_int_equal(doh_cache_ttl(w, n), 0);
	assert_int_equal(doh_cache_ttl(w, 5), 0);
	free(w);
	/* cut anywhere inside the records: never a TTL read past the end */
	n = answer_of(an, 3, soa, 1, &w);
	for (size_t cut = 12; cut < n; cut++)
		assert_true(doh_cache_ttl(w, cut) == 0 || doh_cache_ttl(w, cut) == 60);
	free(w);
}

static void
test_token(void **state)
{
	struct tenant v[3] = { { .name = "a" }, { .name = "b" }, { .name = "c" } };
	struct tenants t = { .v = v, .n = 3 };
	unsigned mdlen;

	assert_int_equal(EVP_Digest("hq-7f3a", 7, v[1].doh_token_sha256, &mdlen,
	    EVP_sha256(), NULL), 1);
	v[1].has_doh_token = true;
	assert_int_equal(EVP_Digest("lab-secret", 10, v[2].doh_token_sha256,
	    &mdlen, EVP_sha256(), NULL), 1);
	v[2].has_doh_token = true;
	assert_ptr_equal(tenants_match_token(&t, "hq-7f3a", 7), &v[1]);
	assert_ptr_equal(tenants_match_token(&t, "lab-secretXX", 10), &v[2]);
	assert_null(tenants_match_token(&t, "hq-7f3", 6));
	assert_null(tenants_match_token(&t, "hq-7f3ab", 8));
	assert_null(tenants_match_token(&t, "", 0));
	/* a tenant without a token never matches the digest of nothing */
	assert_null(tenants_match_token(&t, "x", 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url_good),
		cmocka_unit_test(test_b64url_strict),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_query_param),
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_cache_ttl),
		cmocka_unit_test(test_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
