/* test_policy.c -- the policy decisions: tables over a real threat DB, canned upstream answers, config */
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
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/config.h"
#include "resolver/packet.h"
#include "resolver/policy/policy.h"
#include "threatdb/tdb.h"
#include "tests/unit/testdir.h"

#define NOW	1800000000	/* a fixed "now" for expiry */

struct fx {
	char path[64];
	struct tdb *db;
	struct tdb_reader *r;
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	char err[TDB_ERRLEN];

	if (x == NULL)
		return -1;
	strcpy(x->path, "/tmp/test_policy.XXXXXX");
	if (mkdtemp(x->path) == NULL)
		return -1;
	rmdir(x->path);
	if (tdb_open(&x->db, x->path, true, err, sizeof(err)) != 0 ||
	    tdb_reader_new(&x->r, x->db) != 0)
		return -1;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	tdb_reader_free(x->r);
	tdb_close(x->db);
	testdir_remove(x->path);
	free(x);
	return 0;
}

/* ---- helpers ---- */

static struct tdb_entry
nm(const char *name, enum tdb_scope scope, bool allow, const char *cat,
    enum tdb_action hint, int64_t expires)
{
	struct tdb_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", name);
	e.scope = scope;
	e.allow = allow;
	snprintf(e.category, sizeof(e.category), "%s", cat);
	e.action = hint;
	e.expires = expires;
	return e;
}

static struct tdb_entry
pfx(int family, const char *addr, unsigned plen, const char *cat)
{
	struct tdb_entry e;

	memset(&e, 0, sizeof(e));
	e.is_prefix = true;
	e.family = (uint8_t)family;
	assert_int_equal(inet_pton(family, addr, e.addr), 1);
	e.plen = (uint8_t)plen;
	snprintf(e.category, sizeof(e.category), "%s", cat);
	return e;
}

