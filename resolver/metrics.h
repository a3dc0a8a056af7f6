/* metrics.h -- the Prometheus endpoint: counters per worker, served by evhttp
 *
 * Each worker owns a struct metrics_worker and is its only writer; the
 * counters are relaxed atomics, so the HTTP thread reads them while the
 * workers count, without locks.  The endpoint runs in a thread of its own
 * with its own event base, so a scrape never delays a query.
 *
 *   GET /metrics  text format 0.0.4
 *   GET /healthz  200 "ok" while the process serves HTTP at all
 *   GET /readyz   200 "ready" once the config is loaded, the threat
 *                 database is open and recursion has answered (a client
 *                 query or the start-up probe), else 503 with the reason
 *   other paths 404, other methods 405
 *
 * Labels are bounded: egressd_queries_total has at most
 * METRICS_MAX_SERIES series per worker; beyond that (or past
 * METRICS_MAX_CATEGORIES categories) a query counts under
 * tenant/category "other".  No query names, no client addresses.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "resolver/eg.h"

struct audit;
struct audit_record;
struct config;
struct metrics;
struct metrics_worker;
struct tdb;
struct tdb_reader;
struct event_base;
struct worker;

#define METRICS_MAX_WORKERS	256
#define METRICS_MAX_SERIES	2048	/* queries_total label sets, per worker */
#define METRICS_MAX_CATEGORIES	256

/**
 * Create the endpoint for cfg->metrics and bind its socket now (before
 * privileges are dropped); serving starts with metrics_start().
 * \param a the audit log whose written/lost counters are exported
 * (borrowed, may be NULL; must outlive the metrics)
 * \param err on failure, names the address
 * \return 0 with *out set (free with metrics_free()), or -errno.
 */
int metrics_new(struct metrics **out, const struct config *cfg, struct audit *a,
    char *err, size_t errlen) EG_MUSTCHECK;

/** Counters for one worker, owned by m.  Call before metrics_start().
 * \return 0, -ENOMEM or -E2BIG (more than METRICS_MAX_WORKERS). */
int metrics_worker_new(struct metrics *m, struct metrics_worker **out) EG_MUSTCHECK;


/** Serve, from a new thread.  \return 0 or -errno. */
int metrics_start(struct metrics *m) EG_MUSTCHECK;

/** Count one answered query.  Only the worker owning mw calls this. */
void metrics_count(struct metrics_worker *mw, const struct audit_record *r);

/** Count a DoH request whose path token names no tenant (mw may be
 * NULL: no metrics).  Only the worker owning mw calls this. */
void metrics_doh_unknown_token(struct metrics_worker *mw);

/**
 * Watch worker w for readiness, from its own loop: ask recursion for
 * ". NS" now and every few seconds until it answers, and look for the
 * threat database (worker_tdb()) every second until it is open, so that
 * /readyz does not wait for the first client.  The feed metrics read w's
 * database once it is open: w must outlive m (free m first).  Call before
 * w's loop runs and before metrics_start().
 * \return 0, -ENOMEM, -EBUSY (already watching).
 */
int metrics_probe_start(struct metrics_worker *mw, struct worker *w) EG_MUSTCHECK;

/** Stop the probe (free its timer); call before the worker's event base
 * and libunbound context are freed. */
void metrics_probe_stop(struct metrics_worker *mw);

/** Stop serving, free everything.  metrics_free(NULL) is a no-op. */
void metrics_free(struct metrics *m);
