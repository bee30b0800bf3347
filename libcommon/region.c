#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "log.h"
#include "proto.h"
#include "region.h"

#define REGION_ENCODING_VERSION	1

static const char region_role_letters[] = "vlid";

void
region_init(struct region *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->start);
	buf_init(&r->end);
}

void
region_free(struct region *r)
{
	buf_free(&r->start);
	buf_free(&r->end);
	r->npeers = 0;
}

void
region_copy(struct region *dst, const struct region *src)
{
	buf_reset(&dst->start);
	buf_reset(&dst->end);
	buf_add(&dst->start, src->start.data, src->start.len);
	buf_add(&dst->end, src->end.data, src->end.len);
	dst->id = src->id;
	dst->epoch = src->epoch;
	dst->npeers = src->npeers;
	memcpy(dst->peers, src->peers, sizeof(src->peers));
}

int
region_contains(const struct region *r, const void *key, size_t len)
{
	struct bytes k = { key, len };

	if (bytes_cmp(k, buf_bytes(&r->start)) < 0)
		return 0;
	return r->end.len == 0 || bytes_cmp(k, buf_bytes(&r->end)) < 0;
}

int
region_clamp(const struct region *r, struct bytes start, struct bytes end,
    struct bytes *lo, struct bytes *hi)
{
	struct bytes rs = buf_bytes(&r->start), re = buf_bytes(&r->end);

	*lo = bytes_cmp(start, rs) > 0 ? start : rs;
	if (end.len == 0)
		*hi = re;
	else if (re.len == 0)
		*hi = end;
	else
		*hi = bytes_cmp(end, re) < 0 ? end : re;
	return hi->len == 0 || bytes_cmp(*lo, *hi) < 0;
}

const struct region_peer *
region_peer_on_store(const struct region *r, uint64_t store_id)
{
	size_t i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].store_id == store_id)
			return &r->peers[i];
	return NULL;
}

const struct region_peer *
region_peer_by_id(const struct region *r, uint64_t peer_id)
{
	size_t i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].id == peer_id)
			return &r->peers[i];
	return NULL;
}

int
region_add_peer(struct region *r, uint64_t peer_id, uint64_t store_id,
    enum region_role role)
{
	if (r->npeers == REGION_MAX_PEERS) {
		log_setreason("region %" PRIu64 " has %d peers already",
		    r->id, REGION_MAX_PEERS);
		return -1;
	}
	if (region_peer_by_id(r, peer_id) ||
	    region_peer_on_store(r, store_id)) {
		log_setreason("region %" PRIu64 " already has peer %" PRIu64
		    " or a peer on store %" PRIu64, r->id, peer_id, store_id);
		return -1;
	}
	r->peers[r->npeers].id = peer_id;
	r->peers[r->npeers].store_id = store_id;
	r->peers[r->npeers].role = role;
	r->npeers++;
	return 0;
}

int
region_remove_peer(struct region *r, uint64_t peer_id)
{
	size_t i;

	for (i = 0; i < r->npeers; i++) {
		if (r->peers[i].id == peer_id) {
			memmove(&r->peers[i], &r->peers[i + 1],
			    (r->npeers - i - 1) * sizeof(r->peers[0]));
			r->npeers--;
			return 0;
		}
	}
	log_setreason("region %" PRIu64 " has no peer %" PRIu64, r->id,
	    peer_id);
	return -1;
}

int
region_epoch_stale(struct region_epoch a, struct region_epoch b)
{
	return a.conf_ver < b.conf_ver || a.version < b.version;
}

int
region_epoch_eq(struct region_epoch a, struct region_epoch b)
{
	return a.conf_ver == b.conf_ver && a.version == b.version;
}

const char *
region_role_name(enum region_role role)
{
	switch (role) {
	case REGION_VOTER:
		return "voter";
	case REGION_LEARNER:
		return "learner";
	case REGION_INCOMING_VOTER:
		return "incoming-voter";
	case REGION_DEMOTING_VOTER:
		return "demoting-voter";
	}
	return "unknown";
}

void
region_format(const struct region *r, struct buf *b)
{
	size_t i;

	proto_add_u64(b, r->id);
	proto_add_token(b, r->start.data, r->start.len);
	proto_add_token(b, r->end.data, r->end.len);
	proto_add_u64(b, r->epoch.conf_ver);
	proto_add_u64(b, r->epoch.version);
	buf_addc(b, ' ');
	for (i = 0; i < r->npeers; i++)
		buf_printf(b, "%s%" PRIu64 ":%" PRIu64 ":%c", i ? "," : "",
		    r->peers[i].id, r->peers[i].store_id,
		    region_role_letters[r->peers[i].role]);
	if (r->npeers == 0)
		buf_addstr(b, "\"\"");
}

