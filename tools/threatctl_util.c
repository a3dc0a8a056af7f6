/* threatctl_util.c -- threatctl's pure helpers: durations, names of things,
 * RPZ owners, address ranges (no I/O, unit-tested alone) */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "threatdb/feeds/feed.h"
#include "tools/threatctl.h"

/* 9999-12-31T23:59:59Z, as feed_time_parse() caps */
#define MAX_SECS	253402300799LL

int
tctl_duration_parse(const char *s, int64_t *secs)
{
	int64_t total = 0, v, unit;
	bool any = false;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (v = 0; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (*s - '0');
			if (v > MAX_SECS)
				return -EINVAL;
		}
		switch (*s++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -EINVAL;	/* also a bare number */
		}
		if (v > (MAX_SECS - total) / unit)
			return -EINVAL;
		total += v * unit;
		any = true;
	}
	if (!any || total == 0)
		return -EINVAL;
	*secs = total;
	return 0;
}

int
tctl_expires_parse(const char *s, int64_t now, int64_t *out)
{
	int64_t v;
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0)
		return -EINVAL;
	if (tctl_duration_parse(s, &v) == 0) {
		if (v > MAX_SECS - now)
			return -EINVAL;
		*out = now + v;
		return 0;
	}
	/* feed_time_parse() also takes unix seconds: refuse a bare number,
	 * "30" is more likely a forgotten unit than 1970-01-01T00:00:30Z. */
	if (strspn(s, "0123456789") == len)
		return -EINVAL;
	if (feed_time_parse(s, len, &v) != 0 || v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static const char *const action_names[] = {
	[TDB_ACTION_NONE] = "none",
	[TDB_ACTION_BLOCK] = "block",
	[TDB_ACTION_REDIRECT] = "redirect",
	[TDB_ACTION_LOG] = "log",
	[TDB_ACTION_NXDOMAIN] = "nxdomain",
	[TDB_ACTION_NODATA] = "nodata",
	[TDB_ACTION_DROP] = "drop",
};

int
tctl_action_parse(const char *s, enum tdb_action *out)
{
	if (s == NULL)
		return -EINVAL;
	for (int i = 0; i <= TDB_ACTION_MAX; i++)
		if (strcasecmp(s, action_names[i]) == 0) {
			*out = (enum tdb_action)i;
			return 0;
		}
	return -EINVAL;
}

const char *
tctl_action_name(enum tdb_action a)
{
	if ((unsigned)a > TDB_ACTION_MAX)
		return "?";
	return action_names[a];
}

int
tctl_category_parse(const char *s, char *out)
{
	size_t len;
	char buf[TDB_MAX_CATEGORY + 1];

	if (s == NULL || (len = strlen(s)) == 0 || len > TDB_MAX_CATEGORY)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-'))
			return -EINVAL;
		buf[i] = ch;
	}
	buf[len] = '\0';
	memcpy(out, buf, len + 1);
	return 0;
}

int
tctl_feed_name_check(const char *s)
{
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0 || len > TDB_MAX_FEED)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return -EINVAL;
	return 0;
}

void
tctl_time_format(int64_t t, char *out, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, size, t == 0 ? "never" : "%lld", (long long)t);
		return;
	}
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
tctl_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
tctl_zone_name(const char *name, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = name; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		bool plain = (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.';

		if (o + (plain ? 1 : 4) + 1 > size)
			return -ENOSPC;
		if (plain)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, size - o, "\\%03u", ch);
	}
	if (size == 0)
		return -ENOSPC;
	out[o] = '\0';
	return 0;
}

/* The longest run of at least two zero groups of a v6 prefix's groups
 * [0, ng): *at and the length (0 if none). */
static size_t
zero_run(const uint16_t *g, size_t ng, size_t *at)
{
	size_t best = 0, i = 0;

	while (i < ng) {
		size_t j = i;

		while (j < ng && g[j] == 0)
			j++;
		if (j - i > best) {
			best = j - i;
			*at = i;
		}
		i = j > i ? j : i + 1;
	}
	return best >= 2 ? best : 0;
}

