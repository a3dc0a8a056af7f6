/* policy_config.c -- the `policies:` section and the tenants' `policy` key
 *
 *   policies:
 *     strict:
 *       categories: { malware: redirect, c2: block }
 *       default: pass            # pass | log | redirect | block
 *       block-answer: nxdomain   # nxdomain | nodata | refused
 *       redirect-ttl: 60s
 *       block-ttl: 60s
 *       rebinding-protection: yes
 *       bypass-canaries: yes
 *       geo: { block-countries: [ KP ], redirect-countries: [ RU ], block-asns: [ 64500 ] }
 *       allow: [ intranet.example.com ]
 *
 * Categories are free-form words from feeds, so only their spelling is
 * checked.  A tenant names its policy; one without takes the policy called
 * "default" when there is one, else the built-in pass-everything policy.
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/config_impl.h"
#include "resolver/packet.h"
#include "resolver/policy/geo.h"
#include "resolver/policy/policy.h"
#include "resolver/policy/policy_config.h"

#define POL_MAX_NAME_LEN	64	/* policy names */
#define POL_MAX_TTL_MS		86400000ull	/* redirect-ttl, block-ttl: 1 day */

struct pctx {
	struct policy *p;
	char where[128];	/* "policies.NAME" */
};

static void
keyname(char *buf, size_t len, const struct pctx *c, const char *key)
{
	snprintf(buf, len, "%s.%s", c->where, key);
}

static bool
word_ok(const char *s, size_t max, bool upper_ok)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(islower(ch) || isdigit(ch) || ch == '-' ||
		    (upper_ok && (isupper(ch) || ch == '_'))))
			return false;
	}
	return true;
}

static int
category_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct pctx *c = arg;
	struct pol_rule *r = &c->p->rules[c->p->n_rules];
	const char *s = cfg_scalar(v);
	char name[256];

	snprintf(name, sizeof(name), "%s.categories.%s", c->where, key);
	if (!word_ok(key, TDB_MAX_CATEGORY, false))
		return cfg_fail(ps, k, name,
		    "a category is 1..%d characters of a-z, 0-9 and -", TDB_MAX_CATEGORY);
	if (s == NULL || pol_action_parse(s, &r->action) != 0)
		return cfg_fail(ps, v, name,
		    "\"%s\" is not an action (pass, log, redirect, block)", s ? s : "");
	snprintf(r->category, sizeof(r->category), "%s", key);
	c->p->n_rules++;
	return 0;
}

static int
rule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pol_rule *)a)->category,
	    ((const struct pol_rule *)b)->category);
}

static int
do_categories(struct parse *ps, struct pctx *c, yaml_node_t *k, yaml_node_t *v)
{
	char name[192];
	size_t cnt;
	int r;

	keyname(name, sizeof(name), c, "categories");
	if (v->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, v, name, "expected a mapping (category: action)");
	cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	if (cnt > POL_MAX_RULES)
		return cfg_fail(ps, v, name, "more than %d categories", POL_MAX_RULES);
	if ((c->p->rules = calloc(cnt ? cnt : 1, sizeof(*c->p->rules))) == NULL)
		return -ENOMEM;
	if ((r = cfg_for_pairs(ps, v, name, category_pair, c)) != 0)
		return r;
	qsort(c->p->rules, c->p->n_rules, sizeof(*c->p->rules), rule_cmp);
	return 0;
}

/* "example.com" or "example.com." as a lower-case wire name. */
static int
name_to_wire(const char *s, uint8_t *out, size_t *outlen)
{
	size_t o = 0, n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i <= n;) {
		size_t j = i;

		while (j < n && s[j] != '.')
			j++;
		if (j == i || j - i > 63 || o + 1 + (j - i) + 1 > PKT_MAX_NAME)
			return -EINVAL;
		out[o++] = (uint8_t)(j - i);
		for (size_t x = i; x < j; x++) {
			unsigned char ch = (unsigned char)s[x];

			if (!isalnum(ch) && ch != '-' && ch != '_')
				return -EINVAL;
			out[o++] = (uint8_t)tolower(ch);
		}
		i = j + 1;
	}
	out[o++] = 0;
	*outlen = o;
	return 0;
}

