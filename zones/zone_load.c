/* zone_load.c -- reading a zone file with ldns into the read-only layout of zone_impl.h
 *
 * The file is read record by record with ldns_rr_new_frm_fp_l() (the loop
 * ldns_zone_new_frm_fp_l() runs, kept here so that every semantic error,
 * not only syntax, carries its line).  Each record becomes a row of plain
 * bytes right away (owner key, owner wire, rdata wire) and its ldns object
 * is freed; the rows are sorted into RRsets, empty non-terminals are
 * added, and the zone is copied into one blob.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "zones/zone_impl.h"

#define ZONE_MAX_NODES	(4u * ZONE_MAX_RECORDS)	/* owners + empty non-terminals */
#define ZONE_MAX_RRSET	65535u			/* records in one RRset */

/* One record while loading; its bytes live in load.tmp. */
struct row {
	uint32_t seq;		/* position in the file */
	int line;
	uint16_t type;
	uint32_t ttl;
	uint32_t key_off, wire_off, rd_off;
	uint8_t key_len;
	uint16_t rd_len;
};

struct load {
	uint8_t *buf;		/* the rows' bytes */
	size_t len, cap;
	struct row *rows;
	size_t n_rows, cap_rows;
	uint8_t apex[ZONE_KEY_MAX];
	int apex_len;
	bool soa_seen;
};

static int
fail(struct zone_error *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct zone_error *err, int line, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EG_ECONFIG;
}

int
zone_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int
zone_name_key(const uint8_t *wire, uint8_t key[ZONE_KEY_MAX])
{
	size_t off[128], n = 0, p = 0, k = 0;

	while (wire[p] != 0) {
		if ((wire[p] & 0xc0) || n == 128 || p + wire[p] + 1 > 254)
			return -1;
		off[n++] = p;
		p += (size_t)wire[p] + 1;
	}
	while (n-- > 0) {
		uint8_t l = wire[off[n]];

		key[k++] = l;
		for (uint8_t i = 1; i <= l; i++) {
			uint8_t c = wire[off[n] + i];
			key[k++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
		}
	}
	return (int)k;
}

/* Append bytes to the loading buffer; offsets stay below 4 GiB. */
static int
put(struct load *ld, const void *p, size_t n, uint32_t *off)
{
	if (ld->len + n > ld->cap) {
		size_t cap = ld->cap ? ld->cap : 4096;
		uint8_t *nb;

		while (cap < ld->len + n)
			cap *= 2;
		if (cap > UINT32_MAX || (nb = realloc(ld->buf, cap)) == NULL)
			return -ENOMEM;
		ld->buf = nb;
		ld->cap = cap;
	}
	memcpy(ld->buf + ld->len, p, n);
	*off = (uint32_t)ld->len;
	ld->len += n;
	return 0;
}

static bool
skipped_type(uint16_t t)
{
	return t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
	    t == LDNS_RR_TYPE_NSEC3;
}

/* One record from ldns: checked, turned into a row, freed by the caller. */
static int
add_record(struct load *ld, ldns_rr *rr, int line, const char *zname,
    struct zone_error *err)
{
	ldns_rdf *owner = ldns_rr_owner(rr);
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	uint8_t key[ZONE_KEY_MAX];
	ldns_buffer *b;
	struct row r = { .seq = (uint32_t)ld->n_rows, .line = line,
	    .type = type, .ttl = ldns_rr_ttl(rr) };
	int klen, ret;

	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		return fail(err, line, "only class IN records can be served");
	if (type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255))
		return fail(err, line, "type %u is not a record type", type);
	if (skipped_type(type))
		return 0;
	ldns_dname2canonical(owner);
	if ((klen = zone_name_key(ldns_rdf_data(owner), key)) < 0)
		return fail(err, line, "malformed owner name");
	if (klen < ld->apex_len || memcmp(key, ld->apex, (size_t)ld->apex_len) != 0)
		return fail(err, line, "the owner is outside the zone %s", zname);
	if (type == LDNS_RR_TYPE_SOA) {
		if (klen != ld->apex_len)
			return fail(err, line, "SOA below the zone's apex");
		if (ld->soa_seen)
			return fail(err, line, "a second SOA record");
		ld->soa_seen = true;
	}
	if (ld->n_rows >= ZONE_MAX_RECORDS)
		return fail(err, line, "more than %u records", ZONE_MAX_RECORDS);
	if (ld->n_rows == ld->cap_rows) {
		size_t cap = ld->cap_rows ? ld->cap_rows * 2 : 256;
		struct row *nr = realloc(ld->rows, cap * sizeof(*nr));

		if (nr == NULL)
			return -ENOMEM;
		ld->rows = nr;
		ld->cap_rows = cap;
	}
	if ((b = ldns_buffer_new(512)) == NULL)
		return -ENOMEM;
	if (ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK) {
		ldns_buffer_free(b);
		return -ENOMEM;
	}
	if (ldns_buffer_position(b) > 65535) {
		ldns_buffer_free(b);
		return fail(err, line, "record data longer than 65535 bytes");
	}
	r.key_len = (uint8_t)klen;
	r.rd_len = (uint16_t)ldns_buffer_position(b);
	if ((ret = put(ld, key, (size_t)klen, &r.key_off)) == 0 &&
	    (ret = put(ld, ldns_rdf_data(owner), ldns_rdf_size(owner), &r.wire_off)) == 0)
		ret = put(ld, ldns_buffer_begin(b), r.rd_len, &r.rd_off);
	ldns_buffer_free(b);
	if (ret == 0)
		ld->rows[ld->n_rows++] = r;
	return ret;
}

