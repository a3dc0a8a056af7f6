/* doh.c -- DNS-over-HTTPS listeners and connections: accept, TLS, the bytes into and out of nghttp2
 *
 * (doh_h2.c has the HTTP/2 side: the session's callbacks, requests,
 * queries and responses; doh_impl.h what the two share.)
 *
 * The connection lifecycle of nghttp2's examples/libevent-server.c:
 * accept (under the connection caps) -> TLS handshake on a
 * bufferevent_openssl (server.tls-handshake-timeout) -> on
 * BEV_EVENT_CONNECTED an nghttp2 server session and our SETTINGS -> the
 * read callback feeds nghttp2_session_mem_recv(), whose callbacks collect
 * each stream's request -> a complete request becomes a struct query
 * (transport doh) -> its answer comes back through doh_send() as an HTTP
 * response -> nghttp2_session_mem_send() fills the output, at most
 * DOH_MAX_OUTPUT at a time -> the connection closes when neither side
 * wants more, on GOAWAY, or when idle for server.tcp-idle-timeout.
 *
 * Requests (RFC 8484): GET <path>?dns=<base64url> and POST <path> with
 * application/dns-message; <path>/<token> selects the tenant with that
 * doh-token (404 for an unknown one, counted, never logged with the
 * token); GET <path>?name=&type= with application/dns-json (Accept or
 * ct=) answers JSON.  Every refusal is an HTTP answer with a short text
 * body: 400 bad parameter or malformed DNS message, 404 other paths,
 * 405 other methods (with Allow), 413 body over 65,535 bytes (answered
 * as soon as it is known, the rest of the body is not read: RST_STREAM
 * NO_ERROR after the answer), 415 other content types, 431 header list
 * too large.
 *
 * Abuse: SETTINGS_MAX_CONCURRENT_STREAMS from server.doh-max-streams;
 * queries in flight per connection (also of streams the client reset)
 * capped at the same number, beyond which reading pauses; a client that
 * resets more than DOH_RST_MAX streams within DOH_RST_WINDOW_S (HTTP/2
 * rapid reset, CVE-2023-44487) gets GOAWAY ENHANCE_YOUR_CALM and is
 * closed; queued SETTINGS/PING acknowledgements are capped
 * (nghttp2_option_set_max_outbound_ack), as are SETTINGS entries and
 * CONTINUATION frames; a request whose body is not complete within
 * server.doh-stream-timeout is reset (CANCEL); request bodies buffered
 * per connection are capped at DOH_MAX_CONN_BODY.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "resolver/config.h"
#include "resolver/doh/doh.h"
#include "resolver/doh/doh_http.h"
#include "resolver/doh/doh_impl.h"
#include "resolver/dot/tls.h"
#include "resolver/dot/tls_bev.h"
#include "resolver/log.h"
#include "resolver/stream.h"
#include "resolver/worker.h"

static void conn_close(struct doh_conn *c);

/* ---- helpers ---- */

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Schedule the close for the tick's callback: never free the session or
 * the bufferevent from inside their own callbacks. */
void
doh_conn_close_later(struct doh_conn *c)
{
	c->want_close = true;
	bufferevent_disable(c->bev, EV_READ);
	event_active(c->tick, EV_TIMEOUT, 0);
}

/* ---- the connection ---- */

/* Produce output while there is room; close when both sides are done. */
/* After a flood, nghttp2 sends nothing more (the session "must be
 * closed"): write the GOAWAY ourselves (RFC 9113 6.8), then close once it
 * is out. */
/* The session is over (GOAWAY queued or sent): no more calls into
 * nghttp2; keep reading and discarding what the client still sends for
 * DOH_LINGER_MS after our last bytes are out, so that closing with its
 * data unread does not reset the connection before it has read our
 * GOAWAY (a TCP RST discards what the peer has not read yet). */
static void
conn_linger(struct doh_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->closing = true;
	clock_gettime(CLOCK_MONOTONIC, &c->dead_at);
	bufferevent_enable(c->bev, EV_READ);
}

static void
conn_goaway_raw(struct doh_conn *c, uint32_t code)
{
	int32_t last = nghttp2_session_get_last_proc_stream_id(c->sess);
	uint8_t f[17] = { 0, 0, 8, NGHTTP2_GOAWAY, 0, 0, 0, 0, 0,
		(uint8_t)(last >> 24), (uint8_t)(last >> 16), (uint8_t)(last >> 8),
		(uint8_t)last, (uint8_t)(code >> 24), (uint8_t)(code >> 16),
		(uint8_t)(code >> 8), (uint8_t)code };

	conn_linger(c);
	if (evbuffer_add(bufferevent_get_output(c->bev), f, sizeof(f)) != 0)
		doh_conn_close_later(c);
}

