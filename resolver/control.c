/* control.c -- the control socket: egressctl's commands, served by the main thread */
#include "autoconf.h"

#include <arpa/inet.h>
#include <libgen.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "resolver/audit.h"
#include "resolver/config.h"
#include "resolver/control.h"
#include "resolver/daemon.h"
#include "resolver/explain.h"
#include "resolver/log.h"
#include "resolver/policy/node.h"
#include "resolver/policy/tenant.h"
#include "resolver/worker.h"
#include "threatdb/tdb.h"

#define MAX_ARGS	8

struct control {
	struct daemon *d;
	struct evconnlistener *l;
	char *path;
	unsigned n_conns;
	unsigned next_worker;		/* explain: round robin */
};

struct conn {
	struct control *ctl;
	struct bufferevent *bev;
	bool busy;			/* a worker is working for it */
	bool gone;			/* client closed meanwhile */
	struct evbuffer *out;		/* the answer being built */
	unsigned pending;		/* flush: workers not done yet */
	int failures;
};

/* ---- connections ---- */

static void
conn_free(struct conn *c)
{
	c->ctl->n_conns--;
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->out)
		evbuffer_free(c->out);
	free(c);
}

static void
on_flushed(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_free(arg);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev, (void)what;
	if (c->busy) {		/* the worker's answer frees it */
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->gone = true;
		return;
	}
	conn_free(c);
}

/* Send "ok\n" + c->out, or "error: " + c->out, then close. */
static void
reply(struct conn *c, bool ok)
{
	struct evbuffer *o;

	c->busy = false;
	if (c->gone) {
		conn_free(c);
		return;
	}
	o = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(c->out) > CONTROL_MAX_ANSWER) {
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		evbuffer_add_printf(c->out, "answer too long");
		ok = false;
	}
	evbuffer_add_printf(o, ok ? "ok\n" : "error: ");
	evbuffer_add_buffer(o, c->out);
	if (!ok)
		evbuffer_add_printf(o, "\n");
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, on_flushed, on_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

static void
fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	va_start(ap, fmt);
	evbuffer_add_vprintf(c->out, fmt, ap);
	va_end(ap);
	reply(c, false);
}

/* ---- status, stats, tenants, nodes ---- */