/* ldns counts the newlines it has read, so a record's line is the count
 * after reading it, plus one for a last line without its newline. */
static int
read_records(struct load *ld, FILE *f, bool ends_nl, const ldns_rdf *apex,
    const char *zname, struct zone_error *err)
{
	ldns_rdf *origin = ldns_rdf_clone(apex), *prev = ldns_rdf_clone(apex);
	uint32_t ttl = LDNS_DEFAULT_TTL;
	int line = 0, ret = 0, at;

	if (origin == NULL || prev == NULL)
		ret = -ENOMEM;
	while (ret == 0 && !feof(f)) {
		ldns_rr *rr = NULL;
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);

		at = line + (feof(f) && !ends_nl);
		switch (s) {
		case LDNS_STATUS_OK:
			ret = add_record(ld, rr, at, zname, err);
			break;
		case LDNS_STATUS_SYNTAX_EMPTY:
		case LDNS_STATUS_SYNTAX_TTL:
		case LDNS_STATUS_SYNTAX_ORIGIN:
			break;
		case LDNS_STATUS_SYNTAX_INCLUDE:
			ret = fail(err, at, "$INCLUDE is not supported");
			break;
		case LDNS_STATUS_MEM_ERR:
			ret = -ENOMEM;
			break;
		default:
			ret = fail(err, at, "%s", ldns_get_errorstr_by_id(s));
			break;
		}
		ldns_rr_free(rr);
	}
	if (ret == 0 && ferror(f))
		ret = fail(err, 0, "read error");
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	return ret;
}

/* Rows by owner, then type, then data: RRsets and duplicates adjacent. */
static int
row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct row *a = pa, *b = pb;
	const uint8_t *t = arg;
	int c;

	if ((c = zone_key_cmp(t + a->key_off, a->key_len, t + b->key_off, b->key_len)))
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if ((c = zone_key_cmp(t + a->rd_off, a->rd_len, t + b->rd_off, b->rd_len)))
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool
same_owner(const struct load *ld, const struct row *a, const struct row *b)
{
	return a->key_len == b->key_len &&
	    memcmp(ld->buf + a->key_off, ld->buf + b->key_off, a->key_len) == 0;
}

static bool
same_rr(const struct load *ld, const struct row *a, const struct row *b)
{
	return same_owner(ld, a, b) && a->type == b->type && a->rd_len == b->rd_len &&
	    memcmp(ld->buf + a->rd_off, ld->buf + b->rd_off, a->rd_len) == 0;
}

