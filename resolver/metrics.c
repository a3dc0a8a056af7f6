/* metrics.c -- Prometheus text endpoint, /healthz and /readyz, with libevent's evhttp
 *
 * Workers count into their own struct metrics_worker (relaxed atomics,
 * one writer each); the HTTP thread sums them when scraped.  The label
 * sets of egressd_queries_total live in a fixed open-addressing table per
 * worker: the worker fills a slot's labels and then publishes it (release
 * store of `used`), so the reader never sees half a slot.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "resolver/audit.h"
#include "resolver/config.h"
#include "resolver/log.h"
#include "resolver/metrics.h"
#include "resolver/policy/node.h"
#include "resolver/recurse.h"
#include "resolver/worker.h"
#include "threatdb/tdb.h"

#define SLOTS		(METRICS_MAX_SERIES * 2)	/* half full at most */
#define OTHER_ROWS	32	/* kept for tenant/category "other": 4 transports x 5 actions fit */
#define HTTP_TIMEOUT_S	10
#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_BODY	1024
#define PROBE_RETRY_S	5	/* recursion asked again this often */
#define PROBE_TICK_S	1
#define OTHER		"other"

static const double buckets[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS	(sizeof(buckets) / sizeof(*buckets))

struct series {
	_Atomic uint32_t used;		/* published: the labels below are set */
	uint8_t transport, action;
	char tenant[AUDIT_TEXT_MAX + 1];
	char category[AUDIT_TEXT_MAX + 1];
	_Atomic uint64_t count;
};

struct metrics_probe {
	struct metrics_worker *mw;
	struct worker *w;
	struct event *ev;		/* PROBE_TICK_S while not ready */
	struct recurse_req req;
	bool busy;			/* a resolve is outstanding */
	time_t next_resolve;
};


struct metrics_worker {
	struct metrics *m;
	struct series slot[SLOTS];
	unsigned n_series;		/* worker's own bookkeeping */
	char cats[METRICS_MAX_CATEGORIES][AUDIT_TEXT_MAX + 1];
	unsigned n_cats;
	_Atomic uint64_t bucket[N_BUCKETS + 1];	/* last: above the largest */
	_Atomic uint64_t lat_sum_us, lat_count;
	_Atomic uint64_t cache[2];		/* hit, miss */
	_Atomic uint64_t dnssec[3];		/* secure, insecure, bogus */
	_Atomic uint64_t upstream_fail;
	_Atomic uint64_t doh_unknown_token;	/* DoH requests with a token no tenant has */
	struct metrics_probe *probe;
};

struct metrics {
	struct metrics_worker *w[METRICS_MAX_WORKERS];
	_Atomic unsigned n_w;
	struct audit *audit;
	bool watching;			/* a probe looks for the threat database */
	_Atomic(struct tdb *) tdb;	/* published by the probe once open */
	char *db_path;
	const struct node_pools *nodes;	/* the config's; NULL: none */
	bool enabled;
	int fd;				/* the bound listener, until accepted */
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	int stop_pipe[2];
	pthread_t thread;
	bool running;
	_Atomic bool recursion_ok;
	char listen_text[128];
};

/* The threat database once the watched worker has it open (it stays open
 * until the worker is freed, after us), else NULL.  The probe publishes
 * it from the worker's thread, so no field of the worker is read here. */
static struct tdb *
open_tdb(struct metrics *m)
{
	return atomic_load_explicit(&m->tdb, memory_order_acquire);
}

/* ---- counting (worker threads) ---- */

static inline void
inc(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static uint32_t
hash_labels(uint8_t t, uint8_t a, const char *tenant, const char *cat)
{
	uint32_t h = 2166136261u;

	h = (h ^ t) * 16777619u;
	h = (h ^ a) * 16777619u;
	for (; *tenant; tenant++)
		h = (h ^ (uint8_t)*tenant) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (; *cat; cat++)
		h = (h ^ (uint8_t)*cat) * 16777619u;
	return h;
}

/* A category as a label: one of the first METRICS_MAX_CATEGORIES seen,
 * else "other". */
static const char *
category_label(struct metrics_worker *mw, const char *cat)
{
	if (*cat == '\0')
		return cat;
	for (unsigned i = 0; i < mw->n_cats; i++)
		if (strcmp(mw->cats[i], cat) == 0)
			return cat;
	if (mw->n_cats == METRICS_MAX_CATEGORIES)
		return OTHER;
	strcpy(mw->cats[mw->n_cats++], cat);
	return cat;
}

static void
count_series(struct metrics_worker *mw, uint8_t t, uint8_t a, const char *tenant,
    const char *cat)
{
	uint32_t i;
	int tries = 0;

again:
	for (i = hash_labels(t, a, tenant, cat) % SLOTS;;
	    i = (i + 1) % SLOTS) {
		struct series *s = &mw->slot[i];

		if (!atomic_load_explicit(&s->used, memory_order_relaxed)) {
			if (mw->n_series >= METRICS_MAX_SERIES - OTHER_ROWS &&
			    tries == 0) {
				/* full: fold into tenant/category "other" */
				tenant = OTHER, cat = OTHER, tries = 1;
				goto again;
			}
			s->transport = t;
			s->action = a;
			strcpy(s->tenant, tenant);
			strcpy(s->category, cat);
			atomic_store_explicit(&s->count, 1, memory_order_relaxed);
			atomic_store_explicit(&s->used, 1, memory_order_release);
			mw->n_series++;
			return;
		}
		if (s->transport == t && s->action == a &&
		    strcmp(s->tenant, tenant) == 0 && strcmp(s->category, cat) == 0) {
			inc(&s->count, 1);
			return;
		}
	}
}

void
metrics_doh_unknown_token(struct metrics_worker *mw)
{
	if (mw != NULL)
		inc(&mw->doh_unknown_token, 1);
}

void
metrics_count(struct metrics_worker *mw, const struct audit_record *r)
{
	double sec = r->latency_us / 1e6;
	size_t b;

	count_series(mw, r->transport, r->action, r->tenant,
	    category_label(mw, r->category));
	for (b = 0; b < N_BUCKETS && sec > buckets[b]; b++)
		;
	inc(&mw->bucket[b], 1);
	inc(&mw->lat_sum_us, r->latency_us);
	inc(&mw->lat_count, 1);
	if (r->cache != AUDIT_CACHE_NONE)
		inc(&mw->cache[r->cache == AUDIT_CACHE_HIT ? 0 : 1], 1);
	if (r->dnssec != AUDIT_SEC_NONE)
		inc(&mw->dnssec[r->dnssec - AUDIT_SEC_SECURE], 1);
	if (r->upstream_failed)
		inc(&mw->upstream_fail, 1);
	if (r->cache != AUDIT_CACHE_NONE &&
	    !atomic_load_explicit(&mw->m->recursion_ok, memory_order_relaxed))
		atomic_store_explicit(&mw->m->recursion_ok, true, memory_order_relaxed);
}

/* ---- the start-up probe (worker thread) ---- */

static void
probe_done(void *arg, int err, const uint8_t *pkt, size_t len,
    enum recurse_sec sec, const char *why_bogus)
{
	struct metrics_probe *p = arg;

	p->busy = false;
	if (err == 0 && len >= 12 && (pkt[3] & 0x0f) == 0) {
		atomic_store_explicit(&p->mw->m->recursion_ok, true, memory_order_relaxed);
		log_info("readiness: recursion works");
		return;
	}
	log_warnx("readiness: recursion failed (%s); trying again in %d s",
	    err ? eg_strerror(err) : "upstream answered with an error", PROBE_RETRY_S);
}

/* Until ready: poke the threat database (the worker opens it when it
 * appears) and ask recursion now and then.  Runs in the worker's loop. */
static void
probe_tick(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_probe *p = arg;
	struct metrics *m = p->mw->m;
	struct timeval tick = { PROBE_TICK_S, 0 };
	time_t now = time(NULL);
	bool rec_ok = atomic_load_explicit(&m->recursion_ok, memory_order_relaxed);

	if (open_tdb(m) == NULL && worker_tdb(p->w) != NULL)
		atomic_store_explicit(&m->tdb, p->w->tdb, memory_order_release);
	if (!rec_ok && !p->busy && now >= p->next_resolve) {
		p->busy = true;
		p->next_resolve = now + PROBE_RETRY_S;
		/* the answer may come inside this call (cached) */
		if (recurse_resolve(p->w->rec, ".", 2 /* NS */, 1 /* IN */,
		    &p->req, probe_done, p) != 0)
			p->busy = false;
	}
	if (!atomic_load_explicit(&m->recursion_ok, memory_order_relaxed) ||
	    open_tdb(m) == NULL)
		event_add(p->ev, &tick);
}

int
metrics_probe_start(struct metrics_worker *mw, struct worker *w)
{
	struct timeval now = { 0, 0 };
	struct metrics_probe *p;

	if (mw->probe)
		return -EBUSY;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->mw = mw;
	p->w = w;
	if ((p->ev = evtimer_new(w->base, probe_tick, p)) == NULL ||
	    event_add(p->ev, &now) != 0) {
		if (p->ev)
			event_free(p->ev);
		free(p);
		return -ENOMEM;
	}
	mw->probe = p;
	mw->m->watching = true;
	return 0;
}

void
metrics_probe_stop(struct metrics_worker *mw)
{
	/* The probe itself stays until metrics_free(): an outstanding resolve
	 * may still hold it until libunbound is deleted. */
	if (mw && mw->probe && mw->probe->ev) {
		event_free(mw->probe->ev);
		mw->probe->ev = NULL;
	}
}

/* ---- exposition (HTTP thread) ---- */

/* A label value: backslash, double quote and newline escaped. */
static void
add_label(struct evbuffer *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(b, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add_printf(b, "%s", "\\n");
		else
			evbuffer_add(b, s, 1);
	}
}

static void
head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct row {
	uint8_t transport, action;
	const char *tenant, *category;
	uint64_t count;
};

static int
row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c;

	if (a->transport != b->transport)
		return a->transport - b->transport;
	if ((c = strcmp(a->tenant, b->tenant)) != 0)
		return c;
	if (a->action != b->action)
		return a->action - b->action;
	return strcmp(a->category, b->category);
}

static void
render_queries(struct metrics *m, struct evbuffer *b, unsigned nw)
{
	static const char *const transports[] = { "udp", "tcp", "dot", "doh" };
	static const char *const actions[] = { "pass", "redirect", "block", "log",
		"refuse" };
	struct row *rows;
	size_t n = 0;

	head(b, "egressd_queries_total", "counter",
	    "Queries answered, by transport, tenant, action and category.");
	if ((rows = calloc((size_t)nw * METRICS_MAX_SERIES + 1, sizeof(*rows))) == NULL)
		return;
	for (unsigned i = 0; i < nw; i++)
		for (size_t j = 0; j < SLOTS; j++) {
			struct series *s = &m->w[i]->slot[j];

			if (!atomic_load_explicit(&s->used, memory_order_acquire) ||
			    n == (size_t)nw * METRICS_MAX_SERIES)
				continue;
			rows[n++] = (struct row){ s->transport, s->action, s->tenant,
			    s->category, atomic_load_explicit(&s->count,
			    memory_order_relaxed) };
		}
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && row_cmp(&rows[i], &rows[i + 1]) == 0) {
			rows[i + 1].count += rows[i].count;
			continue;
		}
		evbuffer_add_printf(b, "egressd_queries_total{transport=\"%s\",tenant=\"",
		    rows[i].transport < 4 ? transports[rows[i].transport] : "unknown");
		add_label(b, *rows[i].tenant ? rows[i].tenant : "none");
		evbuffer_add_printf(b, "\",action=\"%s\",category=\"",
		    rows[i].action < 5 ? actions[rows[i].action] : "unknown");
		add_label(b, *rows[i].category ? rows[i].category : "none");
		evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)rows[i].count);
	}
	free(rows);
}

