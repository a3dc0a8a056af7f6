/* query.c -- the pipeline: one function that reads like the contract
 *
 * query_start(): parse -> tenant -> special names -> internal zones ->
 * query-name policy -> recursion; recursed(): DNSSEC verdict -> response
 * policy -> action.  The decisions are resolver/policy/policy.c's; this
 * file only strings them together and writes the answers.  Steps do no
 * I/O; the transport sends what we return.
 */
#include "autoconf.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/audit.h"
#include "resolver/cache.h"
#include "resolver/config.h"
#include "resolver/ddr.h"
#include "resolver/log.h"
#include "resolver/policy/geo.h"
#include "resolver/policy/node.h"
#include "resolver/policy/policy.h"
#include "resolver/policy/tenant.h"
#include "resolver/query.h"
#include "resolver/worker.h"
#include "zones/zone.h"

#define TYPE_A		1
#define TYPE_AAAA	28
#define TDB_WARN_EVERY_S	60	/* threat-DB lookup errors in the log */

struct query *
query_new(struct worker *w, enum transport t, const struct sockaddr *client,
    socklen_t client_len, const uint8_t *wire, size_t len)
{
	struct query *q;

	size_t cap = len <= QUERY_POOL_WIRE ? QUERY_POOL_WIRE : len;

	if (len > QUERY_MAX_WIRE || client_len > sizeof(q->client))
		return NULL;
	/* small queries reuse freed ones: no malloc on the hot path */
	if (cap == QUERY_POOL_WIRE && (q = TAILQ_FIRST(&w->qpool)) != NULL) {
		TAILQ_REMOVE(&w->qpool, q, wentry);
		w->n_qpool--;
	} else if ((q = malloc(sizeof(*q) + cap)) == NULL)
		return NULL;
	memset(q, 0, sizeof(*q));
	q->wirecap = cap;
	q->w = w;
	q->cfg = w->cfg;
	q->transport = t;
	memcpy(&q->client, client, client_len);
	q->client_len = client_len;
	q->wirelen = len;
	memcpy(q->wire, wire, len);
	clock_gettime(CLOCK_MONOTONIC, &q->start);
	w->n_live++;
	w->stats.queries++;
	return q;
}

/* Hand the answer to the transport (if it is still there) and, unless the
 * query still waits for libunbound, free it. */
static void
query_send(struct query *q, const uint8_t *ans, size_t len)
{
	if (!q->answered) {
		q->answered = true;
		TAILQ_REMOVE(&q->w->waiting, q, wentry);
		audit_query(q, ans, len);	/* the log record and the metrics */
		if (q->tctx)
			q->ops->send(q, ans, len);
	}
}

static void
query_free(struct query *q)
{
	if (q->cfg != q->w->cfg)	/* reloaded meanwhile */
		worker_cfg_release(q->w, q->cfg);
	q->w->n_live--;
	if (q->wirecap == QUERY_POOL_WIRE && q->w->n_qpool < QUERY_POOL_MAX) {
		TAILQ_INSERT_HEAD(&q->w->qpool, q, wentry);
		q->w->n_qpool++;
	} else
		free(q);
}

void
query_pool_free(struct worker *w)
{
	struct query *q;

	while ((q = TAILQ_FIRST(&w->qpool)) != NULL) {
		TAILQ_REMOVE(&w->qpool, q, wentry);
		free(q);
	}
	w->n_qpool = 0;
}

static void
send_synth(struct query *q, int rcode, int ede, const char *text)
{
	struct answer_meta m = { .rcode = rcode, .ede = ede, .ede_text = text };
	size_t n = answer_synth(q->w->ans, sizeof(q->w->ans), &q->pq, &m);

	query_send(q, n ? q->w->ans : NULL, n);
}

/* pol_env hook: the country and AS of an answer address. */
static void
geo_hook(void *arg, int family, const uint8_t *addr, char cc[3], uint32_t *asn)
{
	const struct config *cfg = arg;

	geo_lookup(cfg->geo, family, addr, cc, asn);
}

