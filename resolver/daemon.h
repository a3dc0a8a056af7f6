/* daemon.h -- the one top-level struct daemon: config, workers, prober, audit, metrics, control
 *
 * The main thread owns the daemon and runs its event loop: signals, the
 * control socket and reloads.  Each worker runs its own loop on a thread
 * of its own (resolver/worker.h); the main thread talks to them only by
 * posting jobs (worker_post()), and they answer through d->mail.
 *
 * Lifecycle: daemon_new() (as root: binds every socket, opens every file)
 * -> daemon_drop_privileges() -> daemon_start() (threads) -> daemon_run()
 * (until SIGTERM/SIGINT has drained every worker) -> daemon_free().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "resolver/eg.h"

struct audit;
struct config;
struct control;
struct event;
struct event_base;
struct mailbox;
struct metrics;
struct probe;
struct tls_server;
struct worker;

#define DAEMON_DRAIN_MS	5000	/* SIGTERM: time given to queries in flight */

struct daemon {
	const char *cfg_path;		/* borrowed (argv) */
	const struct config *cfg;	/* the running config: one reference */
	const struct config *boot_cfg;	/* the first one: the query log, the
					 * metrics and the listeners borrow from
					 * it (one reference, kept to the end) */
	struct event_base *base;	/* the main thread's loop */
	struct mailbox *mail;		/* jobs for the main thread */
	struct worker **w;
	unsigned n_workers;
	struct tls_server *tls;		/* server.tls, shared by the workers */
	struct probe *probe;		/* NULL without security nodes */
	struct audit *audit;
	struct metrics *metrics;
	struct control *control;	/* NULL: no control socket */
	struct event *sigs[4];
	time_t started;			/* wall clock at start */
	time_t loaded;			/* when d->cfg was loaded */
	struct timespec started_mono;
	uint64_t reloads, reload_failures;
	uint64_t flushes;
	uint32_t uid, gid;		/* server.user's, or our own */
	bool drop;			/* server.user given */
	bool stopping;
};

/**
 * Build the daemon from cfg (the daemon takes over the reference): every
 * listener of every worker, the TLS state, the threat database, the query
 * log, the metrics socket and the control socket are opened now, so that
 * any error stops start-up and privileged ports and files are opened
 * before privileges are dropped.  Starts no thread.
 * \param path the config file, for reloads (borrowed: must outlive d)
 * \return 0 with *out set (daemon_free()), or a negative code with err set;
 * cfg is released on failure too.
 */
int daemon_new(struct daemon **out, const char *path, struct config *cfg,
    char *err, size_t errlen) EG_MUSTCHECK;

/**
 * Become server.user (initgroups, setgid, setuid; checks that root cannot
 * be regained).  Without server.user, warns when running as root.
 * \return 0, or -errno with err set.
 */
int daemon_drop_privileges(struct daemon *d, char *err, size_t errlen)
    EG_MUSTCHECK;

/** Start the worker threads, the prober, the log writer and the metrics
 * endpoint.  \return 0 or a negative code with err set. */
int daemon_start(struct daemon *d, char *err, size_t errlen) EG_MUSTCHECK;

/** Serve signals and the control socket until a stop has drained every
 * worker; then join them. */
void daemon_run(struct daemon *d);

/**
 * Reload (egressctl reload, SIGHUP): reopen the query log (always), load
 * the config file again; refuse it
 * when it does not load or changes a setting that needs a restart (all or
 * nothing); else swap it into every worker between queries, reload TLS,
 * and restart the prober on the new pools.
 * Main thread.
 * \param msg what happened, one line (refusal: the reason)
 * \return 0, or a negative code (the running config stays).
 */
int daemon_reload(struct daemon *d, char *msg, size_t msglen) EG_MUSTCHECK;

/** Drain every worker and leave daemon_run().  Main thread. */
void daemon_stop(struct daemon *d);

/** Run fn(arg) in the main thread.  Any thread.  \return 0 or -ENOMEM. */
int daemon_post(struct daemon *d, void (*fn)(void *), void *arg) EG_MUSTCHECK;

/** Tell systemd (NOTIFY_SOCKET) something, e.g. "READY=1"; nothing
 * without NOTIFY_SOCKET. */
void daemon_notify(const char *state);

/** Free everything (after daemon_run(), or after a failed start).
 * daemon_free(NULL) is a no-op. */
void daemon_free(struct daemon *d);
