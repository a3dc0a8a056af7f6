/* doh_json.h -- DNS JSON (the form of Google's and Cloudflare's resolvers) to and from wire */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

#define DOH_JSON_TYPE		"application/dns-json"
#define DOH_JSON_MAX		(1024 * 1024)	/* rendered answer, bytes */

/**
 * Build the wire query a JSON request stands for: ID 0, RD, one question
 * of class IN; CD when cd; an OPT record (1232 bytes) with DO when do_bit.
 * \param name a domain name in presentation form ("example.com", with or
 * without the final dot)
 * \param type a mnemonic ("AAAA", "TYPE65") or a number 1..65535, not
 * a meta type (OPT, 128..250); NULL: A
 * \return 0 with *outlen set, -EINVAL (name or type not valid), -E2BIG
 * (cap too small).
 */
int doh_json_query(const char *name, const char *type, bool cd, bool do_bit,
    uint8_t *out, size_t cap, size_t *outlen) EG_MUSTCHECK;

/**
 * Render a wire answer as JSON: {"Status", "TC", "RD", "RA", "AD", "CD",
 * "Question": [{"name", "type"}], "Answer" / "Authority":
 * [{"name", "type", "TTL", "data"}]} with data in presentation form
 * (ldns).  Sections without records are left out.
 * \param out set to a malloc'd NUL-terminated string (caller frees)
 * \return 0 with *out and *outlen set, -EBADMSG (does not parse),
 * -ENOMEM, -E2BIG (over DOH_JSON_MAX).
 */
int doh_json_render(const uint8_t *ans, size_t len, char **out,
    size_t *outlen) EG_MUSTCHECK;
