/* audit_fmt.c -- query records as JSON lines (pure: no I/O, no allocation) */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "resolver/audit.h"
#include "resolver/config.h"
#include "resolver/packet.h"

/* A bounded writer: every append checks the room left; once anything did
 * not fit, the whole line is refused. */
struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A JSON string value, or null for NULL/"". */
static void
put_str(struct out *o, const char *s)
{
	char esc[8];

	if (s == NULL || *s == '\0') {
		puts_(o, "null");
		return;
	}
	puts_(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, 6);
		} else
			put(o, (const char *)&c, 1);
	}
	puts_(o, "\"");
}

/* The qname: labels joined by dots, lower case; "." and "\" inside a label
 * in RFC 1035 form (\. and \\, which JSON doubles); other bytes outside
 * printable ASCII as \u00XX. */
static void
put_qname(struct out *o, const uint8_t *name, size_t len)
{
	size_t i = 0;
	char esc[8];

	if (len == 0) {
		puts_(o, "null");
		return;
	}
	puts_(o, "\"");
	if (len == 1 && name[0] == 0)
		puts_(o, ".");
	while (i < len && name[i] != 0) {
		size_t l = name[i++];

		if (l > 63 || i + l > len)
			break;		/* records hold checked names: cannot happen */
		if (i > 1)
			puts_(o, ".");
		for (size_t j = 0; j < l; j++, i++) {
			unsigned char c = name[i];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c == '.')
				puts_(o, "\\\\.");
			else if (c == '\\')
				puts_(o, "\\\\\\\\");
			else if (c == '"')
				puts_(o, "\\\"");
			else if (c < 0x21 || c >= 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				put(o, esc, 6);
			} else
				put(o, (const char *)&c, 1);
		}
	}
	puts_(o, "\"");
}

static void
put_ts(struct out *o, const struct timespec *ts)
{
	struct tm tm;
	char b[80];

	gmtime_r(&ts->tv_sec, &tm);
	snprintf(b, sizeof(b), "\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts->tv_nsec / 1000000);
	puts_(o, b);
}

int
audit_hmac_hex(const uint8_t *key, size_t keylen, const uint8_t *data,
    size_t len, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen) == NULL ||
	    mdlen < 16)
		return -EIO;
	for (size_t i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

size_t
audit_client_text(const struct audit_record *r, const struct audit_fmt *f,
    char *out, size_t cap)
{
	uint8_t a[16];
	char text[INET6_ADDRSTRLEN];
	size_t alen = r->family == AF_INET ? 4 : 16;
	int n;

	if (r->family != AF_INET && r->family != AF_INET6)
		return 0;
	memcpy(a, r->addr, alen);
	switch (f->client) {
	case AUDIT_ADDR_HASH:
		if (cap < 33 || f->key == NULL ||
		    audit_hmac_hex(f->key, f->keylen, a, alen, out) != 0)
			return 0;
		return 32;
	case AUDIT_ADDR_TRUNCATE:
		if (r->family == AF_INET)
			a[3] = 0;
		else
			memset(a + 7, 0, 9);	/* /56: 7 whole bytes kept */
		inet_ntop(r->family, a, text, sizeof(text));
		n = snprintf(out, cap, "%s/%d", text, r->family == AF_INET ? 24 : 56);
		break;
	default:
		inet_ntop(r->family, a, text, sizeof(text));
		n = snprintf(out, cap, "%s", text);
		break;
	}
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

const char *
audit_qtype_name(uint16_t type, char buf[16])
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	if (d && d->_type == type && d->_name)
		return d->_name;
	switch (type) {		/* query-only types, not in ldns' table */
	case 249: return "TKEY";
	case 250: return "TSIG";
	case 251: return "IXFR";
	case 252: return "AXFR";
	case 253: return "MAILB";
	case 254: return "MAILA";
	case 255: return "ANY";
	}
	snprintf(buf, 16, "TYPE%u", type);
	return buf;
}

const char *
audit_rcode_name(uint16_t rcode, char buf[16])
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL",
		"NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
		"NOTAUTH", "NOTZONE", "DSOTYPENI" };

	if (rcode < sizeof(names) / sizeof(*names))
		return names[rcode];
	if (rcode == 16)
		return "BADVERS";
	snprintf(buf, 16, "RCODE%u", rcode);
	return buf;
}

