/* stream.c -- DNS over a byte stream: RFC 7766 framing for Do53/TCP and DoT
 *
 * Length-framed messages, many per connection, answered in completion
 * order; an idle timeout (server.tcp-idle-timeout) and, for TLS, a
 * handshake timeout (server.tls-handshake-timeout) so that a client that
 * connects and says nothing goes away; caps on connections in total and
 * per client address (the least recently active idle connection makes
 * room) and on queries in flight per connection; reading pauses while a
 * client does not read its answers.  Answers to clients that sent the
 * EDNS TCP keepalive option carry ours (RFC 7828); on encrypted
 * transports answers to padded queries are padded (RFC 8467).
 *
 * The connection works on a bufferevent, so a plain socket and an
 * OpenSSL one look the same here.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "resolver/answer.h"
#include "resolver/config.h"
#include "resolver/dot/tls_bev.h"
#include "resolver/log.h"
#include "resolver/query.h"
#include "resolver/stream.h"
#include "resolver/worker.h"

#define STREAM_BACKLOG		256
#define STREAM_MAX_OUTPUT	(256 * 1024)	/* unread answers before we stop reading */
#define STREAM_MAX_BUCKETS	65536		/* per-client count table */
#define PAD_BLOCK		468		/* RFC 8467 4.1: responses */
#define MAX_PAUSED		64		/* listeners paused at once (CFG_MAX_LISTEN) */
#define PAUSE_MS		1000		/* out of descriptors: retry after */

struct stream_conn {
	struct stream_hub *h;
	struct bufferevent *bev;
	const struct stream_proto *proto;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct query_list queries;	/* in flight on this connection */
	unsigned n_queries;
	bool eof;		/* client closed its side, or we are stopping */
	bool established;	/* TLS handshake done (always for plain TCP) */
	bool failed;		/* TLS error: no close_notify (SSL_shutdown(3)) */
	const struct tenant *hint;	/* from identify(), for hint_cfg */
	const struct config *hint_cfg;
	uint64_t hint_gen;		/* its gen (an address can be reused) */
	uint64_t active;	/* hub's clock at the last activity */
	TAILQ_ENTRY(stream_conn) entry;	/* least recently active first */
	LIST_ENTRY(stream_conn) bentry;	/* same per-client bucket */
};

LIST_HEAD(conn_bucket, stream_conn);

struct stream_hub {
	struct worker *w;
	TAILQ_HEAD(, stream_conn) conns;
	unsigned n_conns;
	struct conn_bucket *buckets;
	unsigned n_buckets;	/* a power of two */
	uint64_t clock;		/* ticks on every activity: LRU order */
	bool stopping;
	struct evconnlistener *paused[MAX_PAUSED];	/* out of descriptors */
	unsigned n_paused;
	struct event *resume_ev;
	uint8_t scratch[QUERY_MAX_WIRE + 1];	/* answer with our options */
};

static void conn_close(struct stream_conn *c);
static void listeners_resume(struct stream_hub *h);

/* ---- addresses ---- */

static size_t
addr_bytes(const struct sockaddr *sa, const uint8_t **p)
{
	if (sa->sa_family == AF_INET) {
		*p = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		*p = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		return 16;
	}
	*p = NULL;
	return 0;
}

static bool
same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	const uint8_t *pa, *pb;
	size_t na = addr_bytes(a, &pa), nb = addr_bytes(b, &pb);

	return na == nb && na > 0 && memcmp(pa, pb, na) == 0;
}

static unsigned
addr_bucket(const struct stream_hub *h, const struct sockaddr *sa)
{
	const uint8_t *p;
	size_t n = addr_bytes(sa, &p);
	uint32_t x = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		x = (x ^ p[i]) * 16777619u;
	return x & (h->n_buckets - 1);
}

void
stream_addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    a, sizeof(a));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    a, sizeof(a));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	snprintf(out, outlen, "%s#%u", a, port);
}

