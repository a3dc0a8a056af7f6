/* tenant.c -- tenants and the networks they own */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "resolver/policy/tenant.h"

int
tenant_net_parse(const char *text, struct tenant_net *out, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	int max;
	long plen;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= INET6_ADDRSTRLEN) {
		*why = "not an address";
		return -EINVAL;
	}
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6, max = 128;
	else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	plen = max;
	if (slash) {
		char *end;

		plen = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || plen < 0 || plen > max) {
			*why = "bad prefix length";
			return -EINVAL;
		}
	}
	out->plen = (uint8_t)plen;
	for (int bit = (int)plen; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
			*why = "host bits set beyond the prefix length";
			return -EINVAL;
		}
	}
	return 0;
}

static int
net_cmp(const void *a, const void *b)
{
	const struct tenant_net *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1;
	return x->family - y->family;
}

void
tenants_finish(struct tenants *t)
{
	if (t->n_nets > 1)
		qsort(t->nets, t->n_nets, sizeof(*t->nets), net_cmp);
}

static bool
prefix_match(const uint8_t *net, const uint8_t *addr, int plen)
{
	int full = plen / 8, rest = plen % 8;

	if (memcmp(net, addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net[full] ^ addr[full]) & (0xff00 >> rest)) == 0;
}

const struct tenant *
tenants_match(const struct tenants *t, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
	const uint8_t *addr;
	int family = sa->sa_family;

	if (family == AF_INET)
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0)
			family = AF_INET, addr += 12;
	} else
		return NULL;
	for (size_t i = 0; i < t->n_nets; i++) {
		const struct tenant_net *n = &t->nets[i];

		if (n->family == family && prefix_match(n->addr, addr, n->plen))
			return &t->v[n->tenant];
	}
	return NULL;
}

const struct tenant *
tenants_match_identity(const struct tenants *t, const char *id, size_t len,
    bool icase)
{
	if (len == 0 || memchr(id, '\0', len) != NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const char *ci = t->v[i].cert_identity;

		if (ci == NULL || strlen(ci) != len)
			continue;
		if (icase ? strncasecmp(ci, id, len) == 0 : memcmp(ci, id, len) == 0)
			return &t->v[i];
	}
	return NULL;
}

const struct tenant *
tenants_match_token(const struct tenants *t, const char *tok, size_t len)
{
	const struct tenant *found = NULL;
	uint8_t md[32];
	unsigned mdlen = 0;

	if (len == 0 || EVP_Digest(tok, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return NULL;
	/* no early exit: every token is compared */
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].has_doh_token &&
		    CRYPTO_memcmp(t->v[i].doh_token_sha256, md, sizeof(md)) == 0)
			found = &t->v[i];
	return found;
}

void
tenants_deinit(struct tenants *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].cert_identity);
		free(t->v[i].policy_name);
	}
	free(t->v);
	free(t->nets);
	memset(t, 0, sizeof(*t));
}
