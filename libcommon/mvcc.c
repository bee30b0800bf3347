/*
 * Percolator over the KV engine (mvcc.h).
 *
 * Record values (keys as in mvcc.h; varints and lenbytes from codec.h):
 *	lock	type byte, varint start_ts, varint ttl_ms, lenbytes primary,
 *		flags byte (F_SHORT_VALUE), [lenbytes value]
 *	write	type byte, varint start_ts, flags byte (F_SHORT_VALUE),
 *		[lenbytes short value]
 * A PUT whose value is longer than MVCC_SHORT_VALUE_MAX keeps it in
 * KV_CF_DEFAULT at start_ts from prewrite on; a shorter one rides in the
 * lock and, at commit, in the write record, so a read is one seek.
 *
 * Every encoded user key is self-delimiting and no encoding is a prefix
 * of another, so the write records of key k are exactly the keys between
 * enc(k) and enc(k) + nine 0xff bytes, and a key k' > k has enc(k') above
 * all of them.  Readers seek with these bounds instead of stepping
 * through old versions.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "kv.h"
#include "log.h"
#include "mvcc.h"
#include "proto.h"
#include "xmalloc.h"

#define F_SHORT_VALUE	0x01
#define TS_LEN		8
#define PAST_KEY_LEN	(TS_LEN + 1)

/* A decoded write record; value points into the stored bytes. */
struct write_rec {
	int type;
	uint64_t start_ts;
	uint64_t commit_ts;		/* from the key */
	int has_value;
	struct bytes value;
};

/* --- records ------------------------------------------------------------ */

/*
 * The reason "what of 'key'": the user key a family key starts with,
 * spelled as on the wire, or the family key itself if it has none.
 */
static void
key_reason(const char *what, struct bytes fkey)
{
	struct buf k = BUF_INIT, user = BUF_INIT;
	const uint8_t *p = fkey.ptr;

	if (codec_decode_bytes(&p, fkey.ptr + fkey.len, &user) == 0)
		proto_escape(&k, user.data, user.len);
	else
		proto_escape(&k, fkey.ptr, fkey.len);
	log_setreason("%s of '%s'", what, k.data ? (char *)k.data : "");
	buf_free(&k);
	buf_free(&user);
}

static int
lock_type_ok(int t)
{
	return t == MVCC_PUT || t == MVCC_DELETE || t == MVCC_LOCK;
}

static const char *
type_name(int t)
{
	switch (t) {
	case MVCC_PUT:
		return "PUT";
	case MVCC_DELETE:
		return "DELETE";
	case MVCC_LOCK:
		return "LOCK";
	case MVCC_ROLLBACK:
		return "ROLLBACK";
	}
	return "UNKNOWN";
}

static void
lock_encode(struct buf *out, const struct mvcc_lock *l)
{
	buf_reset(out);
	buf_addc(out, l->type);
	codec_add_varint(out, l->start_ts);
	codec_add_varint(out, l->ttl_ms);
	codec_add_lenbytes(out, l->primary.data, l->primary.len);
	buf_addc(out, l->has_value ? F_SHORT_VALUE : 0);
	if (l->has_value)
		codec_add_lenbytes(out, l->value.data, l->value.len);
}

/* key is the lock's family key, for the message. */
static int
lock_decode(struct bytes s, struct bytes key, struct mvcc_lock *l)
{
	const uint8_t *p = s.ptr, *end = s.ptr + s.len;
	struct bytes primary, value = { NULL, 0 };
	uint64_t start_ts, ttl;
	int type, flags;

	if (p == end || !lock_type_ok(type = *p++))
		goto bad;
	if (codec_read_varint(&p, end, &start_ts) == -1 ||
	    codec_read_varint(&p, end, &ttl) == -1 ||
	    codec_read_lenbytes(&p, end, &primary) == -1 || p == end)
		goto bad;
	flags = *p++;
	if (flags & ~F_SHORT_VALUE)
		goto bad;
	if ((flags & F_SHORT_VALUE) &&
	    codec_read_lenbytes(&p, end, &value) == -1)
		goto bad;
	if (p != end)
		goto bad;
	l->type = type;
	l->start_ts = start_ts;
	l->ttl_ms = ttl;
	buf_reset(&l->primary);
	buf_add(&l->primary, primary.ptr, primary.len);
	l->has_value = (flags & F_SHORT_VALUE) != 0;
	buf_reset(&l->value);
	buf_add(&l->value, value.ptr, value.len);
	return 0;
bad:
	key_reason("malformed lock record", key);
	return -1;
}

static void
write_encode(struct buf *out, int type, uint64_t start_ts, int has_value,
    const struct buf *value)
{
	buf_reset(out);
	buf_addc(out, type);
	codec_add_varint(out, start_ts);
	buf_addc(out, has_value ? F_SHORT_VALUE : 0);
	if (has_value)
		codec_add_lenbytes(out, value->data, value->len);
}

