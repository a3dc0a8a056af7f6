/* geo.c -- GeoIP lookups in MaxMind DB files, and the ISO 3166-1 code list */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <maxminddb.h>

#include "resolver/policy/geo.h"

struct geo {
	MMDB_s country;
	MMDB_s asn;
	bool has_country;
	bool has_asn;
};

/* ISO 3166-1 alpha-2, the 249 officially assigned codes (as in Debian's
 * iso-codes 4.15 and tzdata's iso3166.tab), then XK: user-assigned, but
 * MaxMind's databases answer it for Kosovo. */
static const char iso3166[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
    "XK";

bool
geo_country_valid(const char *cc)
{
	char up[2];

	if (cc == NULL || !isalpha((unsigned char)cc[0]) ||
	    !isalpha((unsigned char)cc[1]) || cc[2] != '\0')
		return false;
	up[0] = (char)toupper((unsigned char)cc[0]);
	up[1] = (char)toupper((unsigned char)cc[1]);
	for (const char *p = iso3166; *p; p += p[2] ? 3 : 2)
		if (p[0] == up[0] && p[1] == up[1])
			return true;
	return false;
}

/* MMDB_open() with its error turned into ours and a message. */
static int
open_one(MMDB_s *db, const char *path, const char *what, char *err,
    size_t errlen)
{
	int st, saved;

	errno = 0;
	if ((st = MMDB_open(path, MMDB_MODE_MMAP, db)) == MMDB_SUCCESS)
		return 0;
	saved = errno;
	if (st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR) {
		snprintf(err, errlen, "%s database %s: %s", what, path,
		    strerror(saved ? saved : EIO));
		return saved ? -saved : -EIO;
	}
	if (st == MMDB_OUT_OF_MEMORY_ERROR) {
		snprintf(err, errlen, "%s database %s: out of memory", what, path);
		return -ENOMEM;
	}
	snprintf(err, errlen, "%s database %s: not a MaxMind DB file (%s)",
	    what, path, MMDB_strerror(st));
	return -EG_EFORMAT;
}

/* Refuse the two paths given the wrong way round: the database type in
 * the metadata says what a file holds ("GeoLite2-Country", "GeoLite2-ASN",
 * "GeoIP2-City", "DBIP-Country-Lite" ...). */
static int
check_kind(const MMDB_s *db, const char *path, bool want_asn, char *err,
    size_t errlen)
{
	const char *type = db->metadata.database_type ? db->metadata.database_type : "";
	bool is_asn = strstr(type, "ASN") != NULL;
	bool is_geo = strstr(type, "Country") != NULL || strstr(type, "City") != NULL;

	if (want_asn ? (is_geo && !is_asn) : is_asn) {
		snprintf(err, errlen, "%s database %s holds \"%s\": give it as %s",
		    want_asn ? "ASN" : "country", path, type,
		    want_asn ? "geoip.country" : "geoip.asn");
		return -EINVAL;
	}
	return 0;
}

int
geo_open(struct geo **out, const char *country_db, const char *asn_db,
    char *err, size_t errlen)
{
	struct geo *g;
	int r;

	if (country_db == NULL && asn_db == NULL) {
		snprintf(err, errlen, "no GeoIP database given");
		return -EINVAL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (country_db) {
		if ((r = open_one(&g->country, country_db, "country", err, errlen)) != 0)
			goto fail;
		g->has_country = true;
		if ((r = check_kind(&g->country, country_db, false, err, errlen)) != 0)
			goto fail;
	}
	if (asn_db) {
		if ((r = open_one(&g->asn, asn_db, "ASN", err, errlen)) != 0)
			goto fail;
		g->has_asn = true;
		if ((r = check_kind(&g->asn, asn_db, true, err, errlen)) != 0)
			goto fail;
	}
	*out = g;
	return 0;
fail:
	geo_free(g);
	return r;
}

void
geo_free(struct geo *g)
{
	if (g == NULL)
		return;
	if (g->has_country)
		MMDB_close(&g->country);
	if (g->has_asn)
		MMDB_close(&g->asn);
	free(g);
}

bool
geo_has_country(const struct geo *g)
{
	return g != NULL && g->has_country;
}

bool
geo_has_asn(const struct geo *g)
{
	return g != NULL && g->has_asn;
}

/* The fields looked up.  MMDB_aget_value() with a fixed path, because
 * MMDB_get_value() allocates the path array on every call. */
static const char *const country_path[] = { "country", "iso_code", NULL };
static const char *const registered_path[] = { "registered_country", "iso_code", NULL };
static const char *const asn_path[] = { "autonomous_system_number", NULL };

/* The entry for an address; found_entry false when the database knows
 * nothing (or cannot hold that family: IPv6 in an IPv4-only file). */
static MMDB_lookup_result_s
lookup(const MMDB_s *db, const struct sockaddr *sa)
{
	MMDB_lookup_result_s res;
	int st = MMDB_SUCCESS;

	res = MMDB_lookup_sockaddr(db, sa, &st);
	if (st != MMDB_SUCCESS)
		res.found_entry = false;
	return res;
}

static void
lookup_country(const MMDB_s *db, const struct sockaddr *sa, char cc[3])
{
	MMDB_lookup_result_s res = lookup(db, sa);
	MMDB_entry_data_s d;

	if (!res.found_entry)
		return;
	if (MMDB_aget_value(&res.entry, &d, country_path) != MMDB_SUCCESS ||
	    !d.has_data)
		/* anycast and satellite ranges have only the registration */
		if (MMDB_aget_value(&res.entry, &d, registered_path) != MMDB_SUCCESS ||
		    !d.has_data)
			return;
	if (d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2 ||
	    !isalpha((unsigned char)d.utf8_string[0]) ||
	    !isalpha((unsigned char)d.utf8_string[1]))
		return;
	cc[0] = (char)toupper((unsigned char)d.utf8_string[0]);
	cc[1] = (char)toupper((unsigned char)d.utf8_string[1]);
	cc[2] = '\0';
}

static uint32_t
lookup_asn(const MMDB_s *db, const struct sockaddr *sa)
{
	MMDB_lookup_result_s res = lookup(db, sa);
	MMDB_entry_data_s d;

	if (!res.found_entry ||
	    MMDB_aget_value(&res.entry, &d, asn_path) != MMDB_SUCCESS ||
	    !d.has_data)
		return 0;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		return d.uint16;
	case MMDB_DATA_TYPE_UINT32:
		return d.uint32;
	case MMDB_DATA_TYPE_INT32:
		return d.int32 > 0 ? (uint32_t)d.int32 : 0;
	case MMDB_DATA_TYPE_UINT64:
		return d.uint64 <= UINT32_MAX ? (uint32_t)d.uint64 : 0;
	default:
		return 0;
	}
}

void
geo_lookup(const struct geo *g, int family, const uint8_t *addr, char cc[3],
    uint32_t *asn)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	const struct sockaddr *sa;

	if (cc)
		cc[0] = '\0';
	if (asn)
		*asn = 0;
	if (g == NULL || addr == NULL)
		return;
	if (family == AF_INET6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
		family = AF_INET;
		addr += sizeof(v4mapped);
	}
	if (family == AF_INET) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, addr, 4);
		sa = (const struct sockaddr *)&s4;
	} else if (family == AF_INET6) {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, addr, 16);
		sa = (const struct sockaddr *)&s6;
	} else
		return;
	if (cc && g->has_country)
		lookup_country(&g->country, sa, cc);
	if (asn && g->has_asn)
		*asn = lookup_asn(&g->asn, sa);
}
