/*
 * tikvd's command table (service.h) and the nng handler that runs it.
 *
 * A raw command is parsed and checked here, on nng's thread, into a
 * struct cmd; the raftstore takes it from there (raftstore_propose for
 * writes, raftstore_read for reads) and the reply comes back through the
 * command's slot.  Bad input is answered at once with CLIENT_ERROR and
 * never reaches the raftstore.  Nothing here blocks on Raft.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdfmt.h"
#include "log.h"
#include "net.h"
#include "pdworker.h"
#include "proto.h"
#include "raft.h"
#include "raftstore.h"
#include "region.h"
#include "request.h"
#include "schema.h"
#include "service.h"
#include "tikvd.h"
#include "transport.h"
#include "version.h"
#include "xmalloc.h"

/* Most pairs one RAW_SCAN returns. */
#define RAW_SCAN_MAX_LIMIT	10240

/* One store per process, set by the first request (service_handle). */
static struct store *_Atomic service_store;

static struct store *
store(void)
{
	return service_store;
}

/* A client's token in an error, in its token spelling, cut short. */
static void
quote_arg(struct buf *out, struct bytes b)
{
	proto_escape(out, b.ptr, b.len > 64 ? 64 : b.len);
}

static int
word_is(struct bytes b, const char *w)
{
	size_t n = strlen(w);

	return b.len == n && strncasecmp((const char *)b.ptr, w, n) == 0;
}

static void
usage_error(struct proto_call *call)
{
	proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
	    "wrong number of arguments for '%s', usage: %s", call->cmd->name,
	    call->cmd->synopsis);
}

/*
 * The region context token: REGION_ID:CONF_VER:VERSION, or "-" for
 * region_id 0 (route by key, no epoch check).
 */
static int
parse_ctx(struct proto_call *call, size_t i, uint64_t *region_id,
    struct region_epoch *epoch)
{
	struct bytes t = call->argv[i], part;
	uint64_t v[3];
	size_t k = 0, p, start = 0;
	struct buf q = BUF_INIT;

	if (t.len == 1 && t.ptr[0] == '-') {
		*region_id = 0;
		epoch->conf_ver = epoch->version = 0;
		return 0;
	}
	for (p = 0; p <= t.len && k < 3; p++) {
		if (p < t.len && t.ptr[p] != ':')
			continue;
		part.ptr = t.ptr + start;
		part.len = p - start;
		if (proto_bytes_u64(part, &v[k]) == -1)
			break;
		k++;
		start = p + 1;
	}
	if (k == 3 && p == t.len + 1 && v[0] != 0) {
		*region_id = v[0];
		epoch->conf_ver = v[1];
		epoch->version = v[2];
		return 0;
	}
	quote_arg(&q, t);
	proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
	    "bad region context '%s', expected REGION_ID:CONF_VER:VERSION "
	    "or -", (const char *)q.data);
	buf_free(&q);
	return -1;
}

static int
check_key(struct proto_call *call, size_t i)
{
	uint64_t max = store()->cfg->max_key_size;

	if (call->argv[i].len <= max)
		return 0;
	proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
	    "argument %zu of '%s' is a key of %zu bytes, larger than "
	    "storage.max-key-size (%llu)", i + 1, call->cmd->name,
	    call->argv[i].len, (unsigned long long)max);
	return -1;
}

static void
set_buf(struct buf *b, struct bytes v)
{
	buf_reset(b);
	buf_add(b, v.ptr, v.len);
}

/* A cmd for the raftstore, with the context of argument 0. */
static struct cmd *
new_cmd(struct proto_call *call, int kind)
{
	struct cmd *c = xmalloc(sizeof(*c));

	cmd_init(c);
	c->kind = kind;
	c->now_ms = tikvd_now_ms();
	if (parse_ctx(call, 0, &c->region_id, &c->epoch) == -1) {
		cmd_free(c);
		free(c);
		return NULL;
	}
	return c;
}

static void
drop_cmd(struct cmd *c)
{
	cmd_free(c);
	free(c);
}

