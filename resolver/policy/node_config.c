/* node_config.c -- the `security-nodes:` section: health check and pools */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "resolver/config.h"
#include "resolver/config_impl.h"
#include "resolver/policy/node.h"

#define HC_DEFAULT_PORT		443
#define HC_DEFAULT_INTERVAL_MS	5000
#define HC_DEFAULT_TIMEOUT_MS	1000
#define HC_MIN_INTERVAL_MS	1000
#define HC_MAX_INTERVAL_MS	3600000
#define HC_MIN_TIMEOUT_MS	50

struct hc_tmp {
	yaml_node_t *timeout, *interval;
};

static int
hc_duration(struct parse *ps, yaml_node_t *v, const char *key,
    unsigned long long lo, unsigned long long hi, unsigned *out)
{
	unsigned long long ms;
	const char *s = cfg_scalar(v);

	if (s == NULL || cfg_duration_ms(s, &ms) != 0)
		return cfg_fail(ps, v, key, "\"%s\" is not a duration (5s, 500ms, 1m)",
		    s ? s : "(not a value)");
	if (ms < lo || ms > hi)
		return cfg_fail(ps, v, key, "%s is out of range (%llu..%llu ms)", s, lo, hi);
	*out = (unsigned)ms;
	return 0;
}

static int
hc_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct hc_tmp *t = arg;
	struct node_check *hc = &ps->c->node_check;
	char name[96];

	snprintf(name, sizeof(name), "security-nodes.health-check.%s", key);
	if (strcmp(key, "port") == 0) {
		const char *s = cfg_scalar(v);
		char *end;
		unsigned long p;

		if (s == NULL || *s < '0' || *s > '9' ||
		    (p = strtoul(s, &end, 10), *end != '\0') || p == 0 || p > 65535)
			return cfg_fail(ps, v, name, "\"%s\" is not a port (1..65535)",
			    s ? s : "(not a value)");
		hc->port = (uint16_t)p;
		return 0;
	}
	if (strcmp(key, "interval") == 0) {
		t->interval = v;
		return hc_duration(ps, v, name, HC_MIN_INTERVAL_MS, HC_MAX_INTERVAL_MS,
		    &hc->interval_ms);
	}
	if (strcmp(key, "timeout") == 0) {
		t->timeout = v;
		return hc_duration(ps, v, name, HC_MIN_TIMEOUT_MS, HC_MAX_INTERVAL_MS,
		    &hc->timeout_ms);
	}
	return cfg_fail(ps, k, name, "unknown key (port, interval, timeout)");
}

/* The addresses of one pool, a list. */
static int
pool_addresses(struct parse *ps, yaml_node_t *n, size_t pool, const char *key)
{
	struct node_pools *p = ps->c->nodes;
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, n, key, &it, &cnt)) != 0)
		return r;
	if (cnt == 0)
		return cfg_fail(ps, n, key, "no addresses");
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		const char *s = e ? cfg_scalar(e) : NULL;

		if (s == NULL)
			return cfg_fail(ps, e, key, "expected an IPv4 or IPv6 address");
		switch (node_pools_add_address(p, pool, s)) {
		case 0:
			break;
		case -EINVAL:
			return cfg_fail(ps, e, key, "\"%s\" is not an IPv4 or IPv6 "
			    "address (no port: the health-check port is used)", s);
		case -EEXIST:
			return cfg_fail(ps, e, key, "%s is listed twice", s);
		case -E2BIG:
			return cfg_fail(ps, e, key, "too many addresses (%d a pool, "
			    "%d in all)", NODE_MAX_POOL_ADDRS, NODE_MAX_NODES);
		default:
			return -ENOMEM;
		}
	}
	return 0;
}

static int
pool_countries(struct parse *ps, yaml_node_t *n, size_t pool, const char *key)
{
	struct node_pools *p = ps->c->nodes;
	yaml_node_item_t *it;
	size_t cnt, other = 0;
	int r;

	if ((r = cfg_seq(ps, n, key, &it, &cnt)) != 0)
		return r;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		const char *s = e ? cfg_scalar(e) : NULL;

		switch (node_pools_add_country(p, pool, s ? s : "", &other)) {
		case 0:
			break;
		case -EEXIST:
			return cfg_fail(ps, e, key, "%s is already served by pool \"%s\"",
			    s, node_pool_name(p, other));
		case -EPERM:
			return cfg_fail(ps, e, key, "the default pool serves every "
			    "country no other pool lists: give it no countries");
		default:
			return cfg_fail(ps, e, key, "\"%s\" is not an ISO 3166-1 "
			    "alpha-2 country code", s ? s : "(not a value)");
		}
	}
	return 0;
}

