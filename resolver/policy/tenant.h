/* tenant.h -- tenants and the networks they own: who is asking */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "resolver/eg.h"

struct policy;

/** A tenant as configured.  Owned by its struct tenants. */
struct tenant {
	char *name;
	int line;		/* where it was configured, for messages */
	char *cert_identity;	/* certificate-identity (mTLS), may be NULL */
	bool has_doh_token;	/* doh-token given: its SHA-256 below */
	uint8_t doh_token_sha256[32];
	char *policy_name;	/* `policy:` as written, NULL when not given */
	int policy_line;
	const struct policy *policy;	/* resolved at load; never NULL after */
};

/** One network prefix of a tenant.  IPv4 is kept as family AF_INET in the
 * first 4 bytes; IPv4-mapped IPv6 client addresses match IPv4 prefixes. */
struct tenant_net {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t plen;
	uint8_t addr[16];
	uint32_t tenant;	/* index into tenants.v */
};

/** All tenants; read-only once built, so any thread may match. */
struct tenants {
	struct tenant *v;
	size_t n;
	struct tenant_net *nets;	/* longest prefix first after _finish */
	size_t n_nets;
};

/**
 * Parse "ADDR/LEN" or a bare address (a host prefix) into *out (tenant
 * index left 0).  Host bits beyond the prefix must be zero.
 * \return 0, or -EINVAL with *why set to a static reason.
 */
int tenant_net_parse(const char *text, struct tenant_net *out,
    const char **why) EG_MUSTCHECK;

/** Sort the networks so that the first match is the longest. */
void tenants_finish(struct tenants *t);

/** The tenant owning the client address, or NULL: no tenant, no answer. */
const struct tenant *tenants_match(const struct tenants *t,
    const struct sockaddr *sa);

/** The tenant whose certificate-identity is id (DNS names and CNs
 * compare without case, URIs exactly), or NULL.  id need not be
 * NUL-terminated; one containing a NUL byte matches nothing. */
const struct tenant *tenants_match_identity(const struct tenants *t,
    const char *id, size_t len, bool icase);

/**
 * The tenant whose doh-token is tok (len bytes, not NUL-terminated), or
 * NULL.  Compares SHA-256 digests with CRYPTO_memcmp() against every
 * tenant that has a token, so neither the time taken nor the token's
 * length tells a guesser how close it came.
 */
const struct tenant *tenants_match_token(const struct tenants *t,
    const char *tok, size_t len);

/** Free what the tenants own (not t itself). */
void tenants_deinit(struct tenants *t);
