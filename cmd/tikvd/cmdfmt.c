/*
 * The encoding of a struct cmd (cmdfmt.h):
 *
 *	cmd	version:1 kind:1 region_id epoch.conf_ver epoch.version now_ms
 *		body
 *	WRITE	nops op...
 *	op	type:1 flags:1 fields
 *		PUT		key value ttl
 *		DELETE		key
 *		DELETE_RANGE	key end
 *		CAS		key [expect] [value] ttl (expect unless
 *				EXPECT_ABSENT, value unless CAS_DELETE)
 *		GET, GET_TTL	key
 *		BATCH_GET	nkeys key...
 *		SCAN		key end limit
 *		CHECKSUM	key end
 *		TXN_PUT, TXN_INSERT	key value
 *		TXN_DELETE, TXN_LOCK, TXN_KEY, TXN_GET	key
 *		TXN_BATCH_GET	nkeys key...
 *		TXN_SCAN	key end limit
 *	TXN	action:1 flags:1 start_ts commit_ts ttl_ms primary nops op...
 *	SPLIT	split_key new_region_id n_new_peers peer_id...
 *	NOOP	(nothing)
 *
 * Numbers are varints, byte strings a varint length and the bytes.  Read
 * ops encode (so a read has a size) but never decode: a log entry holds
 * writes and admin cmds only.
 */
#include <stdlib.h>
#include <string.h>

#include "cmdfmt.h"
#include "codec.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define CMDFMT_VERSION		1
#define CMDFMT_CC_VERSION	1

/* The flags each op type may carry. */
static int
op_flags_allowed(int type)
{
	switch (type) {
	case CMD_OP_DELETE:
		return CMD_F_IF_EXPIRED;
	case CMD_OP_CAS:
		return CMD_F_EXPECT_ABSENT | CMD_F_CAS_DELETE;
	case CMD_OP_SCAN:
		return CMD_F_KEY_ONLY | CMD_F_REVERSE;
	case CMD_OP_TXN_SCAN:
		return CMD_F_KEY_ONLY;
	default:
		return 0;
	}
}

/* The op types a log entry of kind may hold. */
static int
op_fits(int kind, int type)
{
	if (kind == CMD_TXN)
		return type >= CMD_OP_TXN_PUT && type <= CMD_OP_TXN_KEY;
	return type >= CMD_OP_PUT && type <= CMD_OP_CAS;
}

static void
op_clear(struct cmd_op *op)
{
	size_t i;

	buf_reset(&op->key);
	buf_reset(&op->end);
	buf_reset(&op->value);
	buf_reset(&op->expect);
	for (i = 0; i < op->nkeys; i++)
		buf_free(&op->keys[i]);
	free(op->keys);
	op->keys = NULL;
	op->nkeys = 0;
	op->type = 0;
	op->flags = 0;
	op->ttl = 0;
	op->limit = 0;
}

void
cmd_init(struct cmd *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->split_key);
	buf_init(&c->txn.primary);
}

void
cmd_free(struct cmd *c)
{
	size_t i;

	for (i = 0; i < c->capops; i++) {
		op_clear(&c->ops[i]);
		buf_free(&c->ops[i].key);
		buf_free(&c->ops[i].end);
		buf_free(&c->ops[i].value);
		buf_free(&c->ops[i].expect);
	}
	free(c->ops);
	buf_free(&c->split_key);
	buf_free(&c->txn.primary);
	cmd_init(c);
}

void
cmd_reset(struct cmd *c)
{
	size_t i;

	/* Ops past nops keep their (empty) buffers for the next use. */
	for (i = 0; i < c->nops; i++)
		op_clear(&c->ops[i]);
	c->nops = 0;
	c->kind = 0;
	c->region_id = 0;
	c->epoch.conf_ver = 0;
	c->epoch.version = 0;
	c->now_ms = 0;
	buf_reset(&c->split_key);
	c->new_region_id = 0;
	memset(c->new_peer_ids, 0, sizeof(c->new_peer_ids));
	c->n_new_peers = 0;
	c->txn.action = 0;
	c->txn.flags = 0;
	c->txn.start_ts = 0;
	c->txn.commit_ts = 0;
	c->txn.ttl_ms = 0;
	buf_reset(&c->txn.primary);
}

