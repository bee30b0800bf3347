/*
 * The raw state machine (cmd/tikvd/raw.c) against a real KV engine: every
 * op and its reply line, the stored value format, TTL expiry at chosen
 * clocks, CAS, IF_EXPIRED deletes, scans and ranges clamped to a region,
 * binary keys and values, checksums and the expired-key sweep.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmdfmt.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
#include "raw.h"
#include "region.h"
#include "tap.h"

#define T0	1763700000000ull	/* a wall clock, ms */

static char tmpdir[256];
static struct buf reply;
static int cas_no_flush;

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct kv *
open_kv(const char *name)
{
	char path[512];
	struct kv *kv;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	mkdir(path, 0755);
	if ((kv = kv_open(path, NULL)) == NULL) {
		diag("kv_open: %s", log_reason());
		exit(1);
	}
	return kv;
}

static void
set_region(struct region *r, uint64_t id, const char *start,
    const char *end)
{
	region_free(r);
	region_init(r);
	r->id = id;
	r->epoch.conf_ver = 1;
	r->epoch.version = 2;
	buf_addstr(&r->start, start);
	buf_addstr(&r->end, end);
	region_add_peer(r, 10, 1, REGION_VOTER);
}

static struct cmd *
new_cmd(int kind, uint64_t now_ms)
{
	static struct cmd c;
	static int inited;

	if (!inited) {
		cmd_init(&c);
		inited = 1;
	}
	cmd_reset(&c);
	c.kind = kind;
	c.region_id = 1;
	c.now_ms = now_ms;
	return &c;
}

static struct cmd_op *
op_key(struct cmd *c, int type, const void *k, size_t kl)
{
	struct cmd_op *op = cmd_add_op(c, type);

	buf_add(&op->key, k, kl);
	return op;
}

/* Applies c as the apply thread does, committing the batch; the reply. */
static const char *
apply(struct kv *kv, const struct region *r, const struct cmd *c)
{
	struct kv_batch *b = kv_batch_new();

	buf_reset(&reply);
	if (raw_apply(kv, r, c, b, &reply) == -1)
		buf_printf(&reply, "raw_apply failed: %s", log_reason());
	else if (kv_batch_commit(kv, b) == -1)
		buf_printf(&reply, "commit failed: %s", log_reason());
	kv_batch_free(b);
	return (const char *)reply.data;
}

static const char *
put(struct kv *kv, const struct region *r, const void *k, size_t kl,
    const void *v, size_t vl, uint64_t ttl, uint64_t now_ms)
{
	struct cmd *c = new_cmd(CMD_WRITE, now_ms);
	struct cmd_op *op = op_key(c, CMD_OP_PUT, k, kl);

	buf_add(&op->value, v, vl);
	op->ttl = ttl;
	return apply(kv, r, c);
}

static const char *
sput(struct kv *kv, const struct region *r, const char *k, const char *v,
    uint64_t ttl, uint64_t now_ms)
{
	return put(kv, r, k, strlen(k), v, strlen(v), ttl, now_ms);
}

static const char *
read1(struct kv *kv, const struct region *r, const struct cmd *c,
    uint64_t now_ms)
{
	buf_reset(&reply);
	raw_read(kv, r, c, now_ms, &reply);
	return (const char *)reply.data;
}

static const char *
get(struct kv *kv, const struct region *r, const void *k, size_t kl,
    int type, uint64_t now_ms)
{
	struct cmd *c = new_cmd(CMD_READ, now_ms);

	op_key(c, type, k, kl);
	return read1(kv, r, c, now_ms);
}

static const char *
sget(struct kv *kv, const struct region *r, const char *k, uint64_t now_ms)
{
	return get(kv, r, k, strlen(k), CMD_OP_GET, now_ms);
}

static const char *
sttl(struct kv *kv, const struct region *r, const char *k, uint64_t now_ms)
{
	return get(kv, r, k, strlen(k), CMD_OP_GET_TTL, now_ms);
}

