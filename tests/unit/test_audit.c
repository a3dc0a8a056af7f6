/* test_audit.c -- query log records: JSON, escaping, client-address modes, HMAC, log: config */
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver/audit.h"
#include "resolver/config.h"
#include "tests/unit/testdir.h"

static const uint8_t key16[] = "0123456789abcdef";

/* www.Example.COM A from 192.0.2.7, answered at 2026-12-01T18:50:27.123Z */
static void
sample(struct audit_record *r)
{
	static const uint8_t name[] = "\3www\7Example\3COM";

	memset(r, 0, sizeof(*r));
	r->ts.tv_sec = 1796151027;
	r->ts.tv_nsec = 123456789;
	r->latency_us = 1234;
	r->qtype = 1;
	r->rcode = 0;
	r->transport = AUDIT_T_UDP;
	r->action = AUDIT_PASS;
	r->cache = AUDIT_CACHE_MISS;
	r->dnssec = AUDIT_SEC_INSECURE;
	r->family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", r->addr);
	r->qname_len = sizeof(name);	/* includes the root label's 0 */
	memcpy(r->qname, name, sizeof(name));
	strcpy(r->tenant, "hq");
}

static void
test_format_pass(void **state)
{
	struct audit_fmt f = { .client = AUDIT_ADDR_FULL };
	struct audit_record r;
	char line[AUDIT_LINE_MAX];
	size_t n;

	sample(&r);
	n = audit_format(&r, &f, line, sizeof(line));
	assert_string_equal(line,
	    "{\"ts\":\"2026-12-01T18:50:27.123Z\",\"tenant\":\"hq\","
	    "\"client\":\"192.0.2.7\",\"transport\":\"udp\","
	    "\"qname\":\"www.example.com\",\"qtype\":\"A\",\"rcode\":\"NOERROR\","
	    "\"action\":\"pass\",\"reason\":null,\"category\":null,\"feed\":null,"
	    "\"latency_us\":1234,\"cache\":\"miss\",\"dnssec\":\"insecure\"}\n");
	assert_int_equal(n, strlen(line));
}

static void
test_format_block(void **state)
{
	struct audit_fmt f = { .client = AUDIT_ADDR_FULL };
	struct audit_record r;
	char line[AUDIT_LINE_MAX];

	sample(&r);
	r.transport = AUDIT_T_DOH;
	r.action = AUDIT_BLOCK;
	r.reason = AUDIT_R_CNAME;
	r.rcode = 3;
	r.qtype = 65;
	r.cache = AUDIT_CACHE_HIT;
	r.dnssec = AUDIT_SEC_SECURE;
	strcpy(r.category, "c2");
	strcpy(r.feed, "abuse \"ch\"");
	assert_true(audit_format(&r, &f, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"transport\":\"doh\","));
	assert_non_null(strstr(line, "\"qtype\":\"HTTPS\",\"rcode\":\"NXDOMAIN\","
	    "\"action\":\"block\",\"reason\":\"cname\",\"category\":\"c2\","
	    "\"feed\":\"abuse \\\"ch\\\"\","));
	assert_non_null(strstr(line, "\"cache\":\"hit\",\"dnssec\":\"secure\"}"));
}

/* A refused query from nobody: no tenant, no question. */
static void
test_format_nulls(void **state)
{
	struct audit_fmt f = { .client = AUDIT_ADDR_FULL };
	struct audit_record r;
	char line[AUDIT_LINE_MAX];

	sample(&r);
	r.tenant[0] = '\0';
	r.qname_len = 0;
	r.action = AUDIT_REFUSE;
	r.rcode = 1;
	r.cache = AUDIT_CACHE_NONE;
	r.dnssec = AUDIT_SEC_NONE;
	assert_true(audit_format(&r, &f, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"tenant\":null,"));
	assert_non_null(strstr(line, "\"qname\":null,\"qtype\":null,\"rcode\":\"FORMERR\","
	    "\"action\":\"refuse\",\"reason\":null,"));
	assert_non_null(strstr(line, "\"cache\":null,\"dnssec\":null}\n"));
}

/* Names hold any byte: JSON stays valid, labels stay tellable apart. */
static void
test_qname_escaping(void **state)
{
	static const uint8_t name[] = "\4a.b\\\3q\"Z\4\0\x1f \xff\0";
	struct audit_fmt f = { .client = AUDIT_ADDR_FULL };
	struct audit_record r;
	char line[AUDIT_LINE_MAX];

	sample(&r);
	r.qname_len = sizeof(name) - 1;
	memcpy(r.qname, name, sizeof(name) - 1);
	assert_true(audit_format(&r, &f, line, sizeof(line)) > 0);
	assert_non_null(strstr(line,
	    "\"qname\":\"a\\\\.b\\\\\\\\.q\\\"z.\\u0000\\u001f\\u0020\\u00ff\","));

	/* the root */
	r.qname_len = 1;
	r.qname[0] = 0;
	assert_true(audit_format(&r, &f, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"qname\":\".\","));
}

