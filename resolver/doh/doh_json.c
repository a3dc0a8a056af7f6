/* doh_json.c -- DNS JSON (the form of Google's and Cloudflare's resolvers) to and from wire
 *
 * The JSON API is a convenience for scripts: the request names a question,
 * doh.c runs the wire query built here through the same pipeline as any
 * other, and the wire answer is rendered here with ldns's presentation
 * form of each record's data.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/doh/doh_json.h"

#define JSON_EDNS_SIZE	1232

int
doh_json_query(const char *name, const char *type, bool cd, bool do_bit,
    uint8_t *out, size_t cap, size_t *outlen)
{
	ldns_rdf *d = NULL;
	unsigned long t = LDNS_RR_TYPE_A;
	size_t n;

	if (name == NULL || *name == '\0' || strlen(name) > 1024)
		return -EINVAL;
	if (type != NULL) {
		char *end;

		if (*type >= '0' && *type <= '9') {
			t = strtoul(type, &end, 10);
			if (*end != '\0' || t == 0 || t > 65535 || strlen(type) > 5)
				return -EINVAL;
		} else if ((t = ldns_get_rr_type_by_name(type)) == 0)
			return -EINVAL;
	}
	if (t == LDNS_RR_TYPE_OPT || (t >= 128 && t <= 250))
		return -EINVAL;	/* meta types are no questions (RFC 6895) */
	if (ldns_str2rdf_dname(&d, name) != LDNS_STATUS_OK)
		return -EINVAL;
	n = 12 + ldns_rdf_size(d) + 4 + (do_bit ? 11 : 0);
	if (n > cap) {
		ldns_rdf_deep_free(d);
		return -E2BIG;
	}
	memset(out, 0, 12);
	out[2] = 0x01 | 0;		/* RD */
	out[3] = cd ? 0x10 : 0;		/* CD */
	out[5] = 1;			/* QDCOUNT */
	out[11] = do_bit ? 1 : 0;	/* ARCOUNT */
	memcpy(out + 12, ldns_rdf_data(d), ldns_rdf_size(d));
	n = 12 + ldns_rdf_size(d);
	ldns_rdf_deep_free(d);
	out[n++] = (uint8_t)(t >> 8);
	out[n++] = (uint8_t)t;
	out[n++] = 0;
	out[n++] = LDNS_RR_CLASS_IN;
	if (do_bit) {
		static const uint8_t opt[11] = { 0, 0, 41, JSON_EDNS_SIZE >> 8,
			JSON_EDNS_SIZE & 0xff, 0, 0, 0x80, 0, 0, 0 };

		memcpy(out + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	*outlen = n;
	return 0;
}

/* A growing output string, bounded by DOH_JSON_MAX. */
struct jbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void
put(struct jbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > DOH_JSON_MAX) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct jbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
putf(struct jbuf *b, const char *fmt, unsigned long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), fmt, v);

	put(b, tmp, (size_t)n);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
put_str(struct jbuf *b, const char *s)
{
	put(b, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			put(b, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(b, esc, 6);
		} else
			put(b, (const char *)&c, 1);
	}
	put(b, "\"", 1);
}

/* The owner or an rdata field as ldns prints it. */
static void
put_rdf(struct jbuf *b, const ldns_rdf *r)
{
	char *s = r ? ldns_rdf2str(r) : NULL;

	if (r && s == NULL && !b->err)
		b->err = -ENOMEM;
	puts_(b, s ? s : "");
	free(s);
}

static void
put_rrs(struct jbuf *b, const char *key, const ldns_rr_list *l)
{
	size_t n = l ? ldns_rr_list_rr_count(l) : 0;

	if (n == 0)
		return;
	put(b, ",\"", 2);
	puts_(b, key);
	put(b, "\":[", 3);
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		struct jbuf data = { 0 };
		char *owner = ldns_rdf2str(ldns_rr_owner(rr));

		puts_(b, i ? ",{\"name\":" : "{\"name\":");
		put_str(b, owner);
		free(owner);
		putf(b, ",\"type\":%lu", (unsigned long)ldns_rr_get_type(rr));
		putf(b, ",\"TTL\":%lu", (unsigned long)ldns_rr_ttl(rr));
		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
			if (j)
				put(&data, " ", 1);
			put_rdf(&data, ldns_rr_rdf(rr, j));
		}
		if (data.err && !b->err)
			b->err = data.err;
		put(b, ",\"data\":", 8);
		put_str(b, data.p ? data.p : "");
		free(data.p);
		put(b, "}", 1);
	}
	put(b, "]", 1);
}

static const char *
tf(bool v)
{
	return v ? "true" : "false";
}

int
doh_json_render(const uint8_t *ans, size_t len, char **out, size_t *outlen)
{
	struct jbuf b = { 0 };
	ldns_pkt *p = NULL;
	ldns_rr_list *qd;
	char head[160];

	if (ldns_wire2pkt(&p, ans, len) != LDNS_STATUS_OK)
		return -EBADMSG;
	snprintf(head, sizeof(head), "{\"Status\":%u,\"TC\":%s,\"RD\":%s,"
	    "\"RA\":%s,\"AD\":%s,\"CD\":%s", (unsigned)ldns_pkt_get_rcode(p),
	    tf(ldns_pkt_tc(p)), tf(ldns_pkt_rd(p)), tf(ldns_pkt_ra(p)),
	    tf(ldns_pkt_ad(p)), tf(ldns_pkt_cd(p)));
	puts_(&b, head);
	qd = ldns_pkt_question(p);
	puts_(&b, ",\"Question\":[");
	for (size_t i = 0; qd && i < ldns_rr_list_rr_count(qd); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(qd, i);
		char *owner = ldns_rdf2str(ldns_rr_owner(rr));

		puts_(&b, i ? ",{\"name\":" : "{\"name\":");
		put_str(&b, owner);
		free(owner);
		putf(&b, ",\"type\":%lu}", (unsigned long)ldns_rr_get_type(rr));
	}
	puts_(&b, "]");
	put_rrs(&b, "Answer", ldns_pkt_answer(p));
	put_rrs(&b, "Authority", ldns_pkt_authority(p));
	puts_(&b, "}");
	ldns_pkt_free(p);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}
