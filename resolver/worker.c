/* worker.c -- one event loop: sockets, libunbound, query timeouts, draining */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "resolver/config.h"
#include "resolver/do53.h"
#include "resolver/log.h"
#include "resolver/recurse.h"
#include "resolver/worker.h"

#define EXPIRE_TICK_MS	100	/* resolution of query-timeout */
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
	if ((r = do53_new(&w->do53, w, cfg, err, errlen)) != 0)
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
	if (TAILQ_EMPTY(&w->waiting) && do53_idle(w->do53)) {
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
	do53_free(w->do53);
	/* libunbound runs no callback once deleted: free what still waited
	 * for one. */
	recurse_free(w->rec);
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
