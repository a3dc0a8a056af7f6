/* tls.c -- the server side of TLS: context, reload, tickets, ALPN, client identity
 *
 * One SSL_CTX at a time serves new connections: TLS 1.2 and 1.3 only,
 * AEAD ciphers only with forward secrecy, no renegotiation, no
 * compression.  ALPN: a client that offers protocols must offer the
 * listener's one ("dot"), or it gets the fatal no_application_protocol
 * alert (RFC 7301 3.2); a client that offers none is served (RFC 7858
 * predates ALPN for DoT, and stub resolvers in the field send none).
 *
 * Session resumption uses stateless tickets only (no server-side cache):
 * our own ring of TICKET_KEYS keys, a new one every TICKET_ROTATE_S; the
 * newest encrypts, older ones still decrypt (and ask the client to take a
 * fresh ticket), the oldest is forgotten.  A reload starts a new ring, so
 * no session from before a certificate or CA change is resumed.
 *
 * Client certificates (mTLS) are asked for when server.tls.client-ca is
 * set.  On a listener that requires one, OpenSSL fails the handshake when
 * it is missing or does not verify; elsewhere the handshake goes on and
 * tls_peer_tenant() maps only a verified, currently valid certificate.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/proverr.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "resolver/config.h"
#include "resolver/dot/tls.h"
#include "resolver/policy/tenant.h"

#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TICKET_KEYS		3	/* newest encrypts, all decrypt */
#define TICKET_ROTATE_S		3600	/* a new ticket key every hour */
#define SESSION_LIFETIME_S	7200	/* < TICKET_KEYS * TICKET_ROTATE_S */
#define VERIFY_DEPTH		4	/* client chain: leaf + intermediates */
#define MAX_IDENTITY		1024

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	int64_t created;	/* CLOCK_MONOTONIC ms; 0: unused slot */
};

struct tls_server {
	SSL_CTX *ctx;		/* for new connections */
	bool has_ca;
	int ex_idx;		/* SSL ex_data slot: the struct tls_listener */
	pthread_mutex_t lock;	/* guards keys and rotate_ms */
	int64_t rotate_ms;	/* a new ticket key this often */
	struct ticket_key keys[TICKET_KEYS];	/* [0] newest */
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* never 0: 0 marks an unused slot */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

/* The reason of OpenSSL's first error (the most specific: "no start
 * line" rather than "PEM lib"), in words where OpenSSL's are obscure; the
 * queue is emptied. */
static const char *
ssl_reason(void)
{
	unsigned long first = 0, e;
	const char *r;

	while ((e = ERR_get_error()) != 0) {
		if (first == 0)
			first = e;
		if ((ERR_GET_LIB(e) == ERR_LIB_PEM &&
		    (ERR_GET_REASON(e) == PEM_R_BAD_PASSWORD_READ ||
		    ERR_GET_REASON(e) == PEM_R_BAD_DECRYPT)) ||
		    (ERR_GET_LIB(e) == ERR_LIB_EVP &&
		    ERR_GET_REASON(e) == EVP_R_BAD_DECRYPT) ||
		    (ERR_GET_LIB(e) == ERR_LIB_PROV &&
		    ERR_GET_REASON(e) == PROV_R_BAD_DECRYPT)) {
			ERR_clear_error();
			return "the key is encrypted (egressd cannot ask for a "
			    "passphrase): store it unencrypted, readable only "
			    "by egressd's user";
		}
	}
	if (ERR_GET_LIB(first) == ERR_LIB_PEM &&
	    ERR_GET_REASON(first) == PEM_R_NO_START_LINE)
		return "no PEM data (no -----BEGIN line)";
	r = first ? ERR_reason_error_string(first) : NULL;
	return r ? r : "unknown OpenSSL error";
}

/* ---- ticket keys ---- */

static int
key_fill(struct ticket_key *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
	    RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -1;
	k->created = mono_ms();
	return 0;
}

/* Caller holds the lock.  Retire the newest key once it is old enough. */
static int
keys_rotate(struct tls_server *ts, bool force)
{
	struct ticket_key fresh;

	if (!force && ts->keys[0].created &&
	    mono_ms() - ts->keys[0].created < ts->rotate_ms)
		return 0;
	if (key_fill(&fresh) != 0)
		return -1;
	if (force)
		OPENSSL_cleanse(ts->keys, sizeof(ts->keys));
	else
		memmove(&ts->keys[1], &ts->keys[0],
		    (TICKET_KEYS - 1) * sizeof(ts->keys[0]));
	ts->keys[0] = fresh;
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return 0;
}

static int
hmac_params(EVP_MAC_CTX *hctx, unsigned char *secret)
{
	OSSL_PARAM p[3];

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, secret, 32);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "sha256", 0);
	p[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, p) == 1 ? 0 : -1;
}

