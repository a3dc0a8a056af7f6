/* test_config.c -- config_load() on temporary files, config_parse_sockaddr() */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
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
#include "tests/unit/testdir.h"

/* Pieces of a config, with the lines they take. */
#define LISTEN		/* 1-3 */ \
	"server:\n" \
	"  listen:\n" \
	"    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
#define NO_DNSSEC	/* 2 lines */ \
	"resolution:\n" \
	"  dnssec: no\n"
#define TENANT		/* 2 lines */ \
	"tenants:\n" \
	"  - { name: lan, networks: [ 10.0.0.0/8 ] }\n"

/* Each test gets its own directory, so relative paths can be tried. */
struct fx {
	char dir[64];
	char path[128];		/* dir/egressd.yaml */
	char err[1024];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/egressd-test-config.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/egressd.yaml", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	testdir_remove(f->dir);
	free(f);
	return 0;
}

static void
write_file(const struct fx *f, const char *name, const char *text)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	assert_non_null(fp = fopen(p, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Load yaml as dir/egressd.yaml; f->err holds the message. */
static int
load(struct fx *f, const char *yaml, struct config **c)
{
	f->err[0] = '\0';
	write_file(f, "egressd.yaml", yaml);
	return config_load(f->path, c, f->err, sizeof(f->err));
}

static struct config *
load_ok(struct fx *f, const char *yaml)
{
	struct config *c = NULL;
	int r = load(f, yaml, &c);

	if (r != 0)
		fail_msg("config refused (%d): %s", r, f->err);
	assert_non_null(c);
	return c;
}

/* The load fails with exactly "PATH:LINE: KEY: REASON" ("PATH: KEY:
 * REASON" for line 0), and *out is left alone. */
static void
load_fails(struct fx *f, const char *yaml, int line, const char *key,
    const char *reason)
{
	static struct config untouched;
	struct config *c = &untouched;
	char want[1024];
	int r;

	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s: %s", f->path, line, key, reason);
	else
		snprintf(want, sizeof(want), "%s: %s: %s", f->path, key, reason);
	r = load(f, yaml, &c);
	if (r != -EG_ECONFIG)
		fail_msg("returned %d, want -EG_ECONFIG (%s)", r,
		    r == 0 ? "accepted" : f->err);
	assert_ptr_equal(c, &untouched);
	assert_string_equal(f->err, want);
}

static const char *
who(const struct config *c, int family, const char *addr)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	void *a = family == AF_INET ?
	    (void *)&((struct sockaddr_in *)&ss)->sin_addr :
	    (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	const struct tenant *t;

	assert_int_equal(inet_pton(family, addr, a), 1);
	t = tenants_match(&c->tenants, (struct sockaddr *)&ss);
	return t ? t->name : "(none)";
}

/* ---- good configs ---- */

static void
check_minimal_listen(const struct config *c)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c->listen[0].ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c->listen[1].ss;

	assert_int_equal(c->n_listen, 2);
	assert_int_equal(c->listen[0].kind, LISTEN_DNS);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ntohs(s4->sin_port), 5399);
	assert_int_equal(c->listen[0].sslen, sizeof(struct sockaddr_in));
	assert_string_equal(c->listen[0].text, "127.0.0.1:5399");
	assert_int_equal(c->listen[0].line, 4);
	assert_int_equal(c->listen[1].kind, LISTEN_DNS);
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_true(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
	assert_int_equal(ntohs(s6->sin6_port), 5399);
	assert_int_equal(c->listen[1].sslen, sizeof(struct sockaddr_in6));
	assert_string_equal(c->listen[1].text, "[::1]:5399");
	assert_int_equal(c->listen[1].line, 5);
}

static void
test_minimal(void **state)
{
	struct fx *f = *state;
	struct config *c = load_ok(f,
	    "# a comment\n"
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
	    "    - { transport: dns, address: \"[::1]:5399\" }\n"
	    NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, networks: [ 10.0.0.0/8, \"2001:db8::/32\" ] }\n"
	    "  - name: lab\n"
	    "    networks:\n"
	    "      - 10.1.0.0/16\n");

	assert_string_equal(c->path, f->path);
	check_minimal_listen(c);
	/* defaults */
	assert_int_equal(c->tcp_idle_ms, 10000);
	assert_int_equal(c->tcp_max_conns, 1024);
	assert_int_equal(c->tcp_max_pipelined, 100);
	assert_int_equal(c->max_inflight, 10000);
	assert_int_equal(c->cache_size, 64u << 20);
	assert_int_equal(c->query_timeout_ms, 10000);
	assert_false(c->dnssec);
	assert_string_equal(c->trust_anchor, "/usr/share/dns/root.key");
	assert_null(c->root_hints);
	assert_int_equal(c->n_forward, 0);
	assert_int_equal(c->n_ub_opts, 0);

	assert_int_equal(c->tenants.n, 2);
	assert_string_equal(c->tenants.v[0].name, "lan");
	assert_int_equal(c->tenants.v[0].line, 9);
	assert_string_equal(c->tenants.v[1].name, "lab");
	assert_int_equal(c->tenants.v[1].line, 10);
	assert_int_equal(c->tenants.n_nets, 3);
	/* sorted by config_load: the /16 of the second tenant wins */
	assert_string_equal(who(c, AF_INET, "10.1.2.3"), "lab");
	assert_string_equal(who(c, AF_INET, "10.2.0.1"), "lan");
	assert_string_equal(who(c, AF_INET6, "2001:db8::1"), "lan");
	assert_string_equal(who(c, AF_INET, "192.0.2.1"), "(none)");
	config_free(c);
	config_free(NULL);
}

static void
test_units(void **state)
{
	struct fx *f = *state;
	struct config *c;

	c = load_ok(f, LISTEN
	    "  tcp-idle-timeout: 500ms\n"
	    "  tcp-max-connections: 1\n"
	    "  tcp-max-pipelined: 65535\n"
	    "  max-queries: 16\n"
	    "resolution:\n"
	    "  dnssec: off\n"
	    "  query-timeout: 2m\n"
	    "  cache-size: 1g\n"
	    TENANT);
	assert_int_equal(c->tcp_idle_ms, 500);
	assert_int_equal(c->tcp_max_conns, 1);
	assert_int_equal(c->tcp_max_pipelined, 65535);
	assert_int_equal(c->max_inflight, 16);
	assert_false(c->dnssec);
	assert_int_equal(c->query_timeout_ms, 120000);
	assert_int_equal(c->cache_size, 1u << 30);
	config_free(c);

	/* a bare number of a duration is seconds; units ignore case */
	c = load_ok(f, LISTEN
	    "  tcp-idle-timeout: 1H\n"
	    "resolution:\n"
	    "  dnssec: \"no\"\n"
	    "  query-timeout: 30\n"
	    "  cache-size: 1024k\n"
	    TENANT);
	assert_int_equal(c->tcp_idle_ms, 3600000);
	assert_int_equal(c->query_timeout_ms, 30000);
	assert_int_equal(c->cache_size, 1u << 20);
	config_free(c);

	c = load_ok(f, LISTEN
	    "resolution:\n"
	    "  dnssec: False\n"
	    "  query-timeout: 500ms\n"
	    "  cache-size: 1099511627776\n"
	    TENANT);
	assert_int_equal(c->query_timeout_ms, 500);
	assert_int_equal(c->cache_size, 1ull << 40);
	config_free(c);
}

static void
test_relative_paths(void **state)
{
	struct fx *f = *state;
	struct config *c;
	char want[256], yaml[1024];

	write_file(f, "hints.txt", ". 3600 IN NS a.root.\n");
	write_file(f, "root.key", ". IN DS 20326 8 2 E06D44B8\n");
	c = load_ok(f, LISTEN
	    "resolution:\n"
	    "  dnssec: yes\n"
	    "  trust-anchor: root.key\n"
	    "  root-hints: hints.txt\n"
	    TENANT);
	assert_true(c->dnssec);
	snprintf(want, sizeof(want), "%s/root.key", f->dir);
	assert_string_equal(c->trust_anchor, want);
	snprintf(want, sizeof(want), "%s/hints.txt", f->dir);
	assert_string_equal(c->root_hints, want);
	config_free(c);

	/* absolute paths stay */
	snprintf(want, sizeof(want), "%s/root.key", f->dir);
	snprintf(yaml, sizeof(yaml), LISTEN
	    "resolution:\n"
	    "  dnssec: true\n"
	    "  trust-anchor: %s\n"
	    TENANT, want);
	c = load_ok(f, yaml);
	assert_string_equal(c->trust_anchor, want);
	config_free(c);

	/* without DNSSEC the trust anchor is not read */
	c = load_ok(f, LISTEN
	    "resolution:\n"
	    "  dnssec: no\n"
	    "  trust-anchor: missing.key\n"
	    TENANT);
	snprintf(want, sizeof(want), "%s/missing.key", f->dir);
	assert_string_equal(c->trust_anchor, want);
	config_free(c);
}

static void
test_forward(void **state)
{
	struct fx *f = *state;
	struct config *c = load_ok(f, LISTEN NO_DNSSEC
	    "  forward: [ \"192.0.2.1\", \"192.0.2.1@5353\", \"[2001:db8::1]:53\",\n"
	    "             \"2001:db8::2\", \"198.51.100.1:5300\", \"2001:db8::3@853\" ]\n"
	    TENANT);

	assert_int_equal(c->n_forward, 6);
	assert_string_equal(c->forward[0], "192.0.2.1@53");
	assert_string_equal(c->forward[1], "192.0.2.1@5353");
	assert_string_equal(c->forward[2], "2001:db8::1@53");
	assert_string_equal(c->forward[3], "2001:db8::2@53");
	assert_string_equal(c->forward[4], "198.51.100.1@5300");
	assert_string_equal(c->forward[5], "2001:db8::3@853");
	assert_null(c->root_hints);
	config_free(c);
}

static void
test_unbound_options(void **state)
{
	struct fx *f = *state;
	struct config *c = load_ok(f, LISTEN NO_DNSSEC
	    "  unbound-options:\n"
	    "    do-not-query-localhost: \"no\"\n"
	    "    outgoing-range: 64\n"
	    TENANT);

	assert_int_equal(c->n_ub_opts, 2);
	assert_string_equal(c->ub_opts[0].key, "do-not-query-localhost");
	assert_string_equal(c->ub_opts[0].value, "no");
	assert_int_equal(c->ub_opts[0].line, 7);
	assert_string_equal(c->ub_opts[1].key, "outgoing-range");
	assert_string_equal(c->ub_opts[1].value, "64");
	assert_int_equal(c->ub_opts[1].line, 8);
	config_free(c);

	c = load_ok(f, LISTEN NO_DNSSEC "  unbound-options: {}\n" TENANT);
	assert_int_equal(c->n_ub_opts, 0);
	config_free(c);
}

/* ---- errors ---- */

static void
test_err_unknown_keys(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN NO_DNSSEC TENANT "bogus: 1\n",
	    8, "bogus", "unknown key");
	load_fails(f, LISTEN "  bogus: 1\n" NO_DNSSEC TENANT,
	    4, "server.bogus", "unknown key");
	/* a key in the wrong section */
	load_fails(f, LISTEN NO_DNSSEC "  tcp-idle-timeout: 5s\n" TENANT,
	    6, "resolution.tcp-idle-timeout", "unknown key");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, networks: [ 10.0.0.0/8 ], colour: blue }\n",
	    7, "tenants.colour", "unknown key");
	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dns, address: 127.0.0.1, route: /q }\n"
	    NO_DNSSEC TENANT,
	    3, "server.listen.route", "unknown key");
}

