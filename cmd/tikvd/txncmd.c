/*
 * Transactional commands at apply (txncmd.h): cmd in, mvcc action or
 * reader, reply line out.  The Percolator logic itself is in
 * libcommon/mvcc.c; this file only translates.
 */
#include <stdlib.h>

#include "cmdfmt.h"
#include "log.h"
#include "mvcc.h"
#include "proto.h"
#include "region.h"
#include "txncmd.h"
#include "xmalloc.h"

static struct bytes
key_of(const struct cmd_op *op)
{
	return buf_bytes(&op->key);
}

static int
mutation_type(int op_type)
{
	switch (op_type) {
	case CMD_OP_TXN_PUT:
	case CMD_OP_TXN_INSERT:
		return MVCC_PUT;
	case CMD_OP_TXN_DELETE:
		return MVCC_DELETE;
	default:
		return MVCC_LOCK;
	}
}

static int
prewrite(struct kv *kv, const struct cmd *c, struct kv_batch *batch,
    struct mvcc_err *err)
{
	struct mvcc_mutation *m;
	size_t i;
	int r;

	m = xcalloc(c->nops ? c->nops : 1, sizeof(*m));
	for (i = 0; i < c->nops; i++) {
		m[i].type = mutation_type(c->ops[i].type);
		m[i].insert = c->ops[i].type == CMD_OP_TXN_INSERT;
		m[i].key = key_of(&c->ops[i]);
		m[i].value = buf_bytes(&c->ops[i].value);
	}
	r = mvcc_prewrite(kv, batch, m, c->nops, buf_bytes(&c->txn.primary),
	    c->txn.start_ts, c->txn.ttl_ms, err);
	free(m);
	return r;
}

/* The keys of a commit or rollback. */
static struct bytes *
op_keys(const struct cmd *c)
{
	struct bytes *k = xcalloc(c->nops ? c->nops : 1, sizeof(*k));
	size_t i;

	for (i = 0; i < c->nops; i++)
		k[i] = key_of(&c->ops[i]);
	return k;
}

static int
check_status(struct kv *kv, const struct cmd *c, struct kv_batch *batch,
    struct buf *line, struct mvcc_err *err)
{
	struct mvcc_txn_status st;
	int r;

	r = mvcc_check_txn_status(kv, batch, key_of(&c->ops[0]),
	    c->txn.start_ts, c->txn.commit_ts,
	    (c->txn.flags & CMD_TXN_F_ROLLBACK_IF_MISSING) != 0, &st, err);
	if (r != 0)
		return r;
	buf_addstr(line, proto_word_name(PROTO_OK));
	switch (st.state) {
	case MVCC_TXN_LOCKED:
		proto_add_str(line, "LOCKED");
		proto_add_u64(line, st.ttl_ms);
		break;
	case MVCC_TXN_COMMITTED:
		proto_add_str(line, "COMMITTED");
		proto_add_u64(line, st.commit_ts);
		break;
	default:
		proto_add_str(line, "ROLLED_BACK");
		break;
	}
	proto_end_line(line);
	return 0;
}

int
txncmd_apply(struct kv *kv, const struct region *reg, const struct cmd *c,
    struct kv_batch *batch, struct buf *reply)
{
	struct buf line = BUF_INIT;
	const struct buf *bad;
	struct mvcc_err err;
	struct bytes *keys;
	uint64_t ttl;
	size_t n;
	int r;

	if (c->kind != CMD_TXN) {
		proto_reply_error(reply, PROTO_SERVER_ERROR,
		    "txncmd_apply: cmd of kind %d is not a txn cmd", c->kind);
		return 0;
	}
	if ((bad = cmd_key_outside(reg, c)) != NULL) {
		cmd_reply_key_not_in_region(reply, reg, bad);
		return 0;
	}
	mvcc_err_init(&err);
	switch (c->txn.action) {
	case CMD_TXN_PREWRITE:
		r = prewrite(kv, c, batch, &err);
		break;
	case CMD_TXN_COMMIT:
	case CMD_TXN_ROLLBACK:
		keys = op_keys(c);
		if (c->txn.action == CMD_TXN_COMMIT)
			r = mvcc_commit(kv, batch, keys, c->nops,
			    c->txn.start_ts, c->txn.commit_ts, &err);
		else
			r = mvcc_rollback(kv, batch, keys, c->nops,
			    c->txn.start_ts, &err);
		free(keys);
		break;
	case CMD_TXN_CHECK_STATUS:
		r = c->nops == 1 ? check_status(kv, c, batch, &line, &err) :
		    -1;
		if (c->nops != 1)
			log_setreason("status check of %zu keys", c->nops);
		break;
	case CMD_TXN_RESOLVE_LOCK:
		r = mvcc_resolve_lock(kv, batch, reg->start.data,
		    reg->start.len, reg->end.data, reg->end.len,
		    c->txn.start_ts, c->txn.commit_ts, &n);
		if (r == 0) {
			buf_addstr(&line, proto_word_name(PROTO_OK));
			proto_add_u64(&line, n);
			proto_end_line(&line);
		}
		break;
	case CMD_TXN_HEARTBEAT:
		r = c->nops == 1 ? mvcc_heartbeat(kv, batch,
		    key_of(&c->ops[0]), c->txn.start_ts, c->txn.ttl_ms, &ttl,
		    &err) : -1;
		if (c->nops != 1)
			log_setreason("heartbeat of %zu keys", c->nops);
		if (r == 0) {
			buf_addstr(&line, proto_word_name(PROTO_OK));
			proto_add_u64(&line, ttl);
			proto_end_line(&line);
		}
		break;
	default:
		r = -1;
		log_setreason("unknown txn action %d", c->txn.action);
		break;
	}
	if (r == MVCC_KEY_ERROR)
		mvcc_err_reply(&err, reply);
	else if (r == 0 && line.len > 0)
		buf_add(reply, line.data, line.len);
	else if (r == 0)
		proto_reply_ok(reply);
	mvcc_err_free(&err);
	buf_free(&line);
	return r == -1 ? -1 : 0;
}