static int
write_decode(struct bytes s, struct bytes key, struct write_rec *w)
{
	const uint8_t *p = s.ptr, *end = s.ptr + s.len;
	int flags;

	w->value.ptr = NULL;
	w->value.len = 0;
	if (p == end)
		goto bad;
	w->type = *p++;
	if (!lock_type_ok(w->type) && w->type != MVCC_ROLLBACK)
		goto bad;
	if (codec_read_varint(&p, end, &w->start_ts) == -1 || p == end)
		goto bad;
	flags = *p++;
	if (flags & ~F_SHORT_VALUE)
		goto bad;
	w->has_value = (flags & F_SHORT_VALUE) != 0;
	if (w->has_value && codec_read_lenbytes(&p, end, &w->value) == -1)
		goto bad;
	if (p != end)
		goto bad;
	return 0;
bad:
	key_reason("malformed write record", key);
	return -1;
}

void
mvcc_lock_init(struct mvcc_lock *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->primary);
	buf_init(&l->value);
}

void
mvcc_lock_free(struct mvcc_lock *l)
{
	buf_free(&l->primary);
	buf_free(&l->value);
	mvcc_lock_init(l);
}

static void
lock_copy(struct mvcc_lock *dst, const struct mvcc_lock *src)
{
	dst->type = src->type;
	dst->start_ts = src->start_ts;
	dst->ttl_ms = src->ttl_ms;
	buf_reset(&dst->primary);
	buf_add(&dst->primary, src->primary.data, src->primary.len);
	dst->has_value = src->has_value;
	buf_reset(&dst->value);
	buf_add(&dst->value, src->value.data, src->value.len);
}

/*
 * Expired when the lock's TTL ended strictly before current_ts, as TiKV
 * decides: at the very millisecond it ends the owner still counts as
 * alive.  A TTL past the end of time never expires.
 */
int
mvcc_lock_expired(const struct mvcc_lock *l, uint64_t current_ts)
{
	uint64_t born = MVCC_TS_PHYSICAL(l->start_ts);

	if (l->ttl_ms > UINT64_MAX - born)
		return 0;
	return born + l->ttl_ms < MVCC_TS_PHYSICAL(current_ts);
}

/* --- errors ------------------------------------------------------------- */

void
mvcc_err_init(struct mvcc_err *e)
{
	memset(e, 0, sizeof(*e));
	buf_init(&e->key);
	mvcc_lock_init(&e->lock);
	buf_init(&e->text);
}

void
mvcc_err_free(struct mvcc_err *e)
{
	buf_free(&e->key);
	mvcc_lock_free(&e->lock);
	buf_free(&e->text);
	mvcc_err_init(e);
}

/* Starts a fresh error of word on key, keeping the buffers' memory. */
static int
err_set(struct mvcc_err *e, int word, const void *key, size_t keylen)
{
	e->word = word;
	buf_reset(&e->key);
	buf_add(&e->key, key, keylen);
	e->start_ts = e->conflict_start_ts = e->conflict_commit_ts = 0;
	buf_reset(&e->text);
	e->lock.type = 0;
	e->lock.start_ts = e->lock.ttl_ms = 0;
	e->lock.has_value = 0;
	buf_reset(&e->lock.primary);
	buf_reset(&e->lock.value);
	return MVCC_KEY_ERROR;
}

static int
err_locked(struct mvcc_err *e, const void *key, size_t keylen,
    const struct mvcc_lock *l)
{
	err_set(e, PROTO_LOCKED, key, keylen);
	lock_copy(&e->lock, l);
	e->start_ts = l->start_ts;
	return MVCC_KEY_ERROR;
}

static int
err_txn_not_found(struct mvcc_err *e, const void *key, size_t keylen,
    uint64_t start_ts)
{
	err_set(e, PROTO_TXN_NOT_FOUND, key, keylen);
	e->start_ts = start_ts;
	return MVCC_KEY_ERROR;
}

void
mvcc_err_reply(const struct mvcc_err *e, struct buf *line)
{
	switch (e->word) {
	case PROTO_LOCKED:
		buf_addstr(line, proto_word_name(PROTO_LOCKED));
		proto_add_token(line, e->key.data, e->key.len);
		proto_add_token(line, e->lock.primary.data,
		    e->lock.primary.len);
		proto_add_u64(line, e->lock.start_ts);
		proto_add_u64(line, e->lock.ttl_ms);
		proto_add_str(line, type_name(e->lock.type));
		break;
	case PROTO_WRITE_CONFLICT:
		buf_addstr(line, proto_word_name(PROTO_WRITE_CONFLICT));
		proto_add_token(line, e->key.data, e->key.len);
		proto_add_u64(line, e->start_ts);
		proto_add_u64(line, e->conflict_start_ts);
		proto_add_u64(line, e->conflict_commit_ts);
		break;
	case PROTO_ALREADY_EXIST:
		buf_addstr(line, proto_word_name(PROTO_ALREADY_EXIST));
		proto_add_token(line, e->key.data, e->key.len);
		break;
	case PROTO_TXN_NOT_FOUND:
		buf_addstr(line, proto_word_name(PROTO_TXN_NOT_FOUND));
		proto_add_token(line, e->key.data, e->key.len);
		proto_add_u64(line, e->start_ts);
		break;
	default:
		/* CLIENT_ERROR, and any word without fields of its own. */
		proto_reply_error(line, e->word, "%.*s", (int)e->text.len,
		    e->text.data ? (char *)e->text.data : "");
		return;
	}
	proto_end_line(line);
}