static const char *
scan(struct kv *kv, const struct region *r, const char *start,
    const char *end, uint64_t limit, int flags, uint64_t now_ms)
{
	struct cmd *c = new_cmd(CMD_READ, now_ms);
	struct cmd_op *op = op_key(c, CMD_OP_SCAN, start, strlen(start));

	buf_addstr(&op->end, end);
	op->limit = limit;
	op->flags = flags;
	return read1(kv, r, c, now_ms);
}

static const char *
checksum(struct kv *kv, const struct region *r, const char *start,
    const char *end, uint64_t now_ms)
{
	struct cmd *c = new_cmd(CMD_READ, now_ms);
	struct cmd_op *op = op_key(c, CMD_OP_CHECKSUM, start, strlen(start));

	buf_addstr(&op->end, end);
	return read1(kv, r, c, now_ms);
}

static const char *
cas(struct kv *kv, const struct region *r, const char *k, int flags,
    const char *expect, const char *value, uint64_t ttl, uint64_t now_ms)
{
	struct cmd *c = new_cmd(CMD_WRITE, now_ms);
	struct cmd_op *op = op_key(c, CMD_OP_CAS, k, strlen(k));

	op->flags = flags;
	if (expect)
		buf_addstr(&op->expect, expect);
	if (value)
		buf_addstr(&op->value, value);
	op->ttl = ttl;
	if (!raw_needs_flush(c))
		cas_no_flush++;
	return apply(kv, r, c);
}

static const char *
del(struct kv *kv, const struct region *r, const char *k, int flags,
    uint64_t now_ms)
{
	struct cmd *c = new_cmd(CMD_WRITE, now_ms);

	op_key(c, CMD_OP_DELETE, k, strlen(k))->flags = flags;
	return apply(kv, r, c);
}

static const char *
del_range(struct kv *kv, const struct region *r, const char *start,
    const char *end)
{
	struct cmd *c = new_cmd(CMD_WRITE, T0);

	buf_addstr(&op_key(c, CMD_OP_DELETE_RANGE, start,
	    strlen(start))->end, end);
	return apply(kv, r, c);
}

/* Keys of KV_CF_RAW, stored, as "a b c". */
static const char *
stored_keys(struct kv *kv)
{
	static struct buf s;
	struct kv_iter *it = kv_iter_new(kv, KV_CF_RAW, "", 0, "", 0);
	struct bytes k;
	int r;

	buf_reset(&s);
	buf_addstr(&s, "");
	for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it)) {
		k = kv_iter_key(it);
		if (s.len)
			buf_addc(&s, ' ');
		buf_add(&s, k.ptr, k.len);
	}
	kv_iter_free(it);
	return (const char *)s.data;
}

static void
clear_raw(struct kv *kv)
{
	struct kv_batch *b = kv_batch_new();

	kv_batch_delete_range(b, KV_CF_RAW, "", 0, "", 0);
	kv_batch_commit(kv, b);
	kv_batch_free(b);
}

