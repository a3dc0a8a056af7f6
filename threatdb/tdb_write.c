/* tdb_write.c -- imports, feed removal and gc: one write transaction each,
 * redone on a larger map when LMDB says the map is full */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "threatdb/tdb.h"
#include "threatdb/tdb_impl.h"

#define TDB_MAPSIZE_MAX	((size_t)1 << 40)	/* where growing stops */
#define TDB_NOCHANGE	1	/* a write_fn found nothing to do */

/** One buffered entry; its key lives in the import's arena. */
struct imrec {
	uint64_t k8;		/* first 8 key octets, big-endian: quick order */
	uint32_t koff;
	uint32_t seq;		/* order of tdb_import_add(): the last wins */
	uint32_t expires;
	uint8_t klen;
	uint8_t kind;		/* 0 names, 1 prefixes (names are stored first) */
	uint8_t v0;		/* value octet 0: block bit | scope */
	uint8_t cat;		/* index into the import's category table */
	uint8_t actsev;
};

struct tdb_import {
	struct tdb *db;
	char feed[TDB_MAX_FEED + 1];
	char source[TDB_MAX_SOURCE + 1];
	struct imrec *recs;
	size_t n, cap;
	uint8_t *arena;		/* keys */
	size_t alen, acap;
	char cats[TDB_MAX_CATEGORIES + 1][TDB_MAX_CATEGORY + 1];
	unsigned ncats;		/* used: 1..ncats, 0 = none */
	unsigned last_cat;
	unsigned default_cat;
};

typedef int write_fn(struct tdb *db, MDB_txn *txn, void *arg);

static int
grow(struct tdb *db)
{
	MDB_envinfo info;

	mdb_env_info(db->env, &info);
	if (info.me_mapsize >= TDB_MAPSIZE_MAX)
		return -ENOSPC;
	return tdb_resize(db, info.me_mapsize * 2);
}

/** Run fn in one write transaction and commit; on a full map, grow it and
 * run fn again from the start. */
static int
write_txn(struct tdb *db, write_fn *fn, void *arg, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if (!db->writable)
		return -EPERM;
	for (;;) {
		if ((rc = tdb_txn_begin(db, true, &txn)) != 0)
			return rc;
		if ((rc = fn(db, txn, arg)) == 0)
			rc = tdb_txn_commit(db, txn);
		else
			tdb_txn_abort(db, txn);
		if (rc == TDB_NOCHANGE)
			return 0;
		if (rc != TDB_EMAPFULL)
			return rc;
		if ((rc = grow(db)) != 0) {
			tdb_errf(err, errlen, "threatdb at %s: the map cannot "
			    "grow further (%s); nothing was changed", db->path,
			    strerror(-rc));
			return -ENOSPC;
		}
	}
}

/* ---- deleting entries ---- */

/** What to delete, and the tallies of what was. */
struct sweep {
	int feed;		/* entries of this feed, or -1 */
	time_t expired_at;	/* entries expired at this time, or 0 */
	struct tdb_counts *c;
	uint64_t *per_feed;	/* [65536][2] names, prefixes; or NULL */
	uint64_t removed;
};

/** Buffer of (key, value) pairs to delete: LMDB's cursor after
 * mdb_cursor_del() in a MDB_DUPSORT database may skip the next value, so
 * a sweep collects first and deletes after. */
struct doomed {
	uint8_t *buf;
	size_t len, cap;
};

static int
doomed_add(struct doomed *d, const MDB_val *k, const MDB_val *v)
{
	size_t need = 1 + k->mv_size + TDB_VAL_SIZE;

	if (d->len + need > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 65536;
		uint8_t *p = realloc(d->buf, cap);

		if (p == NULL)
			return -ENOMEM;
		d->buf = p;
		d->cap = cap;
	}
	d->buf[d->len] = (uint8_t)k->mv_size;
	memcpy(d->buf + d->len + 1, k->mv_data, k->mv_size);
	memcpy(d->buf + d->len + 1 + k->mv_size, v->mv_data, TDB_VAL_SIZE);
	d->len += need;
	return 0;
}

