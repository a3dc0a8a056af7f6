/* threatctl_export.c -- threatctl export: the database as an RPZ zone, an
 * nft set file or a plain list of domains, as egressd would decide */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "threatdb/feeds/feed.h"
#include "threatdb/tdb.h"
#include "tools/threatctl.h"

#define EXPORT_DEFAULT_ORIGIN	"rpz.egressd"
#define EXPORT_DEFAULT_TABLE	"egressd"
#define EXPORT_MAX_TABLE	32
#define EXPORT_RPZ_TTL		300
#define EXPORT_NAME_TEXT	(TDB_MAX_NAME * 4 + 1)
#define EXPORT_ZONE_TEXT	(TDB_MAX_NAME * 4 + 8)

enum export_format { EXPORT_RPZ, EXPORT_NFT, EXPORT_DOMAINS };

/* The entries of one name, merged over feeds and scopes. */
struct name_group {
	bool have;
	char name[EXPORT_NAME_TEXT];
	unsigned allow;			/* scope bits of allow entries */
	bool blk_exact, blk_below;
	uint16_t exact_feed, below_feed;
	enum tdb_action exact_act, below_act;
};

/* The entries of one prefix, merged over feeds. */
struct prefix_group {
	bool have;
	struct tdb_entry e;		/* family, addr, plen */
	bool allow, block;
	uint16_t feed;
	enum tdb_action act;
};

struct range_list {
	struct tctl_range *v;
	size_t n, cap;
};

struct export {
	enum export_format fmt;
	FILE *out;
	/* allow names covering their subdomains, from the root down to the
	 * current name's parent (the walk is in reversed-label order, so a
	 * parent always comes before its children) */
	char (*stack)[EXPORT_NAME_TEXT];
	size_t depth;
	struct name_group g;
	/* allow prefixes holding the current one (address order) */
	struct tctl_range pstack[129];
	int pfamily;
	size_t pdepth;
	struct prefix_group p;
	/* nft */
	struct range_list block[2], allow[2];	/* [0] IPv4, [1] IPv6 */
	/* what was written and left out */
	uint64_t written, shadowed, unexpressible;
};

/* ---- RPZ and domains lines ---- */

static const char *
rpz_target(bool allow, enum tdb_action a)
{
	if (allow)
		return "rpz-passthru.";
	switch (a) {
	case TDB_ACTION_NODATA:
		return "*.";
	case TDB_ACTION_DROP:
		return "rpz-drop.";
	default:
		/* block, nxdomain, and the hints an RPZ cannot carry
		 * (redirect, log): the action is only a hint, and a plain
		 * RPZ consumer has no policy to ask. */
		return ".";
	}
}

/* One RPZ record: at the name (below false) or at "*.name". */
static int
rpz_line(struct export *x, const char *name, bool below, bool allow,
    enum tdb_action a)
{
	char owner[EXPORT_ZONE_TEXT];

	if (name[0] == '\0' && !below) {
		/* the root itself would be the zone's apex */
		x->unexpressible++;
		return 0;
	}
	if (tctl_zone_name(name, owner, sizeof(owner)) != 0)
		return -ENOSPC;
	fprintf(x->out, "%s%s%s CNAME %s\n", below ? "*" : "",
	    below && name[0] ? "." : "", owner, rpz_target(allow, a));
	x->written++;
	return 0;
}

static int
domains_line(struct export *x, const char *name, bool exact, bool below)
{
	if (!exact && !below)
		return 0;
	if (below && !exact)
		fprintf(x->out, "*%s%s\n", name[0] ? "." : "", name);
	else
		fprintf(x->out, "%s\n", name[0] ? name : ".");
	x->written++;
	return 0;
}

/* ---- names ---- */

static bool
is_ancestor_or_self(const char *a, const char *n)
{
	size_t la = strlen(a), ln = strlen(n);

	if (la == 0)
		return true;
	if (la > ln || strcmp(n + ln - la, a) != 0)
		return false;
	return la == ln || n[ln - la - 1] == '.';
}