/* An op on the key of argument i (checked). */
static struct cmd_op *
add_key_op(struct proto_call *call, struct cmd *c, int type, size_t i)
{
	struct cmd_op *op;

	if (check_key(call, i) == -1)
		return NULL;
	op = cmd_add_op(c, type);
	set_buf(&op->key, call->argv[i]);
	return op;
}

/* An op on the range of arguments i and i + 1 (checked). */
static struct cmd_op *
add_range_op(struct proto_call *call, struct cmd *c, int type, size_t i)
{
	struct cmd_op *op;

	if (check_key(call, i) == -1 || check_key(call, i + 1) == -1)
		return NULL;
	op = cmd_add_op(c, type);
	set_buf(&op->key, call->argv[i]);
	set_buf(&op->end, call->argv[i + 1]);
	return op;
}

static int
parse_ttl(struct proto_call *call, size_t i, uint64_t *ttl)
{
	return proto_arg_u64(call, i, 0, UINT64_MAX, ttl);
}

static void
submit_write(struct proto_call *call, struct cmd *c)
{
	struct store *st = store();
	size_t size = cmd_encoded_size(c);

	if (size > st->cfg->raft_entry_max_size) {
		proto_reply_error(call->reply, PROTO_RAFT_ENTRY_TOO_LARGE,
		    "%llu %zu", (unsigned long long)c->region_id, size);
		drop_cmd(c);
		return;
	}
	raftstore_propose(st->rs, c, request_defer(call->ctx));
}

static void
submit_read(struct proto_call *call, struct cmd *c)
{
	raftstore_read(store()->rs, c, request_defer(call->ctx));
}

/* Raw reads. */

static void
cmd_raw_get(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);

	if (c == NULL)
		return;
	if (add_key_op(call, c, CMD_OP_GET, 1) == NULL) {
		drop_cmd(c);
		return;
	}
	submit_read(call, c);
}

static void
cmd_raw_get_ttl(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);

	if (c == NULL)
		return;
	if (add_key_op(call, c, CMD_OP_GET_TTL, 1) == NULL) {
		drop_cmd(c);
		return;
	}
	submit_read(call, c);
}

static void
cmd_raw_batch_get(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);
	struct cmd_op *op;
	size_t i;

	if (c == NULL)
		return;
	op = cmd_add_op(c, CMD_OP_BATCH_GET);
	for (i = 1; i < call->argc; i++) {
		if (check_key(call, i) == -1) {
			drop_cmd(c);
			return;
		}
		cmd_op_add_key(op, call->argv[i].ptr, call->argv[i].len);
	}
	submit_read(call, c);
}

static void
cmd_raw_scan(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);
	struct cmd_op *op;
	uint64_t limit;
	size_t i;

	if (c == NULL)
		return;
	if ((op = add_range_op(call, c, CMD_OP_SCAN, 1)) == NULL ||
	    proto_arg_u64(call, 3, 0, RAW_SCAN_MAX_LIMIT, &limit) == -1)
		goto bad;
	op->limit = limit;
	for (i = 4; i < call->argc; i++) {
		int f = word_is(call->argv[i], "KEY_ONLY") ? CMD_F_KEY_ONLY :
		    word_is(call->argv[i], "REVERSE") ? CMD_F_REVERSE : 0;

		if (f == 0 || (op->flags & f)) {
			struct buf q = BUF_INIT;

			quote_arg(&q, call->argv[i]);
			proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
			    "argument %zu of '%s' is '%s', expected KEY_ONLY "
			    "or REVERSE, each at most once", i + 1,
			    call->cmd->name, (const char *)q.data);
			buf_free(&q);
			goto bad;
		}
		op->flags |= f;
	}
	submit_read(call, c);
	return;
bad:
	drop_cmd(c);
}

static void
cmd_raw_checksum(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);

	if (c == NULL)
		return;
	if (add_range_op(call, c, CMD_OP_CHECKSUM, 1) == NULL) {
		drop_cmd(c);
		return;
	}
	submit_read(call, c);
}

/* Raw writes. */

