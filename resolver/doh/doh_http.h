/* doh_http.h -- the HTTP side of DoH without I/O: targets, query strings, base64url, caching */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

#define DOH_DEFAULT_PATH	"/dns-query"
#define DOH_MAX_PATH		128	/* server.listen[].path, characters */
#define DOH_MAX_BODY		65535	/* a DNS message: RFC 8484 4.1 */
#define DOH_MAX_TARGET		8192	/* :path, bytes */

/** Where a request's :path points, relative to a listener's path. */
struct doh_target {
	const char *token;	/* the segment after "<path>/", or NULL */
	size_t token_len;
	const char *query;	/* after '?', or NULL */
	size_t query_len;
};

/**
 * Match a request target (":path", len bytes, not NUL-terminated) against
 * the listener's path: "<path>", "<path>?...", "<path>/<token>" or
 * "<path>/<token>?..." (one segment, non-empty).  Pointers in *t point
 * into target.
 * \return 0, or -ENOENT: another path (404).
 */
int doh_target_parse(const char *target, size_t len, const char *path,
    struct doh_target *t) EG_MUSTCHECK;

/**
 * The value of parameter name in a query string (qs, len bytes, without
 * the '?'), percent-decoded ("+" stays "+": base64url never has one).
 * \param out receives the value NUL-terminated (cap bytes, including NUL)
 * \return 0 with *outlen set, -ENOENT when absent, -EINVAL when the
 * parameter is given twice or its escapes are malformed, -E2BIG when the
 * value does not fit.
 */
int doh_query_param(const char *qs, size_t len, const char *name, char *out,
    size_t cap, size_t *outlen) EG_MUSTCHECK;

/**
 * Decode base64url without padding (RFC 4648 section 5, RFC 8484 4.1):
 * only A-Z a-z 0-9 - _, no '=', no whitespace, and the unused bits of the
 * last character must be zero (one encoding per message).
 * \return 0 with *outlen set, -EINVAL for bad input, -E2BIG when out
 * (cap bytes) is too small.
 */
int doh_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen) EG_MUSTCHECK;

/**
 * How long an answer may be cached (RFC 8484 5.1): the smallest TTL of
 * the answer section; without answer records, the smaller of the SOA's
 * TTL and MINIMUM in the authority section (RFC 2308); else 0.
 */
uint32_t doh_cache_ttl(const uint8_t *ans, size_t len);

/** Whether an Accept header value (or a ct= parameter) asks for type
 * (e.g. "application/dns-json"): a comma-separated list, parameters and
 * case ignored. */
bool doh_accepts(const char *value, size_t len, const char *type);