static int
name_flush(struct export *x)
{
	struct name_group *g = &x->g;
	bool inherited, cover_exact, cover_below, exact, below;
	int r = 0;

	if (!g->have)
		return 0;
	g->have = false;
	while (x->depth > 0 && !is_ancestor_or_self(x->stack[x->depth - 1],
	    g->name))
		x->depth--;
	inherited = x->depth > 0;
	cover_exact = inherited || (g->allow & TDB_EXACT);
	cover_below = inherited || (g->allow & TDB_BELOW);
	exact = g->blk_exact && !cover_exact;
	below = g->blk_below && !cover_below;
	x->shadowed += (g->blk_exact && cover_exact) +
	    (g->blk_below && cover_below);
	if (x->fmt == EXPORT_DOMAINS)
		r = domains_line(x, g->name, exact, below);
	else {
		if (r == 0 && (g->allow & TDB_EXACT))
			r = rpz_line(x, g->name, false, true, 0);
		if (r == 0 && (g->allow & TDB_BELOW))
			r = rpz_line(x, g->name, true, true, 0);
		if (r == 0 && exact)
			r = rpz_line(x, g->name, false, false, g->exact_act);
		if (r == 0 && below)
			r = rpz_line(x, g->name, true, false, g->below_act);
	}
	if ((g->allow & TDB_BELOW) && x->depth < TDB_MAX_NAME)
		strcpy(x->stack[x->depth++], g->name);
	return r;
}

static int
name_add(struct export *x, const struct tdb_record *rec)
{
	struct name_group *g = &x->g;
	const struct tdb_entry *e = &rec->e;
	int r;

	if (g->have && strcmp(g->name, e->name) != 0 &&
	    (r = name_flush(x)) != 0)
		return r;
	if (!g->have) {
		memset(g, 0, sizeof(*g));
		g->have = true;
		strcpy(g->name, e->name);
	}
	if (e->allow) {
		g->allow |= e->scope;
		return 0;
	}
	/* the lowest feed id decides among entries of one name and kind */
	if ((e->scope & TDB_EXACT) && (!g->blk_exact ||
	    rec->feed_id < g->exact_feed)) {
		g->blk_exact = true;
		g->exact_feed = rec->feed_id;
		g->exact_act = e->action;
	}
	if ((e->scope & TDB_BELOW) && (!g->blk_below ||
	    rec->feed_id < g->below_feed)) {
		g->blk_below = true;
		g->below_feed = rec->feed_id;
		g->below_act = e->action;
	}
	return 0;
}

/* ---- prefixes ---- */

static int
range_push(struct range_list *l, struct tctl_range r)
{
	struct tctl_range *nv;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;

		if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = r;
	return 0;
}

static int
prefix_flush(struct export *x)
{
	struct prefix_group *p = &x->p;
	struct tctl_range r;
	char owner[64];
	bool covered;

	if (!p->have)
		return 0;
	p->have = false;
	r = tctl_prefix_range(p->e.family, p->e.addr, p->e.plen);
	if (p->e.family != x->pfamily) {
		x->pfamily = p->e.family;
		x->pdepth = 0;
	}
	while (x->pdepth > 0 && x->pstack[x->pdepth - 1].hi < r.lo)
		x->pdepth--;
	/* prefixes nest or are disjoint: what is left holds this one */
	covered = p->allow || x->pdepth > 0;
	if (p->block && covered)
		x->shadowed++;
	if (p->allow || (p->block && !covered)) {
		if (tctl_rpz_ip_owner(&p->e, owner, sizeof(owner)) != 0)
			return -EINVAL;
		fprintf(x->out, "%s CNAME %s\n", owner,
		    rpz_target(p->allow, p->act));
		x->written++;
	}
	if (p->allow && x->pdepth < sizeof(x->pstack) / sizeof(*x->pstack))
		x->pstack[x->pdepth++] = r;
	return 0;
}

static int
prefix_add(struct export *x, const struct tdb_record *rec)
{
	struct prefix_group *p = &x->p;
	const struct tdb_entry *e = &rec->e;
	int r;

	if (x->fmt == EXPORT_DOMAINS)
		return 0;
	if (x->fmt == EXPORT_NFT) {
		int f = e->family == AF_INET ? 0 : 1;

		return range_push(e->allow ? &x->allow[f] : &x->block[f],
		    tctl_prefix_range(e->family, e->addr, e->plen));
	}
	if (p->have && (p->e.family != e->family || p->e.plen != e->plen ||
	    memcmp(p->e.addr, e->addr, sizeof(e->addr)) != 0) &&
	    (r = prefix_flush(x)) != 0)
		return r;
	if (!p->have) {
		memset(p, 0, sizeof(*p));
		p->have = true;
		p->e.family = e->family;
		p->e.plen = e->plen;
		p->e.is_prefix = true;
		memcpy(p->e.addr, e->addr, sizeof(e->addr));
	}
	if (e->allow)
		p->allow = true;
	else if (!p->block || rec->feed_id < p->feed) {
		p->block = true;
		p->feed = rec->feed_id;
		p->act = e->action;
	}
	return 0;
}