static void
test_err_duplicate_key(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN
	    "  tcp-max-pipelined: 5\n"
	    "  tcp-max-pipelined: 6\n"
	    NO_DNSSEC TENANT,
	    5, "server.tcp-max-pipelined", "given twice");
	load_fails(f, LISTEN NO_DNSSEC TENANT "resolution:\n  cache-size: 2m\n",
	    8, "resolution", "given twice");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, name: lab, networks: [ 10.0.0.0/8 ] }\n",
	    7, "tenants.name", "given twice");
}

static void
test_err_values(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN "  tcp-idle-timeout: 10x\n" NO_DNSSEC TENANT,
	    4, "server.tcp-idle-timeout",
	    "\"10x\" is not a duration (10s, 500ms, 2m)");
	load_fails(f, LISTEN "  tcp-idle-timeout: 1.5s\n" NO_DNSSEC TENANT,
	    4, "server.tcp-idle-timeout",
	    "\"1.5s\" is not a duration (10s, 500ms, 2m)");
	load_fails(f, LISTEN "  tcp-idle-timeout: -1s\n" NO_DNSSEC TENANT,
	    4, "server.tcp-idle-timeout",
	    "\"-1s\" is not a duration (10s, 500ms, 2m)");
	load_fails(f, LISTEN "  tcp-max-pipelined: 0\n" NO_DNSSEC TENANT,
	    4, "server.tcp-max-pipelined", "0 is out of range (1..65535)");
	load_fails(f, LISTEN "  tcp-max-pipelined: 65536\n" NO_DNSSEC TENANT,
	    4, "server.tcp-max-pipelined", "65536 is out of range (1..65535)");
	load_fails(f, LISTEN "  tcp-max-connections: 10k\n" NO_DNSSEC TENANT,
	    4, "server.tcp-max-connections", "\"10k\" is not a number");
	load_fails(f, LISTEN "  tcp-idle-timeout: 99ms\n" NO_DNSSEC TENANT,
	    4, "server.tcp-idle-timeout", "99ms is out of range (100..3600000 ms)");
	load_fails(f, LISTEN NO_DNSSEC "  query-timeout: 3m\n" TENANT,
	    6, "resolution.query-timeout", "3m is out of range (500..120000 ms)");
	load_fails(f, LISTEN NO_DNSSEC "  cache-size: 512k\n" TENANT,
	    6, "resolution.cache-size",
	    "512k is out of range (1048576..1099511627776 bytes)");
	load_fails(f, LISTEN NO_DNSSEC "  cache-size: 2t\n" TENANT,
	    6, "resolution.cache-size", "\"2t\" is not a size (512k, 64m, 1g)");
	load_fails(f, LISTEN NO_DNSSEC "  cache-size: 99999999999999999999g\n" TENANT,
	    6, "resolution.cache-size",
	    "\"99999999999999999999g\" is not a size (512k, 64m, 1g)");
	load_fails(f, LISTEN "resolution:\n  dnssec: maybe\n" TENANT,
	    5, "resolution.dnssec", "\"maybe\" is not yes or no");
}

