/* threatctl.c -- the threat database tool: the command line, and the
 * commands that write (import, check, remove, gc); see threatctl(8) */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "threatdb/feeds/feed.h"
#include "threatdb/tdb.h"
#include "tools/threatctl.h"

#define TCTL_ENV_DB		"EGRESSD_THREATDB"
#define TCTL_MAX_ENTRIES	50000000UL	/* entries one import buffers */
#define TCTL_MAX_REPORTS	1000UL		/* bad lines printed per run */
#define TCTL_READ_CHUNK		65536

static const char usage_text[] =
"usage: threatctl [-d DB] COMMAND [ARGS]\n"
"  import --feed NAME --format FORMAT [OPTIONS] FILE|-\n"
"  check --format FORMAT [OPTIONS] FILE|-\n"
"         FORMAT: domains hosts adblock rpz cidr csv\n"
"         OPTIONS: --category C  --action A  --severity 0..10\n"
"                  --expires DURATION|DATE  --exact | --subdomains\n"
"                  --strict  --allow-broad\n"
"  remove --feed NAME\n"
"  feeds\n"
"  lookup NAME|ADDRESS\n"
"  export --format rpz|nft|domains [--feed NAME] [--origin ZONE]\n"
"         [--table NAME]\n"
"  stats\n"
"  gc\n"
"DB defaults to $" TCTL_ENV_DB " or " TDB_DEFAULT_PATH ".\n";

/* ---- shared helpers ---- */

const char *
tctl_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == EG_EFORMAT)
		return "not a threat database of this version";
	return strerror(err);
}

void
tctl_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("threatctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
tctl_usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("threatctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry 'threatctl -h'\n", stderr);
	return TCTL_USAGE;
}

int
tctl_open(struct tdb **out, const char *path, bool writable)
{
	char err[TDB_ERRLEN] = "";
	int r;

	if ((r = tdb_open(out, path, writable, err, sizeof(err))) == 0)
		return TCTL_OK;
	if (r == -ENOENT && err[0] == '\0')
		tctl_err("%s: no threat database there (import a feed "
		    "first, or give one with -d)", path);
	else if (err[0] != '\0')
		tctl_err("%s", err);
	else
		tctl_err("%s: %s", path, tctl_strerror(r));
	return TCTL_FAIL;
}

/* ---- import and check ---- */

struct import_args {
	const char *feed;
	const char *file;		/* "-" is standard input */
	struct feed_opts fo;
	bool fo_format_set;
	char category[TDB_MAX_CATEGORY + 1];
	enum tdb_action action;
	int severity;			/* -1: not given */
	int64_t expires;		/* 0: not given */
	bool strict;
};

/* The input, hashed as the parser reads it. */
struct hashed_input {
	int fd;
	EVP_MD_CTX *md;
	int err;			/* errno of a failed read, or EIO */
};

/* One parse: where entries go and what was seen. */
struct import_run {
	const struct import_args *a;
	struct tdb_import *im;		/* NULL for check */
	const char *file;		/* as reported */
	unsigned long reported;		/* bad lines printed so far */
	unsigned long lines, bad;	/* from the parser */
	uint64_t entries, names, prefixes, allows, expired;
	int64_t now;
	int err;			/* why the parse was stopped */
};

static ssize_t
hashed_read(void *cookie, char *buf, size_t size)
{
	struct hashed_input *h = cookie;
	ssize_t n;

	do
		n = read(h->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		h->err = errno;
		return -1;
	}
	if (n > 0 && EVP_DigestUpdate(h->md, buf, (size_t)n) != 1) {
		h->err = EIO;
		errno = EIO;
		return -1;
	}
	return n;
}

