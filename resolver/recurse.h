/* recurse.h -- recursion and DNSSEC validation: libunbound in our event loop */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

struct event_base;
struct config;
struct recurse;

/** DNSSEC verdict on an answer. */
enum recurse_sec { RECURSE_INSECURE = 0, RECURSE_BOGUS = 1, RECURSE_SECURE = 2 };

/**
 * Called once per resolve, from the event loop (possibly before
 * recurse_resolve() returns: libunbound answers cache hits at once).
 * \param err 0 with pkt/len the answer (borrowed: valid only during the
 * call), or -EG_EUPSTREAM / -ENOMEM with pkt NULL.
 * \param why_bogus libunbound's reason when sec is RECURSE_BOGUS, or NULL.
 */
typedef void recurse_cb(void *arg, int err, const uint8_t *pkt, size_t len,
    enum recurse_sec sec, const char *why_bogus);

/** One resolve in flight.  Embed it in the caller's query object. */
struct recurse_req {
	struct recurse *r;
	recurse_cb *cb;
	void *arg;
};

/**
 * Create a libunbound context attached to base, with server-sized caches
 * and the resolution.* settings of cfg.  Must be called from the thread
 * that runs base.
 * \param err on failure, a message naming the offending setting
 * \return 0, or -EG_ECONFIG / -ENOMEM.
 */
int recurse_new(struct recurse **out, struct event_base *base,
    const struct config *cfg, char *err, size_t errlen) EG_MUSTCHECK;

/**
 * Ask for name/type/class.  After a 0 return the callback owns the
 * request: it may already have run.  Never call from inside a callback of
 * a recurse being freed.
 * \param name presentation form with trailing dot
 * \return 0, or a negative code (then the callback will not run).
 */
int recurse_resolve(struct recurse *r, const char *name, int type, int klass,
    struct recurse_req *req, recurse_cb *cb, void *arg) EG_MUSTCHECK;

/** Number of resolves whose callback has not run yet. */
unsigned recurse_outstanding(const struct recurse *r);

/** Delete the context.  Call only when no resolve is outstanding and not
 * from a recurse callback. */
void recurse_free(struct recurse *r);