static void
test_err_shapes(void **state)
{
	struct fx *f = *state;

	load_fails(f, "- a\n- b\n", 1, "(document)", "expected a mapping (key: value)");
	load_fails(f, "server: 5\n" NO_DNSSEC TENANT,
	    1, "server", "expected a mapping (key: value)");
	load_fails(f, LISTEN NO_DNSSEC "tenants: lan\n",
	    6, "tenants", "expected a list");
	load_fails(f, LISTEN "  tcp-max-pipelined: [ 1 ]\n" NO_DNSSEC TENANT,
	    4, "server.tcp-max-pipelined", "expected a single value");
	load_fails(f, LISTEN NO_DNSSEC "  unbound-options: [ a ]\n" TENANT,
	    6, "resolution.unbound-options",
	    "expected a mapping of libunbound options");
	load_fails(f, LISTEN NO_DNSSEC "  unbound-options: { \"verbosity:\": 1 }\n" TENANT,
	    6, "resolution.unbound-options.verbosity:",
	    "write the option name without the colon");
	load_fails(f, LISTEN NO_DNSSEC "  unbound-options: { verbosity: [ 1 ] }\n" TENANT,
	    6, "resolution.unbound-options.verbosity", "expected a single value");
}

static void
test_err_listen(void **state)
{
	struct fx *f = *state;

	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
	    "    - { transport: dns, address: \"127.0.0.1:99999\" }\n"
	    NO_DNSSEC TENANT,
	    4, "server.listen.address",
	    "\"127.0.0.1:99999\" is not ADDRESS[:PORT] ([IPv6]:PORT for IPv6)");
	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - transport: dns\n"
	    "      address: localhost:53\n"
	    NO_DNSSEC TENANT,
	    4, "server.listen.address",
	    "\"localhost:53\" is not ADDRESS[:PORT] ([IPv6]:PORT for IPv6)");
}