static void
cmd_raw_put(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_WRITE);
	struct cmd_op *op;

	if (c == NULL)
		return;
	if ((op = add_key_op(call, c, CMD_OP_PUT, 1)) == NULL ||
	    (call->argc == 4 && parse_ttl(call, 3, &op->ttl) == -1)) {
		drop_cmd(c);
		return;
	}
	set_buf(&op->value, call->argv[2]);
	submit_write(call, c);
}

static void
cmd_raw_batch_put(struct proto_call *call)
{
	struct cmd *c;
	struct cmd_op *op;
	uint64_t ttl;
	size_t i;

	if ((call->argc - 2) % 2 != 0) {
		usage_error(call);
		return;
	}
	if ((c = new_cmd(call, CMD_WRITE)) == NULL)
		return;
	if (parse_ttl(call, 1, &ttl) == -1)
		goto bad;
	for (i = 2; i < call->argc; i += 2) {
		if ((op = add_key_op(call, c, CMD_OP_PUT, i)) == NULL)
			goto bad;
		set_buf(&op->value, call->argv[i + 1]);
		op->ttl = ttl;
	}
	submit_write(call, c);
	return;
bad:
	drop_cmd(c);
}

static void
cmd_raw_delete(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_WRITE);
	size_t i;

	if (c == NULL)
		return;
	/* RAW_DELETE has one key, RAW_BATCH_DELETE one or more. */
	for (i = 1; i < call->argc; i++)
		if (add_key_op(call, c, CMD_OP_DELETE, i) == NULL) {
			drop_cmd(c);
			return;
		}
	submit_write(call, c);
}

static void
cmd_raw_delete_range(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_WRITE);

	if (c == NULL)
		return;
	if (add_range_op(call, c, CMD_OP_DELETE_RANGE, 1) == NULL) {
		drop_cmd(c);
		return;
	}
	submit_write(call, c);
}

/* RAW_CAS ctx key ABSENT|EQ prev PUT value [ttl] | DELETE */
static void
cmd_raw_cas(struct proto_call *call)
{
	struct cmd *c;
	struct cmd_op *op;
	size_t i = 2;
	struct buf q = BUF_INIT;

	if ((c = new_cmd(call, CMD_WRITE)) == NULL)
		return;
	if ((op = add_key_op(call, c, CMD_OP_CAS, 1)) == NULL)
		goto bad;
	if (word_is(call->argv[i], "ABSENT")) {
		op->flags |= CMD_F_EXPECT_ABSENT;
		i++;
	} else if (word_is(call->argv[i], "EQ") && i + 1 < call->argc) {
		set_buf(&op->expect, call->argv[i + 1]);
		i += 2;
	} else if (word_is(call->argv[i], "EQ")) {
		goto usage;
	} else {
		quote_arg(&q, call->argv[i]);
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "argument %zu of '%s' is '%s', expected ABSENT or EQ",
		    i + 1, call->cmd->name, (const char *)q.data);
		goto bad;
	}
	if (i >= call->argc)
		goto usage;
	if (word_is(call->argv[i], "DELETE")) {
		if (i + 1 != call->argc)
			goto usage;
		op->flags |= CMD_F_CAS_DELETE;
	} else if (word_is(call->argv[i], "PUT")) {
		if (i + 2 != call->argc && i + 3 != call->argc)
			goto usage;
		set_buf(&op->value, call->argv[i + 1]);
		if (i + 3 == call->argc && parse_ttl(call, i + 2,
		    &op->ttl) == -1)
			goto bad;
	} else {
		quote_arg(&q, call->argv[i]);
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "argument %zu of '%s' is '%s', expected PUT or DELETE",
		    i + 1, call->cmd->name, (const char *)q.data);
		goto bad;
	}
	submit_write(call, c);
	return;
usage:
	usage_error(call);
bad:
	buf_free(&q);
	drop_cmd(c);
}

/*
 * Transactional commands (service.h).  Timestamps are TSO values, never
 * 0; each write is one txn cmd, evaluated at apply (txncmd.h).
 */