struct cmd_op *
cmd_add_op(struct cmd *c, int t)
{
	struct cmd_op *op;

	if (c->nops == c->capops) {
		size_t n = c->capops ? c->capops * 2 : 4;

		c->ops = xreallocarray(c->ops, n, sizeof(*c->ops));
		memset(c->ops + c->capops, 0,
		    (n - c->capops) * sizeof(*c->ops));
		c->capops = n;
	}
	op = &c->ops[c->nops++];
	op_clear(op);
	op->type = t;
	return op;
}

void
cmd_op_add_key(struct cmd_op *op, const void *key, size_t len)
{
	size_t n = op->nkeys;

	/* Grow at 0 and at every power of two: amortized doubling. */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0))
		op->keys = xreallocarray(op->keys, n ? n * 2 : 4,
		    sizeof(*op->keys));
	buf_init(&op->keys[n]);
	buf_add(&op->keys[n], key, len);
	op->nkeys = n + 1;
}

/* Op types that name one key (the rest: ranges, key lists). */
static int
op_has_point_key(int type)
{
	switch (type) {
	case CMD_OP_PUT:
	case CMD_OP_DELETE:
	case CMD_OP_CAS:
	case CMD_OP_GET:
	case CMD_OP_GET_TTL:
	case CMD_OP_TXN_PUT:
	case CMD_OP_TXN_INSERT:
	case CMD_OP_TXN_DELETE:
	case CMD_OP_TXN_LOCK:
	case CMD_OP_TXN_KEY:
	case CMD_OP_TXN_GET:
		return 1;
	}
	return 0;
}

const struct buf *
cmd_key_outside(const struct region *r, const struct cmd *c)
{
	const struct cmd_op *op;
	size_t i, k;

	for (i = 0; i < c->nops; i++) {
		op = &c->ops[i];
		if (op_has_point_key(op->type) &&
		    !region_contains(r, op->key.data, op->key.len))
			return &op->key;
		if (op->type == CMD_OP_BATCH_GET ||
		    op->type == CMD_OP_TXN_BATCH_GET)
			for (k = 0; k < op->nkeys; k++)
				if (!region_contains(r, op->keys[k].data,
				    op->keys[k].len))
					return &op->keys[k];
	}
	return NULL;
}

void
cmd_reply_key_not_in_region(struct buf *reply, const struct region *r,
    const struct buf *key)
{
	buf_addstr(reply, proto_word_name(PROTO_KEY_NOT_IN_REGION));
	proto_add_token(reply, key->data, key->len);
	proto_add_u64(reply, r->id);
	proto_add_token(reply, r->start.data, r->start.len);
	proto_add_token(reply, r->end.data, r->end.len);
	proto_end_line(reply);
}

static void
put_lenbytes(struct buf *b, const struct buf *s)
{
	codec_add_lenbytes(b, s->data, s->len);
}

static size_t
lenbytes_size(size_t len)
{
	return codec_varint_len(len) + len;
}

