/* test_geo.c -- GeoIP: country codes, geo_open() errors, lookups, the geoip config section
 *
 * The MaxMind DB files are written at setup by tests/integration/mkmmdb.pl
 * (Debian: libmaxmind-db-writer-perl); its comment lists the map checked here.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver/config.h"
#include "resolver/policy/geo.h"

static char dir[] = "/tmp/test_geo.XXXXXX";
static char country_db[512], asn_db[512], junk_db[512], cfg_path[512];

/* Count the allocations of the code under test (glibc): geo_lookup()
 * promises none.  AddressSanitizer owns malloc itself, so under it the
 * count is not taken (the normal build runs it). */
#if defined(__SANITIZE_ADDRESS__)
#define EG_COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EG_COUNT_ALLOCS 0
#endif
#endif
#ifndef EG_COUNT_ALLOCS
#define EG_COUNT_ALLOCS 1
#endif

static volatile int counting;
static volatile unsigned allocations;

#if EG_COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n);
void *
malloc(size_t n)
{
	if (counting)
		allocations++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size);
void *
calloc(size_t n, size_t size)
{
	if (counting)
		allocations++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n);
void *
realloc(void *p, size_t n)
{
	if (counting)
		allocations++;
	return __libc_realloc(p, n);
}
#endif

/* --- ISO 3166-1 */

static void
test_country_valid(void **state)
{
	static const char *const good[] = { "DE", "de", "kP", "US", "GB", "XK", "AX", "ZW" };
	static const char *const bad[] = { "", "D", "DEU", "ZZ", "UK", "EU", "AA", "D1",
	    "1D", "D ", " D", "\xc3\x84" "D" };
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (!geo_country_valid(good[i]))
			fail_msg("%s refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (geo_country_valid(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(geo_country_valid(NULL));
	/* 249 official codes and XK, nothing else */
	for (char a = 'A'; a <= 'Z'; a++)
		for (char b = 'A'; b <= 'Z'; b++) {
			char cc[3] = { a, b, '\0' };

			n += geo_country_valid(cc);
		}
	assert_int_equal(n, 250);
}

/* --- opening */

static void
test_open_errors(void **state)
{
	struct geo *g = (struct geo *)&g;	/* must stay untouched */
	char err[512];

	assert_int_equal(geo_open(&g, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(geo_open(&g, "/nonexistent/country.mmdb", NULL, err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/country.mmdb"));
	assert_int_equal(geo_open(&g, NULL, junk_db, err, sizeof(err)), -EG_EFORMAT);
	assert_non_null(strstr(err, "not a MaxMind DB file"));
	assert_non_null(strstr(err, junk_db));
	/* the two files given the wrong way round */
	assert_int_equal(geo_open(&g, asn_db, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "give it as geoip.asn"));
	assert_int_equal(geo_open(&g, NULL, country_db, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "give it as geoip.country"));
	/* the second failing frees the first */
	assert_int_equal(geo_open(&g, country_db, junk_db, err, sizeof(err)), -EG_EFORMAT);
	assert_ptr_equal(g, (struct geo *)&g);
	geo_free(NULL);
}

/* --- lookups */

static void
lookup_text(const struct geo *g, const char *ip, char cc[3], uint32_t *asn)
{
	uint8_t a[16];
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, ip, a), 1);
	geo_lookup(g, family, a, cc, asn);
}

static const struct {
	const char *ip, *cc;
	uint32_t asn;
} table[] = {
	{ "192.0.2.10", "US", 64500 },
	{ "192.0.2.20", "DE", 64500 },
	{ "192.0.2.50", "NL", 64500 },
	{ "192.0.2.66", "FR", 64500 },
	{ "192.0.2.200", "", 64500 },		/* ASN known, country not */
	{ "198.18.0.1", "US", 64501 },
	{ "198.18.1.1", "KP", 64501 },
	{ "198.18.2.3", "RU", 64501 },
	{ "198.18.3.1", "CN", 64666 },
	{ "198.18.200.4", "US", 64501 },
	{ "198.19.0.1", "", 0 },
	{ "2001:db8::10", "US", 64500 },
	{ "2001:db8:1::1", "KP", 64500 },
	{ "2001:db8:2::1", "RU", 64500 },
	{ "2001:db8:3::4", "CN", 64666 },
	{ "2001:db8:7::1", "", 64500 },
	{ "2001:db9::1", "", 0 },
	{ "::ffff:192.0.2.20", "DE", 64500 },	/* IPv4-mapped */
	{ "127.0.0.1", "", 0 },
	{ "::1", "", 0 },
	{ "127.0.0.3", "DE", 0 },
	{ "127.0.0.4", "FR", 0 },
	{ "127.0.0.6", "BR", 0 },		/* registered_country only */
	{ "10.0.0.1", "", 0 },
};

static void
test_lookup(void **state)
{
	struct geo *g;
	char err[512];

	if (geo_open(&g, country_db, asn_db, err, sizeof(err)) != 0)
		fail_msg("geo_open: %s", err);
	assert_true(geo_has_country(g));
	assert_true(geo_has_asn(g));
	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		char cc[3] = "??";
		uint32_t asn = 4242;

		lookup_text(g, table[i].ip, cc, &asn);
		if (strcmp(cc, table[i].cc) != 0 || asn != table[i].asn)
			fail_msg("%s: got %s AS%u, want %s AS%u", table[i].ip, cc,
			    asn, table[i].cc, table[i].asn);
	}
	/* either output may be left out */
	{
		char cc[3] = "??";
		uint32_t asn = 1;

		lookup_text(g, "192.0.2.20", cc, NULL);
		assert_string_equal(cc, "DE");
		lookup_text(g, "192.0.2.20", NULL, &asn);
		assert_int_equal(asn, 64500);
		geo_lookup(g, AF_UNIX, (const uint8_t *)"x", cc, &asn);
		assert_string_equal(cc, "");
		assert_int_equal(asn, 0);
	}
	geo_free(g);
}

static void
test_lookup_partial(void **state)
{
	struct geo *g;
	char err[512], cc[3] = "??";
	uint32_t asn = 1;

	/* no geoip at all */
	lookup_text(NULL, "192.0.2.20", cc, &asn);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 0);
	assert_false(geo_has_country(NULL));
	/* only one of the two databases */
	if (geo_open(&g, country_db, NULL, err, sizeof(err)) != 0)
		fail_msg("geo_open: %s", err);
	asn = 1;
	lookup_text(g, "198.18.3.1", cc, &asn);
	assert_string_equal(cc, "CN");
	assert_int_equal(asn, 0);
	assert_false(geo_has_asn(g));
	geo_free(g);
	if (geo_open(&g, NULL, asn_db, err, sizeof(err)) != 0)
		fail_msg("geo_open: %s", err);
	lookup_text(g, "198.18.3.1", cc, &asn);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 64666);
	geo_free(g);
}

