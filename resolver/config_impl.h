/* config_impl.h -- what the parts of the config parser share
 *
 * config.c walks the document and owns the scalar keys and the tables of
 * handlers; a section with structure of its own (policies, zones, TLS,
 * GeoIP, security nodes ...) is parsed by a handler in its own file, with
 * these helpers, so that every error reads "FILE:LINE: KEY: reason".
 * Only config parsers include this header.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "resolver/config.h"

#define CFG_MAX_SCALARS	64	/* scalar keys in config.c's table */
#define CFG_MAX_LIST	100000	/* entries in any one list */

/** The state of one config_load(). */
struct parse {
	const char *file;
	char *dir;		/* for relative paths */
	struct config *c;
	yaml_document_t doc;
	char *err;
	size_t errlen;
	int key_line[CFG_MAX_SCALARS];	/* where each scalar key was set */
	int forward_line;
};

/** A key's handler in a mapping walked by cfg_for_pairs(). */
typedef int cfg_pair_fn(struct parse *ps, const char *key, yaml_node_t *k,
    yaml_node_t *v, void *arg);

/** Record "FILE:LINE: KEY: reason" (LINE of node n; none when n is NULL).
 * \return -EG_ECONFIG */
int cfg_fail(struct parse *ps, const yaml_node_t *n, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** The same with a line number (0: none), for checks made after parsing. */
int cfg_fail_line(struct parse *ps, int line, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cfg_vfail_line(struct parse *ps, int line, const char *key,
    const char *fmt, va_list ap);

/** A scalar node's text, or NULL when n is a list or a mapping. */
const char *cfg_scalar(const yaml_node_t *n);
/** The 1-based line of a node. */
int cfg_line(const yaml_node_t *n);

/** yes/no, true/false, on/off.  \return 0 or -EINVAL */
int cfg_bool(const char *s, bool *out) EG_MUSTCHECK;
/** "500ms", "10s", "2m", "1h" (a bare number is seconds).
 * \return 0 or -EINVAL */
int cfg_duration_ms(const char *s, unsigned long long *ms) EG_MUSTCHECK;
/** "512", "64k", "64m", "1g" in bytes.  \return 0 or -EINVAL */
int cfg_size(const char *s, unsigned long long *bytes) EG_MUSTCHECK;
/** A path from the config, relative ones taken from the config file's
 * directory; malloc'd (NULL: out of memory). */
char *cfg_path(struct parse *ps, const char *s);
/** The file must exist, be readable and regular; line/key for the error.
 * path NULL passes. */
int cfg_check_file(struct parse *ps, int line, const char *key,
    const char *path) EG_MUSTCHECK;

/** Call fn for each pair of a mapping (where: its key, for messages);
 * refuses duplicate keys, which libyaml allows. */
int cfg_for_pairs(struct parse *ps, yaml_node_t *map, const char *where,
    cfg_pair_fn *fn, void *arg) EG_MUSTCHECK;
/** A sequence's items, at most CFG_MAX_LIST of them. */
int cfg_seq(struct parse *ps, yaml_node_t *n, const char *key,
    yaml_node_item_t **start, size_t *count) EG_MUSTCHECK;

/* Sections parsed in their own files. */
/** server.tls (resolver/dot/tls_config.c) */
int tls_config_parse(struct parse *ps, yaml_node_t *n, const char *key) EG_MUSTCHECK;
/** Cross-checks of server.tls against the listeners and tenants; loads the
 * certificate, key and client CA as the server will. */
int tls_config_validate(struct parse *ps) EG_MUSTCHECK;
void tls_config_free(struct tls_cfg *t);
/** server.resolver-name (resolver/doh/doh_config.c): a DNS name */
int doh_config_resolver_name(struct parse *ps, yaml_node_t *n,
    const char *key) EG_MUSTCHECK;
/** server.listen[].path of a doh listener (resolver/doh/doh_config.c):
 * checked and copied to *out (malloc'd). */
int doh_config_path(struct parse *ps, yaml_node_t *n, char **out) EG_MUSTCHECK;
/** tenants[].doh-token of tenant t (resolver/doh/doh_config.c): checked,
 * unique, kept as its SHA-256. */
int doh_config_token(struct parse *ps, yaml_node_t *n, struct tenant *t)
    EG_MUSTCHECK;
/** Cross-checks: a doh listener needs server.tls. */
int doh_config_validate(struct parse *ps) EG_MUSTCHECK;
/** geoip (resolver/policy/geo_config.c): opens the databases, so -t checks
 * them. */
int geo_config_parse(struct parse *ps, yaml_node_t *n, const char *key) EG_MUSTCHECK;
/** security-nodes (resolver/policy/node_config.c) */
int node_config_parse(struct parse *ps, yaml_node_t *n, const char *key) EG_MUSTCHECK;
/** log: (resolver/audit_config.c) */
int audit_config_parse(struct parse *ps, yaml_node_t *n, const char *key) EG_MUSTCHECK;
int audit_config_validate(struct parse *ps) EG_MUSTCHECK;
void audit_config_free(struct audit_cfg *a);
/** metrics: (resolver/metrics_config.c) */
int metrics_config_parse(struct parse *ps, yaml_node_t *n, const char *key) EG_MUSTCHECK;
void metrics_config_free(struct metrics_cfg *m);
/** zones: (zones/zone_config.c): the entries as written; validate
 * resolves their tenants and loads the zone files into c->zones. */
int zone_config_parse(struct parse *ps, yaml_node_t *n, const char *key) EG_MUSTCHECK;
int zone_config_validate(struct parse *ps) EG_MUSTCHECK;
void zone_config_free(struct config *c);
