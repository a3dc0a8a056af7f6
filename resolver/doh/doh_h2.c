/* doh_h2.c -- DoH requests on an HTTP/2 session: nghttp2 callbacks, checks, queries, responses
 *
 * One nghttp2 server session per connection (doh.c pumps the bytes).
 * Its callbacks collect each stream's request: method, target, content
 * type and length, Accept, the body.  What the headers alone decide
 * (path, token, method, content type, a body announced too large) is
 * answered as soon as they are in; a whole request becomes a struct query
 * with transport doh and the tenant hint of the token (else the client
 * certificate), and doh_send() turns the pipeline's wire answer into the
 * response: application/dns-message or, for the JSON API,
 * application/dns-json, with Cache-Control max-age from the answer's TTLs.
 * A stream the client resets while its query runs stays (unlinked from
 * nghttp2) until the answer comes, so that queries in flight per
 * connection stay counted: that is what bounds HTTP/2 rapid reset's work.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "resolver/answer.h"
#include "resolver/config.h"
#include "resolver/doh/doh_http.h"
#include "resolver/doh/doh_impl.h"
#include "resolver/doh/doh_json.h"
#include "resolver/dot/tls.h"
#include "resolver/log.h"
#include "resolver/metrics.h"
#include "resolver/packet.h"
#include "resolver/policy/tenant.h"
#include "resolver/query.h"
#include "resolver/worker.h"

#define CT_DNS		"application/dns-message"
#define CT_TEXT		"text/plain; charset=utf-8"

void
doh_stream_free(struct doh_stream *s)
{
	struct doh_conn *c = s->c;

	TAILQ_REMOVE(&c->streams, s, entry);
	if (s->q) {	/* the pipeline still has it: the answer goes nowhere */
		s->q->tctx = NULL;
		c->n_queries--;
	}
	c->body_bytes -= s->body_cap;
	free(s->target);
	free(s->ctype);
	free(s->body);
	free(s->resp);
	free(s);
}

/* ---- responses ---- */

static ssize_t
resp_read(nghttp2_session *sess, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct doh_stream *s = src->ptr;
	size_t n = s->resp_len - s->resp_off;

	if (n > len)
		n = len;
	memcpy(buf, s->resp + s->resp_off, n);
	s->resp_off += n;
	if (s->resp_off == s->resp_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define NV(n, v, vl) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), \
	NGHTTP2_NV_FLAG_NO_COPY_NAME }

/*
 * Submit the response of stream s: status, content type, the body
 * (copied), and for 200 Cache-Control with max_age.  \return 0 or -1
 * (the stream is reset).
 */
static int
respond(struct doh_stream *s, int status, const char *ctype,
    const void *body, size_t len, uint32_t max_age)
{
	struct doh_conn *c = s->c;
	char st[8], cl[24], cc[32];
	nghttp2_nv nv[6] = {
		NV(":status", st, 0),
		NV("content-type", ctype, strlen(ctype)),
		NV("content-length", cl, 0),
	};
	size_t n = 3;
	nghttp2_data_provider prd = { .source.ptr = s, .read_callback = resp_read };

	if (s->responded || s->id == 0)
		return 0;
	s->responded = true;
	s->early = !s->complete;
	nv[0].valuelen = (size_t)snprintf(st, sizeof(st), "%d", status);
	nv[2].valuelen = (size_t)snprintf(cl, sizeof(cl), "%zu", len);
	if (status == 200) {
		nghttp2_nv x = NV("cache-control", cc, (size_t)snprintf(cc,
		    sizeof(cc), "max-age=%u", (unsigned)max_age));
		nv[n++] = x;
	} else {
		nghttp2_nv x = NV("cache-control", "no-store", 8);
		nv[n++] = x;
	}
	if (status == 405) {
		nghttp2_nv x = NV("allow", "GET, POST", 9);
		nv[n++] = x;
	}
	if (len && (s->resp = malloc(len)) == NULL) {
		(void)nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_INTERNAL_ERROR);
		return -1;
	}
	if (len)
		memcpy(s->resp, body, len);
	s->resp_len = len;
	if (nghttp2_submit_response(c->sess, s->id, nv, n, len && !s->head ?
	    &prd : NULL) != 0) {
		(void)nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_INTERNAL_ERROR);
		return -1;
	}
	return 0;
}