static void
import(struct tdb *db, const char *feed, const struct tdb_entry *e, size_t n)
{
	struct tdb_import *im;
	char err[TDB_ERRLEN];

	assert_int_equal(tdb_import_begin(db, feed, "test", &im), 0);
	for (size_t i = 0; i < n; i++)
		if (tdb_import_add(im, &e[i]) != 0)
			fail_msg("add %s", e[i].name);
	if (tdb_import_commit(im, NULL, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
}

static const uint8_t *
wire(const char *name)
{
	static uint8_t w[4][PKT_MAX_NAME];
	static int k;
	uint8_t *o = w[k++ % 4];
	size_t i = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		o[i++] = (uint8_t)l;
		memcpy(o + i, name, l);
		i += l;
		name += l + (dot != NULL);
	}
	o[i] = 0;
	return o;
}

/* A policy: rules must be given sorted by category. */
static struct policy
mkpolicy(struct pol_rule *rules, size_t n)
{
	struct policy p = {
		.name = (char *)"t", .rules = rules, .n_rules = n,
		.redirect_ttl = 60, .block_ttl = 60,
	};
	return p;
}

static struct pol_env
env(struct fx *x, const struct policy *p)
{
	struct pol_env e = { .policy = p, .tdb = x ? x->r : NULL, .now = NOW };
	return e;
}

/* ---- the category mapping (no database) ---- */

static void
test_decide_table(void **state)
{
	struct pol_rule rules[] = {
		{ "c2", POL_BLOCK }, { "malware", POL_REDIRECT }, { "tracking", POL_LOG },
	};
	struct policy p = mkpolicy(rules, 3), pd = p;
	static const struct {
		bool has_default;
		enum pol_action def;
		const char *cat;
		enum tdb_action hint;
		enum pol_action want;
		enum pol_block want_block;
	} c[] = {
		{ false, POL_PASS, "malware", TDB_ACTION_BLOCK, POL_REDIRECT, 0 },	/* rule beats hint */
		{ false, POL_PASS, "c2", TDB_ACTION_NONE, POL_BLOCK, POL_BLOCK_NXDOMAIN },
		{ false, POL_PASS, "tracking", TDB_ACTION_BLOCK, POL_LOG, 0 },
		{ false, POL_PASS, "adware", TDB_ACTION_NONE, POL_PASS, 0 },	/* nothing: pass */
		{ false, POL_PASS, "adware", TDB_ACTION_BLOCK, POL_BLOCK, 0 },	/* hint */
		{ false, POL_PASS, "adware", TDB_ACTION_NODATA, POL_BLOCK, POL_BLOCK_NODATA },
		{ false, POL_PASS, "adware", TDB_ACTION_REDIRECT, POL_REDIRECT, 0 },
		{ false, POL_PASS, "adware", TDB_ACTION_LOG, POL_LOG, 0 },
		{ false, POL_PASS, "", TDB_ACTION_DROP, POL_BLOCK, 0 },	/* we never drop */
		{ true, POL_LOG, "adware", TDB_ACTION_BLOCK, POL_LOG, 0 },	/* default beats hint */
		{ true, POL_BLOCK, "adware", TDB_ACTION_NONE, POL_BLOCK, 0 },
		{ true, POL_LOG, "c2", TDB_ACTION_NONE, POL_BLOCK, 0 },	/* rule beats default */
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct tdb_match m = { .found = true, .category = c[i].cat,
		    .feed = "f1", .action = c[i].hint };
		struct pol_verdict v;

		pd.has_default = c[i].has_default;
		pd.def = c[i].def;
		pol_verdict_clear(&v);
		assert_int_equal(pol_decide(&pd, &m, POL_REASON_QNAME, &v), c[i].want);
		assert_int_equal(v.action, c[i].want);
		if (c[i].want == POL_BLOCK)
			assert_int_equal(v.block, c[i].want_block);
		if (c[i].want != POL_PASS) {
			assert_string_equal(v.category, c[i].cat);
			assert_string_equal(v.feed, "f1");
			assert_int_equal(v.reason, POL_REASON_QNAME);
		}
	}
	/* not found: nothing; allow: pass, marked */
	{
		struct tdb_match none = { .found = false }, allow = { .found = true,
		    .allow = true, .category = "", .feed = "ok" };
		struct pol_verdict v;

		pol_verdict_clear(&v);
		assert_int_equal(pol_decide(&p, &none, POL_REASON_QNAME, &v), POL_PASS);
		assert_false(v.allowed);
		assert_int_equal(pol_decide(&p, &allow, POL_REASON_QNAME, &v), POL_PASS);
		assert_true(v.allowed);
	}
	/* a weaker verdict never replaces a stronger one */
	{
		struct tdb_match blk = { .found = true, .category = "c2", .feed = "a" },
		    lg = { .found = true, .category = "tracking", .feed = "b" };
		struct pol_verdict v;

		pol_verdict_clear(&v);
		pol_decide(&p, &blk, POL_REASON_QNAME, &v);
		pol_decide(&p, &lg, POL_REASON_CNAME, &v);
		assert_int_equal(v.action, POL_BLOCK);
		assert_string_equal(v.feed, "a");
		assert_int_equal(v.reason, POL_REASON_QNAME);
	}
}

/* ---- the query name against a real threat DB ---- */

static void
test_qname_precedence(void **state)
{
	struct fx *x = *state;
	struct pol_rule rules[] = {
		{ "c2", POL_BLOCK }, { "malware", POL_REDIRECT }, { "phishing", POL_LOG },
	};
	struct policy p = mkpolicy(rules, 3);
	struct pol_env e = env(x, &p);
	const struct tdb_entry f1[] = {
		nm("bad.test", TDB_SUBTREE, false, "malware", 0, 0),
		nm("c2.bad.test", TDB_EXACT, false, "c2", 0, 0),
		nm("deep.c2.bad.test", TDB_BELOW, false, "phishing", 0, 0),
		nm("ok.bad.test", TDB_SUBTREE, true, "", 0, 0),
		nm("old.test", TDB_SUBTREE, false, "c2", 0, NOW - 10),
		nm("new.test", TDB_SUBTREE, false, "c2", 0, NOW + 10),
		nm("hinted.test", TDB_SUBTREE, false, "unmapped", TDB_ACTION_BLOCK, 0),
	};
	static const struct {
		const char *name;
		enum pol_action want;
		const char *cat;
		bool allowed;
	} c[] = {
		{ "bad.test", POL_REDIRECT, "malware", false },		/* the name itself */
		{ "www.bad.test", POL_REDIRECT, "malware", false },	/* subdomain */
		{ "c2.bad.test", POL_BLOCK, "c2", false },		/* exact beats the parent */
		{ "x.c2.bad.test", POL_REDIRECT, "malware", false },	/* exact covers no child */
		{ "a.deep.c2.bad.test", POL_LOG, "phishing", false },	/* longest wins */
		{ "deep.c2.bad.test", POL_REDIRECT, "malware", false },	/* BELOW: not the name */
		{ "ok.bad.test", POL_PASS, "", true },			/* allow beats block */
		{ "x.ok.bad.test", POL_PASS, "", true },
		{ "old.test", POL_PASS, "", false },			/* expired */
		{ "new.test", POL_BLOCK, "c2", false },			/* not yet */
		{ "hinted.test", POL_BLOCK, "unmapped", false },	/* feed's hint */
		{ "BAD.Test", POL_REDIRECT, "malware", false },		/* any case */
		{ "good.test", POL_PASS, "", false },
		{ "test", POL_PASS, "", false },
	};

	import(x->db, "f1", f1, sizeof(f1) / sizeof(*f1));
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct pol_verdict v;
		int err = -1;

		assert_int_equal(pol_check_qname(&e, wire(c[i].name), &v, &err), c[i].want);
		assert_int_equal(err, 0);
		assert_int_equal(v.action, c[i].want);
		assert_int_equal(v.allowed, c[i].allowed);
		if (c[i].want != POL_PASS) {
			assert_string_equal(v.category, c[i].cat);
			assert_string_equal(v.feed, "f1");
			assert_int_equal(v.reason, POL_REASON_QNAME);
		}
	}
	/* without a database: everything passes */
	{
		struct pol_env none = env(NULL, &p);
		struct pol_verdict v;

		assert_int_equal(pol_check_qname(&none, wire("bad.test"), &v, NULL), POL_PASS);
	}
}