int
stream_listen_socket(const char *file, const struct listen_cfg *l, char *err,
    size_t errlen)
{
	int fd, on = 1, fam = l->ss.ss_family;

	if ((fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
		goto fail;
	/* every worker binds the address (daemon.c checks it is ours) */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
		goto fail;
	if (fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&l->ss, l->sslen) != 0 ||
	    listen(fd, STREAM_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s:%d: server.listen: %s (%s): %s", file, l->line,
	    l->text, l->kind == LISTEN_DOT ? "dot" : l->kind == LISTEN_DOH ?
	    "doh" : "tcp", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- one connection ---- */

static void
conn_touch(struct stream_conn *c)
{
	c->active = ++c->h->clock;
	TAILQ_REMOVE(&c->h->conns, c, entry);
	TAILQ_INSERT_TAIL(&c->h->conns, c, entry);
}

static void
set_timeouts(struct stream_conn *c, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (c->proto->tls)
		tls_bev_set_timeouts(c->bev, &tv, &tv);
	else
		bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/* Read again if we had paused and the reasons are gone. */
static void
conn_resume(struct stream_conn *c)
{
	/* (only when paused: on a TLS filter, enabling reads at once) */
	if (c->established && !c->eof &&
	    !(bufferevent_get_enabled(c->bev) & EV_READ) &&
	    c->n_queries < c->h->w->cfg->tcp_max_pipelined &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) < STREAM_MAX_OUTPUT)
		bufferevent_enable(c->bev, EV_READ);
}

/* The tenant the connection's credentials name, for the config the
 * worker runs now. */
static const struct tenant *
conn_hint(struct stream_conn *c)
{
	const struct config *cfg = c->h->w->cfg;

	if (c->proto->identify == NULL)
		return NULL;
	if (c->hint_cfg != cfg || c->hint_gen != cfg->gen) {
		c->hint = c->proto->identify(c, cfg, c->proto->arg);
		c->hint_cfg = cfg;
		c->hint_gen = cfg->gen;
	}
	return c->hint;
}

static void
stream_send(struct query *q, const uint8_t *ans, size_t len)
{
	struct stream_conn *c = q->tctx;
	struct stream_hub *h = c->h;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	TAILQ_REMOVE(&c->queries, q, tentry);
	c->n_queries--;
	q->tctx = NULL;
	if (ans && q->pq.edns &&
	    (q->pq.keepalive || (c->proto->pad && q->pq.padding))) {
		unsigned ka = h->w->cfg->tcp_idle_ms / 100;
		size_t n = answer_stream_options(ans, len, h->scratch,
		    sizeof(h->scratch), q->pq.keepalive ? (int)(ka > 65535 ? 65535 : ka) : -1,
		    c->proto->pad && q->pq.padding ? PAD_BLOCK : 0);

		if (n) {
			ans = h->scratch;
			len = n;
		}
	}
	if (ans) {
		uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

		if (evbuffer_add(out, hdr, 2) != 0 || evbuffer_add(out, ans, len) != 0)
			log_debug("stream: cannot queue an answer");
	}
	conn_touch(c);
	if (evbuffer_get_length(out) >= STREAM_MAX_OUTPUT)
		bufferevent_disable(c->bev, EV_READ);
	else
		conn_resume(c);
	/* Nothing left to say on a closing connection: let the write
	 * callback close it once the output is flushed (never from here: we
	 * may be inside this connection's read callback). */
	if (c->eof && c->n_queries == 0)
		bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS |
		    BEV_TRIG_DEFER_CALLBACKS);
}

static const struct query_ops stream_ops = { .send = stream_send };

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct stream_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct worker *w = c->h->w;

	conn_touch(c);
	while (!c->eof && c->n_queries < w->cfg->tcp_max_pipelined) {
		size_t avail = evbuffer_get_length(in);
		uint8_t hdr[2];
		uint8_t *msg;
		size_t mlen;
		struct query *q;

		if (avail < 2 || evbuffer_copyout(in, hdr, 2) != 2)
			break;
		mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (mlen < 12) {	/* not even a header: the stream is garbage */
			conn_close(c);
			return;
		}
		if (avail < 2 + mlen)
			break;
		if ((msg = evbuffer_pullup(in, (ssize_t)(2 + mlen))) == NULL) {
			conn_close(c);
			return;
		}
		q = query_new(w, c->proto->transport, (struct sockaddr *)&c->peer,
		    c->peerlen, msg + 2, mlen);
		evbuffer_drain(in, 2 + mlen);
		if (q == NULL) {
			w->stats.dropped++;
			continue;
		}
		q->ops = &stream_ops;
		q->tctx = c;
		q->tenant_hint = conn_hint(c);
		TAILQ_INSERT_TAIL(&c->queries, q, tentry);
		c->n_queries++;
		query_start(q);
	}
	if (c->n_queries >= w->cfg->tcp_max_pipelined)
		bufferevent_disable(bev, EV_READ);	/* back-pressure */
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct stream_conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    c->eof && c->n_queries == 0) {
		conn_close(c);
		return;
	}
	conn_resume(c);
}

/* TLS: the handshake finished; the transport checks what was agreed. */
static void
conn_established(struct stream_conn *c)
{
	char peer[INET6_ADDRSTRLEN + 8];

	c->established = true;
	if (c->proto->ready && c->proto->ready(c, c->proto->arg) != 0) {
		conn_close(c);
		return;
	}
	stream_addr_text((struct sockaddr *)&c->peer, peer, sizeof(peer));
	log_debug("%s: %s: handshake done", c->proto->transport == TRANSPORT_DOT ?
	    "dot" : "stream", peer);
	set_timeouts(c, c->h->w->cfg->tcp_idle_ms);
	conn_touch(c);
	conn_resume(c);
}

static void
log_tls_errors(struct stream_conn *c, short what)
{
	char peer[INET6_ADDRSTRLEN + 8];
	unsigned long e;
	long vr;
	SSL *ssl;

	stream_addr_text((struct sockaddr *)&c->peer, peer, sizeof(peer));
	if (what & BEV_EVENT_TIMEOUT) {
		log_debug("dot: %s: no handshake within the timeout", peer);
		return;
	}
	if ((ssl = bufferevent_openssl_get_ssl(c->bev)) != NULL &&
	    (vr = SSL_get_verify_result(ssl)) != X509_V_OK)
		log_debug("dot: %s: client certificate refused: %s", peer,
		    vr == X509_V_ERR_APPLICATION_VERIFICATION ? "it names no tenant" :
		    X509_verify_cert_error_string(vr));
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		char buf[256];

		if (ERR_GET_LIB(e) == 0)
			continue;	/* libevent's copy of SSL_get_error() */
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("dot: %s: handshake failed: %s", peer, buf);
	}
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct stream_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		conn_established(c);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		c->failed = true;
	if (!c->established) {
		log_tls_errors(c, what);
		conn_close(c);	/* handshake failed, timed out, or EOF */
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    c->n_queries > 0) {
		bufferevent_enable(bev, EV_READ);	/* busy, not idle */
		return;
	}
	if ((what & BEV_EVENT_EOF) && (c->n_queries > 0 ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)) {
		c->eof = true;	/* half-close: answer what was asked */
		bufferevent_disable(bev, EV_READ);
		return;
	}
	conn_close(c);	/* idle, error, or a client that does not read */
}