int
tctl_rpz_ip_owner(const struct tdb_entry *e, char *out, size_t size)
{
	uint16_t g[8];
	size_t o, run, at = 0;
	int n;

	if (!e->is_prefix)
		return -EINVAL;
	if (e->family == AF_INET) {
		n = snprintf(out, size, "%u.%u.%u.%u.%u.rpz-ip", e->plen,
		    e->addr[3], e->addr[2], e->addr[1], e->addr[0]);
		return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
	}
	if (e->family != AF_INET6)
		return -EINVAL;
	for (size_t i = 0; i < 8; i++)
		g[i] = (uint16_t)(e->addr[2 * i] << 8 | e->addr[2 * i + 1]);
	run = zero_run(g, 8, &at);
	if ((n = snprintf(out, size, "%u", e->plen)) < 0 || (size_t)n >= size)
		return -ENOSPC;
	o = (size_t)n;
	/* Groups from the last to the first; the zero run as one "zz". */
	for (size_t k = 8; k-- > 0;) {
		if (run != 0 && k >= at && k < at + run) {
			if (k != at)
				continue;
			n = snprintf(out + o, size - o, ".zz");
		} else
			n = snprintf(out + o, size - o, ".%x", g[k]);
		if (n < 0 || (size_t)n >= size - o)
			return -ENOSPC;
		o += (size_t)n;
	}
	if ((n = snprintf(out + o, size - o, ".rpz-ip")) < 0 ||
	    (size_t)n >= size - o)
		return -ENOSPC;
	return 0;
}

/* ---- address ranges (export --format nft) ---- */

struct tctl_range
tctl_prefix_range(int family, const uint8_t *addr, unsigned plen)
{
	unsigned bits = family == AF_INET ? 32 : 128;
	unsigned __int128 v = 0, host;

	for (unsigned i = 0; i < bits / 8; i++)
		v = v << 8 | addr[i];
	if (plen > bits)
		plen = bits;
	host = plen == 0 ? (bits == 128 ? ~(unsigned __int128)0 :
	    (((unsigned __int128)1 << bits) - 1)) :
	    (((unsigned __int128)1 << (bits - plen)) - 1);
	return (struct tctl_range){ .lo = v & ~host, .hi = (v & ~host) | host };
}

static int
range_cmp(const void *a, const void *b)
{
	const struct tctl_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

size_t
tctl_ranges_merge(struct tctl_range *r, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (size_t i = 1; i < n; i++) {
		/* overlapping or adjacent (hi + 1 cannot wrap unless hi is
		 * the last address, and then everything after is inside) */
		if (r[i].lo <= r[o].hi || r[i].lo - 1 == r[o].hi) {
			if (r[i].hi > r[o].hi)
				r[o].hi = r[i].hi;
		} else
			r[++o] = r[i];
	}
	return o + 1;
}

size_t
tctl_ranges_subtract(const struct tctl_range *r, size_t n,
    const struct tctl_range *sub, size_t nsub, struct tctl_range *out)
{
	size_t o = 0, j = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned __int128 lo = r[i].lo;
		bool open = true;

		while (j < nsub && sub[j].hi < lo)
			j++;
		for (size_t k = j; k < nsub && sub[k].lo <= r[i].hi; k++) {
			if (sub[k].lo > lo)
				out[o++] = (struct tctl_range){ lo, sub[k].lo - 1 };
			if (sub[k].hi >= r[i].hi) {
				open = false;
				break;
			}
			lo = sub[k].hi + 1;
		}
		if (open)
			out[o++] = (struct tctl_range){ lo, r[i].hi };
	}
	return o;
}

unsigned
tctl_range_next_prefix(struct tctl_range *r, unsigned bits,
    unsigned __int128 *start, bool *more)
{
	unsigned host = 0;

	/* Grow the block while it stays aligned at lo and inside [lo, hi]. */
	while (host < bits) {
		unsigned __int128 size = (unsigned __int128)1 << host;	/* 2^host */
		unsigned __int128 bigger_last;

		if (host + 1 == 128) {
			/* 2^128 does not fit: only ::/0 is bigger */
			if (r->lo == 0 && r->hi == ~(unsigned __int128)0)
				host = 128;
			break;
		}
		if (r->lo & size)	/* not aligned for 2^(host+1) */
			break;
		bigger_last = r->lo + (size << 1) - 1;
		if (bigger_last > r->hi || bigger_last < r->lo)
			break;
		host++;
	}
	*start = r->lo;
	if (host == bits || ((r->lo + (((unsigned __int128)1 << host) - 1)) ==
	    r->hi)) {
		*more = false;
	} else {
		r->lo += (unsigned __int128)1 << host;
		*more = true;
	}
	return bits - host;
}