static int
parse_ts(struct proto_call *call, size_t i, uint64_t *ts)
{
	return proto_arg_u64(call, i, 1, UINT64_MAX, ts);
}

/* Ops of type t on the keys of arguments from on. */
static int
add_key_ops(struct proto_call *call, struct cmd *c, int type, size_t from)
{
	size_t i;

	for (i = from; i < call->argc; i++)
		if (add_key_op(call, c, type, i) == NULL)
			return -1;
	return 0;
}

static struct cmd *
new_txn_cmd(struct proto_call *call, int action)
{
	struct cmd *c = new_cmd(call, CMD_TXN);

	if (c != NULL)
		c->txn.action = action;
	return c;
}

/* TXN_GET ctx key start_ts */
static void
cmd_txn_get(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);

	if (c == NULL)
		return;
	if (add_key_op(call, c, CMD_OP_TXN_GET, 1) == NULL ||
	    parse_ts(call, 2, &c->txn.start_ts) == -1) {
		drop_cmd(c);
		return;
	}
	submit_read(call, c);
}

/* TXN_BATCH_GET ctx start_ts key... */
static void
cmd_txn_batch_get(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);
	struct cmd_op *op;
	size_t i;

	if (c == NULL)
		return;
	if (parse_ts(call, 1, &c->txn.start_ts) == -1)
		goto bad;
	op = cmd_add_op(c, CMD_OP_TXN_BATCH_GET);
	for (i = 2; i < call->argc; i++) {
		if (check_key(call, i) == -1)
			goto bad;
		cmd_op_add_key(op, call->argv[i].ptr, call->argv[i].len);
	}
	submit_read(call, c);
	return;
bad:
	drop_cmd(c);
}

/* TXN_SCAN ctx start end limit start_ts [KEY_ONLY] */
static void
cmd_txn_scan(struct proto_call *call)
{
	struct cmd *c = new_cmd(call, CMD_READ);
	struct cmd_op *op;
	uint64_t limit;

	if (c == NULL)
		return;
	if ((op = add_range_op(call, c, CMD_OP_TXN_SCAN, 1)) == NULL ||
	    proto_arg_u64(call, 3, 0, RAW_SCAN_MAX_LIMIT, &limit) == -1 ||
	    parse_ts(call, 4, &c->txn.start_ts) == -1)
		goto bad;
	op->limit = limit;
	if (call->argc == 6) {
		if (!word_is(call->argv[5], "KEY_ONLY")) {
			struct buf q = BUF_INIT;

			quote_arg(&q, call->argv[5]);
			proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
			    "argument 6 of '%s' is '%s', expected KEY_ONLY",
			    call->cmd->name, (const char *)q.data);
			buf_free(&q);
			goto bad;
		}
		op->flags |= CMD_F_KEY_ONLY;
	}
	submit_read(call, c);
	return;
bad:
	drop_cmd(c);
}

/* The word of a prewrite mutation, its op type, and whether a value
 * follows. */
static int
mutation_op(struct bytes w, int *has_value)
{
	static const struct {
		const char *word;
		int type;
		int value;
	} muts[] = {
		{ "PUT", CMD_OP_TXN_PUT, 1 },
		{ "INSERT", CMD_OP_TXN_INSERT, 1 },
		{ "DELETE", CMD_OP_TXN_DELETE, 0 },
		{ "LOCK", CMD_OP_TXN_LOCK, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(muts) / sizeof(muts[0]); i++)
		if (word_is(w, muts[i].word)) {
			*has_value = muts[i].value;
			return muts[i].type;
		}
	return -1;
}

/* TXN_PREWRITE ctx primary start_ts ttl_ms mutation... */
static void
cmd_txn_prewrite(struct proto_call *call)
{
	struct cmd *c = new_txn_cmd(call, CMD_TXN_PREWRITE);
	struct cmd_op *op;
	struct buf q = BUF_INIT;
	size_t i;
	int type, has_value;

	if (c == NULL)
		return;
	if (check_key(call, 1) == -1 ||
	    parse_ts(call, 2, &c->txn.start_ts) == -1 ||
	    proto_arg_u64(call, 3, 0, UINT64_MAX, &c->txn.ttl_ms) == -1)
		goto bad;
	set_buf(&c->txn.primary, call->argv[1]);
	for (i = 4; i < call->argc; i += 1 + 1 + has_value) {
		if ((type = mutation_op(call->argv[i], &has_value)) == -1) {
			quote_arg(&q, call->argv[i]);
			proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
			    "argument %zu of '%s' is '%s', expected PUT, "
			    "INSERT, DELETE or LOCK", i + 1, call->cmd->name,
			    (const char *)q.data);
			goto bad;
		}
		if (i + 1 + has_value >= call->argc) {
			usage_error(call);
			goto bad;
		}
		if ((op = add_key_op(call, c, type, i + 1)) == NULL)
			goto bad;
		if (has_value)
			set_buf(&op->value, call->argv[i + 2]);
	}
	submit_write(call, c);
	buf_free(&q);
	return;
bad:
	buf_free(&q);
	drop_cmd(c);
}

