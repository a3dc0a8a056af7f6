/* threatctl.h -- the threat database tool: what its files share (the
 * commands, and the pure helpers of threatctl_util.c, unit-tested alone) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/eg.h"
#include "threatdb/tdb.h"

/* Exit codes (threatctl(8)). */
#define TCTL_OK		0
#define TCTL_FAIL	1	/* bad input, a failed command */
#define TCTL_USAGE	2	/* bad command line */

/* ---- commands (tools/threatctl.c, tools/threatctl_show.c) ---- */

/** A command: argv[0] is its name; db_path as given by -d or the
 * environment.  \return an exit code */
typedef int tctl_cmd_fn(const char *db_path, int argc, char **argv);

tctl_cmd_fn tctl_import, tctl_check, tctl_remove, tctl_feeds, tctl_lookup,
    tctl_export, tctl_stats, tctl_gc;

/** Open the database at path, printing "threatctl: PATH: reason" on
 * failure.  \return 0 or an exit code (TCTL_FAIL) */
int tctl_open(struct tdb **out, const char *path, bool writable);

/** Text for a negative code of the threat database or of errno. */
const char *tctl_strerror(int err);

/** Print "threatctl: " fmt "\n" on stderr. */
void tctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** The same, then "try 'threatctl -h'"; \return TCTL_USAGE */
int tctl_usage_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* ---- pure helpers (tools/threatctl_util.c) ---- */

/**
 * A duration: one or more NUMBER UNIT pairs, UNIT one of s, m, h, d, w
 * ("30d", "12h", "1d12h"); a bare number is refused (ambiguous).
 * \return 0 with *secs set (> 0), or -EINVAL (*secs untouched)
 */
int tctl_duration_parse(const char *s, int64_t *secs) EG_MUSTCHECK;

/**
 * --expires: a duration from now, or an RFC 3339 UTC time or a date
 * (feed_time_parse()); a bare number is refused.
 * \return 0 with *out set (unix seconds), or -EINVAL (*out untouched)
 */
int tctl_expires_parse(const char *s, int64_t now, int64_t *out)
    EG_MUSTCHECK;

/** "block", "redirect", "log", "nxdomain", "nodata", "drop" (and "none");
 * \return 0 or -EINVAL (*out untouched) */
int tctl_action_parse(const char *s, enum tdb_action *out) EG_MUSTCHECK;
/** The name tctl_action_parse() takes; "none" for TDB_ACTION_NONE. */
const char *tctl_action_name(enum tdb_action a);

/** A category as feeds write it: 1..TDB_MAX_CATEGORY of [a-z0-9-], case
 * folded into out (TDB_MAX_CATEGORY + 1 bytes).  \return 0 or -EINVAL */
int tctl_category_parse(const char *s, char *out) EG_MUSTCHECK;

/** A feed name: 1..TDB_MAX_FEED printable ASCII characters, no blanks.
 * \return 0 or -EINVAL */
int tctl_feed_name_check(const char *s) EG_MUSTCHECK;

/** Unix seconds as "2026-12-31T00:00:00Z" ("never" for 0) into out,
 * at least 32 bytes. */
void tctl_time_format(int64_t t, char *out, size_t size);

/** Lower-case hex of n bytes into out (2n + 1 bytes). */
void tctl_hex(const uint8_t *in, size_t n, char *out);

/** A name in zone-file text: labels joined by '.', every byte other than
 * [A-Za-z0-9_-] as \DDD.  "" (the root) gives "".
 * \return 0, or -ENOSPC when out (size bytes) is too small */
int tctl_zone_name(const char *name, char *out, size_t size) EG_MUSTCHECK;

/**
 * The RPZ owner (relative to the zone) for a prefix entry:
 * "24.0.2.0.192.rpz-ip", "48.zz.db8.2001.rpz-ip" (the longest run of two
 * or more zero groups as "zz").
 * \return 0, -EINVAL (not a prefix), -ENOSPC (out too small)
 */
int tctl_rpz_ip_owner(const struct tdb_entry *e, char *out, size_t size)
    EG_MUSTCHECK;

/** An address range [lo, hi] of one family (numbers in the low 32 bits
 * for IPv4). */
struct tctl_range {
	unsigned __int128 lo, hi;
};

/** A prefix as a range (family AF_INET or AF_INET6). */
struct tctl_range tctl_prefix_range(int family, const uint8_t *addr,
    unsigned plen);

/**
 * Sort and merge ranges (overlapping or adjacent) in place.
 * \return the new count
 */
size_t tctl_ranges_merge(struct tctl_range *r, size_t n);

/**
 * Subtract the sorted, merged ranges sub[0..nsub) from the sorted, merged
 * ranges r[0..n), into out (room for n + nsub ranges).
 * \return the count written to out
 */
size_t tctl_ranges_subtract(const struct tctl_range *r, size_t n,
    const struct tctl_range *sub, size_t nsub, struct tctl_range *out);

/**
 * The next prefix of the shortest list covering a range exactly: the
 * largest aligned block starting at r->lo that fits, in a family of
 * `bits` (32 or 128) address bits.  Advances r->lo past it.
 * \return the prefix length; *more is false after the last one
 */
unsigned tctl_range_next_prefix(struct tctl_range *r, unsigned bits,
    unsigned __int128 *start, bool *more);
