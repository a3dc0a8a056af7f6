/* test_feed.c -- the feed parsers: good and bad lines of every format, the
 * exact entries and FILE:LINE reasons they give, and the options */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "threatdb/feeds/feed.h"

#define MAX_GOT		64
#define TEXT		160

/* What a parse gave, each entry and report as one line of text:
 * "example.com subtree", "192.0.2.0/24 action=nxdomain",
 * "5: label longer than 63 octets". */
struct got {
	int ret;
	struct feed_stats st;
	size_t ne, nr;
	char e[MAX_GOT][TEXT];
	char r[MAX_GOT][TEXT];
	int stop_after;		/* emit fails with -ECANCELED after n */
};

static const char *const scope_names[] = {
	[TDB_EXACT] = "exact", [TDB_BELOW] = "below", [TDB_SUBTREE] = "subtree",
};
static const char *const action_names[] = {
	[TDB_ACTION_NONE] = "none", [TDB_ACTION_BLOCK] = "block",
	[TDB_ACTION_REDIRECT] = "redirect", [TDB_ACTION_LOG] = "log",
	[TDB_ACTION_NXDOMAIN] = "nxdomain", [TDB_ACTION_NODATA] = "nodata",
	[TDB_ACTION_DROP] = "drop",
};

static void
entry_text(const struct tdb_entry *e, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	size_t o;

	if (e->is_prefix) {
		assert_non_null(inet_ntop(e->family, e->addr, addr, sizeof(addr)));
		o = (size_t)snprintf(out, size, "%s/%u", addr, e->plen);
	} else {
		assert_true(e->scope >= TDB_EXACT && e->scope <= TDB_SUBTREE);
		o = (size_t)snprintf(out, size, "%s %s", e->name,
		    scope_names[e->scope]);
	}
	if (e->allow)
		o += (size_t)snprintf(out + o, size - o, " allow");
	if (e->action != TDB_ACTION_NONE)
		o += (size_t)snprintf(out + o, size - o, " action=%s",
		    action_names[e->action]);
	if (e->category[0])
		o += (size_t)snprintf(out + o, size - o, " cat=%s", e->category);
	if (e->severity)
		o += (size_t)snprintf(out + o, size - o, " sev=%u", e->severity);
	if (e->expires)
		snprintf(out + o, size - o, " exp=%lld", (long long)e->expires);
}

static int
on_entry(void *arg, const struct tdb_entry *e)
{
	struct got *g = arg;

	if (g->stop_after && g->ne == (size_t)g->stop_after)
		return -ECANCELED;
	assert_true(g->ne < MAX_GOT);
	entry_text(e, g->e[g->ne++], TEXT);
	return 0;
}

static void
on_report(void *arg, const char *file, unsigned long line, const char *reason)
{
	struct got *g = arg;

	assert_string_equal(file, "feed.txt");
	assert_true(g->nr < MAX_GOT);
	snprintf(g->r[g->nr++], TEXT, "%lu: %s", line, reason);
}

static void
parse_len(struct got *g, const struct feed_opts *o, const char *text,
    size_t len)
{
	FILE *f;

	/* fmemopen() refuses an empty buffer: give it one byte it never
	 * reads past the end of. */
	assert_non_null(f = len ? fmemopen((void *)text, len, "r") :
	    fopen("/dev/null", "r"));
	g->ret = feed_parse(f, "feed.txt", o, on_entry, on_report, g, &g->st);
	fclose(f);
}

static void
parse_opts(struct got *g, const struct feed_opts *o, const char *text)
{
	memset(g, 0, sizeof(*g));
	parse_len(g, o, text, strlen(text));
}

static void
parse(struct got *g, enum feed_format fmt, const char *text)
{
	struct feed_opts o = { .format = fmt };

	parse_opts(g, &o, text);
}