/* TXN_COMMIT ctx start_ts commit_ts key... */
static void
cmd_txn_commit(struct proto_call *call)
{
	struct cmd *c = new_txn_cmd(call, CMD_TXN_COMMIT);

	if (c == NULL)
		return;
	if (parse_ts(call, 1, &c->txn.start_ts) == -1 ||
	    proto_arg_u64(call, 2, c->txn.start_ts + 1, UINT64_MAX,
	    &c->txn.commit_ts) == -1 ||
	    add_key_ops(call, c, CMD_OP_TXN_KEY, 3) == -1) {
		drop_cmd(c);
		return;
	}
	submit_write(call, c);
}

/* TXN_ROLLBACK ctx start_ts key... */
static void
cmd_txn_rollback(struct proto_call *call)
{
	struct cmd *c = new_txn_cmd(call, CMD_TXN_ROLLBACK);

	if (c == NULL)
		return;
	if (parse_ts(call, 1, &c->txn.start_ts) == -1 ||
	    add_key_ops(call, c, CMD_OP_TXN_KEY, 2) == -1) {
		drop_cmd(c);
		return;
	}
	submit_write(call, c);
}

/* TXN_CHECK_STATUS ctx primary lock_ts current_ts [ROLLBACK_IF_MISSING] */
static void
cmd_txn_check_status(struct proto_call *call)
{
	struct cmd *c = new_txn_cmd(call, CMD_TXN_CHECK_STATUS);

	if (c == NULL)
		return;
	if (add_key_op(call, c, CMD_OP_TXN_KEY, 1) == NULL ||
	    parse_ts(call, 2, &c->txn.start_ts) == -1 ||
	    parse_ts(call, 3, &c->txn.commit_ts) == -1)
		goto bad;
	if (call->argc == 5) {
		if (!word_is(call->argv[4], "ROLLBACK_IF_MISSING")) {
			struct buf q = BUF_INIT;

			quote_arg(&q, call->argv[4]);
			proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
			    "argument 5 of '%s' is '%s', expected "
			    "ROLLBACK_IF_MISSING", call->cmd->name,
			    (const char *)q.data);
			buf_free(&q);
			goto bad;
		}
		c->txn.flags |= CMD_TXN_F_ROLLBACK_IF_MISSING;
	}
	submit_write(call, c);
	return;
bad:
	drop_cmd(c);
}

/* TXN_RESOLVE_LOCK ctx start_ts commit_ts: the whole region, so its
 * context must name it. */
static void
cmd_txn_resolve_lock(struct proto_call *call)
{
	struct cmd *c = new_txn_cmd(call, CMD_TXN_RESOLVE_LOCK);

	if (c == NULL)
		return;
	if (c->region_id == 0) {
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "'%s' needs a region context, not -", call->cmd->name);
		goto bad;
	}
	if (parse_ts(call, 1, &c->txn.start_ts) == -1 ||
	    proto_arg_u64(call, 2, 0, UINT64_MAX, &c->txn.commit_ts) == -1)
		goto bad;
	if (c->txn.commit_ts != 0 && c->txn.commit_ts <= c->txn.start_ts) {
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "commit_ts %llu is not after start_ts %llu",
		    (unsigned long long)c->txn.commit_ts,
		    (unsigned long long)c->txn.start_ts);
		goto bad;
	}
	submit_write(call, c);
	return;