/* Drop exact duplicates (RFC 2181 5) and check what the sorted rows say
 * about the names: a CNAME stands alone, RRsets fit a message. */
static int
check_rows(struct load *ld, struct zone_error *err)
{
	size_t out = 0, run = 0;

	for (size_t i = 0; i < ld->n_rows; i++) {
		struct row *r = &ld->rows[i];

		if (out > 0 && same_rr(ld, &ld->rows[out - 1], r))
			continue;
		if (out > 0 && same_owner(ld, &ld->rows[out - 1], r)) {
			struct row *p = &ld->rows[out - 1];

			if (p->type == r->type && r->type == LDNS_RR_TYPE_CNAME)
				return fail(err, p->line > r->line ? p->line : r->line,
				    "a second CNAME at the same name");
			if (p->type != r->type && (p->type == LDNS_RR_TYPE_CNAME ||
			    r->type == LDNS_RR_TYPE_CNAME))
				return fail(err, p->type == LDNS_RR_TYPE_CNAME ?
				    p->line : r->line,
				    "a CNAME cannot share its name with other records");
			run = p->type == r->type ? run + 1 : 1;
		} else
			run = 1;
		if (run > ZONE_MAX_RRSET)
			return fail(err, r->line, "more than %u records in one RRset",
			    ZONE_MAX_RRSET);
		ld->rows[out++] = *r;
	}
	ld->n_rows = out;
	return 0;
}

/* key a is an ancestor of, or equal to, key b */
static bool
key_covers(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen <= blen && memcmp(a, b, alen) == 0;
}

/* The key lengths of the ancestors of key (shallowest first) that are
 * not ancestors of prev, excluding key itself: the empty non-terminals
 * between two consecutive owners in key order (see zone_impl.h). */
static size_t
new_ancestors(const uint8_t *key, size_t klen, const uint8_t *prev,
    size_t plen, size_t apex_len, uint8_t lens[128])
{
	uint8_t bound[128];
	size_t nb = 0, n = 0, p = 0;

	while (p < klen) {	/* label boundaries of key */
		bound[nb++] = (uint8_t)p;
		p += (size_t)key[p] + 1;
	}
	/* bound[i] is the length of an ancestor's key; the last one above
	 * key itself is bound[nb - 1] */
	for (size_t i = nb; i-- > 1;) {
		size_t alen = bound[i];

		if (alen < apex_len || key_covers(key, alen, prev, plen))
			break;
		lens[n++] = (uint8_t)alen;
	}
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = lens[i];
		lens[i] = lens[n - 1 - i];
		lens[n - 1 - i] = t;
	}
	return n;
}

/* Count the nodes (owners and empty non-terminals), the RRsets and the
 * bytes of the blob. */
static int
count_layout(const struct load *ld, size_t *n_nodes, size_t *n_sets,
    size_t *bytes, struct zone_error *err)
{
	const struct row *prev = NULL;
	uint8_t lens[128];

	*n_nodes = *n_sets = *bytes = 0;
	for (size_t i = 0; i < ld->n_rows; i++) {
		const struct row *r = &ld->rows[i];

		*bytes += 2u + r->rd_len;
		if (prev && same_owner(ld, prev, r)) {
			*n_sets += prev->type != r->type;
			prev = r;
			continue;
		}
		(*n_sets)++;
		(*n_nodes)++;
		*bytes += 2u * r->key_len + 1;
		if (prev)
			*n_nodes += new_ancestors(ld->buf + r->key_off, r->key_len,
			    ld->buf + prev->key_off, prev->key_len,
			    (size_t)ld->apex_len, lens);
		if (*n_nodes > ZONE_MAX_NODES)
			return fail(err, r->line, "more than %u names", ZONE_MAX_NODES);
		prev = r;
	}
	if (*bytes > UINT32_MAX)
		return fail(err, 0, "zone too large");
	return 0;
}