static void
test_allow_list(void **state)
{
	struct fx *x = *state;
	struct pol_rule rules[] = { { "c2", POL_BLOCK } };
	struct policy p = mkpolicy(rules, 1);
	uint8_t a1[] = "\x04safe\x04test", a2[] = "\x03one\x03two\x04test";
	uint8_t *allow[] = { a1, a2 };
	struct pol_env e = env(x, &p);
	const struct tdb_entry f[] = { nm("test", TDB_SUBTREE, false, "c2", 0, 0) };
	struct pol_verdict v;

	qsort(allow, 2, sizeof(*allow), pol_name_cmp);
	p.allow = allow;
	p.n_allow = 2;
	import(x->db, "f", f, 1);
	assert_int_equal(pol_check_qname(&e, wire("safe.test"), &v, NULL), POL_PASS);
	assert_true(v.allowed && v.allowed_by_policy);
	assert_int_equal(pol_check_qname(&e, wire("a.b.SAFE.test"), &v, NULL), POL_PASS);
	assert_int_equal(pol_check_qname(&e, wire("one.two.test"), &v, NULL), POL_PASS);
	assert_int_equal(pol_check_qname(&e, wire("two.test"), &v, NULL), POL_BLOCK);
	assert_int_equal(pol_check_qname(&e, wire("unsafe.test"), &v, NULL), POL_BLOCK);
	assert_int_equal(pol_check_qname(&e, wire("xsafe.test"), &v, NULL), POL_BLOCK);
	assert_false(pol_allow_listed(&p, wire("test")));
}

static void
test_canaries(void **state)
{
	struct policy p = mkpolicy(NULL, 0);
	struct pol_verdict v;

	assert_true(pol_is_canary(wire("use-application-dns.net")));
	assert_true(pol_is_canary(wire("MASK.icloud.com")));
	assert_true(pol_is_canary(wire("mask-h2.icloud.com")));
	assert_false(pol_is_canary(wire("www.use-application-dns.net")));
	assert_false(pol_is_canary(wire("icloud.com")));
	assert_false(pol_is_canary(wire("")));
	assert_int_equal(pol_check_special(&p, wire("mask.icloud.com"), &v), POL_PASS);
	p.canaries = true;
	p.block_answer = POL_BLOCK_REFUSED;	/* canaries want NXDOMAIN anyway */
	assert_int_equal(pol_check_special(&p, wire("mask.icloud.com"), &v), POL_BLOCK);
	assert_int_equal(v.reason, POL_REASON_CANARY);
	assert_int_equal(v.block, POL_BLOCK_NXDOMAIN);
	assert_string_equal(v.category, "canary");
	assert_int_equal(pol_check_special(&p, wire("www.icloud.com"), &v), POL_PASS);
}

