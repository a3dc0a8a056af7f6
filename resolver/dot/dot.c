/* dot.c -- DNS-over-TLS listeners: accept, TLS handshake, then DNS over the stream
 *
 * RFC 7858: DNS messages framed as over TCP, inside TLS, on port 853 by
 * default.  A connection is admitted under the stream layer's caps,
 * handshakes under server.tls-handshake-timeout, and is then served like
 * Do53/TCP with the transport `dot`.  After the handshake: ALPN, when
 * negotiated, is `dot` (tls.c refuses others); with a client CA, a
 * verified client certificate names the connection's tenant, which the
 * pipeline prefers to the source address.  On a listener with
 * require-client-certificate, the handshake fails without a certificate
 * that verifies and names a tenant (tls.c); a resumed session is checked
 * again here, against the tenants of the running config.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "resolver/config.h"
#include "resolver/dot/dot.h"
#include "resolver/dot/tls.h"
#include "resolver/dot/tls_bev.h"
#include "resolver/log.h"
#include "resolver/policy/tenant.h"
#include "resolver/stream.h"
#include "resolver/worker.h"

struct dot_listener {
	struct dot *d;
	struct evconnlistener *ev;
	struct tls_listener tls;	/* what tls.c checks in the handshake */
	struct stream_proto proto;	/* what stream.c calls back */
	char *text;
};

struct dot {
	struct worker *w;
	struct tls_server *tls;
	struct dot_listener *l;
	size_t n;
	bool stopping;
};

static int
dot_ready(struct stream_conn *c, void *arg)
{
	struct dot_listener *dl = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(stream_conn_bev(c));
	char peer[64], alpn[32];

	if (ssl == NULL)
		return -1;
	stream_addr_text(stream_conn_peer(c), peer, sizeof(peer));
	tls_alpn(ssl, alpn, sizeof(alpn));
	if (dl->tls.require_cert &&
	    tls_peer_tenant(ssl, &dl->d->w->cfg->tenants) == NULL) {
		log_info("dot: %s on %s: the client certificate names no "
		    "tenant: closed", peer, dl->text);
		return -1;
	}
	log_debug("dot: %s on %s: %s%s%s%s", peer, dl->text, SSL_get_version(ssl),
	    *alpn ? ", ALPN " : "", alpn, SSL_session_reused(ssl) ?
	    ", resumed" : "");
	return 0;
}

static const struct tenants *
dot_tenants(void *arg)
{
	struct dot_listener *dl = arg;

	return &dl->d->w->cfg->tenants;
}

static const struct tenant *
dot_identify(struct stream_conn *c, const struct config *cfg, void *arg)
{
	SSL *ssl = bufferevent_openssl_get_ssl(stream_conn_bev(c));

	return ssl ? tls_peer_tenant(ssl, &cfg->tenants) : NULL;
}

static void
dot_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct dot_listener *dl = arg;
	struct dot *d = dl->d;
	struct bufferevent *bev;
	SSL *ssl;

	if (d->stopping || stream_admit(d->w->streams, sa) != 0) {
		close(fd);
		return;
	}
	if ((ssl = tls_server_ssl_new(d->tls, &dl->tls)) == NULL) {
		log_warnx("dot: cannot create a TLS session");
		close(fd);
		return;
	}
	if ((bev = tls_bev_new(d->w->base, fd, ssl)) == NULL)
		return;
	if (stream_conn_new(d->w->streams, bev, sa, (socklen_t)salen,
	    &dl->proto) != 0)
		log_debug("dot: out of memory accepting a connection");
}

static void
dot_accept_error(struct evconnlistener *ev, void *arg)
{
	struct dot_listener *dl = arg;

	stream_accept_error(dl->d->w->streams, ev);
}

int
dot_new(struct dot **out, struct worker *w, struct tls_server *tls,
    const struct config *cfg, char *err, size_t errlen)
{
	struct dot *d;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->l = calloc(cfg->n_listen ? cfg->n_listen : 1, sizeof(*d->l))) == NULL) {
		free(d);
		return -ENOMEM;
	}
	d->w = w;
	d->tls = tls;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct listen_cfg *l = &cfg->listen[i];
		struct dot_listener *dl = &d->l[d->n];
		int fd;

		if (l->kind != LISTEN_DOT)
			continue;
		if (tls == NULL) {
			snprintf(err, errlen, "%s:%d: server.listen: %s: dot needs "
			    "server.tls", cfg->path, l->line, l->text);
			goto fail;
		}
		if ((fd = stream_listen_socket(cfg->path, l, err, errlen)) < 0)
			goto fail;
		dl->d = d;
		dl->tls.alpn = "dot";
		dl->tls.require_cert = l->require_client_cert;
		dl->tls.tenants = dot_tenants;
		dl->tls.arg = dl;
		dl->proto.transport = TRANSPORT_DOT;
		dl->proto.tls = true;
		dl->proto.pad = true;
		dl->proto.ready = dot_ready;
		dl->proto.identify = dot_identify;
		dl->proto.arg = dl;
		if ((dl->text = strdup(l->text)) == NULL ||
		    (dl->ev = evconnlistener_new(w->base, dot_accept, dl,
		    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL) {
			close(fd);
			free(dl->text);
			snprintf(err, errlen, "out of memory setting up listeners");
			goto fail;
		}
		evconnlistener_set_error_cb(dl->ev, dot_accept_error);
		d->n++;
		log_info("listening on %s (dot%s)", l->text, l->require_client_cert ?
		    ", client certificate required" : "");
	}
	*out = d;
	return 0;
fail:
	dot_free(d);
	return -EG_ECONFIG;
}

void
dot_stop(struct dot *d)
{
	if (d == NULL)
		return;
	d->stopping = true;
	for (size_t i = 0; i < d->n; i++)
		evconnlistener_disable(d->l[i].ev);
}

void
dot_free(struct dot *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		evconnlistener_free(d->l[i].ev);
		free(d->l[i].text);
	}
	free(d->l);
	free(d);
}