static void
test_basic(struct kv *kv)
{
	struct region all = { 0 };
	struct cmd *c;
	struct cmd_op *op;
	struct buf v = BUF_INIT;

	set_region(&all, 1, "", "");
	is_str(sput(kv, &all, "k", "v", 0, T0), "OK\n", "PUT replies OK");
	is_str(sget(kv, &all, "k", T0), "VALUE v\n", "GET finds it");
	is_str(sget(kv, &all, "nope", T0), "NOT_FOUND\n",
	    "GET of an absent key is NOT_FOUND");
	ok(kv_get(kv, KV_CF_RAW, "k", 1, &v) == 1 && v.len == 2 &&
	    memcmp(v.data, "\0v", 2) == 0,
	    "stored without TTL: flag byte 0, then the value");
	is_str(sput(kv, &all, "k", "v2", 0, T0), "OK\n", "PUT overwrites");
	is_str(sget(kv, &all, "k", T0), "VALUE v2\n", "GET sees the new "
	    "value");
	is_str(del(kv, &all, "k", 0, T0), "OK\n", "DELETE replies OK");
	is_str(sget(kv, &all, "k", T0), "NOT_FOUND\n", "the key is gone");
	is_str(del(kv, &all, "k", 0, T0), "OK\n", "DELETE of an absent key "
	    "replies OK");

	/* Binary keys and values. */
	is_str(put(kv, &all, "\0a\0", 3, "", 0, 0, T0), "OK\n",
	    "PUT of a key with NULs and an empty value");
	is_str(get(kv, &all, "\0a\0", 3, CMD_OP_GET, T0), "VALUE \"\"\n",
	    "the empty value reads back as \"\"");
	is_str(get(kv, &all, "\0a", 2, CMD_OP_GET, T0), "NOT_FOUND\n",
	    "a prefix of the key is another key");
	is_str(put(kv, &all, "", 0, "a b\n\"\\\xff", 7, 0, T0), "OK\n",
	    "PUT of the empty key");
	is_str(get(kv, &all, "", 0, CMD_OP_GET, T0),
	    "VALUE \"a b\\n\\\"\\\\\\xff\"\n",
	    "its value reads back quoted and escaped");
	buf_reset(&v);
	while (v.len < 5000)
		buf_add(&v, "big value ", 10);
	put(kv, &all, "big", 3, v.data, v.len, 0, T0);
	buf_reset(&reply);
	buf_printf(&reply, "VALUE {%zu}\n", v.len);
	buf_add(&reply, v.data, v.len);
	buf_addc(&reply, '\n');
	{
		struct buf want = BUF_INIT;

		buf_add(&want, reply.data, reply.len);
		get(kv, &all, "big", 3, CMD_OP_GET, T0);
		ok(bytes_eq(buf_bytes(&reply), buf_bytes(&want)),
		    "a 5000-byte value with spaces comes back as a literal");
		buf_free(&want);
	}

	/* Several writes in one cmd: one OK. */
	c = new_cmd(CMD_WRITE, T0);
	op = op_key(c, CMD_OP_PUT, "b1", 2);
	buf_addstr(&op->value, "1");
	op = op_key(c, CMD_OP_PUT, "b2", 2);
	buf_addstr(&op->value, "2");
	op_key(c, CMD_OP_DELETE, "b1", 2);
	ok(!raw_needs_flush(c), "blind writes need no flush");
	is_str(apply(kv, &all, c), "OK\n", "a batch of writes replies one OK");
	is_str(sget(kv, &all, "b1", T0), "NOT_FOUND\n",
	    "ops of one cmd apply in order (put then delete)");
	is_str(sget(kv, &all, "b2", T0), "VALUE 2\n", "the other put holds");

	/* BATCH_GET: request order, found keys only. */
	c = new_cmd(CMD_READ, T0);
	op = cmd_add_op(c, CMD_OP_BATCH_GET);
	cmd_op_add_key(op, "b2", 2);
	cmd_op_add_key(op, "missing", 7);
	cmd_op_add_key(op, "\0a\0", 3);
	cmd_op_add_key(op, "b1", 2);
	is_str(read1(kv, &all, c, T0), "VALUE b2 2\nVALUE \"\\x00a\\x00\" "
	    "\"\"\nEND\n", "BATCH_GET lists found keys in request order");
	c = new_cmd(CMD_READ, T0);
	cmd_op_add_key(cmd_add_op(c, CMD_OP_BATCH_GET), "x", 1);
	is_str(read1(kv, &all, c, T0), "END\n",
	    "BATCH_GET of nothing found is END");

	/* Not a write, not a read. */
	c = new_cmd(CMD_READ, T0);
	op_key(c, CMD_OP_GET, "k", 1);
	ok(strncmp(apply(kv, &all, c), "SERVER_ERROR ", 13) == 0,
	    "raw_apply refuses a read cmd");
	c = new_cmd(CMD_WRITE, T0);
	op_key(c, CMD_OP_DELETE, "k", 1);
	ok(strncmp(read1(kv, &all, c, T0), "SERVER_ERROR ", 13) == 0,
	    "raw_read refuses a write cmd");
	region_free(&all);
	buf_free(&v);
	clear_raw(kv);
}

