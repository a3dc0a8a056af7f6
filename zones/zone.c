/* zone.c -- answering from internal zones: find the zone, walk its names, write the answer
 *
 * Everything here reads the layout zone_load.c built (zone_impl.h) and
 * writes into the caller's buffer: no allocation, no locks, no ldns
 * objects on the query path.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/packet.h"
#include "zones/zone_impl.h"

#define ZW_MAX_NAMES	64	/* names remembered for compression */

/* An answer being written: bounded, with the names already in it. */
struct wr {
	uint8_t *p;
	size_t len, lim;
	bool overflow;
	struct {
		uint16_t off;
		const uint8_t *name;	/* uncompressed wire name written at off */
	} seen[ZW_MAX_NAMES];
	size_t n_seen;
};

static uint8_t
lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Two uncompressed wire names are the same name (RFC 4343). */
static bool
name_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		uint8_t l = *a;

		if (l != *b)
			return false;
		if (l == 0)
			return true;
		for (uint8_t i = 1; i <= l; i++)
			if (lc(a[i]) != lc(b[i]))
				return false;
		a += l + 1;
		b += l + 1;
	}
}

static bool
room(struct wr *w, size_t n)
{
	if (w->overflow || w->len + n > w->lim)
		return w->overflow = true, false;
	return true;
}

static void
put16(struct wr *w, uint16_t v)
{
	if (room(w, 2)) {
		w->p[w->len++] = (uint8_t)(v >> 8);
		w->p[w->len++] = (uint8_t)v;
	}
}

