/* config.c -- reading egressd.yaml with libyaml
 *
 * parse (libyaml document) -> walk every key against the tables below ->
 * validate -> normalise.  Every error names file, line and key.  Scalar
 * keys are described once in `scalars[]` (name, type, default), so the
 * defaults, -t and man/egressd.yaml.5 agree; keys holding lists or maps
 * have a handler in `complex[]`.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <pwd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "resolver/config.h"
#include "resolver/config_impl.h"
#include "resolver/policy/geo.h"
#include "resolver/policy/policy_config.h"

#define CFG_MAX_LISTEN	64

enum ktype { K_BOOL, K_PATH, K_UINT, K_MS, K_SIZE };

struct scalar_key {
	const char *name;
	enum ktype type;
	size_t off;
	const char *def;	/* NULL: no default */
	unsigned long long min, max;
};

#define OFF(f) offsetof(struct config, f)
static const struct scalar_key scalars[] = {
	{ "server.tcp-idle-timeout", K_MS, OFF(tcp_idle_ms), "10s", 100, 3600000 },
	{ "server.tcp-max-connections", K_UINT, OFF(tcp_max_conns), "1024", 1, 1000000 },
	{ "server.tcp-max-pipelined", K_UINT, OFF(tcp_max_pipelined), "100", 1, 65535 },
	{ "server.max-queries", K_UINT, OFF(max_inflight), "10000", 16, 10000000 },
	{ "server.tls-handshake-timeout", K_MS, OFF(tls_handshake_ms), "5s", 100, 60000 },
	{ "server.max-connections-per-client", K_UINT, OFF(max_conns_per_client), "64", 1, 1000000 },
	{ "server.doh-max-streams", K_UINT, OFF(doh_max_streams), "100", 1, 1000 },
	{ "server.doh-stream-timeout", K_MS, OFF(doh_stream_timeout_ms), "10s", 100, 300000 },
	{ "resolution.dnssec", K_BOOL, OFF(dnssec), "yes", 0, 1 },
	{ "resolution.trust-anchor", K_PATH, OFF(trust_anchor), "/usr/share/dns/root.key", 0, 0 },
	{ "resolution.root-hints", K_PATH, OFF(root_hints), NULL, 0, 0 },
	{ "resolution.cache-size", K_SIZE, OFF(cache_size), "64m", 1u << 20, 1ull << 40 },
	{ "resolution.answer-cache-size", K_SIZE, OFF(answer_cache_size), "32m", 0, 1ull << 40 },
	{ "resolution.query-timeout", K_MS, OFF(query_timeout_ms), "10s", 500, 120000 },
	{ "threatdb", K_PATH, OFF(threatdb), "/var/lib/egressd/threatdb", 0, 0 },
	{ "control", K_PATH, OFF(control), CONFIG_DEFAULT_CONTROL, 0, 0 },
};
#undef OFF

#define N_SCALARS	(sizeof(scalars) / sizeof(*scalars))
_Static_assert(N_SCALARS <= CFG_MAX_SCALARS, "raise CFG_MAX_SCALARS");


static const char *const sections[] = { "server", "resolution" };

int
cfg_vfail_line(struct parse *ps, int line, const char *key, const char *fmt,
    va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		snprintf(ps->err, ps->errlen, "%s:%d: %s: %s", ps->file, line,
		    key, msg);
	else
		snprintf(ps->err, ps->errlen, "%s: %s: %s", ps->file, key, msg);
	return -EG_ECONFIG;
}

int
cfg_fail(struct parse *ps, const yaml_node_t *n, const char *key,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cfg_vfail_line(ps, n ? (int)n->start_mark.line + 1 : 0, key, fmt, ap);
	va_end(ap);
	return r;
}

/* For checks made after parsing: the line where the key was given, if it
 * was (0 for a default). */
int
cfg_fail_line(struct parse *ps, int line, const char *key, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cfg_vfail_line(ps, line, key, fmt, ap);
	va_end(ap);
	return r;
}

static int
scalar_line(const struct parse *ps, const char *key)
{
	for (size_t i = 0; i < N_SCALARS; i++)
		if (strcmp(scalars[i].name, key) == 0)
			return ps->key_line[i];
	return 0;
}

const char *
cfg_scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int
cfg_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

int
cfg_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -EINVAL;
}

