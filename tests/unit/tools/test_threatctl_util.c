/* test_threatctl_util.c -- unit tests of threatctl's pure helpers
 * (tools/threatctl_util.c): durations, actions, names, RPZ owners, ranges */
#include "autoconf.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tools/threatctl.h"

#define U128(hi, lo) (((unsigned __int128)(hi) << 64) | (lo))

static void
test_duration_good(void **state)
{
	static const struct {
		const char *in;
		int64_t secs;
	} t[] = {
		{ "1s", 1 }, { "90s", 90 }, { "5m", 300 }, { "12h", 43200 },
		{ "30d", 2592000 }, { "2w", 1209600 }, { "1d12h", 129600 },
		{ "1h30m15s", 5415 }, { "0d1s", 1 },
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		v = -1;
		assert_int_equal(tctl_duration_parse(t[i].in, &v), 0);
		assert_int_equal(v, t[i].secs);
	}
}

static void
test_duration_bad(void **state)
{
	static const char *const bad[] = {
		"", "30", "d", "1x", "1 d", " 1d", "1d ", "-1d", "1.5h", "0s",
		"0d0h", "1dd", "99999999999999999999s", "3000000w", "1d-1h",
		"1D",
	};
	int64_t v = 42;

	(void)state;
	assert_int_equal(tctl_duration_parse(NULL, &v), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(tctl_duration_parse(bad[i], &v), -EINVAL);
		assert_int_equal(v, 42);	/* untouched */
	}
}