/* An error answer with a one-line text body. */
static void
respond_error(struct doh_stream *s, int status, const char *text)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, text);

	(void)respond(s, status, CT_TEXT, body, (size_t)n, 0);
}

/* The pipeline's answer to the query of a stream. */
static void
doh_send(struct query *q, const uint8_t *ans, size_t len)
{
	struct doh_stream *s = q->tctx;
	struct doh_conn *c = s->c;
	q->tctx = NULL;
	s->q = NULL;
	c->n_queries--;
	if (s->id == 0) {	/* the client reset the stream meanwhile */
		doh_stream_free(s);
	} else if (ans == NULL) {
		respond_error(s, 500, "no answer");
	} else if (s->json) {
		char *json;
		size_t jlen;

		if (doh_json_render(ans, len, &json, &jlen) != 0) {
			respond_error(s, 500, "cannot render the answer");
		} else {
			(void)respond(s, 200, DOH_JSON_TYPE, json, jlen,
			    doh_cache_ttl(ans, len));
			free(json);
		}
	} else {
		uint32_t ttl = doh_cache_ttl(ans, len);
		uint8_t *padded = NULL;
		size_t n = 0, cap = len + DOH_PAD_BLOCK + 16;

		/* RFC 8467: padded answers to padded queries (ans may be
		 * the worker's scratch, so pad into a buffer of our own) */
		if (q->pq.edns && q->pq.padding && cap <= QUERY_MAX_WIRE &&
		    (padded = malloc(cap)) != NULL &&
		    (n = answer_stream_options(ans, len, padded, cap, -1,
		    DOH_PAD_BLOCK)) != 0) {
			ans = padded;
			len = n;
		}
		(void)respond(s, 200, CT_DNS, ans, len, ttl);
		free(padded);
	}
	if (!c->in_session) {
		doh_conn_flush(c);
		doh_conn_pace(c);
	}
}

static const struct query_ops doh_ops = { .send = doh_send };

/* ---- requests ---- */

/* The tenant the client certificate names, for the running config. */
static const struct tenant *
conn_cert_tenant(struct doh_conn *c)
{
	const struct config *cfg = conn_cfg(c);
	SSL *ssl;

	if (c->hint_cfg != cfg || c->hint_gen != cfg->gen) {
		ssl = bufferevent_openssl_get_ssl(c->bev);
		c->hint = ssl ? tls_peer_tenant(ssl, &cfg->tenants) : NULL;
		c->hint_cfg = cfg;
		c->hint_gen = cfg->gen;
	}
	return c->hint;
}

/*
 * What the headers alone decide: path, token, method, content type and
 * length.  \return 0 to go on, -1 when answered (an error).
 */
static int
check_headers(struct doh_conn *c, struct doh_stream *s, struct doh_target *t,
    const struct tenant **hint)
{
	const struct config *cfg = conn_cfg(c);

	s->checked = true;
	if (s->hdr_too_big) {
		respond_error(s, 431, "request header fields too large");
		return -1;
	}
	if (s->target_too_long) {
		respond_error(s, 414, "URI too long");
		return -1;
	}
	if (s->target == NULL ||
	    doh_target_parse(s->target, s->target_len, c->l->path, t) != 0) {
		respond_error(s, 404, "not found");
		return -1;
	}
	if (s->method != M_GET && s->method != M_POST) {
		respond_error(s, 405, "method not allowed");
		return -1;
	}
	*hint = NULL;
	if (t->token != NULL &&
	    (*hint = tenants_match_token(&cfg->tenants, t->token,
	    t->token_len)) == NULL) {
		char peer[64];

		metrics_doh_unknown_token(c->d->w->metrics);
		conn_peer_text(c, peer, sizeof(peer));
		log_debug("doh: %s: unknown tenant token: 404", peer);
		respond_error(s, 404, "not found");
		return -1;
	}
	if (s->method == M_POST) {
		if (s->ctype == NULL || !doh_accepts(s->ctype, strlen(s->ctype),
		    CT_DNS)) {
			respond_error(s, 415, "unsupported media type: send "
			    "application/dns-message");
			return -1;
		}
		if (s->clen > DOH_MAX_BODY) {
			respond_error(s, 413, "payload too large");
			return -1;
		}
	}
	return 0;
}