static void
time_text(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
cmd_status(struct conn *c)
{
	struct daemon *d = c->ctl->d;
	struct tdb *db = __atomic_load_n(&d->w[0]->tdb, __ATOMIC_ACQUIRE);
	struct timespec now;
	char started[32], loaded[32];

	clock_gettime(CLOCK_MONOTONIC, &now);
	time_text(d->started, started, sizeof(started));
	time_text(d->loaded, loaded, sizeof(loaded));
	evbuffer_add_printf(c->out,
	    "version %s\npid %ld\nstarted %s\nuptime %llds\nconfig %s\n"
	    "loaded %s\nconfig-generation %llu\nreloads %llu\nreloads-refused %llu\n"
	    "workers %u\nuser %s\n",
	    PACKAGE_VERSION, (long)getpid(), started,
	    (long long)(now.tv_sec - d->started_mono.tv_sec), d->cfg_path,
	    loaded, (unsigned long long)d->cfg->gen,
	    (unsigned long long)d->reloads,
	    (unsigned long long)d->reload_failures, d->n_workers,
	    d->cfg->user ? d->cfg->user : "(not set)");
	if (db)
		evbuffer_add_printf(c->out, "threatdb %s generation %llu\n",
		    d->cfg->threatdb, (unsigned long long)tdb_generation(db));
	else
		evbuffer_add_printf(c->out, "threatdb %s not open\n", d->cfg->threatdb);
	reply(c, true);
}

/* Worker counters are plain integers their own thread writes; reading
 * them here is a relaxed snapshot (aligned 64-bit loads do not tear). */
static uint64_t
peek(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
cmd_stats(struct conn *c)
{
	struct daemon *d = c->ctl->d;
	uint64_t q = 0, dr = 0, to = 0;

	for (unsigned i = 0; i < d->n_workers; i++) {
		const struct worker_stats *s = &d->w[i]->stats;

		q += peek(&s->queries);
		dr += peek(&s->dropped);
		to += peek(&s->timeouts);
	}
	evbuffer_add_printf(c->out, "queries %llu\ndropped %llu\ntimeouts %llu\n"
	    "log-written %llu\nlog-lost %llu\nreloads %llu\nflushes %llu\n",
	    (unsigned long long)q, (unsigned long long)dr,
	    (unsigned long long)to, (unsigned long long)audit_written(d->audit),
	    (unsigned long long)audit_lost(d->audit),
	    (unsigned long long)d->reloads, (unsigned long long)d->flushes);
	for (unsigned i = 0; i < d->n_workers; i++)
		evbuffer_add_printf(c->out, "worker.%u.queries %llu\n", i,
		    (unsigned long long)peek(&d->w[i]->stats.queries));
	reply(c, true);
}

static void
cmd_tenants(struct conn *c)
{
	const struct tenants *ts = &c->ctl->d->cfg->tenants;

	for (size_t i = 0; i < ts->n; i++) {
		const struct tenant *t = &ts->v[i];
		const char *sep = "";

		evbuffer_add_printf(c->out, "%s policy=%s networks=", t->name,
		    t->policy_name ? t->policy_name : "(default)");
		for (size_t j = 0; j < ts->n_nets; j++) {
			const struct tenant_net *n = &ts->nets[j];
			char a[INET6_ADDRSTRLEN];

			if (n->tenant != i)
				continue;
			inet_ntop(n->family, n->addr, a, sizeof(a));
			evbuffer_add_printf(c->out, "%s%s/%u", sep, a,
			    (unsigned)n->plen);
			sep = ",";
		}
		evbuffer_add_printf(c->out, "%s identity=%s\n", *sep ? "" : "-",
		    t->cert_identity ? t->cert_identity : "-");
	}
	reply(c, true);
}

static void
cmd_nodes(struct conn *c)
{
	const struct node_pools *p = c->ctl->d->cfg->nodes;

	if (p == NULL) {
		evbuffer_add_printf(c->out, "no security nodes configured\n");
		reply(c, true);
		return;
	}
	for (size_t i = 0; i < node_pool_count(p); i++) {
		char cc[64][3];
		size_t n = node_pool_countries(p, i, cc, 64);

		evbuffer_add_printf(c->out, "pool %s countries=", node_pool_name(p, i));
		for (size_t j = 0; j < n && j < 64; j++)
			evbuffer_add_printf(c->out, "%s%s", j ? "," : "", cc[j]);
		evbuffer_add_printf(c->out, "%s%s\n", n ? "" : "-",
		    n > 64 ? ",..." : "");
		for (size_t j = 0; j < node_pool_size(p, i); j++) {
			size_t k = node_pool_node(p, i, j);

			evbuffer_add_printf(c->out, "  %s %s\n", node_text(p, k),
			    node_is_up(p, k) ? "up" : "down");
		}
	}
	reply(c, true);
}

static void
cmd_reload(struct conn *c)
{
	char msg[1024];
	int r = daemon_reload(c->ctl->d, msg, sizeof(msg));

	if (r != 0) {
		fail(c, "%s", msg);
		return;
	}
	evbuffer_add_printf(c->out, "%s\n", msg);
	reply(c, true);
}

/* ---- flush: every worker, answered when all are done ---- */

struct flush_job {
	struct conn *c;
	uint8_t name[256];
	bool has_name;
	int r;
	char err[256];
};

static void
flush_done(void *arg)
{
	struct flush_job *j = arg;
	struct conn *c = j->c;

	if (j->r != 0) {
		c->failures++;
		log_warnx("flush: %s", j->err);
	}
	free(j);
	if (--c->pending > 0)
		return;
	c->ctl->d->flushes++;
	if (c->failures) {
		fail(c, "%d worker%s could not renew its resolver (see the log); "
		    "their caches stay", c->failures, c->failures == 1 ? "" : "s");
		return;
	}
	evbuffer_add_printf(c->out, "flushed the caches of %u worker%s\n",
	    c->ctl->d->n_workers, c->ctl->d->n_workers == 1 ? "" : "s");
	reply(c, true);
}

static void
flush_job(struct worker *w, void *arg)
{
	struct flush_job *j = arg;

	j->r = worker_flush(w, j->has_name ? j->name : NULL, j->err,
	    sizeof(j->err));
	if (daemon_post(w->d, flush_done, j) != 0)
		fatalx("flush: out of memory");
}

/* NAME to wire form (for the answer cache). */
static int
name_wire(const char *s, uint8_t out[256])
{
	size_t n = 0, len = strlen(s);

	if (len == 0 || len > 253 + (s[len - 1] == '.'))
		return -EINVAL;
	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		return 0;
	}
	while (*s) {
		size_t l = strcspn(s, ".");

		if (l == 0 || l > 63 || n + l + 2 > 255)
			return -EINVAL;
		out[n++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++)
			out[n++] = (uint8_t)(s[i] >= 'A' && s[i] <= 'Z' ?
			    s[i] + 32 : s[i]);
		s += l;
		if (*s == '.')
			s++;
	}
	out[n] = 0;
	return 0;
}

static void
cmd_flush(struct conn *c, int argc, char **argv)
{
	struct daemon *d = c->ctl->d;
	uint8_t wire[256];

	if (argc > 2) {
		fail(c, "usage: flush [NAME]");
		return;
	}
	if (argc == 2 && name_wire(argv[1], wire) != 0) {
		fail(c, "\"%s\" is not a domain name", argv[1]);
		return;
	}
	c->busy = true;
	c->pending = d->n_workers;
	for (unsigned i = 0; i < d->n_workers; i++) {
		struct flush_job *j;

		if ((j = calloc(1, sizeof(*j))) == NULL)
			fatalx("flush: out of memory");
		j->c = c;
		j->has_name = argc == 2;
		if (j->has_name)
			memcpy(j->name, wire, sizeof(wire));
		if (worker_post(d->w[i], flush_job, j) != 0)
			fatalx("flush: out of memory");
	}
}

/* ---- explain: in a worker, answered from there ---- */

struct explain_job {
	struct conn *c;
	struct evbuffer *text;		/* written by the worker */
	int r;
	char name[CONTROL_MAX_LINE];
	char type[32], tenant[CONTROL_MAX_LINE];
	bool has_type, has_tenant;
};

static void
explain_reply(void *arg)
{
	struct explain_job *j = arg;
	struct conn *c = j->c;

	evbuffer_add_buffer(c->out, j->text);
	evbuffer_free(j->text);
	reply(c, j->r == 0);
	free(j);
}

static void
explained(void *arg, int err)
{
	struct explain_job *j = arg;

	j->r = err;
	if (daemon_post(j->c->ctl->d, explain_reply, j) != 0)
		fatalx("explain: out of memory");
}

static void
explain_job(struct worker *w, void *arg)
{
	struct explain_job *j = arg;
	int r;

	if ((r = explain_start(w, j->name, j->has_type ? j->type : NULL,
	    j->has_tenant ? j->tenant : NULL, j->text, explained, j)) != 0)
		explained(j, r);
}

static void
cmd_explain(struct conn *c, int argc, char **argv)
{
	struct control *ctl = c->ctl;
	struct explain_job *j;
	int i;

	if (argc < 2) {
		fail(c, "usage: explain NAME [--type TYPE] [--tenant TENANT]");
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->text = evbuffer_new()) == NULL) {
		free(j);
		fail(c, "out of memory");
		return;
	}
	j->c = c;
	snprintf(j->name, sizeof(j->name), "%s", argv[1]);
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--type") == 0 && strlen(argv[i + 1]) < sizeof(j->type)) {
			snprintf(j->type, sizeof(j->type), "%s", argv[i + 1]);
			j->has_type = true;
		} else if (strcmp(argv[i], "--tenant") == 0) {
			snprintf(j->tenant, sizeof(j->tenant), "%s", argv[i + 1]);
			j->has_tenant = true;
		} else
			break;
	}
	if (i != argc) {
		evbuffer_free(j->text);
		free(j);
		fail(c, "usage: explain NAME [--type TYPE] [--tenant TENANT]");
		return;
	}
	c->busy = true;
	if (worker_post(ctl->d->w[ctl->next_worker++ % ctl->d->n_workers],
	    explain_job, j) != 0)
		fatalx("explain: out of memory");
}

