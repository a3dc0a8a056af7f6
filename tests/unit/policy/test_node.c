/* test_node.c -- security-node pools: building, node_pick() with health, the config section */
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
#include "resolver/policy/node.h"

/* --- helpers */

/* The addresses node_pick() wrote, as "a b c". */
static const char *
picked(const struct node_pools *p, const char *cc, int family, size_t max)
{
	static char buf[1024];
	uint8_t out[NODE_MAX_POOL_ADDRS][16];
	size_t n, len = 0;

	memset(out, 0xee, sizeof(out));
	n = node_pick(p, cc, family, out, max);
	assert_true(n <= max);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];

		if (family == AF_INET)	/* the rest of the 16 bytes is zeroed */
			for (size_t b = 4; b < 16; b++)
				assert_int_equal(out[i][b], 0);
		inet_ntop(family, out[i], a, sizeof(a));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    i ? " " : "", a);
	}
	return buf;
}

static size_t
node_index(const struct node_pools *p, const char *text)
{
	for (size_t i = 0; i < node_count(p); i++)
		if (strcmp(node_text(p, i), text) == 0)
			return i;
	fail_msg("no node %s", text);
	return 0;
}

static void
set(struct node_pools *p, const char *text, bool up)
{
	(void)node_set_up(p, node_index(p, text), up);
}

/* default [10.0.0.1 10.0.0.2 2001:db8::1], eu {DE FR} [10.1.0.1 10.1.0.2
 * 2001:db8:1::1], asia {JP} [10.2.0.1 10.0.0.2] (v4 only, shares a node) */
static struct node_pools *
sample(void)
{
	struct node_pools *p;
	size_t def, eu, asia, other;

	assert_int_equal(node_pools_new(&p), 0);
	assert_int_equal(node_pools_add(p, "eu", &eu), 0);
	assert_int_equal(node_pools_add(p, "default", &def), 0);
	assert_int_equal(node_pools_add(p, "asia", &asia), 0);
	assert_int_equal(node_pools_add_country(p, eu, "DE", &other), 0);
	assert_int_equal(node_pools_add_country(p, eu, "fr", &other), 0);
	assert_int_equal(node_pools_add_country(p, asia, "JP", &other), 0);
	assert_int_equal(node_pools_add_address(p, def, "10.0.0.1"), 0);
	assert_int_equal(node_pools_add_address(p, def, "10.0.0.2"), 0);
	assert_int_equal(node_pools_add_address(p, def, "2001:db8::1"), 0);
	assert_int_equal(node_pools_add_address(p, eu, "10.1.0.1"), 0);
	assert_int_equal(node_pools_add_address(p, eu, "10.1.0.2"), 0);
	assert_int_equal(node_pools_add_address(p, eu, "2001:db8:1::1"), 0);
	assert_int_equal(node_pools_add_address(p, asia, "10.2.0.1"), 0);
	assert_int_equal(node_pools_add_address(p, asia, "10.0.0.2"), 0);
	assert_int_equal(node_pools_finish(p, &other), 0);
	return p;
}

/* --- building */