/* pol_env hook: an address of an internal zone's data (rebinding). */
static bool
zone_addr_hook(void *arg, int family, const uint8_t *addr)
{
	const struct config *cfg = arg;

	return zone_set_holds_addr(cfg->zones, family, addr);
}

void
query_policy_env(struct worker *w, const struct config *cfg,
    const struct tenant *t, struct pol_env *e)
{
	memset(e, 0, sizeof(*e));
	e->policy = t->policy ? t->policy : &pol_builtin_pass;
	e->tdb = worker_tdb(w);
	e->now = time(NULL);
	e->geo = cfg->geo ? geo_hook : NULL;
	e->internal_addr = cfg->zones ? zone_addr_hook : NULL;
	e->arg = (void *)cfg;
}

/* What the policy checks of this query consult. */
static void
policy_env(struct query *q, struct pol_env *e)
{
	query_policy_env(q->w, q->cfg, q->tenant, e);
}

/* A threat-DB lookup failed: the query goes on unfiltered (as without a
 * database); say so in the log, but not for every query. */
static void
tdb_trouble(struct query *q, int err)
{
	time_t now = time(NULL);

	if (err == 0 || now < q->w->tdb_warned_at + TDB_WARN_EVERY_S)
		return;
	q->w->tdb_warned_at = now;
	log_warnx("threatdb lookup failed (%s): answering unfiltered",
	    eg_strerror(err));
}

/* The country of the client, for the choice of security-node pool. */
static void
client_country(const struct query *q, char cc[3])
{
	const struct sockaddr *sa = (const struct sockaddr *)&q->client;

	cc[0] = '\0';
	if (sa->sa_family == AF_INET)
		geo_lookup(q->cfg->geo, AF_INET, (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr, cc, NULL);
	else if (sa->sa_family == AF_INET6)
		geo_lookup(q->cfg->geo, AF_INET6,
		    ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, cc, NULL);
}

/* Step 9 for redirect and block: the synthesized answer.  A redirect
 * answers A/AAAA with the security nodes of the client's region (NODATA
 * for other types, or when no node has that family); a block answers as
 * the policy's block-answer says (the feed's hint may say NXDOMAIN or
 * NODATA).  Negative answers carry a SOA with the TTL we chose. */
static void
send_policy(struct query *q)
{
	const struct config *cfg = q->cfg;
	const struct policy *p = q->tenant->policy ? q->tenant->policy :
	    &pol_builtin_pass;
	struct pol_verdict *v = &q->verdict;
	uint8_t addrs[NODE_MAX_POOL_ADDRS][16];
	struct answer_meta m = { .rcode = RCODE_NOERROR };
	struct answer_rrs rrs = { .addrs = (const uint8_t (*)[16])addrs };
	char text[TDB_MAX_CATEGORY + TDB_MAX_FEED + 96], cc[3];
	size_t n;

	/* a feed's redirect hint with no security nodes configured */
	if (v->action == POL_REDIRECT && cfg->nodes == NULL)
		v->action = POL_BLOCK, v->block = p->block_answer;
	m.ede = pol_ede(v, text, sizeof(text));
	m.ede_text = text;
	if (v->action == POL_REDIRECT) {
		rrs.family = q->pq.qtype == TYPE_A ? AF_INET :
		    q->pq.qtype == TYPE_AAAA ? AF_INET6 : 0;
		rrs.ttl = p->redirect_ttl;
		if (rrs.family) {
			client_country(q, cc);
			rrs.n_addrs = node_pick(cfg->nodes, cc, rrs.family,
			    addrs, NODE_MAX_POOL_ADDRS);
		}
		rrs.soa = rrs.n_addrs == 0;
		rrs.soa_ttl = p->redirect_ttl;
	} else {
		m.rcode = v->block == POL_BLOCK_NXDOMAIN ? RCODE_NXDOMAIN :
		    v->block == POL_BLOCK_NODATA ? RCODE_NOERROR : RCODE_REFUSED;
		rrs.soa = v->block != POL_BLOCK_REFUSED;
		rrs.soa_ttl = p->block_ttl;
	}
	n = answer_policy(q->w->ans, sizeof(q->w->ans), q->max_answer, &q->pq,
	    &m, &rrs);
	query_send(q, n ? q->w->ans : NULL, n);
}

/* ---- the answer cache (cache.h) ---- */

static void
cache_key_of(const struct query *q, struct cache_key *k)
{
	k->policy = q->tenant->policy ? q->tenant->policy : &pol_builtin_pass;
	k->qname = q->pq.qname;
	k->qname_len = q->pq.qname_len;
	k->qtype = q->pq.qtype;
	k->qclass = q->pq.qclass;
	k->do_bit = q->pq.do_bit;
	k->cd = q->pq.cd;
}

/* Answer q from the cache: the stored answer made this client's (ID,
 * flags, AD rule, OPT, truncation), or the stored redirect or block
 * verdict answered again; the audit gets the stored verdict.
 * \return true when answered. */
static bool
cache_answer(struct query *q)
{
	struct answer_meta m = { .ede = ANSWER_NO_EDE };
	struct cache_meta meta;
	struct cache_key k;
	enum cache_result r;
	size_t len, n;

	/* before the threat DB is asked: an import from now on invalidates
	 * what this query would store */
	q->cache_gen = tdb_generation(q->w->tdb);
	cache_key_of(q, &k);
	if ((r = cache_lookup(q->w->cache, &k, q->cache_gen, q->start.tv_sec,
	    &meta, q->w->ans, sizeof(q->w->ans), &len)) == CACHE_MISS)
		return false;
	q->verdict = meta.verdict;
	q->upstream = meta.recursed ? QUERY_UP_CACHE : QUERY_UP_NONE;
	q->sec = (enum recurse_sec)meta.sec;
	if (r == CACHE_VERDICT) {
		send_policy(q);
		return true;
	}
	m.rcode = meta.rcode;
	m.ad = answer_ad(&q->pq, q->sec == RECURSE_SECURE);
	if (answer_finish(&q->pq, &m, q->max_answer, false, q->w->ans,
	    sizeof(q->w->ans), len, &n) != 0)
		send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "cached answer unusable");
	else
		query_send(q, q->w->ans, n);
	return true;
}

