/* tdb_lookup.c -- the hot path (one reader per thread) and the explaining
 * lookups for threatctl; key layout at the top of tdb.c */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "threatdb/tdb.h"
#include "threatdb/tdb_impl.h"

/** The best entry met so far of one kind (allow or block). */
struct best {
	bool have;
	struct tdb_val v;
	unsigned depth;		/* labels, or prefix length */
};

static bool
bit(const uint64_t *bits, unsigned i)
{
	return (bits[i / 64] >> (i % 64)) & 1;
}

/* ---- readers ---- */

int
tdb_reader_new(struct tdb_reader **out, struct tdb *db)
{
	struct tdb_reader *r;
	int rc;

	if (out == NULL || db == NULL)
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->db = db;
	r->gen = (size_t)-1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_rwlock_rdlock(&db->txn_lock);
	rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &r->txn);
	if (rc == 0 && (rc = mdb_cursor_open(r->txn, db->names, &r->cn)) == 0)
		rc = mdb_cursor_open(r->txn, db->prefixes, &r->cp);
	if (r->txn != NULL)
		mdb_txn_reset(r->txn);
	pthread_rwlock_unlock(&db->txn_lock);
	if (rc != 0) {
		tdb_reader_free(r);
		return rc == MDB_MAP_RESIZED ? -EAGAIN : tdb_lmdb_err(rc);
	}
	pthread_mutex_lock(&db->readers_lock);
	r->next = db->readers;
	db->readers = r;
	pthread_mutex_unlock(&db->readers_lock);
	*out = r;
	return 0;
}

void
tdb_reader_free(struct tdb_reader *r)
{
	struct tdb_reader **p;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->db->readers_lock);
	for (p = &r->db->readers; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	pthread_mutex_unlock(&r->db->readers_lock);
	if (r->cn != NULL)
		mdb_cursor_close(r->cn);
	if (r->cp != NULL)
		mdb_cursor_close(r->cp);
	if (r->txn != NULL)
		mdb_txn_abort(r->txn);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/** Refresh what the reader derives from a snapshot: the length bitmaps
 * and the id-to-name caches. */
static int
reader_refresh(struct tdb_reader *r, size_t gen)
{
	struct tdb_counts c;
	int rc;

	if ((rc = tdb_counts_read(r->db, r->txn, &c)) != 0)
		return rc;
	tdb_counts_bits(&c, &r->bits);
	memset(r->cat_ok, 0, sizeof(r->cat_ok));
	for (size_t i = 0; i < TDB_FEED_SLOTS; i++)
		r->feeds[i].id1 = 0;
	r->gen = gen;
	return 0;
}

/** Take a fresh snapshot: renew the read transaction (adopting a map that
 * another process grew) and the cursor. */
static int
reader_enter(struct tdb_reader *r, MDB_cursor *c)
{
	size_t gen;
	int rc;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		if ((rc = mdb_txn_renew(r->txn)) == 0)
			break;
		pthread_mutex_unlock(&r->lock);
		if (rc != MDB_MAP_RESIZED)
			return tdb_lmdb_err(rc);
		if ((rc = tdb_resize(r->db, 0)) != 0)
			return rc;
	}
	if ((rc = mdb_cursor_renew(r->txn, c)) == 0 &&
	    (gen = mdb_txn_id(r->txn)) != r->gen)
		rc = reader_refresh(r, gen);
	if (rc != 0) {
		mdb_txn_reset(r->txn);
		pthread_mutex_unlock(&r->lock);
		return tdb_lmdb_err(rc);
	}
	return 0;
}

static void
reader_leave(struct tdb_reader *r)
{
	mdb_txn_reset(r->txn);
	pthread_mutex_unlock(&r->lock);
}

static const char *
reader_cat(struct tdb_reader *r, uint8_t id)
{
	if (!r->cat_ok[id]) {
		if (tdb_cat_name(r->db, r->txn, id, r->cat[id]) != 0)
			r->cat[id][0] = 0;
		r->cat_ok[id] = true;
	}
	return r->cat[id];
}

static const char *
reader_feed(struct tdb_reader *r, uint16_t id)
{
	struct tdb_feed_slot *s = &r->feeds[id % TDB_FEED_SLOTS];

	if (s->id1 != (uint32_t)id + 1) {
		if (tdb_feed_name(r->db, r->txn, id, s->name) != 0)
			s->name[0] = 0;
		s->id1 = (uint32_t)id + 1;
	}
	return s->name;
}

/* ---- matching ---- */

/**
 * Look at every entry stored under the cursor's key (positioned on its
 * first value).  Allow values sort first, so the first covering allow
 * decides and nothing after the first block can.
 * \return 1 when an allow decided, 0, or a negative code
 */
