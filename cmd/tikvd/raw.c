/*
 * The raw API as a state machine over KV_CF_RAW (raw.h).
 *
 * Everything here is deterministic in its inputs: the KV state, the
 * region, the cmd and the now_ms it is given, so every replica applying
 * the same log computes the same state.  Reads and writes both run on the
 * apply thread, the only writer of KV_CF_RAW, so a read sees one state
 * without holding writers off.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmdfmt.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
#include "proto.h"
#include "raw.h"
#include "region.h"

/* A stored value, decoded; v points into the stored bytes. */
struct raw_val {
	int has_ttl;
	uint64_t expiry;	/* ms since the epoch */
	struct bytes v;
};

#define RAW_HDR_MAX	(1 + 8)
#define RAW_HASH_BYTES	8

static uint64_t
expiry_of(uint64_t now_ms, uint64_t ttl)
{
	if (ttl > (UINT64_MAX - now_ms) / 1000)
		return UINT64_MAX;
	return now_ms + ttl * 1000;
}

static void
val_encode(struct buf *out, const struct buf *v, uint64_t ttl,
    uint64_t now_ms)
{
	buf_reset(out);
	buf_grow(out, RAW_HDR_MAX + v->len);
	if (ttl) {
		buf_addc(out, RAW_F_TTL);
		codec_add_u64be(out, expiry_of(now_ms, ttl));
	} else {
		buf_addc(out, 0);
	}
	buf_add(out, v->data, v->len);
}

/* -1 for bytes no version of this file wrote. */
static int
val_decode(struct bytes s, struct raw_val *rv)
{
	const uint8_t *p = s.ptr, *end = s.ptr + s.len;
	uint8_t flags;

	if (s.len < 1)
		return -1;
	flags = *p++;
	if (flags & ~RAW_F_TTL)
		return -1;
	rv->has_ttl = (flags & RAW_F_TTL) != 0;
	rv->expiry = 0;
	if (rv->has_ttl && codec_read_u64be(&p, end, &rv->expiry) == -1)
		return -1;
	rv->v.ptr = p;
	rv->v.len = (size_t)(end - p);
	return 0;
}

/* Whether a stored value is there for a reader at now_ms. */
static int
val_live(struct bytes s, uint64_t now_ms, struct raw_val *rv)
{
	if (val_decode(s, rv) == -1)
		return 0;
	return !rv->has_ttl || rv->expiry > now_ms;
}

/*
 * The live value of key at now_ms: 1 (rv points into *scratch), 0 when
 * absent or expired, -1 on a KV error.
 */
static int
get_live(struct kv *kv, const void *key, size_t len, uint64_t now_ms,
    struct buf *scratch, struct raw_val *rv)
{
	int r;

	r = kv_get(kv, KV_CF_RAW, key, len, scratch);
	if (r != 1)
		return r;
	return val_live(buf_bytes(scratch), now_ms, rv);
}

static struct bytes
bytes_of(const struct buf *b)
{
	return buf_bytes(b);
}

int
raw_needs_flush(const struct cmd *c)
{
	size_t i;

	if (c->kind != CMD_WRITE)
		return 0;
	for (i = 0; i < c->nops; i++)
		if (c->ops[i].type == CMD_OP_CAS ||
		    (c->ops[i].type == CMD_OP_DELETE &&
		    (c->ops[i].flags & CMD_F_IF_EXPIRED)))
			return 1;
	return 0;
}

/*
 * A CAS against the committed state (the caller flushed earlier writes;
 * a write cmd holds at most one CAS and nothing else, as service builds
 * it).  Its reply line goes to line.
 */
static int
apply_cas(struct kv *kv, const struct cmd *c, const struct cmd_op *op,
    struct kv_batch *batch, struct buf *line)
{
	struct buf cur = BUF_INIT, enc = BUF_INIT;
	struct raw_val rv;
	int live, ok;

