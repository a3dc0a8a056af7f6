/* main.c -- egressd: start-up, signals, shutdown */
#include "autoconf.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver/audit.h"
#include "resolver/config.h"
#include "resolver/log.h"
#include "resolver/metrics.h"
#include "resolver/probe.h"
#include "resolver/recurse.h"
#include "resolver/worker.h"

#define DRAIN_MS	5000	/* SIGTERM: time given to queries in flight */

static void
usage(void)
{
	fprintf(stderr, "usage: egressd [-c FILE] [-t] [-f] [-v]\n"
	    "  -c FILE  configuration (default " CONFIG_DEFAULT_PATH ")\n"
	    "  -t       check the configuration and the files it names, then exit\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -v       more diagnostics (repeat for debug)\n");
	exit(2);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	log_info("signal %d: finishing queries in flight and exiting", (int)sig);
	worker_stop(w, DRAIN_MS);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;
	char err[1024];

	if (w->tls == NULL) {
		log_warnx("SIGHUP: reload is not available in this version; restart to apply changes");
		return;
	}
	/* the TLS files only (the rest of the config needs a restart) */
	if (worker_reload_tls(w, w->cfg, err, sizeof(err)) != 0)
		log_warnx("SIGHUP: TLS reload refused, the running certificate "
		    "stays: %s", err);
	else
		log_info("SIGHUP: TLS certificate, key and client CA reloaded "
		    "for new connections");
}

/* SIGHUP also reopens the query log (logrotate moved it). */
static void
on_hup_log(evutil_socket_t sig, short what, void *arg)
{
	audit_reopen(arg);
}

/* The query log and the metrics endpoint for worker w: the log file and
 * the listener are opened here; their threads start later. */
static int
observe_new(const struct config *cfg, struct worker *w, struct audit **a,
    struct metrics **m, char *err, size_t errlen)
{
	int r;

	if ((r = audit_new(a, cfg, err, errlen)) != 0 ||
	    (r = metrics_new(m, cfg, *a, err, errlen)) != 0)
		return r;
	if ((r = audit_ring_new(*a, &w->audit)) != 0 ||
	    (cfg->metrics.enabled &&
	    ((r = metrics_worker_new(*m, &w->metrics)) != 0 ||
	    (r = metrics_probe_start(w->metrics, w)) != 0))) {
		snprintf(err, errlen, "query log and metrics: %s", eg_strerror(r));
		return r;
	}
	return 0;
}

/* -t: let libunbound judge its options and the trust anchor too. */
static int
check_resolution(const struct config *cfg, char *err, size_t errlen)
{
	struct event_base *base;
	struct recurse *rec;
	int r;

	if ((base = event_base_new()) == NULL) {
		snprintf(err, errlen, "libevent: cannot create an event base");
		return -ENOMEM;
	}
	if ((r = recurse_new(&rec, base, cfg, err, errlen)) == 0)
		recurse_free(rec);
	event_base_free(base);
	return r;
}

/* Fork; the parent waits until the child says it is serving (or dies) so
 * that start-up errors reach the caller's terminal and exit status. */
static int
daemonize(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) != 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		fatal("setsid");
	return fds[1];
}

static void
detach(int ready_fd)
{
	int null;

	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(ready_fd, "1", 1) != 1)
		log_warn("cannot tell the parent we are ready");
	close(ready_fd);
}

int
main(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	int ch, check = 0, fg = 0, verbose = LOG_LEVEL_INFO, ready_fd = -1;
	struct event *sigs[4] = { NULL };
	struct config *cfg;
	struct worker *w;
	struct probe *probe = NULL;
	struct audit *audit = NULL;
	struct metrics *metrics = NULL;
	char err[1024];

	while ((ch = getopt(argc, argv, "c:tfvh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': check = 1; break;
		case 'f': fg = 1; break;
		case 'v': verbose++; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (verbose > LOG_LEVEL_DEBUG + 1)
		verbose = LOG_LEVEL_DEBUG + 1;
	log_init(verbose, 0);
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "egressd: %s\n", err);
		return 1;
	}
	if (check) {
		int r = check_resolution(cfg, err, sizeof(err));

		if (r == 0)
			printf("%s: configuration OK\n", path);
		else
			fprintf(stderr, "egressd: %s\n", err);
		config_free(cfg);
		return r == 0 ? 0 : 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!fg)
		ready_fd = daemonize();
	if (worker_new(&w, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "egressd: %s\n", err);
		config_free(cfg);
		return 1;
	}
	if (observe_new(cfg, w, &audit, &metrics, err, sizeof(err)) != 0) {
		fprintf(stderr, "egressd: %s\n", err);
		metrics_free(metrics);
		audit_free(audit);
		worker_free(w);
		config_free(cfg);
		return 1;
	}
	if ((sigs[0] = evsignal_new(w->base, SIGTERM, on_stop, w)) == NULL ||
	    (sigs[1] = evsignal_new(w->base, SIGINT, on_stop, w)) == NULL ||
	    (sigs[2] = evsignal_new(w->base, SIGHUP, on_hup, w)) == NULL ||
	    (sigs[3] = evsignal_new(w->base, SIGHUP, on_hup_log, audit)) == NULL ||
	    event_add(sigs[0], NULL) || event_add(sigs[1], NULL) ||
	    event_add(sigs[2], NULL) || event_add(sigs[3], NULL))
		fatalx("cannot install signal handlers");
	log_info("egressd %s serving (config %s)", PACKAGE_VERSION, path);
	if (!fg) {
		log_init(verbose, 1);
		detach(ready_fd);
	}
	/* after the fork and the switch to syslog: the prober is a thread */
	if (cfg->nodes && probe_start(&probe, cfg->nodes, &cfg->node_check, err,
	    sizeof(err)) != 0)
		fatalx("%s", err);
	if (audit_start(audit) != 0 || metrics_start(metrics) != 0)
		fatalx("cannot start the query log or metrics threads");
	worker_run(w);
	probe_stop(probe);
	log_info("stopped: %llu queries, %llu dropped, %llu timed out",
	    (unsigned long long)w->stats.queries,
	    (unsigned long long)w->stats.dropped,
	    (unsigned long long)w->stats.timeouts);
	for (size_t i = 0; i < 4; i++)
		event_free(sigs[i]);
	metrics_free(metrics);	/* before the worker: it reads its threatdb */
	w->metrics = NULL;
	audit_free(audit);	/* writes what the rings still hold */
	w->audit = NULL;
	worker_free(w);
	config_free(cfg);
	return 0;
}