/*
 * The DNS message of a GET: ?dns= in wire form or, for JSON, ?name=&type=.
 * \return 0 with the message in out, or -1 when answered (an error).
 */
static int
get_message(struct doh_stream *s, const struct doh_target *t, uint8_t *out,
    size_t cap, size_t *len)
{
	char ct[DOH_CT_MAX], name[DOH_NAME_MAX], type[DOH_TYPE_MAX], flag[8];
	const char *qs = t->query ? t->query : "";
	size_t qlen = t->query ? t->query_len : 0, n;
	bool cd = false, dobit = false;
	int r;

	if ((r = doh_query_param(qs, qlen, "ct", ct, sizeof(ct), &n)) == 0)
		s->json = doh_accepts(ct, n, DOH_JSON_TYPE);
	else if (r != -ENOENT) {
		respond_error(s, 400, "bad ct parameter");
		return -1;
	}
	if ((r = doh_query_param(qs, qlen, "dns", (char *)out, cap, &n)) == -ENOENT &&
	    (s->json || s->accept_json))
		s->json = true;
	if (s->json) {
		const char *tp = type;

		if ((r = doh_query_param(qs, qlen, "name", name, sizeof(name), &n)) != 0) {
			respond_error(s, 400, r == -ENOENT ? "missing name parameter" :
			    "bad name parameter");
			return -1;
		}
		if ((r = doh_query_param(qs, qlen, "type", type, sizeof(type), &n)) == -ENOENT)
			tp = NULL;
		else if (r != 0) {
			respond_error(s, 400, "bad type parameter");
			return -1;
		}
		if (doh_query_param(qs, qlen, "cd", flag, sizeof(flag), &n) == 0)
			cd = strcmp(flag, "1") == 0 || strcmp(flag, "true") == 0;
		if (doh_query_param(qs, qlen, "do", flag, sizeof(flag), &n) == 0)
			dobit = strcmp(flag, "1") == 0 || strcmp(flag, "true") == 0;
		if (doh_json_query(name, tp, cd, dobit, out, cap, len) != 0) {
			respond_error(s, 400, "bad name or type");
			return -1;
		}
		return 0;
	}
	if (r != 0) {
		respond_error(s, 400, r == -ENOENT ? "missing dns parameter" :
		    "bad dns parameter");
		return -1;
	}
	/* decode in place: the decoded form is shorter than the text */
	if ((r = doh_b64url_decode((char *)out, n, out, cap, len)) != 0) {
		respond_error(s, r == -E2BIG ? 413 : 400, r == -E2BIG ?
		    "payload too large" : "dns parameter is not base64url "
		    "without padding");
		return -1;
	}
	return 0;
}