static void
test_ttl(struct kv *kv)
{
	struct region all = { 0 };
	struct buf v = BUF_INIT;
	struct cmd *c;
	struct cmd_op *op;

	set_region(&all, 1, "", "");
	sput(kv, &all, "t", "tv", 10, T0);
	ok(kv_get(kv, KV_CF_RAW, "t", 1, &v) == 1 && v.len == 11 &&
	    v.data[0] == RAW_F_TTL &&
	    codec_get_u64be(v.data + 1) == T0 + 10000 &&
	    memcmp(v.data + 9, "tv", 2) == 0,
	    "stored with TTL: flag, expiry ms big-endian, value");
	is_str(sget(kv, &all, "t", T0 + 9999), "VALUE tv\n",
	    "found 1 ms before expiry");
	is_str(sget(kv, &all, "t", T0 + 10000), "NOT_FOUND\n",
	    "absent at its expiry");
	is_str(sget(kv, &all, "t", T0 + 99999999), "NOT_FOUND\n",
	    "absent long after");
	is_str(sttl(kv, &all, "t", T0), "VALUE 10\n", "GET_TTL at put: 10");
	is_str(sttl(kv, &all, "t", T0 + 1), "VALUE 10\n",
	    "9.999 s left rounds up to 10");
	is_str(sttl(kv, &all, "t", T0 + 1000), "VALUE 9\n", "9 s left");
	is_str(sttl(kv, &all, "t", T0 + 9999), "VALUE 1\n",
	    "1 ms left rounds up to 1");
	is_str(sttl(kv, &all, "t", T0 + 10000), "NOT_FOUND\n",
	    "GET_TTL of an expired key is NOT_FOUND");
	sput(kv, &all, "forever", "f", 0, T0);
	is_str(sttl(kv, &all, "forever", T0 + 99999999), "VALUE 0\n",
	    "GET_TTL without TTL is 0");
	is_str(sttl(kv, &all, "none", T0), "NOT_FOUND\n",
	    "GET_TTL of an absent key is NOT_FOUND");

	/* Expiry counts from the cmd's now_ms, not the reader's. */
	sput(kv, &all, "late", "l", 1, T0 + 5000);
	is_str(sget(kv, &all, "late", T0 + 5999), "VALUE l\n",
	    "expiry is the cmd's now_ms plus the TTL");
	is_str(sget(kv, &all, "late", T0 + 6000), "NOT_FOUND\n",
	    "and not a moment more");

	/* A huge TTL saturates instead of wrapping into the past. */
	sput(kv, &all, "huge", "h", UINT64_MAX, T0);
	is_str(sget(kv, &all, "huge", UINT64_MAX - 1), "VALUE h\n",
	    "a TTL of 2^64-1 s never wraps into the past");

	/* Batch get and scan skip expired keys. */
	c = new_cmd(CMD_READ, T0 + 20000);
	op = cmd_add_op(c, CMD_OP_BATCH_GET);
	cmd_op_add_key(op, "t", 1);
	cmd_op_add_key(op, "forever", 7);
	is_str(read1(kv, &all, c, T0 + 20000), "VALUE forever f\nEND\n",
	    "BATCH_GET skips an expired key");
	is_str(scan(kv, &all, "", "", 10, CMD_F_KEY_ONLY, T0 + 20000),
	    "VALUE forever\nVALUE huge\nEND\n", "SCAN skips expired keys");
	is_str(scan(kv, &all, "", "", 10, CMD_F_KEY_ONLY, T0),
	    "VALUE forever\nVALUE huge\nVALUE late\nVALUE t\nEND\n",
	    "and shows them before they expire");

	/* A put without TTL clears an earlier TTL. */
	sput(kv, &all, "t", "again", 0, T0);
	is_str(sget(kv, &all, "t", T0 + 99999999), "VALUE again\n",
	    "a put without TTL replaces one with");
	region_free(&all);
	buf_free(&v);
	clear_raw(kv);
}

