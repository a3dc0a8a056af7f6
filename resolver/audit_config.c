/* audit_config.c -- the `log:` section: where query records go and what they say
 *
 *   log:
 *     queries: /var/log/egressd/queries.jsonl   # or "-" / stdout
 *     syslog: "tcp://siem.example:6514"          # or tls://; instead of queries
 *     syslog-ca: /etc/egressd/siem-ca.pem        # tls:// only; default system CAs
 *     mode: metadata                             # metadata | blocked-only | none
 *     client-address: full                       # full | truncate | hash
 *     hash-key: /etc/egressd/log-hash.key        # client-address: hash
 *     buffer: 4096                               # records per worker
 *     syslog-buffer: 4m                          # bytes held while the SIEM is away
 */
#include "autoconf.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolver/config.h"
#include "resolver/config_impl.h"

#define AUDIT_DEFAULT_BUFFER	4096
#define AUDIT_MIN_BUFFER	16
#define AUDIT_MAX_BUFFER	(1u << 20)
#define AUDIT_DEFAULT_SYSLOG_BUFFER	(4ull << 20)
#define AUDIT_MIN_SYSLOG_BUFFER	(64ull << 10)
#define AUDIT_MAX_SYSLOG_BUFFER	(1ull << 30)

/* What the pairs of the section said, before the cross-checks. */
struct audit_tmp {
	const yaml_node_t *queries, *syslog, *ca, *key, *buffer, *sysbuf;
};

/* One of three words (words[3]); *out its index. */
static int
pick(struct parse *ps, const yaml_node_t *v, const char *key,
    const char *const *words, int *out)
{
	const char *s = cfg_scalar(v);

	for (size_t i = 0; s && i < 3; i++)
		if (strcmp(s, words[i]) == 0)
			return *out = (int)i, 0;
	return cfg_fail(ps, v, key, "\"%s\" is not one of %s, %s, %s",
	    s ? s : "(not a value)", words[0], words[1], words[2]);
}

static int
log_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	static const char *const modes[] = { "metadata", "blocked-only", "none" };
	static const char *const addrs[] = { "full", "truncate", "hash" };
	struct audit_tmp *t = arg;
	struct audit_cfg *a = &ps->c->log;
	char name[64];
	int x, r;

	snprintf(name, sizeof(name), "log.%s", key);
	if (cfg_scalar(v) == NULL || *cfg_scalar(v) == '\0')
		return cfg_fail(ps, v, name, "expected a single value");
	if (strcmp(key, "mode") == 0) {
		if ((r = pick(ps, v, name, modes, &x)) != 0)
			return r;
		a->mode = (enum audit_mode)x;
	} else if (strcmp(key, "client-address") == 0) {
		if ((r = pick(ps, v, name, addrs, &x)) != 0)
			return r;
		a->client = (enum audit_addr)x;
	} else if (strcmp(key, "queries") == 0)
		t->queries = v;
	else if (strcmp(key, "syslog") == 0)
		t->syslog = v;
	else if (strcmp(key, "syslog-ca") == 0)
		t->ca = v;
	else if (strcmp(key, "hash-key") == 0)
		t->key = v;
	else if (strcmp(key, "buffer") == 0)
		t->buffer = v;
	else if (strcmp(key, "syslog-buffer") == 0)
		t->sysbuf = v;
	else
		return cfg_fail(ps, k, name, "unknown key");
	return 0;
}

/* "tcp://HOST:PORT", "tls://HOST:PORT", "tls://[V6]:PORT" */
static int
parse_syslog(struct parse *ps, const yaml_node_t *v)
{
	struct audit_cfg *a = &ps->c->log;
	const char *s = cfg_scalar(v), *host, *end, *colon;

	if (strncmp(s, "tcp://", 6) == 0)
		a->syslog_tls = false;
	else if (strncmp(s, "tls://", 6) == 0)
		a->syslog_tls = true;
	else
		return cfg_fail(ps, v, "log.syslog",
		    "\"%s\" is not tcp://HOST:PORT or tls://HOST:PORT", s);
	host = s + 6;
	if (*host == '[') {
		host++;
		if ((end = strchr(host, ']')) == NULL || end[1] != ':')
			return cfg_fail(ps, v, "log.syslog",
			    "\"%s\": write an IPv6 address as [ADDRESS]:PORT", s);
		colon = end + 1;
	} else {
		if ((colon = strrchr(host, ':')) == NULL)
			return cfg_fail(ps, v, "log.syslog", "\"%s\" has no :PORT", s);
		end = colon;
	}
	if (end == host || end - host > 253)
		return cfg_fail(ps, v, "log.syslog", "\"%s\" has no host", s);
	{
		char *e;
		unsigned long p = strtoul(colon + 1, &e, 10);

		if (colon[1] == '\0' || *e != '\0' || p == 0 || p > 65535)
			return cfg_fail(ps, v, "log.syslog", "\"%s\": bad port", s);
	}
	if ((a->syslog_host = strndup(host, (size_t)(end - host))) == NULL ||
	    (a->syslog_port = strdup(colon + 1)) == NULL)
		return -ENOMEM;
	a->sink = AUDIT_SINK_SYSLOG;
	return 0;
}

/* The key is a secret: a regular file, not readable by everyone, of at
 * least AUDIT_KEY_MIN bytes, used as is (newline included). */
