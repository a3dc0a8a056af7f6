/* daemon.c -- the process: workers on threads, signals, reload, privilege drop, shutdown */
#include "autoconf.h"

#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver/audit.h"
#include "resolver/config.h"
#include "resolver/control.h"
#include "resolver/dot/tls.h"
#include "resolver/daemon.h"
#include "resolver/log.h"
#include "resolver/mailbox.h"
#include "resolver/metrics.h"
#include "resolver/policy/node.h"
#include "resolver/probe.h"
#include "resolver/recurse.h"
#include "resolver/worker.h"

/* ---- start-up ---- */

/* SO_REUSEPORT lets every worker bind the same address, but it would also
 * let a second egressd (same user) share our port without a word: make
 * sure nobody holds the address first, with a plain bind. */
static int
check_free(const struct config *cfg, char *err, size_t errlen)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	const int on = 1;

	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct listen_cfg *l = &cfg->listen[i];

		for (size_t t = 0; t < 2; t++) {
			int fd, r;

			if (l->kind != LISTEN_DNS && types[t] == SOCK_DGRAM)
				continue;
			if ((fd = socket(l->ss.ss_family, types[t] | SOCK_CLOEXEC,
			    0)) < 0)
				continue;	/* the real bind reports it */
			/* TCP: TIME_WAIT of an earlier run is no owner; UDP
			 * with SO_REUSEADDR would share a port, so not there */
			if (types[t] == SOCK_STREAM)
				(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
				    &on, sizeof(on));
			if (l->ss.ss_family == AF_INET6)
				(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
				    &on, sizeof(on));
			r = bind(fd, (const struct sockaddr *)&l->ss, l->sslen);
			close(fd);
			if (r != 0 && errno == EADDRINUSE) {
				snprintf(err, errlen, "%s:%d: server.listen: %s "
				    "(%s): address already in use", cfg->path,
				    l->line, l->text, t ? "tcp" : "udp");
				return -EADDRINUSE;
			}
		}
	}
	return 0;
}

static int
user_ids(struct daemon *d, const struct config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;

	d->uid = getuid();
	d->gid = getgid();
	if (cfg->user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errlen, "%s: server.user: no such user \"%s\"",
		    cfg->path, cfg->user);
		return -ENOENT;
	}
	d->uid = pw->pw_uid;
	d->gid = pw->pw_gid;
	/* started as that user already (systemd's User=): nothing to drop */
	d->drop = geteuid() != d->uid;
	return 0;
}

/* The query log is created by root before the drop; hand it to the user
 * so that the reopen after logrotate still works. */
static void
give_log(const struct daemon *d, const struct config *cfg)
{
	if (d->drop && cfg->log.sink == AUDIT_SINK_FILE && cfg->log.path &&
	    chown(cfg->log.path, d->uid, d->gid) != 0)
		log_warn("query log %s: cannot hand it to %s", cfg->log.path,
		    cfg->user);
}

static void on_stop(evutil_socket_t sig, short what, void *arg);
static void on_hup(evutil_socket_t sig, short what, void *arg);

