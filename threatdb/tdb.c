/* tdb.c -- the threat database: opening, on-disk codecs, listing, stats
 *
 * ON-DISK LAYOUT, format version 1 (TDB_FORMAT_VERSION)
 *
 * One LMDB environment: a directory holding data.mdb and lock.mdb, opened
 * with MDB_NOTLS (readers are not tied to threads), five named databases.
 * All multi-octet integers are big-endian unless said otherwise.
 *
 * "meta"       plain
 *   "version"  -> u32: the format version.  Any other value than
 *                 TDB_FORMAT_VERSION is refused at open (-EG_EFORMAT).
 *   "counts"   -> struct tdb_counts as little-endian u32s, 2320 octets:
 *                 names[128] names_allow[128] (entries per label count),
 *                 p4[33] p4_allow[33] p6[129] p6_allow[129] (entries per
 *                 prefix length).  Readers turn them into bitmaps, once per
 *                 snapshot, and probe only lengths that exist.
 *
 * "names"      MDB_DUPSORT | MDB_DUPFIXED, default (memcmp) order
 *   key  = the name's labels from the root down, each lower-cased and
 *          followed by 0x00: "www.example.com" -> "com\0example\0www\0".
 *          Labels hold printable ASCII other than '.' (imports refuse
 *          anything else), so 0x00 only ends labels, a parent's key is a
 *          prefix of its children's, and "the name or any parent" is an
 *          ordered probe: MDB_SET_RANGE on the query's key, step back to
 *          the greatest key below it, and only parents within the labels
 *          that key shares with the query can exist (Knot Resolver's
 *          cdb_read_leq()).  The root, whose key would be empty, is the
 *          single octet 0x00.  Query octets 0x00 become 0x01 so that no
 *          query label can equal a stored one by accident.
 *   data = 9 octets per entry, several per name (one per feed and scope):
 *          [0]    0x80 set = block, clear = allow (allow entries sort
 *                 first); bits 0-1: scope (1 exact, 2 below, 3 subtree)
 *          [1..2] feed id
 *          [3]    category id (0 = none)
 *          [4]    action (bits 0-3) | severity << 4
 *          [5..8] expires, u32 unix seconds, 0 = never
 *
 * "prefixes"   MDB_DUPSORT | MDB_DUPFIXED
 *   key  = family octet (4 or 6) + the address with host bits cleared
 *          (4 or 16 octets) + prefix length octet: 6 or 18 octets, so a
 *          walk lists prefixes in address order.
 *   data = as for names, scope bits 0.
 *
 * "feeds"      key = feed id (u16, 0..65534, the lowest free one is given
 *              to a new feed and reused after removal)
 *   data = imported_at i64 | names u64 | prefixes u64 | sha256[32] |
 *          name length u8 | name | source length u8 | source
 *          (57 + name + 1 + source octets).  Feeds are few: by name they
 *          are found with a walk.
 *
 * "categories" key = category id (1 octet, 1..255; 0 is "none", not stored)
 *   data = the name (1..32 octets, no NUL).  Ids are given on first use
 *          and never change or go away.
 *
 * Why this shape.  A leaf node costs 8 octets of header + key + 9 + a
 * 2-octet pointer, about 40 octets for a typical 20-character name;
 * imports insert in key order (MDB_APPEND past the current last key) so
 * leaf pages are full.  Values are fixed-size so several feeds listing the
 * same name share one key.  Category and feed are ids, resolved to text
 * only on a match (readers cache them per snapshot).
 *
 * Writers: one write transaction per import, removal or gc (see
 * tdb_write.c); readers renew one read transaction per lookup (see
 * tdb_lookup.c).  The map starts at 64 MiB and doubles on MDB_MAP_FULL.
 * Commits are fully synced (no MDB_NOSYNC or MDB_NOMETASYNC): a killed or
 * crashed import leaves the previous state.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "threatdb/tdb.h"
#include "threatdb/tdb_impl.h"

#define TDB_MAPSIZE_MIN	((size_t)64 << 20)
#define TDB_MAXDBS	8
#define TDB_MAXREADERS	254
#define TDB_FILE_MODE	0664

int
tdb_lmdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
		return TDB_EMAPFULL;
	case MDB_TXN_FULL:
		return -ENOSPC;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
	case MDB_INCOMPATIBLE:
		return -EG_EFORMAT;
	case MDB_READERS_FULL:
		return -EBUSY;
	case MDB_MAP_RESIZED:
		return -EAGAIN;
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI:
		return -EINVAL;
	case MDB_DBS_FULL:
	case MDB_TLS_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
		return -ENOMEM;
	default:
		if (rc > 0 && rc < EG_EBASE)
			return -rc;
		return -EIO;	/* MDB_CORRUPTED, MDB_PANIC, MDB_PAGE_NOTFOUND */
	}
}