static void
test_lookup_no_allocation(void **state)
{
	struct geo *g;
	char err[512], cc[3];
	uint32_t asn;
	uint8_t a4[4], a6[16];

	if (!EG_COUNT_ALLOCS)
		skip();
	if (geo_open(&g, country_db, asn_db, err, sizeof(err)) != 0)
		fail_msg("geo_open: %s", err);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.6", a4), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:3::4", a6), 1);
	allocations = 0;
	counting = 1;
	for (int i = 0; i < 1000; i++) {
		geo_lookup(g, AF_INET, a4, cc, &asn);
		geo_lookup(g, AF_INET6, a6, cc, &asn);
	}
	counting = 0;
	assert_string_equal(cc, "CN");
	assert_int_equal(allocations, 0);
	/* the counter works */
	{
		void *volatile p;

		counting = 1;
		p = malloc(16);
		counting = 0;
		free(p);
	}
	assert_int_equal(allocations, 1);
	geo_free(g);
}

/* Lookups from several threads at once agree with the table. */
struct race {
	const struct geo *g;
	int bad;
};

static void *
race_run(void *arg)
{
	struct race *r = arg;
	size_t n = sizeof(table) / sizeof(*table);

	for (unsigned k = 0; k < 20000; k++) {
		char cc[3];
		uint32_t asn;
		uint8_t a[16];
		int family = strchr(table[k % n].ip, ':') ? AF_INET6 : AF_INET;

		if (inet_pton(family, table[k % n].ip, a) != 1)
			r->bad++;
		geo_lookup(r->g, family, a, cc, &asn);
		if (strcmp(cc, table[k % n].cc) != 0 || asn != table[k % n].asn)
			r->bad++;
	}
	return NULL;
}