static void
test_cas(struct kv *kv)
{
	struct region all = { 0 };
	struct cmd *c;

	set_region(&all, 1, "", "");
	is_str(cas(kv, &all, "c", CMD_F_EXPECT_ABSENT, NULL, "v1", 0, T0),
	    "OK SWAPPED ABSENT\n", "CAS ABSENT on an absent key swaps");
	is_str(sget(kv, &all, "c", T0), "VALUE v1\n", "and puts the value");
	is_str(cas(kv, &all, "c", CMD_F_EXPECT_ABSENT, NULL, "v2", 0, T0),
	    "OK FAILED VALUE v1\n", "CAS ABSENT on a present key fails "
	    "with the current value");
	is_str(sget(kv, &all, "c", T0), "VALUE v1\n", "and leaves it");
	is_str(cas(kv, &all, "c", 0, "v1", "v2", 0, T0),
	    "OK SWAPPED VALUE v1\n", "CAS EQ with the current value swaps");
	is_str(sget(kv, &all, "c", T0), "VALUE v2\n", "to the new value");
	is_str(cas(kv, &all, "c", 0, "v1", "v3", 0, T0),
	    "OK FAILED VALUE v2\n", "CAS EQ with another value fails");
	is_str(sget(kv, &all, "c", T0), "VALUE v2\n", "and leaves it");
	is_str(cas(kv, &all, "c", 0, "", "v3", 0, T0),
	    "OK FAILED VALUE v2\n", "CAS EQ \"\" is not CAS ABSENT");
	is_str(cas(kv, &all, "nope", 0, "x", "y", 0, T0),
	    "OK FAILED ABSENT\n", "CAS EQ on an absent key fails ABSENT");
	is_str(sget(kv, &all, "nope", T0), "NOT_FOUND\n",
	    "and writes nothing");

	/* Deletes. */
	is_str(cas(kv, &all, "c", CMD_F_CAS_DELETE, "zz", NULL, 0, T0),
	    "OK FAILED VALUE v2\n", "CAS DELETE on a mismatch fails");
	is_str(sget(kv, &all, "c", T0), "VALUE v2\n", "and keeps the key");
	is_str(cas(kv, &all, "c", CMD_F_CAS_DELETE, "v2", NULL, 0, T0),
	    "OK SWAPPED VALUE v2\n", "CAS DELETE on a match swaps");
	is_str(sget(kv, &all, "c", T0), "NOT_FOUND\n", "and deletes the key");
	is_str(cas(kv, &all, "c", CMD_F_EXPECT_ABSENT | CMD_F_CAS_DELETE,
	    NULL, NULL, 0, T0), "OK SWAPPED ABSENT\n",
	    "CAS ABSENT DELETE on an absent key swaps (nothing to delete)");

	/* TTLs. */
	is_str(cas(kv, &all, "ct", CMD_F_EXPECT_ABSENT, NULL, "t1", 5, T0),
	    "OK SWAPPED ABSENT\n", "CAS with a TTL");
	is_str(sttl(kv, &all, "ct", T0), "VALUE 5\n", "puts it with the TTL");
	is_str(cas(kv, &all, "ct", 0, "t1", "t2", 0, T0 + 4999),
	    "OK SWAPPED VALUE t1\n", "a CAS just before expiry sees the value");
	is_str(sttl(kv, &all, "ct", T0 + 99999), "VALUE 0\n",
	    "and its put without TTL clears the TTL");
	sput(kv, &all, "ce", "old", 1, T0);
	is_str(cas(kv, &all, "ce", 0, "old", "new", 0, T0 + 1000),
	    "OK FAILED ABSENT\n", "an expired value is absent to CAS EQ");
	is_str(cas(kv, &all, "ce", CMD_F_EXPECT_ABSENT, NULL, "new", 0,
	    T0 + 1000), "OK SWAPPED ABSENT\n",
	    "and CAS ABSENT replaces it");

	/* Binary. */
	c = new_cmd(CMD_WRITE, T0);
	{
		struct cmd_op *op = op_key(c, CMD_OP_CAS, "\0", 1);

		op->flags = CMD_F_EXPECT_ABSENT;
		buf_add(&op->value, "\0 \n", 3);
	}
	is_str(apply(kv, &all, c), "OK SWAPPED ABSENT\n", "binary CAS");
	c = new_cmd(CMD_WRITE, T0);
	{
		struct cmd_op *op = op_key(c, CMD_OP_CAS, "\0", 1);

		buf_add(&op->expect, "\0 \n", 3);
		buf_add(&op->value, "", 0);
	}
	is_str(apply(kv, &all, c), "OK SWAPPED VALUE \"\\x00 \\n\"\n",
	    "its previous value comes back escaped");
	is_int(cas_no_flush, 0, "raw_needs_flush says yes for every CAS");
	region_free(&all);
	clear_raw(kv);
}