/* Compare what a parse gave with what we want, both NULL-terminated. */
static void
expect(const struct got *g, const char *const *entries,
    const char *const *reports)
{
	size_t i;

	assert_int_equal(g->ret, 0);
	for (i = 0; entries[i]; i++) {
		if (i >= g->ne)
			fail_msg("entry %zu missing: want \"%s\"", i, entries[i]);
		assert_string_equal(g->e[i], entries[i]);
	}
	if (g->ne != i)
		fail_msg("extra entry \"%s\"", g->e[i]);
	for (i = 0; reports[i]; i++) {
		if (i >= g->nr)
			fail_msg("report %zu missing: want \"%s\"", i, reports[i]);
		assert_string_equal(g->r[i], reports[i]);
	}
	if (g->nr != i)
		fail_msg("extra report \"%s\"", g->r[i]);
	assert_int_equal(g->st.entries, g->ne);
	assert_int_equal(g->st.bad, g->nr);
}

static const char *const none[] = { NULL };

/* ---- API ---- */

static void
test_api(void **state)
{
	struct feed_opts o = { .format = FEED_DOMAINS };
	enum feed_format fmt = FEED_CSV;
	const char *why = NULL;
	char out[TDB_MAX_NAME * 4 + 1];
	struct got g = { 0 };
	FILE *f;

	assert_non_null(f = fmemopen("a.example\n", 10, "r"));
	assert_int_equal(feed_parse(NULL, "x", &o, on_entry, on_report, &g,
	    NULL), -EINVAL);
	assert_int_equal(feed_parse(f, "x", NULL, on_entry, on_report, &g,
	    NULL), -EINVAL);
	assert_int_equal(feed_parse(f, "x", &o, NULL, on_report, &g, NULL),
	    -EINVAL);
	assert_int_equal(feed_parse(f, "x", &o, on_entry, NULL, &g, NULL),
	    -EINVAL);
	o.format = (enum feed_format)99;
	assert_int_equal(feed_parse(f, "x", &o, on_entry, on_report, &g,
	    NULL), -EINVAL);
	o.format = FEED_DOMAINS;
	o.scope = (enum tdb_scope)7;
	assert_int_equal(feed_parse(f, "x", &o, on_entry, on_report, &g,
	    NULL), -EINVAL);
	o.scope = 0;
	/* st may be NULL */
	assert_int_equal(feed_parse(f, "feed.txt", &o, on_entry, on_report, &g,
	    NULL), 0);
	assert_int_equal(g.ne, 1);
	fclose(f);

	assert_int_equal(feed_format_parse("RPZ", &fmt), 0);
	assert_int_equal(fmt, FEED_RPZ);
	assert_int_equal(feed_format_parse("yaml", &fmt), -EINVAL);
	assert_int_equal(fmt, FEED_RPZ);
	assert_int_equal(feed_format_parse(NULL, &fmt), -EINVAL);
	for (int i = 0; i < FEED_NFORMATS; i++) {
		assert_int_equal(feed_format_parse(feed_format_name(
		    (enum feed_format)i), &fmt), 0);
		assert_int_equal(fmt, i);
	}
	assert_string_equal(feed_format_name((enum feed_format)42), "?");

	assert_int_equal(feed_name_normalise("WWW.Example.ORG.", 16, out,
	    &why), 0);
	assert_string_equal(out, "www.example.org");
	assert_int_equal(feed_name_normalise(".", 1, out, &why), 0);
	assert_string_equal(out, "");
	assert_int_equal(feed_name_normalise("a..b", 4, out, &why), -EINVAL);
	assert_string_equal(why, "empty label");
	assert_int_equal(feed_name_normalise("*.a.b", 5, out, &why), -EINVAL);
}

static void
test_emit_stops(void **state)
{
	struct feed_opts o = { .format = FEED_DOMAINS };
	struct got g;

	memset(&g, 0, sizeof(g));
	g.stop_after = 2;
	parse_len(&g, &o, "a.example\nb.example\nc.example\nd.example\n", 40);
	assert_int_equal(g.ret, -ECANCELED);
	assert_int_equal(g.ne, 2);
	assert_int_equal(g.st.entries, 2);

	/* the same for RPZ, where entries wait for the owner to change */
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	o.format = FEED_RPZ;
	parse_len(&g, &o, "a.example. CNAME .\nb.example. CNAME .\n"
	    "c.example. CNAME .\n", 57);
	assert_int_equal(g.ret, -ECANCELED);
	assert_int_equal(g.ne, 1);
}