static int
doomed_delete(MDB_txn *txn, MDB_dbi dbi, const struct doomed *d)
{
	int rc;

	for (size_t o = 0; o < d->len; o += 1 + d->buf[o] + TDB_VAL_SIZE) {
		MDB_val k = { d->buf[o], d->buf + o + 1 };
		MDB_val v = { TDB_VAL_SIZE, d->buf + o + 1 + d->buf[o] };

		if ((rc = mdb_del(txn, dbi, &k, &v)) != 0)
			return tdb_lmdb_err(rc);
	}
	return 0;
}

static int
sweep_db(struct tdb *db, MDB_txn *txn, bool is_prefix, struct sweep *s)
{
	MDB_dbi dbi = is_prefix ? db->prefixes : db->names;
	struct doomed d = { NULL, 0, 0 };
	struct tdb_val val;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return tdb_lmdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size != TDB_VAL_SIZE) {
			rc = EIO;
			break;
		}
		tdb_val_decode(v.mv_data, &val);
		if (!(s->feed >= 0 && val.feed == s->feed) &&
		    !(s->expired_at != 0 && tdb_val_expired(&val, s->expired_at)))
			continue;
		tdb_counts_add(s->c, is_prefix, &k, val.allow, -1);
		if (s->per_feed != NULL)
			s->per_feed[val.feed * 2 + is_prefix]++;
		s->removed++;
		if (doomed_add(&d, &k, &v) != 0) {
			rc = ENOMEM;
			break;
		}
	}
	mdb_cursor_close(c);
	rc = rc == MDB_NOTFOUND ? doomed_delete(txn, dbi, &d) : tdb_lmdb_err(rc);
	free(d.buf);
	return rc;
}

/** Delete every entry of feed f: a walk, or two drops when f is the only
 * feed (then the entries are exactly the database's). */
static int
delete_feed_entries(struct tdb *db, MDB_txn *txn,
    const struct tdb_feed_info *f, struct tdb_counts *c)
{
	struct sweep s = { .feed = f->id, .c = c };
	MDB_stat ms;
	int rc;

	if (f->entries == 0)
		return 0;
	if ((rc = mdb_stat(txn, db->feeds, &ms)) != 0)
		return tdb_lmdb_err(rc);
	if (ms.ms_entries == 1) {
		memset(c, 0, sizeof(*c));
		if ((rc = mdb_drop(txn, db->names, 0)) == 0)
			rc = mdb_drop(txn, db->prefixes, 0);
		return tdb_lmdb_err(rc);
	}
	if ((rc = sweep_db(db, txn, false, &s)) != 0)
		return rc;
	return sweep_db(db, txn, true, &s);
}

/* ---- importing ---- */

int
tdb_import_begin(struct tdb *db, const char *feed, const char *source,
    struct tdb_import **out)
{
	struct tdb_import *im;

	if (db == NULL || feed == NULL || out == NULL || *feed == 0 ||
	    strlen(feed) > TDB_MAX_FEED || !tdb_valid_text(feed, TDB_MAX_FEED) ||
	    (source != NULL && (strlen(source) > TDB_MAX_SOURCE ||
	    !tdb_valid_text(source, TDB_MAX_SOURCE))))
		return -EINVAL;
	if (!db->writable)
		return -EPERM;
	if ((im = calloc(1, sizeof(*im))) == NULL)
		return -ENOMEM;
	im->db = db;
	strcpy(im->feed, feed);
	if (source != NULL)
		strcpy(im->source, source);
	*out = im;
	return 0;
}

/** Local index of a category (interned per import). */
static int
cat_index(struct tdb_import *im, const char *name, unsigned *idx)
{
	unsigned i;

	if (*name == 0) {
		*idx = 0;
		return 0;
	}
	if (im->last_cat != 0 && strcmp(im->cats[im->last_cat], name) == 0) {
		*idx = im->last_cat;
		return 0;
	}
	for (i = 1; i <= im->ncats; i++)
		if (strcmp(im->cats[i], name) == 0)
			break;
	if (i > im->ncats) {
		if (im->ncats == TDB_MAX_CATEGORIES)
			return -E2BIG;
		strcpy(im->cats[++im->ncats], name);
	}
	*idx = im->last_cat = i;
	return 0;
}

