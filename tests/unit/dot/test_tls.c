/* test_tls.c -- the TLS server context: checks, ALPN, client identities, tickets, reload
 *
 * Certificates are made here with OpenSSL (including ones the openssl
 * command cannot make: a NUL inside a SAN, two CNs, a certificate not yet
 * valid) and handshakes run over memory BIO pairs, no sockets.
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "resolver/config.h"
#include "resolver/dot/tls.h"
#include "resolver/policy/tenant.h"

#define DAY	(24 * 3600L)

struct fx {
	char dir[64];
	EVP_PKEY *ca_key, *other_key;
	X509 *ca, *other;
	struct tls_cfg cfg;
	struct tenant tv[4];
	struct tenants tenants;
};

/* A SAN entry: GEN_DNS or GEN_URI and its bytes (may hold a NUL). */
struct san {
	int type;
	const char *v;
	size_t len;
};

static EVP_PKEY *
mk_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

/* A certificate for key: CNs (NULL-terminated, may be empty), SANs,
 * validity from now+nb to now+na seconds, signed by ca/cakey (self-signed
 * CA when ca is NULL). */
static X509 *
mk_cert(EVP_PKEY *key, const char *const *cns, const struct san *sans,
    size_t nsans, long nb, long na, X509 *ca, EVP_PKEY *cakey)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	for (; cns && *cns; cns++)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		    (const unsigned char *)*cns, -1, -1, 0), 1);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);
	X509_NAME_free(name);
	X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
	if (ca == NULL) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_basic_constraints, "critical,CA:TRUE");

		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (nsans) {
		GENERAL_NAMES *g = GENERAL_NAMES_new();

		for (size_t i = 0; i < nsans; i++) {
			GENERAL_NAME *gn = GENERAL_NAME_new();
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			ASN1_STRING_set(s, sans[i].v, (int)sans[i].len);
			GENERAL_NAME_set0_value(gn, sans[i].type, s);
			sk_GENERAL_NAME_push(g, gn);
		}
		X509_add1_ext_i2d(x, NID_subject_alt_name, g, 0, 0);
		GENERAL_NAMES_free(g);
	}
	assert_true(X509_sign(x, cakey ? cakey : key, EVP_sha256()) > 0);
	return x;
}

static char *
write_pem(struct fx *f, const char *name, X509 *cert, EVP_PKEY *key)
{
	char *path;
	FILE *fp;

	assert_true(asprintf(&path, "%s/%s", f->dir, name) > 0);
	assert_non_null(fp = fopen(path, "w"));
	if (cert)
		assert_int_equal(PEM_write_X509(fp, cert), 1);
	if (key)
		assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL,
		    NULL), 1);
	fclose(fp);
	return path;
}

/* A server certificate from the test CA, as server.pem / server.key. */
static void
server_files(struct fx *f, long nb, long na, const char *pem, const char *keyf)
{
	static const char *const cn[] = { "dns.test", NULL };
	static const struct san s[] = { { GEN_DNS, "dns.test", 8 } };
	EVP_PKEY *k = mk_key();
	X509 *x = mk_cert(k, cn, s, 1, nb, na, f->ca, f->ca_key);

	free(f->cfg.certificate);
	free(f->cfg.key);
	f->cfg.certificate = write_pem(f, pem, x, NULL);
	f->cfg.key = write_pem(f, keyf, NULL, k);
	X509_free(x);
	EVP_PKEY_free(k);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/egressd-test-tls.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ca_key = mk_key();
	f->ca = mk_cert(f->ca_key, (const char *const[]){ "test CA", NULL }, NULL,
	    0, -DAY, 30 * DAY, NULL, NULL);
	f->other_key = mk_key();
	f->other = mk_cert(f->other_key, (const char *const[]){ "other CA", NULL },
	    NULL, 0, -DAY, 30 * DAY, NULL, NULL);
	f->cfg.client_ca = write_pem(f, "ca.pem", f->ca, NULL);
	server_files(f, -DAY, 30 * DAY, "server.pem", "server.key");
	f->tv[0] = (struct tenant){ .name = "branch", .cert_identity = "branch.example" };
	f->tv[1] = (struct tenant){ .name = "lab", .cert_identity = "spiffe://example/Lab" };
	f->tv[2] = (struct tenant){ .name = "cn", .cert_identity = "cn-tenant.example" };
	f->tv[3] = (struct tenant){ .name = "lan" };
	f->tenants = (struct tenants){ .v = f->tv, .n = 4 };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	X509_free(f->ca);
	X509_free(f->other);
	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->other_key);
	free(f->cfg.certificate);
	free(f->cfg.key);
	free(f->cfg.client_ca);
	free(f);
	return 0;
}

