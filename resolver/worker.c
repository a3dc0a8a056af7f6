/* worker.c -- one event loop: sockets, libunbound, query timeouts, draining */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "resolver/config.h"
#include "resolver/do53.h"
#include "resolver/dot/dot.h"
#include "resolver/dot/tls.h"
#include "resolver/log.h"
#include "resolver/recurse.h"
#include "resolver/stream.h"
#include "resolver/worker.h"
#include "threatdb/tdb.h"

#define EXPIRE_TICK_MS	100	/* resolution of query-timeout */
#define TDB_RETRY_S	1	/* a missing threatdb is looked for this often */
#define DRAIN_TICK_MS	20

static long
ms_since(const struct timespec *t, const struct timespec *now)
{
	return (now->tv_sec - t->tv_sec) * 1000 + (now->tv_nsec - t->tv_nsec) / 1000000;
}

/* Queries wait in arrival order and share one timeout, so only the head
 * of the list can be due: one timer for all of them. */
static void
expire_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timespec now;
	struct query *q;

	clock_gettime(CLOCK_MONOTONIC, &now);
	while ((q = TAILQ_FIRST(&w->waiting)) != NULL &&
	    ms_since(&q->start, &now) >= (long)w->cfg->query_timeout_ms)
		query_expire(q);
}

/* Open the threat database and this thread's reader.  \return 0, or
 * -ENOENT (none yet: not fatal), or another code with err set. */
static int
worker_open_tdb(struct worker *w, char *err, size_t errlen)
{
	char msg[TDB_ERRLEN];
	int r;

	if ((r = tdb_open(&w->tdb, w->cfg->threatdb, false, msg, sizeof(msg))) != 0) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	if ((r = tdb_reader_new(&w->tdb_reader, w->tdb)) != 0) {
		snprintf(err, errlen, "threatdb %s: no reader: %s",
		    w->cfg->threatdb, eg_strerror(r));
		tdb_close(w->tdb);
		w->tdb = NULL;
		return r;
	}
	return 0;
}

struct tdb_reader *
worker_tdb(struct worker *w)
{
	char err[TDB_ERRLEN + 64];
	time_t now;

	if (w->tdb_reader != NULL)
		return w->tdb_reader;
	if ((now = time(NULL)) < w->tdb_retry_at)
		return NULL;
	w->tdb_retry_at = now + TDB_RETRY_S;
	if (worker_open_tdb(w, err, sizeof(err)) != 0)
		return NULL;
	log_info("threatdb %s opened: threat checks are on", w->cfg->threatdb);
	return w->tdb_reader;
}

int
worker_new(struct worker **out, const struct config *cfg, char *err,
    size_t errlen)
{
	struct timeval tick = { 0, EXPIRE_TICK_MS * 1000 };
	struct worker *w;
	int r;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->cfg = cfg;
	TAILQ_INIT(&w->waiting);
	TAILQ_INIT(&w->orphans);
	if ((w->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "libevent: cannot create an event base");
		r = -ENOMEM;
		goto fail;
	}
	if ((r = recurse_new(&w->rec, w->base, cfg, err, errlen)) != 0)
		goto fail;
	if ((r = worker_open_tdb(w, err, errlen)) == -ENOENT) {
		log_warnx("%s; the policies run without threat data until a feed "
		    "is imported (threatctl -d %s import ...)", err, cfg->threatdb);
		w->tdb_retry_at = time(NULL) + TDB_RETRY_S;
	} else if (r != 0)
		goto fail;
	if ((r = stream_hub_new(&w->streams, w)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((r = do53_new(&w->do53, w, cfg, err, errlen)) != 0)
		goto fail;
	if (cfg->tls.certificate &&
	    (r = tls_server_new(&w->tls, &cfg->tls, err, errlen)) != 0)
		goto fail;
	if ((r = dot_new(&w->dot, w, w->tls, cfg, err, errlen)) != 0)
		goto fail;
	if ((w->expire_ev = event_new(w->base, -1, EV_PERSIST, expire_tick, w)) == NULL ||
	    event_add(w->expire_ev, &tick) != 0) {
		snprintf(err, errlen, "libevent: cannot add a timer");
		r = -ENOMEM;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	worker_free(w);
	return r;
}

int
worker_reload_tls(struct worker *w, const struct config *cfg, char *err,
    size_t errlen)
{
	if (w->tls == NULL || cfg->tls.certificate == NULL) {
		snprintf(err, errlen, "server.tls: %s", w->tls ? "removed: "
		    "restart to serve without TLS" : "not configured at start: "
		    "restart to serve TLS");
		return -EINVAL;
	}
	return tls_server_reload(w->tls, &cfg->tls, err, errlen);
}

void
worker_run(struct worker *w)
{
	event_base_dispatch(w->base);
}

static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (TAILQ_EMPTY(&w->waiting) && stream_hub_idle(w->streams)) {
		event_base_loopexit(w->base, NULL);
	} else if (!w->drain_expired && ms_since(&w->drain_deadline, &now) >= 0) {
		/* Out of patience: answer what still waits (SERVFAIL), give
		 * TCP a moment to flush, then go. */
		w->drain_expired = true;
		log_warnx("answering %s queries still in flight with SERVFAIL",
		    TAILQ_EMPTY(&w->waiting) ? "no" : "the");
		while (!TAILQ_EMPTY(&w->waiting))
			query_expire(TAILQ_FIRST(&w->waiting));
		w->drain_deadline.tv_sec += 1;
	} else if (w->drain_expired && ms_since(&w->drain_deadline, &now) >= 0) {
		event_base_loopexit(w->base, NULL);
	}
}

void
worker_stop(struct worker *w, unsigned drain_ms)
{
	struct timeval tick = { 0, DRAIN_TICK_MS * 1000 };

	if (w->stopping)
		return;
	w->stopping = true;
	do53_stop(w->do53);
	dot_stop(w->dot);
	stream_hub_stop(w->streams);
	clock_gettime(CLOCK_MONOTONIC, &w->drain_deadline);
	w->drain_deadline.tv_sec += drain_ms / 1000;
	w->drain_deadline.tv_nsec += (long)(drain_ms % 1000) * 1000000;
	if (w->drain_deadline.tv_nsec >= 1000000000) {
		w->drain_deadline.tv_sec++;
		w->drain_deadline.tv_nsec -= 1000000000;
	}
	if ((w->drain_ev = event_new(w->base, -1, EV_PERSIST, drain_tick, w)) == NULL ||
	    event_add(w->drain_ev, &tick) != 0)
		event_base_loopexit(w->base, NULL);
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	/* connections first: they point into their listeners */
	stream_hub_free(w->streams);
	do53_free(w->do53);
	dot_free(w->dot);
	tls_server_free(w->tls);
	/* libunbound runs no callback once deleted: free what still waited
	 * for one. */
	recurse_free(w->rec);
	tdb_reader_free(w->tdb_reader);
	tdb_close(w->tdb);
	query_free_all(&w->waiting);
	query_free_all(&w->orphans);
	if (w->expire_ev)
		event_free(w->expire_ev);
	if (w->drain_ev)
		event_free(w->drain_ev);
	if (w->base)
		event_base_free(w->base);
	free(w);
}
