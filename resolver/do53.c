/* do53.c -- plain DNS over UDP and TCP: bytes in, struct query, bytes out
 *
 * UDP: one socket per address; replies leave from the address the query
 * arrived at (IP_PKTINFO / IPV6_RECVPKTINFO), so wildcard listeners work.
 * TCP (RFC 7766): length-framed messages, many per connection, answered
 * in completion order; an idle timeout; a cap on connections (the oldest
 * idle one makes room) and on queries in flight per connection; reading
 * pauses while a client does not read its answers.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "resolver/config.h"
#include "resolver/do53.h"
#include "resolver/log.h"
#include "resolver/query.h"
#include "resolver/worker.h"

#define UDP_BATCH		64	/* datagrams read per wakeup */
#define UDP_RCVBUF		(4 << 20)
#define TCP_BACKLOG		256
#define TCP_MAX_OUTPUT		(256 * 1024)	/* unread answers before we stop reading */

struct udp_sock {
	struct do53 *d;
	int fd;
	struct event *ev;
};

struct tcp_conn {
	struct do53 *d;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct query_list queries;	/* in flight on this connection */
	unsigned n_queries;
	bool eof;		/* client closed its side, or we are stopping */
	TAILQ_ENTRY(tcp_conn) entry;	/* least recently active first */
};

struct do53 {
	struct worker *w;
	const struct config *cfg;
	struct udp_sock *udp;
	size_t n_udp;
	struct evconnlistener **tcp;
	size_t n_tcp;
	TAILQ_HEAD(, tcp_conn) conns;
	unsigned n_conns;
	bool stopping;
	uint8_t rx[QUERY_MAX_WIRE + 1];
};

static void conn_close(struct tcp_conn *c);

/* ---- sockets ---- */

static int
open_socket(const char *file, const struct listen_cfg *l, int type, char *err,
    size_t errlen)
{
	int fd, on = 1, fam = l->ss.ss_family;

	if ((fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
		goto fail;
	if (fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
		goto fail;
	if (type == SOCK_DGRAM) {
		int rcv = UDP_RCVBUF;

		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		if (fam == AF_INET ?
		    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) :
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)))
			goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&l->ss, l->sslen) != 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s:%d: server.listen: %s (%s): %s", file,
	    l->line, l->text, type == SOCK_DGRAM ? "udp" : "tcp", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- UDP ---- */

static void
udp_send(struct query *q, const uint8_t *ans, size_t len)
{
	struct udp_sock *us = q->tctx;
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct iovec iov = { .iov_base = (void *)ans, .iov_len = len };
	struct msghdr mh = {
		.msg_name = &q->client, .msg_namelen = q->client_len,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	struct cmsghdr *cm;

	if (ans == NULL)
		return;
	memset(&cbuf, 0, sizeof(cbuf));
	mh.msg_control = cbuf.buf;
	cm = (struct cmsghdr *)cbuf.buf;
	if (q->local.ss_family == AF_INET) {
		struct in_pktinfo pi = { 0 };

		pi.ipi_spec_dst = ((struct sockaddr_in *)&q->local)->sin_addr;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else if (q->local.ss_family == AF_INET6) {
		struct in6_pktinfo pi = { 0 };
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&q->local;

		pi.ipi6_addr = s6->sin6_addr;
		pi.ipi6_ifindex = s6->sin6_scope_id;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else
		mh.msg_control = NULL;
	if (sendmsg(us->fd, &mh, 0) < 0)
		log_debug("udp: send: %s", strerror(errno));
}

static const struct query_ops udp_ops = { .send = udp_send };

/* Where the datagram arrived, from the pktinfo control message. */
static void
udp_local(struct msghdr *mh, struct sockaddr_storage *local)
{
	struct cmsghdr *cm;

	local->ss_family = AF_UNSPEC;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *s4 = (struct sockaddr_in *)local;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			s4->sin_family = AF_INET;
			s4->sin_addr = pi.ipi_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)local;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			s6->sin6_family = AF_INET6;
			s6->sin6_addr = pi.ipi6_addr;
			s6->sin6_scope_id = pi.ipi6_ifindex;
		}
	}
}

static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *us = arg;
	struct do53 *d = us->d;
	struct worker *w = d->w;

	for (int i = 0; i < UDP_BATCH; i++) {
		union {
			struct cmsghdr align;
			uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
		} cbuf;
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = d->rx, .iov_len = sizeof(d->rx) };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
		};
		struct query *q;
		ssize_t n;

		if ((n = recvmsg(fd, &mh, 0)) < 0)
			break;	/* EAGAIN, or an ICMP error queued for us */
		if (w->n_live >= w->cfg->max_inflight) {
			w->stats.dropped++;
			continue;
		}
		if ((q = query_new(w, TRANSPORT_UDP, (struct sockaddr *)&from,
		    mh.msg_namelen, d->rx, (size_t)n)) == NULL) {
			w->stats.dropped++;
			continue;
		}
		q->ops = &udp_ops;
		q->tctx = us;
		udp_local(&mh, &q->local);
		query_start(q);
	}
}