/* "123" with an optional unit from units[]; *out in the base unit. */
static int
parse_number(const char *s, const char *const *units, const unsigned long long *mult,
    size_t nunits, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (size_t i = 0; i < nunits; i++) {
		if (strcasecmp(end, units[i]) == 0) {
			if (mult[i] && v > ULLONG_MAX / mult[i])
				return -EINVAL;
			*out = v * mult[i];
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const ms_units[] = { "", "ms", "s", "m", "h" };
static const unsigned long long ms_mult[] = { 1000, 1, 1000, 60000, 3600000 };
static const char *const size_units[] = { "", "k", "m", "g" };
static const unsigned long long size_mult[] = { 1, 1u << 10, 1u << 20, 1u << 30 };

int
cfg_duration_ms(const char *s, unsigned long long *ms)
{
	return parse_number(s, ms_units, ms_mult, 5, ms);
}

int
cfg_size(const char *s, unsigned long long *bytes)
{
	return parse_number(s, size_units, size_mult, 4, bytes);
}

char *
cfg_path(struct parse *ps, const char *s)
{
	char *p;

	if (s[0] == '/' || ps->dir == NULL)
		return strdup(s);
	if (asprintf(&p, "%s/%s", ps->dir, s) < 0)
		return NULL;
	return p;
}

static int
set_scalar(struct parse *ps, const struct scalar_key *k, const char *s,
    const yaml_node_t *n)
{
	char *base = (char *)ps->c + k->off;
	unsigned long long v = 0;
	int r = 0;

	switch (k->type) {
	case K_BOOL:
		if (cfg_bool(s, (bool *)base) != 0)
			return cfg_fail(ps, n, k->name, "\"%s\" is not yes or no", s);
		return 0;
	case K_PATH:
		if (*s == '\0')
			return cfg_fail(ps, n, k->name, "empty path");
		free(*(char **)base);
		if ((*(char **)base = cfg_path(ps, s)) == NULL)
			return -ENOMEM;
		return 0;
	case K_UINT:
		r = parse_number(s, size_units, size_mult, 1, &v);
		break;
	case K_MS:
		r = parse_number(s, ms_units, ms_mult, 5, &v);
		break;
	case K_SIZE:
		r = parse_number(s, size_units, size_mult, 4, &v);
		break;
	}
	if (r != 0)
		return cfg_fail(ps, n, k->name, "\"%s\" is not a %s", s,
		    k->type == K_MS ? "duration (10s, 500ms, 2m)" :
		    k->type == K_SIZE ? "size (512k, 64m, 1g)" : "number");
	if (v < k->min || v > k->max)
		return cfg_fail(ps, n, k->name, "%s is out of range (%llu..%llu%s)",
		    s, k->min, k->max, k->type == K_MS ? " ms" :
		    k->type == K_SIZE ? " bytes" : "");
	if (k->type == K_SIZE)
		*(uint64_t *)base = v;
	else
		*(unsigned *)base = (unsigned)v;
	return 0;
}

int
config_parse_sockaddr(const char *text, uint16_t defport,
    struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *h = text, *hend;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	unsigned long p = defport;

	if (text[0] == '[') {
		h = text + 1;
		if ((hend = strchr(h, ']')) == NULL)
			return -EINVAL;
		if (hend[1] == ':')
			port = hend + 2;
		else if (hend[1] != '\0')
			return -EINVAL;
	} else if ((hend = strchr(text, '@')) != NULL) {
		port = hend + 1;
	} else if ((hend = strchr(text, ':')) != NULL && strchr(hend + 1, ':') == NULL) {
		port = hend + 1;	/* one colon: IPv4:PORT */
	} else
		hend = text + strlen(text);
	if ((size_t)(hend - h) >= sizeof(host) || hend == h)
		return -EINVAL;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	if (port) {
		char *end;

		p = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || p == 0 || p > 65535)
			return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*s6);
	} else
		return -EINVAL;
	return 0;
}

int
cfg_for_pairs(struct parse *ps, yaml_node_t *map, const char *where, cfg_pair_fn *fn,
    void *arg)
{
	yaml_node_pair_t *p, *q;

	if (map->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, map, where, "expected a mapping (key: value)");
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&ps->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&ps->doc, p->value);
		const char *ks = k ? cfg_scalar(k) : NULL;
		int r;

		if (ks == NULL || v == NULL)
			return cfg_fail(ps, k, where, "keys must be plain words");
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			const char *prev = cfg_scalar(yaml_document_get_node(&ps->doc, q->key));
			if (prev && strcmp(prev, ks) == 0) {
				char full[160];

				snprintf(full, sizeof(full), "%s%s%s",
				    strcmp(where, "(document)") ? where : "",
				    strcmp(where, "(document)") ? "." : "", ks);
				return cfg_fail(ps, k, full, "given twice");
			}
		}
		if ((r = fn(ps, ks, k, v, arg)) != 0)
			return r;
	}
	return 0;
}