/* Keep what was decided for the next identical question: the answer
 * (wire, as written for a client without EDNS), or with wire NULL the
 * redirect or block verdict alone, for ttl seconds. */
static void
cache_keep(struct query *q, const uint8_t *wire, size_t len, uint32_t ttl)
{
	struct cache_meta meta;
	struct cache_key k;
	struct timespec now;
	int r;

	/* not after a threat-DB error (answered unfiltered), nor under a
	 * config that a reload has replaced */
	if (q->w->cache == NULL || q->cache_skip || q->cfg != q->w->cfg)
		return;
	meta.ttl_cap = 0;
	if (q->verdict.expires > 0) {	/* a threat-DB entry that decided expires */
		time_t left = (time_t)q->verdict.expires - time(NULL);

		if (left <= 0)
			return;
		meta.ttl_cap = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	cache_key_of(q, &k);
	meta.verdict = q->verdict;
	meta.rcode = wire ? (uint8_t)LDNS_RCODE_WIRE(wire) : 0;
	meta.sec = (uint8_t)q->sec;
	meta.recursed = q->upstream == QUERY_UP_CACHE ||
	    q->upstream == QUERY_UP_NETWORK;
	r = wire ? cache_store_answer(q->w->cache, &k, q->cache_gen,
	    now.tv_sec, &meta, wire, len) : cache_store_verdict(q->w->cache,
	    &k, q->cache_gen, now.tv_sec, &meta, ttl);
	if (r != 0 && r != -ENOENT)	/* -ENOENT: not to be cached */
		log_debug("answer cache: not stored: %s", eg_strerror(r));
}

/* Keep a redirect or block verdict: from the query-name policy (pkt NULL)
 * as long as its answer's TTL says; from the response policy as long as
 * the upstream answer it judged. */
static void
cache_keep_verdict(struct query *q, const uint8_t *pkt, size_t len)
{
	const struct policy *p = q->tenant->policy ? q->tenant->policy :
	    &pol_builtin_pass;
	uint32_t ttl = q->verdict.action == POL_REDIRECT ? p->redirect_ttl :
	    p->block_ttl;

	if (pkt == NULL || cache_wire_ttl(pkt, len, &ttl) == 0)
		cache_keep(q, NULL, 0, ttl);
}

static void
recursed(void *arg, int err, const uint8_t *pkt, size_t len,
    enum recurse_sec sec, const char *why_bogus)
{
	struct query *q = arg;
	struct answer_meta m = { .ede = ANSWER_NO_EDE };
	struct pkt_query noedns;
	struct pol_env env;
	size_t n = 0;

	if (q->answered) {	/* timed out meanwhile */
		TAILQ_REMOVE(&q->w->orphans, q, wentry);
		goto done;
	}
	/* called back inside recurse_resolve(): libunbound had it cached */
	q->upstream = err ? QUERY_UP_FAILED : q->w->resolving == q ?
	    QUERY_UP_CACHE : QUERY_UP_NETWORK;
	q->sec = sec;
	if (err != 0) {
		send_synth(q, RCODE_SERVFAIL, EDE_NO_REACHABLE_AUTHORITY, NULL);
		goto done;
	}
	/* bogus stays SERVFAIL: policy never turns a validation failure into
	 * an answer (only the query-name policy, before recursion, can) */
	if (sec == RECURSE_BOGUS && !q->pq.cd) {
		send_synth(q, RCODE_SERVFAIL, EDE_DNSSEC_BOGUS, why_bogus);
		goto done;
	}
	/* 8. response policy: the CNAME chain's names and every address */
	policy_env(q, &env);
	if (pol_check_response(&env, pkt, len, &q->verdict) < 0) {
		send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "upstream answer unusable");
		goto done;
	}
	/* 9. action: redirect and block answer for themselves; pass and log
	 * give the real answer */
	if (q->verdict.action >= POL_REDIRECT) {
		cache_keep_verdict(q, pkt, len);
		send_policy(q);
		goto done;
	}
	/* the answer as for a client without EDNS is what the cache keeps;
	 * answer_finish() makes it this client's, as for a cache hit */
	noedns = q->pq;
	noedns.edns = false;
	if (answer_from_upstream(&noedns, pkt, len, sec == RECURSE_SECURE,
	    QUERY_MAX_WIRE, q->w->ans, sizeof(q->w->ans), &n) != 0) {
		send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "upstream answer unusable");
		goto done;
	}
	cache_keep(q, q->w->ans, n, 0);
	m.rcode = LDNS_RCODE_WIRE(q->w->ans);
	m.ad = LDNS_AD_WIRE(q->w->ans) != 0;
	if (answer_finish(&q->pq, &m, q->max_answer,
	    LDNS_TC_WIRE(q->w->ans) != 0, q->w->ans, sizeof(q->w->ans),
	    n, &n) != 0) {
		send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "upstream answer unusable");
		goto done;
	}
	query_send(q, q->w->ans, n);