/* ---- TCP ---- */

static void
conn_touch(struct tcp_conn *c)
{
	TAILQ_REMOVE(&c->d->conns, c, entry);
	TAILQ_INSERT_TAIL(&c->d->conns, c, entry);
}

/* Read again if we had paused and the reasons are gone. */
static void
conn_resume(struct tcp_conn *c)
{
	if (!c->eof && c->n_queries < c->d->cfg->tcp_max_pipelined &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) < TCP_MAX_OUTPUT)
		bufferevent_enable(c->bev, EV_READ);
}

static void
tcp_send(struct query *q, const uint8_t *ans, size_t len)
{
	struct tcp_conn *c = q->tctx;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	TAILQ_REMOVE(&c->queries, q, tentry);
	c->n_queries--;
	q->tctx = NULL;
	if (ans) {
		uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

		if (evbuffer_add(out, hdr, 2) != 0 || evbuffer_add(out, ans, len) != 0)
			log_debug("tcp: cannot queue an answer");
	}
	conn_touch(c);
	if (evbuffer_get_length(out) >= TCP_MAX_OUTPUT)
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

static const struct query_ops tcp_ops = { .send = tcp_send };

static void
tcp_read(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct worker *w = c->d->w;

	conn_touch(c);
	while (!c->eof && c->n_queries < c->d->cfg->tcp_max_pipelined) {
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
		q = query_new(w, TRANSPORT_TCP, (struct sockaddr *)&c->peer,
		    c->peerlen, msg + 2, mlen);
		evbuffer_drain(in, 2 + mlen);
		if (q == NULL) {
			w->stats.dropped++;
			continue;
		}
		q->ops = &tcp_ops;
		q->tctx = c;
		TAILQ_INSERT_TAIL(&c->queries, q, tentry);
		c->n_queries++;
		query_start(q);
	}
	if (c->n_queries >= c->d->cfg->tcp_max_pipelined)
		bufferevent_disable(bev, EV_READ);	/* back-pressure */
}

static void
tcp_write(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    c->eof && c->n_queries == 0) {
		conn_close(c);
		return;
	}
	conn_resume(c);
}

static void
tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *c = arg;

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
conn_close(struct tcp_conn *c)
{
	struct query *q;

	while ((q = TAILQ_FIRST(&c->queries)) != NULL) {
		TAILQ_REMOVE(&c->queries, q, tentry);
		q->tctx = NULL;	/* its answer has nowhere to go */
	}
	TAILQ_REMOVE(&c->d->conns, c, entry);
	c->d->n_conns--;
	bufferevent_free(c->bev);
	free(c);
}

/* At the cap, the least recently active connection without queries in
 * flight makes room; if every one is busy, the newcomer is turned away. */
