/* geo.h -- GeoIP: the country and the AS of an address (libmaxminddb) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/eg.h"

/** Open MaxMind DB files, read-only.  Opaque; built once at config load,
 * never changed afterwards, so any number of threads may look up at once. */
struct geo;

/**
 * Open the country and/or the ASN database (MaxMind DB format: GeoLite2 /
 * GeoIP2 Country or City, GeoLite2 ASN, or any database with the same
 * fields).  Either path may be NULL, not both.  The files are mapped
 * (MMDB_MODE_MMAP) and stay open until geo_free().
 * \param err on failure, a message naming the file and the reason
 * \return 0 with *out set (caller frees with geo_free()); -EINVAL (no
 * path, or a database of the wrong kind), -ENOENT / -EACCES, -EG_EFORMAT
 * (not a MaxMind DB), -ENOMEM; *out untouched on failure.
 */
int geo_open(struct geo **out, const char *country_db, const char *asn_db,
    char *err, size_t errlen) EG_MUSTCHECK;

/** Close the databases.  geo_free(NULL) is a no-op. */
void geo_free(struct geo *g);

/**
 * The country (ISO 3166-1 alpha-2, upper case) and the AS number of an
 * address.  The country is the database's `country.iso_code`, else its
 * `registered_country.iso_code`; the AS is `autonomous_system_number`.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are looked up as IPv4.
 * \param g may be NULL (no geoip configured): nothing is known
 * \param family AF_INET (addr: 4 bytes) or AF_INET6 (16 bytes)
 * \param cc out: the code, or "" when unknown; may be NULL
 * \param asn out: the AS number, or 0 when unknown; may be NULL
 * Thread-safe; no heap allocation, no I/O beyond the mapped file.
 */
void geo_lookup(const struct geo *g, int family, const uint8_t *addr,
    char cc[3], uint32_t *asn);

/** Whether a country database / an ASN database is open. */
bool geo_has_country(const struct geo *g);
bool geo_has_asn(const struct geo *g);

/**
 * Whether cc is an ISO 3166-1 alpha-2 code (the 249 officially assigned
 * codes, plus XK, Kosovo, which MaxMind's databases use); case-insensitive.
 * NULL or any other length is not.
 */
bool geo_country_valid(const char *cc);
