/* worker.c -- one event loop: sockets, libunbound, query timeouts, draining */
#include "autoconf.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "resolver/cache.h"
#include "resolver/config.h"
#include "resolver/do53.h"
#include "resolver/doh/doh.h"
#include "resolver/dot/dot.h"
#include "resolver/dot/tls.h"
#include "resolver/log.h"
#include "resolver/mailbox.h"
#include "resolver/recurse.h"
#include "resolver/stream.h"
#include "resolver/worker.h"
#include "threatdb/tdb.h"

#define EXPIRE_TICK_MS	100	/* resolution of query-timeout */
#define TDB_RETRY_S	1	/* a missing threatdb is looked for this often */
#define DRAIN_TICK_MS	20

/* A config replaced while queries still used it. */
struct worker_old_cfg {
	const struct config *cfg;	/* a reference */
	unsigned queries;		/* in flight with it */
	struct worker_old_cfg *next;
};

/* A libunbound context replaced (reload, flush) while resolves were out. */
struct worker_old_rec {
	struct recurse *rec;
	struct worker_old_rec *next;
};

/* Free the replaced contexts whose last resolve has returned.  Runs from
 * a timer, never from a libunbound callback (style rule 11). */
static void
reap_old_recs(struct worker *w)
{
	struct worker_old_rec **p = &w->old_recs, *o;

	while ((o = *p) != NULL) {
		if (recurse_outstanding(o->rec) == 0) {
			*p = o->next;
			recurse_free(o->rec);
			free(o);
		} else
			p = &o->next;
	}
}

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
	if (w->old_recs)
		reap_old_recs(w);
}

/* One threat-database handle for the whole process.  LMDB keeps its
 * locks per process: the same environment opened twice in one process
 * breaks them (readers of one handle then see pages the other's view
 * lets a writer reuse), so the workers share one handle, opened by the
 * first that finds the database, and each has a reader of its own.  The
 * path cannot change without a restart (daemon.c refuses it on reload). */
static struct {
	pthread_mutex_t lock;
	struct tdb *db;
	unsigned refs;
} tdb_shared = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

static int
tdb_shared_get(const char *path, struct tdb **out, char *err, size_t errlen)
{
	int r = 0;

	pthread_mutex_lock(&tdb_shared.lock);
	if (tdb_shared.db == NULL)
		r = tdb_open(&tdb_shared.db, path, false, err, errlen);
	if (r == 0) {
		tdb_shared.refs++;
		*out = tdb_shared.db;
	}
	pthread_mutex_unlock(&tdb_shared.lock);
	return r;
}

static void
tdb_shared_put(struct tdb *db)
{
	if (db == NULL)
		return;
	pthread_mutex_lock(&tdb_shared.lock);
	if (--tdb_shared.refs == 0) {
		tdb_close(tdb_shared.db);
		tdb_shared.db = NULL;
	}
	pthread_mutex_unlock(&tdb_shared.lock);
}

/* Open (or share) the threat database and this thread's reader.
 * \return 0, or -ENOENT (none yet: not fatal), or another code with err
 * set. */
