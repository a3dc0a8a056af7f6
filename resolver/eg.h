/* eg.h -- error codes and the two assertions shared by every egressd module */
#pragma once

#include <errno.h>

/* Functions return 0 or a negative errno-style code; egressd's own codes
 * sit above the errno range. */
enum {
	EG_EBASE = 4096,
	EG_EUPSTREAM,		/* recursion failed: no reachable authority */
	EG_EBOGUS,		/* DNSSEC validation failed */
	EG_ECONFIG,		/* configuration rejected */
	EG_EFORMAT,		/* a database of another format version */
};

/** Text for an egressd or errno code (positive or negative). */
const char *eg_strerror(int err);

void eg_fail_log(const char *expr, const char *file, int line);
void eg_require_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

/** Broken invariant: log and abort, always on. */
#define EG_REQUIRE(x) \
	((x) ? (void)0 : eg_require_fail(#x, __FILE__, __LINE__))
/** Soft assertion: true (and logged) when x does not hold, so the caller
 * fails one query instead of the daemon. */
#define EG_FAILS(x) \
	((x) ? 0 : (eg_fail_log(#x, __FILE__, __LINE__), 1))

#define EG_MUSTCHECK __attribute__((warn_unused_result))
