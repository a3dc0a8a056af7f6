/* tdb.h -- the threat database: domain names and address prefixes in LMDB */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/eg.h"

struct tdb;
struct tdb_reader;
struct tdb_import;

#define TDB_DEFAULT_PATH	"/var/lib/egressd/threatdb"
#define TDB_FORMAT_VERSION	1	/* the on-disk format this code reads */
#define TDB_MAX_NAME		255	/* wire length */
#define TDB_MAX_LABEL_TEXT	64
#define TDB_MAX_FEED		64	/* feed name length */
#define TDB_MAX_SOURCE		255	/* feed source length */
#define TDB_MAX_CATEGORY	32	/* category name length */
#define TDB_MAX_CATEGORIES	255
#define TDB_MAX_FEEDS		65535
#define TDB_MAX_SEVERITY	10
#define TDB_ERRLEN		512	/* a comfortable size for err buffers */

/** What a name entry covers (a bit set: EXACT | BELOW == SUBTREE). */
enum tdb_scope {
	TDB_EXACT = 1,		/* the name only */
	TDB_BELOW = 2,		/* strictly below the name: "*.x" */
	TDB_SUBTREE = 3,	/* the name and everything below (EXACT|BELOW) */
};

/** The action a feed suggests; the tenant's policy has the last word. */
enum tdb_action {
	TDB_ACTION_NONE = 0,	/* no hint: the policy decides by category */
	TDB_ACTION_BLOCK,
	TDB_ACTION_REDIRECT,
	TDB_ACTION_LOG,
	TDB_ACTION_NXDOMAIN,	/* RPZ CNAME . */
	TDB_ACTION_NODATA,	/* RPZ CNAME *. */
	TDB_ACTION_DROP,	/* RPZ rpz-drop. */
};
#define TDB_ACTION_MAX	TDB_ACTION_DROP

/** One entry as importers produce it (names in presentation form,
 * lower-case, no trailing dot; "" is the root). */
struct tdb_entry {
	bool is_prefix;
	char name[TDB_MAX_NAME * 4 + 1];	/* when !is_prefix */
	enum tdb_scope scope;			/* when !is_prefix */
	uint8_t family;				/* AF_INET/AF_INET6, when is_prefix */
	uint8_t addr[16];
	uint8_t plen;
	bool allow;			/* allow entry: beats every block */
	char category[TDB_MAX_CATEGORY + 1];	/* "" = the import's default */
	enum tdb_action action;
	uint8_t severity;		/* 0..10, 0 = unset */
	int64_t expires;		/* unix seconds, 0 = never; stored as an
					 * unsigned 32-bit value, so later
					 * times are clamped to 2106-02-07 */
};

/** A decided match, as the hot path reports it.  Strings point into
 * buffers owned by the reader (never into the LMDB map, whose snapshot
 * is released before the call returns) and stay valid until the next
 * call on that reader. */
struct tdb_match {
	bool found;
	bool allow;
	bool exact;		/* matched the name itself (not a parent) */
	enum tdb_scope scope;	/* 0 for address matches */
	unsigned labels;	/* labels of the matching name */
	const char *category;	/* NUL-terminated, "" = none */
	const char *feed;	/* NUL-terminated */
	uint8_t category_id;	/* 0 = none; stable for the life of the db */
	uint16_t feed_id;	/* reused after tdb_remove_feed() */
	enum tdb_action action;
	uint8_t severity;
	int64_t expires;
	uint8_t plen;		/* address matches */
};

/** Feed metadata. */
struct tdb_feed_info {
	char name[TDB_MAX_FEED + 1];
	char source[TDB_MAX_SOURCE + 1];
	int64_t imported_at;	/* unix seconds of the last import */
	uint64_t entries;	/* names + prefixes, after duplicates merged */
	uint64_t names;
	uint64_t prefixes;
	uint8_t sha256[32];	/* as given to tdb_import_commit() */
	uint16_t id;
};

/** One stored entry, as export and explain report it: the entry with its
 * category resolved to text, and the feed it belongs to. */
struct tdb_record {
	struct tdb_entry e;	/* family is AF_INET/AF_INET6 */
	char feed[TDB_MAX_FEED + 1];
	uint16_t feed_id;
	uint8_t category_id;
};

/** Database-wide figures for `threatctl stats`. */
struct tdb_stats {
	uint32_t format_version;
	uint64_t generation;	/* LMDB's last committed transaction id */
	uint64_t names;		/* name entries (all feeds, incl. expired) */
	uint64_t names_allow;
	uint64_t prefixes4;
	uint64_t prefixes6;
	uint64_t prefixes_allow;
	uint64_t feeds;
	uint64_t categories;
	uint64_t map_size;	/* bytes the map may grow to now */
	uint64_t map_used;	/* bytes of pages in use (high-water mark) */
	uint64_t file_size;	/* data.mdb on disk (st_blocks * 512) */
	uint32_t page_size;
	uint32_t readers_max;
	uint32_t readers_used;
	uint32_t names_by_labels[128];	/* entries per label count */
};