static void
test_err_listen_transport(void **state)
{
	struct fx *f = *state;

	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: carrier-pigeon, address: \"127.0.0.1:853\" }\n"
	    NO_DNSSEC TENANT,
	    3, "server.listen.transport",
	    "\"carrier-pigeon\" is not supported (this version serves: dns, dot, doh)");
	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { address: \"127.0.0.1:53\" }\n"
	    NO_DNSSEC TENANT,
	    3, "server.listen.transport", "missing");
	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dns }\n"
	    NO_DNSSEC TENANT,
	    3, "server.listen.address", "missing");
}

static void
test_err_tenants(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { networks: [ 10.0.0.0/8 ] }\n",
	    7, "tenants.name", "every tenant needs a name");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: \"\", networks: [ 10.0.0.0/8 ] }\n",
	    7, "tenants.name", "every tenant needs a name");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, networks: [ 10.0.0.0/8 ] }\n"
	    "  - { name: lan, networks: [ 11.0.0.0/8 ] }\n",
	    8, "tenants.name", "tenant \"lan\" is defined twice");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan }\n",
	    7, "tenants.networks",
	    "tenant \"lan\" has neither networks nor a certificate-identity "
	    "nor a doh-token");
}

/* DoT listeners, server.tls and certificate-identity: the errors found
 * before any certificate is read (tests/integration/dot.sh loads real
 * ones). */