void
doh_conn_flush(struct doh_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->sess == NULL || c->want_close)
		return;
	if (c->dead) {	/* lingering: close once our bytes are out */
		if (evbuffer_get_length(out) == 0 &&
		    ms_since(&c->dead_at) >= DOH_LINGER_MS)
			doh_conn_close_later(c);
		return;
	}
	if (c->calm && !c->closing) {
		char peer[64];

		conn_peer_text(c, peer, sizeof(peer));
		log_info("doh: %s: more than %d stream resets in %d s: GOAWAY "
		    "ENHANCE_YOUR_CALM", peer, DOH_RST_MAX, DOH_RST_WINDOW_S);
		(void)nghttp2_session_terminate_session(c->sess,
		    NGHTTP2_ENHANCE_YOUR_CALM);
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
	}
	/* Each response goes out whole, as one chain of the output: one TLS
	 * record (tls_bev.c encrypts chain by chain), so that a client can
	 * take its answer from the record it has, not wait for (or, like
	 * dnsperf 2.10, stall on) the next responses of a shared one. */
	while (evbuffer_get_length(out) < DOH_MAX_OUTPUT) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->sess, &data);

		if (n < 0) {
			doh_conn_close_later(c);
			return;
		}
		if (n == 0)
			break;
		if (evbuffer_add(c->resp, data, (size_t)n) != 0) {
			doh_conn_close_later(c);
			return;
		}
		if (c->resp_end) {
			c->resp_end = false;
			evbuffer_add_buffer(out, c->resp);
		}
	}
	evbuffer_add_buffer(out, c->resp);	/* frames of no response */
	if (!nghttp2_session_want_read(c->sess) &&
	    !nghttp2_session_want_write(c->sess))
		conn_linger(c);	/* both sides are done */
}

/* Read only while the client's queries in flight are under the cap and
 * it reads its answers. */
void
doh_conn_pace(struct doh_conn *c)
{
	bool stop = c->n_queries >= conn_cfg(c)->doh_max_streams ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) >= DOH_MAX_OUTPUT;

	if (c->want_close || c->closing || !c->established)
		return;
	if (stop && !c->paused)
		bufferevent_disable(c->bev, EV_READ);
	else if (!stop && c->paused)
		bufferevent_enable(c->bev, EV_READ);
	c->paused = stop;
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct doh_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;

	if (c->dead) {	/* lingering: what comes now is discarded */
		evbuffer_drain(in, evbuffer_get_length(in));
		doh_conn_flush(c);
		return;
	}
	while (!c->want_close && (len = evbuffer_get_length(in)) > 0) {
		size_t chunk = evbuffer_get_contiguous_space(in);
		uint8_t *data = evbuffer_pullup(in, (ssize_t)chunk);
		ssize_t n;

		if (data == NULL) {
			doh_conn_close_later(c);
			return;
		}
		c->in_session = true;
		n = nghttp2_session_mem_recv(c->sess, data, chunk);
		c->in_session = false;
		if (n < 0) {
			char peer[64];

			conn_peer_text(c, peer, sizeof(peer));
			if (n == NGHTTP2_ERR_FLOODED) {
				log_info("doh: %s: SETTINGS/PING flood (more than "
				    "%d acknowledgements queued): GOAWAY "
				    "ENHANCE_YOUR_CALM", peer, DOH_MAX_OUTBOUND_ACK);
				conn_goaway_raw(c, NGHTTP2_ENHANCE_YOUR_CALM);
				evbuffer_drain(in, len);
				break;
			} else {
				log_debug("doh: %s: %s: closing", peer,
				    nghttp2_strerror((int)n));
				(void)nghttp2_session_terminate_session(c->sess,
				    NGHTTP2_PROTOCOL_ERROR);
				c->closing = true;
			}
			evbuffer_drain(in, len);
			bufferevent_disable(bev, EV_READ);
			break;
		}
		evbuffer_drain(in, (size_t)n);
	}
	doh_conn_flush(c);
	doh_conn_pace(c);
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct doh_conn *c = arg;

	doh_conn_flush(c);
	doh_conn_pace(c);
}

