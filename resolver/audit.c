/* audit.c -- the query audit log: records from the workers, one writer thread
 *
 * Workers never wait for the log.  Each has a preallocated ring of fixed-
 * size records with one producer (the worker) and one consumer (the
 * writer): head and tail are atomics, no lock, no malloc per record.  A
 * full ring drops the record and counts it.  The writer wakes every
 * WRITER_TICK_MS (or sooner when a ring fills past half), formats what the
 * rings hold, writes a "records-lost" line for drops it has not reported,
 * and hands the lines to the sink: a file (O_APPEND, created 0640,
 * reopened on request), stdout, or a syslog collector (audit_syslog.c).
 */
#include "autoconf.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolver/audit.h"
#include "resolver/audit_impl.h"
#include "resolver/config.h"
#include "resolver/log.h"
#include "resolver/metrics.h"
#include "resolver/policy/tenant.h"
#include "resolver/query.h"
#include "resolver/worker.h"

#define WRITER_TICK_MS	20
#define MAX_RINGS	256
#define FILE_BUF	(64 * 1024)	/* lines gathered before one write() */
#define WARN_EVERY_S	60		/* sink errors: at most one warning a minute */
#define STOP_WAIT_S	10		/* at exit: time the writer gets to finish */

struct audit_ring {
	_Atomic uint64_t head;		/* next slot the worker fills */
	char pad1[64 - sizeof(uint64_t)];
	_Atomic uint64_t tail;		/* next slot the writer reads */
	_Atomic uint64_t lost;		/* dropped: ring full (worker writes) */
	char pad2[64 - 2 * sizeof(uint64_t)];
	struct audit *a;
	uint64_t size;
	struct audit_record *v;
};

struct audit {
	struct audit_cfg cfg;		/* copied; strings borrowed from config */
	struct audit_fmt fmt;
	struct audit_ring *rings[MAX_RINGS];
	size_t n_rings;
	int fd;				/* file or stdout; -1 for syslog/none */
	bool own_fd;
	struct audit_syslog *sl;
	char *buf;			/* FILE_BUF: lines waiting for write() */
	size_t buflen, buf_lines;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, reopen;		/* under mu */
	_Atomic uint64_t written;
	_Atomic uint64_t sink_lost;	/* dropped by the sink (write error, overflow) */
	uint64_t reported;		/* losses already stated in the log */
	time_t last_warn;
	char line[AUDIT_LINE_MAX];
};

/* ---- the worker's side ---- */

static uint8_t
transport_of(const struct query *q)
{
	switch (q->transport) {
	case TRANSPORT_TCP:
		return AUDIT_T_TCP;
	case TRANSPORT_DOT:
		return AUDIT_T_DOT;
	case TRANSPORT_UDP:
		return AUDIT_T_UDP;
	default:	/* the contract's fourth and last: DoH */
		return AUDIT_T_DOH;
	}
}

