/* probe.c -- security-node health checks in their own thread and event loop
 *
 * Every interval, one non-blocking connect() per node to the health-check
 * port: done (SO_ERROR 0) is up; refused, unreachable or still pending at
 * the timeout is down.  The connection is then reset (SO_LINGER 0), so a
 * check leaves no TIME_WAIT behind on either side.  The only state shared
 * with the query threads is each node's atomic health flag in the pools.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver/log.h"
#include "resolver/policy/node.h"
#include "resolver/probe.h"

struct check {
	struct probe *pr;
	size_t node;
	int fd;			/* -1: no check in flight */
	struct event *ev;	/* the connect's completion or timeout */
};

struct probe {
	struct node_pools *pools;
	struct node_check cfg;
	struct event_base *base;
	struct event *tick;
	struct event *wake;	/* stop requested: read end of the pipe */
	int pipe[2];
	pthread_t thread;
	struct check *checks;
	size_t n;
};

static void
check_end(struct check *c, bool up, const char *why)
{
	struct probe *pr = c->pr;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (c->ev) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->fd >= 0) {
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
		c->fd = -1;
	}
	if (!node_set_up(pr->pools, c->node, up))
		return;
	if (up)
		log_info("security node %s port %u is up again",
		    node_text(pr->pools, c->node), pr->cfg.port);
	else
		log_warnx("security node %s port %u is down: %s; not handed out "
		    "while its pool or the default pool has a healthy node",
		    node_text(pr->pools, c->node), pr->cfg.port, why);
}

static void
on_connect(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (what & EV_TIMEOUT) {
		check_end(c, false, "connect timed out");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		soerr = errno;
	check_end(c, soerr == 0, strerror(soerr));
}

static void
check_start(struct check *c)
{
	struct probe *pr = c->pr;
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { pr->cfg.timeout_ms / 1000, (pr->cfg.timeout_ms % 1000) * 1000 };
	uint8_t addr[16];
	socklen_t len;
	int family;

	if (c->fd >= 0)		/* the last one is still running: it decides */
		return;
	node_addr(pr->pools, c->node, &family, addr);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(pr->cfg.port);
		memcpy(&s4->sin_addr, addr, 4);
		len = sizeof(*s4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(pr->cfg.port);
		memcpy(&s6->sin6_addr, addr, 16);
		len = sizeof(*s6);
	}
	if ((c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		/* our problem (fd limit), not the node's: keep its state */
		log_warn("security node %s: no socket for the health check",
		    node_text(pr->pools, c->node));
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, len) == 0) {
		check_end(c, true, NULL);
		return;
	}
	if (errno != EINPROGRESS) {
		check_end(c, false, strerror(errno));
		return;
	}
	if ((c->ev = event_new(pr->base, c->fd, EV_WRITE, on_connect, c)) == NULL ||
	    event_add(c->ev, &tv) != 0) {
		log_warnx("security node %s: cannot wait for the health check",
		    node_text(pr->pools, c->node));
		if (c->ev)
			event_free(c->ev);
		c->ev = NULL;
		close(c->fd);
		c->fd = -1;
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct probe *pr = arg;

	for (size_t i = 0; i < pr->n; i++)
		check_start(&pr->checks[i]);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct probe *pr = arg;

	event_base_loopbreak(pr->base);
}

static void *
run(void *arg)
{
	struct probe *pr = arg;

	on_tick(-1, 0, pr);
	event_base_dispatch(pr->base);
	return NULL;
}

/* Free what probe_start() built; the thread is not running. */
static void
probe_free(struct probe *pr)
{
	for (size_t i = 0; pr->checks && i < pr->n; i++) {
		if (pr->checks[i].ev)
			event_free(pr->checks[i].ev);
		if (pr->checks[i].fd >= 0)
			close(pr->checks[i].fd);
	}
	free(pr->checks);
	if (pr->tick)
		event_free(pr->tick);
	if (pr->wake)
		event_free(pr->wake);
	if (pr->base)
		event_base_free(pr->base);
	for (size_t i = 0; i < 2; i++)
		if (pr->pipe[i] >= 0)
			close(pr->pipe[i]);
	free(pr);
}

int
probe_start(struct probe **out, struct node_pools *pools,
    const struct node_check *cfg, char *err, size_t errlen)
{
	struct timeval iv = { cfg->interval_ms / 1000, (cfg->interval_ms % 1000) * 1000 };
	sigset_t all, old;
	struct probe *pr;
	int r;

	if (pools == NULL || cfg->port == 0 || cfg->timeout_ms == 0 ||
	    cfg->timeout_ms >= cfg->interval_ms) {
		snprintf(err, errlen, "health check: bad port, interval or timeout");
		return -EINVAL;
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		goto nomem;
	pr->pools = pools;
	pr->cfg = *cfg;
	pr->pipe[0] = pr->pipe[1] = -1;
	pr->n = node_count(pools);
	if ((pr->checks = calloc(pr->n ? pr->n : 1, sizeof(*pr->checks))) == NULL)
		goto nomem;
	for (size_t i = 0; i < pr->n; i++)
		pr->checks[i] = (struct check){ .pr = pr, .node = i, .fd = -1 };
	if (pipe2(pr->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = -errno;
		snprintf(err, errlen, "health check: pipe: %s", strerror(errno));
		probe_free(pr);
		return r;
	}
	if ((pr->base = event_base_new()) == NULL ||
	    (pr->tick = event_new(pr->base, -1, EV_PERSIST, on_tick, pr)) == NULL ||
	    (pr->wake = event_new(pr->base, pr->pipe[0], EV_READ, on_wake, pr)) == NULL ||
	    event_add(pr->tick, &iv) != 0 || event_add(pr->wake, NULL) != 0)
		goto nomem;
	/* signals stay with the thread that handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&pr->thread, NULL, run, pr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		snprintf(err, errlen, "health check: cannot start a thread: %s", strerror(r));
		probe_free(pr);
		return -r;
	}
	log_info("health checks: %zu security node%s, TCP port %u every %u ms, "
	    "timeout %u ms", pr->n, pr->n == 1 ? "" : "s", cfg->port,
	    cfg->interval_ms, cfg->timeout_ms);
	*out = pr;
	return 0;
nomem:
	snprintf(err, errlen, "health check: out of memory");
	if (pr)
		probe_free(pr);
	return -ENOMEM;
}

void
probe_stop(struct probe *pr)
{
	if (pr == NULL)
		return;
	if (write(pr->pipe[1], "x", 1) != 1)
		log_warn("health check: cannot wake the prober");
	pthread_join(pr->thread, NULL);
	probe_free(pr);
}
