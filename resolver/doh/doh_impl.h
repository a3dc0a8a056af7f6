/* doh_impl.h -- what the two halves of DoH share: connections (doh.c) and HTTP/2 requests (doh_h2.c)
 *
 * doh.c owns listeners and connections (accept, TLS, the byte pump into
 * and out of nghttp2, timeouts, closing); doh_h2.c owns the nghttp2
 * session's callbacks, a stream's request, the query it becomes and the
 * response.  Only these two files include this header.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <nghttp2/nghttp2.h>

#include "resolver/dot/tls.h"
#include "resolver/stream.h"
#include "resolver/worker.h"

#define DOH_MAX_OUTPUT		(64 * 1024)	/* queued to TLS before we stop producing */
#define DOH_MAX_HEADER_LIST	(16 * 1024)	/* SETTINGS_MAX_HEADER_LIST_SIZE, enforced */
#define DOH_MAX_CONN_BODY	(1024 * 1024)	/* request bodies buffered per connection */
#define DOH_MAX_OUTBOUND_ACK	128		/* queued SETTINGS/PING ACKs (floods) */
#define DOH_MAX_SETTINGS	32		/* entries in one SETTINGS frame */
#define DOH_MAX_CONTINUATIONS	8
#define DOH_RST_MAX		100		/* client RST_STREAMs per window ... */
#define DOH_RST_WINDOW_S	10		/* ... before GOAWAY ENHANCE_YOUR_CALM */
#define DOH_LINGER_MS		500		/* read and discard before closing */
#define DOH_TICK_MS		500		/* stream and idle timeouts' resolution */
#define DOH_PAD_BLOCK		468		/* RFC 8467 4.1: responses */
#define DOH_NAME_MAX		1025		/* name= text */
#define DOH_TYPE_MAX		16
#define DOH_CT_MAX		64

#define CT_DNS		"application/dns-message"
#define CT_TEXT		"text/plain; charset=utf-8"

struct doh_listener {
	struct doh *d;
	struct evconnlistener *ev;
	struct tls_listener tls;
	char *path;
	char *text;
};

struct doh {
	struct worker *w;
	struct tls_server *tls;
	struct doh_listener *l;
	size_t n;
	TAILQ_HEAD(, doh_conn) conns;	/* oldest first */
	unsigned n_conns;
	bool stopping;
};

enum doh_method { M_NONE = 0, M_GET, M_POST, M_OTHER };

struct doh_stream {
	struct doh_conn *c;
	int32_t id;		/* 0: nghttp2 closed it; its query still runs */
	TAILQ_ENTRY(doh_stream) entry;
	struct query *q;	/* in flight, or NULL */
	enum doh_method method;
	bool head;		/* HEAD: the answer has no body (405 anyway) */
	char *target;		/* :path */
	size_t target_len;
	char *ctype;		/* content-type */
	bool accept_json;	/* accept: application/dns-json */
	long long clen;		/* content-length, -1: none */
	size_t hdr_bytes;
	bool hdr_too_big;
	bool target_too_long;
	uint8_t *body;
	size_t body_len, body_cap;
	bool complete;		/* END_STREAM seen: the request is whole */
	bool checked;		/* headers checked (early answer possible) */
	bool responded;		/* a response was submitted */
	bool early;		/* responded before the request was whole */
	bool json;
	struct timespec start;
	uint8_t *resp;
	size_t resp_len, resp_off;
};

struct doh_conn {
	struct doh *d;
	struct doh_listener *l;
	struct bufferevent *bev;
	nghttp2_session *sess;
	struct event *tick;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	TAILQ_HEAD(, doh_stream) streams;
	unsigned n_open;	/* streams nghttp2 still has */
	unsigned n_queries;	/* queries in flight (also of closed streams) */
	size_t body_bytes;	/* buffered request bodies */
	struct timespec last_active;	/* last request, or the handshake */
	time_t rst_window;
	unsigned rst_count;
	bool established;
	bool in_session;	/* inside nghttp2_session_mem_recv() */
	bool calm;		/* rapid reset: GOAWAY ENHANCE_YOUR_CALM */
	bool closing;		/* GOAWAY sent: close once answered */
	bool want_close;	/* close from the tick, not from here */
	bool failed;		/* TLS error: no close_notify */
	bool paused;		/* reading stopped (queries cap, output) */
	bool dead;		/* session over: lingering, no more calls into nghttp2 */
	bool resp_end;		/* the frame just made ends a response */
	struct evbuffer *resp;	/* frames of the response being made */
	struct timespec dead_at;
	const struct tenant *hint;	/* certificate tenant for hint_cfg */
	const struct config *hint_cfg;
	uint64_t hint_gen;		/* its gen (an address can be reused) */
	TAILQ_ENTRY(doh_conn) entry;
};

static inline const struct config *
conn_cfg(const struct doh_conn *c)
{
	return c->d->w->cfg;
}

static inline void
conn_peer_text(const struct doh_conn *c, char *out, size_t len)
{
	stream_addr_text((const struct sockaddr *)&c->peer, out, len);
}

/* doh.c */
/** Produce output while there is room; close (later) when both sides are
 * done.  Not from inside nghttp2_session_mem_recv(). */
void doh_conn_flush(struct doh_conn *c);
/** Read only while the client's queries in flight are under the cap and
 * it reads its answers. */
void doh_conn_pace(struct doh_conn *c);
/** Close c from its tick, not from inside the callback running now. */
void doh_conn_close_later(struct doh_conn *c);

/* doh_h2.c */
/** The nghttp2 server session of c, with our SETTINGS queued.
 * \return 0 or -ENOMEM. */
int doh_session_new(struct doh_conn *c) EG_MUSTCHECK;
/** Free a stream (its query, if any, loses its way back). */
void doh_stream_free(struct doh_stream *s);