/* ---- opening ---- */

/**
 * Open the environment at path, a directory.  With writable, the
 * directory (one level) and the database are created when missing and the
 * map is at least 64 MiB; without, a missing database is -ENOENT.  Runs
 * mdb_reader_check() to clear reader slots of dead processes.
 * Refuses a database of another format version with "threatdb at PATH has
 * format version N; this egressd reads version M" in err (-EG_EFORMAT).
 * \param err   receives a message on failure (may be NULL); TDB_ERRLEN fits
 * \return 0 and *out (caller frees with tdb_close()), or -ENOENT, -EACCES,
 *   -EG_EFORMAT, -EINVAL, -ENOMEM ...; on failure *out is left untouched.
 * Thread-safe once open: readers in any threads, writers serialised.
 */
int tdb_open(struct tdb **out, const char *path, bool writable, char *err,
    size_t errlen) EG_MUSTCHECK;
/** Close; every reader must have been freed.  tdb_close(NULL) is a no-op. */
void tdb_close(struct tdb *db);

/** The path given to tdb_open() (owned by db). */
const char *tdb_path(const struct tdb *db);

/** LMDB's last committed transaction id: changes whenever a feed does
 * (cheap cache invalidation for the resolver).  Any thread. */
uint64_t tdb_generation(struct tdb *db);

/**
 * Set the map size now (writable handles; rounded up to what is in use).
 * Imports grow the map by themselves on MDB_MAP_FULL; this is for tests
 * and tools that know the size in advance.  Waits for running lookups.
 * \return 0, -EINVAL, -EPERM (read-only handle)
 */
int tdb_set_mapsize(struct tdb *db, size_t bytes) EG_MUSTCHECK;

/* ---- the hot path: one reader per thread ---- */

/** A reader for one thread: one read transaction that every lookup renews
 * and resets, so no snapshot stays pinned between calls.
 * \return 0 and *out (free with tdb_reader_free() before tdb_close()),
 *   -ENOMEM, -EBUSY (LMDB reader table full). */
int tdb_reader_new(struct tdb_reader **out, struct tdb *db) EG_MUSTCHECK;
/** tdb_reader_free(NULL) is a no-op. */
void tdb_reader_free(struct tdb_reader *r);

/**
 * The entry that decides for a name: allow anywhere on the chain (the name
 * and its parents) beats block; otherwise the name itself (exact or subtree
 * entry) beats a parent (below or subtree entry), and a longer parent beats
 * a shorter one; entries with expires != 0 && expires <= now never match.
 * Among several entries for the same name and kind, the lowest feed id
 * decides.  No heap allocation; sees every commit made before the call.
 * \param wire_name an uncompressed wire-format name (any case), read up to
 *   its root label and never past 255 octets
 * \param m  filled in; on error m->found is false
 * \return 0 (m->found tells), -EINVAL (bad name), -EIO ...
 * Only the thread owning r may call it.
 */
int tdb_lookup_name(struct tdb_reader *r, const uint8_t *wire_name,
    time_t now, struct tdb_match *m) EG_MUSTCHECK;

/** The longest prefix holding addr (4 or 16 bytes by family AF_INET or
 * AF_INET6); allow anywhere beats block; same rules as above otherwise. */
int tdb_lookup_addr(struct tdb_reader *r, int family, const uint8_t *addr,
    time_t now, struct tdb_match *m) EG_MUSTCHECK;

/* ---- explaining (threatctl lookup; not for the hot path) ---- */

/** One entry met on the way: at the name itself or at one of its parents
 * (names), or at one prefix holding the address. */
struct tdb_explain_item {
	struct tdb_record rec;
	unsigned labels;	/* labels of the entry's name (names) */
	bool self;		/* stored at the queried name itself */
	bool covers;		/* its scope covers the query */
	bool expired;
	bool decides;		/* the entry tdb_lookup_* reports */
};

/** The outcome of an explain call. */
struct tdb_explanation {
	struct tdb_match m;	/* exactly what tdb_lookup_* decides; its
				 * strings point into decider */
	struct tdb_record decider;	/* valid when m.found */
	size_t n;		/* entries met; may exceed cap (then only
				 * cap items were filled) */
};

/**
 * Every entry stored at name and at each of its parents (longest first,
 * in database order within one name), with the one that decides marked.
 * Probes every parent (no shortcut), so it doubles as a check of the hot
 * path.  One read transaction; any thread.
 * \param name  presentation form ("" or "." is the root)
 * \param items caller's array of cap items (may be NULL when cap is 0)
 * \return 0, -EINVAL (bad name or arguments), -EIO ...
 */
int tdb_explain_name(struct tdb *db, const char *name, time_t now,
    struct tdb_explain_item *items, size_t cap, struct tdb_explanation *x)
    EG_MUSTCHECK;