static void
test_private(void **state)
{
	static const struct { int family; const char *a; bool priv; } c[] = {
		{ AF_INET, "10.1.2.3", true }, { AF_INET, "172.16.0.1", true },
		{ AF_INET, "172.31.255.255", true }, { AF_INET, "172.32.0.1", false },
		{ AF_INET, "192.168.1.1", true }, { AF_INET, "127.0.0.1", true },
		{ AF_INET, "169.254.169.254", true }, { AF_INET, "100.64.0.1", true },
		{ AF_INET, "100.127.255.255", true }, { AF_INET, "100.128.0.1", false },
		{ AF_INET, "0.0.0.0", true }, { AF_INET, "192.0.2.1", false },
		{ AF_INET, "8.8.8.8", false }, { AF_INET, "11.0.0.1", false },
		{ AF_INET6, "::1", true }, { AF_INET6, "::", true },
		{ AF_INET6, "fd12:3456::7", true }, { AF_INET6, "fc00::1", true },
		{ AF_INET6, "fe80::1", true }, { AF_INET6, "::ffff:10.0.0.1", true },
		{ AF_INET6, "::ffff:192.0.2.1", false }, { AF_INET6, "2001:db8::1", false },
		{ AF_INET6, "::2", false }, { AF_INET6, "fe00::1", false },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		uint8_t a[16];

		assert_int_equal(inet_pton(c[i].family, c[i].a, a), 1);
		if (pol_addr_private(c[i].family, a) != c[i].priv)
			fail_msg("%s: want %s", c[i].a, c[i].priv ? "private" : "public");
	}
}

/* ---- the response policy on canned upstream answers ---- */

static size_t
answer(uint8_t *out, size_t cap, const char *qname, const char *const *rrs)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname),
	    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	uint8_t *w = NULL;
	size_t len = 0;

	assert_non_null(p);
	ldns_pkt_set_qr(p, true);
	for (; *rrs; rrs++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, *rrs, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr));
	}
	assert_int_equal(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
	assert_true(len <= cap);
	memcpy(out, w, len);
	free(w);
	ldns_pkt_free(p);
	return len;
}

static bool
fake_internal(void *arg, int family, const uint8_t *addr)
{
	return family == AF_INET && addr[0] == 198 && addr[1] == 51 && addr[2] == 100;
}

static void
fake_geo(void *arg, int family, const uint8_t *addr, char cc[3], uint32_t *asn)
{
	strcpy(cc, "");
	*asn = 0;
	if (family == AF_INET && addr[0] == 203)
		strcpy(cc, addr[3] == 1 ? "KP" : "RU"), *asn = 64500 + addr[3];
}