static int
do_allow(struct parse *ps, struct pctx *c, yaml_node_t *v)
{
	struct policy *p = c->p;
	yaml_node_item_t *it;
	char name[192];
	size_t cnt;
	int r;

	keyname(name, sizeof(name), c, "allow");
	if ((r = cfg_seq(ps, v, name, &it, &cnt)) != 0)
		return r;
	if (cnt > POL_MAX_ALLOW)
		return cfg_fail(ps, v, name, "more than %d names", POL_MAX_ALLOW);
	if ((p->allow = calloc(cnt ? cnt : 1, sizeof(*p->allow))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		const char *s = cfg_scalar(e);
		uint8_t wire[PKT_MAX_NAME];
		size_t len;

		if (s == NULL || name_to_wire(s, wire, &len) != 0)
			return cfg_fail(ps, e, name, "\"%s\" is not a domain name "
			    "(an entry covers the name and its subdomains; no \"*\")",
			    s ? s : "");
		if ((p->allow[p->n_allow] = malloc(len)) == NULL)
			return -ENOMEM;
		memcpy(p->allow[p->n_allow++], wire, len);
	}
	qsort(p->allow, p->n_allow, sizeof(*p->allow), pol_name_cmp);
	return 0;
}

static int
cc_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
do_countries(struct parse *ps, yaml_node_t *v, const char *name,
    char (**out)[3], size_t *n)
{
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, v, name, &it, &cnt)) != 0)
		return r;
	if (cnt > POL_MAX_COUNTRIES)
		return cfg_fail(ps, v, name, "more than %d countries", POL_MAX_COUNTRIES);
	if ((*out = calloc(cnt ? cnt : 1, sizeof(**out))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		const char *s = cfg_scalar(e);

		if (s == NULL || strlen(s) != 2 || !isalpha((unsigned char)s[0]) ||
		    !isalpha((unsigned char)s[1]))
			return cfg_fail(ps, e, name,
			    "\"%s\" is not an ISO 3166-1 alpha-2 country code (DE, KP)",
			    s ? s : "");
		(*out)[*n][0] = (char)toupper((unsigned char)s[0]);
		(*out)[*n][1] = (char)toupper((unsigned char)s[1]);
		if (!geo_country_valid((*out)[*n]))
			return cfg_fail(ps, e, name,
			    "\"%s\" is not an ISO 3166-1 alpha-2 country code", s);
		(*n)++;
	}
	qsort(*out, *n, sizeof(**out), cc_cmp);
	return 0;
}

static int
do_asns(struct parse *ps, yaml_node_t *v, const char *name, struct policy *p)
{
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, v, name, &it, &cnt)) != 0)
		return r;
	if (cnt > POL_MAX_ASNS)
		return cfg_fail(ps, v, name, "more than %d ASNs", POL_MAX_ASNS);
	if ((p->block_asns = calloc(cnt ? cnt : 1, sizeof(*p->block_asns))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		const char *s = cfg_scalar(e), *d;
		unsigned long long asn;
		char *end;

		d = s && (strncmp(s, "AS", 2) == 0 || strncmp(s, "as", 2) == 0) ? s + 2 : s;
		if (d == NULL || !isdigit((unsigned char)*d) ||
		    (errno = 0, asn = strtoull(d, &end, 10), errno) || *end ||
		    asn == 0 || asn > UINT32_MAX)
			return cfg_fail(ps, e, name,
			    "\"%s\" is not an AS number (64500 or AS64500)", s ? s : "");
		p->block_asns[p->n_block_asns++] = (uint32_t)asn;
	}
	qsort(p->block_asns, p->n_block_asns, sizeof(*p->block_asns), u32_cmp);
	return 0;
}

