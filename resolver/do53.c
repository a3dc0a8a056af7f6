/* do53.c -- plain DNS over UDP and TCP: bytes in, struct query, bytes out
 *
 * UDP: one socket per address; replies leave from the address the query
 * arrived at (IP_PKTINFO / IPV6_RECVPKTINFO), so wildcard listeners work.
 * TCP (RFC 7766): accepted here, served by the stream layer (stream.c),
 * which DoT shares.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "resolver/config.h"
#include "resolver/do53.h"
#include "resolver/log.h"
#include "resolver/query.h"
#include "resolver/stream.h"
#include "resolver/worker.h"

#define UDP_BATCH		64	/* datagrams read per wakeup */
#define UDP_VLEN		16	/* datagrams per recvmmsg() and sendmmsg() */
#define UDP_RX_SLOT		4096	/* larger UDP queries are dropped */
#define UDP_TX_SLOT		1280	/* answers up to this size wait for the
					 * batch's sendmmsg(); we send at most
					 * ANSWER_EDNS_SIZE over UDP anyway */
#define UDP_RCVBUF		(4 << 20)

struct udp_sock {
	struct do53 *d;
	int fd;
	bool any;	/* bound to the wildcard: replies say their source */
	struct event *ev;
};

/* Where a UDP reply leaves from: the pktinfo control message. */
union udp_ctl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
};

/* One recvmmsg() worth of datagrams, and the answers given to them while
 * they are processed: sent with one sendmmsg() at the end. */
struct udp_batch {
	struct mmsghdr rx[UDP_VLEN];
	struct iovec rx_iov[UDP_VLEN];
	struct sockaddr_storage rx_from[UDP_VLEN];
	union udp_ctl rx_ctl[UDP_VLEN];
	uint8_t rx_buf[UDP_VLEN][UDP_RX_SLOT];
	struct udp_sock *tx_sock;	/* answers to queue: NULL outside a batch */
	unsigned n_tx;
	struct mmsghdr tx[UDP_VLEN];
	struct iovec tx_iov[UDP_VLEN];
	struct sockaddr_storage tx_to[UDP_VLEN];
	union udp_ctl tx_ctl[UDP_VLEN];
	uint8_t tx_buf[UDP_VLEN][UDP_TX_SLOT];
};

struct do53 {
	struct worker *w;
	const struct config *cfg;
	struct udp_sock *udp;
	size_t n_udp;
	struct evconnlistener **tcp;
	size_t n_tcp;
	bool stopping;
	struct udp_batch b;
};

/* ---- sockets ---- */

/* Bound to 0.0.0.0 or ::, where the kernel cannot know which of our
 * addresses a reply should come from. */
static bool
is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* A UDP socket for listener l.  Only a wildcard one asks for the
 * destination of each datagram (IP_PKTINFO) and names the source of each
 * reply: on a socket bound to one address both are that address, and
 * the control messages cost every datagram a little in the kernel. */