bad:
	drop_cmd(c);
}

/* TXN_HEARTBEAT ctx primary start_ts ttl_ms */
static void
cmd_txn_heartbeat(struct proto_call *call)
{
	struct cmd *c = new_txn_cmd(call, CMD_TXN_HEARTBEAT);

	if (c == NULL)
		return;
	if (add_key_op(call, c, CMD_OP_TXN_KEY, 1) == NULL ||
	    parse_ts(call, 2, &c->txn.start_ts) == -1 ||
	    proto_arg_u64(call, 3, 0, UINT64_MAX, &c->txn.ttl_ms) == -1) {
		drop_cmd(c);
		return;
	}
	submit_write(call, c);
}

/* Store commands. */

static void
cmd_ping(struct proto_call *call)
{
	proto_reply_ok(call->reply);
}

static void
cmd_version(struct proto_call *call)
{
	buf_addstr(call->reply, proto_word_name(PROTO_OK));
	proto_add_str(call->reply, "tikvd");
	proto_add_str(call->reply, TIKV_VERSION);
	proto_end_line(call->reply);
}

static void
cmd_status(struct proto_call *call)
{
	struct store *st = store();
	struct region_info *ri = NULL;
	size_t n = 0, i, leaders = 0;

	if (raftstore_regions(st->rs, &ri, &n) == -1) {
		proto_reply_error(call->reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
		return;
	}
	for (i = 0; i < n; i++)
		leaders += ri[i].role == RAFT_LEADER;
	buf_addstr(call->reply, proto_word_name(PROTO_OK));
	proto_add_u64(call->reply, st->store_id);
	proto_add_str(call->reply, st->addr ? st->addr : "");
	proto_add_u64(call->reply, n);
	proto_add_u64(call->reply, leaders);
	proto_end_line(call->reply);
	raftstore_info_free(ri, n);
	free(ri);
}

static void
region_line(struct buf *b, const struct region_info *ri)
{
	buf_addstr(b, proto_word_name(PROTO_VALUE));
	region_format(&ri->region, b);
	proto_add_u64(b, ri->leader_peer_id);
	proto_add_str(b, raft_role_name(ri->role));
	proto_add_u64(b, ri->term);
	proto_add_u64(b, ri->commit);
	proto_add_u64(b, ri->applied);
	proto_end_line(b);
}

static int
by_id(const void *a, const void *b)
{
	const struct region_info *x = a, *y = b;

	return x->region.id < y->region.id ? -1 : x->region.id > y->region.id;
}

static void
cmd_regions(struct proto_call *call)
{
	struct region_info *ri = NULL;
	size_t n = 0, i;

	if (raftstore_regions(store()->rs, &ri, &n) == -1) {
		proto_reply_error(call->reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
		return;
	}
	if (n > 1)
		qsort(ri, n, sizeof(*ri), by_id);
	for (i = 0; i < n; i++)
		region_line(call->reply, &ri[i]);
	proto_reply_word(call->reply, PROTO_END);
	raftstore_info_free(ri, n);
	free(ri);
}

static void
cmd_region(struct proto_call *call)
{
	struct region_info ri;
	uint64_t id;

	if (proto_arg_u64(call, 0, 1, UINT64_MAX, &id) == -1)
		return;
	memset(&ri, 0, sizeof(ri));
	region_init(&ri.region);
	if (raftstore_region_by_id(store()->rs, id, &ri) == -1) {
		proto_reply_error(call->reply, PROTO_REGION_NOT_FOUND, "%llu",
		    (unsigned long long)id);
		return;
	}
	region_line(call->reply, &ri);
	raftstore_info_free(&ri, 1);
}

static void
cmd_split_region(struct proto_call *call)
{
	struct store *st = store();
	struct region_epoch epoch;
	uint64_t region_id;

	if (parse_ctx(call, 0, &region_id, &epoch) == -1 ||
	    check_key(call, 1) == -1)
		return;
	if (call->argv[1].len == 0) {
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "cannot split at the empty key");
		return;
	}
	pdworker_split(st->pw, region_id, region_id ? &epoch : NULL,
	    call->argv[1].ptr, call->argv[1].len, request_defer(call->ctx));
}

static void
cmd_transfer_leader(struct proto_call *call)
{
	uint64_t region_id, peer_id;

	if (proto_arg_u64(call, 0, 1, UINT64_MAX, &region_id) == -1 ||
	    proto_arg_u64(call, 1, 1, UINT64_MAX, &peer_id) == -1)
		return;
	raftstore_transfer_leader(store()->rs, region_id, peer_id,
	    request_defer(call->ctx));
}

static void
cmd_raft(struct proto_call *call)
{
	if (transport_receive(store()->tr, call->argv[0].ptr,
	    call->argv[0].len) == -1) {
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "bad raft payload: %s", log_reason());
		return;
	}
	proto_reply_ok(call->reply);
}