static void
test_build_errors(void **state)
{
	struct node_pools *p;
	size_t a, b, other = 99, bad = 99;
	char name[16];

	assert_int_equal(node_pools_new(&p), 0);
	assert_int_equal(node_pools_add(p, "", &a), -EINVAL);
	assert_int_equal(node_pools_add(p, "EU", &a), -EINVAL);
	assert_int_equal(node_pools_add(p, "e u", &a), -EINVAL);
	assert_int_equal(node_pools_add(p, "012345678901234567890123456789012", &a), -EINVAL);
	assert_int_equal(node_pools_add(p, "eu-west_1", &a), 0);
	assert_int_equal(node_pools_add(p, "eu-west_1", &b), -EEXIST);
	assert_int_equal(node_pools_add(p, "default", &b), 0);
	/* countries */
	assert_int_equal(node_pools_add_country(p, a, "ZZ", &other), -EINVAL);
	assert_int_equal(node_pools_add_country(p, a, "DEU", &other), -EINVAL);
	assert_int_equal(node_pools_add_country(p, a, "", &other), -EINVAL);
	assert_int_equal(node_pools_add_country(p, 42, "DE", &other), -EINVAL);
	assert_int_equal(node_pools_add_country(p, b, "DE", &other), -EPERM);
	assert_int_equal(node_pools_add_country(p, a, "de", &other), 0);
	assert_int_equal(node_pools_add_country(p, a, "DE", &other), -EEXIST);
	assert_int_equal(other, a);
	/* addresses */
	assert_int_equal(node_pools_add_address(p, a, "10.0.0.1/32"), -EINVAL);
	assert_int_equal(node_pools_add_address(p, a, "10.0.0.1:443"), -EINVAL);
	assert_int_equal(node_pools_add_address(p, a, "proxy.example"), -EINVAL);
	assert_int_equal(node_pools_add_address(p, a, ""), -EINVAL);
	assert_int_equal(node_pools_add_address(p, 42, "10.0.0.1"), -EINVAL);
	assert_int_equal(node_pools_add_address(p, a, "2001:db8::1"), 0);
	assert_int_equal(node_pools_add_address(p, a, "2001:DB8:0::1"), -EEXIST);
	assert_int_equal(node_pools_add_address(p, b, "2001:db8::1"), 0);	/* shared */
	assert_int_equal(node_count(p), 1);
	for (int i = 1; i < NODE_MAX_POOL_ADDRS; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "10.0.0.%d", i);
		assert_int_equal(node_pools_add_address(p, a, addr), 0);
	}
	assert_int_equal(node_pools_add_address(p, a, "10.9.9.9"), -E2BIG);
	assert_int_equal(node_pools_finish(p, &bad), 0);
	/* more pools than allowed, and an empty one */
	for (int i = 2; i < NODE_MAX_POOLS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(node_pools_add(p, name, &a), 0);
	}
	assert_int_equal(node_pools_add(p, "one-too-many", &a), -E2BIG);
	assert_int_equal(node_pools_finish(p, &bad), -ENODATA);
	assert_string_equal(node_pool_name(p, bad), "p2");
	node_pools_free(p);

	/* no default pool */
	assert_int_equal(node_pools_new(&p), 0);
	assert_int_equal(node_pools_add(p, "eu", &a), 0);
	assert_int_equal(node_pools_add_address(p, a, "10.0.0.1"), 0);
	assert_int_equal(node_pools_finish(p, &bad), -ENOENT);
	node_pools_free(p);
	node_pools_free(NULL);
}

static void
test_node_limit(void **state)
{
	struct node_pools *p;
	size_t pool = 0, bad;
	char name[16], addr[32];
	int n = 0;

	assert_int_equal(node_pools_new(&p), 0);
	for (int i = 0; n < NODE_MAX_NODES; i++) {
		snprintf(name, sizeof(name), i ? "p%d" : "default", i);
		assert_int_equal(node_pools_add(p, name, &pool), 0);
		for (int j = 0; j < NODE_MAX_POOL_ADDRS && n < NODE_MAX_NODES; j++, n++) {
			snprintf(addr, sizeof(addr), "10.0.%d.%d", i, j);
			assert_int_equal(node_pools_add_address(p, pool, addr), 0);
		}
	}
	assert_int_equal(node_count(p), NODE_MAX_NODES);
	assert_int_equal(node_pools_add(p, "last", &pool), 0);
	assert_int_equal(node_pools_add_address(p, pool, "10.99.0.1"), -E2BIG);
	/* an address already known is no new node: still fits */
	assert_int_equal(node_pools_add_address(p, pool, "10.0.0.1"), 0);
	assert_int_equal(node_pools_finish(p, &bad), 0);
	node_pools_free(p);
}

/* --- choosing */