/* At most AUDIT_TEXT_MAX bytes of src (an array of srcmax bytes). */
static void
copy_text(char *dst, const char *src, size_t srcmax)
{
	size_t n = src ? strnlen(src, srcmax < AUDIT_TEXT_MAX ? srcmax :
	    AUDIT_TEXT_MAX) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void
fill_client(struct audit_record *r, const struct sockaddr_storage *ss)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (ss->ss_family == AF_INET) {
		r->family = AF_INET;
		memcpy(r->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;

		if (memcmp(a, mapped, 12) == 0) {	/* an IPv4 client after all */
			r->family = AF_INET;
			memcpy(r->addr, a + 12, 4);
		} else {
			r->family = AF_INET6;
			memcpy(r->addr, a, 16);
		}
	}
}

/* The record of one query, from what the pipeline left in it. */
static void
fill_record(struct audit_record *r, const struct query *q, const uint8_t *ans,
    size_t len)
{
	struct timespec now;
	int rc;
	long long us;

	clock_gettime(CLOCK_REALTIME, &r->ts);
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (long long)(now.tv_sec - q->start.tv_sec) * 1000000 +
	    (now.tv_nsec - q->start.tv_nsec) / 1000;
	r->latency_us = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	r->transport = transport_of(q);
	fill_client(r, &q->client);
	if (q->pq.qname) {	/* qname_len <= 255 = sizeof(r->qname) */
		r->qname_len = q->pq.qname_len;
		memcpy(r->qname, q->pq.qname, q->pq.qname_len);
		r->qtype = q->pq.qtype;
	}
	rc = audit_answer_rcode(ans, len);
	r->rcode = rc < 0 ? 2 : (uint16_t)rc;
	copy_text(r->tenant, q->tenant ? q->tenant->name : NULL, AUDIT_TEXT_MAX);
	r->upstream_failed = q->upstream == QUERY_UP_FAILED;
	if (q->upstream == QUERY_UP_CACHE || q->upstream == QUERY_UP_NETWORK) {
		r->cache = q->upstream == QUERY_UP_CACHE ? AUDIT_CACHE_HIT :
		    AUDIT_CACHE_MISS;
		r->dnssec = q->sec == RECURSE_SECURE ? AUDIT_SEC_SECURE :
		    q->sec == RECURSE_BOGUS ? AUDIT_SEC_BOGUS : AUDIT_SEC_INSECURE;
	}
	/* A query served at all has a tenant; the rest (no tenant, malformed,
	 * unsupported) was refused before any policy looked at it. */
	if (q->tenant == NULL) {
		r->action = AUDIT_REFUSE;
		return;
	}
	switch (q->verdict.action) {
	case POL_PASS:
		r->action = AUDIT_PASS;
		return;		/* no reason, category or feed for pass */
	case POL_LOG:
		r->action = AUDIT_LOG;
		break;
	case POL_REDIRECT:
		r->action = AUDIT_REDIRECT;
		break;
	case POL_BLOCK:
		r->action = AUDIT_BLOCK;
		break;
	}
	switch (q->verdict.reason) {
	case POL_REASON_QNAME: r->reason = AUDIT_R_QNAME; break;
	case POL_REASON_CNAME: r->reason = AUDIT_R_CNAME; break;
	case POL_REASON_IP: r->reason = AUDIT_R_IP; break;
	case POL_REASON_GEO: r->reason = AUDIT_R_GEO; break;
	case POL_REASON_INTERNAL: r->reason = AUDIT_R_INTERNAL; break;
	case POL_REASON_CANARY: r->reason = AUDIT_R_CANARY; break;
	default: r->reason = AUDIT_R_NONE; break;
	}
	copy_text(r->category, q->verdict.category, sizeof(q->verdict.category));
	copy_text(r->feed, q->verdict.feed, sizeof(q->verdict.feed));
}

void
audit_query(const struct query *q, const uint8_t *ans, size_t len)
{
	struct audit_ring *ring = q->w->audit;
	struct audit_record *r, tmp;
	uint64_t h, t;

	if (ans == NULL)
		return;		/* nothing was answered: nothing happened */
	if (ring == NULL) {
		if (q->w->metrics) {
			memset(&tmp, 0, sizeof(tmp));
			fill_record(&tmp, q, ans, len);
			metrics_count(q->w->metrics, &tmp);
		}
		return;
	}
	h = atomic_load_explicit(&ring->head, memory_order_relaxed);
	t = atomic_load_explicit(&ring->tail, memory_order_acquire);
	/* Fill the slot in place when there is one; tmp otherwise, so that
	 * metrics see the query even when the log cannot take it. */
	r = h - t < ring->size ? &ring->v[h % ring->size] : &tmp;
	memset(r, 0, offsetof(struct audit_record, qname));
	r->tenant[0] = r->category[0] = r->feed[0] = '\0';
	fill_record(r, q, ans, len);
	if (q->w->metrics)
		metrics_count(q->w->metrics, r);
	if (!audit_wanted(ring->a->cfg.mode, r))
		return;
	if (r == &tmp) {
		atomic_store_explicit(&ring->lost,
		    atomic_load_explicit(&ring->lost, memory_order_relaxed) + 1,
		    memory_order_relaxed);
		return;
	}
	atomic_store_explicit(&ring->head, h + 1, memory_order_release);
	if (h + 1 - t == ring->size / 2)
		pthread_cond_signal(&ring->a->cv);	/* filling up: wake the writer */
}

/* ---- the writer's side ---- */

/* At most one warning a minute about the sink, so a full disk does not
 * flood the daemon's own log. */
void
audit_warn_sink(struct audit *a, const char *what, int err)
{
	time_t now = time(NULL);

	if (now - a->last_warn < WARN_EVERY_S)
		return;
	a->last_warn = now;
	log_warnx("query log: %s: %s", what, strerror(err));
}

void
audit_count_lost(struct audit *a, uint64_t n)
{
	atomic_fetch_add_explicit(&a->sink_lost, n, memory_order_relaxed);
}

void
audit_count_written(struct audit *a, uint64_t n)
{
	atomic_fetch_add_explicit(&a->written, n, memory_order_relaxed);
}

static int
open_file(const char *path, int *out)
{
	int fd, flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;

	/* created 0640 whatever the umask; an existing file keeps its mode */
	if ((fd = open(path, flags | O_CREAT | O_EXCL, 0640)) >= 0) {
		if (fchmod(fd, 0640) != 0) {
			close(fd);
			return -errno;
		}
	} else if (errno != EEXIST || (fd = open(path, flags)) < 0)
		return -errno;
	*out = fd;
	return 0;
}

static void
file_flush(struct audit *a)
{
	size_t off = 0;
	ssize_t n;

	while (off < a->buflen) {
		int old;

		/* the only place audit_free() may cancel the writer */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		n = write(a->fd, a->buf + off, a->buflen - off);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			audit_warn_sink(a, "write", errno);
			audit_count_lost(a, a->buf_lines);
			a->buflen = a->buf_lines = 0;
			return;
		}
		off += (size_t)n;
	}
	audit_count_written(a, a->buf_lines);
	a->buflen = a->buf_lines = 0;
}

