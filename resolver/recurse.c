/* recurse.c -- libunbound's event API inside our libevent loop
 *
 * Facts this file relies on (Debian 12, libunbound 1.17): ub_resolve_event()
 * may call back before it returns (cache hits, local data); options freeze
 * at the first resolve; the library asks with DO and validates whenever a
 * trust anchor is loaded; its defaults are sized for a client, so we set
 * server-sized ones before the caller's unbound-options.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <unbound.h>
#include <unbound-event.h>

#include "resolver/config.h"
#include "resolver/log.h"
#include "resolver/recurse.h"

struct recurse {
	struct ub_ctx *ctx;
	unsigned outstanding;
};

static int
set_opt(struct ub_ctx *ctx, const char *key, const char *value, char *err,
    size_t errlen, const char *where)
{
	char k[96];
	int r;

	snprintf(k, sizeof(k), "%s:", key);
	if ((r = ub_ctx_set_option(ctx, k, value)) != 0) {
		snprintf(err, errlen, "%s: libunbound refuses %s \"%s\": %s",
		    where, key, value, ub_strerror(r));
		return -EG_ECONFIG;
	}
	return 0;
}

static int
configure(struct ub_ctx *ctx, const struct config *cfg, char *err, size_t errlen)
{
	char msg[32], rrset[32], key[32];
	const char *p = cfg->path;
	int r = 0;

	snprintf(msg, sizeof(msg), "%llu", (unsigned long long)(cfg->cache_size / 3));
	snprintf(rrset, sizeof(rrset), "%llu", (unsigned long long)(cfg->cache_size / 3 * 2));
	snprintf(key, sizeof(key), "%llu", (unsigned long long)(cfg->cache_size / 8));
	/* Server-sized defaults; unbound-options below may override any. */
	if ((r = set_opt(ctx, "msg-cache-size", msg, err, errlen, p)) ||
	    (r = set_opt(ctx, "rrset-cache-size", rrset, err, errlen, p)) ||
	    (r = set_opt(ctx, "key-cache-size", key, err, errlen, p)) ||
	    (r = set_opt(ctx, "outgoing-range", "1024", err, errlen, p)) ||
	    (r = set_opt(ctx, "outgoing-num-tcp", "32", err, errlen, p)) ||
	    (r = set_opt(ctx, "num-queries-per-thread", "4096", err, errlen, p)) ||
	    (r = set_opt(ctx, "edns-buffer-size", "1232", err, errlen, p)) ||
	    (r = set_opt(ctx, "do-not-query-localhost", "yes", err, errlen, p)) ||
	    (r = set_opt(ctx, "aggressive-nsec", "yes", err, errlen, p)) ||
	    (r = set_opt(ctx, "prefetch", "yes", err, errlen, p)))
		return r;
	if (!cfg->dnssec &&
	    (r = set_opt(ctx, "module-config", "iterator", err, errlen, p)))
		return r;
	if (cfg->root_hints &&
	    (r = set_opt(ctx, "root-hints", cfg->root_hints, err, errlen, p)))
		return r;
	for (size_t i = 0; i < cfg->n_forward; i++) {
		/* a forwarder on this host was asked for explicitly */
		if ((strncmp(cfg->forward[i], "127.", 4) == 0 ||
		    strncmp(cfg->forward[i], "::1@", 4) == 0) &&
		    (r = set_opt(ctx, "do-not-query-localhost", "no", err, errlen, p)))
			return r;
		if ((r = ub_ctx_set_fwd(ctx, cfg->forward[i])) != 0) {
			snprintf(err, errlen, "%s: resolution.forward: %s: %s", p,
			    cfg->forward[i], ub_strerror(r));
			return -EG_ECONFIG;
		}
	}
	for (size_t i = 0; i < cfg->n_ub_opts; i++) {
		char where[512];

		snprintf(where, sizeof(where), "%s:%d: resolution.unbound-options.%s",
		    p, cfg->ub_opts[i].line, cfg->ub_opts[i].key);
		if ((r = set_opt(ctx, cfg->ub_opts[i].key, cfg->ub_opts[i].value,
		    err, errlen, where)) != 0)
			return r;
	}
	if (cfg->dnssec && (r = ub_ctx_add_ta_file(ctx, cfg->trust_anchor)) != 0) {
		snprintf(err, errlen, "%s: resolution.trust-anchor: %s: %s", p,
		    cfg->trust_anchor, ub_strerror(r));
		return -EG_ECONFIG;
	}
	return 0;
}

static void
probe_done(void *arg, int rcode, void *pkt, int len, int sec, char *why,
    int rl)
{
	(void)arg, (void)rcode, (void)pkt, (void)len, (void)sec, (void)why, (void)rl;
}

/* The first resolve makes libunbound read its root hints and trust
 * anchors; do it now with a name it answers locally, so that a broken
 * file stops start-up (and -t) instead of failing every query later. */
static int
finalize(struct ub_ctx *ctx, const struct config *cfg, char *err, size_t errlen)
{
	int id, r;

	if ((r = ub_resolve_event(ctx, "localhost.", 1, 1, NULL, probe_done,
	    &id)) != 0) {
		snprintf(err, errlen, "%s: resolution: libunbound cannot start "
		    "(check root-hints, trust-anchor, unbound-options): %s",
		    cfg->path, ub_strerror(r));
		return -EG_ECONFIG;
	}
	return 0;
}

int
recurse_new(struct recurse **out, struct event_base *base,
    const struct config *cfg, char *err, size_t errlen)
{
	struct recurse *r;
	int ret;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	if ((r->ctx = ub_ctx_create_event(base)) == NULL) {
		free(r);
		snprintf(err, errlen, "libunbound: cannot create a context");
		return -ENOMEM;
	}
	ub_ctx_debuglevel(r->ctx, log_verbosity() > LOG_LEVEL_DEBUG ? 2 : 0);
	if ((ret = configure(r->ctx, cfg, err, errlen)) != 0 ||
	    (ret = finalize(r->ctx, cfg, err, errlen)) != 0) {
		ub_ctx_delete(r->ctx);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

static void
resolved(void *arg, int rcode, void *pkt, int len, int sec, char *why_bogus,
    int was_ratelimited)
{
	struct recurse_req *req = arg;

	(void)was_ratelimited;
	req->r->outstanding--;
	/* With rcode != 0 libunbound found no answer (every authority failed
	 * or timed out); the buffer is then meaningless. */
	if (rcode != 0 || pkt == NULL || len < 12)
		req->cb(req->arg, -EG_EUPSTREAM, NULL, 0, RECURSE_INSECURE, NULL);
	else
		req->cb(req->arg, 0, pkt, (size_t)len, (enum recurse_sec)sec,
		    sec == RECURSE_BOGUS ? why_bogus : NULL);
}

int
recurse_resolve(struct recurse *r, const char *name, int type, int klass,
    struct recurse_req *req, recurse_cb *cb, void *arg)
{
	int id, ret;

	req->r = r;
	req->cb = cb;
	req->arg = arg;
	r->outstanding++;	/* before: the callback may run inside the call */
	if ((ret = ub_resolve_event(r->ctx, name, type, klass, req, resolved,
	    &id)) != 0) {
		r->outstanding--;
		return ret == UB_NOMEM ? -ENOMEM : -EINVAL;
	}
	return 0;
}

unsigned
recurse_outstanding(const struct recurse *r)
{
	return r->outstanding;
}

void
recurse_free(struct recurse *r)
{
	if (r == NULL)
		return;
	ub_ctx_delete(r->ctx);
	free(r);
}