/* --- reading ------------------------------------------------------------ */

/* The lock of an encoded key: 1 (*l), 0 none, -1. */
static int
lock_load(struct kv *kv, struct bytes enc, struct mvcc_lock *l,
    struct buf *scratch)
{
	int r;

	if ((r = kv_get(kv, KV_CF_LOCK, enc.ptr, enc.len, scratch)) != 1)
		return r;
	if (lock_decode(buf_bytes(scratch), enc, l) == -1)
		return -1;
	return 1;
}

/* Whether a lock hides from a reader at ts a commit it should see. */
static int
lock_blocks(const struct mvcc_lock *l, uint64_t ts)
{
	return l->start_ts <= ts && l->type != MVCC_LOCK;
}

static void
version_key(struct buf *out, struct bytes enc, uint64_t ts)
{
	buf_reset(out);
	buf_add(out, enc.ptr, enc.len);
	codec_encode_u64_desc(out, ts);
}

/* Appended to enc(k), sorts after every version of k, before any k' > k. */
static const uint8_t past_key[PAST_KEY_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

/* The iterator over every write record of one encoded key. */
static struct kv_iter *
versions_iter(struct kv *kv, struct bytes enc)
{
	struct buf hi = BUF_INIT;
	struct kv_iter *it;

	buf_add(&hi, enc.ptr, enc.len);
	buf_add(&hi, past_key, sizeof(past_key));
	it = kv_iter_new(kv, KV_CF_WRITE, enc.ptr, enc.len, hi.data, hi.len);
	buf_free(&hi);
	return it;
}

/* Seeks it to the version of enc at ts, or with past, beyond them all. */
static int
seek_version(struct kv_iter *it, struct bytes enc, uint64_t ts, int past)
{
	struct buf k = BUF_INIT;
	int r;

	if (past) {
		buf_add(&k, enc.ptr, enc.len);
		buf_add(&k, past_key, sizeof(past_key));
	} else {
		version_key(&k, enc, ts);
	}
	r = kv_iter_seek(it, k.data, k.len);
	buf_free(&k);
	return r;
}

/*
 * The record under it (r: the last positioning result), if it is a
 * version of enc: 1 (*w), 0 past the key's versions, -1.
 */
static int
write_at(struct kv_iter *it, int r, struct bytes enc, struct write_rec *w)
{
	struct bytes k;

	if (r != 1)
		return r;
	k = kv_iter_key(it);
	if (k.len < enc.len || memcmp(k.ptr, enc.ptr, enc.len) != 0)
		return 0;
	if (k.len != enc.len + TS_LEN) {
		key_reason("malformed write key", k);
		return -1;
	}
	w->commit_ts = ~codec_get_u64be(k.ptr + enc.len);
	return write_decode(kv_iter_value(it), k, w) == -1 ? -1 : 1;
}

/*
 * From its position on, the newest PUT or DELETE of enc: rollbacks and
 * read locks are not data.  1 (*w), 0 none, -1.
 */
static int
data_version(struct kv_iter *it, int r, struct bytes enc,
    struct write_rec *w)
{
	for (;;) {
		if ((r = write_at(it, r, enc, w)) != 1)
			return r;
		if (w->type == MVCC_PUT || w->type == MVCC_DELETE)
			return 1;
		r = kv_iter_next(it);
	}
}

/*
 * The write record of the transaction start_ts on enc (its commit, or its
 * rollback at start_ts): 1 (*w, valid until it moves), 0 none, -1.
 */
static int
txn_write(struct kv_iter *it, struct bytes enc, uint64_t start_ts,
    struct write_rec *w)
{
	int r;

	for (r = kv_iter_first(it);; r = kv_iter_next(it)) {
		if ((r = write_at(it, r, enc, w)) != 1)
			return r;
		if (w->commit_ts < start_ts)
			return 0;
		if (w->start_ts == start_ts)
			return 1;
	}
}

/* The value of a PUT w of enc into value: 1, or -1 if it is missing. */
static int
put_value(struct kv *kv, struct bytes enc, const struct write_rec *w,
    struct buf *value)
{
	struct buf k = BUF_INIT;
	int r;

	if (w->has_value) {
		buf_reset(value);
		buf_add(value, w->value.ptr, w->value.len);
		return 1;
	}
	version_key(&k, enc, w->start_ts);
	r = kv_get(kv, KV_CF_DEFAULT, k.data, k.len, value);
	if (r == 0) {
		key_reason("missing value", buf_bytes(&k));
		r = -1;
	}
	buf_free(&k);
	return r;
}

int
mvcc_get(struct kv *kv, const void *key, size_t keylen, uint64_t ts,
    struct buf *value, struct mvcc_err *err)
{
	struct buf enc = BUF_INIT, scratch = BUF_INIT;
	struct mvcc_lock l;
	struct write_rec w;
	struct kv_iter *it = NULL;
	int r;

	mvcc_lock_init(&l);
	codec_encode_bytes(&enc, key, keylen);
	if ((r = lock_load(kv, buf_bytes(&enc), &l, &scratch)) == -1)
		goto out;
	if (r == 1 && lock_blocks(&l, ts)) {
		r = err_locked(err, key, keylen, &l);
		goto out;
	}
	it = versions_iter(kv, buf_bytes(&enc));
	r = seek_version(it, buf_bytes(&enc), ts, 0);
	r = data_version(it, r, buf_bytes(&enc), &w);
	if (r == 1 && w.type == MVCC_DELETE)
		r = 0;
	if (r == 1)
		r = put_value(kv, buf_bytes(&enc), &w, value);
out:
	kv_iter_free(it);
	mvcc_lock_free(&l);
	buf_free(&enc);
	buf_free(&scratch);
	return r;
}

/* The encoded user key part of a write family key. */
static int
write_key_enc(struct bytes k, struct bytes *enc)
{
	if (k.len <= TS_LEN) {
		key_reason("malformed write key", k);
		return -1;
	}
	enc->ptr = k.ptr;
	enc->len = k.len - TS_LEN;
	return 0;
}

static int
decode_user_key(struct bytes enc, struct buf *out)
{
	const uint8_t *p = enc.ptr;

	buf_reset(out);
	if (codec_decode_bytes(&p, enc.ptr + enc.len, out) == -1 ||
	    p != enc.ptr + enc.len) {
		key_reason("malformed key", enc);
		return -1;
	}
	return 0;
}

/*
 * The value of enc at ts for a scan, through its write family iterator,
 * which then moves past every version of enc (*wr: where it landed).
 * 1 for a PUT (value filled unless key_only), 0, -1.
 */
static int
scan_value(struct kv *kv, struct kv_iter *it, struct bytes enc,
    uint64_t ts, int key_only, struct buf *value, int *wr)
{
	struct write_rec w;
	int r;

	r = data_version(it, seek_version(it, enc, ts, 0), enc, &w);
	if (r == 1 && w.type != MVCC_PUT)
		r = 0;
	buf_reset(value);
	/* Before the iterator moves: w points into its record. */
	if (r == 1 && !key_only)
		r = put_value(kv, enc, &w, value);
	if (r != -1)
		*wr = seek_version(it, enc, 0, 1);
	return r;
}

/*
 * The scan walks the lock and the write families side by side, one user
 * key at a time, so a key that has only a lock (being inserted) is seen
 * and checked too.
 */
int
mvcc_scan(struct kv *kv, const void *start, size_t startlen,
    const void *end, size_t endlen, uint64_t ts, uint64_t limit,
    int key_only, mvcc_scan_fn *fn, void *arg, size_t *count,
    struct mvcc_err *err)
{
	struct buf lo = BUF_INIT, hi = BUF_INIT, cur = BUF_INIT;
	struct buf ukey = BUF_INIT, value = BUF_INIT;
	struct kv_iter *lit, *wit;
	struct bytes lk = { NULL, 0 }, wk = { NULL, 0 }, enc;
	struct mvcc_lock l;
	size_t given = 0;
	int lr, wr, c, r = 0;

	mvcc_lock_init(&l);
	/* They bound WRITE too: enc(k) + ts is inside exactly when k is. */
	kv_cf_bounds(KV_CF_LOCK, start, startlen, end, endlen, &lo, &hi);
	lit = kv_iter_new(kv, KV_CF_LOCK, lo.data, lo.len, hi.data, hi.len);
	wit = kv_iter_new(kv, KV_CF_WRITE, lo.data, lo.len, hi.data, hi.len);
	lr = kv_iter_first(lit);
	wr = kv_iter_first(wit);
	while (limit == 0 || given < limit) {
		if (lr == -1 || wr == -1) {
			r = -1;
			break;
		}
		if (!lr && !wr)
			break;
		if (lr)
			lk = kv_iter_key(lit);
		if (wr && (r = write_key_enc(kv_iter_key(wit), &wk)) == -1)
			break;
		/* c < 0: only a lock; c > 0: only writes; 0: both. */
		c = !wr ? -1 : !lr ? 1 : bytes_cmp(lk, wk);
		/* A copy: the iterators' keys go stale as they move. */
		buf_reset(&cur);
		if (c <= 0)
			buf_add(&cur, lk.ptr, lk.len);
		else
			buf_add(&cur, wk.ptr, wk.len);
		enc = buf_bytes(&cur);
		if ((r = decode_user_key(enc, &ukey)) == -1)
			break;
		if (c <= 0) {
			if ((r = lock_decode(kv_iter_value(lit), enc, &l)) ==
			    -1)
				break;
			if (lock_blocks(&l, ts)) {
				r = err_locked(err, ukey.data, ukey.len, &l);
				break;
			}
			lr = kv_iter_next(lit);
		}
		if (c < 0)
			continue;
		r = scan_value(kv, wit, enc, ts, key_only, &value, &wr);
		if (r == 1) {
			if (fn(arg, buf_bytes(&ukey), buf_bytes(&value)) != 0)
				r = -1;
			else
				given++;
		}
		if (r == -1)
			break;
		r = 0;
	}
	if (count)
		*count = given;
	kv_iter_free(lit);
	kv_iter_free(wit);
	mvcc_lock_free(&l);
	buf_free(&lo);
	buf_free(&hi);
	buf_free(&cur);
	buf_free(&ukey);
	buf_free(&value);
	return r;
}

/* --- actions ------------------------------------------------------------ */

/*
 * What an action will do to one key, worked out for every key before any
 * is written, so a key error leaves the batch untouched.
 */
enum step {
	STEP_NONE,
	STEP_COMMIT,		/* lock -> write record at commit_ts */
	STEP_ROLLBACK		/* unlock and/or record, as flagged */
};

struct plan {
	int step;
	int unlock;		/* STEP_ROLLBACK: remove our lock */
	int record;		/* STEP_ROLLBACK: put the rollback record */
	struct buf enc;
	struct mvcc_lock lock;	/* ours, when step needs it */
};

static void
plan_init(struct plan *p)
{
	p->step = STEP_NONE;
	p->unlock = p->record = 0;
	buf_init(&p->enc);
	mvcc_lock_init(&p->lock);
}

static void
plan_free(struct plan *p)
{
	buf_free(&p->enc);
	mvcc_lock_free(&p->lock);
}

static struct plan *
plans_new(size_t n)
{
	struct plan *p;
	size_t i;

	p = xcalloc(n ? n : 1, sizeof(*p));
	for (i = 0; i < n; i++)
		plan_init(&p[i]);
	return p;
}

static void
plans_free(struct plan *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		plan_free(&p[i]);
	free(p);
}

static void
put_write(struct kv_batch *b, struct bytes enc, uint64_t commit_ts,
    int type, uint64_t start_ts, int has_value, const struct buf *value)
{
	struct buf k = BUF_INIT, v = BUF_INIT;

	version_key(&k, enc, commit_ts);
	write_encode(&v, type, start_ts, has_value, value);
	kv_batch_put(b, KV_CF_WRITE, k.data, k.len, v.data, v.len);
	buf_free(&k);
	buf_free(&v);
}

/*
 * Whether a rollback record for start_ts should go on enc: not if one is
 * there already, nor over another transaction's commit at that ts (TSO
 * rules it out, but a commit must never be lost, and a late prewrite of
 * start_ts meets that record and fails all the same).  1, 0 or -1.
 */
static int
rollback_needed(struct kv *kv, struct bytes enc, uint64_t start_ts)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	int r;

	version_key(&k, enc, start_ts);
	r = kv_get(kv, KV_CF_WRITE, k.data, k.len, &v);
	buf_free(&k);
	buf_free(&v);
	return r == -1 ? -1 : !r;
}