/* OpenSSL's ticket callback: 1 done, 2 decrypted but renew, 0 unknown key
 * (full handshake), -1 error. */
static int
ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_server *ts = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	int r = -1;

	if (ts == NULL)
		return -1;
	pthread_mutex_lock(&ts->lock);
	if (enc) {
		struct ticket_key *k = &ts->keys[0];

		if (keys_rotate(ts, false) == 0 &&
		    RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) == 1 &&
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) == 1 &&
		    hmac_params(hctx, k->hmac) == 0) {
			memcpy(name, k->name, 16);
			r = 1;
		}
	} else {
		int64_t now = mono_ms();

		r = 0;
		for (int i = 0; i < TICKET_KEYS; i++) {
			struct ticket_key *k = &ts->keys[i];

			if (k->created == 0 || memcmp(name, k->name, 16) != 0)
				continue;
			if (now - k->created >= TICKET_KEYS * ts->rotate_ms)
				break;	/* too old: a full handshake */
			if (hmac_params(hctx, k->hmac) != 0 ||
			    EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes,
			    iv) != 1)
				r = -1;
			else
				r = i == 0 ? 1 : 2;
			break;
		}
	}
	pthread_mutex_unlock(&ts->lock);
	return r;
}

/* ---- handshake callbacks ---- */

/* ALPN: the listener's protocol or, when the client offers others only,
 * the fatal no_application_protocol alert. */