struct pool_tmp {
	size_t pool;
	const char *name;
	yaml_node_t *addresses;
};

static int
pool_field(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct pool_tmp *t = arg;
	char name[128];

	snprintf(name, sizeof(name), "security-nodes.pools.%s.%s", t->name, key);
	if (strcmp(key, "countries") == 0)
		return pool_countries(ps, v, t->pool, name);
	if (strcmp(key, "addresses") == 0) {
		t->addresses = v;
		return pool_addresses(ps, v, t->pool, name);
	}
	return cfg_fail(ps, k, name, "unknown key (countries, addresses)");
}

/* One pool: "NAME: [ addresses ]" or "NAME: { countries: [..], addresses: [..] }". */
static int
pool_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct pool_tmp t = { .name = key };
	char name[128];
	int r;

	snprintf(name, sizeof(name), "security-nodes.pools.%s", key);
	switch (node_pools_add(ps->c->nodes, key, &t.pool)) {
	case 0:
		break;
	case -EINVAL:
		return cfg_fail(ps, k, name, "a pool name is 1..%d of a-z, 0-9, - and _",
		    NODE_POOL_NAME_MAX);
	case -E2BIG:
		return cfg_fail(ps, k, name, "more than %d pools", NODE_MAX_POOLS);
	default:		/* -EEXIST cannot be: cfg_for_pairs refuses it */
		return -ENOMEM;
	}
	if (v->type == YAML_SEQUENCE_NODE)
		return pool_addresses(ps, v, t.pool, name);
	if (v->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, v, name, "expected a list of addresses or "
		    "{ countries: [..], addresses: [..] }");
	if ((r = cfg_for_pairs(ps, v, name, pool_field, &t)) != 0)
		return r;
	if (t.addresses == NULL)
		return cfg_fail(ps, v, name, "no addresses");
	return 0;
}

struct sn_tmp {
	yaml_node_t *pools;
};

static int
sn_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct sn_tmp *t = arg;
	struct hc_tmp hc = { 0 };
	char name[96];
	int r;

	snprintf(name, sizeof(name), "security-nodes.%s", key);
	if (strcmp(key, "health-check") == 0) {
		if ((r = cfg_for_pairs(ps, v, name, hc_pair, &hc)) != 0)
			return r;
		if (ps->c->node_check.timeout_ms >= ps->c->node_check.interval_ms)
			return cfg_fail(ps, hc.timeout ? hc.timeout : hc.interval ?
			    hc.interval : v, hc.timeout ? "security-nodes.health-check.timeout" :
			    "security-nodes.health-check.interval",
			    "the timeout (%u ms) must be shorter than the interval (%u ms)",
			    ps->c->node_check.timeout_ms, ps->c->node_check.interval_ms);
		return 0;
	}
	if (strcmp(key, "pools") == 0) {
		t->pools = v;
		if (v->type != YAML_MAPPING_NODE)
			return cfg_fail(ps, v, name, "expected a mapping: NAME: [ addresses ]");
		return cfg_for_pairs(ps, v, name, pool_pair, NULL);
	}
	return cfg_fail(ps, k, name, "unknown key (health-check, pools)");
}

int
node_config_parse(struct parse *ps, yaml_node_t *n, const char *key)
{
	struct config *c = ps->c;
	struct sn_tmp t = { 0 };
	size_t bad = 0;
	int r;

	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, n, key, "expected { health-check: {..}, pools: {..} }");
	c->node_check = (struct node_check){ HC_DEFAULT_PORT, HC_DEFAULT_INTERVAL_MS,
	    HC_DEFAULT_TIMEOUT_MS };
	if ((r = node_pools_new(&c->nodes)) != 0)
		return r;
	if ((r = cfg_for_pairs(ps, n, key, sn_pair, &t)) != 0)
		return r;
	if (t.pools == NULL)
		return cfg_fail(ps, n, "security-nodes.pools", "no pools: give at "
		    "least the default pool, e.g. pools: { default: [ ADDRESS ] }");
	switch (node_pools_finish(c->nodes, &bad)) {
	case 0:
		return 0;
	case -ENOENT:
		return cfg_fail(ps, t.pools, "security-nodes.pools", "no \"%s\" pool: "
		    "it serves every client whose country no pool lists",
		    NODE_DEFAULT_POOL);
	default: {
		char name[128];

		snprintf(name, sizeof(name), "security-nodes.pools.%s",
		    node_pool_name(c->nodes, bad));
		return cfg_fail(ps, t.pools, name, "no addresses");
	}
	}
}