/* A sequence's items, checked against a bound. */
int
cfg_seq(struct parse *ps, yaml_node_t *n, const char *key,
    yaml_node_item_t **start, size_t *count)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return cfg_fail(ps, n, key, "expected a list");
	*start = n->data.sequence.items.start;
	*count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (*count > CFG_MAX_LIST)
		return cfg_fail(ps, n, key, "more than %d entries", CFG_MAX_LIST);
	return 0;
}

struct listen_tmp {
	const char *transport, *address;
	yaml_node_t *tnode, *anode, *rnode, *pnode;
};

static int
listen_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct listen_tmp *t = arg;
	char name[64];

	snprintf(name, sizeof(name), "server.listen.%s", key);
	if (cfg_scalar(v) == NULL)
		return cfg_fail(ps, v, name, "expected a single value");
	if (strcmp(key, "transport") == 0)
		t->transport = cfg_scalar(v), t->tnode = v;
	else if (strcmp(key, "address") == 0)
		t->address = cfg_scalar(v), t->anode = v;
	else if (strcmp(key, "require-client-certificate") == 0)
		t->rnode = v;
	else if (strcmp(key, "path") == 0)
		t->pnode = v;
	else
		return cfg_fail(ps, k, name, "unknown key");
	return 0;
}

static int
do_listen(struct parse *ps, yaml_node_t *n, const char *key)
{
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, n, key, &it, &cnt)) != 0)
		return r;
	if (cnt > CFG_MAX_LISTEN)
		return cfg_fail(ps, n, key, "more than %d listeners", CFG_MAX_LISTEN);
	if ((ps->c->listen = calloc(cnt ? cnt : 1, sizeof(*ps->c->listen))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		struct listen_cfg *l = &ps->c->listen[ps->c->n_listen];
		struct listen_tmp t = { 0 };

		if ((r = cfg_for_pairs(ps, e, key, listen_pair, &t)) != 0)
			return r;
		if (t.transport == NULL)
			return cfg_fail(ps, e, "server.listen.transport", "missing");
		if (strcmp(t.transport, "dns") == 0)
			l->kind = LISTEN_DNS;
		else if (strcmp(t.transport, "dot") == 0)
			l->kind = LISTEN_DOT;
		else if (strcmp(t.transport, "doh") == 0)
			l->kind = LISTEN_DOH;
		else
			return cfg_fail(ps, t.tnode, "server.listen.transport",
			    "\"%s\" is not supported (this version serves: dns, "
			    "dot, doh)", t.transport);
		if (t.pnode && l->kind != LISTEN_DOH)
			return cfg_fail(ps, t.pnode, "server.listen.path",
			    "only for transport doh");
		if (l->kind == LISTEN_DOH &&
		    (r = doh_config_path(ps, t.pnode, &l->path)) != 0)
			return r;
		if (t.rnode && l->kind != LISTEN_DOT)
			return cfg_fail(ps, t.rnode,
			    "server.listen.require-client-certificate",
			    "only for transport dot");
		if (t.rnode && cfg_bool(cfg_scalar(t.rnode),
		    &l->require_client_cert) != 0)
			return cfg_fail(ps, t.rnode,
			    "server.listen.require-client-certificate",
			    "\"%s\" is not yes or no", cfg_scalar(t.rnode));
		if (t.address == NULL)
			return cfg_fail(ps, e, "server.listen.address", "missing");
		if (config_parse_sockaddr(t.address, l->kind == LISTEN_DOT ? 853 :
		    l->kind == LISTEN_DOH ? 443 : 53, &l->ss, &l->sslen) != 0)
			return cfg_fail(ps, t.anode, "server.listen.address",
			    "\"%s\" is not ADDRESS[:PORT] ([IPv6]:PORT for IPv6)",
			    t.address);
		l->line = cfg_line(e);
		if ((l->text = strdup(t.address)) == NULL)
			return -ENOMEM;
		ps->c->n_listen++;
	}
	return 0;
}

