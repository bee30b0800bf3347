/*
 * tikvd's log entry format (cmd/tikvd/cmdfmt.c): round trips of every
 * write op and admin cmd, sizes, reuse, and rejection of malformed input
 * (every truncation, trailing bytes, bad versions, kinds, types and flags,
 * impossible counts, random garbage) without reading out of bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmdfmt.h"
#include "log.h"
#include "tap.h"

static void
setb(struct buf *b, const void *p, size_t n)
{
	buf_reset(b);
	buf_add(b, p, n);
}

static int
buf_same(const struct buf *a, const struct buf *b)
{
	return bytes_eq(buf_bytes(a), buf_bytes(b));
}

static int
same_op(const struct cmd_op *a, const struct cmd_op *b)
{
	size_t i;

	if (a->type != b->type || a->flags != b->flags ||
	    !buf_same(&a->key, &b->key) || !buf_same(&a->end, &b->end) ||
	    !buf_same(&a->value, &b->value) ||
	    !buf_same(&a->expect, &b->expect) || a->ttl != b->ttl ||
	    a->limit != b->limit || a->nkeys != b->nkeys)
		return 0;
	for (i = 0; i < a->nkeys; i++)
		if (!buf_same(&a->keys[i], &b->keys[i]))
			return 0;
	return 1;
}

static int
same_cmd(const struct cmd *a, const struct cmd *b)
{
	size_t i;

	if (a->kind != b->kind || a->region_id != b->region_id ||
	    !region_epoch_eq(a->epoch, b->epoch) || a->now_ms != b->now_ms ||
	    a->nops != b->nops || !buf_same(&a->split_key, &b->split_key) ||
	    a->new_region_id != b->new_region_id ||
	    a->n_new_peers != b->n_new_peers ||
	    a->txn.action != b->txn.action || a->txn.flags != b->txn.flags ||
	    a->txn.start_ts != b->txn.start_ts ||
	    a->txn.commit_ts != b->txn.commit_ts ||
	    a->txn.ttl_ms != b->txn.ttl_ms ||
	    !buf_same(&a->txn.primary, &b->txn.primary))
		return 0;
	for (i = 0; i < a->nops; i++)
		if (!same_op(&a->ops[i], &b->ops[i]))
			return 0;
	for (i = 0; i < a->n_new_peers; i++)
		if (a->new_peer_ids[i] != b->new_peer_ids[i])
			return 0;
	return 1;
}

/* Encodes c, checks the size, decodes into d (reused across calls). */
static int
round_trip(const struct cmd *c, struct cmd *d, struct buf *enc)
{
	buf_reset(enc);
	cmd_encode(c, enc);
	if (enc->len != cmd_encoded_size(c)) {
		diag("encoded %zu bytes, cmd_encoded_size says %zu", enc->len,
		    cmd_encoded_size(c));
		return 0;
	}
	if (cmd_decode(enc->data, enc->len, d) == -1) {
		diag("decode: %s", log_reason());
		return 0;
	}
	return same_cmd(c, d);
}

static void
header(struct cmd *c, int kind)
{
	cmd_reset(c);
	c->kind = kind;
	c->region_id = 42;
	c->epoch.conf_ver = 3;
	c->epoch.version = 300;
	c->now_ms = 1763700000123ull;
}

static void
add_put(struct cmd *c, const void *k, size_t kl, const void *v, size_t vl,
    uint64_t ttl)
{
	struct cmd_op *op = cmd_add_op(c, CMD_OP_PUT);

	setb(&op->key, k, kl);
	setb(&op->value, v, vl);
	op->ttl = ttl;
}

static void
add_cas(struct cmd *c, int flags, const char *expect, const char *value,
    uint64_t ttl)
{
	struct cmd_op *op = cmd_add_op(c, CMD_OP_CAS);

	op->flags = flags;
	setb(&op->key, "ck", 2);
	if (!(flags & CMD_F_EXPECT_ABSENT))
		setb(&op->expect, expect, strlen(expect));
	if (!(flags & CMD_F_CAS_DELETE))
		setb(&op->value, value, strlen(value));
	op->ttl = ttl;
}

