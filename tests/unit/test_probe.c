/* test_probe.c -- security-node health checks against listeners on loopback
 *
 * Only 127.0.0.1 and ::1 are ever probed.  Each test owns its listeners:
 * a node goes down (listener closed: refused; accept queue full: the
 * connect times out) and comes back up (listener reopened on the port).
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver/policy/node.h"
#include "resolver/probe.h"

#define INTERVAL_MS	200
#define TIMEOUT_MS	100
#define SLACK_MS	400	/* scheduling, on a loaded machine */
#define WAIT_MS		3000	/* a change must show within this */

/* Listeners that accept (and close) what comes, as a proxy would; a
 * queue that nobody empties fills and then drops SYNs. */
static int served[4] = { -1, -1, -1, -1 };

static void
serve(int fd)
{
	for (size_t i = 0; i < 4; i++)
		if (served[i] < 0 || served[i] == fd) {
			served[i] = fd;
			return;
		}
	fail_msg("too many listeners");
}

static void
unserve_close(int fd)
{
	for (size_t i = 0; i < 4; i++)
		if (served[i] == fd)
			served[i] = -1;
	close(fd);
}

/* Sleep ms, accepting and closing on the served listeners meanwhile. */
static void
pause_ms(long ms)
{
	for (long t = 0; t < ms; t += 10) {
		for (size_t i = 0; i < 4; i++) {
			int c;

			while (served[i] >= 0 && (c = accept4(served[i], NULL, NULL,
			    SOCK_CLOEXEC)) >= 0)
				close(c);
		}
		usleep(10000);
	}
}

/* A TCP listener on loopback, non-blocking; port 0 picks one.
 * \return the socket. */
