/* feed_text.c -- the line formats: plain domains, hosts files, AdBlock-style
 * rules and CIDR lists */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "threatdb/feeds/feed.h"
#include "threatdb/feeds/feed_impl.h"

typedef int line_fn(struct feed_ctx *c, unsigned long line, const char *s,
    size_t len);

/* The names of a hosts file's own lines ("127.0.0.1 localhost"), skipped
 * without a word. */
static const char *const hosts_classic[] = {
	"localhost", "localhost.localdomain", "local", "broadcasthost",
	"ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix",
	"ip6-allnodes", "ip6-allrouters", "ip6-allhosts", "0.0.0.0",
};

static const char unsupported_adblock[] = "unsupported AdBlock syntax";

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Cut s at a '#' and trim. */
static void
strip_hash_comment(const char **s, size_t *len)
{
	const char *hash = memchr(*s, '#', *len);

	if (hash)
		*len = (size_t)(hash - *s);
	feed_trim(s, len);
}

/* Length of the first blank-separated word of s. */
static size_t
word_len(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && !is_blank(s[n]))
		n++;
	return n;
}

static int
name_line(struct feed_ctx *c, unsigned long line, const char *s, size_t len,
    enum tdb_scope def, bool allow)
{
	struct tdb_entry e;
	struct feed_why w;

	if (feed_name_entry(c->o, s, len, def, &e, &w) != 0) {
		feed_bad(c, line, "%s", w.text);
		return 0;
	}
	e.allow = allow;
	return feed_emit(c, &e);
}

static int
domains_line(struct feed_ctx *c, unsigned long line, const char *s,
    size_t len)
{
	strip_hash_comment(&s, &len);
	if (len == 0)
		return 0;
	if (word_len(s, len) != len) {
		feed_bad(c, line, "unexpected text after the name");
		return 0;
	}
	return name_line(c, line, s, len, TDB_SUBTREE, false);
}

static bool
hosts_is_classic(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(hosts_classic) / sizeof(*hosts_classic);
	    i++)
		if (strlen(hosts_classic[i]) == len &&
		    strncasecmp(hosts_classic[i], s, len) == 0)
			return true;
	return false;
}

static bool
is_address(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, a) == 1 ||
	    inet_pton(AF_INET6, buf, a) == 1;
}

static int
hosts_line(struct feed_ctx *c, unsigned long line, const char *s, size_t len)
{
	char q[64];
	size_t n;
	int r;

	strip_hash_comment(&s, &len);
	if (len == 0)
		return 0;
	n = word_len(s, len);
	if (!is_address(s, n)) {
		feed_quote(q, sizeof(q), s, n);
		feed_bad(c, line, "not an address: %s", q);
		return 0;
	}
	s += n;
	len -= n;
	feed_trim(&s, &len);
	if (len == 0) {
		feed_bad(c, line, "no name after the address");
		return 0;
	}
	while (len > 0) {
		n = word_len(s, len);
		if (!hosts_is_classic(s, n) &&
		    (r = name_line(c, line, s, n, TDB_EXACT, false)) < 0)
			return r;
		s += n;
		len -= n;
		feed_trim(&s, &len);
	}
	return 0;
}

/* Only "||name^" and "@@||name^" are understood: everything else in the
 * AdBlock language matches URLs or page elements, not names. */
static int
adblock_line(struct feed_ctx *c, unsigned long line, const char *s,
    size_t len)
{
	const char *caret;
	bool allow = false;
	char q[64];

	feed_trim(&s, &len);
	if (len == 0 || s[0] == '!' || (s[0] == '[' && s[len - 1] == ']'))
		return 0;
	if (s[0] == '#') {
		if (len >= 2 && strchr("#@?$%", s[1]) != NULL)
			goto unsupported;
		return 0;
	}
	if (len >= 2 && s[0] == '@' && s[1] == '@') {
		allow = true;
		s += 2;
		len -= 2;
	}
	if (len < 2 || s[0] != '|' || s[1] != '|' ||
	    (caret = memchr(s, '^', len)) == NULL)
		goto unsupported;
	for (const char *p = s + 2; p < caret; p++)
		if (!((unsigned char)*p >= 0x80 || *p == '.' || *p == '*' ||
		    *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			goto unsupported;
	if (caret + 1 < s + len) {
		if (caret[1] != '$')
			goto unsupported;
		feed_quote(q, sizeof(q), caret + 1,
		    (size_t)(s + len - caret - 1));
		feed_bad(c, line, "unsupported AdBlock option %s", q);
		return 0;
	}
	if (caret == s + 2) {
		feed_bad(c, line, "empty name");
		return 0;
	}
	return name_line(c, line, s + 2, (size_t)(caret - s - 2), TDB_SUBTREE,
	    allow);
unsupported:
	feed_bad(c, line, unsupported_adblock);
	return 0;
}

static int
cidr_line(struct feed_ctx *c, unsigned long line, const char *s, size_t len)
{
	struct tdb_entry e;
	struct feed_why w;

	strip_hash_comment(&s, &len);
	if (len == 0)
		return 0;
	if (word_len(s, len) != len) {
		feed_bad(c, line, "unexpected text after the prefix");
		return 0;
	}
	if (feed_prefix_entry(c->o, s, len, &e, &w) != 0) {
		feed_bad(c, line, "%s", w.text);
		return 0;
	}
	return feed_emit(c, &e);
}

int
feed_parse_text(struct feed_ctx *c, FILE *f)
{
	struct feed_reader rd;
	line_fn *fn;
	int r;

	switch (c->o->format) {
	case FEED_DOMAINS:
		fn = domains_line;
		break;
	case FEED_HOSTS:
		fn = hosts_line;
		break;
	case FEED_ADBLOCK:
		fn = adblock_line;
		break;
	case FEED_CIDR:
		fn = cidr_line;
		break;
	default:
		return -EINVAL;
	}
	feed_reader_init(&rd, f);
	while ((r = feed_reader_next(&rd)) > 0) {
		c->st->lines = rd.lineno;
		if (feed_reader_bad(c, &rd))
			continue;
		if ((r = fn(c, rd.lineno, rd.buf, rd.len)) < 0)
			return r;
	}
	return r;
}