/* Adds a plan's writes to the batch. */
static void
plan_apply(struct kv_batch *b, const struct plan *p, uint64_t start_ts,
    uint64_t commit_ts)
{
	struct bytes enc = buf_bytes(&p->enc);
	const struct mvcc_lock *l = &p->lock;
	struct buf k = BUF_INIT;

	switch (p->step) {
	case STEP_COMMIT:
		put_write(b, enc, commit_ts, l->type, start_ts, l->has_value,
		    &l->value);
		kv_batch_delete(b, KV_CF_LOCK, enc.ptr, enc.len);
		break;
	case STEP_ROLLBACK:
		if (p->unlock && l->type == MVCC_PUT && !l->has_value) {
			version_key(&k, enc, start_ts);
			kv_batch_delete(b, KV_CF_DEFAULT, k.data, k.len);
		}
		if (p->unlock)
			kv_batch_delete(b, KV_CF_LOCK, enc.ptr, enc.len);
		if (p->record)
			put_write(b, enc, start_ts, MVCC_ROLLBACK, start_ts, 0,
			    NULL);
		break;
	}
	buf_free(&k);
}

/*
 * Plans the rollback of start_ts on a key: 0, MVCC_KEY_ERROR if the
 * transaction committed it, -1.  Another transaction's lock stays; the
 * record still goes on, so our own late prewrite fails.
 */