/* ---- plain domains, and what every line format shares ---- */

static void
test_domains(void **state)
{
	static const char *const entries[] = {
		"example.com subtree",
		"wild.example below",
		"tail.example subtree",
		"spaced.example subtree",
		"a_b.example-1.org subtree",
		"xn--bcher-kva.de subtree",
		"last.example subtree",
		NULL,
	};
	static const char *const reports[] = {
		"5: empty label",
		"6: label longer than 63 octets",
		"7: covers a top-level domain: needs --allow-broad",
		"8: covers a top-level domain: needs --allow-broad",
		"9: non-ASCII name: give IDN names as A-labels (xn--...)",
		"10: unexpected text after the name",
		"13: not a domain name (numeric top-level label)",
		"14: not a domain name",
		"15: wildcard '*' is only allowed as \"*.\" at the start",
		"16: covers a top-level domain: needs --allow-broad",
		"18: empty label",
		NULL,
	};
	struct got g;

	parse(&g, FEED_DOMAINS,
	    "# a comment\n"					/* 1 */
	    "\n"						/* 2 */
	    "Example.COM.\n"					/* 3 */
	    "*.wild.example\n"					/* 4 */
	    "bad..name\n"					/* 5 */
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".com\n"						/* 6 */
	    "com\n"						/* 7 */
	    ".\n"						/* 8 */
	    "b\xc3\xbc" "cher.de\n"				/* 9 */
	    "x.example extra\n"					/* 10 */
	    "tail.example # the rest is a comment\r\n"		/* 11 */
	    "  spaced.example \t\r\n"				/* 12 */
	    "192.0.2.1\n"					/* 13 */
	    "foo$bar.example\n"					/* 14 */
	    "a.*.example\n"					/* 15 */
	    "*.com\n"						/* 16 */
	    "a_b.EXAMPLE-1.org\n"				/* 17 */
	    ".leading.example\n"				/* 18 */
	    "xn--bcher-kva.de\n"				/* 19 */
	    "last.example");					/* 20 */
	expect(&g, entries, reports);
	assert_int_equal(g.st.lines, 20);
}

static void
test_lines(void **state)
{
	static const char *const entries[] = {
		"bom.example subtree", "after.example subtree",
		"crlf.example subtree", NULL,
	};
	static const char *const reports[] = {
		"2: line longer than 4096 bytes",
		"4: name longer than 253 characters",
		"5: NUL byte in line",
		NULL,
	};
	char text[10000], *p = text;
	struct feed_opts o = { .format = FEED_DOMAINS };
	struct got g;

	p += sprintf(p, "\xef\xbb\xbf" "bom.example\n");	/* 1 */
	memset(p, 'a', 4097);					/* 2 */
	p += 4097;
	*p++ = '\n';
	p += sprintf(p, "after.example\r\n");			/* 3 */
	memset(p, 'b', 4096);		/* 4: the limit, CR not counted */
	p += 4096;
	p += sprintf(p, "\r\n");
	memcpy(p, "nul\0.example\n", 13);			/* 5 */
	p += 13;
	p += sprintf(p, "\r\n\r\ncrlf.example\r\n");		/* 6, 7, 8 */
	memset(&g, 0, sizeof(g));
	parse_len(&g, &o, text, (size_t)(p - text));
	expect(&g, entries, reports);
	assert_int_equal(g.st.lines, 8);

	/* nothing at all */
	memset(&g, 0, sizeof(g));
	parse_len(&g, &o, "", 0);
	expect(&g, none, none);
	assert_int_equal(g.st.lines, 0);
}

