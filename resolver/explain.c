/* explain.c -- `egressctl explain`: each pipeline step's verdict for one name, answering nobody
 *
 * The steps call what query.c calls, in its order (tenant, special names,
 * internal zones, query-name policy, recursion, response policy, action),
 * so the explanation cannot drift from what a client gets.  It runs in a
 * worker's thread, with that worker's config, threat-DB reader and
 * libunbound context; it writes text only.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <ldns/ldns.h>

#include "resolver/config.h"
#include "resolver/explain.h"
#include "resolver/packet.h"
#include "resolver/policy/node.h"
#include "resolver/policy/policy.h"
#include "resolver/policy/tenant.h"
#include "resolver/query.h"
#include "resolver/recurse.h"
#include "resolver/worker.h"
#include "threatdb/tdb.h"
#include "zones/zone.h"

#define EXPLAIN_MAX_ITEMS	32	/* threat-DB entries listed */
#define EXPLAIN_MAX_RRS		32	/* answer records listed */

struct explain {
	struct worker *w;
	const struct config *cfg;	/* a reference for the whole walk */
	const struct tenant *tenant;
	struct evbuffer *out;
	explain_done_fn *done;
	void *arg;
	struct recurse_req req;
	struct pol_verdict v;
	uint16_t type;
	char name[PKT_MAX_NAME_TEXT];
	uint8_t wire[PKT_MAX_NAME];
};

static void
verdict_line(struct evbuffer *out, const char *step, const struct pol_verdict *v)
{
	evbuffer_add_printf(out, "%-10s %s", step, pol_action_name(v->action));
	if (v->reason != POL_REASON_NONE)
		evbuffer_add_printf(out, " reason=%s", pol_reason_name(v->reason));
	if (v->category[0])
		evbuffer_add_printf(out, " category=%s", v->category);
	if (v->feed[0])
		evbuffer_add_printf(out, " feed=%s", v->feed);
	if (v->detail[0])
		evbuffer_add_printf(out, " %s", v->detail);
	if (v->allowed)
		evbuffer_add_printf(out, " (allowed%s)",
		    v->allowed_by_policy ? " by the policy's allow list" : "");
	evbuffer_add_printf(out, "\n");
}

/* The threat-DB entries at the name and its parents, the decider marked. */
static void
tdb_lines(struct explain *x)
{
	struct tdb_explain_item items[EXPLAIN_MAX_ITEMS];
	struct tdb_explanation ex;
	char name[PKT_MAX_NAME_TEXT];
	size_t len = strlen(x->name);
	int r;

	if (x->w->tdb == NULL) {
		evbuffer_add_printf(x->out, "%-10s no threat database open\n", "threatdb");
		return;
	}
	memcpy(name, x->name, len + 1);
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	if ((r = tdb_explain_name(x->w->tdb, name, time(NULL), items,
	    EXPLAIN_MAX_ITEMS, &ex)) != 0) {
		evbuffer_add_printf(x->out, "%-10s lookup failed: %s\n", "threatdb",
		    eg_strerror(r));
		return;
	}
	if (ex.n == 0)
		evbuffer_add_printf(x->out, "%-10s no entry for the name or its "
		    "parents\n", "threatdb");
	for (size_t i = 0; i < ex.n && i < EXPLAIN_MAX_ITEMS; i++) {
		const struct tdb_explain_item *it = &items[i];
		const struct tdb_entry *e = &it->rec.e;

		evbuffer_add_printf(x->out, "%-10s %s %s%s %s category=%s feed=%s%s%s%s\n",
		    "threatdb", it->decides ? "*" : "-",
		    e->scope == TDB_EXACT ? "" : e->scope == TDB_BELOW ? "*." : "**.",
		    e->name[0] ? e->name : ".", e->allow ? "allow" : "block",
		    e->category[0] ? e->category : "-", it->rec.feed,
		    it->covers ? "" : " (does not cover the name)",
		    it->expired ? " (expired)" : "",
		    it->decides ? " <- decides" : "");
	}
}