static bool
make_room(struct do53 *d)
{
	struct tcp_conn *c;

	if (d->n_conns < d->cfg->tcp_max_conns)
		return true;
	TAILQ_FOREACH(c, &d->conns, entry) {
		if (c->n_queries == 0) {
			conn_close(c);
			return true;
		}
	}
	return false;
}

static void
tcp_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct do53 *d = arg;
	struct timeval idle = { d->cfg->tcp_idle_ms / 1000,
	    (d->cfg->tcp_idle_ms % 1000) * 1000 };
	struct tcp_conn *c;

	if (d->stopping || !make_room(d) || (size_t)salen > sizeof(c->peer) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	if ((c->bev = bufferevent_socket_new(d->w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		free(c);
		return;
	}
	c->d = d;
	memcpy(&c->peer, sa, (size_t)salen);
	c->peerlen = (socklen_t)salen;
	TAILQ_INIT(&c->queries);
	TAILQ_INSERT_TAIL(&d->conns, c, entry);
	d->n_conns++;
	bufferevent_setcb(c->bev, tcp_read, tcp_write, tcp_event, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- lifecycle ---- */

int
do53_new(struct do53 **out, struct worker *w, const struct config *cfg,
    char *err, size_t errlen)
{
	struct do53 *d;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->udp = calloc(cfg->n_listen, sizeof(*d->udp))) == NULL ||
	    (d->tcp = calloc(cfg->n_listen, sizeof(*d->tcp))) == NULL) {
		do53_free(d);
		return -ENOMEM;
	}
	d->w = w;
	d->cfg = cfg;
	TAILQ_INIT(&d->conns);
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct listen_cfg *l = &cfg->listen[i];
		struct udp_sock *us = &d->udp[d->n_udp];
		int fd;

		if (l->kind != LISTEN_DNS)
			continue;
		if ((fd = open_socket(cfg->path, l, SOCK_DGRAM, err, errlen)) < 0)
			goto fail;
		us->d = d;
		us->fd = fd;
		d->n_udp++;
		if ((us->ev = event_new(w->base, fd, EV_READ | EV_PERSIST,
		    udp_read, us)) == NULL || event_add(us->ev, NULL) != 0)
			goto nomem;
		if ((fd = open_socket(cfg->path, l, SOCK_STREAM, err, errlen)) < 0)
			goto fail;
		if ((d->tcp[d->n_tcp] = evconnlistener_new(w->base, tcp_accept, d,
		    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL) {
			close(fd);
			goto nomem;
		}
		d->n_tcp++;
		log_info("listening on %s (udp, tcp)", l->text);
	}
	*out = d;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory setting up listeners");
fail:
	do53_free(d);
	return -EG_ECONFIG;
}

void
do53_stop(struct do53 *d)
{
	struct tcp_conn *c, *next;

	d->stopping = true;
	for (size_t i = 0; i < d->n_udp; i++)
		event_del(d->udp[i].ev);	/* keep the socket for replies */
	for (size_t i = 0; i < d->n_tcp; i++)
		evconnlistener_disable(d->tcp[i]);
	for (c = TAILQ_FIRST(&d->conns); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		c->eof = true;
		bufferevent_disable(c->bev, EV_READ);
		if (c->n_queries == 0 &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_close(c);
	}
}

bool
do53_idle(const struct do53 *d)
{
	return d->n_conns == 0;
}

void
do53_free(struct do53 *d)
{
	if (d == NULL)
		return;
	while (!TAILQ_EMPTY(&d->conns))
		conn_close(TAILQ_FIRST(&d->conns));
	for (size_t i = 0; i < d->n_udp; i++) {
		if (d->udp[i].ev)
			event_free(d->udp[i].ev);
		close(d->udp[i].fd);
	}
	for (size_t i = 0; i < d->n_tcp; i++)
		evconnlistener_free(d->tcp[i]);
	free(d->udp);
	free(d->tcp);
	free(d);
}