/* The nodes for a new owner: the empty non-terminals above it (keys that
 * are prefixes of its key, wire names that are suffixes of its name),
 * then itself.  Copies its key and wire name to the blob at *pos.
 * \return the owner's node. */
static struct znode *
add_owner(struct zone *z, const struct load *ld, const struct row *r,
    const struct row *prev, size_t *ni, size_t si, size_t *pos)
{
	uint8_t lens[128];
	size_t na = prev ? new_ancestors(ld->buf + r->key_off, r->key_len,
	    ld->buf + prev->key_off, prev->key_len, (size_t)ld->apex_len, lens) : 0;
	uint32_t koff = (uint32_t)*pos, woff = (uint32_t)(*pos + r->key_len);
	struct znode *node;

	memcpy(z->data + *pos, ld->buf + r->key_off, r->key_len);
	memcpy(z->data + *pos + r->key_len, ld->buf + r->wire_off,
	    (size_t)r->key_len + 1);
	*pos += 2u * r->key_len + 1;
	for (size_t a = 0; a <= na; a++) {
		node = &z->nodes[(*ni)++];
		node->key_off = koff;
		node->key_len = a < na ? lens[a] : r->key_len;
		node->wire_off = woff + r->key_len - node->key_len;
		node->first = (uint32_t)si;
	}
	return node;
}

