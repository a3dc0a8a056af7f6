/* query.h -- one client query from bytes in to bytes out: the pipeline */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "resolver/packet.h"
#include "resolver/policy/policy.h"
#include "resolver/recurse.h"

struct worker;
struct query;
struct tenant;

enum transport { TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_DOT, TRANSPORT_DOH };

#define QUERY_MAX_WIRE	65535
#define QUERY_POOL_WIRE	512	/* queries up to this size reuse freed ones */
#define QUERY_POOL_MAX	1024	/* freed queries a worker keeps for reuse */

/** What recursion did for a query, for the audit log and metrics. */
enum query_upstream {
	QUERY_UP_NONE = 0,	/* not recursed */
	QUERY_UP_CACHE,		/* libunbound answered inside the resolve call,
				 * or the answer cache had a recursed answer */
	QUERY_UP_NETWORK,	/* it answered later: it had to ask */
	QUERY_UP_FAILED,	/* no usable answer: unreachable, timeout */
};

/** What a transport does with the answer.  ans == NULL: say nothing.
 * Called at most once per query, only while q->tctx is not NULL. */
struct query_ops {
	void (*send)(struct query *q, const uint8_t *ans, size_t len);
};

struct query {
	struct worker *w;
	const struct config *cfg;	/* the worker's when the query came:
					 * stays valid until it is freed */
	const struct query_ops *ops;
	void *tctx;		/* transport's; set to NULL when it goes away */
	enum transport transport;
	struct sockaddr_storage client;
	socklen_t client_len;
	struct sockaddr_storage local;	/* UDP: where it arrived, for the reply */
	size_t max_answer;	/* UDP: client's EDNS size (capped); TCP: 65535 */
	struct pkt_query pq;
	const struct tenant *tenant;
	const struct tenant *tenant_hint;	/* from the transport (mTLS certificate,
					 * DoH token): beats the source address */
	struct recurse_req req;
	struct pol_verdict verdict;	/* what the policy decided and why
					 * (action, reason, category, feed):
					 * audit.c reads it */
	struct timespec start;
	enum query_upstream upstream;	/* audit.c reads these two */
	enum recurse_sec sec;		/* valid when upstream is CACHE/NETWORK */
	uint64_t cache_gen;	/* threat-DB generation before the policy
				 * looked: what answer-cache entries get */
	bool cache_skip;	/* keep the answer out of the answer cache */
	size_t wirecap;		/* room in wire[]; QUERY_POOL_WIRE: pooled */
	bool answered;		/* already answered (timed out); awaiting upstream */
	TAILQ_ENTRY(query) wentry;	/* worker's in-flight list, oldest first */
	TAILQ_ENTRY(query) tentry;	/* transport's list (TCP connection) */
	size_t wirelen;
	uint8_t wire[];
};

TAILQ_HEAD(query_list, query);

/**
 * Copy a received packet into a new query.  The transport fills
 * ops/tctx/local afterwards and calls query_start().
 * \return the query (freed by the pipeline once answered), or NULL.
 */
struct query *query_new(struct worker *w, enum transport t,
    const struct sockaddr *client, socklen_t client_len, const uint8_t *wire,
    size_t len);

/** Run the pipeline.  The answer goes to q->ops->send, now or later;
 * the caller must not touch q after this call. */
void query_start(struct query *q);

/** Answer SERVFAIL to a waiting query that took too long and move it to
 * the worker's orphans: its upstream resolve still completes (and frees
 * it) later. */
void query_expire(struct query *q);

/**
 * What the policy checks of a query of tenant t consult under cfg: its
 * policy, w's threat-DB reader, now, and cfg's GeoIP and internal-zone
 * hooks.  Used by the pipeline and by `egressctl explain`.  Worker thread.
 */
void query_policy_env(struct worker *w, const struct config *cfg,
    const struct tenant *t, struct pol_env *e);

/** Free every query of a worker list (at exit, once libunbound is gone). */
void query_free_all(struct query_list *list);

/** Free the worker's pool of freed queries kept for reuse (at exit). */
void query_pool_free(struct worker *w);