static void
conn_established(struct doh_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct timeval wt = { conn_cfg(c)->tcp_idle_ms / 1000,
	    (conn_cfg(c)->tcp_idle_ms % 1000) * 1000 };
	char peer[64], alpn[32];

	conn_peer_text(c, peer, sizeof(peer));
	if (ssl == NULL)
		goto fail;
	tls_alpn(ssl, alpn, sizeof(alpn));
	if (*alpn && strcmp(alpn, "h2") != 0)
		goto fail;	/* tls.c agreed to nothing else */
	if (doh_session_new(c) != 0) {
		log_warnx("doh: %s: out of memory for an HTTP/2 session", peer);
		goto fail;
	}
	c->established = true;
	clock_gettime(CLOCK_MONOTONIC, &c->last_active);
	/* idle is the tick's business; a client that does not read its
	 * answers is cut off by the write timeout */
	tls_bev_set_timeouts(c->bev, NULL, &wt);
	log_debug("doh: %s on %s: %s%s%s", peer, c->l->text,
	    SSL_get_version(ssl), *alpn ? ", ALPN " : ", no ALPN", alpn);
	doh_conn_flush(c);
	return;
fail:
	doh_conn_close_later(c);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct doh_conn *c = arg;
	char peer[64];

	if (what & BEV_EVENT_CONNECTED) {
		conn_established(c);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		c->failed = true;
	if (!c->established) {
		conn_peer_text(c, peer, sizeof(peer));
		log_debug("doh: %s: handshake %s", peer, what & BEV_EVENT_TIMEOUT ?
		    "timed out" : "failed");
	}
	doh_conn_close_later(c);
}

/* Timeouts: requests whose body does not come, idle connections, and the
 * deferred close. */
static void
conn_tick(evutil_socket_t fd, short what, void *arg)
{
	struct doh_conn *c = arg;
	const struct config *cfg = conn_cfg(c);
	struct doh_stream *s;
	bool reset = false;

	if (c->want_close) {
		conn_close(c);
		return;
	}
	if (!c->established)
		return;	/* the bufferevent's handshake timeout runs */
	if (c->dead) {	/* closes once our GOAWAY is out */
		doh_conn_flush(c);
		return;
	}
	TAILQ_FOREACH(s, &c->streams, entry) {
		if (s->id != 0 && !s->complete &&
		    ms_since(&s->start) >= (long)cfg->doh_stream_timeout_ms) {
			(void)nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE,
			    s->id, NGHTTP2_CANCEL);
			s->complete = true;	/* reset once, never answered */
			s->responded = true;
			reset = true;
		}
	}
	if (!c->closing && c->n_open == 0 && c->n_queries == 0 &&
	    ms_since(&c->last_active) >= (long)cfg->tcp_idle_ms) {
		(void)nghttp2_session_terminate_session(c->sess, NGHTTP2_NO_ERROR);
		c->closing = true;
		reset = true;
	}
	if (c->closing && c->n_open == 0 && c->n_queries == 0 &&
	    !nghttp2_session_want_write(c->sess) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_close(c);
		return;
	}
	if (reset)
		doh_conn_flush(c);
}

static void
conn_close(struct doh_conn *c)
{
	struct doh *d = c->d;

	/* the session first: no callback of it may find a freed stream */
	nghttp2_session_del(c->sess);
	c->sess = NULL;
	while (!TAILQ_EMPTY(&c->streams))
		doh_stream_free(TAILQ_FIRST(&c->streams));
	TAILQ_REMOVE(&d->conns, c, entry);
	d->n_conns--;
	event_free(c->tick);
	evbuffer_free(c->resp);
	tls_bev_free(c->bev, c->established && !c->failed, &d->w->lingering);
	free(c);
}

/* ---- listeners ---- */

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

/* Make room for one more connection from peer: at a cap, the oldest idle
 * connection (of that client, for the per-client cap) goes.
 * \return 0 or -EBUSY. */
static int
doh_admit(struct doh *d, const struct sockaddr *peer)
{
	const struct config *cfg = d->w->cfg;
	struct doh_conn *c, *idle = NULL;
	unsigned count = 0;

	TAILQ_FOREACH(c, &d->conns, entry) {
		if (!same_addr(&c->peer, peer))
			continue;
		count++;
		if (idle == NULL && c->n_open == 0 && c->n_queries == 0)
			idle = c;
	}
	if (count >= cfg->max_conns_per_client) {
		if (idle == NULL)
			return -EBUSY;
		conn_close(idle);
	}
	if (d->n_conns < cfg->tcp_max_conns)
		return 0;
	TAILQ_FOREACH(c, &d->conns, entry) {
		if (c->n_open == 0 && c->n_queries == 0) {
			conn_close(c);
			return 0;
		}
	}
	return -EBUSY;
}