static void
test_pick_pools(void **state)
{
	struct node_pools *p = sample();

	assert_string_equal(picked(p, "", AF_INET, 16), "10.0.0.1 10.0.0.2");
	assert_string_equal(picked(p, NULL, AF_INET, 16), "10.0.0.1 10.0.0.2");
	assert_string_equal(picked(p, "US", AF_INET, 16), "10.0.0.1 10.0.0.2");
	assert_string_equal(picked(p, "", AF_INET6, 16), "2001:db8::1");
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.1.0.1 10.1.0.2");
	assert_string_equal(picked(p, "de", AF_INET, 16), "10.1.0.1 10.1.0.2");
	assert_string_equal(picked(p, "FR", AF_INET6, 16), "2001:db8:1::1");
	assert_string_equal(picked(p, "JP", AF_INET, 16), "10.2.0.1 10.0.0.2");
	/* the pool has no IPv6 node: NODATA, not another region's */
	assert_string_equal(picked(p, "JP", AF_INET6, 16), "");
	/* junk country: the default pool */
	assert_string_equal(picked(p, "1x", AF_INET, 16), "10.0.0.1 10.0.0.2");
	assert_string_equal(picked(p, "DEU", AF_INET, 16), "10.0.0.1 10.0.0.2");
	/* bounded by max */
	assert_string_equal(picked(p, "DE", AF_INET, 1), "10.1.0.1");
	/* bad arguments */
	{
		uint8_t out[4][16];

		assert_int_equal(node_pick(NULL, "", AF_INET, out, 4), 0);
		assert_int_equal(node_pick(p, "", AF_UNIX, out, 4), 0);
		assert_int_equal(node_pick(p, "", AF_INET, out, 0), 0);
		assert_int_equal(node_pick(p, "", AF_INET, NULL, 4), 0);
	}
	assert_int_equal(node_pool_count(p), 3);
	/* listing, for egressctl */
	{
		size_t eu = node_pool_for(p, "DE"), asia = node_pool_for(p, "JP");
		size_t def = node_pool_for(p, "");
		char cc[4][3];

		assert_int_equal(node_pool_size(p, eu), 3);
		assert_string_equal(node_text(p, node_pool_node(p, eu, 2)), "2001:db8:1::1");
		assert_int_equal(node_pool_size(p, asia), 2);
		/* the shared node is one node */
		assert_int_equal(node_pool_node(p, asia, 1), node_pool_node(p, def, 1));
		assert_int_equal(node_count(p), 7);
		assert_int_equal(node_pool_countries(p, eu, cc, 4), 2);
		assert_string_equal(cc[0], "DE");
		assert_string_equal(cc[1], "FR");
		assert_int_equal(node_pool_countries(p, eu, cc, 1), 2);
		assert_int_equal(node_pool_countries(p, def, cc, 4), 0);
	}
	assert_string_equal(node_pool_name(p, node_pool_for(p, "fr")), "eu");
	assert_string_equal(node_pool_name(p, node_pool_for(p, "")), "default");
	node_pools_free(p);
}

static void
test_pick_health(void **state)
{
	struct node_pools *p = sample();
	size_t i = node_index(p, "10.1.0.1");

	/* healthy until probed; set_up says whether the state changed */
	assert_true(node_is_up(p, i));
	assert_false(node_set_up(p, i, true));
	assert_true(node_set_up(p, i, false));
	assert_false(node_set_up(p, i, false));
	assert_false(node_is_up(p, i));
	/* a failed node is skipped while its pool has a healthy one */
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.1.0.2");
	/* the whole regional pool down: the default pool's healthy nodes */
	set(p, "10.1.0.2", false);
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.0.0.1 10.0.0.2");
	set(p, "10.0.0.1", false);
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.0.0.2");
	assert_string_equal(picked(p, "", AF_INET, 16), "10.0.0.2");
	/* IPv6 is judged on its own */
	assert_string_equal(picked(p, "DE", AF_INET6, 16), "2001:db8:1::1");
	/* nothing healthy of that family anywhere: every node of the chosen
	 * pool (fail open to the proxies) */
	set(p, "10.0.0.2", false);
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.1.0.1 10.1.0.2");
	assert_string_equal(picked(p, "", AF_INET, 16), "10.0.0.1 10.0.0.2");
	/* a node shared by two pools has one health state */
	assert_string_equal(picked(p, "JP", AF_INET, 16), "10.2.0.1");
	set(p, "10.2.0.1", false);
	assert_string_equal(picked(p, "JP", AF_INET, 16), "10.2.0.1 10.0.0.2");
	/* recovery */
	set(p, "10.0.0.2", true);
	assert_string_equal(picked(p, "JP", AF_INET, 16), "10.0.0.2");
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.0.0.2");
	set(p, "10.1.0.2", true);
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.1.0.2");
	set(p, "10.1.0.1", true);
	assert_string_equal(picked(p, "DE", AF_INET, 16), "10.1.0.1 10.1.0.2");
	node_pools_free(p);
}

