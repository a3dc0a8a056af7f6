/* worker.h -- one event loop: its sockets, its libunbound context, its queries */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "resolver/eg.h"
#include "resolver/query.h"

struct config;
struct do53;
struct event;
struct event_base;
struct recurse;

/** Counters of one worker; plain integers, only its own thread writes. */
struct worker_stats {
	uint64_t queries;
	uint64_t dropped;	/* UDP over server.max-queries, or undecodable */
	uint64_t timeouts;
};

struct worker {
	struct event_base *base;
	const struct config *cfg;	/* borrowed from the daemon */
	struct recurse *rec;
	struct do53 *do53;
	struct query_list waiting;	/* not answered yet, oldest first */
	struct query_list orphans;	/* answered on timeout, upstream still busy */
	unsigned n_live;		/* queries allocated (incl. answered, awaiting upstream) */
	struct event *expire_ev;
	struct event *drain_ev;
	struct timespec drain_deadline;
	bool drain_expired;		/* deadline passed: waiting ones answered */
	bool stopping;
	struct worker_stats stats;
	uint8_t ans[QUERY_MAX_WIRE + 1];	/* answer scratch: one query at a time */
};

/**
 * Create a worker: event base, libunbound context and the Do53 sockets
 * of cfg.  \return 0 or a negative code with err set.
 */
int worker_new(struct worker **out, const struct config *cfg, char *err,
    size_t errlen) EG_MUSTCHECK;

/** Run the loop until worker_stop() has drained it. */
void worker_run(struct worker *w);

/** Stop taking queries, answer the ones in flight (at most for
 * drain_ms), then leave worker_run().  Safe from a signal event. */
void worker_stop(struct worker *w, unsigned drain_ms);

void worker_free(struct worker *w);
