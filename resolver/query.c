/* query.c -- the pipeline: one function that reads like the contract
 *
 * parse -> tenant -> recurse -> answer.  Later stages (special names,
 * internal zones, name and response policy, audit) slot in at the named
 * places.  Steps do no I/O; the transport sends what we return.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "resolver/answer.h"
#include "resolver/config.h"
#include "resolver/log.h"
#include "resolver/policy/tenant.h"
#include "resolver/query.h"
#include "resolver/worker.h"

struct query *
query_new(struct worker *w, enum transport t, const struct sockaddr *client,
    socklen_t client_len, const uint8_t *wire, size_t len)
{
	struct query *q;

	if (len > QUERY_MAX_WIRE || client_len > sizeof(q->client))
		return NULL;
	if ((q = malloc(sizeof(*q) + len)) == NULL)
		return NULL;
	memset(q, 0, sizeof(*q));
	q->w = w;
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
		if (q->tctx)
			q->ops->send(q, ans, len);
	}
}

static void
query_free(struct query *q)
{
	q->w->n_live--;
	free(q);
}

static void
send_synth(struct query *q, int rcode, int ede, const char *text)
{
	struct answer_meta m = { .rcode = rcode, .ede = ede, .ede_text = text };
	size_t n = answer_synth(q->w->ans, sizeof(q->w->ans), &q->pq, &m);

	query_send(q, n ? q->w->ans : NULL, n);
}

static void
recursed(void *arg, int err, const uint8_t *pkt, size_t len,
    enum recurse_sec sec, const char *why_bogus)
{
	struct query *q = arg;
	size_t n = 0;

	if (q->answered) {	/* timed out meanwhile */
		TAILQ_REMOVE(&q->w->orphans, q, wentry);
		goto done;
	}
	if (err != 0) {
		send_synth(q, RCODE_SERVFAIL, EDE_NO_REACHABLE_AUTHORITY, NULL);
		goto done;
	}
	if (sec == RECURSE_BOGUS && !q->pq.cd) {
		send_synth(q, RCODE_SERVFAIL, EDE_DNSSEC_BOGUS, why_bogus);
		goto done;
	}
	if (answer_from_upstream(&q->pq, pkt, len, sec == RECURSE_SECURE,
	    q->max_answer, q->w->ans, sizeof(q->w->ans), &n) != 0) {
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
	const struct config *cfg = q->w->cfg;
	char name[PKT_MAX_NAME_TEXT];

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

	/* tenant: no tenant, no answer (never an open resolver) */
	if ((q->tenant = tenants_match(&cfg->tenants,
	    (const struct sockaddr *)&q->client)) == NULL) {
		send_synth(q, RCODE_REFUSED, EDE_PROHIBITED, NULL);
		goto done;
	}

	/* recursion: ownership passes to recursed() */
	if (pkt_name_to_text(q->pq.qname, name, sizeof(name)) < 0 ||
	    recurse_resolve(q->w->rec, name, q->pq.qtype, q->pq.qclass, &q->req,
	    recursed, q) != 0) {
		send_synth(q, RCODE_SERVFAIL, EDE_OTHER, "cannot start resolution");
		goto done;
	}
	return;
done:
	query_free(q);
}