static void
conn_close(struct stream_conn *c)
{
	struct stream_hub *h = c->h;
	struct query *q;

	while ((q = TAILQ_FIRST(&c->queries)) != NULL) {
		TAILQ_REMOVE(&c->queries, q, tentry);
		q->tctx = NULL;	/* its answer has nowhere to go */
	}
	TAILQ_REMOVE(&h->conns, c, entry);
	LIST_REMOVE(c, bentry);
	h->n_conns--;
	if (c->proto->tls)
		tls_bev_free(c->bev, c->established && !c->failed, &h->w->lingering);
	else
		bufferevent_free(c->bev);
	free(c);
	if (h->n_paused)
		listeners_resume(h);	/* a descriptor is free again */
}

/* ---- the hub ---- */

static void
listeners_resume(struct stream_hub *h)
{
	if (!h->stopping)
		for (unsigned i = 0; i < h->n_paused; i++)
			evconnlistener_enable(h->paused[i]);
	h->n_paused = 0;
	evtimer_del(h->resume_ev);
}

static void
resume_tick(evutil_socket_t fd, short what, void *arg)
{
	listeners_resume(arg);
}

void
stream_accept_error(struct stream_hub *h, struct evconnlistener *l)
{
	struct timeval tv = { PAUSE_MS / 1000, (PAUSE_MS % 1000) * 1000 };
	int e = EVUTIL_SOCKET_ERROR();

	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		log_debug("accept: %s", strerror(e));
		return;
	}
	for (unsigned i = 0; i < h->n_paused; i++)
		if (h->paused[i] == l)
			return;
	if (h->n_paused == MAX_PAUSED)
		return;
	if (h->n_paused == 0)
		log_warnx("accept: %s: not accepting connections until one "
		    "closes (raise the descriptor limit or lower "
		    "server.tcp-max-connections)", strerror(e));
	evconnlistener_disable(l);
	h->paused[h->n_paused++] = l;
	evtimer_add(h->resume_ev, &tv);
}