/* One writer flips health flags while readers pick: every answer is a
 * non-empty subset of the pool or the default pool. */
struct race {
	struct node_pools *p;
	volatile int stop;
	int bad;
};

static void *
race_reader(void *arg)
{
	struct race *r = arg;
	uint8_t out[16][16];

	while (!r->stop) {
		size_t n = node_pick(r->p, "DE", AF_INET, out, 16);

		if (n == 0 || n > 2)
			r->bad++;
		for (size_t i = 0; i < n; i++)
			if (out[i][0] != 10 || out[i][1] > 1 || out[i][2] != 0)
				r->bad++;
	}
	return NULL;
}

static void
test_pick_concurrent(void **state)
{
	struct race r = { .p = sample() };
	pthread_t th[3];
	const char *flip[] = { "10.1.0.1", "10.1.0.2", "10.0.0.1", "10.0.0.2" };

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
	for (unsigned k = 0; k < 200000; k++)
		set(r.p, flip[k % 4], (k / 4) % 3 != 0);
	r.stop = 1;
	for (size_t i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r.bad, 0);
	node_pools_free(r.p);
}

/* --- the config section */

static char cfgdir[] = "/tmp/test_node.XXXXXX";

static const char *
write_cfg(const char *nodes)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/egressd.yaml", cfgdir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "server:\n  listen:\n    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
	    "resolution:\n  dnssec: no\n"
	    "tenants:\n  - { name: local, networks: [ 127.0.0.1/32 ] }\n%s", nodes);
	fclose(f);
	return path;
}

