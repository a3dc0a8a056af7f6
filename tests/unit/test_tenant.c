/* test_tenant.c -- tenant_net_parse(), longest-prefix tenants_match(), tenants_match_identity() */
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
#include <sys/un.h>

#include <cmocka.h>

#include "resolver/policy/tenant.h"

static void
test_net_parse_good(void **state)
{
	static const struct {
		const char *text;
		int family, plen;
		const char *addr;	/* 16 bytes, hex */
	} c[] = {
		{ "10.0.0.0/8", AF_INET, 8, "0a000000" },
		{ "192.0.2.1", AF_INET, 32, "c0000201" },
		{ "192.0.2.128/25", AF_INET, 25, "c0000280" },
		{ "0.0.0.0/0", AF_INET, 0, "00000000" },
		{ "2001:db8::/32", AF_INET6, 32, "20010db8000000000000000000000000" },
		{ "::1", AF_INET6, 128, "00000000000000000000000000000001" },
		{ "::/0", AF_INET6, 0, "00000000000000000000000000000000" },
		{ "2001:db8:0:1::/127", AF_INET6, 127, "20010db8000000010000000000000000" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct tenant_net n;
		uint8_t want[16] = { 0 };
		const char *why = NULL;

		for (size_t b = 0; c[i].addr[2 * b]; b++) {
			unsigned v;

			sscanf(c[i].addr + 2 * b, "%2x", &v);
			want[b] = (uint8_t)v;
		}
		memset(&n, 0xaa, sizeof(n));
		if (tenant_net_parse(c[i].text, &n, &why) != 0)
			fail_msg("%s: refused: %s", c[i].text, why);
		if (n.family != c[i].family || n.plen != c[i].plen)
			fail_msg("%s: family %d plen %d", c[i].text, n.family, n.plen);
		if (memcmp(n.addr, want, 16) != 0)
			fail_msg("%s: wrong address bytes", c[i].text);
		if (n.tenant != 0)
			fail_msg("%s: tenant index %u", c[i].text, n.tenant);
	}
}

static void
test_net_parse_bad(void **state)
{
	static const struct {
		const char *text, *why;
	} c[] = {
		{ "10.0.0.1/8", "host bits set beyond the prefix length" },
		{ "192.0.2.129/25", "host bits set beyond the prefix length" },
		{ "2001:db8::1/64", "host bits set beyond the prefix length" },
		{ "10.0.0.0/33", "bad prefix length" },
		{ "2001:db8::/129", "bad prefix length" },
		{ "10.0.0.0/-1", "bad prefix length" },
		{ "10.0.0.0/", "bad prefix length" },
		{ "10.0.0.0/8x", "bad prefix length" },
		{ "10.0.0.0/8/8", "bad prefix length" },
		{ "garbage", "not an IPv4 or IPv6 address" },
		{ "10.0.0/8", "not an IPv4 or IPv6 address" },
		{ "example.com/24", "not an IPv4 or IPv6 address" },
		{ "", "not an address" },
		{ "/8", "not an address" },
		{ "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/8", "not an address" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct tenant_net n;
		const char *why = NULL;

		if (tenant_net_parse(c[i].text, &n, &why) != -EINVAL)
			fail_msg("\"%s\": accepted", c[i].text);
		if (why == NULL || strcmp(why, c[i].why) != 0)
			fail_msg("\"%s\": reason \"%s\", want \"%s\"", c[i].text,
			    why ? why : "(null)", c[i].why);
	}
}

/* Tenants from "name=prefix" strings, in the order given. */
static void
build(struct tenants *t, const char *const *spec, size_t n)
{
	memset(t, 0, sizeof(*t));
	assert_non_null(t->v = calloc(n, sizeof(*t->v)));
	assert_non_null(t->nets = calloc(n, sizeof(*t->nets)));
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(spec[i], '=');
		const char *why;

		assert_non_null(eq);
		assert_non_null(t->v[i].name = strndup(spec[i], (size_t)(eq - spec[i])));
		assert_int_equal(tenant_net_parse(eq + 1, &t->nets[i], &why), 0);
		t->nets[i].tenant = (uint32_t)i;
	}
	t->n = t->n_nets = n;
	tenants_finish(t);
}

static const char *
who(const struct tenants *t, const char *addr)
{
	struct sockaddr_storage ss;
	const struct tenant *te;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	te = tenants_match(t, (struct sockaddr *)&ss);
	return te ? te->name : NULL;
}

static void
assert_who(const struct tenants *t, const char *addr, const char *want)
{
	const char *got = who(t, addr);

	if (want == NULL ? got != NULL : got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: tenant %s, want %s", addr, got ? got : "none",
		    want ? want : "none");
}

static void
check_longest(const char *const *spec, size_t n)
{
	struct tenants t;

	build(&t, spec, n);
	assert_who(&t, "10.1.2.3", "c24");
	assert_who(&t, "10.1.2.5", "c24");
	assert_who(&t, "10.1.3.4", "b16");
	assert_who(&t, "10.9.9.9", "a8");
	assert_who(&t, "10.1.2.200", "d25");
	assert_who(&t, "10.1.2.127", "c24");
	assert_who(&t, "11.0.0.1", NULL);
	assert_who(&t, "2001:db8:1::1", "v6_48");
	assert_who(&t, "2001:db8:2::1", "v6_32");
	assert_who(&t, "2001:db9::1", NULL);
	tenants_deinit(&t);
	assert_null(t.v);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.n_nets, 0);
}