static int
plan_rollback(struct kv *kv, struct bytes key, uint64_t start_ts,
    struct plan *p, struct mvcc_err *err)
{
	struct buf scratch = BUF_INIT, text = BUF_INIT;
	struct kv_iter *it;
	struct write_rec w;
	struct bytes enc;
	int r;

	buf_reset(&p->enc);
	codec_encode_bytes(&p->enc, key.ptr, key.len);
	enc = buf_bytes(&p->enc);
	if ((r = lock_load(kv, enc, &p->lock, &scratch)) == -1)
		goto out;
	p->unlock = r == 1 && p->lock.start_ts == start_ts;
	if (!p->unlock) {
		it = versions_iter(kv, enc);
		r = txn_write(it, enc, start_ts, &w);
		kv_iter_free(it);
		if (r == -1)
			goto out;
		if (r == 1 && w.type != MVCC_ROLLBACK) {
			err_set(err, PROTO_CLIENT_ERROR, key.ptr, key.len);
			proto_escape(&text, key.ptr, key.len);
			buf_printf(&err->text,
			    "key %s of txn %llu is committed",
			    text.data ? (char *)text.data : "",
			    (unsigned long long)start_ts);
			r = MVCC_KEY_ERROR;
			goto out;
		}
	}
	if ((r = rollback_needed(kv, enc, start_ts)) == -1)
		goto out;
	p->record = r;
	p->step = STEP_ROLLBACK;
	r = 0;
out:
	buf_free(&scratch);
	buf_free(&text);
	return r;
}

