/*
 * What a Raft log entry of a region carries: a struct cmd.
 *
 * A write cmd is a list of raw operations decided by the leader (blind
 * writes, except a CAS, whose condition every replica evaluates at apply
 * against the same state, so they all agree).  It carries the region
 * epoch it was checked against (apply refuses it with EPOCH_NOT_MATCH if
 * the region split meanwhile) and the leader's clock at proposal time,
 * which apply uses for TTLs so every replica computes the same expiry.
 *
 * Read cmds never enter the log: service builds them with the same struct
 * and raftstore hands them to the apply thread at their read index.
 *
 * A txn cmd is one Percolator action (libcommon/mvcc.h) over its ops'
 * keys: every replica evaluates it at apply against the same state, as a
 * CAS.  Txn reads are read cmds whose ops are TXN_GET, TXN_BATCH_GET or
 * TXN_SCAN, at txn.start_ts.
 *
 * Admin cmds change the region itself: SPLIT.  (Membership changes are
 * Raft conf change entries; their context is encoded by cmd_encode_cc_ctx.)
 *
 * The encoding starts with a version byte; cmd_decode rejects anything
 * malformed with -1 and log_setreason(), never reading out of bounds.
 */
#ifndef CMDFMT_H
#define CMDFMT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "region.h"

enum cmd_kind {
	CMD_WRITE = 1,		/* ops: PUT, DELETE, DELETE_RANGE, CAS */
	CMD_READ = 2,		/* one op: GET .. CHECKSUM; never encoded */
	CMD_SPLIT = 3,		/* admin: split at split_key */
	CMD_NOOP = 4,		/* admin: nothing (a leader's barrier) */
	CMD_TXN = 5		/* a txn action, txn.action, over ops */
};

enum cmd_op_type {
	CMD_OP_PUT = 1,		/* key value [ttl] */
	CMD_OP_DELETE,		/* key */
	CMD_OP_DELETE_RANGE,	/* [key, end) */
	CMD_OP_CAS,		/* key, expect unless EXPECT_ABSENT, value
				 * unless CAS_DELETE, ttl */
	CMD_OP_GET,		/* key */
	CMD_OP_BATCH_GET,	/* keys[] */
	CMD_OP_SCAN,		/* [key, end), limit, KEY_ONLY, REVERSE */
	CMD_OP_GET_TTL,		/* key */
	CMD_OP_CHECKSUM,	/* [key, end) */
	/* Prewrite mutations. */
	CMD_OP_TXN_PUT = 10,	/* key value */
	CMD_OP_TXN_INSERT,	/* key value: the key must not exist */
	CMD_OP_TXN_DELETE,	/* key */
	CMD_OP_TXN_LOCK,	/* key: locked, not written */
	CMD_OP_TXN_KEY,		/* key: of a commit, rollback, status check
				 * (the primary) or heartbeat (the primary) */
	CMD_OP_TXN_GET,		/* key */
	CMD_OP_TXN_BATCH_GET,	/* keys[] */
	CMD_OP_TXN_SCAN		/* [key, end), limit, KEY_ONLY */
};

enum cmd_txn_action {
	CMD_TXN_PREWRITE = 1,
	CMD_TXN_COMMIT,
	CMD_TXN_ROLLBACK,
	CMD_TXN_CHECK_STATUS,
	CMD_TXN_RESOLVE_LOCK,
	CMD_TXN_HEARTBEAT
};

/* txn.flags */
#define CMD_TXN_F_ROLLBACK_IF_MISSING	0x01	/* CHECK_STATUS */

struct cmd_txn {
	int action;			/* enum cmd_txn_action */
	int flags;
	/* The transaction; CHECK_STATUS: the lock's ts; reads: read at. */
	uint64_t start_ts;
	/* COMMIT, RESOLVE_LOCK (0: roll back); CHECK_STATUS: current_ts */
	uint64_t commit_ts;
	uint64_t ttl_ms;		/* PREWRITE, HEARTBEAT */
	struct buf primary;		/* PREWRITE */
};

/* flags */
#define CMD_F_EXPECT_ABSENT	0x01	/* CAS: succeed if the key is absent */
#define CMD_F_CAS_DELETE	0x02	/* CAS: delete instead of put */
#define CMD_F_KEY_ONLY		0x04	/* SCAN */
#define CMD_F_REVERSE		0x08	/* SCAN: from end down to key */
/* DELETE: only if the stored value's TTL expired by the cmd's now_ms (the
 * background sweep: a blind delete could erase a newer put). */
#define CMD_F_IF_EXPIRED	0x10

struct cmd_op {
	int type;			/* enum cmd_op_type */
	int flags;
	struct buf key;			/* or a range's start */
	struct buf end;			/* a range's end; empty = unbounded */
	struct buf value;		/* PUT; CAS new value */
	struct buf expect;		/* CAS expected value */
	uint64_t ttl;			/* seconds; 0 = never expires */
	uint64_t limit;			/* SCAN */
	struct buf *keys;		/* BATCH_GET */
	size_t nkeys;
};

struct cmd {
	int kind;			/* enum cmd_kind */
	uint64_t region_id;
	struct region_epoch epoch;
	uint64_t now_ms;		/* leader's wall clock at proposal */
	struct cmd_op *ops;
	size_t nops;
	size_t capops;
	/* CMD_TXN, and txn reads (start_ts) */
	struct cmd_txn txn;
	/* CMD_SPLIT */
	struct buf split_key;
	uint64_t new_region_id;
	/* One per peer of the region, in the region's peer order. */
	uint64_t new_peer_ids[REGION_MAX_PEERS];
	size_t n_new_peers;
};

void cmd_init(struct cmd *);
void cmd_free(struct cmd *);
/* Empties the cmd for reuse (keeps allocations). */
void cmd_reset(struct cmd *);
/* Appends a zeroed op of type t and returns it. */
struct cmd_op *cmd_add_op(struct cmd *, int t);
/* Adds a key to a BATCH_GET op. */
void cmd_op_add_key(struct cmd_op *, const void *, size_t);

/* The first point key of c (not a range) outside region r, or NULL. */
const struct buf *cmd_key_outside(const struct region *r,
    const struct cmd *c);
/* KEY_NOT_IN_REGION key region_id start end, a whole reply line. */
void cmd_reply_key_not_in_region(struct buf *reply, const struct region *r,
    const struct buf *key);

/* Write and admin cmds only. */
void cmd_encode(const struct cmd *, struct buf *);
/* Decodes exactly len bytes into c (reset first). */
int cmd_decode(const uint8_t *, size_t, struct cmd *c);

/* Bytes a write cmd will take in the log (for RAFT_ENTRY_TOO_LARGE). */
size_t cmd_encoded_size(const struct cmd *);

/*
 * The context of a Raft conf change entry: for each change, the store of
 * the peer it adds (ids in the change are peer ids).
 */
void cmd_encode_cc_ctx(struct buf *, const uint64_t *store_ids, size_t n);
int cmd_decode_cc_ctx(const uint8_t *, size_t, uint64_t *store_ids,
    size_t max, size_t *n);

#endif