/* The fields of op after type and flags, or their size when b is NULL. */
static size_t
op_fields(const struct cmd_op *op, struct buf *b)
{
	size_t n = 0, i;

#define LB(s) do {							\
	n += lenbytes_size((s)->len);					\
	if (b)								\
		put_lenbytes(b, (s));					\
} while (0)
#define VI(v) do {							\
	n += codec_varint_len(v);					\
	if (b)								\
		codec_add_varint(b, (v));				\
} while (0)

	switch (op->type) {
	case CMD_OP_PUT:
		LB(&op->key);
		LB(&op->value);
		VI(op->ttl);
		break;
	case CMD_OP_TXN_PUT:
	case CMD_OP_TXN_INSERT:
		LB(&op->key);
		LB(&op->value);
		break;
	case CMD_OP_DELETE:
	case CMD_OP_GET:
	case CMD_OP_GET_TTL:
	case CMD_OP_TXN_DELETE:
	case CMD_OP_TXN_LOCK:
	case CMD_OP_TXN_KEY:
	case CMD_OP_TXN_GET:
		LB(&op->key);
		break;
	case CMD_OP_DELETE_RANGE:
	case CMD_OP_CHECKSUM:
		LB(&op->key);
		LB(&op->end);
		break;
	case CMD_OP_CAS:
		LB(&op->key);
		if (!(op->flags & CMD_F_EXPECT_ABSENT))
			LB(&op->expect);
		if (!(op->flags & CMD_F_CAS_DELETE))
			LB(&op->value);
		VI(op->ttl);
		break;
	case CMD_OP_BATCH_GET:
	case CMD_OP_TXN_BATCH_GET:
		VI(op->nkeys);
		for (i = 0; i < op->nkeys; i++)
			LB(&op->keys[i]);
		break;
	case CMD_OP_SCAN:
	case CMD_OP_TXN_SCAN:
		LB(&op->key);
		LB(&op->end);
		VI(op->limit);
		break;
	}
#undef LB
#undef VI
	return n;
}

/* The whole encoding, or its size when b is NULL. */
static size_t
encode(const struct cmd *c, struct buf *b)
{
	size_t n, i, np;

	n = 2 + codec_varint_len(c->region_id) +
	    codec_varint_len(c->epoch.conf_ver) +
	    codec_varint_len(c->epoch.version) + codec_varint_len(c->now_ms);
	if (b) {
		buf_addc(b, CMDFMT_VERSION);
		buf_addc(b, (uint8_t)c->kind);
		codec_add_varint(b, c->region_id);
		codec_add_varint(b, c->epoch.conf_ver);
		codec_add_varint(b, c->epoch.version);
		codec_add_varint(b, c->now_ms);
	}
	if (c->kind == CMD_TXN) {
		n += 2 + codec_varint_len(c->txn.start_ts) +
		    codec_varint_len(c->txn.commit_ts) +
		    codec_varint_len(c->txn.ttl_ms) +
		    lenbytes_size(c->txn.primary.len);
		if (b) {
			buf_addc(b, (uint8_t)c->txn.action);
			buf_addc(b, (uint8_t)c->txn.flags);
			codec_add_varint(b, c->txn.start_ts);
			codec_add_varint(b, c->txn.commit_ts);
			codec_add_varint(b, c->txn.ttl_ms);
			put_lenbytes(b, &c->txn.primary);
		}
	}
	switch (c->kind) {
	case CMD_WRITE:
	case CMD_READ:
	case CMD_TXN:
		n += codec_varint_len(c->nops);
		if (b)
			codec_add_varint(b, c->nops);
		for (i = 0; i < c->nops; i++) {
			n += 2;
			if (b) {
				buf_addc(b, (uint8_t)c->ops[i].type);
				buf_addc(b, (uint8_t)c->ops[i].flags);
			}
			n += op_fields(&c->ops[i], b);
		}
		break;
	case CMD_SPLIT:
		np = c->n_new_peers < REGION_MAX_PEERS ? c->n_new_peers :
		    REGION_MAX_PEERS;
		n += lenbytes_size(c->split_key.len) +
		    codec_varint_len(c->new_region_id) + codec_varint_len(np);
		if (b) {
			put_lenbytes(b, &c->split_key);
			codec_add_varint(b, c->new_region_id);
			codec_add_varint(b, np);
		}
		for (i = 0; i < np; i++) {
			n += codec_varint_len(c->new_peer_ids[i]);
			if (b)
				codec_add_varint(b, c->new_peer_ids[i]);
		}
		break;
	}
	return n;
}

void
cmd_encode(const struct cmd *c, struct buf *b)
{
	encode(c, b);
}

size_t
cmd_encoded_size(const struct cmd *c)
{
	return encode(c, NULL);
}