static void
test_tenant_escaping(void **state)
{
	struct audit_fmt f = { .client = AUDIT_ADDR_FULL };
	struct audit_record r;
	char line[AUDIT_LINE_MAX];

	sample(&r);
	strcpy(r.tenant, "a\\b\n\x7f");
	assert_true(audit_format(&r, &f, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"tenant\":\"a\\\\b\\u000a\\u007f\","));
}

/* The worst record still fits AUDIT_LINE_MAX; a small buffer is refused. */
static void
test_format_bounds(void **state)
{
	struct audit_fmt f = { .client = AUDIT_ADDR_FULL };
	struct audit_record r;
	char line[AUDIT_LINE_MAX];
	size_t n;

	sample(&r);
	r.family = AF_INET6;
	memset(r.addr, 0xff, 16);
	r.qname_len = 255;
	for (int i = 0; i < 254; i += 64) {
		int l = 254 - i - 1 < 63 ? 254 - i - 1 : 63;

		r.qname[i] = (uint8_t)l;
		memset(r.qname + i + 1, 0x01, (size_t)l);
	}
	r.qname[254] = 0;
	memset(r.tenant, 0x01, AUDIT_TEXT_MAX);
	memset(r.category, 0x01, AUDIT_TEXT_MAX);
	memset(r.feed, 0x01, AUDIT_TEXT_MAX);
	r.latency_us = UINT32_MAX;
	n = audit_format(&r, &f, line, sizeof(line));
	assert_true(n > 0 && n < sizeof(line));
	assert_int_equal(audit_format(&r, &f, line, 100), 0);
	assert_int_equal(audit_format(&r, &f, line, 0), 0);
}

static void
test_client_modes(void **state)
{
	struct audit_fmt f = { .client = AUDIT_ADDR_FULL };
	struct audit_record r;
	char out[64], line[AUDIT_LINE_MAX];

	sample(&r);
	assert_int_equal(audit_client_text(&r, &f, out, sizeof(out)), 9);
	assert_string_equal(out, "192.0.2.7");
	f.client = AUDIT_ADDR_TRUNCATE;
	audit_client_text(&r, &f, out, sizeof(out));
	assert_string_equal(out, "192.0.2.0/24");

	r.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2ff:aaaa:bbbb:cccc:dddd", r.addr);
	audit_client_text(&r, &f, out, sizeof(out));
	assert_string_equal(out, "2001:db8:1:200::/56");
	f.client = AUDIT_ADDR_FULL;
	audit_client_text(&r, &f, out, sizeof(out));
	assert_string_equal(out, "2001:db8:1:2ff:aaaa:bbbb:cccc:dddd");

	/* hash: HMAC-SHA-256(key, address bytes), first 16 bytes in hex
	 * (vectors from Python's hmac module) */
	f.client = AUDIT_ADDR_HASH;
	f.key = key16;
	f.keylen = 16;
	sample(&r);
	assert_int_equal(audit_client_text(&r, &f, out, sizeof(out)), 32);
	assert_string_equal(out, "b0e5baeb668bdfd4015a9c5423c903ec");
	r.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", r.addr);
	audit_client_text(&r, &f, out, sizeof(out));
	assert_string_equal(out, "509e5a7b677c46c0a03b17bcbbffe57f");
	/* the record carries the token, never the address */
	sample(&r);
	assert_true(audit_format(&r, &f, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"client\":\"b0e5baeb668bdfd4015a9c5423c903ec\""));
	assert_null(strstr(line, "192.0.2"));
	/* without a key: null, never the raw address */
	f.key = NULL;
	assert_int_equal(audit_client_text(&r, &f, out, sizeof(out)), 0);
	assert_true(audit_format(&r, &f, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"client\":null"));
	/* unknown family, small buffer */
	f.client = AUDIT_ADDR_FULL;
	assert_int_equal(audit_client_text(&r, &f, out, 5), 0);
	r.family = 0;
	assert_int_equal(audit_client_text(&r, &f, out, sizeof(out)), 0);
}

/* RFC 4231 test case 2 (truncated to 16 bytes). */
static void
test_hmac_vector(void **state)
{
	char out[33];

	assert_int_equal(audit_hmac_hex((const uint8_t *)"Jefe", 4,
	    (const uint8_t *)"what do ya want for nothing?", 28, out), 0);
	assert_string_equal(out, "5bdcc146bf60754e6a042426089575c7");
}