static void
test_if_expired(struct kv *kv)
{
	struct region all = { 0 };
	struct cmd sweep;
	struct kv_batch *b;
	int n;

	set_region(&all, 1, "", "");
	cmd_init(&sweep);
	sput(kv, &all, "e1", "x", 1, T0);
	sput(kv, &all, "e2", "x", 1, T0);
	sput(kv, &all, "e3", "x", 1, T0);
	sput(kv, &all, "keep", "x", 0, T0);
	sput(kv, &all, "later", "x", 100, T0);
	n = raw_collect_expired(kv, &all, T0 + 1000, 100, &sweep);
	is_int(n, 3, "collect_expired finds the three expired keys");
	ok(sweep.kind == CMD_WRITE && sweep.region_id == 1 &&
	    region_epoch_eq(sweep.epoch, all.epoch) &&
	    sweep.now_ms == T0 + 1000 && sweep.nops == 3 &&
	    sweep.ops[0].type == CMD_OP_DELETE &&
	    sweep.ops[0].flags == CMD_F_IF_EXPIRED &&
	    sweep.ops[2].key.len == 2 &&
	    memcmp(sweep.ops[2].key.data, "e3", 2) == 0,
	    "as a write cmd of IF_EXPIRED deletes for the region, at now");
	ok(raw_needs_flush(&sweep), "IF_EXPIRED deletes need a flush");

	/* Meanwhile a client writes e2 afresh and e3 with a new TTL. */
	sput(kv, &all, "e2", "fresh", 0, T0 + 1500);
	sput(kv, &all, "e3", "fresh3", 60, T0 + 1500);
	b = kv_batch_new();
	buf_reset(&reply);
	is_int(raw_apply(kv, &all, &sweep, b, &reply), 0,
	    "the sweep applies");
	kv_batch_commit(kv, b);
	kv_batch_free(b);
	is_str((const char *)reply.data, "OK\n", "and replies OK");
	is_str(stored_keys(kv), "e2 e3 keep later",
	    "it deleted the still-expired key only");
	is_str(sget(kv, &all, "e2", T0 + 2000), "VALUE fresh\n",
	    "a fresh value without TTL survives it");
	is_str(sget(kv, &all, "e3", T0 + 2000), "VALUE fresh3\n",
	    "a fresh value with a live TTL survives it");
	is_str(del(kv, &all, "keep", CMD_F_IF_EXPIRED, T0 + 99999999),
	    "OK\n", "an IF_EXPIRED delete of a key without TTL");
	is_str(sget(kv, &all, "keep", T0), "VALUE x\n", "leaves it");
	is_str(del(kv, &all, "later", CMD_F_IF_EXPIRED, T0 + 99999), "OK\n",
	    "an IF_EXPIRED delete of an unexpired key");
	is_str(stored_keys(kv), "e2 e3 keep later", "leaves it too");
	is_str(del(kv, &all, "later", CMD_F_IF_EXPIRED, T0 + 100000), "OK\n",
	    "one at its expiry");
	is_str(stored_keys(kv), "e2 e3 keep", "deletes it");

	/* Limits and regions. */
	clear_raw(kv);
	{
		char k[8];
		int i;

		for (i = 0; i < 20; i++) {
			snprintf(k, sizeof(k), "x%02d", i);
			sput(kv, &all, k, "v", 1, T0);
		}
	}
	n = raw_collect_expired(kv, &all, T0 + 1000, 5, &sweep);
	ok(n == 5 && sweep.nops == 5 && memcmp(sweep.ops[4].key.data,
	    "x04", 3) == 0, "collect_expired stops at its limit, in key order");
	set_region(&all, 7, "x05", "x08");
	n = raw_collect_expired(kv, &all, T0 + 1000, 100, &sweep);
	ok(n == 3 && sweep.region_id == 7 &&
	    memcmp(sweep.ops[0].key.data, "x05", 3) == 0 &&
	    memcmp(sweep.ops[2].key.data, "x07", 3) == 0,
	    "and stays within the region");
	is_int(raw_collect_expired(kv, &all, T0 + 999, 100, &sweep), 0,
	    "nothing is collected before expiry");
	is_int((long long)sweep.nops, 0, "and the cmd is empty");
	cmd_free(&sweep);
	region_free(&all);
	clear_raw(kv);
}