static void
test_err_dot(void **state)
{
	struct fx *f = *state;

	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dot, address: \"127.0.0.1:853\" }\n"
	    NO_DNSSEC TENANT,
	    3, "server.tls", "a dot listener needs server.tls (certificate and key)");
	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dns, address: \"127.0.0.1:53\", require-client-certificate: yes }\n"
	    NO_DNSSEC TENANT,
	    3, "server.listen.require-client-certificate", "only for transport dot");
	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dot, address: \"127.0.0.1:853\", require-client-certificate: maybe }\n"
	    NO_DNSSEC TENANT,
	    3, "server.listen.require-client-certificate", "\"maybe\" is not yes or no");
	load_fails(f,
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dot, address: \"127.0.0.1:853\", require-client-certificate: yes }\n"
	    "  tls: { certificate: s.pem, key: s.key }\n"
	    NO_DNSSEC TENANT,
	    3, "server.listen.require-client-certificate",
	    "needs server.tls.client-ca (the CA of the client certificates)");
	load_fails(f, LISTEN
	    "  tls: { certificate: s.pem, pin: abc }\n"
	    NO_DNSSEC TENANT,
	    4, "server.tls.pin", "unknown key (certificate, key, client-ca)");
	load_fails(f, LISTEN
	    "  tls: { certificate: s.pem }\n"
	    NO_DNSSEC TENANT,
	    4, "server.tls.key", "missing");
	load_fails(f, LISTEN
	    "  tls: { certificate: \"\", key: s.key }\n"
	    NO_DNSSEC TENANT,
	    4, "server.tls.certificate", "expected a file name");
	write_file(f, "s.key", "not a key\n");
	write_file(f, "s.pem", "not a certificate\n");
	{
		char reason[600];

		snprintf(reason, sizeof(reason), "cannot read %s/nothere.pem: "
		    "No such file or directory", f->dir);
		load_fails(f, LISTEN
		    "  tls: { certificate: nothere.pem, key: s.key }\n"
		    NO_DNSSEC TENANT,
		    4, "server.tls.certificate", reason);
		snprintf(reason, sizeof(reason), "%s/s.pem: no PEM data "
		    "(no -----BEGIN line)", f->dir);
		load_fails(f, LISTEN
		    "  tls: { certificate: s.pem, key: s.key }\n"
		    NO_DNSSEC TENANT,
		    4, "server.tls.certificate", reason);
		/* block style: the line of the key at fault */
		snprintf(reason, sizeof(reason), "cannot read %s/nothere.key: "
		    "No such file or directory", f->dir);
		load_fails(f, LISTEN
		    "  tls:\n"
		    "    certificate: s.pem\n"
		    "    key: nothere.key\n"
		    NO_DNSSEC TENANT,
		    6, "server.tls.key", reason);
		snprintf(reason, sizeof(reason), "%s/s.pem: no PEM data "
		    "(no -----BEGIN line)", f->dir);
		load_fails(f, LISTEN
		    "  tls:\n"
		    "    key: s.key\n"
		    "    certificate: s.pem\n"
		    NO_DNSSEC TENANT,
		    6, "server.tls.certificate", reason);
	}
}

