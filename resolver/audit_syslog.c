/* audit_syslog.c -- query records to a syslog collector (SIEM) over TCP or TLS
 *
 * Each record is an RFC 5424 message,
 *   <134>1 2026-12-01T18:50:27.123Z HOST egressd PID query - {"ts":...}
 * (facility local0, severity info; MSGID "query", or "records-lost" for the
 * line stating losses), framed by octet counting (RFC 6587 3.4.1:
 * "LEN SP MSG").  Messages wait in one bounded buffer (log.syslog-buffer);
 * while the collector is away it fills, and what no longer fits is
 * dropped and counted.  A message counts as written once its last byte
 * went out; after a broken connection the first message not fully sent
 * is sent again from its start, so framing stays intact.  Reconnects
 * back off exponentially (BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS).
 * Runs on the writer thread only; sockets are non-blocking, connects and
 * TLS handshakes bounded by CONNECT_TIMEOUT_MS.
 */
#include "autoconf.h"

#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "resolver/audit.h"
#include "resolver/audit_impl.h"
#include "resolver/config.h"
#include "resolver/log.h"

#define BACKOFF_MIN_MS		250
#define BACKOFF_MAX_MS		30000
#define CONNECT_TIMEOUT_MS	3000
#define FINAL_FLUSH_MS		3000	/* at exit: time given to deliver the rest */
#define SEND_CHUNK		(64 * 1024)
#define LOSS_MARKS		64	/* records-lost frames tracked (not records) */
#define SYSLOG_PRI		"<134>"	/* local0.info */

struct audit_syslog {
	struct audit *a;
	const struct audit_cfg *cfg;
	char host[256];			/* ours, for the HOSTNAME field */
	long pid;
	SSL_CTX *ctx;			/* tls:// only */
	SSL *ssl;
	int fd;				/* -1: not connected */
	unsigned backoff_ms;
	struct timespec next_try;
	bool warned_down;
	/* The buffer holds the byte stream from offset `base` on; offsets
	 * below are absolute positions in that stream. */
	char *buf;
	size_t cap;
	uint64_t base, end;		/* buf[0] is stream byte `base` */
	uint64_t sent;			/* bytes handed to the connection */
	uint64_t frame;			/* start of the first frame not fully sent */
	int tls_pending;		/* SSL_write to retry with this length */
	uint64_t loss[LOSS_MARKS];	/* start offsets of records-lost frames */
	size_t loss_head, loss_n;
	char msg[AUDIT_LINE_MAX + 512];
};

static long
ms_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

static void
disconnect(struct audit_syslog *s, const char *why, int err)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		/* once per outage: a collector that stays away is not news */
		if (!s->warned_down)
			log_warnx("query log: syslog %s:%s: %s%s%s; holding records "
			    "and retrying", s->cfg->syslog_host, s->cfg->syslog_port,
			    why, err ? ": " : "", err ? strerror(err) : "");
		s->warned_down = true;
	}
	/* resend the first incomplete message from its start */
	s->sent = s->frame;
	s->tls_pending = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->next_try);
	s->next_try.tv_nsec += (long)s->backoff_ms * 1000000L;
	s->next_try.tv_sec += s->next_try.tv_nsec / 1000000000L;
	s->next_try.tv_nsec %= 1000000000L;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    s->backoff_ms * 2;
}

/* Wait for fd to become ready for ev, at most ms.  \return > 0 ready. */
static int
wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return r > 0 && (p.revents & (ev | POLLERR | POLLHUP)) ? 1 : 0;
}

static int
tcp_connect(struct audit_syslog *s, int *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	int fd = -1, e = 0;
	socklen_t elen = sizeof(e);

	if ((e = getaddrinfo(s->cfg->syslog_host, s->cfg->syslog_port, &hints, &res)) != 0) {
		*err = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT, CONNECT_TIMEOUT_MS) &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 && e == 0))
			break;
		*err = errno == EINPROGRESS ? (e ? e : ETIMEDOUT) : errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