/* Lay the zone out: nodes in key order, their RRsets, one blob. */
static int
build(struct zone *z, struct load *ld, struct zone_error *err)
{
	size_t n_nodes, n_sets, bytes, ni = 0, si = 0, pos = 0;
	const struct row *prev = NULL;
	struct znode *node = NULL;
	struct zrrset *set = NULL;
	int r;

	if ((r = count_layout(ld, &n_nodes, &n_sets, &bytes, err)) != 0)
		return r;
	if ((z->nodes = calloc(n_nodes, sizeof(*z->nodes))) == NULL ||
	    (z->rrsets = calloc(n_sets, sizeof(*z->rrsets))) == NULL ||
	    (z->data = malloc(bytes)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ld->n_rows; i++) {
		const struct row *row = &ld->rows[i];
		bool new_owner = !prev || !same_owner(ld, prev, row);

		if (new_owner)
			node = add_owner(z, ld, row, prev, &ni, si, &pos);
		if (new_owner || prev->type != row->type) {
			set = &z->rrsets[si++];
			set->type = row->type;
			set->ttl = row->ttl;
			set->rdata_off = (uint32_t)pos;
			node->n_rrsets++;
		}
		/* RFC 2181 5.2: one TTL per RRset; differing ones, the lowest */
		if (row->ttl < set->ttl)
			set->ttl = row->ttl;
		z->data[pos] = (uint8_t)(row->rd_len >> 8);
		z->data[pos + 1] = (uint8_t)row->rd_len;
		memcpy(z->data + pos + 2, ld->buf + row->rd_off, row->rd_len);
		pos += 2u + row->rd_len;
		set->rdata_len += 2u + row->rd_len;
		set->n_rr++;
		prev = row;
	}
	EG_REQUIRE(ni == n_nodes && si == n_sets && pos == bytes);
	z->n_nodes = n_nodes;
	z->n_rrsets = n_sets;
	z->data_len = bytes;
	return 0;
}

/* The SOA's negative TTL: min(SOA TTL, MINIMUM) (RFC 2308 3, 5). */
static void
find_soa(struct zone *z)
{
	const uint8_t *rd;
	size_t p = 0;

	z->apex = &z->nodes[0];
	z->soa = zone_node_rrset(z, z->apex, LDNS_RR_TYPE_SOA);
	EG_REQUIRE(z->soa != NULL);
	rd = z->data + z->soa->rdata_off + 2;
	for (int names = 0; names < 2; names++) {
		while (rd[p] != 0)
			p += (size_t)rd[p] + 1;
		p++;
	}
	z->neg_ttl = (uint32_t)rd[p + 16] << 24 | (uint32_t)rd[p + 17] << 16 |
	    (uint32_t)rd[p + 18] << 8 | rd[p + 19];
	if (z->soa->ttl < z->neg_ttl)
		z->neg_ttl = z->soa->ttl;
}

static int
load_file(struct zone *z, struct load *ld, const char *path,
    const ldns_rdf *apex, struct zone_error *err)
{
	struct stat st;
	bool ends_nl;
	char last;
	FILE *f;
	int r;

	if ((f = fopen(path, "r")) == NULL)
		return fail(err, 0, "cannot open: %s", strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return fail(err, 0, "not a regular file");
	}
	if (st.st_size > (off_t)ZONE_MAX_FILE_BYTES) {
		fclose(f);
		return fail(err, 0, "larger than %u bytes", ZONE_MAX_FILE_BYTES);
	}
	ends_nl = st.st_size == 0 || (pread(fileno(f), &last, 1, st.st_size - 1) == 1 &&
	    last == '\n');
	r = read_records(ld, f, ends_nl, apex, z->name, err);
	fclose(f);
	if (r != 0)
		return r;
	if (!ld->soa_seen)
		return fail(err, 0, "no SOA record at the apex %s", z->name);
	qsort_r(ld->rows, ld->n_rows, sizeof(*ld->rows), row_cmp, ld->buf);
	if ((r = check_rows(ld, err)) != 0)
		return r;
	if ((r = build(z, ld, err)) != 0)
		return r;
	find_soa(z);
	return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
zone_free(struct zone *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->tenants);
	free(z->nodes);
	free(z->rrsets);
	free(z->data);
	free(z);
}

/* A new zone with its apex and tenants, no data yet. */
static int
zone_new(struct zone **out, const char *name, const uint32_t *tenants,
    size_t n_tenants, ldns_rdf **apex, struct zone_error *err)
{
	struct zone *z;
	char *text;
	int klen;

	if (n_tenants > ZONE_MAX_TENANTS) {
		fail(err, 0, "more than %u tenants", ZONE_MAX_TENANTS);
		return -EINVAL;
	}
	if ((*apex = ldns_dname_new_frm_str(name)) == NULL) {
		fail(err, 0, "\"%s\" is not a domain name", name);
		return -EINVAL;
	}
	ldns_dname2canonical(*apex);
	if ((klen = zone_name_key(ldns_rdf_data(*apex), (uint8_t[ZONE_KEY_MAX]){ 0 })) <= 0) {
		fail(err, 0, "the root cannot be an internal zone");
		return -EINVAL;
	}
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return -ENOMEM;
	z->key_len = (uint8_t)zone_name_key(ldns_rdf_data(*apex), z->key);
	if ((text = ldns_rdf2str(*apex)) == NULL ||
	    (n_tenants && (z->tenants = malloc(n_tenants * sizeof(uint32_t))) == NULL)) {
		free(text);
		zone_free(z);
		return -ENOMEM;
	}
	if (strlen(text) > 1 && text[strlen(text) - 1] == '.')
		text[strlen(text) - 1] = '\0';
	z->name = text;
	if (n_tenants) {
		memcpy(z->tenants, tenants, n_tenants * sizeof(uint32_t));
		qsort(z->tenants, n_tenants, sizeof(uint32_t), u32_cmp);
	}
	z->n_tenants = n_tenants;
	*out = z;
	return 0;
}

int
zone_set_new(struct zone_set **out)
{
	struct zone_set *zs = calloc(1, sizeof(*zs));

	if (zs == NULL)
		return -ENOMEM;
	*out = zs;
	return 0;
}

void
zone_set_free(struct zone_set *zs)
{
	if (zs == NULL)
		return;
	for (size_t i = 0; i < zs->n; i++)
		zone_free(zs->v[i]);
	free(zs->v);
	free(zs->a4);
	free(zs->a6);
	free(zs);
}

size_t
zone_set_count(const struct zone_set *zs)
{
	return zs ? zs->n : 0;
}

static bool
tenants_overlap(const struct zone *a, const struct zone *b)
{
	if (a->n_tenants == 0 || b->n_tenants == 0)
		return true;
	for (size_t i = 0, j = 0; i < a->n_tenants && j < b->n_tenants;) {
		if (a->tenants[i] == b->tenants[j])
			return true;
		if (a->tenants[i] < b->tenants[j])
			i++;
		else
			j++;
	}
	return false;
}

static int
addr_cmp4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int
addr_cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Append z's A and AAAA data to the set's sorted address lists. */
static int
add_addrs(struct zone_set *zs, const struct zone *z)
{
	size_t n4 = 0, n6 = 0;
	uint8_t (*a4)[4], (*a6)[16];

	for (size_t i = 0; i < z->n_rrsets; i++) {
		if (z->rrsets[i].type == LDNS_RR_TYPE_A)
			n4 += z->rrsets[i].n_rr;
		else if (z->rrsets[i].type == LDNS_RR_TYPE_AAAA)
			n6 += z->rrsets[i].n_rr;
	}
	if ((a4 = realloc(zs->a4, (zs->n_a4 + n4 + 1) * 4)) == NULL)
		return -ENOMEM;
	zs->a4 = a4;
	if ((a6 = realloc(zs->a6, (zs->n_a6 + n6 + 1) * 16)) == NULL)
		return -ENOMEM;
	zs->a6 = a6;
	for (size_t i = 0; i < z->n_rrsets; i++) {
		const struct zrrset *s = &z->rrsets[i];
		const uint8_t *p = z->data + s->rdata_off;
		size_t want = s->type == LDNS_RR_TYPE_A ? 4 :
		    s->type == LDNS_RR_TYPE_AAAA ? 16 : 0;

		for (uint16_t k = 0; want && k < s->n_rr; k++) {
			size_t rdlen = (size_t)p[0] << 8 | p[1];

			if (rdlen == 4 && want == 4)
				memcpy(zs->a4[zs->n_a4++], p + 2, 4);
			else if (rdlen == 16 && want == 16)
				memcpy(zs->a6[zs->n_a6++], p + 2, 16);
			p += 2 + rdlen;
		}
	}
	qsort(zs->a4, zs->n_a4, 4, addr_cmp4);
	qsort(zs->a6, zs->n_a6, 16, addr_cmp16);
	return 0;
}

int
zone_set_load(struct zone_set *zs, const char *name, const char *path,
    const uint32_t *tenants, size_t n_tenants, struct zone_error *err)
{
	struct load ld = { 0 };
	struct zone *z = NULL, **v;
	ldns_rdf *apex = NULL;
	size_t at;
	int r;

	err->line = 0;
	err->msg[0] = '\0';
	if (zs->n >= ZONE_MAX_ZONES) {
		fail(err, 0, "more than %u zones", ZONE_MAX_ZONES);
		return -E2BIG;
	}
	if ((r = zone_new(&z, name, tenants, n_tenants, &apex, err)) != 0)
		goto out;
	memcpy(ld.apex, z->key, z->key_len);
	ld.apex_len = z->key_len;
	for (at = 0; at < zs->n; at++) {
		int c = zone_key_cmp(zs->v[at]->key, zs->v[at]->key_len, z->key, z->key_len);

		if (c == 0 && tenants_overlap(zs->v[at], z)) {
			fail(err, 0, "zone %s is already configured for %s", z->name,
			    zs->v[at]->n_tenants && n_tenants ?
			    "one of these tenants" : "every tenant");
			r = -EEXIST;
			goto out;
		}
		if (c > 0)
			break;
	}
	if ((r = load_file(z, &ld, path, apex, err)) != 0)
		goto out;
	if ((v = realloc(zs->v, (zs->n + 1) * sizeof(*v))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	zs->v = v;
	if ((r = add_addrs(zs, z)) != 0)
		goto out;
	memmove(&zs->v[at + 1], &zs->v[at], (zs->n - at) * sizeof(*v));
	zs->v[at] = z;
	zs->n++;
	z = NULL;
out:
	if (r == -ENOMEM)
		fail(err, 0, "out of memory");
	ldns_rdf_deep_free(apex);
	zone_free(z);
	free(ld.buf);
	free(ld.rows);
	return r;
}