/* A whole request: turn it into a query and start the pipeline. */
static void
request(struct doh_conn *c, struct doh_stream *s)
{
	struct worker *w = c->d->w;
	const struct tenant *hint = NULL;
	struct doh_target t;
	uint8_t *msg = w->ans;	/* scratch until query_new() copies it */
	struct pkt_query pq;
	size_t len = 0;
	struct query *q;

	if (s->responded)
		return;
	if (check_headers(c, s, &t, &hint) != 0)
		return;
	if (s->method == M_GET) {
		if (get_message(s, &t, msg, sizeof(w->ans), &len) != 0)
			return;
	} else {
		if (s->body_len == 0) {
			respond_error(s, 400, "empty body");
			return;
		}
		msg = s->body;
		len = s->body_len;
	}
	/* RFC 8484 leaves it to us: a message that is not a DNS query is
	 * an HTTP error, not a DNS one */
	switch (pkt_parse_query(msg, len, &pq)) {
	case PKT_DROP:
	case PKT_FORMERR:
		respond_error(s, 400, "malformed DNS query");
		return;
	default:
		break;
	}
	if ((q = query_new(w, TRANSPORT_DOH, (struct sockaddr *)&c->peer,
	    c->peerlen, msg, len)) == NULL) {
		w->stats.dropped++;
		respond_error(s, 503, "busy");
		return;
	}
	q->ops = &doh_ops;
	q->tctx = s;
	q->tenant_hint = hint ? hint : conn_cert_tenant(c);
	s->q = q;
	c->n_queries++;
	query_start(q);
}

/* ---- nghttp2 callbacks ---- */