static int
export_record(void *arg, const struct tdb_record *rec)
{
	struct export *x = arg;
	int r;

	if (!rec->e.is_prefix)
		return x->fmt == EXPORT_NFT ? 0 : name_add(x, rec);
	if ((r = name_flush(x)) != 0)
		return r;
	return prefix_add(x, rec);
}

/* ---- nft ---- */

static int
nft_set(struct export *x, const char *table, int f)
{
	struct range_list *b = &x->block[f], *a = &x->allow[f];
	unsigned bits = f == 0 ? 32 : 128;
	size_t nb, na, n;
	struct tctl_range *out;
	bool first = true;

	nb = tctl_ranges_merge(b->v, b->n);
	na = tctl_ranges_merge(a->v, a->n);
	if ((out = calloc(nb + na + 1, sizeof(*out))) == NULL)
		return -ENOMEM;
	n = tctl_ranges_subtract(b->v, nb, a->v, na, out);
	fprintf(x->out, "flush set inet %s block_v%d\n", table, f ? 6 : 4);
	for (size_t i = 0; i < n; i++) {
		struct tctl_range r = out[i];
		bool more = true;

		while (more) {
			unsigned __int128 start;
			unsigned plen = tctl_range_next_prefix(&r, bits, &start,
			    &more);
			uint8_t addr[16];
			char text[INET6_ADDRSTRLEN];

			for (unsigned k = 0; k < bits / 8; k++)
				addr[k] = (uint8_t)(start >> (bits - 8 * (k + 1)));
			inet_ntop(f ? AF_INET6 : AF_INET, addr, text,
			    sizeof(text));
			if (first)
				fprintf(x->out, "add element inet %s block_v%d "
				    "{\n", table, f ? 6 : 4);
			first = false;
			if (plen == bits)
				fprintf(x->out, "\t%s,\n", text);
			else
				fprintf(x->out, "\t%s/%u,\n", text, plen);
			x->written++;
		}
	}
	if (!first)
		fprintf(x->out, "}\n");
	free(out);
	return 0;
}

static int
nft_write(struct export *x, const char *table)
{
	fprintf(x->out, "table inet %s {\n"
	    "\tset block_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n"
	    "\tset block_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n"
	    "}\n", table);
	if (nft_set(x, table, 0) != 0 || nft_set(x, table, 1) != 0)
		return -ENOMEM;
	return 0;
}

/* ---- the command ---- */

static void
export_header(struct export *x, const char *db_path, const char *feed,
    const char *origin, time_t now)
{
	const char *c = x->fmt == EXPORT_RPZ ? ";" : "#";
	char when[32];

	tctl_time_format((int64_t)now, when, sizeof(when));
	fprintf(x->out, "%s threatctl export --format %s of %s (%s) at %s\n",
	    c, x->fmt == EXPORT_RPZ ? "rpz" : x->fmt == EXPORT_NFT ? "nft" :
	    "domains", db_path, feed ? feed : "all feeds", when);
	fprintf(x->out, "%s entries that an allow entry overrides are left "
	    "out; expired entries too\n", c);
	if (x->fmt == EXPORT_DOMAINS)
		fprintf(x->out, "# a name covers its subdomains; \"*.name\" "
		    "only the subdomains; allow entries are not listed\n");
	if (x->fmt == EXPORT_NFT)
		fprintf(x->out, "# apply with: nft -f FILE (one transaction)\n");
	if (x->fmt != EXPORT_RPZ)
		return;
	fprintf(x->out, "$ORIGIN %s.\n$TTL %d\n"
	    "@ SOA localhost. hostmaster.localhost. %lu 3600 600 86400 60\n"
	    "@ NS localhost.\n", origin, EXPORT_RPZ_TTL,
	    (unsigned long)((uint64_t)now & 0xffffffffu));
}

/* Parse --origin and --table; \return 0 or an exit code. */
static int
export_names(const char *origin_in, const char *table, char *origin,
    size_t size)
{
	char norm[EXPORT_NAME_TEXT];
	const char *why = NULL;

	if (origin_in != NULL && (feed_name_normalise(origin_in,
	    strlen(origin_in), norm, &why) != 0 || norm[0] == '\0'))
		return tctl_usage_err("export: bad --origin '%s': %s",
		    origin_in, why ? why : "the root cannot be an RPZ zone");
	if (tctl_zone_name(origin_in ? norm : EXPORT_DEFAULT_ORIGIN, origin,
	    size) != 0)
		return tctl_usage_err("export: --origin too long");
	if (table != NULL) {
		size_t len = strlen(table);
		bool ok = len > 0 && len <= EXPORT_MAX_TABLE &&
		    ((table[0] >= 'a' && table[0] <= 'z') ||
		    (table[0] >= 'A' && table[0] <= 'Z'));

		for (size_t i = 0; ok && i < len; i++)
			ok = strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", table[i]) !=
			    NULL;
		if (!ok)
			return tctl_usage_err("export: bad --table '%s' (a letter, "
			    "then letters, digits or '_', at most %d)", table,
			    EXPORT_MAX_TABLE);
	}
	return 0;
}

