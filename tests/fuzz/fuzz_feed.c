/* fuzz_feed.c -- libFuzzer: every feed format through feed_parse()
 *
 * The first byte picks the format (low bits), --allow-broad and the scope
 * override; the rest is the feed, read through fmemopen().  Every entry
 * and every report is checked against what feed.h promises.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "threatdb/feeds/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct counts {
	unsigned long entries;
	unsigned long reports;
	unsigned long last_line;
};

static void
check_name(const char *name)
{
	size_t len = strlen(name);

	if (len > 253 || (len > 0 && (name[0] == '.' || name[len - 1] == '.')))
		abort();
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		    name[i] == '_' || (name[i] == '.' && name[i + 1] != '.')))
			abort();
}

static void
check_prefix(const struct tdb_entry *e)
{
	unsigned bits = e->family == AF_INET ? 32 : 128;

	if ((e->family != AF_INET && e->family != AF_INET6) || e->plen > bits)
		abort();
	for (unsigned b = e->plen; b < 128; b++)
		if (e->addr[b / 8] & (0x80 >> (b % 8)))
			abort();
}

static int
count_entry(void *arg, const struct tdb_entry *e)
{
	struct counts *n = arg;

	if (e->is_prefix)
		check_prefix(e);
	else if (e->scope != TDB_EXACT && e->scope != TDB_BELOW &&
	    e->scope != TDB_SUBTREE)
		abort();
	else
		check_name(e->name);
	if (e->severity > 10 || e->category[TDB_MAX_CATEGORY] != '\0' ||
	    e->expires < 0)
		abort();
	n->entries++;
	return 0;
}

static void
count_report(void *arg, const char *file, unsigned long line,
    const char *reason)
{
	struct counts *n = arg;

	/* Reports come in file order, each with a reason. */
	if (line == 0 || line < n->last_line || reason[0] == '\0' ||
	    strlen(reason) >= FEED_MAX_REASON)
		abort();
	n->last_line = line;
	n->reports++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum tdb_scope scopes[4] = {
		0, TDB_EXACT, TDB_SUBTREE, TDB_BELOW,
	};
	struct feed_opts o = { 0 };
	struct feed_stats st;
	struct counts n = { 0, 0, 0 };
	FILE *f;
	int r;

	if (size < 2)
		return 0;
	o.format = (enum feed_format)((data[0] & 7) % FEED_NFORMATS);
	o.allow_broad = data[0] & 8;
	o.scope = scopes[(data[0] >> 4) & 3];
	if ((f = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
		return 0;
	r = feed_parse(f, "fuzz", &o, count_entry, count_report, &n, &st);
	fclose(f);
	if (r != 0 || st.entries != n.entries || st.bad != n.reports)
		abort();
	return 0;
}