static int
read_buf(const uint8_t **p, const uint8_t *end, struct buf *out)
{
	struct bytes b;

	if (codec_read_lenbytes(p, end, &b) == -1)
		return -1;
	buf_reset(out);
	buf_add(out, b.ptr, b.len);
	return 0;
}

static int
decode_op(const uint8_t **p, const uint8_t *end, struct cmd *c, size_t i)
{
	struct cmd_op *op;
	int type, flags;

	if (end - *p < 2) {
		log_setreason("cmd: op %zu truncated", i);
		return -1;
	}
	type = (*p)[0];
	flags = (*p)[1];
	*p += 2;
	if (!op_fits(c->kind, type)) {
		log_setreason("cmd: op %zu has type %d, not a write of kind "
		    "%d", i, type, c->kind);
		return -1;
	}
	if (flags & ~op_flags_allowed(type)) {
		log_setreason("cmd: op %zu (type %d) has bad flags 0x%02x", i,
		    type, flags);
		return -1;
	}
	op = cmd_add_op(c, type);
	op->flags = flags;
	switch (type) {
	case CMD_OP_PUT:
		if (read_buf(p, end, &op->key) == -1 ||
		    read_buf(p, end, &op->value) == -1 ||
		    codec_read_varint(p, end, &op->ttl) == -1)
			goto trunc;
		break;
	case CMD_OP_TXN_PUT:
	case CMD_OP_TXN_INSERT:
		if (read_buf(p, end, &op->key) == -1 ||
		    read_buf(p, end, &op->value) == -1)
			goto trunc;
		break;
	case CMD_OP_DELETE:
	case CMD_OP_TXN_DELETE:
	case CMD_OP_TXN_LOCK:
	case CMD_OP_TXN_KEY:
		if (read_buf(p, end, &op->key) == -1)
			goto trunc;
		break;
	case CMD_OP_DELETE_RANGE:
		if (read_buf(p, end, &op->key) == -1 ||
		    read_buf(p, end, &op->end) == -1)
			goto trunc;
		break;
	case CMD_OP_CAS:
		if (read_buf(p, end, &op->key) == -1 ||
		    (!(flags & CMD_F_EXPECT_ABSENT) &&
		    read_buf(p, end, &op->expect) == -1) ||
		    (!(flags & CMD_F_CAS_DELETE) &&
		    read_buf(p, end, &op->value) == -1) ||
		    codec_read_varint(p, end, &op->ttl) == -1)
			goto trunc;
		break;
	}
	return 0;
trunc:
	log_setreason("cmd: op %zu (type %d) truncated", i, type);
	return -1;
}