/* A write cmd holding one of each write op (and each CAS form). */
static void
every_write(struct cmd *c)
{
	struct cmd_op *op;

	header(c, CMD_WRITE);
	add_put(c, "k1", 2, "v1", 2, 0);
	add_put(c, "\0k\0", 3, "", 0, 60);
	add_put(c, "", 0, "\n\r\"\\", 4, UINT64_MAX);
	op = cmd_add_op(c, CMD_OP_DELETE);
	setb(&op->key, "gone", 4);
	op = cmd_add_op(c, CMD_OP_DELETE);
	op->flags = CMD_F_IF_EXPIRED;
	setb(&op->key, "\xff\xff", 2);
	op = cmd_add_op(c, CMD_OP_DELETE_RANGE);
	setb(&op->key, "a", 1);
	setb(&op->end, "b\0", 2);
	op = cmd_add_op(c, CMD_OP_DELETE_RANGE);
	setb(&op->key, "m", 1);		/* empty end: unbounded */
	add_cas(c, 0, "old", "new", 0);
	add_cas(c, 0, "", "", 5);
	add_cas(c, CMD_F_EXPECT_ABSENT, NULL, "fresh", 10);
	add_cas(c, CMD_F_CAS_DELETE, "old", NULL, 0);
	add_cas(c, CMD_F_EXPECT_ABSENT | CMD_F_CAS_DELETE, NULL, NULL, 0);
}

static void
test_write_round_trips(void)
{
	struct cmd c, d;
	struct buf enc = BUF_INIT, big = BUF_INIT;
	struct cmd_op *op;
	size_t i, n;

	cmd_init(&c);
	cmd_init(&d);
	every_write(&c);
	ok(round_trip(&c, &d, &enc), "every write op round-trips in one cmd "
	    "(%zu ops, %zu bytes)", c.nops, enc.len);

	/* Each op alone, decoded into the same (reused) cmd. */
	n = c.nops;
	for (i = 0; i < n; i++) {
		struct cmd one;

		cmd_init(&one);
		header(&one, CMD_WRITE);
		op = cmd_add_op(&one, c.ops[i].type);
		op->flags = c.ops[i].flags;
		setb(&op->key, c.ops[i].key.data, c.ops[i].key.len);
		setb(&op->end, c.ops[i].end.data, c.ops[i].end.len);
		setb(&op->value, c.ops[i].value.data, c.ops[i].value.len);
		setb(&op->expect, c.ops[i].expect.data, c.ops[i].expect.len);
		op->ttl = c.ops[i].ttl;
		ok(round_trip(&one, &d, &enc), "op %zu (type %d flags 0x%x) "
		    "round-trips alone", i, op->type, op->flags);
		cmd_free(&one);
	}

	/* Empty and extreme headers. */
	cmd_reset(&c);
	c.kind = CMD_WRITE;
	ok(round_trip(&c, &d, &enc) && enc.len == 7,
	    "an empty write with a zero header round-trips in 7 bytes");
	c.region_id = c.epoch.conf_ver = c.epoch.version = c.now_ms =
	    UINT64_MAX;
	ok(round_trip(&c, &d, &enc), "64-bit header fields round-trip");

	/* A large value. */
	header(&c, CMD_WRITE);
	buf_grow(&big, 1 << 20);
	for (i = 0; i < 1 << 20; i++)
		buf_addc(&big, (int)(i * 7));
	add_put(&c, "big", 3, big.data, big.len, 0);
	ok(round_trip(&c, &d, &enc), "a 1 MiB value round-trips");
	ok(cmd_encoded_size(&c) < big.len + 32,
	    "its overhead is small (%zu bytes)",
	    cmd_encoded_size(&c) - big.len);

	/* Many ops. */
	header(&c, CMD_WRITE);
	for (i = 0; i < 1000; i++) {
		char k[16];
		int kl = snprintf(k, sizeof(k), "key%04zu", i);

		add_put(&c, k, (size_t)kl, k, (size_t)kl, i);
	}
	ok(round_trip(&c, &d, &enc), "1000 puts round-trip");
	is_int((long long)d.nops, 1000, "and decode to 1000 ops");

	cmd_free(&c);
	cmd_free(&d);
	buf_free(&enc);
	buf_free(&big);
}

static int decodes(const uint8_t *, size_t, struct cmd *);

