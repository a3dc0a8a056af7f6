/* config.h -- the daemon's configuration: YAML in, one immutable struct out */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "resolver/eg.h"
#include "resolver/policy/tenant.h"

#define CONFIG_DEFAULT_PATH	"/etc/egressd/egressd.yaml"

enum listen_kind {
	LISTEN_DNS,		/* Do53: UDP and TCP on the same address */
};

struct listen_cfg {
	enum listen_kind kind;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char *text;		/* as written, for messages */
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
	char *path;
	struct listen_cfg *listen;
	size_t n_listen;
	unsigned tcp_idle_ms;		/* server.tcp-idle-timeout */
	unsigned tcp_max_conns;		/* server.tcp-max-connections */
	unsigned tcp_max_pipelined;	/* server.tcp-max-pipelined */
	unsigned max_inflight;		/* server.max-queries */
	bool dnssec;			/* resolution.dnssec */
	char *trust_anchor;		/* resolution.trust-anchor */
	char *root_hints;		/* resolution.root-hints, may be NULL */
	char **forward;			/* resolution.forward, "ADDR[@PORT]" */
	size_t n_forward;
	uint64_t cache_size;		/* resolution.cache-size, bytes */
	unsigned query_timeout_ms;	/* resolution.query-timeout */
	struct kv *ub_opts;		/* resolution.unbound-options */
	size_t n_ub_opts;
	struct tenants tenants;
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

/**
 * Parse "ADDR", "ADDR:PORT", "[ADDR6]:PORT" or "ADDR@PORT".
 * \return 0 or -EINVAL.
 */
int config_parse_sockaddr(const char *text, uint16_t defport,
    struct sockaddr_storage *ss, socklen_t *len) EG_MUSTCHECK;