static void
test_match_longest_prefix(void **state)
{
	static const char *const shortest_first[] = {
		"a8=10.0.0.0/8", "v6_32=2001:db8::/32", "b16=10.1.0.0/16",
		"c24=10.1.2.0/24", "v6_48=2001:db8:1::/48", "d25=10.1.2.128/25",
	};
	static const char *const longest_first[] = {
		"d25=10.1.2.128/25", "v6_48=2001:db8:1::/48", "c24=10.1.2.0/24",
		"b16=10.1.0.0/16", "v6_32=2001:db8::/32", "a8=10.0.0.0/8",
	};
	static const char *const mixed[] = {
		"b16=10.1.0.0/16", "d25=10.1.2.128/25", "v6_32=2001:db8::/32",
		"a8=10.0.0.0/8", "v6_48=2001:db8:1::/48", "c24=10.1.2.0/24",
	};

	check_longest(shortest_first, 6);
	check_longest(longest_first, 6);
	check_longest(mixed, 6);
}

static void
test_match_v4_mapped(void **state)
{
	static const char *const spec[] = { "lan=192.168.1.0/24", "v6=2001:db8::/32" };
	struct tenants t;

	build(&t, spec, 2);
	assert_who(&t, "::ffff:192.168.1.7", "lan");
	assert_who(&t, "::ffff:192.168.2.7", NULL);
	/* IPv4-compatible (::a.b.c.d) is not mapped */
	assert_who(&t, "::192.168.1.7", NULL);
	tenants_deinit(&t);
}

static void
test_match_default_route(void **state)
{
	static const char *const v4[] = { "all4=0.0.0.0/0" };
	static const char *const v6[] = { "all6=::/0" };
	static const char *const host[] = { "one=192.0.2.1", "loop6=::1" };
	struct tenants t;

	build(&t, v4, 1);
	assert_who(&t, "192.0.2.1", "all4");
	assert_who(&t, "255.255.255.255", "all4");
	assert_who(&t, "::ffff:1.2.3.4", "all4");
	assert_who(&t, "2001:db8::1", NULL);
	assert_who(&t, "::", NULL);
	tenants_deinit(&t);

	build(&t, v6, 1);
	assert_who(&t, "2001:db8::1", "all6");
	assert_who(&t, "::1", "all6");
	assert_who(&t, "192.0.2.1", NULL);
	tenants_deinit(&t);

	build(&t, host, 2);
	assert_who(&t, "192.0.2.1", "one");
	assert_who(&t, "192.0.2.2", NULL);
	assert_who(&t, "::1", "loop6");
	assert_who(&t, "::2", NULL);
	tenants_deinit(&t);
}

static void
test_match_empty_and_other_family(void **state)
{
	static const char *const spec[] = { "all4=0.0.0.0/0", "all6=::/0" };
	struct tenants t = { 0 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	assert_who(&t, "192.0.2.1", NULL);
	tenants_finish(&t);
	tenants_deinit(&t);

	build(&t, spec, 2);
	assert_null(tenants_match(&t, (struct sockaddr *)&un));
	tenants_deinit(&t);
}

static void
test_match_identity(void **state)
{
	struct tenant v[3] = {
		{ .name = "branch", .cert_identity = "branch.corp.example" },
		{ .name = "lan" },	/* networks only */
		{ .name = "lab", .cert_identity = "spiffe://corp.example/Lab" },
	};
	struct tenants t = { .v = v, .n = 3 };
	static const char nul[] = "branch.corp.example\0.evil";

	assert_ptr_equal(tenants_match_identity(&t, "branch.corp.example", 19,
	    true), &v[0]);
	assert_ptr_equal(tenants_match_identity(&t, "BRANCH.corp.example", 19,
	    true), &v[0]);	/* DNS names and CNs: no case */
	assert_null(tenants_match_identity(&t, "BRANCH.corp.example", 19, false));
	assert_ptr_equal(tenants_match_identity(&t, "spiffe://corp.example/Lab",
	    25, false), &v[2]);
	assert_null(tenants_match_identity(&t, "spiffe://corp.example/lab", 25,
	    false));	/* URIs: exact */
	/* a prefix, a longer name, an empty one, an embedded NUL: nothing */
	assert_null(tenants_match_identity(&t, "branch.corp.exampl", 18, true));
	assert_null(tenants_match_identity(&t, "branch.corp.example.", 20, true));
	assert_null(tenants_match_identity(&t, "", 0, true));
	assert_null(tenants_match_identity(&t, nul, sizeof(nul) - 1, true));
	assert_null(tenants_match_identity(&t, "lan", 3, true));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_parse_good),
		cmocka_unit_test(test_net_parse_bad),
		cmocka_unit_test(test_match_longest_prefix),
		cmocka_unit_test(test_match_v4_mapped),
		cmocka_unit_test(test_match_default_route),
		cmocka_unit_test(test_match_empty_and_other_family),
		cmocka_unit_test(test_match_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