static int
scan_values(MDB_cursor *c, MDB_val *v, bool is_prefix, bool self,
    unsigned depth, time_t now, struct best *alw, struct best *blk)
{
	struct tdb_val val;
	MDB_val k;
	int rc;

	do {
		if (v->mv_size != TDB_VAL_SIZE)
			return -EIO;
		if ((((const uint8_t *)v->mv_data)[0] & TDB_V_BLOCK) &&
		    blk->have)
			return 0;
		tdb_val_decode(v->mv_data, &val);
		if (tdb_val_covers(&val, is_prefix, self) &&
		    !tdb_val_expired(&val, now)) {
			struct best *b = val.allow ? alw : blk;

			b->have = true;
			b->v = val;
			b->depth = depth;
			return val.allow ? 1 : 0;
		}
	} while ((rc = mdb_cursor_get(c, &k, v, MDB_NEXT_DUP)) == 0);
	return rc == MDB_NOTFOUND ? 0 : tdb_lmdb_err(rc);
}

/** Labels the key k shares with the query (whose first d labels end at
 * ends[d]), fewer than n. */
static unsigned
common_labels(const MDB_val *k, const uint8_t *key, const uint16_t *ends,
    unsigned n)
{
	const uint8_t *a = k->mv_data;
	size_t lim = k->mv_size < ends[n] ? k->mv_size : ends[n], p = 0;
	unsigned d = 0;

	while (p < lim && a[p] == key[p])
		p++;
	while (d + 1 < n && ends[d + 1] <= p)
		d++;
	return d;
}

/**
 * The name itself, then the parents that can exist: those within the
 * labels shared with the greatest key below the name (any parent sorts
 * between them), and only label counts present in the database (after a
 * block is found, only those holding allow entries).
 */
static int
name_search(struct tdb_reader *r, const uint8_t *key, const uint16_t *ends,
    unsigned n, time_t now, struct best *alw, struct best *blk)
{
	MDB_cursor *c = r->cn;
	MDB_val k = { ends[n], (void *)key }, v;
	unsigned cp, d;
	int rc;

	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return tdb_lmdb_err(rc);
	if (rc == 0 && k.mv_size == ends[n] &&
	    memcmp(k.mv_data, key, k.mv_size) == 0) {
		if (bit(r->bits.names, n) &&
		    (rc = scan_values(c, &v, false, true, n, now, alw, blk)) != 0)
			return rc < 0 ? rc : 0;
	}
	if (n == 0)
		return 0;
	rc = mdb_cursor_get(c, &k, &v, rc == 0 ? MDB_PREV_NODUP : MDB_LAST);
	if (rc == MDB_NOTFOUND)
		return 0;	/* nothing sorts below: not even the root */
	if (rc != 0)
		return tdb_lmdb_err(rc);
	cp = common_labels(&k, key, ends, n);
	for (d = cp + 1; d-- > 0;) {
		const uint64_t *bits = blk->have ? r->bits.names_allow :
		    r->bits.names;
		MDB_val pk = { ends[d], d > 0 ? (void *)key : "" };

		if (!bit(bits, d))
			continue;
		if (d == cp && k.mv_size == ends[d] && d > 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_FIRST_DUP);
		else
			rc = mdb_cursor_get(c, &pk, &v, MDB_SET);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			return tdb_lmdb_err(rc);
		if ((rc = scan_values(c, &v, false, false, d, now, alw,
		    blk)) != 0)
			return rc < 0 ? rc : 0;
	}
	return 0;
}

static void
match_fill(struct tdb_reader *r, const struct best *b, bool is_prefix,
    unsigned qlabels, struct tdb_match *m)
{
	m->found = true;
	m->allow = b->v.allow;
	m->scope = (enum tdb_scope)b->v.scope;
	m->exact = !is_prefix && b->depth == qlabels;
	m->labels = is_prefix ? 0 : b->depth;
	m->plen = is_prefix ? (uint8_t)b->depth : 0;
	m->category_id = b->v.cat;
	m->feed_id = b->v.feed;
	m->action = (enum tdb_action)b->v.action;
	m->severity = b->v.severity;
	m->expires = b->v.expires;
	m->category = reader_cat(r, b->v.cat);
	m->feed = reader_feed(r, b->v.feed);
}

int
tdb_lookup_name(struct tdb_reader *r, const uint8_t *wire_name, time_t now,
    struct tdb_match *m)
{
	uint8_t key[TDB_NKEY_MAX];
	uint16_t ends[TDB_MAX_LABELS];
	struct best alw = { 0 }, blk = { 0 };
	unsigned n;
	int rc;