static void
put32(struct wr *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

static void
put_bytes(struct wr *w, const uint8_t *b, size_t n)
{
	if (room(w, n)) {
		memcpy(w->p + w->len, b, n);
		w->len += n;
	}
}

/* Write a name, pointing at the longest suffix already in the message
 * (RFC 1035 4.1.4), and remember the labels written for later names. */
static void
put_name(struct wr *w, const uint8_t *name)
{
	size_t pos, p;
	int ptr = -1;

	for (pos = 0; name[pos] != 0; pos += (size_t)name[pos] + 1) {
		for (size_t i = 0; i < w->n_seen && ptr < 0; i++)
			if (name_eq(name + pos, w->seen[i].name))
				ptr = w->seen[i].off;
		if (ptr >= 0)
			break;
	}
	for (p = 0; p < pos; p += (size_t)name[p] + 1) {
		if (!room(w, (size_t)name[p] + 1))
			return;
		if (w->n_seen < ZW_MAX_NAMES && w->len < 0x4000) {
			w->seen[w->n_seen].off = (uint16_t)w->len;
			w->seen[w->n_seen++].name = name + p;
		}
		put_bytes(w, name + p, (size_t)name[p] + 1);
	}
	if (ptr >= 0)
		put16(w, (uint16_t)(0xc000 | ptr));
	else if (room(w, 1))
		w->p[w->len++] = 0;
}

static size_t
name_len(const uint8_t *name)
{
	size_t p = 0;

	while (name[p] != 0)
		p += (size_t)name[p] + 1;
	return p + 1;
}

/* RDATA, with the names of the RFC 1035 types compressed (RFC 3597 4). */
static void
put_rdata(struct wr *w, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	size_t n;

	switch (type) {
	case LDNS_RR_TYPE_CNAME:
	case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_PTR:
		put_name(w, rd);
		return;
	case LDNS_RR_TYPE_MX:
		put_bytes(w, rd, 2);
		put_name(w, rd + 2);
		return;
	case LDNS_RR_TYPE_SOA:
		n = name_len(rd);
		put_name(w, rd);
		put_name(w, rd + n);
		n += name_len(rd + n);
		put_bytes(w, rd + n, rdlen - n);
		return;
	default:
		put_bytes(w, rd, rdlen);
	}
}

/* Every record of an RRset under owner.  \return the records written. */
static uint16_t
put_rrset(struct wr *w, const struct zone *z, const uint8_t *owner,
    const struct zrrset *s, uint32_t ttl)
{
	const uint8_t *p = z->data + s->rdata_off;

	for (uint16_t i = 0; i < s->n_rr; i++) {
		size_t rdlen = (size_t)p[0] << 8 | p[1], at;

		put_name(w, owner);
		put16(w, s->type);
		put16(w, LDNS_RR_CLASS_IN);
		put32(w, ttl);
		at = w->len;
		put16(w, 0);
		put_rdata(w, s->type, p + 2, rdlen);
		if (w->overflow)
			return i;
		w->p[at] = (uint8_t)((w->len - at - 2) >> 8);
		w->p[at + 1] = (uint8_t)(w->len - at - 2);
		p += 2 + rdlen;
	}
	return s->n_rr;
}

const struct znode *
zone_node_find(const struct zone *z, const uint8_t *key, size_t key_len)
{
	size_t lo = 0, hi = z->n_nodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct znode *n = &z->nodes[mid];
		int c = zone_key_cmp(z->data + n->key_off, n->key_len, key, key_len);

		if (c == 0)
			return n;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct zrrset *
zone_node_rrset(const struct zone *z, const struct znode *n, uint16_t type)
{
	for (uint16_t i = 0; i < n->n_rrsets; i++)
		if (z->rrsets[n->first + i].type == type)
			return &z->rrsets[n->first + i];
	return NULL;
}

/* Label boundaries of a key: bound[i] is the key length of the ancestor
 * with i labels.  \return the number of labels. */
static size_t
key_bounds(const uint8_t *key, size_t klen, uint8_t bound[128])
{
	size_t n = 0;

	for (size_t p = 0; p < klen && n < 128; p += (size_t)key[p] + 1)
		bound[n++] = (uint8_t)p;
	return n;
}

/* RFC 4592 3.3.1: the source of synthesis for a name that does not
 * exist: "*" below its closest encloser (the deepest existing ancestor,
 * empty non-terminals included), or NULL. */
static const struct znode *
wildcard(const struct zone *z, const uint8_t *key, size_t klen)
{
	uint8_t bound[128], wkey[ZONE_KEY_MAX + 2];
	size_t nb = key_bounds(key, klen, bound);

	for (size_t i = nb; i-- > 0;) {
		size_t alen = bound[i];

		if (alen < z->key_len)
			break;
		if (zone_node_find(z, key, alen) == NULL)
			continue;
		memcpy(wkey, key, alen);
		wkey[alen] = 1;
		wkey[alen + 1] = '*';
		return zone_node_find(z, wkey, alen + 2);
	}
	return NULL;
}

static bool
in_zone(const struct zone *z, const uint8_t *key, size_t klen)
{
	return klen >= z->key_len && memcmp(key, z->key, z->key_len) == 0;
}

/* The records for the query name, following CNAMEs inside the zone;
 * counts what it writes and sets the rcode. */
static void
walk(struct wr *w, const struct zone *z, const struct pkt_query *q,
    uint16_t *an, uint16_t *ns, int *rcode)
{
	uint8_t keys[ZONE_MAX_CHAIN + 1][ZONE_KEY_MAX];
	size_t klens[ZONE_MAX_CHAIN + 1];
	const uint8_t *owner = q->qname;
	const struct znode *node;
	const struct zrrset *s;
	int kl = zone_name_key(owner, keys[0]);

	for (size_t step = 0;; step++) {
		if (kl < 0 || !in_zone(z, keys[step], (size_t)kl))
			return;		/* the chain left the zone: the client follows */
		klens[step] = (size_t)kl;
		for (size_t i = 0; i < step; i++)
			if (klens[i] == klens[step] &&
			    memcmp(keys[i], keys[step], klens[i]) == 0)
				return;	/* a CNAME loop: stop at the repeat */
		if ((node = zone_node_find(z, keys[step], klens[step])) == NULL &&
		    (node = wildcard(z, keys[step], klens[step])) == NULL) {
			*rcode = RCODE_NXDOMAIN;	/* RFC 6604: of the last name */
			break;
		}
		if (q->qtype == LDNS_RR_TYPE_ANY) {
			for (uint16_t i = 0; i < node->n_rrsets; i++) {
				s = &z->rrsets[node->first + i];
				*an += put_rrset(w, z, owner, s, s->ttl);
			}
			if (node->n_rrsets > 0)
				return;
			break;
		}
		if ((s = zone_node_rrset(z, node, q->qtype)) != NULL) {
			*an += put_rrset(w, z, owner, s, s->ttl);
			return;
		}
		if ((s = zone_node_rrset(z, node, LDNS_RR_TYPE_CNAME)) == NULL)
			break;		/* NODATA */
		*an += put_rrset(w, z, owner, s, s->ttl);
		if (step == ZONE_MAX_CHAIN)
			return;
		owner = z->data + s->rdata_off + 2;
		kl = zone_name_key(owner, keys[step + 1]);
	}
	/* NXDOMAIN or NODATA: the SOA, TTL as RFC 2308 says */
	*ns += put_rrset(w, z, z->data + z->apex->wire_off, z->soa, z->neg_ttl);
}

int
zone_answer(const struct zone *z, const struct pkt_query *q,
    size_t max_answer, uint8_t *out, size_t cap, size_t *outlen)
{
	struct wr w = { .p = out, .lim = cap < max_answer ? cap : max_answer };
	struct answer_meta m = { .rcode = RCODE_NOERROR, .ede = ANSWER_NO_EDE,
	    .aa = true };
	uint8_t key[ZONE_KEY_MAX];
	uint16_t an = 0, ns = 0;
	int kl;

	if (z == NULL || q->qname == NULL ||
	    (kl = zone_name_key(q->qname, key)) < 0 || !in_zone(z, key, (size_t)kl))
		return -EINVAL;
	if (cap < PKT_HEADER_SIZE)
		return -ENOBUFS;
	memset(out, 0, PKT_HEADER_SIZE);
	w.len = PKT_HEADER_SIZE;
	out[5] = 1;	/* QDCOUNT */
	for (size_t p = 0; q->qname[p] != 0; p += (size_t)q->qname[p] + 1) {
		w.seen[w.n_seen].off = (uint16_t)(PKT_HEADER_SIZE + p);
		w.seen[w.n_seen++].name = q->qname + p;
		if (w.n_seen == ZW_MAX_NAMES / 2)
			break;	/* keep room for the answer's names */
	}
	put_bytes(&w, q->qname, q->qname_len);
	put16(&w, q->qtype);
	put16(&w, q->qclass);
	walk(&w, z, q, &an, &ns, &m.rcode);
	if (!w.overflow) {
		out[6] = (uint8_t)(an >> 8);
		out[7] = (uint8_t)an;
		out[8] = (uint8_t)(ns >> 8);
		out[9] = (uint8_t)ns;
	}
	return answer_finish(q, &m, max_answer, w.overflow, out, cap, w.len, outlen);
}

static bool
sees(const struct zone *z, uint32_t tenant)
{
	size_t lo = 0, hi = z->n_tenants;

	if (z->n_tenants == 0)
		return true;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->tenants[mid] == tenant)
			return true;
		if (z->tenants[mid] < tenant)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

const struct zone *
zone_set_find(const struct zone_set *zs, const uint8_t *qname_wire,
    uint32_t tenant_index)
{
	uint8_t key[ZONE_KEY_MAX], bound[128];
	size_t nb;
	int kl;

	if (zs == NULL || zs->n == 0 || (kl = zone_name_key(qname_wire, key)) <= 0)
		return NULL;
	nb = key_bounds(key, (size_t)kl, bound);
	/* the name itself, then each ancestor up to the TLD: deepest first */
	for (size_t i = nb + 1; i-- > 1;) {
		size_t alen = i == nb ? (size_t)kl : bound[i], lo = 0, hi = zs->n;

		while (lo < hi) {	/* the first zone with this apex */
			size_t mid = lo + (hi - lo) / 2;

			if (zone_key_cmp(zs->v[mid]->key, zs->v[mid]->key_len, key, alen) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < zs->n && zone_key_cmp(zs->v[lo]->key, zs->v[lo]->key_len,
		    key, alen) == 0; lo++)
			if (sees(zs->v[lo], tenant_index))
				return zs->v[lo];
	}
	return NULL;
}

const char *
zone_name(const struct zone *z)
{
	return z->name;
}

static int
cmp4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int
cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

bool
zone_set_holds_addr(const struct zone_set *zs, int family, const uint8_t *addr)
{
	if (zs == NULL || addr == NULL)
		return false;
	if (family == AF_INET)
		return zs->n_a4 && bsearch(addr, zs->a4, zs->n_a4, 4, cmp4) != NULL;
	if (family == AF_INET6)
		return zs->n_a6 && bsearch(addr, zs->a6, zs->n_a6, 16, cmp16) != NULL;
	return false;
}
