/* doh_http.c -- the HTTP side of DoH without I/O: targets, query strings, base64url, caching */
#include "autoconf.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "resolver/doh/doh_http.h"
#include "resolver/packet.h"

int
doh_target_parse(const char *target, size_t len, const char *path,
    struct doh_target *t)
{
	size_t plen = strlen(path), end;
	const char *q;

	memset(t, 0, sizeof(*t));
	if ((q = memchr(target, '?', len)) != NULL) {
		t->query = q + 1;
		t->query_len = len - (size_t)(q + 1 - target);
	}
	end = q ? (size_t)(q - target) : len;
	if (end < plen || memcmp(target, path, plen) != 0)
		return -ENOENT;
	if (end == plen)
		return 0;
	if (target[plen] != '/' || end == plen + 1)
		return -ENOENT;
	t->token = target + plen + 1;
	t->token_len = end - plen - 1;
	if (memchr(t->token, '/', t->token_len) != NULL)
		return -ENOENT;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode [s, s + n) into out; \return the length or -1. */
static long
pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			if ((hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
			if (c == 0)
				return -1;
		}
		if (o + 1 >= cap)
			return -2;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

int
doh_query_param(const char *qs, size_t len, const char *name, char *out,
    size_t cap, size_t *outlen)
{
	size_t nlen = strlen(name), i = 0;
	bool found = false;

	if (cap == 0)
		return -E2BIG;
	while (i <= len) {
		const char *p = qs + i, *amp = memchr(p, '&', len - i);
		size_t plen = amp ? (size_t)(amp - p) : len - i;

		if (plen > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
			long r;

			if (found)
				return -EINVAL;
			found = true;
			if ((r = pct_decode(p + nlen + 1, plen - nlen - 1, out, cap)) < 0)
				return r == -2 ? -E2BIG : -EINVAL;
			*outlen = (size_t)r;
		} else if (plen == nlen && memcmp(p, name, nlen) == 0) {
			if (found)	/* "name" without a value: empty */
				return -EINVAL;
			found = true;
			out[0] = '\0';
			*outlen = 0;
		}
		i += plen + 1;
	}
	return found ? 0 : -ENOENT;
}

static int
b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
doh_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (len % 4 == 1)	/* 6 bits cannot make a byte */
		return -EINVAL;
	if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > cap)
		return -E2BIG;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_val((unsigned char)in[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;	/* leftover bits must be zero */
	*outlen = o;
	return 0;
}

uint32_t
doh_cache_ttl(const uint8_t *ans, size_t len)
{
	size_t pos = pkt_rr_first(ans, len), an, ns;
	uint32_t ttl = UINT32_MAX;
	struct pkt_rr rr;

	/* a walk over the wire (no parse into objects: this runs for every
	 * answer): the answer section's smallest TTL; without answers, the
	 * authority's SOA: min(its TTL, MINIMUM) (RFC 2308 5) */
	if (pos == 0)
		return 0;
	an = (size_t)ans[6] << 8 | ans[7];
	ns = (size_t)ans[8] << 8 | ans[9];
	for (size_t i = 0; i < an + ns; i++) {
		uint32_t min;

		if ((pos = pkt_rr_next(ans, len, pos, &rr)) == 0)
			return 0;
		if (i < an) {
			if (rr.ttl < ttl)
				ttl = rr.ttl;
		} else if (an == 0 && rr.type == LDNS_RR_TYPE_SOA &&
		    rr.end - rr.rdata >= 22) {
			min = ldns_read_uint32(ans + rr.end - 4);
			return min < rr.ttl ? min : rr.ttl;
		}
	}
	return an > 0 ? ttl : 0;
}

bool
doh_accepts(const char *value, size_t len, const char *type)
{
	size_t tlen = strlen(type), i = 0;

	while (i < len) {
		const char *p = value + i, *comma = memchr(p, ',', len - i);
		size_t n = comma ? (size_t)(comma - p) : len - i;
		const char *semi = memchr(p, ';', n);
		size_t m = semi ? (size_t)(semi - p) : n;

		while (m && (*p == ' ' || *p == '\t'))
			p++, m--;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == tlen && strncasecmp(p, type, tlen) == 0)
			return true;
		i += n + 1;
	}
	return false;
}