int
daemon_new(struct daemon **out, const char *path, struct config *cfg,
    char *err, size_t errlen)
{
	struct daemon *d;
	int r = -ENOMEM;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		config_unref(cfg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->cfg_path = path;
	d->cfg = cfg;
	cfg->gen = 1;
	d->boot_cfg = config_ref(cfg);
	d->started = d->loaded = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &d->started_mono);
	if ((r = user_ids(d, cfg, err, errlen)) != 0 ||
	    (r = check_free(cfg, err, errlen)) != 0)
		goto fail;
	if ((d->base = event_base_new()) == NULL ||
	    (r = mailbox_new(&d->mail, d->base)) != 0) {
		snprintf(err, errlen, "libevent: cannot create the main loop");
		r = -ENOMEM;
		goto fail;
	}
	if ((d->w = calloc(cfg->workers, sizeof(*d->w))) == NULL)
		goto nomem;
	if ((r = audit_new(&d->audit, cfg, err, errlen)) != 0 ||
	    (r = metrics_new(&d->metrics, cfg, d->audit, err, errlen)) != 0)
		goto fail;
	give_log(d, cfg);
	if (cfg->tls.certificate &&
	    (r = tls_server_new(&d->tls, &cfg->tls, err, errlen)) != 0)
		goto fail;
	for (unsigned i = 0; i < cfg->workers; i++) {
		struct worker *w;

		if ((r = worker_new(&w, cfg, d->tls, err, errlen)) != 0)
			goto fail;
		d->w[d->n_workers++] = w;
		w->d = d;
		w->id = i;
		if ((r = audit_ring_new(d->audit, &w->audit)) != 0 ||
		    (cfg->metrics.enabled &&
		    ((r = metrics_worker_new(d->metrics, &w->metrics)) != 0 ||
		    (i == 0 && (r = metrics_probe_start(w->metrics, w)) != 0)))) {
			snprintf(err, errlen, "query log and metrics: %s",
			    eg_strerror(r));
			goto fail;
		}
	}
	if ((r = control_new(&d->control, d, cfg, err, errlen)) != 0)
		goto fail;
	if ((d->sigs[0] = evsignal_new(d->base, SIGTERM, on_stop, d)) == NULL ||
	    (d->sigs[1] = evsignal_new(d->base, SIGINT, on_stop, d)) == NULL ||
	    (d->sigs[2] = evsignal_new(d->base, SIGHUP, on_hup, d)) == NULL ||
	    event_add(d->sigs[0], NULL) || event_add(d->sigs[1], NULL) ||
	    event_add(d->sigs[2], NULL)) {
		snprintf(err, errlen, "cannot install signal handlers");
		r = -ENOMEM;
		goto fail;
	}
	*out = d;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	r = -ENOMEM;
fail:
	daemon_free(d);
	return r;
}

int
daemon_drop_privileges(struct daemon *d, char *err, size_t errlen)
{
	const char *user = d->cfg->user;

	if (!d->drop) {		/* no server.user, or we are that user */
		if (geteuid() == 0 && user == NULL)
			log_warnx("running as root: set server.user to drop "
			    "privileges once the ports are bound");
		return 0;
	}
	if (geteuid() != 0) {
		snprintf(err, errlen, "server.user %s: only root can become "
		    "another user", user);
		return -EPERM;
	}
	if (initgroups(user, d->gid) != 0 || setgid(d->gid) != 0 ||
	    setuid(d->uid) != 0) {
		snprintf(err, errlen, "server.user %s: cannot switch: %s", user,
		    strerror(errno));
		return -errno;
	}
	if (d->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "server.user %s: root could be regained",
		    user);
		return -EPERM;
	}
	log_info("running as %s (uid %u, gid %u)", user, (unsigned)d->uid,
	    (unsigned)d->gid);
	return 0;
}

int
daemon_start(struct daemon *d, char *err, size_t errlen)
{
	int r;

	/* threads only now: after the fork and the privilege drop (setuid
	 * must not race with threads of ours, and LMDB's and the prober's
	 * state must not cross a fork) */
	if (d->cfg->nodes && (r = probe_start(&d->probe, d->cfg->nodes,
	    &d->cfg->node_check, err, errlen)) != 0)
		return r;
	if ((r = audit_start(d->audit)) != 0 || (r = metrics_start(d->metrics)) != 0) {
		snprintf(err, errlen, "cannot start the query log or metrics "
		    "threads: %s", eg_strerror(r));
		return r;
	}
	for (unsigned i = 0; i < d->n_workers; i++) {
		if ((r = worker_start(d->w[i])) != 0) {
			snprintf(err, errlen, "worker %u: cannot start a thread: "
			    "%s", i, eg_strerror(r));
			return r;
		}
	}
	log_info("egressd %s serving with %u worker%s (config %s)",
	    PACKAGE_VERSION, d->n_workers, d->n_workers == 1 ? "" : "s",
	    d->cfg_path);
	return 0;
}

/* ---- signals and stopping ---- */

static void
stop_job(struct worker *w, void *arg)
{
	(void)arg;
	worker_stop(w, DAEMON_DRAIN_MS);
}

void
daemon_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	daemon_notify("STOPPING=1");
	for (unsigned i = 0; i < d->n_workers; i++)
		if (worker_post(d->w[i], stop_job, NULL) != 0)
			fatalx("out of memory stopping worker %u", i);
	/* the workers drain on their own threads; daemon_run() joins them */
	event_base_loopbreak(d->base);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: finishing queries in flight and exiting", (int)sig);
	daemon_stop(arg);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	char msg[1024];

	(void)sig, (void)what;
	log_info("SIGHUP: reloading");
	if (daemon_reload(arg, msg, sizeof(msg)) != 0)
		return;	/* daemon_reload() logged why */
}

