/* fuzz_doh.c -- libFuzzer target: DoH request targets and parameters, and answers rendered for DoH
 *
 * The input is taken twice: as a request target (":path": the listener
 * path, the token, the query string with dns=, name=, type=, ct=, the
 * base64url message and the DNS query inside it), and as a DNS answer
 * (the Cache-Control TTL and the JSON rendering).  Under the normal
 * compiler the corpus replays in `make check` (replay.sh).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/doh/doh_http.h"
#include "resolver/doh/doh_json.h"
#include "resolver/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
as_target(const char *s, size_t size)
{
	static const char *const flags[] = { "cd", "do", "ct" };
	char v[DOH_MAX_TARGET + 1], name[DOH_MAX_TARGET + 1], type[DOH_MAX_TARGET + 1];
	uint8_t w[DOH_MAX_BODY];
	struct doh_target t;
	struct pkt_query pq;
	size_t n, wl;
	int rt;

	if (doh_target_parse(s, size, "/dns-query", &t) != 0 || t.query == NULL)
		return;
	if (doh_query_param(t.query, t.query_len, "dns", v, sizeof(v), &n) == 0 &&
	    doh_b64url_decode(v, n, w, sizeof(w), &wl) == 0)
		(void)pkt_parse_query(w, wl, &pq);
	for (size_t i = 0; i < sizeof(flags) / sizeof(*flags); i++)
		if (doh_query_param(t.query, t.query_len, flags[i], v, sizeof(v), &n) == 0)
			(void)doh_accepts(v, n, DOH_JSON_TYPE);
	if (doh_query_param(t.query, t.query_len, "name", name, sizeof(name), &n) != 0)
		return;
	rt = doh_query_param(t.query, t.query_len, "type", type, sizeof(type), &n);
	if (doh_json_query(name, rt == 0 ? type : NULL, true, true, w, sizeof(w),
	    &wl) == 0 && ((rt = pkt_parse_query(w, wl, &pq)) == PKT_DROP ||
	    rt == PKT_FORMERR))
		abort();	/* what we build must be a well-formed query */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = NULL;
	size_t jlen;

	if (size <= DOH_MAX_TARGET)
		as_target((const char *)data, size);
	(void)doh_cache_ttl(data, size);
	if (doh_json_render(data, size, &json, &jlen) == 0) {
		if (strlen(json) != jlen)
			abort();
		free(json);
	}
	return 0;
}
