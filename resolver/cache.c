/* cache.c -- the answer cache: a hash table of final answers with an LRU list
 *
 * Layout: a power-of-two table of chained buckets, keyed by SipHash-1-3
 * (random key per cache, so clients cannot aim names at one bucket) of
 * the key blob (policy pointer, type, class, DO/CD, lower-cased name); a
 * doubly linked list in use order for eviction.  Each entry is one
 * allocation: the struct, then [verdict][key blob][TTL offsets][message].
 * The table doubles when it holds more entries than buckets (on a store,
 * never on a lookup).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>

#include <ldns/ldns.h>

#include "resolver/cache.h"
#include "resolver/packet.h"

#define INITIAL_BUCKETS	1024
#define MALLOC_OVERHEAD	16	/* what the allocator keeps per block, roughly */
#define KEY_FIXED	(sizeof(void *) + 2 + 2 + 1 + 1)
#define KEY_MAX		(KEY_FIXED + PKT_MAX_NAME)
#define FLAG_DO		1
#define FLAG_CD		2
#define RCODE_NOERROR	0
#define RCODE_NXDOMAIN	3

struct entry {
	struct entry *hnext;		/* bucket chain */
	TAILQ_ENTRY(entry) lru;		/* most recently used first */
	uint64_t hash;
	uint64_t gen;			/* threat-DB generation it was made under */
	time_t stored, expires;		/* monotonic seconds */
	size_t bytes;			/* accounted for it */
	struct pol_verdict *verdict;	/* NULL: pass, nothing to say */
	uint8_t *key;			/* KEY_FIXED + name length */
	uint16_t *ttl_off;		/* n_ttl offsets into wire */
	uint8_t *wire;			/* NULL for verdict entries */
	uint16_t keylen, n_ttl, wirelen;
	uint8_t rcode, sec;
	bool recursed;
	_Alignas(max_align_t) uint8_t data[];
};

TAILQ_HEAD(entry_list, entry);

struct cache {
	struct entry **buckets;
	size_t n_buckets;		/* a power of two */
	struct entry_list lru;
	size_t n_entries;
	size_t bytes, max_bytes;
	uint64_t sipkey[2];
	struct cache_stats st;
};