static void
doh_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct doh_listener *dl = arg;
	struct doh *d = dl->d;
	const struct config *cfg = d->w->cfg;
	struct timeval hs = { cfg->tls_handshake_ms / 1000,
	    (cfg->tls_handshake_ms % 1000) * 1000 };
	struct timeval tick = { 0, DOH_TICK_MS * 1000 };
	struct doh_conn *c;
	SSL *ssl;

	if (d->stopping || (size_t)salen > sizeof(c->peer) ||
	    doh_admit(d, sa) != 0) {
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	stream_socket_nodelay(fd);
	if ((ssl = tls_server_ssl_new(d->tls, &dl->tls)) == NULL) {
		log_warnx("doh: cannot create a TLS session");
		free(c);
		close(fd);
		return;
	}
	if ((c->bev = tls_bev_new(d->w->base, fd, ssl)) == NULL) {
		free(c);
		return;
	}
	if ((c->resp = evbuffer_new()) == NULL ||
	    (c->tick = event_new(d->w->base, -1, EV_PERSIST, conn_tick, c)) == NULL ||
	    event_add(c->tick, &tick) != 0) {
		if (c->tick)
			event_free(c->tick);
		if (c->resp)
			evbuffer_free(c->resp);
		tls_bev_free(c->bev, false, &d->w->lingering);
		free(c);
		return;
	}
	c->d = d;
	c->l = dl;
	memcpy(&c->peer, sa, (size_t)salen);
	c->peerlen = (socklen_t)salen;
	TAILQ_INIT(&c->streams);
	TAILQ_INSERT_TAIL(&d->conns, c, entry);
	d->n_conns++;
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	tls_bev_set_timeouts(c->bev, &hs, &hs);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
doh_accept_error(struct evconnlistener *ev, void *arg)
{
	struct doh_listener *dl = arg;

	stream_accept_error(dl->d->w->streams, ev);
}

int
doh_new(struct doh **out, struct worker *w, struct tls_server *tls,
    const struct config *cfg, char *err, size_t errlen)
{
	struct doh *d;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->l = calloc(cfg->n_listen ? cfg->n_listen : 1, sizeof(*d->l))) == NULL) {
		free(d);
		return -ENOMEM;
	}
	d->w = w;
	d->tls = tls;
	TAILQ_INIT(&d->conns);
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct listen_cfg *l = &cfg->listen[i];
		struct doh_listener *dl = &d->l[d->n];
		int fd;

		if (l->kind != LISTEN_DOH)
			continue;
		if (tls == NULL) {
			snprintf(err, errlen, "%s:%d: server.listen: %s: doh needs "
			    "server.tls", cfg->path, l->line, l->text);
			goto fail;
		}
		if ((fd = stream_listen_socket(cfg->path, l, err, errlen)) < 0)
			goto fail;
		dl->d = d;
		dl->tls.alpn = "h2";
		if ((dl->text = strdup(l->text)) == NULL ||
		    (dl->path = strdup(l->path ? l->path : DOH_DEFAULT_PATH)) == NULL ||
		    (dl->ev = evconnlistener_new(w->base, doh_accept, dl,
		    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL) {
			close(fd);
			free(dl->text);
			free(dl->path);
			snprintf(err, errlen, "out of memory setting up listeners");
			goto fail;
		}
		evconnlistener_set_error_cb(dl->ev, doh_accept_error);
		d->n++;
		log_info("listening on %s (doh, https://%s%s)", l->text, l->text,
		    dl->path);
	}
	*out = d;
	return 0;
fail:
	doh_free(d);
	return -EG_ECONFIG;
}

void
doh_stop(struct doh *d)
{
	struct doh_conn *c, *next;

	if (d == NULL)
		return;
	d->stopping = true;
	for (size_t i = 0; i < d->n; i++)
		evconnlistener_disable(d->l[i].ev);
	for (c = TAILQ_FIRST(&d->conns); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->established || c->sess == NULL) {
			conn_close(c);
			continue;
		}
		/* the streams so far are answered; no new ones */
		(void)nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE,
		    nghttp2_session_get_last_proc_stream_id(c->sess),
		    NGHTTP2_NO_ERROR, NULL, 0);
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
		doh_conn_flush(c);
	}
}

bool
doh_idle(const struct doh *d)
{
	return d == NULL || d->n_conns == 0;
}

void
doh_free(struct doh *d)
{
	if (d == NULL)
		return;
	while (!TAILQ_EMPTY(&d->conns))
		conn_close(TAILQ_FIRST(&d->conns));
	for (size_t i = 0; i < d->n; i++) {
		evconnlistener_free(d->l[i].ev);
		free(d->l[i].text);
		free(d->l[i].path);
	}
	free(d->l);
	free(d);
}
