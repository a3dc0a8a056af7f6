/* threatctl_show.c -- the commands that only read: feeds, lookup, stats */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "threatdb/tdb.h"
#include "tools/threatctl.h"

#define LOOKUP_MAX_ITEMS	1024	/* entries listed by lookup */
#define SHA_SHOWN		12	/* hex digits of the sum in feeds */

/* ---- feeds ---- */

struct feed_list {
	struct tdb_feed_info *v;
	size_t n, cap;
};

static int
feed_collect(void *arg, const struct tdb_feed_info *f)
{
	struct feed_list *l = arg;
	struct tdb_feed_info *nv;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *f;
	return 0;
}

int
tctl_feeds(const char *db_path, int argc, char **argv)
{
	struct feed_list l = { 0 };
	char when[32], hex[65];
	struct tdb *db;
	int w = 4, r, ret;

	(void)argv;
	if (argc != 1)
		return tctl_usage_err("feeds: takes no arguments");
	if ((ret = tctl_open(&db, db_path, false)) != TCTL_OK)
		return ret;
	if ((r = tdb_feeds(db, feed_collect, &l)) != 0) {
		tctl_err("%s: listing feeds: %s", db_path, tctl_strerror(r));
		ret = TCTL_FAIL;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++)
		if ((int)strlen(l.v[i].name) > w)
			w = (int)strlen(l.v[i].name);
	printf("%-*s %10s %10s %10s  %-20s  %-*s  %s\n", w, "FEED", "ENTRIES",
	    "NAMES", "PREFIXES", "IMPORTED", SHA_SHOWN, "SHA256", "SOURCE");
	for (size_t i = 0; i < l.n; i++) {
		const struct tdb_feed_info *f = &l.v[i];

		tctl_time_format(f->imported_at, when, sizeof(when));
		tctl_hex(f->sha256, sizeof(f->sha256), hex);
		printf("%-*s %10llu %10llu %10llu  %-20s  %.*s  %s\n", w,
		    f->name, (unsigned long long)f->entries,
		    (unsigned long long)f->names,
		    (unsigned long long)f->prefixes, when, SHA_SHOWN, hex,
		    f->source[0] ? f->source : "-");
	}
out:
	free(l.v);
	tdb_close(db);
	return ret;
}

/* ---- lookup ---- */

/* What an entry covers, in words. */
static void
entry_text(const struct tdb_entry *e, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	const char *name = e->name[0] ? e->name : ".";

	if (e->is_prefix) {
		inet_ntop(e->family, e->addr, a, sizeof(a));
		snprintf(out, size, "%s/%u", a, e->plen);
	} else if (e->scope == TDB_EXACT)
		snprintf(out, size, "%s (exact)", name);
	else if (e->scope == TDB_BELOW)
		snprintf(out, size, "*.%s (subdomains only)",
		    e->name[0] ? e->name : "");
	else
		snprintf(out, size, "%s (and subdomains)", name);
}

/* The attributes of an entry: "feed F, category C, action A, ...". */
static void
entry_attrs(const struct tdb_record *r, char *out, size_t size)
{
	char when[32];

	tctl_time_format(r->e.expires, when, sizeof(when));
	snprintf(out, size, "feed %s, category %s, action %s, severity %u, "
	    "expires %s", r->feed, r->e.category[0] ? r->e.category : "none",
	    tctl_action_name(r->e.action), r->e.severity, when);
}

/* Why the deciding entry decides, from the other live entries met. */
static const char *
decide_rule(const struct tdb_explain_item *it, size_t n,
    const struct tdb_explain_item *d, bool is_prefix)
{
	bool blocks = false, other_depth = false, same_depth = false;

	for (size_t i = 0; i < n; i++) {
		if (&it[i] == d || !it[i].covers || it[i].expired)
			continue;
		if (it[i].rec.e.allow != d->rec.e.allow) {
			blocks = true;
			continue;
		}
		if (is_prefix ? it[i].rec.e.plen != d->rec.e.plen :
		    it[i].labels != d->labels)
			other_depth = true;
		else
			same_depth = true;
	}
	if (d->rec.e.allow && blocks)
		return "allow beats block";
	if (other_depth && !is_prefix && d->self)
		return "the entry at the name itself beats its parents";
	if (other_depth)
		return is_prefix ? "the longest prefix wins" :
		    "the longest matching parent wins";
	if (same_depth)
		return "several feeds list it: the one with the lowest feed "
		    "id wins";
	return is_prefix ? "the only prefix that holds the address" :
	    "the only entry that covers the name";
}

/* Why another entry does not decide. */
static const char *
item_note(const struct tdb_explain_item *it,
    const struct tdb_explain_item *d, bool is_prefix)
{
	if (it->decides)
		return "DECIDES";
	if (!it->covers)
		return it->self ? "does not cover the name itself" :
		    "exact entry of a parent: does not cover names below it";
	if (it->expired)
		return "expired";
	if (d == NULL)
		return "";
	if (d->rec.e.allow && !it->rec.e.allow)
		return "overridden: allow beats block";
	if (is_prefix ? it->rec.e.plen != d->rec.e.plen :
	    it->labels != d->labels)
		return is_prefix ? "overridden: a longer prefix wins" :
		    d->self ? "overridden: the name itself wins" :
		    "overridden: a longer match wins";
	return "overridden: a feed with a lower id wins";
}

