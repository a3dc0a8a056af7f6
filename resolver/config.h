/* config.h -- the daemon's configuration: YAML in, one immutable struct out */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "resolver/eg.h"
#include "resolver/policy/tenant.h"
#include "resolver/policy/node.h"
#include "resolver/policy/policy.h"

struct geo;
struct zone_cfg;
struct zone_set;

#define CONFIG_DEFAULT_PATH	"/etc/egressd/egressd.yaml"
#define CONFIG_DEFAULT_CONTROL	"/run/egressd/control.sock"
#define CONFIG_MAX_WORKERS	256	/* server.workers */

enum listen_kind {
	LISTEN_DNS,		/* Do53: UDP and TCP on the same address */
	LISTEN_DOT,		/* DNS-over-TLS (RFC 7858) */
	LISTEN_DOH,		/* DNS-over-HTTPS (RFC 8484), HTTP/2 */
};

struct listen_cfg {
	enum listen_kind kind;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char *text;		/* as written, for messages */
	int line;
	bool require_client_cert;	/* dot: require-client-certificate */
	char *path;		/* doh: the endpoint's path ("/dns-query") */
};

/** server.tls: the server's certificate chain and key, and the CA that
 * signs tenants' client certificates (mTLS), all PEM paths. */
struct tls_cfg {
	char *certificate;
	char *key;
	char *client_ca;	/* NULL: no client certificates asked for */
	int line;		/* where server.tls was given, 0: absent */
	int cert_line, key_line, ca_line;	/* where each key was given */
};

/** log: how the query audit log is kept (resolver/audit_config.c). */
enum audit_mode {
	AUDIT_MODE_METADATA = 0,	/* a record for every query */
	AUDIT_MODE_BLOCKED_ONLY,	/* only decisions other than pass */
	AUDIT_MODE_NONE,		/* no records */
};
enum audit_addr {
	AUDIT_ADDR_FULL = 0,		/* the client's address as is */
	AUDIT_ADDR_TRUNCATE,		/* its /24 (IPv4) or /56 (IPv6) */
	AUDIT_ADDR_HASH,		/* HMAC-SHA-256 of it, keyed by hash-key */
};
enum audit_sink { AUDIT_SINK_NONE = 0, AUDIT_SINK_FILE, AUDIT_SINK_STDOUT,
	AUDIT_SINK_SYSLOG };

#define AUDIT_KEY_MIN	16	/* bytes of log.hash-key, at least */
#define AUDIT_KEY_MAX	4096

struct audit_cfg {
	enum audit_mode mode;		/* log.mode */
	enum audit_addr client;		/* log.client-address */
	enum audit_sink sink;
	char *path;			/* log.queries (a file), or NULL */
	char *syslog_host;		/* log.syslog: tcp:// or tls://HOST:PORT */
	char *syslog_port;
	bool syslog_tls;
	char *syslog_ca;		/* log.syslog-ca, NULL: the system CAs */
	unsigned buffer;		/* log.buffer: records per worker ring */
	uint64_t syslog_buffer;		/* log.syslog-buffer: bytes held meanwhile */
	uint8_t *key;			/* content of log.hash-key */
	size_t keylen;
	int line;			/* where log: was given, 0: absent */
};

/** metrics: the Prometheus endpoint (resolver/metrics_config.c). */
struct metrics_cfg {
	bool enabled;
	struct sockaddr_storage ss;	/* metrics.listen */
	socklen_t sslen;
	char *text;
	int line;
};

/** An option handed to libunbound as written: ub_ctx_set_option(key:, value). */
struct kv {
	char *key;
	char *value;
	int line;
};

/** The whole configuration.  Built by config_load(), never changed after;
 * reload builds a new one beside it. */
struct config {
	_Atomic unsigned refs;		/* config_ref()/config_unref() */
	uint64_t gen;			/* which load: the daemon numbers them
					 * from 1.  Tell configs apart by this,
					 * not by address: a freed one's address
					 * comes back */
	char *path;
	struct listen_cfg *listen;
	size_t n_listen;
	unsigned tcp_idle_ms;		/* server.tcp-idle-timeout */
	unsigned tcp_max_conns;		/* server.tcp-max-connections */
	unsigned tcp_max_pipelined;	/* server.tcp-max-pipelined */
	unsigned max_inflight;		/* server.max-queries */
	unsigned tls_handshake_ms;	/* server.tls-handshake-timeout */
	unsigned max_conns_per_client;	/* server.max-connections-per-client */
	struct tls_cfg tls;		/* server.tls */
	unsigned workers;		/* server.workers: auto resolved to the
					 * online CPUs, 1..CONFIG_MAX_WORKERS */
	char *user;			/* server.user, NULL: stay who we are */
	char *control;			/* control: the socket's path */
	int control_line;		/* where control was given, 0: default */
	char *resolver_name;		/* server.resolver-name (DDR), "name." or NULL */
	unsigned doh_max_streams;	/* server.doh-max-streams */
	unsigned doh_stream_timeout_ms;	/* server.doh-stream-timeout */
	bool dnssec;			/* resolution.dnssec */
	char *trust_anchor;		/* resolution.trust-anchor */
	char *root_hints;		/* resolution.root-hints, may be NULL */
	char **forward;			/* resolution.forward, "ADDR[@PORT]" */
	size_t n_forward;
	uint64_t cache_size;		/* resolution.cache-size, bytes */
	uint64_t answer_cache_size;	/* resolution.answer-cache-size, bytes
					 * for all workers; 0: off (cache.h) */
	unsigned query_timeout_ms;	/* resolution.query-timeout */
	struct kv *ub_opts;		/* resolution.unbound-options */
	size_t n_ub_opts;
	struct tenants tenants;
	struct zone_cfg *zone_cfg;	/* zones: as written (zones/zone_config.c) */
	size_t n_zone_cfg;
	struct zone_set *zones;		/* zones: loaded; NULL when none */
	struct policies policies;	/* policies: (resolver/policy/policy_config.c) */
	char *threatdb;			/* threatdb: the LMDB environment's directory */
	struct audit_cfg log;		/* log: */
	struct metrics_cfg metrics;	/* metrics: */
	struct geo *geo;		/* geoip: NULL when not configured */
	struct node_pools *nodes;	/* security-nodes.pools: NULL when none;
					 * only its health flags (atomics) change */
	struct node_check node_check;	/* security-nodes.health-check */
};

/**
 * Read, check and normalise a configuration file (and check every file it
 * names).  Relative paths are taken from the config file's directory.
 * \param err on failure, "FILE:LINE: KEY: reason"
 * \return 0 with *out set (caller frees with config_free()), or -EG_ECONFIG
 * / -errno with *out untouched.
 */
int config_load(const char *path, struct config **out, char *err,
    size_t errlen) EG_MUSTCHECK;

void config_free(struct config *c);

/** One more reference to c (it starts with one from config_load()).
 * Any thread.  \return c */
const struct config *config_ref(const struct config *c);

/** Drop a reference; the last one frees c with config_free().  Any
 * thread; config_unref(NULL) is a no-op. */
void config_unref(const struct config *c);

/**
 * Parse "ADDR", "ADDR:PORT", "[ADDR6]:PORT" or "ADDR@PORT".
 * \return 0 or -EINVAL.
 */
int config_parse_sockaddr(const char *text, uint16_t defport,
    struct sockaddr_storage *ss, socklen_t *len) EG_MUSTCHECK;