static void
test_response(void **state)
{
	struct fx *x = *state;
	struct pol_rule rules[] = { { "c2", POL_BLOCK }, { "malware", POL_REDIRECT } };
	struct policy p = mkpolicy(rules, 2);
	char kp[][3] = { "KP" }, ru[][3] = { "RU" };
	uint32_t asns[] = { 64509 };
	struct pol_env e = env(x, &p);
	const struct tdb_entry f[] = {
		nm("cloak.test", TDB_SUBTREE, false, "malware", 0, 0),
		nm("fine.cloak.test", TDB_EXACT, true, "", 0, 0),
		nm("allowed.test", TDB_SUBTREE, true, "", 0, 0),
		pfx(AF_INET, "192.0.2.0", 24, "c2"),
		pfx(AF_INET6, "2001:db8:bad::", 48, "c2"),
	};
	static const char *const clean[] = {
		"www.a.test. 60 IN CNAME b.test.", "b.test. 60 IN A 198.18.0.1", NULL };
	static const char *const cname[] = {
		"www.a.test. 60 IN CNAME x.b.test.", "x.b.test. 60 IN CNAME edge.cloak.test.",
		"edge.cloak.test. 60 IN A 198.18.0.2", NULL };
	static const char *const cname_allowed[] = {
		"www.a.test. 60 IN CNAME fine.cloak.test.",
		"fine.cloak.test. 60 IN A 198.18.0.2", NULL };
	static const char *const ip[] = {
		"www.a.test. 60 IN A 198.18.0.3", "www.a.test. 60 IN A 192.0.2.77", NULL };
	static const char *const ip6[] = { "www.a.test. 60 IN AAAA 2001:db8:bad::1", NULL };
	static const char *const rebind[] = { "www.a.test. 60 IN A 10.1.2.3", NULL };
	static const char *const internal[] = { "www.a.test. 60 IN A 198.51.100.7", NULL };
	static const char *const geo_kp[] = { "www.a.test. 60 IN A 203.0.113.1", NULL };
	static const char *const geo_ru[] = { "www.a.test. 60 IN A 203.0.113.2", NULL };
	static const char *const geo_as[] = { "www.a.test. 60 IN A 203.0.113.9", NULL };
	uint8_t pkt[4096];
	struct pol_verdict v;
	size_t len;

	import(x->db, "f", f, sizeof(f) / sizeof(*f));
	e.internal_addr = fake_internal;
	e.geo = fake_geo;

#define CHECK(rrs, want, reason_, cat) do {					\
		len = answer(pkt, sizeof(pkt), "www.a.test.", rrs);		\
		pol_verdict_clear(&v);						\
		assert_int_equal(pol_check_response(&e, pkt, len, &v), want);	\
		assert_int_equal(v.reason, reason_);				\
		assert_string_equal(v.category, cat);				\
	} while (0)

	CHECK(clean, POL_PASS, POL_REASON_NONE, "");
	CHECK(cname, POL_REDIRECT, POL_REASON_CNAME, "malware");
	CHECK(cname_allowed, POL_PASS, POL_REASON_NONE, "");
	CHECK(ip, POL_BLOCK, POL_REASON_IP, "c2");
	CHECK(ip6, POL_BLOCK, POL_REASON_IP, "c2");
	CHECK(rebind, POL_PASS, POL_REASON_NONE, "");	/* protection off */
	CHECK(geo_kp, POL_PASS, POL_REASON_NONE, "");	/* no geo rules */
	p.rebinding = true;
	CHECK(rebind, POL_BLOCK, POL_REASON_IP, "rebinding");
	assert_string_equal(v.detail, "addr=10.1.2.3");
	CHECK(internal, POL_BLOCK, POL_REASON_IP, "rebinding");
	p.block_cc = kp, p.n_block_cc = 1;
	p.redirect_cc = ru, p.n_redirect_cc = 1;
	p.block_asns = asns, p.n_block_asns = 1;
	CHECK(geo_kp, POL_BLOCK, POL_REASON_GEO, "geo");
	assert_string_equal(v.detail, "country=KP");
	CHECK(geo_ru, POL_REDIRECT, POL_REASON_GEO, "geo");
	CHECK(geo_as, POL_BLOCK, POL_REASON_GEO, "geo");
	assert_string_equal(v.detail, "asn=64509");

	/* an allowed query name: no feed checks on its answer, rebinding still */
	len = answer(pkt, sizeof(pkt), "www.a.test.", ip);
	pol_verdict_clear(&v);
	v.allowed = true;
	assert_int_equal(pol_check_response(&e, pkt, len, &v), POL_PASS);
	len = answer(pkt, sizeof(pkt), "www.a.test.", rebind);
	assert_int_equal(pol_check_response(&e, pkt, len, &v), POL_BLOCK);
	/* ... and by the policy's allow list: no checks at all */
	pol_verdict_clear(&v);
	v.allowed = v.allowed_by_policy = true;
	assert_int_equal(pol_check_response(&e, pkt, len, &v), POL_PASS);

	/* a rule for "rebinding" maps it like a category */
	{
		struct pol_rule r2[] = { { "rebinding", POL_LOG } };
		struct policy p2 = mkpolicy(r2, 1);
		struct pol_env e2 = env(x, &p2);

		p2.rebinding = true;
		pol_verdict_clear(&v);
		assert_int_equal(pol_check_response(&e2, pkt, len, &v), POL_LOG);
	}
	/* log from the query name stays when the answer is clean */
	len = answer(pkt, sizeof(pkt), "www.a.test.", clean);
	pol_verdict_clear(&v);
	v.action = POL_LOG;
	v.reason = POL_REASON_QNAME;
	assert_int_equal(pol_check_response(&e, pkt, len, &v), POL_LOG);
	assert_int_equal(v.reason, POL_REASON_QNAME);