void
daemon_run(struct daemon *d)
{
	event_base_dispatch(d->base);
	for (unsigned i = 0; i < d->n_workers; i++)
		worker_join(d->w[i]);
}

int
daemon_post(struct daemon *d, void (*fn)(void *), void *arg)
{
	return mailbox_post(d->mail, fn, arg);
}

/* ---- reload ---- */

static bool
str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Settings that need a restart: the sockets, the threads, the user, the
 * query-log sink and the metrics socket.  \return the key that changed,
 * or NULL. */
static const char *
restart_only_change(const struct config *o, const struct config *n)
{
	if (o->n_listen != n->n_listen)
		return "server.listen";
	for (size_t i = 0; i < o->n_listen; i++) {
		const struct listen_cfg *a = &o->listen[i], *b = &n->listen[i];

		if (a->kind != b->kind || a->sslen != b->sslen ||
		    memcmp(&a->ss, &b->ss, a->sslen) != 0 ||
		    a->require_client_cert != b->require_client_cert ||
		    strcmp(a->text, b->text) != 0 || str_differs(a->path, b->path))
			return "server.listen";
	}
	if (o->workers != n->workers)
		return "server.workers";
	if (str_differs(o->user, n->user))
		return "server.user";
	if ((o->tls.certificate == NULL) != (n->tls.certificate == NULL))
		return "server.tls";
	if (str_differs(o->control, n->control))
		return "control";
	if (str_differs(o->threatdb, n->threatdb))
		return "threatdb";
	if (o->log.mode != n->log.mode || o->log.client != n->log.client ||
	    o->log.sink != n->log.sink || o->log.buffer != n->log.buffer ||
	    o->log.syslog_tls != n->log.syslog_tls ||
	    o->log.syslog_buffer != n->log.syslog_buffer ||
	    str_differs(o->log.path, n->log.path) ||
	    str_differs(o->log.syslog_host, n->log.syslog_host) ||
	    str_differs(o->log.syslog_port, n->log.syslog_port) ||
	    str_differs(o->log.syslog_ca, n->log.syslog_ca) ||
	    o->log.keylen != n->log.keylen ||
	    (o->log.keylen && memcmp(o->log.key, n->log.key, o->log.keylen)))
		return "log";
	if (o->metrics.enabled != n->metrics.enabled || (o->metrics.enabled &&
	    (o->metrics.sslen != n->metrics.sslen ||
	    memcmp(&o->metrics.ss, &n->metrics.ss, o->metrics.sslen) != 0)))
		return "metrics.listen";
	return NULL;
}

/* Whether libunbound needs a new context for n (its options freeze). */
static bool
resolution_changed(const struct config *o, const struct config *n)
{
	if (o->dnssec != n->dnssec || o->cache_size != n->cache_size ||
	    str_differs(o->trust_anchor, n->trust_anchor) ||
	    str_differs(o->root_hints, n->root_hints) ||
	    o->n_forward != n->n_forward || o->n_ub_opts != n->n_ub_opts)
		return true;
	for (size_t i = 0; i < o->n_forward; i++)
		if (strcmp(o->forward[i], n->forward[i]) != 0)
			return true;
	for (size_t i = 0; i < o->n_ub_opts; i++)
		if (strcmp(o->ub_opts[i].key, n->ub_opts[i].key) != 0 ||
		    strcmp(o->ub_opts[i].value, n->ub_opts[i].value) != 0)
			return true;
	return false;
}

/* Let libunbound judge the new resolution settings before any worker
 * has to (as -t does). */
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

/* The health the old prober found carries over to the same addresses. */
static void
keep_health(const struct node_pools *o, struct node_pools *n)
{
	if (o == NULL || n == NULL)
		return;
	for (size_t i = 0; i < node_count(n); i++)
		for (size_t j = 0; j < node_count(o); j++)
			if (strcmp(node_text(n, i), node_text(o, j)) == 0) {
				(void)node_set_up(n, i, node_is_up(o, j));
				break;
			}
}

struct swap {
	const struct config *cfg;	/* a reference, released by the job */
	bool new_recursion;
};

static void
swap_job(struct worker *w, void *arg)
{
	struct swap *s = arg;
	char err[512];

	if (worker_set_config(w, s->cfg, s->new_recursion, err, sizeof(err)) != 0)
		log_warnx("worker %u: reload not applied, it keeps the old "
		    "config: %s", w->id, err);
	config_unref(s->cfg);
	free(s);
}