static void
test_region_clamp(struct kv *kv)
{
	struct region all = { 0 }, mid = { 0 }, last = { 0 };
	char k[2] = { 0, 0 };
	int i;

	set_region(&all, 1, "", "");
	set_region(&mid, 2, "c", "w");
	set_region(&last, 3, "w", "");
	for (i = 'a'; i <= 'z'; i++) {
		k[0] = (char)i;
		sput(kv, &all, k, k, 0, T0);
	}
	is_str(scan(kv, &mid, "", "", 3, 0, T0),
	    "VALUE c c\nVALUE d d\nVALUE e e\nEND\n",
	    "a forward scan starts at the region's start, limit 3");
	is_str(scan(kv, &mid, "", "", 3, CMD_F_REVERSE, T0),
	    "VALUE v v\nVALUE u u\nVALUE t t\nEND\n",
	    "a reverse scan starts below the region's end");
	is_str(scan(kv, &mid, "f", "i", 100, CMD_F_KEY_ONLY, T0),
	    "VALUE f\nVALUE g\nVALUE h\nEND\n",
	    "KEY_ONLY over [f, i)");
	is_str(scan(kv, &mid, "f", "i", 100, CMD_F_KEY_ONLY | CMD_F_REVERSE,
	    T0), "VALUE h\nVALUE g\nVALUE f\nEND\n",
	    "REVERSE KEY_ONLY over [f, i) goes from the end down");
	is_str(scan(kv, &mid, "u", "zz", 100, 0, T0),
	    "VALUE u u\nVALUE v v\nEND\n", "an end past the region is "
	    "clamped");
	is_str(scan(kv, &mid, "a", "d", 100, CMD_F_REVERSE, T0),
	    "VALUE c c\nEND\n", "a start before the region is clamped");
	is_str(scan(kv, &last, "", "", 100, CMD_F_KEY_ONLY, T0),
	    "VALUE w\nVALUE x\nVALUE y\nVALUE z\nEND\n",
	    "the last region runs to the end of the key space");
	is_str(scan(kv, &last, "", "", 2, CMD_F_KEY_ONLY | CMD_F_REVERSE, T0),
	    "VALUE z\nVALUE y\nEND\n", "and a reverse scan of it starts at z");
	is_str(scan(kv, &mid, "x", "", 100, 0, T0), "END\n",
	    "a range past the region is empty");
	is_str(scan(kv, &mid, "g", "g", 100, 0, T0), "END\n",
	    "so is [g, g)");
	is_str(scan(kv, &mid, "h", "g", 100, CMD_F_REVERSE, T0), "END\n",
	    "and [h, g)");
	is_str(scan(kv, &mid, "", "", 0, 0, T0), "END\n",
	    "limit 0 lists nothing");
	is_str(sput(kv, &mid, "b", "x", 0, T0),
	    "KEY_NOT_IN_REGION b 2 c w\n",
	    "a put outside the region is refused with the region's range");
	is_str(sget(kv, &all, "b", T0), "VALUE b\n", "and writes nothing");
	is_str(sget(kv, &last, "b", T0), "KEY_NOT_IN_REGION b 3 w \"\"\n",
	    "a get outside the region is refused too");

	is_str(del_range(kv, &mid, "", ""), "OK\n",
	    "DELETE_RANGE of everything in a region");
	is_str(stored_keys(kv), "a b w x y z",
	    "deletes the region's keys only");
	is_str(del_range(kv, &last, "x", "z"), "OK\n",
	    "DELETE_RANGE [x, z)");
	is_str(stored_keys(kv), "a b w z", "deletes x and y");
	is_str(del_range(kv, &last, "a", "w"), "OK\n",
	    "DELETE_RANGE of a range before the region");
	is_str(stored_keys(kv), "a b w z", "deletes nothing");
	is_str(del_range(kv, &last, "", ""), "OK\n",
	    "DELETE_RANGE of the whole last region");
	is_str(stored_keys(kv), "a b", "deletes to the end of the key space");
	region_free(&all);
	region_free(&mid);
	region_free(&last);
	clear_raw(kv);
}