	live = get_live(kv, op->key.data, op->key.len, c->now_ms, &cur, &rv);
	if (live == -1) {
		buf_free(&cur);
		return -1;
	}
	if (op->flags & CMD_F_EXPECT_ABSENT)
		ok = !live;
	else
		ok = live && bytes_eq(rv.v, bytes_of(&op->expect));
	if (ok) {
		if (op->flags & CMD_F_CAS_DELETE) {
			kv_batch_delete(batch, KV_CF_RAW, op->key.data,
			    op->key.len);
		} else {
			val_encode(&enc, &op->value, op->ttl, c->now_ms);
			kv_batch_put(batch, KV_CF_RAW, op->key.data,
			    op->key.len, enc.data, enc.len);
		}
	}
	buf_reset(line);
	buf_addstr(line, proto_word_name(PROTO_OK));
	proto_add_str(line, ok ? "SWAPPED" : "FAILED");
	if (live) {
		proto_add_str(line, proto_word_name(PROTO_VALUE));
		proto_add_token(line, rv.v.ptr, rv.v.len);
	} else {
		proto_add_str(line, "ABSENT");
	}
	proto_end_line(line);
	buf_free(&cur);
	buf_free(&enc);
	return 0;
}

/* An IF_EXPIRED delete: only a value whose TTL ran out by the cmd's now. */
static int
apply_delete_expired(struct kv *kv, const struct cmd *c,
    const struct cmd_op *op, struct kv_batch *batch)
{
	struct buf cur = BUF_INIT;
	struct raw_val rv;
	int r;

	r = kv_get(kv, KV_CF_RAW, op->key.data, op->key.len, &cur);
	if (r == 1 && val_decode(buf_bytes(&cur), &rv) == 0 && rv.has_ttl &&
	    rv.expiry <= c->now_ms)
		kv_batch_delete(batch, KV_CF_RAW, op->key.data, op->key.len);
	buf_free(&cur);
	return r == -1 ? -1 : 0;
}

int
raw_apply(struct kv *kv, const struct region *r, const struct cmd *c,
    struct kv_batch *batch, struct buf *reply)
{
	struct buf enc = BUF_INIT, line = BUF_INIT;
	const struct buf *bad;
	const struct cmd_op *op;
	struct bytes lo, hi;
	size_t i;
	int rc = 0;

	if (c->kind != CMD_WRITE) {
		proto_reply_error(reply, PROTO_SERVER_ERROR,
		    "raw_apply: cmd of kind %d is not a write", c->kind);
		return 0;
	}
	/* A write outside the region would land in another region's data:
	 * refuse the whole cmd (every replica decides the same). */
	if ((bad = cmd_key_outside(r, c)) != NULL) {
		cmd_reply_key_not_in_region(reply, r, bad);
		return 0;
	}
	for (i = 0; i < c->nops && rc == 0; i++) {
		op = &c->ops[i];
		switch (op->type) {
		case CMD_OP_PUT:
			val_encode(&enc, &op->value, op->ttl, c->now_ms);
			kv_batch_put(batch, KV_CF_RAW, op->key.data,
			    op->key.len, enc.data, enc.len);
			break;
		case CMD_OP_DELETE:
			if (op->flags & CMD_F_IF_EXPIRED)
				rc = apply_delete_expired(kv, c, op, batch);
			else
				kv_batch_delete(batch, KV_CF_RAW,
				    op->key.data, op->key.len);
			break;
		case CMD_OP_DELETE_RANGE:
			if (region_clamp(r, bytes_of(&op->key), bytes_of(&op->end),
			    &lo, &hi))
				kv_batch_delete_range(batch, KV_CF_RAW,
				    lo.ptr, lo.len, hi.ptr, hi.len);
			break;
		case CMD_OP_CAS:
			rc = apply_cas(kv, c, op, batch, &line);
			break;
		default:
			/* cmd_decode lets no other op into a write. */
			break;
		}
	}
	if (rc == 0) {
		if (line.len)
			buf_add(reply, line.data, line.len);
		else
			proto_reply_ok(reply);
	}
	buf_free(&enc);
	buf_free(&line);
	return rc;
}