static void
test_err_identity(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: branch, certificate-identity: branch.example }\n",
	    7, "tenants.certificate-identity",
	    "tenant \"branch\": needs server.tls.client-ca");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: a, certificate-identity: x.example }\n"
	    "  - { name: b, certificate-identity: X.example }\n",
	    8, "tenants.certificate-identity",
	    "\"X.example\" already identifies tenant a");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: a, certificate-identity: [ x.example ] }\n",
	    7, "tenants.certificate-identity", "expected a DNS name, URI or CN");
}

static void
test_err_networks(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, networks: [ 10.0.0.1/8 ] }\n",
	    7, "tenants.networks",
	    "\"10.0.0.1/8\": host bits set beyond the prefix length");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - name: lan\n"
	    "    networks:\n"
	    "      - 10.0.0.0/8\n"
	    "      - 10.0.0.0/33\n",
	    10, "tenants.networks", "\"10.0.0.0/33\": bad prefix length");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, networks: [ 10.0.0.0/8 ] }\n"
	    "  - name: lab\n"
	    "    networks:\n"
	    "      - 10.0.0.0/8\n",
	    10, "tenants.networks", "\"10.0.0.0/8\" already belongs to tenant lan");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, networks: [ \"2001:db8::/32\", \"2001:db8:0::/32\" ] }\n",
	    7, "tenants.networks",
	    "\"2001:db8:0::/32\" already belongs to tenant lan");
	load_fails(f, LISTEN NO_DNSSEC
	    "tenants:\n"
	    "  - { name: lan, networks: 10.0.0.0/8 }\n",
	    7, "tenants.networks", "expected a list");
}

static void
test_err_whole_file(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN NO_DNSSEC,
	    0, "tenants", "no tenants: every client would be refused");
	load_fails(f, LISTEN NO_DNSSEC "tenants: []\n",
	    0, "tenants", "no tenants: every client would be refused");
	load_fails(f, NO_DNSSEC TENANT,
	    0, "server.listen", "no listener configured");
	load_fails(f, "server:\n  listen: []\n" NO_DNSSEC TENANT,
	    0, "server.listen", "no listener configured");
}