int
tdb_import_set_default_category(struct tdb_import *im, const char *category)
{
	if (im == NULL || category == NULL ||
	    strlen(category) > TDB_MAX_CATEGORY ||
	    !tdb_valid_text(category, TDB_MAX_CATEGORY))
		return -EINVAL;
	return cat_index(im, category, &im->default_cat);
}

static int
reserve(struct tdb_import *im, size_t klen)
{
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 4096;
		struct imrec *p;

		if (cap > UINT32_MAX ||
		    (p = realloc(im->recs, cap * sizeof(*p))) == NULL)
			return -ENOMEM;
		im->recs = p;
		im->cap = cap;
	}
	if (im->alen + klen > im->acap) {
		size_t cap = im->acap ? im->acap * 2 : 65536;
		uint8_t *p;

		if (cap > UINT32_MAX || (p = realloc(im->arena, cap)) == NULL)
			return -ENOMEM;
		im->arena = p;
		im->acap = cap;
	}
	return 0;
}

static uint32_t
expires32(int64_t t)
{
	if (t == 0)
		return 0;
	if (t < 0)
		return 1;	/* long expired */
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

int
tdb_import_add(struct tdb_import *im, const struct tdb_entry *e)
{
	uint8_t key[TDB_NKEY_MAX];
	struct imrec *r;
	size_t klen;
	unsigned labels, cat;
	const char *why;
	int rc;

	if (im == NULL || e == NULL)
		return -EINVAL;
	if ((rc = tdb_entry_check(e, &why)) != 0)
		return rc;
	if (e->is_prefix)
		klen = tdb_prefix_key(e->family == AF_INET ? TDB_FAM4 : TDB_FAM6,
		    e->addr, e->plen, key);
	else if ((rc = tdb_name_key_text(e->name, key, &klen, &labels,
	    &why)) != 0)
		return rc;
	if ((rc = cat_index(im, e->category, &cat)) != 0 ||
	    (rc = reserve(im, klen)) != 0)
		return rc;
	r = &im->recs[im->n];
	r->k8 = 0;
	for (size_t i = 0; i < 8; i++)
		r->k8 = r->k8 << 8 | (i < klen ? key[i] : 0);
	r->koff = (uint32_t)im->alen;
	r->seq = (uint32_t)im->n++;
	r->expires = expires32(e->expires);
	r->klen = (uint8_t)klen;
	r->kind = e->is_prefix;
	r->v0 = (uint8_t)((e->allow ? 0 : TDB_V_BLOCK) |
	    (e->is_prefix ? 0 : e->scope));
	r->cat = (uint8_t)(cat ? cat : im->default_cat);
	r->actsev = (uint8_t)(e->action | e->severity << 4);
	memcpy(im->arena + im->alen, key, klen);
	im->alen += klen;
	return 0;
}

size_t
tdb_import_count(const struct tdb_import *im)
{
	return im != NULL ? im->n : 0;
}

void
tdb_import_abort(struct tdb_import *im)
{
	if (im == NULL)
		return;
	free(im->recs);
	free(im->arena);
	free(im);
}

/* qsort has no context argument: the arena of the import being sorted. */
static __thread const uint8_t *sort_arena;

/** Key order as LMDB's default comparison (memcmp, then length). */
static int
key_cmp(const struct imrec *a, const struct imrec *b)
{
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int c;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->k8 != b->k8)
		return a->k8 < b->k8 ? -1 : 1;
	if ((c = memcmp(sort_arena + a->koff, sort_arena + b->koff, n)) != 0)
		return c;
	return a->klen - b->klen;
}