void
tdb_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- transactions and the map ---- */

int
tdb_txn_begin(struct tdb *db, bool write, MDB_txn **txn)
{
	int rc;

	for (;;) {
		pthread_rwlock_rdlock(&db->txn_lock);
		rc = mdb_txn_begin(db->env, NULL, write ? 0 : MDB_RDONLY, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&db->txn_lock);
		if (rc != MDB_MAP_RESIZED)
			return tdb_lmdb_err(rc);
		if ((rc = tdb_resize(db, 0)) != 0)
			return rc;
	}
}

void
tdb_txn_abort(struct tdb *db, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&db->txn_lock);
}

int
tdb_txn_commit(struct tdb *db, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);	/* frees txn, also on failure */

	pthread_rwlock_unlock(&db->txn_lock);
	return tdb_lmdb_err(rc);
}

int
tdb_resize(struct tdb *db, size_t size)
{
	struct tdb_reader *r;
	int rc;

	pthread_rwlock_wrlock(&db->txn_lock);
	pthread_mutex_lock(&db->readers_lock);
	for (r = db->readers; r != NULL; r = r->next)
		pthread_mutex_lock(&r->lock);
	rc = mdb_env_set_mapsize(db->env, size);
	for (r = db->readers; r != NULL; r = r->next)
		pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&db->readers_lock);
	pthread_rwlock_unlock(&db->txn_lock);
	return tdb_lmdb_err(rc);
}

int
tdb_set_mapsize(struct tdb *db, size_t bytes)
{
	if (db == NULL || bytes == 0)
		return -EINVAL;
	if (!db->writable)
		return -EPERM;
	return tdb_resize(db, bytes);
}

/* ---- codecs ---- */

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void
tdb_val_encode(const struct tdb_val *v, uint8_t out[TDB_VAL_SIZE])
{
	out[0] = (uint8_t)((v->allow ? 0 : TDB_V_BLOCK) | (v->scope & TDB_V_SCOPE));
	put_be(out + 1, v->feed, 2);
	out[3] = v->cat;
	out[4] = (uint8_t)((v->action & 0x0f) | v->severity << 4);
	put_be(out + 5, v->expires, 4);
}

void
tdb_val_decode(const uint8_t in[TDB_VAL_SIZE], struct tdb_val *v)
{
	v->allow = !(in[0] & TDB_V_BLOCK);
	v->scope = in[0] & TDB_V_SCOPE;
	v->feed = (uint16_t)(in[1] << 8 | in[2]);
	v->cat = in[3];
	v->action = in[4] & 0x0f;
	v->severity = in[4] >> 4;
	v->expires = (uint32_t)get_be(in + 5, 4);
}

bool
tdb_val_covers(const struct tdb_val *v, bool is_prefix, bool self)
{
	if (is_prefix)
		return true;
	return (v->scope & (self ? TDB_EXACT : TDB_BELOW)) != 0;
}

bool
tdb_val_expired(const struct tdb_val *v, time_t now)
{
	return v->expires != 0 && (int64_t)v->expires <= (int64_t)now;
}

static bool
label_octet_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '.' && c != '\\';
}

