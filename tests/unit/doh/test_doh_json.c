/* test_doh_json.c -- DNS JSON: the wire query a request names, and answers rendered as JSON */
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

#include "resolver/doh/doh_json.h"
#include "resolver/packet.h"

static void
test_query(void **state)
{
	uint8_t w[512];
	size_t n = 0;
	struct pkt_query q;

	assert_int_equal(doh_json_query("example.com", "AAAA", false, false, w,
	    sizeof(w), &n), 0);
	assert_int_equal(n, 12 + 13 + 4);
	assert_int_equal(pkt_parse_query(w, n, &q), PKT_OK);
	assert_int_equal(q.id, 0);
	assert_true(q.rd);
	assert_false(q.cd);
	assert_false(q.edns);
	assert_int_equal(q.qtype, 28);
	assert_int_equal(q.qclass, 1);
	assert_memory_equal(q.qname, "\x07" "example\x03" "com", 13);

	/* numbers, the trailing dot, CD and DO */
	assert_int_equal(doh_json_query("example.com.", "65", true, true, w,
	    sizeof(w), &n), 0);
	assert_int_equal(pkt_parse_query(w, n, &q), PKT_OK);
	assert_int_equal(q.qtype, 65);
	assert_true(q.cd);
	assert_true(q.edns);
	assert_true(q.do_bit);
	/* no type: A */
	assert_int_equal(doh_json_query("a.b", NULL, false, false, w, sizeof(w), &n), 0);
	assert_int_equal(pkt_parse_query(w, n, &q), PKT_OK);
	assert_int_equal(q.qtype, 1);
	assert_int_equal(doh_json_query("a.b", "TYPE999", false, false, w, sizeof(w), &n), 0);
	assert_int_equal(pkt_parse_query(w, n, &q), PKT_OK);
	assert_int_equal(q.qtype, 999);
}

static void
test_query_bad(void **state)
{
	uint8_t w[512];
	size_t n;
	char longlabel[80];

	memset(longlabel, 'a', 64);
	strcpy(longlabel + 64, ".com");
	assert_int_equal(doh_json_query("", "A", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query(NULL, "A", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query(longlabel, "A", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a..b", "A", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "NOPE", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "0", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "65536", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "1x", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "OPT", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "161", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "TYPE250", false, false, w, sizeof(w), &n), -EINVAL);
	assert_int_equal(doh_json_query("a.b", "A", false, false, w, 10, &n), -E2BIG);
}

static uint8_t *
answer(const char *qname, ldns_rr_type t, const char *const *an, size_t n_an,
    const char *const *ns, size_t n_ns, ldns_pkt_rcode rc, size_t *len)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), t,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	uint8_t *w = NULL;

	assert_non_null(p);
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
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_ad(p, true);
	ldns_pkt_set_rcode(p, rc);
	assert_int_equal(ldns_pkt2wire(&w, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return w;
}

static void
test_render(void **state)
{
	static const char *const an[] = {
		"www.example.com. 300 IN CNAME web.example.com.",
		"web.example.com. 60 IN AAAA 2001:db8::1",
		"web.example.com. 60 IN TXT \"say \\\"hi\\\"\" \"two\"",
	};
	size_t len, jlen;
	uint8_t *w = answer("www.example.com.", LDNS_RR_TYPE_AAAA, an, 3, NULL, 0,
	    LDNS_RCODE_NOERROR, &len);
	char *j = NULL;

	assert_int_equal(doh_json_render(w, len, &j, &jlen), 0);
	assert_int_equal(strlen(j), jlen);
	assert_string_equal(j,
	    "{\"Status\":0,\"TC\":false,\"RD\":true,\"RA\":true,\"AD\":true,"
	    "\"CD\":false,\"Question\":[{\"name\":\"www.example.com.\",\"type\":28}],"
	    "\"Answer\":[{\"name\":\"www.example.com.\",\"type\":5,\"TTL\":300,"
	    "\"data\":\"web.example.com.\"},"
	    "{\"name\":\"web.example.com.\",\"type\":28,\"TTL\":60,"
	    "\"data\":\"2001:db8::1\"},"
	    "{\"name\":\"web.example.com.\",\"type\":16,\"TTL\":60,"
	    "\"data\":\"\\\"say \\\\\\\"hi\\\\\\\"\\\" \\\"two\\\"\"}]}");
	free(j);
	free(w);
}

static void
test_render_negative(void **state)
{
	static const char *const soa[] = {
		"example.com. 3600 IN SOA ns.example.com. h.example.com. 1 2 3 4 900",
	};
	size_t len, jlen;
	uint8_t *w = answer("nx.example.com.", LDNS_RR_TYPE_A, NULL, 0, soa, 1,
	    LDNS_RCODE_NXDOMAIN, &len);
	char *j = NULL;

	assert_int_equal(doh_json_render(w, len, &j, &jlen), 0);
	assert_non_null(strstr(j, "\"Status\":3,"));
	assert_null(strstr(j, "\"Answer\""));
	assert_non_null(strstr(j, "\"Authority\":[{\"name\":\"example.com.\","
	    "\"type\":6,\"TTL\":3600,\"data\":\"ns.example.com. h.example.com. "
	    "1 2 3 4 900\"}]"));
	free(j);
	/* garbage */
	assert_int_equal(doh_json_render(w, 7, &j, &jlen), -EBADMSG);
	free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_bad),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_negative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
