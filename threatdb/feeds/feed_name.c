/* feed_name.c -- names and prefixes as feeds write them, checked and
 * normalised into tdb entries */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "threatdb/feeds/feed.h"
#include "threatdb/feeds/feed_impl.h"

#define MAX_NAME_TEXT	253	/* presentation, no trailing dot */
#define MAX_LABEL	63

static const char reason_idn[] =
    "non-ASCII name: give IDN names as A-labels (xn--...)";
static const char reason_broad[] =
    "covers a top-level domain: needs --allow-broad";

static bool
is_label_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

/* Check one label of len bytes at s; \return NULL or a reason. */
static const char *
label_check(const char *s, size_t len)
{
	if (len == 0)
		return "empty label";
	if (len > MAX_LABEL)
		return "label longer than 63 octets";
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '*')
			return "wildcard '*' is only allowed as \"*.\" "
			    "at the start";
		if (!is_label_char((unsigned char)s[i]))
			return "not a domain name";
	}
	return NULL;
}

static bool
all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

int
feed_name_normalise(const char *in, size_t len, char *out, const char **why)
{
	const char *reason, *label;
	size_t i;

	if (len > 0 && in[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80) {
			*why = reason_idn;
			return -EINVAL;
		}
	if (len > MAX_NAME_TEXT) {
		*why = "name longer than 253 characters";
		return -EINVAL;
	}
	label = in;
	for (i = 0; i <= len; i++) {
		if (len == 0)
			break;
		if (i < len && in[i] != '.')
			continue;
		if ((reason = label_check(label, (size_t)(in + i - label)))) {
			*why = reason;
			return -EINVAL;
		}
		if (i == len && all_digits(label, (size_t)(in + i - label))) {
			*why = "not a domain name (numeric top-level label)";
			return -EINVAL;
		}
		label = in + i + 1;
	}
	for (i = 0; i < len; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' :
		    in[i];
	out[len] = '\0';
	return 0;
}

bool
feed_name_is_broad(const char *name)
{
	return strchr(name, '.') == NULL;
}

int
feed_name_entry(const struct feed_opts *o, const char *s, size_t len,
    enum tdb_scope def, struct tdb_entry *e, struct feed_why *w)
{
	const char *why;
	bool below = false;

	memset(e, 0, sizeof(*e));
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		below = true;
		s += 2;
		len -= 2;
	} else if (len == 1 && s[0] == '*') {
		below = true;	/* "*": everything below the root */
		len = 0;
	}
	if (feed_name_normalise(s, len, e->name, &why) != 0) {
		snprintf(w->text, sizeof(w->text), "%s", why);
		return -EINVAL;
	}
	if (!o->allow_broad && feed_name_is_broad(e->name)) {
		snprintf(w->text, sizeof(w->text), "%s", reason_broad);
		return -EINVAL;
	}
	e->scope = below ? TDB_BELOW : o->scope ? o->scope : def;
	return 0;
}

/* ---- prefixes ---- */

bool
feed_looks_like_address(const char *s, size_t len)
{
	bool dot_or_slash = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ':')
			return true;
		if (s[i] == '.' || s[i] == '/')
			dot_or_slash = true;
		else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return dot_or_slash;
}

int
feed_prefix_check(const struct feed_opts *o, struct tdb_entry *e,
    struct feed_why *w)
{
	unsigned bits = e->family == AF_INET ? 32 : 128;

	if (e->plen > bits) {
		snprintf(w->text, sizeof(w->text),
		    "bad prefix length %u (0..%u)", e->plen, bits);
		return -EINVAL;
	}
	for (unsigned b = e->plen; b < bits; b++)
		if (e->addr[b / 8] & (0x80 >> (b % 8))) {
			snprintf(w->text, sizeof(w->text),
			    "host bits set beyond /%u", e->plen);
			return -EINVAL;
		}
	if (e->plen == 0 && !o->allow_broad) {
		snprintf(w->text, sizeof(w->text),
		    "covers every address: needs --allow-broad");
		return -EINVAL;
	}
	return 0;
}

/* "/len": 1..3 digits, at most max. \return the length or -1 */
static int
plen_parse(const char *s, size_t len, unsigned max)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || !all_digits(s, len))
		return -1;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v <= max ? (int)v : -1;
}

int
feed_prefix_entry(const struct feed_opts *o, const char *s, size_t len,
    struct tdb_entry *e, struct feed_why *w)
{
	char addr[INET6_ADDRSTRLEN + 8], q[64];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	int plen;

	memset(e, 0, sizeof(*e));
	e->is_prefix = true;
	feed_quote(q, sizeof(q), s, len);
	if (alen >= sizeof(addr))
		goto bad;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, e->addr) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, e->addr) == 1)
		e->family = AF_INET6;
	else
		goto bad;
	e->plen = e->family == AF_INET ? 32 : 128;
	if (slash) {
		if ((plen = plen_parse(slash + 1, len - alen - 1, e->plen)) < 0) {
			feed_quote(q, sizeof(q), slash + 1, len - alen - 1);
			snprintf(w->text, sizeof(w->text),
			    "bad prefix length %s (0..%u)", q, e->plen);
			return -EINVAL;
		}
		e->plen = (uint8_t)plen;
	}
	return feed_prefix_check(o, e, w);
bad:
	snprintf(w->text, sizeof(w->text), "not an address or prefix: %s", q);
	return -EINVAL;
}