static int
import_emit(void *arg, const struct tdb_entry *in)
{
	struct import_run *run = arg;
	const struct import_args *a = run->a;
	struct tdb_entry e = *in;
	const char *why;
	int r;

	if (!e.allow && e.action == TDB_ACTION_NONE)
		e.action = a->action;
	if (e.severity == 0 && a->severity > 0)
		e.severity = (uint8_t)a->severity;
	if (e.expires == 0)
		e.expires = a->expires;
	if (e.category[0] == '\0')
		memcpy(e.category, a->category, sizeof(e.category));
	if (++run->entries > TCTL_MAX_ENTRIES) {
		run->err = -E2BIG;
		return -E2BIG;
	}
	if (tdb_entry_check(&e, &why) != 0) {
		/* The parsers check what they emit: this is our bug. */
		tctl_err("%s: an entry the parser gave was refused: %s",
		    run->file, why);
		run->err = -EINVAL;
		return -EINVAL;
	}
	if (e.is_prefix)
		run->prefixes++;
	else
		run->names++;
	run->allows += e.allow;
	run->expired += e.expires != 0 && e.expires <= run->now;
	if (run->im != NULL && (r = tdb_import_add(run->im, &e)) != 0) {
		run->err = r;
		return r;
	}
	return 0;
}

static void
import_report(void *arg, const char *file, unsigned long line,
    const char *reason)
{
	struct import_run *run = arg;

	if (++run->reported <= TCTL_MAX_REPORTS)
		fprintf(stderr, "%s:%lu: %s\n", file, line, reason);
	else if (run->reported == TCTL_MAX_REPORTS + 1)
		fprintf(stderr, "%s: more bad lines follow; only the first "
		    "%lu are shown\n", file, TCTL_MAX_REPORTS);
}

/* "--exact"/"--subdomains" and the values of the other options. */
static int
import_option(struct import_args *a, const char *cmd, int opt,
    const char *val)
{
	char *end;
	long v;

	switch (opt) {
	case 'F':
		if (tctl_feed_name_check(val) != 0)
			return tctl_usage_err("%s: bad feed name '%s' (1 to %d "
			    "printable characters, no blanks)", cmd, val,
			    TDB_MAX_FEED);
		a->feed = val;
		return 0;
	case 'f':
		if (feed_format_parse(val, &a->fo.format) != 0)
			return tctl_usage_err("%s: unknown format '%s' (domains, "
			    "hosts, adblock, rpz, cidr or csv)", cmd, val);
		a->fo_format_set = true;
		return 0;
	case 'c':
		if (tctl_category_parse(val, a->category) != 0)
			return tctl_usage_err("%s: bad category '%s' (1 to %d of "
			    "a-z, 0-9 and '-')", cmd, val, TDB_MAX_CATEGORY);
		return 0;
	case 'a':
		if (tctl_action_parse(val, &a->action) != 0)
			return tctl_usage_err("%s: unknown action '%s' (block, "
			    "redirect, log, nxdomain, nodata, drop or none)",
			    cmd, val);
		return 0;
	case 's':
		errno = 0;
		v = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' || v < 0 ||
		    v > TDB_MAX_SEVERITY)
			return tctl_usage_err("%s: bad severity '%s' (0 to %d)",
			    cmd, val, TDB_MAX_SEVERITY);
		a->severity = (int)v;
		return 0;
	case 'e':
		if (tctl_expires_parse(val, (int64_t)time(NULL),
		    &a->expires) != 0)
			return tctl_usage_err("%s: bad --expires '%s' (a "
			    "duration such as 30d or 12h, or a UTC date such as "
			    "2026-12-31 or 2026-12-31T18:00:00Z)", cmd, val);
		if (a->expires <= (int64_t)time(NULL))
			return tctl_usage_err("%s: --expires %s is in the past",
			    cmd, val);
		return 0;
	case 'x':
	case 'S':
		if (a->fo.scope != 0)
			return tctl_usage_err("%s: --exact and --subdomains "
			    "exclude each other", cmd);
		a->fo.scope = opt == 'x' ? TDB_EXACT : TDB_SUBTREE;
		return 0;
	case 'T':
		a->strict = true;
		return 0;
	case 'B':
		a->fo.allow_broad = true;
		return 0;
	default:
		return tctl_usage_err("%s: unknown option", cmd);
	}
}