static int
rec_cmp(const void *pa, const void *pb)
{
	const struct imrec *a = pa, *b = pb;
	int c;

	if ((c = key_cmp(a, b)) != 0)
		return c;
	if ((a->v0 & TDB_V_SCOPE) != (b->v0 & TDB_V_SCOPE))
		return (a->v0 & TDB_V_SCOPE) - (b->v0 & TDB_V_SCOPE);
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/** Sort by key, scope and order of arrival; keep the last of each (key,
 * scope). */
static void
sort_merge(struct tdb_import *im)
{
	size_t o = 0;

	sort_arena = im->arena;
	qsort(im->recs, im->n, sizeof(*im->recs), rec_cmp);
	for (size_t i = 0; i < im->n; i++) {
		const struct imrec *a = &im->recs[i], *b = a + 1;

		if (i + 1 < im->n && key_cmp(a, b) == 0 &&
		    (a->v0 & TDB_V_SCOPE) == (b->v0 & TDB_V_SCOPE))
			continue;
		im->recs[o++] = *a;
	}
	im->n = o;
}

/** Database ids of the import's categories, given on first use. */
static int
cats_intern(struct tdb *db, MDB_txn *txn, const struct tdb_import *im,
    uint8_t map[TDB_MAX_CATEGORIES + 1])
{
	MDB_cursor *c;
	MDB_val k, v;
	unsigned top = 0, found = 0;
	int rc;

	memset(map, 0, TDB_MAX_CATEGORIES + 1);
	if (im->ncats == 0)
		return 0;
	if ((rc = mdb_cursor_open(txn, db->cats, &c)) != 0)
		return tdb_lmdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t id = *(uint8_t *)k.mv_data;

		top = id > top ? id : top;
		for (unsigned i = 1; i <= im->ncats; i++)
			if (!map[i] && strlen(im->cats[i]) == v.mv_size &&
			    memcmp(im->cats[i], v.mv_data, v.mv_size) == 0) {
				map[i] = id;
				found++;
			}
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return tdb_lmdb_err(rc);
	for (unsigned i = 1; i <= im->ncats && found < im->ncats; i++) {
		uint8_t id;

		if (map[i])
			continue;
		if (top == TDB_MAX_CATEGORIES)
			return -E2BIG;
		id = (uint8_t)++top;
		k.mv_size = 1;
		k.mv_data = &id;
		v.mv_size = strlen(im->cats[i]);
		v.mv_data = (void *)im->cats[i];
		if ((rc = mdb_put(txn, db->cats, &k, &v, MDB_NOOVERWRITE)) != 0)
			return tdb_lmdb_err(rc);
		map[i] = id;
	}
	return 0;
}

/** The feed's record, or a new one with the lowest free id. */
static int
feed_prepare(struct tdb *db, MDB_txn *txn, const char *name,
    struct tdb_feed_info *f)
{
	static const size_t words = (TDB_MAX_FEEDS + 64) / 64;
	uint64_t used[(TDB_MAX_FEEDS + 64) / 64] = { 0 };
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = tdb_feed_find(db, txn, name, f)) != -ENOENT)
		return rc;
	memset(f, 0, sizeof(*f));
	strcpy(f->name, name);
	if ((rc = mdb_cursor_open(txn, db->feeds, &c)) != 0)
		return tdb_lmdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;
		unsigned id = (unsigned)p[0] << 8 | p[1];

		used[id / 64] |= (uint64_t)1 << (id % 64);
	}
	mdb_cursor_close(c);
	for (size_t w = 0; w < words; w++)
		if (~used[w] != 0) {
			unsigned id = (unsigned)(w * 64) +
			    (unsigned)__builtin_ctzll(~used[w]);

			if (id >= TDB_MAX_FEEDS)
				break;
			f->id = (uint16_t)id;
			return 0;
		}
	return -E2BIG;
}

static int
key_beyond(MDB_txn *txn, MDB_dbi dbi, const MDB_val *k, const MDB_val *last)
{
	return last->mv_size == 0 || mdb_cmp(txn, dbi, k, last) > 0;
}

/** Insert the sorted entries, appending while past the last stored key
 * (full pages, no search). */
static int
insert_all(struct tdb *db, MDB_txn *txn, const struct tdb_import *im,
    uint16_t feed, const uint8_t *catmap, struct tdb_counts *cnt,
    struct tdb_feed_info *f)
{
	MDB_cursor *c = NULL;
	MDB_val last = { 0, NULL }, prev = { 0, NULL }, k, v;
	uint8_t vb[TDB_VAL_SIZE], lastbuf[TDB_NKEY_MAX];
	MDB_dbi dbi = 0;
	int kind = -1, rc = 0, beyond = 0;