int
txncmd_is_read(const struct cmd *c)
{
	if (c->kind != CMD_READ || c->nops != 1)
		return 0;
	switch (c->ops[0].type) {
	case CMD_OP_TXN_GET:
	case CMD_OP_TXN_BATCH_GET:
	case CMD_OP_TXN_SCAN:
		return 1;
	}
	return 0;
}

static int
add_pair(void *arg, struct bytes key, struct bytes value)
{
	struct buf *reply = arg;

	buf_addstr(reply, proto_word_name(PROTO_VALUE));
	proto_add_token(reply, key.ptr, key.len);
	proto_add_token(reply, value.ptr, value.len);
	proto_end_line(reply);
	return 0;
}

static int
add_key(void *arg, struct bytes key, struct bytes value)
{
	struct buf *reply = arg;

	buf_addstr(reply, proto_word_name(PROTO_VALUE));
	proto_add_token(reply, key.ptr, key.len);
	proto_end_line(reply);
	return 0;
}

static int
read_batch_get(struct kv *kv, const struct cmd *c, const struct cmd_op *op,
    struct buf *reply, struct mvcc_err *err)
{
	struct buf v = BUF_INIT;
	size_t i;
	int r = 0;

	for (i = 0; i < op->nkeys && r != -1 && r != MVCC_KEY_ERROR; i++) {
		r = mvcc_get(kv, op->keys[i].data, op->keys[i].len,
		    c->txn.start_ts, &v, err);
		if (r == 1)
			add_pair(reply, buf_bytes(&op->keys[i]),
			    buf_bytes(&v));
	}
	buf_free(&v);
	if (r == -1 || r == MVCC_KEY_ERROR)
		return r;
	proto_reply_word(reply, PROTO_END);
	return 0;
}

static int
read_scan(struct kv *kv, const struct region *reg, const struct cmd *c,
    const struct cmd_op *op, struct buf *reply, struct mvcc_err *err)
{
	struct bytes lo, hi;
	int key_only = (op->flags & CMD_F_KEY_ONLY) != 0, r = 0;

	if (op->limit > 0 && region_clamp(reg, buf_bytes(&op->key),
	    buf_bytes(&op->end), &lo, &hi))
		r = mvcc_scan(kv, lo.ptr, lo.len, hi.ptr, hi.len,
		    c->txn.start_ts, op->limit, key_only,
		    key_only ? add_key : add_pair, reply, NULL, err);
	if (r == -1 || r == MVCC_KEY_ERROR)
		return r;
	proto_reply_word(reply, PROTO_END);
	return 0;
}

void
txncmd_read(struct kv *kv, const struct region *reg, const struct cmd *c,
    struct buf *reply)
{
	const struct buf *bad;
	const struct cmd_op *op;
	struct mvcc_err err;
	struct buf v = BUF_INIT;
	size_t mark = reply->len;
	int r;

	if (!txncmd_is_read(c)) {
		proto_reply_error(reply, PROTO_SERVER_ERROR,
		    "txncmd_read: not a txn read of one op");
		return;
	}
	if ((bad = cmd_key_outside(reg, c)) != NULL) {
		cmd_reply_key_not_in_region(reply, reg, bad);
		return;
	}
	op = &c->ops[0];
	mvcc_err_init(&err);
	switch (op->type) {
	case CMD_OP_TXN_GET:
		r = mvcc_get(kv, op->key.data, op->key.len, c->txn.start_ts,
		    &v, &err);
		if (r == 1)
			proto_reply_value(reply, v.data, v.len);
		else if (r == 0)
			proto_reply_word(reply, PROTO_NOT_FOUND);
		break;
	case CMD_OP_TXN_BATCH_GET:
		r = read_batch_get(kv, c, op, reply, &err);
		break;
	default:
		r = read_scan(kv, reg, c, op, reply, &err);
		break;
	}
	/* No half list: an error replaces whatever was written. */
	if (r == MVCC_KEY_ERROR) {
		buf_truncate(reply, mark);
		mvcc_err_reply(&err, reply);
	} else if (r == -1) {
		buf_truncate(reply, mark);
		proto_reply_error(reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
	}
	mvcc_err_free(&err);
	buf_free(&v);
}
