/* fuzz_response.c -- libFuzzer: the input as an upstream answer to the response policy */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/packet.h"
#include "resolver/policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* www.example.com A, RD, EDNS with DO: the question our answers echo. */
static const uint8_t query[] = {
	0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0, 1, 0, 1,
	0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0,
};

/* Hooks with some behaviour, so every branch of the checks can be reached. */
static bool
internal(void *arg, int family, const uint8_t *addr)
{
	return family == AF_INET && addr[0] == 198 && addr[1] == 51;
}

static void
geo(void *arg, int family, const uint8_t *addr, char cc[3], uint32_t *asn)
{
	cc[0] = '\0';
	*asn = 0;
	if (family == AF_INET && addr[0] == 203) {
		memcpy(cc, addr[3] & 1 ? "KP" : "RU", 3);
		*asn = 64500 + addr[3];
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	static uint8_t a1[] = "\x07" "example" "\x03" "net";
	static uint8_t *allow[] = { a1 };
	static char kp[][3] = { "KP" }, ru[][3] = { "RU" };
	static uint32_t asns[] = { 64510 };
	struct policy p = {
		.name = (char *)"fuzz", .redirect_ttl = 60, .block_ttl = 60,
		.rebinding = true, .block_cc = kp, .n_block_cc = 1,
		.redirect_cc = ru, .n_redirect_cc = 1, .block_asns = asns,
		.n_block_asns = 1, .allow = allow, .n_allow = 1,
	};
	struct pol_env e = { .policy = &p, .now = 1800000000,
	    .internal_addr = internal, .geo = geo };
	struct pol_verdict v, before;
	struct pkt_query q;
	char text[256];
	int r;

	pol_verdict_clear(&v);
	before = v;
	r = pol_check_response(&e, data, size, &v);
	if (r < 0 && (r != -EBADMSG || memcmp(&v, &before, sizeof(v)) != 0))
		abort();	/* errors leave the verdict alone */
	if (r >= 0 && (r != (int)v.action || v.action > POL_BLOCK))
		abort();
	/* whatever was decided must make a well-formed answer */
	if (r >= 0 && pkt_parse_query(query, sizeof(query), &q) == PKT_OK) {
		uint8_t addrs[1][16] = { { 198, 51, 100, 10 } };
		struct answer_meta m = { .rcode = RCODE_NXDOMAIN };
		struct answer_rrs rr = { .family = AF_INET,
		    .addrs = (const uint8_t (*)[16])addrs, .n_addrs = 1, .ttl = 60,
		    .soa = true, .soa_ttl = 60 };
		ldns_pkt *pkt = NULL;
		size_t n;

		m.ede = pol_ede(&v, text, sizeof(text));
		m.ede_text = text;
		n = answer_policy(out, sizeof(out), 1232, &q, &m, &rr);
		if (n == 0 || ldns_wire2pkt(&pkt, out, n) != LDNS_STATUS_OK)
			abort();
		ldns_pkt_free(pkt);
	}
	return 0;
}
