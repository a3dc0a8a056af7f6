/* metrics_config.c -- the `metrics:` section: where the Prometheus endpoint listens
 *
 *   metrics: { listen: "127.0.0.1:9153" }
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "resolver/config.h"
#include "resolver/config_impl.h"

#define METRICS_DEFAULT_PORT	9153

static int
metrics_pair(struct parse *ps, const char *key, yaml_node_t *k, yaml_node_t *v,
    void *arg)
{
	struct metrics_cfg *m = &ps->c->metrics;
	const char *s = cfg_scalar(v);

	if (strcmp(key, "listen") != 0) {
		char name[64];

		snprintf(name, sizeof(name), "metrics.%s", key);
		return cfg_fail(ps, k, name, "unknown key");
	}
	if (s == NULL || config_parse_sockaddr(s, METRICS_DEFAULT_PORT, &m->ss,
	    &m->sslen) != 0)
		return cfg_fail(ps, v, "metrics.listen",
		    "\"%s\" is not ADDRESS[:PORT] ([IPv6]:PORT for IPv6)",
		    s ? s : "(not a value)");
	if ((m->text = strdup(s)) == NULL)
		return -ENOMEM;
	m->enabled = true;
	return 0;
}

int
metrics_config_parse(struct parse *ps, yaml_node_t *n, const char *key)
{
	struct metrics_cfg *m = &ps->c->metrics;
	int r;

	m->line = cfg_line(n);
	if ((r = cfg_for_pairs(ps, n, key, metrics_pair, NULL)) != 0)
		return r;
	if (!m->enabled)
		return cfg_fail(ps, n, "metrics.listen", "missing");
	return 0;
}

void
metrics_config_free(struct metrics_cfg *m)
{
	free(m->text);
}