static void
test_mnemonics(void **state)
{
	char b[16];

	assert_string_equal(audit_qtype_name(1, b), "A");
	assert_string_equal(audit_qtype_name(28, b), "AAAA");
	assert_string_equal(audit_qtype_name(65, b), "HTTPS");
	assert_string_equal(audit_qtype_name(255, b), "ANY");
	assert_string_equal(audit_qtype_name(252, b), "AXFR");
	assert_string_equal(audit_qtype_name(65280, b), "TYPE65280");
	assert_string_equal(audit_qtype_name(54, b), "TYPE54");
	assert_string_equal(audit_rcode_name(0, b), "NOERROR");
	assert_string_equal(audit_rcode_name(3, b), "NXDOMAIN");
	assert_string_equal(audit_rcode_name(5, b), "REFUSED");
	assert_string_equal(audit_rcode_name(16, b), "BADVERS");
	assert_string_equal(audit_rcode_name(23, b), "RCODE23");
}

static void
test_answer_rcode(void **state)
{
	/* NXDOMAIN, question www.a. A IN, no OPT */
	static const uint8_t nx[] = { 0xab, 0xcd, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 1, 'a', 0, 0, 1, 0, 1 };
	/* BADVERS: header rcode 0, OPT with extended rcode 1, no question */
	static const uint8_t badvers[] = { 0xab, 0xcd, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0 };
	/* an answer RR with a compressed name, then OPT with ext 0 */
	static const uint8_t ok[] = { 0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 1,
		1, 'a', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0 };

	assert_int_equal(audit_answer_rcode(nx, sizeof(nx)), 3);
	assert_int_equal(audit_answer_rcode(badvers, sizeof(badvers)), 16);
	assert_int_equal(audit_answer_rcode(ok, sizeof(ok)), 0);
	assert_int_equal(audit_answer_rcode(ok, sizeof(ok) - 3), -1);
	assert_int_equal(audit_answer_rcode(badvers, 11), -1);
	assert_int_equal(audit_answer_rcode(NULL, 0), -1);
}

static void
test_modes(void **state)
{
	struct audit_record r;

	sample(&r);
	assert_true(audit_wanted(AUDIT_MODE_METADATA, &r));
	assert_false(audit_wanted(AUDIT_MODE_BLOCKED_ONLY, &r));
	assert_false(audit_wanted(AUDIT_MODE_NONE, &r));
	for (int a = AUDIT_REDIRECT; a <= AUDIT_REFUSE; a++) {
		r.action = (uint8_t)a;
		assert_true(audit_wanted(AUDIT_MODE_METADATA, &r));
		assert_true(audit_wanted(AUDIT_MODE_BLOCKED_ONLY, &r));
		assert_false(audit_wanted(AUDIT_MODE_NONE, &r));
	}
}

static void
test_loss_line(void **state)
{
	struct timespec ts = { 1796151027, 5000000 };
	char line[128];

	size_t n = audit_format_loss(&ts, 42, line, sizeof(line));

	assert_int_equal(n, strlen(line));
	assert_string_equal(line, "{\"ts\":\"2026-12-01T18:50:27.005Z\","
	    "\"event\":\"records-lost\",\"count\":42}\n");
	assert_int_equal(audit_format_loss(&ts, 42, line, 20), 0);
}

/* ---- the log: section ---- */

