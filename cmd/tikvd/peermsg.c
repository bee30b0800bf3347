/*
 * The envelope of a Raft message between stores (struct peer_msg): the
 * codec alone, apart from the transport's threads, so a unit test links
 * it without the raftstore.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "log.h"
#include "raftwire.h"
#include "transport.h"

#define PEER_MSG_VERSION	1

void
peer_msg_init(struct peer_msg *pm)
{
	memset(pm, 0, sizeof(*pm));
	buf_init(&pm->start);
	buf_init(&pm->end);
	buf_init(&pm->raw);
}

void
peer_msg_free(struct peer_msg *pm)
{
	raftwire_msg_free(&pm->msg);
	buf_free(&pm->start);
	buf_free(&pm->end);
	buf_free(&pm->raw);
	peer_msg_init(pm);
}

void
peer_msg_encode(struct buf *b, uint64_t region_id, uint64_t from_store,
    uint64_t to_store, const struct region *r, const struct raft_msg *m)
{
	struct buf wire = BUF_INIT;

	buf_addc(b, PEER_MSG_VERSION);
	codec_add_varint(b, region_id);
	codec_add_varint(b, from_store);
	codec_add_varint(b, to_store);
	if (r != NULL) {
		codec_add_varint(b, r->epoch.conf_ver);
		codec_add_varint(b, r->epoch.version);
		codec_add_lenbytes(b, r->start.data, r->start.len);
		codec_add_lenbytes(b, r->end.data, r->end.len);
	} else {
		codec_add_varint(b, 0);
		codec_add_varint(b, 0);
		codec_add_lenbytes(b, NULL, 0);
		codec_add_lenbytes(b, NULL, 0);
	}
	raftwire_encode_msg(&wire, m);
	codec_add_lenbytes(b, wire.data, wire.len);
	buf_free(&wire);
}

static int
bad(struct peer_msg *pm, const char *what)
{
	peer_msg_free(pm);
	log_setreason("raft envelope: %s", what);
	return -1;
}

int
peer_msg_decode(const uint8_t **p, const uint8_t *end, struct peer_msg *pm)
{
	const uint8_t *q = *p;
	struct bytes start, stop, wire;

	peer_msg_init(pm);
	if (q >= end)
		return bad(pm, "empty");
	if (*q++ != PEER_MSG_VERSION)
		return bad(pm, "unknown version");
	if (codec_read_varint(&q, end, &pm->region_id) == -1 ||
	    codec_read_varint(&q, end, &pm->from_store) == -1 ||
	    codec_read_varint(&q, end, &pm->to_store) == -1 ||
	    codec_read_varint(&q, end, &pm->epoch.conf_ver) == -1 ||
	    codec_read_varint(&q, end, &pm->epoch.version) == -1 ||
	    codec_read_lenbytes(&q, end, &start) == -1 ||
	    codec_read_lenbytes(&q, end, &stop) == -1 ||
	    codec_read_lenbytes(&q, end, &wire) == -1)
		return bad(pm, "truncated");
	if (pm->region_id == 0 || pm->from_store == 0 || pm->to_store == 0)
		return bad(pm, "region or store id 0");
	/* The message points into raw, which the peer_msg owns. */
	buf_add(&pm->raw, wire.ptr, wire.len);
	if (raftwire_decode_msg(pm->raw.data, pm->raw.len, &pm->msg) == -1) {
		char why[256];

		strlcpy(why, log_reason(), sizeof(why));
		return bad(pm, why);
	}
	if (pm->msg.from == 0 || pm->msg.to == 0)
		return bad(pm, "message without its peers");
	pm->from_peer = pm->msg.from;
	pm->to_peer = pm->msg.to;
	buf_add(&pm->start, start.ptr, start.len);
	buf_add(&pm->end, stop.ptr, stop.len);
	*p = q;
	return 0;
}