#undef CHECK
}

static void
test_response_malformed(void **state)
{
	struct policy p = mkpolicy(NULL, 0);
	struct pol_env e = env(NULL, &p);
	struct pol_verdict v;
	/* header: 1 question, 1 answer; the answer's owner points at itself */
	static const uint8_t loop[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1,
		0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4,
	};
	/* forward pointer */
	static const uint8_t fwd[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		0xc0, 14, 0, 1, 0, 1,
	};
	/* rdlength past the end */
	static const uint8_t rdl[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 40, 1, 2, 3, 4,
	};
	uint8_t pkt[4096];
	static const char *const ok[] = { "a. 60 IN A 192.0.2.1", NULL };
	size_t len = answer(pkt, sizeof(pkt), "a.", ok);

	pol_verdict_clear(&v);
	assert_int_equal(pol_check_response(&e, loop, sizeof(loop), &v), -EBADMSG);
	assert_int_equal(pol_check_response(&e, fwd, sizeof(fwd), &v), -EBADMSG);
	assert_int_equal(pol_check_response(&e, rdl, sizeof(rdl), &v), -EBADMSG);
	assert_int_equal(pol_check_response(&e, pkt, 5, &v), -EBADMSG);
	for (size_t cut = 12; cut < len; cut++)	/* every truncation refused */
		assert_int_equal(pol_check_response(&e, pkt, cut, &v), -EBADMSG);
	assert_int_equal(pol_check_response(&e, pkt, len, &v), POL_PASS);
}

static void
test_ede(void **state)
{
	struct pol_verdict v;
	char t[160];

	pol_verdict_clear(&v);
	assert_int_equal(pol_ede(&v, t, sizeof(t)), -1);
	v.action = POL_LOG;
	assert_int_equal(pol_ede(&v, t, sizeof(t)), -1);
	v.action = POL_REDIRECT;
	strcpy(v.category, "malware");
	strcpy(v.feed, "feed1");
	assert_int_equal(pol_ede(&v, t, sizeof(t)), 4);
	assert_string_equal(t, "category=malware");
	v.action = POL_BLOCK;
	assert_int_equal(pol_ede(&v, t, sizeof(t)), 15);
	assert_string_equal(t, "category=malware feed=feed1");
	strcpy(v.category, "geo");
	v.feed[0] = '\0';
	strcpy(v.detail, "country=KP");
	assert_int_equal(pol_ede(&v, t, sizeof(t)), 15);
	assert_string_equal(t, "category=geo country=KP");
	assert_string_equal(pol_action_name(POL_REDIRECT), "redirect");
	assert_string_equal(pol_reason_name(POL_REASON_CNAME), "cname");
}

/* ---- synthesized answers ---- */