/* server.workers: auto (one per online CPU) or a number. */
static int
do_workers(struct parse *ps, yaml_node_t *n, const char *key)
{
	const char *s = cfg_scalar(n);
	unsigned long long v;
	long cpus;

	if (s == NULL)
		return cfg_fail(ps, n, key, "expected auto or a number");
	if (strcmp(s, "auto") == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		ps->c->workers = cpus < 1 ? 1 : cpus > CONFIG_MAX_WORKERS ?
		    CONFIG_MAX_WORKERS : (unsigned)cpus;
		return 0;
	}
	if (cfg_size(s, &v) != 0 || strspn(s, "0123456789") != strlen(s))
		return cfg_fail(ps, n, key, "\"%s\" is not auto or a number", s);
	if (v < 1 || v > CONFIG_MAX_WORKERS)
		return cfg_fail(ps, n, key, "%s is out of range (1..%d)", s,
		    CONFIG_MAX_WORKERS);
	ps->c->workers = (unsigned)v;
	return 0;
}

/* server.user: the account to run as once the ports are bound. */
static int
do_user(struct parse *ps, yaml_node_t *n, const char *key)
{
	const char *s = cfg_scalar(n);

	if (s == NULL || *s == '\0' || strlen(s) > 64 || strpbrk(s, " \t:/"))
		return cfg_fail(ps, n, key, "expected a user name");
	errno = 0;
	if (getpwnam(s) == NULL)
		return cfg_fail(ps, n, key, "no such user \"%s\"%s%s", s,
		    errno ? ": " : "", errno ? strerror(errno) : "");
	free(ps->c->user);
	return (ps->c->user = strdup(s)) == NULL ? -ENOMEM : 0;
}

static int
do_forward(struct parse *ps, yaml_node_t *n, const char *key)
{
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, n, key, &it, &cnt)) != 0)
		return r;
	if ((ps->c->forward = calloc(cnt ? cnt : 1, sizeof(char *))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		struct sockaddr_storage ss;
		socklen_t len;
		const char *s = cfg_scalar(e);

		char host[INET6_ADDRSTRLEN], *norm;
		const void *a;
		uint16_t port;

		if (s == NULL || config_parse_sockaddr(s, 53, &ss, &len) != 0)
			return cfg_fail(ps, e, key, "\"%s\" is not ADDRESS[@PORT]",
			    s ? s : "(not a value)");
		/* libunbound wants ADDRESS@PORT */
		if (ss.ss_family == AF_INET) {
			a = &((struct sockaddr_in *)&ss)->sin_addr;
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else {
			a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		inet_ntop(ss.ss_family, a, host, sizeof(host));
		if (asprintf(&norm, "%s@%u", host, port) < 0)
			return -ENOMEM;
		ps->c->forward[ps->c->n_forward++] = norm;
	}
	return 0;
}

static int
ub_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct kv *kv = &ps->c->ub_opts[ps->c->n_ub_opts];
	char name[128];

	snprintf(name, sizeof(name), "resolution.unbound-options.%s", key);
	if (cfg_scalar(v) == NULL)
		return cfg_fail(ps, v, name, "expected a single value");
	if (strchr(key, ':') || strlen(key) > 64)
		return cfg_fail(ps, k, name, "write the option name without the colon");
	kv->line = cfg_line(k);
	if ((kv->key = strdup(key)) == NULL || (kv->value = strdup(cfg_scalar(v))) == NULL)
		return -ENOMEM;
	ps->c->n_ub_opts++;
	return 0;
}

static int
do_unbound_options(struct parse *ps, yaml_node_t *n, const char *key)
{
	size_t cnt;

	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, n, key, "expected a mapping of libunbound options");
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if ((ps->c->ub_opts = calloc(cnt ? cnt : 1, sizeof(struct kv))) == NULL)
		return -ENOMEM;
	return cfg_for_pairs(ps, n, key, ub_pair, NULL);
}

struct tenant_tmp {
	yaml_node_t *name, *networks, *identity, *policy, *token;
};

static int
tenant_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct tenant_tmp *t = arg;

	if (strcmp(key, "name") == 0)
		t->name = v;
	else if (strcmp(key, "networks") == 0)
		t->networks = v;
	else if (strcmp(key, "certificate-identity") == 0)
		t->identity = v;
	else if (strcmp(key, "policy") == 0)
		t->policy = v;
	else if (strcmp(key, "doh-token") == 0)
		t->token = v;
	else {
		char name[64];
		snprintf(name, sizeof(name), "tenants.%s", key);
		return cfg_fail(ps, k, name, "unknown key");
	}
	return 0;
}