static void
test_options(void **state)
{
	static const char *const exact[] = {
		"a.example exact", "w.example below", NULL,
	};
	static const char *const broad[] = {
		"com subtree", " subtree", "org below", NULL,
	};
	static const char *const hosts_sub[] = {
		"h.example subtree", NULL,
	};
	static const char *const cidr_broad[] = { "0.0.0.0/0", "::/0", NULL };
	struct feed_opts o = { .format = FEED_DOMAINS, .scope = TDB_EXACT };
	struct got g;

	parse_opts(&g, &o, "a.example\n*.w.example\n");
	expect(&g, exact, none);

	o = (struct feed_opts){ .format = FEED_DOMAINS, .allow_broad = true };
	parse_opts(&g, &o, "com\n.\n*.org\n");
	expect(&g, broad, none);

	o = (struct feed_opts){ .format = FEED_HOSTS, .scope = TDB_SUBTREE };
	parse_opts(&g, &o, "0.0.0.0 h.example\n");
	expect(&g, hosts_sub, none);

	o = (struct feed_opts){ .format = FEED_CIDR, .allow_broad = true };
	parse_opts(&g, &o, "0.0.0.0/0\n::/0\n");
	expect(&g, cidr_broad, none);
}

/* ---- hosts ---- */

static void
test_hosts(void **state)
{
	static const char *const entries[] = {
		"ads.example.com exact", "tracker.example.net exact",
		"x.example exact", "v6.example exact", "ok.example exact",
		"w.example below", NULL,
	};
	static const char *const reports[] = {
		"9: not an address: \"notanip\"",
		"10: no name after the address",
		"11: empty label",
		"12: not an address: \"0.0.0\"",
		NULL,
	};
	struct got g;

	parse(&g, FEED_HOSTS,
	    "127.0.0.1 localhost\n"				/* 1 */
	    "::1 ip6-localhost ip6-loopback\n"			/* 2 */
	    "255.255.255.255 broadcasthost\n"			/* 3 */
	    "0.0.0.0 0.0.0.0\n"					/* 4 */
	    "# 0.0.0.0 commented.example\n"			/* 5 */
	    "0.0.0.0 ads.example.com  Tracker.Example.NET # two\n" /* 6 */
	    "127.0.0.1\tx.example\r\n"				/* 7 */
	    ":: v6.example\n"					/* 8 */
	    "notanip a.example\n"				/* 9 */
	    "0.0.0.0   \n"					/* 10 */
	    "0.0.0.0 ok.example bad..example\n"			/* 11 */
	    "0.0.0 x.example\n"					/* 12 */
	    "0.0.0.0 *.w.example\n"				/* 13 */
	    "127.0.0.1 localhost.localdomain local\n");		/* 14 */
	expect(&g, entries, reports);
}

/* ---- AdBlock ---- */

static void
test_adblock(void **state)
{
	static const char *const entries[] = {
		"ads.example.com subtree",
		"good.example.com subtree allow",
		"w.example below",
		"upper.example subtree",
		"tail.example subtree",
		NULL,
	};
	static const char *const reports[] = {
		"5: unsupported AdBlock option \"$important\"",
		"6: unsupported AdBlock syntax",
		"7: unsupported AdBlock syntax",
		"8: unsupported AdBlock syntax",
		"9: unsupported AdBlock syntax",
		"10: unsupported AdBlock syntax",
		"13: covers a top-level domain: needs --allow-broad",
		"15: unsupported AdBlock syntax",
		"16: unsupported AdBlock syntax",
		"17: unsupported AdBlock option \"$third-party,domain=a.com\"",
		"18: non-ASCII name: give IDN names as A-labels (xn--...)",
		"19: unsupported AdBlock syntax",
		"20: empty name",
		NULL,
	};
	struct got g;

	parse(&g, FEED_ADBLOCK,
	    "[Adblock Plus 2.0]\n"				/* 1 */
	    "! Title: test list\n"				/* 2 */
	    "||ads.example.com^\n"				/* 3 */
	    "@@||good.example.com^\n"				/* 4 */
	    "||imp.example^$important\n"			/* 5 */
	    "example.com##.banner\n"				/* 6 */
	    "##.ad\n"						/* 7 */
	    "/banner[0-9]+/\n"					/* 8 */
	    "|http://x.example/\n"				/* 9 */
	    "||x.example/path^\n"				/* 10 */
	    "||*.w.example^\n"					/* 11 */
	    "||UPPER.Example^\r\n"				/* 12 */
	    "||com^\n"						/* 13 */
	    "# a comment\n"					/* 14 */
	    "||nocaret.example\n"				/* 15 */
	    "||x.example^|\n"					/* 16 */
	    "||tp.example^$third-party,domain=a.com\n"		/* 17 */
	    "||b\xc3\xbc" "cher.de^\n"				/* 18 */
	    "example.org\n"					/* 19 */
	    "||^\n"						/* 20 */
	    "  ||tail.example^  \n");				/* 21 */
	expect(&g, entries, reports);
}

