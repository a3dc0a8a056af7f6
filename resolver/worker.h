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
struct audit_ring;
struct metrics_worker;
struct stream_hub;
struct tls_server;
struct dot;
struct tdb;
struct tdb_reader;

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
	struct stream_hub *streams;	/* TCP and DoT connections */
	struct tls_server *tls;		/* server.tls, NULL without it */
	struct dot *dot;
	struct audit_ring *audit;	/* this worker's log ring, NULL: none (audit.c) */
	struct metrics_worker *metrics;	/* its counters, NULL: none (metrics.c) */
	struct tdb *tdb;		/* threatdb, NULL while there is none */
	struct tdb_reader *tdb_reader;	/* this thread's reader of it */
	time_t tdb_retry_at;		/* when to look for a missing one again */
	time_t tdb_warned_at;		/* last lookup error logged */
	const struct query *resolving;	/* inside recurse_resolve() for it */
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
 * of cfg, and the threat database (cfg->threatdb).  A database that does
 * not exist yet is not an error: the worker says so in the log, runs the
 * policies without threat data, and looks for it again at most once a
 * second (worker_tdb()), so the first `threatctl import` takes effect
 * without a restart.  Any other threatdb error fails the start.
 * \return 0 or a negative code with err set.
 */
int worker_new(struct worker **out, const struct config *cfg, char *err,
    size_t errlen) EG_MUSTCHECK;

/**
 * Load server.tls of cfg again (certificate, key, client CA) for new
 * connections; open ones keep theirs.  On error the old stays and err
 * says why.  \return 0, or a negative code (also when the worker serves
 * no TLS).
 */
int worker_reload_tls(struct worker *w, const struct config *cfg, char *err,
    size_t errlen) EG_MUSTCHECK;

/** Run the loop until worker_stop() has drained it. */
void worker_run(struct worker *w);

/** Stop taking queries, answer the ones in flight (at most for
 * drain_ms), then leave worker_run().  Safe from a signal event. */
void worker_stop(struct worker *w, unsigned drain_ms);

void worker_free(struct worker *w);

/** This worker's threat-database reader, or NULL while there is no
 * database (then tries to open it, at most once a second).  Worker
 * thread only. */
struct tdb_reader *worker_tdb(struct worker *w);