/* One formatted line to the sink.  \return false when the sink had no
 * room (a record is then counted lost). */
static bool
emit(struct audit *a, const char *line, size_t len, const struct timespec *ts,
    bool is_loss)
{
	if (a->sl)
		return audit_syslog_add(a->sl, line, len, ts, is_loss);
	if (a->buflen + len > FILE_BUF)
		file_flush(a);
	memcpy(a->buf + a->buflen, line, len);
	a->buflen += len;
	a->buf_lines += !is_loss;
	return true;
}

static uint64_t
total_lost(const struct audit *a)
{
	uint64_t n = atomic_load_explicit(&a->sink_lost, memory_order_relaxed);

	for (size_t i = 0; i < a->n_rings; i++)
		n += atomic_load_explicit(&a->rings[i]->lost, memory_order_relaxed);
	return n;
}

/* State losses not yet stated, as soon as the sink takes the line (a
 * collector that is away may have no room for it yet: then later, with
 * the count grown). */
static void
report_loss(struct audit *a)
{
	uint64_t lost = total_lost(a);
	struct timespec ts;
	size_t n;

	if (lost == a->reported)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	if ((n = audit_format_loss(&ts, lost - a->reported, a->line,
	    sizeof(a->line))) > 0 && emit(a, a->line, n, &ts, true))
		a->reported = lost;
}

/* Everything the rings hold now. */
static bool
drain(struct audit *a)
{
	bool any = false;

	for (size_t i = 0; i < a->n_rings; i++) {
		struct audit_ring *r = a->rings[i];
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

		for (; t != h; t++) {
			const struct audit_record *rec = &r->v[t % r->size];
			size_t n = audit_format(rec, &a->fmt, a->line, sizeof(a->line));

			if (n > 0)
				emit(a, a->line, n, &rec->ts, false);
			else
				audit_count_lost(a, 1);
			atomic_store_explicit(&r->tail, t + 1, memory_order_release);
			any = true;
		}
	}
	return any;
}

static void
reopen_file(struct audit *a)
{
	int fd, r;

	if (a->cfg.sink != AUDIT_SINK_FILE)
		return;
	if (a->buflen)
		file_flush(a);
	if ((r = open_file(a->cfg.path, &fd)) != 0) {
		log_warnx("query log: cannot reopen %s: %s; writing on to the old "
		    "file", a->cfg.path, strerror(-r));
		return;
	}
	close(a->fd);
	a->fd = fd;
	log_info("query log: reopened %s", a->cfg.path);
}

