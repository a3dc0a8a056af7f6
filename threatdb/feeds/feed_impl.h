/* feed_impl.h -- what the feed parsers share: the parse context, the line
 * reader, and name/prefix helpers (private to threatdb/feeds/) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "threatdb/feeds/feed.h"

/** One parse: the caller's callbacks and the counters. */
struct feed_ctx {
	const char *file;
	const struct feed_opts *o;
	feed_emit_fn *emit;
	feed_report_fn *report;
	void *arg;
	struct feed_stats *st;
};

/** Reads lines of at most FEED_MAX_LINE bytes; longer ones are consumed
 * and flagged.  CR before LF and a UTF-8 BOM on line 1 are dropped. */
struct feed_reader {
	FILE *f;
	unsigned long lineno;	/* of the line in buf */
	size_t len;
	bool too_long;
	bool has_nul;
	char buf[FEED_MAX_LINE + 2];
};

void feed_reader_init(struct feed_reader *r, FILE *f);
/** \return 1 with a line in r->buf (NUL-terminated, r->len bytes), 0 at
 * the end of input, -EIO on a read error. */
int feed_reader_next(struct feed_reader *r) EG_MUSTCHECK;
/** Report r's line when it is too long or holds a NUL. \return true if so */
bool feed_reader_bad(struct feed_ctx *c, const struct feed_reader *r);

/** Report a bad line (printf-style reason). */
void feed_bad(struct feed_ctx *c, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Hand a good entry to the caller. \return 0 or the emit's code */
int feed_emit(struct feed_ctx *c, const struct tdb_entry *e) EG_MUSTCHECK;

/** Print s (len bytes) quoted, non-printable bytes as \xNN, cut to fit. */
void feed_quote(char *out, size_t size, const char *s, size_t len);

/** Why a name or prefix was refused: set by the helpers below. */
struct feed_why {
	char text[FEED_MAX_REASON];
};

/**
 * Fill e as a name entry from text: "*.x" gives x TDB_BELOW, anything else
 * def (or o->scope when set); refuses TLDs and the root unless allow_broad.
 * e is cleared first. \return 0 or -EINVAL with w set.
 */
int feed_name_entry(const struct feed_opts *o, const char *s, size_t len,
    enum tdb_scope def, struct tdb_entry *e, struct feed_why *w)
    EG_MUSTCHECK;

/** Whether a normalised name has at most one label (a TLD or the root). */
bool feed_name_is_broad(const char *name);

/**
 * Fill e as a prefix entry from "addr" or "addr/len" (v4 or v6); host bits
 * beyond len are refused, and /0 unless allow_broad.  e is cleared first.
 * \return 0 or -EINVAL with w set.
 */
int feed_prefix_entry(const struct feed_opts *o, const char *s, size_t len,
    struct tdb_entry *e, struct feed_why *w) EG_MUSTCHECK;

/** Check the family/plen/host bits of a prefix entry already filled in.
 * \return 0 or -EINVAL with w set. */
int feed_prefix_check(const struct feed_opts *o, struct tdb_entry *e,
    struct feed_why *w) EG_MUSTCHECK;

/** Whether s looks like an address or prefix rather than a name. */
bool feed_looks_like_address(const char *s, size_t len);

/** Trim blanks (space, tab) at both ends of [*s, *s + *len). */
void feed_trim(const char **s, size_t *len);

/* The parsers, one per format. \return as feed_parse() */
int feed_parse_text(struct feed_ctx *c, FILE *f) EG_MUSTCHECK;
int feed_parse_csv(struct feed_ctx *c, FILE *f) EG_MUSTCHECK;
int feed_parse_rpz(struct feed_ctx *c, FILE *f) EG_MUSTCHECK;