/* Step 9 for redirect and block: what the client would get. */
static void
action_line(struct explain *x)
{
	const struct pol_verdict *v = &x->v;
	const struct policy *p = x->tenant->policy ? x->tenant->policy :
	    &pol_builtin_pass;
	enum pol_action a = v->action;
	enum pol_block b = v->block;

	if (a == POL_REDIRECT && x->cfg->nodes == NULL)	/* as query.c */
		a = POL_BLOCK, b = p->block_answer;
	evbuffer_add_printf(x->out, "%-10s %s", "action", pol_action_name(a));
	if (a == POL_BLOCK)
		evbuffer_add_printf(x->out, ": %s", b == POL_BLOCK_NXDOMAIN ?
		    "NXDOMAIN" : b == POL_BLOCK_NODATA ? "NODATA" : "REFUSED");
	if (a == POL_REDIRECT) {
		uint8_t addrs[NODE_MAX_POOL_ADDRS][16];
		int fam = x->type == LDNS_RR_TYPE_A ? AF_INET :
		    x->type == LDNS_RR_TYPE_AAAA ? AF_INET6 : 0;
		size_t n = fam ? node_pick(x->cfg->nodes, "", fam, addrs,
		    NODE_MAX_POOL_ADDRS) : 0;
		char text[INET6_ADDRSTRLEN];

		evbuffer_add_printf(x->out, ": %s", n ? "" : "NODATA");
		for (size_t i = 0; i < n; i++)
			evbuffer_add_printf(x->out, "%s%s", i ? " " : "",
			    inet_ntop(fam, addrs[i], text, sizeof(text)));
		evbuffer_add_printf(x->out, " (ttl %u, default pool)",
		    (unsigned)p->redirect_ttl);
	}
	evbuffer_add_printf(x->out, "\n");
}

static void
finish(struct explain *x, int err)
{
	x->done(x->arg, err);
	config_unref(x->cfg);
	free(x);
}

/* The upstream answer, record by record. */
static void
answer_lines(struct explain *x, const uint8_t *pkt, size_t len)
{
	ldns_pkt *p = NULL;
	ldns_rr_list *an;
	char *s;

	if (ldns_wire2pkt(&p, pkt, len) != LDNS_STATUS_OK) {
		evbuffer_add_printf(x->out, "%-10s (answer does not parse)\n", "answer");
		return;
	}
	s = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
	evbuffer_add_printf(x->out, "%-10s %s, %zu record%s\n", "answer",
	    s ? s : "?", (size_t)ldns_pkt_ancount(p), ldns_pkt_ancount(p) == 1 ? "" : "s");
	free(s);
	an = ldns_pkt_answer(p);
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an) &&
	    i < EXPLAIN_MAX_RRS; i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
			continue;
		if ((s = ldns_rr2str(rr)) != NULL) {
			s[strcspn(s, "\n")] = '\0';
			evbuffer_add_printf(x->out, "%-10s   %s\n", "", s);
			free(s);
		}
	}
	ldns_pkt_free(p);
}

static void
recursed(void *arg, int err, const uint8_t *pkt, size_t len,
    enum recurse_sec sec, const char *why_bogus)
{
	static const char *const secname[] = { "insecure", "bogus", "secure" };
	struct explain *x = arg;
	struct pol_env env;

	if (err != 0) {
		evbuffer_add_printf(x->out, "%-10s failed: %s\n%-10s SERVFAIL "
		    "(EDE 22, no reachable authority)\n", "recursion",
		    eg_strerror(err), "action");
		finish(x, 0);
		return;
	}
	evbuffer_add_printf(x->out, "%-10s dnssec=%s%s%s\n", "recursion",
	    secname[sec <= RECURSE_SECURE ? sec : 0],
	    why_bogus ? ": " : "", why_bogus ? why_bogus : "");
	answer_lines(x, pkt, len);
	if (sec == RECURSE_BOGUS) {
		evbuffer_add_printf(x->out, "%-10s SERVFAIL (EDE 6, DNSSEC bogus; "
		    "clients setting CD get the answer)\n", "action");
		finish(x, 0);
		return;
	}
	query_policy_env(x->w, x->cfg, x->tenant, &env);
	if (pol_check_response(&env, pkt, len, &x->v) < 0) {
		evbuffer_add_printf(x->out, "%-10s SERVFAIL (upstream answer "
		    "unusable)\n", "action");
		finish(x, 0);
		return;
	}
	verdict_line(x->out, "response", &x->v);
	action_line(x);
	finish(x, 0);
}

static const struct tenant *
find_tenant(const struct config *cfg, const char *name)
{
	if (name == NULL)
		return cfg->tenants.n ? &cfg->tenants.v[0] : NULL;
	for (size_t i = 0; i < cfg->tenants.n; i++)
		if (strcmp(cfg->tenants.v[i].name, name) == 0)
			return &cfg->tenants.v[i];
	return NULL;
}

