/* eg.c -- error texts and assertion reporting */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "resolver/eg.h"
#include "resolver/log.h"

const char *
eg_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EG_EUPSTREAM:
		return "no reachable authority";
	case EG_EBOGUS:
		return "DNSSEC validation failed";
	case EG_ECONFIG:
		return "configuration rejected";
	case EG_EFORMAT:
		return "unknown database format version";
	default:
		return strerror(err);
	}
}

void
eg_fail_log(const char *expr, const char *file, int line)
{
	log_warnx("assertion failed: %s (%s:%d)", expr, file, line);
}

void
eg_require_fail(const char *expr, const char *file, int line)
{
	log_warnx("invariant broken: %s (%s:%d)", expr, file, line);
	abort();
}