int
tdb_name_key_text(const char *name, uint8_t key[TDB_NKEY_MAX], size_t *klen,
    unsigned *labels, const char **why)
{
	size_t len = strlen(name), starts[TDB_MAX_LABELS], n = 0, o = 0;

	if (len == 1 && name[0] == '.')
		len = 0;
	else if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0) {
		key[0] = 0;
		*klen = 1;
		*labels = 0;
		return 0;
	}
	if (len + 2 > TDB_MAX_NAME)
		return *why = "name longer than 255 octets", -EINVAL;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			size_t s = n ? starts[n - 1] : 0, l = i - s;

			if (l == 0)
				return *why = "empty label", -EINVAL;
			if (l > 63)
				return *why = "label longer than 63 octets", -EINVAL;
			if (n == TDB_MAX_LABELS - 1)
				return *why = "too many labels", -EINVAL;
			starts[n++] = i + 1;
		} else if (!label_octet_ok((unsigned char)name[i]))
			return *why = "a label holds a character other than "
			    "printable ASCII (escapes and IDN U-labels are not "
			    "accepted)", -EINVAL;
	}
	if (starts[0] == 2 && name[0] == '*')
		return *why = "\"*\" label: use scope below instead", -EINVAL;
	for (size_t j = n; j-- > 0;) {
		size_t s = j ? starts[j - 1] : 0, e = starts[j] - 1;

		for (size_t i = s; i < e; i++) {
			unsigned char c = (unsigned char)name[i];

			key[o++] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		key[o++] = 0;
	}
	*klen = o;
	*labels = (unsigned)n;
	return 0;
}

int
tdb_name_key_wire(const uint8_t *wire, uint8_t key[TDB_NKEY_MAX],
    uint16_t ends[TDB_MAX_LABELS], unsigned *labels)
{
	uint16_t at[TDB_MAX_LABELS];
	unsigned n = 0;
	size_t p = 0, o = 0;

	while (wire[p] != 0) {
		if (wire[p] > 63 || n == TDB_MAX_LABELS - 1)
			return -EINVAL;
		at[n++] = (uint16_t)p;
		p += wire[p] + 1u;
		if (p >= TDB_MAX_NAME)
			return -EINVAL;
	}
	ends[0] = 1;
	if (n == 0) {
		key[0] = 0;
		*labels = 0;
		return 0;
	}
	for (unsigned d = 1; d <= n; d++) {
		const uint8_t *l = wire + at[n - d];

		for (unsigned i = 1; i <= l[0]; i++) {
			uint8_t c = l[i];

			key[o++] = c >= 'A' && c <= 'Z' ? c + 32 : c ? c : 1;
		}
		key[o++] = 0;
		ends[d] = (uint16_t)o;
	}
	*labels = n;
	return 0;
}

void
tdb_name_key_print(const uint8_t *key, size_t klen,
    char out[TDB_MAX_NAME * 4 + 1], unsigned *labels)
{
	size_t starts[TDB_MAX_LABELS], n = 0, o = 0;

	if (klen <= 1) {
		out[0] = 0;
		*labels = 0;
		return;
	}
	for (size_t i = 0; i < klen && n < TDB_MAX_LABELS; ) {
		starts[n++] = i;
		while (i < klen && key[i] != 0)
			i++;
		i++;
	}
	for (size_t j = n; j-- > 0;) {
		for (size_t i = starts[j]; i < klen && key[i] != 0; i++)
			out[o++] = (char)key[i];
		if (j > 0)
			out[o++] = '.';
	}
	out[o] = 0;
	*labels = (unsigned)n;
}

size_t
tdb_prefix_key(uint8_t fam, const uint8_t *addr, unsigned plen,
    uint8_t key[TDB_PKEY_MAX])
{
	size_t alen = fam == TDB_FAM4 ? 4 : 16;

	key[0] = fam;
	for (size_t i = 0; i < alen; i++) {
		unsigned bits = plen > i * 8 ? plen - (unsigned)i * 8 : 0;

		key[1 + i] = bits >= 8 ? addr[i] :
		    (uint8_t)(addr[i] & (0xff00u >> bits));
	}
	key[1 + alen] = (uint8_t)plen;
	return alen + 2;
}

bool
tdb_valid_text(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != 0; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] == 0x7f ||
		    n >= max)
			return false;
	return true;
}