/* ---- CIDR ---- */

static void
test_cidr(void **state)
{
	static const char *const entries[] = {
		"192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32",
		"2001:db8::1/128", "10.0.0.0/8", NULL,
	};
	static const char *const reports[] = {
		"3: host bits set beyond /24",
		"6: bad prefix length \"33\" (0..32)",
		"7: covers every address: needs --allow-broad",
		"8: not an address or prefix: \"nonsense\"",
		"9: unexpected text after the prefix",
		"10: bad prefix length \"\" (0..32)",
		"11: host bits set beyond /32",
		"12: bad prefix length \"129\" (0..128)",
		"13: not an address or prefix: \"192.0.2.256\"",
		NULL,
	};
	struct got g;

	parse(&g, FEED_CIDR,
	    "# c2 networks\n"					/* 1 */
	    "192.0.2.0/24\n"					/* 2 */
	    "192.0.2.1/24\n"					/* 3 */
	    "2001:DB8::/32   # a comment\n"			/* 4 */
	    "198.51.100.7\r\n"					/* 5 */
	    "10.0.0.0/33\n"					/* 6 */
	    "0.0.0.0/0\n"					/* 7 */
	    "nonsense\n"					/* 8 */
	    "10.0.0.0/8 extra\n"				/* 9 */
	    "10.0.0.0/\n"					/* 10 */
	    "2001:db8:0:1::/32\n"				/* 11 */
	    "2001:db8::/129\n"					/* 12 */
	    "192.0.2.256\n"					/* 13 */
	    "\n"						/* 14 */
	    "2001:db8::1\n"					/* 15 */
	    "10.0.0.0/8\n");					/* 16 */
	expect(&g, entries, reports);
}

/* ---- CSV ---- */