/*
 * Checks a mutation against the committed state: 0 with *write set when
 * the lock must be written (0 when this transaction holds it already),
 * MVCC_KEY_ERROR, -1.
 */
static int
prewrite_check(struct kv *kv, const struct mvcc_mutation *m,
    uint64_t start_ts, int *write, struct mvcc_err *err)
{
	struct buf enc = BUF_INIT, scratch = BUF_INIT;
	struct mvcc_lock l;
	struct write_rec w;
	struct kv_iter *it = NULL;
	int r;

	*write = 0;
	mvcc_lock_init(&l);
	codec_encode_bytes(&enc, m->key.ptr, m->key.len);
	if ((r = lock_load(kv, buf_bytes(&enc), &l, &scratch)) == -1)
		goto out;
	if (r == 1) {
		/* Ours: a resent prewrite finds its own lock, unchanged. */
		r = l.start_ts == start_ts ? 0 :
		    err_locked(err, m->key.ptr, m->key.len, &l);
		goto out;
	}
	/*
	 * If any record sits at or after start_ts (a rollback of this very
	 * transaction at start_ts included), the newest does, so it alone
	 * decides.  A prewrite resent after its own commit fails here
	 * rather than lock the key again.
	 */
	it = versions_iter(kv, buf_bytes(&enc));
	r = write_at(it, kv_iter_first(it), buf_bytes(&enc), &w);
	if (r == -1)
		goto out;
	if (r == 1 && w.commit_ts >= start_ts) {
		err_set(err, PROTO_WRITE_CONFLICT, m->key.ptr, m->key.len);
		err->start_ts = start_ts;
		err->conflict_start_ts = w.start_ts;
		err->conflict_commit_ts = w.commit_ts;
		r = MVCC_KEY_ERROR;
		goto out;
	}
	if (m->type == MVCC_PUT && m->insert && r == 1) {
		r = data_version(it, r, buf_bytes(&enc), &w);
		if (r == -1)
			goto out;
		if (r == 1 && w.type == MVCC_PUT) {
			r = err_set(err, PROTO_ALREADY_EXIST, m->key.ptr,
			    m->key.len);
			goto out;
		}
	}
	*write = 1;
	r = 0;
out:
	kv_iter_free(it);
	mvcc_lock_free(&l);
	buf_free(&enc);
	buf_free(&scratch);
	return r;
}

static void
prewrite_put(struct kv_batch *b, const struct mvcc_mutation *m,
    struct bytes primary, uint64_t start_ts, uint64_t ttl_ms)
{
	struct buf enc = BUF_INIT, k = BUF_INIT, v = BUF_INIT;
	struct mvcc_lock l;