static void
test_answer_policy(void **state)
{
	static const uint8_t query[] = {	/* www.a.test A, RD, EDNS DO */
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
		3, 'w', 'w', 'w', 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
		0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0,
	};
	struct pkt_query q;
	uint8_t out[4096], addrs[2][16] = { { 198, 51, 100, 10 }, { 198, 51, 100, 11 } };
	struct answer_meta m = { .rcode = RCODE_NOERROR, .ede = 4,
	    .ede_text = "category=malware" };
	struct answer_rrs r = { .family = AF_INET,
	    .addrs = (const uint8_t (*)[16])addrs, .n_addrs = 2, .ttl = 60 };
	ldns_pkt *p = NULL;
	size_t n;

	assert_int_equal(pkt_parse_query(query, sizeof(query), &q), PKT_OK);
	n = answer_policy(out, sizeof(out), 1232, &q, &m, &r);
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p) && ldns_pkt_rd(p) && ldns_pkt_ra(p));
	assert_false(ldns_pkt_aa(p) || ldns_pkt_ad(p) || ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 60);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(
	    ldns_rr_list_rr(ldns_pkt_answer(p), 1), 0)), 0xc633640b);
	assert_true(ldns_pkt_edns(p));
	assert_true(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);

	/* NXDOMAIN with the SOA */
	m.rcode = RCODE_NXDOMAIN;
	m.ede = 15;
	r = (struct answer_rrs){ .soa = true, .soa_ttl = 30 };
	n = answer_policy(out, sizeof(out), 1232, &q, &m, &r);
	p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	{
		ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);

		assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
		assert_int_equal(ldns_rr_ttl(soa), 30);
		assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), 30);
	}
	ldns_pkt_free(p);

	/* too big for the client: TC, question only */
	{
		uint8_t many[16][16] = { { 0 } };

		r = (struct answer_rrs){ .family = AF_INET6,
		    .addrs = (const uint8_t (*)[16])many, .n_addrs = 16, .ttl = 60 };
		m.rcode = RCODE_NOERROR;
		n = answer_policy(out, sizeof(out), 200, &q, &m, &r);
		p = NULL;
		assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
		assert_true(ldns_pkt_tc(p));
		assert_int_equal(ldns_pkt_ancount(p), 0);
		ldns_pkt_free(p);
		n = answer_policy(out, sizeof(out), 1232, &q, &m, &r);
		p = NULL;
		assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_ancount(p), 16);
		ldns_pkt_free(p);
	}
	assert_int_equal(answer_policy(out, 20, 1232, &q, &m, &r), 0);
}

/* ---- config ---- */

struct cfx {
	char dir[64];
	char path[128];
	char err[1024];
};

static const char *
load(struct cfx *f, const char *body, struct config **c)
{
	FILE *fp;
	int r;

	snprintf(f->path, sizeof(f->path), "%s/egressd.yaml", f->dir);
	assert_non_null(fp = fopen(f->path, "w"));
	fprintf(fp, "server:\n  listen:\n    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
	    "resolution:\n  dnssec: no\n%s", body);
	fclose(fp);
	f->err[0] = '\0';
	r = config_load(f->path, c, f->err, sizeof(f->err));
	unlink(f->path);
	return r == 0 ? NULL : f->err;
}