static void
test_lookup_threads(void **state)
{
	struct geo *g;
	struct race r[4];
	pthread_t th[4];
	char err[512];

	if (geo_open(&g, country_db, asn_db, err, sizeof(err)) != 0)
		fail_msg("geo_open: %s", err);
	for (size_t i = 0; i < 4; i++) {
		r[i] = (struct race){ .g = g };
		assert_int_equal(pthread_create(&th[i], NULL, race_run, &r[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].bad, 0);
	}
	geo_free(g);
}

/* --- the config section */

static void
write_cfg(const char *geoip)
{
	FILE *f;

	assert_non_null(f = fopen(cfg_path, "w"));
	fprintf(f, "server:\n  listen:\n    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
	    "resolution:\n  dnssec: no\n"
	    "tenants:\n  - { name: local, networks: [ 127.0.0.1/32 ] }\n%s", geoip);
	fclose(f);
}

static void
test_config(void **state)
{
	struct config *c;
	char err[1024], yaml[1400], cc[3];
	uint32_t asn;

	/* relative paths: from the config file's directory */
	write_cfg("geoip:\n  country: country.mmdb\n  asn: asn.mmdb\n");
	if (config_load(cfg_path, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	lookup_text(c->geo, "2001:db8:3::4", cc, &asn);
	assert_string_equal(cc, "CN");
	assert_int_equal(asn, 64666);
	config_free(c);

	snprintf(yaml, sizeof(yaml), "geoip: { country: %s }\n", country_db);
	write_cfg(yaml);
	if (config_load(cfg_path, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_true(geo_has_country(c->geo));
	assert_false(geo_has_asn(c->geo));
	config_free(c);

	write_cfg("");
	if (config_load(cfg_path, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_null(c->geo);
	config_free(c);
}

static void
test_config_bad(void **state)
{
	static const struct {
		const char *yaml;
		const char *want;	/* after "CONFIG:" */
	} c[] = {
		{ "geoip:\n  country: missing.mmdb\n",
		  "9: geoip.country: cannot read " },
		{ "geoip:\n  country: country.mmdb\n  asn: junk.mmdb\n",
		  "10: geoip.asn: ASN database " },
		{ "geoip:\n  country: asn.mmdb\n",
		  "9: geoip.country: country database " },
		{ "geoip:\n  country: .\n",
		  "9: geoip.country: " },
		{ "geoip:\n  city: country.mmdb\n",
		  "9: geoip.city: unknown key" },
		{ "geoip: {}\n",
		  "8: geoip: give country, asn or both" },
		{ "geoip: country.mmdb\n",
		  "8: geoip: expected { country: PATH, asn: PATH }" },
		{ "geoip:\n  country: [ a, b ]\n",
		  "9: geoip.country: expected the path" },
	};
	char err[1024], want[1200];
	struct config *cfg;

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		write_cfg(c[i].yaml);
		err[0] = '\0';
		if (config_load(cfg_path, &cfg, err, sizeof(err)) == 0)
			fail_msg("case %zu accepted", i);
		snprintf(want, sizeof(want), "%s:%s", cfg_path, c[i].want);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu:\n  got  %s\n  want %s...", i, err, want);
	}
}

static int
setup(void **state)
{
	char cmd[1024];
	FILE *f;
	int r;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(country_db, sizeof(country_db), "%s/country.mmdb", dir);
	snprintf(asn_db, sizeof(asn_db), "%s/asn.mmdb", dir);
	snprintf(junk_db, sizeof(junk_db), "%s/junk.mmdb", dir);
	snprintf(cfg_path, sizeof(cfg_path), "%s/egressd.yaml", dir);
	snprintf(cmd, sizeof(cmd), "perl '%s/tests/integration/mkmmdb.pl' '%s'",
	    EG_TOP_SRCDIR, dir);
	if ((r = system(cmd)) != 0) {
		fprintf(stderr, "test_geo: \"%s\" failed (%d): is the Debian package "
		    "libmaxmind-db-writer-perl installed?\n", cmd, r);
		return -1;
	}
	if ((f = fopen(junk_db, "w")) == NULL)
		return -1;
	fputs("this is not a MaxMind DB file\n", f);
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	unlink(country_db);
	unlink(asn_db);
	unlink(junk_db);
	unlink(cfg_path);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_country_valid),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_partial),
		cmocka_unit_test(test_lookup_no_allocation),
		cmocka_unit_test(test_lookup_threads),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_bad),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