static int
read_get(struct kv *kv, const struct cmd_op *op, uint64_t now_ms,
    struct buf *reply)
{
	struct buf cur = BUF_INIT;
	struct raw_val rv;
	int r;

	r = get_live(kv, op->key.data, op->key.len, now_ms, &cur, &rv);
	if (r == 1) {
		if (op->type == CMD_OP_GET) {
			proto_reply_value(reply, rv.v.ptr, rv.v.len);
		} else {
			/* GET_TTL: seconds left, rounded up; 0 for none. */
			uint64_t left = rv.has_ttl ?
			    (rv.expiry - now_ms + 999) / 1000 : 0;

			buf_addstr(reply, proto_word_name(PROTO_VALUE));
			proto_add_u64(reply, left);
			proto_end_line(reply);
		}
	} else if (r == 0) {
		proto_reply_word(reply, PROTO_NOT_FOUND);
	}
	buf_free(&cur);
	return r == -1 ? -1 : 0;
}

static int
read_batch_get(struct kv *kv, const struct cmd_op *op, uint64_t now_ms,
    struct buf *reply)
{
	struct buf cur = BUF_INIT;
	struct raw_val rv;
	size_t i;
	int r = 0;

	for (i = 0; i < op->nkeys; i++) {
		r = get_live(kv, op->keys[i].data, op->keys[i].len, now_ms,
		    &cur, &rv);
		if (r == -1)
			break;
		if (r == 1) {
			buf_addstr(reply, proto_word_name(PROTO_VALUE));
			proto_add_token(reply, op->keys[i].data,
			    op->keys[i].len);
			proto_add_token(reply, rv.v.ptr, rv.v.len);
			proto_end_line(reply);
		}
	}
	if (r != -1)
		proto_reply_word(reply, PROTO_END);
	buf_free(&cur);
	return r == -1 ? -1 : 0;
}

static int
read_scan(struct kv *kv, const struct region *reg, const struct cmd_op *op,
    uint64_t now_ms, struct buf *reply)
{
	struct kv_iter *it;
	struct bytes lo, hi, k;
	struct raw_val rv;
	uint64_t n = 0;
	int rev = (op->flags & CMD_F_REVERSE) != 0, r;

	if (op->limit == 0 || !region_clamp(reg, bytes_of(&op->key),
	    bytes_of(&op->end), &lo, &hi)) {
		proto_reply_word(reply, PROTO_END);
		return 0;
	}
	it = kv_iter_new(kv, KV_CF_RAW, lo.ptr, lo.len, hi.ptr, hi.len);
	for (r = rev ? kv_iter_last(it) : kv_iter_first(it); r == 1;
	    r = rev ? kv_iter_prev(it) : kv_iter_next(it)) {
		if (!val_live(kv_iter_value(it), now_ms, &rv))
			continue;
		k = kv_iter_key(it);
		buf_addstr(reply, proto_word_name(PROTO_VALUE));
		proto_add_token(reply, k.ptr, k.len);
		if (!(op->flags & CMD_F_KEY_ONLY))
			proto_add_token(reply, rv.v.ptr, rv.v.len);
		proto_end_line(reply);
		if (++n == op->limit)
			break;
	}
	kv_iter_free(it);
	if (r == -1)
		return -1;
	proto_reply_word(reply, PROTO_END);
	return 0;
}

static void
hash_pair(struct bytes k, struct bytes v, uint8_t out[RAW_HASH_BYTES])
{
	crypto_generichash_state st;
	uint8_t len[CODEC_VARINT_MAX];
	size_t n;

	n = codec_put_varint(len, k.len);
	crypto_generichash_init(&st, NULL, 0, RAW_HASH_BYTES);
	crypto_generichash_update(&st, len, n);
	crypto_generichash_update(&st, k.ptr, k.len);
	crypto_generichash_update(&st, v.ptr, v.len);
	crypto_generichash_final(&st, out, RAW_HASH_BYTES);
}