static int
worker_open_tdb(struct worker *w, char *err, size_t errlen)
{
	char msg[TDB_ERRLEN];
	int r;

	if ((r = tdb_shared_get(w->cfg->threatdb, &w->tdb, msg,
	    sizeof(msg))) != 0) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	if ((r = tdb_reader_new(&w->tdb_reader, w->tdb)) != 0) {
		snprintf(err, errlen, "threatdb %s: no reader: %s",
		    w->cfg->threatdb, eg_strerror(r));
		tdb_shared_put(w->tdb);
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

/* This worker's share of resolution.answer-cache-size (cache.h). */
static int
worker_cache_new(struct worker *w, const struct config *cfg, char *err,
    size_t errlen)
{
	uint64_t share = cfg->answer_cache_size / (cfg->workers ? cfg->workers : 1);
	int r;

	if (cfg->answer_cache_size && share < CACHE_MIN_BYTES)
		share = CACHE_MIN_BYTES;
	if (share > SIZE_MAX)
		share = SIZE_MAX;
	if ((r = cache_new(&w->cache, (size_t)share)) != 0)
		snprintf(err, errlen, "answer cache: %s", eg_strerror(r));
	return r;
}

/* The worker's event loop.  With epoll's changelist, an event removed
 * and added again before the loop waits costs no epoll_ctl(): stream
 * connections turn their write event on for each batch of answers and
 * off when it is out, which under load is several calls per query.
 * (The changelist misbehaves with dup()ed descriptors; we have none.) */
static struct event_base *
worker_base_new(void)
{
	struct event_config *ec;
	struct event_base *base;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	(void)event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

int
worker_new(struct worker **out, const struct config *cfg,
    struct tls_server *tls, char *err, size_t errlen)
{
	struct timeval tick = { 0, EXPIRE_TICK_MS * 1000 };
	struct worker *w;
	int r;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->cfg = config_ref(cfg);
	TAILQ_INIT(&w->waiting);
	tls_linger_init(&w->lingering);
	TAILQ_INIT(&w->orphans);
	TAILQ_INIT(&w->qpool);
	if ((r = worker_cache_new(w, cfg, err, errlen)) != 0)
		goto fail;
	if ((w->base = worker_base_new()) == NULL) {
		snprintf(err, errlen, "libevent: cannot create an event base");
		r = -ENOMEM;
		goto fail;
	}
	if ((r = mailbox_new(&w->mail, w->base)) != 0) {
		snprintf(err, errlen, "worker mailbox: %s", eg_strerror(r));
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
	w->tls = tls;
	if ((r = dot_new(&w->dot, w, w->tls, cfg, err, errlen)) != 0)
		goto fail;
	if ((r = doh_new(&w->doh, w, w->tls, cfg, err, errlen)) != 0)
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

static void *
worker_thread(void *arg)
{
	worker_run(arg);
	return NULL;
}

int
worker_start(struct worker *w)
{
	sigset_t all, old;
	int r;

	/* signals are the main thread's (its event loop handles them) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->thread, NULL, worker_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	w->started = true;
	return 0;
}

void
worker_join(struct worker *w)
{
	if (w->started) {
		pthread_join(w->thread, NULL);
		w->started = false;
	}
}

struct post {
	struct worker *w;
	worker_job_fn *fn;
	void *arg;
};

static void
run_post(void *arg)
{
	struct post *p = arg;

	p->fn(p->w, p->arg);
	free(p);
}

int
worker_post(struct worker *w, worker_job_fn *fn, void *arg)
{
	struct post *p;
	int r;

	if ((p = malloc(sizeof(*p))) == NULL)
		return -ENOMEM;
	*p = (struct post){ w, fn, arg };
	if ((r = mailbox_post(w->mail, run_post, p)) != 0)
		free(p);
	return r;
}

/* Drop what the answer cache holds (of name and the names below it, when
 * given: wire form); a NULL cache (answer-cache-size 0) has nothing. */
static int
worker_flush_answers(struct worker *w, const uint8_t *name)
{
	(void)cache_flush(w->cache, name);
	return 0;
}

/* Replace the libunbound context; the old one stays until its resolves
 * have returned. */
static int
renew_recursion(struct worker *w, const struct config *cfg, char *err,
    size_t errlen)
{
	struct worker_old_rec *o;
	struct recurse *rec;
	int r;

	if ((o = malloc(sizeof(*o))) == NULL)
		return -ENOMEM;
	if ((r = recurse_new(&rec, w->base, cfg, err, errlen)) != 0) {
		free(o);
		return r;
	}
	o->rec = w->rec;
	o->next = w->old_recs;
	w->old_recs = o;
	w->rec = rec;
	reap_old_recs(w);
	return 0;
}

int
worker_set_config(struct worker *w, const struct config *cfg,
    bool new_recursion, char *err, size_t errlen)
{
	struct worker_old_cfg *o;
	struct query *q;
	int r;

	if (cfg == w->cfg)
		return 0;
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (new_recursion && (r = renew_recursion(w, cfg, err, errlen)) != 0) {
		free(o);
		return r;
	}
	/* every query alive now holds the old config (or an older one) */
	o->cfg = w->cfg;
	TAILQ_FOREACH(q, &w->waiting, wentry)
		o->queries += q->cfg == o->cfg;
	TAILQ_FOREACH(q, &w->orphans, wentry)
		o->queries += q->cfg == o->cfg;
	w->cfg = config_ref(cfg);
	if (o->queries == 0) {
		config_unref(o->cfg);
		free(o);
	} else {
		o->next = w->old_cfgs;
		w->old_cfgs = o;
	}
	/* the answer cache holds what the old policies decided */
	return worker_flush_answers(w, NULL);
}

void
worker_cfg_release(struct worker *w, const struct config *cfg)
{
	struct worker_old_cfg **p, *o;

	for (p = &w->old_cfgs; (o = *p) != NULL; p = &o->next) {
		if (o->cfg != cfg)
			continue;
		if (--o->queries == 0) {
			*p = o->next;
			config_unref(o->cfg);
			free(o);
		}
		return;
	}
	if (EG_FAILS(!"a query's config is known to its worker"))
		return;
}

int
worker_flush(struct worker *w, const uint8_t *name, char *err, size_t errlen)
{
	int r;

	if ((r = renew_recursion(w, w->cfg, err, errlen)) != 0)
		return r;
	return worker_flush_answers(w, name);
}

static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (TAILQ_EMPTY(&w->waiting) && stream_hub_idle(w->streams) &&
	    doh_idle(w->doh) && tls_linger_idle(&w->lingering)) {
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
	doh_stop(w->doh);
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
	doh_free(w->doh);	/* its connections' TLS sessions first */
	tls_linger_clear(&w->lingering);	/* what those closes left */
	/* libunbound runs no callback once deleted: free what still waited
	 * for one. */
	recurse_free(w->rec);
	tdb_reader_free(w->tdb_reader);
	tdb_shared_put(w->tdb);
	query_free_all(&w->waiting);
	query_free_all(&w->orphans);
	query_pool_free(w);
	cache_free(w->cache);
	if (w->expire_ev)
		event_free(w->expire_ev);
	if (w->drain_ev)
		event_free(w->drain_ev);
	while (w->old_recs) {
		struct worker_old_rec *o = w->old_recs;

		w->old_recs = o->next;
		recurse_free(o->rec);
		free(o);
	}
	while (w->old_cfgs) {
		struct worker_old_cfg *o = w->old_cfgs;

		w->old_cfgs = o->next;
		config_unref(o->cfg);
		free(o);
	}
	mailbox_free(w->mail);
	if (w->base)
		event_base_free(w->base);
	config_unref(w->cfg);
	free(w);
}