static int
on_begin_headers(nghttp2_session *sess, const nghttp2_frame *f, void *arg)
{
	struct doh_conn *c = arg;
	struct doh_stream *s;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* resets it */
	s->c = c;
	s->id = f->hd.stream_id;
	s->clen = -1;
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	c->last_active = s->start;
	TAILQ_INSERT_TAIL(&c->streams, s, entry);
	c->n_open++;
	if (nghttp2_session_set_stream_user_data(sess, s->id, s) != 0) {
		c->n_open--;
		doh_stream_free(s);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

static bool
is(const uint8_t *name, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(name, lit, len) == 0;
}

static int
on_header(nghttp2_session *sess, const nghttp2_frame *f, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
    void *arg)
{
	struct doh_stream *s;

	if (f->hd.type != NGHTTP2_HEADERS ||
	    (s = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id)) == NULL)
		return 0;
	/* RFC 9113 6.5.2: name + value + 32 per field */
	s->hdr_bytes += namelen + valuelen + 32;
	if (s->hdr_bytes > DOH_MAX_HEADER_LIST) {
		s->hdr_too_big = true;
		return 0;
	}
	if (is(name, namelen, ":method")) {
		s->method = is(value, valuelen, "GET") ? M_GET :
		    is(value, valuelen, "POST") ? M_POST : M_OTHER;
		s->head = is(value, valuelen, "HEAD");
	} else if (is(name, namelen, ":path")) {
		if (valuelen > DOH_MAX_TARGET) {
			s->target_too_long = true;
			return 0;
		}
		free(s->target);
		if ((s->target = strndup((const char *)value, valuelen)) == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		s->target_len = valuelen;
	} else if (is(name, namelen, "content-type")) {
		free(s->ctype);
		if ((s->ctype = strndup((const char *)value, valuelen)) == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	} else if (is(name, namelen, "accept")) {
		if (doh_accepts((const char *)value, valuelen, DOH_JSON_TYPE))
			s->accept_json = true;
	} else if (is(name, namelen, "content-length")) {
		/* nghttp2 checked it is a number and will hold the body to it */
		char buf[24];

		if (valuelen >= sizeof(buf))
			s->clen = (long long)DOH_MAX_BODY + 1;
		else {
			memcpy(buf, value, valuelen);
			buf[valuelen] = '\0';
			s->clen = strtoll(buf, NULL, 10);
		}
	}
	return 0;
}

static int
on_data_chunk(nghttp2_session *sess, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	struct doh_conn *c = arg;
	struct doh_stream *s = nghttp2_session_get_stream_user_data(sess, id);

	if (s == NULL || s->responded)
		return 0;	/* answered early: the rest is discarded */
	if (s->method != M_POST || len > DOH_MAX_BODY - s->body_len) {
		if (s->method == M_POST)
			respond_error(s, 413, "payload too large");
		else
			respond_error(s, 400, "a body is only for POST");
		free(s->body);
		c->body_bytes -= s->body_cap;
		s->body = NULL;
		s->body_len = s->body_cap = 0;
		return 0;
	}
	if (s->body_len + len > s->body_cap) {
		size_t cap = s->body_cap ? s->body_cap : 512;
		uint8_t *nb;

		while (cap < s->body_len + len)
			cap *= 2;
		if (cap > DOH_MAX_BODY)
			cap = DOH_MAX_BODY;
		if (c->body_bytes - s->body_cap + cap > DOH_MAX_CONN_BODY) {
			/* too much held for this client at once: retry later */
			s->responded = true;	/* nothing more of it is read */
			return nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, id,
			    NGHTTP2_REFUSED_STREAM) == 0 ? 0 :
			    NGHTTP2_ERR_CALLBACK_FAILURE;
		}
		if ((nb = realloc(s->body, cap)) == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		c->body_bytes += cap - s->body_cap;
		s->body = nb;
		s->body_cap = cap;
	}
	memcpy(s->body + s->body_len, data, len);
	s->body_len += len;
	return 0;
}

static int
on_frame_recv(nghttp2_session *sess, const nghttp2_frame *f, void *arg)
{
	struct doh_conn *c = arg;
	struct doh_stream *s;
	struct doh_target t;
	const struct tenant *hint;
	time_t now;

	switch (f->hd.type) {
	case NGHTTP2_RST_STREAM:
		now = time(NULL);
		if (now >= c->rst_window + DOH_RST_WINDOW_S) {
			c->rst_window = now;
			c->rst_count = 0;
		}
		if (++c->rst_count > DOH_RST_MAX)
			c->calm = true;
		return 0;
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		break;
	default:
		return 0;
	}
	if ((s = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id)) == NULL)
		return 0;
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
		s->complete = true;
		request(c, s);
	} else if (f->hd.type == NGHTTP2_HEADERS && !s->checked) {
		/* a body follows: refuse now what the headers already say */
		(void)check_headers(c, s, &t, &hint);
	}
	return 0;
}

static int
on_frame_send(nghttp2_session *sess, const nghttp2_frame *f, void *arg)
{
	struct doh_conn *c = arg;
	struct doh_stream *s;

	if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	c->resp_end = true;	/* a response is whole: doh_conn_flush() */
	if ((s = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id)) == NULL)
		return 0;
	/* answered before the body was whole: ask the client to stop
	 * sending it (RFC 9113 8.1) */
	if (s->early && !s->complete)
		(void)nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_NO_ERROR);
	return 0;
}

static int
on_stream_close(nghttp2_session *sess, int32_t id, uint32_t code, void *arg)
{
	struct doh_conn *c = arg;
	struct doh_stream *s = nghttp2_session_get_stream_user_data(sess, id);

	if (s == NULL)
		return 0;
	c->n_open--;
	s->id = 0;
	if (s->q == NULL)
		doh_stream_free(s);
	/* else: freed when its answer comes (doh_send) */
	return 0;
}

int
doh_session_new(struct doh_conn *c)
{
	const struct config *cfg = conn_cfg(c);
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->doh_max_streams },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, DOH_MAX_HEADER_LIST },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};
	int r;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -ENOMEM;
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cb);
		return -ENOMEM;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_option_set_max_outbound_ack(opt, DOH_MAX_OUTBOUND_ACK);
	nghttp2_option_set_max_settings(opt, DOH_MAX_SETTINGS);
	nghttp2_option_set_max_continuations(opt, DOH_MAX_CONTINUATIONS);
	nghttp2_option_set_no_closed_streams(opt, 1);
	r = nghttp2_session_server_new2(&c->sess, cb, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (r != 0)
		return -ENOMEM;
	if (nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(*iv)) != 0)
		return -ENOMEM;
	return 0;
}