	if (m != NULL)
		memset(m, 0, sizeof(*m));
	if (r == NULL || wire_name == NULL || m == NULL)
		return -EINVAL;
	if ((rc = tdb_name_key_wire(wire_name, key, ends, &n)) != 0)
		return rc;
	if ((rc = reader_enter(r, r->cn)) != 0)
		return rc;
	rc = name_search(r, key, ends, n, now, &alw, &blk);
	if (rc == 0 && (alw.have || blk.have))
		match_fill(r, alw.have ? &alw : &blk, false, n, m);
	reader_leave(r);
	return rc;
}

static uint8_t
family_octet(int family)
{
	return family == AF_INET ? TDB_FAM4 : family == AF_INET6 ? TDB_FAM6 : 0;
}

int
tdb_lookup_addr(struct tdb_reader *r, int family, const uint8_t *addr,
    time_t now, struct tdb_match *m)
{
	uint8_t key[TDB_PKEY_MAX], fam = family_octet(family);
	struct best alw = { 0 }, blk = { 0 };
	const uint64_t *all, *allow;
	int rc = 0, l;

	if (m != NULL)
		memset(m, 0, sizeof(*m));
	if (r == NULL || addr == NULL || m == NULL || fam == 0)
		return -EINVAL;
	if ((rc = reader_enter(r, r->cp)) != 0)
		return rc;
	all = fam == TDB_FAM4 ? r->bits.p4 : r->bits.p6;
	allow = fam == TDB_FAM4 ? r->bits.p4_allow : r->bits.p6_allow;
	for (l = fam == TDB_FAM4 ? 32 : 128; l >= 0 && rc == 0; l--) {
		MDB_val k, v;

		if (!bit(blk.have ? allow : all, (unsigned)l))
			continue;
		k.mv_size = tdb_prefix_key(fam, addr, (unsigned)l, key);
		k.mv_data = key;
		if ((rc = mdb_cursor_get(r->cp, &k, &v, MDB_SET)) == 0)
			rc = scan_values(r->cp, &v, true, true, (unsigned)l, now,
			    &alw, &blk);
		else if (rc == MDB_NOTFOUND)
			rc = 0;
		else
			rc = tdb_lmdb_err(rc);
	}
	if (rc > 0)
		rc = 0;
	if (rc == 0 && (alw.have || blk.have))
		match_fill(r, alw.have ? &alw : &blk, true, 0, m);
	reader_leave(r);
	return rc;
}

/* ---- explaining ---- */

/** State of one explain call: the items, and the decision taken with the
 * hot path's rules from the entries in the order met. */
struct explain {
	struct tdb *db;
	MDB_txn *txn;
	time_t now;
	struct tdb_explain_item *items;
	size_t cap;
	struct tdb_explanation *x;
	long alw, blk;		/* item numbers, -1 = none */
	uint8_t akey[TDB_NKEY_MAX], bkey[TDB_NKEY_MAX];
	MDB_val ak, bk;
	struct tdb_val av, bv;
	unsigned adepth, bdepth;
};

static int
explain_value(struct explain *e, bool is_prefix, bool self, unsigned depth,
    const MDB_val *k, const MDB_val *v)
{
	struct tdb_val val;
	bool covers, expired;
	size_t i = e->x->n++;
	int rc;

	if (v->mv_size != TDB_VAL_SIZE)
		return -EIO;
	tdb_val_decode(v->mv_data, &val);
	covers = tdb_val_covers(&val, is_prefix, self);
	expired = tdb_val_expired(&val, e->now);
	if (covers && !expired && (val.allow ? e->alw : e->blk) < 0) {
		long *which = val.allow ? &e->alw : &e->blk;
		uint8_t *buf = val.allow ? e->akey : e->bkey;
		MDB_val *kk = val.allow ? &e->ak : &e->bk;

		*which = (long)i;
		memcpy(buf, k->mv_data, k->mv_size);
		kk->mv_size = k->mv_size;
		kk->mv_data = buf;
		*(val.allow ? &e->av : &e->bv) = val;
		*(val.allow ? &e->adepth : &e->bdepth) = depth;
	}
	if (i >= e->cap)
		return 0;
	e->items[i].labels = is_prefix ? 0 : depth;
	e->items[i].self = self;
	e->items[i].covers = covers;
	e->items[i].expired = expired;
	e->items[i].decides = false;
	rc = tdb_record_fill(e->db, e->txn, is_prefix, k, &val,
	    &e->items[i].rec);
	return rc;
}