static int
open_udp_socket(const char *file, const struct listen_cfg *l, char *err,
    size_t errlen)
{
	int fd, on = 1, fam = l->ss.ss_family, rcv = UDP_RCVBUF;

	if ((fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
		goto fail;
	/* every worker binds the address (daemon.c checks it is ours) */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
		goto fail;
	if (fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (is_wildcard(&l->ss) && (fam == AF_INET ?
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) :
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on))))
		goto fail;
	if (bind(fd, (const struct sockaddr *)&l->ss, l->sslen) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s:%d: server.listen: %s (udp): %s", file,
	    l->line, l->text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- UDP ---- */

/* The control message that makes a reply leave from the address the
 * query came to.  \return its length (0: none). */
static size_t
udp_reply_ctl(const struct sockaddr_storage *local, union udp_ctl *c)
{
	struct cmsghdr *cm = (struct cmsghdr *)c->buf;

	memset(c, 0, sizeof(*c));
	if (local->ss_family == AF_INET) {
		struct in_pktinfo pi = { 0 };

		pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	if (local->ss_family == AF_INET6) {
		struct in6_pktinfo pi = { 0 };
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)local;

		pi.ipi6_addr = s6->sin6_addr;
		pi.ipi6_ifindex = s6->sin6_scope_id;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	return 0;
}

/* Send the answers queued during a batch: one sendmmsg(). */
static void
udp_flush(struct do53 *d)
{
	struct udp_batch *b = &d->b;
	unsigned done = 0;
	int n;

	while (done < b->n_tx) {
		if ((n = sendmmsg(b->tx_sock->fd, b->tx + done, b->n_tx - done,
		    0)) <= 0) {
			/* the first unsent one failed: skip it, like sendmsg() */
			log_debug("udp: send: %s", strerror(errno));
			n = 1;
		}
		done += (unsigned)n;
	}
	b->n_tx = 0;
}

static void
udp_send(struct query *q, const uint8_t *ans, size_t len)
{
	struct udp_sock *us = q->tctx;
	struct udp_batch *b = &us->d->b;
	union udp_ctl ctl;
	struct iovec iov = { .iov_base = (void *)ans, .iov_len = len };
	struct msghdr mh = {
		.msg_name = &q->client, .msg_namelen = q->client_len,
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
	};
	unsigned i;

	if (ans == NULL)
		return;
	/* answered while its batch is being read: queue it for sendmmsg() */
	if (b->tx_sock == us && b->n_tx < UDP_VLEN && len <= UDP_TX_SLOT) {
		struct msghdr *t = &b->tx[i = b->n_tx++].msg_hdr;

		memcpy(b->tx_buf[i], ans, len);
		b->tx_iov[i].iov_base = b->tx_buf[i];
		b->tx_iov[i].iov_len = len;
		memcpy(&b->tx_to[i], &q->client, q->client_len);
		t->msg_name = &b->tx_to[i];
		t->msg_namelen = q->client_len;
		t->msg_iov = &b->tx_iov[i];
		t->msg_iovlen = 1;
		t->msg_control = b->tx_ctl[i].buf;
		if ((t->msg_controllen = udp_reply_ctl(&q->local, &b->tx_ctl[i])) == 0)
			t->msg_control = NULL;
		t->msg_flags = 0;
		return;
	}
	if ((mh.msg_controllen = udp_reply_ctl(&q->local, &ctl)) == 0)
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

/* One datagram: a query for the pipeline (answered now, from the cache
 * or a policy, or later by libunbound). */
static void
udp_query(struct udp_sock *us, struct mmsghdr *m, const uint8_t *buf)
{
	struct worker *w = us->d->w;
	struct query *q;

	if ((m->msg_hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    w->n_live >= w->cfg->max_inflight) {
		w->stats.dropped++;
		return;
	}
	if ((q = query_new(w, TRANSPORT_UDP, (struct sockaddr *)m->msg_hdr.msg_name,
	    m->msg_hdr.msg_namelen, buf, m->msg_len)) == NULL) {
		w->stats.dropped++;
		return;
	}
	q->ops = &udp_ops;
	q->tctx = us;
	if (us->any)
		udp_local(&m->msg_hdr, &q->local);
	else
		q->local.ss_family = AF_UNSPEC;	/* the bound address */
	query_start(q);
}

/* Read what has arrived, UDP_VLEN datagrams per recvmmsg(), and send the
 * answers given meanwhile with one sendmmsg() per batch. */
static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *us = arg;
	struct udp_batch *b = &us->d->b;
	int n;

	for (int got = 0; got < UDP_BATCH; got += n) {
		for (unsigned i = 0; i < UDP_VLEN; i++) {
			struct msghdr *h = &b->rx[i].msg_hdr;

			b->rx_iov[i].iov_base = b->rx_buf[i];
			b->rx_iov[i].iov_len = UDP_RX_SLOT;
			h->msg_name = &b->rx_from[i];
			h->msg_namelen = sizeof(b->rx_from[i]);
			h->msg_iov = &b->rx_iov[i];
			h->msg_iovlen = 1;
			h->msg_control = us->any ? b->rx_ctl[i].buf : NULL;
			h->msg_controllen = us->any ? sizeof(b->rx_ctl[i].buf) : 0;
			h->msg_flags = 0;
		}
		if ((n = recvmmsg(fd, b->rx, UDP_VLEN, MSG_DONTWAIT, NULL)) <= 0)
			break;	/* EAGAIN, or an ICMP error queued for us */
		b->tx_sock = us;
		for (int i = 0; i < n; i++)
			udp_query(us, &b->rx[i], b->rx_buf[i]);
		udp_flush(us->d);
		b->tx_sock = NULL;
		if (n < UDP_VLEN)
			break;	/* the queue is empty: no need to ask again */
	}
}

/* ---- TCP: the stream layer does the rest ---- */

static const struct stream_proto tcp_proto = { .transport = TRANSPORT_TCP };

static void
tcp_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct do53 *d = arg;
	struct bufferevent *bev;

	if (d->stopping || stream_admit(d->w->streams, sa) != 0) {
		close(fd);
		return;
	}
	if ((bev = bufferevent_socket_new(d->w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		return;
	}
	if (stream_conn_new(d->w->streams, bev, sa, (socklen_t)salen,
	    &tcp_proto) != 0)
		log_debug("tcp: out of memory accepting a connection");
}

static void
tcp_accept_error(struct evconnlistener *l, void *arg)
{
	struct do53 *d = arg;

	stream_accept_error(d->w->streams, l);
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
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct listen_cfg *l = &cfg->listen[i];
		struct udp_sock *us = &d->udp[d->n_udp];
		int fd;

		if (l->kind != LISTEN_DNS)
			continue;
		if ((fd = open_udp_socket(cfg->path, l, err, errlen)) < 0)
			goto fail;
		us->d = d;
		us->fd = fd;
		us->any = is_wildcard(&l->ss);
		d->n_udp++;
		if ((us->ev = event_new(w->base, fd, EV_READ | EV_PERSIST,
		    udp_read, us)) == NULL || event_add(us->ev, NULL) != 0)
			goto nomem;
		if ((fd = stream_listen_socket(cfg->path, l, err, errlen)) < 0)
			goto fail;
		if ((d->tcp[d->n_tcp] = evconnlistener_new(w->base, tcp_accept, d,
		    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL) {
			close(fd);
			goto nomem;
		}
		evconnlistener_set_error_cb(d->tcp[d->n_tcp], tcp_accept_error);
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
	d->stopping = true;
	for (size_t i = 0; i < d->n_udp; i++)
		event_del(d->udp[i].ev);	/* keep the socket for replies */
	for (size_t i = 0; i < d->n_tcp; i++)
		evconnlistener_disable(d->tcp[i]);
}

void
do53_free(struct do53 *d)
{
	if (d == NULL)
		return;
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
