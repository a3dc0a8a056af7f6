/* feed_csv.c -- CSV feeds: indicator,category[,severity[,expires]] */
#include "autoconf.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "threatdb/feeds/feed.h"
#include "threatdb/feeds/feed_impl.h"

#define CSV_FIELDS	4
#define MAX_SEVERITY	10
#define MAX_UNIX	253402300799LL	/* 9999-12-31T23:59:59Z */

static const char csv_shape[] = "indicator,category[,severity[,expires]]";

struct field {
	char *s;
	size_t len;
};

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s. \return the value or -1 */
static int64_t
digits(const char *s, size_t n)
{
	int64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool
date_valid(int64_t y, int64_t m, int64_t d)
{
	static const unsigned char mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* "HH:MM:SS[.frac](Z|z)" at s. \return seconds of the day or -1 */
static int64_t
time_of_day(const char *s, size_t len)
{
	int64_t h, mi, sec;
	size_t i = 8;

	if (len < 9 || s[2] != ':' || s[5] != ':')
		return -1;
	if ((h = digits(s, 2)) < 0 || (mi = digits(s + 3, 2)) < 0 ||
	    (sec = digits(s + 6, 2)) < 0 || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 9)
			return -1;
	}
	if (i + 1 != len || (s[i] != 'Z' && s[i] != 'z'))
		return -1;
	/* A leap second counts as the next second. */
	return h * 3600 + mi * 60 + sec;
}

int
feed_time_parse(const char *in, size_t len, int64_t *out)
{
	int64_t y, m, d, t = 0, v;

	if (len == 0)
		return -EINVAL;
	if (len <= 12 && (v = digits(in, len)) >= 0) {
		if (v > MAX_UNIX)
			return -EINVAL;
		*out = v;
		return 0;
	}
	if (len < 10 || in[4] != '-' || in[7] != '-')
		return -EINVAL;
	if ((y = digits(in, 4)) < 0 || (m = digits(in + 5, 2)) < 0 ||
	    (d = digits(in + 8, 2)) < 0 || !date_valid(y, m, d))
		return -EINVAL;
	if (len > 10) {
		if (in[10] != 'T' && in[10] != 't')
			return -EINVAL;
		if ((t = time_of_day(in + 11, len - 11)) < 0)
			return -EINVAL;
	}
	*out = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + t;
	return 0;
}

/* ---- fields ---- */

/* Split line into up to CSV_FIELDS fields, unquoting "..." ("" is a
 * quote) in place.  \return the number of fields, or -1 with *why set. */
static int
csv_split(char *line, size_t len, struct field *f, const char **why)
{
	size_t pos = 0, w, start;
	int n = 0;

	for (;;) {
		if (n == CSV_FIELDS) {
			*why = "too many fields";
			return -1;
		}
		while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
			pos++;
		if (pos < len && line[pos] == '"') {
			start = w = ++pos;
			for (;;) {
				if (pos >= len) {
					*why = "unterminated quoted field";
					return -1;
				}
				if (line[pos] == '"') {
					if (pos + 1 < len && line[pos + 1] == '"') {
						line[w++] = '"';
						pos += 2;
						continue;
					}
					pos++;
					break;
				}
				line[w++] = line[pos++];
			}
			f[n].s = line + start;
			f[n].len = w - start;
			while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
				pos++;
			if (pos < len && line[pos] != ',') {
				*why = "text after a quoted field";
				return -1;
			}
		} else {
			const char *s = line + pos;
			size_t flen;

			start = pos;
			while (pos < len && line[pos] != ',')
				pos++;
			flen = pos - start;
			feed_trim(&s, &flen);
			f[n].s = line + (s - line);
			f[n].len = flen;
		}
		n++;
		if (pos >= len)
			return n;
		pos++;	/* the comma */
	}
}

/* ---- one line ---- */

static int
check_category(struct field *f, struct tdb_entry *e)
{
	if (f->len > TDB_MAX_CATEGORY)
		return -EINVAL;
	for (size_t i = 0; i < f->len; i++) {
		char ch = f->s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-'))
			return -EINVAL;
		e->category[i] = ch;
	}
	e->category[f->len] = '\0';
	return 0;
}

static int
check_severity(struct field *f, struct tdb_entry *e)
{
	int64_t v;

	if (f->len == 0)
		return 0;
	if (f->len > 2 || (v = digits(f->s, f->len)) < 0 || v > MAX_SEVERITY)
		return -EINVAL;
	e->severity = (uint8_t)v;
	return 0;
}

static int
csv_line(struct feed_ctx *c, unsigned long line, char *s, size_t len)
{
	struct field f[CSV_FIELDS] = { { NULL, 0 } };
	struct tdb_entry e;
	struct feed_why w;
	const char *why = "malformed field";
	char q[64];
	int n, r;

	if ((n = csv_split(s, len, f, &why)) < 0) {
		feed_bad(c, line, "%s (expected %s)", why, csv_shape);
		return 0;
	}
	if (n < 2) {
		feed_bad(c, line, "expected %s", csv_shape);
		return 0;
	}
	if (f[0].len == 9 && strncasecmp(f[0].s, "indicator", 9) == 0)
		return 0;	/* the header */
	if (feed_looks_like_address(f[0].s, f[0].len))
		r = feed_prefix_entry(c->o, f[0].s, f[0].len, &e, &w);
	else
		r = feed_name_entry(c->o, f[0].s, f[0].len, TDB_SUBTREE, &e, &w);
	if (r != 0) {
		feed_bad(c, line, "%s", w.text);
		return 0;
	}
	if (check_category(&f[1], &e) != 0) {
		feed_quote(q, sizeof(q), f[1].s, f[1].len);
		feed_bad(c, line, "bad category %s ([a-z0-9-], at most %d)", q,
		    TDB_MAX_CATEGORY);
		return 0;
	}
	if (n > 2 && check_severity(&f[2], &e) != 0) {
		feed_quote(q, sizeof(q), f[2].s, f[2].len);
		feed_bad(c, line, "bad severity %s (0..%d)", q, MAX_SEVERITY);
		return 0;
	}
	if (n > 3 && f[3].len > 0 &&
	    feed_time_parse(f[3].s, f[3].len, &e.expires) != 0) {
		feed_quote(q, sizeof(q), f[3].s, f[3].len);
		feed_bad(c, line, "bad expiry %s (RFC 3339 UTC, YYYY-MM-DD or "
		    "unix seconds)", q);
		return 0;
	}
	return feed_emit(c, &e);
}

int
feed_parse_csv(struct feed_ctx *c, FILE *f)
{
	struct feed_reader rd;
	const char *s;
	size_t len;
	int r;

	feed_reader_init(&rd, f);
	while ((r = feed_reader_next(&rd)) > 0) {
		c->st->lines = rd.lineno;
		if (feed_reader_bad(c, &rd))
			continue;
		s = rd.buf;
		len = rd.len;
		feed_trim(&s, &len);
		if (len == 0 || s[0] == '#')
			continue;
		if ((r = csv_line(c, rd.lineno, rd.buf + (s - rd.buf), len)) < 0)
			return r;
	}
	return r;
}