static int
add_networks(struct parse *ps, yaml_node_t *n, uint32_t tenant)
{
	struct tenants *t = &ps->c->tenants;
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, n, "tenants.networks", &it, &cnt)) != 0)
		return r;
	if (cnt > CFG_MAX_LIST - t->n_nets)
		return cfg_fail(ps, n, "tenants.networks", "too many networks");
	{
		struct tenant_net *nn = realloc(t->nets, (t->n_nets + cnt + 1) * sizeof(*nn));
		if (nn == NULL)
			return -ENOMEM;
		t->nets = nn;
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		struct tenant_net *net = &t->nets[t->n_nets];
		const char *why = "expected ADDRESS/LENGTH";

		if (cfg_scalar(e) == NULL || tenant_net_parse(cfg_scalar(e), net, &why) != 0)
			return cfg_fail(ps, e, "tenants.networks", "\"%s\": %s",
			    cfg_scalar(e) ? cfg_scalar(e) : "", why);
		for (size_t j = 0; j < t->n_nets; j++) {
			if (t->nets[j].family == net->family &&
			    t->nets[j].plen == net->plen &&
			    memcmp(t->nets[j].addr, net->addr, 16) == 0)
				return cfg_fail(ps, e, "tenants.networks",
				    "\"%s\" already belongs to tenant %s", cfg_scalar(e),
				    t->v[t->nets[j].tenant].name);
		}
		net->tenant = tenant;
		t->n_nets++;
	}
	return 0;
}

/* certificate-identity of the tenant just added: a DNS name, a URI or a
 * CN, printable, unique among tenants. */