static int
explain_key(struct explain *e, MDB_cursor *c, bool is_prefix, bool self,
    unsigned depth, MDB_val *k)
{
	MDB_val v;
	int rc;

	rc = mdb_cursor_get(c, k, &v, MDB_SET_KEY);
	for (; rc == 0; rc = mdb_cursor_get(c, k, &v, MDB_NEXT_DUP))
		if ((rc = explain_value(e, is_prefix, self, depth, k, &v)) != 0)
			return rc;
	return rc == MDB_NOTFOUND ? 0 : tdb_lmdb_err(rc);
}

/** Mark the decider and fill x->m and x->decider as tdb_lookup_* would. */
static int
explain_decide(struct explain *e, bool is_prefix, unsigned qlabels)
{
	struct tdb_explanation *x = e->x;
	struct tdb_match *m = &x->m;
	bool a = e->alw >= 0;
	const struct tdb_val *v = a ? &e->av : &e->bv;
	unsigned depth = a ? e->adepth : e->bdepth;
	long i = a ? e->alw : e->blk;
	int rc;

	if (i < 0)
		return 0;
	if ((size_t)i < e->cap)
		e->items[i].decides = true;
	if ((rc = tdb_record_fill(e->db, e->txn, is_prefix, a ? &e->ak : &e->bk,
	    v, &x->decider)) != 0)
		return rc;
	m->found = true;
	m->allow = v->allow;
	m->scope = (enum tdb_scope)v->scope;
	m->exact = !is_prefix && depth == qlabels;
	m->labels = is_prefix ? 0 : depth;
	m->plen = is_prefix ? (uint8_t)depth : 0;
	m->category_id = v->cat;
	m->feed_id = v->feed;
	m->action = (enum tdb_action)v->action;
	m->severity = v->severity;
	m->expires = v->expires;
	m->category = x->decider.e.category;
	m->feed = x->decider.feed;
	return 0;
}

static int
explain_begin(struct explain *e, struct tdb *db, time_t now,
    struct tdb_explain_item *items, size_t cap, struct tdb_explanation *x)
{
	memset(e, 0, sizeof(*e));
	memset(x, 0, sizeof(*x));
	e->db = db;
	e->now = now;
	e->items = items;
	e->cap = items != NULL ? cap : 0;
	e->x = x;
	e->alw = e->blk = -1;
	return tdb_txn_begin(db, false, &e->txn);
}

int
tdb_explain_name(struct tdb *db, const char *name, time_t now,
    struct tdb_explain_item *items, size_t cap, struct tdb_explanation *x)
{
	uint8_t key[TDB_NKEY_MAX];
	size_t ends[TDB_MAX_LABELS], klen;
	const char *why;
	struct explain e;
	MDB_cursor *c;
	unsigned n, d;
	int rc;

	if (db == NULL || name == NULL || x == NULL || (cap && items == NULL))
		return -EINVAL;
	if ((rc = tdb_name_key_text(name, key, &klen, &n, &why)) != 0)
		return rc;
	ends[0] = 1;
	for (size_t i = 0, l = 1; i < klen && n > 0; i++)
		if (key[i] == 0)
			ends[l++] = i + 1;
	if ((rc = explain_begin(&e, db, now, items, cap, x)) != 0)
		return rc;
	if ((rc = tdb_lmdb_err(mdb_cursor_open(e.txn, db->names, &c))) == 0) {
		for (d = n + 1; d-- > 0 && rc == 0;) {
			MDB_val k = { ends[d], d > 0 ? (void *)key : "" };

			rc = explain_key(&e, c, false, d == n, d, &k);
		}
		mdb_cursor_close(c);
	}
	if (rc == 0)
		rc = explain_decide(&e, false, n);
	tdb_txn_abort(db, e.txn);
	return rc;
}

int
tdb_explain_addr(struct tdb *db, int family, const uint8_t *addr, time_t now,
    struct tdb_explain_item *items, size_t cap, struct tdb_explanation *x)
{
	uint8_t key[TDB_PKEY_MAX], fam = family_octet(family);
	struct explain e;
	MDB_cursor *c;
	int rc, l;

	if (db == NULL || addr == NULL || x == NULL || fam == 0 ||
	    (cap && items == NULL))
		return -EINVAL;
	if ((rc = explain_begin(&e, db, now, items, cap, x)) != 0)
		return rc;
	if ((rc = tdb_lmdb_err(mdb_cursor_open(e.txn, db->prefixes, &c))) == 0) {
		for (l = fam == TDB_FAM4 ? 32 : 128; l >= 0 && rc == 0; l--) {
			MDB_val k = { tdb_prefix_key(fam, addr, (unsigned)l,
			    key), key };

			rc = explain_key(&e, c, true, true, (unsigned)l, &k);
		}
		mdb_cursor_close(c);
	}
	if (rc == 0)
		rc = explain_decide(&e, true, 0);
	tdb_txn_abort(db, e.txn);
	return rc;
}
