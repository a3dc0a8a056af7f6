/* test_tdb.c -- the threat database: match rules, expiry, feeds, prefixes
 * at every length, map growth, format version, bad arguments */
#include "autoconf.h"

#include <arpa/inet.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "threatdb/tdb.h"
#include "tests/unit/testdir.h"

#define NOW	1700000000

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

	strcpy(x->path, "/tmp/test_tdb.XXXXXX");
	assert_non_null(mkdtemp(x->path));
	rmdir(x->path);		/* tdb_open(writable) makes it */
	if (tdb_open(&x->db, x->path, true, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	assert_int_equal(tdb_reader_new(&x->r, x->db), 0);
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
name_entry(const char *name, enum tdb_scope scope, bool allow, const char *cat)
{
	struct tdb_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", name);
	e.scope = scope;
	e.allow = allow;
	snprintf(e.category, sizeof(e.category), "%s", cat ? cat : "");
	e.severity = 5;
	e.action = TDB_ACTION_BLOCK;
	return e;
}

static struct tdb_entry
prefix_entry(int family, const char *addr, unsigned plen, bool allow)
{
	struct tdb_entry e;

	memset(&e, 0, sizeof(e));
	e.is_prefix = true;
	e.family = (uint8_t)family;
	assert_int_equal(inet_pton(family, addr, e.addr), 1);
	e.plen = (uint8_t)plen;
	e.allow = allow;
	return e;
}

/** Import entries as feed (replacing it). */
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

static void
to_wire(const char *name, uint8_t *w)
{
	size_t o = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		w[o++] = (uint8_t)l;
		memcpy(w + o, name, l);
		o += l;
		name += l + (dot != NULL);
	}
	w[o] = 0;
}

static struct tdb_match
look(struct tdb_reader *r, const char *name, time_t now)
{
	uint8_t w[256];
	struct tdb_match m;

	to_wire(name, w);
	assert_int_equal(tdb_lookup_name(r, w, now, &m), 0);
	return m;
}

static struct tdb_match
look_addr(struct tdb_reader *r, int family, const uint8_t *a)
{
	struct tdb_match m;

	assert_int_equal(tdb_lookup_addr(r, family, a, NOW, &m), 0);
	return m;
}

/* ---- tests ---- */

static void
test_bad_args(void **state)
{
	struct fx *x = *state;
	struct tdb *db = NULL;
	struct tdb_import *im;
	struct tdb_match m;
	struct tdb_entry e;
	struct tdb_explanation ex;
	char err[TDB_ERRLEN];
	const char *why;
	uint8_t bad[300], a4[4] = { 0 };

	assert_int_equal(tdb_open(NULL, x->path, false, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(tdb_open(&db, "", false, err, sizeof(err)), -EINVAL);
	assert_int_equal(tdb_open(&db, "/tmp/test_tdb.none", false, err,
	    sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/tmp/test_tdb.none"));
	assert_null(db);
	assert_int_equal(tdb_reader_new(NULL, x->db), -EINVAL);
	assert_int_equal(tdb_lookup_name(NULL, (const uint8_t *)"", NOW, &m),
	    -EINVAL);
	assert_int_equal(tdb_lookup_name(x->r, NULL, NOW, &m), -EINVAL);
	assert_int_equal(tdb_lookup_addr(x->r, 99, a4, NOW, &m), -EINVAL);
	memset(bad, 63, sizeof(bad));	/* runs past 255 octets */
	assert_int_equal(tdb_lookup_name(x->r, bad, NOW, &m), -EINVAL);
	bad[0] = 64;			/* compression pointer / bad type */
	assert_int_equal(tdb_lookup_name(x->r, bad, NOW, &m), -EINVAL);
	assert_false(m.found);
	assert_int_equal(tdb_import_begin(x->db, "", NULL, &im), -EINVAL);
	assert_int_equal(tdb_import_begin(x->db, "f\n", NULL, &im), -EINVAL);
	assert_int_equal(tdb_import_begin(NULL, "f", NULL, &im), -EINVAL);
	assert_int_equal(tdb_explain_name(x->db, "x", NOW, NULL, 1, &ex),
	    -EINVAL);
	assert_int_equal(tdb_remove_feed(x->db, "nope"), -ENOENT);
	assert_int_equal(tdb_gc(NULL, NOW, NULL), -EINVAL);

	e = name_entry("a..b", TDB_EXACT, false, NULL);
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	e = name_entry("*.b", TDB_EXACT, false, NULL);
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	e = name_entry("a b.com", TDB_EXACT, false, NULL);
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	e = name_entry("x.com", 0, false, NULL);
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	e = name_entry("x.com", TDB_EXACT, false, NULL);
	e.severity = 11;
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	memset(e.name, 'a', 64);
	e.name[64] = 0;
	e.severity = 0;
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);	/* label 64 */
	for (int i = 0; i < 300; i += 2)
		memcpy(e.name + i, "a.", 2);
	e.name[299] = 0;
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);	/* > 255 */
	e = prefix_entry(AF_INET, "10.0.0.0", 33, false);
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	e = prefix_entry(AF_INET6, "::", 129, false);
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	e.family = 7;
	e.plen = 0;
	assert_int_equal(tdb_entry_check(&e, &why), -EINVAL);
	e = name_entry("Mixed.Case.COM.", TDB_EXACT, false, NULL);
	assert_int_equal(tdb_entry_check(&e, &why), 0);

	/* a read-only handle cannot write */
	tdb_reader_free(x->r);
	x->r = NULL;
	tdb_close(x->db);
	assert_int_equal(tdb_open(&x->db, x->path, false, err, sizeof(err)), 0);
	assert_int_equal(tdb_import_begin(x->db, "f", NULL, &im), -EPERM);
	assert_int_equal(tdb_remove_feed(x->db, "f"), -EPERM);
	assert_int_equal(tdb_reader_new(&x->r, x->db), 0);
}

static void
test_name_rules(void **state)
{
	struct fx *x = *state;
	struct tdb_entry e[] = {
		name_entry("exact.com", TDB_EXACT, false, "malware"),
		name_entry("below.com", TDB_BELOW, false, "phishing"),
		name_entry("tree.com", TDB_SUBTREE, false, "c2"),
		name_entry("ok.tree.com", TDB_SUBTREE, true, "fp"),
		name_entry("deep.ok.tree.com", TDB_EXACT, false, "malware"),
		name_entry("a.tree.com", TDB_EXACT, false, "spam"),
		name_entry("b.a.tree.com", TDB_BELOW, false, "deep"),
		name_entry("Upper.NET", TDB_EXACT, false, NULL),
	};
	struct tdb_match m;

	import(x->db, "f1", e, sizeof(e) / sizeof(*e));
	m = look(x->r, "exact.com", NOW);
	assert_true(m.found && !m.allow && m.exact);
	assert_string_equal(m.category, "malware");
	assert_string_equal(m.feed, "f1");
	assert_int_equal(m.labels, 2);
	assert_int_equal(m.severity, 5);
	assert_int_equal(m.action, TDB_ACTION_BLOCK);
	assert_false(look(x->r, "www.exact.com", NOW).found);
	assert_false(look(x->r, "below.com", NOW).found);
	m = look(x->r, "x.y.below.com", NOW);
	assert_true(m.found && !m.exact && m.scope == TDB_BELOW);
	assert_string_equal(m.category, "phishing");
	assert_true(look(x->r, "tree.com", NOW).found);
	m = look(x->r, "z.tree.com", NOW);
	assert_true(m.found && !m.exact && m.labels == 2);
	/* allow anywhere on the chain beats block, even the name's own */
	m = look(x->r, "ok.tree.com", NOW);
	assert_true(m.found && m.allow);
	m = look(x->r, "deep.ok.tree.com", NOW);
	assert_true(m.found && m.allow && m.labels == 3);
	assert_string_equal(m.category, "fp");
	/* the name itself beats its parent */
	m = look(x->r, "a.tree.com", NOW);
	assert_true(m.exact);
	assert_string_equal(m.category, "spam");
	/* the longest parent wins */
	m = look(x->r, "c.b.a.tree.com", NOW);
	assert_string_equal(m.category, "deep");
	m = look(x->r, "b.a.tree.com", NOW);	/* below: not b.a itself */
	assert_string_equal(m.category, "c2");
	/* case-insensitive both ways */
	assert_true(look(x->r, "UPPER.net", NOW).found);
	assert_true(look(x->r, "EXACT.COM", NOW).found);
	/* misses around the keys */
	assert_false(look(x->r, "com", NOW).found);
	assert_false(look(x->r, "", NOW).found);
	assert_false(look(x->r, "exact.co", NOW).found);
	assert_false(look(x->r, "xtree.com", NOW).found);
	assert_false(look(x->r, "tree.com.evil", NOW).found);
	assert_false(look(x->r, "zzz.zzz", NOW).found);
	assert_false(look(x->r, "aaa", NOW).found);
}

static void
test_root_and_tld(void **state)
{
	struct fx *x = *state;
	struct tdb_entry e[] = {
		name_entry("", TDB_BELOW, false, "root"),
		name_entry("zip", TDB_SUBTREE, false, "tld"),
		name_entry("good.zip", TDB_EXACT, true, NULL),
	};
	struct tdb_match m;

	import(x->db, "broad", e, 3);
	assert_false(look(x->r, "", NOW).found);	/* below the root */
	assert_string_equal(look(x->r, "a.b.c.org", NOW).category, "root");
	assert_string_equal(look(x->r, "zip", NOW).category, "tld");
	assert_string_equal(look(x->r, "x.zip", NOW).category, "tld");
	m = look(x->r, "good.zip", NOW);
	assert_true(m.allow);
	assert_string_equal(look(x->r, "a.good.zip", NOW).category, "tld");
}

static void
test_expiry(void **state)
{
	struct fx *x = *state;
	struct tdb_entry e[] = {
		name_entry("old.com", TDB_SUBTREE, false, "a"),
		name_entry("x.old.com", TDB_EXACT, false, "b"),
		name_entry("allow.net", TDB_SUBTREE, true, NULL),
		name_entry("z.allow.net", TDB_EXACT, false, "c"),
	};
	struct tdb_entry p = prefix_entry(AF_INET, "192.0.2.0", 24, false);
	uint8_t a[4] = { 192, 0, 2, 7 };
	struct tdb_match m;

	e[0].expires = NOW;		/* expires <= now: never matches */
	e[1].expires = NOW + 10;
	e[2].expires = NOW - 1;
	p.expires = NOW;
	import(x->db, "f", e, 4);
	import(x->db, "p", &p, 1);
	assert_false(look(x->r, "old.com", NOW).found);
	assert_true(look(x->r, "old.com", NOW - 1).found);
	m = look(x->r, "x.old.com", NOW);
	assert_true(m.found && m.expires == NOW + 10);
	assert_false(look(x->r, "x.old.com", NOW + 10).found);
	assert_true(look(x->r, "z.allow.net", NOW).found);	/* allow expired */
	assert_true(look(x->r, "z.allow.net", NOW - 2).allow);
	assert_false(look_addr(x->r, AF_INET, a).found);
}

static void
test_feed_replace_and_dup(void **state)
{
	struct fx *x = *state;
	struct tdb_entry one[] = {
		name_entry("x.com", TDB_EXACT, false, "a"),
		name_entry("y.com", TDB_EXACT, false, "a"),
		prefix_entry(AF_INET, "10.0.0.0", 8, false),
	};
	struct tdb_entry two[] = {
		name_entry("y.com", TDB_EXACT, false, "first"),
		name_entry("z.com", TDB_EXACT, false, "b"),
		name_entry("y.com", TDB_EXACT, false, "last"),	/* merged */
		name_entry("y.com", TDB_BELOW, false, "below"),	/* kept */
	};
	struct tdb_feed_info f;
	uint8_t a[4] = { 10, 1, 2, 3 };
	uint64_t gen = tdb_generation(x->db);

	import(x->db, "feed", one, 3);
	assert_true(tdb_generation(x->db) > gen);
	assert_true(look(x->r, "x.com", NOW).found);
	assert_true(look_addr(x->r, AF_INET, a).found);
	assert_int_equal(tdb_feed_get(x->db, "feed", &f), 0);
	assert_int_equal(f.entries, 3);
	assert_int_equal(f.names, 2);
	assert_int_equal(f.prefixes, 1);
	assert_string_equal(f.source, "test");
	assert_true(f.imported_at >= NOW);
	import(x->db, "feed", two, 4);
	assert_false(look(x->r, "x.com", NOW).found);
	assert_false(look_addr(x->r, AF_INET, a).found);
	assert_string_equal(look(x->r, "y.com", NOW).category, "last");
	assert_string_equal(look(x->r, "a.y.com", NOW).category, "below");
	assert_true(look(x->r, "z.com", NOW).found);
	assert_int_equal(tdb_feed_get(x->db, "feed", &f), 0);
	assert_int_equal(f.entries, 3);
	assert_int_equal(f.prefixes, 0);
	assert_int_equal(tdb_feed_get(x->db, "other", &f), -ENOENT);
}

static int
count_feed(void *arg, const struct tdb_feed_info *f)
{
	(*(int *)arg)++;
	return 0;
}

static int
count_rec(void *arg, const struct tdb_record *r)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_two_feeds_remove(void **state)
{
	struct fx *x = *state;
	struct tdb_entry a[] = {
		name_entry("same.com", TDB_EXACT, false, "from-a"),
		name_entry("only-a.com", TDB_EXACT, false, "from-a"),
	};
	struct tdb_entry b[] = {
		name_entry("same.com", TDB_EXACT, false, "from-b"),
		name_entry("only-b.com", TDB_EXACT, false, "from-b"),
	};
	struct tdb_explain_item it[8];
	struct tdb_explanation ex;
	struct tdb_stats st;
	int n = 0;

	import(x->db, "a", a, 2);
	import(x->db, "b", b, 2);
	assert_int_equal(tdb_feeds(x->db, count_feed, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tdb_explain_name(x->db, "same.com", NOW, it, 8, &ex), 0);
	assert_int_equal(ex.n, 2);
	assert_true(ex.m.found);
	assert_string_equal(ex.m.feed, "a");	/* lowest feed id */
	assert_true(it[0].decides && !it[1].decides);
	assert_string_equal(it[1].rec.feed, "b");
	assert_string_equal(look(x->r, "same.com", NOW).feed, "a");
	import(x->db, "a", a, 2);		/* re-import: not the only feed */
	assert_int_equal(tdb_remove_feed(x->db, "a"), 0);
	assert_int_equal(tdb_remove_feed(x->db, "a"), -ENOENT);
	assert_string_equal(look(x->r, "same.com", NOW).feed, "b");
	assert_false(look(x->r, "only-a.com", NOW).found);
	n = 0;
	assert_int_equal(tdb_export(x->db, NULL, 0, count_rec, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tdb_export(x->db, "a", 0, count_rec, &n), -ENOENT);
	assert_int_equal(tdb_stats_get(x->db, &st), 0);
	assert_int_equal(st.names, 2);
	assert_int_equal(st.feeds, 1);
	assert_int_equal(st.categories, 2);
	assert_int_equal(st.names_by_labels[2], 2);
	assert_int_equal(st.format_version, TDB_FORMAT_VERSION);
	/* the feed id of a is free again and reused */
	import(x->db, "c", a, 2);
	assert_int_equal(look(x->r, "same.com", NOW).feed_id, 0);
	assert_string_equal(look(x->r, "same.com", NOW).feed, "c");
}

static void
test_gc(void **state)
{
	struct fx *x = *state;
	struct tdb_entry a[] = {
		name_entry("gone.com", TDB_EXACT, false, NULL),
		name_entry("stays.com", TDB_EXACT, false, NULL),
		prefix_entry(AF_INET6, "2001:db8::", 32, false),
	};
	struct tdb_feed_info f;
	struct tdb_stats st;
	uint64_t removed;

	a[0].expires = NOW - 5;
	a[2].expires = NOW;
	import(x->db, "g", a, 3);
	assert_int_equal(tdb_gc(x->db, NOW, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(tdb_feed_get(x->db, "g", &f), 0);
	assert_int_equal(f.entries, 1);
	assert_int_equal(f.names, 1);
	assert_int_equal(f.prefixes, 0);
	assert_int_equal(tdb_stats_get(x->db, &st), 0);
	assert_int_equal(st.names + st.prefixes6, 1);
	assert_true(look(x->r, "stays.com", NOW - 100).found);
	assert_false(look(x->r, "gone.com", NOW - 100).found);
	assert_int_equal(tdb_gc(x->db, NOW, &removed), 0);
	assert_int_equal(removed, 0);
}

/** Flip bit b (from the most significant) of a. */
static void
flip(uint8_t *a, unsigned b)
{
	a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
}

static void
prefixes_every_length(struct fx *x, int family, const char *text,
    unsigned max)
{
	struct tdb_entry all[129];
	uint8_t a[16], q[16];
	struct tdb_match m;

	/* every length at once: the longest holding the address wins */
	for (unsigned l = 0; l <= max; l++)
		all[l] = prefix_entry(family, text, l, false);
	memcpy(a, all[0].addr, 16);
	import(x->db, "all", all, max + 1);
	assert_int_equal(look_addr(x->r, family, a).plen, max);
	for (unsigned b = 0; b < max; b++) {
		memcpy(q, a, 16);
		flip(q, b);
		m = look_addr(x->r, family, q);
		if (!m.found || m.plen != b)
			fail_msg("every length, bit %u: plen %u", b, m.plen);
	}
	assert_int_equal(tdb_remove_feed(x->db, "all"), 0);
	/* each length alone: holds the address up to its last bit only */
	for (unsigned l = 0; l <= max; l++) {
		struct tdb_entry e = prefix_entry(family, text, l, false);

		import(x->db, "one", &e, 1);
		m = look_addr(x->r, family, a);
		if (!m.found || m.plen != l)
			fail_msg("length %u: no match", l);
		if (l < max) {
			memcpy(q, a, 16);
			flip(q, l);		/* outside the prefix's bits */
			if (!look_addr(x->r, family, q).found)
				fail_msg("length %u: host bit mattered", l);
		}
		if (l > 0) {
			memcpy(q, a, 16);
			flip(q, l - 1);		/* the prefix's last bit */
			if (look_addr(x->r, family, q).found)
				fail_msg("length %u: matched outside", l);
		}
	}
}

static void
test_prefixes_v4(void **state)
{
	prefixes_every_length(*state, AF_INET, "203.0.113.77", 32);
}

static void
test_prefixes_v6(void **state)
{
	prefixes_every_length(*state, AF_INET6,
	    "2001:db8:aaaa:5555:ffff:0:1234:abcd", 128);
}

static void
test_prefix_allow(void **state)
{
	struct fx *x = *state;
	struct tdb_entry e[] = {
		prefix_entry(AF_INET, "10.0.0.0", 8, true),
		prefix_entry(AF_INET, "10.1.2.0", 24, false),
		prefix_entry(AF_INET, "10.1.2.3", 32, false),
		prefix_entry(AF_INET6, "::", 0, false),
	};
	uint8_t a[4] = { 10, 1, 2, 3 }, b[4] = { 11, 0, 0, 1 }, c[16] = { 1 };
	struct tdb_match m;

	import(x->db, "p", e, 4);
	m = look_addr(x->r, AF_INET, a);
	assert_true(m.found && m.allow && m.plen == 8);
	assert_false(look_addr(x->r, AF_INET, b).found);
	m = look_addr(x->r, AF_INET6, c);
	assert_true(m.found && !m.allow && m.plen == 0);
}

static void
test_map_growth(void **state)
{
	struct fx *x = *state;
	struct tdb_import *im;
	struct tdb_stats st;
	struct tdb_entry e = name_entry("", TDB_EXACT, false, "grow");
	char err[TDB_ERRLEN];

	assert_int_equal(tdb_set_mapsize(x->db, 64 * 1024), 0);
	assert_int_equal(tdb_stats_get(x->db, &st), 0);
	assert_true(st.map_size < 128 * 1024);
	assert_int_equal(tdb_import_begin(x->db, "big", NULL, &im), 0);
	for (int i = 0; i < 30000; i++) {
		snprintf(e.name, sizeof(e.name), "host-%d.example%d.com", i,
		    i % 97);
		assert_int_equal(tdb_import_add(im, &e), 0);
	}
	if (tdb_import_commit(im, NULL, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
	assert_int_equal(tdb_stats_get(x->db, &st), 0);
	assert_int_equal(st.names, 30000);
	assert_true(st.map_size >= 1024 * 1024);
	assert_true(look(x->r, "host-29999.example26.com", NOW).found);
}

static void
test_format_version(void **state)
{
	struct fx *x = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t v99[4] = { 0, 0, 0, 99 };
	MDB_val k = { 7, "version" }, v = { 4, v99 };
	char err[TDB_ERRLEN], want[256];

	tdb_reader_free(x->r);
	x->r = NULL;
	tdb_close(x->db);
	x->db = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, x->path, 0, 0664), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	for (int w = 0; w < 2; w++) {
		assert_int_equal(tdb_open(&x->db, x->path, w, err, sizeof(err)),
		    -EG_EFORMAT);
		snprintf(want, sizeof(want), "threatdb at %s has format version "
		    "99; this egressd reads version %d", x->path,
		    TDB_FORMAT_VERSION);
		assert_string_equal(err, want);
		assert_null(x->db);
	}
}

/** Another process writes; a running reader sees it at its next call,
 * also when the writer had to grow the map beyond the reader's. */
static void
test_other_process(void **state)
{
	struct fx *x = *state;
	struct tdb_entry e = name_entry("seen.com", TDB_EXACT, false, NULL);
	char err[TDB_ERRLEN];
	int status;
	pid_t pid;

	import(x->db, "seed", &e, 1);
	assert_int_equal(tdb_set_mapsize(x->db, 64 * 1024), 0);
	import(x->db, "seed", &e, 1);		/* the small size is saved */
	tdb_reader_free(x->r);
	tdb_close(x->db);
	assert_int_equal(tdb_open(&x->db, x->path, false, err, sizeof(err)), 0);
	assert_int_equal(tdb_reader_new(&x->r, x->db), 0);
	assert_false(look(x->r, "late.com", NOW).found);
	if ((pid = fork()) == 0) {
		struct tdb *db;
		struct tdb_import *im;

		if (tdb_open(&db, x->path, true, err, sizeof(err)) != 0 ||
		    tdb_import_begin(db, "late", NULL, &im) != 0)
			_exit(1);
		for (int i = 0; i < 20000; i++) {
			snprintf(e.name, sizeof(e.name), "n%d.late.com", i);
			if (tdb_import_add(im, &e) != 0)
				_exit(2);
		}
		snprintf(e.name, sizeof(e.name), "late.com");
		if (tdb_import_add(im, &e) != 0 ||
		    tdb_import_commit(im, NULL, err, sizeof(err)) != 0)
			_exit(3);
		tdb_close(db);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(look(x->r, "late.com", NOW).found);
	assert_true(look(x->r, "n19999.late.com", NOW).found);
	assert_true(look(x->r, "seen.com", NOW).found);
}

/* ---- the hot path against explain, on random data ---- */

static uint32_t rng = 12345;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng % n;
}

static void
rnd_name(char *out, unsigned labels)
{
	static const char *l[] = { "a", "b", "c", "ab", "com", "net", "x-y" };

	out[0] = 0;
	for (unsigned i = 0; i < labels; i++) {
		if (i > 0)
			strcat(out, ".");
		strcat(out, l[rnd(7)]);
	}
}

static void
test_random_vs_explain(void **state)
{
	struct fx *x = *state;
	struct tdb_entry e[600];
	struct tdb_explanation ex;
	char name[256];
	uint8_t w[256];

	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < 600; i++) {
			rnd_name(name, 1 + rnd(4));
			e[i] = name_entry(name, (enum tdb_scope)(1 + rnd(3)),
			    rnd(5) == 0, rnd(2) ? "c1" : "c2");
			e[i].expires = rnd(4) == 0 ? NOW - 1 + rnd(3) : 0;
		}
		import(x->db, round == 1 ? "r1" : "r0", e, 600);
		for (int i = 0; i < 3000; i++) {
			struct tdb_match m;

			rnd_name(name, rnd(6));
			to_wire(name, w);
			assert_int_equal(tdb_lookup_name(x->r, w, NOW, &m), 0);
			assert_int_equal(tdb_explain_name(x->db, name, NOW, NULL,
			    0, &ex), 0);
			if (m.found != ex.m.found || m.allow != ex.m.allow ||
			    m.labels != ex.m.labels || m.scope != ex.m.scope ||
			    m.feed_id != ex.m.feed_id ||
			    m.category_id != ex.m.category_id)
				fail_msg("%s: hot path %d/%d/%u, explain %d/%d/%u",
				    name, m.found, m.allow, m.labels, ex.m.found,
				    ex.m.allow, ex.m.labels);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_and_tld, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_replace_and_dup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_feeds_remove, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefixes_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefixes_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_process, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_random_vs_explain, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
