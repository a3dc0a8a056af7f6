/* node.c -- security-node pools: building them, choosing nodes, health flags */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resolver/policy/geo.h"
#include "resolver/policy/node.h"

#define NO_POOL	UINT8_MAX
_Static_assert(NODE_MAX_POOLS < NO_POOL, "pool indexes must fit a byte");

struct node {
	uint8_t family;
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN];
	atomic_bool up;		/* written by the prober, read by queries */
};

struct pool {
	char name[NODE_POOL_NAME_MAX + 1];
	uint16_t node[NODE_MAX_POOL_ADDRS];	/* indexes into nodes[] */
	size_t n;
};

struct node_pools {
	struct pool pool[NODE_MAX_POOLS];
	size_t n_pools;
	size_t def;				/* the default pool, or NO_POOL */
	struct node node[NODE_MAX_NODES];
	size_t n_nodes;
	uint8_t by_cc[26 * 26];			/* country -> pool, or NO_POOL */
};

int
node_pools_new(struct node_pools **out)
{
	struct node_pools *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->def = NO_POOL;
	memset(p->by_cc, NO_POOL, sizeof(p->by_cc));
	*out = p;
	return 0;
}

void
node_pools_free(struct node_pools *p)
{
	free(p);
}

int
node_pools_add(struct node_pools *p, const char *name, size_t *pool)
{
	size_t len = strlen(name);

	if (len == 0 || len > NODE_POOL_NAME_MAX)
		return -EINVAL;
	for (const char *c = name; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) &&
		    *c != '-' && *c != '_')
			return -EINVAL;
	for (size_t i = 0; i < p->n_pools; i++)
		if (strcmp(p->pool[i].name, name) == 0)
			return -EEXIST;
	if (p->n_pools == NODE_MAX_POOLS)
		return -E2BIG;
	memcpy(p->pool[p->n_pools].name, name, len + 1);
	if (strcmp(name, NODE_DEFAULT_POOL) == 0)
		p->def = p->n_pools;
	*pool = p->n_pools++;
	return 0;
}

static int
cc_index(const char *cc)
{
	if (cc == NULL || !isalpha((unsigned char)cc[0]) || !isalpha((unsigned char)cc[1]) ||
	    cc[2] != '\0')
		return -1;
	return (toupper((unsigned char)cc[0]) - 'A') * 26 +
	    (toupper((unsigned char)cc[1]) - 'A');
}

int
node_pools_add_country(struct node_pools *p, size_t pool, const char *cc,
    size_t *other)
{
	int i;

	if (pool >= p->n_pools || !geo_country_valid(cc) || (i = cc_index(cc)) < 0)
		return -EINVAL;
	if (pool == p->def)
		return -EPERM;
	if (p->by_cc[i] != NO_POOL) {
		*other = p->by_cc[i];
		return -EEXIST;
	}
	p->by_cc[i] = (uint8_t)pool;
	return 0;
}

int
node_pools_add_address(struct node_pools *p, size_t pool, const char *text)
{
	struct node n = { 0 };
	struct pool *pl;
	size_t i;

	if (pool >= p->n_pools)
		return -EINVAL;
	pl = &p->pool[pool];
	if (inet_pton(AF_INET, text, n.addr) == 1)
		n.family = AF_INET;
	else if (inet_pton(AF_INET6, text, n.addr) == 1)
		n.family = AF_INET6;
	else
		return -EINVAL;
	for (i = 0; i < p->n_nodes; i++)
		if (p->node[i].family == n.family && memcmp(p->node[i].addr, n.addr, 16) == 0)
			break;
	for (size_t j = 0; j < pl->n; j++)
		if (pl->node[j] == i)
			return -EEXIST;
	if (pl->n == NODE_MAX_POOL_ADDRS || (i == p->n_nodes && i == NODE_MAX_NODES))
		return -E2BIG;
	if (i == p->n_nodes) {		/* a new node: healthy until probed */
		struct node *nn = &p->node[p->n_nodes++];

		nn->family = n.family;
		memcpy(nn->addr, n.addr, 16);
		inet_ntop(n.family, n.addr, nn->text, sizeof(nn->text));
		atomic_init(&nn->up, true);
	}
	pl->node[pl->n++] = (uint16_t)i;
	return 0;
}