static int
read_key(struct parse *ps, const yaml_node_t *v)
{
	struct audit_cfg *a = &ps->c->log;
	char *path;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	if ((path = cfg_path(ps, cfg_scalar(v))) == NULL)
		return -ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = cfg_fail(ps, v, "log.hash-key", "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = cfg_fail(ps, v, "log.hash-key", "%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		r = cfg_fail(ps, v, "log.hash-key", "%s is readable by everyone "
		    "(chmod o-r %s)", path, path);
		goto out;
	}
	if (st.st_size < AUDIT_KEY_MIN || st.st_size > AUDIT_KEY_MAX) {
		r = cfg_fail(ps, v, "log.hash-key", "%s holds %lld bytes; a key "
		    "has %d to %d (e.g. head -c 32 /dev/urandom)", path,
		    (long long)st.st_size, AUDIT_KEY_MIN, AUDIT_KEY_MAX);
		goto out;
	}
	if ((a->key = malloc((size_t)st.st_size)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((n = read(fd, a->key, (size_t)st.st_size)) != st.st_size) {
		r = cfg_fail(ps, v, "log.hash-key", "cannot read %s", path);
		goto out;
	}
	a->keylen = (size_t)n;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* The log file need not exist yet, but its directory must, and what is
 * there must be a regular file. */
static int
check_log_path(struct parse *ps, const yaml_node_t *v, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat st;
	int r = 0;

	if (stat(path, &st) == 0)
		return S_ISREG(st.st_mode) ? 0 :
		    cfg_fail(ps, v, "log.queries", "%s is not a regular file", path);
	if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL)
		return -ENOMEM;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		r = cfg_fail(ps, v, "log.queries", "directory %s does not exist", dir);
	free(dir);
	return r;
}

int
audit_config_parse(struct parse *ps, yaml_node_t *n, const char *key)
{
	struct audit_cfg *a = &ps->c->log;
	struct audit_tmp t = { 0 };
	unsigned long long x;
	int r;

	a->line = cfg_line(n);
	if ((r = cfg_for_pairs(ps, n, key, log_pair, &t)) != 0)
		return r;
	if (t.queries && t.syslog)
		return cfg_fail(ps, t.syslog, "log.syslog",
		    "give either queries or syslog, not both");
	if (t.queries) {
		const char *s = cfg_scalar(t.queries);

		if (strcmp(s, "-") == 0 || strcmp(s, "stdout") == 0)
			a->sink = AUDIT_SINK_STDOUT;
		else {
			if ((a->path = cfg_path(ps, s)) == NULL)
				return -ENOMEM;
			if ((r = check_log_path(ps, t.queries, a->path)) != 0)
				return r;
			a->sink = AUDIT_SINK_FILE;
		}
	}
	if (t.syslog && (r = parse_syslog(ps, t.syslog)) != 0)
		return r;
	if (t.ca) {
		if (!a->syslog_tls)
			return cfg_fail(ps, t.ca, "log.syslog-ca",
			    "only for a tls:// syslog");
		if ((a->syslog_ca = cfg_path(ps, cfg_scalar(t.ca))) == NULL)
			return -ENOMEM;
		if ((r = cfg_check_file(ps, cfg_line(t.ca), "log.syslog-ca",
		    a->syslog_ca)) != 0)
			return r;
	}
	if (t.key && (r = read_key(ps, t.key)) != 0)
		return r;
	if (t.buffer) {
		if (cfg_size(cfg_scalar(t.buffer), &x) != 0 ||
		    x < AUDIT_MIN_BUFFER || x > AUDIT_MAX_BUFFER)
			return cfg_fail(ps, t.buffer, "log.buffer",
			    "\"%s\" is not a number of records (%d..%u)",
			    cfg_scalar(t.buffer), AUDIT_MIN_BUFFER, AUDIT_MAX_BUFFER);
		a->buffer = (unsigned)x;
	}
	if (t.sysbuf) {
		if (cfg_size(cfg_scalar(t.sysbuf), &x) != 0 ||
		    x < AUDIT_MIN_SYSLOG_BUFFER || x > AUDIT_MAX_SYSLOG_BUFFER)
			return cfg_fail(ps, t.sysbuf, "log.syslog-buffer",
			    "\"%s\" is not a size from 64k to 1g",
			    cfg_scalar(t.sysbuf));
		a->syslog_buffer = x;
	}
	return 0;
}

int
audit_config_validate(struct parse *ps)
{
	struct audit_cfg *a = &ps->c->log;

	if (a->buffer == 0)
		a->buffer = AUDIT_DEFAULT_BUFFER;
	if (a->syslog_buffer == 0)
		a->syslog_buffer = AUDIT_DEFAULT_SYSLOG_BUFFER;
	if (a->line == 0) {		/* no log: section, no records */
		a->mode = AUDIT_MODE_NONE;
		return 0;
	}
	if (a->mode != AUDIT_MODE_NONE && a->sink == AUDIT_SINK_NONE)
		return cfg_fail_line(ps, a->line, "log.queries",
		    "say where records go (queries: PATH, \"-\" or syslog: URL), "
		    "or mode: none");
	if (a->client == AUDIT_ADDR_HASH && a->key == NULL)
		return cfg_fail_line(ps, a->line, "log.hash-key",
		    "client-address: hash needs a hash-key file");
	return 0;
}

void
audit_config_free(struct audit_cfg *a)
{
	free(a->path);
	free(a->syslog_host);
	free(a->syslog_port);
	free(a->syslog_ca);
	if (a->key) {
		explicit_bzero(a->key, a->keylen);
		free(a->key);
	}
}