static void
test_csv(void **state)
{
	static const char *const entries[] = {
		"evil.example subtree cat=malware sev=7 exp=1798675200",
		"w.example below cat=phishing",
		"192.0.2.0/24 cat=c2 sev=10 exp=1798675200",
		"quoted.example subtree cat=botnet exp=1798675200",
		"nocat.example subtree sev=3",
		"2001:db8::/32 cat=c2 exp=1835440496",
		"q.example subtree cat=a-b",
		NULL,
	};
	static const char *const reports[] = {
		"7: bad category \"mal ware\" ([a-z0-9-], at most 32)",
		"8: bad severity \"11\" (0..10)",
		"9: bad expiry \"2026-13-01\" (RFC 3339 UTC, YYYY-MM-DD or "
		    "unix seconds)",
		"10: expected indicator,category[,severity[,expires]]",
		"11: too many fields (expected "
		    "indicator,category[,severity[,expires]])",
		"12: unterminated quoted field (expected "
		    "indicator,category[,severity[,expires]])",
		"14: not a domain name",
		"15: host bits set beyond /24",
		"16: bad expiry \"2026-12-31T00:00:00+01:00\" (RFC 3339 UTC, "
		    "YYYY-MM-DD or unix seconds)",
		"17: bad category \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" "
		    "([a-z0-9-], at most 32)",
		"18: covers a top-level domain: needs --allow-broad",
		"19: bad severity \"-1\" (0..10)",
		"20: text after a quoted field (expected "
		    "indicator,category[,severity[,expires]])",
		NULL,
	};
	struct got g;

	parse(&g, FEED_CSV,
	    "indicator,category,severity,expires\n"		/* 1 */
	    "evil.example,malware,7,2026-12-31T00:00:00Z\n"	/* 2 */
	    "*.w.example , phishing\n"				/* 3 */
	    "192.0.2.0/24,c2,10,2026-12-31\r\n"			/* 4 */
	    "\"Quoted.Example\",\"Botnet\",,1798675200\n"	/* 5 */
	    "# a comment\n"					/* 6 */
	    "bad.example,mal ware\n"				/* 7 */
	    "bad.example,malware,11\n"				/* 8 */
	    "bad.example,malware,5,2026-13-01\n"		/* 9 */
	    "bad.example\n"					/* 10 */
	    "a.example,b,1,2,e\n"				/* 11 */
	    "\"unterminated,x\n"				/* 12 */
	    "nocat.example,,3\n"				/* 13 */
	    "\"a\"\"b.example\",x\n"				/* 14 */
	    "192.0.2.1/24,c2\n"					/* 15 */
	    "bad.example,m,,2026-12-31T00:00:00+01:00\n"	/* 16 */
	    "bad.example,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"	/* 17 */
	    "com,malware\n"					/* 18 */
	    "bad.example,m,-1\n"				/* 19 */
	    "\"bad.example\" x,m\n"				/* 20 */
	    "2001:db8::/32,c2,,2028-02-29T12:34:56.789Z\n"	/* 21 */
	    "q.example,A-B,0,0\n");				/* 22 */
	expect(&g, entries, reports);
}