static int
import_args_parse(struct import_args *a, bool need_feed, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		{ "feed", required_argument, NULL, 'F' },
		{ "format", required_argument, NULL, 'f' },
		{ "category", required_argument, NULL, 'c' },
		{ "action", required_argument, NULL, 'a' },
		{ "severity", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' },
		{ "exact", no_argument, NULL, 'x' },
		{ "subdomains", no_argument, NULL, 'S' },
		{ "strict", no_argument, NULL, 'T' },
		{ "allow-broad", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	int opt, r;

	memset(a, 0, sizeof(*a));
	a->severity = -1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return tctl_usage_err("%s: %s '%s'", cmd,
			    opt == ':' ? "missing value for" :
			    "unknown option", argv[optind - 1]);
		if ((r = import_option(a, cmd, opt, optarg)) != 0)
			return r;
	}
	if (need_feed && a->feed == NULL)
		return tctl_usage_err("%s: --feed NAME is required", cmd);
	if (!need_feed && a->feed != NULL)
		return tctl_usage_err("%s: --feed does not apply", cmd);
	if (!a->fo_format_set)
		return tctl_usage_err("%s: --format is required", cmd);
	if (optind + 1 != argc)
		return tctl_usage_err("%s: give one FILE (or - for standard "
		    "input)", cmd);
	a->file = argv[optind];
	return 0;
}

/* Where the feed came from, for the feeds table: the absolute path when it
 * fits, else its last characters. */
static void
import_source(const char *file, char *out, size_t size)
{
	char *abs;
	const char *s = file;
	size_t len;

	if (strcmp(file, "-") == 0) {
		snprintf(out, size, "stdin");
		return;
	}
	abs = realpath(file, NULL);
	if (abs != NULL)
		s = abs;
	len = strlen(s);
	if (len < size)
		snprintf(out, size, "%s", s);
	else
		snprintf(out, size, "...%s", s + len - (size - 4));
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	free(abs);
}

static int
input_open(const char *file, int *fd)
{
	struct stat st;

	if (strcmp(file, "-") == 0) {
		*fd = STDIN_FILENO;
		return 0;
	}
	if ((*fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		tctl_err("%s: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(*fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		tctl_err("%s: is a directory", file);
		close(*fd);
		return -1;
	}
	return 0;
}

/* Parse the whole input through the hashing stream, into run (and its
 * import when there is one).  \return 0 or an exit code */
static int
parse_input(struct import_run *run, int fd, uint8_t sha256[32])
{
	cookie_io_functions_t io = { .read = hashed_read };
	struct hashed_input h = { .fd = fd };
	struct feed_stats st;
	char drain[TCTL_READ_CHUNK];
	unsigned int mdlen = 0;
	FILE *f;
	int r, ret = TCTL_FAIL;

	if ((h.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h.md, EVP_sha256(), NULL) != 1) {
		tctl_err("SHA-256 is not available from OpenSSL");
		EVP_MD_CTX_free(h.md);
		return TCTL_FAIL;
	}
	if ((f = fopencookie(&h, "r", io)) == NULL) {
		tctl_err("%s: %s", run->file, strerror(errno));
		EVP_MD_CTX_free(h.md);
		return TCTL_FAIL;
	}
	r = feed_parse(f, run->file, &run->a->fo, import_emit, import_report,
	    run, &st);
	/* Hash what the parser left unread, so the sum is the file's. */
	while (r == 0 && fread(drain, 1, sizeof(drain), f) > 0)
		;
	if (r == 0 && ferror(f))
		r = -EIO;
	fclose(f);
	if (r == -EIO && h.err != 0)
		tctl_err("%s: read error: %s", run->file, strerror(h.err));
	else if (r == -E2BIG && run->err == -E2BIG)
		tctl_err("%s: more than %lu entries: refused", run->file,
		    TCTL_MAX_ENTRIES);
	else if (r == -E2BIG)
		tctl_err("%s: more than %d categories in one feed", run->file,
		    TDB_MAX_CATEGORIES);
	else if (r != 0 && !(r == -EINVAL && run->err == -EINVAL))
		tctl_err("%s: %s", run->file, tctl_strerror(r));
	else if (r == 0 && EVP_DigestFinal_ex(h.md, sha256, &mdlen) == 1 &&
	    mdlen == 32)
		ret = TCTL_OK;
	else if (r == 0)
		tctl_err("SHA-256 failed");
	EVP_MD_CTX_free(h.md);
	run->lines = st.lines;
	run->bad = st.bad;
	return ret;
}

/* The summary of check. */
static void
check_summary(const struct import_run *run, const char *hex)
{
	printf("%s: %lu lines, %lu bad; %llu entries (%llu names, %llu "
	    "prefixes, %llu allow, %llu already expired); sha256 %s\n",
	    run->file, run->lines, run->bad,
	    (unsigned long long)run->entries, (unsigned long long)run->names,
	    (unsigned long long)run->prefixes, (unsigned long long)run->allows,
	    (unsigned long long)run->expired, hex);
}

/* Commit the import (which frees it) and print the summary.
 * \return an exit code */
static int
import_finish(struct tdb *db, const char *db_path, struct import_run *run,
    const char *source, const uint8_t sha[32], const char *hex)
{
	const char *feed = run->a->feed;
	char err[TDB_ERRLEN] = "";
	struct tdb_feed_info fi;
	int r;

	r = tdb_import_commit(run->im, sha, err, sizeof(err));
	run->im = NULL;
	if (r != 0) {
		tctl_err("%s: import of feed %s failed, the database is "
		    "unchanged: %s", db_path, feed, err[0] ? err :
		    tctl_strerror(r));
		return TCTL_FAIL;
	}
	if ((r = tdb_feed_get(db, feed, &fi)) != 0) {
		tctl_err("%s: feed %s: %s", db_path, feed, tctl_strerror(r));
		return TCTL_FAIL;
	}
	printf("feed %s: %llu entries (%llu names, %llu prefixes) from %s; "
	    "%lu lines, %lu bad; sha256 %s\n", feed,
	    (unsigned long long)fi.entries, (unsigned long long)fi.names,
	    (unsigned long long)fi.prefixes, source, run->lines, run->bad, hex);
	if (run->expired > 0)
		printf("feed %s: %llu entries had already expired (threatctl gc "
		    "drops them)\n", feed, (unsigned long long)run->expired);
	return TCTL_OK;
}

/* import and check share everything up to the commit. */
static int
import_or_check(const char *db_path, int argc, char **argv, bool write)
{
	struct import_args a;
	struct import_run run = { .a = &a, .now = (int64_t)time(NULL) };
	char source[TDB_MAX_SOURCE + 1], hex[65];
	struct tdb *db = NULL;
	uint8_t sha[32];
	int fd, r, ret;

	if ((ret = import_args_parse(&a, write, argc, argv)) != 0)
		return ret;
	run.file = strcmp(a.file, "-") == 0 ? "(stdin)" : a.file;
	if (input_open(a.file, &fd) != 0)
		return TCTL_FAIL;
	import_source(a.file, source, sizeof(source));
	if (write && (ret = tctl_open(&db, db_path, true)) != TCTL_OK)
		goto out;
	if (write && (r = tdb_import_begin(db, a.feed, source, &run.im)) != 0) {
		tctl_err("%s: import of feed %s: %s", db_path, a.feed,
		    tctl_strerror(r));
		ret = TCTL_FAIL;
		goto out;
	}
	if ((ret = parse_input(&run, fd, sha)) != TCTL_OK)
		goto out;
	ret = TCTL_FAIL;
	if (a.strict && run.bad > 0)
		tctl_err("%s: %lu bad line%s: %s (--strict)", run.file,
		    run.bad, run.bad == 1 ? "" : "s", write ?
		    "nothing imported" : "the feed would be refused");
	else if (run.entries == 0)
		tctl_err("%s: no entries%s (to drop a feed, use threatctl "
		    "remove)", run.file, write ? ": nothing imported" : "");
	else {
		tctl_hex(sha, sizeof(sha), hex);
		if (write)
			ret = import_finish(db, db_path, &run, source, sha, hex);
		else {
			check_summary(&run, hex);
			ret = TCTL_OK;
		}
	}
out:
	tdb_import_abort(run.im);
	tdb_close(db);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}

int
tctl_import(const char *db_path, int argc, char **argv)
{
	return import_or_check(db_path, argc, argv, true);
}

int
tctl_check(const char *db_path, int argc, char **argv)
{
	return import_or_check(db_path, argc, argv, false);
}

/* ---- remove and gc ---- */

int
tctl_remove(const char *db_path, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "feed", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct tdb_feed_info fi;
	const char *feed = NULL;
	struct tdb *db;
	int opt, r, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (opt != 'F')
			return tctl_usage_err("remove: %s '%s'", opt == ':' ?
			    "missing value for" : "unknown option",
			    argv[optind - 1]);
		feed = optarg;
	}
	if (feed == NULL || optind != argc)
		return tctl_usage_err("remove: usage: remove --feed NAME");
	if ((ret = tctl_open(&db, db_path, true)) != TCTL_OK)
		return ret;
	if ((r = tdb_feed_get(db, feed, &fi)) == 0)
		r = tdb_remove_feed(db, feed);
	if (r == -ENOENT || r == -EINVAL)
		tctl_err("%s: no feed named '%s'", db_path, feed);
	else if (r != 0)
		tctl_err("%s: removing feed %s: %s", db_path, feed,
		    tctl_strerror(r));
	else
		printf("removed feed %s (%llu entries)\n", feed,
		    (unsigned long long)fi.entries);
	tdb_close(db);
	return r == 0 ? TCTL_OK : TCTL_FAIL;
}

int
tctl_gc(const char *db_path, int argc, char **argv)
{
	uint64_t removed = 0;
	struct tdb *db;
	int r, ret;

	if (argc != 1)
		return tctl_usage_err("gc: takes no arguments");
	if ((ret = tctl_open(&db, db_path, true)) != TCTL_OK)
		return ret;
	if ((r = tdb_gc(db, time(NULL), &removed)) != 0)
		tctl_err("%s: gc: %s", db_path, tctl_strerror(r));
	else
		printf("gc: removed %llu expired entr%s\n",
		    (unsigned long long)removed, removed == 1 ? "y" : "ies");
	tdb_close(db);
	return r == 0 ? TCTL_OK : TCTL_FAIL;
}

/* ---- main ---- */

static const struct {
	const char *name;
	tctl_cmd_fn *fn;
} commands[] = {
	{ "import", tctl_import },
	{ "check", tctl_check },
	{ "remove", tctl_remove },
	{ "feeds", tctl_feeds },
	{ "lookup", tctl_lookup },
	{ "export", tctl_export },
	{ "stats", tctl_stats },
	{ "gc", tctl_gc },
};

int
main(int argc, char **argv)
{
	const char *db_path = getenv(TCTL_ENV_DB);
	int opt, ret;

	if (db_path == NULL || *db_path == '\0')
		db_path = TDB_DEFAULT_PATH;
	opterr = 0;
	while ((opt = getopt(argc, argv, "+:d:h")) != -1) {
		switch (opt) {
		case 'd':
			if (*optarg == '\0')
				return tctl_usage_err("-d: empty path");
			db_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return TCTL_OK;
		default:
			return tctl_usage_err(optopt == 'd' ? "-d needs a path" :
			    "unknown option '-%c'", optopt);
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return TCTL_USAGE;
	}
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		ret = commands[i].fn(db_path, argc, argv);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			tctl_err("standard output: %s", strerror(errno));
			return TCTL_FAIL;
		}
		return ret;
	}
	return tctl_usage_err("unknown command '%s'", argv[0]);
}
