/* doh_config.c -- the config keys of DoH and DDR: listener path, tenant tokens, resolver-name
 *
 * server.listen[].path (default /dns-query), tenants[].doh-token (kept as
 * its SHA-256 only, so a token never sits in memory in the clear after
 * loading and compares in constant time), server.resolver-name (the
 * target name of the DDR SVCB records).
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "resolver/config.h"
#include "resolver/config_impl.h"
#include "resolver/doh/doh_http.h"

#define TOKEN_MAX	256

/* RFC 3986 unreserved: what may stand in a path segment unescaped. */
static bool
unreserved(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int
doh_config_path(struct parse *ps, yaml_node_t *n, char **out)
{
	const char *key = "server.listen.path";
	const char *s = n ? cfg_scalar(n) : DOH_DEFAULT_PATH;
	size_t len;

	if (s == NULL)
		return cfg_fail(ps, n, key, "expected a single value");
	len = strlen(s);
	if (s[0] != '/' || len < 2)
		return cfg_fail(ps, n, key, "\"%s\": must start with / and name "
		    "a path (e.g. /dns-query)", s);
	if (len > DOH_MAX_PATH)
		return cfg_fail(ps, n, key, "longer than %d characters",
		    DOH_MAX_PATH);
	if (s[len - 1] == '/' || strstr(s, "//") != NULL)
		return cfg_fail(ps, n, key, "\"%s\": no empty segments or "
		    "trailing / (the tenant token follows as /TOKEN)", s);
	for (const char *p = s; *p; p++)
		if (*p != '/' && !unreserved((unsigned char)*p))
			return cfg_fail(ps, n, key, "\"%s\": only letters, digits, "
			    "- . _ ~ and /", s);
	if ((*out = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

int
doh_config_token(struct parse *ps, yaml_node_t *n, struct tenant *t)
{
	const char *key = "tenants.doh-token";
	const struct tenants *all = &ps->c->tenants;
	const char *s = cfg_scalar(n);
	unsigned mdlen = 0;
	size_t len;

	if (s == NULL || *s == '\0')
		return cfg_fail(ps, n, key, "expected a token (letters, digits, - . _ ~)");
	if ((len = strlen(s)) > TOKEN_MAX)
		return cfg_fail(ps, n, key, "longer than %d characters", TOKEN_MAX);
	for (const char *p = s; *p; p++)
		if (!unreserved((unsigned char)*p))
			return cfg_fail(ps, n, key, "only letters, digits, - . _ ~ "
			    "may stand in a URL path unescaped");
	if (EVP_Digest(s, len, t->doh_token_sha256, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(t->doh_token_sha256))
		return cfg_fail(ps, n, key, "cannot hash the token (OpenSSL)");
	for (size_t i = 0; i < all->n; i++)
		if (&all->v[i] != t && all->v[i].has_doh_token &&
		    CRYPTO_memcmp(all->v[i].doh_token_sha256, t->doh_token_sha256,
		    sizeof(t->doh_token_sha256)) == 0)
			return cfg_fail(ps, n, key, "tenant %s: the same token as "
			    "tenant %s", t->name, all->v[i].name);
	t->has_doh_token = true;
	return 0;
}

int
doh_config_resolver_name(struct parse *ps, yaml_node_t *n, const char *key)
{
	const char *s = cfg_scalar(n);
	ldns_rdf *d = NULL;
	char *text;

	if (s == NULL || *s == '\0')
		return cfg_fail(ps, n, key, "expected a DNS name");
	if (strlen(s) > 253 || strchr(s, '\\') != NULL ||
	    ldns_str2rdf_dname(&d, s) != LDNS_STATUS_OK ||
	    ldns_rdf_size(d) <= 1) {
		ldns_rdf_deep_free(d);
		return cfg_fail(ps, n, key, "\"%s\" is not a DNS name", s);
	}
	ldns_dname2canonical(d);
	text = ldns_rdf2str(d);
	ldns_rdf_deep_free(d);
	if (text == NULL)
		return -ENOMEM;
	free(ps->c->resolver_name);
	ps->c->resolver_name = text;
	return 0;
}

int
doh_config_validate(struct parse *ps)
{
	const struct config *c = ps->c;

	for (size_t i = 0; i < c->n_listen; i++)
		if (c->listen[i].kind == LISTEN_DOH && c->tls.line == 0)
			return cfg_fail_line(ps, c->listen[i].line, "server.tls",
			    "a doh listener needs server.tls (certificate and key)");
	return 0;
}