static void
test_err_files(void **state)
{
	struct fx *f = *state;
	char reason[512];

	write_file(f, "hints.txt", ". 3600 IN NS a.root.\n");
	load_fails(f, LISTEN NO_DNSSEC
	    "  root-hints: hints.txt\n"
	    "  forward: [ 192.0.2.1 ]\n"
	    TENANT,
	    7, "resolution.forward", "give either root-hints or forward, not both");

	snprintf(reason, sizeof(reason),
	    "cannot read %s/missing.key: No such file or directory", f->dir);
	load_fails(f, LISTEN
	    "resolution:\n"
	    "  dnssec: yes\n"
	    "  trust-anchor: missing.key\n"
	    TENANT,
	    6, "resolution.trust-anchor", reason);

	snprintf(reason, sizeof(reason),
	    "cannot read %s/missing.hints: No such file or directory", f->dir);
	load_fails(f, LISTEN NO_DNSSEC
	    "  root-hints: missing.hints\n"
	    TENANT,
	    6, "resolution.root-hints", reason);

	/* a directory is not a file; "" would be the config's directory */
	snprintf(reason, sizeof(reason), "%s/. is not a regular file", f->dir);
	load_fails(f, LISTEN
	    "resolution:\n"
	    "  dnssec: yes\n"
	    "  trust-anchor: .\n"
	    TENANT,
	    6, "resolution.trust-anchor", reason);
	load_fails(f, LISTEN
	    "resolution:\n"
	    "  dnssec: yes\n"
	    "  trust-anchor: \"\"\n"
	    TENANT,
	    6, "resolution.trust-anchor", "empty path");
}

static void
test_err_forward(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN NO_DNSSEC
	    "  forward: [ \"192.0.2.1@0\" ]\n"
	    TENANT,
	    6, "resolution.forward", "\"192.0.2.1@0\" is not ADDRESS[@PORT]");
	load_fails(f, LISTEN NO_DNSSEC
	    "  forward: [ resolver.example ]\n"
	    TENANT,
	    6, "resolution.forward", "\"resolver.example\" is not ADDRESS[@PORT]");
	load_fails(f, LISTEN NO_DNSSEC
	    "  forward: 192.0.2.1\n"
	    TENANT,
	    6, "resolution.forward", "expected a list");
}

/* "server.listen:" is no way to nest: it would slip past the duplicate
 * check beside "server: { listen: }" (and once overflowed the listen
 * array). */
static void
test_err_dotted_keys(void **state)
{
	struct fx *f = *state;

	load_fails(f, LISTEN
	    "server.listen:\n"
	    "  - { transport: dns, address: \"127.0.0.2:5399\" }\n"
	    NO_DNSSEC TENANT,
	    4, "server.listen", "unknown key");
	load_fails(f, LISTEN NO_DNSSEC TENANT "resolution.dnssec: yes\n",
	    8, "resolution.dnssec", "unknown key");
	load_fails(f, LISTEN "  tcp.idle: 5s\n" NO_DNSSEC TENANT,
	    4, "tcp.idle", "unknown key");
}

static void
test_err_documents(void **state)
{
	struct fx *f = *state;
	struct config *c;

	/* one explicit document, with its end marker, is fine */
	c = load_ok(f, "---\n" LISTEN NO_DNSSEC TENANT "...\n");
	config_free(c);

	/* a second document would go unread */
	load_fails(f, LISTEN NO_DNSSEC TENANT "---\nbogus: 1\n",
	    8, "(document)", "only one YAML document per file");
	load_fails(f, LISTEN NO_DNSSEC TENANT "---\n- [\n",
	    10, "(document)", "YAML: did not find expected node content");
}