static int
geo_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct pctx *c = arg;
	struct policy *p = c->p;
	char name[256];

	snprintf(name, sizeof(name), "%s.geo.%s", c->where, key);
	if (strcmp(key, "block-countries") == 0)
		return do_countries(ps, v, name, &p->block_cc, &p->n_block_cc);
	if (strcmp(key, "redirect-countries") == 0)
		return do_countries(ps, v, name, &p->redirect_cc, &p->n_redirect_cc);
	if (strcmp(key, "block-asns") == 0)
		return do_asns(ps, v, name, p);
	return cfg_fail(ps, k, name, "unknown key (block-countries, "
	    "redirect-countries, block-asns)");
}

static int
ttl_seconds(struct parse *ps, yaml_node_t *v, const char *name, uint32_t *out)
{
	const char *s = cfg_scalar(v);
	unsigned long long ms;

	if (s == NULL || cfg_duration_ms(s, &ms) != 0)
		return cfg_fail(ps, v, name, "\"%s\" is not a duration (60s, 5m)",
		    s ? s : "");
	if (ms < 1000 || ms > POL_MAX_TTL_MS)
		return cfg_fail(ps, v, name, "%s is out of range (1s..1d)", s);
	*out = (uint32_t)(ms / 1000);
	return 0;
}

static int
policy_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct pctx *c = arg;
	struct policy *p = c->p;
	const char *s = cfg_scalar(v);
	char name[192];

	keyname(name, sizeof(name), c, key);
	if (strcmp(key, "categories") == 0)
		return do_categories(ps, c, k, v);
	if (strcmp(key, "allow") == 0)
		return do_allow(ps, c, v);
	if (strcmp(key, "geo") == 0)
		return cfg_for_pairs(ps, v, name, geo_pair, c);
	if (s == NULL && (strcmp(key, "default") == 0 ||
	    strcmp(key, "block-answer") == 0 || strcmp(key, "redirect-ttl") == 0 ||
	    strcmp(key, "block-ttl") == 0 || strcmp(key, "rebinding-protection") == 0 ||
	    strcmp(key, "bypass-canaries") == 0))
		return cfg_fail(ps, v, name, "expected a single value");
	if (strcmp(key, "default") == 0) {
		if (pol_action_parse(s, &p->def) != 0)
			return cfg_fail(ps, v, name,
			    "\"%s\" is not an action (pass, log, redirect, block)", s);
		p->has_default = true;
		return 0;
	}
	if (strcmp(key, "block-answer") == 0) {
		if (strcmp(s, "nxdomain") == 0)
			p->block_answer = POL_BLOCK_NXDOMAIN;
		else if (strcmp(s, "nodata") == 0)
			p->block_answer = POL_BLOCK_NODATA;
		else if (strcmp(s, "refused") == 0)
			p->block_answer = POL_BLOCK_REFUSED;
		else
			return cfg_fail(ps, v, name,
			    "\"%s\" is not nxdomain, nodata or refused", s);
		return 0;
	}
	if (strcmp(key, "redirect-ttl") == 0)
		return ttl_seconds(ps, v, name, &p->redirect_ttl);
	if (strcmp(key, "block-ttl") == 0)
		return ttl_seconds(ps, v, name, &p->block_ttl);
	if (strcmp(key, "rebinding-protection") == 0 ||
	    strcmp(key, "bypass-canaries") == 0) {
		bool *b = key[0] == 'r' ? &p->rebinding : &p->canaries;

		if (cfg_bool(s, b) != 0)
			return cfg_fail(ps, v, name, "\"%s\" is not yes or no", s);
		return 0;
	}
	return cfg_fail(ps, k, name, "unknown key (categories, default, "
	    "block-answer, redirect-ttl, block-ttl, rebinding-protection, "
	    "bypass-canaries, geo, allow)");
}

