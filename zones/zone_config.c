/* zone_config.c -- the zones: section of egressd.yaml: internal zones, their files and tenants
 *
 *   zones:
 *     - { name: corp.example, file: zones/corp.example.zone, tenants: [ hq ] }
 *
 * Parsing keeps the entries as written; zone_config_validate(), run once
 * the tenants are known, resolves the tenant names and loads every zone
 * file into cfg->zones, so that `egressd -t` checks them too.  An error in
 * a zone file reads "ZONEFILE:LINE: zones: reason".
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/config.h"
#include "resolver/config_impl.h"
#include "resolver/packet.h"
#include "zones/zone.h"

/** One entry of zones: as written. */
struct zone_cfg {
	char *name;
	char *file;		/* absolute */
	char **tenants;		/* names; n_tenants 0: every tenant */
	int *tenant_line;
	size_t n_tenants;
	int line, file_line;
};

struct entry_tmp {
	yaml_node_t *name, *file, *tenants;
};

static int
entry_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct entry_tmp *t = arg;

	if (strcmp(key, "name") == 0)
		t->name = v;
	else if (strcmp(key, "file") == 0)
		t->file = v;
	else if (strcmp(key, "tenants") == 0)
		t->tenants = v;
	else {
		char full[64];

		snprintf(full, sizeof(full), "zones.%.40s", key);
		return cfg_fail(ps, k, full, "unknown key (name, file, tenants)");
	}
	return 0;
}

/* The zone's name: a domain name ldns accepts, not the root. */
static int
entry_name(struct parse *ps, yaml_node_t *n, struct zone_cfg *z)
{
	const char *s = cfg_scalar(n);
	ldns_rdf *d;
	bool root;

	if (s == NULL || *s == '\0')
		return cfg_fail(ps, n, "zones.name", "expected a domain name");
	if (strlen(s) > PKT_MAX_NAME_TEXT || (d = ldns_dname_new_frm_str(s)) == NULL)
		return cfg_fail(ps, n, "zones.name", "\"%.80s\" is not a domain name", s);
	root = ldns_dname_label_count(d) == 0;
	ldns_rdf_deep_free(d);
	if (root)
		return cfg_fail(ps, n, "zones.name", "the root cannot be an internal zone");
	if ((z->name = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
entry_tenants(struct parse *ps, yaml_node_t *n, struct zone_cfg *z)
{
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, n, "zones.tenants", &it, &cnt)) != 0)
		return r;
	if (cnt == 0)
		return cfg_fail(ps, n, "zones.tenants",
		    "an empty list; leave tenants out to serve every tenant");
	if (cnt > ZONE_MAX_TENANTS)
		return cfg_fail(ps, n, "zones.tenants", "more than %u tenants",
		    ZONE_MAX_TENANTS);
	if ((z->tenants = calloc(cnt, sizeof(char *))) == NULL ||
	    (z->tenant_line = calloc(cnt, sizeof(int))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		const char *s = cfg_scalar(e);

		if (s == NULL || *s == '\0')
			return cfg_fail(ps, e, "zones.tenants", "expected a tenant's name");
		for (size_t j = 0; j < z->n_tenants; j++)
			if (strcmp(z->tenants[j], s) == 0)
				return cfg_fail(ps, e, "zones.tenants",
				    "tenant \"%.80s\" is listed twice", s);
		if ((z->tenants[z->n_tenants] = strdup(s)) == NULL)
			return -ENOMEM;
		z->tenant_line[z->n_tenants++] = cfg_line(e);
	}
	return 0;
}

int
zone_config_parse(struct parse *ps, yaml_node_t *n, const char *key)
{
	struct config *c = ps->c;
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, n, key, &it, &cnt)) != 0)
		return r;
	if (cnt > ZONE_MAX_ZONES)
		return cfg_fail(ps, n, key, "more than %u zones", ZONE_MAX_ZONES);
	if ((c->zone_cfg = calloc(cnt ? cnt : 1, sizeof(*c->zone_cfg))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		struct zone_cfg *z = &c->zone_cfg[c->n_zone_cfg++];
		struct entry_tmp t = { 0 };

		z->line = cfg_line(e);
		if ((r = cfg_for_pairs(ps, e, key, entry_pair, &t)) != 0)
			return r;
		if (t.name == NULL)
			return cfg_fail(ps, e, "zones.name", "every zone needs a name");
		if ((r = entry_name(ps, t.name, z)) != 0)
			return r;
		if (t.file == NULL)
			return cfg_fail(ps, e, "zones.file", "zone %s has no file",
			    z->name);
		if (cfg_scalar(t.file) == NULL || *cfg_scalar(t.file) == '\0')
			return cfg_fail(ps, t.file, "zones.file", "expected a path");
		z->file_line = cfg_line(t.file);
		if ((z->file = cfg_path(ps, cfg_scalar(t.file))) == NULL)
			return -ENOMEM;
		if (t.tenants && (r = entry_tenants(ps, t.tenants, z)) != 0)
			return r;
	}
	return 0;
}

/* A tenant's name to its index, or -1. */
static long
tenant_index(const struct tenants *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int
load_entry(struct parse *ps, const struct zone_cfg *z)
{
	uint32_t idx[ZONE_MAX_TENANTS];
	struct zone_error ze;
	int r;

	for (size_t i = 0; i < z->n_tenants; i++) {
		long t = tenant_index(&ps->c->tenants, z->tenants[i]);

		if (t < 0)
			return cfg_fail_line(ps, z->tenant_line[i], "zones.tenants",
			    "no tenant is named \"%.80s\"", z->tenants[i]);
		idx[i] = (uint32_t)t;
	}
	if ((r = cfg_check_file(ps, z->file_line, "zones.file", z->file)) != 0)
		return r;
	r = zone_set_load(ps->c->zones, z->name, z->file, idx, z->n_tenants, &ze);
	switch (r) {
	case 0:
		return 0;
	case -EG_ECONFIG:	/* the zone file's own name and line */
		if (ze.line > 0)
			snprintf(ps->err, ps->errlen, "%s:%d: zones: %s", z->file,
			    ze.line, ze.msg);
		else
			snprintf(ps->err, ps->errlen, "%s: zones: %s", z->file, ze.msg);
		return -EG_ECONFIG;
	case -ENOMEM:
		return r;
	default:
		return cfg_fail_line(ps, z->line, "zones", "%s", ze.msg);
	}
}

int
zone_config_validate(struct parse *ps)
{
	struct config *c = ps->c;
	int r;

	if (c->n_zone_cfg == 0)
		return 0;
	if ((r = zone_set_new(&c->zones)) != 0)
		return r;
	for (size_t i = 0; i < c->n_zone_cfg; i++)
		if ((r = load_entry(ps, &c->zone_cfg[i])) != 0)
			return r;
	return 0;
}

void
zone_config_free(struct config *c)
{
	for (size_t i = 0; i < c->n_zone_cfg; i++) {
		struct zone_cfg *z = &c->zone_cfg[i];

		for (size_t j = 0; j < z->n_tenants; j++)
			free(z->tenants[j]);
		free(z->tenants);
		free(z->tenant_line);
		free(z->name);
		free(z->file);
	}
	free(c->zone_cfg);
	c->zone_cfg = NULL;
	c->n_zone_cfg = 0;
	zone_set_free(c->zones);
	c->zones = NULL;
}
