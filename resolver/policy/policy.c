/* policy.c -- the policy checks: query name, CNAME chain, addresses, geo
 *
 * Precedence, in one place:
 *   - the policy's `allow` list wins over everything (the admin's word);
 *   - a threat-DB allow entry for the query name wins over the feeds (also
 *     for the names and addresses of its answer), not over rebinding or geo;
 *   - a category rule, else the policy's `default` when given, else the
 *     feed's action hint, else pass (pol_decide());
 *   - along the pipeline the strongest verdict stays: block > redirect >
 *     log > pass.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/packet.h"
#include "resolver/policy/policy.h"
#include "threatdb/tdb.h"

#define TYPE_A		1
#define TYPE_CNAME	5
#define TYPE_AAAA	28
#define TYPE_DNAME	39
#define CLASS_IN	1
#define MAX_PTR_HOPS	64

const struct policy pol_builtin_pass = {
	.name = (char *)"(built-in pass)",
	.has_default = true,	/* also over the feeds' action hints */
	.def = POL_PASS,
	.redirect_ttl = POL_DEFAULT_REDIRECT_TTL,
	.block_ttl = POL_DEFAULT_BLOCK_TTL,
};

static const char *const action_names[] = { "pass", "log", "redirect", "block" };
static const char *const reason_names[] = {
	"", "qname", "cname", "ip", "geo", "internal", "canary",
};

const char *
pol_action_name(enum pol_action a)
{
	return (unsigned)a < 4 ? action_names[a] : "?";
}

const char *
pol_reason_name(enum pol_reason r)
{
	return (unsigned)r < sizeof(reason_names) / sizeof(*reason_names) ?
	    reason_names[r] : "?";
}

int
pol_action_parse(const char *s, enum pol_action *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, action_names[i]) == 0)
			return *out = (enum pol_action)i, 0;
	return -EINVAL;
}

void
pol_verdict_clear(struct pol_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Length of an uncompressed wire name (0 when it runs past 255 octets). */
static size_t
wire_len(const uint8_t *n)
{
	size_t len = 0;

	while (len < PKT_MAX_NAME) {
		uint8_t l = n[len];

		len += (size_t)l + 1;
		if (l == 0)
			return len <= PKT_MAX_NAME ? len : 0;
	}
	return 0;
}

static void
wire_lower(const uint8_t *in, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)tolower(in[i]);	/* length octets are < 64 */
}

int
pol_name_cmp(const void *a, const void *b)
{
	const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
	size_t lx = wire_len(x), ly = wire_len(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x, y, lx);
}

bool
pol_allow_listed(const struct policy *p, const uint8_t *wire_name)
{
	uint8_t low[PKT_MAX_NAME];
	size_t len;

	if (p->n_allow == 0 || (len = wire_len(wire_name)) == 0)
		return false;
	wire_lower(wire_name, low, len);
	/* the name, then each parent (not the root: an allow entry is a name) */
	for (size_t off = 0; low[off] != 0; off += (size_t)low[off] + 1) {
		const uint8_t *key = low + off;

		if (bsearch(&key, p->allow, p->n_allow, sizeof(*p->allow),
		    pol_name_cmp) != NULL)
			return true;
	}
	return false;
}

bool
pol_is_canary(const uint8_t *wire_name)
{
	static const uint8_t *const canaries[] = {
		(const uint8_t *)"\x13use-application-dns\x03net",
		(const uint8_t *)"\x04mask\x06icloud\x03" "com",
		(const uint8_t *)"\x07mask-h2\x06icloud\x03" "com",
	};
	uint8_t low[PKT_MAX_NAME];
	size_t len = wire_len(wire_name);

	if (len == 0)
		return false;
	wire_lower(wire_name, low, len);
	for (size_t i = 0; i < sizeof(canaries) / sizeof(*canaries); i++)
		if (wire_len(canaries[i]) == len && memcmp(canaries[i], low, len) == 0)
			return true;
	return false;
}

static bool
v4_private(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 ||
	    (a[0] == 100 && (a[1] & 0xc0) == 64) ||	/* 100.64/10, RFC 6598 */
	    (a[0] == 169 && a[1] == 254) ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168);
}

bool
pol_addr_private(int family, const uint8_t *addr)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_INET)
		return v4_private(addr);
	if (family != AF_INET6)
		return false;
	if (memcmp(addr, zero, 15) == 0 && addr[15] <= 1)	/* :: and ::1 */
		return true;
	if (memcmp(addr, mapped, 12) == 0)
		return v4_private(addr + 12);
	return (addr[0] & 0xfe) == 0xfc ||			/* fc00::/7 */
	    (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	    (addr[0] == 0xfe && (addr[1] & 0xc0) == 0xc0);	/* fec0::/10 */
}