static void
cmd_raft_chunk(struct proto_call *call)
{
	uint64_t id, seq, total;

	if (proto_arg_u64(call, 0, 0, UINT64_MAX, &id) == -1 ||
	    proto_arg_u64(call, 2, 1, UINT64_MAX, &total) == -1 ||
	    proto_arg_u64(call, 1, 0, total - 1, &seq) == -1)
		return;
	if (transport_receive_chunk(store()->tr, id, seq, total,
	    call->argv[3].ptr, call->argv[3].len) == -1) {
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "bad raft chunk: %s", log_reason());
		return;
	}
	proto_reply_ok(call->reply);
}

#define CTX	"ctx"

static const struct proto_cmd tikvd_commands[] = {
	{ "HELP", 0, 1, "HELP [command]",
	    "list the commands, or describe one", proto_cmd_help },
	{ "PING", 0, 0, "PING", "check that the server answers", cmd_ping },
	{ "RAFT", 1, 1, "RAFT payload",
	    "raft messages from a peer store; reply OK", cmd_raft },
	{ "RAFT_CHUNK", 4, 4, "RAFT_CHUNK id seq total payload",
	    "part seq (from 0) of a large raft message; reply OK",
	    cmd_raft_chunk },
	{ "RAW_BATCH_DELETE", 2, -1, "RAW_BATCH_DELETE " CTX " key...",
	    "delete keys; reply OK", cmd_raw_delete },
	{ "RAW_BATCH_GET", 2, -1, "RAW_BATCH_GET " CTX " key...",
	    "VALUE key value for each key found, then END",
	    cmd_raw_batch_get },
	{ "RAW_BATCH_PUT", 4, -1,
	    "RAW_BATCH_PUT " CTX " ttl key value [key value]...",
	    "write pairs with one ttl (seconds, 0 none); reply OK",
	    cmd_raw_batch_put },
	{ "RAW_CAS", 4, 7,
	    "RAW_CAS " CTX " key ABSENT|EQ prev PUT value [ttl] | DELETE",
	    "compare and swap; reply OK SWAPPED|FAILED ABSENT|VALUE prev",
	    cmd_raw_cas },
	{ "RAW_CHECKSUM", 3, 3, "RAW_CHECKSUM " CTX " start end",
	    "reply OK count bytes checksum over [start, end)",
	    cmd_raw_checksum },
	{ "RAW_DELETE", 2, 2, "RAW_DELETE " CTX " key",
	    "delete a key; reply OK", cmd_raw_delete },
	{ "RAW_DELETE_RANGE", 3, 3, "RAW_DELETE_RANGE " CTX " start end",
	    "delete [start, end) within the region; reply OK",
	    cmd_raw_delete_range },
	{ "RAW_GET", 2, 2, "RAW_GET " CTX " key",
	    "reply VALUE value or NOT_FOUND", cmd_raw_get },
	{ "RAW_GET_TTL", 2, 2, "RAW_GET_TTL " CTX " key",
	    "reply VALUE seconds_left (0 none) or NOT_FOUND",
	    cmd_raw_get_ttl },
	{ "RAW_PUT", 3, 4, "RAW_PUT " CTX " key value [ttl]",
	    "write a pair, ttl in seconds (0 none); reply OK", cmd_raw_put },
	{ "RAW_SCAN", 4, 6,
	    "RAW_SCAN " CTX " start end limit [KEY_ONLY] [REVERSE]",
	    "VALUE key [value] per pair of [start, end) in the region, then "
	    "END", cmd_raw_scan },
	{ "REGION", 1, 1, "REGION id",
	    "reply VALUE region leader_peer role term commit applied",
	    cmd_region },
	{ "REGIONS", 0, 0, "REGIONS",
	    "every region of this store as in REGION, then END",
	    cmd_regions },
	{ "SPLIT_REGION", 2, 2, "SPLIT_REGION " CTX " key",
	    "split a region at key; reply OK left_region right_region",
	    cmd_split_region },
	{ "STATUS", 0, 0, "STATUS",
	    "reply OK store_id addr regions leaders", cmd_status },
	{ "TXN_BATCH_GET", 3, -1, "TXN_BATCH_GET " CTX " start_ts key...",
	    "VALUE key value for each key visible at start_ts, then END",
	    cmd_txn_batch_get },
	{ "TXN_CHECK_STATUS", 4, 5,
	    "TXN_CHECK_STATUS " CTX " primary lock_ts current_ts "
	    "[ROLLBACK_IF_MISSING]",
	    "reply OK LOCKED ttl_ms | OK COMMITTED commit_ts | OK ROLLED_BACK",
	    cmd_txn_check_status },
	{ "TXN_COMMIT", 4, -1, "TXN_COMMIT " CTX " start_ts commit_ts key...",
	    "commit the keys of transaction start_ts; reply OK",
	    cmd_txn_commit },
	{ "TXN_GET", 3, 3, "TXN_GET " CTX " key start_ts",
	    "reply VALUE value or NOT_FOUND as of start_ts", cmd_txn_get },
	{ "TXN_HEARTBEAT", 4, 4, "TXN_HEARTBEAT " CTX " primary start_ts ttl_ms",
	    "raise the TTL of a transaction's primary lock; reply OK ttl_ms",
	    cmd_txn_heartbeat },
	{ "TXN_PREWRITE", 6, -1,
	    "TXN_PREWRITE " CTX " primary start_ts ttl_ms "
	    "PUT|INSERT key value | DELETE|LOCK key ...",
	    "lock the keys for transaction start_ts; reply OK",
	    cmd_txn_prewrite },
	{ "TXN_RESOLVE_LOCK", 3, 3,
	    "TXN_RESOLVE_LOCK " CTX " start_ts commit_ts",
	    "commit (or, commit_ts 0, roll back) the region's locks of a "
	    "transaction; reply OK count", cmd_txn_resolve_lock },
	{ "TXN_ROLLBACK", 3, -1, "TXN_ROLLBACK " CTX " start_ts key...",
	    "roll back the keys of transaction start_ts; reply OK",
	    cmd_txn_rollback },
	{ "TXN_SCAN", 5, 6,
	    "TXN_SCAN " CTX " start end limit start_ts [KEY_ONLY]",
	    "VALUE key [value] per pair visible at start_ts in [start, end) "
	    "in the region, then END", cmd_txn_scan },
	{ "TRANSFER_LEADER", 2, 2, "TRANSFER_LEADER region_id peer_id",
	    "move a region's leadership to a peer; reply OK",
	    cmd_transfer_leader },
	{ "VERSION", 0, 0, "VERSION", "reply OK tikvd version", cmd_version },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

void
service_handle(struct net_req *nreq, void *arg)
{
	struct request *req;
	const void *msg;
	size_t len;

	if (service_store == NULL)
		service_store = arg;
	msg = net_req_data(nreq, &len);
	req = request_new(nreq);
	proto_dispatch(tikvd_commands, req, msg, len, &req->reply);
	request_dispatched(req);
}
