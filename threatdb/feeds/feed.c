/* feed.c -- feed_parse(): dispatch by format, the line reader, reporting */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "threatdb/feeds/feed.h"
#include "threatdb/feeds/feed_impl.h"

static const char *const format_names[FEED_NFORMATS] = {
	[FEED_DOMAINS] = "domains",
	[FEED_HOSTS] = "hosts",
	[FEED_ADBLOCK] = "adblock",
	[FEED_RPZ] = "rpz",
	[FEED_CIDR] = "cidr",
	[FEED_CSV] = "csv",
};

int
feed_format_parse(const char *name, enum feed_format *out)
{
	if (name == NULL || out == NULL)
		return -EINVAL;
	for (int i = 0; i < FEED_NFORMATS; i++)
		if (strcasecmp(name, format_names[i]) == 0) {
			*out = (enum feed_format)i;
			return 0;
		}
	return -EINVAL;
}

const char *
feed_format_name(enum feed_format f)
{
	if ((unsigned)f >= FEED_NFORMATS)
		return "?";
	return format_names[f];
}

int
feed_parse(FILE *f, const char *file, const struct feed_opts *o,
    feed_emit_fn *emit, feed_report_fn *report, void *arg,
    struct feed_stats *st)
{
	struct feed_stats dummy;
	struct feed_ctx c;

	if (f == NULL || o == NULL || emit == NULL || report == NULL ||
	    (unsigned)o->format >= FEED_NFORMATS)
		return -EINVAL;
	if (o->scope != 0 && o->scope != TDB_EXACT &&
	    o->scope != TDB_BELOW && o->scope != TDB_SUBTREE)
		return -EINVAL;
	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	c = (struct feed_ctx){
		.file = file ? file : "-",
		.o = o,
		.emit = emit,
		.report = report,
		.arg = arg,
		.st = st,
	};
	switch (o->format) {
	case FEED_RPZ:
		return feed_parse_rpz(&c, f);
	case FEED_CSV:
		return feed_parse_csv(&c, f);
	default:
		return feed_parse_text(&c, f);
	}
}

/* ---- reporting ---- */

void
feed_bad(struct feed_ctx *c, unsigned long line, const char *fmt, ...)
{
	char reason[FEED_MAX_REASON];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	c->st->bad++;
	c->report(c->arg, c->file, line, reason);
}

int
feed_emit(struct feed_ctx *c, const struct tdb_entry *e)
{
	int r;

	if ((r = c->emit(c->arg, e)) < 0)
		return r;
	c->st->entries++;
	return 0;
}

void
feed_quote(char *out, size_t size, const char *s, size_t len)
{
	size_t o = 0;

	if (size < 8) {
		if (size > 0)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* room for \xNN, "...\"" and the NUL */
		if (o + 4 + 5 > size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o++] = '"';
	out[o] = '\0';
}

void
feed_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* ---- the line reader ---- */

void
feed_reader_init(struct feed_reader *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
}

int
feed_reader_next(struct feed_reader *r)
{
	size_t n = 0;
	bool any = false;
	int ch;

	r->too_long = false;
	r->has_nul = false;
	/* Keep one byte more than the limit, so that a CR before the LF of
	 * a line of exactly FEED_MAX_LINE bytes still fits. */
	while ((ch = getc_unlocked(r->f)) != EOF) {
		any = true;
		if (ch == '\n')
			break;
		if (ch == '\0')
			r->has_nul = true;
		if (n < FEED_MAX_LINE + 1)
			r->buf[n++] = (char)ch;
		else
			r->too_long = true;
	}
	if (ferror(r->f))
		return -EIO;
	if (!any)
		return 0;
	r->lineno++;
	if (!r->too_long && n > 0 && r->buf[n - 1] == '\r')
		n--;
	if (n > FEED_MAX_LINE)
		r->too_long = true;
	r->buf[n] = '\0';
	r->len = n;
	if (r->lineno == 1 && n >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) {
		memmove(r->buf, r->buf + 3, n - 3 + 1);
		r->len -= 3;
	}
	return 1;
}

bool
feed_reader_bad(struct feed_ctx *c, const struct feed_reader *r)
{
	if (r->too_long) {
		feed_bad(c, r->lineno, "line longer than %d bytes",
		    FEED_MAX_LINE);
		return true;
	}
	if (r->has_nul) {
		feed_bad(c, r->lineno, "NUL byte in line");
		return true;
	}
	return false;
}
