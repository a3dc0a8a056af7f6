/* policy.h -- tenant policies: what a query's name and answer lead to (pure, no I/O)
 *
 * A policy maps threat categories to actions.  The checks here look names
 * and addresses up in the threat database (a per-thread tdb_reader) and in
 * the policy's own lists, and say what to do; they never touch a socket or
 * the event loop, so unit tests feed them names, canned upstream answers
 * and a fixed "now".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/eg.h"
#include "threatdb/tdb.h"

struct tdb_reader;

#define POL_MAX_POLICIES	1024
#define POL_MAX_RULES		TDB_MAX_CATEGORIES	/* categories per policy */
#define POL_MAX_ALLOW		100000	/* allow-list names per policy */
#define POL_MAX_COUNTRIES	300
#define POL_MAX_ASNS		100000
#define POL_DEFAULT_REDIRECT_TTL	60
#define POL_DEFAULT_BLOCK_TTL		60
#define POL_CATEGORY_REBINDING	"rebinding"
#define POL_CATEGORY_CANARY	"canary"
#define POL_CATEGORY_GEO	"geo"

/** What happens to a query; ordered by strength (a stronger verdict found
 * later in the pipeline replaces a weaker one). */
enum pol_action {
	POL_PASS = 0,	/* the real answer */
	POL_LOG,	/* the real answer, logged as a would-be block */
	POL_REDIRECT,	/* A/AAAA of the security nodes, other types NODATA */
	POL_BLOCK,	/* NXDOMAIN / NODATA / REFUSED per the policy */
};

/** How a block is answered. */
enum pol_block {
	POL_BLOCK_NXDOMAIN = 0,
	POL_BLOCK_NODATA,
	POL_BLOCK_REFUSED,
};

/** Which check decided (the audit log's `reason`). */
enum pol_reason {
	POL_REASON_NONE = 0,
	POL_REASON_QNAME,	/* the query name (or a parent) is listed */
	POL_REASON_CNAME,	/* a name of the answer's CNAME chain is listed */
	POL_REASON_IP,		/* an answer address is listed, or private (rebinding) */
	POL_REASON_GEO,		/* an answer address's country or ASN */
	POL_REASON_INTERNAL,	/* answered from an internal zone */
	POL_REASON_CANARY,	/* a canary name that turns off clients' own DoH */
};

/** One category rule. */
struct pol_rule {
	char category[TDB_MAX_CATEGORY + 1];
	enum pol_action action;
};

/** A policy as configured.  Owned by its struct policies; read-only once
 * the config is loaded, so any thread may use it. */
struct policy {
	char *name;
	int line;			/* where it was configured */
	struct pol_rule *rules;		/* sorted by category */
	size_t n_rules;
	bool has_default;		/* `default` given */
	enum pol_action def;		/* `default` (POL_PASS when not given) */
	enum pol_block block_answer;	/* `block-answer` */
	uint32_t redirect_ttl;		/* `redirect-ttl`, seconds */
	uint32_t block_ttl;		/* `block-ttl`, seconds: SOA of negative answers */
	bool rebinding;			/* `rebinding-protection` */
	bool canaries;			/* `bypass-canaries` */
	char (*block_cc)[3];		/* geo.block-countries, sorted, upper case */
	size_t n_block_cc;
	char (*redirect_cc)[3];		/* geo.redirect-countries, sorted */
	size_t n_redirect_cc;
	uint32_t *block_asns;		/* geo.block-asns, sorted */
	size_t n_block_asns;
	uint8_t **allow;		/* `allow`: lower-case wire names, sorted
					 * by pol_name_cmp(); each covers the name
					 * and everything below it */
	size_t n_allow;
};

/** Every configured policy. */
struct policies {
	struct policy *v;
	size_t n;
};

/** The policy of tenants that name none (and no policy is called
 * "default"): pass everything, no canaries, no rebinding protection. */
extern const struct policy pol_builtin_pass;

/** A decision and why; the pipeline keeps one per query for the audit log. */
struct pol_verdict {
	enum pol_action action;
	enum pol_reason reason;
	enum pol_block block;		/* answer form when action is POL_BLOCK */
	bool allowed;			/* an allow entry or the allow list decided */
	bool allowed_by_policy;		/* ... the policy's allow list */
	char category[TDB_MAX_CATEGORY + 1];
	char feed[TDB_MAX_FEED + 1];
	char detail[64];		/* e.g. "country=KP", "asn=64500" */
	int64_t expires;		/* earliest expiry (unix seconds) of the
					 * threat-DB entries that decided, 0:
					 * none: the verdict may change then */
};

/**
 * What the response checks consult besides the policy and the threat DB.
 * Both hooks are optional (NULL: that check is off); they are called from
 * the calling thread only, with addr 4 or 16 octets by family.
 */
