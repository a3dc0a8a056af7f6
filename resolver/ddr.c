/* ddr.c -- Discovery of Designated Resolvers (RFC 9462): the _dns.resolver.arpa SVCB answer
 *
 * A client that knows only our address asks _dns.resolver.arpa SVCB and
 * learns where to speak DoT and DoH to us (RFC 9461 SvcParams).  The
 * records are written straight from the config's listeners.
 */
#include "autoconf.h"

#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "resolver/answer.h"
#include "resolver/config.h"
#include "resolver/ddr.h"
#include "resolver/packet.h"

/* SvcParamKeys (RFC 9460 14.3.2, RFC 9461 5) */
#define SVC_ALPN	1
#define SVC_PORT	3
#define SVC_IPV4HINT	4
#define SVC_IPV6HINT	6
#define SVC_DOHPATH	7

static const uint8_t ddr_name[] = "\x04_dns\x08resolver\x04" "arpa";

struct wbuf {
	uint8_t *p;
	size_t len, lim;
	bool overflow;
};

static void
put(struct wbuf *w, const void *s, size_t n)
{
	if (w->overflow || n > w->lim - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
put16(struct wbuf *w, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 2);
}

bool
ddr_is_query(const struct pkt_query *q)
{
	if (q->qname == NULL || q->qname_len != sizeof(ddr_name))
		return false;
	/* labels line up (same lengths at the same places) once the length
	 * octets compare equal; letters compare without case */
	for (size_t i = 0; i < sizeof(ddr_name); i++) {
		uint8_t a = q->qname[i], b = ddr_name[i];

		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (a != b)
			return false;
	}
	return true;
}

/* "dns.example.net." to wire form; the config checked it. */
static size_t
name_wire(const char *s, uint8_t out[PKT_MAX_NAME])
{
	size_t o = 0;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (n == 0 || n > 63 || o + n + 2 > PKT_MAX_NAME)
			return 0;
		out[o++] = (uint8_t)n;
		memcpy(out + o, s, n);
		o += n;
		s += n + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return o;
}

/* The address of l when it names one interface (not 0.0.0.0 / ::). */
static size_t
hint_of(const struct listen_cfg *l, const uint8_t **addr)
{
	static const uint8_t zero[16];

	if (l->ss.ss_family == AF_INET) {
		*addr = (const uint8_t *)&((const struct sockaddr_in *)&l->ss)->sin_addr;
		return memcmp(*addr, zero, 4) ? 4 : 0;
	}
	if (l->ss.ss_family == AF_INET6) {
		*addr = ((const struct sockaddr_in6 *)&l->ss)->sin6_addr.s6_addr;
		return memcmp(*addr, zero, 16) ? 16 : 0;
	}
	return 0;
}

static uint16_t
port_of(const struct listen_cfg *l)
{
	return ntohs(l->ss.ss_family == AF_INET ?
	    ((const struct sockaddr_in *)&l->ss)->sin_port :
	    ((const struct sockaddr_in6 *)&l->ss)->sin6_port);
}

/* One SVCB record for listener l; the owner points at the question. */
static void
put_svcb(struct wbuf *w, const struct listen_cfg *l, unsigned prio,
    const uint8_t *target, size_t tlen)
{
	const uint8_t *addr;
	size_t alen = hint_of(l, &addr), rdstart;
	bool doh = l->kind == LISTEN_DOH;

	put16(w, 0xc000 | PKT_HEADER_SIZE);
	put16(w, DDR_TYPE_SVCB);
	put16(w, 1);			/* IN */
	put16(w, DDR_TTL >> 16);
	put16(w, DDR_TTL & 0xffff);
	put16(w, 0);			/* RDLENGTH, set below */
	rdstart = w->len;
	put16(w, prio);
	put(w, target, tlen);
	put16(w, SVC_ALPN);
	put16(w, doh ? 3 : 4);
	put(w, doh ? "\x02h2" : "\x03" "dot", doh ? 3 : 4);
	put16(w, SVC_PORT);
	put16(w, 2);
	put16(w, port_of(l));
	if (alen) {
		put16(w, alen == 4 ? SVC_IPV4HINT : SVC_IPV6HINT);
		put16(w, (unsigned)alen);
		put(w, addr, alen);
	}
	if (doh) {
		size_t plen = strlen(l->path);

		put16(w, SVC_DOHPATH);
		put16(w, (unsigned)(plen + 6));
		put(w, l->path, plen);
		put(w, "{?dns}", 6);
	}
	if (!w->overflow) {
		size_t rdlen = w->len - rdstart;

		w->p[rdstart - 2] = (uint8_t)(rdlen >> 8);
		w->p[rdstart - 1] = (uint8_t)rdlen;
	}
}

int
ddr_answer(const struct config *cfg, const struct pkt_query *q,
    size_t max_answer, uint8_t *out, size_t cap, size_t *outlen)
{
	struct answer_meta m = { .rcode = RCODE_NOERROR, .ede = ANSWER_NO_EDE };
	struct wbuf w = { .p = out, .lim = cap };
	uint8_t target[PKT_MAX_NAME];
	size_t tlen = 0;
	unsigned an = 0;

	if (!ddr_is_query(q))
		return -EINVAL;
	if (cap < PKT_HEADER_SIZE)
		return -ENOBUFS;
	memset(out, 0, PKT_HEADER_SIZE);
	out[5] = 1;	/* QDCOUNT */
	w.len = PKT_HEADER_SIZE;
	put(&w, q->qname, q->qname_len);
	put16(&w, q->qtype);
	put16(&w, q->qclass);
	if (q->qtype == DDR_TYPE_SVCB && cfg->resolver_name != NULL)
		tlen = name_wire(cfg->resolver_name, target);
	for (size_t i = 0; tlen && i < cfg->n_listen; i++) {
		const struct listen_cfg *l = &cfg->listen[i];

		if (l->kind != LISTEN_DOT && l->kind != LISTEN_DOH)
			continue;
		put_svcb(&w, l, ++an, target, tlen);
	}
	if (!w.overflow) {
		out[6] = (uint8_t)(an >> 8);
		out[7] = (uint8_t)an;
	}
	return answer_finish(q, &m, max_answer, w.overflow, out, cap, w.len, outlen);
}