int
tdb_entry_check(const struct tdb_entry *e, const char **why)
{
	const char *dummy;
	uint8_t key[TDB_NKEY_MAX];
	size_t klen;
	unsigned labels;

	if (why == NULL)
		why = &dummy;
	if (e == NULL)
		return *why = "no entry", -EINVAL;
	if (e->severity > TDB_MAX_SEVERITY)
		return *why = "severity above 10", -EINVAL;
	if ((unsigned)e->action > TDB_ACTION_MAX)
		return *why = "unknown action", -EINVAL;
	if (memchr(e->category, 0, sizeof(e->category)) == NULL ||
	    !tdb_valid_text(e->category, TDB_MAX_CATEGORY))
		return *why = "category too long or not printable", -EINVAL;
	if (e->is_prefix) {
		if (e->family == AF_INET ? e->plen > 32 :
		    e->family == AF_INET6 ? e->plen > 128 : true)
			return *why = "bad address family or prefix length",
			    -EINVAL;
		return 0;
	}
	if (e->scope != TDB_EXACT && e->scope != TDB_BELOW &&
	    e->scope != TDB_SUBTREE)
		return *why = "unknown scope", -EINVAL;
	if (memchr(e->name, 0, sizeof(e->name)) == NULL)
		return *why = "name not terminated", -EINVAL;
	return tdb_name_key_text(e->name, key, &klen, &labels, why);
}

/* ---- meta counts ---- */