static void
test_expires(void **state)
{
	const int64_t now = 1700000000;
	int64_t v = 7;

	(void)state;
	assert_int_equal(tctl_expires_parse("1h", now, &v), 0);
	assert_int_equal(v, now + 3600);
	assert_int_equal(tctl_expires_parse("2026-12-31", now, &v), 0);
	assert_int_equal(v, 1798675200);
	assert_int_equal(tctl_expires_parse("2026-12-31T01:02:03Z", now, &v),
	    0);
	assert_int_equal(v, 1798675200 + 3723);
	v = 7;
	/* a bare number is ambiguous: refused, also when it is a valid
	 * unix time */
	assert_int_equal(tctl_expires_parse("1798675200", now, &v), -EINVAL);
	assert_int_equal(tctl_expires_parse("30", now, &v), -EINVAL);
	assert_int_equal(tctl_expires_parse("", now, &v), -EINVAL);
	assert_int_equal(tctl_expires_parse(NULL, now, &v), -EINVAL);
	assert_int_equal(tctl_expires_parse("2026-02-30", now, &v), -EINVAL);
	assert_int_equal(tctl_expires_parse("tomorrow", now, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void
test_action(void **state)
{
	static const char *const names[] = {
		"none", "block", "redirect", "log", "nxdomain", "nodata",
		"drop",
	};
	enum tdb_action a;

	(void)state;
	for (int i = 0; i <= TDB_ACTION_MAX; i++) {
		assert_int_equal(tctl_action_parse(names[i], &a), 0);
		assert_int_equal(a, i);
		assert_string_equal(tctl_action_name((enum tdb_action)i),
		    names[i]);
	}
	assert_int_equal(tctl_action_parse("BLOCK", &a), 0);
	assert_int_equal(a, TDB_ACTION_BLOCK);
	a = TDB_ACTION_LOG;
	assert_int_equal(tctl_action_parse("allow", &a), -EINVAL);
	assert_int_equal(tctl_action_parse("", &a), -EINVAL);
	assert_int_equal(tctl_action_parse(NULL, &a), -EINVAL);
	assert_int_equal(a, TDB_ACTION_LOG);
	assert_string_equal(tctl_action_name((enum tdb_action)99), "?");
}

static void
test_category_and_feed(void **state)
{
	char out[TDB_MAX_CATEGORY + 1] = "keep";
	char long_cat[TDB_MAX_CATEGORY + 2];
	char long_feed[TDB_MAX_FEED + 2];

	(void)state;
	assert_int_equal(tctl_category_parse("Malware", out), 0);
	assert_string_equal(out, "malware");
	assert_int_equal(tctl_category_parse("doh-bypass", out), 0);
	assert_string_equal(out, "doh-bypass");
	memset(long_cat, 'a', sizeof(long_cat) - 1);
	long_cat[sizeof(long_cat) - 1] = '\0';
	assert_int_equal(tctl_category_parse(long_cat, out), -EINVAL);
	long_cat[TDB_MAX_CATEGORY] = '\0';
	assert_int_equal(tctl_category_parse(long_cat, out), 0);
	strcpy(out, "keep");
	assert_int_equal(tctl_category_parse("c2 ", out), -EINVAL);
	assert_int_equal(tctl_category_parse("a_b", out), -EINVAL);
	assert_int_equal(tctl_category_parse("", out), -EINVAL);
	assert_string_equal(out, "keep");

	assert_int_equal(tctl_feed_name_check("urlhaus"), 0);
	assert_int_equal(tctl_feed_name_check("abuse.ch/urlhaus-2"), 0);
	assert_int_equal(tctl_feed_name_check("two words"), -EINVAL);
	assert_int_equal(tctl_feed_name_check(""), -EINVAL);
	assert_int_equal(tctl_feed_name_check("tab\there"), -EINVAL);
	assert_int_equal(tctl_feed_name_check("caf\xc3\xa9"), -EINVAL);
	memset(long_feed, 'f', sizeof(long_feed) - 1);
	long_feed[sizeof(long_feed) - 1] = '\0';
	assert_int_equal(tctl_feed_name_check(long_feed), -EINVAL);
	long_feed[TDB_MAX_FEED] = '\0';
	assert_int_equal(tctl_feed_name_check(long_feed), 0);
}

static void
test_time_hex_zone(void **state)
{
	char buf[64];
	const uint8_t bytes[] = { 0x00, 0x9f, 0xa0, 0xff };

	(void)state;
	tctl_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "never");
	tctl_time_format(1798675200 + 3723, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-31T01:02:03Z");
	tctl_hex(bytes, sizeof(bytes), buf);
	assert_string_equal(buf, "009fa0ff");
	tctl_hex(bytes, 0, buf);
	assert_string_equal(buf, "");

	assert_int_equal(tctl_zone_name("www.example.com", buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "www.example.com");
	assert_int_equal(tctl_zone_name("a b.x;y", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a\\032b.x\\059y");
	assert_int_equal(tctl_zone_name("", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* exactly fitting, one short */
	assert_int_equal(tctl_zone_name("abc", buf, 4), 0);
	assert_int_equal(tctl_zone_name("abcd", buf, 4), -ENOSPC);
	assert_int_equal(tctl_zone_name("a;", buf, 6), 0);
	assert_string_equal(buf, "a\\059");
	assert_int_equal(tctl_zone_name("a;", buf, 5), -ENOSPC);
	assert_int_equal(tctl_zone_name("", buf, 0), -ENOSPC);
}

static struct tdb_entry
prefix(const char *addr, unsigned plen)
{
	struct tdb_entry e;

	memset(&e, 0, sizeof(e));
	e.is_prefix = true;
	e.plen = (uint8_t)plen;
	if (inet_pton(AF_INET, addr, e.addr) == 1)
		e.family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, e.addr), 1);
		e.family = AF_INET6;
	}
	return e;
}

static void
test_rpz_owner(void **state)
{
	static const struct {
		const char *addr;
		unsigned plen;
		const char *owner;
	} t[] = {
		{ "192.0.2.0", 24, "24.0.2.0.192.rpz-ip" },
		{ "10.1.2.3", 32, "32.3.2.1.10.rpz-ip" },
		{ "0.0.0.0", 0, "0.0.0.0.0.rpz-ip" },
		{ "2001:db8::", 32, "32.zz.db8.2001.rpz-ip" },
		{ "2001:db8::1", 128, "128.1.zz.db8.2001.rpz-ip" },
		{ "::", 0, "0.zz.rpz-ip" },
		{ "::1", 128, "128.1.zz.rpz-ip" },
		/* a single zero group stays a group */
		{ "2001:db8:0:1:1:1:1:1", 128, "128.1.1.1.1.1.0.db8.2001.rpz-ip" },
		/* the longest run wins; the first of two equal ones */
		{ "2001:0:0:1:0:0:0:1", 128, "128.1.zz.1.0.0.2001.rpz-ip" },
		{ "2001:0:0:1:0:0:1:1", 128, "128.1.1.0.0.1.zz.2001.rpz-ip" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128,
		  "128.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.rpz-ip" },
	};
	struct tdb_entry e;
	char buf[80];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		e = prefix(t[i].addr, t[i].plen);
		assert_int_equal(tctl_rpz_ip_owner(&e, buf, sizeof(buf)), 0);
		assert_string_equal(buf, t[i].owner);
	}
	e = prefix("192.0.2.0", 24);
	assert_int_equal(tctl_rpz_ip_owner(&e, buf, strlen(t[0].owner) + 1),
	    0);
	assert_int_equal(tctl_rpz_ip_owner(&e, buf, strlen(t[0].owner)),
	    -ENOSPC);
	e = prefix("2001:db8::1", 128);
	assert_int_equal(tctl_rpz_ip_owner(&e, buf, 10), -ENOSPC);
	e.is_prefix = false;
	assert_int_equal(tctl_rpz_ip_owner(&e, buf, sizeof(buf)), -EINVAL);
	e = prefix("192.0.2.0", 24);
	e.family = 99;
	assert_int_equal(tctl_rpz_ip_owner(&e, buf, sizeof(buf)), -EINVAL);
}

static void
test_prefix_range(void **state)
{
	struct tdb_entry e;
	struct tctl_range r;

	(void)state;
	e = prefix("192.0.2.77", 24);	/* host bits are ignored */
	r = tctl_prefix_range(AF_INET, e.addr, 24);
	assert_true(r.lo == 0xc0000200u && r.hi == 0xc00002ffu);
	r = tctl_prefix_range(AF_INET, e.addr, 0);
	assert_true(r.lo == 0 && r.hi == 0xffffffffu);
	r = tctl_prefix_range(AF_INET, e.addr, 32);
	assert_true(r.lo == 0xc000024du && r.hi == 0xc000024du);
	r = tctl_prefix_range(AF_INET, e.addr, 40);	/* clamped */
	assert_true(r.lo == 0xc000024du && r.hi == r.lo);
	e = prefix("2001:db8::", 32);
	r = tctl_prefix_range(AF_INET6, e.addr, 32);
	assert_true(r.lo == U128(0x20010db800000000ull, 0));
	assert_true(r.hi == U128(0x20010db8ffffffffull, ~0ull));
	r = tctl_prefix_range(AF_INET6, e.addr, 0);
	assert_true(r.lo == 0 && r.hi == ~(unsigned __int128)0);
	r = tctl_prefix_range(AF_INET6, e.addr, 128);
	assert_true(r.lo == r.hi && r.lo == U128(0x20010db800000000ull, 0));
}

static void
test_ranges_merge(void **state)
{
	struct tctl_range r[] = {
		{ 50, 60 }, { 10, 20 }, { 21, 30 },	/* adjacent */
		{ 15, 18 },				/* inside */
		{ 55, 70 },				/* overlapping */
		{ 72, 72 },				/* gap of one */
		{ 100, 100 }, { 100, 100 },		/* duplicate */
	};
	struct tctl_range top[] = {
		{ 0xfffffff0u, 0xffffffffu }, { 0, 5 }, { 0xffffff00u, 0xfffffff5u },
	};
	struct tctl_range all6[] = {
		{ 0, ~(unsigned __int128)0 }, { 5, 9 },
	};
	size_t n;

	(void)state;
	n = tctl_ranges_merge(r, sizeof(r) / sizeof(*r));
	assert_int_equal(n, 4);
	assert_true(r[0].lo == 10 && r[0].hi == 30);
	assert_true(r[1].lo == 50 && r[1].hi == 70);
	assert_true(r[2].lo == 72 && r[2].hi == 72);
	assert_true(r[3].lo == 100 && r[3].hi == 100);
	assert_int_equal(tctl_ranges_merge(r, 0), 0);
	n = tctl_ranges_merge(top, 3);
	assert_int_equal(n, 2);
	assert_true(top[0].lo == 0 && top[0].hi == 5);
	assert_true(top[1].lo == 0xffffff00u && top[1].hi == 0xffffffffu);
	/* the whole IPv6 space: no wrap-around at the end */
	n = tctl_ranges_merge(all6, 2);
	assert_int_equal(n, 1);
	assert_true(all6[0].lo == 0 && all6[0].hi == ~(unsigned __int128)0);
}

static void
test_ranges_subtract(void **state)
{
	const struct tctl_range r[] = { { 10, 100 }, { 200, 300 }, { 400, 410 } };
	const struct tctl_range sub[] = {
		{ 0, 10 },		/* cuts the first byte */
		{ 50, 60 },		/* a hole */
		{ 100, 250 },		/* the end of one, the start of next */
		{ 300, 300 },		/* the last address */
		{ 400, 410 },		/* all of it */
	};
	const struct tctl_range none[] = { { 500, 600 } };
	const struct tctl_range max[] = { { 0, ~(unsigned __int128)0 } };
	const struct tctl_range hole[] = { { 5, 5 } };
	struct tctl_range out[16];
	size_t n;

	(void)state;
	n = tctl_ranges_subtract(r, 3, sub, 5, out);
	assert_int_equal(n, 3);
	assert_true(out[0].lo == 11 && out[0].hi == 49);
	assert_true(out[1].lo == 61 && out[1].hi == 99);
	assert_true(out[2].lo == 251 && out[2].hi == 299);
	n = tctl_ranges_subtract(r, 3, none, 1, out);
	assert_int_equal(n, 3);
	assert_true(out[2].lo == 400 && out[2].hi == 410);
	n = tctl_ranges_subtract(r, 3, NULL, 0, out);
	assert_int_equal(n, 3);
	n = tctl_ranges_subtract(r, 3, max, 1, out);
	assert_int_equal(n, 0);
	n = tctl_ranges_subtract(max, 1, hole, 1, out);
	assert_int_equal(n, 2);
	assert_true(out[0].lo == 0 && out[0].hi == 4);
	assert_true(out[1].lo == 6 && out[1].hi == ~(unsigned __int128)0);
}

/* Split [lo, hi] into prefixes; check they tile it exactly. */
static size_t
split(unsigned __int128 lo, unsigned __int128 hi, unsigned bits,
    unsigned *plens, unsigned __int128 *starts, size_t cap)
{
	struct tctl_range r = { lo, hi };
	unsigned __int128 next = lo;
	bool more = true;
	size_t n = 0;

	while (more) {
		assert_true(n < cap);
		plens[n] = tctl_range_next_prefix(&r, bits, &starts[n], &more);
		assert_true(starts[n] == next);
		/* aligned to its own size */
		if (plens[n] > 0)
			assert_true((starts[n] &
			    ((((unsigned __int128)1) << (bits - plens[n])) - 1)) == 0);
		if (plens[n] > 0)
			next = starts[n] + (((unsigned __int128)1) << (bits - plens[n]));
		n++;
	}
	if (plens[n - 1] > 0)
		assert_true(next - 1 == hi);
	return n;
}

static void
test_range_prefixes(void **state)
{
	unsigned p[300];
	unsigned __int128 s[300];
	size_t n;

	(void)state;
	/* one exact prefix */
	n = split(0xc0000200u, 0xc00002ffu, 32, p, s, 300);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 24);
	/* a single address */
	n = split(7, 7, 32, p, s, 300);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 32);
	/* 1..6: /32 /31 /31 /32 */
	n = split(1, 6, 32, p, s, 300);
	assert_int_equal(n, 4);
	assert_int_equal(p[0], 32);
	assert_int_equal(p[1], 31);
	assert_int_equal(p[2], 31);
	assert_int_equal(p[3], 32);
	/* all of IPv4, and all but the first and last address */
	n = split(0, 0xffffffffu, 32, p, s, 300);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 0);
	n = split(1, 0xfffffffeu, 32, p, s, 300);
	assert_int_equal(n, 62);
	assert_int_equal(p[0], 32);
	assert_int_equal(p[30], 2);
	assert_int_equal(p[31], 2);
	assert_int_equal(p[61], 32);
	/* all of IPv6, its upper half, and all but its first address */
	n = split(0, ~(unsigned __int128)0, 128, p, s, 300);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 0);
	n = split((unsigned __int128)1 << 127, ~(unsigned __int128)0, 128, p,
	    s, 300);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 1);
	n = split(1, ~(unsigned __int128)0, 128, p, s, 300);
	assert_int_equal(n, 128);
	assert_int_equal(p[0], 128);
	assert_int_equal(p[127], 1);
	/* the last address of IPv6 */
	n = split(~(unsigned __int128)0, ~(unsigned __int128)0, 128, p, s, 300);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 128);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_expires),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_category_and_feed),
		cmocka_unit_test(test_time_hex_zone),
		cmocka_unit_test(test_rpz_owner),
		cmocka_unit_test(test_prefix_range),
		cmocka_unit_test(test_ranges_merge),
		cmocka_unit_test(test_ranges_subtract),
		cmocka_unit_test(test_range_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
