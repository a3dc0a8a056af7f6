/* tdb_impl.h -- private to threatdb/: the structs behind the tdb handles and
 * the on-disk codecs (the layout is documented at the top of tdb.c) */
#pragma once

#include <lmdb.h>
#include <pthread.h>

#include "threatdb/tdb.h"

#define TDB_VAL_SIZE	9	/* every entry value, names and prefixes */
#define TDB_MAX_LABELS	128	/* 0..127 labels in a 255-octet name */
#define TDB_NKEY_MAX	TDB_MAX_NAME	/* reversed-label key */
#define TDB_PKEY_MAX	18	/* family + 16 address octets + plen */
#define TDB_FAM4	4	/* family byte of prefix keys */
#define TDB_FAM6	6

/* value octet 0 */
#define TDB_V_BLOCK	0x80	/* clear for allow entries: they sort first */
#define TDB_V_SCOPE	0x03	/* enum tdb_scope for names, 0 for prefixes */

/** meta "counts": entries per label count and per prefix length; what the
 * hot path turns into bitmaps of the lengths worth probing. */
struct tdb_counts {
	uint32_t names[TDB_MAX_LABELS];
	uint32_t names_allow[TDB_MAX_LABELS];
	uint32_t p4[33];
	uint32_t p4_allow[33];
	uint32_t p6[129];
	uint32_t p6_allow[129];
};
#define TDB_COUNTS_N	(sizeof(struct tdb_counts) / sizeof(uint32_t))

/** Which lengths have entries (bit i set: some entry has i labels or
 * prefix length i), derived from struct tdb_counts. */
struct tdb_bits {
	uint64_t names[2], names_allow[2];
	uint64_t p4[1], p4_allow[1];
	uint64_t p6[3], p6_allow[3];
};

struct tdb {
	MDB_env *env;
	MDB_dbi names, prefixes, meta, feeds, cats;
	bool writable;
	char *path;
	/* Held for reading by every transaction other than a reader's, for
	 * writing (with every reader's lock) while the map is resized:
	 * mdb_env_set_mapsize() needs no transaction alive in the process. */
	pthread_rwlock_t txn_lock;
	pthread_mutex_t readers_lock;	/* guards the list below */
	struct tdb_reader *readers;
};

struct tdb_feed_slot {
	uint32_t id1;			/* feed id + 1; 0 = empty */
	char name[TDB_MAX_FEED + 1];
};
#define TDB_FEED_SLOTS	64

struct tdb_reader {
	pthread_mutex_t lock;		/* held during a lookup; see txn_lock */
	struct tdb *db;
	struct tdb_reader *next;
	MDB_txn *txn;			/* reset between calls */
	MDB_cursor *cn, *cp;		/* names, prefixes */
	size_t gen;			/* snapshot the caches below are from */
	struct tdb_bits bits;
	bool cat_ok[256];
	char cat[256][TDB_MAX_CATEGORY + 1];
	struct tdb_feed_slot feeds[TDB_FEED_SLOTS];
};

/** A decoded entry value. */
struct tdb_val {
	bool allow;
	uint8_t scope;
	uint16_t feed;
	uint8_t cat;
	uint8_t action;
	uint8_t severity;
	uint32_t expires;
};

/* ---- tdb.c ---- */

/** MDB_MAP_FULL inside the library: writers grow the map and redo the
 * transaction; it never leaves a public function. */
#define TDB_EMAPFULL	(-(EG_EBASE + 64))

/** LMDB and system codes to 0 / -errno / -EG_EFORMAT. */
int tdb_lmdb_err(int rc);
void tdb_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Begin/end a non-reader transaction under txn_lock. */
int tdb_txn_begin(struct tdb *db, bool write, MDB_txn **txn) EG_MUSTCHECK;
void tdb_txn_abort(struct tdb *db, MDB_txn *txn);
int tdb_txn_commit(struct tdb *db, MDB_txn *txn) EG_MUSTCHECK;
/** Resize the map (0: adopt the size another process set), with every
 * transaction in this process stopped.  Caller holds no lock. */
int tdb_resize(struct tdb *db, size_t size) EG_MUSTCHECK;

void tdb_val_encode(const struct tdb_val *v, uint8_t out[TDB_VAL_SIZE]);
void tdb_val_decode(const uint8_t in[TDB_VAL_SIZE], struct tdb_val *v);
/** Does an entry value apply?  self: stored at the queried name itself. */
bool tdb_val_covers(const struct tdb_val *v, bool is_prefix, bool self);
bool tdb_val_expired(const struct tdb_val *v, time_t now);

/** Presentation name to key; *labels its label count. */
int tdb_name_key_text(const char *name, uint8_t key[TDB_NKEY_MAX],
    size_t *klen, unsigned *labels, const char **why) EG_MUSTCHECK;
/** Wire name to key; ends[d] is the key length of the first d labels
 * (the root, d = 0, is the special key "\0" of length 1). */
int tdb_name_key_wire(const uint8_t *wire, uint8_t key[TDB_NKEY_MAX],
    uint16_t ends[TDB_MAX_LABELS], unsigned *labels) EG_MUSTCHECK;
/** Key to presentation (no trailing dot; "" for the root). */
void tdb_name_key_print(const uint8_t *key, size_t klen,
    char out[TDB_MAX_NAME * 4 + 1], unsigned *labels);
/** Prefix key; host bits beyond plen are cleared.  \return key length */
size_t tdb_prefix_key(uint8_t fam, const uint8_t *addr, unsigned plen,
    uint8_t key[TDB_PKEY_MAX]);

int tdb_counts_read(struct tdb *db, MDB_txn *txn, struct tdb_counts *c)
    EG_MUSTCHECK;
int tdb_counts_write(struct tdb *db, MDB_txn *txn,
    const struct tdb_counts *c) EG_MUSTCHECK;
/** Count (delta +1/-1) one entry in c. */
void tdb_counts_add(struct tdb_counts *c, bool is_prefix, const MDB_val *k,
    bool allow, int delta);
void tdb_counts_bits(const struct tdb_counts *c, struct tdb_bits *b);

/** Names of ids (copied into out). \return 0 or -ENOENT */
int tdb_feed_name(struct tdb *db, MDB_txn *txn, uint16_t id,
    char out[TDB_MAX_FEED + 1]) EG_MUSTCHECK;
int tdb_cat_name(struct tdb *db, MDB_txn *txn, uint8_t id,
    char out[TDB_MAX_CATEGORY + 1]) EG_MUSTCHECK;
/** Feed record by name (id and info).  \return 0 or -ENOENT */
int tdb_feed_find(struct tdb *db, MDB_txn *txn, const char *name,
    struct tdb_feed_info *f) EG_MUSTCHECK;
int tdb_feed_put(struct tdb *db, MDB_txn *txn,
    const struct tdb_feed_info *f) EG_MUSTCHECK;
/** Fill a record from a stored key and value. */
int tdb_record_fill(struct tdb *db, MDB_txn *txn, bool is_prefix,
    const MDB_val *k, const struct tdb_val *v, struct tdb_record *r)
    EG_MUSTCHECK;
bool tdb_valid_text(const char *s, size_t max);