/* A decimal u64 at *p, up to a separator; advances *p. */
static int
parse_u64(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t x = 0;

	if (q == end || *q < '0' || *q > '9')
		return -1;
	while (q < end && *q >= '0' && *q <= '9') {
		if (x > (UINT64_MAX - (*q - '0')) / 10)
			return -1;
		x = x * 10 + (*q++ - '0');
	}
	*v = x;
	*p = q;
	return 0;
}

static int
parse_peers(struct bytes t, struct region *r)
{
	const uint8_t *p = t.ptr, *end = t.ptr + t.len;
	const char *role;
	uint64_t id, store;

	r->npeers = 0;
	while (p < end) {
		if (parse_u64(&p, end, &id) == -1 || p == end || *p++ != ':' ||
		    parse_u64(&p, end, &store) == -1 || p == end ||
		    *p++ != ':' || p == end ||
		    (role = memchr(region_role_letters, *p,
		    sizeof(region_role_letters) - 1)) == NULL)
			goto bad;
		p++;
		if (region_add_peer(r, id, store,
		    (enum region_role)(role - region_role_letters)) == -1)
			return -1;
		if (p < end && *p++ != ',')
			goto bad;
	}
	return 0;
bad:
	log_setreason("bad peer list at byte %zu", (size_t)(p - t.ptr) + 1);
	return -1;
}

int
region_parse(const struct bytes *argv, size_t argc, struct region *r)
{
	if (argc < REGION_WIRE_TOKENS) {
		log_setreason("a region needs %d tokens, got %zu",
		    REGION_WIRE_TOKENS, argc);
		return -1;
	}
	if (proto_bytes_u64(argv[0], &r->id) == -1 || r->id == 0 ||
	    proto_bytes_u64(argv[3], &r->epoch.conf_ver) == -1 ||
	    proto_bytes_u64(argv[4], &r->epoch.version) == -1) {
		log_setreason("bad region id or epoch");
		return -1;
	}
	buf_reset(&r->start);
	buf_reset(&r->end);
	buf_add(&r->start, argv[1].ptr, argv[1].len);
	buf_add(&r->end, argv[2].ptr, argv[2].len);
	if (r->end.len && bytes_cmp(buf_bytes(&r->start),
	    buf_bytes(&r->end)) >= 0) {
		log_setreason("region %" PRIu64 " has start >= end", r->id);
		return -1;
	}
	return parse_peers(argv[5], r);
}

void
region_encode(const struct region *r, struct buf *b)
{
	size_t i;

	codec_add_varint(b, REGION_ENCODING_VERSION);
	codec_add_varint(b, r->id);
	codec_add_lenbytes(b, r->start.data, r->start.len);
	codec_add_lenbytes(b, r->end.data, r->end.len);
	codec_add_varint(b, r->epoch.conf_ver);
	codec_add_varint(b, r->epoch.version);
	codec_add_varint(b, r->npeers);
	for (i = 0; i < r->npeers; i++) {
		codec_add_varint(b, r->peers[i].id);
		codec_add_varint(b, r->peers[i].store_id);
		codec_add_varint(b, r->peers[i].role);
	}
}

int
region_decode(const uint8_t *data, size_t len, struct region *r)
{
	const uint8_t *p = data, *end = data + len;
	struct bytes s, e;
	uint64_t ver, n, role, i;

	if (codec_read_varint(&p, end, &ver) == -1 ||
	    ver != REGION_ENCODING_VERSION ||
	    codec_read_varint(&p, end, &r->id) == -1 ||
	    codec_read_lenbytes(&p, end, &s) == -1 ||
	    codec_read_lenbytes(&p, end, &e) == -1 ||
	    codec_read_varint(&p, end, &r->epoch.conf_ver) == -1 ||
	    codec_read_varint(&p, end, &r->epoch.version) == -1 ||
	    codec_read_varint(&p, end, &n) == -1 || n > REGION_MAX_PEERS)
		goto bad;
	r->npeers = (size_t)n;
	for (i = 0; i < n; i++) {
		if (codec_read_varint(&p, end, &r->peers[i].id) == -1 ||
		    codec_read_varint(&p, end, &r->peers[i].store_id) == -1 ||
		    codec_read_varint(&p, end, &role) == -1 ||
		    role > REGION_DEMOTING_VOTER)
			goto bad;
		r->peers[i].role = (enum region_role)role;
	}
	if (p != end)
		goto bad;
	buf_reset(&r->start);
	buf_reset(&r->end);
	buf_add(&r->start, s.ptr, s.len);
	buf_add(&r->end, e.ptr, e.len);
	return 0;
bad:
	log_setreason("malformed region record");
	return -1;
}