int
tdb_counts_read(struct tdb *db, MDB_txn *txn, struct tdb_counts *c)
{
	MDB_val k = { 6, "counts" }, v;
	uint32_t *w = (uint32_t *)c;
	const uint8_t *p;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = mdb_get(txn, db->meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return tdb_lmdb_err(rc);
	if (v.mv_size != TDB_COUNTS_N * 4)
		return -EIO;
	p = v.mv_data;
	for (size_t i = 0; i < TDB_COUNTS_N; i++, p += 4)
		w[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return 0;
}

int
tdb_counts_write(struct tdb *db, MDB_txn *txn, const struct tdb_counts *c)
{
	uint8_t buf[TDB_COUNTS_N * 4];
	const uint32_t *w = (const uint32_t *)c;
	MDB_val k = { 6, "counts" }, v = { sizeof(buf), buf };

	for (size_t i = 0; i < TDB_COUNTS_N; i++)
		for (int b = 0; b < 4; b++)
			buf[i * 4 + b] = (uint8_t)(w[i] >> (8 * b));
	return tdb_lmdb_err(mdb_put(txn, db->meta, &k, &v, 0));
}

void
tdb_counts_add(struct tdb_counts *c, bool is_prefix, const MDB_val *k,
    bool allow, int delta)
{
	const uint8_t *p = k->mv_data;
	uint32_t *all, *alw;
	size_t i;

	if (is_prefix) {
		i = p[k->mv_size - 1];
		all = p[0] == TDB_FAM4 ? c->p4 : c->p6;
		alw = p[0] == TDB_FAM4 ? c->p4_allow : c->p6_allow;
	} else {
		i = 0;
		if (k->mv_size > 1)
			for (size_t j = 0; j < k->mv_size; j++)
				i += p[j] == 0;
		all = c->names;
		alw = c->names_allow;
	}
	all[i] += (uint32_t)delta;
	if (allow)
		alw[i] += (uint32_t)delta;
}

static void
bits_from(const uint32_t *n, size_t len, uint64_t *bits)
{
	for (size_t i = 0; i < len; i++)
		if (n[i] != 0)
			bits[i / 64] |= (uint64_t)1 << (i % 64);
}

void
tdb_counts_bits(const struct tdb_counts *c, struct tdb_bits *b)
{
	memset(b, 0, sizeof(*b));
	bits_from(c->names, TDB_MAX_LABELS, b->names);
	bits_from(c->names_allow, TDB_MAX_LABELS, b->names_allow);
	bits_from(c->p4, 33, b->p4);
	bits_from(c->p4_allow, 33, b->p4_allow);
	bits_from(c->p6, 129, b->p6);
	bits_from(c->p6_allow, 129, b->p6_allow);
}

/* ---- feeds and categories ---- */

static int
feed_decode(const MDB_val *k, const MDB_val *v, struct tdb_feed_info *f)
{
	const uint8_t *p = v->mv_data;
	size_t nl, sl;

	memset(f, 0, sizeof(*f));
	if (k->mv_size != 2 || v->mv_size < 58)
		return -EIO;
	nl = p[56];
	if (nl == 0 || nl > TDB_MAX_FEED || v->mv_size < 58 + nl)
		return -EIO;
	sl = p[57 + nl];
	if (v->mv_size != 58 + nl + sl)
		return -EIO;
	f->id = (uint16_t)get_be(k->mv_data, 2);
	f->imported_at = (int64_t)get_be(p, 8);
	f->names = get_be(p + 8, 8);
	f->prefixes = get_be(p + 16, 8);
	f->entries = f->names + f->prefixes;
	memcpy(f->sha256, p + 24, 32);
	memcpy(f->name, p + 57, nl);
	memcpy(f->source, p + 58 + nl, sl);
	return 0;
}

int
tdb_feed_put(struct tdb *db, MDB_txn *txn, const struct tdb_feed_info *f)
{
	uint8_t kb[2], buf[58 + TDB_MAX_FEED + TDB_MAX_SOURCE];
	size_t nl = strlen(f->name), sl = strlen(f->source);
	MDB_val k = { 2, kb }, v = { 58 + nl + sl, buf };

	if (nl == 0 || nl > TDB_MAX_FEED || sl > TDB_MAX_SOURCE)
		return -EINVAL;
	put_be(kb, f->id, 2);
	put_be(buf, (uint64_t)f->imported_at, 8);
	put_be(buf + 8, f->names, 8);
	put_be(buf + 16, f->prefixes, 8);
	memcpy(buf + 24, f->sha256, 32);
	buf[56] = (uint8_t)nl;
	memcpy(buf + 57, f->name, nl);
	buf[57 + nl] = (uint8_t)sl;
	memcpy(buf + 58 + nl, f->source, sl);
	return tdb_lmdb_err(mdb_put(txn, db->feeds, &k, &v, 0));
}

int
tdb_feed_name(struct tdb *db, MDB_txn *txn, uint16_t id,
    char out[TDB_MAX_FEED + 1])
{
	uint8_t kb[2];
	MDB_val k = { 2, kb }, v;
	size_t nl;
	int rc;

	put_be(kb, id, 2);
	if ((rc = mdb_get(txn, db->feeds, &k, &v)) != 0)
		return tdb_lmdb_err(rc);
	nl = v.mv_size > 56 ? ((uint8_t *)v.mv_data)[56] : 0;
	if (nl == 0 || nl > TDB_MAX_FEED || v.mv_size < 58 + nl)
		return -EIO;
	memcpy(out, (uint8_t *)v.mv_data + 57, nl);
	out[nl] = 0;
	return 0;
}

int
tdb_cat_name(struct tdb *db, MDB_txn *txn, uint8_t id,
    char out[TDB_MAX_CATEGORY + 1])
{
	MDB_val k = { 1, &id }, v;
	int rc;

	out[0] = 0;
	if (id == 0)
		return 0;
	if ((rc = mdb_get(txn, db->cats, &k, &v)) != 0)
		return tdb_lmdb_err(rc);
	if (v.mv_size > TDB_MAX_CATEGORY)
		return -EIO;
	memcpy(out, v.mv_data, v.mv_size);
	out[v.mv_size] = 0;
	return 0;
}

int
tdb_feed_find(struct tdb *db, MDB_txn *txn, const char *name,
    struct tdb_feed_info *f)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t nl = strlen(name);
	int rc;

	if ((rc = mdb_cursor_open(txn, db->feeds, &c)) != 0)
		return tdb_lmdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;

		if (v.mv_size > 57 + nl && p[56] == nl &&
		    memcmp(p + 57, name, nl) == 0) {
			rc = feed_decode(&k, &v, f);
			mdb_cursor_close(c);
			return rc;
		}
	}
	mdb_cursor_close(c);
	return tdb_lmdb_err(rc);
}