static struct stream_conn *
oldest_idle_of(struct stream_hub *h, const struct sockaddr *peer, unsigned *count)
{
	struct stream_conn *c, *best = NULL;

	*count = 0;
	LIST_FOREACH(c, &h->buckets[addr_bucket(h, peer)], bentry) {
		if (!same_addr((struct sockaddr *)&c->peer, peer))
			continue;
		(*count)++;
		if (c->n_queries == 0 && (best == NULL || c->active < best->active))
			best = c;
	}
	return best;
}

int
stream_admit(struct stream_hub *h, const struct sockaddr *peer)
{
	const struct config *cfg = h->w->cfg;
	struct stream_conn *c;
	unsigned count;

	if (h->stopping)
		return -EBUSY;
	c = oldest_idle_of(h, peer, &count);
	if (count >= cfg->max_conns_per_client) {
		if (c == NULL)
			return -EBUSY;
		conn_close(c);
	}
	if (h->n_conns < cfg->tcp_max_conns)
		return 0;
	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->n_queries == 0) {
			conn_close(c);
			return 0;
		}
	}
	return -EBUSY;
}

void
stream_socket_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
stream_conn_new(struct stream_hub *h, struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen, const struct stream_proto *p)
{
	struct stream_conn *c;

	if ((size_t)peerlen > sizeof(c->peer) || (c = calloc(1, sizeof(*c))) == NULL) {
		bufferevent_free(bev);
		return -ENOMEM;
	}
	stream_socket_nodelay(bufferevent_getfd(bev));
	c->h = h;
	c->bev = bev;
	c->proto = p;
	memcpy(&c->peer, peer, peerlen);
	c->peerlen = peerlen;
	c->established = !p->tls;
	c->active = ++h->clock;
	TAILQ_INIT(&c->queries);
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	LIST_INSERT_HEAD(&h->buckets[addr_bucket(h, peer)], c, bentry);
	h->n_conns++;
	bufferevent_setcb(bev, conn_read, conn_write, conn_event, c);
	set_timeouts(c, p->tls ? h->w->cfg->tls_handshake_ms : h->w->cfg->tcp_idle_ms);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return 0;
}

struct bufferevent *
stream_conn_bev(struct stream_conn *c)
{
	return c->bev;
}

const struct sockaddr *
stream_conn_peer(const struct stream_conn *c)
{
	return (const struct sockaddr *)&c->peer;
}

int
stream_hub_new(struct stream_hub **out, struct worker *w)
{
	struct stream_hub *h;
	unsigned nb = 1;

	while (nb < w->cfg->tcp_max_conns && nb < STREAM_MAX_BUCKETS)
		nb <<= 1;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	if ((h->buckets = calloc(nb, sizeof(*h->buckets))) == NULL) {
		free(h);
		return -ENOMEM;
	}
	if ((h->resume_ev = evtimer_new(w->base, resume_tick, h)) == NULL) {
		free(h->buckets);
		free(h);
		return -ENOMEM;
	}
	h->n_buckets = nb;
	for (unsigned i = 0; i < nb; i++)
		LIST_INIT(&h->buckets[i]);
	h->w = w;
	TAILQ_INIT(&h->conns);
	*out = h;
	return 0;
}

void
stream_hub_stop(struct stream_hub *h)
{
	struct stream_conn *c, *next;

	h->stopping = true;
	h->n_paused = 0;
	evtimer_del(h->resume_ev);
	for (c = TAILQ_FIRST(&h->conns); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		c->eof = true;
		bufferevent_disable(c->bev, EV_READ);
		if (c->n_queries == 0 &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_close(c);
	}
}

bool
stream_hub_idle(const struct stream_hub *h)
{
	return h->n_conns == 0;
}

void
stream_hub_free(struct stream_hub *h)
{
	if (h == NULL)
		return;
	h->stopping = true;	/* no listener comes back */
	while (!TAILQ_EMPTY(&h->conns))
		conn_close(TAILQ_FIRST(&h->conns));
	event_free(h->resume_ev);
	free(h->buckets);
	free(h);
}