tls_handshake(struct audit_syslog *s)
{
	struct in6_addr ip;
	struct timespec until;
	const char *h = s->cfg->syslog_host;
	int r;

	if ((s->ssl = SSL_new(s->ctx)) == NULL || SSL_set_fd(s->ssl, s->fd) != 1)
		return -1;
	SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (inet_pton(AF_INET, h, &ip) == 1 || inet_pton(AF_INET6, h, &ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), h) != 1)
			return -1;
	} else if (SSL_set_tlsext_host_name(s->ssl, h) != 1 ||
	    SSL_set1_host(s->ssl, h) != 1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += CONNECT_TIMEOUT_MS / 1000;
	while ((r = SSL_connect(s->ssl)) != 1) {
		int e = SSL_get_error(s->ssl, r);
		long left = ms_until(&until);

		if (left <= 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE))
			return -1;
		wait_fd(s->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, (int)left);
	}
	return 0;
}

static void
try_connect(struct audit_syslog *s)
{
	int err = 0;

	if ((s->fd = tcp_connect(s, &err)) < 0) {
		if (!s->warned_down)
			log_warnx("query log: cannot reach syslog %s:%s: %s; holding "
			    "records and retrying", s->cfg->syslog_host,
			    s->cfg->syslog_port, strerror(err));
		s->warned_down = true;
		disconnect(s, "", 0);
		return;
	}
	if (s->ctx && tls_handshake(s) != 0) {
		unsigned long e = ERR_get_error();
		char why[256];

		ERR_clear_error();
		snprintf(why, sizeof(why), "TLS handshake failed: %s",
		    e ? ERR_reason_error_string(e) : "timeout or closed");
		disconnect(s, why, 0);
		return;
	}
	log_info("query log: connected to syslog %s:%s%s", s->cfg->syslog_host,
	    s->cfg->syslog_port, s->ctx ? " (TLS)" : "");
	s->warned_down = false;
	s->backoff_ms = BACKOFF_MIN_MS;
}

/* A collector that closed (or reset) the connection shows as readable
 * with nothing to read: notice before writing into a dead socket. */
static bool
peer_gone(struct audit_syslog *s)
{
	char scratch[512];
	ssize_t n;

	if (!wait_fd(s->fd, POLLIN, 0))
		return false;
	if (s->ssl) {
		int r = SSL_read(s->ssl, scratch, sizeof(scratch));
		int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);

		ERR_clear_error();
		return !(e == SSL_ERROR_NONE || e == SSL_ERROR_WANT_READ ||
		    e == SSL_ERROR_WANT_WRITE);
	}
	n = recv(s->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Count the frames whose last byte is out. */
static void
count_sent(struct audit_syslog *s)
{
	uint64_t done = 0;

	while (s->frame < s->sent) {
		const char *p = s->buf + (s->frame - s->base);
		uint64_t len = 0, hdr = 0;

		while (p[hdr] != ' ')
			len = len * 10 + (uint64_t)(p[hdr++] - '0');
		if (s->frame + hdr + 1 + len > s->sent)
			break;
		if (s->loss_n && s->loss[s->loss_head] == s->frame) {
			s->loss_head = (s->loss_head + 1) % LOSS_MARKS;
			s->loss_n--;
		} else
			done++;
		s->frame += hdr + 1 + len;
	}
	if (done)
		audit_count_written(s->a, done);
}

static void
send_some(struct audit_syslog *s)
{
	while (s->fd >= 0 && s->sent < s->end) {
		size_t n = s->end - s->sent > SEND_CHUNK ? SEND_CHUNK :
		    (size_t)(s->end - s->sent);
		const char *p = s->buf + (s->sent - s->base);
		ssize_t w;

		if (s->ssl) {
			int e;

			if (s->tls_pending)
				n = (size_t)s->tls_pending;
			if ((w = SSL_write(s->ssl, p, (int)n)) <= 0) {
				e = SSL_get_error(s->ssl, (int)w);
				ERR_clear_error();
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					s->tls_pending = (int)n;
					return;
				}
				disconnect(s, "TLS write failed", 0);
				return;
			}
			s->tls_pending = 0;
		} else if ((w = send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			disconnect(s, "send", errno);
			return;
		}
		s->sent += (uint64_t)w;
		count_sent(s);
	}
}

/* Drop what is delivered from the front of the buffer. */
static void
compact(struct audit_syslog *s)
{
	size_t drop = (size_t)(s->frame - s->base);

	if (drop == 0)
		return;
	memmove(s->buf, s->buf + drop, (size_t)(s->end - s->frame));
	s->base = s->frame;
}

bool
audit_syslog_add(struct audit_syslog *s, const char *line, size_t len,
    const struct timespec *ts, bool is_loss)
{
	char stamp[80], hdr[24];
	struct tm tm;
	int mlen, hlen;

	if (len && line[len - 1] == '\n')
		len--;
	gmtime_r(&ts->tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts->tv_nsec / 1000000);
	mlen = snprintf(s->msg, sizeof(s->msg), SYSLOG_PRI "1 %s %s egressd %ld %s - %.*s",
	    stamp, s->host, s->pid, is_loss ? "records-lost" : "query", (int)len, line);
	if (mlen < 0 || (size_t)mlen >= sizeof(s->msg)) {
		audit_count_lost(s->a, !is_loss);
		return false;
	}
	hlen = snprintf(hdr, sizeof(hdr), "%d ", mlen);
	if (s->end - s->base + (uint64_t)(hlen + mlen) > s->cap)
		compact(s);
	if (s->end - s->base + (uint64_t)(hlen + mlen) > s->cap ||
	    (is_loss && s->loss_n == LOSS_MARKS)) {
		audit_count_lost(s->a, !is_loss);	/* stated in the next loss line */
		return false;
	}
	if (is_loss) {
		s->loss[(s->loss_head + s->loss_n) % LOSS_MARKS] = s->end;
		s->loss_n++;
	}
	memcpy(s->buf + (s->end - s->base), hdr, (size_t)hlen);
	memcpy(s->buf + (s->end - s->base) + hlen, s->msg, (size_t)mlen);
	s->end += (uint64_t)(hlen + mlen);
	return true;
}

void
audit_syslog_pump(struct audit_syslog *s, bool final)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += FINAL_FLUSH_MS / 1000;
	do {
		if (s->fd >= 0 && peer_gone(s))
			disconnect(s, "connection closed by the collector", 0);
		if (s->fd < 0 && s->end > s->frame && ms_until(&s->next_try) <= 0)
			try_connect(s);
		send_some(s);
		if (s->frame > s->base + s->cap / 2)
			compact(s);
		if (!final || s->frame == s->end || ms_until(&until) <= 0)
			break;
		if (s->fd >= 0)
			wait_fd(s->fd, POLLOUT, 100);
		else
			usleep(100 * 1000);
	} while (1);
}