static void *
writer_main(void *arg)
{
	struct audit *a = arg;
	bool stop, reopen;
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	for (;;) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WRITER_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&a->mu);
		if (!a->stop && !a->reopen)
			pthread_cond_timedwait(&a->cv, &a->mu, &until);
		stop = a->stop;
		reopen = a->reopen;
		a->reopen = false;
		pthread_mutex_unlock(&a->mu);

		if (reopen)
			reopen_file(a);
		report_loss(a);
		drain(a);
		report_loss(a);
		if (a->sl)
			audit_syslog_pump(a->sl, stop);
		else if (a->buflen)
			file_flush(a);
		if (stop)
			break;
	}
	return NULL;
}

/* ---- life cycle ---- */

int
audit_new(struct audit **out, const struct config *cfg, char *err, size_t errlen)
{
	struct audit *a;
	int r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->cfg = cfg->log;
	a->fmt.client = cfg->log.client;
	a->fmt.key = cfg->log.key;
	a->fmt.keylen = cfg->log.keylen;
	a->fd = -1;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (a->cfg.mode == AUDIT_MODE_NONE)
		a->cfg.sink = AUDIT_SINK_NONE;
	switch (a->cfg.sink) {
	case AUDIT_SINK_FILE:
		if ((r = open_file(a->cfg.path, &a->fd)) != 0) {
			snprintf(err, errlen, "log.queries: cannot open %s: %s",
			    a->cfg.path, strerror(-r));
			goto fail;
		}
		a->own_fd = true;
		break;
	case AUDIT_SINK_STDOUT:
		a->fd = STDOUT_FILENO;
		break;
	case AUDIT_SINK_SYSLOG:
		if ((r = audit_syslog_new(&a->sl, a, &a->cfg, err, errlen)) != 0)
			goto fail;
		break;
	case AUDIT_SINK_NONE:
		break;
	}
	if (a->cfg.sink != AUDIT_SINK_SYSLOG && (a->buf = malloc(FILE_BUF)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	*out = a;
	return 0;
fail:
	audit_free(a);
	return r;
}

int
audit_ring_new(struct audit *a, struct audit_ring **out)
{
	struct audit_ring *r;

	if (a->cfg.sink == AUDIT_SINK_NONE) {
		*out = NULL;	/* nothing to write: audit_query() only counts */
		return 0;
	}
	if (a->n_rings == MAX_RINGS)
		return -E2BIG;
	if (posix_memalign((void **)&r, 64, sizeof(*r)) != 0)	/* own cache lines */
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->a = a;
	r->size = a->cfg.buffer;
	if ((r->v = calloc(r->size, sizeof(*r->v))) == NULL) {
		free(r);
		return -ENOMEM;
	}
	a->rings[a->n_rings++] = r;
	*out = r;
	return 0;
}

int
audit_start(struct audit *a)
{
	int r;

	if (a->cfg.sink == AUDIT_SINK_NONE)
		return 0;
	if ((r = pthread_create(&a->thread, NULL, writer_main, a)) != 0)
		return -r;
	a->running = true;
	return 0;
}

void
audit_reopen(struct audit *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->reopen = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

uint64_t
audit_written(const struct audit *a)
{
	return a ? atomic_load_explicit(&a->written, memory_order_relaxed) : 0;
}

uint64_t
audit_lost(const struct audit *a)
{
	return a ? total_lost(a) : 0;
}

void
audit_free(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->running) {
		struct timespec until;

		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		/* A sink that stopped reading (a full pipe) must not keep the
		 * daemon from exiting: write() is a cancellation point. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STOP_WAIT_S;
		if (pthread_timedjoin_np(a->thread, NULL, &until) != 0) {
			log_warnx("query log: the sink does not take records; %llu "
			    "written, giving up on the rest",
			    (unsigned long long)audit_written(a));
			pthread_cancel(a->thread);
			pthread_join(a->thread, NULL);
		}
	}
	audit_syslog_free(a->sl);
	if (a->own_fd)
		close(a->fd);
	for (size_t i = 0; i < a->n_rings; i++) {
		free(a->rings[i]->v);
		free(a->rings[i]);
	}
	free(a->buf);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}
