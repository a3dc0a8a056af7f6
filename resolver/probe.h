/* probe.h -- security-node health checks: a TCP connect per node, in a thread of their own */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

struct node_check;
struct node_pools;

/** A running prober.  Opaque. */
struct probe;

/**
 * Start checking every node of pools: a non-blocking TCP connect to
 * ADDRESS:port, every interval, failed when refused, unreachable or not
 * done within the timeout; the first round starts at once.  One failed
 * check marks a node down, one good check up again (node_set_up()), and
 * each change is logged.  The checks run in a thread of their own with its
 * own libevent loop, so they never hold up a query; queries read the
 * health flags with node_pick().
 * \param pools borrowed: must outlive the prober (probe_stop() first)
 * \param err on failure, the reason
 * \return 0 with *out set (stop and free with probe_stop()), -EINVAL (bad
 * cfg), -ENOMEM, or -errno from thread creation; *out untouched on failure.
 * Call after any fork().
 */
int probe_start(struct probe **out, struct node_pools *pools,
    const struct node_check *cfg, char *err, size_t errlen) EG_MUSTCHECK;

/** Stop the checks (those in flight are abandoned), join the thread and
 * free everything.  probe_stop(NULL) is a no-op.  Call from the thread
 * that started it. */
void probe_stop(struct probe *pr);