static int
one_policy(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct policies *all = &ps->c->policies;
	struct policy *p = &all->v[all->n];
	struct pctx c = { .p = p };

	snprintf(c.where, sizeof(c.where), "policies.%s", key);
	if (!word_ok(key, POL_MAX_NAME_LEN, true))
		return cfg_fail(ps, k, c.where, "a policy name is 1..%d characters "
		    "of letters, digits, - and _", POL_MAX_NAME_LEN);
	if ((p->name = strdup(key)) == NULL)
		return -ENOMEM;
	p->line = cfg_line(k);
	p->redirect_ttl = POL_DEFAULT_REDIRECT_TTL;
	p->block_ttl = POL_DEFAULT_BLOCK_TTL;
	all->n++;
	/* an empty policy ("lab: {}") is the built-in pass with a name */
	return cfg_for_pairs(ps, v, c.where, policy_pair, &c);
}

int
pol_config_policies(struct parse *ps, yaml_node_t *n, const char *key)
{
	struct policies *all = &ps->c->policies;
	size_t cnt;

	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, n, key, "expected a mapping (NAME: { ... })");
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (cnt > POL_MAX_POLICIES)
		return cfg_fail(ps, n, key, "more than %d policies", POL_MAX_POLICIES);
	if ((all->v = calloc(cnt ? cnt : 1, sizeof(*all->v))) == NULL)
		return -ENOMEM;
	return cfg_for_pairs(ps, n, key, one_policy, NULL);
}

int
pol_config_tenant(struct parse *ps, yaml_node_t *v, struct tenant *t)
{
	const char *s = cfg_scalar(v);

	if (s == NULL || *s == '\0')
		return cfg_fail(ps, v, "tenants.policy", "expected a policy name");
	if ((t->policy_name = strdup(s)) == NULL)
		return -ENOMEM;
	t->policy_line = cfg_line(v);
	return 0;
}

static const struct policy *
policy_find(const struct policies *all, const char *name)
{
	for (size_t i = 0; i < all->n; i++)
		if (strcmp(all->v[i].name, name) == 0)
			return &all->v[i];
	return NULL;
}

static bool
uses_redirect(const struct policy *p)
{
	if ((p->has_default && p->def == POL_REDIRECT) || p->n_redirect_cc)
		return true;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].action == POL_REDIRECT)
			return true;
	return false;
}

int
pol_config_validate(struct parse *ps)
{
	struct config *c = ps->c;
	const struct policy *def = policy_find(&c->policies, "default");

	for (size_t i = 0; i < c->policies.n; i++) {
		const struct policy *p = &c->policies.v[i];
		char key[128];

		snprintf(key, sizeof(key), "policies.%s", p->name);
		if (uses_redirect(p) && c->nodes == NULL)
			return cfg_fail_line(ps, p->line, key, "redirects, but "
			    "security-nodes.pools names no node to redirect to");
		snprintf(key, sizeof(key), "policies.%s.geo", p->name);
		if ((p->n_block_cc || p->n_redirect_cc) && !geo_has_country(c->geo))
			return cfg_fail_line(ps, p->line, key, "country rules "
			    "need a country database (geoip.country)");
		if (p->n_block_asns && !geo_has_asn(c->geo))
			return cfg_fail_line(ps, p->line, key, "block-asns "
			    "needs an ASN database (geoip.asn)");
	}

	for (size_t i = 0; i < c->tenants.n; i++) {
		struct tenant *t = &c->tenants.v[i];

		if (t->policy_name == NULL) {
			t->policy = def ? def : &pol_builtin_pass;
			continue;
		}
		if ((t->policy = policy_find(&c->policies, t->policy_name)) == NULL)
			return cfg_fail_line(ps, t->policy_line, "tenants.policy",
			    "tenant \"%s\": no policy called \"%s\" under policies:",
			    t->name, t->policy_name);
	}
	return 0;
}