	mvcc_lock_init(&l);
	l.type = m->type;
	l.start_ts = start_ts;
	l.ttl_ms = ttl_ms;
	buf_add(&l.primary, primary.ptr, primary.len);
	codec_encode_bytes(&enc, m->key.ptr, m->key.len);
	if (m->type == MVCC_PUT && m->value.len <= MVCC_SHORT_VALUE_MAX) {
		l.has_value = 1;
		buf_add(&l.value, m->value.ptr, m->value.len);
	} else if (m->type == MVCC_PUT) {
		version_key(&k, buf_bytes(&enc), start_ts);
		kv_batch_put(b, KV_CF_DEFAULT, k.data, k.len, m->value.ptr,
		    m->value.len);
	}
	lock_encode(&v, &l);
	kv_batch_put(b, KV_CF_LOCK, enc.data, enc.len, v.data, v.len);
	mvcc_lock_free(&l);
	buf_free(&enc);
	buf_free(&k);
	buf_free(&v);
}

int
mvcc_prewrite(struct kv *kv, struct kv_batch *b,
    const struct mvcc_mutation *m, size_t n, struct bytes primary,
    uint64_t start_ts, uint64_t ttl_ms, struct mvcc_err *err)
{
	int *write, r = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!lock_type_ok(m[i].type)) {
			err_set(err, PROTO_CLIENT_ERROR, m[i].key.ptr,
			    m[i].key.len);
			buf_printf(&err->text, "bad mutation type %d",
			    m[i].type);
			return MVCC_KEY_ERROR;
		}
	write = xcalloc(n ? n : 1, sizeof(*write));
	for (i = 0; i < n && r == 0; i++)
		r = prewrite_check(kv, &m[i], start_ts, &write[i], err);
	for (i = 0; i < n && r == 0; i++)
		if (write[i])
			prewrite_put(b, &m[i], primary, start_ts, ttl_ms);
	free(write);
	return r;
}

/* Plans the commit of one key: 0, MVCC_KEY_ERROR, -1. */
static int
plan_commit(struct kv *kv, struct bytes key, uint64_t start_ts,
    struct plan *p, struct mvcc_err *err)
{
	struct buf scratch = BUF_INIT;
	struct kv_iter *it;
	struct write_rec w;
	struct bytes enc;
	int r;

	codec_encode_bytes(&p->enc, key.ptr, key.len);
	enc = buf_bytes(&p->enc);
	r = lock_load(kv, enc, &p->lock, &scratch);
	buf_free(&scratch);
	if (r == -1)
		return -1;
	if (r == 1 && p->lock.start_ts == start_ts) {
		p->step = STEP_COMMIT;
		return 0;
	}
	it = versions_iter(kv, enc);
	r = txn_write(it, enc, start_ts, &w);
	kv_iter_free(it);
	if (r == -1)
		return -1;
	if (r == 1 && w.type != MVCC_ROLLBACK)
		return 0;		/* committed before: done */
	return err_txn_not_found(err, key.ptr, key.len, start_ts);
}

int
mvcc_commit(struct kv *kv, struct kv_batch *b, const struct bytes *keys,
    size_t n, uint64_t start_ts, uint64_t commit_ts, struct mvcc_err *err)
{
	struct plan *p;
	size_t i;
	int r = 0;

	if (commit_ts <= start_ts) {
		err_set(err, PROTO_CLIENT_ERROR, n ? keys[0].ptr : NULL,
		    n ? keys[0].len : 0);
		buf_printf(&err->text, "commit_ts %llu is not after start_ts "
		    "%llu", (unsigned long long)commit_ts,
		    (unsigned long long)start_ts);
		return MVCC_KEY_ERROR;
	}
	p = plans_new(n);
	for (i = 0; i < n && r == 0; i++)
		r = plan_commit(kv, keys[i], start_ts, &p[i], err);
	for (i = 0; i < n && r == 0; i++)
		plan_apply(b, &p[i], start_ts, commit_ts);
	plans_free(p, n);
	return r;
}

int
mvcc_rollback(struct kv *kv, struct kv_batch *b, const struct bytes *keys,
    size_t n, uint64_t start_ts, struct mvcc_err *err)
{
	struct plan *p;
	size_t i;
	int r = 0;

	p = plans_new(n);
	for (i = 0; i < n && r == 0; i++)
		r = plan_rollback(kv, keys[i], start_ts, &p[i], err);
	for (i = 0; i < n && r == 0; i++)
		plan_apply(b, &p[i], start_ts, 0);
	plans_free(p, n);
	return r;
}

int
mvcc_check_txn_status(struct kv *kv, struct kv_batch *b,
    struct bytes primary, uint64_t lock_ts, uint64_t current_ts,
    int rollback_if_missing, struct mvcc_txn_status *st,
    struct mvcc_err *err)
{
	struct buf scratch = BUF_INIT;
	struct kv_iter *it;
	struct write_rec w;
	struct plan p;
	struct bytes enc;
	int r;