int
tdb_record_fill(struct tdb *db, MDB_txn *txn, bool is_prefix,
    const MDB_val *k, const struct tdb_val *v, struct tdb_record *r)
{
	struct tdb_entry *e = &r->e;
	const uint8_t *p = k->mv_data;
	unsigned labels;
	int rc;

	memset(r, 0, sizeof(*r));
	e->is_prefix = is_prefix;
	if (is_prefix) {
		e->family = p[0] == TDB_FAM4 ? AF_INET : AF_INET6;
		memcpy(e->addr, p + 1, k->mv_size - 2);
		e->plen = p[k->mv_size - 1];
	} else {
		tdb_name_key_print(p, k->mv_size, e->name, &labels);
		e->scope = (enum tdb_scope)v->scope;
	}
	e->allow = v->allow;
	e->action = (enum tdb_action)v->action;
	e->severity = v->severity;
	e->expires = v->expires;
	r->feed_id = v->feed;
	r->category_id = v->cat;
	if ((rc = tdb_cat_name(db, txn, v->cat, e->category)) != 0)
		return rc;
	return tdb_feed_name(db, txn, v->feed, r->feed);
}

/* ---- opening ---- */

static int
version_check(struct tdb *db, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k = { 7, "version" }, v;
	uint8_t vb[4];
	uint32_t ver;
	int rc;

	rc = mdb_get(txn, db->meta, &k, &v);
	if (rc == MDB_NOTFOUND && db->writable) {
		put_be(vb, TDB_FORMAT_VERSION, 4);
		v.mv_size = 4;
		v.mv_data = vb;
		return tdb_lmdb_err(mdb_put(txn, db->meta, &k, &v, 0));
	}
	if (rc != 0 || v.mv_size != 4) {
		tdb_errf(err, errlen, "threatdb at %s has no format version "
		    "(not a threat database?)", db->path);
		return -EG_EFORMAT;
	}
	ver = (uint32_t)get_be(v.mv_data, 4);
	if (ver != TDB_FORMAT_VERSION) {
		tdb_errf(err, errlen, "threatdb at %s has format version %u; "
		    "this egressd reads version %u", db->path, ver,
		    TDB_FORMAT_VERSION);
		return -EG_EFORMAT;
	}
	return 0;
}

static int
dbis_open(struct tdb *db, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned flags;
	} t[] = {
		{ "meta", offsetof(struct tdb, meta), 0 },
		{ "names", offsetof(struct tdb, names), MDB_DUPSORT | MDB_DUPFIXED },
		{ "prefixes", offsetof(struct tdb, prefixes), MDB_DUPSORT | MDB_DUPFIXED },
		{ "feeds", offsetof(struct tdb, feeds), 0 },
		{ "categories", offsetof(struct tdb, cats), 0 },
	};
	MDB_txn *txn;
	unsigned create = db->writable ? MDB_CREATE : 0;
	int rc;

	if ((rc = mdb_txn_begin(db->env, NULL, db->writable ? 0 : MDB_RDONLY,
	    &txn)) != 0) {
		tdb_errf(err, errlen, "threatdb at %s: %s", db->path,
		    mdb_strerror(rc));
		return tdb_lmdb_err(rc);
	}
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		MDB_dbi *d = (MDB_dbi *)((char *)db + t[i].off);

		if ((rc = mdb_dbi_open(txn, t[i].name, t[i].flags | create,
		    d)) != 0) {
			mdb_txn_abort(txn);
			if (rc == MDB_NOTFOUND && i == 0) {
				tdb_errf(err, errlen, "threatdb at %s is "
				    "empty: import a feed with threatctl",
				    db->path);
				return -ENOENT;
			}
			tdb_errf(err, errlen, "threatdb at %s: database "
			    "\"%s\": %s", db->path, t[i].name,
			    mdb_strerror(rc));
			return rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE ?
			    -EG_EFORMAT : tdb_lmdb_err(rc);
		}
		if (i == 0 && (rc = version_check(db, txn, err, errlen)) != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		tdb_errf(err, errlen, "threatdb at %s: %s", db->path,
		    mdb_strerror(rc));
		return tdb_lmdb_err(rc);
	}
	return 0;
}