int
audit_syslog_new(struct audit_syslog **out, struct audit *a,
    const struct audit_cfg *cfg, char *err, size_t errlen)
{
	struct audit_syslog *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->a = a;
	s->cfg = cfg;
	s->fd = -1;
	s->pid = (long)getpid();
	s->backoff_ms = BACKOFF_MIN_MS;
	clock_gettime(CLOCK_MONOTONIC, &s->next_try);
	if (gethostname(s->host, sizeof(s->host) - 1) != 0 || s->host[0] == '\0')
		strcpy(s->host, "-");
	for (char *p = s->host; *p; p++)	/* PRINTUSASCII, no spaces */
		if (*p <= ' ' || *p > '~')
			*p = '_';
	s->cap = cfg->syslog_buffer;
	if ((s->buf = malloc(s->cap)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	if (cfg->syslog_tls) {
		if ((s->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION) != 1 ||
		    (cfg->syslog_ca ? SSL_CTX_load_verify_locations(s->ctx,
		    cfg->syslog_ca, NULL) : SSL_CTX_set_default_verify_paths(s->ctx)) != 1) {
			snprintf(err, errlen, "log.syslog-ca: cannot load %s",
			    cfg->syslog_ca ? cfg->syslog_ca : "the system CAs");
			audit_syslog_free(s);
			return -EIO;
		}
		SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	}
	*out = s;
	return 0;
}

void
audit_syslog_free(struct audit_syslog *s)
{
	uint64_t left = 0;

	if (s == NULL)
		return;
	/* what never reached the collector is lost: say so in the metric */
	for (uint64_t f = s->frame; f < s->end;) {
		const char *p = s->buf + (f - s->base);
		uint64_t len = 0, hdr = 0;

		while (p[hdr] != ' ')
			len = len * 10 + (uint64_t)(p[hdr++] - '0');
		f += hdr + 1 + len;
		left++;
	}
	if (left > s->loss_n) {
		audit_count_lost(s->a, left - s->loss_n);
		log_warnx("query log: %llu records not delivered to syslog at exit",
		    (unsigned long long)(left - s->loss_n));
	}
	if (s->ssl) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->fd >= 0)
		close(s->fd);
	SSL_CTX_free(s->ctx);
	free(s->buf);
	free(s);
}