static int
rule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pol_rule *)a)->category,
	    ((const struct pol_rule *)b)->category);
}

const struct pol_rule *
pol_rule_find(const struct policy *p, const char *category)
{
	struct pol_rule key;

	if (p->n_rules == 0 || category == NULL || *category == '\0' ||
	    strlen(category) > TDB_MAX_CATEGORY)
		return NULL;
	snprintf(key.category, sizeof(key.category), "%s", category);
	return bsearch(&key, p->rules, p->n_rules, sizeof(*p->rules), rule_cmp);
}

/* Record a decision in v when it is stronger than what v holds. */
static void
verdict_set(struct pol_verdict *v, enum pol_action a, enum pol_reason reason,
    enum pol_block block, const char *category, const char *feed,
    const char *detail)
{
	if (a <= v->action)
		return;
	v->action = a;
	v->reason = reason;
	v->block = block;
	snprintf(v->category, sizeof(v->category), "%s", category ? category : "");
	snprintf(v->feed, sizeof(v->feed), "%s", feed ? feed : "");
	snprintf(v->detail, sizeof(v->detail), "%s", detail ? detail : "");
}

enum pol_action
pol_decide(const struct policy *p, const struct tdb_match *m,
    enum pol_reason reason, struct pol_verdict *v)
{
	const struct pol_rule *rule;
	enum pol_block block = p->block_answer;
	enum pol_action a = POL_PASS;

	if (!m->found)
		return POL_PASS;
	/* when this entry expires the decision may change (cache.h) */
	if (m->expires > 0 && (v->expires == 0 || m->expires < v->expires))
		v->expires = m->expires;
	if (m->allow) {
		if (v->action == POL_PASS && !v->allowed) {
			v->allowed = true;
			v->reason = reason;
			snprintf(v->category, sizeof(v->category), "%s", m->category);
			snprintf(v->feed, sizeof(v->feed), "%s", m->feed);
		}
		return POL_PASS;
	}
	if ((rule = pol_rule_find(p, m->category)) != NULL)
		a = rule->action;
	else if (p->has_default)
		a = p->def;
	else {
		switch (m->action) {
		case TDB_ACTION_NONE: a = POL_PASS; break;
		case TDB_ACTION_LOG: a = POL_LOG; break;
		case TDB_ACTION_REDIRECT: a = POL_REDIRECT; break;
		case TDB_ACTION_BLOCK:
		case TDB_ACTION_DROP: a = POL_BLOCK; break;	/* we answer, never drop */
		case TDB_ACTION_NXDOMAIN: a = POL_BLOCK, block = POL_BLOCK_NXDOMAIN; break;
		case TDB_ACTION_NODATA: a = POL_BLOCK, block = POL_BLOCK_NODATA; break;
		}
	}
	verdict_set(v, a, reason, block, m->category, m->feed, NULL);
	return a;
}

enum pol_action
pol_check_special(const struct policy *p, const uint8_t *qname,
    struct pol_verdict *v)
{
	pol_verdict_clear(v);
	if (p->canaries && pol_is_canary(qname))
		verdict_set(v, POL_BLOCK, POL_REASON_CANARY, POL_BLOCK_NXDOMAIN,
		    POL_CATEGORY_CANARY, NULL, NULL);
	return v->action;
}

enum pol_action
pol_check_qname(const struct pol_env *e, const uint8_t *qname,
    struct pol_verdict *v, int *err)
{
	const struct policy *p = e->policy;
	struct tdb_match m;
	int r;

	pol_verdict_clear(v);
	if (err)
		*err = 0;
	if (pol_allow_listed(p, qname)) {
		v->allowed = v->allowed_by_policy = true;
		v->reason = POL_REASON_QNAME;
		snprintf(v->feed, sizeof(v->feed), "policy:%s", p->name);
		return POL_PASS;
	}
	if (e->tdb == NULL)
		return POL_PASS;
	if ((r = tdb_lookup_name(e->tdb, qname, e->now, &m)) != 0) {
		if (err)
			*err = r;
		return POL_PASS;
	}
	return pol_decide(p, &m, POL_REASON_QNAME, v);
}

/* Read a possibly compressed name at pkt[*pos] into out (uncompressed,
 * lower case) and move *pos past it.  Pointers must point backwards, so
 * a loop cannot last; the hop bound is belt and braces. */