done:
	query_free(q);
}

void
query_expire(struct query *q)
{
	q->w->stats.timeouts++;
	q->upstream = QUERY_UP_FAILED;
	send_synth(q, RCODE_SERVFAIL, EDE_NO_REACHABLE_AUTHORITY,
	    "resolution timed out");
	TAILQ_INSERT_TAIL(&q->w->orphans, q, wentry);
}

void
query_free_all(struct query_list *list)
{
	struct query *q;

	while ((q = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, q, wentry);
		query_free(q);
	}
}

void
query_start(struct query *q)
{
	const struct config *cfg = q->cfg;
	struct worker *w = q->w;	/* q may be gone after recurse_resolve() */
	char name[PKT_MAX_NAME_TEXT];
	const struct zone *zone;
	struct pol_env env;
	int err;

	TAILQ_INSERT_TAIL(&q->w->waiting, q, wentry);
	switch (pkt_parse_query(q->wire, q->wirelen, &q->pq)) {
	case PKT_OK:
		break;
	case PKT_DROP:
		q->w->stats.dropped++;
		query_send(q, NULL, 0);
		goto done;
	case PKT_FORMERR:
		send_synth(q, RCODE_FORMERR, ANSWER_NO_EDE, NULL);
		goto done;
	case PKT_NOTIMP:
		send_synth(q, RCODE_NOTIMP, ANSWER_NO_EDE, NULL);
		goto done;
	case PKT_REFUSED:
		send_synth(q, RCODE_REFUSED, EDE_NOT_SUPPORTED, NULL);
		goto done;
	case PKT_BADVERS:
		send_synth(q, RCODE_BADVERS, ANSWER_NO_EDE, NULL);
		goto done;
	}
	if (q->transport == TRANSPORT_UDP) {
		q->max_answer = q->pq.edns ? q->pq.udp_size : 512;
		if (q->max_answer > ANSWER_EDNS_SIZE)
			q->max_answer = ANSWER_EDNS_SIZE;
	} else
		q->max_answer = QUERY_MAX_WIRE;

	/* tenant: the transport's hint (certificate, DoH token) beats the
	 * source address; no tenant, no answer (never an open resolver) */
	if ((q->tenant = q->tenant_hint) == NULL &&
	    (q->tenant = tenants_match(&cfg->tenants,
	    (const struct sockaddr *)&q->client)) == NULL) {
		send_synth(q, RCODE_REFUSED, EDE_PROHIBITED, NULL);
		goto done;
	}
	policy_env(q, &env);

	/* 4. special names: DDR (RFC 9462) answers with our encrypted
	 * endpoints; the canaries of clients' own encrypted DNS */
	if (ddr_is_query(&q->pq)) {
		size_t n;

		if (ddr_answer(cfg, &q->pq, q->max_answer, q->w->ans,
		    sizeof(q->w->ans), &n) != 0)
			send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "DDR answer");
		else
			query_send(q, q->w->ans, n);
		goto done;
	}
	if (pol_check_special(env.policy, q->pq.qname, &q->verdict) != POL_PASS) {
		send_policy(q);
		goto done;
	}

	/* 5. internal zones: answered from the zone data, never recursed */
	if ((zone = zone_set_find(cfg->zones, q->pq.qname,
	    (uint32_t)(q->tenant - cfg->tenants.v))) != NULL) {
		size_t n;

		q->verdict.reason = POL_REASON_INTERNAL;
		if (zone_answer(zone, &q->pq, q->max_answer, q->w->ans,
		    sizeof(q->w->ans), &n) != 0)
			send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "internal zone");
		else
			query_send(q, q->w->ans, n);
		goto done;
	}

	/* the answer cache: the final answer (or verdict) an earlier query
	 * got under the same policy; after the zones, which tenants of one
	 * policy may see differently and which are never cached */
	if (cache_answer(q))
		goto done;

	/* 6. query-name policy: allow list, then the threat DB; a redirect or
	 * block is answered here, before recursion (also for a name that
	 * would not validate); log goes on and is remembered */
	if (pol_check_qname(&env, q->pq.qname, &q->verdict, &err) >= POL_REDIRECT) {
		cache_keep_verdict(q, NULL, 0);
		send_policy(q);
		goto done;
	}
	tdb_trouble(q, err);
	q->cache_skip = err != 0;

	/* 7. recursion: ownership passes to recursed() */
	w->resolving = q;
	if (pkt_name_to_text(q->pq.qname, name, sizeof(name)) < 0 ||
	    recurse_resolve(q->w->rec, name, q->pq.qtype, q->pq.qclass, &q->req,
	    recursed, q) != 0) {
		w->resolving = NULL;
		send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "cannot start resolution");
		goto done;
	}
	w->resolving = NULL;
	return;
done:
	query_free(q);
}
