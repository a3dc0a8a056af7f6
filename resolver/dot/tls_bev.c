/* tls_bev.c -- TLS connections on the event loop: an OpenSSL filter over a socket bufferevent
 *
 * libevent's socket mode (bufferevent_openssl_socket_new) lets OpenSSL
 * do the socket I/O itself: without read-ahead every record costs two
 * read()s (its header, then its body), and every chain of output a
 * write() plus adding and removing the write event.  With pipelined DNS
 * that is four to five system calls per query.  In filter mode a plain
 * socket bufferevent underneath reads what has arrived in one readv()
 * and sends the records that are ready in one writev(); OpenSSL works
 * between the two buffers.  (dnsperf -m dot, 16 connections, on this
 * project's bench: about a fifth more queries per second for the same
 * CPU; bench/RESULTS.md.)
 *
 * The price is a second output buffer: records can wait in the socket
 * bufferevent after the TLS one is empty.  Its high write watermark
 * (TLS_BEV_SOCK_HIGH) holds encryption back while the peer does not
 * read, so the callers' limits on unsent output still hold;
 * tls_bev_pending() counts both buffers, and tls_bev_free() keeps the
 * socket until the records already made are out, so that the last
 * answers and close_notify are not cut off by close().
 */
#include "autoconf.h"

#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "resolver/dot/tls_bev.h"

#define TLS_BEV_SOCK_HIGH	(64 * 1024)	/* records waiting for the socket */
#define TLS_BEV_LINGER_MS	3000		/* after close: time to send them */

struct bufferevent *
tls_bev_new(struct event_base *base, int fd, SSL *ssl)
{
	struct bufferevent *sock, *bev;

	if ((sock = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	bufferevent_setwatermark(sock, EV_WRITE, 0, TLS_BEV_SOCK_HIGH);
	/* BEV_OPT_CLOSE_ON_FREE: freeing it frees the SSL and the socket
	 * bufferevent (which closes fd), whenever libevent is done with it.
	 * BEV_OPT_DEFER_CALLBACKS: in filter mode libevent encrypts and
	 * decrypts at once, so without it the caller's callbacks would run
	 * inside its own calls (evbuffer_add() running the write callback,
	 * bufferevent_enable() the read one) and, after a handshake, data
	 * would be read before BEV_EVENT_CONNECTED; deferred, they run
	 * from the loop, CONNECTED first. */
	if ((bev = bufferevent_openssl_filter_new(base, sock, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		/* Out of memory.  libevent 2.1 has freed ssl, and sock too
		 * when the failure came after the BIO was made; which, it
		 * does not say: leaking sock beats freeing it twice. */
		return NULL;
	}
	/* a client that closes without close_notify has still said all */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void
tls_bev_set_timeouts(struct bufferevent *bev, const struct timeval *rd,
    const struct timeval *wr)
{
	struct bufferevent *sock = bufferevent_get_underlying(bev);

	bufferevent_set_timeouts(bev, rd, NULL);
	if (sock)
		bufferevent_set_timeouts(sock, NULL, wr);
}

size_t
tls_bev_pending(struct bufferevent *bev)
{
	struct bufferevent *sock = bufferevent_get_underlying(bev);

	return evbuffer_get_length(bufferevent_get_output(bev)) +
	    (sock ? evbuffer_get_length(bufferevent_get_output(sock)) : 0);
}

/* ---- closing with records still to send ---- */

struct tls_linger {
	struct bufferevent *bev;
	struct event *done;	/* the deadline, or activated when done */
	LIST_ENTRY(tls_linger) entry;
};

void
tls_linger_init(struct tls_linger_set *s)
{
	LIST_INIT(&s->head);
}

bool
tls_linger_idle(const struct tls_linger_set *s)
{
	return LIST_EMPTY(&s->head);
}

static void
linger_free(struct tls_linger *lg)
{
	LIST_REMOVE(lg, entry);
	bufferevent_free(lg->bev);
	event_free(lg->done);
	free(lg);
}

void
tls_linger_clear(struct tls_linger_set *s)
{
	while (!LIST_EMPTY(&s->head))
		linger_free(LIST_FIRST(&s->head));
}

static void
linger_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	linger_free(arg);
}

/* The socket's output changed: once empty, the records are out. */
static void
linger_sent(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct tls_linger *lg = arg;

	(void)info;
	if (evbuffer_get_length(buf) == 0)
		event_active(lg->done, EV_TIMEOUT, 0);
}

static void
linger_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
linger_event(struct bufferevent *bev, short what, void *arg)
{
	struct tls_linger *lg = arg;

	(void)bev;
	(void)what;	/* EOF, error or timeout: nobody is left to read */
	event_active(lg->done, EV_TIMEOUT, 0);
}

void
tls_bev_free(struct bufferevent *bev, bool close_notify, struct tls_linger_set *s)
{
	struct bufferevent *sock = bufferevent_get_underlying(bev);
	struct timeval tv = { TLS_BEV_LINGER_MS / 1000, (TLS_BEV_LINGER_MS % 1000) * 1000 };
	struct evbuffer *out = bufferevent_get_output(bev);
	struct tls_linger *lg;
	SSL *ssl;

	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	evbuffer_drain(out, evbuffer_get_length(out));
	if (close_notify && (ssl = bufferevent_openssl_get_ssl(bev)) != NULL &&
	    !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
		(void)SSL_shutdown(ssl);	/* the alert goes to sock's output */
	ERR_clear_error();
	if (sock == NULL ||
	    evbuffer_get_length(bufferevent_get_output(sock)) == 0 ||
	    (lg = calloc(1, sizeof(*lg))) == NULL) {
		bufferevent_free(bev);
		return;
	}
	lg->bev = bev;
	if ((lg->done = evtimer_new(bufferevent_get_base(bev), linger_done, lg)) == NULL ||
	    evtimer_add(lg->done, &tv) != 0 ||
	    evbuffer_add_cb(bufferevent_get_output(sock), linger_sent, lg) == NULL) {
		if (lg->done)
			event_free(lg->done);
		free(lg);
		bufferevent_free(bev);
		return;
	}
	LIST_INSERT_HEAD(&s->head, lg, entry);
	/* Reading on: that lifts the filter's hold on the socket's reads
	 * (a paused connection), so what the peer sends is taken and not
	 * answered by a reset at close.  Then the socket is ours: TLS is
	 * over (an error there must not cut the alert it sent), its
	 * records just have to go. */
	bufferevent_enable(bev, EV_READ);
	bufferevent_setcb(sock, linger_read, NULL, linger_event, lg);
	bufferevent_set_timeouts(sock, NULL, NULL);
	bufferevent_enable(sock, EV_READ | EV_WRITE);
}