struct fx {
	char dir[64];
	char path[128];
	char err[1024];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/egressd-test-audit.XXXXXX");
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
put_file(struct fx *f, const char *name, const char *text, mode_t mode)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	assert_non_null(fp = fopen(p, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(p, mode), 0);
}

/* Load a config whose log: section (from line 7) is given. */
static int
load(struct fx *f, const char *log, struct config **c)
{
	char text[2048];

	snprintf(text, sizeof(text),
	    "server:\n"
	    "  listen:\n"
	    "    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
	    "resolution:\n"
	    "  dnssec: no\n"
	    "tenants: [ { name: lan, networks: [ 10.0.0.0/8 ] } ]\n"
	    "%s", log);
	put_file(f, "egressd.yaml", text, 0644);
	*c = NULL;
	return config_load(f->path, c, f->err, sizeof(f->err));
}

static void
expect_error(struct fx *f, const char *log, const char *want)
{
	struct config *c;

	if (load(f, log, &c) == 0) {
		config_free(c);
		fail_msg("accepted: %s", log);
	}
	if (strstr(f->err, want) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", f->err, want);
}

static void
test_config_good(void **state)
{
	struct fx *f = *state;
	struct config *c;

	put_file(f, "k", "0123456789abcdef\n", 0640);
	if (load(f, "log:\n  queries: q.jsonl\n  mode: blocked-only\n"
	    "  client-address: hash\n  hash-key: k\n  buffer: 128\n", &c) != 0)
		fail_msg("%s", f->err);
	assert_int_equal(c->log.sink, AUDIT_SINK_FILE);
	assert_int_equal(c->log.mode, AUDIT_MODE_BLOCKED_ONLY);
	assert_int_equal(c->log.client, AUDIT_ADDR_HASH);
	assert_int_equal(c->log.keylen, 17);
	assert_int_equal(c->log.buffer, 128);
	assert_non_null(strstr(c->log.path, "/q.jsonl"));
	assert_true(c->log.path[0] == '/');
	config_free(c);

	if (load(f, "log:\n  syslog: \"tls://[2001:db8::1]:6514\"\n", &c) != 0)
		fail_msg("%s", f->err);
	assert_int_equal(c->log.sink, AUDIT_SINK_SYSLOG);
	assert_true(c->log.syslog_tls);
	assert_string_equal(c->log.syslog_host, "2001:db8::1");
	assert_string_equal(c->log.syslog_port, "6514");
	assert_int_equal(c->log.mode, AUDIT_MODE_METADATA);
	config_free(c);

	if (load(f, "log: { queries: \"-\" }\nmetrics: { listen: \"127.0.0.1\" }\n",
	    &c) != 0)
		fail_msg("%s", f->err);
	assert_int_equal(c->log.sink, AUDIT_SINK_STDOUT);
	assert_true(c->metrics.enabled);
	assert_int_equal(ntohs(((struct sockaddr_in *)&c->metrics.ss)->sin_port), 9153);
	config_free(c);

	/* no log: section, no records */
	if (load(f, "", &c) != 0)
		fail_msg("%s", f->err);
	assert_int_equal(c->log.mode, AUDIT_MODE_NONE);
	assert_false(c->metrics.enabled);
	config_free(c);
}

static void
test_config_bad(void **state)
{
	struct fx *f = *state;

	put_file(f, "short", "0123456789", 0600);
	put_file(f, "open", "0123456789abcdef0123", 0644);
	put_file(f, "good", "0123456789abcdef0123", 0600);
	expect_error(f, "log:\n  queries: q\n  mode: all\n",
	    "egressd.yaml:9: log.mode: \"all\" is not one of metadata, blocked-only, none");
	expect_error(f, "log:\n  queries: q\n  client-address: half\n",
	    ":9: log.client-address:");
	expect_error(f, "log:\n  mode: metadata\n", ":8: log.queries: say where");
	expect_error(f, "log:\n  queries: /nonexistent-dir/q\n",
	    ":8: log.queries: directory /nonexistent-dir does not exist");
	expect_error(f, "log:\n  queries: q\n  client-address: hash\n",
	    "log.hash-key: client-address: hash needs a hash-key file");
	expect_error(f, "log:\n  queries: q\n  client-address: hash\n  hash-key: short\n",
	    ":10: log.hash-key:");
	expect_error(f, "log:\n  queries: q\n  client-address: hash\n  hash-key: open\n",
	    "readable by everyone");
	expect_error(f, "log:\n  queries: q\n  hash-key: missing\n", "cannot open");
	expect_error(f, "log:\n  queries: q\n  syslog: \"tcp://h:1\"\n",
	    "give either queries or syslog");
	expect_error(f, "log:\n  syslog: \"udp://h:514\"\n", ":8: log.syslog:");
	expect_error(f, "log:\n  syslog: \"tcp://h\"\n", "has no :PORT");
	expect_error(f, "log:\n  syslog: \"tcp://h:70000\"\n", "bad port");
	expect_error(f, "log:\n  syslog: \"tcp://h:1\"\n  syslog-ca: good\n",
	    "only for a tls:// syslog");
	expect_error(f, "log:\n  queries: q\n  buffer: 1\n", ":9: log.buffer:");
	expect_error(f, "log:\n  queries: q\n  colour: red\n", ":9: log.colour: unknown key");
	expect_error(f, "log: [ q ]\n", ":7: log: expected a mapping");
	expect_error(f, "metrics: { listen: \"nowhere\" }\n", ":7: metrics.listen:");
	expect_error(f, "metrics: { port: 1 }\n", "metrics.port: unknown key");
	expect_error(f, "metrics: {}\n", "metrics.listen: missing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_pass),
		cmocka_unit_test(test_format_block),
		cmocka_unit_test(test_format_nulls),
		cmocka_unit_test(test_qname_escaping),
		cmocka_unit_test(test_tenant_escaping),
		cmocka_unit_test(test_format_bounds),
		cmocka_unit_test(test_client_modes),
		cmocka_unit_test(test_hmac_vector),
		cmocka_unit_test(test_mnemonics),
		cmocka_unit_test(test_answer_rcode),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_loss_line),
		cmocka_unit_test_setup_teardown(test_config_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_bad, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
