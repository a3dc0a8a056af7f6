/* fuzz_query.c -- libFuzzer: the input as client query and as upstream answer */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/answer.h"
#include "resolver/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_SIZE	65536

/* www.example.com A, RD, EDNS 4096 with DO; and the same without EDNS. */
static const uint8_t query_edns[] = {
	0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0, 1, 0, 1,
	0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0,
};
static const uint8_t query_plain[] = {
	0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0, 1, 0, 1,
};

/* Whatever we write must be a DNS message ldns can read back. */
static void
check_wire(const uint8_t *out, size_t len, uint16_t id)
{
	ldns_pkt *p = NULL;

	if (len < 12 || (out[0] << 8 | out[1]) != id || !(out[2] & 0x80))
		abort();
	if (ldns_wire2pkt(&p, out, len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(p);
}

static void
client_side(const uint8_t *data, size_t size, uint8_t *out)
{
	static const int rcode[] = {
		[PKT_OK] = RCODE_NOERROR, [PKT_FORMERR] = RCODE_FORMERR,
		[PKT_NOTIMP] = RCODE_NOTIMP, [PKT_REFUSED] = RCODE_REFUSED,
		[PKT_BADVERS] = RCODE_BADVERS,
	};
	struct pkt_query q;
	struct answer_meta m = { .ede = ANSWER_NO_EDE };
	enum pkt_verdict v = pkt_parse_query(data, size, &q);
	char text[PKT_MAX_NAME_TEXT];
	size_t n;

	if (v == PKT_DROP)
		return;
	m.rcode = rcode[v];
	if (v != PKT_OK) {
		m.ede = EDE_OTHER;
		m.ede_text = "fuzz";
	}
	if ((n = answer_synth(out, OUT_SIZE, &q, &m)) == 0)
		abort();
	check_wire(out, n, q.id);
	if (q.qname) {
		ldns_rdf *back = NULL;
		int len = pkt_name_to_text(q.qname, text, sizeof(text));

		if (len <= 0 || (size_t)len != strlen(text))
			abort();
		/* the text must name the same name again */
		if (ldns_str2rdf_dname(&back, text) != LDNS_STATUS_OK ||
		    ldns_rdf_size(back) != q.qname_len ||
		    memcmp(ldns_rdf_data(back), q.qname, q.qname_len) != 0)
			abort();
		ldns_rdf_deep_free(back);
	}
}

static void
upstream_side(const uint8_t *data, size_t size, const uint8_t *query,
    size_t qlen, size_t maxsize, uint8_t *out)
{
	struct pkt_query q;
	size_t outlen = 0;
	int r;

	if (pkt_parse_query(query, qlen, &q) != PKT_OK)
		abort();
	r = answer_from_upstream(&q, data, size, size & 1, maxsize, out,
	    OUT_SIZE, &outlen);
	if (r == -EBADMSG || r == -ENOMEM)
		return;
	if (r != 0 || outlen > maxsize)
		abort();
	check_wire(out, outlen, q.id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(OUT_SIZE);

	if (out == NULL)
		return 0;
	client_side(data, size, out);
	upstream_side(data, size, query_edns, sizeof(query_edns), 1232, out);
	upstream_side(data, size, query_plain, sizeof(query_plain), 512, out);
	free(out);
	return 0;
}