static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	struct tls_server *ts = arg;
	const struct tls_listener *l = SSL_get_ex_data(ssl, ts->ex_idx);
	size_t want = l ? strlen(l->alpn) : 0;

	if (l == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	for (unsigned int i = 0; i < inlen; i += 1u + in[i]) {
		if (i + 1u + in[i] > inlen)
			break;	/* malformed list */
		if (in[i] == want && memcmp(in + i + 1, l->alpn, want) == 0) {
			*out = in + i + 1;
			*outlen = in[i];
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Optional client certificate: never fail the handshake over it; the
 * verdict stays in SSL_get_verify_result() for tls_peer_tenant(). */
static int
verify_optional(int ok, X509_STORE_CTX *x)
{
	return 1;
}

static const struct tenant *cert_tenant(X509 *cert, const struct tenants *t);

/* Required client certificate: OpenSSL's verdict, and at the leaf, a
 * tenant it names; else the handshake fails with an alert. */
static int
verify_required(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_server *ts = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
	const struct tls_listener *l = ts ? SSL_get_ex_data(ssl, ts->ex_idx) : NULL;

	if (!ok || X509_STORE_CTX_get_error_depth(x) != 0)
		return ok;
	if (l == NULL || (l->tenants &&
	    cert_tenant(X509_STORE_CTX_get_current_cert(x), l->tenants(l->arg)) == NULL)) {
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

/* ---- the context ---- */

/* The leaf must be valid now: an expired or not yet valid certificate
 * would be rejected by every client. */
static int
check_validity(X509 *cert, const char *path, char *err, size_t errlen)
{
	const ASN1_TIME *nb = X509_get0_notBefore(cert);
	const ASN1_TIME *na = X509_get0_notAfter(cert);
	char when[64] = "?";
	BIO *b;

	if (X509_cmp_current_time(nb) < 0 && X509_cmp_current_time(na) > 0)
		return 0;
	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		int n;

		ASN1_TIME_print(b, X509_cmp_current_time(nb) < 0 ? na : nb);
		n = BIO_read(b, when, sizeof(when) - 1);
		when[n > 0 ? n : 0] = '\0';
		BIO_free(b);
	}
	snprintf(err, errlen, "server.tls.certificate: %s: %s %s", path,
	    X509_cmp_current_time(nb) < 0 ? "certificate expired on" :
	    "certificate is not valid before", when);
	return -EG_ECONFIG;
}

static int
no_password(char *buf, int size, int rw, void *u)
{
	return 0;	/* an encrypted key is an error, never a prompt */
}

/* The files of cfg into ctx: chain, key (matching), client CA. */
static int
ctx_load(SSL_CTX *ctx, const struct tls_cfg *cfg, char *err, size_t errlen)
{
	X509 *leaf;

	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->certificate) != 1) {
		snprintf(err, errlen, "server.tls.certificate: %s: %s",
		    cfg->certificate, ssl_reason());
		return -EG_ECONFIG;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (e == 0 || ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen, "server.tls.key: %s does not match "
			    "the certificate in %s", cfg->key, cfg->certificate);
		} else
			snprintf(err, errlen, "server.tls.key: %s: %s", cfg->key,
			    ssl_reason());
		return -EG_ECONFIG;
	}
	if ((leaf = SSL_CTX_get0_certificate(ctx)) == NULL ||
	    check_validity(leaf, cfg->certificate, err, errlen) != 0)
		return -EG_ECONFIG;
	if (cfg->client_ca) {
		STACK_OF(X509_NAME) *names;

		if (SSL_CTX_load_verify_locations(ctx, cfg->client_ca, NULL) != 1 ||
		    (names = SSL_load_client_CA_file(cfg->client_ca)) == NULL) {
			snprintf(err, errlen, "server.tls.client-ca: %s: %s",
			    cfg->client_ca, ssl_reason());
			return -EG_ECONFIG;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify_depth(ctx, VERIFY_DEPTH);
	}
	return 0;
}

/* A context from cfg; ts NULL: only to check (no callbacks). */
static int
ctx_build(struct tls_server *ts, const struct tls_cfg *cfg, SSL_CTX **out,
    char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "server.tls: OpenSSL: %s", ssl_reason());
		return -ENOMEM;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_password);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1) {
		snprintf(err, errlen, "server.tls: OpenSSL: %s", ssl_reason());
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (ctx_load(ctx, cfg, err, errlen) != 0)
		goto fail;
	/* stateless tickets only, with our rotating keys */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, SESSION_LIFETIME_S);
	if (ts) {
		SSL_CTX_set_app_data(ctx, ts);
		SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, ts);
		if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1) {
			snprintf(err, errlen, "server.tls: OpenSSL: %s",
			    ssl_reason());
			goto fail;
		}
	}
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -EG_ECONFIG;
}

int
tls_server_check(const struct tls_cfg *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int r;

	if ((r = ctx_build(NULL, cfg, &ctx, err, errlen)) == 0)
		SSL_CTX_free(ctx);
	return r;
}

int
tls_server_new(struct tls_server **out, const struct tls_cfg *cfg, char *err,
    size_t errlen)
{
	struct tls_server *ts;
	int r;

	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&ts->lock, NULL) != 0) {
		free(ts);
		return -ENOMEM;
	}
	ts->rotate_ms = TICKET_ROTATE_S * 1000;
	if ((ts->ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0 ||
	    keys_rotate(ts, true) != 0) {
		snprintf(err, errlen, "server.tls: OpenSSL: %s", ssl_reason());
		tls_server_free(ts);
		return -ENOMEM;
	}
	if ((r = ctx_build(ts, cfg, &ts->ctx, err, errlen)) != 0) {
		tls_server_free(ts);
		return r;
	}
	ts->has_ca = cfg->client_ca != NULL;
	*out = ts;
	return 0;
}

int
tls_server_reload(struct tls_server *ts, const struct tls_cfg *cfg, char *err,
    size_t errlen)
{
	SSL_CTX *ctx;
	int r;

	if ((r = ctx_build(ts, cfg, &ctx, err, errlen)) != 0)
		return r;
	pthread_mutex_lock(&ts->lock);
	r = keys_rotate(ts, true);
	pthread_mutex_unlock(&ts->lock);
	if (r != 0) {
		snprintf(err, errlen, "server.tls: cannot make ticket keys");
		SSL_CTX_free(ctx);
		return -ENOMEM;
	}
	/* workers may share ts: swap under the lock tls_server_ssl_new()
	 * takes */
	pthread_mutex_lock(&ts->lock);
	SSL_CTX_free(ts->ctx);	/* open connections hold their own reference */
	ts->ctx = ctx;
	ts->has_ca = cfg->client_ca != NULL;
	pthread_mutex_unlock(&ts->lock);
	return 0;
}

