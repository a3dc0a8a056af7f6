/* geo_config.c -- the `geoip:` section: database paths, opened at load so -t checks them */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "resolver/config.h"
#include "resolver/config_impl.h"
#include "resolver/policy/geo.h"

struct geo_tmp {
	char *path[2];		/* country, asn */
	int line[2];
};

static const char *const geo_keys[2] = { "geoip.country", "geoip.asn" };

static int
geo_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct geo_tmp *t = arg;
	size_t i;
	const char *s;

	if (strcmp(key, "country") == 0)
		i = 0;
	else if (strcmp(key, "asn") == 0)
		i = 1;
	else {
		char name[96];

		snprintf(name, sizeof(name), "geoip.%s", key);
		return cfg_fail(ps, k, name, "unknown key (geoip takes country and asn)");
	}
	if ((s = cfg_scalar(v)) == NULL || *s == '\0')
		return cfg_fail(ps, v, geo_keys[i], "expected the path of a MaxMind DB file");
	if ((t->path[i] = cfg_path(ps, s)) == NULL)
		return -ENOMEM;
	t->line[i] = cfg_line(v);
	return 0;
}

/* Open one database alone, so that an error names its key and line. */
static int
geo_check_one(struct parse *ps, const struct geo_tmp *t, size_t i)
{
	struct geo *g;
	char err[512];
	int r;

	if ((r = cfg_check_file(ps, t->line[i], geo_keys[i], t->path[i])) != 0)
		return r;
	r = geo_open(&g, i == 0 ? t->path[0] : NULL, i == 1 ? t->path[1] : NULL,
	    err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r != 0)
		return cfg_fail_line(ps, t->line[i], geo_keys[i], "%s", err);
	if (ps->c->geo == NULL && (t->path[0] == NULL || t->path[1] == NULL)) {
		ps->c->geo = g;		/* the only one: keep it */
		return 0;
	}
	geo_free(g);
	return 0;
}

int
geo_config_parse(struct parse *ps, yaml_node_t *n, const char *key)
{
	struct geo_tmp t = { { NULL, NULL }, { 0, 0 } };
	char err[512];
	int r;

	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, n, key,
		    "expected { country: PATH, asn: PATH } (either may be left out)");
	if ((r = cfg_for_pairs(ps, n, key, geo_pair, &t)) != 0)
		goto out;
	if (t.path[0] == NULL && t.path[1] == NULL) {
		r = cfg_fail(ps, n, key, "give country, asn or both");
		goto out;
	}
	for (size_t i = 0; i < 2; i++)
		if (t.path[i] && (r = geo_check_one(ps, &t, i)) != 0)
			goto out;
	if (ps->c->geo == NULL) {	/* both: each opened fine alone */
		if ((r = geo_open(&ps->c->geo, t.path[0], t.path[1], err,
		    sizeof(err))) != 0 && r != -ENOMEM)
			r = cfg_fail(ps, n, key, "%s", err);
	}
out:
	free(t.path[0]);
	free(t.path[1]);
	return r;
}