/* ---- handshakes over a BIO pair ---- */

struct client {
	X509 *cert;		/* NULL: none */
	EVP_PKEY *key;
	const char *alpn;	/* wire form, NULL: none */
	size_t alpn_len;
	SSL_SESSION *session;	/* to resume, NULL: none */
};

/* Run a handshake (and read the tickets).  \return true when both sides
 * finished it; *out the server's SSL (caller frees), *sess the client's
 * session when asked. */
static bool
handshake(struct tls_server *ts, const struct tls_listener *l,
    const struct client *cl, const char *ca_path, SSL **out, SSL_SESSION **sess)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *c, *s = tls_server_ssl_new(ts, l);
	BIO *cb, *sb;
	bool cdone = false, sdone = false, failed = false;
	unsigned char buf[64];

	assert_non_null(cctx);
	assert_non_null(s);
	assert_int_equal(SSL_CTX_load_verify_locations(cctx, ca_path, NULL), 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	if (cl->cert) {
		assert_int_equal(SSL_CTX_use_certificate(cctx, cl->cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(cctx, cl->key), 1);
	}
	assert_non_null(c = SSL_new(cctx));
	SSL_set_tlsext_host_name(c, "dns.test");
	if (cl->alpn)
		SSL_set_alpn_protos(c, (const unsigned char *)cl->alpn,
		    (unsigned int)cl->alpn_len);
	if (cl->session)
		SSL_set_session(c, cl->session);
	assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 50 && !failed && !(cdone && sdone); i++) {
		int r;

		if (!cdone && (r = SSL_do_handshake(c)) == 1)
			cdone = true;
		else if (!cdone && SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
			failed = true;
		if (!sdone && (r = SSL_do_handshake(s)) == 1)
			sdone = true;
		else if (!sdone && SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
			failed = true;
	}
	/* TLS 1.3: the server's verdict on the client certificate and the
	 * tickets arrive after the client's side is done */
	for (int i = 0; i < 4 && !failed && cdone && sdone; i++) {
		int r = SSL_read(c, buf, sizeof(buf));

		if (r <= 0 && SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
			failed = true;
		r = SSL_read(s, buf, sizeof(buf));
		if (r <= 0 && SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
			failed = true;
	}
	ERR_clear_error();
	if (sess)
		*sess = !failed ? SSL_get1_session(c) : NULL;
	if (!failed)	/* without close_notify the session is not resumable */
		(void)SSL_shutdown(c);
	SSL_free(c);
	SSL_CTX_free(cctx);
	if (failed || !(cdone && sdone)) {
		SSL_free(s);
		*out = NULL;
		return false;
	}
	*out = s;
	return true;
}

static const struct tls_listener L_ANY = { .alpn = "dot" };

/* The tenant a client certificate gets on an optional-certificate listener. */
static const struct tenant *
tenant_of(struct fx *f, X509 *cert, EVP_PKEY *key)
{
	struct tls_server *ts;
	struct client cl = { .cert = cert, .key = key };
	const struct tenant *t;
	char err[512];
	SSL *s;

	assert_int_equal(tls_server_new(&ts, &f->cfg, err, sizeof(err)), 0);
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	t = tls_peer_tenant(s, &f->tenants);
	SSL_free(s);
	tls_server_free(ts);
	return t;
}

static void
test_identity(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = mk_key();
	static const char *const cn_branch[] = { "branch.example", NULL };
	static const char *const cn_tenant[] = { "cn-tenant.example", NULL };
	static const char *const two_cns[] = { "cn-tenant.example", "x.example", NULL };
	static const char nul[] = "branch.example\0.evil.test";
	const struct san dns = { GEN_DNS, "BRANCH.example", 14 };
	const struct san uri = { GEN_URI, "spiffe://example/Lab", 20 };
	const struct san uri_case = { GEN_URI, "spiffe://example/lab", 20 };
	const struct san other = { GEN_DNS, "stranger.example", 16 };
	const struct san with_nul = { GEN_DNS, nul, sizeof(nul) - 1 };
	const struct san two[] = { { GEN_DNS, "stranger.example", 16 },
	    { GEN_URI, "spiffe://example/Lab", 20 } };
	struct {
		X509 *x;
		const struct tenant *want;
	} c[] = {
		/* SAN DNS, without regard to case */
		{ mk_cert(k, NULL, &dns, 1, -DAY, DAY, f->ca, f->ca_key), &f->tv[0] },
		/* SAN URI, exactly */
		{ mk_cert(k, NULL, &uri, 1, -DAY, DAY, f->ca, f->ca_key), &f->tv[1] },
		{ mk_cert(k, NULL, &uri_case, 1, -DAY, DAY, f->ca, f->ca_key), NULL },
		/* the second SAN matches */
		{ mk_cert(k, NULL, two, 2, -DAY, DAY, f->ca, f->ca_key), &f->tv[1] },
		/* CN only without SAN DNS/URI */
		{ mk_cert(k, cn_tenant, NULL, 0, -DAY, DAY, f->ca, f->ca_key), &f->tv[2] },
		{ mk_cert(k, cn_branch, &other, 1, -DAY, DAY, f->ca, f->ca_key), NULL },
		/* two CNs: ambiguous */
		{ mk_cert(k, two_cns, NULL, 0, -DAY, DAY, f->ca, f->ca_key), NULL },
		/* a NUL inside a SAN never matches the prefix before it */
		{ mk_cert(k, NULL, &with_nul, 1, -DAY, DAY, f->ca, f->ca_key), NULL },
		/* expired, not yet valid, another CA */
		{ mk_cert(k, NULL, &dns, 1, -2 * DAY, -DAY, f->ca, f->ca_key), NULL },
		{ mk_cert(k, NULL, &dns, 1, DAY, 2 * DAY, f->ca, f->ca_key), NULL },
		{ mk_cert(k, NULL, &dns, 1, -DAY, DAY, f->other, f->other_key), NULL },
		/* no certificate */
		{ NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		const struct tenant *got = tenant_of(f, c[i].x, c[i].x ? k : NULL);

		if (got != c[i].want)
			fail_msg("case %zu: got %s, want %s", i,
			    got ? got->name : "none",
			    c[i].want ? c[i].want->name : "none");
		X509_free(c[i].x);
	}
	EVP_PKEY_free(k);
}

static const struct tenants *
all_tenants(void *arg)
{
	return &((struct fx *)arg)->tenants;
}

static void
test_require(void **state)
{
	struct fx *f = *state;
	struct tls_listener req = { .alpn = "dot", .require_cert = true,
	    .tenants = all_tenants, .arg = f };
	const struct san dns = { GEN_DNS, "branch.example", 14 };
	const struct san unknown = { GEN_DNS, "stranger.example", 16 };
	EVP_PKEY *k = mk_key();
	X509 *good = mk_cert(k, NULL, &dns, 1, -DAY, DAY, f->ca, f->ca_key);
	X509 *stranger = mk_cert(k, NULL, &unknown, 1, -DAY, DAY, f->ca, f->ca_key);
	X509 *forged = mk_cert(k, NULL, &dns, 1, -DAY, DAY, f->other, f->other_key);
	X509 *old = mk_cert(k, NULL, &dns, 1, -2 * DAY, -DAY, f->ca, f->ca_key);
	struct tls_server *ts;
	struct client cl = { .key = k };
	char err[512];
	SSL *s;

	assert_int_equal(tls_server_new(&ts, &f->cfg, err, sizeof(err)), 0);
	cl.cert = good;
	assert_true(handshake(ts, &req, &cl, f->cfg.client_ca, &s, NULL));
	assert_ptr_equal(tls_peer_tenant(s, &f->tenants), &f->tv[0]);
	SSL_free(s);
	cl.cert = NULL;
	assert_false(handshake(ts, &req, &cl, f->cfg.client_ca, &s, NULL));
	cl.cert = stranger;
	assert_false(handshake(ts, &req, &cl, f->cfg.client_ca, &s, NULL));
	cl.cert = forged;
	assert_false(handshake(ts, &req, &cl, f->cfg.client_ca, &s, NULL));
	cl.cert = old;
	assert_false(handshake(ts, &req, &cl, f->cfg.client_ca, &s, NULL));
	tls_server_free(ts);
	X509_free(good);
	X509_free(stranger);
	X509_free(forged);
	X509_free(old);
	EVP_PKEY_free(k);
}

static void
test_alpn(void **state)
{
	struct fx *f = *state;
	struct tls_server *ts;
	struct client cl = { 0 };
	char err[512], got[16];
	SSL *s;

	assert_int_equal(tls_server_new(&ts, &f->cfg, err, sizeof(err)), 0);
	/* none offered: served, none selected */
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	tls_alpn(s, got, sizeof(got));
	assert_string_equal(got, "");
	SSL_free(s);
	/* dot among others: dot */
	cl.alpn = "\x02h2\x03" "dot";
	cl.alpn_len = 7;
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	tls_alpn(s, got, sizeof(got));
	assert_string_equal(got, "dot");
	SSL_free(s);
	/* only others: no_application_protocol */
	cl.alpn = "\x02h2\x08http/1.1";
	cl.alpn_len = 12;
	assert_false(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	tls_server_free(ts);
}

static void
test_check(void **state)
{
	struct fx *f = *state;
	char err[512], want[1024], *saved;
	EVP_PKEY *k2 = mk_key();
	char *otherkey = write_pem(f, "other.key", NULL, k2);

	assert_int_equal(tls_server_check(&f->cfg, err, sizeof(err)), 0);
	/* a key of another certificate */
	saved = f->cfg.key;
	f->cfg.key = otherkey;
	assert_int_equal(tls_server_check(&f->cfg, err, sizeof(err)), -EG_ECONFIG);
	snprintf(want, sizeof(want), "server.tls.key: %s does not match the "
	    "certificate in %s", otherkey, f->cfg.certificate);
	assert_string_equal(err, want);
	f->cfg.key = saved;
	/* not yet valid, expired */
	server_files(f, DAY, 2 * DAY, "future.pem", "future.key");
	assert_int_equal(tls_server_check(&f->cfg, err, sizeof(err)), -EG_ECONFIG);
	assert_non_null(strstr(err, "future.pem: certificate is not valid before "));
	server_files(f, -2 * DAY, -DAY, "past.pem", "past.key");
	assert_int_equal(tls_server_check(&f->cfg, err, sizeof(err)), -EG_ECONFIG);
	assert_non_null(strstr(err, "past.pem: certificate expired on "));
	/* a client CA file without a certificate */
	server_files(f, -DAY, DAY, "server3.pem", "server3.key");
	saved = f->cfg.client_ca;
	f->cfg.client_ca = otherkey;
	assert_int_equal(tls_server_check(&f->cfg, err, sizeof(err)), -EG_ECONFIG);
	assert_non_null(strstr(err, "server.tls.client-ca: "));
	f->cfg.client_ca = saved;
	assert_int_equal(tls_server_check(&f->cfg, err, sizeof(err)), 0);
	free(otherkey);
	EVP_PKEY_free(k2);
}

static void
test_tickets_and_reload(void **state)
{
	struct fx *f = *state;
	struct tls_server *ts;
	struct client cl = { 0 };
	SSL_SESSION *sess;
	char err[512], *oldcert;
	long serial;
	SSL *s;

	assert_int_equal(tls_server_new(&ts, &f->cfg, err, sizeof(err)), 0);
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, &sess));
	assert_false(SSL_session_reused(s));
	serial = ASN1_INTEGER_get(X509_get0_serialNumber(SSL_get_certificate(s)));
	SSL_free(s);
	assert_non_null(sess);
	/* resumed with the ticket */
	cl.session = sess;
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	assert_true(SSL_session_reused(s));
	SSL_free(s);
	/* not on a listener of another kind */
	{
		static const struct tls_listener h2 = { .alpn = "h2" };

		assert_true(handshake(ts, &h2, &cl, f->cfg.client_ca, &s, NULL));
		assert_false(SSL_session_reused(s));
		SSL_free(s);
	}
	/* a bad reload changes nothing: same certificate, ticket still good */
	oldcert = f->cfg.certificate;
	f->cfg.certificate = f->cfg.client_ca;	/* CA cert, server key: mismatch */
	assert_int_equal(tls_server_reload(ts, &f->cfg, err, sizeof(err)), -EG_ECONFIG);
	f->cfg.certificate = oldcert;
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	assert_true(SSL_session_reused(s));
	SSL_free(s);
	/* a good reload: the new certificate, and new ticket keys */
	server_files(f, -DAY, DAY, "server2.pem", "server2.key");
	assert_int_equal(tls_server_reload(ts, &f->cfg, err, sizeof(err)), 0);
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	assert_false(SSL_session_reused(s));
	assert_int_not_equal(ASN1_INTEGER_get(X509_get0_serialNumber(
	    SSL_get_certificate(s))), serial);
	SSL_free(s);
	SSL_SESSION_free(sess);
	tls_server_free(ts);
}

/* Ticket keys rotate: a new key when the newest is a period old and a
 * ticket is to be issued; an older key still decrypts (and the client gets
 * a fresh ticket), one TICKET_KEYS (3) periods old no longer does. */
static void
test_ticket_rotation(void **state)
{
	struct fx *f = *state;
	struct tls_server *ts;
	struct client none = { 0 }, cl = { 0 };
	SSL_SESSION *t1, *t2;
	char err[512];
	SSL *s;

	assert_int_equal(tls_server_new(&ts, &f->cfg, err, sizeof(err)), 0);
	tls_server_set_ticket_rotation(ts, 1);
	assert_true(handshake(ts, &L_ANY, &none, f->cfg.client_ca, &s, &t1));
	SSL_free(s);
	usleep(1200 * 1000);
	/* a full handshake issues tickets: the key rotates, t2 has the new one */
	assert_true(handshake(ts, &L_ANY, &none, f->cfg.client_ca, &s, &t2));
	SSL_free(s);
	cl.session = t1;	/* the old key still decrypts */
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	assert_true(SSL_session_reused(s));
	SSL_free(s);
	usleep(2200 * 1000);
	assert_true(handshake(ts, &L_ANY, &none, f->cfg.client_ca, &s, NULL));
	SSL_free(s);
	/* t1's key is now 3.4 periods old: forgotten, a full handshake */
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	assert_false(SSL_session_reused(s));
	SSL_free(s);
	cl.session = t2;	/* 2.2 periods: still good */
	assert_true(handshake(ts, &L_ANY, &cl, f->cfg.client_ca, &s, NULL));
	assert_true(SSL_session_reused(s));
	SSL_free(s);
	SSL_SESSION_free(t1);
	SSL_SESSION_free(t2);
	tls_server_free(ts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_require, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alpn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tickets_and_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ticket_rotation, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