static int
read_name(const uint8_t *pkt, size_t len, size_t *pos, uint8_t *out)
{
	size_t p = *pos, o = 0, end = 0;
	unsigned hops = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -EBADMSG;
		l = pkt[p];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (p + 1 >= len || ++hops > MAX_PTR_HOPS)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | pkt[p + 1];
			if (end == 0)
				end = p + 2;
			if (target >= p)
				return -EBADMSG;
			p = target;
			continue;
		}
		if (l & 0xc0 || o + l + 1 > PKT_MAX_NAME || p + 1 + l > len)
			return -EBADMSG;
		out[o] = l;
		wire_lower(pkt + p + 1, out + o + 1, l);
		o += (size_t)l + 1;
		p += (size_t)l + 1;
		if (l == 0)
			break;
	}
	*pos = end ? end : p;
	return 0;
}

/* A name of the answer (not the query name): like the query name, minus
 * the canaries. */
static void
check_chain_name(const struct pol_env *e, const uint8_t *name,
    struct pol_verdict *v)
{
	struct tdb_match m;
	struct pol_verdict tmp;

	if (v->allowed || e->tdb == NULL || pol_allow_listed(e->policy, name))
		return;
	if (tdb_lookup_name(e->tdb, name, e->now, &m) != 0)
		return;		/* fail open, as for the query name */
	/* an allow entry for a chain name clears that name only */
	tmp = *v;
	pol_decide(e->policy, &m, POL_REASON_CNAME, &tmp);
	if (!m.allow)
		*v = tmp;
}