	for (size_t i = 0; i < im->n && rc == 0; i++) {
		const struct imrec *r = &im->recs[i];
		struct tdb_val val = {
			.allow = !(r->v0 & TDB_V_BLOCK), .scope = r->v0 & TDB_V_SCOPE,
			.feed = feed, .cat = catmap[r->cat],
			.action = r->actsev & 0x0f, .severity = r->actsev >> 4,
			.expires = r->expires,
		};
		unsigned flags = 0;

		if (r->kind != kind) {
			if (c != NULL)
				mdb_cursor_close(c);
			kind = r->kind;
			dbi = kind ? db->prefixes : db->names;
			if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
				return tdb_lmdb_err(rc);
			/* copied: the page it is on changes as we insert */
			rc = mdb_cursor_get(c, &last, &v, MDB_LAST);
			if (rc == MDB_NOTFOUND)
				last.mv_size = 0;	/* mv_data is NULL */
			else if (rc != 0)
				break;
			else
				memcpy(lastbuf, last.mv_data, last.mv_size);
			last.mv_data = lastbuf;
			beyond = 0;
			prev.mv_size = 0;
			rc = 0;
		}
		k.mv_size = r->klen;
		k.mv_data = im->arena + r->koff;
		if (!beyond)
			beyond = key_beyond(txn, dbi, &k, &last);
		if (beyond && (prev.mv_size != k.mv_size ||
		    memcmp(prev.mv_data, k.mv_data, k.mv_size) != 0))
			flags = MDB_APPEND;
		tdb_val_encode(&val, vb);
		v.mv_size = TDB_VAL_SIZE;
		v.mv_data = vb;
		if ((rc = mdb_cursor_put(c, &k, &v, flags | MDB_NODUPDATA)) != 0)
			break;
		prev = k;
		tdb_counts_add(cnt, kind, &k, val.allow, +1);
		*(kind ? &f->prefixes : &f->names) += 1;
	}
	if (c != NULL)
		mdb_cursor_close(c);
	return tdb_lmdb_err(rc);
}

struct import_ctx {
	struct tdb_import *im;
	const uint8_t *sha256;
	char *err;
	size_t errlen;
};

static int
import_run(struct tdb *db, MDB_txn *txn, void *arg)
{
	struct import_ctx *x = arg;
	struct tdb_import *im = x->im;
	uint8_t catmap[TDB_MAX_CATEGORIES + 1];
	struct tdb_counts c;
	struct tdb_feed_info f;
	int rc;

	if ((rc = tdb_counts_read(db, txn, &c)) != 0 ||
	    (rc = feed_prepare(db, txn, im->feed, &f)) != 0 ||
	    (rc = delete_feed_entries(db, txn, &f, &c)) != 0 ||
	    (rc = cats_intern(db, txn, im, catmap)) != 0)
		goto fail;
	f.names = f.prefixes = 0;
	if ((rc = insert_all(db, txn, im, f.id, catmap, &c, &f)) != 0)
		goto fail;
	f.imported_at = time(NULL);
	f.entries = f.names + f.prefixes;
	memset(f.sha256, 0, sizeof(f.sha256));
	if (x->sha256 != NULL)
		memcpy(f.sha256, x->sha256, 32);
	strcpy(f.source, im->source);
	if ((rc = tdb_feed_put(db, txn, &f)) != 0 ||
	    (rc = tdb_counts_write(db, txn, &c)) != 0)
		goto fail;
	return 0;
fail:
	if (rc == -E2BIG)
		tdb_errf(x->err, x->errlen, "threatdb at %s: feed %s: too many "
		    "%s", db->path, im->feed, f.name[0] ? "categories (255 at "
		    "most)" : "feeds (65535 at most)");
	return rc;
}