static int
read_checksum(struct kv *kv, const struct region *reg,
    const struct cmd_op *op, uint64_t now_ms, struct buf *reply)
{
	struct kv_iter *it;
	struct bytes lo, hi, k;
	struct raw_val rv;
	uint8_t h[RAW_HASH_BYTES];
	uint64_t count = 0, bytes = 0, sum = 0;
	int r = 0;

	if (sodium_init() < 0) {
		log_setreason("sodium_init failed");
		return -1;
	}
	if (region_clamp(reg, bytes_of(&op->key), bytes_of(&op->end), &lo, &hi)) {
		it = kv_iter_new(kv, KV_CF_RAW, lo.ptr, lo.len, hi.ptr,
		    hi.len);
		for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it)) {
			if (!val_live(kv_iter_value(it), now_ms, &rv))
				continue;
			k = kv_iter_key(it);
			hash_pair(k, rv.v, h);
			sum ^= codec_get_u64be(h);
			count++;
			bytes += k.len + rv.v.len;
		}
		kv_iter_free(it);
		if (r == -1)
			return -1;
	}
	buf_addstr(reply, proto_word_name(PROTO_OK));
	proto_add_u64(reply, count);
	proto_add_u64(reply, bytes);
	proto_add_u64(reply, sum);
	proto_end_line(reply);
	return 0;
}

void
raw_read(struct kv *kv, const struct region *reg, const struct cmd *c,
    uint64_t now_ms, struct buf *reply)
{
	const struct buf *bad;
	const struct cmd_op *op;
	size_t mark = reply->len;
	int r = 0;

	if (c->kind != CMD_READ || c->nops != 1) {
		proto_reply_error(reply, PROTO_SERVER_ERROR,
		    "raw_read: not a read cmd of one op");
		return;
	}
	if ((bad = cmd_key_outside(reg, c)) != NULL) {
		cmd_reply_key_not_in_region(reply, reg, bad);
		return;
	}
	op = &c->ops[0];
	switch (op->type) {
	case CMD_OP_GET:
	case CMD_OP_GET_TTL:
		r = read_get(kv, op, now_ms, reply);
		break;
	case CMD_OP_BATCH_GET:
		r = read_batch_get(kv, op, now_ms, reply);
		break;
	case CMD_OP_SCAN:
		r = read_scan(kv, reg, op, now_ms, reply);
		break;
	case CMD_OP_CHECKSUM:
		r = read_checksum(kv, reg, op, now_ms, reply);
		break;
	default:
		proto_reply_error(reply, PROTO_SERVER_ERROR,
		    "raw_read: op type %d is not a read", op->type);
		return;
	}
	if (r == -1) {
		/* No half list: the error replaces whatever was written. */
		buf_truncate(reply, mark);
		proto_reply_error(reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
	}
}

int
raw_collect_expired(struct kv *kv, const struct region *reg,
    uint64_t now_ms, int limit, struct cmd *out)
{
	struct kv_iter *it;
	struct cmd_op *op;
	struct raw_val rv;
	struct bytes k;
	int n = 0, r;

	cmd_reset(out);
	out->kind = CMD_WRITE;
	out->region_id = reg->id;
	out->epoch = reg->epoch;
	out->now_ms = now_ms;
	if (limit <= 0)
		return 0;
	it = kv_iter_new(kv, KV_CF_RAW, reg->start.data, reg->start.len,
	    reg->end.data, reg->end.len);
	for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it)) {
		if (val_decode(kv_iter_value(it), &rv) == -1 || !rv.has_ttl ||
		    rv.expiry > now_ms)
			continue;
		k = kv_iter_key(it);
		op = cmd_add_op(out, CMD_OP_DELETE);
		op->flags = CMD_F_IF_EXPIRED;
		buf_add(&op->key, k.ptr, k.len);
		if (++n == limit)
			break;
	}
	kv_iter_free(it);
	if (r == -1) {
		cmd_reset(out);
		out->kind = CMD_WRITE;
		return -1;
	}
	return n;
}