static void
test_err_yaml(void **state)
{
	struct fx *f = *state;
	struct config *c = NULL;
	char want[256];

	/* line 5 is not YAML */
	assert_int_equal(load(f, LISTEN "  tcp-max-pipelined: 5\n  a: b: c\n"
	    NO_DNSSEC TENANT, &c), -EG_ECONFIG);
	assert_null(c);
	snprintf(want, sizeof(want), "%s:5: YAML: ", f->path);
	if (strncmp(f->err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", f->err, want);
	assert_non_null(strstr(f->err, "mapping values are not allowed"));

	/* an unclosed flow sequence swallows line 7 and ends with the file,
	 * on line 8 */
	assert_int_equal(load(f, LISTEN NO_DNSSEC "  forward: [ 192.0.2.1,\n"
	    "tenants: []\n", &c), -EG_ECONFIG);
	snprintf(want, sizeof(want), "%s:8: YAML: ", f->path);
	if (strncmp(f->err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", f->err, want);

	/* a tab in the indentation */
	assert_int_equal(load(f, "server:\n\tlisten: []\n", &c), -EG_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: YAML: ", f->path);
	if (strncmp(f->err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", f->err, want);
	assert_null(c);
}

static void
test_err_empty_and_missing(void **state)
{
	struct fx *f = *state;
	struct config *c = NULL;
	char missing[256], want[512];

	load_fails(f, "", 0, "(document)", "the file is empty");
	load_fails(f, "# nothing but a comment\n\n", 0, "(document)",
	    "the file is empty");

	snprintf(missing, sizeof(missing), "%s/nonexistent.yaml", f->dir);
	assert_int_equal(config_load(missing, &c, f->err, sizeof(f->err)), -ENOENT);
	assert_null(c);
	snprintf(want, sizeof(want), "%s: No such file or directory", missing);
	assert_string_equal(f->err, want);

	/* a directory is no config file */
	assert_true(config_load(f->dir, &c, f->err, sizeof(f->err)) < 0);
	assert_null(c);
}

/* ---- config_parse_sockaddr ---- */

static void
test_parse_sockaddr(void **state)
{
	static const struct {
		const char *text;
		int family;
		const char *addr;
		int port;
	} good[] = {
		{ "127.0.0.1", AF_INET, "127.0.0.1", 53 },
		{ "127.0.0.1:5399", AF_INET, "127.0.0.1", 5399 },
		{ "127.0.0.1@5399", AF_INET, "127.0.0.1", 5399 },
		{ "0.0.0.0:65535", AF_INET, "0.0.0.0", 65535 },
		{ "::1", AF_INET6, "::1", 53 },
		{ "[::1]", AF_INET6, "::1", 53 },
		{ "[::1]:5399", AF_INET6, "::1", 5399 },
		{ "2001:db8::1@853", AF_INET6, "2001:db8::1", 853 },
		{ "::ffff:192.0.2.1", AF_INET6, "::ffff:192.0.2.1", 53 },
	};
	static const char *const bad[] = {
		"", ":53", "@53", "[]:53", "[::1", "[::1]x", "[::1]:", "[::1]:0",
		"127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x",
		"127.0.0.1:53x", "127.0.0.1@", "256.0.0.1", "localhost",
		"localhost:53", "1.2.3.4:5:6", "::1:53@", "fe80::1%lo",
		"2001:0db8:0000:0000:0000:0000:0000:0001:0000:0000:0000",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;
		char text[INET6_ADDRSTRLEN];
		int port;

		if (config_parse_sockaddr(good[i].text, 53, &ss, &len) != 0)
			fail_msg("\"%s\": refused", good[i].text);
		if (ss.ss_family != good[i].family)
			fail_msg("\"%s\": family %d", good[i].text, ss.ss_family);
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			assert_int_equal(len, sizeof(*s4));
			inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text));
			port = ntohs(s4->sin_port);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			assert_int_equal(len, sizeof(*s6));
			inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof(text));
			port = ntohs(s6->sin6_port);
		}
		if (strcmp(text, good[i].addr) != 0 || port != good[i].port)
			fail_msg("\"%s\": %s port %d", good[i].text, text, port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;

		if (config_parse_sockaddr(bad[i], 53, &ss, &len) != -EINVAL)
			fail_msg("\"%s\": accepted", bad[i]);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_minimal),
		T(test_units),
		T(test_relative_paths),
		T(test_forward),
		T(test_unbound_options),
		T(test_err_unknown_keys),
		T(test_err_duplicate_key),
		T(test_err_values),
		T(test_err_shapes),
		T(test_err_listen),
		T(test_err_listen_transport),
		T(test_err_tenants),
		T(test_err_dot),
		T(test_err_identity),
		T(test_err_networks),
		T(test_err_whole_file),
		T(test_err_files),
		T(test_err_forward),
		T(test_err_dotted_keys),
		T(test_err_documents),
		T(test_err_yaml),
		T(test_err_empty_and_missing),
		cmocka_unit_test(test_parse_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