/* ---- SipHash-1-3 (Aumasson and Bernstein), as Rust and Redis use it ---- */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
siphash13(const uint64_t k[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ k[0];
	uint64_t v3 = 0x7465646279746573ULL ^ k[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, whole = len & ~(size_t)7;

	for (i = 0; i < whole; i += 8) {
		memcpy(&m, in + i, 8);	/* host order: the hash stays in memory */
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- wire helpers ---- */

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Whether two wire names of length len are equal but for ASCII case. */
static bool
same_name(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i] && ((a[i] | 0x20) != (b[i] | 0x20) ||
		    (a[i] | 0x20) < 'a' || (a[i] | 0x20) > 'z'))
			return false;
	return true;
}

/* The records of a message: how many carry a TTL (OPT does not), their
 * offsets into offs (when not NULL), and how long the message may be
 * cached.  \return 0, -EBADMSG, -ENOENT (nothing to cache by). */
static int
scan_ttls(const uint8_t *p, size_t len, uint16_t *offs, size_t *n,
    uint32_t *ttl)
{
	size_t pos = PKT_HEADER_SIZE, an, ns, total;
	uint32_t min = UINT32_MAX, neg = UINT32_MAX;
	bool negative;

	*n = 0;
	if (len < PKT_HEADER_SIZE || len > UINT16_MAX)
		return -EBADMSG;
	an = LDNS_ANCOUNT(p);
	ns = LDNS_NSCOUNT(p);
	total = an + ns + LDNS_ARCOUNT(p);
	for (unsigned i = 0; i < LDNS_QDCOUNT(p); i++)
		if ((pos = pkt_skip_name(p, len, pos)) == 0 || (pos += 4) > len)
			return -EBADMSG;
	for (size_t i = 0; i < total; i++) {
		size_t end;
		uint16_t type;
		uint32_t t;

		if ((pos = pkt_skip_name(p, len, pos)) == 0 || pos + 10 > len)
			return -EBADMSG;
		type = rd16(p + pos);
		if ((end = pos + 10 + rd16(p + pos + 8)) > len)
			return -EBADMSG;
		if (type != LDNS_RR_TYPE_OPT) {
			if (offs)
				offs[*n] = (uint16_t)(pos + 4);
			(*n)++;
			if ((t = rd32(p + pos + 4)) > INT32_MAX)
				t = 0;	/* RFC 2181 8: treat as zero */
			if (t < min)
				min = t;
			/* RFC 2308 5: the SOA of a negative answer says
			 * how long the negative answer holds */
			if (type == LDNS_RR_TYPE_SOA && i >= an && i < an + ns &&
			    end - pos - 10 >= 22) {
				uint32_t m = rd32(p + end - 4);

				if ((m < t ? m : t) < neg)
					neg = m < t ? m : t;
			}
		}
		pos = end;
	}
	negative = LDNS_RCODE_WIRE(p) == RCODE_NXDOMAIN || an == 0;
	if (*n == 0 || (negative && neg == UINT32_MAX))
		return -ENOENT;
	if (negative) {
		min = min < neg ? min : neg;
		*ttl = min < CACHE_MAX_NEG_TTL ? min : CACHE_MAX_NEG_TTL;
	} else
		*ttl = min < CACHE_MAX_TTL ? min : CACHE_MAX_TTL;
	return 0;
}

int
cache_wire_ttl(const uint8_t *wire, size_t len, uint32_t *ttl)
{
	size_t n;

	return scan_ttls(wire, len, NULL, &n, ttl);
}

/* The key blob: policy, type, class, flags, length, lower-cased name.
 * \return its length, or 0 when the name is not a valid wire name. */
static size_t
make_key(const struct cache_key *k, uint8_t *b)
{
	size_t pos = 0;

	if (k->qname == NULL || k->qname_len == 0)
		return 0;
	memcpy(b, &k->policy, sizeof(void *));
	b[8] = (uint8_t)(k->qtype >> 8);
	b[9] = (uint8_t)k->qtype;
	b[10] = (uint8_t)(k->qclass >> 8);
	b[11] = (uint8_t)k->qclass;
	b[12] = (uint8_t)((k->do_bit ? FLAG_DO : 0) | (k->cd ? FLAG_CD : 0));
	b[13] = k->qname_len;
	/* lower-case label by label: length octets are never letters, but
	 * stay honest about where labels are */
	while (pos < k->qname_len) {
		uint8_t l = k->qname[pos];

		if (l > 63 || pos + 1 + l > k->qname_len)
			return 0;
		b[KEY_FIXED + pos] = l;
		for (size_t i = pos + 1; i <= pos + l; i++)
			b[KEY_FIXED + i] = (uint8_t)(k->qname[i] >= 'A' &&
			    k->qname[i] <= 'Z' ? k->qname[i] + 32 : k->qname[i]);
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (pos != k->qname_len || k->qname[pos - 1] != 0)
		return 0;
	return KEY_FIXED + k->qname_len;
}
_Static_assert(KEY_FIXED == 14, "key layout assumes 8-byte pointers");

/* ---- the table ---- */

int
cache_new(struct cache **out, size_t max_bytes)
{
	struct cache *c;

	if (max_bytes == 0) {
		*out = NULL;
		return 0;
	}
	if (max_bytes < CACHE_MIN_BYTES)
		return -EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	if ((c->buckets = calloc(INITIAL_BUCKETS, sizeof(*c->buckets))) == NULL) {
		free(c);
		return -ENOMEM;
	}
	c->n_buckets = INITIAL_BUCKETS;
	c->max_bytes = max_bytes;
	c->bytes = INITIAL_BUCKETS * sizeof(*c->buckets);
	TAILQ_INIT(&c->lru);
	if (getrandom(c->sipkey, sizeof(c->sipkey), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(c->sipkey)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		c->sipkey[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)c;
		c->sipkey[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
	}
	*out = c;
	return 0;
}

static void
entry_remove(struct cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->n_buckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->n_entries--;
	c->bytes -= e->bytes;
	free(e);
}

void
cache_free(struct cache *c)
{
	struct entry *e;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		free(e);
	}
	free(c->buckets);
	free(c);
}

static struct entry *
find(struct cache *c, const uint8_t *key, size_t keylen, uint64_t h)
{
	struct entry *e;

	for (e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->keylen == keylen &&
		    memcmp(e->key, key, keylen) == 0)
			return e;
	return NULL;
}

enum cache_result
cache_lookup(struct cache *c, const struct cache_key *k, uint64_t gen,
    time_t now, struct cache_meta *meta, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t key[KEY_MAX];
	size_t keylen;
	struct entry *e;
	uint32_t age;

	if (c == NULL || (keylen = make_key(k, key)) == 0)
		return CACHE_MISS;
	if ((e = find(c, key, keylen, siphash13(c->sipkey, key, keylen))) == NULL)
		goto miss;
	if (now < e->stored)	/* stored a moment later in the same second */
		now = e->stored;
	if (e->gen != gen || now >= e->expires) {
		if (e->gen != gen)
			c->st.invalidated++;
		else
			c->st.expired++;
		entry_remove(c, e);
		goto miss;
	}
	if (e->wire && e->wirelen > cap)
		goto miss;
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->st.hits++;
	if (e->verdict)
		meta->verdict = *e->verdict;
	else
		memset(&meta->verdict, 0, sizeof(meta->verdict));
	meta->rcode = e->rcode;
	meta->sec = e->sec;
	meta->recursed = e->recursed;
	if (e->wire == NULL)
		return CACHE_VERDICT;
	memcpy(out, e->wire, e->wirelen);
	/* the question as this client wrote it (same length: same name) */
	memcpy(out + PKT_HEADER_SIZE, k->qname, k->qname_len);
	age = (uint32_t)(now - e->stored);
	for (size_t i = 0; age && i < e->n_ttl; i++) {
		uint8_t *t = out + e->ttl_off[i];
		uint32_t v = rd32(t);

		/* every TTL is at least expires - stored > age; a TTL
		 * over INT32_MAX (read as 0) never got this far */
		wr32(t, v > age ? v - age : 0);
	}
	*outlen = e->wirelen;
	return CACHE_ANSWER;
miss:
	c->st.misses++;
	return CACHE_MISS;
}

/* Double the table.  On failure the table stays as it is (longer chains). */
static void
grow(struct cache *c)
{
	size_t n = c->n_buckets * 2, add = c->n_buckets * sizeof(*c->buckets);
	struct entry **b, *e;

	if (n * sizeof(*b) > c->max_bytes / 4)
		return;		/* the table may take a quarter at most */
	if ((b = calloc(n, sizeof(*b))) == NULL)
		return;
	TAILQ_FOREACH(e, &c->lru, lru) {
		size_t i = e->hash & (n - 1);

		e->hnext = b[i];
		b[i] = e;
	}
	free(c->buckets);
	c->buckets = b;
	c->n_buckets = n;
	c->bytes += add;
}

/* Make room for `need` more bytes: least recently used go first. */
static void
make_room(struct cache *c, size_t need)
{
	struct entry *e;

	while (c->bytes + need > c->max_bytes &&
	    (e = TAILQ_LAST(&c->lru, entry_list)) != NULL) {
		entry_remove(c, e);
		c->st.evicted++;
	}
}

/* Allocate and link an entry with room for a message of wirelen bytes
 * and n_ttl offsets; fills the key, verdict and times.  \return it, or
 * NULL (-E2BIG / -ENOMEM in *err). */
static struct entry *
entry_add(struct cache *c, const struct cache_key *k, uint64_t gen,
    time_t now, const struct cache_meta *meta, uint32_t ttl, size_t wirelen,
    size_t n_ttl, int *err)
{
	uint8_t key[KEY_MAX];
	size_t keylen, vlen, size;
	struct entry *e, *old;
	uint64_t h;

	if ((keylen = make_key(k, key)) == 0) {
		*err = -EBADMSG;
		return NULL;
	}
	vlen = meta->verdict.action != POL_PASS ? sizeof(struct pol_verdict) : 0;
	size = sizeof(*e) + vlen + keylen + n_ttl * sizeof(uint16_t) + wirelen;
	if (size + MALLOC_OVERHEAD > c->max_bytes / 8) {
		*err = -E2BIG;
		return NULL;
	}
	h = siphash13(c->sipkey, key, keylen);
	if ((old = find(c, key, keylen, h)) != NULL)
		entry_remove(c, old);
	make_room(c, size + MALLOC_OVERHEAD);
	if ((e = malloc(size)) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->gen = gen;
	e->stored = now;
	e->expires = now + (time_t)ttl;
	e->bytes = size + MALLOC_OVERHEAD;
	if (vlen) {
		e->verdict = (struct pol_verdict *)e->data;
		*e->verdict = meta->verdict;
	}
	e->key = e->data + vlen;
	e->keylen = (uint16_t)keylen;
	memcpy(e->key, key, keylen);
	e->ttl_off = (uint16_t *)(e->key + keylen + (keylen & 1));
	e->n_ttl = (uint16_t)n_ttl;
	e->rcode = meta->rcode;
	e->sec = meta->sec;
	e->recursed = meta->recursed;
	if (c->n_entries >= c->n_buckets)
		grow(c);
	e->hnext = c->buckets[h & (c->n_buckets - 1)];
	c->buckets[h & (c->n_buckets - 1)] = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->n_entries++;
	c->bytes += e->bytes;
	c->st.stored++;
	return e;
}

int
cache_store_answer(struct cache *c, const struct cache_key *k, uint64_t gen,
    time_t now, const struct cache_meta *meta, const uint8_t *wire, size_t len)
{
	struct entry *e;
	uint32_t ttl;
	size_t n;
	int r;

	if (c == NULL)
		return 0;
	if (len < PKT_HEADER_SIZE + (size_t)k->qname_len + 4 ||
	    LDNS_QDCOUNT(wire) != 1 ||
	    !same_name(wire + PKT_HEADER_SIZE, k->qname, k->qname_len))
		return -EBADMSG;
	if ((LDNS_RCODE_WIRE(wire) != RCODE_NOERROR &&
	    LDNS_RCODE_WIRE(wire) != RCODE_NXDOMAIN) || LDNS_TC_WIRE(wire))
		return -ENOENT;
	if ((r = scan_ttls(wire, len, NULL, &n, &ttl)) != 0)
		return r;
	if (meta->ttl_cap && ttl > meta->ttl_cap)
		ttl = meta->ttl_cap;
	if (ttl == 0)
		return -ENOENT;
	/* one byte of padding keeps the offsets aligned after the key */
	if ((e = entry_add(c, k, gen, now, meta, ttl, len + 1, n, &r)) == NULL)
		return r;
	e->wire = (uint8_t *)(e->ttl_off + n);
	e->wirelen = (uint16_t)len;
	memcpy(e->wire, wire, len);
	(void)scan_ttls(e->wire, len, e->ttl_off, &n, &ttl);
	return 0;
}

int
cache_store_verdict(struct cache *c, const struct cache_key *k, uint64_t gen,
    time_t now, const struct cache_meta *meta, uint32_t ttl)
{
	int r;

	if (c == NULL)
		return 0;
	if (ttl == 0 || meta->verdict.action < POL_REDIRECT)
		return -ENOENT;
	if (ttl > CACHE_MAX_TTL)
		ttl = CACHE_MAX_TTL;
	if (meta->ttl_cap && ttl > meta->ttl_cap)
		ttl = meta->ttl_cap;
	return entry_add(c, k, gen, now, meta, ttl, 1, 0, &r) ? 0 : r;
}

/* Whether the key's name is name or below it (both lower case, wire). */
static bool
name_under(const uint8_t *key, size_t keylen, const uint8_t *name,
    size_t namelen)
{
	const uint8_t *q = key + KEY_FIXED;
	size_t qlen = keylen - KEY_FIXED;

	for (size_t pos = 0; pos < qlen && qlen - pos >= namelen;
	    pos += 1 + (size_t)q[pos]) {
		if (qlen - pos == namelen && memcmp(q + pos, name, namelen) == 0)
			return true;
		if (q[pos] == 0)
			break;
	}
	return false;
}

size_t
cache_flush(struct cache *c, const uint8_t *name)
{
	uint8_t key[KEY_MAX];
	struct cache_key k = { .qname = name };
	struct entry *e, *next;
	size_t n = 0, keylen = 0;

	if (c == NULL)
		return 0;
	if (name) {
		/* the name's lower-case form, from the key builder */
		for (size_t pos = 0; pos < PKT_MAX_NAME; pos += 1 + (size_t)name[pos])
			if (name[pos] == 0) {
				k.qname_len = (uint8_t)(pos + 1);
				break;
			}
		if ((keylen = make_key(&k, key)) == 0)
			return 0;
	}
	for (e = TAILQ_FIRST(&c->lru); e; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (name == NULL || name_under(e->key, e->keylen, key + KEY_FIXED,
		    keylen - KEY_FIXED)) {
			entry_remove(c, e);
			n++;
		}
	}
	c->st.flushed += n;
	return n;
}

void
cache_stats_get(const struct cache *c, struct cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	*st = c->st;
	st->entries = c->n_entries;
	st->bytes = c->bytes;
	st->max_bytes = c->max_bytes;
}