static int
tenant_identity(struct parse *ps, yaml_node_t *n)
{
	struct tenants *t = &ps->c->tenants;
	const char *s = cfg_scalar(n);
	const char *key = "tenants.certificate-identity";

	if (s == NULL || *s == '\0')
		return cfg_fail(ps, n, key, "expected a DNS name, URI or CN");
	if (strlen(s) > 1024)
		return cfg_fail(ps, n, key, "longer than 1024 characters");
	for (const char *p = s; *p; p++)
		if (!isprint((unsigned char)*p))
			return cfg_fail(ps, n, key, "contains a control character");
	for (size_t j = 0; j + 1 < t->n; j++)
		if (t->v[j].cert_identity && strcasecmp(t->v[j].cert_identity, s) == 0)
			return cfg_fail(ps, n, key,
			    "\"%s\" already identifies tenant %s", s, t->v[j].name);
	if ((t->v[t->n - 1].cert_identity = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
do_tenants(struct parse *ps, yaml_node_t *n, const char *key)
{
	struct tenants *t = &ps->c->tenants;
	yaml_node_item_t *it;
	size_t cnt;
	int r;

	if ((r = cfg_seq(ps, n, key, &it, &cnt)) != 0)
		return r;
	if ((t->v = calloc(cnt ? cnt : 1, sizeof(*t->v))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = yaml_document_get_node(&ps->doc, it[i]);
		struct tenant_tmp tt = { 0 };
		const char *name;

		if ((r = cfg_for_pairs(ps, e, key, tenant_pair, &tt)) != 0)
			return r;
		if (tt.name == NULL || (name = cfg_scalar(tt.name)) == NULL || !*name)
			return cfg_fail(ps, e, "tenants.name", "every tenant needs a name");
		for (size_t j = 0; j < t->n; j++)
			if (strcmp(t->v[j].name, name) == 0)
				return cfg_fail(ps, tt.name, "tenants.name",
				    "tenant \"%s\" is defined twice", name);
		if ((t->v[t->n].name = strdup(name)) == NULL)
			return -ENOMEM;
		t->v[t->n].line = cfg_line(e);
		t->n++;
		if (tt.networks == NULL && tt.identity == NULL && tt.token == NULL)
			return cfg_fail(ps, e, "tenants.networks",
			    "tenant \"%s\" has neither networks nor a "
			    "certificate-identity nor a doh-token", name);
		if (tt.token &&
		    (r = doh_config_token(ps, tt.token, &t->v[t->n - 1])) != 0)
			return r;
		if (tt.identity && (r = tenant_identity(ps, tt.identity)) != 0)
			return r;
		if (tt.policy &&
		    (r = pol_config_tenant(ps, tt.policy, &t->v[t->n - 1])) != 0)
			return r;
		if (tt.networks &&
		    (r = add_networks(ps, tt.networks, (uint32_t)(t->n - 1))) != 0)
			return r;
	}
	return 0;
}

/* Keys with structure: one handler each.  A section parsed in its own
 * file (config_impl.h) adds its row here, its cross-checks to validate()
 * and its cleanup to config_free(). */
static const struct {
	const char *name;
	int (*fn)(struct parse *, yaml_node_t *, const char *);
} complex[] = {
	{ "server.listen", do_listen },
	{ "server.tls", tls_config_parse },
	{ "server.resolver-name", doh_config_resolver_name },
	{ "server.workers", do_workers },
	{ "server.user", do_user },
	{ "resolution.forward", do_forward },
	{ "resolution.unbound-options", do_unbound_options },
	{ "tenants", do_tenants },
	{ "zones", zone_config_parse },
	{ "policies", pol_config_policies },
	{ "geoip", geo_config_parse },
	{ "security-nodes", node_config_parse },
	{ "log", audit_config_parse },
	{ "metrics", metrics_config_parse },
};

static int
top_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	const char *prefix = arg;
	char name[128];

	if (strchr(key, '.'))	/* "server.listen:" is not a way to nest */
		return cfg_fail(ps, k, key, "unknown key");
	snprintf(name, sizeof(name), "%s%s%s", prefix ? prefix : "",
	    prefix ? "." : "", key);
	for (size_t i = 0; !prefix && i < sizeof(sections) / sizeof(*sections); i++)
		if (strcmp(name, sections[i]) == 0)
			return cfg_for_pairs(ps, v, sections[i], top_pair, (void *)sections[i]);
	for (size_t i = 0; i < sizeof(scalars) / sizeof(*scalars); i++) {
		if (strcmp(name, scalars[i].name) != 0)
			continue;
		if (cfg_scalar(v) == NULL)
			return cfg_fail(ps, v, name, "expected a single value");
		ps->key_line[i] = cfg_line(k);
		return set_scalar(ps, &scalars[i], cfg_scalar(v), v);
	}
	for (size_t i = 0; i < sizeof(complex) / sizeof(*complex); i++) {
		if (strcmp(name, complex[i].name) != 0)
			continue;
		if (strcmp(name, "resolution.forward") == 0)
			ps->forward_line = cfg_line(k);
		return complex[i].fn(ps, v, name);
	}
	return cfg_fail(ps, k, name, "unknown key");
}

int
cfg_check_file(struct parse *ps, int line, const char *key, const char *path)
{
	struct stat st;

	if (path == NULL)
		return 0;
	if (access(path, R_OK) != 0)
		return cfg_fail_line(ps, line, key, "cannot read %s: %s",
		    path, strerror(errno));
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return cfg_fail_line(ps, line, key, "%s is not a regular file", path);
	return 0;
}

static int
validate(struct parse *ps)
{
	struct config *c = ps->c;
	int r;

	if (c->n_listen == 0)
		return cfg_fail(ps, NULL, "server.listen", "no listener configured");
	if (c->tenants.n == 0)
		return cfg_fail(ps, NULL, "tenants",
		    "no tenants: every client would be refused");
	if (c->root_hints && c->n_forward)
		return cfg_fail_line(ps, ps->forward_line, "resolution.forward",
		    "give either root-hints or forward, not both");
	if (c->dnssec && (r = cfg_check_file(ps,
	    scalar_line(ps, "resolution.trust-anchor"), "resolution.trust-anchor",
	    c->trust_anchor)))
		return r;
	if ((r = cfg_check_file(ps,
	    scalar_line(ps, "resolution.root-hints"), "resolution.root-hints",
	    c->root_hints)) != 0)
		return r;
	if ((r = tls_config_validate(ps)) != 0)
		return r;
	if ((r = doh_config_validate(ps)) != 0)
		return r;
	if ((r = audit_config_validate(ps)) != 0)
		return r;
	if ((r = pol_config_validate(ps)) != 0)
		return r;
	if ((r = zone_config_validate(ps)) != 0)
		return r;
	tenants_finish(&c->tenants);
	if (c->workers == 0)	/* not given: auto */
		c->workers = (unsigned)(sysconf(_SC_NPROCESSORS_ONLN) < 1 ? 1 :
		    sysconf(_SC_NPROCESSORS_ONLN) > CONFIG_MAX_WORKERS ?
		    CONFIG_MAX_WORKERS : sysconf(_SC_NPROCESSORS_ONLN));
	c->control_line = scalar_line(ps, "control");
	return 0;
}

static int
load_document(struct parse *ps, FILE *f)
{
	yaml_parser_t parser;
	yaml_node_t *root;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &ps->doc)) {
		snprintf(ps->err, ps->errlen, "%s:%lu: YAML: %s%s%s", ps->file,
		    (unsigned long)parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "syntax error",
		    parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EG_ECONFIG;
	}
	if ((root = yaml_document_get_root_node(&ps->doc)) == NULL)
		r = cfg_fail(ps, NULL, "(document)", "the file is empty");
	else
		r = cfg_for_pairs(ps, root, "(document)", top_pair, NULL);
	yaml_document_delete(&ps->doc);
	if (r == 0) {
		/* one document per file: a second one would go unread */
		yaml_document_t next;

		if (!yaml_parser_load(&parser, &next)) {
			r = cfg_fail_line(ps, (int)parser.problem_mark.line + 1, "(document)",
			    "YAML: %s", parser.problem ? parser.problem : "syntax error");
		} else {
			if (yaml_document_get_root_node(&next) != NULL)
				r = cfg_fail_line(ps, (int)next.start_mark.line + 1,
				    "(document)", "only one YAML document per file");
			yaml_document_delete(&next);
		}
	}
	yaml_parser_delete(&parser);
	return r;
}

int
config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	struct parse ps = { .file = path, .err = err, .errlen = errlen };
	const char *slash;
	FILE *f;
	int r;

	if ((ps.c = calloc(1, sizeof(*ps.c))) == NULL)
		return -ENOMEM;
	if ((ps.c->path = strdup(path)) == NULL) {
		free(ps.c);
		return -ENOMEM;
	}
	/* relative paths in the config are taken from its directory, made
	 * absolute so that they do not depend on where egressd runs later */
	if ((slash = strrchr(path, '/')) != NULL)
		ps.dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (ps.dir == NULL || ps.dir[0] != '/') {
		char *cwd = getcwd(NULL, 0), *abs = NULL;

		if (cwd && (ps.dir == NULL ? (abs = strdup(cwd)) != NULL :
		    asprintf(&abs, "%s/%s", cwd, ps.dir) >= 0)) {
			free(ps.dir);
			ps.dir = abs;
		}
		free(cwd);
	}
	for (size_t i = 0; i < sizeof(scalars) / sizeof(*scalars); i++)
		if (scalars[i].def && (r = set_scalar(&ps, &scalars[i], scalars[i].def, NULL)) != 0)
			goto out;
	if ((f = fopen(path, "r")) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = load_document(&ps, f);
	fclose(f);
	if (r == 0)
		r = validate(&ps);
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	free(ps.dir);
	if (r != 0) {
		config_free(ps.c);
		return r;
	}
	ps.c->refs = 1;
	*out = ps.c;
	return 0;
}

const struct config *
config_ref(const struct config *c)
{
	atomic_fetch_add_explicit(&((struct config *)c)->refs, 1,
	    memory_order_relaxed);
	return c;
}

void
config_unref(const struct config *c)
{
	if (c != NULL && atomic_fetch_sub_explicit(&((struct config *)c)->refs,
	    1, memory_order_acq_rel) == 1)
		config_free((struct config *)c);
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_listen; i++) {
		free(c->listen[i].text);
		free(c->listen[i].path);
	}
	free(c->resolver_name);
	free(c->listen);
	for (size_t i = 0; i < c->n_forward; i++)
		free(c->forward[i]);
	free(c->forward);
	for (size_t i = 0; i < c->n_ub_opts; i++) {
		free(c->ub_opts[i].key);
		free(c->ub_opts[i].value);
	}
	free(c->ub_opts);
	tenants_deinit(&c->tenants);
	zone_config_free(c);
	policies_deinit(&c->policies);
	free(c->threatdb);
	free(c->user);
	free(c->control);
	geo_free(c->geo);
	node_pools_free(c->nodes);
	tls_config_free(&c->tls);
	audit_config_free(&c->log);
	metrics_config_free(&c->metrics);
	free(c->trust_anchor);
	free(c->root_hints);
	free(c->path);
	free(c);
}