/* ---- the command line ---- */

static void
dispatch(struct conn *c, char *line)
{
	char *argv[MAX_ARGS + 1], *save = NULL, *tok;
	int argc = 0;

	for (tok = strtok_r(line, " \t", &save); tok;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_ARGS) {
			fail(c, "too many words");
			return;
		}
		argv[argc++] = tok;
	}
	if (argc == 0) {
		fail(c, "empty command");
		return;
	}
	if (c->ctl->d->stopping) {
		fail(c, "stopping");
		return;
	}
	if (strcmp(argv[0], "explain") == 0) {
		cmd_explain(c, argc, argv);
		return;
	}
	if (strcmp(argv[0], "flush") == 0) {
		cmd_flush(c, argc, argv);
		return;
	}
	if (argc != 1) {
		fail(c, "%s takes no arguments", argv[0]);
		return;
	}
	if (strcmp(argv[0], "status") == 0)
		cmd_status(c);
	else if (strcmp(argv[0], "stats") == 0)
		cmd_stats(c);
	else if (strcmp(argv[0], "reload") == 0)
		cmd_reload(c);
	else if (strcmp(argv[0], "tenants") == 0)
		cmd_tenants(c);
	else if (strcmp(argv[0], "nodes") == 0)
		cmd_nodes(c);
	else
		fail(c, "unknown command \"%s\" (status, stats, reload, flush, "
		    "explain, tenants, nodes)", argv[0]);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) == NULL) {
		if (evbuffer_get_length(in) > CONTROL_MAX_LINE)
			fail(c, "command line longer than %d bytes", CONTROL_MAX_LINE);
		return;
	}
	bufferevent_disable(bev, EV_READ);
	if (len > CONTROL_MAX_LINE)
		fail(c, "command line longer than %d bytes", CONTROL_MAX_LINE);
	else if (memchr(line, '\0', len) != NULL)
		fail(c, "NUL in the command line");
	else {
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		dispatch(c, line);
	}
	free(line);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct control *ctl = arg;
	struct timeval rd = { CONTROL_READ_MS / 1000, 0 };
	struct timeval wr = { CONTROL_WRITE_MS / 1000, 0 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct conn *c;

	(void)l, (void)sa, (void)salen;
	/* the socket's mode already keeps others out; say no plainly to a
	 * peer that got in some other way */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    (cred.uid != 0 && cred.uid != geteuid()) ||
	    ctl->n_conns >= CONTROL_MAX_CONNS) {
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->out = evbuffer_new()) == NULL ||
	    (c->bev = bufferevent_socket_new(ctl->d->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (c && c->out)
			evbuffer_free(c->out);
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	ctl->n_conns++;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_set_timeouts(c->bev, &rd, &wr);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONTROL_MAX_LINE + 2);
	bufferevent_enable(c->bev, EV_READ);
}

