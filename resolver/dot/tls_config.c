/* tls_config.c -- the server.tls config section: certificate, key, client CA
 *
 * server:
 *   tls: { certificate: server.pem, key: server.key, client-ca: tenants-ca.pem }
 *
 * Paths are PEM files; relative ones are taken from the config file's
 * directory.  Validation loads them exactly as the running server will
 * (tls_server_check()), so -t and a reload refuse what would not serve.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/config_impl.h"
#include "resolver/dot/tls.h"

static int
tls_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct tls_cfg *t = &ps->c->tls;
	char name[64];
	char **slot;

	snprintf(name, sizeof(name), "server.tls.%s", key);
	if (strcmp(key, "certificate") == 0)
		slot = &t->certificate, t->cert_line = cfg_line(k);
	else if (strcmp(key, "key") == 0)
		slot = &t->key, t->key_line = cfg_line(k);
	else if (strcmp(key, "client-ca") == 0)
		slot = &t->client_ca, t->ca_line = cfg_line(k);
	else
		return cfg_fail(ps, k, name, "unknown key (certificate, key, client-ca)");
	if (cfg_scalar(v) == NULL || *cfg_scalar(v) == '\0')
		return cfg_fail(ps, v, name, "expected a file name");
	if ((*slot = cfg_path(ps, cfg_scalar(v))) == NULL)
		return -ENOMEM;
	return 0;
}

int
tls_config_parse(struct parse *ps, yaml_node_t *n, const char *key)
{
	ps->c->tls.line = cfg_line(n);
	return cfg_for_pairs(ps, n, key, tls_pair, NULL);
}

int
tls_config_validate(struct parse *ps)
{
	const struct config *c = ps->c;
	const struct tls_cfg *t = &c->tls;
	const struct listen_cfg *dot = NULL;
	char err[512];
	int r;

	for (size_t i = 0; i < c->n_listen && dot == NULL; i++)
		if (c->listen[i].kind == LISTEN_DOT)
			dot = &c->listen[i];
	if (t->line == 0 && dot)
		return cfg_fail_line(ps, dot->line, "server.tls",
		    "a dot listener needs server.tls (certificate and key)");
	for (size_t i = 0; i < c->n_listen; i++) {
		const struct listen_cfg *l = &c->listen[i];

		if (l->require_client_cert && t->client_ca == NULL)
			return cfg_fail_line(ps, l->line,
			    "server.listen.require-client-certificate",
			    "needs server.tls.client-ca (the CA of the client "
			    "certificates)");
	}
	for (size_t i = 0; i < c->tenants.n; i++)
		if (c->tenants.v[i].cert_identity && t->client_ca == NULL)
			return cfg_fail_line(ps, c->tenants.v[i].line,
			    "tenants.certificate-identity",
			    "tenant \"%s\": needs server.tls.client-ca",
			    c->tenants.v[i].name);
	if (t->line == 0)
		return 0;
	if (t->certificate == NULL)
		return cfg_fail_line(ps, t->line, "server.tls.certificate", "missing");
	if (t->key == NULL)
		return cfg_fail_line(ps, t->line, "server.tls.key", "missing");
	if ((r = cfg_check_file(ps, t->cert_line, "server.tls.certificate",
	    t->certificate)) != 0 ||
	    (r = cfg_check_file(ps, t->key_line, "server.tls.key", t->key)) != 0 ||
	    (r = cfg_check_file(ps, t->ca_line, "server.tls.client-ca",
	    t->client_ca)) != 0)
		return r;
	if ((r = tls_server_check(t, err, sizeof(err))) != 0) {
		/* err reads "server.tls.KEY: PATH: reason" */
		char *colon = strchr(err, ':');
		int line = t->line;

		if (colon == NULL)
			return cfg_fail_line(ps, t->line, "server.tls", "%s", err);
		*colon = '\0';
		if (strcmp(err, "server.tls.certificate") == 0)
			line = t->cert_line;
		else if (strcmp(err, "server.tls.key") == 0)
			line = t->key_line;
		else if (strcmp(err, "server.tls.client-ca") == 0)
			line = t->ca_line;
		return cfg_fail_line(ps, line, err, "%s",
		    colon + 1 + (colon[1] == ' '));
	}
	return 0;
}

void
tls_config_free(struct tls_cfg *t)
{
	free(t->certificate);
	free(t->key);
	free(t->client_ca);
	memset(t, 0, sizeof(*t));
}
