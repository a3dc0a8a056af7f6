/* node.h -- security-node pools: which proxies a redirected client gets */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

#define NODE_MAX_POOLS		64	/* pools in security-nodes.pools */
#define NODE_MAX_POOL_ADDRS	16	/* addresses in one pool: one answer */
#define NODE_MAX_NODES		256	/* distinct addresses, all pools */
#define NODE_POOL_NAME_MAX	32
#define NODE_DEFAULT_POOL	"default"

/** How nodes are checked (security-nodes.health-check); resolver/probe.c
 * does it. */
struct node_check {
	uint16_t port;		/* TCP port connected to on every node */
	unsigned interval_ms;	/* from the start of one round to the next */
	unsigned timeout_ms;	/* a connect not done by then failed; < interval */
};

/**
 * Named pools of security-node addresses, each serving a set of client
 * countries; the pool named "default" serves every other client.  Built
 * once at config load (node_pools_new(), _add*, _finish()), then read-only
 * except for each node's health flag, an atomic: one prober thread writes
 * it (node_set_up()), any number of query threads read it (node_pick()).
 * An address listed in two pools is one node with one health flag.
 */
struct node_pools;

/** \return 0 with *out set (caller frees with node_pools_free()), or -ENOMEM. */
int node_pools_new(struct node_pools **out) EG_MUSTCHECK;

/** Free the pools.  node_pools_free(NULL) is a no-op.  No prober may run. */
void node_pools_free(struct node_pools *p);

/**
 * Add an empty pool.
 * \param name 1..NODE_POOL_NAME_MAX of [a-z0-9_-]; copied
 * \param pool out: its index, for the calls below
 * \return 0; -EINVAL bad name, -EEXIST name taken, -E2BIG more than
 * NODE_MAX_POOLS, -ENOMEM.
 */
int node_pools_add(struct node_pools *p, const char *name, size_t *pool) EG_MUSTCHECK;

/**
 * Let a pool serve the clients of a country.
 * \param cc ISO 3166-1 alpha-2 (geo_country_valid()), any case
 * \param other out, on -EEXIST: the index of the pool that has it already
 * (which may be this one)
 * \return 0; -EINVAL not a country code, -EEXIST the country is in a pool
 * already, -EPERM the pool is the default pool (it serves every other
 * country).
 */
int node_pools_add_country(struct node_pools *p, size_t pool, const char *cc,
    size_t *other) EG_MUSTCHECK;

/**
 * Add a node address (IPv4 or IPv6, no port, no prefix) to a pool.
 * \return 0; -EINVAL not an address, -EEXIST already in this pool, -E2BIG
 * more than NODE_MAX_POOL_ADDRS in the pool or NODE_MAX_NODES in all,
 * -ENOMEM.
 */
int node_pools_add_address(struct node_pools *p, size_t pool, const char *text) EG_MUSTCHECK;

/**
 * Check the whole: every pool has an address, a default pool exists.
 * \param bad out, on -ENODATA: the index of an empty pool
 * \return 0; -ENOENT no default pool, -ENODATA an empty pool.
 */
int node_pools_finish(struct node_pools *p, size_t *bad) EG_MUSTCHECK;

/**
 * The security-node addresses for a client.  The pool is the one listing
 * client_cc, else the default pool.  Its healthy nodes of that family are
 * returned, in configured order; when none of them is healthy, the default
 * pool's healthy nodes of that family; when no node of that family is
 * healthy there either, every node of that family in the chosen pool:
 * probes can be wrong (a filtered health port, our own network down), and
 * failing open here still sends the client to our proxies, never to the
 * real answer.
 * \param client_cc the client's country, "" or NULL when unknown
 * \param family AF_INET (out[i][0..3] written) or AF_INET6 (out[i][0..15])
 * \param max the capacity of out
 * \return the number written; 0 when the chosen pool has no node of that
 * family (the caller answers NODATA), or p is NULL.
 * Thread-safe, lock-free, no allocation.
 */
size_t node_pick(const struct node_pools *p, const char *client_cc, int family,
    uint8_t (*out)[16], size_t max);

/* --- for the prober, egressctl and messages ----------------------------- */

/** The number of distinct node addresses (all pools). */
size_t node_count(const struct node_pools *p);

/** Node i's address.  \param family out: AF_INET / AF_INET6
 * \param addr out: 4 or 16 bytes */
void node_addr(const struct node_pools *p, size_t i, int *family, uint8_t addr[16]);

/** Node i's address as text, e.g. "192.0.2.1" or "2001:db8::1"; borrowed,
 * valid while p lives. */
const char *node_text(const struct node_pools *p, size_t i);

/** Whether node i passed its last health check (true until checked). */
bool node_is_up(const struct node_pools *p, size_t i);

/**
 * Record node i's health.  Called by the prober only (one thread); the
 * pools are otherwise read-only.
 * \return true when this changed the state (the caller logs it).
 */
bool node_set_up(struct node_pools *p, size_t i, bool up);

/** The number of pools, a pool's name, and the pool serving a country
 * ("" / NULL: the default pool's index). */
size_t node_pool_count(const struct node_pools *p);
const char *node_pool_name(const struct node_pools *p, size_t pool);
size_t node_pool_for(const struct node_pools *p, const char *cc);

/** A pool's nodes, in configured order: how many, and the node index
 * (for node_text(), node_is_up()) of the j-th. */
size_t node_pool_size(const struct node_pools *p, size_t pool);
size_t node_pool_node(const struct node_pools *p, size_t pool, size_t j);

/** The countries a pool serves, in alphabetical order, at most max of them
 * written to cc.  \return how many the pool has (may exceed max). */
size_t node_pool_countries(const struct node_pools *p, size_t pool,
    char (*cc)[3], size_t max);