struct pol_env {
	const struct policy *policy;	/* borrowed; never NULL */
	struct tdb_reader *tdb;		/* borrowed; NULL: no threat data */
	time_t now;			/* for entry expiry */
	/** true when addr is the data of an internal zone (rebinding) */
	bool (*internal_addr)(void *arg, int family, const uint8_t *addr);
	/** the address's country ("" when unknown) and ASN (0 unknown) */
	void (*geo)(void *arg, int family, const uint8_t *addr, char cc[3],
	    uint32_t *asn);
	void *arg;
};

/** Reset v to "pass, nothing found". */
void pol_verdict_clear(struct pol_verdict *v);

/**
 * Step 4, special names: with bypass-canaries, the canary names that turn
 * off clients' own encrypted DNS are blocked with NXDOMAIN (whatever
 * block-answer says: the canary protocols ask for NXDOMAIN), reason
 * canary, category "canary".  The allow list does not apply: turn
 * bypass-canaries off instead.
 * \param v filled in (cleared first)  
eturn v->action
 */
enum pol_action pol_check_special(const struct policy *p, const uint8_t *qname,
    struct pol_verdict *v);

/**
 * Step 6, the query-name policy: the policy's allow list (wins over
 * everything that follows), then the threat DB (allow beats block, exact
 * beats subdomains, longest wins) with the category mapped through the
 * policy.
 * \param qname an uncompressed wire name (any case) that pkt_parse_query()
 *   accepted
 * \param v filled in (cleared first)
 * \return v->action.  A threat-DB error counts as "not listed" (fail open,
 *   like a missing database) and is returned in *err (may be NULL).
 */
enum pol_action pol_check_qname(const struct pol_env *e, const uint8_t *qname,
    struct pol_verdict *v, int *err);

/**
 * Step 8, the response policy, on an upstream answer: every owner and
 * target of the answer's CNAME/DNAME chain is checked like the query name
 * (reason cname), every A/AAAA address against the threat DB's prefixes
 * (ip), the policy's geo rules (geo) and, with rebinding-protection,
 * private, loopback, link-local and internal-zone addresses (ip, category
 * "rebinding": a rule for that category, else the policy's default when
 * given, else block).  When the query name was allowed (v->allowed on entry, as
 * pol_check_qname() left it) the threat-DB checks are skipped; an allow by
 * the policy's list skips every check.  A stronger verdict replaces v.
 * Allocation-free; reads nothing beyond pkt[len - 1].
 * \return v->action, or a negative code (-EBADMSG: the packet does not
 *   parse; v is then unchanged).
 */
int pol_check_response(const struct pol_env *e, const uint8_t *pkt, size_t len,
    struct pol_verdict *v);

/**
 * Map a threat-DB match to an action through the policy: a rule for the
 * match's category, else the policy's `default` when given, else the
 * feed's action hint, else pass.  An allow match is pass with v->allowed.
 * Fills v (category, feed, block form, reason) only when the result is
 * stronger than what v holds.  \return the action of this match.
 */
enum pol_action pol_decide(const struct policy *p, const struct tdb_match *m,
    enum pol_reason reason, struct pol_verdict *v);

/** The rule for a category, or NULL. */
const struct pol_rule *pol_rule_find(const struct policy *p, const char *category);

/** Whether the policy's allow list covers the wire name (any case). */
bool pol_allow_listed(const struct policy *p, const uint8_t *wire_name);

/** use-application-dns.net, mask.icloud.com, mask-h2.icloud.com (exact). */
bool pol_is_canary(const uint8_t *wire_name);

/**
 * An address no public name should resolve to: IPv4 0/8, 10/8, 100.64/10
 * (CGNAT), 127/8, 169.254/16, 172.16/12, 192.168/16; IPv6 ::, ::1,
 * fc00::/7, fe80::/10, and IPv4-mapped forms of the IPv4 ones.
 */
bool pol_addr_private(int family, const uint8_t *addr);

/** Order of wire names for the allow list: by length, then octets. */
int pol_name_cmp(const void *a, const void *b);

/** "pass", "log", "redirect", "block". */
const char *pol_action_name(enum pol_action a);
/** "", "qname", "cname", "ip", "geo", "internal", "canary". */
const char *pol_reason_name(enum pol_reason r);
/** Parse an action word.  \return 0 or -EINVAL */
int pol_action_parse(const char *s, enum pol_action *out) EG_MUSTCHECK;

/**
 * The Extended DNS Error of a verdict: EDE 4 (Forged Answer) with
 * "category=C" for a redirect, EDE 15 (Blocked) with "category=C feed=F"
 * (feed and detail when known) for a block.  \return the EDE code, or -1
 * for pass and log.
 */
int pol_ede(const struct pol_verdict *v, char *text, size_t len);

/** Free what the policies own (not ps itself). */
void policies_deinit(struct policies *ps);
