/* policy_config.h -- config parser hooks for `policies:` and the tenants' `policy` key */
#pragma once

#include <yaml.h>

#include "resolver/eg.h"

struct parse;
struct tenant;

/** The `policies:` mapping (config.c's complex[] row).
 * \return 0 or -EG_ECONFIG (message in ps) / -ENOMEM */
int pol_config_policies(struct parse *ps, yaml_node_t *n, const char *key)
    EG_MUSTCHECK;

/** A tenant's `policy: NAME`: remembered for pol_config_validate(). */
int pol_config_tenant(struct parse *ps, yaml_node_t *v, struct tenant *t)
    EG_MUSTCHECK;

/** Cross-checks once the whole file is read (config.c's validate()): every
 * tenant's policy exists; tenants without one get the policy "default" or
 * the built-in pass.  \return 0 or -EG_ECONFIG naming file, line and key */
int pol_config_validate(struct parse *ps) EG_MUSTCHECK;