static int
export_args(int argc, char **argv, enum export_format *fmt,
    const char **feed, const char **origin, const char **table)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "feed", required_argument, NULL, 'F' },
		{ "origin", required_argument, NULL, 'o' },
		{ "table", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_fmt = false;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			have_fmt = true;
			if (strcmp(optarg, "rpz") == 0)
				*fmt = EXPORT_RPZ;
			else if (strcmp(optarg, "nft") == 0)
				*fmt = EXPORT_NFT;
			else if (strcmp(optarg, "domains") == 0)
				*fmt = EXPORT_DOMAINS;
			else
				return tctl_usage_err("export: unknown format "
				    "'%s' (rpz, nft or domains)", optarg);
			break;
		case 'F':
			*feed = optarg;
			break;
		case 'o':
			*origin = optarg;
			break;
		case 't':
			*table = optarg;
			break;
		default:
			return tctl_usage_err("export: %s '%s'", opt == ':' ?
			    "missing value for" : "unknown option",
			    argv[optind - 1]);
		}
	}
	if (!have_fmt)
		return tctl_usage_err("export: --format is required");
	if (optind != argc)
		return tctl_usage_err("export: unexpected argument '%s'",
		    argv[optind]);
	if (*origin != NULL && *fmt != EXPORT_RPZ)
		return tctl_usage_err("export: --origin is for --format rpz");
	if (*table != NULL && *fmt != EXPORT_NFT)
		return tctl_usage_err("export: --table is for --format nft");
	return 0;
}

int
tctl_export(const char *db_path, int argc, char **argv)
{
	struct export x = { .out = stdout };
	const char *feed = NULL, *origin_in = NULL, *table = NULL;
	char origin[EXPORT_ZONE_TEXT];
	struct tdb_feed_info fi;
	time_t now = time(NULL);
	struct tdb *db;
	int r, ret;

	if ((ret = export_args(argc, argv, &x.fmt, &feed, &origin_in,
	    &table)) != 0 ||
	    (ret = export_names(origin_in, table, origin, sizeof(origin))) != 0)
		return ret;
	if ((x.stack = calloc(TDB_MAX_NAME, sizeof(*x.stack))) == NULL) {
		tctl_err("export: %s", strerror(ENOMEM));
		return TCTL_FAIL;
	}
	if ((ret = tctl_open(&db, db_path, false)) != TCTL_OK) {
		free(x.stack);
		return ret;
	}
	/* an unknown feed is an error before anything is written */
	if (feed == NULL || (r = tdb_feed_get(db, feed, &fi)) == 0) {
		export_header(&x, db_path, feed, origin, now);
		r = tdb_export(db, feed, now, export_record, &x);
	}
	if (r == 0 && (r = name_flush(&x)) == 0)
		r = prefix_flush(&x);
	if (r == 0 && x.fmt == EXPORT_NFT)
		r = nft_write(&x, table ? table : EXPORT_DEFAULT_TABLE);
	if ((r == -ENOENT || r == -EINVAL) && feed != NULL)
		tctl_err("%s: no feed named '%s'", db_path, feed);
	else if (r != 0)
		tctl_err("%s: export: %s", db_path, tctl_strerror(r));
	else {
		const char *c = x.fmt == EXPORT_RPZ ? ";" : "#";

		fprintf(x.out, "%s %llu %s written, %llu entries left out "
		    "(overridden by allow entries)\n", c,
		    (unsigned long long)x.written, x.fmt == EXPORT_NFT ?
		    "prefixes" : x.fmt == EXPORT_RPZ ? "records" : "names",
		    (unsigned long long)x.shadowed);
		if (x.unexpressible > 0)
			tctl_err("export: %llu entries for the root name itself "
			    "cannot be written as RPZ triggers: left out",
			    (unsigned long long)x.unexpressible);
	}
	for (int f = 0; f < 2; f++) {
		free(x.block[f].v);
		free(x.allow[f].v);
	}
	free(x.stack);
	tdb_close(db);
	return r == 0 ? TCTL_OK : TCTL_FAIL;
}
