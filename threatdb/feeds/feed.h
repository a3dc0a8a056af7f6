/* feed.h -- reading threat feeds: six formats in, tdb entries out (no I/O
 * beyond the FILE given, no database access, no global state) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "resolver/eg.h"
#include "threatdb/tdb.h"

/** Longest line accepted, without its line end (LF or CRLF). */
#define FEED_MAX_LINE		4096
/** Longest reason handed to a feed_report_fn, with its NUL. */
#define FEED_MAX_REASON		160

enum feed_format {
	FEED_DOMAINS,	/* one name per line: the name and its subdomains */
	FEED_HOSTS,	/* "0.0.0.0 name [name...]": each name exactly */
	FEED_ADBLOCK,	/* "||name^" block, "@@||name^" allow: name and subdomains */
	FEED_RPZ,	/* RPZ zone file (ldns): owner says exact or "*." */
	FEED_CIDR,	/* one address or prefix per line */
	FEED_CSV,	/* indicator,category[,severity[,expires]] */
};
#define FEED_NFORMATS	6

struct feed_opts {
	enum feed_format format;
	/* 0: the format's default for names (domains, adblock, csv:
	 * TDB_SUBTREE; hosts and RPZ "x": TDB_EXACT); else TDB_EXACT,
	 * TDB_SUBTREE or TDB_BELOW for every name.  An explicit wildcard
	 * ("*.x", RPZ "*.x" owners) is always TDB_BELOW. */
	enum tdb_scope scope;
	/* Accept entries on a top-level domain, the root, or /0. */
	bool allow_broad;
	/* Unused for now: reserved for relative CSV expiry. */
	time_t now;
};

/**
 * Called for every good entry, in file order.  e is borrowed, valid until
 * the callback returns.  Its category is "" unless the feed names one (CSV);
 * its action is TDB_ACTION_NONE unless the feed says one (RPZ): the caller
 * fills in --category / --action defaults.  The same name may come twice
 * (repeated lines; RPZ "x" and "*.x" give an EXACT and a BELOW entry).
 * \return 0 to go on; a negative code stops the parse and feed_parse()
 * returns it.
 */
typedef int feed_emit_fn(void *arg, const struct tdb_entry *e);

/**
 * Called for every bad line, in file order (RPZ: the line where the record
 * starts), and parsing goes on.  file and reason are borrowed, valid until
 * the callback returns; reason is a short text without file or line, e.g.
 * "label longer than 63 octets".  Print it as "FILE:LINE: reason".
 */
typedef void feed_report_fn(void *arg, const char *file, unsigned long line,
    const char *reason);

struct feed_stats {
	unsigned long lines;	/* lines read */
	unsigned long entries;	/* entries emitted */
	unsigned long bad;	/* reports made */
};

/**
 * Parse a whole feed from f (read to its end, not closed).  Bad lines are
 * reported and skipped; blank lines and comments are ignored.  Not thread
 * safe per FILE; separate calls share nothing.
 * \param file the name used in reports (borrowed)
 * \param o    options (borrowed)
 * \param st   filled in, may be NULL; valid also when parsing stopped
 * \return 0 (even with bad lines: see st->bad), a negative code from emit,
 *         -EINVAL for bad arguments, -EIO on a read error, -ENOMEM.
 */
int feed_parse(FILE *f, const char *file, const struct feed_opts *o,
    feed_emit_fn *emit, feed_report_fn *report, void *arg,
    struct feed_stats *st) EG_MUSTCHECK;

/** "domains", "hosts", "adblock", "rpz", "cidr", "csv" (case-insensitive).
 * \return 0, or -EINVAL with *out untouched */
int feed_format_parse(const char *name, enum feed_format *out) EG_MUSTCHECK;
/** The name feed_format_parse() takes; "?" for an unknown value. */
const char *feed_format_name(enum feed_format f);

/**
 * Normalise a domain name as feeds write it: case folded, one trailing dot
 * dropped, each label 1..63 octets of letters, digits, '-' or '_', at most
 * 253 characters, the last label not all digits; "" or "." is the root
 * (out ""). Non-ASCII is refused (IDN must come as A-labels). No wildcard.
 * \param out at least TDB_MAX_NAME * 4 + 1 bytes; untouched on failure
 * \return 0, or -EINVAL with *why set to a static reason.
 */
int feed_name_normalise(const char *in, size_t len, char *out,
    const char **why) EG_MUSTCHECK;

/**
 * Parse an RFC 3339 UTC time ("2026-12-31T00:00:00Z", fraction allowed),
 * a date ("2026-12-31", midnight UTC) or unix seconds ("1798675200").
 * \return 0 with *out set, or -EINVAL (*out untouched).
 */
int feed_time_parse(const char *in, size_t len, int64_t *out) EG_MUSTCHECK;
