/* tdb_bench.c -- threat database benchmark: import time, size on disk,
 * name and prefix lookups per second on one thread (see bench/README.md) */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "threatdb/tdb.h"

#define RUNS	3
#define NQ	1000000		/* queries per set */
#define NOW	((time_t)1700000000)

struct feed {
	char **names;
	size_t n;
	struct tdb_entry *pfx;
	size_t np;
};

static uint64_t rng = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(*v), dcmp);
	return v[RUNS / 2];
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "tdb_bench: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

static char **
read_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[512], **v = NULL;
	size_t cap = 0;

	if (f == NULL)
		die(path, errno);
	*n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = 0;
		if (*line == 0)
			continue;
		if (*n == cap && (v = realloc(v, (cap = cap ? cap * 2 : 1024) *
		    sizeof(*v))) == NULL)
			die("realloc", ENOMEM);
		if ((v[(*n)++] = strdup(line)) == NULL)
			die("strdup", ENOMEM);
	}
	fclose(f);
	return v;
}

static void
parse_prefixes(struct feed *fd, char **lines, size_t n)
{
	fd->pfx = calloc(n, sizeof(*fd->pfx));
	for (size_t i = 0; i < n; i++) {
		struct tdb_entry *e = &fd->pfx[fd->np];
		char *slash = strchr(lines[i], '/');

		*slash = 0;
		e->is_prefix = true;
		e->family = strchr(lines[i], ':') ? AF_INET6 : AF_INET;
		if (inet_pton(e->family, lines[i], e->addr) != 1)
			continue;
		e->plen = (uint8_t)atoi(slash + 1);
		fd->np++;
		*slash = '/';
	}
}