/* A txn cmd of action with a key op of type t per key of keys. */
static void
txn_cmd(struct cmd *c, int action, int t, const char *keys)
{
	struct cmd_op *op;
	const char *k;

	header(c, CMD_TXN);
	c->txn.action = action;
	c->txn.start_ts = (1763700000123ull << 18) | 7;
	c->txn.commit_ts = c->txn.start_ts + 1;
	c->txn.ttl_ms = 3000;
	setb(&c->txn.primary, "p\0", 2);
	for (k = keys; *k != '\0'; k++) {
		op = cmd_add_op(c, t);
		setb(&op->key, k, 1);
		if (t == CMD_OP_TXN_PUT || t == CMD_OP_TXN_INSERT)
			setb(&op->value, "value", (size_t)(k - keys));
	}
}

static void
test_txn_round_trips(void)
{
	static const int types[] = { CMD_OP_TXN_PUT, CMD_OP_TXN_INSERT,
	    CMD_OP_TXN_DELETE, CMD_OP_TXN_LOCK };
	struct cmd c, d;
	struct buf enc = BUF_INIT;
	size_t i, bad = 0, trunc = 0;
	int a;

	cmd_init(&c);
	cmd_init(&d);
	/* A prewrite of every mutation type. */
	txn_cmd(&c, CMD_TXN_PREWRITE, CMD_OP_TXN_PUT, "ab");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct cmd_op *op = cmd_add_op(&c, types[i]);

		setb(&op->key, "m", 1);
		op->key.data[0] += (uint8_t)i;
		if (types[i] == CMD_OP_TXN_PUT ||
		    types[i] == CMD_OP_TXN_INSERT)
			setb(&op->value, "", 0);
	}
	ok(round_trip(&c, &d, &enc), "a prewrite of every mutation type "
	    "round-trips (%zu bytes)", enc.len);
	for (i = 0; i < enc.len; i++)
		trunc += decodes(enc.data, i, &d);
	is_int((long long)trunc, 0, "every truncation of it is rejected");
	for (a = CMD_TXN_COMMIT; a <= CMD_TXN_HEARTBEAT; a++) {
		txn_cmd(&c, a, CMD_OP_TXN_KEY, a == CMD_TXN_RESOLVE_LOCK ?
		    "" : "xyz");
		c.txn.flags = a == CMD_TXN_CHECK_STATUS ?
		    CMD_TXN_F_ROLLBACK_IF_MISSING : 0;
		bad += !round_trip(&c, &d, &enc);
	}
	is_int((long long)bad, 0, "every other action round-trips");

	/* A txn cmd holds txn ops only, and a raw write raw ops only. */
	txn_cmd(&c, CMD_TXN_COMMIT, CMD_OP_PUT, "k");
	buf_reset(&enc);
	cmd_encode(&c, &enc);
	ok(!decodes(enc.data, enc.len, &d), "a raw op in a txn cmd: %s",
	    log_reason());
	header(&c, CMD_WRITE);
	setb(&cmd_add_op(&c, CMD_OP_TXN_PUT)->key, "k", 1);
	buf_reset(&enc);
	cmd_encode(&c, &enc);
	ok(!decodes(enc.data, enc.len, &d), "a txn op in a raw write: %s",
	    log_reason());
	txn_cmd(&c, CMD_TXN_COMMIT, CMD_OP_TXN_KEY, "k");
	c.txn.action = CMD_TXN_HEARTBEAT + 1;
	buf_reset(&enc);
	cmd_encode(&c, &enc);
	ok(!decodes(enc.data, enc.len, &d), "an unknown action: %s",
	    log_reason());
	txn_cmd(&c, CMD_TXN_COMMIT, CMD_OP_TXN_KEY, "k");
	c.txn.flags = 0x80;
	buf_reset(&enc);
	cmd_encode(&c, &enc);
	ok(!decodes(enc.data, enc.len, &d), "unknown txn flags: %s",
	    log_reason());
	cmd_free(&c);
	cmd_free(&d);
	buf_free(&enc);
}