static uint64_t
sum(struct metrics *m, unsigned nw, size_t off)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < nw; i++)
		t += atomic_load_explicit((_Atomic uint64_t *)((char *)m->w[i] + off),
		    memory_order_relaxed);
	return t;
}

#define SUM(field)	sum(m, nw, offsetof(struct metrics_worker, field))

static void
render_latency(struct metrics *m, struct evbuffer *b, unsigned nw)
{
	uint64_t cum = 0;

	head(b, "egressd_answer_latency_seconds", "histogram",
	    "Time from a query's arrival to its answer.");
	for (size_t i = 0; i <= N_BUCKETS; i++) {
		cum += sum(m, nw, offsetof(struct metrics_worker, bucket) +
		    i * sizeof(_Atomic uint64_t));
		if (i < N_BUCKETS)
			evbuffer_add_printf(b, "egressd_answer_latency_seconds_bucket"
			    "{le=\"%g\"} %llu\n", buckets[i], (unsigned long long)cum);
		else
			evbuffer_add_printf(b, "egressd_answer_latency_seconds_bucket"
			    "{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "egressd_answer_latency_seconds_sum %.6f\n"
	    "egressd_answer_latency_seconds_count %llu\n",
	    (double)SUM(lat_sum_us) / 1e6, (unsigned long long)cum);
}

struct feed_out {
	struct evbuffer *entries, *age;
	time_t now;
};

static int
feed_line(void *arg, const struct tdb_feed_info *f)
{
	struct feed_out *o = arg;

	evbuffer_add_printf(o->entries, "%s", "egressd_threatdb_feed_entries{feed=\"");
	add_label(o->entries, f->name);
	evbuffer_add_printf(o->entries, "\"} %llu\n", (unsigned long long)f->entries);
	evbuffer_add_printf(o->age, "%s", "egressd_threatdb_feed_age_seconds{feed=\"");
	add_label(o->age, f->name);
	evbuffer_add_printf(o->age, "\"} %lld\n", (long long)(o->now > f->imported_at ?
	    o->now - f->imported_at : 0));
	return 0;
}

static void
render_feeds(struct metrics *m, struct evbuffer *b, struct tdb *db)
{
	struct feed_out o = { evbuffer_new(), evbuffer_new(), time(NULL) };

	if (o.entries && o.age && tdb_feeds(db, feed_line, &o) == 0) {
		head(b, "egressd_threatdb_feed_entries", "gauge",
		    "Entries (names and prefixes) of each threat feed.");
		evbuffer_add_buffer(b, o.entries);
		head(b, "egressd_threatdb_feed_age_seconds", "gauge",
		    "Seconds since each threat feed was last imported.");
		evbuffer_add_buffer(b, o.age);
	}
	if (o.entries)
		evbuffer_free(o.entries);
	if (o.age)
		evbuffer_free(o.age);
}

static void
render(struct metrics *m, struct evbuffer *b)
{
	unsigned nw = atomic_load_explicit(&m->n_w, memory_order_acquire);

	head(b, "egressd_build_info", "gauge", "Version of this egressd.");
	evbuffer_add_printf(b, "egressd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	render_queries(m, b, nw);
	render_latency(m, b, nw);
	head(b, "egressd_cache_total", "counter",
	    "Recursed queries by whether libunbound answered from its cache.");
	evbuffer_add_printf(b, "egressd_cache_total{result=\"hit\"} %llu\n"
	    "egressd_cache_total{result=\"miss\"} %llu\n",
	    (unsigned long long)SUM(cache[0]), (unsigned long long)SUM(cache[1]));
	head(b, "egressd_upstream_failures_total", "counter",
	    "Recursions that ended without a usable answer (unreachable, timeout).");
	evbuffer_add_printf(b, "egressd_upstream_failures_total %llu\n",
	    (unsigned long long)SUM(upstream_fail));
	head(b, "egressd_doh_unknown_token_total", "counter",
	    "DoH requests whose path token names no tenant (answered 404).");
	evbuffer_add_printf(b, "egressd_doh_unknown_token_total %llu\n",
	    (unsigned long long)SUM(doh_unknown_token));
	head(b, "egressd_dnssec_total", "counter",
	    "DNSSEC verdicts on recursed answers.");
	evbuffer_add_printf(b, "egressd_dnssec_total{result=\"secure\"} %llu\n"
	    "egressd_dnssec_total{result=\"insecure\"} %llu\n"
	    "egressd_dnssec_total{result=\"bogus\"} %llu\n",
	    (unsigned long long)SUM(dnssec[0]), (unsigned long long)SUM(dnssec[1]),
	    (unsigned long long)SUM(dnssec[2]));
	head(b, "egressd_log_records_written_total", "counter",
	    "Query log records handed to the sink.");
	evbuffer_add_printf(b, "egressd_log_records_written_total %llu\n",
	    (unsigned long long)audit_written(m->audit));
	head(b, "egressd_log_records_lost_total", "counter",
	    "Query log records dropped (buffer full, sink failing).");
	evbuffer_add_printf(b, "egressd_log_records_lost_total %llu\n",
	    (unsigned long long)audit_lost(m->audit));
	if (m->nodes) {
		head(b, "egressd_security_node_up", "gauge",
		    "Whether a security node passed its last health check (1) or not (0).");
		for (size_t i = 0; i < node_count(m->nodes); i++) {
			evbuffer_add_printf(b, "%s", "egressd_security_node_up{node=\"");
			add_label(b, node_text(m->nodes, i));
			evbuffer_add_printf(b, "\"} %d\n", node_is_up(m->nodes, i) ? 1 : 0);
		}
	}
	if (open_tdb(m) != NULL)
		render_feeds(m, b, open_tdb(m));
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; charset=utf-8");
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, NULL);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool known;

	if (path == NULL)
		path = "";
	known = strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0 ||
	    strcmp(path, "/readyz") == 0;
	if (!known) {
		reply_text(req, HTTP_NOTFOUND, "Not Found", "not found");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed", "method not allowed");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		reply_text(req, HTTP_OK, "OK", "ok");
	} else if (strcmp(path, "/readyz") == 0) {
		char why[1200];

		if (m->watching && open_tdb(m) == NULL)
			snprintf(why, sizeof(why), "not ready: threat database %s "
			    "is not open (import a feed with threatctl)", m->db_path);
		else if (!atomic_load_explicit(&m->recursion_ok, memory_order_relaxed))
			snprintf(why, sizeof(why), "not ready: recursion has not "
			    "answered yet");
		else
			snprintf(why, sizeof(why), "ready");
		reply_text(req, strcmp(why, "ready") == 0 ? HTTP_OK : 503,
		    strcmp(why, "ready") == 0 ? "OK" : "Service Unavailable", why);
	} else {
		struct evbuffer *b = evhttp_request_get_output_buffer(req);

		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		render(m, b);
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
	}
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void *
http_main(void *arg)
{
	struct metrics *m = arg;

	event_base_dispatch(m->base);
	return NULL;
}

/* ---- life cycle ---- */

static int
bind_listener(struct metrics *m, const struct metrics_cfg *c, char *err,
    size_t errlen)
{
	int one = 1;

	if ((m->fd = socket(c->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(m->fd, (const struct sockaddr *)&c->ss, c->sslen) != 0 ||
	    listen(m->fd, 64) != 0) {
		int e = errno;

		snprintf(err, errlen, "metrics.listen: cannot listen on %s: %s",
		    c->text, strerror(e));
		return -e;
	}
	return 0;
}

int
metrics_new(struct metrics **out, const struct config *cfg, struct audit *a,
    char *err, size_t errlen)
{
	struct metrics *m;
	int r;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	m->audit = a;
	m->nodes = cfg->nodes;
	if ((m->db_path = strndup(cfg->threatdb ? cfg->threatdb : "", 1024)) == NULL) {
		free(m);
		return -ENOMEM;
	}
	m->fd = m->stop_pipe[0] = m->stop_pipe[1] = -1;
	if (!cfg->metrics.enabled) {
		*out = m;	/* counters only: audit_query() still counts */
		return 0;
	}
	m->enabled = true;
	snprintf(m->listen_text, sizeof(m->listen_text), "%s", cfg->metrics.text);
	if ((r = bind_listener(m, &cfg->metrics, err, errlen)) != 0)
		goto fail;
	r = -ENOMEM;
	if (pipe2(m->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    (m->base = event_base_new()) == NULL ||
	    (m->http = evhttp_new(m->base)) == NULL ||
	    (m->stop_ev = event_new(m->base, m->stop_pipe[0], EV_READ, on_stop,
	    m->base)) == NULL || event_add(m->stop_ev, NULL) != 0) {
		snprintf(err, errlen, "metrics: cannot set up the HTTP server");
		goto fail;
	}
	evhttp_set_timeout(m->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(m->http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, HTTP_MAX_BODY);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(m->http, handle, m);
	if (evhttp_accept_socket_with_handle(m->http, m->fd) == NULL) {
		snprintf(err, errlen, "metrics: evhttp refuses the listener");
		goto fail;
	}
	m->fd = -1;	/* evhttp owns it now */
	*out = m;
	return 0;
fail:
	metrics_free(m);
	return r;
}

int
metrics_worker_new(struct metrics *m, struct metrics_worker **out)
{
	struct metrics_worker *mw;
	unsigned n = atomic_load_explicit(&m->n_w, memory_order_relaxed);

	if (n == METRICS_MAX_WORKERS)
		return -E2BIG;
	if ((mw = calloc(1, sizeof(*mw))) == NULL)
		return -ENOMEM;
	mw->m = m;
	m->w[n] = mw;
	atomic_store_explicit(&m->n_w, n + 1, memory_order_release);
	*out = mw;
	return 0;
}

int
metrics_start(struct metrics *m)
{
	int r;

	if (!m->enabled)
		return 0;
	if ((r = pthread_create(&m->thread, NULL, http_main, m)) != 0)
		return -r;
	m->running = true;
	log_info("metrics on http://%s/metrics", m->listen_text);
	return 0;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->running) {
		if (write(m->stop_pipe[1], "x", 1) != 1)
			log_warn("metrics: cannot stop the HTTP thread");
		pthread_join(m->thread, NULL);
	}
	if (m->http)
		evhttp_free(m->http);
	if (m->stop_ev)
		event_free(m->stop_ev);
	if (m->base)
		event_base_free(m->base);
	for (int i = 0; i < 2; i++)
		if (m->stop_pipe[i] >= 0)
			close(m->stop_pipe[i]);
	if (m->fd >= 0)
		close(m->fd);
	for (unsigned i = 0; i < m->n_w; i++) {
		if (m->w[i]->probe) {
			metrics_probe_stop(m->w[i]);
			free(m->w[i]->probe);
		}
		free(m->w[i]);
	}
	free(m->db_path);
	free(m);
}