/** The same for an address: every stored prefix holding it, longest first. */
int tdb_explain_addr(struct tdb *db, int family, const uint8_t *addr,
    time_t now, struct tdb_explain_item *items, size_t cap,
    struct tdb_explanation *x) EG_MUSTCHECK;

/* ---- listing (threatctl feeds / export / stats) ---- */

/** Called once per feed or entry with a borrowed pointer valid until it
 * returns; a nonzero return stops the walk and is returned.  The callback
 * must not write to the database (it runs inside a read transaction). */
typedef int tdb_feed_fn(void *arg, const struct tdb_feed_info *f);
typedef int tdb_record_fn(void *arg, const struct tdb_record *r);

/** Every feed, in id order.  \return 0, the callback's value, -EIO ... */
int tdb_feeds(struct tdb *db, tdb_feed_fn *fn, void *arg) EG_MUSTCHECK;
/** One feed by name.  \return 0, -ENOENT, -EINVAL */
int tdb_feed_get(struct tdb *db, const char *feed, struct tdb_feed_info *f)
    EG_MUSTCHECK;

/**
 * Every entry (names first, in reversed-label order, then IPv4 and IPv6
 * prefixes in address order), from one snapshot.
 * \param feed  only this feed, or NULL for all (-ENOENT if unknown)
 * \param now   skip entries expired at now; 0 reports expired ones too
 * \return 0, the callback's value, -ENOENT, -EIO ...
 */
int tdb_export(struct tdb *db, const char *feed, time_t now,
    tdb_record_fn *fn, void *arg) EG_MUSTCHECK;

/** Database-wide figures.  \return 0, -EIO ... */
int tdb_stats_get(struct tdb *db, struct tdb_stats *st) EG_MUSTCHECK;

/* ---- writing: one transaction per feed ---- */

/**
 * Start replacing feed `feed` (all of its old entries go in the same
 * transaction).  Entries are buffered in memory; nothing touches the
 * database before tdb_import_commit().
 * \param feed    1..TDB_MAX_FEED printable characters
 * \param source  where the feed came from (file, URL), may be NULL
 * \return 0 and *out (finish with tdb_import_commit() or
 *   tdb_import_abort()), -EINVAL, -EPERM (read-only handle), -ENOMEM
 */
int tdb_import_begin(struct tdb *db, const char *feed, const char *source,
    struct tdb_import **out) EG_MUSTCHECK;
/** The category of entries whose category is "" (default: none). */
int tdb_import_set_default_category(struct tdb_import *im,
    const char *category) EG_MUSTCHECK;
/**
 * Add one entry (copied).  Entries for the same name and scope (or the
 * same prefix) within one import are merged: the last one wins.
 * \return 0, -EINVAL (see tdb_entry_check()), -ENOMEM, -E2BIG (more than
 *   255 categories in one import)
 */
int tdb_import_add(struct tdb_import *im, const struct tdb_entry *e)
    EG_MUSTCHECK;
/** Entries buffered so far (after merging: counted at commit). */
size_t tdb_import_count(const struct tdb_import *im);
/**
 * Sort, then in ONE write transaction: delete the feed's old entries,
 * insert the new ones, update the feed record (imported_at = now, entry
 * counts, sha256, source).  A full map is grown and the transaction
 * redone; any failure leaves the database as it was, with a message in
 * err.  Frees im either way.
 * \param sha256 the feed file's checksum, or NULL (stored as zeros)
 * \return 0, -ENOSPC (disk or map limit), -E2BIG (too many categories or
 *   feeds), -EIO ...
 */
int tdb_import_commit(struct tdb_import *im, const uint8_t sha256[32],
    char *err, size_t errlen) EG_MUSTCHECK;
/** Drop the buffered entries; tdb_import_abort(NULL) is a no-op. */
void tdb_import_abort(struct tdb_import *im);

/** Remove a feed and all its entries in one transaction.
 * \return 0, -ENOENT (no such feed), -EPERM, -EIO ... */
int tdb_remove_feed(struct tdb *db, const char *feed) EG_MUSTCHECK;
/** Drop entries expired at now and update the feed counts, in one
 * transaction; *removed (may be NULL) counts them. */
int tdb_gc(struct tdb *db, time_t now, uint64_t *removed) EG_MUSTCHECK;

/**
 * Check an entry as tdb_import_add() will: a name of labels of printable
 * ASCII other than '.' and '\\' (case is folded), at most 255 octets in
 * wire form, no "*" first label (use TDB_BELOW); a prefix of family
 * AF_INET/AF_INET6 with plen <= 32/128 (host bits are cleared on import);
 * severity <= 10, a known action and scope, category <= 32 printable.
 * \return 0, or -EINVAL with *why (may be NULL) set to a static reason.
 */
int tdb_entry_check(const struct tdb_entry *e, const char **why)
    EG_MUSTCHECK;