static void
test_checksum(struct kv *kv)
{
	struct region all = { 0 }, mid = { 0 };
	struct kv *kv2 = open_kv("checksum2");
	struct buf one = BUF_INIT;
	char k[8], v[16];
	int i, j;

	set_region(&all, 1, "", "");
	set_region(&mid, 2, "k010", "k020");
	is_str(checksum(kv, &all, "", "", T0), "OK 0 0 0\n",
	    "the checksum of nothing");
	sput(kv, &all, "k", "v", 0, T0);
	is_str(checksum(kv, &all, "", "", T0), "OK 1 2 237012257442839672\n",
	    "one pair: BLAKE2b-64 of varint(keylen) key value, big-endian");
	put(kv, &all, "\0a", 2, "", 0, 0, T0);
	is_str(checksum(kv, &all, "", "", T0), "OK 2 4 478519994605006149\n",
	    "two pairs: the XOR of their hashes");
	clear_raw(kv);

	/* The same data written in different orders, with TTLs. */
	for (i = 0; i < 30; i++) {
		snprintf(k, sizeof(k), "k%03d", i);
		snprintf(v, sizeof(v), "value%d", i * i);
		sput(kv, &all, k, v, i % 3 ? 0 : 1000, T0);
	}
	for (i = 29; i >= 0; i--) {
		j = (i * 7) % 30;
		snprintf(k, sizeof(k), "k%03d", j);
		snprintf(v, sizeof(v), "stale");
		sput(kv2, &all, k, v, 0, T0);
		snprintf(v, sizeof(v), "value%d", j * j);
		sput(kv2, &all, k, v, j % 3 ? 0 : 2000, T0 + 5);
	}
	checksum(kv, &all, "", "", T0);
	buf_add(&one, reply.data, reply.len);
	is_str(checksum(kv2, &all, "", "", T0), (const char *)one.data,
	    "the same pairs written in another order (and other TTLs) "
	    "checksum the same: %.*s", (int)one.len - 1,
	    (const char *)one.data);
	ok(strncmp((const char *)one.data, "OK 30 ", 6) == 0,
	    "over 30 pairs");
	buf_reset(&one);
	checksum(kv, &mid, "", "", T0);
	buf_add(&one, reply.data, reply.len);
	is_str(checksum(kv2, &all, "k010", "k020", T0),
	    (const char *)one.data,
	    "a checksum is clamped to the region: %.*s", (int)one.len - 1,
	    (const char *)one.data);
	ok(strncmp((const char *)one.data, "OK 10 ", 6) == 0,
	    "10 pairs in [k010, k020)");
	sput(kv2, &all, "k015", "changed", 0, T0);
	ok(strcmp(checksum(kv2, &mid, "", "", T0), (const char *)one.data),
	    "one changed value changes the checksum");
	ok(strncmp(checksum(kv, &all, "", "", T0 + 1000000), "OK 20 ", 6) == 0,
	    "expired pairs are left out");
	region_free(&all);
	region_free(&mid);
	buf_free(&one);
	kv_close(kv2);
	clear_raw(kv);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");
	struct kv *kv;

	snprintf(tmpdir, sizeof(tmpdir), "%s/raw_test.XXXXXX",
	    t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	kv = open_kv("kv");
	test_basic(kv);
	test_ttl(kv);
	test_cas(kv);
	test_if_expired(kv);
	test_region_clamp(kv);
	test_checksum(kv);
	kv_close(kv);
	buf_free(&reply);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