static void
test_admin_round_trips(void)
{
	struct cmd c, d;
	struct buf enc = BUF_INIT;
	size_t n;
	int r;

	cmd_init(&c);
	cmd_init(&d);
	for (n = 0; n <= REGION_MAX_PEERS; n++) {
		size_t i;

		header(&c, CMD_SPLIT);
		setb(&c.split_key, "split\0key", 9);
		c.new_region_id = 1000 + n;
		for (i = 0; i < n; i++)
			c.new_peer_ids[i] = (uint64_t)1 << (7 * i);
		c.n_new_peers = n;
		ok(round_trip(&c, &d, &enc), "split with %zu new peers "
		    "round-trips", n);
	}
	header(&c, CMD_NOOP);
	ok(round_trip(&c, &d, &enc), "noop round-trips");
	ok(d.nops == 0 && d.split_key.len == 0,
	    "a decoded noop has no ops and no split key");

	/* Reads encode (they have a size) but never decode. */
	header(&c, CMD_READ);
	cmd_op_add_key(cmd_add_op(&c, CMD_OP_BATCH_GET), "a", 1);
	buf_reset(&enc);
	cmd_encode(&c, &enc);
	is_int((long long)cmd_encoded_size(&c), (long long)enc.len,
	    "a read's size is its encoding's");
	r = cmd_decode(enc.data, enc.len, &d);
	ok(r == -1, "a read cmd is refused as a log entry: %s", log_reason());
	cmd_free(&c);
	cmd_free(&d);
	buf_free(&enc);
}

static void
test_sizes(void)
{
	struct cmd c;
	struct cmd_op *op;
	struct buf enc = BUF_INIT;
	int t, good = 1;
	size_t i;

	cmd_init(&c);
	for (t = CMD_OP_PUT; t <= CMD_OP_CHECKSUM; t++) {
		header(&c, t <= CMD_OP_CAS ? CMD_WRITE : CMD_READ);
		op = cmd_add_op(&c, t);
		setb(&op->key, "key", 3);
		setb(&op->end, "zz", 2);
		setb(&op->value, "value", 5);
		setb(&op->expect, "expect", 6);
		op->ttl = 300;
		op->limit = 1 << 20;
		if (t == CMD_OP_SCAN)
			op->flags = CMD_F_KEY_ONLY | CMD_F_REVERSE;
		for (i = 0; t == CMD_OP_BATCH_GET && i < 100; i++)
			cmd_op_add_key(op, &i, sizeof(i));
		buf_reset(&enc);
		cmd_encode(&c, &enc);
		if (enc.len != cmd_encoded_size(&c)) {
			diag("op type %d: %zu bytes, size says %zu", t,
			    enc.len, cmd_encoded_size(&c));
			good = 0;
		}
	}
	ok(good, "cmd_encoded_size is exact for every op type");
	is_int((long long)c.ops[0].nkeys, 0,
	    "cmd_add_op gives a zeroed op after a reset");
	header(&c, CMD_READ);
	op = cmd_add_op(&c, CMD_OP_BATCH_GET);
	for (i = 0; i < 1000; i++)
		cmd_op_add_key(op, &i, sizeof(i));
	good = op->nkeys == 1000;
	for (i = 0; i < 1000 && good; i++)
		good = op->keys[i].len == sizeof(i) &&
		    memcmp(op->keys[i].data, &i, sizeof(i)) == 0;
	ok(good, "cmd_op_add_key keeps 1000 keys in order");
	cmd_free(&c);
	buf_free(&enc);
}

/* Decodes an exact-size copy, so ASan sees any overread. */
static int
decodes(const uint8_t *p, size_t len, struct cmd *d)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	if (len)
		memcpy(copy, p, len);
	r = cmd_decode(copy, len, d);
	free(copy);
	return r == 0;
}

static void
test_truncations(void)
{
	struct cmd c, d;
	struct buf enc = BUF_INIT;
	size_t i, n;
	int bad = 0;

	cmd_init(&c);
	cmd_init(&d);
	every_write(&c);
	cmd_encode(&c, &enc);
	for (i = 0; i < enc.len; i++)
		if (decodes(enc.data, i, &d)) {
			diag("a %zu-byte prefix of %zu decodes", i, enc.len);
			bad++;
		}
	is_int(bad, 0, "every truncation of a write (%zu bytes) is rejected",
	    enc.len);
	ok(d.nops == 0 && d.kind == 0, "a failed decode leaves an empty cmd");

	header(&c, CMD_SPLIT);
	setb(&c.split_key, "s", 1);
	c.new_region_id = 9;
	for (n = 0; n < 3; n++)
		c.new_peer_ids[n] = 300 + n;
	c.n_new_peers = 3;
	buf_reset(&enc);
	cmd_encode(&c, &enc);
	for (bad = 0, i = 0; i < enc.len; i++)
		bad += decodes(enc.data, i, &d);
	is_int(bad, 0, "every truncation of a split is rejected");

	header(&c, CMD_NOOP);
	buf_reset(&enc);
	cmd_encode(&c, &enc);
	for (bad = 0, i = 0; i < enc.len; i++)
		bad += decodes(enc.data, i, &d);
	is_int(bad, 0, "every truncation of a noop is rejected");

	buf_addc(&enc, 0);
	ok(!decodes(enc.data, enc.len, &d), "trailing bytes are rejected: %s",
	    log_reason());
	cmd_free(&c);
	cmd_free(&d);
	buf_free(&enc);
}

