/* worker.h -- one event loop: its sockets, its libunbound context, its queries */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "resolver/dot/tls_bev.h"
#include "resolver/eg.h"
#include "resolver/query.h"

struct config;
struct cache;
struct daemon;
struct mailbox;
struct worker_old_cfg;
struct worker_old_rec;
struct do53;
struct event;
struct event_base;
struct recurse;
struct audit_ring;
struct metrics_worker;
struct stream_hub;
struct tls_server;
struct dot;
struct doh;
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
	struct daemon *d;		/* the owner; NULL in -t checks */
	unsigned id;			/* 0 .. server.workers - 1 */
	pthread_t thread;
	bool started;			/* thread running worker_run() */
	struct mailbox *mail;		/* work posted by other threads */
	const struct config *cfg;	/* one reference held (config_ref());
					 * swapped by worker_set_config() */
	struct worker_old_cfg *old_cfgs;	/* replaced, still used by queries */
	struct recurse *rec;
	struct worker_old_rec *old_recs;	/* replaced, resolves outstanding */
	struct do53 *do53;
	struct stream_hub *streams;	/* TCP and DoT connections */
	struct tls_server *tls;		/* server.tls, shared by the workers
					 * (the daemon's), NULL without it */
	struct dot *dot;
	struct doh *doh;		/* DoH listeners and connections */
	struct tls_linger_set lingering;	/* TLS connections closing (tls_bev.h) */
	struct audit_ring *audit;	/* this worker's log ring, NULL: none (audit.c) */
	struct metrics_worker *metrics;	/* its counters, NULL: none (metrics.c) */
	struct tdb *tdb;		/* threatdb, NULL while there is none */
	struct tdb_reader *tdb_reader;	/* this thread's reader of it */
	time_t tdb_retry_at;		/* when to look for a missing one again */
	time_t tdb_warned_at;		/* last lookup error logged */
	const struct query *resolving;	/* inside recurse_resolve() for it */
	struct query_list waiting;	/* not answered yet, oldest first */
	struct query_list orphans;	/* answered on timeout, upstream still busy */
	struct query_list qpool;	/* freed queries kept for reuse (query.c) */
	unsigned n_qpool;
	struct cache *cache;		/* answers after policy; NULL: off (cache.h) */
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
 * of cfg (SO_REUSEPORT: each worker binds its own), its mailbox, and the
 * threat database (cfg->threatdb).  The worker takes a reference to cfg.
 * tls is the TLS state its DoT/DoH listeners use (borrowed: shared by all
 * workers, it must outlive them), NULL when cfg has no server.tls.  A database that does
 * not exist yet is not an error: the worker says so in the log, runs the
 * policies without threat data, and looks for it again at most once a
 * second (worker_tdb()), so the first `threatctl import` takes effect
 * without a restart.  Any other threatdb error fails the start.
 * \return 0 or a negative code with err set.
 */
int worker_new(struct worker **out, const struct config *cfg,
    struct tls_server *tls, char *err, size_t errlen) EG_MUSTCHECK;

/** Run the loop until worker_stop() has drained it. */
void worker_run(struct worker *w);

/** Start a thread that runs worker_run().  \return 0 or -errno. */
int worker_start(struct worker *w) EG_MUSTCHECK;

/** Wait for the thread of worker_start() to end. */
void worker_join(struct worker *w);

/** Something for a worker's own thread to do. */
typedef void worker_job_fn(struct worker *w, void *arg);

/**
 * Run fn(w, arg) in w's thread, between queries, in the order posted.
 * Any thread.  \return 0, or -ENOMEM (fn will not run).
 */
int worker_post(struct worker *w, worker_job_fn *fn, void *arg) EG_MUSTCHECK;

/**
 * Make cfg the worker's config for queries from now on; queries in flight
 * keep theirs (freed when the last of them finishes).  With new_recursion, builds a new libunbound context from cfg
 * (the old one is freed when its last resolve returns).  Worker thread.
 * \return 0, or a negative code with err set (then nothing changed).
 */
int worker_set_config(struct worker *w, const struct config *cfg,
    bool new_recursion, char *err, size_t errlen) EG_MUSTCHECK;

/**
 * Empty this worker's caches: a new libunbound context (libunbound 1.17
 * cannot forget single names, so its caches go whole), and the answer
 * cache, of name only when name (wire form) is given.  Worker thread.
 * \return 0, or a negative code with err set (the old context stays).
 */
int worker_flush(struct worker *w, const uint8_t *name, char *err,
    size_t errlen) EG_MUSTCHECK;

/** A query using cfg (not the worker's current one) has finished.  For
 * query.c. */
void worker_cfg_release(struct worker *w, const struct config *cfg);

/** Stop taking queries, answer the ones in flight (at most for
 * drain_ms), then leave worker_run().  Safe from a signal event. */
void worker_stop(struct worker *w, unsigned drain_ms);

void worker_free(struct worker *w);

/** This worker's threat-database reader, or NULL while there is no
 * database (then tries to open it, at most once a second).  Worker
 * thread only. */
struct tdb_reader *worker_tdb(struct worker *w);