int
daemon_reload(struct daemon *d, char *msg, size_t msglen)
{
	struct config *n;
	const char *key;
	char err[1024];
	bool renew;
	int r;

	if (d->stopping) {
		snprintf(msg, msglen, "reload refused: stopping");
		return -ESHUTDOWN;
	}
	/* the query log is reopened whatever becomes of the rest: logrotate
	 * sends SIGHUP and must not depend on the config on disk */
	audit_reopen(d->audit);
	if ((r = config_load(d->cfg_path, &n, err, sizeof(err))) != 0) {
		snprintf(msg, msglen, "reload refused, the running config "
		    "stays: %s", err);
		goto refused;
	}
	if ((key = restart_only_change(d->cfg, n)) != NULL) {
		snprintf(msg, msglen, "reload refused, the running config "
		    "stays: %s: %s changed: restart egressd to apply",
		    d->cfg_path, key);
		r = -EG_ECONFIG;
		goto refused_free;
	}
	if ((renew = resolution_changed(d->cfg, n)) &&
	    (r = check_resolution(n, err, sizeof(err))) != 0) {
		snprintf(msg, msglen, "reload refused, the running config "
		    "stays: %s", err);
		goto refused_free;
	}
	/* the certificate, key and client CA for new connections (config_load
	 * has checked them; this can still fail, e.g. out of memory) */
	if (d->tls && (r = tls_server_reload(d->tls, &n->tls, err,
	    sizeof(err))) != 0) {
		snprintf(msg, msglen, "reload refused, the running config "
		    "stays: %s", err);
		goto refused_free;
	}
	/* from here on the reload happens */
	n->gen = d->cfg->gen + 1;
	keep_health(d->cfg->nodes, n->nodes);
	probe_stop(d->probe);
	d->probe = NULL;
	if (n->nodes && probe_start(&d->probe, n->nodes, &n->node_check, err,
	    sizeof(err)) != 0)
		log_warnx("reload: security-node health checks are off: %s", err);
	for (unsigned i = 0; i < d->n_workers; i++) {
		struct swap *s;

		if ((s = malloc(sizeof(*s))) == NULL)
			fatalx("reload: out of memory");
		s->cfg = config_ref(n);
		s->new_recursion = renew;
		if (worker_post(d->w[i], swap_job, s) != 0)
			fatalx("reload: out of memory");
	}
	config_unref(d->cfg);
	d->cfg = n;
	d->loaded = time(NULL);
	d->reloads++;
	snprintf(msg, msglen, "reloaded %s (%zu tenants, %zu policies%s)",
	    d->cfg_path, n->tenants.n, n->policies.n,
	    renew ? ", new recursion context" : "");
	log_info("%s", msg);
	return 0;
refused_free:
	config_free(n);
refused:
	d->reload_failures++;
	log_warnx("%s", msg);
	return r;
}

/* ---- systemd ---- */

void
daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')	/* abstract namespace */
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) < 0)
		log_warn("NOTIFY_SOCKET %s", path);
	close(fd);
}

/* ---- the end ---- */

void
daemon_free(struct daemon *d)
{
	uint64_t q = 0, dropped = 0, timeouts = 0;

	if (d == NULL)
		return;
	control_free(d->control);
	for (size_t i = 0; i < 4; i++)
		if (d->sigs[i])
			event_free(d->sigs[i]);
	probe_stop(d->probe);
	for (unsigned i = 0; i < d->n_workers; i++) {
		q += d->w[i]->stats.queries;
		dropped += d->w[i]->stats.dropped;
		timeouts += d->w[i]->stats.timeouts;
	}
	if (d->n_workers && d->w[0]->started == false && d->stopping)
		log_info("stopped: %llu queries, %llu dropped, %llu timed out",
		    (unsigned long long)q, (unsigned long long)dropped,
		    (unsigned long long)timeouts);
	/* the metrics read worker 0's threat database: free them first; the
	 * query log writes what the rings still hold */
	metrics_free(d->metrics);
	audit_free(d->audit);
	for (unsigned i = 0; i < d->n_workers; i++) {
		d->w[i]->metrics = NULL;
		d->w[i]->audit = NULL;
		worker_free(d->w[i]);
	}
	free(d->w);
	tls_server_free(d->tls);	/* after the connections that use it */
	mailbox_free(d->mail);
	if (d->base)
		event_base_free(d->base);
	config_unref(d->cfg);
	config_unref(d->boot_cfg);
	free(d);
}