static void
test_config(void **state)
{
	struct cfx f;
	struct config *c = NULL;
	const char *err;
	static const struct { const char *body, *want; } bad[] = {
		{ "tenants:\n  - { name: a, networks: [ 10.0.0.0/8 ], policy: nope }\n",
		  "egressd.yaml:7: tenants.policy: tenant \"a\": no policy called \"nope\"" },
		{ "policies:\n  p: { categories: { Malware: block } }\n",
		  "egressd.yaml:7: policies.p.categories.Malware: a category is" },
		{ "policies:\n  p: { categories: { malware: drop } }\n",
		  "egressd.yaml:7: policies.p.categories.malware: \"drop\" is not an action" },
		{ "policies:\n  p: { default: maybe }\n",
		  "egressd.yaml:7: policies.p.default: \"maybe\" is not an action" },
		{ "policies:\n  p: { block-answer: servfail }\n",
		  "egressd.yaml:7: policies.p.block-answer: \"servfail\" is not nxdomain" },
		{ "policies:\n  p: { redirect-ttl: 0s }\n",
		  "egressd.yaml:7: policies.p.redirect-ttl: 0s is out of range" },
		{ "policies:\n  p: { rebinding-protection: perhaps }\n",
		  "egressd.yaml:7: policies.p.rebinding-protection: \"perhaps\" is not yes or no" },
		{ "policies:\n  p: { colour: red }\n",
		  "egressd.yaml:7: policies.p.colour: unknown key" },
		{ "policies:\n  p:\n    geo: { block-countries: [ XX ] }\n",
		  "egressd.yaml:8: policies.p.geo.block-countries: \"XX\" is not an ISO" },
		{ "policies:\n  p:\n    geo: { block-asns: [ ASx ] }\n",
		  "egressd.yaml:8: policies.p.geo.block-asns: \"ASx\" is not an AS number" },
		{ "policies:\n  p:\n    geo: { block-countries: [ KP ] }\n",
		  "egressd.yaml:7: policies.p.geo: country rules need a country database" },
		{ "policies:\n  p:\n    allow: [ \"*.x.com\" ]\n",
		  "egressd.yaml:8: policies.p.allow: \"*.x.com\" is not a domain name" },
		{ "policies:\n  p: { categories: { malware: redirect } }\n",
		  "egressd.yaml:7: policies.p: redirects, but security-nodes.pools" },
		{ "policies:\n  p: {}\n  p: {}\n",
		  "egressd.yaml:8: policies.p: given twice" },
		{ "policies: [ a ]\n", "egressd.yaml:6: policies: expected a mapping" },
	};

	strcpy(f.dir, "/tmp/test_policy_cfg.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char body[512];

		snprintf(body, sizeof(body), "%s%s", bad[i].body,
		    strncmp(bad[i].body, "tenants", 7) == 0 ? "" :
		    "tenants:\n  - { name: a, networks: [ 10.0.0.0/8 ] }\n");
		err = load(&f, body, &c);
		if (err == NULL || strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    err ? err : "(accepted)", bad[i].want);
	}

	/* a good one, with every key */
	err = load(&f,
	    "threatdb: db\n"
	    "tenants:\n"
	    "  - { name: a, networks: [ 10.0.0.0/8 ], policy: strict }\n"
	    "  - { name: b, networks: [ 10.1.0.0/16 ] }\n"
	    "  - { name: c, networks: [ 10.2.0.0/16 ], policy: open }\n"
	    "policies:\n"
	    "  strict:\n"
	    "    categories: { malware: block, c2: block, adware: log }\n"
	    "    default: log\n"
	    "    block-answer: nodata\n"
	    "    redirect-ttl: 2m\n"
	    "    block-ttl: 30s\n"
	    "    rebinding-protection: yes\n"
	    "    bypass-canaries: true\n"
	    "    allow: [ Intranet.Example.com., b.example ]\n"
	    "  default: { categories: { c2: block } }\n"
	    "  open: {}\n", &c);
	if (err)
		fail_msg("%s", err);
	{
		const struct policy *s = c->tenants.v[0].policy;

		assert_string_equal(s->name, "strict");
		assert_int_equal(s->n_rules, 3);
		assert_string_equal(s->rules[0].category, "adware");	/* sorted */
		assert_int_equal(pol_rule_find(s, "c2")->action, POL_BLOCK);
		assert_null(pol_rule_find(s, "phishing"));
		assert_true(s->has_default && s->def == POL_LOG);
		assert_int_equal(s->block_answer, POL_BLOCK_NODATA);
		assert_int_equal(s->redirect_ttl, 120);
		assert_int_equal(s->block_ttl, 30);
		assert_true(s->rebinding && s->canaries);
		assert_true(pol_allow_listed(s, wire("www.intranet.example.com")));
		assert_false(pol_allow_listed(s, wire("example.com")));
		assert_string_equal(c->tenants.v[1].policy->name, "default");
		assert_string_equal(c->tenants.v[2].policy->name, "open");
		assert_int_equal(c->tenants.v[2].policy->redirect_ttl, 60);
		assert_non_null(strstr(c->threatdb, "/db"));
		assert_true(c->threatdb[0] == '/');
	}
	config_free(c);
	/* no policy anywhere: the built-in pass */
	err = load(&f, "tenants:\n  - { name: a, networks: [ 10.0.0.0/8 ] }\n", &c);
	if (err)
		fail_msg("%s", err);
	assert_ptr_equal(c->tenants.v[0].policy, &pol_builtin_pass);
	assert_string_equal(c->threatdb, "/var/lib/egressd/threatdb");
	config_free(c);
	rmdir(f.dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_table),
		cmocka_unit_test_setup_teardown(test_qname_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_list, setup, teardown),
		cmocka_unit_test(test_canaries),
		cmocka_unit_test(test_private),
		cmocka_unit_test_setup_teardown(test_response, setup, teardown),
		cmocka_unit_test(test_response_malformed),
		cmocka_unit_test(test_ede),
		cmocka_unit_test(test_answer_policy),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