static int
env_open(struct tdb *db, char *err, size_t errlen)
{
	unsigned flags = MDB_NOTLS | (db->writable ? 0 : MDB_RDONLY);
	MDB_envinfo info;
	int rc, dead;

	if ((rc = mdb_env_create(&db->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(db->env, TDB_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_maxreaders(db->env, TDB_MAXREADERS)) != 0)
		goto fail;
	if (db->writable && mkdir(db->path, 0755) != 0 && errno != EEXIST) {
		rc = errno;
		goto fail;
	}
	if ((rc = mdb_env_open(db->env, db->path, flags, TDB_FILE_MODE)) != 0)
		goto fail;
	mdb_reader_check(db->env, &dead);
	mdb_env_info(db->env, &info);
	if (db->writable && info.me_mapsize < TDB_MAPSIZE_MIN &&
	    (rc = mdb_env_set_mapsize(db->env, TDB_MAPSIZE_MIN)) != 0)
		goto fail;
	return 0;
fail:
	if (rc == ENOENT && !db->writable)
		tdb_errf(err, errlen, "threatdb at %s does not exist: import "
		    "a feed with threatctl first", db->path);
	else if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
		tdb_errf(err, errlen, "threatdb at %s is not an LMDB database "
		    "this liblmdb can read (%s)", db->path, mdb_strerror(rc));
	else
		tdb_errf(err, errlen, "threatdb at %s: %s", db->path,
		    mdb_strerror(rc));
	return tdb_lmdb_err(rc);
}

int
tdb_open(struct tdb **out, const char *path, bool writable, char *err,
    size_t errlen)
{
	struct tdb *db;
	int rc;

	if (out == NULL || path == NULL || *path == 0) {
		tdb_errf(err, errlen, "threatdb: no path");
		return -EINVAL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		free(db);
		tdb_errf(err, errlen, "threatdb at %s: out of memory", path);
		return -ENOMEM;
	}
	db->writable = writable;
	pthread_rwlock_init(&db->txn_lock, NULL);
	pthread_mutex_init(&db->readers_lock, NULL);
	if ((rc = env_open(db, err, errlen)) != 0 ||
	    (rc = dbis_open(db, err, errlen)) != 0) {
		tdb_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void
tdb_close(struct tdb *db)
{
	if (db == NULL)
		return;
	if (db->env != NULL)
		mdb_env_close(db->env);
	pthread_rwlock_destroy(&db->txn_lock);
	pthread_mutex_destroy(&db->readers_lock);
	free(db->path);
	free(db);
}

const char *
tdb_path(const struct tdb *db)
{
	return db->path;
}

uint64_t
tdb_generation(struct tdb *db)
{
	MDB_envinfo info;

	if (db == NULL || mdb_env_info(db->env, &info) != 0)
		return 0;
	return info.me_last_txnid;
}

/* ---- listing ---- */

int
tdb_feeds(struct tdb *db, tdb_feed_fn *fn, void *arg)
{
	struct tdb_feed_info f;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (db == NULL || fn == NULL)
		return -EINVAL;
	if ((rc = tdb_txn_begin(db, false, &txn)) != 0)
		return rc;
	if ((rc = tdb_lmdb_err(mdb_cursor_open(txn, db->feeds, &c))) == 0) {
		int g;

		for (g = mdb_cursor_get(c, &k, &v, MDB_FIRST); g == 0 && rc == 0;
		    g = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if ((rc = feed_decode(&k, &v, &f)) == 0)
				rc = fn(arg, &f);
		if (rc == 0 && g != MDB_NOTFOUND)
			rc = tdb_lmdb_err(g);
		mdb_cursor_close(c);
	}
	tdb_txn_abort(db, txn);
	return rc;
}

int
tdb_feed_get(struct tdb *db, const char *feed, struct tdb_feed_info *f)
{
	MDB_txn *txn;
	int rc;

	if (db == NULL || feed == NULL || f == NULL)
		return -EINVAL;
	if ((rc = tdb_txn_begin(db, false, &txn)) != 0)
		return rc;
	rc = tdb_feed_find(db, txn, feed, f);
	tdb_txn_abort(db, txn);
	return rc;
}

static int
export_db(struct tdb *db, MDB_txn *txn, bool is_prefix, int feed, time_t now,
    tdb_record_fn *fn, void *arg)
{
	struct tdb_record rec;
	struct tdb_val val;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, g;

	if ((rc = mdb_cursor_open(txn, is_prefix ? db->prefixes : db->names,
	    &c)) != 0)
		return tdb_lmdb_err(rc);
	for (g = mdb_cursor_get(c, &k, &v, MDB_FIRST); g == 0 && rc == 0;
	    g = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size != TDB_VAL_SIZE) {
			rc = -EIO;
			break;
		}
		tdb_val_decode(v.mv_data, &val);
		if ((feed >= 0 && val.feed != feed) ||
		    (now != 0 && tdb_val_expired(&val, now)))
			continue;
		if ((rc = tdb_record_fill(db, txn, is_prefix, &k, &val,
		    &rec)) == 0)
			rc = fn(arg, &rec);
	}
	if (rc == 0 && g != MDB_NOTFOUND)
		rc = tdb_lmdb_err(g);
	mdb_cursor_close(c);
	return rc;
}

int
tdb_export(struct tdb *db, const char *feed, time_t now, tdb_record_fn *fn,
    void *arg)
{
	struct tdb_feed_info f;
	MDB_txn *txn;
	int rc, id = -1;

	if (db == NULL || fn == NULL)
		return -EINVAL;
	if ((rc = tdb_txn_begin(db, false, &txn)) != 0)
		return rc;
	if (feed != NULL && (rc = tdb_feed_find(db, txn, feed, &f)) == 0)
		id = f.id;
	if (rc == 0)
		rc = export_db(db, txn, false, id, now, fn, arg);
	if (rc == 0)
		rc = export_db(db, txn, true, id, now, fn, arg);
	tdb_txn_abort(db, txn);
	return rc;
}

static uint64_t
sum(const uint32_t *n, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += n[i];
	return s;
}

static void
stats_env(struct tdb *db, struct tdb_stats *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;
	char file[4096];

	mdb_env_info(db->env, &info);
	mdb_env_stat(db->env, &ms);
	st->page_size = ms.ms_psize;
	st->map_size = info.me_mapsize;
	st->map_used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	st->readers_max = info.me_maxreaders;
	st->readers_used = info.me_numreaders;
	snprintf(file, sizeof(file), "%s/data.mdb", db->path);
	if (stat(file, &sb) == 0)
		st->file_size = (uint64_t)sb.st_blocks * 512;
}

int
tdb_stats_get(struct tdb *db, struct tdb_stats *st)
{
	struct tdb_counts c;
	MDB_stat ms;
	MDB_txn *txn;
	int rc;

	if (db == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if ((rc = tdb_txn_begin(db, false, &txn)) != 0)
		return rc;
	if ((rc = tdb_counts_read(db, txn, &c)) == 0) {
		st->format_version = TDB_FORMAT_VERSION;
		st->generation = mdb_txn_id(txn);
		st->names = sum(c.names, TDB_MAX_LABELS);
		st->names_allow = sum(c.names_allow, TDB_MAX_LABELS);
		st->prefixes4 = sum(c.p4, 33);
		st->prefixes6 = sum(c.p6, 129);
		st->prefixes_allow = sum(c.p4_allow, 33) + sum(c.p6_allow, 129);
		memcpy(st->names_by_labels, c.names, sizeof(c.names));
		if (mdb_stat(txn, db->feeds, &ms) == 0)
			st->feeds = ms.ms_entries;
		if (mdb_stat(txn, db->cats, &ms) == 0)
			st->categories = ms.ms_entries;
	}
	tdb_txn_abort(db, txn);
	stats_env(db, st);
	return rc;
}