static void
lookup_print(const char *what, const struct tdb_explanation *x,
    const struct tdb_explain_item *it, bool is_prefix)
{
	const struct tdb_explain_item *d = NULL;
	size_t n = x->n < LOOKUP_MAX_ITEMS ? x->n : LOOKUP_MAX_ITEMS;
	char text[TDB_MAX_NAME * 4 + 64], attrs[256];

	for (size_t i = 0; i < n; i++)
		if (it[i].decides)
			d = &it[i];
	if (!x->m.found)
		printf("%s: no entry decides\n", what);
	else {
		entry_text(&x->decider.e, text, sizeof(text));
		entry_attrs(&x->decider, attrs, sizeof(attrs));
		printf("%s: %s by %s\n", what, x->m.allow ? "ALLOW" : "BLOCK",
		    text);
		printf("  %s\n", attrs);
		if (d != NULL)
			printf("  rule: %s\n", decide_rule(it, n, d, is_prefix));
	}
	if (n == 0) {
		printf("  no entries for %s%s\n", what,
		    is_prefix ? "" : " or its parents");
		return;
	}
	printf("  entries met (%zu):\n", x->n);
	for (size_t i = 0; i < n; i++) {
		entry_text(&it[i].rec.e, text, sizeof(text));
		entry_attrs(&it[i].rec, attrs, sizeof(attrs));
		printf("    %-5s %s; %s [%s]\n", it[i].rec.e.allow ? "allow" :
		    "block", text, attrs, item_note(&it[i], d, is_prefix));
	}
	if (x->n > n)
		printf("    ... and %zu more\n", x->n - n);
}

int
tctl_lookup(const char *db_path, int argc, char **argv)
{
	struct tdb_explain_item *items;
	struct tdb_explanation x;
	uint8_t addr[16];
	struct tdb *db;
	const char *what;
	bool is_prefix = true;
	int family = AF_INET, r, ret;

	if (argc != 2 || argv[1][0] == '-')
		return tctl_usage_err("lookup: usage: lookup NAME|ADDRESS");
	what = argv[1];
	if (inet_pton(AF_INET, what, addr) != 1) {
		family = AF_INET6;
		if (inet_pton(AF_INET6, what, addr) != 1)
			is_prefix = false;
	}
	if ((items = calloc(LOOKUP_MAX_ITEMS, sizeof(*items))) == NULL) {
		tctl_err("lookup: %s", strerror(ENOMEM));
		return TCTL_FAIL;
	}
	if ((ret = tctl_open(&db, db_path, false)) != TCTL_OK) {
		free(items);
		return ret;
	}
	r = is_prefix ? tdb_explain_addr(db, family, addr, time(NULL), items,
	    LOOKUP_MAX_ITEMS, &x) : tdb_explain_name(db, what, time(NULL),
	    items, LOOKUP_MAX_ITEMS, &x);
	if (r == -EINVAL)
		tctl_err("lookup: '%s' is neither a domain name nor an IPv4 or "
		    "IPv6 address", what);
	else if (r != 0)
		tctl_err("%s: lookup %s: %s", db_path, what, tctl_strerror(r));
	else
		lookup_print(what, &x, items, is_prefix);
	tdb_close(db);
	free(items);
	if (r != 0)
		return TCTL_FAIL;
	return x.m.found ? TCTL_OK : TCTL_FAIL;
}

/* ---- stats ---- */

int
tctl_stats(const char *db_path, int argc, char **argv)
{
	struct tdb_stats st;
	struct tdb *db;
	int r, ret;

	(void)argv;
	if (argc != 1)
		return tctl_usage_err("stats: takes no arguments");
	if ((ret = tctl_open(&db, db_path, false)) != TCTL_OK)
		return ret;
	if ((r = tdb_stats_get(db, &st)) != 0) {
		tctl_err("%s: stats: %s", db_path, tctl_strerror(r));
		tdb_close(db);
		return TCTL_FAIL;
	}
	printf("database:        %s\n", tdb_path(db));
	printf("format version:  %u\n", st.format_version);
	printf("generation:      %llu\n", (unsigned long long)st.generation);
	printf("feeds:           %llu\n", (unsigned long long)st.feeds);
	printf("categories:      %llu\n", (unsigned long long)st.categories);
	printf("names:           %llu (%llu allow)\n",
	    (unsigned long long)st.names, (unsigned long long)st.names_allow);
	printf("prefixes:        %llu IPv4, %llu IPv6 (%llu allow)\n",
	    (unsigned long long)st.prefixes4, (unsigned long long)st.prefixes6,
	    (unsigned long long)st.prefixes_allow);
	printf("map:             %llu of %llu bytes used (page size %u)\n",
	    (unsigned long long)st.map_used, (unsigned long long)st.map_size,
	    st.page_size);
	printf("file size:       %llu bytes\n",
	    (unsigned long long)st.file_size);
	printf("readers:         %u of %u slots used\n", st.readers_used,
	    st.readers_max);
	printf("names by labels:");
	for (unsigned i = 0; i < 128; i++)
		if (st.names_by_labels[i] != 0)
			printf(" %u:%u", i, st.names_by_labels[i]);
	printf("\n");
	tdb_close(db);
	return TCTL_OK;
}