void
tls_server_set_ticket_rotation(struct tls_server *ts, unsigned seconds)
{
	pthread_mutex_lock(&ts->lock);
	ts->rotate_ms = (int64_t)(seconds ? seconds : 1) * 1000;
	pthread_mutex_unlock(&ts->lock);
}

SSL *
tls_server_ssl_new(struct tls_server *ts, const struct tls_listener *l)
{
	char sid[64];
	bool has_ca;
	SSL *ssl;

	pthread_mutex_lock(&ts->lock);
	ssl = SSL_new(ts->ctx);
	has_ca = ts->has_ca;
	pthread_mutex_unlock(&ts->lock);
	if (ssl == NULL)
		return NULL;
	/* Sessions resume only on the same kind of listener: one made
	 * without a valid certificate never resumes where one is required. */
	snprintf(sid, sizeof(sid), "egressd/%s/%s", l->alpn,
	    l->require_cert ? "cert" : "any");
	if (SSL_set_ex_data(ssl, ts->ex_idx, (void *)l) != 1 ||
	    SSL_set_session_id_context(ssl, (const unsigned char *)sid,
	    (unsigned int)strlen(sid)) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (has_ca && l->require_cert)
		SSL_set_verify(ssl, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_required);
	else if (has_ca)
		SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_optional);
	else
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	return ssl;
}

const struct tenant *
tls_peer_tenant(SSL *ssl, const struct tenants *t)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);

	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	/* again: a resumed session was verified when it began */
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		return NULL;
	return cert_tenant(cert, t);
}

/* The tenant a certificate's SAN DNS names or URIs name or, when it has
 * neither, its one subject CN. */
static const struct tenant *
cert_tenant(X509 *cert, const struct tenants *t)
{
	const struct tenant *found = NULL;
	GENERAL_NAMES *gens;
	bool had_san = false;
	X509_NAME *subj;
	int idx;

	if ((gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL))) {
		for (int i = 0; i < sk_GENERAL_NAME_num(gens) && !found; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
			const ASN1_STRING *s;

			if (g->type == GEN_DNS)
				s = g->d.dNSName;
			else if (g->type == GEN_URI)
				s = g->d.uniformResourceIdentifier;
			else
				continue;
			had_san = true;
			if (ASN1_STRING_length(s) <= MAX_IDENTITY)
				found = tenants_match_identity(t,
				    (const char *)ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s),
				    g->type == GEN_DNS);
		}
		GENERAL_NAMES_free(gens);
	}
	if (found || had_san)
		return found;
	/* no SAN DNS name or URI: the subject CN, when there is exactly one */
	subj = X509_get_subject_name(cert);
	if ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) >= 0 &&
	    X509_NAME_get_index_by_NID(subj, NID_commonName, idx) < 0) {
		unsigned char *cn = NULL;
		int n = ASN1_STRING_to_UTF8(&cn,
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));

		if (n > 0 && n <= MAX_IDENTITY)
			found = tenants_match_identity(t, (const char *)cn,
			    (size_t)n, true);
		OPENSSL_free(cn);
	}
	return found;
}

void
tls_alpn(SSL *ssl, char *out, size_t outlen)
{
	const unsigned char *p = NULL;
	unsigned int n = 0;

	SSL_get0_alpn_selected(ssl, &p, &n);
	if (n >= outlen)
		n = outlen ? (unsigned int)outlen - 1 : 0;
	if (outlen) {
		if (p && n)
			memcpy(out, p, n);
		out[n] = '\0';
	}
}

void
tls_server_free(struct tls_server *ts)
{
	if (ts == NULL)
		return;
	SSL_CTX_free(ts->ctx);
	OPENSSL_cleanse(ts->keys, sizeof(ts->keys));
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}