/* ---- the socket ---- */

/* \return 1: another live daemon answers there, 0: free (stale file
 * removed), negative: cannot tell or not a socket. */
static int
path_in_use(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0)
		return 1;
	if (errno != ECONNREFUSED)
		return -errno;
	return unlink(path) == 0 ? 0 : -errno;
}

static int
make_parent(const char *path, uid_t uid, gid_t gid, bool chown_it)
{
	char *copy = strdup(path), *dir;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	dir = dirname(copy);
	if (mkdir(dir, 0750) == 0) {
		if (chown_it && chown(dir, uid, gid) != 0)
			r = -errno;
	} else if (errno != EEXIST)
		r = -errno;
	free(copy);
	return r;
}

static int
control_open(struct control **out, struct daemon *d, const struct config *cfg,
    char *err, size_t errlen)
{
	const char *path = cfg->control;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *ctl;
	char where[PATH_MAX + 16];
	mode_t old;
	int fd = -1, r;

	*out = NULL;
	if (cfg->control_line)
		snprintf(where, sizeof(where), "%s:%d", cfg->path, cfg->control_line);
	else
		snprintf(where, sizeof(where), "%s", cfg->path);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: control: %s: path too long (at most "
		    "%zu bytes)", where, path, sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if ((r = make_parent(path, d->uid, d->gid, d->drop)) != 0 &&
	    cfg->control_line) {
		snprintf(err, errlen, "%s: control: %s: cannot create its "
		    "directory: %s", where, path, strerror(-r));
		return r;
	}
	if ((r = path_in_use(path)) != 0) {
		if (r == 1 && cfg->control_line == 0) {
			log_warnx("control socket %s belongs to another running "
			    "egressd: running without one (set control: in the "
			    "config)", path);
			return 0;
		}
		snprintf(err, errlen, "%s: control: %s: %s", where, path,
		    r == 1 ? "in use by another running egressd" :
		    r == -EEXIST ? "exists and is not a socket" : strerror(-r));
		return r == 1 ? -EADDRINUSE : r;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		goto syserr;
	old = umask(0177);	/* created 0600: no window with more */
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0)
		goto syserr;
	if (chmod(path, 0600) != 0 || (d->drop && chown(path, d->uid, d->gid) != 0))
		goto syserr_unlink;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL || (ctl->path = strdup(path)) == NULL) {
		free(ctl);
		errno = ENOMEM;
		goto syserr_unlink;
	}
	ctl->d = d;
	if ((ctl->l = evconnlistener_new(d->base, on_accept, ctl,
	    LEV_OPT_CLOSE_ON_FREE, CONTROL_MAX_CONNS, fd)) == NULL) {
		free(ctl->path);
		free(ctl);
		errno = ENOMEM;
		goto syserr_unlink;
	}
	log_info("control socket %s", path);
	*out = ctl;
	return 0;
syserr_unlink:
	r = -errno;
	unlink(path);
	errno = -r;
syserr:
	r = -errno;
	snprintf(err, errlen, "%s: control: %s: %s", where, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

int
control_new(struct control **out, struct daemon *d, const struct config *cfg,
    char *err, size_t errlen)
{
	int r;

	if ((r = control_open(out, d, cfg, err, errlen)) != 0 &&
	    cfg->control_line == 0) {
		/* only the default path: egressd also runs where /run is not
		 * ours (tests, a user's own instance) */
		log_warnx("%s; running without a control socket (set control: "
		    "in the config)", err);
		*out = NULL;
		return 0;
	}
	return r;
}

void
control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	evconnlistener_free(ctl->l);
	/* as server.user this fails when the directory is root's: harmless,
	 * the next start replaces a stale socket */
	(void)unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