/* name and type into x; \return 0 or -EINVAL with the reason in out */
static int
parse_question(struct explain *x, const char *name, const char *type)
{
	ldns_rdf *d = NULL;

	x->type = LDNS_RR_TYPE_A;
	if (type && (x->type = ldns_get_rr_type_by_name(type)) == 0) {
		evbuffer_add_printf(x->out, "unknown type \"%s\"", type);
		return -EINVAL;
	}
	if (strlen(name) >= sizeof(x->name) - 1 ||
	    ldns_str2rdf_dname(&d, name) != LDNS_STATUS_OK ||
	    ldns_rdf_size(d) > sizeof(x->wire)) {
		ldns_rdf_deep_free(d);
		evbuffer_add_printf(x->out, "\"%s\" is not a domain name", name);
		return -EINVAL;
	}
	memcpy(x->wire, ldns_rdf_data(d), ldns_rdf_size(d));
	ldns_rdf_deep_free(d);
	/* the text libunbound gets, as query.c makes it from the wire */
	if (pkt_name_to_text(x->wire, x->name, sizeof(x->name)) < 0) {
		evbuffer_add_printf(x->out, "\"%s\" is not a domain name", name);
		return -EINVAL;
	}
	return 0;
}

/* Steps 2-6; \return true when the walk ends before recursion. */
static bool
before_recursion(struct explain *x)
{
	const struct config *cfg = x->cfg;
	const struct policy *p;
	const struct zone *zone;
	struct pol_env env;
	char *tname = ldns_rr_type2str((ldns_rr_type)x->type);
	int err = 0;

	query_policy_env(x->w, cfg, x->tenant, &env);
	p = env.policy;
	evbuffer_add_printf(x->out, "%-10s %s %s\n%-10s %s (policy %s)\n",
	    "question", x->name, tname ? tname : "?", "tenant",
	    x->tenant->name, p->name ? p->name : "(built-in pass)");
	free(tname);
	if (pol_check_special(p, x->wire, &x->v) != POL_PASS) {
		verdict_line(x->out, "special", &x->v);
		action_line(x);
		return true;
	}
	evbuffer_add_printf(x->out, "%-10s not a canary name%s\n", "special",
	    p->canaries ? "" : " (bypass-canaries off)");
	if ((zone = zone_set_find(cfg->zones, x->wire,
	    (uint32_t)(x->tenant - cfg->tenants.v))) != NULL) {
		evbuffer_add_printf(x->out, "%-10s inside %s: answered from the "
		    "zone data, never recursed\n%-10s pass reason=internal\n",
		    "zone", zone_name(zone), "action");
		return true;
	}
	evbuffer_add_printf(x->out, "%-10s not in an internal zone\n", "zone");
	tdb_lines(x);
	pol_check_qname(&env, x->wire, &x->v, &err);
	if (err)
		evbuffer_add_printf(x->out, "%-10s threat-DB lookup failed (%s): "
		    "queries go on unfiltered\n", "qname", eg_strerror(err));
	verdict_line(x->out, "qname", &x->v);
	if (x->v.action >= POL_REDIRECT) {
		action_line(x);
		return true;
	}
	return false;
}

int
explain_start(struct worker *w, const char *name, const char *type,
    const char *tenant, struct evbuffer *out, explain_done_fn *done, void *arg)
{
	struct explain *x;
	int r;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		evbuffer_add_printf(out, "out of memory");
		return -ENOMEM;
	}
	x->w = w;
	x->cfg = config_ref(w->cfg);
	x->out = out;
	x->done = done;
	x->arg = arg;
	if ((x->tenant = find_tenant(x->cfg, tenant)) == NULL) {
		evbuffer_add_printf(out, "no tenant \"%s\"", tenant ? tenant : "");
		r = -ENOENT;
		goto fail;
	}
	if ((r = parse_question(x, name, type)) != 0)
		goto fail;
	if (before_recursion(x)) {
		finish(x, 0);
		return 0;
	}
	/* 7. recursion: ownership passes to recursed() */
	if ((r = recurse_resolve(w->rec, x->name, x->type, LDNS_RR_CLASS_IN,
	    &x->req, recursed, x)) != 0) {
		evbuffer_add_printf(out, "%-10s cannot start: %s\n", "recursion",
		    eg_strerror(r));
		finish(x, 0);
	}
	return 0;
fail:
	config_unref(x->cfg);
	free(x);
	return r;
}