static bool
cc_listed(char (*list)[3], size_t n, const char *cc)
{
	for (size_t lo = 0, hi = n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(list[mid], cc);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool
asn_listed(const uint32_t *list, size_t n, uint32_t asn)
{
	for (size_t lo = 0, hi = n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (list[mid] == asn)
			return true;
		if (list[mid] < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- the address checks of the response stage, each on its own ---- */

typedef void addr_check_fn(const struct pol_env *e, int family,
    const uint8_t *addr, struct pol_verdict *v);

/* The threat DB's prefixes (not for an answer whose name is allowed). */
static void
addr_threat(const struct pol_env *e, int family, const uint8_t *addr,
    struct pol_verdict *v)
{
	struct tdb_match m;

	if (!v->allowed && e->tdb &&
	    tdb_lookup_addr(e->tdb, family, addr, e->now, &m) == 0 && !m.allow)
		pol_decide(e->policy, &m, POL_REASON_IP, v);
}

/* DNS rebinding: a public name answering a private or internal address.
 * Like a category: a rule for "rebinding", else the policy's default when
 * given (monitor mode), else block. */
static void
addr_rebinding(const struct pol_env *e, int family, const uint8_t *addr,
    struct pol_verdict *v)
{
	const struct policy *p = e->policy;
	const struct pol_rule *rule;
	char detail[INET6_ADDRSTRLEN + 8] = "addr=";

	if (!p->rebinding || !(pol_addr_private(family, addr) ||
	    (e->internal_addr && e->internal_addr(e->arg, family, addr))))
		return;
	rule = pol_rule_find(p, POL_CATEGORY_REBINDING);
	inet_ntop(family, addr, detail + 5, sizeof(detail) - 5);
	verdict_set(v, rule ? rule->action : p->has_default ? p->def : POL_BLOCK,
	    POL_REASON_IP, p->block_answer, POL_CATEGORY_REBINDING, NULL, detail);
}

/* The policy's country and AS rules. */
static void
addr_geo(const struct pol_env *e, int family, const uint8_t *addr,
    struct pol_verdict *v)
{
	const struct policy *p = e->policy;
	char cc[3] = "", detail[32];
	uint32_t asn = 0;

	if (e->geo == NULL ||
	    (p->n_block_cc == 0 && p->n_redirect_cc == 0 && p->n_block_asns == 0))
		return;
	e->geo(e->arg, family, addr, cc, &asn);
	if (asn && asn_listed(p->block_asns, p->n_block_asns, asn)) {
		snprintf(detail, sizeof(detail), "asn=%u", (unsigned)asn);
		verdict_set(v, POL_BLOCK, POL_REASON_GEO, p->block_answer,
		    POL_CATEGORY_GEO, NULL, detail);
	}
	if (cc[0] == '\0')
		return;
	snprintf(detail, sizeof(detail), "country=%.2s", cc);
	if (cc_listed(p->block_cc, p->n_block_cc, cc))
		verdict_set(v, POL_BLOCK, POL_REASON_GEO, p->block_answer,
		    POL_CATEGORY_GEO, NULL, detail);
	else if (cc_listed(p->redirect_cc, p->n_redirect_cc, cc))
		verdict_set(v, POL_REDIRECT, POL_REASON_GEO, p->block_answer,
		    POL_CATEGORY_GEO, NULL, detail);
}

/* Every address of an answer goes through these, in order; each may only
 * strengthen the verdict. */
static addr_check_fn *const addr_checks[] = {
	addr_threat, addr_rebinding, addr_geo,
};

static void
check_addr(const struct pol_env *e, int family, const uint8_t *addr,
    struct pol_verdict *v)
{
	for (size_t i = 0; i < sizeof(addr_checks) / sizeof(*addr_checks) &&
	    v->action != POL_BLOCK; i++)
		addr_checks[i](e, family, addr, v);
}

int
pol_check_response(const struct pol_env *e, const uint8_t *pkt, size_t len,
    struct pol_verdict *v)
{
	uint8_t owner[PKT_MAX_NAME], target[PKT_MAX_NAME], last[PKT_MAX_NAME];
	struct pol_verdict w = *v;
	size_t pos = PKT_HEADER_SIZE, lastlen = 0;
	unsigned qd, an;

	if (len < PKT_HEADER_SIZE)
		return -EBADMSG;
	qd = rd16(pkt + 4);
	an = rd16(pkt + 6);
	for (unsigned i = 0; i < qd; i++) {
		if (read_name(pkt, len, &pos, owner) != 0 || pos + 4 > len)
			return -EBADMSG;
		if (i == 0) {	/* the query name was checked at step 6 */
			lastlen = wire_len(owner);
			memcpy(last, owner, lastlen);
		}
		pos += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		uint16_t type, klass, rdlen;
		size_t rd, olen;

		if (read_name(pkt, len, &pos, owner) != 0 || pos + 10 > len)
			return -EBADMSG;
		type = rd16(pkt + pos);
		klass = rd16(pkt + pos + 2);
		rdlen = rd16(pkt + pos + 8);
		rd = pos + 10;
		if (rd + rdlen > len)
			return -EBADMSG;
		pos = rd + rdlen;
		if (w.allowed_by_policy || w.action == POL_BLOCK || klass != CLASS_IN)
			continue;
		if (type != TYPE_A && type != TYPE_AAAA && type != TYPE_CNAME &&
		    type != TYPE_DNAME)
			continue;	/* RRSIGs and the like: nothing to check */
		olen = wire_len(owner);
		if (olen != lastlen || memcmp(owner, last, olen) != 0) {
			check_chain_name(e, owner, &w);
			memcpy(last, owner, olen);
			lastlen = olen;
		}
		if (type == TYPE_CNAME || type == TYPE_DNAME) {
			size_t tpos = rd;

			if (read_name(pkt, rd + rdlen, &tpos, target) != 0 ||
			    tpos != rd + rdlen)
				return -EBADMSG;
			check_chain_name(e, target, &w);
			lastlen = wire_len(target);
			memcpy(last, target, lastlen);
		} else if (type == TYPE_A && rdlen == 4)
			check_addr(e, AF_INET, pkt + rd, &w);
		else if (type == TYPE_AAAA && rdlen == 16)
			check_addr(e, AF_INET6, pkt + rd, &w);
	}
	*v = w;
	return v->action;
}

int
pol_ede(const struct pol_verdict *v, char *text, size_t len)
{
	const char *cat = v->category[0] ? v->category : "none";

	switch (v->action) {
	case POL_REDIRECT:
		snprintf(text, len, "category=%s%s%s", cat,
		    v->detail[0] ? " " : "", v->detail);
		return 4;	/* Forged Answer */
	case POL_BLOCK:
		snprintf(text, len, "category=%s%s%s%s%s", cat,
		    v->feed[0] ? " feed=" : "", v->feed,
		    v->detail[0] ? " " : "", v->detail);
		return 15;	/* Blocked */
	default:
		if (len)
			text[0] = '\0';
		return -1;
	}
}

void
policies_deinit(struct policies *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct policy *p = &ps->v[i];

		free(p->name);
		free(p->rules);
		free(p->block_cc);
		free(p->redirect_cc);
		free(p->block_asns);
		for (size_t j = 0; j < p->n_allow; j++)
			free(p->allow[j]);
		free(p->allow);
	}
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}