int
tdb_import_commit(struct tdb_import *im, const uint8_t sha256[32], char *err,
    size_t errlen)
{
	struct import_ctx x = { im, sha256, err, errlen };
	int rc;

	if (im == NULL) {
		tdb_errf(err, errlen, "threatdb: no import");
		return -EINVAL;
	}
	if (err != NULL && errlen > 0)
		err[0] = 0;
	sort_merge(im);
	rc = write_txn(im->db, import_run, &x, err, errlen);
	if (rc != 0 && (err == NULL || errlen == 0 || err[0] == 0))
		tdb_errf(err, errlen, "threatdb at %s: importing feed %s "
		    "failed: %s; nothing was changed", im->db->path, im->feed,
		    rc == -ENOSPC ? "no space left (disk full?)" :
		    strerror(rc < 0 && rc > -EG_EBASE ? -rc : EIO));
	tdb_import_abort(im);
	return rc;
}

/* ---- removal and gc ---- */

static int
remove_run(struct tdb *db, MDB_txn *txn, void *arg)
{
	struct tdb_feed_info f;
	struct tdb_counts c;
	uint8_t kb[2];
	MDB_val k = { 2, kb };
	int rc;

	if ((rc = tdb_counts_read(db, txn, &c)) != 0 ||
	    (rc = tdb_feed_find(db, txn, arg, &f)) != 0 ||
	    (rc = delete_feed_entries(db, txn, &f, &c)) != 0)
		return rc;
	kb[0] = (uint8_t)(f.id >> 8);
	kb[1] = (uint8_t)f.id;
	if ((rc = mdb_del(txn, db->feeds, &k, NULL)) != 0)
		return tdb_lmdb_err(rc);
	return tdb_counts_write(db, txn, &c);
}

int
tdb_remove_feed(struct tdb *db, const char *feed)
{
	if (db == NULL || feed == NULL || *feed == 0)
		return -EINVAL;
	return write_txn(db, remove_run, (void *)feed, NULL, 0);
}

struct gc_ctx {
	time_t now;
	uint64_t *per_feed;
	uint64_t removed;
};

/** Lower the entry counts of the feeds that lost entries. */
static int
gc_feeds(struct tdb *db, MDB_txn *txn, const uint64_t *per_feed)
{
	struct tdb_feed_info f;
	char name[TDB_MAX_FEED + 1];
	int rc;

	for (unsigned id = 0; id < TDB_MAX_FEEDS; id++) {
		const uint64_t *gone = per_feed + id * 2;

		if (gone[0] == 0 && gone[1] == 0)
			continue;
		if ((rc = tdb_feed_name(db, txn, (uint16_t)id, name)) != 0 ||
		    (rc = tdb_feed_find(db, txn, name, &f)) != 0)
			return rc;
		f.names -= gone[0] < f.names ? gone[0] : f.names;
		f.prefixes -= gone[1] < f.prefixes ? gone[1] : f.prefixes;
		f.entries = f.names + f.prefixes;
		if ((rc = tdb_feed_put(db, txn, &f)) != 0)
			return rc;
	}
	return 0;
}

static int
gc_run(struct tdb *db, MDB_txn *txn, void *arg)
{
	struct gc_ctx *g = arg;
	struct tdb_counts c;
	struct sweep s = { .feed = -1, .expired_at = g->now, .c = &c,
	    .per_feed = g->per_feed };
	int rc;

	memset(g->per_feed, 0, (size_t)65536 * 2 * sizeof(uint64_t));
	g->removed = 0;
	if ((rc = tdb_counts_read(db, txn, &c)) != 0 ||
	    (rc = sweep_db(db, txn, false, &s)) != 0 ||
	    (rc = sweep_db(db, txn, true, &s)) != 0)
		return rc;
	if ((g->removed = s.removed) == 0)
		return TDB_NOCHANGE;
	if ((rc = gc_feeds(db, txn, g->per_feed)) != 0)
		return rc;
	return tdb_counts_write(db, txn, &c);
}

int
tdb_gc(struct tdb *db, time_t now, uint64_t *removed)
{
	struct gc_ctx g = { .now = now };
	int rc;

	if (removed != NULL)
		*removed = 0;
	if (db == NULL || now <= 0)
		return -EINVAL;
	if ((g.per_feed = calloc((size_t)65536 * 2, sizeof(uint64_t))) == NULL)
		return -ENOMEM;
	rc = write_txn(db, gc_run, &g, NULL, 0);
	if (rc == 0 && removed != NULL)
		*removed = g.removed;
	free(g.per_feed);
	return rc;
}