static void
test_time(void **state)
{
	static const struct {
		const char *text;
		int64_t want;	/* -1: refused */
	} c[] = {
		{ "1970-01-01", 0 },
		{ "2026-12-31", 1798675200 },
		{ "2026-12-31T00:00:00Z", 1798675200 },
		{ "2026-12-31t00:00:00z", 1798675200 },
		{ "2028-02-29T12:34:56Z", 1835440496 },
		{ "2028-02-29T12:34:56.5Z", 1835440496 },
		{ "2000-02-29", 951782400 },
		{ "1798675200", 1798675200 },
		{ "0", 0 },
		{ "2027-02-29", -1 },
		{ "1900-02-29", -1 },
		{ "2026-00-10", -1 },
		{ "2026-04-31", -1 },
		{ "2026-12-31T24:00:00Z", -1 },
		{ "2026-12-31T00:60:00Z", -1 },
		{ "2026-12-31T00:00:00", -1 },
		{ "2026-12-31T00:00:00.Z", -1 },
		{ "2026-12-31T00:00:00+00:00", -1 },
		{ "2026-12-31 00:00:00Z", -1 },
		{ "1969-12-31", -1 },
		{ "26-12-31", -1 },
		{ "2026/12/31", -1 },
		{ "253402300799", 253402300799 },
		{ "253402300800", -1 },
		{ "9999999999999", -1 },
		{ "-5", -1 },
		{ "", -1 },
		{ "tomorrow", -1 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		int64_t got = -42;
		int r = feed_time_parse(c[i].text, strlen(c[i].text), &got);

		if (c[i].want < 0) {
			if (r != -EINVAL)
				fail_msg("\"%s\" accepted", c[i].text);
			assert_int_equal(got, -42);
		} else {
			if (r != 0)
				fail_msg("\"%s\" refused", c[i].text);
			assert_int_equal(got, c[i].want);
		}
	}
}

/* ---- RPZ ---- */

static void
test_rpz(void **state)
{
	static const char *const entries[] = {
		"bad.example exact action=nxdomain",
		"bad.example below action=nxdomain",
		"nodata.example exact action=nodata",
		"ok.example exact allow",
		"drop.example exact action=drop",
		"walled.example exact action=redirect",
		"local.example exact action=redirect",
		"192.0.2.1/32 action=nxdomain",
		"192.0.2.0/24 action=drop",
		"2001:db8::1/128 action=nxdomain",
		"2001:db8::/32 allow",
		"multi.example exact action=nxdomain",
		"mixed.example exact action=nxdomain",
		"conflict.example exact action=nxdomain",
		"self.example exact allow",
		"last.example exact action=nxdomain",
		NULL,
	};
	static const char *const reports[] = {
		"20: host bits set beyond /24",
		"21: unsupported RPZ trigger rpz-nsdname",
		"22: unsupported RPZ trigger rpz-nsip",
		"23: unsupported RPZ trigger rpz-client-ip",
		"24: unsupported RPZ action rpz-tcp-only",
		"25: owner outside the zone",
		"31: CNAME and other data at the same owner",
		"34: covers a top-level domain: needs --allow-broad",
		"35: $INCLUDE is not supported",
		"37: bad rpz-ip trigger",
		"38: bad rpz-ip trigger",
		"39: non-ASCII name: give IDN names as A-labels (xn--...)",
		"40: a second SOA record",
		NULL,
	};
	struct got g;

	parse(&g, FEED_RPZ,
	    "$TTL 300\n"						/* 1 */
	    "$ORIGIN rpz.example.\n"					/* 2 */
	    "@ SOA ns.rpz.example. hostmaster.rpz.example. "
	    "1 3600 600 86400 60\n"					/* 3 */
	    "  NS ns.rpz.example.\n"					/* 4 */
	    "; a comment\n"						/* 5 */
	    "bad.example CNAME .\n"					/* 6 */
	    "*.bad.example CNAME .\n"					/* 7 */
	    "nodata.example CNAME *.\n"					/* 8 */
	    "ok.example CNAME rpz-passthru.\n"				/* 9 */
	    "drop.example 60 IN CNAME rpz-drop.\n"			/* 10 */
	    "walled.example CNAME garden.example.net.\n"		/* 11 */
	    "local.example A 192.0.2.1\n"				/* 12 */
	    "local.example AAAA 2001:db8::1\n"				/* 13 */
	    "              TXT \"local data\"\n"			/* 14 */
	    "32.1.2.0.192.rpz-ip CNAME .\n"				/* 15 */
	    "\n"							/* 16 */
	    "24.0.2.0.192.rpz-ip CNAME rpz-drop.\n"			/* 17 */
	    "128.1.zz.db8.2001.rpz-ip CNAME .\n"			/* 18 */
	    "32.zz.db8.2001.rpz-ip CNAME rpz-passthru.\n"		/* 19 */
	    "24.1.2.0.192.rpz-ip CNAME .\n"				/* 20 */
	    "ns.example.rpz-nsdname CNAME .\n"				/* 21 */
	    "32.1.2.0.192.rpz-nsip CNAME .\n"				/* 22 */
	    "32.1.2.0.192.rpz-client-ip CNAME .\n"			/* 23 */
	    "tcp.example CNAME rpz-tcp-only.\n"				/* 24 */
	    "other.zone. CNAME .\n"					/* 25 */
	    "multi.example ( CNAME ; a comment inside\n"		/* 26 */
	    "   .\n"							/* 27 */
	    "   )\n"							/* 28 */
	    "Mixed.Example CNAME .\r\n"					/* 29 */
	    "conflict.example CNAME .\n"				/* 30 */
	    "conflict.example A 192.0.2.2\n"				/* 31 */
	    "self.example CNAME self.example.\n"			/* 32 */
	    "# a hash comment\n"					/* 33 */
	    "com CNAME .\n"						/* 34 */
	    "$INCLUDE /etc/passwd\n"					/* 35 */
	    "bad.example RRSIG CNAME 8 3 300 20300101000000 "
	    "20200101000000 1 rpz.example. AAAA\n"			/* 36 */
	    "*.32.1.2.0.192.rpz-ip CNAME .\n"				/* 37 */
	    "33.1.2.0.192.rpz-ip CNAME .\n"				/* 38 */
	    "b\\195\\188cher.example CNAME .\n"				/* 39 */
	    "@ SOA ns.rpz.example. hostmaster.rpz.example. "
	    "2 3600 600 86400 60\n"					/* 40 */
	    "last.example CNAME .");					/* 41 */
	expect(&g, entries, reports);
	assert_int_equal(g.st.lines, 41);
}

static void
test_rpz_errors(void **state)
{
	static const char *const entries[] = {
		"a.example exact action=nxdomain",
		"b.example exact action=nxdomain",
		"c.example exact action=nxdomain",
		NULL,
	};
	static const char *const reports[] = {
		"3: Syntax error, could not parse the RR's rdata",
		"6: line longer than 4096 bytes",
		"8: NUL byte in line",
		"11: Syntax error, could not parse the RR's rdata",
		NULL,
	};
	char text[8000], *p = text;
	struct feed_opts o = { .format = FEED_RPZ };
	struct got g;

	p += sprintf(p, "a.example. CNAME .\n"		/* 1 */
	    "\n"					/* 2 */
	    "junk.example. BOGUSTYPE x\n"		/* 3 */
	    "\n"					/* 4 */
	    "\n");					/* 5 */
	memset(p, 'x', 5000);				/* 6 */
	p += 5000;
	p += sprintf(p, "\nb.example. CNAME .\n");	/* 7 */
	memcpy(p, "x\0 CNAME .\n", 11);			/* 8 */
	p += 11;
	p += sprintf(p, "c.example. CNAME .\n"		/* 9 */
	    "; the end\n"				/* 10 */
	    "bad.example. A 999.1.1.1\n"		/* 11 */
	    "\n"					/* 12 */
	    "; trailing comment\n");			/* 13 */
	memset(&g, 0, sizeof(g));
	parse_len(&g, &o, text, (size_t)(p - text));
	expect(&g, entries, reports);
	assert_int_equal(g.st.lines, 13);
}

static void
test_rpz_origin(void **state)
{
	/* no SOA, no $ORIGIN: owners are names from the root */
	static const char *const abs[] = {
		"bad.example exact action=nxdomain", NULL,
	};
	/* the apex is the SOA owner, even with other $ORIGINs after it;
	 * "y" is then one label: refused as a TLD */
	static const char *const soa[] = { "x.sub exact action=drop", NULL };
	static const char *const soa_r[] = {
		"5: covers a top-level domain: needs --allow-broad", NULL,
	};
	/* --subdomains turns "x" into x SUBTREE; "*.x" stays BELOW */
	static const char *const sub[] = {
		"a.example subtree action=nxdomain",
		"b.example below action=nxdomain",
		NULL,
	};
	/* --allow-broad lets a trigger on the apex or a TLD through */
	static const char *const broad[] = {
		" exact action=nxdomain", "com below action=nxdomain", NULL,
	};
	struct feed_opts o = { .format = FEED_RPZ };
	struct got g;

	parse(&g, FEED_RPZ, "bad.example CNAME .\n");
	expect(&g, abs, none);

	parse(&g, FEED_RPZ,
	    "zone.test. 300 IN SOA ns.zone.test. h.zone.test. 1 2 3 4 5\n"
	    "$ORIGIN sub.zone.test.\n"
	    "x CNAME rpz-drop.\n"
	    "$ORIGIN zone.test.\n"
	    "y.zone.test. CNAME .\n");
	expect(&g, soa, soa_r);

	o.scope = TDB_SUBTREE;
	parse_opts(&g, &o, "$ORIGIN rpz.\na.example CNAME .\n"
	    "*.b.example CNAME .\n");
	expect(&g, sub, none);

	o = (struct feed_opts){ .format = FEED_RPZ, .allow_broad = true };
	parse_opts(&g, &o, "$ORIGIN rpz.\n@ CNAME .\n*.com CNAME .\n");
	expect(&g, broad, none);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_emit_stops),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_adblock),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_rpz),
		cmocka_unit_test(test_rpz_errors),
		cmocka_unit_test(test_rpz_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