	memset(st, 0, sizeof(*st));
	plan_init(&p);
	codec_encode_bytes(&p.enc, primary.ptr, primary.len);
	enc = buf_bytes(&p.enc);
	if ((r = lock_load(kv, enc, &p.lock, &scratch)) == -1)
		goto out;
	if (r == 1 && p.lock.start_ts == lock_ts) {
		if (!mvcc_lock_expired(&p.lock, current_ts)) {
			st->state = MVCC_TXN_LOCKED;
			st->ttl_ms = p.lock.ttl_ms;
			r = 0;
			goto out;
		}
		/* The owner is presumed dead. */
		if ((r = plan_rollback(kv, primary, lock_ts, &p, err)) == 0) {
			plan_apply(b, &p, lock_ts, 0);
			st->state = MVCC_TXN_ROLLED_BACK;
		}
		goto out;
	}
	it = versions_iter(kv, enc);
	r = txn_write(it, enc, lock_ts, &w);
	if (r == 1 && w.type == MVCC_ROLLBACK) {
		st->state = MVCC_TXN_ROLLED_BACK;
	} else if (r == 1) {
		st->state = MVCC_TXN_COMMITTED;
		st->commit_ts = w.commit_ts;
	}
	kv_iter_free(it);
	if (r != 0) {
		r = r == 1 ? 0 : -1;
		goto out;
	}
	if (!rollback_if_missing) {
		/* The prewrite may still be on its way: no verdict yet. */
		r = err_txn_not_found(err, primary.ptr, primary.len, lock_ts);
		goto out;
	}
	if ((r = rollback_needed(kv, enc, lock_ts)) == -1)
		goto out;
	if (r)
		put_write(b, enc, lock_ts, MVCC_ROLLBACK, lock_ts, 0, NULL);
	st->state = MVCC_TXN_ROLLED_BACK;
	r = 0;
out:
	buf_free(&scratch);
	plan_free(&p);
	return r;
}

int
mvcc_resolve_lock(struct kv *kv, struct kv_batch *b, const void *start,
    size_t startlen, const void *end, size_t endlen, uint64_t start_ts,
    uint64_t commit_ts, size_t *resolved)
{
	struct buf lo = BUF_INIT, hi = BUF_INIT, user = BUF_INIT;
	struct kv_iter *it;
	struct bytes k;
	struct plan p;
	size_t done = 0;
	int r;

	if (resolved)
		*resolved = 0;
	if (commit_ts != 0 && commit_ts <= start_ts) {
		log_setreason("commit_ts %llu is not after start_ts %llu",
		    (unsigned long long)commit_ts,
		    (unsigned long long)start_ts);
		return -1;
	}
	plan_init(&p);
	kv_cf_bounds(KV_CF_LOCK, start, startlen, end, endlen, &lo, &hi);
	it = kv_iter_new(kv, KV_CF_LOCK, lo.data, lo.len, hi.data, hi.len);
	for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it)) {
		k = kv_iter_key(it);
		if (decode_user_key(k, &user) == -1 ||
		    lock_decode(kv_iter_value(it), k, &p.lock) == -1) {
			r = -1;
			break;
		}
		if (p.lock.start_ts != start_ts)
			continue;
		buf_reset(&p.enc);
		buf_add(&p.enc, k.ptr, k.len);
		if (commit_ts) {
			p.step = STEP_COMMIT;
		} else {
			/* Holding our lock, the key is not committed. */
			p.step = STEP_ROLLBACK;
			p.unlock = 1;
			if ((p.record = rollback_needed(kv, k, start_ts)) ==
			    -1) {
				r = -1;
				break;
			}
		}
		plan_apply(b, &p, start_ts, commit_ts);
		done++;
	}
	kv_iter_free(it);
	/* On -1 the batch holds part of the work: the caller drops it. */
	if (r == 0 && resolved)
		*resolved = done;
	plan_free(&p);
	buf_free(&lo);
	buf_free(&hi);
	buf_free(&user);
	return r;
}

int
mvcc_heartbeat(struct kv *kv, struct kv_batch *b, struct bytes primary,
    uint64_t start_ts, uint64_t ttl_ms, uint64_t *ttl_out,
    struct mvcc_err *err)
{
	struct buf enc = BUF_INIT, scratch = BUF_INIT;
	struct mvcc_lock l;
	int r;

	mvcc_lock_init(&l);
	codec_encode_bytes(&enc, primary.ptr, primary.len);
	if ((r = lock_load(kv, buf_bytes(&enc), &l, &scratch)) == -1)
		goto out;
	if (r == 0 || l.start_ts != start_ts) {
		r = err_txn_not_found(err, primary.ptr, primary.len,
		    start_ts);
		goto out;
	}
	if (l.ttl_ms < ttl_ms) {
		l.ttl_ms = ttl_ms;
		lock_encode(&scratch, &l);
		kv_batch_put(b, KV_CF_LOCK, enc.data, enc.len, scratch.data,
		    scratch.len);
	}
	if (ttl_out)
		*ttl_out = l.ttl_ms;
	r = 0;
out:
	mvcc_lock_free(&l);
	buf_free(&enc);
	buf_free(&scratch);
	return r;
}