/** Import the names as feed "bench": parse each line, add, commit. */
static double
import_names(struct tdb *db, const struct feed *fd)
{
	struct tdb_import *im;
	struct tdb_entry e;
	char err[TDB_ERRLEN];
	double t0 = now_s();
	int rc;

	memset(&e, 0, sizeof(e));
	e.action = TDB_ACTION_NXDOMAIN;
	if ((rc = tdb_import_begin(db, "bench", "names.txt", &im)) != 0)
		die("import_begin", rc);
	if ((rc = tdb_import_set_default_category(im, "malware")) != 0)
		die("category", rc);
	for (size_t i = 0; i < fd->n; i++) {
		const char *s = fd->names[i];

		e.scope = strncmp(s, "*.", 2) == 0 ? TDB_BELOW : TDB_EXACT;
		strcpy(e.name, e.scope == TDB_BELOW ? s + 2 : s);
		if ((rc = tdb_import_add(im, &e)) != 0)
			die(s, rc);
	}
	if ((rc = tdb_import_commit(im, NULL, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	return now_s() - t0;
}

static double
import_prefixes(struct tdb *db, const struct feed *fd)
{
	struct tdb_import *im;
	char err[TDB_ERRLEN];
	double t0 = now_s();
	int rc;

	if ((rc = tdb_import_begin(db, "cidr", "cidr.txt", &im)) != 0)
		die("import_begin", rc);
	for (size_t i = 0; i < fd->np; i++)
		if ((rc = tdb_import_add(im, &fd->pfx[i])) != 0)
			die("prefix", rc);
	if ((rc = tdb_import_commit(im, NULL, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	return now_s() - t0;
}

static void
to_wire(const char *name, uint8_t *w)
{
	size_t o = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		w[o++] = (uint8_t)l;
		memcpy(w + o, name, l);
		o += l;
		name += l + (dot != NULL);
	}
	w[o] = 0;
}

static unsigned
labels_of(const char *s)
{
	unsigned n = 1;

	for (; *s; s++)
		n += *s == '.';
	return n;
}

static void
rnd_label(char *out)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned l = 3 + rnd(6);

	for (unsigned i = 0; i < l; i++)
		out[i] = a[rnd(36)];
	out[l] = '.';
	out[l + 1] = 0;
}

/** 6-label query names: hits under "*." entries, or misses (random
 * labels over listed exact domains and over random domains). */
static uint8_t (*make_queries(const struct feed *fd, bool hits,
    struct tdb_reader *r, size_t *nq))[256]
{
	uint8_t (*q)[256] = malloc(NQ * sizeof(*q));
	char name[600];
	size_t n = 0;

	while (n < NQ) {
		const char *s = fd->names[rnd((unsigned)fd->n)];
		bool below = strncmp(s, "*.", 2) == 0;
		const char *base = below ? s + 2 : s;
		unsigned have = labels_of(base);
		struct tdb_match m;

		if (hits != below || have > 5)
			continue;
		name[0] = 0;
		if (!hits && rnd(2)) {
			rnd_label(name);
			strcat(name, "com");
			have = 2;
			base = "";
		}
		for (unsigned i = have; i < 6; i++)
			rnd_label(name + strlen(name));
		strcat(name, base);
		if (name[strlen(name) - 1] == '.')
			name[strlen(name) - 1] = 0;
		to_wire(name, q[n]);
		if (tdb_lookup_name(r, q[n], NOW, &m) != 0 || m.found != hits)
			continue;	/* e.g. a random miss that is listed */
		n++;
	}
	*nq = n;
	return q;
}

static double
run_names(struct tdb_reader *r, uint8_t (*q)[256], size_t n, bool want)
{
	struct tdb_match m;
	double t0 = now_s();
	size_t found = 0;

	for (size_t i = 0; i < n; i++) {
		if (tdb_lookup_name(r, q[i], NOW, &m) != 0)
			die("lookup", EIO);
		found += m.found;
	}
	if (found != (want ? n : 0))
		die("lookup results changed", EIO);
	return n / (now_s() - t0);
}

struct addrq {
	int family;
	uint8_t a[16];
};

static struct addrq *
make_addrs(const struct feed *fd, size_t *nq)
{
	struct addrq *q = malloc(NQ * sizeof(*q));

	for (size_t i = 0; i < NQ; i++) {
		const struct tdb_entry *e = &fd->pfx[rnd((unsigned)fd->np)];
		size_t len = e->family == AF_INET ? 4 : 16;

		q[i].family = e->family;
		memcpy(q[i].a, e->addr, 16);
		for (size_t b = e->plen; b < len * 8; b++)	/* a host in it */
			if (rnd(2))
				q[i].a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		if (i % 2)			/* half: anywhere */
			for (size_t b = 0; b < len; b++)
				q[i].a[b] = (uint8_t)rnd(256);
	}
	*nq = NQ;
	return q;
}

static double
run_addrs(struct tdb_reader *r, const struct addrq *q, size_t n,
    size_t *found)
{
	struct tdb_match m;
	double t0 = now_s();

	*found = 0;
	for (size_t i = 0; i < n; i++) {
		if (tdb_lookup_addr(r, q[i].family, q[i].a, NOW, &m) != 0)
			die("lookup_addr", EIO);
		*found += m.found;
	}
	return n / (now_s() - t0);
}

static void
rm_db(const char *dir)
{
	char f[4200];

	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/lock.mdb", dir);
	unlink(f);
	rmdir(dir);
}

static uint64_t
disk_size(const char *dir)
{
	char f[4200];
	struct stat sb;

	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	return stat(f, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
}

int
main(int argc, char **argv)
{
	struct feed fd = { 0 };
	char path[4200], dir[4096], err[TDB_ERRLEN], **lines;
	double imp[RUNS], impp[RUNS], hit[RUNS], miss[RUNS], pfx[RUNS];
	uint64_t size_names = 0, size_all = 0;
	size_t nl, nh, nm, na, found = 0;
	struct tdb_reader *r;
	struct tdb *db = NULL;
	uint8_t (*qh)[256], (*qm)[256];
	struct addrq *qa;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: tdb_bench FEEDDIR [WORKDIR]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/names.txt", argv[1]);
	fd.names = read_lines(path, &fd.n);
	snprintf(path, sizeof(path), "%s/cidr.txt", argv[1]);
	lines = read_lines(path, &nl);
	parse_prefixes(&fd, lines, nl);
	snprintf(dir, sizeof(dir), "%s/tdb-bench.%d",
	    argc > 2 ? argv[2] : "/tmp", (int)getpid());
	for (int run = 0; run < RUNS; run++) {
		if (db != NULL) {
			tdb_close(db);
			rm_db(dir);
		}
		if ((rc = tdb_open(&db, dir, true, err, sizeof(err))) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		imp[run] = import_names(db, &fd);
		size_names = disk_size(dir);
		impp[run] = import_prefixes(db, &fd);
		size_all = disk_size(dir);
		printf("run %d: import %zu names %.2f s, %zu prefixes %.2f s\n",
		    run + 1, fd.n, imp[run], fd.np, impp[run]);
	}
	if ((rc = tdb_reader_new(&r, db)) != 0)
		die("reader", rc);
	qh = make_queries(&fd, true, r, &nh);
	qm = make_queries(&fd, false, r, &nm);
	qa = make_addrs(&fd, &na);
	for (int run = 0; run < RUNS; run++) {
		hit[run] = run_names(r, qh, nh, true);
		miss[run] = run_names(r, qm, nm, false);
		pfx[run] = run_addrs(r, qa, na, &found);
		printf("run %d: names hit %.0f/s, miss %.0f/s, prefixes %.0f/s\n",
		    run + 1, hit[run], miss[run], pfx[run]);
	}
	printf("\nmedians of %d runs (%zu names, %zu prefixes):\n", RUNS, fd.n,
	    fd.np);
	printf("import names (parse+add+sort+commit): %.2f s\n", median(imp));
	printf("import prefixes: %.2f s\n", median(impp));
	printf("data.mdb after names: %.1f MB, %.1f bytes/entry\n",
	    size_names / 1e6, (double)size_names / fd.n);
	printf("data.mdb after names+prefixes: %.1f MB, %.1f bytes/entry\n",
	    size_all / 1e6, (double)size_all / (fd.n + fd.np));
	printf("name lookups, 6 labels, hits (below a \"*.\" entry): %.0f/s\n",
	    median(hit));
	printf("name lookups, 6 labels, misses: %.0f/s\n", median(miss));
	printf("prefix lookups (%zu%% hits, 5/6 IPv4): %.0f/s\n",
	    found * 100 / na, median(pfx));
	tdb_reader_free(r);
	tdb_close(db);
	rm_db(dir);
	return 0;
}