int
node_pools_finish(struct node_pools *p, size_t *bad)
{
	for (size_t i = 0; i < p->n_pools; i++)
		if (p->pool[i].n == 0) {
			*bad = i;
			return -ENODATA;
		}
	if (p->def == NO_POOL)
		return -ENOENT;
	return 0;
}

size_t
node_pool_for(const struct node_pools *p, const char *cc)
{
	int i = cc_index(cc);

	if (i >= 0 && p->by_cc[i] != NO_POOL)
		return p->by_cc[i];
	return p->def;
}

/* Copy the nodes of pl with that family (the healthy ones only when
 * healthy_only) into out; the number copied. */
static size_t
collect(const struct node_pools *p, const struct pool *pl, int family,
    bool healthy_only, uint8_t (*out)[16], size_t max)
{
	size_t n = 0;

	for (size_t j = 0; j < pl->n && n < max; j++) {
		const struct node *nd = &p->node[pl->node[j]];

		if (nd->family != family)
			continue;
		if (healthy_only && !atomic_load_explicit(&nd->up, memory_order_relaxed))
			continue;
		memset(out[n], 0, 16);
		memcpy(out[n], nd->addr, family == AF_INET ? 4 : 16);
		n++;
	}
	return n;
}

size_t
node_pick(const struct node_pools *p, const char *client_cc, int family,
    uint8_t (*out)[16], size_t max)
{
	const struct pool *pl;
	size_t n, pi;

	if (p == NULL || out == NULL || max == 0 || (family != AF_INET && family != AF_INET6))
		return 0;
	if ((pi = node_pool_for(p, client_cc)) == NO_POOL)
		return 0;	/* not finished: cannot happen after config load */
	pl = &p->pool[pi];
	if ((n = collect(p, pl, family, true, out, max)) > 0)
		return n;
	if (collect(p, pl, family, false, out, max) == 0)
		return 0;	/* this pool has no node of that family */
	if (pi != p->def && (n = collect(p, &p->pool[p->def], family, true, out, max)) > 0)
		return n;
	/* nothing healthy anywhere: fail open to the proxies (see node.h) */
	return collect(p, pl, family, false, out, max);
}

size_t
node_count(const struct node_pools *p)
{
	return p ? p->n_nodes : 0;
}

void
node_addr(const struct node_pools *p, size_t i, int *family, uint8_t addr[16])
{
	EG_REQUIRE(i < p->n_nodes);
	*family = p->node[i].family;
	memcpy(addr, p->node[i].addr, 16);
}

const char *
node_text(const struct node_pools *p, size_t i)
{
	EG_REQUIRE(i < p->n_nodes);
	return p->node[i].text;
}

bool
node_is_up(const struct node_pools *p, size_t i)
{
	EG_REQUIRE(i < p->n_nodes);
	return atomic_load_explicit(&p->node[i].up, memory_order_relaxed);
}

bool
node_set_up(struct node_pools *p, size_t i, bool up)
{
	EG_REQUIRE(i < p->n_nodes);
	return atomic_exchange_explicit(&p->node[i].up, up, memory_order_relaxed) != up;
}

size_t
node_pool_count(const struct node_pools *p)
{
	return p ? p->n_pools : 0;
}

const char *
node_pool_name(const struct node_pools *p, size_t pool)
{
	EG_REQUIRE(pool < p->n_pools);
	return p->pool[pool].name;
}

size_t
node_pool_size(const struct node_pools *p, size_t pool)
{
	EG_REQUIRE(pool < p->n_pools);
	return p->pool[pool].n;
}

size_t
node_pool_node(const struct node_pools *p, size_t pool, size_t j)
{
	EG_REQUIRE(pool < p->n_pools && j < p->pool[pool].n);
	return p->pool[pool].node[j];
}

size_t
node_pool_countries(const struct node_pools *p, size_t pool, char (*cc)[3],
    size_t max)
{
	size_t n = 0;

	EG_REQUIRE(pool < p->n_pools);
	for (int i = 0; i < 26 * 26; i++) {
		if (p->by_cc[i] != pool)
			continue;
		if (n < max) {
			cc[n][0] = (char)('A' + i / 26);
			cc[n][1] = (char)('A' + i % 26);
			cc[n][2] = '\0';
		}
		n++;
	}
	return n;
}