int
audit_answer_rcode(const uint8_t *ans, size_t len)
{
	unsigned rcode, counts[4];
	size_t off = 12, x;

	if (ans == NULL || len < 12)
		return -1;
	rcode = ans[3] & 0x0f;
	for (int i = 0; i < 4; i++)
		counts[i] = (unsigned)ans[4 + 2 * i] << 8 | ans[5 + 2 * i];
	if (counts[3] == 0)
		return (int)rcode;
	for (unsigned i = 0; i < counts[0]; i++) {
		if ((x = pkt_skip_name(ans, len, off)) == 0 || x + 4 > len)
			return -1;
		off = x + 4;
	}
	for (unsigned i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
		size_t rdlen;
		uint16_t type;

		if ((x = pkt_skip_name(ans, len, off)) == 0 || x + 10 > len)
			return -1;
		off = x;
		type = (uint16_t)(ans[off] << 8 | ans[off + 1]);
		rdlen = (size_t)ans[off + 8] << 8 | ans[off + 9];
		if (type == LDNS_RR_TYPE_OPT && i >= counts[1] + counts[2])
			return (int)(rcode | (unsigned)ans[off + 4] << 4);
		off += 10 + rdlen;
		if (off > len)
			return -1;
	}
	return (int)rcode;
}

bool
audit_wanted(int mode, const struct audit_record *r)
{
	switch (mode) {
	case AUDIT_MODE_METADATA:
		return true;
	case AUDIT_MODE_BLOCKED_ONLY:
		return r->action != AUDIT_PASS;
	default:
		return false;
	}
}

size_t
audit_format(const struct audit_record *r, const struct audit_fmt *f, char *out,
    size_t cap)
{
	static const char *const transports[] = { "udp", "tcp", "dot", "doh" };
	static const char *const actions[] = { "pass", "redirect", "block", "log",
		"refuse" };
	static const char *const reasons[] = { NULL, "qname", "cname", "ip", "geo",
		"internal", "canary", "bypass" };
	static const char *const caches[] = { NULL, "hit", "miss" };
	static const char *const secs[] = { NULL, "secure", "insecure", "bogus" };
	struct out o = { out, 0, cap, cap == 0 };
	char client[64], num[32], tbuf[16];

	if (cap)
		out[0] = '\0';
	puts_(&o, "{\"ts\":");
	put_ts(&o, &r->ts);
	puts_(&o, ",\"tenant\":");
	put_str(&o, r->tenant);
	puts_(&o, ",\"client\":");
	put_str(&o, audit_client_text(r, f, client, sizeof(client)) ? client : NULL);
	puts_(&o, ",\"transport\":");
	put_str(&o, r->transport < 4 ? transports[r->transport] : NULL);
	puts_(&o, ",\"qname\":");
	put_qname(&o, r->qname, r->qname_len);
	puts_(&o, ",\"qtype\":");
	put_str(&o, r->qname_len ? audit_qtype_name(r->qtype, tbuf) : NULL);
	puts_(&o, ",\"rcode\":");
	put_str(&o, audit_rcode_name(r->rcode, tbuf));
	puts_(&o, ",\"action\":");
	put_str(&o, r->action < 5 ? actions[r->action] : NULL);
	puts_(&o, ",\"reason\":");
	put_str(&o, r->reason < 8 ? reasons[r->reason] : NULL);
	puts_(&o, ",\"category\":");
	put_str(&o, r->category);
	puts_(&o, ",\"feed\":");
	put_str(&o, r->feed);
	snprintf(num, sizeof(num), ",\"latency_us\":%u", r->latency_us);
	puts_(&o, num);
	puts_(&o, ",\"cache\":");
	put_str(&o, r->cache < 3 ? caches[r->cache] : NULL);
	puts_(&o, ",\"dnssec\":");
	put_str(&o, r->dnssec < 4 ? secs[r->dnssec] : NULL);
	puts_(&o, "}\n");
	return o.full ? 0 : o.len;
}

size_t
audit_format_loss(const struct timespec *ts, uint64_t count, char *out,
    size_t cap)
{
	struct out o = { out, 0, cap, cap == 0 };
	char num[48];

	if (cap)
		out[0] = '\0';
	puts_(&o, "{\"ts\":");
	put_ts(&o, ts);
	snprintf(num, sizeof(num), ",\"event\":\"records-lost\",\"count\":%llu}\n",
	    (unsigned long long)count);
	puts_(&o, num);
	return o.full ? 0 : o.len;
}