static int
listen_on(int family, uint16_t *port, int backlog)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1;

	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(*port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(*port);
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	}
	assert_true((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		fail_msg("bind: %s", strerror(errno));
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until node i is in state up; \return the milliseconds it took,
 * or -1 when it did not happen within WAIT_MS. */
static long
wait_for(const struct node_pools *p, size_t i, bool up)
{
	long start = now_ms();

	while (now_ms() - start < WAIT_MS) {
		if (node_is_up(p, i) == up)
			return now_ms() - start;
		pause_ms(10);
	}
	return -1;
}

static struct node_pools *
pools_of(const char *a, const char *b)
{
	struct node_pools *p;
	size_t def, bad;

	assert_int_equal(node_pools_new(&p), 0);
	assert_int_equal(node_pools_add(p, "default", &def), 0);
	assert_int_equal(node_pools_add_address(p, def, a), 0);
	if (b)
		assert_int_equal(node_pools_add_address(p, def, b), 0);
	assert_int_equal(node_pools_finish(p, &bad), 0);
	return p;
}

static void
test_bad_args(void **state)
{
	struct node_pools *p = pools_of("127.0.0.1", NULL);
	struct probe *pr = (struct probe *)&pr;
	struct node_check hc = { 443, 1000, 1000 };
	char err[256];

	assert_int_equal(probe_start(&pr, p, &hc, err, sizeof(err)), -EINVAL);
	hc.timeout_ms = 0;
	assert_int_equal(probe_start(&pr, p, &hc, err, sizeof(err)), -EINVAL);
	hc = (struct node_check){ 0, 1000, 100 };
	assert_int_equal(probe_start(&pr, p, &hc, err, sizeof(err)), -EINVAL);
	hc.port = 443;
	assert_int_equal(probe_start(&pr, NULL, &hc, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(pr, (struct probe *)&pr);
	probe_stop(NULL);
	node_pools_free(p);
}

/* Down when refused, up when it listens again, for IPv4 and IPv6 at once;
 * each node judged on its own. */
static void
test_down_up(void **state)
{
	struct node_pools *p = pools_of("127.0.0.1", "::1");
	struct node_check hc = { 0, INTERVAL_MS, TIMEOUT_MS };
	struct probe *pr;
	uint16_t port = 0;
	int l4, l6;
	long t;
	char err[256];

	/* the same port on both families: v4 first, then v6 */
	serve(l4 = listen_on(AF_INET, &port, 16));
	serve(l6 = listen_on(AF_INET6, &port, 16));
	hc.port = port;
	if (probe_start(&pr, p, &hc, err, sizeof(err)) != 0)
		fail_msg("probe_start: %s", err);
	pause_ms(3 * INTERVAL_MS);
	assert_true(node_is_up(p, 0));
	assert_true(node_is_up(p, 1));
	/* v4 goes away: within interval + timeout (and some slack) */
	unserve_close(l4);
	if ((t = wait_for(p, 0, false)) < 0)
		fail_msg("127.0.0.1 never marked down");
	assert_true(t <= INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
	assert_true(node_is_up(p, 1));
	/* and comes back */
	serve(l4 = listen_on(AF_INET, &port, 16));
	if ((t = wait_for(p, 0, true)) < 0)
		fail_msg("127.0.0.1 never marked up again");
	assert_true(t <= INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
	/* v6 goes away */
	unserve_close(l6);
	if (wait_for(p, 1, false) < 0)
		fail_msg("::1 never marked down");
	assert_true(node_is_up(p, 0));
	probe_stop(pr);
	unserve_close(l4);
	node_pools_free(p);
}

/* A node whose accept queue is full drops our SYN: the connect is still
 * pending at the timeout, which is a failure too. */
static void
test_timeout(void **state)
{
	struct node_pools *p = pools_of("127.0.0.1", NULL);
	struct node_check hc = { 0, INTERVAL_MS, TIMEOUT_MS };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct probe *pr;
	uint16_t port = 0;
	int l, filler[8];
	size_t nf = 0;
	char err[256];

	l = listen_on(AF_INET, &port, 0);
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* fill the accept queue: connect until one does not complete */
	for (nf = 0; nf < 8; nf++) {
		fd_set w;
		struct timeval tv = { 0, 200000 };

		assert_true((filler[nf] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0);
		if (connect(filler[nf], (struct sockaddr *)&sa, sizeof(sa)) == 0)
			continue;
		assert_int_equal(errno, EINPROGRESS);
		FD_ZERO(&w);
		FD_SET(filler[nf], &w);
		if (select(filler[nf] + 1, NULL, &w, NULL, &tv) == 0) {
			nf++;
			break;	/* this one hangs: the queue is full */
		}
	}
	assert_true(nf < 8);
	hc.port = port;
	if (probe_start(&pr, p, &hc, err, sizeof(err)) != 0)
		fail_msg("probe_start: %s", err);
	if (wait_for(p, 0, false) < 0)
		fail_msg("a node that never answers the SYN was not marked down");
	/* make room: the node is up again */
	for (size_t i = 0; i < nf; i++)
		close(filler[i]);
	close(l);
	serve(l = listen_on(AF_INET, &port, 16));
	if (wait_for(p, 0, true) < 0)
		fail_msg("node never marked up again");
	probe_stop(pr);
	unserve_close(l);
	node_pools_free(p);
}

/* Stopping while checks are in flight returns at once and leaks nothing. */
static void
test_stop_in_flight(void **state)
{
	struct node_pools *p = pools_of("127.0.0.1", NULL);
	struct node_check hc = { 0, 2000, 1900 };
	struct probe *pr;
	uint16_t port = 0;
	int l = listen_on(AF_INET, &port, 16);
	char err[256];
	long t;

	hc.port = port;
	for (int i = 0; i < 20; i++) {
		if (probe_start(&pr, p, &hc, err, sizeof(err)) != 0)
			fail_msg("probe_start: %s", err);
		t = now_ms();
		probe_stop(pr);
		assert_true(now_ms() - t < 500);
	}
	close(l);
	node_pools_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_down_up),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_stop_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