/* A hand-made encoding: version, kind, four header varints of 1. */
static void
raw_header(struct buf *b, int version, int kind)
{
	buf_reset(b);
	buf_addc(b, version);
	buf_addc(b, kind);
	buf_add(b, "\1\1\1\1", 4);
}

static void
test_malformed(void)
{
	struct cmd d;
	struct buf b = BUF_INIT;
	int t;

	cmd_init(&d);
	ok(!decodes((const uint8_t *)"", 0, &d), "empty input is rejected");
	raw_header(&b, 2, CMD_NOOP);
	ok(!decodes(b.data, b.len, &d), "an unknown version is rejected: %s",
	    log_reason());
	raw_header(&b, 1, CMD_NOOP);
	ok(decodes(b.data, b.len, &d), "a hand-made noop decodes");
	raw_header(&b, 1, 0);
	ok(!decodes(b.data, b.len, &d), "kind 0 is rejected");
	raw_header(&b, 1, 99);
	ok(!decodes(b.data, b.len, &d), "kind 99 is rejected");
	raw_header(&b, 1, CMD_READ);
	buf_addc(&b, 0);
	ok(!decodes(b.data, b.len, &d), "kind READ is rejected");

	/* One DELETE op of key "k", then variations. */
	raw_header(&b, 1, CMD_WRITE);
	buf_add(&b, "\1\2\0\1k", 5);
	ok(decodes(b.data, b.len, &d) && d.nops == 1 &&
	    d.ops[0].type == CMD_OP_DELETE, "a hand-made delete decodes");
	for (t = 0; t < 256; t++) {
		b.data[7] = (uint8_t)t;
		if (t == CMD_OP_DELETE)
			continue;
		if (decodes(b.data, b.len, &d) &&
		    !(t >= CMD_OP_PUT && t <= CMD_OP_CAS))
			break;
	}
	is_int(t, 256, "no op type but a write's decodes in a write");
	b.data[7] = CMD_OP_DELETE;
	b.data[8] = CMD_F_IF_EXPIRED;
	ok(decodes(b.data, b.len, &d) && d.ops[0].flags == CMD_F_IF_EXPIRED,
	    "IF_EXPIRED is a delete's flag");
	b.data[8] = CMD_F_KEY_ONLY;
	ok(!decodes(b.data, b.len, &d), "KEY_ONLY on a delete is rejected: %s",
	    log_reason());
	b.data[8] = 0x80;
	ok(!decodes(b.data, b.len, &d), "an unknown flag is rejected");
	b.data[8] = 0;
	b.data[6] = 2;
	ok(!decodes(b.data, b.len, &d), "an op count past the data is "
	    "rejected");

	raw_header(&b, 1, CMD_WRITE);
	buf_add(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
	ok(!decodes(b.data, b.len, &d), "2^64-1 ops in no bytes are "
	    "rejected: %s", log_reason());
	raw_header(&b, 1, CMD_WRITE);
	buf_add(&b, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11);
	ok(!decodes(b.data, b.len, &d), "an over-long varint is rejected");
	raw_header(&b, 1, CMD_WRITE);
	buf_add(&b, "\1\2\0\x7fk", 5);
	ok(!decodes(b.data, b.len, &d), "a key length past the data is "
	    "rejected");

	raw_header(&b, 1, CMD_SPLIT);
	buf_add(&b, "\1s\7\x09", 4);
	for (t = 0; t < 9; t++)
		buf_addc(&b, t + 1);
	ok(!decodes(b.data, b.len, &d), "a split with 9 peers is rejected: "
	    "%s", log_reason());
	b.data[9] = 8;
	buf_truncate(&b, b.len - 1);
	ok(decodes(b.data, b.len, &d) && d.n_new_peers == 8 &&
	    d.new_peer_ids[7] == 8, "with 8 it decodes");
	cmd_free(&d);
	buf_free(&b);
}

/* Garbage must never crash the decoder, and what it accepts re-encodes. */
static void
test_garbage(void)
{
	struct cmd c, d, e;
	struct buf enc = BUF_INIT, g = BUF_INIT, re = BUF_INIT;
	size_t i, len, accepted = 0, junk_ok = 0, unstable = 0;
	int round;

	cmd_init(&c);
	cmd_init(&d);
	cmd_init(&e);
	for (round = 0; round < 20000; round++) {
		len = tap_rand_below(64);
		buf_reset(&g);
		for (i = 0; i < len; i++)
			buf_addc(&g, (int)tap_rand_below(256));
		if (len > 0 && g.data[0] == 1)
			g.data[0] = 0;
		junk_ok += decodes(g.data, g.len, &d);
	}
	is_int((long long)junk_ok, 0, "20000 random strings without the "
	    "version byte are rejected");

	every_write(&c);
	cmd_encode(&c, &enc);
	for (round = 0; round < 20000; round++) {
		int flips = 1 + (int)tap_rand_below(4), f;

		buf_reset(&g);
		if (round % 2) {
			/* A valid write with a few bytes changed. */
			buf_add(&g, enc.data, enc.len);
			for (f = 0; f < flips; f++)
				g.data[1 + tap_rand_below(g.len - 1)] =
				    (uint8_t)tap_rand();
		} else {
			/* A valid header, then noise. */
			raw_header(&g, 1, 1 + (int)tap_rand_below(5));
			len = tap_rand_below(48);
			for (i = 0; i < len; i++)
				buf_addc(&g, (int)tap_rand_below(256));
		}
		if (!decodes(g.data, g.len, &d))
			continue;
		accepted++;
		buf_reset(&re);
		cmd_encode(&d, &re);
		if (cmd_decode(re.data, re.len, &e) == -1 ||
		    !same_cmd(&d, &e))
			unstable++;
	}
	is_int((long long)unstable, 0, "whatever mutated input decodes "
	    "(%zu of 20000) re-encodes to the same cmd", accepted);
	cmd_free(&c);
	cmd_free(&d);
	cmd_free(&e);
	buf_free(&enc);
	buf_free(&g);
	buf_free(&re);
}

static void
test_cc_ctx(void)
{
	uint64_t ids[] = { 1, 127, 128, 1ull << 40, UINT64_MAX }, out[8];
	struct buf b = BUF_INIT;
	size_t n = 99, i;
	int bad = 0;
	uint8_t *copy;

	cmd_encode_cc_ctx(&b, ids, 5);
	ok(cmd_decode_cc_ctx(b.data, b.len, out, 8, &n) == 0 && n == 5 &&
	    memcmp(out, ids, sizeof(ids)) == 0,
	    "a conf change context of 5 stores round-trips");
	ok(cmd_decode_cc_ctx(b.data, b.len, out, 4, &n) == -1,
	    "more stores than max are rejected: %s", log_reason());
	for (i = 1; i < b.len; i++) {
		copy = malloc(i);
		memcpy(copy, b.data, i);
		bad += cmd_decode_cc_ctx(copy, i, out, 8, &n) == 0;
		free(copy);
	}
	is_int(bad, 0, "every non-empty truncation is rejected");
	buf_addc(&b, 0);
	ok(cmd_decode_cc_ctx(b.data, b.len, out, 8, &n) == -1,
	    "trailing bytes are rejected");
	n = 99;
	ok(cmd_decode_cc_ctx((const uint8_t *)"", 0, out, 8, &n) == 0 &&
	    n == 0, "an empty context (Raft's own leave-joint entry) is no "
	    "stores");
	buf_reset(&b);
	cmd_encode_cc_ctx(&b, NULL, 0);
	ok(cmd_decode_cc_ctx(b.data, b.len, out, 8, &n) == 0 && n == 0,
	    "an encoded empty list round-trips");
	b.data[0] = 7;
	ok(cmd_decode_cc_ctx(b.data, b.len, out, 8, &n) == -1,
	    "an unknown version is rejected");
	buf_free(&b);
}

int
main(void)
{
	test_write_round_trips();
	test_admin_round_trips();
	test_txn_round_trips();
	test_sizes();
	test_truncations();
	test_malformed();
	test_garbage();
	test_cc_ctx();
	return done_testing();
}