int
cmd_decode(const uint8_t *data, size_t len, struct cmd *c)
{
	const uint8_t *p = data, *end = data + len;
	uint64_t n, i;

	cmd_reset(c);
	if (len < 2) {
		log_setreason("cmd: %zu bytes, too short", len);
		return -1;
	}
	if (p[0] != CMDFMT_VERSION) {
		log_setreason("cmd: unknown format version %u", p[0]);
		return -1;
	}
	c->kind = p[1];
	p += 2;
	if (c->kind != CMD_WRITE && c->kind != CMD_SPLIT &&
	    c->kind != CMD_NOOP && c->kind != CMD_TXN) {
		log_setreason("cmd: kind %d cannot be in a log entry",
		    c->kind);
		goto fail;
	}
	if (codec_read_varint(&p, end, &c->region_id) == -1 ||
	    codec_read_varint(&p, end, &c->epoch.conf_ver) == -1 ||
	    codec_read_varint(&p, end, &c->epoch.version) == -1 ||
	    codec_read_varint(&p, end, &c->now_ms) == -1) {
		log_setreason("cmd: header truncated");
		goto fail;
	}
	if (c->kind == CMD_TXN) {
		if (end - p < 2) {
			log_setreason("cmd: txn header truncated");
			goto fail;
		}
		c->txn.action = p[0];
		c->txn.flags = p[1];
		p += 2;
		if (c->txn.action < CMD_TXN_PREWRITE ||
		    c->txn.action > CMD_TXN_HEARTBEAT ||
		    (c->txn.flags & ~CMD_TXN_F_ROLLBACK_IF_MISSING)) {
			log_setreason("cmd: txn action %d flags 0x%02x",
			    c->txn.action, c->txn.flags);
			goto fail;
		}
		if (codec_read_varint(&p, end, &c->txn.start_ts) == -1 ||
		    codec_read_varint(&p, end, &c->txn.commit_ts) == -1 ||
		    codec_read_varint(&p, end, &c->txn.ttl_ms) == -1 ||
		    read_buf(&p, end, &c->txn.primary) == -1) {
			log_setreason("cmd: txn header truncated");
			goto fail;
		}
	}
	switch (c->kind) {
	case CMD_WRITE:
	case CMD_TXN:
		if (codec_read_varint(&p, end, &n) == -1) {
			log_setreason("cmd: op count truncated");
			goto fail;
		}
		/* Each op takes at least 3 bytes: no huge allocations. */
		if (n > (uint64_t)(end - p) / 3) {
			log_setreason("cmd: %llu ops in %zu bytes",
			    (unsigned long long)n, (size_t)(end - p));
			goto fail;
		}
		for (i = 0; i < n; i++)
			if (decode_op(&p, end, c, (size_t)i) == -1)
				goto fail;
		break;
	case CMD_SPLIT:
		if (read_buf(&p, end, &c->split_key) == -1 ||
		    codec_read_varint(&p, end, &c->new_region_id) == -1 ||
		    codec_read_varint(&p, end, &n) == -1) {
			log_setreason("cmd: split truncated");
			goto fail;
		}
		if (n > REGION_MAX_PEERS) {
			log_setreason("cmd: split with %llu peers (max %d)",
			    (unsigned long long)n, REGION_MAX_PEERS);
			goto fail;
		}
		c->n_new_peers = (size_t)n;
		for (i = 0; i < n; i++)
			if (codec_read_varint(&p, end,
			    &c->new_peer_ids[i]) == -1) {
				log_setreason("cmd: split peers truncated");
				goto fail;
			}
		break;
	case CMD_NOOP:
		break;
	}
	if (p != end) {
		log_setreason("cmd: %zu bytes of trailing garbage",
		    (size_t)(end - p));
		goto fail;
	}
	return 0;
fail:
	cmd_reset(c);
	return -1;
}

void
cmd_encode_cc_ctx(struct buf *b, const uint64_t *store_ids, size_t n)
{
	size_t i;

	buf_addc(b, CMDFMT_CC_VERSION);
	codec_add_varint(b, n);
	for (i = 0; i < n; i++)
		codec_add_varint(b, store_ids[i]);
}

int
cmd_decode_cc_ctx(const uint8_t *data, size_t len, uint64_t *store_ids,
    size_t max, size_t *n)
{
	const uint8_t *p = data, *end = data + len;
	uint64_t cnt, i;

	*n = 0;
	/* Raft's own entry that leaves a joint config has no context. */
	if (len == 0)
		return 0;
	if (p[0] != CMDFMT_CC_VERSION) {
		log_setreason("conf change context: unknown version %u", p[0]);
		return -1;
	}
	p++;
	if (codec_read_varint(&p, end, &cnt) == -1) {
		log_setreason("conf change context: truncated");
		return -1;
	}
	if (cnt > max) {
		log_setreason("conf change context: %llu stores (max %zu)",
		    (unsigned long long)cnt, max);
		return -1;
	}
	for (i = 0; i < cnt; i++)
		if (codec_read_varint(&p, end, &store_ids[i]) == -1) {
			log_setreason("conf change context: truncated");
			return -1;
		}
	if (p != end) {
		log_setreason("conf change context: %zu bytes of trailing "
		    "garbage", (size_t)(end - p));
		return -1;
	}
	*n = (size_t)cnt;
	return 0;
}