static void
test_config_good(void **state)
{
	struct config *c;
	char err[1024] = "";
	const char *path = write_cfg(
	    "security-nodes:\n"
	    "  health-check: { port: 8443, interval: 2s, timeout: 500ms }\n"
	    "  pools:\n"
	    "    default: [ 198.51.100.10, \"2001:db8::10\" ]\n"
	    "    eu:      { countries: [DE, fr, NL], addresses: [ 203.0.113.20 ] }\n");

	if (config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_non_null(c->nodes);
	assert_int_equal(c->node_check.port, 8443);
	assert_int_equal(c->node_check.interval_ms, 2000);
	assert_int_equal(c->node_check.timeout_ms, 500);
	assert_string_equal(picked(c->nodes, "FR", AF_INET, 16), "203.0.113.20");
	assert_string_equal(picked(c->nodes, "US", AF_INET, 16), "198.51.100.10");
	assert_string_equal(picked(c->nodes, "US", AF_INET6, 16), "2001:db8::10");
	config_free(c);

	/* defaults: port 443, every 5 s, 1 s timeout */
	path = write_cfg("security-nodes:\n  pools: { default: [ 198.51.100.10 ] }\n");
	if (config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(c->node_check.port, 443);
	assert_int_equal(c->node_check.interval_ms, 5000);
	assert_int_equal(c->node_check.timeout_ms, 1000);
	config_free(c);

	/* none: no pools */
	path = write_cfg("");
	if (config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_null(c->nodes);
	config_free(c);
}

static void
test_config_bad(void **state)
{
	static const struct {
		const char *yaml;
		const char *want;	/* after "DIR/egressd.yaml:" */
	} c[] = {
		{ "security-nodes:\n  pools:\n    default: [ 10.0.0.1 ]\n"
		  "    eu: { countries: [DE, XX], addresses: [ 10.0.0.2 ] }\n",
		  "11: security-nodes.pools.eu.countries: \"XX\" is not an ISO 3166-1 alpha-2 country code" },
		{ "security-nodes:\n  pools:\n    default: [ 10.0.0.1 ]\n"
		  "    eu: { countries: [DE], addresses: [ 10.0.0.2 ] }\n"
		  "    de: { countries: [de], addresses: [ 10.0.0.3 ] }\n",
		  "12: security-nodes.pools.de.countries: de is already served by pool \"eu\"" },
		{ "security-nodes:\n  pools:\n    eu: { countries: [DE], addresses: [ 10.0.0.2 ] }\n",
		  "10: security-nodes.pools: no \"default\" pool" },
		{ "security-nodes:\n  pools:\n    default: [ 10.0.0.300 ]\n",
		  "10: security-nodes.pools.default: \"10.0.0.300\" is not an IPv4 or IPv6 address" },
		{ "security-nodes:\n  pools:\n    default: [ \"10.0.0.1:443\" ]\n",
		  "10: security-nodes.pools.default: \"10.0.0.1:443\" is not an IPv4 or IPv6 address" },
		{ "security-nodes:\n  pools:\n    default: [ 10.0.0.1, 10.0.0.1 ]\n",
		  "10: security-nodes.pools.default: 10.0.0.1 is listed twice" },
		{ "security-nodes:\n  pools:\n    default: { countries: [US], addresses: [ 10.0.0.1 ] }\n",
		  "10: security-nodes.pools.default.countries: the default pool serves" },
		{ "security-nodes:\n  pools:\n    default: [ 10.0.0.1 ]\n    eu: { countries: [DE] }\n",
		  "11: security-nodes.pools.eu: no addresses" },
		{ "security-nodes:\n  pools:\n    default: [ ]\n",
		  "10: security-nodes.pools.default: no addresses" },
		{ "security-nodes:\n  pools:\n    default: [ 10.0.0.1 ]\n"
		  "    eu: { countries: [DE], addresses: [] }\n",
		  "11: security-nodes.pools.eu.addresses: no addresses" },
		{ "security-nodes:\n  pools:\n    Default: [ 10.0.0.1 ]\n",
		  "10: security-nodes.pools.Default: a pool name is" },
		{ "security-nodes:\n  pools:\n    default: [ 10.0.0.1 ]\n"
		  "    eu: { countries: [DE], adresses: [ 10.0.0.2 ] }\n",
		  "11: security-nodes.pools.eu.adresses: unknown key" },
		{ "security-nodes:\n  health-check: { interval: 2s, timeout: 2s }\n"
		  "  pools: { default: [ 10.0.0.1 ] }\n",
		  "9: security-nodes.health-check.timeout: the timeout (2000 ms) must be shorter" },
		{ "security-nodes:\n  health-check: { interval: 100ms }\n"
		  "  pools: { default: [ 10.0.0.1 ] }\n",
		  "9: security-nodes.health-check.interval: 100ms is out of range" },
		{ "security-nodes:\n  health-check: { port: 0 }\n  pools: { default: [ 10.0.0.1 ] }\n",
		  "9: security-nodes.health-check.port: \"0\" is not a port" },
		{ "security-nodes:\n  health-check: { port: https }\n  pools: { default: [ 10.0.0.1 ] }\n",
		  "9: security-nodes.health-check.port: \"https\" is not a port" },
		{ "security-nodes:\n  health-check: { every: 5s }\n  pools: { default: [ 10.0.0.1 ] }\n",
		  "9: security-nodes.health-check.every: unknown key" },
		{ "security-nodes:\n  health-check: { port: 443 }\n",
		  "9: security-nodes.pools: no pools" },
		{ "security-nodes: [ 10.0.0.1 ]\n",
		  "8: security-nodes: expected" },
		{ "security-nodes:\n  pool: { default: [ 10.0.0.1 ] }\n",
		  "9: security-nodes.pool: unknown key" },
	};
	char err[1024], want[1200];
	struct config *cfg;

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		const char *path = write_cfg(c[i].yaml);

		err[0] = '\0';
		if (config_load(path, &cfg, err, sizeof(err)) == 0)
			fail_msg("case %zu accepted", i);
		snprintf(want, sizeof(want), "%s:%s", path, c[i].want);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu:\n  got  %s\n  want %s...", i, err, want);
	}
}

static int
setup(void **state)
{
	return mkdtemp(cfgdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/egressd.yaml", cfgdir);
	unlink(path);
	return rmdir(cfgdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_pick_pools),
		cmocka_unit_test(test_pick_health),
		cmocka_unit_test(test_pick_concurrent),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_bad),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
